"""
Unmodified Twisted Conch SSH over L{MemoryNetwork}: a real SSH server
(L{SSHFactory} with a L{Portal}, an in-memory password checker and a public
key checker, an Ed25519 host key) and a real client
(L{SSHCommandClientEndpoint.newConnection}, given the network as its reactor
and a C{known_hosts} file in the test's temporary directory) run commands --
under the default delivery (each write whole), one-byte chunking and random
chunking (from the network's seed).  The key exchange, encryption, host key
verification and user authentication are Conch's own; only the "processes"
are in memory: the avatar's L{ISession} answers C{exec} of C{recite} (a poem,
exit status 0), C{echo} (the client's bytes back, until the client's EOF) and
C{false} (nothing, exit status 1).  A wrong password, an unknown host key the
user refuses and a changed host key fail the connection attempt with Conch's
own errors, as on the real reactor.  The endpoint reports exit status 0 as
L{ConnectionDone} ("ssh channel closed"), any other as L{ProcessTerminated};
a client half-closes (EOF) through its channel's connection
(C{channel.conn.sendEOF(channel)}), as Conch's own C{conch} script does: the
endpoint's transport has no C{loseWriteConnection}.

What a user must do: give the server's L{SSHUserAuthServer} the network as
its clock.  Its C{clock} is a class attribute bound, when
C{twisted.conch.ssh.userauth} is imported, to the global reactor; the login
timeout (scheduled when authentication starts, cancelled when it ends) and
the one-second delay before answering a wrong password are delayed calls on
it.  Without the fix the global reactor never runs the delay, so a wrong
password deadlocks, and even a successful login leaves the guard a login
timeout scheduled there (L{SSHGuardTests}).  The scenarios use a subclass
whose C{serviceStarted} sets C{self.clock} from the factory
(L{ClockedUserAuthServer}), put in the factory's C{services}.  Nothing else
that these scenarios run -- the transports and key exchange, the connection,
channels and sessions, the endpoint, C{known_hosts} -- schedules on the
global reactor: they run under the guard without firing it (and, in
C{twisted/conch/ssh} and C{twisted/conch/endpoints.py}, the only other use
of the global reactor is port forwarding's, unused here).

A "process" must not write before its C{execCommand} returns: the server
replies to the C{exec} request only then, and the endpoint's channel connects
its protocol on that reply -- output that overtook it would reach no
protocol.  A real process's output comes in later reactor iterations; the
in-memory commands here produce theirs in a C{callLater(0)} on the network.

Key exchange randomness comes from C{os.urandom} (via C{cryptography}): the
bytes on the wire differ from run to run, the assertions do not depend on
them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric import ed25519
from twisted.conch.avatar import ConchUser
from twisted.conch.checkers import InMemorySSHKeyDB, SSHPublicKeyChecker
from twisted.conch.client.knownhosts import ConsoleUI, KnownHostsFile
from twisted.conch.endpoints import AuthenticationFailed, SSHCommandClientEndpoint
from twisted.conch.error import HostKeyChanged, UserRejectedKey
from twisted.conch.interfaces import IConchUser, ISession
from twisted.conch.ssh import userauth
from twisted.conch.ssh.channel import SSHChannel
from twisted.conch.ssh.factory import SSHFactory
from twisted.conch.ssh.keys import FingerprintFormats, Key
from twisted.conch.ssh.session import SSHSession
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import IRealm, Portal
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, ProcessDone, ProcessTerminated
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory, ProcessProtocol, Protocol
from twisted.python import components
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.reporter import TestResult
from zope.interface import implementer

from poetry import poems
from poetry.testing import (
    ONE_BYTE,
    Deadlock,
    MemoryNetworkTestCase,
    RandomSizes,
)
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import ChunkedScenarios, port_number

#: The server's host key, and another (a host key the client does not
#: expect), generated once for the module: Ed25519 keys are cheap to make
#: and to use.
HOST_KEY = Key(ed25519.Ed25519PrivateKey.generate())
OTHER_HOST_KEY = Key(ed25519.Ed25519PrivateKey.generate())
#: The key a user logs in with (public key authentication).
USER_KEY = Key(ed25519.Ed25519PrivateKey.generate())

USER = b"poet"
PASSWORD = b"iambic pentameter"

#: What C{recite} writes.
POEM = poems.load("lighthouse")

#: What the C{echo} client writes, a line at a time.
LINES = [b"The tide goes out\n", b"and comes back in,\n", b"\n", b"-- the echo\n"]


class MemoryCommand:
    """
    A command run in memory instead of a process, on the network's clock:
    the transport of the session's process protocol (C{write} is the
    command's standard input, the client's bytes) and the writer of its
    output and exit status.

    @cvar name: the command line that runs it.
    """

    name: ClassVar[bytes]

    def __init__(self, protocol: ProcessProtocol, clock: IReactorTime) -> None:
        self.protocol = protocol
        self.clock = clock
        #: The exit status, once the command has exited.
        self.status: int | None = None
        #: Whether the session has closed the channel.
        self.closed = False

    def start(self) -> None:
        """
        Connect the process protocol, and run L{started} once C{execCommand}
        has returned.
        """
        self.protocol.makeConnection(self)
        self.clock.callLater(0, self.started)

    def started(self) -> None:
        """
        The command runs: by default it waits for its input.
        """

    def write(self, data: bytes) -> None:
        """
        Bytes from the client (its standard input): ignored by default.
        """

    def inputEnded(self) -> None:
        """
        The client sent EOF: by default, nothing.
        """

    def output(self, data: bytes) -> None:
        """
        Write C{data} to standard output (the channel).
        """
        self.protocol.childDataReceived(1, data)

    def exit(self, status: int) -> None:
        """
        End with exit status C{status}: the session sends it and closes the
        channel.
        """
        if self.status is not None or self.closed:
            return
        self.status = status
        reason = ProcessDone(status) if status == 0 else ProcessTerminated(status)
        self.protocol.processEnded(Failure(reason))

    def loseConnection(self) -> None:
        """
        The session closed the channel: the command is over.
        """
        self.closed = True


class Recite(MemoryCommand):
    """
    Write L{POEM}, a line at a time, and exit with status 0.
    """

    name = b"recite"

    def started(self) -> None:
        for line in POEM.splitlines(keepends=True):
            self.output(line)
        self.exit(0)


class Echo(MemoryCommand):
    """
    Write back what the client writes; exit with status 0 at its EOF.
    """

    name = b"echo"

    def write(self, data: bytes) -> None:
        self.output(data)

    def inputEnded(self) -> None:
        self.exit(0)


class ExitFalse(MemoryCommand):
    """
    Write nothing, and exit with status 1 (as C{false}).
    """

    name = b"false"

    def started(self) -> None:
        self.exit(1)


COMMANDS: dict[bytes, type[MemoryCommand]] = {
    command.name: command for command in (Recite, Echo, ExitFalse)
}


class MemoryUser(ConchUser):
    """
    A logged-in user: its session channels run L{COMMANDS} on C{clock}.
    """

    def __init__(self, name: bytes, clock: IReactorTime) -> None:
        super().__init__()
        self.name = name
        self.clock = clock
        self.channelLookup[b"session"] = SSHSession
        #: The commands run, in order.
        self.commands: list[MemoryCommand] = []


@implementer(ISession)
class MemorySession:
    """
    The L{ISession} of a L{MemoryUser}'s session channel: C{exec} runs one
    of L{COMMANDS}; no shell, no pty.
    """

    def __init__(self, user: MemoryUser) -> None:
        self.user = user
        self.command: MemoryCommand | None = None

    def getPty(self, term: bytes, windowSize: object, modes: object) -> None:
        raise NotImplementedError("no pty in memory")

    def openShell(self, proto: ProcessProtocol) -> None:
        raise NotImplementedError("no shell in memory")

    def execCommand(self, proto: ProcessProtocol, command: bytes) -> None:
        self.command = COMMANDS[command](proto, self.user.clock)
        self.user.commands.append(self.command)
        self.command.start()

    def windowChanged(self, newWindowSize: object) -> None:
        pass

    def eofReceived(self) -> None:
        if self.command is not None:
            self.command.inputEnded()

    def closed(self) -> None:
        pass


components.registerAdapter(MemorySession, MemoryUser, ISession)


@implementer(IRealm)
class MemoryRealm:
    """
    A L{MemoryUser} for each login; the users logged in, in order.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.users: list[MemoryUser] = []

    def requestAvatar(
        self, avatarId: bytes | tuple[()], mind: object, *interfaces: Any
    ) -> tuple[Any, object, Callable[[], None]]:
        assert IConchUser in interfaces and isinstance(avatarId, bytes)
        user = MemoryUser(avatarId, self.clock)
        self.users.append(user)
        return IConchUser, user, lambda: None


class ClockedUserAuthServer(userauth.SSHUserAuthServer):
    """
    Twisted's L{SSHUserAuthServer<userauth.SSHUserAuthServer>} with its
    factory's clock instead of the global reactor (its class attribute):
    the login timeout and the delay after a wrong password run on the
    network.
    """

    def serviceStarted(self) -> None:
        assert self.transport is not None
        self.clock = self.transport.factory.clock
        super().serviceStarted()


class MemorySSHFactory(SSHFactory):
    """
    An SSH server with L{HOST_KEY} that logs users in through C{portal};
    the user authentication service on C{clock} (L{ClockedUserAuthServer}),
    or, if C{clock} is L{None}, Twisted's own on the global reactor.
    """

    def __init__(self, portal: Portal, clock: IReactorTime | None) -> None:
        self.portal = portal
        self.clock = clock
        self.publicKeys = {b"ssh-ed25519": HOST_KEY.public()}
        self.privateKeys = {b"ssh-ed25519": HOST_KEY}
        if clock is not None:
            self.services = {
                **SSHFactory.services,
                b"ssh-userauth": ClockedUserAuthServer,
            }


def serve(
    case: MemoryNetworkTestCase, clock: IReactorTime | None
) -> tuple[MemoryRealm, int]:
    """
    Listen on C{case}'s network, until its cleanup, with a
    L{MemorySSHFactory} that accepts L{USER} with L{PASSWORD} or
    L{USER_KEY}.

    @return: the realm, and the port number.
    """
    net = case.net
    realm = MemoryRealm(net)
    passwords = InMemoryUsernamePasswordDatabaseDontUse()
    passwords.addUser(USER, PASSWORD)
    keys = SSHPublicKeyChecker(InMemorySSHKeyDB({USER: [USER_KEY.public()]}))
    portal = Portal(realm, [passwords, keys])
    port = net.listenTCP(0, MemorySSHFactory(portal, clock), interface="127.0.0.1")
    case.addCleanup(port.stopListening)
    return realm, port_number(port)


class Terminal:
    """
    The user's terminal, as L{ConsoleUI} opens it: it answers C{answer} to
    every question and keeps what was written to it.
    """

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.written: list[bytes] = []

    def open(self) -> io.BytesIO:
        terminal = self

        class Opened(io.BytesIO):
            def write(self, data: Any) -> int:
                terminal.written.append(bytes(data))
                return len(data)

        return Opened(self.answer + b"\n")


class CommandOutput(Protocol):
    """
    The client's end of a command: what it wrote, and how it ended.

    @ivar ended: fires (with L{None}) when the channel has closed; C{reason}
        is then why.
    """

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.ended: Deferred[None] = Deferred()
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.reason = reason
        self.ended.callback(None)


class _SSHScenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.
    """

    def setUp(self) -> None:
        super().setUp()
        self.realm, self.port = serve(self, self.net)
        self.knownHosts = self.mktemp()
        hosts = KnownHostsFile.fromPath(FilePath(self.knownHosts))
        hosts.addHostKey(b"127.0.0.1", HOST_KEY.public())
        hosts.save()
        self.terminal = Terminal(b"no")

    def endpoint(
        self,
        command: bytes,
        password: bytes | None = PASSWORD,
        keys: list[Key] | None = None,
    ) -> SSHCommandClientEndpoint:
        """
        An endpoint that runs C{command} as L{USER} on the server, trusting
        the host keys in C{self.knownHosts} and asking C{self.terminal}
        about any other.
        """
        return SSHCommandClientEndpoint.newConnection(
            self.net,
            command,
            USER,
            b"127.0.0.1",
            self.port,
            keys=keys,
            password=password,
            knownHosts=self.knownHosts,
            ui=ConsoleUI(self.terminal.open),
        )

    def runCommand(self, endpoint: SSHCommandClientEndpoint) -> tuple[bytes, Failure]:
        """
        Connect a L{CommandOutput} through C{endpoint}, and run until the
        command's channel has closed.

        @return: everything the command wrote, and the reason the channel
            closed.
        """
        output = self.net.run_until(
            endpoint.connect(Factory.forProtocol(CommandOutput))
        )
        assert isinstance(output, CommandOutput)
        self.net.run_until(output.ended)
        assert output.reason is not None
        return b"".join(output.received), output.reason

    def assertClosed(self) -> None:
        """
        Once the command is over, the endpoint has closed the SSH connection.
        """
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_recite(self) -> None:
        """
        The client runs C{recite} and receives the whole poem; the channel
        then closes with exit status 0, which the endpoint reports as
        L{ConnectionDone}, and the endpoint closes the connection.
        """
        poem, reason = self.runCommand(self.endpoint(b"recite"))
        self.assertEqual(poem, POEM)
        self.assertIsInstance(reason.value, ConnectionDone)
        self.assertEqual(
            str(reason.value), "Connection was closed cleanly: ssh channel closed."
        )
        [user] = self.realm.users
        self.assertEqual(user.name, USER)
        self.assertEqual([(type(c), c.status) for c in user.commands], [(Recite, 0)])
        self.assertClosed()

    def test_exitStatus(self) -> None:
        """
        A command that exits with status 1 (C{false}): the endpoint reports
        L{ProcessTerminated} with C{exitCode} 1.
        """
        output, reason = self.runCommand(self.endpoint(b"false"))
        self.assertEqual(output, b"")
        status = reason.value
        assert isinstance(status, ProcessTerminated)
        self.assertEqual(status.exitCode, 1)
        self.assertClosed()

    def test_echo(self) -> None:
        """
        The client runs C{echo}, writes some lines, sends EOF (through its
        channel's connection: the endpoint's transport has no half-close)
        and gets the lines back; the command then exits with status 0.
        """
        output = self.net.run_until(
            self.endpoint(b"echo").connect(Factory.forProtocol(CommandOutput))
        )
        assert isinstance(output, CommandOutput)
        channel: object = output.transport
        assert isinstance(channel, SSHChannel)
        for line in LINES:
            channel.write(line)
        self.net.advance(0)
        self.assertEqual(b"".join(output.received), b"".join(LINES))
        [user] = self.realm.users
        [echo] = user.commands
        self.assertIsNone(echo.status)
        assert channel.conn is not None
        channel.conn.sendEOF(channel)
        self.net.run_until(output.ended)
        self.assertEqual(b"".join(output.received), b"".join(LINES))
        assert output.reason is not None
        self.assertIsInstance(output.reason.value, ConnectionDone)
        self.assertEqual((echo.status, echo.closed), (0, True))
        self.assertClosed()

    def test_publicKey(self) -> None:
        """
        A client with L{USER_KEY} and no password logs in with the key.
        """
        poem, reason = self.runCommand(
            self.endpoint(b"recite", password=None, keys=[USER_KEY])
        )
        self.assertEqual(poem, POEM)
        self.assertIsInstance(reason.value, ConnectionDone)
        self.assertClosed()

    def test_wrongPassword(self) -> None:
        """
        A wrong password: the server answers each try after its one-second
        delay (on the network's clock), the client tries it again until the
        server disconnects, and the connection attempt fails with
        L{AuthenticationFailed}; no one logged in.  The next client, with
        the right password, is served.
        """
        error = self.assertRaises(
            AuthenticationFailed,
            self.net.run_until,
            self.endpoint(b"recite", b"not the password").connect(
                Factory.forProtocol(CommandOutput)
            ),
        )
        self.assertEqual(str(error), "Connection lost while authenticating")
        attempts = userauth.SSHUserAuthServer.attemptsBeforeDisconnect + 1
        self.assertEqual(
            self.net.seconds(), attempts * userauth.SSHUserAuthServer.passwordDelay
        )
        self.assertEqual(self.realm.users, [])
        self.assertClosed()
        poem, _ = self.runCommand(self.endpoint(b"recite"))
        self.assertEqual(poem, POEM)
        self.assertEqual(len(self.realm.users), 1)

    def test_unknownHostKeyRefused(self) -> None:
        """
        Known hosts without the server's key, and a user who answers "no":
        the terminal is asked about the key (by its SHA256 fingerprint), and
        the connection attempt fails with L{UserRejectedKey} before any
        login; the known hosts file is unchanged.
        """
        self.knownHosts = self.mktemp()
        error = self.assertRaises(
            UserRejectedKey,
            self.net.run_until,
            self.endpoint(b"recite").connect(Factory.forProtocol(CommandOutput)),
        )
        self.assertEqual(error.args, ())
        fingerprint = HOST_KEY.fingerprint(format=FingerprintFormats.SHA256_BASE64)
        [question] = self.terminal.written
        self.assertIn(
            b"The authenticity of host '127.0.0.1 (127.0.0.1)' can't be established.\n"
            + b"Ed25519 key fingerprint is SHA256:"
            + fingerprint.encode("ascii"),
            question,
        )
        self.assertEqual(self.realm.users, [])
        self.assertFalse(FilePath(self.knownHosts).exists())
        self.assertClosed()

    def test_unknownHostKeyAccepted(self) -> None:
        """
        Known hosts without the server's key, and a user who answers "yes":
        the command runs, and the key is saved in the known hosts file.
        """
        self.knownHosts = self.mktemp()
        self.terminal = Terminal(b"yes")
        poem, _ = self.runCommand(self.endpoint(b"recite"))
        self.assertEqual(poem, POEM)
        [question] = self.terminal.written
        self.assertIn(
            b"Are you sure you want to continue connecting (yes/no)?", question
        )
        saved = KnownHostsFile.fromPath(FilePath(self.knownHosts))
        self.assertTrue(saved.hasHostKey(b"127.0.0.1", HOST_KEY.public()))
        self.assertClosed()

    def test_changedHostKey(self) -> None:
        """
        Known hosts with another key for the server: the connection attempt
        fails with L{HostKeyChanged} naming the entry, and the terminal is
        asked nothing.
        """
        self.knownHosts = self.mktemp()
        hosts = KnownHostsFile.fromPath(FilePath(self.knownHosts))
        hosts.addHostKey(b"127.0.0.1", OTHER_HOST_KEY.public())
        hosts.save()
        error = self.assertRaises(
            HostKeyChanged,
            self.net.run_until,
            self.endpoint(b"recite").connect(Factory.forProtocol(CommandOutput)),
        )
        self.assertTrue(error.offendingEntry.matchesKey(OTHER_HOST_KEY.public()))
        self.assertEqual(error.lineno, 1)
        self.assertEqual(self.terminal.written, [])
        self.assertEqual(self.realm.users, [])
        self.assertClosed()


class DefaultDeliverySSHTests(_SSHScenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteSSHTests(_SSHScenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE


class RandomChunkingSSHTests(_SSHScenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 300)


class SSHGuardTests(MemoryNetworkTestCase):
    """
    Without the fix, Twisted's L{SSHUserAuthServer<userauth.SSHUserAuthServer>}
    schedules its login timeout and its delay after a wrong password on the
    global reactor, and the guard names them.  Its C{clock} is the global
    reactor that was installed when C{twisted.conch.ssh.userauth} was
    imported (trial's); these tests make a stand-in the global reactor and
    point C{clock} at it too, as an import under the stand-in would have.
    """

    def setUp(self) -> None:
        super().setUp()
        standIn = stand_in_global_reactor(self)
        self.patch(userauth.SSHUserAuthServer, "clock", standIn)

    def runInner(self, password: bytes) -> TestResult:
        """
        Run, as an inner test, a client that runs C{recite} with
        C{password} on a server without the fix, and check that the poem
        arrived.
        """

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                _, number = serve(self, None)
                endpoint = SSHCommandClientEndpoint.newConnection(
                    self.net,
                    b"recite",
                    USER,
                    b"127.0.0.1",
                    number,
                    password=password,
                    knownHosts=knownHosts,
                    ui=ConsoleUI(Terminal(b"no").open),
                )
                output = self.net.run_until(
                    endpoint.connect(Factory.forProtocol(CommandOutput))
                )
                assert isinstance(output, CommandOutput)
                self.net.run_until(output.ended)
                self.assertEqual(b"".join(output.received), POEM)

        knownHosts = self.mktemp()
        hosts = KnownHostsFile.fromPath(FilePath(knownHosts))
        hosts.addHostKey(b"127.0.0.1", HOST_KEY.public())
        hosts.save()
        result = TestResult()
        Inner("test_inner").run(result)
        return result

    def test_loginTimeout(self) -> None:
        """
        The right password: the poem arrives (the inner test's own
        assertion passes), but the guard fails the inner test, naming the
        login timeout (C{timeoutAuthentication}) that
        C{SSHUserAuthServer.serviceStarted} scheduled on the global reactor
        and cancelled when the login succeeded.
        """
        result = self.runInner(PASSWORD)
        self.assertEqual((len(result.failures), result.errors), (1, []))
        [(_, failure)] = result.failures + result.errors
        assert isinstance(failure, Failure)
        text = failure.getErrorMessage()
        self.assertIn("scheduled work on the global reactor", text)
        self.assertIn(
            "1. delayed call: SSHUserAuthServer.timeoutAuthentication, "
            "cancelled before it ran",
            text,
        )
        self.assertIn("through twisted/conch/ssh/userauth.py:", text)
        self.assertIn(", in serviceStarted", text)
        self.assertIn(
            "fix: SSHUserAuthServer schedules its login timeout and its delay "
            "after a wrong password on its class attribute clock",
            text,
        )

    def test_wrongPasswordDeadlocks(self) -> None:
        """
        A wrong password: the server's one-second delay before it answers is
        a delayed call on the global reactor, which never runs, so the inner
        test deadlocks; the L{Deadlock} names it (C{Deferred.callback},
        scheduled in C{_ebPassword}) and the pending login timeout.
        """
        result = self.runInner(b"not the password")
        self.assertEqual(result.failures, [])
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(Deadlock))
        text = failure.getErrorMessage()
        self.assertIn("Pending timers: none", text)
        self.assertIn("1. delayed call: Deferred.callback, due in 1.0 s", text)
        self.assertIn(", in _ebPassword", text)
        self.assertIn(
            "2. delayed call: SSHUserAuthServer.timeoutAuthentication, due in", text
        )
