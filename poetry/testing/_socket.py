"""
The kernel's side of an in-memory TCP connection: L{Socket}, one per end,
modelled on a Linux TCP socket on the loopback interface.

A socket has a bounded I{receive queue} (bytes that arrived and were not
read yet) and a bounded I{send queue} (bytes accepted by C{send} that the
peer's receive queue had no room for yet).  It knows the socket below it
only through its two L{poetry.testing._link.Link}s -- the outbound one that
carries what it sends, the inbound one that brought what it receives -- and
the object above it (the transport, or a listening port) only as an
L{Owner} to wake when its readiness may have changed.

What it does, as Linux does it (each rule checked against the real reactor
by the differential oracle, C{tests/oracle}):

  - C{send} accepts what fits in the peer's receive queue plus its own send
    queue and raises C{EAGAIN} when both are full; bytes move into the peer's
    receive queue as it reads (flow control);
  - C{shutdown(SHUT_WR)} queues a C{FIN} behind the bytes not yet sent;
  - C{close()} with unread bytes in the receive queue sends a C{RST}: the
    send queue is dropped, but a C{FIN} already sent arrives first, so a
    peer that had received everything sees an orderly close; without unread
    bytes, the kernel finishes sending and then sends the C{FIN};
  - bytes arriving at a closed socket are answered with a C{RST};
  - a C{RST} sets the pending error (C{ECONNREFUSED} while connecting,
    C{EPIPE} after the peer's C{FIN} arrived, else C{ECONNRESET}), drops the
    send queue and shuts both directions; bytes already received can still
    be read;
  - C{recv} returns queued bytes first, then end-of-file after a C{FIN},
    else the pending error, else C{EAGAIN};
  - L{poll} reports C{EPOLLIN}/C{EPOLLOUT}/C{EPOLLERR}/C{EPOLLHUP} as
    C{tcp_poll} does.

Sizes (L{RECEIVE_BUFFER}, L{SEND_BUFFER}) are those a Linux 6 loopback
connection shows with the default C{tcp_rmem}/C{tcp_wmem} when the receiver
does not read; a network can be given others.
"""

from __future__ import annotations

import errno
import os
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet.address import IPv4Address

if TYPE_CHECKING:
    from poetry.testing._clock import Scheduler

__all__ = [
    "EPOLLERR",
    "EPOLLHUP",
    "EPOLLIN",
    "EPOLLOUT",
    "RECEIVE_BUFFER",
    "SEND_BUFFER",
    "Carrier",
    "Owner",
    "Socket",
    "os_error",
    "tcp_address",
]

EPOLLIN = 0x001
EPOLLOUT = 0x004
EPOLLERR = 0x008
EPOLLHUP = 0x010

RECEIVE_BUFFER = 113_152
"""
The bytes a receiver that does not read takes before its sender's bytes wait
in the sender's send queue (Linux 6 loopback, default C{tcp_rmem}).
"""

SEND_BUFFER = 4_130_816
"""
The bytes a sender's kernel holds for a peer whose receive queue is full
before C{send} returns C{EAGAIN} (Linux 6 loopback, default C{tcp_wmem}).
"""


_new = object.__new__


def tcp_address(host: str, port: int) -> IPv4Address:
    """
    C{IPv4Address("TCP", host, port)}, made without re-checking the type
    (the attrs validator costs more than the rest of making it).
    """
    address = _new(IPv4Address)
    address.type = "TCP"
    address.host = host
    address.port = port
    return address


def os_error(code: int) -> OSError:
    """
    C{OSError(code, strerror(code))}.
    """
    return OSError(code, os.strerror(code))


class Carrier(Protocol):
    """
    What a socket needs of a link (L{poetry.testing._link.Link}).
    """

    plain: bool
    merging: bool

    def room(self) -> int: ...

    def in_flight(self) -> int: ...

    def carry(self, data: bytes) -> None: ...

    def carry_fin(self) -> None: ...

    def carry_reset(self) -> None: ...

    def take(self, rq: deque[bytes], limit: int) -> bytes: ...


class Owner(Protocol):
    """
    What a socket wakes when its readiness may have changed: a transport or
    a listening port.
    """

    def _wake(self) -> None:
        """
        Readiness may have changed: look at the socket again (later).
        """


# Connection states (a small subset of TCP's, enough for what a user of
# the socket can observe).
CONNECTING = 1  # SYN sent, no answer yet
ESTABLISHED = 2
CLOSED = 3  # reset, or never connected


class Socket:
    """
    One end of an in-memory TCP connection, kernel side (see the module
    docstring).

    An end without an outbound link (L{outbound} is L{None}) delivers
    straight into the peer's receive queue: the plain, loopback path.  A
    link is put in only when conditions or faults concern that direction.

    @ivar local: C{(host, port)} of this end.
    @ivar remote: C{(host, port)} of the other end.
    @ivar peer: the other end's socket (L{None} until connected).
    @ivar outbound: the link carrying what this end sends, or L{None}.
    @ivar inbound: the link carrying what this end receives, or L{None}.
    @ivar owner: what to wake on readiness changes (L{None} until accepted
        or connected, and once closed).
    @ivar rq_len: the number of bytes received and not read.
    @ivar received_total: the number of bytes received so far.
    @ivar sq_len: the number of bytes accepted by C{send} and not yet moved
        into the peer's receive queue (or the link).
    @ivar err: the pending error (C{SO_ERROR}), 0 if none.
    @ivar fin: whether the peer's C{FIN} arrived (end-of-file).
    @ivar read_shut: whether nothing more can arrive (C{FIN} or C{RST}).
    @ivar write_shut: whether this end may send nothing more.
    @ivar closed: whether the descriptor was closed.
    @ivar active_close: whether this end sent its C{FIN} before receiving
        the peer's.
    """

    # Slots, each set when the socket is made: every read is a direct slot
    # access (an attribute missing from an instance and found on its class
    # costs the interpreter a slow lookup).
    __slots__ = (
        "__weakref__",
        "_fin_pending",
        "_loop",
        "_options",
        "_rq",
        "_sq",
        "active_close",
        "bound",
        "closed",
        "connect_reported",
        "connection_id",
        "connection_started",
        "err",
        "fin",
        "inbound",
        "local",
        "outbound",
        "owner",
        "peer",
        "peer_set",
        "read_shut",
        "receive_buffer",
        "received_total",
        "remote",
        "rq_len",
        "send_buffer",
        "side",
        "sq_len",
        "state",
        "write_shut",
    )

    owner: Owner | None
    peer: Socket | None
    outbound: Carrier | None
    inbound: Carrier | None
    _rq: deque[bytes] | None
    _sq: list[bytes] | None
    _options: dict[tuple[int, int], int] | None

    def __init__(
        self,
        loop: Scheduler,
        connection_id: int,
        side: str,
        local: tuple[str, int],
        remote: tuple[str, int],
        receive_buffer: int = RECEIVE_BUFFER,
        send_buffer: int = SEND_BUFFER,
    ) -> None:
        self._loop = loop
        self.connection_id = connection_id
        self.side = side
        self.local = local
        self.remote = remote
        self.receive_buffer = receive_buffer
        self.send_buffer = send_buffer
        self.owner = self.peer = self.outbound = self.inbound = None
        self._rq = self._sq = self._options = None
        self.state = ESTABLISHED
        self.rq_len = self.received_total = self.sq_len = self.err = 0
        self._fin_pending = self.fin = self.read_shut = self.write_shut = False
        self.closed = self.active_close = self.bound = False
        self.connect_reported = self.connection_started = self.peer_set = False

    def getsockopt(self, level: int, option: int) -> int:
        """
        The value last set for C{option} (0 if never set).
        """
        options = self._options
        return options.get((level, option), 0) if options else 0

    def setsockopt(self, level: int, option: int, value: int | bool) -> None:
        """
        Store an option (it changes nothing in memory).
        """
        if self._options is None:
            self._options = {}
        self._options[(level, option)] = int(value)

    def __repr__(self) -> str:
        return (
            f"<Socket #{self.connection_id} {self.side} {self.describe()} "
            f"unread={self.rq_len} unsent={self.sq_len}>"
        )

    def describe(self) -> str:
        """
        The kernel state in a few words, e.g. C{"established"},
        C{"FIN received, write side shut"}, C{"reset (ECONNRESET)"}.
        """
        if self.state == CLOSED:
            reason = f" ({errno.errorcode.get(self.err, self.err)})" if self.err else ""
            return "closed" + reason if self.closed else "reset" + reason
        parts = ["closed" if self.closed else "established"]
        if self.fin:
            parts.append("FIN received")
        if self.write_shut:
            parts.append("FIN queued" if self._fin_pending else "write side shut")
        return ", ".join(parts)

    # -- the system calls a transport makes ----------------------------------

    def send(self, data: Any) -> int:
        """
        Send as much of C{data} as fits: into the peer's receive queue (via
        the outbound link) and this end's send queue.

        @return: the number of bytes accepted (at least 1).
        @raise OSError: C{EAGAIN} when both queues are full; the pending
            error if there is one (it is consumed); C{EPIPE} once the write
            side is shut.
        """
        if self.err:
            code = self.err
            self.err = 0
            raise os_error(code)
        if self.write_shut:
            raise os_error(errno.EPIPE)
        if data.__class__ is not bytes:
            data = bytes(data)
        size = len(data)
        if not size:
            return 0
        if not self.sq_len:
            link = self.outbound
            if link is None:
                peer = self.peer
                assert peer is not None
                if peer.rq_len + size <= peer.receive_buffer:
                    # The usual case: it all fits in the peer's receive
                    # queue at once.
                    peer._arrive(data)
                    return size
            elif link.room() >= size:
                link.carry(data)
                return size
        room = self.send_buffer - self.sq_len
        if room <= 0:
            raise os_error(errno.EAGAIN)
        if size > room:
            data = data[:room]
            size = room
        if self._sq is None:
            self._sq = []
        self._sq.append(data)
        self.sq_len += size
        self.transmit()
        return size

    def recv(self, limit: int) -> bytes:
        """
        Take the next piece of received bytes (at most C{limit}; how much
        one read takes is the inbound link's chunking), or end-of-file.

        @return: bytes, or C{b""} at end-of-file.
        @raise OSError: C{EAGAIN} if nothing is there yet; the pending error
            (consumed) once the queued bytes are read.
        """
        rq = self._rq
        if rq:
            inbound = self.inbound
            first = rq[0]
            if (
                len(rq) == 1
                and len(first) <= limit
                and (inbound is None or inbound.merging)
            ):
                rq.clear()
                self.rq_len = 0
                data = first
            else:
                if inbound is None:
                    data = take_merged(rq, limit)
                else:
                    data = inbound.take(rq, limit)
                self.rq_len -= len(data)
            peer = self.peer
            if peer is not None and (peer.sq_len or peer._fin_pending):
                peer.transmit()
            return data
        if self.fin:
            return b""
        if self.err:
            code = self.err
            self.err = 0
            raise os_error(code)
        if self.read_shut:
            return b""
        raise os_error(errno.EAGAIN)

    def shutdown_write(self) -> None:
        """
        C{shutdown(SHUT_WR)}: queue a C{FIN} behind the bytes not sent yet.

        @raise OSError: C{ENOTCONN} if the socket is not connected yet.
        """
        if self.write_shut:
            return
        state = self.state
        if state != ESTABLISHED:
            if state == CONNECTING:
                raise os_error(errno.ENOTCONN)
            return
        self.write_shut = True
        self._fin_pending = True
        self.transmit()

    def close(self, linger_zero: bool = False) -> None:
        """
        C{close()}: release the descriptor.  With C{linger_zero} (the
        C{SO_LINGER} (1, 0) of an abort), or with unread received bytes,
        reset the connection: drop the send queue and send a C{RST} (after
        the C{FIN} if one was already sent).  Otherwise the kernel goes on
        sending what is queued, then a C{FIN}.
        """
        if self.closed:
            return
        self.closed = True
        self.owner = None
        state = self.state
        if state != ESTABLISHED:
            self.state = CLOSED
            if self._rq:
                self._rq = None
                self.rq_len = 0
            return
        if linger_zero or self.rq_len:
            loop = self._loop
            unread = self.rq_len
            self._rq = None
            self.rq_len = 0
            dropped = self.sq_len
            self._sq = None
            self.sq_len = 0
            self._fin_pending = False
            self.state = CLOSED
            self.write_shut = self.read_shut = True
            loop._trace.extend(
                (
                    loop._now,
                    "rst",
                    self.connection_id,
                    self.side,
                    "abort" if linger_zero else f"closed with {unread} bytes unread",
                )
            )
            if dropped:
                loop._trace.extend(
                    (loop._now, "drop", self.connection_id, self.side, dropped)
                )
            self._send_reset()
            return
        self.read_shut = True
        if not self.write_shut:
            self.write_shut = True
            self._fin_pending = True
            self.transmit()

    def _send_reset(self) -> None:
        link = self.outbound
        if link is None:
            peer = self.peer
            if peer is not None:
                peer._arrive_reset()
        else:
            link.carry_reset()

    # -- what the link delivers ----------------------------------------------

    def transmit(self) -> None:
        """
        Move queued bytes (then a pending C{FIN}) onto the outbound link as
        far as the peer's receive queue has room.
        """
        link = self.outbound
        peer = self.peer
        assert peer is not None
        sq = self._sq
        while sq:
            room = peer.receive_buffer - peer.rq_len if link is None else link.room()
            if room <= 0:
                return
            first = sq[0]
            if len(first) <= room:
                del sq[0]
                self.sq_len -= len(first)
            else:
                sq[0] = first[room:]
                self.sq_len -= room
                first = first[:room]
            if link is None:
                peer._arrive(first)
            else:
                link.carry(first)
            if self.sq_len and sq is not self._sq:
                # The connection was reset meanwhile.
                return
        if self._fin_pending:
            self._fin_pending = False
            if not self.fin:
                self.active_close = True
            loop = self._loop
            loop._trace.extend((loop._now, "fin", self.connection_id, self.side, None))
            if link is None:
                peer._arrive_fin()
            else:
                link.carry_fin()
        owner = self.owner
        if owner is not None and not self.sq_len:
            owner._wake()

    def _arrive(self, data: bytes) -> None:
        """
        Bytes arrived from the peer.
        """
        if self.state != ESTABLISHED or self.closed:
            # Nobody will read them: answer with a reset.
            self.state = CLOSED
            loop = self._loop
            loop._trace.extend(
                (
                    loop._now,
                    "rst",
                    self.connection_id,
                    self.side,
                    "data to a closed socket",
                )
            )
            self._send_reset()
            return
        rq = self._rq
        if rq is None:
            self._rq = deque((data,))
        else:
            rq.append(data)
        size = len(data)
        self.rq_len += size
        self.received_total += size
        owner = self.owner
        if owner is not None:
            owner._wake()

    def _forget_received(self, count: int) -> int:
        """
        Lose the last C{count} unread bytes of the receive queue (or as many
        as there are), as if they had never arrived.

        @return: the number of bytes lost.
        """
        rq = self._rq or deque()
        lost = 0
        while rq and lost < count:
            last = rq[-1]
            if len(last) <= count - lost:
                rq.pop()
                lost += len(last)
            else:
                keep = len(last) - (count - lost)
                rq[-1] = last[:keep]
                lost = count
        self.rq_len -= lost
        self.received_total -= lost
        return lost

    def _arrive_fin(self) -> None:
        """
        The peer's C{FIN} arrived: end-of-file after the queued bytes.
        """
        if self.state == CLOSED:
            return
        self.fin = True
        self.read_shut = True
        owner = self.owner
        if owner is not None:
            owner._wake()

    def _arrive_reset(self) -> None:
        """
        The peer's C{RST} arrived.
        """
        if self.state == CLOSED:
            return
        if self.closed:
            # An orderly-closed socket still sending: nothing to report.
            self.state = CLOSED
            self._sq = None
            self.sq_len = 0
            self._fin_pending = False
            return
        if self.state == CONNECTING:
            self.err = errno.ECONNREFUSED
        elif self.fin:
            self.err = errno.EPIPE
        else:
            self.err = errno.ECONNRESET
        self.state = CLOSED
        dropped = self.sq_len
        self._sq = None
        self.sq_len = 0
        self._fin_pending = False
        self.read_shut = self.write_shut = True
        loop = self._loop
        loop._trace.extend(
            (
                loop._now,
                "reset",
                self.connection_id,
                self.side,
                errno.errorcode.get(self.err, str(self.err)),
            )
        )
        if dropped:
            loop._trace.extend(
                (loop._now, "drop", self.connection_id, self.side, dropped)
            )
        owner = self.owner
        if owner is not None:
            owner._wake()

    # -- readiness -------------------------------------------------------------

    def poll(self) -> int:
        """
        The C{EPOLL*} events this socket shows now, as C{tcp_poll} computes
        them.
        """
        state = self.state
        if state == ESTABLISHED:
            if self.read_shut:
                mask = EPOLLHUP | EPOLLIN if self.write_shut else EPOLLIN
            else:
                mask = EPOLLIN if self._rq else 0
            # A shut write side polls writable, so that a writer learns of
            # it (its next send fails with EPIPE).
            if self.write_shut or self.sq_len < self.send_buffer:
                mask |= EPOLLOUT
        elif state == CLOSED:
            mask = EPOLLHUP | EPOLLIN | EPOLLOUT
        else:
            mask = 0
        if self.err:
            mask |= EPOLLERR
        return mask

    def readable(self) -> bool:
        """
        Whether a read would not block (C{EPOLLIN}).
        """
        return bool(self._rq) or self.read_shut or self.state == CLOSED

    def unread(self) -> int:
        """
        Bytes received and not read, plus bytes still in flight towards
        this end.
        """
        inbound = self.inbound
        return self.rq_len + (inbound.in_flight() if inbound is not None else 0)


def take_merged(rq: deque[bytes], limit: int) -> bytes:
    """
    Remove and return the arrived segments of C{rq}, joined, up to C{limit}
    bytes (a plain direction's read).
    """
    parts: list[bytes] = []
    total = 0
    while rq and total < limit:
        first = rq[0]
        room = limit - total
        if len(first) <= room:
            rq.popleft()
            parts.append(first)
            total += len(first)
        else:
            rq[0] = first[room:]
            parts.append(first[:room])
            total += room
    return parts[0] if len(parts) == 1 else b"".join(parts)
