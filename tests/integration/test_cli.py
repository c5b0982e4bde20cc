"""
Integration tests for the command line and the twistd plugins: each starts
C{python -m poetry ...} or C{twistd -n poetry-...} as a real subprocess (with
C{reactor.spawnProcess}, never blocking the reactor), reads the address it
prints, talks to it over loopback TCP, and checks its output and exit
status.  Every wait is bounded, and every process is killed and reaped in a
cleanup.

The subprocesses run in a temporary directory.  They must import the same
C{poetry} as this test process: when that is a source checkout (not an
installed distribution), C{PYTHONPATH} is set to the checkout's root, which
also holds C{twisted/plugins/poetry_plugins.py} so that twistd finds the
plugins there.  When C{poetry} is installed (as under tox), nothing is
added: the installed plugin module is found by twistd on its own.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, gatherResults, maybeDeferred, succeed
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IReactorProcess, IReactorTCP
from twisted.internet.protocol import ProcessProtocol, Protocol, ServerFactory
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

import poetry
from poetry import poems
from poetry.client import get_poetry

# Bounds on every wait, in seconds.
START_TIMEOUT = 20.0
RUN_TIMEOUT = 30.0

_SERVING = re.compile(rb"poetry: serving (.+) on (127\.0\.0\.1):(\d+)")


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _environment() -> dict[str, str]:
    """
    The environment for subprocesses: this one, plus C{PYTHONPATH} pointing
    at the source checkout this process imported C{poetry} from, unless
    C{poetry} is installed.
    """
    env = dict(os.environ)
    root = Path(poetry.__file__).resolve().parent.parent
    installed = {
        Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")
    }
    if root not in installed:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(root), *filter(None, [env.get("PYTHONPATH")])]
        )
    env.pop("POETRY_TEST_SEED", None)
    return env


class _Process(ProcessProtocol):
    """
    A subprocess's output, collected; lets a test wait for a line or for
    the end.
    """

    def __init__(self) -> None:
        self.out = b""
        self.err = b""
        self.reason: Failure | None = None
        self._ended: list[Deferred[None]] = []
        self._waiting: list[tuple[re.Pattern[bytes], int, Deferred[list[Any]]]] = []

    @property
    def running(self) -> bool:
        return self.reason is None

    def outReceived(self, data: bytes) -> None:
        self.out += data
        self._check()

    def errReceived(self, data: bytes) -> None:
        self.err += data

    def _check(self) -> None:
        for entry in list(self._waiting):
            pattern, count, waiter = entry
            matches = list(pattern.finditer(self.out))
            if len(matches) >= count:
                self._waiting.remove(entry)
                waiter.callback(matches[:count])

    def wait_for(self, pattern: re.Pattern[bytes], count: int = 1) -> Deferred[Any]:
        """
        Fire with the first C{count} matches of C{pattern} in standard
        output; fail after L{START_TIMEOUT} seconds or if the process ends
        first.
        """
        waiter: Deferred[list[Any]] = Deferred()
        self._waiting.append((pattern, count, waiter))
        self._check()
        return waiter.addTimeout(START_TIMEOUT, _reactor())

    def ended(self) -> Deferred[None]:
        """
        Fire once the process has ended (within L{RUN_TIMEOUT} seconds).
        """
        if self.reason is not None:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._ended.append(waiter)
        return waiter.addTimeout(RUN_TIMEOUT, _reactor())

    def processEnded(self, reason: Failure) -> None:
        self.reason = reason
        for pattern, _, line_waiter in self._waiting:
            line_waiter.errback(
                AssertionError(
                    f"process ended before printing {pattern.pattern!r}:\n"
                    f"stdout: {self.out!r}\nstderr: {self.err!r}"
                )
            )
        self._waiting = []
        ended, self._ended = self._ended, []
        for waiter in ended:
            waiter.callback(None)

    @property
    def exit_code(self) -> int | None:
        assert self.reason is not None
        ended: Any = self.reason.value
        code: int | None = ended.exitCode
        return code

    @property
    def signal(self) -> int | None:
        assert self.reason is not None
        ended: Any = self.reason.value
        signal: int | None = ended.signal
        return signal

    def kill(self, signal: str) -> None:
        """
        Send C{signal} (C{"TERM"}, C{"INT"}, C{"KILL"}) to the process.
        """
        assert self.transport is not None
        self.transport.signalProcess(signal)


class _CLITestCase(TestCase):
    """
    Start subprocesses and clean them up.
    """

    timeout = 60

    def spawn(self, argv: list[str], stdin: bytes | None = None) -> _Process:
        """
        Start C{sys.executable argv...} in a fresh temporary directory;
        kill it (if still running) and reap it when the test ends.
        """
        cwd = Path(self.mktemp())
        cwd.mkdir(parents=True)
        process = _Process()
        reactor: IReactorProcess = _reactor()
        transport = reactor.spawnProcess(
            process,
            sys.executable,
            [sys.executable, *argv],
            env=_environment(),
            path=str(cwd),
        )
        if stdin is not None:
            transport.write(stdin)
        transport.closeStdin()

        def reap() -> Deferred[None]:
            if process.running:
                transport.signalProcess("KILL")
            return process.ended()

        self.addCleanup(reap)
        return process

    def poetry(self, *args: str, stdin: bytes | None = None) -> _Process:
        """
        Start C{python -m poetry ARGS}.
        """
        return self.spawn(["-m", "poetry", *args], stdin)

    def twistd(self, *args: str) -> _Process:
        """
        Start C{twistd -n --pidfile= ARGS}.
        """
        return self.spawn(
            [
                "-c",
                "import sys; from twisted.scripts.twistd import run; "
                "sys.argv[0] = 'twistd'; run()",
                "-n",
                "--pidfile=",
                *args,
            ]
        )

    async def finished(self, process: _Process) -> _Process:
        """
        Wait for C{process} to end; return it.
        """
        await process.ended()
        return process

    async def fetch(self, port: int) -> bytes:
        """
        Fetch the poem on 127.0.0.1:C{port} with L{get_poetry}.
        """
        reactor: IReactorTCP = _reactor()
        return await get_poetry(reactor, "127.0.0.1", port, timeout=RUN_TIMEOUT)

    async def assert_closed(self, port: int) -> None:
        """
        Nothing listens on 127.0.0.1:C{port} any more.
        """
        with self.assertRaises(ConnectionRefusedError):
            await self.fetch(port)

    async def closed_port(self) -> int:
        """
        A port that is surely closed: listened on, then closed.
        """
        reactor: IReactorTCP = _reactor()
        placeholder: ServerFactory[Any] = ServerFactory()
        placeholder.protocol = Protocol
        listening = reactor.listenTCP(0, placeholder, interface="127.0.0.1")
        address = listening.getHost()
        assert isinstance(address, IPv4Address)
        await maybeDeferred(listening.stopListening)
        return address.port


def _ports(matches: list[re.Match[bytes]]) -> list[int]:
    return [int(match.group(3)) for match in matches]


class ServeTests(_CLITestCase):
    """
    C{python -m poetry serve} and C{get} as subprocesses.
    """

    async def test_serve_get_and_sigterm(self) -> None:
        """
        C{serve} prints one address per poem; C{get_poetry} and the C{get}
        command fetch the poems (in the order asked); SIGTERM ends the
        server with status 0 and its ports closed.
        """
        server = self.poetry("serve", "--poem", "cafe", "--poem", "lighthouse")
        matches = await server.wait_for(_SERVING, 2)
        self.assertEqual([m.group(1) for m in matches], [b"cafe", b"lighthouse"])
        cafe_port, lighthouse_port = _ports(matches)
        self.assertEqual(await self.fetch(cafe_port), poems.load("cafe"))
        client = await self.finished(
            self.poetry("get", str(lighthouse_port), f"127.0.0.1:{cafe_port}")
        )
        self.assertEqual(client.exit_code, 0, client.err)
        self.assertEqual(client.out, poems.load("lighthouse") + poems.load("cafe"))
        self.assertEqual(client.err, b"")
        server.kill("TERM")
        await self.finished(server)
        self.assertEqual((server.exit_code, server.signal), (0, None), server.err)
        self.assertNotIn(b"Traceback", server.err)
        await self.assert_closed(cafe_port)
        await self.assert_closed(lighthouse_port)

    async def test_slow_and_sigint(self) -> None:
        """
        C{serve --slow} sends the whole poem; SIGINT ends it with status 0
        and the port closed.
        """
        server = self.poetry(
            "serve",
            "--slow",
            "--chunk-size",
            "64",
            "--delay",
            "0.01",
            "--port",
            "tcp:0",
        )
        [port] = _ports(await server.wait_for(_SERVING))
        self.assertEqual(await self.fetch(port), poems.load("lighthouse"))
        server.kill("INT")
        await self.finished(server)
        self.assertEqual((server.exit_code, server.signal), (0, None), server.err)
        await self.assert_closed(port)

    async def test_get_down_server(self) -> None:
        """
        C{get} against a closed port prints one error line and exits 1.
        """
        port = await self.closed_port()
        client = await self.finished(self.poetry("get", str(port), "--timeout", "10"))
        self.assertEqual(client.exit_code, 1)
        self.assertEqual(client.out, b"")
        self.assertEqual(
            client.err.decode(),
            f"poetry: 127.0.0.1:{port}: failed: connection refused "
            "(is a server listening there?)\n",
        )

    async def test_bad_arguments(self) -> None:
        """
        Bad arguments exit with status 2, the usage and one error line on
        standard error, and no traceback.
        """
        missing = str(Path(self.mktemp()).resolve() / "missing.txt")
        rows = [
            ["serve", "--port", "70000"],
            ["serve", "--poem", "no-such-poem"],
            ["serve", "--poem", missing],
            ["serve", "--slow", "--delay", "-1"],
            ["get", "not:an:address"],
            ["proxy", "1", "--transform", "oops"],
        ]
        processes = [self.poetry(*argv) for argv in rows]
        await gatherResults([process.ended() for process in processes])
        for argv, process in zip(rows, processes, strict=True):
            self.assertEqual(process.exit_code, 2, argv)
            err = process.err.decode()
            self.assertTrue(err.startswith("usage: python -m poetry "), err)
            self.assertEqual(
                len([line for line in err.splitlines() if ": error: " in line]), 1
            )
            self.assertNotIn("Traceback", err)
            self.assertEqual(process.out, b"")


class EndpointTests(_CLITestCase):
    """
    Clients take client endpoint descriptions as servers take server ones.
    """

    async def test_unix_socket(self) -> None:
        """
        C{get unix:PATH} fetches the poem of C{serve --port unix:PATH}, and
        C{transform unix:PATH ...} asks a C{transform-server --port
        unix:PATH}; the start-up lines name the sockets.
        """
        # A short path: a UNIX socket's path is limited to about 100 bytes.
        directory = Path(tempfile.mkdtemp(prefix="poetry-"))
        self.addCleanup(shutil.rmtree, directory)
        poem_socket = directory / "poem.sock"
        transform_socket = directory / "transform.sock"
        server = self.poetry("serve", "--poem", "cafe", "--port", f"unix:{poem_socket}")
        transforms = self.poetry(
            "transform-server", "--port", f"unix:{transform_socket}"
        )
        for process, socket in ((server, poem_socket), (transforms, transform_socket)):
            await process.wait_for(re.compile(rb"poetry: serving .+ on unix:(.+)\n"))
            self.assertIn(f" on unix:{socket}\n".encode(), process.out)
        client = await self.finished(self.poetry("get", f"unix:{poem_socket}"))
        self.assertEqual(
            (client.exit_code, client.out), (0, poems.load("cafe")), client.err
        )
        upper = await self.finished(
            self.poetry(
                "transform",
                f"unix:path={transform_socket}",
                "upper",
                "-",
                stdin=b"ode\n",
            )
        )
        self.assertEqual((upper.exit_code, upper.out), (0, b"ODE\n"), upper.err)
        missing = await self.finished(self.poetry("get", f"unix:{directory / 'none'}"))
        self.assertEqual(missing.exit_code, 1)
        self.assertTrue(
            missing.err.decode().startswith(
                f"poetry: unix:{directory / 'none'}: failed: "
            ),
            missing.err,
        )
        for process in (server, transforms):
            process.kill("TERM")
            await self.finished(process)
            self.assertEqual(process.exit_code, 0, process.err)


class ImportTests(_CLITestCase):
    """
    The command line and the twistd plugins load no test code.
    """

    async def test_no_test_code_loaded(self) -> None:
        """
        Importing the command line, the twistd services and the plugin
        module loads neither L{twisted.trial} nor L{twisted.internet.testing}
        (production code validates endpoint descriptions without a fake
        reactor).
        """
        process = await self.finished(
            self.spawn(
                [
                    "-c",
                    "import sys, poetry.__main__, poetry._cli, poetry._services; "
                    "from twisted.plugins import poetry_plugins; "
                    "poetry._cli.parse_args(['serve', '--port', 'tcp:0']); "
                    "print(sorted(m for m in sys.modules if m.startswith("
                    "('twisted.trial', 'twisted.internet.testing'))))",
                ]
            )
        )
        self.assertEqual((process.exit_code, process.out), (0, b"[]\n"), process.err)

    async def test_twistd_side_without_cli(self) -> None:
        """
        The twistd services, options included, are built without the command
        line: importing L{poetry._services} and parsing plugin options
        loads no module of L{poetry._cli}.
        """
        process = await self.finished(
            self.spawn(
                [
                    "-c",
                    "import sys, poetry._services as s; "
                    "s.ServerOptions().parseOptions(['--poem', 'cafe']); "
                    "print(sorted(m for m in sys.modules "
                    "if m.startswith('poetry._cli')))",
                ]
            )
        )
        self.assertEqual((process.exit_code, process.out), (0, b"[]\n"), process.err)


class SystemTests(_CLITestCase):
    """
    The transform server, the proxy and the demo as subprocesses.
    """

    async def test_transform_and_proxy(self) -> None:
        """
        A proxy started with C{--transform} serves the poem of a C{serve}
        process through a C{transform-server} process; the C{transform}
        command transforms standard input.
        """
        server = self.poetry("serve", "--poem", "clockwork")
        transforms = self.poetry("transform-server")
        [server_port] = _ports(await server.wait_for(_SERVING))
        [transform_port] = _ports(await transforms.wait_for(_SERVING))
        proxy = self.poetry(
            "proxy", str(server_port), "--transform", f"{transform_port}:upper"
        )
        [proxy_port] = _ports(await proxy.wait_for(_SERVING))
        expected = poems.load("clockwork").decode("utf-8").upper().encode("utf-8")
        self.assertEqual(await self.fetch(proxy_port), expected)
        client = await self.finished(
            self.poetry("transform", str(transform_port), "upper", stdin=b"a poem\n")
        )
        self.assertEqual((client.exit_code, client.out), (0, b"A POEM\n"), client.err)
        refused = await self.finished(
            self.poetry("transform", str(transform_port), "no-such", "cafe")
        )
        self.assertEqual(refused.exit_code, 1)
        self.assertIn(b"transform 'no-such' failed", refused.err)
        for process in (proxy, transforms, server):
            process.kill("TERM")
            await self.finished(process)
            self.assertEqual(process.exit_code, 0, process.err)

    async def test_demo(self) -> None:
        """
        The demo, with no flags, exits 0 and prints the poems and one
        summary line per fetch, each ok.
        """
        demo = await self.finished(self.poetry("demo"))
        self.assertEqual(demo.exit_code, 0, demo.err)
        out = demo.out.decode("utf-8")
        self.assertIn(poems.load("lighthouse").decode("utf-8"), out)
        summary = out.split("poetry: summary\n", 1)[1].splitlines()
        fetches = [line for line in summary if line.startswith("  ")]
        size = len(poems.load("lighthouse"))
        self.assertEqual(len(fetches), 5, out)
        for line in fetches:
            self.assertRegex(
                line, rf"^  .+: 127\.0\.0\.1:\d+ {size} bytes in \d+\.\d\d s ok$"
            )
        self.assertNotIn(b"Traceback", demo.err)


_TWISTD_SERVING = re.compile(rb"poetry: serving (.+) on (127\.0\.0\.1):(\d+)")


class TwistdTests(_CLITestCase):
    """
    The twistd plugins, run by a real C{twistd -n}.
    """

    async def test_poetry_server(self) -> None:
        """
        C{twistd -n poetry-server --port tcp:0 --poem NAME} logs its address
        and serves the poem; after SIGTERM the port is closed.
        """
        server = self.twistd("poetry-server", "--port", "tcp:0", "--poem", "cafe")
        [port] = _ports(await server.wait_for(_TWISTD_SERVING))
        self.assertEqual(await self.fetch(port), poems.load("cafe"))
        server.kill("TERM")
        await self.finished(server)
        self.assertIn(b"Server Shut Down.", server.out)
        self.assertNotIn(b"Traceback", server.out + server.err)
        await self.assert_closed(port)

    async def test_transform_and_proxy_plugins(self) -> None:
        """
        C{poetry-proxy} with C{--transform} through C{poetry-transform}
        serves the transformed poem of C{poetry-server}.
        """
        server = self.twistd("poetry-server", "--poem", "lighthouse")
        transforms = self.twistd("poetry-transform")
        [server_port] = _ports(await server.wait_for(_TWISTD_SERVING))
        [transform_port] = _ports(await transforms.wait_for(_TWISTD_SERVING))
        proxy = self.twistd(
            "poetry-proxy",
            f"--upstream=127.0.0.1:{server_port}",
            f"--transform={transform_port}:cummingsify",
        )
        [proxy_port] = _ports(await proxy.wait_for(_TWISTD_SERVING))
        expected = poems.load("lighthouse").decode("utf-8").lower().encode("utf-8")
        self.assertEqual(await self.fetch(proxy_port), expected)

    async def test_usage_errors(self) -> None:
        """
        A bad option is a usage error with the command line's message, not a
        traceback: the process exits non-zero saying what is wrong.
        """
        missing = str(Path(self.mktemp()).resolve() / "missing.txt")
        rows = [
            (("--poem", missing), b"--poem: cannot read poem file"),
            (("--chunk-size", "3"), b"--chunk-size and --delay need --slow"),
            (("--port", "-5"), b"--port: invalid port '-5': must be 0 to 65535"),
        ]
        processes = [self.twistd("poetry-server", *argv) for argv, _ in rows]
        await gatherResults([process.ended() for process in processes])
        for (_, expected), process in zip(rows, processes, strict=True):
            output = process.out + process.err
            self.assertNotEqual(process.exit_code, 0)
            self.assertIn(expected, output)
            self.assertNotIn(b"Traceback", output)
