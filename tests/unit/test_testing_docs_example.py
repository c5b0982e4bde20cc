"""
The complete example of C{docs/testing.md}, run as a test -- and a test that
the document still shows exactly this code, so that it cannot rot.
"""

from __future__ import annotations

# --- example: the same code is in docs/testing.md ---
from collections.abc import Callable

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IListeningPort,
    IReactorTime,
)
from twisted.internet.protocol import ClientFactory, Factory, connectionDone
from twisted.protocols.basic import LineReceiver
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure

from poetry.testing import MemoryNetwork, MemoryNetworkTestCase, assert_deterministic


class Echo(LineReceiver, TimeoutMixin):
    """
    Echo every line; hang up on a client that stays quiet for a minute.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        # TimeoutMixin's timer: on the injected clock, not the global reactor.
        return self.clock.callLater(period, func)

    def connectionMade(self) -> None:
        self.setTimeout(60)

    def lineReceived(self, line: bytes) -> None:
        self.resetTimeout()
        self.sendLine(line)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.setTimeout(None)


class EchoFactory(Factory[Echo]):
    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock

    def buildProtocol(self, addr: IAddress | None) -> Echo:
        return Echo(self.clock)


class Asker(LineReceiver):
    """
    Send some lines, collect the echoes, hang up when all came back.
    """

    def __init__(self, lines: list[bytes]) -> None:
        self.lines = lines
        self.echoes: list[bytes] = []
        self.finished: Deferred[list[bytes]] = Deferred()

    def connectionMade(self) -> None:
        for line in self.lines:
            self.sendLine(line)

    def lineReceived(self, line: bytes) -> None:
        self.echoes.append(line)
        if len(self.echoes) == len(self.lines):
            assert self.transport is not None
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.finished.callback(self.echoes)


class AskerFactory(ClientFactory[Asker]):
    def __init__(self, lines: list[bytes]) -> None:
        self.asker = Asker(lines)

    def buildProtocol(self, addr: IAddress | None) -> Asker:
        return self.asker


def ask(net: MemoryNetwork, port: int, lines: list[bytes]) -> Deferred[list[bytes]]:
    factory = AskerFactory(lines)
    net.connectTCP("127.0.0.1", port, factory)
    return factory.asker.finished


def port_number(port: IListeningPort) -> int:
    address = port.getHost()
    assert isinstance(address, IPv4Address)
    return address.port


class EchoTests(MemoryNetworkTestCase):
    def listen(self) -> int:
        port = self.net.listenTCP(0, EchoFactory(self.net), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port_number(port)

    def test_echo(self) -> None:
        """
        Every line comes back, in order, without time passing.
        """
        port = self.listen()
        echoes = self.net.run_until(ask(self.net, port, [b"hello", b"world"]))
        self.assertEqual(echoes, [b"hello", b"world"])
        self.assertEqual(self.net.seconds(), 0.0)

    def test_quiet_client_is_dropped_after_a_minute(self) -> None:
        """
        A client that says nothing is disconnected after 60 virtual seconds.
        """
        port = self.listen()
        echoes = self.net.run_until(ask(self.net, port, []))
        self.assertEqual(echoes, [])
        self.assertEqual(self.net.seconds(), 60.0)

    def test_many_clients_deterministically(self) -> None:
        """
        Twenty clients at random times: the same trace twice for one seed.
        """

        def scenario(net: MemoryNetwork) -> None:
            port = net.listenTCP(0, EchoFactory(net), interface="127.0.0.1")
            for i in range(20):
                start = net.random.uniform(0, 30)
                net.callLater(start, ask, net, port_number(port), [b"%d" % i])
            net.run()
            port.stopListening()

        trace = assert_deterministic(scenario, seed=self.net.seed)
        self.assertEqual(sum(event.kind == "accept" for event in trace), 20)


# --- end of example ---

from twisted.trial.unittest import SynchronousTestCase  # noqa: E402

from poetry.client import get_poetry  # noqa: E402
from poetry.server import PoetryServerFactory  # noqa: E402


def _between(text: str, start: str, end: str) -> str:
    """
    The lines of C{text} strictly between the line containing C{start} and
    the next line containing C{end}.
    """
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line)
    last = next(i for i in range(first + 1, len(lines)) if end in lines[i])
    return "\n".join(lines[first + 1 : last]).strip()


class DocumentTests(MemoryNetworkTestCase):
    """
    C{docs/testing.md} shows this module's example, unchanged.
    """

    def test_documentShowsThisExample(self) -> None:
        """
        The code block after the example marker in the document is the code
        between the example markers here.
        """
        from pathlib import Path

        here = Path(__file__)
        document = (here.parents[2] / "docs" / "testing.md").read_text("utf-8")
        marker = "<!-- example: tests/unit/test_testing_docs_example.py -->"
        self.assertIn(marker, document)
        shown = _between(document.split(marker, 1)[1], "```python", "```")
        ours = _between(
            here.read_text("utf-8"), "# --- example:", "# --- end of example"
        )
        self.assertEqual(shown, ours)


class TraceDumpTests(SynchronousTestCase):
    """
    The trace dump C{docs/testing.md} shows is the one the network writes.
    """

    def test_documentShowsTheRealDump(self) -> None:
        """
        A client fetching a 12-byte poem from a server that writes it and
        closes, then the port stopped: the dump after the output marker is
        C{trace_dump()} of that run.
        """
        from pathlib import Path

        net = MemoryNetwork(1)
        port = net.listenTCP(
            0, PoetryServerFactory(b"Hello, poem\n"), interface="127.0.0.1"
        )
        poem = net.run_until(get_poetry(net, "127.0.0.1", port_number(port)))
        self.assertEqual(poem, b"Hello, poem\n")
        port.stopListening()
        net.run()
        net.assert_clean()
        document = (Path(__file__).parents[2] / "docs" / "testing.md").read_text(
            "utf-8"
        )
        marker = "<!-- output: trace-dump -->"
        self.assertIn(marker, document)
        shown = _between(document.split(marker, 1)[1], "```text", "```")
        self.assertEqual(shown, net.trace_dump().strip())
