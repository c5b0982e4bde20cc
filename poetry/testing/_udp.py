"""
UDP on a L{MemoryNetwork<poetry.testing.MemoryNetwork>}: C{listenUDP} and
C{listenMulticast}, as their own binding of the network (the TCP stack is
not involved).

Three layers, as for TCP:

  - the kernel's datagram socket (L{DatagramSocket}), modelled on a Linux
    UDP socket on the loopback interface;
  - the network's UDP stack (L{UDPStack}, C{net.udp}): bindings (in a port
    table of their own: UDP ports are a namespace apart from TCP's, as on
    Linux), routing, datagram conditions (L{DatagramConditions}) and the
    ICMP errors of unreachable ports;
  - Twisted's side (L{UDPPort}, L{MulticastUDPPort}): the real reactor's
    C{twisted.internet.udp.Port} and C{MulticastPort}, mirrored method for
    method, with the epoll reactor's dispatch.

What the kernel does, as Linux 6 does it on loopback (each rule checked
against the real reactor by the differential oracle, C{tests/oracle},
family C{udp}):

  - a datagram is delivered whole or not at all: C{sendto} of more than
    L{MAX_DATAGRAM} bytes fails with C{EMSGSIZE}; a read of a longer
    datagram than the reader's buffer (Twisted's C{maxPacketSize}) gets its
    first bytes and the rest is discarded;
  - without conditions a datagram is in the receiver's queue when C{sendto}
    returns; the receiving port reads it in the next step (the next reactor
    iteration);
  - a receive queue holds datagrams while their kernel accounting
    (L{truesize}) fits in the socket's receive buffer
    (L{UDP_RECEIVE_BUFFER}); an empty queue takes any datagram; what does
    not fit is dropped;
  - a datagram to a local address where no socket is bound is answered by
    an ICMP port-unreachable: a I{connected} sender's socket gets the
    pending error C{ECONNREFUSED} (an unconnected one ignores it), which
    its next C{send} or C{recvfrom} reports (the C{send} sends nothing, the
    C{recvfrom} reports it before any queued datagram);
  - C{connect} to port 0 is accepted (what is sent there finds nobody); to
    the broadcast address it needs C{SO_BROADCAST};
  - a connected socket takes datagrams from its peer only;
  - binding: the same port on the same address, or on C{0.0.0.0} and any
    address, is C{EADDRINUSE} unless every socket involved set
    C{SO_REUSEADDR} (C{listenMulticast(..., listenMultiple=True)}); port 0
    takes the next free port of 32768-60999 (counting up, per address;
    Linux picks at random);
  - C{255.255.255.255} needs C{SO_BROADCAST} (else C{EACCES}) and reaches
    every socket bound to C{0.0.0.0} on that port; a multicast datagram
    reaches every socket bound to C{0.0.0.0} or to the group on that port
    once any socket has joined the group (Linux's default
    C{IP_MULTICAST_ALL}).

The epoll reactor's dispatch (C{_doReadOrWrite}) does one thing that
surprises: a connected port whose pending error is reported while no
datagram is queued (C{EPOLLERR} without C{EPOLLIN}) is I{disconnected} --
C{connectionLost}, the protocol's C{stopProtocol} -- and C{connectionRefused}
is never called.  C{connectionRefused} is called when the refusal shows up
in a C{write} (the one after the refused datagram) or in a read of a port
that also has datagrams queued.

Datagram conditions
===================
L{DatagramConditions} give datagrams latency, jitter and bandwidth (as
L{LinkConditions<poetry.testing.LinkConditions>} do for TCP) and the faults
only datagrams have: loss, duplication and reordering, every random choice
drawn from the network's seeded generator (C{net.random}), only for a
probability that is not 0.
See L{DatagramConditions} for the exact rules and L{UDPStack} for where
they come from.  TCP's link conditions do not apply to datagrams; a
partition (C{net.faults.partition}) does: datagrams between the two hosts
are lost, in either mode.
"""

from __future__ import annotations

import errno
import socket as _stdlib_socket
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import attrs
from twisted.internet import abstract
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import (
    CannotListenError,
    ConnectionDone,
    ConnectionLost,
    InvalidAddressError,
    MessageLengthError,
    MulticastJoinError,
)
from twisted.internet.interfaces import (
    IDelayedCall,
    IListeningPort,
    ILoggingContext,
    IMulticastTransport,
    ISystemHandle,
    IUDPTransport,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.testing._conditions import (
    check_bandwidth,
    check_delay,
    check_probability,
    store_conditions,
)
from poetry.testing._names import known_host
from poetry.testing._ports import PortTable
from poetry.testing._socket import EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, os_error

if TYPE_CHECKING:
    from twisted.internet.protocol import AbstractDatagramProtocol

    from poetry.testing._clock import Scheduler

__all__ = [
    "INBOUND",
    "MAX_DATAGRAM",
    "OUTBOUND",
    "PLAIN_DATAGRAMS",
    "UDP_RECEIVE_BUFFER",
    "DatagramConditions",
    "DatagramReactor",
    "DatagramSocket",
    "MulticastUDPPort",
    "UDPPort",
    "UDPStack",
    "truesize",
]

_log = Logger()

ANY = "0.0.0.0"
BROADCAST = "255.255.255.255"

MAX_DATAGRAM = 65_507
"""
The largest UDP payload over IPv4 (65,535 minus the IP and UDP headers);
C{sendto} of more fails with C{EMSGSIZE} (Twisted: L{MessageLengthError}).
"""

UDP_RECEIVE_BUFFER = 212_992
"""
The receive buffer of a UDP socket (Linux's C{net.core.rmem_default}), in
kernel accounting units (see L{truesize}).
"""

RMEM_MAX = 4_194_304
"""
The most C{SO_RCVBUF} can ask for (C{net.core.rmem_max}); the kernel
doubles what is asked, and keeps at least L{MIN_RECEIVE_BUFFER}.
"""

MIN_RECEIVE_BUFFER = 2304

# The kernel allocation (skb truesize) of a datagram on loopback, Linux 6:
# payload sizes below each bound take the size beside it; past the last,
# payload + 832 (page fragments).
_TRUESIZES = (
    (198, 832),
    (646, 1280),
    (1670, 2304),
    (3718, 4352),
    (7814, 8448),
    (16005, 16640),
)


def truesize(size: int) -> int:
    """
    The receive-buffer accounting of one datagram of C{size} payload bytes
    (Linux 6 on loopback, as C{/proc/net/udp} shows it): 832 units for up
    to 197 bytes, rising by allocation sizes to 16,640 for up to 16,004
    bytes, then C{size + 832}.  A default receive buffer takes 256 small
    datagrams, 12 of 8 KiB, 3 of 64 KiB.
    """
    for bound, units in _TRUESIZES:
        if size < bound:
            return units
    return size + 832


class DatagramReactor(Protocol):
    """
    What a UDP port uses of its reactor (as the real C{udp.Port} does): a
    C{callLater} for its close, and C{resolve} for multicast names.
    """

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> IDelayedCall: ...

    def resolve(self, name: str, timeout: object = None) -> Deferred[str]: ...


def _source_address(destination: str) -> str:
    """
    The source address Linux's routes give a socket bound to C{0.0.0.0}
    sending to C{destination}, an address of the network: C{127.0.0.1} for
    the loopback network, else the destination itself (a host's own
    address), as for the network's TCP clients.
    """
    if destination.startswith("127."):
        return "127.0.0.1"
    return destination


def _is_multicast(host: str) -> bool:
    first, _, _ = host.partition(".")
    return first.isdigit() and 224 <= int(first) <= 239


# -- conditions ----------------------------------------------------------------


@attrs.frozen
class DatagramConditions:
    """
    How datagrams travel from a source to a destination: the UDP
    counterpart of L{LinkConditions<poetry.testing.LinkConditions>} (whose
    chunking has no meaning for datagrams, which are delivered whole or not
    at all).

    For each datagram sent (C{n} payload bytes, at virtual time C{t}), in
    this order, every draw from the network's seeded generator and only
    for a field that is not 0:

      1. I{loss}: with probability C{loss} the datagram is lost (a C{udp-drop}
         event);
      2. I{duplication}: with probability C{duplicate} it arrives twice (a
         C{udp-duplicate} event); each copy gets its own delay below;
      3. I{bandwidth}: it occupies its flow (one sending socket to one
         destination address) for C{n / bandwidth} seconds once the flow is
         free: C{sent = max(t, flow_free) + n / bandwidth};
      4. for each copy: with probability C{reorder} it is held back
         C{reorder_delay} more seconds (a C{udp-reorder} event), so that
         datagrams sent after it within that time overtake it; then it
         arrives at C{sent + latency + uniform(0, jitter)}.  Unlike TCP's
         bytes, datagrams are not kept in order: jitter alone may reorder
         them, as on a real network.

    With C{reorder=1} every datagram is held back alike, which reorders
    nothing: use it below 1.  An ICMP port-unreachable goes back with the
    latency, jitter and loss of the reverse direction.

    @ivar latency: one-way delay of every datagram, in virtual seconds.
    @ivar jitter: up to this many more seconds, drawn per datagram.
    @ivar bandwidth: bytes per virtual second of a flow, or L{None} for
        unlimited.
    @ivar loss: the probability that a datagram is lost.
    @ivar duplicate: the probability that a datagram arrives twice.
    @ivar reorder: the probability that a datagram is held back.
    @ivar reorder_delay: how long a held-back datagram is held, in virtual
        seconds.
    """

    latency: float = attrs.field(default=0.0, validator=check_delay)
    jitter: float = attrs.field(default=0.0, validator=check_delay)
    bandwidth: float | None = attrs.field(default=None, validator=check_bandwidth)
    loss: float = attrs.field(default=0.0, validator=check_probability)
    duplicate: float = attrs.field(default=0.0, validator=check_probability)
    reorder: float = attrs.field(default=0.0, validator=check_probability)
    reorder_delay: float = attrs.field(default=0.01, validator=check_delay)

    @property
    def plain(self) -> bool:
        """
        Whether these conditions change nothing (no delay, no fault).
        """
        return not (
            self.latency
            or self.jitter
            or self.bandwidth is not None
            or self.loss
            or self.duplicate
            or self.reorder
        )


PLAIN_DATAGRAMS = DatagramConditions()
"""
Conditions that change nothing: every datagram arrives at once.
"""

INBOUND = "inbound"
"""
Of a port's conditions: the datagrams sent to it.
"""

OUTBOUND = "outbound"
"""
Of a port's conditions: the datagrams it sends.
"""


def _directions(direction: str | None) -> tuple[str, ...]:
    if direction is None:
        return (INBOUND, OUTBOUND)
    if direction not in (INBOUND, OUTBOUND):
        raise ValueError(
            f"direction must be {INBOUND!r}, {OUTBOUND!r} or None (both), "
            f"not {direction!r}"
        )
    return (direction,)


def _store(settings: dict[Any, Any], key: object, value: object) -> None:
    store_conditions(settings, key, value, DatagramConditions, "datagram conditions")


# -- the kernel's socket ---------------------------------------------------------


class DatagramSocket:
    """
    A UDP socket, kernel side (see the module docstring).

    @ivar local: C{(host, port)} this socket is bound to (C{("", 0)} until
        bound); after C{connect}, a C{0.0.0.0} host becomes the source
        address of the route, as Linux shows it.
    @ivar peer: the connected peer's C{(host, port)}, or L{None}.
    @ivar err: the pending error (C{SO_ERROR}), 0 if none.
    @ivar rmem: the receive queue's kernel accounting (see L{truesize}).
    @ivar receive_buffer: C{SO_RCVBUF}.
    @ivar owner: the port to wake when readiness may have changed.
    @ivar closed: whether the descriptor was closed.
    @ivar number: the socket's number in the network (shown in the trace
        and in diagnostics).
    @ivar queue: the datagrams received and not read, with their sources.
    @ivar bound_host: the address the binding holds (C{0.0.0.0} stays so
        after C{connect}); empty until bound.
    @ivar reuse: C{SO_REUSEADDR} (or C{SO_REUSEPORT}).
    @ivar broadcast: C{SO_BROADCAST}.
    @ivar groups: the multicast memberships, as C{(group, interface)}.
    @ivar multicast_loop: C{IP_MULTICAST_LOOP}.
    @ivar multicast_ttl: C{IP_MULTICAST_TTL}.
    @ivar multicast_interface: C{IP_MULTICAST_IF} (C{0.0.0.0}: the
        default).
    @ivar flow_free: per destination, when the flow is free again (with a
        bandwidth).
    """

    owner: Any = None
    peer: tuple[str, int] | None = None
    err = 0
    rmem = 0
    closed = False
    bound_host = ""
    reuse = False
    broadcast = False
    multicast_loop = 1
    multicast_ttl = 1
    multicast_interface = ANY

    def __init__(self, stack: UDPStack, number: int) -> None:
        self._stack = stack
        self.number = number
        self.local: tuple[str, int] = ("", 0)
        self.queue: deque[tuple[bytes, tuple[str, int]]] = deque()
        self.receive_buffer = stack.receive_buffer
        self.groups: set[tuple[str, str]] = set()
        self.flow_free: dict[tuple[str, int], float] = {}
        self._options: dict[tuple[int, int], int] = {}

    def __repr__(self) -> str:
        host, port = self.local
        state = "closed" if self.closed else f"{len(self.queue)} queued"
        peer = f" -> {self.peer[0]}:{self.peer[1]}" if self.peer else ""
        return f"<DatagramSocket u{self.number} {host}:{port}{peer} {state}>"

    # -- system calls ------------------------------------------------------------

    def bind(self, address: tuple[str, int]) -> None:
        """
        C{bind()}: to C{address} (host C{""} is C{0.0.0.0}; port 0 takes a
        free port).

        @raise OSError: C{EADDRINUSE}, C{EADDRNOTAVAIL}, C{EINVAL} (bound
            already).
        @raise OverflowError: for a port outside 0-65535.
        @raise TypeError: for a port that is not an int.
        """
        host, port = address
        if isinstance(port, bool) or not isinstance(port, int):
            raise TypeError(
                f"'{type(port).__name__}' object cannot be interpreted as an integer"
            )
        if not 0 <= port <= 65535:
            raise OverflowError("bind(): port must be 0-65535.")
        if self.bound_host:
            raise os_error(errno.EINVAL)
        self._stack._bind(self, host or ANY, port)

    def getsockname(self) -> tuple[str, int]:
        """
        The bound address.
        """
        return self.local

    def connect(self, address: tuple[str, int]) -> None:
        """
        C{connect()}: datagrams go to C{address} by default, and only
        datagrams from it are received.  A socket bound to C{0.0.0.0} takes
        the route's source address as its own.  (Port 0 is accepted, as
        Linux accepts it: what is sent there finds nobody.)

        @raise OSError: C{EACCES} for the broadcast address without
            C{SO_BROADCAST}.
        """
        host, port = address
        if not 0 <= port <= 65535:
            raise OverflowError("connect(): port must be 0-65535.")
        if host in ("<broadcast>", BROADCAST):
            host = BROADCAST
            if not self.broadcast:
                raise os_error(errno.EACCES)
        self.peer = (host, port)
        if self.local[0] == ANY:
            self.local = (self._stack.source_for(self, host), self.local[1])

    def send(self, data: Any) -> int:
        """
        C{send()} to the connected peer (see L{sendto}).

        @raise OSError: C{EDESTADDRREQ} if not connected.
        """
        if self.peer is None:
            raise os_error(errno.EDESTADDRREQ)
        return self._send(data, self.peer)

    def sendto(self, data: Any, address: tuple[str, int]) -> int:
        """
        Send one datagram to C{address} (C{"<broadcast>"} is
        C{255.255.255.255}).

        @return: its length.
        @raise OSError: the pending error (consumed; nothing is sent),
            C{EMSGSIZE} over L{MAX_DATAGRAM} bytes, C{EINVAL} for port 0,
            C{EACCES} for a broadcast without C{SO_BROADCAST}.
        @raise TypeError: if C{data} is not bytes-like.
        """
        if address[1] == 0:
            raise os_error(errno.EINVAL)
        return self._send(data, address)

    def _send(self, data: Any, address: tuple[str, int]) -> int:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"a bytes-like object is required, not '{type(data).__name__}'"
            )
        if self.closed:
            raise os_error(errno.EBADF)
        if self.err:
            code = self.err
            self.err = 0
            raise os_error(code)
        host, port = address
        if host == "<broadcast>":
            host = BROADCAST
        if not 0 <= port <= 65535:
            raise OverflowError("sendto(): port must be 0-65535.")
        data = bytes(data)
        if len(data) > MAX_DATAGRAM:
            raise os_error(errno.EMSGSIZE)
        if host == BROADCAST and not self.broadcast:
            raise os_error(errno.EACCES)
        if not self.bound_host:
            self._stack._bind(self, ANY, 0)
        self._stack.transmit(self, data, (host, port))
        return len(data)

    def recvfrom(self, limit: int) -> tuple[bytes, tuple[str, int]]:
        """
        The next datagram (its first C{limit} bytes; the rest is discarded)
        and its source, after the pending error if there is one.

        @raise OSError: the pending error (consumed) first; C{EAGAIN} if no
            datagram is queued.
        """
        if self.err:
            code = self.err
            self.err = 0
            raise os_error(code)
        queue = self.queue
        if not queue:
            raise os_error(errno.EAGAIN)
        data, source = queue.popleft()
        self.rmem -= truesize(len(data))
        if len(data) > limit:
            data = data[:limit]
        return data, source

    def close(self) -> None:
        """
        Release the descriptor: the queue is dropped and the address freed.
        """
        if self.closed:
            return
        self.closed = True
        self.owner = None
        self.queue.clear()
        self.rmem = 0
        self.groups.clear()
        self._stack._unbind(self)

    def poll(self) -> int:
        """
        The C{EPOLL*} events this socket shows now, as C{udp_poll}: C{EPOLLIN}
        with a datagram queued, C{EPOLLERR} with a pending error, and always
        C{EPOLLOUT}.
        """
        mask = EPOLLOUT
        if self.queue:
            mask |= EPOLLIN
        if self.err:
            mask |= EPOLLERR
        return mask

    def fileno(self) -> int:
        """
        A stand-in descriptor number (there is no file descriptor).
        """
        return 1000 + self.number

    # -- options ---------------------------------------------------------------

    def setsockopt(self, level: int, option: int, value: int | bytes) -> None:
        """
        Set an option.  Those that change what the socket does:
        C{SO_BROADCAST}, C{SO_RCVBUF} (doubled, at least 2304, at most twice
        C{rmem_max}), C{SO_REUSEADDR} (before C{bind}),
        C{IP_ADD_MEMBERSHIP}/C{IP_DROP_MEMBERSHIP} (group and interface,
        packed), C{IP_MULTICAST_LOOP}, C{IP_MULTICAST_TTL},
        C{IP_MULTICAST_IF}; others are stored.

        @raise OSError: as Linux, for a bad membership or interface.
        """
        s = _stdlib_socket
        if level == s.IPPROTO_IP:
            if option in (s.IP_ADD_MEMBERSHIP, s.IP_DROP_MEMBERSHIP):
                assert isinstance(value, bytes)
                self._membership(option == s.IP_ADD_MEMBERSHIP, value)
                return
            if option == s.IP_MULTICAST_IF:
                assert isinstance(value, bytes)
                interface = s.inet_ntoa(value[:4])
                if interface != ANY and not self._stack.is_local(interface):
                    raise os_error(errno.EADDRNOTAVAIL)
                self.multicast_interface = interface
                return
            if option == s.IP_MULTICAST_LOOP:
                self.multicast_loop = int(bool(_int_of(value)))
                return
            if option == s.IP_MULTICAST_TTL:
                self.multicast_ttl = _int_of(value)
                return
        if level == s.SOL_SOCKET:
            number = _int_of(value)
            if option == s.SO_BROADCAST:
                self.broadcast = bool(number)
            elif option == s.SO_RCVBUF:
                self.receive_buffer = max(2 * min(number, RMEM_MAX), MIN_RECEIVE_BUFFER)
                return
            elif option in (s.SO_REUSEADDR, s.SO_REUSEPORT):
                self.reuse = self.reuse or bool(number)
        self._options[(level, option)] = _int_of(value)

    def getsockopt(self, level: int, option: int, buflen: int | None = None) -> Any:
        """
        The value of an option (C{IP_MULTICAST_IF} packed when C{buflen} is
        given, as Python's socket returns it).
        """
        s = _stdlib_socket
        if level == s.IPPROTO_IP:
            if option == s.IP_MULTICAST_IF:
                packed = s.inet_aton(self.multicast_interface)
                return (
                    packed if buflen is not None else int.from_bytes(packed, "little")
                )
            if option == s.IP_MULTICAST_LOOP:
                return self.multicast_loop
            if option == s.IP_MULTICAST_TTL:
                return self.multicast_ttl
        if level == s.SOL_SOCKET:
            if option == s.SO_BROADCAST:
                return int(self.broadcast)
            if option == s.SO_RCVBUF:
                return self.receive_buffer
            if option == s.SO_ERROR:
                code = self.err
                self.err = 0
                return code
            if option == s.SO_TYPE:
                return int(s.SOCK_DGRAM)
        return self._options.get((level, option), 0)

    def _membership(self, join: bool, value: bytes) -> None:
        group = _stdlib_socket.inet_ntoa(value[:4])
        interface = _stdlib_socket.inet_ntoa(value[4:8])
        if not _is_multicast(group):
            raise os_error(errno.EINVAL)
        if interface != ANY and not self._stack.is_local(interface):
            raise os_error(errno.ENODEV)
        key = (group, interface)
        if join:
            if key in self.groups:
                raise os_error(errno.EADDRINUSE)
            self.groups.add(key)
        else:
            if key not in self.groups:
                raise os_error(errno.EADDRNOTAVAIL)
            self.groups.discard(key)
        self._stack._trace(
            "udp-join" if join else "udp-leave",
            f"u{self.number} {group} on {interface}",
        )

    # -- what the stack delivers ------------------------------------------------

    def _receive(self, data: bytes, source: tuple[str, int]) -> None:
        """
        A datagram arrived from C{source}.
        """
        if self.closed:
            self._stack._dropped(data, source, self.local, "socket closed")
            return
        if self.peer is not None and source != self.peer:
            self._stack._dropped(
                data, source, self.local, "not from the connected peer"
            )
            return
        size = truesize(len(data))
        if self.rmem and self.rmem + size > self.receive_buffer:
            self._stack._dropped(data, source, self.local, "receive queue full")
            return
        self.queue.append((data, source))
        self.rmem += size
        owner = self.owner
        if owner is not None:
            owner._wake()

    def _refused(self) -> None:
        """
        An ICMP port-unreachable came back for a datagram this (connected)
        socket sent.
        """
        if self.closed:
            return
        self.err = errno.ECONNREFUSED
        owner = self.owner
        if owner is not None:
            owner._wake()


def _int_of(value: int | bytes) -> int:
    if isinstance(value, bytes):
        return int.from_bytes(value, "little") if value else 0
    return int(value)


# -- the stack -------------------------------------------------------------------


class UDPStack:
    """
    The UDP part of a network (C{net.udp}): its ports, and the conditions
    datagrams travel under.

    Where conditions come from, most specific first:

      1. the destination address (L{set_for_port} with C{direction}
         L{INBOUND} or both): the datagrams sent to it;
      2. the source address (L{set_for_port}, L{OUTBOUND} or both): the
         datagrams sent from it;
      3. the host pair, from the source host to the destination host
         (L{set_between});
      4. the default (L{set_default}).

    An address with host C{0.0.0.0} matches every host on that port.  A
    change applies to datagrams sent afterwards (those in flight keep
    their arrival times).

    @ivar receive_buffer: the C{SO_RCVBUF} of new sockets (see
        L{UDP_RECEIVE_BUFFER}).
    @ivar reactor: the reactor of the ports (C{callLater}, C{resolve}).
    @ivar table: the UDP port table (a L{PortTable} of its own).
    @ivar bindings: the sockets bound to each C{(host, port)}, oldest
        first.
    @ivar sockets: every open socket, by number (bound or not).
    @ivar ports_open: the Twisted ports listening, by socket number.
    @ivar default: the default conditions, or L{None}.
    @ivar pairs: the conditions by C{(source host, destination host)}.
    @ivar addresses: the conditions by C{(host, port, direction)}.
    """

    def __init__(
        self,
        loop: Scheduler,
        reactor: DatagramReactor,
        resolve: Callable[[str], str | None],
        is_local: Callable[[str], bool],
        partitioned: Callable[[str, str], bool],
    ) -> None:
        self._net = loop
        self.reactor = reactor
        self._resolve = resolve
        self._is_local = is_local
        self._partitioned_hosts = partitioned
        self.table = PortTable(loop)
        self.receive_buffer = UDP_RECEIVE_BUFFER
        # (host, port) -> the sockets bound there, oldest first
        self.bindings: dict[tuple[str, int], list[DatagramSocket]] = {}
        self.sockets: dict[int, DatagramSocket] = {}
        self.ports_open: dict[int, UDPPort] = {}
        self._numbers = 0
        self.default: DatagramConditions | None = None
        self.pairs: dict[tuple[str, str], DatagramConditions] = {}
        self.addresses: dict[tuple[str, int, str], DatagramConditions] = {}

    def __repr__(self) -> str:
        return f"<UDPStack of {self._net!r}: {len(self.sockets)} socket(s)>"

    # -- helpers ---------------------------------------------------------------

    def _trace(self, kind: str, detail: str) -> None:
        loop = self._net
        loop._trace.extend((loop._now, kind, None, "", detail))

    def is_local(self, address: str) -> bool:
        """
        Whether C{address} is an address of a host of the network.
        """
        return self._is_local(address)

    def _host(self, name: str) -> str:
        return known_host(self._resolve, name, "an IPv4 address")

    def _address(self, address: object) -> tuple[str, int]:
        given = address
        if IListeningPort.providedBy(given):
            given = given.getHost()
        if isinstance(given, IPv4Address):
            host, port = given.host, given.port
        elif isinstance(given, tuple) and len(given) == 2:
            host, port = given
        else:
            raise TypeError(
                "an address is a (host, port) tuple, an IPv4Address or a "
                f"listening port, not {address!r}"
            )
        if (
            isinstance(port, bool)
            or not isinstance(port, int)
            or not 0 <= port <= 65535
        ):
            raise ValueError(f"port must be an int in 0-65535, not {port!r}")
        if host in ("", ANY):
            return (ANY, port)
        return (self._host(host), port)

    def new_socket(self) -> DatagramSocket:
        """
        A new, unbound socket.
        """
        self._numbers += 1
        sock = DatagramSocket(self, self._numbers)
        self.sockets[sock.number] = sock
        return sock

    # -- binding -----------------------------------------------------------------

    def _bind(self, sock: DatagramSocket, host: str, port: int) -> None:
        if host != ANY and not (
            self.is_local(host) or _is_multicast(host) or host == BROADCAST
        ):
            raise os_error(errno.EADDRNOTAVAIL)
        table = self.table
        if port == 0:
            port = table.bind_listener(host, 0)
        else:
            conflicting = [
                other
                for (bound, number), sockets in self.bindings.items()
                if number == port and (bound == host or ANY in (bound, host))
                for other in sockets
            ]
            if conflicting and not (sock.reuse and all(o.reuse for o in conflicting)):
                raise os_error(errno.EADDRINUSE)
            if conflicting:
                table.bind_shared(host, port)
            else:
                table.bind_listener(host, port)
        sock.bound_host = host
        sock.local = (host, port)
        self.bindings.setdefault((host, port), []).append(sock)

    def _unbind(self, sock: DatagramSocket) -> None:
        self.sockets.pop(sock.number, None)
        if not sock.bound_host:
            return
        key = (sock.bound_host, sock.local[1])
        sockets = self.bindings[key]
        sockets.remove(sock)
        if not sockets:
            del self.bindings[key]
            self.table.unbind_listener(*key)

    def source_for(self, sock: DatagramSocket, destination: str) -> str:
        """
        The source address of what C{sock} sends to C{destination}: its
        bound address; else, for an address of the network, what Linux's
        routes give (C{127.0.0.1} for the loopback network, else the
        destination itself: the sender is on the destination's host, the
        convention of the network's TCP clients); else the multicast
        interface, or C{127.0.0.1}.
        """
        host = sock.local[0]
        if host != ANY:
            return host
        if _is_multicast(destination) and sock.multicast_interface != ANY:
            return sock.multicast_interface
        if destination not in (ANY, BROADCAST) and self.is_local(destination):
            return _source_address(destination)
        return "127.0.0.1"

    # -- conditions (the public API) -------------------------------------------

    def set_default(self, conditions: DatagramConditions | None) -> None:
        """
        The conditions of every datagram that has no more specific setting
        (L{None} removes them).
        """
        if conditions is not None and not isinstance(conditions, DatagramConditions):
            raise TypeError(
                f"datagram conditions must be DatagramConditions or None, not "
                f"{conditions!r}"
            )
        self.default = conditions

    def set_between(
        self,
        host_a: str,
        host_b: str,
        conditions: DatagramConditions | None,
        *,
        one_way: bool = False,
    ) -> None:
        """
        The conditions of the datagrams from C{host_a} to C{host_b} (names in
        the host map or IPv4 addresses) and, unless C{one_way}, back.  A
        datagram's hosts are its source and destination addresses.  L{None}
        removes the setting.
        """
        a, b = self._host(host_a), self._host(host_b)
        _store(self.pairs, (a, b), conditions)
        if not one_way:
            _store(self.pairs, (b, a), conditions)

    def set_for_port(
        self,
        address: object,
        conditions: DatagramConditions | None,
        *,
        direction: str | None = None,
    ) -> None:
        """
        The conditions of the datagrams sent to (L{INBOUND}) and/or from
        (L{OUTBOUND}) an address: a C{(host, port)} tuple, an L{IPv4Address}
        or a listening port; host C{0.0.0.0} matches every host on that
        port.  L{None} removes the setting.
        """
        host, port = self._address(address)
        for one in _directions(direction):
            _store(self.addresses, (host, port, one), conditions)

    def conditions_for(
        self, source: tuple[str, int], destination: tuple[str, int]
    ) -> DatagramConditions:
        """
        The conditions a datagram from C{source} to C{destination} (IPv4
        addresses) travels under.
        """
        return self._conditions(source, destination) or PLAIN_DATAGRAMS

    def _conditions(
        self, source: tuple[str, int], destination: tuple[str, int]
    ) -> DatagramConditions | None:
        addresses = self.addresses
        if addresses:
            for (host, port), direction in ((destination, INBOUND), (source, OUTBOUND)):
                found = addresses.get((host, port, direction))
                if found is None:
                    found = addresses.get((ANY, port, direction))
                if found is not None:
                    return found
        if self.pairs:
            found = self.pairs.get((source[0], destination[0]))
            if found is not None:
                return found
        return self.default

    # -- routing -----------------------------------------------------------------

    def _partitioned(self, a: str, b: str) -> bool:
        return a != b and self._partitioned_hosts(a, b)

    def transmit(
        self, sock: DatagramSocket, data: bytes, destination: tuple[str, int]
    ) -> None:
        """
        C{sock} sends C{data} to C{destination}: under its conditions, it
        arrives now, later, twice, or never.
        """
        net = self._net
        source = (self.source_for(sock, destination[0]), sock.local[1])
        size = len(data)
        net._trace.extend(
            (
                net._now,
                "udp-send",
                None,
                "",
                f"{source[0]}:{source[1]} -> {destination[0]}:{destination[1]} "
                f"({size} bytes)",
            )
        )
        conditions = self._conditions(source, destination)
        if conditions is None or conditions.plain:
            self._arrive(data, source, destination, sock)
            return
        random = net.random
        if conditions.loss and random.random() < conditions.loss:
            self._dropped(data, source, destination, "lost")
            return
        copies = 1
        if conditions.duplicate and random.random() < conditions.duplicate:
            copies = 2
            self._trace("udp-duplicate", f"{_flow(source, destination)} ({size} bytes)")
        now = net._now
        sent = now
        if conditions.bandwidth is not None:
            free = sock.flow_free.get(destination, now)
            sent = max(now, free) + size / conditions.bandwidth
            sock.flow_free[destination] = sent
        for _ in range(copies):
            arrival = sent + conditions.latency
            if conditions.reorder and random.random() < conditions.reorder:
                arrival += conditions.reorder_delay
                self._trace(
                    "udp-reorder",
                    f"{_flow(source, destination)} ({size} bytes) held back "
                    f"{conditions.reorder_delay!r}s",
                )
            if conditions.jitter:
                arrival += random.uniform(0.0, conditions.jitter)
            if arrival <= now:
                self._arrive(data, source, destination, sock)
            else:
                net._call_at(arrival, self._arrive, data, source, destination, sock)

    def _dropped(
        self,
        data: bytes,
        source: tuple[str, int],
        destination: tuple[str, int],
        reason: str,
    ) -> None:
        self._trace(
            "udp-drop", f"{_flow(source, destination)} ({len(data)} bytes) {reason}"
        )

    def _receivers(self, host: str, port: int) -> list[DatagramSocket]:
        bindings = self.bindings
        if _is_multicast(host):
            if not any(
                group == host
                for sock in self.sockets.values()
                for group, _ in sock.groups
            ):
                return []
            return [*bindings.get((ANY, port), ()), *bindings.get((host, port), ())]
        if host == BROADCAST:
            return list(bindings.get((ANY, port), ()))
        exact = bindings.get((host, port))
        if exact:
            return [exact[0]]
        if self.is_local(host):
            wildcard = bindings.get((ANY, port))
            if wildcard:
                return [wildcard[0]]
        return []

    def _arrive(
        self,
        data: bytes,
        source: tuple[str, int],
        destination: tuple[str, int],
        sender: DatagramSocket,
    ) -> None:
        """
        A datagram reaches its destination address: the sockets there get
        it; if there is none, an ICMP port-unreachable goes back.
        """
        host, port = destination
        if self._partitioned(source[0], host):
            self._dropped(data, source, destination, "lost in a partition")
            return
        receivers = self._receivers(host, port)
        if _is_multicast(host) and not sender.multicast_loop:
            interface = sender.multicast_interface
            if not interface.startswith("127."):
                receivers = [sock for sock in receivers if sock is not sender]
        if receivers:
            for sock in receivers:
                sock._receive(data, source)
            return
        if _is_multicast(host) or host == BROADCAST or not self.is_local(host):
            self._dropped(data, source, destination, "no receiver")
            return
        self._trace(
            "udp-unreachable",
            f"{host}:{port} port unreachable (ICMP to {source[0]}:{source[1]})",
        )
        if sender.closed or sender.peer != destination:
            return
        conditions = self._conditions(destination, source)
        if conditions is None or conditions.plain:
            sender._refused()
            return
        net = self._net
        random = net.random
        if conditions.loss and random.random() < conditions.loss:
            self._trace(
                "udp-drop", f"{_flow(destination, source)} ICMP port-unreachable lost"
            )
            return
        delay = conditions.latency
        if conditions.jitter:
            delay += random.uniform(0.0, conditions.jitter)
        if delay > 0:
            net._call_at(net._now + delay, sender._refused)
        else:
            sender._refused()

    # -- inspection --------------------------------------------------------------

    def ports(self) -> list[UDPPort]:
        """
        The UDP ports currently open, oldest first.
        """
        return list(self.ports_open.values())

    def describe(self) -> str:
        """
        The open UDP ports (with their queues) and the datagram conditions
        set; empty if there are none.
        """
        lines: list[str] = []
        if self.sockets:
            lines.append(f"UDP sockets ({len(self.sockets)}):")
            for sock in self.sockets.values():
                host, port = sock.local
                owner = sock.owner
                name = owner.logPrefix() if owner is not None else "no port"
                peer = (
                    f" connected to {sock.peer[0]}:{sock.peer[1]}" if sock.peer else ""
                )
                error = (
                    f", pending {errno.errorcode.get(sock.err, sock.err)}"
                    if sock.err
                    else ""
                )
                lines.append(
                    f"  u{sock.number} {host}:{port}{peer} ({name}): "
                    f"{len(sock.queue)} datagram(s) queued{error}"
                )
        settings: list[str] = []
        if self.default is not None:
            settings.append(f"default: {self.default!r}")
        for (source, destination), conditions in self.pairs.items():
            settings.append(f"{source} -> {destination}: {conditions!r}")
        for (host, port, direction), conditions in self.addresses.items():
            settings.append(f"{direction} {host}:{port}: {conditions!r}")
        if settings:
            lines.append("Datagram conditions:")
            lines.extend(f"  {setting}" for setting in settings)
        return "\n".join(lines)


def _flow(source: tuple[str, int], destination: tuple[str, int]) -> str:
    return f"{source[0]}:{source[1]} -> {destination[0]}:{destination[1]}"


# -- Twisted's side ----------------------------------------------------------------

_IGNORED_READ_ERRORS = (errno.EAGAIN, errno.EINTR, errno.EWOULDBLOCK)
_CONNECTION_DONE = Failure(ConnectionDone())
_FAILURES = {
    ConnectionDone: _CONNECTION_DONE,
    ConnectionLost: Failure(ConnectionLost()),
}


def _log_prefix(protocol: object) -> str:
    if ILoggingContext.providedBy(protocol):
        return str(protocol.logPrefix())
    return type(protocol).__name__


@implementer(IListeningPort, IUDPTransport, ISystemHandle)
class UDPPort:
    """
    A UDP port of a L{MemoryNetwork<poetry.testing.MemoryNetwork>}: the
    real reactor's
    C{twisted.internet.udp.Port}, method for method, over a
    L{DatagramSocket}, with the epoll reactor's dispatch.

      - C{listenUDP} binds (L{CannotListenError} if the address is taken or
        not an address of the network; an interface that is not an IP
        address is L{InvalidAddressError}), calls the protocol's
        C{makeConnection} (C{startProtocol}) and starts reading;
      - a dispatch (a step after datagrams arrived) reads them, up to
        C{maxThroughput} bytes, each truncated to C{maxPacketSize}, and
        calls C{datagramReceived(data, (host, port))} for each; an
        exception from it is logged and the reading goes on;
      - C{write(datagram, addr)} sends at once; it takes IP addresses only
        (L{InvalidAddressError}), needs C{addr} unless connected
        (C{AssertionError}), raises L{MessageLengthError} over 65,507
        bytes; a connected port's write that finds the pending
        C{ECONNREFUSED} calls C{connectionRefused()} (and sends nothing);
      - a dispatch that finds the pending error and no datagram (epoll's
        C{EPOLLERR} without C{EPOLLIN}) disconnects the port, as the real
        epoll reactor does: C{connectionLost}, the protocol's C{doStop};
      - C{stopListening()} stops reading and returns a L{Deferred} fired
        by C{connectionLost} in the next iteration (a C{callLater(0)}):
        the protocol's C{doStop}, the socket closed; once that ran,
        C{getHost()}, C{write()} and C{getHandle()} fail with
        L{AttributeError}, as the real port's socket is gone.

    @ivar port: the port number asked for (0 stays 0; C{getHost()} has the
        real number).
    @ivar protocol: the datagram protocol.
    @ivar interface: the interface asked for.
    @ivar maxPacketSize: the most bytes a read takes of a datagram.
    @ivar maxThroughput: the most bytes one dispatch reads.
    @ivar connected: 1 while listening (Twisted's name).
    @ivar socket: the kernel socket (deleted when the port closes).
    """

    addressFamily = _stdlib_socket.AF_INET
    socketType = _stdlib_socket.SOCK_DGRAM
    maxThroughput = 256 * 1024
    _realPortNumber: int | None = None
    connected = 0
    disconnected = 0
    disconnecting = False
    reading = False
    _queued = False
    socket: DatagramSocket
    d: Deferred[None]

    def __init__(
        self,
        stack: UDPStack,
        reactor: DatagramReactor,
        port: int,
        proto: AbstractDatagramProtocol,
        interface: str = "",
        maxPacketSize: int = 8192,
    ) -> None:
        self._stack = stack
        self._loop = stack._net
        self.reactor = reactor
        self.port = port
        self.protocol = proto
        self.maxPacketSize = maxPacketSize
        self.interface = interface
        self.setLogStr()
        self._connectedAddr: tuple[str, int] | None = None
        self._setAddressFamily()

    def __repr__(self) -> str:
        if self._realPortNumber is not None:
            return f"<{self.protocol.__class__} on {self._realPortNumber}>"
        return f"<{self.protocol.__class__} not connected>"

    def getHandle(self) -> DatagramSocket:
        """
        The kernel socket (the real reactor returns its C{socket.socket}).
        """
        return self.socket

    # -- listening -------------------------------------------------------------

    def startListening(self) -> None:
        """
        Bind, then connect the protocol (C{makeConnection}) and start
        reading.
        """
        self._bindSocket()
        self._connectToProtocol()

    def _bindSocket(self) -> None:
        if self.addressFamily != _stdlib_socket.AF_INET:
            raise CannotListenError(
                self.interface,
                self.port,
                OSError(
                    errno.EAFNOSUPPORT,
                    "IPv6 is not supported by the MemoryNetwork's UDP",
                ),
            )
        stack = self._stack
        skt = self.createInternetSocket()
        try:
            skt.bind((self.interface, self.port))
        except OSError as le:
            skt.close()
            self._stack._trace(
                "udp-listen-fail", f"{self.interface or ANY}:{self.port}"
            )
            raise CannotListenError(self.interface, self.port, le) from None
        except BaseException:
            skt.close()
            raise
        self._realPortNumber = skt.getsockname()[1]
        _log.info(
            "{prefix} starting on {port}",
            prefix=_log_prefix(self.protocol),
            port=self._realPortNumber,
        )
        self.connected = 1
        self.socket = skt
        skt.owner = self
        stack.ports_open[skt.number] = self
        host, number = skt.local
        stack._trace("udp-listen", f"{host}:{number}")

    def createInternetSocket(self) -> DatagramSocket:
        """
        A new kernel socket.
        """
        return self._stack.new_socket()

    def _connectToProtocol(self) -> None:
        try:
            self.protocol.makeConnection(self)
        except BaseException:
            # The real port, unreferenced once listenUDP raised, is garbage
            # and its socket closed by the collector; here, at once.
            sock = self.socket
            self._stack.ports_open.pop(sock.number, None)
            host, number = sock.local
            self._stack._trace("udp-close", f"{host}:{number} (makeConnection raised)")
            sock.close()
            raise
        self.startReading()

    # -- the reactor's registration and dispatch --------------------------------

    def startReading(self) -> None:
        """
        Read when datagrams arrive (the reactor's C{addReader}).
        """
        if not self.reading:
            self.reading = True
            self._wake()

    def stopReading(self) -> None:
        """
        Stop reading (the reactor's C{removeReader}): datagrams wait in the
        kernel's queue.
        """
        self.reading = False

    def stopWriting(self) -> None:
        """
        Nothing to stop: a UDP port never waits to write.
        """

    pauseProducing = stopReading
    resumeProducing = startReading

    def _wake(self) -> None:
        if not self._queued and self.reading:
            self._queued = True
            self._loop._ready.append(self)

    def __call__(self) -> None:
        """
        One dispatch, as the epoll reactor's C{_doReadOrWrite} for a reader.
        """
        self._queued = False
        if not self.reading:
            return
        # Reading implies listening: connectionLost stops reading first.
        sock = self.socket
        event = sock.poll()
        if not event & (EPOLLIN | EPOLLERR | EPOLLHUP):
            return
        why: Any = None
        inRead = False
        try:
            if event & (EPOLLHUP | EPOLLERR) and not event & EPOLLIN:
                inRead = True
                why = _CONNECTION_DONE.value
            else:
                try:
                    self.doRead()
                    inRead = True
                except BaseException as e:
                    why = e
                    _log.failure(
                        "Unhandled error reading {port} (the real reactor logs it too)",
                        port=self.logstr,
                    )
            if why:
                self._disconnectSelectable(why, inRead)
        except BaseException:
            _log.failure(
                "Unhandled error disconnecting {port} (the real reactor logs it too)",
                port=self.logstr,
            )
        if (
            self.reading
            and not self._queued
            and self.socket.poll() & (EPOLLIN | EPOLLERR)
        ):
            self._queued = True
            self._loop._ready.append(self)

    def _disconnectSelectable(self, why: Any, isRead: bool) -> None:
        """
        As the reactor's C{_disconnectSelectable} (a UDP port is not
        half-closeable).
        """
        self.stopReading()
        self._stack._trace(
            "udp-error", f"{self._name()} connectionLost({type(why).__name__})"
        )
        failure = _FAILURES.get(why.__class__)
        if failure is not None:
            self.connectionLost(failure)
        else:
            self.connectionLost(Failure(why))

    def doRead(self) -> None:
        """
        As C{udp.Port.doRead}: read datagrams until none is left or
        C{maxThroughput} bytes were read; C{ECONNREFUSED} calls the
        protocol's C{connectionRefused()} if connected, and ends the read.
        """
        read = 0
        loop = self._loop
        while read < self.maxThroughput:
            try:
                data, addr = self.socket.recvfrom(self.maxPacketSize)
            except OSError as se:
                no = se.args[0]
                if no in _IGNORED_READ_ERRORS:
                    return
                if no == errno.ECONNREFUSED:
                    if self._connectedAddr:
                        self._stack._trace("udp-refused", f"{self._name()} read")
                        self.protocol.connectionRefused()  # type: ignore[attr-defined]  # a DatagramProtocol's
                    return
                raise
            else:
                size = len(data)
                read += size
                loop._moved += size
                host, number = self.socket.local
                loop._trace.extend(
                    (
                        loop._now,
                        "udp-deliver",
                        None,
                        "",
                        f"{addr[0]}:{addr[1]} -> {host}:{number} ({size} bytes)",
                    )
                )
                try:
                    self.protocol.datagramReceived(data, addr)
                except BaseException:
                    _log.failure(
                        "Unhandled error in datagramReceived of {port} (the real "
                        "reactor logs it too, and goes on reading)",
                        port=self.logstr,
                    )

    # -- writing -----------------------------------------------------------------

    def write(self, datagram: bytes, addr: tuple[str, int] | None = None) -> Any:
        """
        As C{udp.Port.write}: send one datagram to C{addr} (or, connected,
        to the peer).

        @raise InvalidAddressError: if C{addr}'s host is not an IP address.
        @raise MessageLengthError: over 65,507 bytes.
        """
        if self._connectedAddr:
            assert addr in (None, self._connectedAddr)
            try:
                return self.socket.send(datagram)
            except OSError as se:
                # (udp.Port retries on EINTR, which a memory socket never
                # raises.)
                no = se.args[0]
                if no == errno.EMSGSIZE:
                    raise MessageLengthError("message too long") from None
                elif no == errno.ECONNREFUSED:
                    self._stack._trace("udp-refused", f"{self._name()} write")
                    self.protocol.connectionRefused()  # type: ignore[attr-defined]  # a DatagramProtocol's
                else:
                    raise
            return None
        else:
            assert addr != None  # noqa: E711  # as udp.Port writes it
            if (
                not abstract.isIPAddress(addr[0])
                and not abstract.isIPv6Address(addr[0])
                and addr[0] != "<broadcast>"
            ):
                raise InvalidAddressError(
                    addr[0], "write() only accepts IP addresses, not hostnames"
                )
            if abstract.isIPv6Address(addr[0]):
                raise InvalidAddressError(
                    addr[0], "IPv4 port write() called with IPv6 address"
                )
            try:
                return self.socket.sendto(datagram, addr)
            except OSError as se:
                no = se.args[0]
                if no == errno.EMSGSIZE:
                    raise MessageLengthError("message too long") from None
                elif no == errno.ECONNREFUSED:
                    return None
                else:
                    raise

    def writeSequence(self, seq: Iterable[bytes], addr: tuple[str, int] | None) -> None:
        """
        Write the concatenation of C{seq} as one datagram.
        """
        self.write(b"".join(seq), addr)

    def connect(self, host: str, port: int) -> None:
        """
        As C{udp.Port.connect}: send to C{host:port} by default and receive
        only from it.

        @raise RuntimeError: if connected already.
        @raise InvalidAddressError: if C{host} is not an IP address.
        """
        if self._connectedAddr:
            raise RuntimeError(
                "already connected, reconnecting is not currently supported"
            )
        if not abstract.isIPAddress(host) and not abstract.isIPv6Address(host):
            raise InvalidAddressError(host, "not an IPv4 or IPv6 address.")
        self._connectedAddr = (host, port)
        self.socket.connect((host, port))
        self._stack._trace("udp-connect", f"{self._name()} -> {host}:{port}")

    # -- stopping ----------------------------------------------------------------

    def _loseConnection(self) -> None:
        self.stopReading()
        if self.connected:
            self.reactor.callLater(0, self.connectionLost)

    def stopListening(self) -> Deferred[None] | None:
        """
        As C{udp.Port.stopListening}: stop reading now, close in the next
        iteration; a L{Deferred} that fires then (L{None} if not
        listening).  A second call before then closes twice, as on the real
        reactor (the protocol's C{doStop} fails its assertion).
        """
        result: Deferred[None] | None
        if self.connected:
            result = self.d = Deferred()
        else:
            result = None
        self._loseConnection()
        return result

    def loseConnection(self) -> None:
        """
        Deprecated by Twisted in favour of L{stopListening}.
        """
        import warnings

        warnings.warn(
            "Please use stopListening() to disconnect port",
            DeprecationWarning,
            stacklevel=2,
        )
        self.stopListening()

    def connectionLost(self, reason: Failure | None = None) -> None:
        """
        As C{udp.Port.connectionLost}: the protocol's C{doStop}, the socket
        closed, the L{stopListening} Deferred fired.
        """
        _log.info("(UDP Port {port} Closed)", port=self._realPortNumber)
        self._realPortNumber = None
        self.maxThroughput = -1
        self.disconnected = 1
        self.connected = 0
        self.stopReading()
        sock = self.__dict__.get("socket")
        if sock is not None:
            host, number = sock.local
            self._stack.ports_open.pop(sock.number, None)
            self._stack._trace("udp-close", f"{host}:{number}")
        self.protocol.doStop()
        self.socket.close()
        del self.socket
        if hasattr(self, "d"):
            self.d.callback(None)
            del self.d

    # -- addresses and options -------------------------------------------------

    def setLogStr(self) -> None:
        """
        The log prefix: the protocol's, then C{" (UDP)"}.
        """
        self.logstr = f"{_log_prefix(self.protocol)} (UDP)"

    def _setAddressFamily(self) -> None:
        if abstract.isIPv6Address(self.interface):
            self.addressFamily = _stdlib_socket.AF_INET6
        elif abstract.isIPAddress(self.interface):
            self.addressFamily = _stdlib_socket.AF_INET
        elif self.interface:
            raise InvalidAddressError(self.interface, "not an IPv4 or IPv6 address.")

    def logPrefix(self) -> str:
        """
        The log prefix.
        """
        return self.logstr

    def _name(self) -> str:
        host, port = self.socket.local
        return f"{host}:{port}"

    def getPeer(self) -> IPv4Address:
        """
        Not implemented, as on the real reactor (C{udp.Port} inherits it
        from C{FileDescriptor}): a UDP port has no peer, even connected.

        @raise NotImplementedError: always.
        """
        raise NotImplementedError()

    def getHost(self) -> IPv4Address:
        """
        The bound address, C{IPv4Address("UDP", host, port)}: C{0.0.0.0}
        for the interface C{""} until C{connect} picks the source address.
        """
        host, port = self.socket.getsockname()
        return IPv4Address("UDP", host, port)

    def setBroadcastAllowed(self, enabled: bool) -> None:
        """
        Allow (or not) writes to C{"<broadcast>"} (C{SO_BROADCAST}).
        """
        self.socket.setsockopt(
            _stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_BROADCAST, enabled
        )

    def getBroadcastAllowed(self) -> bool:
        """
        Whether this port may broadcast.
        """
        return bool(
            self.socket.getsockopt(
                _stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_BROADCAST
            )
        )


def _maybe_resolve(reactor: DatagramReactor, address: str) -> Deferred[str]:
    if abstract.isIPv6Address(address) or abstract.isIPAddress(address):
        return succeed(address)
    return reactor.resolve(address)


@implementer(IMulticastTransport)
class MulticastUDPPort(UDPPort):
    """
    A multicast UDP port: the real reactor's C{udp.MulticastPort}
    (C{MulticastMixin}), over the socket options of L{DatagramSocket}.
    Group and interface names are looked up in the host map
    (C{reactor.resolve}); errors are L{MulticastJoinError}s, as on Linux:
    joining a group twice, leaving one not joined, a group that is not a
    multicast address, an interface that is not an address of the network.

    With C{listenMultiple}, several ports may listen on one port number
    (C{SO_REUSEADDR}); each member of a group gets every datagram sent to
    it, and a unicast datagram goes to the oldest of them.
    """

    def __init__(
        self,
        stack: UDPStack,
        reactor: DatagramReactor,
        port: int,
        proto: AbstractDatagramProtocol,
        interface: str = "",
        maxPacketSize: int = 8192,
        listenMultiple: bool = False,
    ) -> None:
        super().__init__(stack, reactor, port, proto, interface, maxPacketSize)
        self.listenMultiple = listenMultiple

    def createInternetSocket(self) -> DatagramSocket:
        """
        As C{MulticastPort.createInternetSocket}: a socket with
        C{SO_REUSEADDR} and C{SO_REUSEPORT} when listening multiple.
        """
        sock = super().createInternetSocket()
        if self.listenMultiple:
            sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_REUSEADDR, 1)
            sock.setsockopt(_stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_REUSEPORT, 1)
        return sock

    def _addrpack(self, addr: str) -> bytes:
        try:
            return _stdlib_socket.inet_pton(self.addressFamily, addr)
        except OSError:
            raise MulticastJoinError(
                f"invalid address literal for "
                f"{_stdlib_socket.AddressFamily(self.addressFamily).name}: {addr!r}"
            ) from None

    def getOutgoingInterface(self) -> str:
        """
        The interface multicast datagrams are sent from (C{"0.0.0.0"}: the
        default).
        """
        packed = self.socket.getsockopt(
            _stdlib_socket.IPPROTO_IP, _stdlib_socket.IP_MULTICAST_IF, 4
        )
        return _stdlib_socket.inet_ntop(self.addressFamily, packed)

    def setOutgoingInterface(self, addr: str | int) -> Deferred[int]:
        """
        Send multicast datagrams from the interface C{addr} (an address or a
        name of the host map; an IPv6 interface index, an C{int}, fails the
        L{Deferred} with L{AssertionError}, as on the real reactor's IPv4
        ports); a L{Deferred} of 1.
        """

        async def asynchronously() -> int:
            assert isinstance(addr, str), "IPv4 interfaces are specified as addresses"
            packed = self._addrpack(await _maybe_resolve(self.reactor, addr))
            self.socket.setsockopt(
                _stdlib_socket.IPPROTO_IP, _stdlib_socket.IP_MULTICAST_IF, packed
            )
            return 1

        return Deferred.fromCoroutine(asynchronously())

    def getLoopbackMode(self) -> bool:
        """
        Whether this port gets its own multicast datagrams.
        """
        return bool(
            self.socket.getsockopt(
                _stdlib_socket.IPPROTO_IP, _stdlib_socket.IP_MULTICAST_LOOP
            )
        )

    def setLoopbackMode(self, mode: int) -> None:
        """
        Whether this port gets its own multicast datagrams (on by default;
        sent from a loopback interface, it gets them anyway, as on Linux).
        """
        self.socket.setsockopt(
            _stdlib_socket.IPPROTO_IP, _stdlib_socket.IP_MULTICAST_LOOP, int(bool(mode))
        )

    def getTTL(self) -> int:
        """
        The multicast time-to-live (stored; 1 by default).
        """
        return int(
            self.socket.getsockopt(
                _stdlib_socket.IPPROTO_IP, _stdlib_socket.IP_MULTICAST_TTL
            )
        )

    def setTTL(self, ttl: int) -> None:
        """
        Set the multicast time-to-live (stored).
        """
        import struct

        self.socket.setsockopt(
            _stdlib_socket.IPPROTO_IP,
            _stdlib_socket.IP_MULTICAST_TTL,
            struct.pack("B", ttl),
        )

    def _joinleave(self, addr: str, interface: str, join: bool) -> Deferred[None]:
        s = _stdlib_socket
        cmd = s.IP_ADD_MEMBERSHIP if join else s.IP_DROP_MEMBERSHIP
        if not interface:
            interface = ANY

        async def impl() -> None:
            resaddr = await _maybe_resolve(self.reactor, addr)
            resif = await _maybe_resolve(self.reactor, interface)
            packaddr = self._addrpack(resaddr)
            packif = self._addrpack(resif)
            try:
                self.socket.setsockopt(s.IPPROTO_IP, cmd, packaddr + packif)
            except OSError as e:
                raise MulticastJoinError(addr, interface, *e.args) from e

        return Deferred.fromCoroutine(impl())

    def joinGroup(self, addr: str, interface: str = "") -> Deferred[None]:
        """
        Join the multicast group C{addr} on C{interface} (C{""}: the
        default).
        """
        return self._joinleave(addr, interface, True)

    def leaveGroup(self, addr: str, interface: str = "") -> Deferred[None]:
        """
        Leave the multicast group C{addr} on C{interface}.
        """
        return self._joinleave(addr, interface, False)
