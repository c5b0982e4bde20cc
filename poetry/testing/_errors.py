"""
The exceptions the harness raises.  Every one derives from L{HarnessError},
carries the network's seed and ends its message with a one-line reproduction.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.python.failure import Failure

from poetry.testing._seed import reproduction_line

__all__ = [
    "Deadlock",
    "GlobalReactorUsed",
    "HarnessError",
    "NetworkRetired",
    "NondeterminismError",
    "RunUntilTimeout",
    "StepBudgetExceeded",
    "TimerErrors",
    "Unclean",
]


class HarnessError(Exception):
    """
    Base class of every error raised by L{poetry.testing}.

    @ivar seed: the seed of the network (or scenario) that failed.
    @ivar test_id: the trial id of the test, if it was known.
    @ivar detail: the message without the reproduction line.
    """

    def __init__(self, detail: str, seed: int, test_id: str | None = None) -> None:
        self.detail = detail
        self.seed = seed
        self.test_id = test_id
        super().__init__(f"{detail.rstrip()}\n{reproduction_line(seed, test_id)}")

    def __str__(self) -> str:
        return str(self.args[0])


class Deadlock(HarnessError):
    """
    L{MemoryNetwork.run_until} was waiting for a
    L{Deferred<twisted.internet.defer.Deferred>} that can no longer fire: no
    delivery is pending and no timer is left.  The message lists the open
    connections, listening ports, connection attempts and timers.
    """


class StepBudgetExceeded(HarnessError):
    """
    A single C{run}, C{run_until} or C{advance} call took more steps than the
    network's C{step_budget}, or C{run}/C{run_until} found a timer loop (see
    C{idle_timer_limit}).  The message tells the causes apart:

      - C{cause == "data"}: data was still flowing (C{bytes_moved} bytes
        delivered in the last C{window} steps) -- long work, such as one-byte
        chunking of a large body, or two protocols that answer each other
        endlessly;
      - C{cause == "timers"}: no data moved and timed calls kept running --
        a timer that reschedules itself (a C{callLater(0)} cascade, a
        L{LoopingCall<twisted.internet.task.LoopingCall>});
      - C{cause == "steps"}: no data moved, yet steps kept running (a
        reconnect loop, for instance).

    @ivar steps: the number of steps taken.
    @ivar cause: C{"data"}, C{"timers"} or C{"steps"}.
    @ivar bytes_moved: the bytes delivered in the last C{window} steps.
    @ivar window: the number of recent steps C{bytes_moved} counts.
    """

    def __init__(
        self,
        detail: str,
        seed: int,
        test_id: str | None = None,
        *,
        steps: int = 0,
        cause: str = "steps",
        bytes_moved: int = 0,
        window: int = 0,
    ) -> None:
        super().__init__(detail, seed, test_id)
        self.steps = steps
        self.cause = cause
        self.bytes_moved = bytes_moved
        self.window = window


class RunUntilTimeout(HarnessError):
    """
    C{run_until(d, timeout=seconds)}: C{d} had not fired after that many
    I{virtual} seconds.  The message lists what is still open or pending, as
    L{Deadlock}'s does.

    @ivar timeout: the timeout, in virtual seconds.
    """

    def __init__(
        self, detail: str, seed: int, test_id: str | None = None, *, timeout: float
    ) -> None:
        super().__init__(detail, seed, test_id)
        self.timeout = timeout


class Unclean(HarnessError):
    """
    L{MemoryNetwork.assert_clean} found pending timers, open connections,
    connection attempts or listening ports.
    """


class GlobalReactorUsed(HarnessError):
    """
    While a test ran, code scheduled work on the global reactor
    (C{twisted.internet.reactor}) or the global
    L{Cooperator<twisted.internet.task.Cooperator>} (C{task.cooperate}) instead of the
    L{MemoryNetwork}: delayed calls, cooperative tasks, readers or writers that never
    run while the network is driven.  Raised by L{GlobalReactorGuard.check}; the message
    names each callable, the line that scheduled it and the fix.

    @ivar activity: what was scheduled (L{GlobalActivity} records).
    """

    def __init__(
        self,
        detail: str,
        seed: int,
        test_id: str | None = None,
        *,
        activity: Sequence[object] = (),
    ) -> None:
        super().__init__(detail, seed, test_id)
        self.activity = list(activity)


class NetworkRetired(HarnessError):
    """
    Work was scheduled on a network whose test has ended (see
    L{MemoryNetwork.retire<poetry.testing.MemoryNetwork.retire>}): an object
    made in an earlier test -- typically one kept by a module-level cache,
    such as a shared connection pool -- is still in use, and what it
    schedules would never run.  The real reactor has no such state (there is
    one reactor per process); the harness reports it because the usual
    symptom otherwise is a later test hanging with no visible cause.

    @ivar retired_by: the id of the test the network belonged to.
    """

    def __init__(
        self,
        detail: str,
        seed: int,
        test_id: str | None = None,
        *,
        retired_by: str | None = None,
    ) -> None:
        super().__init__(detail, seed, test_id)
        self.retired_by = retired_by


class NondeterminismError(HarnessError):
    """
    L{assert_deterministic} ran a scenario twice with the same seed and the
    two traces differ.

    @ivar index: the index of the first differing trace event.
    """

    def __init__(
        self, detail: str, seed: int, test_id: str | None = None, *, index: int = 0
    ) -> None:
        super().__init__(detail, seed, test_id)
        self.index = index


class TimerErrors(HarnessError):
    """
    One or more timed calls (C{callLater}) raised an exception.  The harness
    runs every other call that was due in the same pass first (unlike
    L{twisted.internet.task.Clock}, which stops at the first exception) and
    then raises this error.

    @ivar failures: the L{Failure} of each call that raised, in the order
        they ran.
    """

    def __init__(
        self,
        detail: str,
        seed: int,
        test_id: str | None = None,
        *,
        failures: Sequence[Failure] = (),
    ) -> None:
        super().__init__(detail, seed, test_id)
        self.failures = list(failures)
