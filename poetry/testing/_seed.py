"""
Choosing the seed of a L{MemoryNetwork} and saying how to reproduce a run.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping

__all__ = ["SEED_ENVIRONMENT_VARIABLE", "reproduction_line", "resolve_seed"]

SEED_ENVIRONMENT_VARIABLE = "POETRY_TEST_SEED"

_SEED_LIMIT = 2**32


def resolve_seed(seed: int | None, environ: Mapping[str, str] | None = None) -> int:
    """
    Return the seed a network should use.

    @param seed: an explicit seed, returned unchanged; or L{None} to take the
        seed from the environment variable C{POETRY_TEST_SEED} if it is set,
        else to pick one with L{random.SystemRandom} in C{[0, 2**32)}.
    @param environ: the environment to read (defaults to L{os.environ}).

    @raise ValueError: if C{POETRY_TEST_SEED} is set but is not a
        non-negative integer.
    @raise TypeError: if C{seed} is neither an L{int} nor L{None}.
    """
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"a seed must be an int or None, not {seed!r}")
        return seed
    if environ is None:
        environ = os.environ
    text = environ.get(SEED_ENVIRONMENT_VARIABLE, "").strip()
    if text:
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
    return random.SystemRandom().randrange(_SEED_LIMIT)


def reproduction_line(seed: int, test_id: str | None) -> str:
    """
    Return the one-line reproduction that ends every harness failure, e.g.
    C{seed=1234 — reproduce with: POETRY_TEST_SEED=1234 python -m
    twisted.trial tests.unit.test_x.XTests.test_y}.

    @param test_id: the trial id of the test, or L{None} if unknown (then
        C{<your test>} stands in for it).
    """
    target = test_id if test_id else "<your test>"
    return (
        f"seed={seed} \N{EM DASH} reproduce with: "
        f"{SEED_ENVIRONMENT_VARIABLE}={seed} python -m twisted.trial {target}"
    )
