"""
The structure of L{poetry.testing}: its layers import each other one way
only, and only the facade and the helpers built on it know the network.
"""

from __future__ import annotations

import ast
import os
from functools import cache

from twisted.trial.unittest import SynchronousTestCase

import poetry.testing

PACKAGE = "poetry.testing"

# The helpers built on the network (public API over it), which may import
# the facade; no layer below the facade may.
BUILT_ON_THE_NETWORK = frozenset(
    {
        "poetry.testing",
        "poetry.testing._determinism",
        "poetry.testing._diagram",
        "poetry.testing._guard",
        "poetry.testing._plans",
        "poetry.testing._scripted",
        "poetry.testing._snapshot",
        "poetry.testing._splits",
        "poetry.testing._testcase",
        "poetry.testing.pytest_plugin",
        "poetry.testing.strategies",
    }
)

# The layers of the core, which must not know the network.
LAYERS = (
    "_clock",
    "_core",
    "_socket",
    "_link",
    "_transport",
    "_connect",
    "_ports",
    "_names",
    "_faults",
    "_conditions",
    "_hosts",
    "_chaos",
    "_udp",
    "_unix",
    "_tls",
)


def _modules() -> dict[str, str]:
    """
    Every module of the package: its dotted name and its source file.
    """
    directory = os.path.dirname(poetry.testing.__file__)
    modules: dict[str, str] = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py"):
            stem = name[:-3]
            dotted = PACKAGE if stem == "__init__" else f"{PACKAGE}.{stem}"
            modules[dotted] = os.path.join(directory, name)
    return modules


def _imports(path: str) -> set[str]:
    """
    The modules of the package that the module at C{path} imports anywhere
    -- at the top, inside functions, or under C{TYPE_CHECKING}.
    """
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module == PACKAGE:
                for alias in node.names:
                    found.add(f"{PACKAGE}.{alias.name}")
                found.add(PACKAGE)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE):
                    found.add(alias.name)
    return found


@cache
def _graph() -> dict[str, frozenset[str]]:
    """
    Each module of the package and the package's modules it imports (the
    sources are parsed once for all the tests, which only read it).
    """
    modules = _modules()
    return {
        name: frozenset(dep for dep in _imports(path) if dep in modules and dep != name)
        for name, path in modules.items()
    }


class LayerTests(SynchronousTestCase):
    """
    Imports inside L{poetry.testing}.
    """

    def setUp(self) -> None:
        self.graph = _graph()

    def test_noCycles(self) -> None:
        """
        No module imports itself through others -- counting imports inside
        functions and under C{TYPE_CHECKING} (the package's C{__init__},
        which only gathers names, aside).
        """
        graph = {
            name: deps - {PACKAGE}
            for name, deps in self.graph.items()
            if name != PACKAGE
        }
        visiting: list[str] = []
        done: set[str] = set()
        cycles: list[list[str]] = []

        def visit(name: str) -> None:
            if name in done:
                return
            if name in visiting:
                cycles.append([*visiting[visiting.index(name) :], name])
                return
            visiting.append(name)
            for dep in sorted(graph.get(name, ())):
                visit(dep)
            visiting.pop()
            done.add(name)

        for name in sorted(graph):
            visit(name)
        self.assertEqual(cycles, [])

    def test_onlyHelpersKnowTheNetwork(self) -> None:
        """
        Only the facade's own helpers import L{MemoryNetwork}'s module; every
        layer of the core knows the one below it only.
        """
        network = f"{PACKAGE}._network"
        importers = {name for name, deps in self.graph.items() if network in deps}
        self.assertEqual(importers - BUILT_ON_THE_NETWORK, set())
        for layer in LAYERS:
            self.assertNotIn(network, self.graph[f"{PACKAGE}.{layer}"], layer)

    def test_layersPointDown(self) -> None:
        """
        The transport knows the socket, not the link or the network; the
        socket knows neither the transport nor the link; the link knows the
        socket, not the transport.
        """
        graph = self.graph

        def deps(layer: str) -> set[str]:
            return {dep.rsplit(".", 1)[-1] for dep in graph[f"{PACKAGE}.{layer}"]}

        self.assertEqual(deps("_socket") & {"_transport", "_link", "_connect"}, set())
        self.assertEqual(deps("_link") & {"_transport", "_connect", "_ports"}, set())
        self.assertEqual(deps("_transport") & {"_link", "_connect", "_ports"}, set())
