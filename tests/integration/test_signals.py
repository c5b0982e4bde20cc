"""
A server's start-up line is a promise: once C{poetry: serving ... on
HOST:PORT} is printed, SIGINT and SIGTERM mean a clean shutdown with exit
status 0, however soon after the line they come.

Each run starts C{python -m poetry serve} as a real subprocess and sends
the signal from the very callback that sees the line (no delay at all).
The runs go a few at a time; each is bounded in time, and a process still
running after its bound is killed (SIGKILL), reaped and reported as hung.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, DeferredSemaphore, gatherResults
from twisted.internet.interfaces import IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from tests.integration.test_cli import _environment

RUNS_PER_SIGNAL = 50
"""
How many runs each of SIGINT and SIGTERM gets.
"""

AT_ONCE = 4
"""
How many servers run at the same time.
"""

RUN_TIMEOUT = 30.0
"""
Seconds a run may take from its start to its end; then it is hung.
"""

_SERVING = re.compile(rb"^poetry: serving .+ on 127\.0\.0\.1:\d+$", re.MULTILINE)


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class _SignalledServer(ProcessProtocol):
    """
    A server that gets C{signal} the moment its start-up line arrives.
    """

    def __init__(self, signal: str) -> None:
        self.signal = signal
        self.out = b""
        self.err = b""
        self.signalled = False
        self.hung = False
        self.reason: Failure | None = None
        self.ended: Deferred[None] = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out += data
        if not self.signalled and _SERVING.search(self.out):
            self.signalled = True
            assert self.transport is not None
            self.transport.signalProcess(self.signal)

    def errReceived(self, data: bytes) -> None:
        self.err += data

    def processEnded(self, reason: Failure) -> None:
        self.reason = reason
        self.ended.callback(None)

    def outcome(self) -> str:
        """
        C{"ok"} for a clean exit with status 0 after the signal, else what
        went wrong.
        """
        assert self.reason is not None
        ended: Any = self.reason.value
        if self.hung:
            what = "hung (killed)"
        elif not self.signalled:
            what = "ended before its start-up line"
        elif (ended.exitCode, ended.signal) != (0, None):
            what = f"exit status {ended.exitCode}, signal {ended.signal}"
        else:
            return "ok"
        return (
            f"SIG{self.signal}: {what}\n  stdout: {self.out!r}\n"
            f"  stderr: {self.err[-2000:]!r}"
        )


class ImmediateSignalTests(TestCase):
    """
    SIGINT and SIGTERM sent the instant the start-up line is read.
    """

    timeout = 300

    def run_one(self, signal: str) -> Deferred[str]:
        """
        Start a server, signal it at its start-up line, wait for its end
        (killing it after L{RUN_TIMEOUT}); fire with its outcome.
        """
        cwd = Path(self.mktemp())
        cwd.mkdir(parents=True)
        server = _SignalledServer(signal)
        reactor: IReactorProcess = _reactor()
        transport = reactor.spawnProcess(
            server,
            sys.executable,
            [sys.executable, "-m", "poetry", "serve", "--poem", "cafe"],
            env=_environment(),
            path=str(cwd),
        )
        transport.closeStdin()

        def hung() -> None:
            server.hung = True
            transport.signalProcess("KILL")

        clock: IReactorTime = _reactor()
        timer = clock.callLater(RUN_TIMEOUT, hung)

        def ended(ignored: None) -> str:
            if timer.active():
                timer.cancel()
            return server.outcome()

        return server.ended.addCallback(ended)

    async def test_signal_at_once(self) -> None:
        """
        L{RUNS_PER_SIGNAL} runs with SIGINT and as many with SIGTERM, the
        signal sent as soon as the line is read: every server exits with
        status 0, none is killed by the signal, none hangs.
        """
        semaphore = DeferredSemaphore(AT_ONCE)
        signals = ["INT", "TERM"] * RUNS_PER_SIGNAL
        outcomes: list[str] = await gatherResults(
            [semaphore.run(self.run_one, signal) for signal in signals]
        )
        self.assertEqual(len(outcomes), 2 * RUNS_PER_SIGNAL)
        failed = [outcome for outcome in outcomes if outcome != "ok"]
        self.assertFalse(
            failed,
            f"{len(failed)} of {len(outcomes)} runs failed:\n" + "\n".join(failed),
        )
