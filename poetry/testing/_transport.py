"""
Twisted's side of an in-memory TCP connection: L{MemoryTransport}, the
transport a protocol talks to, over the kernel L{Socket} below it.

Its behaviour is that of Twisted's own C{tcp.Connection},
C{abstract.FileDescriptor} and the reactor's dispatch
(C{posixbase._doReadOrWrite}, C{_disconnectSelectable}), mirrored method
for method (the docstrings name the Twisted method each one mirrors) and
checked against the real reactor by the differential oracle
(C{tests/oracle}):

  - C{write} only buffers in user space; the bytes reach the socket in a
    later I{dispatch} of the transport (a reactor iteration seeing the
    socket writable), at most C{SEND_LIMIT} bytes per dispatch; a
    connection lost without a dispatch loses what is still buffered;
  - a streaming producer is paused whenever a write leaves more than
    C{bufferSize} bytes buffered, and resumed (as a pull producer is) when
    the buffer has been emptied into the socket;
  - C{loseConnection} stops reading and closes once the buffer is empty
    (and any registered pull or paused producer lets it); the socket is
    shut down (C{FIN}) and closed; C{abortConnection} closes in a later
    iteration with C{SO_LINGER} 0 (C{RST});
  - a read of end-of-file is C{readConnectionLost} (then C{connectionLost}
    unless the protocol is half-closeable); a failed read or write is
    C{ConnectionLost}; an exception from C{dataReceived} or any other
    callback the dispatch makes is logged and loses the connection with
    that exception; an exception from C{connectionLost} is logged;
  - C{getHost()}, the TCP options and C{getHandle()} fail with
    L{AttributeError} once the connection is lost (the socket is gone).

Readiness: a transport is I{registered} for reading and/or writing (the
reactor's reader and writer sets); the socket wakes it when its readiness
may have changed, and it is then dispatched in the next step of the
network, like an epoll event in the next reactor iteration.
"""

from __future__ import annotations

import errno
import socket as _stdlib_socket
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol, cast

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import (
    IConsumer,
    IHalfCloseableDescriptor,
    IHalfCloseableProtocol,
    ILoggingContext,
    IProducer,
    IProtocol,
    IPullProducer,
    IPushProducer,
    ISystemHandle,
    ITCPTransport,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.testing._socket import CONNECTING, EPOLLHUP, EPOLLIN, EPOLLOUT, Socket

if TYPE_CHECKING:
    from poetry.testing._clock import Scheduler

__all__ = [
    "BUFFER_SIZE",
    "DEFAULT_HIGH_WATER",
    "SEND_LIMIT",
    "ConnectionRecord",
    "MemoryTransport",
    "ServerTransport",
]

_log = Logger()

BUFFER_SIZE = 2**16
"""
The most bytes one read takes, and the user-space buffer size above which a
streaming producer is paused (Twisted's C{FileDescriptor.bufferSize}).
"""

SEND_LIMIT = 128 * 1024
"""
The most bytes one dispatch sends (Twisted's C{FileDescriptor.SEND_LIMIT}).
"""

DEFAULT_HIGH_WATER = BUFFER_SIZE
"""
A streaming producer is paused when more than this many bytes wait in the
transport's user-space buffer (the real reactor's C{bufferSize}).
"""

# As the real reactor shares them (posixbase's faildict).
_CONNECTION_DONE = ConnectionDone()
_CONNECTION_LOST = ConnectionLost()
_FAILURES = {
    ConnectionDone: Failure(ConnectionDone()),
    ConnectionLost: Failure(ConnectionLost()),
}
_CLOSED_CLEANLY = _FAILURES[ConnectionDone]

# How startTLS is done: installed by poetry.testing._tls (the layer above,
# which the network imports), so that this module does not import it.
_tls_layer: dict[str, Callable[[MemoryTransport, object, bool], None]] = {}

_NOT_IN = ~EPOLLIN
_NOT_OUT = ~EPOLLOUT


class ConnectionRecord(Protocol):
    """
    What a transport tells the connection it belongs to.
    """

    def set_server(self, transport: MemoryTransport) -> None:
        """
        C{transport} is the accepted server end.
        """

    def side_lost(self, transport: MemoryTransport) -> None:
        """
        C{transport}'s C{connectionLost} has run (or started).
        """


def _type_name(failure: Failure | BaseException) -> str:
    if isinstance(failure, Failure):
        return failure.type.__name__ if failure.type is not None else "?"
    return type(failure).__name__


@implementer(
    ITCPTransport,
    ISystemHandle,
    IPushProducer,
    IConsumer,
    ILoggingContext,
    IHalfCloseableDescriptor,
)
class MemoryTransport:
    """
    One end of an in-memory TCP connection, Twisted's side (see the module
    docstring for its behaviour, which is the real reactor's).

    Inspection helpers for tests: L{written}, L{connection_id}, L{side},
    L{unread_outgoing}, L{unread_incoming}, L{reading_paused}, L{state},
    L{other}, and Twisted's flags C{connected}, C{disconnecting},
    C{disconnected}.

    @ivar connection_id: the id of the connection (shared by both ends and
        shown in the network's trace).
    @ivar side: C{"client"} or C{"server"}.
    @ivar protocol: the protocol (deleted when the connection is lost, as
        on the real reactor).
    @ivar socket: the kernel socket (deleted when the connection is lost).
    @ivar other: the transport of the other end (L{None} until it exists).
    @ivar producer: the registered producer, or L{None}.
    @ivar streamingProducer: whether it was registered as streaming.
    @ivar producerPaused: whether this transport paused it.
    """

    # Slots, each set when the transport is made: every read is a direct
    # slot access.  "__dict__" and "__weakref__" keep instances open to extra
    # attributes (e.g. a test patching a method) and to weak references.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_aborting",
        "_connecting",
        "_entries",
        "_host",
        "_loop",
        "_named",
        "_paused",
        "_peer",
        "_queued",
        "_record",
        "_skip",
        "_snap",
        "_sock",
        "_tempDataBuffer",
        "_tempDataLen",
        "_writeDisconnected",
        "_writeDisconnecting",
        "_written",
        "connected",
        "connection_id",
        "dataBuffer",
        "disconnected",
        "disconnecting",
        "offset",
        "other",
        "producer",
        "producerPaused",
        "protocol",
        "reading",
        "side",
        "socket",
        "streamingProducer",
        "writing",
    )

    bufferSize = BUFFER_SIZE
    SEND_LIMIT = SEND_LIMIT

    #: Whether TLS was started (Twisted's C{ConnectionMixin.TLS}): true only
    #: on the class a transport takes in C{startTLS}, so that a plain
    #: connection's C{write} tests nothing.
    TLS = False

    protocol: IProtocol
    socket: Socket

    def __init__(
        self,
        loop: Scheduler,
        socket: Socket,
        side: str,
        record: ConnectionRecord | None,
    ) -> None:
        self._loop = loop
        self.socket = self._sock = socket
        self.side = side
        self.connection_id = socket.connection_id
        self._record = record
        self.connected = self.disconnected = self.disconnecting = 0
        self.dataBuffer = b""
        self.offset = self._tempDataLen = 0
        self._tempDataBuffer: list[bytes] = []
        self.reading = self.writing = self._queued = False
        self._snap = self._entries = self._skip = 0
        self._writeDisconnecting = self._writeDisconnected = False
        self._aborting = self._connecting = self._paused = False
        self.streamingProducer = self.producerPaused = False
        self.producer: IProducer | None = None
        self.other: MemoryTransport | None = None
        self._written: list[bytes] | None = None
        self._host: Any = None
        self._peer: Any = None
        self._named: object = None

    def __repr__(self) -> str:
        return (
            f"<MemoryTransport #{self.connection_id} {self.side} "
            f"{self._describe_address(self._host)} -> "
            f"{self._describe_address(self._peer)} {self.state()}>"
        )

    @staticmethod
    def _describe_address(address: Any) -> str:
        host = getattr(address, "host", None)
        port = getattr(address, "port", None)
        if host is None:
            return repr(address)
        return f"{host}:{port}"

    # -- inspection ------------------------------------------------------------

    def written(self) -> bytes:
        """
        Every byte the protocol wrote while the transport accepted writes
        (writes after the write side was shut or the connection was lost are
        not included); whether they reached the peer is another matter.
        """
        return b"".join(self._written) if self._written is not None else b""

    def _buffered(self) -> int:
        return len(self.dataBuffer) - self.offset + self._tempDataLen

    def unread_outgoing(self) -> int:
        """
        The bytes this side wrote that the peer has not read yet: in this
        transport's buffer, in its socket's send queue, in flight and in the
        peer's receive queue.
        """
        total = self._buffered()
        sock = self._sock
        total += sock.sq_len
        peer = sock.peer
        if peer is not None:
            total += peer.unread()
        return total

    def unread_incoming(self) -> int:
        """
        The bytes the peer wrote that this side has not read yet.
        """
        other = self.other
        return other.unread_outgoing() if other is not None else 0

    def reading_paused(self) -> bool:
        """
        Whether the protocol paused reading with L{pauseProducing}.
        """
        return self._paused

    def state(self) -> str:
        """
        A short description of this side's state, e.g. C{"connected"},
        C{"disconnecting, 12 bytes buffered"}, C{"closed"}.
        """
        if self.disconnected:
            return "closed"
        if self._connecting:
            return "connecting"
        if not self.connected:
            return "not connected"
        parts = ["disconnecting" if self.disconnecting else "connected"]
        if self._aborting:
            parts.append("aborting")
        if self._writeDisconnected:
            parts.append("write side shut")
        elif self._writeDisconnecting:
            parts.append("shutting write side")
        buffered = self._buffered()
        if buffered:
            parts.append(f"{buffered} bytes buffered")
        if not self.reading:
            parts.append("not reading")
        if self.producer is not None:
            kind = "streaming" if self.streamingProducer else "pull"
            paused = ", paused" if self.producerPaused else ""
            parts.append(f"{kind} producer registered{paused}")
        sock = getattr(self, "socket", None)
        if sock is not None:
            parts.append(f"socket: {sock.describe()}")
        return ", ".join(parts)

    # -- registration (the reactor's reader and writer sets) -------------------

    def startReading(self) -> None:
        """
        Be dispatched when the socket is readable.
        """
        if not self.reading:
            if not self.writing:
                self._registered()
            self.reading = True
            if not self._queued:
                self._wake()

    def stopReading(self) -> None:
        """
        Stop being dispatched for reading.
        """
        self.reading = False

    def startWriting(self) -> None:
        """
        Be dispatched when the socket is writable.
        """
        if not self.writing:
            if not self.reading:
                self._registered()
            self.writing = True
            if not self._queued:
                self._wake()

    def stopWriting(self) -> None:
        """
        Stop being dispatched for writing.
        """
        self.writing = False

    def _registered(self) -> None:
        """
        Registered again after being registered for nothing: the reactor
        removed the descriptor from epoll and adds it anew, so a place it
        had in the ready list is lost (it joins at the end when ready).
        """
        self._queued = False

    def _wake(self) -> None:
        """
        The socket's readiness, or this transport's registration, may have
        changed: join the ready queue if it is ready now for what it is
        registered for and not queued yet -- as the kernel links a
        descriptor into epoll's ready list when an event it waits for
        happens (or is there when it registers).
        """
        if not self._queued:
            reading = self.reading
            writing = self.writing
            if reading or writing:
                event = self._sock.poll()
                if not reading:
                    event &= _NOT_IN
                if not writing:
                    event &= _NOT_OUT
                if event:
                    self._queued = True
                    self._entries += 1
                    self._loop._ready.append(self)

    def _scan(self) -> bool:
        """
        The start of a pass, as C{epoll_wait} scans its ready list, for
        this transport's entry in the ready queue: note the events it shows
        now for what it is registered for (its dispatch in this pass uses
        them, whatever the steps before it do), and say whether it stays in
        the list for the next pass (level-triggered: while it shows events
        it keeps its place, ahead of what becomes ready during this pass);
        if it shows none it leaves the list until an event brings it back.
        An entry left behind when the transport lost its place (registered
        for nothing, then again) is skipped.

        @return: whether the caller should queue it again for the next pass.
        """
        entries = self._entries - 1
        self._entries = entries
        if entries or not self._queued:
            # A stale entry: a later one is the transport's place, or it
            # has none.
            self._skip += 1
            return False
        reading = self.reading
        writing = self.writing
        if reading or writing:
            event = self._sock.poll()
            if not reading:
                event &= _NOT_IN
            if not writing:
                event &= _NOT_OUT
            self._snap = event
            if event:
                self._entries = 1
                return True
        else:
            self._snap = 0
        self._queued = False
        return False

    def __call__(self) -> None:
        """
        One dispatch, as the reactor's C{_doReadOrWrite}: read and/or write
        as the events noted when the pass began (L{_scan}) say -- what other
        transports did since shows in the next pass --, unless this
        transport has been unregistered from both reading and writing since
        (C{epoll} forgets such a descriptor).  A transport that stopped
        reading but still writes is read once more, as there.
        """
        if self._skip:
            self._skip -= 1
            return
        event = self._snap
        self._snap = 0
        if not event or not (self.reading or self.writing):
            return
        try:
            why: Any = None
            inRead = False
            if event & EPOLLHUP and not event & EPOLLIN:
                if self.reading:
                    inRead = True
                    why = _CONNECTION_DONE
                else:
                    why = _CONNECTION_LOST
            else:
                try:
                    if event & EPOLLIN:
                        why = self.doRead()
                        inRead = True
                    if not why and event & EPOLLOUT:
                        why = self.doWrite()
                        inRead = False
                except BaseException as e:
                    why = e
                    self._log_callback_error(Failure())
            if why:
                self._disconnectSelectable(why, inRead)
        except BaseException:
            self._log_callback_error(Failure())

    def _log_callback_error(self, failure: Failure) -> None:
        loop = self._loop
        loop._trace.extend(
            (
                loop._now,
                "error",
                self.connection_id,
                self.side,
                f"{_type_name(failure)}: {failure.getErrorMessage()}",
            )
        )
        _log.failure(
            "Unhandled error on the {side} side of connection #{id} ({protocol}); "
            "the real reactor logs it too",
            failure=failure,
            side=self.side,
            id=self.connection_id,
            protocol=self.logPrefix(),
        )

    def _disconnectSelectable(self, why: Any, isRead: bool) -> None:
        """
        As the reactor's C{_disconnectSelectable}.
        """
        self.reading = False
        failure = _FAILURES.get(why.__class__)
        if failure is not None:
            if isRead and why.__class__ is ConnectionDone:
                self.readConnectionLost(failure)
            else:
                self.writing = False
                self.connectionLost(failure)
        else:
            self.writing = False
            self.connectionLost(Failure(why))

    # -- reading and writing (tcp.Connection, abstract.FileDescriptor) --------

    def doRead(self) -> Any:
        """
        As C{tcp.Connection.doRead}: one C{recv(bufferSize)}; end-of-file is
        C{ConnectionDone}, a failed read C{ConnectionLost}.
        """
        if self._aborting:
            return None
        if self._connecting:
            return self.doConnect()
        try:
            data = self.socket.recv(self.bufferSize)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                return None
            return _CONNECTION_LOST
        if not data:
            return _CONNECTION_DONE
        loop = self._loop
        size = len(data)
        loop._moved += size
        loop._trace.extend((loop._now, "deliver", self.connection_id, self.side, size))
        self.protocol.dataReceived(data)
        return None

    def doConnect(self) -> Any:
        """
        Overridden by the client end while it is connecting.
        """
        raise NotImplementedError()

    def writeSomeData(self, data: Any) -> Any:
        """
        As C{tcp.Connection.writeSomeData}: send up to C{SEND_LIMIT} bytes;
        C{EAGAIN} is 0 bytes, any other error C{ConnectionLost}.
        """
        if len(data) > self.SEND_LIMIT:
            data = memoryview(data)[: self.SEND_LIMIT]
        try:
            return self.socket.send(data)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.ENOBUFS):
                return 0
            return _CONNECTION_LOST

    def doWrite(self) -> Any:
        """
        As C{abstract.FileDescriptor.doWrite}: send what the buffer holds;
        once it is empty, stop writing and resume a pull (or paused
        streaming) producer, or carry out a pending close or half-close.
        """
        if self._aborting:
            return None
        if self._connecting:
            return self.doConnect()
        remaining = len(self.dataBuffer) - self.offset
        if remaining < self.SEND_LIMIT:
            if remaining > 0:
                self.dataBuffer = b"".join(
                    [memoryview(self.dataBuffer)[self.offset :], *self._tempDataBuffer]
                )
            else:
                self.dataBuffer = b"".join(self._tempDataBuffer)
            self.offset = 0
            self._tempDataBuffer = []
            self._tempDataLen = 0
        if self.offset:
            sent = self.writeSomeData(memoryview(self.dataBuffer)[self.offset :])
        else:
            sent = self.writeSomeData(self.dataBuffer)
        if sent.__class__ is not int:
            return sent
        if sent:
            loop = self._loop
            loop._trace.extend(
                (loop._now, "flush", self.connection_id, self.side, sent)
            )
        self.offset += sent
        if self.offset == len(self.dataBuffer) and not self._tempDataLen:
            self.dataBuffer = b""
            self.offset = 0
            self.writing = False
            producer = self.producer
            if producer is not None and (
                not self.streamingProducer or self.producerPaused
            ):
                self.producerPaused = False
                self._trace_producer("resume-producer")
                cast(IPushProducer, producer).resumeProducing()
            elif self.disconnecting:
                return _CONNECTION_DONE
            elif self._writeDisconnecting:
                self._writeDisconnected = True
                return self._closeWriteConnection()
        return None

    def _trace_producer(self, kind: str) -> None:
        loop = self._loop
        loop._trace.extend((loop._now, kind, self.connection_id, self.side, None))

    def write(self, data: bytes) -> None:
        """
        As C{abstract.FileDescriptor.write}: buffer C{data} (ignored once
        the write side is shut or the connection lost); pause a streaming
        producer if the buffer holds more than C{bufferSize} bytes.

        @raise TypeError: if C{data} is not L{bytes}.
        """
        if data.__class__ is not bytes and not isinstance(data, bytes):
            raise TypeError(f"Data must be bytes, not {type(data).__name__} ({data!r})")
        if not self.connected or self._writeDisconnected:
            if data:
                self._ignored(data)
            return
        if data:
            self._tempDataBuffer.append(data)
            self._tempDataLen += len(data)
            loop = self._loop
            self._record_write(loop, data)
            if self.producer is not None:
                self._maybePauseProducer()
            if not self.writing:
                self.startWriting()

    def _record_write(self, loop: Scheduler, data: bytes) -> None:
        """
        Keep C{data} (non-empty) among the bytes written, and trace it.
        """
        written = self._written
        if written is None:
            self._written = [data]
        else:
            written.append(data)
        if loop.trace_checksums:
            loop._trace.extend(
                (loop._now, "write", self.connection_id, self.side, _checksummed(data))
            )
        else:
            loop._trace.extend(
                (loop._now, "write", self.connection_id, self.side, len(data))
            )

    def _ignored(self, data: bytes) -> None:
        """
        Trace a write made once the write side is shut or the connection
        lost (its bytes go nowhere).
        """
        if data:
            loop = self._loop
            loop._trace.extend(
                (loop._now, "write-ignored", self.connection_id, self.side, len(data))
            )

    def _maybePauseProducer(self) -> None:
        """
        As C{abstract.FileDescriptor._maybePauseProducer}.
        """
        if (
            self.producer is not None
            and self.streamingProducer
            and len(self.dataBuffer) + self._tempDataLen > self.bufferSize
        ):
            self.producerPaused = True
            self._trace_producer("pause-producer")
            cast(IPushProducer, self.producer).pauseProducing()

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """
        As C{abstract.FileDescriptor.writeSequence}.

        @raise TypeError: if any item is not L{bytes} (then nothing is
            written).
        """
        for chunk in data:
            if not isinstance(chunk, bytes):
                raise TypeError(
                    f"Data must be bytes, not {type(chunk).__name__} ({chunk!r})"
                )
        if not self.connected or not data or self._writeDisconnected:
            for chunk in data:
                self._ignored(chunk)
            return
        # As there, the sequence is read twice: an iterator is used up by
        # the check above, and nothing is written.
        chunks = list(data)
        loop = self._loop
        for chunk in chunks:
            if chunk:
                self._record_write(loop, chunk)
        self._tempDataBuffer.extend(chunks)
        for chunk in chunks:
            self._tempDataLen += len(chunk)
        if self.producer is not None:
            # Once for the whole sequence, as FileDescriptor does.
            self._maybePauseProducer()
        self.startWriting()

    def loseConnection(self) -> None:
        """
        As C{abstract.FileDescriptor.loseConnection}: stop reading, and close
        once the buffer is empty -- or at once, inside this call, if the
        write side was already shut.
        """
        if self.connected and not self.disconnecting:
            loop = self._loop
            loop._trace.extend(
                (loop._now, "close", self.connection_id, self.side, None)
            )
            if self._writeDisconnected:
                self.reading = False
                self.writing = False
                self.connectionLost(_CLOSED_CLEANLY)
            else:
                self.reading = False
                self.startWriting()
                self.disconnecting = 1

    def loseWriteConnection(self) -> None:
        """
        As C{abstract.FileDescriptor.loseWriteConnection}: half-close once
        the buffer is empty.

        @raise ValueError: once the connection is lost, as on the real
            reactor, whose C{startWriting} then registers the closed
            descriptor (-1) with epoll.
        """
        self._writeDisconnecting = True
        if not hasattr(self, "socket"):
            # Forgotten by connectionLost, as the real one forgets fileno.
            raise ValueError("file descriptor cannot be a negative integer (-1)")
        loop = self._loop
        loop._trace.extend(
            (loop._now, "half-close", self.connection_id, self.side, None)
        )
        self.startWriting()

    def _closeWriteConnection(self) -> Any:
        """
        As C{tcp.Connection._closeWriteConnection}: C{shutdown(SHUT_WR)},
        then C{writeConnectionLost} for a half-closeable protocol.
        """
        with suppress(OSError):
            self.socket.shutdown_write()
        half = self.protocol
        if IHalfCloseableProtocol.providedBy(half):
            try:
                half.writeConnectionLost()
            except BaseException:
                failure = Failure()
                self._log_callback_error(failure)
                self.connectionLost(failure)
        return None

    def writeConnectionLost(self, reason: Failure) -> None:
        """
        As C{abstract.FileDescriptor.writeConnectionLost} (which the reactor
        never calls): C{connectionLost(reason)}.
        """
        self.connectionLost(reason)

    def readConnectionLost(self, reason: Failure) -> None:
        """
        As C{tcp.Connection.readConnectionLost}: C{readConnectionLost()} for
        a half-closeable protocol, else C{connectionLost(reason)}.
        """
        loop = self._loop
        loop._trace.extend((loop._now, "eof", self.connection_id, self.side, None))
        half = self.protocol
        if IHalfCloseableProtocol.providedBy(half):
            try:
                half.readConnectionLost()
            except BaseException:
                self._log_callback_error(Failure())
                self.connectionLost(Failure())
        else:
            self.connectionLost(reason)

    def connectionLost(self, reason: Failure) -> None:
        """
        As C{tcp.Connection.connectionLost}: once only; stop the producer,
        close the socket (orderly -- shutdown then close -- unless aborted),
        forget the socket and the protocol, then call the protocol's
        C{connectionLost(reason)}.
        """
        try:
            sock = self.socket
        except AttributeError:
            return
        self.disconnected = 1
        self.connected = 0
        loop = self._loop
        loop._trace.extend(
            (
                loop._now,
                "connection-lost",
                self.connection_id,
                self.side,
                _type_name(reason),
            )
        )
        producer = self.producer
        if producer is not None:
            producer.stopProducing()
            self.producer = None
        self.reading = False
        self.writing = False
        kind = reason.type
        orderly = kind is None or not issubclass(kind, ConnectionAborted)
        if orderly:
            # tcp.Connection ignores the OSError of shutdown(), which only a
            # socket still connecting (ENOTCONN) gives.
            if sock.state != CONNECTING:
                sock.shutdown_write()
            sock.close()
        else:
            sock.close(linger_zero=True)
        self._socket_closed(sock)
        record = self._record
        if record is not None:
            record.side_lost(self)
        protocol = self.protocol
        del self.protocol
        del self.socket
        protocol.connectionLost(reason)

    def _socket_closed(self, sock: Socket) -> None:
        """
        The socket was just closed by C{connectionLost} (the client end
        releases its port here).
        """

    def abortConnection(self) -> None:
        """
        As C{tcp._AbortingMixin.abortConnection}: stop reading and writing at
        once, and lose the connection with L{ConnectionAborted} in the next
        iteration (a C{callLater(0)}); the socket is closed with C{SO_LINGER}
        0, so the peer gets a C{RST}.
        """
        if self.disconnected or self._aborting:
            return
        loop = self._loop
        loop._trace.extend((loop._now, "abort", self.connection_id, self.side, None))
        self._aborting = True
        self.reading = False
        self.writing = False
        loop.callLater(0, self.connectionLost, Failure(ConnectionAborted()))

    # -- producers (abstract._ConsumerMixin, FileDescriptor) ------------------

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """
        As C{abstract._ConsumerMixin.registerProducer}: a pull producer is
        resumed at once; a producer registered after the connection was lost
        is stopped.

        @raise RuntimeError: if a producer is already registered.
        """
        if self.producer is not None:
            raise RuntimeError(
                f"Cannot register producer {producer}, because producer "
                f"{self.producer} was never unregistered."
            )
        if self.disconnected:
            producer.stopProducing()
        else:
            self.producer = producer
            self.streamingProducer = streaming
            if not streaming:
                cast(IPullProducer, producer).resumeProducing()

    def unregisterProducer(self) -> None:
        """
        As C{abstract._ConsumerMixin.unregisterProducer}: a pending
        C{loseConnection} proceeds (a pending half-close does not).
        """
        self.producer = None
        if self.connected and self.disconnecting:
            self.startWriting()

    def pauseProducing(self) -> None:
        """
        Stop reading (C{FileDescriptor.pauseProducing}).
        """
        if not self._paused:
            self._paused = True
            self._trace_producer("pause-reading")
        self.reading = False

    def resumeProducing(self) -> None:
        """
        Read again, unless the connection is closing
        (C{FileDescriptor.resumeProducing}).
        """
        if self._paused:
            self._paused = False
            self._trace_producer("resume-reading")
        if self.connected and not self.disconnecting:
            self.startReading()

    def stopProducing(self) -> None:
        """
        C{loseConnection()} (C{FileDescriptor.stopProducing}).
        """
        self.loseConnection()

    # -- TLS (twisted.internet._newtls) ----------------------------------------

    @property
    def _tlsClientDefault(self) -> bool:
        """
        Whether C{startTLS(ctx)} makes this end the TLS client: the client
        end (C{_newtls.ClientMixin} and C{ServerMixin}).
        """
        return self.side == "client"

    def startTLS(self, ctx: object, normal: bool = True) -> None:
        """
        As C{ITLSTransport.startTLS} on the real reactor
        (C{_newtls.ConnectionMixin.startTLS}): from now on, bytes written are
        encrypted and bytes read decrypted by Twisted's TLS protocol, with
        the network as its clock.  Plaintext already written is sent first,
        then the handshake; writes made before the handshake completes are
        sent once it has.  Then C{getHandle()} is the TLS connection
        (C{OpenSSL.SSL.Connection}) and C{getPeerCertificate()} the peer's
        certificate, and the transport provides C{ISSLTransport}, as on the
        real reactor.  See L{poetry.testing._tls.start_tls}.

        @param ctx: the TLS options (e.g.
            L{CertificateOptions<twisted.internet.ssl.CertificateOptions>},
            C{optionsForClientTLS(...)}).
        @param normal: L{True}: the client end is the TLS client; L{False}:
            the other way round.
        @raise ImportError: if pyOpenSSL is missing (naming the extra to
            install).
        """
        start = _tls_layer.get("start")
        if start is None:
            raise ImportError(
                "startTLS needs poetry.testing._tls (imported by the network)"
            )
        start(self, ctx, normal)

    # -- addresses, options, logging -------------------------------------------

    def getPeer(self) -> Any:
        """
        The address of the other end (still known after the connection is
        lost, as on the real reactor).
        """
        return self._peer

    def getHost(self) -> Any:
        """
        The address of this end.

        @raise AttributeError: once the connection is lost (the socket is
            gone, as on the real reactor).
        """
        if self.disconnected:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute 'socket': "
                "getHost() after the connection was lost (the real reactor "
                "raises here too; read the address in connectionMade)"
            )
        return self._host

    def getHandle(self) -> Socket:
        """
        The kernel socket (the real reactor returns its C{socket.socket}).
        """
        return self.socket

    def getTcpNoDelay(self) -> bool:
        """
        The C{TCP_NODELAY} option of the socket.
        """
        return bool(
            self.socket.getsockopt(
                _stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_NODELAY
            )
        )

    def setTcpNoDelay(self, enabled: bool) -> None:
        """
        Set C{TCP_NODELAY} (stored; it changes nothing in memory).
        """
        self.socket.setsockopt(
            _stdlib_socket.IPPROTO_TCP, _stdlib_socket.TCP_NODELAY, enabled
        )

    def getTcpKeepAlive(self) -> bool:
        """
        The C{SO_KEEPALIVE} option of the socket.
        """
        return bool(
            self.socket.getsockopt(
                _stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_KEEPALIVE
            )
        )

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """
        Set C{SO_KEEPALIVE} (stored; it changes nothing in memory).
        """
        self.socket.setsockopt(
            _stdlib_socket.SOL_SOCKET, _stdlib_socket.SO_KEEPALIVE, enabled
        )

    def logPrefix(self) -> str:
        """
        As the real reactor: C{"<Protocol>,<session>,<host>"} on the server
        end, C{"<Protocol>,client"} on the client end.
        """
        return "-"

    def _protocol_prefix(self) -> str:
        protocol = self._named
        if ILoggingContext.providedBy(protocol):
            return str(protocol.logPrefix())
        return type(protocol).__name__


def _checksummed(data: bytes) -> str:
    from zlib import crc32

    return f"{len(data)} bytes, crc32 {crc32(data):08x}"


class ServerTransport(MemoryTransport):
    """
    The server end of a connection, made by a listening port when it
    accepts (C{tcp.Server}).

    @ivar server: the listening port that accepted it.
    @ivar sessionno: the port's session number for it.
    """

    __slots__ = ("server", "sessionno")

    def __init__(
        self,
        loop: Scheduler,
        socket: Socket,
        protocol: IProtocol,
        host: IPv4Address,
        peer: IPv4Address,
        server: Any,
        sessionno: int,
        record: ConnectionRecord | None,
    ) -> None:
        super().__init__(loop, socket, "server", record)
        self.protocol = protocol
        self._named = protocol
        self._host = host
        self._peer = peer
        self.server = server
        self.sessionno = sessionno
        socket.owner = self
        self.reading = True
        self._wake()
        self.connected = 1

    def logPrefix(self) -> str:
        """
        C{"<Protocol's log prefix>,<session>,<client host>"}, as the real
        reactor's C{tcp.Server}.
        """
        return f"{self._protocol_prefix()},{self.sessionno},{self._peer.host}"
