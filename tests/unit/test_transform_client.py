"""
Tests for L{poetry.transform.transform}, the transform client, on a
L{MemoryReactorClock}: each test takes the factory from
C{reactor.tcpClients}, builds its protocol on a L{StringTransport}, checks
the bytes sent and feeds the server's side by hand.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
)
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import (
    MemoryReactor,
    MemoryReactorClock,
    StringTransport,
    StringTransportWithDisconnection,
)
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.transform import (
    MAX_REPLY_LENGTH,
    MalformedReply,
    NoReply,
    TrailingData,
    TransformFailed,
    TransformServerFactory,
    TransformService,
    TransformTimeout,
    transform,
)

_SERVER = IPv4Address("TCP", "127.0.0.1", 4321)


def netstring(payload: bytes) -> bytes:
    """
    Frame C{payload} as a netstring.
    """
    return str(len(payload)).encode("ascii") + b":" + payload + b","


class _ClientTestMixin(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def start(
        self,
        name: str = "upper",
        poem: bytes = b"hi",
        timeout: float | None = None,
    ) -> tuple[Deferred[bytes], ClientFactory[Any]]:
        """
        Call L{transform} and return its L{Deferred} and the factory it
        passed to C{connectTCP}.
        """
        result = transform(self.reactor, "127.0.0.1", 4321, name, poem, timeout=timeout)
        [(host, port, factory, _, _)] = self.reactor.tcpClients
        self.assertEqual((host, port), ("127.0.0.1", 4321))
        return result, factory

    def connect(self, factory: ClientFactory[Any]) -> tuple[Protocol, StringTransport]:
        """
        Complete the connection: build the protocol on a L{StringTransport}.
        """
        protocol = factory.buildProtocol(_SERVER)
        assert protocol is not None
        transport = StringTransport(peerAddress=_SERVER)
        protocol.makeConnection(transport)
        return protocol, transport


class TransformClientTests(_ClientTestMixin):
    """
    A good reply, in its many shapes.
    """

    def test_sendsRequest(self) -> None:
        """
        Once connected, the client sends exactly one netstring
        C{NAME.POEM}.
        """
        _, factory = self.start("cummingsify", b"Hi")
        _, transport = self.connect(factory)
        self.assertEqual(transport.value(), b"14:cummingsify.Hi,")

    def test_reply(self) -> None:
        """
        The reply's payload is the result, once the server has closed the
        connection.
        """
        result, factory = self.start()
        protocol, transport = self.connect(factory)
        protocol.dataReceived(b"2:HI,")
        self.assertNoResult(result)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(result), b"HI")
        self.assertFalse(transport.disconnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_replyByteByByte(self) -> None:
        """
        A reply that arrives one byte at a time is assembled.
        """
        result, factory = self.start(poem=b"a poem. with dots")
        protocol, _ = self.connect(factory)
        reply = netstring(b"A POEM. WITH DOTS")
        for index in range(len(reply)):
            protocol.dataReceived(reply[index : index + 1])
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(result), b"A POEM. WITH DOTS")

    def test_emptyReply(self) -> None:
        """
        An empty netstring is an empty poem, not a failure.
        """
        result, factory = self.start(poem=b"")
        protocol, transport = self.connect(factory)
        self.assertEqual(transport.value(), b"6:upper.,")
        protocol.dataReceived(b"0:,")
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(result), b"")

    def test_replyThenUncleanClose(self) -> None:
        """
        A complete netstring is a complete reply even if the connection then
        ends uncleanly: the framing marks the end, not the close.
        """
        result, factory = self.start()
        protocol, _ = self.connect(factory)
        protocol.dataReceived(b"2:HI,")
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.successResultOf(result), b"HI")

    def test_longestReply(self) -> None:
        """
        A reply of exactly L{MAX_REPLY_LENGTH} bytes is accepted.
        """
        result, factory = self.start()
        protocol, _ = self.connect(factory)
        protocol.dataReceived(netstring(b"x" * MAX_REPLY_LENGTH))
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(len(self.successResultOf(result)), MAX_REPLY_LENGTH)

    def test_timerCancelledOnSuccess(self) -> None:
        """
        With a timeout, success leaves no call pending.
        """
        result, factory = self.start(timeout=5)
        protocol, _ = self.connect(factory)
        protocol.dataReceived(b"2:HI,")
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(result), b"HI")
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_connectTimeout(self) -> None:
        """
        The reactor's own connect timeout is set past the caller's, so that
        the caller's timeout always decides first.
        """
        transform(self.reactor, "127.0.0.1", 4321, "upper", b"x", timeout=5)
        transform(self.reactor, "127.0.0.1", 4321, "upper", b"x")
        self.assertEqual([c[3] for c in self.reactor.tcpClients], [35.0, 30.0])
        for connector in self.reactor.connectors:
            connector.stopConnecting()

    def test_roundTripWithServer(self) -> None:
        """
        The client and the real server protocol understand each other: the
        client's bytes fed to the server produce a reply the client accepts.
        """
        result, factory = self.start("cummingsify", "ÉTÉ".encode())
        client, client_transport = self.connect(factory)
        server_factory = TransformServerFactory(TransformService(), Clock())
        server = server_factory.buildProtocol(None)
        server_transport = StringTransportWithDisconnection()
        server_transport.protocol = server
        server.makeConnection(server_transport)
        server.dataReceived(client_transport.value())
        self.assertFalse(server_transport.connected)
        client.dataReceived(server_transport.value())
        client.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(result), "été".encode())


class TransformClientFailureTests(_ClientTestMixin):
    """
    Every way L{transform} fails, each with a clear error and nothing left
    pending.
    """

    def test_noReply(self) -> None:
        """
        A server that closes without a byte of reply (how it rejects a bad
        request) fails the call with L{NoReply}, which keeps the close reason
        and names the server.
        """
        result, factory = self.start(timeout=5)
        protocol, _ = self.connect(factory)
        protocol.connectionLost(Failure(ConnectionDone()))
        error = self.failureResultOf(result, NoReply).value
        assert isinstance(error, NoReply)
        self.assertIsInstance(error, TransformFailed)
        self.assertTrue(error.reason.check(ConnectionDone))
        self.assertIn("127.0.0.1:4321", str(error))
        self.assertIn("without a reply", str(error))
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_malformedReply(self) -> None:
        """
        A reply that is not a netstring fails the call with
        L{MalformedReply} at once, and the connection is aborted.
        """
        for bad in [b"HI", b"02:HI,", b"2:HI;", b":"]:
            self.reactor = MemoryReactorClock()
            result, factory = self.start(timeout=5)
            protocol, transport = self.connect(factory)
            protocol.dataReceived(bad)
            error = self.failureResultOf(result, MalformedReply).value
            assert isinstance(error, MalformedReply)
            self.assertEqual(error.received, len(bad))
            self.assertIn("127.0.0.1:4321", str(error))
            self.assertTrue(transport.disconnected, bad)
            self.assertEqual(self.reactor.getDelayedCalls(), [])
            # The close that follows changes nothing.
            protocol.connectionLost(Failure(ConnectionAborted()))

    def test_replyTooLong(self) -> None:
        """
        A reply declared longer than L{MAX_REPLY_LENGTH} fails with
        L{MalformedReply} as soon as its length prefix arrives.
        """
        result, factory = self.start()
        protocol, transport = self.connect(factory)
        protocol.dataReceived(str(MAX_REPLY_LENGTH + 1).encode("ascii") + b":")
        self.failureResultOf(result, MalformedReply)
        self.assertTrue(transport.disconnected)

    def test_truncatedReply(self) -> None:
        """
        A connection that closes part-way through the reply fails the call
        with L{MalformedReply}, not a short poem.
        """
        result, factory = self.start()
        protocol, _ = self.connect(factory)
        protocol.dataReceived(b"5:HE")
        protocol.connectionLost(Failure(ConnectionDone()))
        error = self.failureResultOf(result, MalformedReply).value
        assert isinstance(error, MalformedReply)
        self.assertEqual(error.received, 4)
        self.assertIn("part-way", str(error))

    def test_secondNetstring(self) -> None:
        """
        A second netstring after the reply fails the call with
        L{TrailingData}, whether it comes in the same chunk or later, and the
        connection is aborted.
        """
        for chunks in [
            [b"2:HI,2:HI,"],
            [b"2:HI,", b"2:HI,"],
            [b"2:HI", b",2:"],
            [b"2:HI,x"],
            [b"2:HI,", b"\n"],
        ]:
            self.reactor = MemoryReactorClock()
            result, factory = self.start()
            protocol, transport = self.connect(factory)
            for chunk in chunks:
                protocol.dataReceived(chunk)
            error = self.failureResultOf(result, TrailingData).value
            assert isinstance(error, TrailingData)
            self.assertEqual(error.reply, b"HI")
            self.assertTrue(transport.disconnected, chunks)
            protocol.connectionLost(Failure(ConnectionAborted()))

    def test_trailingDataWithSynchronousClose(self) -> None:
        """
        Trailing garbage is reported as L{TrailingData} even when the
        transport reports the parser's close at once, as
        L{StringTransportWithDisconnection} does.
        """
        result, factory = self.start()
        protocol = factory.buildProtocol(_SERVER)
        assert protocol is not None
        transport = StringTransportWithDisconnection(peerAddress=_SERVER)
        transport.protocol = protocol
        protocol.makeConnection(transport)
        protocol.dataReceived(b"2:HI,garbage")
        self.failureResultOf(result, TrailingData)

    def test_malformedWithSynchronousClose(self) -> None:
        """
        A malformed reply is reported as L{MalformedReply} (not as a close)
        when the transport reports the parser's close at once.
        """
        result, factory = self.start()
        protocol = factory.buildProtocol(_SERVER)
        assert protocol is not None
        transport = StringTransportWithDisconnection(peerAddress=_SERVER)
        transport.protocol = protocol
        protocol.makeConnection(transport)
        protocol.dataReceived(b"x")
        error = self.failureResultOf(result, MalformedReply).value
        self.assertIn("not a netstring", str(error))

    def test_refused(self) -> None:
        """
        A refused connection fails with L{ConnectionRefusedError}, unwrapped;
        other connection failures keep their own type.
        """
        for error in [ConnectionRefusedError(), DNSLookupError()]:
            self.reactor = MemoryReactorClock()
            result, factory = self.start(timeout=5)
            [connector] = self.reactor.connectors
            factory.clientConnectionFailed(connector, Failure(error))
            self.failureResultOf(result, type(error))
            self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_timeoutConnecting(self) -> None:
        """
        With no connection after C{timeout} seconds -- exactly, not before --
        the call fails with L{TransformTimeout}, the attempt is stopped and
        nothing is left pending.
        """
        result, factory = self.start(timeout=5)
        self.reactor.advance(4.5)
        self.assertNoResult(result)
        self.reactor.advance(0.5)
        error = self.failureResultOf(result, TransformTimeout).value
        assert isinstance(error, TransformTimeout)
        self.assertIsInstance(error, DeferredTimeoutError)
        self.assertIsInstance(error, TransformFailed)
        self.assertFalse(error.connected)
        self.assertEqual(error.timeout, 5)
        self.assertIn("connecting", str(error))
        [connector] = self.reactor.connectors
        self.assertTrue(connector.stoppedConnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        # A connection completing afterwards is refused.
        self.assertIsNone(factory.buildProtocol(_SERVER))

    def test_timeoutWaiting(self) -> None:
        """
        Connected but with the reply incomplete after C{timeout} seconds, the
        call fails with L{TransformTimeout} and the connection is aborted.
        """
        result, factory = self.start(timeout=5)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(b"10:HI")
        self.reactor.advance(5)
        error = self.failureResultOf(result, TransformTimeout).value
        assert isinstance(error, TransformTimeout)
        self.assertTrue(error.connected)
        self.assertEqual(error.received, 5)
        self.assertTrue(transport.disconnected)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        protocol.connectionLost(Failure(ConnectionAborted()))

    def test_timeoutAwaitingClose(self) -> None:
        """
        A server that sends the reply but never closes times out too: the
        reply is not final until the close shows nothing follows it.
        """
        result, factory = self.start(timeout=5)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(b"2:HI,")
        self.reactor.advance(5)
        self.failureResultOf(result, TransformTimeout)
        self.assertTrue(transport.disconnected)

    def test_cancelConnecting(self) -> None:
        """
        Cancelling while connecting fails with L{CancelledError}, stops the
        connection attempt and leaves nothing pending.
        """
        result, factory = self.start(timeout=5)
        result.cancel()
        self.failureResultOf(result, CancelledError)
        [connector] = self.reactor.connectors
        self.assertTrue(connector.stoppedConnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        # What the reactor reports next changes nothing.
        factory.clientConnectionFailed(connector, Failure(ConnectionAborted()))
        self.assertIsNone(factory.buildProtocol(_SERVER))

    def test_cancelWaiting(self) -> None:
        """
        Cancelling while waiting for the reply fails with L{CancelledError}
        and aborts the connection; the close that follows changes nothing.
        """
        result, factory = self.start(timeout=5)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(b"2:H")
        result.cancel()
        self.failureResultOf(result, CancelledError)
        self.assertTrue(transport.disconnected)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        protocol.connectionLost(Failure(ConnectionAborted()))
        protocol.dataReceived(b"I,")


class TransformArgumentTests(SynchronousTestCase):
    """
    Bad arguments are refused before anything connects.
    """

    def test_badName(self) -> None:
        """
        A name that cannot be sent -- empty, with a C{.}, not ASCII -- raises
        L{ValueError}.
        """
        reactor = MemoryReactorClock()
        for name in ["", "up.per", "café"]:
            with self.assertRaises(ValueError, msg=repr(name)):
                transform(reactor, "127.0.0.1", 4321, name, b"x")
        self.assertEqual(reactor.tcpClients, [])

    def test_badTypes(self) -> None:
        """
        A poem that is not L{bytes}, or a name that is not L{str}, raises
        L{TypeError}.
        """
        reactor = MemoryReactorClock()
        with self.assertRaises(TypeError):
            transform(reactor, "127.0.0.1", 4321, "upper", "text")  # type: ignore[arg-type]  # deliberately wrong
        with self.assertRaises(TypeError):
            transform(reactor, "127.0.0.1", 4321, b"upper", b"x")  # type: ignore[arg-type]  # deliberately wrong
        self.assertEqual(reactor.tcpClients, [])

    def test_badTimeout(self) -> None:
        """
        A negative or NaN timeout raises L{ValueError}.
        """
        reactor = MemoryReactorClock()
        for timeout in [-1.0, float("nan")]:
            with self.assertRaises(ValueError):
                transform(reactor, "127.0.0.1", 4321, "upper", b"x", timeout=timeout)
        self.assertEqual(reactor.tcpClients, [])

    def test_reactorWithoutClock(self) -> None:
        """
        A reactor without L{IReactorTime} raises L{TypeError}.
        """
        reactor = MemoryReactor()
        with self.assertRaises(TypeError):
            transform(reactor, "127.0.0.1", 4321, "upper", b"x")
        self.assertEqual(reactor.tcpClients, [])
