"""
A random-program differential fuzzer: small programs over the Twisted API,
generated from a seed, run on the real reactor and on a L{MemoryNetwork}.

A program (L{Program}) listens on one port and makes one to three
connections; each connection has a short list of steps, each an action by
one of its two ends taken when an event of the log has happened: "when c1
made", "when s1 has received at least N bytes", "when c1 got
readConnectionLost", "when s1 lost", "when c1's push producer was paused",
or "in the same turn as the previous step".  The actions are what a user
calls on a TCP transport: C{write}, C{writeSequence}, C{loseConnection},
C{abortConnection}, C{loseWriteConnection}, C{pauseProducing},
C{resumeProducing}, C{stopProducing}, registering a streaming producer
(L{PushProducer}) or a pull producer that writes a few chunks, then
unregisters (or not), C{unregisterProducer}, a reset (L{World.reset}),
making the next C{dataReceived} raise, and C{stopListening}.

Each end is a L{FuzzPeer}: it logs how many bytes each C{dataReceived} got
(not the bytes: writes go up to 8 MiB), so consecutive reads merge into one
count.  Each action is logged as C{("do", "c1", verb, ...)} before it runs
(and C{("do", "c1", verb, "raised", type)} if it raised).  A wait also ends
-- and the rest of its connection's steps are skipped -- once both ends of
the connection are gone (so that a trigger that can no longer happen does not
make the program wait for the real reactor's time limit).

What is left out, because its outcome legitimately depends on timing on the
real reactor: timers and settling pauses as triggers (what has happened
after N milliseconds depends on the machine); writes that would leave
between 2 MiB and 6 MiB unread in one direction (a real kernel's buffers
take from about 2.75 MiB to 3.9 MiB for a paused loopback reader, depending
on the machine, the network's about 4.1 MiB: a documented difference); and,
in the default comparison, how the logs of different connections
interleave and how one end's reads were cut (see L{loose}).

L{generate} makes a program from a seed (its own C{random.Random}); a
program prints as Python-like text (L{Program.text}), has a one-line JSON
form (L{Program.spec}) to run it again, and is a L{Scenario}
(L{Program.scenario}) that L{runOnReal} and L{runOnMemory} run unchanged.
L{judge} compares the real outcomes with the memory one; L{shrink} makes a
finding smaller.  The command line is C{python -m tests.oracle fuzz}.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any, cast

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IListeningPort, IPushProducer

from tests.oracle._registry import Scenario
from tests.oracle._run import Outcome, runOnMemory, runOnReal, sideBySide
from tests.oracle._support_data import tcp
from tests.oracle._world import (
    Event,
    Explosion,
    HalfCloseablePeer,
    Peer,
    PullProducer,
    PushProducer,
    Stuck,
    World,
)

__all__ = [
    "Action",
    "Connection",
    "FuzzOptions",
    "FuzzPeer",
    "Program",
    "Summary",
    "Trigger",
    "Verdict",
    "fuzz",
    "generate",
    "judge",
    "loose",
    "shrink",
]

# -- programs ------------------------------------------------------------------

# Trigger kinds.
SAME = "same"
MADE = "made"
RECEIVED = "received"
READ_LOST = "readLost"
WRITE_LOST = "writeLost"
LOST = "lost"
PAUSED = "pause"
RESUMED = "resume"

# Action verbs.
WRITE = "write"
WRITE_SEQUENCE = "writeSequence"
LOSE = "loseConnection"
ABORT = "abortConnection"
LOSE_WRITE = "loseWriteConnection"
PAUSE = "pauseProducing"
RESUME = "resumeProducing"
STOP = "stopProducing"
REGISTER_PUSH = "registerPush"
REGISTER_PULL = "registerPull"
UNREGISTER = "unregisterProducer"
RESET = "reset"
EXPLODE = "explode"
STOP_LISTENING = "stopListening"

VERBS = (
    WRITE,
    WRITE_SEQUENCE,
    LOSE,
    ABORT,
    LOSE_WRITE,
    PAUSE,
    RESUME,
    STOP,
    REGISTER_PUSH,
    REGISTER_PULL,
    UNREGISTER,
    RESET,
    EXPLODE,
    STOP_LISTENING,
)

MIB = 1024 * 1024


@dataclass(frozen=True)
class Trigger:
    """
    When a step runs: C{kind} (L{SAME}: in the same turn as the previous
    step; else an event) of the end C{side} (C{"c"} or C{"s"}) of the
    connection; C{count} is the number of bytes of L{RECEIVED}.
    """

    kind: str
    side: str = ""
    count: int = 0


@dataclass(frozen=True)
class Action:
    """
    One step: when C{trigger} has happened, the end C{side} does C{verb}.
    C{sizes} are the write's size (L{WRITE}), the sequence's sizes
    (L{WRITE_SEQUENCE}) or the pull producer's chunk count and chunk size
    (L{REGISTER_PULL}, which unregisters after its last chunk if C{flag}).
    """

    trigger: Trigger
    verb: str
    side: str = ""
    sizes: tuple[int, ...] = ()
    flag: bool = False


@dataclass(frozen=True)
class Connection:
    """
    Connection C{index} (its ends are C{c<index>} and C{s<index>}): it
    connects when C{start} has happened on the previous connection (at once
    for the first), its ends are half-closeable or not, and it runs
    C{actions} in order.
    """

    index: int
    start: Trigger
    clientHalfClose: bool
    serverHalfClose: bool
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Program:
    """
    A generated program: one listening port and its connections.
    """

    seed: int
    connections: tuple[Connection, ...]
    label: str = ""

    @property
    def name(self) -> str:
        """
        The scenario name: C{fuzz<seed>} (and the label, for shrunk ones).
        """
        return f"fuzz{self.seed}{self.label}"

    def scenario(self) -> Scenario:
        """
        This program as a scenario of the family C{fuzz}.
        """

        async def function(w: World) -> None:
            await _Execution(self, w).run()

        return Scenario(
            self.name,
            "fuzz",
            f"a random program ({self.steps} steps, seed {self.seed})",
            function,
            None,
        )

    @property
    def steps(self) -> int:
        """
        How many steps the program has in all.
        """
        return sum(len(c.actions) for c in self.connections)

    def spec(self) -> str:
        """
        The program as one line of JSON (see L{fromSpec}).
        """
        return json.dumps(
            {
                "seed": self.seed,
                "label": self.label,
                "connections": [
                    [
                        _triggerSpec(c.start),
                        c.clientHalfClose,
                        c.serverHalfClose,
                        [
                            [_triggerSpec(a.trigger), a.verb, a.side, list(a.sizes)]
                            + ([1] if a.flag else [])
                            for a in c.actions
                        ],
                    ]
                    for c in self.connections
                ],
            },
            separators=(",", ":"),
        )

    @classmethod
    def fromSpec(cls, text: str) -> Program:
        """
        The program whose L{spec} is C{text}.
        """
        data = json.loads(text)
        connections = []
        for index, (start, clientHalf, serverHalf, actions) in enumerate(
            data["connections"], 1
        ):
            steps = []
            for trigger, verb, side, sizes, *flag in actions:
                if verb not in VERBS:
                    raise ValueError(f"unknown verb {verb!r}")
                steps.append(
                    Action(
                        _triggerFromSpec(trigger),
                        verb,
                        side,
                        tuple(int(s) for s in sizes),
                        bool(flag and flag[0]),
                    )
                )
            connections.append(
                Connection(
                    index,
                    _triggerFromSpec(start),
                    bool(clientHalf),
                    bool(serverHalf),
                    tuple(steps),
                )
            )
        return cls(int(data["seed"]), tuple(connections), str(data.get("label", "")))

    def text(self) -> str:
        """
        The program as Python-like text, close to a hand-written scenario.
        """
        lines = [
            f"# {self.name}: {len(self.connections)} connection(s), "
            f"{self.steps} step(s)",
            "# c<k>, s<k>: the client and server ends of connection k "
            '(w.peer("c1"), ...),',
            "# FuzzPeers: each dataReceived logs its byte count; c<k>.count is "
            "the total.",
            "# A wait gives up its connection's remaining steps once both ends "
            "are gone.",
            "port = w.listen(); number = w.portNumber(port)  # server ends: "
            + ", ".join(
                f"s{c.index} {_halfText(c.serverHalfClose)}" for c in self.connections
            ),
        ]
        for c in self.connections:
            lines.append(f"async def connection{c.index}() -> None:")
            if c.index > 1:
                lines.append(f"    await connected({c.index - 1})")
                wait = _triggerText(c.start, c.index - 1)
                if wait:
                    lines.append(f"    {wait}")
            lines.append(
                f"    w.connect(number)  # c{c.index} {_halfText(c.clientHalfClose)}"
            )
            for a in c.actions:
                wait = _triggerText(a.trigger, c.index)
                if wait:
                    lines.append(f"    {wait}")
                lines.append(f"    {_actionText(a, c.index)}")
        lines.append(
            "await all("
            + ", ".join(f"connection{c.index}()" for c in self.connections)
            + ")"
        )
        return "\n".join(lines)


def _triggerSpec(t: Trigger) -> list[Any]:
    spec: list[Any] = [t.kind]
    if t.side or t.count:
        spec.append(t.side)
    if t.count:
        spec.append(t.count)
    return spec


def _triggerFromSpec(spec: Sequence[Any]) -> Trigger:
    kind = str(spec[0])
    if kind not in (SAME, MADE, RECEIVED, READ_LOST, WRITE_LOST, LOST, PAUSED, RESUMED):
        raise ValueError(f"unknown trigger {kind!r}")
    side = str(spec[1]) if len(spec) > 1 else ""
    count = int(spec[2]) if len(spec) > 2 else 0
    return Trigger(kind, side, count)


def _halfText(halfClose: bool) -> str:
    return "half-closeable" if halfClose else "not half-closeable"


def _triggerText(t: Trigger, index: int) -> str:
    name = f"{t.side}{index}"
    if t.kind == SAME:
        return ""
    if t.kind == RECEIVED:
        return f"await w.waitFor(lambda: {name}.count >= {t.count})"
    if t.kind in (PAUSED, RESUMED):
        return f'await w.when("{name}.push", "{t.kind}")'
    return f'await w.when("{name}", "{t.kind}")'


def _bytesText(size: int) -> str:
    return f'b"x" * {size}' if size > 1 else 'b"x"'


def _actionText(a: Action, index: int) -> str:
    name = f"{a.side}{index}"
    if a.verb == WRITE:
        return f"{name}.tcp.write({_bytesText(a.sizes[0])})"
    if a.verb == WRITE_SEQUENCE:
        return (
            f"{name}.tcp.writeSequence(["
            + ", ".join(_bytesText(s) for s in a.sizes)
            + "])"
        )
    if a.verb in (LOSE, ABORT, LOSE_WRITE):
        return f"{name}.tcp.{a.verb}()"
    if a.verb in (PAUSE, RESUME, STOP, UNREGISTER):
        return f"tcp({name}).{a.verb}()"
    if a.verb == REGISTER_PUSH:
        return f'tcp({name}).registerProducer(PushProducer(w, "{name}.push"), True)'
    if a.verb == REGISTER_PULL:
        chunks, size = a.sizes
        then = "then unregisters" if a.flag else "then writes nothing"
        return (
            f'tcp({name}).registerProducer(PullProducer(w, "{name}.pull", '
            f"onResume=...), False)  # writes {chunks} x {size} bytes, {then}"
        )
    if a.verb == RESET:
        return f"if not {name}.isLost: w.reset({name})"
    if a.verb == EXPLODE:
        return f"{name}.explodeOnNextData = True  # its next dataReceived raises"
    assert a.verb == STOP_LISTENING, a.verb
    return "w.stopListening(port)"


# -- generating ----------------------------------------------------------------

# Write sizes (with weights): from one byte to 2 MiB, around the transport's
# 64 KiB buffer (producers are paused above it) and its 128 KiB send.
_SIZES = (
    (1, 6),
    (3, 3),
    (10, 4),
    (100, 4),
    (1000, 4),
    (4096, 2),
    (65535, 2),
    (65536, 2),
    (65537, 2),
    (131072, 1),
    (131073, 1),
    (300_000, 2),
    (1_000_000, 2),
    (2 * MIB, 1),
)
# The big write, which fills the kernel's buffers on either backend.
_BIG = 8 * MIB
# What may be left unread in one direction: below LOW or above HIGH (between
# them, whether the kernel takes it all depends on its buffer tuning).
_LOW = 2 * MIB + 65537
_HIGH = 6 * MIB


def _other(side: str) -> str:
    return "s" if side == "c" else "c"


@dataclass
class _Model:
    """
    What the generator believes about one connection so far, to draw
    triggers that will probably happen and sizes outside the ambiguous
    zone.
    """

    halfClose: dict[str, bool]
    known: set[str] = field(default_factory=set)
    written: dict[str, int] = field(default_factory=lambda: {"c": 0, "s": 0})
    awaited: dict[str, int] = field(default_factory=lambda: {"c": 0, "s": 0})
    paused: dict[str, bool] = field(default_factory=lambda: {"c": False, "s": False})
    closing: dict[str, bool] = field(default_factory=lambda: {"c": False, "s": False})
    hard: dict[str, bool] = field(default_factory=lambda: {"c": False, "s": False})
    writeShut: dict[str, bool] = field(default_factory=lambda: {"c": False, "s": False})
    producer: dict[str, str] = field(default_factory=lambda: {"c": "", "s": ""})
    explode: dict[str, bool] = field(default_factory=lambda: {"c": False, "s": False})
    pushLoad: dict[str, int] = field(default_factory=lambda: {"c": 0, "s": 0})

    def silenced(self, side: str) -> bool:
        """
        Whether C{side} writes nothing more that arrives.
        """
        return self.closing[side] or self.hard[side] or self.writeShut[side]

    def size(self, rng: random.Random, side: str) -> int:
        """
        A write size for C{side}, keeping the unread total out of the zone.
        """
        already = self.written[side]
        if rng.random() < 0.04 and already < _HIGH:
            return _BIG
        sizes = [s for s, _ in _SIZES]
        weights = [w for _, w in _SIZES]
        for _ in range(10):
            size = rng.choices(sizes, weights)[0]
            if not _LOW < already + size <= _HIGH:
                return size
        return 1


def _triggers(model: _Model, rng: random.Random) -> list[tuple[float, Trigger]]:
    """
    The triggers that may come next, with weights.
    """
    options: list[tuple[float, Trigger]] = []
    if model.known:
        options.append((5, Trigger(SAME)))
    for side in ("c", "s"):
        other = _other(side)
        options.append((3 if side not in model.known else 0.2, Trigger(MADE, side)))
        reading = not (model.paused[side] or model.closing[side])
        if (
            reading
            and model.written[other] > model.awaited[side]
            and not model.hard[other]
        ):
            total = model.written[other]
            count = (
                total
                if rng.random() < 0.6
                else rng.randint(model.awaited[side] + 1, total)
            )
            options.append((6, Trigger(RECEIVED, side, count)))
        closedByOther = model.writeShut[other] or (
            model.closing[other] and not model.hard[other]
        )
        if model.halfClose[side] and closedByOther and reading:
            options.append((4, Trigger(READ_LOST, side)))
        if model.halfClose[side] and model.writeShut[side] and not model.closing[side]:
            options.append((3, Trigger(WRITE_LOST, side)))
        if (
            model.closing[side]
            or model.hard[other]
            or (closedByOther and not model.halfClose[side] and reading)
            or (model.explode[side] and model.written[other] > model.awaited[side])
        ):
            options.append((3, Trigger(LOST, side)))
        if model.producer[side] == "push" and model.pushLoad[side] > 65536:
            options.append((1.5, Trigger(PAUSED, side)))
            if not (model.paused[other] or model.closing[other]):
                options.append((1.5, Trigger(RESUMED, side)))
    return options


def _verbs(model: _Model, side: str, listening: bool) -> list[tuple[float, str]]:
    """
    The actions C{side} may take next, with weights.
    """
    closing = model.closing[side]
    producer = model.producer[side]
    return [
        (10, WRITE),
        (3, WRITE_SEQUENCE),
        (0.5 if closing else 3, LOSE),
        (1.5, ABORT),
        (0.5 if model.writeShut[side] or closing else 3, LOSE_WRITE),
        (0.3 if model.paused[side] else 2.5, PAUSE),
        (5 if model.paused[side] else 0.3, RESUME),
        (0.5, STOP),
        (0.2 if producer else 1.5, REGISTER_PUSH),
        (0.2 if producer else 1.5, REGISTER_PULL),
        (2.5 if producer else 0.3, UNREGISTER),
        (1, RESET),
        (0.2 if model.explode[side] else 1.5, EXPLODE),
        (0.6 if listening else 0, STOP_LISTENING),
    ]


def _pick(rng: random.Random, options: Sequence[tuple[float, Any]]) -> Any:
    weights = [w for w, _ in options]
    return rng.choices([o for _, o in options], weights)[0]


def _action(
    rng: random.Random, model: _Model, trigger: Trigger, listening: bool
) -> Action:
    """
    Draw the action taken when C{trigger} has happened, and update C{model}.
    """
    sides = sorted(model.known)
    if trigger.side in model.known and rng.random() < 0.5:
        side = trigger.side
    else:
        side = rng.choice(sides)
    verb: str = _pick(rng, _verbs(model, side, listening))
    if verb == STOP_LISTENING:
        return Action(trigger, verb)
    sizes: tuple[int, ...] = ()
    flag = False
    writes = 0
    if verb == WRITE:
        sizes = (model.size(rng, side),)
        writes = sizes[0]
    elif verb == WRITE_SEQUENCE:
        sizes = tuple(
            min(model.size(rng, side), 65537) for _ in range(rng.randint(1, 4))
        )
        writes = sum(sizes)
        if _LOW < model.written[side] + writes <= _HIGH:
            sizes = (1,)
            writes = 1
    elif verb == REGISTER_PULL:
        chunks = rng.randint(1, 4)
        size = min(model.size(rng, side), 131073)
        if _LOW < model.written[side] + chunks * size <= _HIGH:
            size = 1
        sizes = (chunks, size)
        flag = rng.random() < 0.7
        if not model.producer[side]:
            model.producer[side] = "pull"
            writes = chunks * size
    if writes and not model.silenced(side):
        model.written[side] += writes
        model.pushLoad[side] = max(model.pushLoad[side], writes)
    if verb in (LOSE, STOP):
        model.closing[side] = True
    elif verb in (ABORT, RESET):
        model.closing[side] = model.hard[side] = True
    elif verb == LOSE_WRITE:
        model.writeShut[side] = True
    elif verb == PAUSE:
        model.paused[side] = True
    elif verb == RESUME:
        model.paused[side] = False
    elif verb == REGISTER_PUSH and not model.producer[side]:
        model.producer[side] = "push"
        model.pushLoad[side] = 0
    elif verb == UNREGISTER:
        model.producer[side] = ""
    elif verb == EXPLODE:
        model.explode[side] = True
    return Action(trigger, verb, side, sizes, flag)


def generate(seed: int, steps: int = 6) -> Program:
    """
    The program of C{seed}: one to three connections of one to C{steps}
    steps each, drawn with C{random.Random(seed)}.
    """
    rng = random.Random(seed)
    count = rng.choices([1, 2, 3], [5, 3, 2])[0]
    listening = True
    connections = []
    for index in range(1, count + 1):
        start = (
            Trigger(SAME)
            if index == 1
            else _pick(
                rng,
                [(1, Trigger(SAME)), (2, Trigger(MADE, "c")), (2, Trigger(MADE, "s"))],
            )
        )
        halfClose = {"c": rng.random() < 0.5, "s": rng.random() < 0.5}
        model = _Model(halfClose)
        actions = []
        for _ in range(rng.randint(1, max(1, steps))):
            trigger: Trigger = _pick(rng, _triggers(model, rng))
            if trigger.kind in (MADE, READ_LOST, WRITE_LOST, LOST, PAUSED, RESUMED):
                model.known.add(trigger.side)
            elif trigger.kind == RECEIVED:
                model.known.update(("c", "s"))
                model.awaited[trigger.side] = trigger.count
            action = _action(rng, model, trigger, listening)
            if action.verb == STOP_LISTENING:
                listening = False
            actions.append(action)
        connections.append(
            Connection(index, start, halfClose["c"], halfClose["s"], tuple(actions))
        )
    return Program(seed, tuple(connections))


# -- running -------------------------------------------------------------------


class FuzzPeer(Peer):
    """
    A L{Peer} that logs the size of each C{dataReceived} (merged into one
    count while nothing else is logged) and keeps the total in C{count};
    with C{explodeOnNextData} set, its next C{dataReceived} raises
    L{Explosion} (after logging).
    """

    def __init__(self, world: World, name: str) -> None:
        super().__init__(world, name)
        self.count = 0
        self.explodeOnNextData = False

    def dataReceived(self, data: bytes) -> None:
        self.count += len(data)
        self.world.record(self.name, "data", len(data))
        if self.explodeOnNextData:
            self.explodeOnNextData = False
            raise Explosion(f"in {self.name}'s dataReceived")


class HalfCloseableFuzzPeer(FuzzPeer, HalfCloseablePeer):
    """
    A L{FuzzPeer} that provides L{IHalfCloseableProtocol}.
    """


def _fuzzPeer(world: World, name: str, halfClose: bool) -> FuzzPeer:
    if halfClose:
        return HalfCloseableFuzzPeer(world, name)
    return FuzzPeer(world, name)


class _Execution:
    """
    One run of a L{Program} in a L{World}.
    """

    def __init__(self, program: Program, world: World) -> None:
        self.program = program
        self.w = world
        self.started: dict[int, Deferred[None]] = {
            c.index: Deferred() for c in program.connections
        }
        self.port: IListeningPort | None = None
        self.number = 0

    async def run(self) -> None:
        self.port = self.w.listen(build=self._buildServer)
        self.number = self.w.portNumber(self.port)
        chains = [
            Deferred.fromCoroutine(self._connection(c))
            for c in self.program.connections
        ]
        stuck = False
        for chain in chains:
            if await chain:
                stuck = True
        if stuck:
            raise Stuck()

    def _buildServer(self, factory: object, address: IAddress) -> Peer:
        index = self.w._next("s")
        connections = self.program.connections
        halfClose = index <= len(connections) and connections[index - 1].serverHalfClose
        return _fuzzPeer(self.w, f"s{index}", halfClose)

    def _buildClient(
        self, connection: Connection
    ) -> Callable[[object, IAddress], Peer]:
        def build(factory: object, address: IAddress) -> Peer:
            return _fuzzPeer(self.w, f"c{connection.index}", connection.clientHalfClose)

        return build

    def _peer(self, name: str) -> FuzzPeer | None:
        for peer in self.w.peers:
            if peer.name == name:
                return cast(FuzzPeer, peer)
        return None

    def _gone(self, index: int) -> bool:
        """
        Whether both ends of connection C{index} are gone (or it failed).
        """
        client = self._peer(f"c{index}")
        server = self._peer(f"s{index}")
        factory = "cf" if index == 1 else f"cf{index}"
        clientGone = self.w.has(factory, "failed") or (
            client is not None and client.isLost
        )
        return clientGone and (server is None or server.isLost)

    def _condition(self, trigger: Trigger, index: int) -> Callable[[], bool]:
        name = f"{trigger.side}{index}"
        if trigger.kind == RECEIVED:

            def received() -> bool:
                peer = self._peer(name)
                return peer is not None and peer.count >= trigger.count

            return received
        if trigger.kind in (PAUSED, RESUMED):
            return lambda: self.w.has(f"{name}.push", trigger.kind)
        return lambda: self.w.has(name, trigger.kind)

    async def _wait(self, trigger: Trigger, index: int) -> bool:
        """
        Wait for C{trigger} on connection C{index}: whether it happened
        (else both ends are gone).
        """
        if trigger.kind == SAME:
            return True
        happened = self._condition(trigger, index)
        await self.w.waitFor(lambda: happened() or self._gone(index))
        return happened()

    async def _connection(self, connection: Connection) -> bool:
        """
        Run C{connection}'s steps; whether it got stuck.
        """
        index = connection.index
        try:
            if index > 1:
                await self.started[index - 1]
                await self._wait(connection.start, index - 1)
            self.w.connect(self.number, build=self._buildClient(connection))
            self.started[index].callback(None)
            for action in connection.actions:
                if not await self._wait(action.trigger, index):
                    break
                self._do(action, index)
        except Stuck:
            if not self.started[index].called:
                self.started[index].errback(Stuck())
            return True
        return False

    def _do(self, action: Action, index: int) -> None:
        if action.verb == STOP_LISTENING:
            self.w.record("do", "port", STOP_LISTENING)
            assert self.port is not None
            self.w.stopListening(self.port)
            return
        name = f"{action.side}{index}"
        peer = self._peer(name)
        self.w.record("do", name, action.verb, *action.sizes)
        if peer is None:
            self.w.record("do", name, action.verb, "no such protocol")
            return
        try:
            self._act(action, peer)
        except Exception as e:
            self.w.record("do", name, action.verb, "raised", type(e).__name__)

    def _act(self, action: Action, peer: FuzzPeer) -> None:
        verb = action.verb
        transport = tcp(peer)
        if verb == WRITE:
            transport.write(b"x" * action.sizes[0])
        elif verb == WRITE_SEQUENCE:
            transport.writeSequence([b"x" * size for size in action.sizes])
        elif verb == LOSE:
            transport.loseConnection()
        elif verb == ABORT:
            transport.abortConnection()
        elif verb == LOSE_WRITE:
            transport.loseWriteConnection()
        elif verb == PAUSE:
            transport.pauseProducing()
        elif verb == RESUME:
            transport.resumeProducing()
        elif verb == STOP:
            cast(IPushProducer, transport).stopProducing()
        elif verb == REGISTER_PUSH:
            transport.registerProducer(PushProducer(self.w, f"{peer.name}.push"), True)
        elif verb == REGISTER_PULL:
            transport.registerProducer(self._pull(peer, action), False)
        elif verb == UNREGISTER:
            transport.unregisterProducer()
        elif verb == RESET:
            if not peer.isLost:
                self.w.reset(peer)
        else:
            assert verb == EXPLODE, verb
            peer.explodeOnNextData = True

    def _pull(self, peer: FuzzPeer, action: Action) -> PullProducer:
        chunks, size = action.sizes

        def resume(producer: PullProducer) -> None:
            if producer.resumes <= chunks:
                tcp(peer).write(b"x" * size)
            elif action.flag and producer.resumes == chunks + 1:
                tcp(peer).unregisterProducer()

        return PullProducer(self.w, f"{peer.name}.pull", onResume=resume)


# -- comparing -----------------------------------------------------------------

_PEER = re.compile(r"[cs](\d+)(\.\w+)?")
_CLIENT_FACTORY = re.compile(r"cf(\d*)")


_CLIENT_ADDRESS = re.compile(r".*:C(\d+)")


def _group(event: Event) -> int:
    """
    The connection C{event} belongs to (0: none -- the port, the server
    factory's start and stop, logged errors, the end of the run).  The
    server factory's C{build} of the client port C{C<k>} (the k-th seen,
    accepted in the order of the connections) belongs to connection k.
    """
    actor = event[0]
    if actor == "do" and len(event) > 1:
        actor = event[1]
    if not isinstance(actor, str):
        return 0
    if actor.startswith("sf") and event[1:2] == ("build",) and len(event) == 3:
        address = _CLIENT_ADDRESS.fullmatch(str(event[2]))
        return int(address.group(1)) if address else 0
    match = _PEER.fullmatch(actor)
    if match:
        return int(match.group(1))
    match = _CLIENT_FACTORY.fullmatch(actor)
    if match:
        return int(match.group(1) or 1)
    return 0


def _isData(event: Event) -> bool:
    return len(event) == 3 and event[1] == "data" and isinstance(event[2], int)


def loose(outcome: Outcome) -> Outcome:
    """
    The outcome as the fuzzer compares it by default: the events of each
    connection apart (its ends, its client factory, its producers, its
    steps), after the events of no connection (the port and server factory,
    logged errors, the end of the run) -- so the interleaving of different
    connections does not count (the server factory's C{build} goes with
    the connection of the client address, an error logged by the reactor
    with the connection of the next protocol lost with it) -- and, within a
    connection, each end's byte counts summed up to the next end of its
    reading (its C{readLost} or C{lost}) and placed just before it -- so
    where the stream was cut between reads, and how reads interleave with
    everything else (the other end's callbacks, the steps, this end's
    C{writeConnectionLost}, producers), does not count either.  The order of
    everything else, and how many bytes each end had received when its
    reading ended, count.
    """
    groups: dict[int, list[Event]] = {}
    for position, event in enumerate(outcome):
        group = _group(event)
        if event[:1] == ("log",) and len(event) == 2:
            # An error logged by the reactor goes with the connection of the
            # next protocol lost with it (logged, then connectionLost).
            for later in outcome[position + 1 :]:
                if later[1:3] == ("lost", event[1]) and _group(later):
                    group = _group(later)
                    break
        groups.setdefault(group, []).append(event)
    result: list[Event] = []
    for index in sorted(groups):
        result.append(("connection", index) if index else ("no connection",))
        pending: dict[str, int] = {}
        for event in groups[index]:
            if _isData(event):
                pending[event[0]] = pending.get(event[0], 0) + event[2]
                continue
            if event[0] in pending and event[1:2] in (("readLost",), ("lost",)):
                result.append((event[0], "data", pending.pop(event[0])))
            result.append(event)
        for name in sorted(pending):
            result.append((name, "data", pending[name]))
    return tuple(result)


AGREE = "agree"
FINDING = "finding"
REAL_VARIES = "real varies"


@dataclass(frozen=True)
class Verdict:
    """
    How a program's memory outcome compares with its real ones.

    @ivar kind: L{AGREE}, L{FINDING} (the real runs agree, the memory
        outcome is not theirs) or L{REAL_VARIES} (the real runs disagree).
    @ivar real: the distinct real outcomes, as compared, with their counts.
    @ivar memory: the memory outcome, as compared.
    @ivar memoryAmong: whether the memory outcome is one of the real ones.
    @ivar exact: whether the raw memory outcome is one of the raw real ones.
    """

    kind: str
    real: tuple[tuple[Outcome, int], ...]
    memory: Outcome
    memoryAmong: bool
    exact: bool


def judge(real: Sequence[Outcome], memory: Outcome, strict: bool = False) -> Verdict:
    """
    Compare the real outcomes of a program with its memory outcome -- as
    they are if C{strict}, else in their L{loose} form.
    """
    compare: Callable[[Outcome], Outcome] = (lambda o: o) if strict else loose
    distinct: list[Outcome] = []
    counts: list[int] = []
    for outcome in real:
        form = compare(outcome)
        if form in distinct:
            counts[distinct.index(form)] += 1
        else:
            distinct.append(form)
            counts.append(1)
    mine = compare(memory)
    among = mine in distinct
    kind = REAL_VARIES if len(distinct) > 1 else AGREE if among else FINDING
    return Verdict(
        kind, tuple(zip(distinct, counts, strict=True)), mine, among, memory in real
    )


def isHarnessError(outcome: Outcome) -> bool:
    """
    Whether C{outcome} ends with a harness error or the program raised.
    """
    return any(e and e[0] in ("harness", "scenario-raised") for e in outcome)


# -- shrinking -----------------------------------------------------------------


def _renumber(connections: Sequence[Connection]) -> tuple[Connection, ...]:
    return tuple(
        replace(c, index=i, start=c.start if i > 1 else Trigger(SAME))
        for i, c in enumerate(connections, 1)
    )


def _plausible(program: Program) -> bool:
    """
    Whether every wait for received bytes asks for no more than the other
    end wrote in the steps before it (else the wait could not end).
    """
    for c in program.connections:
        written = {"c": 0, "s": 0}
        for a in c.actions:
            t = a.trigger
            if t.kind == RECEIVED and t.count > written[_other(t.side)]:
                return False
            if a.verb == WRITE or a.verb == WRITE_SEQUENCE:
                written[a.side] += sum(a.sizes)
            elif a.verb == REGISTER_PULL:
                written[a.side] += a.sizes[0] * a.sizes[1]
    return True


def _smaller(size: int) -> list[int]:
    return [s for s in (1, 1000, 65537, 300_000) if s < size]


def _withConnection(program: Program, i: int, new: Connection) -> Program:
    connections = program.connections
    return replace(program, connections=(*connections[:i], new, *connections[i + 1 :]))


def _withAction(program: Program, i: int, j: int, new: Action | None) -> Program:
    c = program.connections[i]
    middle = () if new is None else (new,)
    actions = (*c.actions[:j], *middle, *c.actions[j + 1 :])
    return _withConnection(program, i, replace(c, actions=actions))


def _simplerSizes(a: Action) -> Iterator[tuple[int, ...]]:
    shape = a.sizes
    for k in range(len(shape)):
        if a.verb == REGISTER_PULL and k == 0:
            options = list(range(1, shape[0]))
        else:
            options = _smaller(shape[k])
        for smaller in options:
            yield (*shape[:k], smaller, *shape[k + 1 :])
    if a.verb == WRITE_SEQUENCE and len(shape) > 1:
        for k in range(len(shape)):
            yield (*shape[:k], *shape[k + 1 :])


def _candidates(program: Program) -> Iterator[Program]:
    """
    Programs one simplification away from C{program}, the biggest cuts first:
    without a connection, without a step, a step in the same turn as the
    previous one, smaller writes, an earlier wait for bytes, ends that are
    not half-closeable, a connection that starts at once.
    """
    connections = program.connections
    if len(connections) > 1:
        for i in range(len(connections)):
            yield replace(
                program, connections=_renumber(connections[:i] + connections[i + 1 :])
            )
    for i, c in enumerate(connections):
        for j in range(len(c.actions) - 1, -1, -1):
            yield _withAction(program, i, j, None)
            following = c.actions[j + 1] if j + 1 < len(c.actions) else None
            if following is not None and following.trigger.kind == SAME:
                # Without step j, the next step taking its trigger.
                moved = replace(following, trigger=c.actions[j].trigger)
                yield _withAction(_withAction(program, i, j + 1, moved), i, j, None)
        for j, a in enumerate(c.actions):
            if j > 0 and a.trigger.kind != SAME:
                yield _withAction(program, i, j, replace(a, trigger=Trigger(SAME)))
            if a.verb == WRITE_SEQUENCE and len(a.sizes) == 1:
                yield _withAction(program, i, j, replace(a, verb=WRITE))
            if a.verb in (WRITE, WRITE_SEQUENCE, REGISTER_PULL):
                for sizes in _simplerSizes(a):
                    yield _withAction(program, i, j, replace(a, sizes=sizes))
            if a.trigger.kind == RECEIVED and a.trigger.count > 1:
                trigger = replace(a.trigger, count=1)
                yield _withAction(program, i, j, replace(a, trigger=trigger))
        if c.clientHalfClose:
            yield _withConnection(program, i, replace(c, clientHalfClose=False))
        if c.serverHalfClose:
            yield _withConnection(program, i, replace(c, serverHalfClose=False))
        if c.index > 1 and c.start.kind != SAME:
            yield _withConnection(program, i, replace(c, start=Trigger(SAME)))


async def shrink(
    program: Program,
    stillDiffers: Callable[[Program], Awaitable[bool]],
    budget: int = 150,
) -> Program:
    """
    The smallest program found (greedily, trying at most C{budget}
    candidates) from which no simplification of L{_candidates} keeps
    C{stillDiffers} true.
    """
    tried = 0
    current = replace(program, label="s")
    progress = True
    while progress and tried < budget:
        progress = False
        for candidate in _candidates(current):
            if not _plausible(candidate) or not any(
                c.actions for c in candidate.connections
            ):
                continue
            tried += 1
            if await stillDiffers(candidate):
                current = candidate
                progress = True
                break
            if tried >= budget:
                break
    return current


# -- the command ---------------------------------------------------------------


@dataclass(frozen=True)
class FuzzOptions:
    """
    The options of C{python -m tests.oracle fuzz}.
    """

    seeds: int = 100
    start: int = 0
    repeat: int = 3
    steps: int = 6
    show: bool = False
    strict: bool = False
    shrink: bool = False
    memoryOnly: bool = False
    program: str | None = None


@dataclass
class Summary:
    """
    What a fuzzing session found, seed by seed.
    """

    agreements: list[int] = field(default_factory=list)
    exactly: list[int] = field(default_factory=list)
    findings: list[int] = field(default_factory=list)
    varies: list[int] = field(default_factory=list)
    variesOutside: list[int] = field(default_factory=list)
    stuck: list[int] = field(default_factory=list)
    harness: list[int] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)

    @property
    def seeds(self) -> int:
        """
        How many seeds were run.
        """
        return (
            len(self.agreements)
            + len(self.findings)
            + len(self.varies)
            + len(self.errors)
        )

    def add(self, seed: int, verdict: Verdict) -> None:
        """
        Count C{seed}'s verdict.
        """
        if verdict.kind == AGREE:
            self.agreements.append(seed)
            if verdict.exact:
                self.exactly.append(seed)
        elif verdict.kind == FINDING:
            self.findings.append(seed)
        else:
            self.varies.append(seed)
            if not verdict.memoryAmong:
                self.variesOutside.append(seed)
        if verdict.memory and ("stuck",) in verdict.memory:
            self.stuck.append(seed)
        if isHarnessError(verdict.memory):
            self.harness.append(seed)

    def text(self) -> str:
        """
        The summary printed at the end.
        """

        def seeds(values: list[int]) -> str:
            if not values:
                return ""
            shown = " ".join(str(v) for v in values[:40])
            return f" (seeds {shown}{' ...' if len(values) > 40 else ''})"

        return "\n".join(
            [
                f"seeds run: {self.seeds}",
                f"agreements: {len(self.agreements)} "
                f"({len(self.exactly)} with identical raw logs)",
                f"findings: {len(self.findings)}{seeds(self.findings)}",
                f"real varies: {len(self.varies)}{seeds(self.varies)}; memory "
                f"outside the real outcomes in {len(self.variesOutside)}"
                f"{seeds(self.variesOutside)}",
                f"stuck (on both sides): {len(self.stuck)}",
                f"harness errors or programs that raised (memory): "
                f"{len(self.harness)}{seeds(self.harness)}",
                *(
                    [
                        f"not run (the fuzzer failed): {len(self.errors)}"
                        f"{seeds(self.errors)}"
                    ]
                    if self.errors
                    else []
                ),
            ]
        )


def _describe(verdict: Verdict, repeat: int) -> str:
    """
    The compared outcomes side by side: each distinct real one beside the
    memory one.
    """
    parts = []
    for number, (outcome, count) in enumerate(verdict.real, 1):
        parts.append(
            sideBySide(
                outcome,
                verdict.memory,
                (
                    f"real reactor (outcome {number}, {count}/{repeat} runs)",
                    "MemoryNetwork",
                ),
            )
        )
    return "\n\n".join(parts)


def _command(program: Program, options: FuzzOptions) -> str:
    extra = " --strict" if options.strict else ""
    if program.label or options.program is not None:
        return (
            f"python -m tests.oracle fuzz --program '{program.spec()}' "
            f"--repeat {options.repeat} --show{extra}"
        )
    steps = f" --steps {options.steps}" if options.steps != 6 else ""
    return (
        f"python -m tests.oracle fuzz --start {program.seed} --seeds 1"
        f"{steps} --repeat {options.repeat} --show{extra}"
    )


def _programs(options: FuzzOptions) -> Iterator[Program]:
    if options.program is not None:
        yield Program.fromSpec(options.program)
        return
    for seed in range(options.start, options.start + options.seeds):
        yield generate(seed, options.steps)


def fuzzMemoryOnly(options: FuzzOptions, out: IO[str]) -> list[Program]:
    """
    Run the programs on the memory network only (no sockets): print each
    program's seed and the length of its log, and the program and its log
    with C{show}; the programs whose memory run ended in a harness error or
    raised are returned (and printed).
    """
    broken = []
    for program in _programs(options):
        outcome = runOnMemory(program.scenario())
        bad = isHarnessError(outcome)
        print(
            f"{program.name}: {len(outcome)} events"
            f"{', stuck' if ('stuck',) in outcome else ''}"
            f"{', HARNESS ERROR' if bad else ''}",
            file=out,
        )
        if bad:
            broken.append(program)
        if options.show or bad:
            print(program.text(), file=out)
            for event in outcome:
                print(f"    {event!r}", file=out)
    return broken


async def fuzz(reactor: Any, options: FuzzOptions, out: IO[str]) -> Summary:
    """
    Run each program C{options.repeat} times on the real reactor C{reactor}
    and once on the memory network, report findings and real variations on
    C{out}, and return the summary (printed too).
    """
    summary = Summary()

    async def outcomes(program: Program) -> tuple[list[Outcome], Outcome]:
        scenario = program.scenario()
        real = [
            await runOnReal(scenario, reactor) for _ in range(max(1, options.repeat))
        ]
        return real, runOnMemory(scenario)

    async def stillDiffers(candidate: Program) -> bool:
        # A candidate stuck on the memory network is no simpler: rejected
        # without the real reactor's time limit; so is one whose first real
        # run already agrees.
        scenario = candidate.scenario()
        memory = runOnMemory(scenario)
        if ("stuck",) in memory:
            return False
        real: list[Outcome] = []
        for _ in range(max(1, options.repeat)):
            real.append(await runOnReal(scenario, reactor))
            if judge(real, memory, options.strict).kind != FINDING:
                return False
        return True

    for program in _programs(options):
        began = time.monotonic()
        try:
            real, memory = await outcomes(program)
        except Exception as e:
            # The tool's own failure on one program: reported, and the
            # exploration goes on (the exit status stays 0).
            summary.errors.append(program.seed)
            print(f"{program.name}: ERROR {type(e).__name__}: {e}", file=out)
            print(program.text(), file=out)
            continue
        verdict = judge(real, memory, options.strict)
        summary.add(program.seed, verdict)
        elapsed = time.monotonic() - began
        line = f"{program.name}: {verdict.kind} ({elapsed:.2f} s)"
        if verdict.kind == AGREE and not verdict.exact:
            line += " (raw logs differ)"
        if verdict.kind == REAL_VARIES:
            line += (
                f": {len(verdict.real)} real outcomes; memory "
                f"{'among them' if verdict.memoryAmong else 'OUTSIDE them'}"
            )
        print(line, file=out)
        if verdict.kind == AGREE and not options.show:
            continue
        if verdict.kind != AGREE or options.program is not None:
            print(program.text(), file=out)
            print(f"# spec: {program.spec()}", file=out)
            print(f"# again: {_command(program, options)}", file=out)
        if options.show:
            print(_describe(verdict, options.repeat), file=out)
        if verdict.kind == FINDING and options.shrink:
            small = await shrink(program, stillDiffers)
            real, memory = await outcomes(small)
            smallVerdict = judge(real, memory, options.strict)
            print(f"shrunk {program.name} ({smallVerdict.kind}):", file=out)
            print(small.text(), file=out)
            print(f"# again: {_command(small, options)}", file=out)
            print(_describe(smallVerdict, options.repeat), file=out)
        print(file=out)
    print(summary.text(), file=out)
    return summary
