"""
The poetry client: fetch a poem from a poetry server.

A poem is complete only when the server closes the connection cleanly
(L{ConnectionDone}); any other loss means the poem was cut short, and is
reported as L{PoemTruncated} with the bytes received so far -- never as a
silent success.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
from twisted.internet.defer import Deferred, fail, gatherResults
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IReactorTCP,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from poetry._attempt import ClientAttempt, check_timeout, connect, connect_endpoint

__all__ = [
    "PoemResult",
    "PoemTimeout",
    "PoemTruncated",
    "PoetryClientProtocol",
    "get_poems",
    "get_poetry",
    "get_poetry_at",
]

_log = Logger()

Progress = Callable[[int], None]


class PoemTruncated(Exception):
    """
    The connection was lost before the server closed it cleanly: the poem
    may be incomplete.

    @ivar received: every byte that arrived before the loss.
    @ivar reason: the L{Failure} the connection was lost with.
    """

    def __init__(self, received: bytes, reason: Failure) -> None:
        super().__init__(
            f"poem truncated after {len(received)} bytes: {reason.getErrorMessage()}"
        )
        self.received = received
        self.reason = reason


class PoemTimeout(DeferredTimeoutError):
    """
    The poem was not complete within the requested time.

    @ivar timeout: the number of seconds allowed.
    @ivar connected: whether the connection had been established.
    @ivar received: the bytes received before giving up.
    """

    def __init__(self, timeout: float, connected: bool, received: bytes) -> None:
        phase = "receiving the poem" if connected else "connecting"
        super().__init__(
            f"no complete poem within {timeout} seconds "
            f"(timed out while {phase}, {len(received)} bytes received)"
        )
        self.timeout = timeout
        self.connected = connected
        self.received = received


class PoetryClientProtocol(Protocol):
    """
    Collect the poem and report how the connection ended.

    @ivar finished: fires with the poem on a clean close, or fails with
        L{PoemTruncated} on any other connection loss.
    """

    def __init__(self, progress: Progress | None = None) -> None:
        self.finished: Deferred[bytes] = Deferred()
        self._progress = progress
        self._chunks: list[bytes] = []
        self._count = 0

    @property
    def received(self) -> bytes:
        """
        The bytes received so far.
        """
        return b"".join(self._chunks)

    def dataReceived(self, data: bytes) -> None:
        self._chunks.append(data)
        self._count += len(data)
        if self._progress is not None:
            self._progress(self._count)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if reason.check(ConnectionDone):
            self.finished.callback(self.received)
        else:
            self.finished.errback(PoemTruncated(self.received, reason))


class _PoemFetch(ClientAttempt[PoetryClientProtocol]):
    """
    One attempt to fetch one poem: L{ClientAttempt} owns the connector, the
    protocol, the overall timeout and the result, so that whichever of
    success, failure, timeout or cancellation comes first decides the outcome
    and the rest is cleaned up.
    """

    def __init__(
        self,
        clock: IReactorTime,
        timeout: float | None,
        progress: Progress | None,
    ) -> None:
        super().__init__(clock, timeout)
        self._progress = progress

    def _make_protocol(self) -> tuple[PoetryClientProtocol, Deferred[bytes]]:
        protocol = PoetryClientProtocol(self._on_progress)
        return protocol, protocol.finished

    def _on_progress(self, count: int) -> None:
        # Bytes that straggle in after a timeout or cancellation are not
        # reported: the caller has already been given the outcome.
        if self._progress is not None and not self._done:
            self._progress(count)

    def _timeout_error(
        self, timeout: float, protocol: PoetryClientProtocol | None
    ) -> Exception:
        received = protocol.received if protocol is not None else b""
        return PoemTimeout(timeout, protocol is not None, received)


def get_poetry(
    reactor: IReactorTCP,
    host: str,
    port: int,
    *,
    timeout: float | None = None,
    progress: Progress | None = None,
) -> Deferred[bytes]:
    """
    Fetch one poem from the poetry server at C{host}:C{port}.

    @param reactor: provides L{IReactorTCP} and L{IReactorTime}.
    @param timeout: if given, fail with L{PoemTimeout} when the poem is not
        complete after this many seconds of C{reactor}'s time, whether still
        connecting or mid-poem; the connection attempt is stopped or the
        connection aborted, and no call is left pending.
    @param progress: called with the running total of bytes received, each
        time data arrives (and never after the outcome is decided).

    @raise TypeError: if C{reactor} does not provide L{IReactorTime}.
    @raise ValueError: if C{timeout} is negative or not a number.

    @return: a L{Deferred} that fires with the poem on a clean close (an empty
        poem is valid), or fails with:
        L{ConnectionRefusedError<twisted.internet.error.ConnectionRefusedError>}
        when nothing listens (other connection failures keep their own
        L{ConnectError<twisted.internet.error.ConnectError>} subclass);
        L{PoemTruncated} when the connection is lost uncleanly; L{PoemTimeout};
        L{CancelledError<twisted.internet.defer.CancelledError>} when cancelled
        (which stops the connection attempt or aborts the connection).
    """
    if not IReactorTime.providedBy(reactor):
        raise TypeError("get_poetry needs a reactor that also provides IReactorTime")
    check_timeout(timeout)
    fetch = _PoemFetch(reactor, timeout, progress)
    return connect(reactor, host, port, fetch, timeout)


def get_poetry_at(
    endpoint: IStreamClientEndpoint,
    clock: IReactorTime,
    *,
    timeout: float | None = None,
    progress: Progress | None = None,
) -> Deferred[bytes]:
    """
    Fetch one poem from the poetry server at C{endpoint}: any client
    endpoint, such as one that
    L{clientFromString<twisted.internet.endpoints.clientFromString>} makes
    of C{unix:/tmp/poetry.sock}.  Otherwise as L{get_poetry}.

    @param clock: times C{timeout}.
    @return: as L{get_poetry}'s; a failure to connect is the endpoint's.
    @raise ValueError: if C{timeout} is negative or not a number.
    """
    check_timeout(timeout)
    fetch = _PoemFetch(clock, timeout, progress)
    return connect_endpoint(endpoint, fetch, timeout)


@attrs.frozen
class PoemResult:
    """
    The outcome of fetching one poem in L{get_poems}.

    @ivar address: the C{(host, port)} fetched from.
    @ivar poem: the poem, or L{None} if the fetch failed.
    @ivar failure: why the fetch failed, or L{None} if it succeeded.
    """

    address: tuple[str, int]
    poem: bytes | None
    failure: Failure | None

    @property
    def ok(self) -> bool:
        """
        Whether the poem was fetched.
        """
        return self.failure is None


def get_poems(
    reactor: IReactorTCP,
    addresses: Sequence[tuple[str, int]],
    *,
    timeout: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Deferred[list[PoemResult]]:
    """
    Fetch poems from several servers concurrently.

    One failure never stops the others: the L{Deferred} always succeeds, with
    one L{PoemResult} per address, in the order given -- even an address for
    which C{connectTCP} itself raised gets its L{PoemResult} carrying that
    error.  Cancelling the L{Deferred} cancels every fetch still running;
    those are reported with L{CancelledError<twisted.internet.defer.CancelledError>}.

    @param timeout: as for L{get_poetry}, applied to each fetch.
    @param progress: if given, called with C{(index, bytes_so_far)} as data
        arrives from C{addresses[index]}.

    @raise TypeError: if C{reactor} does not provide L{IReactorTime}.
    @raise ValueError: if C{timeout} is negative or not a number.
    """
    # Check the arguments shared by every fetch before starting any, so that
    # bad arguments never leave fetches running behind an exception.
    if not IReactorTime.providedBy(reactor):
        raise TypeError("get_poems needs a reactor that also provides IReactorTime")
    check_timeout(timeout)
    results: list[Deferred[PoemResult]] = []
    for index, (host, port) in enumerate(addresses):
        on_progress: Progress | None = None
        if progress is not None:
            on_progress = _indexed(progress, index)
        try:
            fetch = get_poetry(
                reactor, host, port, timeout=timeout, progress=on_progress
            )
        except Exception:
            fetch = fail()
        address = (host, port)
        results.append(
            fetch.addCallback(_succeeded, address).addErrback(_failed, address)
        )
    return gatherResults(results)


def _succeeded(poem: bytes, address: tuple[str, int]) -> PoemResult:
    return PoemResult(address, poem, None)


def _failed(failure: Failure, address: tuple[str, int]) -> PoemResult:
    _log.warn(
        "Fetching a poem from {host}:{port} failed: {why}",
        host=address[0],
        port=address[1],
        why=failure.getErrorMessage(),
    )
    return PoemResult(address, None, failure)


def _indexed(progress: Callable[[int, int], None], index: int) -> Progress:
    return lambda count: progress(index, count)
