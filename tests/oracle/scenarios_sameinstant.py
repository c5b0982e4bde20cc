"""
Scenarios: one instant, several ready transports -- what each end sees when
steps of the same reactor iteration change what the other end's socket
shows.  epoll collects every ready descriptor's events before the reactor
dispatches any, in the order its ready list holds them (a descriptor that
stays ready keeps its place; one removed from epoll and added again goes to
the end): the network does the same.  Each comes from a program of the
oracle's fuzzer that the network used to get wrong.
"""

from __future__ import annotations

from tests.oracle._registry import scenario
from tests.oracle._support_conn import tryCall
from tests.oracle._support_data import connectCountingClient, tcp
from tests.oracle._world import Peer, PullProducer, World


@scenario
async def byteWrittenAsThePeerHalfClosesIsDelivered(w: World) -> None:
    """
    The server half-closes in connectionMade while the client writes a byte
    in its own connectionMade (neither half-closeable): the client flushes
    the byte in the iteration before it sees the FIN, so the server reads
    it, then both get ConnectionDone.
    """

    def serverMade(peer: Peer) -> None:
        peer.tcp.loseWriteConnection()

    def clientMade(peer: Peer) -> None:
        peer.tcp.write(b"x")

    port = w.listen(made=serverMade)
    w.connect(port, made=clientMade)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def uploadCutByAnAnswerAndCloseIsALostConnection(w: World) -> None:
    """
    The client writes 300 KB in connectionMade while the server, in its own,
    writes a byte and closes: the server closes with the upload unread (a
    reset), the client reads the byte and gets ConnectionLost.
    """

    def serverMade(peer: Peer) -> None:
        peer.tcp.write(b"!")
        peer.tcp.loseConnection()

    def clientMade(peer: Peer) -> None:
        peer.tcp.write(b"u" * 300_000)

    port = w.listen(made=serverMade)
    w.connect(port, made=clientMade)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def writerRemovedAndAddedAgainGoesBehindTheReader(w: World) -> None:
    """
    A closing server with a pull producer: each doWrite empties the buffer,
    which removes it from epoll (it no longer reads), and the producer's
    next write adds it again, behind the client the sent byte made ready --
    so the client reads each chunk before the next is sent.
    """
    chunks = [b"a", b"b", b"c"]

    def resume(producer: PullProducer) -> None:
        if chunks:
            server.tcp.write(chunks.pop(0))
        else:
            tcp(server).unregisterProducer()

    _client, server = await connectCountingClient(
        w, data=lambda peer, data: w.note("client read", data)
    )
    tcp(server).registerProducer(PullProducer(w, onResume=resume), False)
    server.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def acceptWaitingWhenAReaderStopsTheListener(w: World) -> None:
    """
    A second client connects in the same turn as the server writes a byte to
    the first; when the first client reads it, it stops the listener: the
    port's pending connection was reported by the same epoll scan, ahead of
    the byte, so it is accepted before the port closes.
    """
    stopped: list[object] = []

    def clientData(peer: Peer, data: bytes) -> None:
        if not stopped:
            stopped.append(w.stopListening(port))

    def serverMade(peer: Peer) -> None:
        if peer.name == "s1":
            peer.tcp.write(b"!")
            w.connect(port, factory=w.clientFactory())

    port = w.listen(made=serverMade)
    w.connect(port, data=clientData)
    await w.when("c1", "data")
    await w.when("s2", "made")
    for name in ("c1", "c2"):
        tryCall(w, f"{name} close", w.peer(name).tcp.loseConnection)
    await w.when("c2", "lost")
    await w.when("s2", "lost")
