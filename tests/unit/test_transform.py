"""
Tests for L{poetry.transform}'s service and server: L{TransformService},
L{TransformServerFactory} and L{TransformServerProtocol}, driven through
L{StringTransportWithDisconnection} and L{Clock}.

L{BadInputTests} has one test per row of the bad-input table in
C{docs/transform.md}; every one of them ends by serving a good client from
the same factory.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport, StringTransportWithDisconnection
from twisted.logger import (
    ILogObserver,
    LogEvent,
    LogLevel,
    formatEvent,
    globalLogPublisher,
)
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from poetry.transform import (
    DEFAULT_MAX_LENGTH,
    PoemNotText,
    TransformServerFactory,
    TransformServerProtocol,
    TransformService,
    UnknownTransform,
)

_NAMESPACE = "poetry.transform"


def netstring(payload: bytes) -> bytes:
    """
    Frame C{payload} as a netstring, for building requests and expected
    replies.
    """
    return str(len(payload)).encode("ascii") + b":" + payload + b","


@implementer(ILogObserver)
class _Collector:
    """
    Collect the log events of L{poetry.transform}.
    """

    def __init__(self) -> None:
        self.events: list[LogEvent] = []

    def __call__(self, event: LogEvent) -> None:
        if event.get("log_namespace") == _NAMESPACE:
            self.events.append(event)


class _Connection:
    """
    One client connection to a server protocol, over a
    L{StringTransportWithDisconnection} whose peer is C{10.0.0.<n>:4000+n}.
    """

    def __init__(self, factory: TransformServerFactory, n: int) -> None:
        self.peer = f"10.0.0.{n}:{4000 + n}"
        address = IPv4Address("TCP", f"10.0.0.{n}", 4000 + n)
        protocol = factory.buildProtocol(address)
        self.protocol = protocol
        self.transport = StringTransportWithDisconnection(peerAddress=address)
        self.transport.protocol = protocol
        protocol.makeConnection(self.transport)

    def send(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.protocol.dataReceived(chunk)

    @property
    def closed(self) -> bool:
        """
        Whether the server closed the connection (and was told it is lost).
        """
        return not self.transport.connected

    def disconnect(self) -> None:
        """
        The client goes away.
        """
        self.transport.loseConnection()


class _ServerTestMixin(SynchronousTestCase):
    """
    A factory on a L{Clock}, with every event logged by L{poetry.transform}
    collected in C{self.events}.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.service = TransformService()
        self.factory = TransformServerFactory(self.service, self.clock)
        self._connections = 0
        collector = _Collector()
        self.events = collector.events
        globalLogPublisher.addObserver(collector)
        self.addCleanup(globalLogPublisher.removeObserver, collector)

    def connect(self, factory: TransformServerFactory | None = None) -> _Connection:
        self._connections += 1
        return _Connection(factory or self.factory, self._connections)

    def rejections(self) -> list[LogEvent]:
        return [e for e in self.events if e["log_level"] == LogLevel.warn]

    def assertClosedWithoutReply(self, connection: _Connection) -> None:
        self.assertEqual(connection.transport.value(), b"")
        self.assertTrue(connection.closed)

    def assertRejected(self, connection: _Connection, reason: str) -> LogEvent:
        """
        The connection was closed without a reply, and exactly one warning
        was logged for it, naming its peer and C{reason}.
        """
        self.assertClosedWithoutReply(connection)
        warnings = self.rejections()
        self.assertEqual(len(warnings), 1, [formatEvent(e) for e in warnings])
        [event] = warnings
        self.assertEqual(event["reason"], reason)
        self.assertEqual(event["peer"], connection.peer)
        text = formatEvent(event)
        self.assertIn(connection.peer, text)
        self.assertIn(reason, text)
        # Never an error-level event: trial would fail the test on one.
        self.assertNotIn("log_failure", event)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        return event

    def assertServesGoodClient(
        self, factory: TransformServerFactory | None = None
    ) -> None:
        """
        A good client connecting now is served correctly.
        """
        good = self.connect(factory)
        # 20 bytes: within every limit the tests configure.
        good.send(netstring(b"cummingsify.Good DAY"))
        self.assertEqual(good.transport.value(), netstring(b"good day"))
        self.assertTrue(good.closed)


class TransformServiceTests(SynchronousTestCase):
    """
    Tests for L{TransformService}.
    """

    def test_builtinNames(self) -> None:
        """
        The built-in transforms are registered, and L{TransformService.names}
        lists them sorted.
        """
        self.assertEqual(
            TransformService().names(), ["cummingsify", "reverse-lines", "upper"]
        )

    def test_noBuiltins(self) -> None:
        """
        With C{builtins=False} the registry starts empty.
        """
        self.assertEqual(TransformService(builtins=False).names(), [])

    def test_cummingsify(self) -> None:
        """
        C{cummingsify} lower-cases the decoded text, non-ASCII letters
        included, and re-encodes it as UTF-8.
        """
        poem = "ÉTÉ in PARIS\nÀ BIENTÔT\n".encode()
        result = self.successResultOf(TransformService().apply("cummingsify", poem))
        self.assertEqual(result, "été in paris\nà bientôt\n".encode())

    def test_upper(self) -> None:
        """
        C{upper} upper-cases by Unicode's rules, even where that changes the
        length (C{ß} becomes C{SS}).
        """
        poem = "straße café\n".encode()
        result = self.successResultOf(TransformService().apply("upper", poem))
        self.assertEqual(result, "STRASSE CAFÉ\n".encode())

    def test_reverseLines(self) -> None:
        """
        C{reverse-lines} reverses the order of the lines, keeping a final line
        ending at the end; carriage returns stay with their line.
        """
        service = TransformService()
        cases = {
            b"one\ntwo\nthree\n": b"three\ntwo\none\n",
            b"one\ntwo": b"two\none",
            b"one\r\ntwo\r\n": b"two\r\none\r\n",
            b"single": b"single",
            b"": b"",
            b"\n": b"\n",
            b"a\n\nb\n": b"b\n\na\n",
        }
        for poem, expected in cases.items():
            self.assertEqual(
                self.successResultOf(service.apply("reverse-lines", poem)),
                expected,
                poem,
            )

    def test_reverseLinesAcceptsAnyBytes(self) -> None:
        """
        C{reverse-lines} does not need text: a poem that is not UTF-8 is
        transformed like any other.
        """
        result = self.successResultOf(
            TransformService().apply("reverse-lines", b"\xff\xfe\n\x80\n")
        )
        self.assertEqual(result, b"\x80\n\xff\xfe\n")

    def test_registerCustom(self) -> None:
        """
        A registered transform is listed and applied.
        """
        service = TransformService(builtins=False)
        service.register("double", lambda poem: poem * 2, needs_text=False)
        self.assertEqual(service.names(), ["double"])
        self.assertEqual(self.successResultOf(service.apply("double", b"ab")), b"abab")

    def test_registerDeferred(self) -> None:
        """
        A transform may return a L{Deferred}; L{TransformService.apply} fires
        when it does.
        """
        service = TransformService(builtins=False)
        later: Deferred[bytes] = Deferred()
        service.register("later", lambda poem: later, needs_text=False)
        result = service.apply("later", b"x")
        self.assertNoResult(result)
        later.callback(b"done")
        self.assertEqual(self.successResultOf(result), b"done")

    def test_registerBadName(self) -> None:
        """
        Names must be 1 to 64 ASCII letters, digits, C{-} or C{_}: anything
        else, including a C{.} or a name that is not even a L{str}, is
        refused with L{ValueError}.
        """
        service = TransformService(builtins=False)
        names: list[Any] = ["", "a.b", "café", "has space", "x" * 65, "new\nline"]
        for name in [*names, b"up", 5]:
            with self.assertRaises(ValueError, msg=repr(name)):
                service.register(name, bytes.upper, needs_text=False)
        self.assertEqual(service.names(), [])

    def test_registerDuplicate(self) -> None:
        """
        Registering a taken name raises L{ValueError} and keeps the original.
        """
        service = TransformService()
        with self.assertRaises(ValueError):
            service.register("upper", bytes.lower, needs_text=False)
        self.assertEqual(self.successResultOf(service.apply("upper", b"a")), b"A")

    def test_applyUnknown(self) -> None:
        """
        Applying an unregistered name fails with L{UnknownTransform}, which
        names it and lists the known ones; attribute names of the service are
        not reachable.
        """
        service = TransformService()
        for name in ["nope", "register", "apply", "__class__", "_run"]:
            error = self.failureResultOf(
                service.apply(name, b"x"), UnknownTransform
            ).value
            assert isinstance(error, UnknownTransform)
            self.assertEqual(error.name, name)
            self.assertIn("cummingsify", str(error))

    def test_applyNotText(self) -> None:
        """
        A text transform given a poem that is not UTF-8 fails with
        L{PoemNotText} and is never called.
        """
        calls: list[bytes] = []

        def record(poem: bytes) -> bytes:
            calls.append(poem)
            return poem

        service = TransformService(builtins=False)
        service.register("text", record, needs_text=True)
        failure = self.failureResultOf(service.apply("text", b"ok\xff"), PoemNotText)
        self.assertIn("byte 2", str(failure.value))
        self.assertEqual(calls, [])

    def test_applyRaises(self) -> None:
        """
        An exception raised by a transform becomes a failed L{Deferred}.
        """
        service = TransformService(builtins=False)

        def broken(poem: bytes) -> bytes:
            raise ZeroDivisionError("no verse")

        service.register("broken", broken, needs_text=False)
        failure = self.failureResultOf(service.apply("broken", b"x"), ZeroDivisionError)
        self.assertEqual(failure.getErrorMessage(), "no verse")

    def test_applyNotBytes(self) -> None:
        """
        A transform that returns (or fires with) something other than
        L{bytes} fails the request with L{TypeError}.
        """
        service = TransformService(builtins=False)
        service.register("text", lambda poem: poem.decode(), needs_text=False)  # type: ignore[arg-type,return-value]  # deliberately wrong result type
        service.register("later", lambda poem: succeed("str"), needs_text=False)  # type: ignore[arg-type]  # deliberately wrong result type
        for name in ["text", "later"]:
            failure = self.failureResultOf(service.apply(name, b"x"), TypeError)
            self.assertIn("returned str, not bytes", failure.getErrorMessage())


class TransformServerFactoryTests(SynchronousTestCase):
    """
    Tests for L{TransformServerFactory}'s arguments.
    """

    def test_defaults(self) -> None:
        """
        The defaults are Twisted's netstring limit and a 30 second idle
        timeout.
        """
        factory = TransformServerFactory(TransformService(), Clock())
        self.assertEqual(factory.max_length, DEFAULT_MAX_LENGTH)
        self.assertEqual(DEFAULT_MAX_LENGTH, 99_999)
        self.assertEqual(factory.idle_timeout, 30.0)

    def test_badArguments(self) -> None:
        """
        A C{max_length} below 1 or an C{idle_timeout} that is not positive is
        refused.
        """
        service, clock = TransformService(), Clock()
        with self.assertRaises(ValueError):
            TransformServerFactory(service, clock, max_length=0)
        with self.assertRaises(TypeError):
            TransformServerFactory(service, clock, max_length=True)
        for idle in [0.0, -1.0, float("nan")]:
            with self.assertRaises(ValueError, msg=repr(idle)):
                TransformServerFactory(service, clock, idle_timeout=idle)

    def test_buildProtocol(self) -> None:
        """
        L{TransformServerFactory.buildProtocol} builds a
        L{TransformServerProtocol} with the factory's limit.
        """
        factory = TransformServerFactory(TransformService(), Clock(), max_length=42)
        protocol = factory.buildProtocol(None)
        self.assertIsInstance(protocol, TransformServerProtocol)
        self.assertIs(protocol.factory, factory)
        self.assertEqual(protocol.MAX_LENGTH, 42)


class ServeTests(_ServerTestMixin):
    """
    Good requests are answered with one netstring, then the connection is
    closed.
    """

    def test_eachBuiltin(self) -> None:
        """
        Each built-in transform is served: the reply is the transformed poem
        in one netstring, and the server closes the connection.
        """
        poem = b"The SEA\nthe Sky\n"
        expected = {
            "cummingsify": b"the sea\nthe sky\n",
            "upper": b"THE SEA\nTHE SKY\n",
            "reverse-lines": b"the Sky\nThe SEA\n",
        }
        for name, result in expected.items():
            connection = self.connect()
            connection.send(netstring(name.encode("ascii") + b"." + poem))
            self.assertEqual(connection.transport.value(), netstring(result), name)
            self.assertTrue(connection.closed)
        self.assertEqual(self.rejections(), [])

    def test_literalBytes(self) -> None:
        """
        The tutorial's wire format, written out by hand.
        """
        connection = self.connect()
        connection.send(b"14:cummingsify.HI,")
        self.assertEqual(connection.transport.value(), b"2:hi,")

    def test_splitAtFirstDot(self) -> None:
        """
        The request is split at the first C{.}: later dots belong to the poem.
        """
        connection = self.connect()
        connection.send(netstring(b"upper.a.b.c"))
        self.assertEqual(connection.transport.value(), netstring(b"A.B.C"))

    def test_emptyPoem(self) -> None:
        """
        An empty poem is a valid request, answered with an empty netstring.
        """
        connection = self.connect()
        connection.send(netstring(b"upper."))
        self.assertEqual(connection.transport.value(), b"0:,")
        self.assertTrue(connection.closed)

    def test_requestByteByByte(self) -> None:
        """
        A request that arrives one byte at a time is served once complete.
        """
        connection = self.connect()
        request = netstring(b"upper.slowly")
        for index in range(len(request)):
            self.assertEqual(connection.transport.value(), b"")
            connection.send(request[index : index + 1])
        self.assertEqual(connection.transport.value(), netstring(b"SLOWLY"))

    def test_servedIsLogged(self) -> None:
        """
        Serving a request logs an I{info} event naming the peer and the
        transform.
        """
        connection = self.connect()
        connection.send(netstring(b"upper.abc"))
        [event] = self.events
        self.assertEqual(event["log_level"], LogLevel.info)
        self.assertEqual(event["peer"], connection.peer)
        self.assertEqual(event["transform"], "upper")

    def test_idleTimerCancelledOnRequest(self) -> None:
        """
        Once a complete request has arrived, no timer is left on the clock.
        """
        connection = self.connect()
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        connection.send(netstring(b"upper.x"))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_deferredTransform(self) -> None:
        """
        A transform returning a L{Deferred} is answered when the L{Deferred}
        fires, not before -- however long it takes: the idle timeout covers
        only the arrival of the request.
        """
        later: Deferred[bytes] = Deferred()
        self.service.register("later", lambda poem: later, needs_text=False)
        connection = self.connect()
        connection.send(netstring(b"later.x"))
        self.clock.advance(self.factory.idle_timeout * 2)
        self.assertEqual(connection.transport.value(), b"")
        self.assertFalse(connection.closed)
        self.assertEqual(self.rejections(), [])
        later.callback(b"finally")
        self.assertEqual(connection.transport.value(), netstring(b"finally"))
        self.assertTrue(connection.closed)

    def test_nonTextPoemForBytesTransform(self) -> None:
        """
        A poem that is not UTF-8 is fine for a transform that does not need
        text.
        """
        connection = self.connect()
        connection.send(netstring(b"reverse-lines.\xff\n\xfe"))
        self.assertEqual(connection.transport.value(), netstring(b"\xfe\n\xff"))

    def test_maxLengthBoundary(self) -> None:
        """
        A payload of exactly C{max_length} bytes is accepted.
        """
        factory = TransformServerFactory(self.service, self.clock, max_length=20)
        connection = self.connect(factory)
        payload = b"upper." + b"a" * 14
        self.assertEqual(len(payload), 20)
        connection.send(netstring(payload))
        self.assertEqual(connection.transport.value(), netstring(b"A" * 14))

    def test_defaultMaxLengthBoundary(self) -> None:
        """
        With the default limit, a payload of exactly 99,999 bytes is accepted.
        """
        payload = b"reverse-lines." + b"x" * (99_999 - len(b"reverse-lines."))
        self.assertEqual(len(payload), 99_999)
        connection = self.connect()
        connection.send(netstring(payload))
        self.assertEqual(connection.transport.value(), netstring(payload[14:]))

    def test_unixPeer(self) -> None:
        """
        A peer on a UNIX socket is named in log events as the command line
        writes it, C{unix:PATH}, not as a Python repr.
        """
        address = UNIXAddress(b"/tmp/poetry.sock")
        protocol = self.factory.buildProtocol(address)
        transport = StringTransportWithDisconnection(peerAddress=address)
        transport.protocol = protocol
        protocol.makeConnection(transport)
        protocol.dataReceived(b"x")
        [event] = self.rejections()
        self.assertEqual(event["peer"], "unix:/tmp/poetry.sock")
        self.assertIn("from unix:/tmp/poetry.sock:", formatEvent(event))

    def test_ipv6Peer(self) -> None:
        """
        An IPv6 peer is named as C{[host]:port} in log events.
        """
        address = IPv6Address("TCP", "::1", 4444)
        protocol = self.factory.buildProtocol(address)
        transport = StringTransportWithDisconnection(peerAddress=address)
        transport.protocol = protocol
        protocol.makeConnection(transport)
        protocol.dataReceived(b"x")
        [event] = self.rejections()
        self.assertEqual(event["peer"], "[::1]:4444")


class BadInputTests(_ServerTestMixin):
    """
    One test per row of the bad-input table in C{docs/transform.md}: each
    bad input is closed without a reply and logged at I{warn} with the peer
    and a C{reason} (or, where the client simply left, at I{info}); then a
    good client on the same factory is served.
    """

    def test_malformedNetstring(self) -> None:
        """
        Bytes that are not a netstring (no length prefix, a leading zero, a
        missing comma, a bare colon) are rejected as C{malformed-netstring},
        each the moment the fault is visible.
        """
        for bad in [b"hello", b"05:upper.x,", b"7:upper.x;", b":", b"-1:", b"2:ab\n"]:
            self.events.clear()
            connection = self.connect()
            connection.send(bad)
            self.assertRejected(connection, "malformed-netstring")
            self.assertServesGoodClient()

    def test_overDefaultMaxLength(self) -> None:
        """
        A declared length over 99,999 is rejected as C{too-long} as soon as
        the length prefix shows it, before any payload is sent; so is a
        length prefix with too many digits to be under the limit.
        """
        for bad in [b"100000:", b"100000", b"99999999999999999999"]:
            self.events.clear()
            connection = self.connect()
            connection.send(bad)
            event = self.assertRejected(connection, "too-long")
            self.assertIn("99999", event["detail"])
            self.assertServesGoodClient()

    def test_overConfiguredMaxLength(self) -> None:
        """
        With C{max_length=20}, a 21-byte payload is rejected as C{too-long};
        the next client of that factory is served.
        """
        factory = TransformServerFactory(self.service, self.clock, max_length=20)
        connection = self.connect(factory)
        connection.send(b"21:")
        event = self.assertRejected(connection, "too-long")
        self.assertIn("21", event["detail"])
        self.assertServesGoodClient(factory)

    def test_noSeparator(self) -> None:
        """
        A payload without a C{.} is rejected as C{no-separator}.
        """
        connection = self.connect()
        connection.send(netstring(b"cummingsify"))
        self.assertRejected(connection, "no-separator")
        self.assertServesGoodClient()

    def test_unknownTransform(self) -> None:
        """
        An unregistered name -- including an empty one, one that is not
        ASCII, and the names of the service's own attributes -- is rejected
        as C{unknown-transform}, and the log names it as quoted text (never
        a bytes repr), non-ASCII bytes escaped.
        """
        rows = {
            b"nope": "'nope'",
            b"": "''",
            b"caf\xc3\xa9": "'caf\\xc3\\xa9'",
            b"register": "'register'",
            b"__class__": "'__class__'",
            b"_run": "'_run'",
        }
        for name, shown in rows.items():
            self.events.clear()
            connection = self.connect()
            connection.send(netstring(name + b".a poem"))
            event = self.assertRejected(connection, "unknown-transform")
            self.assertIn(f"no transform named {shown}", event["detail"])
            self.assertNotIn("b'", event["detail"])
            self.assertServesGoodClient()

    def test_unknownLongNameShortened(self) -> None:
        """
        A long unknown name is shown cut to its first 40 bytes, followed by
        C{...}, in the log: a hostile client cannot flood the log.
        """
        name = b"n" * 40 + b"TAIL" * 1000
        connection = self.connect()
        connection.send(netstring(name + b".a poem"))
        event = self.assertRejected(connection, "unknown-transform")
        self.assertIn(f"'{'n' * 40}'...", event["detail"])
        self.assertNotIn("TAIL", event["detail"])
        self.assertEqual(event["transform"], "n" * 40)
        self.assertServesGoodClient()

    def test_notUTF8(self) -> None:
        """
        A poem that is not valid UTF-8, for a transform that needs text, is
        rejected as C{not-utf8}, naming the transform.
        """
        connection = self.connect()
        connection.send(netstring(b"cummingsify.caf\xe9"))
        event = self.assertRejected(connection, "not-utf8")
        self.assertEqual(event["transform"], "cummingsify")
        self.assertServesGoodClient()

    def test_secondRequestSameChunk(self) -> None:
        """
        A second netstring in the same chunk as the first is a
        C{second-request}: the first is not answered either.
        """
        connection = self.connect()
        connection.send(netstring(b"upper.one") + netstring(b"upper.two"))
        self.assertRejected(connection, "second-request")
        self.assertServesGoodClient()

    def test_trailingGarbageSameChunk(self) -> None:
        """
        Any bytes after the request in the same chunk -- even a partial or
        malformed second netstring, or a newline -- are a C{second-request}.
        """
        for extra in [b"3:ab", b"\n", b"xyz"]:
            self.events.clear()
            connection = self.connect()
            connection.send(netstring(b"upper.one") + extra)
            self.assertRejected(connection, "second-request")
            self.assertServesGoodClient()

    def test_secondRequestWhileWorking(self) -> None:
        """
        Bytes that arrive while a L{Deferred} transform is pending are a
        C{second-request}: the transform is cancelled and nothing is sent,
        even when the L{Deferred} would have fired.
        """
        cancelled: list[Deferred[bytes]] = []
        later: Deferred[bytes] = Deferred(cancelled.append)
        self.service.register("later", lambda poem: later, needs_text=False)
        connection = self.connect()
        connection.send(netstring(b"later.x"))
        connection.send(netstring(b"later.y"))
        self.assertRejected(connection, "second-request")
        self.assertEqual(cancelled, [later])
        self.assertServesGoodClient()

    def test_dataAfterReply(self) -> None:
        """
        Bytes that arrive after the reply was written (while the connection
        is closing) are ignored and logged once at I{info}; the reply stands.
        """
        protocol = self.factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        protocol.dataReceived(netstring(b"upper.x"))
        protocol.dataReceived(b"more")
        protocol.dataReceived(b"and more")
        self.assertEqual(transport.value(), netstring(b"X"))
        self.assertTrue(transport.disconnecting)
        ignored = [e for e in self.events if e.get("reason") == "data-after-done"]
        self.assertEqual(len(ignored), 1)
        self.assertEqual(ignored[0]["log_level"], LogLevel.info)
        self.assertEqual(self.rejections(), [])
        self.assertServesGoodClient()

    def test_idleNothingSent(self) -> None:
        """
        A client that sends nothing is closed after exactly C{idle_timeout}
        seconds of the factory's clock, not before, as C{idle-timeout}.
        """
        connection = self.connect()
        self.clock.advance(29.5)
        self.assertFalse(connection.closed)
        self.assertEqual(self.rejections(), [])
        self.clock.advance(0.5)
        event = self.assertRejected(connection, "idle-timeout")
        self.assertIn("nothing", event["detail"])
        self.assertServesGoodClient()

    def test_idleConfigured(self) -> None:
        """
        The idle timeout is the factory's C{idle_timeout}.
        """
        factory = TransformServerFactory(self.service, self.clock, idle_timeout=2.0)
        connection = self.connect(factory)
        self.clock.advance(1.5)
        self.assertFalse(connection.closed)
        self.clock.advance(0.5)
        self.assertRejected(connection, "idle-timeout")
        self.assertServesGoodClient(factory)

    def test_halfRequestThenStall(self) -> None:
        """
        A client that sends part of a request and stalls is closed
        C{idle_timeout} seconds after it connected: trickling bytes does not
        extend the deadline.
        """
        connection = self.connect()
        request = netstring(b"upper.never finished")
        connection.send(request[:3])
        self.clock.advance(10)
        connection.send(request[3:6])
        self.clock.advance(19.5)
        connection.send(request[6:8])
        self.assertFalse(connection.closed)
        self.clock.advance(0.5)
        event = self.assertRejected(connection, "idle-timeout")
        self.assertIn("8 bytes", event["detail"])
        self.assertServesGoodClient()

    def test_transformRaises(self) -> None:
        """
        A transform that raises is rejected as C{transform-failed}; the log
        names the transform and the exception, at I{warn} level.
        """

        def broken(poem: bytes) -> bytes:
            raise RuntimeError("the muse is out")

        self.service.register("broken", broken, needs_text=False)
        connection = self.connect()
        connection.send(netstring(b"broken.x"))
        event = self.assertRejected(connection, "transform-failed")
        self.assertEqual(event["transform"], "broken")
        self.assertIn("RuntimeError: the muse is out", event["detail"])
        self.assertIn("the muse is out", event["traceback"])
        self.assertServesGoodClient()

    def test_deferredTransformFails(self) -> None:
        """
        A transform whose L{Deferred} fails is rejected as
        C{transform-failed}, when it fails.
        """
        later: Deferred[bytes] = Deferred()
        self.service.register("later", lambda poem: later, needs_text=False)
        connection = self.connect()
        connection.send(netstring(b"later.x"))
        self.assertFalse(connection.closed)
        later.errback(Failure(ValueError("bad scansion")))
        event = self.assertRejected(connection, "transform-failed")
        self.assertIn("ValueError: bad scansion", event["detail"])
        self.assertServesGoodClient()

    def test_transformReturnsNotBytes(self) -> None:
        """
        A transform that returns something other than L{bytes} is rejected as
        C{transform-failed}.
        """
        self.service.register("text", lambda poem: "str", needs_text=False)  # type: ignore[arg-type,return-value]  # deliberately wrong result type
        connection = self.connect()
        connection.send(netstring(b"text.x"))
        event = self.assertRejected(connection, "transform-failed")
        self.assertIn("TypeError", event["detail"])
        self.assertServesGoodClient()

    def test_clientLeavesWhileWorking(self) -> None:
        """
        A client that disconnects while a L{Deferred} transform is pending
        gets the transform cancelled, nothing written and an I{info} event;
        a result arriving later breaks nothing.
        """
        cancelled: list[Deferred[bytes]] = []
        later: Deferred[bytes] = Deferred(cancelled.append)
        self.service.register("later", lambda poem: later, needs_text=False)
        connection = self.connect()
        connection.send(netstring(b"later.x"))
        connection.disconnect()
        self.assertEqual(cancelled, [later])
        self.assertEqual(connection.transport.value(), b"")
        self.assertEqual(self.rejections(), [])
        [event] = self.events
        self.assertEqual(event["reason"], "client-left")
        self.assertEqual(event["log_level"], LogLevel.info)
        self.assertEqual(event["peer"], connection.peer)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertServesGoodClient()

    def test_lateResultAfterClientLeft(self) -> None:
        """
        A transform's L{Deferred} that has no canceller still fires (with
        L{CancelledError}) when the client leaves; its own later result is
        then ignored by L{Deferred}, and nothing is written or logged as an
        error.
        """
        later: Deferred[bytes] = Deferred()
        self.service.register("later", lambda poem: later, needs_text=False)
        connection = self.connect()
        connection.send(netstring(b"later.x"))
        connection.disconnect()
        self.assertTrue(later.called)
        later.callback(b"too late")
        self.assertEqual(connection.transport.value(), b"")
        self.assertEqual(self.rejections(), [])
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertServesGoodClient()

    def test_cancellationAnsweredWithResult(self) -> None:
        """
        A transform whose canceller answers the cancellation with a result
        (which L{Deferred} allows) when the client leaves: that result is
        not written to the departed client, and only the departure is
        logged, at I{info}.
        """
        answered: list[bytes] = []

        def answer(d: Deferred[bytes]) -> None:
            answered.append(b"a partial poem")
            d.callback(b"a partial poem")

        self.service.register(
            "partial", lambda poem: Deferred(answer), needs_text=False
        )
        connection = self.connect()
        connection.send(netstring(b"partial.x"))
        connection.disconnect()
        self.assertEqual(answered, [b"a partial poem"])
        self.assertEqual(connection.transport.value(), b"")
        self.assertEqual(self.rejections(), [])
        self.assertEqual(
            [(e["log_level"], e["reason"]) for e in self.events],
            [(LogLevel.info, "client-left")],
        )
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertServesGoodClient()

    def test_clientLeavesMidRequest(self) -> None:
        """
        A client that disconnects before completing its request gets its idle
        timer cancelled and an I{info} event.
        """
        connection = self.connect()
        connection.send(b"5:upp")
        connection.disconnect()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(self.rejections(), [])
        [event] = self.events
        self.assertEqual(event["reason"], "client-left")
        self.assertEqual(event["received"], 5)
        self.assertServesGoodClient()

    def test_rejectionLeavesOthersAlone(self) -> None:
        """
        Rejecting one client does not disturb another connection that is
        mid-request, nor one whose transform is pending.
        """
        later: Deferred[bytes] = Deferred()
        self.service.register("later", lambda poem: later, needs_text=False)
        working = self.connect()
        working.send(netstring(b"later.x"))
        reading = self.connect()
        request = netstring(b"upper.patience")
        reading.send(request[:5])
        bad = self.connect()
        bad.send(b"garbage")
        self.assertClosedWithoutReply(bad)
        self.assertFalse(working.closed)
        self.assertFalse(reading.closed)
        reading.send(request[5:])
        self.assertEqual(reading.transport.value(), netstring(b"PATIENCE"))
        later.callback(b"done")
        self.assertEqual(working.transport.value(), netstring(b"done"))

    def test_transformFailureDoesNotLeak(self) -> None:
        """
        A failed transform's L{Failure} is consumed: nothing is left
        unhandled to be logged as an error later.
        """
        self.service.register(
            "failing", lambda poem: fail(KeyError("x")), needs_text=False
        )
        connection = self.connect()
        connection.send(netstring(b"failing.x"))
        self.assertRejected(connection, "transform-failed")
        self.assertEqual(self.flushLoggedErrors(), [])
