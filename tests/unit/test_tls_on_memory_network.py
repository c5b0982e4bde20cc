"""
TLS over L{MemoryNetwork}, with unmodified Twisted on top: C{SSL4ServerEndpoint}
and C{SSL4ClientEndpoint}, C{serverFromString(net, "ssl:...")},
C{wrapClientTLS}, C{clientFromString(net, "tls:...")}, C{startTLS} on a
line protocol and through AMP's C{StartTLS} command, handshake failures,
and C{Agent} fetching C{https://} from a L{Site} behind
C{SSL4ServerEndpoint} -- each under the default delivery (each write
whole), one-byte chunking and random chunking (from the network's seed).

Certificates are made when the tests run (L{CertificateAuthority}, once per
process).  Nothing is adapted to the harness beyond injecting the network
where Twisted takes a reactor or clock.  C{Agent} over C{https} and
C{clientFromString(net, "tls:...")} build their TLS factory without a clock
(so on the global reactor): L{TLSGuardTests} shows the guard catching that,
and the scenarios use the documented fix, L{route_global_tls_clock}.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, ClassVar

from OpenSSL import SSL
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import (
    SSL4ClientEndpoint,
    SSL4ServerEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    clientFromString,
    connectProtocol,
    serverFromString,
    wrapClientTLS,
    wrapServerTLS,
)
from twisted.internet.interfaces import (
    IListeningPort,
    IReactorSSL,
    ISSLTransport,
    ITLSTransport,
)
from twisted.internet.protocol import (
    ClientFactory,
    Factory,
    Protocol,
    ServerFactory,
    connectionDone,
)
from twisted.internet.ssl import CertificateOptions, optionsForClientTLS
from twisted.protocols import amp
from twisted.protocols.basic import LineReceiver
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import Agent, HTTPConnectionPool, readBody
from twisted.web.resource import Resource
from twisted.web.server import Request, Site
from zope.interface.verify import verifyObject

from poetry.testing import (
    ONE_BYTE,
    CertificateAuthority,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
    MemoryTransport,
    RandomSizes,
    RunUntilTimeout,
    route_global_tls_clock,
)
from poetry.testing._tls import TLS_EXTRA
from tests.unit.test_testing_guard import stand_in_global_reactor
from tests.unit.test_testing_support import (
    ChunkedScenarios,
    port_number,
    run_document_example,
)

_AUTHORITIES: dict[str, CertificateAuthority] = {}


def authority(name: str = "unit-test CA") -> CertificateAuthority:
    """
    A certificate authority made once per process (C{"untrusted CA"}: one
    that no client here trusts).
    """
    found = _AUTHORITIES.get(name)
    if found is None:
        found = _AUTHORITIES[name] = CertificateAuthority(name)
    return found


def _message(failure: object) -> str:
    """
    The message of a failure a L{TestResult} recorded.
    """
    assert isinstance(failure, Failure), failure
    return failure.getErrorMessage()


def client_factory(protocol: Protocol) -> ClientFactory[Any]:
    """
    A client factory whose one protocol is C{protocol}.
    """
    factory: ClientFactory[Any] = ClientFactory()
    factory.buildProtocol = lambda addr: protocol  # type: ignore[method-assign]
    return factory


def openssl_reasons(failure: Failure) -> list[str]:
    """
    The reason strings of an C{OpenSSL.SSL.Error}.
    """
    assert isinstance(failure.value, SSL.Error), failure
    return [str(entry[2]) for entry in failure.value.args[0]]


class Echo(Protocol):
    """
    Echo every byte.
    """

    def dataReceived(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)


class Collector(Protocol):
    """
    Write C{message} when connected (in pieces of at most 10,000 bytes),
    close once as many bytes came back, and fire C{lost} with C{(received,
    reason)}.
    """

    def __init__(self, message: bytes = b"") -> None:
        self.message = message
        self.received = b""
        self.lost: Deferred[tuple[bytes, Failure]] = Deferred()

    def connectionMade(self) -> None:
        assert self.transport is not None
        message = self.message
        self.transport.writeSequence(
            [message[i : i + 10_000] for i in range(0, len(message), 10_000)]
        )

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if self.message and len(self.received) >= len(self.message):
            assert self.transport is not None
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback((self.received, reason))


class StartTLSServer(LineReceiver):
    """
    A line server: C{STARTTLS} is answered C{GO} and upgrades to TLS (as the
    TLS server); any other line comes back as C{echo <line>}, with whether
    the transport is secure.
    """

    delimiter = b"\n"

    def __init__(self, options: Any) -> None:
        self.options = options
        self.lost: Deferred[tuple[Failure]] = Deferred()

    def lineReceived(self, line: bytes) -> None:
        assert self.transport is not None
        if line == b"STARTTLS":
            self.sendLine(b"GO")
            self.transport.startTLS(self.options)  # type: ignore[attr-defined]
        else:
            secure = b"secure" if ISSLTransport.providedBy(self.transport) else b"plain"
            self.sendLine(b"echo " + line + b" " + secure)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback((reason,))


class StartTLSClient(LineReceiver):
    """
    Say C{before}, then C{STARTTLS}; on C{GO} upgrade (as the TLS client)
    and say C{after}; close once both echoes are in.
    """

    delimiter = b"\n"

    def __init__(self, options: Any) -> None:
        self.options = options
        self.lines: list[bytes] = []
        self.lost: Deferred[list[bytes]] = Deferred()

    def connectionMade(self) -> None:
        self.sendLine(b"before")
        self.sendLine(b"STARTTLS")

    def lineReceived(self, line: bytes) -> None:
        assert self.transport is not None
        self.lines.append(line)
        if line == b"GO":
            self.transport.startTLS(self.options)  # type: ignore[attr-defined]
            self.sendLine(b"after")
        elif line.startswith(b"echo after"):
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback(self.lines)


class Body(Resource):
    isLeaf = True
    body = bytes(range(256)) * 32  # 8 KiB

    def render_GET(self, request: Request) -> bytes:
        secure = b"secure" if request.isSecure() else b"plain"
        request.setHeader(b"x-transport", secure)
        return self.body


class _TLSScenarios(ChunkedScenarios):
    """
    The scenarios, mixed into a L{MemoryNetworkTestCase}; subclasses choose
    the chunking of every connection (and how much to send through it).
    """

    #: The bytes the echo scenario sends (one-byte chunking takes a step,
    #: and a TLS read, per byte).
    payload_size: ClassVar[int] = 256 * 1024

    def listen(self, factory: Any) -> IListeningPort:
        endpoint = SSL4ServerEndpoint(
            self.net, 0, authority().server_options(), interface="127.0.0.1"
        )
        port: IListeningPort = self.net.run_until(endpoint.listen(factory))
        self.addCleanup(port.stopListening)
        return port

    def test_endpointsEcho(self) -> None:
        """
        C{SSL4ClientEndpoint} to C{SSL4ServerEndpoint}: the payload goes
        through TLS and comes back intact; both ends close cleanly, and the
        TCP transport under each end carried ciphertext only.
        """
        port = self.listen(Factory.forProtocol(Echo))
        payload = bytes(range(256)) * (self.payload_size // 256)
        client = Collector(payload)
        endpoint = SSL4ClientEndpoint(
            self.net,
            "localhost",
            port_number(port),
            authority().client_options("localhost"),
        )
        self.net.run_until(connectProtocol(endpoint, client))
        (transport,) = [c for c, _ in self.net.open_connections()]
        received, reason = self.net.run_until(client.lost)
        self.assertEqual(received, payload)
        self.assertIsInstance(reason.value, connectionDone.type)
        wire = transport.written()
        self.assertGreater(len(wire), len(payload))
        self.assertNotIn(payload[:64], wire)

    def test_serverFromString(self) -> None:
        """
        C{serverFromString(net, "ssl:...")} listens with the key and
        certificate read from a file (written by the test); a client
        wrapped with C{wrapClientTLS(..., clock=net)} over a
        L{TCP4ClientEndpoint} talks to it.
        """
        certificate = authority().issue("localhost")
        pem = FilePath(self.mktemp())
        pem.setContent(certificate.dumpPEM())
        endpoint = serverFromString(
            self.net, f"ssl:0:interface=127.0.0.1:privateKey={pem.path}"
        )
        port = self.net.run_until(endpoint.listen(Factory.forProtocol(Echo)))
        self.addCleanup(port.stopListening)
        client = Collector(b"from a string")
        tcp = TCP4ClientEndpoint(self.net, "127.0.0.1", port_number(port))
        tls = wrapClientTLS(
            authority().client_options("localhost"), tcp, clock=self.net
        )
        self.net.run_until(connectProtocol(tls, client))
        received, _ = self.net.run_until(client.lost)
        self.assertEqual(received, b"from a string")

    def test_wrapServerTLS(self) -> None:
        """
        C{wrapServerTLS(..., clock=net)} over a L{TCP4ServerEndpoint}
        serves an C{SSL4ClientEndpoint}; a client certificate the server
        requires (issued by the same authority) is checked, and the server
        sees it.
        """
        ca = authority()
        server_options = CertificateOptions(
            privateKey=ca.issue("localhost").privateKey.original,
            certificate=ca.issue("localhost").original,
            verify=True,
            caCerts=[ca.certificate.original],
            requireCertificate=True,
        )
        peers: list[str] = []

        class Checking(Echo):
            def connectionMade(self) -> None:
                self.checked = False

            def dataReceived(self, data: bytes) -> None:
                if not self.checked:
                    self.checked = True
                    transport: Any = self.transport
                    x509 = transport.getPeerCertificate().to_cryptography()
                    peers.append(x509.subject.rfc4514_string())
                super().dataReceived(data)

        endpoint = wrapServerTLS(
            server_options,
            TCP4ServerEndpoint(self.net, 0, interface="127.0.0.1"),
            clock=self.net,
        )
        port = self.net.run_until(endpoint.listen(Factory.forProtocol(Checking)))
        self.addCleanup(port.stopListening)
        client_options = optionsForClientTLS(
            "localhost",
            trustRoot=ca.certificate,
            clientCertificate=ca.issue("a client"),
        )
        client = Collector(b"with a certificate")
        self.net.run_until(
            connectProtocol(
                SSL4ClientEndpoint(
                    self.net, "localhost", port_number(port), client_options
                ),
                client,
            )
        )
        received, _ = self.net.run_until(client.lost)
        self.assertEqual(received, b"with a certificate")
        self.assertEqual(peers, ["CN=a client"])
        anonymous = Collector(b"without one")
        self.net.run_until(
            connectProtocol(
                SSL4ClientEndpoint(
                    self.net,
                    "localhost",
                    port_number(port),
                    ca.client_options("localhost"),
                ),
                anonymous,
            )
        )
        received, reason = self.net.run_until(anonymous.lost)
        self.assertEqual(received, b"")
        self.assertTrue(any("certificate" in text for text in openssl_reasons(reason)))

    def test_clientFromString(self) -> None:
        """
        C{clientFromString(net, "tls:...")} (which builds its TLS factory
        without a clock: L{route_global_tls_clock} routes it to the
        network) connects to a C{listenSSL} port, trusting the CA read from
        a directory.
        """
        self.addCleanup(route_global_tls_clock(self.net))
        port = self.net.listenSSL(
            0, Factory.forProtocol(Echo), authority().server_options(), 50, "127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        roots = FilePath(self.mktemp())
        roots.makedirs()
        roots.child("ca.pem").setContent(authority().certificate.dumpPEM())
        endpoint = clientFromString(
            self.net,
            f"tls:localhost:{port_number(port)}:trustRoots={roots.path}",
        )
        client = Collector(b"from a client string")
        self.net.run_until(connectProtocol(endpoint, client))
        received, _ = self.net.run_until(client.lost)
        self.assertEqual(received, b"from a client string")

    def test_startTLS(self) -> None:
        """
        A line protocol upgrades with C{startTLS}: the lines before travel
        in the clear, the line after through TLS (the server sees a secure
        transport); the server's C{GO}, written just before its
        C{startTLS}, arrives in the clear before the handshake.
        """
        server = StartTLSServer(authority().server_options())
        port = self.net.listenTCP(
            0, Factory.forProtocol(lambda: server), interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        client = StartTLSClient(authority().client_options("localhost"))
        endpoint = TCP4ClientEndpoint(self.net, "127.0.0.1", port_number(port))
        self.net.run_until(connectProtocol(endpoint, client))
        lines = self.net.run_until(client.lost)
        self.assertEqual(lines, [b"echo before plain", b"GO", b"echo after secure"])
        (reason,) = self.net.run_until(server.lost)
        self.assertIsInstance(reason.value, connectionDone.type)

    def test_ampStartTLS(self) -> None:
        """
        AMP's C{StartTLS} command upgrades an AMP connection (both ends call
        C{transport.startTLS}); a command after it runs over TLS.
        """
        certificate = authority().issue("localhost")

        class Server(amp.AMP):
            @amp.StartTLS.responder
            def start_tls(self) -> dict[str, Any]:
                return {"tls_localCertificate": certificate}

            @Secure.responder
            def secure(self) -> dict[str, bool]:
                return {"secure": ISSLTransport.providedBy(self.transport)}

        port = self.net.listenTCP(0, Factory.forProtocol(Server), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        endpoint = TCP4ClientEndpoint(self.net, "127.0.0.1", port_number(port))
        client = self.net.run_until(connectProtocol(endpoint, amp.AMP()))
        self.net.run_until(
            client.callRemote(
                amp.StartTLS, tls_verifyAuthorities=[authority().certificate]
            )
        )
        answer = self.net.run_until(client.callRemote(Secure))
        self.assertEqual(answer, {"secure": True})
        self.assertTrue(ISSLTransport.providedBy(client.transport))
        client.transport.loseConnection()
        self.net.advance(0)

    def test_untrustedServer(self) -> None:
        """
        A client that does not trust the server's CA fails the handshake:
        its protocol gets OpenSSL's "certificate verify failed", the
        server's gets the client's "unknown ca" alert; nothing is delivered.
        """
        server = Collector()
        port = self.listen(Factory.forProtocol(lambda: server))
        client = Collector(b"never delivered")
        endpoint = SSL4ClientEndpoint(
            self.net,
            "localhost",
            port_number(port),
            authority("untrusted CA").client_options("localhost"),
        )
        self.net.run_until(connectProtocol(endpoint, client))
        received, reason = self.net.run_until(client.lost)
        self.assertEqual(received, b"")
        self.assertIn("certificate verify failed", openssl_reasons(reason))
        received, reason = self.net.run_until(server.lost)
        self.assertEqual(received, b"")
        self.assertIn("tlsv1 alert unknown ca", openssl_reasons(reason))

    def test_agentHTTPS(self) -> None:
        """
        C{Agent(net)} fetches C{https://localhost:PORT/} from a L{Site}
        behind C{SSL4ServerEndpoint}: status, the body, a secure request on
        the server; a persistent pool reuses the TLS connection.
        """
        self.addCleanup(route_global_tls_clock(self.net))
        port = self.listen(Site(Body(), reactor=self.net))
        pool = HTTPConnectionPool(self.net, persistent=True)
        agent = Agent(self.net, contextFactory=authority().https_policy(), pool=pool)
        url = b"https://localhost:%d/" % (port_number(port),)
        for _ in range(2):
            response = self.net.run_until(agent.request(b"GET", url))
            self.assertEqual(response.code, 200)
            self.assertEqual(
                response.headers.getRawHeaders(b"x-transport"), [b"secure"]
            )
            self.assertEqual(self.net.run_until(readBody(response)), Body.body)
        accepted = sum(event.kind == "accept" for event in self.net.trace)
        self.assertEqual(accepted, 1)
        self.net.run_until(pool.closeCachedConnections())
        self.net.advance(0)
        self.assertEqual(self.net.open_connections(), [])


class Secure(amp.Command):
    """
    Whether the responder's transport is secure.
    """

    arguments: ClassVar[list[tuple[bytes, amp.Argument]]] = []
    response: ClassVar[list[tuple[bytes, amp.Argument]]] = [(b"secure", amp.Boolean())]


class DefaultDeliveryTLSTests(_TLSScenarios, MemoryNetworkTestCase):
    """
    The scenarios with each write delivered whole.
    """


class OneByteTLSTests(_TLSScenarios, MemoryNetworkTestCase):
    """
    The scenarios with every byte delivered on its own.
    """

    chunking = ONE_BYTE
    payload_size = 8 * 1024


class RandomChunkingTLSTests(_TLSScenarios, MemoryNetworkTestCase):
    """
    The scenarios with writes cut at random (from the network's seed).
    """

    chunking = RandomSizes(1, 700)
    payload_size = 64 * 1024


class InterfaceTests(MemoryNetworkTestCase):
    """
    The network and its host reactors provide L{IReactorSSL}; transports
    provide L{ITLSTransport}, and after C{startTLS} L{ISSLTransport} with
    the TLS connection as their handle, as on the real reactor.
    """

    def test_reactorSSL(self) -> None:
        """
        L{MemoryNetwork} and L{HostReactor<poetry.testing.HostReactor>}
        provide every method of L{IReactorSSL}.
        """
        self.net.add_host("a", "10.0.0.1")
        self.assertTrue(verifyObject(IReactorSSL, self.net))
        self.assertTrue(verifyObject(IReactorSSL, self.net.host("a")))

    def connected(self) -> tuple[MemoryTransport, MemoryTransport]:
        port = self.net.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        endpoint = TCP4ClientEndpoint(self.net, "127.0.0.1", port_number(port))
        self.net.run_until(connectProtocol(endpoint, Collector()))
        [(client, server)] = self.net.open_connections()
        assert server is not None
        return client, server

    def test_transportBeforeAndAfterStartTLS(self) -> None:
        """
        A transport provides L{ITLSTransport}; C{startTLS} makes it provide
        L{ISSLTransport}, its C{TLS} flag true, and C{getHandle()} the
        OpenSSL connection instead of the socket; after the connection is
        lost, C{getHandle()} is L{None} (Twisted's TLS protocol let go of
        it).
        """
        client, server = self.connected()
        self.assertTrue(verifyObject(ITLSTransport, client))
        self.assertFalse(ISSLTransport.providedBy(client))
        self.assertFalse(client.TLS)
        socket = client.getHandle()
        server.startTLS(authority().server_options())
        client.startTLS(authority().client_options("localhost"))
        self.assertTrue(ISSLTransport.providedBy(client))
        self.assertTrue(client.TLS)
        self.assertIsInstance(client, MemoryTransport)
        self.assertIsInstance(client.getHandle(), SSL.Connection)
        self.assertIsNot(client.getHandle(), socket)
        self.net.advance(0)
        self.assertEqual(
            client.getPeerCertificate()  # type: ignore[attr-defined]
            .to_cryptography()
            .subject.rfc4514_string(),
            "CN=localhost",
        )
        client.loseConnection()
        self.net.advance(0)
        self.assertIsNone(client.getHandle())
        self.assertEqual(self.net.open_connections(), [])

    def test_plainTransportsKeepTheirClass(self) -> None:
        """
        Only a transport that started TLS changes class (to Twisted's
        C{_newtls.ConnectionMixin} over its own): the other end, and every
        plain connection, keep a C{write} without any TLS test.
        """
        client, server = self.connected()
        plain = type(server)
        client.startTLS(authority().client_options("localhost"))
        self.assertIs(type(server), plain)
        self.assertIsNot(type(client), type(client).__mro__[-2])
        self.assertIs(type(server).write, MemoryTransport.write)
        self.assertIsNot(type(client).write, MemoryTransport.write)
        client.abortConnection()
        self.net.advance(0)

    def test_hostReactorConnectSSL(self) -> None:
        """
        A host's C{connectSSL} binds the client end to that host, and its
        C{listenSSL} listens on it, with TLS on top.
        """
        self.net.add_host("client.example", "10.0.0.1")
        self.net.add_host("server.example", "10.0.0.2")
        server_host = self.net.host("server.example")
        client_host = self.net.host("client.example")
        peers: list[object] = []

        class Peer(Echo):
            def connectionMade(self) -> None:
                assert self.transport is not None
                peers.append(self.transport.getPeer())

        port = server_host.listenSSL(
            0, Factory.forProtocol(Peer), authority().server_options("10.0.0.2")
        )
        self.addCleanup(port.stopListening)
        client = Collector(b"from a host")
        factory = client_factory(client)
        client_host.connectSSL(
            "10.0.0.2",
            port_number(port),
            factory,
            authority().client_options("10.0.0.2"),
        )
        received, _ = self.net.run_until(client.lost)
        self.assertEqual(received, b"from a host")
        [peer] = peers
        assert isinstance(peer, IPv4Address)
        self.assertEqual(peer.host, "10.0.0.1")


class DeterminismTests(SynchronousTestCase):
    """
    TLS bytes are random, but their lengths are not: with certificates from
    L{CertificateAuthority}, the trace of a TLS scenario is the same for one
    seed, whatever the keys.
    """

    def run_scenario(self, seed: int) -> Any:
        ca = CertificateAuthority("fresh CA")
        net = MemoryNetwork(seed, link=LinkConditions(chunking=RandomSizes(1, 300)))
        port = net.listenSSL(
            0, Factory.forProtocol(Echo), ca.server_options(), interface="127.0.0.1"
        )
        clients = [Collector(b"x" * (1000 * n)) for n in range(1, 4)]
        for client in clients:
            net.connectSSL(
                "localhost",
                port_number(port),
                client_factory(client),
                ca.client_options("localhost"),
            )
        for client in clients:
            net.run_until(client.lost)
        stopped = port.stopListening()
        assert stopped is not None
        net.run_until(stopped)
        net.assert_clean()
        return net.trace

    def test_sameSeedSameTrace(self) -> None:
        """
        Two runs with one seed and different keys record the same trace
        (every write and delivery of the same size, at the same step).
        """
        first = self.run_scenario(7)
        self.assertEqual(first, self.run_scenario(7))
        self.assertTrue(any(event.kind == "deliver" for event in first))


class CertificateAuthorityTests(SynchronousTestCase):
    """
    L{CertificateAuthority} issues certificates for host names and
    addresses, cached per authority.
    """

    def test_issueCaches(self) -> None:
        """
        The same names give the same certificate; other names another one,
        whose subject is the first name, issued by the authority.
        """
        ca = authority()
        first = ca.issue("localhost", "127.0.0.1")
        self.assertIs(ca.issue("localhost", "127.0.0.1"), first)
        other = ca.issue("example.com")
        self.assertIsNot(other, first)
        x509 = other.original.to_cryptography()
        self.assertEqual(x509.subject.rfc4514_string(), "CN=example.com")
        self.assertEqual(x509.issuer.rfc4514_string(), "CN=unit-test CA")
        self.assertIn("unit-test CA", repr(ca))

    def test_issueNeedsAName(self) -> None:
        """
        A certificate for no name is refused.
        """
        self.assertRaises(ValueError, authority().issue)


class TLSGuardTests(MemoryNetworkTestCase):
    """
    A L{TLSMemoryBIOFactory} built without a clock takes the global reactor
    as its clock: the handshake completes, but every write of the
    application waits for a C{callLater(0)} there.  The guard names it and
    the fix.
    """

    def setUp(self) -> None:
        super().setUp()
        self.global_reactor = stand_in_global_reactor(self)

    def test_agentWithoutRouting(self) -> None:
        """
        C{Agent} over C{https} without L{route_global_tls_clock}: the
        handshake completes but the request never leaves -- its flush waits
        for a C{callLater(0)} on the global reactor.  Waited for with a
        virtual timeout (shorter than the L{Site}'s idle timeout, which would
        otherwise end the wait with C{ResponseNeverReceived}), the
        L{RunUntilTimeout} names that delayed call, the line of the test that
        led to it, the TLS module it went through and the fix; the guard
        cancels it.
        """
        before = list(self.global_reactor.getDelayedCalls())

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                endpoint = SSL4ServerEndpoint(
                    self.net, 0, authority().server_options(), interface="127.0.0.1"
                )
                port = self.net.run_until(
                    endpoint.listen(Site(Body(), reactor=self.net))
                )
                self.addCleanup(port.stopListening)
                agent = Agent(self.net, contextFactory=authority().https_policy())
                url = b"https://localhost:%d/" % (port_number(port),)
                self.net.run_until(agent.request(b"GET", url), timeout=10)

        result = TestResult()
        Inner("test_inner").run(result)
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(RunUntilTimeout))
        text = str(failure)
        self.assertEqual(text.count("Work waiting on the global reactor"), 1)
        self.assertIn(
            "delayed call: _AggregateSmallWrites._scheduledFlush, due in", text
        )
        self.assertIn("in test_inner", text)
        self.assertIn("through twisted/protocols/tls.py:", text)
        self.assertIn("route_global_tls_clock(self.net)", text)
        self.assertEqual(list(self.global_reactor.getDelayedCalls()), before)

    def test_writesThatWorkByAccident(self) -> None:
        """
        A client wrapped with C{wrapClientTLS} without a clock writes and
        closes at once: its write is flushed by the close, so the exchange
        works, but only by accident (the flush was scheduled on the global
        reactor, then cancelled by the close before it could run).  The
        guard fails the test all the same, naming the call as cancelled
        before it ran, and the fix.
        """

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                server = Collector()
                port = self.net.listenSSL(
                    0,
                    Factory.forProtocol(lambda: server),
                    authority().server_options(),
                    interface="127.0.0.1",
                )
                self.addCleanup(port.stopListening)
                tcp = TCP4ClientEndpoint(self.net, "127.0.0.1", port_number(port))
                tls = wrapClientTLS(authority().client_options("localhost"), tcp)

                class WriteAndClose(Protocol):
                    lost: Deferred[None] = Deferred()

                    def connectionMade(self) -> None:
                        assert self.transport is not None
                        self.transport.write(b"by accident")
                        self.transport.loseConnection()

                    def connectionLost(self, reason: Failure = connectionDone) -> None:
                        self.lost.callback(None)

                client = WriteAndClose()
                self.net.run_until(connectProtocol(tls, client))
                received, _ = self.net.run_until(server.lost)
                assert received == b"by accident", received
                self.net.run_until(client.lost)

        result = TestResult()
        Inner("test_inner").run(result)
        self.assertEqual(result.errors, [])
        [(_, failure)] = result.failures
        text = _message(failure)
        self.assertIn("scheduled work on the global reactor", text)
        self.assertIn(
            "delayed call: _AggregateSmallWrites._scheduledFlush, cancelled before "
            "it ran",
            text,
        )
        self.assertIn("wrapClientTLS(..., clock=net)", text)

    def test_factoryWithoutClock(self) -> None:
        """
        A L{TLSMemoryBIOFactory} made by the test without C{clock=}, whose
        echo never leaves the server: the guard fails the test, naming the
        fix (C{clock=net}).
        """

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                factory = TLSMemoryBIOFactory(
                    authority().server_options(), False, Factory.forProtocol(Echo)
                )
                port = self.net.listenTCP(0, factory, interface="127.0.0.1")
                self.addCleanup(port.stopListening)
                client = Collector(b"stuck")
                self.net.connectSSL(
                    "127.0.0.1",
                    port_number(port),
                    client_factory(client),
                    authority().client_options("localhost"),
                )
                self.net.run()
                client.transport.abortConnection()  # type: ignore[union-attr]
                self.net.run_until(client.lost)
                # The server end too, before the guard cancels its flush.
                self.net.run()

        result = TestResult()
        Inner("test_inner").run(result)
        self.assertEqual(result.errors, [])
        [(_, failure)] = result.failures
        text = _message(failure)
        self.assertIn("scheduled work on the global reactor", text)
        self.assertIn("TLSMemoryBIOFactory(..., clock=net)", text)

    def test_ownCancelledCallIsNotReported(self) -> None:
        """
        A delayed call the test's own code schedules on the global reactor
        and cancels itself before it runs is the test's business: unlike one
        a library cancelled, the guard does not report it.
        """
        global_reactor = self.global_reactor

        class Inner(MemoryNetworkTestCase):
            def test_inner(self) -> None:
                global_reactor.callLater(5, lambda: None).cancel()

        result = TestResult()
        Inner("test_inner").run(result)
        self.assertTrue(result.wasSuccessful())

    def test_routingRestores(self) -> None:
        """
        The function L{route_global_tls_clock} returns puts Twisted's
        default clock back.
        """
        from twisted.protocols import tls

        original = tls._get_default_clock
        restore = route_global_tls_clock(self.net)
        self.assertIs(tls._get_default_clock(), self.net)
        factory = TLSMemoryBIOFactory(
            authority().server_options(), False, ServerFactory()
        )
        self.assertIs(factory._clock, self.net)
        restore()
        self.assertIs(tls._get_default_clock, original)


class OptionalTLSTests(SynchronousTestCase):
    """
    TLS is an optional extra: without pyOpenSSL, C{poetry.testing} imports
    and plain TCP works, the network does not claim L{IReactorSSL}, and
    using TLS raises an L{ImportError} naming the extra.
    """

    def test_withoutPyOpenSSL(self) -> None:
        """
        In a fresh interpreter where C{OpenSSL} cannot be imported: the
        import works, a plain connection works, L{IReactorSSL} and
        L{ITLSTransport} are not claimed, and C{listenSSL},
        C{CertificateAuthority()} and C{route_global_tls_clock} raise the
        L{ImportError} naming the extra.
        """
        code = r"""
import sys
sys.modules["OpenSSL"] = None
from twisted.internet.interfaces import IReactorSSL, ITLSTransport
from twisted.internet.protocol import Factory, Protocol
import poetry.testing as t
from poetry.testing._tls import TLS_EXTRA
net = t.MemoryNetwork(seed=1)
print("IReactorSSL", IReactorSSL.providedBy(net))
print("ITLSTransport", ITLSTransport.implementedBy(t.MemoryTransport))
port = net.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
for name, call in [
    ("listenSSL", lambda: net.listenSSL(0, Factory(), None)),
    ("CertificateAuthority", t.CertificateAuthority),
    ("route", lambda: t.route_global_tls_clock(net)),
]:
    try:
        call()
    except ImportError as e:
        print(name, str(e) == TLS_EXTRA)
port.stopListening()
net.run()
net.assert_clean()
print("plain TCP fine")
"""
        root = os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
        environment = dict(os.environ, PYTHONPATH=root)
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=environment,
            cwd=root,
            timeout=120,
            check=False,
        )
        self.assertEqual(result.stderr, "")
        self.assertEqual(
            result.stdout.splitlines(),
            [
                "IReactorSSL False",
                "ITLSTransport False",
                "listenSSL True",
                "CertificateAuthority True",
                "route True",
                "plain TCP fine",
            ],
        )
        self.assertIn("twisted-poetry-harness[tls]", TLS_EXTRA)

    def test_startTLSWithoutPyOpenSSL(self) -> None:
        """
        C{startTLS} and C{connectSSL} raise the same L{ImportError} when
        Twisted's TLS module cannot be imported, and leave the connection
        as it was.
        """
        net = MemoryNetwork(seed=1)
        port = net.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
        endpoint = TCP4ClientEndpoint(net, "127.0.0.1", port_number(port))
        client = Collector(b"")
        net.run_until(connectProtocol(endpoint, client))
        [(transport, _)] = net.open_connections()
        original = sys.modules["twisted.protocols.tls"]
        self.addCleanup(sys.modules.__setitem__, "twisted.protocols.tls", original)
        sys.modules["twisted.protocols.tls"] = None  # type: ignore[assignment]
        with self.assertRaises(ImportError) as caught:
            transport.startTLS(object())
        self.assertEqual(str(caught.exception), TLS_EXTRA)
        with self.assertRaises(ImportError):
            net.connectSSL("127.0.0.1", 1, ClientFactory(), object())
        self.assertFalse(transport.TLS)
        self.assertIsInstance(transport.protocol, Protocol)
        self.assertNotIsInstance(transport.protocol, TLSMemoryBIOFactory.protocol)
        transport.loseConnection()
        stopped = port.stopListening()
        assert stopped is not None
        net.run_until(stopped)
        net.run()
        net.assert_clean()


class DocumentExampleTests(SynchronousTestCase):
    """
    The example of the "TLS and STARTTLS" section of C{docs/testing.md}
    runs, exactly as shown (its own imports included), and passes.
    """

    def test_tls(self) -> None:
        """
        The example's three tests (SSL4 endpoints, STARTTLS on a line
        protocol, C{Agent} over C{https}) pass.
        """
        run_document_example(self, "tls", 3)
