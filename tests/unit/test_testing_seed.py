"""
Tests for L{poetry.testing._seed}: one seed per test, and the reproduction
line in the syntax of the runner that ran the test.
"""

from __future__ import annotations

import os
import shlex

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import SEED_ENVIRONMENT_VARIABLE, MemoryNetwork, reproduction_line
from poetry.testing._seed import (
    current_test,
    environment_seed,
    pytest_reproduction_line,
    resolve_seed,
    running_test,
    trial_reproduction_line,
)


class ReproductionLineTests(SynchronousTestCase):
    """
    The reproduction line names the runner's command.
    """

    def test_pytestSyntax(self) -> None:
        """
        A pytest node id gives a pytest command, the node id quoted for the
        shell.
        """
        self.assertEqual(
            reproduction_line(12, "tests/test_x.py::XTests::test_y"),
            "seed=12 \N{EM DASH} reproduce with: POETRY_TEST_SEED=12 "
            "python -m pytest 'tests/test_x.py::XTests::test_y'",
        )

    def test_pytestQuoting(self) -> None:
        """
        A node id with a parameter, spaces and a quote survives the shell.
        """
        node = "test_x.py::test_y[it's 1-2]"
        line = pytest_reproduction_line(3, node)
        command = line.split("reproduce with: ", 1)[1]
        self.assertEqual(
            shlex.split(command),
            ["POETRY_TEST_SEED=3", "python", "-m", "pytest", node],
        )

    def test_trialSyntax(self) -> None:
        """
        A trial id (or none) gives the trial command, as before.
        """
        self.assertEqual(
            reproduction_line(12, "tests.unit.test_a.ATests.test_b"),
            trial_reproduction_line(12, "tests.unit.test_a.ATests.test_b"),
        )
        self.assertTrue(
            reproduction_line(12, None).endswith("twisted.trial <your test>")
        )


class RunningTestTests(SynchronousTestCase):
    """
    L{running_test}: the running test's seed, for every network made
    without one.
    """

    def setUp(self) -> None:
        self.patch(os, "environ", {})

    def test_nesting(self) -> None:
        """
        A declaration lasts for its block; the outer one comes back after.
        """
        # (Under pytest, the plugin declared this test.)
        runner = current_test()
        with running_test(1, "outer") as outer:
            self.assertIs(current_test(), outer)
            with running_test(2, "inner", owner=self) as inner:
                self.assertIs(current_test(), inner)
                self.assertIs(inner.owner, self)
            self.assertIs(current_test(), outer)
        self.assertIs(current_test(), runner)
        self.assertIn("seed=1", repr(outer))

    def test_networksTakeTheTestSeed(self) -> None:
        """
        Without C{POETRY_TEST_SEED}, a network made without a seed takes
        the test's, which then counts as used; an explicit seed wins and
        does not use it.
        """
        with running_test(41, "t") as test:
            self.assertEqual(MemoryNetwork(5).seed, 5)
            self.assertFalse(test.used)
            self.assertEqual(MemoryNetwork().seed, 41)
            self.assertTrue(test.used)

    def test_environmentWinsOverTheRunnersSeed(self) -> None:
        """
        C{POETRY_TEST_SEED} wins over a seed the runner only chose (the
        pytest plugin chooses it from the variable anyway)...
        """
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "8"})
        with running_test(41, "t"):
            self.assertEqual(resolve_seed(None), 8)

    def test_fixedSeedWinsOverTheEnvironment(self) -> None:
        """
        ...but not over a test's own seed (its network's, given by its
        options): the networks it makes without a seed take that one, so
        that the seed its failure prints reproduces them.
        """
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "8"})
        with running_test(41, "t") as test:
            test.fixed = True
            self.assertEqual(resolve_seed(None), 41)

    def test_noSeedYet(self) -> None:
        """
        A test whose seed is not known yet leaves the choice to the
        environment or chance.
        """
        with running_test(None, "t"):
            seed = resolve_seed(None)
        self.assertTrue(0 <= seed < 2**32)


class EnvironmentSeedTests(SynchronousTestCase):
    """
    L{environment_seed} reads C{POETRY_TEST_SEED}.
    """

    def test_values(self) -> None:
        """
        Unset or blank is L{None}; a non-negative integer is itself;
        anything else is an error saying how to set it.
        """
        self.assertIsNone(environment_seed({}))
        self.assertIsNone(environment_seed({SEED_ENVIRONMENT_VARIABLE: "  "}))
        self.assertEqual(environment_seed({SEED_ENVIRONMENT_VARIABLE: " 7 "}), 7)
        for bad in ("-1", "x", "1.5"):
            error = self.assertRaises(
                ValueError, environment_seed, {SEED_ENVIRONMENT_VARIABLE: bad}
            )
            self.assertIn("POETRY_TEST_SEED=1234", str(error))
