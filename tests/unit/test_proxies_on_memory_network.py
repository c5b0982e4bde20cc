"""
Unmodified Twisted TCP proxies over L{MemoryNetwork}: the SOCKSv4 server
(L{SOCKSv4Factory<socks.SOCKSv4Factory>} building L{SOCKSv4<socks.SOCKSv4>})
and the port forwarder (L{ProxyFactory<portforward.ProxyFactory>}), each on a
host of its own (L{PROXY}) between clients on another (L{CLIENT}) and servers
on a third (L{SERVER}), so that the server sees the proxy, not the client,
as its peer.  Through SOCKS: a SOCKS4 C{CONNECT} relaying 300 KB both ways
(less when every read is cut small), a SOCKS4a one naming its destination,
a refused destination and an unknown name (status 91), hostile requests;
through the forwarder: 300 KB both ways, either end closing first, a
refusing destination -- each under the default delivery (each write whole),
one-byte chunking and random chunking (from the network's seed).  Then,
under the default delivery: the forwarder's flow control with a client that
does not read, which SOCKS lacks (L{FlowControlTests}), and bugs of
C{twisted.protocols.socks}.  Twisted has no SOCKS client: L{SOCKSClient} is
the smallest that works.

Each takes the network in one place, and neither where a user looks first:

  - C{twisted.protocols.socks} imports the global reactor when it is
    imported (C{from twisted.internet import reactor}) and uses that module
    attribute: C{SOCKSv4Factory.buildProtocol} hands it to every
    L{SOCKSv4<socks.SOCKSv4>}, and C{SOCKSv4.connectClass} (C{CONNECT}) and
    C{listenClass} (C{BIND}) call it directly.  The C{reactor} a
    L{SOCKSv4<socks.SOCKSv4>} takes -- "the reactor used to create
    connections", says its docstring -- only resolves SOCKS4a names.  Patch
    the module's attribute for the test: C{self.patch(socks, "reactor",
    net)}; the scenarios patch in L{ProxyHost}, the network seen from
    L{PROXY}.  Without it a C{CONNECT} goes to the real reactor, which opens
    a socket: the socket guard of the unit tests fails the test; where no
    socket guard runs, the global-reactor guard names the attempt's timeout
    and the fix (L{SOCKSGuardTests}).
  - L{ProxyServer<portforward.ProxyServer>} connects with its class
    attribute C{reactor}, L{None} by default, for which C{connectionMade}
    imports the global reactor.  Set it per protocol, in the factory's
    C{buildProtocol}: C{protocol.reactor = net} (L{NetworkProxyFactory}; or
    C{self.patch(portforward.ProxyServer, "reactor", net)}).  Without it,
    the same: a real socket, which the socket guard fails -- and the
    client's connection is left open and unread -- or, where no socket guard
    runs, the global-reactor guard's report (L{PortForwardGuardTests}).

Neither schedules anything else: neither has a timeout (a SOCKS request
that never ends is buffered for ever, as C{test_hostileRequests} shows).

L{SOCKSv4<socks.SOCKSv4>} resolves a SOCKS4a name as the request's
C{bytes}; C{resolve} takes them, on the network as on the real reactor
(C{getaddrinfo} takes C{bytes}), and answers a literal with the literal as
given -- C{bytes} -- which C{connectTCP} takes as it is.

The bugs of C{twisted.protocols.socks} found, each also seen on the real
reactor (loopback): C{BIND} fails, and leaves its port listening
(L{BindTests}); a client that leaves, or that sends data, before the
destination answers leaves the proxy's connection to the destination open
for ever, or loses that data (L{SOCKSRaceTests}); a SOCKS4a request naming
an IP literal fails (L{SOCKS4aLiteralTests}); a log file breaks the relay
(L{LogFileTests}); and there is no flow control (L{FlowControlTests}).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple, TypeVar

from twisted.internet.address import IPv4Address
from twisted.internet.base import BaseConnector
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IPushProducer,
    IReactorTCP,
    IReactorTime,
)
from twisted.internet.protocol import ClientFactory, Protocol, connectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.protocols import portforward, socks
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from zope.interface import implementer

from poetry.testing import (
    ONE_BYTE,
    Deadlock,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    MemoryTransport,
    NetworkOptions,
    RandomSizes,
)
from tests.socket_guard import SocketForbidden
from tests.unit.test_testing_guard import run_inner, stand_in_global_reactor
from tests.unit.test_testing_support import (
    ChunkedScenarios,
    RecordingServerFactory,
    port_number,
)

#: The host of the SOCKS server and of the port forwarder.
PROXY = "127.0.1.1"

#: The host of the servers the proxies relay to.
SERVER = "127.0.1.2"

#: The host of the clients.
CLIENT = "127.0.1.3"

#: A name of L{SERVER} in the network's host map, for SOCKS4a.
HARBOUR = "harbour.test"

#: A port of L{SERVER} where nothing listens.
CLOSED_PORT = 1

#: The port of L{SERVER} the forwarder of C{test_destinationRefused} forwards
#: to, before anything listens there.
FORWARDED_PORT = 7000

#: The user id of the SOCKS requests.
USER = b"cartographer"

#: The SOCKS4 commands and reply statuses.
CONNECT, BIND = 1, 2
GRANTED, REJECTED = 90, 91

#: What a verse server writes before it closes (original lines).
VERSE = (
    b"The lighthouse keeper counts the gulls by lamplight, one by one,\n"
    b"and logs each wave that breaks too late to matter to the sun.\n"
)


def counted(size: int) -> bytes:
    """
    C{size} bytes of four-byte big-endian counters (0, 1, 2, ...), cut to
    C{size}: no stretch repeats, so a lost, doubled or reordered piece
    changes the bytes.
    """
    return b"".join(n.to_bytes(4, "big") for n in range(size // 4 + 1))[:size]


class Reply(NamedTuple):
    """
    A SOCKS4 reply, the first 8 bytes from the server: a version (0), a
    status (L{GRANTED}, L{REJECTED}, ...), a port and an IPv4 address (for a
    granted C{CONNECT}, Twisted's server sends the destination's).
    """

    version: int
    status: int
    port: int
    address: str


#: The reply of a refused request: status 91, no address.
REFUSED = Reply(0, REJECTED, 0, "0.0.0.0")


def socks4_request(
    port: int,
    address: str,
    *,
    version: int = 4,
    command: int = CONNECT,
    user: bytes = USER,
) -> bytes:
    """
    A SOCKS4 request: the version, the command, the destination's port (two
    bytes, big-endian) and IPv4 address (four), the user id and a NUL.
    """
    return (
        struct.pack("!BBH", version, command, port)
        + ipaddress.IPv4Address(address).packed
        + user
        + b"\0"
    )


def socks4a_request(port: int, name: str, *, version: int = 4) -> bytes:
    """
    A SOCKS4a C{CONNECT}: a SOCKS4 request to the address C{0.0.0.1} (any
    C{0.0.0.x} with x not 0 says a name follows), then the destination's
    name and a NUL; the server resolves the name.
    """
    return socks4_request(port, "0.0.0.1", version=version) + name.encode() + b"\0"


class Reader(Protocol):
    """
    A client: writes C{send} as soon as it is connected, records what it
    reads.

    @ivar pause: whether to stop reading (C{transport.pauseProducing()}) as
        soon as it is connected.
    @ivar count: how many bytes were relayed to it so far.
    @ivar lost: fires when the connection is lost; C{reason} says why.
    """

    def __init__(self, send: bytes = b"", *, pause: bool = False) -> None:
        self.send = send
        self.pause = pause
        self.chunks: list[bytes] = []
        self.count = 0
        self.reason: Failure | None = None
        self.lost: Deferred[None] = Deferred()
        self._waiting: list[tuple[int, Deferred[None]]] = []

    @property
    def tcp(self) -> MemoryTransport:
        """
        The transport, as the network's.
        """
        transport: object = self.transport
        assert isinstance(transport, MemoryTransport), transport
        return transport

    @property
    def received(self) -> bytes:
        """
        Everything relayed to it, in order.
        """
        return b"".join(self.chunks)

    def receivedAtLeast(self, count: int) -> Deferred[None]:
        """
        A L{Deferred} that fires once C{count} bytes have been relayed.
        """
        d: Deferred[None] = Deferred()
        self._waiting.append((count, d))
        self._check()
        return d

    def _check(self) -> None:
        for count, d in list(self._waiting):
            if self.count >= count:
                self._waiting.remove((count, d))
                d.callback(None)

    def connectionMade(self) -> None:
        if self.pause:
            self.tcp.pauseProducing()
        if self.send:
            self.tcp.write(self.send)

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)
        self.count += len(data)
        self._check()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        self.lost.callback(None)


class SOCKSClient(Reader):
    """
    The smallest SOCKS4/4a client that works (Twisted has none): once
    connected it writes one request (L{socks4_request}, L{socks4a_request}),
    reads the 8-byte reply however the stream is cut, and then records what
    the proxy relays, as a L{Reader}.

    @ivar reply: the reply, once its 8 bytes are in.
    @ivar replied: fires with it.
    @ivar pauseAfterReply: whether to stop reading once the reply is in.
    @ivar closeAfterRequest: whether to close right after the request,
        without waiting for the reply.
    """

    def __init__(
        self,
        request: bytes,
        *,
        pauseAfterReply: bool = False,
        closeAfterRequest: bool = False,
    ) -> None:
        super().__init__(request)
        self.pauseAfterReply = pauseAfterReply
        self.closeAfterRequest = closeAfterRequest
        self.reply: Reply | None = None
        self.replied: Deferred[Reply] = Deferred()
        self._head = b""

    def connectionMade(self) -> None:
        super().connectionMade()
        if self.closeAfterRequest:
            self.tcp.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        if self.reply is None:
            self._head += data
            if len(self._head) < 8:
                return
            head, data = self._head[:8], self._head[8:]
            version, status, port = struct.unpack("!BBH", head[:4])
            address = str(ipaddress.IPv4Address(head[4:]))
            self.reply = Reply(version, status, port, address)
            self.replied.callback(self.reply)
            if self.pauseAfterReply:
                self.tcp.pauseProducing()
            if not data:
                return
        super().dataReceived(data)


class Echo(Protocol):
    """
    A server that writes back whatever it reads.

    @ivar peer: the address of the other end, as C{getPeer} gives it.
    @ivar lost: fires when the connection is lost; C{reason} says why.
    """

    def __init__(self) -> None:
        self.peer: IAddress | None = None
        self.chunks: list[bytes] = []
        self.reason: Failure | None = None
        self.lost: Deferred[None] = Deferred()

    @property
    def received(self) -> bytes:
        """
        Everything read, in order.
        """
        return b"".join(self.chunks)

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.peer = self.transport.getPeer()

    def dataReceived(self, data: bytes) -> None:
        assert self.transport is not None
        self.chunks.append(data)
        self.transport.write(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        self.lost.callback(None)


class Verse(Protocol):
    """
    A server that writes L{VERSE} and closes.
    """

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(VERSE)
        self.transport.loseConnection()


@implementer(IPushProducer)
class Streamer(Protocol):
    """
    A server that writes C{total} bytes of L{counted}, C{chunk} bytes a turn
    of the network (a C{callLater(0)} on C{clock}), as a streaming producer
    of its transport: it writes nothing while paused, and closes once all is
    written.

    @ivar events: C{("pause" | "resume" | "stop", bytes written by then)},
        for each call of the transport, in order.
    """

    def __init__(self, clock: IReactorTime, total: int, chunk: int = 16_384) -> None:
        self.clock = clock
        self.data = counted(total)
        self.chunk = chunk
        self.sent = 0
        self.paused = False
        self.scheduled = False
        self.events: list[tuple[str, int]] = []

    @property
    def tcp(self) -> MemoryTransport:
        """
        The transport, as the network's.
        """
        transport: object = self.transport
        assert isinstance(transport, MemoryTransport), transport
        return transport

    def connectionMade(self) -> None:
        self.tcp.registerProducer(self, True)
        self._schedule()

    def _schedule(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            self.clock.callLater(0, self._writeSome)

    def _writeSome(self) -> None:
        self.scheduled = False
        if self.paused:
            return
        piece = self.data[self.sent : self.sent + self.chunk]
        self.sent += len(piece)
        self.tcp.write(piece)
        if self.sent == len(self.data):
            self.tcp.unregisterProducer()
            self.tcp.loseConnection()
        elif not self.paused:
            self._schedule()

    def pauseProducing(self) -> None:
        self.paused = True
        self.events.append(("pause", self.sent))

    def resumeProducing(self) -> None:
        self.paused = False
        self.events.append(("resume", self.sent))
        if self.sent < len(self.data):
            self._schedule()

    def stopProducing(self) -> None:
        self.events.append(("stop", self.sent))


class NetworkProxyFactory(portforward.ProxyFactory):
    """
    Twisted's L{ProxyFactory<portforward.ProxyFactory>}, its protocols
    connecting with C{reactor} (their class attribute C{reactor} is L{None}:
    the global reactor).
    """

    def __init__(self, host: str, port: int, reactor: IReactorTCP) -> None:
        super().__init__(host, port)
        self.reactor = reactor

    def buildProtocol(self, addr: IAddress | None) -> portforward.ProxyServer | None:
        protocol = super().buildProtocol(addr)
        assert protocol is not None
        protocol.reactor = self.reactor  # type: ignore[assignment]  # None
        return protocol


def start_server(
    case: MemoryNetworkTestCase, build: Callable[[], Protocol], port: int = 0
) -> tuple[RecordingServerFactory, int]:
    """
    Listen on L{SERVER} with a factory building C{build()}; the port stops
    with the test.

    @return: the factory (its C{protocols} are those built) and the port.
    """
    factory = RecordingServerFactory(build)
    listening = case.net.host(SERVER).listenTCP(port, factory)
    case.addCleanup(listening.stopListening)
    return factory, port_number(listening)


def start_socks(case: MemoryNetworkTestCase, log: str | None = None) -> int:
    """
    Patch C{socks.reactor} to be the network seen from L{PROXY} for the
    test (connections to destinations, and a C{BIND}'s port, are made
    there; SOCKS4a names are resolved with its C{resolve}), and listen on
    L{PROXY} with Twisted's unmodified L{SOCKSv4Factory<socks.SOCKSv4Factory>}
    (logging to C{log}, if given).

    @return: the SOCKS server's port.
    """
    case.patch(socks, "reactor", case.net.host(PROXY))
    listening = case.net.host(PROXY).listenTCP(0, socks.SOCKSv4Factory(log))
    case.addCleanup(listening.stopListening)
    return port_number(listening)


def start_forwarder(case: MemoryNetworkTestCase, port: int) -> int:
    """
    Listen on L{PROXY} with a L{NetworkProxyFactory} forwarding to C{port}
    of L{SERVER}, connecting from L{PROXY}.

    @return: the forwarder's port.
    """
    factory = NetworkProxyFactory(SERVER, port, case.net.host(PROXY))
    listening = case.net.host(PROXY).listenTCP(0, factory)
    case.addCleanup(listening.stopListening)
    return port_number(listening)


_Client = TypeVar("_Client", bound=Reader)


def connect(net: MemoryNetwork, port: int, client: _Client) -> _Client:
    """
    Connect C{client} from L{CLIENT} to C{port} of L{PROXY} (a
    L{SOCKSClient} sends its request at once).
    """
    endpoint = TCP4ClientEndpoint(net.host(CLIENT), PROXY, port)
    net.run_until(connectProtocol(endpoint, client))
    return client


class _SOCKSScenarios(ChunkedScenarios):
    """
    The SOCKS scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses
    choose the chunking of every connection, and how much to relay.
    """

    #: The bytes relayed each way by C{test_connectRelaysBothWays}.
    payloadSize: ClassVar[int] = 300_000

    def setUp(self) -> None:
        super().setUp()
        self.net.add_host(HARBOUR, SERVER)
        self.socksPort = start_socks(self)
        self.echoes, self.echoPort = start_server(self, Echo)

    def echo(self, index: int = 0) -> Echo:
        """
        The C{index}th connection the echo server accepted.
        """
        protocol = self.echoes.protocols[index]
        assert isinstance(protocol, Echo)
        return protocol

    def client(self, request: bytes) -> SOCKSClient:
        """
        A client connected to the SOCKS server, its C{request} sent.
        """
        return connect(self.net, self.socksPort, SOCKSClient(request))

    def test_connectRelaysBothWays(self) -> None:
        """
        A SOCKS4 C{CONNECT} to the echo server on another host is granted
        (status 90, with the destination's port and address); then
        L{payloadSize} bytes go through to the server and back, byte for
        byte, in more than one read; the server sees the proxy's host as
        its peer, not the client's.  The client closes, and the proxy
        closes the server's connection: nothing is left open.
        """
        client = self.client(socks4_request(self.echoPort, SERVER))
        reply = self.net.run_until(client.replied)
        self.assertEqual(reply, Reply(0, GRANTED, self.echoPort, SERVER))
        payload = counted(self.payloadSize)
        client.tcp.write(payload)
        self.net.run_until(client.receivedAtLeast(len(payload)))
        echo = self.echo()
        self.assertEqual(echo.received, payload)
        self.assertEqual(client.received, payload)
        self.assertGreater(len(client.chunks), 1)
        self.assertGreater(len(echo.chunks), 1)
        peer = echo.peer
        assert peer is not None
        self.assertEqual(getattr(peer, "host", None), PROXY)
        client.tcp.loseConnection()
        self.net.run_until(echo.lost)
        assert echo.reason is not None
        self.assertTrue(echo.reason.check(ConnectionDone))
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_refusedDestination(self) -> None:
        """
        A C{CONNECT} to a port where nothing listens, and a SOCKS4a one to a
        name the network does not know, are each answered with status 91
        (no address) and closed by the proxy, nothing more; the next client
        is granted.
        """
        for request in (
            socks4_request(CLOSED_PORT, SERVER),
            socks4a_request(self.echoPort, "nowhere.test"),
        ):
            client = self.client(request)
            self.assertEqual(self.net.run_until(client.replied), REFUSED)
            self.net.run_until(client.lost)
            assert client.reason is not None
            self.assertTrue(client.reason.check(ConnectionDone))
            self.assertEqual(client.received, b"")
        self.assertEqual(self.echoes.protocols, [])
        client = self.client(socks4_request(self.echoPort, SERVER))
        self.assertEqual(self.net.run_until(client.replied).status, GRANTED)
        client.tcp.loseConnection()
        self.net.run_until(self.echo().lost)

    def test_socks4aNamedDestination(self) -> None:
        """
        A SOCKS4a C{CONNECT} naming the verse server's host: the proxy
        resolves the name with its reactor's C{resolve} (the network's host
        map: the reply carries L{SERVER}, the address the name stands for),
        relays the verse, and closes the client's connection when the
        server closes its own.
        """
        _, versePort = start_server(self, Verse)
        client = self.client(socks4a_request(versePort, HARBOUR))
        reply = self.net.run_until(client.replied)
        self.assertEqual(reply, Reply(0, GRANTED, versePort, SERVER))
        self.net.run_until(client.lost)
        self.assertEqual(client.received, VERSE)
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionDone))
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_hostileRequests(self) -> None:
        """
        What the proxy does with requests it cannot serve, as on the real
        reactor: a SOCKS4 request with version 5 fails an C{assert} (logged)
        and the connection is dropped without a reply, while a SOCKS4a one
        is answered 91 (the C{assert} fails in the callback of the name's
        lookup, whose errback replies); an unknown command (3) raises
        L{RuntimeError} (logged), dropped without a reply; bytes with no NUL
        after the eighth (an HTTP request) are buffered without a reply,
        for as long as the client waits (here a virtual minute).  The next
        client is granted.  (The version is checked with C{assert}: under
        C{python -O} the first request is granted as if it were version 4.)
        """
        wrongVersion = self.client(socks4_request(self.echoPort, SERVER, version=5))
        self.net.run_until(wrongVersion.lost)
        self.assertIsNone(wrongVersion.reply)
        [logged] = self.flushLoggedErrors(AssertionError)
        self.assertEqual(str(logged.value), "Bad version code: 5")

        wrongVersion4a = self.client(socks4a_request(self.echoPort, HARBOUR, version=5))
        self.assertEqual(self.net.run_until(wrongVersion4a.replied), REFUSED)
        self.net.run_until(wrongVersion4a.lost)

        unknownCommand = self.client(socks4_request(self.echoPort, SERVER, command=3))
        self.net.run_until(unknownCommand.lost)
        self.assertIsNone(unknownCommand.reply)
        [logged] = self.flushLoggedErrors(RuntimeError)
        self.assertEqual(str(logged.value), "Bad Connect Code: 3")

        garbage = self.client(b"GET http://harbour.test/tides HTTP/1.0\r\n\r\n")
        self.net.advance(60)
        self.assertEqual((garbage.reply, garbage.lost.called), (None, False))
        garbage.tcp.loseConnection()
        self.net.run_until(garbage.lost)

        self.assertEqual(self.echoes.protocols, [])
        client = self.client(socks4_request(self.echoPort, SERVER))
        self.assertEqual(self.net.run_until(client.replied).status, GRANTED)
        client.tcp.loseConnection()
        self.net.run_until(self.echo().lost)
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])


class DefaultDeliverySOCKSTests(_SOCKSScenarios, MemoryNetworkTestCase):
    """
    The SOCKS scenarios with each write delivered whole.
    """


class OneByteSOCKSTests(_SOCKSScenarios, MemoryNetworkTestCase):
    """
    The SOCKS scenarios with every byte delivered on its own (and 4 KB
    relayed each way, not 300 KB: every read is one byte).
    """

    chunking = ONE_BYTE
    payloadSize = 4_000


class RandomChunkingSOCKSTests(_SOCKSScenarios, MemoryNetworkTestCase):
    """
    The SOCKS scenarios with writes cut at random (from the network's seed)
    into pieces of 1 to 16 bytes, so that the requests and replies are cut
    too (and 40 KB relayed each way).
    """

    chunking = RandomSizes(1, 16)
    payloadSize = 40_000


class _PortForwardScenarios(ChunkedScenarios):
    """
    The port forwarder's scenarios, mixed into a L{MemoryNetworkTestCase};
    subclasses choose the chunking of every connection, and how much to
    relay.
    """

    #: The bytes relayed each way by C{test_forwardsBothWays}.
    payloadSize: ClassVar[int] = 300_000

    def setUp(self) -> None:
        super().setUp()
        self.echoes, echoPort = start_server(self, Echo)
        self.forwarderPort = start_forwarder(self, echoPort)

    def test_forwardsBothWays(self) -> None:
        """
        A client writes L{payloadSize} bytes as soon as it is connected --
        before the forwarder's own connection to the server is up (the
        forwarder stops reading until then) -- and they reach the echo
        server and come back, byte for byte, in more than one read; the
        server sees the forwarder's host as its peer.  The client closes,
        and the forwarder closes the server's connection.
        """
        payload = counted(self.payloadSize)
        client = connect(self.net, self.forwarderPort, Reader(payload))
        self.assertEqual(self.echoes.protocols, [])
        self.net.run_until(client.receivedAtLeast(len(payload)))
        [echo] = self.echoes.protocols
        assert isinstance(echo, Echo)
        self.assertEqual(echo.received, payload)
        self.assertEqual(client.received, payload)
        self.assertGreater(len(client.chunks), 1)
        self.assertEqual(getattr(echo.peer, "host", None), PROXY)
        client.tcp.loseConnection()
        self.net.run_until(echo.lost)
        assert echo.reason is not None
        self.assertTrue(echo.reason.check(ConnectionDone))
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_serverClosesFirst(self) -> None:
        """
        A server that writes a verse and closes: the client reads the whole
        verse, then the forwarder closes its connection too.
        """
        _, versePort = start_server(self, Verse)
        client = connect(self.net, start_forwarder(self, versePort), Reader())
        self.net.run_until(client.lost)
        self.assertEqual(client.received, VERSE)
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionDone))
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_destinationRefused(self) -> None:
        """
        Nothing listens where the forwarder forwards: the client's
        connection is closed, cleanly, with nothing read.  Once a server
        listens there, the next client is forwarded.
        """
        forwarderPort = start_forwarder(self, FORWARDED_PORT)
        refused = connect(self.net, forwarderPort, Reader(b"anyone there?"))
        self.net.run_until(refused.lost)
        assert refused.reason is not None
        self.assertTrue(refused.reason.check(ConnectionDone))
        self.assertEqual(refused.received, b"")
        echoes, _ = start_server(self, Echo, FORWARDED_PORT)
        client = connect(self.net, forwarderPort, Reader(b"anyone there?"))
        self.net.run_until(client.receivedAtLeast(13))
        self.assertEqual(client.received, b"anyone there?")
        client.tcp.loseConnection()
        self.net.run_until(client.lost)
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])
        self.assertEqual(len(echoes.protocols), 1)


class DefaultDeliveryPortForwardTests(_PortForwardScenarios, MemoryNetworkTestCase):
    """
    The port forwarder's scenarios with each write delivered whole.
    """


class OneBytePortForwardTests(_PortForwardScenarios, MemoryNetworkTestCase):
    """
    The port forwarder's scenarios with every byte delivered on its own
    (and 4 KB relayed each way).
    """

    chunking = ONE_BYTE
    payloadSize = 4_000


class RandomChunkingPortForwardTests(_PortForwardScenarios, MemoryNetworkTestCase):
    """
    The port forwarder's scenarios with writes cut at random (from the
    network's seed) into pieces of 1 to 16 bytes (and 40 KB relayed each
    way).
    """

    chunking = RandomSizes(1, 16)
    payloadSize = 40_000


#: What the server streams in L{FlowControlTests}.
STREAMED = 1_000_000


class FlowControlTests(MemoryNetworkTestCase):
    """
    A client that stops reading (C{transport.pauseProducing()}) while a
    server streams L{STREAMED} bytes to it through a proxy, with kernel
    queues of 4 KiB (C{receive_buffer}, C{send_buffer}) so that little
    fills them.  The forwarder registers each of its two connections as the
    producer of the other: the server is paused.  SOCKS registers nothing:
    nothing holds the server back (its own transport pauses it only while
    its buffer drains into the kernel), and the proxy holds everything.
    Both as on
    the real reactor (where, with the kernel's own queues, the forwarder
    paused a server streaming 32 MiB after about 6 MB, and SOCKS took all
    32 MiB).
    """

    network_options: ClassVar[NetworkOptions] = {
        "receive_buffer": 4096,
        "send_buffer": 4096,
    }

    def streamer(self) -> tuple[RecordingServerFactory, int]:
        """
        Listen on L{SERVER} with L{Streamer}s of L{STREAMED} bytes.
        """
        return start_server(self, lambda: Streamer(self.net, STREAMED))

    def test_slowReaderPausesTheServer(self) -> None:
        """
        Through the forwarder, with the client not reading: the server's
        producer is paused, and stays paused, having written a fraction of
        the stream -- what the kernel queues and the forwarder's buffer
        towards the client (up to its C{bufferSize}, 64 KiB, and one write)
        took.  Once the client reads again, the server is resumed and every
        byte arrives, in order.
        """
        streamers, streamerPort = self.streamer()
        client = Reader(pause=True)
        connect(self.net, start_forwarder(self, streamerPort), client)
        self.net.advance(0)
        [streamer] = streamers.protocols
        assert isinstance(streamer, Streamer)
        self.assertTrue(streamer.paused)
        self.assertLess(streamer.sent, STREAMED // 4)
        self.assertEqual(client.received, b"")
        self.assertLessEqual(client.tcp.unread_incoming(), 64 * 1024 + 2 * 16_384)
        # A virtual minute later, nothing has moved.
        sent = streamer.sent
        self.net.advance(60)
        self.assertEqual((streamer.sent, streamer.paused), (sent, True))
        client.tcp.resumeProducing()
        self.net.run_until(client.lost)
        self.assertEqual(client.received, counted(STREAMED))
        self.assertIn(("resume", sent), streamer.events)

    def test_socksRelaysWithoutFlowControl(self) -> None:
        """
        Through SOCKS, with the client not reading after the reply: nothing
        holds the server back -- it writes the whole stream and closes, and
        the proxy's transport towards the client holds every byte the
        client has not read.  Once the client reads again, it
        gets them all.
        """
        streamers, streamerPort = self.streamer()
        client = SOCKSClient(socks4_request(streamerPort, SERVER), pauseAfterReply=True)
        connect(self.net, start_socks(self), client)
        self.net.advance(0)
        [streamer] = streamers.protocols
        assert isinstance(streamer, Streamer)
        self.assertEqual(streamer.sent, STREAMED)
        # The client read the reply, and what came in the same read (at
        # most the server's first write), then stopped.
        self.assertLessEqual(len(client.received), 16_384)
        self.assertEqual(len(client.received) + client.tcp.unread_incoming(), STREAMED)
        client.tcp.resumeProducing()
        self.net.run_until(client.lost)
        self.assertEqual(client.received, counted(STREAMED))


class BindTests(MemoryNetworkTestCase):
    """
    C{BIND} (command 2) does not work in Twisted 26.10: C{listenClass}
    listens, then takes C{serv.getHost()[1:]} -- an
    L{IPv4Address<twisted.internet.address.IPv4Address>} is no longer a
    tuple -- and the L{TypeError} escapes from C{dataReceived}.  (Were that
    fixed, C{SOCKSv4IncomingFactory.buildProtocol} takes C{addr[0]} too.)
    Twisted's own tests replace C{listenClass}, so they never see it.  Seen
    on the real reactor too, where the port left listening is on
    C{0.0.0.0}.  If Twisted fixes it, L{test_bindFails} fails.
    """

    def test_bindFails(self) -> None:
        """
        A C{BIND} request: the L{TypeError} is logged, the client's
        connection is dropped with no reply, and the port the proxy had
        begun to listen on (on its host) is left listening.
        """
        socksPort = start_socks(self)
        before = list(self.net.listening_ports())
        client = SOCKSClient(socks4_request(0, SERVER, command=BIND))
        connect(self.net, socksPort, client)
        self.net.run_until(client.lost)
        self.assertIsNone(client.reply)
        [logged] = self.flushLoggedErrors(TypeError)
        self.assertEqual(str(logged.value), "'IPv4Address' object is not subscriptable")
        [leaked] = [p for p in self.net.listening_ports() if p not in before]
        self.assertEqual(getattr(leaked.getHost(), "host", None), PROXY)
        leaked.stopListening()


class SOCKS4aLiteralTests(MemoryNetworkTestCase):
    """
    A SOCKS4a request whose name is an IPv4 literal does not work in Twisted
    26.10: C{reactor.resolve} answers a literal with the literal as it was
    given -- here the request's C{bytes} --, the proxy connects to the
    destination with it, so that connection's C{getPeer().host} is C{bytes}
    too, and C{makeReply}'s C{socket.inet_aton} refuses it.  Seen on the
    real reactor (loopback) too.  If Twisted fixes it, L{test_literalName}
    fails.
    """

    def test_literalName(self) -> None:
        """
        A SOCKS4a C{CONNECT} naming C{SERVER}'s address: the proxy connects
        to the destination, the L{TypeError} escapes the outgoing
        connection's C{connectionMade} (logged), which drops it; the
        client's connection is closed without a reply, and nothing is left
        open.
        """
        socksPort = start_socks(self)
        _, echoPort = start_server(self, Echo)
        client = SOCKSClient(socks4a_request(echoPort, SERVER))
        connect(self.net, socksPort, client)
        self.net.run_until(client.lost)
        self.assertIsNone(client.reply)
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionDone))
        [logged] = self.flushLoggedErrors(TypeError)
        self.assertEqual(
            str(logged.value), "inet_aton() argument 1 must be str, not bytes"
        )
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])


class SOCKSRaceTests(MemoryNetworkTestCase):
    """
    Clients that do not wait for the reply.  L{SOCKSv4<socks.SOCKSv4>}
    learns of its connection to the destination only when that connection
    is made (C{SOCKSv4Outgoing.connectionMade} sets C{otherConn}), and keeps
    no handle on the attempt before.  So a client that leaves first leaves
    the proxy's connection to the destination open for ever, a leak
    whatever the client's manners; and bytes a client sends before the
    reply (which SOCKS4 does not provide for) fail an C{assert} if they
    come in the request's read, and are silently dropped if they come in a
    later one: the outcome depends on how TCP cuts the stream.  Each seen
    on the real reactor too (the last with the destination's accept queue
    full, which delays its answer by a SYN retransmission).  If Twisted
    fixes them, these tests fail.
    """

    def setUp(self) -> None:
        super().setUp()
        self.socksPort = start_socks(self)
        self.echoes, self.echoPort = start_server(self, Echo)

    def test_clientLeavesBeforeTheDestinationAnswers(self) -> None:
        """
        A client that sends its request and closes at once: the proxy
        connects to the destination all the same, and that connection is
        still open a virtual hour later, nobody left to close it.
        """
        client = SOCKSClient(
            socks4_request(self.echoPort, SERVER), closeAfterRequest=True
        )
        connect(self.net, self.socksPort, client)
        self.net.run_until(client.lost)
        self.net.advance(3600)
        [echo] = self.echoes.protocols
        assert isinstance(echo, Echo)
        self.assertFalse(echo.lost.called)
        self.assertEqual(len(self.net.open_connections()), 1)
        assert echo.transport is not None
        echo.transport.loseConnection()
        self.net.run_until(echo.lost)

    def test_dataWithTheRequest(self) -> None:
        """
        A request and data in one write, read at once: the proxy fails its
        C{assert self.buf == b""} (logged) after it has begun to connect,
        the client's connection is dropped with no reply, and the
        destination's connection is left open.
        """
        request = socks4_request(self.echoPort, SERVER) + b"early"
        client = SOCKSClient(request)
        connect(self.net, self.socksPort, client)
        self.net.run_until(client.lost)
        self.assertIsNone(client.reply)
        [logged] = self.flushLoggedErrors(AssertionError)
        self.assertEqual(str(logged.value), "hmm, still stuff in buffer... b'early'")
        self.net.advance(3600)
        [echo] = self.echoes.protocols
        assert isinstance(echo, Echo)
        self.assertEqual((echo.received, echo.lost.called), (b"", False))
        assert echo.transport is not None
        echo.transport.loseConnection()
        self.net.run_until(echo.lost)

    def test_dataBeforeTheReply(self) -> None:
        """
        With half a second of latency between the proxy and the server, a
        client sends its request, then C{early} a tenth of a second later,
        then, once granted, C{late}: the proxy had put C{early} in its
        request buffer, and never sends it; the server reads C{late} alone.
        """
        self.net.set_link(PROXY, SERVER, LinkConditions(latency=0.5))
        client = SOCKSClient(socks4_request(self.echoPort, SERVER))
        connect(self.net, self.socksPort, client)
        self.net.callLater(0.1, client.tcp.write, b"early")
        self.assertEqual(self.net.run_until(client.replied).status, GRANTED)
        self.assertGreater(self.net.seconds(), 0.1)
        client.tcp.write(b"late")
        self.net.run_until(client.receivedAtLeast(4))
        self.net.advance(5)
        [echo] = self.echoes.protocols
        assert isinstance(echo, Echo)
        self.assertEqual((echo.received, client.received), (b"late", b"late"))
        client.tcp.loseConnection()
        self.net.run_until(echo.lost)


class LogFileTests(MemoryNetworkTestCase):
    """
    C{SOCKSv4Factory(log)} with a file name: C{SOCKSv4.log} opens the file
    for each relayed piece, writes a line of addresses, then a hex dump made
    with C{string.join} and C{ord} on each character -- Python 2 code -- so
    the first piece relayed raises L{AttributeError}, before it is sent;
    the connection is dropped, and the file is left open.  Seen on the real
    reactor too.  If Twisted fixes it, L{test_logFileBreaksTheRelay} fails.
    """

    def test_logFileBreaksTheRelay(self) -> None:
        """
        Through a SOCKS server that logs to a file: the C{CONNECT} is
        granted, and the first bytes the client sends raise
        L{AttributeError} (logged) in C{SOCKSv4.log}, whose file is still
        open, holding only the line of addresses (client, then
        destination); the bytes never reach the server, and the proxy
        closes both connections.
        """
        path = FilePath(self.mktemp())
        socksPort = start_socks(self, path.path)
        echoes, echoPort = start_server(self, Echo)
        client = SOCKSClient(socks4_request(echoPort, SERVER))
        connect(self.net, socksPort, client)
        self.assertEqual(self.net.run_until(client.replied).status, GRANTED)
        clientPort = getattr(client.tcp.getHost(), "port", None)
        client.tcp.write(b"a line for the log")
        self.net.run_until(client.lost)
        [logged] = self.flushLoggedErrors(AttributeError)
        self.assertEqual(str(logged.value), "module 'string' has no attribute 'join'")
        [echo] = echoes.protocols
        assert isinstance(echo, Echo)
        self.net.run_until(echo.lost)
        self.assertEqual(echo.received, b"")
        # The file is still open, in the frame that raised: close it.
        tb = logged.value.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        assert tb is not None
        self.assertEqual(tb.tb_frame.f_code.co_name, "log")
        logFile = tb.tb_frame.f_locals["f"]
        self.assertFalse(logFile.closed)
        logFile.close()
        [line] = path.getContent().decode("ascii").splitlines()
        self.assertTrue(
            line.endswith(f"\t{CLIENT}:{clientPort} > {SERVER}:{echoPort}"), line
        )


class _Attempt:
    """
    The transport of a connection attempt on L{dialling_stand_in}: it never
    connects; its timeout, if it ran, would fail the attempt.
    """

    def __init__(self, connector: BaseConnector) -> None:
        self.connector = connector

    def failIfNotConnected(self, error: Exception) -> None:
        self.connector.connectionFailed(Failure(error))


class _Connector(BaseConnector):
    """
    Twisted's L{BaseConnector}, dialling nothing: C{connect} arms the
    attempt's timeout with the reactor's C{callLater}, as the real
    reactor's connectors do.
    """

    def __init__(
        self,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        timeout: float,
        reactor: Any,
    ) -> None:
        super().__init__(factory, timeout, reactor)
        self.destination = IPv4Address("TCP", host, port)

    def _makeTransport(self) -> Any:
        return _Attempt(self)

    def getDestination(self) -> IPv4Address:
        return self.destination


def dialling_stand_in(case: MemoryNetworkTestCase) -> MemoryReactorClock:
    """
    L{stand_in_global_reactor}, with a C{connectTCP} that starts a
    L{_Connector}: as on the real reactor, a connection attempt puts a
    delayed call, its timeout, on the reactor (the real one also schedules
    its first step, and opens a socket, which the socket guard of the unit
    tests forbids first).  This is what the global-reactor guard sees where
    no socket guard runs.

    @return: the stand-in.
    """
    stand_in = stand_in_global_reactor(case)

    def connectTCP(
        host: str,
        port: int,
        factory: ClientFactory[Any],
        timeout: float = 30,
        bindAddress: object = None,
    ) -> IConnector:
        connector = _Connector(host, port, factory, timeout, stand_in)
        connector.connect()
        return connector

    stand_in.connectTCP = connectTCP  # type: ignore[method-assign]
    return stand_in


class SOCKSGuardTests(MemoryNetworkTestCase):
    """
    Without C{socks.reactor} patched, a C{CONNECT} goes to the reactor
    C{twisted.protocols.socks} imported -- even from a
    L{SOCKSv4<socks.SOCKSv4>} given the network as its reactor.  Under
    trial that is the real reactor, and the socket guard fails the test;
    the global-reactor guard names the fix where the attempt is a delayed
    call.
    """

    def test_reactorArgumentIsNotEnough(self) -> None:
        """
        A factory building C{SOCKSv4(reactor=net)}, nothing patched: the
        C{CONNECT} calls the real reactor's C{connectTCP} from
        C{SOCKSv4.connectClass}, whose socket the socket guard forbids (the
        inner test errs with L{SocketForbidden}, logged twice: by the socket
        guard, and as the exception that drops the connection); the client
        gets no reply, and its connection is closed.
        """
        outcome: list[SOCKSClient] = []

        class ReactorFactory(socks.SOCKSv4Factory):
            def __init__(self, reactor: MemoryNetwork) -> None:
                super().__init__(None)
                self.reactor = reactor

            def buildProtocol(self, addr: IAddress | None) -> socks.SOCKSv4:
                return socks.SOCKSv4(self.logging, self.reactor)

        def inner(case: MemoryNetworkTestCase) -> None:
            _, echoPort = start_server(case, Echo)
            listening = case.net.host(PROXY).listenTCP(0, ReactorFactory(case.net))
            case.addCleanup(listening.stopListening)
            client = SOCKSClient(socks4_request(echoPort, SERVER))
            outcome.append(client)
            connect(case.net, port_number(listening), client)
            case.net.run_until(client.lost)

        result = run_inner(inner)
        self.assertEqual(result.failures, [])
        self.assertEqual(len(result.errors), 2)
        tracebacks = []
        for _, error in result.errors:
            assert isinstance(error, Failure)
            self.assertTrue(error.check(SocketForbidden))
            self.assertIn(
                "unit tests must not open sockets (socket.socket() was called)",
                error.getErrorMessage(),
            )
            tracebacks.append(error.getTraceback())
        self.assertTrue(
            any('socks.py", line' in t and "in connectClass" in t for t in tracebacks)
        )
        [client] = outcome
        self.assertIsNone(client.reply)
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionDone))

    def test_guardNamesTheFix(self) -> None:
        """
        With the global reactor a stand-in whose C{connectTCP} arms a
        connector's timeout, as the real reactor's does, and C{socks.reactor}
        that stand-in: the client waits for a reply that never comes, and
        the L{Deadlock} names the timeout, scheduled through
        C{twisted/internet/base.py}, and the fix,
        C{self.patch(socks, 'reactor', net)}.
        """
        stand_in = dialling_stand_in(self)
        # The module imported the global reactor; make it the stand-in too.
        self.patch(socks, "reactor", stand_in)

        def inner(case: MemoryNetworkTestCase) -> None:
            _, echoPort = start_server(case, Echo)
            listening = case.net.host(PROXY).listenTCP(0, socks.SOCKSv4Factory(None))
            case.addCleanup(listening.stopListening)
            client = SOCKSClient(socks4_request(echoPort, SERVER))
            connect(case.net, port_number(listening), client)
            case.net.run_until(client.replied)

        [(_, failure)] = run_inner(inner).errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(Deadlock))
        text = failure.getErrorMessage()
        self.assertIn("Work waiting on the global reactor", text)
        self.assertIn(
            "1. delayed call: _Attempt.failIfNotConnected, due in 30.0 s", text
        )
        self.assertIn("through twisted/internet/base.py:", text)
        self.assertIn(
            "fix: twisted.protocols.socks connects (CONNECT) and listens (BIND) "
            "with the reactor it imported",
            text,
        )
        self.assertIn("self.patch(socks, 'reactor', net)", text)
        self.assertEqual(stand_in.getDelayedCalls(), [])


class PortForwardGuardTests(MemoryNetworkTestCase):
    """
    Without C{protocol.reactor}, L{ProxyServer<portforward.ProxyServer>}
    connects with the global reactor.  Under trial that is the real
    reactor, and the socket guard fails the test; the global-reactor guard
    names the fix where the attempt is a delayed call.
    """

    def test_withoutTheReactor(self) -> None:
        """
        Twisted's L{ProxyFactory<portforward.ProxyFactory>} as it is:
        C{ProxyServer.connectionMade} imports the real reactor and calls its
        C{connectTCP}, whose socket the socket guard forbids (the inner test
        errs with L{SocketForbidden}, logged twice: by the socket guard, and
        as the exception out of C{connectionMade}, which is only logged); so
        -- as on the real reactor -- the client's connection stays open, the
        forwarder not reading what the client sent.
        """
        clients: list[Reader] = []
        forwarders: list[MemoryTransport] = []

        def inner(case: MemoryNetworkTestCase) -> None:
            _, echoPort = start_server(case, Echo)
            factory = portforward.ProxyFactory(SERVER, echoPort)
            listening = case.net.host(PROXY).listenTCP(0, factory)
            case.addCleanup(listening.stopListening)
            client = connect(case.net, port_number(listening), Reader(b"hello"))
            clients.append(client)
            case.net.advance(60)
            [(_, forwarder)] = case.net.open_connections()
            forwarders.append(forwarder)

        result = run_inner(inner)
        self.assertEqual(result.failures, [])
        self.assertEqual(len(result.errors), 2)
        tracebacks = []
        for _, error in result.errors:
            assert isinstance(error, Failure)
            self.assertTrue(error.check(SocketForbidden))
            tracebacks.append(error.getTraceback())
        self.assertTrue(
            any(
                'portforward.py", line' in t and "in connectionMade" in t
                for t in tracebacks
            )
        )
        [client], [forwarder] = clients, forwarders
        self.assertFalse(client.lost.called)
        self.assertTrue(forwarder.reading_paused())
        self.assertEqual(client.tcp.unread_outgoing(), len(b"hello"))

    def test_guardNamesTheFix(self) -> None:
        """
        With the global reactor a stand-in whose C{connectTCP} arms a
        connector's timeout, as the real reactor's does: the client waits
        for ever, and the L{Deadlock} names the timeout and the fix,
        C{protocol.reactor = net}.
        """
        dialling_stand_in(self)

        def inner(case: MemoryNetworkTestCase) -> None:
            _, echoPort = start_server(case, Echo)
            factory = portforward.ProxyFactory(SERVER, echoPort)
            listening = case.net.host(PROXY).listenTCP(0, factory)
            case.addCleanup(listening.stopListening)
            client = connect(case.net, port_number(listening), Reader(b"hello"))
            case.net.run_until(client.lost)

        [(_, failure)] = run_inner(inner).errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(Deadlock))
        text = failure.getErrorMessage()
        self.assertIn(
            "1. delayed call: _Attempt.failIfNotConnected, due in 30.0 s", text
        )
        self.assertIn("through twisted/internet/base.py:", text)
        self.assertIn(
            "fix: portforward's ProxyServer connects with its class attribute "
            "reactor, the global reactor when None: set protocol.reactor = net",
            text,
        )
