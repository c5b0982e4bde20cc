"""
Tests for L{poetry.testing.MemoryTransport}: delivery, closing, aborting,
half-closing, producers, errors in protocol callbacks and TCP options.

Where a test pins what a protocol sees, the expectation is the real
reactor's, recorded by the differential oracle (the scenario named in the
test's docstring, C{python -m tests.oracle show NAME}).
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import (
    IConsumer,
    IPushProducer,
    ITCPTransport,
)
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from poetry.testing import DEFAULT_HIGH_WATER, RECEIVE_BUFFER, MemoryNetwork
from tests.unit.test_testing_support import (
    ConnectedPair,
    HalfCloseableRecorder,
    PullProducer,
    PushProducer,
    Recorder,
    connect_pair,
)


class TransportTestCase(SynchronousTestCase):
    """
    Each test gets a network and a connected pair; at the end the port is
    stopped (which takes an iteration, as on the real reactor) and the
    network must be clean.
    """

    server_protocol: type[Recorder] = Recorder
    client_protocol: type[Recorder] = Recorder

    def setUp(self) -> None:
        self.net = MemoryNetwork(seed=20)
        self.pair = self.connect()
        self.addCleanup(self.net.assert_clean)
        self.addCleanup(self.net.advance, 0)
        self.addCleanup(self.pair.port.stopListening)

    def connect(self) -> ConnectedPair:
        return connect_pair(self.net, self.server_protocol, self.client_protocol)

    @property
    def client(self) -> Recorder:
        return self.pair.client

    @property
    def server(self) -> Recorder:
        return self.pair.server


class InterfaceTests(TransportTestCase):
    """
    The transport provides the interfaces of a real TCP transport.
    """

    def test_interfaces(self) -> None:
        """
        Both ends provide L{ITCPTransport}, L{IConsumer} and L{IPushProducer}.
        """
        for transport in (self.client.tcp, self.server.tcp):
            for interface in (ITCPTransport, IConsumer, IPushProducer):
                self.assertTrue(verifyObject(interface, transport))
        self.client.tcp.loseConnection()
        self.net.run()


class DeliveryTests(TransportTestCase):
    """
    Writes reach the peer later, as written, in order.
    """

    def test_deliveredInOrderWritesOfOneTurnTogether(self) -> None:
        """
        Nothing arrives inside C{write}; the writes made in one callback are
        sent together and arrive, in order, in one C{dataReceived}; a write
        made later arrives on its own (oracle:
        C{writesInOneCallbackArriveTogether}).
        """
        writes = [b"one", b"two two", b"three three three"]
        for data in writes:
            self.client.tcp.write(data)
        self.assertEqual(self.server.chunks, [])
        self.net.run()
        self.assertEqual(self.server.chunks, [b"onetwo twothree three three"])
        self.assertEqual(
            [
                (event.kind, event.detail)
                for event in self.net.trace
                if event.side == "client" and event.kind in ("write", "flush")
            ],
            [
                ("write", "3 bytes"),
                ("write", "7 bytes"),
                ("write", "17 bytes"),
                ("flush", "27 bytes"),
            ],
        )
        self.client.tcp.write(b"four")
        self.net.run()
        self.assertEqual(self.server.chunks, [b"onetwo twothree three three", b"four"])
        self.client.tcp.loseConnection()
        self.net.run()

    def test_bothDirectionsAtOnce(self) -> None:
        """
        Data flows both ways independently; each side receives exactly what
        the other wrote.
        """
        for i in range(50):
            self.client.tcp.write(b"c%d," % i)
            self.server.tcp.write(b"s%d," % i)
        self.net.run()
        self.assertEqual(self.server.received, b"".join(b"c%d," % i for i in range(50)))
        self.assertEqual(self.client.received, b"".join(b"s%d," % i for i in range(50)))
        self.client.tcp.loseConnection()
        self.net.run()

    def test_writeSequenceAndEmptyWrites(self) -> None:
        """
        C{writeSequence} writes each non-empty part (one C{write} event
        each in the trace), delivered together with the other writes of the
        callback; empty writes write nothing.
        """
        self.server.tcp.write(b"")
        self.server.tcp.writeSequence([b"a", b"", b"bc"])
        self.server.tcp.writeSequence([])
        self.net.run()
        self.assertEqual(self.client.chunks, [b"abc"])
        self.assertEqual(
            [
                event.detail
                for event in self.net.trace
                if event.kind == "write" and event.side == "server"
            ],
            ["1 bytes", "2 bytes"],
        )
        self.server.tcp.loseConnection()
        self.net.run()

    def test_nonBytesRejected(self) -> None:
        """
        C{write} and C{writeSequence} raise L{TypeError} for anything but
        L{bytes}; a bad part in a sequence means nothing is written.
        """
        for bad in ("text", bytearray(b"x"), memoryview(b"x"), 5):
            self.assertRaises(TypeError, self.client.tcp.write, bad)
        self.assertRaises(TypeError, self.client.tcp.writeSequence, [b"ok", "no"])
        self.net.run()
        self.assertEqual(self.server.chunks, [])
        self.client.tcp.loseConnection()
        self.net.run()
        self.assertRaises(TypeError, self.client.tcp.write, "still text")

    def test_inspection(self) -> None:
        """
        C{written()} is everything one side wrote; C{unread_outgoing} and
        C{unread_incoming} count the bytes not read yet, wherever they wait
        (the writer's buffer, the kernel's queues); C{state()} describes the
        transport and its socket.
        """
        self.client.tcp.write(b"12345")
        self.client.tcp.write(b"678")
        self.assertEqual(self.client.tcp.written(), b"12345678")
        self.assertEqual(self.client.tcp.unread_outgoing(), 8)
        self.assertEqual(self.server.tcp.unread_incoming(), 8)
        self.assertEqual(self.server.tcp.written(), b"")
        self.assertEqual(
            self.client.tcp.state(),
            "connected, 8 bytes buffered, socket: established",
        )
        self.server.tcp.pauseProducing()
        self.net.run()
        # In the server's kernel receive queue now, still unread.
        self.assertEqual(self.client.tcp.unread_outgoing(), 8)
        self.assertEqual(self.client.tcp.state(), "connected, socket: established")
        self.server.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(self.client.tcp.unread_outgoing(), 0)
        self.assertEqual(self.server.tcp.unread_incoming(), 0)
        self.client.tcp.loseConnection()
        self.assertEqual(
            self.client.tcp.state(), "disconnecting, not reading, socket: established"
        )
        self.net.run()
        self.assertEqual(self.client.tcp.state(), "closed")

    def test_addressesAfterConnectionLost(self) -> None:
        """
        As on real TCP, C{getHost()} raises once the connection is lost;
        C{getPeer()} still works.
        """
        peer = self.client.tcp.getPeer()
        self.client.tcp.loseConnection()
        self.net.run()
        self.assertRaises(AttributeError, self.client.tcp.getHost)
        self.assertEqual(self.client.tcp.getPeer(), peer)


class CloseTests(TransportTestCase):
    """
    C{loseConnection}, C{abortConnection} and resets.
    """

    def test_loseConnectionFlushesThenClosesBothSides(self) -> None:
        """
        C{loseConnection} delivers pending data, then C{connectionLost}
        with L{ConnectionDone} on both sides -- never inside the call.
        """
        self.server.tcp.write(b"last words")
        self.server.tcp.loseConnection()
        self.assertEqual(
            (self.server.names(), self.client.names()), (["made"], ["made"])
        )
        self.net.run()
        self.assertEqual(
            self.client.events[1:], [("data", b"last words"), ("lost", ConnectionDone)]
        )
        self.assertEqual(self.server.events[1:], [("lost", ConnectionDone)])

    def test_writeAfterLoseConnectionInSameCallIsDelivered(self) -> None:
        """
        Bytes written after C{loseConnection} but before the close happened
        are delivered before the close (as by the real reactor).
        """
        self.server.tcp.write(b"a")
        self.server.tcp.loseConnection()
        self.server.tcp.write(b"b")
        self.net.run()
        self.assertEqual(self.client.received, b"ab")

    def test_writesAfterCloseIgnored(self) -> None:
        """
        Writes after C{connectionLost} raise nothing, deliver nothing, and
        are recorded in the trace as ignored.
        """
        self.client.tcp.loseConnection()
        self.net.run()
        self.client.tcp.write(b"late")
        self.server.tcp.write(b"late too")
        self.net.run()
        self.assertEqual((self.client.received, self.server.received), (b"", b""))
        ignored = [event for event in self.net.trace if event.kind == "write-ignored"]
        self.assertEqual([event.side for event in ignored], ["client", "server"])

    def test_loseConnectionTwice(self) -> None:
        """
        A second C{loseConnection} changes nothing.
        """
        self.client.tcp.loseConnection()
        self.client.tcp.loseConnection()
        self.net.run()
        self.client.tcp.loseConnection()
        self.net.run()
        self.assertEqual(self.client.names(), ["made", "lost"])
        self.assertEqual(self.server.names(), ["made", "lost"])

    def test_stopReadingAfterLoseConnection(self) -> None:
        """
        After C{loseConnection} a side reads nothing more.  Here the peer
        writes in the same turn; the closing side's C{FIN} reaches it in the
        pass where it flushes (after that pass's readiness was taken), so
        it sends its bytes to a closed socket, which answers with a reset,
        and in the next pass reads the end-of-file queued ahead of the
        reset: it sees L{ConnectionDone} (oracle:
        C{loseConnectionWhilePeerWrites}).
        """
        self.client.tcp.loseConnection()
        self.server.tcp.write(b"you will not read this")
        self.net.run()
        self.assertEqual(self.client.received, b"")
        self.assertEqual(self.client.events[-1], ("lost", ConnectionDone))
        self.assertEqual(self.server.events[-1], ("lost", ConnectionDone))
        events = [(event.kind, event.side) for event in self.net.trace]
        self.assertEqual(
            events[events.index(("close", "client")) :],
            [
                ("close", "client"),
                ("write", "server"),
                ("connection-lost", "client"),
                ("fin", "client"),
                ("rst", "client"),
                ("reset", "server"),
                ("flush", "server"),
                ("eof", "server"),
                ("connection-lost", "server"),
            ],
        )

    def test_abort(self) -> None:
        """
        C{abortConnection} drops unsent data; later, the local side gets
        L{ConnectionAborted} and the peer L{ConnectionLost}; further writes,
        aborts and closes are harmless.
        """
        self.server.tcp.write(b"never sent")
        self.server.tcp.abortConnection()
        self.server.tcp.write(b"nor this")
        self.server.tcp.abortConnection()
        self.server.tcp.loseConnection()
        self.assertEqual(self.server.names(), ["made"])
        self.net.run()
        self.assertEqual(self.client.events[1:], [("lost", ConnectionLost)])
        self.assertEqual(self.server.events[1:], [("lost", ConnectionAborted)])
        kinds = [event.kind for event in self.net.trace]
        self.assertIn("abort", kinds)
        self.assertIn("reset", kinds)

    def test_abortMidStream(self) -> None:
        """
        Aborting after part of a stream was delivered leaves the peer with
        exactly that prefix: what was written since, still in the writer's
        buffer, is never sent (oracle: C{abortAfterPartOfTheStream}).
        """
        self.server.tcp.write(b"01")
        self.net.run()
        self.assertEqual(self.client.received, b"01")
        self.server.tcp.write(b"23456789")
        self.server.tcp.abortConnection()
        self.net.run()
        self.assertEqual(self.client.received, b"01")
        self.assertEqual(self.client.events[-1], ("lost", ConnectionLost))
        self.assertEqual(self.server.events[-1], ("lost", ConnectionAborted))

    def test_stopProducingClosesTheConnection(self) -> None:
        """
        The transport's C{stopProducing} closes the connection.
        """
        self.client.tcp.stopProducing()
        self.net.run()
        self.assertEqual(self.client.events[-1], ("lost", ConnectionDone))


class HalfCloseTests(TransportTestCase):
    """
    C{loseWriteConnection} between half-closeable protocols.
    """

    server_protocol = HalfCloseableRecorder
    client_protocol = HalfCloseableRecorder

    def test_halfClose(self) -> None:
        """
        After a half-close the peer reads the data (written before the
        half-close happened, in one turn: one C{dataReceived}) then
        C{readConnectionLost}; the closer gets C{writeConnectionLost}, can
        still receive, and its later writes are dropped (oracle:
        C{halfCloseThenWriteMore}).
        """
        self.client.tcp.write(b"request")
        self.client.tcp.loseWriteConnection()
        self.client.tcp.write(b" and more")
        self.net.run()
        self.assertEqual(self.server.received, b"request and more")
        self.assertEqual(self.server.names(), ["made", "data", "readLost"])
        self.assertEqual(self.client.names(), ["made", "writeLost"])
        self.client.tcp.write(b"dropped")
        self.server.tcp.write(b"reply")
        self.net.run()
        self.assertEqual(self.client.received, b"reply")
        self.assertEqual(self.server.received, b"request and more")
        self.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(self.client.names()[-1], "readLost")
        self.assertEqual(self.server.events[-1], ("lost", ConnectionDone))
        # Both directions are shut: connectionLost comes inside this call,
        # as on the real reactor.
        self.client.tcp.loseConnection()
        self.assertEqual(self.client.events[-1], ("lost", ConnectionDone))

    def test_halfCloseToPeerNotHalfCloseable(self) -> None:
        """
        A peer that is not half-closeable has its connection closed
        (L{ConnectionDone}) when the other side half-closes.
        """
        net = MemoryNetwork(seed=21)
        pair = connect_pair(net, Recorder, HalfCloseableRecorder)
        pair.client.tcp.write(b"request")
        pair.client.tcp.loseWriteConnection()
        net.run()
        self.assertEqual(
            pair.server.events[-2:], [("data", b"request"), ("lost", ConnectionDone)]
        )
        self.assertEqual(pair.client.names(), ["made", "writeLost", "readLost"])
        pair.client.tcp.loseConnection()
        pair.port.stopListening()
        net.run()
        net.assert_clean()
        self.client.tcp.loseConnection()
        self.net.run()
        # The server got only readConnectionLost: it must close too.
        self.assertEqual(self.server.names(), ["made", "readLost"])
        self.server.tcp.loseConnection()
        self.net.run()


class PauseTests(TransportTestCase):
    """
    The transport as a push producer: a protocol pausing its own reading.
    """

    def test_pausedSideHearsNothingUntilResumed(self) -> None:
        """
        While paused a protocol gets neither data nor the peer's close; the
        peer's own close completes; after resuming everything arrives
        (oracle: C{pausedReaderHearsNothingUntilResumed}).
        """
        self.client.tcp.pauseProducing()
        self.assertTrue(self.client.tcp.reading_paused())
        self.server.tcp.write(b"while you were out")
        self.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(self.client.names(), ["made"])
        self.assertEqual(self.server.events[-1], ("lost", ConnectionDone))
        self.assertEqual(self.client.tcp.unread_incoming(), 18)
        self.client.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(
            self.client.events[1:],
            [("data", b"while you were out"), ("lost", ConnectionDone)],
        )
        kinds = [event.kind for event in self.net.trace]
        self.assertLess(kinds.index("pause-reading"), kinds.index("resume-reading"))


class ProducerTests(TransportTestCase):
    """
    Producers registered on a transport.
    """

    def test_streamingProducerPausedAboveBufferSizeResumedWhenSent(self) -> None:
        """
        A streaming producer is paused inside the write that leaves more than
        C{bufferSize} (64 KiB) in the transport's buffer (and again on each
        such write), and resumed once the buffer has been handed to the
        kernel -- here although the peer does not read, since its receive
        queue takes it all (oracle:
        C{streamingProducerPausedAboveBufferSize}).
        """
        self.assertEqual(DEFAULT_HIGH_WATER, 65536)
        producer = PushProducer()
        self.server.tcp.registerProducer(producer, True)
        self.client.tcp.pauseProducing()
        self.server.tcp.write(b"x" * 65536)
        self.assertEqual(producer.events, [])
        self.server.tcp.write(b"y")
        self.assertEqual(producer.events, ["pause"])
        self.server.tcp.write(b"z")
        self.assertEqual(producer.events, ["pause", "pause"])
        self.net.run()
        self.assertEqual(producer.events, ["pause", "pause", "resume"])
        self.assertEqual(self.client.received, b"")
        self.assertEqual(self.server.tcp.unread_outgoing(), 65538)
        self.server.tcp.unregisterProducer()
        self.server.tcp.loseConnection()
        self.client.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(len(self.client.received), 65538)
        self.assertEqual(self.client.events[-1], ("lost", ConnectionDone))

    def test_streamingProducerWaitsForTheKernel(self) -> None:
        """
        When the peer's receive queue and the writer's send queue are full
        (small ones here), the buffer cannot be sent: the streaming producer
        stays paused until the peer reads.
        """
        self.client.tcp.loseConnection()
        self.net.run()
        self.pair.port.stopListening()
        self.net.advance(0)
        self.net = MemoryNetwork(seed=20, receive_buffer=1000, send_buffer=500)
        self.pair = self.connect()
        self.addCleanup(self.net.assert_clean)
        self.addCleanup(self.net.advance, 0)
        self.addCleanup(self.pair.port.stopListening)
        producer = PushProducer()
        self.server.tcp.registerProducer(producer, True)
        self.client.tcp.pauseProducing()
        self.server.tcp.write(b"x" * 70000)
        self.net.run()
        self.assertEqual(producer.events, ["pause"])
        flushed = sum(
            int(event.detail.split()[0])
            for event in self.net.trace
            if event.kind == "flush" and event.side == "server"
        )
        self.assertEqual(flushed, 1500)
        self.assertEqual(self.server.tcp.unread_outgoing(), 70000)
        self.client.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(producer.events, ["pause", "resume"])
        self.assertEqual(self.client.received, b"x" * 70000)
        self.server.tcp.unregisterProducer()
        self.server.tcp.loseConnection()
        self.net.run()

    def test_networkBufferSizes(self) -> None:
        """
        The network's C{receive_buffer} and C{send_buffer} size the kernel
        queues of its connections (Linux loopback's by default); they must
        be positive integers.
        """
        self.assertEqual(RECEIVE_BUFFER, 113_152)
        for bad in (0, -1, 1.5, True, "10"):
            self.assertRaises(ValueError, MemoryNetwork, 1, receive_buffer=bad)
            self.assertRaises(ValueError, MemoryNetwork, 1, send_buffer=bad)
        net = MemoryNetwork(seed=20, receive_buffer=10, send_buffer=5)
        pair = connect_pair(net)
        pair.client.tcp.pauseProducing()
        pair.server.tcp.write(b"0123456789" * 10)
        net.run()
        # 10 bytes in the client's receive queue, 5 in the server's send
        # queue, the rest in the server transport's buffer.
        flushed = sum(
            int(event.detail.split()[0])
            for event in net.trace
            if event.kind == "flush" and event.side == "server"
        )
        self.assertEqual(flushed, 15)
        self.assertIn("85 bytes buffered", pair.server.tcp.state())
        pair.client.tcp.resumeProducing()
        pair.server.tcp.loseConnection()
        net.run()
        self.assertEqual(pair.client.received, b"0123456789" * 10)
        pair.port.stopListening()
        net.run()
        net.assert_clean()
        self.client.tcp.loseConnection()
        self.net.run()

    def test_pullProducer(self) -> None:
        """
        A pull producer is resumed inside C{registerProducer} and each time
        the buffer has been sent; C{loseConnection} waits until it
        unregisters (oracle: C{pullProducerResumedWhenBufferEmpties}).
        """
        producer = PullProducer(self.server.tcp, [b"a", b"b", b"c"])
        self.server.tcp.registerProducer(producer, False)
        self.assertEqual(producer.events, ["resume"])
        self.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(self.client.chunks, [b"a", b"b", b"c"])
        self.assertEqual(producer.events, ["resume"] * 4 + ["unregistered"])
        self.assertEqual(self.client.events[-1], ("lost", ConnectionDone))

    def test_secondProducerRaises(self) -> None:
        """
        Registering a second producer raises L{RuntimeError}.
        """
        self.server.tcp.registerProducer(PushProducer(), True)
        self.assertRaises(
            RuntimeError, self.server.tcp.registerProducer, PushProducer(), True
        )
        self.server.tcp.unregisterProducer()
        self.server.tcp.registerProducer(PushProducer(), True)
        self.server.tcp.unregisterProducer()
        self.server.tcp.loseConnection()
        self.net.run()

    def test_producerStoppedOnClose(self) -> None:
        """
        A producer still registered when the connection is lost gets
        C{stopProducing}; one registered after that is stopped at once.
        """
        producer = PushProducer()
        self.server.tcp.registerProducer(producer, True)
        self.client.tcp.loseConnection()
        self.net.run()
        self.assertEqual(producer.events, ["stop"])
        late = PushProducer()
        self.server.tcp.registerProducer(late, True)
        self.assertEqual(late.events, ["stop"])

    def test_pausedStreamingProducerDelaysClose(self) -> None:
        """
        C{loseConnection} with a paused streaming producer: once the buffer
        is sent the producer is resumed, and the close waits until the
        producer unregisters (oracle: C{pausedStreamingProducerHoldsTheClose}).
        """
        producer = PushProducer()
        self.server.tcp.registerProducer(producer, True)
        self.server.tcp.write(b"z" * (DEFAULT_HIGH_WATER + 1))
        self.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(producer.events, ["pause", "resume"])
        self.assertEqual(self.server.names(), ["made"])
        self.server.tcp.unregisterProducer()
        self.net.run()
        self.assertEqual(producer.events, ["pause", "resume"])
        self.assertEqual(self.server.events[-1], ("lost", ConnectionDone))
        self.assertEqual(len(self.client.received), DEFAULT_HIGH_WATER + 1)


class ErrorTests(TransportTestCase):
    """
    Exceptions raised by protocol callbacks.
    """

    def test_exceptionInDataReceived(self) -> None:
        """
        An exception in C{dataReceived} is logged and closes that connection
        with the exception as reason (the peer sees L{ConnectionDone}, as in
        the oracle's C{writeBeforeExceptionInDataReceivedIsNotDelivered});
        other connections carry on; the trace records the error.
        """

        def explode(protocol: Recorder, data: bytes) -> None:
            raise ValueError(f"cannot digest {data!r}")

        self.server.on_data = explode
        other = connect_pair(self.net)
        self.addCleanup(other.port.stopListening)
        self.client.tcp.write(b"boom")
        other.client.tcp.write(b"fine")
        self.net.run()
        self.assertEqual(self.server.events[-1], ("lost", ValueError))
        self.assertEqual(self.client.events[-1], ("lost", ConnectionDone))
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)
        self.assertEqual(other.server.received, b"fine")
        errors = [event for event in self.net.trace if event.kind == "error"]
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0].side, "server")
        self.assertEqual(errors[0].detail, "ValueError: cannot digest b'boom'")
        other.client.tcp.loseConnection()
        self.net.run()

    def test_exceptionInConnectionLost(self) -> None:
        """
        An exception in C{connectionLost} is logged; the network carries on.
        """

        class Bad(Recorder):
            def connectionLost(self, reason: object = None) -> None:
                raise KeyError("gone")

        self.client.tcp.loseConnection()
        self.net.run()
        net = MemoryNetwork(seed=3)
        pair = connect_pair(net, Bad)
        pair.client.tcp.loseConnection()
        net.run()
        pair.port.stopListening()
        net.run()
        net.assert_clean()
        self.assertEqual(len(self.flushLoggedErrors(KeyError)), 1)


class OptionTests(TransportTestCase):
    """
    TCP options.
    """

    def test_tcpOptions(self) -> None:
        """
        C{TCP_NODELAY} and C{SO_KEEPALIVE} start off and read back as set.
        """
        transport = self.client.tcp
        self.assertEqual(
            (transport.getTcpNoDelay(), transport.getTcpKeepAlive()), (False, False)
        )
        transport.setTcpNoDelay(True)
        transport.setTcpKeepAlive(True)
        self.assertEqual(
            (transport.getTcpNoDelay(), transport.getTcpKeepAlive()), (True, True)
        )
        self.assertIn("client", transport.logPrefix())
        transport.loseConnection()
        self.net.run()


class ReadinessScanTests(SynchronousTestCase):
    """
    A pass begins as C{epoll_wait} returns: every ready end's events are
    taken first, in the order of the ready queue, then the ends are
    dispatched (the oracle's family C{sameinstant} pins this against the
    real reactor; these tests pin the queue's bookkeeping).
    """

    def setUp(self) -> None:
        self.net = MemoryNetwork(seed=21)
        self.addCleanup(self.net.assert_clean)
        self.addCleanup(self.net.advance, 0)
        self.first = connect_pair(self.net)
        self.second = connect_pair(self.net)
        for pair in (self.first, self.second):
            self.addCleanup(pair.port.stopListening)
            self.addCleanup(pair.client.tcp.loseConnection)

    def delivered(self) -> list[int]:
        """
        The connections whose client ends were delivered bytes, in order.
        """
        return [
            event.connection or 0
            for event in self.net.trace
            if event.kind == "deliver" and event.side == "client"
        ]

    def test_reregisteredEndGoesToTheBack(self) -> None:
        """
        An end that was registered for nothing and is registered again
        (paused and resumed while idle) loses its place in the ready queue:
        the other end made ready after it is read first.
        """
        first = self.first.client.tcp
        self.first.server.tcp.write(b"1")
        self.second.server.tcp.write(b"2")
        self.net.step()  # both servers send: both clients become readable
        self.assertEqual(self.delivered(), [])
        first.pauseProducing()
        first.resumeProducing()
        self.net.advance(0)
        self.assertEqual(self.first.client.received, b"1")
        self.assertEqual(self.second.client.received, b"2")
        self.assertEqual(
            self.delivered(),
            [self.second.client.tcp.connection_id, self.first.client.tcp.connection_id],
        )

    def test_passCutShortKeepsItsScan(self) -> None:
        """
        A C{run_until} whose Deferred fires in the first of two ends read in
        one pass returns before the second is dispatched; the next run
        dispatches it with the events taken when that pass began, and
        nothing is lost or read twice.
        """
        fired: Deferred[None] = Deferred()
        self.first.client.on_data = lambda protocol, data: fired.callback(None)
        self.first.server.tcp.write(b"1")
        self.second.server.tcp.write(b"2")
        self.net.run_until(fired)
        self.assertEqual(self.first.client.received, b"1")
        self.assertEqual(self.second.client.received, b"")
        self.net.advance(0)
        self.assertEqual(self.second.client.events, [("made", None), ("data", b"2")])
        self.assertEqual(
            self.delivered(),
            [self.first.client.tcp.connection_id, self.second.client.tcp.connection_id],
        )
