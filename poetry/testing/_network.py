"""
L{MemoryNetwork}: a reactor whose C{listenTCP} and C{connectTCP} (IPv4 and
IPv6) and C{listenUNIX} and C{connectUNIX} connect protocols in memory, on a
virtual clock, reproducibly from one seed.

The network composes its layers and adds nothing of its own but the reactor
interfaces and the inspection helpers:

  - the scheduler (L{poetry.testing._clock}): virtual time, timers, steps;
  - names (L{poetry.testing._names}): the host map and the resolver;
  - the stream stack (L{poetry.testing._connect}, L{poetry.testing._ports},
    and L{poetry.testing._unix} for UNIX sockets): ports and paths, the
    handshake, connections; each connection is two transports
    (L{poetry.testing._transport}) over two kernel sockets
    (L{poetry.testing._socket}) joined by two links
    (L{poetry.testing._link});
  - link conditions and faults (L{poetry.testing._faults}), created on
    first use;
  - the UDP stack (L{poetry.testing._udp}, C{net.udp}), created on first
    use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet._resolver import ComplexResolverSimplifier
from twisted.internet.abstract import isIPAddress
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import (
    IConnector,
    IHostnameResolver,
    IListeningPort,
    IProtocolFactory,
    IReactorCore,
    IReactorFromThreads,
    IReactorMulticast,
    IReactorPluggableNameResolver,
    IReactorSSL,
    IReactorTCP,
    IReactorTime,
    IReactorUDP,
    IReactorUNIX,
)
from twisted.internet.protocol import ClientFactory
from twisted.internet.task import Cooperator
from zope.interface import classImplements, implementer

from poetry.testing._conditions import (
    PLAIN,
    LinkConditions,
    directions_of,
    store_conditions,
)
from poetry.testing._connect import Connector, TCPStack
from poetry.testing._core import ReactorCore
from poetry.testing._errors import Unclean
from poetry.testing._faults import Address, FaultPlan, Faults, LinkControl
from poetry.testing._names import HostMap, HostMapResolver
from poetry.testing._ports import ListeningPort, PortTable
from poetry.testing._seed import resolve_seed
from poetry.testing._socket import RECEIVE_BUFFER, SEND_BUFFER
from poetry.testing._tls import tls_available
from poetry.testing._trace import TraceEvent, events_of, format_events
from poetry.testing._transport import MemoryTransport
from poetry.testing._udp import MulticastUDPPort, UDPPort, UDPStack

if TYPE_CHECKING:
    from twisted.internet.protocol import AbstractDatagramProtocol

    from poetry.testing._hosts import HostReactor

__all__ = ["MemoryNetwork"]


def _stop() -> bool:
    return True


def _one_unit_per_tick() -> Any:
    return _stop


def _store_link(settings: dict[Any, Any], key: object, value: object) -> None:
    store_conditions(settings, key, value, LinkConditions, "link conditions")


@implementer(
    IReactorTCP,
    IReactorUNIX,
    IReactorTime,
    IReactorPluggableNameResolver,
    IReactorCore,
    IReactorFromThreads,
    IReactorUDP,
    IReactorMulticast,
)
class MemoryNetwork(ReactorCore):
    """
    An in-memory TCP world on a virtual clock: a reactor for code under
    test.

    Unchanged production code that takes a reactor -- including
    L{TCP4ServerEndpoint<twisted.internet.endpoints.TCP4ServerEndpoint>},
    L{TCP4ClientEndpoint<twisted.internet.endpoints.TCP4ClientEndpoint>},
    L{HostnameEndpoint<twisted.internet.endpoints.HostnameEndpoint>},
    C{serverFromString(net, "tcp:0:interface=127.0.0.1")} and
    C{clientFromString(net, "tcp:host=127.0.0.1:port=N")}, their IPv6
    counterparts (C{TCP6ServerEndpoint}, C{TCP6ClientEndpoint}) and the UNIX
    ones (C{UNIXServerEndpoint}, C{UNIXClientEndpoint}, C{"unix:PATH"}) --
    runs on it.
    Nothing happens until the test drives the network with
    L{run<MemoryNetwork.run>}, L{run_until<MemoryNetwork.run_until>},
    L{advance<MemoryNetwork.advance>} or L{step<MemoryNetwork.step>}.

    What protocols see is what the real reactor shows them, as established
    by the differential oracle (C{tests/oracle}); C{docs/testing.md} lists
    the differences that remain.

    With pyOpenSSL installed (the C{tls} extra), it is also an
    L{IReactorSSL<twisted.internet.interfaces.IReactorSSL>}: C{listenSSL},
    C{connectSSL}, C{SSL4ServerEndpoint}, C{SSL4ClientEndpoint},
    C{serverFromString(net, "ssl:...")} -- Twisted's own TLS over the
    network's connections, on its clock -- and its transports provide
    C{ITLSTransport.startTLS} (see L{poetry.testing._tls}).

    @param seed: the seed of L{random}; L{None} reads C{POETRY_TEST_SEED}
        from the environment, or picks one at random.  Every error the
        harness raises names it, with a one-line reproduction.
    @param hosts: names and their addresses (one IPv4 or IPv6 literal, or
        a sequence of them), in addition to C{"localhost" -> "127.0.0.1"}.
        Any other name fails to resolve
        (L{DNSLookupError<twisted.internet.error.DNSLookupError>}); IP
        literals need no entry.
    @param step_budget: the most steps one C{run}, C{run_until} or
        C{advance} call may take before raising L{StepBudgetExceeded}.
    @param trace: whether to record the trace (L{trace}, L{trace_dump});
        on by default, and cheap.  Without it L{trace} is empty, so
        L{assert_deterministic} cannot compare runs and diagnostics cannot
        show recent events.
    @param trace_checksums: whether each C{write} event also records a
        CRC-32 of the bytes written, so that traces differ when contents do
        (a pass over every byte; L{assert_deterministic} turns it on).
    @param link: the default L{LinkConditions} of every connection (see
        L{set_default_link}).
    @param faults: a fault plan, such as L{Chaos}, installed at once.
    @param receive_buffer: the kernel receive queue of every socket, in
        bytes (see L{poetry.testing._socket.RECEIVE_BUFFER}).
    @param send_buffer: the kernel send queue of every socket, in bytes
        (see L{poetry.testing._socket.SEND_BUFFER}).
    @param timer_errors: C{"log"} (the default, as the real reactor: a timed
        call that raises is logged, which fails a trial test, and the other
        calls run) or C{"raise"} (L{TimerErrors} once the calls due in that
        pass have run).

    @ivar seed: the seed.
    @ivar random: the one L{random.Random} of this world, seeded with
        C{seed}: use it for any randomness in code under test.
    @ivar test_id: set by L{MemoryNetworkTestCase} to the running test's id
        (shown in reproduction lines).
    @ivar nameResolver: the L{IHostnameResolver} (a host map).
    @ivar trace_checksums: see the parameter of the same name.
    """

    # Link conditions, faults and UDP: created on first use.
    _links: LinkControl | None = None
    _faults: Faults | None = None
    _udp: UDPStack | None = None

    def __init__(
        self,
        seed: int | None = None,
        *,
        hosts: Mapping[str, str | Sequence[str]] | None = None,
        step_budget: int = 1_000_000,
        trace: bool = True,
        trace_checksums: bool = False,
        link: LinkConditions | None = None,
        faults: FaultPlan | None = None,
        receive_buffer: int = RECEIVE_BUFFER,
        send_buffer: int = SEND_BUFFER,
        timer_errors: str = "log",
    ) -> None:
        super().__init__(resolve_seed(seed), step_budget, trace, trace_checksums)
        if timer_errors not in ("log", "raise"):
            raise ValueError(
                f"timer_errors must be 'log' or 'raise', not {timer_errors!r}"
            )
        self.timer_errors = timer_errors
        for name, value in (
            ("receive_buffer", receive_buffer),
            ("send_buffer", send_buffer),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, not {value!r}")
        self._names = HostMap(hosts)
        self.nameResolver: IHostnameResolver = HostMapResolver(
            self._names.addresses, self.schedule_step
        )
        self._ports = PortTable(self)
        self._tcp = TCPStack(
            self, self._ports, self._names.resolve, self._names.is_local
        )
        self._tcp.receive_buffer = receive_buffer
        self._tcp.send_buffer = send_buffer
        if link is not None:
            self.set_default_link(link)
        if faults is not None:
            faults.install(self)

    def __repr__(self) -> str:
        return (
            f"<MemoryNetwork seed={self.seed} t={self._now!r} "
            f"connections={len(self._tcp.connections)} "
            f"listening={len(self._tcp.listeners)}>"
        )

    # Names

    def add_host(self, name: str, address: str, *addresses: str) -> None:
        """
        Make C{name} stand for C{address} and C{addresses} (IPv4 or IPv6
        literals), in that order, instead of what it stood for (see
        L{poetry.testing._names} for which lookups see which).

        @raise ValueError: if an address is not an IPv4 or IPv6 literal.
        """
        self._names.add(name, address, *addresses)

    def installNameResolver(self, resolver: IHostnameResolver) -> IHostnameResolver:
        """
        Replace the name resolver; return the previous one.
        """
        previous = self.nameResolver
        self.nameResolver = resolver
        return previous

    def resolve_name(self, name: str) -> str | None:
        """
        The address C{name} stands for: itself if it is an IP literal (an
        IPv6 one as the C library writes it), its first IPv4 address in the
        host map, or L{None}.
        """
        return self._names.resolve(name)

    def resolve(self, name: str, timeout: object = None) -> Deferred[str]:
        """
        As the real reactor's
        L{resolve<twisted.internet.interfaces.IReactorCore.resolve>}: an
        empty name is C{"0.0.0.0"} and an IPv4 literal is itself (L{str} or
        L{bytes}, returned as given), both in a L{Deferred} that has already
        fired; any other name, L{str} or L{bytes}, is looked up for IPv4
        addresses with the installed name resolver (the network's host map
        unless another is installed), and the L{Deferred} fires in a later
        step with the first address, a L{str}, or fails with
        L{DNSLookupError<twisted.internet.error.DNSLookupError>} carrying
        the name as given (as C{gethostbyname} fails for a name with IPv6
        addresses only, or an IPv6 literal).
        C{timeout} is ignored, as by the real reactor's default resolver.
        """
        if not name:
            return succeed("0.0.0.0")
        if isIPAddress(name):
            return succeed(name)
        return ComplexResolverSimplifier(self.nameResolver).getHostByName(name)

    # Cooperation

    def cooperator(self) -> Cooperator:
        """
        A new L{Cooperator} driven by this network, for code that takes one
        (e.g. C{FileBodyProducer(f, cooperator=net.cooperator())}).

        L{twisted.internet.task.cooperate} schedules on the global reactor and
        slices work by wall-clock time; this one ticks with C{callLater(0)}
        on the virtual clock (so ticks show in the trace and count against
        the step budget) and runs exactly one unit of work per tick, taking
        tasks in turn: deterministic.
        """
        return Cooperator(
            terminationPredicateFactory=_one_unit_per_tick,
            scheduler=lambda work: self.callLater(0, work),
        )

    # IReactorTCP

    def listenTCP(
        self,
        port: int,
        factory: IProtocolFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> ListeningPort[IPv4Address | IPv6Address]:
        """
        Listen on the virtual address C{interface}:C{port}, as the real
        reactor's C{tcp.Port} (see L{ListeningPort}).

        C{interface} C{""} means C{0.0.0.0}, which accepts connections to any
        address; a host name is looked up in the host map.  Port 0 allocates
        a free port (deterministically, counting up from 32768).  The
        factory's C{doStart} is called.

        @raise CannotListenError: if the address is taken (the same port on
            the same interface, or either is C{0.0.0.0}, or a client socket
            uses it), or the interface is unknown.
        @raise OverflowError: if C{port} is outside 0-65535, as on real TCP.
        """
        if not 0 <= port <= 65535:
            raise OverflowError("bind(): port must be 0-65535.")
        listening: ListeningPort[IPv4Address | IPv6Address] = ListeningPort(
            self._tcp, self, self, port, factory, backlog, interface
        )
        listening.startListening()
        return listening

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        timeout: float = 30.0,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """
        Connect to C{host}:C{port} in memory, as the real reactor does:
        the factory's C{doStart} and C{startedConnecting(connector)} now; in
        the next iteration the address is resolved and the handshake made;
        the connection is reported (C{buildProtocol}, C{makeConnection}) or
        the attempt fails (C{clientConnectionFailed} with
        L{ConnectionRefusedError<twisted.internet.error.ConnectionRefusedError>},
        L{DNSLookupError<twisted.internet.error.DNSLookupError>},
        L{ConnectBindError<twisted.internet.error.ConnectBindError>},
        L{twisted.internet.error.TimeoutError} ...) in the iteration after.

        @param timeout: seconds after which an attempt that has not
            completed fails with L{twisted.internet.error.TimeoutError} (a
            real timer from the start, as on the real reactor; L{None}:
            never).
        """
        connector = Connector(
            self._tcp, self, host, port, factory, timeout, bindAddress, self
        )
        connector.connect()
        return connector

    # IReactorUNIX

    def listenUNIX(
        self,
        address: str | bytes,
        factory: IProtocolFactory,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: int = 0,
    ) -> IListeningPort:
        """
        Listen on the UNIX socket path C{address}, as the real reactor's
        C{unix.Port} (see L{poetry.testing._unix}): the factory's C{doStart}
        is called, then the path is bound -- in the network's namespace:
        no file is created; C{stopListening} frees the path.  With
        C{wantPID}, the lock file C{address + ".lock"} is taken first (also
        in the namespace).  C{mode} is kept, not applied.

        @raise CannotListenError: if the path is taken (C{EADDRINUSE}) or
            too long, or (with C{wantPID}) its lock is held.
        """
        from poetry.testing._unix import UNIXListeningPort

        listening = UNIXListeningPort(
            self._tcp, self, self, address, factory, backlog, mode, wantPID
        )
        listening.startListening()
        return listening

    def connectUNIX(
        self,
        address: str | bytes,
        factory: ClientFactory[Any],
        timeout: float = 30,
        checkPID: int = 0,
    ) -> IConnector:
        """
        Connect to the UNIX socket path C{address}, as the real reactor
        does: C{doStart} and C{startedConnecting(connector)} now; in the
        next iteration the socket connects at once -- the protocol is built
        and connected then, before the server accepts -- or the attempt
        fails (C{clientConnectionFailed}:
        L{ConnectError<twisted.internet.error.ConnectError>} with C{ENOENT} for a path
        nobody listens on; with C{checkPID},
        L{BadFileError<twisted.internet.error.BadFileError>} if no lock file is held for
        it).
        """
        from poetry.testing._unix import UNIXConnector

        connector = UNIXConnector(
            self._tcp, self, address, factory, timeout, self, checkPID
        )
        connector.connect()
        return connector

    # IReactorSSL (with pyOpenSSL: declared below)

    def listenSSL(
        self,
        port: int,
        factory: IProtocolFactory,
        contextFactory: object,
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        """
        Listen on C{port} with TLS, as the real reactor does it: C{listenTCP}
        with Twisted's L{TLSMemoryBIOFactory<twisted.protocols.tls.TLSMemoryBIOFactory>}
        wrapping C{factory}, the network as its clock (the protocols'
        transport is the TLS protocol).

        @param contextFactory: the server's TLS options, e.g.
            L{CertificateOptions<twisted.internet.ssl.CertificateOptions>}
            (an C{IOpenSSLServerConnectionCreator}, or the older
            C{IOpenSSLContextFactory} Twisted still accepts).
        @raise ImportError: if pyOpenSSL is missing (naming the C{tls}
            extra).
        """
        from poetry.testing._tls import listen_ssl

        return listen_ssl(self, port, factory, contextFactory, backlog, interface)

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        contextFactory: object,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """
        Connect to C{host}:C{port} with TLS, as the real reactor does it:
        C{connectTCP} with Twisted's
        L{TLSMemoryBIOFactory<twisted.protocols.tls.TLSMemoryBIOFactory>}
        wrapping C{factory}, the network as its clock.

        @param contextFactory: the client's TLS options, e.g.
            C{optionsForClientTLS(hostname, trustRoot=...)}.
        @raise ImportError: if pyOpenSSL is missing (naming the C{tls}
            extra).
        """
        from poetry.testing._tls import connect_ssl

        return connect_ssl(
            self, host, port, factory, contextFactory, timeout, bindAddress
        )

    # IReactorUDP, IReactorMulticast

    @property
    def udp(self) -> UDPStack:
        """
        The UDP stack: its open ports and the conditions datagrams travel
        under (L{DatagramConditions<poetry.testing.DatagramConditions>}; see
        L{UDPStack}).
        """
        udp = self._udp
        if udp is None:
            names = self._names
            udp = self._udp = UDPStack(
                self, self, names.resolve, names.is_local, self._partitioned
            )
        return udp

    def _partitioned(self, a: str, b: str) -> bool:
        links = self._links
        return links is not None and frozenset((a, b)) in links.partitions

    def listenUDP(
        self,
        port: int,
        protocol: AbstractDatagramProtocol,
        interface: str = "",
        maxPacketSize: int = 8192,
    ) -> UDPPort:
        """
        Bind a UDP port on the virtual address C{interface}:C{port} and
        connect C{protocol} to it, as the real reactor's C{udp.Port} (see
        L{UDPPort}): the protocol's C{startProtocol} is called before this
        returns.

        C{interface} C{""} means C{0.0.0.0} (every address of the network);
        it must be an IP address (a host name is
        L{InvalidAddressError<twisted.internet.error.InvalidAddressError>},
        as on the real reactor).  Port 0 allocates a free port
        (deterministically, counting up from 32768); UDP ports are a
        namespace apart from TCP's.

        @raise CannotListenError: if the address is taken or not an
            address of the network.
        @raise OverflowError: if C{port} is outside 0-65535.
        """
        listening = UDPPort(self.udp, self, port, protocol, interface, maxPacketSize)
        listening.startListening()
        return listening

    def listenMulticast(
        self,
        port: int,
        protocol: AbstractDatagramProtocol,
        interface: str = "",
        maxPacketSize: int = 8192,
        listenMultiple: bool = False,
    ) -> MulticastUDPPort:
        """
        As L{listenUDP}, with the multicast methods (C{joinGroup},
        C{leaveGroup}, C{setLoopbackMode}, C{setTTL},
        C{setOutgoingInterface}: see L{MulticastUDPPort}); with
        C{listenMultiple}, other ports listening multiple may share the
        port number.
        """
        listening = MulticastUDPPort(
            self.udp, self, port, protocol, interface, maxPacketSize, listenMultiple
        )
        listening.startListening()
        return listening

    # Link conditions and faults

    def _link_control(self) -> LinkControl:
        links = self._links
        if links is None:
            links = self._links = LinkControl(self, self._tcp, self._names.resolve)
            self._tcp.policy = links
        return links

    def set_default_link(
        self, conditions: LinkConditions | None, *, direction: str | None = None
    ) -> None:
        """
        Set the conditions of every connection that has no more specific
        setting (L{None} removes them).  Precedence, most specific first:
        L{set_connection_link}, L{set_link_for_listener}, L{set_link}, this.
        Applies at once to open connections and to later ones.

        @param direction: C{"client->server"} or C{"server->client"} for one
            direction only; L{None} for both.
        """
        links = self._link_control()
        for one in directions_of(direction):
            _store_link(links.default_links, one, conditions)
        links.refresh()

    def set_link(
        self,
        host_a: str,
        host_b: str,
        conditions: LinkConditions | None,
        *,
        one_way: bool = False,
    ) -> None:
        """
        Set the conditions between two hosts (names in the host map or IPv4
        addresses): of the bytes from C{host_a} to C{host_b} and, unless
        C{one_way}, from C{host_b} to C{host_a}.  A connection's hosts are
        the addresses of its two ends.  L{None} removes the setting.
        """
        links = self._link_control()
        a, b = links.host(host_a), links.host(host_b)
        _store_link(links.pair_links, (a, b), conditions)
        if not one_way:
            _store_link(links.pair_links, (b, a), conditions)
        links.refresh()

    def set_link_for_listener(
        self,
        address: Address,
        conditions: LinkConditions | None,
        *,
        direction: str | None = None,
    ) -> None:
        """
        Set the conditions of the connections made to a listening address
        (a C{(host, port)} tuple, an L{IPv4Address} or the listening port;
        host C{0.0.0.0} matches every host on that port).  L{None} removes
        the setting.
        """
        links = self._link_control()
        host, port = links.address(address)
        for one in directions_of(direction):
            _store_link(links.listener_links, (host, port, one), conditions)
        links.refresh()

    def set_connection_link(
        self,
        connection: MemoryTransport | int,
        conditions: LinkConditions | None,
        *,
        direction: str | None = None,
    ) -> None:
        """
        Set the conditions of one open connection (either of its transports,
        or its id); they override every other setting.  Bytes already in
        flight keep their arrival times.  L{None} removes the setting.

        @raise ValueError: if the connection is closed or never existed.
        """
        links = self._link_control()
        record = links.connection(connection)
        if record is None:
            raise ValueError(f"connection {connection!r} is closed")
        for one in directions_of(direction):
            _store_link(links.connection_links, (record.id, one), conditions)
        links.refresh()

    def link_for(
        self, connection: MemoryTransport | int, direction: str
    ) -> LinkConditions:
        """
        The conditions that apply to one direction of an open connection.

        @raise ValueError: if the connection is closed or never existed.
        """
        (one,) = directions_of(direction)
        links = self._link_control()
        record = links.connection(connection)
        if record is None:
            raise ValueError(f"connection {connection!r} is closed")
        return record.link(one).conditions if record.link(one).conditions else PLAIN

    @property
    def faults(self) -> Faults:
        """
        Fault injection: refuse, hang, reset, stall, partition, abort -- now,
        at a virtual time or after a byte count (see L{Faults}).
        """
        faults = self._faults
        if faults is None:
            faults = self._faults = Faults(self._link_control())
        return faults

    def host(self, name: str) -> HostReactor:
        """
        A reactor for code running on the host C{name} (a name in the host
        map or an IPv4 address): its C{connectTCP} binds the client end to
        that host (unless given a C{bindAddress}) and its C{listenTCP}
        listens there by default; everything else is this network's.  Use it
        to give each party of a test its own host, e.g. for partitions.

        @raise ValueError: if the name is unknown.
        """
        from poetry.testing._hosts import HostReactor

        reactor = HostReactor(self, name)
        self._names.make_local(reactor.address)
        return reactor

    # Inspection

    @property
    def trace(self) -> tuple[TraceEvent, ...]:
        """
        Every event so far, in order (see L{TraceEvent}).
        """
        return events_of(self._trace)

    def trace_dump(self) -> str:
        """
        The trace as text, one line per event: time, connection, kind, side,
        detail.
        """
        return format_events(self.trace)

    def open_connections(self) -> list[tuple[MemoryTransport, MemoryTransport]]:
        """
        The C{(client, server)} transports of every connection that is not
        closed on both ends, oldest first.  A connection still waiting in a
        listening port's accept queue has no server transport yet and is not
        listed (L{describe} shows it).
        """
        return [
            (connection.client, connection.server)
            for connection in self._tcp.connections.values()
            if connection.server is not None
        ]

    def _selectables(self) -> list[Any]:
        """
        What a real reactor would have registered now (see
        C{disconnectAll}): listening ports (TCP, UNIX, UDP), and the ends of
        connections and connection attempts registered for reading or
        writing -- oldest first.
        """
        tcp = self._tcp
        found: list[Any] = []
        seen: set[int] = set()
        for port, _ in tcp.listeners.values():
            if port.reading and id(port) not in seen:
                seen.add(id(port))
                found.append(port)
        if self._udp is not None:
            found.extend(port for port in self._udp.ports_open.values() if port.reading)
        ends: list[Any] = list(tcp.attempts.values())
        for connection in tcp.connections.values():
            ends.append(connection.client)
            if connection.server is not None:
                ends.append(connection.server)
        found.extend(end for end in ends if end.reading or end.writing)
        return found

    def open_transports(self) -> list[MemoryTransport]:
        """
        The transports of every open connection, oldest first: both ends of
        those listed by L{open_connections}, and the client end of those
        still waiting to be accepted.
        """
        transports: list[MemoryTransport] = []
        for connection in self._tcp.connections.values():
            transports.append(connection.client)
            if connection.server is not None:
                transports.append(connection.server)
        return transports

    def listening_ports(self) -> list[IListeningPort]:
        """
        The ports currently listening, oldest first.
        """
        return [port for port, _ in self._tcp.listeners.values()]

    def describe(self) -> str:
        """
        Everything still open or pending: connections (with unread bytes per
        direction and the state of each end), connection attempts, listening
        ports and timers.
        """
        tcp = self._tcp
        lines: list[str] = []
        if tcp.connections:
            lines.append(f"Open connections ({len(tcp.connections)}):")
            for connection in tcp.connections.values():
                lines.append("  " + connection.describe())
        else:
            lines.append("Open connections: none")
        if tcp.attempts:
            lines.append(f"Connection attempts in progress ({len(tcp.attempts)}):")
            for connection_id, client in tcp.attempts.items():
                factory = getattr(client, "connector", None)
                name = type(factory.factory).__name__ if factory is not None else "?"
                lines.append(f"  #{connection_id} to {client.destination()} ({name})")
        if tcp.listeners:
            lines.append(f"Listening ports ({len(tcp.listeners)}):")
            for local, (port, _) in tcp.listeners.items():
                lines.append(
                    f"  {port.describe_end(local)} ({type(port.factory).__name__})"
                )
        else:
            lines.append("Listening ports: none")
        udp = self._udp
        if udp is not None and udp.sockets:
            lines.append(udp.describe())
        lines.append(self._describe_timers())
        if self._links is not None:
            faults = self._links.describe()
            if faults:
                lines.append(faults)
        return "\n".join(lines)

    def assert_clean(self) -> None:
        """
        Check that nothing is left: no pending timer, no open connection, no
        connection attempt, no listening port (TCP or UDP).

        @raise Unclean: listing what is left.
        """
        tcp = self._tcp
        udp = self._udp
        if (
            tcp.connections
            or tcp.attempts
            or tcp.listeners
            or (udp is not None and udp.sockets)
            or self.getDelayedCalls()
        ):
            raise Unclean(
                f"The MemoryNetwork is not clean at t={self._now!r}:\n"
                + self.describe()
                + "\nClose connections, stop listening ports and cancel timers "
                "before the test ends (addCleanup).",
                self.seed,
                self.test_id,
            )


if tls_available():
    # As the real reactor (posixbase): IReactorSSL where TLS can work.
    classImplements(MemoryNetwork, IReactorSSL)
