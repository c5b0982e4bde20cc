"""
The world a differential scenario runs in: recording protocols and factories,
a normalised event log, and waits on that log.

A scenario is a small program over the Twisted API.  Everything it does goes
through C{World}, which records every callback the protocols, factories and
producers it builds receive, as a flat list of events -- tuples such as
C{("c1", "data", b"hi")} or C{("cf", "failed", "ConnectionRefusedError")}.
The same scenario runs on the real reactor and on
L{poetry.testing.MemoryNetwork}; the two logs must be equal.

Normalisation (so that a log does not depend on what differs between runs
and not on how TCP happened to cut the stream):

  - consecutive C{data} events of one protocol are merged;
  - addresses are named: C{127.0.0.1:P1} for the first listening port of the
    scenario, C{127.0.0.1:C1} for the first client port seen, and so on;
  - errors logged through C{twisted.logger} (or the legacy C{log.err}) while
    the scenario runs are recorded as C{("log", ExceptionTypeName)}.

Protocol and factory names: the server factory is C{sf} (C{sf2}, ... for
more), the client factories C{cf} (C{cf2}, ...); server protocols are
C{s1}, C{s2}, ... in the order they were built, client protocols C{c1},
C{c2}, ... .
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IHalfCloseableProtocol,
    IListeningPort,
    IPullProducer,
    IPushProducer,
    ITCPTransport,
)
from twisted.internet.protocol import (
    ClientFactory,
    Factory,
    Protocol,
    ServerFactory,
)
from twisted.internet.task import deferLater
from twisted.logger import ILogObserver, LogEvent, globalLogPublisher
from twisted.python.failure import Failure
from zope.interface import implementer

__all__ = [
    "Event",
    "Explosion",
    "Hook",
    "Peer",
    "PullProducer",
    "PushProducer",
    "Stuck",
    "World",
]

Event = tuple[Any, ...]
Hook = Callable[["Peer"], object]
DataHook = Callable[["Peer", bytes], object]

# Real seconds on the real reactor, virtual seconds on a MemoryNetwork.
SETTLE_SECONDS = 0.05


class Stuck(Exception):
    """
    The scenario waited for an event that never came (on the real reactor:
    within the time limit; on the memory network: nothing was left to run).
    """


class Explosion(Exception):
    """
    Raised on purpose by a scenario's callback.
    """


def _type_name(reason: Failure | BaseException | None) -> str:
    if reason is None:
        return "None"
    if isinstance(reason, Failure):
        return reason.type.__name__ if reason.type is not None else "?"
    return type(reason).__name__


# The default of connectionLost's reason (never used: the transport gives one).
_NO_REASON = Failure(Exception("no reason given"))


class Peer(Protocol):
    """
    A protocol that records its callbacks in the world's log and runs the
    scenario's hooks: C{made(peer)}, C{data(peer, bytes)},
    C{readLost(peer)}, C{writeLost(peer)}, C{lost(peer)}.  A hook may raise
    (that is what some scenarios test).
    """

    def __init__(
        self,
        world: World,
        name: str,
        *,
        made: Hook | None = None,
        data: DataHook | None = None,
        lost: Hook | None = None,
    ) -> None:
        self.world = world
        self.name = name
        self._made = made
        self._data = data
        self._lost = lost
        self.received = b""
        self.reason: Failure | None = None
        self.isLost = False

    @property
    def tcp(self) -> ITCPTransport:
        """
        The transport, typed as a TCP transport.
        """
        assert self.transport is not None
        return cast(ITCPTransport, self.transport)

    def connectionMade(self) -> None:
        self.world.record(self.name, "made")
        if self._made is not None:
            self._made(self)

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        self.world.record(self.name, "data", data)
        if self._data is not None:
            self._data(self, data)

    def connectionLost(self, reason: Failure = _NO_REASON) -> None:
        self.reason = reason
        self.isLost = True
        self.world.record(self.name, "lost", _type_name(reason))
        if self._lost is not None:
            self._lost(self)


@implementer(IHalfCloseableProtocol)
class HalfCloseablePeer(Peer):
    """
    A L{Peer} that provides L{IHalfCloseableProtocol}.
    """

    def __init__(
        self,
        world: World,
        name: str,
        *,
        readLost: Hook | None = None,
        writeLost: Hook | None = None,
        **hooks: Any,
    ) -> None:
        super().__init__(world, name, **hooks)
        self._readLost = readLost
        self._writeLost = writeLost

    def readConnectionLost(self) -> None:
        self.world.record(self.name, "readLost")
        if self._readLost is not None:
            self._readLost(self)

    def writeConnectionLost(self) -> None:
        self.world.record(self.name, "writeLost")
        if self._writeLost is not None:
            self._writeLost(self)


def _peer(world: World, name: str, hooks: dict[str, Any]) -> Peer:
    if hooks.pop("halfClose", False) or "readLost" in hooks or "writeLost" in hooks:
        return HalfCloseablePeer(world, name, **hooks)
    return Peer(world, name, **hooks)


class _RecordingFactory(Factory[Peer]):
    """
    What both recording factories share: recording C{doStart}, C{doStop} and
    C{buildProtocol} (with the named address) under C{name}, and building
    L{Peer}s named C{<side>1}, C{<side>2}, ... with C{hooks} unless the
    C{build(factory, address)} hook replaces the protocol (returns L{None},
    raises, ...).  C{startStop(what)} runs after C{doStart} and C{doStop}
    are recorded.

    @cvar side: the prefix of the names of the protocols built (C{"s"} or
        C{"c"}).
    """

    noisy = False
    side: str

    def __init__(
        self,
        world: World,
        name: str,
        hooks: dict[str, Any],
        build: Callable[[Any, IAddress], Peer | None] | None,
        startStop: Callable[[str], object] | None,
    ) -> None:
        self.world = world
        self.name = name
        self.hooks = hooks
        self._build = build
        self._startStop = startStop
        self.protocols: list[Peer] = []

    def doStart(self) -> None:
        self.world.record(self.name, "doStart")
        super().doStart()
        if self._startStop is not None:
            self._startStop("doStart")

    def doStop(self) -> None:
        self.world.record(self.name, "doStop")
        super().doStop()
        if self._startStop is not None:
            self._startStop("doStop")

    def buildProtocol(self, addr: IAddress) -> Peer | None:  # type: ignore[override]  # may return None, as IProtocolFactory allows
        self.world.record(self.name, "build", self.world.addressName(addr))
        if self._build is not None:
            built = self._build(self, addr)
            if built is not None:
                self.protocols.append(built)
                self.world.peers.append(built)
            return built
        protocol = self.world.newPeer(self.side, dict(self.hooks))
        protocol.factory = self
        self.protocols.append(protocol)
        return protocol


class RecordingServerFactory(_RecordingFactory, ServerFactory[Peer]):
    """
    A server factory recording C{doStart}, C{doStop} and C{buildProtocol}
    (with the named client address) and building L{Peer}s named C{s1},
    C{s2}, ...  C{build(factory, address)} may replace the protocol (return
    L{None}, raise, ...).
    """

    side = "s"


class RecordingClientFactory(_RecordingFactory, ClientFactory[Peer]):
    """
    A client factory recording every L{ClientFactory} callback; the hooks
    C{failed(connector, reason)} and C{clientLost(connector, reason)} run
    after recording (e.g. to reconnect), C{build} may replace the protocol.
    """

    side = "c"

    def __init__(
        self,
        world: World,
        name: str,
        hooks: dict[str, Any],
        *,
        failed: Callable[[IConnector, Failure], object] | None = None,
        clientLost: Callable[[IConnector, Failure], object] | None = None,
        started: Callable[[IConnector], object] | None = None,
        build: Callable[[RecordingClientFactory, IAddress], Peer | None] | None = None,
        startStop: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__(world, name, hooks, build, startStop)
        self._failed = failed
        self._clientLost = clientLost
        self._started = started
        self.failures: list[Failure] = []

    def startedConnecting(self, connector: IConnector) -> None:
        self.world.record(self.name, "startedConnecting")
        if self._started is not None:
            self._started(connector)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.failures.append(reason)
        self.world.record(self.name, "failed", _type_name(reason))
        if self._failed is not None:
            self._failed(connector, reason)

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        self.world.record(self.name, "clientLost", _type_name(reason))
        if self._clientLost is not None:
            self._clientLost(connector, reason)


@implementer(IPushProducer)
class PushProducer:
    """
    A streaming producer recording C{pause}, C{resume} and C{stop} under
    C{name}; C{onResume(producer)} runs after a resume is recorded.
    """

    def __init__(
        self,
        world: World,
        name: str = "prod",
        onResume: Callable[[PushProducer], object] | None = None,
        onPause: Callable[[PushProducer], object] | None = None,
    ) -> None:
        self.world = world
        self.name = name
        self.onResume = onResume
        self.onPause = onPause
        self.paused = False
        self.stopped = False

    def pauseProducing(self) -> None:
        self.paused = True
        self.world.record(self.name, "pause")
        if self.onPause is not None:
            self.onPause(self)

    def resumeProducing(self) -> None:
        self.paused = False
        self.world.record(self.name, "resume")
        if self.onResume is not None:
            self.onResume(self)

    def stopProducing(self) -> None:
        self.stopped = True
        self.world.record(self.name, "stop")


@implementer(IPullProducer)
class PullProducer:
    """
    A pull producer recording C{resume} and C{stop}; C{onResume(producer)}
    runs after each recorded C{resume} (e.g. to write the next chunk).
    """

    def __init__(
        self,
        world: World,
        name: str = "pull",
        onResume: Callable[[PullProducer], object] | None = None,
    ) -> None:
        self.world = world
        self.name = name
        self.onResume = onResume
        self.resumes = 0

    def resumeProducing(self) -> None:
        self.resumes += 1
        self.world.record(self.name, "resume")
        if self.onResume is not None:
            self.onResume(self)

    def stopProducing(self) -> None:
        self.world.record(self.name, "stop")


class World:
    """
    Everything a scenario uses: the reactor, the log, and helpers that build
    recording factories, listen, connect and wait.

    @ivar reactor: the reactor under test.
    @ivar backend: C{"real"} or C{"memory"}.
    @ivar events: the log so far.
    @ivar addressNamers: functions C{namer(world, address)} that
        L{addressName} asks first (in order) to name an address no other
        rule names (e.g. a UNIX address whose path differs between runs);
        each returns a name or L{None}.
    """

    interface = "127.0.0.1"

    def __init__(
        self, reactor: Any, backend: str, resetPeer: Callable[[Any], None]
    ) -> None:
        self.reactor = reactor
        self.backend = backend
        self._resetPeer = resetPeer
        self.events: list[Event] = []
        self.peers: list[Peer] = []
        self.ports: list[IListeningPort] = []
        self.connectors: list[IConnector] = []
        self.stopped: list[IListeningPort] = []
        self._names: dict[tuple[str, int], str] = {}
        self._counts: dict[str, int] = {}
        self._waiters: list[tuple[Callable[[], bool], Deferred[None]]] = []
        self._observer: ILogObserver | None = None
        self.addressNamers: list[Callable[[World, object], str | None]] = []

    # -- the log ---------------------------------------------------------------

    def record(self, *event: Any) -> None:
        """
        Append C{event} to the log, merging consecutive data of one protocol.
        """
        events = self.events
        if (
            len(event) == 3
            and event[1] == "data"
            and events
            and events[-1][:2] == event[:2]
        ):
            events[-1] = (event[0], "data", events[-1][2] + event[2])
        else:
            events.append(tuple(event))
        self._changed()

    def note(self, *event: Any) -> None:
        """
        Record a scenario's own observation, e.g. C{w.note("port", value)}.
        """
        self.record("note", *event)

    def _changed(self) -> None:
        while self._waiters:
            for index, (condition, d) in enumerate(self._waiters):
                if condition():
                    del self._waiters[index]
                    d.callback(None)
                    break
            else:
                return

    def waitFor(self, condition: Callable[[], bool]) -> Deferred[None]:
        """
        A L{Deferred} that fires as soon as C{condition()} is true (checked
        after each recorded event).
        """
        d: Deferred[None] = Deferred()
        if condition():
            d.callback(None)
        else:
            self._waiters.append((condition, d))
        return d

    def abandon(self) -> None:
        """
        Fail every pending wait with L{Stuck}.
        """
        waiters, self._waiters = self._waiters, []
        for _, d in waiters:
            d.errback(Stuck())

    def has(self, *prefix: Any) -> bool:
        """
        Whether an event starting with C{prefix} was recorded.
        """
        n = len(prefix)
        return any(event[:n] == prefix for event in self.events)

    def when(self, *prefix: Any) -> Deferred[None]:
        """
        A L{Deferred} firing once an event starting with C{prefix} is logged.
        """
        return self.waitFor(lambda: self.has(*prefix))

    def received(self, name: str, count: int) -> Deferred[None]:
        """
        A L{Deferred} firing once protocol C{name} received C{count} bytes.
        """
        return self.waitFor(
            lambda: any(p.name == name and len(p.received) >= count for p in self.peers)
        )

    def peer(self, name: str) -> Peer:
        """
        The protocol called C{name}.
        """
        for p in self.peers:
            if p.name == name:
                return p
        raise KeyError(name)

    async def settle(self, seconds: float = SETTLE_SECONDS) -> None:
        """
        Let the world run for C{seconds} (real or virtual).
        """
        await deferLater(self.reactor, seconds, lambda: None)

    # -- names -----------------------------------------------------------------

    def _next(self, prefix: str) -> int:
        count = self._counts.get(prefix, 0) + 1
        self._counts[prefix] = count
        return count

    def addressName(self, address: object) -> str:
        """
        C{host:Pn} / C{host:Cn} for an IP address (ports named in order of
        first sight), what an L{addressNamers} function says, else C{repr}.
        """
        if isinstance(address, (IPv4Address, IPv6Address)):
            key = (address.host, address.port)
            name = self._names.get(key)
            if name is None:
                name = self._names[key] = f"C{self._next('C')}"
            return f"{address.type}:{address.host}:{name}"
        for namer in self.addressNamers:
            named = namer(self, address)
            if named is not None:
                return named
        return repr(address)

    def newPeer(self, side: str, hooks: dict[str, Any]) -> Peer:
        """
        A new L{Peer} named C{s<n>} or C{c<n>}, registered for cleanup.
        """
        peer = _peer(self, f"{side}{self._next(side)}", hooks)
        self.peers.append(peer)
        return peer

    # -- building --------------------------------------------------------------

    def serverFactory(
        self,
        *,
        build: Callable[[RecordingServerFactory, IAddress], Peer | None] | None = None,
        startStop: Callable[[str], object] | None = None,
        **hooks: Any,
    ) -> RecordingServerFactory:
        """
        A recording server factory (C{sf}, C{sf2}, ...) building L{Peer}s
        with C{hooks} (C{made}, C{data}, C{lost}, C{readLost},
        C{writeLost}, C{halfClose=True}).
        """
        n = self._next("sf")
        return RecordingServerFactory(
            self, "sf" if n == 1 else f"sf{n}", hooks, build, startStop
        )

    def clientFactory(self, **hooks: Any) -> RecordingClientFactory:
        """
        A recording client factory (C{cf}, C{cf2}, ...); factory hooks
        C{failed}, C{clientLost}, C{started}, C{build}, C{startStop}, the
        rest are protocol hooks.
        """
        factoryHooks = {
            key: hooks.pop(key)
            for key in ("failed", "clientLost", "started", "build", "startStop")
            if key in hooks
        }
        n = self._next("cf")
        return RecordingClientFactory(
            self, "cf" if n == 1 else f"cf{n}", hooks, **factoryHooks
        )

    def listen(
        self,
        factory: ServerFactory[Any] | None = None,
        *,
        port: int = 0,
        interface: str | None = None,
        **hooks: Any,
    ) -> IListeningPort:
        """
        C{listenTCP} on C{interface} (C{127.0.0.1}), port 0 by default, with
        C{factory} or a new L{serverFactory} given C{hooks}.  The port's
        number is named C{P<n>}; the port is stopped at cleanup.
        """
        if factory is None:
            factory = self.serverFactory(**hooks)
        listening: IListeningPort = self.reactor.listenTCP(
            port, factory, interface=self.interface if interface is None else interface
        )
        self.ports.append(listening)
        self.namePort(listening)
        return listening

    def namePort(self, port: IListeningPort) -> str:
        """
        Name C{port}'s number C{P<n>} (if not named yet).
        """
        address = port.getHost()
        assert isinstance(address, (IPv4Address, IPv6Address))
        key = (address.host, address.port)
        if key not in self._names:
            self._names[key] = f"P{self._next('P')}"
            if address.host == "0.0.0.0":
                self._names[(self.interface, address.port)] = self._names[key]
        return self._names[key]

    def portNumber(self, port: IListeningPort) -> int:
        """
        The number C{port} listens on.
        """
        address = port.getHost()
        assert isinstance(address, (IPv4Address, IPv6Address))
        return address.port

    def connect(
        self,
        target: IListeningPort | int,
        factory: ClientFactory[Any] | None = None,
        *,
        host: str | None = None,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
        **hooks: Any,
    ) -> IConnector:
        """
        C{connectTCP} to C{target} (a port or a number) with C{factory} or a
        new L{clientFactory} given C{hooks}.
        """
        if factory is None:
            factory = self.clientFactory(**hooks)
        number = target if isinstance(target, int) else self.portNumber(target)
        connector: IConnector = self.reactor.connectTCP(
            self.interface if host is None else host,
            number,
            factory,
            timeout=timeout,
            bindAddress=bindAddress,
        )
        self.connectors.append(connector)
        return connector

    async def closedPort(self) -> int:
        """
        A port number nobody listens on (listened on, then stopped).  Named
        C{closed}.
        """
        port = self.reactor.listenTCP(0, ServerFactory(), interface=self.interface)
        number = self.portNumber(port)
        self._names[(self.interface, number)] = "closed"
        await maybeDeferred(port.stopListening)
        return number

    def reset(self, peer: Peer) -> None:
        """
        Reset C{peer}'s connection so that the other end sees a C{RST}
        (C{SO_LINGER} 0 and close on the real reactor; the C{reset} fault on
        the memory network).
        """
        self._resetPeer(peer.transport)

    # -- running ---------------------------------------------------------------

    def startLogCapture(self) -> None:
        """
        Record every error logged from now on as C{("log", type name)}.
        """

        def observe(event: LogEvent) -> None:
            failure = event.get("log_failure")
            if failure is not None:
                self.record("log", _type_name(failure))
            elif event.get("isError") and "failure" in event:
                self.record("log", _type_name(event["failure"]))

        self._observer = cast(ILogObserver, observe)
        globalLogPublisher.addObserver(self._observer)

    def stopLogCapture(self) -> None:
        if self._observer is not None:
            globalLogPublisher.removeObserver(self._observer)
            self._observer = None

    async def cleanup(self) -> None:
        """
        Close whatever the scenario left: stop connecting, abort open
        connections and wait for them, stop listening.
        """
        for connector in self.connectors:
            if connector.state == "connecting":  # type: ignore[attr-defined]  # every reactor's connector has .state
                connector.stopConnecting()
        for peer in self.peers:
            if not peer.isLost and peer.transport is not None:
                peer.transport.abortConnection()  # type: ignore[attr-defined]  # TCP transports
        for peer in self.peers:
            if not peer.isLost and peer.transport is not None:
                await self.waitFor(lambda peer=peer: peer.isLost)  # type: ignore[misc]
        for port in self.ports:
            if port not in self.stopped:
                await maybeDeferred(port.stopListening)

    def stopListening(self, port: IListeningPort) -> Deferred[object]:
        """
        Start L{_stopListening} at once; a L{Deferred} of its end.
        """
        return Deferred.fromCoroutine(self._stopListening(port))

    async def _stopListening(self, port: IListeningPort) -> object:
        """
        Stop C{port} (once more, if it was stopped already), record what
        came of it -- C{("stopListening", "None")}, C{"fired"} or C{"failed",
        type} -- and leave it alone at cleanup.
        """
        self.stopped.append(port)
        try:
            # IListeningPort says None; both reactors return a Deferred.
            result: Any = port.stopListening()
        except Exception as e:
            self.record("stopListening", "raised", type(e).__name__)
            return None
        if result is None:
            self.record("stopListening", "None")
            return None
        try:
            value = await result
        except Exception as e:
            self.record("stopListening", "failed", type(e).__name__)
            return None
        self.record("stopListening", "fired")
        return value


def allEvents(world: World) -> Iterable[Event]:
    """
    The log of C{world}.
    """
    return list(world.events)
