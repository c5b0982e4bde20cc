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
from twisted.internet.defer import CancelledError, Deferred, gatherResults
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IDelayedCall,
    IReactorTCP,
    IReactorTime,
    ITCPTransport,
)
from twisted.internet.protocol import ClientFactory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

__all__ = [
    "PoemResult",
    "PoemTimeout",
    "PoemTruncated",
    "PoetryClientProtocol",
    "get_poems",
    "get_poetry",
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


class _PoemFetch(ClientFactory[PoetryClientProtocol]):
    """
    One attempt to fetch one poem: owns the connector, the protocol, the
    overall timeout and the result, so that whichever of success, failure,
    timeout or cancellation comes first decides the outcome and the rest is
    cleaned up.
    """

    def __init__(
        self,
        clock: IReactorTime,
        timeout: float | None,
        progress: Progress | None,
    ) -> None:
        self.result: Deferred[bytes] = Deferred(self._cancel)
        self._clock = clock
        self._timeout = timeout
        self._progress = progress
        self._connector: IConnector | None = None
        self._protocol: PoetryClientProtocol | None = None
        self._timer: IDelayedCall | None = None
        self._done = False
        if timeout is not None:
            self._timer = clock.callLater(timeout, self._timed_out)

    # ClientFactory

    def startedConnecting(self, connector: IConnector) -> None:
        self._connector = connector

    def buildProtocol(self, addr: IAddress | None) -> PoetryClientProtocol:
        protocol = PoetryClientProtocol(self._progress)
        protocol.factory = self
        protocol.finished.addBoth(self._finish)
        self._protocol = protocol
        return protocol

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self._finish(reason)

    # Outcome

    def _finish(self, result: bytes | Failure) -> None:
        if self._done:
            return
        self._done = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if isinstance(result, Failure):
            self.result.errback(result)
        else:
            self.result.callback(result)

    def _stop(self) -> None:
        """
        Abandon the connection attempt or the connection itself.
        """
        if self._protocol is not None:
            transport = self._protocol.transport
            if ITCPTransport.providedBy(transport):
                transport.abortConnection()
            elif transport is not None:
                transport.loseConnection()
        elif self._connector is not None:
            self._connector.stopConnecting()

    def _timed_out(self) -> None:
        self._timer = None
        assert self._timeout is not None
        received = self._protocol.received if self._protocol is not None else b""
        self._finish(
            Failure(PoemTimeout(self._timeout, self._protocol is not None, received))
        )
        self._stop()

    def _cancel(self, result: Deferred[bytes]) -> None:
        self._finish(Failure(CancelledError()))
        self._stop()


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
        time data arrives.

    @return: a L{Deferred} that fires with the poem on a clean close (an
        empty poem is valid), or fails with: L{ConnectionRefusedError} when
        nothing listens (other connection failures keep their own
        L{ConnectError} subclass); L{PoemTruncated} when the connection is lost
        uncleanly; L{PoemTimeout}; L{CancelledError} when cancelled (which
        stops the connection attempt or aborts the connection).
    """
    if not IReactorTime.providedBy(reactor):
        raise TypeError("get_poetry needs a reactor that also provides IReactorTime")
    fetch = _PoemFetch(reactor, timeout, progress)
    # The connect attempt's own timeout is set past ours so that our timer,
    # which reports a PoemTimeout, always decides first.
    connect_timeout = 30.0 if timeout is None else timeout + 30.0
    reactor.connectTCP(host, port, fetch, timeout=connect_timeout)
    return fetch.result


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
    one L{PoemResult} per address, in the order given.

    @param progress: if given, called with C{(index, bytes_so_far)} as data
        arrives from C{addresses[index]}.
    """
    results: list[Deferred[PoemResult]] = []
    for index, (host, port) in enumerate(addresses):
        on_progress: Progress | None = None
        if progress is not None:
            on_progress = _indexed(progress, index)
        fetch = get_poetry(reactor, host, port, timeout=timeout, progress=on_progress)
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
