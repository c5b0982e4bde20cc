"""
The parser and the dispatcher of C{python -m poetry}.

L{parse_args} turns the command line into a namespace (exit status 2, one
error line and the usage on standard error, for any bad argument);
L{execute} runs the chosen command on a given reactor.  Only
L{poetry.__main__} touches the global reactor.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import IO, Any

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
from poetry._options import (
    COMMANDS,
    DEMO,
    GET,
    PROXY,
    SERVE,
    TRANSFORM,
    TRANSFORM_SERVER,
    Command,
    resolve,
)

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

Run = Callable[[IReactorTCP, argparse.Namespace, Context], Any]

# What runs each command, and the description its --help shows.
_RUNNERS: dict[str, tuple[Run, str]] = {
    SERVE.name: (_serve.run, _serve.DESCRIPTION),
    GET.name: (_get.run, _get.DESCRIPTION),
    TRANSFORM_SERVER.name: (_transform.run_server, _transform.SERVER_DESCRIPTION),
    TRANSFORM.name: (_transform.run_client, _transform.CLIENT_DESCRIPTION),
    PROXY.name: (_proxy.run, _proxy.DESCRIPTION),
    DEMO.name: (_demo.run, _demo.DESCRIPTION),
}


class _CommandParser(argparse.ArgumentParser):
    """
    The parser of one command: an argument it does not know is reported by
    this parser, with its own usage line, rather than by the program's.
    """

    def parse_known_args(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        namespace: argparse.Namespace | None = None,
    ) -> tuple[argparse.Namespace, list[str]]:
        # The override's signature is argparse's on every supported Python
        # (typeshed's overloads differ by version).
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


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


def _argument_type(option_name: str, parse: Callable[[str], Any]) -> Any:
    """
    Adapt a parser of L{poetry._values} for C{argparse}: its L{ValueError}
    message becomes the one-line error C{argparse} prints above the usage.
    """

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = option_name
    return convert


def _add_options(parser: argparse.ArgumentParser, command: Command) -> None:
    """
    Add C{command}'s options, as the option table describes them.  Nothing
    gets an C{argparse} default: L{resolve} fills them in after parsing, as
    it does for twistd, so a rule can tell what the user gave.
    """
    for option in command.options:
        kwargs: dict[str, Any] = {"help": option.full_help()}
        if option.flag:
            kwargs["action"] = "store_true"
        else:
            assert option.parse is not None
            kwargs["type"] = _argument_type(option.name, option.parse)
            kwargs["metavar"] = option.metavar
            if option.repeat:
                kwargs["action"] = "append"
        if option.positional:
            if option.nargs is not None:
                kwargs["nargs"] = option.nargs
            parser.add_argument(option.dest, **kwargs)
            continue
        names = [f"--{option.name}"]
        if option.short is not None:
            names.append(f"-{option.short}")
        parser.add_argument(*names, dest=option.dest, **kwargs)


def _command_parser(
    command: Command,
    prog: str,
    subparsers: Any | None,
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    run, description = _RUNNERS[command.name]
    settings: dict[str, Any] = {
        "description": description,
        "formatter_class": argparse.RawDescriptionHelpFormatter,
        "parents": parents,
    }
    if subparsers is None:
        parser: argparse.ArgumentParser = _CommandParser(prog=prog, **settings)
        _add_version(parser)
    else:
        parser = subparsers.add_parser(command.name, help=command.help, **settings)
    _add_options(parser, command)
    parser.set_defaults(command=command.name, run=run, parser=parser)
    return parser


def _add_version(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {poetry.__version__}"
    )


def build_parser(
    prog: str = "python -m poetry", command: str | None = None
) -> argparse.ArgumentParser:
    """
    The command-line parser, with one subcommand per command; or, given
    C{command}, that command's parser alone (a console script such as
    C{poetry-get} is one command).
    """
    parents = [_verbosity_parent("verbose", prog)]
    if command is not None:
        [chosen] = [c for c in COMMANDS if c.name == command]
        parser = _command_parser(chosen, prog, None, parents)
        parser.set_defaults(verbose_before=0)
        return parser
    parser = argparse.ArgumentParser(
        prog=prog,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        parents=[_verbosity_parent("verbose_before", prog)],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_version(parser)
    subparsers = parser.add_subparsers(
        title="commands",
        dest="command",
        metavar="COMMAND",
        required=True,
        parser_class=_CommandParser,
    )
    for each in COMMANDS:
        _command_parser(each, prog, subparsers, parents)
    return parser


def parse_args(
    argv: Sequence[str] | None,
    prog: str = "python -m poetry",
    command: str | None = None,
) -> argparse.Namespace:
    """
    Parse a command line (without the program name; L{None} means
    C{sys.argv[1:]}); with C{command}, the arguments of that command alone.
    Nothing is read from standard input: a poem given as C{-} is read when
    the command runs.

    @raise SystemExit: with status 2 after printing an error line and the
        usage (the command's own, for an error in its arguments) to standard
        error, for any bad argument; with status 0 after C{--help} or
        C{--version}.
    """
    parser = build_parser(prog, command)
    args = parser.parse_args(argv)
    args.verbose = args.verbose + args.verbose_before
    [chosen] = [c for c in COMMANDS if c.name == args.command]
    values = {option.name: getattr(args, option.dest) for option in chosen.options}
    try:
        resolve(chosen, values)
    except ValueError as error:
        args.parser.error(str(error))
    for option in chosen.options:
        setattr(args, option.dest, values[option.name])
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
