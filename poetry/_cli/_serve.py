"""
C{serve}: fast or slow poetry servers, several poems on several ports in one
process.
"""

from __future__ import annotations

import argparse
from typing import Any

from twisted.internet.interfaces import IProtocolFactory, IReactorTCP, IReactorTime

from poetry import poems
from poetry._cli._context import Context
from poetry._cli._listen import serve_until_shutdown
from poetry._cli._parsing import (
    DEFAULT_LISTEN,
    PoemSource,
    argument_type,
    parse_listen,
    parse_non_negative_float,
    parse_poem,
    parse_positive_int,
)
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory

__all__ = ["DEFAULT_CHUNK_SIZE", "DEFAULT_DELAY", "DEFAULT_POEM", "add_parser", "run"]

DEFAULT_POEM = "lighthouse"
DEFAULT_CHUNK_SIZE = 10
DEFAULT_DELAY = 0.7

_DESCRIPTION = """\
Serve poems with the poetry protocol: each client gets the whole poem, then
the connection is closed.  Give --poem once per poem; give --port as many
times as --poem (the k-th port serves the k-th poem), or not at all (each poem
on a free port of 127.0.0.1).  On start-up one line per port is printed to
standard output, with the actual address:

  poetry: serving POEM on HOST:PORT

Stops cleanly, closing its ports, on SIGINT or SIGTERM.
"""


def add_parser(
    subparsers: Any, parents: list[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    """
    Add the C{serve} subcommand to C{subparsers}.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        parents=parents,
        help="serve poems (fast, or slowly with --slow)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port",
        action="append",
        type=argument_type(parse_listen),
        metavar="PORT",
        help="a port number (on 127.0.0.1) or an endpoint description such as "
        "tcp:0 or tcp:10000:interface=0.0.0.0; repeat once per --poem "
        "(default: a free port on 127.0.0.1 for each poem)",
    )
    parser.add_argument(
        "--poem",
        action="append",
        type=argument_type(parse_poem),
        metavar="POEM",
        help="a bundled poem's name, a file path, or - for standard input; "
        f"repeat to serve several poems (default: {DEFAULT_POEM})",
    )
    parser.add_argument(
        "--slow",
        action="store_true",
        help="send each poem a chunk at a time (see --chunk-size, --delay)",
    )
    parser.add_argument(
        "--chunk-size",
        type=argument_type(parse_positive_int),
        metavar="N",
        help=f"with --slow: bytes per chunk (default: {DEFAULT_CHUNK_SIZE})",
    )
    parser.add_argument(
        "--delay",
        type=argument_type(parse_non_negative_float),
        metavar="SECONDS",
        help=f"with --slow: seconds between chunks (default: {DEFAULT_DELAY})",
    )
    parser.set_defaults(run=run, check=check)
    return parser


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """
    Check what C{argparse} cannot, and fill in defaults; report problems with
    C{parser.error} (exit status 2).
    """
    if not args.slow and (args.chunk_size is not None or args.delay is not None):
        parser.error("--chunk-size and --delay need --slow")
    if args.poem is None:
        args.poem = [PoemSource(DEFAULT_POEM, poems.load(DEFAULT_POEM))]
    if args.port is None:
        args.port = [DEFAULT_LISTEN] * len(args.poem)
    elif len(args.port) != len(args.poem):
        parser.error(
            f"{len(args.port)} --port for {len(args.poem)} --poem: give one "
            "--port per --poem, or none to use a free port for each"
        )
    if args.chunk_size is None:
        args.chunk_size = DEFAULT_CHUNK_SIZE
    if args.delay is None:
        args.delay = DEFAULT_DELAY


def make_factory(
    clock: IReactorTime, poem: bytes, *, slow: bool, chunk_size: int, delay: float
) -> IProtocolFactory:
    """
    The poetry server factory for the command line and for C{twistd
    poetry-server}: fast, or slow on C{clock}.
    """
    if slow:
        return SlowPoetryServerFactory(poem, clock, chunk_size, delay)
    return PoetryServerFactory(poem)


async def run(reactor: IReactorTCP, args: argparse.Namespace, context: Context) -> int:
    """
    Serve every poem on its port until shutdown.

    @return: the exit status.
    """
    clock = IReactorTime(reactor)
    specs = [
        (
            source.label,
            port,
            make_factory(
                clock,
                source.poem,
                slow=args.slow,
                chunk_size=args.chunk_size,
                delay=args.delay,
            ),
        )
        for source, port in zip(args.poem, args.port, strict=True)
    ]
    return await serve_until_shutdown(reactor, context, specs)
