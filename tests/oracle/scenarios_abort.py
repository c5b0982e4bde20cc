"""
Scenarios: aborting -- reasons on both sides, what an abort drops, and
aborts mixed with closes, resets and exceptions.
"""

from __future__ import annotations

from tests.oracle._registry import scenario
from tests.oracle._support_data import (
    connectCountingClient,
    connectPair,
    isPrefix,
    resumeOnceServerLost,
    stream,
    tcp,
)
from tests.oracle._world import Explosion, Peer, World


@scenario
async def clientAbortReasons(w: World) -> None:
    """
    The client's abortConnection() returns before any callback; then
    ConnectionAborted on the client (and its factory), ConnectionLost (a
    reset) on the server.
    """
    client, _server = await connectPair(w)
    client.tcp.abortConnection()
    w.note("abortConnection returned")
    await w.when("cf", "doStop")
    await w.when("s1", "lost")


@scenario
async def serverAbortReasons(w: World) -> None:
    """
    The server's abortConnection(): ConnectionAborted on the server,
    ConnectionLost on the client and its factory, both after the call
    returned.
    """
    _client, server = await connectPair(w)
    server.tcp.abortConnection()
    w.note("abortConnection returned")
    await w.when("cf", "doStop")
    await w.when("s1", "lost")


@scenario
async def simultaneousAbort(w: World) -> None:
    """
    Both ends abort in the same turn: each gets ConnectionAborted (an
    aborting end reads nothing more, not even the other's RST).
    """
    client, server = await connectPair(w)
    server.tcp.abortConnection()
    client.tcp.abortConnection()
    await w.when("cf", "doStop")
    await w.when("s1", "lost")


@scenario
async def abortWhileThePeersCloseIsInFlight(w: World) -> None:
    """
    Half-closeable ends; the server calls loseConnection() and the client
    aborts in the same turn: the client gets ConnectionAborted and never sees
    the server's EOF; the server gets ConnectionLost, because the client's
    abort (a callLater(0)) sends its RST before the server's doWrite closes.
    The contract suite accepts ConnectionDone too; on Linux loopback the real
    reactor always gave ConnectionLost.
    """
    client, server = await connectPair(
        w, server={"halfClose": True}, client={"halfClose": True}
    )
    server.tcp.loseConnection()
    client.tcp.abortConnection()
    await w.when("cf", "doStop")
    await w.when("s1", "lost")


@scenario
async def abortDropsDataWrittenInTheSameCall(w: World) -> None:
    """
    A MiB written just before abortConnection() (and bytes written after it)
    never reach the client: it receives nothing and gets ConnectionLost,
    after the server's ConnectionAborted.
    """
    client, server = await connectCountingClient(w)
    server.tcp.write(stream(16, 64 * 1024))
    server.tcp.abortConnection()
    server.tcp.write(b"after abort")
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    w.note("client received", client.count)


@scenario
async def abortMidTransferDeliversOnlyAPrefix(w: World) -> None:
    """
    The server aborts once the client has received the first bytes of an
    8 MiB transfer: the client keeps a strict prefix and gets ConnectionLost.
    """
    data = stream(128, 64 * 1024)
    client, server = await connectCountingClient(w)
    for offset in range(0, len(data), 64 * 1024):
        server.tcp.write(data[offset : offset + 64 * 1024])
    await w.waitFor(lambda: client.count > 0)
    server.tcp.abortConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    w.note("client got less than everything", client.count < len(data))
    w.note("client got a prefix", isPrefix(client.buffer, data))


@scenario
async def abortTwiceAndLoseAfterAbort(w: World) -> None:
    """
    abortConnection() twice then loseConnection(): one connectionLost,
    ConnectionAborted; an abort after connectionLost is harmless.
    """
    client, _server = await connectPair(w)
    client.tcp.abortConnection()
    client.tcp.abortConnection()
    client.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    client.tcp.abortConnection()
    w.note("abort after lost returned")


@scenario
async def abortThenExceptionInDataReceived(w: World) -> None:
    """
    A server that aborts and then raises in dataReceived: the exception
    reaches the reactor first, which loses the connection with it in an
    orderly way (shutdown, not the abort's RST): the server gets
    connectionLost(Explosion) once and the client ConnectionDone.
    """

    def data(p: Peer, data: bytes) -> None:
        p.tcp.abortConnection()
        raise Explosion("after abortConnection")

    await connectPair(
        w, server={"data": data}, client={"made": lambda p: p.tcp.write(b"go")}
    )
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    await w.settle()


@scenario
async def abortInDataReceived(w: World) -> None:
    """
    A server that writes and aborts in dataReceived: the write is dropped;
    the server's ConnectionAborted comes first, then the client's
    ConnectionLost.
    """

    def data(p: Peer, data: bytes) -> None:
        p.tcp.write(b"never sent")
        p.tcp.abortConnection()

    await connectPair(
        w, server={"data": data}, client={"made": lambda p: p.tcp.write(b"go")}
    )
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def abortAfterLoseConnectionDropsPendingData(w: World) -> None:
    """
    The server writes 8 MiB to a client that does not read and calls
    loseConnection(); it stays open (its buffer cannot drain); an abort then
    drops the rest: ConnectionAborted on the server, and the client, once
    it reads again, gets less than everything and ConnectionLost.
    """
    client, server = await connectCountingClient(w)
    tcp(client).pauseProducing()
    server.tcp.write(stream(128, 64 * 1024))
    server.tcp.loseConnection()
    await w.settle()
    w.note("server lost before the abort", server.isLost)
    server.tcp.abortConnection()
    await w.when("s1", "lost")
    tcp(client).resumeProducing()
    await w.when("c1", "lost")
    w.note("client got everything", client.count == 128 * 64 * 1024)


@scenario
async def abortToAPausedPeerIsNoticedOnResume(w: World) -> None:
    """
    The server aborts while the client is paused with unread bytes: the
    client notices nothing until it resumes, then reads the bytes that had
    arrived before the RST and gets ConnectionLost.
    """
    client, server = await connectPair(w)
    tcp(client).pauseProducing()
    server.tcp.write(b"before the abort")
    await w.settle()
    server.tcp.abortConnection()
    await resumeOnceServerLost(w, client)
