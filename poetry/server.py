"""
The poetry servers.

The poetry protocol (wire-compatible with the classic Twisted tutorial): the
server speaks first, sends the poem's bytes and closes the connection; the
client sends nothing.  A clean close is the only end-of-poem signal.
"""

from __future__ import annotations

import math
import operator

from twisted.internet.interfaces import IAddress, IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from poetry._address import describe_address

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_DELAY",
    "PoetryServerFactory",
    "PoetryServerProtocol",
    "SlowPoetryServerFactory",
    "SlowPoetryServerProtocol",
]

_log = Logger()

DEFAULT_CHUNK_SIZE = 10
"""
The slow server's default: bytes sent at each tick.
"""

DEFAULT_DELAY = 0.7
"""
The slow server's default: seconds between two chunks.
"""


def _require_bytes(poem: object) -> bytes:
    if not isinstance(poem, bytes):
        raise TypeError(f"a poem must be bytes, not {type(poem).__name__}")
    return poem


class PoetryServerProtocol(Protocol):
    """
    Write the whole poem as soon as the connection is made, then close.
    """

    factory: PoetryServerFactory

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(self.factory.poem)
        self.transport.loseConnection()


class PoetryServerFactory(ServerFactory[PoetryServerProtocol]):
    """
    The fast poetry server: every client gets the whole poem at once.

    @ivar poem: the poem served, as bytes.
    """

    protocol = PoetryServerProtocol

    def __init__(self, poem: bytes) -> None:
        self.poem = _require_bytes(poem)


class SlowPoetryServerProtocol(Protocol):
    """
    Write the poem C{chunk_size} bytes at a time, one chunk every C{delay}
    seconds of the factory's clock.

    Pacing, exactly: the first chunk is written when the connection is made
    (time 0), and each following chunk C{delay} seconds after the one before
    it (one C{callLater(delay)} per chunk), so chunk C{k} at time
    C{k * delay}; the connection is closed straight after the last chunk is
    written.  An empty poem is closed at once.  If the connection is lost
    early, the pending call is cancelled.

    Each chunk is scheduled from the previous one, like any chain of
    C{callLater}: a L{twisted.internet.task.Clock} advanced by C{2 * delay}
    in one step writes one chunk, not two (Twisted #9819); advance it by
    C{delay} at a time.
    """

    factory: SlowPoetryServerFactory
    _pending: IDelayedCall | None = None
    _offset = 0
    _lost = False

    _peer: IAddress | None = None

    def connectionMade(self) -> None:
        assert self.transport is not None
        # Read the peer now: on real TCP address methods may fail once the
        # connection is gone.
        self._peer = self.transport.getPeer()
        self._send_next_chunk()

    def _send_next_chunk(self) -> None:
        self._pending = None
        assert self.transport is not None
        poem = self.factory.poem
        chunk = poem[self._offset : self._offset + self.factory.chunk_size]
        self._offset += len(chunk)
        if chunk:
            self.transport.write(chunk)
        if self._lost:
            # The transport reported the loss from inside write().
            return
        if self._offset >= len(poem):
            self.transport.loseConnection()
        else:
            self._pending = self.factory.clock.callLater(
                self.factory.delay, self._send_next_chunk
            )

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._lost = True
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
            _log.info(
                "Client {peer} left after {sent} of {total} bytes",
                peer=describe_address(self._peer),
                sent=self._offset,
                total=len(self.factory.poem),
            )


class SlowPoetryServerFactory(ServerFactory[SlowPoetryServerProtocol]):
    """
    The slow poetry server: each connection is paced independently, writing
    C{chunk_size} bytes every C{delay} seconds of C{clock}.

    @raise ValueError: if C{chunk_size < 1}, or C{delay} is negative or not a
        number.
    @raise TypeError: if C{poem} is not L{bytes} or C{chunk_size} is not an
        integer.
    """

    protocol = SlowPoetryServerProtocol

    def __init__(
        self,
        poem: bytes,
        clock: IReactorTime,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        delay: float = DEFAULT_DELAY,
    ) -> None:
        chunk_size = operator.index(chunk_size)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size!r}")
        if math.isnan(delay) or delay < 0:
            raise ValueError(f"delay must not be negative, not {delay!r}")
        self.poem = _require_bytes(poem)
        self.clock = clock
        self.chunk_size = chunk_size
        self.delay = delay
