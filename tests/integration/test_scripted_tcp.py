"""
Scripted peers on the real reactor, 127.0.0.1 port 0: the scripts the unit
tests play on L{MemoryNetwork} give the same outcomes over real TCP.

Every test waits for the scripted side to finish (L{ScriptedPeer.when_done})
and for its port to close, so trial's dirty-reactor check stays meaningful.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.error import ConnectionLost
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from poetry.client import PoemTruncated, get_poetry
from poetry.testing import Script, ScriptDeviation, ScriptedPeer
from poetry.transform import TransformServerFactory, TransformService

POEM = b"Once upon a midnight dreary, while I pondered, weak and weary,\n"


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def netstring(payload: bytes) -> bytes:
    return b"%d:%s," % (len(payload), payload)


class ScriptedPeerTCPTests(TestCase):
    """
    Scripted servers and clients over real TCP.
    """

    def settle(self) -> Deferred[None]:
        """
        Give the reactor a moment to close what the peer stopped.
        """
        return deferLater(_reactor(), 0.01, lambda: None)

    @inlineCallbacks
    def test_wholePoem(self) -> Any:
        """
        A scripted server sends the poem and closes: the client has it.
        """
        peer = ScriptedPeer.listen(
            _reactor(), Script().send(POEM).close(), cleanup=self.addCleanup
        )
        poem = yield get_poetry(_reactor(), "127.0.0.1", peer.port_number, timeout=10)
        self.assertEqual(poem, POEM)
        yield peer.when_done()
        yield self.settle()

    @inlineCallbacks
    def test_dripThenReset(self) -> Any:
        """
        Ten-byte drips, then a reset: the client gets a prefix of what was
        sent and L{PoemTruncated}, lost uncleanly.
        """
        peer = ScriptedPeer.listen(
            _reactor(),
            Script().drip(POEM[:30], size=10, interval=0.02).wait(0.05).reset(),
            cleanup=self.addCleanup,
        )
        d = get_poetry(_reactor(), "127.0.0.1", peer.port_number, timeout=10)
        error = yield self.assertFailure(d, PoemTruncated)
        self.assertTrue(POEM[:30].startswith(error.received))
        self.assertTrue(error.reason.check(ConnectionLost))
        yield peer.when_done()
        yield self.settle()

    @inlineCallbacks
    def test_transformServerAgainstAScriptedClient(self) -> Any:
        """
        A scripted client drips its request to the real transform server
        and reads exactly the reply, then the close.
        """
        reactor = _reactor()
        port = reactor.listenTCP(
            0,
            TransformServerFactory(TransformService(), reactor),
            interface="127.0.0.1",
        )
        self.addCleanup(port.stopListening)
        peer = ScriptedPeer.connect(
            reactor,
            Script()
            .drip(netstring(b"upper.hi"), size=3, interval=0.01)
            .expect(netstring(b"HI"))
            .expect_close(),
            "127.0.0.1",
            port.getHost().port,
            cleanup=self.addCleanup,
        )
        yield peer.when_done()
        yield self.settle()

    @inlineCallbacks
    def test_deviation(self) -> Any:
        """
        Over real TCP too, a different byte is reported with its offset.
        """
        reactor = _reactor()
        port = reactor.listenTCP(
            0,
            TransformServerFactory(TransformService(), reactor),
            interface="127.0.0.1",
        )
        self.addCleanup(port.stopListening)
        peer = ScriptedPeer.connect(
            reactor,
            Script().send(netstring(b"upper.hi")).expect(netstring(b"Hi")),
            "127.0.0.1",
            port.getHost().port,
            cleanup=lambda check: None,
        )
        error = yield self.assertFailure(peer.when_done(), ScriptDeviation)
        self.assertEqual(
            (error.expected, error.actual, error.offset), (b"2:Hi,", b"2:HI,", 3)
        )
        yield self.settle()
