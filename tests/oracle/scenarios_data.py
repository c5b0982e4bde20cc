"""
Scenarios: writing -- what arrives, in which order, and what a write that
is still in the transport's user-space buffer becomes when the connection
ends.
"""

from __future__ import annotations

from typing import Any

from tests.oracle._registry import scenario
from tests.oracle._support_data import (
    CountingPeer,
    attempt,
    connectPair,
    counted,
    stream,
)
from tests.oracle._world import Explosion, Peer, World


@scenario
async def writeBeforeExceptionInClientConnectionMade(w: World) -> None:
    """
    A client that writes and then raises in connectionMade: the real reactor
    logs the error and loses that connection with the exception (the client
    factory gets clientConnectionLost(Explosion)); the bytes written just
    before it never leave the user-space buffer, so the server gets no data,
    only ConnectionDone.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"never sent?")
        raise Explosion("in connectionMade")

    port = w.listen()
    w.connect(port, made=made)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def writeBeforeExceptionInServerConnectionMade(w: World) -> None:
    """
    A server that writes and then raises in connectionMade: the error is
    logged and the connection stays open (tcp.Port.doRead logs it, it does
    not close), so the bytes written before the exception ARE delivered --
    unlike issue 10's wording, only the client's connectionMade drops them
    (writeBeforeExceptionInClientConnectionMade).  The server protocol is
    lost only when the client closes.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"welcome")
        raise Explosion("in connectionMade")

    port = w.listen(made=made)
    w.connect(port)
    await w.received("c1", 7)
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def replyWrittenJustBeforePeersEndOfFile(w: World) -> None:
    """
    A half-closeable client writes a request and shuts its write side; the
    server (not half-closeable) writes a reply from dataReceived.  The
    request and the FIN arrive together, so the server reads the EOF before
    its reply ever reaches a doWrite: it is lost with ConnectionDone and the
    reply is never sent -- the client sees the server's FIN (readLost) and no
    data.  The client's writeConnectionLost runs inside its own doWrite,
    before the server reads anything.  (A half-closeable server's reply is
    delivered: replyWrittenJustBeforeEndOfFileToHalfCloseableServer.)
    """

    def request(p: Peer) -> None:
        p.tcp.write(b"request")
        p.tcp.loseWriteConnection()

    await connectPair(
        w,
        server={"data": lambda p, data: p.tcp.write(b"reply")},
        client={"made": request, "halfClose": True},
    )
    await w.when("s1", "lost")
    await w.when("c1", "readLost")
    await w.settle()
    w.peer("c1").tcp.loseConnection()


@scenario
async def transportHasGetHandle(w: World) -> None:
    """
    Both ends' TCP transports have getHandle() (ISystemHandle: the socket).
    """
    client, server = await connectPair(w)
    for peer in (client, server):
        w.note(peer.name, "hasattr getHandle", hasattr(peer.tcp, "getHandle"))
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def writesArriveInOrder(w: World) -> None:
    """
    Two hundred small writes arrive complete and in order.
    """
    client, _server = await connectPair(w)
    messages = [b"%03d," % (i,) for i in range(200)]
    for message in messages:
        client.tcp.write(message)
    await w.received("s1", 800)
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def writeSequenceConcatenates(w: World) -> None:
    """
    writeSequence (with an empty part) between two writes delivers the
    concatenation, in order.
    """
    client, server = await connectPair(w)
    server.tcp.write(b"<")
    server.tcp.writeSequence([b"one", b"", b"two", b"three"])
    server.tcp.write(b">")
    await w.received("c1", 13)
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def emptyWritesDeliverNothing(w: World) -> None:
    """
    Empty write() and writeSequence() calls deliver nothing (no
    dataReceived(b"")); a later one-byte write arrives alone.
    """
    client, _server = await connectPair(w)
    client.tcp.write(b"")
    client.tcp.writeSequence([])
    client.tcp.writeSequence([b"", b""])
    await w.settle()
    w.note("after empty writes")
    client.tcp.write(b"x")
    client.tcp.write(b"")
    await w.received("s1", 1)
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def writeTextRaisesTypeError(w: World) -> None:
    """
    write(str) and writeSequence([bytes, str]) raise TypeError and send
    nothing (not even the bytes part); write(str) still raises TypeError
    after connectionLost.
    """
    client, _server = await connectPair(w)
    text: Any = "not bytes"
    attempt(w, "write str", lambda: client.tcp.write(text))
    attempt(
        w, "writeSequence with str", lambda: client.tcp.writeSequence([b"ok", text])
    )
    client.tcp.write(b"fine")
    await w.received("s1", 4)
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    attempt(w, "write str after lost", lambda: client.tcp.write(text))


@scenario
async def largeTransfersBothWaysAtOnce(w: World) -> None:
    """
    Two MiB written each way at the same time, in 64 KiB writes, arrive
    intact on both sides.
    """
    await connectPair(w, server=counted(w, "s"), client=counted(w, "c"))
    client, server = w.peer("c1"), w.peer("s1")
    assert isinstance(client, CountingPeer) and isinstance(server, CountingPeer)
    size = 64 * 1024
    upstream = stream(32, size)
    downstream = upstream[::-1]
    for offset in range(0, len(upstream), size):
        client.tcp.write(upstream[offset : offset + size])
        server.tcp.write(downstream[offset : offset + size])
    await w.waitFor(lambda: server.count >= len(upstream))
    await w.waitFor(lambda: client.count >= len(downstream))
    w.note("server got the upstream", bytes(server.buffer) == upstream)
    w.note("client got the downstream", bytes(client.buffer) == downstream)
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def tcpOptionsDefaultsAndReadBack(w: World) -> None:
    """
    TCP_NODELAY and SO_KEEPALIVE are off by default on both ends and read
    back as set.
    """
    client, server = await connectPair(w)
    for peer in (client, server):
        attempt(w, f"{peer.name} getTcpNoDelay", peer.tcp.getTcpNoDelay)
        attempt(w, f"{peer.name} getTcpKeepAlive", peer.tcp.getTcpKeepAlive)
        peer.tcp.setTcpNoDelay(True)
        peer.tcp.setTcpKeepAlive(True)
        attempt(w, f"{peer.name} getTcpNoDelay", peer.tcp.getTcpNoDelay)
        attempt(w, f"{peer.name} getTcpKeepAlive", peer.tcp.getTcpKeepAlive)
        peer.tcp.setTcpNoDelay(False)
        attempt(w, f"{peer.name} getTcpNoDelay", peer.tcp.getTcpNoDelay)
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def replyWrittenJustBeforeEndOfFileToHalfCloseableServer(w: World) -> None:
    """
    As replyWrittenJustBeforePeersEndOfFile but the server is half-closeable:
    the EOF becomes readConnectionLost (logged before the reply leaves), the
    connection stays open and the reply is delivered afterwards.
    """

    def request(p: Peer) -> None:
        p.tcp.write(b"request")
        p.tcp.loseWriteConnection()

    await connectPair(
        w,
        server={"data": lambda p, data: p.tcp.write(b"reply"), "halfClose": True},
        client={"made": request, "halfClose": True},
    )
    await w.when("s1", "readLost")
    await w.received("c1", 5)
    w.peer("s1").tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "readLost")
    w.peer("c1").tcp.loseConnection()


@scenario
async def writeInClientConnectionMadeArrivesAfterServerConnectionMade(w: World) -> None:
    """
    Bytes the client writes in its connectionMade reach the server after the
    server's own connectionMade.
    """
    await connectPair(w, client={"made": lambda p: p.tcp.write(b"hello")})
    await w.received("s1", 5)
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")
