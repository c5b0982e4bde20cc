"""
The poetry services under link conditions and faults, on
L{poetry.testing.MemoryNetwork}: every client/server pair under
byte-at-a-time, seeded random and every-split chunkings; resets, hangs,
refusals and partitions, directly and behind the caching proxy; and a
seeded-chaos sweep of a client <-> proxy <-> slow-server world that must
reach its declared "sometimes" points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.error import ConnectionLost, ConnectionRefusedError, TimeoutError
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory
from twisted.logger import ILogObserver, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from poetry import poems
from poetry.client import PoemTimeout, PoemTruncated, get_poetry
from poetry.proxy import PoetryProxyFactory
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory
from poetry.testing import (
    ONE_BYTE,
    SERVER_TO_CLIENT,
    Chaos,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    RandomSizes,
    Sweep,
    SweepResult,
    assert_every_split,
    reached,
    recording_points,
    sometimes,
)
from poetry.transform import TransformServerFactory, TransformService, transform
from tests.unit.test_testing_support import port_number
from tests.unit.test_testing_sweep import FORK

CAFE = poems.load("cafe")
"""
575 bytes of UTF-8 with 20 continuation bytes: many split points fall
inside a character.
"""

SHORT = "Ça va? Café, crème, søster — ølen er god.\n".encode()
"""
49 bytes; its transform request is 59 bytes, short enough for every pair of
split points.
"""

HOSTS = {
    "server": "10.0.0.2",
    "proxy": "10.0.0.3",
    "transformer": "10.0.0.4",
    "client": "10.0.1.1",
}


def mid_character_offsets(text: bytes) -> list[int]:
    """
    The offsets of C{text} that fall inside a multi-byte UTF-8 character.
    """
    return [k for k in range(1, len(text)) if text[k] & 0xC0 == 0x80]


def netstring(payload: bytes) -> bytes:
    """
    C{payload} as a netstring.
    """
    return b"%d:%s," % (len(payload), payload)


def finish(net: MemoryNetwork, *ports: IListeningPort) -> None:
    """
    Stop the ports, let everything end, and check nothing is left.
    """
    for port in ports:
        port.stopListening()
    net.run()
    net.assert_clean()


# -- scenarios: each builds its world on the network it is given, fetches,
# -- checks the result (decoded at the edge) and leaves the network clean.


def fast_server(poem: bytes) -> Callable[[MemoryNetwork], None]:
    """
    L{get_poetry} <-> L{PoetryServerFactory}.
    """

    def scenario(net: MemoryNetwork) -> None:
        port = net.listenTCP(0, PoetryServerFactory(poem), interface="127.0.0.1")
        got = net.run_until(get_poetry(net, "127.0.0.1", port_number(port)))
        finish(net, port)
        check_poem(got, poem)

    return scenario


def slow_server(poem: bytes) -> Callable[[MemoryNetwork], None]:
    """
    L{get_poetry} <-> L{SlowPoetryServerFactory} (25 bytes per second).
    """

    def scenario(net: MemoryNetwork) -> None:
        factory = SlowPoetryServerFactory(poem, net, chunk_size=25, delay=1.0)
        port = net.listenTCP(0, factory, interface="127.0.0.1")
        got = net.run_until(get_poetry(net, "127.0.0.1", port_number(port)))
        finish(net, port)
        check_poem(got, poem)

    return scenario


def through_proxy(poem: bytes) -> Callable[[MemoryNetwork], None]:
    """
    Two L{get_poetry} clients <-> L{PoetryProxyFactory} <-> a slow server;
    every host its own.
    """

    def scenario(net: MemoryNetwork) -> None:
        add_hosts(net)
        factory = SlowPoetryServerFactory(poem, net, chunk_size=100, delay=0.5)
        server = net.host("server").listenTCP(0, factory)
        proxy_factory = PoetryProxyFactory(
            net.host("proxy"), "server", port_number(server)
        )
        proxy = net.host("proxy").listenTCP(0, proxy_factory)
        client = net.host("client")
        fetches = [get_poetry(client, "proxy", port_number(proxy)) for _ in range(2)]
        results = net.run_until(DeferredList(fetches, consumeErrors=True))
        finish(net, server, proxy)
        for ok, got in results:
            if not ok:
                raise AssertionError(f"a proxy client failed: {got!r}")
            check_poem(got, poem)
        if proxy_factory.cache.cached() != poem:
            raise AssertionError("the proxy did not cache the poem")

    return scenario


def transformed(poem: bytes) -> Callable[[MemoryNetwork], None]:
    """
    L{transform} <-> L{TransformServerFactory}: upper-case the poem.
    """

    def scenario(net: MemoryNetwork) -> None:
        factory = TransformServerFactory(TransformService(), net)
        port = net.listenTCP(0, factory, interface="127.0.0.1")
        got = net.run_until(
            transform(net, "127.0.0.1", port_number(port), "upper", poem)
        )
        finish(net, port)
        check_poem(got, poem.decode("utf-8").upper().encode("utf-8"))

    return scenario


def check_poem(got: bytes, expected: bytes) -> None:
    """
    The poem arrived intact and decodes -- at the edge -- to the expected
    text.
    """
    if got != expected:
        raise AssertionError(f"{len(got)} bytes, not the expected {len(expected)}")
    if got.decode("utf-8") != expected.decode("utf-8"):
        raise AssertionError("the poem does not decode to the expected text")


def add_hosts(net: MemoryNetwork) -> None:
    for name, address in HOSTS.items():
        net.add_host(name, address)


PAIRS: dict[str, Callable[[bytes], Callable[[MemoryNetwork], None]]] = {
    "fast server": fast_server,
    "slow server": slow_server,
    "proxy": through_proxy,
    "transform": transformed,
}


class ChunkingTests(SynchronousTestCase):
    """
    Every pair gets its poem intact however the stream is cut.
    """

    def run_pairs(self, conditions: LinkConditions, seeds: range = range(1)) -> None:
        for name, pair in PAIRS.items():
            for seed in seeds:
                net = MemoryNetwork(seed, link=conditions)
                try:
                    pair(CAFE)(net)
                except AssertionError as e:
                    self.fail(f"{name}, seed {seed}: {e}")

    def test_oneByteAtATime(self) -> None:
        """
        One byte per C{dataReceived}, both directions: every pair works.
        """
        self.run_pairs(LinkConditions(chunking=ONE_BYTE))

    def test_randomSizes(self) -> None:
        """
        Seeded random piece sizes (1 to 16 bytes), 10 seeds: every pair
        works.
        """
        self.run_pairs(LinkConditions(chunking=RandomSizes(1, 16)), range(10))

    def test_randomSizesWithLatencyAndJitter(self) -> None:
        """
        Random pieces, latency and jitter together: every pair works.
        """
        self.run_pairs(
            LinkConditions(chunking=RandomSizes(1, 64), latency=0.05, jitter=0.2),
            range(5),
        )

    def test_splitsFallInsideCharacters(self) -> None:
        """
        The split points below include offsets inside multi-byte
        characters of both poems (so "decodes at the edge" is tested).
        """
        self.assertEqual(len(mid_character_offsets(CAFE)), 20)
        self.assertGreater(len(mid_character_offsets(SHORT)), 5)
        self.assertLessEqual(len(netstring(b"upper." + SHORT)), 64)

    def test_everySplitFastServer(self) -> None:
        """
        The fast server's poem, cut at each of its 574 points; and the short
        poem at every pair of points.
        """
        self.assertEqual(assert_every_split(fast_server(CAFE), CAFE, seed=1), 574)
        self.assertEqual(
            assert_every_split(fast_server(SHORT), SHORT, seed=1), 48 + 48 * 47 // 2
        )

    def test_everySplitSlowServer(self) -> None:
        """
        The slow server's stream, cut at each point.
        """
        self.assertEqual(
            assert_every_split(
                slow_server(CAFE), CAFE, seed=1, direction=SERVER_TO_CLIENT
            ),
            574,
        )

    def test_everySplitThroughTheProxy(self) -> None:
        """
        Both hops of the proxy cut at each point of the poem.
        """
        self.assertEqual(assert_every_split(through_proxy(CAFE), CAFE, seed=1), 574)

    def test_everySplitTransform(self) -> None:
        """
        The transform request and reply cut at every point of the request
        (and every pair of points for the short poem).
        """
        request = netstring(b"upper." + CAFE)
        self.assertEqual(
            assert_every_split(transformed(CAFE), request, seed=1), len(request) - 1
        )
        short = netstring(b"upper." + SHORT)
        self.assertEqual(
            assert_every_split(transformed(SHORT), short, seed=1),
            (len(short) - 1) + (len(short) - 1) * (len(short) - 2) // 2,
        )


class FaultTests(MemoryNetworkTestCase):
    """
    A client and a server under faults.
    """

    def setUp(self) -> None:
        super().setUp()
        add_hosts(self.net)

    def serve(self, factory: Factory[Any], host: str = "server") -> IListeningPort:
        port = self.net.host(host).listenTCP(0, factory)
        self.addCleanup(port.stopListening)
        return port

    def fetch(
        self, port: IListeningPort, timeout: float | None = None
    ) -> Deferred[bytes]:
        return get_poetry(
            self.net.host("client"), "server", port_number(port), timeout=timeout
        )

    def test_resetMidPoem(self) -> None:
        """
        A reset after 100 bytes of the fast server's poem: L{PoemTruncated}
        with exactly the first 100 bytes, lost with L{ConnectionLost}.
        """
        port = self.serve(PoetryServerFactory(CAFE))
        self.net.faults.reset(port, after_bytes=100, direction=SERVER_TO_CLIENT)
        error = self.assertRaises(PoemTruncated, self.net.run_until, self.fetch(port))
        self.assertEqual(error.received, CAFE[:100])
        self.assertTrue(error.reason.check(ConnectionLost))

    def test_resetMidChunkOfTheSlowServer(self) -> None:
        """
        A reset in the middle of a chunk of the slow server: exactly the
        bytes before the cut, at the time of the chunk that was cut.
        """
        port = self.serve(SlowPoetryServerFactory(CAFE, self.net, 10, 1.0))
        self.net.faults.reset(port, after_bytes=95, direction=SERVER_TO_CLIENT)
        error = self.assertRaises(PoemTruncated, self.net.run_until, self.fetch(port))
        self.assertEqual(error.received, CAFE[:95])
        self.assertEqual(self.net.seconds(), 9.0)

    def test_hangTimesOutWithTheClientTimeout(self) -> None:
        """
        A server that never answers: L{PoemTimeout} at exactly the client's
        timeout, while connecting.
        """
        port = self.serve(PoetryServerFactory(CAFE))
        self.net.faults.hang(port)
        error = self.assertRaises(
            PoemTimeout, self.net.run_until, self.fetch(port, timeout=10)
        )
        self.assertEqual(self.net.seconds(), 10.0)
        self.assertFalse(error.connected)

    def test_hangTimesOutWithTheConnectTimeout(self) -> None:
        """
        Without a client timeout, the reactor's connect timeout (30 s, as
        L{get_poetry} asks) fails the fetch with L{TimeoutError}.
        """
        port = self.serve(PoetryServerFactory(CAFE))
        self.net.faults.hang(port)
        self.assertRaises(TimeoutError, self.net.run_until, self.fetch(port))
        self.assertEqual(self.net.seconds(), 30.0)

    def test_refusedThenServed(self) -> None:
        """
        A refused connection fails with L{ConnectionRefusedError}; once the
        fault is lifted, the next client gets the poem.
        """
        port = self.serve(PoetryServerFactory(CAFE))
        self.net.faults.refuse(port)
        self.assertRaises(ConnectionRefusedError, self.net.run_until, self.fetch(port))
        self.net.faults.stop_refusing(port)
        self.assertEqual(self.net.run_until(self.fetch(port)), CAFE)

    def test_partitionMidPoemAndClientTimeout(self) -> None:
        """
        A partition between client and slow server at t=4.5: the client
        times out at t=20 with exactly the five chunks sent before it; after
        the heal everything closes.
        """
        port = self.serve(SlowPoetryServerFactory(CAFE, self.net, 10, 1.0))
        self.net.faults.at(4.5).partition("client", "server")
        error = self.assertRaises(
            PoemTimeout, self.net.run_until, self.fetch(port, timeout=20)
        )
        self.assertEqual(self.net.seconds(), 20.0)
        self.assertTrue(error.connected)
        self.assertEqual(error.received, CAFE[:50])
        self.net.faults.heal("client", "server")
        self.net.run()


class ProxyFaultTests(MemoryNetworkTestCase):
    """
    The caching proxy when its upstream resets, hangs or is cut off: no
    partial poem is cached and every waiting client is told.
    """

    def setUp(self) -> None:
        super().setUp()
        add_hosts(self.net)

    def world(
        self, server_factory: Factory[Any], upstream_timeout: float = 10.0
    ) -> tuple[IListeningPort, IListeningPort, PoetryProxyFactory]:
        server = self.net.host("server").listenTCP(0, server_factory)
        self.addCleanup(server.stopListening)
        proxy_factory = PoetryProxyFactory(
            self.net.host("proxy"),
            "server",
            port_number(server),
            upstream_timeout=upstream_timeout,
        )
        proxy = self.net.host("proxy").listenTCP(0, proxy_factory)
        self.addCleanup(proxy.stopListening)
        return server, proxy, proxy_factory

    def clients(self, proxy: IListeningPort, count: int = 3) -> list[Any]:
        """
        Start C{count} clients; run until all have an outcome; return the
        L{DeferredList} results.
        """
        fetches = [
            get_poetry(self.net.host("client"), "proxy", port_number(proxy))
            for _ in range(count)
        ]
        results: list[Any] = self.net.run_until(
            DeferredList(fetches, consumeErrors=True)
        )
        return results

    def assertAllTold(self, results: list[Any]) -> None:
        """
        Every client failed -- none mistook the proxy's abort for a poem.
        """
        self.assertEqual(len(results), 3)
        for ok, failure in results:
            self.assertFalse(ok)
            self.assertTrue(failure.check(PoemTruncated))
            self.assertEqual(failure.value.received, b"")

    def test_upstreamResets(self) -> None:
        """
        The upstream connection is reset after 100 bytes: every waiting
        client fails, nothing is cached, and the next client (the reset rule
        used up) gets the whole poem.
        """
        server, proxy, factory = self.world(PoetryServerFactory(CAFE))
        self.net.faults.reset(
            server, after_bytes=100, direction=SERVER_TO_CLIENT, limit=1
        )
        self.assertAllTold(self.clients(proxy))
        self.assertIsNone(factory.cache.cached())
        self.assertEqual(
            self.net.run_until(
                get_poetry(self.net.host("client"), "proxy", port_number(proxy))
            ),
            CAFE,
        )
        self.assertEqual(factory.cache.cached(), CAFE)

    def test_upstreamHangs(self) -> None:
        """
        The upstream server never answers: at the upstream timeout every
        waiting client fails; nothing is cached.
        """
        server, proxy, factory = self.world(PoetryServerFactory(CAFE), 5.0)
        self.net.faults.hang(server)
        self.assertAllTold(self.clients(proxy))
        self.assertEqual(self.net.seconds(), 5.0)
        self.assertIsNone(factory.cache.cached())
        self.net.faults.stop_hanging(server)
        self.assertEqual(
            self.net.run_until(
                get_poetry(self.net.host("client"), "proxy", port_number(proxy))
            ),
            CAFE,
        )

    def test_upstreamPartitioned(self) -> None:
        """
        The proxy is cut off from the slow server mid-poem: at the upstream
        timeout every waiting client fails, the partial poem is not cached;
        clients, on their own hosts, are not cut off from the proxy.
        """
        _server, proxy, factory = self.world(
            SlowPoetryServerFactory(CAFE, self.net, 50, 1.0), 20.0
        )
        self.net.faults.at(2.5).partition("proxy", "server")
        self.assertAllTold(self.clients(proxy))
        self.assertEqual(self.net.seconds(), 20.0)
        self.assertIsNone(factory.cache.cached())
        self.net.faults.heal("proxy", "server")
        self.net.run()
        self.assertEqual(
            self.net.run_until(
                get_poetry(self.net.host("client"), "proxy", port_number(proxy))
            ),
            CAFE,
        )


SWEEP_POEM = b"Small poem, sent slowly:\nten bytes at a time.\n"

CHAOS_POINTS = {
    # The cases a chaos sweep is for: each must happen for some seed.
    "coalesced waiters when upstream fails": 1,
    "TTL expiry during a fetch": 1,
    "client cancel while upstream is mid-poem": 1,
    # Outcomes: faults make some clients fail, every way, and most seeds
    # still serve some client the poem.
    "a client got the poem": 100,
    "a client failed: PoemTruncated": 1,
    "a client failed: PoemTimeout": 1,
    "a client failed: ConnectionRefusedError": 1,
}


@implementer(ILogObserver)
class _ProxyWatch:
    """
    Turns the proxy's log events (its documented behaviour) into
    "sometimes" points of the chaos sweep:

      - I{coalesced waiters when upstream fails}: an upstream fetch fails
        while two or more clients wait on it;
      - I{TTL expiry during a fetch}: a client misses the cache because the
        poem it held expired (a poem had been served before) while another
        client's fetch from the proxy is still in progress;
      - I{client cancel while upstream is mid-poem}: a client leaves the
        proxy while the proxy has read some, but not all, of the poem from
        upstream.
    """

    def __init__(self, net: MemoryNetwork, server: tuple[str, int]) -> None:
        self.net = net
        self.server = server
        self.served = False
        self.in_flight = 0

    def upstream_read(self) -> int | None:
        """
        How many bytes of the poem the proxy has read from the open upstream
        connection, if there is one.
        """
        for client, server in self.net.open_connections():
            peer = client.getPeer()
            if (peer.host, peer.port) == self.server:
                return len(server.written()) - server.unread_outgoing()
        return None

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("log_namespace") != "poetry.proxy":
            return
        text = event.get("log_format", "")
        if text.startswith("Fetching the poem"):
            sometimes(event["waiting"] >= 2, "coalesced waiters when upstream fails")
        elif text.startswith("Cache miss"):
            # This client is in flight itself: another one must be too.
            sometimes(self.served and self.in_flight > 1, "TTL expiry during a fetch")
        elif text.startswith("Client {peer} left"):
            read = self.upstream_read()
            sometimes(
                read is not None and 0 < read < len(SWEEP_POEM),
                "client cancel while upstream is mid-poem",
            )


def chaos_world(seed: int) -> tuple[list[Any], PoetryProxyFactory, MemoryNetwork]:
    """
    One seed of the sweep: a slow server (10 bytes every 0.5 s), the caching
    proxy (upstream timeout 6 s, poems fresh for 0.5 s), and 4 clients
    (timeout 8 s) starting at random times in the first 4 s, each on its
    own host, under L{Chaos} (faults in the first 4 s, lasting up to 10 s).
    Run until every client has an outcome, then close the listeners and
    run until nothing is left.  The proxy's log events are turned into
    "sometimes" points meanwhile (see L{_ProxyWatch}).
    """
    net = MemoryNetwork(
        seed, faults=Chaos(horizon=4.0, max_bytes=60, max_duration=10.0)
    )
    add_hosts(net)
    server = net.host("server").listenTCP(
        0, SlowPoetryServerFactory(SWEEP_POEM, net, 10, 0.5)
    )
    proxy_factory = PoetryProxyFactory(
        net.host("proxy"), "server", port_number(server), upstream_timeout=6.0, ttl=0.5
    )
    proxy = net.host("proxy").listenTCP(0, proxy_factory)
    watch = _ProxyWatch(net, (HOSTS["server"], port_number(server)))
    fetches: list[Deferred[bytes]] = []

    def served(poem: bytes) -> bytes:
        watch.in_flight -= 1
        watch.served = watch.served or poem == SWEEP_POEM
        return poem

    def failed(failure: Failure) -> Failure:
        watch.in_flight -= 1
        return failure

    for index in range(4):
        d: Deferred[bytes] = Deferred()
        fetches.append(d)

        def start(index: int = index, d: Deferred[bytes] = d) -> None:
            watch.in_flight += 1
            client = net.host(f"10.0.1.{index + 1}")
            fetch = get_poetry(client, "proxy", port_number(proxy), timeout=8.0)
            fetch.addCallbacks(served, failed).chainDeferred(d)

        net.callLater(net.random.uniform(0, 4), start)
    globalLogPublisher.addObserver(watch)
    try:
        results = net.run_until(DeferredList(fetches, consumeErrors=True))
    finally:
        globalLogPublisher.removeObserver(watch)
    server.stopListening()
    proxy.stopListening()
    net.run()
    return results, proxy_factory, net


def chaos_scenario(seed: int) -> None:
    """
    One seed of the chaos sweep, checked: every client ends with either the
    exact poem or a failure; nothing is left pending (connections, timers,
    ports); the proxy's cache holds nothing or the exact poem.  Each
    client's outcome is a point.
    """
    results, factory, net = chaos_world(seed)
    net.assert_clean()
    cached = factory.cache.cached()
    if cached not in (None, SWEEP_POEM):
        raise AssertionError(f"the proxy cached {cached!r}")
    for ok, value in results:
        if ok:
            if value != SWEEP_POEM:
                raise AssertionError(f"a client got {value!r}\n{net.trace_dump()}")
            reached("a client got the poem")
        else:
            reached(f"a client failed: {value.type.__name__}")


PROXY_CHAOS = Sweep(chaos_scenario, CHAOS_POINTS)
"""
The chaos sweep of client <-> proxy <-> slow server; to run it on more
seeds, sharded across machines: C{python -m poetry.testing sweep
tests.unit.test_poetry_under_faults:PROXY_CHAOS --seeds 0:100000 --shard
1/8 --save shard-1.json}, then C{python -m poetry.testing merge
shard-*.json}.
"""


class ChaosSweepTests(SynchronousTestCase):
    """
    Seeded chaos over client <-> proxy <-> slow server.
    """

    def test_invariantsHoldForEverySeed(self) -> None:
        """
        For each of 250 seeds the invariants of L{chaos_scenario} hold, and
        across the sweep every point of L{CHAOS_POINTS} is reached (the
        interesting cases, and every kind of client failure).
        """
        result = PROXY_CHAOS.run(range(250), test_id=self.id())
        self.assertEqual(result.runs, 250)
        self.assertEqual(result.unreached, [])
        for name in CHAOS_POINTS:
            first = result.points[name].first_seed
            assert first is not None
            with recording_points() as points:
                chaos_scenario(first)
            self.assertIn(name, points.hits, f"replaying seed {first}")

    def test_shardedSweepEqualsTheWholeSweep(self) -> None:
        """
        The sweep cut into three shards, merged, and the sweep run in two
        worker processes, both give exactly the result of the plain sweep.
        """
        seeds = range(90)
        whole = PROXY_CHAOS.run(seeds, check=False)
        shards = [
            PROXY_CHAOS.run(seeds, shard=f"{i}/3", check=False) for i in (2, 3, 1)
        ]
        self.assertEqual(SweepResult.merge(shards), whole)
        parallel = PROXY_CHAOS.run(seeds, workers=2, mp_context=FORK, check=False)
        self.assertEqual(parallel, whole)
        self.assertGreater(whole.points["a client got the poem"].runs, 0)
