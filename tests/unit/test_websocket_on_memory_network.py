"""
Unmodified C{twisted.web.websocket} over L{MemoryNetwork}: a
L{WebSocketResource} in a L{Site} on the server, L{WebSocketClientEndpoint}
on the client, application code conforming to L{WebSocketProtocol} on both
ends -- text and binary messages (larger than one read, reassembled), the
client's close with a code (L{WebSocketTransport.loseConnection} takes a
code only: the implementation's extra C{reason} argument is not in the
API), rejected handshakes, ping and pong in virtual time, the connect
timeout, the L{Site}'s idle timeout (which guards the upgrade request only)
and a reset in the middle of a message; each scenario under the default
delivery (each write whole), one-byte chunking and random chunking (from
the network's seed).

What a test injects: the network where Twisted takes a reactor, and nothing
else -- C{Site(resource, reactor=net)} (its log-date timer and
L{HTTPChannel}'s idle timeout, which runs until the upgrade request has
arrived) and C{WebSocketClientEndpoint.new(net, url)} (its
L{HostnameEndpoint} resolves, connects and times out on the network).
C{twisted.web.websocket} itself schedules nothing: it has no ping interval
and no handshake, idle or closing timeout (a grep of C{_websocket_impl.py}
for C{reactor}, C{callLater}, C{deferLater} and C{cooperate} finds only the
C{reactor} argument of C{WebSocketClientEndpoint.new}), which
L{GlobalReactorTests} verifies with the guard; a timeout is the
application's to make (C{Deferred.addTimeout(..., net)}).  One exception:
a C{wss://} URL makes the endpoint factory wrap TLS with C{wrapClientTLS}
and no clock, so the client's writes wait on the global reactor
(L{SecureWebSocketGuardTests}); C{route_global_tls_clock(net)} is the fix
(L{SecureWebSocketTests}).

The client's frame masks and handshake nonce come from C{os.urandom}, as RFC
6455 requires, not from the network's seed: the bytes differ from run to
run, their number and schedule do not (L{DeterminismTests}).

Twisted's handshake has two gaps, pinned by L{HandshakeGapTests}: a
connection lost before the handshake completes never fires the Deferred of
C{connect()}, and a cancelled C{connect()} (a timeout) leaves its TCP
connection open and the handshake running.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionDone, ConnectionLost, TimeoutError
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.web.resource import Resource
from twisted.web.server import Request, Site
from twisted.web.websocket import (
    ConnectionRejected,
    WebSocketClientEndpoint,
    WebSocketResource,
    WebSocketTransport,
)

from poetry.testing import (
    CLIENT_TO_SERVER,
    ONE_BYTE,
    SERVER_TO_CLIENT,
    CertificateAuthority,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    MemoryTransport,
    RandomSizes,
    RunUntilTimeout,
    route_global_tls_clock,
)
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import ChunkedScenarios, port_number

#: Lines of verse for the text messages (non-ASCII on purpose: one-byte
#: chunking cuts their UTF-8 encodings between reads).
LINES = (
    "A lantern hums along the harbour wall,",
    "the café boats are counted, rope by rope —",
    "each frame goes masked and sealed across the dark,",
    "and comes back turned around, and whole. ✓",
)

#: A text message far larger than one read (a read takes at most 64 KiB).
BIG_TEXT = "The tide keeps time — ébb and flöw ✓ " * 1900

#: A binary message far larger than one read.
BIG_BYTES = bytes(range(256)) * 280

#: The most a single read takes under the default delivery (C{bufferSize}).
READ_SIZE = 65536

#: The greeting the server sends as soon as the handshake is done: it leaves
#: in the same send as the C{101} response.
GREETING = "welcome aboard"

#: The authority of the C{wss://} tests' certificates (made when they run).
CA = CertificateAuthority()

#: A message as an application receives it (L{str} for text; binary as
#: L{bytes}, which the API types C{bytes | bytearray}).
_Message = str | bytes | bytearray


class _Peer:
    """
    Application code conforming to L{WebSocketProtocol}: records what it
    receives, and fires Deferreds when enough of it has arrived.
    """

    transport: WebSocketTransport

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.events: list[str] = []
        self.messages: list[_Message] = []
        self.pongs: list[tuple[bytes, float]] = []
        self.lost: list[Failure] = []
        self._waiting: list[tuple[int, Deferred[list[_Message]]]] = []
        self._ponged: list[Deferred[bytes]] = []
        self._gone: list[Deferred[None]] = []

    def negotiationStarted(self, transport: WebSocketTransport) -> None:
        self.transport = transport
        self.events.append("started")

    def negotiationFinished(self) -> None:
        self.events.append("finished")

    def textMessageReceived(self, message: str) -> None:
        self.received(message)

    def bytesMessageReceived(self, data: bytes | bytearray) -> None:
        self.received(data)  # kept as it came: the tests check its type

    def received(self, message: _Message) -> None:
        self.messages.append(message)
        self._check()

    def pongReceived(self, payload: bytes) -> None:
        self.pongs.append((payload, self.clock.seconds()))
        waiting, self._ponged = self._ponged, []
        for d in waiting:
            d.callback(payload)

    def connectionLost(self, reason: Failure) -> None:
        self.events.append("lost")
        self.lost.append(reason)
        gone, self._gone = self._gone, []
        for d in gone:
            d.callback(None)

    def messagesArrived(self, count: int) -> Deferred[list[_Message]]:
        """
        Fire with every message received once there are C{count}.
        """
        d: Deferred[list[_Message]] = Deferred()
        self._waiting.append((count, d))
        self._check()
        return d

    def _check(self) -> None:
        for entry in list(self._waiting):
            count, d = entry
            if len(self.messages) >= count:
                self._waiting.remove(entry)
                d.callback(list(self.messages))

    def nextPong(self) -> Deferred[bytes]:
        """
        Fire with the payload of the next pong received.
        """
        d: Deferred[bytes] = Deferred()
        self._ponged.append(d)
        return d

    def whenLost(self) -> Deferred[None]:
        """
        Fire (with L{None}: the reason is in C{lost}) once the connection
        is lost.
        """
        d: Deferred[None] = Deferred()
        if self.lost:
            d.callback(None)
        else:
            self._gone.append(d)
        return d


class _Echo(_Peer):
    """
    The server's application: greets, then answers each message with the
    same kind of message, reversed.
    """

    def negotiationFinished(self) -> None:
        super().negotiationFinished()
        self.transport.sendTextMessage(GREETING)

    def textMessageReceived(self, message: str) -> None:
        super().textMessageReceived(message)
        self.transport.sendTextMessage(message[::-1])

    def bytesMessageReceived(self, data: bytes | bytearray) -> None:
        super().bytesMessageReceived(data)
        self.transport.sendBytesMessage(bytes(data[::-1]))


class _ServerFactory:
    """
    A L{WebSocketServerFactory}: one L{_Echo} per accepted connection, kept.
    """

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.servers: list[_Echo] = []

    def buildProtocol(self, request: Request) -> _Echo:
        server = _Echo(self.clock)
        self.servers.append(server)
        return server


class _ClientFactory:
    """
    A L{WebSocketClientFactory}: one L{_Peer} per connection, kept.
    """

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.clients: list[_Peer] = []

    def buildProtocol(self, url: str) -> _Peer:
        client = _Peer(self.clock)
        self.clients.append(client)
        return client


class _Gate(WebSocketResource):
    """
    A WebSocket resource that refuses (C{403}) a handshake without the
    C{token=open} query argument.
    """

    def render_GET(self, request: Request) -> bytes | int:
        assert request.args is not None
        if request.args.get(b"token") != [b"open"]:
            request.setResponseCode(403)
            request.setHeader(b"content-type", b"text/plain")
            return b"no token, no passage"
        return super().render_GET(request)


class _Body(Protocol):
    """
    Collects a response body delivered by C{Response.deliverBody}.
    """

    def __init__(self) -> None:
        self.data = b""
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason


def _site(net: Any, factory: _ServerFactory, timeout: float | None = None) -> Site:
    root = Resource()
    root.putChild(b"echo", WebSocketResource(factory))
    root.putChild(b"guarded", _Gate(factory))
    if timeout is None:
        return Site(root, reactor=net)
    return Site(root, reactor=net, timeout=timeout)


def _unmask(frame: bytes) -> bytes:
    """
    The payload of one masked client frame of at most 125 bytes.
    """
    length = frame[1] & 0x7F
    mask, payload = frame[2:6], frame[6 : 6 + length]
    return bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


def _connecting(
    net: MemoryNetwork, url: str, factory: _ClientFactory, **kwargs: Any
) -> Deferred[_Peer]:
    endpoint = WebSocketClientEndpoint.new(net, url, **kwargs)
    return Deferred.fromCoroutine(endpoint.connect(factory))


def _serve_wss(case: MemoryNetworkTestCase, factory: _ServerFactory) -> str:
    """
    Serve C{factory}'s site with TLS (the test CA's certificate for
    C{localhost}) on C{case}'s network until its cleanup.

    @return: the C{wss://} URL of its echo resource.
    """
    port = case.net.listenSSL(
        0,
        _site(case.net, factory),
        CA.server_options("localhost"),
        interface="127.0.0.1",
    )
    case.addCleanup(port.stopListening)
    return f"wss://localhost:{port_number(port)}/echo"


class _WebSocketScenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.  (The L{Site} keeps a one-second timer
    on the network while it listens: the scenarios wait with C{run_until}
    and settle with C{advance(0)}.)
    """

    #: The largest piece a C{dataReceived} may get.
    largest_piece: ClassVar[int] = READ_SIZE
    #: The large messages: each needs many reads under the class's chunking.
    big_text: ClassVar[str] = BIG_TEXT
    big_bytes: ClassVar[bytes] = BIG_BYTES

    def setUp(self) -> None:
        super().setUp()
        self.factory = _ServerFactory(self.net)
        self.clients = _ClientFactory(self.net)
        self.port = self.net.listenTCP(
            0, _site(self.net, self.factory, timeout=30), interface="127.0.0.1"
        )
        self.addCleanup(self.port.stopListening)
        self.base = f"ws://127.0.0.1:{port_number(self.port)}"

    def connect(self, path: str = "/echo", **kwargs: Any) -> _Peer:
        """
        Connect a client to C{path} and wait for the handshake and the
        server's greeting.
        """
        client = self.net.run_until(
            _connecting(self.net, self.base + path, self.clients, **kwargs)
        )
        self.net.run_until(client.messagesArrived(1))
        return client

    def connection(self) -> tuple[MemoryTransport, MemoryTransport]:
        """
        The one open connection's client and server transports.
        """
        [pair] = self.net.open_connections()
        return pair

    def pieces(self, side: str) -> list[int]:
        """
        The size of every read on C{side}.
        """
        return [
            int(event.detail.split()[0])
            for event in self.net.trace
            if event.kind == "deliver" and event.side == side
        ]

    def test_echoMessages(self) -> None:
        """
        Text messages come back as L{str} and binary ones as L{bytes}, each
        exactly as the server sent it; messages larger than any one read
        (the chunking's pieces, or 64 KiB) arrive whole, in order, on both
        ends; the greeting the server wrote with its C{101} response is
        delivered too.
        """
        client = self.connect()
        self.assertEqual(client.events, ["started", "finished"])
        sent: list[str | bytes] = [
            *LINES,
            b"\x00\xffbinary\x80",
            self.big_text,
            self.big_bytes,
        ]
        for message in sent:
            if isinstance(message, str):
                client.transport.sendTextMessage(message)
            else:
                client.transport.sendBytesMessage(message)
        messages = self.net.run_until(client.messagesArrived(1 + len(sent)))
        expected = [GREETING, *(message[::-1] for message in sent)]
        self.assertEqual(messages, expected)
        self.assertEqual(
            [type(message) for message in messages],
            [type(message) for message in expected],
        )
        [server] = self.factory.servers
        self.assertEqual(server.messages, sent)
        self.assertEqual([type(m) for m in server.messages], [type(m) for m in sent])
        # No read on either side took more than the largest piece, which is
        # less than each large message: those arrived in several reads.
        self.assertGreater(len(self.big_bytes), self.largest_piece)
        self.assertGreater(len(self.big_text.encode("utf-8")), self.largest_piece)
        for side in ("client", "server"):
            self.assertLessEqual(max(self.pieces(side)), self.largest_piece)
        client.transport.loseConnection()
        self.net.advance(0)

    def test_clientCloses(self) -> None:
        """
        The client's C{loseConnection(code)} sends a close frame with the
        code, which the server answers with the same code; each side's
        application learns of the close only as C{connectionLost} with
        L{ConnectionDone} (the API reports no code), once; both TCP ends
        close.
        """
        client = self.connect()
        [server] = self.factory.servers
        client_end, server_end = self.connection()
        client.transport.loseConnection(4001)
        self.net.run_until(server.whenLost())
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])
        for peer in (client, server):
            [reason] = peer.lost
            self.assertIs(reason.type, ConnectionDone)
            self.assertEqual(peer.events, ["started", "finished", "lost"])
        code = (4001).to_bytes(2, "big")
        # The client's close frame (masked, as every client frame), then the
        # server's answer (unmasked), each the last thing its side wrote.
        client_close = client_end.written()[-8:]
        self.assertEqual(client_close[:2], b"\x88\x82")
        self.assertEqual(_unmask(client_close), code)
        self.assertTrue(server_end.written().endswith(b"\x88\x02" + code))

    def test_rejectedWrongPath(self) -> None:
        """
        A handshake for a path the L{Site} does not have fails C{connect()}
        with L{ConnectionRejected}, whose response is the site's C{404}
        page (its body closed with L{ConnectionDone}, as Twisted does); the
        rejected client's application sees the connection lost; the next
        client is served.
        """
        d = _connecting(self.net, self.base + "/nowhere", self.clients)
        error = self.assertRaises(ConnectionRejected, self.net.run_until, d)
        self.assertEqual(error.response.code, 404)
        body = _Body()
        error.response.deliverBody(body)
        self.net.advance(0)
        self.assertIn(b"No Such Resource", body.data)
        assert body.reason is not None
        self.assertIs(body.reason.type, ConnectionDone)
        [rejected] = self.clients.clients
        self.assertEqual(rejected.events, ["started", "lost"])
        self.assertEqual(self.factory.servers, [])
        self.assertEqual(self.net.open_connections(), [])
        client = self.connect()
        client.transport.sendTextMessage(LINES[0])
        messages = self.net.run_until(client.messagesArrived(2))
        self.assertEqual(messages, [GREETING, LINES[0][::-1]])
        client.transport.loseConnection()
        self.net.advance(0)

    def test_rejectedByResource(self) -> None:
        """
        A resource that refuses the handshake (C{403} without a token) fails
        C{connect()} with L{ConnectionRejected} carrying its status and
        body; the same resource with the token accepts the next client.
        """
        d = _connecting(self.net, self.base + "/guarded", self.clients)
        error = self.assertRaises(ConnectionRejected, self.net.run_until, d)
        self.assertEqual(error.response.code, 403)
        body = _Body()
        error.response.deliverBody(body)
        self.net.advance(0)
        self.assertEqual(body.data, b"no token, no passage")
        self.assertEqual(self.factory.servers, [])
        client = self.connect("/guarded?token=open")
        client.transport.sendBytesMessage(b"pass")
        messages = self.net.run_until(client.messagesArrived(2))
        self.assertEqual(messages, [GREETING, b"ssap"])
        self.assertEqual(len(self.factory.servers), 1)
        client.transport.loseConnection()
        self.net.advance(0)

    def test_pingPong(self) -> None:
        """
        With a quarter second of latency each way, a ping from either end
        is answered by Twisted (not the application) with a pong carrying
        its payload, exactly one round trip (half a virtual second) later.
        """
        if self.chunking is None:
            self.net.set_default_link(LinkConditions(latency=0.25))
        else:
            self.net.set_default_link(
                LinkConditions(chunking=self.chunking, latency=0.25)
            )
        client = self.connect()
        [server] = self.factory.servers
        start = self.net.seconds()
        client.transport.ping(b"are you there")
        self.assertEqual(self.net.run_until(client.nextPong()), b"are you there")
        self.assertEqual(client.pongs, [(b"are you there", start + 0.5)])
        server.transport.ping(b"still here")
        self.assertEqual(self.net.run_until(server.nextPong()), b"still here")
        self.assertEqual(server.pongs, [(b"still here", start + 1.0)])
        self.assertEqual(client.messages, [GREETING])
        self.assertEqual(server.messages, [])
        client.transport.loseConnection()
        self.net.run_until(server.whenLost())
        self.net.advance(0)

    def test_connectTimeout(self) -> None:
        """
        C{connectTimeout=5} against a server whose connections hang fails
        C{connect()} with L{TimeoutError} at exactly five virtual seconds;
        the client's application was never built.
        """
        self.net.faults.hang(self.port)
        d = _connecting(self.net, self.base + "/echo", self.clients, connectTimeout=5)
        self.assertRaises(TimeoutError, self.net.run_until, d)
        self.assertEqual(self.net.seconds(), 5.0)
        self.assertEqual(self.clients.clients, [])

    def test_siteTimeoutGuardsUpgradeOnly(self) -> None:
        """
        The L{Site}'s idle timeout (30 s) drops a TCP client that never
        sends the upgrade request after exactly 30 virtual seconds, but not
        an upgraded WebSocket connection idle for 300: it still echoes.
        """
        client = self.connect()
        lost: Deferred[None] = Deferred()

        class Silent(Protocol):
            def connectionLost(self, reason: Failure = connectionDone) -> None:
                lost.callback(None)

        endpoint = TCP4ClientEndpoint(self.net, "127.0.0.1", port_number(self.port))
        self.net.run_until(connectProtocol(endpoint, Silent()))
        start = self.net.seconds()
        self.net.run_until(lost)
        self.assertEqual(self.net.seconds(), start + 30)
        self.net.advance(300)
        self.assertEqual(len(self.net.open_connections()), 1)
        client.transport.sendTextMessage(LINES[1])
        messages = self.net.run_until(client.messagesArrived(2))
        self.assertEqual(messages, [GREETING, LINES[1][::-1]])
        client.transport.loseConnection()
        self.net.advance(0)

    def test_resetMidMessage(self) -> None:
        """
        A reset once half of a large binary message has left the client:
        the server gets exactly the bytes before it and no part of the
        message (only the earlier, whole one), and both applications learn
        of it as C{connectionLost} with L{ConnectionLost}.
        """
        client = self.connect()
        [server] = self.factory.servers
        client.transport.sendTextMessage(LINES[2])
        self.net.run_until(client.messagesArrived(2))
        client_end, _ = self.connection()
        sent = self.net.faults.stream_offset(client_end, CLIENT_TO_SERVER)
        cut = sent + len(self.big_bytes) // 2
        self.net.faults.reset(client_end, after_bytes=cut, direction=CLIENT_TO_SERVER)
        client.transport.sendBytesMessage(self.big_bytes)
        self.net.run_until(client.whenLost())
        [reason] = client.lost
        self.assertIs(reason.type, ConnectionLost)
        self.net.run_until(server.whenLost())
        self.net.advance(0)
        [server_reason] = server.lost
        self.assertIs(server_reason.type, ConnectionLost)
        self.assertEqual(server.messages, [LINES[2]])
        self.assertEqual(sum(self.pieces("server")), cut)
        self.assertEqual(client.messages, [GREETING, LINES[2][::-1]])
        self.assertEqual(self.net.open_connections(), [])


class DefaultDeliveryWebSocketTests(_WebSocketScenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole (a read takes up to 64
    KiB).
    """


class OneByteWebSocketTests(_WebSocketScenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own -- the large messages
    cut to a few kilobytes (each still thousands of reads, its frame header
    and multi-byte characters cut between reads), since Twisted and wsproto
    take tens of microseconds per read: the 64-bit length headers of
    messages over 64 KiB are cut by the other two classes.
    """

    chunking = ONE_BYTE
    largest_piece = 1
    big_text = BIG_TEXT[:2000]
    big_bytes = BIG_BYTES[:5000]


class RandomChunkingWebSocketTests(_WebSocketScenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 700)
    largest_piece = 700


class GlobalReactorTests(MemoryNetworkTestCase):
    """
    Plain C{ws://}: nothing in C{twisted.web.websocket} schedules on the
    global reactor.
    """

    def test_plainWebSocketNeedsNoRouting(self) -> None:
        """
        An inner test connects, exchanges messages, pings and closes, with
        a stand-in global reactor and no routing: it passes, so the guard
        found nothing scheduled on the global reactor or cooperator.
        """
        stand_in_global_reactor(self)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                factory = _ServerFactory(self.net)
                port = self.net.listenTCP(
                    0, _site(self.net, factory), interface="127.0.0.1"
                )
                self.addCleanup(port.stopListening)
                url = f"ws://127.0.0.1:{port_number(port)}/echo"
                client = self.net.run_until(
                    _connecting(self.net, url, _ClientFactory(self.net))
                )
                client.transport.sendTextMessage(LINES[3])
                client.transport.sendBytesMessage(BIG_BYTES)
                pong = client.nextPong()
                client.transport.ping(b"ping")
                messages = self.net.run_until(client.messagesArrived(3))
                self.assertEqual(messages, [GREETING, LINES[3][::-1], BIG_BYTES[::-1]])
                self.assertEqual(self.net.run_until(pong), b"ping")
                client.transport.loseConnection()
                self.net.advance(0)

        result = TestResult()
        Inner("test_inner").run(result)
        self.assertEqual((result.errors, result.failures), ([], []))
        self.assertEqual(result.successes, 1)


class SecureWebSocketGuardTests(MemoryNetworkTestCase):
    """
    C{wss://}: the endpoint factory wraps TLS without a clock, so the
    client's writes wait on the global reactor; the guard names it.
    """

    def test_wssWithoutTLSClock(self) -> None:
        """
        Without C{route_global_tls_clock}, the inner test's handshake never
        completes (the client's upgrade request waits for a flush scheduled
        on the global reactor): its bounded wait fails listing the TLS
        flush on the global reactor and the fix.
        """
        stand_in_global_reactor(self)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                url = _serve_wss(self, _ServerFactory(self.net))
                d = _connecting(
                    self.net,
                    url,
                    _ClientFactory(self.net),
                    tlsPolicy=CA.https_policy(),
                )
                self.net.run_until(d, timeout=10)

        result = TestResult()
        Inner("test_inner").run(result)
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(RunUntilTimeout))
        text = failure.getErrorMessage()
        self.assertIn("Work waiting on the global reactor", text)
        self.assertIn("_AggregateSmallWrites._scheduledFlush", text)
        self.assertIn("route_global_tls_clock", text)


class SecureWebSocketTests(MemoryNetworkTestCase):
    """
    C{wss://} with the fix, under random chunking of the TLS records.
    """

    def test_echoOverTLS(self) -> None:
        """
        With C{route_global_tls_clock(net)}, a C{wss://} client trusting the
        test's CA echoes a text and a large binary message with a
        L{WebSocketResource} behind C{listenSSL}, and closes.
        """
        self.addCleanup(route_global_tls_clock(self.net))
        self.net.set_default_link(LinkConditions(chunking=RandomSizes(1, 700)))
        factory = _ServerFactory(self.net)
        url = _serve_wss(self, factory)
        client = self.net.run_until(
            _connecting(
                self.net, url, _ClientFactory(self.net), tlsPolicy=CA.https_policy()
            )
        )
        client.transport.sendTextMessage(LINES[0])
        client.transport.sendBytesMessage(BIG_BYTES)
        messages = self.net.run_until(client.messagesArrived(3))
        self.assertEqual(messages, [GREETING, LINES[0][::-1], BIG_BYTES[::-1]])
        [server] = factory.servers
        client.transport.loseConnection()
        self.net.run_until(server.whenLost())
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])


class HandshakeGapTests(MemoryNetworkTestCase):
    """
    Two gaps of Twisted's client handshake (the real reactor would behave
    the same: C{_WebSocketWireProtocol} never fails or closes what
    C{connect()} waits on), pinned so that a fix shows.
    """

    def setUp(self) -> None:
        super().setUp()
        self.factory = _ServerFactory(self.net)
        self.port = self.net.listenTCP(
            0, _site(self.net, self.factory), interface="127.0.0.1"
        )
        self.addCleanup(self.port.stopListening)
        self.url = f"ws://127.0.0.1:{port_number(self.port)}/echo"
        self.clients = _ClientFactory(self.net)

    def test_lossDuringHandshakeNeverFiresConnect(self) -> None:
        """
        A reset after ten bytes of the C{101} response: the client's
        application gets C{connectionLost} with L{ConnectionLost}, but the
        Deferred of C{connect()} has no result a minute later (the wire
        protocol's C{connectionLost} does not fail it).
        """
        self.net.faults.reset(self.port, after_bytes=10, direction=SERVER_TO_CLIENT)
        d = _connecting(self.net, self.url, self.clients)
        self.net.advance(0)
        [client] = self.clients.clients
        self.assertEqual(client.events, ["started", "lost"])
        [reason] = client.lost
        self.assertIs(reason.type, ConnectionLost)
        self.net.advance(60)
        self.assertNoResult(d)
        self.assertEqual(self.net.open_connections(), [])

    def test_cancelledConnectKeepsHandshaking(self) -> None:
        """
        A handshake whose response is stalled, bounded with
        C{addTimeout(5, net)}: C{connect()} fails with
        L{defer.TimeoutError} at five virtual seconds, but its TCP
        connection stays open, and once the response comes the client's
        application is told the negotiation finished (the caller never got
        it).
        """
        self.net.faults.stall(self.port, SERVER_TO_CLIENT)
        d = _connecting(self.net, self.url, self.clients).addTimeout(5, self.net)
        self.assertRaises(defer.TimeoutError, self.net.run_until, d)
        self.assertEqual(self.net.seconds(), 5.0)
        self.assertEqual(len(self.net.open_connections()), 1)
        self.net.faults.resume(self.port, SERVER_TO_CLIENT)
        [client] = self.clients.clients
        self.net.run_until(client.messagesArrived(1))
        self.assertEqual(client.events, ["started", "finished"])
        self.assertEqual(client.messages, [GREETING])
        client.transport.loseConnection()
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])


def _conversation(net: MemoryNetwork) -> bytes:
    """
    A client exchanges messages with the echo server on C{net}, closes, and
    the port stops; return every byte the client wrote.
    """
    factory = _ServerFactory(net)
    port = net.listenTCP(0, _site(net, factory), interface="127.0.0.1")
    url = f"ws://127.0.0.1:{port_number(port)}/echo"
    client = net.run_until(_connecting(net, url, _ClientFactory(net)))
    [(client_end, _)] = net.open_connections()
    for line in LINES:
        client.transport.sendTextMessage(line)
    client.transport.sendBytesMessage(BIG_BYTES)
    net.run_until(client.messagesArrived(2 + len(LINES)))
    client.transport.loseConnection()
    net.run_until(factory.servers[0].whenLost())
    stopped = port.stopListening()
    assert stopped is not None
    net.run_until(stopped)
    return client_end.written()


class DeterminismTests(MemoryNetworkTestCase):
    """
    One seed, one schedule -- though not the same bytes.
    """

    def test_sameSeedSameTrace(self) -> None:
        """
        The conversation run twice on networks with the test's seed and
        random chunking has the same trace, event for event (times, sizes,
        pieces), while the client's bytes differ (the handshake nonce and
        frame masks come from C{os.urandom}).
        """
        runs = []
        for _ in range(2):
            net = MemoryNetwork(
                self.net.seed, link=LinkConditions(chunking=RandomSizes(1, 700))
            )
            written = _conversation(net)
            runs.append((net.trace, written))
        (first, first_bytes), (second, second_bytes) = runs
        self.assertEqual(first, second)
        self.assertGreater(len(first), 100)
        self.assertEqual(len(first_bytes), len(second_bytes))
        self.assertNotEqual(first_bytes, second_bytes)
