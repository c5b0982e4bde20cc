"""
Scenarios: connection attempts -- connectTCP, the connector's life cycle,
addresses, bindAddress, reconnecting, and the client endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    clientFromString,
    connectProtocol,
    serverFromString,
)
from twisted.internet.interfaces import (
    IConnector,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
    ITCPTransport,
)
from twisted.python.failure import Failure

from tests.oracle._registry import scenario
from tests.oracle._support_conn import (
    QuietClientFactory,
    QuietEchoFactory,
    connectEndpoint,
    listenEndpoint,
    noteOsError,
    poll,
    tryCall,
)
from tests.oracle._support_data import connectPair, pingPong
from tests.oracle._world import Peer, World


@scenario
async def connectTCPStartsConnectingSynchronously(w: World) -> None:
    """
    connectTCP calls the client factory's doStart and startedConnecting --
    with the very connector it returns -- before it returns; buildProtocol
    comes only later.
    """
    seen: list[IConnector] = []
    port = w.listen()
    connector = w.connect(port, started=seen.append)
    w.note("connectTCP returned", "same connector", seen == [connector])
    await w.when("c1", "made")
    await w.when("s1", "made")


@scenario
async def connectionMadeOnBothSidesBeforeAnythingElse(w: World) -> None:
    """
    A connection to a listening port calls connectionMade once on each side
    and nothing else until someone writes or closes; the server then closes
    and both sides see ConnectionDone.
    """
    await connectPair(w)
    await w.settle()
    w.note("settled")
    w.peer("s1").tcp.loseConnection()
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def connectionRefusedIsReportedAfterConnectTCPReturns(w: World) -> None:
    """
    A refused connection is reported later, never inside connectTCP: only
    doStart and startedConnecting have run when it returns.
    """
    number = await w.closedPort()
    w.connect(number)
    w.note("connectTCP returned")
    await w.when("cf", "doStop")


@scenario
async def buildProtocolGetsThePeersAddress(w: World) -> None:
    """
    The server factory's buildProtocol gets the client's address and the
    client factory's gets the listening address, each equal to the
    protocol's transport.getPeer().
    """
    client, server = await connectPair(w)
    w.note("server getPeer", w.addressName(server.tcp.getPeer()))
    w.note("client getPeer", w.addressName(client.tcp.getPeer()))


@scenario
async def addressesAgreeOnBothEnds(w: World) -> None:
    """
    The client's getPeer and the server's getHost are the listening address;
    the server's getPeer and the client's getHost are the client's loopback
    address with an ephemeral port unlike the listening one.
    """
    client, server = await connectPair(w)
    w.note("client getHost", w.addressName(client.tcp.getHost()))
    w.note("client getPeer", w.addressName(client.tcp.getPeer()))
    w.note("server getHost", w.addressName(server.tcp.getHost()))
    w.note("server getPeer", w.addressName(server.tcp.getPeer()))


@scenario
async def connectorGetDestination(w: World) -> None:
    """
    The connector's getDestination() is the address it connects to, while
    connecting and once connected.
    """
    port = w.listen()
    connector = w.connect(port)
    w.note("connecting", w.addressName(connector.getDestination()))
    await w.when("c1", "made")
    w.note("connected", w.addressName(connector.getDestination()))


@scenario
async def connectorStateThroughItsLife(w: World) -> None:
    """
    The connector's state is "connecting" once connectTCP returns,
    "connected" in connectionMade, and "disconnected" in clientConnectionLost
    and afterwards.
    """

    def state(connector: IConnector) -> str:
        return str(getattr(connector, "state", "missing"))

    def made(p: Peer) -> None:
        w.note("state in connectionMade", state(w.connectors[0]))
        p.tcp.loseConnection()

    def clientLost(connector: IConnector, reason: Failure) -> None:
        w.note("state in clientConnectionLost", state(connector))

    port = w.listen()
    connector = w.connect(port, made=made, clientLost=clientLost)
    w.note("state after connectTCP", state(connector))
    await w.when("cf", "doStop")
    w.note("state after doStop", state(connector))


@scenario
async def connectorTransportWhileConnecting(w: World) -> None:
    """
    While the connection is being made the connector already has a
    transport (on the real reactor a twisted.internet.tcp.Client, not
    None): a TCP transport, the very object the client protocol gets in
    connectionMade.
    """
    port = w.listen()
    connector = w.connect(port)
    transport = getattr(connector, "transport", None)
    w.note("transport is None", transport is None)
    w.note("provides ITCPTransport", ITCPTransport.providedBy(transport))
    await w.when("c1", "made")
    w.note("client's transport is it", w.peer("c1").transport is transport)


@scenario
async def stopConnectingFailsSynchronously(w: World) -> None:
    """
    stopConnecting() before the connection is made calls
    clientConnectionFailed with UserError and then doStop inside the call;
    no protocol is built afterwards, nor is any server protocol.
    """
    port = w.listen()
    connector = w.connect(port)
    connector.stopConnecting()
    w.note("stopConnecting returned")
    await w.settle()


@scenario
async def stopConnectingInsideStartedConnecting(w: World) -> None:
    """
    stopConnecting() called from startedConnecting (inside connectTCP):
    clientConnectionFailed(UserError) and doStop run before connectTCP
    returns, and nothing is built afterwards.
    """
    port = w.listen()
    w.connect(port, started=lambda connector: connector.stopConnecting())
    w.note("connectTCP returned")
    await w.settle()


@scenario
async def stopConnectingWhenConnectedRaises(w: World) -> None:
    """
    stopConnecting() on a connector whose connection is made raises
    NotConnectingError and leaves the connection alone: data still flows.
    """
    port = w.listen()
    connector = w.connect(port)
    await w.when("c1", "made")
    tryCall(w, "stopConnecting", connector.stopConnecting)
    await pingPong(w)


@scenario
async def connectWhileConnectedRaises(w: World) -> None:
    """
    connector.connect() on a connector whose connection is made raises
    RuntimeError ("can't connect in this state") and changes nothing.
    """
    port = w.listen()
    connector = w.connect(port)
    await w.when("c1", "made")
    tryCall(w, "connect", connector.connect)
    await w.settle()


@scenario
async def connectorDisconnectClosesConnection(w: World) -> None:
    """
    connector.disconnect() on a made connection closes it cleanly:
    ConnectionDone on both sides, then clientConnectionLost(ConnectionDone)
    and doStop.
    """
    port = w.listen()
    connector = w.connect(port)
    await w.when("c1", "made")
    await w.when("s1", "made")
    connector.disconnect()
    await w.when("cf", "doStop")
    await w.when("s1", "lost")


@scenario
async def connectorDisconnectWhileConnectingStopsConnecting(w: World) -> None:
    """
    connector.disconnect() while connecting is stopConnecting(): the factory
    gets clientConnectionFailed(UserError) and doStop inside the call.
    """
    port = w.listen()
    connector = w.connect(port)
    connector.disconnect()
    w.note("disconnect returned")
    await w.settle()


@scenario
async def reconnectFromClientConnectionLost(w: World) -> None:
    """
    connector.connect() from clientConnectionLost (the reconnecting-factory
    pattern) connects again to the same port with a new protocol; doStop is
    not called in between.
    """
    reconnected: list[bool] = []

    def clientLost(connector: IConnector, reason: Failure) -> None:
        if not reconnected:
            reconnected.append(True)
            connector.connect()

    port = w.listen()
    w.connect(port, clientLost=clientLost)
    await w.when("c1", "made")
    w.peer("c1").tcp.loseConnection()
    await w.when("c2", "made")
    await w.when("s2", "made")
    w.note("c2 getPeer", w.addressName(w.peer("c2").tcp.getPeer()))
    w.peer("c2").tcp.write(b"again")
    await w.received("s2", 5)


@scenario
async def reconnectFromClientConnectionFailed(w: World) -> None:
    """
    connector.connect() from clientConnectionFailed retries the refused
    connection: startedConnecting and ConnectionRefusedError once more, and
    doStop only after the second failure (which does not retry).
    """
    number = await w.closedPort()
    retried: list[bool] = []

    def failed(connector: IConnector, reason: Failure) -> None:
        if not retried:
            retried.append(True)
            connector.connect()

    w.connect(number, failed=failed)
    await w.when("cf", "doStop")


@scenario
async def bindAddressIsTheClientsAddress(w: World) -> None:
    """
    connectTCP(..., bindAddress=(host, port)) makes the connection from that
    address: the server's buildProtocol and getPeer and the client's getHost
    all report it.
    """
    free = await w.closedPort()
    client, server = await connectPair(w, client={"bindAddress": (w.interface, free)})
    w.note("client getHost", w.addressName(client.tcp.getHost()))
    w.note("server getPeer", w.addressName(server.tcp.getPeer()))


@scenario
async def bindAddressInTimeWait(w: World) -> None:
    """
    A client bound to a fixed local port closes first, so its end of the
    connection lingers in TIME_WAIT; connecting again from the same
    bindAddress fails at once with ConnectBindError (EADDRINUSE), then
    doStop.
    """
    free = await w.closedPort()
    port = w.listen()
    w.connect(port, bindAddress=(w.interface, free))
    await w.when("c1", "made")
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("cf", "doStop")
    w.connect(port, bindAddress=(w.interface, free), failed=noteOsError(w))
    await w.when("cf2", "doStop")


@scenario
async def bindAddressOfAListeningPort(w: World) -> None:
    """
    A client bound to the address a port listens on: the bind fails --
    clientConnectionFailed(ConnectBindError, EADDRINUSE), then doStop.
    """
    port = w.listen()
    w.connect(
        port, bindAddress=(w.interface, w.portNumber(port)), failed=noteOsError(w)
    )
    await w.when("cf", "doStop")


@scenario
async def destinationAllZeros(w: World) -> None:
    """
    connectTCP to "0.0.0.0" reaches the listener on 127.0.0.1 (Linux treats
    it as this host).  The client factory's buildProtocol and the client's
    getPeer report host "0.0.0.0" with the listening port; the client's
    getHost and both server addresses are the ordinary 127.0.0.1 ones.
    """
    port = w.listen()
    w.connect(port, host="0.0.0.0")
    await w.when("c1", "made")
    await w.when("s1", "made")
    client, server = w.peer("c1").tcp, w.peer("s1").tcp
    peer = client.getPeer()
    w.note("client getHost", w.addressName(client.getHost()))
    w.note("client getPeer host", getattr(peer, "host", None))
    w.note(
        "client getPeer port is the listening port",
        getattr(peer, "port", None) == w.portNumber(port),
    )
    w.note("server getHost", w.addressName(server.getHost()))
    w.note("server getPeer", w.addressName(server.getPeer()))


@scenario
async def connectTimeoutZero(w: World) -> None:
    """
    connectTCP with timeout=0: the connection attempt is started (the
    kernel completes the loopback handshake) and then the timeout fires in
    the same reactor turn, before the reactor sees the socket connected:
    clientConnectionFailed(TimeoutError) and doStop; the server then accepts
    a connection whose client is already closed and sees connectionMade,
    then ConnectionDone.
    """
    port = w.listen()
    w.connect(port, timeout=0)
    await w.when("cf", "doStop")
    await w.settle()


@scenario
async def concurrentConnectionsAreIsolated(w: World) -> None:
    """
    Ten clients connected at once to one echo port each get their own server
    protocol and receive exactly the echo of their own bytes; closing them
    all gives ConnectionDone everywhere.
    """
    server = QuietEchoFactory()
    port = w.listen(server)
    clients = [QuietClientFactory(b"client %d says hello" % (i,)) for i in range(10)]
    for factory in clients:
        w.connect(port, factory)

    def echoed() -> bool:
        return all(
            f.protocol_ is not None and f.protocol_.received == f.message
            for f in clients
        )

    await poll(w, echoed)
    w.note("servers built", len(server.protocols))
    w.note(
        "servers received",
        sorted(p.received for p in server.protocols)
        == sorted(f.message for f in clients),
    )
    for factory in clients:
        assert factory.protocol_ is not None and factory.protocol_.transport
        factory.protocol_.transport.loseConnection()

    def allLost() -> bool:
        return all(p.reason is not None for p in server.protocols) and all(
            f.protocol_ is not None and f.protocol_.reason is not None for f in clients
        )

    await poll(w, allLost)
    reasons = {
        type(p.reason.value).__name__
        for p in [*server.protocols, *(f.protocol_ for f in clients)]
        if p is not None and p.reason is not None
    }
    w.note("reasons", sorted(reasons))


async def _endpointTalk(
    w: World,
    serverEndpoint: IStreamServerEndpoint,
    clientOf: Callable[[int], IStreamClientEndpoint],
) -> None:
    """
    Listen on C{serverEndpoint}, connect the client endpoint C{clientOf(port
    number)} with a recording protocol, exchange a message each way and close
    from the client.
    """
    port = await listenEndpoint(w, serverEndpoint)
    w.namePort(port)
    w.note("port getHost", w.addressName(port.getHost()))
    client = await connectEndpoint(w, clientOf(w.portNumber(port)))
    w.note("client getPeer", w.addressName(client.tcp.getPeer()))
    await pingPong(w)
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def tcp4Endpoints(w: World) -> None:
    """
    TCP4ServerEndpoint(reactor, 0, interface=...) and TCP4ClientEndpoint
    connect and carry data both ways.
    """
    await _endpointTalk(
        w,
        TCP4ServerEndpoint(w.reactor, 0, interface=w.interface),
        lambda number: TCP4ClientEndpoint(w.reactor, w.interface, number),
    )


@scenario
async def stringEndpoints(w: World) -> None:
    """
    serverFromString("tcp:0:interface=127.0.0.1") and
    clientFromString("tcp:host=127.0.0.1:port=N") connect and carry data.
    """
    await _endpointTalk(
        w,
        serverFromString(w.reactor, f"tcp:0:interface={w.interface}"),
        lambda number: clientFromString(
            w.reactor, f"tcp:host={w.interface}:port={number}"
        ),
    )


@scenario
async def hostnameEndpointToLocalhost(w: World) -> None:
    """
    HostnameEndpoint(reactor, "localhost", port) resolves localhost and
    connects to the loopback listener.
    """
    await _endpointTalk(
        w,
        TCP4ServerEndpoint(w.reactor, 0, interface=w.interface),
        lambda number: HostnameEndpoint(w.reactor, b"localhost", number),
    )


@scenario
async def clientEndpointToClosedPortIsRefused(w: World) -> None:
    """
    Connecting a TCP4ClientEndpoint to a port nobody listens on fails its
    Deferred with ConnectionRefusedError.
    """
    number = await w.closedPort()
    endpoint = TCP4ClientEndpoint(w.reactor, w.interface, number)
    try:
        await connectProtocol(endpoint, w.newPeer("c", {}))
    except Exception as e:
        w.note("connect failed", type(e).__name__)
    else:
        w.note("connected")


@scenario
async def connectTCPToAHostname(w: World) -> None:
    """
    connectTCP("localhost", port) resolves the name and connects to the
    loopback listener; getDestination keeps the name.
    """
    port = w.listen()
    connector = w.connect(port, host="localhost")
    await w.when("c1", "made")
    destination = connector.getDestination()
    w.note("destination host", getattr(destination, "host", None))
    w.note("client getPeer", w.addressName(w.peer("c1").tcp.getPeer()))


@scenario
async def connectTCPToABytesHost(w: World) -> None:
    """
    connectTCP takes its host as bytes too (tcp.Connector does not check):
    an IPv4 literal is connected to as given, so the connector's
    destination and the client's getPeer() carry bytes; a name is resolved
    to a str; the server sees its client as usual.
    """
    port = w.listen()
    literal = w.connect(port, host=cast(str, b"127.0.0.1"))
    await w.when("c1", "made")
    w.note("destination", repr(getattr(literal.getDestination(), "host", None)))
    w.note("c1 getPeer", repr(w.peer("c1").tcp.getPeer().host))
    w.note("s1 getPeer", repr(w.peer("s1").tcp.getPeer().host))
    name = w.connect(port, host=cast(str, b"localhost"))
    await w.when("c2", "made")
    w.note("destination", repr(getattr(name.getDestination(), "host", None)))
    w.note("c2 getPeer", repr(w.peer("c2").tcp.getPeer().host))
    w.note("s2 getPeer", repr(w.peer("s2").tcp.getPeer().host))
