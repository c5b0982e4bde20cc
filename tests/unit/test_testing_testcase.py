"""
Tests for L{poetry.testing.MemoryNetworkTestCase}: a fresh network per test,
the seed in every failure, and the cleanliness check at teardown.
"""

from __future__ import annotations

import os
from typing import cast

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import SEED_ENVIRONMENT_VARIABLE, MemoryNetworkTestCase
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
