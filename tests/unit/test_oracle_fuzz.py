"""
The oracle's random-program fuzzer (C{tests/oracle/_fuzz.py}): its
generator, its programs on the memory network, its comparison and the
memory-only parts of C{python -m tests.oracle fuzz}.  No sockets, no real
reactor, no real time: the real side is exercised by running the command.
"""

from __future__ import annotations

import io
import random
from contextlib import redirect_stdout

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from tests.oracle.__main__ import main
from tests.oracle._fuzz import (
    AGREE,
    FINDING,
    LOSE_WRITE,
    REAL_VARIES,
    FuzzOptions,
    Program,
    Summary,
    fuzzMemoryOnly,
    generate,
    isHarnessError,
    judge,
    loose,
    shrink,
)
from tests.oracle._run import Outcome, runOnMemory

# Seeds whose programs exercise most of the vocabulary: several connections,
# producers, half-closes, resets, an exception in dataReceived,
# stopListening, writes of 8 MiB.
FIXED_SEEDS = (0, 6, 17, 21, 37, 54, 194)


def _findings(program: Program) -> bool:
    """
    A stand-in for "still differs": the program has a loseWriteConnection.
    """
    return any(a.verb == LOSE_WRITE for c in program.connections for a in c.actions)


class GeneratorTests(SynchronousTestCase):
    """
    L{generate} makes small, reproducible programs from seeds.
    """

    def test_sameSeedSameProgram(self) -> None:
        """
        A seed gives the same program, text and spec every time.
        """
        for seed in range(30):
            first, second = generate(seed), generate(seed)
            self.assertEqual(first, second)
            self.assertEqual(first.text(), second.text())
            self.assertEqual(first.spec(), second.spec())

    def test_differentSeedsDifferentPrograms(self) -> None:
        """
        Different seeds give different programs (100 seeds, 100 texts).
        """
        texts = {generate(seed).text() for seed in range(100)}
        self.assertEqual(len(texts), 100)

    def test_globalGeneratorUntouched(self) -> None:
        """
        Generating uses its own generator: the global one's state is what it
        was.
        """
        state = random.getstate()
        generate(12)
        self.assertEqual(random.getstate(), state)

    def test_programsAreSmall(self) -> None:
        """
        One to three connections, each with one to C{steps} steps.
        """
        for seed in range(100):
            program = generate(seed, steps=4)
            self.assertIn(len(program.connections), (1, 2, 3))
            for connection in program.connections:
                self.assertTrue(1 <= len(connection.actions) <= 4)

    def test_specRoundTrip(self) -> None:
        """
        A program's spec gives the program back.
        """
        for seed in range(50):
            program = generate(seed)
            self.assertEqual(Program.fromSpec(program.spec()), program)

    def test_textReadsLikeAScenario(self) -> None:
        """
        The text listens, connects each connection and uses the World's
        calls.
        """
        text = generate(6).text()
        self.assertIn("port = w.listen()", text)
        self.assertIn("w.connect(number)  # c1", text)
        self.assertIn("w.connect(number)  # c2", text)
        self.assertIn('await w.when("c1", "made")', text)


class MemoryRunTests(SynchronousTestCase):
    """
    Programs are scenarios that L{runOnMemory} runs unchanged.
    """

    def test_scenario(self) -> None:
        """
        A program is a scenario of the family C{fuzz} named after its seed.
        """
        scenario = generate(7).scenario()
        self.assertEqual((scenario.name, scenario.family), ("fuzz7", "fuzz"))
        self.assertIsNone(scenario.varies)

    def test_fixedSeedsRunToCompletion(self) -> None:
        """
        Fixed seeds' programs run on the memory network to the end, with no
        harness error, no exception from the program, and the same log
        twice.
        """
        for seed in FIXED_SEEDS:
            scenario = generate(seed).scenario()
            outcome = runOnMemory(scenario)
            self.assertFalse(isHarnessError(outcome), (seed, outcome))
            self.assertNotIn(("stuck",), outcome)
            self.assertEqual(runOnMemory(scenario), outcome)
            self.assertIn(("sf", "doStart"), outcome)
            self.assertIn(("c1", "made"), outcome)
        self.flushLoggedErrors()

    def test_bigWritesAreCounted(self) -> None:
        """
        Data is logged as byte counts: seed 17's client writes 8 MiB and the
        server's counts add up to it.
        """
        outcome = runOnMemory(generate(17).scenario())
        self.assertIn(("do", "c1", "write", 8 * 1024 * 1024), outcome)
        received = sum(e[2] for e in outcome if e[:2] == ("s1", "data"))
        self.assertEqual(received, 8 * 1024 * 1024)
        self.flushLoggedErrors()


class LooseTests(SynchronousTestCase):
    """
    L{loose} forgets how connections interleave and where reads were cut.
    """

    def test_connectionsApart(self) -> None:
        """
        Events are grouped by connection, after those of no connection.
        """
        outcome: Outcome = (
            ("sf", "doStart"),
            ("c2", "made"),
            ("c1", "made"),
            ("cf2", "doStop"),
            ("do", "s1", "write", 3),
            ("sf", "build", "TCP:127.0.0.1:C2"),
        )
        self.assertEqual(
            loose(outcome),
            (
                ("no connection",),
                ("sf", "doStart"),
                ("connection", 1),
                ("c1", "made"),
                ("do", "s1", "write", 3),
                ("connection", 2),
                ("c2", "made"),
                ("cf2", "doStop"),
                ("sf", "build", "TCP:127.0.0.1:C2"),
            ),
        )

    def test_readsSummedUntilReadingEnds(self) -> None:
        """
        An end's byte counts are summed and placed just before its
        readConnectionLost or connectionLost, whatever came between.
        """
        cut: Outcome = (
            ("c1", "data", 5),
            ("s1", "lost", "ConnectionDone"),
            ("c1", "writeLost"),
            ("c1", "data", 7),
            ("c1", "lost", "ConnectionDone"),
        )
        whole: Outcome = (
            ("s1", "lost", "ConnectionDone"),
            ("c1", "writeLost"),
            ("c1", "data", 12),
            ("c1", "lost", "ConnectionDone"),
        )
        self.assertEqual(loose(cut), (("connection", 1), *whole))
        self.assertEqual(loose(whole), loose(cut))

    def test_loggedErrorGoesWithItsConnection(self) -> None:
        """
        An error logged by the reactor goes with the connection of the next
        protocol lost with it.
        """
        outcome: Outcome = (("log", "Explosion"), ("c2", "lost", "Explosion"))
        self.assertEqual(
            loose(outcome),
            (("connection", 2), ("log", "Explosion"), ("c2", "lost", "Explosion")),
        )


class JudgeTests(SynchronousTestCase):
    """
    L{judge} tells agreements, findings and real variation apart.
    """

    one: Outcome = (("c1", "made"), ("c1", "data", 1), ("s1", "made"))
    other: Outcome = (("c1", "made"), ("s1", "made"), ("c1", "data", 1))
    third: Outcome = (("c1", "made"), ("c1", "lost", "ConnectionDone"))

    def test_agree(self) -> None:
        """
        The memory outcome is the real runs' one: an agreement, exact.
        """
        verdict = judge([self.one, self.one], self.one)
        self.assertEqual((verdict.kind, verdict.exact), (AGREE, True))
        self.assertEqual(verdict.real, ((loose(self.one), 2),))

    def test_agreeLoosely(self) -> None:
        """
        Outcomes equal once loose agree, but not exactly; strictly they
        differ.
        """
        verdict = judge([self.one], self.other)
        self.assertEqual((verdict.kind, verdict.exact), (AGREE, False))
        self.assertEqual(judge([self.one], self.other, strict=True).kind, FINDING)

    def test_finding(self) -> None:
        """
        Real runs that agree and a memory outcome that is not theirs: a
        finding.
        """
        verdict = judge([self.one, self.one, self.one], self.third)
        self.assertEqual((verdict.kind, verdict.memoryAmong), (FINDING, False))

    def test_realVaries(self) -> None:
        """
        Real runs that disagree: real varies, whether or not the memory
        outcome is among them.
        """
        among = judge([self.one, self.third], self.third)
        outside = judge([self.one, self.third], (("c1", "made"),))
        self.assertEqual((among.kind, among.memoryAmong), (REAL_VARIES, True))
        self.assertEqual((outside.kind, outside.memoryAmong), (REAL_VARIES, False))


class ShrinkTests(SynchronousTestCase):
    """
    L{shrink} makes a program smaller while it still differs.
    """

    def test_shrinksToOneStep(self) -> None:
        """
        With "differs" meaning "has a loseWriteConnection", a program shrinks
        to one connection with that one step.
        """
        program = next(
            p
            for p in map(generate, range(100))
            if _findings(p) and len(p.connections) > 1 and p.steps > 4
        )

        async def differs(candidate: Program) -> bool:
            return _findings(candidate)

        small = self.successResultOf(Deferred.fromCoroutine(shrink(program, differs)))
        self.assertEqual(len(small.connections), 1)
        self.assertEqual([a.verb for a in small.connections[0].actions], [LOSE_WRITE])
        self.assertEqual(small.name, f"{program.name}s")


class CommandTests(SynchronousTestCase):
    """
    The memory-only parts of C{python -m tests.oracle fuzz}.
    """

    def test_memoryOnly(self) -> None:
        """
        C{fuzzMemoryOnly} runs each seed's program on the memory network and
        prints a line per seed (and, with C{show}, the program and its log);
        none ends in a harness error.
        """
        out = io.StringIO()
        broken = fuzzMemoryOnly(FuzzOptions(seeds=5, start=20, show=True), out)
        self.flushLoggedErrors()
        self.assertEqual(broken, [])
        text = out.getvalue()
        for seed in range(20, 25):
            self.assertIn(f"fuzz{seed}: ", text)
        self.assertIn("port = w.listen()", text)
        self.assertIn("('sf', 'doStart')", text)

    def test_mainMemoryOnly(self) -> None:
        """
        C{main(["fuzz", "--memory-only", ...])} parses the options and runs
        the memory side only; C{--program} runs one program from its spec.
        """
        out = io.StringIO()
        with redirect_stdout(out):
            main(["fuzz", "--memory-only", "--seeds", "2", "--start", "40"])
            main(["fuzz", "--memory-only", "--program", generate(3).spec()])
        self.flushLoggedErrors()
        lines = out.getvalue().splitlines()
        self.assertEqual(
            [line.split(":")[0] for line in lines], ["fuzz40", "fuzz41", "fuzz3"]
        )

    def test_summary(self) -> None:
        """
        The summary counts seeds, agreements, findings and real variations,
        naming the seeds.
        """
        summary = Summary()
        one: Outcome = (("c1", "made"),)
        two: Outcome = (("c1", "made"), ("c1", "lost", "ConnectionDone"))
        summary.add(1, judge([one], one))
        summary.add(2, judge([one], two))
        summary.add(3, judge([one, two], two))
        stuck: Outcome = (("stuck",),)
        summary.add(4, judge([one, two], stuck))
        self.assertEqual(summary.seeds, 4)
        text = summary.text()
        self.assertIn("seeds run: 4", text)
        self.assertIn("agreements: 1 (1 with identical raw logs)", text)
        self.assertIn("findings: 1 (seeds 2)", text)
        self.assertIn("real varies: 2 (seeds 3 4); memory outside the real", text)
        self.assertIn("outcomes in 1 (seeds 4)", text)
        self.assertIn("stuck (on both sides): 1", text)
