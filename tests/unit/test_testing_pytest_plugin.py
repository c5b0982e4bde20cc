"""
Tests for L{poetry.testing.pytest_plugin}: pytest runs, in this process,
test files that use the C{memory_network} fixture and marker, and what it
reports is checked -- the seed of each test, the reproduction line in
pytest syntax, the teardown check, the marker's options and errors.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from textwrap import dedent

from twisted.trial.unittest import SynchronousTestCase

import poetry
from poetry.testing import SEED_ENVIRONMENT_VARIABLE
from tests.unit.pytest_runs import PLUGIN, PytestRun, plugin_entry_points, run_pytest

# A failure's reproduction line, in pytest syntax.
LINE = re.compile(
    r"seed=(\d+) \N{EM DASH} reproduce with: POETRY_TEST_SEED=(\d+) "
    r"python -m pytest '([^']+)'"
)

HEADER = """\
import os

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol

from poetry.testing import (
    ONE_BYTE,
    LinkConditions,
    MemoryNetwork,
    MemoryNetworkTestCase,
)
"""


def module(body: str) -> dict[str, str]:
    """
    A test file C{test_inner.py} made of the common imports and C{body}.
    """
    return {"test_inner.py": HEADER + dedent(body)}


def seed_line(run: PytestRun, name: str) -> tuple[int, str]:
    """
    The seed and the node id of the reproduction line in the C{poetry}
    section of the failing test C{name}'s report.
    """
    text = run.sections(name)["poetry"]
    *before, last = text.splitlines()
    # First, for a test that used the fixture, where the diagram of its
    # network's run was written (an HTML page).
    for line in before:
        assert line.startswith("diagram of the run: "), text
        page = line.removeprefix("diagram of the run: ")
        assert page.endswith("trace.html") and os.path.exists(page), text
    match = LINE.fullmatch(last)
    assert match is not None, text
    assert match.group(1) == match.group(2), text
    return int(match.group(1)), match.group(3)


class PackagingTests(SynchronousTestCase):
    """
    The plugin is registered through the C{pytest11} entry point, and only
    the plugin imports pytest.
    """

    def test_entryPoint(self) -> None:
        """
        The installed distribution registers the plugin module under the
        C{pytest11} group, so pytest loads it without configuration.
        """
        self.assertEqual(plugin_entry_points(), [PLUGIN])

    def test_pytestStaysOptional(self) -> None:
        """
        No module of the package but the plugin imports pytest, and none
        but the strategies module imports Hypothesis: both stay optional.
        """
        package = Path(poetry.__file__).parent
        importers: dict[str, set[str]] = {"pytest": set(), "hypothesis": set()}
        for path in sorted(package.rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top in importers:
                        importers[top].add(path.relative_to(package).as_posix())
        self.assertEqual(
            importers,
            {
                "pytest": {"testing/pytest_plugin.py"},
                "hypothesis": {"testing/strategies.py"},
            },
        )


class FixtureTests(SynchronousTestCase):
    """
    The C{memory_network} fixture.
    """

    def test_freshNetworkTaggedWithTheTest(self) -> None:
        """
        Each test gets its own network, seeded from C{POETRY_TEST_SEED},
        whose C{test_id} is the test's node id.
        """
        run = run_pytest(
            module("""
            SEEN = []

            def test_one(memory_network):
                assert isinstance(memory_network, MemoryNetwork)
                assert memory_network.seed == 2718
                assert memory_network.test_id == "test_inner.py::test_one"
                SEEN.append(memory_network)

            class TestInClass:
                def test_two(self, memory_network):
                    assert memory_network is not SEEN[0]
                    assert memory_network.test_id == (
                        "test_inner.py::TestInClass::test_two"
                    )
            """),
            environ={SEED_ENVIRONMENT_VARIABLE: "2718"},
        )
        self.assertEqual(
            run.outcomes(), {"test_one": "passed", "TestInClass::test_two": "passed"}
        )

    def test_seedOption(self) -> None:
        """
        C{--poetry-seed=N} seeds every test, as C{POETRY_TEST_SEED=N} (which
        it sets for the run, and puts back afterwards).
        """
        unset = {k: v for k, v in os.environ.items() if k != SEED_ENVIRONMENT_VARIABLE}
        self.patch(os, "environ", unset)
        files = module("""
            def test_seed(memory_network):
                assert memory_network.seed == 99
                assert MemoryNetwork().seed == 99
                assert os.environ["POETRY_TEST_SEED"] == "99"
            """)
        run = run_pytest(files, "--poetry-seed=99")
        self.assertEqual(run.outcomes(), {"test_seed": "passed"})
        self.assertIn("poetry.testing: POETRY_TEST_SEED=99", run.output)
        self.assertNotIn(SEED_ENVIRONMENT_VARIABLE, os.environ)
        # The option wins over the variable, which comes back afterwards.
        self.patch(os, "environ", {**unset, SEED_ENVIRONMENT_VARIABLE: "5"})
        run = run_pytest(
            files, "--poetry-seed=99", environ={SEED_ENVIRONMENT_VARIABLE: "5"}
        )
        self.assertEqual(run.outcomes(), {"test_seed": "passed"})
        self.assertEqual(os.environ[SEED_ENVIRONMENT_VARIABLE], "5")

    def test_badSeeds(self) -> None:
        """
        A C{--poetry-seed} or C{POETRY_TEST_SEED} that is not a non-negative
        integer stops the run at once with a usage error saying so.
        """
        files = module("""
            def test_never(memory_network):
                pass
            """)
        for bad in ("-1", "soon"):
            bad_option = run_pytest(files, f"--poetry-seed={bad}")
            self.assertEqual(bad_option.status, 4)
            self.assertEqual(bad_option.reports, [])
            self.assertIn(f"'{bad}' is not a seed", bad_option.output)
        bad_variable = run_pytest(files, environ={SEED_ENVIRONMENT_VARIABLE: "soon"})
        self.assertEqual(bad_variable.status, 4)
        self.assertEqual(bad_variable.reports, [])
        self.assertIn("POETRY_TEST_SEED='soon' is not a seed", bad_variable.output)

    def test_plainAssertShowsTheSeed(self) -> None:
        """
        A plain C{assert} failing in a test that used the fixture gets a
        C{poetry} report section: the seed and a reproduction line in
        pytest syntax, also printed in the failure's output; and a
        C{poetry_seed} user property.  Each test has its own random seed,
        also taken by every network the test makes without one.
        """
        run = run_pytest(
            module("""
            def test_one(memory_network):
                assert MemoryNetwork().seed == memory_network.seed
                assert memory_network.random.random() < 0

            def test_two(memory_network):
                assert False, "the second"
            """)
        )
        self.assertEqual(run.outcomes(), {"test_one": "failed", "test_two": "failed"})
        one, target = seed_line(run, "test_one")
        self.assertEqual(target, "test_inner.py::test_one")
        two, _ = seed_line(run, "test_two")
        self.assertNotEqual(one, two)
        self.assertIn(run.sections("test_one")["poetry"], run.output)
        self.assertIn(("poetry_seed", one), run.failing("test_one").user_properties)
        self.assertIn('<property name="poetry_seed" value="', run.junit)
        self.assertIn("poetry.testing: a random seed per test", run.output)

    def test_reproductionLineReproduces(self) -> None:
        """
        Running the reproduction line -- the seed in the environment, the
        node id as argument -- gives the same failure: the same seed, the
        same random draws, the same trace.
        """
        files = module("""
            from poetry.testing import RandomSizes
            from twisted.internet.protocol import ClientFactory

            class Send(Protocol):
                def connectionMade(self):
                    self.transport.write(b"x" * 50)
                    self.transport.loseConnection()

            @pytest.mark.memory_network(
                link=LinkConditions(chunking=RandomSizes(1, 9), jitter=0.5)
            )
            def test_pieces(memory_network):
                pieces = []
                receiver = Protocol()
                receiver.dataReceived = lambda data: pieces.append(len(data))
                port = memory_network.listenTCP(
                    0, Factory.forProtocol(lambda: receiver)
                )
                memory_network.connectTCP(
                    "127.0.0.1", port.getHost().port, ClientFactory.forProtocol(Send)
                )
                memory_network.run()
                port.stopListening()
                trace = memory_network.trace_dump()
                assert False, f"pieces {pieces}\\n{trace}"

            def test_other():
                pass
            """)
        first = run_pytest(files)
        seed, target = seed_line(first, "test_pieces")
        again = run_pytest(
            files, environ={SEED_ENVIRONMENT_VARIABLE: str(seed)}, tests=[target]
        )
        self.assertEqual(again.outcomes(), {"test_pieces": "failed"})
        self.assertEqual(seed_line(again, "test_pieces"), (seed, target))
        self.assertEqual(
            again.failing("test_pieces").longreprtext,
            first.failing("test_pieces").longreprtext,
        )
        text = first.failing("test_pieces").longreprtext
        self.assertIn("connection-lost  server ConnectionDone", text)
        self.assertGreater(text.count(" deliver "), 5)

    def test_uncleanTeardownFails(self) -> None:
        """
        A test that leaves a listening port, a connection or a timer fails
        at teardown with the message of L{MemoryNetworkTestCase}, ending
        with the pytest reproduction line (once); one that already failed
        is not also reported as unclean; a connection closed on the last
        line counts as closed.
        """
        run = run_pytest(
            module("""
            def test_port(memory_network):
                memory_network.listenTCP(0, Factory.forProtocol(Protocol))

            def test_timer(memory_network):
                memory_network.callLater(10, lambda: None)

            def test_failsUnclean(memory_network):
                memory_network.listenTCP(0, Factory.forProtocol(Protocol))
                assert False, "the real problem"

            def test_closesOnLastLine(memory_network):
                port = memory_network.listenTCP(0, Factory.forProtocol(Protocol))
                port.stopListening()
            """)
        )
        self.assertEqual(
            run.outcomes(),
            {
                "test_port": "error",
                "test_timer": "error",
                "test_failsUnclean": "failed",
                "test_closesOnLastLine": "passed",
            },
        )
        for name, expected in (
            ("test_port", "Listening ports (1):"),
            ("test_timer", "Pending timers (1):"),
        ):
            report = run.failing(name)
            self.assertEqual(report.when, "teardown")
            text = report.longreprtext
            self.assertIn("The MemoryNetwork is not clean", text)
            self.assertIn(expected, text)
            self.assertEqual(len(LINE.findall(text)), 1)
            self.assertIn(f"'test_inner.py::{name}'", text)
            self.assertNotIn("poetry", dict(report.sections))
        failed = [r for r in run.reports if r.nodeid.endswith("test_failsUnclean")]
        self.assertEqual([r.outcome for r in failed], ["passed", "failed", "passed"])

    def test_networkRetiredAfterTheTest(self) -> None:
        """
        The fixture retires its network when the test ends: a later test
        that uses an object built on it (a module-level cache) fails with
        L{NetworkRetired} naming both tests, with one reproduction line.
        """
        run = run_pytest(
            module("""
            cache = {}

            def test_first(memory_network):
                cache["reactor"] = memory_network

            def test_second(memory_network):
                cache["reactor"].callLater(240, lambda: None)
            """)
        )
        self.assertEqual(
            run.outcomes(), {"test_first": "passed", "test_second": "failed"}
        )
        text = run.failing("test_second").longreprtext
        self.assertIn("NetworkRetired", text)
        self.assertIn("the MemoryNetwork of 'test_inner.py::test_first'", text)
        self.assertIn("during 'test_inner.py::test_second'", text)
        self.assertEqual(len(LINE.findall(text)), 1)

    def test_harnessErrorNotRepeated(self) -> None:
        """
        A harness error already ends with the reproduction line, in pytest
        syntax: the report gets no second one.
        """
        run = run_pytest(
            module("""
            def test_deadlock(memory_network):
                memory_network.run_until(Deferred())
            """)
        )
        report = run.failing("test_deadlock")
        self.assertIn("Deadlock", report.longreprtext)
        self.assertEqual(len(LINE.findall(report.longreprtext)), 1)
        self.assertNotIn("poetry", dict(report.sections))

    def test_noSeedWithoutNetwork(self) -> None:
        """
        A failing test that took no seed (no fixture, no network) gets no
        C{poetry} section.
        """
        run = run_pytest(
            module("""
            def test_plain():
                assert 1 == 2

            def test_seeded_network():
                MemoryNetwork(5)
                assert 1 == 2

            def test_unseeded_network():
                MemoryNetwork()
                assert 1 == 2
            """)
        )
        self.assertNotIn("poetry", dict(run.failing("test_plain").sections))
        self.assertNotIn("poetry", dict(run.failing("test_seeded_network").sections))
        seed_line(run, "test_unseeded_network")


class MarkerTests(SynchronousTestCase):
    """
    The C{@pytest.mark.memory_network(**options)} marker.
    """

    def test_options(self) -> None:
        """
        The marker's options are passed to L{MemoryNetwork}: seed, link,
        hosts, step budget, trace; markers on the module and the class
        apply too, the closest winning per option.
        """
        run = run_pytest(
            module("""
            pytestmark = pytest.mark.memory_network(step_budget=10, seed=1)

            @pytest.mark.memory_network(
                seed=7,
                link=LinkConditions(chunking=ONE_BYTE),
                hosts={"poems.example": "10.0.0.2"},
                trace=False,
            )
            def test_options(memory_network):
                assert memory_network.seed == 7
                assert memory_network.step_budget == 10
                assert memory_network.resolve_name("poems.example") == "10.0.0.2"
                assert "FixedSize(size=1)" in memory_network.faults.describe()
                memory_network.callLater(0, lambda: None)
                memory_network.run()
                assert memory_network.trace == ()

            @pytest.mark.memory_network(step_budget=20)
            class TestClass:
                @pytest.mark.memory_network(step_budget=30)
                def test_closest(self, memory_network):
                    assert memory_network.step_budget == 30
                    assert memory_network.seed == 1

                def test_class(self, memory_network):
                    assert memory_network.step_budget == 20
            """),
            environ={SEED_ENVIRONMENT_VARIABLE: "2"},
        )
        self.assertEqual(
            run.outcomes(),
            {
                "test_options": "passed",
                "TestClass::test_closest": "passed",
                "TestClass::test_class": "passed",
            },
        )

    def test_badOptions(self) -> None:
        """
        A positional argument or an unknown option fails the test's setup,
        naming the known options; a bad value fails as L{MemoryNetwork}
        says.
        """
        run = run_pytest(
            module("""
            @pytest.mark.memory_network(7)
            def test_positional(memory_network):
                pass

            @pytest.mark.memory_network(latency=1)
            def test_unknown(memory_network):
                pass

            @pytest.mark.memory_network(seed="7")
            def test_bad_seed(memory_network):
                pass
            """)
        )
        known = (
            "faults, guard_global_reactor, hosts, link, receive_buffer, seed, "
            "send_buffer, step_budget, timer_errors, trace, trace_checksums"
        )
        positional = run.failing("test_positional")
        self.assertEqual(positional.when, "setup")
        self.assertIn("takes keyword options only", positional.longreprtext)
        self.assertIn(known, positional.longreprtext)
        unknown = run.failing("test_unknown").longreprtext
        self.assertIn("unknown @pytest.mark.memory_network option 'latency'", unknown)
        self.assertIn(known, unknown)
        self.assertIn(
            "a seed must be an int", run.failing("test_bad_seed").longreprtext
        )

    def test_markerDeclared(self) -> None:
        """
        The marker is declared: C{--strict-markers} accepts it.
        """
        run = run_pytest(
            module("""
            @pytest.mark.memory_network(seed=3)
            def test_marked(memory_network):
                assert memory_network.seed == 3
            """),
            "--strict-markers",
        )
        self.assertEqual(run.outcomes(), {"test_marked": "passed"})


class TestCaseUnderPytestTests(SynchronousTestCase):
    """
    L{MemoryNetworkTestCase}, run by pytest.
    """

    def test_plainAssertShowsTheSeedInPytestSyntax(self) -> None:
        """
        A plain C{assert} failing in a L{MemoryNetworkTestCase} shows the
        seed and the reproduction line in pytest syntax, once; the test
        case takes the run's seed and its network options.
        """
        run = run_pytest(
            module("""
            class NetTests(MemoryNetworkTestCase):
                network_options = {"link": LinkConditions(latency=0.5)}

                def test_fails(self):
                    assert self.net.seed == 11
                    assert MemoryNetwork().seed == 11
                    assert self.net.test_id == "test_inner.py::NetTests::test_fails"
                    assert "latency=0.5" in self.net.faults.describe()
                    assert self.net.seconds() == 1.0
            """),
            environ={SEED_ENVIRONMENT_VARIABLE: "11"},
        )
        report = run.failing("NetTests::test_fails")
        text = report.longreprtext
        self.assertIn("assert 0.0 == 1.0", text)
        lines = LINE.findall(text)
        self.assertEqual(lines, [("11", "11", "test_inner.py::NetTests::test_fails")])
        self.assertNotIn("poetry", dict(report.sections))
