"""
Integration tests for L{poetry.transform} on the real reactor, 127.0.0.1
port 0: the server spoken to by a raw client that writes netstrings by hand,
every bad input followed by a good request, and L{transform} against the
real server and a closed port.

Every server-side connection is waited for (its C{connectionLost}) before a
test ends, so trial's dirty-reactor check stays meaningful.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from twisted.internet.defer import CancelledError, Deferred, gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IAddress, IReactorTCP, IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import ILogObserver, LogEvent, LogLevel, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from poetry.transform import (
    NoReply,
    TransformServerFactory,
    TransformServerProtocol,
    TransformService,
    TransformTimeout,
    transform,
)

_T = TypeVar("_T", bound=TestCase)

GOOD_REQUEST = b"14:cummingsify.HI,"
GOOD_REPLY = b"2:hi,"


def netstring(payload: bytes) -> bytes:
    """
    Frame C{payload} as a netstring.
    """
    return str(len(payload)).encode("ascii") + b":" + payload + b","


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _deferred(
    test: Callable[[_T], Coroutine[Any, Any, None]],
) -> Callable[[_T], Deferred[None]]:
    """
    Run an C{async def} test method as a L{Deferred}, for trial.
    """

    @functools.wraps(test)
    def run(self: _T) -> Deferred[None]:
        return Deferred.fromCoroutine(test(self))

    return run


@implementer(ILogObserver)
class _Collector:
    def __init__(self) -> None:
        self.events: list[LogEvent] = []

    def __call__(self, event: LogEvent) -> None:
        if event.get("log_namespace") == "poetry.transform":
            self.events.append(event)


class _TrackedProtocol(TransformServerProtocol):
    """
    Fire C{lost} once the server side of the connection is gone.
    """

    def __init__(self, lost: Deferred[None], factory: TransformServerFactory) -> None:
        super().__init__(
            factory.service,
            factory.clock,
            max_length=factory.max_length,
            idle_timeout=factory.idle_timeout,
        )
        self.lost = lost

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.lost.callback(None)


class _TrackedFactory(TransformServerFactory):
    """
    A L{TransformServerFactory} that remembers when each connection it
    served was lost.
    """

    def __init__(
        self, service: TransformService, clock: IReactorTime, **kwargs: Any
    ) -> None:
        super().__init__(service, clock, **kwargs)
        self.lost: list[Deferred[None]] = []

    def buildProtocol(self, addr: IAddress | None) -> TransformServerProtocol:
        lost: Deferred[None] = Deferred()
        self.lost.append(lost)
        protocol = _TrackedProtocol(lost, self)
        protocol.factory = self
        return protocol

    def all_lost(self) -> Deferred[list[None]]:
        return gatherResults(list(self.lost))


class _RawClient(Protocol):
    """
    Write the given chunks on connecting; collect the reply; fire C{done}
    when the connection is lost, noting the reason in C{reason}.
    """

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.received = b""
        self.local = ""
        self.reason: Failure | None = None
        self.done: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        assert self.transport is not None
        host = self.transport.getHost()
        self.local = f"{host.host}:{host.port}"  # type: ignore[attr-defined]  # an IPv4Address on TCP
        for chunk in self.chunks:
            self.transport.write(chunk)

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        self.done.callback(None)


class _TransformTCPTestCase(TestCase):
    timeout = 30

    def setUp(self) -> None:
        self.service = TransformService()
        self.held: list[Deferred[bytes]] = []
        self.holding: Deferred[None] = Deferred()
        self.service.register("hold", self._hold, needs_text=False)
        collector = _Collector()
        self.events = collector.events
        globalLogPublisher.addObserver(collector)
        self.addCleanup(globalLogPublisher.removeObserver, collector)

    def _hold(self, poem: bytes) -> Deferred[bytes]:
        """
        A transform that answers only when the test says so.
        """
        held: Deferred[bytes] = Deferred()
        self.held.append(held)
        if not self.holding.called:
            self.holding.callback(None)
        return held

    def listen(self, **kwargs: Any) -> tuple[_TrackedFactory, int]:
        reactor = _reactor()
        factory = _TrackedFactory(self.service, reactor, **kwargs)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(factory.all_lost)
        return factory, port.getHost().port

    async def exchange(self, port: int, *chunks: bytes) -> _RawClient:
        """
        Connect a raw client that writes C{chunks}; wait for the close.
        """
        client = _RawClient(*chunks)
        endpoint = TCP4ClientEndpoint(_reactor(), "127.0.0.1", port)
        await connectProtocol(endpoint, client)
        await client.done
        return client

    async def assertRejected(
        self, factory: _TrackedFactory, port: int, reason: str, *chunks: bytes
    ) -> None:
        """
        A raw client writing C{chunks} is closed without a reply, the server
        logs one warning naming that client and C{reason}, and a good client
        is served afterwards.
        """
        self.events.clear()
        client = await self.exchange(port, *chunks)
        self.assertEqual(client.received, b"")
        await factory.lost[-1]
        warnings = [e for e in self.events if e["log_level"] == LogLevel.warn]
        self.assertEqual([e["reason"] for e in warnings], [reason])
        self.assertEqual(warnings[0]["peer"], client.local)
        good = await self.exchange(port, GOOD_REQUEST)
        self.assertEqual(good.received, GOOD_REPLY)


class TransformServerTCPTests(_TransformTCPTestCase):
    """
    The transform server over real TCP, spoken to by hand.
    """

    @_deferred
    async def test_serves(self) -> None:
        """
        A hand-written request gets the transformed poem in one netstring,
        and the server closes the connection cleanly.
        """
        _, port = self.listen()
        client = await self.exchange(port, b"14:cummingsify.HI,")
        self.assertEqual(client.received, b"2:hi,")
        self.assertEqual(
            (await self.exchange(port, b"16:upper.a poem. ok,")).received,
            b"10:A POEM. OK,",
        )

    @_deferred
    async def test_servesInPieces(self) -> None:
        """
        A request written in several pieces is served.
        """
        _, port = self.listen()
        client = await self.exchange(port, b"1", b"4:cummin", b"gsify.H", b"I,")
        self.assertEqual(client.received, b"2:hi,")

    @_deferred
    async def test_malformed(self) -> None:
        """
        A malformed netstring is closed without a reply; the next client is
        served.
        """
        factory, port = self.listen()
        await self.assertRejected(factory, port, "malformed-netstring", b"hello,")

    @_deferred
    async def test_tooLongDefault(self) -> None:
        """
        A request over the default 99,999 bytes -- sent in full -- is closed
        without a reply; the next client is served.
        """
        factory, port = self.listen()
        payload = b"upper." + b"x" * 99_995
        self.assertEqual(len(payload), 100_001)
        await self.assertRejected(factory, port, "too-long", netstring(payload))

    @_deferred
    async def test_tooLongConfigured(self) -> None:
        """
        With C{max_length=20}, a 21-byte payload is closed without a reply;
        the next (18-byte) request is served.
        """
        factory, port = self.listen(max_length=20)
        await self.assertRejected(
            factory, port, "too-long", b"21:upper.aaaaaaaaaaaaaaa,"
        )

    @_deferred
    async def test_noSeparator(self) -> None:
        """
        A payload without a C{.} is closed without a reply.
        """
        factory, port = self.listen()
        await self.assertRejected(factory, port, "no-separator", b"5:upper,")

    @_deferred
    async def test_unknownTransform(self) -> None:
        """
        An unknown transform name is closed without a reply.
        """
        factory, port = self.listen()
        await self.assertRejected(
            factory, port, "unknown-transform", b"16:__class__.a poem,"
        )

    @_deferred
    async def test_notUTF8(self) -> None:
        """
        A poem that is not UTF-8 for a text transform is closed without a
        reply.
        """
        factory, port = self.listen()
        await self.assertRejected(factory, port, "not-utf8", b"8:upper.\xff\xfe,")

    @_deferred
    async def test_secondRequest(self) -> None:
        """
        Two requests on one connection are closed without a reply (the first
        is held, so the second always arrives before any reply).
        """
        factory, port = self.listen()
        await self.assertRejected(
            factory, port, "second-request", b"6:hold.x,", b"6:hold.y,"
        )

    @_deferred
    async def test_idle(self) -> None:
        """
        A client that sends nothing is closed after C{idle_timeout}.
        """
        factory, port = self.listen(idle_timeout=0.2)
        await self.assertRejected(factory, port, "idle-timeout")

    @_deferred
    async def test_halfRequest(self) -> None:
        """
        A client that sends half a request and stalls is closed after
        C{idle_timeout}.
        """
        factory, port = self.listen(idle_timeout=0.2)
        await self.assertRejected(factory, port, "idle-timeout", b"14:cummin")

    @_deferred
    async def test_transformRaises(self) -> None:
        """
        A transform that raises is closed without a reply, logged at
        I{warn}.
        """

        def broken(poem: bytes) -> bytes:
            raise RuntimeError("no verse today")

        self.service.register("broken", broken, needs_text=False)
        factory, port = self.listen()
        await self.assertRejected(factory, port, "transform-failed", b"8:broken.x,")

    @_deferred
    async def test_othersUndisturbed(self) -> None:
        """
        A client waiting for a held transform is still answered after
        another client is rejected.
        """
        factory, port = self.listen()
        waiting = _RawClient(b"10:hold.poem!,")
        endpoint = TCP4ClientEndpoint(_reactor(), "127.0.0.1", port)
        await connectProtocol(endpoint, waiting)
        await self.holding
        await self.assertRejected(factory, port, "malformed-netstring", b"junk")
        self.assertFalse(waiting.done.called)
        self.held[0].callback(b"released")
        await waiting.done
        self.assertEqual(waiting.received, b"8:released,")


class TransformClientTCPTests(_TransformTCPTestCase):
    """
    L{transform} against the real server.
    """

    @_deferred
    async def test_transform(self) -> None:
        """
        L{transform} gets the transformed poem.
        """
        _, port = self.listen()
        reactor: IReactorTCP = _reactor()
        poem = "Été. Hiver.\n".encode()
        result = await transform(reactor, "127.0.0.1", port, "upper", poem, timeout=10)
        self.assertEqual(result, "ÉTÉ. HIVER.\n".encode())

    @_deferred
    async def test_rejected(self) -> None:
        """
        A request the server rejects fails with L{NoReply}.
        """
        factory, port = self.listen()
        with self.assertRaises(NoReply):
            await transform(_reactor(), "127.0.0.1", port, "nope", b"x", timeout=10)
        await factory.lost[-1]
        self.assertEqual(
            [e["reason"] for e in self.events if e["log_level"] == LogLevel.warn],
            ["unknown-transform"],
        )

    @_deferred
    async def test_timeout(self) -> None:
        """
        A reply that does not come in time fails with L{TransformTimeout};
        the server sees the connection go and cancels the transform.
        """
        factory, port = self.listen()
        with self.assertRaises(TransformTimeout):
            await transform(_reactor(), "127.0.0.1", port, "hold", b"x", timeout=0.3)
        await factory.lost[-1]
        self.assertTrue(self.held[0].called)

    @_deferred
    async def test_cancel(self) -> None:
        """
        Cancelling while the server works fails with L{CancelledError} and
        the server cancels the transform.
        """
        factory, port = self.listen()
        result = transform(_reactor(), "127.0.0.1", port, "hold", b"x")
        await self.holding
        result.cancel()
        with self.assertRaises(CancelledError):
            await result
        await factory.lost[-1]
        self.assertTrue(self.held[0].called)

    @_deferred
    async def test_refused(self) -> None:
        """
        L{transform} to a port nobody listens on fails with
        L{ConnectionRefusedError}.
        """
        reactor = _reactor()
        port = reactor.listenTCP(
            0, TransformServerFactory(self.service, reactor), interface="127.0.0.1"
        )
        number = port.getHost().port
        await port.stopListening()
        with self.assertRaises(ConnectionRefusedError):
            await transform(reactor, "127.0.0.1", number, "upper", b"x", timeout=10)
