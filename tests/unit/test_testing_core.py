"""
Tests for L{MemoryNetwork}'s C{IReactorCore} where the network must differ
from a real reactor -- a real C{run()} with nothing to do waits for ever, a
test cannot -- and for services and applications run on it.  The behaviour
it shares with the real reactor is pinned by C{tests.core_contract}.
"""

from __future__ import annotations

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ReactorAlreadyRunning,
    ReactorNotRestartable,
    ReactorNotRunning,
)
from twisted.internet.interfaces import IReactorCore, IReactorFromThreads
from twisted.logger import ILogObserver, LogEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import provider
from zope.interface.verify import verifyObject

from poetry import poems
from poetry._services import ServerOptions, make_server_service
from poetry.client import get_poetry
from poetry.testing import Deadlock, MemoryNetwork, MemoryNetworkTestCase
from tests.unit.test_testing_support import run_document_example

CAFE = poems.load("cafe")


class InterfaceTests(SynchronousTestCase):
    """
    L{MemoryNetwork} provides the interfaces.
    """

    def test_provides(self) -> None:
        """
        A network provides L{IReactorCore} and L{IReactorFromThreads}, with
        every method and attribute they declare.
        """
        net = MemoryNetwork(seed=1)
        self.assertTrue(verifyObject(IReactorCore, net))
        self.assertTrue(verifyObject(IReactorFromThreads, net))


class RunTests(MemoryNetworkTestCase):
    """
    C{run()} is C{IReactorCore.run} and "run until quiet" at once.
    """

    def test_quietReturnsAndKeepsRunning(self) -> None:
        """
        With nothing left and no code waiting for a shutdown, C{run()}
        returns (a real reactor would idle for ever); the core keeps running:
        C{callWhenRunning} calls at once, and a later C{stop()} ends it.
        """
        called: list[str] = []
        self.net.callLater(5, called.append, "timer")
        self.net.run()
        self.assertEqual((called, self.net.seconds()), (["timer"], 5.0))
        self.assertTrue(self.net.running)
        self.net.callWhenRunning(called.append, "at once")
        self.assertEqual(called, ["timer", "at once"])
        self.net.stop()
        self.net.run()
        self.assertFalse(self.net.running)

    def test_shutdownAwaitedDeadlocks(self) -> None:
        """
        With a shutdown trigger registered (code waits for the reactor to
        stop), a C{run()} that runs out of work raises L{Deadlock} naming the
        trigger, instead of returning as if the reactor had stopped.
        """

        saved: list[float] = []

        def save_state() -> None:
            saved.append(self.net.seconds())

        self.net.addSystemEventTrigger("before", "shutdown", save_state)
        error = self.assertRaises(Deadlock, self.net.run)
        self.assertIn("nothing will stop it", str(error))
        self.assertIn("save_state", str(error))
        self.assertIn("net.callLater(t, net.stop)", str(error))
        self.assertEqual(saved, [])
        self.net.callLater(1, self.net.stop)
        self.net.run()
        self.assertFalse(self.net.running)
        self.assertEqual(saved, [1.0])

    def test_stuckShutdownDeadlocks(self) -> None:
        """
        A shutdown waiting for a I{before} trigger's L{Deferred} that nothing
        will fire is a L{Deadlock} of C{run()}, naming the trigger; the
        I{during} phase runs once it fires.
        """
        waiting: Deferred[None] = Deferred()
        during: list[bool] = []

        def flush_to_disk() -> Deferred[None]:
            return waiting

        self.net.addSystemEventTrigger("before", "shutdown", flush_to_disk)
        self.net.addSystemEventTrigger(
            "during", "shutdown", lambda: during.append(self.net.running)
        )
        self.net.callLater(1, self.net.stop)
        error = self.assertRaises(Deadlock, self.net.run)
        self.assertIn("waits for the Deferreds", str(error))
        self.assertIn("flush_to_disk", str(error))
        self.assertTrue(self.net.running)
        deadlock = self.assertRaises(Deadlock, self.net.run_until, Deferred())
        self.assertIn("before-shutdown triggers: ", str(deadlock))
        self.assertIn("flush_to_disk", str(deadlock))
        waiting.callback(None)
        self.assertEqual(during, [False])

    def test_nestedRun(self) -> None:
        """
        C{run()} called while the network runs (from a callback) raises
        L{ReactorAlreadyRunning}, as on a real reactor (which logs it, as
        any error of a timed call).
        """
        self.net.callLater(0, self.net.run)
        self.net.run()
        self.assertEqual(len(self.flushLoggedErrors(ReactorAlreadyRunning)), 1)

    def test_drainAfterStop(self) -> None:
        """
        After the core stopped, C{run()} still runs the network until quiet
        (so a test can drain it); only a new start is refused.
        """
        self.net.callLater(0, self.net.stop)
        self.net.run()
        ran: list[float] = []
        self.net.callLater(3, lambda: ran.append(self.net.seconds()))
        self.net.run()
        self.assertEqual(ran, [3.0])
        self.net.callWhenRunning(ran.append, -1.0)
        self.assertRaises(ReactorNotRestartable, self.net.run)
        self.assertEqual(ran, [3.0])

    def test_startRunning(self) -> None:
        """
        C{startRunning()} starts the core without running anything else, so
        that a test driving the network with C{run_until} can start what
        waits in C{callWhenRunning}; it cannot start it twice.
        """
        started: list[bool] = []
        self.net.callWhenRunning(lambda: started.append(self.net.running))
        self.assertFalse(self.net.running)
        self.net.startRunning()
        self.assertEqual(started, [True])
        self.assertRaises(ReactorAlreadyRunning, self.net.startRunning)

    def test_deadlockNamesWaitingStart(self) -> None:
        """
        When C{run_until} deadlocks while calls wait for the core to start,
        L{Deadlock} says so.
        """

        started: Deferred[None] = Deferred()

        def start_service() -> None:
            started.callback(None)

        self.net.callWhenRunning(start_service)
        error = self.assertRaises(Deadlock, self.net.run_until, started)
        self.assertIn("wait for the reactor core to start", str(error))
        self.assertIn("start_service", str(error))
        self.net.startRunning()
        self.assertIsNone(self.net.run_until(started))

    def test_runUntilDeferredsFiredByCoreWork(self) -> None:
        """
        C{run_until} returns as soon as its L{Deferred} fires in a call from
        a thread or in a shutdown trigger.
        """
        from_thread: Deferred[str] = Deferred()
        self.net.callFromThread(from_thread.callback, "thread")
        self.net.callLater(1, lambda: None)
        self.assertEqual(self.net.run_until(from_thread), "thread")
        self.assertEqual(self.net.seconds(), 0.0)
        shut_down: Deferred[str] = Deferred()
        self.net.addSystemEventTrigger(
            "after", "shutdown", shut_down.callback, "after shutdown"
        )
        self.net.startRunning()
        self.net.stop()
        self.assertEqual(self.net.run_until(shut_down), "after shutdown")
        self.assertEqual(self.net.seconds(), 0.0)
        self.net.advance(1)

    def test_stepFiresShutdown(self) -> None:
        """
        C{step()} fires a shutdown that C{stop()} asked for.
        """
        self.net.startRunning()
        self.net.stop()
        self.assertTrue(self.net.running)
        self.assertTrue(self.net.step())
        self.assertFalse(self.net.running)

    def test_stopNotRunning(self) -> None:
        """
        C{stop()} before the core started raises L{ReactorNotRunning}.
        """
        self.assertRaises(ReactorNotRunning, self.net.stop)


class IterateTests(MemoryNetworkTestCase):
    """
    C{iterate(delay)}: one pass, waiting at most C{delay} virtual seconds.
    """

    def test_iterateWaitsAtMostDelay(self) -> None:
        """
        With nothing to run now, C{iterate(delay)} moves the clock to the
        next timer if it is due within C{delay} (and runs it), else by
        C{delay}.
        """
        fired: list[float] = []
        self.net.callLater(10, lambda: fired.append(self.net.seconds()))
        self.net.iterate(4)
        self.assertEqual((self.net.seconds(), fired), (4.0, []))
        self.net.iterate(100)
        self.assertEqual((self.net.seconds(), fired), (10.0, [10.0]))
        self.net.iterate()
        self.assertEqual(self.net.seconds(), 10.0)


class CallFromThreadTests(MemoryNetworkTestCase):
    """
    C{callFromThread} is "call soon".
    """

    def test_countsAsWork(self) -> None:
        """
        A queued call keeps C{run()} and C{step()} going: it runs without
        time passing.
        """
        called: list[float] = []
        self.net.callFromThread(lambda: called.append(self.net.seconds()))
        self.assertTrue(self.net.step())
        self.assertEqual(called, [0.0])
        self.assertFalse(self.net.step())

    def test_errorIsLogged(self) -> None:
        """
        A call that raises is logged as the real reactor logs it.
        """
        events: list[LogEvent] = []

        @provider(ILogObserver)
        def observe(event: LogEvent) -> None:
            events.append(event)

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)
        self.net.callFromThread(lambda: 1 // 0)
        self.net.run()
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        self.assertIn(
            "while calling from thread", [e.get("log_format") for e in events]
        )


class ServiceTests(MemoryNetworkTestCase):
    """
    Applications run on the network as C{twistd} runs them: a
    L{MultiService} started when the reactor runs and stopped before it
    shuts down.
    """

    def test_twistdStyleApplication(self) -> None:
        """
        The project's own poetry server service, in a L{MultiService}
        started by C{callWhenRunning} and stopped by a I{before shutdown}
        trigger (what C{twistd}'s C{startApplication} registers): it serves
        a client, and the shutdown waits for the service to stop listening
        before C{run()} returns.
        """
        options = ServerOptions()
        options.parseOptions(["--poem", "cafe", "--port", "10000"])
        application = MultiService()
        make_server_service(options, self.net).setServiceParent(application)
        application.privilegedStartService()
        self.net.callWhenRunning(application.startService)
        self.net.addSystemEventTrigger("before", "shutdown", application.stopService)
        listening_at_shutdown: list[int] = []
        self.net.addSystemEventTrigger(
            "after",
            "shutdown",
            lambda: listening_at_shutdown.append(len(self.net.listening_ports())),
        )
        fetched: list[bytes] = []
        self.net.callLater(
            1,
            lambda: get_poetry(self.net, "127.0.0.1", 10000).addCallback(
                fetched.append
            ),
        )
        self.net.callLater(5, self.net.stop)
        self.net.run()
        self.assertEqual(fetched, [CAFE])
        self.assertEqual(listening_at_shutdown, [0])
        self.assertFalse(application.running)
        self.assertEqual(self.net.seconds(), 5.0)


class DocumentExampleTests(SynchronousTestCase):
    """
    The C{react()} example of C{docs/testing.md} runs, as shown, and
    passes.
    """

    def test_react(self) -> None:
        """
        The server main served until stopped, and the never-stopped one is a
        L{Deadlock}.
        """
        run_document_example(self, "react", 2)
