"""
The TCP contract (L{tests.tcp_contract}) run against the real reactor on
127.0.0.1, port 0: the truth that C{poetry.testing.MemoryNetwork} must match.
"""

from __future__ import annotations

import socket
import struct

from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from tests.tcp_contract import TCPContractMixin, TCPTransport


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

    def resetPeer(self, transport: TCPTransport) -> None:
        """
        Close the socket with C{SO_LINGER} (1, 0), so that the kernel sends
        a C{RST}: C{abortConnection()} closes without shutting down first
        (C{loseConnection()} would send a C{FIN} before the C{RST}).
        """
        sock: socket.socket = transport.socket  # type: ignore[attr-defined]  # real TCP transports have .socket; ITCPTransport does not declare it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abortConnection()
