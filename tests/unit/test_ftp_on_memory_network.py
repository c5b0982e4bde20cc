"""
Unmodified C{twisted.protocols.ftp} over L{MemoryNetwork}: Twisted's FTP
server (L{FTPFactory<ftp.FTPFactory>} behind a C{twisted.cred} L{Portal} over
an L{FTPRealm<ftp.FTPRealm>} serving directories made in the test's
temporary directory) and its client (L{FTPClient<ftp.FTPClient>}) log in,
list a directory, download and upload files larger than one read, refuse a
wrong password, a missing file and a directory outside the root, make two
transfers on one control connection, report a data connection reset in the
middle of a download (C{426}), give up on a data connection that never comes
and close an idle control connection -- each under the default delivery
(each write whole), one-byte chunking and random chunking (from the network's
seed).  Every transfer is passive: the server listens on a new port for each
one (C{PASV}) and the client connects to it, a second TCP connection beside
the control connection.

FTP takes a reactor nowhere, and uses the global one in five places on these
paths; a user must inject the network in three ways:

  - C{FTP.listenFactory}, the function the server listens for a passive data
    connection with, is a class attribute bound, when C{twisted.protocols.ftp}
    was imported, to the C{listenTCP} of the reactor installed then (the real
    one).  Set it per protocol, in the factory's C{buildProtocol}:
    C{protocol.listenFactory = net.listenTCP} (L{NetworkFTPFactory}).  The
    C{PASV} reply then carries the network's address and port: the host of
    the control connection's C{getHost()}, the port of the new listener.
  - C{FTPClient.connectFactory}, the function the client connects to that
    port with, likewise: C{client.connectFactory = net.connectTCP}
    (L{NetworkFTPClient}).  Patching C{twisted.internet.reactor} reaches
    neither: both were bound at import.  Without them the server or the
    client opens a real socket on the real reactor; in this package the
    socket guard fails that test (L{FTPGuardTests}).
  - The server pauses after every command line and resumes, when the
    command is done, from a C{callLater(0, ...)} that C{FTP.lineReceived}
    makes on the reactor it imports when it runs
    (C{from twisted.internet import reactor}); C{FTP.ftp_PASV} builds its
    L{DTPFactory<ftp.DTPFactory>} without a reactor, so the timeout for the
    data connection (C{FTP.dtpTimeout}, 10 s) goes to the reactor imported
    the same way.  No attribute or parameter reaches either: patch what that
    import reads, for the test: C{self.patch(twisted.internet, "reactor",
    self.net)} (the package's attribute, not C{sys.modules}: the guard keeps
    watching the real reactor).  Without it the server answers the first
    command and never reads another; the guard names the call
    (L{FTPGuardTests}).

The fifth, the server's idle timeout (C{FTPFactory.timeOut}, 600 s by
default), is a L{TimeoutMixin<twisted.protocols.policies.TimeoutMixin>}
whose default C{callLater} also imports the reactor when it runs, so the
patch above reaches it too; the scenarios still set C{protocol.callLater =
net.callLater} in the same C{buildProtocol}, the fix the guard names for it,
which keeps the timeout on the network without the patch.

Active mode (C{PORT}, C{EPRT}) would need more -- the server connects with,
and the client listens with, the C{reactor} that C{twisted.protocols.ftp}
imported (C{self.patch(ftp, "reactor", net)}) -- and is not exercised here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import twisted.internet
from twisted.cred.checkers import (
    AllowAnonymousAccess,
    InMemoryUsernamePasswordDatabaseDontUse,
)
from twisted.cred.portal import Portal
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionLost, ConnectionRefusedError
from twisted.internet.interfaces import IAddress, IListeningPort
from twisted.internet.protocol import Protocol, connectionDone
from twisted.protocols import ftp
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath

from poetry.testing import (
    ONE_BYTE,
    SERVER_TO_CLIENT,
    Deadlock,
    MemoryNetwork,
    MemoryNetworkTestCase,
    MemoryTransport,
    RandomSizes,
)
from tests.socket_guard import SocketForbidden
from tests.unit.test_testing_guard import run_inner, stand_in_global_reactor
from tests.unit.test_testing_support import ChunkedScenarios, port_number

#: The one account of the password checker.
PASSWORDS = {"alice": "lantern"}

#: A small text file of the public directory (original lines).
HARBOUR = (
    b"The ferry hums its one low note across the sleeping bay,\n"
    b"and every buoy answers it in a different grey.\n"
)

#: Another, whose name has a space in it.
NOTES = b"Ink on the tide tables, salt on the stair.\n"


def counted(size: int) -> bytes:
    """
    C{size} bytes of four-byte big-endian counters (0, 1, 2, ...), cut to
    C{size}: no stretch repeats, so a lost, doubled or reordered piece
    changes the bytes.
    """
    return b"".join(n.to_bytes(4, "big") for n in range(size // 4 + 1))[:size]


#: The file downloaded whole: larger than the largest read (64 KiB).
CHART = counted(200_003)

#: The file uploaded: larger than one read too.
LOGBOOK = counted(70_001)[::-1]

#: Where the data connection of L{_FTPScenarios.test_resetMidDownload} is
#: reset, in bytes from the server.
RESET_AT = 50_000


def make_tree(case: MemoryNetworkTestCase) -> FilePath[str]:
    """
    A directory in C{case}'s temporary directory: C{public/} (the anonymous
    root: C{harbour.txt}, C{tide notes.txt}, C{chart.bin} and an empty
    directory C{drafts}) and C{home/alice/} (empty: alice's home).
    """
    root = FilePath(case.mktemp())
    public = root.child("public")
    public.child("drafts").makedirs()
    public.child("harbour.txt").setContent(HARBOUR)
    public.child("tide notes.txt").setContent(NOTES)
    public.child("chart.bin").setContent(CHART)
    root.child("home").child("alice").makedirs()
    return root


class NetworkFTPFactory(ftp.FTPFactory):
    """
    Twisted's L{FTPFactory<ftp.FTPFactory>} whose protocols listen for data
    connections with C{listen} and schedule their idle timeout with
    C{callLater} (each L{None}: the global reactor's, as L{ftp.FTP} does by
    default).

    @ivar passivePorts: the port of each passive listener, in order.
    """

    def __init__(
        self,
        portal: Portal,
        listen: Callable[..., IListeningPort] | None,
        callLater: Callable[..., Any] | None,
    ) -> None:
        super().__init__(portal)
        self.listen = listen
        self.clock = callLater
        self.passivePorts: list[int] = []

    def _listen(self, port: int, factory: Any, interface: str = "") -> IListeningPort:
        assert self.listen is not None
        listening = self.listen(port, factory, interface=interface)
        self.passivePorts.append(port_number(listening))
        return listening

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        wrapper: Any = super().buildProtocol(addr)
        protocol = wrapper.wrappedProtocol
        if self.listen is not None:
            protocol.listenFactory = self._listen
        if self.clock is not None:
            protocol.callLater = self.clock
        return wrapper  # type: ignore[no-any-return]


class NetworkFTPClient(ftp.FTPClient):
    """
    Twisted's L{FTPClient<ftp.FTPClient>}, in passive mode, connecting its
    data connections with C{connect} (L{None}: the global reactor's
    C{connectTCP}, as L{ftp.FTPClient} does by default).

    @ivar lost: fires when the control connection is lost.
    @ivar lostAt: the time it was lost, on C{clock}.
    @ivar lines: every line received on the control connection.
    """

    def __init__(
        self,
        username: str,
        password: str,
        connect: Callable[..., Any] | None,
        clock: MemoryNetwork,
    ) -> None:
        super().__init__(username, password)
        if connect is not None:
            self.connectFactory = connect  # type: ignore[method-assign]
        self.clock = clock
        self.lost: Deferred[None] = Deferred()
        self.lostAt: float | None = None
        self.lines: list[bytes] = []

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)
        super().lineReceived(line)

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        super().connectionLost(reason)
        self.lostAt = self.clock.seconds()
        self.lost.callback(None)


class Download(Protocol):
    """
    The receiving end of a data connection: what it reads, one piece per
    C{dataReceived}.

    @ivar onMade: called with the protocol when its connection is made.
    @ivar peerPort: the server's port of the data connection.
    @ivar reason: why the connection was lost.
    """

    def __init__(self, onMade: Callable[[Download], object] | None = None) -> None:
        self.chunks: list[bytes] = []
        self.onMade = onMade
        self.peerPort: int | None = None
        self.reason: Failure | None = None

    def connectionMade(self) -> None:
        assert self.transport is not None
        peer = self.transport.getPeer()
        assert isinstance(peer, IPv4Address)
        self.peerPort = peer.port
        if self.onMade is not None:
            self.onMade(self)

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason

    @property
    def received(self) -> bytes:
        """
        Everything read, in order.
        """
        return b"".join(self.chunks)


class Names(LineReceiver):
    """
    The receiving end of an C{NLST}: one name a line.
    """

    def __init__(self) -> None:
        self.names: list[str] = []

    def lineReceived(self, line: bytes) -> None:
        self.names.append(line.decode("utf-8"))


def serve(
    net: MemoryNetwork,
    root: FilePath[str],
    *,
    listen: bool = True,
    clock: bool = True,
) -> tuple[NetworkFTPFactory, IListeningPort]:
    """
    Listen on C{127.0.0.1} with Twisted's FTP server: anonymous users in
    C{root/public}, L{PASSWORDS}' users in C{root/home/}I{name}; passive
    ports on C{net} unless not C{listen}, the idle timeout on C{net} unless
    not C{clock}.
    """
    realm = ftp.FTPRealm(root.child("public").path, root.child("home").path)
    checker = InMemoryUsernamePasswordDatabaseDontUse()
    for name, password in PASSWORDS.items():
        # FTP passes the name and password on as str; the stubs ask for bytes.
        checker.addUser(name, password)  # type: ignore[arg-type]
    portal = Portal(realm, [AllowAnonymousAccess(), checker])
    factory = NetworkFTPFactory(
        portal, net.listenTCP if listen else None, net.callLater if clock else None
    )
    return factory, net.listenTCP(0, factory, interface="127.0.0.1")


def connect(
    net: MemoryNetwork,
    port: IListeningPort,
    username: str = "anonymous",
    password: str = "reader@example.com",
    *,
    network: bool = True,
) -> NetworkFTPClient:
    """
    Connect an L{NetworkFTPClient} that logs in as C{username} (its data
    connections on C{net} unless not C{network}); the login is queued.
    """
    client = NetworkFTPClient(
        username, password, net.connectTCP if network else None, net
    )
    endpoint = TCP4ClientEndpoint(net, "127.0.0.1", port_number(port))
    net.run_until(connectProtocol(endpoint, client))
    return client


def sign_off(net: MemoryNetwork, client: NetworkFTPClient) -> None:
    """
    C{QUIT}, and wait until the server has closed the control connection.
    """
    client.quit()
    net.run_until(client.lost)


def replies(failure: Failure) -> list[str]:
    """
    The server's lines that made an L{ftp.CommandFailed}, however deep.
    """
    error = failure.value
    while isinstance(error, ftp.ConnectionLost):
        error = error.args[1].value
    assert isinstance(error, ftp.CommandFailed), error
    lines: list[str] = error.args[0]
    return lines


class _FTPScenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.
    """

    def setUp(self) -> None:
        super().setUp()
        # FTP.lineReceived's resumption and the DTPFactory's timeout schedule
        # on the reactor "from twisted.internet import reactor" finds.
        self.patch(twisted.internet, "reactor", self.net)
        self.root = make_tree(self)
        self.factory, self.port = serve(self.net, self.root)
        self.addCleanup(self.port.stopListening)

    def failure(self, d: Deferred[Any]) -> Failure:
        """
        Run the network until C{d} fires, and return its L{Failure}.
        """
        failures: list[Failure] = []
        d.addErrback(failures.append)
        self.net.run_until(d)
        [failure] = failures
        return failure

    def test_listAndDownload(self) -> None:
        """
        An anonymous user lists the public directory (C{LIST}, parsed by
        L{FTPFileListProtocol<ftp.FTPFileListProtocol>}: each name as
        written, its type and size) and names it (C{NLST}), then downloads a
        file larger than one read: it arrives whole, in more than one read,
        and the transfer ends with C{226}.
        """
        client = connect(self.net, self.port)
        listing = ftp.FTPFileListProtocol()
        self.net.run_until(client.list(".", listing))
        files = {f["filename"]: f for f in listing.files}
        self.assertEqual(
            sorted((name, f["filetype"]) for name, f in files.items()),
            [
                ("chart.bin", "-"),
                ("drafts", "d"),
                ("harbour.txt", "-"),
                ("tide notes.txt", "-"),
            ],
        )
        self.assertEqual(
            [files[name]["size"] for name in ("chart.bin", "harbour.txt")],
            [len(CHART), len(HARBOUR)],
        )
        names = Names()
        self.net.run_until(client.nlst(".", names))
        self.assertEqual(
            sorted(names.names),
            ["chart.bin", "drafts", "harbour.txt", "tide notes.txt"],
        )
        download = Download()
        [(_, [(_, responses)]), *_] = self.net.run_until(
            client.retrieveFile("chart.bin", download)
        )
        self.assertEqual(responses[-1], "226 Transfer Complete.")
        self.assertEqual(download.received, CHART)
        self.assertGreater(len(download.chunks), 1)
        sign_off(self.net, client)
        self.assertEqual(self.net.open_connections(), [])

    def test_upload(self) -> None:
        """
        A user who logs in with a password stores a file larger than one
        read (C{STOR}); the transfer ends with C{226}, and the file in her
        home directory on disk holds exactly the bytes sent.
        """
        client = connect(self.net, self.port, "alice", PASSWORDS["alice"])
        ready, done = client.storeFile("logbook.bin")
        sender = self.net.run_until(ready)
        sender.write(LOGBOOK)
        sender.finish()
        [(_, [(_, responses)]), *_] = self.net.run_until(done)
        self.assertEqual(responses[-1], "226 Transfer Complete.")
        stored = self.root.child("home").child("alice").child("logbook.bin")
        self.assertEqual(stored.getContent(), LOGBOOK)
        sign_off(self.net, client)

    def test_errors(self) -> None:
        """
        A wrong password is refused (C{530}: the client closes the control
        connection and fails what was queued), and the next client is
        served; a missing file (C{RETR}) and a directory outside the root
        (C{CWD ..}) each fail with C{550}, and the next command on the same
        connection is served.
        """
        intruder = connect(self.net, self.port, "alice", "tinder")
        failure = self.failure(intruder.pwd())
        self.assertTrue(failure.check(ftp.ConnectionLost))
        self.assertEqual(replies(failure), ["530 Sorry, Authentication failed."])
        self.net.run_until(intruder.lost)

        client = connect(self.net, self.port, "alice", PASSWORDS["alice"])
        failure = self.failure(client.retrieveFile("missing.txt", Download()))
        self.assertTrue(failure.check(ftp.CommandFailed))
        self.assertEqual(
            replies(failure), ["550 missing.txt: No such file or directory."]
        )
        self.assertEqual(self.net.run_until(client.pwd()), ['257 "/"'])
        failure = self.failure(client.cwd(".."))
        self.assertEqual(replies(failure), ["550 ..: No such file or directory."])
        self.assertEqual(self.net.run_until(client.pwd()), ['257 "/"'])
        sign_off(self.net, client)

    def test_twoTransfers(self) -> None:
        """
        Two downloads queued at once on one control connection run one
        after the other, each on a data connection of its own to a passive
        port of its own: the second C{PASV} stops the first listener (which,
        as on the real reactor, still listens until the next iteration) and
        listens on port 0 again, and the network hands out the next port of
        its counter, so the second port is higher; by the end nothing
        listens on the first.  (A real kernel never hands out a port still
        bound either, but Linux picks a port for a bind to port 0 at a
        random offset in the ephemeral range, not in order.)
        """
        client = connect(self.net, self.port)
        first, second = Download(), Download()
        self.net.run_until(
            gatherResults(
                [
                    client.retrieveFile("harbour.txt", first),
                    client.retrieveFile("tide notes.txt", second),
                ]
            )
        )
        self.assertEqual((first.received, second.received), (HARBOUR, NOTES))
        [one, two] = self.factory.passivePorts
        self.assertEqual((first.peerPort, second.peerPort), (one, two))
        self.assertNotEqual(one, two)
        self.assertTrue(32768 <= one < two <= 60999)
        # The first passive port is closed: nothing answers there now.
        refused = self.failure(
            connectProtocol(TCP4ClientEndpoint(self.net, "127.0.0.1", one), Protocol())
        )
        self.assertTrue(refused.check(ConnectionRefusedError))
        sign_off(self.net, client)

    def test_resetMidDownload(self) -> None:
        """
        The data connection of a download is reset after L{RESET_AT} bytes
        from the server: the server's file sender is stopped, and the
        server answers the C{RETR} with C{426}, which fails the download
        (the client had read a prefix of the file, at most L{RESET_AT}
        bytes); the control connection still serves the next download.
        """

        def resetSoon(download: Download) -> None:
            transport: object = download.transport
            assert isinstance(transport, MemoryTransport)
            self.net.faults.reset(
                transport,
                after_bytes=RESET_AT,
                direction=SERVER_TO_CLIENT,
            )

        client = connect(self.net, self.port)
        download = Download(onMade=resetSoon)
        failure = self.failure(client.retrieveFile("chart.bin", download))
        self.assertTrue(failure.check(ftp.CommandFailed))
        self.assertEqual(
            replies(failure)[-1], "426 Transfer aborted.  Data connection closed."
        )
        self.net.advance(0)
        assert download.reason is not None
        self.assertTrue(download.reason.check(ConnectionLost))
        self.assertLessEqual(len(download.received), RESET_AT)
        self.assertEqual(download.received, CHART[: len(download.received)])
        [logged] = self.flushLoggedErrors()
        self.assertEqual(
            logged.getErrorMessage(), "Consumer asked us to stop producing"
        )

        again = Download()
        self.net.run_until(client.retrieveFile("harbour.txt", again))
        self.assertEqual(again.received, HARBOUR)
        sign_off(self.net, client)

    def test_passivePortTimeout(self) -> None:
        """
        A client that asks for a passive port and never connects to it:
        C{FTP.dtpTimeout} (10 s) later, in virtual time, the server gives
        up on the data connection -- it logs the L{PortConnectionError
        <ftp.PortConnectionError>} and sends C{550}, a reply the client did
        not ask for, so the client closes the control connection.
        """
        client = connect(self.net, self.port)
        self.net.run_until(client.pwd())
        start = self.net.seconds()
        [reply] = self.net.run_until(client.queueStringCommand("PASV"))
        self.assertTrue(reply.startswith("227 Entering Passive Mode (127,0,0,1,"))
        self.net.advance(9.5)
        self.assertIsNone(client.lostAt)
        self.net.run_until(client.lost)
        self.assertEqual(client.lostAt, start + ftp.FTP.dtpTimeout)
        self.assertEqual(
            client.lines[-1], b"550 Requested action not taken: internal server error"
        )
        [logged] = self.flushLoggedErrors(ftp.PortConnectionError)
        self.assertIn("DTPFactory timeout", str(logged.value))

    def test_idleTimeout(self) -> None:
        """
        The server closes a control connection idle for C{FTPFactory.timeOut}
        seconds of virtual time since its last command, not a second
        earlier; the next client is served.
        """
        self.factory.timeOut = 30
        client = connect(self.net, self.port)
        self.net.run_until(client.pwd())
        start = self.net.seconds()
        self.net.advance(29)
        self.assertIsNone(client.lostAt)
        self.net.advance(1)
        self.assertEqual(client.lostAt, start + 30)
        self.net.run_until(client.lost)

        again = connect(self.net, self.port)
        self.assertEqual(self.net.run_until(again.pwd()), ['257 "/"'])
        sign_off(self.net, again)


class DefaultDeliveryFTPTests(_FTPScenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteFTPTests(_FTPScenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE


class RandomChunkingFTPTests(_FTPScenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 64)


class FTPGuardTests(MemoryNetworkTestCase):
    """
    Without the fixes, an inner test fails, and says why: with none, the
    server stalls after the first command, and the L{Deadlock} names the
    call C{FTP.lineReceived} made on the global reactor; without the
    listen or connect function, the passive transfer opens a real socket,
    which the socket guard of the unit tests fails.
    """

    def test_withoutAnyFix(self) -> None:
        """
        Nothing injected: the server answers C{USER} and, paused until a
        delayed call on the global reactor resumes it, reads nothing more;
        the L{Deadlock} names that call (C{Deferred.addBoth}, through
        C{FTP.lineReceived}) and the idle timer of C{TimeoutMixin} with its
        fix, C{protocol.callLater = net.callLater}.
        """
        stand_in_global_reactor(self)
        root = make_tree(self)
        lines: list[list[bytes]] = []

        def inner(case: MemoryNetworkTestCase) -> None:
            _, port = serve(case.net, root, listen=False, clock=False)
            case.addCleanup(port.stopListening)
            client = connect(case.net, port, network=False)
            lines.append(client.lines)
            case.net.run_until(client.pwd())

        [(_, failure)] = run_inner(inner).errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(Deadlock))
        self.assertEqual(
            lines[0][-1], b"331 Guest login ok, type your email address as password."
        )
        text = failure.getErrorMessage()
        self.assertIn("Work waiting on the global reactor", text)
        self.assertIn("delayed call: Deferred.addBoth, due in 0.0 s", text)
        self.assertIn("through twisted/protocols/ftp.py:", text)
        self.assertIn("in lineReceived", text)
        self.assertIn("fix: FTP takes no reactor: set protocol.listenFactory", text)
        self.assertIn("self.patch(twisted.internet, 'reactor', net)", text)
        self.assertIn("delayed call: FTP.__timedOut, due in 600.0 s", text)
        self.assertIn("protocol.callLater = net.callLater", text)

    def test_withoutTheListenFactory(self) -> None:
        """
        Everything injected but the server's C{listenFactory}: C{PASV}
        listens with the C{listenTCP} of the reactor installed when
        C{twisted.protocols.ftp} was imported, a real socket, which the
        socket guard forbids (the inner test errs with L{SocketForbidden},
        logged); the server answers C{550}, and the download fails.
        """
        stand_in_global_reactor(self)
        root = make_tree(self)
        outcome: list[Failure] = []

        def inner(case: MemoryNetworkTestCase) -> None:
            case.patch(twisted.internet, "reactor", case.net)
            _, port = serve(case.net, root, listen=False)
            case.addCleanup(port.stopListening)
            client = connect(case.net, port)
            d = client.retrieveFile("harbour.txt", Download())
            d.addErrback(outcome.append)
            case.net.run_until(d)

        result = run_inner(inner)
        # Logged twice: by the socket guard, and by FTP.lineReceived's
        # "Unexpected FTP error".
        self.assertEqual(len(result.errors), 2)
        for _, error in result.errors:
            assert isinstance(error, Failure)
            self.assertTrue(error.check(SocketForbidden))
            self.assertIn(
                "unit tests must not open sockets (socket.socket() was called)",
                error.getErrorMessage(),
            )
        # The logged errors fail the test: the network's teardown check adds
        # no "not clean" report (the data connection's timeout is left).
        self.assertEqual(result.failures, [])
        [failure] = outcome
        self.assertEqual(
            replies(failure),
            ["550 Requested action not taken: internal server error"],
        )

    def test_withoutTheConnectFactory(self) -> None:
        """
        Everything injected but the client's C{connectFactory}: the client
        connects to the passive port with the C{connectTCP} of the reactor
        installed when C{twisted.protocols.ftp} was imported, a real socket,
        which the socket guard forbids; the client gives up, closing the
        control connection, and the download fails with
        L{ConnectionLost<ftp.ConnectionLost>} carrying the
        L{SocketForbidden}.
        """
        stand_in_global_reactor(self)
        root = make_tree(self)
        outcome: list[Failure] = []

        def inner(case: MemoryNetworkTestCase) -> None:
            case.patch(twisted.internet, "reactor", case.net)
            _, port = serve(case.net, root)
            case.addCleanup(port.stopListening)
            client = connect(case.net, port, network=False)
            d = client.retrieveFile("harbour.txt", Download())
            d.addErrback(outcome.append)
            case.net.run_until(d)
            case.net.run_until(client.lost)

        result = run_inner(inner)
        [(_, logged)] = result.errors
        assert isinstance(logged, Failure)
        self.assertTrue(logged.check(SocketForbidden))
        self.assertEqual(result.failures, [])
        [failure] = outcome
        lost = failure.value
        assert isinstance(lost, ftp.ConnectionLost)
        cause = lost.args[1]
        assert isinstance(cause, Failure)
        self.assertTrue(cause.check(SocketForbidden))
