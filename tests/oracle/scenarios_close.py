"""
Scenarios: closing -- reasons, what is flushed and what is lost, and the
transport after C{connectionLost}.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from twisted.internet.interfaces import IAddress

from tests.oracle._registry import scenario
from tests.oracle._support_data import (
    attempt,
    connectCountingClient,
    connectPair,
    isPrefix,
    resumeOnceServerLost,
    stream,
    tcp,
)
from tests.oracle._world import Explosion, Peer, World


@scenario
async def serverCloseReasons(w: World) -> None:
    """
    The server's loseConnection(): ConnectionDone on both sides, the server's
    first, and the client factory's clientConnectionLost(ConnectionDone).
    """
    _client, server = await connectPair(w)
    server.tcp.loseConnection()
    await w.when("cf", "doStop")
    await w.when("s1", "lost")


@scenario
async def loseConnectionFlushesPendingData(w: World) -> None:
    """
    A MiB written just before loseConnection() is all delivered, then
    ConnectionDone on both sides (the server's first: it closes as soon as
    its buffer has drained into the kernel).
    """
    data = stream(16, 64 * 1024)
    client, server = await connectCountingClient(w)
    server.tcp.write(data)
    server.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    w.note("client got everything", bytes(client.buffer) == data)


@scenario
async def connectionLostNotInsideClientLoseConnection(w: World) -> None:
    """
    The client's write + loseConnection() returns before any connectionLost;
    the client's connectionLost comes first (its doWrite flushes and closes),
    the server reads the bytes and the EOF afterwards.
    """
    client, _server = await connectPair(w)
    client.tcp.write(b"bye")
    client.tcp.loseConnection()
    w.note("loseConnection returned")
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def connectionLostNotInsideServerLoseConnection(w: World) -> None:
    """
    The server's loseConnection() returns before any connectionLost; then
    the server's and the client's, both ConnectionDone.
    """
    _client, server = await connectPair(w)
    server.tcp.loseConnection()
    w.note("loseConnection returned")
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def loseConnectionTwiceClosesOnce(w: World) -> None:
    """
    loseConnection() twice closes once (one connectionLost per side); a third
    call after connectionLost is harmless.
    """
    client, _server = await connectPair(w)
    client.tcp.loseConnection()
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    client.tcp.loseConnection()
    w.note("third loseConnection returned")


@scenario
async def writeAfterLoseConnectionInTheSameCallIsDelivered(w: World) -> None:
    """
    Bytes written after loseConnection() in the same call are still sent
    (loseConnection only marks the transport): the client gets "abc" in one
    piece after the server's connectionLost, then ConnectionDone.
    """
    _client, server = await connectPair(w)
    server.tcp.write(b"a")
    server.tcp.loseConnection()
    server.tcp.write(b"b")
    server.tcp.writeSequence([b"c"])
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def writeAfterConnectionLostIsIgnored(w: World) -> None:
    """
    write() and writeSequence() after connectionLost return None, raise
    nothing and send nothing.
    """
    client, server = await connectPair(w)
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    attempt(w, "client write", lambda: client.tcp.write(b"too late"))
    attempt(w, "client writeSequence", lambda: client.tcp.writeSequence([b"far"]))
    attempt(w, "server write", lambda: server.tcp.write(b"too late"))


@scenario
async def exceptionInDataReceivedClosesOnlyThatConnection(w: World) -> None:
    """
    An exception in the server's dataReceived is logged and loses that
    connection with the exception; the client sees an orderly close
    (ConnectionDone), and the port serves the next client normally.
    """

    def data(p: Peer, data: bytes) -> None:
        if data.startswith(b"boom"):
            raise Explosion("in dataReceived")

    port = w.listen(data=data)
    w.connect(port, made=lambda p: p.tcp.write(b"boom"))
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    w.connect(port, made=lambda p: p.tcp.write(b"hello"))
    await w.received("s2", 5)
    w.peer("c2").tcp.loseConnection()
    await w.when("s2", "lost")


@scenario
async def exceptionInClientDataReceived(w: World) -> None:
    """
    An exception in the client's dataReceived: logged, the client is lost
    with the exception, its factory gets clientConnectionLost(Explosion) and
    doStop, and the server sees ConnectionDone.
    """

    def data(p: Peer, data: bytes) -> None:
        raise Explosion("in dataReceived")

    await connectPair(
        w, server={"made": lambda p: p.tcp.write(b"greeting")}, client={"data": data}
    )
    await w.when("cf", "doStop")
    await w.when("s1", "lost")


@scenario
async def pausedTransportHearsNothingUntilResumed(w: World) -> None:
    """
    A client that paused its transport hears neither the data nor the close
    of a server that wrote and closed; after resumeProducing() it gets the
    data, then ConnectionDone.
    """
    client, server = await connectPair(w)
    tcp(client).pauseProducing()
    server.tcp.write(b"while you were out")
    server.tcp.loseConnection()
    await resumeOnceServerLost(w, client)


@scenario
async def tcpOptionsAfterConnectionLost(w: World) -> None:
    """
    After connectionLost the TCP option setters and getters (setTcpNoDelay,
    getTcpNoDelay, setTcpKeepAlive, getTcpKeepAlive) raise AttributeError on
    both ends: tcp.Connection.connectionLost deletes the socket attribute.
    """
    client, server = await connectPair(w)
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    for peer in (client, server):
        transport = peer.tcp
        attempt(w, f"{peer.name} setTcpNoDelay", partial(transport.setTcpNoDelay, True))
        attempt(w, f"{peer.name} getTcpNoDelay", transport.getTcpNoDelay)
        attempt(
            w, f"{peer.name} setTcpKeepAlive", partial(transport.setTcpKeepAlive, True)
        )
        attempt(w, f"{peer.name} getTcpKeepAlive", transport.getTcpKeepAlive)


@scenario
async def addressesAfterConnectionLost(w: World) -> None:
    """
    After connectionLost, getHost() raises AttributeError (it asks the
    deleted socket) on both ends while getPeer() still answers (from the
    address kept on the transport).
    """
    client, server = await connectPair(w)
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    for peer in (client, server):
        attempt(w, f"{peer.name} getHost", _named(w, peer.tcp.getHost))
        attempt(w, f"{peer.name} getPeer", _named(w, peer.tcp.getPeer))


def _named(w: World, get: Callable[[], IAddress]) -> Callable[[], str]:
    """
    A call of C{get} returning the address's name in C{w}.
    """
    return lambda: w.addressName(get())


@scenario
async def pausedReaderWhosePeerClosedWrites(w: World) -> None:
    """
    A client that paused reading, whose server closed: its first write is
    sent and answered with an RST it does not notice (it neither reads nor
    writes any more); only its second write fails (EPIPE), and it loses the
    connection with ConnectionLost while still paused -- issue 10's "real
    ConnectionLost while still paused" holds from the second write on.
    """
    client, server = await connectPair(w)
    tcp(client).pauseProducing()
    server.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.settle()
    client.tcp.write(b"first")
    await w.settle()
    w.note("after first write")
    client.tcp.write(b"second")
    await w.settle()
    w.note("after second write")
    tcp(client).resumeProducing()
    await w.when("c1", "lost")


@scenario
async def closeWithUnreadIncomingWhileKernelStillSending(w: World) -> None:
    """
    The server, with the client's request unread, writes 8 MiB and closes
    while the client does not read.  It cannot close while its user-space
    buffer is still full, so it stays open until the client reads; once the
    buffer has drained into the kernel it closes, and close() with unread
    input sends an RST that destroys what its kernel send queue still held:
    the client gets a strict prefix and ConnectionLost (issue 10's "peer
    gets a prefix", after the wait it does not mention).  Deterministic:
    the reader takes 64 KiB per read, the writer pushes 128 KiB per doWrite,
    so the send queue is never empty when the server closes.
    """
    reply = stream(128, 64 * 1024)
    client, server = await connectCountingClient(
        w,
        server={"made": lambda p: tcp(p).pauseProducing()},
        made=lambda p: p.tcp.write(b"request"),
    )
    tcp(client).pauseProducing()
    await w.settle()
    server.tcp.write(reply)
    server.tcp.loseConnection()
    await w.settle()
    w.note("server lost while the client does not read", server.isLost)
    tcp(client).resumeProducing()
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    w.note("client got everything", client.count == len(reply))
    w.note("client got a prefix", isPrefix(client.buffer, reply))


@scenario
async def pausedPeerOfACloseWithUnreadInput(w: World) -> None:
    """
    The server writes a short reply and closes with the client's request
    unread, while the client is paused: the data and the FIN are queued at
    the client before the RST, and when it resumes it reads the whole reply
    and sees ConnectionDone (not ConnectionLost).
    """
    client, server = await connectPair(
        w,
        server={"made": lambda p: tcp(p).pauseProducing()},
        client={"made": lambda p: p.tcp.write(b"request")},
    )
    tcp(client).pauseProducing()
    await w.settle()
    server.tcp.write(b"reply")
    server.tcp.loseConnection()
    await resumeOnceServerLost(w, client)


@scenario
async def closeWhileKernelStillSendingWithoutUnreadInput(w: World) -> None:
    """
    The control for closeWithUnreadIncomingWhileKernelStillSending: with no
    unread input, a server that wrote 8 MiB and closed stays open while the
    client does not read, and once it reads, the client gets all 8 MiB and
    ConnectionDone.
    """
    reply = stream(128, 64 * 1024)
    client, server = await connectCountingClient(w)
    tcp(client).pauseProducing()
    server.tcp.write(reply)
    server.tcp.loseConnection()
    await w.settle()
    w.note("server lost while the client does not read", server.isLost)
    tcp(client).resumeProducing()
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    w.note("client got everything", bytes(client.buffer) == reply)
