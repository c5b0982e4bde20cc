"""
The poetry services end to end on L{poetry.testing.MemoryNetwork}: clients,
fast and slow servers, the transform service and the caching proxy, on the
virtual clock (a poem that takes minutes arrives in milliseconds).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError, gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionLost, ConnectionRefusedError
from twisted.internet.protocol import Factory

from poetry import poems
from poetry.client import (
    PoemTimeout,
    PoemTruncated,
    get_poems,
    get_poetry,
    get_poetry_at,
)
from poetry.proxy import PoetryProxyFactory
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory
from poetry.testing import MemoryNetworkTestCase
from poetry.transform import TransformServerFactory, TransformService, transform
from tests.unit.test_testing_support import port_number
from tests.unread_close import GreetingEndpoint, PoemAfterUnreadFactory

POEM = bytes(range(256)) * 8  # 2048 bytes, every byte value


class PoetryTestCase(MemoryNetworkTestCase):
    """
    Helpers: serve on the network, with the ports stopped at cleanup.
    """

    def serve(self, factory: Factory[Any], interface: str = "127.0.0.1") -> int:
        port = self.net.listenTCP(0, factory, interface=interface)
        self.addCleanup(port.stopListening)
        return port_number(port)

    def slow_server(
        self, poem: bytes = POEM, chunk: int = 10, delay: float = 1.0
    ) -> int:
        return self.serve(SlowPoetryServerFactory(poem, self.net, chunk, delay))


class ClientServerTests(PoetryTestCase):
    """
    L{get_poetry} against the fast and slow servers.
    """

    def test_fastServer(self) -> None:
        """
        The whole poem arrives from the fast server without time passing.
        """
        poem = poems.load(poems.names()[0])
        port = self.serve(PoetryServerFactory(poem))
        self.assertEqual(
            self.net.run_until(get_poetry(self.net, "127.0.0.1", port)), poem
        )
        self.assertEqual(self.net.seconds(), 0.0)

    def test_slowServerTakesMinutesOfVirtualTime(self) -> None:
        """
        2048 bytes, 10 every second: the last chunk is written at 204 s of
        virtual time, and the poem arrives intact, each chunk as it was
        written.
        """
        port = self.slow_server()
        progress: list[tuple[float, int]] = []
        d = get_poetry(
            self.net,
            "127.0.0.1",
            port,
            progress=lambda count: progress.append((self.net.seconds(), count)),
        )
        self.assertEqual(self.net.run_until(d), POEM)
        self.assertEqual(self.net.seconds(), 204.0)
        self.assertEqual(len(progress), 205)
        self.assertEqual(progress[:3], [(0.0, 10), (1.0, 20), (2.0, 30)])
        self.assertEqual(progress[-1], (204.0, 2048))

    def test_severalConcurrentClients(self) -> None:
        """
        Five clients of one slow server, started a second apart, each get
        the whole poem; each finishes 204 s after it started.
        """
        port = self.slow_server()
        finished: list[float] = []

        def fetch() -> None:
            d = get_poetry(self.net, "127.0.0.1", port)
            d.addCallback(self.assertEqual, POEM)
            d.addCallback(lambda _: finished.append(self.net.seconds()))
            fetches.append(d)

        fetches: list[Any] = []
        for start in range(5):
            self.net.callLater(start, fetch)
        self.net.advance(5)
        self.net.run_until(gatherResults(fetches))
        self.assertEqual(finished, [204.0, 205.0, 206.0, 207.0, 208.0])

    def test_timeoutOnTheVirtualClock(self) -> None:
        """
        A client timeout fires on the virtual clock: L{PoemTimeout} with what
        had arrived; the server sees its connection lost and cancels its own
        timer, so nothing is left pending.
        """
        port = self.slow_server()
        d = get_poetry(self.net, "127.0.0.1", port, timeout=50)
        error = self.assertRaises(PoemTimeout, self.net.run_until, d)
        self.assertEqual(self.net.seconds(), 50.0)
        self.assertTrue(error.connected)
        self.assertEqual(error.received, POEM[:500])
        self.net.run()
        self.assertEqual(self.net.getDelayedCalls(), [])
        lost = [e for e in self.net.trace if e.kind == "connection-lost"]
        self.assertEqual(
            [(e.side, e.detail) for e in lost],
            [("client", "ConnectionAborted"), ("server", "ConnectionLost")],
        )

    def test_cancel(self) -> None:
        """
        Cancelling a fetch mid-poem fails it with L{CancelledError} and
        aborts the connection.
        """
        port = self.slow_server()
        d = get_poetry(self.net, "127.0.0.1", port)
        self.net.advance(10)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.net.run()
        self.assertEqual(self.net.open_connections(), [])

    def test_refused(self) -> None:
        """
        Nothing listening: L{ConnectionRefusedError}.
        """
        d = get_poetry(self.net, "127.0.0.1", 1)
        self.assertRaises(ConnectionRefusedError, self.net.run_until, d)

    def test_serverGoesAwayMidPoem(self) -> None:
        """
        A server that aborts mid-poem leaves the client with
        L{PoemTruncated} holding exactly the bytes that arrived.
        """
        factory = SlowPoetryServerFactory(POEM, self.net, 100, 1.0)
        port = self.serve(factory)
        d = get_poetry(self.net, "127.0.0.1", port)
        self.net.advance(3.5)
        (_client, server) = self.net.open_connections()[0]
        server.abortConnection()
        error = self.assertRaises(PoemTruncated, self.net.run_until, d)
        self.assertEqual(error.received, POEM[:400])
        self.assertTrue(error.reason.check(ConnectionLost))

    def test_getPoems(self) -> None:
        """
        L{get_poems} fetches from several servers at once; one failure does
        not stop the others.
        """
        fast = self.serve(PoetryServerFactory(b"fast poem"))
        slow = self.slow_server(b"slow poem", 3, 2.0)
        results = self.net.run_until(
            get_poems(
                self.net, [("127.0.0.1", fast), ("127.0.0.1", 1), ("127.0.0.1", slow)]
            )
        )
        self.assertEqual([r.poem for r in results], [b"fast poem", None, b"slow poem"])
        failure = results[1].failure
        assert failure is not None
        self.assertTrue(failure.check(ConnectionRefusedError))
        self.assertEqual(self.net.seconds(), 4.0)


class CloseWithUnreadTests(PoetryTestCase):
    """
    A server that writes its poem and closes while the client's own bytes
    are still unread: the real reactor shuts the socket down (FIN) before
    closing it (RST for the unread bytes), so the client reads the whole
    poem and a clean close -- and so does the memory network.
    """

    def test_wholePoem(self) -> None:
        """
        C{get_poetry_at} (through an endpoint whose client sends a greeting
        the server never reads) returns the whole poem.
        """
        poem = poems.load("lighthouse")
        port = self.serve(PoemAfterUnreadFactory(poem, self.net))
        endpoint = GreetingEndpoint(TCP4ClientEndpoint(self.net, "127.0.0.1", port))
        self.assertEqual(self.net.run_until(get_poetry_at(endpoint, self.net)), poem)


class TransformTests(PoetryTestCase):
    """
    The transform service and client.
    """

    def test_transform(self) -> None:
        """
        The transform client gets the transformed poem back.
        """
        port = self.serve(TransformServerFactory(TransformService(), self.net))
        d = transform(self.net, "127.0.0.1", port, "upper", b"a small poem\n")
        self.assertEqual(self.net.run_until(d), b"A SMALL POEM\n")


class ProxyTests(PoetryTestCase):
    """
    Clients, the caching proxy and a slow upstream server.
    """

    def test_clientsShareOneUpstreamFetch(self) -> None:
        """
        Several clients of the proxy, connected while the slow upstream is
        still sending, all get the poem after one upstream fetch; a later
        client is served from the cache at once.
        """
        upstream = self.slow_server()
        proxy = self.serve(
            PoetryProxyFactory(self.net, "127.0.0.1", upstream, upstream_timeout=600)
        )
        fetches = [get_poetry(self.net, "127.0.0.1", proxy) for _ in range(4)]
        self.assertEqual(self.net.run_until(gatherResults(fetches)), [POEM] * 4)
        self.assertEqual(self.net.seconds(), 204.0)
        upstream_connections = [
            e
            for e in self.net.trace
            if e.kind == "connect" and e.detail == f"127.0.0.1:{upstream}"
        ]
        self.assertEqual(len(upstream_connections), 1)
        self.assertEqual(
            self.net.run_until(get_poetry(self.net, "127.0.0.1", proxy)), POEM
        )
        self.assertEqual(self.net.seconds(), 204.0)

    def test_proxyWithTransform(self) -> None:
        """
        A proxy that passes the poem through the transform service serves
        the transformed poem.
        """
        upstream = self.serve(PoetryServerFactory(b"shout this\n"))
        transformer = self.serve(TransformServerFactory(TransformService(), self.net))
        proxy = self.serve(
            PoetryProxyFactory(
                self.net,
                "127.0.0.1",
                upstream,
                transform=("127.0.0.1", transformer, "upper"),
            )
        )
        d = get_poetry(self.net, "127.0.0.1", proxy)
        self.assertEqual(self.net.run_until(d), b"SHOUT THIS\n")

    def test_upstreamDownFailsEveryClient(self) -> None:
        """
        With the upstream server gone, every waiting client fails (none
        mistakes the abort for an empty poem).
        """
        proxy = self.serve(PoetryProxyFactory(self.net, "127.0.0.1", 1))
        fetches = [get_poetry(self.net, "127.0.0.1", proxy) for _ in range(3)]
        for d in fetches:
            error = self.assertRaises(PoemTruncated, self.net.run_until, d)
            self.assertEqual(error.received, b"")
        self.assertEqual(self.net.open_connections(), [])
