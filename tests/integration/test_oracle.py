"""
The differential oracle on the real reactor: every scenario of
C{tests/oracle} runs on the real reactor (127.0.0.1, port 0) and on a
L{poetry.testing.MemoryNetwork}; each real outcome must be one recorded in
C{tests/oracle/expected/} (else the recording is stale: re-record it), and
the memory outcome must be one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from twisted.trial.unittest import TestCase

from tests.oracle._registry import Scenario, allScenarios
from tests.oracle._run import (
    Outcome,
    expected,
    explain,
    runOnMemory,
    runOnReal,
    sideBySide,
)

# Real runs per scenario in each test run: a scenario that is not declared
# to vary must give its one recorded outcome every time.
REPEATS = 2


class RealReactorOracleTests(TestCase):
    """
    One test per scenario: real reactor and memory network against the
    outcomes recorded from the real reactor.
    """

    timeout = 60


def _test(
    scenario: Scenario,
) -> Callable[[RealReactorOracleTests], Coroutine[Any, Any, None]]:
    async def test(self: RealReactorOracleTests) -> None:
        from twisted.internet import reactor

        allowed = expected(scenario)
        self.assertTrue(
            allowed,
            f"no recorded outcome: python -m tests.oracle record {scenario.name}",
        )
        real: list[Outcome] = []
        for _ in range(REPEATS):
            real.append(await runOnReal(scenario, reactor))
        for outcome in real:
            if outcome not in allowed:
                self.fail(
                    f"{scenario.name}: the real reactor gave an outcome that is "
                    "not recorded -- the recording is stale, or the scenario "
                    "varies and must say so (varies=...); re-record with: "
                    f"python -m tests.oracle record {scenario.name}\n"
                    + sideBySide(allowed[0], outcome, ("recorded", "this run"))
                )
        memory = runOnMemory(scenario)
        self.flushLoggedErrors()
        if memory not in allowed:
            self.fail(explain(scenario, memory, allowed))

    test.__name__ = f"test_{scenario.name}"
    test.__doc__ = f"{scenario.doc} (Real reactor and MemoryNetwork agree.)"
    return test


for _scenario in allScenarios().values():
    setattr(RealReactorOracleTests, f"test_{_scenario.name}", _test(_scenario))
del _scenario
