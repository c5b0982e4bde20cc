"""
Tests for the seed, the trace, L{poetry.testing.assert_deterministic},
C{assert_clean} and the messages of the harness's errors.
"""

from __future__ import annotations

import os
import random

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.trial.unittest import SynchronousTestCase

from poetry.client import get_poetry
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory
from poetry.testing import (
    SEED_ENVIRONMENT_VARIABLE,
    Deadlock,
    HarnessError,
    MemoryNetwork,
    NondeterminismError,
    StepBudgetExceeded,
    TimerErrors,
    TraceEvent,
    Unclean,
    assert_deterministic,
    reproduction_line,
)
from poetry.testing._seed import resolve_seed
from tests.unit.test_testing_support import (
    Recorder,
    RecordingClientFactory,
    connect_pair,
)


class SeedTests(SynchronousTestCase):
    """
    Where the seed comes from, and C{net.random}.
    """

    def test_explicitSeed(self) -> None:
        """
        An explicit seed is used as given, whatever the environment says.
        """
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "7"})
        self.assertEqual(MemoryNetwork(1234).seed, 1234)

    def test_seedFromEnvironment(self) -> None:
        """
        Without a seed, C{POETRY_TEST_SEED} is used.
        """
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: " 4321 "})
        self.assertEqual(MemoryNetwork().seed, 4321)

    def test_badEnvironmentSeed(self) -> None:
        """
        A C{POETRY_TEST_SEED} that is not a non-negative integer is an error
        that says how to set it.
        """
        for bad in ("soon", "-3", "1.5"):
            self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: bad})
            error = self.assertRaises(ValueError, MemoryNetwork)
            self.assertIn("POETRY_TEST_SEED=1234", str(error))

    def test_randomSeedWhenUnset(self) -> None:
        """
        Without a seed or the variable, a seed in C{[0, 2**32)} is picked.
        """
        seed = resolve_seed(None, environ={})
        self.assertIsInstance(seed, int)
        self.assertTrue(0 <= seed < 2**32)

    def test_seedMustBeAnInt(self) -> None:
        """
        A seed that is not an int is rejected.
        """
        for bad in ("1", 1.0, True):
            self.assertRaises(TypeError, MemoryNetwork, bad)

    def test_randomIsSeeded(self) -> None:
        """
        C{net.random} is a L{random.Random} seeded with the seed.
        """
        expected = random.Random(99)
        net = MemoryNetwork(99)
        self.assertEqual(
            [net.random.random() for _ in range(5)],
            [expected.random() for _ in range(5)],
        )

    def test_reproductionLine(self) -> None:
        """
        The reproduction line names the seed and the test, or a placeholder.
        """
        self.assertEqual(
            reproduction_line(12, "tests.unit.test_a.ATests.test_b"),
            "seed=12 \N{EM DASH} reproduce with: POETRY_TEST_SEED=12 "
            "python -m twisted.trial tests.unit.test_a.ATests.test_b",
        )
        self.assertTrue(reproduction_line(12, None).endswith("<your test>"))


class ErrorsNameTheSeedTests(SynchronousTestCase):
    """
    Every error the harness raises derives from L{HarnessError}, carries the
    seed, and ends with the reproduction line.
    """

    def check(self, error: HarnessError, net: MemoryNetwork) -> None:
        self.assertIsInstance(error, HarnessError)
        self.assertEqual(error.seed, net.seed)
        self.assertTrue(str(error).endswith(reproduction_line(net.seed, net.test_id)))

    def network(self) -> MemoryNetwork:
        net = MemoryNetwork(31337)
        net.test_id = self.id()
        return net

    def test_deadlock(self) -> None:
        """
        L{Deadlock} lists open connections with unread bytes and state,
        listening ports and timers.
        """
        net = self.network()
        pair = connect_pair(net)
        pair.server.tcp.pauseProducing()
        pair.client.tcp.write(b"unheard")
        error = self.assertRaises(Deadlock, net.run_until, Deferred())
        message = str(error)
        self.assertIn("Open connections (1):", message)
        self.assertIn("client -> server: 7 bytes unread", message)
        self.assertIn("server: connected, not reading", message)
        self.assertIn("Listening ports (1):", message)
        self.assertIn("127.0.0.1:32768 (RecordingServerFactory)", message)
        self.assertIn("Pending timers: none", message)
        self.check(error, net)

    def test_stepBudget(self) -> None:
        """
        L{StepBudgetExceeded} explains what kept the world busy.
        """
        net = self.network()
        net.step_budget = 50
        pair = connect_pair(net)

        def echo(protocol: Recorder, data: bytes) -> None:
            protocol.tcp.write(data)

        pair.client.on_data = echo
        pair.server.on_data = echo
        pair.client.tcp.write(b"ping")
        error = self.assertRaises(StepBudgetExceeded, net.run)
        self.assertIn("deliver on #1", str(error))
        self.assertIn("answer each other endlessly", str(error))
        self.check(error, net)

    def test_timerErrors(self) -> None:
        """
        L{TimerErrors} (with C{timer_errors="raise"}) carries the failures
        and the seed.
        """
        net = self.network()
        net.timer_errors = "raise"
        net.callLater(1, lambda: 1 / 0)
        error = self.assertRaises(TimerErrors, net.run)
        self.assertEqual(len(error.failures), 1)
        self.check(error, net)

    def test_unclean(self) -> None:
        """
        L{Unclean} lists what is left: a connection attempt from
        C{connectTCP} on, and its timers (the connect step and the
        connector's timeout, as on the real reactor).
        """
        net = self.network()
        pair = connect_pair(net)
        net.callLater(5, lambda: None)
        net.connectTCP("127.0.0.1", 1, RecordingClientFactory())
        error = self.assertRaises(Unclean, net.assert_clean)
        message = str(error)
        self.assertIn("Open connections (1):", message)
        self.assertIn("Connection attempts in progress (1):", message)
        self.assertIn("#2 to 127.0.0.1:1", message)
        self.assertIn("Listening ports (1):", message)
        self.assertIn("Pending timers (3):", message)
        self.assertIn("at t=0.0: ClientTransport.resolveAddress", message)
        self.assertIn("at t=5.0: ", message)
        self.assertIn("at t=30.0: ", message)
        self.check(error, net)
        pair.client.tcp.loseConnection()
        pair.port.stopListening()
        net.run()
        net.assert_clean()

    def test_nondeterminism(self) -> None:
        """
        L{NondeterminismError} carries the seed and the index.
        """
        flip = iter([1.0, 2.0])

        def scenario(net: MemoryNetwork) -> None:
            net.callLater(next(flip), lambda: None)
            net.run()

        error = self.assertRaises(
            NondeterminismError, assert_deterministic, scenario, 5, test_id="x.y"
        )
        self.assertEqual((error.seed, error.index), (5, 0))
        self.assertTrue(str(error).endswith(reproduction_line(5, "x.y")))


class TraceTests(SynchronousTestCase):
    """
    The trace and its dump.
    """

    def test_traceOfAPoem(self) -> None:
        """
        A poem served and fetched leaves exactly these events, in order: the
        connect step runs as a timer, the server's write is buffered and
        handed to the kernel (C{flush}) in its next dispatch, then its close
        sends a C{FIN}; the client reads the poem and end-of-file; the port
        closes an iteration after C{stopListening} (a timer too).
        """
        net = MemoryNetwork(8)
        port = net.listenTCP(
            0, PoetryServerFactory(b"a short poem"), interface="127.0.0.1"
        )
        self.assertEqual(
            net.run_until(get_poetry(net, "127.0.0.1", 32768)), b"a short poem"
        )
        port.stopListening()
        net.run()
        self.assertEqual(
            [(e.time, e.kind, e.connection, e.side, e.detail) for e in net.trace],
            [
                (0.0, "listen", None, "", "127.0.0.1:32768"),
                (0.0, "connect", 1, "client", "127.0.0.1:32768"),
                (0.0, "timer", None, "", "ClientTransport.resolveAddress"),
                (0.0, "accept", 1, "server", "127.0.0.1:32769 -> 127.0.0.1:32768"),
                (0.0, "write", 1, "server", "12 bytes"),
                (0.0, "close", 1, "server", ""),
                (0.0, "flush", 1, "server", "12 bytes"),
                (0.0, "connection-lost", 1, "server", "ConnectionDone"),
                (0.0, "fin", 1, "server", ""),
                (0.0, "deliver", 1, "client", "12 bytes"),
                (0.0, "eof", 1, "client", ""),
                (0.0, "connection-lost", 1, "client", "ConnectionDone"),
                (0.0, "fin", 1, "client", ""),
                (0.0, "timer", None, "", "Deferred.callback"),
                (0.0, "stop-listening", None, "", "127.0.0.1:32768"),
            ],
        )
        net.assert_clean()
        self.assertIsInstance(net.trace[0], TraceEvent)

    def test_timersAndTimes(self) -> None:
        """
        Fired timers are recorded with their time and a stable name (the
        harness's own too: the connect step, the port's close); events carry
        the virtual time at which they happened.
        """
        net = MemoryNetwork(8)
        port = net.listenTCP(0, SlowPoetryServerFactory(b"abcdef", net, 3, 2.0))
        net.run_until(get_poetry(net, "127.0.0.1", 32768))
        port.stopListening()
        net.run()
        timers = [e for e in net.trace if e.kind == "timer"]
        self.assertEqual(
            [(e.time, e.detail) for e in timers],
            [
                (0.0, "ClientTransport.resolveAddress"),
                (2.0, "SlowPoetryServerProtocol._send_next_chunk"),
                (2.0, "Deferred.callback"),
            ],
        )
        delivered = [(e.time, e.detail) for e in net.trace if e.kind == "deliver"]
        self.assertEqual(delivered, [(0.0, "3 bytes"), (2.0, "3 bytes")])

    def test_traceDump(self) -> None:
        """
        C{trace_dump} has one readable line per event.
        """
        net = MemoryNetwork(8)
        pair = connect_pair(net)
        pair.client.tcp.write(b"hi")
        pair.client.tcp.abortConnection()
        net.run()
        pair.port.stopListening()
        lines = net.trace_dump().splitlines()
        self.assertEqual(len(lines), len(net.trace))
        self.assertEqual(
            lines[0].split(), ["0.000000", "-", "listen", "127.0.0.1:32768"]
        )
        self.assertIn("#1  abort            client", net.trace_dump())
        self.assertIn("#1  connection-lost  client ConnectionAborted", net.trace_dump())
        self.assertIn("#1  reset            server", net.trace_dump())

    def test_traceOff(self) -> None:
        """
        With C{trace=False} nothing is recorded (and the rest works).
        """
        net = MemoryNetwork(8, trace=False)
        port = net.listenTCP(0, PoetryServerFactory(b"poem"))
        self.assertEqual(net.run_until(get_poetry(net, "127.0.0.1", 32768)), b"poem")
        port.stopListening()
        self.assertEqual(net.trace, ())
        self.assertEqual(net.trace_dump(), "")


class DeterminismTests(SynchronousTestCase):
    """
    L{assert_deterministic}.
    """

    @staticmethod
    def poems(net: MemoryNetwork) -> None:
        """
        Three clients of a slow server, each starting at a time drawn from
        C{net.random}.
        """
        port = net.listenTCP(0, SlowPoetryServerFactory(b"x" * 50, net, 7, 0.5))
        results: list[Deferred[bytes]] = []
        for _ in range(3):
            start = net.random.uniform(0, 3)
            results.append(
                deferLater(net, start, get_poetry, net, "127.0.0.1", 32768).addCallback(
                    lambda d: d
                )
            )
        for d in results:
            net.run_until(d)
        port.stopListening()

    def test_deterministicScenarioPasses(self) -> None:
        """
        A scenario whose randomness comes from C{net.random} passes and
        returns its trace.
        """
        trace = assert_deterministic(self.poems, seed=2024)
        self.assertEqual(trace[0].kind, "listen")
        self.assertEqual(len([e for e in trace if e.kind == "connect"]), 3)

    def test_differentSeedsDiffer(self) -> None:
        """
        The seed matters: two seeds give two different traces.
        """
        self.assertNotEqual(
            assert_deterministic(self.poems, seed=1),
            assert_deterministic(self.poems, seed=2),
        )

    def test_unseededRandomnessCaught(self) -> None:
        """
        A scenario using an unseeded random generator is caught at the first
        differing event, both events shown, with the seed.
        """

        def scenario(net: MemoryNetwork) -> None:
            pair = connect_pair(net)
            size = random.Random().randrange(1, 2**60)
            pair.client.tcp.write(b"x" * (size % 1000 + 1) + b"%d" % size)
            pair.client.tcp.loseConnection()
            net.run()
            pair.port.stopListening()

        error = self.assertRaises(
            NondeterminismError, assert_deterministic, scenario, seed=77
        )
        message = str(error)
        self.assertIn("with seed=77", message)
        self.assertIn(f"differ at trace event {error.index}", message)
        self.assertIn("run 1:", message)
        self.assertIn("run 2:", message)
        self.assertIn("write            client", message)
        self.assertIn("Events before it (identical in both runs):", message)

    def test_stateLeakingBetweenRunsCaught(self) -> None:
        """
        A scenario that depends on state outside the network (here a counter
        that survives from one run to the next, as a module-level cache
        would) is caught.
        """
        runs: list[int] = []

        def scenario(net: MemoryNetwork) -> None:
            runs.append(len(runs))
            pair = connect_pair(net)
            pair.client.tcp.write(b"run %d" % len(runs))
            pair.client.tcp.loseConnection()
            net.run()
            pair.port.stopListening()

        error = self.assertRaises(
            NondeterminismError, assert_deterministic, scenario, seed=3
        )
        self.assertEqual(runs, [0, 1])
        # listen, connect, the connect step's timer, accept, then the write.
        self.assertEqual(error.index, 4)
        self.assertIn("write            client 5 bytes, crc32", str(error))

    def test_lengthDifference(self) -> None:
        """
        A run that records fewer events is reported at the index where the
        shorter trace ends.
        """
        calls = iter([1, 2])

        def scenario(net: MemoryNetwork) -> None:
            for _ in range(next(calls)):
                net.callLater(1, lambda: None)
            net.run()

        error = self.assertRaises(
            NondeterminismError, assert_deterministic, scenario, 9
        )
        self.assertEqual(error.index, 1)
        self.assertIn("run 1: (no more events)", str(error))


class CleanTests(SynchronousTestCase):
    """
    C{assert_clean}.
    """

    def test_cleanNetwork(self) -> None:
        """
        A network whose ports, connections and timers were all closed is
        clean.
        """
        net = MemoryNetwork(1)
        net.assert_clean()
        port = net.listenTCP(0, Factory.forProtocol(Protocol))
        call = net.callLater(3, lambda: None)
        self.assertRaises(Unclean, net.assert_clean)
        call.cancel()
        port.stopListening()
        self.assertRaises(Unclean, net.assert_clean)
        net.advance(0)
        net.assert_clean()

    def test_halfOpenConnectionIsUnclean(self) -> None:
        """
        A connection closed on one side only is still open.
        """
        net = MemoryNetwork(1)
        pair = connect_pair(net)
        pair.port.stopListening()
        pair.server.tcp.pauseProducing()
        pair.client.tcp.loseConnection()
        net.run()
        error = self.assertRaises(Unclean, net.assert_clean)
        self.assertIn("client: closed; server: connected, not reading", str(error))
        self.assertIn("socket: established, FIN received", str(error))
        pair.server.tcp.resumeProducing()
        net.run()
        net.assert_clean()
