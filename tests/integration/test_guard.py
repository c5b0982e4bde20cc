"""
The global-reactor guard on the real global reactor: a
L{MemoryNetworkTestCase} test that schedules work on the reactor trial
installed fails, naming the call, the line and the fix, and the work is
removed.  (C{tests.unit.test_testing_guard} covers every kind of work on a
stand-in global reactor.)
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.internet.base import ReactorBase
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import MemoryNetworkTestCase

THIS_FILE = "tests/integration/test_guard.py"


def _installed() -> ReactorBase:
    """
    The global reactor trial installed.
    """
    from twisted.internet import reactor

    assert isinstance(reactor, ReactorBase)
    return reactor


def _pending() -> tuple[list[object], list[object]]:
    """
    What is pending on the installed reactor and the global cooperator.
    """
    return list(_installed().getDelayedCalls()), list(task._theCooperator._tasks)


def _run_inner(body: Any) -> str:
    """
    Run C{body} as an inner L{MemoryNetworkTestCase} test; the message of
    its one failure.
    """

    class Inner(MemoryNetworkTestCase):
        def test_inner(self) -> None:
            body(self)

    result = TestResult()
    Inner("test_inner").run(result)
    [(_, failure)] = result.failures + result.errors
    assert isinstance(failure, Failure)
    return failure.getErrorMessage()


class RealGlobalReactorGuardTests(SynchronousTestCase):
    """
    L{MemoryNetworkTestCase} catches work scheduled on the real global
    reactor and cooperator, and leaves them as it found them.
    """

    def setUp(self) -> None:
        self.before = _pending()

    def tearDown(self) -> None:
        self.assertEqual(_pending(), self.before)

    def test_callLater(self) -> None:
        """
        C{reactor.callLater} on the installed reactor fails the test with a
        message naming the call, the line that made it and the fix; the
        call is cancelled.
        """
        scheduled: list[Any] = []

        def leak(case: MemoryNetworkTestCase) -> None:
            scheduled.append(_installed().callLater(5, case.net.stop))

        text = _run_inner(leak)
        self.assertIn("scheduled work on the global reactor", text)
        self.assertIn("1. delayed call: MemoryNetwork.stop, due in ", text)
        self.assertIn(f"scheduled at {THIS_FILE}:", text)
        self.assertIn("fix: schedule on the network: net.callLater(...)", text)
        self.assertFalse(scheduled[0].active())

    def test_timeoutMixin(self) -> None:
        """
        C{TimeoutMixin}'s default clock is the installed reactor: caught,
        with the fix that points the protocol at the network.
        """

        class Idle(TimeoutMixin):
            def timeoutConnection(self) -> None:
                raise AssertionError("never runs")

        text = _run_inner(lambda case: Idle().setTimeout(30))
        self.assertIn("Idle().setTimeout(30)", text)
        self.assertIn("protocol.callLater = net.callLater", text)

    def test_cooperate(self) -> None:
        """
        C{task.cooperate} (the global cooperator, ticking on the installed
        reactor) is caught with the C{cooperator=net.cooperator()} fix, and
        the task is removed.
        """
        text = _run_inner(lambda case: task.cooperate(iter([1, 2, 3])))
        self.assertIn("1. cooperative task: list_iterator (task.cooperate)", text)
        self.assertIn("cooperator=net.cooperator()", text)
