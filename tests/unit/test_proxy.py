"""
Unit tests for L{poetry.proxy}: no sockets, no global reactor, no real time.

The upstream poetry server (and transform service) are played by hand on a
L{MemoryReactorClock}: each C{connectTCP} the proxy makes is recorded in
C{reactor.tcpClients}, and a test completes it by building the recorded
factory's protocol on a L{StringTransport}, feeding the poem and a clean
close -- or fails it.  The proxy's own clients are protocols built by the
proxy factory on L{StringTransportWithDisconnection}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import (
    MemoryReactor,
    MemoryReactorClock,
    StringTransport,
    StringTransportWithDisconnection,
    _FakeConnector,
)
from twisted.logger import LogEvent, LogLevel, capturedLogs, formatEvent
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.proxy import Fetched, PoemCache, PoetryProxyFactory, PoetryProxyProtocol

POEM = b"The proxy keeps\nwhat upstream gave,\nbut not for long.\n"
UPSTREAM = ("upstream.example", 10000)


@attrs.define
class _Client:
    """
    One client of the proxy, connected on a L{StringTransportWithDisconnection}.
    """

    protocol: PoetryProxyProtocol
    transport: StringTransportWithDisconnection

    @property
    def served(self) -> bool:
        """
        The client got the whole of L{POEM} and a clean close.
        """
        return self.served_with(POEM)

    def served_with(self, poem: bytes) -> bool:
        """
        The client got exactly C{poem} and a clean close.
        """
        return (
            self.transport.value() == poem
            and not self.transport.connected
            and not self.transport.disconnected
        )

    @property
    def aborted(self) -> bool:
        """
        The client's connection was aborted without a byte written.
        """
        return (
            self.transport.value() == b""
            and self.transport.disconnected
            and not self.transport.connected
        )

    @property
    def waiting(self) -> bool:
        """
        The client is still connected and has received nothing.
        """
        return self.transport.value() == b"" and self.transport.connected

    def leave(self) -> None:
        """
        The client hangs up.
        """
        self.transport.loseConnection()


def connect_client(factory: PoetryProxyFactory, number: int = 1) -> _Client:
    """
    Connect a client to the proxy.
    """
    address = IPv4Address("TCP", "127.0.0.1", 40000 + number)
    protocol = factory.buildProtocol(address)
    assert protocol is not None
    transport = StringTransportWithDisconnection(peerAddress=address)
    transport.protocol = protocol
    protocol.makeConnection(transport)
    return _Client(protocol, transport)


def connect_upstream(
    reactor: MemoryReactor, index: int = -1
) -> tuple[Protocol, StringTransport]:
    """
    Complete the connection attempt recorded at C{reactor.tcpClients[index]}.
    """
    host, port, factory, _timeout, _bind = reactor.tcpClients[index]
    protocol = factory.buildProtocol(IPv4Address("TCP", host, port))
    assert isinstance(protocol, Protocol)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def serve_upstream(reactor: MemoryReactor, poem: bytes = POEM, index: int = -1) -> None:
    """
    Play a poetry server for the connection attempt at C{index}: connect,
    send C{poem}, close cleanly.
    """
    protocol, _ = connect_upstream(reactor, index)
    protocol.dataReceived(poem)
    protocol.connectionLost(Failure(ConnectionDone()))


def refuse_upstream(reactor: MemoryReactor, index: int = -1) -> None:
    """
    Fail the connection attempt at C{index} as refused.
    """
    factory = reactor.tcpClients[index][2]
    assert isinstance(factory, ClientFactory)
    factory.clientConnectionFailed(
        reactor.connectors[index], Failure(ConnectionRefusedError())
    )


def warnings_in(events: Sequence[LogEvent]) -> list[str]:
    """
    The formatted text of the warn-level events.
    """
    return [
        formatEvent(event) for event in events if event["log_level"] == LogLevel.warn
    ]


def errors_in(events: Sequence[LogEvent]) -> list[LogEvent]:
    """
    The events at error level or above.
    """
    return [
        event
        for event in events
        if event["log_level"] in (LogLevel.error, LogLevel.critical)
    ]


class _NoAbortTransport(StringTransportWithDisconnection):
    """
    A transport without C{abortConnection}, as some non-TCP transports are.
    """

    abortConnection = None  # type: ignore[assignment]  # hides the method, on purpose


class PoetryProxyFactoryTests(SynchronousTestCase):
    """
    Tests for L{PoetryProxyFactory} against a hand-played upstream.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def proxy(self, **kwargs: Any) -> PoetryProxyFactory:
        """
        A proxy for L{UPSTREAM} on C{self.reactor}.
        """
        return PoetryProxyFactory(self.reactor, *UPSTREAM, **kwargs)

    def test_first_client_fetches_upstream(self) -> None:
        """
        The first client makes the proxy connect to the configured upstream
        host and port; the client is served the poem and closed cleanly.
        """
        factory = self.proxy()
        client = connect_client(factory)
        self.assertEqual(
            [(host, port) for host, port, *_ in self.reactor.tcpClients], [UPSTREAM]
        )
        self.assertTrue(client.waiting)
        serve_upstream(self.reactor)
        self.assertTrue(client.served)

    def test_coalescing(self) -> None:
        """
        However many clients arrive while the fetch is in flight, the proxy
        makes exactly one upstream connection, and every client receives the
        poem and is closed cleanly.
        """
        factory = self.proxy()
        clients = [connect_client(factory, n) for n in range(7)]
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.assertEqual(factory.cache.waiting, 7)
        serve_upstream(self.reactor)
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.assertEqual([c.served for c in clients], [True] * 7)
        self.assertEqual(factory.cache.waiting, 0)
        self.assertFalse(factory.cache.fetching)

    def test_client_arriving_mid_poem_joins(self) -> None:
        """
        A client arriving after upstream has started sending joins the same
        fetch and gets the whole poem, not just the part that arrives after.
        """
        factory = self.proxy()
        first = connect_client(factory, 1)
        protocol, _ = connect_upstream(self.reactor)
        protocol.dataReceived(POEM[:10])
        second = connect_client(factory, 2)
        protocol.dataReceived(POEM[10:])
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.assertTrue(first.served)
        self.assertTrue(second.served)

    def test_cache_hit(self) -> None:
        """
        A client arriving after a successful fetch is served from the cache
        at once, without a new upstream connection.
        """
        factory = self.proxy()
        connect_client(factory, 1)
        serve_upstream(self.reactor)
        later = connect_client(factory, 2)
        self.assertTrue(later.served)
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_cache_hit_logged_at_info(self) -> None:
        """
        Misses, joins and hits are each logged at info level, naming the
        client.
        """
        factory = self.proxy()
        with capturedLogs() as events:
            connect_client(factory, 1)
            connect_client(factory, 2)
            serve_upstream(self.reactor)
            connect_client(factory, 3)
        texts = [
            formatEvent(e)
            for e in events
            if e["log_level"] == LogLevel.info
            and e.get("log_namespace") == "poetry.proxy"
        ]
        self.assertIn("Cache miss for 127.0.0.1:40001: fetching from", texts[0])
        self.assertTrue(any("joins the fetch" in t and "40002" in t for t in texts))
        self.assertIn("Serving 127.0.0.1:40003 from the cache", texts)
        self.assertFalse([t for t in texts if "Address(" in t], texts)
        self.assertTrue(any("from the cache" in t and "40003" in t for t in texts))

    def test_ttl_expiry(self) -> None:
        """
        The poem is served from the cache while C{now < fetched_at + ttl},
        counted from when the poem arrived; at exactly C{fetched_at + ttl}
        the next client triggers a new fetch, which then serves it.
        """
        factory = self.proxy(ttl=10.0)
        connect_client(factory, 1)
        self.reactor.advance(5.0)  # the fetch takes five seconds
        serve_upstream(self.reactor)

        self.reactor.advance(9.5)  # now = 14.5 < 5 + 10
        self.assertTrue(connect_client(factory, 2).served)
        self.assertEqual(len(self.reactor.tcpClients), 1)

        self.reactor.advance(0.5)  # now = 15.0, not < 5 + 10
        expired = connect_client(factory, 3)
        self.assertTrue(expired.waiting)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        serve_upstream(self.reactor, b"A fresher poem.\n")
        self.assertEqual(expired.transport.value(), b"A fresher poem.\n")
        self.assertEqual(
            connect_client(factory, 4).transport.value(), b"A fresher poem.\n"
        )
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_ttl_after_expiry(self) -> None:
        """
        Long after expiry, a client triggers a new fetch.
        """
        factory = self.proxy(ttl=1.0)
        connect_client(factory, 1)
        serve_upstream(self.reactor)
        self.reactor.advance(3600.0)
        connect_client(factory, 2)
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_no_timer_left_pending(self) -> None:
        """
        Expiry is checked on each request, and the upstream timeout is
        cancelled when the poem arrives: after a served fetch no call is
        left pending on the clock.
        """
        factory = self.proxy(ttl=10.0, upstream_timeout=5.0)
        connect_client(factory)
        self.assertEqual(len(self.reactor.getDelayedCalls()), 1)
        serve_upstream(self.reactor)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_ttl_zero_disables_caching(self) -> None:
        """
        With C{ttl=0} every client arriving after a fetch triggers a new
        fetch, while concurrent clients still share one.
        """
        factory = self.proxy(ttl=0)
        first = [connect_client(factory, n) for n in range(3)]
        self.assertEqual(len(self.reactor.tcpClients), 1)
        serve_upstream(self.reactor)
        self.assertTrue(all(c.served for c in first))
        second = connect_client(factory, 4)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        serve_upstream(self.reactor)
        self.assertTrue(second.served)

    def test_refused_upstream_fan_out(self) -> None:
        """
        When upstream refuses, every waiting client is aborted without a
        byte, the failure is logged at warn with the reason, nothing is
        cached, and the next client triggers a fresh fetch that serves it.
        """
        factory = self.proxy()
        clients = [connect_client(factory, n) for n in range(4)]
        with capturedLogs() as events:
            refuse_upstream(self.reactor)
        self.assertEqual([c.aborted for c in clients], [True] * 4)
        warnings = warnings_in(events)
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("upstream.example:10000", warnings[0])
        self.assertIn("refused", warnings[0])
        self.assertIn("4 waiting", warnings[0])
        self.assertEqual(errors_in(events), [])
        self.assertIsNone(factory.cache.cached())

        retry = connect_client(factory, 5)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        serve_upstream(self.reactor)
        self.assertTrue(retry.served)

    def test_truncated_upstream_fan_out(self) -> None:
        """
        When upstream's connection is lost mid-poem, the partial poem is
        neither served nor cached: every waiting client is aborted without a
        byte, the truncation is logged, and the next client triggers a fresh
        fetch.
        """
        factory = self.proxy()
        clients = [connect_client(factory, n) for n in range(3)]
        protocol, _ = connect_upstream(self.reactor)
        protocol.dataReceived(POEM[:12])
        with capturedLogs() as events:
            protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual([c.aborted for c in clients], [True] * 3)
        warnings = warnings_in(events)
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("truncated after 12 bytes", warnings[0])
        self.assertIsNone(factory.cache.cached())

        retry = connect_client(factory, 4)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        serve_upstream(self.reactor)
        self.assertTrue(retry.served)

    def test_failure_does_not_evict_into_stale_serving(self) -> None:
        """
        A failed refetch after expiry does not resurrect the expired poem:
        the waiting client is aborted, not served the old poem.
        """
        factory = self.proxy(ttl=1.0)
        connect_client(factory, 1)
        serve_upstream(self.reactor)
        self.reactor.advance(1.0)
        client = connect_client(factory, 2)
        refuse_upstream(self.reactor)
        self.assertTrue(client.aborted)
        self.assertIsNone(factory.cache.cached())

    def test_upstream_timeout_while_connecting(self) -> None:
        """
        An upstream that never answers the connection attempt fails the fetch
        after C{upstream_timeout} seconds: the attempt is stopped, every
        waiting client aborted, the timeout logged, no call left pending.
        """
        factory = self.proxy(upstream_timeout=5.0)
        clients = [connect_client(factory, n) for n in range(2)]
        self.reactor.advance(4.9)
        self.assertTrue(all(c.waiting for c in clients))
        with capturedLogs() as events:
            self.reactor.advance(0.1)
        self.assertTrue(all(c.aborted for c in clients))
        connector = self.reactor.connectors[0]
        assert isinstance(connector, _FakeConnector)
        self.assertTrue(connector.stoppedConnecting)
        warnings = warnings_in(events)
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("no complete poem within 5.0 seconds", warnings[0])
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_upstream_timeout_mid_poem(self) -> None:
        """
        An upstream that stalls mid-poem is dropped after
        C{upstream_timeout}; the waiting clients are aborted and the partial
        poem is not served.
        """
        factory = self.proxy(upstream_timeout=5.0)
        client = connect_client(factory)
        protocol, transport = connect_upstream(self.reactor)
        protocol.dataReceived(POEM[:5])
        self.reactor.advance(5.0)
        self.assertTrue(client.aborted)
        self.assertTrue(transport.disconnecting)
        self.assertIsNone(factory.cache.cached())

    def test_default_upstream_timeout(self) -> None:
        """
        By default a hung upstream is given up on after 30 seconds.
        """
        factory = self.proxy()
        client = connect_client(factory)
        self.reactor.advance(29.0)
        self.assertTrue(client.waiting)
        self.reactor.advance(1.0)
        self.assertTrue(client.aborted)

    def test_all_clients_leave_while_connecting(self) -> None:
        """
        When every waiting client disconnects before upstream connects, the
        upstream connection attempt is stopped and nothing is left pending;
        the next client triggers a fresh fetch.
        """
        factory = self.proxy(upstream_timeout=5.0)
        clients = [connect_client(factory, n) for n in range(3)]
        for client in clients:
            client.leave()
        connector = self.reactor.connectors[0]
        assert isinstance(connector, _FakeConnector)
        self.assertTrue(connector.stoppedConnecting)
        self.assertFalse(factory.cache.fetching)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

        retry = connect_client(factory, 4)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        serve_upstream(self.reactor)
        self.assertTrue(retry.served)

    def test_all_clients_leave_mid_poem(self) -> None:
        """
        When every waiting client disconnects while upstream is sending, the
        upstream connection is dropped and the partial poem is not cached.
        """
        factory = self.proxy()
        clients = [connect_client(factory, n) for n in range(2)]
        protocol, transport = connect_upstream(self.reactor)
        protocol.dataReceived(POEM[:7])
        for client in clients:
            client.leave()
        self.assertTrue(transport.disconnecting)
        # The lost connection reports a cancellation the proxy ignores.
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertIsNone(factory.cache.cached())
        self.assertFalse(factory.cache.fetching)

    def test_some_clients_leave(self) -> None:
        """
        A client leaving while others still wait does not cancel the fetch:
        the remaining clients are served, and the poem is cached.
        """
        factory = self.proxy()
        clients = [connect_client(factory, n) for n in range(3)]
        clients[0].leave()
        clients[2].leave()
        connector = self.reactor.connectors[0]
        assert isinstance(connector, _FakeConnector)
        self.assertFalse(connector.stoppedConnecting)
        serve_upstream(self.reactor)
        self.assertTrue(clients[1].served)
        self.assertEqual(clients[0].transport.value(), b"")
        self.assertEqual(clients[2].transport.value(), b"")
        self.assertEqual(factory.cache.cached(), POEM)

    def test_client_leaving_logged(self) -> None:
        """
        A client leaving before its poem, and the cancellation of the fetch
        when the last one leaves, are logged at info, not as errors.
        """
        factory = self.proxy()
        client = connect_client(factory)
        with capturedLogs() as events:
            client.leave()
        texts = [formatEvent(e) for e in events if e["log_level"] == LogLevel.info]
        self.assertIn("Client 127.0.0.1:40001 left before the poem arrived", texts)
        self.assertTrue(any("cancelling the fetch" in t for t in texts), texts)
        self.assertEqual(warnings_in(events), [])
        self.assertEqual(errors_in(events), [])

    def test_empty_poem_served(self) -> None:
        """
        An empty poem closed cleanly by upstream is a valid poem: clients are
        closed cleanly, not aborted.
        """
        factory = self.proxy()
        client = connect_client(factory)
        serve_upstream(self.reactor, b"")
        self.assertEqual(client.transport.value(), b"")
        self.assertFalse(client.transport.connected)
        self.assertFalse(client.transport.disconnected)

    def test_client_data_ignored(self) -> None:
        """
        Bytes sent by a client (the poetry protocol expects none) are ignored:
        the client is still served.
        """
        factory = self.proxy()
        client = connect_client(factory)
        client.protocol.dataReceived(b"GET / HTTP/1.0\r\n\r\n")
        serve_upstream(self.reactor)
        self.assertTrue(client.served)

    def test_any_failure_aborts(self) -> None:
        """
        A client whose wait fails is aborted whatever the error -- even a
        L{CancelledError} it did not cause itself -- rather than left
        hanging.
        """
        factory = self.proxy()
        factory.cache = PoemCache(self.reactor, lambda: fail(CancelledError()), 1.0)
        self.assertTrue(connect_client(factory).aborted)

    def test_transport_without_abort(self) -> None:
        """
        On a transport that cannot abort, a failed fetch closes the client's
        connection instead, with a warning that the client may see an empty
        poem.
        """
        factory = self.proxy()
        address = IPv4Address("TCP", "127.0.0.1", 40001)
        protocol = factory.buildProtocol(address)
        assert protocol is not None
        transport = _NoAbortTransport(peerAddress=address)
        transport.protocol = protocol
        protocol.makeConnection(transport)
        with capturedLogs() as events:
            refuse_upstream(self.reactor)
        self.assertFalse(transport.connected)
        self.assertEqual(transport.value(), b"")
        self.assertTrue(any("cannot abort" in w for w in warnings_in(events)))

    def test_needs_clock(self) -> None:
        """
        A reactor without L{IReactorTime} is rejected at construction.
        """
        self.assertRaises(TypeError, PoetryProxyFactory, MemoryReactor(), *UPSTREAM)

    def test_bad_arguments(self) -> None:
        """
        A negative or NaN C{ttl} and a non-positive timeout are rejected.
        """
        for kwargs in (
            {"ttl": -1.0},
            {"ttl": float("nan")},
            {"upstream_timeout": 0.0},
            {"transform_timeout": -2.0},
        ):
            self.assertRaises(ValueError, self.proxy, **kwargs)


TRANSFORM = ("transform.example", 10001, "cummingsify")
TRANSFORMED = POEM.lower().replace(b"proxy", b"PROXY")


def serve_transform(
    testcase: SynchronousTestCase,
    reactor: MemoryReactor,
    reply: bytes | None,
    index: int = -1,
) -> StringTransport:
    """
    Play the transform service for the connection attempt at C{index}: check
    that it is for L{TRANSFORM} and carries L{POEM}, then answer with
    C{reply} as one netstring (or with nothing if C{reply} is L{None}) and
    close cleanly.
    """
    host, port, _factory, _timeout, _bind = reactor.tcpClients[index]
    testcase.assertEqual((host, port), TRANSFORM[:2])
    protocol, transport = connect_upstream(reactor, index)
    request = b"cummingsify." + POEM
    testcase.assertEqual(transport.value(), b"%d:%s," % (len(request), request))
    if reply is not None:
        protocol.dataReceived(b"%d:%s," % (len(reply), reply))
    protocol.connectionLost(Failure(ConnectionDone()))
    return transport


class PoetryProxyTransformTests(SynchronousTestCase):
    """
    Tests for L{PoetryProxyFactory} with C{transform=}, the transform
    service played by hand on the same L{MemoryReactorClock}, spoken to by
    the real L{poetry.transform.transform} client.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def proxy(self, **kwargs: Any) -> PoetryProxyFactory:
        """
        A proxy for L{UPSTREAM} through L{TRANSFORM} on C{self.reactor}.
        """
        return PoetryProxyFactory(
            self.reactor, *UPSTREAM, transform=TRANSFORM, **kwargs
        )

    def upstream_hosts(self) -> list[tuple[str, int]]:
        """
        Where the proxy has connected so far, in order.
        """
        return [(host, port) for host, port, *_ in self.reactor.tcpClients]

    def test_transformed_served_and_cached(self) -> None:
        """
        The poem is passed through the transform service before any client
        sees it; every waiting client gets the transformed poem; a later
        client gets it from the cache with no new connection of any kind.
        """
        factory = self.proxy()
        clients = [connect_client(factory, n) for n in range(3)]
        serve_upstream(self.reactor)
        self.assertEqual(self.upstream_hosts(), [UPSTREAM, TRANSFORM[:2]])
        self.assertTrue(all(c.waiting for c in clients))
        serve_transform(self, self.reactor, TRANSFORMED)
        self.assertEqual([c.served_with(TRANSFORMED) for c in clients], [True] * 3)
        self.assertTrue(connect_client(factory, 4).served_with(TRANSFORMED))
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_ttl_counts_from_transformed_arrival(self) -> None:
        """
        With a transform, the ttl counts from when the transformed poem
        arrived.
        """
        factory = self.proxy(ttl=10.0)
        connect_client(factory)
        serve_upstream(self.reactor)
        self.reactor.advance(3.0)
        serve_transform(self, self.reactor, TRANSFORMED)  # fetched_at = 3.0
        self.reactor.advance(9.5)
        self.assertTrue(connect_client(factory, 2).served_with(TRANSFORMED))
        self.reactor.advance(0.5)
        self.assertTrue(connect_client(factory, 3).waiting)
        self.assertEqual(len(self.reactor.tcpClients), 3)

    def test_transform_refused_falls_back(self) -> None:
        """
        When the transform service refuses, every waiting client gets the
        original poem with a clean close, the failure is logged at warn with
        the reason, and the original is not cached: the next client fetches
        and transforms again.
        """
        factory = self.proxy()
        clients = [connect_client(factory, n) for n in range(2)]
        serve_upstream(self.reactor)
        with capturedLogs() as events:
            refuse_upstream(self.reactor)
        self.assertEqual([c.served for c in clients], [True] * 2)
        warnings = warnings_in(events)
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("'cummingsify'", warnings[0])
        self.assertIn("transform.example:10001", warnings[0])
        self.assertIn("refused", warnings[0])
        self.assertIn("not caching", warnings[0])
        self.assertEqual(errors_in(events), [])
        self.assertIsNone(factory.cache.cached())

        retry = connect_client(factory, 3)
        self.assertEqual(self.upstream_hosts()[2:], [UPSTREAM])
        serve_upstream(self.reactor)
        serve_transform(self, self.reactor, TRANSFORMED)
        self.assertTrue(retry.served_with(TRANSFORMED))

    def test_transform_no_reply_falls_back(self) -> None:
        """
        A transform service that closes without a reply (how it rejects a
        request) makes the proxy serve the original poem, logged.
        """
        factory = self.proxy()
        client = connect_client(factory)
        serve_upstream(self.reactor)
        with capturedLogs() as events:
            serve_transform(self, self.reactor, None)
        self.assertTrue(client.served)
        self.assertEqual(len(warnings_in(events)), 1)
        self.assertIsNone(factory.cache.cached())

    def test_transform_timeout_falls_back(self) -> None:
        """
        A transform service that never answers is given up on after
        C{transform_timeout}: the original poem is served, the connection
        aborted, no call left pending.
        """
        factory = self.proxy(transform_timeout=2.0)
        client = connect_client(factory)
        serve_upstream(self.reactor)
        _, transport = connect_upstream(self.reactor)
        self.reactor.advance(1.9)
        self.assertTrue(client.waiting)
        with capturedLogs() as events:
            self.reactor.advance(0.1)
        self.assertTrue(client.served)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(len(warnings_in(events)), 1)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_upstream_failure_skips_transform(self) -> None:
        """
        When upstream fails there is nothing to transform: clients are
        aborted and the transform service is never contacted.
        """
        factory = self.proxy()
        client = connect_client(factory)
        refuse_upstream(self.reactor)
        self.assertTrue(client.aborted)
        self.assertEqual(self.upstream_hosts(), [UPSTREAM])

    def test_all_clients_leave_during_transform(self) -> None:
        """
        When every waiting client leaves while the transform is running, the
        transform connection is dropped, no fallback is logged or cached,
        and the next client starts afresh.
        """
        factory = self.proxy()
        clients = [connect_client(factory, n) for n in range(2)]
        serve_upstream(self.reactor)
        _, transport = connect_upstream(self.reactor)
        with capturedLogs() as events:
            for client in clients:
                client.leave()
        self.assertTrue(transport.disconnecting)
        self.assertEqual(warnings_in(events), [])
        self.assertFalse(factory.cache.fetching)
        self.assertIsNone(factory.cache.cached())
        connect_client(factory, 3)
        self.assertEqual(self.upstream_hosts()[2:], [UPSTREAM])

    def test_transform_cannot_start_falls_back(self) -> None:
        """
        When starting the transform raises at once (here the reactor's
        C{connectTCP} does), that is a transform failure like any other: the
        original poem is served, the failure is logged at warn with the
        reason, nothing is cached, and no error is logged.
        """

        class NoTransformReactor(MemoryReactorClock):
            def connectTCP(self, host: str, port: int, *args: Any, **kw: Any) -> Any:
                if (host, port) == TRANSFORM[:2]:
                    raise OSError(24, "Too many open files")
                return super().connectTCP(host, port, *args, **kw)

        self.reactor = NoTransformReactor()
        factory = self.proxy()
        clients = [connect_client(factory, n) for n in range(2)]
        with capturedLogs() as events:
            serve_upstream(self.reactor)
        self.assertEqual([c.served for c in clients], [True] * 2)
        [warning] = warnings_in(events)
        self.assertIn("'cummingsify'", warning)
        self.assertIn("Too many open files", warning)
        self.assertIn("not caching", warning)
        self.assertEqual(errors_in(events), [])
        self.assertIsNone(factory.cache.cached())
        self.assertEqual(self.upstream_hosts(), [UPSTREAM])

    def test_bad_transform_argument(self) -> None:
        """
        A C{transform=} that could never work is rejected at construction.
        """
        for transform in (
            ("h", 1, "a.b"),
            ("h", 1, ""),
            ("h", 1, "caf\u00e9"),
            ("h", "1", "upper"),
            ("h", 1),
        ):
            self.assertRaises(
                ValueError,
                PoetryProxyFactory,
                self.reactor,
                *UPSTREAM,
                transform=transform,
            )


class PoemCacheTests(SynchronousTestCase):
    """
    Tests for L{PoemCache} on its own, with fetches played by hand.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.fetches: list[Deferred[Fetched]] = []
        self.cancelled: list[Deferred[Fetched]] = []

    def fetch(self) -> Deferred[Fetched]:
        """
        Start a fetch played by the test: recorded in C{self.fetches}, its
        cancellation recorded in C{self.cancelled}.
        """
        fetch: Deferred[Fetched] = Deferred(self.cancelled.append)
        self.fetches.append(fetch)
        return fetch

    def cache(self, ttl: float = 10.0) -> PoemCache:
        """
        A cache on C{self.clock} using L{fetch}.
        """
        clock: IReactorTime = self.clock
        return PoemCache(clock, self.fetch, ttl)

    def record(self, poem: bytes, order: list[int], n: int) -> None:
        """
        Note that waiter C{n} fired with the poem.
        """
        self.assertEqual(poem, POEM)
        order.append(n)

    def test_each_waiter_own_deferred(self) -> None:
        """
        Waiters share one fetch but get distinct Deferreds, fired in order.
        """
        cache = self.cache()
        order: list[int] = []
        waiters = [cache.get() for _ in range(3)]
        for n, waiter in enumerate(waiters):
            waiter.addCallback(self.record, order, n)
        self.assertEqual(len({id(w) for w in waiters}), 3)
        self.assertEqual(len(self.fetches), 1)
        self.fetches[0].callback(Fetched(POEM))
        self.assertEqual(order, [0, 1, 2])

    def test_stored_before_waiters_fire(self) -> None:
        """
        A waiter's callback that asks again is served from the cache.
        """
        cache = self.cache()
        again: list[Deferred[bytes]] = []
        cache.get().addCallback(lambda _: again.append(cache.get()))
        self.fetches[0].callback(Fetched(POEM))
        self.assertEqual(self.successResultOf(again[0]), POEM)
        self.assertEqual(len(self.fetches), 1)

    def test_failure_retry_from_errback(self) -> None:
        """
        A waiter's errback that asks again starts a fresh fetch.
        """
        cache = self.cache()
        again: list[Deferred[bytes]] = []

        def retry(reason: Failure) -> None:
            again.append(cache.get())

        cache.get().addErrback(retry)
        self.fetches[0].errback(ConnectionRefusedError())
        self.assertEqual(len(self.fetches), 2)
        self.assertNoResult(again[0])
        self.fetches[1].callback(Fetched(POEM))
        self.assertEqual(self.successResultOf(again[0]), POEM)

    def test_every_waiter_fails(self) -> None:
        """
        A failed fetch fails every waiter with the same error.
        """
        cache = self.cache()
        waiters = [cache.get() for _ in range(3)]
        self.fetches[0].errback(ConnectionRefusedError())
        for waiter in waiters:
            self.failureResultOf(waiter, ConnectionRefusedError)

    def test_not_cacheable(self) -> None:
        """
        A result marked not cacheable is served to the waiters of that fetch
        only; the next request fetches again.
        """
        cache = self.cache()
        waiters = [cache.get() for _ in range(2)]
        self.fetches[0].callback(Fetched(b"fallback", cacheable=False))
        self.assertEqual([self.successResultOf(w) for w in waiters], [b"fallback"] * 2)
        self.assertIsNone(cache.cached())
        cache.get()
        self.assertEqual(len(self.fetches), 2)

    def test_synchronous_fetch(self) -> None:
        """
        A fetch whose Deferred has already fired serves the caller at once.
        """
        cache = PoemCache(self.clock, lambda: succeed(Fetched(POEM)), 10.0)
        self.assertEqual(self.successResultOf(cache.get()), POEM)
        self.assertFalse(cache.fetching)
        failing = PoemCache(self.clock, lambda: fail(ConnectionRefusedError()), 10.0)
        self.failureResultOf(failing.get(), ConnectionRefusedError)
        self.assertFalse(failing.fetching)

    def test_cancel_one_of_two(self) -> None:
        """
        Cancelling one waiter fails it with L{CancelledError} and leaves the
        fetch running for the other.
        """
        cache = self.cache()
        first, second = cache.get(), cache.get()
        first.cancel()
        self.failureResultOf(first, CancelledError)
        self.assertEqual(self.cancelled, [])
        self.assertEqual(cache.waiting, 1)
        self.fetches[0].callback(Fetched(POEM))
        self.assertEqual(self.successResultOf(second), POEM)

    def test_cancel_all(self) -> None:
        """
        Cancelling the last waiter cancels the fetch, and the next request
        starts a fresh fetch that is not disturbed by the cancellation.
        """
        cache = self.cache()
        waiter = cache.get()
        waiter.cancel()
        self.failureResultOf(waiter, CancelledError)
        self.assertEqual(self.cancelled, [self.fetches[0]])
        self.assertFalse(cache.fetching)
        next_waiter = cache.get()
        self.assertEqual(len(self.fetches), 2)
        self.assertNoResult(next_waiter)
        self.fetches[1].callback(Fetched(POEM))
        self.assertEqual(self.successResultOf(next_waiter), POEM)

    def test_cancelled_fetch_late_result_ignored(self) -> None:
        """
        A cancelled fetch that still produces a result later (here: its
        chain waits on a slow clean-up after the cancellation) neither
        serves the waiters of the next fetch nor fills the cache.
        """
        cleanup: Deferred[Fetched] = Deferred()

        def slow_to_stop() -> Deferred[Fetched]:
            fetch = self.fetch()
            fetch.addErrback(lambda _: cleanup)
            return fetch

        cache = PoemCache(self.clock, slow_to_stop, 10.0)
        abandoned = cache.get()
        abandoned.cancel()
        self.failureResultOf(abandoned, CancelledError)
        next_waiter = cache.get()
        self.assertEqual(len(self.fetches), 2)
        cleanup.callback(Fetched(b"stale"))
        self.assertNoResult(next_waiter)
        self.assertIsNone(cache.cached())
        self.fetches[1].callback(Fetched(POEM))
        self.assertEqual(self.successResultOf(next_waiter), POEM)

    def test_ttl_boundary(self) -> None:
        """
        Fresh while C{now < fetched_at + ttl}; stale at equality.
        """
        cache = self.cache(ttl=2.0)
        self.clock.advance(1.0)
        cache.get()
        self.clock.advance(1.0)
        self.fetches[0].callback(Fetched(POEM))  # fetched_at = 2.0
        self.clock.advance(1.5)
        self.assertEqual(cache.cached(), POEM)
        self.clock.advance(0.5)
        self.assertIsNone(cache.cached())

    def test_clear(self) -> None:
        """
        L{PoemCache.clear} forgets the poem; the next request fetches.
        """
        cache = self.cache()
        cache.get()
        self.fetches[0].callback(Fetched(POEM))
        cache.clear()
        self.assertIsNone(cache.cached())
        cache.get()
        self.assertEqual(len(self.fetches), 2)


class DocumentExampleTests(SynchronousTestCase):
    """
    The example of C{docs/proxy.md} runs as shown.
    """

    def test_proxy(self) -> None:
        """
        The proxy example: transformed on the first fetch, then cached.
        """
        from tests.unit.test_testing_support import run_document_example

        run_document_example(self, "proxy", 1, guide="proxy.md")
