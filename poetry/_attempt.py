"""
One client connection attempt with an overall timeout and cancellation.

The machinery the poetry clients share (L{poetry.transform.transform} is
built on it; L{poetry.client.get_poetry}'s C{_PoemFetch} has the same shape
and can be a subclass): whichever of success, failure, timeout or
cancellation comes first decides the outcome, and the rest is cleaned up --
the timer cancelled, the connection attempt stopped or the connection
aborted -- so that nothing is left pending.

Private: the public API is in the modules that use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IDelayedCall,
    IProtocol,
    IReactorTCP,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.python.failure import Failure

__all__ = [
    "ClientAttempt",
    "abort_connection",
    "check_timeout",
    "connect",
    "connect_endpoint",
]

_P = TypeVar("_P", bound=Protocol)

# The reactor's own connect timeout is set this far past ours, so that our
# timer, which reports the caller's timeout error, always decides first.
_CONNECT_TIMEOUT_MARGIN = 30.0
_DEFAULT_CONNECT_TIMEOUT = 30.0


def check_timeout(timeout: float | None) -> None:
    """
    @raise ValueError: if C{timeout} is negative or not a number.
    """
    if timeout is not None and (math.isnan(timeout) or timeout < 0):
        raise ValueError(f"timeout must be a number >= 0, not {timeout!r}")


class ClientAttempt(ClientFactory[_P]):
    """
    One attempt to connect and get one C{bytes} result.

    Subclasses implement L{_make_protocol} (build the protocol and return it
    with the L{Deferred} that fires with its outcome) and L{_timeout_error}.

    @ivar result: fires with the outcome; cancelling it stops the attempt.
    """

    noisy = False

    def __init__(self, clock: IReactorTime, timeout: float | None) -> None:
        self.result: Deferred[bytes] = Deferred(self._cancel)
        self._clock = clock
        self._timeout = timeout
        self._connector: IConnector | None = None
        self._connecting: Deferred[IProtocol] | None = None
        self._protocol: _P | None = None
        self._timer: IDelayedCall | None = None
        self._done = False

    def start(self, connector: IConnector) -> None:
        """
        Note the connector returned by C{connectTCP} and start the overall
        timeout, unless the outcome is already decided.  The timer starts only
        once C{connectTCP} has returned, so that a C{connectTCP} that raises
        leaves no call pending.
        """
        if self._connector is None:
            self._connector = connector
        if self._timeout is not None and not self._done:
            self._timer = self._clock.callLater(self._timeout, self._timed_out)

    def start_connecting(self, connecting: Deferred[IProtocol]) -> None:
        """
        Note the L{Deferred} an endpoint's C{connect} returned (a failure
        there is the attempt's failure; cancelling it stops connecting) and
        start the overall timeout, unless the outcome is already decided.
        """
        self._connecting = connecting
        connecting.addCallbacks(self._connected, self._connect_failed)
        if self._timeout is not None and not self._done:
            self._timer = self._clock.callLater(self._timeout, self._timed_out)

    def _connected(self, protocol: IProtocol) -> None:
        self._connecting = None

    def _connect_failed(self, reason: Failure) -> None:
        # After a timeout or cancellation the outcome is decided already,
        # and _finish drops this failure (the endpoint's cancellation).
        self._connecting = None
        self._finish(reason)

    # Subclass hooks

    def _make_protocol(self) -> tuple[_P, Deferred[bytes]]:
        """
        Build the protocol for the connection.

        @return: the protocol and a L{Deferred} that fires with the result or
            fails when the exchange is over.
        """
        raise NotImplementedError

    def _timeout_error(self, timeout: float, protocol: _P | None) -> Exception:
        """
        @return: the exception reported when C{timeout} seconds pass first;
            C{protocol} is L{None} if the connection was never made.
        """
        raise NotImplementedError

    # ClientFactory

    def startedConnecting(self, connector: IConnector) -> None:
        self._connector = connector

    def buildProtocol(self, addr: IAddress | None) -> _P | None:
        if self._done:
            # A connection that completes after a timeout or cancellation is
            # refused: returning None makes the reactor close it at once.
            return None
        protocol, finished = self._make_protocol()
        protocol.factory = self
        self._protocol = protocol
        finished.addBoth(self._finish)
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
            abort_connection(self._protocol)
        elif self._connector is not None:
            self._connector.stopConnecting()
        elif self._connecting is not None:
            self._connecting.cancel()

    def _timed_out(self) -> None:
        self._timer = None
        assert self._timeout is not None
        self._finish(Failure(self._timeout_error(self._timeout, self._protocol)))
        self._stop()

    def _cancel(self, result: Deferred[bytes]) -> None:
        self._finish(Failure(CancelledError()))
        self._stop()


def abort_connection(protocol: Protocol) -> None:
    """
    Abort C{protocol}'s connection, or close it if its transport cannot abort.

    Abort rather than close: a peer that stalls must not keep the connection
    open.  C{abortConnection} is part of
    L{ITCPTransport<twisted.internet.interfaces.ITCPTransport>}, but TLS and
    in-memory transports have it too without declaring it.
    """
    transport = protocol.transport
    abort: Callable[[], object] | None = getattr(transport, "abortConnection", None)
    if abort is not None:
        abort()
    elif transport is not None:
        transport.loseConnection()


def connect(
    reactor: IReactorTCP,
    host: str,
    port: int,
    attempt: ClientAttempt[_P],
    timeout: float | None,
) -> Deferred[bytes]:
    """
    Start C{attempt} by connecting to C{host}:C{port}.

    @param timeout: the caller's overall timeout, already checked with
        L{check_timeout}; the reactor's own connect timeout is set past it.
    @return: C{attempt.result}.
    """
    connect_timeout = (
        _DEFAULT_CONNECT_TIMEOUT
        if timeout is None
        else timeout + _CONNECT_TIMEOUT_MARGIN
    )
    connector = reactor.connectTCP(host, port, attempt, timeout=connect_timeout)
    attempt.start(connector)
    return attempt.result


def connect_endpoint(
    endpoint: IStreamClientEndpoint,
    attempt: ClientAttempt[_P],
    timeout: float | None,
) -> Deferred[bytes]:
    """
    Start C{attempt} by connecting through C{endpoint}.

    @param timeout: the caller's overall timeout, already checked with
        L{check_timeout}; the endpoint's own connect timeout is its own
        business (an endpoint description may set one).
    @return: C{attempt.result}.
    """
    attempt.start_connecting(endpoint.connect(attempt))
    return attempt.result
