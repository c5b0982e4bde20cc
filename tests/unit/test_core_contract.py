"""
The reactor-core contract (L{tests.core_contract}) run against
L{poetry.testing.MemoryNetwork}: its C{IReactorCore} must show every
behaviour that fresh real reactors show in
C{tests.integration.test_core_contract}.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import MemoryNetwork
from tests.core_contract import CoreReactor, ReactorCoreContractMixin


class MemoryNetworkCoreContractTests(ReactorCoreContractMixin, SynchronousTestCase):
    """
    L{ReactorCoreContractMixin} on fresh L{MemoryNetwork}s (seeded, so that
    a failure reproduces), each checked clean afterwards.
    """

    def newReactor(self) -> CoreReactor:
        net = MemoryNetwork(seed=13)
        self.addCleanup(self.assertClean, net)
        return net

    def runReactor(self, net: CoreReactor) -> None:
        net.run()

    def assertClean(self, net: MemoryNetwork) -> None:
        """
        Nothing is left but timers the scenario deliberately never reached.
        """
        for call in net.getDelayedCalls():
            call.cancel()
        net.assert_clean()
