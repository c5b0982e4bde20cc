"""
Tests for UDP on L{poetry.testing.MemoryNetwork}: C{listenUDP} and
C{listenMulticast} (L{UDPPort}, L{MulticastUDPPort}), the kernel's datagram
socket, bindings, ICMP port-unreachable, and L{DatagramConditions}.  What
the real reactor does is pinned by the oracle family C{udp}
(C{tests/oracle/scenarios_udp.py}); these tests cover the rest of the
harness's side.
"""

from __future__ import annotations

import errno
import socket
import warnings
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    CannotListenError,
    ConnectionDone,
    InvalidAddressError,
    MessageLengthError,
    MulticastJoinError,
)
from twisted.internet.interfaces import (
    IListeningPort,
    IMulticastTransport,
    IReactorMulticast,
    IReactorUDP,
    IUDPTransport,
)
from twisted.internet.protocol import DatagramProtocol, ServerFactory
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from poetry.testing import (
    INBOUND,
    OUTBOUND,
    PLAIN_DATAGRAMS,
    UDP_RECEIVE_BUFFER,
    DatagramConditions,
    Deadlock,
    MemoryNetwork,
    MemoryNetworkTestCase,
    MulticastUDPPort,
    UDPPort,
    Unclean,
    assert_deterministic,
)
from poetry.testing._udp import MAX_DATAGRAM, truesize
from tests.unit.test_testing_support import run_document_example

LOCAL = "127.0.0.1"


class Recorder(DatagramProtocol):
    """
    Records its callbacks: C{("start",)}, C{("stop",)}, C{("refused",)},
    C{("datagram", data, addr)}; C{on_datagram(self, data, addr)} runs
    after recording.
    """

    noisy = False

    def __init__(self, on_datagram: Any = None) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.on_datagram = on_datagram

    @property
    def datagrams(self) -> list[bytes]:
        return [event[1] for event in self.events if event[0] == "datagram"]

    def startProtocol(self) -> None:
        self.events.append(("start",))

    def stopProtocol(self) -> None:
        self.events.append(("stop",))

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.events.append(("datagram", datagram, addr))
        if self.on_datagram is not None:
            self.on_datagram(self, datagram, addr)

    def connectionRefused(self) -> None:
        self.events.append(("refused",))


def number(port: IListeningPort) -> int:
    address = port.getHost()
    assert isinstance(address, IPv4Address)
    return address.port


class UDPTestCase(MemoryNetworkTestCase):
    """
    Helpers: listen, and close everything at the end.
    """

    def listen(
        self,
        protocol: DatagramProtocol | None = None,
        interface: str = LOCAL,
        port: int = 0,
        **kwargs: Any,
    ) -> UDPPort:
        listening = self.net.listenUDP(
            port, protocol or Recorder(), interface=interface, **kwargs
        )
        self.addCleanup(self.close, listening)
        return listening

    def multicast(
        self,
        protocol: DatagramProtocol | None = None,
        interface: str = "",
        port: int = 0,
        **kwargs: Any,
    ) -> MulticastUDPPort:
        listening = self.net.listenMulticast(
            port, protocol or Recorder(), interface=interface, **kwargs
        )
        self.addCleanup(self.close, listening)
        return listening

    def close(self, port: UDPPort) -> None:
        if port.connected:
            port.stopListening()
            self.net.advance(0)

    def recorder(self, port: UDPPort) -> Recorder:
        protocol = port.protocol
        assert isinstance(protocol, Recorder)
        return protocol


class InterfaceTests(UDPTestCase):
    """
    The network and its ports provide the UDP interfaces.
    """

    def test_interfaces(self) -> None:
        """
        The network provides L{IReactorUDP} and L{IReactorMulticast}; a UDP
        port provides L{IListeningPort} and L{IUDPTransport}; a multicast
        port L{IMulticastTransport} too.
        """
        self.assertTrue(verifyObject(IReactorUDP, self.net))
        self.assertTrue(verifyObject(IReactorMulticast, self.net))
        port = self.listen()
        self.assertTrue(verifyObject(IListeningPort, port))
        self.assertTrue(verifyObject(IUDPTransport, port))
        multicast = self.multicast()
        self.assertTrue(verifyObject(IMulticastTransport, multicast))

    def test_reprs(self) -> None:
        """
        A port's repr names its protocol and number (or that it is not
        listening); the socket's and the stack's say what they hold.
        """
        port = self.listen()
        self.assertIn(f"on {number(port)}", repr(port))
        self.assertIn(f"u1 {LOCAL}:{number(port)} 0 queued", repr(port.getHandle()))
        self.assertIn("1 socket(s)", repr(self.net.udp))
        port.connect(LOCAL, 9)
        self.assertIn(f"-> {LOCAL}:9", repr(port.getHandle()))
        sock = port.getHandle()
        port.stopListening()
        self.net.advance(0)
        self.assertIn("not connected", repr(port))
        self.assertIn("closed", repr(sock))


class ListenTests(UDPTestCase):
    """
    C{listenUDP}: binding, addresses, the protocol's start.
    """

    def test_startsTheProtocolAndReads(self) -> None:
        """
        C{listenUDP} starts the protocol before it returns; the port reads
        a datagram sent to it in the next step, with the sender's address.
        """
        first = self.listen()
        second = self.listen()
        self.assertEqual(self.recorder(first).events, [("start",)])
        self.assertEqual(first.write(b"hello", (LOCAL, number(second))), 5)
        self.assertEqual(self.recorder(second).datagrams, [])
        self.assertTrue(self.net.step())
        self.assertEqual(
            self.recorder(second).events[-1],
            ("datagram", b"hello", (LOCAL, number(first))),
        )
        self.assertEqual(self.net.seconds(), 0.0)

    def test_portNumbers(self) -> None:
        """
        Port 0 counts up from 32768 per address; the C{port} attribute
        stays 0; C{getHost} is a UDP L{IPv4Address}; UDP numbers are
        another namespace than TCP's.
        """
        tcp = self.net.listenTCP(0, ServerFactory(), interface=LOCAL)
        self.addCleanup(tcp.stopListening)
        first = self.listen()
        second = self.listen()
        other = self.listen(interface="127.0.0.2")
        self.assertEqual(
            [number(first), number(second), number(other)], [32768, 32769, 32768]
        )
        self.assertEqual(number(tcp), 32768)
        self.assertEqual(first.port, 0)
        self.assertEqual(first.getHost(), IPv4Address("UDP", LOCAL, 32768))

    def test_anyInterface(self) -> None:
        """
        The interface C{""} is C{0.0.0.0}: the port gets datagrams sent to
        any address of the network (a host-map address too); C{connect}
        gives it the route's source address.
        """
        net = self.net
        net.add_host("far", "10.0.0.9")
        port = self.listen(interface="")
        sender = self.listen()
        self.assertEqual(port.getHost().host, "0.0.0.0")
        sender.write(b"a", (LOCAL, number(port)))
        sender.write(b"b", ("10.0.0.9", number(port)))
        sender.write(b"c", ("127.0.0.3", number(port)))
        net.run()
        self.assertEqual(self.recorder(port).datagrams, [b"a", b"b", b"c"])
        port.write(b"d", ("10.0.0.9", number(port)))
        net.run()
        self.assertEqual(
            self.recorder(port).events[-1],
            ("datagram", b"d", ("10.0.0.9", number(port))),
        )
        port.connect("127.0.0.3", number(sender))
        self.assertEqual(port.getHost().host, LOCAL)

    def test_hostMapAddress(self) -> None:
        """
        A port may listen on an address of the host map; one that is not an
        address of the network cannot be bound (C{EADDRNOTAVAIL}).
        """
        self.net.add_host("server", "10.0.0.1")
        port = self.listen(interface="10.0.0.1")
        self.assertEqual(port.getHost().host, "10.0.0.1")
        error = self.assertRaises(
            CannotListenError, self.net.listenUDP, 0, Recorder(), "10.9.9.9"
        )
        self.assertEqual(error.socketError.errno, errno.EADDRNOTAVAIL)
        self.assertIn(("udp-listen-fail", "10.9.9.9:0"), _kinds(self.net))

    def test_badInterfaces(self) -> None:
        """
        A host name is L{InvalidAddressError} (before any binding, as
        C{udp.Port} checks it); an IPv6 address L{CannotListenError}
        (C{EAFNOSUPPORT}: the network is IPv4 only).
        """
        self.assertRaises(
            InvalidAddressError, self.net.listenUDP, 0, Recorder(), "localhost"
        )
        error = self.assertRaises(
            CannotListenError, self.net.listenUDP, 0, Recorder(), "::1"
        )
        self.assertEqual(error.socketError.errno, errno.EAFNOSUPPORT)

    def test_badPortNumbers(self) -> None:
        """
        A port outside 0-65535 is L{OverflowError}, one that is not an int
        L{TypeError}, as C{bind} raises them; nothing stays bound.
        """
        self.assertRaises(OverflowError, self.net.listenUDP, 65536, Recorder())
        self.assertRaises(OverflowError, self.net.listenUDP, -1, Recorder())
        self.assertRaises(TypeError, self.net.listenUDP, "53", Recorder())
        self.assertRaises(TypeError, self.net.listenUDP, True, Recorder())
        self.net.assert_clean()

    def test_addressInUse(self) -> None:
        """
        The same port on the same address, on C{0.0.0.0} and an address,
        or an address and C{0.0.0.0}, is C{EADDRINUSE}; two addresses may
        share a port number.
        """
        first = self.listen()
        taken = number(first)
        for interface in (LOCAL, ""):
            error = self.assertRaises(
                CannotListenError, self.net.listenUDP, taken, Recorder(), interface
            )
            self.assertEqual(error.socketError.errno, errno.EADDRINUSE)
        self.listen(interface="127.0.0.2", port=taken)
        wildcard = self.listen(interface="")
        error = self.assertRaises(
            CannotListenError, self.net.listenUDP, number(wildcard), Recorder(), LOCAL
        )
        self.assertEqual(error.socketError.errno, errno.EADDRINUSE)

    def test_portFreedOnClose(self) -> None:
        """
        Once a port has closed, its number may be bound again.
        """
        port = self.listen()
        taken = number(port)
        port.stopListening()
        self.net.advance(0)
        again = self.listen(port=taken)
        self.assertEqual(number(again), taken)

    def test_makeConnectionRaises(self) -> None:
        """
        A protocol that already has a transport fails C{makeConnection}'s
        assertion: C{listenUDP} raises it, and the port's socket is closed
        (the real one is when the port is collected).
        """
        protocol = Recorder()
        self.listen(protocol)
        self.assertRaises(AssertionError, self.net.listenUDP, 0, protocol)
        self.assertEqual(len(self.net.udp.ports()), 1)
        self.assertEqual(len(self.net.udp.sockets), 1)

    def test_protocolWithoutLogPrefix(self) -> None:
        """
        A datagram protocol that does not provide C{ILoggingContext} is
        named by its class in the port's log prefix.
        """
        from twisted.internet.protocol import AbstractDatagramProtocol

        class Bare(AbstractDatagramProtocol):
            noisy = False

        port = self.listen(Bare())  # type: ignore[arg-type]
        self.assertEqual(port.logPrefix(), "Bare (UDP)")

    def test_sharedProtocol(self) -> None:
        """
        A protocol may be given to two ports one after the other:
        C{startProtocol} then runs once per start.
        """
        protocol = Recorder()
        port = self.listen(protocol)
        port.stopListening()
        self.net.advance(0)
        self.listen(protocol)
        self.assertEqual(protocol.events, [("start",), ("stop",), ("start",)])


def _kinds(net: MemoryNetwork) -> list[tuple[str, str]]:
    return [(event.kind, event.detail) for event in net.trace]


class WriteTests(UDPTestCase):
    """
    C{write}: what leaves, and what the port refuses.
    """

    def test_refusedWrites(self) -> None:
        """
        Host names, IPv6 addresses, no address while unconnected, text, a
        datagram over 65,507 bytes and port 0 are refused, and nothing is
        sent.
        """
        port = self.listen()
        self.assertRaises(InvalidAddressError, port.write, b"x", ("localhost", 9))
        self.assertRaises(InvalidAddressError, port.write, b"x", ("::1", 9))
        self.assertRaises(AssertionError, port.write, b"x")
        self.assertRaises(TypeError, port.write, "x", (LOCAL, 9))
        self.assertRaises(
            MessageLengthError, port.write, b"x" * (MAX_DATAGRAM + 1), (LOCAL, 9)
        )
        error = self.assertRaises(OSError, port.write, b"x", (LOCAL, 0))
        self.assertEqual(error.errno, errno.EINVAL)
        self.assertRaises(OverflowError, port.write, b"x", (LOCAL, 70000))
        self.assertNotIn("udp-send", [kind for kind, _ in _kinds(self.net)])

    def test_writeSequenceAndBuffers(self) -> None:
        """
        C{writeSequence} sends one datagram; bytearrays and memoryviews are
        sent as bytes.
        """
        port = self.listen()
        target = self.listen()
        port.writeSequence([b"a", b"b", b"c"], (LOCAL, number(target)))
        port.write(bytearray(b"de"), (LOCAL, number(target)))  # type: ignore[arg-type]
        port.write(memoryview(b"fg"), (LOCAL, number(target)))  # type: ignore[arg-type]
        self.net.run()
        self.assertEqual(self.recorder(target).datagrams, [b"abc", b"de", b"fg"])

    def test_largestDatagram(self) -> None:
        """
        A datagram of 65,507 bytes arrives whole (with a large enough
        C{maxPacketSize}); an empty one as C{b""}.
        """
        port = self.listen()
        target = self.listen(maxPacketSize=70000)
        port.write(b"x" * MAX_DATAGRAM, (LOCAL, number(target)))
        port.write(b"", (LOCAL, number(target)))
        self.net.run()
        self.assertEqual(
            [len(d) for d in self.recorder(target).datagrams], [MAX_DATAGRAM, 0]
        )

    def test_unconnectedToClosedPort(self) -> None:
        """
        An unconnected port writing to a port nobody is bound to gets no
        error: the trace shows the port unreachable.
        """
        port = self.listen()
        self.assertEqual(port.write(b"x", (LOCAL, 9)), 1)
        self.assertEqual(port.write(b"x", (LOCAL, 9)), 1)
        self.net.run()
        self.assertEqual(self.recorder(port).events, [("start",)])
        self.assertIn(
            ("udp-unreachable", f"{LOCAL}:9 port unreachable (ICMP to {LOCAL}:32768)"),
            _kinds(self.net),
        )

    def test_unknownDestination(self) -> None:
        """
        A datagram to an address that is not the network's is lost without
        an ICMP error, even for a connected port.
        """
        port = self.listen()
        port.connect("10.9.9.9", 53)
        port.write(b"x")
        port.write(b"y")
        self.net.run()
        self.assertEqual(self.recorder(port).events, [("start",)])
        drops = [d for k, d in _kinds(self.net) if k == "udp-drop"]
        self.assertEqual(len(drops), 2)
        self.assertIn("no receiver", drops[0])


class ConnectedTests(UDPTestCase):
    """
    Connected ports and ICMP port-unreachable, as on Linux with the epoll
    reactor.
    """

    def test_refusedOnTheNextWrite(self) -> None:
        """
        The write after a datagram to a closed port fails, calls
        C{connectionRefused} and sends nothing; the next is sent.
        """
        port = self.listen()
        port.connect(LOCAL, 9)
        self.assertEqual(port.write(b"a"), 1)
        self.assertIsNone(port.write(b"b"))
        self.assertEqual(self.recorder(port).events, [("start",), ("refused",)])
        self.assertEqual(port.write(b"c"), 1)
        sends = [d for k, d in _kinds(self.net) if k == "udp-send"]
        self.assertEqual(len(sends), 2)

    def test_pendingErrorWithNothingToReadDisconnects(self) -> None:
        """
        In the next dispatch the pending error with nothing queued loses
        the port (C{ConnectionDone}): C{stopProtocol}, never
        C{connectionRefused}.
        """
        port = self.listen()
        port.connect(LOCAL, 9)
        port.write(b"a")
        self.net.run()
        self.assertEqual(self.recorder(port).events, [("start",), ("stop",)])
        self.assertFalse(port.connected)
        self.assertIsNone(port.stopListening())
        self.assertIn(
            ("udp-error", f"{LOCAL}:32768 connectionLost(ConnectionDone)"),
            _kinds(self.net),
        )
        self.assertRaises(AttributeError, port.getHost)

    def test_refusedOnTheNextRead(self) -> None:
        """
        With a datagram queued too, the read reports the refusal first
        (C{connectionRefused}), then the datagram; the port stays open.
        """
        port = self.listen()
        closed = 40000
        port.connect(LOCAL, closed)
        port.write(b"anyone?")
        late = self.listen(port=closed)
        late.write(b"here", (LOCAL, number(port)))
        self.net.run()
        self.assertEqual(
            self.recorder(port).events,
            [("start",), ("refused",), ("datagram", b"here", (LOCAL, closed))],
        )
        self.assertTrue(port.connected)

    def test_connectedReceivesFromThePeerOnly(self) -> None:
        """
        A connected port drops the datagrams of others (a C{udp-drop}
        event).
        """
        port = self.listen()
        peer = self.listen()
        other = self.listen()
        port.connect(LOCAL, number(peer))
        other.write(b"stranger", (LOCAL, number(port)))
        peer.write(b"friend", (LOCAL, number(port)))
        self.net.run()
        self.assertEqual(self.recorder(port).datagrams, [b"friend"])
        drops = [d for k, d in _kinds(self.net) if k == "udp-drop"]
        self.assertEqual(
            drops,
            [f"{LOCAL}:32770 -> {LOCAL}:32768 (8 bytes) not from the connected peer"],
        )

    def test_connectRules(self) -> None:
        """
        A second C{connect} is L{RuntimeError}, a name
        L{InvalidAddressError}; a connected port writes to its peer only.
        """
        port = self.listen()
        self.assertRaises(InvalidAddressError, port.connect, "localhost", 9)
        port.connect(LOCAL, 9)
        self.assertRaises(RuntimeError, port.connect, LOCAL, 10)
        self.assertRaises(AssertionError, port.write, b"x", (LOCAL, 10))

    def test_getPeer(self) -> None:
        """
        C{getPeer} is not implemented, as on the real reactor.
        """
        port = self.listen()
        self.assertRaises(NotImplementedError, port.getPeer)
        port.connect(LOCAL, 9)
        self.assertRaises(NotImplementedError, port.getPeer)

    def test_refusalToAClosedSenderIsIgnored(self) -> None:
        """
        An ICMP error coming back (with latency) after the sender closed
        changes nothing, whether the sender closed before its datagram
        arrived or after.
        """
        self.net.udp.set_default(DatagramConditions(latency=0.1))
        for close_at in (0.0, 0.15):
            port = self.listen()
            port.connect(LOCAL, 9)
            port.write(b"x")
            sock = port.getHandle()
            self.net.callLater(close_at, port.stopListening)
            self.net.run()
            self.assertEqual(sock.err, 0)
            self.assertEqual(self.recorder(port).events, [("start",), ("stop",)])

    def test_errorsOtherThanRefusal(self) -> None:
        """
        A connected port's write that fails otherwise raises: too long is
        L{MessageLengthError}, another pending error (an ICMP host
        unreachable, say) that error; connecting to the broadcast address
        needs C{SO_BROADCAST} (C{EACCES}).
        """
        port = self.listen()
        port.connect(LOCAL, 9)
        self.assertRaises(MessageLengthError, port.write, b"x" * (MAX_DATAGRAM + 1))
        port.getHandle().err = errno.EHOSTUNREACH
        error = self.assertRaises(OSError, port.write, b"x")
        self.assertEqual(error.errno, errno.EHOSTUNREACH)
        other = self.listen()
        error = self.assertRaises(OSError, other.connect, "255.255.255.255", 9)
        self.assertEqual(error.errno, errno.EACCES)
        allowed = self.listen()
        allowed.setBroadcastAllowed(True)
        allowed.connect("255.255.255.255", 9)
        self.assertEqual(allowed.write(b"x"), 1)

    def test_connectedToPortZero(self) -> None:
        """
        Connected to port 0 (which Linux accepts), a write finds nobody:
        the next one is refused.
        """
        port = self.listen()
        port.connect(LOCAL, 0)
        self.assertEqual(port.write(b"x"), 1)
        self.assertIsNone(port.write(b"x"))
        self.assertEqual(self.recorder(port).events, [("start",), ("refused",)])

    def test_unconnectedPortWithAPendingRefusal(self) -> None:
        """
        An unconnected port never gets the error on Linux (without
        C{IP_RECVERR}); if its socket had one, C{udp.Port} would ignore it:
        a write returns L{None}, a read reads on without
        C{connectionRefused}.
        """
        port = self.listen()
        sender = self.listen()
        sock = port.getHandle()
        sock.err = errno.ECONNREFUSED
        self.assertIsNone(port.write(b"x", (LOCAL, number(sender))))
        sender.write(b"y", (LOCAL, number(port)))
        sock.err = errno.ECONNREFUSED
        self.net.run()
        self.assertEqual(
            self.recorder(port).events,
            [("start",), ("datagram", b"y", (LOCAL, number(sender)))],
        )
        self.assertEqual(self.recorder(sender).datagrams, [])


class ReadTests(UDPTestCase):
    """
    Reading: truncation, throughput, the receive buffer, errors.
    """

    def test_maxPacketSize(self) -> None:
        """
        A read takes the first C{maxPacketSize} bytes; the rest is lost.
        """
        port = self.listen()
        target = self.listen(maxPacketSize=4)
        port.write(b"abcdefgh", (LOCAL, number(target)))
        port.write(b"xy", (LOCAL, number(target)))
        self.net.run()
        self.assertEqual(self.recorder(target).datagrams, [b"abcd", b"xy"])

    def test_maxThroughput(self) -> None:
        """
        One dispatch reads at most C{maxThroughput} bytes; the rest waits
        for the next, after the timed calls due.
        """
        order: list[str] = []

        def note(protocol: Recorder, data: bytes, addr: Any) -> None:
            order.append(data[:1].decode())
            if len(order) == 1:
                self.net.callLater(0, order.append, "tick")

        target = self.listen(Recorder(note), maxPacketSize=65536)
        target.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 200_000)
        sender = self.listen()
        for index in range(6):
            sender.write(bytes([65 + index]) * MAX_DATAGRAM, (LOCAL, number(target)))
        self.net.run()
        self.assertEqual(order, ["A", "B", "C", "D", "E", "tick", "F"])

    def test_receiveBufferOverflows(self) -> None:
        """
        A port that does not read in time keeps what fits in its receive
        buffer; the rest is dropped (C{udp-drop}, "receive queue full").
        """
        target = self.listen()
        sender = self.listen()
        for _ in range(300):
            sender.write(b"x", (LOCAL, number(target)))
        self.net.run()
        self.assertEqual(len(self.recorder(target).datagrams), 256)
        drops = [d for k, d in _kinds(self.net) if k == "udp-drop"]
        self.assertEqual(len(drops), 44)
        self.assertTrue(drops[0].endswith("receive queue full"))

    def test_emptyQueueTakesAnyDatagram(self) -> None:
        """
        The smallest receive buffer (2304) still takes one datagram of any
        size when its queue is empty, and nothing more until it is read.
        """
        target = self.listen(maxPacketSize=70000)
        sock = target.getHandle()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        self.assertEqual(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), 2304)
        sender = self.listen()
        sender.write(b"x" * 8000, (LOCAL, number(target)))
        sender.write(b"y", (LOCAL, number(target)))
        self.net.run()
        self.assertEqual([len(d) for d in self.recorder(target).datagrams], [8000])

    def test_receiveBufferSetting(self) -> None:
        """
        C{SO_RCVBUF} doubles what is asked, up to twice C{rmem_max}; new
        sockets take the stack's C{receive_buffer}.
        """
        port = self.listen()
        sock = port.getHandle()
        self.assertEqual(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), UDP_RECEIVE_BUFFER
        )
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 10_000_000)
        self.assertEqual(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), 2 * 4_194_304
        )
        self.net.udp.receive_buffer = 5000
        other = self.listen()
        self.assertEqual(
            other.getHandle().getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), 5000
        )

    def test_truesize(self) -> None:
        """
        The kernel accounting of a datagram rises by allocation sizes, then
        with the payload.
        """
        self.assertEqual(
            [truesize(n) for n in (0, 197, 198, 645, 646, 1669, 1670, 3717)],
            [832, 832, 1280, 1280, 2304, 2304, 4352, 4352],
        )
        self.assertEqual(
            [truesize(n) for n in (3718, 7813, 7814, 16004, 16005, 65507)],
            [8448, 8448, 16640, 16640, 16837, 66339],
        )

    def test_exceptionInDatagramReceived(self) -> None:
        """
        An exception from C{datagramReceived} is logged, and the next
        datagram is read in the same dispatch.
        """

        def explode(protocol: Recorder, data: bytes, addr: Any) -> None:
            if data == b"boom":
                raise ZeroDivisionError("on purpose")

        target = self.listen(Recorder(explode))
        sender = self.listen()
        sender.write(b"boom", (LOCAL, number(target)))
        sender.write(b"after", (LOCAL, number(target)))
        self.assertTrue(self.net.step())
        self.assertEqual(self.recorder(target).datagrams, [b"boom", b"after"])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_pauseAndResume(self) -> None:
        """
        A paused port (C{pauseProducing}, C{stopReading}) leaves datagrams
        in the kernel's queue; resumed, it reads them.
        """
        target = self.listen()
        sender = self.listen()
        target.pauseProducing()
        sender.write(b"x", (LOCAL, number(target)))
        self.net.run()
        self.assertEqual(self.recorder(target).datagrams, [])
        self.assertIn("1 datagram(s) queued", self.net.describe())
        target.resumeProducing()
        target.startReading()
        self.net.run()
        self.assertEqual(self.recorder(target).datagrams, [b"x"])
        target.stopWriting()

    def test_unexpectedReadError(self) -> None:
        """
        A read error other than those C{udp.Port} handles is logged and
        loses the port, as the reactor's dispatch does.
        """
        target = self.listen()
        sender = self.listen()
        sock = target.getHandle()
        sender.write(b"x", (LOCAL, number(target)))

        def broken(limit: int) -> Any:
            raise OSError(errno.EIO, "I/O error")

        sock.recvfrom = broken  # type: ignore[method-assign]
        self.net.run()
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(self.recorder(target).events, [("start",), ("stop",)])
        self.assertFalse(target.connected)

    def test_failingConnectionLost(self) -> None:
        """
        An exception while the dispatch loses the port is logged.
        """
        target = self.listen()
        target.connect(LOCAL, 9)
        target.write(b"x")

        def broken(reason: Any = None) -> None:
            raise ZeroDivisionError("on purpose")

        target.connectionLost = broken  # type: ignore[method-assign]
        self.net.run()
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        del target.connectionLost
        target.connectionLost()


class StopTests(UDPTestCase):
    """
    C{stopListening} and what follows.
    """

    def test_stopListening(self) -> None:
        """
        C{stopListening} returns a L{Deferred} fired in the next iteration
        after C{stopProtocol}; afterwards C{getHost}, C{write} and
        C{getHandle} fail with L{AttributeError}, and a second call returns
        L{None}.
        """
        port = self.listen()
        d = port.stopListening()
        assert isinstance(d, Deferred)
        self.assertFalse(d.called)
        self.assertEqual(self.recorder(port).events, [("start",)])
        self.net.advance(0)
        self.assertEqual(self.successResultOf(d), None)
        self.assertEqual(self.recorder(port).events, [("start",), ("stop",)])
        self.assertRaises(AttributeError, port.getHost)
        self.assertRaises(AttributeError, port.write, b"x", (LOCAL, 9))
        self.assertRaises(AttributeError, port.getHandle)
        self.assertIsNone(port.stopListening())
        self.assertEqual(self.net.udp.ports(), [])
        self.net.assert_clean()

    def test_stopListeningTwice(self) -> None:
        """
        Two calls before the close: two closes; the second fails in the
        protocol's C{doStop} (logged), only the second L{Deferred} fires.
        """
        port = self.listen()
        first = port.stopListening()
        second = port.stopListening()
        self.net.advance(0)
        assert first is not None and second is not None
        self.assertNoResult(first)
        self.successResultOf(second)
        self.assertEqual(len(self.flushLoggedErrors(AssertionError)), 1)

    def test_datagramsAfterStopListening(self) -> None:
        """
        Datagrams that arrive once C{stopListening} was called are not
        read.
        """
        port = self.listen()
        sender = self.listen()
        port.stopListening()
        sender.write(b"late", (LOCAL, number(port)))
        self.net.advance(0)
        self.assertEqual(self.recorder(port).datagrams, [])
        sender.write(b"later", (LOCAL, 32768))
        self.net.run()
        self.assertIn(
            (
                "udp-unreachable",
                f"{LOCAL}:32768 port unreachable (ICMP to {LOCAL}:32769)",
            ),
            _kinds(self.net),
        )

    def test_loseConnectionIsDeprecated(self) -> None:
        """
        C{loseConnection} warns and stops listening.
        """
        port = self.listen()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            port.loseConnection()
        self.assertEqual(caught[0].category, DeprecationWarning)
        self.net.advance(0)
        self.assertFalse(port.connected)

    def test_uncleanNetwork(self) -> None:
        """
        An open UDP port makes the network unclean; L{Deadlock} and
        C{describe} list it.
        """
        net = MemoryNetwork(seed=1)
        port = net.listenUDP(0, Recorder(), interface=LOCAL)
        error = self.assertRaises(Unclean, net.assert_clean)
        self.assertIn(f"u1 {LOCAL}:32768 (Recorder (UDP)): 0 datagram(s)", str(error))
        self.assertRaises(Deadlock, net.run_until, Deferred())
        port.stopListening()
        net.run()
        net.assert_clean()
        self.assertNotIn("UDP sockets", net.describe())


class BroadcastTests(UDPTestCase):
    """
    C{setBroadcastAllowed} and C{"<broadcast>"}.
    """

    def test_broadcast(self) -> None:
        """
        Without C{SO_BROADCAST} a broadcast is C{EACCES}; with it, every
        port on C{0.0.0.0} with that number gets it, a port on an address
        does not.
        """
        wildcard = self.listen(interface="")
        taken = number(wildcard)
        specific = self.listen(interface="127.0.0.2", port=taken + 1)
        sender = self.listen()
        self.assertFalse(sender.getBroadcastAllowed())
        error = self.assertRaises(OSError, sender.write, b"x", ("<broadcast>", taken))
        self.assertEqual(error.errno, errno.EACCES)
        sender.setBroadcastAllowed(True)
        self.assertTrue(sender.getBroadcastAllowed())
        sender.write(b"all", ("<broadcast>", taken))
        sender.write(b"all", ("255.255.255.255", taken + 1))
        self.net.run()
        self.assertEqual(self.recorder(wildcard).datagrams, [b"all"])
        self.assertEqual(self.recorder(specific).datagrams, [])


class MulticastTests(UDPTestCase):
    """
    C{listenMulticast}: groups, loopback mode, TTL, interfaces.
    """

    GROUP = "228.0.0.7"

    def test_groupMembers(self) -> None:
        """
        Once a port joined a group, every port on C{0.0.0.0} or on the group
        with that number gets what is sent to it (Linux's
        C{IP_MULTICAST_ALL}); not a port on another address; after leaving,
        nobody.
        """
        joined = self.multicast(listenMultiple=True)
        taken = number(joined)
        other = self.multicast(port=taken, listenMultiple=True)
        on_group = self.multicast(interface=self.GROUP, port=taken, listenMultiple=True)
        local = self.multicast(interface=LOCAL, port=taken + 1)
        sender = self.multicast()
        self.successResultOf(joined.joinGroup(self.GROUP, LOCAL))
        sender.write(b"to all", (self.GROUP, taken))
        sender.write(b"to all", (self.GROUP, taken + 1))
        self.net.run()
        for port in (joined, other, on_group):
            self.assertEqual(self.recorder(port).datagrams, [b"to all"])
        self.assertEqual(self.recorder(local).datagrams, [])
        self.successResultOf(joined.leaveGroup(self.GROUP, LOCAL))
        sender.write(b"nobody", (self.GROUP, taken))
        self.net.run()
        self.assertEqual(self.recorder(joined).datagrams, [b"to all"])
        joins = [k for k, _ in _kinds(self.net) if k in ("udp-join", "udp-leave")]
        self.assertEqual(joins, ["udp-join", "udp-leave"])

    def test_unicastToSharedPort(self) -> None:
        """
        A unicast datagram to a number several ports share goes to the
        oldest; ports that do not all set C{SO_REUSEADDR} cannot share.
        """
        first = self.multicast(listenMultiple=True)
        second = self.multicast(port=number(first), listenMultiple=True)
        self.multicast(interface=LOCAL, port=number(first), listenMultiple=True)
        self.assertRaises(CannotListenError, self.listen, port=number(first))
        self.assertRaises(
            CannotListenError, self.multicast, port=number(first), interface=LOCAL
        )
        sender = self.listen()
        sender.write(b"one", ("127.0.0.2", number(first)))
        self.net.run()
        self.assertEqual(self.recorder(first).datagrams, [b"one"])
        self.assertEqual(self.recorder(second).datagrams, [])

    def test_joinErrors(self) -> None:
        """
        Joining a unicast address, a group joined already, on an interface
        that is not the network's, or leaving a group not joined, fails
        with L{MulticastJoinError}; so does an IPv6 group (on an IPv4
        port).
        """
        port = self.multicast()
        attempts = [
            port.joinGroup(LOCAL),
            port.leaveGroup(self.GROUP),
            port.joinGroup(self.GROUP, "10.9.9.9"),
            port.joinGroup("ff02::1"),
        ]
        self.net.run()
        for d in attempts:
            self.failureResultOf(d, MulticastJoinError)
        self.successResultOf(port.joinGroup(self.GROUP))
        self.failureResultOf(port.joinGroup(self.GROUP), MulticastJoinError)
        self.successResultOf(port.joinGroup(self.GROUP, LOCAL))

    def test_namesFromTheHostMap(self) -> None:
        """
        Group and interface names are looked up in the host map (in a later
        step, as C{reactor.resolve} does).
        """
        self.net.add_host("me", "10.0.0.1")
        self.net.add_host("group", self.GROUP)
        port = self.multicast()
        d = port.joinGroup("group", "me")
        self.assertNoResult(d)
        self.net.run()
        self.successResultOf(d)
        self.assertIn((self.GROUP, "10.0.0.1"), port.getHandle().groups)
        unknown = port.joinGroup("nowhere")
        self.net.run()
        self.failureResultOf(unknown)

    def test_outgoingInterface(self) -> None:
        """
        The outgoing interface is C{0.0.0.0} until set; it is the source
        address of an unbound port's multicast datagrams; it must be an
        address of the network.
        """
        receiver = self.multicast()
        self.successResultOf(receiver.joinGroup(self.GROUP))
        sender = self.multicast()
        self.assertEqual(sender.getOutgoingInterface(), "0.0.0.0")
        self.assertEqual(
            self.successResultOf(sender.setOutgoingInterface("127.0.0.9")), 1
        )
        self.assertEqual(sender.getOutgoingInterface(), "127.0.0.9")
        sender.write(b"x", (self.GROUP, number(receiver)))
        self.net.run()
        self.assertEqual(
            self.recorder(receiver).events[-1],
            ("datagram", b"x", ("127.0.0.9", number(sender))),
        )
        failure = self.failureResultOf(sender.setOutgoingInterface("10.9.9.9"), OSError)
        self.assertEqual(failure.value.errno, errno.EADDRNOTAVAIL)
        bad = sender.setOutgoingInterface("bad!")
        self.net.run()
        self.failureResultOf(bad)
        self.failureResultOf(sender.setOutgoingInterface(2), AssertionError)

    def test_loopbackMode(self) -> None:
        """
        With loopback mode off a port does not get its own multicast
        datagrams -- unless it sends from a loopback interface, which
        delivers to every member anyway (as on Linux); others do.
        """
        port = self.multicast(listenMultiple=True)
        other = self.multicast(port=number(port), listenMultiple=True)
        self.successResultOf(port.joinGroup(self.GROUP))
        self.assertTrue(port.getLoopbackMode())
        port.setLoopbackMode(0)
        self.assertFalse(port.getLoopbackMode())
        port.write(b"a", (self.GROUP, number(port)))
        self.successResultOf(port.setOutgoingInterface(LOCAL))
        port.write(b"b", (self.GROUP, number(port)))
        self.net.run()
        self.assertEqual(self.recorder(port).datagrams, [b"b"])
        self.assertEqual(self.recorder(other).datagrams, [b"a", b"b"])

    def test_ttl(self) -> None:
        """
        The TTL is 1 by default and stored when set.
        """
        port = self.multicast()
        self.assertEqual(port.getTTL(), 1)
        port.setTTL(5)
        self.assertEqual(port.getTTL(), 5)

    def test_noMember(self) -> None:
        """
        A multicast datagram nobody joined for is lost ("no receiver"),
        without an ICMP error.
        """
        port = self.multicast()
        sender = self.listen()
        sender.write(b"x", (self.GROUP, number(port)))
        self.net.run()
        self.assertEqual(self.recorder(port).datagrams, [])
        self.assertNotIn("udp-unreachable", [k for k, _ in _kinds(self.net)])


class SocketTests(SynchronousTestCase):
    """
    The kernel socket's system calls, used directly.
    """

    def setUp(self) -> None:
        self.net = MemoryNetwork(seed=1)
        self.stack = self.net.udp

    def test_systemCalls(self) -> None:
        """
        C{sendto} on an unbound socket binds it to an ephemeral port;
        C{bind} twice is C{EINVAL}; C{send} unconnected C{EDESTADDRREQ};
        C{recvfrom} with nothing queued C{EAGAIN}; a closed socket
        C{EBADF}.
        """
        receiver = self.stack.new_socket()
        receiver.bind((LOCAL, 5000))
        sender = self.stack.new_socket()
        self.assertEqual(sender.sendto(b"x", (LOCAL, 5000)), 1)
        self.assertEqual(sender.getsockname(), ("0.0.0.0", 32768))
        self.assertEqual(receiver.recvfrom(10), (b"x", (LOCAL, 32768)))
        for call, code in (
            (lambda: receiver.bind((LOCAL, 0)), errno.EINVAL),
            (lambda: sender.send(b"x"), errno.EDESTADDRREQ),
            (lambda: receiver.recvfrom(10), errno.EAGAIN),
        ):
            error = self.assertRaises(OSError, call)
            self.assertEqual(error.errno, code)
        self.assertRaises(OverflowError, sender.connect, (LOCAL, 70000))
        self.assertEqual(receiver.fileno(), 1001)
        sender.close()
        sender.close()
        error = self.assertRaises(OSError, sender.sendto, b"x", (LOCAL, 5000))
        self.assertEqual(error.errno, errno.EBADF)
        receiver.close()
        self.net.assert_clean()

    def test_options(self) -> None:
        """
        C{SO_ERROR} reports and clears the pending error; C{SO_TYPE} is
        C{SOCK_DGRAM}; other options are stored; C{IP_MULTICAST_IF} reads
        as an int without a buffer length.
        """
        sock = self.stack.new_socket()
        sock.bind((LOCAL, 0))
        sock.connect((LOCAL, 9))
        sock.send(b"x")
        self.assertEqual(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), errno.ECONNREFUSED
        )
        self.assertEqual(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), 0)
        self.assertEqual(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE), socket.SOCK_DGRAM
        )
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 16)
        self.assertEqual(sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS), 16)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, b"\x01\x00\x00\x00")
        self.assertEqual(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, b"")
        self.assertEqual(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 0)
        self.assertEqual(sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF), 0)
        sock.close()

    def test_closedReceiverDrops(self) -> None:
        """
        A datagram still in flight when its receiver closes is dropped.
        """
        self.stack.set_default(DatagramConditions(latency=1))
        receiver = self.stack.new_socket()
        receiver.bind((LOCAL, 5000))
        sender = self.stack.new_socket()
        sender.sendto(b"x", (LOCAL, 5000))
        receiver._receive(b"y", (LOCAL, 1))
        receiver.close()
        receiver._receive(b"z", (LOCAL, 1))
        self.net.run()
        drops = [d for k, d in _kinds(self.net) if k == "udp-drop"]
        self.assertEqual(len(drops), 1)
        self.assertIn("socket closed", drops[0])
        sender.close()


class ConditionsValueTests(SynchronousTestCase):
    """
    L{DatagramConditions} values.
    """

    def test_defaults(self) -> None:
        """
        The defaults change nothing: L{PLAIN_DATAGRAMS} is plain.
        """
        self.assertTrue(PLAIN_DATAGRAMS.plain)
        self.assertEqual(PLAIN_DATAGRAMS, DatagramConditions())
        self.assertEqual(PLAIN_DATAGRAMS.reorder_delay, 0.01)
        for conditions in (
            DatagramConditions(latency=1),
            DatagramConditions(jitter=1),
            DatagramConditions(bandwidth=10),
            DatagramConditions(loss=0.1),
            DatagramConditions(duplicate=0.1),
            DatagramConditions(reorder=0.1),
        ):
            self.assertFalse(conditions.plain)
        self.assertTrue(DatagramConditions(reorder_delay=5).plain)

    def test_validation(self) -> None:
        """
        Probabilities are in [0, 1]; times finite and not negative;
        bandwidth positive or L{None}; booleans are refused.
        """
        for bad in (
            {"loss": 1.5},
            {"loss": -0.1},
            {"duplicate": True},
            {"reorder": "0.5"},
            {"latency": -1},
            {"jitter": float("inf")},
            {"reorder_delay": float("nan")},
            {"latency": True},
            {"bandwidth": 0},
            {"bandwidth": float("inf")},
            {"bandwidth": True},
        ):
            self.assertRaises(ValueError, DatagramConditions, **bad)
        DatagramConditions(loss=1, duplicate=0, bandwidth=1.5)


class ConditionsTests(UDPTestCase):
    """
    Datagram conditions: timing, faults, where they come from.
    """

    def pair(self) -> tuple[UDPPort, UDPPort]:
        return self.listen(), self.listen()

    def test_latency(self) -> None:
        """
        A datagram arrives C{latency} after it was sent.
        """
        self.net.udp.set_default(DatagramConditions(latency=0.25))
        sender, receiver = self.pair()
        sender.write(b"x", (LOCAL, number(receiver)))
        self.net.advance(0.2)
        self.assertEqual(self.recorder(receiver).datagrams, [])
        self.net.advance(0.05)
        self.assertEqual(self.recorder(receiver).datagrams, [b"x"])

    def test_bandwidth(self) -> None:
        """
        With bandwidth, datagrams of a flow follow one another: 100 bytes
        at 1000 bytes/s take 0.1 s each.
        """
        arrivals: list[float] = []
        receiver = self.listen(
            Recorder(lambda p, d, a: arrivals.append(self.net.seconds()))
        )
        sender = self.listen()
        self.net.udp.set_default(DatagramConditions(bandwidth=1000))
        for _ in range(3):
            sender.write(b"x" * 100, (LOCAL, number(receiver)))
        self.net.run()
        self.assertEqual([round(t, 9) for t in arrivals], [0.1, 0.2, 0.3])

    def test_jitterMayReorder(self) -> None:
        """
        Jitter is drawn per datagram: a burst may arrive in another order.
        """
        self.net.random.seed(3)
        self.net.udp.set_default(DatagramConditions(jitter=0.1))
        sender, receiver = self.pair()
        sent = [bytes([65 + i]) for i in range(10)]
        for data in sent:
            sender.write(data, (LOCAL, number(receiver)))
        self.net.run()
        got = self.recorder(receiver).datagrams
        self.assertEqual(sorted(got), sent)
        self.assertNotEqual(got, sent)

    def test_loss(self) -> None:
        """
        With loss 1 nothing arrives; each loss is a C{udp-drop} event.
        """
        self.net.udp.set_default(DatagramConditions(loss=1.0))
        sender, receiver = self.pair()
        sender.write(b"x", (LOCAL, number(receiver)))
        self.net.run()
        self.assertEqual(self.recorder(receiver).datagrams, [])
        self.assertIn(
            ("udp-drop", f"{LOCAL}:32768 -> {LOCAL}:32769 (1 bytes) lost"),
            _kinds(self.net),
        )

    def test_duplicate(self) -> None:
        """
        With duplicate 1 every datagram arrives twice.
        """
        self.net.udp.set_default(DatagramConditions(duplicate=1.0, latency=0.1))
        sender, receiver = self.pair()
        sender.write(b"x", (LOCAL, number(receiver)))
        self.net.run()
        self.assertEqual(self.recorder(receiver).datagrams, [b"x", b"x"])
        self.assertIn("udp-duplicate", [k for k, _ in _kinds(self.net)])

    def test_reorder(self) -> None:
        """
        A datagram held back (a C{udp-reorder} event) arrives
        C{reorder_delay} later, overtaken by those sent after it.
        """
        self.net.random.seed(0)
        arrivals: list[tuple[float, bytes]] = []
        receiver = self.listen(
            Recorder(lambda p, d, a: arrivals.append((self.net.seconds(), d)))
        )
        sender = self.listen()
        self.net.udp.set_default(DatagramConditions(reorder=0.3, reorder_delay=0.5))
        sent = [bytes([65 + i]) for i in range(10)]
        for data in sent:
            sender.write(data, (LOCAL, number(receiver)))
        self.net.run()
        held = [d for k, d in _kinds(self.net) if k == "udp-reorder"]
        at_once = [d for t, d in arrivals if t == 0.0]
        late = [d for t, d in arrivals if t == 0.5]
        self.assertTrue(held)
        self.assertEqual(len(late), len(held))
        self.assertEqual(at_once + late, [d for _, d in arrivals])
        self.assertEqual(sorted(at_once + late), sent)
        self.assertNotEqual(at_once + late, sent)

    def test_plainDrawsNothing(self) -> None:
        """
        Plain conditions (and conditions whose probabilities are 0) take no
        random draw.
        """
        self.net.udp.set_default(DatagramConditions(latency=0.1))
        sender, receiver = self.pair()
        state = self.net.random.getstate()
        sender.write(b"x", (LOCAL, number(receiver)))
        self.net.run()
        self.assertEqual(self.net.random.getstate(), state)

    def test_precedence(self) -> None:
        """
        The destination's setting wins over the source's, which wins over
        the host pair's, which wins over the default; C{0.0.0.0} matches
        every host; L{None} removes a setting.
        """
        udp = self.net.udp
        self.net.add_host("a", "10.0.0.1")
        self.net.add_host("b", "10.0.0.2")
        default = DatagramConditions(latency=1)
        pair = DatagramConditions(latency=2)
        out = DatagramConditions(latency=3)
        into = DatagramConditions(latency=4)
        source, destination = ("10.0.0.1", 1000), ("10.0.0.2", 2000)
        self.assertIs(udp.conditions_for(source, destination), PLAIN_DATAGRAMS)
        udp.set_default(default)
        self.assertIs(udp.conditions_for(source, destination), default)
        udp.set_between("a", "b", pair, one_way=True)
        self.assertIs(udp.conditions_for(source, destination), pair)
        self.assertIs(udp.conditions_for(destination, source), default)
        udp.set_for_port(("a", 1000), out, direction=OUTBOUND)
        self.assertIs(udp.conditions_for(source, destination), out)
        self.assertIs(udp.conditions_for(destination, source), default)
        udp.set_for_port(("", 2000), into, direction=INBOUND)
        self.assertIs(udp.conditions_for(source, destination), into)
        udp.set_for_port(("0.0.0.0", 2000), None)
        udp.set_between("a", "b", None)
        udp.set_default(None)
        self.assertIs(udp.conditions_for(source, destination), out)
        self.assertIn("outbound 10.0.0.1:1000", udp.describe())

    def test_portTargets(self) -> None:
        """
        A port's setting takes a listening port or an L{IPv4Address} too;
        bad targets and values are refused.
        """
        udp = self.net.udp
        port = self.listen()
        slow = DatagramConditions(latency=1)
        udp.set_for_port(port, slow)
        self.assertIs(udp.conditions_for((LOCAL, 1), (LOCAL, number(port))), slow)
        udp.set_for_port(IPv4Address("UDP", LOCAL, 7), slow, direction=INBOUND)
        self.assertIs(udp.conditions_for((LOCAL, 1), (LOCAL, 7)), slow)
        self.assertRaises(TypeError, udp.set_for_port, "port", slow)
        self.assertRaises(ValueError, udp.set_for_port, (LOCAL, 70000), slow)
        self.assertRaises(ValueError, udp.set_for_port, (LOCAL, True), slow)
        self.assertRaises(ValueError, udp.set_for_port, ("nowhere", 1), slow)
        self.assertRaises(
            ValueError, udp.set_for_port, (LOCAL, 1), slow, direction="up"
        )
        self.assertRaises(TypeError, udp.set_for_port, (LOCAL, 1), 0.5)
        self.assertRaises(TypeError, udp.set_default, 0.5)
        self.assertRaises(TypeError, udp.set_between, 1, LOCAL, slow)

    def test_conditionsInDescribe(self) -> None:
        """
        C{describe} lists the settings.
        """
        udp = self.net.udp
        self.net.add_host("a", "10.0.0.1")
        udp.set_default(DatagramConditions(loss=0.5))
        udp.set_between("a", LOCAL, DatagramConditions(latency=1))
        text = udp.describe()
        self.assertIn("Datagram conditions:", text)
        self.assertIn("default: DatagramConditions(", text)
        self.assertIn(f"10.0.0.1 -> {LOCAL}: DatagramConditions(", text)
        self.assertIn(f"{LOCAL} -> 10.0.0.1: DatagramConditions(", text)

    def test_arrivalFindsTheReceiver(self) -> None:
        """
        Who receives is decided when the datagram arrives: a port bound
        while it was in flight gets it; the ICMP error of one that finds
        nobody comes back after the reverse latency.
        """
        self.net.udp.set_default(DatagramConditions(latency=0.1))
        sender = self.listen()
        sender.write(b"early", (LOCAL, 40000))
        late = self.listen(port=40000)
        self.net.run()
        self.assertEqual(self.recorder(late).datagrams, [b"early"])
        sender.connect(LOCAL, 40001)
        sender.stopReading()
        sender.write(b"x")
        self.net.advance(0.1)
        self.assertEqual(sender.getHandle().err, 0)
        self.net.advance(0.1)
        self.assertEqual(sender.getHandle().err, errno.ECONNREFUSED)

    def test_icmpLost(self) -> None:
        """
        The ICMP error travels with the reverse direction's loss.
        """
        udp = self.net.udp
        sender = self.listen()
        udp.set_for_port(sender, DatagramConditions(loss=1.0), direction=INBOUND)
        sender.connect(LOCAL, 9)
        sender.write(b"x")
        self.assertEqual(sender.getHandle().err, 0)
        self.assertIn(
            "ICMP port-unreachable lost", self.net.describe() + str(_kinds(self.net))
        )
        udp.set_for_port(sender, DatagramConditions(duplicate=0.5), direction=INBOUND)
        sender.write(b"x")
        self.assertEqual(sender.getHandle().err, errno.ECONNREFUSED)
        self.net.run()
        self.assertEqual(self.recorder(sender).events[-1], ("stop",))
        again = self.listen()
        udp.set_for_port(again, DatagramConditions(jitter=0.001), direction=INBOUND)
        again.connect(LOCAL, 9)
        again.write(b"x")
        self.assertEqual(again.getHandle().err, 0)
        self.net.run()
        self.assertEqual(self.recorder(again).events[-1], ("stop",))

    def test_partition(self) -> None:
        """
        Datagrams between partitioned hosts are lost, in either mode (UDP
        has no retransmission); after healing they arrive.
        """
        net = self.net
        net.add_host("a", "10.0.0.1")
        net.add_host("b", "10.0.0.2")
        a = self.listen(interface="10.0.0.1")
        b = self.listen(interface="10.0.0.2")
        net.faults.partition("a", "b")
        a.write(b"lost", ("10.0.0.2", number(b)))
        a.write(b"self", ("10.0.0.1", number(a)))
        net.run()
        self.assertEqual(self.recorder(b).datagrams, [])
        self.assertEqual(self.recorder(a).datagrams, [b"self"])
        net.faults.heal("a", "b")
        a.write(b"found", ("10.0.0.2", number(b)))
        net.run()
        self.assertEqual(self.recorder(b).datagrams, [b"found"])
        self.assertIn("lost in a partition", str(_kinds(net)))

    def test_deterministic(self) -> None:
        """
        Under loss, duplication, reordering and jitter, one seed gives one
        trace.
        """

        def scenario(net: MemoryNetwork) -> None:
            net.udp.set_default(
                DatagramConditions(
                    loss=0.2, duplicate=0.2, reorder=0.2, jitter=0.05, latency=0.01
                )
            )
            receiver = net.listenUDP(0, Recorder(), interface=LOCAL)
            sender = net.listenUDP(0, Recorder(), interface=LOCAL)
            for index in range(50):
                sender.write(b"%d" % index, (LOCAL, number(receiver)))
            net.run()
            receiver.stopListening()
            sender.stopListening()
            net.run()

        trace = assert_deterministic(scenario, seed=self.net.seed)
        self.assertIn("udp-deliver", [event.kind for event in trace])


class ConnectionDoneTests(SynchronousTestCase):
    """
    The failure a port is lost with.
    """

    def test_connectionDone(self) -> None:
        """
        The epoll reactor's disconnection gives C{connectionLost} a
        L{ConnectionDone} failure.
        """
        net = MemoryNetwork(seed=1)
        reasons: list[Failure | None] = []
        port = net.listenUDP(0, Recorder(), interface=LOCAL)
        original = port.connectionLost

        def record(reason: Failure | None = None) -> None:
            reasons.append(reason)
            original(reason)

        port.connectionLost = record  # type: ignore[method-assign]
        port.connect(LOCAL, 9)
        port.write(b"x")
        net.run()
        [reason] = reasons
        assert reason is not None
        self.assertTrue(reason.check(ConnectionDone))
        net.assert_clean()


class DocumentExampleTests(SynchronousTestCase):
    """
    The UDP example of C{docs/testing.md} runs, exactly as shown, and
    passes.
    """

    def test_udp(self) -> None:
        """
        The ping example: an echo at once, and retries under loss.
        """
        run_document_example(self, "udp", 2)
