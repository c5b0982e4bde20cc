"""
The TCP contract: what "behaves like the real reactor" means for
L{poetry.testing.MemoryNetwork}.

This follows the verified-fake pattern of Twisted's C{twisted/python/fakepwd.py}
and C{twisted/python/test/test_fakepwd.py}: one behaviour mixin,
L{TCPContractMixin}, is run twice --

  - by C{tests.integration.test_tcp_contract} against the real reactor on
    C{127.0.0.1}, port 0.  That run tells the truth: every assertion here was
    first made to pass there;
  - by C{tests.unit.test_tcp_contract} against a fresh C{MemoryNetwork}, the
    fake that must not drift from it.

Every test is a I{scenario}: an C{async def} that uses only C{self.reactor}
(C{listenTCP}, C{connectTCP}, C{callLater}, endpoints) and waits only on
L{Deferred}s fired by protocol, factory and producer callbacks (the recording
helpers below), never on wall-clock sleeps.  The L{scenario} decorator turns it
into a test method that hands the coroutine's L{Deferred} to
L{TCPContractMixin.drive}: the real backend returns it for trial to wait on; the
memory backend runs its network until it fires.  Cleanups (aborting leftover
connections and waiting for both sides' C{connectionLost}, stopping ports) are
scenarios too, so trial's dirty-reactor check means something on the real
reactor and C{assert_clean()} means something on the memory one.

A few tests must check that something does I{not} happen (a stalled
producer, a connection that must stay open, a write that must not arrive);
they let the world run with C{deferLater(self.reactor, SETTLE_SECONDS)} --
real time on the real reactor, virtual time on the memory network -- and
never assert on durations.  Data may arrive in any chunking on real
TCP, so tests compare concatenated bytes, never chunk boundaries.

Comments marked B{Observed:} record real-reactor behaviour that surprised us (or
that a naive fake gets wrong); they were verified against Twisted 26.10's epoll
reactor on Linux and are pinned by the test they sit in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    clientFromString,
    connectProtocol,
    serverFromString,
)
from twisted.internet.error import (
    AlreadyCalled,
    AlreadyCancelled,
    CannotListenError,
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    NotConnectingError,
    UserError,
)
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IHalfCloseableProtocol,
    IListeningPort,
    IProducer,
    IPullProducer,
    IPushProducer,
)
from twisted.internet.protocol import ClientFactory, ServerFactory, connectionDone
from twisted.internet.protocol import Protocol as TwistedProtocol
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

if TYPE_CHECKING:
    from twisted.trial.unittest import SynchronousTestCase

    _TestCaseBase = SynchronousTestCase
else:
    _TestCaseBase = object

__all__ = [
    "SETTLE_SECONDS",
    "ChunkPushProducer",
    "EchoProtocol",
    "ExplodingProtocol",
    "Explosion",
    "GreetingProtocol",
    "HalfCloseableRecordingProtocol",
    "Pair",
    "RecordingClientFactory",
    "RecordingProtocol",
    "RecordingPullProducer",
    "RecordingPushProducer",
    "RecordingServerFactory",
    "TCPContractMixin",
    "TCPTransport",
    "Waitable",
    "chunkFor",
    "portNumber",
    "scenario",
    "stream",
]

_M = TypeVar("_M", bound="TCPContractMixin")

_log = Logger()

#: How long "nothing more happens" checks wait between looks: real seconds on
#: the real reactor, virtual seconds on the memory network.
SETTLE_SECONDS = 0.05


class TCPTransport(Protocol):
    """
    The transport methods the contract uses: L{ITCPTransport} plus
    L{IConsumer} and L{IPushProducer}, which every TCP transport of the real
    reactor (and of C{MemoryNetwork}) provides.
    """

    def write(self, data: bytes) -> None: ...

    def writeSequence(self, data: Iterable[bytes]) -> None: ...

    def loseConnection(self) -> None: ...

    def abortConnection(self) -> None: ...

    def loseWriteConnection(self) -> None: ...

    def getHost(self) -> IAddress: ...

    def getPeer(self) -> IAddress: ...

    def registerProducer(self, producer: IProducer, streaming: bool) -> None: ...

    def unregisterProducer(self) -> None: ...

    def pauseProducing(self) -> None: ...

    def resumeProducing(self) -> None: ...

    def getTcpNoDelay(self) -> bool: ...

    def setTcpNoDelay(self, enabled: bool) -> None: ...

    def getTcpKeepAlive(self) -> bool: ...

    def setTcpKeepAlive(self, enabled: bool) -> None: ...


class Waitable:
    """
    Something whose state changes on callbacks, with L{Deferred}s that fire
    (synchronously, inside the callback that made them true) when a condition
    on that state becomes true.
    """

    def __init__(self) -> None:
        self._waiters: list[tuple[Callable[[], bool], Deferred[None]]] = []

    def waitFor(self, condition: Callable[[], bool]) -> Deferred[None]:
        """
        @return: a L{Deferred} that fires with L{None} as soon as C{condition()}
            is true: at once if it already is, else inside the callback that
            makes it true.
        """
        d: Deferred[None] = Deferred()
        if condition():
            d.callback(None)
        else:
            self._waiters.append((condition, d))
        return d

    def _changed(self) -> None:
        """
        Fire the waiters whose condition has become true.
        """
        while self._waiters:
            for index, (condition, d) in enumerate(self._waiters):
                if condition():
                    del self._waiters[index]
                    d.callback(None)
                    break
            else:
                return


class RecordingProtocol(Waitable, TwistedProtocol):
    """
    A protocol that records every callback it gets, in order, in C{events}:
    C{("connectionMade", None)}, C{("dataReceived", bytes)},
    C{("connectionLost", reason type)} (and, in
    L{HalfCloseableRecordingProtocol}, C{("readConnectionLost", None)} and
    C{("writeConnectionLost", None)}).
    """

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, object]] = []
        self.chunks: list[bytes] = []
        self.receivedCount = 0
        self.lostReason: Failure | None = None

    @property
    def tcp(self) -> TCPTransport:
        """
        The transport, typed as a TCP transport.
        """
        assert self.transport is not None, "not connected yet"
        return cast(TCPTransport, self.transport)

    @property
    def received(self) -> bytes:
        """
        Every byte received so far, concatenated.
        """
        return b"".join(self.chunks)

    def milestones(self) -> list[str]:
        """
        The names of the callbacks received so far, without C{dataReceived}
        (whose number depends on how TCP happened to chunk the data).
        """
        return [name for name, _ in self.events if name != "dataReceived"]

    def _record(self, name: str, detail: object = None) -> None:
        self.events.append((name, detail))
        self._changed()

    def connectionMade(self) -> None:
        self._record("connectionMade")

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)
        self.receivedCount += len(data)
        self._record("dataReceived", data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lostReason = reason
        self._record("connectionLost", reason.type)

    @property
    def lostType(self) -> object:
        """
        The type of the C{connectionLost} reason, or L{None} if not lost yet.
        """
        return None if self.lostReason is None else self.lostReason.type

    def whenMade(self) -> Deferred[None]:
        """
        @return: a L{Deferred} firing once C{connectionMade} has been called.
        """
        return self.waitFor(lambda: "connectionMade" in self.milestones())

    def whenReceived(self, count: int) -> Deferred[None]:
        """
        @return: a L{Deferred} firing once at least C{count} bytes arrived.
        """
        return self.waitFor(lambda: self.receivedCount >= count)

    def whenLost(self) -> Deferred[None]:
        """
        @return: a L{Deferred} firing once C{connectionLost} has been called.
        """
        return self.waitFor(lambda: self.lostReason is not None)

    def when(self, milestone: str) -> Deferred[None]:
        """
        @return: a L{Deferred} firing once the named callback has been called.
        """
        return self.waitFor(lambda: milestone in self.milestones())


@implementer(IHalfCloseableProtocol)
class HalfCloseableRecordingProtocol(RecordingProtocol):
    """
    A L{RecordingProtocol} that also provides L{IHalfCloseableProtocol}.
    """

    def readConnectionLost(self) -> None:
        self._record("readConnectionLost")

    def writeConnectionLost(self) -> None:
        self._record("writeConnectionLost")


class Explosion(Exception):
    """
    Raised on purpose by L{ExplodingProtocol}.
    """


class ExplodingProtocol(RecordingProtocol):
    """
    A L{RecordingProtocol} whose C{dataReceived} raises L{Explosion}.
    """

    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(data)
        raise Explosion(f"exploded on {data!r}")


class EchoProtocol(RecordingProtocol):
    """
    A L{RecordingProtocol} that writes back whatever it receives.
    """

    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(data)
        self.tcp.write(data)


class GreetingProtocol(RecordingProtocol):
    """
    A L{RecordingProtocol} that writes C{greeting} from C{connectionMade} and,
    if C{thenClose}, calls C{loseConnection()} right after (the way a poetry
    server sends its poem).
    """

    def __init__(self, greeting: bytes, thenClose: bool) -> None:
        super().__init__()
        self.greeting = greeting
        self.thenClose = thenClose

    def connectionMade(self) -> None:
        super().connectionMade()
        self.tcp.write(self.greeting)
        if self.thenClose:
            self.tcp.loseConnection()


class RecordingServerFactory(Waitable, ServerFactory[RecordingProtocol]):
    """
    A server factory that records C{buildProtocol} addresses, C{doStart} and
    C{doStop}, and builds protocols with C{protocolFactory} (which may return
    L{None} to refuse the connection).
    """

    def __init__(
        self,
        protocolFactory: Callable[[], RecordingProtocol | None] = RecordingProtocol,
    ) -> None:
        super().__init__()
        self.protocolFactory = protocolFactory
        self.events: list[tuple[str, object]] = []
        self.addresses: list[IAddress | None] = []
        self.protocols: list[RecordingProtocol] = []

    def names(self) -> list[str]:
        """
        The names of the factory callbacks so far.
        """
        return [name for name, _ in self.events]

    def doStart(self) -> None:
        self.events.append(("doStart", None))
        super().doStart()
        self._changed()

    def doStop(self) -> None:
        self.events.append(("doStop", None))
        super().doStop()
        self._changed()

    def buildProtocol(self, addr: IAddress | None) -> RecordingProtocol | None:
        self.events.append(("buildProtocol", addr))
        self.addresses.append(addr)
        protocol = self.protocolFactory()
        if protocol is not None:
            protocol.factory = self
            self.protocols.append(protocol)
        self._changed()
        return protocol

    async def connected(self, index: int = 0) -> RecordingProtocol:
        """
        Wait for the C{index}-th protocol built here to get C{connectionMade}.
        """
        await self.waitFor(lambda: len(self.protocols) > index)
        protocol = self.protocols[index]
        await protocol.whenMade()
        return protocol


class RecordingClientFactory(Waitable, ClientFactory[RecordingProtocol]):
    """
    A client factory that records every callback in C{events}:
    C{("doStart", None)}, C{("startedConnecting", connector)},
    C{("buildProtocol", addr)}, C{("clientConnectionFailed", reason type)},
    C{("clientConnectionLost", reason type)}, C{("doStop", None)}.

    @ivar reconnect: if set, the next C{clientConnectionLost} calls
        C{connector.connect()} (once).
    """

    def __init__(
        self,
        protocolFactory: Callable[[], RecordingProtocol | None] = RecordingProtocol,
    ) -> None:
        super().__init__()
        self.protocolFactory = protocolFactory
        self.events: list[tuple[str, object]] = []
        self.built: RecordingProtocol | None = None
        self.failReason: Failure | None = None
        self.lostReason: Failure | None = None
        self.reconnect = False

    def names(self) -> list[str]:
        """
        The names of the factory callbacks so far.
        """
        return [name for name, _ in self.events]

    def _record(self, name: str, detail: object = None) -> None:
        self.events.append((name, detail))
        self._changed()

    def doStart(self) -> None:
        super().doStart()
        self._record("doStart")

    def doStop(self) -> None:
        super().doStop()
        self._record("doStop")

    def startedConnecting(self, connector: IConnector) -> None:
        self._record("startedConnecting", connector)

    def buildProtocol(self, addr: IAddress | None) -> RecordingProtocol | None:
        protocol = self.protocolFactory()
        if protocol is not None:
            protocol.factory = self
            self.built = protocol
        self._record("buildProtocol", addr)
        return protocol

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.failReason = reason
        self._record("clientConnectionFailed", reason.type)

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        self.lostReason = reason
        self._record("clientConnectionLost", reason.type)
        if self.reconnect:
            self.reconnect = False
            connector.connect()

    def whenFailed(self) -> Deferred[None]:
        """
        @return: a L{Deferred} firing once C{clientConnectionFailed} was called.
        """
        return self.waitFor(lambda: self.failReason is not None)

    def whenStopped(self) -> Deferred[None]:
        """
        @return: a L{Deferred} firing once C{doStop} was called.
        """
        return self.waitFor(lambda: "doStop" in self.names())

    async def connected(self) -> RecordingProtocol:
        """
        Wait for the protocol built here to get C{connectionMade}.
        """
        await self.waitFor(lambda: self.built is not None)
        assert self.built is not None
        await self.built.whenMade()
        return self.built


@implementer(IPushProducer)
class RecordingPushProducer(Waitable):
    """
    A streaming producer that writes nothing and records C{"pause"},
    C{"resume"} and C{"stop"} in C{events}.
    """

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def pauseProducing(self) -> None:
        self.events.append("pause")
        self._changed()

    def resumeProducing(self) -> None:
        self.events.append("resume")
        self._changed()

    def stopProducing(self) -> None:
        self.events.append("stop")
        self._changed()


def chunkFor(index: int, size: int) -> bytes:
    """
    The C{index}-th chunk of a stream: C{size} bytes (a multiple of 8) that
    differ from every other chunk's, so that a lost, repeated or reordered
    chunk changes the stream.
    """
    return index.to_bytes(8, "big") * (size // 8)


def stream(count: int, size: int) -> bytes:
    """
    The concatenation of the first C{count} chunks of L{chunkFor}.
    """
    return b"".join(chunkFor(index, size) for index in range(count))


@implementer(IPushProducer)
class ChunkPushProducer(Waitable):
    """
    A well-behaved streaming producer: while not paused it writes chunks of
    L{chunkFor} to C{transport}; once C{count} chunks are written it
    unregisters itself and calls C{loseConnection()}.

    @ivar events: C{"pause"}, C{"resume"}, C{"stop"}, C{"finished"} in order.
    """

    def __init__(self, transport: TCPTransport, count: int, size: int) -> None:
        super().__init__()
        self.transport = transport
        self.count = count
        self.size = size
        self.written = 0
        self.paused = False
        self.stopped = False
        self.finished = False
        self.events: list[str] = []
        self._producing = False

    @property
    def total(self) -> int:
        """
        How many bytes this producer writes in all.
        """
        return self.count * self.size

    def start(self) -> None:
        """
        Register with the transport and start writing.
        """
        self.transport.registerProducer(self, True)
        self._produce()

    def _produce(self) -> None:
        if self._producing:
            return
        self._producing = True
        try:
            while not (self.paused or self.stopped) and self.written < self.total:
                self.transport.write(chunkFor(self.written // self.size, self.size))
                self.written += self.size
            if self.written >= self.total and not self.finished:
                self.finished = True
                self.events.append("finished")
                self.transport.unregisterProducer()
                self.transport.loseConnection()
        finally:
            self._producing = False
        self._changed()

    def pauseProducing(self) -> None:
        self.events.append("pause")
        self.paused = True
        self._changed()

    def resumeProducing(self) -> None:
        self.events.append("resume")
        self.paused = False
        self._produce()

    def stopProducing(self) -> None:
        self.events.append("stop")
        self.stopped = True
        self._changed()


@implementer(IPullProducer)
class RecordingPullProducer(Waitable):
    """
    A pull producer: each C{resumeProducing} writes the next of C{count} chunks
    of L{chunkFor}; the call after the last chunk unregisters it instead.

    @ivar events: C{"resume"}, C{"unregistered"}, C{"stop"} in order.
    """

    def __init__(self, transport: TCPTransport, count: int, size: int) -> None:
        super().__init__()
        self.transport = transport
        self.count = count
        self.size = size
        self.sent = 0
        self.events: list[str] = []

    def resumeProducing(self) -> None:
        self.events.append("resume")
        if self.sent < self.count:
            self.transport.write(chunkFor(self.sent, self.size))
            self.sent += 1
        else:
            self.transport.unregisterProducer()
            self.events.append("unregistered")
        self._changed()

    def stopProducing(self) -> None:
        self.events.append("stop")
        self._changed()


class Pair:
    """
    A connected client and server made by L{TCPContractMixin.connectPair}.
    """

    def __init__(
        self,
        port: IListeningPort,
        serverFactory: RecordingServerFactory,
        clientFactory: RecordingClientFactory,
        connector: IConnector,
        server: RecordingProtocol,
        client: RecordingProtocol,
    ) -> None:
        self.port = port
        self.serverFactory = serverFactory
        self.clientFactory = clientFactory
        self.connector = connector
        self.server = server
        self.client = client


def scenario(
    f: Callable[[_M], Coroutine[Any, Any, None]],
) -> Callable[[_M], Deferred[None] | None]:
    """
    Turn an C{async def} scenario into a test method that hands its
    L{Deferred} to C{self.drive}.  The scenario's own cleanups
    (L{TCPContractMixin.cleanupScenario}) run at its end, inside the same
    L{Deferred}, whether it succeeded or failed.
    """

    @functools.wraps(f)
    def test(self: _M) -> Deferred[None] | None:
        return self.drive(Deferred.fromCoroutine(self.runScenario(f)))

    return test


def portNumber(port: IListeningPort) -> int:
    """
    The TCP port number a listening port is bound to.
    """
    address = port.getHost()
    assert isinstance(address, IPv4Address), address
    return address.port


class TCPContractMixin(_TestCaseBase):
    """
    TCP behaviours every backend must show.  A backend test case sets
    C{self.reactor} in C{setUp} and implements L{drive}.

    @ivar reactor: the reactor under test (L{IReactorTCP} and L{IReactorTime}).
    @ivar interface: the loopback address everything listens on and connects to.
    """

    reactor: Any
    interface = "127.0.0.1"

    # -- backend hooks ---------------------------------------------------------

    def drive(self, d: Deferred[None]) -> Deferred[None] | None:
        """
        Make C{d} fire: return it for trial to wait on (real reactor), or run
        the world until it fires (memory network).
        """
        raise NotImplementedError()

    def resetPeer(self, transport: TCPTransport) -> None:
        """
        Reset the connection of C{transport} so that the other end sees a
        reset (C{RST}), not an orderly close: on the real reactor, close the
        socket with C{SO_LINGER} (1, 0); on the memory network, inject the
        C{reset} fault.  The end that resets may see any L{ConnectionLost}
        (the real reactor reports L{ConnectionAborted}, a subclass).
        """
        raise NotImplementedError()

    # -- helpers ---------------------------------------------------------------

    def cleanupScenario(
        self, f: Callable[..., Coroutine[Any, Any, object]], *args: object
    ) -> None:
        """
        Run C{f(*args)} when the current scenario ends, after the cleanups
        registered later (last in, first out).

        Scenario cleanups run inside the scenario's L{Deferred} rather than as
        trial cleanups, so that everything is closed before C{tearDown}: a
        backend may check cleanliness there (C{MemoryNetworkTestCase} does).
        """
        self.__dict__.setdefault("_scenarioCleanups", []).append((f, args))

    async def runScenario(self, f: Callable[[_M], Coroutine[Any, Any, None]]) -> None:
        """
        Run the scenario C{f(self)}, then its cleanups.  If the scenario
        failed, that failure is what is reported (cleanup failures are logged
        as secondary); otherwise the first cleanup failure is.
        """
        failures: list[Failure] = []
        try:
            await f(cast(_M, self))
        except BaseException:
            failures.append(Failure())
        cleanups: list[
            tuple[Callable[..., Coroutine[Any, Any, object]], tuple[object, ...]]
        ]
        cleanups = self.__dict__.get("_scenarioCleanups", [])
        while cleanups:
            cleanup, args = cleanups.pop()
            try:
                await cleanup(*args)
            except BaseException:
                failures.append(Failure())
        if failures:
            for secondary in failures[1:]:
                _log.failure("Scenario cleanup failed too", secondary)
            failures[0].raiseException()

    def listen(self, factory: ServerFactory[Any]) -> IListeningPort:
        """
        Listen on port 0 of C{self.interface}; stop listening at cleanup.
        """
        port: IListeningPort = self.reactor.listenTCP(
            0, factory, interface=self.interface
        )
        self.cleanupScenario(self.stopListening, port)
        return port

    async def stopListening(self, port: IListeningPort) -> None:
        """
        Stop C{port} and wait until it has stopped; harmless if already done.
        """
        await maybeDeferred(port.stopListening)

    async def closedPort(self) -> int:
        """
        A port number nobody listens on: listen on 0, note it, stop listening.
        """
        port = self.reactor.listenTCP(0, ServerFactory(), interface=self.interface)
        number = portNumber(port)
        await self.stopListening(port)
        return number

    def connect(self, port: int, factory: RecordingClientFactory) -> IConnector:
        """
        C{connectTCP} to C{port} on C{self.interface}.
        """
        connector: IConnector = self.reactor.connectTCP(self.interface, port, factory)
        return connector

    def closeAtCleanup(self, *protocols: RecordingProtocol) -> None:
        """
        At cleanup, abort every one of C{protocols} still connected and wait
        for each C{connectionLost}.
        """
        self.cleanupScenario(self.abortAndWait, *protocols)

    async def abortAndWait(self, *protocols: RecordingProtocol) -> None:
        """
        Abort each of C{protocols} not yet lost; wait for all to be lost.
        """
        for protocol in protocols:
            if protocol.lostReason is None and protocol.transport is not None:
                protocol.tcp.abortConnection()
        for protocol in protocols:
            await protocol.whenLost()

    async def connectPair(
        self,
        serverProtocol: Callable[[], RecordingProtocol] = RecordingProtocol,
        clientProtocol: Callable[[], RecordingProtocol] = RecordingProtocol,
    ) -> Pair:
        """
        Listen, connect, and wait for C{connectionMade} on both sides.  At
        cleanup both sides are aborted if still open and waited for.
        """
        serverFactory = RecordingServerFactory(serverProtocol)
        port = self.listen(serverFactory)
        clientFactory = RecordingClientFactory(clientProtocol)
        connector = self.connect(portNumber(port), clientFactory)
        client = await clientFactory.connected()
        server = await serverFactory.connected()
        self.closeAtCleanup(client, server)
        return Pair(port, serverFactory, clientFactory, connector, server, client)

    async def settle(self) -> None:
        """
        Let the world run for L{SETTLE_SECONDS} (real or virtual).
        """
        await deferLater(self.reactor, SETTLE_SECONDS, lambda: None)

    async def closeCleanly(
        self, client: RecordingProtocol, server: RecordingProtocol
    ) -> None:
        """
        Close from the client side and check both sides saw C{ConnectionDone}.
        """
        client.tcp.loseConnection()
        await client.whenLost()
        await server.whenLost()
        self.assertEqual(client.lostType, ConnectionDone)
        self.assertEqual(server.lostType, ConnectionDone)

    async def pingPong(
        self, client: RecordingProtocol, server: RecordingProtocol
    ) -> None:
        """
        Send a message each way and close cleanly.
        """
        client.tcp.write(b"ping")
        await server.whenReceived(4)
        server.tcp.write(b"pong")
        await client.whenReceived(4)
        self.assertEqual((server.received, client.received), (b"ping", b"pong"))
        await self.closeCleanly(client, server)

    # -- connecting ------------------------------------------------------------

    @scenario
    async def test_connectionMadeOnBothSides(self) -> None:
        """
        A connection to a listening port calls C{connectionMade} once on each
        side, before anything else.
        """
        pair = await self.connectPair()
        self.assertEqual(pair.client.milestones(), ["connectionMade"])
        self.assertEqual(pair.server.milestones(), ["connectionMade"])
        self.assertEqual(len(pair.serverFactory.protocols), 1)
        await self.closeCleanly(pair.client, pair.server)

    @scenario
    async def test_connectTCPStartsConnectingSynchronously(self) -> None:
        """
        C{connectTCP} calls the client factory's C{doStart} and then
        C{startedConnecting(connector)} before it returns, with the very
        connector it returns; C{buildProtocol} comes only later.
        """
        serverFactory = RecordingServerFactory()
        port = self.listen(serverFactory)
        clientFactory = RecordingClientFactory()
        connector = self.connect(portNumber(port), clientFactory)
        self.assertEqual(clientFactory.names(), ["doStart", "startedConnecting"])
        self.assertIs(clientFactory.events[1][1], connector)
        self.assertEqual(serverFactory.addresses, [])
        client = await clientFactory.connected()
        server = await serverFactory.connected()
        self.closeAtCleanup(client, server)
        self.assertEqual(
            clientFactory.names(), ["doStart", "startedConnecting", "buildProtocol"]
        )
        await self.closeCleanly(client, server)

    @scenario
    async def test_buildProtocolGetsPeerAddress(self) -> None:
        """
        The server factory's C{buildProtocol} gets the client's address and
        the client factory's gets the server's: real L{IPv4Address}es equal to
        each protocol's C{transport.getPeer()}.
        """
        pair = await self.connectPair()
        serverSeen = pair.serverFactory.addresses
        clientSeen = [
            address
            for name, address in pair.clientFactory.events
            if name == "buildProtocol"
        ]
        self.assertEqual(serverSeen, [pair.server.tcp.getPeer()])
        self.assertEqual(clientSeen, [pair.client.tcp.getPeer()])
        self.assertEqual(
            clientSeen, [IPv4Address("TCP", self.interface, portNumber(pair.port))]
        )
        self.assertIsInstance(serverSeen[0], IPv4Address)
        await self.closeCleanly(pair.client, pair.server)

    @scenario
    async def test_addressesAgreeOnBothEnds(self) -> None:
        """
        C{client.getPeer() == server.getHost()} is the listening address;
        C{server.getPeer() == client.getHost()} is the client's loopback
        address with an ephemeral port, nonzero and unlike the server's.
        """
        pair = await self.connectPair()
        client, server = pair.client.tcp, pair.server.tcp
        listening = IPv4Address("TCP", self.interface, portNumber(pair.port))
        self.assertEqual(client.getPeer(), listening)
        self.assertEqual(server.getHost(), listening)
        self.assertEqual(server.getPeer(), client.getHost())
        clientAddress = client.getHost()
        assert isinstance(clientAddress, IPv4Address), clientAddress
        self.assertEqual(clientAddress.type, "TCP")
        self.assertEqual(clientAddress.host, self.interface)
        self.assertNotIn(clientAddress.port, (0, listening.port))
        await self.closeCleanly(pair.client, pair.server)

    @scenario
    async def test_connectorDestination(self) -> None:
        """
        The connector's C{getDestination()} is the address it connects to.
        """
        pair = await self.connectPair()
        self.assertEqual(
            pair.connector.getDestination(),
            IPv4Address("TCP", self.interface, portNumber(pair.port)),
        )
        await self.closeCleanly(pair.client, pair.server)

    @scenario
    async def test_connectionRefused(self) -> None:
        """
        Connecting to a port nobody listens on calls C{clientConnectionFailed}
        with L{ConnectionRefusedError} -- later, not inside C{connectTCP} --
        and then C{doStop}; no protocol is ever built.
        """
        port = await self.closedPort()
        clientFactory = RecordingClientFactory()
        self.connect(port, clientFactory)
        self.assertEqual(clientFactory.names(), ["doStart", "startedConnecting"])
        await clientFactory.whenStopped()
        self.assertEqual(
            clientFactory.names(),
            ["doStart", "startedConnecting", "clientConnectionFailed", "doStop"],
        )
        assert clientFactory.failReason is not None
        self.assertTrue(clientFactory.failReason.check(ConnectionRefusedError))

    @scenario
    async def test_stopConnectingFailsSynchronously(self) -> None:
        """
        C{stopConnecting()} before the connection is made calls
        C{clientConnectionFailed} with L{UserError} and then C{doStop}
        I{inside} the call; no protocol is built afterwards.
        """
        # Observed: BaseConnector.stopConnecting -> failIfNotConnected ->
        # connectionFailed runs the factory callbacks synchronously.
        serverFactory = RecordingServerFactory()
        port = self.listen(serverFactory)
        clientFactory = RecordingClientFactory()
        connector = self.connect(portNumber(port), clientFactory)
        connector.stopConnecting()
        self.assertEqual(
            clientFactory.names(),
            ["doStart", "startedConnecting", "clientConnectionFailed", "doStop"],
        )
        assert clientFactory.failReason is not None
        self.assertTrue(clientFactory.failReason.check(UserError))
        await self.settle()
        self.assertNotIn("buildProtocol", clientFactory.names())
        self.assertIsNone(clientFactory.built)

    @scenario
    async def test_stopConnectingWhenConnectedRaises(self) -> None:
        """
        C{stopConnecting()} on a connector whose connection is made raises
        L{NotConnectingError} and leaves the connection alone.
        """
        pair = await self.connectPair()
        self.assertRaises(NotConnectingError, pair.connector.stopConnecting)
        await self.pingPong(pair.client, pair.server)

    @scenario
    async def test_connectorDisconnectClosesConnection(self) -> None:
        """
        C{connector.disconnect()} on a made connection closes it cleanly:
        C{ConnectionDone} on both sides, then the factory's
        C{clientConnectionLost(ConnectionDone)} and C{doStop}.
        """
        pair = await self.connectPair()
        pair.connector.disconnect()
        await pair.clientFactory.whenStopped()
        await pair.server.whenLost()
        self.assertEqual(pair.client.lostType, ConnectionDone)
        self.assertEqual(pair.server.lostType, ConnectionDone)
        self.assertEqual(
            pair.clientFactory.names()[-2:], ["clientConnectionLost", "doStop"]
        )
        assert pair.clientFactory.lostReason is not None
        self.assertTrue(pair.clientFactory.lostReason.check(ConnectionDone))

    @scenario
    async def test_connectorReconnectsFromClientConnectionLost(self) -> None:
        """
        C{connector.connect()} called from C{clientConnectionLost} (the
        reconnecting-factory pattern) connects again to the same destination
        with a new protocol; C{doStop} is not called in between.
        """
        pair = await self.connectPair()
        first = pair.client
        clientFactory = pair.clientFactory
        clientFactory.reconnect = True
        first.tcp.loseConnection()
        await first.whenLost()
        await clientFactory.waitFor(lambda: clientFactory.built is not first)
        second = await clientFactory.connected()
        server = await pair.serverFactory.connected(1)
        self.assertEqual(
            clientFactory.names(),
            [
                "doStart",
                "startedConnecting",
                "buildProtocol",
                "clientConnectionLost",
                "startedConnecting",
                "buildProtocol",
            ],
        )
        self.assertEqual(
            second.tcp.getPeer(),
            IPv4Address("TCP", self.interface, portNumber(pair.port)),
        )
        await self.pingPong(second, server)

    @scenario
    async def test_bindAddress(self) -> None:
        """
        C{connectTCP(..., bindAddress=(host, port))} makes the connection from
        that address: the client's C{getHost()} and the server's C{getPeer()}
        both report it.
        """
        free = await self.closedPort()
        serverFactory = RecordingServerFactory()
        port = self.listen(serverFactory)
        clientFactory = RecordingClientFactory()
        self.reactor.connectTCP(
            self.interface,
            portNumber(port),
            clientFactory,
            bindAddress=(self.interface, free),
        )
        client = await clientFactory.connected()
        server = await serverFactory.connected()
        self.closeAtCleanup(client, server)
        bound = IPv4Address("TCP", self.interface, free)
        self.assertEqual(client.tcp.getHost(), bound)
        self.assertEqual(server.tcp.getPeer(), bound)
        self.assertEqual(serverFactory.addresses, [bound])
        await self.pingPong(client, server)

    @scenario
    async def test_serverFactoryReturningNone(self) -> None:
        """
        When the server factory's C{buildProtocol} returns L{None}, the client
        still gets C{connectionMade} (TCP accepted it) and then
        C{connectionLost(ConnectionDone)}.
        """
        serverFactory = RecordingServerFactory(lambda: None)
        port = self.listen(serverFactory)
        clientFactory = RecordingClientFactory()
        self.connect(portNumber(port), clientFactory)
        client = await clientFactory.connected()
        self.closeAtCleanup(client)
        await client.whenLost()
        await clientFactory.whenStopped()
        self.assertEqual(client.milestones(), ["connectionMade", "connectionLost"])
        self.assertEqual(client.lostType, ConnectionDone)
        self.assertEqual(len(serverFactory.addresses), 1)
        self.assertIn("clientConnectionLost", clientFactory.names())

    @scenario
    async def test_clientFactoryReturningNone(self) -> None:
        """
        When the client factory's C{buildProtocol} returns L{None}, the
        connection is dropped: the server sees C{connectionMade} then
        C{ConnectionDone}, and the client factory gets
        C{clientConnectionLost(ConnectionDone)}, not C{clientConnectionFailed}.
        """
        serverFactory = RecordingServerFactory()
        port = self.listen(serverFactory)
        clientFactory = RecordingClientFactory(lambda: None)
        self.connect(portNumber(port), clientFactory)
        server = await serverFactory.connected()
        self.closeAtCleanup(server)
        await server.whenLost()
        await clientFactory.whenStopped()
        self.assertEqual(server.lostType, ConnectionDone)
        self.assertEqual(
            clientFactory.names(),
            [
                "doStart",
                "startedConnecting",
                "buildProtocol",
                "clientConnectionLost",
                "doStop",
            ],
        )
        assert clientFactory.lostReason is not None
        self.assertTrue(clientFactory.lostReason.check(ConnectionDone))

    @scenario
    async def test_concurrentConnectionsAreIsolated(self) -> None:
        """
        Ten clients connected at once to one port each get their own server
        protocol and receive exactly the echo of their own bytes.
        """
        serverFactory = RecordingServerFactory(EchoProtocol)
        port = self.listen(serverFactory)
        clientFactories = [RecordingClientFactory() for _ in range(10)]
        for factory in clientFactories:
            self.connect(portNumber(port), factory)
        clients = [await factory.connected() for factory in clientFactories]
        servers = [await serverFactory.connected(i) for i in range(10)]
        self.closeAtCleanup(*clients, *servers)
        for index, client in enumerate(clients):
            client.tcp.write(b"client %d says hello" % (index,))
        for index, client in enumerate(clients):
            message = b"client %d says hello" % (index,)
            await client.whenReceived(len(message))
            self.assertEqual(client.received, message)
        self.assertEqual(
            sorted(server.received for server in servers),
            sorted(b"client %d says hello" % (i,) for i in range(10)),
        )
        for client in clients:
            client.tcp.loseConnection()
        for protocol in clients + servers:
            await protocol.whenLost()
            self.assertEqual(protocol.lostType, ConnectionDone)

    # -- data ------------------------------------------------------------------

    @scenario
    async def test_writeAndCloseInConnectionMade(self) -> None:
        """
        A server that writes and closes from C{connectionMade} (as a poetry
        server does) delivers everything, then C{ConnectionDone} on both sides.
        """
        poem = stream(4, 8 * 1024)
        pair = await self.connectPair(lambda: GreetingProtocol(poem, thenClose=True))
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertEqual(pair.client.received, poem)
        self.assertEqual(pair.client.lostType, ConnectionDone)
        self.assertEqual(pair.server.lostType, ConnectionDone)

    @scenario
    async def test_writeInConnectionMadeArrivesAfterPeerConnectionMade(self) -> None:
        """
        Bytes a client writes from its C{connectionMade} reach the server after
        the server's own C{connectionMade}.
        """
        # (The client writes to a server that does not close: closing a socket
        # with unread bytes in it makes real TCP send a reset, a race no
        # contract test should depend on.)
        pair = await self.connectPair(
            clientProtocol=lambda: GreetingProtocol(b"hello", thenClose=False)
        )
        await pair.server.whenReceived(5)
        self.assertEqual(pair.server.received, b"hello")
        self.assertEqual(pair.server.milestones(), ["connectionMade"])
        self.assertEqual(pair.server.events[0], ("connectionMade", None))
        await self.closeCleanly(pair.client, pair.server)

    @scenario
    async def test_writesArriveInOrder(self) -> None:
        """
        Many small writes arrive complete and in order (however TCP chunks
        them).
        """
        pair = await self.connectPair()
        messages = [b"%05d," % (i,) for i in range(500)]
        for message in messages:
            pair.client.tcp.write(message)
        expected = b"".join(messages)
        await pair.server.whenReceived(len(expected))
        self.assertEqual(pair.server.received, expected)
        await self.closeCleanly(pair.client, pair.server)

    @scenario
    async def test_writeSequence(self) -> None:
        """
        C{writeSequence} delivers the concatenation of its parts, in order with
        surrounding C{write}s.
        """
        pair = await self.connectPair()
        pair.server.tcp.write(b"<")
        pair.server.tcp.writeSequence([b"one", b"", b"two", b"three"])
        pair.server.tcp.write(b">")
        await pair.client.whenReceived(13)
        self.assertEqual(pair.client.received, b"<onetwothree>")
        await self.closeCleanly(pair.client, pair.server)

    @scenario
    async def test_emptyWritesDeliverNothing(self) -> None:
        """
        Empty writes deliver nothing: no C{dataReceived(b"")} call, no bytes.
        """
        pair = await self.connectPair()
        pair.client.tcp.write(b"")
        pair.client.tcp.writeSequence([])
        pair.client.tcp.write(b"x")
        pair.client.tcp.write(b"")
        await pair.server.whenReceived(1)
        await self.closeCleanly(pair.client, pair.server)
        self.assertEqual(pair.server.received, b"x")
        self.assertNotIn(("dataReceived", b""), pair.server.events)

    @scenario
    async def test_writeTextRaisesTypeError(self) -> None:
        """
        C{write} and C{writeSequence} reject C{str} with L{TypeError}, both on
        an open connection and after it was closed; nothing is sent.
        """
        pair = await self.connectPair()
        text: Any = "not bytes"
        self.assertRaises(TypeError, pair.client.tcp.write, text)
        self.assertRaises(TypeError, pair.client.tcp.writeSequence, [b"ok", text])
        pair.client.tcp.write(b"fine")
        await pair.server.whenReceived(4)
        await self.closeCleanly(pair.client, pair.server)
        self.assertEqual(pair.server.received, b"fine")
        self.assertRaises(TypeError, pair.client.tcp.write, text)

    @scenario
    async def test_largeTransfersBothWaysAtOnce(self) -> None:
        """
        Two megabytes written each way at the same time, in 64 KiB writes,
        arrive intact on both sides.
        """
        pair = await self.connectPair()
        size, count = 64 * 1024, 32
        upstream = stream(count, size)
        downstream = upstream[::-1]
        for offset in range(0, len(upstream), size):
            pair.client.tcp.write(upstream[offset : offset + size])
            pair.server.tcp.write(downstream[offset : offset + size])
        await pair.server.whenReceived(len(upstream))
        await pair.client.whenReceived(len(downstream))
        self.assertEqual(pair.server.received, upstream)
        self.assertEqual(pair.client.received, downstream)
        await self.closeCleanly(pair.client, pair.server)

    # -- closing ---------------------------------------------------------------

    @scenario
    async def test_cleanCloseReasons(self) -> None:
        """
        C{loseConnection()} gives C{ConnectionDone} on both sides, and the
        client factory C{clientConnectionLost(ConnectionDone)}.
        """
        pair = await self.connectPair()
        pair.server.tcp.loseConnection()
        await pair.clientFactory.whenStopped()
        await pair.server.whenLost()
        self.assertEqual(pair.server.lostType, ConnectionDone)
        self.assertEqual(pair.client.lostType, ConnectionDone)
        assert pair.clientFactory.lostReason is not None
        self.assertTrue(pair.clientFactory.lostReason.check(ConnectionDone))

    @scenario
    async def test_loseConnectionFlushesPendingData(self) -> None:
        """
        Data written just before C{loseConnection()} is all delivered before
        the connection closes (C{ConnectionDone} on both sides).
        """
        pair = await self.connectPair()
        data = stream(16, 64 * 1024)
        pair.server.tcp.write(data)
        pair.server.tcp.loseConnection()
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertEqual(pair.client.received, data)
        self.assertEqual(pair.client.lostType, ConnectionDone)
        self.assertEqual(pair.server.lostType, ConnectionDone)

    @scenario
    async def test_connectionLostNotInsideClientLoseConnection(self) -> None:
        """
        The client's C{loseConnection()} returns before either side's
        C{connectionLost} runs; both run later.
        """
        pair = await self.connectPair()
        pair.client.tcp.write(b"bye")
        pair.client.tcp.loseConnection()
        self.assertEqual(pair.client.milestones(), ["connectionMade"])
        self.assertEqual(pair.server.milestones(), ["connectionMade"])
        await pair.server.whenLost()
        await pair.client.whenLost()
        self.assertEqual(pair.server.received, b"bye")

    @scenario
    async def test_connectionLostNotInsideServerLoseConnection(self) -> None:
        """
        The server's C{loseConnection()} returns before either side's
        C{connectionLost} runs; both run later.
        """
        pair = await self.connectPair()
        pair.server.tcp.loseConnection()
        self.assertEqual(pair.server.milestones(), ["connectionMade"])
        self.assertEqual(pair.client.milestones(), ["connectionMade"])
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertEqual(pair.client.lostType, ConnectionDone)

    @scenario
    async def test_loseConnectionTwiceIsHarmless(self) -> None:
        """
        Calling C{loseConnection()} twice closes once: one C{connectionLost}
        per side.
        """
        pair = await self.connectPair()
        pair.client.tcp.loseConnection()
        pair.client.tcp.loseConnection()
        await pair.client.whenLost()
        await pair.server.whenLost()
        pair.client.tcp.loseConnection()
        await self.settle()
        self.assertEqual(pair.client.milestones(), ["connectionMade", "connectionLost"])
        self.assertEqual(pair.server.milestones(), ["connectionMade", "connectionLost"])

    @scenario
    async def test_writeAfterLoseConnectionInSameCallIsDelivered(self) -> None:
        """
        Bytes written I{after} C{loseConnection()} but before the close has
        happened are still sent, before the close.
        """
        # Observed: loseConnection() only sets `disconnecting`; write() checks
        # `connected`, which stays true until connectionLost, so the bytes join
        # the buffer that is flushed before the FIN.  A fake that drops writes
        # once loseConnection() was called gets this wrong.
        pair = await self.connectPair()
        pair.server.tcp.write(b"a")
        pair.server.tcp.loseConnection()
        pair.server.tcp.write(b"b")
        pair.server.tcp.writeSequence([b"c"])
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertEqual(pair.client.received, b"abc")
        self.assertEqual(pair.client.lostType, ConnectionDone)

    @scenario
    async def test_writeAfterConnectionLostIsIgnored(self) -> None:
        """
        C{write} and C{writeSequence} after C{connectionLost} raise nothing and
        send nothing.
        """
        pair = await self.connectPair()
        await self.closeCleanly(pair.client, pair.server)
        pair.client.tcp.write(b"too late")
        pair.client.tcp.writeSequence([b"far", b"too late"])
        pair.server.tcp.write(b"too late")
        await self.settle()
        self.assertEqual(pair.server.received, b"")
        self.assertEqual(pair.client.received, b"")

    @scenario
    async def test_abortReasons(self) -> None:
        """
        C{abortConnection()} gives C{ConnectionAborted} locally and
        C{ConnectionLost} (a reset) on the peer -- both later, not inside the
        call -- and the client factory C{clientConnectionLost(ConnectionAborted)}.
        """
        # Observed: the real reactor sets SO_LINGER (1, 0) before close() on
        # abort, so the peer's recv() fails with ECONNRESET: ConnectionLost,
        # not ConnectionDone.
        pair = await self.connectPair()
        pair.client.tcp.abortConnection()
        self.assertEqual(pair.client.milestones(), ["connectionMade"])
        await pair.clientFactory.whenStopped()
        await pair.server.whenLost()
        self.assertEqual(pair.client.lostType, ConnectionAborted)
        self.assertEqual(pair.server.lostType, ConnectionLost)
        assert pair.clientFactory.lostReason is not None
        self.assertTrue(pair.clientFactory.lostReason.check(ConnectionAborted))

    @scenario
    async def test_simultaneousAbort(self) -> None:
        """
        When both sides call C{abortConnection()} in the same turn, each gets
        C{ConnectionAborted}: an aborting side reads nothing more, not even
        the peer's reset.
        """
        pair = await self.connectPair()
        pair.server.tcp.abortConnection()
        pair.client.tcp.abortConnection()
        await pair.clientFactory.whenStopped()
        await pair.server.whenLost()
        self.assertEqual(pair.client.lostType, ConnectionAborted)
        self.assertEqual(pair.server.lostType, ConnectionAborted)
        self.assertEqual(pair.client.milestones(), ["connectionMade", "connectionLost"])

    @scenario
    async def test_abortWhileThePeersCloseIsInFlight(self) -> None:
        """
        A side that aborts in the same turn as the peer's C{loseConnection()}
        gets C{ConnectionAborted} and never sees the peer's end-of-file, even
        when half-closeable.  The closing peer's reason depends on timing.
        """
        # Observed: on Linux loopback the real reactor runs the aborting
        # side's callLater(0) close (an RST, SO_LINGER 0) before the peer's
        # doWrite completes its close, so the peer gets ConnectionLost; the
        # harness completes the peer's close first (ConnectionDone).  Real
        # TCP gives no ordering guarantee here, so either is accepted.
        pair = await self.connectPair(
            HalfCloseableRecordingProtocol, HalfCloseableRecordingProtocol
        )
        pair.server.tcp.loseConnection()
        pair.client.tcp.abortConnection()
        await pair.clientFactory.whenStopped()
        await pair.server.whenLost()
        self.assertEqual(pair.client.lostType, ConnectionAborted)
        self.assertEqual(pair.client.milestones(), ["connectionMade", "connectionLost"])
        self.assertIn(pair.server.lostType, (ConnectionDone, ConnectionLost))

    @scenario
    async def test_abortDropsDataWrittenInTheSameCall(self) -> None:
        """
        Data written just before (or after) C{abortConnection()} in the same
        call never reaches the peer, and writing after the abort raises
        nothing.
        """
        # Observed: write() only buffers; sending happens on a later reactor
        # iteration, and abortConnection() disables doWrite, so the peer sees
        # none of the 1 MiB -- just the reset.
        pair = await self.connectPair()
        pair.server.tcp.write(stream(16, 64 * 1024))
        pair.server.tcp.abortConnection()
        pair.server.tcp.write(b"after abort")
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertEqual(pair.client.received, b"")
        self.assertEqual(pair.client.lostType, ConnectionLost)
        self.assertEqual(pair.server.lostType, ConnectionAborted)

    @scenario
    async def test_abortMidTransferDeliversOnlyAPrefix(self) -> None:
        """
        Aborting while a large transfer is under way (the peer has received
        some of it) leaves the peer with a strict prefix of what was written,
        and a reset.
        """
        # Observed: with 16 MiB queued, at most the kernel buffers' worth has
        # left when the peer sees its first bytes; the reset makes the peer
        # discard whatever it has not read yet.
        pair = await self.connectPair()
        data = stream(256, 64 * 1024)
        for offset in range(0, len(data), 64 * 1024):
            pair.server.tcp.write(data[offset : offset + 64 * 1024])
        await pair.client.whenReceived(1)
        pair.server.tcp.abortConnection()
        await pair.client.whenLost()
        await pair.server.whenLost()
        received = pair.client.received
        self.assertLess(len(received), len(data))
        self.assertEqual(received, data[: len(received)])
        self.assertEqual(pair.client.lostType, ConnectionLost)
        self.assertEqual(pair.server.lostType, ConnectionAborted)

    @scenario
    async def test_abortTwiceAndLoseAfterAbortAreHarmless(self) -> None:
        """
        A second C{abortConnection()} and a C{loseConnection()} after an abort
        change nothing: one C{connectionLost(ConnectionAborted)}.
        """
        pair = await self.connectPair()
        pair.client.tcp.abortConnection()
        pair.client.tcp.abortConnection()
        pair.client.tcp.loseConnection()
        await pair.client.whenLost()
        await pair.server.whenLost()
        await self.settle()
        self.assertEqual(pair.client.milestones(), ["connectionMade", "connectionLost"])
        self.assertEqual(pair.client.lostType, ConnectionAborted)
        self.assertEqual(pair.server.lostType, ConnectionLost)

    @scenario
    async def test_exceptionInDataReceivedClosesThatConnection(self) -> None:
        """
        An exception raised by C{dataReceived} is logged, closes that
        connection with the exception as the local C{connectionLost} reason
        and an orderly close (C{ConnectionDone}) on the peer; the port keeps
        serving new connections.
        """
        # Observed: the reactor logs the error and calls connectionLost with
        # Failure(the exception); the socket is shut down in an orderly way
        # (only an abort sends a reset), so the peer sees ConnectionDone.
        pair = await self.connectPair(serverProtocol=ExplodingProtocol)
        pair.client.tcp.write(b"boom")
        await pair.server.whenLost()
        await pair.client.whenLost()
        self.assertEqual(pair.server.lostType, Explosion)
        self.assertEqual(pair.client.lostType, ConnectionDone)
        self.assertEqual(len(self.flushLoggedErrors(Explosion)), 1)
        clientFactory = RecordingClientFactory()
        self.connect(portNumber(pair.port), clientFactory)
        client = await clientFactory.connected()
        server = await pair.serverFactory.connected(1)
        self.closeAtCleanup(client, server)
        await self.closeCleanly(client, server)

    # -- half-close ------------------------------------------------------------

    async def halfCloseScenario(
        self, closer: RecordingProtocol, peer: RecordingProtocol
    ) -> None:
        """
        C{closer} half-closes; check the callbacks on both sides, that data
        still flows from C{peer} to C{closer}, then close from C{peer}.
        """
        closer.tcp.write(b"last words")
        closer.tcp.loseWriteConnection()
        self.assertEqual(closer.milestones(), ["connectionMade"])
        await peer.when("readConnectionLost")
        await closer.when("writeConnectionLost")
        self.assertEqual(peer.received, b"last words")
        self.assertEqual(peer.milestones(), ["connectionMade", "readConnectionLost"])
        self.assertEqual(closer.milestones(), ["connectionMade", "writeConnectionLost"])
        peer.tcp.write(b"the reply")
        await closer.whenReceived(9)
        self.assertEqual(closer.received, b"the reply")
        peer.tcp.loseConnection()
        await peer.whenLost()
        await closer.when("readConnectionLost")
        self.assertEqual(peer.lostType, ConnectionDone)
        # Both directions are shut, but the half-closeable protocol is told
        # only readConnectionLost; see test_fullyShutConnectionWaitsForLose.
        closer.tcp.loseConnection()
        self.assertEqual(closer.lostType, ConnectionDone)

    @scenario
    async def test_halfCloseClientToServer(self) -> None:
        """
        The client's C{loseWriteConnection()} delivers pending data, then
        C{readConnectionLost} on the server and C{writeConnectionLost} on the
        client; the server can still send to the client; then it closes.
        """
        pair = await self.connectPair(
            HalfCloseableRecordingProtocol, HalfCloseableRecordingProtocol
        )
        await self.halfCloseScenario(pair.client, pair.server)

    @scenario
    async def test_halfCloseServerToClient(self) -> None:
        """
        The server's C{loseWriteConnection()} delivers pending data, then
        C{readConnectionLost} on the client and C{writeConnectionLost} on the
        server; the client can still send to the server; then it closes.
        """
        pair = await self.connectPair(
            HalfCloseableRecordingProtocol, HalfCloseableRecordingProtocol
        )
        await self.halfCloseScenario(pair.server, pair.client)

    @scenario
    async def test_fullyShutConnectionWaitsForLoseConnection(self) -> None:
        """
        A half-closeable protocol that shut its write side and then reads EOF
        gets C{readConnectionLost} and I{no} C{connectionLost}: the transport
        stays open until the protocol calls C{loseConnection()}, which then
        calls C{connectionLost(ConnectionDone)} I{inside} the call.
        """
        # Observed: nothing in the reactor notices that both directions are
        # shut.  FileDescriptor.loseConnection() with the write side already
        # shut ("_writeDisconnected") calls connectionLost synchronously --
        # the one case where connectionLost runs inside loseConnection().
        pair = await self.connectPair(
            HalfCloseableRecordingProtocol, HalfCloseableRecordingProtocol
        )
        pair.client.tcp.loseWriteConnection()
        await pair.server.when("readConnectionLost")
        await pair.client.when("writeConnectionLost")
        pair.server.tcp.loseConnection()
        await pair.server.whenLost()
        await pair.client.when("readConnectionLost")
        await self.settle()
        self.assertEqual(
            pair.client.milestones(),
            ["connectionMade", "writeConnectionLost", "readConnectionLost"],
        )
        pair.client.tcp.loseConnection()
        self.assertEqual(
            pair.client.milestones(),
            [
                "connectionMade",
                "writeConnectionLost",
                "readConnectionLost",
                "connectionLost",
            ],
        )
        self.assertEqual(pair.client.lostType, ConnectionDone)

    @scenario
    async def test_halfCloseToPeerNotHalfCloseable(self) -> None:
        """
        Half-closing towards a peer that does not provide
        L{IHalfCloseableProtocol} closes the peer's connection
        (C{ConnectionDone}); the half-closer gets C{writeConnectionLost}, then
        C{readConnectionLost} when the peer's close arrives.
        """
        pair = await self.connectPair(RecordingProtocol, HalfCloseableRecordingProtocol)
        pair.client.tcp.write(b"request")
        pair.client.tcp.loseWriteConnection()
        await pair.server.whenLost()
        await pair.client.when("readConnectionLost")
        self.assertEqual(pair.server.received, b"request")
        self.assertEqual(pair.server.lostType, ConnectionDone)
        self.assertEqual(
            pair.client.milestones(),
            ["connectionMade", "writeConnectionLost", "readConnectionLost"],
        )
        pair.client.tcp.loseConnection()
        self.assertEqual(pair.client.lostType, ConnectionDone)

    @scenario
    async def test_halfCloseByProtocolNotHalfCloseable(self) -> None:
        """
        A protocol without L{IHalfCloseableProtocol} may still call
        C{loseWriteConnection()}: it gets no callback for it, keeps receiving,
        and gets C{connectionLost(ConnectionDone)} when the peer closes.
        """
        pair = await self.connectPair(HalfCloseableRecordingProtocol, RecordingProtocol)
        pair.client.tcp.loseWriteConnection()
        await pair.server.when("readConnectionLost")
        pair.server.tcp.write(b"answer")
        pair.server.tcp.loseConnection()
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertEqual(pair.client.received, b"answer")
        self.assertEqual(pair.client.milestones(), ["connectionMade", "connectionLost"])
        self.assertEqual(pair.client.lostType, ConnectionDone)
        self.assertEqual(pair.server.lostType, ConnectionDone)

    @scenario
    async def test_writesAroundLoseWriteConnection(self) -> None:
        """
        A write right after C{loseWriteConnection()} (before the half-close has
        happened) is still delivered before the peer's C{readConnectionLost};
        a write after C{writeConnectionLost} is silently dropped.
        """
        # Observed: like loseConnection(), loseWriteConnection() only marks
        # the transport; write() is refused only once the shutdown happened.
        pair = await self.connectPair(
            HalfCloseableRecordingProtocol, HalfCloseableRecordingProtocol
        )
        pair.client.tcp.write(b"1")
        pair.client.tcp.loseWriteConnection()
        pair.client.tcp.write(b"2")
        await pair.client.when("writeConnectionLost")
        pair.client.tcp.write(b"3")
        await pair.server.when("readConnectionLost")
        await self.settle()
        self.assertEqual(pair.server.received, b"12")
        pair.server.tcp.loseConnection()
        await pair.server.whenLost()
        self.assertEqual(pair.server.received, b"12")
        await pair.client.when("readConnectionLost")
        pair.client.tcp.loseConnection()

    @scenario
    async def test_pausedTransportHearsNothingUntilResumed(self) -> None:
        """
        A protocol that paused its transport (C{pauseProducing()}) gets neither
        the peer's data nor the peer's close while paused; after
        C{resumeProducing()} it gets the data, then C{ConnectionDone}.
        """
        # Observed: pauseProducing() is stopReading(), and with reading
        # stopped the reactor does not watch the socket at all, so even the
        # FIN goes unnoticed until reading resumes.  A fake that reports
        # connectionLost to a paused protocol gets this wrong.
        pair = await self.connectPair()
        pair.client.tcp.pauseProducing()
        pair.server.tcp.write(b"while you were out")
        pair.server.tcp.loseConnection()
        await pair.server.whenLost()
        await self.settle()
        self.assertEqual(pair.client.milestones(), ["connectionMade"])
        self.assertEqual(pair.client.received, b"")
        pair.client.tcp.resumeProducing()
        await pair.client.whenLost()
        self.assertEqual(pair.client.received, b"while you were out")
        self.assertEqual(pair.client.lostType, ConnectionDone)

    # -- listening -------------------------------------------------------------

    @scenario
    async def test_listenStartsFactory(self) -> None:
        """
        C{listenTCP} calls the factory's C{doStart} before returning; the
        factory's C{doStop} has run by the time C{stopListening()}'s
        L{Deferred} fires.
        """
        factory = RecordingServerFactory()
        port = self.reactor.listenTCP(0, factory, interface=self.interface)
        self.assertEqual(factory.names(), ["doStart"])
        stopped = port.stopListening()
        assert isinstance(stopped, Deferred), stopped
        await stopped
        self.assertEqual(factory.names(), ["doStart", "doStop"])

    @scenario
    async def test_portZeroAllocatesDistinctPorts(self) -> None:
        """
        Listening on port 0 twice gives two distinct nonzero ports, reported
        by C{getHost()} as L{IPv4Address}es on the interface; a client
        connecting to each reaches that port's factory.
        """
        factories = [RecordingServerFactory(), RecordingServerFactory()]
        ports = [self.listen(factory) for factory in factories]
        numbers = [portNumber(port) for port in ports]
        self.assertNotIn(0, numbers)
        self.assertNotEqual(numbers[0], numbers[1])
        for port, number in zip(ports, numbers, strict=True):
            self.assertEqual(port.getHost(), IPv4Address("TCP", self.interface, number))
        for factory, number in zip(factories, numbers, strict=True):
            clientFactory = RecordingClientFactory()
            self.connect(number, clientFactory)
            client = await clientFactory.connected()
            server = await factory.connected()
            self.closeAtCleanup(client, server)
            self.assertEqual(
                server.tcp.getHost(), IPv4Address("TCP", self.interface, number)
            )
            await self.closeCleanly(client, server)

    @scenario
    async def test_addressInUse(self) -> None:
        """
        Listening on a port already listened on (same interface) raises
        L{CannotListenError} naming that port; the first port keeps working.
        """
        factory = RecordingServerFactory()
        port = self.listen(factory)
        number = portNumber(port)
        with self.assertRaises(CannotListenError) as caught:
            self.reactor.listenTCP(number, ServerFactory(), interface=self.interface)
        self.assertEqual(caught.exception.port, number)
        self.assertEqual(caught.exception.interface, self.interface)
        clientFactory = RecordingClientFactory()
        self.connect(number, clientFactory)
        client = await clientFactory.connected()
        server = await factory.connected()
        self.closeAtCleanup(client, server)
        await self.pingPong(client, server)

    @scenario
    async def test_stopListeningRefusesNewConnections(self) -> None:
        """
        Once C{stopListening()}'s L{Deferred} has fired, connecting to that
        port is refused.
        """
        factory = RecordingServerFactory()
        port = self.listen(factory)
        number = portNumber(port)
        await self.stopListening(port)
        clientFactory = RecordingClientFactory()
        self.connect(number, clientFactory)
        await clientFactory.whenFailed()
        assert clientFactory.failReason is not None
        self.assertTrue(clientFactory.failReason.check(ConnectionRefusedError))
        self.assertEqual(factory.addresses, [])

    @scenario
    async def test_stopListeningKeepsAcceptedConnections(self) -> None:
        """
        Stopping the listening port does not touch connections it already
        accepted: they still carry data both ways and close cleanly.
        """
        pair = await self.connectPair()
        await self.stopListening(pair.port)
        self.assertEqual(pair.server.milestones(), ["connectionMade"])
        await self.pingPong(pair.client, pair.server)

    # -- producers -------------------------------------------------------------

    async def waitUntilStalled(self, producer: ChunkPushProducer) -> None:
        """
        Wait until C{producer} is paused and has written nothing for one
        L{SETTLE_SECONDS} period.
        """
        last = -1
        for _ in range(200):
            await self.settle()
            if producer.paused and producer.written == last:
                return
            last = producer.written if producer.paused else -1
        self.fail(f"producer never stalled: {producer.events[-10:]}")

    @scenario
    async def test_streamingProducerPausedWhilePeerNotReading(self) -> None:
        """
        When the peer stops reading (C{transport.pauseProducing()}), it receives
        nothing, and a streaming producer writing to it is paused before it
        could write everything; after the peer resumes reading the producer is
        resumed and every byte arrives, in order.
        """
        # Observed: the real transport pauses a streaming producer as soon as
        # its own buffer holds more than 64 KiB, and resumes it whenever that
        # buffer drains into the kernel; it stays paused only once the kernel
        # buffers (a few MiB on loopback) are full.  16 MiB is far more.
        pair = await self.connectPair()
        pair.client.tcp.pauseProducing()
        producer = ChunkPushProducer(pair.server.tcp, count=256, size=64 * 1024)
        producer.start()
        await self.waitUntilStalled(producer)
        self.assertEqual(pair.client.received, b"")
        self.assertLess(producer.written, producer.total)
        self.assertIn("pause", producer.events)
        resumesBefore = producer.events.count("resume")
        pair.client.tcp.resumeProducing()
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertGreater(producer.events.count("resume"), resumesBefore)
        self.assertEqual(producer.events[-1], "finished")
        self.assertTrue(pair.client.received == stream(256, 64 * 1024))
        self.assertEqual(pair.client.lostType, ConnectionDone)

    @scenario
    async def test_pullProducerResumedUntilUnregistered(self) -> None:
        """
        A pull producer gets its first C{resumeProducing} I{inside}
        C{registerProducer}, then one per drained write; C{loseConnection()}
        waits until it unregisters, after which the connection closes without
        calling its C{stopProducing}.
        """
        # Observed: _ConsumerMixin.registerProducer calls resumeProducing()
        # at once for a pull producer; doWrite calls it again each time the
        # buffer empties, and only closes once no producer is registered.
        pair = await self.connectPair()
        producer = RecordingPullProducer(pair.server.tcp, count=8, size=1024)
        pair.server.tcp.registerProducer(producer, False)
        self.assertEqual(producer.events, ["resume"])
        pair.server.tcp.loseConnection()
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertEqual(pair.client.received, stream(8, 1024))
        self.assertEqual(producer.events, ["resume"] * 9 + ["unregistered"])
        self.assertEqual(pair.client.lostType, ConnectionDone)

    @scenario
    async def test_secondProducerRaisesRuntimeError(self) -> None:
        """
        Registering a producer while another is registered raises
        L{RuntimeError}; after C{unregisterProducer} a new one may register.
        """
        pair = await self.connectPair()
        first, second = RecordingPushProducer(), RecordingPushProducer()
        pair.server.tcp.registerProducer(first, True)
        self.assertRaises(RuntimeError, pair.server.tcp.registerProducer, second, True)
        pair.server.tcp.unregisterProducer()
        pair.server.tcp.registerProducer(second, True)
        pair.server.tcp.unregisterProducer()
        await self.pingPong(pair.client, pair.server)
        self.assertEqual((first.events, second.events), ([], []))

    @scenario
    async def test_loseConnectionWithStreamingProducerClosesAfterFlush(
        self,
    ) -> None:
        """
        With an unpaused streaming producer registered, C{loseConnection()}
        does I{not} wait for it to unregister: the buffer is flushed, the
        connection closes, and the producer gets C{stopProducing}.
        """
        # Observed: doWrite only resumes a *paused* streaming producer when
        # the buffer drains; otherwise, if disconnecting, it closes.  The
        # ITransport docstring ("the connection won't be closed until the
        # producer is finished") holds for pull producers only.
        pair = await self.connectPair()
        producer = RecordingPushProducer()
        pair.server.tcp.registerProducer(producer, True)
        pair.server.tcp.write(b"0123456789")
        pair.server.tcp.loseConnection()
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertEqual(pair.client.received, b"0123456789")
        self.assertEqual(pair.client.lostType, ConnectionDone)
        self.assertEqual(producer.events, ["stop"])

    @scenario
    async def test_producerStoppedWhenPeerCloses(self) -> None:
        """
        A producer still registered when the connection is lost (here: the
        peer closed) gets C{stopProducing}.
        """
        pair = await self.connectPair()
        producer = RecordingPushProducer()
        pair.server.tcp.registerProducer(producer, True)
        pair.client.tcp.loseConnection()
        await pair.server.whenLost()
        self.assertEqual(producer.events, ["stop"])
        self.assertEqual(pair.server.lostType, ConnectionDone)

    # -- time ------------------------------------------------------------------

    @scenario
    async def test_callLaterOrderAndCancel(self) -> None:
        """
        C{callLater} calls run in time order, not registration order, never
        before their time; a cancelled call never runs, leaves
        C{getDelayedCalls()}, and cannot be cancelled again; a call that ran
        is inactive and cannot be cancelled.
        """
        order: list[str] = []

        def record(name: str) -> None:
            order.append(name)
            times[name] = self.reactor.seconds()

        times: dict[str, float] = {}
        third = self.reactor.callLater(0.03, record, "third")
        second = self.reactor.callLater(0.02, record, "second")
        first = self.reactor.callLater(0.01, record, "first")
        doomed = self.reactor.callLater(0.01, record, "cancelled")
        self.assertTrue(doomed.active())
        doomed.cancel()
        self.assertFalse(doomed.active())
        self.assertRaises(AlreadyCancelled, doomed.cancel)
        pending = self.reactor.getDelayedCalls()
        self.assertNotIn(doomed, pending)
        for call in (first, second, third):
            self.assertIn(call, pending)
        await deferLater(self.reactor, 0.05, lambda: None)
        self.assertEqual(order, ["first", "second", "third"])
        for name, call in (("first", first), ("second", second), ("third", third)):
            self.assertFalse(call.active())
            self.assertRaises(AlreadyCalled, call.cancel)
            self.assertGreaterEqual(times[name], call.getTime())

    @scenario
    async def test_delayedCallResetAndDelay(self) -> None:
        """
        C{reset(seconds)} reschedules a pending call to C{seconds} from now and
        C{delay(seconds)} pushes it back by C{seconds}: both then run after a
        call that was originally due later.
        """
        order: list[str] = []
        early = self.reactor.callLater(0.01, order.append, "reset")
        earlier = self.reactor.callLater(0.01, order.append, "delayed")
        marker = self.reactor.callLater(0.05, order.append, "marker")
        early.reset(0.1)
        earlier.delay(0.15)
        self.assertTrue(early.active())
        self.assertGreater(early.getTime(), marker.getTime())
        self.assertGreater(earlier.getTime(), marker.getTime())
        await deferLater(self.reactor, 0.2, lambda: None)
        self.assertEqual(order, ["marker", "reset", "delayed"])

    # -- TCP options -----------------------------------------------------------

    @scenario
    async def test_tcpOptions(self) -> None:
        """
        C{TCP_NODELAY} and C{SO_KEEPALIVE} are off by default on both sides
        and read back as set.
        """
        pair = await self.connectPair()
        for transport in (pair.client.tcp, pair.server.tcp):
            self.assertIs(transport.getTcpNoDelay(), False)
            self.assertIs(transport.getTcpKeepAlive(), False)
            transport.setTcpNoDelay(True)
            transport.setTcpKeepAlive(True)
            self.assertIs(transport.getTcpNoDelay(), True)
            self.assertIs(transport.getTcpKeepAlive(), True)
            transport.setTcpNoDelay(False)
            self.assertIs(transport.getTcpNoDelay(), False)
        await self.pingPong(pair.client, pair.server)

    # -- endpoints -------------------------------------------------------------

    async def endpointScenario(self, listenOn: Any, connectTo: Any) -> None:
        """
        Listen with the server endpoint made by C{listenOn(reactor)}, connect
        with the client endpoint made by C{connectTo(reactor, port)}, talk,
        close.
        """
        factory = RecordingServerFactory()
        port = await listenOn(self.reactor).listen(factory)
        self.cleanupScenario(self.stopListening, port)
        number = portNumber(port)
        self.assertEqual(port.getHost(), IPv4Address("TCP", self.interface, number))
        client = await connectProtocol(
            connectTo(self.reactor, number), RecordingProtocol()
        )
        assert isinstance(client, RecordingProtocol)
        server = await factory.connected()
        self.closeAtCleanup(client, server)
        self.assertEqual(client.tcp.getPeer(), server.tcp.getHost())
        await self.pingPong(client, server)

    @scenario
    async def test_tcp4Endpoints(self) -> None:
        """
        C{TCP4ServerEndpoint(reactor, 0, interface=...)} and
        C{TCP4ClientEndpoint} connect and carry data.
        """
        await self.endpointScenario(
            lambda reactor: TCP4ServerEndpoint(reactor, 0, interface=self.interface),
            lambda reactor, port: TCP4ClientEndpoint(reactor, self.interface, port),
        )

    @scenario
    async def test_stringEndpoints(self) -> None:
        """
        C{serverFromString(reactor, "tcp:0:interface=127.0.0.1")} and
        C{clientFromString(reactor, "tcp:host=127.0.0.1:port=N")} connect and
        carry data.
        """
        await self.endpointScenario(
            lambda reactor: serverFromString(
                reactor, f"tcp:0:interface={self.interface}"
            ),
            lambda reactor, port: clientFromString(
                reactor, f"tcp:host={self.interface}:port={port}"
            ),
        )

    @scenario
    async def test_hostnameEndpointLocalhost(self) -> None:
        """
        C{HostnameEndpoint(reactor, "localhost", port)} resolves C{localhost}
        (the system resolver on the real reactor, the host map on the memory
        network) and connects to the loopback listener.
        """
        await self.endpointScenario(
            lambda reactor: TCP4ServerEndpoint(reactor, 0, interface=self.interface),
            lambda reactor, port: HostnameEndpoint(reactor, "localhost", port),
        )

    @scenario
    async def test_clientEndpointToClosedPortRefused(self) -> None:
        """
        Connecting a client endpoint to a port nobody listens on fails with
        L{ConnectionRefusedError}.
        """
        port = await self.closedPort()
        endpoint = TCP4ClientEndpoint(self.reactor, self.interface, port)
        with self.assertRaises(ConnectionRefusedError):
            await connectProtocol(endpoint, RecordingProtocol())

    # -- peer reset: a fault with a real-TCP equivalent --------------------------

    @scenario
    async def test_peerResetMidStream(self) -> None:
        """
        A server that resets the connection while sending: the client has a
        prefix of what was written, then C{connectionLost(ConnectionLost)} --
        never C{ConnectionDone}, which would pass a cut stream off as
        complete -- and its factory C{clientConnectionLost(ConnectionLost)};
        the server's own reason is a L{ConnectionLost} too.
        """
        # Observed: with 1 MiB queued, the client has read some of it when
        # the RST arrives; the kernel then reports ECONNRESET.  The memory
        # network's reset fault delivers everything queued before its RST.
        pair = await self.connectPair()
        data = stream(16, 64 * 1024)
        pair.server.tcp.write(data)
        await pair.client.whenReceived(1)
        self.resetPeer(pair.server.tcp)
        await pair.client.whenLost()
        await pair.server.whenLost()
        await pair.clientFactory.whenStopped()
        received = pair.client.received
        self.assertLessEqual(len(received), len(data))
        self.assertEqual(received, data[: len(received)])
        self.assertEqual(pair.client.lostType, ConnectionLost)
        assert pair.server.lostReason is not None
        self.assertTrue(pair.server.lostReason.check(ConnectionLost))
        assert pair.clientFactory.lostReason is not None
        self.assertTrue(pair.clientFactory.lostReason.check(ConnectionLost))
        self.assertEqual(
            pair.clientFactory.names()[-2:], ["clientConnectionLost", "doStop"]
        )

    @scenario
    async def test_peerResetByClient(self) -> None:
        """
        A client that resets the connection after its request was read: the
        server keeps what it read and loses the connection with
        L{ConnectionLost}; writing to the reset connection afterwards raises
        nothing and sends nothing.
        """
        pair = await self.connectPair()
        pair.client.tcp.write(b"ping")
        await pair.server.whenReceived(4)
        self.resetPeer(pair.client.tcp)
        await pair.server.whenLost()
        await pair.client.whenLost()
        self.assertEqual(pair.server.received, b"ping")
        self.assertEqual(pair.server.lostType, ConnectionLost)
        assert pair.client.lostReason is not None
        self.assertTrue(pair.client.lostReason.check(ConnectionLost))
        pair.server.tcp.write(b"too late")
        await self.settle()
        self.assertEqual(pair.client.received, b"")

    @scenario
    async def test_peerResetBeforeAnyData(self) -> None:
        """
        A reset on a connection that carried nothing: the other end gets
        C{connectionLost(ConnectionLost)} having received nothing.
        """
        pair = await self.connectPair()
        self.resetPeer(pair.server.tcp)
        await pair.client.whenLost()
        await pair.server.whenLost()
        self.assertEqual(pair.client.received, b"")
        self.assertEqual(pair.client.milestones(), ["connectionMade", "connectionLost"])
        self.assertEqual(pair.client.lostType, ConnectionLost)
