"""
Connections from start to end: the connector (Twisted's own
C{tcp.Connector}), the client end while it connects (the real reactor's
C{tcp.Client}: resolve, bind, C{connect}, build the protocol), the kernel's
handshake (L{TCPStack.connect_ex}: refused, delayed by the link, hung by a
fault, waiting for room in a full accept queue, or established), and the
record of an established connection (L{Connection}) until both ends are
closed.

The client end's connect phase mirrors C{tcp.Client} step by step, so that
a protocol or factory sees what the real reactor shows, exceptions
included: C{connectTCP} starts connecting synchronously
(C{startedConnecting}); the address is resolved and the socket connected in
the next iteration (a C{callLater(0)}); the handshake's outcome is reported
by the socket's readiness in the iteration after; the connector's timeout
is a real timer from the start.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet import tcp
from twisted.internet.abstract import isIPv6Address
from twisted.internet.error import (
    ConnectBindError,
    ConnectError,
    getConnectError,
)
from twisted.internet.interfaces import IHalfCloseableProtocol, _Binding
from twisted.internet.protocol import Protocol as TwistedProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from poetry.testing._conditions import (
    CLIENT_TO_SERVER,
    SERVER_TO_CLIENT,
    LinkConditions,
)
from poetry.testing._link import Link
from poetry.testing._names import host_text, ip_family, normalize_ipv6
from poetry.testing._ports import (
    ANY,
    ANY6,
    ListeningPort,
    ListeningSocket,
    PathTable,
    PortTable,
    describe_ip,
    ip_address,
)
from poetry.testing._socket import (
    CLOSED,
    CONNECTING,
    ESTABLISHED,
    RECEIVE_BUFFER,
    SEND_BUFFER,
    Socket,
    os_error,
)
from poetry.testing._transport import MemoryTransport

if TYPE_CHECKING:
    from poetry.testing._clock import Scheduler, VirtualDelayedCall

__all__ = [
    "AttemptPolicy",
    "ClientTransport",
    "Connection",
    "Connector",
    "TCPStack",
]

_log = Logger()

_LOCALHOST = "127.0.0.1"
_WILDCARD_TO_LOOPBACK = {ANY: _LOCALHOST, ANY6: "::1"}

# The first SYN retransmission of Linux (TCP_TIMEOUT_INIT).
SYN_RETRY_SECONDS = 1.0


class AttemptPolicy(Protocol):
    """
    What decides the fate of a connection attempt besides who listens: the
    link conditions and faults of a network.
    """

    def conditions(
        self,
        client_host: str,
        server_host: str,
        port: int,
        direction: str,
        connection_id: int | None,
    ) -> LinkConditions | None:
        """
        The conditions of one direction of a (future) connection.
        """

    def verdict(self, client_host: str, server_host: str, port: int) -> str | None:
        """
        C{"refuse"}, a reason the attempt hangs, or L{None}.
        """

    def connection_made(self, connection: Connection) -> None:
        """
        A connection was established (apply fault rules to it).
        """


class Connection:
    """
    An established connection: its two sockets, two links and (once they
    exist) two transports.

    @ivar id: the connection id (shown in the trace).
    @ivar client_socket: the client end's socket.
    @ivar server_socket: the server end's socket.
    @ivar upstream: the link from client to server.
    @ivar downstream: the link from server to client.
    @ivar client: the client end's transport.
    @ivar server: the server end's transport (L{None} until accepted).
    @ivar port: the listening port it was made to.
    """

    __slots__ = (
        "_stack",
        "client",
        "client_done",
        "client_socket",
        "id",
        "port",
        "server",
        "server_done",
        "server_socket",
    )

    def __init__(
        self,
        stack: TCPStack,
        connection_id: int,
        client: ClientTransport,
        client_socket: Socket,
        server_socket: Socket,
        port: ListeningPort[Any],
    ) -> None:
        self._stack = stack
        self.id = connection_id
        self.client = client
        self.client_socket = client_socket
        self.server_socket = server_socket
        self.server: MemoryTransport | None = None
        self.port = port
        self.client_done = False
        self.server_done = False

    def __repr__(self) -> str:
        return f"<Connection #{self.id}>"

    def link(self, direction: str) -> Link:
        """
        The link of C{direction}, put in (plain) if the direction had none.
        """
        if direction == CLIENT_TO_SERVER:
            src, dst = self.client_socket, self.server_socket
        else:
            src, dst = self.server_socket, self.client_socket
        link = src.outbound
        if link is None:
            link = Link(src._loop, src, dst, direction)
            src.outbound = dst.inbound = link
        assert isinstance(link, Link)
        return link

    @property
    def upstream(self) -> Link:
        """
        The link from client to server.
        """
        return self.link(CLIENT_TO_SERVER)

    @property
    def downstream(self) -> Link:
        """
        The link from server to client.
        """
        return self.link(SERVER_TO_CLIENT)

    def set_server(self, transport: MemoryTransport) -> None:
        """
        The server end was accepted.
        """
        self.server = transport
        transport.other = self.client
        self.client.other = transport

    def side_lost(self, transport: MemoryTransport) -> None:
        """
        One end's C{connectionLost} started.
        """
        if transport is self.client:
            self.client_done = True
        else:
            self.server_done = True
        if self.client_done and self.server_done:
            self._stack._connection_closed(self)

    def server_dropped(self) -> None:
        """
        The server socket was closed without a transport (never accepted,
        or no protocol built).
        """
        self.server_done = True
        if self.client_done:
            self._stack._connection_closed(self)

    def describe(self) -> str:
        """
        Both ends, their states and the bytes waiting each way.
        """
        client = self.client
        server = self.server
        where = self.port.describe_end
        lines = [
            f"#{self.id} {where(self.client_socket.local)} (client) <-> "
            f"{where(self.server_socket.local)} (server)",
            f"      client -> server: {client.unread_outgoing()} bytes unread; "
            f"server -> client: "
            f"{server.unread_outgoing() if server is not None else 0}"
            " bytes unread",
            f"      client: {client.state()}; server: "
            f"{server.state() if server is not None else 'not accepted yet'}",
        ]
        for sock, direction in (
            (self.client_socket, CLIENT_TO_SERVER),
            (self.server_socket, SERVER_TO_CLIENT),
        ):
            link = sock.outbound
            extra = link.describe() if isinstance(link, Link) else ""
            if extra:
                lines.append(f"      {direction}: {extra}")
        return "\n".join(lines)


class _Attempt:
    """
    A handshake in progress (delayed by latency, hung by a fault, or
    waiting for room in a full accept queue).
    """

    __slots__ = ("address", "reason", "stack", "timer", "transport")

    def __init__(
        self, stack: TCPStack, transport: ClientTransport, address: tuple[str, int]
    ) -> None:
        self.stack = stack
        self.transport = transport
        self.address = address
        self.timer: VirtualDelayedCall | None = None
        self.reason: str | None = None

    def retry(self) -> None:
        """
        Try the handshake again (a retransmitted C{SYN}).
        """
        self.stack._complete(self)


class TCPStack:
    """
    The stream sockets of a network's kernel -- TCP over IPv4 and IPv6, and
    UNIX stream sockets: listeners, the handshake, the connections, and the
    bindings they hold (IP ports in a L{PortTable}, UNIX paths in a
    L{PathTable}).

    A UNIX connection is made as a TCP one, with the family's differences:
    its listeners are keyed C{(path, 0)}; C{connect()} completes at once
    (0, or C{ENOENT} for a path nobody listens on, or C{EAGAIN} when the
    accept queue is full) rather than through a handshake; its sockets are
    of the client socket's class (L{poetry.testing._unix.UnixSocket}).

    @ivar connections: open connections by id.
    @ivar attempts: client ends still connecting, by connection id.
    @ivar paths: the UNIX socket namespace.
    """

    def __init__(
        self,
        loop: Scheduler,
        ports: PortTable,
        resolve: Callable[[str], str | None],
        is_local: Callable[[str], bool],
    ) -> None:
        self._loop = loop
        self.ports = ports
        self._resolve = resolve
        self._is_local = is_local
        self.policy: AttemptPolicy | None = None
        self.receive_buffer = RECEIVE_BUFFER
        self.send_buffer = SEND_BUFFER
        # (host, port) -> (port object, listening socket)
        self.listeners: dict[
            tuple[str, int], tuple[ListeningPort[Any], ListeningSocket]
        ] = {}
        self.connections: dict[int, Connection] = {}
        self.attempts: dict[int, ClientTransport] = {}
        self.paths = PathTable()
        self._pending: dict[int, _Attempt] = {}
        self._next_id = 1
        self._literals: dict[str, int] = {}
        self._peer_addresses: dict[tuple[str, int], Any] = {}

    def literal_family(self, host: str) -> int:
        """
        4 if C{host} is an IPv4 literal, 6 if an IPv6 one (no resolution
        needed), 0 for a name.
        """
        known = self._literals.get(host)
        if known is None:
            known = self._literals[host] = ip_family(host)
        return known

    def peer_address(self, host: str, port: int) -> Any:
        """
        The (shared) address object of a destination: an
        L{IPv4Address<twisted.internet.address.IPv4Address>}, or an
        L{IPv6Address<twisted.internet.address.IPv6Address>} for an IPv6
        host.
        """
        key = (host, port)
        address = self._peer_addresses.get(key)
        if address is None:
            address = self._peer_addresses[key] = ip_address(host, port)
        return address

    def new_id(self) -> int:
        """
        A new connection id.
        """
        number = self._next_id
        self._next_id = number + 1
        return number

    def ids_issued(self) -> int:
        """
        How many connection ids were issued.
        """
        return self._next_id - 1

    # -- ports (the Stack of _ports) -------------------------------------------

    def resolve_interface(self, interface: str) -> str | None:
        if interface in ("", ANY):
            return ANY
        if ":" in interface and isIPv6Address(interface):
            # tcp.Port binds an IPv6 socket: no name lookup.
            address = normalize_ipv6(interface)
            if address is None or not self._is_local(address):
                return None
            return address
        address = self._resolve(interface)
        if address is None or not self._is_local(address):
            return None
        return address

    def register_listener(
        self, port: ListeningPort[Any], sock: ListeningSocket
    ) -> None:
        self.listeners[sock.local] = (port, sock)

    def unregister_listener(
        self, port: ListeningPort[Any], sock: ListeningSocket
    ) -> None:
        self.listeners.pop(sock.local, None)
        self.ports.unbind_listener(*sock.local)

    def accepted(self, port: ListeningPort[Any], sock: Socket) -> Connection | None:
        """
        C{sock} left the accept queue (a transport follows if it is open).
        """
        connection = self.connections.get(sock.connection_id)
        if connection is not None and sock.closed:
            connection.server_dropped()
        return connection

    def orphaned(self, sock: Socket) -> None:
        """
        C{sock} was accepted but will never have a transport: its
        connection ends when the client end does.
        """
        connection = self.connections.get(sock.connection_id)
        if connection is not None:
            connection.server_dropped()

    def _listener(
        self, host: str, port: int
    ) -> tuple[ListeningPort[Any], ListeningSocket] | None:
        found = self.listeners.get((host, port))
        if found is None:
            if ":" in host:
                found = self.listeners.get((ANY6, port))
            else:
                # A dual-stack socket on :: takes IPv4 connections too.
                found = self.listeners.get((ANY, port)) or self.listeners.get(
                    (ANY6, port)
                )
        return found

    # -- the client's system calls ---------------------------------------------

    def new_socket(self, connection_id: int) -> Socket:
        """
        A client socket, not bound or connected yet.
        """
        sock = Socket(
            self._loop,
            connection_id,
            "client",
            ("", 0),
            ("", 0),
            self.receive_buffer,
            self.send_buffer,
        )
        sock.state = CONNECTING
        return sock

    def bind(self, sock: Socket, host: str, port: int, reuse: bool) -> None:
        """
        C{bind()} a client socket (an explicit C{bindAddress}).

        @raise OSError: C{EADDRINUSE}, C{EADDRNOTAVAIL}.
        """
        if host in ("", ANY, ANY6):
            if port and self.ports.in_use(host or ANY, port):
                raise os_error(errno.EADDRINUSE)
            sock.local = ("", port)
            return
        address = self._resolve(host)
        if address is None or address == ANY or not self._is_local(address):
            raise os_error(errno.EADDRNOTAVAIL)
        number = self.ports.bind_client(address, port, reuse)
        sock.local = (address, number)
        sock.bound = True

    def connect_ex(self, transport: ClientTransport, address: tuple[str, int]) -> int:
        """
        C{connect_ex()}: start the handshake (C{EINPROGRESS}), or report how
        it went (0 once established, C{EALREADY} while in progress).
        """
        sock = transport.socket
        if sock.state == ESTABLISHED and sock.peer_set:
            return 0 if not sock.connect_reported else errno.EISCONN
        if sock.connection_started:
            if sock.state == CONNECTING:
                return errno.EALREADY
            return errno.ECONNABORTED
        sock.connection_started = True
        try:
            host, port = address
        except ValueError:
            # An IPv6 (host, port, flow info, scope) address.
            host, port = address[0], address[1]
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise OverflowError("connect_ex(): port must be 0-65535.")
        if host.__class__ is not str:
            # connect() takes bytes too: the real reactor connects to a
            # bytes literal given to connectTCP as it is.
            host = host_text(host)
        destination = self._resolve(host) or host
        if destination in _WILDCARD_TO_LOOPBACK:
            # Linux takes a connection to a wildcard address to loopback.
            destination = _WILDCARD_TO_LOOPBACK[destination]
        if not sock.bound:
            local_host = sock.local[0] or _source_address(destination)
            try:
                number = self.ports.bind_client(local_host, sock.local[1])
            except OSError as e:
                sock.connection_started = False
                return e.errno or errno.EADDRNOTAVAIL
            sock.local = (local_host, number)
            sock.bound = True
        self.attempts[sock.connection_id] = transport
        attempt = _Attempt(self, transport, (destination, port))
        policy = self.policy
        delay = 0.0
        if policy is not None:
            conditions = policy.conditions(
                sock.local[0], destination, port, CLIENT_TO_SERVER, None
            )
            if conditions is not None:
                delay = conditions.delay_sample(self._loop.random)
        if delay > 0:
            self._pending[sock.connection_id] = attempt
            attempt.timer = self._loop._call_at(self._loop._now + delay, attempt.retry)
        else:
            self._complete(attempt)
        return errno.EINPROGRESS

    def connect_unix(self, transport: ClientTransport, path: Any) -> int:
        """
        C{connect()} of a UNIX stream socket to C{path} (bytes), the
        C{connect_ex} a UNIX client end sees
        (L{poetry.testing._unix.UnixStackView}): it completes
        at once -- 0 (connected: the server end waits in the accept queue),
        C{ENOENT} if nobody listens there, C{EAGAIN} if the accept queue is
        full (the socket stays unconnected).

        @raise OSError: C{"AF_UNIX path too long"}.
        """
        PathTable.check(path)
        key = (os.fsdecode(path), 0)
        found = self.listeners.get(key)
        if found is None:
            # A path exists exactly while it is listened on (see PathTable).
            return errno.ENOENT
        port, listening = found
        if listening.full():
            return errno.EAGAIN
        sock = transport._sock
        sock.connection_started = True
        self._establish(_Attempt(self, transport, key), port, listening)
        return 0

    def _complete(self, attempt: _Attempt) -> None:
        """
        The C{SYN} arrives: refused, hung, waiting for room, or established.
        """
        loop = self._loop
        transport = attempt.transport
        sock = transport._sock
        attempt.timer = None
        if sock.closed or sock.state != CONNECTING:
            self._pending.pop(sock.connection_id, None)
            return
        connection_id = sock.connection_id
        host, port = attempt.address
        policy = self.policy
        if policy is not None:
            verdict = policy.verdict(sock.local[0], host, port)
            if verdict is not None and verdict != "refuse":
                if attempt.reason is None:
                    loop._trace.extend(
                        (
                            loop._now,
                            "fault",
                            connection_id,
                            "client",
                            f"connect to {host}:{port} hangs ({verdict})",
                        )
                    )
                attempt.reason = verdict
                self._pending[connection_id] = attempt
                return
            if verdict == "refuse":
                loop._trace.extend(
                    (
                        loop._now,
                        "fault",
                        connection_id,
                        "client",
                        f"connect to {host}:{port} refused (refuse fault)",
                    )
                )
                self._refuse(attempt)
                return
        found = self._listener(host, port)
        if found is None:
            self._refuse(attempt)
            return
        listening_port, listening = found
        if listening.full():
            if attempt.reason != "accept queue full":
                attempt.reason = "accept queue full"
                loop._trace.extend(
                    (
                        loop._now,
                        "syn-dropped",
                        connection_id,
                        "client",
                        f"{host}:{port} accept queue full (backlog "
                        f"{listening.backlog}); retried",
                    )
                )
                self._pending[connection_id] = attempt
                attempt.timer = loop._call_at(
                    loop._now + SYN_RETRY_SECONDS, self._retry_full, attempt, listening
                )
            return
        self._pending.pop(connection_id, None)
        self._establish(attempt, listening_port, listening)

    def _retry_full(self, attempt: _Attempt, listening: ListeningSocket) -> None:
        attempt.timer = None
        if listening.full() and not listening.closed:
            listening.waiting.append(attempt)
        else:
            self._complete(attempt)

    def _refuse(self, attempt: _Attempt) -> None:
        loop = self._loop
        transport = attempt.transport
        sock = transport._sock
        host, port = attempt.address
        self._pending.pop(sock.connection_id, None)
        loop._trace.extend(
            (loop._now, "refuse", sock.connection_id, "client", f"{host}:{port}")
        )
        sock.err = errno.ECONNREFUSED
        sock.state = CLOSED
        sock.read_shut = sock.write_shut = True
        owner = sock.owner
        if owner is not None:
            owner._wake()

    def _establish(
        self, attempt: _Attempt, port: ListeningPort[Any], listening: ListeningSocket
    ) -> None:
        loop = self._loop
        transport = attempt.transport
        client = transport._sock
        connection_id = client.connection_id
        host, number = attempt.address
        remote = client.local
        if listening.wildcard:
            server_host = host
            if listening.dual and ":" not in host:
                # An IPv4 client of a dual-stack socket: the server end sees
                # IPv4-mapped IPv6 addresses.
                server_host = "::ffff:" + host
                remote = ("::ffff:" + remote[0], remote[1])
        else:
            server_host = listening.local[0]
        # The server end is a socket of the client's kind (TCP or UNIX).
        server = type(client)(
            loop,
            connection_id,
            "server",
            (server_host, listening.local[1]),
            remote,
            client.receive_buffer,
            client.send_buffer,
        )
        client.remote = (host, number)
        client.peer = server
        server.peer = client
        client.peer_set = server.peer_set = True
        policy = self.policy
        up: LinkConditions | None = None
        down: LinkConditions | None = None
        if policy is not None:
            up = policy.conditions(
                client.local[0], server_host, listening.local[1], CLIENT_TO_SERVER, None
            )
            down = policy.conditions(
                client.local[0], server_host, listening.local[1], SERVER_TO_CLIENT, None
            )
        if up is not None and not up.plain:
            client.outbound = server.inbound = Link(
                loop, client, server, CLIENT_TO_SERVER, up
            )
        if down is not None and not down.plain:
            server.outbound = client.inbound = Link(
                loop, server, client, SERVER_TO_CLIENT, down
            )
        client.state = ESTABLISHED
        connection = Connection(self, connection_id, transport, client, server, port)
        transport._record = connection
        self.connections[connection_id] = connection
        self.attempts.pop(connection_id, None)
        if policy is not None:
            policy.connection_made(connection)
        listening.enqueue(server)
        owner = client.owner
        if owner is not None:
            owner._wake()

    def closed_attempt(self, transport: ClientTransport) -> None:
        """
        A client end that never connected is gone: forget its attempt.
        """
        sock = transport._sock
        self.attempts.pop(sock.connection_id, None)
        attempt = self._pending.pop(sock.connection_id, None)
        if attempt is not None and attempt.timer is not None:
            if attempt.timer.active():
                attempt.timer.cancel()
            attempt.timer = None

    def release(self, sock: Socket) -> None:
        """
        A client socket was closed: release its port (into C{TIME_WAIT} if
        this end closed first and was not reset).
        """
        if sock.bound:
            sock.bound = False
            host, port = sock.local
            self.ports.release_client(
                host, port, sock.active_close and sock.state != CLOSED
            )

    def retry_hung(self) -> None:
        """
        Let hung attempts whose reason is gone try again (in the next
        step): the next C{SYN} gets through.
        """
        for attempt in list(self._pending.values()):
            if attempt.timer is None and attempt.reason not in (
                None,
                "accept queue full",
            ):
                policy = self.policy
                host, port = attempt.address
                sock = attempt.transport._sock
                if policy is None or policy.verdict(sock.local[0], host, port) is None:
                    attempt.reason = None
                    self._loop._ready.append(attempt.retry)

    def hung(self) -> list[tuple[int, str, str]]:
        """
        C{(connection id, destination, reason)} of the attempts that hang.
        """
        return [
            (cid, f"{a.address[0]}:{a.address[1]}", a.reason)
            for cid, a in self._pending.items()
            if a.reason is not None
        ]

    def _connection_closed(self, connection: Connection) -> None:
        """
        Both ends are closed: nothing can observe the connection any more,
        so what is still in flight is forgotten (its timers cancelled).
        """
        self.connections.pop(connection.id, None)
        client, server = connection.client_socket, connection.server_socket
        for sock in (client, server):
            link = sock.outbound
            if isinstance(link, Link):
                link.forget()
        # Nothing can observe the connection any more: break the reference
        # cycles between its parts, so that it is freed at once rather than
        # by the garbage collector.
        client.peer = server.peer = None
        client.outbound = client.inbound = server.outbound = server.inbound = None
        for transport in (connection.client, connection.server):
            if transport is not None:
                transport._record = None
                transport.other = None


class ClientTransport(MemoryTransport):
    """
    The client end of a connection (C{tcp.Client}): connecting first, then
    a L{MemoryTransport}.

    @ivar connector: the connector (deleted once the attempt has failed,
        as on the real reactor).
    @ivar realAddress: the resolved destination C{(host, port)}.
    """

    __slots__ = ("_requiresResolution", "_stack", "addr", "connector", "realAddress")

    def __init__(
        self,
        stack: TCPStack,
        loop: Scheduler,
        reactor: Any,
        host: str,
        port: int,
        bindAddress: Any,
        connector: Connector,
    ) -> None:
        self._stack = stack
        connection_id = stack.new_id()
        sock = stack.new_socket(connection_id)
        super().__init__(loop, sock, "client", None)
        # An attempt from connectTCP on (startedConnecting was called).
        stack.attempts[connection_id] = self
        self.connector = connector
        self.__dict__["reactor"] = reactor
        self.addr: tuple[Any, ...] = (host, port)
        sock.owner = self
        family = stack.literal_family(host)
        self._requiresResolution = not family
        if family == 6:
            # As _BaseTCPClient: an IPv6 literal is an IPv6 client whose
            # addresses are (host, port, flow info, scope) tuples.
            self.addr = (normalize_ipv6(host) or host, port, 0, 0)
        whenDone: Callable[..., object] | None = self.resolveAddress
        err: BaseException | None = None
        if bindAddress is not None:
            try:
                if isinstance(bindAddress, tuple):
                    bindAddress = tcp.makeBinding(*bindAddress)
                assert isinstance(bindAddress, _Binding)
                stack.bind(
                    sock,
                    bindAddress._address or "",
                    bindAddress._port,
                    bindAddress._reuseAddress,
                )
            except OSError as se:
                err = ConnectBindError(se.args[0], se.args[1])
                whenDone = None
        loop._trace.extend(
            (loop._now, "connect", connection_id, "client", f"{host}:{port}")
        )
        self._connecting = True
        if whenDone is not None:
            loop.callLater(0, whenDone)
        else:
            del self.socket
            loop.callLater(0, self.failIfNotConnected, err)

    connector: Connector

    def __repr__(self) -> str:
        return (
            f"<MemoryNetwork client #{self.connection_id} to {self.addr} "
            f"{self.state()}>"
        )

    def destination(self) -> str:
        """
        Where it connects, as written in descriptions (C{host:port},
        C{[host]:port}).
        """
        return describe_ip(self.addr[0], self.addr[1])

    def logPrefix(self) -> str:
        """
        C{"<Protocol's log prefix>,client"}, as the real reactor's
        C{tcp.Client} (C{"Uninitialized"} until connected).
        """
        if self._named is None:
            return "Uninitialized"
        return f"{self._protocol_prefix()},client"

    # -- connecting (tcp.Client, BaseClient, _BaseBaseClient) -----------------

    def resolveAddress(self) -> None:
        """
        As C{_BaseBaseClient.resolveAddress}: resolve the host name if it is
        not an IP literal, then connect; a failure fails the attempt.
        """
        if self._requiresResolution:
            d = self.__dict__["reactor"].resolve(self.addr[0])
            d.addCallback(lambda n: (n, *self.addr[1:]))
            d.addCallback(self._setRealAddress)
            d.addErrback(self.failIfNotConnected)
            return
        try:
            self._setRealAddress(self.addr)
        except BaseException:
            failure = Failure()
            try:
                self.failIfNotConnected(failure)
            except BaseException:
                _log.failure("Unhandled error in Deferred:", Failure())

    def _setRealAddress(self, address: tuple[str, int]) -> None:
        self.realAddress = address
        self._peer = self._stack.peer_address(address[0], address[1])
        self.doConnect()

    def doConnect(self) -> Any:
        """
        As C{BaseClient.doConnect}: report a pending socket error, or call
        C{connect_ex} -- in progress: wait for readiness; established:
        C{_connectDone}.
        """
        self._connecting = True
        if not hasattr(self, "connector"):
            return None
        sock = self.socket
        err = sock.err
        if err:
            sock.err = 0
            self.failIfNotConnected(getConnectError((err, os.strerror(err))))
            return None
        try:
            result = self._stack.connect_ex(self, self.realAddress)
        except OSError as se:
            result = se.args[0]
        if result:
            if result == errno.EISCONN:
                pass
            elif result in (errno.EWOULDBLOCK, errno.EINPROGRESS, errno.EALREADY):
                self.startReading()
                self.startWriting()
                return None
            else:
                self.failIfNotConnected(getConnectError((result, os.strerror(result))))
                return None
        sock.connect_reported = True
        self._connecting = False
        self.reading = False
        self.writing = False
        self._connectDone()
        return None

    def _connectDone(self) -> None:
        """
        As C{BaseClient._connectDone}: the connector builds the protocol
        (a placeholder closed at once if the factory returns L{None}), and
        the protocol's C{makeConnection}.
        """
        self._stack.attempts.pop(self.connection_id, None)
        protocol = self.connector.buildProtocol(self.getPeer())
        self.connected = 1
        if protocol is None:
            self.protocol = self._named = TwistedProtocol()
            self.loseConnection()
        else:
            self._named = protocol
            self.protocol = protocol
            self.startReading()
            protocol.makeConnection(self)

    def failIfNotConnected(self, err: Any) -> None:
        """
        As C{_BaseBaseClient.failIfNotConnected}: close the socket and call
        the connector's C{connectionFailed} (once the connector is gone,
        nothing happens).
        """
        if self.connected or self.disconnected or not hasattr(self, "connector"):
            return
        self.reading = False
        self.writing = False
        try:
            sock = self.socket
        except AttributeError:
            pass
        else:
            with suppress(OSError):
                sock.shutdown_write()
            sock.close()
            del self.socket
        self._stack.closed_attempt(self)
        self._stack.release(self._sock)
        record = self._record
        if record is not None:
            # Established in the kernel, never reported: this end is gone.
            record.side_lost(self)
        failure = err if isinstance(err, Failure) else Failure(err)
        loop = self._loop
        loop._trace.extend(
            (
                loop._now,
                "connect-failed",
                self.connection_id,
                "client",
                f"{failure.type.__name__ if failure.type else '?'}: "
                f"{failure.getErrorMessage()}",
            )
        )
        self.connector.connectionFailed(failure)
        del self.connector

    def stopConnecting(self) -> None:
        """
        As C{_BaseBaseClient.stopConnecting}.
        """
        from twisted.internet.error import UserError

        self.failIfNotConnected(UserError())

    def connectionLost(self, reason: Failure) -> None:
        """
        As C{_BaseBaseClient.connectionLost}: a failed attempt if never
        connected, else the transport's C{connectionLost} and then the
        connector's.
        """
        if not self.connected:
            self.failIfNotConnected(ConnectError(string=reason))
        else:
            MemoryTransport.connectionLost(self, reason)
            self.connector.connectionLost(reason)

    def _socket_closed(self, sock: Socket) -> None:
        self._stack.release(sock)

    def getHost(self) -> Any:
        """
        The address this end is bound to.

        @raise AttributeError: once the connection is lost.
        """
        if self.disconnected or not hasattr(self, "socket"):
            raise AttributeError(
                "'ClientTransport' object has no attribute 'socket': getHost() "
                "after the connection was lost (the real reactor raises here too)"
            )
        host = self._host
        if host is None:
            local_host, port = self._sock.local
            if not local_host:
                # Not bound to an address yet (an IPv6 socket's is "::"):
                # not kept, the connect binds it.
                return ip_address(ANY6 if len(self.addr) == 4 else _LOCALHOST, port)
            host = self._host = ip_address(local_host, port)
        return host

    def getPeer(self) -> Any:
        """
        The address connected to (as resolved).
        """
        peer = self._peer
        if peer is None:
            raise AttributeError("realAddress")
        return peer


class Connector(tcp.Connector):
    """
    The L{IConnector<twisted.internet.interfaces.IConnector>} of C{connectTCP}:
    Twisted's own C{tcp.Connector} (its state machine, timeout timer and factory
    callbacks, exactly), making a L{ClientTransport} for each attempt.
    """

    def __init__(
        self,
        stack: TCPStack,
        loop: Scheduler,
        host: str,
        port: int | str,
        factory: Any,
        timeout: float,
        bindAddress: Any,
        reactor: Any,
    ) -> None:
        if isinstance(port, str) or host.__class__ is not str or ":" in host:
            # (A host given as bytes is taken as tcp.Connector takes it.)
            super().__init__(host, port, factory, timeout, bindAddress, reactor)
        else:
            # tcp.Connector.__init__ for an int port and a host that cannot
            # be an IPv6 literal (no colon).
            self.host, self.port = host, port
            self.bindAddress = bindAddress
            self.state = "disconnected"
            self.reactor = reactor
            self.factory = factory
            self.timeout = timeout
        self._stack = stack
        self._loop = loop

    def connect(self) -> None:
        """
        Start connecting, as C{BaseConnector.connect}: the factory's
        C{doStart} (once), a client end, the timeout, C{startedConnecting}.
        The timeout is a L{LazyCall}: a real timer as soon as the clock
        moves (or the pending calls are looked at) while connecting.

        @raise RuntimeError: unless disconnected.
        """
        if self.state != "disconnected":
            raise RuntimeError("can't connect in this state")
        self.state = "connecting"
        if not self.factoryStarted:
            self.factory.doStart()
            self.factoryStarted = 1
        self.transport = transport = self._makeTransport()
        if self.timeout is not None:
            # (A LazyCall stands for the DelayedCall BaseConnector keeps.)
            lazy: Any = self._loop._call_lazily(self.timeout, _time_out, transport)
            self.timeoutID = lazy
        self.factory.startedConnecting(self)

    def _makeTransport(self) -> Any:
        return ClientTransport(
            self._stack,
            self._loop,
            self.reactor,
            self.host,
            self.port,
            self.bindAddress,
            self,
        )

    def __repr__(self) -> str:
        return f"<MemoryNetwork connector to {self.host}:{self.port} {self.state}>"


def _source_address(destination: str) -> str:
    """
    The address a client socket that was not bound gets for C{destination},
    as Linux's routes give it: C{127.0.0.1} for the loopback network
    (C{local 127.0.0.0/8 ... src 127.0.0.1}), else the destination itself
    (a host's own address).
    """
    if destination.startswith("127."):
        return _LOCALHOST
    return destination


def _time_out(transport: ClientTransport) -> None:
    """
    The connector's timeout: fail the attempt with
    L{twisted.internet.error.TimeoutError}.
    """
    from twisted.internet.error import TimeoutError

    transport.failIfNotConnected(TimeoutError())


def half_closeable(protocol: object) -> bool:
    """
    Whether C{protocol} provides L{IHalfCloseableProtocol}.
    """
    return IHalfCloseableProtocol.providedBy(protocol)
