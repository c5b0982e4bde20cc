"""
Benchmarks for poetry.testing.MemoryNetwork, printed as a table of ratios
and, with ``--json PATH``, written as JSON for a history kept by CI.

Run with ``tox -e bench`` (or ``python benchmarks/bench.py``; options after
``tox -e bench --``).  Nothing here asserts on time: every figure is measured
on this machine in this run, with a warm-up, several repeats and the median
kept, and compared with the others.  The targets of issue 15 are printed
with whether this run met them; the exit status does not depend on them.

1. Poem deliveries per second and microseconds per poem (server writes a
   ~8 KB poem and closes, the client collects it):
   (a) bytes handed straight to ``dataReceived`` -- the limit;
   (b) MemoryNetwork, default settings;
   (c) MemoryNetwork, seeded random chunking and tracing on;
   (d) ``twisted.test.iosim.connectedServerAndClient``;
   (e) ``twisted.protocols.loopback.loopbackAsync`` (needs a running reactor);
   (f) real loopback TCP on port 0.
2. Virtual seconds per wall second for a slow-server poem lasting > 1 hour.
3. 1,000, 10,000 and 100,000 concurrent clients against one slow server
   (backlog 4096, Linux's ``somaxconn``), spread over four client hosts
   (``net.host("127.0.1.N")``), every size in a fresh process: wall and CPU
   time, microseconds per connection, peak RSS, and the cost ratio per x10
   of work (the median of several processes for the small sizes).
4. Request/response round trips per second, MemoryNetwork vs real TCP.

Options: ``--quick`` takes fewer repeats and smaller batches and leaves the
100,000-client row out (about 10 s instead of about 2 minutes on the
two-core development machine, busy with other work); ``--clients
1000,10000`` chooses the concurrency sizes; ``--clock`` chooses the time
the ratios use (``cpu``, the default: this process's CPU time, steadier
when other processes share the cores; or ``wall``); ``--json PATH`` also
writes the whole table to PATH.

The JSON document, schema ``poetry-bench/1`` (a consumer checks ``schema``
first; under one schema name fields are only ever added, never changed in
meaning).  Times are seconds, rates per second; "chosen" means by
``clock``::

    {"schema": "poetry-bench/1",
     "created": "2025-01-31T12:00:00Z",    # UTC, when the run started
     "quick": false,
     "clock": "cpu",                       # or "wall"
     "machine": {"machine": "x86_64", "cores": 2,
                 "python": "CPython 3.11.7", "platform": "Linux-...",
                 "twisted": "26.4.0",
                 "load_average": {"start": [1.2, 1.0, 0.9],  # 1, 5, 15 min
                                  "end": [1.3, 1.1, 0.9]}},
     "deliveries": {"batch": 2000, "repeats": 7,
                    "rows": [{"key": "a",  # "a" to "f" as in section 1
                              "label": "(a) bytes straight to dataReceived",
                              "per_wall_second": 385127.0,  # median
                              "per_cpu_second": 390012.0,   # median
                              "us_per_poem": 2.6,           # chosen
                              "vs_a": 1.0,                  # this / (a), chosen
                              "b_over": 0.25}]},            # (b) / this, chosen
     "virtual_time": {"virtual_seconds": 3609.0, "wall_seconds": 0.01,
                      "virtual_per_wall": 357947.0},
     "concurrency": {"hosts": 4, "backlog": 4096, "poem_bytes": 100,
                     "chunk_size": 10, "delay": 0.7,
                     "rows": [{"clients": 1000,
                               "processes": 5,             # fresh processes
                               "wall_seconds": 0.17,       # median
                               "cpu_seconds": 0.17,        # median
                               "setup_seconds": 0.02,      # median, included
                               "setup_cpu_seconds": 0.02,  # median, included
                               "us_per_connection": 170.0, # chosen / clients
                               "peak_rss_mib": 46.0,       # the largest
                               "virtual_seconds": 7.3,
                               "full_collections": 1,      # gc generation 2
                               "time_ratio": null,         # chosen / previous row's
                               "work_ratio": null}]},      # clients / previous's
     "round_trips": {"rounds": 10000,
                     "memory_per_wall_second": 447671.0,
                     "memory_per_cpu_second": 450000.0,
                     "tcp_per_wall_second": 32074.0,
                     "tcp_per_cpu_second": 35000.0,
                     "ratio": 14.0},                       # chosen
     "targets": [{"name": "(b) / (a)", "value": 0.25,
                  "target": ">= 0.4 (goal 0.5)",
                  "met": false}]}          # value and met null: not measured
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
from typing import Any, NamedTuple

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


class Rate(NamedTuple):
    """
    The median operations per second of several timed batches, by wall time
    and by this process's CPU time (user + system): on an idle machine they
    agree; on a busy one CPU time is the steadier figure.
    """

    wall: float
    cpu: float


def _rate(batch: int, walls: list[float], cpus: list[float]) -> Rate:
    return Rate(
        statistics.median(batch / wall for wall in walls),
        statistics.median(batch / cpu for cpu in cpus),
    )


def rate(run_batch: Callable[[int], None], batch: int, repeats: int) -> Rate:
    """
    Return the median of C{repeats} measurements of operations per second, each
    timing C{run_batch(batch)} after one warm-up batch.
    """
    run_batch(max(1, batch // 10))
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run_batch(batch)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return _rate(batch, walls, cpus)


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
) -> Generator[Any, Any, Rate]:
    yield run_batch(max(1, batch // 10))
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        yield run_batch(batch)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return _rate(batch, walls, cpus)


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
#
# What a real deployment of the slow server would do for this many clients:
# listen with the largest backlog Linux allows by default (somaxconn, 4096;
# Twisted's default of 50 would leave most clients waiting for a SYN
# retransmit), and spread the clients over several hosts, each with its own
# ephemeral port range (28,232 ports per address).  The step budget, a guard
# against runaway loops, is raised in proportion: about 35 steps a client.

CONCURRENT_POEM = b"x" * 100  # 10 chunks of 10 bytes, 0.7 virtual s apart
CONCURRENT_CHUNK = 10
CONCURRENT_DELAY = 0.7
CLIENT_HOSTS = 4
BACKLOG = 4096


def concurrent_world(
    count: int, trace: bool = True
) -> tuple[Any, defer.Deferred[list[bytes]]]:
    """
    A L{MemoryNetwork} with the slow server listening and C{count} fetches
    started from L{CLIENT_HOSTS} client hosts (nothing has run yet).

    @param trace: the network's C{trace} setting (on, its default, in the
        bench; off only in experiments).
    @return: the network and a L{Deferred} of every poem.
    """
    from poetry.testing import MemoryNetwork

    net = MemoryNetwork(seed=3, step_budget=max(1_000_000, 50 * count), trace=trace)
    server = SlowPoetryServerFactory(
        CONCURRENT_POEM, net, chunk_size=CONCURRENT_CHUNK, delay=CONCURRENT_DELAY
    )
    port = net.listenTCP(0, server, backlog=BACKLOG, interface="127.0.0.1")
    number = _port_number(port)
    hosts = [net.host(f"127.0.1.{n}") for n in range(1, CLIENT_HOSTS + 1)]
    fetches = [
        get_poetry(hosts[i % CLIENT_HOSTS], "127.0.0.1", number) for i in range(count)
    ]
    return net, defer.gatherResults(fetches)


def concurrent_clients(
    count: int, after_setup: Callable[[], object] | None = None, trace: bool = True
) -> dict[str, float]:
    """
    Fetch C{count} slow poems at once (L{concurrent_world}) and run the
    network until every poem is in; return the measurements of this
    process.

    @param after_setup: called once every fetch is started, before the
        network runs (an experiment's hook: C{gc.freeze}, a census).
    @param trace: see L{concurrent_world}.
    """
    import gc
    import importlib

    importlib.import_module("poetry.testing")  # imported before the clocks start
    wall_start = time.perf_counter()
    cpu_start = time.process_time()
    net, done = concurrent_world(count, trace)
    setup = time.perf_counter() - wall_start
    setup_cpu = time.process_time() - cpu_start
    if after_setup is not None:
        after_setup()
    results = net.run_until(done)
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    assert len(results) == count
    assert all(result == CONCURRENT_POEM for result in results)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "clients": count,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "setup_seconds": setup,
        "setup_cpu_seconds": setup_cpu,
        "peak_rss_mib": peak_kib / 1024,
        "virtual_seconds": net.seconds(),
        "full_collections": gc.get_stats()[2]["collections"],
    }


def concurrent_in_subprocess(count: int) -> dict[str, float]:
    """
    Run L{concurrent_clients} in a fresh interpreter (so that peak RSS and
    the garbage collector's state are this size's alone).
    """
    output = subprocess.run(
        [sys.executable, __file__, "--concurrent", str(count)],
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    ).stdout
    result: dict[str, float] = json.loads(output)
    return result


def processes_for(count: int, quick: bool) -> int:
    """
    How many fresh processes measure C{count} clients (the median is kept):
    more for the small sizes, whose times vary most.
    """
    if count <= 2_000:
        return 3 if quick else 5
    if count <= 20_000:
        return 1 if quick else 3
    return 1


def concurrency(sizes: list[int], quick: bool, clock: str) -> list[dict[str, Any]]:
    """
    The rows of section 3: the median of L{processes_for} fresh processes
    per size, and each row's time ratio (by C{clock}) to the row before.
    """
    rows: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for count in sizes:
        runs = [
            concurrent_in_subprocess(count) for _ in range(processes_for(count, quick))
        ]
        cost = statistics.median(run[f"{clock}_seconds"] for run in runs)
        row: dict[str, Any] = {
            "clients": count,
            "processes": len(runs),
            "wall_seconds": statistics.median(run["wall_seconds"] for run in runs),
            "cpu_seconds": statistics.median(run["cpu_seconds"] for run in runs),
            "setup_seconds": statistics.median(run["setup_seconds"] for run in runs),
            "setup_cpu_seconds": statistics.median(
                run["setup_cpu_seconds"] for run in runs
            ),
            "us_per_connection": cost / count * 1e6,
            "peak_rss_mib": max(run["peak_rss_mib"] for run in runs),
            "virtual_seconds": runs[0]["virtual_seconds"],
            "full_collections": int(runs[0]["full_collections"]),
            "time_ratio": (
                None if previous is None else cost / previous[f"{clock}_seconds"]
            ),
            "work_ratio": None if previous is None else count / previous["clients"],
        }
        rows.append(row)
        previous = row
    return rows


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

SCHEMA = "poetry-bench/1"

LABELS = {
    "a": "(a) bytes straight to dataReceived",
    "b": "(b) MemoryNetwork, default",
    "c": "(c) MemoryNetwork, random chunks + trace",
    "d": "(d) twisted.test.iosim",
    "e": "(e) loopbackAsync",
    "f": "(f) real loopback TCP",
}


def machine() -> dict[str, Any]:
    """
    What the run was measured on.
    """
    import twisted

    return {
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "twisted": twisted.__version__,
        "load_average": {"start": list(os.getloadavg()), "end": None},
    }


def delivery_rows(rates: dict[str, Rate], clock: str) -> list[dict[str, Any]]:
    """
    Section 1's rows from the median rates by key; the derived figures use
    C{clock} (C{"cpu"} or C{"wall"}).
    """
    chosen = {key: getattr(value, clock) for key, value in rates.items()}
    return [
        {
            "key": key,
            "label": label,
            "per_wall_second": rates[key].wall,
            "per_cpu_second": rates[key].cpu,
            "us_per_poem": 1e6 / chosen[key],
            "vs_a": chosen[key] / chosen["a"],
            "b_over": chosen["b"] / chosen[key],
        }
        for key, label in LABELS.items()
    ]


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """
    The targets of issue 15 (and the virtual-time target before it), with
    this run's value and whether it met them; C{None} where this run did not
    measure the value (a concurrency size left out).
    """
    clock = report["clock"]
    rows = {row["key"]: row for row in report["deliveries"]["rows"]}
    by_clients = {row["clients"]: row for row in report["concurrency"]["rows"]}

    def ratio(large: int, small: int) -> float | None:
        if large in by_clients and small in by_clients:
            value: float = (
                by_clients[large][f"{clock}_seconds"]
                / by_clients[small][f"{clock}_seconds"]
            )
            return value
        return None

    b_over_a = rows["b"]["vs_a"]
    b_over_d = rows["d"]["b_over"]
    b_over_f = rows["f"]["b_over"]
    wall_100k = (
        by_clients[100_000][f"{clock}_seconds"] if 100_000 in by_clients else None
    )
    ratio_10k = ratio(10_000, 1_000)
    ratio_100k = ratio(100_000, 10_000)
    virtual = report["virtual_time"]["virtual_per_wall"]
    return [
        {
            "name": "(b) / (a)",
            "value": b_over_a,
            "target": ">= 0.4 (goal 0.5)",
            "met": _at_least(b_over_a, 0.4),
        },
        {
            "name": "(b) / iosim (d)",
            "value": b_over_d,
            "target": ">= 1.5",
            "met": _at_least(b_over_d, 1.5),
        },
        {
            "name": "(b) / real TCP (f)",
            "value": b_over_f,
            "target": ">= 20",
            "met": _at_least(b_over_f, 20),
        },
        {
            "name": f"100,000 clients, {clock} s",
            "value": wall_100k,
            "target": "<= 10",
            "met": _at_most(wall_100k, 10),
        },
        {
            "name": f"10k / 1k {clock} time",
            "value": ratio_10k,
            "target": "<= 11",
            "met": _at_most(ratio_10k, 11),
        },
        {
            "name": f"100k / 10k {clock} time",
            "value": ratio_100k,
            "target": "<= 11",
            "met": _at_most(ratio_100k, 11),
        },
        {
            "name": "virtual s per wall s",
            "value": virtual,
            "target": ">= 10,000",
            "met": _at_least(virtual, 10_000),
        },
    ]


def format_report(report: dict[str, Any]) -> str:
    """
    The report as the table C{tox -e bench} prints.
    """
    info = report["machine"]
    clock = report["clock"]
    load = info["load_average"]
    lines = [
        f"machine: {info['machine']}, {info['cores']} cores, {info['python']}, "
        f"Twisted {info['twisted']}, {info['platform']}",
        f"load average (1, 5, 15 min) at start {_loads(load['start'])}"
        + (f", at end {_loads(load['end'])}" if load["end"] is not None else "")
        + (" (quick run)" if report["quick"] else ""),
        "",
        f"1. poem deliveries (8 KB poem, write and close; by {clock} time)",
        f"   {'path':<42} {'poems/s':>10} {'us/poem':>8} {'x (a)':>7} {'(b) / x':>8}",
    ]
    for row in report["deliveries"]["rows"]:
        lines.append(
            f"   {row['label']:<42} {row[f'per_{clock}_second']:>10,.0f}"
            f" {row['us_per_poem']:>8.2f} {row['vs_a']:>7.3f} {row['b_over']:>8.2f}"
        )
    virtual = report["virtual_time"]
    lines += [
        "",
        "2. slow-server poem on the virtual clock",
        f"   {virtual['virtual_seconds']:,.0f} virtual s in "
        f"{virtual['wall_seconds']:.3f} wall s: "
        f"{virtual['virtual_per_wall']:,.0f} virtual s per wall s",
        "",
    ]
    section = report["concurrency"]
    lines += [
        "3. concurrent clients against one slow server "
        f"({section['hosts']} client hosts, backlog {section['backlog']}, "
        "a fresh process each)",
        f"   {'clients':>9} {'procs':>5} {'wall s':>8} {'CPU s':>8} "
        f"{'us/conn':>8} {'peak RSS':>10} {'full GCs':>8}  {clock} time per x10 work",
    ]
    for row in section["rows"]:
        if row["time_ratio"] is None:
            growth = ""
        elif row["work_ratio"] == 10:
            growth = f"x{row['time_ratio']:.2f}"
        else:
            growth = f"x{row['time_ratio']:.2f} for x{row['work_ratio']:g} work"
        lines.append(
            f"   {row['clients']:>9,} {row['processes']:>5} "
            f"{row['wall_seconds']:>8.3f} {row['cpu_seconds']:>8.3f} "
            f"{row['us_per_connection']:>8.1f} {row['peak_rss_mib']:>6.0f} MiB "
            f"{row['full_collections']:>8}  {growth}"
        )
    trips = report["round_trips"]
    lines += [
        "",
        f"4. request/response round trips per second (one connection; {clock})",
        f"   MemoryNetwork {trips[f'memory_per_{clock}_second']:,.0f}/s, "
        f"real TCP {trips[f'tcp_per_{clock}_second']:,.0f}/s, "
        f"ratio {trips['ratio']:.1f}x",
        "",
        "targets (issue 15; printed, never asserted)",
    ]
    for target in report["targets"]:
        value = target["value"]
        shown = "-" if value is None else f"{value:,.3g}"
        verdict = {True: "met", False: "NOT met", None: "not measured"}[target["met"]]
        lines.append(
            f"   {target['name']:<26} {shown:>9}  target {target['target']:<18} "
            f"{verdict}"
        )
    return "\n".join(lines)


def _loads(loads: list[float]) -> str:
    return " ".join(f"{load:.2f}" for load in loads)


def main(
    reactor: Any, quick: bool, sizes: list[int], clock: str, json_path: str | None
) -> defer.Deferred[None]:
    return defer.ensureDeferred(_main(reactor, quick, sizes, clock, json_path))


async def _main(
    reactor: Any, quick: bool, sizes: list[int], clock: str, json_path: str | None
) -> None:
    repeats = 3 if quick else 7
    batch = 300 if quick else 2000
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": quick,
        "clock": clock,
        "machine": machine(),
    }

    rates: dict[str, Rate] = {}
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
    report["deliveries"] = {
        "batch": batch,
        "repeats": repeats,
        "rows": delivery_rows(rates, clock),
    }

    virtual, wall, ratio = virtual_per_wall()
    report["virtual_time"] = {
        "virtual_seconds": virtual,
        "wall_seconds": wall,
        "virtual_per_wall": ratio,
    }

    report["concurrency"] = {
        "hosts": CLIENT_HOSTS,
        "backlog": BACKLOG,
        "poem_bytes": len(CONCURRENT_POEM),
        "chunk_size": CONCURRENT_CHUNK,
        "delay": CONCURRENT_DELAY,
        "rows": concurrency(sizes, quick, clock),
    }

    rounds = 2000 if quick else 10_000
    memory = rate(lambda n: memory_round_trips(n), rounds, repeats)
    tcp_rounds = max(200, rounds // 10)
    tcp = await async_rate(lambda n: tcp_round_trips(reactor, n), tcp_rounds, repeats)
    report["round_trips"] = {
        "rounds": rounds,
        "memory_per_wall_second": memory.wall,
        "memory_per_cpu_second": memory.cpu,
        "tcp_per_wall_second": tcp.wall,
        "tcp_per_cpu_second": tcp.cpu,
        "ratio": getattr(memory, clock) / getattr(tcp, clock),
    }

    report["machine"]["load_average"]["end"] = list(os.getloadavg())
    report["targets"] = targets(report)
    print(format_report(report))
    if json_path is not None:
        with open(json_path, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)
            file.write("\n")
        print(f"\nwritten to {json_path} (schema {SCHEMA})")


def _sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part]
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(
            f"--clients needs positive numbers separated by commas, not {text!r}"
        )
    return sizes


FULL_SIZES = [1_000, 10_000, 100_000]
QUICK_SIZES = [1_000, 10_000]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats, smaller batches, and no 100,000-client row",
    )
    parser.add_argument(
        "--clients",
        type=_sizes,
        metavar="N,N,...",
        help="the concurrency sizes (default 1000,10000,100000; "
        "with --quick 1000,10000)",
    )
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="also write the whole table to PATH as JSON (schema poetry-bench/1)",
    )
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="the time the ratios, costs and targets use (default cpu: this "
        "process's CPU time, steadier when other processes share the cores; "
        "both are measured and written to the JSON)",
    )
    parser.add_argument("--concurrent", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.concurrent is not None:
        print(json.dumps(concurrent_clients(args.concurrent)), flush=True)
        # A benchmark child: skip freeing every object of the world one by
        # one at exit (seconds at 100,000 clients); its figures are out.
        os._exit(0)
    sizes = args.clients or (QUICK_SIZES if args.quick else FULL_SIZES)
    task.react(main, [args.quick, sizes, args.clock, args.json])
