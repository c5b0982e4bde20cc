"""
The reactor-core contract: what C{IReactorCore} (and C{callFromThread}) must
do, for L{poetry.testing.MemoryNetwork} to behave like the real reactor.

As in L{tests.tcp_contract}, one behaviour mixin, L{ReactorCoreContractMixin},
is run twice: by C{tests.integration.test_core_contract} on fresh real
reactors (Twisted's own reactor classes, one new instance per test, run with
C{run()} in the test and disposed of afterwards: the global reactor cannot
be restarted), which tells the truth; and by C{tests.unit.test_core_contract}
on fresh L{MemoryNetwork}s, which must not drift from it.

Every scenario records what happened, in order, into a list and compares it
with the expected list: the order of startup and shutdown triggers, the
value of C{running} inside each, what a C{stop()} from a timed call lets run
before the shutdown, how C{before} triggers' L{Deferred}s are waited for,
C{crash}, restarting, C{callFromThread} ordering, C{task.react}'s exit
statuses, and what the shutdown disconnects (connections, connection ends
and ports of every kind still registered; not a paused connection).  One
scenario stops from C{dataReceived}, over a TCP connection on C{127.0.0.1}
(the reactor's own C{listenTCP}/C{connectTCP}).  Scenarios stop
their reactor with timed calls of delay 0 (on the real reactor the
integration test adds a far safety timer that crashes it).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail, gatherResults, maybeDeferred
from twisted.internet.error import (
    ConnectionDone,
    ReactorNotRestartable,
    ReactorNotRunning,
)
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import (
    ClientFactory,
    DatagramProtocol,
    ServerFactory,
    connectionDone,
)
from twisted.internet.protocol import Protocol as TwistedProtocol
from twisted.internet.task import deferLater, react
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from twisted.trial.unittest import SynchronousTestCase

    _TestCaseBase = SynchronousTestCase
else:
    _TestCaseBase = object

__all__ = ["CoreReactor", "ReactorCoreContractMixin"]


class CoreReactor(Protocol):
    """
    What the scenarios use: L{IReactorCore}, C{callLater} and
    C{callFromThread}.
    """

    @property
    def running(self) -> bool: ...

    def run(self, installSignalHandlers: bool = True) -> None: ...

    def stop(self) -> None: ...

    def crash(self) -> None: ...

    def iterate(self, delay: float = 0.0) -> None: ...

    def fireSystemEvent(self, eventType: str) -> None: ...

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[..., Any],
        *args: object,
        **kwargs: object,
    ) -> Any: ...

    def removeSystemEventTrigger(self, triggerID: Any) -> None: ...

    def callWhenRunning(
        self, callable: Callable[..., Any], *args: object, **kwargs: object
    ) -> Any: ...

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> Any: ...

    def callFromThread(
        self, callable: Callable[..., Any], *args: object, **kwargs: object
    ) -> None: ...


class ReactorCoreContractMixin(_TestCaseBase):
    """
    The reactor-core scenarios.  A concrete class provides L{newReactor} and
    L{runReactor}.
    """

    def newReactor(self) -> CoreReactor:
        """
        A fresh reactor that has never run (disposed of after the test).
        """
        raise NotImplementedError

    def runReactor(self, reactor: CoreReactor) -> None:
        """
        C{reactor.run()} (without signal handlers where that is an option).
        """
        raise NotImplementedError

    def recorder(
        self, reactor: CoreReactor
    ) -> tuple[list[tuple[str, bool]], Callable[[str], None]]:
        """
        A log and a function that appends C{(name, reactor.running)} to it.
        """
        log: list[tuple[str, bool]] = []

        def record(name: str) -> None:
            log.append((name, reactor.running))

        return log, record

    def test_startupPhases(self) -> None:
        """
        C{run()} fires the I{startup} triggers: I{before} ones while not yet
        running, then I{during} ones (running), then I{after} ones and the
        C{callWhenRunning} calls, in the order they were added; then timed
        calls run.  After C{run()} returns the reactor is not running.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.addSystemEventTrigger("after", "startup", record, "after startup")
        reactor.callWhenRunning(record, "when running")
        reactor.addSystemEventTrigger("during", "startup", record, "during startup")
        reactor.addSystemEventTrigger("before", "startup", record, "before startup")
        reactor.callLater(0, record, "timer")
        reactor.callLater(0, reactor.stop)
        record("before run")
        self.runReactor(reactor)
        record("after run")
        self.assertEqual(
            log,
            [
                ("before run", False),
                ("before startup", False),
                ("during startup", True),
                ("after startup", True),
                ("when running", True),
                ("timer", True),
                ("after run", False),
            ],
        )

    def test_callWhenRunningWhileRunning(self) -> None:
        """
        C{callWhenRunning} on a running reactor calls at once, inside the
        call, and returns L{None}.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        returned: list[object] = []

        def inside() -> None:
            returned.append(reactor.callWhenRunning(record, "called"))
            record("returned")
            reactor.stop()

        reactor.callLater(0, inside)
        self.runReactor(reactor)
        self.assertEqual(log, [("called", True), ("returned", True)])
        self.assertEqual(returned, [None])

    def test_shutdownPhases(self) -> None:
        """
        C{stop()} fires the I{shutdown} triggers: I{before} ones while still
        running, then I{during} and I{after} ones, no longer running (the
        reactor's own first I{during} trigger, C{crash}, ended it); then
        C{run()} returns.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.addSystemEventTrigger("after", "shutdown", record, "after shutdown")
        reactor.addSystemEventTrigger("during", "shutdown", record, "during shutdown")
        reactor.addSystemEventTrigger("before", "shutdown", record, "before shutdown")
        reactor.callLater(0, reactor.stop)
        self.runReactor(reactor)
        record("after run")
        self.assertEqual(
            log,
            [
                ("before shutdown", True),
                ("during shutdown", False),
                ("after shutdown", False),
                ("after run", False),
            ],
        )

    def test_stopLetsTheSamePassFinish(self) -> None:
        """
        A C{stop()} made by a timed call lets the other calls due in the same
        pass run; the shutdown comes right after them, and a call scheduled
        for later never runs.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.addSystemEventTrigger("before", "shutdown", record, "before shutdown")
        reactor.callLater(0, reactor.stop)
        reactor.callLater(0, record, "same pass")
        reactor.callLater(3600, record, "much later")
        self.runReactor(reactor)
        self.assertEqual(log, [("same pass", True), ("before shutdown", True)])

    def test_stopFromThreadCall(self) -> None:
        """
        A C{stop()} made by a call from a thread (as SIGINT's handler makes
        it) lets the timed calls due in that pass run first: calls from
        threads run before timed calls, the shutdown after them.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.addSystemEventTrigger("before", "shutdown", record, "before shutdown")

        def queue() -> None:
            reactor.callFromThread(reactor.stop)
            reactor.callLater(0, record, "timer in the stopping pass")

        reactor.callLater(0, queue)
        self.runReactor(reactor)
        self.assertEqual(
            log, [("timer in the stopping pass", True), ("before shutdown", True)]
        )

    def test_stopFromDataReceived(self) -> None:
        """
        A C{stop()} made while handling I/O (here C{dataReceived}) fires the
        shutdown in the next pass, after that pass's timed calls: a
        C{callLater(0)} made next to the C{stop()} runs first.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        tcp = cast(Any, reactor)
        closed: list[Deferred[None]] = [Deferred(), Deferred()]

        class Ends(TwistedProtocol):
            def __init__(self, lost: Deferred[None]) -> None:
                self.lost = lost

            def connectionMade(self) -> None:
                assert self.transport is not None
                self.transport.write(b"x")

            def dataReceived(self, data: bytes) -> None:
                if self.lost is closed[1]:
                    record("dataReceived")
                    reactor.callLater(0, record, "timer next to stop()")
                    reactor.stop()

            def connectionLost(self, reason: Failure = connectionDone) -> None:
                self.lost.callback(None)

        server = ServerFactory.forProtocol(lambda: Ends(closed[0]))
        port = tcp.listenTCP(0, server, interface="127.0.0.1")
        client = ClientFactory.forProtocol(lambda: Ends(closed[1]))
        connector = tcp.connectTCP("127.0.0.1", _port_number(port), client)

        def clean_up() -> Deferred[list[None]]:
            record("before shutdown")
            connector.disconnect()
            stopped: Deferred[None] = maybeDeferred(port.stopListening)
            return gatherResults([*closed, stopped])

        reactor.addSystemEventTrigger("before", "shutdown", clean_up)
        reactor.addSystemEventTrigger("during", "shutdown", record, "during")
        self.runReactor(reactor)
        self.assertEqual(
            log,
            [
                ("dataReceived", True),
                ("timer next to stop()", True),
                ("before shutdown", True),
                ("during", False),
            ],
        )

    def shutdownWorld(
        self, reactor: CoreReactor, record: Callable[[str], None], pauseServer: bool
    ) -> dict[str, TwistedProtocol]:
        """
        Listen, connect, and once both ends are connected stop the reactor
        with the connection and the listening port left open (the server end
        paused, not reading, if C{pauseServer}); record what the protocols
        and factories see, and the shutdown's triggers.

        @return: the protocols, by name (C{"client"}, C{"server"}).
        """
        tcp = cast(Any, reactor)
        ends: dict[str, TwistedProtocol] = {}

        class End(TwistedProtocol):
            def __init__(self, name: str) -> None:
                self.name = name

            def connectionMade(self) -> None:
                record(f"{self.name} made")
                ends[self.name] = self
                if self.name == "server":
                    if pauseServer:
                        assert self.transport is not None
                        cast(Any, self.transport).pauseProducing()
                    reactor.callLater(0, reactor.stop)

            def connectionLost(self, reason: Failure = connectionDone) -> None:
                record(f"{self.name} lost {type(reason.value).__name__}")

        class Server(ServerFactory):
            def buildProtocol(self, addr: Any) -> End:
                return End("server")

            def doStop(self) -> None:
                record("server factory doStop")
                super().doStop()

        class Client(ClientFactory):
            def buildProtocol(self, addr: Any) -> End:
                return End("client")

            def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
                record(f"clientConnectionLost {type(reason.value).__name__}")

            def doStop(self) -> None:
                record("client factory doStop")
                super().doStop()

        port = tcp.listenTCP(0, Server(), interface="127.0.0.1")
        tcp.connectTCP("127.0.0.1", _port_number(port), Client())
        reactor.addSystemEventTrigger("before", "shutdown", record, "before shutdown")
        reactor.addSystemEventTrigger("during", "shutdown", record, "during")
        reactor.addSystemEventTrigger("after", "shutdown", record, "after shutdown")
        self.runReactor(reactor)
        return ends

    def test_shutdownDisconnectsWhatIsLeft(self) -> None:
        """
        The shutdown's I{during} phase disconnects every connection and
        listening port still registered with the reactor, after C{crash}
        (C{running} is already false) and before the I{during} triggers
        added later: each end gets C{connectionLost(ConnectionLost)} (the
        client's factory C{clientConnectionLost}, then C{doStop}), the port
        closes (its factory's C{doStop}).  Their order is not defined (the
        real reactor goes through a set).
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        self.shutdownWorld(reactor, record, pauseServer=False)
        self.assertEqual(
            log[:3],
            [("server made", True), ("client made", True), ("before shutdown", True)],
        )
        self.assertEqual(log[-2:], [("during", False), ("after shutdown", False)])
        middle = log[3:-2]
        self.assertEqual(
            sorted(middle),
            sorted(
                [
                    ("client lost ConnectionLost", False),
                    ("clientConnectionLost ConnectionLost", False),
                    ("client factory doStop", False),
                    ("server lost ConnectionLost", False),
                    ("server factory doStop", False),
                ]
            ),
        )
        client = [entry for entry in middle if entry[0].startswith("client")]
        self.assertEqual(
            [name for name, _ in client],
            [
                "client lost ConnectionLost",
                "clientConnectionLost ConnectionLost",
                "client factory doStop",
            ],
        )

    def test_shutdownLeavesAPausedConnection(self) -> None:
        """
        A connection end registered for nothing -- paused, with nothing to
        send -- is not disconnected by the shutdown: its protocol sees no
        C{connectionLost}, and its transport stays open; the other end and
        the listening port are disconnected as usual.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        ends = self.shutdownWorld(reactor, record, pauseServer=True)
        self.assertEqual(log[-2:], [("during", False), ("after shutdown", False)])
        self.assertEqual(
            sorted(log[3:-2]),
            sorted(
                [
                    ("client lost ConnectionLost", False),
                    ("clientConnectionLost ConnectionLost", False),
                    ("client factory doStop", False),
                    ("server factory doStop", False),
                ]
            ),
        )
        server = cast(Any, ends["server"].transport)
        self.assertFalse(server.disconnected)
        # What the reactor left, closed as its disconnectAll would have.
        server.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(log[-1], ("server lost ConnectionDone", False))

    def test_shutdownClosesDatagramAndUNIXPorts(self) -> None:
        """
        The shutdown's C{disconnectAll} closes a UDP port (its protocol's
        C{stopProtocol}) and a UNIX listening port (its factory's
        C{doStop}) too.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        net = cast(Any, reactor)

        class Datagrams(DatagramProtocol):
            def stopProtocol(self) -> None:
                record("udp stopProtocol")

        class Stream(ServerFactory):
            def doStop(self) -> None:
                record("unix factory doStop")
                super().doStop()

        net.listenUDP(0, Datagrams(), interface="127.0.0.1")
        # A short path (AF_UNIX paths are short), in the test's directory;
        # the port removes it when it closes.
        path = f"core-{os.getpid()}.sock"
        net.listenUNIX(path, Stream())
        reactor.callLater(0, reactor.stop)
        reactor.addSystemEventTrigger("during", "shutdown", record, "during")
        self.runReactor(reactor)
        self.assertEqual(
            sorted(log[:-1]),
            [("udp stopProtocol", False), ("unix factory doStop", False)],
        )
        self.assertEqual(log[-1], ("during", False))
        self.assertFalse(os.path.exists(path))

    def test_beforeShutdownDeferredsAreAwaited(self) -> None:
        """
        The I{during} and I{after} shutdown triggers wait until every
        L{Deferred} returned by a I{before} trigger has fired; meanwhile the
        reactor runs (and is running), and C{stop()} again raises
        L{ReactorNotRunning}.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        first: Deferred[None] = Deferred()
        second: Deferred[None] = Deferred()
        stop_again: list[str] = []

        def fire(d: Deferred[None], name: str) -> None:
            record(name)
            try:
                reactor.stop()
            except ReactorNotRunning:
                stop_again.append(name)
            d.callback(None)

        def before_first() -> Deferred[None]:
            record("before first")
            reactor.callLater(0, reactor.callLater, 0, fire, first, "fire first")
            return first

        def before_second() -> Deferred[None]:
            record("before second")
            reactor.callLater(0, fire, second, "fire second")
            return second

        reactor.addSystemEventTrigger("before", "shutdown", before_first)
        reactor.addSystemEventTrigger("before", "shutdown", before_second)
        reactor.addSystemEventTrigger("during", "shutdown", record, "during")
        reactor.addSystemEventTrigger("after", "shutdown", record, "after")
        reactor.callLater(0, reactor.stop)
        self.runReactor(reactor)
        self.assertEqual(
            log,
            [
                ("before first", True),
                ("before second", True),
                ("fire second", True),
                ("fire first", True),
                ("during", False),
                ("after", False),
            ],
        )
        self.assertEqual(stop_again, ["fire second", "fire first"])

    def test_removeFiredBeforeTriggerWhileWaiting(self) -> None:
        """
        Removing a I{before} trigger that has already run, while the event
        waits for the I{before} L{Deferred}s, only warns (a
        L{DeprecationWarning}); the shutdown goes on.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        waiting: Deferred[None] = Deferred()
        caught: list[warnings.WarningMessage] = []

        def before() -> Deferred[None]:
            record("before")
            return waiting

        def remove_it() -> None:
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                reactor.removeSystemEventTrigger(trigger)
            caught.extend(seen)
            waiting.callback(None)

        trigger = reactor.addSystemEventTrigger("before", "shutdown", before)
        reactor.addSystemEventTrigger("after", "shutdown", record, "after")
        reactor.callLater(0, reactor.stop)
        reactor.callLater(0, reactor.callLater, 0, remove_it)
        self.runReactor(reactor)
        self.assertEqual(log, [("before", True), ("after", False)])
        self.assertEqual([warning.category for warning in caught], [DeprecationWarning])

    def test_stopWhenNotRunning(self) -> None:
        """
        C{stop()} on a reactor that never ran raises L{ReactorNotRunning}.
        """
        reactor = self.newReactor()
        self.assertRaises(ReactorNotRunning, reactor.stop)

    def test_crash(self) -> None:
        """
        C{crash()} stops without the shutdown triggers: C{run()} returns,
        not running, and the I{before shutdown} trigger never ran.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.addSystemEventTrigger("before", "shutdown", record, "before shutdown")

        def crash() -> None:
            record("crashing")
            reactor.crash()

        reactor.callLater(0, crash)
        self.runReactor(reactor)
        record("after run")
        self.assertEqual(log, [("crashing", True), ("after run", False)])

    def test_runAgainAfterCrash(self) -> None:
        """
        After C{crash()}, C{run()} starts the reactor again: the I{startup}
        event fires again (new C{callWhenRunning} calls run); the shutdown
        triggers added before the crash fire at the next C{stop()}.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.addSystemEventTrigger("before", "shutdown", record, "before shutdown")
        reactor.callWhenRunning(record, "first start")
        reactor.callLater(0, reactor.crash)
        self.runReactor(reactor)
        reactor.callWhenRunning(record, "second start")
        reactor.callLater(0, reactor.stop)
        self.runReactor(reactor)
        self.assertEqual(
            log,
            [("first start", True), ("second start", True), ("before shutdown", True)],
        )

    def test_notRestartable(self) -> None:
        """
        After a C{stop()}, starting the reactor again raises
        L{ReactorNotRestartable}; what waited for the start never runs.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.callLater(0, reactor.stop)
        self.runReactor(reactor)
        reactor.callWhenRunning(record, "restarted")
        self.assertRaises(ReactorNotRestartable, self.runReactor, reactor)
        self.assertEqual(log, [])

    def test_triggerRaises(self) -> None:
        """
        A trigger that raises is logged; the other triggers still run and
        the shutdown completes.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)

        def explode(name: str) -> None:
            record(name)
            raise ZeroDivisionError(name)

        reactor.addSystemEventTrigger("before", "shutdown", explode, "explode")
        reactor.addSystemEventTrigger("before", "shutdown", record, "still before")
        reactor.addSystemEventTrigger("after", "shutdown", explode, "explode after")
        reactor.addSystemEventTrigger("after", "shutdown", record, "still after")
        reactor.callLater(0, reactor.stop)
        self.runReactor(reactor)
        self.assertEqual(
            log,
            [
                ("explode", True),
                ("still before", True),
                ("explode after", False),
                ("still after", False),
            ],
        )
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 2)

    def test_removeTrigger(self) -> None:
        """
        A removed trigger does not run; removing it again raises
        L{ValueError}.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        trigger = reactor.addSystemEventTrigger("before", "shutdown", record, "removed")
        reactor.addSystemEventTrigger("before", "shutdown", record, "kept")
        reactor.removeSystemEventTrigger(trigger)
        self.assertRaises(ValueError, reactor.removeSystemEventTrigger, trigger)
        self.assertRaises(
            ValueError, reactor.removeSystemEventTrigger, ("shutdown", None)
        )
        reactor.callLater(0, reactor.stop)
        self.runReactor(reactor)
        self.assertEqual(log, [("kept", True)])

    def test_customEvent(self) -> None:
        """
        C{fireSystemEvent} fires any event's triggers, in phase order, at
        once; they run once (firing again does nothing); an unknown phase
        raises L{KeyError}.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.addSystemEventTrigger("after", "custom", record, "after")
        reactor.addSystemEventTrigger("before", "custom", record, "before")
        reactor.addSystemEventTrigger("during", "custom", record, "during")
        reactor.fireSystemEvent("custom")
        reactor.fireSystemEvent("custom")
        reactor.fireSystemEvent("nothing registered")
        self.assertEqual(log, [("before", False), ("during", False), ("after", False)])
        self.assertRaises(
            KeyError, reactor.addSystemEventTrigger, "sometime", "custom", record
        )

    def test_callFromThreadBeforeTimers(self) -> None:
        """
        Calls from threads run before the timed calls of the same pass, the
        first time after the startup triggers, and in a later pass when
        queued by a timed call.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)

        def queue() -> None:
            reactor.callLater(0, record, "timer queued by timer")
            reactor.callFromThread(record, "thread call queued by timer")
            record("timer")

        reactor.callLater(0, queue)
        reactor.callFromThread(record, "thread call")
        reactor.callWhenRunning(record, "running")
        reactor.callLater(0, reactor.callLater, 0, reactor.callLater, 0, reactor.stop)
        self.runReactor(reactor)
        self.assertEqual(
            [name for name, _ in log],
            [
                "running",
                "thread call",
                "timer",
                "thread call queued by timer",
                "timer queued by timer",
            ],
        )

    def test_callFromThreadRaises(self) -> None:
        """
        A call from a thread that raises is logged, and the others still
        run.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.callFromThread(lambda: 1 // 0)
        reactor.callFromThread(record, "after the error")
        reactor.callLater(0, reactor.stop)
        self.runReactor(reactor)
        self.assertEqual(log, [("after the error", True)])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_iterate(self) -> None:
        """
        C{iterate()} runs the calls that are due, without starting the
        reactor.
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.callLater(0, record, "timer")
        reactor.callFromThread(record, "thread call")
        reactor.iterate()
        self.assertEqual(log, [("thread call", False), ("timer", False)])

    def react(self, reactor: CoreReactor, main: Callable[..., Any]) -> object:
        """
        C{task.react(main, _reactor=reactor)}: its exit status.
        """
        try:
            react(main, _reactor=reactor)  # type: ignore[arg-type]  # CoreReactor is IReactorCore's shape
        except SystemExit as exit:
            return exit.code

    def test_reactSuccess(self) -> None:
        """
        C{react} runs C{main} and exits with status 0 once its L{Deferred}
        fires; the reactor was started and stopped (shutdown triggers ran).
        """
        reactor = self.newReactor()
        log, record = self.recorder(reactor)
        reactor.addSystemEventTrigger("after", "shutdown", record, "after shutdown")

        def main(r: Any) -> Deferred[None]:
            record("main")
            return deferLater(r, 0, record, "done")

        self.assertEqual(self.react(reactor, main), 0)
        self.assertEqual(
            log, [("main", False), ("done", True), ("after shutdown", False)]
        )

    def test_reactSystemExit(self) -> None:
        """
        C{react} exits with the status of a L{SystemExit} that C{main}'s
        L{Deferred} fails with.
        """
        reactor = self.newReactor()

        def main(r: Any) -> Deferred[None]:
            return deferLater(r, 0, lambda: None).addCallback(_exit, 3)

        self.assertEqual(self.react(reactor, main), 3)

    def test_reactFailure(self) -> None:
        """
        C{react} exits with status 1, logging the failure, when C{main}
        fails synchronously.
        """
        reactor = self.newReactor()

        def main(r: Any) -> Deferred[None]:
            return fail(ZeroDivisionError("main"))

        self.assertEqual(self.react(reactor, main), 1)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)


def _port_number(port: IListeningPort) -> int:
    address = port.getHost()
    assert isinstance(address, IPv4Address)
    return address.port


def _exit(ignored: object, status: int) -> None:
    raise SystemExit(status)
