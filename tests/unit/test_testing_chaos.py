"""
Tests for seeded chaos (L{poetry.testing.Chaos}): each seed switches a
random subset of fault kinds on and injects them at random points, all drawn
from the network's seed.
"""

from __future__ import annotations

from collections import Counter

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import (
    CHAOS_KINDS,
    Chaos,
    HarnessError,
    MemoryNetwork,
    Unclean,
    assert_deterministic,
)
from tests.unit.test_testing_support import (
    Recorder,
    RecordingClientFactory,
    RecordingServerFactory,
    port_number,
)

HOSTS = {"server": "10.0.0.2", "client": "10.0.0.1"}


def chatter(net: MemoryNetwork) -> list[RecordingClientFactory]:
    """
    A small world for chaos to act on: a server on its own host writes 40
    bytes, one every 0.1 s, to each of 4 clients that connect over the first
    2 seconds (timeout 5 s) from another host; the network is run until
    everything is over and the port is closed.
    """

    def talk(protocol: Recorder) -> None:
        for index in range(40):
            net.callLater(index * 0.1, protocol.tcp.write, b"%d" % (index % 10))
        net.callLater(4.0, protocol.tcp.loseConnection)

    port = net.host("server").listenTCP(
        0, RecordingServerFactory(lambda: Recorder(on_made=talk))
    )
    clients = []
    for _ in range(4):
        factory = RecordingClientFactory()
        clients.append(factory)
        net.callLater(
            net.random.uniform(0, 2),
            net.host("client").connectTCP,
            "server",
            port_number(port),
            factory,
            5,
        )
    net.callLater(30, port.stopListening)
    net.run()
    return clients


def fault_details(net: MemoryNetwork) -> list[str]:
    """
    The details of the trace's C{fault} events.
    """
    return [event.detail for event in net.trace if event.kind == "fault"]


class ChaosPlanTests(SynchronousTestCase):
    """
    The plan a seed draws.
    """

    def test_invalidPlans(self) -> None:
        """
        Unknown kinds and out-of-range numbers are rejected.
        """
        self.assertRaises(ValueError, Chaos, kinds=("earthquake",))
        self.assertRaises(ValueError, Chaos, horizon=0)
        self.assertRaises(ValueError, Chaos, max_faults=-1)
        self.assertRaises(ValueError, Chaos, probability=1.5)
        self.assertRaises(ValueError, Chaos, probability=True)
        self.assertEqual(Chaos(kinds=("stall", "abort")).kinds, ("abort", "stall"))

    def test_planIsTheFirstFaultEvent(self) -> None:
        """
        The first C{fault} event names the kinds switched on and the seed;
        with probability 1 every kind is on, with 0 none is and nothing is
        scheduled.
        """
        everything = MemoryNetwork(3, faults=Chaos(probability=1.0))
        self.assertEqual(
            fault_details(everything), [f"chaos: {', '.join(CHAOS_KINDS)} (seed 3)"]
        )
        self.assertGreaterEqual(len(everything.getDelayedCalls()), len(CHAOS_KINDS))
        nothing = MemoryNetwork(3, faults=Chaos(probability=0.0))
        self.assertEqual(fault_details(nothing), ["chaos: no faults (seed 3)"])
        self.assertEqual(nothing.getDelayedCalls(), [])

    def test_scheduleWithinTheHorizon(self) -> None:
        """
        Each kind on gets 1 to C{max_faults} injections, at times within the
        horizon; they show in C{net.faults.describe()}.
        """
        net = MemoryNetwork(8, faults=Chaos(probability=1.0, horizon=2.0, max_faults=2))
        times = [call.getTime() for call in net.getDelayedCalls()]
        self.assertTrue(len(CHAOS_KINDS) <= len(times) <= 2 * len(CHAOS_KINDS))
        self.assertTrue(all(0 <= time < 2.0 for time in times))
        self.assertEqual(net.faults.describe().count("scheduled: chaos "), len(times))

    def test_seedsDiffer(self) -> None:
        """
        Different seeds switch on different subsets.
        """
        plans = {
            fault_details(MemoryNetwork(seed, faults=Chaos()))[0].split(" (")[0]
            for seed in range(30)
        }
        self.assertGreater(len(plans), 10)

    def test_clearCancelsThePlan(self) -> None:
        """
        C{net.faults.clear()} cancels the injections not yet made.
        """
        net = MemoryNetwork(4, faults=Chaos(probability=1.0))
        net.faults.clear()
        self.assertEqual(net.getDelayedCalls(), [])

    def test_failuresNameTheSeed(self) -> None:
        """
        A harness error on a chaotic network names its seed, like any other:
        here L{Unclean}, listing the pending injections.
        """
        net = MemoryNetwork(77, faults=Chaos(probability=1.0))
        error = self.assertRaises(Unclean, net.assert_clean)
        self.assertIsInstance(error, HarnessError)
        self.assertEqual(error.seed, 77)
        self.assertIn("POETRY_TEST_SEED=77", str(error))
        self.assertIn("ScheduledFault.fire", str(error))


class ChaosRunTests(SynchronousTestCase):
    """
    Chaos acting on a small world.
    """

    def test_everyKindIsInjectedAcrossSeeds(self) -> None:
        """
        Over 40 seeds, every kind of fault is injected at least once, each
        recorded in the trace; every run ends clean.
        """
        seen: Counter[str] = Counter()
        for seed in range(40):
            net = MemoryNetwork(
                seed, hosts=HOSTS, faults=Chaos(horizon=3.0, max_bytes=40)
            )
            chatter(net)
            net.assert_clean()
            for detail in fault_details(net)[1:]:
                seen[detail.split(" ")[0]] += 1
        for word in ("refuse", "hang", "reset", "stall", "partition", "abort"):
            self.assertGreater(seen[word], 0, f"{word}: {seen}")

    def test_faultsChangeOutcomes(self) -> None:
        """
        Across seeds, chaos makes some connections fail and lets others
        through intact.
        """
        outcomes: Counter[str] = Counter()
        expected = b"".join(b"%d" % (i % 10) for i in range(40))
        for seed in range(40):
            net = MemoryNetwork(
                seed, hosts=HOSTS, faults=Chaos(horizon=3.0, max_bytes=40)
            )
            for factory in chatter(net):
                if factory.protocols:
                    client = factory.protocols[0]
                    assert isinstance(client, Recorder)
                    intact = client.received == expected
                    outcomes["intact" if intact else "cut"] += 1
                    if not intact:
                        self.assertEqual(
                            client.received, expected[: len(client.received)]
                        )
                else:
                    outcomes["no connection"] += 1
        self.assertGreater(outcomes["intact"], 0)
        self.assertGreater(outcomes["cut"], 0)
        self.assertGreater(outcomes["no connection"], 0)

    def test_deterministic(self) -> None:
        """
        A seed replays its chaos exactly (L{assert_deterministic}).
        """
        for seed in (1, 2, 3):
            trace = assert_deterministic(
                chatter,
                seed=seed,
                hosts=HOSTS,
                faults=Chaos(horizon=3.0, probability=0.9),
            )
            self.assertGreater(sum(event.kind == "fault" for event in trace), 1)

    def test_skippedWhenNothingToTarget(self) -> None:
        """
        A kind whose time comes when there is nothing to act on is skipped,
        and the trace says so.
        """
        net = MemoryNetwork(5, faults=Chaos(probability=1.0))
        net.run()
        skipped = [
            d for d in fault_details(net) if d.endswith("skipped (nothing to target)")
        ]
        self.assertGreater(len(skipped), 0)
