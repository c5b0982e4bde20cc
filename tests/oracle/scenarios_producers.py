"""
Scenarios: producers -- streaming and pull producers registered with a TCP
transport, paused, resumed and stopped by it.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.interfaces import IPushProducer

from tests.oracle._registry import scenario
from tests.oracle._support_data import (
    ChunkProducer,
    attempt,
    connectCountingClient,
    connectPair,
    tcp,
    waitUntilStalled,
)
from tests.oracle._world import PullProducer, PushProducer, World


@scenario
async def streamingProducerPausedWhilePeerDoesNotRead(w: World) -> None:
    """
    A streaming producer writing 8 MiB to a client that does not read
    stalls paused after more than 1 MiB with nothing received (the kernel
    buffers took about 2.9 MiB, 20 of 20 runs on this Linux loopback; the
    exact figure depends on the kernel's buffer tuning, so only "more than
    1 MiB" is recorded); once the client reads, the producer is resumed,
    finishes, and everything arrives.
    """
    client, server = await connectCountingClient(w)
    tcp(client).pauseProducing()
    producer = ChunkProducer(server, count=128, size=64 * 1024)
    producer.start()
    w.note("stalled", await waitUntilStalled(w, producer))
    w.note("written more than 1 MiB", producer.written > 1024 * 1024)
    w.note("client received", client.count)
    w.note("everything written", producer.written == producer.total)
    resumes = producer.resumes
    tcp(client).resumeProducing()
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    w.note("resumed after the client read", producer.resumes > resumes)
    w.note("client got everything", bytes(client.buffer) == producer.data)


@scenario
async def streamingProducerPausedWhenTheBufferExceeds64KiB(w: World) -> None:
    """
    A registered streaming producer is paused inside the write() that makes
    the transport's buffer exceed 64 KiB (65,536 bytes do not, one more byte
    does), and resumed once the buffer has drained.
    """
    client, server = await connectCountingClient(w)
    producer = PushProducer(w)
    tcp(server).registerProducer(producer, True)
    server.tcp.write(b"x" * 65536)
    w.note("wrote 65536 bytes")
    server.tcp.write(b"x")
    w.note("wrote 1 more byte")
    await w.when("prod", "resume")
    await w.waitFor(lambda: client.count == 65537)
    tcp(server).unregisterProducer()
    server.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def pullProducerResumedUntilUnregistered(w: World) -> None:
    """
    A pull producer is resumed once inside registerProducer, then once per
    drained write; loseConnection() waits until it unregisters (after eight
    chunks), then the connection closes and every chunk arrived; it never
    gets stopProducing.
    """
    client, server = await connectCountingClient(w)

    def resume(producer: PullProducer) -> None:
        if producer.resumes <= 8:
            server.tcp.write(b"chunk %d;" % (producer.resumes,))
        else:
            tcp(server).unregisterProducer()
            w.note("unregistered")

    tcp(server).registerProducer(PullProducer(w, onResume=resume), False)
    w.note("registerProducer returned")
    server.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    w.note("client received", bytes(client.buffer))


@scenario
async def secondProducerRaisesRuntimeError(w: World) -> None:
    """
    Registering a second producer raises RuntimeError; after
    unregisterProducer() it may register.
    """
    client, server = await connectPair(w)
    first, second = PushProducer(w, "first"), PushProducer(w, "second")
    tcp(server).registerProducer(first, True)
    attempt(w, "register second", lambda: tcp(server).registerProducer(second, True))
    tcp(server).unregisterProducer()
    attempt(
        w, "register second again", lambda: tcp(server).registerProducer(second, True)
    )
    tcp(server).unregisterProducer()
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def loseConnectionWithStreamingProducerClosesAfterFlush(w: World) -> None:
    """
    With an unpaused streaming producer registered, loseConnection() does not
    wait for it: the buffer is flushed, the producer gets stopProducing, and
    the connection closes (ConnectionDone on both sides).
    """
    _client, server = await connectPair(w)
    tcp(server).registerProducer(PushProducer(w), True)
    server.tcp.write(b"0123456789")
    server.tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def producerStoppedWhenThePeerCloses(w: World) -> None:
    """
    A producer still registered when the peer closes gets stopProducing
    before the server's connectionLost.
    """
    client, server = await connectPair(w)
    tcp(server).registerProducer(PushProducer(w), True)
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def producerStoppedOnAbort(w: World) -> None:
    """
    A producer registered on a transport that aborts gets stopProducing
    after abortConnection() returned, just before connectionLost.
    """
    _client, server = await connectPair(w)
    tcp(server).registerProducer(PushProducer(w), True)
    server.tcp.abortConnection()
    w.note("abortConnection returned")
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def registerProducerAfterConnectionLost(w: World) -> None:
    """
    Registering a producer (push or pull) on a transport that was lost calls
    its stopProducing at once; registerProducer returns None.
    """
    client, server = await connectPair(w)
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    attempt(
        w, "register push", lambda: tcp(server).registerProducer(PushProducer(w), True)
    )
    attempt(
        w, "register pull", lambda: tcp(server).registerProducer(PullProducer(w), False)
    )


@scenario
async def pausedStreamingProducerKeepsTheConnectionOpen(w: World) -> None:
    """
    A streaming producer paused by a big write, then loseConnection(): when
    the buffer drains the transport resumes the producer instead of closing,
    and a producer that writes nothing more leaves the connection open for
    ever (the client read everything, the server is not lost); it closes
    only once the producer unregisters.
    """
    client, server = await connectCountingClient(w)
    producer = PushProducer(w)
    tcp(server).registerProducer(producer, True)
    server.tcp.write(b"x" * (1024 * 1024))
    server.tcp.loseConnection()
    await w.waitFor(lambda: client.count == 1024 * 1024)
    await w.settle()
    w.note("server lost after everything was read", server.isLost)
    tcp(server).unregisterProducer()
    w.note("unregistered")
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def pullProducerUnregisteringAfterLoseWriteConnection(w: World) -> None:
    """
    A pull producer that unregisters when resumed after
    loseWriteConnection(): the drained buffer resumed the producer instead of
    half-closing, and unregisterProducer only restarts writing after
    loseConnection(), so the connection never half-closes; a later
    loseConnection() closes it.
    """
    client, server = await connectPair(
        w, server={"halfClose": True}, client={"halfClose": True}
    )

    def resume(producer: PullProducer) -> None:
        if producer.resumes == 2:
            tcp(server).unregisterProducer()
            w.note("unregistered")

    tcp(server).registerProducer(PullProducer(w, onResume=resume), False)
    server.tcp.loseWriteConnection()
    await w.when("note", "unregistered")
    await w.settle()
    w.note("client half-closed", w.has("c1", "readLost"))
    server.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "readLost")
    client.tcp.loseConnection()


@scenario
async def transportStopProducingClosesTheConnection(w: World) -> None:
    """
    The transport's own stopProducing() (as a producer) is loseConnection():
    pending bytes are flushed, then ConnectionDone on both sides.
    """
    _client, server = await connectPair(w)
    server.tcp.write(b"last")
    cast(IPushProducer, server.transport).stopProducing()
    w.note("stopProducing returned")
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def writeSequencePausesAStreamingProducerOnce(w: World) -> None:
    """
    writeSequence() of chunks that together pass the buffer size checks the
    streaming producer once for the whole sequence (one pauseProducing),
    where that many write() calls would pause it after each; all the bytes
    arrive and the producer is resumed once the buffer empties.
    """
    client, server = await connectCountingClient(w)
    tcp(server).registerProducer(PushProducer(w), True)
    server.tcp.writeSequence([b"x" * 65537, b"y", b"z"])
    await w.waitFor(lambda: client.count == 65539)
    w.note("client has", client.count, bytes(client.buffer[-2:]))
    await w.when("prod", "resume")
    tcp(server).unregisterProducer()
    client.tcp.loseConnection()
    await w.when("s1", "lost")
