"""
L{assert_deterministic}: run a scenario twice with the same seed and compare
the traces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from poetry.testing._errors import NondeterminismError
from poetry.testing._network import MemoryNetwork
from poetry.testing._seed import resolve_seed
from poetry.testing._trace import TraceEvent

if TYPE_CHECKING:
    from poetry.testing._conditions import LinkConditions
    from poetry.testing._faults import FaultPlan

__all__ = ["assert_deterministic"]

_CONTEXT = 5


def assert_deterministic(
    scenario: Callable[[MemoryNetwork], object],
    seed: int | None = None,
    *,
    hosts: Mapping[str, str] | None = None,
    step_budget: int = 1_000_000,
    test_id: str | None = None,
    link: LinkConditions | None = None,
    faults: FaultPlan | None = None,
) -> tuple[TraceEvent, ...]:
    """
    Run C{scenario} on two fresh L{MemoryNetwork}s made with the same seed
    and check that their traces are identical.

    The scenario drives the network itself (C{net.run()},
    C{net.run_until(d)}, ...); it should take every random choice from
    C{net.random}.  Events are compared by time, kind, connection, side and
    detail (which names callables by their qualified name, never by
    address); the networks record a CRC-32 of every write, so different
    bytes of the same length count as a difference too.

    @param seed: the seed for both runs; L{None} picks one as
        L{MemoryNetwork} does (C{POETRY_TEST_SEED} or random).
    @param hosts: passed to both networks.
    @param step_budget: passed to both networks.
    @param link: passed to both networks (default link conditions).
    @param faults: passed to both networks (a fault plan such as L{Chaos};
        it must keep no state from one network to the next).
    @param test_id: the test's id, for the reproduction line of an error.

    @return: the trace of the first run.
    @raise NondeterminismError: at the first differing event, showing both
        events, their index, the events before it, and the seed.
    """
    seed = resolve_seed(seed)
    traces: list[tuple[TraceEvent, ...]] = []
    for _ in range(2):
        net = MemoryNetwork(
            seed,
            hosts=hosts,
            step_budget=step_budget,
            trace_checksums=True,
            link=link,
            faults=faults,
        )
        net.test_id = test_id
        scenario(net)
        traces.append(net.trace)
    first, second = traces
    if first == second:
        return first
    index = 0
    for index, (one, two) in enumerate(zip(first, second, strict=False)):  # noqa: B007
        if one != two:
            break
    else:
        index = min(len(first), len(second))
    lines = [
        f"The scenario is not deterministic: with seed={seed} its two runs "
        f"differ at trace event {index} (the runs recorded {len(first)} and "
        f"{len(second)} events)."
    ]
    if index:
        lines.append("Events before it (identical in both runs):")
        lines.extend(f"  {event}" for event in first[max(0, index - _CONTEXT) : index])
    for number, trace in ((1, first), (2, second)):
        shown = str(trace[index]) if index < len(trace) else "(no more events)"
        lines.append(f"run {number}: {shown}")
    lines.append(
        "Take every random choice from net.random, never iterate over sets or "
        "dicts keyed by id(), never read the wall clock, and keep no state "
        "from one run to the next."
    )
    raise NondeterminismError("\n".join(lines), seed, test_id, index=index)
