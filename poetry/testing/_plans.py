"""
Fault schedules and network configurations as plain values.

They are what the Hypothesis strategies of L{poetry.testing.strategies}
generate, and what a falsifying example prints: paste one into a regression
test -- it needs no Hypothesis::

    plan = FaultSchedule((ResetAfter(0, after_bytes=7, direction=SERVER_TO_CLIENT),))
    net = MemoryNetwork(1234, faults=plan)

A L{FaultSchedule} is a fault plan (the C{faults=} argument of
L{MemoryNetwork}) built on the public fault API (C{net.faults}).  Its faults
name their target as an address C{(host, port)} or as an index: I{the
listening port number i}, in the order the ports were bound, counted modulo
the number of ports listening when the fault fires (so a plan can be made
before the scenario listens).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import attrs
from twisted.internet.address import IPv4Address

from poetry.testing._conditions import (
    CLIENT_TO_SERVER,
    PLAIN,
    SERVER_TO_CLIENT,
    LinkConditions,
    directions_of,
)
from poetry.testing._faults import DROP, HOLD, FaultableNetwork
from poetry.testing._network import MemoryNetwork

if TYPE_CHECKING:
    from poetry.testing._faults import FaultPlan

__all__ = [
    "Abort",
    "FaultSchedule",
    "Hang",
    "NetworkConfiguration",
    "Partition",
    "PlannedFault",
    "Refuse",
    "Reset",
    "ResetAfter",
    "Stall",
]

Target = int | tuple[str, int]
"""
What a planned fault targets: the index of a listening port (in the order
the ports were bound, modulo how many listen when the fault fires) or an
address C{(host, port)} (host C{0.0.0.0}: any host).
"""


def _time(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"{attribute.name} must be a finite number >= 0, not {value!r}"
        )


def _target(
    instance: object, attribute: attrs.Attribute[Target], value: Target
) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    ):
        return
    raise ValueError(
        f"{attribute.name} must be a listening port's index (an int >= 0) or "
        f"an address (host, port), not {value!r}"
    )


def _direction(
    instance: object, attribute: attrs.Attribute[str | None], value: str | None
) -> None:
    directions_of(value)


def _one_direction(
    instance: object, attribute: attrs.Attribute[str], value: str
) -> None:
    if value not in (CLIENT_TO_SERVER, SERVER_TO_CLIENT):
        raise ValueError(
            f"{attribute.name} must be {CLIENT_TO_SERVER!r} or "
            f"{SERVER_TO_CLIENT!r}, not {value!r}"
        )


def _count(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be an int >= 0, not {value!r}")


Resolve = Callable[[Target], tuple[str, int] | None]


class PlannedFault:
    """
    One fault of a L{FaultSchedule}.  Subclasses say when it fires and what
    it does, through C{net.faults}.
    """

    def install(self, net: FaultableNetwork, resolve: Resolve) -> None:
        """
        Schedule this fault on C{net}.

        @param resolve: turns a L{Target} into an address when the fault
            fires (L{None} if nothing listens: the fault then does nothing).
        """
        raise NotImplementedError


@attrs.frozen
class Refuse(PlannedFault):
    """
    At C{at} seconds, refuse connections to C{target}; stop C{duration}
    seconds later.
    """

    target: Target = attrs.field(validator=_target)
    at: float = attrs.field(default=0.0, validator=_time)
    duration: float = attrs.field(default=0.0, validator=_time)

    def install(self, net: FaultableNetwork, resolve: Resolve) -> None:
        def fire() -> None:
            address = resolve(self.target)
            if address is not None:
                net.faults.refuse(address)
                net.faults.after(self.duration).stop_refusing(address)

        net.callLater(self.at, fire)


@attrs.frozen
class Hang(PlannedFault):
    """
    At C{at} seconds, make connection attempts to C{target} hang; let them
    complete C{duration} seconds later.
    """

    target: Target = attrs.field(validator=_target)
    at: float = attrs.field(default=0.0, validator=_time)
    duration: float = attrs.field(default=0.0, validator=_time)

    def install(self, net: FaultableNetwork, resolve: Resolve) -> None:
        def fire() -> None:
            address = resolve(self.target)
            if address is not None:
                net.faults.hang(address)
                net.faults.after(self.duration).stop_hanging(address)

        net.callLater(self.at, fire)


@attrs.frozen
class Stall(PlannedFault):
    """
    At C{at} seconds, stall the connections to C{target} (those open and
    those made later) in C{direction} (L{None}: both); resume them
    C{duration} seconds later.
    """

    target: Target = attrs.field(validator=_target)
    at: float = attrs.field(default=0.0, validator=_time)
    duration: float = attrs.field(default=0.0, validator=_time)
    direction: str | None = attrs.field(default=None, validator=_direction)

    def install(self, net: FaultableNetwork, resolve: Resolve) -> None:
        def fire() -> None:
            address = resolve(self.target)
            if address is not None:
                net.faults.stall(address, self.direction)
                net.faults.after(self.duration).resume(address, self.direction)

        net.callLater(self.at, fire)


@attrs.frozen
class Reset(PlannedFault):
    """
    At C{at} seconds, reset the connections open to C{target}.
    """

    target: Target = attrs.field(validator=_target)
    at: float = attrs.field(default=0.0, validator=_time)

    def install(self, net: FaultableNetwork, resolve: Resolve) -> None:
        def fire() -> None:
            address = resolve(self.target)
            if address is not None:
                net.faults.reset(address)

        net.callLater(self.at, fire)


@attrs.frozen
class ResetAfter(PlannedFault):
    """
    Reset the first connection to C{target} once C{after_bytes} bytes (from
    the start of the connection) were written in C{direction}: the reader
    gets exactly those bytes, then
    L{ConnectionLost<twisted.internet.error.ConnectionLost>}.  Armed in the network's
    first pass, so that the scenario can listen first.
    """

    target: Target = attrs.field(validator=_target)
    after_bytes: int = attrs.field(default=0, validator=_count)
    direction: str = attrs.field(default=SERVER_TO_CLIENT, validator=_one_direction)

    def install(self, net: FaultableNetwork, resolve: Resolve) -> None:
        def arm() -> None:
            address = resolve(self.target)
            if address is not None:
                net.faults.reset(
                    address,
                    after_bytes=self.after_bytes,
                    direction=self.direction,
                    limit=1,
                )

        net.callLater(0, arm)


@attrs.frozen
class Abort(PlannedFault):
    """
    At C{at} seconds, C{abortConnection()} on the C{side} end of the
    connections open to C{target}.
    """

    target: Target = attrs.field(validator=_target)
    at: float = attrs.field(default=0.0, validator=_time)
    side: str = attrs.field(
        default="client", validator=attrs.validators.in_(("client", "server"))
    )

    def install(self, net: FaultableNetwork, resolve: Resolve) -> None:
        def fire() -> None:
            address = resolve(self.target)
            if address is not None:
                net.faults.abort(address, self.side)

        net.callLater(self.at, fire)


@attrs.frozen
class Partition(PlannedFault):
    """
    At C{at} seconds, partition C{host_a} from C{host_b} (C{in_flight}:
    L{HOLD} or L{DROP}); heal C{duration} seconds later.
    """

    host_a: str = attrs.field(validator=attrs.validators.instance_of(str))
    host_b: str = attrs.field(validator=attrs.validators.instance_of(str))
    at: float = attrs.field(default=0.0, validator=_time)
    duration: float = attrs.field(default=0.0, validator=_time)
    in_flight: str = attrs.field(
        default=HOLD, validator=attrs.validators.in_((HOLD, DROP))
    )

    def install(self, net: FaultableNetwork, resolve: Resolve) -> None:
        def fire() -> None:
            net.faults.partition(self.host_a, self.host_b, in_flight=self.in_flight)
            net.faults.after(self.duration).heal(self.host_a, self.host_b)

        net.callLater(self.at, fire)


def _faults(values: Iterable[PlannedFault]) -> tuple[PlannedFault, ...]:
    faults = tuple(values)
    for fault in faults:
        if not isinstance(fault, PlannedFault):
            raise TypeError(f"a FaultSchedule holds PlannedFaults, not {fault!r}")
    return faults


def _listening_address(net: FaultableNetwork, index: int) -> tuple[str, int] | None:
    ports = net.listening_ports()
    if not ports:
        return None
    address = ports[index % len(ports)].getHost()
    assert isinstance(address, IPv4Address)
    return (address.host, address.port)


@attrs.frozen
class FaultSchedule:
    """
    A fault plan that injects the given faults, each at its time (counted
    from when the plan is installed: when the network is made, for
    C{MemoryNetwork(seed, faults=plan)}).  Every fault that lasts is
    lifted after its duration, so a scenario whose clients have timeouts
    always ends.  An empty schedule injects nothing: the plain network.

    Each fault waits in a timed call of the network until it fires (so it
    shows in C{getDelayedCalls()} and keeps C{assert_clean} from passing
    until then); a fault whose target does not exist then does nothing.

    @ivar faults: the L{PlannedFault}s.
    """

    faults: tuple[PlannedFault, ...] = attrs.field(default=(), converter=_faults)

    def install(self, net: FaultableNetwork) -> None:
        """
        Schedule every fault on C{net}.
        """

        def resolve(target: Target) -> tuple[str, int] | None:
            if isinstance(target, int):
                return _listening_address(net, target)
            return target

        for fault in self.faults:
            fault.install(net, resolve)


def _hosts(
    value: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(name), str(address)) for name, address in items))


def _conditions(
    instance: object, attribute: attrs.Attribute[LinkConditions], value: object
) -> None:
    if not isinstance(value, LinkConditions):
        raise TypeError(f"{attribute.name} must be LinkConditions, not {value!r}")


@attrs.frozen
class NetworkConfiguration:
    """
    Everything that makes a L{MemoryNetwork}, as one value:
    L{build} makes the network.

    @ivar seed: the network's seed.
    @ivar client_to_server: the default link conditions of that direction
        of every connection.
    @ivar server_to_client: those of the other direction.
    @ivar faults: a fault plan (a L{FaultSchedule}, a L{Chaos}), or L{None}.
    @ivar hosts: names and their IPv4 addresses, as sorted pairs (a mapping
        is accepted).
    @ivar step_budget: the network's step budget.
    """

    seed: int = attrs.field(default=0, validator=_count)
    client_to_server: LinkConditions = attrs.field(default=PLAIN, validator=_conditions)
    server_to_client: LinkConditions = attrs.field(default=PLAIN, validator=_conditions)
    faults: FaultPlan | None = None
    hosts: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_hosts)
    step_budget: int = 1_000_000

    def build(self) -> MemoryNetwork:
        """
        A fresh network with this configuration (the fault plan installed).
        """
        net = MemoryNetwork(
            self.seed, hosts=dict(self.hosts), step_budget=self.step_budget
        )
        for direction, conditions in (
            (CLIENT_TO_SERVER, self.client_to_server),
            (SERVER_TO_CLIENT, self.server_to_client),
        ):
            if not conditions.plain:
                net.set_default_link(conditions, direction=direction)
        if self.faults is not None:
            self.faults.install(net)
        return net
