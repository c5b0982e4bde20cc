"""
Scenarios: connecting, writing and closing -- the everyday path.
"""

from __future__ import annotations

from twisted.internet.interfaces import IListeningPort

from tests.oracle._registry import scenario
from tests.oracle._world import Explosion, Peer, World


@scenario
async def connectWriteCloseFromClient(w: World) -> None:
    """
    A client connects, writes, and closes; the server reads it all and both
    sides see ConnectionDone, factories in the real reactor's order.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"hello")
        p.tcp.loseConnection()

    port = w.listen()
    w.connect(port, made=made)
    await w.when("s1", "lost")
    await w.when("c1", "lost")


@scenario
async def serverWritesAndClosesInConnectionMade(w: World) -> None:
    """
    The poetry pattern: the server writes and closes in connectionMade; the
    client reads everything, then ConnectionDone.
    """

    def made(p: Peer) -> None:
        p.tcp.write(b"a poem\n" * 3)
        p.tcp.loseConnection()

    port = w.listen(made=made)
    w.connect(port)
    await w.when("c1", "lost")
    await w.when("cf", "doStop")


@scenario
async def connectionRefused(w: World) -> None:
    """
    Connecting to a port nobody listens on: clientConnectionFailed with
    ConnectionRefusedError, then doStop.
    """
    number = await w.closedPort()
    w.connect(number)
    await w.when("cf", "doStop")


@scenario
async def closeWithUnreadIncomingBytes(w: World) -> None:
    """
    The server writes a reply and closes while the client's request is still
    unread (it paused reading): the FIN goes before the RST, so the client
    reads the whole reply and sees ConnectionDone.
    """
    port = w.listen(made=lambda p: p.tcp.pauseProducing())
    w.connect(port, made=lambda p: p.tcp.write(b"request"))
    await w.when("c1", "made")
    await w.settle()
    server = w.peer("s1")
    server.tcp.write(b"reply" * 100)
    server.tcp.loseConnection()
    await w.when("c1", "lost")


@scenario
async def exceptionInServerConnectionMadeKeepsConnectionOpen(w: World) -> None:
    """
    An exception in the server protocol's connectionMade is logged, and the
    connection stays open: the client can still talk to it.
    """

    def made(p: Peer) -> None:
        raise Explosion("in connectionMade")

    port = w.listen(made=made)
    w.connect(port, made=lambda p: p.tcp.write(b"still there?"))
    await w.received("s1", 12)
    w.peer("s1").tcp.write(b"yes")
    await w.received("c1", 3)
    w.peer("c1").tcp.loseConnection()
    await w.when("s1", "lost")


@scenario
async def writeBeforeExceptionInDataReceivedIsNotDelivered(w: World) -> None:
    """
    A server that writes and then raises in dataReceived: the connection is
    lost with the exception, and the bytes written just before it never leave
    the user-space buffer.
    """

    def data(p: Peer, data: bytes) -> None:
        p.tcp.write(b"never sent")
        raise Explosion("in dataReceived")

    port = w.listen(data=data)
    w.connect(port, made=lambda p: p.tcp.write(b"go"))
    await w.when("c1", "lost")
    await w.when("s1", "lost")


@scenario
async def stopListeningTwice(w: World) -> None:
    """
    stopListening twice in a row, without waiting: what each call returns
    and how often the factory's doStop runs.
    """
    port: IListeningPort = w.listen()
    first = w.stopListening(port)
    second = w.stopListening(port)
    await first
    await second


@scenario
async def portZeroKeepsPortAttribute(w: World) -> None:
    """
    Listening on port 0: the port object's C{port} attribute stays 0 while
    getHost() reports the allocated number.
    """
    port = w.listen()
    w.note("port attribute", getattr(port, "port", "missing"))
    w.note("host port named", w.addressName(port.getHost()))


@scenario
async def writeToFullyClosedPeer(w: World) -> None:
    """
    A half-closeable client gets the server's FIN (the server closed), then
    writes twice: the closed server's kernel answers the first write with
    RST, which the client (neither reading nor writing any more) does not
    notice; the second write fails and the client loses the connection with
    ConnectionLost.
    """
    port = w.listen(made=lambda p: p.tcp.loseConnection())
    w.connect(port, readLost=lambda p: None)
    await w.when("c1", "readLost")
    await w.when("s1", "lost")
    w.peer("c1").tcp.write(b"anyone?")
    await w.settle()
    w.note("after first write")
    w.peer("c1").tcp.write(b"anyone at all?")
    await w.when("c1", "lost")


@scenario
async def connectToAnotherLoopbackAddress(w: World) -> None:
    """
    A client connecting to a listener on 127.0.0.5 gets 127.0.0.1 as its own
    address (Linux's route for 127.0.0.0/8 has source 127.0.0.1), which is
    what the server sees as its peer.
    """
    port = w.listen(interface="127.0.0.5")

    def made(p: Peer) -> None:
        w.note("client host", w.addressName(p.tcp.getHost()))
        w.note("client peer", w.addressName(p.tcp.getPeer()))

    w.connect(port, host="127.0.0.5", made=made)
    await w.when("c1", "made")
    await w.when("s1", "made")
    server = w.peer("s1")
    w.note("server host", w.addressName(server.tcp.getHost()))
    w.note("server peer", w.addressName(server.tcp.getPeer()))
