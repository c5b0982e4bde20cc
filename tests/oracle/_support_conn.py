"""
Helpers of the C{connect}, C{ports}, C{factories} and C{time} scenario
families (and of the endpoint scenarios of C{ipv6} and C{unix}): protocols
and factories that misbehave in ways the recording world does not offer,
quiet echo factories for many connections at once, and listening and
connecting through endpoints with recording factories and protocols.
"""

from __future__ import annotations

import errno
from typing import Any

from twisted.internet.endpoints import connectProtocol
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IListeningPort,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
    ITransport,
)
from twisted.internet.protocol import (
    ClientFactory,
    Protocol,
    ServerFactory,
    connectionDone,
)
from twisted.python.failure import Failure

from tests.oracle._world import Explosion, Peer, Stuck, World

__all__ = [
    "MakeConnectionRaises",
    "QuietClientFactory",
    "QuietEcho",
    "QuietEchoFactory",
    "connectEndpoint",
    "errnoName",
    "explode",
    "exploding",
    "listenEndpoint",
    "noteOsError",
    "poll",
    "tryCall",
]


def explode(*args: object) -> None:
    """
    Raise L{Explosion}, whatever the arguments (a hook that fails).
    """
    raise Explosion("on purpose")


def errnoName(number: object) -> str | None:
    """
    The symbolic name of errno C{number} (C{"ECONNRESET"}, ...), L{None} for
    no number.
    """
    if not isinstance(number, int) or not number:
        return None
    return errno.errorcode.get(number, str(number))


def noteOsError(w: World) -> Any:
    """
    A C{failed} hook noting the symbolic errno of the failure's C{osError}
    (L{twisted.internet.error.ConnectError} and its subclasses carry it).
    """

    def failed(connector: IConnector, reason: Failure) -> None:
        w.note("osError", errnoName(getattr(reason.value, "osError", None)))

    return failed


def exploding(name: str) -> Any:
    """
    A C{startStop} hook raising L{Explosion} when C{name} (C{"doStart"} or
    C{"doStop"}) runs.
    """

    def startStop(what: str) -> None:
        if what == name:
            raise Explosion(f"in {what}")

    return startStop


def tryCall(w: World, label: str, f: Any, *args: Any) -> Any:
    """
    Call C{f(*args)} and note C{(label, "returned")} or C{(label, "raised",
    ExceptionType)}; return the result (L{None} if it raised).
    """
    try:
        result = f(*args)
    except Exception as e:
        w.note(label, "raised", type(e).__name__)
        return None
    w.note(label, "returned")
    return result


async def poll(w: World, condition: Any, seconds: float = 2.0) -> None:
    """
    Wait until C{condition()} is true, checking every 10 ms (real or
    virtual) -- for protocols that record nothing, which L{World.waitFor}
    cannot see; raise L{Stuck} after C{seconds}.
    """
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await w.settle(0.01)
    raise Stuck()


async def listenEndpoint(w: World, endpoint: IStreamServerEndpoint) -> IListeningPort:
    """
    Listen on C{endpoint} with a new recording server factory; the port is
    stopped at cleanup.

    @return: the listening port.
    """
    port = await endpoint.listen(w.serverFactory())
    w.ports.append(port)
    return port


async def connectEndpoint(w: World, endpoint: IStreamClientEndpoint) -> Peer:
    """
    Connect C{endpoint} with a new recording client protocol (C{c1}), note
    C{"connected"} once C{connectProtocol} fired, and wait until the server
    protocol (C{s1}) is made.

    @return: the client protocol.
    """
    client = w.newPeer("c", {})
    await connectProtocol(endpoint, client)
    w.note("connected")
    await w.when("s1", "made")
    return client


class MakeConnectionRaises(Peer):
    """
    A recording protocol whose C{makeConnection} raises before doing
    anything: it never gets its transport nor C{connectionMade}.
    """

    def makeConnection(self, transport: ITransport) -> None:
        self.world.record(self.name, "makeConnection")
        raise Explosion("in makeConnection")


class QuietEcho(Protocol):
    """
    An echo protocol that records nothing in the log; it keeps what it
    received and whether it was lost, for a scenario to summarise.
    """

    def __init__(self) -> None:
        self.received = b""
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        assert self.transport is not None
        self.transport.write(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason


class QuietEchoFactory(ServerFactory[QuietEcho]):
    """
    A server factory of L{QuietEcho}s, kept in C{protocols}.
    """

    noisy = False

    def __init__(self) -> None:
        self.protocols: list[QuietEcho] = []

    def buildProtocol(self, addr: IAddress | None) -> QuietEcho:
        protocol = QuietEcho()
        protocol.factory = self
        self.protocols.append(protocol)
        return protocol


class QuietClient(Protocol):
    """
    A client that writes C{message} when connected and keeps what it
    receives; it records nothing in the log.
    """

    def __init__(self, message: bytes) -> None:
        self.message = message
        self.received = b""
        self.reason: Failure | None = None

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(self.message)

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason


class QuietClientFactory(ClientFactory[QuietClient]):
    """
    A client factory building one L{QuietClient} sending C{message}.
    """

    noisy = False

    def __init__(self, message: bytes) -> None:
        self.message = message
        self.protocol_: QuietClient | None = None

    def buildProtocol(self, addr: IAddress | None) -> QuietClient:
        protocol = QuietClient(self.message)
        protocol.factory = self
        self.protocol_ = protocol
        return protocol
