"""
Integration tests for L{poetry.server} and L{poetry.client} over real TCP:
the real reactor, servers on 127.0.0.1 port 0, every port and connection
cleaned up before a test ends so that trial's dirty-reactor check means
something.

Waiting for the server side's C{connectionLost} also covers the client side
when the client aborts: the client's socket is closed in its own
C{connectionLost}, and only that close lets the server see the connection
end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred, gatherResults, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import (
    IConnector,
    IDelayedCall,
    IListeningPort,
    IReactorTCP,
    IReactorTime,
)
from twisted.internet.protocol import Factory, Protocol, ServerFactory, connectionDone
from twisted.internet.task import Clock
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from poetry import poems
from poetry.client import PoemTimeout, get_poems, get_poetry, get_poetry_at
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory
from tests import socket_guard
from tests.unread_close import GreetingEndpoint, PoemAfterUnreadFactory

_E = TypeVar("_E", bound=BaseException)

# The classic tutorial's test poem.
TEST_POEM = b"This is a test.\nThis is only a test."


def _big_poem(size: int) -> bytes:
    """
    At least C{size} bytes of bundled verse (multi-byte characters
    included), cut to an odd length so no buffer size divides it.
    """
    verse = b"".join(poems.load(name) for name in poems.names())
    return (verse * (size // len(verse) + 2))[: size + 7]


class _TrackingWrapper(ProtocolWrapper):
    """
    Tell the factory when the wrapped server connection is lost.
    """

    factory: _Tracker

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.factory.connection_lost()


class _Tracker(WrappingFactory[_TrackingWrapper], ServerFactory[_TrackingWrapper]):
    """
    Wrap a server factory: count the connections it accepts and lets go of,
    so a test can wait until the server side of every connection is gone.

    @ivar accepted: connections accepted so far.
    @ivar lost: connections lost so far.
    """

    protocol = _TrackingWrapper
    noisy = False

    def __init__(self, wrapped: Factory[Any]) -> None:
        super().__init__(wrapped)
        self.accepted = 0
        self.lost = 0
        self._waiting: list[tuple[int, Deferred[None]]] = []

    def registerProtocol(self, p: _TrackingWrapper) -> None:
        super().registerProtocol(p)
        self.accepted += 1

    def connection_lost(self) -> None:
        self.lost += 1
        waiting, self._waiting = self._waiting, []
        for count, d in waiting:
            if self.lost >= count:
                d.callback(None)
            else:
                self._waiting.append((count, d))

    def wait_lost(self, count: int) -> Deferred[None]:
        """
        Fire once C{count} server connections have been lost.
        """
        if self.lost >= count:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._waiting.append((count, d))
        return d

    def all_lost(self) -> Deferred[None]:
        """
        Fire once every connection accepted so far has been lost.
        """
        return self.wait_lost(self.accepted)


class _Stall(Protocol):
    """
    A server that sends a little and then neither sends nor closes.
    """

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(b"partial")


@implementer(IReactorTCP, IReactorTime)
class _RealTCPVirtualTime:
    """
    Real TCP from the global reactor, time from a L{Clock}: lets a test
    decide exactly when a timeout fires while the connection is real.
    """

    def __init__(self, tcp: IReactorTCP, clock: Clock) -> None:
        self._tcp = tcp
        self._clock = clock

    def listenTCP(
        self,
        port: int,
        factory: ServerFactory[Any],
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        return self._tcp.listenTCP(port, factory, backlog, interface)

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        return self._tcp.connectTCP(host, port, factory, timeout, bindAddress)

    def seconds(self) -> float:
        return self._clock.seconds()

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> IDelayedCall:
        return self._clock.callLater(delay, callable, *args, **kw)

    def getDelayedCalls(self) -> Sequence[IDelayedCall]:
        return self._clock.getDelayedCalls()


class PoetryTCPTests(TestCase):
    """
    The poetry servers and client over real TCP on 127.0.0.1.
    """

    timeout = 30

    def _listen(self, factory: Factory[Any]) -> tuple[int, _Tracker]:
        """
        Serve C{factory} on 127.0.0.1, an OS-chosen port; at cleanup wait for
        the server side of every connection to be gone, then stop listening.
        """
        from twisted.internet import reactor

        tracker = _Tracker(factory)
        server: ServerFactory[Any] = tracker
        port = reactor.listenTCP(0, server, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(tracker.all_lost)
        address = port.getHost()
        assert isinstance(address, IPv4Address)
        return address.port, tracker

    async def _closed_port(self) -> int:
        """
        A port on which certainly nothing listens: listen on port 0, note
        the port, stop listening.
        """
        from twisted.internet import reactor

        placeholder: ServerFactory[Any] = ServerFactory()
        placeholder.protocol = Protocol
        port = reactor.listenTCP(0, placeholder, interface="127.0.0.1")
        address = port.getHost()
        assert isinstance(address, IPv4Address)
        stopped = port.stopListening()
        if stopped is not None:
            await stopped
        return address.port

    async def _fails_with(self, d: Deferred[Any], kind: type[_E]) -> _E:
        """
        Wait for C{d} and return the exception it fails with, which must be
        a C{kind}.
        """
        try:
            result = await d
        except kind as e:
            return e
        raise self.failureException(f"expected {kind.__name__}, got {result!r}")

    async def test_closeWithUnreadClientBytes(self) -> None:
        """
        A server that writes its poem and closes while the client's greeting
        is still unread: the client reads the whole poem and a clean close
        (the FIN goes before the RST) -- what the memory network shows too
        (C{tests.unit.test_poetry_on_memory_network.CloseWithUnreadTests}).
        """
        from twisted.internet import reactor

        port, tracker = self._listen(PoemAfterUnreadFactory(TEST_POEM, reactor))
        endpoint = GreetingEndpoint(TCP4ClientEndpoint(reactor, "127.0.0.1", port))
        self.assertEqual(await get_poetry_at(endpoint, reactor), TEST_POEM)
        await tracker.wait_lost(1)

    async def test_client(self) -> None:
        """
        The tutorial's first test: the client fetches the test poem from a
        test server.
        """
        from twisted.internet import reactor

        port, tracker = self._listen(PoetryServerFactory(TEST_POEM))
        poem = await get_poetry(reactor, "127.0.0.1", port)
        self.assertEqual(poem, TEST_POEM)
        await tracker.wait_lost(1)
        self.assertEqual(tracker.accepted, 1)

    async def test_failure(self) -> None:
        """
        The tutorial's second test: connecting where nothing listens fails
        with L{ConnectionRefusedError}.
        """
        from twisted.internet import reactor

        port = await self._closed_port()
        d = get_poetry(reactor, "127.0.0.1", port)
        await self._fails_with(d, ConnectionRefusedError)

    async def test_slowServer(self) -> None:
        """
        The slow server, paced by the real reactor with a short delay,
        delivers the whole poem (multi-byte characters split across chunks
        included), and the progress counts run up to its length.
        """
        from twisted.internet import reactor

        poem = poems.load("cafe")
        # 13-byte chunks split some of its multi-byte characters.
        self.assertTrue(any(0x80 <= poem[i] < 0xC0 for i in range(13, len(poem), 13)))
        port, tracker = self._listen(
            SlowPoetryServerFactory(poem, reactor, chunk_size=13, delay=0.01)
        )
        counts: list[int] = []
        received = await get_poetry(reactor, "127.0.0.1", port, progress=counts.append)
        self.assertEqual(received, poem)
        self.assertEqual(counts, sorted(set(counts)))
        self.assertEqual(counts[-1], len(poem))
        await tracker.wait_lost(1)

    async def test_tenConcurrentClients(self) -> None:
        """
        Ten clients fetching from one slow server at once each get the full
        poem, on ten connections.
        """
        from twisted.internet import reactor

        poem = poems.load("lighthouse")
        port, tracker = self._listen(
            SlowPoetryServerFactory(poem, reactor, chunk_size=32, delay=0.01)
        )
        fetches = [get_poetry(reactor, "127.0.0.1", port) for _ in range(10)]
        results = await gatherResults(fetches)
        self.assertEqual(results, [poem] * 10)
        await tracker.wait_lost(10)
        self.assertEqual(tracker.accepted, 10)

    async def test_timeout(self) -> None:
        """
        Against a server that never closes, C{timeout} fails the fetch with
        L{PoemTimeout} after that long on the real reactor, and the
        connection is closed: the server sees it end.
        """
        from twisted.internet import reactor

        port, tracker = self._listen(Factory.forProtocol(_Stall))
        d = get_poetry(reactor, "127.0.0.1", port, timeout=0.2)
        failure = await self._fails_with(d, PoemTimeout)
        self.assertEqual(failure.timeout, 0.2)
        await tracker.wait_lost(1)
        self.assertEqual(tracker.accepted, 1)

    async def test_timeoutCarriesBytes(self) -> None:
        """
        A timeout that fires mid-poem on a real connection carries exactly
        the bytes received and aborts the connection.  Time comes from a
        L{Clock} here, so that the timeout certainly fires after the bytes
        arrived.
        """
        from twisted.internet import reactor

        port, tracker = self._listen(Factory.forProtocol(_Stall))
        clock = Clock()
        arrived: Deferred[None] = Deferred()

        def progress(count: int) -> None:
            if count == len(b"partial"):
                arrived.callback(None)

        d = get_poetry(
            _RealTCPVirtualTime(reactor, clock),
            "127.0.0.1",
            port,
            timeout=5.0,
            progress=progress,
        )
        await arrived
        self.assertNoResult(d)
        clock.advance(5.0)
        failure = await self._fails_with(d, PoemTimeout)
        self.assertEqual((failure.connected, failure.received), (True, b"partial"))
        self.assertEqual(clock.getDelayedCalls(), [])
        await tracker.wait_lost(1)

    async def test_cancelWhileReceiving(self) -> None:
        """
        Cancelling mid-poem fails with L{CancelledError} and aborts the
        connection; the slow server sees it end and drops its pending call
        (else trial would report the reactor dirty).
        """
        from twisted.internet import reactor

        port, tracker = self._listen(
            SlowPoetryServerFactory(TEST_POEM, reactor, chunk_size=4, delay=60.0)
        )
        counts: list[int] = []
        arrived: Deferred[None] = Deferred()

        def progress(count: int) -> None:
            counts.append(count)
            if not arrived.called:
                arrived.callback(None)

        d = get_poetry(reactor, "127.0.0.1", port, progress=progress)
        await arrived
        d.cancel()
        await self._fails_with(d, CancelledError)
        await tracker.wait_lost(1)
        self.assertEqual(counts, [4])

    async def test_cancelWhileConnecting(self) -> None:
        """
        Cancelling before the connection is made fails with
        L{CancelledError} (not the refusal that would have followed) and
        leaves nothing behind.
        """
        from twisted.internet import reactor

        port = await self._closed_port()
        d = get_poetry(reactor, "127.0.0.1", port, timeout=5.0)
        d.cancel()
        await self._fails_with(d, CancelledError)

    async def test_megabytePoem(self) -> None:
        """
        A poem of over 1 MiB comes through the fast server intact, and the
        progress counts, one per read, run up to its length.
        """
        from twisted.internet import reactor

        poem = _big_poem(2**20)
        port, tracker = self._listen(PoetryServerFactory(poem))
        counts: list[int] = []
        received = await get_poetry(reactor, "127.0.0.1", port, progress=counts.append)
        self.assertEqual(len(received), len(poem))
        self.assertEqual(received, poem)
        self.assertEqual(counts, sorted(set(counts)))
        self.assertEqual(counts[-1], len(poem))
        # No read returns a whole mebibyte at once.
        self.assertGreater(len(counts), 1)
        await tracker.wait_lost(1)

    async def test_getPoems(self) -> None:
        """
        L{get_poems} over real TCP: one result per address, in order, a
        refusal carried beside two successes.
        """
        from twisted.internet import reactor

        fast, fast_tracker = self._listen(PoetryServerFactory(TEST_POEM))
        slow_poem = poems.load("clockwork")
        slow, slow_tracker = self._listen(
            SlowPoetryServerFactory(slow_poem, reactor, chunk_size=50, delay=0.01)
        )
        closed = await self._closed_port()
        addresses = [("127.0.0.1", slow), ("127.0.0.1", closed), ("127.0.0.1", fast)]
        results = await get_poems(reactor, addresses, timeout=20.0)
        self.assertEqual([r.address for r in results], addresses)
        self.assertEqual([r.poem for r in results], [slow_poem, None, TEST_POEM])
        refusal = results[1].failure
        assert refusal is not None
        self.assertTrue(refusal.check(ConnectionRefusedError))
        await gatherResults([fast_tracker.wait_lost(1), slow_tracker.wait_lost(1)])

    async def test_underSocketGuard(self) -> None:
        """
        With the unit run's socket guard installed, as when unit and
        integration tests share one process (C{trial tests}), sockets that
        no unit test makes still work: a poem is served and fetched.
        """
        from twisted.internet import reactor

        if not socket_guard.installed():
            socket_guard.install()
            self.addCleanup(socket_guard.uninstall)
        port, tracker = self._listen(PoetryServerFactory(TEST_POEM))
        self.assertEqual(await get_poetry(reactor, "127.0.0.1", port), TEST_POEM)
        await tracker.wait_lost(1)
