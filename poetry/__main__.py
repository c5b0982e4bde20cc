"""
The entry point of C{python -m poetry} and of the console scripts.

This is the only module of the package that uses the global reactor: it
parses the command line, starts logging to standard error, and runs the
command with L{twisted.internet.task.react}, which stops the reactor when
the command is over (or on SIGINT/SIGTERM) and exits with its status.

The command starts only once the reactor is running
(L{IReactorCore.callWhenRunning}), that is after the reactor has installed
its SIGINT and SIGTERM handlers: so by the time a server prints
C{poetry: serving ...}, a signal always means a clean shutdown (exit
status 0), however soon after that line it comes.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorCore, IReactorTCP
from twisted.internet.task import react

__all__ = ["get_main", "main", "serve_main"]


def main(
    argv: Sequence[str] | None = None,
    prog: str | None = None,
    command: str | None = None,
) -> NoReturn:
    """
    Run C{python -m poetry} with C{argv} (default: C{sys.argv[1:]}) and exit
    with the command's status.

    @param prog: the program name in messages; by default C{python -m poetry},
        or the console script's name when run as one.
    @param command: the one command C{argv} is for (a console script such as
        C{poetry-get}), or L{None} when C{argv} starts with the command.
    """
    if prog is None:
        script = os.path.basename(sys.argv[0]) if sys.argv else ""
        prog = "python -m poetry" if script in ("", "__main__.py") else script
    from poetry._cli import (
        Context,
        execute,
        parse_args,
        shutdown_registrar,
        start_logging,
    )

    args = parse_args(argv, prog, command)
    start_logging(sys.stderr, args.verbose)

    context = Context(
        stdout=sys.stdout.buffer,
        stderr=sys.stderr,
        stderr_is_tty=sys.stderr.isatty(),
        on_shutdown=lambda cleanup: None,
        # No standard input at all (a closed descriptor 0) reads as empty.
        stdin=io.BytesIO() if sys.stdin is None else sys.stdin.buffer,
    )

    def run(reactor: IReactorCore) -> Deferred[None]:
        context.on_shutdown = shutdown_registrar(reactor)
        done: Deferred[int] = Deferred()

        def start() -> None:
            execute(IReactorTCP(reactor), args, context).chainDeferred(done)

        # Not before: the signal handlers are installed as the reactor starts.
        reactor.callWhenRunning(start)
        return done.addCallback(_exit)

    try:
        react(run)
    finally:
        if context.stdout_closed:
            # Python would complain when it flushes standard output at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


def _exit(status: int) -> None:
    if status != 0:
        raise SystemExit(status)


def serve_main() -> NoReturn:
    """
    The C{poetry-serve} console script: C{python -m poetry serve}.
    """
    main(sys.argv[1:], prog="poetry-serve", command="serve")


def get_main() -> NoReturn:
    """
    The C{poetry-get} console script: C{python -m poetry get}.
    """
    main(sys.argv[1:], prog="poetry-get", command="get")


if __name__ == "__main__":
    main()
