"""
L{HostReactor}: a view of a L{MemoryNetwork} from one of its hosts.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IConnector,
    IDelayedCall,
    IHostnameResolver,
    IListeningPort,
    IProtocolFactory,
    IReactorPluggableNameResolver,
    IReactorSSL,
    IReactorTCP,
    IReactorTime,
)
from twisted.internet.protocol import ClientFactory
from zope.interface import classImplements, implementer

from poetry.testing._tls import ReactorSSL, tls_available


class _Network(Protocol):
    """
    What a host's reactor uses of its network (public API of
    L{MemoryNetwork}).
    """

    random: Random
    nameResolver: IHostnameResolver

    def resolve_name(self, name: str) -> str | None: ...

    def listenTCP(
        self, port: int, factory: IProtocolFactory, backlog: int, interface: str
    ) -> IListeningPort: ...

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        timeout: float,
        bindAddress: tuple[str, int] | None,
    ) -> IConnector: ...

    def seconds(self) -> float: ...

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> IDelayedCall: ...

    def getDelayedCalls(self) -> list[IDelayedCall]: ...

    def installNameResolver(self, resolver: IHostnameResolver) -> IHostnameResolver: ...

    def resolve(self, name: str, timeout: object = None) -> Deferred[str]: ...


__all__ = ["HostReactor"]


@implementer(IReactorTCP, IReactorTime, IReactorPluggableNameResolver)
class HostReactor(ReactorSSL):
    """
    The reactor of code that runs on one host of a L{MemoryNetwork}
    (L{MemoryNetwork.host}).

    C{connectTCP} binds the client end to this host's address (unless a
    C{bindAddress} is given), so the connection's hosts are this host and
    the destination -- what link conditions between hosts and partitions
    look at.  C{listenTCP} listens on this host's address when the interface
    is C{""}.  C{connectSSL} and C{listenSSL} (with pyOpenSSL) do the same
    with TLS on top.  Time, names and everything else are the network's.

    @ivar network: the network.
    @ivar address: this host's IPv4 address.
    """

    def __init__(self, network: _Network, name: str) -> None:
        address = network.resolve_name(name)
        if address is None or address == "0.0.0.0":
            raise ValueError(
                f"unknown host {name!r}: give an IPv4 address or a name in the "
                "host map (net.add_host(name, address))"
            )
        self.network = network
        self.address = address

    def __repr__(self) -> str:
        return f"<HostReactor {self.address} of {self.network!r}>"

    # IReactorTCP

    def listenTCP(
        self,
        port: int,
        factory: IProtocolFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        """
        C{listenTCP} on this host's address (or C{interface} if given).
        """
        return self.network.listenTCP(port, factory, backlog, interface or self.address)

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        timeout: float = 30.0,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """
        C{connectTCP} from this host: the client end is bound to
        C{(address, 0)} unless C{bindAddress} is given.
        """
        if bindAddress is None:
            bindAddress = (self.address, 0)
        return self.network.connectTCP(host, port, factory, timeout, bindAddress)

    # IReactorTime

    def seconds(self) -> float:
        """
        The network's virtual time.
        """
        return self.network.seconds()

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> IDelayedCall:
        """
        The network's C{callLater}.
        """
        return self.network.callLater(delay, callable, *args, **kw)

    def getDelayedCalls(self) -> list[IDelayedCall]:
        """
        The network's pending timed calls.
        """
        return self.network.getDelayedCalls()

    def resolve(self, name: str, timeout: object = None) -> Deferred[str]:
        """
        The network's C{resolve} (names are the same from every host).
        """
        return self.network.resolve(name, timeout)

    # IReactorPluggableNameResolver

    @property
    def nameResolver(self) -> IHostnameResolver:
        """
        The network's name resolver.
        """
        return self.network.nameResolver

    def installNameResolver(self, resolver: IHostnameResolver) -> IHostnameResolver:
        """
        Install C{resolver} on the network; return the previous one.
        """
        return self.network.installNameResolver(resolver)

    @property
    def random(self) -> Random:
        """
        The network's seeded generator.
        """
        return self.network.random


if tls_available():
    classImplements(HostReactor, IReactorSSL)
