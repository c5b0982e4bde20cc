"""
Scenarios: TLS -- C{listenSSL}/C{connectSSL} (Twisted's C{TLSMemoryBIOFactory}
over TCP), C{startTLS} after plaintext (either side upgrading first, and the
other way round with C{normal=False}), handshake failures, closes and aborts
during and after the handshake, and writes made before it completes.

Certificates are made when the scenarios run (L{CertificateAuthority}); the
client trusts the scenarios' CA unless the scenario says otherwise.
"""

from __future__ import annotations

from twisted.internet.interfaces import IListeningPort

from tests.oracle._registry import scenario
from tests.oracle._support_tls import (
    QuietTLSPeer,
    StartTLSPeer,
    TLSPeer,
    authority,
    connectSSL,
    listenSSL,
    noteTLS,
    otherAuthority,
    tlsClientFactory,
    tlsServerFactory,
    tlsTransport,
)
from tests.oracle._world import Hook, Peer, PushProducer, World


def _echo(p: Peer, data: bytes) -> None:
    p.tcp.write(data)


@scenario
async def tlsEcho(w: World) -> None:
    """
    listenSSL and connectSSL: the client writes in connectionMade (before
    the handshake), the server echoes, the client closes once it has the
    echo; both handshakes complete before any data, both ends see
    ConnectionDone.
    """

    def data(p: Peer, data: bytes) -> None:
        if p.received == b"hello":
            p.tcp.loseConnection()

    port = listenSSL(w, data=_echo)
    connectSSL(w, port, made=lambda p: p.tcp.write(b"hello"), data=data)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsPeerCertificateAndHandle(w: World) -> None:
    """
    Once the handshake is done, each end's transport (the TLS protocol)
    provides ISSLTransport, its getHandle() is the OpenSSL Connection, and
    getPeerCertificate() is the other end's certificate (none for the
    server: the client sent none).
    """

    def handshake(p: Peer) -> None:
        noteTLS(w, p)
        if p.name == "c1":
            p.tcp.loseConnection()

    port = listenSSL(w, handshake=handshake)
    connectSSL(w, port, handshake=handshake)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsWritesBeforeHandshakeThenClose(w: World) -> None:
    """
    The client writes three times and calls loseConnection() in
    connectionMade, before the handshake: TLS keeps the writes until the
    handshake is done, sends them, then closes; the server gets every byte,
    and both ends see ConnectionDone.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"one ")
        p.tcp.writeSequence([b"two ", b"three"])
        p.tcp.loseConnection()

    port = listenSSL(w)
    connectSSL(w, port, made=made)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsServerWritesAndClosesInConnectionMade(w: World) -> None:
    """
    The server writes and closes in connectionMade, before the handshake:
    the client still reads every byte after the handshake, then
    ConnectionDone.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"a poem\n" * 3)
        p.tcp.loseConnection()

    port = listenSSL(w, made=made)
    connectSSL(w, port)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsUntrustedServer(w: World) -> None:
    """
    The client does not trust the CA that issued the server's certificate:
    the handshake fails -- OpenSSL's "certificate verify failed" (an
    SSL.Error) on the client, the client's alert ("unknown ca") on the
    server -- no data is delivered, and the client factory hears of a
    clean close (ConnectionDone: TLS closed the TCP connection itself).
    """
    port = listenSSL(w, made=lambda p: p.tcp.write(b"never read"))
    connectSSL(
        w,
        port,
        otherAuthority().client_options("localhost"),
        made=lambda p: p.tcp.write(b"never sent"),
    )
    await w.when("c1", "lost")
    await w.when("s1", "lost")
    await w.when("cf", "doStop")


@scenario
async def tlsWrongHostname(w: World) -> None:
    """
    The certificate is trusted but not for the name the client asked for:
    the handshake completes in OpenSSL, then Twisted's hostname check fails
    the connection with service_identity's VerificationError (the client
    factory sees the abort that carries it out, ConnectionAborted), before
    any data reaches the client; the server sees ConnectionLost.
    """
    port = listenSSL(w, made=lambda p: p.tcp.write(b"never read"))
    connectSSL(w, port, authority().client_options("example.com"))
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsClientLosesDuringHandshake(w: World) -> None:
    """
    The client calls loseConnection() in connectionMade, with nothing
    written: TLS aborts the unfinished handshake.  The client protocol gets
    ConnectionLost (TLS reports the end of a stream without close_notify so),
    its factory the TCP reason, ConnectionAborted; the server
    ConnectionLost.
    """
    port = listenSSL(w)
    connectSSL(w, port, made=lambda p: p.tcp.loseConnection())
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsClientAbortsDuringHandshake(w: World) -> None:
    """
    The client aborts in connectionMade: as a close before the handshake,
    ConnectionLost for the client protocol (ConnectionAborted for its
    factory), ConnectionLost on the server, no handshake.
    """
    port = listenSSL(w)
    connectSSL(w, port, made=lambda p: p.tcp.abortConnection())
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsServerLosesDuringHandshake(w: World) -> None:
    """
    The server calls loseConnection() in connectionMade, before the
    handshake: TLS aborts; both protocols and the client factory see
    ConnectionLost, with no handshake.
    """
    port = listenSSL(w, made=lambda p: p.tcp.loseConnection())
    connectSSL(w, port)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsClientClosesAfterHandshake(w: World) -> None:
    """
    The client closes as soon as its handshake is done: a TLS close_notify,
    then the TCP close; ConnectionDone on both ends.
    """
    port = listenSSL(w)
    connectSSL(w, port, handshake=lambda p: p.tcp.loseConnection())
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsClientAbortsAfterHandshake(w: World) -> None:
    """
    The client aborts once its handshake is done: the client protocol gets
    ConnectionLost from the TLS layer (no close_notify came in), its factory
    ConnectionAborted; the server ConnectionLost.
    """
    port = listenSSL(w)
    connectSSL(w, port, handshake=lambda p: p.tcp.abortConnection())
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsServerClosesAfterHandshakeWithData(w: World) -> None:
    """
    The server writes a reply and closes once its handshake is done: the
    client reads it all, then ConnectionDone.
    """

    def handshake(p: Peer) -> None:
        p.tcp.write(b"reply" * 1000)
        p.tcp.loseConnection()

    port = listenSSL(w, handshake=handshake)
    connectSSL(w, port)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def tlsLargeTransfer(w: World) -> None:
    """
    The client sends 256 KiB (many TLS records, several socket sends);
    the server echoes it; the client closes once it has every byte back
    (how the bytes are cut into reads is not logged: it depends on the
    timing of TCP).
    """
    payload = bytes(range(256)) * 1024

    def data(p: Peer, data: bytes) -> None:
        if len(p.received) == len(payload):
            w.note("echo intact", p.received == payload)
            p.tcp.loseConnection()

    def received(p: Peer, data: bytes) -> None:
        p.tcp.write(data)

    port = listenSSL(w, cls=QuietTLSPeer, data=received)
    connectSSL(
        w, port, cls=QuietTLSPeer, made=lambda p: p.tcp.write(payload), data=data
    )
    await w.when("c1", "lost")
    await w.when("s1", "lost")


# -- STARTTLS --------------------------------------------------------------------


def _startTLSServer(
    w: World, reply: bytes, normal: bool = True, **hooks: object
) -> IListeningPort:
    """
    A plain listening port whose server peer replies C{reply} to the line
    C{STARTTLS} and then calls C{startTLS} (as the TLS server if C{normal},
    else as the TLS client).
    """

    def upgrade(p: Peer) -> None:
        p.tcp.write(reply)
        if normal:
            tlsTransport(p).startTLS(authority().server_options())
        else:
            tlsTransport(p).startTLS(authority().client_options("localhost"), False)
        w.note(p.name, "startTLS returned")

    return w.listen(
        tlsServerFactory(w, StartTLSPeer, command=b"STARTTLS", upgrade=upgrade, **hooks)
    )


def _connectStartTLS(
    w: World, port: IListeningPort, upgrade: Hook, **hooks: object
) -> None:
    """
    Connect to C{port} with a client peer that writes the line C{STARTTLS}
    once connected and runs C{upgrade} (which calls C{startTLS}) when it
    reads the line C{GO}; C{hooks} are its other protocol hooks.
    """
    w.connect(
        port,
        tlsClientFactory(
            w,
            StartTLSPeer,
            command=b"GO",
            upgrade=upgrade,
            made=lambda p: p.tcp.write(b"STARTTLS\n"),
            **hooks,
        ),
    )


@scenario
async def startTLSServerRepliesThenUpgrades(w: World) -> None:
    """
    STARTTLS, the server first: the client sends the command; the server
    writes its plaintext reply and calls startTLS at once (the reply is
    sent before the handshake); the client upgrades when it reads the
    reply, writes through TLS, the server echoes, the client closes.  Both
    transports then provide ISSLTransport.
    """

    def upgrade(p: Peer) -> None:
        tlsTransport(p).startTLS(authority().client_options("localhost"))
        p.tcp.write(b"secret")

    def handshake(p: Peer) -> None:
        noteTLS(w, p)

    def data(p: Peer, data: bytes) -> None:
        if p.received == b"secret":
            p.tcp.loseConnection()

    port = _startTLSServer(w, b"GO\n", data=_echo, handshake=handshake)
    _connectStartTLS(w, port, upgrade, data=data, handshake=handshake)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def startTLSClientUpgradesFirst(w: World) -> None:
    """
    STARTTLS, the client first: the client writes plaintext, the command,
    calls startTLS and writes through TLS in the same turn -- its plaintext
    goes before its ClientHello, in the same read on the server, which
    upgrades on the command line and hands the rest to TLS; the client's
    early write arrives after the handshake; the server echoes it.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"HELLO\nSTARTTLS\n")
        tlsTransport(p).startTLS(authority().client_options("localhost"))
        p.tcp.write(b"early")

    def data(p: Peer, data: bytes) -> None:
        if p.received == b"early":
            p.tcp.loseConnection()

    port = _startTLSServer(w, b"", data=_echo)
    w.connect(port, tlsClientFactory(w, TLSPeer, made=made, data=data))
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def startTLSReversedRoles(w: World) -> None:
    """
    STARTTLS with normal=False on both ends: the TCP server becomes the TLS
    client -- its reply and its ClientHello reach the TCP client in one
    read, which upgrades as the TLS server and hands the rest on; data then
    flows both ways and the TCP client closes.
    """

    def upgrade(p: Peer) -> None:
        tlsTransport(p).startTLS(authority().server_options(), False)
        p.tcp.write(b"secret")

    def data(p: Peer, data: bytes) -> None:
        if p.received == b"secret":
            p.tcp.loseConnection()

    port = _startTLSServer(w, b"GO\n", normal=False, data=_echo)
    _connectStartTLS(w, port, upgrade, data=data, handshake=lambda p: noteTLS(w, p))
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def startTLSUntrusted(w: World) -> None:
    """
    STARTTLS where the client does not trust the server's CA: the upgrade
    fails with the same reasons as over listenSSL, and the plaintext before
    it was delivered.
    """

    def upgrade(p: Peer) -> None:
        tlsTransport(p).startTLS(otherAuthority().client_options("localhost"))
        p.tcp.write(b"never sent")

    port = _startTLSServer(w, b"GO\n")
    _connectStartTLS(w, port, upgrade)
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def startTLSThenCloseAtOnce(w: World) -> None:
    """
    The client writes the command, upgrades and calls loseConnection() in
    the same turn, with nothing written through TLS: TLS aborts the
    unfinished handshake, and the abort drops the plaintext command still
    buffered too -- the server never reads it; ConnectionLost on both
    protocols, ConnectionAborted for the client factory.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"STARTTLS\n")
        tlsTransport(p).startTLS(authority().client_options("localhost"))
        p.tcp.loseConnection()

    port = _startTLSServer(w, b"")
    w.connect(port, tlsClientFactory(w, made=made))
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def startTLSKeepsTheStreamingProducer(w: World) -> None:
    """
    A streaming producer registered before startTLS is unregistered and
    registered again through the TLS layer (which wraps it): TLS pauses it
    while the handshake holds a write back and resumes it once the handshake
    is done; unregistering it goes through TLS too, and the close that
    waited for it proceeds with a close_notify: the producer is never
    stopped, both ends see ConnectionDone.
    """
    producer = PushProducer(w)

    def made(p: Peer) -> None:
        tlsTransport(p).registerProducer(producer, True)
        p.tcp.write(b"STARTTLS\n")
        tlsTransport(p).startTLS(authority().client_options("localhost"))
        w.note("registered", tlsTransport(p).producer is not None)
        p.tcp.write(b"through TLS")
        p.tcp.loseConnection()

    def data(p: Peer, data: bytes) -> None:
        if p.received == b"through TLS":
            w.note("producer stopped", producer.stopped)
            tlsTransport(w.peer("c1")).unregisterProducer()

    port = _startTLSServer(w, b"", data=data)
    w.connect(port, tlsClientFactory(w, made=made))
    await w.when("c1", "lost")
    await w.when("s1", "lost")
