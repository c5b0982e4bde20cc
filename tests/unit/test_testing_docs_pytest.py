"""
The examples of the "Configuring the test's network", "pytest" and
"Hypothesis" sections of C{docs/testing.md}, run exactly as shown: the trial
one by trial, the others by pytest (in this process) -- and the report the
document shows for the framing bug is the one Hypothesis gives.
"""

from __future__ import annotations

import re

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import SEED_ENVIRONMENT_VARIABLE
from tests.unit.pytest_runs import run_pytest
from tests.unit.test_testing_support import document_block, run_document_example

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
    document, as a file's text (ending in a newline).
    """
    return document_block(marker, language) + "\n"


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
        run_document_example(self, "network-options", 2)

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
