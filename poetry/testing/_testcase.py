"""
L{MemoryNetworkTestCase}: a trial test case with a fresh L{MemoryNetwork}
per test, the seed in every failure, and a cleanliness check at teardown.
"""

from __future__ import annotations

from typing import Any, cast

from twisted.python.failure import Failure
from twisted.trial.itrial import IReporter
from twisted.trial.unittest import PyUnitResultAdapter, SynchronousTestCase
from zope.interface import alsoProvides

from poetry.testing._diagram import failure_report
from poetry.testing._errors import GlobalReactorUsed, HarnessError, Unclean
from poetry.testing._guard import GlobalReactorGuard
from poetry.testing._network import MemoryNetwork

__all__ = ["MemoryNetworkTestCase"]


class _SeededFailure(Failure):
    """
    A copy of a test's failure whose text ends with the reproduction line.
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


def _mentions_seed(failure: Failure) -> bool:
    if isinstance(failure.value, HarnessError):
        return True
    return "reproduce with:" in str(failure.value)


class _SeedReportingResult:
    """
    Forwards everything to a reporter, adding the network's seed line to
    the failures and errors of one test.
    """

    def __init__(self, original: Any, test: MemoryNetworkTestCase) -> None:
        self._original = original
        self._test = test
        alsoProvides(self, IReporter)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)

    def _seeded(self, failure: Any) -> Any:
        if isinstance(failure, tuple):
            failure = Failure(failure[1], failure[0], failure[2])
        net = self._test.__dict__.get("net")
        if not isinstance(failure, Failure) or not isinstance(net, MemoryNetwork):
            return failure
        lines = failure_report(net, self._test, _mentions_seed(failure))
        return _SeededFailure.wrap(failure, lines) if lines else failure

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

      - The seed comes from C{POETRY_TEST_SEED} if set, else at random; it
        is added, with a one-line reproduction naming the test, to the
        output of every failing or erroring test.
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

    @ivar net: the test's network.
    """

    net: MemoryNetwork
    _poetry_failed = False
    guard_global_reactor = True
    _global_guard: GlobalReactorGuard | None = None

    def run(self, result: Any = None) -> Any:
        """
        Run the test, reporting into C{result} with the seed added to any
        failure or error.
        """
        reporter: object = cast("IReporter | None", IReporter(result, None))
        if reporter is None:
            reporter = PyUnitResultAdapter(result)
        self._poetry_failed = False
        # SynchronousTestCase.run is not annotated.
        super().run(_SeedReportingResult(reporter, self))  # type: ignore[no-untyped-call]

    def setUp(self) -> None:
        """
        Give the test a fresh network, tagged with the test's id.
        """
        super().setUp()
        self.net = MemoryNetwork()
        self.net.test_id = self.id()
        if self.guard_global_reactor:
            self._global_guard = GlobalReactorGuard(self.net).start()
            # Cleanups run before tearDown, even when a subclass's setUp
            # fails; this one is the last of them.
            self.addCleanup(self._global_guard.stop)

    def tearDown(self) -> None:
        """
        Fail the test if it used the global reactor, or if the network is not
        clean (unless it failed already).  What it left on the global reactor
        was cancelled by a cleanup already.
        """
        try:
            net = self.__dict__.get("net")
            if net is None or self._poetry_failed:
                return
            net.advance(0)
            try:
                if self._global_guard is not None:
                    self._global_guard.check()
                net.assert_clean()
            except (GlobalReactorUsed, Unclean) as e:
                raise self.failureException(str(e)) from e
        finally:
            super().tearDown()
