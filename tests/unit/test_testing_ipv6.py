"""
Tests for IPv6 on L{poetry.testing.MemoryNetwork}: the host map's IPv6
entries and the resolver, listening on and connecting to IPv6 addresses, the
port table's rules across families, and IPv6 in the trace, descriptions,
link settings and faults.  What the real reactor does is pinned by the
C{ipv6} family of the differential oracle
(C{tests/oracle/scenarios_ipv6.py}).
"""

from __future__ import annotations

import errno
from typing import Any, cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP6ClientEndpoint,
    TCP6ServerEndpoint,
    connectProtocol,
)
from twisted.internet.error import (
    CannotListenError,
    ConnectBindError,
    ConnectionRefusedError,
    DNSLookupError,
)
from twisted.internet.interfaces import IAddress, IHostResolution, IResolutionReceiver
from twisted.internet.protocol import ServerFactory
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from poetry.testing import LinkConditions, MemoryNetwork, MemoryNetworkTestCase
from poetry.testing._names import HostMap, ip_family, normalize_ipv6
from poetry.testing._ports import PortTable
from tests.unit.test_testing_support import (
    Recorder,
    RecordingClientFactory,
    RecordingServerFactory,
    connect_pair,
    run_document_example,
)


def v6(host: str, port: int) -> IPv6Address:
    return IPv6Address("TCP", host, port)


def number_of(port: Any) -> int:
    return cast(int, port.getHost().port)


@implementer(IResolutionReceiver)
class _Receiver:
    def __init__(self) -> None:
        self.addresses: list[IAddress] = []
        self.complete = False

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:
        self.resolution = resolutionInProgress

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.complete = True


class NamesTests(MemoryNetworkTestCase):
    """
    The host map takes IPv6 entries and several addresses per name.
    """

    def test_literals(self) -> None:
        """
        IPv6 literals are written as the C library writes them; scoped and
        malformed ones are not addresses of the network.
        """
        self.assertEqual(normalize_ipv6("0:0:0:0:0:0:0:1"), "::1")
        self.assertEqual(normalize_ipv6("::FFFF:127.0.0.1"), "::ffff:127.0.0.1")
        self.assertIsNone(normalize_ipv6("fe80::1%lo"))
        self.assertIsNone(normalize_ipv6("1.2.3.4"))
        self.assertEqual(
            [ip_family(h) for h in ("10.0.0.1", "::1", "fe80::1%lo", "host")],
            [4, 6, 6, 0],
        )
        self.assertEqual(self.net.resolve_name("0:0::1"), "::1")
        self.assertIsNone(self.net.resolve_name("fe80::1%lo"))

    def test_severalAddresses(self) -> None:
        """
        A name may stand for IPv6 and IPv4 addresses, in the order given;
        C{resolve_name} (as C{gethostbyname}) gives its first IPv4 one, or
        L{None} if it has none; C{add_host} replaces a name's addresses.
        """
        net = MemoryNetwork(
            seed=1,
            hosts={"dual": ("::1", "127.0.0.2"), "six": "0::1", "four": "10.0.0.1"},
        )
        self.assertEqual(net.resolve_name("dual"), "127.0.0.2")
        self.assertIsNone(net.resolve_name("six"))
        self.assertEqual(net.resolve_name("four"), "10.0.0.1")
        net.add_host("six", "10.0.0.2", "::2")
        self.assertEqual(net.resolve_name("six"), "10.0.0.2")
        names = HostMap({"dual": ["::1", "127.0.0.2"]})
        self.assertEqual(names.addresses("dual"), ("::1", "127.0.0.2"))
        self.assertEqual(names.addresses("::0:1"), ("::1",))
        self.assertEqual(names.addresses("1.2.3.4"), ("1.2.3.4",))
        self.assertEqual(names.addresses("nowhere"), ())
        self.assertEqual(names.addresses("fe80::1%lo"), ())

    def test_badAddresses(self) -> None:
        """
        Host map entries must be IPv4 or IPv6 literals, not IPv4-mapped or
        scoped ones.
        """
        for bad in ("::ffff:1.2.3.4", "fe80::1%lo", "example.org", "1.2.3"):
            self.assertRaises(ValueError, self.net.add_host, "x", bad)
        self.assertRaises(ValueError, self.net.add_host, "x", "::1", "nope")

    def test_resolveIsIPv4Only(self) -> None:
        """
        C{resolve} (C{IReactorCore}, C{gethostbyname}) fails for an IPv6
        literal and a name with IPv6 addresses only.
        """
        self.net.add_host("six", "::1")
        for name in ("::1", "six"):
            d = self.net.resolve(name)
            self.net.run()
            self.failureResultOf(d, DNSLookupError)
        d = self.net.resolve("localhost")
        self.net.run()
        self.assertEqual(self.successResultOf(d), "127.0.0.1")

    def test_resolverAddressTypes(self) -> None:
        """
        The name resolver reports every address of a name, in order, as
        L{IPv6Address}es and L{IPv4Address}es of the families asked for.
        """
        self.net.add_host("dual", "::1", "127.0.0.1")
        rows: list[tuple[Any, list[IAddress]]] = [
            (None, [v6("::1", 80), IPv4Address("TCP", "127.0.0.1", 80)]),
            ([IPv4Address], [IPv4Address("TCP", "127.0.0.1", 80)]),
            ([IPv6Address], [v6("::1", 80)]),
            (
                [IPv4Address, IPv6Address],
                [v6("::1", 80), IPv4Address("TCP", "127.0.0.1", 80)],
            ),
        ]
        for types, expected in rows:
            receiver = _Receiver()
            self.net.nameResolver.resolveHostName(receiver, "dual", 80, types)
            self.assertEqual(receiver.addresses, [])
            self.net.run()
            self.assertEqual((receiver.addresses, receiver.complete), (expected, True))
        receiver = _Receiver()
        self.net.nameResolver.resolveHostName(receiver, "::1", 5, None, "UDP")
        self.net.run()
        self.assertEqual(receiver.addresses, [IPv6Address("UDP", "::1", 5)])

    def test_cancelledResolution(self) -> None:
        """
        A cancelled resolution reports no address, then completes.
        """
        receiver = _Receiver()
        self.net.nameResolver.resolveHostName(receiver, "::1", 80)
        receiver.resolution.cancel()
        self.net.run()
        self.assertEqual((receiver.addresses, receiver.complete), ([], True))


class ListenTests(MemoryNetworkTestCase):
    """
    Listening on IPv6 addresses.
    """

    def test_loopback(self) -> None:
        """
        C{listenTCP(0, interface="::1")} listens; its address is an
        L{IPv6Address} with the allocated port (flow info and scope 0).
        """
        port = self.net.listenTCP(0, ServerFactory(), interface="::1")
        self.addCleanup(port.stopListening)
        self.assertEqual(port.getHost(), IPv6Address("TCP", "::1", 32768, 0, 0))
        self.assertIn("32768", repr(port))

    def test_normalisedAndWildcard(self) -> None:
        """
        A long-form literal listens on its short form; C{::} listens on
        every address.
        """
        long_form = self.net.listenTCP(0, ServerFactory(), interface="0:0:0:0:0:0:0:1")
        self.addCleanup(long_form.stopListening)
        self.assertEqual(cast(Any, long_form.getHost()).host, "::1")
        anywhere = self.net.listenTCP(0, ServerFactory(), interface="::")
        self.addCleanup(anywhere.stopListening)
        self.assertEqual(cast(Any, anywhere.getHost()).host, "::")

    def test_notLocal(self) -> None:
        """
        An IPv6 address no host of the network has, or a scoped one, cannot
        be listened on (C{EADDRNOTAVAIL}); one in the host map can.
        """
        for interface in ("::2", "2001:db8::1", "fe80::1%lo"):
            error = self.assertRaises(
                CannotListenError, self.net.listenTCP, 0, ServerFactory(), 50, interface
            )
            self.assertEqual(
                cast(OSError, error.socketError).errno, errno.EADDRNOTAVAIL
            )
        self.net.add_host("six", "2001:db8::1")
        port = self.net.listenTCP(0, ServerFactory(), interface="2001:db8::1")
        self.addCleanup(port.stopListening)

    def test_portSharing(self) -> None:
        """
        The port table's rules across families (Linux, dual-stack C{::}).
        """
        table = PortTable(self.net)
        rows = [
            ("::1", "127.0.0.1", True),
            ("127.0.0.1", "::1", True),
            ("0.0.0.0", "::1", True),
            ("::1", "0.0.0.0", True),
            ("::", "127.0.0.1", False),
            ("127.0.0.1", "::", False),
            ("::", "0.0.0.0", False),
            ("0.0.0.0", "::", False),
            ("::", "::1", False),
            ("::1", "::", False),
            ("::1", "::1", False),
            ("0.0.0.0", "127.0.0.1", False),
        ]
        for number, (first, second, shared) in enumerate(rows, 1000):
            table.bind_listener(first, number)
            if shared:
                table.bind_listener(second, number)
            else:
                error = self.assertRaises(OSError, table.bind_listener, second, number)
                self.assertEqual(error.errno, errno.EADDRINUSE, (first, second))

    def test_clientConflicts(self) -> None:
        """
        A client socket bound to a port keeps a listener off the addresses
        that cover it: C{::} covers IPv4 clients too, C{0.0.0.0} only IPv4
        ones.
        """
        table = PortTable(self.net)
        table.bind_client("127.0.0.1", 2000)
        table.bind_client("::1", 2001)
        self.assertRaises(OSError, table.bind_listener, "::", 2000)
        self.assertRaises(OSError, table.bind_listener, "0.0.0.0", 2000)
        table.bind_listener("::1", 2000)
        self.assertRaises(OSError, table.bind_listener, "::", 2001)
        table.bind_listener("0.0.0.0", 2001)

    def test_bindAddressAnyHost(self) -> None:
        """
        A client bound to C{("::", port)} connects from that port on the
        destination's address; before it connects its address is C{::}.
        """
        port = self.net.listenTCP(0, RecordingServerFactory(), interface="::1")
        self.addCleanup(port.stopListening)
        factory = RecordingClientFactory()
        connector = self.net.connectTCP(
            "::1", number_of(port), factory, bindAddress=("::", 5555)
        )
        transport = cast(Any, connector).transport
        self.assertEqual(transport.getHost(), IPv6Address("TCP", "::", 5555))
        self.net.run()
        client = factory.protocols[0]
        assert isinstance(client, Recorder)
        self.assertEqual(client.tcp.getHost(), IPv6Address("TCP", "::1", 5555))
        client.tcp.loseConnection()
        self.net.run()

    def test_bindAddressOnAWildcard(self) -> None:
        """
        A client bound to C{("::", port)} of a listening port fails with
        L{ConnectBindError}.
        """
        port = self.net.listenTCP(0, ServerFactory(), interface="::1")
        self.addCleanup(port.stopListening)
        factory = RecordingClientFactory()
        self.net.connectTCP(
            "::1", number_of(port), factory, bindAddress=("::", number_of(port))
        )
        self.net.run()
        self.assertEqual(factory.reasons[0].type, ConnectBindError)


class ConnectTests(MemoryNetworkTestCase):
    """
    Connecting over IPv6.
    """

    def test_addresses(self) -> None:
        """
        An IPv6 connection's ends report L{IPv6Address}es; the client's
        C{addr} and C{realAddress} are Twisted's 4-tuples.
        """
        pair = connect_pair(self.net, interface="::1")
        self.addCleanup(pair.port.stopListening)
        number = number_of(pair.port)
        client, server = pair.client.tcp, pair.server.tcp
        self.assertEqual(client.getPeer(), v6("::1", number))
        self.assertEqual(server.getHost(), v6("::1", number))
        self.assertEqual(server.getPeer(), client.getHost())
        self.assertIsInstance(client.getHost(), IPv6Address)
        self.assertEqual(cast(Any, client).realAddress, ("::1", number, 0, 0))
        self.assertEqual(pair.connector.getDestination(), v6("::1", number))
        self.assertEqual(server.logPrefix(), "Recorder,0,::1")
        client.loseConnection()
        self.net.run()

    def test_dualStack(self) -> None:
        """
        An IPv4 client of a C{::} port: the server end sees IPv4-mapped
        addresses, the client plain IPv4 ones.
        """
        port = self.net.listenTCP(0, RecordingServerFactory(), interface="::")
        self.addCleanup(port.stopListening)
        number = number_of(port)
        factory = RecordingClientFactory()
        self.net.connectTCP("127.0.0.1", number, factory)
        self.net.run()
        client = factory.protocols[0]
        assert isinstance(client, Recorder)
        server = self.net.open_connections()[0][1]
        assert server is not None
        self.assertEqual(client.tcp.getPeer(), IPv4Address("TCP", "127.0.0.1", number))
        self.assertEqual(server.getHost(), v6("::ffff:127.0.0.1", number))
        self.assertEqual(
            server.getPeer(),
            v6("::ffff:127.0.0.1", cast(Any, client.tcp.getHost()).port),
        )
        client.tcp.loseConnection()
        self.net.run()

    def test_familiesDoNotMix(self) -> None:
        """
        An IPv6 client of an IPv4-only port, and an IPv4 client of an
        IPv6-only one, are refused.
        """
        four = self.net.listenTCP(4000, RecordingServerFactory(), interface="0.0.0.0")
        self.addCleanup(four.stopListening)
        six = self.net.listenTCP(6000, RecordingServerFactory(), interface="::1")
        self.addCleanup(six.stopListening)
        for host, port in (("::1", four), ("127.0.0.1", six)):
            factory = RecordingClientFactory()
            self.net.connectTCP(host, number_of(port), factory)
            self.net.run()
            self.assertEqual(factory.reasons[0].type, ConnectionRefusedError)

    def test_allZeros(self) -> None:
        """
        C{connectTCP("::", port)} reaches the port on C{::1}.
        """
        port = self.net.listenTCP(0, RecordingServerFactory(), interface="::1")
        self.addCleanup(port.stopListening)
        factory = RecordingClientFactory()
        self.net.connectTCP("::", number_of(port), factory)
        self.net.run()
        client = factory.protocols[0]
        assert isinstance(client, Recorder)
        self.assertEqual(client.tcp.getPeer(), v6("::", number_of(port)))
        self.assertEqual(cast(Any, client.tcp.getHost()).host, "::1")
        client.tcp.loseConnection()
        self.net.run()

    def test_endpoints(self) -> None:
        """
        C{TCP6ServerEndpoint} and C{TCP6ClientEndpoint} connect.
        """
        factory = RecordingServerFactory()
        port = self.successResultOf(
            TCP6ServerEndpoint(self.net, 0, interface="::1").listen(factory)
        )
        self.addCleanup(port.stopListening)
        client = Recorder()
        d = connectProtocol(
            TCP6ClientEndpoint(self.net, "::1", number_of(port)), client
        )
        self.net.run()
        self.assertIs(self.successResultOf(d), client)
        self.assertIsInstance(client.tcp.getPeer(), IPv6Address)
        client.tcp.loseConnection()
        self.net.run()

    def test_hostnameEndpointFallsBack(self) -> None:
        """
        C{HostnameEndpoint} tries a name's addresses in the host map's
        order: the IPv6 one is refused, the IPv4 one connects.
        """
        self.net.add_host("dual", "::1", "127.0.0.1")
        port = self.net.listenTCP(0, RecordingServerFactory(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        client = Recorder()
        d = connectProtocol(
            HostnameEndpoint(self.net, b"dual", number_of(port)), client
        )
        self.net.run()
        self.successResultOf(d)
        self.assertEqual(
            client.tcp.getPeer(), IPv4Address("TCP", "127.0.0.1", number_of(port))
        )
        refused = [e for e in self.net.trace if e.kind == "refuse"]
        self.assertEqual([e.detail for e in refused], [f"::1:{number_of(port)}"])
        client.tcp.loseConnection()
        self.net.run()

    def test_hostnameEndpointPrefersIPv6(self) -> None:
        """
        When the first address (IPv6) connects, C{HostnameEndpoint} uses
        it.
        """
        self.net.add_host("dual", "::1", "127.0.0.1")
        port = self.net.listenTCP(0, RecordingServerFactory(), interface="::")
        self.addCleanup(port.stopListening)
        client = Recorder()
        d = connectProtocol(
            HostnameEndpoint(self.net, b"dual", number_of(port)), client
        )
        self.net.run()
        self.successResultOf(d)
        self.assertEqual(client.tcp.getPeer(), v6("::1", number_of(port)))
        client.tcp.loseConnection()
        self.net.run()


class InspectionTests(MemoryNetworkTestCase):
    """
    IPv6 in the trace, descriptions, link settings and faults.
    """

    def test_traceAndDescribe(self) -> None:
        """
        IPv6 ends are written C{[host]:port}.
        """
        pair = connect_pair(self.net, interface="::1")
        number = number_of(pair.port)
        client_port = cast(Any, pair.client.tcp.getHost()).port
        text = self.net.describe()
        self.assertIn(f"[::1]:{client_port} (client) <-> [::1]:{number} (server)", text)
        self.assertIn(f"  [::1]:{number} (RecordingServerFactory)", text)
        pair.client.tcp.loseConnection()
        pair.port.stopListening()
        self.net.run()
        details = {
            event.kind: event.detail
            for event in self.net.trace
            if event.kind in ("listen", "accept", "stop-listening")
        }
        self.assertEqual(
            details,
            {
                "listen": f"[::1]:{number}",
                "accept": f"[::1]:{client_port} -> [::1]:{number}",
                "stop-listening": f"[::1]:{number}",
            },
        )

    def test_describeAnAttempt(self) -> None:
        """
        An IPv6 connection attempt is described as C{[host]:port}.
        """
        self.net.set_default_link(LinkConditions(latency=1.0))
        connector = self.net.connectTCP("::1", 4000, RecordingClientFactory())
        self.net.advance(0.5)
        self.assertIn("to [::1]:4000 (RecordingClientFactory)", self.net.describe())
        connector.stopConnecting()

    def test_linkForAnIPv6Listener(self) -> None:
        """
        Link settings and faults take IPv6 listening ports and addresses.
        """
        port = self.net.listenTCP(0, RecordingServerFactory(), interface="::1")
        self.addCleanup(port.stopListening)
        self.net.set_link_for_listener(port, LinkConditions(latency=2.0))
        factory = RecordingClientFactory()
        self.net.connectTCP("::1", number_of(port), factory)
        self.net.run()
        self.assertEqual(self.net.seconds(), 2.0)
        client = factory.protocols[0]
        assert isinstance(client, Recorder)
        self.net.faults.abort(IPv6Address("TCP", "::", number_of(port)))
        self.net.run()
        self.assertTrue(client.events[-1][0] == "lost")


class DocumentExampleTests(SynchronousTestCase):
    """
    The IPv6 example of C{docs/testing.md} runs, as shown, and passes.
    """

    def test_ipv6(self) -> None:
        """
        C{HostnameEndpoint} falls back to IPv4, and a dual-stack port takes
        an IPv4 client.
        """
        run_document_example(self, "ipv6", 2)
