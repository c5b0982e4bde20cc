"""
A deterministic in-memory TCP harness for testing Twisted protocols.

L{MemoryNetwork} is a reactor
(L{IReactorTCP<twisted.internet.interfaces.IReactorTCP>},
L{IReactorTime<twisted.internet.interfaces.IReactorTime>},
L{IReactorPluggableNameResolver<twisted.internet.interfaces.IReactorPluggableNameResolver>},
L{IReactorCore<twisted.internet.interfaces.IReactorCore>}, C{callFromThread})
whose connections are made in memory, on a virtual clock, reproducibly
from one seed; what its protocols see is what the real reactor shows them,
as a differential oracle run on both checks.  Links can be given conditions
(chunking, latency, jitter, bandwidth: L{LinkConditions}), faults can be
injected (C{net.faults}: refuse, hang, reset, stall, partition, abort) and
seeded chaos explores many fault schedules (L{Chaos}), or a
L{FaultSchedule} scripts them as a value.  UDP (C{listenUDP},
C{listenMulticast}: L{UDPPort}) has its own conditions, with seeded loss,
duplication and reordering (L{DatagramConditions}, C{net.udp}).
L{MemoryNetworkTestCase} guards each test against work scheduled on the
global reactor (L{GlobalReactorGuard}).  A trace can be drawn as a sequence
diagram (L{trace_diagram}), a scripted peer plays one exact exchange
(L{ScriptedPeer}), and a seed sweep checks that "sometimes" points were
reached (L{sweep}, L{sometimes}).  With pytest, the plugin
L{poetry.testing.pytest_plugin} gives a C{memory_network} fixture; with
Hypothesis, L{poetry.testing.strategies} draws conditions, faults and whole
L{NetworkConfiguration}s.  See C{docs/testing.md}.
"""

from poetry.testing._certificates import CertificateAuthority
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
from poetry.testing._diagram import (
    DIAGRAM_FORMATS,
    DRAWINGS,
    Drawing,
    trace_diagram,
    write_failure_diagram,
)
from poetry.testing._errors import (
    Deadlock,
    GlobalReactorUsed,
    HarnessError,
    NetworkRetired,
    NondeterminismError,
    RunUntilTimeout,
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
from poetry.testing._guard import (
    GlobalActivity,
    GlobalReactorGuard,
    route_global_cooperator,
    route_global_tls_clock,
    route_http2_reactor,
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
from poetry.testing._ports import ListeningPort
from poetry.testing._scripted import (
    Script,
    ScriptDeviation,
    ScriptedPeer,
    ScriptError,
    ScriptNotFinished,
    ScriptRun,
)
from poetry.testing._scripted import Step as ScriptStep
from poetry.testing._seed import SEED_ENVIRONMENT_VARIABLE, reproduction_line
from poetry.testing._snapshot import TraceFormatError, TraceSnapshot, save_trace
from poetry.testing._socket import RECEIVE_BUFFER, SEND_BUFFER
from poetry.testing._splits import (
    PAIRS_UP_TO,
    SplitError,
    assert_every_split,
    every_split,
)
from poetry.testing._sweep import (
    PointStats,
    SeedFailure,
    Shard,
    Sweep,
    SweepFailed,
    SweepResult,
    reached,
    recording_points,
    sometimes,
    sweep,
)
from poetry.testing._testcase import MemoryNetworkTestCase, NetworkOptions
from poetry.testing._trace import TraceEvent
from poetry.testing._transport import DEFAULT_HIGH_WATER, MemoryTransport
from poetry.testing._udp import (
    INBOUND,
    OUTBOUND,
    PLAIN_DATAGRAMS,
    UDP_RECEIVE_BUFFER,
    DatagramConditions,
    MulticastUDPPort,
    UDPPort,
    UDPStack,
)

__all__ = [
    "CHAOS_KINDS",
    "CLIENT_TO_SERVER",
    "DEFAULT_HIGH_WATER",
    "DIAGRAM_FORMATS",
    "DRAWINGS",
    "DROP",
    "HOLD",
    "INBOUND",
    "ONE_BYTE",
    "OUTBOUND",
    "PAIRS_UP_TO",
    "PLAIN",
    "PLAIN_DATAGRAMS",
    "RECEIVE_BUFFER",
    "SEED_ENVIRONMENT_VARIABLE",
    "SEND_BUFFER",
    "SERVER_TO_CLIENT",
    "UDP_RECEIVE_BUFFER",
    "WHOLE",
    "Abort",
    "CertificateAuthority",
    "Chaos",
    "ChunkingPolicy",
    "Coalesce",
    "DatagramConditions",
    "Deadlock",
    "Drawing",
    "FaultPlan",
    "FaultSchedule",
    "Faults",
    "FixedSize",
    "GlobalActivity",
    "GlobalReactorGuard",
    "GlobalReactorUsed",
    "Hang",
    "HarnessError",
    "HostReactor",
    "LinkConditions",
    "ListeningPort",
    "MemoryNetwork",
    "MemoryNetworkTestCase",
    "MemoryTransport",
    "MulticastUDPPort",
    "NetworkConfiguration",
    "NetworkOptions",
    "NetworkRetired",
    "NondeterminismError",
    "Partition",
    "PlannedFault",
    "PointStats",
    "RandomSizes",
    "Refuse",
    "Reset",
    "ResetAfter",
    "RunUntilTimeout",
    "ScheduledFault",
    "ScheduledFaults",
    "Script",
    "ScriptDeviation",
    "ScriptError",
    "ScriptNotFinished",
    "ScriptRun",
    "ScriptStep",
    "ScriptedPeer",
    "SeedFailure",
    "Shard",
    "SplitAt",
    "SplitError",
    "Stall",
    "StepBudgetExceeded",
    "Sweep",
    "SweepFailed",
    "SweepResult",
    "TimerErrors",
    "TraceEvent",
    "TraceFormatError",
    "TraceSnapshot",
    "UDPPort",
    "UDPStack",
    "Unclean",
    "Whole",
    "assert_deterministic",
    "assert_every_split",
    "every_split",
    "reached",
    "recording_points",
    "reproduction_line",
    "route_global_cooperator",
    "route_global_tls_clock",
    "route_http2_reactor",
    "save_trace",
    "sometimes",
    "sweep",
    "trace_diagram",
    "write_failure_diagram",
]
