"""
Tests for UNIX stream sockets on L{poetry.testing.MemoryNetwork}
(C{listenUNIX}, C{connectUNIX}, the path namespace, the UNIX endpoints).
What the real reactor does is pinned by the C{unix} family of the
differential oracle (C{tests/oracle/scenarios_unix.py}); these tests cover
the harness's own side: inspection, the trace, errors, the namespace's
rules, link conditions and faults on UNIX connections.
"""

from __future__ import annotations

import errno
from typing import Any, cast

from twisted.internet.address import UNIXAddress
from twisted.internet.endpoints import (
    UNIXClientEndpoint,
    clientFromString,
    connectProtocol,
    serverFromString,
)
from twisted.internet.error import (
    BadFileError,
    CannotListenError,
    ConnectError,
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    TimeoutError,
)
from twisted.internet.interfaces import IListeningPort, IReactorUNIX
from twisted.internet.protocol import ServerFactory
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from poetry.testing import (
    Chaos,
    FixedSize,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    Unclean,
)
from poetry.testing._ports import UNIX_PATH_MAX, PathTable
from poetry.testing._unix import UNIX_BUFFER, UNIX_WRITABLE, UnixSocket
from tests.unit.test_testing_support import (
    HalfCloseableRecorder,
    PushProducer,
    Recorder,
    RecordingClientFactory,
    RecordingServerFactory,
    run_document_example,
)

PATH = "/run/poems.sock"


class _Pair:
    def __init__(
        self,
        port: IListeningPort,
        connector: Any,
        server: Recorder,
        client: Recorder,
        server_factory: RecordingServerFactory,
        client_factory: RecordingClientFactory,
    ) -> None:
        self.port = port
        self.connector = connector
        self.server = server
        self.client = client
        self.server_factory = server_factory
        self.client_factory = client_factory


def unix_pair(
    net: MemoryNetwork,
    server: Any = Recorder,
    client: Any = Recorder,
    path: str = PATH,
) -> _Pair:
    """
    Listen on C{path}, connect, and let both ends be made.
    """
    server_factory = RecordingServerFactory(server)
    client_factory = RecordingClientFactory(client)
    port = net.listenUNIX(path, server_factory)
    connector = net.connectUNIX(path, client_factory)
    net.advance(0)
    server_protocol = server_factory.protocols[0]
    client_protocol = client_factory.protocols[0]
    assert isinstance(server_protocol, Recorder)
    assert isinstance(client_protocol, Recorder)
    return _Pair(
        port,
        connector,
        server_protocol,
        client_protocol,
        server_factory,
        client_factory,
    )


class InterfaceTests(MemoryNetworkTestCase):
    """
    The network provides L{IReactorUNIX}.
    """

    def test_provides(self) -> None:
        """
        C{listenUNIX} and C{connectUNIX} are there, as the interface says.
        """
        self.assertTrue(verifyObject(IReactorUNIX, self.net))


class ConnectTests(MemoryNetworkTestCase):
    """
    Connecting over a UNIX path.
    """

    def test_connectAndTalk(self) -> None:
        """
        A client connected to a UNIX port exchanges bytes with the server;
        closing ends both sides with L{ConnectionDone}.
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        pair.client.tcp.write(b"ping")
        pair.server.tcp.write(b"pong")
        self.net.run()
        self.assertEqual(
            (pair.server.received, pair.client.received), (b"ping", b"pong")
        )
        pair.client.tcp.loseConnection()
        self.net.run()
        self.assertEqual(pair.server.events[-1], ("lost", ConnectionDone))
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionDone))

    def test_clientIsMadeBeforeTheServerAccepts(self) -> None:
        """
        C{connect()} of a UNIX socket completes at once: the client
        protocol is made (in the step after C{connectUNIX}) before the
        server protocol is built.
        """
        made: list[str] = []
        server_factory = RecordingServerFactory(
            lambda: Recorder(on_made=lambda p: made.append("server"))
        )
        client_factory = RecordingClientFactory(
            lambda: Recorder(on_made=lambda p: made.append("client"))
        )
        port = self.net.listenUNIX(PATH, server_factory)
        self.addCleanup(port.stopListening)
        connector = self.net.connectUNIX(PATH, client_factory)
        self.assertEqual(client_factory.names(), ["doStart", "startedConnecting"])
        self.net.step()
        self.assertEqual(client_factory.names()[-1], "buildProtocol")
        self.net.run()
        self.assertEqual(made, ["client", "server"])
        self.assertEqual(server_factory.events[-1], ("buildProtocol", UNIXAddress(b"")))
        self.assertEqual(connector.state, "connected")  # type: ignore[attr-defined]
        connector.disconnect()
        self.net.run()

    def test_addresses(self) -> None:
        """
        The addresses are L{UNIXAddress}es as the real reactor's: the path
        on the listening side, the unnamed address for the client's end.
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        path = UNIXAddress(PATH)
        self.assertEqual(pair.port.getHost(), path)
        self.assertEqual(pair.connector.getDestination(), path)
        self.assertEqual(pair.client_factory.events[2], ("buildProtocol", path))
        self.assertEqual(pair.client.tcp.getPeer(), path)
        self.assertEqual(pair.client.tcp.getHost(), UNIXAddress(None))
        self.assertEqual(pair.server.tcp.getHost(), path)
        self.assertEqual(pair.server.tcp.getPeer(), UNIXAddress(None))
        pair.client.tcp.loseConnection()
        self.net.run()
        self.assertEqual(pair.client.tcp.getHost(), UNIXAddress(None))
        self.assertRaises(AttributeError, pair.server.tcp.getHost)

    def test_bytesPath(self) -> None:
        """
        A path given as bytes names the same socket as the text path.
        """
        pair = unix_pair(self.net, path=PATH)
        self.addCleanup(pair.port.stopListening)
        factory = RecordingClientFactory()
        self.net.connectUNIX(PATH.encode(), factory)
        self.net.run()
        self.assertEqual(factory.names()[-1], "buildProtocol")
        for protocol in [*factory.protocols, pair.client]:
            assert protocol.transport is not None
            protocol.transport.loseConnection()
        self.net.run()

    def test_missingPath(self) -> None:
        """
        Connecting to a path nobody listens on fails with L{ConnectError}
        (C{ENOENT}) in the next step.
        """
        factory = RecordingClientFactory()
        self.net.connectUNIX("/nowhere", factory)
        self.net.run()
        self.assertEqual(
            factory.names(),
            ["doStart", "startedConnecting", "clientConnectionFailed", "doStop"],
        )
        reason = factory.reasons[0]
        self.assertEqual(reason.type, ConnectError)
        self.assertEqual(cast(ConnectError, reason.value).osError, errno.ENOENT)

    def test_pathTooLong(self) -> None:
        """
        A path too long for a UNIX socket address cannot be listened on
        (after the factory started, as C{unix.Port} does); connecting to it
        logs the real reactor's C{TypeError} and times out.
        """
        path = "/" + "p" * UNIX_PATH_MAX
        server_factory = RecordingServerFactory()
        error = self.assertRaises(
            CannotListenError, self.net.listenUNIX, path, server_factory
        )
        self.assertEqual(server_factory.events, [("doStart", None)])
        self.assertEqual(str(error.socketError), "AF_UNIX path too long")
        client_factory = RecordingClientFactory()
        self.net.connectUNIX(path, client_factory, timeout=5)
        self.net.run()
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 1)
        self.assertEqual(client_factory.reasons[0].type, TimeoutError)
        self.assertEqual(self.net.seconds(), 5.0)

    def test_checkPIDWithoutALock(self) -> None:
        """
        C{connectUNIX(checkPID=1)} to a port that holds no lock file fails
        with L{BadFileError} naming the path.
        """
        port = self.net.listenUNIX(PATH, ServerFactory())
        self.addCleanup(port.stopListening)
        factory = RecordingClientFactory()
        self.net.connectUNIX(PATH, factory, checkPID=1)
        self.net.run()
        self.assertEqual(factory.reasons[0].type, BadFileError)
        self.assertIn(PATH, factory.reasons[0].getErrorMessage())
        self.assertEqual(self.net.open_connections(), [])

    def test_backlogFull(self) -> None:
        """
        A client of a UNIX port whose accept queue is full fails with
        L{ConnectError} (its C{connect()} returned C{EAGAIN}, and the
        unconnected socket then polls hung up); those queued before it are
        served once the port accepts.
        """
        port = self.net.listenUNIX(PATH, RecordingServerFactory(), backlog=1)
        self.addCleanup(port.stopListening)
        cast(Any, port).stopReading()
        factories = [RecordingClientFactory() for _ in range(3)]
        for factory in factories:
            self.net.connectUNIX(PATH, factory)
        self.net.run()
        self.assertEqual(factories[2].reasons[0].type, ConnectError)
        self.assertEqual([f.names()[-1] for f in factories[:2]], ["buildProtocol"] * 2)
        cast(Any, port).startReading()
        self.net.run()
        for factory in factories[:2]:
            protocol = factory.protocols[0]
            assert protocol.transport is not None
            protocol.transport.loseConnection()
        self.net.run()

    def test_serverBuildsNothing(self) -> None:
        """
        A server factory returning L{None} closes the accepted connection:
        the client sees L{ConnectionDone}.
        """
        pair_factory = RecordingServerFactory(lambda: None)
        port = self.net.listenUNIX(PATH, pair_factory)
        self.addCleanup(port.stopListening)
        factory = RecordingClientFactory()
        self.net.connectUNIX(PATH, factory)
        self.net.run()
        self.assertEqual(factory.events[-2], ("clientConnectionLost", ConnectionDone))

    def test_stopConnecting(self) -> None:
        """
        C{stopConnecting()} right after C{connectUNIX} fails the attempt at
        once; the connector can connect again.
        """
        port = self.net.listenUNIX(PATH, RecordingServerFactory())
        self.addCleanup(port.stopListening)
        factory = RecordingClientFactory()
        connector = self.net.connectUNIX(PATH, factory)
        connector.stopConnecting()
        self.assertEqual(factory.names()[-2:], ["clientConnectionFailed", "doStop"])
        self.net.run()
        connector.connect()
        self.net.run()
        self.assertEqual(factory.names()[-1], "buildProtocol")
        connector.disconnect()
        self.net.run()


class NamespaceTests(MemoryNetworkTestCase):
    """
    The UNIX path namespace: nothing on disk, a path exists while it is
    listened on.
    """

    def test_takenPath(self) -> None:
        """
        Listening on a path that is listened on starts the factory and then
        raises L{CannotListenError} (C{EADDRINUSE}) naming the path.
        """
        port = self.net.listenUNIX(PATH, ServerFactory())
        self.addCleanup(port.stopListening)
        factory = RecordingServerFactory()
        error = self.assertRaises(CannotListenError, self.net.listenUNIX, PATH, factory)
        self.assertEqual(error.port, PATH.encode())
        self.assertEqual(cast(OSError, error.socketError).errno, errno.EADDRINUSE)
        self.assertEqual(factory.events, [("doStart", None)])
        self.assertEqual(self.net.listening_ports(), [port])

    def test_stopListeningFreesThePath(self) -> None:
        """
        Once the port stopped, its path can be listened on again, and a
        client reaches the new port.
        """
        port = self.net.listenUNIX(PATH, ServerFactory())
        port.stopListening()
        self.net.run()
        factory = RecordingServerFactory()
        again = self.net.listenUNIX(PATH, factory)
        self.addCleanup(again.stopListening)
        client = RecordingClientFactory()
        connector = self.net.connectUNIX(PATH, client)
        self.net.run()
        self.assertEqual(factory.events[-1], ("buildProtocol", UNIXAddress(b"")))
        connector.disconnect()
        self.net.run()

    def test_pathsAndPortsAreSeparate(self) -> None:
        """
        A UNIX path that reads like an address does not clash with a TCP
        port, nor a client of one with the other.
        """
        tcp = self.net.listenTCP(0, ServerFactory(), interface="127.0.0.1")
        self.addCleanup(tcp.stopListening)
        unix = self.net.listenUNIX("127.0.0.1", ServerFactory())
        self.addCleanup(unix.stopListening)
        self.assertEqual(len(self.net.listening_ports()), 2)

    def test_lockFile(self) -> None:
        """
        C{wantPID=1} takes the lock file: another C{wantPID} port on the
        path fails before starting its factory; a C{checkPID} client
        connects; stopping the port releases the lock.
        """
        port = self.net.listenUNIX(PATH, RecordingServerFactory(), wantPID=1)
        factory = RecordingServerFactory()
        error = self.assertRaises(
            CannotListenError, self.net.listenUNIX, PATH, factory, 50, 0o666, 1
        )
        self.assertEqual(error.socketError, "Cannot acquire lock")
        self.assertEqual(factory.events, [])
        client = RecordingClientFactory()
        connector = self.net.connectUNIX(PATH, client, checkPID=1)
        self.net.run()
        self.assertEqual(client.names()[-1], "buildProtocol")
        connector.disconnect()
        port.stopListening()
        self.net.run()
        again = self.net.listenUNIX(PATH, ServerFactory(), wantPID=1)
        self.addCleanup(again.stopListening)
        self.assertEqual(cast(Any, again).wantPID, 1)

    def test_modeIsKept(self) -> None:
        """
        The file mode asked for is kept on the port (no file is made).
        """
        port = self.net.listenUNIX(PATH, ServerFactory(), mode=0o600)
        self.addCleanup(port.stopListening)
        self.assertEqual(cast(Any, port).mode, 0o600)

    def test_pathTable(self) -> None:
        """
        The namespace's rules: a path is bound once; the longest path is
        107 bytes (108 for an abstract name); locks are held once.
        """
        table = PathTable()
        table.bind(b"/a")
        self.assertEqual(
            self.assertRaises(OSError, table.bind, b"/a").errno, errno.EADDRINUSE
        )
        table.unbind(b"/a")
        table.bind(b"/a")
        table.bind(b"/" + b"x" * (UNIX_PATH_MAX - 1))
        self.assertRaises(OSError, table.bind, b"/" + b"x" * UNIX_PATH_MAX)
        table.bind(b"\0" + b"x" * UNIX_PATH_MAX)
        self.assertRaises(OSError, table.bind, b"\0" + b"x" * (UNIX_PATH_MAX + 1))
        self.assertTrue(table.lock(b"/a.lock"))
        self.assertFalse(table.lock(b"/a.lock"))
        self.assertTrue(table.is_locked(b"/a.lock"))
        table.unlock(b"/a.lock")
        self.assertFalse(table.is_locked(b"/a.lock"))


class KernelTests(MemoryNetworkTestCase):
    """
    What a UNIX stream socket does differently from TCP.
    """

    def test_abortIsOrderlyForThePeer(self) -> None:
        """
        An abort with nothing unread reaches the peer as an orderly end
        (L{ConnectionDone}): C{SO_LINGER} does nothing on a UNIX socket.
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        pair.client.tcp.abortConnection()
        self.net.run()
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionAborted))
        self.assertEqual(pair.server.events[-1], ("lost", ConnectionDone))

    def test_closeWithUnreadInputResetsThePeer(self) -> None:
        """
        Closing with unread input: the peer reads what was sent, then is
        lost with L{ConnectionLost} (C{ECONNRESET}, reported before the
        end-of-file).
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        pair.server.tcp.pauseProducing()
        pair.client.tcp.write(b"unread")
        pair.server.tcp.write(b"bye")
        self.net.run()
        pair.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(pair.client.received, b"bye")
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionLost))

    def test_writeToAClosedPeer(self) -> None:
        """
        Writing to a peer that closed fails at once with C{EPIPE}: the
        writer is lost with L{ConnectionLost}.
        """
        pair = unix_pair(self.net, server=HalfCloseableRecorder)
        self.addCleanup(pair.port.stopListening)
        pair.client.tcp.loseConnection()
        self.net.run()
        self.assertEqual(pair.server.names()[-1], "readLost")
        pair.server.tcp.write(b"too late")
        self.net.run()
        self.assertEqual(pair.server.events[-1], ("lost", ConnectionLost))

    def test_writerStallsAfterAQuarterOfTheBuffer(self) -> None:
        """
        A writer to a peer that does not read stalls once more than a
        quarter of the send buffer is unread (the socket no longer polls
        writable), not when the buffer is full; reading makes it writable
        again and everything arrives.
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        pair.server.tcp.pauseProducing()
        producer = PushProducer()
        pair.client.tcp.registerProducer(producer, True)
        chunk = b"x" * 16384
        for _ in range(5):
            pair.client.tcp.write(chunk)
        self.net.run()
        self.assertEqual(producer.events, ["pause", "resume"])
        for _ in range(5):
            pair.client.tcp.write(chunk)
        self.net.run()
        self.assertEqual(producer.events, ["pause", "resume", "pause"])
        sock = pair.server.tcp.socket
        self.assertEqual(sock.rq_len, 5 * 16384)
        self.assertGreater(sock.rq_len, UNIX_WRITABLE)
        self.assertLess(sock.rq_len, UNIX_BUFFER)
        pair.server.tcp.resumeProducing()
        self.net.run()
        self.assertEqual(len(pair.server.received), 10 * 16384)
        self.assertEqual(producer.events[-1], "resume")
        pair.client.tcp.unregisterProducer()
        pair.client.tcp.loseConnection()
        self.net.run()

    def test_sendTakesWhatFits(self) -> None:
        """
        A send takes as much as the peer's queue may still hold, and
        C{EAGAIN} when it is full.
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        sock = pair.client.tcp.socket
        self.assertIsInstance(sock, UnixSocket)
        self.assertEqual(sock.send(b"x" * (UNIX_BUFFER - 10)), UNIX_BUFFER - 10)
        self.assertEqual(sock.send(b"y" * 100), 10)
        self.assertEqual(
            self.assertRaises(OSError, sock.send, b"z").errno, errno.EAGAIN
        )
        pair.client.tcp.abortConnection()
        self.net.run()

    def test_sendAfterShutdownOrError(self) -> None:
        """
        A send on a UNIX socket whose write side is shut fails with
        C{EPIPE}; a pending error is reported (once) by the next send.
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        sock = pair.client.tcp.socket
        sock.err = errno.ECONNRESET
        self.assertEqual(
            self.assertRaises(OSError, sock.send, b"x").errno, errno.ECONNRESET
        )
        sock.shutdown_write()
        self.assertEqual(self.assertRaises(OSError, sock.send, b"x").errno, errno.EPIPE)
        pair.client.tcp.abortConnection()
        self.net.run()


class ConditionsAndFaultsTests(MemoryNetworkTestCase):
    """
    Link conditions and faults apply to UNIX connections too.
    """

    def test_chunking(self) -> None:
        """
        The network's default chunking cuts what a UNIX connection carries.
        """
        self.net.set_default_link(LinkConditions(chunking=FixedSize(2)))
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        pair.client.tcp.write(b"abcdef")
        self.net.run()
        self.assertEqual(pair.server.chunks, [b"ab", b"cd", b"ef"])
        pair.client.tcp.loseConnection()
        self.net.run()

    def test_latencyDelaysDataNotTheConnect(self) -> None:
        """
        Latency delays bytes; a UNIX C{connect()} has no handshake to
        delay.
        """
        self.net.set_default_link(LinkConditions(latency=1.0))
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.assertEqual(self.net.seconds(), 0.0)
        pair.client.tcp.write(b"late")
        self.net.run()
        self.assertEqual((pair.server.received, self.net.seconds()), (b"late", 1.0))
        pair.client.tcp.loseConnection()
        self.net.run()

    def test_resetFault(self) -> None:
        """
        A reset fault on a UNIX connection loses both ends with
        L{ConnectionLost}.
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.net.faults.reset(pair.client.tcp)
        self.net.run()
        self.assertEqual(pair.client.events[-1], ("lost", ConnectionLost))
        self.assertEqual(pair.server.events[-1], ("lost", ConnectionLost))


class ChaosTests(SynchronousTestCase):
    """
    Chaos on a network with UNIX and IPv6 ports.
    """

    def test_addressFaultsTargetIPPortsOnly(self) -> None:
        """
        Refuse and hang faults target listening addresses: an IPv6 port is
        one; a UNIX port, whose address a fault cannot name, is left alone.
        """
        targets: set[str] = set()
        for seed in range(20):
            net = MemoryNetwork(
                seed, faults=Chaos(kinds=("refuse", "hang"), probability=1.0)
            )
            unix = net.listenUNIX(PATH, ServerFactory())
            six = net.listenTCP(7000, ServerFactory(), interface="::1")
            net.advance(5)
            for event in net.trace:
                detail = str(event.detail)
                if event.kind == "fault" and " connections to " in detail:
                    targets.add(detail.split(" connections to ")[-1])
            unix.stopListening()
            six.stopListening()
            net.faults.clear()
            net.run()
        self.assertEqual(targets, {"::1:7000"})


class InspectionTests(MemoryNetworkTestCase):
    """
    UNIX connections and ports in the trace, descriptions and reprs.
    """

    def test_trace(self) -> None:
        """
        The trace names UNIX ends as C{unix:PATH} and the client's as
        C{unix:(unnamed)}.
        """
        pair = unix_pair(self.net)
        pair.port.stopListening()
        pair.client.tcp.loseConnection()
        self.net.run()
        details = [
            (event.kind, event.detail)
            for event in self.net.trace
            if event.kind in ("listen", "connect", "accept", "stop-listening")
        ]
        self.assertEqual(
            details,
            [
                ("listen", f"unix:{PATH}"),
                ("connect", f"unix:{PATH}"),
                ("accept", f"unix:(unnamed) -> unix:{PATH}"),
                ("stop-listening", f"unix:{PATH}"),
            ],
        )

    def test_describe(self) -> None:
        """
        C{describe()} lists UNIX connections and ports by path.
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        text = self.net.describe()
        self.assertIn(f"unix:(unnamed) (client) <-> unix:{PATH} (server)", text)
        self.assertIn(f"  unix:{PATH} (RecordingServerFactory)", text)
        pair.client.tcp.loseConnection()
        self.net.run()

    def test_describeAnAttempt(self) -> None:
        """
        A UNIX client end names its path while it connects.
        """
        connector = self.net.connectUNIX(PATH, RecordingClientFactory())
        transport = cast(Any, connector).transport
        self.assertEqual(transport.destination(), f"unix:{PATH}")
        self.assertIn(f"unix:{PATH} connecting", repr(transport))
        connector.stopConnecting()

    def test_reprs(self) -> None:
        """
        A UNIX port's and connector's reprs name the path.
        """
        port = self.net.listenUNIX(PATH, ServerFactory())
        self.assertIn(repr(PATH), repr(port))
        connector = self.net.connectUNIX(PATH, RecordingClientFactory())
        self.assertIn(repr(PATH), repr(connector))
        connector.stopConnecting()
        port.stopListening()
        self.net.run()
        self.assertIn("not listening", repr(port))

    def test_uncleanNamesThePath(self) -> None:
        """
        A UNIX port left listening makes the network unclean, naming it.
        """
        net = MemoryNetwork(seed=1)
        net.listenUNIX(PATH, ServerFactory())
        error = self.assertRaises(Unclean, net.assert_clean)
        self.assertIn(f"unix:{PATH}", str(error))

    def test_tcpOptions(self) -> None:
        """
        C{TCP_NODELAY} does not exist on a UNIX transport (set is ignored,
        get is False); C{SO_KEEPALIVE} is stored.
        """
        pair = unix_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        for transport in (pair.client.tcp, pair.server.tcp):
            transport.setTcpNoDelay(True)
            self.assertFalse(transport.getTcpNoDelay())
            transport.setTcpKeepAlive(True)
            self.assertTrue(transport.getTcpKeepAlive())
        self.assertEqual(pair.server.tcp.logPrefix(), "Recorder,0,")
        self.assertEqual(pair.client.tcp.logPrefix(), "Recorder,client")
        pair.client.tcp.loseConnection()
        self.net.run()


class EndpointTests(MemoryNetworkTestCase):
    """
    The UNIX endpoints and C{unix:} strings run on the network.
    """

    def test_stringEndpoints(self) -> None:
        """
        C{serverFromString(net, "unix:/x")} and C{clientFromString(net,
        "unix:/x")} connect.
        """
        factory = RecordingServerFactory()
        port = self.successResultOf(
            serverFromString(self.net, "unix:/x").listen(factory)
        )
        self.addCleanup(port.stopListening)
        client = Recorder()
        d = connectProtocol(clientFromString(self.net, "unix:/x"), client)
        self.net.run()
        self.assertIs(self.successResultOf(d), client)
        client.tcp.write(b"hello")
        self.net.run()
        server = factory.protocols[0]
        assert isinstance(server, Recorder)
        self.assertEqual(server.received, b"hello")
        client.tcp.loseConnection()
        self.net.run()

    def test_lockfileString(self) -> None:
        """
        C{unix:PATH:lockfile=1} listens with a lock file, which a
        C{checkPID} client finds.
        """
        port = self.successResultOf(
            serverFromString(self.net, "unix:/x:lockfile=1").listen(
                RecordingServerFactory()
            )
        )
        self.addCleanup(port.stopListening)
        client = Recorder()
        d = connectProtocol(UNIXClientEndpoint(self.net, "/x", checkPID=1), client)
        self.net.run()
        self.successResultOf(d)
        client.tcp.loseConnection()
        self.net.run()


class DocumentExampleTests(SynchronousTestCase):
    """
    The UNIX sockets example of C{docs/testing.md} runs, as shown, and
    passes.
    """

    def test_unix(self) -> None:
        """
        The poem is served over a UNIX path, and a path nobody listens on
        fails with C{ENOENT}.
        """
        run_document_example(self, "unix", 2)
