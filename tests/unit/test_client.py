"""
Tests for L{poetry.client}: L{get_poetry} and L{get_poems} on a
L{MemoryReactorClock}.

L{MemoryReactorClock} only records C{connectTCP} calls; a test plays the
network by hand: it takes the factory from C{reactor.tcpClients}, builds the
protocol, connects it to a L{StringTransport}, feeds it data and ends the
connection -- or fails the attempt with C{clientConnectionFailed}.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.error import (
    ConnectError,
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    NoRouteError,
    TCPTimedOutError,
    UserError,
)
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactor, MemoryReactorClock, StringTransport
from twisted.logger import LogLevel, capturedLogs
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.client import (
    PoemResult,
    PoemTimeout,
    PoemTruncated,
    PoetryClientProtocol,
    get_poems,
    get_poetry,
)

HOST = "poet.example"
PORT = 1079
SERVER = IPv4Address("TCP", "192.0.2.7", PORT)

POEM = b"Closing is the only way\nto say the poem is done.\n"
# "sn\xf8 \U0001f30a": a 2-byte and a 4-byte character.
MULTIBYTE = "sn\u00f8 \U0001f30a".encode()


def _fetch(
    reactor: MemoryReactorClock, *, host: str = HOST, port: int = PORT, **kw: Any
) -> tuple[Deferred[bytes], Any, Any]:
    """
    Call L{get_poetry} and return its L{Deferred} with the factory and the
    connector it handed to C{connectTCP}.
    """
    d = get_poetry(reactor, host, port, **kw)
    factory = reactor.tcpClients[-1][2]
    connector = reactor.connectors[-1]
    return d, factory, connector


def _accept(factory: Any) -> tuple[PoetryClientProtocol, StringTransport]:
    """
    Complete the connection attempt of C{factory} on a L{StringTransport}.
    """
    protocol = factory.buildProtocol(SERVER)
    assert isinstance(protocol, PoetryClientProtocol)
    transport = StringTransport(peerAddress=SERVER)
    protocol.makeConnection(transport)
    return protocol, transport


def _serve(factory: Any, chunks: list[bytes], clean: bool = True) -> StringTransport:
    """
    Play a server: deliver C{chunks} one C{dataReceived} each, then end the
    connection cleanly or not.
    """
    protocol, transport = _accept(factory)
    for chunk in chunks:
        protocol.dataReceived(chunk)
    reason = ConnectionDone() if clean else ConnectionLost()
    protocol.connectionLost(Failure(reason))
    return transport


class _ExplodingReactor(MemoryReactorClock):
    """
    A reactor whose C{connectTCP} raises for one port, as a real reactor
    may for a port number out of range.
    """

    def __init__(self, bad_port: int) -> None:
        super().__init__()
        self.bad_port = bad_port

    def connectTCP(self, host: str, port: int, *args: Any, **kw: Any) -> Any:
        if port == self.bad_port:
            raise OverflowError(f"port {port} out of range")
        return super().connectTCP(host, port, *args, **kw)


class _FailingAtOnceReactor(MemoryReactorClock):
    """
    A reactor that reports the connection failed from inside C{connectTCP}.
    """

    def connectTCP(self, host: str, port: int, factory: Any, *a: Any, **k: Any) -> Any:
        connector = super().connectTCP(host, port, factory, *a, **k)
        factory.clientConnectionFailed(connector, Failure(ConnectionRefusedError()))
        return connector


class GetPoetryTests(SynchronousTestCase):
    """
    Tests for L{get_poetry}.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def test_connectsToAddress(self) -> None:
        """
        L{get_poetry} connects to the host and port it is given, and sends
        nothing: the server speaks first.
        """
        _, factory, _ = _fetch(self.reactor)
        host, port, _, _, _ = self.reactor.tcpClients[0]
        self.assertEqual((host, port), (HOST, PORT))
        _, transport = _accept(factory)
        self.assertEqual(transport.value(), b"")

    def test_wholePoem(self) -> None:
        """
        The poem received in one piece is the result on a clean close, and
        not before.
        """
        d, factory, _ = _fetch(self.reactor)
        protocol, _ = _accept(factory)
        protocol.dataReceived(POEM)
        self.assertNoResult(d)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(d), POEM)

    def test_oneByteAtATime(self) -> None:
        """
        A poem delivered one byte per read is reassembled exactly.
        """
        d, factory, _ = _fetch(self.reactor)
        _serve(factory, [POEM[i : i + 1] for i in range(len(POEM))])
        self.assertEqual(self.successResultOf(d), POEM)

    def test_multibyteCharacterSplitAcrossReads(self) -> None:
        """
        A multi-byte UTF-8 character split across two reads comes back whole:
        the client deals in bytes, and the result decodes at the edge.
        """
        d, factory, _ = _fetch(self.reactor)
        # b"sn\xc3" / b"\xb8 \xf0\x9f" / b"\x8c\x8a": both characters split.
        _serve(factory, [MULTIBYTE[:3], MULTIBYTE[3:7], MULTIBYTE[7:]])
        poem = self.successResultOf(d)
        self.assertEqual(poem, MULTIBYTE)
        self.assertEqual(poem.decode("utf-8"), "sn\u00f8 \U0001f30a")

    def test_emptyPoem(self) -> None:
        """
        A clean close with no data is a valid, empty poem.
        """
        d, factory, _ = _fetch(self.reactor)
        _serve(factory, [])
        self.assertEqual(self.successResultOf(d), b"")

    def test_uncleanLossIsTruncation(self) -> None:
        """
        An unclean connection loss fails with L{PoemTruncated} carrying
        exactly the bytes received and the loss reason -- never a silent
        success.
        """
        d, factory, _ = _fetch(self.reactor)
        _serve(factory, [b"half ", b"a poem"], clean=False)
        failure = self.failureResultOf(d, PoemTruncated)
        self.assertEqual(failure.value.received, b"half a poem")
        self.assertTrue(failure.value.reason.check(ConnectionLost))
        self.assertIn("11 bytes", str(failure.value))

    def test_abortIsTruncation(self) -> None:
        """
        A connection aborted before any data arrived is a truncation too,
        with no bytes received.
        """
        d, factory, _ = _fetch(self.reactor)
        protocol, _ = _accept(factory)
        protocol.connectionLost(Failure(ConnectionAborted()))
        failure = self.failureResultOf(d, PoemTruncated)
        self.assertEqual(failure.value.received, b"")
        self.assertTrue(failure.value.reason.check(ConnectionAborted))

    def test_refused(self) -> None:
        """
        When nothing listens, the result fails with
        L{ConnectionRefusedError}.
        """
        d, factory, connector = _fetch(self.reactor)
        factory.clientConnectionFailed(connector, Failure(ConnectionRefusedError()))
        self.failureResultOf(d, ConnectionRefusedError)

    def test_otherConnectErrorsKeepTheirType(self) -> None:
        """
        Other connection failures keep their own L{ConnectError} subclass.
        """
        for error in (DNSLookupError, NoRouteError, TCPTimedOutError, ConnectError):
            d, factory, connector = _fetch(self.reactor)
            factory.clientConnectionFailed(connector, Failure(error()))
            failure = self.failureResultOf(d)
            self.assertIs(failure.type, error)

    def test_timeoutWhileConnecting(self) -> None:
        """
        With C{timeout}, an attempt still connecting after that many seconds
        fails with L{PoemTimeout}, the connection attempt is stopped, and no
        call is left pending.
        """
        d, _, connector = _fetch(self.reactor, timeout=5.0)
        self.reactor.advance(4.999)
        self.assertNoResult(d)
        self.assertFalse(connector.stoppedConnecting)
        self.reactor.advance(0.001)
        failure = self.failureResultOf(d, PoemTimeout)
        self.assertEqual(
            (failure.value.timeout, failure.value.connected, failure.value.received),
            (5.0, False, b""),
        )
        self.assertIn("connecting", str(failure.value))
        self.assertTrue(connector.stoppedConnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_timeoutIsADeferredTimeout(self) -> None:
        """
        L{PoemTimeout} is a L{twisted.internet.defer.TimeoutError}, so code
        that handles Twisted's timeouts handles it.
        """
        d, _, _ = _fetch(self.reactor, timeout=1.0)
        self.reactor.advance(1.0)
        self.failureResultOf(d, DeferredTimeoutError)

    def test_timeoutMidPoem(self) -> None:
        """
        A poem not complete after C{timeout} seconds fails with
        L{PoemTimeout} carrying the bytes received so far; the connection is
        aborted and no call is left pending.
        """
        d, factory, connector = _fetch(self.reactor, timeout=5.0)
        self.reactor.advance(1.0)
        protocol, transport = _accept(factory)
        protocol.dataReceived(b"so far, ")
        protocol.dataReceived(b"so good")
        self.reactor.advance(4.0)
        failure = self.failureResultOf(d, PoemTimeout)
        self.assertEqual(
            (failure.value.connected, failure.value.received),
            (True, b"so far, so good"),
        )
        self.assertTrue(transport.disconnected)
        self.assertFalse(connector.stoppedConnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_timeoutIsOverallDeadline(self) -> None:
        """
        The timeout counts from the call, not from the last data: steady
        trickling does not extend it.
        """
        d, factory, _ = _fetch(self.reactor, timeout=3.0)
        protocol, _ = _accept(factory)
        for _ in range(2):
            self.reactor.advance(1.0)
            protocol.dataReceived(b"drip ")
        self.assertNoResult(d)
        self.reactor.advance(1.0)
        failure = self.failureResultOf(d, PoemTimeout)
        self.assertEqual(failure.value.received, b"drip drip ")

    def test_zeroTimeout(self) -> None:
        """
        C{timeout=0} is allowed and fails at the next turn of the clock.
        """
        d, _, _ = _fetch(self.reactor, timeout=0)
        self.assertNoResult(d)
        self.reactor.advance(0)
        self.failureResultOf(d, PoemTimeout)

    def test_successCancelsTimer(self) -> None:
        """
        A poem that completes in time cancels the timeout: nothing is left
        pending and the result does not change later.
        """
        d, factory, _ = _fetch(self.reactor, timeout=5.0)
        _serve(factory, [POEM])
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.reactor.advance(10.0)
        self.assertEqual(self.successResultOf(d), POEM)

    def test_failureCancelsTimer(self) -> None:
        """
        A refused connection cancels the timeout too.
        """
        d, factory, connector = _fetch(self.reactor, timeout=5.0)
        factory.clientConnectionFailed(connector, Failure(ConnectionRefusedError()))
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.failureResultOf(d, ConnectionRefusedError)

    def test_noTimeoutSchedulesNothing(self) -> None:
        """
        Without C{timeout} no call is scheduled at all.
        """
        d, _, _ = _fetch(self.reactor)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertNoResult(d)

    def test_connectTimeoutLeavesOursFirst(self) -> None:
        """
        The reactor's own connect timeout is set later than ours, so that an
        attempt stuck connecting fails with L{PoemTimeout}, not the
        reactor's own timeout error.
        """
        _fetch(self.reactor, timeout=5.0)
        self.assertGreater(self.reactor.tcpClients[-1][3], 5.0)

    def test_invalidTimeout(self) -> None:
        """
        A negative or NaN C{timeout} is rejected with L{ValueError} before
        anything is attempted.
        """
        for bad in (-1.0, float("nan")):
            self.assertRaises(
                ValueError, get_poetry, self.reactor, HOST, PORT, timeout=bad
            )
        self.assertEqual(self.reactor.tcpClients, [])

    def test_reactorWithoutTime(self) -> None:
        """
        A reactor that cannot schedule calls is rejected with L{TypeError}.
        """
        reactor = MemoryReactor()
        self.assertRaises(TypeError, get_poetry, reactor, HOST, PORT)
        self.assertEqual(reactor.tcpClients, [])

    def test_connectRaisingLeavesNothingPending(self) -> None:
        """
        If C{connectTCP} itself raises, the exception propagates and the
        timeout is not left scheduled.
        """
        reactor = _ExplodingReactor(bad_port=PORT)
        self.assertRaises(OverflowError, get_poetry, reactor, HOST, PORT, timeout=5)
        self.assertEqual(reactor.getDelayedCalls(), [])

    def test_failureInsideConnectTCP(self) -> None:
        """
        A failure reported from inside C{connectTCP} is the result, and no
        timeout is started after it.
        """
        reactor = _FailingAtOnceReactor()
        d = get_poetry(reactor, HOST, PORT, timeout=5.0)
        self.failureResultOf(d, ConnectionRefusedError)
        self.assertEqual(reactor.getDelayedCalls(), [])

    def test_cancelWhileConnecting(self) -> None:
        """
        Cancelling while connecting fails with L{CancelledError}, stops the
        connection attempt and leaves nothing pending.
        """
        d, _, connector = _fetch(self.reactor, timeout=5.0)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertTrue(connector.stoppedConnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_cancelWhileReceiving(self) -> None:
        """
        Cancelling while receiving fails with L{CancelledError}, aborts the
        connection and leaves nothing pending.
        """
        d, factory, connector = _fetch(self.reactor, timeout=5.0)
        protocol, transport = _accept(factory)
        protocol.dataReceived(b"a line ")
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertTrue(transport.disconnected)
        self.assertFalse(connector.stoppedConnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_cancelWithoutTimeout(self) -> None:
        """
        Cancelling works the same without a timeout.
        """
        d, factory, _ = _fetch(self.reactor)
        _, transport = _accept(factory)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertTrue(transport.disconnected)

    def test_cancelAfterResultIsNoOp(self) -> None:
        """
        Cancelling after the poem arrived changes nothing and touches
        nothing.
        """
        d, factory, _ = _fetch(self.reactor)
        transport = _serve(factory, [POEM])
        d.cancel()
        self.assertEqual(self.successResultOf(d), POEM)
        self.assertFalse(transport.disconnected)

    def test_lateEventsAfterTimeoutIgnored(self) -> None:
        """
        Data and a clean close that arrive after the timeout change nothing:
        no second result, no progress report, no error.
        """
        counts: list[int] = []
        d, factory, _ = _fetch(self.reactor, timeout=2.0, progress=counts.append)
        protocol, _ = _accept(factory)
        protocol.dataReceived(b"early")
        self.reactor.advance(2.0)
        protocol.dataReceived(b" and late")
        protocol.connectionLost(Failure(ConnectionDone()))
        failure = self.failureResultOf(d, PoemTimeout)
        self.assertEqual(failure.value.received, b"early")
        self.assertEqual(counts, [5])

    def test_lateFailureAfterCancelIgnored(self) -> None:
        """
        The connection failure that follows a cancelled attempt (as a real
        reactor reports it) does not fire the result again.
        """
        d, factory, connector = _fetch(self.reactor)
        d.cancel()
        factory.clientConnectionFailed(connector, Failure(UserError()))
        self.failureResultOf(d, CancelledError)

    def test_lateLossAfterCancelIgnored(self) -> None:
        """
        The connection loss that follows a cancelled connection does not
        fire the result again.
        """
        d, factory, _ = _fetch(self.reactor)
        protocol, _ = _accept(factory)
        d.cancel()
        protocol.connectionLost(Failure(ConnectionAborted()))
        self.failureResultOf(d, CancelledError)

    def test_lateConnectionRefused(self) -> None:
        """
        A connection that completes after the attempt timed out is refused:
        C{buildProtocol} returns L{None}, which makes the reactor close it.
        """
        d, factory, _ = _fetch(self.reactor, timeout=1.0)
        self.reactor.advance(1.0)
        self.assertIsNone(factory.buildProtocol(SERVER))
        self.failureResultOf(d, PoemTimeout)

    def test_progressRunningTotals(self) -> None:
        """
        C{progress} is called with the running total of bytes, once per
        read; byte counts, not characters.
        """
        counts: list[int] = []
        d, factory, _ = _fetch(self.reactor, progress=counts.append)
        _serve(factory, [b"abc", MULTIBYTE, b"x"])
        self.assertEqual(counts, [3, 3 + len(MULTIBYTE), 4 + len(MULTIBYTE)])
        self.assertEqual(len(MULTIBYTE), 9)
        self.successResultOf(d)

    def test_progressNotCalledWithoutData(self) -> None:
        """
        An empty poem reports no progress.
        """
        counts: list[int] = []
        d, factory, _ = _fetch(self.reactor, progress=counts.append)
        _serve(factory, [])
        self.assertEqual(counts, [])
        self.assertEqual(self.successResultOf(d), b"")

    @settings(derandomize=True, database=None, max_examples=200, deadline=None)
    @given(
        poem=st.binary(max_size=300),
        cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=40),
        clean=st.booleans(),
    )
    def test_anyChunkingReassembles(
        self, poem: bytes, cuts: list[int], clean: bool
    ) -> None:
        """
        Property: however a poem is cut into reads, the client reassembles it
        exactly -- as the result on a clean close, as
        L{PoemTruncated.received} otherwise -- and progress reports each
        running total.
        """
        reactor = MemoryReactorClock()
        bounds = sorted({0, len(poem), *(c for c in cuts if c <= len(poem))})
        chunks = [poem[a:b] for a, b in pairwise(bounds)]
        counts: list[int] = []
        d, factory, _ = _fetch(reactor, progress=counts.append)
        _serve(factory, chunks, clean=clean)
        if clean:
            self.assertEqual(self.successResultOf(d), poem)
        else:
            failure = self.failureResultOf(d, PoemTruncated)
            self.assertEqual(failure.value.received, poem)
        self.assertEqual(counts, bounds[1:])


class PoetryClientProtocolTests(SynchronousTestCase):
    """
    Tests for L{PoetryClientProtocol} used on its own.
    """

    def test_receivedSoFar(self) -> None:
        """
        C{received} is every byte so far, and C{finished} fires with the poem
        on a clean close.
        """
        protocol = PoetryClientProtocol()
        protocol.makeConnection(StringTransport())
        protocol.dataReceived(b"one ")
        protocol.dataReceived(b"two")
        self.assertEqual(protocol.received, b"one two")
        self.assertNoResult(protocol.finished)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(protocol.finished), b"one two")

    def test_isAProtocol(self) -> None:
        """
        The client protocol is an ordinary L{Protocol}.
        """
        self.assertIsInstance(PoetryClientProtocol(), Protocol)


class GetPoemsTests(SynchronousTestCase):
    """
    Tests for L{get_poems}.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def _factories(self) -> list[Any]:
        return [client[2] for client in self.reactor.tcpClients]

    def test_mixOfSuccessAndFailure(self) -> None:
        """
        Each address gets one L{PoemResult}, in the order given, carrying
        the poem or the failure; one failure does not stop the others, and
        each failure is logged as a warning naming the address.
        """
        addresses = [("a.example", 1), ("b.example", 2), ("c.example", 3)]
        d = get_poems(self.reactor, addresses)
        self.assertEqual(
            [(host, port) for host, port, *_ in self.reactor.tcpClients], addresses
        )
        first, second, third = self._factories()
        with capturedLogs() as events:
            # Finish them out of order: the result keeps the given order.
            _serve(third, [b"third"], clean=False)
            second.clientConnectionFailed(
                self.reactor.connectors[1], Failure(ConnectionRefusedError())
            )
            self.assertNoResult(d)
            _serve(first, [b"first ", b"poem"])
        results = self.successResultOf(d)
        self.assertEqual([r.address for r in results], addresses)
        self.assertEqual([r.ok for r in results], [True, False, False])
        self.assertEqual(results[0], PoemResult(("a.example", 1), b"first poem", None))
        self.assertIsNone(results[1].poem)
        assert results[1].failure is not None and results[2].failure is not None
        self.assertTrue(results[1].failure.check(ConnectionRefusedError))
        truncated = results[2].failure.value
        assert isinstance(truncated, PoemTruncated)
        self.assertEqual(truncated.received, b"third")
        warnings = [e for e in events if e["log_level"] == LogLevel.warn]
        self.assertEqual(
            sorted((e["host"], e["port"]) for e in warnings),
            [("b.example", 2), ("c.example", 3)],
        )

    def test_progressIndexed(self) -> None:
        """
        C{progress} gets C{(index, running total)} for each address.
        """
        seen: list[tuple[int, int]] = []
        d = get_poems(
            self.reactor,
            [("a", 1), ("b", 2)],
            progress=lambda index, count: seen.append((index, count)),
        )
        first, second = self._factories()
        p1, _ = _accept(first)
        p2, _ = _accept(second)
        p2.dataReceived(b"xy")
        p1.dataReceived(b"abc")
        p2.dataReceived(b"z")
        p1.connectionLost(Failure(ConnectionDone()))
        p2.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(seen, [(1, 2), (0, 3), (1, 3)])
        self.assertEqual([r.poem for r in self.successResultOf(d)], [b"abc", b"xyz"])

    def test_timeoutPerFetch(self) -> None:
        """
        C{timeout} applies to each fetch: a slow one times out while a quick
        one succeeds, and nothing is left pending.
        """
        d = get_poems(self.reactor, [("a", 1), ("b", 2)], timeout=3.0)
        quick, _ = self._factories()
        _serve(quick, [POEM])
        self.reactor.advance(3.0)
        results = self.successResultOf(d)
        self.assertEqual(results[0].poem, POEM)
        assert results[1].failure is not None
        self.assertTrue(results[1].failure.check(PoemTimeout))
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_noAddresses(self) -> None:
        """
        No addresses, no poems: the result is an empty list at once.
        """
        self.assertEqual(self.successResultOf(get_poems(self.reactor, [])), [])

    def test_connectRaisingIsOneFailure(self) -> None:
        """
        An address for which C{connectTCP} raises gets a L{PoemResult}
        carrying that error; the other addresses are still fetched.
        """
        reactor = _ExplodingReactor(bad_port=99999)
        with capturedLogs():
            d = get_poems(reactor, [("a", 99999), ("b", 2)], timeout=5.0)
        [(_, _, factory, _, _)] = reactor.tcpClients
        _serve(factory, [POEM])
        bad, good = self.successResultOf(d)
        assert bad.failure is not None
        self.assertTrue(bad.failure.check(OverflowError))
        self.assertEqual(good.poem, POEM)
        self.assertEqual(reactor.getDelayedCalls(), [])

    def test_cancel(self) -> None:
        """
        Cancelling L{get_poems} cancels the fetches still running, which are
        reported with L{CancelledError}; finished ones keep their poem, and
        nothing is left pending.
        """
        d = get_poems(self.reactor, [("a", 1), ("b", 2)], timeout=5.0)
        done, running = self._factories()
        _serve(done, [POEM])
        _, transport = _accept(running)
        with capturedLogs():
            d.cancel()
        first, second = self.successResultOf(d)
        self.assertEqual(first.poem, POEM)
        assert second.failure is not None
        self.assertTrue(second.failure.check(CancelledError))
        self.assertTrue(transport.disconnected)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_invalidArgumentsStartNothing(self) -> None:
        """
        A bad timeout or a reactor without a clock is rejected before any
        connection is attempted.
        """
        self.assertRaises(
            ValueError, get_poems, self.reactor, [("a", 1), ("b", 2)], timeout=-1
        )
        self.assertEqual(self.reactor.tcpClients, [])
        reactor = MemoryReactor()
        self.assertRaises(TypeError, get_poems, reactor, [("a", 1)])
        self.assertEqual(reactor.tcpClients, [])
