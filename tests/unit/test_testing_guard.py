"""
Tests for L{poetry.testing.GlobalReactorGuard} and its use by
L{MemoryNetworkTestCase}: a test that schedules work on the global reactor
or the global cooperator fails, naming the callable, the line that
scheduled it and the fix, and the work is cancelled so that later tests are
not affected.

Unit tests never use the real reactor: these tests make a
L{MemoryReactorClock} the global reactor (and a fresh cooperator the global
cooperator) for their duration (L{stand_in_global_reactor}), so that code
that imports C{twisted.internet.reactor} -- C{TimeoutMixin}, C{LoopingCall},
C{task.cooperate} -- reaches the stand-in, which the guard watches as it
would the real one.  Each checks that the stand-ins are left exactly as they
were found.  C{tests.integration.test_guard} shows the same on the real
global reactor.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from traceback import FrameSummary
from typing import Any
from unittest import mock

import twisted.internet
from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReadDescriptor, IWriteDescriptor
from twisted.internet.protocol import Protocol
from twisted.internet.task import LoopingCall, deferLater
from twisted.internet.testing import MemoryReactorClock
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import FileBodyProducer
from zope.interface import implementer

from poetry.testing import (
    Deadlock,
    GlobalReactorGuard,
    GlobalReactorUsed,
    MemoryNetwork,
    MemoryNetworkTestCase,
    route_global_cooperator,
)
from poetry.testing._guard import _SITE_DIR, _call_fix
from tests.unit.test_testing_support import run_document_example

THIS_FILE = "tests/unit/test_testing_guard.py"


_MISSING = object()


def stand_in_global_reactor(case: SynchronousTestCase) -> MemoryReactorClock:
    """
    Make a new L{MemoryReactorClock} the global reactor
    (C{twisted.internet.reactor}, as C{sys.modules} and the package hold it)
    and a new L{task.Cooperator}, which schedules on it, the global
    cooperator, until C{case}'s cleanups put the previous ones back.

    @return: the stand-in reactor.
    """
    stand_in = MemoryReactorClock()
    modules: dict[str, Any] = sys.modules
    package = vars(twisted.internet)
    saved = [
        (holder, key, holder.get(key, _MISSING))
        for holder, key in ((modules, "twisted.internet.reactor"), (package, "reactor"))
    ]
    cooperator = task._theCooperator

    def restore() -> None:
        task._theCooperator = cooperator
        for holder, key, value in saved:
            if value is _MISSING:
                holder.pop(key, None)
            else:
                holder[key] = value

    for holder, key, _ in saved:
        holder[key] = stand_in
    task._theCooperator = task.Cooperator()
    case.addCleanup(restore)
    return stand_in


def global_reactor() -> Any:
    """
    The global reactor installed now (in these tests, the stand-in of
    L{stand_in_global_reactor}); never installs one.
    """
    return sys.modules["twisted.internet.reactor"]


def global_state() -> tuple[list[object], list[object], object]:
    """
    What is pending on the global reactor and cooperator.
    """
    cooperator: Any = task._theCooperator
    return (
        list(global_reactor().getDelayedCalls()),
        list(cooperator._tasks),
        cooperator._delayedCall,
    )


def run_inner(
    test: Callable[[MemoryNetworkTestCase], object], guard: bool = True
) -> TestResult:
    """
    Run C{test} as the body of an inner L{MemoryNetworkTestCase} test.
    """

    class Inner(MemoryNetworkTestCase):
        guard_global_reactor = guard

        def test_inner(self) -> None:
            test(self)

    result = TestResult()
    Inner("test_inner").run(result)
    return result


def failure_text(result: TestResult) -> str:
    [(_, failure)] = result.failures + result.errors
    assert isinstance(failure, Failure)
    return failure.getErrorMessage()


class _Timeout(Protocol, TimeoutMixin):
    """
    A protocol with an idle timeout, on C{TimeoutMixin}'s default clock (the
    global reactor).
    """

    def __init__(self) -> None:
        self.timed_out: Deferred[None] = Deferred()

    def timeoutConnection(self) -> None:
        self.timed_out.callback(None)


@implementer(IWriteDescriptor)
class _Writer:
    """
    A writer, as a reactor's C{addWriter} takes one.
    """

    def fileno(self) -> int:
        return 7

    def doWrite(self) -> None:
        raise AssertionError("never dispatched")

    def connectionLost(self, reason: Failure) -> None:
        raise AssertionError("never dispatched")

    def logPrefix(self) -> str:
        return "writer"


@implementer(IReadDescriptor)
class _Reader:
    """
    A reader, as a reactor's C{addReader} takes one.
    """

    def fileno(self) -> int:
        return 6

    def doRead(self) -> None:
        raise AssertionError("never dispatched")

    def connectionLost(self, reason: Failure) -> None:
        raise AssertionError("never dispatched")

    def logPrefix(self) -> str:
        return "reader"


class MemoryNetworkTestCaseGuardTests(MemoryNetworkTestCase):
    """
    L{MemoryNetworkTestCase} fails a test that used the global reactor (this
    outer test case is guarded too: nothing the inner tests did reaches it).
    """

    def setUp(self) -> None:
        super().setUp()
        stand_in_global_reactor(self)
        self.before = global_state()

    def tearDown(self) -> None:
        self.assertEqual(global_state(), self.before)
        super().tearDown()

    def test_callLater(self) -> None:
        """
        A test scheduling a delayed call on the global reactor fails; the
        message names the call, the test line that scheduled it, and the
        fix; the call is cancelled.
        """
        scheduled: list[Any] = []

        def leak(case: MemoryNetworkTestCase) -> None:
            scheduled.append(global_reactor().callLater(5, case.net.stop))

        result = run_inner(leak)
        text = failure_text(result)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("scheduled work on the global reactor", text)
        self.assertIn("1. delayed call: MemoryNetwork.stop, due in ", text)
        self.assertIn(f"scheduled at {THIS_FILE}:", text)
        self.assertIn(", in leak", text)
        self.assertIn(
            "scheduled.append(global_reactor().callLater(5, case.net.stop))", text
        )
        self.assertIn("fix: schedule on the network: net.callLater(...)", text)
        self.assertIn("clock=net, reactor=net, cooperator=net.cooperator()", text)
        self.assertIn("guard_global_reactor = False", text)
        self.assertIn("POETRY_TEST_SEED=", text)
        self.assertFalse(scheduled[0].active())

    def test_loopingCall(self) -> None:
        """
        A L{LoopingCall} started without a clock is named, with the fix
        C{loop.clock = net}.
        """

        def tick() -> None:
            raise AssertionError("never runs")

        def leak(case: MemoryNetworkTestCase) -> None:
            LoopingCall(tick).start(1.0, now=False)

        text = failure_text(run_inner(leak))
        self.assertIn("delayed call: LoopingCall(MemoryNetworkTestCaseGuardTests", text)
        self.assertIn("LoopingCall(tick).start(1.0, now=False)", text)
        self.assertIn("through twisted/internet/task.py:", text)
        self.assertIn("loop.clock = net", text)

    def test_timeoutMixin(self) -> None:
        """
        C{TimeoutMixin}'s default C{callLater} is the global reactor's: the
        fix points it at the network.
        """

        def leak(case: MemoryNetworkTestCase) -> None:
            _Timeout().setTimeout(30)

        text = failure_text(run_inner(leak))
        self.assertIn("_Timeout().setTimeout(30)", text)
        self.assertIn("protocol.callLater = net.callLater", text)

    def test_deferLater(self) -> None:
        """
        C{deferLater} on the global reactor: the fix is C{deferLater(net,
        ...)}.
        """

        def leak(case: MemoryNetworkTestCase) -> None:
            deferLater(global_reactor(), 1.0, lambda: None)

        text = failure_text(run_inner(leak))
        self.assertIn("fix: pass the network as deferLater's clock", text)

    def test_cooperate(self) -> None:
        """
        C{task.cooperate} (the global cooperator) is reported as a
        cooperative task with the C{cooperator=net.cooperator()} fix; the
        task and the cooperator's tick are removed.
        """

        def leak(case: MemoryNetworkTestCase) -> None:
            task.cooperate(iter([1, 2, 3]))

        text = failure_text(run_inner(leak))
        self.assertIn("1. cooperative task: list_iterator (task.cooperate)", text)
        self.assertIn("task.cooperate(iter([1, 2, 3]))", text)
        self.assertIn("cooperator=net.cooperator()", text)
        self.assertIn("route_global_cooperator(self.net)", text)
        self.assertNotIn("2.", text)

    def test_fileBodyProducer(self) -> None:
        """
        A L{FileBodyProducer} made without a cooperator uses the global one:
        caught at the line that started it.
        """

        def leak(case: MemoryNetworkTestCase) -> None:
            FileBodyProducer(io.BytesIO(b"body")).startProducing(io.BytesIO())

        text = failure_text(run_inner(leak))
        self.assertIn("cooperative task: FileBodyProducer._writeloop", text)
        self.assertIn('FileBodyProducer(io.BytesIO(b"body")).startProducing', text)

    def test_readerAndWriter(self) -> None:
        """
        A reader and a writer added to the global reactor are reported and
        removed.
        """
        reader, writer = _Reader(), _Writer()

        def leak(case: MemoryNetworkTestCase) -> None:
            global_reactor().addReader(reader)
            global_reactor().addWriter(writer)

        text = failure_text(run_inner(leak))
        self.assertIn("1. reader: _Reader", text)
        self.assertIn("global_reactor().addReader(reader)", text)
        self.assertIn("2. writer: _Writer", text)
        self.assertIn("global_reactor().addWriter(writer)", text)
        self.assertIn("connect and listen through the network", text)
        self.assertNotIn(reader, global_reactor().getReaders())
        self.assertNotIn(writer, global_reactor().getWriters())

    def test_twistedCodeWithoutKnownFix(self) -> None:
        """
        A delayed call made inside Twisted where the guard knows no specific
        fix (here C{Deferred.addTimeout} given the global reactor) gets the
        general one, and names both the test's line and Twisted's.
        """

        def leak(case: MemoryNetworkTestCase) -> None:
            Deferred().addTimeout(5, global_reactor())

        text = failure_text(run_inner(leak))
        self.assertIn("Deferred().addTimeout(5, global_reactor())", text)
        self.assertIn("through twisted/internet/defer.py:", text)
        self.assertIn(
            "fix: pass the network where the code takes a clock or reactor", text
        )

    def test_optOut(self) -> None:
        """
        A test case with C{guard_global_reactor = False} may use the global
        reactor (and must clean up itself).
        """

        def allowed(case: MemoryNetworkTestCase) -> None:
            global_reactor().callLater(5, case.net.stop).cancel()
            case.assertIsNone(case._global_guard)

        self.assertTrue(run_inner(allowed, guard=False).wasSuccessful())

    def test_cleanedAfterFailure(self) -> None:
        """
        When the test failed anyway, the guard adds no failure of its own,
        but still cancels what was left.
        """
        scheduled: list[Any] = []

        def fails(case: MemoryNetworkTestCase) -> None:
            scheduled.append(global_reactor().callLater(5, case.net.stop))
            case.fail("the test's own failure")

        result = run_inner(fails)
        self.assertEqual(failure_text(result).splitlines()[0], "the test's own failure")
        self.assertFalse(scheduled[0].active())

    def test_deadlockMentionsGlobalReactor(self) -> None:
        """
        A test waiting for something the global reactor was to do gets a
        L{Deadlock} that names it, instead of "Pending timers: none" alone.
        """

        def wait(case: MemoryNetworkTestCase) -> None:
            protocol = _Timeout()
            protocol.setTimeout(30)
            case.net.run_until(protocol.timed_out)

        text = failure_text(run_inner(wait))
        self.assertIn("Pending timers: none", text)
        self.assertIn(
            "Work waiting on the global reactor (since the test started)", text
        )
        self.assertIn("1. delayed call: _Timeout.__timedOut, due in ", text)
        self.assertIn("protocol.callLater = net.callLater", text)


class GlobalReactorGuardTests(SynchronousTestCase):
    """
    L{GlobalReactorGuard} used directly, as a pytest fixture would.
    """

    def setUp(self) -> None:
        stand_in_global_reactor(self)
        self.before = global_state()

    def tearDown(self) -> None:
        self.assertEqual(global_state(), self.before)

    def test_startCheckStop(self) -> None:
        """
        C{check} raises L{GlobalReactorUsed} with one record per piece of
        work; C{stop} removes the work, puts the reactor's methods back and
        returns the records; C{check} still raises for them afterwards, and
        a second C{stop} does nothing.
        """
        net = MemoryNetwork(seed=4)
        guard = GlobalReactorGuard(net).start()
        self.assertTrue(guard.active)
        self.assertIs(net._state.guard, guard)
        guard.check()
        call = global_reactor().callLater(1, net.stop)
        error = self.assertRaises(GlobalReactorUsed, guard.check)
        [record] = error.activity
        self.assertEqual(record.kind, "delayed call")
        self.assertTrue(record.what.startswith("MemoryNetwork.stop, due in "))
        self.assertIn(f"{THIS_FILE}:", record.scheduled_at or "")
        self.assertEqual(
            record.source, "call = global_reactor().callLater(1, net.stop)"
        )
        self.assertIsNone(record.via)
        self.assertIn("POETRY_TEST_SEED=4", str(error))
        self.assertTrue(call.active())
        self.assertEqual(guard.stop(), [record])
        self.assertFalse(call.active())
        self.assertFalse(guard.active)
        self.assertIsNone(net._state.guard)
        self.assertEqual(guard.activity(), [])
        self.assertNotIn("callLater", vars(global_reactor()))
        self.assertRaises(GlobalReactorUsed, guard.check)
        self.assertEqual(guard.stop(), [])
        self.assertRaises(RuntimeError, guard.start().start)
        guard.stop()

    def test_earlierWorkNotJudged(self) -> None:
        """
        What was pending before C{start} is neither reported nor removed
        (the test runner may use the global reactor).
        """
        earlier = global_reactor().callLater(60, lambda: None)
        self.addCleanup(earlier.cancel)
        guard = GlobalReactorGuard().start()
        guard.check()
        self.assertEqual(guard.stop(), [])
        self.assertTrue(earlier.active())

    def test_unguardedDeadlockHint(self) -> None:
        """
        Without a guard, L{Deadlock} still lists what is pending on the
        (installed, not running) global reactor.
        """

        def forgotten() -> None:
            raise AssertionError("never runs")

        call = global_reactor().callLater(60, forgotten)
        self.addCleanup(call.cancel)
        net = MemoryNetwork(seed=5)
        error = self.assertRaises(Deadlock, net.run_until, Deferred())
        self.assertIn("Work waiting on the global reactor (now)", str(error))
        self.assertIn("forgotten", str(error))

    def test_describe(self) -> None:
        """
        C{describe()} is the report of what is pending, or C{""}.
        """
        guard = GlobalReactorGuard().start()
        self.addCleanup(guard.stop)
        self.assertEqual(guard.describe(), "")
        call = global_reactor().callLater(2, print)
        text = guard.describe()
        self.assertTrue(text.startswith("1. delayed call: "), text)
        self.assertIn("global_reactor().callLater(2, print)", text)
        call.cancel()

    def test_reactorInstalledDuringTheTest(self) -> None:
        """
        With no global reactor installed, the guard installs none; one that
        the test installs is still examined at the end (without the lines
        that scheduled its calls), and what it has pending is removed.
        Here the "reactor" is a L{task.Clock}, which is no L{IReactorFDSet}.
        """
        net = MemoryNetwork(seed=7)
        installed = "twisted.internet.reactor"
        with mock.patch.dict(sys.modules):
            del sys.modules[installed]
            guard = GlobalReactorGuard(net).start()
            self.assertNotIn(installed, sys.modules)
            self.assertRaises(Deadlock, net.run_until, Deferred())
            clock = task.Clock()
            sys.modules[installed] = clock  # type: ignore[assignment]  # a stand-in reactor
            clock.callLater(3, print)
            error = self.assertRaises(GlobalReactorUsed, guard.check)
            self.assertIn("scheduled at: unknown", str(error))
            guard.stop()
            self.assertEqual(clock.getDelayedCalls(), [])

    def test_unguardedNoReactor(self) -> None:
        """
        Without a guard and without an installed reactor, L{Deadlock} has
        no global-reactor hint.
        """
        net = MemoryNetwork(seed=8)
        with mock.patch.dict(sys.modules):
            del sys.modules["twisted.internet.reactor"]
            error = self.assertRaises(Deadlock, net.run_until, Deferred())
        self.assertNotIn("global reactor", str(error))

    def test_installedLibraryFix(self) -> None:
        """
        A call into the global reactor made by an installed library (not
        Twisted, not the project) gets the fix of passing that library the
        network.
        """
        library = os.path.join(_SITE_DIR, "somelib", "client.py")
        frames = [FrameSummary(library, 10, "get", lookup_line=False)]
        self.assertIn("an installed library", _call_fix(print, frames))

    def test_routeGlobalCooperator(self) -> None:
        """
        L{route_global_cooperator} makes the module-level C{task.cooperate}
        run on the network's clock until undone.
        """
        net = MemoryNetwork(seed=6)
        guard = GlobalReactorGuard(net).start()
        self.addCleanup(guard.stop)
        restore = route_global_cooperator(net)
        items: list[int] = []

        def work() -> Iterator[None]:
            for i in range(3):
                items.append(i)
                yield None

        done = task.coiterate(work())
        net.run_until(done)
        restore()
        self.assertEqual(items, [0, 1, 2])
        guard.check()


class DocumentExampleTests(SynchronousTestCase):
    """
    The guard example of C{docs/testing.md} runs, as shown, and passes.
    """

    def test_guard(self) -> None:
        """
        The heartbeat on the network's clock passes the guard.
        """
        run_document_example(self, "guard", 1)
