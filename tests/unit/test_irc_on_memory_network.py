"""
Unmodified Twisted IRC over L{MemoryNetwork}: the real server
(C{twisted.words.service}: L{InMemoryWordsRealm<service.InMemoryWordsRealm>}
and L{IRCFactory<service.IRCFactory>} behind a C{twisted.cred} L{Portal} with
an in-memory password checker) and real clients
(L{IRCClient<irc.IRCClient>}) log in, join a channel, talk, keep the
connection alive with C{PING} and quit; a wrong password is refused -- each
under the default delivery (each write whole), one-byte chunking and random
chunking (from the network's seed).

The server needs nothing but the network's C{listenTCP}: C{IRCUser},
C{IRCFactory} and the realm schedule nothing (they read the wall clock with
C{time()}/C{ctime()} for the I{created} message and idle times, which
schedules nothing and is not asserted on).  The client does schedule, and on
the global reactor, with no parameter to give it a clock:

  - its heartbeat (a C{PING} every C{heartbeatInterval}, 120 s by default,
    from sign-on) is a L{LoopingCall<task.LoopingCall>} made by
    C{IRCClient._createHeartbeat} with the default clock, the global
    reactor.  On the real reactor it beats; on the network it never would,
    and L{IRCGuardTests} shows the guard failing such a test and naming the
    C{LoopingCall} and its fix.  The scenarios use that fix as Twisted's own
    tests do: a client whose C{_createHeartbeat} sets C{loop.clock = net}
    (L{PoetClient}), so the heartbeat beats in virtual time -- a C{PING}
    reaches the server, and its C{PONG} comes back, exactly
    C{heartbeatInterval} after sign-on.  (C{heartbeatInterval = None} would
    also satisfy the guard, but switches the keepalive off.)
  - its C{lineRate} throttle (off by default) calls C{callLater} on the
    reactor that C{twisted.words.protocols.irc} imported: no
    parameter, attribute or subclass hook takes a clock.  L{IRCGuardTests}
    shows the guard catching it (the registration stalls behind the first
    line); C{test_lineRateInVirtualTime} patches the module's C{reactor} to
    be the network for the test (C{self.patch(irc, "reactor", self.net)}),
    the only fix, and sees the lines leave C{lineRate} apart in virtual
    time, as they would in real time on the real reactor.

One-byte chunking also finds a bug of the server: L{CutCharacterTests}.
"""

from __future__ import annotations

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import Portal
from twisted.internet import task
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.words import service
from twisted.words.protocols import irc

from poetry.testing import (
    ONE_BYTE,
    Deadlock,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    RandomSizes,
)
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import ChunkedScenarios, port_number

#: The server's name: the prefix of its own messages and users' host part.
SERVER_NAME = "poetry.example"

#: The accounts the server's password checker knows.
PASSWORDS = {"alice": "lantern", "bob": "compass"}

#: A line of verse (ASCII: see L{CutCharacterTests} for why).
VERSE = "The kettle sings of harbours, and the lamp of ships at sea;"


class PoetClient(irc.IRCClient):
    """
    Twisted's L{IRCClient<irc.IRCClient>}, recording what it is told, its
    heartbeat on C{clock} (unless C{clock} is L{None}: then on the global
    reactor, as L{IRCClient<irc.IRCClient>} does by default).

    @ivar signedOnNow: fires on sign-on (C{RPL_WELCOME}).
    @ivar joinedNow: fires with the channel when the server confirms a join.
    @ivar heardNow: fires on the first C{PRIVMSG} received.
    @ivar lost: fires when the connection is lost.
    @ivar privmsgs: C{(user, channel, message)} of each C{PRIVMSG}, as
        L{IRCClient.privmsg<irc.IRCClient.privmsg>} gets them.
    @ivar pongs: the virtual time and parameters of each C{PONG}.
    """

    def __init__(
        self,
        nickname: str,
        password: str,
        clock: IReactorTime | None,
    ) -> None:
        self.nickname = nickname
        self.password = password  # type: ignore[assignment]  # None in the stubs
        self.clock = clock
        self.signedOnNow: Deferred[None] = Deferred()
        self.joinedNow: Deferred[str] = Deferred()
        self.heardNow: Deferred[None] = Deferred()
        self.lost: Deferred[None] = Deferred()
        self.privmsgs: list[tuple[str, str, str]] = []
        self.pongs: list[tuple[float, list[str]]] = []

    def _createHeartbeat(self) -> task.LoopingCall:
        loop: task.LoopingCall = super()._createHeartbeat()
        if self.clock is not None:
            loop.clock = self.clock
        return loop

    def signedOn(self) -> None:
        self.signedOnNow.callback(None)

    def joined(self, channel: str) -> None:
        self.joinedNow.callback(channel)

    def privmsg(self, user: str, channel: str, message: str) -> None:
        self.privmsgs.append((user, channel, message))
        if not self.heardNow.called:
            self.heardNow.callback(None)

    def irc_PONG(self, prefix: str, params: list[str]) -> None:
        assert self.clock is not None
        self.pongs.append((self.clock.seconds(), params))

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        super().connectionLost(reason)
        self.lost.callback(None)


def serve(net: MemoryNetwork) -> IListeningPort:
    """
    Listen with Twisted's IRC server, its accounts L{PASSWORDS}, its one
    channel C{#poems}.
    """
    realm = service.InMemoryWordsRealm(SERVER_NAME)
    realm.addGroup(service.Group("poems"))
    checker = InMemoryUsernamePasswordDatabaseDontUse()
    for nickname, password in PASSWORDS.items():
        # The IRC server passes the name and password on as str (Twisted's
        # own tests add them so); the stubs ask for bytes.
        checker.addUser(nickname, password)  # type: ignore[arg-type]
    factory = service.IRCFactory(realm, Portal(realm, [checker]))
    return net.listenTCP(0, factory, interface="127.0.0.1")


def connect(net: MemoryNetwork, port: IListeningPort, client: PoetClient) -> PoetClient:
    """
    Connect C{client} to the server listening on C{port}; it registers at
    once.
    """
    endpoint = TCP4ClientEndpoint(net, "127.0.0.1", port_number(port))
    net.run_until(connectProtocol(endpoint, client))
    return client


class _IRCScenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.
    """

    def setUp(self) -> None:
        super().setUp()
        self.port = serve(self.net)
        self.addCleanup(self.port.stopListening)

    def poet(self, nickname: str, password: str | None = None) -> PoetClient:
        """
        A connected client with the heartbeat on the network.
        """
        if password is None:
            password = PASSWORDS[nickname]
        return connect(self.net, self.port, PoetClient(nickname, password, self.net))

    def test_verseReachesTheChannel(self) -> None:
        """
        Two users sign on and join C{#poems}; a line one says there reaches
        the other's C{privmsg} exactly, from C{alice!alice@}I{server} to
        C{#poems}, and not its sayer.  Both quit, and the server closes both
        connections.
        """
        alice, bob = self.poet("alice"), self.poet("bob")
        self.net.run_until(gatherResults([alice.signedOnNow, bob.signedOnNow]))
        alice.join("poems")
        bob.join("poems")
        channels = self.net.run_until(gatherResults([alice.joinedNow, bob.joinedNow]))
        self.assertEqual(channels, ["#poems", "#poems"])
        alice.say("poems", VERSE)
        self.net.run_until(bob.heardNow)
        self.assertEqual(
            bob.privmsgs, [(f"alice!alice@{SERVER_NAME}", "#poems", VERSE)]
        )
        self.assertEqual(alice.privmsgs, [])
        alice.quit("farewell")
        bob.quit("farewell")
        self.net.run_until(gatherResults([alice.lost, bob.lost]))
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_wrongPassword(self) -> None:
        """
        A wrong password: the server's C{NickServ} answers "Login failed.
        Goodbye." and closes the connection, without a welcome; the next
        client, with the right password, signs on.
        """
        intruder = self.poet("alice", "burning")
        self.net.run_until(intruder.lost)
        self.assertEqual(
            intruder.privmsgs,
            [(service.NICKSERV, "alice", "Login failed.  Goodbye.")],
        )
        self.assertFalse(intruder.signedOnNow.called)
        alice = self.poet("alice")
        self.net.run_until(alice.signedOnNow)
        self.assertEqual(alice.hostname, SERVER_NAME)
        alice.quit()
        self.net.run_until(alice.lost)
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_heartbeatInVirtualTime(self) -> None:
        """
        The heartbeat on the network's clock: no C{PING} before
        C{heartbeatInterval} of virtual time has passed since sign-on, then
        one every interval, each answered by the server's C{PONG}.
        """
        alice = self.poet("alice")
        self.net.run_until(alice.signedOnNow)
        interval = alice.heartbeatInterval
        self.assertEqual(interval, 120)
        start = self.net.seconds()
        self.net.advance(interval - 1)
        self.assertEqual(alice.pongs, [])
        self.net.advance(1)
        self.net.advance(interval)
        self.assertEqual(
            alice.pongs,
            [
                (start + interval, ["alice", SERVER_NAME]),
                (start + 2 * interval, ["alice", SERVER_NAME]),
            ],
        )
        alice.quit()
        self.net.run_until(alice.lost)
        self.assertEqual(self.net.getDelayedCalls(), [])

    def test_lineRateInVirtualTime(self) -> None:
        """
        With C{lineRate} on, and the reactor of C{twisted.words.protocols.irc}
        patched to be the network for the test, the client's lines leave
        C{lineRate} apart in virtual time: C{PASS} at once, C{NICK} (which
        signs on) after one interval, C{USER} after two, and a C{QUIT} asked
        for meanwhile after three, when the server closes the connection.
        """
        self.patch(irc, "reactor", self.net)
        alice = PoetClient("alice", PASSWORDS["alice"], self.net)
        alice.lineRate = 2.0  # type: ignore[assignment]  # None in the stubs
        start = self.net.seconds()
        connect(self.net, self.port, alice)
        self.net.run_until(alice.signedOnNow)
        self.assertEqual(self.net.seconds(), start + 2.0)
        alice.quit()
        self.net.run_until(alice.lost)
        self.assertEqual(self.net.seconds(), start + 6.0)
        # The throttle's last call (it finds the queue empty) outlives the
        # connection, as on the real reactor.
        self.net.advance(2.0)
        self.assertEqual(self.net.getDelayedCalls(), [])


class DefaultDeliveryIRCTests(_IRCScenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteIRCTests(_IRCScenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE


class RandomChunkingIRCTests(_IRCScenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 40)


class CutCharacterTests(MemoryNetworkTestCase):
    """
    A line with a character of more than one byte in UTF-8: delivered
    whole, it reaches the channel; cut inside that character between two
    reads, as TCP may cut it, it does not -- the server's
    C{irc.IRC.dataReceived} decodes each read on its own, fails with
    L{UnicodeDecodeError}, and (as on the real reactor) the connection is
    dropped.  A bug of C{twisted.words}, not of the network; if Twisted
    fixes it, L{test_cutInsideTheCharacter} fails and the scenarios' verse
    can leave ASCII.
    """

    verse = "The kettle sings of harbours \N{EM DASH} and the lamp of ships at sea"

    def converse(self) -> tuple[PoetClient, PoetClient]:
        """
        Sign on C{alice} and C{bob}, join both to C{#poems}, and have
        C{alice} say L{verse} there.
        """
        port = serve(self.net)
        self.addCleanup(port.stopListening)
        alice = connect(self.net, port, PoetClient("alice", "lantern", self.net))
        bob = connect(self.net, port, PoetClient("bob", "compass", self.net))
        self.net.run_until(gatherResults([alice.signedOnNow, bob.signedOnNow]))
        alice.join("poems")
        bob.join("poems")
        self.net.run_until(gatherResults([alice.joinedNow, bob.joinedNow]))
        alice.say("poems", self.verse)
        return alice, bob

    def test_whole(self) -> None:
        """
        Each write delivered whole: the verse, em dash and all, reaches
        C{bob}.
        """
        alice, bob = self.converse()
        self.net.run_until(bob.heardNow)
        self.assertEqual(
            bob.privmsgs, [(f"alice!alice@{SERVER_NAME}", "#poems", self.verse)]
        )
        alice.quit()
        bob.quit()
        self.net.run_until(gatherResults([alice.lost, bob.lost]))

    def test_cutInsideTheCharacter(self) -> None:
        """
        One byte per read once both have joined: the server reads the em
        dash's first byte alone, logs the L{UnicodeDecodeError} and drops
        C{alice}'s connection; C{bob} hears nothing.
        """
        self.net.set_default_link(LinkConditions(chunking=ONE_BYTE))
        alice, bob = self.converse()
        self.net.run_until(alice.lost)
        self.assertEqual(len(self.flushLoggedErrors(UnicodeDecodeError)), 1)
        self.assertEqual(bob.privmsgs, [])
        bob.quit()
        self.net.run_until(bob.lost)


class IRCGuardTests(MemoryNetworkTestCase):
    """
    Without a clock, L{IRCClient<irc.IRCClient>} schedules on the global
    reactor: the heartbeat silently never beats, and a C{lineRate} throttle
    stalls the registration; the guard reports both.
    """

    def test_heartbeatWithoutAClock(self) -> None:
        """
        A client that signs on and waits two heartbeat intervals gets no
        C{PONG} (its C{PING}s are due on the global reactor, which does not
        run), and the guard fails the test with L{GlobalReactorUsed}, naming
        the heartbeat's C{LoopingCall} and the fix C{loop.clock = net}.
        """
        stand_in_global_reactor(self)
        pongs: list[list[tuple[float, list[str]]]] = []

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                port = serve(self.net)
                client = connect(self.net, port, PoetClient("alice", "lantern", None))
                self.net.run_until(client.signedOnNow)
                self.net.advance(2 * client.heartbeatInterval)
                pongs.append(client.pongs)
                client.quit()
                self.net.run_until(client.lost)
                port.stopListening()

        result = TestResult()
        Inner("test_inner").run(result)
        self.assertEqual(pongs, [[]])
        self.assertEqual(len(result.failures), 1)
        [(_, failure)] = result.failures + result.errors
        assert isinstance(failure, Failure)
        text = failure.getErrorMessage()
        self.assertIn("scheduled work on the global reactor", text)
        self.assertIn(
            "1. delayed call: LoopingCall(PoetClient._sendHeartbeat), "
            "cancelled before it ran",
            text,
        )
        self.assertIn("through twisted/internet/task.py:", text)
        self.assertIn(
            "fix: set the LoopingCall's clock before starting it: loop.clock = net",
            text,
        )

    def test_lineRateWithoutAClock(self) -> None:
        """
        A client with a C{lineRate} sends its first line and queues the
        rest behind a delayed call on the global reactor: the registration
        never completes, and the L{Deadlock} names C{IRCClient._sendLine}.
        """
        stand_in = stand_in_global_reactor(self)
        # The module imported the global reactor; make it the stand-in too.
        self.patch(irc, "reactor", stand_in)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                port = serve(self.net)
                self.addCleanup(port.stopListening)
                client = PoetClient("alice", "lantern", self.net)
                client.lineRate = 1.0  # type: ignore[assignment]  # None in the stubs
                connect(self.net, port, client)
                self.net.run_until(client.signedOnNow)

        result = TestResult()
        Inner("test_inner").run(result)
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(Deadlock))
        text = failure.getErrorMessage()
        self.assertIn("Work waiting on the global reactor", text)
        self.assertIn("1. delayed call: PoetClient._sendLine, due in 1.0 s", text)
        self.assertIn("through twisted/words/protocols/irc.py:", text)
        self.assertIn("fix: IRCClient's lineRate throttle calls the reactor", text)
        self.assertIn("self.patch(irc, 'reactor', net)", text)
