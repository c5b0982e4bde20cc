"""
C{serve}: fast or slow poetry servers, several poems on several ports in one
process.  Its options are L{poetry._options.SERVE}.
"""

from __future__ import annotations

import argparse

from twisted.internet.interfaces import IReactorTCP, IReactorTime

from poetry._cli._context import Context
from poetry._cli._listen import serve_until_shutdown
from poetry._options import make_server_factory
from poetry._values import PoemSource

__all__ = ["DESCRIPTION", "run"]

DESCRIPTION = """\
Serve poems with the poetry protocol: each client gets the whole poem, then
the connection is closed.  Give --poem once per poem; give --port as many
times as --poem (the k-th port serves the k-th poem), or not at all (each poem
on a free port of 127.0.0.1).  On start-up one line per port is printed to
standard output, with the actual address:

  poetry: serving POEM on HOST:PORT

Stops cleanly, closing its ports, on SIGINT or SIGTERM.
"""


async def run(reactor: IReactorTCP, args: argparse.Namespace, context: Context) -> int:
    """
    Serve every poem on its port until shutdown.

    @return: the exit status.
    """
    clock = IReactorTime(reactor)
    sources: list[PoemSource] = args.poem
    specs = [
        (
            source.label,
            port,
            make_server_factory(
                clock,
                source.read(context.stdin),
                slow=args.slow,
                chunk_size=args.chunk_size,
                delay=args.delay,
            ),
        )
        for source, port in zip(sources, args.port, strict=True)
    ]
    return await serve_until_shutdown(reactor, context, specs)
