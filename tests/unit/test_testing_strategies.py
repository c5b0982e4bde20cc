"""
Tests for L{poetry.testing.strategies}: every strategy stays within the
caller's bounds and shrinks toward the plain network; L{seeded} makes the
Hypothesis search follow the test's seed; L{MemoryNetworkStateMachine}
drives a protocol and finds a planted bug.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, cast

import attrs
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.client import get_poetry
from poetry.server import SlowPoetryServerFactory
from poetry.testing import (
    PLAIN,
    SEED_ENVIRONMENT_VARIABLE,
    WHOLE,
    Abort,
    Coalesce,
    FaultSchedule,
    FixedSize,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    NetworkConfiguration,
    Partition,
    RandomSizes,
    Refuse,
    Reset,
    ResetAfter,
    SplitAt,
)
from poetry.testing._seed import running_test
from poetry.testing.strategies import (
    MemoryNetworkStateMachine,
    chunkings,
    fault_plans,
    link_conditions,
    network_configurations,
    planned_faults,
    seeded,
    seeds,
)
from tests.unit.test_testing_support import port_number

# Fixed searches: the same examples on every run (and no phase but
# generating and shrinking: the others only explain failures, slowly).
FIXED = settings(
    derandomize=True,
    database=None,
    max_examples=150,
    deadline=None,
    phases=[Phase.generate, Phase.shrink],
)

POEM = bytes(range(60))


def minimal(strategy: Any, condition: Any = lambda value: True) -> Any:
    """
    The simplest value of C{strategy} that satisfies C{condition}, as
    Hypothesis shrinks it.
    """
    return find(strategy, condition, settings=FIXED)


class ShrinkingTests(SynchronousTestCase):
    """
    Each strategy shrinks toward the plain network.
    """

    def test_plainIsSimplest(self) -> None:
        """
        The simplest value of each strategy is the plain one: seed 0, whole
        writes, no latency, no faults.
        """
        self.assertEqual(minimal(seeds()), 0)
        self.assertIs(minimal(chunkings()), WHOLE)
        self.assertEqual(minimal(link_conditions(bandwidth=(10, 100))), PLAIN)
        self.assertEqual(minimal(fault_plans()), FaultSchedule())
        self.assertEqual(
            minimal(network_configurations(faults=fault_plans())),
            NetworkConfiguration(faults=FaultSchedule()),
        )

    def test_leastDeparture(self) -> None:
        """
        Asked for a departure from the plain network, the simplest is the
        least one: one cut at offset 1, merged writes, the smallest
        latency, the highest bandwidth, one fault at time 0 on the first
        port.
        """
        self.assertEqual(
            minimal(chunkings(), lambda c: not isinstance(c, type(WHOLE))),
            Coalesce(),
        )
        self.assertEqual(
            minimal(chunkings(), lambda c: not c.merges and c != WHOLE),
            FixedSize(1),
        )
        self.assertEqual(
            minimal(chunkings(), lambda c: isinstance(c, SplitAt)), SplitAt((1,))
        )
        latency = minimal(link_conditions(), lambda c: c.latency > 0)
        self.assertEqual(attrs.evolve(latency, latency=0.0), PLAIN)
        self.assertEqual(
            minimal(
                link_conditions(bandwidth=(10, 100)), lambda c: c.bandwidth is not None
            ).bandwidth,
            100,
        )
        self.assertEqual(
            minimal(fault_plans(), lambda plan: len(plan.faults) > 0),
            FaultSchedule([Abort(0, 0.0, "client")]),
        )
        self.assertEqual(minimal(planned_faults(kinds=["reset"])), Reset(0, 0.0))
        self.assertEqual(
            minimal(
                planned_faults(kinds=["reset"]), lambda f: isinstance(f, ResetAfter)
            ),
            ResetAfter(0, 0, "server->client"),
        )


class BoundsTests(SynchronousTestCase):
    """
    Every value stays within the bounds the caller gives.
    """

    @FIXED
    @given(
        chunking=chunkings(12, max_cuts=2),
        conditions=link_conditions(
            max_latency=0.5, max_jitter=0.1, bandwidth=(100.0, 200.0)
        ),
    )
    def test_conditions(self, chunking: Any, conditions: LinkConditions) -> None:
        """
        Sizes and offsets in C{[1, max_size]}, at most C{max_cuts} cuts;
        latency, jitter and bandwidth within their bounds.
        """
        if isinstance(chunking, SplitAt):
            self.assertTrue(1 <= len(chunking.offsets) <= 2)
            self.assertTrue(all(1 <= offset <= 12 for offset in chunking.offsets))
        elif isinstance(chunking, FixedSize):
            self.assertTrue(1 <= chunking.size <= 12)
        elif isinstance(chunking, RandomSizes):
            self.assertTrue(1 <= chunking.low <= chunking.high <= 12)
        elif isinstance(chunking, Coalesce) and chunking.max_size is not None:
            self.assertTrue(1 <= chunking.max_size <= 12)
        self.assertTrue(0 <= conditions.latency <= 0.5)
        self.assertTrue(0 <= conditions.jitter <= 0.1)
        bandwidth = conditions.bandwidth
        self.assertTrue(bandwidth is None or 100 <= bandwidth <= 200)

    @FIXED
    @given(conditions=link_conditions(max_latency=0, max_jitter=0))
    def test_noLatencyNoJitter(self, conditions: LinkConditions) -> None:
        """
        Zero bounds give zero latency and jitter.
        """
        self.assertEqual((conditions.latency, conditions.jitter), (0, 0))

    @FIXED
    @given(
        plan=fault_plans(
            max_faults=4,
            hosts=["10.0.0.1", "10.0.0.2"],
            horizon=5.0,
            max_duration=2.0,
            max_bytes=80,
        )
    )
    def test_faultPlansRun(self, plan: FaultSchedule) -> None:
        """
        Every plan installs and runs on a scenario: the client gets the
        exact poem or a failure, and nothing is left.
        """
        self.assertTrue(len(plan.faults) <= 4)
        net = MemoryNetwork(3, faults=plan)
        server = net.host("10.0.0.2")
        port = server.listenTCP(0, SlowPoetryServerFactory(POEM, net, 10, 0.5))
        outcome: list[object] = []
        client = net.host("10.0.0.1")
        get_poetry(client, "10.0.0.2", port_number(port), timeout=8).addBoth(
            outcome.append
        )
        net.run()
        port.stopListening()
        net.run()  # the port stops in the next iteration
        net.assert_clean()
        self.assertTrue(
            outcome == [POEM] or isinstance(outcome[0], Failure),
            f"{plan!r} {outcome!r}",
        )
        for fault in plan.faults:
            self.assertTrue(getattr(fault, "at", 0.0) <= 5.0)
            self.assertTrue(getattr(fault, "duration", 0.0) <= 2.0)
            self.assertTrue(getattr(fault, "after_bytes", 0) <= 80)

    @FIXED
    @given(
        fault=planned_faults(
            addresses=[("10.0.0.2", 80), ("10.0.0.3", 81)], kinds=["refuse"]
        )
    )
    def test_addresses(self, fault: Any) -> None:
        """
        Given addresses, faults target them.
        """
        self.assertIsInstance(fault, Refuse)
        self.assertIn(fault.target, [("10.0.0.2", 80), ("10.0.0.3", 81)])

    @FIXED
    @given(fault=planned_faults(listeners=3, hosts=["a", "b", "c"]))
    def test_listenersAndHosts(self, fault: Any) -> None:
        """
        Index targets stay below C{listeners}; partitions separate two
        different hosts given.
        """
        if isinstance(fault, Partition):
            self.assertNotEqual(fault.host_a, fault.host_b)
            self.assertLessEqual({fault.host_a, fault.host_b}, {"a", "b", "c"})
        else:
            self.assertIn(fault.target, [0, 1, 2])

    @FIXED
    @given(fault=planned_faults())
    def test_noPartitionWithoutHosts(self, fault: Any) -> None:
        """
        Without two hosts there are no partitions.
        """
        self.assertNotIsInstance(fault, Partition)

    def test_partitionsNeedHosts(self) -> None:
        """
        Asking for partitions without two hosts is an error.
        """
        error = self.assertRaises(ValueError, planned_faults, kinds=["partition"])
        self.assertIn("two hosts", str(error))

    def test_badArguments(self) -> None:
        """
        Bad bounds are refused, naming the argument.
        """
        for call, message in (
            (lambda: chunkings(0), "max_size"),
            (lambda: chunkings(max_cuts=0), "max_cuts"),
            (lambda: link_conditions(max_latency=-1), "max_latency"),
            (lambda: link_conditions(max_jitter=float("nan")), "max_jitter"),
            (lambda: link_conditions(bandwidth=(10, 5)), "bandwidth"),
            (lambda: planned_faults(kinds=["flood"]), "unknown fault kind 'flood'"),
            (lambda: planned_faults(kinds=[]), "at least one"),
            (lambda: planned_faults(listeners=0), "listeners"),
            (lambda: planned_faults(max_bytes=-1), "max_bytes"),
            (lambda: fault_plans(max_faults=-1), "max_faults"),
        ):
            error = self.assertRaises(ValueError, call)
            self.assertIn(message, str(error))
        self.assertEqual(minimal(fault_plans(max_faults=0)), FaultSchedule())

    @FIXED
    @given(
        configuration=network_configurations(
            link=link_conditions(chunking=chunkings(8), max_latency=0.2),
            hosts={"poems.example": "127.0.0.1"},
            step_budget=10_000,
        )
    )
    def test_configurationsRun(self, configuration: NetworkConfiguration) -> None:
        """
        Every configuration builds a network with its settings, on which a
        poem arrives whole.
        """
        net = configuration.build()
        self.assertEqual(net.step_budget, 10_000)
        from poetry.server import PoetryServerFactory

        port = net.listenTCP(0, PoetryServerFactory(POEM), interface="127.0.0.1")
        d = get_poetry(net, "poems.example", port_number(port))
        self.assertEqual(net.run_until(d), POEM)
        port.stopListening()
        net.run()
        net.assert_clean()


# Every search a seeded test ran, by name: the examples it drew.
SEARCHES: dict[str, list[int]] = {}


@seeded
@settings(max_examples=20, deadline=None)
@given(n=st.integers())
def record_search(n: int) -> None:
    SEARCHES.setdefault("record", []).append(n)


@seeded
@settings(max_examples=50, deadline=None)
@given(n=st.integers(0, 1000))
def fail_above_500(n: int) -> None:
    assert n <= 500


class SeededTests(SynchronousTestCase):
    """
    L{seeded}: the search follows the test's seed.
    """

    def search(self, environ: dict[str, str]) -> list[int]:
        self.patch(os, "environ", environ)
        SEARCHES.clear()
        record_search()
        return SEARCHES["record"]

    def test_environmentSeed(self) -> None:
        """
        With C{POETRY_TEST_SEED}, the same examples on every run; another
        seed, other examples.
        """
        first = self.search({SEED_ENVIRONMENT_VARIABLE: "5"})
        self.assertEqual(self.search({SEED_ENVIRONMENT_VARIABLE: "5"}), first)
        self.assertNotEqual(self.search({SEED_ENVIRONMENT_VARIABLE: "6"}), first)

    def test_testSeed(self) -> None:
        """
        Under a runner that declared the test, the search takes the test's
        seed: the same examples as with C{POETRY_TEST_SEED} set to it.
        """
        expected = self.search({SEED_ENVIRONMENT_VARIABLE: "77"})
        self.patch(os, "environ", {})
        SEARCHES.clear()
        with running_test(77, "tests/test_x.py::test_y") as test:
            record_search()
        self.assertTrue(test.used)
        self.assertEqual(SEARCHES["record"], expected)

    def test_randomSeedBecomesTheTests(self) -> None:
        """
        A test with no seed yet gets the search's random one.
        """
        self.patch(os, "environ", {})
        with running_test(None, "t") as test:
            record_search()
        self.assertIsNotNone(test.seed)

    def test_failureNamesTheSeed(self) -> None:
        """
        A failure gets the reproduction line as a note -- in the syntax of
        the runner that declared the test -- after Hypothesis's own notes.
        """
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "9"})
        with running_test(None, "tests.test_x.XTests.test_f"):
            error = self.assertRaises(AssertionError, fail_above_500)
        notes = error.__notes__
        self.assertTrue(any("n=501" in note for note in notes), notes)
        self.assertEqual(
            notes[-1],
            "seed=9 \N{EM DASH} reproduce with: POETRY_TEST_SEED=9 "
            "python -m twisted.trial tests.test_x.XTests.test_f",
        )
        with running_test(None, "t.py::test_f"):
            error = self.assertRaises(AssertionError, fail_above_500)
        self.assertTrue(error.__notes__[-1].endswith("python -m pytest 't.py::test_f'"))

    def test_inMemoryNetworkTestCase(self) -> None:
        """
        In a L{MemoryNetworkTestCase}, the search takes the network's seed;
        under trial, the failure shows Hypothesis's failing example and the
        seed line (once), which are notes trial would not print.
        """
        from tests.unit.test_testing_testcase import run_test, texts

        self.patch(os, "environ", {})
        seen = []

        class Inner(MemoryNetworkTestCase):
            @seeded
            @settings(max_examples=20, deadline=None)
            @given(n=st.integers())
            def test_search(self, n: int) -> None:
                seen.append((self.net.seed, n))
                assert n < 10

        result = run_test(Inner("test_search"))
        seed = seen[0][0]
        (text,) = texts(result)
        self.assertEqual(text.count(f"POETRY_TEST_SEED={seed} "), 1)
        self.assertIn("n=10", text)
        # The search began as one seeded with POETRY_TEST_SEED does.
        first = self.search({SEED_ENVIRONMENT_VARIABLE: str(seed)})[0]
        self.assertEqual(first, seen[0][1])

    def test_onlyHypothesisTests(self) -> None:
        """
        C{@seeded} on anything but a Hypothesis test is an error.
        """
        error = self.assertRaises(TypeError, seeded, lambda: None)
        self.assertIn("@seeded goes above @given", str(error))


class Frames(Protocol):
    """
    Frames of a 1-byte length and that many bytes.  Planted bug: a frame
    longer than 3 bytes loses its last byte.
    """

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.buffer = b""

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer and len(self.buffer) > self.buffer[0]:
            length = self.buffer[0]
            frame = self.buffer[1 : 1 + length]
            self.frames.append(frame[:3] if length > 3 else frame)
            self.buffer = self.buffer[1 + length :]


class FramesMachine(MemoryNetworkStateMachine):
    """
    Send frames to a L{Frames} server over a connection drawn by the base
    machine; every frame that arrived must be the one sent.
    """

    longest: ClassVar[int] = 3
    fault_kinds: ClassVar[tuple[str, ...]] = ("stall",)

    def configurations(self) -> Any:
        return network_configurations(
            link=link_conditions(chunking=chunkings(8), max_jitter=0.0)
        )

    def setup(self) -> None:
        self.server = Frames()
        self.port = self.net.listenTCP(0, Factory.forProtocol(lambda: self.server))
        self.client = Protocol()
        self.sent: list[bytes] = []
        client = ClientFactory.forProtocol(lambda: self.client)
        self.net.connectTCP(
            "127.0.0.1", port_number(self.port), cast("ClientFactory[Protocol]", client)
        )
        self.net.run()

    @precondition(lambda self: self.client.transport is not None)
    @rule(frame=st.binary(max_size=5))
    def send(self, frame: bytes) -> None:
        if len(frame) > self.longest:
            frame = frame[: self.longest]
        assert self.client.transport is not None
        self.client.transport.write(bytes([len(frame)]) + frame)
        self.sent.append(frame)

    @invariant()
    def arrived_as_sent(self) -> None:
        frames = self.server.frames
        assert frames == self.sent[: len(frames)], (frames, self.sent)

    def finish(self) -> None:
        assert self.client.transport is not None
        self.client.transport.loseConnection()
        self.port.stopListening()
        super().finish()
        assert self.server.frames == self.sent
        self.net.assert_clean()


class LongFramesMachine(FramesMachine):
    """
    The same, with frames long enough to meet the bug.
    """

    longest = 5


class StateMachineTests(SynchronousTestCase):
    """
    L{MemoryNetworkStateMachine}: programs of the user's rules on a drawn
    network.
    """

    def test_correctProtocolPasses(self) -> None:
        """
        With frames the protocol handles, every program passes -- whatever
        the network, stalls included -- and ends clean.
        """
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "3"})
        FramesMachine.run_as_test(
            settings(
                max_examples=40,
                stateful_step_count=15,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            )
        )

    def test_bugFoundAndReported(self) -> None:
        """
        The planted bug is found: the failing program, shrunk, starts with
        the network Hypothesis drew (the plain one: the bug needs no
        condition) and ends with the seed's reproduction line.
        """
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "3"})
        error = self.assertRaises(
            AssertionError,
            LongFramesMachine.run_as_test,
            settings(
                max_examples=200,
                stateful_step_count=10,
                deadline=None,
                report_multiple_bugs=False,
                phases=[Phase.generate, Phase.shrink],
            ),
        )
        notes = "\n".join(error.__notes__)
        self.assertIn("NetworkConfiguration(", notes)
        self.assertIn("state.send(frame=b'\\x00\\x00\\x00\\x00')", notes)
        self.assertTrue(
            error.__notes__[-1].startswith(
                "seed=3 \N{EM DASH} reproduce with: POETRY_TEST_SEED=3"
            )
        )
