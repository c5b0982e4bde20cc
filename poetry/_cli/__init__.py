"""
The command line of poetry (private): C{python -m poetry COMMAND ...}.

One module per command (C{_serve}, C{_get}, C{_transform}, C{_proxy},
C{_demo}), each with an C{async def run(reactor, args, context) -> int} and
the description its help shows; C{_main} builds the parser from the option
table (L{poetry._options}, shared with the twistd plugins) and dispatches.
Commands take their reactor as a parameter: only L{poetry.__main__} uses the
global one.
"""

from poetry._cli._context import Context, shutdown_registrar
from poetry._cli._main import build_parser, execute, parse_args, start_logging

__all__ = [
    "Context",
    "build_parser",
    "execute",
    "parse_args",
    "shutdown_registrar",
    "start_logging",
]
