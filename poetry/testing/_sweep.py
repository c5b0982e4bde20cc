"""
"Sometimes" points and seed sweeps.

A sweep that passes may never have hit the interesting case.  Code under
test, or the scenario, declares the states worth reaching::

    sometimes(cache.waiting > 1, "coalesced waiters when upstream fails")
    reached("client cancelled mid-poem")

and a sweep runs a scenario once per seed, counts for each point how many
seeds reached it (and which seed first did, to replay it), and fails if a
declared point was never reached -- or if the scenario failed for a seed::

    result = sweep(scenario, range(500), points=["client cancelled mid-poem"])

A sweep shards across processes (C{workers=}) and across machines
(C{shard="2/8"}, then L{SweepResult.merge}); because each seed is
independent and results are combined by seed index, a sharded sweep's
result equals the unsharded one.
"""

from __future__ import annotations

import json
import math
import os
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import attrs

from poetry.testing._seed import SEED_ENVIRONMENT_VARIABLE, reproduction_line

__all__ = [
    "MAX_FAILURES",
    "PointRecorder",
    "PointStats",
    "SeedFailure",
    "Shard",
    "Sweep",
    "SweepFailed",
    "SweepResult",
    "reached",
    "recording_points",
    "sometimes",
    "sweep",
]

_T = TypeVar("_T")

MAX_FAILURES = 20
"""
A sweep result keeps the failures of at most this many seeds (the first by
seed order), and counts the rest.
"""


class PointRecorder:
    """
    The points one run evaluated and reached.

    @ivar evaluations: how many times each point was evaluated.
    @ivar hits: how many times each point's condition was true.
    """

    def __init__(self) -> None:
        self.evaluations: dict[str, int] = {}
        self.hits: dict[str, int] = {}

    def record(self, condition: bool, name: str) -> None:
        self.evaluations[name] = self.evaluations.get(name, 0) + 1
        if condition:
            self.hits[name] = self.hits.get(name, 0) + 1


_current: ContextVar[PointRecorder | None] = ContextVar(
    "poetry_testing_points", default=None
)


def sometimes(condition: _T, name: str) -> _T:
    """
    Declare that the state C{name} should be reached by some run of a sweep,
    and record whether this is one: C{condition} is true (any value, by its
    truth).  Outside a sweep (or L{recording_points}) it records nothing.

    @return: C{condition}, so that it can be used inline.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"a point needs a non-empty name, not {name!r}")
    recorder = _current.get()
    if recorder is not None:
        recorder.record(bool(condition), name)
    return condition


def reached(name: str) -> None:
    """
    Record that the state C{name} was reached: C{sometimes(True, name)}.
    """
    sometimes(True, name)


@contextmanager
def recording_points() -> Iterator[PointRecorder]:
    """
    Record the points evaluated inside the block (as a sweep does for each
    seed), e.g. to check a scenario reaches a point for one given seed.
    """
    recorder = PointRecorder()
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)


@attrs.frozen
class Shard:
    """
    One of C{count} shards of a sweep: the seeds whose position in the
    sequence, counted from 0, is C{index - 1} modulo C{count} (so every
    shard gets a similar mix of seeds).

    @ivar index: from 1 to C{count}.
    """

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        for value in (self.index, self.count):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(
                    f"a shard is two ints, not {self.index!r}/{self.count!r}"
                )
        if not 1 <= self.index <= self.count:
            raise ValueError(
                f"shard {self.index}/{self.count}: the index must be from 1 to "
                f"{self.count}"
            )

    @classmethod
    def parse(cls, text: str) -> Shard:
        """
        Read C{"i/n"}.

        @raise ValueError: if it is not two integers with 1 <= i <= n.
        """
        index, slash, count = text.strip().partition("/")
        try:
            if not slash:
                raise ValueError
            return cls(int(index), int(count))
        except (TypeError, ValueError) as e:
            detail = f": {e}" if str(e) else ""
            raise ValueError(
                f"not a shard: {text!r} (use i/n, e.g. 2/8){detail}"
            ) from None

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, position: int) -> bool:
        """
        Whether the seed at C{position} of the sequence is in this shard.
        """
        return position % self.count == self.index - 1


@attrs.frozen
class PointStats:
    """
    How a point fared over a sweep.

    @ivar runs: how many seeds reached it.
    @ivar hits: how many times it was reached, over all seeds.
    @ivar evaluations: how many times it was evaluated, over all seeds.
    @ivar first_seed: the first seed (in the sweep's order) that reached it.
    @ivar first_position: that seed's position in the sequence of seeds.
    """

    runs: int = 0
    hits: int = 0
    evaluations: int = 0
    first_seed: int | None = None
    first_position: int | None = None

    def plus(self, other: PointStats) -> PointStats:
        first = self
        if other.first_position is not None and (
            self.first_position is None or other.first_position < self.first_position
        ):
            first = other
        return PointStats(
            self.runs + other.runs,
            self.hits + other.hits,
            self.evaluations + other.evaluations,
            first.first_seed,
            first.first_position,
        )


@attrs.frozen
class SeedFailure:
    """
    A seed for which the scenario raised.

    @ivar position: the seed's position in the sequence.
    @ivar seed: the seed.
    @ivar error: the exception, one line (C{"Type: message"}).
    @ivar traceback: the formatted traceback.
    """

    position: int
    seed: int
    error: str
    traceback: str


def _points(value: Iterable[str] | Mapping[str, int]) -> Mapping[str, int]:
    """
    Declared points as C{{name: runs needed}}: a name alone needs one run.
    """
    if isinstance(value, str):
        raise TypeError("points must be a collection of names, not one string")
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        pairs = [(name, 1) for name in value]
    points: dict[str, int] = {}
    for name, runs in sorted(pairs):
        if not isinstance(name, str) or not name:
            raise ValueError(f"a point needs a non-empty name, not {name!r}")
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
            raise ValueError(f"point {name!r} must need an int >= 1 runs, not {runs!r}")
        points[name] = runs
    return points


@attrs.frozen
class SweepResult:
    """
    What a sweep (or one shard of it) saw.

    @ivar seeds: a description of the whole sequence of seeds (the same for
        every shard of one sweep).
    @ivar runs: how many seeds were run.
    @ivar points: every point declared or evaluated, by name.
    @ivar required: the declared points and how many seeds must reach each.
    @ivar failures: the first L{MAX_FAILURES} failed seeds, in seed order.
    @ivar failure_count: how many seeds failed.
    @ivar shard: the shard this result covers, or L{None} for the whole
        sweep.
    @ivar replay: whether this was the replay of one seed given by
        C{POETRY_TEST_SEED} (then points are not required).
    """

    seeds: str
    runs: int
    points: Mapping[str, PointStats]
    required: Mapping[str, int]
    failures: tuple[SeedFailure, ...] = ()
    failure_count: int = 0
    shard: Shard | None = None
    replay: bool = False

    @property
    def unreached(self) -> list[str]:
        """
        The declared points reached by fewer seeds than they need.
        """
        return [
            name
            for name, needed in self.required.items()
            if self.points.get(name, PointStats()).runs < needed
        ]

    @property
    def ok(self) -> bool:
        """
        Whether the sweep passes: no seed failed and -- for a whole sweep
        that is not a replay -- every declared point was reached enough.
        """
        return not self.problems()

    def problems(self) -> list[str]:
        """
        Why the sweep fails, one line each (empty when it passes).
        """
        problems = []
        if self.failure_count:
            problems.append(f"{self.failure_count} seed(s) failed")
        if self.shard is None and not self.replay:
            for name in self.unreached:
                stats = self.points.get(name, PointStats())
                needed = self.required[name]
                if stats.runs == 0:
                    how = (
                        f"never reached (evaluated {stats.evaluations} times, "
                        "never true)"
                        if stats.evaluations
                        else "never reached (never evaluated)"
                    )
                else:
                    how = f"reached by {stats.runs} seed(s), needs {needed}"
                problems.append(f"point {name!r} {how}")
        return problems

    def report(self) -> str:
        """
        A table: for each point, the seeds that reached it, the hits, the
        evaluations and the first seed; then the failed seeds.
        """
        scope = f" (shard {self.shard})" if self.shard is not None else ""
        replay = " (replay)" if self.replay else ""
        lines = [
            f"sweep of {self.seeds}{scope}{replay}: {self.runs} seeds run, "
            f"{self.failure_count} failed"
        ]
        if self.points:
            width = max(len("point"), *(len(name) for name in self.points))
            lines.append(
                f"  {'point':<{width}}  {'seeds':>6}  {'hits':>7}  "
                f"{'evaluated':>9}  first seed"
            )
            unreached = set(self.unreached)
            for name in sorted(self.points):
                stats = self.points[name]
                first = "-" if stats.first_seed is None else str(stats.first_seed)
                needed = self.required.get(name)
                mark = ""
                if name in unreached and self.shard is None and not self.replay:
                    mark = (
                        "  NEVER REACHED"
                        if stats.runs == 0
                        else f"  needs {needed} seeds"
                    )
                elif needed is None:
                    mark = "  (not declared)"
                lines.append(
                    f"  {name:<{width}}  {stats.runs:>6}  {stats.hits:>7}  "
                    f"{stats.evaluations:>9}  {first}{mark}"
                )
        for failure in self.failures:
            lines.append(f"  seed {failure.seed} failed: {failure.error}")
        if self.failure_count > len(self.failures):
            lines.append(
                f"  ... and {self.failure_count - len(self.failures)} more failed seeds"
            )
        return "\n".join(lines)

    def check(self, test_id: str | None = None) -> SweepResult:
        """
        Raise L{SweepFailed} if the sweep fails (see L{problems}); else
        return this result.

        @param test_id: the test to name in the replay line.
        """
        problems = self.problems()
        if not problems:
            return self
        lines = ["the sweep failed: " + "; ".join(problems), self.report()]
        if self.failures:
            first = self.failures[0]
            lines.append(
                f"first failed seed, {first.seed}:\n{first.traceback.rstrip()}"
            )
            lines.append("replay it with: " + reproduction_line(first.seed, test_id))
        raise SweepFailed("\n".join(lines), self)

    # Saving and merging

    def to_json(self) -> str:
        """
        The result as one JSON document (for merging shards run elsewhere).
        """
        return json.dumps(
            {
                "type": "poetry-sweep",
                "version": 1,
                "seeds": self.seeds,
                "runs": self.runs,
                "shard": None if self.shard is None else str(self.shard),
                "replay": self.replay,
                "required": dict(sorted(self.required.items())),
                "points": {
                    name: attrs.asdict(stats)
                    for name, stats in sorted(self.points.items())
                },
                "failure_count": self.failure_count,
                "failures": [attrs.asdict(failure) for failure in self.failures],
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> SweepResult:
        """
        Read L{to_json}'s output.

        @raise ValueError: if it is not a saved sweep result.
        """
        try:
            data = json.loads(text)
            if data.get("type") != "poetry-sweep" or data.get("version") != 1:
                raise ValueError("not a poetry-sweep version 1 document")
            shard = data["shard"]
            return cls(
                str(data["seeds"]),
                int(data["runs"]),
                {
                    str(name): PointStats(**stats)
                    for name, stats in data["points"].items()
                },
                _points(data["required"]),
                tuple(SeedFailure(**failure) for failure in data["failures"]),
                int(data["failure_count"]),
                None if shard is None else Shard.parse(shard),
                bool(data["replay"]),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"not a saved sweep result: {e}") from None

    @classmethod
    def merge(cls, parts: Sequence[SweepResult]) -> SweepResult:
        """
        The result of the whole sweep from the results of all its shards
        (one each of C{1/n} ... C{n/n}, in any order).

        @raise ValueError: if the parts are not exactly the shards of one
            sweep.
        """
        if not parts:
            raise ValueError("no shard results to merge")
        first = parts[0]
        count = first.shard.count if first.shard is not None else 0
        for part in parts:
            if part.shard is None:
                raise ValueError("a result of a whole sweep is not a shard")
            if part.shard.count != count:
                raise ValueError(
                    f"shards of different splits: {first.shard} and {part.shard}"
                )
            if part.seeds != first.seeds or part.required != first.required:
                raise ValueError(
                    f"shards of different sweeps: {first.seeds} needing "
                    f"{dict(first.required)} and {part.seeds} needing "
                    f"{dict(part.required)}"
                )
        indices = sorted(part.shard.index for part in parts if part.shard is not None)
        if indices != list(range(1, count + 1)):
            missing = sorted(set(range(1, count + 1)) - set(indices))
            repeated = sorted({i for i in indices if indices.count(i) > 1})
            raise ValueError(
                f"need each of the {count} shards once; missing: "
                f"{', '.join(f'{i}/{count}' for i in missing) or 'none'}; "
                f"repeated: {', '.join(f'{i}/{count}' for i in repeated) or 'none'}"
            )
        return _combine(parts, first.seeds, first.required, None, first.replay)


class SweepFailed(AssertionError):
    """
    A sweep failed: a seed's scenario raised, or a declared point was not
    reached.  The message has the report and how to replay the first failed
    seed.

    @ivar result: the L{SweepResult}.
    """

    def __init__(self, message: str, result: SweepResult) -> None:
        super().__init__(message)
        self.result = result


def _combine(
    parts: Iterable[SweepResult],
    seeds: str,
    required: Mapping[str, int],
    shard: Shard | None,
    replay: bool,
) -> SweepResult:
    points: dict[str, PointStats] = {name: PointStats() for name in required}
    failures: list[SeedFailure] = []
    runs = failure_count = 0
    for part in parts:
        runs += part.runs
        failure_count += part.failure_count
        failures.extend(part.failures)
        for name, stats in part.points.items():
            points[name] = points.get(name, PointStats()).plus(stats)
    failures.sort(key=lambda failure: failure.position)
    return SweepResult(
        seeds,
        runs,
        dict(sorted(points.items())),
        dict(required),
        tuple(failures[:MAX_FAILURES]),
        failure_count,
        shard,
        replay,
    )


def _describe_seeds(seeds: Sequence[int]) -> str:
    if isinstance(seeds, range):
        return repr(seeds)
    digest = zlib.crc32(",".join(str(seed) for seed in seeds).encode("ascii"))
    return f"{len(seeds)} seeds (crc32 {digest:08x})"


def _detach_inherited_logging() -> None:
    """
    In a sweep's worker process: drop the log observers the process
    inherited, so that its runs' log events stay in it.

    A forked worker starts with its parent's observers, and some write to
    what the parent shares with others: trial's distributed workers send
    each event over their AMP channel to the manager, where a second
    writer's boxes are answered to a request the parent never made.  The
    runs' outcomes reach the parent in the batch's result instead.
    """
    from twisted.logger import globalLogPublisher

    # LogPublisher has no public way to list its observers.
    for observer in list(getattr(globalLogPublisher, "_observers", [])):
        globalLogPublisher.removeObserver(observer)


def _run_batch(
    scenario: Callable[[int], object],
    items: Sequence[tuple[int, int]],
    seeds: str,
    required: Mapping[str, int],
) -> SweepResult:
    """
    Run C{scenario} for each C{(position, seed)}; the result of these seeds
    (also run in worker processes).
    """
    points: dict[str, PointStats] = {}
    failures: list[SeedFailure] = []
    failure_count = 0
    for position, seed in items:
        recorder = PointRecorder()
        token = _current.set(recorder)
        try:
            scenario(seed)
        except Exception as e:
            failure_count += 1
            if len(failures) < MAX_FAILURES:
                message = str(e).splitlines()[0] if str(e) else ""
                failures.append(
                    SeedFailure(
                        position,
                        seed,
                        f"{type(e).__name__}: {message}",
                        traceback.format_exc(),
                    )
                )
        finally:
            _current.reset(token)
        for name, evaluations in recorder.evaluations.items():
            hits = recorder.hits.get(name, 0)
            stats = PointStats(
                1 if hits else 0,
                hits,
                evaluations,
                seed if hits else None,
                position if hits else None,
            )
            points[name] = points.get(name, PointStats()).plus(stats)
    return SweepResult(
        seeds, len(items), points, dict(required), tuple(failures), failure_count
    )


def _batches(
    items: Sequence[tuple[int, int]], workers: int
) -> list[Sequence[tuple[int, int]]]:
    size = max(1, math.ceil(len(items) / (workers * 4)))
    return [items[start : start + size] for start in range(0, len(items), size)]


@attrs.frozen
class Sweep:
    """
    A scenario to sweep over seeds, with the points it must reach.  Give one
    a module-level name to run it from the command line
    (C{python -m poetry.testing sweep module:name ...}).

    @ivar scenario: called with each seed; it fails by raising.  For
        C{workers > 1} it must be picklable (a module-level function, or a
        C{functools.partial} of one).
    @ivar points: the declared points: names (each must be reached by at
        least one seed) or C{{name: seeds needed}}.
    """

    scenario: Callable[[int], object]
    points: Mapping[str, int] = attrs.field(factory=dict, converter=_points)

    def run(
        self,
        seeds: Iterable[int],
        *,
        workers: int | None = 1,
        shard: Shard | str | None = None,
        test_id: str | None = None,
        mp_context: Any = None,
        check: bool = True,
    ) -> SweepResult:
        """
        Run the scenario once per seed, in this process (C{workers=1}) or in
        C{workers} processes (L{None}: one per CPU).

        If C{POETRY_TEST_SEED} is set, only that seed runs (a replay: its
        failure still fails, but points are not required).

        @param shard: run only this shard of the seeds (C{"i/n"} or a
            L{Shard}); points are then checked when the shards' results are
            merged (L{SweepResult.merge}).
        @param test_id: the test to name in the replay line of a failure.
        @param mp_context: the C{multiprocessing} context of the worker
            processes (the default one if L{None}).
        @param check: raise L{SweepFailed} if the sweep fails (see
            L{SweepResult.check}); else just return the result.

        @raise SweepFailed: see C{check}.
        """
        sequence = list(seeds) if not isinstance(seeds, range) else seeds
        for seed in sequence:
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise TypeError(f"seeds must be ints, not {seed!r}")
        if isinstance(shard, str):
            shard = Shard.parse(shard)
        description = _describe_seeds(sequence)
        replay = False
        replayed = os.environ.get(SEED_ENVIRONMENT_VARIABLE, "").strip()
        if replayed:
            try:
                seed = int(replayed, 10)
            except ValueError:
                raise ValueError(
                    f"{SEED_ENVIRONMENT_VARIABLE}={replayed!r} is not a seed"
                ) from None
            items: list[tuple[int, int]] = [(0, seed)]
            description = f"seed {seed} from {SEED_ENVIRONMENT_VARIABLE}"
            replay = True
            shard = None
        else:
            items = [
                (position, seed)
                for position, seed in enumerate(sequence)
                if shard is None or shard.holds(position)
            ]
        if workers is None:
            workers = os.cpu_count() or 1
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers!r}")
        if workers == 1 or len(items) <= 1:
            parts = [_run_batch(self.scenario, items, description, self.points)]
        else:
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=mp_context,
                initializer=_detach_inherited_logging,
            ) as pool:
                futures = [
                    pool.submit(
                        _run_batch, self.scenario, batch, description, self.points
                    )
                    for batch in _batches(items, workers)
                ]
                parts = [future.result() for future in futures]
        result = _combine(parts, description, self.points, shard, replay)
        return result.check(test_id) if check else result


def sweep(
    scenario: Callable[[int], object],
    seeds: Iterable[int],
    *,
    points: Iterable[str] | Mapping[str, int] = (),
    workers: int | None = 1,
    shard: Shard | str | None = None,
    test_id: str | None = None,
    mp_context: Any = None,
    check: bool = True,
) -> SweepResult:
    """
    C{Sweep(scenario, points).run(seeds, ...)}: run C{scenario(seed)} for
    each seed; fail (L{SweepFailed}) if a seed's scenario raised or a
    declared point was never reached; return the L{SweepResult} (per-point
    seed and hit counts, and the first seed that reached each point).
    """
    return Sweep(scenario, points).run(
        seeds,
        workers=workers,
        shard=shard,
        test_id=test_id,
        mp_context=mp_context,
        check=check,
    )
