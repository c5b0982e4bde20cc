"""
pytest configuration of the project's own suites (trial ignores this file).

Trial runs every test with a temporary directory of its own as the working
directory (C{_trial_temp}); the tests rely on it -- C{self.mktemp()} returns
a path relative to it -- so under pytest each worker runs its tests in a
directory of its own under the system temporary directory too.  Hypothesis
keeps its files (its example database, a cache of constants it reads in the
code under test) in a temporary directory as well: the source tree stays
untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import configuration


def pytest_configure(config: pytest.Config) -> None:
    """
    Give Hypothesis a directory of its own, before anything (collection
    included) makes it write to C{.hypothesis} in the working directory.
    """
    directory = Path(tempfile.mkdtemp(prefix="poetry-hypothesis-"))
    configuration.set_hypothesis_home_dir(directory)

    def remove() -> None:
        configuration.set_hypothesis_home_dir(None)
        shutil.rmtree(directory, ignore_errors=True)

    config.add_cleanup(remove)


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
