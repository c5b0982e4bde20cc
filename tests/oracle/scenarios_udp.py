"""
Scenarios: UDP on 127.0.0.1 -- listenUDP, datagrams, connected ports and
ICMP port-unreachable, maxPacketSize, stopListening, addresses, broadcast
and multicast.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import DatagramProtocol, ServerFactory

from tests.oracle._registry import scenario
from tests.oracle._support_conn import errnoName, explode, poll, tryCall
from tests.oracle._support_udp import (
    QuietCounter,
    RecordingDatagram,
    closedUDPPort,
    listenUDP,
    setReceiveBuffer,
    udpPort,
)
from tests.oracle._world import World

GROUP = "228.0.0.7"


def _protocol(w: World, index: int) -> RecordingDatagram:
    """
    The recording protocol C{u<index>}.
    """
    for port in w.ports:
        protocol = getattr(port, "protocol", None)
        if isinstance(protocol, RecordingDatagram) and protocol.name == f"u{index}":
            return protocol
    raise KeyError(index)


def _noteError(w: World, label: str, error: Exception) -> None:
    w.note(label, type(error).__name__, errnoName(getattr(error, "errno", None)))


@scenario
async def udpSendAndReceive(w: World) -> None:
    """
    A datagram written to a port arrives whole, with the sender's address
    (host and port, as a tuple); write returns the number of bytes sent;
    the answer written back to that address arrives too.
    """
    first = listenUDP(w)
    second = listenUDP(w)
    written = _protocol(w, 1).udp.write(b"hello", ("127.0.0.1", udpPort(second)))
    w.note("write returned", written)
    await w.when("u2", "datagram")
    _protocol(w, 2).udp.write(b"world", ("127.0.0.1", udpPort(first)))
    await w.when("u1", "datagram")


@scenario
async def udpListenStartsAndStopsTheProtocol(w: World) -> None:
    """
    listenUDP calls startProtocol before it returns; stopListening returns a
    Deferred, and stopProtocol has run when it fires; afterwards getHost,
    write and a second stopListening show the port's socket is gone.
    """
    port = listenUDP(w)
    w.note("listenUDP returned")
    d = port.stopListening()
    w.note("stopListening returned a Deferred", isinstance(d, Deferred))
    w.stopped.append(port)
    assert d is not None
    await d
    w.note("fired")
    tryCall(w, "getHost", port.getHost)
    tryCall(w, "write", port.write, b"x", ("127.0.0.1", 9))  # type: ignore[attr-defined]
    w.note("stopListening again", port.stopListening())


@scenario
async def udpOneProtocolCannotListenTwice(w: World) -> None:
    """
    A datagram protocol already listening cannot be given to listenUDP
    again: makeConnection's assertion fails (AssertionError out of
    listenUDP); the first port goes on delivering to it.
    """
    first = listenUDP(w)
    try:
        w.reactor.listenUDP(0, _protocol(w, 1), interface=w.interface)
    except AssertionError:
        w.note("second listenUDP", "AssertionError")
    sender = listenUDP(w)
    _protocol(w, 2).udp.write(b"still", ("127.0.0.1", udpPort(first)))
    await w.when("u1", "datagram")
    del sender


@scenario
async def udpPortZeroAndGetHost(w: World) -> None:
    """
    Port 0 gives distinct nonzero ports; the port attribute stays 0;
    getHost is an IPv4Address of type UDP; getPeer is not implemented (even
    connected); a port on "" is on 0.0.0.0 until connect picks its
    source address.
    """
    first = listenUDP(w)
    second = listenUDP(w, interface="")
    numbers = [udpPort(first), udpPort(second)]
    w.note("distinct and nonzero", numbers[0] != numbers[1] and 0 not in numbers)
    w.note("port attribute", getattr(first, "port", None))
    w.note("getHost", w.addressName(first.getHost()))
    w.note('getHost of ""', second.getHost().host)  # type: ignore[attr-defined]
    tryCall(w, "getPeer", first.getPeer)  # type: ignore[attr-defined]
    _protocol(w, 2).udp.connect("127.0.0.1", numbers[0])
    w.note("getHost after connect", w.addressName(second.getHost()))
    tryCall(w, "getPeer connected", second.getPeer)  # type: ignore[attr-defined]


@scenario
async def udpSourceAddressFromAnyToAnotherLoopbackAddress(w: World) -> None:
    """
    A port bound to 0.0.0.0 writing to a port on 127.0.0.5: the datagram
    comes from 127.0.0.1 (Linux's route for 127.0.0.0/8), and the answer
    written back to that address arrives.
    """
    target = listenUDP(w, interface="127.0.0.5")
    sender = listenUDP(w, interface="")
    number = udpPort(sender)
    w._names[("127.0.0.1", number)] = w.namePort(sender)
    _protocol(w, 2).udp.write(b"from any", ("127.0.0.5", udpPort(target)))
    await w.when("u1", "datagram")
    _protocol(w, 1).udp.write(b"back", ("127.0.0.1", number))
    await w.when("u2", "datagram")


@scenario
async def udpAddressInUse(w: World) -> None:
    """
    Binding a UDP port bound already -- on the same address, or on 0.0.0.0
    -- raises CannotListenError (EADDRINUSE); a TCP port may use the same
    number (another namespace); the first UDP port still works.
    """
    port = listenUDP(w)
    number = udpPort(port)
    for interface in ("127.0.0.1", ""):
        try:
            w.reactor.listenUDP(number, DatagramProtocol(), interface=interface)
        except CannotListenError as e:
            w.note(
                "CannotListenError",
                repr(interface),
                e.port == number,
                errnoName(getattr(e.socketError, "errno", None)),
            )
    tcp = w.reactor.listenTCP(number, ServerFactory(), interface="127.0.0.1")
    w.note("TCP on the same number", w.portNumber(tcp) == number)
    await tcp.stopListening()
    listenUDP(w)
    _protocol(w, 2).udp.write(b"still", ("127.0.0.1", number))
    await w.when("u1", "datagram")


@scenario
async def udpConnectedWriteRefused(w: World) -> None:
    """
    A connected port writes to a port nobody is bound to: the write
    succeeds, the ICMP port-unreachable makes the next write fail (nothing
    sent) and call connectionRefused; the write after it is sent again.
    In the next iteration the epoll reactor sees the pending error with
    nothing to read and disconnects the port: stopProtocol, never
    connectionRefused.
    """
    closed = await closedUDPPort(w)
    listenUDP(w)
    udp = _protocol(w, 1).udp
    udp.connect("127.0.0.1", closed)
    w.note("first write", udp.write(b"a"))
    w.note("second write", udp.write(b"b"))
    w.note("third write", udp.write(b"c"))
    await w.when("u1", "stop")
    w.note("connected", getattr(w.ports[0], "connected", None))


@scenario
async def udpConnectedRefusalSeenByARead(w: World) -> None:
    """
    A connected port writes to a closed port, and in the same turn a port
    is bound there and writes back: the refusal comes first on the next
    read (connectionRefused), then the datagram; the port stays open.
    """
    closed = await closedUDPPort(w)
    listenUDP(w)
    udp = _protocol(w, 1).udp
    udp.connect("127.0.0.1", closed)
    udp.write(b"anyone?")
    late = listenUDP(w, port=closed)
    _protocol(w, 2).udp.write(b"here", ("127.0.0.1", udpPort(w.ports[0])))
    w.note("late port is the closed one", udpPort(late) == closed)
    await w.when("u1", "datagram")
    udp.write(b"thanks")
    await w.when("u2", "datagram")


@scenario
async def udpConnectedToPortZero(w: World) -> None:
    """
    Linux lets a UDP port connect to port 0: its first write is sent (and
    finds nobody), the next is refused; connecting to the broadcast address
    without setBroadcastAllowed fails (PermissionError, EACCES).
    """
    listenUDP(w)
    udp = _protocol(w, 1).udp
    udp.connect("127.0.0.1", 0)
    w.note("first write", udp.write(b"a"))
    w.note("second write", udp.write(b"b"))
    listenUDP(w)
    try:
        _protocol(w, 2).udp.connect("255.255.255.255", 9)
    except OSError as e:
        _noteError(w, "connect to broadcast", e)
    await w.settle()


@scenario
async def udpUnconnectedWriteToClosedPortIsSilent(w: World) -> None:
    """
    An unconnected port writing to a port nobody is bound to gets no error
    and no connectionRefused, and keeps working.
    """
    closed = await closedUDPPort(w)
    listenUDP(w)
    other = listenUDP(w)
    udp = _protocol(w, 1).udp
    w.note("write to closed", udp.write(b"void", ("127.0.0.1", closed)))
    w.note("write again", udp.write(b"void", ("127.0.0.1", closed)))
    await w.settle()
    udp.write(b"hi", ("127.0.0.1", udpPort(other)))
    await w.when("u2", "datagram")


@scenario
async def udpConnectedPortIgnoresOtherSources(w: World) -> None:
    """
    A port connected to a peer receives only the peer's datagrams; another
    port's datagram to it is dropped without a trace.
    """
    first = listenUDP(w)
    peer = listenUDP(w)
    listenUDP(w)
    _protocol(w, 1).udp.connect("127.0.0.1", udpPort(peer))
    _protocol(w, 3).udp.write(b"stranger", ("127.0.0.1", udpPort(first)))
    _protocol(w, 2).udp.write(b"friend", ("127.0.0.1", udpPort(first)))
    await w.when("u1", "datagram")
    await w.settle()


@scenario
async def udpMaxPacketSizeTruncates(w: World) -> None:
    """
    A port with maxPacketSize 4 gets the first 4 bytes of a longer datagram
    (the rest is discarded, not delivered later) and shorter ones whole.
    """
    small = listenUDP(w, maxPacketSize=4)
    listenUDP(w)
    udp = _protocol(w, 2).udp
    udp.write(b"abcdefgh", ("127.0.0.1", udpPort(small)))
    udp.write(b"xy", ("127.0.0.1", udpPort(small)))
    await w.waitFor(lambda: len(_protocol(w, 1).received) == 2)
    await w.settle()


@scenario
async def udpMessageTooLong(w: World) -> None:
    """
    A datagram of 65,508 bytes cannot be sent (MessageLengthError); one of
    65,507 arrives whole; an empty datagram arrives as b"".
    """
    big = listenUDP(w, QuietCounter(), maxPacketSize=70000)
    listenUDP(w)
    udp = _protocol(w, 1).udp
    counter = big.protocol  # type: ignore[attr-defined]
    assert isinstance(counter, QuietCounter)
    tryCall(w, "65508 bytes", udp.write, b"x" * 65508, ("127.0.0.1", udpPort(big)))
    tryCall(w, "65507 bytes", udp.write, b"x" * 65507, ("127.0.0.1", udpPort(big)))
    tryCall(w, "0 bytes", udp.write, b"", ("127.0.0.1", udpPort(big)))
    await poll(w, lambda: len(counter.sizes) == 2)
    w.note("sizes", counter.sizes)


@scenario
async def udpBadWrites(w: World) -> None:
    """
    What the port refuses before any datagram leaves: a host name
    (InvalidAddressError), no address while unconnected (AssertionError),
    text (TypeError); connect to a name (InvalidAddressError); connected:
    another address (AssertionError), a second connect (RuntimeError).
    """
    listenUDP(w)
    target = listenUDP(w)
    udp = _protocol(w, 1).udp
    number = udpPort(target)
    tryCall(w, "write to a name", udp.write, b"x", ("localhost", number))
    tryCall(w, "write without address", udp.write, b"x")
    tryCall(w, "write text", udp.write, "x", ("127.0.0.1", number))
    tryCall(w, "connect to a name", udp.connect, "localhost", number)
    udp.connect("127.0.0.1", number)
    tryCall(w, "write elsewhere", udp.write, b"x", ("127.0.0.1", number + 1))
    tryCall(w, "connect again", udp.connect, "127.0.0.1", number)
    tryCall(w, "write to the peer by address", udp.write, b"ok", ("127.0.0.1", number))
    await w.when("u2", "datagram")


@scenario
async def udpExceptionInDatagramReceived(w: World) -> None:
    """
    A datagramReceived that raises is logged; the next datagram queued is
    still read in the same dispatch, and the port keeps working.
    """

    def raiseOnFirst(protocol: RecordingDatagram, data: bytes, addr: Any) -> None:
        if data == b"boom":
            explode()

    target = listenUDP(w, datagram=raiseOnFirst)
    listenUDP(w)
    udp = _protocol(w, 2).udp
    udp.write(b"boom", ("127.0.0.1", udpPort(target)))
    udp.write(b"after", ("127.0.0.1", udpPort(target)))
    await w.waitFor(lambda: len(_protocol(w, 1).received) == 2)
    udp.write(b"later", ("127.0.0.1", udpPort(target)))
    await w.waitFor(lambda: len(_protocol(w, 1).received) == 3)


@scenario
async def udpStopListeningInDatagramReceived(w: World) -> None:
    """
    stopListening called from datagramReceived: the datagrams already
    queued are still read in that dispatch (the read loop goes on), then
    the port closes: stopProtocol, the Deferred fires.
    """
    fired: list[Deferred[None] | None] = []

    def stopOnFirst(protocol: RecordingDatagram, data: bytes, addr: Any) -> None:
        if data == b"a":
            fired.append(protocol.udp.stopListening())

    target = listenUDP(w, datagram=stopOnFirst)
    w.stopped.append(target)
    listenUDP(w)
    udp = _protocol(w, 2).udp
    for data in (b"a", b"b", b"c"):
        udp.write(data, ("127.0.0.1", udpPort(target)))
    await w.when("u1", "stop")
    d = fired[0]
    assert d is not None
    await d
    w.note("fired")


@scenario
async def udpDatagramsAfterStopListeningAreNotRead(w: World) -> None:
    """
    Datagrams arriving between stopListening() and the port's close are
    never delivered; the sender gets no error.
    """
    target = listenUDP(w)
    listenUDP(w)
    w.stopped.append(target)
    d = target.stopListening()
    w.note("write", _protocol(w, 2).udp.write(b"late", ("127.0.0.1", udpPort(target))))
    assert d is not None
    await d
    w.note("fired")
    await w.settle()


@scenario
async def udpStopListeningTwice(w: World) -> None:
    """
    stopListening twice in a row: two Deferreds; the port closes twice --
    the second close fails in the protocol's doStop (an AssertionError,
    logged) -- only the second Deferred fires.
    """
    port = listenUDP(w)
    w.stopped.append(port)
    first = port.stopListening()
    second = port.stopListening()
    w.note(
        "two Deferreds",
        first is not None and second is not None and first is not second,
    )
    await w.settle()
    w.note("first fired", first is not None and first.called)
    w.note("second fired", second is not None and second.called)


@scenario
async def udpReceiveQueueOverflows(w: World) -> None:
    """
    A port that does not read in time keeps what fits in its receive
    buffer (212,992 units, a small datagram counting 832) and the rest is
    dropped: of 300 one-byte datagrams sent in one turn, 256 arrive; of 20
    of 8 KiB, 12.
    """
    small = listenUDP(w, QuietCounter())
    big = listenUDP(w, QuietCounter(), maxPacketSize=8192)
    listenUDP(w)
    udp = _protocol(w, 1).udp
    for _ in range(300):
        udp.write(b"x", ("127.0.0.1", udpPort(small)))
    for _ in range(20):
        udp.write(b"y" * 8192, ("127.0.0.1", udpPort(big)))
    await w.settle()
    for label, port in (("one byte", small), ("8 KiB", big)):
        counter = port.protocol  # type: ignore[attr-defined]
        w.note(label, len(counter.sizes))


class _Sizes(DatagramProtocol):
    """
    Records C{("big", first byte, size)} for each datagram, and schedules a
    C{callLater(0)} noting C{"tick"} when the first arrives.
    """

    noisy = False

    def __init__(self, w: World) -> None:
        self.w = w
        self.count = 0

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.count += 1
        self.w.record("big", datagram[:1], len(datagram))
        if self.count == 1:
            self.w.reactor.callLater(0, self.w.note, "tick")


@scenario
async def udpMaxThroughputPerRead(w: World) -> None:
    """
    One dispatch reads at most maxThroughput (256 KiB) of datagrams: of six
    of 65,507 bytes queued (the receive buffer made room with SO_RCVBUF),
    five are read, then a callLater(0) made by the first runs, then the
    sixth.
    """
    sizes = _Sizes(w)
    target = listenUDP(w, sizes, maxPacketSize=65536)
    w.note("SO_RCVBUF", setReceiveBuffer(target, 200_000))
    listenUDP(w)
    udp = _protocol(w, 1).udp
    for index in range(6):
        udp.write(bytes([65 + index]) * 65507, ("127.0.0.1", udpPort(target)))
    await w.waitFor(lambda: sizes.count == 6)


@scenario
async def udpWriteInStartProtocol(w: World) -> None:
    """
    A protocol may write in startProtocol (inside listenUDP): the datagram
    arrives.
    """
    target = listenUDP(w)
    number = udpPort(target)
    listenUDP(w, start=lambda p: p.udp.write(b"early", ("127.0.0.1", number)))
    await w.when("u1", "datagram")


class _FromPort(DatagramProtocol):
    """
    Notes each datagram and whether it came from port C{port} (a broadcast's
    source host is the machine's default interface address, which differs
    between machines).
    """

    noisy = False

    def __init__(self, w: World) -> None:
        self.w = w
        self.port = 0

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.w.note("broadcast received", datagram, addr[1] == self.port)


@scenario
async def udpBroadcast(w: World) -> None:
    """
    Writing to "<broadcast>" needs setBroadcastAllowed(True) (else a
    PermissionError, EACCES); allowed, it reaches a port bound to 0.0.0.0
    on that port number, from the sender's port.
    """
    receiver = _FromPort(w)
    target = listenUDP(w, receiver, interface="")
    sender = listenUDP(w, interface="")
    receiver.port = udpPort(sender)
    udp = _protocol(w, 1).udp
    w.note("allowed", udp.getBroadcastAllowed())
    try:
        udp.write(b"all?", ("<broadcast>", udpPort(target)))
    except OSError as e:
        _noteError(w, "broadcast refused", e)
    udp.setBroadcastAllowed(True)
    w.note("allowed", udp.getBroadcastAllowed())
    w.note("write", udp.write(b"all!", ("<broadcast>", udpPort(target))))
    await w.when("note", "broadcast received")


@scenario
async def udpMulticastGroup(w: World) -> None:
    """
    Two ports share a port number (listenMultiple); one joins a group on
    127.0.0.1: a datagram to the group, sent from 127.0.0.1, reaches both
    (Linux's IP_MULTICAST_ALL) but not a port bound to 127.0.0.1; after the
    group is left, nobody gets one.  Loopback mode is on and the TTL is 1
    by default.
    """
    joined = listenUDP(w, interface="", multicast=True, listenMultiple=True)
    number = udpPort(joined)
    listenUDP(w, port=number, interface="", multicast=True, listenMultiple=True)
    listenUDP(w, interface="127.0.0.1", multicast=True)
    sender = listenUDP(w, interface="", multicast=True)
    send = _protocol(w, 4).udp
    w.note("loopback", sender.getLoopbackMode(), "ttl", sender.getTTL())  # type: ignore[attr-defined]
    await joined.joinGroup(GROUP, "127.0.0.1")  # type: ignore[attr-defined]
    w.note("outgoing", await sender.setOutgoingInterface("127.0.0.1"))  # type: ignore[attr-defined]
    w.note("interface", sender.getOutgoingInterface())  # type: ignore[attr-defined]
    send.write(b"to the group", (GROUP, number))
    await w.when("u1", "datagram")
    await w.when("u2", "datagram")
    await w.settle()
    await joined.leaveGroup(GROUP, "127.0.0.1")  # type: ignore[attr-defined]
    send.write(b"nobody", (GROUP, number))
    await w.settle()


@scenario
async def udpMulticastJoinErrors(w: World) -> None:
    """
    joinGroup fails with MulticastJoinError for an address that is not a
    multicast group and for a group joined already; leaveGroup for a group
    not joined.
    """
    port = listenUDP(w, interface="", multicast=True)

    async def attempt(label: str, d: Deferred[None]) -> None:
        try:
            await d
        except Exception as e:
            w.note(label, type(e).__name__)
        else:
            w.note(label, "ok")

    await attempt("join a unicast address", port.joinGroup("127.0.0.1", "127.0.0.1"))  # type: ignore[attr-defined]
    await attempt("join", port.joinGroup(GROUP, "127.0.0.1"))  # type: ignore[attr-defined]
    await attempt("join again", port.joinGroup(GROUP, "127.0.0.1"))  # type: ignore[attr-defined]
    await attempt("leave", port.leaveGroup(GROUP, "127.0.0.1"))  # type: ignore[attr-defined]
    await attempt("leave again", port.leaveGroup(GROUP, "127.0.0.1"))  # type: ignore[attr-defined]
