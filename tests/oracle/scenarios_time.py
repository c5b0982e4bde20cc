"""
Scenarios: time -- callLater, DelayedCall, LoopingCall and deferLater on
the reactor's clock (real seconds on the real reactor, virtual ones on the
memory network).  Only orders and states are recorded, never times.
"""

from __future__ import annotations

import math

from twisted.internet.defer import CancelledError
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.task import LoopingCall, deferLater

from tests.oracle._registry import scenario
from tests.oracle._support_conn import explode, tryCall
from tests.oracle._world import World


def _ran(w: World, name: str) -> None:
    w.note("ran", name)


@scenario
async def callLaterRunsInTimeOrder(w: World) -> None:
    """
    callLater calls run in time order, not registration order, and never
    before their time (seconds() at the call is at least getTime()).
    """
    calls: dict[str, IDelayedCall] = {}

    def run(name: str) -> None:
        w.note("ran", name, "on time", w.reactor.seconds() >= calls[name].getTime())

    calls["third"] = w.reactor.callLater(0.03, run, "third")
    calls["second"] = w.reactor.callLater(0.02, run, "second")
    calls["first"] = w.reactor.callLater(0.01, run, "first")
    await w.when("note", "ran", "third")


@scenario
async def cancelledCallNeverRuns(w: World) -> None:
    """
    A cancelled call never runs, is inactive, leaves getDelayedCalls(), and
    cannot be cancelled again (AlreadyCancelled); a call that ran is
    inactive, gone from getDelayedCalls(), and cannot be cancelled
    (AlreadyCalled).
    """
    doomed = w.reactor.callLater(0.01, _ran, w, "cancelled")
    kept = w.reactor.callLater(0.02, _ran, w, "kept")
    doomed.cancel()
    w.note("cancelled active", doomed.active())
    w.note("cancelled pending", doomed in w.reactor.getDelayedCalls())
    w.note("kept pending", kept in w.reactor.getDelayedCalls())
    tryCall(w, "cancel again", doomed.cancel)
    await w.when("note", "ran", "kept")
    await w.settle()
    w.note("ran active", kept.active())
    w.note("ran pending", kept in w.reactor.getDelayedCalls())
    tryCall(w, "cancel ran", kept.cancel)
    tryCall(w, "reset ran", kept.reset, 1)
    tryCall(w, "delay cancelled", doomed.delay, 1)


@scenario
async def delayedCallResetAndDelay(w: World) -> None:
    """
    reset(seconds) reschedules a pending call to seconds from now and
    delay(seconds) pushes it back by seconds: both then run after a call
    that was originally due later.
    """
    reset = w.reactor.callLater(0.01, _ran, w, "reset")
    delayed = w.reactor.callLater(0.01, _ran, w, "delayed")
    marker = w.reactor.callLater(0.05, _ran, w, "marker")
    reset.reset(0.1)
    delayed.delay(0.15)
    w.note("reset active", reset.active())
    w.note("reset later than marker", reset.getTime() > marker.getTime())
    w.note("delayed later than marker", delayed.getTime() > marker.getTime())
    await w.when("note", "ran", "delayed")


@scenario
async def resetToAnEarlierTime(w: World) -> None:
    """
    reset() to a shorter delay moves a call earlier: it runs before a call
    that was due before it.
    """
    w.reactor.callLater(0.05, _ran, w, "was first")
    moved = w.reactor.callLater(0.2, _ran, w, "moved")
    moved.reset(0.01)
    await w.when("note", "ran", "was first")


@scenario
async def callLaterZeroRunsAfterTheCurrentCall(w: World) -> None:
    """
    callLater(0, f) never runs f inside the call that schedules it: f runs
    after the scheduling function has returned.
    """

    def outer() -> None:
        w.reactor.callLater(0, _ran, w, "inner")
        w.note("outer returning")

    w.reactor.callLater(0, outer)
    await w.when("note", "ran", "inner")


@scenario
async def callLaterPassesArguments(w: World) -> None:
    """
    callLater passes its positional and keyword arguments to the function.
    """

    def f(*args: object, **kwargs: object) -> None:
        w.note("called with", args, sorted(kwargs.items()))

    w.reactor.callLater(0, f, 1, b"two", three=3)
    await w.when("note", "called with")


@scenario
async def exceptionInACallIsLoggedAndLaterCallsRun(w: World) -> None:
    """
    A delayed call that raises: the exception is logged and the calls due
    after it still run.
    """
    w.reactor.callLater(0.01, explode)
    w.reactor.callLater(0.02, _ran, w, "after")
    await w.when("note", "ran", "after")


@scenario
async def cancelAPendingCallFromAnEarlierOne(w: World) -> None:
    """
    A call cancels another call due at a later time: that one never runs.
    """
    victim = w.reactor.callLater(0.02, _ran, w, "victim")

    def killer() -> None:
        w.note("cancelling")
        victim.cancel()

    w.reactor.callLater(0.01, killer)
    w.reactor.callLater(0.04, _ran, w, "marker")
    await w.when("note", "ran", "marker")


@scenario
async def callLaterNegativeDelay(w: World) -> None:
    """
    callLater with a negative delay raises AssertionError (the reactor
    asserts delay >= 0; under python -O the assertion would be gone).
    """
    call = tryCall(w, "callLater(-1)", w.reactor.callLater, -1, _ran, w, "negative")
    if call is not None:
        await w.settle()
        if call.active():
            call.cancel()


@scenario
async def loopingCallRunsNowThenEveryInterval(w: World) -> None:
    """
    LoopingCall.start(interval) (now=True) calls at once, inside start, then
    every interval; stop() fires start's Deferred with the LoopingCall.
    """
    count = [0]

    def tick() -> None:
        count[0] += 1
        w.note("tick", count[0])
        if count[0] == 3:
            loop.stop()

    loop = LoopingCall(tick)
    loop.clock = w.reactor
    done = loop.start(0.01)
    w.note("start returned")
    result = await done
    w.note("fired with the LoopingCall", result is loop)


@scenario
async def deferLaterCancelled(w: World) -> None:
    """
    Cancelling a deferLater Deferred before its time: it fails with
    CancelledError and the function never runs.
    """
    d = deferLater(w.reactor, 0.01, _ran, w, "function")
    d.cancel()
    try:
        await d
    except CancelledError:
        w.note("CancelledError")
    await w.settle()


@scenario
async def callLaterInfinityIsPendingAndNeverRuns(w: World) -> None:
    """
    callLater(math.inf) is accepted: the call is pending (active, listed by
    getDelayedCalls, getTime() infinite) and does not run while later finite
    calls do; reset to a finite delay, it runs; another one cancelled is
    gone.
    """
    never = w.reactor.callLater(math.inf, _ran, w, "infinite")
    w.note("active", never.active(), "time", repr(never.getTime()))
    w.note("pending", never in w.reactor.getDelayedCalls())
    w.reactor.callLater(0.02, _ran, w, "finite")
    await w.when("note", "ran", "finite")
    w.note("still active", never.active())
    never.reset(0.01)
    await w.when("note", "ran", "infinite")
    other = w.reactor.callLater(math.inf, _ran, w, "cancelled")
    other.cancel()
    w.note("cancelled pending", other in w.reactor.getDelayedCalls())
