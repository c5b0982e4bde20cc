"""
Tests for L{FaultSchedule}, its planned faults and L{NetworkConfiguration}:
each fault does what it says to a poetry client, at its time, on its target;
the values print as code that rebuilds them.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.error import ConnectionRefusedError, TimeoutError
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

import poetry.testing
from poetry.client import PoemTimeout, PoemTruncated, get_poetry
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory
from poetry.testing import (
    CLIENT_TO_SERVER,
    DROP,
    ONE_BYTE,
    PLAIN,
    SERVER_TO_CLIENT,
    Abort,
    Chaos,
    FaultSchedule,
    Hang,
    LinkConditions,
    MemoryNetwork,
    NetworkConfiguration,
    Partition,
    PlannedFault,
    Refuse,
    Reset,
    ResetAfter,
    Stall,
)
from tests.unit.test_testing_support import port_number

POEM = bytes(range(100))


def fetch(
    plan: FaultSchedule,
    *,
    slow: bool = False,
    listeners: int = 1,
    target: int = 0,
    start: float = 0.0,
    timeout: float = 10.0,
) -> tuple[object, float, MemoryNetwork]:
    """
    Serve the poem (at once, or 10 bytes a second) on C{listeners} ports of
    C{10.0.0.2}, fetch it from port number C{target} on C{10.0.0.1} at
    C{start}, under C{plan}; return the outcome (the poem or the failure's
    exception), when it came, and the network.
    """
    net = MemoryNetwork(1, faults=plan)
    server = net.host("10.0.0.2")
    ports = []
    for _ in range(listeners):
        if slow:
            factory: Any = SlowPoetryServerFactory(POEM, net, 10, 1.0)
        else:
            factory = PoetryServerFactory(POEM)
        ports.append(server.listenTCP(0, factory))
    client = net.host("10.0.0.1")
    outcome: list[tuple[object, float]] = []

    def go() -> None:
        d = get_poetry(client, "10.0.0.2", port_number(ports[target]), timeout=timeout)
        d.addBoth(lambda result: outcome.append((result, net.seconds())))

    net.callLater(start, go)
    net.run()
    for port in ports:
        port.stopListening()
    # A port stops in the next iteration, as on the real reactor.
    net.advance(0)
    net.assert_clean()
    (result, when), *_ = outcome
    if isinstance(result, Failure):
        result = result.value
    return result, when, net


class PlannedFaultTests(SynchronousTestCase):
    """
    Each planned fault, on a poetry client and server.
    """

    def test_refuse(self) -> None:
        """
        L{Refuse}: refused during the fault, served after it.
        """
        plan = FaultSchedule([Refuse(0, at=0.0, duration=2.0)])
        result, _, _ = fetch(plan)
        self.assertIsInstance(result, ConnectionRefusedError)
        self.assertEqual(fetch(plan, start=2.5)[0], POEM)

    def test_hang(self) -> None:
        """
        L{Hang}: an attempt during the fault times out, exactly.
        """
        result, when, _ = fetch(FaultSchedule([Hang(0, duration=20.0)]), timeout=3)
        self.assertIsInstance(result, (TimeoutError, PoemTimeout))
        self.assertEqual(when, 3.0)

    def test_stall(self) -> None:
        """
        L{Stall}: the poem waits until the link resumes.
        """
        plan = FaultSchedule(
            [Stall(0, at=0.0, duration=4.0, direction=SERVER_TO_CLIENT)]
        )
        self.assertEqual(fetch(plan)[:2], (POEM, 4.0))

    def test_reset(self) -> None:
        """
        L{Reset}: the connection open at its time is reset; the client has
        the chunks sent before.
        """
        result, when, _ = fetch(FaultSchedule([Reset(0, at=2.5)]), slow=True)
        assert isinstance(result, PoemTruncated)
        self.assertEqual((result.received, when), (POEM[:30], 2.5))

    def test_resetAfter(self) -> None:
        """
        L{ResetAfter}: the client gets exactly the first N bytes.
        """
        plan = FaultSchedule([ResetAfter(0, after_bytes=7, direction=SERVER_TO_CLIENT)])
        result, _, _ = fetch(plan)
        assert isinstance(result, PoemTruncated)
        self.assertEqual(result.received, POEM[:7])

    def test_abort(self) -> None:
        """
        L{Abort}: the server end aborts at its time.
        """
        result, when, _ = fetch(
            FaultSchedule([Abort(0, at=1.5, side="server")]), slow=True
        )
        assert isinstance(result, PoemTruncated)
        self.assertEqual((result.received, when), (POEM[:20], 1.5))

    def test_partition(self) -> None:
        """
        L{Partition}: cut off from the slow server, the client gives up at
        its timeout with what it had; the heal ends the plan.
        """
        plan = FaultSchedule([Partition("10.0.0.1", "10.0.0.2", 3.5, 60.0, DROP)])
        result, when, net = fetch(plan, slow=True, timeout=10)
        assert isinstance(result, PoemTimeout)
        self.assertEqual((result.received, when), (POEM[:40], 10.0))
        self.assertIn("partition 10.0.0.1 <-> 10.0.0.2", net.trace_dump())

    def test_addressTarget(self) -> None:
        """
        A fault may name an address.
        """
        result, _, _ = fetch(FaultSchedule([Refuse(("10.0.0.2", 32768), duration=1.0)]))
        self.assertIsInstance(result, ConnectionRefusedError)
        other = fetch(FaultSchedule([Refuse(("10.0.0.2", 32769), duration=1.0)]))
        self.assertEqual(other[0], POEM)

    def test_indexModulo(self) -> None:
        """
        An index counts the listening ports in the order they were bound,
        modulo how many listen.
        """
        plan = FaultSchedule([Refuse(3, duration=1.0)])
        self.assertEqual(fetch(plan, listeners=2, target=0)[0], POEM)
        refused, _, _ = fetch(plan, listeners=2, target=1)
        self.assertIsInstance(refused, ConnectionRefusedError)

    def test_nothingToTarget(self) -> None:
        """
        A fault whose target does not exist when it fires does nothing.
        """
        plan = FaultSchedule(
            [
                Refuse(0),
                Hang(0),
                Stall(0),
                Reset(0),
                ResetAfter(0),
                Abort(0),
            ]
        )
        net = MemoryNetwork(1, faults=plan)
        net.run()
        net.assert_clean()
        self.assertNotIn("fault", [event.kind for event in net.trace])

    def test_emptyScheduleIsThePlainNetwork(self) -> None:
        """
        An empty schedule injects nothing: the trace is that of a network
        without a plan.
        """
        _, _, planned = fetch(FaultSchedule())
        _, _, plain = fetch(FaultSchedule([]))
        self.assertEqual(planned.trace, plain.trace)
        self.assertNotIn("fault", [event.kind for event in planned.trace])

    def test_severalFaults(self) -> None:
        """
        A schedule injects all its faults, each at its time.
        """
        plan = FaultSchedule(
            [Stall(0, at=0.0, duration=1.0), ResetAfter(0, 5, SERVER_TO_CLIENT)]
        )
        result, when, _ = fetch(plan)
        assert isinstance(result, PoemTruncated)
        self.assertEqual((result.received, when), (POEM[:5], 1.0))


class ValueTests(SynchronousTestCase):
    """
    Planned faults and schedules are checked values whose C{repr} is code
    that rebuilds them.
    """

    def test_reprRoundTrip(self) -> None:
        """
        Evaluated with the names of L{poetry.testing}, the C{repr} of a
        schedule (as a falsifying example prints it) is an equal schedule.
        """
        plan = FaultSchedule(
            [
                Refuse(0, 1.0, 2.0),
                Hang(("10.0.0.2", 80), 0.5, 1.5),
                Stall(1, 0.0, 3.0, CLIENT_TO_SERVER),
                Reset(0, 2.0),
                ResetAfter(0, 9, SERVER_TO_CLIENT),
                Abort(0, 1.0, "server"),
                Partition("a", "b", 1.0, 2.0, DROP),
            ]
        )
        namespace = dict(vars(poetry.testing))
        self.assertEqual(eval(repr(plan), namespace), plan)
        configuration = NetworkConfiguration(
            seed=3,
            server_to_client=LinkConditions(chunking=ONE_BYTE),
            faults=plan,
            hosts={"poems.example": "10.0.0.2"},
        )
        self.assertEqual(eval(repr(configuration), namespace), configuration)

    def test_validation(self) -> None:
        """
        Bad fields are refused with an error naming them.
        """
        for make, message in (
            (lambda: Refuse(-1), "target"),
            (lambda: Refuse("x"), "target"),  # type: ignore[arg-type]
            (lambda: Refuse(0, at=-1.0), "at"),
            (lambda: Hang(0, duration=float("inf")), "duration"),
            (lambda: Stall(0, direction="up"), "direction"),
            (lambda: ResetAfter(0, after_bytes=-1), "after_bytes"),
            (lambda: ResetAfter(0, direction=None), "direction"),  # type: ignore[arg-type]
            (lambda: Abort(0, side="middle"), "side"),
            (lambda: Partition("a", "b", in_flight="lose"), "in_flight"),
            (lambda: NetworkConfiguration(seed=-1), "seed"),
        ):
            error = self.assertRaises(ValueError, make)
            self.assertIn(message, str(error))
        self.assertRaises(TypeError, FaultSchedule, [object()])
        self.assertRaises(TypeError, Partition, "a", 2)
        self.assertRaises(
            TypeError,
            NetworkConfiguration,
            client_to_server=ONE_BYTE,
        )

    def test_plannedFaultIsAbstract(self) -> None:
        """
        The base class says what a planned fault must do.
        """
        self.assertRaises(
            NotImplementedError,
            PlannedFault().install,
            MemoryNetwork(1),
            lambda t: None,
        )


class NetworkConfigurationTests(SynchronousTestCase):
    """
    L{NetworkConfiguration.build}.
    """

    def test_build(self) -> None:
        """
        The network has the seed, each direction's conditions, the hosts,
        the step budget and the fault plan.
        """
        link = LinkConditions(latency=0.25)
        configuration = NetworkConfiguration(
            seed=12,
            client_to_server=link,
            faults=Chaos(probability=0.0),
            hosts={"poems.example": "10.0.0.2"},
            step_budget=500,
        )
        net = configuration.build()
        self.assertEqual(
            (net.seed, net.step_budget, net.resolve_name("poems.example")),
            (12, 500, "10.0.0.2"),
        )
        self.assertIn("chaos: no faults", net.trace_dump())
        port = net.listenTCP(0, PoetryServerFactory(POEM), interface="127.0.0.1")
        d = get_poetry(net, "127.0.0.1", port_number(port))
        self.assertEqual(net.run_until(d), POEM)
        # A quarter second for the handshake (client to server); the poem
        # comes back at once (server to client is plain).
        self.assertEqual(net.seconds(), 0.25)
        port.stopListening()
        self.assertEqual(configuration.hosts, (("poems.example", "10.0.0.2"),))

    def test_plainByDefault(self) -> None:
        """
        The default configuration is the plain network: no conditions, no
        faults (so the plain path: no link control is made).
        """
        configuration = NetworkConfiguration()
        self.assertEqual(
            (configuration.client_to_server, configuration.server_to_client),
            (PLAIN, PLAIN),
        )
        net = configuration.build()
        self.assertEqual(net.seed, 0)
        self.assertIsNone(net._links)
