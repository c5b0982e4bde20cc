"""
Tests for L{poetry.testing.ScriptedPeer} and L{poetry.testing.Script}: the
script language, deviations with their byte-level diff, and the check that
a script was played to its end.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import cast

from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.testing import MemoryReactor
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import (
    ONE_BYTE,
    SEED_ENVIRONMENT_VARIABLE,
    LinkConditions,
    MemoryNetworkTestCase,
    Script,
    ScriptDeviation,
    ScriptedPeer,
    ScriptNotFinished,
)
from poetry.testing._scripted import (
    Close,
    Expect,
    ExpectClose,
    ExpectReset,
    HalfClose,
    Read,
    Reset,
    Send,
    Wait,
    byte_diff,
    show_bytes,
)
from tests.unit.test_testing_support import (
    HalfCloseableRecorder,
    Recorder,
    RecordingClientFactory,
    RecordingServerFactory,
)


class ScriptTests(SynchronousTestCase):
    """
    Building scripts.
    """

    def test_chainedCalls(self) -> None:
        """
        Each call adds one typed step.
        """
        script = (
            Script()
            .send(b"a")
            .expect(b"b")
            .read(2)
            .wait(1.5)
            .half_close()
            .expect_close()
            .close()
        )
        self.assertEqual(
            script.steps,
            (
                Send(b"a"),
                Expect(b"b"),
                Read(2),
                Wait(1.5),
                HalfClose(),
                ExpectClose(),
                Close(),
            ),
        )
        self.assertEqual(Script().reset().steps, (Reset(),))
        self.assertEqual(Script().expect_reset().steps, (ExpectReset(),))

    def test_values(self) -> None:
        """
        A script is a value: adding a step makes a new script; scripts join
        with C{+}; C{then} adds step objects.
        """
        first = Script().send(b"a")
        second = first.expect(b"b")
        self.assertEqual(len(first), 1)
        self.assertEqual(len(second), 2)
        self.assertEqual(first + Script().expect(b"b"), second)
        self.assertEqual(first.then(Expect(b"b")), second)
        self.assertEqual(Script([Send(b"a"), Expect(b"b")]), second)

    def test_drip(self) -> None:
        """
        C{drip} is sends of C{size} bytes with waits between them.
        """
        self.assertEqual(
            Script().drip(b"abcde", size=2, interval=0.5).steps,
            (Send(b"ab"), Wait(0.5), Send(b"cd"), Wait(0.5), Send(b"e")),
        )

    def test_badSteps(self) -> None:
        """
        Steps check their arguments.
        """
        self.assertRaises(TypeError, Send, "text")
        self.assertRaises(ValueError, Send, b"")
        self.assertRaises(TypeError, Expect, bytearray(b"x"))
        for count in (0, -1, True, 1.5):
            self.assertRaises(ValueError, Read, count)
        for seconds in (-1, math.nan, math.inf, "1", True):
            self.assertRaises(ValueError, Wait, seconds)
        self.assertRaises(ValueError, Script().drip, b"ab", size=0, interval=1)
        self.assertRaises(TypeError, Script, [object()])

    def test_impossibleOrders(self) -> None:
        """
        A step that cannot follow the ones before it is refused when the
        script is built, saying why.
        """
        cases: list[tuple[Callable[[], Script], str]] = [
            (
                lambda: Script().close().send(b"x"),
                "step 2 (send(b'x')) follows close(): the connection is gone",
            ),
            (lambda: Script().reset().expect(b"x"), "follows reset()"),
            (lambda: Script().expect_reset().wait(1), "follows expect_reset()"),
            (
                lambda: Script().half_close().send(b"x"),
                "follows half_close(): the write side is shut",
            ),
            (lambda: Script().half_close().half_close(), "follows half_close()"),
            (
                lambda: Script().expect_close().read(1),
                "follows expect_close(): nothing more can be read",
            ),
        ]
        for build, message in cases:
            error = self.assertRaises(ValueError, build)
            self.assertIn(message, str(error))
        # After the peer's close, this side may still write and close.
        Script().expect_close().send(b"bye").wait(1).close()

    def test_describe(self) -> None:
        """
        A script describes itself one numbered step per line, long data
        cut.
        """
        text = Script().send(b"x" * 100).wait(2).describe()
        self.assertEqual(
            text,
            f"   1. send({b'x' * 48!r}... (52 more bytes))\n   2. wait(2)",
        )


class DiffTests(SynchronousTestCase):
    """
    The byte-level diff of a deviation.
    """

    def test_alignedWithEscapes(self) -> None:
        """
        Expected and actual bytes line up byte for byte, escapes included,
        with a caret under the first difference and its stream offset.
        """
        self.assertEqual(
            byte_diff(b"a\nbc", b"a\nXc", 10),
            "    expected:    b'a\\nbc'\n"
            "    actual:      b'a\\nXc'\n"
            "                      ^  offset 12",
        )
        self.assertEqual(
            byte_diff(b"ab'", b"a\x00'", 0),
            "    expected:    b'ab   \\''\n"
            "    actual:      b'a\\x00\\''\n"
            "                    ^  offset 1",
        )

    def test_longStreamsAreCut(self) -> None:
        """
        Far from the difference, the lines are cut (C{...}).
        """
        expected = b"x" * 100 + b"A" + b"y" * 100
        actual = b"x" * 100 + b"B" + b"y" * 100
        text = byte_diff(expected, actual, 0, context=4)
        self.assertEqual(
            text,
            "    expected: ...b'xxxxAyyy'...\n"
            "    actual:   ...b'xxxxByyy'...\n"
            "                       ^  offset 100",
        )

    def test_shortActual(self) -> None:
        """
        When the actual bytes stop early, the caret is where they stop.
        """
        self.assertTrue(byte_diff(b"abc", b"a", 0).endswith("^  offset 1"))

    def test_showBytes(self) -> None:
        """
        Long bytes are cut, saying how many were left out.
        """
        self.assertEqual(show_bytes(b"abc"), "b'abc'")
        self.assertEqual(show_bytes(b"abcdef", 2), "b'ab'... (4 more bytes)")


class PeerTestCase(MemoryNetworkTestCase):
    """
    Helpers: a recording client of a scripted server.
    """

    def setUp(self) -> None:
        super().setUp()
        # Deviations of peers without cleanup are logged as errors.
        self.addCleanup(self.flushLoggedErrors, ScriptDeviation)

    def serve(self, script: Script, **options: object) -> ScriptedPeer:
        return ScriptedPeer.listen(self.net, script, **options)  # type: ignore[arg-type]

    def connect(
        self, peer: ScriptedPeer, on_made: Callable[[Recorder], object] | None = None
    ) -> Recorder:
        client = Recorder(on_made=on_made)
        self.net.connectTCP(
            "127.0.0.1", peer.port_number, RecordingClientFactory(lambda: client)
        )
        return client

    def deviation(self, peer: ScriptedPeer) -> ScriptDeviation:
        self.net.run()
        self.assertFalse(peer.done)
        error = self.assertRaises(ScriptDeviation, peer.assert_done)
        self.assertEqual(len(self.flushLoggedErrors(ScriptDeviation)), 1)
        return cast(ScriptDeviation, error)


class DeviationTests(PeerTestCase):
    """
    The other side deviates: the peer aborts and reports what was expected,
    what came and at which offset.
    """

    def test_differentBytes(self) -> None:
        """
        Different bytes: the diff, the offset of the first different byte,
        and the connection aborted.
        """
        peer = self.serve(Script().expect(b"hello world").send(b"ok"), name="greeter")
        client = self.connect(peer, lambda r: r.tcp.write(b"hello wxrld"))
        error = self.deviation(peer)
        self.assertEqual(
            (error.peer, error.step, error.expected, error.actual, error.offset),
            ("greeter", 1, b"hello world", b"hello wxrld", 7),
        )
        self.assertEqual(
            str(error),
            "scripted peer 'greeter' (connection #1) at step 1 of 2, "
            "expect(b'hello world'): different bytes came\n"
            "    expected:    b'hello world'\n"
            "    actual:      b'hello wxrld'\n"
            "                          ^  offset 7\n"
            "    received so far (11 bytes): b'hello wxrld'",
        )
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionLost))

    def test_seenEarly(self) -> None:
        """
        A difference is reported as soon as the bytes show it, before the
        expected length has arrived.
        """
        peer = self.serve(Script().expect(b"hello world"))
        self.connect(peer, lambda r: r.tcp.write(b"hx"))
        error = self.deviation(peer)
        self.assertEqual((error.actual, error.offset), (b"hx", 1))

    def test_offsetInTheStream(self) -> None:
        """
        The offset counts from the first byte of the connection, across
        steps.
        """
        peer = self.serve(Script().expect(b"ab").read(1).expect(b"de"))
        self.connect(peer, lambda r: r.tcp.write(b"abcdf"))
        error = self.deviation(peer)
        self.assertEqual(
            (error.step, error.expected, error.actual, error.offset),
            (3, b"de", b"df", 4),
        )

    def test_anyChunking(self) -> None:
        """
        Expected bytes may come in any pieces.
        """
        self.net.set_default_link(LinkConditions(chunking=ONE_BYTE))
        peer = self.serve(Script().expect(b"hello").read(3).expect(b"!").close())
        self.connect(peer, lambda r: r.tcp.write(b"hello123!"))
        self.net.run()
        peer.assert_done()
        self.assertTrue(peer.done)
        self.assertEqual(peer.runs[0].received, b"hello123!")

    def test_closedEarly(self) -> None:
        """
        The peer closes before all expected bytes came: what came, and the
        offset of the first missing byte.
        """
        peer = self.serve(Script().expect(b"hello"))

        def write_and_close(client: Recorder) -> None:
            client.tcp.write(b"hel")
            client.tcp.loseConnection()

        self.connect(peer, write_and_close)
        error = self.deviation(peer)
        self.assertEqual((error.actual, error.offset), (b"hel", 3))
        self.assertIn("the peer closed the stream after 3 of the 5 bytes", str(error))

    def test_resetEarly(self) -> None:
        """
        A reset before all expected bytes came.
        """
        peer = self.serve(Script().read(5))
        client = self.connect(peer, lambda r: r.tcp.write(b"he"))
        self.net.run()
        client.tcp.abortConnection()
        error = self.deviation(peer)
        self.assertIn(
            "the connection was lost (ConnectionLost) after 2 of the 5 bytes",
            str(error),
        )
        self.assertEqual((error.expected, error.actual, error.offset), (b"", b"he", 2))

    def test_bytesInsteadOfClose(self) -> None:
        """
        Bytes where the close was expected.
        """
        peer = self.serve(Script().expect_close())
        self.connect(peer, lambda r: r.tcp.write(b"more"))
        error = self.deviation(peer)
        self.assertIn("bytes came instead of the close", str(error))
        self.assertEqual((error.actual, error.offset), (b"more", 0))

    def test_resetInsteadOfClose(self) -> None:
        """
        A reset where a clean close was expected.
        """
        peer = self.serve(Script().expect_close())
        self.connect(peer, lambda r: r.tcp.abortConnection())
        error = self.deviation(peer)
        self.assertIn(
            "the connection was lost (ConnectionLost) instead of a clean close",
            str(error),
        )

    def test_closeInsteadOfReset(self) -> None:
        """
        A clean close where a reset was expected; bytes where a reset was
        expected.
        """
        peer = self.serve(Script().expect_reset())
        self.connect(peer, lambda r: r.tcp.loseConnection())
        self.assertIn(
            "the peer closed cleanly instead of resetting", str(self.deviation(peer))
        )
        peer = self.serve(Script().expect_reset())
        self.connect(peer, lambda r: r.tcp.write(b"x"))
        self.assertIn("bytes came instead of the reset", str(self.deviation(peer)))

    def test_bytesAfterTheEnd(self) -> None:
        """
        Bytes after the last step are a deviation too.
        """
        peer = self.serve(Script().send(b"hi"))
        self.connect(peer, lambda r: r.tcp.write(b"extra"))
        error = self.deviation(peer)
        self.assertEqual((error.step, error.actual, error.offset), (2, b"extra", 0))
        self.assertIn("after the last of 1 steps: bytes came after the end", str(error))

    def test_bytesAfterTheScriptFinished(self) -> None:
        """
        Bytes arriving once the script has finished are a deviation.
        """
        peer = self.serve(Script().send(b"hi"))
        client = self.connect(peer)
        self.net.run()
        self.assertTrue(peer.done)
        client.tcp.write(b"late")
        error = self.deviation(peer)
        self.assertEqual(error.actual, b"late")

    def test_sendAfterTheConnectionWasLost(self) -> None:
        """
        A step that writes when the connection is gone is a deviation, when
        the step comes.
        """
        peer = self.serve(Script().wait(1).send(b"late"))
        self.connect(peer, lambda r: r.tcp.abortConnection())
        error = self.deviation(peer)
        self.assertIn(
            "at step 2 of 2, send(b'late'): the connection was lost "
            "(ConnectionLost) before this step",
            str(error),
        )
        self.assertEqual(self.net.seconds(), 1.0)

    def test_bytesWhileWaiting(self) -> None:
        """
        Bytes that come during a wait are read by the next step.
        """
        peer = self.serve(Script().wait(5).expect(b"early").close())
        self.connect(peer, lambda r: r.tcp.write(b"early"))
        self.net.run()
        peer.assert_done()
        self.assertEqual(self.net.seconds(), 5.0)


def run_inner(case: SynchronousTestCase) -> TestResult:
    result = TestResult()
    case.run(result)
    return result


def reported(result: TestResult) -> list[str]:
    return [
        cast(Failure, failure).getErrorMessage()
        for _, failure in result.failures + result.errors
    ]


class TeardownTests(SynchronousTestCase):
    """
    With C{cleanup=self.addCleanup}, the end of the test checks the script.
    """

    def setUp(self) -> None:
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "5"})

    def test_noConnectionCame(self) -> None:
        """
        A scripted server nobody connected to fails the test, once, saying
        so; it stops listening, so the network's own check does not repeat
        it.
        """

        class Inner(MemoryNetworkTestCase):
            def test_nobody(self) -> None:
                ScriptedPeer.listen(
                    self.net, Script().send(b"x"), cleanup=self.addCleanup
                )

        result = run_inner(Inner("test_nobody"))
        (message,) = reported(result)
        self.assertIn(
            "the script of scripted peer 'scripted server' was not played to its "
            "end:\n  expected 1 connection(s) at 127.0.0.1:32768, 0 came",
            message,
        )
        self.assertIn("The script:\n   1. send(b'x')", message)
        self.assertNotIn("not clean", message)

    def test_stoppedAtAStep(self) -> None:
        """
        A script stopped part-way: which step, what came, what is unread.
        """

        class Inner(MemoryNetworkTestCase):
            def test_partial(self) -> None:
                peer = ScriptedPeer.listen(
                    self.net,
                    Script().expect(b"hello").send(b"x"),
                    cleanup=self.addCleanup,
                )
                client = Recorder(on_made=lambda r: r.tcp.write(b"he"))
                self.net.connectTCP(
                    "127.0.0.1",
                    peer.port_number,
                    RecordingClientFactory(lambda: client),
                )
                self.net.run()

        (message,) = reported(run_inner(Inner("test_partial")))
        self.assertIn(
            "connection 1: at step 1 of 2: expect(b'hello'); 2 bytes received, 2 "
            "not yet read by a step (b'he')",
            message,
        )

    def test_stoppedWhileWaiting(self) -> None:
        """
        A script stopped in a wait says so; its timer is cancelled, so the
        network is left clean.
        """

        class Inner(MemoryNetworkTestCase):
            def test_waiting(self) -> None:
                peer = ScriptedPeer.listen(
                    self.net, Script().wait(10).send(b"x"), cleanup=self.addCleanup
                )
                self.net.connectTCP(
                    "127.0.0.1", peer.port_number, RecordingClientFactory(Recorder)
                )
                self.net.advance(1)

        (message,) = reported(run_inner(Inner("test_waiting")))
        self.assertIn(
            "connection 1: waiting, at step 1 of 2: wait(10); 0 bytes received", message
        )

    def test_deviationReportedOnce(self) -> None:
        """
        With C{cleanup}, a deviation is raised by the check at the end of
        the test and not also logged.
        """

        class Inner(MemoryNetworkTestCase):
            def test_deviates(self) -> None:
                peer = ScriptedPeer.listen(
                    self.net, Script().expect(b"a"), cleanup=self.addCleanup
                )
                client = Recorder(on_made=lambda r: r.tcp.write(b"b"))
                self.net.connectTCP(
                    "127.0.0.1",
                    peer.port_number,
                    RecordingClientFactory(lambda: client),
                )
                self.net.run()

        (message,) = reported(run_inner(Inner("test_deviates")))
        self.assertIn("different bytes came", message)

    def test_closeOnTheLastLine(self) -> None:
        """
        A close made on the test's last line counts: the check first lets
        the network do what needs no time.
        """

        class Inner(MemoryNetworkTestCase):
            def test_closes(self) -> None:
                peer = ScriptedPeer.listen(
                    self.net,
                    Script().expect(b"q").expect_close(),
                    cleanup=self.addCleanup,
                )
                client = Recorder(on_made=lambda r: r.tcp.write(b"q"))
                self.net.connectTCP(
                    "127.0.0.1",
                    peer.port_number,
                    RecordingClientFactory(lambda: client),
                )
                self.net.advance(0)
                client.tcp.loseConnection()

        result = run_inner(Inner("test_closes"))
        self.assertEqual(reported(result), [])
        self.assertTrue(result.wasSuccessful())


class PeerTests(PeerTestCase):
    """
    Servers, clients, hosts, half-close, and bad arguments.
    """

    def test_eachConnectionPlaysTheScript(self) -> None:
        """
        A server for two connections plays the script on each, then stops
        listening: a third client is refused.
        """
        peer = self.serve(Script().send(b"hi").close(), connections=2)
        first, second = self.connect(peer), self.connect(peer)
        self.net.run()
        self.assertEqual((first.received, second.received), (b"hi", b"hi"))
        self.assertEqual(len(peer.runs), 2)
        self.assertTrue(peer.done)
        self.assertEqual(self.net.listening_ports(), [])

    def test_extraConnectionsAreClosed(self) -> None:
        """
        A connection accepted beyond the last one expected (in the same
        turn, before the port stopped) gets no protocol: it is closed at
        once.
        """
        peer = self.serve(Script().send(b"hi").close())
        assert peer.port is not None
        factory = peer.port.factory  # type: ignore[attr-defined]
        self.connect(peer)
        self.net.run()
        self.assertIsNone(factory.buildProtocol(None))
        self.assertEqual(len(peer.runs), 1)

    def test_client(self) -> None:
        """
        A scripted client connects, plays, and is done.
        """
        factory = RecordingServerFactory(
            lambda: Recorder(on_data=lambda r, data: r.tcp.write(data.upper()))
        )
        port = self.net.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        peer = ScriptedPeer.connect(
            self.net,
            Script().send(b"abc").expect(b"ABC").close(),
            "127.0.0.1",
            port.getHost().port,
        )
        self.net.run()
        peer.assert_done()
        self.assertRaises(ValueError, lambda: peer.port_number)

    def test_clientCannotConnect(self) -> None:
        """
        A scripted client that cannot connect fails.
        """
        peer = ScriptedPeer.connect(self.net, Script().send(b"x"), "127.0.0.1", 9)
        error = self.deviation(peer)
        self.assertEqual(
            str(error),
            "scripted peer 'scripted client': could not connect: "
            "ConnectionRefusedError: Connection was refused by other side: 111: "
            "Connection refused.",
        )

    def test_onAHost(self) -> None:
        """
        On a host of the network, a scripted server listens at that host's
        address.
        """
        peer = ScriptedPeer.listen(
            self.net.host("10.0.0.5"), Script().send(b"x").close()
        )
        client = Recorder()
        self.net.connectTCP(
            "10.0.0.5", peer.port_number, RecordingClientFactory(lambda: client)
        )
        self.net.run()
        self.assertEqual(client.received, b"x")
        peer.assert_done()

    def test_halfClose(self) -> None:
        """
        After C{half_close()} the peer reads the end of the stream and can
        still answer; the scripted side reads the answer.
        """
        server = HalfCloseableRecorder()
        factory = RecordingServerFactory(lambda: server)
        port = self.net.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        original = server.readConnectionLost

        def answer() -> None:
            original()
            server.tcp.write(b"answer")
            server.tcp.loseConnection()

        server.readConnectionLost = answer  # type: ignore[method-assign]
        peer = ScriptedPeer.connect(
            self.net,
            Script().send(b"question").half_close().expect(b"answer").expect_close(),
            "127.0.0.1",
            port.getHost().port,
        )
        self.net.run()
        peer.assert_done()
        self.assertEqual(server.received, b"question")
        self.assertIn(("readLost", None), server.events)
        self.assertTrue(peer.runs[0].write_shut)

    def test_closesAfterThePeerClosed(self) -> None:
        """
        Once the peer closed and the script is over, the scripted side
        closes too, leaving nothing half-open.
        """
        peer = self.serve(Script().expect(b"q").expect_close())

        def ask(client: Recorder) -> None:
            client.tcp.write(b"q")
            client.tcp.loseConnection()

        client = self.connect(peer, ask)
        self.net.run()
        peer.assert_done()
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionDone))
        self.assertEqual(self.net.open_connections(), [])

    def test_stop(self) -> None:
        """
        C{stop()} stops listening, cancels a wait and aborts the connection.
        """
        peer = self.serve(Script().wait(10).send(b"x"), connections=2)
        client = self.connect(peer)
        self.net.advance(1)
        peer.stop()
        self.net.advance(0)
        assert client.reason is not None
        self.assertTrue(client.reason.check(ConnectionLost))
        self.assertEqual(self.net.getDelayedCalls(), [])
        self.assertEqual(self.net.listening_ports(), [])
        self.assertEqual(
            peer.runs[0].describe(),
            "waiting, at step 1 of 2: wait(10); 0 bytes received, 0 not yet read "
            "by a step; stopped",
        )

    def test_describeAfterTheEnd(self) -> None:
        """
        A run describes its end: finished, or its deviation.
        """
        peer = self.serve(Script().send(b"x").close())
        self.connect(peer)
        self.net.run()
        self.assertEqual(peer.runs[0].describe(), "finished")
        self.assertEqual(
            repr(peer), "<ScriptedPeer 'scripted server': 1 connection(s)>"
        )
        self.assertEqual(
            repr(peer.runs[0]), "<ScriptRun of 'scripted server' at step 2>"
        )

    def test_whenDone(self) -> None:
        """
        C{when_done()} fires once the script was played to its end, or
        fails with the deviation.
        """
        peer = self.serve(Script().expect(b"a").close())
        done = peer.when_done()
        self.assertNoResult(done)
        self.connect(peer, lambda r: r.tcp.write(b"a"))
        self.assertIsNone(self.net.run_until(done))
        self.assertIsNone(self.successResultOf(peer.when_done()))
        other = self.serve(Script().expect(b"a"))
        failed = other.when_done()
        self.connect(other, lambda r: r.tcp.write(b"b"))
        self.net.run()
        self.failureResultOf(failed, ScriptDeviation)
        self.failureResultOf(other.when_done(), ScriptDeviation)
        self.flushLoggedErrors(ScriptDeviation)

    def test_clientStillConnecting(self) -> None:
        """
        A scripted client whose connection never came is not done; stopping
        it leaves the attempt to its timeout.
        """
        port = self.net.listenTCP(0, RecordingServerFactory(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.net.faults.hang(port)
        peer = ScriptedPeer.connect(
            self.net,
            Script().send(b"x"),
            "127.0.0.1",
            port.getHost().port,
            timeout=5,
        )
        self.net.advance(1)
        error = self.assertRaises(ScriptNotFinished, peer.assert_done)
        self.assertIn("expected 1 connection(s), 0 came", str(error))
        peer.stop()
        self.net.run()
        self.assertIn("could not connect: TimeoutError", str(self.deviation(peer)))

    def test_describeADeviation(self) -> None:
        """
        A run that deviated describes itself by its deviation.
        """
        peer = self.serve(Script().expect(b"a"))
        self.connect(peer, lambda r: r.tcp.write(b"b"))
        error = self.deviation(peer)
        self.assertEqual(peer.runs[0].describe(), str(error))

    def test_badArguments(self) -> None:
        """
        A script that is not a L{Script}, a reactor without a clock, or a
        bad number of connections is refused.
        """
        self.assertRaises(
            TypeError,
            ScriptedPeer.listen,
            self.net,
            [Send(b"x")],
        )
        self.assertRaises(TypeError, ScriptedPeer.listen, MemoryReactor(), Script())
        self.assertRaises(TypeError, self.serve, Script(), connections="2")
        self.assertRaises(ValueError, self.serve, Script(), connections=0)
        self.assertEqual(self.net.listening_ports(), [])
