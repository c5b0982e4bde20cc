"""
Tests for fault injection on L{poetry.testing.MemoryNetwork}
(C{net.faults}): refuse, hang, reset, stall, partition, abort; scripted at a
virtual time or on a byte count; each recorded in the trace.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    TimeoutError,
    UserError,
)
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import (
    CLIENT_TO_SERVER,
    DROP,
    HOLD,
    SERVER_TO_CLIENT,
    Deadlock,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    ScheduledFault,
    TimerErrors,
    assert_deterministic,
)
from tests.unit.test_testing_support import (
    ConnectedPair,
    PushProducer,
    Recorder,
    RecordingClientFactory,
    RecordingServerFactory,
    connect_pair,
    port_number,
)


def faults(net: MemoryNetwork) -> list[tuple[float, int | None, str]]:
    """
    C{(time, connection, detail)} of the C{fault} events of the trace.
    """
    return [
        (event.time, event.connection, event.detail)
        for event in net.trace
        if event.kind == "fault"
    ]


def kinds(net: MemoryNetwork, connection: int) -> list[tuple[float, str, str, str]]:
    """
    C{(time, kind, side, detail)} of the events of one connection.
    """
    return [
        (event.time, event.kind, event.side, event.detail)
        for event in net.trace
        if event.connection == connection
    ]


class FaultTestCase(MemoryNetworkTestCase):
    """
    Helpers: listen (stopped at cleanup), connect from a host, and pairs.
    """

    def listen(self, host: str = "127.0.0.1") -> tuple[RecordingServerFactory, Any]:
        factory = RecordingServerFactory()
        port = self.net.host(host).listenTCP(0, factory)
        self.addCleanup(port.stopListening)
        return factory, port

    def connect(
        self, port: Any, source: str = "127.0.0.1", timeout: float = 30
    ) -> RecordingClientFactory:
        factory = RecordingClientFactory()
        address = port.getHost()
        self.net.host(source).connectTCP(address.host, address.port, factory, timeout)
        return factory

    def pair(self, client: str = "10.0.0.1", server: str = "10.0.0.2") -> ConnectedPair:
        server_factory, port = self.listen(server)
        client_factory = self.connect(port, client)
        self.net.advance(0)
        server_protocol = server_factory.protocols[0]
        client_protocol = client_factory.protocols[0]
        assert isinstance(server_protocol, Recorder)
        assert isinstance(client_protocol, Recorder)
        return ConnectedPair(
            port,
            client_protocol.tcp.connector,  # type: ignore[attr-defined]  # the client end has its connector, as on the real reactor
            server_protocol,
            client_protocol,
        )


class RefuseTests(FaultTestCase):
    """
    C{refuse(address)}: connections are refused although something listens.
    """

    def test_refusedWhileListening(self) -> None:
        """
        The client factory sees what the contract pins for a closed port --
        C{clientConnectionFailed(ConnectionRefusedError)} then C{doStop},
        later than C{connectTCP} -- and the listening factory never builds a
        protocol; the trace shows the fault, the connect step (a timer, as
        the real reactor's C{callLater(0)}), the refusal and the failure.
        """
        server_factory, port = self.listen()
        self.net.faults.refuse(port)
        client_factory = self.connect(port)
        self.assertEqual(client_factory.names(), ["doStart", "startedConnecting"])
        self.net.run()
        self.assertEqual(
            client_factory.names(),
            ["doStart", "startedConnecting", "clientConnectionFailed", "doStop"],
        )
        self.assertTrue(client_factory.reasons[0].check(ConnectionRefusedError))
        self.assertEqual(server_factory.protocols, [])
        number = port_number(port)
        self.assertEqual(
            [(e.kind, e.detail) for e in self.net.trace if e.kind != "listen"],
            [
                ("fault", f"refuse connections to 127.0.0.1:{number}"),
                ("connect", f"127.0.0.1:{number}"),
                ("timer", "ClientTransport.resolveAddress"),
                ("fault", f"connect to 127.0.0.1:{number} refused (refuse fault)"),
                ("refuse", f"127.0.0.1:{number}"),
                (
                    "connect-failed",
                    "ConnectionRefusedError: Connection was refused by other "
                    "side: 111: Connection refused.",
                ),
            ],
        )

    def test_endpointRefused(self) -> None:
        """
        A client endpoint fails with L{ConnectionRefusedError}.
        """
        _, port = self.listen()
        self.net.faults.refuse(("localhost", port_number(port)))
        endpoint = TCP4ClientEndpoint(self.net, "127.0.0.1", port_number(port))
        d = connectProtocol(endpoint, Recorder())
        self.assertRaises(ConnectionRefusedError, self.net.run_until, d)

    def test_stopRefusing(self) -> None:
        """
        After C{stop_refusing}, connections are accepted again.
        """
        server_factory, port = self.listen()
        self.net.faults.refuse(port)
        self.net.faults.stop_refusing(port)
        client_factory = self.connect(port)
        self.net.advance(0)
        self.assertEqual(len(server_factory.protocols), 1)
        client = client_factory.protocols[0]
        assert isinstance(client, Recorder)
        client.tcp.loseConnection()

    def test_anyHostOnThePort(self) -> None:
        """
        Refusing C{0.0.0.0:port} refuses that port on every host.
        """
        _, port = self.listen("10.0.0.5")
        self.net.faults.refuse(("0.0.0.0", port_number(port)))
        client_factory = self.connect(port)
        self.net.run()
        self.assertTrue(client_factory.reasons[0].check(ConnectionRefusedError))


class HangTests(FaultTestCase):
    """
    C{hang(address)}: connection attempts never complete; the connector's
    timeout fires.
    """

    def test_timeoutFiresExactly(self) -> None:
        """
        A hung attempt fails with L{TimeoutError} exactly C{timeout} virtual
        seconds after C{connectTCP}; the timeout shows in
        C{getDelayedCalls()} meanwhile; the server never accepts.
        """
        server_factory, port = self.listen()
        self.net.faults.hang(port)
        self.net.advance(2.5)
        client_factory = self.connect(port, timeout=5)
        self.net.advance(0)
        self.assertEqual([c.getTime() for c in self.net.getDelayedCalls()], [7.5])
        self.net.run()
        self.assertEqual(self.net.seconds(), 7.5)
        self.assertEqual(
            client_factory.names(),
            ["doStart", "startedConnecting", "clientConnectionFailed", "doStop"],
        )
        self.assertTrue(client_factory.reasons[0].check(TimeoutError))
        self.assertEqual(server_factory.protocols, [])
        number = port_number(port)
        self.assertEqual(
            kinds(self.net, 1),
            [
                (2.5, "connect", "client", f"127.0.0.1:{number}"),
                (
                    2.5,
                    "fault",
                    "client",
                    f"connect to 127.0.0.1:{number} hangs "
                    f"(hang fault on 127.0.0.1:{number})",
                ),
                (
                    7.5,
                    "connect-failed",
                    "client",
                    "TimeoutError: User timeout caused connection failure.",
                ),
            ],
        )

    def test_stopHangingLetsTheAttemptComplete(self) -> None:
        """
        An attempt still hanging when C{stop_hanging} is called completes
        (the next handshake gets through); its timeout is cancelled.
        """
        server_factory, port = self.listen()
        self.net.faults.hang(port)
        client_factory = self.connect(port, timeout=5)
        self.net.faults.at(3.0).stop_hanging(port)
        self.net.advance(3.0)
        self.assertEqual(len(server_factory.protocols), 1)
        self.assertEqual(self.net.getDelayedCalls(), [])
        client = client_factory.protocols[0]
        assert isinstance(client, Recorder)
        client.tcp.loseConnection()

    def test_stopConnectingWhileHung(self) -> None:
        """
        C{stopConnecting()} on a hung attempt fails it with L{UserError} at
        once and leaves no timer.
        """
        _, port = self.listen()
        self.net.faults.hang(port)
        factory = RecordingClientFactory()
        connector = self.net.connectTCP("127.0.0.1", port_number(port), factory, 5)
        self.net.advance(1)
        connector.stopConnecting()
        self.assertTrue(factory.reasons[0].check(UserError))
        self.assertEqual(self.net.getDelayedCalls(), [])

    def test_noTimeoutHangsForever(self) -> None:
        """
        Without a timeout a hung attempt never ends: waiting for it is a
        L{Deadlock} whose message lists the hung attempt.
        """
        _, port = self.listen()
        self.net.faults.hang(port)
        factory = RecordingClientFactory()
        connector = self.net.connectTCP(
            "127.0.0.1",
            port_number(port),
            factory,
            None,  # type: ignore[arg-type]  # deliberately no timeout, as a caller might pass
        )
        from twisted.internet.defer import Deferred

        error = self.assertRaises(Deadlock, self.net.run_until, Deferred())
        self.assertIn("connection attempt #1 to 127.0.0.1:", str(error))
        self.assertIn("hangs", str(error))
        connector.stopConnecting()


class ResetTests(FaultTestCase):
    """
    C{reset}: a reset from the network, now or after a byte count.
    """

    def test_resetAfterBytes(self) -> None:
        """
        A reset after 5 bytes server-to-client: the client gets exactly the
        first 5 bytes (the send that crosses the count -- the three writes
        of one callback, sent together -- is cut there), then
        L{ConnectionLost}; the server gets L{ConnectionLost} too; the rest
        of the send is dropped; the trace shows the fault armed and fired.
        """
        pair = self.pair()
        self.net.faults.reset(
            pair.client.tcp, after_bytes=5, direction=SERVER_TO_CLIENT
        )
        pair.server.tcp.write(b"abc")
        pair.server.tcp.write(b"defgh")
        pair.server.tcp.write(b"ijk")
        self.net.run()
        self.assertEqual(pair.client.received, b"abcde")
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionLost))
        self.assertEqual(pair.server.events[-1], ("lost", ConnectionLost))
        self.assertEqual(
            [(e[1], e[3]) for e in kinds(self.net, 1) if e[1] in ("fault", "drop")],
            [
                ("fault", "reset armed: after 5 bytes server->client"),
                ("fault", "reset at byte 5 of server->client"),
                ("drop", "6 bytes"),
            ],
        )

    def test_resetAfterBytesAlreadyQueued(self) -> None:
        """
        A reset armed after more bytes were written (but not yet read) cuts
        the queued bytes back to the count.
        """
        pair = self.pair()
        pair.server.tcp.write(b"0123456789")
        self.net.faults.reset(
            pair.client.tcp, after_bytes=4, direction=SERVER_TO_CLIENT
        )
        self.net.run()
        self.assertEqual(pair.client.received, b"0123")
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionLost))

    def test_resetAfterBytesAlreadyRead(self) -> None:
        """
        A count the reader has already passed resets the connection at once,
        after what it read.
        """
        pair = self.pair()
        pair.server.tcp.write(b"0123456789")
        self.net.run()
        self.net.faults.reset(
            pair.client.tcp, after_bytes=4, direction=SERVER_TO_CLIENT
        )
        self.net.run()
        self.assertEqual(pair.client.received, b"0123456789")
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionLost))
        self.assertIn(
            "reset at byte 10 of server->client", [e[2] for e in faults(self.net)]
        )

    def test_resetNowDeliversWhatWasQueued(self) -> None:
        """
        A reset without a count delivers the bytes already sent (handed to
        the network in a step) before it, in both directions, then resets
        both ends; bytes still in a writer's buffer when it happens never
        reach the network.
        """
        pair = self.pair()
        pair.server.tcp.write(b"to client")
        pair.client.tcp.write(b"to server")
        self.net.step()
        pair.client.tcp.write(b"not sent yet")
        self.net.faults.reset(pair.server.tcp)
        pair.server.tcp.write(b"never")
        self.net.run()
        self.assertEqual(pair.client.received, b"to client")
        self.assertEqual(pair.server.received, b"to server")
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionLost))
        self.assertEqual(pair.server.events[-1], ("lost", ConnectionLost))

    def test_resetRuleForLaterConnections(self) -> None:
        """
        A reset after a count on a listening address applies to connections
        made later, up to C{limit} of them: the first connection is cut,
        the second is not.
        """
        server_factory = RecordingServerFactory(
            lambda: Recorder(on_made=lambda p: p.tcp.write(b"0123456789"))
        )
        port = self.net.listenTCP(0, server_factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.net.faults.reset(port, after_bytes=3, direction=SERVER_TO_CLIENT, limit=1)
        first = self.connect(port)
        self.net.run()
        second = self.connect(port)
        self.net.advance(0)
        one, two = first.protocols[0], second.protocols[0]
        assert isinstance(one, Recorder) and isinstance(two, Recorder)
        self.assertEqual(one.received, b"012")
        self.assertEqual(two.received, b"0123456789")
        self.assertEqual(one.events[-1], ("lost", ConnectionLost))
        self.assertEqual(self.net._links.rules, [])  # type: ignore[union-attr]  # created by the faults above
        two.tcp.loseConnection()

    def test_resetArguments(self) -> None:
        """
        A count needs a direction and must not be negative; directions and
        targets are checked.
        """
        pair = self.pair()
        f = self.net.faults
        self.assertRaises(ValueError, f.reset, pair.client.tcp, after_bytes=1)
        self.assertRaises(
            ValueError,
            f.reset,
            pair.client.tcp,
            after_bytes=-1,
            direction=CLIENT_TO_SERVER,
        )
        self.assertRaises(ValueError, f.reset, pair.client.tcp, direction="sideways")
        self.assertRaises(ValueError, f.reset, 1000)
        self.assertRaises(TypeError, f.reset, "127.0.0.1")
        self.assertRaises(TypeError, f.reset, ("127.0.0.1", 1, 2))
        self.assertRaises(ValueError, f.reset, ("127.0.0.1", "80"))
        self.assertRaises(ValueError, f.reset, ("nowhere", 80))
        pair.client.tcp.loseConnection()


class StallTests(FaultTestCase):
    """
    C{stall} and C{resume}: deliveries stop without closing, then go on.
    """

    def test_stallAndResume(self) -> None:
        """
        While one direction is stalled, nothing crosses it -- not even the
        close -- the other direction flows, and the connection stays open;
        on resume the bytes (both writes, sent together) and the close
        arrive, in order.
        """
        pair = self.pair()
        self.net.faults.stall(pair.client.tcp, SERVER_TO_CLIENT)
        pair.server.tcp.write(b"held")
        pair.server.tcp.write(b" back")
        pair.client.tcp.write(b"still flows")
        self.net.run()
        self.assertEqual(pair.server.received, b"still flows")
        pair.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(pair.client.received, b"")
        self.assertTrue(pair.client.tcp.connected)
        self.assertIn("held by stall", self.net.faults.describe())
        self.net.faults.at(10).resume(pair.client.tcp, SERVER_TO_CLIENT)
        self.net.run()
        self.assertEqual(
            pair.client.events[1:],
            [("data", b"held back"), ("lost", ConnectionDone)],
        )
        self.assertEqual(
            [e[2] for e in faults(self.net)],
            ["stall server->client", "resume server->client"],
        )
        self.assertEqual(
            [
                e.time
                for e in self.net.trace
                if e.kind == "deliver" and e.side == "client"
            ],
            [10.0],
        )

    def test_whatArrivedBeforeTheStallIsStillRead(self) -> None:
        """
        A stall stops the link, not the reader: bytes that had reached the
        receiving end before it (sent in an earlier step, without latency)
        are still delivered; bytes written after it wait.
        """
        pair = self.pair()
        pair.server.tcp.write(b"arrived")
        self.net.step()
        self.net.faults.stall(pair.client.tcp)
        pair.server.tcp.write(b" waits")
        self.net.run()
        self.assertEqual(pair.client.received, b"arrived")
        self.net.faults.resume(pair.client.tcp)
        self.net.run()
        self.assertEqual(pair.client.received, b"arrived waits")
        pair.client.tcp.loseConnection()

    def test_stallHoldsBytesInFlight(self) -> None:
        """
        With latency, bytes still in flight when the stall begins wait for
        the resume; a second stall keeps the earlier point.
        """
        pair = self.pair()
        self.net.set_default_link(LinkConditions(latency=1.0))
        pair.server.tcp.write(b"in flight")
        self.net.advance(0.5)
        self.net.faults.stall(pair.client.tcp, SERVER_TO_CLIENT)
        self.net.advance(1.0)
        self.net.faults.stall(pair.client.tcp, SERVER_TO_CLIENT)
        self.net.advance(1.0)
        self.assertEqual(pair.client.received, b"")
        self.net.faults.resume(pair.client.tcp, SERVER_TO_CLIENT)
        self.net.run()
        self.assertEqual(pair.client.received, b"in flight")
        self.assertEqual([e[0] for e in kinds(self.net, 1) if e[1] == "deliver"], [2.5])
        pair.client.tcp.loseConnection()
        self.net.run()

    def test_stallPausesTheWritersProducer(self) -> None:
        """
        Bytes held by a stall fill the receiver's queue as bytes it does not
        read would: with small kernel queues the writer's buffer cannot be
        sent, so its streaming producer (paused above C{bufferSize}) stays
        paused until the stall is lifted.
        """
        self.net = MemoryNetwork(self.net.seed, receive_buffer=1000, send_buffer=1000)
        self.net.test_id = self.id()
        pair = self.pair()
        producer = PushProducer()
        pair.server.tcp.registerProducer(producer, True)
        self.net.faults.stall(pair.client.tcp)
        pair.server.tcp.write(b"x" * 70000)
        self.assertEqual(producer.events, ["pause"])
        self.net.run()
        self.assertEqual(producer.events, ["pause"])
        self.assertEqual(pair.client.received, b"")
        self.assertEqual(
            self.net.faults.stream_offset(pair.client.tcp, SERVER_TO_CLIENT), 1000
        )
        self.assertEqual(pair.server.tcp.unread_outgoing(), 70000)
        self.net.faults.resume(pair.client.tcp)
        self.net.run()
        self.assertEqual(producer.events, ["pause", "resume"])
        self.assertEqual(pair.client.received, b"x" * 70000)
        pair.server.tcp.unregisterProducer()
        pair.server.tcp.loseConnection()

    def test_stallRuleForLaterConnections(self) -> None:
        """
        Stalling an address stalls its open connections and those made
        later, until C{resume} with the address.
        """
        server_factory = RecordingServerFactory(
            lambda: Recorder(on_made=lambda p: p.tcp.write(b"hello"))
        )
        port = self.net.listenTCP(0, server_factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.net.faults.stall(port, SERVER_TO_CLIENT)
        factory = self.connect(port)
        self.net.run()
        client = factory.protocols[0]
        assert isinstance(client, Recorder)
        self.assertEqual(client.received, b"")
        self.net.faults.resume(port, SERVER_TO_CLIENT)
        self.net.run()
        self.assertEqual(client.received, b"hello")
        self.assertEqual(self.net._links.rules, [])  # type: ignore[union-attr]  # created by the faults above
        client.tcp.loseConnection()


class PartitionTests(FaultTestCase):
    """
    C{partition} and C{heal} between two hosts.
    """

    def test_holdDeliversAfterHeal(self) -> None:
        """
        In L{HOLD} mode, nothing crosses while partitioned; after the heal
        everything arrives, in order; connections between other hosts are
        not affected.
        """
        pair = self.pair("10.0.0.1", "10.0.0.2")
        other = self.pair("10.0.0.3", "10.0.0.2")
        self.net.faults.partition("10.0.0.1", "10.0.0.2", in_flight=HOLD)
        pair.server.tcp.write(b"one")
        pair.client.tcp.write(b"two")
        other.server.tcp.write(b"free")
        self.net.run()
        self.assertEqual((pair.client.received, pair.server.received), (b"", b""))
        self.assertEqual(other.client.received, b"free")
        self.net.faults.at(4.0).heal("10.0.0.1", "10.0.0.2")
        self.net.run()
        self.assertEqual((pair.client.received, pair.server.received), (b"one", b"two"))
        self.assertEqual(
            faults(self.net),
            [
                (
                    0.0,
                    None,
                    "partition 10.0.0.1 <-> 10.0.0.2 "
                    "(hold in-flight data; 1 open connection(s))",
                ),
                (4.0, None, "heal 10.0.0.1 <-> 10.0.0.2"),
            ],
        )
        pair.client.tcp.loseConnection()
        other.client.tcp.loseConnection()

    def test_dropLosesBytesAndResetsOnHeal(self) -> None:
        """
        In L{DROP} mode, bytes in flight and written during the partition
        are lost (the trace shows the drops, the close too) while bytes that
        had arrived are still read; on heal, both ends are reset.
        """
        pair = self.pair()
        self.net.set_default_link(LinkConditions(latency=1.0))
        pair.server.tcp.write(b"arrived ")
        self.net.advance(1.0)
        pair.server.tcp.write(b"in flight")
        pair.client.tcp.pauseProducing()
        self.net.advance(0.5)
        self.net.faults.partition("10.0.0.1", "10.0.0.2", in_flight=DROP)
        pair.client.tcp.resumeProducing()
        pair.server.tcp.write(b"during")
        pair.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(pair.client.received, b"arrived ")
        self.assertEqual(pair.client.names(), ["made", "data"])
        self.net.faults.heal("10.0.0.1", "10.0.0.2")
        self.net.run()
        self.assertEqual(pair.client.received, b"arrived ")
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionLost))
        drops = [
            e[3]
            for e in kinds(self.net, pair.client.tcp.connection_id)
            if e[1] == "drop"
        ]
        self.assertEqual(drops, ["9 bytes", "6 bytes", "<FIN>"])
        self.assertIn("resetting 1 connection(s)", faults(self.net)[-1][2])

    def test_arrivedBytesAreReadDuringAHoldPartition(self) -> None:
        """
        In L{HOLD} mode too, bytes that reached the receiving end before the
        partition are read; those in flight wait for the heal.
        """
        pair = self.pair()
        self.net.set_default_link(LinkConditions(latency=1.0))
        pair.client.tcp.pauseProducing()
        pair.server.tcp.write(b"arrived ")
        self.net.advance(1.5)
        pair.server.tcp.write(b"in flight")
        self.net.advance(0.5)
        self.net.faults.partition("10.0.0.1", "10.0.0.2")
        pair.client.tcp.resumeProducing()
        self.net.advance(5)
        self.assertEqual(pair.client.received, b"arrived ")
        self.net.faults.heal("10.0.0.1", "10.0.0.2")
        self.net.run()
        self.assertEqual(pair.client.received, b"arrived in flight")
        pair.client.tcp.loseConnection()
        self.net.run()

    def test_newConnectionsHangUntilHeal(self) -> None:
        """
        Connection attempts between partitioned hosts hang: one times out,
        one started later completes when the partition heals.
        """
        _, port = self.listen("10.0.0.2")
        self.net.faults.partition("10.0.0.1", "10.0.0.2")
        doomed = self.connect(port, "10.0.0.1", timeout=2)
        self.net.advance(1)
        lucky = self.connect(port, "10.0.0.1", timeout=10)
        self.net.faults.at(5).heal("10.0.0.1", "10.0.0.2")
        self.net.advance(5)
        self.assertTrue(doomed.reasons[0].check(TimeoutError))
        self.assertEqual(
            lucky.names(), ["doStart", "startedConnecting", "buildProtocol"]
        )
        self.assertEqual(self.net.getDelayedCalls(), [])
        client = lucky.protocols[0]
        assert isinstance(client, Recorder)
        client.tcp.loseConnection()

    def test_bindAddressGivesTheClientsHost(self) -> None:
        """
        A client bound with C{bindAddress} (a tuple, or a binding made by
        L{makeBinding}: Twisted's C{tcp.Client} takes nothing else) is on
        that host: its attempts across a partition hang.
        """
        from twisted.internet.tcp import makeBinding

        # A host of this network: a socket binds only to a local address.

        self.net.add_host("client.example", "10.0.0.1")
        _, port = self.listen("10.0.0.2")
        self.net.faults.partition("10.0.0.1", "10.0.0.2")
        factories = []
        for bind in (("10.0.0.1", 0), makeBinding("10.0.0.1", 0)):
            factory = RecordingClientFactory()
            factories.append(factory)
            self.net.connectTCP(
                "10.0.0.2",
                port_number(port),
                factory,
                1,
                bind,  # type: ignore[arg-type]  # a (host, port) tuple, as the real reactor accepts
            )
        self.net.run()
        for factory in factories:
            self.assertTrue(factory.reasons[0].check(TimeoutError))
        self.net.faults.heal("10.0.0.1", "10.0.0.2")

    def test_partitionArguments(self) -> None:
        """
        A host cannot be partitioned from itself (nor an unknown host), and
        the mode is L{HOLD} or L{DROP}; healing hosts that are not
        partitioned only says so in the trace.
        """
        f = self.net.faults
        self.assertRaises(ValueError, f.partition, "127.0.0.1", "localhost")
        self.assertRaises(ValueError, f.partition, "10.0.0.1", "nowhere")
        self.assertRaises(
            ValueError, f.partition, "10.0.0.1", "10.0.0.2", in_flight="lose"
        )
        self.assertRaises(TypeError, f.partition, "10.0.0.1", 7)
        f.heal("10.0.0.1", "10.0.0.2")
        self.assertEqual(
            faults(self.net)[-1][2],
            "heal 10.0.0.1 <-> 10.0.0.2 (not partitioned: nothing to do)",
        )


class AbortTests(FaultTestCase):
    """
    C{abort}: C{abortConnection()} on one end, by the network.
    """

    def test_abortAtAVirtualTime(self) -> None:
        """
        Aborting the server end at t=2: L{ConnectionAborted} there,
        L{ConnectionLost} on the client, both at t=2.
        """
        pair = self.pair()
        self.net.faults.at(2.0).abort(pair.client.tcp, side="server")
        self.net.run()
        self.assertEqual(pair.server.events[-1], ("lost", ConnectionAborted))
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionLost))
        lost = [
            (e[0], e[2], e[3])
            for e in kinds(self.net, 1)
            if e[1] in ("fault", "connection-lost")
        ]
        self.assertEqual(
            lost,
            [
                (2.0, "server", "abort the server end"),
                (2.0, "server", "ConnectionAborted"),
                (2.0, "client", "ConnectionLost"),
            ],
        )

    def test_abortEveryConnectionToAnAddress(self) -> None:
        """
        An address target aborts every open connection made to it.
        """
        first, second = self.pair(), self.pair()
        self.net.faults.abort(first.port, side="client")
        self.net.faults.abort(second.port)
        self.net.run()
        for pair in (first, second):
            self.assertEqual(pair.client.events[-1], ("lost", ConnectionAborted))
            self.assertEqual(pair.server.events[-1], ("lost", ConnectionLost))
        self.assertRaises(ValueError, self.net.faults.abort, first.port, side="middle")

    def test_closedConnectionIsANoOp(self) -> None:
        """
        A fault scheduled for a connection that has closed by then does
        nothing.
        """
        pair = self.pair()
        self.net.faults.at(1.0).abort(pair.client.tcp)
        pair.client.tcp.loseConnection()
        self.net.run()
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionDone))
        self.assertEqual(faults(self.net), [])


class ScriptingTests(FaultTestCase):
    """
    Scheduling faults: at a time, after a delay, after a byte count.
    """

    def test_afterBytes(self) -> None:
        """
        C{after_bytes(target, n, direction)} runs the fault when n bytes
        have been written: the write that crosses n is cut there, so a stall
        lets exactly n bytes through.
        """
        pair = self.pair()
        scheduled = self.net.faults.after_bytes(
            pair.client.tcp, 6, SERVER_TO_CLIENT
        ).stall(pair.client.tcp, SERVER_TO_CLIENT)
        self.assertIsInstance(scheduled, ScheduledFault)
        self.assertTrue(scheduled.pending)
        pair.server.tcp.write(b"0123")
        pair.server.tcp.write(b"456789")
        self.net.run()
        self.assertEqual(pair.client.received, b"012345")
        self.assertTrue(scheduled.fired)
        self.assertIn("fired", repr(scheduled))
        self.net.faults.resume(pair.client.tcp)
        self.net.run()
        self.assertEqual(pair.client.received, b"0123456789")
        pair.client.tcp.loseConnection()

    def test_afterBytesOnAnAddressRunsOnce(self) -> None:
        """
        On an address, the fault runs once: when the first connection to it
        reaches the count (the abort then finds only that connection open;
        it takes effect an iteration later, after the rest of that send);
        later connections are untouched.
        """
        server_factory = RecordingServerFactory(
            lambda: Recorder(on_made=lambda p: p.tcp.write(b"0123456789"))
        )
        port = self.net.listenTCP(0, server_factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        scheduled = self.net.faults.after_bytes(port, 4, SERVER_TO_CLIENT).abort(
            port, "server"
        )
        first = self.connect(port)
        self.net.run()
        self.assertTrue(scheduled.fired)
        second = self.connect(port)
        third = self.connect(port)
        self.net.run()
        one, two, three = (f.protocols[0] for f in (first, second, third))
        assert isinstance(one, Recorder)
        assert isinstance(two, Recorder) and isinstance(three, Recorder)
        self.assertEqual(
            one.events,
            [("made", None), ("data", b"0123456789"), ("lost", ConnectionLost)],
        )
        self.assertEqual([e[2] for e in faults(self.net)], ["abort the server end"])
        self.assertEqual(two.received, b"0123456789")
        self.assertEqual(three.received, b"0123456789")
        self.assertEqual((two.names(), three.names()), (["made", "data"],) * 2)
        two.tcp.loseConnection()
        three.tcp.loseConnection()

    def test_cancel(self) -> None:
        """
        A cancelled fault never runs, whether timed or on a byte count.
        """
        pair = self.pair()
        timed = self.net.faults.after(1.0).abort(pair.client.tcp)
        counted = self.net.faults.after_bytes(
            pair.client.tcp, 1, CLIENT_TO_SERVER
        ).abort(pair.client.tcp)
        self.assertIn(
            "scheduled: abort the client end of #", self.net.faults.describe()
        )
        timed.cancel()
        counted.cancel()
        counted.cancel()
        self.assertFalse(timed.pending)
        pair.client.tcp.write(b"x")
        self.net.run()
        self.assertEqual(pair.client.names(), ["made"])
        self.assertIn("cancelled", repr(timed))
        pair.client.tcp.loseConnection()

    def test_pastTimes(self) -> None:
        """
        A fault cannot be scheduled in the past, nor with a negative delay
        or count.
        """
        self.net.advance(5)
        self.assertRaises(ValueError, self.net.faults.at, 4.0)
        self.assertRaises(ValueError, self.net.faults.after, -1)
        self.assertRaises(
            ValueError, self.net.faults.after_bytes, 1, -1, SERVER_TO_CLIENT
        )

    def test_clearLiftsEverything(self) -> None:
        """
        C{clear()} cancels scheduled faults and rules, stops refusing and
        hanging, heals partitions and resumes stalls.
        """
        pair = self.pair()
        _, port = self.listen()
        f = self.net.faults
        f.refuse(port)
        f.hang(("10.9.9.9", 1))
        f.partition("10.0.0.1", "10.0.0.2")
        f.stall(pair.client.tcp)
        f.stall(port)
        scheduled = f.at(3).abort(pair.client.tcp)
        pair.server.tcp.write(b"after clear")
        self.assertNotEqual(f.describe(), "")
        f.clear()
        self.assertEqual(f.describe(), "")
        self.assertTrue(scheduled.cancelled)
        self.net.run()
        self.assertEqual(pair.client.received, b"after clear")
        pair.client.tcp.loseConnection()

    def test_unknownConnectionAtFireTime(self) -> None:
        """
        A fault whose connection id never existed fails when it runs (here
        reported as L{TimerErrors}, which C{timer_errors="raise"} asks for).
        """
        self.net.timer_errors = "raise"
        self.net.faults.at(1).abort(42)
        error = self.assertRaises(TimerErrors, self.net.run)
        self.assertIn("there is no connection #42", str(error))
        self.assertTrue(error.failures[0].check(ValueError))

    def test_deterministicWithFaults(self) -> None:
        """
        A scenario with scheduled faults gives the same trace twice.
        """

        def scenario(net: MemoryNetwork) -> None:
            net.set_default_link(LinkConditions(latency=0.01, jitter=0.2))
            port = net.listenTCP(
                0,
                RecordingServerFactory(
                    lambda: Recorder(on_made=lambda p: p.tcp.write(b"x" * 100))
                ),
                interface="127.0.0.1",
            )
            for _ in range(5):
                net.connectTCP("127.0.0.1", port_number(port), RecordingClientFactory())
            net.faults.at(0.1).reset(port, after_bytes=50, direction=SERVER_TO_CLIENT)
            net.faults.at(0.05).stall(port)
            net.faults.at(0.3).resume(port)
            net.run()
            port.stopListening()

        trace = assert_deterministic(scenario, seed=11)
        self.assertGreater(sum(e.kind == "fault" for e in trace), 5)


class TargetTests(SynchronousTestCase):
    """
    Targets from another network are rejected.
    """

    def test_transportOfAnotherNetwork(self) -> None:
        """
        A transport of another network is not a target.
        """
        one, two = MemoryNetwork(1), MemoryNetwork(2)
        pair = connect_pair(one)
        self.assertRaises(ValueError, two.faults.abort, pair.client.tcp)
        pair.client.tcp.loseConnection()
        pair.port.stopListening()
        one.run()
