"""
The pytest plugin of L{poetry.testing}, registered through the C{pytest11}
entry point: pytest loads it when the distribution is installed (disable it
with C{-p no:poetry_testing}); nothing else imports it, so pytest stays
optional.

  - the fixture C{memory_network}: a fresh L{MemoryNetwork} per test, tagged
    with the test; at teardown it must pass the checks of
    L{MemoryNetworkTestCase} (L{teardown_failure}), or the test fails with
    the same message (not checked if the test failed already);
  - the marker C{@pytest.mark.memory_network(**options)}: keyword arguments
    of L{MemoryNetwork} for the fixture (C{seed}, C{link}, C{faults},
    C{hosts}, C{step_budget}, C{trace}, C{trace_checksums}); markers on a
    class or module apply too, the closest winning per option;
  - one seed per test: C{--poetry-seed=N} (which sets C{POETRY_TEST_SEED}),
    else C{POETRY_TEST_SEED}, else a random seed per test -- taken by the
    fixture, every network the test makes without a seed, a
    L{MemoryNetworkTestCase} and a L{poetry.testing.strategies.seeded}
    search;
  - when a test that took the seed fails -- a plain C{assert} included --
    its report gets a C{poetry} section:
    C{seed=N — reproduce with: POETRY_TEST_SEED=N python -m pytest
    'path::Class::test'} (the path relative to where pytest was started),
    and a C{poetry_seed} user property (shown in JUnit XML).

Works with pytest-xdist: each worker chooses each test's seed on its own
and the seed travels with the test's report.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from poetry.testing._diagram import DIAGRAM_ENVIRONMENT_VARIABLE, write_failure_diagram
from poetry.testing._guard import GlobalReactorGuard
from poetry.testing._network import MemoryNetwork
from poetry.testing._seed import (
    SEED_ENVIRONMENT_VARIABLE,
    RunningTest,
    environment_seed,
    random_seed,
    reproduction_line,
    running_test,
)
from poetry.testing._testcase import NetworkOptions, failure_report, teardown_failure

__all__ = [
    "memory_network",
    "pytest_addoption",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
]

_TEST = pytest.StashKey[RunningTest]()
_NETWORK = pytest.StashKey[MemoryNetwork]()
_FAILED = pytest.StashKey[bool]()
_DIAGRAM = pytest.StashKey[tuple[int, str]]()

GUARD_OPTION = "guard_global_reactor"
"""
The marker option that turns the global-reactor guard off for a test
(C{@pytest.mark.memory_network(guard_global_reactor=False)}); every other
option is a L{MemoryNetwork} argument.
"""

_OPTIONS = frozenset(NetworkOptions.__optional_keys__) | {GUARD_OPTION}

MARKER = "memory_network"

SECTION = "poetry"


def _seed_option(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a seed: use a non-negative integer"
        )
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    """
    Add C{--poetry-seed}.
    """
    group = parser.getgroup("poetry", "poetry.testing (MemoryNetwork)")
    group.addoption(
        "--poetry-seed",
        type=_seed_option,
        default=None,
        metavar="N",
        help=(
            f"the seed of every test's networks (sets {SEED_ENVIRONMENT_VARIABLE}"
            "=N); default: that variable, else a random seed per test, printed "
            "when the test fails"
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    """
    Declare the marker; apply C{--poetry-seed}; reject a bad
    C{POETRY_TEST_SEED} at once.
    """
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): keyword arguments of MemoryNetwork for the "
        f"{MARKER} fixture ({', '.join(sorted(_OPTIONS))})",
    )
    seed = config.getoption("poetry_seed", None)
    if seed is not None:
        previous = os.environ.get(SEED_ENVIRONMENT_VARIABLE)
        os.environ[SEED_ENVIRONMENT_VARIABLE] = str(seed)

        def restore() -> None:
            if previous is None:
                os.environ.pop(SEED_ENVIRONMENT_VARIABLE, None)
            else:
                os.environ[SEED_ENVIRONMENT_VARIABLE] = previous

        config.add_cleanup(restore)
    try:
        environment_seed()
    except ValueError as e:
        raise pytest.UsageError(str(e)) from e


def pytest_report_header(config: pytest.Config) -> str:
    """
    Say where the tests' seeds come from.
    """
    seed = environment_seed()
    if seed is None:
        return (
            "poetry.testing: a random seed per test "
            f"({SEED_ENVIRONMENT_VARIABLE}=N or --poetry-seed=N fixes it)"
        )
    return f"poetry.testing: {SEED_ENVIRONMENT_VARIABLE}={seed}"


def _target(item: pytest.Item) -> str:
    """
    The test's node id, its path relative to the directory pytest was
    started from (so that the reproduction line runs from there).
    """
    _, separator, rest = item.nodeid.partition("::")
    if not separator:
        return item.nodeid
    path = Path(os.path.relpath(item.path, item.config.invocation_params.dir))
    return f"{path.as_posix()}::{rest}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """
    Choose the test's seed and declare the test while it runs.
    """
    seed = environment_seed()
    if seed is None:
        seed = random_seed()
    with running_test(seed, _target(item), owner=item) as test:
        item.stash[_TEST] = test
        return (yield)


def _marker_options(item: pytest.Item) -> dict[str, Any]:
    """
    The options of the C{memory_network} markers of C{item}, the closest
    marker winning per option.

    @raise TypeError: for a positional argument or an unknown option.
    """
    options: dict[str, Any] = {}
    for mark in reversed(list(item.iter_markers(MARKER))):
        if mark.args:
            raise TypeError(
                f"@pytest.mark.{MARKER} takes keyword options only "
                f"({', '.join(sorted(_OPTIONS))}), not {mark.args!r}"
            )
        for name in mark.kwargs:
            if name not in _OPTIONS:
                raise TypeError(
                    f"unknown @pytest.mark.{MARKER} option {name!r}; known: "
                    f"{', '.join(sorted(_OPTIONS))}"
                )
        options.update(mark.kwargs)
    return options


@pytest.fixture
def memory_network(request: pytest.FixtureRequest) -> Iterator[MemoryNetwork]:
    """
    A fresh L{MemoryNetwork} for the test, made with the options of its
    C{@pytest.mark.memory_network(...)} markers and the test's seed; at
    teardown it must be clean (see L{teardown_failure}).
    """
    item = request.node
    options = _marker_options(item)
    guarded = options.pop(GUARD_OPTION, True)
    net = MemoryNetwork(**options)
    test = item.stash.get(_TEST, None)
    if test is not None:
        test.seed = net.seed
        # A marker's seed is the test's own: the test's other networks
        # take it too.
        test.fixed = options.get("seed") is not None
        test.used = True
        net.test_id = test.target
    item.stash[_NETWORK] = net
    guard = GlobalReactorGuard(net).start() if guarded else None
    try:
        yield net
        if item.stash.get(_FAILED, False):
            return
        message = teardown_failure(net, guard)
        if message is not None:
            pytest.fail(message, pytrace=False)
    finally:
        if guard is not None:
            guard.stop()
        net.retire(net.test_id)


def _report_text(item: pytest.Item) -> tuple[int, str] | None:
    """
    The seed and the text a failing report of C{item} gets, if the test
    took a seed.
    """
    net = item.stash.get(_NETWORK, None)
    if net is not None:
        return net.seed, f"{_diagram_line(item, net)}\n{failure_report(net)}"
    test = item.stash.get(_TEST, None)
    if test is not None and test.used and test.seed is not None:
        return test.seed, reproduction_line(test.seed, test.target)
    return None


def _diagram_line(item: pytest.Item, net: MemoryNetwork) -> str:
    """
    Write the diagram of C{net}'s run under pytest's temporary directory
    (once per failing test) and say where it is.
    """
    written = item.stash.get(_DIAGRAM, None)
    if written is not None and written[0] == len(net._trace):
        return written[1]
    if os.environ.get(DIAGRAM_ENVIRONMENT_VARIABLE, "").strip() == "0":
        return "diagram of the run: not written (POETRY_TEST_DIAGRAM=0)"
    try:
        factory = item.config._tmp_path_factory  # type: ignore[attr-defined]  # pytest's own tmp_path factory
        name = re.sub(r"[^\w.-]+", "_", item.name)[:60]
        directory = factory.mktemp(f"poetry-{name}", numbered=True)
        line = f"diagram of the run: {write_failure_diagram(net, directory)}"
    except Exception as e:
        line = f"diagram of the run: not written ({type(e).__name__}: {e})"
    item.stash[_DIAGRAM] = (len(net._trace), line)
    return line


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """
    Add the seed and the reproduction line to the report of a failing test
    that took the seed (unless its failure shows them already, as harness
    errors do).
    """
    report = yield
    if report.failed:
        if report.when in ("setup", "call"):
            item.stash[_FAILED] = True
        found = _report_text(item)
        if found is not None:
            seed, text = found
            # On the test (for the reports to come: JUnit XML reads the
            # teardown's) and on this report.
            for properties in (item.user_properties, report.user_properties):
                if ("poetry_seed", seed) not in properties:
                    properties.append(("poetry_seed", seed))
            if "reproduce with:" not in str(report.longrepr):
                report.sections.append((SECTION, text))
    return report
