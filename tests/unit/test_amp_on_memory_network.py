"""
Unmodified C{twisted.protocols.amp} over L{MemoryNetwork}: commands in both
directions, many calls in flight, large and unicode arguments, declared and
undeclared errors, and a connection lost with calls outstanding -- each
under the default delivery (each write whole), one-byte chunking and random
chunking (from the network's seed).  AMP takes no reactor: endpoints on the
network are all it needs.
"""

from __future__ import annotations

from typing import ClassVar

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import (
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    connectProtocol,
)
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, connectionDone
from twisted.protocols import amp
from twisted.python.failure import Failure

from poetry.testing import (
    ONE_BYTE,
    MemoryNetworkTestCase,
    RandomSizes,
)
from tests.unit.test_testing_support import ChunkedScenarios, port_number


class Overdrawn(Exception):
    """
    A declared error of L{Withdraw}.
    """


class Sum(amp.Command):
    arguments: ClassVar[list[tuple[bytes, amp.Argument]]] = [
        (b"a", amp.Integer()),
        (b"b", amp.Integer()),
    ]
    response: ClassVar[list[tuple[bytes, amp.Argument]]] = [(b"total", amp.Integer())]


class Echo(amp.Command):
    arguments: ClassVar[list[tuple[bytes, amp.Argument]]] = [
        (b"text", amp.Unicode()),
        (b"blob", amp.String()),
    ]
    response: ClassVar[list[tuple[bytes, amp.Argument]]] = [
        (b"text", amp.Unicode()),
        (b"blob", amp.String()),
    ]


class Withdraw(amp.Command):
    arguments: ClassVar[list[tuple[bytes, amp.Argument]]] = [(b"amount", amp.Integer())]
    response: ClassVar[list[tuple[bytes, amp.Argument]]] = [(b"balance", amp.Integer())]
    errors: ClassVar[dict[type[Exception], bytes]] = {Overdrawn: b"OVERDRAWN"}


class Divide(amp.Command):
    arguments: ClassVar[list[tuple[bytes, amp.Argument]]] = [
        (b"numerator", amp.Integer()),
        (b"denominator", amp.Integer()),
    ]
    response: ClassVar[list[tuple[bytes, amp.Argument]]] = [(b"result", amp.Float())]


class Hang(amp.Command):
    arguments: ClassVar[list[tuple[bytes, amp.Argument]]] = []
    response: ClassVar[list[tuple[bytes, amp.Argument]]] = []


class Bank(amp.AMP):
    """
    The server: sums, echoes, a balance that cannot go negative, division
    (undeclared errors), a command that never answers, and a call back to
    the client.
    """

    def __init__(self) -> None:
        super().__init__()
        self.balance = 100
        self.lost: Deferred[None] = Deferred()
        self.reasons: list[Failure] = []

    @Sum.responder
    def sum(self, a: int, b: int) -> dict[str, int]:
        return {"total": a + b}

    @Echo.responder
    def echo(self, text: str, blob: bytes) -> dict[str, object]:
        return {"text": text, "blob": blob}

    @Withdraw.responder
    def withdraw(self, amount: int) -> dict[str, int]:
        if amount > self.balance:
            raise Overdrawn(f"balance is {self.balance}")
        self.balance -= amount
        return {"balance": self.balance}

    @Divide.responder
    def divide(self, numerator: int, denominator: int) -> dict[str, float]:
        return {"result": numerator / denominator}

    @Hang.responder
    def hang(self) -> Deferred[dict[str, object]]:
        return Deferred()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.reasons.append(reason)
        self.lost.callback(None)


class Customer(amp.AMP):
    """
    The client, which also answers L{Sum} (for calls from the server).
    """

    @Sum.responder
    def sum(self, a: int, b: int) -> dict[str, int]:
        return {"total": a + b + 1000}


class _AMPScenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection.
    """

    #: The largest piece a C{dataReceived} may get (L{None}: whole writes).
    largest_piece: ClassVar[int | None] = None
    #: How many 255-byte blocks make the large argument: 255 is 65,025
    #: bytes, near AMP's limit of 65,535 per value.
    blocks: ClassVar[int] = 255

    def setUp(self) -> None:
        super().setUp()
        self.banks: list[Bank] = []

        def build() -> Bank:
            bank = Bank()
            self.banks.append(bank)
            return bank

        endpoint = TCP4ServerEndpoint(self.net, 0, interface="127.0.0.1")
        port = self.net.run_until(endpoint.listen(Factory.forProtocol(build)))
        self.addCleanup(port.stopListening)
        client = TCP4ClientEndpoint(self.net, "127.0.0.1", port_number(port))
        self.customer = self.net.run_until(connectProtocol(client, Customer()))
        self.addCleanup(self.hang_up)

    def hang_up(self) -> None:
        transport = self.customer.transport
        if transport is not None and transport.connected:
            transport.loseConnection()
            self.net.advance(0)

    def test_manyCallsInFlight(self) -> None:
        """
        Fifty calls sent at once come back with the right answers, each to
        its own caller.
        """
        calls = [self.customer.callRemote(Sum, a=i, b=i * i) for i in range(50)]
        answers = self.net.run_until(gatherResults(calls))
        self.assertEqual(
            [answer["total"] for answer in answers], [i + i * i for i in range(50)]
        )

    def test_largeAndUnicodeArguments(self) -> None:
        """
        Large values (near AMP's 65,535-byte limit; 16 KiB with one-byte
        chunking, which takes a step per byte) and non-ASCII text arrive
        intact both ways, in the pieces the chunking policy makes.
        """
        blob = bytes(range(255)) * self.blocks
        text = "Ünïcödé ✓ " * 100
        answer = self.net.run_until(
            self.customer.callRemote(Echo, text=text, blob=blob)
        )
        self.assertEqual((answer["text"], answer["blob"]), (text, blob))
        pieces = [
            int(event.detail.split()[0])
            for event in self.net.trace
            if event.kind == "deliver"
        ]
        if self.largest_piece is None:
            self.assertGreater(max(pieces), len(blob))
        else:
            self.assertLessEqual(max(pieces), self.largest_piece)

    def test_declaredError(self) -> None:
        """
        A declared error reaches the caller as its own exception type; the
        connection stays usable.
        """
        self.net.run_until(self.customer.callRemote(Withdraw, amount=60))
        error = self.assertRaises(
            Overdrawn,
            self.net.run_until,
            self.customer.callRemote(Withdraw, amount=60),
        )
        self.assertEqual(str(error), "balance is 40")
        answer = self.net.run_until(self.customer.callRemote(Withdraw, amount=40))
        self.assertEqual(answer, {"balance": 0})

    def test_undeclaredError(self) -> None:
        """
        An undeclared error reaches the caller as L{amp.UnknownRemoteError};
        the server logs it and, as AMP does with an error nobody handled,
        drops the connection (orderly).
        """
        answered = self.customer.callRemote(Divide, numerator=1, denominator=4)
        failed = self.customer.callRemote(Divide, numerator=1, denominator=0)
        # Both answers may arrive in one read (as on loopback TCP): the
        # error must have its errback before then, or AMP drops it.
        errors: list[Failure] = []
        failed.addErrback(errors.append)
        self.assertEqual(self.net.run_until(answered), {"result": 0.25})
        self.net.run_until(failed)
        self.assertEqual([error.type for error in errors], [amp.UnknownRemoteError])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        [bank] = self.banks
        self.net.run_until(bank.lost)
        self.assertTrue(bank.reasons[0].check(ConnectionDone))

    def test_serverCallsClient(self) -> None:
        """
        Commands go both ways on one connection.
        """
        [bank] = self.banks
        answer = self.net.run_until(bank.callRemote(Sum, a=1, b=2))
        self.assertEqual(answer, {"total": 1003})

    def test_lostWithCallsOutstanding(self) -> None:
        """
        When the connection closes with a call unanswered, the call fails
        with the reason of the loss, and the server sees an orderly close.
        """
        pending = self.customer.callRemote(Hang)
        self.net.advance(0)
        assert self.customer.transport is not None
        self.customer.transport.loseConnection()
        self.assertRaises(ConnectionDone, self.net.run_until, pending)
        [bank] = self.banks
        self.net.run_until(bank.lost)
        self.assertTrue(bank.reasons[0].check(ConnectionDone))


class DefaultDeliveryAMPTests(_AMPScenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteAMPTests(_AMPScenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE
    largest_piece = 1
    blocks = 64


class RandomChunkingAMPTests(_AMPScenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 300)
    largest_piece = 300
