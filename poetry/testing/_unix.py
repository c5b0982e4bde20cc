"""
UNIX stream sockets: another binding of the same layers.  A UNIX connection
is two L{MemoryTransport}s over two kernel sockets joined by links, as a TCP
one is; what differs is what the real stack does differently, each
difference checked against the real reactor by the differential oracle
(C{tests/oracle/scenarios_unix.py}):

  - the kernel socket (L{UnixSocket}, an C{AF_UNIX} C{SOCK_STREAM} socket
    of Linux): bytes go straight into the peer's receive queue, which holds
    what the sender's C{SO_SNDBUF} (L{UNIX_BUFFER}) allows; the socket polls
    writable only while at most a quarter of that is unread (so a writer to
    a peer that does not read stalls after a single large send); there is no
    C{RST}: C{SO_LINGER} is ignored (an abort with nothing unread is an
    orderly end for the peer), a close with unread input or of a connection
    never accepted makes the peer's next read fail with C{ECONNRESET}, and
    writing to a closed peer fails at once with C{EPIPE};
  - Twisted's classes over it, mirroring C{twisted.internet.unix}:
    L{UNIXListeningPort} (C{unix.Port}: the factory starts before the path is
    bound; C{wantPID} takes a lock file), L{UNIXServerTransport}
    (C{unix.Server}), L{UNIXClientTransport} (C{unix.Client}: C{connect()}
    completes at once, so the client's C{connectionMade} comes before the
    server accepts; C{checkPID}) and L{UNIXConnector} (Twisted's own
    C{unix.Connector}); their addresses are L{UNIXAddress}es as the real
    reactor reports them;
  - the namespace: paths live in the network's
    L{PathTable<poetry.testing._ports.PathTable>}; nothing is created on
    disk.

Not modelled: passing file descriptors (C{IUNIXTransport.sendFileDescriptor};
the transports do not provide L{twisted.internet.interfaces.IUNIXTransport}),
UNIX datagram sockets, file modes (C{mode} is kept, not applied).
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, Any, cast

from twisted.internet import unix
from twisted.internet.address import UNIXAddress
from twisted.internet.error import BadFileError, CannotListenError
from twisted.internet.interfaces import IProtocolFactory
from twisted.logger import Logger

from poetry.testing._connect import ClientTransport, Connector, TCPStack
from poetry.testing._ports import ListeningPort, ListeningSocket
from poetry.testing._socket import (
    CLOSED,
    CONNECTING,
    EPOLLERR,
    EPOLLHUP,
    EPOLLIN,
    EPOLLOUT,
    ESTABLISHED,
    Socket,
    os_error,
)
from poetry.testing._transport import MemoryTransport, ServerTransport

if TYPE_CHECKING:
    from poetry.testing._clock import Scheduler
    from poetry.testing._ports import Stack

__all__ = [
    "UNIX_BUFFER",
    "UNIXClientTransport",
    "UNIXConnector",
    "UNIXListeningPort",
    "UNIXServerTransport",
    "UnixSocket",
    "UnixStackView",
]

_log = Logger()

UNIX_BUFFER = 212_992
"""
The bytes a UNIX socket may have sent and the peer not read yet: its
C{SO_SNDBUF} (Linux's default C{net.core.wmem_default}).
"""

UNIX_WRITABLE = UNIX_BUFFER // 4
"""
A UNIX socket polls writable while at most this many bytes it sent are
unread (Linux's C{unix_writable}: a quarter of C{SO_SNDBUF}).
"""

_UNNAMED = UNIXAddress(None)


def describe_path(path: str) -> str:
    """
    C{unix:PATH}, or C{unix:(unnamed)} for a socket bound to no path.
    """
    return f"unix:{path}" if path else "unix:(unnamed)"


class UnixSocket(Socket):
    """
    One end of a UNIX stream connection, kernel side: a L{Socket} with the
    differences of C{AF_UNIX} (see the module docstring).  Its receive
    queue's size is the peer's C{SO_SNDBUF}; it has no send queue of its
    own.
    """

    __slots__ = ()

    def send(self, data: Any) -> int:
        """
        Put as much of C{data} as the peer may still take in its receive
        queue.

        @raise OSError: C{EPIPE} if the peer is closed (or this end's write
            side shut); C{EAGAIN} if nothing fits; the pending error.
        """
        if not self.err and not self.write_shut:
            peer = self.peer
            if peer is not None:
                if peer.closed:
                    raise os_error(errno.EPIPE)
                room = peer.receive_buffer - peer.unread()
                if room <= 0:
                    raise os_error(errno.EAGAIN)
                if len(data) > room:
                    data = data[:room]
        return super().send(data)

    def recv(self, limit: int) -> bytes:
        """
        As L{Socket.recv}, except that a pending error (the peer closed with
        input unread) is reported before end-of-file, as
        C{unix_stream_read_generic} does; the peer's owner is woken when this
        read makes the peer writable again.
        """
        if self.err and not self._rq:
            code = self.err
            self.err = 0
            raise os_error(code)
        before = self.unread()
        data = super().recv(limit)
        if data and before > UNIX_WRITABLE >= self.unread():
            peer = self.peer
            if peer is not None and peer.owner is not None:
                peer.owner._wake()
        return data

    def _arrive_reset(self) -> None:
        """
        The peer was closed with input unread (or never accepted): the next
        read fails with C{ECONNRESET} (a UNIX socket has no C{EPIPE} for it,
        whether or not end-of-file arrived before).
        """
        super()._arrive_reset()
        if self.err == errno.EPIPE:
            self.err = errno.ECONNRESET

    def close(self, linger_zero: bool = False) -> None:
        """
        C{close()}: C{SO_LINGER} has no effect on a UNIX socket -- the peer
        is reset (its next read fails with C{ECONNRESET}) only if this end
        has unread input or was never accepted (an "embryo" closed with its
        listening socket); otherwise the peer reads what was sent, then
        end-of-file.
        """
        super().close(
            linger_zero=bool(self.rq_len) or (linger_zero and self.owner is None)
        )

    def poll(self) -> int:
        """
        The C{EPOLL*} events of C{unix_poll}: writable while at most
        L{UNIX_WRITABLE} bytes sent are unread (or once the peer is gone); an
        unconnected socket (after a C{connect()} that returned C{EAGAIN})
        polls hung up and writable.
        """
        state = self.state
        if state == ESTABLISHED:
            if self.read_shut:
                mask = EPOLLHUP | EPOLLIN if self.write_shut else EPOLLIN
            else:
                mask = EPOLLIN if self._rq else 0
            peer = self.peer
            if (
                self.write_shut
                or peer is None
                or peer.closed
                or peer.unread() <= UNIX_WRITABLE
            ):
                mask |= EPOLLOUT
        elif state == CLOSED:
            mask = EPOLLHUP | EPOLLIN | EPOLLOUT
        else:
            # Unconnected (a UNIX connect() never stays in progress).
            mask = EPOLLHUP | EPOLLOUT
        if self.err:
            mask |= EPOLLERR
        return mask


class _NoTCPOptions:
    """
    The TCP options of a UNIX transport: C{TCP_NODELAY} does not exist
    (C{SO_KEEPALIVE} is stored as on any socket).
    """

    __slots__ = ()

    def getTcpNoDelay(self) -> bool:
        """
        L{False}: there is no C{TCP_NODELAY} on a UNIX socket.
        """
        return False

    def setTcpNoDelay(self, enabled: bool) -> None:
        """
        Ignored, as on the real reactor.
        """


class UNIXServerTransport(_NoTCPOptions, ServerTransport):
    """
    The server end of a UNIX connection (C{unix.Server}): C{getHost()} is
    the listening path, C{getPeer()} the client's unnamed address
    (C{UNIXAddress(None)}), the TCP options do not exist.
    """

    __slots__ = ()

    def getPeer(self) -> UNIXAddress:
        """
        The client's address: unnamed (a C{connectUNIX} client is bound to
        no path), still known once the connection is lost.
        """
        return _UNNAMED

    def logPrefix(self) -> str:
        """
        C{"<Protocol's log prefix>,<session>,"} (the client has no name), as
        the real reactor's C{unix.Server}.
        """
        return f"{self._protocol_prefix()},{self.sessionno},"


class UNIXListeningPort(ListeningPort[UNIXAddress]):
    """
    A listening UNIX port of a
    L{MemoryNetwork<poetry.testing.MemoryNetwork>}, as the real reactor's
    C{unix.Port}: the factory's C{doStart} runs before the path is bound (a
    taken path raises L{CannotListenError} after it); with C{wantPID} it
    first takes the lock file C{path.lock}; C{stopListening} unlinks the
    path and releases the lock; C{port} is 0 (as C{unix.Port}'s); what it
    accepts is reported with the addresses C{unix.Port} gives.

    @ivar mode: the file mode asked for (kept: no file is made).
    @ivar wantPID: whether it holds a lock file.
    """

    def __init__(
        self,
        stack: TCPStack,
        loop: Scheduler,
        reactor: Any,
        fileName: str | bytes,
        factory: IProtocolFactory,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: int = 0,
    ) -> None:
        super().__init__(cast("Stack", stack), loop, reactor, 0, factory, backlog)
        address = UNIXAddress(fileName)
        assert address.name is not None
        self._bindPath: bytes = address.name
        self._path = os.fsdecode(address.name)
        self._paths = stack.paths
        self.mode = mode
        self.wantPID = wantPID
        self._locked = False
        self._ipv4 = False
        self._address_type = _accepted_address
        self._transport_class = UNIXServerTransport

    def __repr__(self) -> str:
        name = type(self.factory).__name__
        if self._socket is not None:
            return f"<MemoryNetwork port of {name} on {self._path!r}>"
        return f"<MemoryNetwork port of {name} (not listening)>"

    def startListening(self) -> None:
        """
        As C{unix.Port.startListening}: take the lock file (with
        C{wantPID}), start the factory, bind the path and listen.

        @raise CannotListenError: if the lock is held, the path is taken or
            too long.
        """
        path = self._bindPath
        _log.info(
            "{factory} starting on {path!r}",
            factory=type(self.factory).__name__,
            path=self._path,
        )
        paths = self._paths
        if self.wantPID:
            if not paths.lock(path + b".lock"):
                raise CannotListenError(None, path, "Cannot acquire lock")
            self._locked = True
        self.factory.doStart()
        loop = self._loop
        try:
            paths.bind(path)
        except OSError as e:
            loop._trace.extend(
                (loop._now, "listen-failed", None, "", describe_path(self._path))
            )
            raise CannotListenError(None, path, e) from None
        self._host = UNIXAddress(path)
        self._server_addresses = {}
        loop._trace.extend((loop._now, "listen", None, "", describe_path(self._path)))
        self._activate(ListeningSocket((self._path, 0), self.backlog))

    def _server_address(self, host: str) -> Any:
        return self._host

    def describe_end(self, local: tuple[str, int]) -> str:
        """
        C{unix:PATH}, or C{unix:(unnamed)} for a client's end.
        """
        return describe_path(local[0])

    def _logConnectionLostMsg(self) -> None:
        _log.info("(UNIX Port {path} Closed)", path=self._path)

    def connectionLost(self, reason: Any) -> None:
        """
        As C{unix.Port.connectionLost}: unlink the path, release the lock,
        then close as a TCP port does.
        """
        self._paths.unbind(self._bindPath)
        if self._locked:
            self._locked = False
            self._paths.unlock(self._bindPath + b".lock")
        super().connectionLost(reason)


def _accepted_address(host: str, port: int) -> UNIXAddress:
    """
    The address C{unix.Port} gives C{buildProtocol} for an accepted
    connection: the client's name as C{accept()} returns it (C{""} for an
    unnamed client).
    """
    return UNIXAddress(os.fsencode(host))


class UnixStackView:
    """
    The stream stack as a UNIX client end sees it: the same stack, whose
    C{connect_ex} is the UNIX C{connect()} (L{TCPStack.connect_unix}) --
    so that the TCP client's path has no test of the family.
    """

    def __init__(self, stack: TCPStack) -> None:
        self.stack = stack
        self.attempts = stack.attempts
        self.connect_ex = stack.connect_unix
        self.closed_attempt = stack.closed_attempt
        self.release = stack.release


class UNIXClientTransport(_NoTCPOptions, ClientTransport):
    """
    The client end of a UNIX connection (C{unix.Client}): C{connect()} is
    made in the next iteration and completes at once (then the protocol is
    built and connected in that same iteration) or fails (C{ENOENT} for a
    path nobody listens on); with C{checkPID}, a path without a lock file
    fails with L{BadFileError}.  C{getHost()} is the unnamed address (also
    once the connection is lost), C{getPeer()} the path.
    """

    __slots__ = ()

    def __init__(
        self,
        stack: UnixStackView,
        loop: Scheduler,
        reactor: Any,
        fileName: str | bytes,
        connector: UNIXConnector,
        checkPID: int,
    ) -> None:
        self._stack = cast(TCPStack, stack)
        connection_id = stack.stack.new_id()
        sock = UnixSocket(
            loop, connection_id, "client", ("", 0), ("", 0), UNIX_BUFFER, UNIX_BUFFER
        )
        sock.state = CONNECTING
        MemoryTransport.__init__(self, loop, sock, "client", None)
        # ClientTransport's connector, a unix.Connector here.
        self.connector = cast(Connector, connector)
        self.__dict__["reactor"] = reactor
        sock.owner = self
        name = UNIXAddress(fileName).name
        assert name is not None
        # unix.Client's addr and realAddress are the path, not a tuple.
        self.addr = self.realAddress = name  # type: ignore[assignment]
        self._requiresResolution = False
        # As _commonConnection.__init__: no protocol until connected.
        self.protocol = None  # type: ignore[assignment]  # None until made
        self._peer = UNIXAddress(name)
        loop._trace.extend(
            (loop._now, "connect", connection_id, "client", self.destination())
        )
        self._connecting = True
        if checkPID and not stack.stack.paths.is_locked(name + b".lock"):
            loop.callLater(0, self.failIfNotConnected, BadFileError(name))
        loop.callLater(0, self.doConnect)

    def __repr__(self) -> str:
        return (
            f"<MemoryNetwork UNIX client #{self.connection_id} to "
            f"{self.destination()} {self.state()}>"
        )

    def destination(self) -> str:
        """
        C{unix:PATH}.
        """
        return describe_path(os.fsdecode(cast(bytes, self.addr)))

    def getHost(self) -> UNIXAddress:
        """
        The client's address: unnamed, as C{unix.Client} reports it (even
        once the connection is lost).
        """
        return _UNNAMED


class UNIXConnector(unix.Connector):
    """
    The L{IConnector<twisted.internet.interfaces.IConnector>} of
    C{connectUNIX}: Twisted's own C{unix.Connector} (its state machine,
    timeout timer and factory callbacks), making a L{UNIXClientTransport}
    for each attempt.
    """

    def __init__(
        self,
        stack: TCPStack,
        loop: Scheduler,
        address: str | bytes,
        factory: Any,
        timeout: float,
        reactor: Any,
        checkPID: int,
    ) -> None:
        # unix.Connector.__init__ has no annotations.
        super().__init__(  # type: ignore[no-untyped-call]
            address, factory, timeout, reactor, checkPID
        )
        self._stack = UnixStackView(stack)
        self._loop = loop

    def connect(self) -> None:
        """
        Start connecting, as L{Connector.connect} does (the timeout a lazy
        call).

        @raise RuntimeError: unless disconnected.
        """
        Connector.connect(cast(Connector, self))

    def _makeTransport(self) -> Any:
        return UNIXClientTransport(
            self._stack, self._loop, self.reactor, self.address, self, self.checkPID
        )

    def __repr__(self) -> str:
        return f"<MemoryNetwork UNIX connector to {self.address!r} {self.state}>"
