"""
Seeded chaos: a fault plan that switches a random subset of fault kinds on
for each seed and injects them at random times, on random targets::

    for seed in range(200):
        net = MemoryNetwork(seed, faults=Chaos(horizon=5.0))
        ...  # run the scenario, check its invariants

Every choice -- which kinds, how many faults, when, which connection or
address, which direction, how many bytes, how long -- is drawn from
C{net.random}, so a seed replays its schedule exactly, and every error the
harness raises names the seed.  Every injection is a C{fault} event in the
trace; the plan itself is the first one (C{"chaos: reset, stall"}).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

import attrs
from twisted.internet.address import IPv4Address, IPv6Address

from poetry.testing._conditions import DIRECTIONS, check_probability
from poetry.testing._faults import DROP, HOLD, FaultableNetwork

if TYPE_CHECKING:
    from poetry.testing._transport import MemoryTransport

__all__ = ["CHAOS_KINDS", "Chaos"]

CHAOS_KINDS = ("abort", "hang", "partition", "refuse", "reset", "stall")
"""
The fault kinds L{Chaos} knows.
"""


def _kinds(values: Iterable[str]) -> tuple[str, ...]:
    kinds = tuple(sorted(set(values)))
    for kind in kinds:
        if kind not in CHAOS_KINDS:
            raise ValueError(
                f"unknown chaos kind {kind!r}; known: {', '.join(CHAOS_KINDS)}"
            )
    return kinds


def _positive_number(
    instance: object, attribute: attrs.Attribute[float], value: float
) -> None:
    if not (isinstance(value, (int, float)) and value > 0 and value < float("inf")):
        raise ValueError(f"{attribute.name} must be a finite number > 0, not {value!r}")


def _count(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be an int >= 0, not {value!r}")


@attrs.frozen
class Chaos:
    """
    A seeded random fault plan: C{MemoryNetwork(seed, faults=Chaos(...))}.

    When the network is made, each kind in C{kinds} is switched on with
    probability C{probability} (so some seeds inject nothing); each kind on
    gets between 1 and C{max_faults} injections, each at a time drawn
    uniformly in C{[0, horizon)}.  At that time the target is drawn among
    what exists then (open connections in the order they were made,
    listening addresses in the order they were bound):

      - C{refuse}, C{hang}: a listening address, for a duration drawn in
        C{[0, max_duration)}, then lifted;
      - C{reset}: an open connection and a direction, reset after the bytes
        written so far plus C{[0, max_bytes]} more; with no open connection,
        the next connection to a listening address, after C{[0, max_bytes]}
        bytes;
      - C{stall}: an open connection and a direction (or both) -- else the
        connections to a listening address -- for a duration, then resumed;
      - C{partition}: the two hosts of an open connection whose ends are on
        different hosts, L{HOLD} or L{DROP}, for a duration, then healed;
      - C{abort}: one end of an open connection.

    A kind with nothing to target at its time is skipped (a C{fault} event
    says so).  Every fault that lasts is lifted within the plan, so a
    scenario whose clients have timeouts always ends; scheduled faults show
    in L{Faults.describe} and are cancelled by L{Faults.clear}.

    @ivar kinds: the kinds that may be switched on (see L{CHAOS_KINDS}).
    @ivar horizon: faults are injected at virtual times in C{[0, horizon)}.
    @ivar max_faults: the most injections per kind switched on.
    @ivar max_duration: the longest a refuse, hang, stall or partition lasts.
    @ivar max_bytes: the most extra bytes before a reset.
    @ivar probability: the chance that each kind is switched on.
    """

    kinds: tuple[str, ...] = attrs.field(default=CHAOS_KINDS, converter=_kinds)
    horizon: float = attrs.field(default=10.0, validator=_positive_number)
    max_faults: int = attrs.field(default=3, validator=_count)
    max_duration: float = attrs.field(default=5.0, validator=_positive_number)
    max_bytes: int = attrs.field(default=1000, validator=_count)
    probability: float = attrs.field(default=0.5, validator=check_probability)

    def install(self, net: FaultableNetwork) -> None:
        """
        Draw this seed's plan from C{net.random} and schedule it on C{net},
        through the public fault API.
        """
        random = net.random
        enabled = [kind for kind in self.kinds if random.random() < self.probability]
        faults = net.faults
        faults.note(
            f"chaos: {', '.join(enabled) if enabled else 'no faults'} (seed {net.seed})"
        )
        agent = _ChaosAgent(self, net)
        for kind in enabled:
            for _ in range(random.randint(1, max(1, self.max_faults))):
                time = random.uniform(0.0, self.horizon)
                faults.at(time).call(partial(agent.inject, kind), f"chaos {kind}")


class _ChaosAgent:
    """
    Injects the faults of a L{Chaos} plan when their times come.
    """

    def __init__(self, chaos: Chaos, net: FaultableNetwork) -> None:
        self.chaos = chaos
        self.net = net

    def inject(self, kind: str) -> None:
        net = self.net
        random = net.random
        faults = net.faults
        chaos = self.chaos
        connections = net.open_connections()
        listening: list[tuple[str, int]] = []
        for port in net.listening_ports():
            bound = port.getHost()
            # UNIX ports have no address a fault can target.
            if isinstance(bound, (IPv4Address, IPv6Address)):
                listening.append((bound.host, bound.port))
        duration = random.uniform(0.0, chaos.max_duration)
        if kind in ("refuse", "hang") and listening:
            address = random.choice(listening)
            if kind == "refuse":
                faults.refuse(address)
                faults.after(duration).stop_refusing(address)
            else:
                faults.hang(address)
                faults.after(duration).stop_hanging(address)
        elif kind == "reset" and (connections or listening):
            direction = random.choice(DIRECTIONS)
            extra = random.randint(0, chaos.max_bytes)
            if connections:
                client, _ = random.choice(connections)
                written = faults.stream_offset(client, direction)
                faults.reset(client, after_bytes=written + extra, direction=direction)
            else:
                address = random.choice(listening)
                faults.reset(address, after_bytes=extra, direction=direction, limit=1)
        elif kind == "stall" and (connections or listening):
            one = random.choice((*DIRECTIONS, None))
            target: MemoryTransport | tuple[str, int]
            if connections:
                target = random.choice(connections)[0]
            else:
                target = random.choice(listening)
            faults.stall(target, one)
            faults.after(duration).resume(target, one)
        elif kind == "partition" and (
            crossing := [
                (client.getPeer().host, server.getPeer().host)
                for client, server in connections
                if client.getPeer().host != server.getPeer().host
            ]
        ):
            server_host, client_host = random.choice(crossing)
            mode = random.choice((HOLD, DROP))
            faults.partition(client_host, server_host, in_flight=mode)
            faults.after(duration).heal(client_host, server_host)
        elif kind == "abort" and connections:
            client, _ = random.choice(connections)
            faults.abort(client, random.choice(("client", "server")))
        else:
            faults.note(f"chaos: {kind} skipped (nothing to target)")
