"""
Hypothesis strategies for L{MemoryNetwork}: drive I{your} protocol through
chunkings, link conditions and faults, and let Hypothesis shrink a failure
to the smallest condition that breaks it.

Needs Hypothesis (C{pip install twisted-poetry-harness[hypothesis]}).

Every strategy shrinks toward the plain network -- no faults, whole writes,
zero latency, unlimited bandwidth -- so a failure is reported as the least
departure from it that still fails: C{SplitAt(offsets=(1,))} rather than
C{RandomSizes(low=2, high=5)}, one fault rather than three, a latency of
C{0.0} unless latency matters.  For example::

    @seeded
    @given(conditions=link_conditions())
    def test_framing(conditions: LinkConditions) -> None:
        net = MemoryNetwork(0, link=conditions)
        ...

Seeds: each example builds its networks from values Hypothesis drew
(L{seeds}, L{NetworkConfiguration}), so an example replays exactly; the
Hypothesis search itself is seeded by L{seeded} (or
L{MemoryNetworkStateMachine.run_as_test}) from the test's seed --
C{POETRY_TEST_SEED}, else the seed the runner chose for the test -- and a
failure ends with the same reproduction line as every harness failure.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any, ClassVar, TypeVar

import hypothesis
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from hypothesis.strategies import SearchStrategy

from poetry.testing._chaos import CHAOS_KINDS
from poetry.testing._conditions import (
    CLIENT_TO_SERVER,
    SERVER_TO_CLIENT,
    WHOLE,
    ChunkingPolicy,
    Coalesce,
    FixedSize,
    LinkConditions,
    RandomSizes,
    SplitAt,
)
from poetry.testing._faults import DROP, HOLD, FaultPlan
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
from poetry.testing._seed import current_test, reproduction_line, resolve_seed
from poetry.testing._testcase import add_note

__all__ = [
    "FAULT_KINDS",
    "Abort",
    "FaultSchedule",
    "Hang",
    "MemoryNetworkStateMachine",
    "NetworkConfiguration",
    "Partition",
    "PlannedFault",
    "Refuse",
    "Reset",
    "ResetAfter",
    "Stall",
    "chunkings",
    "fault_plans",
    "link_conditions",
    "network_configurations",
    "planned_faults",
    "seeded",
    "seeds",
]

FAULT_KINDS = CHAOS_KINDS
"""
The kinds of fault L{planned_faults} knows (those of L{Chaos}): C{abort},
C{hang}, C{partition}, C{refuse}, C{reset}, C{stall}.
"""

_SEED_LIMIT = 2**32

_F = TypeVar("_F", bound=Callable[..., Any])


def _positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, not {value!r}")


def _bound(name: str, value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")


def _up_to(bound: float) -> SearchStrategy[float]:
    """
    Floats in C{[0, bound]}, shrinking toward 0.
    """
    if bound == 0:
        return st.just(0.0)
    return st.floats(0.0, float(bound), allow_subnormal=False)


def seeds() -> SearchStrategy[int]:
    """
    Network seeds in C{[0, 2**32)}, shrinking toward 0.
    """
    return st.integers(0, _SEED_LIMIT - 1)


def chunkings(
    max_size: int = 64, *, max_cuts: int = 3
) -> SearchStrategy[ChunkingPolicy]:
    """
    Chunking policies, shrinking toward whole writes.

    In shrinking order: L{WHOLE}; C{Coalesce()} (writes merged, never
    cut); one cut, C{SplitAt((k,))}; then L{FixedSize}, C{Coalesce(k)}
    (pieces of C{k} bytes), L{SplitAt} with two to C{max_cuts} cuts, and
    L{RandomSizes} -- every number in C{[1, max_size]}.  The one-cut and
    fixed-size policies are drawn from one number that shrinks toward 1,
    so that Hypothesis can move a failure to the simpler policy: a length
    prefix broken by C{FixedSize(1)} is reported as
    C{SplitAt(offsets=(1,))}, a single cut after its first byte.

    @param max_size: the largest piece size and cut offset: the length of
        the longest stream the scenario sends is a good choice.
    @param max_cuts: the most offsets of a L{SplitAt}.
    """
    _positive_int("max_size", max_size)
    _positive_int("max_cuts", max_cuts)
    size = st.integers(1, max_size)
    branches = [
        st.just(WHOLE),
        st.just(Coalesce()),
        size.map(lambda cut: SplitAt((cut,))),
        size.map(FixedSize),
        size.map(lambda limit: Coalesce(max_size=limit)),
    ]
    if max_cuts > 1:
        cuts = st.lists(size, min_size=2, max_size=max_cuts, unique=True)
        branches.append(cuts.map(lambda offsets: SplitAt(tuple(offsets))))
    branches.append(
        st.tuples(size, size).map(lambda pair: RandomSizes(min(pair), max(pair)))
    )
    return st.one_of(branches)


def link_conditions(
    *,
    chunking: SearchStrategy[ChunkingPolicy] | None = None,
    max_latency: float = 1.0,
    max_jitter: float = 0.5,
    bandwidth: tuple[float, float] | None = None,
) -> SearchStrategy[LinkConditions]:
    """
    L{LinkConditions} within the given bounds, shrinking toward L{PLAIN}:
    whole writes, no latency, no jitter, unlimited bandwidth.

    @param chunking: the chunking policies (default: L{chunkings}C{()}).
    @param max_latency: latencies are drawn in C{[0, max_latency]} seconds.
    @param max_jitter: jitters are drawn in C{[0, max_jitter]} seconds.
    @param bandwidth: C{(low, high)} bytes per second: bandwidths are
        unlimited or drawn in C{[low, high]}, shrinking toward unlimited,
        then toward C{high}; L{None} (the default): always unlimited.
    """
    _bound("max_latency", max_latency)
    _bound("max_jitter", max_jitter)
    bandwidths: SearchStrategy[float | None] = st.none()
    if bandwidth is not None:
        low, high = bandwidth
        _bound("bandwidth's low bound", low)
        _bound("bandwidth's high bound", high)
        if not 0 < low <= high:
            raise ValueError(
                f"bandwidth must be (low, high) with 0 < low <= high, not {bandwidth!r}"
            )
        bandwidths = st.one_of(
            st.none(), _up_to(high - low).map(lambda x: max(low, high - x))
        )
    return st.builds(
        LinkConditions,
        chunking=chunkings() if chunking is None else chunking,
        latency=_up_to(max_latency),
        jitter=_up_to(max_jitter),
        bandwidth=bandwidths,
    )


def planned_faults(
    *,
    kinds: Sequence[str] | None = None,
    listeners: int = 1,
    addresses: Sequence[tuple[str, int]] | None = None,
    hosts: Sequence[str] = (),
    horizon: float = 10.0,
    max_duration: float = 5.0,
    max_bytes: int = 1000,
) -> SearchStrategy[PlannedFault]:
    """
    One L{PlannedFault}: L{Refuse}, L{Hang}, L{Stall}, L{Reset},
    L{ResetAfter}, L{Abort} or L{Partition}, at a time in C{[0, horizon]}
    and lasting up to C{max_duration}, each shrinking toward time 0, no
    duration, the first target.

    @param kinds: the kinds of fault (see L{FAULT_KINDS}); by default all of
        them, C{partition} only if two C{hosts} are given.
    @param listeners: faults target the scenario's listening port number
        C{0} to C{listeners - 1} (in the order they were bound)...
    @param addresses: ...or, if given, these addresses C{(host, port)}.
    @param hosts: the hosts a partition may separate (two at least).
    @param max_bytes: a L{ResetAfter} resets after C{[0, max_bytes]} bytes.

    @raise ValueError: for an unknown kind, or C{partition} asked for
        without two hosts.
    """
    chosen = _kinds(kinds, hosts)
    _positive_int("listeners", listeners)
    _bound("horizon", horizon)
    _bound("max_duration", max_duration)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"max_bytes must be an int >= 0, not {max_bytes!r}")
    targets: SearchStrategy[Any]
    if addresses:
        targets = st.sampled_from(list(addresses))
    else:
        targets = st.integers(0, listeners - 1)
    times = _up_to(horizon)
    durations = _up_to(max_duration)
    directions = st.sampled_from([None, CLIENT_TO_SERVER, SERVER_TO_CLIENT])
    one_way = st.sampled_from([SERVER_TO_CLIENT, CLIENT_TO_SERVER])
    options: dict[str, SearchStrategy[PlannedFault]] = {
        "abort": st.builds(
            Abort, targets, times, st.sampled_from(["client", "server"])
        ),
        "hang": st.builds(Hang, targets, times, durations),
        "refuse": st.builds(Refuse, targets, times, durations),
        "reset": st.one_of(
            st.builds(Reset, targets, times),
            st.builds(ResetAfter, targets, st.integers(0, max_bytes), one_way),
        ),
        "stall": st.builds(Stall, targets, times, durations, directions),
    }
    if len(hosts) >= 2:
        modes = st.sampled_from([HOLD, DROP])
        options["partition"] = st.sampled_from(list(combinations(hosts, 2))).flatmap(
            lambda pair: st.builds(
                Partition, st.just(pair[0]), st.just(pair[1]), times, durations, modes
            )
        )
    return st.one_of(*[options[kind] for kind in chosen])


def _kinds(kinds: Sequence[str] | None, hosts: Sequence[str]) -> list[str]:
    if kinds is None:
        return [k for k in FAULT_KINDS if k != "partition" or len(hosts) >= 2]
    chosen = sorted(set(kinds))
    for kind in chosen:
        if kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}"
            )
    if "partition" in chosen and len(hosts) < 2:
        raise ValueError("a partition needs two hosts: pass hosts=[...]")
    if not chosen:
        raise ValueError("kinds must name at least one kind of fault")
    return chosen


def fault_plans(
    *, max_faults: int = 3, **options: Any
) -> SearchStrategy[FaultSchedule]:
    """
    L{FaultSchedule}s of up to C{max_faults} faults drawn by
    L{planned_faults}C{(**options)}, shrinking toward the empty schedule
    (no faults), then fewer and simpler faults.
    """
    if (
        isinstance(max_faults, bool)
        or not isinstance(max_faults, int)
        or max_faults < 0
    ):
        raise ValueError(f"max_faults must be an int >= 0, not {max_faults!r}")
    if max_faults == 0:
        return st.just(FaultSchedule())
    return st.lists(planned_faults(**options), max_size=max_faults).map(FaultSchedule)


def network_configurations(
    *,
    seed: SearchStrategy[int] | None = None,
    link: SearchStrategy[LinkConditions] | None = None,
    faults: SearchStrategy[FaultPlan | None] | None = None,
    hosts: dict[str, str] | None = None,
    step_budget: int = 1_000_000,
) -> SearchStrategy[NetworkConfiguration]:
    """
    Whole L{NetworkConfiguration}s, shrinking toward the plain network.

    @param seed: the seeds (default: L{seeds}C{()}).
    @param link: the conditions of each direction, drawn independently
        (default: L{link_conditions}C{()}).
    @param faults: the fault plans (default: none; pass e.g.
        L{fault_plans}C{(addresses=[("127.0.0.1", 8000)])}).
    @param hosts: the host map of every network.
    @param step_budget: the step budget of every network.
    """
    links = link_conditions() if link is None else link
    return st.builds(
        NetworkConfiguration,
        seed=seeds() if seed is None else seed,
        client_to_server=links,
        server_to_client=links,
        faults=st.none() if faults is None else faults,
        hosts=st.just(dict(hosts or {})),
        step_budget=st.just(step_budget),
    )


def _search_seed() -> tuple[int, str | None]:
    """
    The seed of a Hypothesis search, and the test a reproduction line
    names: the seed a network made without one would take now (see
    L{resolve_seed}), which becomes the running test's if it had none.
    """
    seed = resolve_seed(None)
    test = current_test()
    if test is None:
        return seed, None
    if test.seed is None:
        test.seed = seed
    return seed, test.target


def seeded(test: _F) -> _F:
    """
    Seed a Hypothesis test's search from the test's seed, coherently with
    every network of the harness: C{POETRY_TEST_SEED} if set, else the seed
    the runner chose for the test (the pytest plugin's, a
    L{MemoryNetworkTestCase}'s C{self.net.seed}), else a random one.  A
    failure gets the reproduction line (as a note, which pytest and
    Python's tracebacks show; a L{MemoryNetworkTestCase} also appends it
    under trial): rerunning it replays the same search.

    Put it above C{@given} (and C{@settings}).  Like Hypothesis's own
    C{@seed}, it turns the example database off for the test: the seed
    alone decides what runs.  It overrides C{settings(derandomize=True)}.

    @raise TypeError: if C{test} is not a Hypothesis test.
    """
    if not getattr(test, "is_hypothesis_test", False):
        raise TypeError(
            f"@seeded goes above @given, on a Hypothesis test; not on {test!r}"
        )

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        seed, target = _search_seed()
        hypothesis.seed(seed)(test)
        try:
            return test(*args, **kwargs)
        except BaseException as error:
            add_note(error, reproduction_line(seed, target))
            raise

    return run  # type: ignore[return-value]


class MemoryNetworkStateMachine(RuleBasedStateMachine):
    """
    A base for Hypothesis state machines that drive your protocol on a
    L{MemoryNetwork}.

    Each program starts on a fresh network drawn from L{configurations}
    (a step C{start_network}, whose draw Hypothesis prints with a failing
    program), then calls L{setup}.  Your C{@rule}s act on C{self.net}; the
    base adds rules that let time pass (C{advance}, C{step}) and, if
    L{fault_kinds} is not empty, one that injects a fault drawn from
    L{faults}.  At teardown, L{finish} lifts the faults and runs the
    network until nothing is left.

    Do your setting up in L{setup}, not in an C{@initialize} rule of your
    own (Hypothesis runs those in any order).  Run the machine with
    L{run_as_test} to seed the search like every harness test.

    @cvar fault_kinds: the kinds of fault the C{inject_fault} rule draws
        (see L{FAULT_KINDS}); none by default.
    @ivar net: the program's network.
    """

    fault_kinds: ClassVar[tuple[str, ...]] = ()

    net: MemoryNetwork

    def configurations(self) -> SearchStrategy[NetworkConfiguration]:
        """
        The network configurations programs start from (default:
        L{network_configurations}C{()}); override to narrow them.
        """
        return network_configurations()

    def faults(self) -> SearchStrategy[PlannedFault]:
        """
        The faults C{inject_fault} draws (default: L{planned_faults} of
        L{fault_kinds}, against the first listening port); override to give
        addresses or hosts.
        """
        return planned_faults(kinds=self.fault_kinds)

    def setup(self) -> None:
        """
        Called once the network is made: start your servers and clients on
        C{self.net}.  Does nothing by default.
        """

    def finish(self) -> None:
        """
        Called at teardown: lift every fault and run the network until
        nothing is left.  Override to close your connections first (then
        call this).
        """
        self.net.faults.clear()
        self.net.run()

    @initialize(data=st.data())
    def start_network(self, data: st.DataObject) -> None:
        """
        Draw the network's configuration, build it, then L{setup}.
        """
        configuration = data.draw(self.configurations(), label="network")
        self.net = configuration.build()
        self.setup()

    @rule(seconds=st.sampled_from([0.0, 0.1, 1.0, 10.0]))
    def advance(self, seconds: float) -> None:
        """
        Let C{seconds} of virtual time pass.
        """
        self.net.advance(seconds)

    @rule()
    def step(self) -> None:
        """
        Run one pass of the network.
        """
        self.net.step()

    @precondition(lambda self: bool(self.fault_kinds))
    @rule(data=st.data())
    def inject_fault(self, data: st.DataObject) -> None:
        """
        Inject a fault drawn from L{faults}, its time counted from now.
        """
        fault = data.draw(self.faults(), label="fault")
        FaultSchedule((fault,)).install(self.net)

    def teardown(self) -> None:
        if "net" in self.__dict__:
            self.finish()

    @classmethod
    def run_as_test(cls, settings: hypothesis.settings | None = None) -> None:
        """
        Run this machine's programs, the search seeded as L{seeded} does
        (and without the example database); a failure gets the reproduction
        line as a note.

        @param settings: Hypothesis settings (default: those of the
            machine's C{TestCase}).
        """
        seed, target = _search_seed()
        hypothesis.seed(seed)(cls)
        base = cls.TestCase.settings if settings is None else settings
        try:
            run_state_machine_as_test(
                cls, settings=hypothesis.settings(base, database=None)
            )
        except BaseException as error:
            add_note(error, reproduction_line(seed, target))
            raise
