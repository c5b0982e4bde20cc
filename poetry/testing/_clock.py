"""
The scheduler under L{MemoryNetwork}: one FIFO of ready I{steps}
(deliveries, connection completions, closes) and one heap of timers on a
virtual clock, run in I{passes} like a reactor's iterations.

A pass at the current virtual time first runs every timed call that is due
and was scheduled before the pass began, in C{(time, scheduling order)}
order, then every step that was ready when the step phase began, in FIFO
order.  Anything scheduled during a pass -- including C{callLater(0)} --
runs in a later pass.  The clock moves forward, to the next timer, only
when no step is ready and no timer is due (auto-advance).

This fixes three bugs of L{twisted.internet.task.Clock}: calls scheduled
by calls inside C{advance(n)} run at their own time within the window
(Twisted #9819); a C{callLater(0)} cascade cannot run ahead of calls that
are already due, and an endless one is stopped by the step budget (#5962);
an exception in one call does not stop the other due calls (#6867).
"""

from __future__ import annotations

import gc
import math
import random
from collections import deque
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from itertools import islice, repeat
from typing import Any, ClassVar, TypeVar

from twisted.internet.base import DelayedCall
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.testing._errors import (
    Deadlock,
    NetworkRetired,
    RunUntilTimeout,
    StepBudgetExceeded,
    TimerErrors,
)
from poetry.testing._seed import current_test
from poetry.testing._trace import describe_callable, summarize_recent

__all__ = ["HALT", "SHUTDOWN", "Scheduler", "VirtualDelayedCall"]

#: The reactor core's signals to the run loop (see L{_LoopState.signals}).
SHUTDOWN = "shutdown"
HALT = "halt"

_T = TypeVar("_T")

_log = Logger()

_ThreadCall = tuple[Callable[..., Any], tuple[object, ...], dict[str, object]]

# Compact the timer heap when more than this many entries are stale and they
# are more than half of it.
_COMPACT_THRESHOLD = 256


class VirtualDelayedCall(DelayedCall):
    """
    A L{DelayedCall} on a L{Scheduler}'s virtual clock.  It behaves as
    Twisted's (C{cancel}, C{reset}, C{delay}, C{active}, C{getTime}); only
    the attributes a call always needs are set when it is made.

    @ivar _entry: the scheduling sequence number of this call's live entry
        in the timer heap; older entries for it (left behind by C{reset} or
        C{delay}) are stale and skipped.
    """

    _entry: int = -1

    def __init__(
        self,
        scheduler: Scheduler,
        time: float,
        func: Callable[..., Any],
        args: tuple[object, ...],
        kw: dict[str, object],
    ) -> None:
        self.time = time
        self.func = func
        self.args = args
        self.kw = kw
        self._scheduler = scheduler
        self._entry = -1
        self.cancelled = self.called = 0
        self.delayed_time = 0.0

    # DelayedCall's methods call these; as properties they cost nothing to
    # set up when a call is made.
    @property
    def canceller(self) -> Callable[[DelayedCall], None]:  # type: ignore[override]  # DelayedCall sets it in __init__
        return self._scheduler._cancelled

    @property
    def resetter(self) -> Callable[[DelayedCall], None]:  # type: ignore[override]  # as canceller
        return self._scheduler._moved_sooner

    @property
    def seconds(self) -> Callable[[], float]:  # type: ignore[override]  # as canceller
        return self._scheduler.seconds


class _LoopState:
    """
    What a network keeps beside its hot attributes: the run loop's, the
    reactor core's and the global-reactor guard's state, in one object.
    CPython shares the keys of instance dictionaries -- and specializes
    attribute access on them -- only up to 30 attributes; a network past
    that ran about 7 % slower, so new per-network state goes here.

    @ivar firing: whether C{_fire_due} is running (compaction must wait).
    @ivar compact_later: whether a compaction waits for it.
    @ivar thread_calls: the calls queued by C{callFromThread}; they run at
        the start of the next pass, before its timed calls, as on the real
        reactor.
    @ivar signals: the reactor core's requests to the run loop, looked at
        after the timed calls of each pass (an empty list costs one test):
        L{SHUTDOWN} (C{stop()} asked: fire the shutdown event) and L{HALT}
        (the core stopped: C{run()} returns at the end of the pass).
    @ivar halted: whether the core halted during the current C{run()}.
    @ivar looping: how many run loops are in progress.
    @ivar guard: the L{GlobalReactorGuard} watching this network, if any.
    @ivar running: C{IReactorCore.running}.
    @ivar started: as C{ReactorBase._started}: from C{startRunning} to
        C{crash}.
    @ivar stopped: as C{ReactorBase._stopped}: true until C{startRunning},
        and from C{stop()} on.
    @ivar started_before: as C{ReactorBase._startedBefore}: once stopped,
        never restarted.
    @ivar events: the system event triggers, by event name (created on
        first use).
    """

    __slots__ = (
        "compact_later",
        "events",
        "firing",
        "guard",
        "halted",
        "looping",
        "running",
        "signals",
        "started",
        "started_before",
        "stopped",
        "thread_calls",
    )

    def __init__(self) -> None:
        self.firing = False
        self.compact_later = False
        self.thread_calls: list[_ThreadCall] = []
        self.signals: list[str] = []
        self.halted = False
        self.looping = 0
        self.guard: Any = None
        self.running = False
        self.started = False
        self.stopped = True
        self.started_before = False
        self.events: dict[str, Any] | None = None


@implementer(IDelayedCall)
class LazyCall:
    """
    A timed call that becomes a L{VirtualDelayedCall} only if the clock has
    to move while it is pending (or somebody looks at the pending calls):
    a connector's timeout costs nothing when the connection is made in the
    same instant, which on a virtual clock is nearly always.  It behaves as
    the L{DelayedCall} it stands for.
    """

    __slots__ = ("args", "call", "cancelled", "func", "time")

    def __init__(
        self, time: float, func: Callable[..., Any], args: tuple[object, ...]
    ) -> None:
        self.time = time
        self.func = func
        self.args = args
        self.call: VirtualDelayedCall | None = None
        self.cancelled = False

    def getTime(self) -> float:
        call = self.call
        return self.time if call is None else call.getTime()

    def active(self) -> bool:
        call = self.call
        return not self.cancelled if call is None else call.active()

    def cancel(self) -> None:
        call = self.call
        if call is not None:
            call.cancel()
        elif self.cancelled:
            from twisted.internet.error import AlreadyCancelled

            raise AlreadyCancelled()
        else:
            self.cancelled = True
            self.args = ()

    def _real(self) -> VirtualDelayedCall:
        call = self.call
        if call is None:
            raise RuntimeError("a lazy call that was not made real")
        return call

    def reset(self, secondsFromNow: float) -> None:
        self._real().reset(secondsFromNow)

    def delay(self, secondsLater: float) -> None:
        self._real().delay(secondsLater)

    def __repr__(self) -> str:
        call = self.call
        if call is not None:
            return repr(call)
        return f"<LazyCall at t={self.time!r} {describe_callable(self.func)}>"


class _Spent:
    """
    What a timer bucket holds in place of a call it has handed out: the
    bucket lets go of the call at once, as the real reactor pops it off its
    heap, so that a fired call nobody else keeps is freed by reference
    counting before the calls it schedules are allocated (no garbage
    collector work for a steady stream of timers).  Its C{_entry} matches no
    sequence number, so every scan skips it as a stale entry.
    """

    __slots__ = ()
    _entry = -1


_SPENT = _Spent()

# The keyword arguments of the harness's own timers (never changed).
_NO_KEYWORDS: dict[str, object] = {}


class _RetiredQueue(deque[Callable[[], object]]):
    """
    The ready queue of a retired world: whatever is put in it raises
    L{NetworkRetired}.
    """

    def __init__(self, world: Scheduler) -> None:
        super().__init__()
        self._world = world

    def append(self, step: Callable[[], object]) -> None:
        if getattr(step, "connection_id", None) is not None:
            what = f"I/O on {step!r}"
        else:
            what = f"a step ({describe_callable(step)})"
        raise self._world._retired_error(what)


class Scheduler:
    """
    The ready queue, the timer heap, the virtual clock and the run loops.

    @ivar seed: the seed of this world (see L{MemoryNetwork}).
    @ivar test_id: the trial id of the running test, if a test case set it;
        used in the reproduction line of every error.
    @ivar step_budget: the most steps (ready steps plus timed calls) one
        C{run}, C{run_until} or C{advance} call may take.
    @ivar random: the one L{random.Random} of this world, seeded with
        C{seed}: every random choice of the harness is drawn from it.
    @ivar trace_checksums: whether each C{write} event also records a CRC-32
        of the bytes written.
    @ivar timer_errors: what happens when a timed call raises: C{"log"}
        (the default, as the real reactor: the error is logged -- trial then
        fails the test -- and the other calls run) or C{"raise"} (the run
        raises L{TimerErrors} once the calls due in that pass have run).
    @ivar defer_full_collections: whether the outermost C{run},
        C{run_until} or C{advance} loop defers CPython's full
        garbage collections until it returns (the young generations are
        still collected).  A full collection visits every live object, so
        with many connections alive they make the cost per connection grow
        with their number; deferring them keeps it flat (measured: -24 % at
        10,000 concurrent clients, -37 % at 100,000).  Process-wide while a
        loop runs; set to L{False} to leave the collector alone.
    @ivar idle_timer_limit: the most passes in a row of nothing but timed
        calls -- no byte moving, nothing pending from before they began --
        that C{run} or C{run_until} runs before reporting a timer that
        reschedules itself (L{StepBudgetExceeded}, C{cause="timers"});
        C{advance} and C{run_until(d, timeout=...)}, bounded in time, report
        only a C{callLater(0)} cascade.  L{None} turns the check off.
    """

    idle_timer_limit: int | None = 10_000
    defer_full_collections = True
    timer_errors = "log"

    def __init__(
        self,
        seed: int,
        step_budget: int,
        trace: bool = True,
        trace_checksums: bool = False,
    ) -> None:
        if step_budget < 1:
            raise ValueError(f"step_budget must be positive, not {step_budget!r}")
        self.seed = seed
        self.random = random.Random(seed)
        self.trace_checksums = trace_checksums
        self.test_id: str | None = None
        self.step_budget = step_budget
        self._now = 0.0
        self._ready: deque[Callable[[], object]] = deque()
        # Which kinds of step are scanned for readiness as a pass begins,
        # and how many steps at the head of the ready queue were scanned by
        # a pass that has not run them yet.
        self._scan_kinds: dict[type, bool] = {}
        self._scanned = 0
        # Lazy calls not made real yet (see LazyCall).
        self._lazy: list[LazyCall] = []
        # Bytes delivered to protocols so far (one increment per delivery, by
        # the pipes): tells data still flowing from a timer loop.
        self._moved = 0
        self._state = _LoopState()
        # Deferreds a run_until gave up on, by id: (the Deferred, the box
        # its result goes to).
        self._given_up: dict[int, tuple[Deferred[Any], list[object]]] = {}
        # Timers: a heap of the distinct times at which calls are due, and
        # for each of those times its calls in scheduling order, flat:
        # [sequence, call, sequence, call, ...] (no tuple per entry for the
        # garbage collector to track).  Calls due at the same time -- common
        # on a virtual clock -- cost no heap operation.
        self._times: list[float] = []
        self._buckets: dict[float, list[Any]] = {}
        self._sequence = 0
        self._stale = 0
        # The trace, flat: five items per event (see _trace.RawEvent).  With
        # tracing off, a zero-length deque drops every event at C speed.
        self._trace: list[Any] | deque[Any] = [] if trace else deque(maxlen=0)

    # IReactorTime

    def seconds(self) -> float:
        """
        The current virtual time, in seconds; starts at 0.
        """
        return self._now

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> IDelayedCall:
        """
        Call C{callable(*args, **kw)} after C{delay} virtual seconds.

        Calls due at the same time run in the order they were scheduled.

        An infinite C{delay} is accepted, as by the real reactor: the call
        is pending (listed by C{getDelayedCalls}, C{getTime()} infinite, can
        be cancelled or reset to a finite time) and never made; the clock
        never moves to it.

        @raise AssertionError: if C{delay} is negative or NaN, as on the
            real reactor (L{twisted.internet.task.Clock} accepts them).
        """
        if not delay >= 0:
            # As the real reactor (an assertion in ReactorBase.callLater).
            raise AssertionError(f"{delay} is not greater than or equal to 0 seconds")
        call = VirtualDelayedCall(self, self._now + delay, callable, args, kw)
        self._push(call)
        return call

    def _call_at(
        self, time: float, callable: Callable[..., Any], *args: object
    ) -> VirtualDelayedCall:
        """
        Call C{callable(*args)} at exactly the virtual time C{time} (no
        rounding through a relative delay); a time in the past runs in the
        next pass.  For the harness's own timers.
        """
        call = VirtualDelayedCall(self, time, callable, args, _NO_KEYWORDS)
        self._push(call)
        return call

    def _call_lazily(
        self, delay: float, callable: Callable[..., Any], *args: object
    ) -> LazyCall:
        """
        Call C{callable(*args)} after C{delay} seconds, as a L{LazyCall}: it
        joins the timers only if the clock moves while it is pending.
        """
        lazy = LazyCall(self._now + delay, callable, args)
        if delay > 0:
            lazies = self._lazy
            if len(lazies) >= 64 and lazies[0].cancelled:
                # Most are cancelled by now (a connector's timeout is, once
                # connected): forget those.
                lazies[:] = [one for one in lazies if not one.cancelled]
            lazies.append(lazy)
        else:
            # Due in this very instant: a real timer at once.
            call = lazy.call = VirtualDelayedCall(
                self, lazy.time, callable, args, _NO_KEYWORDS
            )
            self._push(call)
        return lazy

    def _make_lazy_calls_real(self) -> None:
        lazies = self._lazy
        if lazies:
            self._lazy = []
            for lazy in lazies:
                if not lazy.cancelled:
                    call = lazy.call = VirtualDelayedCall(
                        self, lazy.time, lazy.func, lazy.args, _NO_KEYWORDS
                    )
                    self._push(call)

    def getDelayedCalls(self) -> list[IDelayedCall]:
        """
        A new list of the pending (active) timed calls, soonest first.
        """
        return [call for _, _, call in self._live_timers()]

    def schedule_step(self, step: Callable[[], object]) -> None:
        """
        Run C{step()} in the next step (after what is ready now).
        """
        self._ready.append(step)

    # Retirement

    #: The id of the test whose end retired this world (see L{retire}), or
    #: L{None} while it is live.
    retired_by: str | None = None

    def retire(self, test_id: str | None = None) -> None:
        """
        End this world, as the end of its test does (L{MemoryNetworkTestCase}
        and the pytest fixture call this last): from now on anything that
        schedules work on it -- a transport's write, read or close, a
        listening port's accept, a timer (C{callLater}), a connection attempt
        -- raises L{NetworkRetired}, naming what it was and the test.  What
        it holds can still be read (trace, connections, timers).

        An object that outlives its test (a module-level connection pool
        built on an earlier test's network, a protocol cached across tests)
        would otherwise put work on a world nobody runs, and the test that
        uses it would hang on a timer loop or a deadlock with no visible
        cause.  The real reactor has nothing like it: it is one per process.

        @param test_id: the test that ended (default: C{test_id}).
        """
        self.retired_by = test_id or self.test_id or "<unnamed test>"
        self._ready = _RetiredQueue(self)
        self._push = self._retired_push  # type: ignore[method-assign]

    def _retired_push(self, call: VirtualDelayedCall) -> None:
        raise self._retired_error(f"a timer ({describe_callable(call.func)})")

    def _retired_error(self, what: str) -> NetworkRetired:
        retired_by = self.retired_by
        running = current_test()
        now = running.target if running is not None else None
        if now is not None and now != retired_by:
            during = (
                f", during {now!r}; it fails only when {retired_by!r} runs "
                "first in the same process (rerun both together)"
            )
        else:
            during = ""
        detail = (
            f"{what} was scheduled on the MemoryNetwork of {retired_by!r}, which "
            f"has ended{during}. An object made in that test outlived it and "
            "is still in use -- typically one kept by a module-level cache, "
            "such as a shared HTTP connection pool (treq's default pool: give "
            "treq an agent or pool of the test's own, "
            "HTTPClient(Agent(net)) or treq.get(url, reactor=net, "
            "pool=HTTPConnectionPool(net)), closed in a cleanup). Nothing "
            "scheduled there would ever run."
        )
        seed = self.seed
        if running is not None and running.seed is not None:
            seed = running.seed
        return NetworkRetired(detail, seed, now or retired_by, retired_by=retired_by)

    # Timers

    def _push(self, call: VirtualDelayedCall) -> None:
        sequence = self._sequence
        self._sequence = sequence + 1
        call._entry = sequence
        time = call.time
        bucket = self._buckets.get(time)
        if bucket is None:
            self._buckets[time] = [sequence, call]
            heappush(self._times, time)
        else:
            bucket += (sequence, call)

    def _cancelled(self, call: DelayedCall) -> None:
        self._stale += 1
        if self._stale > _COMPACT_THRESHOLD and 2 * self._stale > self._entries():
            if self._state.firing:
                # _fire_due holds a bucket of the heap: compact after it.
                self._state.compact_later = True
            else:
                self._compact()

    def _moved_sooner(self, call: DelayedCall) -> None:
        assert isinstance(call, VirtualDelayedCall)
        self._stale += 1
        self._push(call)

    def _entries(self) -> int:
        return sum(len(bucket) for bucket in self._buckets.values()) // 2

    def _compact(self) -> None:
        """
        Drop every stale entry (cancelled, called, or moved elsewhere).
        """
        buckets = self._buckets
        for time in list(buckets):
            bucket = buckets[time]
            live: list[Any] = []
            for index in range(0, len(bucket), 2):
                sequence, call = bucket[index], bucket[index + 1]
                if call._entry == sequence and call.active():
                    live += (sequence, call)
            if live:
                buckets[time] = live
            else:
                del buckets[time]
        self._times[:] = list(buckets)
        heapify(self._times)
        self._stale = 0

    def _live_timers(self) -> list[tuple[float, int, VirtualDelayedCall]]:
        if self._lazy:
            self._make_lazy_calls_real()
        live = [
            (call.getTime(), sequence, call)
            for bucket in self._buckets.values()
            for sequence, call in zip(bucket[::2], bucket[1::2], strict=True)
            if call._entry == sequence and call.active()
        ]
        live.sort(key=lambda entry: (entry[0], entry[1]))
        return live

    def _next_time(self) -> float | None:
        """
        The soonest time at which a live call is due (dropping stale entries
        and moving delayed calls on the way), or L{None} if there is none
        (calls at an infinite time are never due).
        """
        if self._lazy:
            self._make_lazy_calls_real()
        times = self._times
        buckets = self._buckets
        while times:
            time = times[0]
            bucket = buckets[time]
            index = 0
            while index < len(bucket):
                sequence, call = bucket[index], bucket[index + 1]
                if call._entry != sequence or not call.active():
                    index += 2
                elif call.delayed_time > 0.0:
                    index += 2
                    call.activate_delay()
                    self._push(call)
                else:
                    if index:
                        del bucket[:index]
                    return time if time != math.inf else None
            heappop(times)
            del buckets[time]
        return None

    def _fire_due(self, until: list[object] | None) -> int:
        """
        Run every live timed call due at or before now that was scheduled
        before this phase began, in (time, scheduling) order.  A call that
        raises is logged, as the real reactor does, and the others run
        (with C{timer_errors="raise"}: reported together as L{TimerErrors}
        after the others ran).

        @return: the number of calls made.
        @raise TimerErrors: if any call raised and C{timer_errors} is
            C{"raise"}.
        """
        state = self._state
        state.firing = True
        try:
            fired, failures = self._fire_due_calls(until)
        finally:
            state.firing = False
            if state.compact_later:
                state.compact_later = False
                self._compact()
        if failures:
            if self.timer_errors == "raise":
                raise self._timer_errors(failures)
            for failure in failures:
                _log.failure(
                    "Unhandled error in a timed call at t={now!r} (the real "
                    "reactor logs it too, and runs the other calls)",
                    failure=failure,
                    now=self._now,
                )
        return fired

    def _fire_due_calls(self, until: list[object] | None) -> tuple[int, list[Failure]]:
        times = self._times
        buckets = self._buckets
        now = self._now
        limit = self._sequence
        trace = self._trace
        failures: list[Failure] = []
        fired = 0
        while times and times[0] <= now:
            time = times[0]
            bucket = buckets[time]
            index = 0
            stop = False
            # The bucket may grow while we run it (calls scheduled for the
            # same time); those have sequence >= limit and wait.
            while index < len(bucket):
                sequence = bucket[index]
                if sequence >= limit:
                    stop = True
                    break
                call = bucket[index + 1]
                bucket[index + 1] = _SPENT
                index += 2
                if call._entry != sequence or call.cancelled or call.called:
                    continue
                if call.delayed_time > 0.0:
                    call.activate_delay()
                    self._push(call)
                    continue
                call.called = 1
                trace.extend((now, "timer", None, "", describe_callable(call.func)))
                fired += 1
                try:
                    if call.args or call.kw:
                        call.func(*call.args, **call.kw)
                    else:
                        call.func()
                except Exception:
                    failures.append(Failure())
                if until:
                    stop = True
                    break
            if index < len(bucket):
                del bucket[:index]
            else:
                heappop(times)
                del buckets[time]
            if stop:
                break
        return fired, failures

    def _timer_errors(self, failures: list[Failure]) -> TimerErrors:
        lines = [
            f"{len(failures)} timed call(s) raised at t={self._now!r}; every "
            "other call due in the same pass ran first:"
        ]
        for number, failure in enumerate(failures, 1):
            lines.append(f"--- failure {number} of {len(failures)} ---")
            lines.append(failure.getTraceback().rstrip())
        return TimerErrors("\n".join(lines), self.seed, self.test_id, failures=failures)

    # Running

    def _loop(
        self,
        what: str,
        until: list[object] | None,
        end: float | None,
        halt: bool = False,
    ) -> None:
        """
        Run passes until C{until} is not empty, or the world is quiet
        (nothing ready, no timer), or the next timer is after C{end}, or
        (with C{halt}) the reactor core halted.
        """
        ready = self._ready
        popleft = ready.popleft
        times = self._times
        state = self._state
        thread_calls = state.thread_calls
        signals = state.signals
        budget = self.step_budget
        # Every `window` steps, remember how many bytes had moved and how
        # many timed calls had run, so that an exceeded budget can tell data
        # still flowing from timers rescheduling themselves.
        window = max(1, budget // 8)
        check_at = min(window, budget)
        started_at = self._now
        steps = 0
        timed_steps = 0
        previous = mark = (0, self._moved, 0)
        idle = 0
        idle_limit = self.idle_timer_limit or 0
        idle_mark = (0, 0.0)
        state.looping += 1
        deferred_collections = None
        if state.looping == 1 and self.defer_full_collections:
            deferred_collections = gc.get_threshold()
            gc.set_threshold(deferred_collections[0], deferred_collections[1], 10**9)
        try:
            while True:
                fired = 0
                if thread_calls:
                    fired = self._run_thread_calls()
                    steps += fired
                    if until:
                        return
                if times and times[0] <= self._now:
                    timed = self._fire_due(until)
                    if timed:
                        fired += timed
                        steps += timed
                        timed_steps += timed
                        if until:
                            return
                if signals:
                    if SHUTDOWN in signals:
                        self._fire_shutdown()
                        fired += 1
                        steps += 1
                        if until:
                            return
                    if self._halt_signalled() and halt:
                        return
                count = len(ready)
                if count:
                    idle = 0
                    steps += self._scan(count)
                    if until is None:
                        self._scanned = 0
                        for _ in repeat(None, count):
                            popleft()()
                    else:
                        for left in range(count - 1, -1, -1):
                            self._scanned = left
                            popleft()()
                            if until:
                                return
                    if signals and halt and self._halt_signalled():
                        return
                elif not fired:
                    # Quiet at this time: move the clock to the next timer.
                    if not times and not self._lazy:
                        return
                    next_time = self._next_time()
                    if next_time is None or (end is not None and next_time > end):
                        return
                    self._now = next_time
                    continue
                elif idle_limit:
                    # A pass of timed calls only.
                    idle += 1
                    if idle == 1:
                        idle_mark = (self._sequence, self._now)
                    elif idle >= idle_limit:
                        if self._timer_loop(idle_mark, end is not None):
                            raise self._timer_loop_found(what, steps, idle)
                        idle = 0
                if steps > check_at:
                    if steps > budget:
                        raise self._budget_exceeded(
                            what,
                            steps,
                            steps - previous[0],
                            self._moved - previous[1],
                            timed_steps - previous[2],
                            self._now - started_at,
                        )
                    previous = mark
                    mark = (steps, self._moved, timed_steps)
                    check_at = min(steps + window, budget)
        finally:
            state.looping -= 1
            if deferred_collections is not None:
                gc.set_threshold(*deferred_collections)

    def _timer_loop(self, mark: tuple[int, float], bounded: bool) -> bool:
        """
        Whether the passes of nothing but timed calls since C{mark} (the
        timer sequence number and the time when they began; no step ran in
        them, so no byte was delivered and no connection changed) are a
        loop that nothing else can end: when the run is not bounded in time,
        every pending timer was scheduled by those passes (nothing pending
        from before, such as a timeout, that the run could be waiting for);
        when it is bounded, the clock did not move (a C{callLater(0)}
        cascade).
        """
        sequence, now = mark
        if bounded:
            return self._now == now
        live = self._live_timers()
        return bool(live) and all(entry >= sequence for _, entry, _ in live)

    def _halt_signalled(self) -> bool:
        """
        Whether the core signalled a halt (consuming the signal).
        """
        signals = self._state.signals
        if HALT not in signals:
            return False
        signals[:] = [signal for signal in signals if signal != HALT]
        return True

    def _run_thread_calls(self) -> int:
        """
        Run the calls queued by C{callFromThread} before this pass, in
        order; one that raises is logged (as the real reactor does) and the
        others still run.

        @return: how many ran.
        """
        calls = self._state.thread_calls
        count = len(calls)
        for func, args, kwargs in calls[:count]:
            try:
                func(*args, **kwargs)
            except Exception:
                _log.failure("while calling from thread")
        del calls[:count]
        return count

    def _fire_shutdown(self) -> None:
        """
        Consume the L{SHUTDOWN} signal and fire the shutdown that C{stop()}
        asked for (see L{poetry.testing._core.ReactorCore}, which provides
        it; the plain scheduler never asks for one).
        """
        raise NotImplementedError

    def run(self) -> None:
        """
        Deliver, complete, close and fire timers until nothing is left,
        moving the clock forward to the next timer whenever no step is
        ready (auto-advance).

        @raise StepBudgetExceeded: after more than C{step_budget} steps, or
            when only a self-rescheduling timer is left (see
            C{idle_timer_limit}).
        @raise TimerErrors: if timed calls raised (after the other calls due
            in the same pass ran).
        """
        self._state.halted = False
        self._halt_signalled()
        self._loop("run()", None, None, halt=True)

    def run_until(self, d: Deferred[_T], timeout: float | None = None) -> _T:
        """
        Run (with auto-advance) until C{d} has fired, and return its result
        or raise its failure's exception.  The result is consumed if it is a
        failure (so that it is not also logged as unhandled), also when it
        comes after this call gave up (L{RunUntilTimeout}, L{Deadlock},
        L{StepBudgetExceeded}): a later C{run_until(d)} then gets it.

        @param timeout: if given, give up once C{d} has not fired after that
            many I{virtual} seconds: the clock then stands at the start time
            plus C{timeout}.

        @raise Deadlock: if nothing is ready, no timer is left and C{d} has
            not fired.
        @raise RunUntilTimeout: if C{d} has not fired within C{timeout}.
        @raise StepBudgetExceeded: after more than C{step_budget} steps, or
            when only a self-rescheduling timer is left (see
            C{idle_timer_limit}).
        @raise TimerErrors: if timed calls raised.
        @raise ValueError: if C{timeout} is negative or not finite.
        """
        if not isinstance(d, Deferred):
            raise TypeError(f"run_until needs a Deferred, not {d!r}")
        end: float | None = None
        what = "run_until()"
        if timeout is not None:
            if not (timeout >= 0 and math.isfinite(timeout)):
                raise ValueError(
                    f"run_until timeout must be a finite number >= 0, not {timeout!r}"
                )
            end = self._now + timeout
            what = f"run_until(timeout={timeout!r})"
        # A Deferred an earlier run_until gave up on (timeout, deadlock,
        # budget) keeps that call's capture: its result lands in the same
        # box, for this call.
        given_up = self._given_up.pop(id(d), None)
        if given_up is not None and given_up[0] is d:
            outcome = given_up[1]
        else:
            outcome = []

            def capture(result: object) -> object:
                outcome.append(result)
                if isinstance(result, Failure):
                    return None
                return result

            # Not d.called: that is true as soon as d has a first result,
            # even while its callbacks wait on another Deferred.
            d.addBoth(capture)
        try:
            if not outcome:
                self._loop(what, outcome, end)
        finally:
            if not outcome:
                self._given_up[id(d)] = (d, outcome)
        if not outcome:
            if end is not None and self._next_time() is not None:
                self._now = max(self._now, end)
                raise RunUntilTimeout(
                    f"{what}: {d!r} has not fired after {timeout!r} virtual "
                    f"seconds (now t={self._now!r}).\n" + self._stuck_report(),
                    self.seed,
                    self.test_id,
                    timeout=timeout if timeout is not None else 0.0,
                )
            raise Deadlock(
                f"run_until({d!r}) cannot finish: at t={self._now!r} nothing "
                "is ready to run, no timer is left that will ever fire, and "
                "the Deferred has not fired.\n" + self._stuck_report(),
                self.seed,
                self.test_id,
            )
        result = outcome[0]
        if isinstance(result, Failure):
            result.raiseException()
        return result  # type: ignore[return-value]  # the result of d, a _T

    def advance(self, seconds: float) -> None:
        """
        Move the clock forward by C{seconds}, processing every ready step
        and every timed call due up to the new time, in time order, at its
        own time -- including calls scheduled by those calls within the
        window.  Afterwards C{seconds()} is the old time plus C{seconds}.
        C{advance(0)} processes everything that can happen without time
        passing.

        @raise ValueError: if C{seconds} is negative or not finite.
        @raise StepBudgetExceeded: after more than C{step_budget} steps, or
            when a C{callLater(0)} cascade is all that runs (see
            C{idle_timer_limit}).
        @raise TimerErrors: if timed calls raised.
        """
        if not (seconds >= 0 and math.isfinite(seconds)):
            raise ValueError(
                f"advance needs a finite number of seconds >= 0, not {seconds!r}"
            )
        end = self._now + seconds
        self._loop(f"advance({seconds!r})", None, end)
        if self._now < end:
            self._now = end

    def _can_run_now(self) -> bool:
        return bool(
            self._ready
            or self._state.thread_calls
            or SHUTDOWN in self._state.signals
            or (self._times and self._times[0] <= self._now)
        )

    def step(self) -> bool:
        """
        Run one pass: the timed calls due now, then the steps ready now.  If
        nothing can run at the current time, first move the clock to the
        next timer.

        @return: L{True} if anything ran, L{False} if the world is quiet.
        @raise TimerErrors: if timed calls raised.
        """
        if not self._can_run_now():
            next_time = self._next_time()
            if next_time is None:
                return False
            self._now = next_time
        return self._pass()

    def _pass(self) -> bool:
        """
        One pass at the current time: calls from threads, the timed calls
        due, a requested shutdown, then the steps ready now.

        @return: whether anything ran.
        """
        ran = 0
        if self._state.thread_calls:
            ran += self._run_thread_calls()
        if self._times and self._times[0] <= self._now:
            ran += self._fire_due(None)
        if SHUTDOWN in self._state.signals:
            self._fire_shutdown()
            ran += 1
        self._halt_signalled()
        count = len(self._ready)
        self._scan(count)
        self._scanned = 0
        for _ in range(count):
            self._ready.popleft()()
        return bool(ran or count)

    def _scan(self, count: int) -> int:
        """
        The start of a pass of the C{count} first ready steps, as
        C{epoll_wait}: each step that dispatches on readiness (a
        transport, a port) notes the events it shows now, before any step
        of the pass runs, and those still showing events stay in the ready
        queue for the next pass, in this order, ahead of what becomes ready
        while this pass runs (level-triggered epoll puts them back in its
        ready list as it reports them).  Steps scanned by a pass that
        returned before running them all (C{run_until}'s Deferred fired)
        run as scanned then.

        @return: how many of the steps count against the step budget: not
            those scanned before, nor those that will do nothing (an end no
            longer ready, a stale entry).
        """
        kinds = self._scan_kinds
        ready = self._ready
        start = self._scanned
        if start >= count:
            return 0
        quiet = 0
        again = []
        for item in islice(ready, start, count):
            kind = item.__class__
            scans = kinds.get(kind)
            if scans is None:
                scans = kinds[kind] = hasattr(kind, "_scan")
            if scans:
                if item._scan():  # type: ignore[attr-defined]  # a kind with _scan
                    again.append(item)
                else:
                    quiet += 1
        if again:
            ready.extend(again)
        return count - start - quiet

    # Diagnostics

    def describe(self) -> str:
        """
        A readable description of everything still pending.
        """
        return self._describe_timers()

    def _describe_timers(self) -> str:
        live = self._live_timers()
        if not live:
            return "Pending timers: none"
        lines = [f"Pending timers ({len(live)}):"]
        for time, _, call in live[:20]:
            lines.append(f"  at t={time!r}: {describe_callable(call.func)}")
        if len(live) > 20:
            lines.append(f"  ... and {len(live) - 20} more")
        return "\n".join(lines)

    def _stuck_report(self) -> str:
        """
        What L{Deadlock} and L{RunUntilTimeout} show: the description of
        everything pending, then hints (global-reactor activity, the state
        of the reactor core).
        """
        return "\n".join([self.describe(), *self._stuck_hints()])

    # What else may explain a stuck run: functions of the scheduler giving a
    # hint or None (the global-reactor guard registers one).
    stuck_hint_providers: ClassVar[list[Callable[[Scheduler], str | None]]] = []

    def _stuck_hints(self) -> list[str]:
        hints = []
        for provider in self.stuck_hint_providers:
            hint = provider(self)
            if hint is not None:
                hints.append(hint)
        return hints

    def _recent(self) -> list[str]:
        lines = ["Most frequent recent events:"]
        lines.extend(f"  {line}" for line in summarize_recent(self._trace))
        if self._ready:
            kinds: dict[str, int] = {}
            for pending in self._ready:
                key = describe_callable(pending)
                kinds[key] = kinds.get(key, 0) + 1
            summary = ", ".join(f"{n} x {key}" for key, n in sorted(kinds.items()))
            lines.append(f"Ready steps ({len(self._ready)}): {summary}")
        return lines

    def _budget_exceeded(
        self,
        what: str,
        steps: int,
        window: int,
        moved: int,
        timed: int,
        elapsed: float = 0.0,
    ) -> StepBudgetExceeded:
        lines = [
            f"{what} took {steps} steps, more than the step budget of "
            f"{self.step_budget}, and was still busy at t={self._now!r} "
            "(virtual seconds)."
        ]
        if moved:
            cause = "data"
            lines.append(
                f"Data is still flowing: {moved} bytes moved in the last "
                f"{window} steps."
            )
        elif 2 * timed > window:
            cause = "timers"
            lines.append(
                f"No data moved in the last {window} steps, {timed} of which "
                "were timed calls: a timer reschedules itself."
            )
        else:
            cause = "steps"
            lines.append(
                f"No data moved in the last {window} steps, yet steps kept running."
            )
        lines.extend(self._recent())
        lines.append(self.describe())
        if cause == "data":
            lines.append(
                "The work may simply be long -- one-byte chunking of a large "
                "body takes a step per byte -- or protocols answer each other "
                "endlessly."
            )
            if timed and elapsed > 0:
                lines.append(
                    f"Timed calls drove part of it ({timed} of the last {window} "
                    f"steps, and the clock moved {elapsed:g} virtual seconds "
                    "during this run): a keepalive or heartbeat (a PING and its "
                    "PONG every so often) keeps bytes moving while the run waits "
                    "for something that will not come.  Bound such a run: "
                    "run_until(d, timeout=seconds) or advance(seconds)."
                )
        elif cause == "timers":
            lines.append(
                "Something reschedules itself forever: a callLater(0) cascade, "
                "a LoopingCall or other periodic timer under run() (bound it "
                "with advance(seconds) or run_until(d))."
            )
        else:
            lines.append(
                "Something keeps the world busy without moving data: a client "
                "that reconnects at once after every failure, a producer that "
                "writes nothing, or protocols that answer each other "
                "endlessly with empty exchanges."
            )
        lines.append(
            "If the work is genuinely this long, raise the budget: "
            "MemoryNetwork(step_budget=...) or net.step_budget = ..."
        )
        return StepBudgetExceeded(
            "\n".join(lines),
            self.seed,
            self.test_id,
            steps=steps,
            cause=cause,
            bytes_moved=moved,
            window=window,
        )

    def _timer_loop_found(self, what: str, steps: int, idle: int) -> StepBudgetExceeded:
        lines = [
            f"{what} ran {idle} passes in a row of nothing but timed calls, "
            f"up to t={self._now!r} (virtual seconds), with no data moving and "
            "nothing pending from before they began: a timer reschedules "
            "itself and nothing else can happen, so this would only end at "
            f"the step budget ({self.step_budget})."
        ]
        lines.extend(self._recent())
        lines.append(self.describe())
        lines.extend(self._stuck_hints())
        lines.append(
            "A LoopingCall or other periodic timer (or a callLater(0) "
            "cascade) keeps the world busy while nothing else happens: bound "
            "the run with advance(seconds) or run_until(d, timeout=...), stop "
            "the timer first, or -- if these timers make progress on their "
            "own -- raise net.idle_timer_limit (None turns this check off)."
        )
        return StepBudgetExceeded(
            "\n".join(lines),
            self.seed,
            self.test_id,
            steps=steps,
            cause="timers",
            bytes_moved=0,
            window=idle,
        )
