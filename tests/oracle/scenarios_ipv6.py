"""
Scenarios: TCP over IPv6 -- listenTCP on ::1 and ::, connectTCP to IPv6
literals, the IPv6Addresses each end reports, how IPv4 and IPv6 listeners
share port numbers (Linux, bindv6only 0: a socket on :: is dual-stack), the
IPv6 endpoints, HostnameEndpoint choosing between families, and the name
resolver's addressTypes.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import maybeDeferred
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP6ClientEndpoint,
    TCP6ServerEndpoint,
    clientFromString,
    connectProtocol,
    serverFromString,
)
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import ServerFactory

from tests.oracle._registry import scenario
from tests.oracle._support_addr import (
    Collected,
    ResolvingReactor,
    connect6,
    describe,
    listen6,
)
from tests.oracle._support_conn import (
    connectEndpoint,
    errnoName,
    listenEndpoint,
    noteOsError,
    tryCall,
)
from tests.oracle._support_data import pingPong
from tests.oracle._world import Peer, World


def _listen(w: World, number: int, interface: str) -> None:
    """
    Try C{listenTCP(number, interface=interface)}; note C{listening} (and
    stop it) or the errno of the L{CannotListenError}.
    """
    try:
        port = w.reactor.listenTCP(number, ServerFactory(), interface=interface)
    except CannotListenError as e:
        w.note(
            f"listen {interface or '(all)'}",
            errnoName(getattr(e.socketError, "errno", None)),
        )
    else:
        w.note(f"listen {interface or '(all)'}", "listening")
        w.ports.append(port)


async def _addresses(w: World) -> None:
    await w.when("c1", "made")
    await w.when("s1", "made")
    client, server = w.peer("c1").tcp, w.peer("s1").tcp
    w.note("client getHost", describe(w, client.getHost()))
    w.note("client getPeer", describe(w, client.getPeer()))
    w.note("server getHost", describe(w, server.getHost()))
    w.note("server getPeer", describe(w, server.getPeer()))


@scenario
async def ipv6ListenAndConnect(w: World) -> None:
    """
    listenTCP(0, interface="::1") and connectTCP("::1", port): every
    address is an IPv6Address with flow info 0 and scope 0 -- the port's,
    the connector's destination, both factories' buildProtocol and both
    ends' getHost and getPeer; data flows both ways.
    """
    port = listen6(w)
    w.note("port getHost", describe(w, port.getHost()))
    connector = connect6(w, port)
    w.note("destination", describe(w, connector.getDestination()))
    await _addresses(w)
    await pingPong(w)
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("cf", "doStop")


@scenario
async def ipv6AllInterfacesTakesAnIPv4Client(w: World) -> None:
    """
    A port listening on "::" is dual-stack: an IPv4 client connecting to
    127.0.0.1 reaches it; the server end reports IPv4-mapped IPv6 addresses
    (::ffff:127.0.0.1) while the client sees plain IPv4 ones.
    """
    port = listen6(w, interface="::")
    w.note("port getHost", describe(w, port.getHost()))
    w.connect(port)
    await _addresses(w)


@scenario
async def ipv6AllInterfacesTakesAnIPv6Client(w: World) -> None:
    """
    A port listening on "::" takes an IPv6 client to ::1; the server end's
    getHost is ::1, not ::.
    """
    port = listen6(w, interface="::")
    connect6(w, port)
    await _addresses(w)


@scenario
async def ipv6ClientOfAnIPv4OnlyListener(w: World) -> None:
    """
    An IPv6 client connecting to ::1 on a port only an IPv4 socket listens
    on (127.0.0.1, or all IPv4 interfaces) is refused.
    """
    port = w.listen()
    connect6(w, port, failed=noteOsError(w))
    await w.when("cf", "doStop")
    allInterfaces = w.listen(interface="")
    connect6(w, allInterfaces, failed=noteOsError(w))
    await w.when("cf2", "doStop")


@scenario
async def ipv4ClientOfAnIPv6OnlyListener(w: World) -> None:
    """
    An IPv4 client connecting to 127.0.0.1 on a port only ::1 listens on is
    refused.
    """
    port = listen6(w)
    w.connect(port, failed=noteOsError(w))
    await w.when("cf", "doStop")


@scenario
async def ipv6PortSharing(w: World) -> None:
    """
    IPv4 and IPv6 listeners on one port number, each pair on a fresh
    number: 127.0.0.1 and ::1 may share it, and so may 0.0.0.0 and ::1;
    :: takes the port on every address of both families, so it conflicts
    with any listener on that number and any listener conflicts with it;
    the same address twice conflicts (EADDRINUSE).
    """
    pairs = [
        ("::1", "127.0.0.1"),
        ("127.0.0.1", "::1"),
        ("::1", ""),
        ("", "::1"),
        ("::1", "::"),
        ("::", "::1"),
        ("::", ""),
        ("", "::"),
        ("127.0.0.1", "::"),
        ("::", "127.0.0.1"),
        ("::1", "::1"),
        ("::", "::"),
    ]
    for first, second in pairs:
        port = w.reactor.listenTCP(0, ServerFactory(), interface=first)
        w.note("first", first or "(all)")
        before = len(w.ports)
        _listen(w, w.portNumber(port), second)
        for other in [port, *w.ports[before:]]:
            await maybeDeferred(other.stopListening)
        del w.ports[before:]


@scenario
async def ipv6SharedPortReachesEachFamilysListener(w: World) -> None:
    """
    With 127.0.0.1 and ::1 listening on one port number, an IPv4 client
    reaches the IPv4 factory and an IPv6 client the IPv6 one.
    """
    v6 = listen6(w)
    number = w.portNumber(v6)
    v4 = w.reactor.listenTCP(number, w.serverFactory(), interface="127.0.0.1")
    w.ports.append(v4)
    w.connect(number)
    await w.when("c1", "made")
    connect6(w, number)
    await w.when("c2", "made")
    await w.settle()


@scenario
async def ipv6ConnectToAllZeros(w: World) -> None:
    """
    connectTCP("::", port) reaches the listener on ::1 (as "0.0.0.0" reaches
    127.0.0.1): the client's getPeer keeps "::", the server's addresses are
    ::1.
    """
    port = listen6(w)
    connect6(w, port, host="::")
    await _addresses(w)


@scenario
async def ipv6LiteralsAreNormalised(w: World) -> None:
    """
    A long-form IPv6 literal (0:0:0:0:0:0:0:1) works for listenTCP and
    connectTCP; the port's address is written ::1, and so is the client's
    getPeer, while the connector's destination keeps the literal as given.
    """
    port = listen6(w, interface="0:0:0:0:0:0:0:1")
    w.note("port getHost", describe(w, port.getHost()))
    connector = connect6(w, port, host="0:0::1")
    w.note("destination host", getattr(connector.getDestination(), "host", None))
    await _addresses(w)


@scenario
async def ipv6ListenOnANonLocalAddress(w: World) -> None:
    """
    listenTCP on an IPv6 address no interface has (::2, or 2001:db8::1 of
    the documentation prefix) raises CannotListenError (EADDRNOTAVAIL).
    """
    for interface in ("::2", "2001:db8::1"):
        try:
            port = w.reactor.listenTCP(0, ServerFactory(), interface=interface)
        except CannotListenError as e:
            w.note(
                "CannotListenError",
                e.interface,
                errnoName(getattr(e.socketError, "errno", None)),
            )
        else:
            w.note("listening", interface)
            await maybeDeferred(port.stopListening)


@scenario
async def ipv6BindAddress(w: World) -> None:
    """
    connectTCP("::1", port, bindAddress=("::1", N)) makes the connection
    from that address and port.
    """
    closed = w.reactor.listenTCP(0, ServerFactory(), interface="::1")
    free = w.portNumber(closed)
    await maybeDeferred(closed.stopListening)
    port = listen6(w)
    connect6(w, port, bindAddress=("::1", free))
    await w.when("c1", "made")
    await w.when("s1", "made")
    w.note(
        "client port is the bound one",
        getattr(w.peer("c1").tcp.getHost(), "port", None) == free,
    )
    w.note("server getPeer", describe(w, w.peer("s1").tcp.getPeer()))


@scenario
async def ipv6CloseAndAbort(w: World) -> None:
    """
    Over IPv6 a close is ConnectionDone on both ends and an abort reaches
    the peer as a reset (ConnectionLost), as over IPv4.
    """
    port = listen6(w)
    connect6(w, port)
    connect6(w, port)
    await w.when("c2", "made")
    await w.when("s2", "made")
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")
    w.peer("c2").tcp.abortConnection()
    await w.when("s2", "lost")
    await w.when("c2", "lost")


async def _endpointTalk(w: World, serverEndpoint: Any, clientOf: Any) -> None:
    """
    Listen on C{serverEndpoint}, connect the client endpoint C{clientOf(port
    number)} with a recording protocol, send a message and close from the
    client, noting the port's and the client's peer address in full.
    """
    port = await listenEndpoint(w, serverEndpoint)
    w.namePort(port)
    w.note("port getHost", describe(w, port.getHost()))
    client = await connectEndpoint(w, clientOf(w.portNumber(port)))
    w.note("client getPeer", describe(w, client.tcp.getPeer()))
    client.tcp.write(b"ping")
    await w.received("s1", 4)
    client.tcp.loseConnection()
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def ipv6Endpoints(w: World) -> None:
    """
    TCP6ServerEndpoint(reactor, 0, interface="::1") and
    TCP6ClientEndpoint(reactor, "::1", port) connect and carry data.
    """
    await _endpointTalk(
        w,
        TCP6ServerEndpoint(w.reactor, 0, interface="::1"),
        lambda number: TCP6ClientEndpoint(w.reactor, "::1", number),
    )


@scenario
async def ipv6StringEndpoints(w: World) -> None:
    """
    serverFromString("tcp6:0:interface=\\:\\:1") and
    clientFromString("tcp:host=\\:\\:1:port=N") (there is no "tcp6"
    client string; a "tcp" client to an IPv6 literal connects over IPv6)
    connect and carry data.
    """
    await _endpointTalk(
        w,
        serverFromString(w.reactor, "tcp6:0:interface=\\:\\:1"),
        lambda number: clientFromString(w.reactor, f"tcp:host=\\:\\:1:port={number}"),
    )


@scenario
async def ipv6TCP6ServerEndpointDefaultsToAllInterfaces(w: World) -> None:
    """
    TCP6ServerEndpoint(reactor, 0) listens on "::" (every address of both
    families): an IPv4 client reaches it.
    """
    await _endpointTalk(
        w,
        TCP6ServerEndpoint(w.reactor, 0),
        lambda number: HostnameEndpoint(w.reactor, b"127.0.0.1", number),
    )


@scenario
async def hostnameEndpointToAnIPv6Literal(w: World) -> None:
    """
    HostnameEndpoint(reactor, b"::1", port) connects over IPv6.
    """
    await _endpointTalk(
        w,
        TCP6ServerEndpoint(w.reactor, 0, interface="::1"),
        lambda number: HostnameEndpoint(w.reactor, b"::1", number),
    )


@scenario
async def hostnameEndpointIPv6LiteralToAnIPv4Listener(w: World) -> None:
    """
    HostnameEndpoint(reactor, b"::1", port) where only 127.0.0.1 listens
    fails with ConnectionRefusedError.
    """
    port = w.listen()
    try:
        await connectProtocol(
            HostnameEndpoint(w.reactor, b"::1", w.portNumber(port)), w.newPeer("c", {})
        )
    except Exception as e:
        w.note("connect failed", type(e).__name__)
    else:
        w.note("connected")


def _dualReactor(w: World) -> Any:
    """
    The reactor for a HostnameEndpoint that resolves "dual" to ::1 then
    127.0.0.1: the network itself on memory (its host map has the entry),
    the real reactor with that entry in its resolver.
    """
    hosts = {"dual": ("::1", "127.0.0.1")}
    if w.backend == "memory":
        w.reactor.add_host("dual", *hosts["dual"])
        return w.reactor
    return ResolvingReactor(w.reactor, hosts)


async def _connectToDual(w: World, port: IListeningPort) -> Peer:
    """
    Connect a new recording client protocol (C{c1}) with a HostnameEndpoint
    to "dual" (see L{_dualReactor}) and C{port}'s number, note
    C{"connected"} with the address the client reached, and wait until the
    server protocol (C{s1}) is made.

    @return: the client protocol.
    """
    client = w.newPeer("c", {})
    await connectProtocol(
        HostnameEndpoint(_dualReactor(w), b"dual", w.portNumber(port)), client
    )
    w.note("connected", describe(w, client.tcp.getPeer()))
    await w.when("s1", "made")
    return client


@scenario
async def hostnameEndpointFallsBackToIPv4(w: World) -> None:
    """
    HostnameEndpoint to a name with an IPv6 and an IPv4 address (in that
    order), where only 127.0.0.1 listens: the IPv6 attempt is refused and
    the IPv4 one connects.
    """
    port = w.listen()
    client = await _connectToDual(w, port)
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def hostnameEndpointPrefersTheFirstAddress(w: World) -> None:
    """
    HostnameEndpoint to a name with an IPv6 and an IPv4 address (in that
    order), where a dual-stack socket listens on "::": the first address,
    ::1, connects.
    """
    port = listen6(w, interface="::")
    client = await _connectToDual(w, port)
    w.note("server getPeer", describe(w, w.peer("s1").tcp.getPeer()))
    client.tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def nameResolverAddressTypes(w: World) -> None:
    """
    The reactor's name resolver gives IP literals back as themselves, as
    the family they are, and nothing when addressTypes excludes it; on
    this machine "localhost" has one address, 127.0.0.1.
    """
    for name in ("::1", "127.0.0.1", "localhost"):
        for label, types in (
            ("any", None),
            ("IPv4", [IPv4Address]),
            ("IPv6", [IPv6Address]),
        ):
            receiver = Collected()
            w.reactor.nameResolver.resolveHostName(receiver, name, 80, types)
            found = await receiver.done
            w.note(
                name,
                label,
                [f"{type(a).__name__}:{getattr(a, 'host', '?')}" for a in found],
            )


@scenario
async def resolveIsIPv4Only(w: World) -> None:
    """
    reactor.resolve (gethostbyname) resolves "localhost" to 127.0.0.1 and
    fails for an IPv6 literal; connectTCP to a name therefore never goes
    over IPv6.
    """
    for name in ("localhost", "::1"):
        try:
            address = await w.reactor.resolve(name)
        except Exception as e:
            w.note("resolve", name, "failed", type(e).__name__)
        else:
            w.note("resolve", name, address)


@scenario
async def resolveLiteralsAtOnceAndNamesLater(w: World) -> None:
    """
    reactor.resolve answers an empty name ("0.0.0.0") and an IPv4 literal
    (the literal itself, bytes staying bytes) at once, and a name, given as
    str or bytes, only later (gethostbyname in a thread) with its address as
    str; an unknown name fails later with DNSLookupError(name), the name as
    given (the resolver is getaddrinfo's, asked for IPv4 addresses).
    """
    names: tuple[str | bytes, ...] = (
        "",
        "127.0.0.1",
        b"127.0.0.1",
        "localhost",
        b"localhost",
        "no-such-host.invalid",
        b"no-such-host.invalid",
    )
    for name in names:
        d = w.reactor.resolve(name)
        w.note("resolve", repr(name), "at once" if d.called else "later")
        try:
            address = await d
        except Exception as e:
            w.note("resolve", repr(name), "failed", type(e).__name__, *map(str, e.args))
        else:
            w.note("resolve", repr(name), repr(address))


@scenario
async def ipv6ConnectorReconnects(w: World) -> None:
    """
    connector.connect() from clientConnectionLost reconnects over IPv6 to
    the same port; getDestination stays an IPv6Address.
    """
    reconnected: list[bool] = []

    def clientLost(connector: Any, reason: Any) -> None:
        if not reconnected:
            reconnected.append(True)
            connector.connect()

    port = listen6(w)
    connector = connect6(w, port, clientLost=clientLost)
    await w.when("c1", "made")
    w.peer("c1").tcp.loseConnection()
    await w.when("c2", "made")
    w.note("destination", describe(w, connector.getDestination()))
    w.note("c2 getPeer", describe(w, w.peer("c2").tcp.getPeer()))
    tryCall(w, "disconnect", connector.disconnect)
    await w.when("cf", "doStop")
