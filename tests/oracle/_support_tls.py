"""
Helpers of the C{tls} scenario family: certificates made when the scenarios
run, a recording protocol that also records the TLS handshake and the
OpenSSL reasons of a TLS failure, a protocol that upgrades a plaintext
connection with C{startTLS} on a command line, and C{listenSSL} /
C{connectSSL} in the recording world.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import (
    IConnector,
    IHandshakeListener,
    IListeningPort,
    ISSLTransport,
)
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.testing import CertificateAuthority
from tests.oracle._world import Peer, World

__all__ = [
    "QuietTLSPeer",
    "StartTLSPeer",
    "TLSPeer",
    "authority",
    "connectSSL",
    "listenSSL",
    "otherAuthority",
    "tlsClientFactory",
    "tlsServerFactory",
    "tlsTransport",
]

_AUTHORITIES: dict[str, CertificateAuthority] = {}


def _authority(name: str) -> CertificateAuthority:
    found = _AUTHORITIES.get(name)
    if found is None:
        found = _AUTHORITIES[name] = CertificateAuthority(name)
    return found


def authority() -> CertificateAuthority:
    """
    The CA of the scenarios (made once per process): it issues the server's
    certificate, and clients trust it.
    """
    return _authority("oracle CA")


def otherAuthority() -> CertificateAuthority:
    """
    A CA that nobody trusts (made once per process).
    """
    return _authority("untrusted CA")


def tlsReasons(reason: Failure) -> str | None:
    """
    The OpenSSL reason strings of a failure from OpenSSL (C{SSL.Error}), or
    the message of a certificate verification error; L{None} otherwise.
    """
    from OpenSSL import SSL

    value = reason.value
    if isinstance(value, SSL.Error):
        errors = value.args[0] if value.args else []
        return "; ".join(
            str(entry[2])
            if isinstance(entry, tuple) and len(entry) == 3
            else str(entry)
            for entry in errors
        )
    if type(value).__module__.startswith("service_identity"):
        return type(value).__name__
    return None


@implementer(IHandshakeListener)
class TLSPeer(Peer):
    """
    A L{Peer} that also records C{("name", "handshake")} when its TLS
    handshake completes (running the C{handshake} hook), and, when it is
    lost for a TLS reason, C{("name", "tlsError", reasons)} before the
    C{lost} event.
    """

    def __init__(
        self,
        world: World,
        name: str,
        *,
        handshake: Any = None,
        **hooks: Any,
    ) -> None:
        super().__init__(world, name, **hooks)
        self._handshake = handshake

    def handshakeCompleted(self) -> None:
        self.world.record(self.name, "handshake")
        if self._handshake is not None:
            self._handshake(self)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        reasons = tlsReasons(reason)
        if reasons is not None:
            self.world.record(self.name, "tlsError", reasons)
        super().connectionLost(reason)


class QuietTLSPeer(TLSPeer):
    """
    A L{TLSPeer} that keeps what it receives without logging it (for big
    transfers, whose cutting into reads the log must not depend on); its
    C{data} hook still runs.
    """

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if self._data is not None:
            self._data(self, data)
        self.world._changed()


class StartTLSPeer(TLSPeer):
    """
    A L{TLSPeer} speaking plaintext lines until it reads the line
    C{command}; then it runs C{upgrade(peer)} (which calls C{startTLS}) and
    hands whatever followed the line in the same read to the TLS layer.
    Plaintext lines are recorded as C{("name", "line", line)}; bytes after
    the upgrade are recorded as L{Peer} does (decrypted, so the log holds no
    random TLS bytes).
    """

    def __init__(
        self,
        world: World,
        name: str,
        *,
        command: bytes,
        upgrade: Any,
        **hooks: Any,
    ) -> None:
        super().__init__(world, name, **hooks)
        self._command = command
        self._upgrade = upgrade
        self._plain = b""
        self.upgraded = False

    def dataReceived(self, data: bytes) -> None:
        if self.upgraded:
            super().dataReceived(data)
            return
        self._plain += data
        while b"\n" in self._plain and not self.upgraded:
            line, self._plain = self._plain.split(b"\n", 1)
            self.world.record(self.name, "line", line)
            if line == self._command:
                self.upgraded = True
                self._upgrade(self)
                rest, self._plain = self._plain, b""
                if rest:
                    assert self.transport is not None
                    self.transport.protocol.dataReceived(rest)  # type: ignore[attr-defined]  # the TLS protocol startTLS installed


def tlsTransport(peer: Peer) -> Any:
    """
    C{peer}'s transport, for C{startTLS} and the other TLS methods.
    """
    return peer.transport


def noteTLS(w: World, peer: Peer) -> None:
    """
    Note whether C{peer}'s transport provides L{ISSLTransport}, the type of
    its C{getHandle()} and the common name of the peer's certificate.
    """
    transport: Any = peer.transport
    w.note(peer.name, "ISSLTransport", ISSLTransport.providedBy(transport))
    w.note(peer.name, "handle", type(transport.getHandle()).__name__)
    certificate = transport.getPeerCertificate()
    w.note(
        peer.name,
        "peerCertificate",
        None
        if certificate is None
        else certificate.to_cryptography().subject.rfc4514_string(),
    )


def _build(w: World, side: str, cls: type[TLSPeer], hooks: dict[str, Any]) -> Any:
    def build(factory: Any, addr: object) -> TLSPeer:
        peer = cls(w, f"{side}{w._next(side)}", **hooks)
        peer.factory = factory
        return peer

    return build


def tlsServerFactory(w: World, cls: type[TLSPeer] = TLSPeer, **hooks: Any) -> Any:
    """
    A recording server factory building C{cls} peers (C{s1}, ...).
    """
    return w.serverFactory(build=_build(w, "s", cls, hooks))


def tlsClientFactory(
    w: World, cls: type[TLSPeer] = TLSPeer, factoryHooks: Any = None, **hooks: Any
) -> Any:
    """
    A recording client factory building C{cls} peers (C{c1}, ...).
    """
    return w.clientFactory(build=_build(w, "c", cls, hooks), **(factoryHooks or {}))


def listenSSL(
    w: World, options: Any = None, cls: type[TLSPeer] = TLSPeer, **hooks: Any
) -> IListeningPort:
    """
    C{listenSSL} on 127.0.0.1, port 0, with a certificate for C{localhost}
    issued by L{authority} (or C{options}), building C{cls} peers with
    C{hooks}.
    """
    if options is None:
        options = authority().server_options()
    port: IListeningPort = w.reactor.listenSSL(
        0, tlsServerFactory(w, cls, **hooks), options, interface=w.interface
    )
    w.ports.append(port)
    w.namePort(port)
    return port


def connectSSL(
    w: World,
    port: IListeningPort,
    options: Any = None,
    cls: type[TLSPeer] = TLSPeer,
    **hooks: Any,
) -> IConnector:
    """
    C{connectSSL} to C{port} at C{localhost} trusting L{authority} (or with
    C{options}), building C{cls} peers with C{hooks}.
    """
    if options is None:
        options = authority().client_options("localhost")
    connector: IConnector = w.reactor.connectSSL(
        "localhost",
        w.portNumber(port),
        tlsClientFactory(w, cls, **hooks),
        options,
    )
    w.connectors.append(connector)
    return connector
