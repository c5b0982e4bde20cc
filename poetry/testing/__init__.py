"""
A deterministic in-memory TCP harness for testing Twisted protocols.

L{MemoryNetwork} is a reactor (L{IReactorTCP}, L{IReactorTime},
L{IReactorPluggableNameResolver}) whose connections are made in memory, on a
virtual clock, reproducibly from one seed; its behaviour is pinned against
the real reactor by a shared contract suite.  Links can be given conditions
(chunking, latency, jitter, bandwidth: L{LinkConditions}), faults can be
injected (C{net.faults}: refuse, hang, reset, stall, partition, abort) and
seeded chaos explores many fault schedules (L{Chaos}), or a
L{FaultSchedule} scripts them as a value.  With pytest, the plugin
L{poetry.testing.pytest_plugin} gives a C{memory_network} fixture; with
Hypothesis, L{poetry.testing.strategies} draws conditions, faults and whole
L{NetworkConfiguration}s.  See C{docs/testing.md}.
"""

from poetry.testing._chaos import CHAOS_KINDS, Chaos
from poetry.testing._conditions import (
    CLIENT_TO_SERVER,
    ONE_BYTE,
    PLAIN,
    SERVER_TO_CLIENT,
    WHOLE,
    ChunkingPolicy,
    Coalesce,
    FixedSize,
    LinkConditions,
    RandomSizes,
    SplitAt,
    Whole,
)
from poetry.testing._determinism import assert_deterministic
from poetry.testing._errors import (
    Deadlock,
    HarnessError,
    NondeterminismError,
    StepBudgetExceeded,
    TimerErrors,
    Unclean,
)
from poetry.testing._faults import (
    DROP,
    HOLD,
    FaultPlan,
    Faults,
    ScheduledFault,
    ScheduledFaults,
)
from poetry.testing._hosts import HostReactor
from poetry.testing._network import MemoryNetwork
from poetry.testing._plans import (
    Abort,
    FaultSchedule,
    Hang,
    NetworkConfiguration,
    Partition,
    PlannedFault,
    Refuse,
    Reset,
    ResetAfter,
    Stall,
)
from poetry.testing._seed import SEED_ENVIRONMENT_VARIABLE, reproduction_line
from poetry.testing._splits import (
    PAIRS_UP_TO,
    SplitError,
    assert_every_split,
    every_split,
)
from poetry.testing._testcase import MemoryNetworkTestCase, NetworkOptions
from poetry.testing._trace import TraceEvent
from poetry.testing._transport import (
    DEFAULT_HIGH_WATER,
    DEFAULT_LOW_WATER,
    MemoryTransport,
)

__all__ = [
    "CHAOS_KINDS",
    "CLIENT_TO_SERVER",
    "DEFAULT_HIGH_WATER",
    "DEFAULT_LOW_WATER",
    "DROP",
    "HOLD",
    "ONE_BYTE",
    "PAIRS_UP_TO",
    "PLAIN",
    "SEED_ENVIRONMENT_VARIABLE",
    "SERVER_TO_CLIENT",
    "WHOLE",
    "Abort",
    "Chaos",
    "ChunkingPolicy",
    "Coalesce",
    "Deadlock",
    "FaultPlan",
    "FaultSchedule",
    "Faults",
    "FixedSize",
    "Hang",
    "HarnessError",
    "HostReactor",
    "LinkConditions",
    "MemoryNetwork",
    "MemoryNetworkTestCase",
    "MemoryTransport",
    "NetworkConfiguration",
    "NetworkOptions",
    "NondeterminismError",
    "Partition",
    "PlannedFault",
    "RandomSizes",
    "Refuse",
    "Reset",
    "ResetAfter",
    "ScheduledFault",
    "ScheduledFaults",
    "SplitAt",
    "SplitError",
    "Stall",
    "StepBudgetExceeded",
    "TimerErrors",
    "TraceEvent",
    "Unclean",
    "Whole",
    "assert_deterministic",
    "assert_every_split",
    "every_split",
    "reproduction_line",
]
