"""
Tests for "sometimes" points and seed sweeps: L{poetry.testing.sometimes},
L{reached}, L{sweep}, L{Sweep}, L{SweepResult}, L{Shard} and C{python -m
poetry.testing sweep}/C{merge}.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from pathlib import Path

from twisted.logger import ILogObserver, LogEvent, Logger, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import provider

from poetry.testing import (
    SEED_ENVIRONMENT_VARIABLE,
    PointStats,
    Shard,
    Sweep,
    SweepFailed,
    SweepResult,
    reached,
    recording_points,
    sometimes,
    sweep,
)
from poetry.testing._command import main, parse_seeds
from poetry.testing._sweep import MAX_FAILURES


def counting(seed: int) -> None:
    """
    Points reached by some seeds: multiples of three, five and seven; and a
    point no seed below 1000 reaches.
    """
    sometimes(seed % 3 == 0, "multiple of three")
    sometimes(seed % 7 == 0, "multiple of seven")
    if seed % 5 == 0:
        reached("multiple of five")
        reached("multiple of five")
    sometimes(seed > 1000, "large")


def failing(seed: int) -> None:
    """
    Fails for seeds 4 and 9.
    """
    reached("ran")
    if seed in (4, 9):
        raise AssertionError(f"seed {seed} is bad\nmore detail")


def always_failing(seed: int) -> None:
    raise ValueError()


def logging(seed: int) -> None:
    """
    Logs one event per run in the namespace C{sweep-test}.
    """
    Logger(namespace="sweep-test").info("run {seed}", seed=seed)


FORK = multiprocessing.get_context(
    "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
)
"""
Worker processes for the tests: forked where possible (fast; and never a
forkserver, whose socket the unit tests' socket guard forbids).
"""

COUNTING = Sweep(counting, ["multiple of three", "multiple of five"])
"""
A sweep the command line can run.
"""


class PointTests(SynchronousTestCase):
    """
    C{sometimes} and C{reached} outside and inside a recording.
    """

    def test_outsideASweep(self) -> None:
        """
        Outside a sweep a point records nothing and C{sometimes} returns its
        condition.
        """
        self.assertIs(sometimes(True, "x"), True)
        self.assertEqual(sometimes(0, "x"), 0)
        reached("x")

    def test_recording(self) -> None:
        """
        L{recording_points} counts evaluations and hits of each point;
        recordings nest.
        """
        with recording_points() as outer:
            counting(15)
            with recording_points() as inner:
                reached("inner")
            counting(4)
        self.assertEqual(
            outer.evaluations,
            {
                "multiple of three": 2,
                "multiple of seven": 2,
                "multiple of five": 2,
                "large": 2,
            },
        )
        self.assertEqual(outer.hits, {"multiple of three": 1, "multiple of five": 2})
        self.assertEqual(inner.hits, {"inner": 1})

    def test_names(self) -> None:
        """
        A point needs a non-empty name.
        """
        self.assertRaises(ValueError, sometimes, True, "")
        self.assertRaises(ValueError, reached, None)


class SweepTests(SynchronousTestCase):
    """
    Running a scenario over seeds.
    """

    def test_counts(self) -> None:
        """
        For each point: the seeds that reached it, the hits, the
        evaluations, and the first seed (and its position) that reached it.
        """
        result = sweep(counting, range(1, 31), points=["multiple of three"])
        self.assertEqual(result.runs, 30)
        self.assertEqual(
            result.points["multiple of three"], PointStats(10, 10, 30, 3, 2)
        )
        self.assertEqual(result.points["multiple of five"], PointStats(6, 12, 12, 5, 4))
        self.assertEqual(result.points["large"], PointStats(0, 0, 30, None, None))
        self.assertTrue(result.ok)
        self.assertEqual(
            result.report(),
            "sweep of range(1, 31): 30 seeds run, 0 failed\n"
            "  point               seeds     hits  evaluated  first seed\n"
            "  large                   0        0         30  -  (not declared)\n"
            "  multiple of five        6       12         12  5  (not declared)\n"
            "  multiple of seven       4        4         30  7  (not declared)\n"
            "  multiple of three      10       10         30  3",
        )

    def test_unreachedPointFails(self) -> None:
        """
        A declared point no seed reached fails the sweep, naming it, with
        the table.
        """
        error = self.assertRaises(
            SweepFailed, sweep, counting, range(30), points=["large", "typo"]
        )
        message = str(error)
        self.assertTrue(
            message.startswith(
                "the sweep failed: point 'large' never reached (evaluated 30 "
                "times, never true); point 'typo' never reached (never evaluated)\n"
            ),
            message,
        )
        self.assertIn(
            "  large                   0        0         30  -  NEVER REACHED", message
        )
        self.assertEqual(error.result.unreached, ["large", "typo"])

    def test_seedsNeeded(self) -> None:
        """
        A point can need more than one seed to reach it.
        """
        error = self.assertRaises(
            SweepFailed, sweep, counting, range(1, 31), points={"multiple of three": 11}
        )
        self.assertIn(
            "point 'multiple of three' reached by 10 seed(s), needs 11", str(error)
        )
        self.assertIn("3  needs 11 seeds", str(error))
        sweep(counting, range(1, 31), points={"multiple of three": 10})

    def test_failingSeeds(self) -> None:
        """
        Seeds whose scenario raised fail the sweep: each with its error;
        the first with its traceback and the line that replays it.
        """
        error = self.assertRaises(
            SweepFailed,
            sweep,
            failing,
            range(12),
            points=["ran"],
            test_id="tests.x.T.t",
        )
        result = error.result
        self.assertEqual(result.failure_count, 2)
        self.assertEqual(
            [(f.seed, f.position, f.error) for f in result.failures],
            [
                (4, 4, "AssertionError: seed 4 is bad"),
                (9, 9, "AssertionError: seed 9 is bad"),
            ],
        )
        message = str(error)
        self.assertIn("the sweep failed: 2 seed(s) failed", message)
        self.assertIn("  seed 9 failed: AssertionError: seed 9 is bad", message)
        self.assertIn(
            "first failed seed, 4:\nTraceback (most recent call last):", message
        )
        self.assertIn("AssertionError: seed 4 is bad\nmore detail", message)
        self.assertTrue(
            message.endswith(
                "replay it with: seed=4 \N{EM DASH} reproduce with: POETRY_TEST_SEED=4 "
                "python -m twisted.trial tests.x.T.t"
            )
        )

    def test_failuresKept(self) -> None:
        """
        The first L{MAX_FAILURES} failures are kept; the rest are counted.
        """
        result = sweep(always_failing, range(30), check=False)
        self.assertEqual(
            (len(result.failures), result.failure_count), (MAX_FAILURES, 30)
        )
        self.assertEqual(result.failures[0].error, "ValueError: ")
        self.assertIn("  ... and 10 more failed seeds", result.report())
        self.assertFalse(result.ok)
        self.assertEqual(result.problems(), ["30 seed(s) failed"])

    def test_replay(self) -> None:
        """
        With C{POETRY_TEST_SEED} set, only that seed runs; its failure still
        fails, but points are not required.
        """
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "9"})
        result = sweep(counting, range(100), points=["large"])
        self.assertEqual((result.runs, result.replay), (1, True))
        self.assertEqual(result.seeds, "seed 9 from POETRY_TEST_SEED")
        self.assertIn("(replay)", result.report())
        error = self.assertRaises(SweepFailed, sweep, failing, range(3))
        self.assertEqual(error.result.failures[0].seed, 9)
        os.environ[SEED_ENVIRONMENT_VARIABLE] = "nine"
        self.assertRaises(ValueError, sweep, counting, range(3))

    def test_arguments(self) -> None:
        """
        Seeds are ints; points are names or C{{name: seeds}}; workers at
        least one.
        """
        self.assertRaises(TypeError, sweep, counting, [1, "2"])
        self.assertRaises(TypeError, sweep, counting, [True])
        self.assertRaises(TypeError, sweep, counting, range(3), points="large")
        self.assertRaises(ValueError, sweep, counting, range(3), points=[""])
        self.assertRaises(ValueError, sweep, counting, range(3), points={"x": 0})
        self.assertRaises(ValueError, sweep, counting, range(3), workers=0)

    def test_describedSeeds(self) -> None:
        """
        A range is described as itself, other sequences by length and
        checksum (so shards of different lists do not merge).
        """
        self.assertEqual(sweep(counting, range(3)).seeds, "range(0, 3)")
        self.assertEqual(sweep(counting, [5, 1]).seeds, "2 seeds (crc32 b50e95fd)")
        self.assertNotEqual(
            sweep(counting, [1, 5]).seeds, sweep(counting, [5, 1]).seeds
        )


class ShardTests(SynchronousTestCase):
    """
    Sharding across processes and machines gives the unsharded result.
    """

    def test_parse(self) -> None:
        """
        C{"i/n"}, with 1 <= i <= n.
        """
        self.assertEqual(Shard.parse(" 2/8 "), Shard(2, 8))
        self.assertEqual(str(Shard(2, 8)), "2/8")
        for text in ("0/3", "4/3", "a/b", "3", "", "1/0"):
            error = self.assertRaises(ValueError, Shard.parse, text)
            self.assertIn("use i/n, e.g. 2/8", str(error))
        self.assertRaises(TypeError, Shard, True, 2)

    def test_interleaved(self) -> None:
        """
        Shard i of n runs the seeds at positions i-1, i-1+n, ...
        """
        result = sweep(counting, range(10, 19), shard="3/3", check=False)
        self.assertEqual(result.runs, 3)
        self.assertEqual(result.points["multiple of three"].first_seed, 12)
        self.assertEqual(result.shard, Shard(3, 3))
        self.assertIn("(shard 3/3)", result.report())

    def test_mergedShardsAreTheWholeSweep(self) -> None:
        """
        For any number of shards, merging every shard's result gives exactly
        the result of the whole sweep -- points, first seeds, failures.
        """
        for scenario, points in (
            (counting, ["large", "multiple of three"]),
            (failing, ["ran"]),
        ):
            whole = sweep(scenario, range(40), points=points, check=False)
            for count in (1, 2, 3, 7):
                shards = [
                    sweep(
                        scenario,
                        range(40),
                        points=points,
                        shard=Shard(i, count),
                        check=False,
                    )
                    for i in range(count, 0, -1)
                ]
                self.assertEqual(SweepResult.merge(shards), whole, (scenario, count))

    def test_shardsDoNotJudgePoints(self) -> None:
        """
        A shard cannot know whether a point is reached elsewhere: only its
        failed seeds fail it.
        """
        result = sweep(counting, range(10), points=["large"], shard="1/2")
        self.assertEqual(result.unreached, ["large"])
        self.assertTrue(result.ok)
        self.assertRaises(SweepFailed, sweep, failing, range(10), shard="1/2")

    def test_workerProcesses(self) -> None:
        """
        Run in two worker processes, a sweep gives exactly the result of
        the same sweep in this process.
        """
        for scenario in (counting, failing):
            self.assertEqual(
                sweep(scenario, range(24), workers=2, mp_context=FORK, check=False),
                sweep(scenario, range(24), check=False),
            )

    def test_workersKeepTheirLogs(self) -> None:
        """
        A worker process does not write its runs' log events to the
        observers it inherited: trial's distributed workers send each event
        over a channel to the manager that one writer alone may use.  Here
        an inherited observer writes to a pipe, and nothing arrives.
        """
        if FORK.get_start_method() != "fork":
            raise AssertionError("this platform cannot fork: the test needs it")
        readable, writable = os.pipe()
        self.addCleanup(os.close, readable)

        @provider(ILogObserver)
        def observer(event: LogEvent) -> None:
            if event.get("log_namespace") == "sweep-test":
                os.write(writable, b"event\n")

        globalLogPublisher.addObserver(observer)
        try:
            result = sweep(logging, range(6), workers=2, mp_context=FORK, check=False)
            logging(99)  # the observer is live here
        finally:
            globalLogPublisher.removeObserver(observer)
            os.close(writable)
        self.assertEqual(result.runs, 6)
        with os.fdopen(os.dup(readable), "rb") as pipe:
            self.assertEqual(pipe.read(), b"event\n")

    def test_mergeChecks(self) -> None:
        """
        Only every shard of one sweep, each once, merges.
        """
        one, two, three = (
            sweep(counting, range(9), shard=f"{i}/3", check=False) for i in (1, 2, 3)
        )
        cases = [
            ((one, two), "missing: 3/3; repeated: none"),
            ((one, two, two, three), "missing: none; repeated: 2/3"),
            ((one, sweep(counting, range(9), shard="2/2", check=False)), "splits"),
            (
                (one, two, sweep(counting, range(8), shard="3/3", check=False)),
                "different sweeps",
            ),
            ((one, sweep(counting, range(9), check=False)), "not a shard"),
            ((), "no shard results"),
        ]
        for parts, message in cases:
            error = self.assertRaises(ValueError, SweepResult.merge, list(parts))
            self.assertIn(message, str(error))

    def test_savedResults(self) -> None:
        """
        A result survives its JSON form.
        """
        result = sweep(failing, range(12), points=["ran"], shard="2/3", check=False)
        self.assertEqual(SweepResult.from_json(result.to_json()), result)
        for text in ("{}", "[]", '{"type": "poetry-sweep", "version": 1}', "nope"):
            self.assertRaises(ValueError, SweepResult.from_json, text)


class SweepCommandTests(SynchronousTestCase):
    """
    C{python -m poetry.testing sweep} and C{merge}: a sweep split across
    machines.
    """

    def run_main(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        status = main(list(argv), out, err)
        return status, out.getvalue(), err.getvalue()

    def shards(self, target: str, *extra: str) -> list[str]:
        files = []
        for index in (1, 2):
            path = self.mktemp()
            status, out, _ = self.run_main(
                "sweep",
                target,
                "--seeds",
                "1:31",
                "--shard",
                f"{index}/2",
                "--save",
                path,
                *extra,
            )
            self.assertEqual(status, 0, out)
            self.assertIn(f"shard {index}/2 passed; merge every shard's result", out)
            files.append(path)
        return files

    def test_shardsThenMerge(self) -> None:
        """
        Each machine runs its shard and saves it; merging checks the points
        and prints the report of the whole sweep.
        """
        files = self.shards("tests.unit.test_testing_sweep:COUNTING")
        status, out, err = self.run_main("merge", *files)
        whole = COUNTING.run(range(1, 31))
        self.assertEqual((status, out, err), (0, whole.report() + "\n", ""))

    def test_unreachedAtMerge(self) -> None:
        """
        A point no shard reached fails the merge (status 1), naming it.
        """
        files = self.shards(
            "tests.unit.test_testing_sweep:counting", "--point", "large"
        )
        status, out, _ = self.run_main("merge", *files)
        self.assertEqual(status, 1)
        self.assertIn("FAILED: point 'large' never reached", out)

    def test_failedSeeds(self) -> None:
        """
        A failed seed fails the command and shows its traceback.
        """
        status, out, _ = self.run_main(
            "sweep", "tests.unit.test_testing_sweep:failing", "--seeds", "3,4,5"
        )
        self.assertEqual(status, 1)
        self.assertIn("first failed seed, 4:\nTraceback", out)
        self.assertIn("FAILED: 1 seed(s) failed", out)

    def test_badTargets(self) -> None:
        """
        Targets must be C{MODULE:NAME} of a sweep or a function.
        """
        for target, message in (
            ("nocolon", "not MODULE:NAME"),
            ("tests.unit.test_testing_sweep:MAX_FAILURES", "neither a Sweep nor"),
            ("tests.unit.no_such_module:x", "No module named"),
        ):
            status, out, err = self.run_main("sweep", target, "--seeds", "1")
            self.assertEqual((status, out), (2, ""))
            self.assertIn(message, err)
        status, _, err = self.run_main("merge", str(Path(self.mktemp())))
        self.assertEqual(status, 2)

    def test_seeds(self) -> None:
        """
        C{START:STOP}, C{N} or C{A,B,C}.
        """
        self.assertEqual(parse_seeds("0:100000"), range(100000))
        self.assertEqual(parse_seeds("7"), [7])
        self.assertEqual(parse_seeds("1,5,9"), [1, 5, 9])
        for text in ("a:b", "1,,2", "x"):
            self.assertRaises(ValueError, parse_seeds, text)
        status, _, err = self.run_main("sweep", "m:n", "--seeds", "x")
        self.assertEqual(status, 2)
        self.assertIn("not seeds: 'x'", err)
