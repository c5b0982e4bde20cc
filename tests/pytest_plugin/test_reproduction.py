"""
The pytest plugin as a user meets it, in pytest's own C{pytester}: a test
file in a fresh directory, pytest started as a separate process -- the
plugin loaded through its entry point -- and the reproduction line it prints
run as a shell command would run it.  Also with pytest-xdist.

These tests run under pytest only (C{tox -e pytest}); the unit suite tests
the plugin in-process (C{tests.unit.test_testing_pytest_plugin}).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

# The reproduction line of a failure.
LINE = re.compile(
    r"^seed=(\d+) \N{EM DASH} reproduce with: "
    r"(POETRY_TEST_SEED=\d+ python -m pytest .+)$",
    re.MULTILINE,
)

# A test whose outcome depends on every random choice of its network:
# random piece sizes and jitter; it fails with a plain assert, after saving
# its trace where TRACE_FILE says.
SCENARIO = """
import os

import pytest
from twisted.internet.protocol import ClientFactory, Factory, Protocol

from poetry.testing import LinkConditions, RandomSizes


class Send(Protocol):
    def connectionMade(self):
        self.transport.write(b"x" * 200)
        self.transport.loseConnection()


@pytest.mark.memory_network(
    link=LinkConditions(chunking=RandomSizes(1, 20), jitter=0.5)
)
def test_pieces(memory_network):
    pieces = []
    receiver = Protocol()
    receiver.dataReceived = lambda data: pieces.append(len(data))
    port = memory_network.listenTCP(0, Factory.forProtocol(lambda: receiver))
    memory_network.connectTCP(
        "127.0.0.1", port.getHost().port, ClientFactory.forProtocol(Send)
    )
    memory_network.run()
    port.stopListening()
    with open(os.environ["TRACE_FILE"], "w") as f:
        f.write(memory_network.trace_dump())
    assert len(pieces) == 1, pieces


def test_passes(memory_network):
    assert memory_network.seconds() == 0
"""


def run_line(line: str, cwd: str, trace_file: str) -> subprocess.CompletedProcess[str]:
    """
    Run a reproduction line as a POSIX shell would -- C{VAR=value python -m
    pytest 'node id'} -- with this interpreter as C{python}.
    """
    words = shlex.split(line)
    environ = dict(os.environ, TRACE_FILE=trace_file)
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        environ[name] = value
    assert words[:3] == ["python", "-m", "pytest"], words
    environ.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *words[3:]],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_reproduction_line_reproduces(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    A plain C{assert} failing in a test that uses C{memory_network} prints
    C{seed=} and a one-line reproduction in pytest syntax; running that
    line reproduces the same failure: the same seed, the same assertion,
    the same trace.
    """
    monkeypatch.delenv("POETRY_TEST_SEED", raising=False)
    pytester.makepyfile(test_scenario=SCENARIO)
    first_trace = str(pytester.path / "first.trace")
    monkeypatch.setenv("TRACE_FILE", first_trace)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    (match,) = LINE.finditer(output)
    seed, line = match.group(1), match.group(2)
    assert line == (
        f"POETRY_TEST_SEED={seed} python -m pytest 'test_scenario.py::test_pieces'"
    )
    failure = re.search(r"^E +AssertionError: (\[.*\])$", output, re.MULTILINE)
    assert failure is not None, output

    again_trace = str(pytester.path / "again.trace")
    again = run_line(line, str(pytester.path), again_trace)
    assert again.returncode == 1, again.stdout
    assert "1 failed" in again.stdout
    assert LINE.findall(again.stdout) == [(seed, line)]
    assert f"AssertionError: {failure.group(1)}\n" in again.stdout
    with open(first_trace) as one, open(again_trace) as two:
        trace = one.read()
        assert trace == two.read()
    assert trace.count(" deliver ") > 10


def test_xdist(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Under pytest-xdist (C{-n 2}), every failing test prints its own seed
    and reproduction line; each worker chooses its tests' seeds, or takes
    C{POETRY_TEST_SEED}.
    """
    monkeypatch.delenv("POETRY_TEST_SEED", raising=False)
    pytester.makepyfile(
        test_many="""
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_fails(memory_network, n):
            assert memory_network.random.random() < 0, n
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=6)
    output = result.stdout.str()
    assert "2 workers [6 items]" in output
    found: dict[str, str] = {}
    for seed, line in LINE.findall(output):
        test = re.search(r"'test_many.py::test_fails\[(\d)\]'$", line)
        assert test is not None, line
        found[test.group(1)] = seed
    assert sorted(found) == [str(n) for n in range(6)]
    assert len(set(found.values())) == 6

    monkeypatch.setenv("POETRY_TEST_SEED", "4321")
    fixed = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    fixed.assert_outcomes(failed=6)
    seeds = {seed for seed, _ in LINE.findall(fixed.stdout.str())}
    assert seeds == {"4321"}
