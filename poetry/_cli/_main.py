"""
The parser and the dispatcher of C{python -m poetry}.

L{parse_args} turns the command line into a namespace (exit status 2, one
error line and the usage on standard error, for any bad argument);
L{execute} runs the chosen command on a given reactor.  Only
L{poetry.__main__} touches the global reactor.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import IO

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTCP
from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)

import poetry
from poetry._cli import _demo, _get, _proxy, _serve, _transform
from poetry._cli._context import Context

__all__ = ["build_parser", "execute", "log_observer", "parse_args", "start_logging"]

_DESCRIPTION = """\
The poetry system from the command line: poetry servers (fast and slow), the
poetry client, the transform service and its client, a caching proxy, and a
demo of them all.  Run 'COMMAND --help' for the options of each command.
"""

_EPILOG = """\
exit status: 0 on success (and after a clean shutdown on SIGINT or SIGTERM),
1 when the work failed (a fetch, a request, a port that cannot be opened),
2 for bad arguments.
"""


def _verbosity_parent(dest: str, prog: str) -> argparse.ArgumentParser:
    # The prog is never shown; given, it keeps argparse from reading
    # sys.argv[0], which may be missing (an embedded interpreter).
    parent = argparse.ArgumentParser(prog=prog, add_help=False)
    parent.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        dest=dest,
        help="log to standard error: -v logs informational events, -vv also "
        "debug ones (default: warnings and errors only)",
    )
    return parent


def build_parser(prog: str = "python -m poetry") -> argparse.ArgumentParser:
    """
    The command-line parser, with one subcommand per command.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        parents=[_verbosity_parent("verbose_before", prog)],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {poetry.__version__}"
    )
    subparsers = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )
    parents = [_verbosity_parent("verbose", prog)]
    _serve.add_parser(subparsers, parents)
    _get.add_parser(subparsers, parents)
    _transform.add_parsers(subparsers, parents)
    _proxy.add_parser(subparsers, parents)
    _demo.add_parser(subparsers, parents)
    for subparser in subparsers.choices.values():
        subparser.set_defaults(parser=subparser)
    return parser


def parse_args(
    argv: Sequence[str] | None, prog: str = "python -m poetry"
) -> argparse.Namespace:
    """
    Parse a command line (without the program name; L{None} means
    C{sys.argv[1:]}).

    @raise SystemExit: with status 2 after printing an error line and the
        usage to standard error, for any bad argument; with status 0 after
        C{--help} or C{--version}.
    """
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    args.verbose = args.verbose + args.verbose_before
    check = getattr(args, "check", None)
    if check is not None:
        check(args.parser, args)
    return args


def execute(
    reactor: IReactorTCP, args: argparse.Namespace, context: Context
) -> Deferred[int]:
    """
    Run the command C{args} chose.

    @return: fires with the exit status.
    """
    return Deferred.fromCoroutine(args.run(reactor, args, context))


def log_observer(stream: IO[str], verbosity: int) -> ILogObserver:
    """
    An observer writing events at the level C{verbosity} asks for (0: warn,
    1: info, 2 or more: debug) as text lines to C{stream}.
    """
    level = (LogLevel.warn, LogLevel.info, LogLevel.debug)[min(verbosity, 2)]
    return FilteringLogObserver(
        textFileLogObserver(stream),
        [LogLevelFilterPredicate(defaultLogLevel=level)],
    )


def start_logging(stream: IO[str], verbosity: int) -> None:
    """
    Send the global log to C{stream} at the level C{verbosity} asks for.  For
    entry points only: this changes process-wide state.
    """
    globalLogBeginner.beginLoggingTo(
        [log_observer(stream, verbosity)], redirectStandardIO=False
    )
