"""
Tests for the command line's value parsers (L{poetry._values}) and
for the whole argument parser: every bad argument exits with status 2, one
error line and the usage, and no traceback.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from poetry import _values, poems
from poetry._cli import parse_args
from poetry._values import (
    Address,
    Endpoint,
    TransformTarget,
    format_address,
    parse_address,
    parse_listen,
    parse_non_negative_float,
    parse_poem,
    parse_positive_float,
    parse_positive_int,
    parse_target,
    parse_transform_name,
    parse_transform_target,
)
from poetry.server import SlowPoetryServerFactory


class ParseAddressTests(SynchronousTestCase):
    """
    L{parse_address} reads C{[HOST:]PORT}.
    """

    def test_good(self) -> None:
        """
        A port alone means 127.0.0.1; host names, IPv4 and bracketed IPv6
        hosts are accepted.
        """
        rows = {
            "10000": Address("127.0.0.1", 10000),
            "localhost:1": Address("localhost", 1),
            "192.0.2.7:65535": Address("192.0.2.7", 65535),
            "poems.example.org:80": Address("poems.example.org", 80),
            "[::1]:10000": Address("::1", 10000),
        }
        for text, expected in rows.items():
            self.assertEqual(parse_address(text), expected, text)

    def test_bad(self) -> None:
        """
        Malformed addresses and ports out of 1 to 65535 raise L{ValueError}
        with a message naming the input.
        """
        for text in [
            "",
            "abc",
            "host:",
            ":80",
            "host:0",
            "host:65536",
            "0",
            "a:b:c",
            "[::1]",
            "[::1]10000",
            "[]:1",
            "bad host:80",
            "host:-1",
            "host:1x",
            "[not-v6!]:1",
            "[::g]:1",
            "[fe80::1%no spaces]:1",
        ]:
            with self.assertRaises(ValueError, msg=text) as caught:
                parse_address(text)
            self.assertIn(repr(text), str(caught.exception))

    def test_str(self) -> None:
        """
        An L{Address} prints as it is written on the command line.
        """
        self.assertEqual(str(Address("127.0.0.1", 5)), "127.0.0.1:5")
        self.assertEqual(str(Address("::1", 5)), "[::1]:5")


class ParseTargetTests(SynchronousTestCase):
    """
    L{parse_target} reads where a client connects: C{[HOST:]PORT} or a
    client endpoint description.
    """

    def test_good(self) -> None:
        """
        Addresses become L{Address}es; descriptions of Twisted's client
        endpoint types become L{Endpoint}s, kept as written.
        """
        rows = {
            "10000": Address("127.0.0.1", 10000),
            "localhost:1": Address("localhost", 1),
            "[::1]:5": Address("::1", 5),
            "unix:/tmp/poetry.sock": Endpoint("unix:/tmp/poetry.sock"),
            "unix:path=/tmp/p.sock": Endpoint("unix:path=/tmp/p.sock"),
            "tcp:localhost:10000": Endpoint("tcp:localhost:10000"),
            "TCP:host=::1:port=5": Endpoint("TCP:host=::1:port=5"),
        }
        for text, expected in rows.items():
            self.assertEqual(parse_target(text), expected, text)
        self.assertEqual(str(Endpoint("unix:/x")), "unix:/x")

    def test_bad(self) -> None:
        """
        Malformed addresses keep the address message; malformed
        descriptions say what is wrong with them.
        """
        rows = {
            "abc": "malformed address 'abc': expected [HOST:]PORT",
            "not:an:address": "malformed address 'not:an:address'",
            "host:-1": "invalid port '-1': must be 1 to 65535",
            "-5": "invalid port '-5': must be 1 to 65535",
            "unix:": "invalid endpoint 'unix:': no path given",
            "tcp:h:70000": "invalid port '70000': must be 1 to 65535",
            "tcp:h": "invalid endpoint 'tcp:h': missing or unexpected field",
            "tcp:h:1:timeout=x": "invalid endpoint 'tcp:h:1:timeout=x'",
        }
        for text, expected in rows.items():
            with self.assertRaises(ValueError, msg=text) as caught:
                parse_target(text)
            self.assertIn(expected, str(caught.exception), text)

    def test_ssl(self) -> None:
        """
        An C{ssl:} description needs Twisted's TLS support: without it, the
        error says so (and how to get it).
        """
        text = "ssl:poems.example:10000"
        if importlib.util.find_spec("OpenSSL") is None:
            with self.assertRaises(ValueError) as caught:
                parse_target(text)
            self.assertIn("TLS support is not installed", str(caught.exception))
        else:
            self.assertEqual(parse_target(text), Endpoint(text))

    def test_plugin_type(self) -> None:
        """
        A description of a type Twisted's parser knows only through a plugin
        (C{PREFIX:...}, not C{[HOST:]PORT}) is an L{Endpoint} when
        L{clientFromString} accepts it, and an address error when it does
        not.
        """
        accepted: list[str] = []

        def accepting(reactor: object, description: str) -> object:
            accepted.append(description)
            return object()

        self.patch(_values, "clientFromString", accepting)
        self.assertEqual(
            parse_target("tor:host=x:port=1"), Endpoint("tor:host=x:port=1")
        )
        self.assertEqual(accepted, ["tor:host=x:port=1"])
        self.assertRaises(ValueError, parse_target, "Bad Type:1:2")

    def test_format_address(self) -> None:
        """
        Addresses are shown as the command line takes them.
        """
        rows = [
            (IPv4Address("TCP", "127.0.0.1", 5), "127.0.0.1:5"),
            (IPv6Address("TCP", "::1", 5), "[::1]:5"),
            (UNIXAddress(b"/tmp/s"), "unix:/tmp/s"),
            (UNIXAddress(None), "unix:"),
            (None, "(unknown)"),
        ]
        for address, shown in rows:
            self.assertEqual(format_address(address), shown)


class ParseListenTests(SynchronousTestCase):
    """
    L{parse_listen} turns C{--port} into an endpoint description.
    """

    def test_number(self) -> None:
        """
        A bare port number listens on 127.0.0.1; 0 means a free port.
        """
        self.assertEqual(parse_listen("0"), "tcp:0:interface=127.0.0.1")
        self.assertEqual(parse_listen("10000"), "tcp:10000:interface=127.0.0.1")

    def test_default_interface(self) -> None:
        """
        A C{tcp} description without an interface gets 127.0.0.1 (C{tcp6}:
        C{::1}, also when it gives a backlog, its second positional field);
        one that names an interface, or another endpoint type, is kept as
        given.
        """
        rows = {
            "tcp:0": "tcp:0:interface=127.0.0.1",
            "tcp:port=5": "tcp:port=5:interface=127.0.0.1",
            "tcp:10000:interface=0.0.0.0": "tcp:10000:interface=0.0.0.0",
            "tcp:10000:0.0.0.0": "tcp:10000:0.0.0.0",
            "tcp6:0": r"tcp6:0:interface=\:\:1",
            "tcp6:0:50": r"tcp6:0:50:interface=\:\:1",
            "tcp:0:127.0.0.2": "tcp:0:127.0.0.2",
            "unix:/tmp/poetry.sock": "unix:/tmp/poetry.sock",
        }
        for text, expected in rows.items():
            self.assertEqual(parse_listen(text), expected, text)

    def test_escapes(self) -> None:
        """
        Backslash escapes are read as L{serverFromString} reads them: an
        escaped character is part of its field (an escaped colon does not
        split), so an interface given as C{\\:\\:1} is kept as given, and an
        escaped digit still makes a port number.
        """
        rows = {
            r"tcp6:0:50:\:\:1": r"tcp6:0:50:\:\:1",
            r"tcp:1\0000": r"tcp:1\0000:interface=127.0.0.1",
        }
        for text, expected in rows.items():
            self.assertEqual(parse_listen(text), expected, text)
        with self.assertRaises(ValueError) as caught:
            parse_listen(r"tcp:\x")
        self.assertIn("invalid port 'x': not a number", str(caught.exception))

    def test_bad(self) -> None:
        """
        Bad numbers, unknown endpoint types and malformed descriptions raise
        L{ValueError}.
        """
        for text in [
            "65536",
            "-1",
            "",
            "abc",
            "tcp",
            "tcp:abc",
            "tcp:99999",
            "tcp:-1",
            "tcp:port=x",
            "foo:1",
            "tcp:0:bogus=1",
        ]:
            self.assertRaises(ValueError, parse_listen, text)


class ParsePoemTests(SynchronousTestCase):
    """
    L{parse_poem} reads a bundled poem, a file or standard input.
    """

    def test_bundled(self) -> None:
        """
        A bundled poem's name gives its bytes.
        """
        source = parse_poem("cafe")
        self.assertEqual(source.label, "cafe")
        self.assertEqual(source.read(io.BytesIO()), poems.load("cafe"))

    def test_file(self) -> None:
        """
        A path gives the file's bytes, exactly; a file in the current
        directory wins over a bundled poem of the same name.
        """
        path = Path(self.mktemp())
        path.write_bytes(b"\xffnot utf-8\r\n")
        self.assertEqual(parse_poem(str(path)).read(io.BytesIO()), b"\xffnot utf-8\r\n")
        self.assertEqual(parse_poem(str(path)).label, str(path))
        local = Path("lighthouse")
        local.write_bytes(b"mine")
        self.addCleanup(local.unlink)
        self.assertEqual(parse_poem("lighthouse").read(io.BytesIO()), b"mine")

    def test_stdin(self) -> None:
        """
        C{-} is standard input, read only when the command asks for the
        poem (never while parsing), as bytes, from the stream it is given.
        """

        class Untouchable:
            @property
            def buffer(self) -> object:
                raise AssertionError("standard input read while parsing")

        self.patch(sys, "stdin", Untouchable())
        source = parse_poem("-")
        self.assertEqual(source.label, "stdin")
        self.assertEqual(source.read(io.BytesIO(b"from stdin\n")), b"from stdin\n")

    def test_unreadable(self) -> None:
        """
        A missing file or a directory is a L{ValueError} naming the path and
        the reason.
        """
        missing = str(Path(self.mktemp()) / "nope.txt")
        with self.assertRaises(ValueError) as caught:
            parse_poem(missing)
        self.assertIn("cannot read poem file", str(caught.exception))
        self.assertIn("No such file", str(caught.exception))
        directory = Path(self.mktemp())
        directory.mkdir()
        with self.assertRaises(ValueError) as caught:
            parse_poem(str(directory))
        self.assertIn("cannot read poem file", str(caught.exception))

    def test_unknown(self) -> None:
        """
        A name that is neither a file nor a bundled poem lists the bundled
        poems.
        """
        with self.assertRaises(ValueError) as caught:
            parse_poem("no-such-poem")
        message = str(caught.exception)
        self.assertIn("unknown poem 'no-such-poem'", message)
        for name in poems.names():
            self.assertIn(name, message)


class ParseNumberTests(SynchronousTestCase):
    """
    The number parsers accept finite numbers in their range only.
    """

    def test_non_negative_float(self) -> None:
        """
        Zero and positive numbers pass; negative, infinite, NaN and words do
        not.
        """
        self.assertEqual(parse_non_negative_float("0"), 0.0)
        self.assertEqual(parse_non_negative_float("0.25"), 0.25)
        for text in ["-1", "-0.1", "inf", "nan", "abc", ""]:
            self.assertRaises(ValueError, parse_non_negative_float, text)

    def test_positive_float(self) -> None:
        """
        Zero is rejected too.
        """
        self.assertEqual(parse_positive_float("2.5"), 2.5)
        for text in ["0", "-3", "inf", "nan", "x"]:
            self.assertRaises(ValueError, parse_positive_float, text)

    def test_positive_int(self) -> None:
        """
        Whole numbers from 1.
        """
        self.assertEqual(parse_positive_int("7"), 7)
        for text in ["0", "-2", "1.5", "x", ""]:
            self.assertRaises(ValueError, parse_positive_int, text)


class ParseTransformTests(SynchronousTestCase):
    """
    L{parse_transform_target} reads C{[HOST:]PORT:NAME}.
    """

    def test_good(self) -> None:
        """
        The name is what follows the last colon; the rest is an address.
        """
        self.assertEqual(
            parse_transform_target("10001:cummingsify"),
            TransformTarget(Address("127.0.0.1", 10001), "cummingsify"),
        )
        self.assertEqual(
            parse_transform_target("[::1]:5:reverse-lines"),
            TransformTarget(Address("::1", 5), "reverse-lines"),
        )
        self.assertEqual(str(parse_transform_target("h:5:upper")), "h:5:upper")

    def test_bad(self) -> None:
        """
        A missing name or address, or a name with C{.}, white space or
        non-ASCII characters, is rejected.
        """
        for text in ["10001", "10001:", ":upper", "x:upper", "1:a.b", "1:a b", "1:é"]:
            self.assertRaises(ValueError, parse_transform_target, text)
        self.assertRaises(ValueError, parse_transform_name, "")


def _parse_error(test: SynchronousTestCase, argv: list[str]) -> str:
    """
    Parse C{argv}; assert it exits with status 2 printing the usage and one
    error line, without a traceback; return standard error.
    """
    stderr = io.StringIO()
    stdout = io.StringIO()
    with (
        redirect_stderr(stderr),
        redirect_stdout(stdout),
        test.assertRaises(SystemExit, msg=repr(argv)) as caught,
    ):
        parse_args(argv)
    test.assertEqual(caught.exception.code, 2, argv)
    text = stderr.getvalue()
    lines = text.splitlines()
    test.assertTrue(text.startswith("usage: python -m poetry"), text)
    errors = [line for line in lines if ": error: " in line]
    test.assertEqual(len(errors), 1, text)
    test.assertEqual(errors, lines[-1:], text)
    test.assertNotIn("Traceback", text)
    test.assertEqual(stdout.getvalue(), "")
    return text


class ArgumentErrorTests(SynchronousTestCase):
    """
    Every bad command line exits with status 2, the usage and one error line
    on standard error, and no traceback.
    """

    def test_rows(self) -> None:
        """
        Each row of bad arguments gets its own error, which names the
        problem.
        """
        missing = str(Path(self.mktemp()) / "missing.txt")
        not_a_dir = Path(self.mktemp())
        not_a_dir.write_bytes(b"")
        rows: list[tuple[list[str], str]] = [
            ([], "required: COMMAND"),
            (["recite"], "invalid choice: 'recite'"),
            (["serve", "--port", "70000"], "must be 0 to 65535"),
            (["serve", "--port", "tcp:abc"], "invalid endpoint"),
            (["serve", "--port", "foo:1"], "Unknown endpoint type"),
            (["serve", "--port", "-5"], "invalid port '-5': must be 0 to 65535"),
            (["serve", "--poem", "no-such-poem"], "unknown poem"),
            (["serve", "--poem", missing], "cannot read poem file"),
            (["serve", "--slow", "--delay", "-1"], "must not be negative"),
            (["serve", "--slow", "--delay", "nan"], "must be finite"),
            (["serve", "--slow", "--chunk-size", "0"], "must be at least 1"),
            (["serve", "--delay", "1"], "need --slow"),
            (["serve", "--port", "1", "--port", "2", "--poem", "cafe"], "2 --port"),
            (["serve", "--bogus"], "unrecognized arguments: --bogus"),
            (["get"], "required: ADDRESS"),
            (["get", "abc"], "malformed address 'abc'"),
            (["get", "host:"], "malformed address"),
            (["get", "70000"], "must be 1 to 65535"),
            (["get", "0"], "must be 1 to 65535"),
            (["get", "1", "--timeout", "0"], "must be greater than 0"),
            (["get", "1", "--timeout", "-3"], "argument --timeout"),
            (["get", "1", "--output", str(not_a_dir)], "is not a directory"),
            (["transform-server", "--port", "x"], "invalid endpoint"),
            (["transform-server", "--idle-timeout", "0"], "greater than 0"),
            (["transform-server", "--max-length", "0"], "at least 1"),
            (["transform", "1"], "required: NAME"),
            (["transform", "1", "a.b"], "bad transform name"),
            (["transform", "1", "upper", missing], "cannot read poem file"),
            (["transform", "x", "upper"], "malformed address"),
            (["proxy"], "required: UPSTREAM"),
            (["proxy", "1", "--ttl", "-1"], "must not be negative"),
            (["proxy", "1", "--transform", "5"], "malformed transform"),
            (["proxy", "1", "--upstream-timeout", "0"], "greater than 0"),
            (["demo", "--delay", "-1"], "must not be negative"),
            (["demo", "--poem", "no-such-poem"], "unknown poem"),
            (["demo", "--clients", "0"], "at least 1"),
            (["demo", "--transform", "nosuch"], "unknown transform 'nosuch'"),
            (["get", "unix:"], "no path given"),
            (["get", "tcp:localhost:0"], "must be 1 to 65535"),
            (["transform", "unix:", "upper"], "no path given"),
        ]
        for argv, expected in rows:
            text = _parse_error(self, argv)
            self.assertIn(expected, text.splitlines()[-1], argv)

    def test_unknown_option_names_the_command(self) -> None:
        """
        An option the command does not know is reported by that command,
        with its own usage line, not the program's.
        """
        for command in ["serve", "get", "transform-server", "proxy", "demo"]:
            argv = [command, *(["1"] if command in ("get", "proxy") else [])]
            text = _parse_error(self, [*argv, "--bogus"])
            self.assertTrue(
                text.startswith(f"usage: python -m poetry {command} "), text
            )
            self.assertEqual(
                text.splitlines()[-1],
                f"python -m poetry {command}: error: unrecognized arguments: --bogus",
            )

    def test_demo_unknown_transform(self) -> None:
        """
        The demo's C{--transform} must be one its own transform server
        offers: the error lists them.
        """
        text = _parse_error(self, ["demo", "--transform", "nosuch"])
        self.assertIn("cummingsify, reverse-lines, upper", text.splitlines()[-1])
        self.assertEqual(
            parse_args(["demo", "--transform", "upper"]).transform, "upper"
        )

    def test_usage_names_the_command(self) -> None:
        """
        The error of a subcommand is prefixed by the subcommand and followed
        by its own usage.
        """
        text = _parse_error(self, ["get", "abc"])
        self.assertTrue(text.startswith("usage: python -m poetry get "), text)
        self.assertTrue(
            text.splitlines()[-1].startswith("python -m poetry get: error: "), text
        )


class ArgumentTests(SynchronousTestCase):
    """
    Good command lines parse into what the commands use.
    """

    def test_serve_defaults(self) -> None:
        """
        Without options C{serve} serves the lighthouse poem on a free port of
        127.0.0.1, fast.
        """
        args = parse_args(["serve"])
        self.assertEqual([source.label for source in args.poem], ["lighthouse"])
        self.assertEqual(args.poem[0].read(io.BytesIO()), poems.load("lighthouse"))
        self.assertEqual(args.port, ["tcp:0:interface=127.0.0.1"])
        self.assertFalse(args.slow)
        self.assertEqual(args.verbose, 0)

    def test_serve_pairs(self) -> None:
        """
        Repeated C{--port}/C{--poem} pair up in order; several poems without
        C{--port} each get a free port.
        """
        args = parse_args(
            [
                *("serve", "--port", "10000", "--poem", "cafe"),
                *("--port", "tcp:0", "--poem", "clockwork"),
            ]
        )
        self.assertEqual([s.label for s in args.poem], ["cafe", "clockwork"])
        self.assertEqual(
            args.port,
            ["tcp:10000:interface=127.0.0.1", "tcp:0:interface=127.0.0.1"],
        )
        args = parse_args(["serve", "--poem", "cafe", "--poem", "clockwork"])
        self.assertEqual(args.port, ["tcp:0:interface=127.0.0.1"] * 2)

    def test_serve_slow(self) -> None:
        """
        C{--slow} takes the chunk size and delay, with the slow server's
        defaults.
        """
        args = parse_args(["serve", "--slow", "--chunk-size", "3", "--delay", "0"])
        self.assertEqual((args.slow, args.chunk_size, args.delay), (True, 3, 0.0))
        defaults = SlowPoetryServerFactory(b"", Clock())
        args = parse_args(["serve", "--slow"])
        self.assertEqual(
            (args.chunk_size, args.delay), (defaults.chunk_size, defaults.delay)
        )

    def test_verbose(self) -> None:
        """
        C{-v} counts before and after the command.
        """
        self.assertEqual(parse_args(["-v", "get", "1", "-vv"]).verbose, 3)
        self.assertEqual(parse_args(["get", "1", "--verbose"]).verbose, 1)

    def test_get(self) -> None:
        """
        C{get} keeps the addresses in the order given.
        """
        args = parse_args(["get", "2", "localhost:1", "2", "--timeout", "1.5"])
        self.assertEqual(
            args.addresses,
            [
                Address("127.0.0.1", 2),
                Address("localhost", 1),
                Address("127.0.0.1", 2),
            ],
        )
        self.assertEqual(args.timeout, 1.5)
        self.assertIsNone(args.output)

    def test_help(self) -> None:
        """
        C{--help} of the program and of every command exits with status 0
        and prints a usage naming the command.
        """
        commands = ["serve", "get", "transform-server", "transform", "proxy", "demo"]
        for argv in [[], *([command] for command in commands)]:
            stdout = io.StringIO()
            with redirect_stdout(stdout), self.assertRaises(SystemExit) as caught:
                parse_args([*argv, "--help"])
            self.assertEqual(caught.exception.code, 0)
            self.assertTrue(
                stdout.getvalue().startswith(
                    "usage: " + " ".join(["python -m poetry", *argv])
                ),
                stdout.getvalue(),
            )

    def test_help_lists_bundled_poems(self) -> None:
        """
        The help of every command that takes a poem names the bundled poems.
        """
        for command in ["serve", "transform", "demo"]:
            stdout = io.StringIO()
            with redirect_stdout(stdout), self.assertRaises(SystemExit):
                parse_args([command, "--help"])
            text = " ".join(stdout.getvalue().split())
            self.assertIn(f"({', '.join(poems.names())})", text, command)
