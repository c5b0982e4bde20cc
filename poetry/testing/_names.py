"""
Names: a network's host map (L{HostMap}) and the name resolver built on it
(L{HostMapResolver}); no DNS.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from twisted.internet.abstract import isIPAddress
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
)
from twisted.logger import Logger
from zope.interface import implementer

__all__ = ["HostMap", "HostMapResolver"]

_log = Logger()

LOCALHOST = "127.0.0.1"


class HostMap:
    """
    Names and their IPv4 addresses: C{"localhost"} is C{127.0.0.1}, IPv4
    literals stand for themselves, any other name is unknown.
    """

    def __init__(self, hosts: Mapping[str, str] | None = None) -> None:
        self._hosts: dict[str, str] = {"localhost": LOCALHOST}
        # Addresses some host of the network has, besides 127.0.0.0/8.
        self._local: set[str] = set()
        # Every name resolved so far (host map entries and IPv4 literals).
        self._resolved: dict[str, str] = {}
        for name, address in (hosts or {}).items():
            self.add(name, address)

    def add(self, name: str, address: str) -> None:
        """
        Make C{name} resolve to the IPv4 address C{address}.

        @raise ValueError: if C{address} is not an IPv4 address literal.
        """
        if not isIPAddress(address):
            raise ValueError(f"{address!r} is not an IPv4 address")
        self._hosts[name] = address
        self._local.add(address)
        self._resolved.clear()

    def make_local(self, address: str) -> None:
        """
        Make C{address} an address of some host of the network.
        """
        self._local.add(address)

    def is_local(self, address: str) -> bool:
        """
        Whether a socket can be bound to C{address}: a loopback address
        (127.0.0.0/8), C{0.0.0.0}, or an address of a host of the network
        (one in the host map, or one a L{HostReactor} was made for).
        """
        return (
            address.startswith("127.") or address == "0.0.0.0" or address in self._local
        )

    def resolve(self, name: str) -> str | None:
        """
        The IPv4 address C{name} stands for: itself if it is an IPv4
        literal, its entry in the host map, or L{None}.
        """
        address = self._resolved.get(name)
        if address is not None:
            return address
        address = self._hosts.get(name)
        if address is None and isIPAddress(name):
            address = name
        if address is not None:
            self._resolved[name] = address
        return address


@implementer(IHostResolution)
class _Resolution:
    """
    One resolution in progress.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.cancelled = False

    def cancel(self) -> None:
        """
        Report no addresses when the lookup completes.
        """
        self.cancelled = True


@implementer(IHostnameResolver)
class HostMapResolver:
    """
    Resolve names with a L{HostMap} (IPv4 literals resolve to themselves).
    C{resolutionBegan} is called at once; the address (if any) and
    C{resolutionComplete} follow in a later step.  An unknown name
    completes with no address, which L{HostnameEndpoint} reports as
    L{DNSLookupError}.
    """

    def __init__(
        self, resolve: Callable[[str], str | None], ready: deque[Callable[[], object]]
    ) -> None:
        self._resolve = resolve
        self._ready = ready

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """
        See L{IHostnameResolver.resolveHostName}.
        """
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        wants_ipv4 = addressTypes is None or IPv4Address in addressTypes
        kind: Literal["TCP", "UDP"] = "UDP" if transportSemantics == "UDP" else "TCP"

        def complete() -> None:
            address = self._resolve(hostName)
            try:
                if address is not None and wants_ipv4 and not resolution.cancelled:
                    resolutionReceiver.addressResolved(
                        IPv4Address(kind, address, portNumber)
                    )
                resolutionReceiver.resolutionComplete()
            except Exception:
                _log.failure(
                    "resolution receiver {receiver} raised", receiver=resolutionReceiver
                )

        self._ready.append(complete)
        return resolution
