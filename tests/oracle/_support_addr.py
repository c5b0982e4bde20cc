"""
Helpers of the C{unix} and C{ipv6} scenario families: UNIX socket paths that
are the same scenario's on both backends (a temporary directory on the real
reactor, made-up paths on the memory network -- no file is made there) and
named in the log, listening and connecting over UNIX sockets and IPv6, and
addresses written out in full.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IHostResolution,
    IListeningPort,
    IReactorPluggableNameResolver,
    IReactorTCP,
    IReactorTime,
    IResolutionReceiver,
)
from twisted.internet.protocol import ClientFactory, ServerFactory
from zope.interface import implementer

from tests.oracle._world import World

__all__ = [
    "FixedResolver",
    "connect6",
    "connectUNIX",
    "describe",
    "listen6",
    "listenUNIX",
    "socketPath",
    "unixName",
]

# Real runs: one temporary directory per process, one subdirectory per world.
_base: list[str] = []
_directories: weakref.WeakKeyDictionary[World, str] = weakref.WeakKeyDictionary()
# Paths (as bytes) named by the scenario, per world.
_labels: weakref.WeakKeyDictionary[World, dict[bytes, str]] = (
    weakref.WeakKeyDictionary()
)

# A made-up directory for the memory network (nothing is created on disk).
MEMORY_DIRECTORY = "/poetry-oracle"


def _realDirectory(w: World) -> str:
    directory = _directories.get(w)
    if directory is None:
        if not _base:
            # Short: a UNIX socket's path is limited to 107 bytes.
            _base.append(tempfile.mkdtemp(prefix="po-"))
            atexit.register(shutil.rmtree, _base[0], True)
        directory = _directories[w] = tempfile.mkdtemp(dir=_base[0])
    return directory


def unixName(w: World, address: object) -> str | None:
    """
    The name of a UNIX address in the log: C{UNIX:<label>} for a path the
    scenario made with L{socketPath}, C{UNIX:None} and C{UNIX:''} for the
    unnamed addresses, C{UNIX:<other>} for another path (its last part).
    """
    if not isinstance(address, UNIXAddress):
        return None
    name = address.name
    if name is None:
        return "UNIX:None"
    if name == b"":
        return "UNIX:''"
    label = _labels.get(w, {}).get(name)
    if label is None:
        return f"UNIX:<other {os.path.basename(name).decode(errors='replace')}>"
    return f"UNIX:{label}"


def socketPath(w: World, label: str, length: int | None = None) -> str:
    """
    A path for a UNIX socket named C{label} in the log: in a temporary
    directory on the real reactor, under L{MEMORY_DIRECTORY} on the memory
    network.  With C{length}, the path is padded to exactly that many bytes
    (for the length limit).
    """
    if unixName not in w.addressNamers:
        w.addressNamers.append(unixName)
    directory = _realDirectory(w) if w.backend == "real" else MEMORY_DIRECTORY
    path = os.path.join(directory, label)
    if length is not None:
        path += "x" * (length - len(path.encode()))
        assert len(path.encode()) == length
    _labels.setdefault(w, {})[os.fsencode(path)] = label
    return path


def listenUNIX(
    w: World,
    path: str,
    factory: ServerFactory[Any] | None = None,
    *,
    backlog: int = 50,
    wantPID: int = 0,
    **hooks: Any,
) -> IListeningPort:
    """
    C{listenUNIX(path, ...)} with C{factory} or a new recording server
    factory given C{hooks}; the port is stopped at cleanup.
    """
    if factory is None:
        factory = w.serverFactory(**hooks)
    port: IListeningPort = w.reactor.listenUNIX(
        path, factory, backlog=backlog, wantPID=wantPID
    )
    w.ports.append(port)
    return port


def connectUNIX(
    w: World,
    path: str,
    factory: ClientFactory[Any] | None = None,
    *,
    timeout: float = 30,
    checkPID: int = 0,
    **hooks: Any,
) -> IConnector:
    """
    C{connectUNIX(path, ...)} with C{factory} or a new recording client
    factory given C{hooks}.
    """
    if factory is None:
        factory = w.clientFactory(**hooks)
    connector: IConnector = w.reactor.connectUNIX(
        path, factory, timeout=timeout, checkPID=checkPID
    )
    w.connectors.append(connector)
    return connector


def listen6(
    w: World,
    factory: ServerFactory[Any] | None = None,
    *,
    port: int = 0,
    interface: str = "::1",
    **hooks: Any,
) -> IListeningPort:
    """
    C{listenTCP} on an IPv6 C{interface} (C{::1}); its number is named
    C{P<n>} -- on every address it listens on, for C{::}.
    """
    if factory is None:
        factory = w.serverFactory(**hooks)
    listening: IListeningPort = w.reactor.listenTCP(port, factory, interface=interface)
    w.ports.append(listening)
    name = w.namePort(listening)
    number = w.portNumber(listening)
    if interface == "::":
        for host in ("::1", "127.0.0.1", "::ffff:127.0.0.1"):
            w._names[(host, number)] = name
    return listening


def connect6(
    w: World,
    target: IListeningPort | int,
    factory: ClientFactory[Any] | None = None,
    *,
    host: str = "::1",
    timeout: float = 30,
    bindAddress: tuple[str, int] | None = None,
    **hooks: Any,
) -> IConnector:
    """
    C{connectTCP} to C{host} (C{::1}) and C{target}'s number.
    """
    return w.connect(
        target, factory, host=host, timeout=timeout, bindAddress=bindAddress, **hooks
    )


def describe(w: World, address: object) -> str:
    """
    An address in full: its class, its name in the log and, for IPv6, its
    flow info and scope.
    """
    if isinstance(address, IPv6Address):
        return (
            f"IPv6Address({w.addressName(address)}, flowInfo={address.flowInfo!r}, "
            f"scopeID={address.scopeID!r})"
        )
    if isinstance(address, IPv4Address):
        return f"IPv4Address({w.addressName(address)})"
    return w.addressName(address)


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:
        pass


@implementer(IResolutionReceiver)
class Collected:
    """
    A resolution receiver keeping what it was given; C{done} fires at
    C{resolutionComplete}.
    """

    def __init__(self) -> None:
        self.addresses: list[IAddress] = []
        self.done: Deferred[list[IAddress]] = Deferred()

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:
        pass

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.done.callback(self.addresses)


class FixedResolver:
    """
    On the real reactor, what C{getaddrinfo} gives for a name listed in
    C{/etc/hosts} with several addresses -- without changing the machine's
    C{/etc/hosts}: each name's addresses in order, as L{IPv4Address}es and
    L{IPv6Address}es of the wanted families; other names go to the
    reactor's own resolver.  (The memory network's host map is given the
    same entries.)
    """

    def __init__(self, reactor: Any, hosts: Mapping[str, Sequence[str]]) -> None:
        self._reactor = reactor
        self._hosts = hosts

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Any = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        addresses = self._hosts.get(hostName)
        if addresses is None:
            return self._reactor.nameResolver.resolveHostName(  # type: ignore[no-any-return]
                resolutionReceiver,
                hostName,
                portNumber,
                addressTypes,
                transportSemantics,
            )
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def complete() -> None:
            for address in addresses:
                if ":" in address:
                    if addressTypes is None or IPv6Address in addressTypes:
                        resolutionReceiver.addressResolved(
                            IPv6Address("TCP", address, portNumber)
                        )
                elif addressTypes is None or IPv4Address in addressTypes:
                    resolutionReceiver.addressResolved(
                        IPv4Address("TCP", address, portNumber)
                    )
            resolutionReceiver.resolutionComplete()

        # getaddrinfo runs in a thread: the answer comes in a later turn.
        self._reactor.callLater(0, complete)
        return resolution


@implementer(IReactorPluggableNameResolver, IReactorTCP, IReactorTime)
class ResolvingReactor:
    """
    The real reactor with a L{FixedResolver} as its C{nameResolver} (for
    L{twisted.internet.endpoints.HostnameEndpoint}); everything else is the
    reactor's.
    """

    def __init__(self, reactor: Any, hosts: Mapping[str, Sequence[str]]) -> None:
        self._reactor = reactor
        self.nameResolver = FixedResolver(reactor, hosts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reactor, name)
