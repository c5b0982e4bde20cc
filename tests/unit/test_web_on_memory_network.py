"""
Unmodified C{twisted.web} over L{MemoryNetwork}: a L{Site} serving
resources, L{Agent} and L{HTTPConnectionPool} fetching from it, a reverse
proxy in between, C{static.File} -- each scenario under the default
delivery (each write whole), one-byte chunking and random chunking (from the
network's seed).

Nothing here is adapted to the harness beyond injecting the network where
Twisted takes a reactor (C{Site(reactor=net)}, C{Agent(net)},
C{HTTPConnectionPool(net)}, C{ReverseProxyResource(..., reactor=net)},
C{FileBodyProducer(..., cooperator=net.cooperator())}).  C{static.File}
takes none: C{HTTPChannel} drives its pull producer with the module-level
C{task.cooperate}; L{StaticFileGuardTests} shows the global-reactor guard
catching that, and the scenarios use the documented fix,
L{route_global_cooperator}.
"""

from __future__ import annotations

import io
from typing import Any, ClassVar

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.reporter import TestResult
from twisted.web import static
from twisted.web.client import (
    Agent,
    FileBodyProducer,
    HTTPConnectionPool,
    readBody,
)
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH, IResponse
from twisted.web.proxy import ReverseProxyResource
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from poetry.testing import (
    ONE_BYTE,
    MemoryNetworkTestCase,
    RandomSizes,
    StepBudgetExceeded,
    route_global_cooperator,
)
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import ChunkedScenarios, port_number

#: A body big enough to take many pieces under every chunking policy.
BODY = bytes(range(256)) * 32  # 8 KiB


class _Bytes(Resource):
    """
    C{GET} gives C{BODY} (with a C{Content-Length}); C{POST} echoes the
    request body, reversed.
    """

    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"application/octet-stream")
        return BODY

    def render_POST(self, request: Request) -> bytes:
        assert request.content is not None
        return bytes(request.content.read()[::-1])


class _Chunked(Resource):
    """
    Writes C{BODY} in 1 KiB writes, one per virtual second, without a
    length: chunked transfer encoding.
    """

    isLeaf = True

    def __init__(self, clock: Any) -> None:
        super().__init__()
        self.clock = clock

    def render_GET(self, request: Request) -> object:
        pieces = [BODY[i : i + 1024] for i in range(0, len(BODY), 1024)]

        def next_piece() -> None:
            if request.finished or getattr(request, "_disconnected", False):
                return
            if pieces:
                request.write(pieces.pop(0))
                self.clock.callLater(1, next_piece)
            else:
                request.finish()

        next_piece()
        return NOT_DONE_YET


class _Tree(Resource):
    def __init__(self, clock: Any) -> None:
        super().__init__()
        self.putChild(b"bytes", _Bytes())
        self.putChild(b"chunked", _Chunked(clock))


class _WebScenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.  (A L{Site} keeps a one-second timer
    on the network while it listens, for its log dates: the scenarios wait
    with C{run_until} and settle with C{advance(0)}, since C{run()} would
    find that timer loop.)
    """

    #: The largest piece a C{dataReceived} may get (L{None}: whole writes).
    largest_piece: ClassVar[int | None] = None

    def setUp(self) -> None:
        super().setUp()
        site = Site(_Tree(self.net), reactor=self.net)
        self.port = self.net.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.base = b"http://127.0.0.1:%d" % (port_number(self.port),)

    def fetch(
        self, agent: Agent, path: bytes, **kwargs: Any
    ) -> tuple[IResponse, bytes]:
        response = self.net.run_until(agent.request(b"GET", self.base + path, **kwargs))
        body = self.net.run_until(readBody(response))
        return response, body

    def accepted(self) -> int:
        """
        How many connections the network accepted so far.
        """
        return sum(event.kind == "accept" for event in self.net.trace)

    def test_get(self) -> None:
        """
        L{Agent} fetches a resource from a L{Site}: status, headers, length
        and every byte; the connection closes (no pool).  The bytes did
        arrive in the pieces the chunking policy makes.
        """
        response, body = self.fetch(Agent(self.net), b"/bytes")
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.headers.getRawHeaders(b"content-type"),
            [b"application/octet-stream"],
        )
        self.assertEqual((response.length, body), (len(BODY), BODY))
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])
        pieces = [
            int(event.detail.split()[0])
            for event in self.net.trace
            if event.kind == "deliver"
        ]
        if self.largest_piece is None:
            # As on loopback TCP: what the server wrote in one turn (the
            # headers and the whole body) arrives in one read.
            self.assertGreaterEqual(max(pieces), len(BODY))
        else:
            self.assertLessEqual(max(pieces), self.largest_piece)
            self.assertGreater(len(pieces), len(BODY) // self.largest_piece)

    def test_notFound(self) -> None:
        """
        An unknown path is a 404 with Twisted's page.
        """
        response, body = self.fetch(Agent(self.net), b"/nothing")
        self.assertEqual(response.code, 404)
        self.assertIn(b"No Such Resource", body)

    def test_chunkedEncoding(self) -> None:
        """
        A resource that writes without a length is sent chunked (the
        response has no length), one piece per virtual second, and arrives
        whole.
        """
        response, body = self.fetch(Agent(self.net), b"/chunked")
        self.assertIs(response.length, UNKNOWN_LENGTH)
        self.assertEqual(body, BODY)
        self.assertEqual(self.net.seconds(), 8.0)

    def test_postWithFileBodyProducer(self) -> None:
        """
        A C{POST} whose body comes from a L{FileBodyProducer} on the
        network's cooperator reaches the server, which echoes it reversed.
        """
        producer = FileBodyProducer(
            io.BytesIO(BODY), cooperator=self.net.cooperator(), readSize=1000
        )
        d = Agent(self.net).request(
            b"POST",
            self.base + b"/bytes",
            Headers({b"content-type": [b"application/octet-stream"]}),
            producer,
        )
        response = self.net.run_until(d)
        self.assertEqual(self.net.run_until(readBody(response)), BODY[::-1])

    def test_persistentPool(self) -> None:
        """
        With a persistent L{HTTPConnectionPool}, three requests share one
        connection, kept in the pool (its idle timer on the network's clock)
        until the pool is closed.
        """
        pool = HTTPConnectionPool(self.net, persistent=True)
        agent = Agent(self.net, pool=pool)
        for _ in range(3):
            _, body = self.fetch(agent, b"/bytes")
            self.assertEqual(body, BODY)
        self.assertEqual(self.accepted(), 1)
        self.assertEqual(len(self.net.open_connections()), 1)
        self.assertIn(
            "HTTPConnectionPool._removeConnection",
            "\n".join(repr(call) for call in self.net.getDelayedCalls()),
        )
        self.net.run_until(pool.closeCachedConnections())
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_pooledConnectionExpires(self) -> None:
        """
        A cached connection idle for C{cachedConnectionTimeout} virtual
        seconds is closed by the pool; the next request opens a new one.
        """
        pool = HTTPConnectionPool(self.net, persistent=True)
        pool.cachedConnectionTimeout = 10
        agent = Agent(self.net, pool=pool)
        self.fetch(agent, b"/bytes")
        self.net.advance(9.5)
        self.assertEqual(len(self.net.open_connections()), 1)
        self.net.advance(0.5)
        self.assertEqual(self.net.open_connections(), [])
        self.fetch(agent, b"/bytes")
        self.assertEqual(self.accepted(), 2)
        self.net.run_until(pool.closeCachedConnections())

    def test_serverIdleTimeout(self) -> None:
        """
        A client that connects and says nothing is dropped by the
        L{Site}'s idle timeout (C{timeout=} seconds of virtual time).
        """
        site = Site(_Tree(self.net), reactor=self.net, timeout=30)
        port = self.net.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        lost: Deferred[None] = Deferred()

        class Silent(Protocol):
            def connectionLost(self, reason: Failure = connectionDone) -> None:
                lost.callback(None)

        endpoint = TCP4ClientEndpoint(self.net, "127.0.0.1", port_number(port))
        self.net.run_until(connectProtocol(endpoint, Silent()))
        self.net.run_until(lost)
        self.assertEqual(self.net.seconds(), 30.0)

    def test_reverseProxy(self) -> None:
        """
        A L{ReverseProxyResource} (connecting on the network) in front of
        the site: the client gets the backend's bytes through two HTTP
        connections.
        """
        proxy = Site(
            ReverseProxyResource("127.0.0.1", port_number(self.port), b"", self.net),
            reactor=self.net,
        )
        front = self.net.listenTCP(0, proxy, interface="127.0.0.1")
        self.addCleanup(front.stopListening)
        url = b"http://127.0.0.1:%d/bytes" % (port_number(front),)
        response = self.net.run_until(Agent(self.net).request(b"GET", url))
        self.assertEqual(self.net.run_until(readBody(response)), BODY)
        self.assertEqual(self.accepted(), 2)
        self.net.advance(0)

    def test_staticFile(self) -> None:
        """
        C{static.File} serves a file through L{HTTPChannel}'s pull-producer
        adapter, once the module-level cooperator is routed to the network
        (L{route_global_cooperator}, the documented fix).
        """
        self.addCleanup(route_global_cooperator(self.net))
        path = FilePath(self.mktemp())
        path.makedirs()
        path.child("poem.bin").setContent(BODY * 4)
        site = Site(static.File(path.path), reactor=self.net)
        port = self.net.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        url = b"http://127.0.0.1:%d/poem.bin" % (port_number(port),)
        response = self.net.run_until(Agent(self.net).request(b"GET", url))
        self.assertEqual(response.length, len(BODY) * 4)
        self.assertEqual(self.net.run_until(readBody(response)), BODY * 4)
        self.net.advance(0)


class DefaultDeliveryWebTests(_WebScenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteWebTests(_WebScenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE
    largest_piece = 1


class RandomChunkingWebTests(_WebScenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 700)
    largest_piece = 700


class StaticFileGuardTests(MemoryNetworkTestCase):
    """
    Without the fix, C{static.File} schedules on the global cooperator: the
    guard of L{MemoryNetworkTestCase} names it and the fix.
    """

    def test_staticFileWithoutRouting(self) -> None:
        """
        The file never arrives (the global cooperator does not run while
        the network is driven): the inner test's C{run_until} is stuck
        beside the L{Site}'s periodic log-date timer, which the harness
        reports (after 10,000 virtual seconds, not the whole step budget)
        naming the cooperative task of C{HTTPChannel}'s pull-producer
        adapter and the fix; the task is removed from the global
        cooperator.
        """
        path = FilePath(self.mktemp())
        path.makedirs()
        path.child("poem.bin").setContent(BODY)
        from twisted.internet import task

        stand_in_global_reactor(self)
        before = list(task._theCooperator._tasks)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                site = Site(static.File(path.path), reactor=self.net)
                port = self.net.listenTCP(0, site, interface="127.0.0.1")
                self.addCleanup(port.stopListening)
                url = b"http://127.0.0.1:%d/poem.bin" % (port_number(port),)
                response = self.net.run_until(Agent(self.net).request(b"GET", url))
                self.net.run_until(readBody(response))

        result = TestResult()
        Inner("test_inner").run(result)
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        text = failure.getErrorMessage()
        self.assertTrue(failure.check(StepBudgetExceeded))
        self.assertIn("a timer reschedules itself and nothing else can happen", text)
        self.assertIn("Site._updateLogDateTime", text)
        self.assertIn("server: connected, streaming producer registered", text)
        self.assertIn("Work waiting on the global reactor", text)
        self.assertIn("cooperative task: _PullToPush._pull (task.cooperate)", text)
        self.assertIn("through twisted/internet/_producer_helpers.py:", text)
        self.assertIn("in startStreaming", text)
        self.assertIn("route_global_cooperator(self.net)", text)
        self.assertEqual(list(task._theCooperator._tasks), before)
