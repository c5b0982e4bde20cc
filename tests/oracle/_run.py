"""
Running a scenario on the real reactor or on a L{MemoryNetwork}, the
expected outcomes recorded from the real reactor, and the side-by-side view.
"""

from __future__ import annotations

import ast
import gc
import json
import os
import socket
import struct
from collections.abc import Sequence
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from poetry.testing import (
    Deadlock,
    HarnessError,
    MemoryNetwork,
    MemoryTransport,
    Unclean,
)
from tests.oracle._registry import Scenario
from tests.oracle._world import Event, Stuck, World

__all__ = [
    "EXPECTED_DIRECTORY",
    "Outcome",
    "expected",
    "explain",
    "runOnMemory",
    "runOnReal",
    "saveExpected",
    "sideBySide",
]

Outcome = tuple[Event, ...]

EXPECTED_DIRECTORY = os.path.join(os.path.dirname(__file__), "expected")

# The seed of the memory runs: scenarios use no randomness, so any seed
# must give the same outcome; a fixed one makes failures reproducible.
MEMORY_SEED = 1


async def _outcomeOf(scenario: Scenario, world: World) -> Outcome:
    """
    Run C{scenario} in C{world}: the log up to the end of the scenario and
    a settling pause, then the cleanup (whose events are not part of the
    outcome).
    """
    # Errors logged when earlier garbage is collected belong to nobody: every
    # object made before the scenario is frozen (garbage included, which is
    # then not collected while the scenario runs), so the collection at the
    # end scans only what the scenario made -- a full collection of a big
    # test process costs about 20 ms, twice per scenario.
    gc.freeze()
    try:
        world.startLogCapture()
        try:
            try:
                await scenario.function(world)
                await world.settle()
            except Stuck:
                world.record("stuck")
            except Exception as e:
                world.record("scenario-raised", type(e).__name__, str(e))
            outcome = tuple(world.events)
        finally:
            world.stopLogCapture()
        await world.cleanup()
        gc.collect()
    finally:
        gc.unfreeze()
    return outcome


def _realReset(transport: Any) -> None:
    sock: socket.socket = transport.socket
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abortConnection()


# How long a scenario may wait for an event on the real reactor before it is
# declared stuck (the memory network knows at once: nothing is left to run).
REAL_TIME_LIMIT = 3.0


def runOnReal(scenario: Scenario, reactor: Any) -> Deferred[Outcome]:
    """
    Run C{scenario} on the running real reactor C{reactor}.
    """
    world = World(reactor, "real", _realReset)
    limit = reactor.callLater(REAL_TIME_LIMIT, world.abandon)

    def done(outcome: Outcome) -> Outcome:
        if limit.active():
            limit.cancel()
        return outcome

    return Deferred.fromCoroutine(_outcomeOf(scenario, world)).addBoth(done)


def runOnMemory(scenario: Scenario, seed: int = MEMORY_SEED) -> Outcome:
    """
    Run C{scenario} on a fresh L{MemoryNetwork}, to the end; the network
    must be clean afterwards (if it is not, the outcome ends with
    C{("harness", "Unclean")}).  A harness error (e.g. L{Deadlock} when the
    scenario waits for something that never happens on the memory network)
    ends the outcome with C{("harness", error type)}.
    """
    net = MemoryNetwork(seed=seed)

    def reset(transport: Any) -> None:
        # What the real side does: SO_LINGER (1, 0), then abortConnection();
        # an abort on the memory network closes its socket the same way.
        assert isinstance(transport, MemoryTransport), transport
        transport.abortConnection()

    world = World(net, "memory", reset)
    d = Deferred.fromCoroutine(_outcomeOf(scenario, world))
    for _ in range(100):
        try:
            outcome = net.run_until(d)
        except Deadlock:
            # Waiting for something that can no longer happen: stuck, as a
            # real run would be at its time limit.
            world.abandon()
            continue
        except HarnessError as e:
            world.stopLogCapture()
            return (*world.events, ("harness", type(e).__name__))
        try:
            net.assert_clean()
        except Unclean:
            # The memory network kept something the real reactor did not
            # (e.g. a listening port whose factory's doStart raised): an
            # outcome that differs, to be shown side by side like any other.
            return (*outcome, ("harness", "Unclean"))
        return outcome
    raise AssertionError(f"{scenario.name} stays stuck on the memory network")


# -- expected outcomes ---------------------------------------------------------


def _path(family: str) -> str:
    return os.path.join(EXPECTED_DIRECTORY, f"{family}.json")


def _decode(lines: Sequence[str]) -> Outcome:
    return tuple(ast.literal_eval(line) for line in lines)


def _encode(outcome: Outcome) -> list[str]:
    return [repr(event) for event in outcome]


def expected(scenario: Scenario) -> list[Outcome]:
    """
    The outcomes recorded from the real reactor for C{scenario} (empty if
    none were recorded).
    """
    path = _path(scenario.family)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return [
        _decode(outcome) for outcome in data.get(scenario.name, {}).get("outcomes", [])
    ]


def saveExpected(scenario: Scenario, outcomes: Sequence[Outcome]) -> None:
    """
    Record C{outcomes} (seen on the real reactor) as the expected outcomes of
    C{scenario}, keeping the file's other scenarios.
    """
    path = _path(scenario.family)
    data: dict[str, Any] = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    unique: list[Outcome] = []
    for outcome in outcomes:
        if outcome not in unique:
            unique.append(outcome)
    data[scenario.name] = {
        "doc": scenario.doc,
        "outcomes": [_encode(outcome) for outcome in unique],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


# -- showing -------------------------------------------------------------------


def sideBySide(left: Outcome, right: Outcome, titles: tuple[str, str]) -> str:
    """
    Two outcomes in two columns, the first differing line marked C{!}.
    """
    a = [repr(e) for e in left]
    b = [repr(e) for e in right]
    width = max([len(titles[0]), *map(len, a)], default=10)
    width = min(width, 70)
    lines = [f"   {titles[0]:<{width}}  | {titles[1]}"]
    first = True
    for index in range(max(len(a), len(b))):
        x = a[index] if index < len(a) else ""
        y = b[index] if index < len(b) else ""
        mark = " "
        if x != y and first:
            mark = "!"
            first = False
        if len(x) > width:
            x = x[: width - 3] + "..."
        lines.append(f" {mark} {x:<{width}}  | {y}")
    return "\n".join(lines)


def explain(scenario: Scenario, memory: Outcome, allowed: Sequence[Outcome]) -> str:
    """
    Why C{memory} is not among the C{allowed} outcomes: the scenario, and the
    memory outcome beside the closest allowed one.
    """
    if not allowed:
        return (
            f"No expected outcome recorded for {scenario.name!r}: record it from "
            f"the real reactor with: python -m tests.oracle record {scenario.name}"
        )

    def common(outcome: Outcome) -> int:
        n = 0
        for x, y in zip(outcome, memory, strict=False):
            if x != y:
                break
            n += 1
        return n

    closest = max(allowed, key=common)
    return (
        f"{scenario.name}: {scenario.doc}\n"
        f"The memory outcome is not among the {len(allowed)} outcome(s) of the "
        f"real reactor.\n"
        + sideBySide(closest, memory, ("real reactor", "MemoryNetwork"))
        + f"\nRun both sides again with: python -m tests.oracle show {scenario.name}"
    )


def failureText(failure: Failure) -> str:
    """
    C{Type: message} of C{failure}.
    """
    return (
        f"{failure.type.__name__ if failure.type else '?'}: {failure.getErrorMessage()}"
    )
