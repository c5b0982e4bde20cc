"""
Link conditions and faults of a L{MemoryNetwork}: where conditions come
from, and the fault-injection API (L{Faults}, C{net.faults}).

Nothing here runs until a test sets a condition or injects a fault: the
network creates its L{LinkControl} on first use, and until then every
socket hands what it sends straight to its peer's receive queue, with no
L{poetry.testing._link.Link} in between.

Where conditions come from
==========================
For each direction of each connection, the I{most specific} setting wins:

  1. the connection's own (L{MemoryNetwork.set_connection_link});
  2. the listening address the connection was made to
     (L{MemoryNetwork.set_link_for_listener}; an address with host
     C{0.0.0.0} matches every host on that port);
  3. the host pair, in that direction (L{MemoryNetwork.set_link}: from the
     host of the sending end to the host of the receiving end);
  4. the network's default (C{MemoryNetwork(link=...)},
     L{MemoryNetwork.set_default_link}).

Each can be given for one direction only.  A change applies at once to the
open connections it concerns (bytes already in flight keep their arrival
times) and to later ones.

Faults
======
See L{Faults} for each fault; every fault is recorded in the trace as a
C{fault} event whose detail says what happened.  Targets:

  - a I{connection}: either of its L{MemoryTransport}s, or its id (an
    C{int}, as shown in the trace);
  - an I{address}: a C{(host, port)} tuple, an L{IPv4Address}, an
    L{IPv6Address} or a TCP L{IListeningPort} (its C{getHost()}); host
    C{0.0.0.0}, C{::} (or C{""}) means every host.  For connection faults,
    an address stands for every open connection made to it, and -- for
    L{Faults.stall} and a L{Faults.reset} after a byte count -- for the
    connections made to it later too (a I{rule});
  - a I{host}: a name in the host map or an IPv4 address (for partitions).
    A connection's hosts are the addresses of its two ends; a client binds
    to the destination's address unless it connects through
    L{MemoryNetwork.host} (or gives C{bindAddress}), so give the two sides
    of a partition their own hosts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from random import Random
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IDelayedCall, IListeningPort
from typing_extensions import TypeIs

from poetry.testing._conditions import (
    CLIENT_TO_SERVER,
    DIRECTIONS,
    PLAIN,
    SERVER_TO_CLIENT,
    LinkConditions,
    directions_of,
)
from poetry.testing._connect import Connection, TCPStack
from poetry.testing._link import Link
from poetry.testing._names import known_host
from poetry.testing._transport import MemoryTransport

if TYPE_CHECKING:
    from poetry.testing._clock import Scheduler, VirtualDelayedCall

__all__ = [
    "DROP",
    "HOLD",
    "Address",
    "ConnectionTarget",
    "FaultPlan",
    "Faults",
    "LinkControl",
    "ScheduledFault",
    "ScheduledFaults",
    "Target",
]

_ANY = "0.0.0.0"

HOLD = "hold"
"""
Partition mode: bytes in flight and written during the partition wait and
are delivered, in order, when it heals (TCP retransmits them).
"""

DROP = "drop"
"""
Partition mode: bytes in flight and written during the partition are lost;
since TCP cannot deliver a stream with a hole, every connection crossing the
partition is reset (both ends: L{ConnectionLost<twisted.internet.error.ConnectionLost>})
when it heals -- as when a stateful middlebox lost the connection's state.
"""

# Strings, so that Python 3.10 need not build unions with an interface.
IPAddress: TypeAlias = "IPv4Address | IPv6Address"
Address: TypeAlias = "tuple[str, int] | IPAddress | IListeningPort"
ConnectionTarget: TypeAlias = "MemoryTransport | int"
Target: TypeAlias = (
    "MemoryTransport | int | tuple[str, int] | IPAddress | IListeningPort"
)

_R = TypeVar("_R")


class FaultableNetwork(Protocol):
    """
    What a fault plan may use of a network -- all of it public API of
    L{MemoryNetwork}.
    """

    seed: int
    random: Random

    @property
    def faults(self) -> Faults: ...

    def seconds(self) -> float: ...

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> IDelayedCall: ...

    def open_connections(self) -> list[tuple[MemoryTransport, MemoryTransport]]: ...

    def listening_ports(self) -> list[IListeningPort]: ...


class FaultPlan(Protocol):
    """
    Something that injects faults into a network it is given: the
    C{faults=} argument of L{MemoryNetwork} (e.g. L{Chaos}).  A plan uses
    only the network's public API (L{FaultableNetwork}).
    """

    def install(self, net: FaultableNetwork) -> None:
        """
        Schedule this plan's faults on C{net} (called from its constructor).
        """


def _side_of(direction: str) -> str:
    return "client" if direction == CLIENT_TO_SERVER else "server"


class _Rule:
    """
    A connection fault for every connection to an address, open or future.

    @ivar limit: the most connections it applies to (L{None}: no limit).
    """

    def __init__(
        self,
        kind: str,
        address: tuple[str, int],
        direction: str | None,
        apply: Callable[[Connection], object],
        limit: int | None,
        description: str,
    ) -> None:
        self.kind = kind
        self.address = address
        self.direction = direction
        self.apply = apply
        self.limit = limit
        self.applied = 0
        self.description = description


def _address_matches(address: tuple[str, int], host: str, port: int) -> bool:
    return address[1] == port and address[0] in (host, _ANY)


class ScheduledFault:
    """
    A fault that runs later: at a virtual time (L{Faults.at},
    L{Faults.after}) or when a byte count is reached
    (L{Faults.after_bytes}).

    @ivar description: what it will do, e.g. C{"heal 10.0.0.1 <-> 10.0.0.2"}.
    @ivar when: when, e.g. C{"at t=5.0"} or C{"after 100 bytes
        server->client on #3"}.
    """

    def __init__(
        self,
        control: LinkControl,
        action: Callable[[], object],
        description: str,
        when: str,
    ) -> None:
        self._control = control
        self._action = action
        self.description = description
        self.when = when
        self.fired = False
        self.cancelled = False
        self._timer: VirtualDelayedCall | None = None
        self._rule: _Rule | None = None
        self._links: list[Link] = []

    def __repr__(self) -> str:
        state = "fired" if self.fired else "cancelled" if self.cancelled else "pending"
        return f"<ScheduledFault {self.description} {self.when} ({state})>"

    @property
    def pending(self) -> bool:
        """
        Whether it has neither run nor been cancelled.
        """
        return not (self.fired or self.cancelled)

    def fire(self) -> None:
        """
        Run the fault now (once).
        """
        if not self.pending:
            return
        self.fired = True
        self._forget()
        self._action()

    def cancel(self) -> None:
        """
        Do not run it (nothing happens if it already ran).
        """
        if not self.pending:
            return
        self.cancelled = True
        timer = self._timer
        if timer is not None and timer.active():
            timer.cancel()
        for link in self._links:
            link.remove_trigger(self.fire)
        self._forget()

    def _forget(self) -> None:
        self._timer = None
        self._links = []
        control = self._control
        if self in control.scheduled:
            control.scheduled.remove(self)
        rule = self._rule
        if rule is not None and rule in control.rules:
            control.rules.remove(rule)


class LinkControl:
    """
    The link conditions and fault state of one network (internal: tests use
    L{MemoryNetwork}'s methods and L{Faults}).  It is the network's
    L{AttemptPolicy}: the TCP stack asks it for the conditions of new
    connections and the fate of connection attempts.
    """

    def __init__(
        self,
        loop: Scheduler,
        stack: TCPStack,
        resolve: Callable[[str], str | None],
    ) -> None:
        self.loop = loop
        self.stack = stack
        self._resolve = resolve
        self.default_links: dict[str, LinkConditions] = {}
        self.pair_links: dict[tuple[str, str], LinkConditions] = {}
        self.listener_links: dict[tuple[str, int, str], LinkConditions] = {}
        self.connection_links: dict[tuple[int, str], LinkConditions] = {}
        self.refusing: set[tuple[str, int]] = set()
        self.hanging: set[tuple[str, int]] = set()
        self.partitions: dict[frozenset[str], str] = {}
        self.rules: list[_Rule] = []
        self.scheduled: list[ScheduledFault] = []

    # Names and targets

    def host(self, name: str) -> str:
        """
        The address of the host C{name}.

        @raise ValueError: if C{name} is neither an IP address nor in the
            host map (with an IPv4 address).
        """
        return known_host(self._resolve, name)

    def address(self, address: Address) -> tuple[str, int]:
        """
        Normalize an address target to C{(IPv4 address or "0.0.0.0", port)}.

        @raise TypeError: if it is not an address.
        @raise ValueError: if the host is unknown or the port out of range.
        """
        given: object = address
        if IListeningPort.providedBy(given):
            given = given.getHost()
        if isinstance(given, (IPv4Address, IPv6Address)):
            host, port = given.host, given.port
        elif isinstance(given, tuple) and len(given) == 2:
            host, port = given
        else:
            raise TypeError(
                "an address is a (host, port) tuple, an IPv4Address, an "
                f"IPv6Address or a TCP listening port, not {address!r}"
            )
        if isinstance(port, bool) or not isinstance(port, int):
            raise ValueError(f"port must be an int in 0-65535, not {port!r}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be an int in 0-65535, not {port!r}")
        if host in ("", _ANY, "::"):
            return (_ANY, port)
        return (self.host(host), port)

    def is_address(self, target: object) -> TypeIs[Address]:
        return isinstance(
            target, (tuple, IPv4Address, IPv6Address)
        ) or IListeningPort.providedBy(target)

    def connection(self, target: ConnectionTarget) -> Connection | None:
        """
        The open connection C{target} stands for, or L{None} if it is closed
        (on both ends).

        @raise ValueError: for an id no connection ever had, or a transport
            of another network.
        @raise TypeError: for anything but a transport or an id.
        """
        stack = self.stack
        if isinstance(target, MemoryTransport):
            if target._loop is not self.loop:
                raise ValueError(f"{target!r} belongs to another network")
            connection = stack.connections.get(target.connection_id)
            if connection is not None and target not in (
                connection.client,
                connection.server,
            ):
                raise ValueError(f"{target!r} belongs to another network")
            return connection
        if isinstance(target, bool) or not isinstance(target, int):
            raise TypeError(
                f"a connection is a MemoryTransport or a connection id, not {target!r}"
            )
        connection = stack.connections.get(target)
        if connection is None and not 0 < target <= stack.ids_issued():
            raise ValueError(f"there is no connection #{target}")
        return connection

    def connections(self, target: Target) -> list[Connection]:
        """
        The open connections C{target} stands for.
        """
        if self.is_address(target):
            address = self.address(target)
            return [
                connection
                for connection in self.stack.connections.values()
                if _address_matches(address, *connection.server_socket.local)
            ]
        connection = self.connection(target)
        return [] if connection is None else [connection]

    def describe_target(self, target: Target) -> str:
        if self.is_address(target):
            host, port = self.address(target)
            return f"connections to {host}:{port}"
        if isinstance(target, MemoryTransport):
            return f"#{target.connection_id}"
        return f"#{target}"

    # Tracing

    def trace(self, connection: int | None, side: str, detail: str) -> None:
        loop = self.loop
        loop._trace.extend((loop._now, "fault", connection, side, detail))

    # Conditions (AttemptPolicy)

    def conditions(
        self,
        client_host: str,
        server_host: str,
        port: int,
        direction: str,
        connection_id: int | None,
    ) -> LinkConditions | None:
        """
        The conditions of one direction, most specific first (see the
        module docstring), or L{None} if nothing is set.
        """
        if connection_id is not None:
            found = self.connection_links.get((connection_id, direction))
            if found is not None:
                return found
        listener_links = self.listener_links
        if listener_links:
            found = listener_links.get((server_host, port, direction))
            if found is None:
                found = listener_links.get((_ANY, port, direction))
            if found is not None:
                return found
        if self.pair_links:
            key = (
                (client_host, server_host)
                if direction == CLIENT_TO_SERVER
                else (server_host, client_host)
            )
            found = self.pair_links.get(key)
            if found is not None:
                return found
        return self.default_links.get(direction)

    def conditions_of(self, connection: Connection, direction: str) -> LinkConditions:
        """
        The conditions that apply to one direction of an open connection.
        """
        host, port = connection.server_socket.local
        return (
            self.conditions(
                connection.client_socket.local[0], host, port, direction, connection.id
            )
            or PLAIN
        )

    def refresh(self) -> None:
        """
        Apply the current settings to every open connection.
        """
        for connection in list(self.stack.connections.values()):
            for direction in DIRECTIONS:
                connection.link(direction).set_conditions(
                    self.conditions_of(connection, direction)
                )

    def verdict(self, client_host: str, server_host: str, port: int) -> str | None:
        """
        Why an attempt hangs (partition, hang fault), C{"refuse"}, or L{None}.
        """
        partitions = self.partitions
        if (
            partitions
            and client_host != server_host
            and frozenset((client_host, server_host)) in partitions
        ):
            return f"partition {client_host} <-> {server_host}"
        hanging = self.hanging
        if hanging and ((server_host, port) in hanging or (_ANY, port) in hanging):
            return f"hang fault on {server_host}:{port}"
        refusing = self.refusing
        if refusing and ((server_host, port) in refusing or (_ANY, port) in refusing):
            return "refuse"
        return None

    def connection_made(self, connection: Connection) -> None:
        """
        A connection was established: apply the rules of its address.
        """
        host, port = connection.server_socket.local
        for rule in list(self.rules):
            if _address_matches(rule.address, host, port):
                self._apply_rule(rule, connection)

    def _apply_rule(self, rule: _Rule, connection: Connection) -> None:
        rule.applied += 1
        if rule.limit is not None and rule.applied >= rule.limit:
            self.rules.remove(rule)
        rule.apply(connection)

    def _add_rule(self, rule: _Rule) -> None:
        """
        Apply C{rule} to the open connections to its address (up to its
        limit) and keep it for later ones.
        """
        self.rules.append(rule)
        for connection in self.connections(rule.address):
            if rule not in self.rules:
                break
            self._apply_rule(rule, connection)

    # Faults: addresses

    def refuse(self, address: tuple[str, int]) -> None:
        self.refusing.add(address)
        self.trace(None, "", f"refuse connections to {address[0]}:{address[1]}")

    def stop_refusing(self, address: tuple[str, int]) -> None:
        self.refusing.discard(address)
        self.trace(None, "", f"stop refusing connections to {address[0]}:{address[1]}")

    def hang(self, address: tuple[str, int]) -> None:
        self.hanging.add(address)
        self.trace(None, "", f"hang connections to {address[0]}:{address[1]}")

    def stop_hanging(self, address: tuple[str, int]) -> None:
        self.hanging.discard(address)
        self.trace(None, "", f"stop hanging connections to {address[0]}:{address[1]}")
        self.stack.retry_hung()

    # Faults: hosts

    def _crossing(self, hosts: frozenset[str]) -> list[Connection]:
        return [
            connection
            for connection in self.stack.connections.values()
            if frozenset(
                (connection.client_socket.local[0], connection.server_socket.local[0])
            )
            == hosts
        ]

    def partition(self, a: str, b: str, mode: str) -> None:
        key = frozenset((a, b))
        self.partitions[key] = mode
        crossing = self._crossing(key)
        self.trace(
            None,
            "",
            f"partition {a} <-> {b} ({mode} in-flight data; "
            f"{len(crossing)} open connection(s))",
        )
        for connection in crossing:
            for direction in DIRECTIONS:
                link = connection.link(direction)
                if mode == DROP:
                    link.drop_in_flight()
                    link.set_dropping(True)
                link.hold("partition")

    def heal(self, a: str, b: str) -> None:
        key = frozenset((a, b))
        mode = self.partitions.pop(key, None)
        if mode is None:
            self.trace(None, "", f"heal {a} <-> {b} (not partitioned: nothing to do)")
            return
        crossing = self._crossing(key)
        self.trace(
            None,
            "",
            f"heal {a} <-> {b}"
            + (f" (resetting {len(crossing)} connection(s))" if mode == DROP else ""),
        )
        for connection in crossing:
            for direction in DIRECTIONS:
                link = connection.link(direction)
                if link.dropping:
                    link.set_dropping(False)
                    link.inject_reset()
            for direction in DIRECTIONS:
                connection.link(direction).release("partition")
        self.stack.retry_hung()

    # Faults: connections

    def stall(self, connection: Connection, direction: str | None) -> None:
        for one in directions_of(direction):
            self.trace(connection.id, _side_of(one), f"stall {one}")
            connection.link(one).hold("stall")

    def resume(self, connection: Connection, direction: str | None) -> None:
        for one in directions_of(direction):
            link = connection.link(one)
            if "stall" in link.held():
                self.trace(connection.id, _side_of(one), f"resume {one}")
                link.release("stall")

    def reset_now(self, connection: Connection, detail: str) -> None:
        """
        Reset the connection from the network: both ends get a C{RST}
        after the bytes already in flight towards them; later bytes are
        lost.
        """
        self.trace(connection.id, "", detail)
        for direction in DIRECTIONS:
            connection.link(direction).inject_reset()

    def reset_after(self, connection: Connection, direction: str, count: int) -> None:
        """
        Reset the connection when C{count} bytes have been sent in
        C{direction}: the receiver gets exactly the first C{count} (fewer
        only if it had already read more), then
        L{ConnectionLost<twisted.internet.error.ConnectionLost>}; so does the sender.
        """
        link = connection.link(direction)
        self.trace(
            connection.id,
            _side_of(direction),
            f"reset armed: after {count} bytes {direction}",
        )

        def cut() -> None:
            link.truncate(count)
            at = max(count, link.delivered())
            self.reset_now(connection, f"reset at byte {at} of {direction}")

        link.add_trigger(count, cut)

    def abort(self, connection: Connection, side: str) -> None:
        transport = connection.client if side == "client" else connection.server
        self.trace(connection.id, side, f"abort the {side} end")
        if transport is not None:
            transport.abortConnection()

    # Everything

    def clear(self) -> None:
        """
        Cancel every scheduled fault, drop every rule and lift every fault
        (stop refusing and hanging, heal partitions, resume stalls).
        """
        for scheduled in list(self.scheduled):
            scheduled.cancel()
        self.rules.clear()
        for address in sorted(self.refusing):
            self.stop_refusing(address)
        for key in list(self.partitions):
            a, b = sorted(key)
            self.heal(a, b)
        for connection in list(self.stack.connections.values()):
            self.resume(connection, None)
        for address in sorted(self.hanging):
            self.stop_hanging(address)

    def describe(self) -> str:
        """
        The conditions set and the faults active, for diagnostics; empty if
        there are none.
        """
        lines: list[str] = []
        settings: list[str] = []
        for direction, conditions in self.default_links.items():
            settings.append(f"default {direction}: {conditions!r}")
        for (source, destination), conditions in self.pair_links.items():
            settings.append(f"{source} -> {destination}: {conditions!r}")
        for (host, port, direction), conditions in self.listener_links.items():
            settings.append(f"listener {host}:{port} {direction}: {conditions!r}")
        for (connection, direction), conditions in self.connection_links.items():
            settings.append(f"#{connection} {direction}: {conditions!r}")
        if settings:
            lines.append("Link conditions:")
            lines.extend(f"  {setting}" for setting in settings)
        faults: list[str] = []
        faults.extend(f"refusing {h}:{p}" for h, p in sorted(self.refusing))
        faults.extend(f"hanging {h}:{p}" for h, p in sorted(self.hanging))
        for key, mode in self.partitions.items():
            a, b = sorted(key)
            faults.append(f"partition {a} <-> {b} ({mode})")
        faults.extend(f"rule: {rule.description}" for rule in self.rules)
        for open_connection in self.stack.connections.values():
            for direction in DIRECTIONS:
                link = open_connection.link(direction)
                held = link.held()
                if held:
                    faults.append(
                        f"#{open_connection.id} {direction} held by "
                        f"{', '.join(sorted(held))} "
                        f"({link.in_flight()} bytes waiting)"
                    )
        faults.extend(
            f"scheduled: {fault.description} {fault.when}" for fault in self.scheduled
        )
        for connection_id, destination, reason in self.stack.hung():
            faults.append(
                f"connection attempt #{connection_id} to {destination} "
                + ("waits" if reason == "accept queue full" else "hangs")
                + f" ({reason})"
            )
        if faults:
            lines.append("Faults:")
            lines.extend(f"  {fault}" for fault in faults)
        return "\n".join(lines)


class _FaultActions(Generic[_R]):
    """
    The faults, as methods; L{Faults} runs them now, L{ScheduledFaults}
    later.  Arguments are checked when the method is called; targets are
    looked up when the fault runs.
    """

    _control: LinkControl

    def _do(self, action: Callable[[], object], description: str) -> _R:
        raise NotImplementedError()

    def call(self, action: Callable[[], object], description: str) -> _R:
        """
        Run C{action()} as a fault (for fault plans: a custom injection;
        recorded in the trace as a C{fault} event with C{description}).
        """
        control = self._control

        def run() -> None:
            control.trace(None, "", description)
            action()

        return self._do(run, description)

    def note(self, detail: str) -> _R:
        """
        Record C{detail} in the trace as a C{fault} event (for fault plans:
        say what was decided).
        """
        return self._do(partial(self._control.trace, None, "", detail), detail)

    def refuse(self, address: Address) -> _R:
        """
        Refuse every connection to C{address}
        (L{ConnectionRefusedError<twisted.internet.error.ConnectionRefusedError>}),
        whether or not something listens there, until L{stop_refusing}.
        """
        key = self._control.address(address)
        return self._do(partial(self._control.refuse, key), f"refuse {key[0]}:{key[1]}")

    def stop_refusing(self, address: Address) -> _R:
        """
        Lift L{refuse}.
        """
        key = self._control.address(address)
        return self._do(
            partial(self._control.stop_refusing, key),
            f"stop refusing {key[0]}:{key[1]}",
        )

    def hang(self, address: Address) -> _R:
        """
        Make connection attempts to C{address} hang (as if every packet
        were dropped): they complete only if L{stop_hanging} is called in
        time; otherwise the connector's timeout (C{connectTCP(timeout=...)})
        fails them with L{twisted.internet.error.TimeoutError}, exactly
        C{timeout} virtual seconds after C{connectTCP}.
        """
        key = self._control.address(address)
        return self._do(partial(self._control.hang, key), f"hang {key[0]}:{key[1]}")

    def stop_hanging(self, address: Address) -> _R:
        """
        Lift L{hang}; attempts still hanging then complete (the next
        handshake gets through).
        """
        key = self._control.address(address)
        return self._do(
            partial(self._control.stop_hanging, key),
            f"stop hanging {key[0]}:{key[1]}",
        )

    def partition(self, host_a: str, host_b: str, *, in_flight: str = HOLD) -> _R:
        """
        Cut the two hosts off from each other until L{heal}: nothing crosses
        in either direction on their open connections -- bytes, C{FIN} and
        C{RST} wait (L{HOLD}) or the bytes are lost and the connections
        reset on heal (L{DROP}) -- and new connection attempts between them
        hang (see L{hang}).

        @raise ValueError: if the hosts are the same or unknown, or
            C{in_flight} is not L{HOLD} or L{DROP}.
        """
        control = self._control
        a, b = control.host(host_a), control.host(host_b)
        if a == b:
            raise ValueError(
                f"cannot partition {host_a!r} from {host_b!r}: both are {a}; give "
                "each side its own host (net.host(address))"
            )
        if in_flight not in (HOLD, DROP):
            raise ValueError(
                f"in_flight must be {HOLD!r} or {DROP!r}, not {in_flight!r}"
            )
        return self._do(
            partial(control.partition, a, b, in_flight),
            f"partition {a} <-> {b} ({in_flight})",
        )

    def heal(self, host_a: str, host_b: str) -> _R:
        """
        End L{partition}: held bytes are delivered in order (L{HOLD}) or
        the connections reset (L{DROP}); hung attempts complete.
        """
        control = self._control
        a, b = control.host(host_a), control.host(host_b)
        return self._do(partial(control.heal, a, b), f"heal {a} <-> {b}")

    def stall(self, target: Target, direction: str | None = None) -> _R:
        """
        Stop delivering in C{direction} (both if L{None}) without closing:
        bytes and signals wait, in order (and pause the writer's producer
        as usual) until L{resume}.  An address target also stalls the
        connections made to it later, until L{resume} with that address.
        """
        control = self._control
        directions_of(direction)
        what = control.describe_target(target)
        where = direction or "both directions"

        def stall() -> None:
            if control.is_address(target):
                address = control.address(target)
                control._add_rule(
                    _Rule(
                        "stall",
                        address,
                        direction,
                        lambda connection: control.stall(connection, direction),
                        None,
                        f"stall {where} of {what}",
                    )
                )
            else:
                for connection in control.connections(target):
                    control.stall(connection, direction)

        return self._do(stall, f"stall {where} of {what}")

    def resume(self, target: Target, direction: str | None = None) -> _R:
        """
        Lift L{stall}: what waited is delivered, in order.  With an address,
        also forget the stall rule of that address.
        """
        control = self._control
        directions_of(direction)
        what = control.describe_target(target)
        where = direction or "both directions"

        def resume() -> None:
            if control.is_address(target):
                address = control.address(target)
                control.rules[:] = [
                    rule
                    for rule in control.rules
                    if not (
                        rule.kind == "stall"
                        and rule.address == address
                        and (direction is None or rule.direction == direction)
                    )
                ]
            for connection in control.connections(target):
                control.resume(connection, direction)

        return self._do(resume, f"resume {where} of {what}")

    def reset(
        self,
        target: Target,
        *,
        after_bytes: int | None = None,
        direction: str | None = None,
        limit: int | None = None,
    ) -> _R:
        """
        Reset connections from the network (a C{RST} on each end, as from a
        middlebox): the bytes already queued are still delivered, then each
        end's protocol gets L{ConnectionLost<twisted.internet.error.ConnectionLost>};
        later writes are dropped.

        With C{after_bytes=N} (and C{direction}), the reset happens when N
        bytes (counted from the start of the connection) have been written
        in that direction: the reader gets exactly the first N bytes (if it
        had already read more, the reset comes after those), then
        L{ConnectionLost<twisted.internet.error.ConnectionLost>}; the writer gets
        L{ConnectionLost<twisted.internet.error.ConnectionLost>} too.  An address target
        then applies to the open connections and to those made later, up to C{limit}
        connections in all (L{None}: no limit).

        @raise ValueError: if C{after_bytes} is negative, or given without a
            C{direction}.
        """
        control = self._control
        what = control.describe_target(target)
        if after_bytes is None:
            if direction is not None:
                directions_of(direction)

            def reset() -> None:
                for connection in control.connections(target):
                    control.reset_now(connection, "reset")

            return self._do(reset, f"reset {what}")
        if (
            isinstance(after_bytes, bool)
            or not isinstance(after_bytes, int)
            or (after_bytes < 0)
        ):
            raise ValueError(f"after_bytes must be an int >= 0, not {after_bytes!r}")
        if direction is None:
            raise ValueError(
                "reset(after_bytes=...) needs a direction: "
                f"{CLIENT_TO_SERVER!r} or {SERVER_TO_CLIENT!r}"
            )
        (one,) = directions_of(direction)
        count = after_bytes
        description = f"reset {what} after {count} bytes {one}"

        def reset_after() -> None:
            if control.is_address(target):
                address = control.address(target)
                control._add_rule(
                    _Rule(
                        "reset",
                        address,
                        one,
                        lambda connection: control.reset_after(connection, one, count),
                        limit,
                        description,
                    )
                )
            else:
                for connection in control.connections(target):
                    control.reset_after(connection, one, count)

        return self._do(reset_after, description)

    def abort(self, target: Target, side: str = "client") -> _R:
        """
        Call C{abortConnection()} on the C{side} end of the connections:
        L{ConnectionAborted<twisted.internet.error.ConnectionAborted>} there,
        L{ConnectionLost<twisted.internet.error.ConnectionLost>} on the other end (part
        1's abort semantics).

        @raise ValueError: if C{side} is not C{"client"} or C{"server"}.
        """
        if side not in ("client", "server"):
            raise ValueError(f"side must be 'client' or 'server', not {side!r}")
        control = self._control
        what = control.describe_target(target)

        def abort() -> None:
            for connection in control.connections(target):
                control.abort(connection, side)

        return self._do(abort, f"abort the {side} end of {what}")


class ScheduledFaults(_FaultActions[ScheduledFault]):
    """
    The faults of L{Faults}, run later: each method returns a
    L{ScheduledFault} (which can be cancelled).  Made by L{Faults.at},
    L{Faults.after} and L{Faults.after_bytes}.
    """

    def __init__(
        self,
        control: LinkControl,
        when: str,
        install: Callable[[ScheduledFault], None],
    ) -> None:
        self._control = control
        self._when = when
        self._install = install

    def _do(self, action: Callable[[], object], description: str) -> ScheduledFault:
        fault = ScheduledFault(self._control, action, description, self._when)
        self._control.scheduled.append(fault)
        self._install(fault)
        return fault


class Faults(_FaultActions[None]):
    """
    Fault injection for a L{MemoryNetwork}: C{net.faults}.

    Each method injects its fault now; C{at(t)}, C{after(dt)} and
    C{after_bytes(...)} return the same methods, run later.  Every fault is
    recorded in the trace as a C{fault} event.  Targets are described in
    L{poetry.testing._faults}.  For example::

        net.faults.refuse(("127.0.0.1", port))
        net.faults.at(5.0).partition("10.0.0.1", "10.0.0.2")
        net.faults.at(8.0).heal("10.0.0.1", "10.0.0.2")
        net.faults.reset(port, after_bytes=100, direction="server->client")
        net.faults.after_bytes(transport, 50, "server->client").stall(transport)
    """

    def __init__(self, control: LinkControl) -> None:
        self._control = control

    def _do(self, action: Callable[[], object], description: str) -> None:
        action()

    def at(self, time: float) -> ScheduledFaults:
        """
        The faults, run at the virtual time C{time} (after the timed calls
        already scheduled for that time).

        @raise ValueError: if C{time} is in the past.
        """
        loop = self._control.loop
        if not time >= loop._now:
            raise ValueError(
                f"cannot schedule a fault at t={time!r}: it is already t={loop._now!r}"
            )

        def install(fault: ScheduledFault) -> None:
            fault._timer = loop._call_at(time, fault.fire)

        return ScheduledFaults(self._control, f"at t={time!r}", install)

    def after(self, delay: float) -> ScheduledFaults:
        """
        The faults, run C{delay} virtual seconds from now.
        """
        if not delay >= 0:
            raise ValueError(f"delay must be >= 0, not {delay!r}")
        return self.at(self._control.loop._now + delay)

    def after_bytes(
        self, target: Target, count: int, direction: str
    ) -> ScheduledFaults:
        """
        The faults, run once, when C{count} bytes (counted from the start of
        the connection) have been written in C{direction} on the connection
        C{target} -- or on the first connection to reach it among those to
        an address C{target}, open or made later.  The write that reaches
        the count is cut there: the fault runs with exactly C{count} bytes
        queued.
        """
        control = self._control
        (one,) = directions_of(direction)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be an int >= 0, not {count!r}")
        what = control.describe_target(target)

        def arm(fault: ScheduledFault, connection: Connection) -> None:
            if not fault.pending:
                return
            link = connection.link(one)
            fault._links.append(link)
            link.add_trigger(count, fault.fire)

        def install(fault: ScheduledFault) -> None:
            if control.is_address(target):
                address = control.address(target)
                rule = _Rule(
                    "after-bytes",
                    address,
                    one,
                    partial(arm, fault),
                    None,
                    f"{fault.description} after {count} bytes {one} on {what}",
                )
                fault._rule = rule
                control._add_rule(rule)
            else:
                for connection in control.connections(target):
                    arm(fault, connection)

        return ScheduledFaults(control, f"after {count} bytes {one} on {what}", install)

    def stream_offset(self, target: ConnectionTarget, direction: str) -> int:
        """
        How many bytes have been sent so far in C{direction} of the open
        connection C{target} (what C{reset(after_bytes=...)} and
        L{after_bytes} count).

        @raise ValueError: if the connection is closed or never existed.
        """
        (one,) = directions_of(direction)
        connection = self._control.connection(target)
        if connection is None:
            raise ValueError(f"connection {target!r} is closed")
        return connection.link(one).written()

    def clear(self) -> None:
        """
        Cancel every scheduled fault and rule, and lift every active fault:
        stop refusing and hanging, heal partitions, resume stalls.
        """
        self._control.clear()

    def describe(self) -> str:
        """
        The conditions set and the faults active or scheduled, one per line
        (empty if none).
        """
        return self._control.describe()
