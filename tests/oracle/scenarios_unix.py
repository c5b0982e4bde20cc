"""
Scenarios: UNIX stream sockets -- listenUNIX and connectUNIX, their
addresses, the path namespace (taken, missing and freed paths, lock files),
the transport's semantics where AF_UNIX differs from TCP (no RST, errors on
write, buffer sizes), and the UNIX endpoints.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import UNIXAddress
from twisted.internet.defer import maybeDeferred
from twisted.internet.endpoints import (
    UNIXClientEndpoint,
    UNIXServerEndpoint,
    clientFromString,
    connectProtocol,
    serverFromString,
)
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IConnector, ITCPTransport
from twisted.python.failure import Failure

from tests.oracle._registry import scenario
from tests.oracle._support_addr import connectUNIX, listenUNIX, socketPath, unixName
from tests.oracle._support_conn import (
    connectEndpoint,
    errnoName,
    listenEndpoint,
    tryCall,
)
from tests.oracle._support_data import (
    ChunkProducer,
    attempt,
    counted,
    pingPong,
    tcp,
    waitUntilStalled,
)
from tests.oracle._world import Peer, World


def _cannotListen(w: World, error: CannotListenError) -> None:
    socketError = error.socketError
    w.note(
        "CannotListenError",
        unixName(w, UNIXAddress(error.port))
        if isinstance(error.port, (bytes, str))
        else error.port,
        errnoName(getattr(socketError, "errno", None)),
        socketError if isinstance(socketError, str) else type(socketError).__name__,
    )


async def _tryListenUNIX(w: World, path: str, **options: Any) -> None:
    """
    C{listenUNIX(path, ..., **options)} with a new recording server factory:
    note why it cannot listen (L{_cannotListen}), or C{"listening"} and stop
    listening again.
    """
    factory = w.serverFactory()
    try:
        port = w.reactor.listenUNIX(path, factory, **options)
    except CannotListenError as e:
        _cannotListen(w, e)
    else:
        w.note("listening")
        await maybeDeferred(port.stopListening)


def _failed(w: World) -> Any:
    """
    A C{failed} hook noting the failure's errno and message shape.
    """

    def failed(connector: IConnector, reason: Failure) -> None:
        w.note("osError", errnoName(getattr(reason.value, "osError", None)))

    return failed


async def _pair(
    w: World, server: dict[str, Any] | None = None, client: dict[str, Any] | None = None
) -> tuple[Peer, Peer]:
    path = socketPath(w, "s")
    listenUNIX(w, path, **(server or {}))
    connectUNIX(w, path, **(client or {}))
    await w.when("c1", "made")
    await w.when("s1", "made")
    return w.peer("c1"), w.peer("s1")


@scenario
async def unixConnectAndTalk(w: World) -> None:
    """
    connectUNIX to a listenUNIX port: doStart and startedConnecting inside
    connectUNIX; the client's connect() completes at once, so the client
    protocol is made before the server accepts; data flows both ways and a
    close from the client is ConnectionDone on both ends.
    """
    path = socketPath(w, "s")
    listenUNIX(w, path)
    connectUNIX(w, path)
    w.note("connectUNIX returned")
    await w.when("c1", "made")
    await w.when("s1", "made")
    await pingPong(w)
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("cf", "doStop")


@scenario
async def unixAddresses(w: World) -> None:
    """
    The UNIX addresses each end reports: the port's getHost and the
    server's getHost are the path; the server's getPeer is the client's
    (unnamed) address; the client's getPeer and the connector's
    getDestination are the path, its getHost the unnamed address -- also
    once the connection is lost, when the server's getHost raises.
    """
    path = socketPath(w, "s")
    port = listenUNIX(w, path)
    connector = connectUNIX(w, path)
    w.note("port getHost", w.addressName(port.getHost()))
    w.note("destination", w.addressName(connector.getDestination()))
    await w.when("c1", "made")
    await w.when("s1", "made")
    client, server = w.peer("c1").tcp, w.peer("s1").tcp
    w.note("client getHost", w.addressName(client.getHost()))
    w.note("client getPeer", w.addressName(client.getPeer()))
    w.note("server getHost", w.addressName(server.getHost()))
    w.note("server getPeer", w.addressName(server.getPeer()))
    client.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    attempt(w, "client getHost after", lambda: w.addressName(client.getHost()))
    attempt(w, "client getPeer after", lambda: w.addressName(client.getPeer()))
    attempt(w, "server getHost after", lambda: w.addressName(server.getHost()))
    attempt(w, "server getPeer after", lambda: w.addressName(server.getPeer()))


@scenario
async def unixPortAttributes(w: World) -> None:
    """
    A UNIX listening port's port attribute (tcp.Port's, set to 0: the path
    is elsewhere); after stopListening getHost raises.
    """
    path = socketPath(w, "s")
    port: Any = listenUNIX(w, path)
    number = port.port
    w.note(
        "port attribute",
        number if isinstance(number, int) else unixName(w, UNIXAddress(number)),
    )
    await w.stopListening(port)
    attempt(w, "getHost after stop", lambda: w.addressName(port.getHost()))


@scenario
async def unixConnectToAMissingPath(w: World) -> None:
    """
    connectUNIX to a path nobody listens on (no such file) fails in the
    next turn with ConnectError (ENOENT), then doStop.
    """
    path = socketPath(w, "nothing")
    connectUNIX(w, path, failed=_failed(w))
    w.note("connectUNIX returned")
    await w.when("cf", "doStop")


@scenario
async def unixStopListeningFreesThePath(w: World) -> None:
    """
    Once stopListening's Deferred fired, the path is gone: connecting fails
    as for a missing path, and listening on it again works.
    """
    path = socketPath(w, "s")
    port = listenUNIX(w, path)
    await w.stopListening(port)
    connectUNIX(w, path, failed=_failed(w))
    await w.when("cf", "doStop")
    again = tryCall(
        w, "listenUNIX again", w.reactor.listenUNIX, path, w.serverFactory()
    )
    if again is not None:
        w.ports.append(again)
        connectUNIX(w, path)
        await w.when("c1", "made")
        await w.when("s1", "made")


@scenario
async def unixListenOnATakenPath(w: World) -> None:
    """
    listenUNIX on a path another port listens on: the second factory's
    doStart runs (unix.Port starts the factory before it binds), then
    CannotListenError (EADDRINUSE) naming the path; the first port keeps
    working.
    """
    path = socketPath(w, "s")
    listenUNIX(w, path)
    await _tryListenUNIX(w, path)
    connectUNIX(w, path)
    await w.when("c1", "made")
    await w.when("s1", "made")


@scenario
async def unixListenWithALockFile(w: World) -> None:
    """
    listenUNIX(wantPID=1) takes the path's lock file: a second
    listenUNIX(wantPID=1) on it fails with CannotListenError ("Cannot
    acquire lock") before its factory starts; connectUNIX(checkPID=1)
    connects; after stopListening the lock is free again.
    """
    path = socketPath(w, "s")
    port = listenUNIX(w, path, wantPID=1)
    await _tryListenUNIX(w, path, wantPID=1)
    connectUNIX(w, path, checkPID=1)
    await w.when("c1", "made")
    await w.when("s1", "made")
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")
    await w.stopListening(port)
    again = tryCall(
        w,
        "listenUNIX again",
        w.reactor.listenUNIX,
        path,
        w.serverFactory(),
        50,
        0o666,
        1,
    )
    if again is not None:
        w.ports.append(again)


@scenario
async def unixCheckPIDWithoutALock(w: World) -> None:
    """
    connectUNIX(checkPID=1) to a port listening without a lock file fails
    with BadFileError (and nothing connects).
    """
    path = socketPath(w, "s")
    listenUNIX(w, path)
    connectUNIX(w, path, checkPID=1)
    await w.when("cf", "doStop")
    await w.settle()


@scenario
async def unixPathTooLong(w: World) -> None:
    """
    A path longer than a UNIX socket address holds (108 bytes): listenUNIX
    starts the factory, then raises CannotListenError ("AF_UNIX path too
    long", no errno); connectUNIX to it logs a TypeError (tcp.BaseClient
    cannot make an error of that) and the attempt hangs until its timeout.
    """
    path = socketPath(w, "long", 120)
    await _tryListenUNIX(w, path)
    connectUNIX(w, path, timeout=0.2)
    await w.when("cf", "doStop")


@scenario
async def unixAbortWithNothingUnread(w: World) -> None:
    """
    abortConnection on a UNIX socket with nothing unread: SO_LINGER has no
    effect on AF_UNIX, so the peer sees an orderly end -- ConnectionDone,
    not ConnectionLost -- after the bytes already sent.
    """
    client, _server = await _pair(w)
    client.tcp.write(b"last words")
    await w.received("s1", 10)
    client.tcp.abortConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def unixCloseWithUnreadInput(w: World) -> None:
    """
    Closing a UNIX socket that has unread input resets the peer: the peer
    still reads the bytes sent before, then gets ConnectionLost
    (ECONNRESET).
    """

    def made(p: Peer) -> None:
        tcp(p).pauseProducing()

    client, server = await _pair(w, server={"made": made})
    client.tcp.write(b"unread")
    server.tcp.write(b"sent before")
    await w.received("c1", 11)
    await w.settle()
    server.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def unixWriteAfterThePeerClosed(w: World) -> None:
    """
    A UNIX socket whose peer closed gets EOF; writing to it then fails at
    once (EPIPE, no RST round trip): a half-closeable protocol that writes
    in readConnectionLost is lost with ConnectionLost.
    """

    def readLost(p: Peer) -> None:
        p.tcp.write(b"too late")

    client, _server = await _pair(w, server={"readLost": readLost})
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def unixHalfClose(w: World) -> None:
    """
    loseWriteConnection on a UNIX socket: the peer reads the bytes, then
    readConnectionLost; it can still answer, and the half-closed end reads
    the answer and the peer's close.
    """

    def readLost(p: Peer) -> None:
        p.tcp.write(b"answer")
        p.tcp.loseConnection()

    client, _server = await _pair(
        w, server={"readLost": readLost}, client={"halfClose": True}
    )
    client.tcp.write(b"question")
    client.tcp.loseWriteConnection()
    await w.when("c1", "readLost")
    await w.when("s1", "lost")
    w.peer("c1").tcp.loseConnection()
    await w.when("c1", "lost")


@scenario
async def unixTCPOptions(w: World) -> None:
    """
    The TCP options of a UNIX transport: TCP_NODELAY does not exist
    (setTcpNoDelay is ignored, getTcpNoDelay is False); SO_KEEPALIVE is
    stored as on any socket.
    """
    client, server = await _pair(w)
    for name, transport in (("client", client.tcp), ("server", server.tcp)):
        _tcpOptions(w, name, transport)


def _tcpOptions(w: World, name: str, transport: ITCPTransport) -> None:
    attempt(w, f"{name} setTcpNoDelay", lambda: transport.setTcpNoDelay(True))
    attempt(w, f"{name} getTcpNoDelay", lambda: bool(transport.getTcpNoDelay()))
    attempt(w, f"{name} setKeepAlive", lambda: transport.setTcpKeepAlive(True))
    attempt(w, f"{name} getKeepAlive", lambda: bool(transport.getTcpKeepAlive()))


@scenario
async def unixStalledWriterBufferSize(w: World) -> None:
    """
    A writer streaming (16 KiB chunks) to a UNIX peer that does not read
    stalls after its first flush: the kernel took the 80 KiB written before
    the producer was paused, and a UNIX socket polls writable only while
    at most a quarter of its 208 KiB send buffer is unread (a TCP loopback
    connection takes megabytes); when the reader resumes, everything
    arrives.
    """

    def made(p: Peer) -> None:
        tcp(p).pauseProducing()

    path = socketPath(w, "s")
    listenUNIX(w, path, **counted(w, "s", made=made))
    connectUNIX(w, path)
    await w.when("c1", "made")
    await w.when("s1", "made")
    producer = ChunkProducer(w.peer("c1"), 64, 16384)
    producer.start()
    w.note("stalled", await waitUntilStalled(w, producer))
    transport: Any = tcp(w.peer("c1"))
    buffered = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    taken = producer.written - buffered
    w.note("kernel took", taken)
    tcp(w.peer("s1")).resumeProducing()
    await w.when("s1", "lost")
    server: Any = w.peer("s1")
    w.note("received", server.count == producer.total)


@scenario
async def unixBacklogFull(w: World) -> None:
    """
    A UNIX listener that does not accept (stopReading) with backlog 1 takes
    two connections; a third client's connect() returns EAGAIN, which
    Twisted treats as "in progress" -- and the unconnected socket then
    polls as hung up, so that attempt fails with ConnectError.
    """
    path = socketPath(w, "s")
    port: Any = listenUNIX(w, path, backlog=1)
    port.stopReading()
    for _ in range(3):
        connectUNIX(w, path, failed=_failed(w))
    await w.settle()
    port.startReading()
    await w.settle()


@scenario
async def unixStopListeningWithAnUnacceptedConnection(w: World) -> None:
    """
    connectUNIX then stopListening in the same turn: the client's connect()
    succeeded at once (connectionMade), the queued connection is dropped
    when the listening socket closes, and the client is lost with
    ConnectionLost (ECONNRESET); the server builds nothing.
    """
    path = socketPath(w, "s")
    port = listenUNIX(w, path)
    connectUNIX(w, path)
    await w.when("c1", "made")
    await w.stopListening(port)
    await w.when("cf", "doStop")


@scenario
async def unixStopConnecting(w: World) -> None:
    """
    stopConnecting() right after connectUNIX: clientConnectionFailed
    (UserError) and doStop inside the call; nothing is built.
    """
    path = socketPath(w, "s")
    listenUNIX(w, path)
    connector = connectUNIX(w, path)
    connector.stopConnecting()
    w.note("stopConnecting returned")
    await w.settle()


async def _endpointTalk(w: World, serverEndpoint: Any, clientEndpoint: Any) -> None:
    """
    Listen on C{serverEndpoint}, connect C{clientEndpoint} with a recording
    protocol, exchange a message each way and close from the client.
    """
    port = await listenEndpoint(w, serverEndpoint)
    w.note("port getHost", w.addressName(port.getHost()))
    client = await connectEndpoint(w, clientEndpoint)
    await pingPong(w)
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def unixEndpointsFromStrings(w: World) -> None:
    """
    serverFromString(reactor, "unix:PATH") and clientFromString(reactor,
    "unix:PATH") connect and carry data both ways.
    """
    path = socketPath(w, "s")
    await _endpointTalk(
        w,
        serverFromString(w.reactor, f"unix:{path}"),
        clientFromString(w.reactor, f"unix:{path}"),
    )


@scenario
async def unixEndpoints(w: World) -> None:
    """
    UNIXServerEndpoint(reactor, path) and UNIXClientEndpoint(reactor, path)
    connect and carry data both ways.
    """
    path = socketPath(w, "s")
    await _endpointTalk(
        w, UNIXServerEndpoint(w.reactor, path), UNIXClientEndpoint(w.reactor, path)
    )


@scenario
async def unixClientEndpointToAMissingPath(w: World) -> None:
    """
    A UNIXClientEndpoint to a path nobody listens on fails its Deferred
    with ConnectError.
    """
    path = socketPath(w, "nothing")
    try:
        await connectProtocol(UNIXClientEndpoint(w.reactor, path), w.newPeer("c", {}))
    except Exception as e:
        w.note(
            "connect failed", type(e).__name__, errnoName(getattr(e, "osError", None))
        )
    else:
        w.note("connected")


@scenario
async def unixServerLogPrefix(w: World) -> None:
    """
    The server end's logPrefix names the protocol, the session number and
    the client's (empty) name; the client end's names the protocol and
    "client".
    """
    client, server = await _pair(w)
    w.note("server", server.tcp.logPrefix())  # type: ignore[attr-defined]
    w.note("client", client.tcp.logPrefix())  # type: ignore[attr-defined]


@scenario
async def unixOneFactoryOnTwoPaths(w: World) -> None:
    """
    One factory listening on two paths is started once and stopped once,
    when the last port stops; each port's clients reach it.
    """
    factory = w.serverFactory()
    first = listenUNIX(w, socketPath(w, "a"), factory)
    second = listenUNIX(w, socketPath(w, "b"), factory)
    connectUNIX(w, socketPath(w, "b"))
    await w.when("c1", "made")
    await w.when("s1", "made")
    w.note("server getHost", w.addressName(w.peer("s1").tcp.getHost()))
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")
    await w.stopListening(first)
    w.note("first stopped")
    await w.stopListening(second)


@scenario
async def unixTheSameNameOverTCP(w: World) -> None:
    """
    A UNIX path and a TCP port live in separate namespaces: a path that
    looks like an address does not clash with a TCP listener.
    """
    tcpPort = w.listen()
    path = socketPath(w, "127.0.0.1")
    listenUNIX(w, path)
    connectUNIX(w, path)
    await w.when("c1", "made")
    w.connect(tcpPort)
    await w.when("c2", "made")
    w.note("c2 getPeer", w.addressName(w.peer("c2").tcp.getPeer()))
