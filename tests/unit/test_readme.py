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


class ExtractExamplesTests(SynchronousTestCase):
    """
    C{tests/extract_examples.py}, which hands the examples to mypy in the
    C{typing} environment, finds every example the tests run.
    """

    def test_everyExample(self) -> None:
        """
        The README's block and each marked example of the guides become one
        module of C{doc_examples}; the state machine continues the Hypothesis
        example, whose names it uses.
        """
        from tests.extract_examples import main

        directory = Path(self.mktemp())
        main(str(directory))
        package = directory / "doc_examples"
        modules = sorted(path.stem for path in package.glob("*.py"))
        guide = (README.parent / "docs" / "testing.md").read_text("utf-8")
        marked = len(re.findall(r"<!-- example: ", guide))
        testing = [name for name in modules if name.startswith("testing_")]
        self.assertEqual(len(testing), marked - 1)
        self.assertIn("readme_01", modules)
        self.assertIn("proxy_proxy", modules)
        self.assertIn("__init__", modules)
        hypothesis = (package / "testing_hypothesis.py").read_text("utf-8")
        self.assertIn("class ReceiverMachine", hypothesis)
        self.assertNotIn("testing_state_machine", modules)
