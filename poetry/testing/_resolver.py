"""
The name resolver of a L{MemoryNetwork}: a host map, no DNS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
)
from twisted.logger import Logger
from zope.interface import implementer

if TYPE_CHECKING:
    from poetry.testing._network import MemoryNetwork

__all__ = ["HostMapResolver"]

_log = Logger()


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
    Resolve names with a L{MemoryNetwork}'s host map (IPv4 literals resolve to
    themselves).  C{resolutionBegan} is called at once; the address (if any)
    and C{resolutionComplete} follow in a later step.  An unknown name
    completes with no address, which
    L{HostnameEndpoint<twisted.internet.endpoints.HostnameEndpoint>} reports as
    L{DNSLookupError<twisted.internet.error.DNSLookupError>}.
    """

    def __init__(self, net: MemoryNetwork) -> None:
        self._net = net

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
            address = self._net.resolve_name(hostName)
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

        self._net._ready.append(complete)
        return resolution
