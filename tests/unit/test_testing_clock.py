"""
Tests for the virtual clock and the run loops of L{poetry.testing.MemoryNetwork}:
C{callLater}, C{advance}, C{run}, C{run_until}, C{step}, the step budget, and
the three bugs of L{twisted.internet.task.Clock} it fixes (Twisted #9819,
#5962, #6867).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.internet.error import AlreadyCalled, AlreadyCancelled
from twisted.internet.task import Clock, LoopingCall, deferLater
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import (
    Deadlock,
    MemoryNetwork,
    StepBudgetExceeded,
    TimerErrors,
)


class CallLaterTests(SynchronousTestCase):
    """
    C{callLater}, C{seconds} and C{getDelayedCalls}.
    """

    def setUp(self) -> None:
        self.net = MemoryNetwork(seed=1)

    def test_clockStartsAtZero(self) -> None:
        """
        A new network's clock reads 0.
        """
        self.assertEqual(self.net.seconds(), 0.0)

    def test_callRunsAtItsTime(self) -> None:
        """
        A call runs when the clock reaches its time, not before, with its
        arguments, and sees the clock at its time.
        """
        seen: list[tuple[float, object, object]] = []
        self.net.callLater(
            1.5, lambda a, b: seen.append((self.net.seconds(), a, b)), 1, b=2
        )
        self.net.advance(1.4)
        self.assertEqual(seen, [])
        self.net.advance(0.1)
        self.assertEqual(seen, [(1.5, 1, 2)])

    def test_sameTimeRunsInSchedulingOrder(self) -> None:
        """
        Calls due at the same time run in the order they were scheduled; an
        earlier call scheduled later still runs first.
        """
        order: list[str] = []
        for name in "abcde":
            self.net.callLater(1, order.append, name)
        self.net.callLater(0.5, order.append, "early")
        self.net.advance(1)
        self.assertEqual(order, ["early", "a", "b", "c", "d", "e"])

    def test_badDelaysRaise(self) -> None:
        """
        A negative or NaN delay fails the real reactor's assertion
        (L{AssertionError}, with its message; task.Clock accepts them,
        Twisted #9166).
        """
        for delay in (-0.001, math.nan):
            error = self.assertRaises(
                AssertionError, self.net.callLater, delay, lambda: None
            )
            self.assertIn("is not greater than or equal to 0 seconds", str(error))
        self.assertEqual(self.net.getDelayedCalls(), [])

    def test_infiniteDelay(self) -> None:
        """
        As on the real reactor, a call an infinite delay away is pending --
        listed, active, at an infinite time -- and never made: C{run}
        returns without moving the clock to it, C{run_until} of something
        only it could bring reports a L{Deadlock}, and it can be reset to a
        finite time (then it is made) or cancelled.
        """
        calls: list[float] = []
        never = self.net.callLater(math.inf, lambda: calls.append(self.net.seconds()))
        self.net.callLater(5, calls.append, 5.0)
        self.assertEqual(self.net.getDelayedCalls()[-1].getTime(), math.inf)
        self.net.run()
        self.assertEqual((calls, self.net.seconds()), ([5.0], 5.0))
        self.assertTrue(never.active())
        self.assertRaises(Deadlock, self.net.run_until, Deferred())
        self.assertRaises(Deadlock, self.net.run_until, Deferred(), timeout=10)
        never.reset(2)
        self.net.run()
        self.assertEqual(calls, [5.0, 7.0])
        other = self.net.callLater(math.inf, calls.append, math.inf)
        other.cancel()
        self.net.run()
        self.assertEqual((calls, self.net.getDelayedCalls()), ([5.0, 7.0], []))

    def test_getDelayedCallsIsACopyOfActiveCalls(self) -> None:
        """
        C{getDelayedCalls} returns a new list of the active calls, soonest
        first; changing it changes nothing; cancelled and called calls are
        not in it.
        """
        late = self.net.callLater(3, lambda: None)
        soon = self.net.callLater(1, lambda: None)
        doomed = self.net.callLater(2, lambda: None)
        doomed.cancel()
        calls = self.net.getDelayedCalls()
        self.assertEqual(calls, [soon, late])
        calls.clear()
        self.assertEqual(self.net.getDelayedCalls(), [soon, late])
        self.net.advance(1)
        self.assertEqual(self.net.getDelayedCalls(), [late])

    def test_cancel(self) -> None:
        """
        A cancelled call never runs and cannot be cancelled again; a call
        that ran cannot be cancelled.
        """
        ran: list[str] = []
        doomed = self.net.callLater(1, ran.append, "doomed")
        kept = self.net.callLater(1, ran.append, "kept")
        doomed.cancel()
        self.assertFalse(doomed.active())
        self.assertRaises(AlreadyCancelled, doomed.cancel)
        self.net.advance(2)
        self.assertEqual(ran, ["kept"])
        self.assertFalse(kept.active())
        self.assertRaises(AlreadyCalled, kept.cancel)

    def test_resetAndDelay(self) -> None:
        """
        C{reset} reschedules relative to now (earlier or later), C{delay}
        pushes a call back; the calls then run at their new times.
        """
        times: dict[str, float] = {}

        def record(name: str) -> None:
            times[name] = self.net.seconds()

        sooner = self.net.callLater(10, record, "sooner")
        later = self.net.callLater(1, record, "later")
        delayed = self.net.callLater(1, record, "delayed")
        self.net.advance(0.5)
        sooner.reset(1)
        later.reset(5)
        delayed.delay(2)
        self.assertEqual(
            [call.getTime() for call in (sooner, later, delayed)], [1.5, 5.5, 3.0]
        )
        self.assertEqual(self.net.getDelayedCalls(), [sooner, delayed, later])
        self.net.run()
        self.assertEqual(times, {"sooner": 1.5, "delayed": 3.0, "later": 5.5})

    def test_manyCancelledCallsAreCompacted(self) -> None:
        """
        Cancelling thousands of calls leaves the live ones intact, in order.
        """
        order: list[int] = []
        calls = [self.net.callLater(i % 7, order.append, i) for i in range(3000)]
        for call in calls:
            if call.getTime() != 3:
                call.cancel()
        self.assertEqual(len(self.net.getDelayedCalls()), 3000 // 7 + 1)
        self.net.run()
        self.assertEqual(order, [i for i in range(3000) if i % 7 == 3])


class AdvanceTests(SynchronousTestCase):
    """
    C{advance(seconds)}.
    """

    def test_advanceMovesTheClock(self) -> None:
        """
        After C{advance(n)} the clock has moved by exactly C{n}, even with
        nothing scheduled.
        """
        net = MemoryNetwork(seed=1)
        net.advance(2.5)
        net.advance(0)
        self.assertEqual(net.seconds(), 2.5)

    def test_advanceRejectsBadDurations(self) -> None:
        """
        A negative or non-finite duration raises L{ValueError}.
        """
        net = MemoryNetwork(seed=1)
        for seconds in (-1.0, math.nan, math.inf):
            self.assertRaises(ValueError, net.advance, seconds)
        self.assertEqual(net.seconds(), 0.0)

    def test_callsRunAtTheirOwnTimeWithinTheWindow(self) -> None:
        """
        Each call due within the window runs with the clock at its own time,
        not at the end of the window; a call beyond the window waits.
        """
        net = MemoryNetwork(seed=1)
        seen: list[float] = []
        for delay in (0.5, 1.0, 2.0, 3.5):
            net.callLater(delay, lambda: seen.append(net.seconds()))
        net.advance(3)
        self.assertEqual(seen, [0.5, 1.0, 2.0])
        self.assertEqual(net.seconds(), 3.0)


class ClockBugTests(SynchronousTestCase):
    """
    The three bugs of L{twisted.internet.task.Clock} the network fixes; each
    test shows C{task.Clock} getting it wrong and the network getting it
    right.
    """

    def test_chainedDelaysFinishWithinAdvance(self) -> None:
        """
        Twisted #9819: two chained C{deferLater(clock, 1)} finish within
        C{advance(2)} on the network; with C{task.Clock} the second is still
        pending, because C{Clock.advance} sets the end time before running
        the first.
        """

        def chain(clock: Clock | MemoryNetwork) -> list[float]:
            done: list[float] = []
            d = deferLater(clock, 1, lambda: None)
            d.addCallback(lambda _: deferLater(clock, 1, lambda: None))
            d.addCallback(lambda _: done.append(clock.seconds()))
            clock.advance(2)
            return done

        self.assertEqual(chain(Clock()), [])
        self.assertEqual(chain(MemoryNetwork(seed=1)), [2.0])

    def test_callLaterZeroRunsInTheNextPass(self) -> None:
        """
        Twisted #5962: a C{callLater(0)} made by a call runs in the next
        pass, after the calls that were already due (the reactor's
        behaviour); C{task.Clock} runs it inside the same C{advance(0)}.
        """
        order: list[str] = []

        def first(clock: Clock | MemoryNetwork) -> None:
            order.append("first")
            clock.callLater(0, order.append, "scheduled by first")

        clock = Clock()
        clock.callLater(0, first, clock)
        clock.advance(0)
        self.assertEqual(order, ["first", "scheduled by first"])

        order.clear()
        net = MemoryNetwork(seed=1)
        net.callLater(0, first, net)
        net.callLater(0, order.append, "already due")
        self.assertTrue(net.step())
        self.assertEqual(order, ["first", "already due"])
        self.assertEqual(len(net.getDelayedCalls()), 1)
        self.assertTrue(net.step())
        self.assertEqual(order, ["first", "already due", "scheduled by first"])
        self.assertFalse(net.step())

    def test_endlessCallLaterZeroCascadeIsStopped(self) -> None:
        """
        Twisted #5962: a call that always reschedules itself with
        C{callLater(0)} makes C{task.Clock.advance(0)} loop for ever (here
        cut short after 10,000 rounds, all inside one C{advance(0)}); the
        network stops it with L{StepBudgetExceeded}, naming the call.
        """
        clock = Clock()
        rounds = [0]

        def again() -> None:
            rounds[0] += 1
            if rounds[0] < 10_000:
                clock.callLater(0, again)

        clock.callLater(0, again)
        clock.advance(0)
        self.assertEqual(rounds[0], 10_000)

        net = MemoryNetwork(seed=5, step_budget=500)

        def forever() -> None:
            net.callLater(0, forever)

        net.callLater(0, forever)
        error = self.assertRaises(StepBudgetExceeded, net.advance, 0)
        self.assertIn("x timer", str(error))
        self.assertIn("forever", str(error))
        self.assertIn("callLater(0)", str(error))
        self.assertGreater(error.steps, 500)

    def test_exceptionDoesNotStopOtherDueCalls(self) -> None:
        """
        Twisted #6867: C{task.Clock.advance} lets a call's exception escape
        and the later call never runs.  The network does what the real
        reactor does (the oracle scenario
        C{exceptionInACallIsLoggedAndLaterCallsRun}): it logs the error and
        runs the other calls.
        """
        ran: list[str] = []
        clock = Clock()
        clock.callLater(1, lambda: 1 / 0)
        clock.callLater(1, ran.append, "second")
        self.assertRaises(ZeroDivisionError, clock.advance, 1)
        self.assertEqual(ran, [])

        net = MemoryNetwork(seed=6867)
        net.callLater(1, lambda: 1 / 0)
        net.callLater(1, ran.append, "second")
        net.advance(1)
        self.assertEqual(ran, ["second"])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_timerErrorsRaise(self) -> None:
        """
        With C{timer_errors="raise"}, the network runs the other calls due in
        the same pass, then raises L{TimerErrors} carrying every failure and
        the seed.
        """
        ran: list[str] = []
        net = MemoryNetwork(seed=6867, timer_errors="raise")
        net.callLater(1, lambda: 1 / 0)
        net.callLater(1, ran.append, "second")
        empty: dict[str, int] = {}
        net.callLater(1, lambda: empty["missing"])
        error = self.assertRaises(TimerErrors, net.advance, 1)
        self.assertEqual(ran, ["second"])
        self.assertEqual(
            [failure.type for failure in error.failures],
            [ZeroDivisionError, KeyError],
        )
        self.assertEqual(error.seed, 6867)
        self.assertIn("2 timed call(s) raised", str(error))
        self.assertIn("ZeroDivisionError", str(error))
        self.assertIn("POETRY_TEST_SEED=6867", str(error))


class RunTests(SynchronousTestCase):
    """
    C{run}, C{run_until} and C{step}.
    """

    def test_runAutoAdvancesToEachTimer(self) -> None:
        """
        C{run} moves the clock to each timer in turn until none is left.
        """
        net = MemoryNetwork(seed=1)
        seen: list[float] = []
        net.callLater(100, lambda: seen.append(net.seconds()))
        net.callLater(3, lambda: net.callLater(7, lambda: seen.append(net.seconds())))
        net.run()
        self.assertEqual(seen, [10.0, 100.0])
        self.assertEqual(net.seconds(), 100.0)
        self.assertEqual(net.getDelayedCalls(), [])

    def test_runUntilReturnsTheResult(self) -> None:
        """
        C{run_until(d)} runs until C{d} fires and returns its result; later
        timers stay pending.
        """
        net = MemoryNetwork(seed=1)
        later = net.callLater(50, lambda: None)
        result = net.run_until(deferLater(net, 3, lambda: "three"))
        self.assertEqual(result, "three")
        self.assertEqual(net.seconds(), 3.0)
        self.assertEqual(net.getDelayedCalls(), [later])
        later.cancel()

    def test_runUntilWaitsForChainedDeferred(self) -> None:
        """
        A L{Deferred} whose callback returned another, unfired L{Deferred} has
        C{called} set but no result yet: C{run_until} keeps running until the
        inner one fires.
        """
        net = MemoryNetwork(seed=1)
        outer: Deferred[Any] = Deferred()
        outer.addCallback(lambda _: deferLater(net, 4, lambda: "inner"))
        outer.callback(None)
        self.assertTrue(outer.called)
        self.assertEqual(net.run_until(outer), "inner")
        self.assertEqual(net.seconds(), 4.0)

    def test_runUntilFiredDeferred(self) -> None:
        """
        A L{Deferred} that already fired is returned at once, nothing runs.
        """
        net = MemoryNetwork(seed=1)
        net.callLater(1, lambda: None)
        self.assertEqual(net.run_until(succeed(5)), 5)
        self.assertEqual(net.seconds(), 0.0)

    def test_runUntilRaisesTheFailure(self) -> None:
        """
        When C{d} fails, C{run_until} raises its exception (and the failure
        is consumed, so nothing is logged as unhandled).
        """
        net = MemoryNetwork(seed=1)

        def boom() -> None:
            raise LookupError("no such poem")

        d = deferLater(net, 2, boom)
        error = self.assertRaises(LookupError, net.run_until, d)
        self.assertEqual(str(error), "no such poem")
        self.assertIsNone(self.successResultOf(d))

    def test_runUntilDeadlock(self) -> None:
        """
        When nothing can run and C{d} has not fired, C{run_until} raises
        L{Deadlock} naming the seed.
        """
        net = MemoryNetwork(seed=99)
        net.test_id = "tests.example.ExampleTests.test_example"
        error = self.assertRaises(Deadlock, net.run_until, Deferred())
        self.assertEqual(error.seed, 99)
        self.assertIn("nothing is ready to run, no timer is left", str(error))
        self.assertTrue(
            str(error).endswith(
                "POETRY_TEST_SEED=99 python -m twisted.trial "
                "tests.example.ExampleTests.test_example"
            )
        )

    def test_runUntilRejectsNonDeferred(self) -> None:
        """
        C{run_until} needs a L{Deferred}.
        """
        net = MemoryNetwork(seed=1)
        self.assertRaises(TypeError, net.run_until, 5)

    def test_loopingCallUnderRunExceedsBudget(self) -> None:
        """
        A L{LoopingCall} never lets C{run} finish: the step budget stops it
        and the error names the looping call, the budget, the virtual time
        and how to proceed.
        """
        net = MemoryNetwork(seed=3, step_budget=200)
        ticks: list[float] = []
        loop = LoopingCall(lambda: ticks.append(net.seconds()))
        loop.clock = net
        loop.start(1.0)
        error = self.assertRaises(StepBudgetExceeded, net.run)
        message = str(error)
        self.assertIn("run() took 201 steps", message)
        self.assertIn("step budget of 200", message)
        self.assertIn("LoopingCall(", message)
        self.assertIn(f"t={net.seconds()!r}", message)
        self.assertIn("MemoryNetwork(step_budget=...)", message)
        self.assertIn("advance(seconds) or run_until(d)", message)
        self.assertIn("POETRY_TEST_SEED=3", message)
        loop.stop()
        self.assertEqual(ticks[:3], [0.0, 1.0, 2.0])

    def test_loopingCallUnderAdvanceIsBounded(self) -> None:
        """
        C{advance} bounds a periodic timer: a 1-second L{LoopingCall} ticks
        11 times in C{advance(10)} (at 0 through 10).
        """
        net = MemoryNetwork(seed=3)
        ticks: list[float] = []
        loop = LoopingCall(lambda: ticks.append(net.seconds()))
        loop.clock = net
        loop.start(1.0)
        net.advance(10)
        loop.stop()
        self.assertEqual(ticks, [float(i) for i in range(11)])

    def test_budgetIsPerCall(self) -> None:
        """
        The budget counts the steps of one C{run}/C{advance} call: many calls
        that each stay within it never exceed it.
        """
        net = MemoryNetwork(seed=3, step_budget=10)
        for second in range(1, 101):
            net.callLater(second, lambda: None)
        for _ in range(100):
            net.advance(1)
        self.assertEqual(net.getDelayedCalls(), [])

    def test_stepRunsOnePass(self) -> None:
        """
        C{step} runs the calls due now (or, if none, moves to the next timer
        and runs those), one pass at a time, and returns C{False} when the
        world is quiet.
        """
        net = MemoryNetwork(seed=1)
        order: list[str] = []
        net.callLater(2, order.append, "at 2")
        net.callLater(2, lambda: net.callLater(0, order.append, "again"))
        net.callLater(5, order.append, "at 5")
        self.assertTrue(net.step())
        self.assertEqual((order, net.seconds()), (["at 2"], 2.0))
        self.assertTrue(net.step())
        self.assertEqual(order, ["at 2", "again"])
        self.assertTrue(net.step())
        self.assertEqual((order[-1], net.seconds()), ("at 5", 5.0))
        self.assertFalse(net.step())


class CooperatorTests(SynchronousTestCase):
    """
    C{net.cooperator()}.
    """

    def test_cooperatorRunsOnTheNetwork(self) -> None:
        """
        Tasks of the network's cooperator advance one unit of work per tick,
        taking turns, on the virtual clock, without time passing.
        """
        net = MemoryNetwork(seed=1)
        cooperator = net.cooperator()
        order: list[str] = []

        def work(name: str, units: int) -> Iterator[None]:
            for unit in range(units):
                order.append(f"{name}{unit}")
                yield None

        first = cooperator.coiterate(work("a", 3))
        second = cooperator.coiterate(work("b", 2))
        self.assertEqual(order, [])
        net.run_until(gatherResults([first, second]))
        self.assertEqual(order, ["a0", "b0", "a1", "b1", "a2"])
        self.assertEqual(net.seconds(), 0.0)
        self.assertEqual(net.getDelayedCalls(), [])
        ticks = [event for event in net.trace if event.kind == "timer"]
        self.assertGreaterEqual(len(ticks), 5)
