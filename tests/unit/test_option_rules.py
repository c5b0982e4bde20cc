"""
One table of rules, run against both front ends: every rule the command
line (C{python -m poetry serve|transform-server|proxy}) enforces, the twistd
plugins (C{poetry-server}, C{poetry-transform}, C{poetry-proxy}) enforce
too, with the same message; and what both accept, they read the same way.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from poetry._cli import parse_args
from poetry._options import COMMANDS, PROXY, SERVE, TRANSFORM_SERVER, Command
from poetry._services import ProxyOptions, ServerOptions, TransformOptions

Given = list[tuple[str, str | None]]
"""
Options as C{(name, value)} pairs, in order; a flag's value is L{None}.
"""

_TWISTD: dict[str, type[usage.Options]] = {
    SERVE.name: ServerOptions,
    TRANSFORM_SERVER.name: TransformOptions,
    PROXY.name: ProxyOptions,
}


def cli_argv(command: Command, given: Given) -> list[str]:
    """
    The command line for C{given}: positional arguments first, in order,
    then C{--NAME VALUE} (or C{--NAME} for a flag).
    """
    positional = [value for name, value in given if command.option(name).positional]
    options: list[str] = []
    for name, value in given:
        if not command.option(name).positional:
            options += [f"--{name}"] if value is None else [f"--{name}", value]
    return [command.name, *[v for v in positional if v is not None], *options]


def twistd_argv(given: Given) -> list[str]:
    """
    The twistd plugin's options for C{given}: always C{--NAME VALUE}.
    """
    argv: list[str] = []
    for name, value in given:
        argv += [f"--{name}"] if value is None else [f"--{name}", value]
    return argv


def cli_error(test: SynchronousTestCase, argv: list[str]) -> str:
    """
    The error line the command line prints for C{argv}, after checking that
    it exits with status 2.
    """
    stderr = io.StringIO()
    with (
        redirect_stderr(stderr),
        redirect_stdout(io.StringIO()),
        test.assertRaises(SystemExit, msg=argv) as caught,
    ):
        parse_args(argv)
    test.assertEqual(caught.exception.code, 2, argv)
    return stderr.getvalue().splitlines()[-1]


def twistd_error(test: SynchronousTestCase, command: Command, given: Given) -> str:
    """
    The usage error the twistd plugin's options raise for C{given}.
    """
    argv = twistd_argv(given)
    with test.assertRaises(usage.UsageError, msg=argv) as caught:
        _TWISTD[command.name]().parseOptions(argv)
    return str(caught.exception)


def rows(missing: str) -> list[tuple[Command, Given, str]]:
    """
    Bad options and the message both front ends must give; C{missing} is a
    file that does not exist.
    """
    return [
        (SERVE, [("port", "70000")], "invalid port '70000': must be 0 to 65535"),
        (SERVE, [("port", "-5")], "invalid port '-5': must be 0 to 65535"),
        (SERVE, [("port", "tcp:abc")], "invalid endpoint 'tcp:abc'"),
        (SERVE, [("port", "foo:1")], "Unknown endpoint type: 'foo'"),
        (SERVE, [("poem", "no-such-poem")], "unknown poem 'no-such-poem'"),
        (SERVE, [("poem", missing)], "cannot read poem file"),
        (SERVE, [("slow", None), ("delay", "-1")], "must not be negative"),
        (SERVE, [("slow", None), ("delay", "nan")], "must be finite"),
        (SERVE, [("slow", None), ("chunk-size", "0")], "must be at least 1"),
        (SERVE, [("slow", None), ("chunk-size", "x")], "invalid whole number"),
        (SERVE, [("chunk-size", "3")], "--chunk-size and --delay need --slow"),
        (SERVE, [("delay", "1")], "--chunk-size and --delay need --slow"),
        (
            SERVE,
            [("port", "1"), ("port", "2"), ("poem", "cafe")],
            "2 --port for 1 --poem",
        ),
        (SERVE, [("poem", "cafe"), ("poem", "clockwork"), ("port", "0")], "1 --port"),
        (TRANSFORM_SERVER, [("port", "x")], "invalid endpoint 'x'"),
        (TRANSFORM_SERVER, [("port", "65536")], "must be 0 to 65535"),
        (TRANSFORM_SERVER, [("idle-timeout", "0")], "must be greater than 0"),
        (TRANSFORM_SERVER, [("idle-timeout", "inf")], "must be finite"),
        (TRANSFORM_SERVER, [("max-length", "0")], "must be at least 1"),
        (TRANSFORM_SERVER, [("max-length", "1.5")], "invalid whole number"),
        (PROXY, [], "required"),
        (PROXY, [("upstream", "x")], "malformed address 'x'"),
        (PROXY, [("upstream", "0")], "must be 1 to 65535"),
        (PROXY, [("upstream", "1"), ("port", "tcp:99999")], "must be 0 to 65535"),
        (PROXY, [("upstream", "1"), ("ttl", "-1")], "must not be negative"),
        (PROXY, [("upstream", "1"), ("transform", "5")], "malformed transform '5'"),
        (
            PROXY,
            [("upstream", "1"), ("transform", "5:a.b")],
            "bad transform name 'a.b'",
        ),
        (
            PROXY,
            [("upstream", "1"), ("upstream-timeout", "0")],
            "must be greater than 0",
        ),
    ]


class SharedRuleTests(SynchronousTestCase):
    """
    The rule table, against the command line and the twistd plugins.
    """

    def test_bad(self) -> None:
        """
        Each row is refused by both front ends, each giving the row's
        message: the command line as its last line (exit status 2), twistd
        as the L{usage.UsageError}.
        """
        missing = str(Path(self.mktemp()) / "missing.txt")
        for command, given, expected in rows(missing):
            cli = cli_error(self, cli_argv(command, given))
            twistd = twistd_error(self, command, given)
            self.assertIn(expected, cli, (command.name, given))
            self.assertIn(expected, twistd, (command.name, given))

    def test_every_option_has_a_rule_row(self) -> None:
        """
        The table covers every option that takes a value, of every command
        with a twistd plugin, and every rule between options: so a rule
        added to one front end and not the other fails L{test_bad}.
        """
        covered = {
            (command.name, name)
            for command, given, _ in rows("missing")
            for name, _ in given
        }
        for command in (SERVE, TRANSFORM_SERVER, PROXY):
            for option in command.options:
                if not option.flag:
                    self.assertIn((command.name, option.name), covered)
        self.assertEqual(
            {command.name for command in COMMANDS if command.tapname},
            set(_TWISTD),
        )
        self.assertRaises(KeyError, SERVE.option, "no-such-option")

    def test_same_values(self) -> None:
        """
        What both accept, both read into the same values, defaults
        included.
        """
        good: list[tuple[Command, Given]] = [
            (SERVE, []),
            (
                SERVE,
                [
                    *(("poem", "cafe"), ("port", "0"), ("poem", "clockwork")),
                    *(("port", "tcp:5"), ("slow", None), ("chunk-size", "3")),
                    ("delay", "0"),
                ],
            ),
            (SERVE, [("poem", "cafe"), ("poem", "cafe")]),
            (TRANSFORM_SERVER, []),
            (TRANSFORM_SERVER, [("idle-timeout", "2.5"), ("max-length", "10")]),
            (PROXY, [("upstream", "localhost:1")]),
            (
                PROXY,
                [
                    *(("upstream", "[::1]:5"), ("ttl", "0"), ("port", "7")),
                    *(("transform", "h:9:upper"), ("upstream-timeout", "1")),
                ],
            ),
        ]
        for command, given in good:
            args = parse_args(cli_argv(command, given))
            options = _TWISTD[command.name]()
            options.parseOptions(twistd_argv(given))
            cli: dict[str, Any] = {
                option.name: getattr(args, option.dest) for option in command.options
            }
            twistd = {option.name: options[option.name] for option in command.options}
            self.assertEqual(cli, twistd, (command.name, given))
