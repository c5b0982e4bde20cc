"""
The TCP contract (L{tests.tcp_contract}) run against the real reactor on
127.0.0.1, port 0: the truth that C{poetry.testing.MemoryNetwork} must match.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from tests.tcp_contract import TCPContractMixin


class RealReactorTCPContractTests(TCPContractMixin, TestCase):
    """
    L{TCPContractMixin} on the global reactor.  Every scenario's L{Deferred}
    is returned to trial, and every port and connection is closed (both
    sides' C{connectionLost} awaited) in cleanups, so trial's dirty-reactor
    check stays meaningful.
    """

    timeout = 30

    def setUp(self) -> None:
        from twisted.internet import reactor

        self.reactor = reactor

    def drive(self, d: Deferred[None]) -> Deferred[None]:
        """
        Let trial wait for C{d} on the running reactor.
        """
        return d
