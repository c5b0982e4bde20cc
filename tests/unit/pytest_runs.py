"""
Run pytest in this process on test files written for the occasion, and
collect what it reported: how the unit suite (run by trial, or by pytest)
tests the pytest plugin of L{poetry.testing}.

The inner run uses the plugin as pytest loads it -- through the C{pytest11}
entry point of the installed distribution (or C{-p} if the distribution is
not installed) -- in a fresh directory under the system temporary directory.
"""

from __future__ import annotations

import gc
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import attrs
import hypothesis
import pytest

PLUGIN = "poetry.testing.pytest_plugin"


def plugin_entry_points() -> list[str]:
    """
    The modules the installed distributions register under C{pytest11} that
    are this project's plugin.
    """
    return [ep.value for ep in entry_points(group="pytest11") if ep.value == PLUGIN]


@attrs.frozen
class PytestRun:
    """
    What an inner pytest run reported.

    @ivar status: pytest's exit status.
    @ivar reports: every test report (setup, call, teardown), in order.
    @ivar output: the terminal output (standard output and error).
    @ivar junit: the JUnit XML report.
    """

    status: int
    reports: list[pytest.TestReport]
    output: str
    junit: str

    def outcomes(self) -> dict[str, str]:
        """
        Each test's outcome (C{passed}, C{failed}, C{error} for a failing
        setup or teardown), by the test's name (the node id's last part).
        """
        found: dict[str, str] = {}
        for report in self.reports:
            name = report.nodeid.split("::", 1)[1]
            if report.when == "call":
                found.setdefault(name, report.outcome)
                if report.failed:
                    found[name] = "failed"
            elif report.failed:
                found[name] = "error"
            elif report.skipped:
                found[name] = "skipped"
        return found

    def failing(self, name: str) -> pytest.TestReport:
        """
        The failing report of the test C{name}.
        """
        for report in self.reports:
            if report.nodeid.split("::", 1)[1] == name and report.failed:
                return report
        raise AssertionError(f"{name} did not fail:\n{self.output}")

    def sections(self, name: str) -> dict[str, str]:
        """
        The sections of the failing report of C{name}.
        """
        return dict(self.failing(name).sections)


class _Collector:
    """
    A pytest plugin that keeps every test report.
    """

    def __init__(self) -> None:
        self.reports: list[pytest.TestReport] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)


@contextmanager
def _environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_pytest(
    files: Mapping[str, str],
    *args: str,
    environ: Mapping[str, str | None] | None = None,
    tests: Sequence[str] = (),
) -> PytestRun:
    """
    Write C{files} (name -> source) into a fresh directory and run pytest
    on it in this process, from that directory; then remove it.

    @param args: more command-line arguments.
    @param tests: the tests to run, as node ids (default: the directory).
    @param environ: environment variables to set (or, with L{None}, unset)
        during the run; C{POETRY_TEST_SEED} is unset unless given.
    """
    directory = Path(tempfile.mkdtemp(prefix="poetry-pytest-"))
    for name, source in files.items():
        (directory / name).write_text(source, "utf-8")
    arguments = [
        *(tests or [str(directory)]),
        "--rootdir",
        str(directory),
        "--import-mode=importlib",
        "--capture=sys",
        "--color=no",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:faulthandler",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        f"--junitxml={directory / 'junit.xml'}",
        *args,
    ]
    if not plugin_entry_points():
        arguments += ["-p", PLUGIN]
    collector = _Collector()
    output = io.StringIO()
    changes: dict[str, str | None] = {"POETRY_TEST_SEED": None}
    changes.update(environ or {})
    before = set(sys.modules)
    cwd = os.getcwd()
    under_pytest = getattr(
        sys.modules.get("hypothesis.core"), "running_under_pytest", False
    )
    profile = hypothesis.settings.default
    # pytest collects garbage five times over when it ends (to report
    # unraisable exceptions); with this process's objects frozen, those
    # collections scan only what the inner run made.
    gc.freeze()
    try:
        os.chdir(directory)
        with _environment(changes), redirect_stdout(output), redirect_stderr(output):
            status = pytest.main(arguments, plugins=[collector])
    finally:
        gc.unfreeze()
        os.chdir(cwd)
        # Forget the inner run's test modules and files, and put back
        # Hypothesis's idea of whether pytest runs it and its settings.
        for name in set(sys.modules) - before:
            module = sys.modules.get(name)
            if str(getattr(module, "__file__", "")).startswith(str(directory)):
                del sys.modules[name]
        hypothesis_core: Any = sys.modules.get("hypothesis.core")
        if hypothesis_core is not None:
            hypothesis_core.running_under_pytest = under_pytest
        # The default settings, if a conftest loaded a profile.
        hypothesis.settings.register_profile("poetry-pytest-runs", parent=profile)
        hypothesis.settings.load_profile("poetry-pytest-runs")
        junit = directory / "junit.xml"
        report = junit.read_text("utf-8") if junit.exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
    return PytestRun(int(status), collector.reports, output.getvalue(), report)
