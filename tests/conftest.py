"""
pytest configuration of the project's own suites (trial ignores this file).

Trial runs every test with a temporary directory of its own as the working
directory (C{_trial_temp}); the tests rely on it -- C{self.mktemp()} returns
a path relative to it, Hypothesis keeps its example database there -- so
under pytest each worker runs its tests in a directory of its own under the
system temporary directory too, and the source tree stays untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _trial_temp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """
    Run the session in a fresh directory under pytest's base temporary
    directory (itself under the system's), as trial does in C{_trial_temp}.
    """
    previous = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("_trial_temp"))
    try:
        yield
    finally:
        os.chdir(previous)
