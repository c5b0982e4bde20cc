"""
Scenarios: how loopback TCP cuts a stream into C{dataReceived} calls -- the
facts the default chunking policy (C{WHOLE}) and the guide's chunking
section rest on.

Each C{dataReceived} is noted with its size (a note between two data events
keeps the log from merging them), so the log shows the reads themselves.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.interfaces import IPushProducer

from tests.oracle._registry import scenario
from tests.oracle._world import Peer, World


def reading(p: Peer) -> IPushProducer:
    """
    C{p}'s transport as the producer of what it reads.
    """
    return cast(IPushProducer, p.transport)


def noteChunks(w: World) -> object:
    """
    A C{data} hook noting the size of every C{dataReceived}.
    """

    def data(p: Peer, data: bytes) -> None:
        w.note(p.name, "read", len(data))

    return data


@scenario
async def writesOfOneCallbackArriveInOneRead(w: World) -> None:
    """
    Three writes and loseConnection() in the server's connectionMade: the
    transport sends its buffer in one doWrite, and the client gets the 17
    bytes in ONE dataReceived, then ConnectionDone.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"one\r\n")
        p.tcp.write(b"two\r\n")
        p.tcp.write(b"three\r\n")
        p.tcp.loseConnection()

    port = w.listen(made=made)
    w.connect(port, data=noteChunks(w))
    await w.when("c1", "lost")


@scenario
async def sendsThatArrivedAreReadTogether(w: World) -> None:
    """
    Two writes made in different reactor iterations, while the client is
    paused: both have arrived when it resumes, and one read takes both --
    one dataReceived of 6 bytes.
    """
    port = w.listen(made=lambda p: p.tcp.write(b"abc"))
    w.connect(port, made=lambda p: reading(p).pauseProducing(), data=noteChunks(w))
    await w.when("c1", "made")
    await w.when("s1", "made")
    await w.settle()
    w.peer("s1").tcp.write(b"def")
    await w.settle()
    reading(w.peer("c1")).resumeProducing()
    await w.received("c1", 6)
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")
