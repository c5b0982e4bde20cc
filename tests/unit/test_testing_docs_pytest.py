"""
The examples of the "Configuring the test's network", "pytest" and
"Hypothesis" sections of C{docs/testing.md}, run exactly as shown: the trial
one by trial, the others by pytest (in this process) -- and the report the
document shows for the framing bug is the one Hypothesis gives.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from twisted.trial import runner
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import SEED_ENVIRONMENT_VARIABLE
from tests.unit.pytest_runs import run_pytest

DOCUMENT = Path(__file__).parents[2] / "docs" / "testing.md"

# A conftest for the Hypothesis examples' run: fewer examples than
# Hypothesis's default and no "explain" phase (whose comments the document
# shows), to keep the unit suite fast; the planted bug is found and shrunk
# all the same.
FEWER_EXAMPLES = """\
from hypothesis import Phase, settings

settings.register_profile(
    "docs-example",
    max_examples=30,
    stateful_step_count=20,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
settings.load_profile("docs-example")
"""


def block(marker: str, language: str) -> str:
    """
    The first C{language} code block after C{<!-- marker -->} in the
    document.
    """
    document = DOCUMENT.read_text("utf-8")
    tag = f"<!-- {marker} -->"
    if tag not in document:
        raise AssertionError(f"docs/testing.md has no {tag}")
    lines = document.split(tag, 1)[1].splitlines()
    first = next(i for i, line in enumerate(lines) if line == f"```{language}")
    last = next(i for i in range(first + 1, len(lines)) if lines[i] == "```")
    return "\n".join(lines[first + 1 : last]) + "\n"


def without_comments(report: str) -> list[str]:
    """
    The lines of a Hypothesis report without the comments its explain
    phase adds (skipped here): whole-line comments go, trailing ones are cut.
    """
    lines = []
    for line in report.splitlines():
        if line.lstrip("E ").startswith("# "):
            continue
        lines.append(re.sub(r"  # .*$", "", line))
    return lines


class DocumentExampleTests(SynchronousTestCase):
    """
    The examples pass (or, for the planted bug, fail as the document says).
    """

    def test_networkOptions(self) -> None:
        """
        The trial example: a class attribute and an overridden
        C{make_network} configure the network.
        """
        module = "docs_example_network_options"
        namespace: dict[str, Any] = {"__name__": module}
        code = block("example: network-options", "python")
        exec(compile(code, "docs/testing.md (network-options)", "exec"), namespace)
        result = TestResult()
        for value in list(namespace.values()):
            if (
                isinstance(value, type)
                and issubclass(value, SynchronousTestCase)
                and value.__module__ == module
            ):
                runner.TestLoader().loadClass(value).run(result)
        problems = [str(failure) for _, failure in result.errors + result.failures]
        self.assertEqual(problems, [])
        self.assertEqual(result.testsRun, 2)

    def test_pytest(self) -> None:
        """
        The pytest example: the fixture, and the marker's link and hosts.
        """
        run = run_pytest({"test_charge.py": block("example: pytest", "python")})
        self.assertEqual(
            run.outcomes(),
            {"test_poem": "passed", "test_slow_poem_far_away": "passed"},
            run.output,
        )

    def test_hypothesis(self) -> None:
        """
        The Hypothesis examples: the buffering receiver passes, under any
        conditions and as a state machine with stalls; the naive one fails,
        and the report -- the smallest condition, one cut after the first
        byte, then the seed line -- is the one the document shows.
        """
        code = block("example: hypothesis", "python") + block(
            "example: state-machine", "python"
        )
        run = run_pytest(
            {"test_framing.py": code, "conftest.py": FEWER_EXAMPLES},
            environ={SEED_ENVIRONMENT_VARIABLE: "1234"},
        )
        self.assertEqual(
            run.outcomes(),
            {
                "test_receiver": "passed",
                "test_naive_receiver": "failed",
                "test_receiver_machine": "passed",
            },
            run.output,
        )
        shown = without_comments(block("output: hypothesis", "text"))
        self.assertIn("E               chunking=SplitAt((1,)),", shown)
        report = without_comments(run.failing("test_naive_receiver").longreprtext)
        # The shown lines, in order and consecutive, but where the document
        # elides some ("E       ...": the explain phase's, skipped here).
        position = report.index(shown[0])
        for line in shown[1:]:
            if line == "E       ...":
                continue
            position = report.index(line, position + 1)
        self.assertEqual(position, len(report) - 3, report)
