"""
The command lines shown in the README and in C{docs/cli.md} are real: each
C{python -m poetry ...} parses, and each C{twistd ...} gives C{--pidfile=}
(so the examples can run side by side) and options its plugin accepts.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from poetry._cli import parse_args
from poetry._services import ProxyOptions, ServerOptions, TransformOptions

ROOT = Path(__file__).resolve().parents[2]

_PLUGINS: dict[str, type[usage.Options]] = {
    "poetry-server": ServerOptions,
    "poetry-transform": TransformOptions,
    "poetry-proxy": ProxyOptions,
}


def shown_commands(path: Path) -> list[list[str]]:
    """
    Every C{$ ...} line of the console blocks of C{path}, split as a shell
    would, without comments and redirections.
    """
    commands = []
    for line in path.read_text("utf-8").splitlines():
        if not line.startswith("$ "):
            continue
        words = shlex.split(line[2:], comments=True)
        for stop in (">", "|"):
            if stop in words:
                words = words[: words.index(stop)]
        commands.append(words)
    return commands


class ShownCommandTests(SynchronousTestCase):
    """
    The documented command lines work as written.
    """

    def test_commands(self) -> None:
        """
        Every C{python -m poetry} line parses; every C{twistd} line runs in
        the foreground (C{-n}) without a pid file (C{--pidfile=}) and its
        plugin's options parse.
        """
        seen = {"python": 0, "twistd": 0}
        for path in (ROOT / "README.md", ROOT / "docs" / "cli.md"):
            for words in shown_commands(path):
                if words[:3] == ["python", "-m", "poetry"]:
                    parse_args(words[3:])
                    seen["python"] += 1
                elif words[0] == "twistd":
                    self.assertEqual(words[1:3], ["-n", "--pidfile="], words)
                    plugin, *options = words[3:]
                    _PLUGINS[plugin]().parseOptions(options)
                    seen["twistd"] += 1
        self.assertGreaterEqual(seen["python"], 5)
        self.assertGreaterEqual(seen["twistd"], 5)
