"""
L{MemoryNetwork}: a reactor whose C{listenTCP} and C{connectTCP} connect
protocols in memory, on a virtual clock, reproducibly from one seed.

The network composes its layers and adds nothing of its own but the reactor
interfaces and the inspection helpers:

  - the scheduler (L{poetry.testing._clock}): virtual time, timers, steps;
  - names (L{poetry.testing._names}): the host map and the resolver;
  - the TCP stack (L{poetry.testing._connect}, L{poetry.testing._ports}):
    ports, the handshake, connections; each connection is two transports
    (L{poetry.testing._transport}) over two kernel sockets
    (L{poetry.testing._socket}) joined by two links
    (L{poetry.testing._link});
  - link conditions and faults (L{poetry.testing._faults}), created on
    first use;
  - the UDP stack (L{poetry.testing._udp}, C{net.udp}), created on first
    use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import (
    IConnector,
    IHostnameResolver,
    IListeningPort,
    IProtocolFactory,
    IReactorCore,
    IReactorFromThreads,
    IReactorMulticast,
    IReactorPluggableNameResolver,
    IReactorTCP,
    IReactorTime,
    IReactorUDP,
)
from twisted.internet.protocol import ClientFactory
from twisted.internet.task import Cooperator
from zope.interface import implementer

from poetry.testing._core import ReactorCore
from poetry.testing._conditions import PLAIN, LinkConditions, directions_of
from poetry.testing._connect import Connector, TCPStack
from poetry.testing._errors import Unclean
from poetry.testing._faults import Address, FaultPlan, Faults, LinkControl
from poetry.testing._names import HostMap, HostMapResolver
from poetry.testing._ports import ListeningPort, PortTable
from poetry.testing._seed import resolve_seed
from poetry.testing._socket import RECEIVE_BUFFER, SEND_BUFFER
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


def _store(settings: dict[Any, Any], key: object, value: object) -> None:
    if value is not None and not isinstance(value, LinkConditions):
        raise TypeError(
            f"link conditions must be LinkConditions or None, not {value!r}"
        )
    if value is None:
        settings.pop(key, None)
    else:
        settings[key] = value


@implementer(
    IReactorTCP,
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
    C{clientFromString(net, "tcp:host=127.0.0.1:port=N")} -- runs on it.
    Nothing happens until the test drives the network with
    L{run<MemoryNetwork.run>}, L{run_until<MemoryNetwork.run_until>},
    L{advance<MemoryNetwork.advance>} or L{step}.

    What protocols see is what the real reactor shows them, as established
    by the differential oracle (C{tests/oracle}); C{docs/testing.md} lists
    the differences that remain.

    @param seed: the seed of L{random}; L{None} reads C{POETRY_TEST_SEED}
        from the environment, or picks one at random.  Every error the
        harness raises names it, with a one-line reproduction.
    @param hosts: names and their IPv4 addresses, in addition to
        C{"localhost" -> "127.0.0.1"}.  Any other name fails to resolve
        (L{DNSLookupError}); IPv4 literals need no entry.
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
        hosts: Mapping[str, str] | None = None,
        step_budget: int = 1_000_000,
        trace: bool = True,
        trace_checksums: bool = False,
        link: LinkConditions | None = None,
        faults: FaultPlan | None = None,
        receive_buffer: int = RECEIVE_BUFFER,
        send_buffer: int = SEND_BUFFER,
    ) -> None:
        super().__init__(resolve_seed(seed), step_budget, trace, trace_checksums)
        for name, value in (("receive_buffer", receive_buffer), ("send_buffer", send_buffer)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, not {value!r}")
        self._names = HostMap(hosts)
        self.nameResolver: IHostnameResolver = HostMapResolver(
            self._names.resolve, self._ready
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

    def add_host(self, name: str, address: str) -> None:
        """
        Make C{name} resolve to the IPv4 address C{address}.

        @raise ValueError: if C{address} is not an IPv4 address literal.
        """
        self._names.add(name, address)

    def installNameResolver(self, resolver: IHostnameResolver) -> IHostnameResolver:
        """
        Replace the name resolver; return the previous one.
        """
        previous = self.nameResolver
        self.nameResolver = resolver
        return previous

    def resolve_name(self, name: str) -> str | None:
        """
        The IPv4 address C{name} stands for: itself if it is an IPv4 literal,
        its entry in the host map, or L{None}.
        """
        return self._names.resolve(name)

    def resolve(self, name: str, timeout: object = None) -> Deferred[str]:
        """
        A lookup in the host map in the manner of
        L{IReactorCore.resolve<twisted.internet.interfaces.IReactorCore.resolve>}:
        a L{Deferred} that fires, in a later step, with the address or fails
        with L{DNSLookupError}.
        """
        d: Deferred[str] = Deferred()

        def finish() -> None:
            address = self._names.resolve(name)
            if address is None:
                d.errback(DNSLookupError(name))
            else:
                d.callback(address)

        self._ready.append(finish)
        return d

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
    ) -> ListeningPort:
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
        listening = ListeningPort(
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
        L{ConnectionRefusedError}, L{DNSLookupError}, L{ConnectBindError},
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
            _store(links.default_links, one, conditions)
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
        _store(links.pair_links, (a, b), conditions)
        if not one_way:
            _store(links.pair_links, (b, a), conditions)
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
            _store(links.listener_links, (host, port, one), conditions)
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
            _store(links.connection_links, (record.id, one), conditions)
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

    def open_connections(self) -> list[tuple[MemoryTransport, MemoryTransport | None]]:
        """
        The C{(client, server)} transports of every connection that is not
        closed on both ends, oldest first; the server transport is L{None}
        while the connection waits to be accepted.
        """
        return [
            (connection.client, connection.server)
            for connection in self._tcp.connections.values()
        ]

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
                host, port = client.addr
                factory = getattr(client, "connector", None)
                name = type(factory.factory).__name__ if factory is not None else "?"
                lines.append(f"  #{connection_id} to {host}:{port} ({name})")
        if tcp.listeners:
            lines.append(f"Listening ports ({len(tcp.listeners)}):")
            for (host, number), (port, _) in tcp.listeners.items():
                lines.append(f"  {host}:{number} ({type(port.factory).__name__})")
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
