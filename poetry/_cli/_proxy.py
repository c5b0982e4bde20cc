"""
C{proxy}: a caching poetry proxy in front of one upstream server,
optionally transforming the poem on the way.  Its options are
L{poetry._options.PROXY}.
"""

from __future__ import annotations

import argparse

from twisted.internet.interfaces import IReactorTCP

from poetry._cli._context import Context
from poetry._cli._listen import serve_until_shutdown
from poetry._options import make_proxy_factory

__all__ = ["DESCRIPTION", "run"]

DESCRIPTION = """\
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


async def run(reactor: IReactorTCP, args: argparse.Namespace, context: Context) -> int:
    """
    Serve the proxy on every port until shutdown.
    """
    factory = make_proxy_factory(
        reactor,
        args.upstream,
        ttl=args.ttl,
        transform=args.transform,
        upstream_timeout=args.upstream_timeout,
    )
    specs = [(f"proxy for {args.upstream}", port, factory) for port in args.port]
    return await serve_until_shutdown(reactor, context, specs)
