"""
Choosing the seed of a L{MemoryNetwork} and saying how to reproduce a run.

One seed per test: a test runner that knows which test is running (the
pytest plugin, L{MemoryNetworkTestCase}) declares it with L{running_test};
while it runs, every network made without a seed -- and every Hypothesis
search seeded with L{poetry.testing.strategies.seeded} -- takes the test's
seed, so the one seed a failure prints reproduces all of them.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = [
    "SEED_ENVIRONMENT_VARIABLE",
    "RunningTest",
    "current_test",
    "environment_seed",
    "pytest_reproduction_line",
    "reproduction_line",
    "resolve_seed",
    "running_test",
    "trial_reproduction_line",
]

SEED_ENVIRONMENT_VARIABLE = "POETRY_TEST_SEED"

_SEED_LIMIT = 2**32


class RunningTest:
    """
    The seed of the running test, and how a reproduction line names it.

    @ivar seed: the test's seed, or L{None} until it is known (networks then
        take it from C{POETRY_TEST_SEED} or at random).
    @ivar target: the test, as its runner names it: a trial id
        (C{tests.unit.test_x.XTests.test_y}) or a pytest node id
        (C{tests/unit/test_x.py::XTests::test_y}).
    @ivar owner: the object running the test (the pytest item, the trial
        test case), so that a runner can tell its own test from a test run
        inside it.
    @ivar fixed: whether the seed is the test's own (a L{MemoryNetworkTestCase}'s
        network's, a marker's), which networks made without a seed take
        even if C{POETRY_TEST_SEED} says otherwise; if not, it only stands
        in for C{POETRY_TEST_SEED} when that is unset.
    @ivar used: whether anything took the seed (a network made without a
        seed, a seeded Hypothesis search): only then is it worth printing.
    """

    def __init__(self, seed: int | None, target: str, owner: object = None) -> None:
        self.seed = seed
        self.target = target
        self.owner = owner
        self.fixed = False
        self.used = False

    def __repr__(self) -> str:
        return f"<RunningTest seed={self.seed} target={self.target!r} used={self.used}>"


_current: RunningTest | None = None


def current_test() -> RunningTest | None:
    """
    The innermost test declared with L{running_test}, if any.
    """
    return _current


@contextmanager
def running_test(
    seed: int | None, target: str, owner: object = None
) -> Iterator[RunningTest]:
    """
    Declare, for the duration of the block, the running test and its seed;
    the previous declaration (if a test runs tests) comes back afterwards.
    """
    global _current
    previous = _current
    test = RunningTest(seed, target, owner)
    _current = test
    try:
        yield test
    finally:
        _current = previous


def environment_seed(environ: Mapping[str, str] | None = None) -> int | None:
    """
    The seed C{POETRY_TEST_SEED} names, or L{None} if it is unset or empty.

    @param environ: the environment to read (defaults to L{os.environ}).
    @raise ValueError: if it is set but is not a non-negative integer.
    """
    if environ is None:
        environ = os.environ
    text = environ.get(SEED_ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return None
    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(
            f"{SEED_ENVIRONMENT_VARIABLE}={text!r} is not a seed: "
            "use a non-negative integer such as "
            f"{SEED_ENVIRONMENT_VARIABLE}=1234"
        )
    return value


def random_seed() -> int:
    """
    A fresh seed in C{[0, 2**32)}, from L{random.SystemRandom}.
    """
    return random.SystemRandom().randrange(_SEED_LIMIT)


def resolve_seed(seed: int | None, environ: Mapping[str, str] | None = None) -> int:
    """
    Return the seed a network should use.

    @param seed: an explicit seed, returned unchanged; or L{None} for the
        running test's own seed (see L{running_test} and
        L{RunningTest.fixed}) if it has one, else the seed the environment
        variable C{POETRY_TEST_SEED} names if it is set, else the running
        test's seed if it has one, else one picked with
        L{random.SystemRandom} in C{[0, 2**32)}.
    @param environ: the environment to read (defaults to L{os.environ}).

    @raise ValueError: if C{POETRY_TEST_SEED} is set but is not a
        non-negative integer.
    @raise TypeError: if C{seed} is neither an L{int} nor L{None}.
    """
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"a seed must be an int or None, not {seed!r}")
        return seed
    test = _current
    if test is not None:
        test.used = True
        if test.fixed and test.seed is not None:
            return test.seed
    value = environment_seed(environ)
    if value is None and test is not None:
        value = test.seed
    if value is None:
        value = random_seed()
    return value


def _shell_quote(text: str) -> str:
    """
    C{text} in single quotes for a POSIX shell.
    """
    return "'" + text.replace("'", "'\"'\"'") + "'"


def trial_reproduction_line(seed: int, test_id: str | None) -> str:
    """
    The reproduction line of a trial test, e.g. C{seed=1234 — reproduce
    with: POETRY_TEST_SEED=1234 python -m twisted.trial
    tests.unit.test_x.XTests.test_y}.

    @param test_id: the trial id of the test, or L{None} if unknown (then
        C{<your test>} stands in for it).
    """
    target = test_id if test_id else "<your test>"
    return (
        f"seed={seed} \N{EM DASH} reproduce with: "
        f"{SEED_ENVIRONMENT_VARIABLE}={seed} python -m twisted.trial {target}"
    )


def pytest_reproduction_line(seed: int, node_id: str) -> str:
    """
    The reproduction line of a pytest test, e.g. C{seed=1234 — reproduce
    with: POETRY_TEST_SEED=1234 python -m pytest
    'tests/test_x.py::XTests::test_y'}.

    @param node_id: the test's node id (its path relative to the directory
        the command is run from), quoted for the shell in the line.
    """
    return (
        f"seed={seed} \N{EM DASH} reproduce with: "
        f"{SEED_ENVIRONMENT_VARIABLE}={seed} python -m pytest {_shell_quote(node_id)}"
    )


def reproduction_line(seed: int, test_id: str | None) -> str:
    """
    Return the one-line reproduction that ends every harness failure: in
    pytest syntax (L{pytest_reproduction_line}) for a pytest node id (one
    with C{::}), else in trial syntax (L{trial_reproduction_line}).

    @param test_id: the test's trial id or pytest node id, or L{None} if
        unknown (then C{<your test>} stands in for it).
    """
    if test_id and "::" in test_id:
        return pytest_reproduction_line(seed, test_id)
    return trial_reproduction_line(seed, test_id)
