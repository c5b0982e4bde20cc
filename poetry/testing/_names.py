"""
Names: a network's host map (L{HostMap}) and the name resolver built on it
(L{HostMapResolver}); no DNS.

A name stands for one or more addresses, IPv4 or IPv6, in the order given
(as C{/etc/hosts} and C{getaddrinfo} would list them).  The two resolvers a
real reactor has see them as the real ones do:

  - C{IReactorCore.resolve} and C{connectTCP(name, ...)} look names up with
    C{gethostbyname}, which knows IPv4 only: they get the name's first IPv4
    address (see L{HostMap.resolve});
  - the L{IHostnameResolver} (C{reactor.nameResolver}, which
    L{HostnameEndpoint<twisted.internet.endpoints.HostnameEndpoint>} uses)
    reports every address of the wanted families, as C{getaddrinfo} does
    (see L{HostMapResolver}).

IPv6 literals are written the way the C library writes them
(C{inet_ntop}): C{"0:0::1"} is C{"::1"}.  Scope identifiers
(C{"fe80::1%eth0"}) and IPv4-mapped addresses (C{"::ffff:127.0.0.1"}) are not
addresses of any host of the network.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
)
from twisted.logger import Logger
from zope.interface import implementer

__all__ = [
    "ANY4",
    "ANY6",
    "LOCALHOST",
    "LOCALHOST6",
    "HostMap",
    "HostMapResolver",
    "ip_family",
    "known_host",
    "normalize_ipv6",
]

_log = Logger()

LOCALHOST = "127.0.0.1"
LOCALHOST6 = "::1"
ANY4 = "0.0.0.0"
ANY6 = "::"


def normalize_ipv6(literal: str) -> str | None:
    """
    An IPv6 literal as the C library writes it (C{"0:0::1"} -> C{"::1"}),
    or L{None} if it is not one the network models (not IPv6, or with a
    scope identifier).
    """
    try:
        packed = socket.inet_pton(socket.AF_INET6, literal)
        return socket.inet_ntop(socket.AF_INET6, packed)
    except (OSError, ValueError, TypeError):
        return None


def ip_family(host: str) -> int:
    """
    4 for an IPv4 literal, 6 for an IPv6 literal, 0 for anything else (a
    name).
    """
    if isIPAddress(host):
        return 4
    if isIPv6Address(host):
        return 6
    return 0


def known_host(
    resolve: Callable[[str], str | None], name: str, literals: str = "an IP address"
) -> str:
    """
    The address C{resolve} gives the host C{name}: how a fault, partition
    or datagram rule names its target.

    @param literals: what an address literal is here, for the messages
        (C{"an IPv4 address"} where only IPv4 is modelled).
    @raise TypeError: if C{name} is not a string.
    @raise ValueError: if C{resolve} does not know C{name}.
    """
    if not isinstance(name, str):
        raise TypeError(f"a host is a name or {literals}, not {name!r}")
    address = resolve(name)
    if address is None:
        raise ValueError(
            f"unknown host {name!r}: not {literals} nor in the host map "
            "(net.add_host(name, address))"
        )
    return address


class HostMap:
    """
    Names and their addresses: C{"localhost"} is C{127.0.0.1} (as in this
    machine's C{/etc/hosts}), IPv4 and IPv6 literals stand for themselves,
    any other name is unknown.
    """

    def __init__(self, hosts: Mapping[str, str | Sequence[str]] | None = None) -> None:
        self._hosts: dict[str, tuple[str, ...]] = {"localhost": (LOCALHOST,)}
        # Addresses some host of the network has, besides 127.0.0.0/8 and ::1.
        self._local: set[str] = set()
        # Every name resolved so far (host map entries and literals).
        self._resolved: dict[str, str | None] = {}
        for name, addresses in (hosts or {}).items():
            if isinstance(addresses, str):
                self.add(name, addresses)
            else:
                self.add(name, *addresses)

    def add(self, name: str, address: str, *more: str) -> None:
        """
        Make C{name} stand for C{address} and C{more} (IPv4 or IPv6
        literals), in that order, instead of what it stood for.

        @raise ValueError: if an address is not an IPv4 or IPv6 literal.
        """
        addresses = tuple(self._literal(one) for one in (address, *more))
        self._hosts[name] = addresses
        self._local.update(addresses)
        self._resolved.clear()

    @staticmethod
    def _literal(address: str) -> str:
        if isinstance(address, str) and isIPAddress(address):
            return address
        normal = normalize_ipv6(address) if isinstance(address, str) else None
        if normal is None or normal.startswith("::ffff:"):
            raise ValueError(f"{address!r} is not an IPv4 or IPv6 address")
        return normal

    def make_local(self, address: str) -> None:
        """
        Make C{address} an address of some host of the network.
        """
        self._local.add(address)

    def is_local(self, address: str) -> bool:
        """
        Whether a socket can be bound to C{address}: a loopback address
        (127.0.0.0/8, C{::1}), a wildcard (C{0.0.0.0}, C{::}), or an
        address of a host of the network (one in the host map, or one a
        L{HostReactor} was made for).
        """
        return (
            address.startswith("127.")
            or address in (ANY4, LOCALHOST6, ANY6)
            or address in self._local
        )

    def resolve(self, name: str) -> str | None:
        """
        The address C{name} stands for in the stack: itself if it is an IP
        literal (an IPv6 one as the C library writes it), else its first
        IPv4 address in the host map (as C{gethostbyname} sees names), or
        L{None}.
        """
        address = self._resolved.get(name)
        if address is not None or name in self._resolved:
            return address
        entries = self._hosts.get(name)
        if entries is not None:
            address = next((one for one in entries if ":" not in one), None)
        elif isIPAddress(name):
            address = name
        elif isIPv6Address(name):
            address = normalize_ipv6(name)
            if address is None:
                # A scoped literal: the network has no such interface.
                return None
        if address is not None or entries is not None:
            self._resolved[name] = address
        return address

    def addresses(self, name: str) -> tuple[str, ...]:
        """
        Every address C{name} stands for, in order: its host map entries,
        or the literal itself.
        """
        entries = self._hosts.get(name)
        if entries is not None:
            return entries
        if isIPAddress(name):
            return (name,)
        normal = normalize_ipv6(name) if isIPv6Address(name) else None
        return (normal,) if normal is not None else ()


def host_text(name: str | bytes) -> str:
    """
    A host name or literal as the host map and the stack hold it: the C
    library's calls (C{getaddrinfo}, C{connect}) take L{bytes} as well as
    L{str}, and so does the real reactor (a name that is not ASCII stands
    for nothing).
    """
    if isinstance(name, bytes):
        return name.decode("ascii", "replace")
    return name


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
    Resolve names with a L{HostMap}, as Twisted's C{GAIResolver} resolves
    them with C{getaddrinfo}: every address of the name, in order, as an
    L{IPv4Address} or an L{IPv6Address} (flow info and scope 0), of the
    families C{addressTypes} asks for (both when L{None}).  IP literals
    resolve to themselves.  C{resolutionBegan} is called at once; the
    addresses and C{resolutionComplete} follow in a later step.  An unknown
    name completes with no address, which
    L{HostnameEndpoint<twisted.internet.endpoints.HostnameEndpoint>} reports as
    L{DNSLookupError<twisted.internet.error.DNSLookupError>}.
    """

    def __init__(
        self,
        addresses: Callable[[str], Iterable[str]],
        schedule: Callable[[Callable[[], object]], object],
    ) -> None:
        self._addresses = addresses
        self._schedule = schedule

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
        wants_ipv6 = addressTypes is None or IPv6Address in addressTypes
        kind: Literal["TCP", "UDP"] = "UDP" if transportSemantics == "UDP" else "TCP"

        def complete() -> None:
            try:
                if not resolution.cancelled:
                    for address in self._addresses(host_text(hostName)):
                        if ":" in address:
                            if wants_ipv6:
                                resolutionReceiver.addressResolved(
                                    IPv6Address(kind, address, portNumber)
                                )
                        elif wants_ipv4:
                            resolutionReceiver.addressResolved(
                                IPv4Address(kind, address, portNumber)
                            )
                resolutionReceiver.resolutionComplete()
            except Exception:
                _log.failure(
                    "resolution receiver {receiver} raised", receiver=resolutionReceiver
                )

        self._schedule(complete)
        return resolution
