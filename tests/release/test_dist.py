"""
The built sdist and wheel (in C{POETRY_DIST_DIR}, as C{tox -e release}
builds them): checked by twine, holding what an install needs, and working
once installed into a fresh virtual environment -- C{twistd -n
poetry-server} and C{python -m poetry get} from that install, talking over
127.0.0.1.

This module imports nothing from C{poetry}: what runs is the installed
wheel, in its own environment, from a directory where no checkout can be
imported.  Every wait is bounded, and the server is killed if it outlives
its test.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

INSTALL_TIMEOUT = 600.0
"""
Seconds allowed for creating the environment and installing the wheel with
its dependencies.
"""

RUN_TIMEOUT = 60.0
"""
Seconds allowed for a command of the installed package.
"""

_SERVING = re.compile(rb"poetry: serving cafe on 127\.0\.0\.1:(\d+)")

# What an install needs, in the wheel (and, under the sdist's top directory,
# in the sdist).
_NEEDED = [
    "poetry/__init__.py",
    "poetry/py.typed",
    "poetry/poems/cafe.txt",
    "poetry/poems/clockwork.txt",
    "poetry/poems/lighthouse.txt",
    "poetry/testing/__init__.py",
    "twisted/plugins/poetry_plugins.py",
]


def _dist_dir() -> Path:
    value = os.environ.get("POETRY_DIST_DIR")
    if not value:
        raise AssertionError(
            "POETRY_DIST_DIR is not set: run these tests with 'tox -e release', "
            "which builds the distributions there"
        )
    return Path(value)


def _one(pattern: str) -> Path:
    found = sorted(_dist_dir().glob(pattern))
    if len(found) != 1:
        raise AssertionError(f"expected one {pattern} in {_dist_dir()}, found {found}")
    return found[0]


def _environment() -> dict[str, str]:
    """
    This environment without anything that would import another copy of
    poetry or change how Python runs.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "POETRY_"))
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class DistributionContentsTests(SynchronousTestCase):
    """
    The sdist and the wheel hold what they should, and twine accepts them.
    """

    def test_twine_check(self) -> None:
        """
        C{twine check --strict} passes both: the metadata and the README
        render on the package index.
        """
        done = subprocess.run(
            [
                sys.executable,
                *("-m", "twine", "check", "--strict"),
                str(_one("*.whl")),
                str(_one("*.tar.gz")),
            ],
            capture_output=True,
            timeout=RUN_TIMEOUT,
        )
        output = (done.stdout + done.stderr).decode()
        self.assertEqual(done.returncode, 0, output)
        self.assertEqual(output.count("PASSED"), 2, output)

    def test_wheel(self) -> None:
        """
        The wheel holds the package, C{py.typed}, the bundled poems, the
        twistd plugin module (without an C{__init__.py} that would shadow
        Twisted's C{twisted} or C{twisted.plugins}) and the license, and
        declares the MIT license.
        """
        with zipfile.ZipFile(_one("*.whl")) as wheel:
            names = set(wheel.namelist())
            [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
            text = wheel.read(metadata).decode("utf-8")
        for needed in _NEEDED:
            self.assertIn(needed, names)
        for shadowing in ("twisted/__init__.py", "twisted/plugins/__init__.py"):
            self.assertNotIn(shadowing, names)
        self.assertNotIn("twisted/plugins/dropin.cache", names)
        self.assertTrue(
            [n for n in names if n.endswith(".dist-info/licenses/LICENSE")], names
        )
        self.assertIn("License-Expression: MIT", text)
        self.assertFalse([n for n in names if n.startswith("tests/")], names)

    def test_sdist(self) -> None:
        """
        The sdist holds the package, the plugin, the poems, the license, the
        changelog and its news fragments, the tests and the docs.
        """
        with tarfile.open(_one("*.tar.gz")) as sdist:
            names = sdist.getnames()
        top = names[0].split("/")[0]
        relative = {name.removeprefix(f"{top}/") for name in names}
        for needed in [
            *_NEEDED,
            "LICENSE",
            "CHANGELOG.md",
            "README.md",
            "pyproject.toml",
            "newsfragments/README.md",
            "docs/cli.md",
            "tests/unit/test_cli_parsing.py",
        ]:
            self.assertIn(needed, relative)


class InstalledWheelTests(SynchronousTestCase):
    """
    The wheel installed into a fresh virtual environment works.
    """

    def setUp(self) -> None:
        self.work = Path(self.mktemp()).resolve()
        self.venv = self.work / "venv"
        # Commands run here: nothing in it can be imported as poetry.
        self.cwd = self.work / "elsewhere"
        self.cwd.mkdir(parents=True)

    def run_in_venv(
        self, program: str, *args: str, timeout: float = RUN_TIMEOUT
    ) -> subprocess.CompletedProcess[bytes]:
        """
        Run C{program} (from the environment's C{bin}) to its end.
        """
        return subprocess.run(
            [str(self.venv / "bin" / program), *args],
            capture_output=True,
            cwd=self.cwd,
            env=_environment(),
            timeout=timeout,
        )

    def install(self) -> None:
        """
        Create the environment and install the wheel (its dependencies come
        from the package index).
        """
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "venv", str(self.venv)],
            check=True,
            timeout=INSTALL_TIMEOUT,
            env=_environment(),
        )
        left = INSTALL_TIMEOUT - (time.monotonic() - started)
        done = self.run_in_venv(
            "python",
            *("-m", "pip", "install", "--quiet", str(_one("*.whl"))),
            timeout=left,
        )
        self.assertEqual(done.returncode, 0, done.stderr.decode())

    def start_twistd(self) -> tuple[subprocess.Popen[bytes], int]:
        """
        Start C{twistd -n --pidfile= poetry-server --poem cafe} from the
        environment; return it and the port it logged once listening.
        """
        server = subprocess.Popen(
            [
                str(self.venv / "bin" / "twistd"),
                *("-n", "--pidfile=", "poetry-server"),
                *("--port", "tcp:0", "--poem", "cafe"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            env=_environment(),
        )
        self.addCleanup(self.stop, server)
        assert server.stdout is not None
        output = b""
        deadline = time.monotonic() + RUN_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(server.stdout, selectors.EVENT_READ)
            while (found := _SERVING.search(output)) is None:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.fail(f"twistd printed no address in time: {output!r}")
                chunk = os.read(server.stdout.fileno(), 65536)
                if not chunk:
                    self.fail(f"twistd ended before listening: {output!r}")
                output += chunk
        self.twistd_output = output
        return server, int(found.group(1))

    def stop(self, server: subprocess.Popen[bytes]) -> None:
        """
        End C{server}: SIGTERM, then SIGKILL if it is still there after
        L{RUN_TIMEOUT} seconds (reported as a failure).
        """
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                rest, _ = server.communicate(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()
                self.fail("twistd did not stop on SIGTERM; killed")
            self.twistd_output += rest or b""
        elif server.stdout is not None:
            server.stdout.close()

    def test_serve_and_get(self) -> None:
        """
        From the installed wheel alone: C{twistd} finds the C{poetry-server}
        plugin and serves the bundled poem; C{python -m poetry get} and the
        C{poetry-get} console script fetch it; SIGTERM shuts the server
        down.
        """
        self.install()
        where = self.run_in_venv(
            "python", "-c", "import poetry; print(poetry.__file__)"
        )
        self.assertTrue(
            where.stdout.decode().startswith(str(self.venv)),
            where.stdout + where.stderr,
        )
        with zipfile.ZipFile(_one("*.whl")) as wheel:
            cafe = wheel.read("poetry/poems/cafe.txt")
        server, port = self.start_twistd()
        fetched = self.run_in_venv("python", "-m", "poetry", "get", str(port))
        self.assertEqual(
            (fetched.returncode, fetched.stdout), (0, cafe), fetched.stderr
        )
        script = self.run_in_venv("poetry-get", f"127.0.0.1:{port}")
        self.assertEqual((script.returncode, script.stdout), (0, cafe), script.stderr)
        self.stop(server)
        self.assertIn(b"Server Shut Down.", self.twistd_output)
        self.assertNotIn(b"Traceback", self.twistd_output)
