"""
Unmodified HTTP/2 from Twisted over L{MemoryNetwork}: a
C{Site(resource, reactor=net)} behind C{net.listenSSL} whose TLS options
offer ALPN C{h2} and C{http/1.1}, so that Twisted's
C{_GenericHTTPChannelProtocol} swaps its L{HTTPChannel} for
C{twisted.web._http2.H2Connection} when C{h2} is negotiated; and a client
made of the C{h2} library's L{h2.connection.H2Connection} in client mode in
a small Twisted L{Protocol} over C{net.connectSSL} (Twisted has no HTTP/2
client).  Shown: ALPN C{h2} on both ends, a body larger than the initial
flow-control window (65,535 bytes) that arrives whole only through the
client's C{WINDOW_UPDATE}s, five streams multiplexed (and interleaved) on
one connection, a C{POST} body echoed reversed, a client offering only
C{http/1.1} (Twisted's own L{Agent}) served HTTP/1.1 on the same port, a
reset in the middle of a response, and the idle timeout on the virtual
clock -- each under the default delivery (each write whole), one-byte
chunking and random chunking (from the network's seed) of the TLS records.

What a test injects, and why:

 - C{Site(resource, reactor=net)}, as for HTTP/1.1: the L{Site}'s log-date
   timer, and the idle timeout, which the generic channel hands on to the
   C{H2Connection} it builds (C{callLater = net.callLater}, C{timeOut}).
 - C{self.addCleanup(route_http2_reactor(self.net))} (which replaces
   C{twisted.web.http.H2Connection} with the class given C{reactor=net};
   L{route_h2_reactor} here): the generic channel builds
   C{H2Connection()} with B{no} reactor -- not the L{Site}'s -- so it falls
   back to the global reactor, where it schedules its data-sending loop
   (C{callLater(0, self._sendPrioritisedData)}, rescheduled after every
   frame) and reads C{seconds()} for its stream-reset rate limit.  Without
   it no response is ever sent: the requests arrive and are rendered, but
   their frames wait on a loop the network never runs
   (L{GlobalReactorGuardTests} shows the guard naming it).  C{H2Connection}
   takes a C{reactor} argument; Twisted just does not pass it one.
 - Nothing for the TLS clock on the server: C{net.listenSSL} and
   C{net.connectSSL} give their TLS factories the network as clock.  The
   HTTP/1.1 fallback test uses L{Agent} over C{https}, which builds TLS
   without a clock: it uses C{route_global_tls_clock(net)}, as documented.

Nothing in C{twisted.web._http2} uses C{task.cooperate}, C{LoopingCall} or
C{deferLater}; a resource that returns its body (or writes it) needs no
cooperator.  (A I{pull} producer on an HTTP/2 stream -- C{static.File} --
would go through C{_PullToPush} and the global cooperator, as it does over
HTTP/1.1: C{route_global_cooperator(net)}.)

Under TLS, chunking cuts the TLS records, not the HTTP/2 frames: the
application reads whole records (up to 16 KiB) however the bytes beneath
arrived, and a 16 KiB C{DATA} frame with its header spans two records, so
frames are still cut between reads.

Two behaviours of Twisted's HTTP/2 server (the real reactor's too) are
pinned.  The idle timeout sends C{GOAWAY}, but its C{loseConnection} waits
on TLS, whose producer the C{H2Connection} still is: a client that keeps the
connection open loses it only at C{abortTimeout}, 15 s later
(C{test_idleTimeout}).  And while a stream's flow-control window is
exhausted, the sending loop reschedules itself with C{callLater(0)} without
end -- a busy loop on the real reactor; on the virtual clock, time cannot
pass it, so with latency on the link a body larger than the window never
arrives unless the client opens its windows up front
(L{ExhaustedWindowTests}).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from h2 import events
from h2.config import H2Configuration
from h2.connection import H2Connection as H2ClientConnection
from h2.settings import SettingCodes
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionLost
from twisted.internet.interfaces import (
    IAddress,
    IHandshakeListener,
    IListeningPort,
    INegotiated,
    IOpenSSLClientConnectionCreator,
)
from twisted.internet.protocol import ClientFactory, Protocol, connectionDone
from twisted.internet.ssl import CertificateOptions, optionsForClientTLS
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase
from twisted.web import http
from twisted.web._http2 import H2Connection
from twisted.web.client import Agent, HTTPConnectionPool, readBody
from twisted.web.iweb import IPolicyForHTTPS
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site
from zope.interface import implementer

from poetry.testing import (
    ONE_BYTE,
    SERVER_TO_CLIENT,
    CertificateAuthority,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    MemoryTransport,
    RandomSizes,
    RunUntilTimeout,
    StepBudgetExceeded,
    route_global_tls_clock,
    route_http2_reactor,
)
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import ChunkedScenarios, port_number

#: The authority of the tests' certificates (made when they run).
CA = CertificateAuthority()

#: Lines for the response bodies (written for these tests).
LINES = (
    "Five lanterns leave the quay on a single rope,",
    "each one lit by a different hand,",
    "and the ferryman counts them in no fixed order,",
    "trusting the knots to keep their names apart,",
    "until all five swing, steady, on the far bank.",
)

#: The initial flow-control window of HTTP/2, for a stream and for the
#: connection (RFC 9113, section 6.9.2).
INITIAL_WINDOW = 65_535

#: The large body: far more than the initial window.
BIG_BODY = ("\n".join(LINES) + "\n").encode("utf-8") * 875

#: The HTTP/2 frame type of C{WINDOW_UPDATE}.
WINDOW_UPDATE = 0x8

#: What the HTTP/2 client writes before its first frame.
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def route_h2_reactor(case: SynchronousTestCase, net: MemoryNetwork) -> None:
    """
    Make the C{H2Connection} that C{twisted.web.http} builds on ALPN C{h2}
    run on C{net} for the rest of C{case} (L{route_http2_reactor}): Twisted
    builds it without a reactor (so on the global one); C{H2Connection}
    takes one.
    """
    case.addCleanup(route_http2_reactor(net))


def server_options(*protocols: bytes) -> CertificateOptions:
    """
    The server's TLS options: a certificate for C{localhost} from L{CA},
    offering C{protocols} by ALPN.
    """
    issued = CA.issue("localhost", "127.0.0.1")
    return CertificateOptions(
        privateKey=issued.privateKey.original,
        certificate=issued.original,
        acceptableProtocols=list(protocols),
    )


def client_options(*protocols: bytes) -> IOpenSSLClientConnectionCreator:
    """
    A client's TLS options trusting L{CA} for C{localhost}, offering
    C{protocols} by ALPN.
    """
    return optionsForClientTLS(
        "localhost", trustRoot=CA.certificate, acceptableProtocols=list(protocols)
    )


@implementer(IPolicyForHTTPS)
class _OfferHTTP11:
    """
    An L{IPolicyForHTTPS} for L{Agent}: trust L{CA}, offer C{http/1.1} only.
    """

    def creatorForNetloc(
        self, hostname: bytes, port: int
    ) -> IOpenSSLClientConnectionCreator:
        return client_options(b"http/1.1")


def window_updates(written: bytes) -> list[int]:
    """
    The stream of every C{WINDOW_UPDATE} frame in what an HTTP/2 client
    wrote (its preface, then frames), in order (0: the connection's).
    """
    assert written.startswith(PREFACE)
    offset, streams = len(PREFACE), []
    while offset < len(written):
        length = int.from_bytes(written[offset : offset + 3], "big")
        kind = written[offset + 3]
        stream = int.from_bytes(written[offset + 5 : offset + 9], "big") & 0x7FFFFFFF
        if kind == WINDOW_UPDATE:
            streams.append(stream)
        offset += 9 + length
    assert offset == len(written)
    return streams


@dataclass
class _Response:
    """
    A complete response on one stream.
    """

    status: int
    headers: dict[bytes, bytes]
    body: bytes


@dataclass
class _Stream:
    """
    A request in flight: the response so far and who waits for it.
    """

    done: Deferred[_Response] = field(default_factory=Deferred)
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)


@implementer(IHandshakeListener)
class _H2Client(Protocol):
    """
    An HTTP/2 client: the C{h2} library's connection in client mode,
    driven by a Twisted protocol over TLS.  Acknowledges every C{DATA}
    frame as it is read (unless C{acknowledging} is false: then they are
    C{held} until L{acknowledge}), so that C{h2} reopens the windows with
    C{WINDOW_UPDATE}s.

    @ivar window: the flow-control window the client opens up front, for
        each stream and for the connection.
    @ivar written: every byte the client wrote (before TLS).
    @ivar data_streams: the stream of every C{DATA} frame read, in order.
    @ivar received: how many body bytes were read, on all streams.
    @ivar goaway: the error code of every C{GOAWAY} received.
    @ivar terminated: fires with the error code of the first C{GOAWAY}.
    """

    def __init__(self, window: int = INITIAL_WINDOW) -> None:
        self.window = window
        self.conn = H2ClientConnection(
            H2Configuration(client_side=True, header_encoding=None)
        )
        self.streams: dict[int, _Stream] = {}
        self.written = b""
        self.data_streams: list[int] = []
        self.received = 0
        self.goaway: list[int] = []
        self.negotiated: bytes | None = None
        self.handshake: Deferred[bytes | None] = Deferred()
        self.terminated: Deferred[int] = Deferred()
        self.reason: Failure | None = None
        self._lost: list[Deferred[None]] = []
        self.acknowledging = True
        self.held: dict[int, int] = {}

    def _flush(self) -> None:
        assert self.transport is not None
        data = self.conn.data_to_send()
        if data:
            self.written += data
            self.transport.write(data)

    def connectionMade(self) -> None:
        self.conn.initiate_connection()
        if self.window != INITIAL_WINDOW:
            self.conn.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: self.window})
            self.conn.increment_flow_control_window(self.window - INITIAL_WINDOW)
        self._flush()  # sent once the handshake is done

    def handshakeCompleted(self) -> None:
        self.negotiated = INegotiated(self.transport).negotiatedProtocol
        self.handshake.callback(self.negotiated)

    def request(
        self, method: bytes, path: bytes, body: bytes = b""
    ) -> Deferred[_Response]:
        """
        Send a request on a new stream; fire with its response.
        """
        stream_id = self.conn.get_next_available_stream_id()
        headers = [
            (b":method", method),
            (b":path", path),
            (b":scheme", b"https"),
            (b":authority", b"localhost"),
        ]
        if body:
            headers.append((b"content-length", b"%d" % (len(body),)))
        stream = self.streams[stream_id] = _Stream()
        self.conn.send_headers(stream_id, headers, end_stream=not body)
        if body:
            assert len(body) <= self.conn.max_outbound_frame_size
            self.conn.send_data(stream_id, body, end_stream=True)
        self._flush()
        return stream.done

    def acknowledge(self) -> None:
        """
        Tell C{h2} that the body bytes read so far were consumed (it sends
        C{WINDOW_UPDATE}s once enough are).
        """
        held, self.held = self.held, {}
        for stream_id, length in held.items():
            self.conn.acknowledge_received_data(length, stream_id)
        self._flush()

    def dataReceived(self, data: bytes) -> None:
        for event in self.conn.receive_data(data):
            if isinstance(event, events.ResponseReceived):
                self.streams[event.stream_id].headers.extend(_pairs(event.headers))
            elif isinstance(event, events.DataReceived):
                assert event.data is not None
                self.streams[event.stream_id].body.append(event.data)
                self.received += len(event.data)
                self.data_streams.append(event.stream_id)
                held = self.held.get(event.stream_id, 0)
                self.held[event.stream_id] = held + event.flow_controlled_length
                if self.acknowledging:
                    self.acknowledge()
            elif isinstance(event, events.StreamEnded):
                stream = self.streams.pop(event.stream_id)
                headers = dict(stream.headers)
                status = int(headers.pop(b":status"))
                stream.done.callback(_Response(status, headers, b"".join(stream.body)))
            elif isinstance(event, events.ConnectionTerminated):
                assert event.error_code is not None
                self.goaway.append(int(event.error_code))
                if not self.terminated.called:
                    self.terminated.callback(self.goaway[0])
        self._flush()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        streams, self.streams = self.streams, {}
        for stream in streams.values():
            stream.done.errback(reason)
        lost, self._lost = self._lost, []
        for d in lost:
            d.callback(None)

    def whenLost(self) -> Deferred[None]:
        """
        Fire (with L{None}: the reason is in C{reason}) once the connection
        is lost.
        """
        d: Deferred[None] = Deferred()
        if self.reason is not None:
            d.callback(None)
        else:
            self._lost.append(d)
        return d


def _pairs(headers: Sequence[Any]) -> list[tuple[bytes, bytes]]:
    """
    Header pairs as C{h2} hands them over (C{header_encoding=None}: bytes).
    """
    return [(bytes(name), bytes(value)) for name, value in headers]


class _OneClient(ClientFactory):
    """
    Builds the one given protocol.
    """

    noisy = False

    def __init__(self, client: Protocol) -> None:
        self.client = client

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        return self.client


class _Served:
    """
    What the server's resources saw: the protocol version of each request
    and how each streamed response ended.
    """

    def __init__(self, big_body: bytes = BIG_BODY) -> None:
        self.big_body = big_body
        self.protocols: list[bytes] = []
        self.streamed: list[Failure | None] = []


class _Leaf(Resource):
    """
    A resource that answers for every path below it and records each
    request's protocol version.
    """

    isLeaf = True

    def __init__(self, served: _Served) -> None:
        super().__init__()
        self.served = served

    def record(self, request: Request) -> None:
        assert request.clientproto is not None
        self.served.protocols.append(request.clientproto)


class _Poem(_Leaf):
    """
    C{GET}: the large body, with a content type and a header of its own.
    """

    def render_GET(self, request: Request) -> bytes:
        self.record(request)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        request.setHeader(b"x-lanterns", b"%d" % (len(LINES),))
        return self.served.big_body


class _Line(_Leaf):
    """
    C{GET /line/N}: L{line_body}, more than one C{DATA} frame; or, with
    C{short}, C{/short/N}: line C{N} alone.
    """

    def __init__(self, served: _Served, short: bool = False) -> None:
        super().__init__(served)
        self.short = short

    def render_GET(self, request: Request) -> bytes:
        self.record(request)
        assert request.postpath is not None
        [number] = request.postpath
        if self.short:
            return LINES[int(number)].encode("utf-8")
        return line_body(int(number))


class _Reverse(_Leaf):
    """
    C{POST}: the request body, reversed.
    """

    def render_POST(self, request: Request) -> bytes:
        self.record(request)
        assert request.content is not None
        body: bytes = request.content.read()
        return body[::-1]


class _Unfinished(_Leaf):
    """
    C{GET}: writes the large body and leaves the response open; records
    how it ended (L{None}: finished) once it does.
    """

    def render_GET(self, request: Request) -> object:
        self.record(request)
        request.write(self.served.big_body)

        def ended(result: Failure | None) -> None:
            self.served.streamed.append(result)

        request.notifyFinish().addBoth(ended)
        return NOT_DONE_YET


def line_body(number: int) -> bytes:
    """
    The body of C{/line/number}: the line, repeated to just over 17,000
    bytes (so two C{DATA} frames of at most 16 KiB).
    """
    line = (LINES[number] + "\n").encode("utf-8")
    return line * (17_000 // len(line) + 1)


def _site(net: MemoryNetwork, served: _Served, timeout: float = 60) -> Site:
    root = Resource()
    root.putChild(b"poem", _Poem(served))
    root.putChild(b"line", _Line(served))
    root.putChild(b"short", _Line(served, short=True))
    root.putChild(b"reverse", _Reverse(served))
    root.putChild(b"unfinished", _Unfinished(served))
    return Site(root, reactor=net, timeout=timeout)


def _listen(case: MemoryNetworkTestCase, site: Site) -> IListeningPort:
    """
    Serve C{site} over TLS offering C{h2} and C{http/1.1} on C{case}'s
    network, until C{case}'s cleanup.
    """
    port = case.net.listenSSL(
        0, site, server_options(b"h2", b"http/1.1"), interface="127.0.0.1"
    )
    case.addCleanup(port.stopListening)
    return port


def _connect(
    net: MemoryNetwork, port: IListeningPort, window: int = INITIAL_WINDOW
) -> _H2Client:
    """
    Connect an HTTP/2 client (opening C{window} up front) offering C{h2}
    to C{port}, and wait for the TLS handshake.
    """
    client = _H2Client(window)
    net.connectSSL(
        "127.0.0.1", port_number(port), _OneClient(client), client_options(b"h2")
    )
    net.run_until(client.handshake)
    return client


class _HTTP2Scenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.  (The L{Site} keeps a one-second timer
    on the network while it listens: the scenarios wait with C{run_until}
    and settle with C{advance(0)}.)
    """

    #: The large body: more than the initial window, whatever the class.
    big_body: ClassVar[bytes] = BIG_BODY

    def setUp(self) -> None:
        super().setUp()
        route_h2_reactor(self, self.net)
        self.served = _Served(self.big_body)
        self.port = self.listen(_site(self.net, self.served))

    def listen(self, site: Site) -> IListeningPort:
        """
        Serve C{site} over TLS offering C{h2} and C{http/1.1}.
        """
        return _listen(self, site)

    def connect(self, port: IListeningPort | None = None) -> _H2Client:
        """
        Connect an HTTP/2 client offering C{h2} and wait for the handshake.
        """
        return _connect(self.net, self.port if port is None else port)

    def accepted(self) -> int:
        """
        How many connections the listening ports have accepted.
        """
        return sum(1 for event in self.net.trace if event.kind == "accept")

    def connection(self) -> tuple[MemoryTransport, MemoryTransport]:
        """
        The one open connection's client and server transports.
        """
        [pair] = self.net.open_connections()
        return pair

    def close(self, client: _H2Client) -> None:
        """
        Close C{client}'s connection; both ends close.
        """
        assert client.transport is not None
        client.transport.loseConnection()
        self.net.run_until(client.whenLost())
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_largeBodyThroughFlowControl(self) -> None:
        """
        ALPN negotiates C{h2} on both ends; a C{GET} of a body larger than
        the initial flow-control window comes back C{200} with its headers
        and the body whole, which took the client's C{WINDOW_UPDATE}s for
        the stream and for the connection; the server saw an C{HTTP/2}
        request.
        """
        client = self.connect()
        self.assertEqual(client.negotiated, b"h2")
        _, server_end = self.connection()
        self.assertEqual(INegotiated(server_end.protocol).negotiatedProtocol, b"h2")
        response = self.net.run_until(client.request(b"GET", b"/poem"))
        self.assertEqual(response.status, 200)
        self.assertEqual(
            response.headers[b"content-type"], b"text/plain; charset=utf-8"
        )
        self.assertEqual(response.headers[b"x-lanterns"], b"5")
        self.assertGreater(len(self.big_body), INITIAL_WINDOW)
        self.assertEqual(response.body, self.big_body)
        updates = window_updates(client.written)
        self.assertIn(0, updates)
        self.assertIn(1, updates)
        self.assertEqual(self.served.protocols, [b"HTTP/2"])
        self.close(client)

    def test_multiplexedStreams(self) -> None:
        """
        Five C{GET}s sent at once on one connection come back on their own
        streams, each with its own body, their C{DATA} frames interleaved;
        the server accepted one connection.
        """
        client = self.connect()
        requests = [
            client.request(b"GET", b"/line/%d" % (number,)) for number in range(5)
        ]
        self.assertEqual(sorted(client.streams), [1, 3, 5, 7, 9])
        for number, d in enumerate(requests):
            response = self.net.run_until(d)
            self.assertEqual(response.status, 200)
            self.assertEqual(response.body, line_body(number))
        self.assertEqual(self.accepted(), 1)
        self.assertEqual(len(self.net.open_connections()), 1)
        self.assertEqual(self.served.protocols, [b"HTTP/2"] * 5)
        # Each body takes two frames at least: one stream after another
        # would make five runs of one stream.
        runs = [
            stream
            for index, stream in enumerate(client.data_streams)
            if index == 0 or client.data_streams[index - 1] != stream
        ]
        self.assertGreater(len(runs), 5)
        self.close(client)

    def test_postEchoedReversed(self) -> None:
        """
        A C{POST} with a body comes back C{200} with the body reversed.
        """
        client = self.connect()
        body = ("\n".join(LINES[::-1]) + "\n").encode("utf-8") * 40
        response = self.net.run_until(client.request(b"POST", b"/reverse", body))
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, body[::-1])
        self.assertEqual(response.headers[b"content-length"], b"%d" % (len(body),))
        self.assertEqual(self.served.protocols, [b"HTTP/2"])
        self.close(client)

    def test_http11Fallback(self) -> None:
        """
        Twisted's L{Agent} offering only C{http/1.1} is served HTTP/1.1 on
        the same port (the server's TLS negotiated C{http/1.1}, its
        resource saw an C{HTTP/1.1} request, the response is HTTP/1.1),
        then an HTTP/2 client is served HTTP/2 there.
        """
        self.addCleanup(route_global_tls_clock(self.net))
        pool = HTTPConnectionPool(self.net)
        agent = Agent(self.net, contextFactory=_OfferHTTP11(), pool=pool)
        url = b"https://127.0.0.1:%d/short/2" % (port_number(self.port),)
        response = self.net.run_until(agent.request(b"GET", url))
        self.assertEqual(response.version, (b"HTTP", 1, 1))
        self.assertEqual(response.code, 200)
        self.assertEqual(self.net.run_until(readBody(response)), LINES[2].encode())
        _, server_end = self.connection()
        self.assertEqual(
            INegotiated(server_end.protocol).negotiatedProtocol, b"http/1.1"
        )
        self.net.run_until(pool.closeCachedConnections())
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])
        client = self.connect()
        self.assertEqual(client.negotiated, b"h2")
        h2_response = self.net.run_until(client.request(b"GET", b"/short/2"))
        self.assertEqual(h2_response.body, LINES[2].encode())
        self.assertEqual(self.served.protocols, [b"HTTP/1.1", b"HTTP/2"])
        self.close(client)

    def test_resetMidResponse(self) -> None:
        """
        A reset once 40,000 bytes of a response have left the server: the
        client's request fails before the body is complete and its protocol
        sees L{ConnectionLost}; the server's unfinished request ends with
        L{ConnectionLost} and both ends close; the next client is served.
        """
        client = self.connect()
        client_end, _ = self.connection()
        sent = self.net.faults.stream_offset(client_end, SERVER_TO_CLIENT)
        self.net.faults.reset(
            client_end, after_bytes=sent + 40_000, direction=SERVER_TO_CLIENT
        )
        d = client.request(b"GET", b"/unfinished")
        self.net.run_until(client.whenLost())
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionLost))
        self.failureResultOf(d, ConnectionLost)
        self.assertLess(client.received, 40_000)
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])
        [ended] = self.served.streamed
        assert isinstance(ended, Failure)
        self.assertTrue(ended.check(ConnectionLost))
        following = self.connect()
        response = self.net.run_until(following.request(b"GET", b"/short/3"))
        self.assertEqual(response.body, LINES[3].encode())
        self.assertEqual(self.accepted(), 2)
        self.close(following)

    def test_idleTimeout(self) -> None:
        """
        The L{Site}'s idle timeout (30 s) becomes the HTTP/2 connection's,
        on the virtual clock: a request 20 seconds after the first
        postpones it, and 30 seconds after the second the server sends
        C{GOAWAY} with C{NO_ERROR} -- but (as on the real reactor) its
        C{loseConnection} waits on TLS, whose producer the
        C{H2Connection} still is, so a client that keeps the connection
        open loses it only when C{H2Connection.abortTimeout} (15 s) aborts
        it: L{ConnectionLost}.
        """
        served = _Served(self.big_body)
        port = self.listen(_site(self.net, served, timeout=30))
        client = self.connect(port)
        first = self.net.run_until(client.request(b"GET", b"/short/4"))
        self.assertEqual(first.body, LINES[4].encode())
        self.net.advance(20)
        self.assertEqual(client.goaway, [])
        start = self.net.seconds()
        second = self.net.run_until(client.request(b"GET", b"/short/0"))
        self.assertEqual(second.body, LINES[0].encode())
        self.assertEqual(self.net.run_until(client.terminated), 0)
        self.assertEqual(self.net.seconds(), start + 30)
        self.assertIsNone(client.reason)
        self.net.run_until(client.whenLost())
        self.assertEqual(H2Connection.abortTimeout, 15)
        self.assertEqual(self.net.seconds(), start + 30 + 15)
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionLost))
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])


class DefaultDeliveryHTTP2Tests(_HTTP2Scenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteHTTP2Tests(_HTTP2Scenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own -- the large body cut
    to 66,000 bytes (still more than the initial window), since each of its
    TLS bytes is a read.
    """

    chunking = ONE_BYTE
    big_body = BIG_BODY[:66_000]


class RandomChunkingHTTP2Tests(_HTTP2Scenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 700)


def _serve_and_get(case: MemoryNetworkTestCase) -> _Response:
    """
    Serve HTTP/2 on C{case}'s network, connect a client and C{GET} the
    large body (waiting ten virtual seconds at most).
    """
    net = case.net
    client = _connect(net, _listen(case, _site(net, _Served())))
    response = net.run_until(client.request(b"GET", b"/poem"), timeout=10)
    assert client.transport is not None
    client.transport.loseConnection()
    net.run_until(client.whenLost())
    net.advance(0)
    return response


class GlobalReactorGuardTests(MemoryNetworkTestCase):
    """
    Twisted builds its C{H2Connection} without the L{Site}'s reactor: the
    guard names the loop it schedules on the global reactor.
    """

    def test_h2ConnectionWithoutReactor(self) -> None:
        """
        Without L{route_h2_reactor}, the inner test's request is never
        answered: its bounded wait fails listing the C{H2Connection}'s
        data-sending loop, scheduled on the global reactor through
        C{twisted/web/_http2.py}; the guard cancels it.
        """
        stand_in = stand_in_global_reactor(self)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                _serve_and_get(self)

        result = TestResult()
        Inner("test_inner").run(result)
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(RunUntilTimeout))
        text = failure.getErrorMessage()
        self.assertIn("Work waiting on the global reactor", text)
        self.assertIn("delayed call: H2Connection._sendPrioritisedData", text)
        self.assertIn("through twisted/web/_http2.py:", text)
        self.assertIn("in __init__", text)
        self.assertIn(
            "fix: twisted.web.http builds its H2Connection (on ALPN h2) without "
            "a reactor",
            text,
        )
        self.assertIn(
            "self.addCleanup(route_http2_reactor(self.net))",
            text,
        )
        self.assertEqual(stand_in.getDelayedCalls(), [])

    def test_routedNeedsNothingElse(self) -> None:
        """
        With L{route_h2_reactor} and nothing else, the inner test gets the
        large body and passes: the guard found nothing else scheduled on
        the global reactor or cooperator.
        """
        stand_in_global_reactor(self)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                route_h2_reactor(self, self.net)
                response = _serve_and_get(self)
                self.assertEqual(response.body, BIG_BODY)

        result = TestResult()
        Inner("test_inner").run(result)
        self.assertEqual((result.errors, result.failures), ([], []))
        self.assertEqual(result.successes, 1)


class ExhaustedWindowTests(MemoryNetworkTestCase):
    """
    A gap in Twisted's HTTP/2 server (the real reactor behaves the same),
    pinned so that a fix shows: while a stream's flow-control window is
    exhausted, C{H2Connection._sendPrioritisedData} finds nothing it may
    send but neither blocks the stream nor waits: it calls itself again
    with C{callLater(0)}, a busy loop until the client opens the window.
    """

    def setUp(self) -> None:
        super().setUp()
        route_h2_reactor(self, self.net)
        self.port = _listen(self, _site(self.net, _Served()))

    def test_serverSpinsUntilWindowOpens(self) -> None:
        """
        Under random chunking, a client that does not acknowledge what it
        reads gets exactly the initial window of the large body (65,535
        bytes) and sends no C{WINDOW_UPDATE}; the server's sending loop
        then reschedules itself at the same virtual instant without end,
        which C{advance} reports as a timer loop naming it (virtual time
        cannot move past it).  Acknowledging the bytes read lets the rest
        of the body through.
        """
        self.net.set_default_link(LinkConditions(chunking=RandomSizes(1, 700)))
        client = _connect(self.net, self.port)
        client.acknowledging = False
        start = self.net.seconds()
        d = client.request(b"GET", b"/poem")
        error = self.assertRaises(StepBudgetExceeded, self.net.advance, 10)
        self.assertEqual(error.cause, "timers")
        self.assertIn("timer H2Connection._sendPrioritisedData", str(error))
        self.assertEqual(self.net.seconds(), start)
        self.assertNoResult(d)
        self.assertEqual(client.received, INITIAL_WINDOW)
        self.assertEqual(window_updates(client.written), [])
        client.acknowledging = True
        client.acknowledge()
        response = self.net.run_until(d)
        self.assertEqual(response.body, BIG_BODY)
        self.assertIn(1, window_updates(client.written))
        assert client.transport is not None
        client.transport.loseConnection()
        self.net.run_until(client.whenLost())
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def abortServerEnd(self, client: _H2Client) -> None:
        """
        Abort the server's end of C{client}'s connection (its
        C{H2Connection} is lost, which ends the loop) and wait for both
        ends to close: the client sees L{ConnectionLost}.
        """
        [(_, server_end)] = self.net.open_connections()
        server_end.abortConnection()
        self.net.run_until(client.whenLost())
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionLost))
        self.net.advance(1)
        self.assertEqual(self.net.open_connections(), [])

    def test_latencyStopsTheClock(self) -> None:
        """
        With 50 ms of latency each way the spin stops the virtual clock:
        while the client's C{WINDOW_UPDATE} is in flight the server's loop
        reschedules itself at the same instant, so the update never
        arrives and a bounded C{run_until} fails as a timer loop, the body
        held at the initial window (on the real reactor the loop burns the
        CPU, but time passes and the body arrives).  A client that opens
        its windows up front (a larger C{INITIAL_WINDOW_SIZE} and
        connection window: one connection C{WINDOW_UPDATE}) gets the whole
        body, the server never running out of window.
        """
        self.net.set_default_link(LinkConditions(latency=0.05))
        held = _connect(self.net, self.port)
        d = held.request(b"GET", b"/poem")
        error = self.assertRaises(StepBudgetExceeded, self.net.run_until, d, timeout=5)
        self.assertEqual(error.cause, "timers")
        self.assertIn("timer H2Connection._sendPrioritisedData", str(error))
        self.assertLessEqual(held.received, INITIAL_WINDOW)
        self.assertNoResult(d)
        self.abortServerEnd(held)
        opened = _connect(self.net, self.port, window=1 << 20)
        response = self.net.run_until(opened.request(b"GET", b"/poem"), timeout=5)
        self.assertEqual(response.body, BIG_BODY)
        self.assertEqual(window_updates(opened.written), [0])
        self.abortServerEnd(opened)


class RouteHTTP2ReactorTests(SynchronousTestCase):
    """
    L{route_http2_reactor} itself.
    """

    def test_routesAndRestores(self) -> None:
        """
        While routed, the class C{twisted.web.http} builds on ALPN C{h2}
        gives each connection the network as its reactor; the returned
        function puts Twisted's class back.
        """
        web: Any = http
        net = MemoryNetwork(seed=1)
        restore = route_http2_reactor(net)
        try:
            built = web.H2Connection()
            self.assertIsInstance(built, H2Connection)
            self.assertIs(built._reactor, net)
        finally:
            restore()
        self.assertIs(web.H2Connection, H2Connection)

    def test_withoutH2(self) -> None:
        """
        Without the C{h2} package (C{twisted.web.http.H2_ENABLED} false),
        routing raises L{ImportError} naming Twisted's C{http2} extra, and
        changes nothing.
        """
        self.patch(http, "H2_ENABLED", False)
        error = self.assertRaises(
            ImportError, route_http2_reactor, MemoryNetwork(seed=1)
        )
        self.assertIn("pip install twisted[http2]", str(error))
        web: Any = http
        self.assertIs(web.H2Connection, H2Connection)
