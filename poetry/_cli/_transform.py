"""
C{transform-server} (serve the transform service) and C{transform} (ask one
to transform a poem).  Their options are L{poetry._options.TRANSFORM_SERVER}
and L{poetry._options.TRANSFORM}.
"""

from __future__ import annotations

import argparse

from twisted.internet.interfaces import IReactorTCP, IReactorTime
from twisted.python.failure import Failure

from poetry._cli._context import Context, describe_failure
from poetry._cli._fetch import request_transform
from poetry._cli._listen import serve_until_shutdown
from poetry._options import make_transform_factory
from poetry._values import PoemSource, Target
from poetry.transform import TransformService

__all__ = ["CLIENT_DESCRIPTION", "SERVER_DESCRIPTION", "run_client", "run_server"]

SERVER_DESCRIPTION = f"""\
Serve the transform service: a client sends one netstring NAME.POEM and gets
back one netstring holding the transformed poem.  A bad request is answered
by closing the connection without a reply (and a warning in the log).

Transforms: {", ".join(TransformService().names())}.

On start-up one line per port is printed to standard output:

  poetry: serving transforms on HOST:PORT

Stops cleanly, closing its ports, on SIGINT or SIGTERM.
"""

CLIENT_DESCRIPTION = """\
Ask the transform server at ADDRESS ([HOST:]PORT, or a client endpoint
description such as unix:/tmp/transform.sock) to apply the transform NAME
to POEM, and write the result to standard output.  The exit status is 0 on
success, 1 (with an error line on standard error) if the server refused or
failed.
"""


async def run_server(
    reactor: IReactorTCP, args: argparse.Namespace, context: Context
) -> int:
    """
    Serve the transform service on every port until shutdown.
    """
    factory = make_transform_factory(
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
    address: Target = args.address
    source: PoemSource = args.poem
    request = request_transform(
        reactor,
        address,
        args.name,
        source.read(context.stdin),
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
