"""
Scenarios: resets -- a connection reset by one end (SO_LINGER 0 and close on
the real reactor, the C{reset} fault on the memory network), as the other
end sees it.
"""

from __future__ import annotations

from typing import Any, cast

from tests.oracle._registry import scenario
from tests.oracle._support_data import (
    connectCountingClient,
    connectPair,
    isPrefix,
    resumeOnceServerLost,
    stream,
    tcp,
)
from tests.oracle._world import Peer, World


@scenario
async def peerResetMidStream(w: World) -> None:
    """
    The server resets (SO_LINGER 0 + abortConnection on the real reactor,
    so the server itself gets ConnectionAborted, first) while a MiB is in
    flight: the client keeps a prefix and gets ConnectionLost, as does its
    factory.
    """
    data = stream(16, 64 * 1024)
    client, server = await connectCountingClient(w)
    server.tcp.write(data)
    await w.waitFor(lambda: client.count > 0)
    w.reset(server)
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    await w.when("cf", "doStop")
    w.note("client got a prefix", isPrefix(client.buffer, data))


@scenario
async def peerResetByClient(w: World) -> None:
    """
    The client resets after its request was read: the client gets
    ConnectionAborted (and its factory), then the server ConnectionLost;
    writing to the reset connection afterwards sends nothing.
    """
    client, server = await connectPair(w)
    client.tcp.write(b"ping")
    await w.received("s1", 4)
    w.reset(client)
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    server.tcp.write(b"too late")
    await w.settle()
    w.note("client received", client.received)


@scenario
async def peerResetBeforeAnyData(w: World) -> None:
    """
    A reset on a connection that carried nothing: the resetting server gets
    ConnectionAborted first, then the client ConnectionLost having received
    nothing.
    """
    _client, server = await connectPair(w)
    w.reset(server)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def resetReachesAPausedPeerOnlyWhenItResumes(w: World) -> None:
    """
    The server resets (it gets ConnectionAborted) while the client is paused
    with unread bytes: the client notices only when it resumes, reads the
    bytes that arrived before the RST, then gets ConnectionLost.
    """
    client, server = await connectPair(w)
    tcp(client).pauseProducing()
    server.tcp.write(b"unread")
    await w.settle()
    w.reset(server)
    await resumeOnceServerLost(w, client)


@scenario
async def resetOfAHalfClosedPeer(w: World) -> None:
    """
    The server resets (it gets ConnectionAborted) after the client
    half-closed: the client, still reading, gets ConnectionLost (not
    readConnectionLost).
    """
    client, server = await connectPair(
        w, server={"halfClose": True}, client={"halfClose": True}
    )
    client.tcp.loseWriteConnection()
    await w.when("s1", "readLost")
    await w.when("c1", "writeLost")
    w.reset(server)
    await w.when("s1", "lost")
    await w.when("c1", "lost")


def _writeAfterTenBytes(peer: Peer, data: bytes) -> None:
    if len(peer.received) == 10:
        peer.tcp.write(b"!")


@scenario
async def readerThatWritesAfterAResetLosesTheRest(w: World) -> None:
    """
    The server writes 100 bytes and resets while the client is paused; the
    client then reads one byte per read (C{bufferSize} 1) and, after ten
    bytes, writes: its next dispatch reads one more byte, then its write
    fails (ECONNRESET) and Twisted drops the connection with the rest
    unread -- eleven bytes read.  (A reader that does not write reads all
    of them: L{resetReachesAPausedPeerOnlyWhenItResumes}.)
    """
    client, server = await connectPair(w, client={"data": _writeAfterTenBytes})
    tcp(client).pauseProducing()
    cast(Any, client.transport).bufferSize = 1
    server.tcp.write(b"x" * 100)
    await w.settle()
    w.reset(server)
    await resumeOnceServerLost(w, client)
    w.note("client read", len(client.received))
