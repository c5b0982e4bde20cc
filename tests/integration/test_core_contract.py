"""
The reactor-core contract (L{tests.core_contract}) run against fresh real
reactors: the truth that C{poetry.testing.MemoryNetwork}'s C{IReactorCore}
must match.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.base import ReactorBase
from twisted.trial.unittest import SynchronousTestCase

from tests.core_contract import CoreReactor, ReactorCoreContractMixin

#: Real seconds after which a scenario that failed to stop its reactor is
#: crashed, so that a broken scenario fails instead of hanging the run.
SAFETY_SECONDS = 10.0


def _reactor_class() -> type[ReactorBase]:
    try:
        from twisted.internet.epollreactor import EPollReactor
    except ImportError:  # not Linux
        from twisted.internet.selectreactor import SelectReactor

        return SelectReactor
    return EPollReactor


class RealReactorCoreContractTests(ReactorCoreContractMixin, SynchronousTestCase):
    """
    L{ReactorCoreContractMixin} on a new instance of the platform's reactor
    class per test (the global reactor, which trial uses, is never started
    or stopped here).  Each one is disposed of afterwards as Twisted's own
    reactor tests do: timers cancelled, its waker closed.
    """

    def newReactor(self) -> CoreReactor:
        reactor: Any = _reactor_class()()
        safety = reactor.callLater(SAFETY_SECONDS, reactor.crash)
        self.addCleanup(self._dispose, reactor, safety)
        return reactor  # type: ignore[no-any-return]  # a real reactor has CoreReactor's shape

    def runReactor(self, reactor: CoreReactor) -> None:
        reactor.run(installSignalHandlers=False)

    def _dispose(self, reactor: Any, safety: Any) -> None:
        self.assertFalse(safety.called, "the scenario never stopped its reactor")
        for call in reactor.getDelayedCalls():
            call.cancel()
        for reader in list(reactor._internalReaders):
            reactor.removeReader(reader)
            reader.connectionLost(None)
        reactor._internalReaders.clear()
        reactor.disconnectAll()
        if reactor.threadpool is not None:
            reactor._stopThreadPool()
