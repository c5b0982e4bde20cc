"""
C{proxy}: a caching poetry proxy in front of one upstream server,
optionally transforming the poem on the way.
"""

from __future__ import annotations

import argparse
from typing import Any

from twisted.internet.interfaces import IReactorTCP

from poetry._cli._context import Context
from poetry._cli._listen import serve_until_shutdown
from poetry._cli._parsing import (
    DEFAULT_LISTEN,
    Address,
    TransformTarget,
    argument_type,
    parse_address,
    parse_listen,
    parse_non_negative_float,
    parse_positive_float,
    parse_transform_target,
)
from poetry.proxy import PoetryProxyFactory

__all__ = ["add_parser", "run"]

_DESCRIPTION = """\
Serve the poem of the poetry server at UPSTREAM ([HOST:]PORT) to any number
of clients: the first client's request fetches it (clients arriving meanwhile
share that one fetch), later ones get it from the cache until --ttl runs out.
A failed fetch is never cached, and its waiting clients are disconnected
abruptly (so they cannot mistake it for a poem).  With --transform the poem
is passed through a transform server first; if that fails, the original poem
is served and not cached.  On start-up one line per port is printed:

  poetry: serving proxy for UPSTREAM on HOST:PORT

Stops cleanly, closing its ports, on SIGINT or SIGTERM.
"""


def add_parser(
    subparsers: Any, parents: list[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    """
    Add the C{proxy} subcommand to C{subparsers}.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "proxy",
        parents=parents,
        help="a caching proxy for a poetry server",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "upstream",
        type=argument_type(parse_address),
        metavar="UPSTREAM",
        help="[HOST:]PORT of the poetry server to proxy",
    )
    parser.add_argument(
        "--port",
        action="append",
        type=argument_type(parse_listen),
        metavar="PORT",
        help="a port number (on 127.0.0.1) or an endpoint description such as "
        "tcp:10002; may be repeated (default: a free port on 127.0.0.1)",
    )
    parser.add_argument(
        "--ttl",
        type=argument_type(parse_non_negative_float),
        metavar="SECONDS",
        help="serve a fetched poem from the cache for this long; 0 disables "
        "caching (default: 300)",
    )
    parser.add_argument(
        "--transform",
        type=argument_type(parse_transform_target),
        metavar="[HOST:]PORT:NAME",
        help="pass the poem through the transform NAME of the transform "
        "server at [HOST:]PORT, e.g. 10001:cummingsify",
    )
    parser.add_argument(
        "--upstream-timeout",
        type=argument_type(parse_positive_float),
        metavar="SECONDS",
        help="give up on an upstream fetch after this long (default: 30)",
    )
    parser.set_defaults(run=run, check=check)
    return parser


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """
    Fill in the default port.
    """
    if args.port is None:
        args.port = [DEFAULT_LISTEN]


def make_factory(
    reactor: IReactorTCP,
    upstream: Address,
    *,
    ttl: float | None,
    transform: TransformTarget | None,
    upstream_timeout: float | None,
) -> PoetryProxyFactory:
    """
    The proxy factory for the command line and for C{twistd poetry-proxy};
    an option that is L{None} keeps the factory's default.
    """
    options: dict[str, Any] = {}
    if ttl is not None:
        options["ttl"] = ttl
    if upstream_timeout is not None:
        options["upstream_timeout"] = upstream_timeout
    if transform is not None:
        address = transform.address
        options["transform"] = (address.host, address.port, transform.name)
    return PoetryProxyFactory(reactor, upstream.host, upstream.port, **options)


async def run(reactor: IReactorTCP, args: argparse.Namespace, context: Context) -> int:
    """
    Serve the proxy on every port until shutdown.
    """
    factory = make_factory(
        reactor,
        args.upstream,
        ttl=args.ttl,
        transform=args.transform,
        upstream_timeout=args.upstream_timeout,
    )
    specs = [(f"proxy for {args.upstream}", port, factory) for port in args.port]
    return await serve_until_shutdown(reactor, context, specs)
