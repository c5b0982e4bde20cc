"""
A deterministic in-memory TCP harness for testing Twisted protocols.

L{MemoryNetwork} is a reactor (L{IReactorTCP}, L{IReactorTime},
L{IReactorPluggableNameResolver}) whose connections are made in memory, on a
virtual clock, reproducibly from one seed; its behaviour is pinned against
the real reactor by a shared contract suite.  See C{docs/testing.md}.
"""

from poetry.testing._determinism import assert_deterministic
from poetry.testing._errors import (
    Deadlock,
    HarnessError,
    NondeterminismError,
    StepBudgetExceeded,
    TimerErrors,
    Unclean,
)
from poetry.testing._network import MemoryNetwork
from poetry.testing._seed import SEED_ENVIRONMENT_VARIABLE, reproduction_line
from poetry.testing._testcase import MemoryNetworkTestCase
from poetry.testing._trace import TraceEvent
from poetry.testing._transport import (
    DEFAULT_HIGH_WATER,
    DEFAULT_LOW_WATER,
    MemoryTransport,
)

__all__ = [
    "DEFAULT_HIGH_WATER",
    "DEFAULT_LOW_WATER",
    "SEED_ENVIRONMENT_VARIABLE",
    "Deadlock",
    "HarnessError",
    "MemoryNetwork",
    "MemoryNetworkTestCase",
    "MemoryTransport",
    "NondeterminismError",
    "StepBudgetExceeded",
    "TimerErrors",
    "TraceEvent",
    "Unclean",
    "assert_deterministic",
    "reproduction_line",
]
