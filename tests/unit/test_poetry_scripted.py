"""
The poetry client against scripted servers, and the transform server
against scripted clients: each misbehaving peer is one L{Script}, played
by a L{ScriptedPeer} on the test's L{MemoryNetwork}.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionLost
from twisted.internet.interfaces import IListeningPort

from poetry.client import PoemTimeout, PoemTruncated, get_poetry
from poetry.testing import (
    ONE_BYTE,
    LinkConditions,
    MemoryNetworkTestCase,
    Script,
    ScriptedPeer,
)
from poetry.transform import (
    MalformedReply,
    NoReply,
    TransformServerFactory,
    TransformService,
    transform,
)

POEM = "Ça va? Café, crème, søster — ølen er god.\n".encode()


def netstring(payload: bytes) -> bytes:
    """
    C{payload} as a netstring.
    """
    return b"%d:%s," % (len(payload), payload)


class PoetryClientAgainstScriptedServersTests(MemoryNetworkTestCase):
    """
    L{get_poetry} against servers that each misbehave in one exact way.
    """

    def serve(self, script: Script) -> ScriptedPeer:
        return ScriptedPeer.listen(
            self.net, script, name="poetry server", cleanup=self.addCleanup
        )

    def fetch(self, peer: ScriptedPeer, timeout: float | None = None) -> bytes:
        return self.net.run_until(
            get_poetry(self.net, "127.0.0.1", peer.port_number, timeout=timeout)
        )

    def test_wholePoem(self) -> None:
        """
        The poem, then a clean close: the client has the poem, byte for byte.
        """
        peer = self.serve(Script().send(POEM).close())
        self.assertEqual(self.fetch(peer), POEM)

    def test_truncatedByReset(self) -> None:
        """
        Twenty bytes, then (once they are delivered) a reset:
        L{PoemTruncated} with exactly those bytes, lost with
        L{ConnectionLost}.  (A reset in the same call as the write would
        drop them, as on real TCP.)
        """
        peer = self.serve(Script().send(POEM[:20]).wait(0.5).reset())
        error = self.assertRaises(PoemTruncated, self.fetch, peer)
        self.assertEqual(error.received, POEM[:20])
        self.assertTrue(error.reason.check(ConnectionLost))

    def test_truncatedMidCharacter(self) -> None:
        """
        A reset in the middle of a multi-byte character: the client reports
        the raw bytes (it decodes nothing), the cut character included.
        """
        cut = POEM.index("é".encode()) + 1
        peer = self.serve(Script().send(POEM[:cut]).wait(0.5).reset())
        error = self.assertRaises(PoemTruncated, self.fetch, peer)
        self.assertEqual(error.received, POEM[:cut])
        self.assertRaises(UnicodeDecodeError, error.received.decode, "utf-8")

    def test_slowDrip(self) -> None:
        """
        One byte every half second: the poem is complete at the close, 49
        bytes later, and progress was reported for every byte.
        """
        totals: list[int] = []
        peer = self.serve(Script().drip(POEM, size=1, interval=0.5).close())
        d = get_poetry(self.net, "127.0.0.1", peer.port_number, progress=totals.append)
        self.assertEqual(self.net.run_until(d), POEM)
        self.assertEqual(self.net.seconds(), 0.5 * (len(POEM) - 1))
        self.assertEqual(totals, list(range(1, len(POEM) + 1)))

    def test_slowDripTimesOut(self) -> None:
        """
        One byte a second and a 10-second client timeout: L{PoemTimeout} at
        t=10 with the ten bytes sent by then; the client aborts, which the
        server sees as a reset.
        """
        peer = self.serve(Script().drip(POEM[:10], size=1, interval=1.0).expect_reset())
        error = self.assertRaises(PoemTimeout, self.fetch, peer, 10.0)
        self.assertEqual(self.net.seconds(), 10.0)
        self.assertEqual(error.received, POEM[:10])
        self.assertTrue(error.connected)

    def test_garbageThenClose(self) -> None:
        """
        Bytes that are no text at all, then a clean close: the poetry
        protocol has no framing, so the client returns them as they are
        (bytes in the API; decoding is the caller's business).
        """
        garbage = b"\x00\xff\xfe GARBAGE \x80\r\n"
        peer = self.serve(Script().send(garbage).close())
        self.assertEqual(self.fetch(peer), garbage)

    def test_garbageThenReset(self) -> None:
        """
        Garbage, then a reset: L{PoemTruncated} carrying the garbage.
        """
        peer = self.serve(Script().send(b"\xde\xad").wait(1.0).reset())
        error = self.assertRaises(PoemTruncated, self.fetch, peer)
        self.assertEqual((error.received, self.net.seconds()), (b"\xde\xad", 1.0))

    def test_cancelAbortsTheConnection(self) -> None:
        """
        Cancelling a fetch mid-poem aborts the connection: the server sees a
        reset right after the bytes it sent.
        """
        peer = self.serve(Script().send(POEM[:5]).expect_reset())
        d = get_poetry(self.net, "127.0.0.1", peer.port_number)
        self.net.advance(0)
        d.cancel()
        self.assertRaises(CancelledError, self.net.run_until, d)
        self.net.advance(0)
        self.assertTrue(peer.done)


class TransformServerAgainstScriptedClientsTests(MemoryNetworkTestCase):
    """
    The transform server against clients that each behave in one exact
    way; every test also checks the server still serves the real client
    afterwards.
    """

    def setUp(self) -> None:
        super().setUp()
        factory = TransformServerFactory(
            TransformService(), self.net, idle_timeout=30.0
        )
        self.port: IListeningPort = self.net.listenTCP(
            0, factory, interface="127.0.0.1"
        )
        self.addCleanup(self.port.stopListening)

    def port_number(self) -> int:
        address = self.port.getHost()
        assert isinstance(address, IPv4Address)
        return address.port

    def client(self, script: Script) -> ScriptedPeer:
        return ScriptedPeer.connect(
            self.net,
            script,
            "127.0.0.1",
            self.port_number(),
            name="transform client",
            cleanup=self.addCleanup,
        )

    def assertStillServes(self) -> None:
        d = transform(self.net, "127.0.0.1", self.port_number(), "upper", b"ok")
        self.assertEqual(self.net.run_until(d), b"OK")

    def test_request(self) -> None:
        """
        A request: exactly one netstring back, then the server closes.
        """
        peer = self.client(
            Script()
            .send(netstring(b"upper." + POEM))
            .expect(netstring(POEM.decode().upper().encode()))
            .expect_close()
        )
        self.net.run()
        peer.assert_done()
        self.assertStillServes()

    def test_requestInDrips(self) -> None:
        """
        A request a byte a second (well inside the 30-second idle deadline):
        the reply comes after the last byte.
        """
        request = netstring(b"upper.hi")
        peer = self.client(
            Script()
            .drip(request, size=1, interval=1.0)
            .expect(netstring(b"HI"))
            .expect_close()
        )
        self.net.run()
        peer.assert_done()
        self.assertEqual(self.net.seconds(), len(request) - 1.0)
        self.assertStillServes()

    def test_replyReadByteByByte(self) -> None:
        """
        With the link cutting the stream into single bytes both ways, the
        server still parses the request and the reply still matches.
        """
        self.net.set_default_link(LinkConditions(chunking=ONE_BYTE))
        peer = self.client(
            Script()
            .send(netstring(b"reverse-lines.a\nb\n"))
            .expect(netstring(b"b\na\n"))
            .expect_close()
        )
        self.net.run()
        peer.assert_done()
        self.assertStillServes()

    def test_tooSlowForTheIdleDeadline(self) -> None:
        """
        Thirty bytes of a longer request, one a second: the server closes
        without a reply at exactly t=30.
        """
        request = netstring(b"upper." + POEM)
        peer = self.client(
            Script().drip(request[:30], size=1, interval=1.0).expect_close()
        )
        self.net.run()
        peer.assert_done()
        self.assertEqual(self.net.seconds(), 30.0)
        self.assertStillServes()

    def test_garbageIsClosedWithoutReply(self) -> None:
        """
        Bytes that are not a netstring: closed at once, no reply.
        """
        peer = self.client(Script().send(b"hello, server\r\n").expect_close())
        self.net.run()
        peer.assert_done()
        self.assertStillServes()

    def test_twoRequestsAreClosedWithoutReply(self) -> None:
        """
        Two requests in one write: neither is answered.
        """
        request = netstring(b"upper.x")
        peer = self.client(Script().send(request + request).expect_close())
        self.net.run()
        peer.assert_done()
        self.assertStillServes()

    def test_halfCloseAfterTheRequest(self) -> None:
        """
        A client that shuts its write side after the request still gets the
        reply of a transform that answers at once (the server replies before
        it reads the end of the stream).
        """
        peer = self.client(
            Script()
            .send(netstring(b"upper.x"))
            .half_close()
            .expect(netstring(b"X"))
            .expect_close()
        )
        self.net.run()
        peer.assert_done()
        self.assertTrue(peer.runs[0].write_shut)
        self.assertStillServes()


class ClientsOfTheTransformServerTests(MemoryNetworkTestCase):
    """
    The transform client against scripted servers.
    """

    def serve(self, script: Script) -> ScriptedPeer:
        return ScriptedPeer.listen(self.net, script, cleanup=self.addCleanup)

    def test_garbageThenClose(self) -> None:
        """
        A reply that is not a netstring: L{MalformedReply}; the client
        aborts, which the server sees.
        """
        peer = self.serve(
            Script().expect(netstring(b"upper.x")).send(b"garbage").expect_reset()
        )
        d = transform(self.net, "127.0.0.1", peer.port_number, "upper", b"x")
        self.assertRaises(MalformedReply, self.net.run_until, d)

    def test_closeWithoutReply(self) -> None:
        """
        The request is read, then the server closes: L{NoReply}.
        """
        peer = self.serve(Script().expect(netstring(b"upper.x")).close())
        d = transform(self.net, "127.0.0.1", peer.port_number, "upper", b"x")
        self.assertRaises(NoReply, self.net.run_until, d)
