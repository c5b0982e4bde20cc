"""
L{ReactorCore}: the L{IReactorCore<twisted.internet.interfaces.IReactorCore>} of
L{MemoryNetwork} -- C{run}, C{stop}, C{crash}, C{callWhenRunning}, system
event triggers -- and C{callFromThread} (of
L{IReactorFromThreads<twisted.internet.interfaces.IReactorFromThreads>}), on
the scheduler's run loop.

The semantics are those of Twisted's C{ReactorBase}, checked against real
reactors by C{tests/core_contract.py}:

  - C{run()} fires the I{startup} event (its I{during} phase sets
    C{running}; C{callWhenRunning} calls are I{after startup} triggers);
  - C{stop()} only asks: the I{shutdown} event fires after the timed calls of
    the next pass (of the current pass, when C{stop} is called by a timed
    call), as after C{runUntilCurrent} on the real reactor;
  - each event fires its I{before} triggers, waits for the L{Deferred}s they
    returned, then runs its I{during} and I{after} triggers; the first
    I{during shutdown} triggers are C{crash}, which ends C{running}, and
    C{disconnectAll}, which disconnects what is still registered;
  - a trigger that raises is logged, and the others still run;
  - C{callFromThread} calls run at the start of the next pass, before its
    timed calls.

Where the real C{run()} would block for ever, the network cannot: see
L{ReactorCore.run}.
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.error import (
    ReactorAlreadyRunning,
    ReactorNotRestartable,
    ReactorNotRunning,
)
from twisted.internet.main import CONNECTION_LOST
from twisted.logger import Logger
from twisted.python.failure import Failure

from poetry.testing._clock import HALT, SHUTDOWN, Scheduler
from poetry.testing._errors import Deadlock
from poetry.testing._trace import describe_callable

__all__ = ["ReactorCore"]

_log = Logger()

_Trigger = tuple[Callable[..., Any], tuple[object, ...], dict[str, object]]
_Handle = tuple[str, Callable[..., Any], tuple[object, ...], dict[str, object]]


class _Event:
    """
    The triggers of one system event, in three phases; the behaviour of
    Twisted's C{_ThreePhaseEvent}.

    @ivar waiting: the I{before} triggers whose L{Deferred} the last firing
        still waits for, with those Deferreds.
    """

    def __init__(self) -> None:
        self.before: list[_Trigger] = []
        self.during: list[_Trigger] = []
        self.after: list[_Trigger] = []
        self.state = "BASE"
        self.finished_before: list[_Trigger] = []
        self.waiting: list[tuple[Callable[..., Any], Deferred[object]]] = []

    def _phase(self, phase: str) -> list[_Trigger]:
        if phase == "before":
            return self.before
        if phase == "during":
            return self.during
        if phase == "after":
            return self.after
        raise KeyError("invalid phase")

    def add(
        self,
        phase: str,
        callable: Callable[..., Any],
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> _Handle:
        self._phase(phase).append((callable, args, kwargs))
        return (phase, callable, args, kwargs)

    def remove(self, handle: object) -> None:
        if not (isinstance(handle, tuple) and len(handle) == 4):
            raise ValueError("invalid trigger handle")
        phase, callable, args, kwargs = handle
        trigger = (callable, args, kwargs)
        if (
            self.state == "BEFORE"
            and phase == "before"
            and trigger in self.finished_before
        ):
            warnings.warn(
                "Removing already-fired system event triggers will raise an "
                "exception in a future version of Twisted.",
                category=DeprecationWarning,
                stacklevel=3,
            )
            return
        self._phase(phase).remove(trigger)

    def user_triggers(self, *builtins: object) -> list[_Trigger]:
        return [
            trigger
            for trigger in (*self.before, *self.during, *self.after)
            if trigger[0] not in builtins
        ]

    def fire(self) -> None:
        self.state = "BEFORE"
        self.finished_before = []
        results: list[Deferred[object]] = []
        self.waiting = []
        while self.before:
            callable, args, kwargs = self.before.pop(0)
            self.finished_before.append((callable, args, kwargs))
            result = None
            try:
                result = callable(*args, **kwargs)
            except Exception:
                _log.failure("While calling system event trigger handler")
            if isinstance(result, Deferred):
                results.append(result)
                self.waiting.append((callable, result))
        DeferredList(results).addCallback(self._continue)

    def _continue(self, ignored: object) -> None:
        self.state = "BASE"
        self.finished_before = []
        self.waiting = []
        for phase in (self.during, self.after):
            while phase:
                callable, args, kwargs = phase.pop(0)
                try:
                    callable(*args, **kwargs)
                except Exception:
                    _log.failure("While calling system event trigger handler")


def _describe_triggers(triggers: list[_Trigger]) -> str:
    return ", ".join(describe_callable(trigger[0]) for trigger in triggers)


class ReactorCore(Scheduler):
    """
    L{IReactorCore<twisted.internet.interfaces.IReactorCore>} and C{callFromThread} over
    the scheduler's run loop.

    The network runs timers and connections whenever a test drives it
    (C{run}, C{run_until}, C{advance}, C{step}), whether or not the reactor
    core is running: the core's state matters only to code that asks --
    C{running}, C{callWhenRunning}, C{stop}, system events.  C{run()} starts
    it, as a real reactor's C{run()} does.
    """

    @property
    def running(self) -> bool:
        """
        L{True} from the I{during startup} phase to the I{during shutdown}
        phase (or C{crash}), as on the real reactor.
        """
        return self._state.running

    # Events

    def _events(self) -> dict[str, _Event]:
        table: dict[str, _Event] | None = self._state.events
        if table is None:
            table = self._state.events = {"startup": _Event(), "shutdown": _Event()}
            table["startup"].add("during", self._really_start_running, (), {})
            table["shutdown"].add("during", self.crash, (), {})
            table["shutdown"].add("during", self.disconnectAll, (), {})
        return table

    def _event(self, eventType: str) -> _Event:
        table = self._events()
        event = table.get(eventType)
        if event is None:
            event = table[eventType] = _Event()
        return event

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[..., Any],
        *args: object,
        **kwargs: object,
    ) -> Any:
        """
        Call C{callable(*args, **kwargs)} in the C{phase} (C{"before"},
        C{"during"} or C{"after"}) of the system event C{eventType} (such as
        C{"startup"} or C{"shutdown"}).  A L{Deferred} returned by a
        I{before} trigger is waited for before the I{during} phase.

        @return: an identifier for L{removeSystemEventTrigger}.
        @raise KeyError: if C{phase} is not one of the three.
        """
        assert builtins.callable(callable), f"{callable} is not callable"
        return (eventType, self._event(eventType).add(phase, callable, args, kwargs))

    def removeSystemEventTrigger(self, triggerID: Any) -> None:
        """
        Remove a trigger added by L{addSystemEventTrigger}.

        @raise ValueError: if it was removed (or has run) already, or the
            identifier is not one.
        @raise KeyError: if the identifier names an event that has no
            triggers.
        """
        eventType, handle = triggerID
        self._events()[eventType].remove(handle)

    def fireSystemEvent(self, eventType: str) -> None:
        """
        Fire the triggers of C{eventType} now (I{before}, then -- once their
        L{Deferred}s fired -- I{during} and I{after}).
        """
        event = self._events().get(eventType)
        if event is not None:
            event.fire()

    def callWhenRunning(
        self, callable: Callable[..., Any], *args: object, **kwargs: object
    ) -> Any | None:
        """
        Call C{callable(*args, **kwargs)} now if the core is running, else
        once C{run()} has started it (an I{after startup} trigger).

        @return: L{None} if called now, else the trigger's identifier.
        """
        if self.running:
            callable(*args, **kwargs)
            return None
        return self.addSystemEventTrigger("after", "startup", callable, *args, **kwargs)

    # IReactorFromThreads

    def callFromThread(
        self, callable: Callable[..., Any], *args: object, **kwargs: object
    ) -> None:
        """
        Call C{callable(*args, **kwargs)} soon: at the start of the next pass,
        before its timed calls, as the real reactor runs calls from threads
        before its timed calls.  One that raises is logged.  Queuing is safe
        from another thread, but the network does not wait for threads: a
        test that starts one must itself wait for it before driving the
        network.
        """
        assert builtins.callable(callable), f"{callable} is not callable"
        self._state.thread_calls.append((callable, args, kwargs))

    # Running

    def _really_start_running(self) -> None:
        self._state.running = True

    def startRunning(self, installSignalHandlers: bool = True) -> None:
        """
        Start the reactor core without running anything else: fire the
        I{startup} event (its I{during} phase sets C{running}, its I{after}
        phase makes the C{callWhenRunning} calls).  C{run()} calls it; a test
        that drives the network with C{run_until} or C{advance} may call it
        to start services waiting in C{callWhenRunning}.

        @param installSignalHandlers: ignored (no signal is ever handled).
        @raise ReactorAlreadyRunning: if the core has started already.
        @raise ReactorNotRestartable: if it was stopped before.
        """
        if self._state.started:
            raise ReactorAlreadyRunning()
        if self._state.started_before:
            raise ReactorNotRestartable()
        self._state.started = True
        self._state.stopped = False
        self.fireSystemEvent("startup")

    def run(self, installSignalHandlers: bool = True) -> None:
        """
        Start the reactor core if it has not started (L{startRunning}), then
        run until it has stopped -- C{stop()} and the whole shutdown, or
        C{crash()} -- or until nothing is left to run.

        This is C{IReactorCore.run} and the harness's "run until quiet" at
        once.  A real reactor with nothing left to do waits for ever; the
        network returns then, so that a test regains control -- unless some
        code waits for the reactor to stop (a I{shutdown} trigger is
        registered, as C{task.react}, C{twistd} and applications do, or a
        shutdown is under way): then the real C{run()} would never return,
        and this one raises L{Deadlock}.  After the core has stopped, C{run()}
        keeps running the network until quiet (so a test can drain it), but
        refuses to start the core again if code waits for a new start
        (L{ReactorNotRestartable}, as the real reactor).

        @param installSignalHandlers: ignored (no signal is ever handled).
        @raise ReactorAlreadyRunning: if called from inside a run of the
            network (a nested C{run()}).
        @raise Deadlock: if nothing is left to run while code waits for the
            reactor to stop.
        @raise StepBudgetExceeded: see L{Scheduler.run}.
        @raise TimerErrors: see L{Scheduler.run}.
        """
        if self._state.looping:
            raise ReactorAlreadyRunning()
        if not self._state.started and (
            not self._state.started_before or self._startup_waiting()
        ):
            self.startRunning(installSignalHandlers)
        super().run()
        if self._state.halted or not self._state.started:
            return
        problem = self._shutdown_problem()
        if problem is not None:
            raise Deadlock(
                f"run() cannot finish: at t={self._now!r} nothing is left to "
                f"run, and {problem}\n" + self._stuck_report(),
                self.seed,
                self.test_id,
            )

    def _startup_waiting(self) -> bool:
        return bool(self._events()["startup"].user_triggers(self._really_start_running))

    def _shutdown_problem(self) -> str | None:
        """
        Why the running core cannot stop, if code waits for it to.
        """
        shutdown = self._events()["shutdown"]
        if self._state.stopped:
            return (
                "the shutdown asked for by stop() waits for the Deferreds "
                "returned by before-shutdown triggers that will not fire: "
                f"{self._waiting_triggers()}."
            )
        triggers = shutdown.user_triggers(self.crash, self.disconnectAll)
        if not triggers:
            return None
        return (
            "the reactor is running and code waits for it to stop "
            f"(shutdown triggers: {_describe_triggers(triggers)}), but "
            "nothing will stop it: a real reactor's run() would never return.  "
            "Stop it (net.stop(), e.g. net.callLater(t, net.stop)), or make "
            "what should stop it happen."
        )

    def _waiting_triggers(self) -> str:
        waiting = self._events()["shutdown"].waiting
        pending = [describe_callable(c) for c, d in waiting if not d.called]
        # A Deferred that has a result but waits on another one still holds
        # the shutdown: then name every trigger still awaited.
        return ", ".join(pending or [describe_callable(c) for c, _ in waiting])

    def stop(self) -> None:
        """
        Ask the core to stop: the I{shutdown} event fires after the timed
        calls of the next pass (of this pass, when called by a timed call);
        C{run()} returns once its I{during} phase has run.

        @raise ReactorNotRunning: if the core is not running, or a stop is
            already under way.
        """
        if self._state.stopped:
            raise ReactorNotRunning("Can't stop reactor that isn't running.")
        self._state.stopped = True
        self._state.signals.append(SHUTDOWN)
        self._state.started_before = True

    def _fire_shutdown(self) -> None:
        self._state.signals.remove(SHUTDOWN)
        self.fireSystemEvent("shutdown")

    def crash(self) -> None:
        """
        Stop at once, without the shutdown triggers: C{running} is L{False}
        and C{run()} returns at the end of the current pass; C{run()} may
        start the core again.
        """
        state = self._state
        state.started = False
        state.running = False
        state.halted = True
        state.signals.append(HALT)
        self._event("startup").add("during", self._really_start_running, (), {})

    def _selectables(self) -> list[Any]:
        """
        What a real reactor would have registered for reading or writing:
        the objects the shutdown disconnects (none at this layer).
        """
        return []

    def disconnectAll(self) -> None:
        """
        Disconnect everything still registered for reading or writing, as
        the real reactor's C{disconnectAll} does in the I{during} phase of
        the shutdown (after C{crash}): each open connection, connection
        attempt in progress and listening port gets
        C{connectionLost(Failure(ConnectionLost()))}; an error is logged and
        the others go on.  A connection registered for nothing (paused,
        with nothing to send) is left open, as there.  The real reactor goes
        through a set, in no defined order: the network draws the order
        from its seed.
        """
        selectables = self._selectables()
        for selectable in selectables:
            # The reactor's removeReader and removeWriter.
            selectable.stopReading()
            if hasattr(selectable, "stopWriting"):
                selectable.stopWriting()
        self.random.shuffle(selectables)
        for selectable in selectables:
            try:
                selectable.connectionLost(Failure(CONNECTION_LOST))
            except Exception:
                _log.failure(
                    "Unhandled error disconnecting {selectable} at shutdown (the "
                    "real reactor logs it too)",
                    selectable=selectable,
                )

    def iterate(self, delay: float = 0.0) -> None:
        """
        Run one pass; if nothing can run now, first move the clock to the
        next timer, but by no more than C{delay} virtual seconds (the real
        reactor waits that long for I/O).

        @raise TimerErrors: if timed calls raised.
        """
        if not self._can_run_now():
            target = self._now + delay
            next_time = self._next_time()
            if next_time is not None and next_time < target:
                target = next_time
            self._now = target
        self._pass()

    # Diagnostics

    def _stuck_hints(self) -> list[str]:
        hints = super()._stuck_hints()
        events = self._events()
        startup = events["startup"].user_triggers(self._really_start_running)
        if not self._state.started and startup:
            hints.append(
                f"{len(startup)} call(s) wait for the reactor core to start "
                f"(callWhenRunning or startup triggers: "
                f"{_describe_triggers(startup)}): run() or startRunning() "
                "starts it."
            )
        if self._state.started and self._state.stopped:
            hints.append(
                "The shutdown asked for by stop() waits for the Deferreds of "
                f"these before-shutdown triggers: {self._waiting_triggers()}"
            )
        return hints
