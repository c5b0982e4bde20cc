"""
L{MemoryNetwork}: a reactor whose C{listenTCP} and C{connectTCP} connect
protocols in memory, on a virtual clock, reproducibly from one seed.
"""

from __future__ import annotations

import errno
import os
import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from twisted.internet.abstract import isIPAddress
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import (
    CannotListenError,
    ConnectBindError,
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    NotConnectingError,
    UserError,
)
from twisted.internet.interfaces import (
    IConnector,
    IHostnameResolver,
    IListeningPort,
    IProtocolFactory,
    IReactorCore,
    IReactorFromThreads,
    IReactorPluggableNameResolver,
    IReactorTCP,
    IReactorTime,
    _Binding,
)
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.internet.task import Cooperator
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.testing._conditions import LinkConditions, directions_of
from poetry.testing._core import ReactorCore
from poetry.testing._errors import Unclean
from poetry.testing._resolver import HostMapResolver
from poetry.testing._seed import resolve_seed
from poetry.testing._trace import TraceEvent, events_of, format_events
from poetry.testing._transport import (
    DEFAULT_HIGH_WATER,
    DEFAULT_LOW_WATER,
    MemoryTransport,
    Pipe,
)

if TYPE_CHECKING:
    from poetry.testing._faults import Address, FaultPlan, Faults, LinkControl
    from poetry.testing._hosts import HostReactor

__all__ = ["MemoryNetwork"]

_log = Logger()

_ANY = "0.0.0.0"
_LOCALHOST = "127.0.0.1"

# The Linux ephemeral port range, used for port 0 and for client ports.
_FIRST_PORT = 32768
_LAST_PORT = 60999


def _os_error(code: int) -> OSError:
    return OSError(code, os.strerror(code))


def _stop() -> bool:
    return True


def _one_unit_per_tick() -> Callable[[], bool]:
    return _stop


def _fast_address(host: str, port: int) -> IPv4Address:
    """
    C{IPv4Address("TCP", host, port)} without re-validating the type.
    """
    address = _new(IPv4Address)
    address.type = "TCP"
    address.host = host
    address.port = port
    return address


_new = object.__new__


def _store(settings: dict[Any, Any], key: object, value: object) -> None:
    if value is not None and not isinstance(value, LinkConditions):
        raise TypeError(
            f"link conditions must be LinkConditions or None, not {value!r}"
        )
    if value is None:
        settings.pop(key, None)
    else:
        settings[key] = value


def _describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _describe_failure(failure: Failure) -> str:
    name = failure.type.__name__ if failure.type is not None else "?"
    return f"{name}: {failure.getErrorMessage()}"


def _describe_connection(client: MemoryTransport) -> str:
    server = client.other
    return (
        f"#{client.connection_id} {client._host.host}:{client._host.port} (client) "
        f"<-> {server._host.host}:{server._host.port} (server)\n"
        f"      client -> server: {client._out.unread} bytes unread; "
        f"server -> client: {server._out.unread} bytes unread\n"
        f"      client: {client.state()}; server: {server.state()}"
    )


@implementer(IListeningPort)
class _ListeningPort:
    """
    A virtual listening TCP port of a L{MemoryNetwork}.

    @ivar factory: the server factory.
    @ivar interface: the interface as given to C{listenTCP}.
    @ivar backlog: as given to C{listenTCP} (recorded, not enforced).
    @ivar listening: whether the port is bound.
    """

    def __init__(
        self,
        net: MemoryNetwork,
        factory: IProtocolFactory,
        address: str,
        port: int,
        backlog: int,
        interface: str,
    ) -> None:
        self._net = net
        self.factory = factory
        self._address = address
        self.port = port
        self.backlog = backlog
        self.interface = interface
        self.listening = False
        self._host = IPv4Address("TCP", address, port)
        # destination address -> the server-side address of connections
        self._server_addresses: dict[str, IPv4Address] = {}

    def __repr__(self) -> str:
        state = "listening" if self.listening else "not listening"
        return (
            f"<{type(self.factory).__name__} on {self._address}:{self.port} "
            f"(MemoryNetwork, {state})>"
        )

    def startListening(self) -> None:
        """
        Bind the address again after L{stopListening}.

        @raise CannotListenError: if it is taken meanwhile.
        """
        if not self.listening:
            self._net._bind_listener(self)
            self.factory.doStart()

    def stopListening(self) -> Deferred[None]:
        """
        Unbind the address and call the factory's C{doStop}.  Connections
        already accepted stay open.  A second call does nothing.

        @return: a L{Deferred} that has already fired (the real reactor fires
            it in a later iteration).
        """
        if not self.listening:
            return succeed(None)
        self._net._unbind_listener(self)
        try:
            self.factory.doStop()
        except Exception:
            return fail()
        return succeed(None)

    loseConnection = stopListening

    def getHost(self) -> IPv4Address:
        """
        The bound address: C{IPv4Address("TCP", interface or "0.0.0.0",
        port)}, with the allocated port if 0 was asked for.
        """
        return self._host


class _Attempt:
    """
    One connection attempt of a L{_Connector}: completes, or fails, in a
    later step.
    """

    __slots__ = ("connector", "done", "id", "net")

    def __init__(self, net: MemoryNetwork, connector: _Connector, id: int) -> None:
        self.net = net
        self.connector = connector
        self.id = id
        self.done = False

    def step(self) -> None:
        if not self.done:
            self.net._complete_attempt(self)

    # The ready queue calls the attempt itself (no bound method).
    __call__ = step

    def fail(self, error: BaseException) -> None:
        """
        Fail the attempt: C{clientConnectionFailed(connector, error)}.
        """
        if self.done:
            return
        self.done = True
        net = self.net
        net._attempts.pop(self.id, None)
        links = net._links
        if links is not None:
            links.attempt_finished(self.id)
        net._trace.extend(
            (net._now, "connect-failed", self.id, "client", _describe_error(error))
        )
        self.connector._connection_failed(Failure(error))


@implementer(IConnector)
class _Connector:
    """
    The L{IConnector} returned by L{MemoryNetwork.connectTCP}; its state
    machine is that of the real reactor's connector (C{"disconnected"},
    C{"connecting"}, C{"connected"}).
    """

    def __init__(
        self,
        net: MemoryNetwork,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        timeout: float | None,
        bindAddress: object,
    ) -> None:
        self._net = net
        self.host = host
        self.port = port
        self.factory = factory
        self.timeout = timeout
        self.bindAddress = bindAddress
        self.state = "disconnected"
        self.transport: MemoryTransport | None = None
        self.factoryStarted = False
        self._attempt: _Attempt | None = None

    def __repr__(self) -> str:
        return f"<MemoryNetwork connector to {self.host}:{self.port} {self.state}>"

    def connect(self) -> None:
        """
        Start connecting (again).

        @raise RuntimeError: unless disconnected.
        """
        if self.state != "disconnected":
            raise RuntimeError("can't connect in this state")
        self.state = "connecting"
        if not self.factoryStarted:
            self.factory.doStart()
            self.factoryStarted = True
        self.transport = None
        net = self._net
        attempt_id = net._next_id
        net._next_id = attempt_id + 1
        attempt = self._attempt = _Attempt(net, self, attempt_id)
        net._attempts[attempt_id] = attempt
        net._trace.extend(
            (net._now, "connect", attempt_id, "client", f"{self.host}:{self.port}")
        )
        # The attempt completes in the next step, unless link conditions or
        # faults are in use (then LinkControl decides: after the link's
        # latency, refused, or hanging until the connector's timeout).
        links = net._links
        if links is None:
            net._ready.append(attempt)
        else:
            links.schedule_attempt(attempt)
        self.factory.startedConnecting(self)

    def stopConnecting(self) -> None:
        """
        Stop the attempt in progress: C{clientConnectionFailed} with
        L{UserError} is called synchronously, as by the real reactor.

        @raise NotConnectingError: if not connecting.
        """
        if self.state != "connecting":
            raise NotConnectingError("we're not trying to connect")
        attempt = self._attempt
        assert attempt is not None
        self.state = "disconnected"
        attempt.fail(UserError())

    def disconnect(self) -> None:
        """
        Stop connecting, or lose the connection.
        """
        if self.state == "connecting":
            self.stopConnecting()
        elif self.state == "connected" and self.transport is not None:
            self.transport.loseConnection()

    def getDestination(self) -> IPv4Address:
        """
        C{IPv4Address("TCP", host, port)} as given to C{connectTCP}.
        """
        return IPv4Address("TCP", self.host, self.port)

    # Network side.

    def _connection_failed(self, reason: Failure) -> None:
        self._attempt = None
        self.transport = None
        self.state = "disconnected"
        try:
            self.factory.clientConnectionFailed(self, reason)
        except Exception:
            _log.failure(
                "clientConnectionFailed of {factory} raised", factory=self.factory
            )
        self._maybe_stop_factory()

    def _connection_lost(self, reason: Failure) -> None:
        self.state = "disconnected"
        try:
            self.factory.clientConnectionLost(self, reason)
        except Exception:
            _log.failure(
                "clientConnectionLost of {factory} raised", factory=self.factory
            )
        self._maybe_stop_factory()

    def _maybe_stop_factory(self) -> None:
        if self.state == "disconnected" and self.factoryStarted:
            self.factoryStarted = False
            try:
                self.factory.doStop()
            except Exception:
                _log.failure("doStop of {factory} raised", factory=self.factory)


@implementer(
    IReactorTCP,
    IReactorTime,
    IReactorPluggableNameResolver,
    IReactorCore,
    IReactorFromThreads,
)
class MemoryNetwork(ReactorCore):
    """
    An in-memory TCP world on a virtual clock: a reactor for code under
    test.

    Unchanged production code that takes a reactor -- including
    L{TCP4ServerEndpoint}, L{TCP4ClientEndpoint}, L{HostnameEndpoint},
    C{serverFromString(net, "tcp:0:interface=127.0.0.1")} and
    C{clientFromString(net, "tcp:host=127.0.0.1:port=N")} -- runs on it.
    Nothing happens until the test drives the network with L{run},
    L{run_until}, L{advance} or L{step}.

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

    @ivar seed: the seed.
    @ivar random: the one L{random.Random} of this world, seeded with
        C{seed}: use it for any randomness in code under test.
    @ivar test_id: set by L{MemoryNetworkTestCase} to the running test's id
        (shown in reproduction lines).
    @ivar nameResolver: the L{IHostnameResolver} (a host map).
    @ivar high_water: the default high-water mark of new connections'
        pipes (bytes); see L{poetry.testing._transport.DEFAULT_HIGH_WATER}.
    @ivar low_water: the default low-water mark of new connections' pipes.
    @ivar trace_checksums: see the parameter of the same name.
    """

    # The class of the pipes of new connections (one per direction).
    _pipe_class: type[Pipe] = Pipe

    # Link conditions and faults: created on first use, so that a network
    # without any takes the plain path (one "is None" test per connection).
    _links: LinkControl | None = None
    _faults: Faults | None = None

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
    ) -> None:
        super().__init__(resolve_seed(seed), step_budget, trace)
        self.trace_checksums = trace_checksums
        self.random = random.Random(self.seed)
        self.high_water = DEFAULT_HIGH_WATER
        self.low_water = DEFAULT_LOW_WATER
        self._hosts: dict[str, str] = {"localhost": _LOCALHOST}
        # Every name resolved so far (host map entries and IPv4 literals).
        self._resolved: dict[str, str] = {}
        for name, address in (hosts or {}).items():
            self.add_host(name, address)
        self.nameResolver: IHostnameResolver = HostMapResolver(self)
        # (address, port) -> port; port number -> {address: port}
        self._listeners: dict[tuple[str, int], _ListeningPort] = {}
        self._listeners_by_port: dict[int, dict[str, _ListeningPort]] = {}
        # Port numbers in use by anything (for allocation) and bound
        # client addresses.
        self._port_use: dict[int, int] = {}
        self._client_addresses: set[tuple[str, int]] = set()
        self._next_port = _FIRST_PORT
        self._next_id = 1
        self._attempts: dict[int, _Attempt] = {}
        # connection id -> client end, for connections not closed on both ends
        self._connections: dict[int, MemoryTransport] = {}
        if link is not None:
            self.set_default_link(link)
        if faults is not None:
            faults.install(self)

    def __repr__(self) -> str:
        return (
            f"<MemoryNetwork seed={self.seed} t={self._now!r} "
            f"connections={len(self._connections)} "
            f"listening={len(self._listeners)}>"
        )

    # Names

    def add_host(self, name: str, address: str) -> None:
        """
        Make C{name} resolve to the IPv4 address C{address}.

        @raise ValueError: if C{address} is not an IPv4 address literal.
        """
        if not isIPAddress(address):
            raise ValueError(f"{address!r} is not an IPv4 address")
        self._hosts[name] = address
        self._resolved.clear()

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
        address = self._resolved.get(name)
        if address is not None:
            return address
        address = self._hosts.get(name)
        if address is None and isIPAddress(name):
            address = name
        if address is not None:
            self._resolved[name] = address
        return address

    def resolve(self, name: str, timeout: object = None) -> Deferred[str]:
        """
        L{IReactorCore.resolve}-style lookup in the host map: a L{Deferred}
        that fires, in a later step, with the address or fails with
        L{DNSLookupError}.
        """
        d: Deferred[str] = Deferred()

        def finish() -> None:
            address = self.resolve_name(name)
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

    # Link conditions and faults

    def _link_control(self) -> LinkControl:
        links = self._links
        if links is None:
            from poetry.testing._faults import LinkControl

            links = self._links = LinkControl(self)
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
        client = links.connection(connection)
        if client is None:
            raise ValueError(f"connection {connection!r} is closed")
        for one in directions_of(direction):
            _store(links.connection_links, (client.connection_id, one), conditions)
        links.refresh()

    def link_for(
        self, connection: MemoryTransport | int, direction: str
    ) -> LinkConditions:
        """
        The conditions that apply to one direction of an open connection.

        @raise ValueError: if the connection is closed or never existed.
        """
        from poetry.testing._conditions import PLAIN

        (one,) = directions_of(direction)
        links = self._links
        if links is None:
            if not isinstance(connection, MemoryTransport):
                self._link_control().connection(connection)
            return PLAIN
        client = links.connection(connection)
        if client is None:
            raise ValueError(f"connection {connection!r} is closed")
        return links.conditions_of(client, one)

    @property
    def faults(self) -> Faults:
        """
        Fault injection: refuse, hang, reset, stall, partition, abort -- now,
        at a virtual time or after a byte count (see L{Faults}).
        """
        faults = self._faults
        if faults is None:
            from poetry.testing._faults import Faults

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

        return HostReactor(self, name)

    # Ports

    def _allocate_port(self) -> int:
        port_use = self._port_use
        port = self._next_port
        if port not in port_use:
            # The usual case: the next port is free.
            self._next_port = port + 1 if port < _LAST_PORT else _FIRST_PORT
            return port
        span = _LAST_PORT - _FIRST_PORT + 1
        port = self._next_port
        for _ in range(span):
            candidate = port
            port = port + 1 if port < _LAST_PORT else _FIRST_PORT
            if candidate not in port_use:
                self._next_port = port
                return candidate
        raise _os_error(errno.EADDRNOTAVAIL)

    def _use_port(self, port: int) -> None:
        self._port_use[port] = self._port_use.get(port, 0) + 1

    def _release_port(self, port: int) -> None:
        left = self._port_use[port] - 1
        if left:
            self._port_use[port] = left
        else:
            del self._port_use[port]

    def _listener_conflict(self, address: str, port: int) -> bool:
        bound = self._listeners_by_port.get(port)
        if not bound:
            return False
        return address == _ANY or address in bound or _ANY in bound

    def _bind_listener(self, listener: _ListeningPort) -> None:
        address, port = listener._address, listener.port
        if port == 0:
            try:
                port = self._allocate_port()
            except OSError as e:
                raise CannotListenError(listener.interface, 0, e) from None
            listener.port = port
            listener._host = IPv4Address("TCP", address, port)
            listener._server_addresses.clear()
        elif self._listener_conflict(address, port):
            self._trace.extend(
                (self._now, "listen-failed", None, "", f"{address}:{port}")
            )
            raise CannotListenError(
                listener.interface, port, _os_error(errno.EADDRINUSE)
            )
        self._listeners[(address, port)] = listener
        self._listeners_by_port.setdefault(port, {})[address] = listener
        self._use_port(port)
        listener.listening = True
        self._trace.extend((self._now, "listen", None, "", f"{address}:{port}"))

    def _unbind_listener(self, listener: _ListeningPort) -> None:
        address, port = listener._address, listener.port
        del self._listeners[(address, port)]
        by_address = self._listeners_by_port[port]
        del by_address[address]
        if not by_address:
            del self._listeners_by_port[port]
        self._release_port(port)
        listener.listening = False
        self._trace.extend((self._now, "stop-listening", None, "", f"{address}:{port}"))

    # IReactorTCP

    def listenTCP(
        self,
        port: int,
        factory: IProtocolFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        """
        Listen on the virtual address C{interface}:C{port}.

        C{interface} C{""} means C{0.0.0.0}, which accepts connections to any
        address; a host name is looked up in the host map.  Port 0 allocates
        a free port (deterministically, counting up from 32768).  The
        factory's C{doStart} is called.

        @raise CannotListenError: if the address is taken (the same port on
            the same interface, or either is C{0.0.0.0}), the interface is
            unknown or not IPv4.
        @raise OverflowError: if C{port} is outside 0-65535, as on real TCP.
        """
        if not 0 <= port <= 65535:
            raise OverflowError("bind(): port must be 0-65535.")
        if interface in ("", _ANY):
            address: str | None = _ANY
        else:
            address = self.resolve_name(interface)
        if address is None:
            raise CannotListenError(
                interface,
                port,
                OSError(
                    errno.EADDRNOTAVAIL,
                    f"{interface!r} is not an IPv4 address or a name in the "
                    "MemoryNetwork's host map (IPv6 is not supported)",
                ),
            )
        listener = _ListeningPort(self, factory, address, port, backlog, interface)
        self._bind_listener(listener)
        factory.doStart()
        return listener

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        timeout: float = 30.0,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """
        Connect to C{host}:C{port} in memory.

        Synchronously, as the real reactor: the factory's C{doStart} and
        C{startedConnecting(connector)}.  In a later step: the connection is
        made (the server factory's C{buildProtocol(client_address)}, then
        the client factory's C{buildProtocol(server_address)}, then
        C{makeConnection} on each), or the client factory's
        C{clientConnectionFailed} is called with L{ConnectionRefusedError}
        (nobody listens), L{DNSLookupError} (unknown name) or
        L{ConnectBindError} (C{bindAddress} taken).

        The client end gets C{bindAddress} if given, else the destination
        address and the next free port from a deterministic counter.

        @param timeout: seconds after which an attempt that has not
            completed fails with L{twisted.internet.error.TimeoutError}, as
            on the real reactor (L{None}: never).  Only an attempt that takes
            virtual time -- link latency, a C{hang} fault, a partition --
            can time out; the timer then shows in C{getDelayedCalls()}.
        """
        connector = _Connector(self, host, port, factory, timeout, bindAddress)
        connector.connect()
        return connector

    def _local_address(self, attempt: _Attempt, destination: str) -> tuple[str, int]:
        """
        The address the client end binds to.

        @raise ConnectBindError: if C{bindAddress} is taken or unknown.
        """
        bind = attempt.connector.bindAddress
        host = destination
        port = 0
        if isinstance(bind, _Binding):
            host, port = bind._address or "", bind._port
        elif isinstance(bind, tuple):
            host, port = bind
        elif isinstance(bind, str):
            host = bind
        if host in ("", _ANY):
            host = destination
        address = self.resolve_name(host)
        if address is None:
            raise ConnectBindError(
                errno.EADDRNOTAVAIL, os.strerror(errno.EADDRNOTAVAIL)
            )
        if port == 0:
            try:
                port = self._allocate_port()
            except OSError as e:
                raise ConnectBindError(e.errno, e.strerror) from None
        elif (address, port) in self._client_addresses or self._listener_conflict(
            address, port
        ):
            raise ConnectBindError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
        return address, port

    def _complete_attempt(self, attempt: _Attempt) -> None:
        """
        Connect, refuse or fail the attempt.
        """
        connector = attempt.connector
        port = connector.port
        destination = self._resolved.get(connector.host) or self.resolve_name(
            connector.host
        )
        if destination is None:
            attempt.fail(DNSLookupError(connector.host))
            return
        if not 0 <= port <= 65535:
            attempt.fail(OverflowError("connect_ex(): port must be 0-65535."))
            return
        if destination == _ANY:
            destination = _LOCALHOST
        listener = self._listeners.get((destination, port)) or self._listeners.get(
            (_ANY, port)
        )
        if listener is None:
            self._trace.extend(
                (self._now, "refuse", attempt.id, "client", f"{destination}:{port}")
            )
            attempt.fail(
                ConnectionRefusedError(
                    errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED)
                )
            )
            return
        if connector.bindAddress is None:
            local_host = destination
            try:
                local_port = self._allocate_port()
            except OSError as e:
                attempt.fail(ConnectError(e.errno, e.strerror))
                return
        else:
            try:
                local_host, local_port = self._local_address(attempt, destination)
            except ConnectBindError as e:
                attempt.fail(e)
                return
        attempt.done = True
        del self._attempts[attempt.id]
        self._connect(
            connector, attempt.id, listener, destination, local_host, local_port
        )

    def _connect(
        self,
        connector: _Connector,
        connection_id: int,
        listener: _ListeningPort,
        destination: str,
        local_host: str,
        local_port: int,
    ) -> None:
        client_address = _new(IPv4Address)
        client_address.type = "TCP"
        client_address.host = local_host
        client_address.port = local_port
        server_address = listener._server_addresses.get(destination)
        if server_address is None:
            server_address = listener._server_addresses[destination] = _fast_address(
                destination, listener.port
            )
        port_use = self._port_use
        port_use[local_port] = port_use.get(local_port, 0) + 1
        self._client_addresses.add((local_host, local_port))
        client = MemoryTransport(
            self, connection_id, "client", client_address, server_address
        )
        server = MemoryTransport(
            self, connection_id, "server", server_address, client_address
        )
        client.other = server
        server.other = client
        pipe = self._pipe_class
        client._out = server._in = pipe(self, connection_id, client, server)
        server._out = client._in = pipe(self, connection_id, server, client)
        client._connector = connector
        connector.transport = client
        self._connections[connection_id] = client
        links = self._links
        if links is not None:
            links.setup_connection(client)
        self._trace.extend(
            (
                self._now,
                "accept",
                connection_id,
                "server",
                f"{local_host}:{local_port} -> {destination}:{listener.port}",
            )
        )

        # The server accepts first (the order the real reactor shows on
        # loopback); a factory that builds no protocol closes at once.
        factory = listener.factory
        try:
            server_protocol = factory.buildProtocol(client_address)
        except Exception:
            _log.failure(
                "buildProtocol of {factory} raised; closing connection #{id}",
                factory=factory,
                id=connection_id,
            )
            server_protocol = None
        if server_protocol is None:
            server._close_without_protocol()
        else:
            server.protocol = server_protocol
            server.connected = server._receiving = True
            try:
                server_protocol.makeConnection(server)
            except Exception:
                server._callback_failed(Failure(), "makeConnection")

        connector.state = "connected"
        connector._attempt = None
        try:
            client_protocol = connector.factory.buildProtocol(server_address)
        except Exception:
            failure = Failure()
            _log.failure(
                "buildProtocol of {factory} raised; connection #{id} failed",
                factory=connector.factory,
                id=connection_id,
            )
            client._close_without_protocol()
            connector.transport = None
            self._trace.extend(
                (
                    self._now,
                    "connect-failed",
                    connection_id,
                    "client",
                    _describe_failure(failure),
                )
            )
            connector._connection_failed(
                Failure(ConnectError(string=failure.getErrorMessage()))
            )
            return
        placeholder = client_protocol is None
        if client_protocol is None:
            # As the real reactor: a placeholder protocol, closed at once.
            client_protocol = Protocol()
        client.protocol = client_protocol
        client.connected = client._receiving = True
        try:
            client_protocol.makeConnection(client)
        except Exception:
            client._callback_failed(Failure(), "makeConnection")
        if placeholder:
            client.loseConnection()

    def _side_closed(self, transport: MemoryTransport) -> None:
        """
        One end of a connection was closed.
        """
        if transport.side == "client":
            address = transport._host
            key = (address.host, address.port)
            if key in self._client_addresses:
                self._client_addresses.discard(key)
                port_use = self._port_use
                left = port_use[address.port] - 1
                if left:
                    port_use[address.port] = left
                else:
                    del port_use[address.port]
        if transport.other.disconnected:
            self._connections.pop(transport.connection_id, None)

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
        closed on both ends, oldest first.
        """
        return [(client, client.other) for client in self._connections.values()]

    def listening_ports(self) -> list[IListeningPort]:
        """
        The ports currently listening, oldest first.
        """
        return list(self._listeners.values())

    def describe(self) -> str:
        """
        Everything still open or pending: connections (with unread bytes per
        direction and the state of each end), connection attempts, listening
        ports and timers.
        """
        lines: list[str] = []
        if self._connections:
            lines.append(f"Open connections ({len(self._connections)}):")
            for client in self._connections.values():
                lines.append("  " + _describe_connection(client))
        else:
            lines.append("Open connections: none")
        if self._attempts:
            lines.append(f"Connection attempts in progress ({len(self._attempts)}):")
            for attempt in self._attempts.values():
                connector = attempt.connector
                lines.append(
                    f"  #{attempt.id} to {connector.host}:{connector.port} "
                    f"({type(connector.factory).__name__})"
                )
        if self._listeners:
            lines.append(f"Listening ports ({len(self._listeners)}):")
            for (address, port), listener in self._listeners.items():
                lines.append(f"  {address}:{port} ({type(listener.factory).__name__})")
        else:
            lines.append("Listening ports: none")
        lines.append(self._describe_timers())
        if self._links is not None:
            faults = self._links.describe()
            if faults:
                lines.append(faults)
        return "\n".join(lines)

    def assert_clean(self) -> None:
        """
        Check that nothing is left: no pending timer, no open connection, no
        connection attempt, no listening port.

        @raise Unclean: listing what is left.
        """
        if (
            self._connections
            or self._attempts
            or self._listeners
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
