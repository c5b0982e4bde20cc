"""
The README's example is a real test: run it, so the README cannot rot.
"""

from __future__ import annotations

import re
from pathlib import Path

from twisted.trial import unittest as trial
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_python_blocks() -> list[str]:
    """
    Every fenced C{python} block of the README, in order.
    """
    return re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), re.DOTALL)


class ReadmeExampleTests(SynchronousTestCase):
    def test_example_passes(self) -> None:
        """
        The harness example in the README defines a test case whose test
        passes when run.
        """
        blocks = readme_python_blocks()
        self.assertEqual(len(blocks), 1)
        namespace: dict[str, object] = {"__name__": "readme_example"}
        exec(compile(blocks[0], str(README), "exec"), namespace)
        case = namespace["SlowPoemTests"]
        assert isinstance(case, type) and issubclass(case, SynchronousTestCase)
        result = TestResult()
        trial.TestSuite([case("test_slow_poem")]).run(result)
        self.assertEqual((result.testsRun, result.errors, result.failures), (1, [], []))
