"""
Tests for L{poetry.__main__}, the entry point of C{python -m poetry} and of
the console scripts.

C{main} runs its command with L{twisted.internet.task.react}; here the
module's C{react} is replaced by Twisted's own C{react} given the test's
L{MemoryNetwork} as its reactor (it provides C{IReactorCore}): so the real
exit-status handling of C{react} and the reactor's shutdown triggers are
exercised, with no global reactor, no sockets and no real time.  Standard
output and error are replaced by in-memory streams, and C{start_logging}
(which changes process-wide state) by a recorder.
"""

from __future__ import annotations

import errno
import io
import os
import runpy
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import clientFromString
from twisted.internet.error import ConnectError, ReactorNotRunning
from twisted.internet.interfaces import IListeningPort, IReactorCore
from twisted.internet.task import react

import poetry
import poetry.__main__ as entry
import poetry._cli as cli
from poetry import poems
from poetry.client import get_poetry, get_poetry_at
from poetry.server import PoetryServerFactory
from poetry.testing import Deadlock, MemoryNetworkTestCase

CAFE = poems.load("cafe")


class _WithFileno(io.BytesIO):
    """
    Binary standard output backed by the file descriptor C{fd} (which
    C{main} may point elsewhere).
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


class _BrokenPipe(_WithFileno):
    """
    Binary standard output whose reader has gone away.
    """

    def write(self, data: Any) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def _no_react(main: Callable[..., object]) -> NoReturn:
    raise AssertionError("the reactor must not be started")


class MainTests(MemoryNetworkTestCase):
    """
    C{main} parses the command line, starts logging, runs the command on
    the reactor with C{react} and exits with the command's status.
    """

    def setUp(self) -> None:
        super().setUp()
        self.reacted = 0

        def fake_react(main: Callable[[IReactorCore], Deferred[None]]) -> NoReturn:
            self.reacted += 1
            react(main, _reactor=self.net)
            raise AssertionError("react() returned instead of exiting")

        self.patch(entry, "react", fake_react)
        self.logging: list[tuple[object, int]] = []
        self.patch(
            cli,
            "start_logging",
            lambda stream, verbosity: self.logging.append((stream, verbosity)),
        )
        self.stdout_bytes = io.BytesIO()
        self.stdout = io.TextIOWrapper(self.stdout_bytes, encoding="utf-8")
        self.stderr = io.StringIO()
        self.patch(sys, "stdout", self.stdout)
        self.patch(sys, "stderr", self.stderr)

    def exit_status(self, call: Callable[[], object]) -> object:
        """
        Call C{call}, which must exit, and return its exit status.
        """
        with self.assertRaises(SystemExit) as caught:
            call()
        self.stdout.flush()
        return caught.exception.code

    def serve_cafe(self, port: int = 10000) -> IListeningPort:
        """
        A fast poetry server of the cafe poem on 127.0.0.1:C{port}.
        """
        listening = self.net.listenTCP(
            port, PoetryServerFactory(CAFE), interface="127.0.0.1"
        )
        self.addCleanup(listening.stopListening)
        return listening

    def test_get(self) -> None:
        """
        C{get} writes the poem to standard output and exits with status 0
        once the fetch is over; logging goes to standard error at the
        verbosity of the C{-v} given before and after the command.
        """
        self.serve_cafe()
        status = self.exit_status(lambda: entry.main(["-v", "get", "-v", "10000"]))
        self.assertEqual(status, 0)
        self.assertEqual(self.stdout_bytes.getvalue(), CAFE)
        self.assertEqual(self.stderr.getvalue(), "")
        self.assertEqual(self.logging, [(self.stderr, 2)])
        self.assertEqual(self.reacted, 1)
        self.assertFalse(self.net.running)
        self.assertRaises(ReactorNotRunning, self.net.stop)

    def test_failure_status(self) -> None:
        """
        A command that fails makes C{main} exit with its status (1 for a
        refused fetch), after its error line on standard error.
        """
        status = self.exit_status(lambda: entry.main(["get", "10000"]))
        self.assertEqual(status, 1)
        self.assertEqual(self.stdout_bytes.getvalue(), b"")
        self.assertEqual(
            self.stderr.getvalue(),
            "poetry: 127.0.0.1:10000: failed: connection refused "
            "(is a server listening there?)\n",
        )
        self.assertEqual(self.logging, [(self.stderr, 0)])

    def test_serve_until_stopped(self) -> None:
        """
        C{serve} keeps serving until the reactor is asked to stop (as on
        SIGINT or SIGTERM), then closes its port (the network is clean at
        teardown) and exits with status 0.
        """
        fetched: list[bytes] = []

        def fetch() -> None:
            get_poetry(self.net, "127.0.0.1", 10000).addCallback(fetched.append)

        self.net.callLater(1.0, fetch)
        self.net.callLater(60.0, self.net.stop)
        status = self.exit_status(
            lambda: entry.main(["serve", "--poem", "cafe", "--port", "10000"])
        )
        self.assertEqual(status, 0)
        self.assertEqual(fetched, [CAFE])
        self.assertEqual(self.net.seconds(), 60.0)
        self.assertEqual(
            self.stdout_bytes.getvalue(), b"poetry: serving cafe on 127.0.0.1:10000\n"
        )
        self.assertEqual(self.net.listening_ports(), [])

    def test_get_over_unix(self) -> None:
        """
        C{get unix:PATH} fetches the poem of a server listening on that
        UNIX path of the network (no file on disk) and exits with status 0.
        """
        listening = self.net.listenUNIX("/run/poetry.sock", PoetryServerFactory(CAFE))
        self.addCleanup(listening.stopListening)
        status = self.exit_status(lambda: entry.main(["get", "unix:/run/poetry.sock"]))
        self.assertEqual((status, self.stdout_bytes.getvalue()), (0, CAFE))
        self.assertEqual(self.stderr.getvalue(), "")
        self.assertFalse(os.path.exists("/run/poetry.sock"))

    def test_get_over_unix_nobody_listens(self) -> None:
        """
        C{get} of a UNIX path nobody listens on fails with status 1 and an
        error line naming the path and the reason.
        """
        status = self.exit_status(lambda: entry.main(["get", "unix:/run/none.sock"]))
        self.assertEqual((status, self.stdout_bytes.getvalue()), (1, b""))
        self.assertEqual(
            self.stderr.getvalue(),
            "poetry: unix:/run/none.sock: failed: cannot connect: An error "
            "occurred while connecting: 2: No such file or directory.\n",
        )

    def test_serve_over_unix(self) -> None:
        """
        C{serve --port unix:PATH} listens on that UNIX path of the network
        (no file on disk), prints it in its start-up line, serves a client
        of C{unix:PATH}, and frees the path when the reactor stops.
        """
        fetched: list[bytes] = []

        def fetch() -> None:
            endpoint = clientFromString(self.net, "unix:/run/poetry.sock")
            get_poetry_at(endpoint, self.net).addCallback(fetched.append)

        self.net.callLater(1.0, fetch)
        self.net.callLater(60.0, self.net.stop)
        status = self.exit_status(
            lambda: entry.main(
                ["serve", "--poem", "cafe", "--port", "unix:/run/poetry.sock"]
            )
        )
        self.assertEqual((status, fetched), (0, [CAFE]))
        self.assertEqual(
            self.stdout_bytes.getvalue(),
            b"poetry: serving cafe on unix:/run/poetry.sock\n",
        )
        self.assertEqual(self.net.listening_ports(), [])
        self.assertFalse(os.path.exists("/run/poetry.sock"))
        endpoint = clientFromString(self.net, "unix:/run/poetry.sock")
        late = get_poetry_at(endpoint, self.net)
        self.net.run()
        self.assertEqual(
            self.failureResultOf(late, ConnectError).value.osError, errno.ENOENT
        )

    def test_command_starts_once_running(self) -> None:
        """
        The command starts only once the reactor is running (a real reactor
        has installed its SIGINT and SIGTERM handlers by then), so a server's
        start-up line is never printed before a signal would stop it
        cleanly.
        """
        running_at_start: list[bool] = []
        execute = cli.execute

        def recording(*args: Any) -> Deferred[int]:
            running_at_start.append(self.net.running)
            return execute(*args)

        self.patch(cli, "execute", recording)
        self.net.callLater(1.0, self.net.stop)
        status = self.exit_status(
            lambda: entry.main(["serve", "--poem", "cafe", "--port", "10000"])
        )
        self.assertEqual((status, running_at_start), (0, [True]))

    def test_serve_never_stopped(self) -> None:
        """
        A C{serve} that nothing stops would make a real reactor's C{run()}
        wait for ever: on the network C{react} gets L{Deadlock} (not a
        made-up exit status), naming the shutdown trigger that waits.  A
        later C{stop()} still runs the command's shutdown (its port closes).
        """
        error = self.assertRaises(
            Deadlock, entry.main, ["serve", "--poem", "cafe", "--port", "10000"]
        )
        self.assertIn("nothing will stop it", str(error))
        self.assertIn("react.<locals>.onShutdown", str(error))
        self.assertEqual(len(self.net.listening_ports()), 1)
        self.net.stop()
        self.net.run()
        self.assertEqual(self.net.listening_ports(), [])
        self.assertFalse(self.net.running)

    def test_bad_arguments(self) -> None:
        """
        Bad arguments exit with status 2 and the usage on standard error,
        before logging is started or the reactor runs.
        """
        status = self.exit_status(lambda: entry.main(["get", "not-a-port"], prog="p"))
        self.assertEqual(status, 2)
        self.assertTrue(self.stderr.getvalue().startswith("usage: p get "))
        self.assertIn("malformed address 'not-a-port'", self.stderr.getvalue())
        self.assertEqual((self.logging, self.reacted), ([], 0))

    def test_prog_from_script_name(self) -> None:
        """
        Messages name the program as it was run: the console script's name,
        or C{python -m poetry} when run as C{python -m poetry} (C{__main__.py})
        or with no C{argv[0]} at all.
        """
        self.patch(entry, "react", _no_react)
        rows = [
            (["/usr/local/bin/poetry-get"], "usage: poetry-get "),
            (["/src/poetry/__main__.py"], "usage: python -m poetry "),
            ([], "usage: python -m poetry "),
        ]
        for argv, expected in rows:
            self.stderr.seek(0)
            self.stderr.truncate()
            self.patch(sys, "argv", argv)
            self.assertEqual(self.exit_status(lambda: entry.main([])), 2, argv)
            self.assertTrue(self.stderr.getvalue().startswith(expected), argv)

    def test_default_argv(self) -> None:
        """
        Without C{argv}, C{main} reads C{sys.argv[1:]}.
        """
        self.serve_cafe(10001)
        self.patch(sys, "argv", ["poetry", "get", "10001"])
        self.assertEqual(self.exit_status(entry.main), 0)
        self.assertEqual(self.stdout_bytes.getvalue(), CAFE)

    def test_get_main(self) -> None:
        """
        The C{poetry-get} console script runs C{get} with its arguments and
        names itself in messages.
        """
        self.serve_cafe()
        self.patch(sys, "argv", ["poetry-get", "10000", "10000"])
        self.assertEqual(self.exit_status(entry.get_main), 0)
        self.assertEqual(self.stdout_bytes.getvalue(), CAFE * 2)
        self.patch(sys, "argv", ["poetry-get"])
        self.assertEqual(self.exit_status(entry.get_main), 2)
        self.assertTrue(
            self.stderr.getvalue().startswith("usage: poetry-get [-h] "),
            self.stderr.getvalue(),
        )
        self.assertTrue(
            self.stderr.getvalue().endswith(
                "poetry-get: error: the following arguments are required: ADDRESS\n"
            ),
            self.stderr.getvalue(),
        )

    def test_console_script_help(self) -> None:
        """
        A console script's help shows a usage line that works as written:
        C{poetry-get ADDRESS}, C{poetry-serve [--poem POEM]}, without the
        command's name (which the script would take for an argument).
        """
        rows = [
            (entry.get_main, "poetry-get", "usage: poetry-get [-h] [-v] [--version]"),
            (entry.serve_main, "poetry-serve", "usage: poetry-serve [-h] [-v]"),
        ]
        for script, name, usage in rows:
            self.stdout_bytes.seek(0)
            self.stdout_bytes.truncate()
            self.patch(sys, "argv", [name, "--help"])
            self.assertEqual(self.exit_status(script), 0)
            text = self.stdout_bytes.getvalue().decode()
            self.assertTrue(text.startswith(usage), text)
            self.assertNotIn(f"{name} get", text)
            self.assertNotIn(f"{name} serve", text)

    def test_serve_main(self) -> None:
        """
        The C{poetry-serve} console script runs C{serve} with its arguments
        and names itself in messages.
        """
        self.net.callLater(1.0, self.net.stop)
        self.patch(sys, "argv", ["poetry-serve", "--poem", "cafe", "--port", "10002"])
        self.assertEqual(self.exit_status(entry.serve_main), 0)
        self.assertEqual(
            self.stdout_bytes.getvalue(), b"poetry: serving cafe on 127.0.0.1:10002\n"
        )
        self.patch(sys, "argv", ["poetry-serve", "--poem"])
        self.assertEqual(self.exit_status(entry.serve_main), 2)
        self.assertTrue(
            self.stderr.getvalue().startswith("usage: poetry-serve [-h] "),
            self.stderr.getvalue(),
        )

    def test_closed_stdout(self) -> None:
        """
        When standard output's reader went away during the command, C{main}
        points the standard output file descriptor at the null device before
        exiting, so that Python's final flush does not fail; the status is
        still the command's.
        """
        path = self.mktemp()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        self.addCleanup(os.close, fd)
        self.patch(sys, "stdout", io.TextIOWrapper(_BrokenPipe(fd)))
        self.serve_cafe()
        self.assertEqual(self.exit_status(lambda: entry.main(["get", "10000"])), 0)
        written = os.fstat(fd)
        null = os.stat(os.devnull)
        self.assertEqual((written.st_dev, written.st_ino), (null.st_dev, null.st_ino))
        os.write(fd, b"a late flush")
        self.assertEqual(os.path.getsize(path), 0)

    def test_open_stdout_untouched(self) -> None:
        """
        When standard output stayed open, its file descriptor is left alone.
        """
        path = self.mktemp()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        self.addCleanup(os.close, fd)
        self.patch(sys, "stdout", io.TextIOWrapper(_WithFileno(fd)))
        self.assertEqual(self.exit_status(lambda: entry.main(["get", "10000"])), 1)
        os.write(fd, b"still the file")
        with open(path, "rb") as file:
            self.assertEqual(file.read(), b"still the file")


class PythonDashMTests(MemoryNetworkTestCase):
    """
    C{python -m poetry} runs L{poetry.__main__.main}.
    """

    def test_version(self) -> None:
        """
        Running the package as C{__main__} (what C{python -m poetry} does)
        calls C{main} with C{sys.argv}: C{--version} prints the program name
        and version, and exits with status 0.
        """
        stdout = io.StringIO()
        self.patch(sys, "stdout", stdout)
        self.patch(sys, "argv", ["/src/poetry/__main__.py", "--version"])
        # runpy warns when the module it runs as __main__ is already
        # imported (this test module imports it); it is put back afterwards.
        saved = sys.modules.pop("poetry.__main__")
        self.addCleanup(sys.modules.__setitem__, "poetry.__main__", saved)
        # Under pytest, the package is imported through pytest's
        # assertion-rewriting import hook (pytest rewrites the packages of
        # the distributions that register a pytest plugin), whose loader
        # lacks the get_code() runpy needs: import it as Python does.
        self.patch(
            sys,
            "meta_path",
            [
                f
                for f in sys.meta_path
                if type(f).__module__ != "_pytest.assertion.rewrite"
            ],
        )
        with self.assertRaises(SystemExit) as caught:
            runpy.run_module("poetry", run_name="__main__")
        self.assertEqual(caught.exception.code, 0)
        self.assertEqual(stdout.getvalue(), f"python -m poetry {poetry.__version__}\n")
