"""
Tests for L{poetry._attempt}, the connection-attempt machinery the poetry
clients share, through a minimal L{ClientAttempt} subclass on fake reactors.

The clients built on it (L{poetry.client.get_poetry},
L{poetry.transform.transform}) are tested in their own modules; these tests
pin the edges those cannot reach: a reactor that does not report
C{startedConnecting}, an attempt cancelled before it was started, and
transports without C{abortConnection}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IConnector
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.internet.testing import (
    MemoryReactorClock,
    StringTransport,
    _FakeConnector,
)
from twisted.trial.unittest import SynchronousTestCase

from poetry._attempt import ClientAttempt, abort_connection, connect


class _Attempt(ClientAttempt[Protocol]):
    """
    An attempt whose protocol never finishes by itself.
    """

    def _make_protocol(self) -> tuple[Protocol, Deferred[bytes]]:
        return Protocol(), Deferred()

    def _timeout_error(self, timeout: float, protocol: Protocol | None) -> Exception:
        return RuntimeError(f"timed out after {timeout}")


class _SilentReactor(MemoryReactorClock):
    """
    A reactor whose C{connectTCP} returns a connector without calling the
    factory's C{startedConnecting} (which L{IReactorTCP} does not promise).
    """

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        connector = _FakeConnector(IPv4Address("TCP", host, port))
        self.connectors.append(connector)
        return connector


class _LoseOnlyTransport(StringTransport):
    """
    A transport with C{loseConnection} but no C{abortConnection}.
    """

    def __getattribute__(self, name: str) -> Any:
        if name == "abortConnection":
            raise AttributeError(name)
        return super().__getattribute__(name)


class ClientAttemptTests(SynchronousTestCase):
    """
    L{ClientAttempt} and L{connect}: whatever comes first decides, and the
    rest is cleaned up.
    """

    def test_connector_from_connect(self) -> None:
        """
        When the reactor does not call C{startedConnecting}, the connector
        C{connectTCP} returned is the one stopped on cancellation.
        """
        reactor = _SilentReactor()
        result = connect(reactor, "h", 1, _Attempt(reactor, None), None)
        [connector] = reactor.connectors
        result.cancel()
        self.failureResultOf(result, CancelledError)
        self.assertTrue(connector.stoppedConnecting)

    def test_reported_connector_kept(self) -> None:
        """
        When the reactor does call C{startedConnecting}, that connector is
        kept (the one C{connectTCP} returns is the same for real reactors).
        """
        reactor = MemoryReactorClock()
        attempt = _Attempt(reactor, None)
        result = connect(reactor, "h", 1, attempt, None)
        [connector] = reactor.connectors
        attempt.start(_FakeConnector(IPv4Address("TCP", "other", 2)))
        result.cancel()
        self.assertTrue(connector.stoppedConnecting)
        self.failureResultOf(result, CancelledError)

    def test_cancel_before_start(self) -> None:
        """
        An attempt cancelled before it was connected anywhere fails with
        L{CancelledError} and has nothing to stop; starting it afterwards
        starts no timer.
        """
        reactor = MemoryReactorClock()
        attempt = _Attempt(reactor, 5.0)
        attempt.result.cancel()
        self.failureResultOf(attempt.result, CancelledError)
        attempt.start(_FakeConnector(IPv4Address("TCP", "h", 1)))
        self.assertEqual(reactor.getDelayedCalls(), [])

    def test_connect_timeout_past_ours(self) -> None:
        """
        The reactor's own connect timeout is set past the caller's timeout
        (or 30 seconds without one), so that the caller's timeout decides.
        """
        reactor = MemoryReactorClock()
        timed = connect(reactor, "h", 1, _Attempt(reactor, 5.0), 5.0)
        connect(reactor, "h", 1, _Attempt(reactor, None), None)
        self.assertEqual([client[3] for client in reactor.tcpClients], [35.0, 30.0])
        reactor.advance(5.0)
        self.assertEqual(
            str(self.failureResultOf(timed, RuntimeError).value), "timed out after 5.0"
        )
        self.assertTrue(reactor.connectors[0].stoppedConnecting)
        self.assertEqual(reactor.getDelayedCalls(), [])


class AbortConnectionTests(SynchronousTestCase):
    """
    L{abort_connection} drops a protocol's connection as hard as its
    transport allows.
    """

    def test_abort(self) -> None:
        """
        A transport that can abort is aborted.
        """
        protocol = Protocol()
        transport = StringTransport()
        protocol.makeConnection(transport)
        abort_connection(protocol)
        self.assertTrue(transport.disconnecting)

    def test_lose_without_abort(self) -> None:
        """
        A transport without C{abortConnection} is closed instead.
        """
        protocol = Protocol()
        transport = _LoseOnlyTransport()
        protocol.makeConnection(transport)
        self.assertFalse(hasattr(transport, "abortConnection"))
        abort_connection(protocol)
        self.assertTrue(transport.disconnecting)

    def test_not_connected(self) -> None:
        """
        A protocol that has no transport (never connected) is left alone.
        """
        protocol = Protocol()
        abort_connection(protocol)
        self.assertIsNone(protocol.transport)
