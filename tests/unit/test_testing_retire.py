"""
Tests for L{MemoryNetwork.retire<poetry.testing.MemoryNetwork.retire>}: a
network whose test has ended refuses new work with L{NetworkRetired}, so that
an object that outlives its test (a module-level cache) fails the test that
uses it, naming both tests, instead of making it hang.
"""

from __future__ import annotations

from twisted.internet.protocol import ClientFactory
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import (
    HarnessError,
    MemoryNetwork,
    MemoryNetworkTestCase,
    NetworkRetired,
)
from poetry.testing._seed import running_test
from tests.unit.test_testing_support import connect_pair


class RetireTests(SynchronousTestCase):
    """
    L{MemoryNetwork.retire} on a network of its own.
    """

    def setUp(self) -> None:
        self.net = MemoryNetwork(seed=7)
        self.net.test_id = "tests.example.ExampleTests.test_first"
        self.pair = connect_pair(self.net)

    def test_writeRaises(self) -> None:
        """
        A write on a connection of a retired network raises L{NetworkRetired}
        (a L{HarnessError}) naming the transport and the test that ended, and
        the network's seed; nothing is sent.
        """
        self.net.retire()
        transport = self.pair.client.transport
        assert transport is not None
        # (Under any runner: the ended test is the one declared running.)
        with running_test(None, "tests.example.ExampleTests.test_first"):
            error = self.assertRaises(NetworkRetired, transport.write, b"late")
        self.assertIsInstance(error, HarnessError)
        text = str(error)
        self.assertIn("I/O on <MemoryNetwork client #1 to", text)
        self.assertIn(
            "was scheduled on the MemoryNetwork of "
            "'tests.example.ExampleTests.test_first', which has ended",
            text,
        )
        self.assertEqual(error.retired_by, "tests.example.ExampleTests.test_first")
        self.assertEqual(error.seed, 7)
        self.assertIn("POETRY_TEST_SEED=7", text)
        self.assertEqual(self.pair.server.received, b"")

    def test_timerRaises(self) -> None:
        """
        C{callLater} on a retired network raises L{NetworkRetired} naming the
        callable; no timer is added.
        """
        self.net.retire()

        def tick() -> None:
            """
            Never called.
            """

        error = self.assertRaises(NetworkRetired, self.net.callLater, 1, tick)
        self.assertIn(
            "a timer (RetireTests.test_timerRaises.<locals>.tick)", str(error)
        )
        self.assertEqual(self.net.getDelayedCalls(), [])

    def test_connectRaises(self) -> None:
        """
        A connection attempt on a retired network raises L{NetworkRetired}.
        """
        self.net.retire()
        self.assertRaises(
            NetworkRetired,
            self.net.connectTCP,
            "127.0.0.1",
            self.pair.port.getHost().port,  # type: ignore[attr-defined]
            ClientFactory(),
        )

    def test_nameResolutionRaises(self) -> None:
        """
        A host name resolution on a retired network's C{nameResolver} raises
        L{NetworkRetired} naming the step.
        """
        self.net.retire()
        receiver = _Receiver()
        error = self.assertRaises(
            NetworkRetired,
            self.net.nameResolver.resolveHostName,
            receiver,
            "localhost",
        )
        self.assertIn("a step (", str(error))

    def test_stateStillReadable(self) -> None:
        """
        What a retired network holds can still be read: its clock, its open
        connections and its trace.
        """
        self.net.retire()
        self.assertEqual(self.net.seconds(), 0.0)
        self.assertEqual(len(self.net.open_connections()), 1)
        self.assertTrue(self.net.trace)

    def test_duringAnotherTest(self) -> None:
        """
        Used while another test runs, the error names both tests, says it
        fails only when the first runs first, and reproduces with the
        running test's seed.
        """
        self.net.retire()
        transport = self.pair.client.transport
        assert transport is not None
        with running_test(99, "tests.example.ExampleTests.test_second"):
            error = self.assertRaises(NetworkRetired, transport.write, b"late")
        text = str(error)
        self.assertIn(
            ", during 'tests.example.ExampleTests.test_second'; it fails only "
            "when 'tests.example.ExampleTests.test_first' runs first",
            text,
        )
        self.assertEqual(error.seed, 99)
        self.assertEqual(error.test_id, "tests.example.ExampleTests.test_second")

    def test_liveNetworkUnaffected(self) -> None:
        """
        Before it is retired, a network is not: C{retired_by} is L{None} and
        writes are delivered.
        """
        self.assertIsNone(self.net.retired_by)
        transport = self.pair.client.transport
        assert transport is not None
        transport.write(b"in time")
        self.net.advance(0)
        self.assertEqual(self.pair.server.received, b"in time")


class _Receiver:
    """
    A resolution receiver that records nothing (the resolution is refused).
    """

    def resolutionBegan(self, resolution: object) -> None:
        """
        Called at once, before the step is refused.
        """

    def addressResolved(self, address: object) -> None:
        """
        Never called.
        """

    def resolutionComplete(self) -> None:
        """
        Never called.
        """


class _Pool:
    """
    A connection pool as a module-level cache keeps one: built with the
    network of the test that first needed it as its clock, it schedules the
    expiry of each connection it is given back on that network.
    """

    def __init__(self, clock: MemoryNetwork) -> None:
        self.clock = clock

    def release(self) -> None:
        self.clock.callLater(240, self.expire)

    def expire(self) -> None:
        """
        Would close an idle connection.
        """


#: The module-level cache.
_kept: dict[str, _Pool] = {}


def cache_users() -> type[MemoryNetworkTestCase]:
    """
    A test case of two tests sharing the cache: the first builds the pool on
    its network; the second gives a connection back to it.  (Made on demand,
    so that the runner does not collect it.)
    """

    class CacheUser(MemoryNetworkTestCase):
        def test_first(self) -> None:
            _kept.setdefault("pool", _Pool(self.net))

        def test_second(self) -> None:
            _kept.setdefault("pool", _Pool(self.net)).release()

    return CacheUser


class TestCaseRetiresTests(SynchronousTestCase):
    """
    L{MemoryNetworkTestCase} retires each test's network at the very end of
    its teardown.
    """

    def tearDown(self) -> None:
        _kept.clear()

    def test_networkRetiredAfterTheTest(self) -> None:
        """
        After a test ran, its network's C{retired_by} is the test's id.
        """
        case = cache_users()("test_first")
        result = TestResult()
        case.run(result)
        self.assertTrue(result.wasSuccessful(), result.errors + result.failures)
        self.assertEqual(case.net.retired_by, case.id())

    def test_laterTestFailsNamingBoth(self) -> None:
        """
        A test that uses what an earlier test's network made fails with
        L{NetworkRetired} naming both tests -- where, without retirement, the
        expiry would be scheduled on a world nobody runs, silently.
        """
        users = cache_users()
        first, second = users("test_first"), users("test_second")
        result = TestResult()
        first.run(result)
        second.run(result)
        [(test, failure)] = result.errors
        self.assertIs(test, second)
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(NetworkRetired))
        text = failure.getErrorMessage()
        self.assertIn(f"the MemoryNetwork of {first.id()!r}", text)
        self.assertIn(f"during {second.id()!r}", text)
