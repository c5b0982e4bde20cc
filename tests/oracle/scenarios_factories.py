"""
Scenarios: factories and protocols whose callbacks raise or refuse --
C{buildProtocol} returning L{None} or raising, C{doStart} raising, and
exceptions in the client side's callbacks.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.interfaces import IAddress, IConnector
from twisted.python.failure import Failure

from tests.oracle._registry import scenario
from tests.oracle._support_conn import (
    MakeConnectionRaises,
    explode,
    exploding,
    noteOsError,
)
from tests.oracle._world import Explosion, Peer, RecordingServerFactory, World


def _noteWhetherItRaises(w: World, label: str, call: Callable[[], object]) -> None:
    """
    Call C{call()} and note C{"<label> raised"} with the exception's type
    name, or C{"<label> returned"}.
    """
    try:
        call()
    except Exception as e:
        w.note(f"{label} raised", type(e).__name__)
    else:
        w.note(f"{label} returned")


async def _writeAfterSettling(w: World, name: str, data: bytes) -> None:
    """
    Let the world settle, note C{"after settle"}, write C{data} from the
    protocol C{name} and let the world settle again.
    """
    await w.settle()
    w.note("after settle")
    w.peer(name).tcp.write(data)
    await w.settle()


@scenario
async def serverFactoryReturningNone(w: World) -> None:
    """
    The server factory's buildProtocol returns None: the accepted socket is
    closed at once, so the client still gets connectionMade (TCP accepted
    it), then ConnectionDone, clientConnectionLost and doStop.
    """

    def build(factory: RecordingServerFactory, address: IAddress) -> Peer | None:
        return None

    port = w.listen(build=build)
    w.connect(port)
    await w.when("cf", "doStop")


@scenario
async def clientFactoryReturningNone(w: World) -> None:
    """
    The client factory's buildProtocol returns None: the connection is
    dropped, the server sees connectionMade then ConnectionDone, and the
    client factory gets clientConnectionLost(ConnectionDone), not
    clientConnectionFailed.
    """
    port = w.listen()
    w.connect(port, build=lambda factory, address: None)
    await w.when("s1", "lost")
    await w.when("cf", "doStop")


@scenario
async def serverBuildProtocolRaises(w: World) -> None:
    """
    The server factory's buildProtocol raises: the error is logged, and
    Twisted neither gives the accepted socket a protocol nor closes it --
    it is closed only when garbage-collected, and the logged failure's
    traceback keeps it alive as long as a log observer keeps the failure
    (trial's observer and the log buffer before logging starts do; an
    observer that drops it lets the client see ConnectionDone at once).
    Here: the client's connection is made and stays open to nobody, its
    bytes vanish, and it never sees a close.
    """

    def build(factory: RecordingServerFactory, address: IAddress) -> Peer | None:
        raise Explosion("in buildProtocol")

    port = w.listen(build=build)
    w.connect(port)
    await w.when("c1", "made")
    await _writeAfterSettling(w, "c1", b"anyone?")


@scenario
async def clientBuildProtocolRaises(w: World) -> None:
    """
    The client factory's buildProtocol raises: the error is logged and the
    attempt fails -- clientConnectionFailed(ConnectError), not
    clientConnectionLost -- then doStop; the server, already accepted,
    sees connectionMade then ConnectionDone.
    """
    port = w.listen()
    w.connect(port, build=explode)
    await w.when("s1", "made")
    await w.settle()


@scenario
async def startedConnectingRaises(w: World) -> None:
    """
    startedConnecting raises inside connectTCP: connectTCP raises it, but the
    attempt was already under way and goes on -- the connection is made
    on both sides.
    """
    port = w.listen()
    _noteWhetherItRaises(w, "connectTCP", lambda: w.connect(port, started=explode))
    await w.settle()


@scenario
async def serverDoStartRaises(w: World) -> None:
    """
    The server factory's doStart raises inside listenTCP: listenTCP raises
    the exception, and although the socket was already bound and listening
    (doStart runs after listen()), the port object is abandoned and its
    socket closed with the exception's traceback: a client connecting to
    that number is refused.
    """
    number = await w.closedPort()
    factory = w.serverFactory(startStop=exploding("doStart"))
    _noteWhetherItRaises(w, "listenTCP", lambda: w.listen(factory, port=number))
    w.connect(number)
    await w.when("cf", "doStop")


@scenario
async def clientDoStartRaises(w: World) -> None:
    """
    The client factory's doStart raises inside connectTCP: connectTCP raises
    it before any attempt starts -- no startedConnecting, no connection,
    no doStop.
    """

    port = w.listen()
    _noteWhetherItRaises(
        w, "connectTCP", lambda: w.connect(port, startStop=exploding("doStart"))
    )
    await w.settle()


@scenario
async def serverMakeConnectionRaises(w: World) -> None:
    """
    The server protocol's makeConnection raises before setting its transport
    (so no connectionMade): the error is logged and the accepted connection
    stays open and reading -- the protocol still gets the client's bytes
    through dataReceived, and the client's close through connectionLost.
    """

    def build(factory: RecordingServerFactory, address: IAddress) -> Peer | None:
        return MakeConnectionRaises(w, "s1")

    port = w.listen(build=build)
    w.connect(port, made=lambda p: p.tcp.write(b"hello?"))
    await w.received("s1", 6)
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def clientConnectionMadeRaises(w: World) -> None:
    """
    The client protocol's connectionMade raises: the error is logged and the
    connection is lost with that exception as the reason (connectionLost
    and clientConnectionLost get Explosion), then doStop; the server
    sees ConnectionDone.  Unlike the server side, where the connection
    stays open.
    """
    port = w.listen()
    w.connect(port, made=explode)
    await w.when("c1", "made")
    await _writeAfterSettling(w, "s1", b"still there?")


@scenario
async def clientConnectionLostRaises(w: World) -> None:
    """
    The client protocol's connectionLost raises: the error is logged and the
    connector never calls clientConnectionLost nor the factory's doStop.
    """
    port = w.listen(made=lambda p: p.tcp.loseConnection())
    w.connect(port, lost=explode)
    await w.when("c1", "lost")
    await w.settle()


@scenario
async def clientConnectionLostHookRaises(w: World) -> None:
    """
    The client factory's clientConnectionLost raises: the error is logged
    and the factory's doStop is never called.
    """
    port = w.listen(made=lambda p: p.tcp.loseConnection())
    w.connect(port, clientLost=explode)
    await w.when("cf", "clientLost")
    await w.settle()


@scenario
async def clientConnectionFailedRaises(w: World) -> None:
    """
    The client factory's clientConnectionFailed raises (refused
    connection): the error is logged, clientConnectionFailed is called a
    second time with a ConnectError carrying no errno (the failed attempt is
    torn down again), that raises too, and doStop is never called.
    """
    number = await w.closedPort()

    def failed(connector: IConnector, reason: Failure) -> None:
        noteOsError(w)(connector, reason)
        raise Explosion("in clientConnectionFailed")

    w.connect(number, failed=failed)
    await w.when("cf", "failed")
    await w.settle()


@scenario
async def serverConnectionLostRaises(w: World) -> None:
    """
    The server protocol's connectionLost raises: the error is logged after
    the connection is gone; nothing else changes (the client side closes
    normally).
    """
    port = w.listen(lost=explode)
    w.connect(port, made=lambda p: p.tcp.loseConnection())
    await w.when("s1", "lost")
    await w.settle()


@scenario
async def serverDoStopRaises(w: World) -> None:
    """
    The server factory's doStop raises inside stopListening: the port stops
    and stopListening's Deferred fails with the exception.
    """

    port = w.listen(w.serverFactory(startStop=exploding("doStop")))
    await w.stopListening(port)


@scenario
async def clientDoStopRaises(w: World) -> None:
    """
    The client factory's doStop raises after clientConnectionLost: the
    error is logged; everything else already happened normally.
    """

    port = w.listen(made=lambda p: p.tcp.loseConnection())
    w.connect(port, startStop=exploding("doStop"))
    await w.when("cf", "doStop")
    await w.settle()
