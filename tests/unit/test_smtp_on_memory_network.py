"""
Unmodified C{twisted.mail.smtp} over L{MemoryNetwork}: an
L{ESMTPSenderFactory} client that requires transport security sends a message
to an L{ESMTP} server, upgrading the connection with C{STARTTLS} (both ends
call C{transport.startTLS}) -- under the default delivery (each write whole),
one-byte chunking and random chunking (from the network's seed).  A server
that offers no C{STARTTLS}, and one whose certificate the client does not
trust, fail the sending as on the real reactor.

The server is Twisted's L{ESMTP}, given the network where it takes a clock:
its idle timeout (L{TimeoutMixin<twisted.protocols.policies.TimeoutMixin>})
schedules with the protocol's C{callLater}, the global reactor's by default;
L{SMTPGuardTests} shows the guard catching that, and the scenarios use the
documented fix (C{protocol.callLater = net.callLater}).
"""

from __future__ import annotations

import io
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime, ISSLTransport
from twisted.mail import smtp
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from zope.interface import implementer

from poetry.testing import (
    ONE_BYTE,
    CertificateAuthority,
    Deadlock,
    MemoryNetworkTestCase,
    RandomSizes,
    route_global_cooperator,
)
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import ChunkedScenarios, port_number
from tests.unit.test_tls_on_memory_network import authority

#: The message, with the local line ending (the client sends CRLF).
MESSAGE = (
    b"From: poet@example.com\n"
    b"To: reader@example.com\n"
    b"Subject: a poem\n"
    b"\n" + b"All work and no play makes a poem a dull poem.\n" * 40
)


@implementer(smtp.IMessage)
class Message:
    """
    A message being received: its lines, then itself in the mailbox.
    """

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.lines: list[bytes] = []

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)

    def eomReceived(self) -> Deferred[bytes]:
        self.mailbox.messages.append(self)
        return succeed(b"stored")

    def connectionLost(self) -> None:
        self.lines = []


@implementer(smtp.IMessageDelivery)
class Mailbox:
    """
    Accept mail from anyone to anyone; note whether the transport was
    secure when each recipient was accepted.
    """

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.secure: list[bool] = []
        self.server: smtp.ESMTP | None = None

    def receivedHeader(self, helo: Any, origin: Any, recipients: Any) -> bytes:
        return b"Received: from the memory network"

    def validateFrom(self, helo: Any, origin: smtp.Address) -> smtp.Address:
        return origin

    def validateTo(self, user: smtp.User) -> Any:
        assert self.server is not None
        self.secure.append(ISSLTransport.providedBy(self.server.transport))
        return lambda: Message(self)


class MailServerFactory(smtp.SMTPFactory):
    """
    Twisted's L{ESMTP} server with C{contextFactory} for C{STARTTLS} (none:
    no C{STARTTLS} offered), delivering to C{mailbox}, its idle timeout on
    C{clock} (unless C{clock} is L{None}: then on the global reactor, as
    L{ESMTP} does by default).
    """

    protocol = smtp.ESMTP

    def __init__(
        self, mailbox: Mailbox, contextFactory: Any, clock: IReactorTime | None
    ) -> None:
        super().__init__()
        self.mailbox = mailbox
        self.contextFactory = contextFactory
        self.clock = clock

    def buildProtocol(self, addr: Any) -> smtp.ESMTP:
        protocol: smtp.ESMTP = super().buildProtocol(addr)
        protocol.ctx = self.contextFactory
        protocol.delivery = self.mailbox
        if self.clock is not None:
            protocol.callLater = self.clock.callLater  # type: ignore[method-assign, assignment]
        self.mailbox.server = protocol
        return protocol


class _SMTPScenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.
    """

    def setUp(self) -> None:
        super().setUp()
        # The client sends DATA with a pull producer (FileSender), which TLS
        # drives with the module-level task.cooperate.
        self.addCleanup(route_global_cooperator(self.net))
        self.mailbox = Mailbox()

    def serve(self, contextFactory: Any) -> int:
        factory = MailServerFactory(self.mailbox, contextFactory, self.net)
        port = self.net.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port_number(port)

    def send(self, port: int, trust: CertificateAuthority) -> Deferred[Any]:
        """
        Send L{MESSAGE} with an L{ESMTPSenderFactory} that requires
        transport security and trusts C{trust}.
        """
        sent: Deferred[Any] = Deferred()
        factory = smtp.ESMTPSenderFactory(
            None,
            None,
            "poet@example.com",
            ["reader@example.com"],
            io.BytesIO(MESSAGE),
            sent,
            retries=0,
            contextFactory=trust.client_options("localhost"),
            requireAuthentication=False,
            requireTransportSecurity=True,
        )
        self.net.connectTCP("127.0.0.1", port, factory)
        return sent

    def test_sendWithSTARTTLS(self) -> None:
        """
        The client upgrades with C{STARTTLS} before it names the recipient,
        sends the message through TLS, and both sides agree it was
        delivered; the connection is closed when the client quits.
        """
        port = self.serve(authority().server_options())
        accepted, recipients = self.net.run_until(self.send(port, authority()))
        self.assertEqual(accepted, 1)
        [(address, code, _)] = recipients
        self.assertEqual((address, code), (b"reader@example.com", 250))
        self.assertEqual(self.mailbox.secure, [True])
        [message] = self.mailbox.messages
        self.assertEqual(message.lines[0], b"Received: from the memory network")
        self.assertEqual(b"\n".join(message.lines[1:]) + b"\n", MESSAGE)
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])

    def test_serverWithoutSTARTTLS(self) -> None:
        """
        A server that offers no C{STARTTLS}: the client, which requires
        transport security, gives up with L{smtp.TLSRequiredError} and sends
        nothing.
        """
        port = self.serve(None)
        self.assertRaises(
            smtp.TLSRequiredError, self.net.run_until, self.send(port, authority())
        )
        self.assertEqual(self.mailbox.messages, [])
        self.net.advance(0)

    def test_untrustedServer(self) -> None:
        """
        A server whose certificate the client does not trust: the upgrade
        fails, and the sending with L{smtp.SMTPConnectError} carrying
        OpenSSL's "certificate verify failed"; nothing is delivered.
        """
        port = self.serve(authority().server_options())
        error = self.assertRaises(
            smtp.SMTPConnectError,
            self.net.run_until,
            self.send(port, authority("untrusted CA")),
        )
        self.assertIn("certificate verify failed", str(error))
        self.assertEqual(self.mailbox.messages, [])
        self.net.advance(0)


class DefaultDeliverySMTPTests(_SMTPScenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteSMTPTests(_SMTPScenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE


class RandomChunkingSMTPTests(_SMTPScenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 300)


class SMTPGuardTests(MemoryNetworkTestCase):
    """
    Without the fixes, L{ESMTP}'s idle timeout is a delayed call on the
    global reactor, and the client's message body -- a pull producer on a TLS
    transport -- a task of the global cooperator: the sending never ends, and
    the report names both and their fixes.
    """

    def test_withoutTheFixes(self) -> None:
        """
        The inner test deadlocks once the client has started its C{DATA}:
        the L{Deadlock} names the cooperative task that would send the body
        (C{_PullToPush._pull}, through Twisted's TLS producer helper) with
        the fix C{route_global_cooperator}, and the server's C{TimeoutMixin}
        timer with the fix C{protocol.callLater = net.callLater}.
        """
        stand_in_global_reactor(self)

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                mailbox = Mailbox()
                factory = MailServerFactory(mailbox, authority().server_options(), None)
                port = self.net.listenTCP(0, factory, interface="127.0.0.1")
                self.addCleanup(port.stopListening)
                sent: Deferred[Any] = Deferred()
                client = smtp.ESMTPSenderFactory(
                    None,
                    None,
                    "poet@example.com",
                    ["reader@example.com"],
                    io.BytesIO(MESSAGE),
                    sent,
                    retries=0,
                    contextFactory=authority().client_options("localhost"),
                    requireAuthentication=False,
                )
                self.net.connectTCP("127.0.0.1", port_number(port), client)
                self.net.run_until(sent)

        result = TestResult()
        Inner("test_inner").run(result)
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(Deadlock))
        text = failure.getErrorMessage()
        self.assertIn("cooperative task: _PullToPush._pull (task.cooperate)", text)
        self.assertIn("route_global_cooperator(self.net)", text)
        self.assertIn("delayed call: ESMTP.__timedOut", text)
        self.assertIn("protocol.callLater = net.callLater", text)
