"""
The two ends of an in-memory TCP connection (L{MemoryTransport}) and the
one-way pipes between them (L{Pipe}).

Model
=====
A connection has two transports (C{client} and C{server} side) and two
pipes, one per direction.  A pipe stands for the sender's socket buffer, the
wire and the receiver's socket buffer all at once: C{write()} appends to the
pipe at once and the pipe hands the bytes to the receiving protocol's
C{dataReceived} in a later I{step} of the network, by default exactly as
written (one C{dataReceived} per C{write}), in order.  A pipe also carries
the two control signals of TCP after the data: C{FIN} (the sender shut its
write side: the receiver sees end-of-file) and C{RST} (a reset: the receiver
loses the connection with L{ConnectionLost}).

The "unread" bytes of a pipe are those written but not yet delivered; the
writer's streaming producer is paused when they exceed the pipe's
C{high_water} mark and resumed when they fall to C{low_water}; a pull
producer is resumed whenever they fall to zero.

A pipe decides I{when} and I{in what pieces} queued bytes are delivered --
see L{Pipe.schedule} and L{Pipe.step}.  This plain pipe delivers one queued
write per step, as soon as the receiver reads; a direction with link
conditions or faults uses L{poetry.testing._link.LinkPipe} instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast
from zlib import crc32

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import (
    IConsumer,
    IHalfCloseableProtocol,
    ILoggingContext,
    IProducer,
    IProtocol,
    IPullProducer,
    IPushProducer,
    ITCPTransport,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

if TYPE_CHECKING:
    from poetry.testing._network import MemoryNetwork, _Connector

__all__ = ["DEFAULT_HIGH_WATER", "DEFAULT_LOW_WATER", "MemoryTransport", "Pipe"]

_log = Logger()

DEFAULT_HIGH_WATER = 64 * 1024
"""
A streaming producer is paused when more than this many bytes it wrote are
unread by the peer (the real reactor's C{bufferSize}).
"""

DEFAULT_LOW_WATER = 16 * 1024
"""
A paused streaming producer is resumed when its unread bytes fall to this
many or fewer.
"""

# The reason of every clean close, shared as the real reactor shares its
# end-of-file failure.
_CLOSED_CLEANLY = Failure(ConnectionDone())

# Write-side states of a transport.
_OPEN = 0
_SHUTTING = 1  # loseWriteConnection() called, FIN not yet sent
_SHUT = 2  # FIN sent: no more writes


def _half_closeable(protocol: object) -> IHalfCloseableProtocol | None:
    """
    C{protocol} if it provides L{IHalfCloseableProtocol}, else L{None}.
    """
    if IHalfCloseableProtocol.providedBy(protocol):
        return protocol
    return None


def _type_name(failure: Failure) -> str:
    """
    The name of the exception type of C{failure}.
    """
    return failure.type.__name__ if failure.type is not None else "?"


class _Signal:
    """
    A control signal queued in a pipe after the data.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


FIN = _Signal("FIN")
RST = _Signal("RST")


def _signal_blocked(destination: MemoryTransport) -> bool:
    """
    Whether C{destination} cannot take a C{FIN} or C{RST} now: it paused
    reading, is not connected, or is aborting -- an aborting side reads
    nothing more, not even the peer's FIN or RST (the real reactor makes
    C{doRead} a no-op), and its own abort step reports C{ConnectionAborted}.
    """
    return destination._paused or destination._aborting or not destination.connected


def _signal(destination: MemoryTransport, item: _Signal) -> None:
    """
    Hand a dequeued C{FIN} or C{RST} to C{destination}.
    """
    if item is FIN:
        destination._end_of_file()
    else:
        destination._reset_by_peer()


class Pipe:
    """
    One direction of a connection: the bytes C{source} wrote that
    C{destination} has not read yet, then possibly a C{FIN} or C{RST}.

    @ivar unread: the number of queued data bytes.
    @ivar closed: whether a C{FIN} or C{RST} was queued, or the pipe was
        discarded: later pushes are dropped.
    @ivar high_water: see L{DEFAULT_HIGH_WATER}.
    @ivar low_water: see L{DEFAULT_LOW_WATER}.
    """

    # Slots, as for MemoryTransport ("__dict__" for subclasses' state).
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_head",
        "_net",
        "_queue",
        "_scheduled",
        "closed",
        "connection_id",
        "destination",
        "high_water",
        "low_water",
        "source",
        "unread",
    )

    # The queue: pending items are _queue[_head:]; the list is emptied as
    # soon as everything was taken, so a non-empty list means work to do.
    _queue: list[Any] | None

    def __init__(
        self,
        net: MemoryNetwork,
        connection_id: int,
        source: MemoryTransport,
        destination: MemoryTransport,
    ) -> None:
        self._net = net
        self.connection_id = connection_id
        self.source = source
        self.destination = destination
        self.high_water = net.high_water
        self.low_water = net.low_water
        self.unread = 0
        self.closed = False
        self._scheduled = False
        self._queue = None
        self._head = 0

    def __repr__(self) -> str:
        return (
            f"<Pipe #{self.connection_id} {self.source.side}->"
            f"{self.destination.side} unread={self.unread}>"
        )

    def push(self, data: bytes) -> None:
        """
        Queue C{data} (non-empty bytes) for delivery.
        """
        net = self._net
        source = self.source
        if self.closed:
            net._trace.extend(
                (net._now, "drop", self.connection_id, source.side, len(data))
            )
            return
        queue = self._queue
        if queue is None:
            self._queue = [data]
        else:
            queue.append(data)
        unread = self.unread = self.unread + len(data)
        if net.trace_checksums:
            net._trace.extend(
                (
                    net._now,
                    "write",
                    self.connection_id,
                    source.side,
                    f"{len(data)} bytes, crc32 {crc32(data):08x}",
                )
            )
        else:
            net._trace.extend(
                (net._now, "write", self.connection_id, source.side, len(data))
            )
        if not self._scheduled:
            self._scheduled = True
            net._ready.append(self)
        if (
            unread > self.high_water
            and source.producer is not None
            and source.streamingProducer
            and not source.producerPaused
        ):
            source.producerPaused = True
            net._trace.extend(
                (net._now, "pause-producer", self.connection_id, source.side, None)
            )
            cast(IPushProducer, source.producer).pauseProducing()

    def finish(self) -> None:
        """
        Queue a C{FIN} after the queued data.
        """
        if self.closed:
            return
        self.closed = True
        self._put(FIN)

    def reset(self) -> None:
        """
        Drop the queued data and queue a C{RST}.
        """
        if self.destination.disconnected:
            self.discard()
            return
        if self._queue and self._queue[-1] is RST:
            return
        self.discard()
        self._put(RST)

    def _put(self, signal: _Signal) -> None:
        queue = self._queue
        if queue is None:
            self._queue = [signal]
        else:
            queue.append(signal)
        # schedule(), inlined: the queue is not empty now.  (LinkPipe has
        # its own _put.)
        if not self._scheduled:
            self._scheduled = True
            self._net._ready.append(self)

    def discard(self) -> int:
        """
        Drop everything queued and close the pipe.

        @return: the number of data bytes dropped.
        """
        dropped = self.unread
        if self._queue:
            self._queue.clear()
            self._head = 0
        self.unread = 0
        self.closed = True
        if dropped:
            net = self._net
            net._trace.extend(
                (net._now, "drop", self.connection_id, self.destination.side, dropped)
            )
        return dropped

    def schedule(self) -> None:
        """
        Make sure a step will look at this pipe.  Called whenever something
        is queued or the destination starts reading again.
        """
        if not self._scheduled and self._queue:
            self._scheduled = True
            self._net._ready.append(self)

    def step(self) -> None:
        """
        Deliver the next queued item, if the destination can take it: data
        when it is reading, a signal when it has not paused reading.
        """
        self._scheduled = False
        queue = self._queue
        if not queue:
            return
        destination = self.destination
        head = self._head
        item = queue[head]
        if item.__class__ is bytes:
            if not destination._receiving:
                return
            if head + 1 == len(queue):
                queue.clear()
                self._head = 0
            else:
                self._take(queue, head)
            size = len(item)
            self.unread -= size
            net = self._net
            net._moved += size
            net._trace.extend(
                (net._now, "deliver", self.connection_id, destination.side, size)
            )
            try:
                # A receiving transport always has a protocol.
                destination.protocol.dataReceived(item)  # type: ignore[union-attr]
            except Exception:
                destination._callback_failed(Failure(), "dataReceived")
            if self.source.producer is not None:
                self._drained()
        else:
            if _signal_blocked(destination):
                return
            if head + 1 == len(queue):
                queue.clear()
                self._head = 0
            else:
                self._take(queue, head)
            _signal(destination, item)
        if self._queue and not self._scheduled:
            self._scheduled = True
            self._net._ready.append(self)

    # The ready queue calls the pipe itself: no bound method is allocated
    # per step (subclasses that override step() alias it again).
    __call__ = step

    def _take(self, queue: list[Any], head: int) -> None:
        """
        Remove the item at C{head}, the first pending one.
        """
        head += 1
        if head == len(queue):
            queue.clear()
            head = 0
        else:
            queue[head - 1] = None
            if head > 64 and 2 * head > len(queue):
                del queue[:head]
                head = 0
        self._head = head

    def _drained(self) -> None:
        """
        Resume the source's producer if the unread bytes fell far enough.
        """
        source = self.source
        producer = source.producer
        assert producer is not None
        if source.streamingProducer:
            if not source.producerPaused or self.unread > self.low_water:
                return
            source.producerPaused = False
            net = self._net
            net._trace.extend(
                (net._now, "resume-producer", self.connection_id, source.side, None)
            )
        elif self.unread:
            return
        try:
            cast(IPushProducer, producer).resumeProducing()
        except Exception:
            source._callback_failed(Failure(), "resumeProducing")
            return
        source._flush_if_closing()


@implementer(ITCPTransport, IPushProducer, IConsumer, ILoggingContext)
class MemoryTransport:
    """
    One end of an in-memory TCP connection of a L{MemoryNetwork}.

    Behaves like the real reactor's TCP transport (the contract suite in
    C{tests/tcp_contract.py} pins the differences): C{write} raises
    L{TypeError} for non-bytes and is ignored once the write side is shut or
    the connection is lost; C{loseConnection} stops reading, lets any
    registered pull (or paused streaming) producer finish, then closes --
    the local C{connectionLost(ConnectionDone)} in a later step, never inside
    the call; the peer reads the remaining data and then end-of-file;
    C{abortConnection} drops unsent data, the local side gets
    L{ConnectionAborted} and the peer L{ConnectionLost}, both later;
    C{loseWriteConnection} half-closes.  C{getHost()} raises
    L{AttributeError} once the connection is lost, as on real TCP;
    C{getPeer()} keeps working.

    Inspection helpers for tests: L{written}, L{connection_id}, L{side},
    L{unread_outgoing}, L{unread_incoming}, L{reading_paused} and the flags
    C{connected}, C{disconnecting}, C{disconnected}.

    @ivar connection_id: the id of the connection (shared by both ends and
        shown in the network's trace).
    @ivar side: C{"client"} or C{"server"}.
    @ivar protocol: the protocol connected to this end.
    @ivar connected: true from C{makeConnection} until C{connectionLost}.
    @ivar disconnecting: true once C{loseConnection} was called.
    @ivar disconnected: true once C{connectionLost} was called.
    @ivar producer: the registered producer, or L{None}.
    @ivar streamingProducer: whether it was registered as streaming.
    @ivar producerPaused: whether this transport paused it.
    """

    # Slots: one block of memory per transport, every attribute read a
    # direct slot access.  "__dict__" and "__weakref__" keep instances open
    # to extra attributes (e.g. a test patching a method) and weak
    # references, as before.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_aborting",
        "_connector",
        "_flush_scheduled",
        "_host",
        "_in",
        "_keep_alive",
        "_net",
        "_no_delay",
        "_out",
        "_paused",
        "_peer",
        "_read_shut",
        "_receiving",
        "_write_state",
        "_written",
        "connected",
        "connection_id",
        "disconnected",
        "disconnecting",
        "other",
        "producer",
        "producerPaused",
        "protocol",
        "side",
        "streamingProducer",
    )

    _in: Pipe
    _out: Pipe
    other: MemoryTransport
    protocol: IProtocol | None
    _connector: _Connector | None
    producer: IProducer | None
    _written: list[bytes] | None

    def __init__(
        self,
        net: MemoryNetwork,
        connection_id: int,
        side: str,
        host: IPv4Address,
        peer: IPv4Address,
    ) -> None:
        self._net = net
        self.connection_id = connection_id
        self.side = side
        self._host = host
        self._peer = peer
        self.protocol = None
        self._connector = None
        self.connected = False
        self.disconnecting = False
        self.disconnected = False
        self._aborting = False
        self._paused = False
        self._read_shut = False
        self._receiving = False
        self._write_state = _OPEN
        self._flush_scheduled = False
        self._no_delay = False
        self._keep_alive = False
        self.producer = None
        self.streamingProducer = False
        self.producerPaused = False
        self._written = None

    def __repr__(self) -> str:
        return (
            f"<MemoryTransport #{self.connection_id} {self.side} "
            f"{self._host.host}:{self._host.port} -> "
            f"{self._peer.host}:{self._peer.port} {self.state()}>"
        )

    # Inspection

    def written(self) -> bytes:
        """
        Every byte this side wrote and the network accepted (writes that
        were ignored because the write side was shut are not included).
        """
        return b"".join(self._written) if self._written is not None else b""

    def unread_outgoing(self) -> int:
        """
        The number of bytes this side wrote that the peer has not read yet.
        """
        return self._out.unread

    def unread_incoming(self) -> int:
        """
        The number of bytes the peer wrote that this side has not read yet.
        """
        return self._in.unread

    def reading_paused(self) -> bool:
        """
        Whether the protocol paused reading with L{pauseProducing}.
        """
        return self._paused

    def state(self) -> str:
        """
        A short description of this side's state, e.g. C{"connected"},
        C{"disconnecting, waiting for producer"}, C{"half-closed (write)"},
        C{"closed"}.
        """
        if self.disconnected:
            return "closed"
        if not self.connected:
            return "not connected"
        parts = ["disconnecting" if self.disconnecting else "connected"]
        if self._aborting:
            parts.append("aborting")
        if self._write_state == _SHUT:
            parts.append("write side shut")
        elif self._write_state == _SHUTTING:
            parts.append("shutting write side")
        if self._read_shut:
            parts.append("read side shut (peer sent FIN)")
        if self._paused:
            parts.append("reading paused")
        if self.producer is not None:
            kind = "streaming" if self.streamingProducer else "pull"
            paused = ", paused" if self.producerPaused else ""
            parts.append(f"{kind} producer registered{paused}")
        return ", ".join(parts)

    # ITransport

    def write(self, data: bytes) -> None:
        """
        Queue C{data} for the peer.

        @raise TypeError: if C{data} is not L{bytes}.
        """
        if not isinstance(data, bytes):
            raise TypeError(f"Data must be bytes, not {type(data).__name__} ({data!r})")
        if not data:
            return
        if not self.connected or self._write_state == _SHUT or self._aborting:
            self._ignored_write(len(data))
            return
        written = self._written
        if written is None:
            self._written = [data]
        else:
            written.append(data)
        self._out.push(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """
        Write each chunk of C{data} in turn, as separate writes.

        @raise TypeError: if any chunk is not L{bytes} (then nothing is
            written).
        """
        chunks = list(data)
        for chunk in chunks:
            if not isinstance(chunk, bytes):
                raise TypeError(
                    f"Data must be bytes, not {type(chunk).__name__} ({chunk!r})"
                )
        for chunk in chunks:
            self.write(chunk)

    def _ignored_write(self, size: int) -> None:
        net = self._net
        net._trace.extend(
            (net._now, "write-ignored", self.connection_id, self.side, size)
        )

    def loseConnection(self) -> None:
        """
        Close the connection once everything written so far has been sent:
        stop reading, wait for a registered pull producer (or a paused
        streaming producer) to be unregistered, then call the protocol's
        C{connectionLost(ConnectionDone)} in a later step.  The peer reads
        the remaining data, then end-of-file.

        One exception, as on the real reactor: if the write side was already
        shut (C{loseWriteConnection} completed), C{connectionLost} runs
        inside this call.
        """
        if not self.connected or self.disconnecting or self._aborting:
            return
        net = self._net
        net._trace.extend((net._now, "close", self.connection_id, self.side, None))
        if self._write_state == _SHUT:
            # As the real reactor: with the write side already shut, nothing
            # is left to flush and connectionLost runs inside this call.
            self._lose(_CLOSED_CLEANLY)
            return
        self.disconnecting = True
        self._receiving = False
        if not self._flush_scheduled:
            self._flush_scheduled = True
            net._ready.append(self._flush)

    def getPeer(self) -> IPv4Address:
        """
        The address of the other end.
        """
        return self._peer

    def getHost(self) -> IPv4Address:
        """
        The address of this end.

        @raise AttributeError: once the connection is lost, as the real
            reactor does (its socket is gone).
        """
        if self.disconnected:
            raise AttributeError(
                f"getHost() of {self.side} transport #{self.connection_id} after "
                "the connection was lost: the real reactor raises here too "
                "(read the address in connectionMade)"
            )
        return self._host

    # ITCPTransport

    def loseWriteConnection(self) -> None:
        """
        Half-close: once everything written so far has been sent, shut the
        write side.  The peer then reads end-of-file (C{readConnectionLost}
        if its protocol provides L{IHalfCloseableProtocol}, else its
        connection is closed), and this side's protocol gets
        C{writeConnectionLost} if it provides L{IHalfCloseableProtocol}.
        """
        if not self.connected or self.disconnecting or self._write_state != _OPEN:
            return
        net = self._net
        net._trace.extend((net._now, "half-close", self.connection_id, self.side, None))
        self._write_state = _SHUTTING
        self._schedule_flush()

    def abortConnection(self) -> None:
        """
        Close at once, dropping unsent data: in a later step this side gets
        C{connectionLost(ConnectionAborted)} and the peer a reset
        (C{connectionLost(ConnectionLost)}).
        """
        if self.disconnected or self._aborting or not self.connected:
            return
        net = self._net
        net._trace.extend((net._now, "abort", self.connection_id, self.side, None))
        self._aborting = True
        self._receiving = False
        net._ready.append(self._abort_step)
        self._out.reset()

    def getTcpNoDelay(self) -> bool:
        """
        The value last given to L{setTcpNoDelay} (initially C{False}).
        """
        return self._no_delay

    def setTcpNoDelay(self, enabled: bool) -> None:
        """
        Store C{enabled}; it changes nothing in memory.
        """
        self._no_delay = bool(enabled)

    def getTcpKeepAlive(self) -> bool:
        """
        The value last given to L{setTcpKeepAlive} (initially C{False}).
        """
        return self._keep_alive

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """
        Store C{enabled}; it changes nothing in memory.
        """
        self._keep_alive = bool(enabled)

    # IConsumer

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """
        Register C{producer}, as the real reactor does: a streaming producer
        is paused when the unread bytes pass the pipe's high-water mark and
        resumed at the low-water mark; a pull producer gets
        C{resumeProducing()} now and whenever the unread bytes fall to 0.
        On disconnection the producer gets C{stopProducing()}.

        @raise RuntimeError: if a producer is already registered.
        """
        if self.producer is not None:
            raise RuntimeError(
                f"Cannot register producer {producer}, because producer "
                f"{self.producer} was never unregistered."
            )
        if self.disconnected:
            producer.stopProducing()
            return
        self.producer = producer
        self.streamingProducer = bool(streaming)
        self.producerPaused = False
        if not streaming:
            cast(IPullProducer, producer).resumeProducing()

    def unregisterProducer(self) -> None:
        """
        Unregister the producer; a pending close or half-close proceeds.
        """
        self.producer = None
        self.producerPaused = False
        self._flush_if_closing()

    # IPushProducer: the protocol controls reading.

    def pauseProducing(self) -> None:
        """
        Stop delivering data to this side's protocol; bytes wait in the
        pipe (and so eventually pause the peer's producer).
        """
        if self.connected and not self._paused:
            self._paused = True
            self._receiving = False
            net = self._net
            net._trace.extend(
                (net._now, "pause-reading", self.connection_id, self.side, None)
            )

    def resumeProducing(self) -> None:
        """
        Resume deliveries paused by L{pauseProducing} (ignored once
        C{loseConnection} was called, as by the real reactor).
        """
        if self.connected and not self.disconnecting and self._paused:
            self._paused = False
            self._update_receiving()
            net = self._net
            net._trace.extend(
                (net._now, "resume-reading", self.connection_id, self.side, None)
            )
            self._in.schedule()

    def stopProducing(self) -> None:
        """
        Close the connection (C{loseConnection}).
        """
        self.loseConnection()

    # ILoggingContext

    def logPrefix(self) -> str:
        """
        C{"<ProtocolClass>,<side>,#<id>"}.
        """
        name = type(self.protocol).__name__ if self.protocol is not None else "-"
        return f"{name},{self.side},#{self.connection_id}"

    # Network side

    def _close_without_protocol(self) -> None:
        """
        The factory built no protocol: close this end at once; the peer
        sees end-of-file.
        """
        self.disconnected = True
        self._out.finish()
        self._in.discard()
        self._net._side_closed(self)

    def _update_receiving(self) -> None:
        self._receiving = self.connected and not (
            self._paused or self.disconnecting or self._read_shut or self._aborting
        )

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._net._ready.append(self._flush)

    def _flush_if_closing(self) -> None:
        if self.connected and (self.disconnecting or self._write_state == _SHUTTING):
            self._schedule_flush()

    def _flush(self) -> None:
        """
        A close or half-close is pending and everything written before it
        has been sent: carry it out, unless a producer must finish first.
        """
        self._flush_scheduled = False
        if not self.connected or self._aborting:
            return
        if self.producer is not None and (
            not self.streamingProducer or self.producerPaused
        ):
            # Wait for unregisterProducer() or for the producer to resume.
            return
        if self.disconnecting:
            self._lose(_CLOSED_CLEANLY)
        elif self._write_state == _SHUTTING:
            self._write_state = _SHUT
            self._out.finish()
            half = _half_closeable(self.protocol)
            if half is not None:
                try:
                    half.writeConnectionLost()
                except Exception:
                    self._callback_failed(Failure(), "writeConnectionLost")

    def _abort_step(self) -> None:
        self._lose(Failure(ConnectionAborted()))

    def _end_of_file(self) -> None:
        """
        The peer's FIN arrived.
        """
        if self.disconnecting or self._read_shut:
            return
        net = self._net
        net._trace.extend((net._now, "eof", self.connection_id, self.side, None))
        protocol: object = self.protocol
        if not IHalfCloseableProtocol.providedBy(protocol):
            self._lose(_CLOSED_CLEANLY)
            return
        half = protocol
        self._read_shut = True
        self._receiving = False
        try:
            half.readConnectionLost()
        except Exception:
            self._callback_failed(Failure(), "readConnectionLost")

    def _reset_by_peer(self) -> None:
        """
        The peer's RST arrived.
        """
        net = self._net
        net._trace.extend((net._now, "reset", self.connection_id, self.side, None))
        self._lose(Failure(ConnectionLost()))

    def _callback_failed(self, failure: Failure, what: str) -> None:
        """
        A protocol (or producer) callback raised: log the error, as the real
        reactor does (trial fails the test), and lose the connection with it.
        """
        net = self._net
        net._trace.extend(
            (
                net._now,
                "error",
                self.connection_id,
                self.side,
                f"{what} raised {_type_name(failure)}: {failure.getErrorMessage()}",
            )
        )
        _log.failure(
            "{what} of {protocol} on the {side} side of connection #{id} "
            "raised; closing that connection (as the real reactor does)",
            failure=failure,
            what=what,
            protocol=self.protocol,
            side=self.side,
            id=self.connection_id,
        )
        if self.connected:
            self._lose(failure)

    def _lose(self, reason: Failure) -> None:
        """
        This side's socket is closed: tell the peer (FIN, or RST if it had
        sent bytes this side never read), stop the producer and call
        C{connectionLost(reason)}.
        """
        if self.disconnected:
            return
        net = self._net
        self.connected = False
        self.disconnected = True
        self._receiving = False
        net._trace.extend(
            (
                net._now,
                "connection-lost",
                self.connection_id,
                self.side,
                reason.type.__name__ if reason.type is not None else "?",
            )
        )
        incoming = self._in
        unread = incoming.discard() if incoming._queue else 0
        incoming.closed = True
        out = self._out
        if self.other.disconnected:
            if out._queue:
                out.discard()
            out.closed = True
        elif not out.closed:
            if unread:
                # Closing a socket with unread data resets the connection.
                out.reset()
            else:
                out.finish()
        producer = self.producer
        if producer is not None:
            self.producer = None
            try:
                producer.stopProducing()
            except Exception:
                self._callback_failed(Failure(), "stopProducing")
        protocol = self.protocol
        if protocol is not None:
            try:
                protocol.connectionLost(reason)
            except Exception:
                self._callback_failed(Failure(), "connectionLost")
        connector = self._connector
        if connector is not None:
            connector._connection_lost(reason)
        net._side_closed(self)
