"""
Tests for L{poetry.server}: the fast and the slow poetry servers, driven over
L{StringTransport} and a L{Clock}.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport, StringTransportWithDisconnection
from twisted.logger import capturedLogs
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.server import (
    PoetryServerFactory,
    PoetryServerProtocol,
    SlowPoetryServerFactory,
    SlowPoetryServerProtocol,
)

POEM = b"Every byte in order,\nthen the door.\n"

# A poem whose characters are 1, 2, 3 and 4 bytes long in UTF-8.
MULTIBYTE = "a\u00e9\u96ea\U0001f30a b\u00f8\u00e6 \u00bf?\n".encode()

CLIENT = IPv4Address("TCP", "127.0.0.1", 40000)


def _connect_fast(
    factory: PoetryServerFactory,
) -> tuple[PoetryServerProtocol, StringTransport]:
    protocol = factory.buildProtocol(CLIENT)
    assert protocol is not None
    transport = StringTransport(peerAddress=CLIENT)
    protocol.makeConnection(transport)
    return protocol, transport


def _connect_slow(
    factory: SlowPoetryServerFactory,
) -> tuple[SlowPoetryServerProtocol, StringTransportWithDisconnection]:
    """
    Connect a slow server protocol to a transport that reports its close to
    the protocol, like a real one (though synchronously).
    """
    protocol = factory.buildProtocol(CLIENT)
    assert protocol is not None
    transport = StringTransportWithDisconnection(peerAddress=CLIENT)
    transport.protocol = protocol
    protocol.makeConnection(transport)
    return protocol, transport


def _samples(
    clock: Clock, transport: StringTransport, delay: float, limit: int = 100
) -> list[bytes]:
    """
    Advance C{clock} by C{delay} at a time until C{transport} is closed,
    returning what had been written at the start and after each step.  Gives
    up after C{limit} steps, so a server that never closes fails the test
    instead of hanging it.
    """
    seen = [transport.value()]
    for _ in range(limit):
        if not transport.connected:
            return seen
        clock.advance(delay)
        seen.append(transport.value())
    raise AssertionError(f"still connected after {limit} steps of {delay}s")


class _Recorder(StringTransportWithDisconnection):
    """
    A transport that records, for every C{write}, whether the connection was
    already being closed; so a test can tell "write then close" from "close
    then write".
    """

    def __init__(self) -> None:
        super().__init__()
        self.events: list[object] = []

    def write(self, data: bytes) -> None:
        self.events.append(data)
        super().write(data)

    def loseConnection(self) -> None:
        self.events.append("close")
        super().loseConnection()


class _LosingOnWrite(StringTransport):
    """
    A transport that reports the connection lost from inside C{write}, which
    some transports may do.
    """

    protocol: SlowPoetryServerProtocol

    def write(self, data: bytes) -> None:
        super().write(data)
        self.protocol.connectionLost(Failure(ConnectionLost()))


class PoetryServerTests(SynchronousTestCase):
    """
    Tests for L{PoetryServerFactory}, the fast server.
    """

    def test_writesWholePoemThenCloses(self) -> None:
        """
        On connect the fast server writes every byte of the poem, in order,
        and closes the connection.
        """
        _, transport = _connect_fast(PoetryServerFactory(POEM))
        self.assertEqual(transport.value(), POEM)
        self.assertTrue(transport.disconnecting)

    def test_writeThenClose(self) -> None:
        """
        The close comes after the poem is written, not before.
        """
        factory = PoetryServerFactory(POEM)
        protocol = factory.buildProtocol(CLIENT)
        assert protocol is not None
        transport = _Recorder()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        self.assertEqual(transport.events, [POEM, "close"])

    def test_multibytePoemUnchanged(self) -> None:
        """
        A poem with multi-byte UTF-8 characters goes out byte for byte.
        """
        _, transport = _connect_fast(PoetryServerFactory(MULTIBYTE))
        self.assertEqual(transport.value(), MULTIBYTE)

    def test_emptyPoem(self) -> None:
        """
        An empty poem is served as an immediate clean close.
        """
        _, transport = _connect_fast(PoetryServerFactory(b""))
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnecting)

    def test_everyClientGetsThePoem(self) -> None:
        """
        Each connection gets the whole poem, independently.
        """
        factory = PoetryServerFactory(POEM)
        transports = [_connect_fast(factory)[1] for _ in range(3)]
        self.assertEqual([t.value() for t in transports], [POEM] * 3)

    def test_strRejected(self) -> None:
        """
        A poem must be bytes: L{str} is rejected with L{TypeError}.
        """
        self.assertRaises(TypeError, PoetryServerFactory, POEM.decode())

    def test_poemAttribute(self) -> None:
        """
        The factory exposes the poem it serves.
        """
        self.assertEqual(PoetryServerFactory(POEM).poem, POEM)


class SlowPoetryServerTests(SynchronousTestCase):
    """
    Tests for L{SlowPoetryServerFactory}: pacing by an injected clock.
    """

    def test_pacing(self) -> None:
        """
        The first chunk is written on connect, one more C{chunk_size} bytes
        after each C{clock.advance(delay)}, nothing in between, and the
        connection is closed as soon as the last chunk is written.
        """
        clock = Clock()
        poem = b"0123456789abcdefghij"  # four chunks of five
        _, transport = _connect_slow(
            SlowPoetryServerFactory(poem, clock, chunk_size=5, delay=2.0)
        )
        self.assertEqual(transport.value(), b"01234")
        for written in (b"0123456789", b"0123456789abcde", poem):
            clock.advance(1.99)
            self.assertEqual(len(transport.value()), len(written) - 5)
            self.assertTrue(transport.connected)
            clock.advance(0.01)
            self.assertEqual(transport.value(), written)
        self.assertFalse(transport.connected)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_defaults(self) -> None:
        """
        By default the slow server writes 10 bytes every 0.7 seconds.
        """
        clock = Clock()
        factory = SlowPoetryServerFactory(b"x" * 25, clock)
        self.assertEqual((factory.chunk_size, factory.delay), (10, 0.7))
        _, transport = _connect_slow(factory)
        sizes = [len(transport.value())]
        for _ in range(2):
            clock.advance(0.7)
            sizes.append(len(transport.value()))
        self.assertEqual(sizes, [10, 20, 25])
        self.assertFalse(transport.connected)

    def test_chunkTiming(self) -> None:
        """
        Chunk C{k} is written at time C{k * delay} when the clock is advanced
        one C{delay} at a time: the transport's content is sampled at each
        step.
        """
        clock = Clock()
        poem = bytes(range(23))
        _, transport = _connect_slow(
            SlowPoetryServerFactory(poem, clock, chunk_size=4, delay=0.7)
        )
        seen = _samples(clock, transport, 0.7)
        self.assertEqual(seen, [poem[: 4 * (k + 1)] for k in range(6)])
        self.assertAlmostEqual(clock.seconds(), 5 * 0.7)

    def test_closeRightAfterLastChunk(self) -> None:
        """
        The close comes straight after the last chunk, in the same call, with
        no further delay.
        """
        clock = Clock()
        factory = SlowPoetryServerFactory(b"abcdef", clock, chunk_size=3, delay=1.0)
        protocol = factory.buildProtocol(CLIENT)
        assert protocol is not None
        transport = _Recorder()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        self.assertEqual(transport.events, [b"abc"])
        clock.advance(1.0)
        self.assertEqual(transport.events, [b"abc", b"def", "close"])
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_lengthNotDivisibleByChunkSize(self) -> None:
        """
        When the poem's length is not a multiple of C{chunk_size}, the last
        chunk is the shorter remainder and the connection then closes.
        """
        clock = Clock()
        _, transport = _connect_slow(
            SlowPoetryServerFactory(b"abcdefg", clock, chunk_size=3, delay=1.0)
        )
        clock.advance(1.0)
        self.assertEqual(transport.value(), b"abcdef")
        self.assertTrue(transport.connected)
        clock.advance(1.0)
        self.assertEqual(transport.value(), b"abcdefg")
        self.assertFalse(transport.connected)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_poemShorterThanOneChunk(self) -> None:
        """
        A poem shorter than one chunk is written and closed at once.
        """
        clock = Clock()
        _, transport = _connect_slow(
            SlowPoetryServerFactory(b"hi", clock, chunk_size=10, delay=1.0)
        )
        self.assertEqual(transport.value(), b"hi")
        self.assertFalse(transport.connected)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_emptyPoem(self) -> None:
        """
        An empty poem is closed at once, writing nothing and scheduling
        nothing.
        """
        clock = Clock()
        _, transport = _connect_slow(SlowPoetryServerFactory(b"", clock))
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.connected)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_clientsPacedIndependently(self) -> None:
        """
        Each connection has its own pace, counted from its own connect: a
        client that arrives half-way between two ticks of another gets its
        chunks half a period out of step with it.
        """
        clock = Clock()
        poem = b"aaabbbccc"
        factory = SlowPoetryServerFactory(poem, clock, chunk_size=3, delay=1.0)
        _, first = _connect_slow(factory)
        clock.advance(0.5)
        _, second = _connect_slow(factory)
        self.assertEqual((first.value(), second.value()), (b"aaa", b"aaa"))
        clock.advance(0.5)
        self.assertEqual((first.value(), second.value()), (b"aaabbb", b"aaa"))
        clock.advance(0.5)
        self.assertEqual((first.value(), second.value()), (b"aaabbb", b"aaabbb"))
        clock.advance(0.5)
        self.assertEqual((first.value(), second.value()), (poem, b"aaabbb"))
        self.assertFalse(first.connected)
        self.assertTrue(second.connected)
        clock.advance(0.5)
        self.assertEqual(second.value(), poem)
        self.assertFalse(second.connected)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_earlyDisconnectCancelsTimer(self) -> None:
        """
        When a client goes away mid-poem, its pending call is cancelled
        (no leaked L{DelayedCall}), nothing more is written, and the departure
        is logged at C{info} with the peer and the byte counts.
        """
        clock = Clock()
        protocol, transport = _connect_slow(
            SlowPoetryServerFactory(b"x" * 30, clock, chunk_size=10, delay=1.0)
        )
        clock.advance(1.0)
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        with capturedLogs() as events:
            protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(clock.getDelayedCalls(), [])
        clock.advance(10.0)
        self.assertEqual(transport.value(), b"x" * 20)
        [event] = events
        self.assertEqual(event["log_level"].name, "info")
        self.assertEqual(
            (event["peer"], event["sent"], event["total"]), ("127.0.0.1:40000", 20, 30)
        )

    def test_cleanCloseLogsNothing(self) -> None:
        """
        A poem served to the end logs no departure.
        """
        clock = Clock()
        with capturedLogs() as events:
            _connect_slow(SlowPoetryServerFactory(b"abc", clock, chunk_size=2))
            clock.advance(0.7)
        self.assertEqual(list(events), [])

    def test_lossReportedInsideWrite(self) -> None:
        """
        A transport that reports the loss from inside C{write} leaves no call
        scheduled.
        """
        clock = Clock()
        factory = SlowPoetryServerFactory(b"x" * 30, clock, chunk_size=10)
        protocol = factory.buildProtocol(CLIENT)
        assert protocol is not None
        transport = _LosingOnWrite()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        self.assertEqual(transport.value(), b"x" * 10)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_chunkSizeCountsBytes(self) -> None:
        """
        C{chunk_size} counts bytes, not characters: a multi-byte poem is split
        at byte offsets, even inside a character.
        """
        clock = Clock()
        _, transport = _connect_slow(
            SlowPoetryServerFactory(MULTIBYTE, clock, chunk_size=2, delay=1.0)
        )
        sizes = [len(data) for data in _samples(clock, transport, 1.0)]
        expected = [min(2 * (k + 1), len(MULTIBYTE)) for k in range(len(sizes))]
        self.assertEqual(sizes, expected)
        self.assertEqual(len(sizes), -(-len(MULTIBYTE) // 2))
        self.assertEqual(transport.value(), MULTIBYTE)
        self.assertLess(len(MULTIBYTE.decode()), len(MULTIBYTE))

    def test_zeroDelay(self) -> None:
        """
        C{delay == 0} is allowed: the rest of the poem follows on the next
        turn of the clock, still one chunk per call.
        """
        clock = Clock()
        _, transport = _connect_slow(
            SlowPoetryServerFactory(b"abcdefgh", clock, chunk_size=3, delay=0)
        )
        self.assertEqual(transport.value(), b"abc")
        self.assertEqual([c.getTime() for c in clock.getDelayedCalls()], [0.0])
        clock.advance(0)
        self.assertEqual(transport.value(), b"abcdefgh")
        self.assertFalse(transport.connected)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_invalidChunkSize(self) -> None:
        """
        A C{chunk_size} below 1 is rejected with L{ValueError}; a chunk size
        that is not an integer with L{TypeError}.
        """
        clock = Clock()
        for bad in (0, -1):
            self.assertRaises(
                ValueError, SlowPoetryServerFactory, POEM, clock, chunk_size=bad
            )
        self.assertRaises(
            TypeError,
            SlowPoetryServerFactory,
            POEM,
            clock,
            chunk_size=2.5,
        )
        factory = SlowPoetryServerFactory(POEM, clock, chunk_size=1)
        self.assertEqual(factory.chunk_size, 1)

    def test_invalidDelay(self) -> None:
        """
        A negative or NaN C{delay} is rejected with L{ValueError}.
        """
        clock = Clock()
        for bad in (-0.001, -1.0, float("nan")):
            self.assertRaises(
                ValueError, SlowPoetryServerFactory, POEM, clock, delay=bad
            )

    def test_strRejected(self) -> None:
        """
        The slow server too rejects a L{str} poem with L{TypeError}.
        """
        self.assertRaises(TypeError, SlowPoetryServerFactory, POEM.decode(), Clock())

    def test_nextClientServedAfterEarlyLeaver(self) -> None:
        """
        A client leaving early does not disturb the next client, which gets
        the whole poem.
        """
        clock = Clock()
        factory = SlowPoetryServerFactory(POEM, clock, chunk_size=8, delay=1.0)
        early, _ = _connect_slow(factory)
        early.connectionLost(Failure(ConnectionDone()))
        _, transport = _connect_slow(factory)
        self.assertEqual(_samples(clock, transport, 1.0)[-1], POEM)
        self.assertEqual(clock.getDelayedCalls(), [])
