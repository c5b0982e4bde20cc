"""
Unmodified C{twisted.mail.imap4} over L{MemoryNetwork}: Twisted's IMAP4
server (L{IMAP4Server<imap4.IMAP4Server>} behind a C{twisted.cred} L{Portal}
whose realm hands out L{MemoryAccount<imap4.MemoryAccount>}s holding
mailboxes of this module's own, L{Folder}) and its client
(L{IMAP4Client<imap4.IMAP4Client>}) log in, list and select mailboxes, fetch
a message larger than one read (an IMAP literal: under one-byte chunking the
client reads it a byte at a time), set flags and expunge -- seen by a later
C{FETCH} and by the next session --, append a message (a literal the other
way) and log out; a wrong password and hostile input are refused and the
next client is served; a reset in the middle of a C{FETCH} fails it; and
the server closes idle connections -- each under the default delivery (each
write whole), one-byte chunking and random chunking (from the network's
seed).

The server takes no reactor, and schedules on the global one in two ways on
these paths; the factory's C{buildProtocol} injects the network twice
(L{IMAPFactory}):

  - each message of a C{FETCH} is written, part by part, by a generator
    that the protocol's C{scheduler} runs.  The default,
    C{imap4.iterateInReactor}, resumes it after each part that is not a
    literal (C{FLAGS}, C{UID}, sizes, headers) with a C{callLater(0)} on
    the reactor it imports when it runs: with it, C{FETCH (FLAGS)} is never
    answered.  (A C{FETCH} of whole messages that provide
    C{IMessageFile}, as L{Letter} does, happens not to need it.)  Build the
    protocol with C{IMAP4Server(scheduler=net.cooperator().coiterate)}, a
    cooperator of the network's that runs one step per tick.
    L{IMAP4GuardTests} shows the guard naming the delayed call and that
    fix.
  - its idle timeout (C{timeOut}, 60 s before the login and C{POSTAUTH_TIMEOUT},
    30 minutes, after it) is a L{TimeoutMixin
    <twisted.protocols.policies.TimeoutMixin>} on the protocol's
    C{callLater}, the global reactor's by default: C{protocol.callLater =
    net.callLater}.  Without it the server never times out on the network,
    and the guard names the timer and the fix (L{IMAP4GuardTests}).

The client schedules nothing (its own timeout, C{IMAP4Client.timeout}, is
off by default).  C{SEARCH} of a mailbox that does not provide
C{ISearchableMailbox} and holds more than five messages continues with a
C{callLater(0)} on the reactor imported when it runs, which no parameter
reaches (C{self.patch(twisted.internet, "reactor", net)} would); it is not
exercised here.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import IRealm, Portal
from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IAddress, IListeningPort, IReactorTime
from twisted.internet.protocol import ServerFactory
from twisted.mail import imap4
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
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
from tests.unit.test_testing_guard import run_inner, stand_in_global_reactor
from tests.unit.test_testing_support import (
    ChunkedScenarios,
    LineRecorder,
    port_number,
)

#: The one account of the password checker.
PASSWORDS = {b"alice": b"lantern"}

#: A short message (original text; CRLF line endings, as IMAP sends them).
NOTE = (
    b"From: Harbourmaster <harbour@example.com>\r\n"
    b"To: Alice <alice@example.com>\r\n"
    b"Subject: Tide tables\r\n"
    b"\r\n"
    b"The spring tide comes at dawn on Thursday.\r\n"
    b"Please moor the skiff on the inner wall.\r\n"
)

#: A message larger than the largest read (64 KiB): numbered lines, so a
#: lost, doubled or reordered piece changes the text.
LOGBOOK = (
    b"From: The keeper <keeper@example.com>\r\n"
    b"To: Alice <alice@example.com>\r\n"
    b"Subject: The logbook, copied out\r\n"
    b"\r\n"
    + b"".join(
        b"Watch %04d: wind from the %s, the lamp lit, all quiet on the rocks.\r\n"
        % (n, (b"north", b"east", b"south", b"west")[n % 4])
        for n in range(950)
    )
)

#: A third message.
POSTCARD = (
    b"From: Bob <bob@example.com>\r\n"
    b"To: Alice <alice@example.com>\r\n"
    b"Subject: Greetings from the island\r\n"
    b"\r\n"
    b"Gulls everywhere, and the ferry only runs on Tuesdays.\r\n"
)

#: A reply the client appends (a literal from the client).
REPLY = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: The keeper <keeper@example.com>\r\n"
    b"Subject: Re: The logbook, copied out\r\n"
    b"\r\n"
    b"Thank you for the copy.  Watch 0412 made me laugh:\r\n"
    b"a wind from the west, and not a word about the goat?\r\n"
)

#: Where the connection of L{_IMAP4Scenarios.test_resetMidFetch} is reset,
#: in bytes from the server after the C{FETCH} was sent.
RESET_AT = 30_000

#: What the server says when it closes an idle connection.
AUTOLOGOUT = b"* BYE Autologout; connection idle too long"


@implementer(imap4.IMessage, imap4.IMessageFile)
class Letter:
    """
    A message of a L{Folder}: its text (CRLF line endings), UID and flags.
    """

    def __init__(self, uid: int, text: bytes, flags: Iterable[str] = ()) -> None:
        self.uid = uid
        self.text = text
        self.flags = list(flags)
        head, _, self.body = text.partition(b"\r\n\r\n")
        self.headers: dict[str, str] = {}
        for line in head.decode("ascii").split("\r\n"):
            name, _, value = line.partition(": ")
            self.headers[name.lower()] = value

    def getHeaders(self, negate: bool, *names: str | bytes) -> dict[str, str]:
        wanted = {
            (name.decode("ascii") if isinstance(name, bytes) else name).lower()
            for name in names
        }
        return {k: v for k, v in self.headers.items() if (k in wanted) != negate}

    def getBodyFile(self) -> IO[bytes]:
        return io.BytesIO(self.body)

    def getSize(self) -> int:
        return len(self.text)

    def isMultipart(self) -> bool:
        return False

    def getSubPart(self, part: int) -> imap4.IMessagePart:
        raise IndexError(part)

    def getUID(self) -> int:
        return self.uid

    def getFlags(self) -> list[str]:
        return self.flags

    def getInternalDate(self) -> str:
        return "Mon, 02 Sep 2024 06:15:00 +0000"

    def open(self) -> IO[bytes]:
        return io.BytesIO(self.text)


@implementer(imap4.IMailbox)
class Folder:
    """
    An in-memory IMAP mailbox: L{Letter}s numbered from 1, UIDs from 1, the
    standard system flags; C{EXPUNGE} reports the numbers removed from the
    highest down, so that each is right when the client applies it.
    """

    def __init__(self, uidValidity: int, texts: Iterable[bytes] = ()) -> None:
        self.uidValidity = uidValidity
        self.letters: list[Letter] = []
        self.nextUID = 1
        self.listeners: list[object] = []
        for text in texts:
            self.addMessage(io.BytesIO(text), (), None)

    def getFlags(self) -> list[str]:
        return ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]

    def getHierarchicalDelimiter(self) -> str:
        return "/"

    def getUIDValidity(self) -> int:
        return self.uidValidity

    def getUIDNext(self) -> int:
        return self.nextUID

    def getUID(self, message: int) -> int:
        return self.letters[message - 1].uid

    def getMessageCount(self) -> int:
        return len(self.letters)

    def getRecentCount(self) -> int:
        return 0

    def getUnseenCount(self) -> int:
        return sum("\\Seen" not in letter.flags for letter in self.letters)

    def isWriteable(self) -> bool:
        return True

    def destroy(self) -> None:
        self.letters = []

    def requestStatus(self, names: Sequence[str]) -> dict[str, int]:
        status: dict[str, int] = imap4.statusRequestHelper(self, names)
        return status

    def addListener(self, listener: object) -> None:
        self.listeners.append(listener)

    def removeListener(self, listener: object) -> None:
        self.listeners.remove(listener)

    def addMessage(
        self, message: IO[bytes], flags: Iterable[str], date: object
    ) -> Deferred[int]:
        uid = self.nextUID
        self.nextUID += 1
        self.letters.append(Letter(uid, message.read(), flags))
        return succeed(uid)

    def expunge(self) -> list[int]:
        gone = [
            number
            for number, letter in enumerate(self.letters, 1)
            if "\\Deleted" in letter.flags
        ]
        self.letters = [x for x in self.letters if "\\Deleted" not in x.flags]
        return gone[::-1]

    def _chosen(self, messages: Any, uid: bool) -> list[tuple[int, Letter]]:
        """
        The letters of a message set (C{*} included), with their numbers.
        """
        if not self.letters:
            return []
        messages.last = self.letters[-1].uid if uid else len(self.letters)
        return [
            (number, letter)
            for number, letter in enumerate(self.letters, 1)
            if (letter.uid if uid else number) in messages
        ]

    def fetch(self, messages: Any, uid: bool) -> list[tuple[int, Letter]]:
        return self._chosen(messages, uid)

    def store(
        self, messages: Any, flags: Sequence[str], mode: int, uid: bool
    ) -> dict[int, list[str]]:
        changed = {}
        for number, letter in self._chosen(messages, uid):
            if mode == 1:
                letter.flags += [flag for flag in flags if flag not in letter.flags]
            elif mode == -1:
                letter.flags = [flag for flag in letter.flags if flag not in flags]
            else:
                letter.flags = list(flags)
            changed[number] = letter.flags
        return changed


@implementer(IRealm)
class PostOffice:
    """
    The realm: one L{imap4.MemoryAccount} per user, kept from session to
    session (C{INBOX} with L{NOTE}, L{LOGBOOK} and L{POSTCARD}; an empty
    C{Archive}).

    @ivar logouts: the user of each session ended, in order.
    """

    def __init__(self) -> None:
        self.accounts: dict[bytes, imap4.MemoryAccount] = {}
        self.logouts: list[bytes] = []

    def requestAvatar(
        self, avatarId: bytes | tuple[()], mind: object, *interfaces: Any
    ) -> tuple[Any, imap4.MemoryAccount, Callable[[], None]]:
        assert isinstance(avatarId, bytes)
        assert imap4.IAccount in interfaces
        account = self.accounts.get(avatarId)
        if account is None:
            account = self.accounts[avatarId] = imap4.MemoryAccount(avatarId)
            account.addMailbox("INBOX", Folder(1912, [NOTE, LOGBOOK, POSTCARD]))
            account.addMailbox("Archive", Folder(1913))
        return imap4.IAccount, account, lambda: self.logouts.append(avatarId)

    def inbox(self, user: bytes = b"alice") -> Folder:
        """
        C{user}'s C{INBOX}.
        """
        folder = self.accounts[user].select("INBOX")
        assert isinstance(folder, Folder)
        return folder


class IMAPFactory(ServerFactory):
    """
    Builds Twisted's L{IMAP4Server<imap4.IMAP4Server>} with C{portal}, its
    C{FETCH}es run by C{scheduler} and its idle timeout on C{clock} (each
    L{None}: the global reactor's, as L{imap4.IMAP4Server} does by default).
    """

    def __init__(
        self,
        portal: Portal,
        scheduler: Callable[[Iterator[Any]], Deferred[Any]] | None,
        clock: IReactorTime | None,
    ) -> None:
        self.portal = portal
        self.scheduler = scheduler
        self.clock = clock

    def buildProtocol(self, addr: IAddress | None) -> imap4.IMAP4Server:
        protocol = imap4.IMAP4Server(scheduler=self.scheduler)
        protocol.portal = self.portal  # type: ignore[assignment]  # None in the class
        if self.clock is not None:
            protocol.callLater = self.clock.callLater  # type: ignore[method-assign, assignment]
        protocol.factory = self
        return protocol


class Reader(imap4.IMAP4Client):
    """
    Twisted's L{IMAP4Client<imap4.IMAP4Client>}, counting what it reads and
    recording its lines (outside literals).

    @ivar reads: how many times it has read.
    @ivar received: how many bytes it has read.
    @ivar lines: the lines it has read.
    @ivar lost: fires when the connection is lost.
    @ivar lostAt: the time it was lost, on C{clock}.
    """

    def __init__(self, clock: IReactorTime) -> None:
        super().__init__()
        self.clock = clock
        self.reads = 0
        self.received = 0
        self.lines: list[bytes] = []
        self.lost: Deferred[None] = Deferred()
        self.lostAt: float | None = None

    def dataReceived(self, data: bytes) -> None:
        self.reads += 1
        self.received += len(data)
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)
        super().lineReceived(line)

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        super().connectionLost(reason)
        self.lostAt = self.clock.seconds()
        self.lost.callback(None)


def serve(
    net: MemoryNetwork, realm: PostOffice, *, scheduler: bool = True, clock: bool = True
) -> IListeningPort:
    """
    Listen on C{127.0.0.1} with Twisted's IMAP4 server, L{PASSWORDS}' users
    in C{realm}; its C{FETCH}es on a cooperator of C{net} unless not
    C{scheduler}, its idle timeout on C{net} unless not C{clock}.
    """
    checker = InMemoryUsernamePasswordDatabaseDontUse()
    for name, password in PASSWORDS.items():
        checker.addUser(name, password)
    factory = IMAPFactory(
        Portal(realm, [checker]),
        net.cooperator().coiterate if scheduler else None,
        net if clock else None,
    )
    return net.listenTCP(0, factory, interface="127.0.0.1")


def connect(
    net: MemoryNetwork, port: IListeningPort, client: Reader | LineRecorder
) -> None:
    """
    Connect C{client} to the server listening on C{port}.
    """
    endpoint = TCP4ClientEndpoint(net, "127.0.0.1", port_number(port))
    net.run_until(connectProtocol(endpoint, client))


def open_inbox(net: MemoryNetwork, port: IListeningPort) -> Reader:
    """
    A L{Reader} logged in as C{alice}, her C{INBOX} selected.
    """
    reader = Reader(net)
    connect(net, port, reader)
    net.run_until(reader.login(b"alice", PASSWORDS[b"alice"]))
    net.run_until(reader.select("INBOX"))
    return reader


def texts(fetched: dict[int, dict[str, str]]) -> dict[int, bytes]:
    """
    The C{RFC822} part of each message fetched, as bytes (the client gives
    it as a string decoded byte for byte).
    """
    return {n: parts["RFC822"].encode("charmap") for n, parts in fetched.items()}


class _IMAP4Scenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.
    """

    def setUp(self) -> None:
        super().setUp()
        self.realm = PostOffice()
        self.port = serve(self.net, self.realm)
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

    def log_out(self, reader: Reader) -> None:
        """
        C{LOGOUT}, and wait until the connection is closed.
        """
        self.net.run_until(reader.logout())
        self.net.run_until(reader.lost)

    def test_fetchLargerThanOneRead(self) -> None:
        """
        C{alice} logs in; C{LIST} names her two mailboxes; C{SELECT INBOX}
        reports three messages, writeable, with its C{UIDVALIDITY}; a
        C{FETCH} of all three gets each text exactly -- the second, a
        literal larger than one read, arriving in several reads; C{LOGOUT}:
        the server says C{BYE}, closes the connection and ends the
        session in the realm.
        """
        reader = Reader(self.net)
        connect(self.net, self.port, reader)
        self.net.run_until(reader.login(b"alice", PASSWORDS[b"alice"]))
        listing = self.net.run_until(reader.list("", "*"))
        self.assertEqual(
            sorted((name, delimiter) for _, delimiter, name in listing),
            [("ARCHIVE", "/"), ("INBOX", "/")],
        )
        selected = self.net.run_until(reader.select("INBOX"))
        self.assertEqual(
            (selected["EXISTS"], selected["UIDVALIDITY"], selected["READ-WRITE"]),
            (3, 1912, True),
        )
        before, reads = reader.received, reader.reads
        fetched = self.net.run_until(reader.fetchMessage("1:*"))
        self.assertEqual(texts(fetched), {1: NOTE, 2: LOGBOOK, 3: POSTCARD})
        self.assertGreater(reader.received - before, 65536)
        self.assertGreater(reader.reads - reads, 1)
        self.log_out(reader)
        self.assertIn(b"* BYE Nice talking to you", reader.lines)
        self.assertEqual(self.realm.logouts, [b"alice"])
        self.assertEqual(self.net.open_connections(), [])

    def test_flagsSeenLater(self) -> None:
        """
        C{STORE} marks the note and the postcard C{\\Deleted} (the server
        answers with their new flags) and the logbook C{\\Seen};
        C{EXPUNGE} removes the two, numbers 3 then 1; a later C{FETCH}
        sees the logbook alone, now number 1, still UID 2 and C{\\Seen}.
        The next session sees the same, and appends a reply to C{Archive}
        (a literal from the client), which a C{FETCH} there returns
        exactly, with its flag.
        """
        reader = open_inbox(self.net, self.port)
        flagged = self.net.run_until(
            reader.addFlags("1,3", ["\\Deleted"], silent=False)
        )
        self.assertEqual(
            flagged, {1: {"FLAGS": ["\\Deleted"]}, 3: {"FLAGS": ["\\Deleted"]}}
        )
        self.net.run_until(reader.addFlags("2", ["\\Seen"]))
        self.assertEqual(self.net.run_until(reader.expunge()), [3, 1])
        self.assertEqual(
            self.net.run_until(reader.fetchFlags("1:*")), {1: {"FLAGS": ["\\Seen"]}}
        )
        self.assertEqual(self.net.run_until(reader.fetchUID("1:*")), {1: {"UID": "2"}})
        self.log_out(reader)

        again = Reader(self.net)
        connect(self.net, self.port, again)
        self.net.run_until(again.login(b"alice", PASSWORDS[b"alice"]))
        selected = self.net.run_until(again.select("INBOX"))
        self.assertEqual(selected["EXISTS"], 1)
        self.assertEqual(
            self.net.run_until(again.fetchFlags("1")), {1: {"FLAGS": ["\\Seen"]}}
        )
        self.assertEqual(self.net.run_until(again.fetchUID("1")), {1: {"UID": "2"}})
        self.net.run_until(again.append("Archive", io.BytesIO(REPLY), ["\\Seen"]))
        self.net.run_until(again.select("Archive"))
        fetched = self.net.run_until(again.fetchMessage("1"))
        self.assertEqual(texts(fetched), {1: REPLY})
        self.assertEqual(
            self.net.run_until(again.fetchFlags("1")), {1: {"FLAGS": ["\\Seen"]}}
        )
        self.log_out(again)
        self.assertEqual(self.realm.logouts, [b"alice", b"alice"])

    def test_refusedAndHostile(self) -> None:
        """
        A wrong password is refused (C{NO}: L{imap4.IMAP4Exception}), and
        the right one then accepted on the same connection.  A raw client
        gets C{BAD} for an unknown command, a command of the wrong state,
        a line with a tag alone and a literal longer than the server takes
        for a login; a line longer than C{MAX_LENGTH} without an end makes
        the server close the connection.  The next client is served.
        """
        reader = Reader(self.net)
        connect(self.net, self.port, reader)
        failure = self.failure(reader.login(b"alice", b"tinder"))
        error = failure.value
        assert isinstance(error, imap4.IMAP4Exception)
        self.assertEqual(error.args, (b"LOGIN failed",))
        self.net.run_until(reader.login(b"alice", PASSWORDS[b"alice"]))
        self.log_out(reader)

        raw = LineRecorder()
        connect(self.net, self.port, raw)
        for line in [
            b"a1 FROB",
            b"a2 SELECT INBOX",
            b"a3",
            b"a4 LOGIN alice {99999}",
            b"a5 \xff\xfe",
        ]:
            raw.sendLine(line)
            self.net.advance(0)
        self.assertEqual(
            raw.lines[1:],
            [
                b"a1 BAD Unsupported command",
                b"a2 BAD Unsupported command",
                b"a3 BAD Missing command",
                b"a4 BAD Illegal syntax: Literal too long! I accept at most "
                b"4096 octets",
                b"* BAD Server error: 'ascii' codec can't decode byte 0xff in "
                b"position 0: ordinal not in range(128)",
            ],
        )
        self.assertEqual(len(self.flushLoggedErrors(UnicodeDecodeError)), 1)
        assert raw.transport is not None
        start = self.net.seconds()
        raw.transport.write(b"A" * (LineReceiver.MAX_LENGTH + 2))
        self.net.run_until(raw.lost)
        self.assertEqual(self.net.seconds(), start)
        assert raw.reason is not None
        self.assertTrue(raw.reason.check(ConnectionDone))
        self.assertEqual(raw.lines[6:], [])

        served = open_inbox(self.net, self.port)
        self.assertEqual(
            texts(self.net.run_until(served.fetchMessage("3"))), {3: POSTCARD}
        )
        self.log_out(served)
        self.assertEqual(self.realm.logouts, [b"alice", b"alice"])

    def test_resetMidFetch(self) -> None:
        """
        The connection is reset after L{RESET_AT} bytes of the answer to a
        C{FETCH} of the logbook: the client reads exactly those, and its
        C{FETCH} fails with L{ConnectionLost}; the server ends the session.
        The next client is served.
        """
        reader = open_inbox(self.net, self.port)
        transport: object = reader.transport
        assert isinstance(transport, MemoryTransport)
        sent = self.net.faults.stream_offset(transport, SERVER_TO_CLIENT)
        self.net.faults.reset(
            transport, after_bytes=sent + RESET_AT, direction=SERVER_TO_CLIENT
        )
        before = reader.received
        failure = self.failure(reader.fetchMessage("2"))
        self.assertTrue(failure.check(ConnectionLost))
        self.assertEqual(reader.received - before, RESET_AT)
        self.net.run_until(reader.lost)
        self.net.advance(0)
        self.assertEqual(self.realm.logouts, [b"alice"])

        again = open_inbox(self.net, self.port)
        self.assertEqual(texts(self.net.run_until(again.fetchMessage("1"))), {1: NOTE})
        self.log_out(again)

    def test_idleTimeout(self) -> None:
        """
        A client that says nothing is told C{BYE} and disconnected
        C{timeOut} (60 s) of virtual time after it connected, not a second
        earlier; one that logged in, C{POSTAUTH_TIMEOUT} (30 minutes) after
        its last command.
        """
        self.assertEqual(
            (imap4.IMAP4Server.timeOut, imap4.IMAP4Server.POSTAUTH_TIMEOUT),
            (60, 1800),
        )
        silent = Reader(self.net)
        connect(self.net, self.port, silent)
        start = self.net.seconds()
        self.net.advance(59)
        self.assertIsNone(silent.lostAt)
        self.net.advance(1)
        self.assertEqual(silent.lostAt, start + 60)
        self.assertEqual(silent.lines[-1], AUTOLOGOUT)

        reader = open_inbox(self.net, self.port)
        start = self.net.seconds()
        self.net.advance(1799)
        self.assertIsNone(reader.lostAt)
        self.net.advance(1)
        self.assertEqual(reader.lostAt, start + 1800)
        self.assertEqual(reader.lines[-1], AUTOLOGOUT)
        self.assertEqual(self.realm.logouts, [b"alice"])


class DefaultDeliveryIMAP4Tests(_IMAP4Scenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteIMAP4Tests(_IMAP4Scenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE


class RandomChunkingIMAP4Tests(_IMAP4Scenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 300)


class IMAP4GuardTests(MemoryNetworkTestCase):
    """
    Without the fixes, L{IMAP4Server<imap4.IMAP4Server>} schedules on the
    global reactor: its idle timeout silently never fires, and a C{FETCH}
    of flags is never answered; the guard reports both.
    """

    def test_idleTimeoutWithoutAClock(self) -> None:
        """
        A server without C{protocol.callLater = net.callLater}: a client
        silent for twice C{timeOut} is not disconnected (the timer is due
        on the global reactor, which does not run), and the guard fails
        the test with L{GlobalReactorUsed}, naming the C{TimeoutMixin}
        timer and the fix.
        """
        stand_in_global_reactor(self)
        outcome: list[float | None] = []

        def inner(case: MemoryNetworkTestCase) -> None:
            port = serve(case.net, PostOffice(), clock=False)
            reader = Reader(case.net)
            connect(case.net, port, reader)
            case.net.advance(2 * imap4.IMAP4Server.timeOut)
            outcome.append(reader.lostAt)
            case.net.run_until(reader.logout())
            case.net.run_until(reader.lost)
            port.stopListening()

        result = run_inner(inner)
        self.assertEqual(outcome, [None])
        self.assertEqual(len(result.failures), 1)
        [(_, failure)] = result.failures + result.errors
        assert isinstance(failure, Failure)
        text = failure.getErrorMessage()
        self.assertIn("scheduled work on the global reactor", text)
        self.assertIn(
            "1. delayed call: IMAP4Server.__timedOut, cancelled before it ran", text
        )
        self.assertIn("through twisted/protocols/policies.py:", text)
        self.assertIn("protocol.callLater = net.callLater", text)

    def test_fetchWithoutAScheduler(self) -> None:
        """
        A server without C{scheduler=}: the login and C{SELECT} are
        answered, but a C{FETCH} of the flags waits for a C{callLater(0)} of
        C{iterateInReactor} on the global reactor before it writes anything,
        and the L{Deadlock} names that call and the fix.
        """
        stand_in_global_reactor(self)
        lines: list[list[bytes]] = []

        def inner(case: MemoryNetworkTestCase) -> None:
            port = serve(case.net, PostOffice(), scheduler=False)
            case.addCleanup(port.stopListening)
            reader = open_inbox(case.net, port)
            lines.append(reader.lines)
            case.net.run_until(reader.fetchFlags("1"))

        [(_, failure)] = run_inner(inner).errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(Deadlock))
        self.assertEqual(lines[0][-1], b"0003 OK [READ-WRITE] SELECT successful")
        text = failure.getErrorMessage()
        self.assertIn("Work waiting on the global reactor", text)
        self.assertIn("delayed call: iterateInReactor.<locals>.go, due in 0.0 s", text)
        self.assertIn("through twisted/mail/imap4.py:", text)
        self.assertIn("IMAP4Server(scheduler=net.cooperator().coiterate)", text)
