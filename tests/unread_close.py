"""
A server that closes while the client's bytes are still unread, and a client
endpoint whose protocols send such bytes: the scenario where a fake that
resets on close-with-unread loses the poem the real reactor delivers whole.
Used on the memory network (unit) and on the real reactor (integration).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from zope.interface import implementer

__all__ = ["GREETING", "GreetingEndpoint", "PoemAfterUnreadFactory"]

GREETING = b"hello, is this the poetry server?\r\n"


class _PoemAfterUnread(Protocol):
    """
    Stops reading at once; C{delay} seconds later (the client's greeting has
    arrived and sits unread in the kernel) writes the poem and closes.
    """

    def __init__(self, poem: bytes, clock: IReactorTime, delay: float) -> None:
        self.poem = poem
        self.clock = clock
        self.delay = delay

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.pauseProducing()  # type: ignore[attr-defined]  # TCP transports are push producers
        self.clock.callLater(self.delay, self.send)

    def send(self) -> None:
        assert self.transport is not None
        self.transport.write(self.poem)
        self.transport.loseConnection()


class PoemAfterUnreadFactory(ServerFactory[_PoemAfterUnread]):
    """
    Serves C{poem} with L{_PoemAfterUnread}.
    """

    noisy = False

    def __init__(self, poem: bytes, clock: IReactorTime, delay: float = 0.05) -> None:
        self.poem = poem
        self.clock = clock
        self.delay = delay

    def buildProtocol(self, addr: IAddress | None) -> _PoemAfterUnread:
        return _PoemAfterUnread(self.poem, self.clock, self.delay)


class _Greeting(ProtocolWrapper):
    """
    Sends L{GREETING} as soon as connected, then behaves as the wrapped
    protocol.
    """

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(GREETING)
        super().connectionMade()


@implementer(IStreamClientEndpoint)
class GreetingEndpoint:
    """
    C{wrapped}, with every protocol it connects first sending L{GREETING}.
    """

    def __init__(self, wrapped: IStreamClientEndpoint) -> None:
        self.wrapped = wrapped

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        factory: Any = WrappingFactory(protocolFactory)
        factory.protocol = _Greeting
        d: Deferred[Any] = self.wrapped.connect(factory)
        return d.addCallback(lambda wrapper: wrapper.wrappedProtocol)
