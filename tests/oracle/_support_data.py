"""
Helpers for the data, close, abort, half-close, producer and reset scenarios
(and a few others): a connected pair in one call, a protocol that counts big
transfers instead of logging them, a message each way, resuming a paused
client after the server is gone, a streaming producer that writes chunks,
and a way to record what a call returned or raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from twisted.internet.interfaces import IAddress, IPushProducer
from zope.interface import implementer

from tests.oracle._world import HalfCloseablePeer, Peer, World
from tests.tcp_contract import TCPTransport, chunkFor, stream

__all__ = [
    "ChunkProducer",
    "CountingPeer",
    "HalfCloseableCountingPeer",
    "attempt",
    "connectCountingClient",
    "connectPair",
    "counted",
    "isPrefix",
    "pingPong",
    "resumeOnceServerLost",
    "stream",
    "tcp",
    "waitUntilStalled",
]


class CountingPeer(Peer):
    """
    A L{Peer} that keeps what it receives (in C{bytes}) without logging it:
    for transfers too big for the log.  Scenarios note the count and
    whether it is a prefix of what was sent.
    """

    def __init__(self, world: World, name: str, **hooks: Any) -> None:
        super().__init__(world, name, **hooks)
        self.buffer = bytearray()

    @property
    def count(self) -> int:
        """
        How many bytes arrived so far.
        """
        return len(self.buffer)

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        if self._data is not None:
            self._data(self, data)
        self.world._changed()


def tcp(peer: Peer) -> TCPTransport:
    """
    C{peer}'s transport, typed with everything a TCP transport of the real
    reactor provides (L{ITCPTransport}, L{IConsumer}, L{IPushProducer}).
    """
    assert peer.transport is not None
    return cast(TCPTransport, peer.transport)


def isPrefix(received: bytes | bytearray, sent: bytes) -> bool:
    """
    Whether C{received} is a prefix of C{sent}.
    """
    return bytes(received) == sent[: len(received)]


class HalfCloseableCountingPeer(CountingPeer, HalfCloseablePeer):
    """
    A L{CountingPeer} that provides L{IHalfCloseableProtocol}.
    """


def _countingBuilder(
    w: World, side: str, hooks: dict[str, Any]
) -> Callable[[Any, IAddress], Peer]:
    def build(factory: Any, address: IAddress) -> Peer:
        name = f"{side}{w._next(side)}"
        protocolHooks = dict(hooks)
        if (
            protocolHooks.pop("halfClose", False)
            or "readLost" in protocolHooks
            or "writeLost" in protocolHooks
        ):
            return HalfCloseableCountingPeer(w, name, **protocolHooks)
        return CountingPeer(w, name, **protocolHooks)

    return build


def counted(w: World, side: str, **hooks: Any) -> dict[str, Any]:
    """
    Factory keywords (for L{World.listen} with C{side="s"}, L{World.connect}
    with C{side="c"}) that build L{CountingPeer}s with C{hooks}.
    """
    return {"build": _countingBuilder(w, side, hooks)}


async def connectPair(
    w: World,
    server: dict[str, Any] | None = None,
    client: dict[str, Any] | None = None,
) -> tuple[Peer, Peer]:
    """
    Listen with C{server} (factory keywords and protocol hooks), connect
    with C{client}, and wait until both sides' C{connectionMade} ran.

    @return: the client and the server protocol (C{c1}, C{s1}).
    """
    port = w.listen(**(server or {}))
    w.connect(port, **(client or {}))
    await w.when("c1", "made")
    await w.when("s1", "made")
    return w.peer("c1"), w.peer("s1")


async def connectCountingClient(
    w: World, server: dict[str, Any] | None = None, **hooks: Any
) -> tuple[CountingPeer, Peer]:
    """
    L{connectPair} with C{server} (factory keywords and protocol hooks) and
    a client that is a L{CountingPeer} (for transfers too big for the log)
    with the protocol C{hooks}.

    @return: the client and the server protocol (C{c1}, C{s1}).
    """
    client, serverProtocol = await connectPair(w, server, counted(w, "c", **hooks))
    assert isinstance(client, CountingPeer)
    return client, serverProtocol


async def pingPong(w: World) -> None:
    """
    Exchange a message each way on the first connection: C{c1} writes
    C{b"ping"} and waits until C{s1} has it, then C{s1} writes C{b"pong"}
    and waits until C{c1} has it.
    """
    w.peer("c1").tcp.write(b"ping")
    await w.received("s1", 4)
    w.peer("s1").tcp.write(b"pong")
    await w.received("c1", 4)


async def resumeOnceServerLost(w: World, client: Peer) -> None:
    """
    For a C{client} whose transport is paused: wait for the server's
    (C{s1}) C{connectionLost}, let the world settle, note C{"client
    resumes"}, resume the client's transport and wait for the client's
    (C{c1}) C{connectionLost}.
    """
    await w.when("s1", "lost")
    await w.settle()
    w.note("client resumes")
    tcp(client).resumeProducing()
    await w.when("c1", "lost")


def attempt(w: World, label: str, call: Callable[[], object]) -> None:
    """
    Call C{call()} and note C{(label, "returned", value)} (the value if it is
    a bool, int, str or None, else its type name) or C{(label, "raised",
    exception type name)}.
    """
    try:
        value = call()
    except Exception as e:
        w.note(label, "raised", type(e).__name__)
        return
    if value is None or isinstance(value, (bool, int, str)):
        w.note(label, "returned", value)
    else:
        w.note(label, "returned", type(value).__name__)


@implementer(IPushProducer)
class ChunkProducer:
    """
    A streaming producer writing C{count} chunks of C{size} bytes (see
    L{tests.tcp_contract.chunkFor}) to C{peer}'s transport while it is not
    paused.  It logs nothing by itself (how often a transport pauses and
    resumes it depends on timing); scenarios note its state.

    @ivar written: bytes written so far.
    @ivar pauses: how many times it was paused; C{resumes} likewise.
    @ivar finish: if set, once everything is written it unregisters and
        calls C{loseConnection()}.
    """

    def __init__(
        self, peer: Peer, count: int, size: int, *, finish: bool = True
    ) -> None:
        self.peer = peer
        self.count = count
        self.size = size
        self.finish = finish
        self.written = 0
        self.paused = False
        self.stopped = False
        self.done = False
        self.pauses = 0
        self.resumes = 0
        self._producing = False

    @property
    def total(self) -> int:
        """
        How many bytes it writes in all.
        """
        return self.count * self.size

    @property
    def data(self) -> bytes:
        """
        Everything it writes, in order.
        """
        return stream(self.count, self.size)

    def start(self) -> None:
        """
        Register with the transport and write until paused.
        """
        tcp(self.peer).registerProducer(self, True)
        self._produce()

    def _produce(self) -> None:
        if self._producing:
            return
        self._producing = True
        try:
            while not (self.paused or self.stopped) and self.written < self.total:
                self.peer.tcp.write(chunkFor(self.written // self.size, self.size))
                self.written += self.size
            if self.written >= self.total and self.finish and not self.done:
                self.done = True
                tcp(self.peer).unregisterProducer()
                self.peer.tcp.loseConnection()
        finally:
            self._producing = False
        self.peer.world._changed()

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1
        self.peer.world._changed()

    def resumeProducing(self) -> None:
        self.paused = False
        self.resumes += 1
        self._produce()

    def stopProducing(self) -> None:
        self.stopped = True
        self.peer.world._changed()


async def waitUntilStalled(w: World, producer: ChunkProducer) -> bool:
    """
    Wait until C{producer} has been paused, without writing anything, for
    two settling periods in a row (at most 100 periods in all).

    @return: whether it stalled.
    """
    last = -1
    still = 0
    for _ in range(100):
        await w.settle()
        if producer.paused and producer.written == last:
            still += 1
            if still == 2:
                return True
        else:
            still = 0
        last = producer.written if producer.paused else -1
    return False
