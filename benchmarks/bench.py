"""
Benchmarks for poetry.testing.MemoryNetwork, printed as a table of ratios.

Run with ``tox -e bench`` (or ``python benchmarks/bench.py``).  Nothing here
asserts on time: every figure is measured on this machine in this run, with a
warm-up, several repeats and the median kept, and compared with the others.

1. Poem deliveries per second (server writes a ~8 KB poem and closes, the
   client collects it):
   (a) bytes handed straight to ``dataReceived`` -- the limit;
   (b) MemoryNetwork, default settings;
   (c) MemoryNetwork, seeded random chunking and tracing on;
   (d) ``twisted.test.iosim.connectedServerAndClient``;
   (e) ``twisted.protocols.loopback.loopbackAsync`` (needs a running reactor);
   (f) real loopback TCP on port 0.
2. Virtual seconds per wall second for a slow-server poem lasting > 1 hour.
3. 1,000 and 10,000 concurrent clients against one slow server: wall time,
   peak memory (each size in a fresh process), and the 10k/1k cost ratio.
4. Request/response round trips per second, MemoryNetwork vs real TCP.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Generator
from typing import Any

from twisted.internet import defer, task
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IAddress, IConnector, IListeningPort
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

# ``python benchmarks/bench.py`` from a checkout: make the repository root
# importable.  Appended, so that an installed package (``tox -e bench``)
# still comes first.
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from poetry.client import PoetryClientProtocol, get_poetry
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory

POEM = (b"All work and no play makes a poem a dull poem.\n" * 175)[:8192]
CONNECTION_DONE = Failure(ConnectionDone())


# -- a tiny runner: warm-up, repeats, median ---------------------------------


def rate(run_batch: Callable[[int], None], batch: int, repeats: int) -> float:
    """
    Return the median of C{repeats} measurements of operations per second, each
    timing C{run_batch(batch)} after one warm-up batch.
    """
    run_batch(max(1, batch // 10))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_batch(batch)
        rates.append(batch / (time.perf_counter() - start))
    return statistics.median(rates)


# -- 1. poem deliveries --------------------------------------------------------
#
# Every path runs the same two protocols -- poetry's fast server protocol and
# poetry's client protocol -- through a whole connection: build both, connect,
# write the poem, close, both connectionLost.  Only the transport differs.

SERVER_FACTORY = PoetryServerFactory(POEM)
SERVER_FACTORY.noisy = False


class _PoemClientFactory(ClientFactory[PoetryClientProtocol]):
    noisy = False
    client: PoetryClientProtocol | None = None

    def buildProtocol(self, addr: IAddress | None) -> PoetryClientProtocol:
        self.client = PoetryClientProtocol()
        return self.client


def _poem_of(client: PoetryClientProtocol | None) -> bytes:
    assert client is not None
    poems: list[bytes] = []
    client.finished.addCallback(poems.append)
    return poems[0]


class _DirectTransport:
    """
    The least a transport can do: hand each write straight to the peer's
    C{dataReceived}, and on close call both sides' C{connectionLost}.
    """

    def __init__(self, peer: Protocol) -> None:
        self.peer = peer
        self.protocol: Protocol | None = None

    def write(self, data: bytes) -> None:
        self.peer.dataReceived(data)

    def loseConnection(self) -> None:
        assert self.protocol is not None
        self.protocol.connectionLost(CONNECTION_DONE)
        self.peer.connectionLost(CONNECTION_DONE)


def direct_batch(n: int) -> None:
    for _ in range(n):
        client = PoetryClientProtocol()
        client.makeConnection(None)
        server = SERVER_FACTORY.buildProtocol(None)
        assert server is not None
        transport = _DirectTransport(client)
        transport.protocol = server
        server.makeConnection(transport)
        assert _poem_of(client) == POEM


def memory_network_batch(**settings: Any) -> Callable[[int], None]:
    from poetry.testing import MemoryNetwork

    def run(n: int) -> None:
        net = MemoryNetwork(seed=1, **settings)
        port = net.listenTCP(0, SERVER_FACTORY, interface="127.0.0.1")
        number = _port_number(port)
        factory = _PoemClientFactory()
        for _ in range(n):
            net.connectTCP("127.0.0.1", number, factory)
            net.run()
            assert _poem_of(factory.client) == POEM

    return run


def random_chunks() -> Any:
    """
    Link conditions for (c): seeded random segment sizes of 1 to 1,460 bytes
    (an Ethernet TCP segment at most).
    """
    from poetry.testing import LinkConditions, RandomSizes

    return LinkConditions(chunking=RandomSizes(1, 1460))


def iosim_batch(n: int) -> None:
    from twisted.test.iosim import connectedServerAndClient

    for _ in range(n):
        client, _server, pump = connectedServerAndClient(
            lambda: SERVER_FACTORY.buildProtocol(None), PoetryClientProtocol
        )
        pump.flush()
        assert _poem_of(client) == POEM


@defer.inlineCallbacks
def loopback_async_batch(n: int) -> Generator[Any, Any, None]:
    from twisted.protocols.loopback import loopbackAsync

    for _ in range(n):
        client = PoetryClientProtocol()
        server = SERVER_FACTORY.buildProtocol(None)
        yield loopbackAsync(server, client)
        assert _poem_of(client) == POEM


@defer.inlineCallbacks
def real_tcp_batch(reactor: Any, n: int) -> Generator[Any, Any, None]:
    port = reactor.listenTCP(0, SERVER_FACTORY, interface="127.0.0.1")
    try:
        number = _port_number(port)
        factory = _PoemClientFactory()
        for _ in range(n):
            reactor.connectTCP("127.0.0.1", number, factory)
            while factory.client is None:
                yield task.deferLater(reactor, 0, lambda: None)
            poem = yield factory.client.finished
            factory.client = None
            assert poem == POEM
    finally:
        yield port.stopListening()


@defer.inlineCallbacks
def async_rate(
    run_batch: Callable[[int], defer.Deferred[None]], batch: int, repeats: int
) -> Generator[Any, Any, float]:
    yield run_batch(max(1, batch // 10))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        yield run_batch(batch)
        rates.append(batch / (time.perf_counter() - start))
    return statistics.median(rates)


# -- 2. virtual time -----------------------------------------------------------


def virtual_per_wall() -> tuple[float, float, float]:
    from poetry.testing import MemoryNetwork

    poem = bytes(range(256)) * 141  # 36,096 bytes, 10 per second: > 1 hour
    net = MemoryNetwork(seed=2)
    port = net.listenTCP(
        0, SlowPoetryServerFactory(poem, net, chunk_size=10, delay=1.0)
    )
    start = time.perf_counter()
    received = net.run_until(get_poetry(net, "127.0.0.1", _port_number(port)))
    wall = time.perf_counter() - start
    assert received == poem
    virtual = net.seconds()
    return virtual, wall, virtual / wall


# -- 3. many concurrent clients (run in a fresh process per size) -------------


def concurrent_clients(count: int) -> dict[str, float]:
    from poetry.testing import MemoryNetwork

    poem = b"x" * 100  # 10 chunks each, 0.7 s apart
    net = MemoryNetwork(seed=3)
    start = time.perf_counter()
    port = net.listenTCP(0, SlowPoetryServerFactory(poem, net), interface="127.0.0.1")
    number = _port_number(port)
    fetches = [get_poetry(net, "127.0.0.1", number) for _ in range(count)]
    results = net.run_until(defer.gatherResults(fetches))
    wall = time.perf_counter() - start
    assert all(result == poem for result in results)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"count": count, "wall": wall, "peak_mib": peak_kib / 1024}


def concurrent_in_subprocess(count: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--concurrent", str(count)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    result: dict[str, float] = json.loads(output)
    return result


# -- 4. request/response round trips --------------------------------------------


class _Echo(LineReceiver):
    def lineReceived(self, line: bytes) -> None:
        self.sendLine(line)


class _PingPong(LineReceiver):
    def __init__(self, rounds: int, done: defer.Deferred[int]) -> None:
        self.remaining = rounds
        self.done = done

    def connectionMade(self) -> None:
        self.sendLine(b"ping")

    def lineReceived(self, line: bytes) -> None:
        self.remaining -= 1
        if self.remaining:
            self.sendLine(b"ping")
        else:
            assert self.transport is not None
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = CONNECTION_DONE) -> None:
        self.done.callback(self.remaining)


class _PingPongFactory(ClientFactory[_PingPong]):
    noisy = False

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.done: defer.Deferred[int] = defer.Deferred()

    def buildProtocol(self, addr: IAddress | None) -> _PingPong:
        return _PingPong(self.rounds, self.done)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.done.errback(reason)


def memory_round_trips(rounds: int) -> None:
    from poetry.testing import MemoryNetwork

    net = MemoryNetwork(seed=4)
    port = net.listenTCP(0, _echo_factory(), interface="127.0.0.1")
    factory = _PingPongFactory(rounds)
    net.connectTCP("127.0.0.1", _port_number(port), factory)
    assert net.run_until(factory.done) == 0


@defer.inlineCallbacks
def tcp_round_trips(reactor: Any, rounds: int) -> Generator[Any, Any, None]:
    port = reactor.listenTCP(0, _echo_factory(), interface="127.0.0.1")
    factory = _PingPongFactory(rounds)
    reactor.connectTCP("127.0.0.1", _port_number(port), factory)
    remaining = yield factory.done
    assert remaining == 0
    yield port.stopListening()


def _echo_factory() -> ServerFactory[_Echo]:
    factory = ServerFactory[_Echo]()
    factory.protocol = _Echo
    factory.noisy = False
    return factory


def _port_number(port: IListeningPort) -> int:
    address = port.getHost()
    assert isinstance(address, IPv4Address)
    return address.port


# -- the report ------------------------------------------------------------------


def main(reactor: Any, quick: bool) -> defer.Deferred[None]:
    return defer.ensureDeferred(_main(reactor, quick))


async def _main(reactor: Any, quick: bool) -> None:
    repeats = 3 if quick else 7
    batch = 300 if quick else 2000
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.platform()}"
    )
    print()

    rates: dict[str, float] = {}
    rates["a"] = rate(direct_batch, batch * 10, repeats)
    rates["b"] = rate(memory_network_batch(), batch, repeats)
    rates["c"] = rate(
        memory_network_batch(link=random_chunks(), trace=True), batch, repeats
    )
    rates["d"] = rate(iosim_batch, batch, repeats)
    rates["e"] = await async_rate(loopback_async_batch, batch, repeats)
    rates["f"] = await async_rate(
        lambda n: real_tcp_batch(reactor, n), max(50, batch // 10), repeats
    )
    labels = {
        "a": "(a) bytes straight to dataReceived",
        "b": "(b) MemoryNetwork, default",
        "c": "(c) MemoryNetwork, random chunks + trace",
        "d": "(d) twisted.test.iosim",
        "e": "(e) loopbackAsync",
        "f": "(f) real loopback TCP",
    }
    print("1. poem deliveries per second (8 KB poem, write and close)")
    print(f"   {'path':<42} {'poems/s':>10} {'x (a)':>8} {'(b) / x':>8}")
    for key, label in labels.items():
        print(
            f"   {label:<42} {rates[key]:>10,.0f} {rates[key] / rates['a']:>8.3f}"
            f" {rates['b'] / rates[key]:>8.2f}"
        )
    print()

    virtual, wall, ratio = virtual_per_wall()
    print("2. slow-server poem on the virtual clock")
    print(
        f"   {virtual:,.0f} virtual s in {wall:.3f} wall s: "
        f"{ratio:,.0f} virtual s per wall s"
    )
    print()

    small = concurrent_in_subprocess(1_000)
    large = concurrent_in_subprocess(10_000)
    print("3. concurrent clients against one slow server (fresh process each)")
    for row in (small, large):
        print(
            f"   {int(row['count']):>6,} clients: {row['wall']:.3f} s wall, "
            f"peak RSS {row['peak_mib']:.1f} MiB"
        )
    print(f"   10k/1k wall-time ratio: {large['wall'] / small['wall']:.2f}")
    print()

    rounds = 2000 if quick else 10_000
    memory = rate(lambda n: memory_round_trips(n), rounds, repeats)
    tcp_rounds = max(200, rounds // 10)
    tcp = await async_rate(lambda n: tcp_round_trips(reactor, n), tcp_rounds, repeats)
    print("4. request/response round trips per second (one connection)")
    print(
        f"   MemoryNetwork {memory:,.0f}/s, real TCP {tcp:,.0f}/s, "
        f"ratio {memory / tcp:.1f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--concurrent", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.concurrent is not None:
        print(json.dumps(concurrent_clients(args.concurrent)))
    else:
        task.react(main, [args.quick])
