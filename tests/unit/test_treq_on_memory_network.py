"""
Unmodified C{treq} over L{MemoryNetwork}: a L{Site} serving text, JSON, an
echo and a resource that never answers; C{treq}'s top-level functions and
its L{HTTPClient} fetching from it -- each scenario under the default
delivery (each write whole), one-byte chunking and random chunking (from
the network's seed).

What a test gives C{treq}: the network where it takes a reactor
(C{reactor=net}: the L{Agent}'s reactor and the clock of C{timeout=}), and a
connection pool of the test's own (C{pool=HTTPConnectionPool(net)}, closed in
a cleanup).  Without the pool, C{treq} uses one module-level pool per
process, built with the reactor of the first test that asked:
L{DefaultPoolTests} shows the harness reporting that (L{NetworkRetired}) in
the test that runs second.  A request body is a
L{FileBodyProducer<twisted.web.client.FileBodyProducer>} on the global
cooperator (C{treq} takes no cooperator), hence C{route_global_cooperator}.
A C{timeout=} without C{reactor=} is a timer on the global reactor, which
the guard reports (L{TimeoutGuardTests}).
"""

from __future__ import annotations

import json
from typing import Any

import treq
from treq.api import get_global_pool, set_global_pool
from treq.client import HTTPClient
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.web.client import Agent, HTTPConnectionPool, ResponseNeverReceived
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from poetry.testing import (
    ONE_BYTE,
    MemoryNetwork,
    MemoryNetworkTestCase,
    NetworkRetired,
    RandomSizes,
    route_global_cooperator,
)
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import ChunkedScenarios, port_number

#: The poem the server recites: big enough for many pieces under chunking.
POEM = "The harness hums beneath the code,\nand every byte keeps to its road.\n" * 60


class _Poem(Resource):
    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return POEM.encode("utf-8")


class _Lines(Resource):
    """
    The poem's lines as JSON, with the query's C{first} argument as a count.
    """

    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"application/json")
        assert request.args is not None
        first = int(request.args.get(b"first", [b"2"])[0])
        return json.dumps({"lines": POEM.splitlines()[:first]}).encode("utf-8")


class _Echo(Resource):
    """
    C{POST} answers with the request body, reversed.
    """

    isLeaf = True

    def render_POST(self, request: Request) -> bytes:
        assert request.content is not None
        return bytes(request.content.read()[::-1])


class _Silent(Resource):
    """
    Never answers (until the connection goes away).
    """

    isLeaf = True

    def render_GET(self, request: Request) -> object:
        return NOT_DONE_YET


def _site(net: Any) -> Site:
    root = Resource()
    root.putChild(b"poem", _Poem())
    root.putChild(b"lines", _Lines())
    root.putChild(b"echo", _Echo())
    root.putChild(b"silent", _Silent())
    return Site(root, reactor=net)


def treq_reactor(net: MemoryNetwork) -> Any:
    """
    The network, as treq's C{reactor=} argument: its type is an interface
    joining C{IReactorTCP}, C{IReactorTime} and
    C{IReactorPluggableNameResolver}, which the network provides, but only a
    class declared to implement that very interface satisfies mypy.
    """
    return net


class _TreqScenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.
    """

    def setUp(self) -> None:
        super().setUp()
        port = self.net.listenTCP(0, _site(self.net), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.base = f"http://127.0.0.1:{port_number(port)}"
        self.pool = HTTPConnectionPool(self.net)
        self.addCleanup(self.pool.closeCachedConnections)
        self.client = HTTPClient(Agent(self.net, pool=self.pool))

    def accepted(self) -> int:
        """
        How many connections the network accepted so far.
        """
        return sum(event.kind == "accept" for event in self.net.trace)

    def test_getText(self) -> None:
        """
        C{treq.get} with the network and the test's pool fetches the poem:
        status 200, the header, every character decoded as the charset says.
        """
        response = self.net.run_until(
            treq.get(
                f"{self.base}/poem", reactor=treq_reactor(self.net), pool=self.pool
            )
        )
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"),
            ["text/plain; charset=utf-8"],
        )
        self.assertEqual(self.net.run_until(treq.text_content(response)), POEM)

    def test_getJSON(self) -> None:
        """
        L{HTTPClient.get} with query parameters; C{treq.json_content} decodes
        the answer.
        """
        response = self.net.run_until(
            self.client.get(f"{self.base}/lines", params={"first": "3"})
        )
        lines = self.net.run_until(treq.json_content(response))
        self.assertEqual(lines, {"lines": POEM.splitlines()[:3]})

    def test_postBody(self) -> None:
        """
        A C{POST} with a body (sent by a L{FileBodyProducer} that treq makes,
        on the global cooperator routed to the network) comes back reversed.
        """
        self.addCleanup(route_global_cooperator(self.net))
        body = POEM.encode("utf-8")
        response = self.net.run_until(self.client.post(f"{self.base}/echo", data=body))
        self.assertEqual(self.net.run_until(treq.content(response)), body[::-1])

    def test_persistentConnection(self) -> None:
        """
        Three requests in a row go over one connection, kept by the test's
        pool between them; closing the pool closes it.
        """
        for _ in range(3):
            response = self.net.run_until(self.client.get(f"{self.base}/poem"))
            self.assertEqual(len(self.net.run_until(treq.content(response))), len(POEM))
        self.assertEqual(self.accepted(), 1)
        self.assertEqual(len(self.net.open_connections()), 1)
        self.net.run_until(self.pool.closeCachedConnections())
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_timeout(self) -> None:
        """
        C{timeout=2} with C{reactor=net}: a server that never answers fails
        the request with L{ResponseNeverReceived} (the request cancelled)
        after exactly two virtual seconds.
        """
        request = self.client.get(
            f"{self.base}/silent", timeout=2, reactor=treq_reactor(self.net)
        )
        error = self.assertRaises(ResponseNeverReceived, self.net.run_until, request)
        self.assertTrue(any(reason.check(CancelledError) for reason in error.reasons))
        self.assertEqual(self.net.seconds(), 2.0)


class DefaultDeliveryTreqTests(_TreqScenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteTreqTests(_TreqScenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE


class RandomChunkingTreqTests(_TreqScenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 300)


class TimeoutGuardTests(MemoryNetworkTestCase):
    """
    C{timeout=} without C{reactor=}: treq schedules the timeout on the
    global reactor.
    """

    def test_timeoutWithoutReactor(self) -> None:
        """
        The inner test waits for a server that never answers; its timeout is
        on the global reactor, which does not run: the run ends in a timer
        loop report (the L{Site}'s log-date timer) that lists the
        C{Deferred.cancel} timer treq put on the global reactor, and says
        what to pass to a library.
        """
        stand_in_global_reactor(self)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                port = self.net.listenTCP(0, _site(self.net), interface="127.0.0.1")
                self.addCleanup(port.stopListening)
                pool = HTTPConnectionPool(self.net)
                self.addCleanup(pool.closeCachedConnections)
                client = HTTPClient(Agent(self.net, pool=pool))
                url = f"http://127.0.0.1:{port_number(port)}/silent"
                self.net.run_until(client.get(url, timeout=2))

        result = TestResult()
        Inner("test_inner").run(result)
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        text = failure.getErrorMessage()
        self.assertIn("Work waiting on the global reactor", text)
        self.assertIn("delayed call: Deferred.cancel, due in 2", text)
        self.assertIn("treq/client.py", text)


class DefaultPoolTests(MemoryNetworkTestCase):
    """
    treq's module-level pool, built on the first test's network, is used by
    the second test: the second fails with L{NetworkRetired}.
    """

    def setUp(self) -> None:
        super().setUp()
        saved = get_global_pool()
        set_global_pool(None)
        self.addCleanup(set_global_pool, saved)

    def test_secondTestFails(self) -> None:
        """
        Two tests fetch with C{treq.get(url, reactor=net)} and no pool, each
        closing treq's pool's connections at its end: the first passes; in
        the second, the pool puts its idle connection's expiry timer on the
        first test's network, and the test fails naming both tests and the
        pool's timer.
        """

        class Inner(MemoryNetworkTestCase):
            def fetch(self) -> None:
                port = self.net.listenTCP(0, _site(self.net), interface="127.0.0.1")
                self.addCleanup(port.stopListening)
                url = f"http://127.0.0.1:{port_number(port)}/poem"
                response = self.net.run_until(
                    treq.get(url, reactor=treq_reactor(self.net))
                )
                self.assertEqual(self.net.run_until(treq.text_content(response)), POEM)
                self.net.run_until(get_global_pool().closeCachedConnections())

            test_first = test_second = fetch

        first, second = Inner("test_first"), Inner("test_second")
        result = TestResult()
        first.run(result)
        second.run(result)
        [(test, failure)] = result.errors
        self.assertIs(test, second)
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(NetworkRetired))
        text = failure.getErrorMessage()
        self.assertIn("a timer (HTTPConnectionPool._removeConnection)", text)
        self.assertIn(f"the MemoryNetwork of {first.id()!r}", text)
        self.assertIn(f"during {second.id()!r}", text)
        self.assertIn("treq.get(url, reactor=net, pool=HTTPConnectionPool(net))", text)
