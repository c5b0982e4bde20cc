"""
The TCP contract (L{tests.tcp_contract}) run against
L{poetry.testing.MemoryNetwork}: the fake must show every behaviour the real
reactor shows in C{tests.integration.test_tcp_contract}.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred

from poetry.testing import MemoryNetworkTestCase, MemoryTransport
from tests.tcp_contract import TCPContractMixin, TCPTransport


class MemoryNetworkTCPContractTests(TCPContractMixin, MemoryNetworkTestCase):
    """
    L{TCPContractMixin} on the fresh L{poetry.testing.MemoryNetwork} that
    L{MemoryNetworkTestCase} gives each test.  Each scenario, its cleanups
    included, runs to completion with C{run_until}; virtual time auto-advances,
    so the few "let the world settle" waits cost nothing.  The base class then
    checks at teardown that no port, connection or timer is left, and adds the
    seed (C{POETRY_TEST_SEED}) to any failure.
    """

    def setUp(self) -> None:
        super().setUp()
        self.reactor = self.net

    def drive(self, d: Deferred[None]) -> None:
        """
        Run the network until C{d} fires; raise its failure if it fails.
        """
        self.net.run_until(d)

    def resetPeer(self, transport: TCPTransport) -> None:
        """
        Inject the network's C{reset} fault on C{transport}'s connection: a
        C{RST} to both ends, after the bytes already queued.
        """
        assert isinstance(transport, MemoryTransport), transport
        self.net.faults.reset(transport)
