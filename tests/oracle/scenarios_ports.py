"""
Scenarios: listening ports -- listenTCP, port numbers, addresses in use,
stopListening and restarting.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import maybeDeferred
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import ServerFactory

from tests.oracle._registry import scenario
from tests.oracle._support_conn import errnoName, noteOsError, tryCall
from tests.oracle._support_data import pingPong
from tests.oracle._world import World


def _errno(error: CannotListenError) -> str | None:
    """
    The symbolic errno of C{error}'s socket error (C{EADDRINUSE}, ...).
    """
    return errnoName(getattr(error.socketError, "errno", None))


async def _tryListening(w: World, number: int, interface: str) -> None:
    """
    C{listenTCP(number, ..., interface=interface)} with a factory that
    records nothing: note C{"CannotListenError"} with the error's interface
    and errno, or C{"listening"} and stop listening again.
    """
    try:
        other = w.reactor.listenTCP(number, ServerFactory(), interface=interface)
    except CannotListenError as e:
        w.note("CannotListenError", e.interface, _errno(e))
    else:
        w.note("listening")
        await maybeDeferred(other.stopListening)


@scenario
async def listenStartsTheFactory(w: World) -> None:
    """
    listenTCP calls the factory's doStart before it returns; stopListening
    returns a Deferred and the factory's doStop has run by the time it
    fires.
    """
    port = w.listen()
    w.note("listenTCP returned")
    await w.stopListening(port)


@scenario
async def portZeroAllocatesDistinctPorts(w: World) -> None:
    """
    Listening on port 0 twice gives two distinct nonzero ports; a client
    connecting to each reaches that port's factory, whose protocol's getHost
    is that port.
    """
    first = w.listen()
    second = w.listen()
    numbers = [w.portNumber(first), w.portNumber(second)]
    w.note("distinct and nonzero", numbers[0] != numbers[1] and 0 not in numbers)
    w.connect(second)
    await w.when("c1", "made")
    await w.when("s1", "made")
    w.note("server getHost", w.addressName(w.peer("s1").tcp.getHost()))
    w.connect(first)
    await w.when("c2", "made")
    await w.when("s2", "made")
    w.note("server getHost", w.addressName(w.peer("s2").tcp.getHost()))


@scenario
async def addressInUse(w: World) -> None:
    """
    Listening on a port already listened on (same interface) raises
    CannotListenError (EADDRINUSE) naming that port and interface; the first
    port keeps working.
    """
    port = w.listen()
    number = w.portNumber(port)
    try:
        w.reactor.listenTCP(number, ServerFactory(), interface=w.interface)
    except CannotListenError as e:
        w.note(
            "CannotListenError",
            e.port == number,
            e.interface,
            _errno(e),
        )
    w.connect(port)
    await w.when("c1", "made")
    await w.when("s1", "made")


@scenario
async def stopListeningRefusesNewConnections(w: World) -> None:
    """
    Once stopListening's Deferred has fired, connecting to that port is
    refused and the factory builds nothing.
    """
    port = w.listen()
    number = w.portNumber(port)
    await w.stopListening(port)
    w.connect(number)
    await w.when("cf", "doStop")


@scenario
async def stopListeningKeepsAcceptedConnections(w: World) -> None:
    """
    Stopping the listening port does not touch connections it already
    accepted: they still carry data both ways and close cleanly.
    """
    port = w.listen()
    w.connect(port)
    await w.when("c1", "made")
    await w.when("s1", "made")
    await w.stopListening(port)
    await pingPong(w)
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def restartingPortZeroListenerGetsANewNumber(w: World) -> None:
    """
    A port listening on port 0, stopped with stopListening and started again
    with startListening, listens on a new number (the port attribute stays
    0); the factory is started again, and clients reach the new number.
    """
    port: Any = w.listen()
    before = w.portNumber(port)
    await w.stopListening(port)
    w.stopped.remove(port)
    port.startListening()
    after = w.portNumber(port)
    w.note("restarted", "new number", after != before, "port attribute", port.port)
    w.namePort(port)
    w.connect(port)
    await w.when("c1", "made")
    w.note("client getPeer", w.addressName(w.peer("c1").tcp.getPeer()))


@scenario
async def listenOnAClientConnectionsLocalPort(w: World) -> None:
    """
    Listening on the port an open client connection uses as its local port
    (same interface) raises CannotListenError (EADDRINUSE).
    """
    port = w.listen()
    w.connect(port)
    await w.when("c1", "made")
    local = w.peer("c1").tcp.getHost()
    number = getattr(local, "port", 0)
    try:
        other = w.reactor.listenTCP(number, ServerFactory(), interface=w.interface)
    except CannotListenError as e:
        w.note("CannotListenError", e.port == number, _errno(e))
    else:
        w.note("listening")
        await maybeDeferred(other.stopListening)


@scenario
async def connectTCPThenStopListeningInTheSameTurn(w: World) -> None:
    """
    connectTCP to a listening port, then stopListening in the same turn: the
    kernel had completed the handshake into the accept queue, so closing the
    listening socket resets the connection -- the client gets
    clientConnectionFailed(ConnectError, ECONNRESET), not
    ConnectionRefusedError, and the factory builds nothing.
    """
    port = w.listen()
    w.connect(port, failed=noteOsError(w))
    await w.stopListening(port)
    await w.when("cf", "doStop")


@scenario
async def oneFactoryOnTwoPorts(w: World) -> None:
    """
    One factory listening on two ports is started once (on the first
    listenTCP) and stopped once, when the last port stops listening.
    """
    factory = w.serverFactory()
    first = w.listen(factory)
    second = w.listen(factory)
    await w.stopListening(first)
    w.note("first stopped")
    await w.stopListening(second)


@scenario
async def listenOnAllInterfaces(w: World) -> None:
    """
    Listening on interface "" (all): the port's getHost is 0.0.0.0 with the
    allocated number; a client connecting to 127.0.0.1 reaches it, and the
    server protocol's getHost is the 127.0.0.1 address.
    """
    port = w.listen(interface="")
    w.note("port getHost host", getattr(port.getHost(), "host", None))
    w.connect(port)
    await w.when("c1", "made")
    await w.when("s1", "made")
    w.note("server getHost", w.addressName(w.peer("s1").tcp.getHost()))
    w.note("client getPeer", w.addressName(w.peer("c1").tcp.getPeer()))


@scenario
async def listenOnAllInterfacesOverALoopbackListener(w: World) -> None:
    """
    Listening on all interfaces on a port already listened on at 127.0.0.1
    raises CannotListenError (EADDRINUSE).
    """
    port = w.listen()
    number = w.portNumber(port)
    await _tryListening(w, number, "")


@scenario
async def listenOnAnotherLoopbackAddressSamePort(w: World) -> None:
    """
    Listening on 127.0.0.2 on a port already listened on at 127.0.0.1
    works (the whole of 127/8 is local on Linux, and the addresses differ).
    """
    port = w.listen()
    number = w.portNumber(port)
    other = tryCall(
        w, "listenTCP", w.reactor.listenTCP, number, ServerFactory(), 50, "127.0.0.2"
    )
    if other is not None:
        await maybeDeferred(other.stopListening)


@scenario
async def listenOnANonLocalAddress(w: World) -> None:
    """
    Listening on an address no interface has (192.0.2.1, TEST-NET-1)
    raises CannotListenError (EADDRNOTAVAIL).
    """
    await _tryListening(w, 0, "192.0.2.1")


@scenario
async def getHostAfterStopListening(w: World) -> None:
    """
    A port's getHost once it has stopped listening raises AttributeError
    (the port has dropped its socket).
    """
    port = w.listen()
    await w.stopListening(port)
    try:
        address = port.getHost()
    except Exception as e:
        w.note("getHost raised", type(e).__name__)
    else:
        w.note("getHost", w.addressName(address))


async def _listenAgainAndConnect(w: World, number: int) -> bool:
    """
    Listen on C{number} again with a new server factory, noting whether
    listenTCP returned or raised; if it returned, connect a second client
    to C{number} and wait for its C{connectionMade}.

    @return: whether listening again worked.
    """
    again = tryCall(
        w, "listenTCP", w.reactor.listenTCP, number, w.serverFactory(), 50, w.interface
    )
    if again is None:
        return False
    w.ports.append(again)
    w.connect(number)
    await w.when("c2", "made")
    return True


@scenario
async def listenAgainOnTheSameNumberWhileAnAcceptedConnectionIsOpen(
    w: World,
) -> None:
    """
    Listening again on a port's number after stopListening, while a
    connection it accepted is still open, works (Twisted listens with
    SO_REUSEADDR and the accepted socket is not listening): a new client
    reaches the new factory.
    """
    port = w.listen()
    number = w.portNumber(port)
    w.connect(port)
    await w.when("c1", "made")
    await w.when("s1", "made")
    await w.stopListening(port)
    if await _listenAgainAndConnect(w, number):
        w.note("c2 getPeer", w.addressName(w.peer("c2").tcp.getPeer()))


@scenario
async def listenAgainOnTheSameNumberAfterTheServerClosedFirst(w: World) -> None:
    """
    Listening again on a port's number after stopListening, when the server
    side closed a connection first (so the server's end lingers in
    TIME_WAIT), works too (SO_REUSEADDR): a new client reaches the new
    factory.
    """
    port = w.listen(made=lambda p: p.tcp.loseConnection())
    number = w.portNumber(port)
    w.connect(port)
    await w.when("s1", "lost")
    await w.when("cf", "doStop")
    await w.stopListening(port)
    await _listenAgainAndConnect(w, number)
