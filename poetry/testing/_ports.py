"""
Ports: the table of bound addresses (L{PortTable}), the kernel's listening
socket with its accept queue (L{ListeningSocket}), and Twisted's listening
port over it (L{ListeningPort}, the real reactor's C{tcp.Port}).

Binding rules, as Linux applies them to Twisted's sockets (IPv4 and IPv6
share the port numbers):

  - a listening port (Twisted sets C{SO_REUSEADDR}) conflicts with another
    listener on the same port when both addresses are the same, when either
    is C{0.0.0.0} and the other an IPv4 address, and when either is C{::}
    (Twisted's IPv6 sockets are dual-stack: C{::} takes the port on every
    IPv4 and IPv6 address, as Linux does with C{bindv6only} 0) -- so
    C{127.0.0.1} and C{::1}, or C{0.0.0.0} and C{::1}, may share a port;
    and with a client socket bound to an address it covers on that port;
    not with a port in C{TIME_WAIT};
  - a client C{bindAddress} (no C{SO_REUSEADDR} unless its binding asks for
    it) also conflicts with a port in C{TIME_WAIT};
  - port 0 (a listener's, or a client's implicit bind) takes the next free
    port of the ephemeral range 32768-60999, counting up per local address,
    deterministically; C{EADDRNOTAVAIL} when the range is exhausted for
    that address.  An implicit client bind may reuse a port in C{TIME_WAIT}
    (Linux's C{tcp_tw_reuse} on loopback).

The UDP stack (L{poetry.testing._udp}) keeps a table of its own: UDP ports
are a namespace apart from TCP's, as on Linux.

C{TIME_WAIT} lasts 60 virtual seconds after the end that closed first saw
the other end's C{FIN}; it is a recorded expiry time, not a timer, so it
never keeps a test's network from being clean.
"""

from __future__ import annotations

import errno
from collections import deque
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from twisted.internet.abstract import isIPv6Address
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError, ConnectionDone
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.testing._names import host_text
from poetry.testing._socket import Socket, os_error, tcp_address
from poetry.testing._transport import ConnectionRecord, ServerTransport

if TYPE_CHECKING:
    from poetry.testing._clock import Scheduler

__all__ = [
    "ANY",
    "ANY6",
    "FIRST_PORT",
    "LAST_PORT",
    "TIME_WAIT_SECONDS",
    "UNIX_PATH_MAX",
    "ListeningPort",
    "ListeningSocket",
    "PathTable",
    "PortTable",
    "describe_ip",
    "ip_address",
    "tcp6_address",
]

_log = Logger()

# The type of a listening port's address (IPv4 or IPv6 for TCP, UNIX).
_Address = TypeVar("_Address")

ANY = "0.0.0.0"
ANY6 = "::"
_WILDCARDS = frozenset((ANY, ANY6))

_new = object.__new__


def tcp6_address(host: str, port: int) -> IPv6Address:
    """
    C{IPv6Address("TCP", host, port)} (flow info and scope 0, as the real
    reactor reports loopback addresses), made without re-checking the type.
    """
    address = _new(IPv6Address)
    address.type = "TCP"
    address.host = host
    address.port = port
    address.flowInfo = 0
    address.scopeID = 0
    return address


def ip_address(host: str, port: int) -> IPv4Address | IPv6Address:
    """
    The L{IPv4Address} or L{IPv6Address} of C{host:port} (by the host's
    form).
    """
    if ":" in host_text(host):
        return tcp6_address(host, port)
    return tcp_address(host, port)


def describe_ip(host: str, port: int) -> str:
    """
    C{host:port}, or C{[host]:port} for an IPv6 address.
    """
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


FIRST_PORT = 32768
LAST_PORT = 60999
"""
The Linux ephemeral port range (C{net.ipv4.ip_local_port_range}).
"""

TIME_WAIT_SECONDS = 60.0
"""
How long an actively closed client port stays in C{TIME_WAIT}.
"""

LISTEN = "listen"
CLIENT = "client"
TIME_WAIT = "time-wait"


class PortTable:
    """
    Who is bound where (see the module docstring for the rules).
    """

    def __init__(self, loop: Scheduler) -> None:
        self._loop = loop
        # (host, port) -> kind -> count; TIME_WAIT entries map to expiry.
        self._bound: dict[tuple[str, int], dict[str, int]] = {}
        self._time_wait: dict[tuple[str, int], float] = {}
        # port -> hosts listening on it
        self._listening: dict[int, set[str]] = {}
        # host -> next ephemeral port to try
        self._next: dict[str, int] = {}

    def _in_time_wait(self, key: tuple[str, int]) -> bool:
        expiry = self._time_wait.get(key)
        if expiry is None:
            return False
        if expiry <= self._loop._now:
            del self._time_wait[key]
            return False
        return True

    def _listener_conflict(self, host: str, port: int) -> bool:
        hosts = self._listening.get(port)
        if not hosts:
            return False
        if host in hosts or ANY6 in hosts or host == ANY6:
            return True
        if ":" in host:
            return False
        if host == ANY:
            return any(":" not in other for other in hosts)
        return ANY in hosts

    def _client_conflict(self, host: str, port: int) -> bool:
        if host in _WILDCARDS:
            return self._any_client(port, host == ANY)
        kinds = self._bound.get((host, port))
        return bool(kinds and CLIENT in kinds)

    def _any_client(self, port: int, v4_only: bool) -> bool:
        """
        Whether a client socket is bound to C{port} on any (IPv4) address.
        """
        return any(
            key[1] == port and CLIENT in kinds and not (v4_only and ":" in key[0])
            for key, kinds in self._bound.items()
        )

    def in_use(self, host: str, port: int) -> bool:
        """
        Whether an implicit bind may not take C{host:port}.
        """
        return self._listener_conflict(host, port) or self._client_conflict(host, port)

    def allocate(self, host: str) -> int:
        """
        The next free ephemeral port of C{host}.

        @raise OSError: C{EADDRNOTAVAIL} if every one is taken.
        """
        port = self._next.get(host, FIRST_PORT)
        span = LAST_PORT - FIRST_PORT + 1
        for _ in range(span):
            candidate = port
            port = port + 1 if port < LAST_PORT else FIRST_PORT
            if not self.in_use(host, candidate):
                self._next[host] = port
                return candidate
        raise os_error(errno.EADDRNOTAVAIL)

    def bind_listener(self, host: str, port: int) -> int:
        """
        Bind a listening socket (with C{SO_REUSEADDR}).

        @return: the port (allocated if C{port} is 0).
        @raise OSError: C{EADDRINUSE}, or C{EADDRNOTAVAIL} for port 0.
        """
        if port == 0:
            port = self.allocate(host)
        elif self._listener_conflict(host, port) or self._client_conflict(host, port):
            raise os_error(errno.EADDRINUSE)
        self._listening.setdefault(port, set()).add(host)
        return port

    def bind_shared(self, host: str, port: int) -> None:
        """
        Record a binding of C{host:port} that the caller allowed although it
        conflicts with others (every socket involved set C{SO_REUSEADDR}:
        UDP's rule); L{unbind_listener} releases it.
        """
        self._listening.setdefault(port, set()).add(host)

    def unbind_listener(self, host: str, port: int) -> None:
        hosts = self._listening.get(port)
        if hosts is not None:
            hosts.discard(host)
            if not hosts:
                del self._listening[port]

    def bind_client(self, host: str, port: int, reuse_address: bool = False) -> int:
        """
        Bind a client socket: to C{port}, or an ephemeral port if 0.

        @raise OSError: C{EADDRINUSE} or C{EADDRNOTAVAIL}.
        """
        if port == 0:
            port = self.allocate(host)
        else:
            key = (host, port)
            if (
                self._listener_conflict(host, port)
                or self._client_conflict(host, port)
                or (not reuse_address and self._in_time_wait(key))
            ):
                raise os_error(errno.EADDRINUSE)
        kinds = self._bound.setdefault((host, port), {})
        kinds[CLIENT] = kinds.get(CLIENT, 0) + 1
        return port

    def release_client(self, host: str, port: int, time_wait: bool) -> None:
        """
        A client socket bound to C{host:port} is gone; with C{time_wait},
        the address stays in C{TIME_WAIT} for L{TIME_WAIT_SECONDS}.
        """
        key = (host, port)
        kinds = self._bound.get(key)
        if kinds is not None:
            left = kinds.get(CLIENT, 0) - 1
            if left > 0:
                kinds[CLIENT] = left
            else:
                kinds.pop(CLIENT, None)
                if not kinds:
                    del self._bound[key]
        if time_wait:
            self._time_wait[key] = self._loop._now + TIME_WAIT_SECONDS

    def clients_bound(self) -> int:
        """
        The number of client sockets bound (for diagnostics).
        """
        return sum(kinds.get(CLIENT, 0) for kinds in self._bound.values())


UNIX_PATH_MAX = 107
"""
The longest UNIX socket path, in bytes (C{sun_path} holds 108 with its
terminating NUL; an abstract name, starting with NUL, may use all 108).
"""


class PathTable:
    """
    The UNIX socket namespace: which paths are bound (and listened on), and
    which lock files (C{path.lock}, C{listenUNIX(wantPID=1)}) are held.  No
    file is created: a path exists while a socket is bound to it -- from
    C{listenUNIX} until its C{stopListening} completes, which is when
    Twisted's C{unix.Port} unlinks the socket file (so a stale socket file,
    which would refuse connections with C{ECONNREFUSED}, never exists).
    Paths are names compared as given (no working directory, no symbolic
    links).
    """

    def __init__(self) -> None:
        self._bound: set[bytes] = set()
        self._locks: set[bytes] = set()

    @staticmethod
    def check(path: bytes) -> None:
        """
        @raise OSError: C{"AF_UNIX path too long"} (no errno) if C{path}
            does not fit a UNIX socket address, as Python's C{socket} says.
        """
        if len(path) > (UNIX_PATH_MAX + 1 if path[:1] == b"\0" else UNIX_PATH_MAX):
            raise OSError("AF_UNIX path too long")

    def bind(self, path: bytes) -> None:
        """
        Bind a socket to C{path}.

        @raise OSError: C{EADDRINUSE} if it exists; see L{check}.
        """
        self.check(path)
        if path in self._bound:
            raise os_error(errno.EADDRINUSE)
        self._bound.add(path)

    def unbind(self, path: bytes) -> None:
        """
        Unlink C{path}.
        """
        self._bound.discard(path)

    def lock(self, path: bytes) -> bool:
        """
        Take the lock file C{path} (C{FilesystemLock.lock}); L{False} if
        another port holds it.
        """
        if path in self._locks:
            return False
        self._locks.add(path)
        return True

    def unlock(self, path: bytes) -> None:
        """
        Release the lock file C{path}.
        """
        self._locks.discard(path)

    def is_locked(self, path: bytes) -> bool:
        """
        Whether the lock file C{path} is held (C{lockfile.isLocked}).
        """
        return path in self._locks


class ListeningSocket:
    """
    A listening socket: bound to C{local}, with an accept queue of
    established connections' server sockets.

    @ivar backlog: the accept queue holds at most C{backlog + 1}
        connections (Linux); a connection that finds it full waits, as its
        C{SYN} would be dropped and retransmitted.
    @ivar wildcard: whether it listens on every address (C{0.0.0.0} or
        C{::}): a connection's server end then has the address the client
        connected to.
    @ivar dual: whether it is a dual-stack IPv6 socket on C{::}: an IPv4
        client's connection is reported with IPv4-mapped addresses
        (C{::ffff:127.0.0.1}).
    """

    def __init__(
        self,
        local: tuple[str, int],
        backlog: int,
        wildcard: bool = False,
        dual: bool = False,
    ) -> None:
        self.local = local
        self.wildcard = wildcard
        self.dual = dual
        self.backlog = max(0, min(backlog, 4096))
        self.queue: deque[Socket] = deque()
        self.owner: Any = None
        self.closed = False
        # Connection attempts waiting for room in the accept queue.
        self.waiting: deque[Any] = deque()

    def full(self) -> bool:
        """
        Whether the accept queue cannot take another connection.
        """
        return len(self.queue) > self.backlog

    def enqueue(self, sock: Socket) -> None:
        """
        An established connection's server socket, ready to be accepted.
        """
        self.queue.append(sock)
        owner = self.owner
        if owner is not None:
            owner._wake()

    def accept(self) -> Socket:
        """
        The next established connection's server socket.

        @raise OSError: C{EAGAIN} if there is none.
        """
        if not self.queue:
            raise os_error(errno.EAGAIN)
        sock = self.queue.popleft()
        waiting = self.waiting
        if waiting:
            # Room again: a waiting attempt retries (its SYN gets through).
            waiting.popleft().retry()
        return sock

    def close(self) -> list[Socket]:
        """
        Stop listening: the connections not accepted yet are reset.

        @return: their sockets.
        """
        self.closed = True
        queued = list(self.queue)
        self.queue.clear()
        for sock in queued:
            sock.close(linger_zero=True)
        waiting = list(self.waiting)
        self.waiting.clear()
        for attempt in waiting:
            attempt.retry()
        return queued


class Stack(Protocol):
    """
    What a listening port needs of the network: its port table, where to
    resolve its interface, and where to register a listening socket.
    """

    ports: PortTable

    def resolve_interface(self, interface: str) -> str | None: ...

    def register_listener(
        self, port: ListeningPort[Any], sock: ListeningSocket
    ) -> None: ...

    def unregister_listener(
        self, port: ListeningPort[Any], sock: ListeningSocket
    ) -> None: ...

    def accepted(
        self, port: ListeningPort[Any], sock: Socket
    ) -> ConnectionRecord | None: ...

    def orphaned(self, sock: Socket) -> None: ...


_CONNECTION_DONE = Failure(ConnectionDone())


@implementer(IListeningPort)
class ListeningPort(Generic[_Address]):
    """
    A listening TCP port of a L{MemoryNetwork}, as the real reactor's
    C{tcp.Port}: an IPv6 one if the interface is an IPv6 literal (its
    addresses, and those of the connections it accepts, are
    L{IPv6Address}es), else an IPv4 one; C{port} stays what was asked (0 for
    an allocated port; C{getHost()} has the real number), C{stopListening()}
    returns a
    L{Deferred} fired in the next iteration (a second call before then runs
    the close twice, as the real reactor does: the second fails with
    L{AttributeError}), connections already accepted stay open, and an
    exception from a protocol's C{makeConnection} is logged and leaves that
    connection open.

    @ivar factory: the server factory.
    @ivar port: the port number asked for.
    @ivar interface: the interface asked for.
    @ivar backlog: the accept queue length (see L{ListeningSocket}).
    @ivar connected: whether it is listening.
    @ivar disconnecting: whether C{stopListening} is in progress.
    """

    sessionno = 0
    _realPortNumber: int | None = None

    def __init__(
        self,
        stack: Stack,
        loop: Scheduler,
        reactor: Any,
        port: int,
        factory: IProtocolFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> None:
        self._stack = stack
        self._loop = loop
        self.reactor = reactor
        self.port = port
        self.factory = factory
        self.backlog = backlog
        self.interface = interface
        self.connected = False
        self.disconnecting = False
        self.disconnected = 0
        self.reading = False
        self._queued = self._snap = False
        self._entries = self._skip = 0
        self.numberAccepts = 100
        self.deferred: Deferred[None] | None = None
        self._socket: ListeningSocket | None = None
        self._host: _Address | None = None
        # destination address -> the server end's address
        self._server_addresses: dict[str, Any] = {}
        # As tcp.Port's _addressType: chosen by the interface's form.
        self._ipv4 = not isIPv6Address(interface)
        self._address_type: Any = tcp_address if self._ipv4 else tcp6_address
        # As tcp.Port's transport: the class of the connections' server ends.
        self._transport_class: type[ServerTransport] = ServerTransport

    def __repr__(self) -> str:
        if self._realPortNumber is not None:
            return (
                f"<MemoryNetwork port of {type(self.factory).__name__} on "
                f"{self._realPortNumber}>"
            )
        return f"<MemoryNetwork port of {type(self.factory).__name__} (not listening)>"

    # -- listening -------------------------------------------------------------

    def startListening(self) -> None:
        """
        Bind and listen (as C{tcp.Port.startListening}): then the factory's
        C{doStart}.

        @raise CannotListenError: if the address is taken or unknown.
        """
        stack = self._stack
        host = stack.resolve_interface(self.interface)
        if host is None:
            raise CannotListenError(
                self.interface,
                self.port,
                OSError(
                    errno.EADDRNOTAVAIL,
                    f"{self.interface!r} is not an address of this network "
                    "(an IPv4 address, or a name in the MemoryNetwork's host map)",
                ),
            )
        try:
            number = stack.ports.bind_listener(host, self.port)
        except OSError as e:
            loop = self._loop
            loop._trace.extend(
                (loop._now, "listen-failed", None, "", describe_ip(host, self.port))
            )
            raise CannotListenError(self.interface, self.port, e) from None
        wildcard = host in (ANY, ANY6)
        sock = ListeningSocket((host, number), self.backlog, wildcard, host == ANY6)
        self._realPortNumber = number
        self._host = self._address_type(host, number)
        self._server_addresses = {}
        loop = self._loop
        loop._trace.extend((loop._now, "listen", None, "", describe_ip(host, number)))
        _log.info(
            "{factory} starting on {port}",
            factory=type(self.factory).__name__,
            port=number,
        )
        self.factory.doStart()
        self._activate(sock)

    def _activate(self, sock: ListeningSocket) -> None:
        """
        Start accepting on the listening socket C{sock}.
        """
        self.connected = True
        self.disconnected = 0
        self._socket = sock
        self._stack.register_listener(self, sock)
        sock.owner = self
        self.numberAccepts = 100
        self.startReading()

    def startReading(self) -> None:
        if not self.reading:
            # Added to epoll anew: a place it had in the ready list is lost.
            self._queued = False
            self.reading = True
            self._wake()

    def stopReading(self) -> None:
        self.reading = False

    def _wake(self) -> None:
        sock = self._socket
        if not self._queued and self.reading and sock is not None and sock.queue:
            self._queued = True
            self._entries += 1
            self._loop._ready.append(self)

    def _scan(self) -> bool:
        """
        The start of a pass, as C{epoll_wait} scans its ready list (see
        L{MemoryTransport._scan<poetry.testing._transport.MemoryTransport._scan>}):
        note whether connections wait to be accepted, and stay in the list
        for the next pass while they do.
        """
        entries = self._entries - 1
        self._entries = entries
        if entries or not self._queued:
            self._skip += 1
            return False
        sock = self._socket
        if self.reading and sock is not None and sock.queue:
            self._snap = True
            self._entries = 1
            return True
        self._snap = False
        self._queued = False
        return False

    def __call__(self) -> None:
        """
        One dispatch: accept what is waiting, if connections waited when
        the pass began and the port still reads.
        """
        if self._skip:
            self._skip -= 1
            return
        ready = self._snap
        self._snap = False
        if ready and self.reading and self._socket is not None:
            self.doRead()

    def doRead(self) -> None:
        """
        As C{tcp.Port.doRead}: accept up to C{numberAccepts} connections;
        for each, the factory's C{buildProtocol(client address)} (L{None}:
        close it), a transport, and the protocol's C{makeConnection}.  An
        exception is logged and ends this round (the connection whose
        protocol raised in C{makeConnection} stays open).
        """
        sock = self._socket
        assert sock is not None
        accepted = 0
        current: Socket | None = None
        try:
            queue = sock.queue
            for _ in range(self.numberAccepts):
                if not queue:
                    # accept() would fail with EAGAIN: the round ends.
                    break
                current = sock.accept()
                accepted += 1
                self._accept(current)
                current = None
            if accepted == self.numberAccepts:
                self.numberAccepts += 20
            else:
                self.numberAccepts = max(1, accepted)
        except BaseException:
            _log.failure(
                "Unhandled error accepting a connection on {port} (the real "
                "reactor logs it too)",
                port=self,
            )
            if current is not None and current.owner is None:
                # The accepted socket has no transport: as on the real
                # reactor (whose logged failure keeps the socket object
                # alive), it stays open, read by nobody, until the
                # connection is reset or the world ends.
                loop = self._loop
                loop._trace.extend(
                    (
                        loop._now,
                        "error",
                        current.connection_id,
                        "server",
                        "accepted socket left open without a protocol",
                    )
                )
                self._stack.orphaned(current)

    def _accept(self, sock: Socket) -> None:
        peer_host, peer_port = sock.remote
        peer = self._address_type(peer_host, peer_port)
        protocol = self.factory.buildProtocol(peer)
        if protocol is None:
            sock.close()
            self._stack.accepted(self, sock)
            return
        session = self.sessionno
        self.sessionno = session + 1
        host = self._server_address(sock.local[0])
        record = self._stack.accepted(self, sock)
        transport = self._transport_class(
            self._loop,
            sock,
            protocol,
            host,
            peer,
            self,
            session,
            record,
        )
        if record is not None:
            record.set_server(transport)
        loop = self._loop
        loop._trace.extend(
            (
                loop._now,
                "accept",
                sock.connection_id,
                "server",
                f"{peer_host}:{peer_port} -> {host.host}:{host.port}"
                if self._ipv4
                else self._describe_accept(sock),
            )
        )
        protocol.makeConnection(transport)

    def _server_address(self, host: str) -> Any:
        address = self._server_addresses.get(host)
        if address is None:
            assert self._realPortNumber is not None
            address = self._server_addresses[host] = self._address_type(
                host, self._realPortNumber
            )
        return address

    def _describe_accept(self, sock: Socket) -> str:
        return f"{self.describe_end(sock.remote)} -> {self.describe_end(sock.local)}"

    def describe_end(self, local: tuple[str, int]) -> str:
        """
        How an end of a connection it accepted (or its own address) is
        written in the trace and in descriptions: C{host:port}, or
        C{[host]:port} for IPv6.
        """
        return describe_ip(*local)

    # -- stopping --------------------------------------------------------------

    def loseConnection(
        self, connDone: Failure = _CONNECTION_DONE
    ) -> Deferred[None] | None:
        """
        Stop accepting (as C{tcp.Port.loseConnection}): the socket is closed
        and the factory's C{doStop} called in the next iteration; the
        returned L{Deferred} fires then.  Connections already accepted stay
        open; those not accepted yet are reset.
        """
        self.disconnecting = True
        self.stopReading()
        if self.connected:
            self.deferred = deferLater(self.reactor, 0, self.connectionLost, connDone)
            return self.deferred
        return None

    stopListening = loseConnection

    def connectionLost(self, reason: Failure) -> None:
        """
        As C{tcp.Port.connectionLost}.
        """
        self._logConnectionLostMsg()
        self._realPortNumber = None
        self.disconnected = 1
        self.connected = False
        self.stopReading()
        sock = self._socket
        if sock is None:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute 'socket' "
                "(stopListening ran twice, as on the real reactor)"
            )
        self._socket = None
        assert self._host is not None
        loop = self._loop
        loop._trace.extend(
            (loop._now, "stop-listening", None, "", self.describe_end(sock.local))
        )
        self._stack.unregister_listener(self, sock)
        for orphan in sock.close():
            self._stack.accepted(self, orphan)
        self._host = None
        try:
            self.factory.doStop()
        finally:
            self.disconnecting = False

    def _logConnectionLostMsg(self) -> None:
        _log.info("(TCP Port {port} Closed)", port=self._realPortNumber)

    def getHost(self) -> _Address:  # type: ignore[override]  # a precise IAddress
        """
        The bound address, with the allocated port number (an
        L{IPv4Address<twisted.internet.address.IPv4Address>} or an
        L{IPv6Address<twisted.internet.address.IPv6Address>} for TCP).

        @raise AttributeError: when not listening (the real reactor's socket
            is gone too).
        """
        if self._host is None:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute 'socket' "
                "(getHost() of a port that is not listening)"
            )
        return self._host

    def logPrefix(self) -> str:
        """
        The factory's class name.
        """
        return type(self.factory).__name__
