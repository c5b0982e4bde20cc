"""
Integration tests for L{poetry.proxy}: the proxy on the real reactor, on
127.0.0.1 port 0, in front of a real (slow) poetry server.

Overlap is made certain, not hoped for: the upstream server's connections are
held until the proxy reports that every client is waiting, so the test does
not depend on how fast the clients happen to connect.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, DeferredList, gatherResults, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IAddress, IListeningPort
from twisted.internet.protocol import Factory, Protocol, ServerFactory, connectionDone
from twisted.logger import LogLevel, capturedLogs, formatEvent
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from poetry.client import PoemTruncated, get_poetry
from poetry.proxy import PoetryProxyFactory
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory
from poetry.transform import TransformServerFactory, TransformService

POEM = (
    b"Five readers knock,\n"
    b"one courier goes\n"
    b"down the wire and back:\n"
    b"the proxy shares what it knows.\n"
)


class _HeldProtocolWrapper(ProtocolWrapper):
    """
    Connect the wrapped protocol only once the factory's gate has fired; a
    connection lost before then is reported to the factory directly and the
    wrapped protocol never sees it.  (Only for peers that send nothing
    before the gate opens, as poetry clients do.)
    """

    factory: _Tracker
    _released = False
    _lost = False

    def makeConnection(self, transport: Any) -> None:
        self.factory.gate.addCallback(self._release, transport)

    def _release(self, ignored: None, transport: Any) -> None:
        if not self._lost:
            self._released = True
            ProtocolWrapper.makeConnection(self, transport)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._lost = True
        if self._released:
            ProtocolWrapper.connectionLost(self, reason)
        else:
            self.factory.connection_lost(self)


class _Tracker(
    WrappingFactory[_HeldProtocolWrapper], ServerFactory[_HeldProtocolWrapper]
):
    """
    Wrap a server factory: count the connections it accepts, hold each one
    until C{gate} fires, and tell when every connection has been lost.

    @ivar accepted: how many connections were accepted.
    @ivar gate: a L{Deferred}; connections are passed to the wrapped
        protocol once it has fired (already fired: at once).
    @ivar first_accepted: fires when the first connection is accepted.
    """

    protocol = _HeldProtocolWrapper

    def __init__(self, wrapped: Factory[Any], gate: Deferred[None]) -> None:
        super().__init__(wrapped)
        self.gate = gate
        self.accepted = 0
        self.first_accepted: Deferred[None] = Deferred()
        self._lost: list[Deferred[None]] = []
        self._open: dict[ProtocolWrapper, Deferred[None]] = {}

    def buildProtocol(self, addr: IAddress | None) -> _HeldProtocolWrapper:
        self.accepted += 1
        protocol = super().buildProtocol(addr)
        lost: Deferred[None] = Deferred()
        self._lost.append(lost)
        self._open[protocol] = lost
        if not self.first_accepted.called:
            self.first_accepted.callback(None)
        return protocol

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        super().unregisterProtocol(p)
        self._open.pop(p).callback(None)

    def connection_lost(self, wrapper: ProtocolWrapper) -> None:
        """
        Note that C{wrapper}'s connection is gone, for a wrapper that was
        never released (so never registered).
        """
        self._open.pop(wrapper).callback(None)

    def all_lost(self) -> Deferred[Any]:
        """
        Fire when every connection accepted so far has been lost.
        """
        return DeferredList(list(self._lost))


async def _outcome(fetch: Deferred[bytes]) -> bytes | Exception:
    """
    The poem C{fetch} fires with, or the exception it fails with (returned
    rather than raised, and not as a L{Failure}, which a L{Deferred} would
    treat as a failure).
    """
    try:
        return await fetch
    except Exception as error:
        return error


class _HangingUp(Protocol):
    """
    A client that hangs up when told to, and says when it is gone.
    """

    def __init__(self) -> None:
        self.lost: Deferred[None] = Deferred()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback(None)


class _ReadyProxy(PoetryProxyFactory):
    """
    A proxy that fires C{ready} once C{expected} clients wait on a fetch.
    """

    def __init__(self, *args: Any, expected: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.ready: Deferred[None] = Deferred()

    def request(self, peer: IAddress | None) -> Deferred[bytes]:
        poem = super().request(peer)
        if self.cache.waiting >= self.expected and not self.ready.called:
            self.ready.callback(None)
        return poem


class ProxyTCPTests(TestCase):
    """
    The caching proxy over real TCP.
    """

    timeout = 20

    def listen(self, factory: ServerFactory[Any]) -> int:
        """
        Listen with C{factory} on 127.0.0.1, port 0, stopped on cleanup.

        @return: the port number.
        """
        from twisted.internet import reactor

        port: IListeningPort = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port.getHost().port  # type: ignore[attr-defined, no-any-return]  # listenTCP binds an IPv4Address, which has .port

    def track(
        self, factory: Factory[Any], gate: Deferred[None] | None = None
    ) -> _Tracker:
        """
        Wrap C{factory} in a L{_Tracker} (whose connections are held until
        C{gate} fires; not at all if C{gate} is L{None}); on cleanup, wait for
        all of its connections to be lost.  Call before L{listen}, so that
        this cleanup runs after the port has stopped.
        """
        tracker = _Tracker(factory, succeed(None) if gate is None else gate)
        self.addCleanup(tracker.all_lost)
        return tracker

    async def closed_port(self) -> int:
        """
        A port on 127.0.0.1 on which nothing listens: listen on 0, note the
        port, stop listening.
        """
        from twisted.internet import reactor

        port = reactor.listenTCP(0, ServerFactory(), interface="127.0.0.1")
        number: int = port.getHost().port  # type: ignore[attr-defined]  # listenTCP binds an IPv4Address, which has .port
        stopped = port.stopListening()
        if stopped is not None:
            await stopped
        return number

    async def test_five_clients_one_upstream_connection(self) -> None:
        """
        Five concurrent clients of a proxy in front of a slow server all
        receive the whole poem, and the upstream server accepts exactly one
        connection; a later client is served from the cache without a
        second one.
        """
        from twisted.internet import reactor

        slow = SlowPoetryServerFactory(POEM, reactor, chunk_size=16, delay=0.01)
        proxy = _ReadyProxy(reactor, "127.0.0.1", 0, expected=5)
        upstream = self.track(slow, proxy.ready)
        proxy.upstream_port = self.listen(upstream)
        proxy_port = self.track(proxy)
        port = self.listen(proxy_port)

        fetches = [
            get_poetry(reactor, "127.0.0.1", port, timeout=10.0) for _ in range(5)
        ]
        poems = await gatherResults(fetches)
        self.assertEqual(poems, [POEM] * 5)
        self.assertEqual(upstream.accepted, 1)
        self.assertEqual(proxy_port.accepted, 5)

        again = await get_poetry(reactor, "127.0.0.1", port, timeout=10.0)
        self.assertEqual(again, POEM)
        self.assertEqual(upstream.accepted, 1)
        self.assertEqual(proxy_port.accepted, 6)

    async def test_upstream_down(self) -> None:
        """
        When the upstream server is down, every concurrent client of the
        proxy fails with L{PoemTruncated} -- an aborted connection, never an
        empty poem -- and the refusal is logged at warn, once.
        """
        from twisted.internet import reactor

        closed = await self.closed_port()
        proxy = self.track(PoetryProxyFactory(reactor, "127.0.0.1", closed), Deferred())
        proxy.gate.callback(None)
        port = self.listen(proxy)
        with capturedLogs() as events:
            outcomes = await gatherResults(
                [
                    Deferred.fromCoroutine(
                        _outcome(get_poetry(reactor, "127.0.0.1", port, timeout=10.0))
                    )
                    for _ in range(3)
                ]
            )
        for outcome in outcomes:
            assert isinstance(outcome, PoemTruncated), outcome
            self.assertEqual(outcome.received, b"")
        warnings = [
            formatEvent(e)
            for e in events
            if e["log_level"] == LogLevel.warn
            and e.get("log_namespace") == "poetry.proxy"
        ]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn(f"127.0.0.1:{closed}", warnings[0])
        self.assertIn("refused", warnings[0].lower())

    async def test_last_client_leaving_drops_upstream(self) -> None:
        """
        When the only waiting client hangs up before the poem arrives, the
        proxy aborts its upstream connection: the upstream server sees the
        connection lost.
        """
        from twisted.internet import reactor

        hold: Deferred[None] = Deferred()
        slow = SlowPoetryServerFactory(POEM, reactor, chunk_size=16, delay=0.01)
        upstream = self.track(slow, hold)
        proxy = self.track(
            PoetryProxyFactory(reactor, "127.0.0.1", self.listen(upstream))
        )
        port = self.listen(proxy)

        client = _HangingUp()
        await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), client)
        await upstream.first_accepted
        assert client.transport is not None
        client.transport.loseConnection()
        await client.lost
        # The upstream connection, held before the server wrote anything, is
        # lost without the gate ever opening.
        await upstream.all_lost()
        self.assertEqual(upstream.accepted, 1)
        self.assertFalse(hold.called)

    async def test_transform(self) -> None:
        """
        With C{transform=}, clients receive the poem as transformed by a real
        transform server, and a later client is served the transformed poem
        from the cache without contacting either server again.
        """
        from twisted.internet import reactor

        upstream = self.track(PoetryServerFactory(POEM))
        upstream_port = self.listen(upstream)
        transformer = self.track(TransformServerFactory(TransformService(), reactor))
        transform_port = self.listen(transformer)
        proxy = self.track(
            PoetryProxyFactory(
                reactor,
                "127.0.0.1",
                upstream_port,
                transform=("127.0.0.1", transform_port, "upper"),
            )
        )
        port = self.listen(proxy)

        poems = await gatherResults(
            [get_poetry(reactor, "127.0.0.1", port, timeout=10.0) for _ in range(2)]
        )
        self.assertEqual(poems, [POEM.upper()] * 2)
        again = await get_poetry(reactor, "127.0.0.1", port, timeout=10.0)
        self.assertEqual(again, POEM.upper())
        self.assertEqual((upstream.accepted, transformer.accepted), (1, 1))
