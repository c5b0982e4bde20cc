"""
Tests for the harness's budgets: C{run_until(d, timeout=...)} in virtual
seconds, and what L{StepBudgetExceeded} says -- data still flowing, a timer
that reschedules itself, or busy steps that move nothing -- including the
early report of a timer loop (C{idle_timer_limit}).
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IConnector
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from poetry.server import PoetryServerFactory
from poetry.testing import (
    ONE_BYTE,
    Deadlock,
    LinkConditions,
    MemoryNetworkTestCase,
    RunUntilTimeout,
    StepBudgetExceeded,
)
from tests.unit.test_testing_support import Recorder, connect_pair


class RunUntilTimeoutTests(MemoryNetworkTestCase):
    """
    C{run_until(d, timeout=seconds)} gives up after that many virtual
    seconds.
    """

    def test_timesOut(self) -> None:
        """
        A L{Deferred} that has not fired after C{timeout} virtual seconds
        makes C{run_until} raise L{RunUntilTimeout}, with the state dump and
        the seed; the clock stands at the start time plus the timeout, and
        the timers beyond it have not run.
        """
        late: list[float] = []
        call = self.net.callLater(100, late.append, 100.0)
        self.net.advance(2)
        error = self.assertRaises(
            RunUntilTimeout, self.net.run_until, Deferred(), timeout=5
        )
        self.assertEqual((self.net.seconds(), late, error.timeout), (7.0, [], 5))
        message = str(error)
        self.assertIn("has not fired after 5 virtual seconds (now t=7.0)", message)
        self.assertIn("Pending timers (1):", message)
        self.assertIn("at t=100.0: list.append", message)
        self.assertIn(f"POETRY_TEST_SEED={self.net.seed}", message)
        call.cancel()

    def test_firesInTime(self) -> None:
        """
        A L{Deferred} that fires within the timeout gives its result, at its
        own time.
        """
        d: Deferred[str] = Deferred()
        self.net.callLater(3, d.callback, "done")
        self.assertEqual(self.net.run_until(d, timeout=3), "done")
        self.assertEqual(self.net.seconds(), 3.0)

    def test_deadlockBeforeTimeout(self) -> None:
        """
        When nothing at all is left to run, C{run_until} raises L{Deadlock}
        at once, whatever the timeout.
        """
        self.assertRaises(Deadlock, self.net.run_until, Deferred(), timeout=60)
        self.assertEqual(self.net.seconds(), 0.0)

    def test_periodicTimerWithTimeout(self) -> None:
        """
        Beside a periodic timer, a timeout bounds the wait exactly: a
        1-second L{LoopingCall} ticks at 0 through 10 within C{timeout=10}.
        """
        ticks: list[float] = []
        loop = LoopingCall(lambda: ticks.append(self.net.seconds()))
        loop.clock = self.net
        loop.start(1.0)
        self.addCleanup(loop.stop)
        self.assertRaises(RunUntilTimeout, self.net.run_until, Deferred(), timeout=10)
        self.assertEqual(ticks, [float(t) for t in range(11)])

    def test_waitAgainAfterATimeout(self) -> None:
        """
        After a L{RunUntilTimeout}, a second C{run_until(d)} gets what C{d}
        gives later: its failure raised (not swallowed by the call that gave
        up), or its result.
        """
        late: Deferred[str] = Deferred()
        self.net.callLater(5, late.errback, ValueError("late"))
        self.assertRaises(RunUntilTimeout, self.net.run_until, late, timeout=1)
        error = self.assertRaises(ValueError, self.net.run_until, late)
        self.assertEqual(str(error), "late")
        self.assertEqual(self.net.seconds(), 5.0)
        later: Deferred[str] = Deferred()
        self.net.callLater(5, later.callback, "done")
        self.assertRaises(RunUntilTimeout, self.net.run_until, later, timeout=1)
        self.assertEqual(self.net.run_until(later), "done")

    def test_badTimeout(self) -> None:
        """
        A negative or infinite timeout is a L{ValueError}.
        """
        for timeout in (-1.0, float("inf"), float("nan")):
            self.assertRaises(
                ValueError, self.net.run_until, Deferred(), timeout=timeout
            )


class _Reconnecting(ClientFactory):
    """
    A client that reconnects at once after every failure: steps without
    data.
    """

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        if reason.check(ConnectionRefusedError):
            connector.connect()


class StepBudgetCauseTests(MemoryNetworkTestCase):
    """
    L{StepBudgetExceeded} tells why the world stayed busy.
    """

    def test_dataStillFlowing(self) -> None:
        """
        One-byte chunking of a large body takes a step per byte: the error
        says data is still flowing, with how many bytes moved in how many
        recent steps, not that something reschedules itself.
        """
        self.net.step_budget = 20_000
        self.net.set_default_link(LinkConditions(chunking=ONE_BYTE))
        port = self.net.listenTCP(
            0, PoetryServerFactory(b"x" * 65536), interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        received: list[bytes] = []

        class Reader(Protocol):
            def dataReceived(self, data: bytes) -> None:
                received.append(data)

        address = port.getHost()
        assert isinstance(address, IPv4Address)
        endpoint = TCP4ClientEndpoint(self.net, "127.0.0.1", address.port)
        self.net.run_until(connectProtocol(endpoint, Reader()))
        error = self.assertRaises(StepBudgetExceeded, self.net.run)
        self.assertEqual(error.cause, "data")
        self.assertGreater(error.bytes_moved, 0)
        self.assertLessEqual(error.bytes_moved, error.window)
        self.assertIn(
            f"Data is still flowing: {error.bytes_moved} bytes moved in the "
            f"last {error.window} steps.",
            str(error),
        )
        self.assertIn("one-byte chunking of a large body", str(error))
        self.assertNotIn("reschedules itself", str(error))
        self.assertNotIn("Timed calls drove", str(error))
        self.net.step_budget = 1_000_000
        self.net.run()
        self.assertEqual(b"".join(received), b"x" * 65536)

    def test_keepaliveWhileWaiting(self) -> None:
        """
        A run waiting for a L{Deferred} that never fires while a heartbeat
        (a timer every 30 virtual seconds) sends a ping the peer answers:
        the budget is exceeded with data still flowing, and the error says
        timed calls drove it, how far the clock moved, and to bound the run.
        The one-byte case above (no timers) does not say so.
        """
        self.net.step_budget = 2_000
        pair = connect_pair(
            self.net,
            server=lambda: Recorder(on_data=lambda peer, data: peer.tcp.write(b"pong")),
        )
        beat = LoopingCall(pair.client.tcp.write, b"ping")
        beat.clock = self.net
        beat.start(30.0, now=False)
        self.addCleanup(beat.stop)
        self.addCleanup(pair.port.stopListening)
        self.addCleanup(pair.connector.disconnect)
        error = self.assertRaises(StepBudgetExceeded, self.net.run_until, Deferred())
        self.assertEqual(error.cause, "data")
        text = str(error)
        self.assertIn("Timed calls drove part of it (", text)
        self.assertIn("a keepalive or heartbeat", text)
        self.assertIn("run_until(d, timeout=seconds)", text)
        moved = text.split("the clock moved ")[1].split(" virtual seconds")[0]
        self.assertGreater(float(moved), 30.0)

    def test_timerReschedulesItself(self) -> None:
        """
        A L{LoopingCall} under C{run()}: no data moved, the steps were timed
        calls: the error says a timer reschedules itself.
        """
        self.net.step_budget = 500
        loop = LoopingCall(lambda: None)
        loop.clock = self.net
        loop.start(1.0)
        self.addCleanup(loop.stop)
        error = self.assertRaises(StepBudgetExceeded, self.net.run)
        self.assertEqual((error.cause, error.bytes_moved), ("timers", 0))
        self.assertIn("a timer reschedules itself", str(error))
        self.assertIn("LoopingCall(", str(error))

    def test_stepsWithoutData(self) -> None:
        """
        A client that reconnects at once to a closed port keeps the world
        busy with steps that move nothing: the error says so.
        """
        self.net.step_budget = 300
        connector = self.net.connectTCP("127.0.0.1", 9, _Reconnecting())
        error = self.assertRaises(StepBudgetExceeded, self.net.run)
        self.assertEqual((error.cause, error.bytes_moved), ("steps", 0))
        self.assertIn("yet steps kept running", str(error))
        self.assertIn("reconnects at once", str(error))
        connector.stopConnecting()
        self.flushLoggedErrors()


class TimerLoopTests(MemoryNetworkTestCase):
    """
    A run that only a self-rescheduling timer keeps going is reported after
    C{idle_timer_limit} passes, not after the whole step budget.
    """

    def looping(self, period: float = 1.0) -> list[float]:
        ticks: list[float] = []
        loop = LoopingCall(lambda: ticks.append(self.net.seconds()))
        loop.clock = self.net
        loop.start(period)
        self.addCleanup(loop.stop)
        return ticks

    def test_stuckRunUntilBesideLoopingCall(self) -> None:
        """
        C{run_until} waiting for what never comes, beside a L{LoopingCall}:
        after 10,000 passes of nothing but the loop (1 % of the default
        budget; the loop's first tick ran inside C{start}) the error says a
        timer reschedules itself and nothing else can happen, naming it.
        """
        self.assertEqual(self.net.idle_timer_limit, 10_000)
        ticks = self.looping()
        error = self.assertRaises(StepBudgetExceeded, self.net.run_until, Deferred())
        self.assertEqual(error.cause, "timers")
        self.assertEqual(len(ticks), 1 + 10_000)
        self.assertLess(error.steps, self.net.step_budget // 50)
        message = str(error)
        self.assertIn("ran 10000 passes in a row of nothing but timed calls", message)
        self.assertIn("x timer LoopingCall(TimerLoopTests.looping.", message)
        self.assertIn("net.idle_timer_limit", message)

    def test_waitingForALaterTimer(self) -> None:
        """
        Beside a L{LoopingCall}, a wait for a timer scheduled before the loop
        ran is not a loop: 20,000 ticks pass and C{run_until} returns (the
        earlier timer runs first at t=20000).
        """
        d: Deferred[str] = Deferred()
        self.net.callLater(20_000, d.callback, "expired")
        ticks = self.looping()
        self.assertEqual(self.net.run_until(d), "expired")
        self.assertEqual(len(ticks), 20_000)

    def test_dataMovingOnTimers(self) -> None:
        """
        A periodic timer whose writes keep arriving (each after a latency
        timer) is not a loop: passes that deliver bytes are not idle, even
        with a limit of 50 passes and 200 ticks.
        """
        self.net.idle_timer_limit = 50
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.net.set_default_link(LinkConditions(latency=0.5))
        done: Deferred[None] = Deferred()
        received: list[bytes] = []

        def count(protocol: Recorder, data: bytes) -> None:
            received.append(data)
            if len(received) == 200:
                done.callback(None)

        pair.server.on_data = count
        loop = LoopingCall(pair.client.tcp.write, b"x")
        loop.clock = self.net
        loop.start(1.0)
        self.net.run_until(done)
        loop.stop()
        pair.client.tcp.loseConnection()
        self.net.run()
        self.assertEqual(len(received), 200)

    def test_callLaterZeroUnderAdvance(self) -> None:
        """
        Under C{advance}, bounded in time, a periodic timer is fine, but a
        C{callLater(0)} cascade -- the clock never moves -- is reported at
        the limit.
        """
        self.net.idle_timer_limit = 100
        ticks = self.looping()
        self.net.advance(1000)
        self.assertEqual(len(ticks), 1001)
        cascade: list[int] = []

        def again() -> None:
            cascade.append(1)
            self.net.callLater(0, again)

        self.net.callLater(0, again)
        error = self.assertRaises(StepBudgetExceeded, self.net.advance, 1)
        self.assertEqual(error.cause, "timers")
        self.assertLessEqual(len(cascade), 101)
        for call in self.net.getDelayedCalls():
            if "again" in repr(call):
                call.cancel()

    def test_turnedOff(self) -> None:
        """
        With C{idle_timer_limit = None}, only the step budget stops a timer
        loop.
        """
        self.net.idle_timer_limit = None
        self.net.step_budget = 20_000
        ticks = self.looping()
        error = self.assertRaises(StepBudgetExceeded, self.net.run_until, Deferred())
        self.assertIn("more than the step budget of 20000", str(error))
        self.assertEqual(len(ticks), 1 + 20_001)
