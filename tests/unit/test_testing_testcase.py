"""
Tests for L{poetry.testing.MemoryNetworkTestCase}: a fresh network per test,
the seed in every failure, and the cleanliness check at teardown.
"""

from __future__ import annotations

import os
import unittest
from typing import ClassVar, cast

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import (
    ONE_BYTE,
    SEED_ENVIRONMENT_VARIABLE,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    NetworkOptions,
)
from poetry.testing._seed import current_test
from poetry.testing._testcase import add_note, mentions_seed, teardown_failure
from tests.unit.test_testing_guard import global_reactor, stand_in_global_reactor
from tests.unit.test_testing_support import connect_pair


def run_test(case: SynchronousTestCase) -> TestResult:
    """
    Run one test case into a fresh L{TestResult}.
    """
    result = TestResult()
    case.run(result)
    return result


def failures(result: TestResult) -> list[Failure]:
    """
    The reported failures and errors, as L{Failure}s.
    """
    found = [failure for _, failure in result.failures + result.errors]
    for failure in found:
        assert isinstance(failure, Failure), failure
    return cast(list[Failure], found)


def texts(result: TestResult) -> list[str]:
    """
    The reported text of each failure and error.
    """
    return [failure.getTraceback() for failure in failures(result)]


class MemoryNetworkTestCaseTests(SynchronousTestCase):
    """
    Inner test cases run into a L{TestResult}, and what it reports.
    """

    def setUp(self) -> None:
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "2718"})

    def test_freshNetworkTaggedWithTheTest(self) -> None:
        """
        Each test gets its own network, seeded from C{POETRY_TEST_SEED},
        whose C{test_id} is the test's id.
        """
        seen = []

        class Inner(MemoryNetworkTestCase):
            def test_one(self) -> None:
                seen.append(self.net)

            def test_two(self) -> None:
                seen.append(self.net)

        first, second = Inner("test_one"), Inner("test_two")
        self.assertTrue(run_test(first).wasSuccessful())
        self.assertTrue(run_test(second).wasSuccessful())
        self.assertIsNot(seen[0], seen[1])
        self.assertEqual([net.seed for net in seen], [2718, 2718])
        self.assertEqual(seen[0].test_id, first.id())

    def test_seedInFailureOutput(self) -> None:
        """
        A failing test's reported text ends with the seed and the command
        that reruns it; the failure keeps its type.
        """

        class Inner(MemoryNetworkTestCase):
            def test_fails(self) -> None:
                self.assertEqual(1, 2)

        case = Inner("test_fails")
        result = run_test(case)
        self.assertEqual((len(result.failures), len(result.errors)), (1, 0))
        failure = failures(result)[0]
        self.assertTrue(failure.check(AssertionError))
        self.assertIn("1 != 2", failure.getTraceback())
        self.assertTrue(
            failure.getTraceback()
            .rstrip()
            .endswith(
                f"seed=2718 \N{EM DASH} reproduce with: POETRY_TEST_SEED=2718 "
                f"python -m twisted.trial {case.id()}"
            )
        )
        self.assertIn("POETRY_TEST_SEED=2718", failure.getErrorMessage())
        self.assertIn("POETRY_TEST_SEED=2718", str(failure))

    def test_seedInErrorOutput(self) -> None:
        """
        An erroring test (including one that logged an error) names the seed
        too.
        """

        class Inner(MemoryNetworkTestCase):
            def test_raises(self) -> None:
                raise RuntimeError("broken")

            def test_logs(self) -> None:
                pair = connect_pair(self.net)

                def explode(*args: object) -> None:
                    raise ZeroDivisionError("in dataReceived")

                pair.server.on_data = explode
                pair.client.tcp.write(b"x")
                self.net.run()
                pair.port.stopListening()

        for name in ("test_raises", "test_logs"):
            result = run_test(Inner(name))
            self.assertEqual(len(result.errors), 1, name)
            self.assertIn("POETRY_TEST_SEED=2718", texts(result)[0])

    def test_harnessErrorsNotRepeated(self) -> None:
        """
        A harness error, which already ends with the reproduction line, is
        reported as it is.
        """

        class Inner(MemoryNetworkTestCase):
            def test_deadlock(self) -> None:
                self.net.run_until(Deferred())

        result = run_test(Inner("test_deadlock"))
        self.assertEqual(texts(result)[0].count("POETRY_TEST_SEED=2718"), 1)

    def test_uncleanTeardownFails(self) -> None:
        """
        A test that leaves a listening port, a connection or a timer fails,
        listing them.
        """

        class Inner(MemoryNetworkTestCase):
            def test_port(self) -> None:
                self.net.listenTCP(0, Factory.forProtocol(Protocol))

            def test_timer(self) -> None:
                self.net.callLater(10, lambda: None)

            def test_connection(self) -> None:
                pair = connect_pair(self.net)
                pair.port.stopListening()

        for name, expected in (
            ("test_port", "Listening ports (1):"),
            ("test_timer", "Pending timers (1):"),
            ("test_connection", "Open connections (1):"),
        ):
            result = run_test(Inner(name))
            self.assertEqual((len(result.failures), len(result.errors)), (1, 0), name)
            self.assertIn(expected, texts(result)[0])
            self.assertIn("POETRY_TEST_SEED=2718", texts(result)[0])
            self.assertEqual(result.successes, 0)

    def test_teardownFinishesPendingCloses(self) -> None:
        """
        A connection closed at the end of the test (its close still a step
        away) counts as closed: teardown lets what needs no time happen.
        """

        class Inner(MemoryNetworkTestCase):
            def test_closes(self) -> None:
                pair = connect_pair(self.net)
                pair.client.tcp.loseConnection()
                pair.port.stopListening()

        result = run_test(Inner("test_closes"))
        self.assertTrue(result.wasSuccessful(), texts(result))

    def test_noCleanlinessNoiseAfterAFailure(self) -> None:
        """
        A test that already failed is not also reported as unclean.
        """

        class Inner(MemoryNetworkTestCase):
            def test_failsUnclean(self) -> None:
                self.net.listenTCP(0, Factory.forProtocol(Protocol))
                self.fail("the real problem")

        result = run_test(Inner("test_failsUnclean"))
        self.assertEqual((len(result.failures), len(result.errors)), (1, 0))
        self.assertIn("the real problem", texts(result)[0])
        self.assertNotIn("not clean", texts(result)[0])

    def test_noCleanlinessNoiseAfterALoggedError(self) -> None:
        """
        A test that logged an error (which trial fails it for after the
        teardown) is not also reported as unclean.
        """

        class Inner(MemoryNetworkTestCase):
            def test_logsAndLeaves(self) -> None:
                self.net.listenTCP(0, Factory.forProtocol(Protocol))
                Logger().failure("the real problem", Failure(ValueError("logged")))

        result = run_test(Inner("test_logsAndLeaves"))
        self.assertEqual((len(result.failures), len(result.errors)), (0, 1))
        [text] = texts(result)
        self.assertIn("logged", text)
        self.assertNotIn("not clean", text)

    def test_passingTestPasses(self) -> None:
        """
        A clean, passing test is a success with nothing reported.
        """

        class Inner(MemoryNetworkTestCase):
            def test_ok(self) -> None:
                port = self.net.listenTCP(0, Factory.forProtocol(Protocol))
                self.addCleanup(port.stopListening)

        result = run_test(Inner("test_ok"))
        self.assertTrue(result.wasSuccessful())
        self.assertEqual(result.successes, 1)


class NetworkOptionsTests(SynchronousTestCase):
    """
    L{MemoryNetworkTestCase.network_options} and
    L{MemoryNetworkTestCase.make_network} configure the test's network.
    """

    def setUp(self) -> None:
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "2718"})

    def test_classAttribute(self) -> None:
        """
        The options of the class attribute are passed to L{MemoryNetwork}:
        here a seed (winning over C{POETRY_TEST_SEED}), a host map, a step
        budget and link conditions.
        """
        seen = []

        class Inner(MemoryNetworkTestCase):
            network_options: ClassVar[NetworkOptions] = {
                "seed": 5,
                "hosts": {"poems.example": "10.0.0.2"},
                "step_budget": 10,
                "link": LinkConditions(latency=0.5),
            }

            def test_one(self) -> None:
                net = self.net
                seen.append(net)
                made: list[float] = []

                class Client(Protocol):
                    def connectionMade(self) -> None:
                        made.append(net.seconds())
                        assert self.transport is not None
                        self.transport.loseConnection()

                port = net.listenTCP(0, Factory.forProtocol(Protocol))
                address = port.getHost()
                assert isinstance(address, IPv4Address)
                client = cast(
                    "ClientFactory[Client]", ClientFactory.forProtocol(Client)
                )
                net.connectTCP("127.0.0.1", address.port, client)
                net.run()
                port.stopListening()
                self.assertEqual(made, [0.5])

        result = run_test(Inner("test_one"))
        self.assertTrue(result.wasSuccessful(), texts(result))
        (net,) = seen
        self.assertEqual(
            (net.seed, net.resolve_name("poems.example"), net.step_budget),
            (5, "10.0.0.2", 10),
        )

    def test_factoryMethod(self) -> None:
        """
        An overridden C{make_network} builds the network; the test case
        tags it with the test's id, and its seed is the test's.
        """
        seen = []

        class Inner(MemoryNetworkTestCase):
            def make_network(self) -> MemoryNetwork:
                net = MemoryNetwork(77)
                net.set_default_link(LinkConditions(chunking=ONE_BYTE))
                return net

            def test_one(self) -> None:
                seen.append((self.net, MemoryNetwork().seed))
                self.fail("boom")

        case = Inner("test_one")
        result = run_test(case)
        ((net, inner_seed),) = seen
        self.assertEqual((net.seed, inner_seed, net.test_id), (77, 77, case.id()))
        self.assertIn("POETRY_TEST_SEED=77", texts(result)[0])

    def test_unseededNetworksShareTheSeed(self) -> None:
        """
        Without C{POETRY_TEST_SEED}, every network a test makes without a
        seed gets the test's (random) seed -- the one its failure prints --
        so that rerunning with it reproduces them all.
        """
        self.patch(os, "environ", {})
        seen = []

        class Inner(MemoryNetworkTestCase):
            def test_one(self) -> None:
                seen.append((self.net.seed, MemoryNetwork().seed))
                self.fail("boom")

        runner = current_test()
        result = run_test(Inner("test_one"))
        ((seed, inner),) = seen
        self.assertEqual(inner, seed)
        self.assertIn(f"POETRY_TEST_SEED={seed} ", texts(result)[0])
        self.assertIs(current_test(), runner)


class PyUnitRunnerTests(SynchronousTestCase):
    """
    Under a pyunit runner (C{unittest}, pytest), whose display shows the
    exception itself, the reproduction line is a note on the exception.
    """

    def setUp(self) -> None:
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "2718"})

    def test_plainAssertNote(self) -> None:
        """
        A plain C{assert} failing under C{unittest} shows the seed and the
        reproduction line in the traceback text, as the exception's note.
        """

        class Inner(MemoryNetworkTestCase):
            def test_fails(self) -> None:
                assert self.net.seed == 1

        case = Inner("test_fails")
        result = unittest.TestResult()
        case.run(result)
        problems = result.failures + result.errors
        self.assertEqual(len(problems), 1)
        self.assertTrue(
            problems[0][1]
            .rstrip()
            .endswith(
                f"seed=2718 \N{EM DASH} reproduce with: POETRY_TEST_SEED=2718 "
                f"python -m twisted.trial {case.id()}"
            )
        )

    def test_noteAddedOnce(self) -> None:
        """
        L{add_note} adds a note once; L{mentions_seed} sees it, as it sees
        a harness error or a reproduction line in the message.
        """
        error = AssertionError("x")
        self.assertFalse(mentions_seed(error))
        add_note(error, "seed=1 \N{EM DASH} reproduce with: it")
        add_note(error, "seed=1 \N{EM DASH} reproduce with: it")
        self.assertEqual(
            getattr(error, "__notes__", None), ["seed=1 \N{EM DASH} reproduce with: it"]
        )
        self.assertTrue(mentions_seed(error))
        self.assertTrue(mentions_seed(ValueError("... reproduce with: that")))


class TeardownFailureTests(SynchronousTestCase):
    """
    L{teardown_failure}: the teardown checks shared by every runner.
    """

    def test_clean(self) -> None:
        """
        A clean network passes; what needs no time happens first.
        """
        net = MemoryNetwork(1)
        port = net.listenTCP(0, Factory.forProtocol(Protocol))
        port.stopListening()
        fired: list[bool] = []
        net.callLater(0, fired.append, True)
        self.assertIsNone(teardown_failure(net))
        self.assertEqual(fired, [True])

    def test_unclean(self) -> None:
        """
        A network with something left gives the message of L{Unclean}.
        """
        net = MemoryNetwork(1)
        net.callLater(5, lambda: None)
        message = teardown_failure(net)
        assert message is not None
        self.assertIn("Pending timers (1):", message)
        self.assertIn("POETRY_TEST_SEED=1", message)


class SetUpTests(SynchronousTestCase):
    """
    The network's making, when it fails and when C{setUp} runs alone.
    """

    def test_badOptions(self) -> None:
        """
        Options L{MemoryNetwork} refuses make the test error with its
        message -- and no seed, since there is no network.
        """

        class Inner(MemoryNetworkTestCase):
            network_options: ClassVar[NetworkOptions] = {"step_budget": 0, "seed": "x"}  # type: ignore[typeddict-item]

            def test_never(self) -> None:
                raise AssertionError("not reached")

        result = run_test(Inner("test_never"))
        (text,) = texts(result)
        self.assertIn("a seed must be an int", text)
        self.assertNotIn("POETRY_TEST_SEED", text)

    def test_setUpAlone(self) -> None:
        """
        A C{setUp} called outside C{run} (by another framework) still tags
        the network with the test's id.
        """

        class Inner(MemoryNetworkTestCase):
            def test_one(self) -> None:
                pass

        stand_in_global_reactor(self)
        case = Inner("test_one")
        case.setUp()
        self.assertEqual(case.net.test_id, case.id())
        case.tearDown()
        # Without trial's cleanups, tearDown still put the global reactor back.
        self.assertNotIn("callLater", vars(global_reactor()))
