"""
Twisted's reconnecting clients over L{MemoryNetwork}, unmodified:
L{ClientService} (with L{backoffPolicy}) and the older
L{ReconnectingClientFactory}, against a server that is not there yet, that
resets the connection, or that refuses -- each retry at the virtual time its
policy says.

What a test gives them: the network as C{ClientService}'s C{clock=} and as
its endpoint's reactor; C{factory.clock = net} for a
C{ReconnectingClientFactory}, whose retries are otherwise delayed calls on
the global reactor (L{ReconnectingGuardTests}).  Both draw jitter from the
process-wide C{random} module by default (C{backoffPolicy}'s C{jitter},
C{ReconnectingClientFactory.jitter}); a test that wants its retry times
reproducible gives C{backoffPolicy} the network's seeded generator
(C{jitter=net.random.random}) and sets C{factory.jitter = 0}.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, cast

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionLost, ConnectionRefusedError
from twisted.internet.interfaces import IConnector, IListeningPort
from twisted.internet.protocol import (
    Factory,
    Protocol,
    ReconnectingClientFactory,
    ServerFactory,
)
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult

from poetry.testing import MemoryNetwork, MemoryNetworkTestCase
from tests.unit.test_testing_guard import stand_in_global_reactor

#: Where the server listens (a fixed number: the clients start before it).
PORT = 7010


class Greeter(Protocol):
    """
    The server: greets each connection with its number.
    """

    def connectionMade(self) -> None:
        factory = self.factory
        assert isinstance(factory, GreeterFactory)
        factory.served += 1
        assert self.transport is not None
        self.transport.write(b"hello %d\n" % (factory.served,))


class GreeterFactory(ServerFactory):
    protocol = Greeter

    def __init__(self) -> None:
        self.served = 0


class Listener(Protocol):
    """
    The client: keeps what it received; C{lost} fires when the connection
    is lost, and C{reason} is then why.
    """

    def __init__(self) -> None:
        self.received = b""
        self.lost: Deferred[None] = Deferred()
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.reason = reason
        self.lost.callback(None)


def attempt_times(net: MemoryNetwork) -> list[float]:
    """
    The virtual times of the connection attempts the trace shows.
    """
    return [event.time for event in net.trace if event.kind == "connect"]


class ClientServiceTests(MemoryNetworkTestCase):
    """
    L{ClientService} with the network as its clock and its endpoint's
    reactor.
    """

    def service(self, jitter: Any = lambda: 0.0) -> ClientService:
        """
        A started service connecting to L{PORT} with a backoff of 1 s,
        doubling; stopped at the end of the test.
        """
        endpoint = TCP4ClientEndpoint(self.net, "127.0.0.1", PORT)
        service = ClientService(
            endpoint,
            Factory.forProtocol(Listener),
            retryPolicy=backoffPolicy(initialDelay=1.0, factor=2.0, jitter=jitter),
            clock=self.net,
        )
        service.startService()
        self.addCleanup(self.stop, service)
        return service

    def connected(self, service: ClientService) -> Listener:
        """
        Run until the service is connected; its protocol.
        """
        client = self.net.run_until(service.whenConnected())
        assert isinstance(client, Listener)
        return client

    def stop(self, service: ClientService) -> None:
        self.net.run_until(service.stopService())

    def listen(self) -> tuple[GreeterFactory, IListeningPort]:
        factory = GreeterFactory()
        port = self.net.listenTCP(PORT, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return factory, port

    def test_retriesUntilTheServerListens(self) -> None:
        """
        Nobody listens until t=5: the service tries at t=0 and then after
        each delay its policy gives (2 s, 4 s: C{initialDelay * factor **
        attempt}), and connects on the first try after the server came up,
        at t=6; C{whenConnected} fires with the protocol, which is greeted.
        """
        self.net.callLater(5, self.listen)
        service = self.service()
        client = self.connected(service)
        self.assertEqual(attempt_times(self.net), [0.0, 2.0, 6.0])
        self.assertEqual(self.net.seconds(), 6.0)
        self.net.advance(0)
        self.assertEqual(client.received, b"hello 1\n")

    def test_reconnectsAfterAReset(self) -> None:
        """
        A reset from the network: the client's protocol loses its connection
        with L{ConnectionLost}, and the service connects again after its
        first delay; the new connection is greeted as the second.
        """
        factory, port = self.listen()
        service = self.service()
        first = self.connected(service)
        self.net.advance(0)
        self.net.faults.reset(port)
        self.net.run_until(first.lost)
        assert first.reason is not None
        self.assertTrue(first.reason.check(ConnectionLost))
        lost_at = self.net.seconds()
        second = self.connected(service)
        self.assertIsNot(second, first)
        self.assertEqual(self.net.seconds(), lost_at + 2.0)
        self.net.advance(0)
        self.assertEqual((second.received, factory.served), (b"hello 2\n", 2))

    def test_whenConnectedGivesUp(self) -> None:
        """
        C{whenConnected(failAfterFailures=3)} against a refusing address
        fails with the third attempt's L{ConnectionRefusedError}, at the time
        of that attempt.
        """
        service = self.service()
        error = self.assertRaises(
            ConnectionRefusedError,
            self.net.run_until,
            service.whenConnected(failAfterFailures=3),
        )
        self.assertIsInstance(error, ConnectionRefusedError)
        self.assertEqual(attempt_times(self.net), [0.0, 2.0, 6.0])
        self.assertEqual(self.net.seconds(), 6.0)

    def test_stopServiceStopsRetrying(self) -> None:
        """
        Stopping the service while it waits to retry cancels the retry: no
        attempt is made after the stop, and nothing is left scheduled.
        """
        service = self.service()
        self.net.advance(3)
        self.net.run_until(service.stopService())
        self.net.advance(100)
        self.assertEqual(attempt_times(self.net), [0.0, 2.0])
        self.assertEqual(self.net.getDelayedCalls(), [])

    def test_jitterFromTheSeed(self) -> None:
        """
        With C{jitter=net.random.random}, each retry comes after the
        policy's delay plus a jitter drawn from the network's seed: two
        networks with one seed retry at the same times, a network with
        another seed at others.
        """

        def times(seed: int) -> list[float]:
            net = MemoryNetwork(seed=seed)
            service = ClientService(
                TCP4ClientEndpoint(net, "127.0.0.1", PORT),
                Factory.forProtocol(Listener),
                retryPolicy=backoffPolicy(jitter=net.random.random),
                clock=net,
            )
            service.startService()
            net.advance(20)
            net.run_until(service.stopService())
            return attempt_times(net)

        first = times(1)
        # backoffPolicy's defaults: 1.5 ** n seconds before the n-th retry,
        # plus a jitter in [0, 1).
        gaps = [later - earlier for earlier, later in pairwise(first)]
        self.assertGreaterEqual(len(gaps), 3)
        for n, gap in enumerate(gaps, 1):
            self.assertTrue(1.5**n <= gap < 1.5**n + 1, (n, gap))
        self.assertEqual(times(1), first)
        self.assertNotEqual(times(2), first)


class RetryingFactory(ReconnectingClientFactory):
    """
    A L{ReconnectingClientFactory} of L{Listener}s that keeps them; every
    retry delay and reconnection is its own.
    """

    protocol = Listener

    def __init__(self) -> None:
        self.clients: list[Listener] = []

    def buildProtocol(self, addr: Any) -> Listener:
        self.resetDelay()
        client = Listener()
        client.factory = self
        self.clients.append(client)
        return client


class ReconnectingClientFactoryTests(MemoryNetworkTestCase):
    """
    L{ReconnectingClientFactory} with the network as its clock and no
    jitter.
    """

    def factory(self) -> RetryingFactory:
        factory = RetryingFactory()
        # (Typed as an interface the network provides but does not name.)
        factory.clock = cast(Any, self.net)
        factory.jitter = 0
        factory.initialDelay = 1.0
        factory.factor = 2.0
        return factory

    def test_backoffThenReconnect(self) -> None:
        """
        Nobody listens until t=6: the retries come after 1, 2 and 4 s
        (C{initialDelay}, growing by C{factor}), and the one at t=7
        connects; after a reset the delay starts again from
        C{initialDelay}.
        """
        factory = self.factory()
        greeter = GreeterFactory()
        ports: list[IListeningPort] = []
        self.net.callLater(
            6,
            lambda: ports.append(
                self.net.listenTCP(PORT, greeter, interface="127.0.0.1")
            ),
        )
        connector: IConnector = self.net.connectTCP("127.0.0.1", PORT, factory)
        self.net.advance(7)
        self.assertEqual(attempt_times(self.net), [0.0, 1.0, 3.0, 7.0])
        [first] = factory.clients
        self.assertEqual(first.received, b"hello 1\n")
        self.net.faults.reset(ports[0])
        self.net.run_until(first.lost)
        lost_at = self.net.seconds()
        self.net.advance(1)
        self.assertEqual(attempt_times(self.net)[-1], lost_at + 1.0)
        self.assertEqual(factory.clients[-1].received, b"hello 2\n")
        factory.stopTrying()
        connector.disconnect()
        ports[0].stopListening()
        self.net.advance(0)


class ReconnectingGuardTests(MemoryNetworkTestCase):
    """
    Without C{factory.clock}, a L{ReconnectingClientFactory} schedules its
    retries on the global reactor.
    """

    def test_retryOnTheGlobalReactor(self) -> None:
        """
        The inner test's client is refused and never retries on the
        network; the guard fails the test, naming the factory's retry and
        its fix.
        """
        stand_in_global_reactor(self)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                factory = RetryingFactory()
                self.net.connectTCP("127.0.0.1", PORT, factory)
                self.net.advance(10)
                self.assertEqual(attempt_times(self.net), [0.0])
                factory.stopTrying()

        result = TestResult()
        Inner("test_inner").run(result)
        [(_, failure)] = result.failures
        failed: object = failure
        assert isinstance(failed, Failure)
        text = failed.getErrorMessage()
        self.assertIn("scheduled work on the global reactor", text)
        self.assertIn(
            "delayed call: ReconnectingClientFactory.retry.<locals>.reconnector", text
        )
        self.assertIn("fix: ReconnectingClientFactory schedules its retries", text)
        self.assertIn("factory.clock = net", text)
