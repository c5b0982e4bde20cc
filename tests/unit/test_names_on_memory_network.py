"""
Unmodified C{twisted.names} over L{MemoryNetwork}: a
L{client.Resolver<twisted.names.client.Resolver>} given the network as its
reactor resolves names against a L{DNSServerFactory} listening on the
network -- over UDP (a L{DNSDatagramProtocol} on C{listenUDP}), with every
datagram whole, under loss (the resolver's retries recover, on the virtual
clock), and over TCP when an answer does not fit in a datagram (the
truncated UDP answer sends the resolver to TCP on the same port number).

Nothing is adapted beyond injecting the network where Twisted takes a
reactor, with two exceptions, each shown with the reason:

  - C{twisted.names} draws its UDP source ports and message ids from
    C{os.urandom} (C{dns.randomSource}); the tests route it through
    C{net.random}, so that a run is reproducible from the network's seed;
  - over TCP, C{client.Resolver} builds its L{dns.DNSProtocol} without a
    reactor, so the query timeout is scheduled on the global reactor:
    L{TCPGuardTests} shows the global-reactor guard catching it, and the
    TCP tests use the fix (a client factory passing the network).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.protocol import Factory, Protocol
from twisted.names import client, dns
from twisted.names.common import ResolverBase
from twisted.names.error import DNSNameError
from twisted.names.server import DNSServerFactory
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult

from poetry.testing import (
    DatagramConditions,
    Deadlock,
    MemoryNetwork,
    MemoryNetworkTestCase,
)
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import port_number

_Records = tuple[list[dns.RRHeader], list[dns.RRHeader], list[dns.RRHeader]]

#: Addresses of a name with so many A records that the answer is larger
#: than a 512-byte UDP DNS message.
MANY = [f"10.1.{i // 250}.{i % 250 + 1}" for i in range(60)]


class Zone(ResolverBase):
    """
    An authority for a few names: C{poetry.example} has one address,
    C{many.poetry.example} has L{MANY}; any other name does not exist.
    Every query it answers is counted in C{queries}.
    """

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[bytes] = []

    def _lookup(
        self, name: bytes, cls: int, type: int, timeout: Any
    ) -> Deferred[_Records]:
        from twisted.internet.defer import fail, succeed

        self.queries.append(name)
        if name == b"poetry.example":
            addresses = ["10.0.0.7"]
        elif name == b"many.poetry.example":
            addresses = MANY
        else:
            return fail(DNSNameError(name))
        answers = [
            dns.RRHeader(name, dns.A, dns.IN, 60, dns.Record_A(address, 60), auth=True)
            for address in addresses
        ]
        return succeed((answers, [], []))


def _addresses(result: _Records) -> list[str]:
    answers, _, _ = result
    found: list[str] = []
    for record in answers:
        payload: Any = record.payload
        found.append(payload.dottedQuad())
    return found


class _TCPClientFactory(client.DNSClientFactory):
    """
    The fix for DNS over TCP: C{DNSClientFactory.buildProtocol} builds its
    L{dns.DNSProtocol} without a reactor (the query timeout then goes to
    the global reactor); this one gives it the resolver's.
    """

    def buildProtocol(self, addr: Any) -> dns.DNSProtocol:
        protocol = dns.DNSProtocol(self.controller, reactor=self.controller._reactor)
        protocol.factory = self
        return protocol


class _TruncatingServerFactory(DNSServerFactory):
    """
    A server that truncates its UDP answers to 512 bytes, as RFC 1035 asks
    (Twisted's own never truncates: its responses take the request's
    C{maxSize}, which decoding sets to 0 -- Twisted #6949).
    """

    def sendReply(self, protocol: Any, message: dns.Message, address: Any) -> None:
        if address is not None:
            message.maxSize = 512
        super().sendReply(protocol, message, address)


class NamesTestCase(MemoryNetworkTestCase):
    """
    A DNS server on the network (UDP and TCP on one port number of
    127.0.0.1), and resolvers for it.
    """

    def setUp(self) -> None:
        super().setUp()
        net = self.net
        # twisted.names takes its source ports and message ids from
        # os.urandom: take them from the network's seeded generator.
        self.patch(dns, "randomSource", lambda: net.random.randrange(1024, 65536))
        self.zone = Zone()
        self.factory = _TruncatingServerFactory(authorities=[self.zone])
        self.factory.noisy = False
        protocol = dns.DNSDatagramProtocol(self.factory, reactor=net)
        self.udp = net.listenUDP(0, protocol, interface="127.0.0.1")
        self.addCleanup(self.udp.stopListening)
        self.number = port_number(self.udp)
        self.tcp = net.listenTCP(self.number, self.factory, interface="127.0.0.1")
        self.addCleanup(self.tcp.stopListening)

    def resolver(self, **kwargs: Any) -> client.Resolver:
        """
        A resolver of the server, on the network.
        """
        resolver = client.Resolver(
            servers=[("127.0.0.1", self.number)], reactor=self.net, **kwargs
        )
        resolver.factory = _TCPClientFactory(resolver, 10)
        return resolver


class UDPTests(NamesTestCase):
    """
    Queries over UDP.
    """

    def test_addressOverUDP(self) -> None:
        """
        C{getHostByName} sends its query in a datagram and gets the address
        from the answer, without virtual time passing; the resolver's UDP
        port is closed afterwards.
        """
        resolver = self.resolver()
        address = self.net.run_until(resolver.getHostByName("poetry.example"))
        self.assertEqual(address, "10.0.0.7")
        self.assertEqual(self.zone.queries, [b"poetry.example"])
        self.assertEqual(self.net.seconds(), 0.0)
        kinds = [event.kind for event in self.net.trace]
        self.assertEqual(kinds.count("udp-send"), 2)
        self.assertEqual(kinds.count("udp-deliver"), 2)
        self.net.advance(0)
        self.assertEqual(self.net.udp.ports(), [self.udp])

    def test_unknownName(self) -> None:
        """
        A name the server does not know fails with L{DNSNameError}.
        """
        resolver = self.resolver()
        d = resolver.lookupAddress("nowhere.example")
        self.assertRaises(DNSNameError, self.net.run_until, d)

    def lookups(self, timeout: tuple[int, ...]) -> list[float]:
        """
        Twenty lookups, each after seeding the network's generator with its
        number (0 to 19): how long each that succeeded took; those that
        failed failed with L{TimeoutError}.
        """
        resolved: list[float] = []
        for seed in range(20):
            self.net.random.seed(seed)
            resolver = self.resolver(timeout=timeout)
            start = self.net.seconds()
            d = resolver.lookupAddress("poetry.example")
            try:
                outcome = self.net.run_until(d)
            except TimeoutError:
                continue
            self.assertEqual(_addresses(outcome), ["10.0.0.7"])
            resolved.append(self.net.seconds() - start)
        return resolved

    def test_retriesRecoverFromLoss(self) -> None:
        """
        With half the datagrams lost (a query and its answer both arrive a
        quarter of the time), the resolver's retries -- after 1, 3, 11 and
        45 virtual seconds -- resolve many more of the same lookups than a
        single attempt does; some only after waiting (virtual time); the
        lost datagrams are in the trace.
        """
        self.net.udp.set_default(DatagramConditions(loss=0.5))
        once = self.lookups(timeout=(1,))
        retried = self.lookups(timeout=(1, 3, 11, 45))
        self.assertGreater(len(retried), len(once))
        self.assertTrue(all(waited == 0 for waited in once))
        self.assertTrue(any(waited > 0 for waited in retried))
        drops = [e for e in self.net.trace if e.kind == "udp-drop"]
        self.assertTrue(drops)
        self.assertTrue(all(e.detail.endswith(" lost") for e in drops))

    def test_allLostTimesOut(self) -> None:
        """
        When every datagram is lost, the lookup fails with
        L{TimeoutError} once the resolver's last timeout (1 + 3 + 11 + 45
        seconds) has passed, having sent its query four times.
        """
        self.net.udp.set_for_port(self.udp, DatagramConditions(loss=1.0))
        resolver = self.resolver()
        d = resolver.lookupAddress("poetry.example")
        self.assertRaises(TimeoutError, self.net.run_until, d)
        self.assertEqual(self.net.seconds(), 60.0)
        sends = [e for e in self.net.trace if e.kind == "udp-send"]
        self.assertEqual(len(sends), 4)
        self.assertEqual(self.zone.queries, [])

    def test_latencyAndDuplicates(self) -> None:
        """
        With 50 ms each way and every datagram duplicated, the answer comes
        after 100 virtual ms; the duplicate answer is ignored by the
        resolver, the duplicate query answered by the server.
        """
        self.net.udp.set_default(DatagramConditions(latency=0.05, duplicate=1.0))
        resolver = self.resolver()
        address = self.net.run_until(resolver.getHostByName("poetry.example"))
        self.assertEqual(address, "10.0.0.7")
        self.assertAlmostEqual(self.net.seconds(), 0.1)
        self.net.advance(1)
        self.assertEqual(self.zone.queries, [b"poetry.example"] * 2)


class TCPTests(NamesTestCase):
    """
    Queries over TCP, on the port number the UDP server has.
    """

    def test_queryTCP(self) -> None:
        """
        C{queryTCP} connects to the server and gets its answer.
        """
        resolver = self.resolver()
        query = dns.Query(b"poetry.example", dns.A, dns.IN)
        message = self.net.run_until(resolver.queryTCP([query]))
        self.assertEqual(
            [r.payload.dottedQuad() for r in message.answers],
            ["10.0.0.7"],
        )
        for protocol in list(resolver.connections):
            assert protocol.transport is not None
            protocol.transport.loseConnection()
        self.net.run()

    def test_truncatedAnswerFallsBackToTCP(self) -> None:
        """
        An answer larger than a UDP DNS message (512 bytes) comes truncated
        in a datagram; the resolver asks again over TCP and gets every
        address.
        """
        resolver = self.resolver()
        result = self.net.run_until(resolver.lookupAddress("many.poetry.example"))
        self.assertEqual(_addresses(result), MANY)
        self.assertEqual(self.zone.queries, [b"many.poetry.example"] * 2)
        kinds = [event.kind for event in self.net.trace]
        self.assertIn("udp-deliver", kinds)
        self.assertIn("accept", kinds)
        for protocol in list(resolver.connections):
            assert protocol.transport is not None
            protocol.transport.loseConnection()
        self.net.run()


class _Silent(Protocol):
    """
    A DNS server over TCP that accepts and never answers.
    """


class TCPGuardTests(MemoryNetworkTestCase):
    """
    Without the fix, DNS over TCP schedules its query timeout on the global
    reactor: a query nobody answers never times out, and the harness names
    the global call and the fix.
    """

    def test_queryTCPWithoutTheFix(self) -> None:
        """
        An unmodified C{client.Resolver(reactor=net)} querying a TCP server
        that never answers: the run is stuck (L{Deadlock}: the query's
        timeout is not on the network), the report names the delayed call
        on the global reactor made from C{twisted/names} and the fix, and
        the global reactor is left clean.
        """
        reactor = stand_in_global_reactor(self)
        before = list(reactor.getDelayedCalls())

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                factory = Factory.forProtocol(_Silent)
                port = self.net.listenTCP(0, factory, interface="127.0.0.1")
                self.addCleanup(port.stopListening)
                resolver = client.Resolver(
                    servers=[("127.0.0.1", port_number(port))], reactor=self.net
                )
                query = dns.Query(b"poetry.example", dns.A, dns.IN)
                self.net.run_until(resolver.queryTCP([query]))

        result = TestResult()
        Inner("test_inner").run(result)
        problems = result.errors + result.failures
        self.assertEqual(len(problems), 1)
        [(_, failure)] = problems
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(Deadlock))
        text = failure.getErrorMessage()
        self.assertIn("global reactor", text)
        self.assertIn("_clearFailed", text)
        self.assertEqual(list(reactor.getDelayedCalls()), before)

    def test_queryTCPWithTheFixTimesOut(self) -> None:
        """
        With the fix, the same query times out after its 10 virtual
        seconds, on the network.
        """
        factory = Factory.forProtocol(_Silent)
        port = self.net.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        resolver = client.Resolver(
            servers=[("127.0.0.1", port_number(port))], reactor=self.net
        )
        resolver.factory = _TCPClientFactory(resolver, 10)
        query = dns.Query(b"poetry.example", dns.A, dns.IN)
        self.assertRaises(
            dns.DNSQueryTimeoutError,
            self.net.run_until,
            resolver.queryTCP([query], timeout=10),
        )
        self.assertEqual(self.net.seconds(), 10.0)
        for protocol in list(resolver.connections):
            assert protocol.transport is not None
            protocol.transport.loseConnection()
        self.net.run()


class DeterminismTests(MemoryNetworkTestCase):
    """
    A lookup under loss is reproducible from the seed.
    """

    def test_sameSeedSameTrace(self) -> None:
        """
        Two networks with one seed give the same trace for a lossy lookup
        (the retries fall at the same virtual times).
        """

        def run(seed: int) -> list[tuple[float, str, str]]:
            net = MemoryNetwork(seed)
            self.patch(dns, "randomSource", lambda: net.random.randrange(1024, 65536))
            zone = Zone()
            factory = DNSServerFactory(authorities=[zone])
            protocol = dns.DNSDatagramProtocol(factory, reactor=net)
            port = net.listenUDP(0, protocol, interface="127.0.0.1")
            net.udp.set_default(DatagramConditions(loss=0.4, jitter=0.02))
            resolver = client.Resolver(
                servers=[("127.0.0.1", port_number(port))], reactor=net
            )
            d = resolver.lookupAddress("poetry.example")
            d.addErrback(lambda failure: None)
            net.run_until(d)
            port.stopListening()
            net.run()
            net.assert_clean()
            return [(e.time, e.kind, e.detail) for e in net.trace]

        self.assertEqual(run(7), run(7))
        self.assertNotEqual(run(7), run(8))
