"""
Helpers shared by the unit tests of L{poetry.testing} (no tests here).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IHalfCloseableProtocol,
    IListeningPort,
    IPullProducer,
    IPushProducer,
)
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.runner import TestLoader
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from poetry.testing import (
    ChunkingPolicy,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    MemoryTransport,
)

__all__ = [
    "ChunkedScenarios",
    "ConnectedPair",
    "HalfCloseableRecorder",
    "LineRecorder",
    "PullProducer",
    "PushProducer",
    "Recorder",
    "RecordingClientFactory",
    "RecordingServerFactory",
    "connect_pair",
    "document_block",
    "port_number",
    "run_document_example",
]


class Recorder(Protocol):
    """
    Records every callback in C{events}: C{("made", None)},
    C{("data", bytes)}, C{("lost", reason type)}; and, for
    L{HalfCloseableRecorder}, C{("readLost", None)}, C{("writeLost", None)}.

    @ivar on_made: called with the protocol from C{connectionMade}.
    @ivar on_data: called with the protocol and the data from C{dataReceived}.
    """

    def __init__(
        self,
        on_made: Callable[[Recorder], object] | None = None,
        on_data: Callable[[Recorder, bytes], object] | None = None,
    ) -> None:
        self.events: list[tuple[str, object]] = []
        self.chunks: list[bytes] = []
        self.reason: Failure | None = None
        self.on_made = on_made
        self.on_data = on_data

    @property
    def tcp(self) -> MemoryTransport:
        """
        The transport, as the memory network's transport.
        """
        transport: object = self.transport
        assert isinstance(transport, MemoryTransport), transport
        return transport

    @property
    def received(self) -> bytes:
        """
        All bytes received, concatenated.
        """
        return b"".join(self.chunks)

    def names(self) -> list[str]:
        """
        The names of the callbacks received, in order.
        """
        return [name for name, _ in self.events]

    def connectionMade(self) -> None:
        self.events.append(("made", None))
        if self.on_made is not None:
            self.on_made(self)

    def dataReceived(self, data: bytes) -> None:
        self.events.append(("data", data))
        self.chunks.append(data)
        if self.on_data is not None:
            self.on_data(self, data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        assert reason is not None
        self.reason = reason
        self.events.append(("lost", reason.type))


class LineRecorder(LineReceiver):
    """
    A raw line client: what it sends is up to the test; it records each
    line it receives.

    @ivar lines: the lines received, in order.
    @ivar lost: fires when the connection is lost.
    @ivar reason: why it was lost.
    """

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.lost: Deferred[None] = Deferred()
        self.reason: Failure | None = None

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.reason = reason
        self.lost.callback(None)


@implementer(IHalfCloseableProtocol)
class HalfCloseableRecorder(Recorder):
    """
    A L{Recorder} that provides L{IHalfCloseableProtocol}.
    """

    def readConnectionLost(self) -> None:
        self.events.append(("readLost", None))

    def writeConnectionLost(self) -> None:
        self.events.append(("writeLost", None))


class RecordingServerFactory(ServerFactory[Protocol]):
    """
    Builds protocols with C{build} (which may return L{None}) and records
    C{buildProtocol} addresses and C{doStart}/C{doStop} in C{events}.
    """

    def __init__(self, build: Callable[[], Protocol | None] = Recorder) -> None:
        self.build = build
        self.events: list[tuple[str, object]] = []
        self.protocols: list[Protocol] = []

    def doStart(self) -> None:
        self.events.append(("doStart", None))
        super().doStart()

    def doStop(self) -> None:
        self.events.append(("doStop", None))
        super().doStop()

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        self.events.append(("buildProtocol", addr))
        protocol = self.build()
        if protocol is not None:
            protocol.factory = self
            self.protocols.append(protocol)
        return protocol


class RecordingClientFactory(ClientFactory[Protocol]):
    """
    Records every client factory callback in C{events}, with the address,
    connector or reason type as detail.
    """

    noisy = False

    def __init__(self, build: Callable[[], Protocol | None] = Recorder) -> None:
        self.build = build
        self.events: list[tuple[str, object]] = []
        self.protocols: list[Protocol] = []
        self.reasons: list[Failure] = []

    def names(self) -> list[str]:
        """
        The names of the callbacks received, in order.
        """
        return [name for name, _ in self.events]

    def doStart(self) -> None:
        self.events.append(("doStart", None))
        super().doStart()

    def doStop(self) -> None:
        self.events.append(("doStop", None))
        super().doStop()

    def startedConnecting(self, connector: IConnector) -> None:
        self.events.append(("startedConnecting", connector))

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        self.events.append(("buildProtocol", addr))
        protocol = self.build()
        if protocol is not None:
            protocol.factory = self
            self.protocols.append(protocol)
        return protocol

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.reasons.append(reason)
        self.events.append(("clientConnectionFailed", reason.type))

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        self.reasons.append(reason)
        self.events.append(("clientConnectionLost", reason.type))


class ConnectedPair:
    """
    What L{connect_pair} made.
    """

    def __init__(
        self,
        port: IListeningPort,
        connector: IConnector,
        server: Recorder,
        client: Recorder,
    ) -> None:
        self.port = port
        self.connector = connector
        self.server = server
        self.client = client


if TYPE_CHECKING:
    _TestCaseBase = MemoryNetworkTestCase
else:
    _TestCaseBase = object


class ChunkedScenarios(_TestCaseBase):
    """
    Scenarios mixed into a L{MemoryNetworkTestCase} and run once per
    subclass, each choosing how every connection's writes are cut: its
    C{chunking} becomes the network's default link conditions in C{setUp}
    (L{None}, the default: each write delivered whole).
    """

    chunking: ClassVar[ChunkingPolicy | None] = None

    def setUp(self) -> None:
        super().setUp()
        if self.chunking is not None:
            self.net.set_default_link(LinkConditions(chunking=self.chunking))


def port_number(port: IListeningPort) -> int:
    """
    The number of an IPv4 listening port (C{port.getHost().port}).
    """
    address = port.getHost()
    assert isinstance(address, IPv4Address)
    return address.port


def connect_pair(
    net: MemoryNetwork,
    server: Callable[[], Recorder] = Recorder,
    client: Callable[[], Recorder] = Recorder,
    interface: str = "127.0.0.1",
) -> ConnectedPair:
    """
    Listen on port 0, connect, and let the connection complete (without
    letting time pass).  The caller stops the port.
    """
    server_factory = RecordingServerFactory(server)
    client_factory = RecordingClientFactory(client)
    port = net.listenTCP(0, server_factory, interface=interface)
    number = cast(Any, port.getHost()).port
    connector = net.connectTCP(interface, number, client_factory)
    net.advance(0)
    server_protocol = server_factory.protocols[0]
    client_protocol = client_factory.protocols[0]
    assert isinstance(server_protocol, Recorder)
    assert isinstance(client_protocol, Recorder)
    return ConnectedPair(port, connector, server_protocol, client_protocol)


@implementer(IPushProducer)
class PushProducer:
    """
    A streaming producer recording C{"pause"}, C{"resume"}, C{"stop"}.
    """

    def __init__(self) -> None:
        self.events: list[str] = []

    def pauseProducing(self) -> None:
        self.events.append("pause")

    def resumeProducing(self) -> None:
        self.events.append("resume")

    def stopProducing(self) -> None:
        self.events.append("stop")


@implementer(IPullProducer)
class PullProducer:
    """
    A pull producer: each C{resumeProducing} writes the next of C{chunks};
    the call after the last one unregisters it.
    """

    def __init__(self, transport: MemoryTransport, chunks: list[bytes]) -> None:
        self.transport = transport
        self.chunks = list(chunks)
        self.events: list[str] = []

    def resumeProducing(self) -> None:
        self.events.append("resume")
        if self.chunks:
            self.transport.write(self.chunks.pop(0))
        else:
            self.transport.unregisterProducer()
            self.events.append("unregistered")

    def stopProducing(self) -> None:
        self.events.append("stop")


def document_block(
    marker: str, language: str = "python", guide: str = "testing.md"
) -> str:
    """
    The first C{language} fenced block after C{<!-- marker -->} in
    C{docs/<guide>}, without its fences.

    @raise AssertionError: if the guide has no such marker.
    """
    document = (Path(__file__).parents[2] / "docs" / guide).read_text("utf-8")
    tag = f"<!-- {marker} -->"
    if tag not in document:
        raise AssertionError(f"docs/{guide} has no {tag}")
    lines = document.split(tag, 1)[1].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("```" + language))
    last = next(i for i in range(first + 1, len(lines)) if lines[i].startswith("```"))
    return "\n".join(lines[first + 1 : last])


def run_document_example(
    case: SynchronousTestCase, name: str, tests: int, guide: str = "testing.md"
) -> dict[str, Any]:
    """
    Run the example after C{<!-- example: name -->} in C{docs/<guide>},
    exactly as shown (its own imports included): its test cases must pass,
    C{tests} tests in all.

    @return: the example's module namespace.
    """
    module = f"docs_example_{name}"
    namespace: dict[str, Any] = {"__name__": module}
    source = document_block(f"example: {name}", "python", guide)
    exec(compile(source, f"docs/{guide} ({name})", "exec"), namespace)
    result = TestResult()
    loader = TestLoader()
    for value in list(namespace.values()):
        if (
            isinstance(value, type)
            and issubclass(value, SynchronousTestCase)
            and value.__module__ == module
        ):
            loader.loadClass(value).run(result)
    problems = [str(failure) for _, failure in result.errors + result.failures]
    case.assertEqual(problems, [])
    case.assertEqual(result.testsRun, tests)
    return namespace
