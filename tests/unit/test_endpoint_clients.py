"""
The clients through any client endpoint: L{get_poetry_at} and
L{transform_at}, on L{MemoryNetwork} (whose C{connectTCP} the endpoints
made by C{clientFromString(net, "tcp:...")} use), with the same outcomes,
timeouts and cancellation as the host-and-port clients, and nothing left
pending.
"""

from __future__ import annotations

from twisted.internet.defer import CancelledError
from twisted.internet.endpoints import clientFromString
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IStreamClientEndpoint

from poetry.client import PoemTimeout, get_poetry_at
from poetry.server import PoetryServerFactory
from poetry.transform import (
    TransformServerFactory,
    TransformService,
    TransformTimeout,
    transform_at,
)
from tests.unit.test_poetry_on_memory_network import POEM, PoetryTestCase


class EndpointClientTests(PoetryTestCase):
    """
    L{get_poetry_at} and L{transform_at}.
    """

    def endpoint(self, port: int) -> IStreamClientEndpoint:
        """
        A client endpoint for 127.0.0.1:C{port} on the test's network, made
        from its description as the command line makes it.
        """
        endpoint: IStreamClientEndpoint = clientFromString(
            self.net, f"tcp:127.0.0.1:{port}"
        )
        return endpoint

    def test_poem(self) -> None:
        """
        The poem arrives whole, with progress reported as it comes.
        """
        port = self.slow_server(chunk=1000, delay=1.0)
        seen: list[int] = []
        fetch = get_poetry_at(
            self.endpoint(port), self.net, timeout=60, progress=seen.append
        )
        self.assertEqual(self.net.run_until(fetch), POEM)
        self.assertEqual(seen, [1000, 2000, 2048])
        self.assertEqual(self.net.seconds(), 2.0)

    def test_refused(self) -> None:
        """
        Nothing listening: the endpoint's L{ConnectionRefusedError}.
        """
        port = self.serve(PoetryServerFactory(POEM))
        self.net.faults.refuse(("127.0.0.1", port))
        fetch = get_poetry_at(self.endpoint(port), self.net)
        self.net.run()
        self.failureResultOf(fetch, ConnectionRefusedError)

    def test_timeout_while_connecting(self) -> None:
        """
        A connection that never completes fails with L{PoemTimeout} after
        C{timeout} virtual seconds, as not connected; the attempt is
        stopped (the network is clean at teardown).
        """
        port = self.serve(PoetryServerFactory(POEM))
        self.net.faults.hang(("127.0.0.1", port))
        fetch = get_poetry_at(self.endpoint(port), self.net, timeout=5)
        self.net.advance(5)
        error = self.failureResultOf(fetch, PoemTimeout).value
        self.assertFalse(error.connected)
        self.assertEqual(self.net.seconds(), 5.0)

    def test_cancel_while_connecting(self) -> None:
        """
        Cancelling before the connection is made fails with
        L{CancelledError} and stops the attempt.
        """
        port = self.serve(PoetryServerFactory(POEM))
        self.net.faults.hang(("127.0.0.1", port))
        fetch = get_poetry_at(self.endpoint(port), self.net, timeout=5)
        self.net.advance(1)
        fetch.cancel()
        self.failureResultOf(fetch, CancelledError)
        self.net.advance(10)

    def test_timeout_mid_poem(self) -> None:
        """
        A poem still arriving when C{timeout} runs out fails with
        L{PoemTimeout}, as connected, with the bytes so far; the connection
        is aborted.
        """
        port = self.slow_server(chunk=10, delay=1.0)
        fetch = get_poetry_at(self.endpoint(port), self.net, timeout=2.5)
        self.net.advance(2.5)
        error = self.failureResultOf(fetch, PoemTimeout).value
        self.assertTrue(error.connected)
        self.assertEqual(error.received, POEM[:30])

    def test_bad_timeout(self) -> None:
        """
        A negative timeout is refused before anything connects.
        """
        port = self.serve(PoetryServerFactory(POEM))
        self.assertRaises(
            ValueError, get_poetry_at, self.endpoint(port), self.net, timeout=-1
        )
        self.assertRaises(
            ValueError,
            transform_at,
            self.endpoint(port),
            self.net,
            "upper",
            b"x",
            timeout=-1,
        )

    def test_transform(self) -> None:
        """
        L{transform_at} gets the transformed poem through the endpoint.
        """
        port = self.serve(TransformServerFactory(TransformService(), self.net))
        request = transform_at(self.endpoint(port), self.net, "upper", b"ode")
        self.assertEqual(self.net.run_until(request), b"ODE")

    def test_transform_timeout(self) -> None:
        """
        L{transform_at} times out on the clock it is given.
        """
        port = self.serve(TransformServerFactory(TransformService(), self.net))
        self.net.faults.hang(("127.0.0.1", port))
        request = transform_at(self.endpoint(port), self.net, "upper", b"x", timeout=3)
        self.net.advance(3)
        self.failureResultOf(request, TransformTimeout)

    def test_transform_bad_name(self) -> None:
        """
        A name that breaks the transform-name rule is refused before
        anything connects.
        """
        port = self.serve(TransformServerFactory(TransformService(), self.net))
        for name in ["", "a.b", "has space", "café"]:
            self.assertRaises(
                ValueError, transform_at, self.endpoint(port), self.net, name, b"x"
            )
        self.assertEqual(self.net.open_connections(), [])
