"""
What a command runs with besides its reactor and arguments: the output
streams and a way to take part in shutdown; plus how addresses and failures
are shown to the user.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any

import attrs
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TimeoutError,
)
from twisted.internet.interfaces import IReactorCore
from twisted.python.failure import Failure

from poetry._values import format_address

__all__ = [
    "Cleanup",
    "Context",
    "describe_failure",
    "format_address",
    "shutdown_registrar",
]

Cleanup = Callable[[], "Deferred[Any] | None"]
"""
Work to do when the process is asked to stop; a returned L{Deferred} delays
the shutdown until it fires.
"""


@attrs.define
class Context:
    """
    The outside world of one command.

    @ivar stdout: binary standard output: poems, and the status lines scripts
        read (C{poetry: serving ... on HOST:PORT}).
    @ivar stderr: text standard error: error lines and the progress display.
    @ivar stderr_is_tty: whether to show a progress display on C{stderr}.
    @ivar on_shutdown: registers a L{Cleanup} to run when the process is asked
        to stop (SIGINT, SIGTERM, or the reactor stopping).
    @ivar stdin: binary standard input, where a poem given as C{-} is read
        when the command runs (empty unless given).
    @ivar stdout_closed: whether standard output's reader went away (as
        C{head} does); from then on output is dropped quietly.
    """

    stdout: IO[bytes]
    stderr: IO[str]
    stderr_is_tty: bool
    on_shutdown: Callable[[Cleanup], None]
    stdin: IO[bytes] = attrs.field(factory=io.BytesIO)
    stdout_closed: bool = attrs.field(default=False, init=False)

    def say(self, line: str) -> None:
        """
        Write one status line to standard output and flush it at once, so a
        script reading a pipe sees it straight away.
        """
        self.write(line.encode("utf-8") + b"\n")

    def write(self, data: bytes) -> None:
        """
        Write bytes (a poem) to standard output and flush.
        """
        if self.stdout_closed:
            return
        try:
            self.stdout.write(data)
            self.stdout.flush()
        except BrokenPipeError:
            self.stdout_closed = True

    def error(self, line: str) -> None:
        """
        Write one error line to standard error.
        """
        self.stderr.write(line + "\n")
        self.stderr.flush()


def shutdown_registrar(reactor: IReactorCore) -> Callable[[Cleanup], None]:
    """
    Register cleanups as C{before shutdown} triggers of C{reactor}, which
    waits for the L{Deferred}s they return before it stops.
    """

    def register(cleanup: Cleanup) -> None:
        reactor.addSystemEventTrigger("before", "shutdown", cleanup)

    return register


def describe_failure(failure: Failure) -> str:
    """
    Say in a few words, for a person, why a fetch or a request failed.
    """
    error = failure.value
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is a server listening there?)"
    if isinstance(error, DNSLookupError):
        return f"cannot resolve the host name ({error})"
    if isinstance(error, TimeoutError):
        return "timed out while connecting"
    if isinstance(error, CancelledError):
        return "cancelled (shutting down)"
    if isinstance(error, ConnectError):
        return f"cannot connect: {error}"
    text = str(error)
    return text if text else type(error).__name__
