"""
Unmodified C{twisted.mail.pop3} over L{MemoryNetwork}: Twisted's POP3
server (L{POP3<pop3.POP3>} behind a C{twisted.cred} L{Portal} whose realm
hands out maildrops of this module's own, L{Maildrop}) and its client
(L{AdvancedPOP3Client<pop3.AdvancedPOP3Client>}) log in with C{USER} and
C{PASS}, count and list the messages (C{STAT}, C{LIST}, C{UIDL}), retrieve a
message larger than one read whose lines beginning with C{.} must survive
the dot-stuffing, delete messages -- committed by C{QUIT} only --, refuse a
wrong password and hostile input and serve the next client, fail a
C{RETR} reset in the middle, and close idle connections -- each under the
default delivery (each write whole), one-byte chunking and random chunking
(from the network's seed).

The server takes no reactor, and schedules on the global one in two ways
on these paths; the factory's C{buildProtocol} injects the network twice
(L{POP3Factory}):

  - C{STAT}, C{LIST} and C{UIDL} are written by a generator that the
    protocol's C{schedule} runs: C{task.coiterate}, the global cooperator's,
    by default, which never runs while the network is driven, so the
    answer never comes.  Set C{protocol.schedule = net.cooperator()
    .coiterate} (C{self.addCleanup(route_global_cooperator(self.net))}
    would do too: C{task.coiterate} looks the global cooperator up when it
    is called).  C{RETR} needs nothing: its C{FileSender} is a pull
    producer that the transport drives.
  - its idle timeout (C{timeOut}, 300 s) is a L{TimeoutMixin
    <twisted.protocols.policies.TimeoutMixin>} on the protocol's
    C{callLater}, the global reactor's by default: C{protocol.callLater =
    net.callLater}.

L{POP3GuardTests} shows the guard naming both and their fixes.  The client
schedules nothing (its C{timeout} is off by default).  The server's APOP
challenge, which Twisted makes from the wall clock, the process id and the
C{random} module, is set per connection (C{protocol.magic}), so that the
bytes on the wire, and so a seed's random chunking, replay exactly.

The module pins three bugs of C{twisted.mail.pop3}, each in its own class:
a line C{.} that begins a 16 KiB read of the message file is sent
unstuffed (L{DotAtChunkBoundaryTests}); APOP refuses the right digest
(L{APOPTests}); and a command with a missing or bad argument drops the
connection (L{BadArgumentTests}).  It also pins two departures from RFC
1939 in the scenarios: C{STAT} and C{LIST} still count a message marked for
deletion (as 0 octets), where the RFC leaves it out.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from hashlib import md5
from typing import IO, Any, overload

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import IRealm, Portal
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IAddress, IListeningPort, IReactorTime
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.mail import pop3
from twisted.protocols.basic import FileSender, LineOnlyReceiver
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from zope.interface import implementer

from poetry.testing import (
    ONE_BYTE,
    SERVER_TO_CLIENT,
    Deadlock,
    MemoryNetwork,
    MemoryNetworkTestCase,
    MemoryTransport,
    RandomSizes,
)
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import (
    ChunkedScenarios,
    LineRecorder,
    port_number,
)

#: The one account of the password checker.
PASSWORDS = {b"alice": b"lantern"}

#: A short message (original text; LF line endings, as a maildrop on disk
#: keeps them: the server sends CRLF).
MEMO = (
    b"From: Harbourmaster <harbour@example.com>\n"
    b"To: Alice <alice@example.com>\n"
    b"Subject: Mooring fees\n"
    b"\n"
    b"The mooring fees are due at the end of the month.\n"
)


def _ledger_line(n: int) -> bytes:
    """
    Line C{n} of L{LEDGER}: some begin with one dot, some with two, some
    are a dot alone -- the line that ends a message unless stuffed.
    """
    if n % 50 == 25:
        return b".\n"
    if n % 9 == 0:
        return b".%04d: a line that begins with a dot, as a signature might\n" % n
    if n % 9 == 4:
        return b"..%04d: a line that begins with two dots\n" % n
    return b"Entry %04d: two crates of lamp oil, one coil of rope, paid.\n" % n


#: A message larger than the largest read (64 KiB), with lines that the
#: server must dot-stuff.
LEDGER = (
    b"From: The chandler <chandler@example.com>\n"
    b"To: Alice <alice@example.com>\n"
    b"Subject: Your account for the season\n"
    b"\n" + b"".join(_ledger_line(n) for n in range(1250))
)

#: A third message.
POSTSCRIPT = (
    b"From: Bob <bob@example.com>\n"
    b"To: Alice <alice@example.com>\n"
    b"Subject: P.S.\n"
    b"\n"
    b"I left the spare key under the blue flowerpot.\n"
)

#: Where the connection of L{_POP3Scenarios.test_resetMidRetrieve} is
#: reset, in bytes from the server after the C{RETR} was sent.
RESET_AT = 20_000


def wire_size(text: bytes) -> int:
    """
    The size of C{text} on the wire, in octets: each LF becomes CRLF.
    """
    return len(text) + text.count(b"\n")


def lines_of(text: bytes) -> list[bytes]:
    """
    The lines of C{text}, as the client gives them (unstuffed, without
    their ends).
    """
    return text.split(b"\n")[:-1]


@implementer(pop3.IMailbox)
class Maildrop:
    """
    A POP3 maildrop: messages with LF line endings and fixed unique ids,
    each marked for deletion until L{sync} removes it.

    @ivar syncs: how many times L{sync} was called (by C{QUIT}).
    """

    def __init__(self, messages: Sequence[tuple[bytes, bytes]]) -> None:
        self.messages = list(messages)
        self.deleted: set[int] = set()
        self.syncs = 0

    def _message(self, index: int) -> tuple[bytes, bytes]:
        if not 0 <= index < len(self.messages):
            raise ValueError(f"no message {index}")
        return self.messages[index]

    @overload
    def listMessages(self) -> list[int]: ...

    @overload
    def listMessages(self, i: int) -> int: ...

    def listMessages(self, i: int | None = None) -> int | list[int]:
        if i is None:
            return [self.listMessages(n) for n in range(len(self.messages))]
        _, text = self._message(i)
        return 0 if i in self.deleted else wire_size(text)

    def getMessage(self, index: int) -> IO[bytes]:
        _, text = self._message(index)
        return io.BytesIO(text)

    def getUidl(self, index: int) -> bytes:
        uid, _ = self._message(index)
        return uid

    def deleteMessage(self, index: int) -> None:
        self._message(index)
        self.deleted.add(index)

    def undeleteMessages(self) -> None:
        self.deleted.clear()

    def sync(self) -> None:
        self.syncs += 1
        self.messages = [
            message for n, message in enumerate(self.messages) if n not in self.deleted
        ]
        self.deleted.clear()


@implementer(IRealm)
class PostOffice:
    """
    The realm: one L{Maildrop} per user, kept from session to session
    (L{MEMO}, L{LEDGER}, L{POSTSCRIPT}).

    @ivar logouts: the user of each session ended, in order.
    """

    def __init__(self, *messages: bytes) -> None:
        self.messages = messages or (MEMO, LEDGER, POSTSCRIPT)
        self.maildrops: dict[bytes, Maildrop] = {}
        self.logouts: list[bytes] = []

    def requestAvatar(
        self, avatarId: bytes | tuple[()], mind: object, *interfaces: Any
    ) -> tuple[Any, Maildrop, Callable[[], None]]:
        assert isinstance(avatarId, bytes)
        assert pop3.IMailbox in interfaces
        maildrop = self.maildrops.get(avatarId)
        if maildrop is None:
            maildrop = self.maildrops[avatarId] = Maildrop(
                [(b"letter-%d" % n, text) for n, text in enumerate(self.messages, 1)]
            )
        return pop3.IMailbox, maildrop, lambda: self.logouts.append(avatarId)


class POP3Factory(ServerFactory):
    """
    Builds Twisted's L{POP3<pop3.POP3>} server with C{portal}, its C{STAT},
    C{LIST} and C{UIDL} run by C{schedule} and its idle timeout on C{clock}
    (each L{None}: the global cooperator's and reactor's, as L{pop3.POP3}
    does by default), its APOP challenge numbered by connection.
    """

    def __init__(
        self,
        portal: Portal,
        schedule: Callable[[Iterator[Any]], Deferred[Any]] | None,
        clock: IReactorTime | None,
    ) -> None:
        self.portal = portal
        self.schedule = schedule
        self.clock = clock
        self.connections = 0

    def buildProtocol(self, addr: IAddress | None) -> Protocol | None:
        self.connections += 1
        protocol = pop3.POP3()
        protocol.portal = self.portal  # type: ignore[assignment]  # None in the class
        protocol.magic = b"<%d.challenge@poetry.example>" % self.connections
        if self.schedule is not None:
            protocol.schedule = self.schedule  # type: ignore[assignment]
        if self.clock is not None:
            protocol.callLater = self.clock.callLater  # type: ignore[method-assign, assignment]
        protocol.factory = self  # type: ignore[assignment]  # None in the class
        return protocol


class Fetcher(pop3.AdvancedPOP3Client):
    """
    Twisted's L{AdvancedPOP3Client<pop3.AdvancedPOP3Client>}, counting what
    it reads.

    @ivar received: how many bytes it has read.
    @ivar lost: fires when the connection is lost.
    @ivar lostAt: the time it was lost, on C{clock}.
    @ivar reason: why it was lost.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.received = 0
        self.lost: Deferred[None] = Deferred()
        self.lostAt: float | None = None
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)
        super().dataReceived(data)

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        super().connectionLost(reason)
        self.lostAt = self.clock.seconds()
        self.reason = reason
        self.lost.callback(None)


def serve(
    net: MemoryNetwork, realm: PostOffice, *, schedule: bool = True, clock: bool = True
) -> IListeningPort:
    """
    Listen on C{127.0.0.1} with Twisted's POP3 server, L{PASSWORDS}' users
    in C{realm}; its listings on a cooperator of C{net} unless not
    C{schedule}, its idle timeout on C{net} unless not C{clock}.
    """
    checker = InMemoryUsernamePasswordDatabaseDontUse()
    for name, password in PASSWORDS.items():
        checker.addUser(name, password)
    factory = POP3Factory(
        Portal(realm, [checker]),
        net.cooperator().coiterate if schedule else None,
        net if clock else None,
    )
    return net.listenTCP(0, factory, interface="127.0.0.1")


def connect(
    net: MemoryNetwork, port: IListeningPort, client: Fetcher | LineRecorder
) -> None:
    """
    Connect C{client} to the server listening on C{port}.
    """
    endpoint = TCP4ClientEndpoint(net, "127.0.0.1", port_number(port))
    net.run_until(connectProtocol(endpoint, client))


def log_in(net: MemoryNetwork, port: IListeningPort) -> Fetcher:
    """
    A L{Fetcher} logged in as C{alice} with C{USER} and C{PASS}.
    """
    fetcher = Fetcher(net)
    connect(net, port, fetcher)
    net.run_until(fetcher.user(b"alice"))
    net.run_until(fetcher.password(PASSWORDS[b"alice"]))
    return fetcher


def failure_of(net: MemoryNetwork, d: Deferred[Any]) -> Failure:
    """
    Run C{net} until C{d} fires, and return its L{Failure}.
    """
    failures: list[Failure] = []
    d.addErrback(failures.append)
    net.run_until(d)
    [failure] = failures
    return failure


class _POP3Scenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.
    """

    def setUp(self) -> None:
        super().setUp()
        self.realm = PostOffice()
        self.port = serve(self.net, self.realm)
        self.addCleanup(self.port.stopListening)

    def sign_off(self, fetcher: Fetcher) -> None:
        """
        C{QUIT}, and wait until the server has closed the connection.
        """
        self.net.run_until(fetcher.quit())
        self.net.run_until(fetcher.lost)

    def test_retrieveLargerThanOneRead(self) -> None:
        """
        The greeting carries the APOP challenge; C{USER} and C{PASS} are
        accepted; C{STAT}, C{LIST} and C{UIDL} give the count, the sizes
        on the wire and the unique ids; C{RETR} of the ledger, larger than
        one read, gives each of its lines exactly -- a lone C{.} and lines
        beginning with one or two dots included, stuffed by the server and
        unstuffed by the client --, and C{RETR} of the memo likewise.
        C{QUIT} syncs the maildrop, deleting nothing, and closes the
        connection.
        """
        self.assertFalse(
            [
                k
                for k in range(0, len(LEDGER), FileSender.CHUNK_SIZE)
                if LEDGER[k - 1 : k + 1] == b"\n."
            ],
            "a dot line begins a read of the file: see DotAtChunkBoundaryTests",
        )
        fetcher = Fetcher(self.net)
        connect(self.net, self.port, fetcher)
        self.assertEqual(
            self.net.run_until(fetcher.user(b"alice")), b"USER accepted, send PASS"
        )
        self.assertEqual(fetcher.serverChallenge, b"<1.challenge@poetry.example>")
        self.assertEqual(
            self.net.run_until(fetcher.password(PASSWORDS[b"alice"])),
            b"Authentication succeeded",
        )
        sizes = [wire_size(text) for text in (MEMO, LEDGER, POSTSCRIPT)]
        self.assertEqual(self.net.run_until(fetcher.stat()), (3, sum(sizes)))
        self.assertEqual(self.net.run_until(fetcher.listSize()), sizes)
        self.assertEqual(
            self.net.run_until(fetcher.listUID()),
            [b"letter-1", b"letter-2", b"letter-3"],
        )
        before = fetcher.received
        self.assertEqual(self.net.run_until(fetcher.retrieve(1)), lines_of(LEDGER))
        self.assertGreater(fetcher.received - before, 65536)
        self.assertEqual(self.net.run_until(fetcher.retrieve(0)), lines_of(MEMO))
        self.sign_off(fetcher)
        maildrop = self.realm.maildrops[b"alice"]
        self.assertEqual((maildrop.syncs, len(maildrop.messages)), (1, 3))
        self.assertEqual(self.realm.logouts, [b"alice"])
        self.assertEqual(self.net.open_connections(), [])

    def test_deleteCommittedByQuit(self) -> None:
        """
        C{DELE} marks the memo: C{RETR} of it is refused, and C{STAT} and
        C{LIST} give it 0 octets -- but still count it, where RFC 1939
        leaves it out.  C{RSET} unmarks it; C{DELE} of the postscript, then
        C{QUIT}, deletes the postscript alone.  The next session finds two
        messages, and the ids of the memo and the ledger.
        """
        fetcher = log_in(self.net, self.port)
        self.net.run_until(fetcher.delete(0))
        failure = failure_of(self.net, fetcher.retrieve(0))
        self.assertTrue(failure.check(pop3.ServerErrorResponse))
        self.assertEqual(failure.getErrorMessage(), "b'message deleted'")
        self.assertEqual(
            self.net.run_until(fetcher.stat()),
            (3, wire_size(LEDGER) + wire_size(POSTSCRIPT)),
        )
        self.assertEqual(
            self.net.run_until(fetcher.listSize()),
            [0, wire_size(LEDGER), wire_size(POSTSCRIPT)],
        )
        self.net.run_until(fetcher.reset())
        self.net.run_until(fetcher.delete(2))
        self.sign_off(fetcher)

        again = log_in(self.net, self.port)
        self.assertEqual(
            self.net.run_until(again.stat()),
            (2, wire_size(MEMO) + wire_size(LEDGER)),
        )
        self.assertEqual(
            self.net.run_until(again.listUID()), [b"letter-1", b"letter-2"]
        )
        self.assertEqual(self.net.run_until(again.retrieve(0)), lines_of(MEMO))
        self.sign_off(again)
        self.assertEqual(self.realm.logouts, [b"alice", b"alice"])

    def test_refusedAndHostile(self) -> None:
        """
        A wrong password is refused (C{-ERR}: L{pop3.ServerErrorResponse}),
        and the right one then accepted on the same connection.  A raw
        client gets C{-ERR} for an unknown command, a command before the
        login and C{PASS} before C{USER} (the server logs each
        L{POP3Error<pop3.POP3Error>}); a line longer than C{MAX_LENGTH}
        without an end makes the server close the connection at once.  The
        next client is served.
        """
        fetcher = Fetcher(self.net)
        connect(self.net, self.port, fetcher)
        self.net.run_until(fetcher.user(b"alice"))
        failure = failure_of(self.net, fetcher.password(b"tinder"))
        self.assertTrue(failure.check(pop3.ServerErrorResponse))
        self.assertEqual(failure.getErrorMessage(), "b'Authentication failed'")
        self.net.run_until(fetcher.user(b"alice"))
        self.net.run_until(fetcher.password(PASSWORDS[b"alice"]))
        self.sign_off(fetcher)

        raw = LineRecorder()
        connect(self.net, self.port, raw)
        for line in [b"FROB", b"STAT", b"PASS lantern"]:
            raw.sendLine(line)
            self.net.advance(0)
        self.assertEqual(
            raw.lines[1:],
            [
                b"-ERR bad protocol or server: POP3Error: not authenticated yet: "
                b"cannot do FROB",
                b"-ERR bad protocol or server: POP3Error: not authenticated yet: "
                b"cannot do STAT",
                b"-ERR USER required before PASS",
            ],
        )
        self.assertEqual(len(self.flushLoggedErrors(pop3.POP3Error)), 2)
        assert raw.transport is not None
        start = self.net.seconds()
        raw.transport.write(b"A" * (LineOnlyReceiver.MAX_LENGTH + 1))
        self.net.run_until(raw.lost)
        self.assertEqual(self.net.seconds(), start)
        assert raw.reason is not None
        self.assertTrue(raw.reason.check(ConnectionDone))
        self.assertEqual(raw.lines[4:], [])

        served = log_in(self.net, self.port)
        self.assertEqual(self.net.run_until(served.retrieve(2)), lines_of(POSTSCRIPT))
        self.sign_off(served)
        self.assertEqual(self.realm.logouts, [b"alice", b"alice"])

    def test_resetMidRetrieve(self) -> None:
        """
        After C{DELE} of the memo, the connection is reset after
        L{RESET_AT} bytes of the answer to C{RETR} of the ledger: the
        client reads exactly those, and its C{RETR} fails with
        L{ConnectionLost}; the server's file sender is stopped (logged),
        the session ends without C{QUIT}, so nothing is deleted.  The next
        session finds all three messages.
        """
        fetcher = log_in(self.net, self.port)
        self.net.run_until(fetcher.delete(0))
        transport: object = fetcher.transport
        assert isinstance(transport, MemoryTransport)
        sent = self.net.faults.stream_offset(transport, SERVER_TO_CLIENT)
        self.net.faults.reset(
            transport, after_bytes=sent + RESET_AT, direction=SERVER_TO_CLIENT
        )
        before = fetcher.received
        failure = failure_of(self.net, fetcher.retrieve(1))
        self.assertTrue(failure.check(ConnectionLost))
        self.assertEqual(fetcher.received - before, RESET_AT)
        self.net.run_until(fetcher.lost)
        self.net.advance(0)
        [logged] = self.flushLoggedErrors()
        self.assertEqual(
            logged.getErrorMessage(), "Consumer asked us to stop producing"
        )
        maildrop = self.realm.maildrops[b"alice"]
        self.assertEqual(maildrop.syncs, 0)
        self.assertEqual(self.realm.logouts, [b"alice"])

        again = log_in(self.net, self.port)
        self.assertEqual(self.net.run_until(again.stat())[0], 3)
        self.sign_off(again)

    def test_idleTimeout(self) -> None:
        """
        The server closes a connection idle for C{timeOut} (300 s) of
        virtual time since its last command, not a second earlier, without
        a word, and ends the session; each command restarts the count.
        """
        self.assertEqual(pop3.POP3.timeOut, 300)
        fetcher = log_in(self.net, self.port)
        self.net.advance(200)
        self.net.run_until(fetcher.noop())
        start = self.net.seconds()
        self.net.advance(299)
        self.assertIsNone(fetcher.lostAt)
        self.net.advance(1)
        self.assertEqual(fetcher.lostAt, start + 300)
        assert fetcher.reason is not None
        self.assertTrue(fetcher.reason.check(ConnectionDone))
        self.assertEqual(self.realm.logouts, [b"alice"])


class DefaultDeliveryPOP3Tests(_POP3Scenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneBytePOP3Tests(_POP3Scenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE


class RandomChunkingPOP3Tests(_POP3Scenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 300)


#: A message whose line C{.} begins at byte L{FileSender.CHUNK_SIZE} of the
#: file, followed by a line that looks like an answer.
BOUNDARY = (
    b"Subject: the edge of a read\n"
    b"\n"
    + b"-" * (FileSender.CHUNK_SIZE - len(b"Subject: the edge of a read\n\n") - 1)
    + b"\n"
    + b".\n"
    + b"+OK this line is part of the message\n"
)


class DotAtChunkBoundaryTests(MemoryNetworkTestCase):
    """
    C{POP3} sends a message with a L{FileSender}, which reads the file 16
    KiB at a time (C{FileSender.CHUNK_SIZE}), and stuffs the dots of each
    read on its own (C{POP3.transformChunk}: C{"\\r\\n."} becomes
    C{"\\r\\n.."}): a line that begins a read has no line end before it
    in that read, and is sent as it is.  A line C{.} there is a terminator
    on the wire: the message is cut short, and the lines after it answer
    the client's next commands -- the sender of a message chooses what the
    reader's client is told.  A bug of C{twisted.mail.pop3}, whatever the
    network's chunking (the default delivery is used here); if Twisted
    fixes it, L{test_dotLineAtTheBoundary} fails.
    """

    def retrieve(self, message: bytes) -> tuple[list[bytes], bytes]:
        """
        Log in to a server whose only message is C{message}; retrieve it
        and, queued behind the C{RETR}, send C{NOOP}; return the lines and
        C{NOOP}'s answer.  (The client then closes the connection: after
        the bug, the session is out of step.)
        """
        port = serve(self.net, PostOffice(message))
        self.addCleanup(port.stopListening)
        fetcher = log_in(self.net, port)
        retrieved = fetcher.retrieve(0)
        answered = fetcher.noop()
        lines = self.net.run_until(retrieved)
        answer = self.net.run_until(answered)
        assert fetcher.transport is not None
        fetcher.transport.loseConnection()
        self.net.run_until(fetcher.lost)
        return lines, answer

    def test_dotLineElsewhere(self) -> None:
        """
        The same lines one byte further on (the line C{.} begins at byte
        16 KiB + 1): the message arrives whole, and C{NOOP} gets its own
        (empty) answer.
        """
        shifted = BOUNDARY.replace(b"\n\n", b"\n\n-", 1)
        self.assertEqual(self.retrieve(shifted), (lines_of(shifted), b""))

    def test_dotLineAtTheBoundary(self) -> None:
        """
        The line C{.} begins at byte 16 KiB: C{RETR} ends there, with the
        lines before it only, and the message's next line is taken for
        the answer to C{NOOP}.
        """
        self.assertEqual(
            self.retrieve(BOUNDARY),
            (lines_of(BOUNDARY)[:3], b"this line is part of the message"),
        )


class APOPTests(MemoryNetworkTestCase):
    """
    C{APOP} with the right digest is refused:
    C{APOPCredentials.checkPassword} compares the MD5 hex digest it computes,
    a L{str}, with the digest the client sent, L{bytes}, which are never
    equal.  So L{AdvancedPOP3Client.login<pop3.AdvancedPOP3Client.login>},
    which uses C{APOP} whenever the greeting carries a challenge (Twisted's
    server always sends one), never logs in to Twisted's server with a
    checker that calls C{checkPassword} (as the in-memory one does); the
    scenarios log in with C{USER} and C{PASS}.  A bug of
    C{twisted.mail.pop3}; if Twisted fixes it, L{test_rightDigestRefused}
    fails.
    """

    def test_rightDigestRefused(self) -> None:
        """
        C{login} sends C{APOP alice} with MD5 of the greeting's challenge
        and the password: C{-ERR Authentication failed}.  C{USER} and
        C{PASS} with the same password are then accepted on the same
        connection.
        """
        port = serve(self.net, PostOffice())
        self.addCleanup(port.stopListening)
        fetcher = Fetcher(self.net)
        connect(self.net, port, fetcher)
        failure = failure_of(self.net, fetcher.login(b"alice", PASSWORDS[b"alice"]))
        self.assertTrue(failure.check(pop3.ServerErrorResponse))
        self.assertEqual(failure.getErrorMessage(), "b'Authentication failed'")
        challenge = fetcher.serverChallenge
        assert challenge is not None
        self.assertEqual(challenge, b"<1.challenge@poetry.example>")
        digest = md5(challenge + PASSWORDS[b"alice"]).hexdigest()
        self.assertFalse(
            pop3.APOPCredentials(challenge, b"alice", digest.encode()).checkPassword(
                PASSWORDS[b"alice"]
            )
        )
        self.net.run_until(fetcher.user(b"alice"))
        self.assertEqual(
            self.net.run_until(fetcher.password(PASSWORDS[b"alice"])),
            b"Authentication succeeded",
        )
        self.net.run_until(fetcher.quit())
        self.net.run_until(fetcher.lost)


class BadArgumentTests(MemoryNetworkTestCase):
    """
    A command whose handler raises anything but C{POP3Error} -- C{USER}
    without a name (L{TypeError}), C{DELE} of a message that does not
    exist (the L{ValueError} that C{IMailbox.deleteMessage} is documented
    to raise) -- is not answered with C{-ERR}: C{POP3.state_COMMAND} logs
    the error and builds its answer with C{b"".join(e.args)}, which raises
    L{TypeError} for an error whose arguments are L{str}; that escapes the
    protocol, and the connection is dropped (as on the real reactor, which
    logs it too).  A bug of C{twisted.mail.pop3}; if Twisted fixes it,
    L{test_droppedInsteadOfAnswered} fails.
    """

    def test_droppedInsteadOfAnswered(self) -> None:
        """
        C{USER} without a name, before the login, and C{DELE 9} after it:
        no answer, two errors logged each (the handler's and the escaping
        L{TypeError}), and the server closes the connection.  Nothing was
        deleted, and the next client is served.
        """
        realm = PostOffice()
        port = serve(self.net, realm)
        self.addCleanup(port.stopListening)
        raw = LineRecorder()
        connect(self.net, port, raw)
        raw.sendLine(b"USER")
        self.net.run_until(raw.lost)
        self.assertEqual(raw.lines, [b"+OK <1.challenge@poetry.example>"])
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 2)

        fetcher = log_in(self.net, port)
        failure = failure_of(self.net, fetcher.delete(8))
        self.assertTrue(failure.check(ConnectionDone))
        [handled] = self.flushLoggedErrors(ValueError)
        self.assertEqual(handled.getErrorMessage(), "no message 8")
        [escaped] = self.flushLoggedErrors(TypeError)
        self.assertIn("expected a bytes-like object, str found", str(escaped.value))
        self.net.run_until(fetcher.lost)
        self.assertEqual(realm.maildrops[b"alice"].syncs, 0)

        served = log_in(self.net, port)
        self.assertEqual(self.net.run_until(served.stat())[0], 3)
        self.net.run_until(served.quit())
        self.net.run_until(served.lost)


class POP3GuardTests(MemoryNetworkTestCase):
    """
    Without the fixes, L{POP3<pop3.POP3>} runs its listings on the global
    cooperator and its idle timeout on the global reactor: C{STAT} is never
    answered, and the report names both and their fixes.
    """

    def test_withoutTheFixes(self) -> None:
        """
        Nothing injected: the login is answered, C{STAT} never is; the
        L{Deadlock} names the cooperative task that would write the answer
        (C{_IteratorBuffer}) with the cooperator's fix, and the server's
        C{TimeoutMixin} timer (cancelled while C{STAT} runs) with
        C{protocol.callLater = net.callLater}.
        """
        stand_in_global_reactor(self)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                port = serve(self.net, PostOffice(), schedule=False, clock=False)
                self.addCleanup(port.stopListening)
                fetcher = log_in(self.net, port)
                self.net.run_until(fetcher.stat())

        result = TestResult()
        Inner("test_inner").run(result)
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(Deadlock))
        text = failure.getErrorMessage()
        self.assertIn("Work waiting on the global reactor", text)
        self.assertIn("cooperative task: _IteratorBuffer (task.cooperate)", text)
        self.assertIn("route_global_cooperator(self.net)", text)
        self.assertIn("delayed call: POP3.__timedOut, cancelled before it ran", text)
        self.assertIn("protocol.callLater = net.callLater", text)
