"""
Tests for link conditions of L{poetry.testing.MemoryNetwork}: chunking
policies, latency, jitter and bandwidth, where conditions come from, host
views, L{every_split} and L{assert_every_split}.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    DNSLookupError,
    TimeoutError,
)
from twisted.internet.interfaces import (
    IReactorPluggableNameResolver,
    IReactorTCP,
    IReactorTime,
)
from twisted.internet.protocol import Protocol
from twisted.protocols.basic import LineReceiver
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from poetry.testing import (
    CLIENT_TO_SERVER,
    ONE_BYTE,
    PAIRS_UP_TO,
    PLAIN,
    SERVER_TO_CLIENT,
    WHOLE,
    Coalesce,
    FixedSize,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    RandomSizes,
    SplitAt,
    SplitError,
    assert_deterministic,
    assert_every_split,
    every_split,
)
from poetry.testing._link import Link
from tests.unit.test_testing_support import (
    ConnectedPair,
    PushProducer,
    Recorder,
    RecordingClientFactory,
    RecordingServerFactory,
    connect_pair,
    port_number,
    run_document_example,
)


def events(net: MemoryNetwork, *kinds: str) -> list[tuple[float, str, str, str]]:
    """
    C{(time, kind, side, detail)} of the trace events of the given kinds.
    """
    return [
        (event.time, event.kind, event.side, event.detail)
        for event in net.trace
        if event.kind in kinds
    ]


def deliveries(net: MemoryNetwork, side: str = "client") -> list[tuple[float, str]]:
    """
    C{(time, detail)} of the deliveries to C{side}.
    """
    return [
        (event.time, event.detail)
        for event in net.trace
        if event.kind == "deliver" and event.side == side
    ]


def write_and_close(payload: bytes) -> Callable[[Recorder], None]:
    """
    A C{connectionMade} hook that writes C{payload} and closes.
    """

    def made(protocol: Recorder) -> None:
        protocol.tcp.write(payload)
        protocol.tcp.loseConnection()

    return made


def data(recorder: Recorder) -> list[bytes]:
    """
    The chunks a recorder received, in order.
    """
    return list(recorder.chunks)


def start_pair(net: MemoryNetwork, interface: str = "127.0.0.1") -> Any:
    """
    Listen and connect without letting time pass; return the server factory,
    the client factory and the port (the caller runs the network).
    """
    server_factory = RecordingServerFactory()
    client_factory = RecordingClientFactory()
    port = net.listenTCP(0, server_factory, interface=interface)
    net.connectTCP(interface, port_number(port), client_factory)
    return server_factory, client_factory, port


class ChunkingPolicyTests(SynchronousTestCase):
    """
    The policies on their own: how they cut writes and limit pieces.
    """

    def test_whole(self) -> None:
        """
        L{WHOLE} never cuts a send, merges what has arrived (one read takes
        it all, as on loopback TCP) and sets no piece limit.
        """
        self.assertIsNone(WHOLE.segment(100, 0, random.Random(1)))
        self.assertTrue(WHOLE.merges)
        self.assertIsNone(WHOLE.piece_limit(0))
        self.assertFalse(ONE_BYTE.merges)
        self.assertFalse(RandomSizes(1, 2).merges)

    def test_fixedSize(self) -> None:
        """
        L{FixedSize} cuts a send into pieces of its size, the last one
        shorter; a send no longer than the size is not cut.
        """
        self.assertEqual(FixedSize(4).segment(10, 0, random.Random(1)), [4, 4, 2])
        self.assertEqual(FixedSize(4).segment(8, 3, random.Random(1)), [4, 4])
        self.assertIsNone(FixedSize(4).segment(4, 0, random.Random(1)))
        self.assertEqual(ONE_BYTE.segment(3, 0, random.Random(1)), [1, 1, 1])

    def test_randomSizesDrawFromTheGenerator(self) -> None:
        """
        L{RandomSizes} draws each piece's size with C{randint(low, high)}
        from the generator it is given, cutting the last piece short.
        """
        mirror = random.Random(7)
        expected: list[int] = []
        left = 50
        while left:
            size = min(mirror.randint(3, 9), left)
            expected.append(size)
            left -= size
        self.assertEqual(RandomSizes(3, 9).segment(50, 0, random.Random(7)), expected)

    def test_coalesce(self) -> None:
        """
        L{Coalesce} merges, up to its maximum if it has one.
        """
        self.assertTrue(Coalesce().merges)
        self.assertIsNone(Coalesce().piece_limit(10))
        self.assertEqual(Coalesce(5).piece_limit(10), 5)

    def test_splitAt(self) -> None:
        """
        L{SplitAt} cuts a send where an offset falls inside it, and limits
        a piece to the next offset after its first byte.
        """
        policy = SplitAt((5, 2))
        self.assertEqual(policy.offsets, (2, 5))
        self.assertEqual(policy.segment(8, 0, random.Random(1)), [2, 3, 3])
        self.assertEqual(policy.segment(5, 3, random.Random(1)), [2, 3])
        self.assertIsNone(policy.segment(2, 0, random.Random(1)))
        self.assertIsNone(policy.segment(3, 5, random.Random(1)))
        self.assertEqual(policy.piece_limit(0), 2)
        self.assertEqual(policy.piece_limit(2), 3)
        self.assertIsNone(policy.piece_limit(5))

    def test_invalidPolicies(self) -> None:
        """
        Sizes and offsets must be positive ints, and C{low <= high}.
        """
        self.assertRaises(ValueError, FixedSize, 0)
        self.assertRaises(ValueError, FixedSize, True)
        self.assertRaises(ValueError, RandomSizes, 5, 2)
        self.assertRaises(ValueError, RandomSizes, 0, 2)
        self.assertRaises(ValueError, Coalesce, 0)
        self.assertRaises(ValueError, SplitAt, (0, 3))

    def test_invalidConditions(self) -> None:
        """
        Latency and jitter must be finite and not negative, bandwidth
        positive (or L{None}), chunking a policy; a C{bool} is no number.
        """
        self.assertRaises(ValueError, LinkConditions, latency=-1)
        self.assertRaises(ValueError, LinkConditions, latency=True)
        self.assertRaises(ValueError, LinkConditions, jitter=float("inf"))
        self.assertRaises(ValueError, LinkConditions, bandwidth=0)
        self.assertRaises(TypeError, LinkConditions, chunking="random")
        self.assertTrue(PLAIN.plain)
        self.assertFalse(LinkConditions(chunking=ONE_BYTE).plain)
        self.assertFalse(LinkConditions(bandwidth=10).plain)


def links_of(net: MemoryNetwork, transport: Any) -> list[Link]:
    """
    The two links (client to server, server to client) of the connection of
    C{transport}.
    """
    connection = net._tcp.connections[transport.connection_id]
    return [connection.link(CLIENT_TO_SERVER), connection.link(SERVER_TO_CLIENT)]


class ZeroCostTests(MemoryNetworkTestCase):
    """
    A network without conditions or faults keeps the plain path: links that
    hand every send straight to the receiving socket.
    """

    def test_plainLinksByDefault(self) -> None:
        """
        Without any condition or fault, both links of a connection are
        plain, and the network has created no link control at all.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.assertEqual(
            [link.plain for link in links_of(self.net, pair.client.tcp)], [True, True]
        )
        self.assertIsNone(self.net._links)
        pair.client.tcp.loseConnection()

    def test_plainConditionsKeepPlainLinks(self) -> None:
        """
        Conditions that change nothing (L{PLAIN}) keep the links plain;
        other conditions do not.
        """
        self.net.set_default_link(PLAIN)
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        links = links_of(self.net, pair.client.tcp)
        self.assertEqual([link.plain for link in links], [True, True])
        self.net.set_default_link(LinkConditions(chunking=ONE_BYTE))
        self.assertEqual([link.plain for link in links], [False, False])
        pair.client.tcp.loseConnection()


class ChunkingTests(MemoryNetworkTestCase):
    """
    Chunking policies on live connections: what C{dataReceived} gets.
    """

    def pair(self, conditions: LinkConditions) -> ConnectedPair:
        self.net.set_default_link(conditions)
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        return pair

    def test_wholeIsLoopback(self) -> None:
        """
        By default (L{WHOLE}), as on loopback TCP: the writes of one
        callback are one send and arrive in one C{dataReceived}; sends that
        arrived while the reader was paused are read together; one read
        takes at most 64 KiB (the transport's C{bufferSize}).  (Oracle:
        C{writesOfOneCallbackArriveInOneRead},
        C{sendsThatArrivedAreReadTogether}.)
        """
        pair = self.pair(PLAIN)
        pair.server.tcp.write(b"one\r\n")
        pair.server.tcp.write(b"two\r\n")
        self.net.run()
        pair.client.tcp.pauseProducing()
        pair.server.tcp.write(b"abc")
        self.net.run()
        pair.server.tcp.write(b"def")
        self.net.run()
        pair.client.tcp.resumeProducing()
        self.net.run()
        pair.server.tcp.write(b"x" * 100_000)
        self.net.run()
        self.assertEqual(
            [len(chunk) for chunk in data(pair.client)], [10, 6, 65536, 100_000 - 65536]
        )
        self.assertEqual(
            events(self.net, "flush"),
            [(0.0, "flush", "server", f"{n} bytes") for n in (10, 3, 3, 100_000)],
        )
        pair.server.tcp.loseConnection()

    def test_oneByteAtATime(self) -> None:
        """
        With L{ONE_BYTE}, a 5-byte write is sent in the step after it (the
        transport's dispatch), then arrives as five C{dataReceived} calls of
        one byte, each in its own step, without time passing; the trace
        shows one write, one flush and five deliveries.
        """
        pair = self.pair(LinkConditions(chunking=ONE_BYTE))
        pair.server.tcp.write(b"hello")
        self.net.step()
        self.assertEqual(data(pair.client), [])
        self.net.step()
        self.assertEqual(data(pair.client), [b"h"])
        self.net.step()
        self.assertEqual(data(pair.client), [b"h", b"e"])
        self.net.run()
        self.assertEqual(data(pair.client), [b"h", b"e", b"l", b"l", b"o"])
        self.assertEqual(
            events(self.net, "write", "flush", "deliver"),
            [(0.0, "write", "server", "5 bytes"), (0.0, "flush", "server", "5 bytes")]
            + [(0.0, "deliver", "client", "1 bytes")] * 5,
        )
        pair.server.tcp.loseConnection()

    def test_oneByteAfterAPause(self) -> None:
        """
        L{ONE_BYTE} still gives one byte per C{dataReceived} when the bytes
        of several sends have all arrived while the reader was paused.
        """
        pair = self.pair(LinkConditions(chunking=ONE_BYTE))
        pair.client.tcp.pauseProducing()
        pair.server.tcp.write(b"ab")
        self.net.run()
        pair.server.tcp.write(b"cd")
        self.net.run()
        self.assertEqual(data(pair.client), [])
        self.assertEqual(len(events(self.net, "flush")), 2)
        pair.client.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(data(pair.client), [b"a", b"b", b"c", b"d"])
        pair.server.tcp.loseConnection()

    def test_fixedSizeCutsEachSend(self) -> None:
        """
        L{FixedSize} cuts each send on its own: writes of 10 and 3 bytes
        made in different steps (two sends) arrive as 4, 4, 2 and 3 bytes;
        made in one callback (one send of 13 bytes), as 4, 4, 4 and 1.
        """
        pair = self.pair(LinkConditions(chunking=FixedSize(4)))
        pair.server.tcp.write(b"0123456789")
        self.net.run()
        pair.server.tcp.write(b"abc")
        self.net.run()
        self.assertEqual(data(pair.client), [b"0123", b"4567", b"89", b"abc"])
        pair.server.tcp.write(b"0123456789")
        pair.server.tcp.write(b"abc")
        self.net.run()
        self.assertEqual(data(pair.client)[4:], [b"0123", b"4567", b"89ab", b"c"])
        pair.server.tcp.loseConnection()

    def test_randomSizesFromTheNetworkGenerator(self) -> None:
        """
        L{RandomSizes} draws from C{net.random}: the pieces are those a
        generator seeded like the network predicts, and they add up to what
        was written.
        """
        net = MemoryNetwork(1234, link=LinkConditions(chunking=RandomSizes(1, 7)))
        pair = connect_pair(net)
        payload = bytes(range(40))
        pair.server.tcp.write(payload)
        net.run()
        mirror = random.Random(1234)
        expected = RandomSizes(1, 7).segment(40, 0, mirror)
        assert expected is not None
        self.assertEqual([len(chunk) for chunk in data(pair.client)], expected)
        self.assertEqual(pair.client.received, payload)
        pair.server.tcp.loseConnection()
        pair.port.stopListening()
        net.run()
        net.assert_clean()

    def test_coalesceMergesPendingWrites(self) -> None:
        """
        L{Coalesce} delivers the writes of one callback (one send) in one
        C{dataReceived}; a close after them still comes after the data.
        """
        pair = self.pair(LinkConditions(chunking=Coalesce()))
        pair.server.tcp.write(b"abc")
        pair.server.tcp.write(b"def")
        pair.server.tcp.writeSequence([b"g", b"hi"])
        pair.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(data(pair.client), [b"abcdefghi"])
        self.assertEqual(pair.client.names(), ["made", "data", "lost"])
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionDone))

    def test_coalesceUpToAMaximum(self) -> None:
        """
        L{Coalesce} with a maximum cuts the merged bytes into pieces of at
        most that many bytes, across write boundaries.
        """
        pair = self.pair(LinkConditions(chunking=Coalesce(5)))
        pair.server.tcp.write(b"abc")
        pair.server.tcp.write(b"defgh")
        pair.server.tcp.write(b"ijklmnopq")
        self.net.run()
        self.assertEqual(data(pair.client), [b"abcde", b"fghij", b"klmno", b"pq"])
        pair.server.tcp.loseConnection()

    def test_coalesceWaitsForAPausedReader(self) -> None:
        """
        Sends made while the receiver paused reading are delivered together
        when it resumes.
        """
        pair = self.pair(LinkConditions(chunking=Coalesce()))
        pair.client.tcp.pauseProducing()
        for piece in (b"one ", b"two ", b"three"):
            pair.server.tcp.write(piece)
            self.net.run()
        self.assertEqual(data(pair.client), [])
        pair.client.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(data(pair.client), [b"one two three"])
        pair.server.tcp.loseConnection()

    def test_splitAtCutsTheStreamExactly(self) -> None:
        """
        L{SplitAt} cuts the stream at its offsets, whatever the writes:
        C{abc} and C{defgh} written together with cuts at 2 and 5 arrive as
        C{ab}, C{cde}, C{fgh}.
        """
        pair = self.pair(LinkConditions(chunking=SplitAt((2, 5))))
        pair.server.tcp.write(b"abc")
        pair.server.tcp.write(b"defgh")
        self.net.run()
        self.assertEqual(data(pair.client), [b"ab", b"cde", b"fgh"])
        pair.server.tcp.loseConnection()

    def test_splitAtCutsSendsThatArrivedTogether(self) -> None:
        """
        Sends that all arrived while the reader was paused are still read
        in exactly the planned pieces: cut at 2 and 5, joined after that.
        """
        pair = self.pair(LinkConditions(chunking=SplitAt((2, 5))))
        pair.client.tcp.pauseProducing()
        for piece in (b"a", b"bcd", b"efg", b"hi"):
            pair.server.tcp.write(piece)
            self.net.run()
        pair.client.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(data(pair.client), [b"ab", b"cde", b"fghi"])
        pair.server.tcp.loseConnection()

    def test_splitAtNeverWaitsForBytesNotWritten(self) -> None:
        """
        A piece is delivered as soon as its bytes are there: with a cut at
        5, a first write of 3 bytes arrives alone, not held back.
        """
        pair = self.pair(LinkConditions(chunking=SplitAt((5,))))
        pair.server.tcp.write(b"abc")
        self.net.run()
        pair.server.tcp.write(b"defgh")
        self.net.run()
        self.assertEqual(data(pair.client), [b"abc", b"de", b"fgh"])
        pair.server.tcp.loseConnection()

    def test_chunkingOfBothDirections(self) -> None:
        """
        Default conditions apply to both directions.
        """
        pair = self.pair(LinkConditions(chunking=FixedSize(2)))
        pair.client.tcp.write(b"ping")
        pair.server.tcp.write(b"pong")
        self.net.run()
        self.assertEqual(data(pair.server), [b"pi", b"ng"])
        self.assertEqual(data(pair.client), [b"po", b"ng"])
        pair.server.tcp.loseConnection()

    def test_backpressureStillWorks(self) -> None:
        """
        Under L{ONE_BYTE}, a streaming producer is still paused by the write
        that leaves more than C{bufferSize} (64 KiB) buffered, and resumed
        only once the buffer has been handed to the kernel -- which, with
        8-byte kernel queues, the reader's one-byte reads drive: when it is
        resumed, all but what the two queues hold has been read.
        """
        net = MemoryNetwork(
            self.net.seed,
            link=LinkConditions(chunking=ONE_BYTE),
            receive_buffer=8,
            send_buffer=8,
        )
        pair = connect_pair(net)
        read_at_resume: list[int] = []

        class Producer(PushProducer):
            def resumeProducing(self) -> None:
                read_at_resume.append(len(pair.client.received))
                super().resumeProducing()

        producer = Producer()
        pair.server.tcp.registerProducer(producer, True)
        payload = bytes(range(256)) * 256 + b"!"
        pair.server.tcp.write(payload)
        self.assertEqual(producer.events, ["pause"])
        net.run()
        self.assertEqual(producer.events, ["pause", "resume"])
        self.assertEqual(len(read_at_resume), 1)
        self.assertGreaterEqual(read_at_resume[0], len(payload) - (8 + 8))
        self.assertLess(read_at_resume[0], len(payload))
        self.assertEqual(set(map(len, data(pair.client))), {1})
        self.assertEqual(pair.client.received, payload)
        pair.server.tcp.unregisterProducer()
        pair.server.tcp.loseConnection()
        pair.port.stopListening()
        net.run()
        net.assert_clean()


class LatencyTests(MemoryNetworkTestCase):
    """
    Latency, jitter and bandwidth on the virtual clock.
    """

    def test_latencyDelaysHandshakeDataAndClose(self) -> None:
        """
        With a latency of 0.25 s: the connection is made at 0.25 (both
        sides), a write made then arrives at 0.5, and the close after it
        reaches the client at 0.5 too, after the data; each arrival is a
        timer of the link, and nothing is left afterwards.
        """
        self.net.set_default_link(LinkConditions(latency=0.25))
        server_factory = RecordingServerFactory(
            lambda: Recorder(on_made=write_and_close(b"hi"))
        )
        client_factory = RecordingClientFactory()
        port = self.net.listenTCP(0, server_factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.net.connectTCP("127.0.0.1", port_number(port), client_factory)
        self.net.run()
        client = client_factory.protocols[0]
        assert isinstance(client, Recorder)
        self.assertEqual(
            client.events, [("made", None), ("data", b"hi"), ("lost", ConnectionDone)]
        )
        self.assertEqual(
            [
                (t, kind, side)
                for t, kind, side, _ in events(
                    self.net,
                    "connect",
                    "accept",
                    "write",
                    "deliver",
                    "eof",
                    "connection-lost",
                )
            ],
            [
                (0.0, "connect", "client"),
                (0.25, "accept", "server"),
                (0.25, "write", "server"),
                (0.25, "connection-lost", "server"),
                (0.5, "deliver", "client"),
                (0.5, "eof", "client"),
                (0.5, "connection-lost", "client"),
            ],
        )
        self.assertEqual(self.net.getDelayedCalls(), [])

    def test_dataArrivesAfterTheLatency(self) -> None:
        """
        Bytes written at t arrive at t + latency: the arrival timer shows in
        C{getDelayedCalls()} while they are in flight.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.net.set_default_link(LinkConditions(latency=0.5))
        pair.server.tcp.write(b"abc")
        self.net.advance(0.25)
        self.assertEqual(data(pair.client), [])
        self.assertEqual([c.getTime() for c in self.net.getDelayedCalls()], [0.5])
        self.net.advance(0.25)
        self.assertEqual(data(pair.client), [b"abc"])
        self.assertEqual(deliveries(self.net), [(0.5, "3 bytes")])
        pair.server.tcp.loseConnection()
        self.net.run()

    def test_jitterNeverReorders(self) -> None:
        """
        With jitter larger than the gap between writes, arrival times still
        never decrease and the bytes arrive in order; each arrival is at
        least the latency after its write and at most latency plus jitter
        (or the previous arrival, when that is later).  (A non-merging
        policy keeps one C{dataReceived} per send, so that each arrival can
        be matched with its write.)
        """
        net = MemoryNetwork(99)
        pair = connect_pair(net)
        net.set_default_link(
            LinkConditions(chunking=FixedSize(2), latency=1.0, jitter=2.0)
        )
        written: list[float] = []

        def write(index: int) -> None:
            written.append(net.seconds())
            pair.server.tcp.write(b"%02d" % index)

        for index in range(30):
            net.callLater(index * 0.1, write, index)
        net.run()
        self.assertEqual(pair.client.received, b"".join(b"%02d" % i for i in range(30)))
        times = [t for t, _ in deliveries(net)]
        self.assertEqual(times, sorted(times))
        clamped = 0
        previous = 0.0
        for sent, arrived in zip(written, times, strict=True):
            self.assertGreaterEqual(arrived, sent + 1.0)
            if arrived > sent + 3.0:
                self.assertEqual(arrived, previous)
            if arrived == previous:
                clamped += 1
            previous = arrived
        # Jitter of 2 s over writes 0.1 s apart: some arrivals wait for an
        # earlier one.
        self.assertGreater(clamped, 0)
        pair.server.tcp.loseConnection()
        pair.port.stopListening()
        net.run()
        net.assert_clean()

    def test_bandwidthPacesSegments(self) -> None:
        """
        At 1024 bytes per second, 1024 bytes cut into 256-byte pieces arrive
        0.25 s apart (plus the latency); a second send, in a later step of
        the same instant, waits for the link.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.net.set_default_link(
            LinkConditions(chunking=FixedSize(256), latency=0.5, bandwidth=1024)
        )
        pair.server.tcp.write(b"x" * 1024)
        self.net.advance(0)
        self.assertEqual(len(events(self.net, "flush")), 1)
        pair.server.tcp.write(b"y" * 256)
        self.net.run()
        self.assertEqual(
            deliveries(self.net),
            [
                (0.75, "256 bytes"),
                (1.0, "256 bytes"),
                (1.25, "256 bytes"),
                (1.5, "256 bytes"),
                (1.75, "256 bytes"),
            ],
        )
        self.assertEqual(data(pair.client)[-1], b"y" * 256)
        pair.server.tcp.loseConnection()
        self.net.run()

    def test_closeComesAfterPacedData(self) -> None:
        """
        A close right after a write that the bandwidth spreads over a second
        reaches the peer after the last byte.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.net.set_default_link(
            LinkConditions(chunking=FixedSize(512), bandwidth=1024)
        )
        pair.server.tcp.write(b"z" * 1024)
        pair.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(
            [(t, kind) for t, kind, _, _ in events(self.net, "deliver", "eof")],
            [(0.5, "deliver"), (1.0, "deliver"), (1.0, "eof")],
        )
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionDone))

    def test_abortDropsUnsentDataAndResetsAfterTheLatency(self) -> None:
        """
        C{abortConnection()} drops what the transport has not sent (bytes
        written just before it), not what is already on the wire: the
        aborting side gets L{ConnectionAborted} at once (in the next step);
        the peer reads the bytes sent before, then the reset arrives one
        latency after the abort, behind them: L{ConnectionLost}.  (Oracle:
        C{abortDropsDataWrittenInTheSameCall} and
        C{abortToAPausedPeerIsNoticedOnResume} -- bytes that reached the
        peer before the C{RST} are still read.)
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.net.set_default_link(LinkConditions(latency=2.0))
        pair.server.tcp.write(b"on the wire")
        self.net.advance(1.0)
        pair.server.tcp.write(b"never sent")
        pair.server.tcp.abortConnection()
        self.net.run()
        self.assertEqual(pair.server.events[-1], ("lost", ConnectionAborted))
        self.assertEqual(
            pair.client.events,
            [("made", None), ("data", b"on the wire"), ("lost", ConnectionLost)],
        )
        self.assertEqual(
            [
                (t, kind, side)
                for t, kind, side, _ in events(
                    self.net, "flush", "connection-lost", "deliver", "reset"
                )
            ],
            [
                (0.0, "flush", "server"),
                (1.0, "connection-lost", "server"),
                (2.0, "deliver", "client"),
                (3.0, "reset", "client"),
                (3.0, "connection-lost", "client"),
            ],
        )

    def test_closeWithBytesStillInFlightIsOrderly(self) -> None:
        """
        Only bytes that have arrived count as unread when a socket closes: a
        close while the peer's bytes are still in flight sends just a
        C{FIN} (the bytes are answered with a C{RST} when they reach the
        closed socket); a close with bytes that arrived and are unread sends
        the C{FIN} and then a C{RST} at once.  The peer reads the C{FIN}
        first either way: L{ConnectionDone}.  (Oracle:
        C{closeWithUnreadIncomingBytes}.)
        """
        self.net.set_default_link(LinkConditions(latency=1.0))
        first = connect_pair_later(self.net)
        self.addCleanup(first.port.stopListening)
        start = self.net.seconds()
        first.client.tcp.write(b"in flight")
        first.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(first.client.events[-1], ("lost", ConnectionDone))
        self.assertEqual(
            [
                (t - start, side, detail)
                for t, _, side, detail in events(self.net, "rst")
            ],
            [(1.0, "server", "data to a closed socket")],
        )
        second = connect_pair_later(self.net)
        self.addCleanup(second.port.stopListening)
        second.server.tcp.pauseProducing()
        second.client.tcp.write(b"arrived")
        self.net.advance(2.0)
        start = self.net.seconds()
        second.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(second.client.events[-1], ("lost", ConnectionDone))
        self.assertEqual(
            [
                (t - start, kind, side, detail)
                for t, kind, side, detail in events(self.net, "fin", "rst", "reset")
            ][-3:],
            [
                (0.0, "fin", "server", ""),
                (0.0, "rst", "server", "closed with 7 bytes unread"),
                (1.0, "reset", "client", "EPIPE"),
            ],
        )

    def test_connectTimeoutShorterThanLatency(self) -> None:
        """
        A connection attempt that would take longer than the connector's
        timeout fails with L{TimeoutError} exactly at the timeout; the
        server never accepts, and no timer is left.
        """
        self.net.set_default_link(LinkConditions(latency=3.0))
        server_factory = RecordingServerFactory()
        client_factory = RecordingClientFactory()
        port = self.net.listenTCP(0, server_factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.net.connectTCP("127.0.0.1", port_number(port), client_factory, timeout=1.5)
        self.net.run()
        self.assertEqual(self.net.seconds(), 1.5)
        self.assertEqual(
            client_factory.names(),
            ["doStart", "startedConnecting", "clientConnectionFailed", "doStop"],
        )
        self.assertTrue(client_factory.reasons[0].check(TimeoutError))
        self.assertEqual(server_factory.protocols, [])
        self.assertEqual(events(self.net, "accept"), [])


class PrecedenceTests(MemoryNetworkTestCase):
    """
    Where a connection's conditions come from: connection, then listener,
    then host pair, then default.
    """

    def setUp(self) -> None:
        super().setUp()
        self.net.add_host("alpha", "10.0.0.1")
        self.net.add_host("beta", "10.0.0.2")

    def connect(
        self, interface: str = "10.0.0.2", source: str = "alpha"
    ) -> ConnectedPair:
        server_factory = RecordingServerFactory()
        client_factory = RecordingClientFactory()
        port = self.net.listenTCP(0, server_factory, interface=interface)
        self.addCleanup(port.stopListening)
        connector = self.net.host(source).connectTCP(
            interface, port_number(port), client_factory
        )
        self.net.advance(0)
        server, client = server_factory.protocols[0], client_factory.protocols[0]
        assert isinstance(server, Recorder) and isinstance(client, Recorder)
        self.addCleanup(client.tcp.loseConnection)
        return ConnectedPair(port, connector, server, client)

    def test_mostSpecificWins(self) -> None:
        """
        Each more specific setting overrides the less specific ones, per
        direction, and removing it (L{None}) falls back to the next.
        """
        default = LinkConditions(chunking=FixedSize(1))
        pair_link = LinkConditions(chunking=FixedSize(2))
        listener = LinkConditions(chunking=FixedSize(3))
        own = LinkConditions(chunking=FixedSize(4))
        self.net.set_default_link(default)
        pair = self.connect()
        connection = pair.client.tcp
        self.assertEqual(self.net.link_for(connection, CLIENT_TO_SERVER), default)
        self.net.set_link("alpha", "beta", pair_link)
        self.assertEqual(self.net.link_for(connection, SERVER_TO_CLIENT), pair_link)
        self.net.set_link_for_listener(pair.port, listener)
        self.assertEqual(self.net.link_for(connection, SERVER_TO_CLIENT), listener)
        self.net.set_connection_link(
            connection.connection_id, own, direction=SERVER_TO_CLIENT
        )
        self.assertEqual(self.net.link_for(connection, SERVER_TO_CLIENT), own)
        self.assertEqual(self.net.link_for(connection, CLIENT_TO_SERVER), listener)
        pair.server.tcp.write(b"abcdefgh")
        pair.client.tcp.write(b"abcdefgh")
        self.net.run()
        self.assertEqual(data(pair.client), [b"abcd", b"efgh"])
        self.assertEqual(data(pair.server), [b"abc", b"def", b"gh"])
        self.net.set_connection_link(connection, None)
        self.net.set_link_for_listener(pair.port, None)
        self.assertEqual(self.net.link_for(connection, SERVER_TO_CLIENT), pair_link)
        self.net.set_link("alpha", "beta", None)
        self.assertEqual(self.net.link_for(connection, SERVER_TO_CLIENT), default)
        self.net.set_default_link(None)
        self.assertEqual(self.net.link_for(connection, SERVER_TO_CLIENT), PLAIN)

    def test_oneWayHostPair(self) -> None:
        """
        C{set_link(a, b, c, one_way=True)} affects only bytes from C{a} to
        C{b}: here the client's requests, not the server's replies.
        """
        self.net.set_link(
            "alpha", "beta", LinkConditions(chunking=ONE_BYTE), one_way=True
        )
        pair = self.connect()
        pair.client.tcp.write(b"abc")
        pair.server.tcp.write(b"xyz")
        self.net.run()
        self.assertEqual(data(pair.server), [b"a", b"b", b"c"])
        self.assertEqual(data(pair.client), [b"xyz"])

    def test_hostPairNeedsTheHosts(self) -> None:
        """
        A host-pair setting does not apply to a connection between other
        hosts.
        """
        self.net.set_link("alpha", "10.9.9.9", LinkConditions(chunking=ONE_BYTE))
        pair = self.connect()
        pair.server.tcp.write(b"xyz")
        self.net.run()
        self.assertEqual(data(pair.client), [b"xyz"])

    def test_listenerOnAnyAddress(self) -> None:
        """
        A listener setting for C{0.0.0.0} applies to the connections made to
        that port on any address.
        """
        server_factory = RecordingServerFactory()
        port = self.net.listenTCP(0, server_factory)
        self.addCleanup(port.stopListening)
        self.net.set_link_for_listener(
            ("0.0.0.0", port_number(port)), LinkConditions(chunking=ONE_BYTE)
        )
        client_factory = RecordingClientFactory()
        self.net.connectTCP("10.0.0.2", port_number(port), client_factory)
        self.net.advance(0)
        server = server_factory.protocols[0]
        client = client_factory.protocols[0]
        assert isinstance(server, Recorder) and isinstance(client, Recorder)
        server.tcp.write(b"ab")
        self.net.run()
        self.assertEqual(data(client), [b"a", b"b"])
        client.tcp.loseConnection()

    def test_changeAppliesToOpenConnectionKeepingBytesInFlight(self) -> None:
        """
        Setting conditions on an open connection keeps the bytes already in
        flight (their piece and arrival time) and applies to later sends.
        """
        pair = self.connect()
        slow = LinkConditions(latency=1.0)
        self.net.set_connection_link(pair.client.tcp, slow)
        pair.server.tcp.write(b"queued")
        self.net.advance(0.5)
        self.net.set_connection_link(
            pair.client.tcp, attrs.evolve(slow, chunking=FixedSize(3))
        )
        pair.server.tcp.write(b"later!")
        self.net.run()
        self.assertEqual(data(pair.client), [b"queued", b"lat", b"er!"])
        self.assertEqual(
            deliveries(self.net), [(1.0, "6 bytes"), (1.5, "3 bytes"), (1.5, "3 bytes")]
        )
        pair.client.tcp.loseConnection()
        self.net.run()

    def test_badSettings(self) -> None:
        """
        Unknown hosts and directions raise L{ValueError}, conditions of the
        wrong type L{TypeError}, a closed or unknown connection
        L{ValueError}.
        """
        self.assertRaises(ValueError, self.net.set_link, "alpha", "nowhere", PLAIN)
        self.assertRaises(ValueError, self.net.set_default_link, PLAIN, direction="up")
        self.assertRaises(TypeError, self.net.set_default_link, "fast")
        self.assertRaises(ValueError, self.net.set_connection_link, 99, PLAIN)
        self.assertRaises(ValueError, self.net.link_for, 99, CLIENT_TO_SERVER)
        self.assertRaises(
            ValueError, self.net.set_link_for_listener, ("127.0.0.1", 70000), PLAIN
        )
        self.assertRaises(TypeError, self.net.set_link_for_listener, "127.0.0.1", PLAIN)
        pair = connect_pair(self.net)
        connection = pair.client.tcp
        pair.client.tcp.loseConnection()
        pair.port.stopListening()
        self.net.run()
        self.assertRaises(ValueError, self.net.set_connection_link, connection, PLAIN)
        self.assertRaises(ValueError, self.net.link_for, connection, CLIENT_TO_SERVER)

    def test_linkForWithoutAnySetting(self) -> None:
        """
        C{link_for} on a network with no settings is L{PLAIN} (and still
        checks the connection id).
        """
        pair = connect_pair(self.net)
        self.assertEqual(self.net.link_for(pair.client.tcp, SERVER_TO_CLIENT), PLAIN)
        self.assertEqual(
            self.net.link_for(pair.client.tcp.connection_id, CLIENT_TO_SERVER), PLAIN
        )
        pair.client.tcp.loseConnection()
        pair.port.stopListening()

    def test_describeListsSettings(self) -> None:
        """
        The network's description (shown by L{Deadlock} and L{Unclean})
        lists the conditions set.
        """
        self.net.set_link("alpha", "beta", LinkConditions(latency=1.0))
        self.assertIn("10.0.0.1 -> 10.0.0.2: LinkConditions(", self.net.describe())


class HostReactorTests(MemoryNetworkTestCase):
    """
    C{net.host(name)}: a reactor for code running on one host.
    """

    def test_interfaces(self) -> None:
        """
        A host view provides the reactor interfaces code under test needs.
        """
        view = self.net.host("127.0.0.2")
        for interface in (IReactorTCP, IReactorTime, IReactorPluggableNameResolver):
            self.assertTrue(verifyObject(interface, view))
        self.assertIs(view.nameResolver, self.net.nameResolver)
        self.assertIs(view.random, self.net.random)

    def test_resolve(self) -> None:
        """
        A host view's C{resolve} is the network's: the same names, the same
        answers.
        """
        self.net.add_host("harbour.test", "10.0.0.5")
        view = self.net.host("127.0.0.2")
        self.assertEqual(self.net.run_until(view.resolve("harbour.test")), "10.0.0.5")
        self.assertEqual(self.successResultOf(view.resolve("10.0.0.6")), "10.0.0.6")

    def test_connectFromTheHost(self) -> None:
        """
        C{connectTCP} through a host view binds the client end to the host;
        C{listenTCP} listens on the host's address by default; time is the
        network's.
        """
        self.net.add_host("server", "10.0.0.2")
        server_view = self.net.host("server")
        client_view = self.net.host("10.0.0.1")
        server_factory = RecordingServerFactory()
        port = server_view.listenTCP(0, server_factory)
        self.addCleanup(port.stopListening)
        self.assertEqual(port.getHost().host, "10.0.0.2")  # type: ignore[attr-defined]  # IAddress does not declare host; this is an IPv4Address
        client_factory = RecordingClientFactory()
        client_view.connectTCP("server", port_number(port), client_factory)
        self.net.advance(0)
        client = client_factory.protocols[0]
        assert isinstance(client, Recorder)
        self.assertEqual(client.tcp.getHost().host, "10.0.0.1")
        self.assertEqual(client.tcp.getPeer().host, "10.0.0.2")
        calls: list[float] = []
        client_view.callLater(2, lambda: calls.append(client_view.seconds()))
        self.assertEqual(len(client_view.getDelayedCalls()), 1)
        self.net.run()
        self.assertEqual(calls, [2.0])
        client.tcp.loseConnection()
        previous = client_view.installNameResolver(self.net.nameResolver)
        self.assertIs(previous, self.net.nameResolver)

    def test_unknownHost(self) -> None:
        """
        A host view needs a known host.
        """
        self.assertRaises(ValueError, self.net.host, "nowhere")
        self.assertRaises(ValueError, self.net.host, "0.0.0.0")
        self.assertIn("10.1.1.1", repr(self.net.host("10.1.1.1")))


class DeterminismTests(SynchronousTestCase):
    """
    Random chunking and jitter come from the network's seed.
    """

    def test_randomChunkingAndJitterAreDeterministic(self) -> None:
        """
        A scenario with random chunk sizes and jitter gives the same trace
        twice for one seed -- and a different one for another seed.
        """

        def scenario(net: MemoryNetwork) -> None:
            net.set_default_link(
                LinkConditions(chunking=RandomSizes(1, 50), latency=0.1, jitter=0.5)
            )
            pair = connect_pair_later(net)
            pair.server.tcp.write(bytes(range(256)) * 4)
            pair.client.tcp.write(b"x" * 100)
            pair.server.tcp.loseConnection()
            net.run()
            pair.port.stopListening()

        first = assert_deterministic(scenario, seed=5)
        other = assert_deterministic(scenario, seed=6)
        self.assertNotEqual(first, other)
        self.assertGreater(sum(event.kind == "deliver" for event in first), 20)


def connect_pair_later(net: MemoryNetwork) -> ConnectedPair:
    """
    L{connect_pair} for a network whose handshake takes time.
    """
    server_factory = RecordingServerFactory()
    client_factory = RecordingClientFactory()
    port = net.listenTCP(0, server_factory, interface="127.0.0.1")
    connector = net.connectTCP("127.0.0.1", port_number(port), client_factory)
    while not (server_factory.protocols and client_factory.protocols):
        net.step()
    server, client = server_factory.protocols[0], client_factory.protocols[0]
    assert isinstance(server, Recorder) and isinstance(client, Recorder)
    return ConnectedPair(port, connector, server, client)


class NaiveLines(Protocol):
    """
    A planted framing bug: looks for the delimiter in each chunk on its own,
    so a C{\\r\\n} split across two C{dataReceived} calls is missed.
    """

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.partial = b""

    def dataReceived(self, data: bytes) -> None:
        if b"\r\n" in data:
            head, _, tail = data.partition(b"\r\n")
            self.lines.append(self.partial + head)
            self.partial = b""
            if tail:
                self.dataReceived(tail)
        else:
            self.partial += data


class GoodLines(LineReceiver):
    """
    The same, done right: L{LineReceiver} buffers.
    """

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)


MESSAGE = b"hello\r\nworld\r\n"


def lines_scenario(protocol: type[NaiveLines] | type[GoodLines]) -> Any:
    """
    A server sends L{MESSAGE} and closes; the client must see two lines.
    """

    def scenario(net: MemoryNetwork) -> None:
        factory = RecordingServerFactory(
            lambda: Recorder(on_made=write_and_close(MESSAGE))
        )
        port = net.listenTCP(0, factory, interface="127.0.0.1")
        client_factory = RecordingClientFactory(protocol)
        net.connectTCP("127.0.0.1", port_number(port), client_factory)
        net.run()
        port.stopListening()
        net.run()  # the port closes in the next iteration, as on the real reactor
        net.assert_clean()
        client = client_factory.protocols[0]
        assert isinstance(client, (NaiveLines, GoodLines))
        if client.lines != [b"hello", b"world"]:
            raise AssertionError(f"lines: {client.lines!r}")

    return scenario


class EverySplitTests(SynchronousTestCase):
    """
    L{every_split} and L{assert_every_split}.
    """

    def test_singlesThenPairs(self) -> None:
        """
        A 4-byte message has 3 single splits, then 3 pairs.
        """
        self.assertEqual(
            [policy.offsets for policy in every_split(b"abcd")],
            [(1,), (2,), (3,), (1, 2), (1, 3), (2, 3)],
        )

    def test_pairsOnlyUpToTheLimit(self) -> None:
        """
        Pairs are yielded only up to L{PAIRS_UP_TO} bytes (64): 63 + 1953
        policies for 64 bytes, 64 for 65; the limit can be changed.
        """
        self.assertEqual(PAIRS_UP_TO, 64)
        self.assertEqual(sum(1 for _ in every_split(64)), 63 + 63 * 62 // 2)
        self.assertEqual(sum(1 for _ in every_split(b"x" * 65)), 64)
        self.assertEqual(sum(1 for _ in every_split(10, pairs_up_to=0)), 9)

    def test_findsThePlantedFramingBug(self) -> None:
        """
        L{assert_every_split} finds the protocol that misses a delimiter cut
        in two, names the offset that cut it (between C{\\r} and C{\\n} of the
        first line) and the seed.
        """
        error = self.assertRaises(
            SplitError,
            assert_every_split,
            lines_scenario(NaiveLines),
            MESSAGE,
            seed=3,
            direction=SERVER_TO_CLIENT,
        )
        self.assertEqual(error.offsets, (6,))
        self.assertEqual(error.seed, 3)
        self.assertIn("cut at offset(s) 6", str(error))
        self.assertIn("POETRY_TEST_SEED=3", str(error))
        self.assertIsInstance(error.__cause__, AssertionError)

    def test_correctFramingPassesEverySplit(self) -> None:
        """
        L{LineReceiver} passes every single and double split of the
        14-byte message: 13 + 78 runs.
        """
        runs = assert_every_split(lines_scenario(GoodLines), MESSAGE, seed=3)
        self.assertEqual(runs, 13 + 78)

    def test_latencyKeptWhileSplitting(self) -> None:
        """
        Other conditions given to L{assert_every_split} are kept: with a
        latency of 1 s, the handshake takes 1 s, the server's reply and
        C{FIN} 1 s; the client closes as the reply arrives, and once both ends
        are closed what is still in flight (the client's C{FIN}) is
        forgotten -- the network is quiet at 2 s in every run.
        """
        seen: list[float] = []

        def scenario(net: MemoryNetwork) -> None:
            lines_scenario(GoodLines)(net)
            seen.append(net.seconds())

        assert_every_split(scenario, b"abc", seed=1, link=LinkConditions(latency=1.0))
        self.assertEqual(seen, [2.0, 2.0, 2.0])


def link_of(net: MemoryNetwork, transport: Any, direction: str) -> Link:
    """
    The link of one direction of the connection of C{transport}.
    """
    connection = net._tcp.connections[transport.connection_id]
    return connection.link(direction)


class LinkInternalsTests(MemoryNetworkTestCase):
    """
    Corners of L{Link} not reached through the policies above.
    """

    def test_truncateKeepsSignals(self) -> None:
        """
        Truncating a link drops the bytes in flight past the offset but
        keeps the C{FIN} queued after them.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.net.set_connection_link(pair.client.tcp, LinkConditions(latency=1.0))
        link = link_of(self.net, pair.client.tcp, SERVER_TO_CLIENT)
        pair.server.tcp.write(b"abc")
        pair.server.tcp.write(b"defg")
        pair.server.tcp.loseConnection()
        self.net.advance(0)
        self.assertEqual(link.in_flight(), 7)
        self.assertEqual(link.truncate(2), 5)
        self.assertEqual(link.truncate(2), 0)
        self.net.run()
        self.assertEqual(pair.client.received, b"ab")
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionDone))
        self.assertIn("Link #1 server->client", repr(link))
        self.assertEqual(events(self.net, "drop"), [(0.0, "drop", "server", "5 bytes")])

    def test_describeShowsHolds(self) -> None:
        """
        A link's description names its conditions and what holds it.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.net.set_connection_link(pair.client.tcp, LinkConditions(latency=1.0))
        link = link_of(self.net, pair.client.tcp, SERVER_TO_CLIENT)
        link.hold("stall")
        self.assertIn("latency=1.0", link.describe())
        self.assertIn("held by stall", link.describe())
        self.assertEqual(link.held(), frozenset({"stall"}))
        self.assertIn("held by stall", repr(link))
        link.release("stall")
        self.assertEqual(link.held(), frozenset())
        pair.client.tcp.loseConnection()
        self.net.run()

    def test_truncateBytesArrivedAndUnread(self) -> None:
        """
        Truncating at the offset already read also loses the bytes that
        arrived and are unread: the reader never gets them.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        link = link_of(self.net, pair.client.tcp, SERVER_TO_CLIENT)
        pair.client.tcp.pauseProducing()
        pair.server.tcp.write(b"abc")
        self.net.advance(0)
        self.assertEqual((link.written(), link.delivered()), (3, 0))
        self.assertEqual(link.truncate(0), 3)
        self.assertEqual(link.truncate(0), 0)
        pair.client.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(pair.client.received, b"")
        pair.server.tcp.write(b"def")
        self.net.run()
        self.assertEqual(pair.client.received, b"def")
        pair.client.tcp.loseConnection()

    def test_coalesceMergesManySegments(self) -> None:
        """
        A merging policy joins many arrived segments (a hundred one-byte
        sends that arrived while the reader was paused) into pieces of at
        most its maximum, intact and in order.
        """
        self.net.set_default_link(LinkConditions(chunking=Coalesce(70)))
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        pair.client.tcp.pauseProducing()
        payload = bytes(range(100))
        for byte in payload:
            pair.server.tcp.write(bytes([byte]))
            self.net.advance(0)
        self.assertEqual(len(events(self.net, "flush")), 100)
        pair.client.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(data(pair.client), [payload[:70], payload[70:]])
        pair.client.tcp.loseConnection()

    def test_coalesceStopsAtAStall(self) -> None:
        """
        A merging policy delivers, while the link is stalled, only what had
        arrived before the stall -- even if more arrives later.
        """
        self.net.set_default_link(LinkConditions(chunking=Coalesce(), latency=1.0))
        pair = connect_pair_later(self.net)
        self.addCleanup(pair.port.stopListening)
        pair.client.tcp.pauseProducing()
        pair.server.tcp.write(b"ab")
        pair.server.tcp.write(b"cd")
        self.net.advance(1.5)
        pair.server.tcp.write(b"ef")
        self.net.faults.stall(pair.client.tcp)
        pair.client.tcp.resumeProducing()
        self.net.advance(3)
        self.assertEqual(data(pair.client), [b"abcd"])
        self.net.faults.resume(pair.client.tcp)
        self.net.run()
        self.assertEqual(data(pair.client), [b"abcd", b"ef"])
        pair.client.tcp.loseConnection()
        self.net.run()

    def test_exceptionInDataReceivedUnderConditions(self) -> None:
        """
        A protocol that raises in C{dataReceived} is closed with the error,
        as on the plain path; the error is logged.
        """
        self.net.set_default_link(LinkConditions(chunking=ONE_BYTE))

        def explode(protocol: Recorder, data: bytes) -> None:
            raise ZeroDivisionError(data)

        server_factory = RecordingServerFactory()
        client_factory = RecordingClientFactory(lambda: Recorder(on_data=explode))
        port = self.net.listenTCP(0, server_factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.net.connectTCP("127.0.0.1", port_number(port), client_factory)
        self.net.advance(0)
        server = server_factory.protocols[0]
        assert isinstance(server, Recorder)
        server.tcp.write(b"boom")
        self.net.run()
        client = client_factory.protocols[0]
        assert isinstance(client, Recorder)
        self.assertEqual(client.names(), ["made", "data", "lost"])
        self.assertEqual(client.events[-1], ("lost", ZeroDivisionError))
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_closeWaitsForAPausedReaderWithLatency(self) -> None:
        """
        The peer's close waits, after the latency, for a reader that paused
        (as on the plain path), and comes once it resumes.
        """
        self.net.set_default_link(LinkConditions(latency=0.5))
        pair = connect_pair_later(self.net)
        self.addCleanup(pair.port.stopListening)
        pair.client.tcp.pauseProducing()
        pair.server.tcp.loseConnection()
        self.net.advance(2)
        self.assertEqual(pair.client.names(), ["made"])
        pair.client.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionDone))

    def test_conditionedAttemptsFailAsUsual(self) -> None:
        """
        With conditions set, connecting to C{0.0.0.0} reaches the local
        listener, and a port out of range or an unknown name fails as on the
        plain path.
        """
        self.net.set_default_link(LinkConditions(latency=0.5))
        server_factory = RecordingServerFactory()
        port = self.net.listenTCP(0, server_factory)
        self.addCleanup(port.stopListening)
        anywhere = RecordingClientFactory()
        self.net.connectTCP("0.0.0.0", port_number(port), anywhere)
        bad_port = RecordingClientFactory()
        self.net.connectTCP("127.0.0.1", 70000, bad_port)
        unknown = RecordingClientFactory()
        self.net.connectTCP("nowhere.invalid", 80, unknown)
        self.net.advance(0.5)
        self.assertEqual(len(server_factory.protocols), 1)
        self.assertTrue(bad_port.reasons[0].check(OverflowError))
        self.assertTrue(unknown.reasons[0].check(DNSLookupError))
        client = anywhere.protocols[0]
        assert isinstance(client, Recorder)
        client.tcp.loseConnection()
        self.net.run()

    def test_describeEverySetting(self) -> None:
        """
        The description lists default, host-pair, listener and connection
        settings.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        slow = LinkConditions(latency=1.0)
        self.net.set_default_link(slow, direction=CLIENT_TO_SERVER)
        self.net.set_link_for_listener(pair.port, slow)
        self.net.set_connection_link(pair.client.tcp, slow, direction=SERVER_TO_CLIENT)
        text = self.net.faults.describe()
        self.assertIn("default client->server: LinkConditions(", text)
        self.assertIn(
            f"listener 127.0.0.1:{port_number(pair.port)} server->client", text
        )
        self.assertIn("#1 server->client: LinkConditions(", text)
        pair.client.tcp.loseConnection()
        self.net.run()


class DocumentExampleTests(SynchronousTestCase):
    """
    The examples of the link conditions, faults and chaos sections of
    C{docs/testing.md} run, exactly as shown (their own imports included),
    and pass -- so the document cannot rot.
    """

    def run_example(self, name: str, tests: int) -> None:
        run_document_example(self, name, tests)

    def test_chunking(self) -> None:
        """
        The chunking example: any chunking, and every split.
        """
        self.run_example("chunking", 2)

    def test_latency(self) -> None:
        """
        The latency and bandwidth example.
        """
        self.run_example("latency", 1)

    def test_faults(self) -> None:
        """
        The faults example: reset, hang, partition.
        """
        self.run_example("faults", 3)

    def test_chaos(self) -> None:
        """
        The chaos example.
        """
        self.run_example("chaos", 1)


class SchedulerRegressionTests(SynchronousTestCase):
    """
    The timer heap survives what link conditions do a lot: cancelling many
    timers from inside a timed call.
    """

    def test_massCancellationInsideATimedCall(self) -> None:
        """
        A timed call that cancels hundreds of other timers (enough to make
        the heap compact itself) neither breaks the running pass nor loses
        the calls still pending.
        """
        net = MemoryNetwork(1)
        fired: list[float] = []
        victims = [net.callLater(100, fired.append, -1.0) for _ in range(600)]

        def cancel_them() -> None:
            for victim in victims:
                victim.cancel()

        net.callLater(1, cancel_them)
        net.callLater(1, lambda: fired.append(net.seconds()))
        net.callLater(2, lambda: fired.append(net.seconds()))
        net.run()
        self.assertEqual(fired, [1.0, 2.0])
        self.assertEqual(net.getDelayedCalls(), [])
        self.assertEqual(net._stale, 0)
