"""
Tests for listening, connecting, addresses, names and endpoints on
L{poetry.testing.MemoryNetwork}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from twisted.internet._resolver import HostResolution
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    clientFromString,
    connectProtocol,
    serverFromString,
)
from twisted.internet.error import (
    CannotListenError,
    ConnectBindError,
    ConnectError,
    ConnectionDone,
    ConnectionRefusedError,
    DNSLookupError,
    NotConnectingError,
    UserError,
)
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IReactorPluggableNameResolver,
    IReactorTCP,
    IReactorTime,
    IResolutionReceiver,
)
from twisted.internet.protocol import ServerFactory
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from poetry.testing import MemoryNetwork, MemoryNetworkTestCase
from tests.unit.test_testing_support import (
    Recorder,
    RecordingClientFactory,
    RecordingServerFactory,
    connect_pair,
    port_number,
)


class InterfaceTests(SynchronousTestCase):
    """
    The network provides the reactor interfaces code under test needs.
    """

    def test_providesReactorInterfaces(self) -> None:
        """
        L{MemoryNetwork} provides L{IReactorTCP}, L{IReactorTime} and
        L{IReactorPluggableNameResolver}.
        """
        net = MemoryNetwork(seed=1)
        for interface in (IReactorTCP, IReactorTime, IReactorPluggableNameResolver):
            self.assertTrue(verifyObject(interface, net))


class ListenTests(MemoryNetworkTestCase):
    """
    C{listenTCP} and the listening port.
    """

    def test_portZeroAllocatesDeterministically(self) -> None:
        """
        Port 0 allocates free ports from a counter starting at 32768, the
        same in every network; C{getHost} reports the interface (C{0.0.0.0}
        for C{""}).
        """
        first = self.net.listenTCP(0, ServerFactory())
        second = self.net.listenTCP(0, ServerFactory(), interface="127.0.0.1")
        self.addCleanup(first.stopListening)
        self.addCleanup(second.stopListening)
        self.assertEqual(first.getHost(), IPv4Address("TCP", "0.0.0.0", 32768))
        self.assertEqual(second.getHost(), IPv4Address("TCP", "127.0.0.1", 32769))
        other = MemoryNetwork(seed=2)
        self.assertEqual(port_number(other.listenTCP(0, ServerFactory())), 32768)

    def test_portZeroSkipsTakenPorts(self) -> None:
        """
        Port 0 never hands out a port already taken on that address (by a
        listener on it or on C{0.0.0.0}); counters are kept per address, so
        a port taken on another address does not matter.
        """
        # A host of this network: a socket binds only to a local address.
        self.net.add_host("one.example", "10.0.0.1")
        self.net.add_host("two.example", "10.0.0.2")
        taken = self.net.listenTCP(32768, ServerFactory(), interface="10.0.0.1")
        wildcard = self.net.listenTCP(32769, ServerFactory())
        allocated = self.net.listenTCP(0, ServerFactory(), interface="10.0.0.1")
        elsewhere = self.net.listenTCP(0, ServerFactory(), interface="10.0.0.2")
        for port in (taken, wildcard, allocated, elsewhere):
            self.addCleanup(port.stopListening)
        self.assertEqual(port_number(allocated), 32770)
        self.assertEqual(port_number(elsewhere), 32768)

    def test_listenStartsAndStopListeningStopsFactory(self) -> None:
        """
        C{listenTCP} calls C{doStart}; C{stopListening} returns a
        L{Deferred} fired in the next iteration, when the port closes and
        C{doStop} is called; a call once it has stopped returns L{None}
        (oracle: C{stopListeningTwice}).
        """
        factory = RecordingServerFactory()
        port = self.net.listenTCP(0, factory)
        self.assertEqual(factory.events, [("doStart", None)])
        stopped = cast(Any, port.stopListening())
        self.assertNoResult(stopped)
        self.assertEqual(factory.events, [("doStart", None)])
        self.assertEqual(self.net.listening_ports(), [port])
        self.net.advance(0)
        self.assertIsNone(self.successResultOf(stopped))
        self.assertEqual(factory.events, [("doStart", None), ("doStop", None)])
        self.assertIsNone(port.stopListening())
        self.assertEqual(len(factory.events), 2)
        self.assertEqual(self.net.listening_ports(), [])

    def test_addressInUse(self) -> None:
        """
        Binding a port already bound on an overlapping interface (the same
        one, or either is C{0.0.0.0}) raises L{CannotListenError} naming the
        interface and port; other interfaces may share the port number.
        """
        # A host of this network: a socket binds only to a local address.
        self.net.add_host("one.example", "10.0.0.1")
        self.net.add_host("nine.example", "10.9.9.9")
        port = self.net.listenTCP(8000, ServerFactory(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        for interface in ("127.0.0.1", "", "0.0.0.0"):
            error = self.assertRaises(
                CannotListenError,
                self.net.listenTCP,
                8000,
                ServerFactory(),
                interface=interface,
            )
            self.assertEqual((error.interface, error.port), (interface, 8000))
            self.assertIn("Address already in use", str(error))
        elsewhere = self.net.listenTCP(8000, ServerFactory(), interface="10.0.0.1")
        self.addCleanup(elsewhere.stopListening)
        wildcard = self.net.listenTCP(9000, ServerFactory())
        self.addCleanup(wildcard.stopListening)
        self.assertRaises(
            CannotListenError,
            self.net.listenTCP,
            9000,
            ServerFactory(),
            interface="10.9.9.9",
        )

    def test_portReusableAfterStopListening(self) -> None:
        """
        Once a port has stopped listening (an iteration after
        C{stopListening}) its address can be bound again -- not before
        (oracle: C{listenAgainRightAfterStopListening}) -- and the old port
        object can start listening again when the address is free.
        """
        port = self.net.listenTCP(8000, ServerFactory())
        port.stopListening()
        self.assertRaises(CannotListenError, self.net.listenTCP, 8000, ServerFactory())
        self.net.advance(0)
        again = self.net.listenTCP(8000, ServerFactory())
        self.assertRaises(CannotListenError, port.startListening)
        again.stopListening()
        self.net.advance(0)
        port.startListening()
        self.assertEqual(self.net.listening_ports(), [port])
        port.stopListening()

    def test_badPortsAndInterfaces(self) -> None:
        """
        A port outside 0-65535 raises L{OverflowError} (as on real TCP); an
        interface that is neither a local IP address nor a known name
        raises L{CannotListenError}; a known name binds its address.
        """
        self.assertRaises(OverflowError, self.net.listenTCP, -1, ServerFactory())
        self.assertRaises(OverflowError, self.net.listenTCP, 65536, ServerFactory())
        for interface in ("no.such.host", "::2"):
            self.assertRaises(
                CannotListenError,
                self.net.listenTCP,
                0,
                ServerFactory(),
                interface=interface,
            )
        port = self.net.listenTCP(0, ServerFactory(), interface="localhost")
        self.addCleanup(port.stopListening)
        self.assertEqual(port_number(port), 32768)
        self.assertEqual(port.getHost(), IPv4Address("TCP", "127.0.0.1", 32768))


class ConnectTests(MemoryNetworkTestCase):
    """
    C{connectTCP}, the connector, and what both factories see.
    """

    def listen(self, factory: ServerFactory[Any], interface: str = "") -> int:
        port = self.net.listenTCP(0, factory, interface=interface)
        self.addCleanup(port.stopListening)
        return port_number(port)

    def test_connectStartsSynchronouslyCompletesLater(self) -> None:
        """
        C{connectTCP} calls C{doStart} and C{startedConnecting(connector)}
        before returning; both C{buildProtocol}s and C{connectionMade}s come
        in a later step, the server's first, with real addresses.
        """
        server_factory = RecordingServerFactory()
        number = self.listen(server_factory, "127.0.0.1")
        client_factory = RecordingClientFactory()
        connector = self.net.connectTCP("127.0.0.1", number, client_factory)
        self.assertEqual(
            client_factory.events, [("doStart", None), ("startedConnecting", connector)]
        )
        self.assertEqual(server_factory.events, [("doStart", None)])
        self.net.advance(0)
        client_address = IPv4Address("TCP", "127.0.0.1", 32769)
        server_address = IPv4Address("TCP", "127.0.0.1", number)
        self.assertEqual(server_factory.events[1], ("buildProtocol", client_address))
        self.assertEqual(client_factory.events[2], ("buildProtocol", server_address))
        client = cast(Recorder, client_factory.protocols[0])
        server = cast(Recorder, server_factory.protocols[0])
        self.assertEqual((client.names(), server.names()), (["made"], ["made"]))
        self.assertEqual(client.tcp.getHost(), client_address)
        self.assertEqual(client.tcp.getPeer(), server_address)
        self.assertEqual(server.tcp.getHost(), server_address)
        self.assertEqual(server.tcp.getPeer(), client_address)
        self.assertEqual(connector.getDestination(), server_address)
        client.tcp.loseConnection()

    def test_wildcardListenerAcceptsAnyAddress(self) -> None:
        """
        A port bound to C{0.0.0.0} accepts connections to any address; both
        ends see the address that was connected to, and the client end is on
        that same host.
        """
        server_factory = RecordingServerFactory()
        number = self.listen(server_factory)
        client_factory = RecordingClientFactory()
        self.net.connectTCP("10.1.2.3", number, client_factory)
        self.net.advance(0)
        server = cast(Recorder, server_factory.protocols[0])
        self.assertEqual(server.tcp.getHost(), IPv4Address("TCP", "10.1.2.3", number))
        self.assertEqual(server.tcp.getPeer().host, "10.1.2.3")
        server.tcp.abortConnection()

    def test_specificListenerOnlyAcceptsItsAddress(self) -> None:
        """
        A port bound to one address refuses connections to another.
        """
        # A host of this network: a socket binds only to a local address.
        self.net.add_host("one.example", "10.0.0.1")
        number = self.listen(RecordingServerFactory(), "10.0.0.1")
        client_factory = RecordingClientFactory()
        self.net.connectTCP("127.0.0.1", number, client_factory)
        self.net.run()
        self.assertEqual(
            client_factory.names()[-2:], ["clientConnectionFailed", "doStop"]
        )
        self.assertTrue(client_factory.reasons[0].check(ConnectionRefusedError))

    def test_refused(self) -> None:
        """
        Connecting where nobody listens calls C{clientConnectionFailed} with
        L{ConnectionRefusedError} in a later step, then C{doStop}; the trace
        records the refusal.
        """
        client_factory = RecordingClientFactory()
        self.net.connectTCP("127.0.0.1", 4321, client_factory)
        self.assertEqual(client_factory.names(), ["doStart", "startedConnecting"])
        self.net.advance(0)
        self.assertEqual(
            client_factory.names(),
            ["doStart", "startedConnecting", "clientConnectionFailed", "doStop"],
        )
        reason = client_factory.reasons[0]
        self.assertTrue(reason.check(ConnectionRefusedError))
        self.assertIn("Connection refused", reason.getErrorMessage())
        kinds = [(event.kind, event.detail) for event in self.net.trace]
        self.assertIn(("refuse", "127.0.0.1:4321"), kinds)

    def test_stopConnectingFailsSynchronously(self) -> None:
        """
        C{stopConnecting()} before completion calls C{clientConnectionFailed}
        with L{UserError} and C{doStop} inside the call; nothing connects
        later; once connected, C{stopConnecting} raises L{NotConnectingError}.
        """
        server_factory = RecordingServerFactory()
        number = self.listen(server_factory)
        client_factory = RecordingClientFactory()
        connector = self.net.connectTCP("127.0.0.1", number, client_factory)
        connector.stopConnecting()
        self.assertEqual(
            client_factory.names(),
            ["doStart", "startedConnecting", "clientConnectionFailed", "doStop"],
        )
        self.assertTrue(client_factory.reasons[0].check(UserError))
        self.net.run()
        self.assertEqual(len(server_factory.protocols), 0)
        self.assertRaises(NotConnectingError, connector.stopConnecting)

    def test_connectorRetryAndDisconnect(self) -> None:
        """
        After a failure C{connector.connect()} tries again (to a port that
        now listens); C{disconnect()} then closes the connection cleanly.
        """
        client_factory = RecordingClientFactory()
        connector = self.net.connectTCP("127.0.0.1", 8000, client_factory)
        self.net.run()
        connector.disconnect()  # not connecting, not connected: nothing to do
        port = self.net.listenTCP(8000, RecordingServerFactory())
        self.addCleanup(port.stopListening)
        connector.connect()
        self.assertRaises(RuntimeError, connector.connect)
        self.net.run()
        client = cast(Recorder, client_factory.protocols[0])
        self.assertEqual(client.names(), ["made"])
        connector.disconnect()
        self.net.run()
        self.assertEqual(client.names(), ["made", "lost"])
        self.assertEqual(
            client_factory.names(),
            [
                "doStart",
                "startedConnecting",
                "clientConnectionFailed",
                "doStop",
                "doStart",
                "startedConnecting",
                "buildProtocol",
                "clientConnectionLost",
                "doStop",
            ],
        )

    def test_unknownNameFailsLikeDNS(self) -> None:
        """
        C{connectTCP} to a name not in the host map fails, in a later step,
        with L{DNSLookupError}.
        """
        client_factory = RecordingClientFactory()
        self.net.connectTCP("poems.example", 80, client_factory)
        self.assertEqual(client_factory.reasons, [])
        self.net.run()
        self.assertTrue(client_factory.reasons[0].check(DNSLookupError))
        self.assertIn("poems.example", client_factory.reasons[0].getErrorMessage())

    def test_hostMap(self) -> None:
        """
        Names given to the constructor or to C{add_host} resolve to their
        addresses; C{localhost} is 127.0.0.1; a bad address is rejected.
        """
        net = MemoryNetwork(seed=1, hosts={"poems.example": "10.0.0.7"})
        net.add_host("verse.example", "10.0.0.8")
        self.assertEqual(net.resolve_name("poems.example"), "10.0.0.7")
        self.assertEqual(net.resolve_name("verse.example"), "10.0.0.8")
        self.assertEqual(net.resolve_name("localhost"), "127.0.0.1")
        self.assertEqual(net.resolve_name("192.0.2.1"), "192.0.2.1")
        self.assertIsNone(net.resolve_name("nowhere.example"))
        self.assertRaises(ValueError, net.add_host, "bad.example", "not-an-ip")
        self.assertRaises(ValueError, MemoryNetwork, 1, hosts={"x": "10.0.0"})

    def test_connectByName(self) -> None:
        """
        C{connectTCP} with a mapped name connects to its address.
        """
        self.net.add_host("poems.example", "10.0.0.7")
        server_factory = RecordingServerFactory()
        number = self.listen(server_factory, "10.0.0.7")
        client_factory = RecordingClientFactory()
        self.net.connectTCP("poems.example", number, client_factory)
        self.net.advance(0)
        client = cast(Recorder, client_factory.protocols[0])
        self.assertEqual(client.tcp.getPeer(), IPv4Address("TCP", "10.0.0.7", number))
        client.tcp.loseConnection()

    def test_bindAddress(self) -> None:
        """
        C{bindAddress} sets the client end's address; binding an address in
        use fails with L{ConnectBindError}.
        """
        server_factory = RecordingServerFactory()
        number = self.listen(server_factory)
        first = RecordingClientFactory()
        self.net.connectTCP("127.0.0.1", number, first, bindAddress=("127.0.0.1", 5555))
        self.net.advance(0)
        bound = IPv4Address("TCP", "127.0.0.1", 5555)
        self.assertEqual(cast(Recorder, first.protocols[0]).tcp.getHost(), bound)
        self.assertEqual(server_factory.events[-1], ("buildProtocol", bound))
        second = RecordingClientFactory()
        self.net.connectTCP(
            "127.0.0.1", number, second, bindAddress=("127.0.0.1", 5555)
        )
        self.net.advance(0)
        self.assertTrue(second.reasons[0].check(ConnectBindError))
        cast(Recorder, first.protocols[0]).tcp.loseConnection()

    def test_serverFactoryReturnsNone(self) -> None:
        """
        When the server factory builds no protocol, the client connects and
        then loses the connection with L{ConnectionDone}.
        """
        number = self.listen(RecordingServerFactory(lambda: None))
        client_factory = RecordingClientFactory()
        self.net.connectTCP("127.0.0.1", number, client_factory)
        self.net.run()
        client = cast(Recorder, client_factory.protocols[0])
        self.assertEqual(client.names(), ["made", "lost"])
        self.assertTrue(
            client.reason is not None and client.reason.check(ConnectionDone)
        )

    def test_clientFactoryReturnsNone(self) -> None:
        """
        When the client factory builds no protocol, the server sees the
        connection made and closed; the client factory gets
        C{clientConnectionLost}.
        """
        server_factory = RecordingServerFactory()
        number = self.listen(server_factory)
        client_factory = RecordingClientFactory(lambda: None)
        self.net.connectTCP("127.0.0.1", number, client_factory)
        self.net.run()
        server = cast(Recorder, server_factory.protocols[0])
        self.assertEqual(server.names(), ["made", "lost"])
        self.assertEqual(
            client_factory.names()[-2:], ["clientConnectionLost", "doStop"]
        )

    def test_buildProtocolRaising(self) -> None:
        """
        A server factory whose C{buildProtocol} raises: the error is logged
        and the accepted socket stays open to nobody -- the client stays
        connected and hears nothing until it closes (oracle:
        C{serverBuildProtocolRaises}); a client factory whose
        C{buildProtocol} raises: logged, C{clientConnectionFailed} with
        L{ConnectError}, and the server's connection is closed (oracle:
        C{failingClientBuildProtocolClosesTheAcceptedEnd}); nothing is left
        open.
        """

        def explode() -> Recorder:
            raise ArithmeticError("no protocol today")

        number = self.listen(RecordingServerFactory(explode))
        client_factory = RecordingClientFactory()
        self.net.connectTCP("127.0.0.1", number, client_factory)
        self.net.run()
        stranded = cast(Recorder, client_factory.protocols[0])
        self.assertEqual(stranded.names(), ["made"])
        stranded.tcp.loseConnection()
        self.net.run()
        self.assertEqual(stranded.names(), ["made", "lost"])
        self.assertEqual(len(self.flushLoggedErrors(ArithmeticError)), 1)

        server_factory = RecordingServerFactory()
        number = self.listen(server_factory)
        failing = RecordingClientFactory(explode)
        self.net.connectTCP("127.0.0.1", number, failing)
        self.net.run()
        self.assertTrue(failing.reasons[0].check(ConnectError))
        self.assertEqual(
            cast(Recorder, server_factory.protocols[0]).names(), ["made", "lost"]
        )
        self.assertEqual(len(self.flushLoggedErrors(ArithmeticError)), 1)

    def test_badPort(self) -> None:
        """
        Connecting to a port outside 0-65535 fails with L{OverflowError}, as
        on real TCP.
        """
        client_factory = RecordingClientFactory()
        self.net.connectTCP("127.0.0.1", 70000, client_factory)
        self.net.run()
        self.assertTrue(client_factory.reasons[0].check(OverflowError))

    def test_connectionIdsAndOpenConnections(self) -> None:
        """
        Both ends share a connection id; C{open_connections} lists the pair
        until both ends are closed.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        self.assertEqual(pair.client.tcp.connection_id, pair.server.tcp.connection_id)
        self.assertEqual(
            self.net.open_connections(), [(pair.client.tcp, pair.server.tcp)]
        )
        pair.server.tcp.loseConnection()
        self.net.run()
        self.assertEqual(self.net.open_connections(), [])

    def test_manyConnectionsGetDistinctPorts(self) -> None:
        """
        A thousand concurrent clients get distinct ephemeral ports; ports
        are reused only after their connections are closed.
        """
        factory = RecordingServerFactory()
        number = self.listen(factory)
        clients = [RecordingClientFactory() for _ in range(1000)]
        for client in clients:
            self.net.connectTCP("127.0.0.1", number, client)
        self.net.run()
        ports = {cast(Recorder, c.protocols[0]).tcp.getHost().port for c in clients}
        self.assertEqual(len(ports), 1000)
        self.assertNotIn(number, ports)
        for protocol in factory.protocols:
            cast(Recorder, protocol).tcp.loseConnection()
        self.net.run()
        self.assertEqual(self.net.open_connections(), [])


class EndpointTests(MemoryNetworkTestCase):
    """
    Unchanged Twisted endpoints run on the network.
    """

    def talk(self, server_endpoint: Any, client_endpoint_for: Any) -> None:
        """
        Listen with C{server_endpoint}, connect with the client endpoint for
        its port, exchange a message, close.
        """
        factory = RecordingServerFactory()
        port = self.net.run_until(server_endpoint.listen(factory))
        self.addCleanup(port.stopListening)
        client = Recorder()
        connected = connectProtocol(client_endpoint_for(port_number(port)), client)
        self.assertIs(self.net.run_until(connected), client)
        client.tcp.write(b"hello")
        self.net.run()
        server = cast(Recorder, factory.protocols[0])
        self.assertEqual(server.received, b"hello")
        self.assertEqual(client.tcp.getPeer(), server.tcp.getHost())
        client.tcp.loseConnection()
        self.net.run()
        self.assertEqual(server.names(), ["made", "data", "lost"])

    def test_tcp4Endpoints(self) -> None:
        """
        L{TCP4ServerEndpoint} and L{TCP4ClientEndpoint} connect.
        """
        self.talk(
            TCP4ServerEndpoint(self.net, 0, interface="127.0.0.1"),
            lambda port: TCP4ClientEndpoint(self.net, "127.0.0.1", port),
        )

    def test_stringEndpoints(self) -> None:
        """
        C{serverFromString(net, "tcp:0:interface=127.0.0.1")} and
        C{clientFromString(net, "tcp:host=127.0.0.1:port=N")} connect.
        """
        self.talk(
            serverFromString(self.net, "tcp:0:interface=127.0.0.1"),
            lambda port: clientFromString(self.net, f"tcp:host=127.0.0.1:port={port}"),
        )

    def test_hostnameEndpointWithHostMap(self) -> None:
        """
        L{HostnameEndpoint} resolves a name through the host map.
        """
        self.net.add_host("poems.example", "10.0.0.7")
        self.talk(
            TCP4ServerEndpoint(self.net, 0, interface="10.0.0.7"),
            lambda port: HostnameEndpoint(self.net, "poems.example", port),
        )

    def test_hostnameEndpointUnknownName(self) -> None:
        """
        L{HostnameEndpoint} to a name not in the host map fails with
        L{DNSLookupError}.
        """
        endpoint = HostnameEndpoint(self.net, "nowhere.example", 80)
        d = connectProtocol(endpoint, Recorder())
        error = self.assertRaises(DNSLookupError, self.net.run_until, d)
        self.assertIn("nowhere.example", str(error))

    def test_clientEndpointRefused(self) -> None:
        """
        A client endpoint to a closed port fails with
        L{ConnectionRefusedError}.
        """
        d = connectProtocol(TCP4ClientEndpoint(self.net, "127.0.0.1", 1), Recorder())
        self.assertRaises(ConnectionRefusedError, self.net.run_until, d)

    def test_nameResolver(self) -> None:
        """
        The name resolver calls C{resolutionBegan} at once and reports the
        address (as an L{IPv4Address} of the requested transport) and
        completion in a later step; asking only for IPv6 gives no address;
        C{installNameResolver} returns the previous resolver.
        """

        @implementer(IResolutionReceiver)
        class Receiver:
            def __init__(self) -> None:
                self.events: list[object] = []

            def resolutionBegan(self, resolution: IHostResolution) -> None:
                self.events.append(("began", resolution.name))

            def addressResolved(self, address: IAddress) -> None:
                self.events.append(address)

            def resolutionComplete(self) -> None:
                self.events.append("complete")

        self.net.add_host("poems.example", "10.0.0.7")
        receiver = Receiver()
        self.net.nameResolver.resolveHostName(
            receiver, "poems.example", 17, None, "UDP"
        )
        self.assertEqual(receiver.events, [("began", "poems.example")])
        self.net.run()
        self.assertEqual(
            receiver.events[1:], [IPv4Address("UDP", "10.0.0.7", 17), "complete"]
        )
        only_six = Receiver()
        self.net.nameResolver.resolveHostName(
            only_six, "poems.example", 0, [IPv6Address]
        )
        self.net.run()
        self.assertEqual(only_six.events[1:], ["complete"])
        original = self.net.nameResolver
        self.assertIs(self.net.installNameResolver(cast(Any, None)), original)
        self.assertIs(self.net.installNameResolver(original), None)

    def test_resolve(self) -> None:
        """
        C{resolve(name)} fires with the address in a later step, or fails with
        L{DNSLookupError}.
        """
        self.assertEqual(self.net.run_until(self.net.resolve("localhost")), "127.0.0.1")
        self.assertRaises(
            DNSLookupError, self.net.run_until, self.net.resolve("nowhere.example")
        )

    def test_resolveLiteralsAtOnce(self) -> None:
        """
        As the real reactor's C{resolve}: an empty name is C{"0.0.0.0"} and
        an IPv4 literal itself, as given (L{bytes} stay L{bytes}), both
        already fired; a name given as L{bytes} is looked up like its text.
        """
        self.assertEqual(self.successResultOf(self.net.resolve("")), "0.0.0.0")
        literal = b"127.0.0.9"
        self.assertIs(
            self.successResultOf(self.net.resolve(cast(str, literal))), literal
        )
        name = self.net.resolve(cast(str, b"localhost"))
        self.assertNoResult(name)
        self.assertEqual(self.net.run_until(name), "127.0.0.1")

    def test_resolveUsesTheInstalledNameResolver(self) -> None:
        """
        C{resolve}, and so C{connectTCP} to a name, asks the installed name
        resolver (for IPv4 addresses), as the real reactor does.
        """
        asked: list[tuple[str, object]] = []

        @implementer(IHostnameResolver)
        class Everywhere:
            def resolveHostName(
                self,
                receiver: IResolutionReceiver,
                hostName: str,
                portNumber: int = 0,
                addressTypes: Sequence[type[IAddress]] | None = None,
                transportSemantics: str = "TCP",
            ) -> IHostResolution:
                asked.append((hostName, addressTypes))
                resolution = HostResolution(hostName)
                receiver.resolutionBegan(resolution)
                receiver.addressResolved(IPv4Address("TCP", "127.0.0.7", portNumber))
                receiver.resolutionComplete()
                return resolution

        self.net.installNameResolver(Everywhere())
        self.assertEqual(
            self.successResultOf(self.net.resolve("anything")), "127.0.0.7"
        )
        self.assertEqual(asked, [("anything", [IPv4Address])])
