"""
L{MemoryNetworkTestCase}: a trial test case with a fresh L{MemoryNetwork}
per test, the seed in every failure, and a cleanliness check at teardown.

The two things every runner shares -- what a failing test's output gets
(L{failure_report}) and what a test's network must pass at teardown
(L{teardown_failure}) -- live here, used by L{MemoryNetworkTestCase} under
trial and any pyunit runner, and by the pytest plugin's C{memory_network}
fixture (L{poetry.testing.pytest_plugin}).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict, cast

from twisted.python.failure import Failure
from twisted.trial.itrial import IReporter
from twisted.trial.unittest import PyUnitResultAdapter, SynchronousTestCase
from zope.interface import alsoProvides

from poetry.testing._conditions import LinkConditions
from poetry.testing._diagram import diagram_note
from poetry.testing._errors import GlobalReactorUsed, HarnessError, Unclean
from poetry.testing._guard import GlobalReactorGuard
from poetry.testing._network import MemoryNetwork
from poetry.testing._seed import (
    RunningTest,
    current_test,
    reproduction_line,
    running_test,
)

if TYPE_CHECKING:
    from poetry.testing._faults import FaultPlan

__all__ = [
    "MemoryNetworkTestCase",
    "NetworkOptions",
    "add_note",
    "failure_report",
    "mentions_seed",
    "teardown_failure",
]


class NetworkOptions(TypedDict, total=False):
    """
    The keyword arguments of L{MemoryNetwork}, for
    L{MemoryNetworkTestCase.network_options} and the pytest marker
    C{@pytest.mark.memory_network(...)}.
    """

    seed: int | None
    hosts: Mapping[str, str] | None
    step_budget: int
    trace: bool
    trace_checksums: bool
    link: LinkConditions | None
    faults: FaultPlan | None
    receive_buffer: int
    send_buffer: int
    timer_errors: str


def failure_report(net: MemoryNetwork) -> str:
    """
    What the output of a failing test that used C{net} ends with, under any
    runner: the seed and the one-line reproduction (in the syntax of the
    runner C{net.test_id} comes from).
    """
    return reproduction_line(net.seed, net.test_id)


def teardown_failure(
    net: MemoryNetwork, guard: GlobalReactorGuard | None = None
) -> str | None:
    """
    Check a test's network at teardown -- the one place where every runner's
    teardown checks live: let what needs no time happen (C{advance(0)}, so
    that a connection closed on the test's last line counts as closed);
    then nothing may have been scheduled on the global reactor (C{guard},
    if given: L{GlobalReactorGuard.check}) and the network must be clean
    (L{MemoryNetwork.assert_clean<poetry.testing.MemoryNetwork.assert_clean>}).

    Errors of the code under test that running the network raises (such as
    C{TimerErrors}) propagate.

    @return: the message to fail the test with, or L{None} if it passed
        every check.
    """
    net.advance(0)
    try:
        if guard is not None:
            guard.check()
        net.assert_clean()
    except (GlobalReactorUsed, Unclean) as e:
        return str(e)
    return None


def mentions_seed(error: BaseException, notes: bool = True) -> bool:
    """
    Whether C{error} already names a seed and a reproduction: a harness
    error, or one with a reproduction line in its text or (if C{notes}) in
    its notes.
    """
    if isinstance(error, HarnessError):
        return True
    texts = [str(error), *(getattr(error, "__notes__", ()) if notes else ())]
    return any("reproduce with:" in str(text) for text in texts)


def add_note(error: BaseException, note: str) -> None:
    """
    Add C{note} to C{error}'s notes (PEP 678; pytest and Python's own
    traceback display show them), unless it is there already.
    """
    notes = getattr(error, "__notes__", None)
    if isinstance(notes, list) and note in notes:
        return
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:  # pragma: no cover (Python 3.10)
        if not isinstance(notes, list):
            notes = []
            setattr(error, "__notes__", notes)  # noqa: B010 (not in 3.10's stubs)
        notes.append(note)


class _SeededFailure(Failure):
    """
    A copy of a test's failure whose text ends with its exception's notes
    (the failure report among them).
    """

    _seed_line: str

    @classmethod
    def wrap(cls, original: Failure, line: str) -> _SeededFailure:
        seeded = cls.__new__(cls)
        seeded.__dict__.update(original.__dict__)
        seeded._seed_line = line
        return seeded

    def getErrorMessage(self) -> str:
        return f"{super().getErrorMessage()}\n{self._seed_line}"

    def getTraceback(self, elideFrameworkCode: int = 0, detail: str = "default") -> str:
        text = super().getTraceback(elideFrameworkCode, detail)
        return f"{text.rstrip()}\n{self._seed_line}\n"

    def __str__(self) -> str:
        return f"{super().__str__()}\n{self._seed_line}"


class _SeedReportingResult:
    """
    Forwards everything to a reporter, adding the network's failure report
    to the failures and errors of one test: as a note on the exception
    (shown by pytest and C{unittest}) and, for a trial reporter, with the
    other notes, to the text of the L{Failure}.
    """

    def __init__(self, original: Any, test: MemoryNetworkTestCase, notes: bool) -> None:
        self._original = original
        self._test = test
        self._notes = notes
        alsoProvides(self, IReporter)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)

    def _seeded(self, failure: Any) -> Any:
        if isinstance(failure, tuple):
            failure = Failure(failure[1], failure[0], failure[2])
        net = self._test.__dict__.get("net")
        if not isinstance(failure, Failure) or not isinstance(net, MemoryNetwork):
            return failure
        error = failure.value
        # (Only a Failure made without an exception has none.)
        assert error is not None
        # A note for the runners that show the exception itself, notes
        # included (pytest, unittest): where the diagram of the run is,
        # then the seed and reproduction...
        diagram = diagram_note(net, self._test)
        if diagram:
            add_note(error, diagram)
        if not mentions_seed(error):
            add_note(error, failure_report(net))
        if self._notes:
            return failure
        # ...and the notes (Hypothesis's failing example, the seed line) in
        # the text of the Failure, for trial's reporters, which show no note.
        notes = [str(note) for note in getattr(error, "__notes__", ())]
        if not notes:
            return failure
        return _SeededFailure.wrap(failure, "\n".join(notes))

    def addFailure(self, test: Any, failure: Any) -> None:
        if test is self._test:
            self._test._poetry_failed = True
            failure = self._seeded(failure)
        self._original.addFailure(test, failure)

    def addError(self, test: Any, error: Any) -> None:
        if test is self._test:
            self._test._poetry_failed = True
            error = self._seeded(error)
        self._original.addError(test, error)


class MemoryNetworkTestCase(SynchronousTestCase):
    """
    A L{SynchronousTestCase} whose tests each get a fresh L{MemoryNetwork}
    as C{self.net}.

      - The network is made by L{make_network}, from L{network_options}
        (override either to configure it: link conditions, faults, hosts,
        a step budget).
      - The seed comes from the options if they give one, else from
        C{POETRY_TEST_SEED} if set, else (under pytest) the test's seed, else
        at random; every network the test makes without a seed gets the
        same one.  It is added, with a one-line reproduction naming the
        test, to the output of every failing or erroring test -- a plain
        C{assert} included, under trial and under pytest (which gets the
        reproduction in its own syntax when the poetry plugin runs it).
      - A failing test's output also names a sequence diagram of its run
        (an HTML page written next to the test's temporary files; see
        C{POETRY_TEST_DIAGRAM} in C{docs/testing.md}).
      - At teardown, the network processes whatever can happen without time
        passing (C{advance(0)}), then must be clean
        (L{assert_clean<MemoryNetwork.assert_clean>}): no pending timer, open
        connection, connection attempt or listening port -- otherwise the test
        fails, listing what is left.  The check is skipped when the test
        already failed.
      - The global reactor is guarded (L{GlobalReactorGuard}): a test that
        scheduled anything on C{twisted.internet.reactor} or the global
        cooperator (delayed calls, C{task.cooperate} tasks, readers or
        writers) fails, naming each callable, the line that scheduled it
        and the fix; what it scheduled is cancelled either way, so that
        later tests are not affected.  A test case that means to use the
        global reactor sets C{guard_global_reactor = False}.

    Subclasses that override C{setUp} or C{tearDown} must call the base
    class's method.

    @cvar network_options: the keyword arguments of L{MemoryNetwork} for
        every test of the class (see L{NetworkOptions}), e.g.
        C{{"link": LinkConditions(chunking=ONE_BYTE)}}.
    @ivar net: the test's network.
    """

    network_options: ClassVar[NetworkOptions] = {}
    guard_global_reactor = True

    net: MemoryNetwork
    _poetry_failed = False
    _poetry_test: RunningTest | None = None
    _global_guard: GlobalReactorGuard | None = None

    def make_network(self) -> MemoryNetwork:
        """
        Make the test's network: C{MemoryNetwork(**self.network_options)}.
        Override to build it otherwise (e.g. to set links per listener);
        C{setUp} then tags it with the test's id.
        """
        return MemoryNetwork(**self.network_options)

    def run(self, result: Any = None) -> Any:
        """
        Run the test, reporting into C{result} with the seed added to any
        failure or error.
        """
        reporter: object = cast("IReporter | None", IReporter(result, None))
        notes = reporter is None
        if reporter is None:
            reporter = PyUnitResultAdapter(result)
        self._poetry_failed = False
        outer = current_test()
        if outer is not None and outer.owner is result:
            # A runner that declared this very run (the pytest plugin):
            # its seed and its name for the test.
            seed, target = outer.seed, outer.target
            outer.used = True
        else:
            seed, target = None, self.id()
        with running_test(seed, target, owner=self) as test:
            self._poetry_test = test
            try:
                # SynchronousTestCase.run is not annotated.
                super().run(_SeedReportingResult(reporter, self, notes))  # type: ignore[no-untyped-call]
            finally:
                self._poetry_test = None

    def setUp(self) -> None:
        """
        Give the test a fresh network (L{make_network}), tagged with the
        test's id; its seed becomes the test's seed.
        """
        super().setUp()
        self.net = self.make_network()
        test = self._poetry_test
        if test is None:
            self.net.test_id = self.id()
        else:
            test.seed = self.net.seed
            test.fixed = True
            self.net.test_id = test.target
        if self.guard_global_reactor:
            self._global_guard = GlobalReactorGuard(self.net).start()
            # Cleanups run before tearDown, even when a subclass's setUp
            # fails; this one is the last of them.
            self.addCleanup(self._global_guard.stop)

    def _logged_errors(self) -> bool:
        """
        Whether the test logged errors that trial will fail it for (after
        C{tearDown}): it has failed already, as far as the teardown checks
        are concerned.
        """
        observer = getattr(self, "_observer", None)
        get_errors = getattr(observer, "getErrors", None)
        return bool(get_errors()) if get_errors is not None else False

    def tearDown(self) -> None:
        """
        Fail the test if its network does not pass the teardown checks
        (L{teardown_failure}: the global reactor unused, the network clean),
        unless it failed already (an error it logged counts: trial fails the
        test for it).  What it left on the global reactor was
        cancelled by a cleanup already -- or is now, when another framework
        calls C{setUp} and C{tearDown} without trial's cleanups.
        """
        try:
            net = self.__dict__.get("net")
            if net is None or self._poetry_failed or self._logged_errors():
                return
            message = teardown_failure(net, self._global_guard)
            if message is not None:
                raise self.failureException(message)
        finally:
            if self._global_guard is not None:
                self._global_guard.stop()
            super().tearDown()
            net = self.__dict__.get("net")
            if isinstance(net, MemoryNetwork):
                net.retire(net.test_id)
