"""
C{demo}: the whole poetry system in one process, with no flags needed.  Its
options are L{poetry._options.DEMO}.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IListeningPort,
    IReactorTCP,
    IReactorTime,
)

from poetry._cli._context import Context, format_address
from poetry._cli._fetch import FetchBatch, FetchOutcome, fetch_many
from poetry._cli._listen import ListenFailed, listen_all, stop_all
from poetry._cli._progress import FetchDisplay, make_display
from poetry._values import DEFAULT_LISTEN, Address, PoemSource, Target
from poetry.proxy import PoetryProxyFactory
from poetry.server import SlowPoetryServerFactory, SlowPoetryServerProtocol
from poetry.transform import TransformServerFactory, TransformService

__all__ = ["DESCRIPTION", "run"]

DESCRIPTION = """\
A slow server, a transform server and a caching proxy (transforming through
the transform server) listen on free ports of 127.0.0.1; poems are fetched
concurrently, directly from the slow server and several times at once
through the proxy, then once more through the proxy (from its cache).  The
poems and a one-line summary per fetch are printed; the exit status is 0 if
every fetch succeeded.
"""


class _CountingSlowFactory(SlowPoetryServerFactory):
    """
    A slow poetry server that counts its connections, to show the proxy's
    coalescing and cache at work.
    """

    connections = 0

    def buildProtocol(self, addr: IAddress | None) -> SlowPoetryServerProtocol | None:
        self.connections += 1
        return super().buildProtocol(addr)


def _address(port: IListeningPort) -> Address:
    host = port.getHost()
    if not isinstance(host, (IPv4Address, IPv6Address)):
        raise TypeError(f"the demo listens on TCP, not on {host!r}")
    return Address(host.host, host.port)


async def run(reactor: IReactorTCP, args: argparse.Namespace, context: Context) -> int:
    """
    Run the demo.

    @return: the exit status: 0 if every fetch succeeded, 1 otherwise.
    """
    clock = IReactorTime(reactor)
    source: PoemSource = args.poem
    poem = source.read(context.stdin)
    slow = _CountingSlowFactory(poem, clock, args.chunk_size, args.delay)
    transforms = TransformServerFactory(TransformService(), clock)
    try:
        [slow_port, transform_port] = await listen_all(
            reactor, [(DEFAULT_LISTEN, slow), (DEFAULT_LISTEN, transforms)]
        )
    except ListenFailed as error:
        context.error(f"poetry demo: error: {error}")
        return 1
    slow_address = _address(slow_port)
    transform_address = _address(transform_port)
    proxy = PoetryProxyFactory(
        reactor,
        slow_address.host,
        slow_address.port,
        transform=(transform_address.host, transform_address.port, args.transform),
    )
    try:
        [proxy_port] = await listen_all(reactor, [(DEFAULT_LISTEN, proxy)])
    except ListenFailed as error:
        await stop_all([slow_port, transform_port])
        context.error(f"poetry demo: error: {error}")
        return 1
    ports = [slow_port, transform_port, proxy_port]
    proxy_address = _address(proxy_port)

    context.say(
        f"poetry: serving {source.label} slowly ({args.chunk_size} bytes every "
        f"{args.delay:g} s) on {format_address(slow_port.getHost())}"
    )
    context.say(
        f"poetry: serving transforms on {format_address(transform_port.getHost())}"
    )
    context.say(
        f"poetry: serving proxy for {slow_address} ({args.transform}) on "
        f"{format_address(proxy_port.getHost())}"
    )

    current: list[FetchBatch] = []
    stopped = [False]
    interrupted = [False]

    def stop_ports() -> Deferred[None] | None:
        if stopped[0]:
            return None
        stopped[0] = True
        return stop_all(ports)

    def shut_down() -> Deferred[None] | None:
        interrupted[0] = True
        for batch in current:
            batch.cancel()
        return stop_ports()

    context.on_shutdown(shut_down)

    display = make_display(context.stderr, context.stderr_is_tty, clock)
    try:
        context.say(
            f"poetry: fetching 1 poem directly and {args.clients} through the "
            "proxy, all at once"
        )
        first = await _fetch(
            reactor,
            [("direct", slow_address)]
            + [(f"proxy {n}", proxy_address) for n in range(1, args.clients + 1)],
            display,
            args.timeout,
            current,
        )
        second = []
        if not interrupted[0]:
            second = await _fetch(
                reactor,
                [("proxy again", proxy_address)],
                display,
                args.timeout,
                current,
            )
    finally:
        display.close()
    outcomes = first + second
    _show(context, outcomes)
    context.say(
        f"poetry: the slow server was connected to {_times(slow.connections)} "
        f"for {_count(len(outcomes), 'fetch', 'fetches')}"
    )
    closing = stop_ports()
    if closing is not None:
        await closing
    return 0 if all(outcome.ok for outcome in outcomes) else 1


async def _fetch(
    reactor: IReactorTCP,
    targets: Sequence[tuple[str, Target]],
    display: FetchDisplay,
    timeout: float,
    current: list[FetchBatch],
) -> list[FetchOutcome]:
    batch = fetch_many(reactor, targets, display, timeout=timeout)
    current.append(batch)
    try:
        return await batch.done
    finally:
        current.remove(batch)


def _show(context: Context, outcomes: list[FetchOutcome]) -> None:
    """
    Print each poem (once: a poem identical to an earlier one is named, not
    repeated), then one summary line per fetch.
    """
    shown: dict[bytes, str] = {}
    for outcome in outcomes:
        poem = outcome.poem
        if poem is None:
            continue
        heading = f"--- {outcome.label} ({outcome.address}, {len(poem)} bytes)"
        if poem in shown:
            context.say(f"{heading}: the same poem as {shown[poem]} ---")
            continue
        shown[poem] = outcome.label
        context.say(f"{heading} ---")
        context.write(poem if poem.endswith(b"\n") or not poem else poem + b"\n")
    context.say("poetry: summary")
    for outcome in outcomes:
        context.say(f"  {outcome.summary()}")


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _times(number: int) -> str:
    return {1: "once", 2: "twice"}.get(number, f"{number} times")
