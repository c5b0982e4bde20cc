"""
Helpers of the C{udp} scenario family: a recording datagram protocol and
ways to listen, name UDP addresses and find a closed UDP port, on top of
the (TCP-shaped) recording world.

Datagram protocols are named C{u1}, C{u2}, ... in the order they are made;
they record C{("u1", "start")}, C{("u1", "stop")}, C{("u1", "refused")}
and C{("u1", "datagram", data, "UDP:127.0.0.1:P1")} (the source address,
named as the world names addresses: C{P<n>} for a port the scenario
listened on, C{closed} for L{closedUDPPort}).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import maybeDeferred
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import DatagramProtocol

from tests.oracle._world import World

__all__ = [
    "QuietCounter",
    "RecordingDatagram",
    "closedUDPPort",
    "listenUDP",
    "sourceName",
    "udpPort",
]

DatagramHook = Callable[["RecordingDatagram", bytes, tuple[str, int]], object]
Hook = Callable[["RecordingDatagram"], object]


def sourceName(w: World, address: tuple[str, int]) -> str:
    """
    The world's name of a datagram's source address, e.g.
    C{"UDP:127.0.0.1:P1"}.
    """
    host, port = address
    return w.addressName(IPv4Address("UDP", host, port))


class RecordingDatagram(DatagramProtocol):
    """
    A datagram protocol recording its callbacks in the world's log; the
    hooks C{datagram(protocol, data, addr)}, C{start(protocol)},
    C{refused(protocol)} and C{stop(protocol)} run after recording (and
    may raise).
    """

    noisy = False

    def __init__(
        self,
        world: World,
        name: str,
        *,
        datagram: DatagramHook | None = None,
        start: Hook | None = None,
        refused: Hook | None = None,
        stop: Hook | None = None,
    ) -> None:
        self.world = world
        self.name = name
        self._datagram = datagram
        self._start = start
        self._refused = refused
        self._stop = stop
        self.received: list[bytes] = []

    @property
    def udp(self) -> Any:
        """
        The transport (the port: C{write} returns what C{sendto} did, and
        takes no address once connected).
        """
        assert self.transport is not None
        return self.transport

    def startProtocol(self) -> None:
        self.world.record(self.name, "start")
        if self._start is not None:
            self._start(self)

    def stopProtocol(self) -> None:
        self.world.record(self.name, "stop")
        if self._stop is not None:
            self._stop(self)

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.received.append(datagram)
        self.world.record(self.name, "datagram", datagram, sourceName(self.world, addr))
        if self._datagram is not None:
            self._datagram(self, datagram, addr)

    def connectionRefused(self) -> None:
        self.world.record(self.name, "refused")
        if self._refused is not None:
            self._refused(self)


class QuietCounter(DatagramProtocol):
    """
    A datagram protocol that records nothing: it keeps the sizes it
    received, for a scenario to summarise.
    """

    noisy = False

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.sizes.append(len(datagram))


def newDatagram(w: World, **hooks: Any) -> RecordingDatagram:
    """
    A new L{RecordingDatagram} named C{u<n>}.
    """
    count = w._next("u")
    return RecordingDatagram(w, f"u{count}", **hooks)


def listenUDP(
    w: World,
    protocol: DatagramProtocol | None = None,
    *,
    port: int = 0,
    interface: str | None = None,
    maxPacketSize: int = 8192,
    multicast: bool = False,
    listenMultiple: bool = False,
    **hooks: Any,
) -> IListeningPort:
    """
    C{listenUDP} (or C{listenMulticast}) on C{interface} (C{127.0.0.1} by
    default), port 0 by default, with C{protocol} or a new
    L{RecordingDatagram} given C{hooks}; the port's number is named
    C{P<n>}, and the port is stopped at cleanup.
    """
    if protocol is None:
        protocol = newDatagram(w, **hooks)
    where = w.interface if interface is None else interface
    listening: IListeningPort
    if multicast:
        listening = w.reactor.listenMulticast(
            port,
            protocol,
            interface=where,
            maxPacketSize=maxPacketSize,
            listenMultiple=listenMultiple,
        )
    else:
        listening = w.reactor.listenUDP(
            port, protocol, interface=where, maxPacketSize=maxPacketSize
        )
    w.ports.append(listening)
    w.namePort(listening)
    return listening


def udpPort(listening: IListeningPort) -> int:
    """
    The number C{listening} is bound to.
    """
    address = listening.getHost()
    assert isinstance(address, IPv4Address)
    return address.port


async def closedUDPPort(w: World) -> int:
    """
    A UDP port number nobody is bound to (bound, then closed), named
    C{closed}.
    """
    listening = w.reactor.listenUDP(0, DatagramProtocol(), interface=w.interface)
    number = udpPort(listening)
    w._names[(w.interface, number)] = "closed"
    await maybeDeferred(listening.stopListening)
    return number


def setReceiveBuffer(listening: IListeningPort, size: int) -> int:
    """
    Ask for a receive buffer of C{size} bytes (C{SO_RCVBUF} on the port's
    handle); return what the kernel set.
    """
    handle = listening.getHandle()  # type: ignore[attr-defined]  # ISystemHandle
    handle.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return int(handle.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
