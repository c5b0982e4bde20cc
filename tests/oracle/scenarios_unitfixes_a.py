"""
Scenarios: what the unit tests of the transport, connections, faults and the
stateful model pin -- chunking of writes, aborts mid-stream, half-closes,
producers, failing client protocols, listening ports that stop, and reading
again after end-of-file.
"""

from __future__ import annotations

from typing import Protocol, cast

from twisted.internet.error import CannotListenError
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure

from tests.oracle._registry import scenario
from tests.oracle._support_data import connectPair
from tests.oracle._world import Explosion, Peer, PullProducer, PushProducer, World


def _noteChunks(w: World, name: str) -> object:
    """
    A C{data} hook noting the size of each C{dataReceived} (so that
    consecutive chunks are not merged in the log).
    """

    def data(p: Peer, data: bytes) -> None:
        w.note(f"{name} chunk", len(data))

    return data


class _Producing(Protocol):
    """
    What a TCP transport also is: a consumer and a push producer.
    """

    def pauseProducing(self) -> None: ...

    def resumeProducing(self) -> None: ...

    def registerProducer(self, producer: object, streaming: bool) -> None: ...

    def unregisterProducer(self) -> None: ...


def _producing(p: Peer) -> _Producing:
    """
    C{p}'s transport as a consumer and producer.
    """
    return cast(_Producing, p.transport)


class _CountingPeer(Peer):
    """
    A L{Peer} that logs how many bytes it received (when it is lost)
    instead of the bytes, for scenarios that move tens of kilobytes.
    """

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.world.record(self.name, "received", len(self.received))
        super().connectionLost(reason)


def _counting(w: World, **hooks: object) -> object:
    """
    A C{build} hook making the client protocol a L{_CountingPeer}.
    """

    def build(factory: object, address: object) -> Peer:
        return _CountingPeer(w, "c1", **hooks)  # type: ignore[arg-type]

    return build


@scenario
async def writesInOneCallbackArriveTogether(w: World) -> None:
    """
    Three writes made in one callback are sent together and arrive in one
    dataReceived; a write made in a later callback arrives on its own.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"one")
        p.tcp.write(b"two two")
        p.tcp.write(b"three three three")

    port = w.listen(data=_noteChunks(w, "s1"))
    w.connect(port, made=made)
    await w.received("s1", 27)
    w.peer("c1").tcp.write(b"four")
    await w.received("s1", 31)
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def abortAfterPartOfTheStream(w: World) -> None:
    """
    The server writes, the client reads it; then the server writes more and
    aborts in the same callback: the client keeps what it read, gets none of
    the rest, and sees ConnectionLost; the server ConnectionAborted.
    """
    port = w.listen(made=lambda p: p.tcp.write(b"01"))
    w.connect(port)
    await w.received("c1", 2)
    server = w.peer("s1")
    server.tcp.write(b"23456789")
    server.tcp.abortConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def loseConnectionWhilePeerWrites(w: World) -> None:
    """
    The client calls loseConnection while the server writes in the same
    turn: the client reads nothing more and sees ConnectionDone; the server
    reads the client's end-of-file before the reset its bytes provoke, and
    sees ConnectionDone.
    """
    client, server = await connectPair(w)
    client.tcp.loseConnection()
    server.tcp.write(b"you will not read this")
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def halfCloseThenWriteMore(w: World) -> None:
    """
    A half-closeable client writes, calls loseWriteConnection and writes
    again in one callback: the server reads both writes, then
    readConnectionLost; the client gets writeConnectionLost, its later
    writes are dropped, and it still reads the server's reply and
    end-of-file; its loseConnection then closes at once.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"request")
        p.tcp.loseWriteConnection()
        p.tcp.write(b" and more")

    port = w.listen(halfClose=True)
    w.connect(port, made=made, halfClose=True)
    await w.when("s1", "readLost")
    await w.when("c1", "writeLost")
    client, server = w.peer("c1"), w.peer("s1")
    client.tcp.write(b"dropped")
    server.tcp.write(b"reply")
    await w.received("c1", 5)
    server.tcp.loseConnection()
    await w.when("c1", "readLost")
    await w.when("s1", "lost")
    client.tcp.loseConnection()
    w.note("client lost inside loseConnection", client.isLost)
    await w.settle()


@scenario
async def pausedReaderHearsNothingUntilResumed(w: World) -> None:
    """
    The client pauses reading; the server writes and closes: the server's
    close completes (ConnectionDone) while the client hears nothing; once
    the client resumes it reads the bytes, then ConnectionDone.
    """

    def serverMade(p: Peer) -> None:
        p.tcp.write(b"while you were out")
        p.tcp.loseConnection()

    port = w.listen(made=serverMade)
    w.connect(port, made=lambda p: _producing(p).pauseProducing())
    await w.when("s1", "lost")
    await w.settle()
    w.note("client heard", [e[1] for e in w.events if e[0] == "c1"])
    _producing(w.peer("c1")).resumeProducing()
    await w.when("c1", "lost")


@scenario
async def streamingProducerPausedAboveBufferSize(w: World) -> None:
    """
    A streaming producer is paused inside the write that leaves more than
    bufferSize (64 KiB) in the transport's buffer, and resumed once the
    buffer has been handed to the kernel -- although the client does not
    read (the kernel's queues take it).
    """
    _client, server = await connectPair(
        w, client={"build": _counting(w, made=lambda p: _producing(p).pauseProducing())}
    )
    producer = PushProducer(w)
    _producing(server).registerProducer(producer, True)
    server.tcp.write(b"x" * 65536)
    w.note("after 64 KiB")
    server.tcp.write(b"y")
    w.note("after one more byte")
    await w.when("prod", "resume")
    w.note("client heard", [e[1] for e in w.events if e[0] == "c1"])
    _producing(server).unregisterProducer()
    server.tcp.loseConnection()
    await w.when("s1", "lost")
    _producing(w.peer("c1")).resumeProducing()
    await w.when("c1", "lost")


@scenario
async def pausedStreamingProducerHoldsTheClose(w: World) -> None:
    """
    loseConnection with a paused streaming producer: once the buffer is
    sent the producer is resumed, and the close waits until the producer
    unregisters.
    """
    port = w.listen()
    w.connect(port, build=_counting(w))
    await w.when("s1", "made")
    server = w.peer("s1")
    producer = PushProducer(w)
    _producing(server).registerProducer(producer, True)
    server.tcp.write(b"z" * 65537)
    server.tcp.loseConnection()
    await w.when("prod", "resume")
    await w.settle()
    w.note("server lost before unregistering", server.isLost)
    _producing(server).unregisterProducer()
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def pullProducerResumedWhenBufferEmpties(w: World) -> None:
    """
    A pull producer is resumed inside registerProducer and again each time
    the buffer has been sent; loseConnection waits until it unregisters.
    """
    chunks = [b"a", b"b", b"c"]

    def resume(producer: PullProducer) -> None:
        server = w.peer("s1")
        if chunks:
            server.tcp.write(chunks.pop(0))
        else:
            _producing(server).unregisterProducer()
            w.note("unregistered")

    port = w.listen()
    w.connect(port, data=_noteChunks(w, "c1"))
    await w.when("s1", "made")
    server = w.peer("s1")
    _producing(server).registerProducer(PullProducer(w, onResume=resume), False)
    server.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def failingClientBuildProtocolClosesTheAcceptedEnd(w: World) -> None:
    """
    A client factory whose buildProtocol raises: the error is logged, the
    factory gets clientConnectionFailed (ConnectError), and the server's
    connection is closed cleanly.
    """

    def build(factory: object, address: object) -> Peer | None:
        raise Explosion("no protocol today")

    port = w.listen()
    w.connect(port, build=build)
    await w.when("cf", "doStop")
    await w.when("s1", "lost")


@scenario
async def listenAgainRightAfterStopListening(w: World) -> None:
    """
    The port's number cannot be listened on again until stopListening's
    Deferred has fired (the socket is closed in a later iteration); then
    it can.
    """
    port = w.listen()
    number = w.portNumber(port)
    stopped = w.stopListening(port)
    try:
        again = w.reactor.listenTCP(number, w.serverFactory(), interface=w.interface)
    except CannotListenError as e:
        w.note("at once", type(e).__name__)
    else:
        w.note("at once", "listening")
        w.ports.append(again)
    await stopped
    again = w.reactor.listenTCP(number, w.serverFactory(), interface=w.interface)
    w.ports.append(again)
    w.note("after the Deferred", w.portNumber(again) == number)


@scenario
async def stopListeningWithAConnectionNotAccepted(w: World) -> None:
    """
    connectTCP, then stopListening at once: the connection is made by the
    kernel but never accepted; closing the listening socket resets it, and
    the client factory's attempt fails.
    """
    port = w.listen()
    w.connect(port)
    await w.stopListening(port)
    await w.when("cf", "doStop")


@scenario
async def resumeAfterReadConnectionLost(w: World) -> None:
    """
    A half-closeable client reads end-of-file (readConnectionLost); when it
    then calls resumeProducing, reading starts again and it reads
    end-of-file again: a second readConnectionLost.
    """
    port = w.listen(made=lambda p: p.tcp.loseConnection())
    w.connect(port, halfClose=True)
    await w.when("c1", "readLost")
    await w.when("s1", "lost")
    _producing(w.peer("c1")).resumeProducing()
    await w.settle()
    w.peer("c1").tcp.loseConnection()
    await w.when("c1", "lost")


@scenario
async def pausedWriterLostWhenPeerAborts(w: World) -> None:
    """
    The client pauses reading and writes; the server aborts in the same
    turn: the client, registered only for writing, sees the reset through
    its write and loses the connection (ConnectionLost) without reading.
    """
    client, server = await connectPair(w)
    _producing(client).pauseProducing()
    server.tcp.abortConnection()
    await w.when("s1", "lost")
    client.tcp.write(b"anyone?")
    await w.when("c1", "lost")


@scenario
async def pausedIdleSideNotLostWhenPeerAborts(w: World) -> None:
    """
    The client pauses reading and writes nothing; the server aborts: the
    client is registered for nothing and hears nothing until it resumes,
    then loses the connection (ConnectionLost).
    """
    client, server = await connectPair(w)
    _producing(client).pauseProducing()
    server.tcp.abortConnection()
    await w.when("s1", "lost")
    await w.settle()
    w.note("client lost while paused", client.isLost)
    _producing(client).resumeProducing()
    await w.when("c1", "lost")


@scenario
async def loseConnectionAfterAbortOfAHalfClosedTransport(w: World) -> None:
    """
    The server half-closes; once that is done it calls abortConnection and
    then loseConnection in the same turn: with its write side already shut,
    loseConnection closes at once, inside the call, with ConnectionDone
    (the abort's later ConnectionAborted finds the connection gone); the
    client reads the FIN and sees ConnectionDone.
    """
    port = w.listen(made=lambda p: p.tcp.loseWriteConnection())
    w.connect(port)
    await w.when("c1", "made")
    await w.settle()
    server = w.peer("s1")
    server.tcp.abortConnection()
    server.tcp.loseConnection()
    w.note("server lost inside loseConnection", server.isLost)
    await w.when("c1", "lost")
    await w.settle()
