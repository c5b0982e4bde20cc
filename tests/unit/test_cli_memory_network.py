"""
The commands of C{python -m poetry} end to end on L{MemoryNetwork}: servers
started by one command are fetched from by another, on the same in-memory
network and virtual clock -- deterministic, no sockets, no real time.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred

from poetry import poems
from poetry._cli import Context, execute, parse_args
from poetry._cli._context import Cleanup
from poetry.testing import MemoryNetworkTestCase

_SERVING = re.compile(r"^poetry: serving (.+) on (127\.0\.0\.1):(\d+)$", re.M)


class _Command:
    """
    One command running on the test's network.
    """

    def __init__(
        self,
        test: MemoryNetworkTestCase,
        *argv: str,
        tty: bool = False,
        stdin: bytes = b"",
    ):
        self.stdout = io.BytesIO()
        self.stderr = io.StringIO()
        self.cleanups: list[Cleanup] = []
        context = Context(
            self.stdout, self.stderr, tty, self.cleanups.append, io.BytesIO(stdin)
        )
        self.result = execute(test.net, parse_args(list(argv)), context)

    def ports(self) -> list[int]:
        """
        The ports announced on standard output.
        """
        return [
            int(match.group(3))
            for match in _SERVING.finditer(self.stdout.getvalue().decode())
        ]

    def shut_down(self) -> Deferred[list[object]]:
        """
        Run the shutdown cleanups, as SIGTERM would.
        """
        return gatherResults([maybeDeferred(cleanup) for cleanup in self.cleanups])


class MemoryNetworkCommandTests(MemoryNetworkTestCase):
    """
    Commands talking to each other on one L{MemoryNetwork}.
    """

    def stop(self, *servers: _Command) -> None:
        """
        Shut the servers down; each command ends with status 0.
        """
        for server in servers:
            self.net.run_until(server.shut_down())
            self.assertEqual(self.net.run_until(server.result), 0)

    def test_serve_then_get(self) -> None:
        """
        Two slow servers started by C{serve} are fetched by C{get} in the
        order asked; the slow pacing shows on the virtual clock; shutdown
        closes every port (the network is clean at teardown).
        """
        server = _Command(
            self,
            *("serve", "--poem", "cafe", "--poem", "clockwork", "--slow"),
            *("--chunk-size", "100", "--delay", "1"),
        )
        cafe, clockwork = server.ports()
        client = _Command(self, "get", str(clockwork), f"127.0.0.1:{cafe}")
        self.assertEqual(self.net.run_until(client.result), 0)
        self.assertEqual(
            client.stdout.getvalue(), poems.load("clockwork") + poems.load("cafe")
        )
        # cafe: 575 bytes in chunks of 100, one per second: the last at 5 s.
        self.assertEqual(self.net.seconds(), 5.0)
        self.stop(server)

    def test_get_refused(self) -> None:
        """
        C{get} from a port nobody listens on: an error line and status 1.
        """
        client = _Command(self, "get", "10000")
        self.assertEqual(self.net.run_until(client.result), 1)
        self.assertEqual(
            client.stderr.getvalue(),
            "poetry: 127.0.0.1:10000: failed: connection refused "
            "(is a server listening there?)\n",
        )

    def test_endpoint_descriptions(self) -> None:
        """
        C{get} and C{transform} take client endpoint descriptions
        (C{tcp:HOST:PORT}, C{tcp:host=...:port=...}) as well as
        C{[HOST:]PORT}; with C{--output} an endpoint's poem is saved under
        its description, made safe for a file name.  C{serve --poem -} and
        C{transform ... -} read the poem from standard input when they run.
        """
        server = _Command(self, "serve", "--poem", "-", stdin=b"from stdin\n")
        transforms = _Command(self, "transform-server")
        [server_port] = server.ports()
        [transform_port] = transforms.ports()
        self.assertIn(b"poetry: serving stdin on", server.stdout.getvalue())
        output = self.mktemp()
        client = _Command(
            self, "get", f"tcp:127.0.0.1:{server_port}", str(server_port), "-o", output
        )
        self.assertEqual(self.net.run_until(client.result), 0)
        saved = {p.name: p.read_bytes() for p in Path(output).iterdir()}
        self.assertEqual(
            saved,
            {
                f"tcp_127.0.0.1_{server_port}.txt": b"from stdin\n",
                f"127.0.0.1_{server_port}.txt": b"from stdin\n",
            },
        )
        upper = _Command(
            self,
            "transform",
            f"tcp:host=127.0.0.1:port={transform_port}",
            "upper",
            stdin=b"ode\n",
        )
        self.assertEqual(self.net.run_until(upper.result), 0)
        self.assertEqual(upper.stdout.getvalue(), b"ODE\n")
        refused = _Command(self, "get", "tcp:127.0.0.1:9")
        self.assertEqual(self.net.run_until(refused.result), 1)
        self.assertEqual(
            refused.stderr.getvalue(),
            "poetry: tcp:127.0.0.1:9: failed: connection refused "
            "(is a server listening there?)\n",
        )
        self.stop(transforms, server)

    def test_proxy_with_transform(self) -> None:
        """
        C{proxy --transform} in front of C{serve}, through
        C{transform-server}, serves the transformed poem to C{get}; the
        C{transform} command talks to the same transform server.
        """
        server = _Command(self, "serve", "--poem", "lighthouse")
        transforms = _Command(self, "transform-server")
        [server_port] = server.ports()
        [transform_port] = transforms.ports()
        proxy = _Command(
            self, "proxy", str(server_port), "--transform", f"{transform_port}:upper"
        )
        [proxy_port] = proxy.ports()
        client = _Command(self, "get", str(proxy_port), str(proxy_port))
        self.assertEqual(self.net.run_until(client.result), 0)
        upper = poems.load("lighthouse").decode("utf-8").upper().encode("utf-8")
        self.assertEqual(client.stdout.getvalue(), upper * 2)
        reverse = _Command(
            self, "transform", str(transform_port), "reverse-lines", "clockwork"
        )
        self.assertEqual(self.net.run_until(reverse.result), 0)
        lines = poems.load("clockwork").rstrip(b"\n").split(b"\n")
        self.assertEqual(reverse.stdout.getvalue(), b"\n".join(reversed(lines)) + b"\n")
        self.stop(proxy, transforms, server)

    def test_demo(self) -> None:
        """
        The demo runs to completion with status 0: every fetch ok, the three
        proxied fetches sharing one upstream connection and the last one
        served from the cache, timed exactly on the virtual clock; the
        proxied poem is transformed; every port is closed at the end.
        """
        demo = _Command(self, "demo")
        self.assertEqual(self.net.run_until(demo.result), 0)
        out = demo.stdout.getvalue().decode("utf-8")
        lighthouse = poems.load("lighthouse").decode("utf-8")
        self.assertIn(lighthouse, out)
        self.assertIn(lighthouse.lower(), out)
        summary = out.split("poetry: summary\n", 1)[1].splitlines()
        self.assertEqual(
            [re.sub(r"127\.0\.0\.1:\d+", "ADDRESS", line) for line in summary],
            [
                "  direct: ADDRESS 379 bytes in 1.80 s ok",
                "  proxy 1: ADDRESS 379 bytes in 1.80 s ok",
                "  proxy 2: ADDRESS 379 bytes in 1.80 s ok",
                "  proxy 3: ADDRESS 379 bytes in 1.80 s ok",
                "  proxy again: ADDRESS 379 bytes in 0.00 s ok",
                "poetry: the slow server was connected to twice for 5 fetches",
            ],
        )
        self.assertEqual(demo.stderr.getvalue(), "")
        self.assertEqual(self.net.listening_ports(), [])

    def test_demo_progress(self) -> None:
        """
        With standard error on a terminal, the demo shows a progress row per
        fetch there.
        """
        demo = _Command(self, "demo", "--clients", "2", tty=True)
        self.assertEqual(self.net.run_until(demo.result), 0)
        err = demo.stderr.getvalue()
        for label in ["direct", "proxy 1", "proxy 2", "proxy again"]:
            self.assertIn(label, err)
        self.assertIn("379 bytes", err)

    def test_demo_failure(self) -> None:
        """
        A fetch that fails makes the demo exit 1, reporting it in the
        summary: here the timeout is shorter than the slow server needs.
        """
        demo = _Command(self, "demo", "--timeout", "1")
        self.assertEqual(self.net.run_until(demo.result), 1)
        out = demo.stdout.getvalue().decode("utf-8")
        self.assertIn("direct: 127.0.0.1:", out.split("poetry: summary\n", 1)[1])
        self.assertRegex(out, r"  direct: \S+ \d+ bytes in 1\.00 s failed: no complete")

    def test_demo_interrupted(self) -> None:
        """
        Shutdown (SIGINT) in the middle of the demo cancels the fetches,
        starts no more, closes every port, and the demo exits 1 with the
        cancelled fetches in its summary.
        """
        demo = _Command(self, "demo")
        self.net.advance(0.5)
        self.assertNoResult(demo.result)
        self.net.run_until(demo.shut_down())
        self.assertEqual(self.net.run_until(demo.result), 1)
        summary = demo.stdout.getvalue().decode().split("poetry: summary\n", 1)[1]
        self.assertEqual(summary.count("failed: cancelled (shutting down)"), 4)
        self.assertNotIn("proxy again", summary)
        self.assertEqual(self.net.listening_ports(), [])
