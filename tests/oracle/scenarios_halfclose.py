"""
Scenarios: half-close -- loseWriteConnection, readConnectionLost and
writeConnectionLost, with and without IHalfCloseableProtocol on each side.
"""

from __future__ import annotations

from tests.oracle._registry import scenario
from tests.oracle._support_conn import tryCall
from tests.oracle._support_data import CountingPeer, connectPair, counted, stream, tcp
from tests.oracle._world import Explosion, Peer, World

HALF = {"halfClose": True}


async def _halfClose(w: World, closer: Peer, peer: Peer) -> None:
    closer.tcp.write(b"last words")
    closer.tcp.loseWriteConnection()
    w.note("loseWriteConnection returned")
    await w.when(peer.name, "readLost")
    await w.when(closer.name, "writeLost")
    peer.tcp.write(b"the reply")
    await w.received(closer.name, 9)
    peer.tcp.loseConnection()
    await w.when(peer.name, "lost")
    await w.when(closer.name, "readLost")
    await w.settle()
    closer.tcp.loseConnection()
    w.note("closer's loseConnection returned")


@scenario
async def halfCloseClientToServer(w: World) -> None:
    """
    The client writes and half-closes: its writeConnectionLost runs (inside
    its own doWrite) before the server reads; the server gets the data and
    readConnectionLost, can still reply, and closes; the client gets
    readConnectionLost and no connectionLost until it calls loseConnection(),
    which then runs connectionLost inside the call.
    """
    client, server = await connectPair(w, server=dict(HALF), client=dict(HALF))
    await _halfClose(w, client, server)


@scenario
async def halfCloseServerToClient(w: World) -> None:
    """
    The mirror of halfCloseClientToServer: the server half-closes after
    writing, the client replies and closes.
    """
    client, server = await connectPair(w, server=dict(HALF), client=dict(HALF))
    await _halfClose(w, server, client)


@scenario
async def halfCloseToPeerNotHalfCloseable(w: World) -> None:
    """
    A half-closeable client writes and half-closes towards a server that is
    not half-closeable: the server reads the data and is lost with
    ConnectionDone; the client gets readConnectionLost, and connectionLost
    only inside its own loseConnection().
    """
    client, _server = await connectPair(w, client=dict(HALF))
    client.tcp.write(b"request")
    client.tcp.loseWriteConnection()
    await w.when("s1", "lost")
    await w.when("c1", "readLost")
    await w.settle()
    client.tcp.loseConnection()
    w.note("client's loseConnection returned")


@scenario
async def halfCloseByProtocolNotHalfCloseable(w: World) -> None:
    """
    A client that is not half-closeable calls loseWriteConnection(): no
    callback for it; it still receives the server's answer and gets
    ConnectionDone when the server closes.
    """
    client, server = await connectPair(w, server=dict(HALF))
    client.tcp.loseWriteConnection()
    await w.when("s1", "readLost")
    server.tcp.write(b"answer")
    server.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def writesAroundLoseWriteConnection(w: World) -> None:
    """
    A write right after loseWriteConnection() is still delivered (the
    server gets "12" before readConnectionLost); a write after
    writeConnectionLost is silently dropped.
    """
    client, server = await connectPair(w, server=dict(HALF), client=dict(HALF))
    client.tcp.write(b"1")
    client.tcp.loseWriteConnection()
    client.tcp.write(b"2")
    await w.when("c1", "writeLost")
    client.tcp.write(b"3")
    await w.when("s1", "readLost")
    await w.settle()
    server.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "readLost")
    client.tcp.loseConnection()


@scenario
async def pauseAndResumeAfterEndOfFileRepeatsReadConnectionLost(w: World) -> None:
    """
    A half-closeable server that got readConnectionLost and then pauses and
    resumes its transport gets readConnectionLost again, once per resume
    (resumeProducing starts reading, and the socket still reads EOF).
    """
    client, server = await connectPair(w, server=dict(HALF))
    client.tcp.loseWriteConnection()
    await w.when("s1", "readLost")
    await w.settle()
    w.note("server pauses and resumes")
    tcp(server).pauseProducing()
    tcp(server).resumeProducing()
    await w.settle()
    w.note("server pauses and resumes again")
    tcp(server).pauseProducing()
    tcp(server).resumeProducing()
    await w.settle()
    server.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def loseWriteConnectionTwice(w: World) -> None:
    """
    A second loseWriteConnection() after writeConnectionLost makes the next
    doWrite send b"" on a socket whose write side is shut: EPIPE, and the
    client is lost with ConnectionLost.  The server, which already read the
    EOF, notices nothing until it closes itself (ConnectionDone).
    """
    client, server = await connectPair(w, server=dict(HALF), client=dict(HALF))
    client.tcp.loseWriteConnection()
    await w.when("c1", "writeLost")
    await w.when("s1", "readLost")
    client.tcp.loseWriteConnection()
    w.note("second loseWriteConnection returned")
    await w.when("c1", "lost")
    await w.settle()
    w.note("server closes")
    server.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def fullyShutConnectionWaitsForLoseConnection(w: World) -> None:
    """
    A half-closeable client that shut its write side and then read the
    server's EOF gets readConnectionLost and no connectionLost: the transport
    stays open until loseConnection(), which runs connectionLost (and the
    factory's clientConnectionLost and doStop) inside the call.
    """
    client, server = await connectPair(w, server=dict(HALF), client=dict(HALF))
    client.tcp.loseWriteConnection()
    await w.when("s1", "readLost")
    await w.when("c1", "writeLost")
    server.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "readLost")
    await w.settle()
    w.note("client calls loseConnection")
    client.tcp.loseConnection()
    w.note("loseConnection returned")


@scenario
async def loseConnectionRightAfterLoseWriteConnection(w: World) -> None:
    """
    loseWriteConnection() then loseConnection() in the same call: the close
    wins -- the client gets no writeConnectionLost, only
    connectionLost(ConnectionDone); the server reads the data, then
    readConnectionLost.
    """
    client, server = await connectPair(w, server=dict(HALF), client=dict(HALF))
    client.tcp.write(b"bye")
    client.tcp.loseWriteConnection()
    client.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "readLost")
    server.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def exceptionInReadConnectionLost(w: World) -> None:
    """
    An exception in the server's readConnectionLost is logged and loses the
    connection with it, in an orderly way: the client gets readConnectionLost.
    """

    def readLost(p: Peer) -> None:
        raise Explosion("in readConnectionLost")

    client, _server = await connectPair(
        w, server={"readLost": readLost}, client=dict(HALF)
    )
    client.tcp.loseWriteConnection()
    await w.when("s1", "lost")
    await w.when("c1", "readLost")
    client.tcp.loseConnection()


@scenario
async def exceptionInWriteConnectionLost(w: World) -> None:
    """
    An exception in the client's writeConnectionLost is logged and loses the
    client's connection with it (clientConnectionLost(Explosion)); the
    server gets readConnectionLost, and ConnectionDone when it closes.
    """

    def writeLost(p: Peer) -> None:
        raise Explosion("in writeConnectionLost")

    client, server = await connectPair(
        w, server=dict(HALF), client={"writeLost": writeLost}
    )
    client.tcp.loseWriteConnection()
    await w.when("c1", "lost")
    await w.when("s1", "readLost")
    await w.settle()
    server.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def halfClosedSideStillReceivesBigReply(w: World) -> None:
    """
    After the client half-closed, the server's 1 MiB reply and close reach
    it: the server is lost first (its buffer drained into the kernel), then
    the client has all the data and gets readConnectionLost.
    """
    reply = stream(16, 64 * 1024)
    client, server = await connectPair(
        w, server=dict(HALF), client=counted(w, "c", halfClose=True)
    )
    assert isinstance(client, CountingPeer)
    client.tcp.loseWriteConnection()
    await w.when("s1", "readLost")
    server.tcp.write(reply)
    server.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "readLost")
    w.note("client got everything", bytes(client.buffer) == reply)
    client.tcp.loseConnection()


@scenario
async def loseWriteConnectionAfterConnectionLostRaises(w: World) -> None:
    """
    loseWriteConnection() on a transport whose connection is lost -- in its
    protocol's connectionLost and afterwards -- raises ValueError (its
    startWriting hands the reactor a closed descriptor, -1); loseConnection()
    there returns quietly.
    """

    def lost(peer: Peer) -> None:
        tryCall(
            w, "in connectionLost: loseWriteConnection", peer.tcp.loseWriteConnection
        )

    client, _server = await connectPair(w, server={"lost": lost})
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    tryCall(w, "after: loseWriteConnection", client.tcp.loseWriteConnection)
    tryCall(w, "after: loseConnection", client.tcp.loseConnection)
