"""
The differential oracle's memory side: every scenario of C{tests/oracle},
run on a L{poetry.testing.MemoryNetwork}, must give one of the outcomes
recorded from the real reactor (C{tests/oracle/expected/}).  The real side
runs in C{tests/integration/test_oracle.py}.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.trial.unittest import SynchronousTestCase

from tests.oracle._registry import Scenario, allScenarios
from tests.oracle._run import expected, explain, runOnMemory


class MemoryNetworkOracleTests(SynchronousTestCase):
    """
    One test per scenario: the memory outcome is one the real reactor gave.
    """


def _test(scenario: Scenario) -> Callable[[MemoryNetworkOracleTests], None]:
    def test(self: MemoryNetworkOracleTests) -> None:
        allowed = expected(scenario)
        memory = runOnMemory(scenario)
        self.flushLoggedErrors()
        if memory not in allowed:
            self.fail(explain(scenario, memory, allowed))

    test.__name__ = f"test_{scenario.name}"
    test.__doc__ = f"{scenario.doc} (MemoryNetwork gives the real reactor's outcome.)"
    return test


for _scenario in allScenarios().values():
    setattr(MemoryNetworkOracleTests, f"test_{_scenario.name}", _test(_scenario))
del _scenario
