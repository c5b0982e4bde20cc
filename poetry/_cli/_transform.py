"""
C{transform-server} (serve the transform service) and C{transform} (ask one
to transform a poem).
"""

from __future__ import annotations

import argparse
from typing import Any

from twisted.internet.interfaces import IReactorTCP, IReactorTime
from twisted.python.failure import Failure

from poetry._cli._context import Context, describe_failure
from poetry._cli._listen import serve_until_shutdown
from poetry._cli._parsing import (
    DEFAULT_LISTEN,
    Address,
    PoemSource,
    argument_type,
    parse_address,
    parse_listen,
    parse_poem,
    parse_positive_float,
    parse_positive_int,
    parse_transform_name,
)
from poetry.transform import (
    DEFAULT_MAX_LENGTH,
    TransformServerFactory,
    TransformService,
    transform,
)

__all__ = ["DEFAULT_IDLE_TIMEOUT", "add_parsers", "run_client", "run_server"]

DEFAULT_IDLE_TIMEOUT = 30.0

_SERVER_DESCRIPTION = f"""\
Serve the transform service: a client sends one netstring NAME.POEM and gets
back one netstring holding the transformed poem.  A bad request is answered
by closing the connection without a reply (and a warning in the log).

Transforms: {", ".join(TransformService().names())}.

On start-up one line per port is printed to standard output:

  poetry: serving transforms on HOST:PORT

Stops cleanly, closing its ports, on SIGINT or SIGTERM.
"""

_CLIENT_DESCRIPTION = """\
Ask the transform server at ADDRESS ([HOST:]PORT) to apply the transform NAME
to POEM, and write the result to standard output.  The exit status is 0 on
success, 1 (with an error line on standard error) if the server refused or
failed.
"""


def add_parsers(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """
    Add the C{transform-server} and C{transform} subcommands.
    """
    server: argparse.ArgumentParser = subparsers.add_parser(
        "transform-server",
        parents=parents,
        help="serve the transform service",
        description=_SERVER_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server.add_argument(
        "--port",
        action="append",
        type=argument_type(parse_listen),
        metavar="PORT",
        help="a port number (on 127.0.0.1) or an endpoint description such as "
        "tcp:10001; may be repeated (default: a free port on 127.0.0.1)",
    )
    server.add_argument(
        "--idle-timeout",
        type=argument_type(parse_positive_float),
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help="close a connection that has not sent a whole request after this "
        f"long (default: {DEFAULT_IDLE_TIMEOUT:g})",
    )
    server.add_argument(
        "--max-length",
        type=argument_type(parse_positive_int),
        default=DEFAULT_MAX_LENGTH,
        metavar="BYTES",
        help="the longest request (NAME.POEM) accepted "
        f"(default: {DEFAULT_MAX_LENGTH})",
    )
    server.set_defaults(run=run_server, check=_check_server)

    client: argparse.ArgumentParser = subparsers.add_parser(
        "transform",
        parents=parents,
        help="transform a poem with a transform server",
        description=_CLIENT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    client.add_argument(
        "address",
        type=argument_type(parse_address),
        metavar="ADDRESS",
        help="[HOST:]PORT of the transform server",
    )
    client.add_argument(
        "name",
        type=argument_type(parse_transform_name),
        metavar="NAME",
        help="the transform, e.g. cummingsify",
    )
    client.add_argument(
        "poem",
        nargs="?",
        default="-",
        type=argument_type(parse_poem),
        metavar="POEM",
        help="a poem file, a bundled poem's name, or - for standard input "
        "(the default)",
    )
    client.add_argument(
        "--timeout",
        type=argument_type(parse_positive_float),
        metavar="SECONDS",
        help="give up after this long (default: wait as long as it takes)",
    )
    client.set_defaults(run=run_client)


def _check_server(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.port is None:
        args.port = [DEFAULT_LISTEN]


async def run_server(
    reactor: IReactorTCP, args: argparse.Namespace, context: Context
) -> int:
    """
    Serve the transform service on every port until shutdown.
    """
    factory = TransformServerFactory(
        TransformService(),
        IReactorTime(reactor),
        max_length=args.max_length,
        idle_timeout=args.idle_timeout,
    )
    specs = [("transforms", port, factory) for port in args.port]
    return await serve_until_shutdown(reactor, context, specs)


async def run_client(
    reactor: IReactorTCP, args: argparse.Namespace, context: Context
) -> int:
    """
    Send one request; write the reply to standard output.
    """
    address: Address = args.address
    source: PoemSource = args.poem
    request = transform(
        reactor,
        address.host,
        address.port,
        args.name,
        source.poem,
        timeout=args.timeout,
    )
    context.on_shutdown(request.cancel)
    try:
        reply = await request
    except Exception:
        context.error(
            f"poetry: {address}: transform {args.name!r} failed: "
            f"{describe_failure(Failure())}"
        )
        return 1
    context.write(reply)
    return 0
