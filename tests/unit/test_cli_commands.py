"""
Tests for the commands of C{python -m poetry}, driven on an injected fake
reactor: no sockets, no global reactor, no real time.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from rich.console import Console
from twisted.internet.address import (
    HostnameAddress,
    IPv4Address,
    IPv6Address,
    UNIXAddress,
)
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    gatherResults,
    maybeDeferred,
    succeed,
)
from twisted.internet.error import (
    CannotListenError,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    NoRouteError,
)
from twisted.internet.error import TimeoutError as ConnectTimeoutError
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor, MemoryReactorClock, StringTransport
from twisted.logger import LogBeginner, Logger, LogLevel, LogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from poetry import poems
from poetry._cli import Context, _main, execute, parse_args
from poetry._cli._context import (
    Cleanup,
    describe_failure,
    format_address,
    shutdown_registrar,
)
from poetry._cli._demo import _address as demo_address
from poetry._cli._get import output_names
from poetry._cli._main import log_observer, start_logging
from poetry._cli._progress import PlainDisplay, RichDisplay
from poetry._values import Address, PoemSource
from poetry.client import PoemTimeout, PoemTruncated
from poetry.proxy import PoetryProxyFactory
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory
from poetry.transform import TransformServerFactory

FIRST_FREE_PORT = 40000


@implementer(IListeningPort)
class FakePort:
    """
    A listening port that remembers whether it was stopped.
    """

    def __init__(self, address: IPv4Address, factory: IProtocolFactory) -> None:
        self.address = address
        self.factory = factory
        self.stopped = False

    def startListening(self) -> None:
        pass

    def stopListening(self) -> Deferred[None]:
        self.stopped = True
        return succeed(None)

    def getHost(self) -> IPv4Address:
        return self.address


class ListeningReactor(MemoryReactorClock):
    """
    A L{MemoryReactorClock} whose C{listenTCP} gives port 0 a free port
    number, reports the interface it was given, can refuse a port, and whose
    ports record C{stopListening}.
    """

    def __init__(self, taken: Sequence[int] = ()) -> None:
        super().__init__()
        self.taken = set(taken)
        self.ports: list[FakePort] = []
        # What each listenTCP was given, typed loosely for the tests' checks.
        self.listened: list[tuple[int, Any, int, str]] = []
        self._next_port = FIRST_FREE_PORT

    def listenTCP(
        self,
        port: int,
        factory: IProtocolFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> FakePort:
        if port in self.taken:
            raise CannotListenError(interface, port, OSError("Address in use"))
        self.tcpServers.append((port, factory, backlog, interface))
        self.listened.append((port, factory, backlog, interface))
        if port == 0:
            port = self._next_port
            self._next_port += 1
        listening = FakePort(IPv4Address("TCP", interface or "0.0.0.0", port), factory)
        self.ports.append(listening)
        return listening


class Shutdown:
    """
    Collects the commands' shutdown cleanups; L{fire} runs them as the
    reactor would.
    """

    def __init__(self) -> None:
        self.cleanups: list[Cleanup] = []

    def register(self, cleanup: Cleanup) -> None:
        self.cleanups.append(cleanup)

    def fire(self) -> Deferred[list[object]]:
        return gatherResults([maybeDeferred(cleanup) for cleanup in self.cleanups])


class Run:
    """
    One command run on a fake reactor, with captured output.
    """

    def __init__(
        self,
        argv: list[str],
        reactor: ListeningReactor | None = None,
        *,
        tty: bool = False,
    ) -> None:
        self.reactor = ListeningReactor() if reactor is None else reactor
        self.stdout = io.BytesIO()
        self.stderr = io.StringIO()
        self.shutdown = Shutdown()
        context = Context(
            stdout=self.stdout,
            stderr=self.stderr,
            stderr_is_tty=tty,
            on_shutdown=self.shutdown.register,
        )
        self.result = execute(self.reactor, parse_args(argv), context)

    @property
    def out(self) -> bytes:
        return self.stdout.getvalue()

    @property
    def err(self) -> str:
        return self.stderr.getvalue()

    def client(self, index: int) -> tuple[str, int, Any]:
        host, port, factory, _, _ = self.reactor.tcpClients[index]
        return host, port, factory

    def connect(self, index: int) -> tuple[Any, StringTransport]:
        """
        Complete client connection C{index}: build its protocol on a
        L{StringTransport}.
        """
        host, port, factory = self.client(index)
        protocol: Any = factory.buildProtocol(IPv4Address("TCP", host, port))
        transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 50000 + index),
            peerAddress=IPv4Address("TCP", host, port),
        )
        protocol.makeConnection(transport)
        return protocol, transport

    def deliver(self, index: int, poem: bytes, reason: Exception | None = None) -> None:
        """
        Connection C{index} receives C{poem}, then ends with C{reason} (a
        clean close by default).
        """
        protocol, _ = self.connect(index)
        if poem:
            protocol.dataReceived(poem)
        protocol.connectionLost(Failure(reason or ConnectionDone()))

    def refuse(self, index: int) -> None:
        _, _, factory = self.client(index)
        factory.clientConnectionFailed(
            self.reactor.connectors[index], Failure(ConnectionRefusedError())
        )


LIGHTHOUSE = poems.load("lighthouse")
CAFE = poems.load("cafe")


class ServeTests(SynchronousTestCase):
    """
    C{serve} listens where asked, prints each actual address, serves the
    poem, and closes its ports on shutdown with status 0.
    """

    def test_listens_and_prints(self) -> None:
        """
        A port number listens on 127.0.0.1 with a fast server of the poem;
        the address is printed at once; shutdown closes the port and the
        command ends with 0.
        """
        run = Run(["serve", "--port", "10000", "--poem", "cafe"])
        [(port, factory, _, interface)] = run.reactor.listened
        self.assertEqual((port, interface), (10000, "127.0.0.1"))
        self.assertIsInstance(factory, PoetryServerFactory)
        self.assertEqual(factory.poem, CAFE)
        self.assertEqual(run.out, b"poetry: serving cafe on 127.0.0.1:10000\n")
        self.assertNoResult(run.result)
        self.assertFalse(run.reactor.ports[0].stopped)
        self.successResultOf(run.shutdown.fire())
        self.assertTrue(run.reactor.ports[0].stopped)
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertEqual(run.err, "")

    def test_serves_the_poem(self) -> None:
        """
        A client of the listening factory gets the whole poem, then the
        close.
        """
        run = Run(["serve"])
        factory = run.reactor.listened[0][1]
        protocol: Any = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5))
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.assertEqual(transport.value(), LIGHTHOUSE)
        self.assertTrue(transport.disconnecting)

    def test_port_zero_prints_the_actual_port(self) -> None:
        """
        With port 0 the printed address has the port actually chosen.
        """
        run = Run(["serve", "--port", "tcp:0"])
        self.assertEqual(run.reactor.listened[0][0], 0)
        self.assertEqual(
            run.out.decode(),
            f"poetry: serving lighthouse on 127.0.0.1:{FIRST_FREE_PORT}\n",
        )

    def test_several_poems(self) -> None:
        """
        Several poems listen on several ports, one line each, in order.
        """
        run = Run(
            [
                *("serve", "--poem", "cafe", "--poem", "clockwork", "--port", "7"),
                *("--port", "tcp:0:interface=0.0.0.0"),
            ]
        )
        self.assertEqual(
            run.out.decode().splitlines(),
            [
                "poetry: serving cafe on 127.0.0.1:7",
                f"poetry: serving clockwork on 0.0.0.0:{FIRST_FREE_PORT}",
            ],
        )
        self.assertEqual(
            [factory.poem for _, factory, _, _ in run.reactor.listened],
            [CAFE, poems.load("clockwork")],
        )
        self.successResultOf(run.shutdown.fire())
        self.assertEqual([p.stopped for p in run.reactor.ports], [True, True])

    def test_slow(self) -> None:
        """
        C{--slow} serves with L{SlowPoetryServerFactory} on the injected
        reactor's clock, with the chunk size and delay given.
        """
        run = Run(["serve", "--slow", "--chunk-size", "4", "--delay", "0.5"])
        factory = run.reactor.listened[0][1]
        self.assertIsInstance(factory, SlowPoetryServerFactory)
        self.assertIs(factory.clock, run.reactor)
        self.assertEqual((factory.chunk_size, factory.delay), (4, 0.5))
        protocol: Any = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5))
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.assertEqual(transport.value(), LIGHTHOUSE[:4])
        run.reactor.advance(0.5)
        self.assertEqual(transport.value(), LIGHTHOUSE[:8])
        protocol.connectionLost(Failure(ConnectionLost()))

    def test_cannot_listen(self) -> None:
        """
        If a port cannot be opened, the ports already opened are closed,
        nothing is announced, an error line names the port, and the status
        is 1.
        """
        run = Run(
            ["serve", "--poem", "cafe", "--poem", "cafe", "--port", "5", "--port", "6"],
            ListeningReactor(taken=[6]),
        )
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.out, b"")
        self.assertTrue(run.reactor.ports[0].stopped)
        self.assertEqual(len(run.err.splitlines()), 1)
        self.assertIn(
            "poetry: error: cannot listen on tcp:6:interface=127.0.0.1: ", run.err
        )
        self.assertIn("Address in use", run.err)


class GetTests(SynchronousTestCase):
    """
    C{get} fetches concurrently, writes poems in the order given (or to
    files), one error line per failed server, and exits 0 only if all
    succeeded.
    """

    def test_connects_to_each(self) -> None:
        """
        Every address is connected to at once.
        """
        run = Run(["get", "1", "localhost:2", "[::1]:3"])
        self.assertEqual(
            [run.client(i)[:2] for i in range(3)],
            [("127.0.0.1", 1), ("localhost", 2), ("::1", 3)],
        )

    def test_in_order(self) -> None:
        """
        Poems are written in the order of the addresses, even when a later
        one arrives first; status 0.
        """
        run = Run(["get", "1", "2"])
        run.deliver(1, CAFE)
        self.assertEqual(run.out, b"")
        run.deliver(0, LIGHTHOUSE)
        self.assertEqual(run.out, LIGHTHOUSE + CAFE)
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertEqual(run.err, "")

    def test_streams_as_ready(self) -> None:
        """
        The first poem is written as soon as it is complete.
        """
        run = Run(["get", "1", "2"])
        run.deliver(0, LIGHTHOUSE)
        self.assertEqual(run.out, LIGHTHOUSE)
        self.assertNoResult(run.result)
        run.deliver(1, b"")
        self.assertEqual(self.successResultOf(run.result), 0)

    def test_refused(self) -> None:
        """
        A refused connection gets one readable error line; the other poems
        are still written; status 1.
        """
        run = Run(["get", "1", "2"])
        run.refuse(0)
        run.deliver(1, CAFE)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.out, CAFE)
        self.assertEqual(
            run.err,
            "poetry: 127.0.0.1:1: failed: connection refused "
            "(is a server listening there?)\n",
        )

    def test_truncated(self) -> None:
        """
        A poem cut short is not written, and is reported with the number of
        bytes that arrived.
        """
        run = Run(["get", "1"])
        run.deliver(0, b"half a po", ConnectionLost())
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.out, b"")
        self.assertIn("poetry: 127.0.0.1:1: failed: poem truncated after 9", run.err)

    def test_timeout(self) -> None:
        """
        C{--timeout} gives up on the reactor's clock, not before, and leaves
        nothing pending.
        """
        run = Run(["get", "1", "--timeout", "5"])
        run.reactor.advance(4.9)
        self.assertNoResult(run.result)
        run.reactor.advance(0.1)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertIn("no complete poem within 5.0 seconds", run.err)
        self.assertEqual(run.reactor.getDelayedCalls(), [])

    def test_shutdown_cancels(self) -> None:
        """
        Shutdown cancels the fetches still running: each gets an error line
        and the status is 1.
        """
        run = Run(["get", "1", "2"])
        run.deliver(0, LIGHTHOUSE)
        self.successResultOf(run.shutdown.fire())
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(
            run.err, "poetry: 127.0.0.1:2: failed: cancelled (shutting down)\n"
        )
        self.assertTrue(run.reactor.connectors[1].stoppedConnecting)

    def test_output_directory(self) -> None:
        """
        With C{--output} each poem goes to its own file (the directory is
        created); a repeated address gets a numbered name; a failed fetch
        writes no file; nothing goes to standard output.
        """
        directory = Path(self.mktemp()) / "poems"
        run = Run(["get", "1", "localhost:2", "1", "3", "--output", str(directory)])
        run.deliver(0, LIGHTHOUSE)
        self.assertEqual((directory / "127.0.0.1_1.txt").read_bytes(), LIGHTHOUSE)
        run.deliver(1, CAFE)
        run.deliver(2, b"again")
        run.refuse(3)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(
            sorted(p.name for p in directory.iterdir()),
            ["127.0.0.1_1.2.txt", "127.0.0.1_1.txt", "localhost_2.txt"],
        )
        self.assertEqual((directory / "localhost_2.txt").read_bytes(), CAFE)
        self.assertEqual((directory / "127.0.0.1_1.2.txt").read_bytes(), b"again")
        self.assertEqual(run.out, b"")
        self.assertIn("127.0.0.1:3: failed: connection refused", run.err)

    def test_output_directory_cannot_be_created(self) -> None:
        """
        An C{--output} directory that cannot be created (here, a path under
        a regular file) gives one error line naming it and status 1, without
        connecting anywhere.
        """
        blocker = Path(self.mktemp())
        blocker.write_bytes(b"a file, not a directory")
        directory = blocker / "poems"
        run = Run(["get", "1", "--output", str(directory)])
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.reactor.tcpClients, [])
        self.assertTrue(
            run.err.startswith(f"poetry: error: cannot create {str(directory)!r}: "),
            run.err,
        )
        self.assertEqual(len(run.err.splitlines()), 1)
        self.assertFalse(directory.exists())

    def test_output_file_cannot_be_written(self) -> None:
        """
        A poem whose file cannot be written (here, a directory is in the
        way) gives an error line naming the file and makes the status 1;
        the other poems are still saved.
        """
        directory = Path(self.mktemp())
        (directory / "127.0.0.1_1.txt").mkdir(parents=True)
        run = Run(["get", "1", "2", "--output", str(directory)])
        run.deliver(0, LIGHTHOUSE)
        run.deliver(1, CAFE)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual((directory / "127.0.0.1_2.txt").read_bytes(), CAFE)
        target = str(directory / "127.0.0.1_1.txt")
        self.assertTrue(
            run.err.startswith(f"poetry: error: cannot write {target!r}: "), run.err
        )
        self.assertEqual(len(run.err.splitlines()), 1)
        self.assertEqual(run.out, b"")

    def test_output_names(self) -> None:
        """
        File names keep letters, digits, dots and dashes of the host.
        """
        self.assertEqual(
            output_names(
                [Address("::1", 5), Address("a_b.example", 6), Address("::1", 5)]
            ),
            ["__1_5.txt", "a_b.example_6.txt", "__1_5.2.txt"],
        )

    def test_no_progress_without_terminal(self) -> None:
        """
        When standard error is not a terminal, nothing but error lines is
        written to it.
        """
        run = Run(["get", "1"], tty=False)
        run.deliver(0, LIGHTHOUSE)
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertEqual(run.err, "")

    def test_progress_on_terminal(self) -> None:
        """
        When standard error is a terminal, a progress display shows each
        server with its bytes and outcome; the poems are written to standard
        output once the display is finished; the refresh timer is stopped.
        """
        run = Run(["get", "1", "2"], tty=True)
        run.reactor.advance(0.3)
        run.deliver(0, LIGHTHOUSE)
        self.assertEqual(run.out, b"")
        run.refuse(1)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.out, LIGHTHOUSE)
        self.assertIn("127.0.0.1:1", run.err)
        self.assertIn(f"{len(LIGHTHOUSE)} bytes", run.err)
        self.assertIn("ok", run.err)
        self.assertIn("failed", run.err)
        self.assertIn("poetry: 127.0.0.1:2: failed: connection refused", run.err)
        self.assertEqual(run.reactor.getDelayedCalls(), [])


class TransformCommandTests(SynchronousTestCase):
    """
    C{transform-server} serves the transform service; C{transform} sends one
    request and writes the reply.
    """

    def test_server(self) -> None:
        """
        The transform server listens with the options given, prints its
        address, and closes on shutdown.
        """
        run = Run(
            [
                *("transform-server", "--port", "10001", "--idle-timeout", "3"),
                *("--max-length", "500"),
            ]
        )
        [(port, factory, _, interface)] = run.reactor.listened
        self.assertEqual((port, interface), (10001, "127.0.0.1"))
        self.assertIsInstance(factory, TransformServerFactory)
        self.assertEqual((factory.idle_timeout, factory.max_length), (3.0, 500))
        self.assertIs(factory.clock, run.reactor)
        self.assertEqual(run.out, b"poetry: serving transforms on 127.0.0.1:10001\n")
        self.successResultOf(run.shutdown.fire())
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertTrue(run.reactor.ports[0].stopped)

    def test_client(self) -> None:
        """
        The request is one netstring C{NAME.POEM}; the reply's payload is
        written to standard output; status 0.
        """
        path = Path(self.mktemp())
        path.write_bytes(b"Hi")
        run = Run(["transform", "localhost:10001", "upper", str(path)])
        self.assertEqual(run.client(0)[:2], ("localhost", 10001))
        protocol, transport = run.connect(0)
        self.assertEqual(transport.value(), b"8:upper.Hi,")
        protocol.dataReceived(b"2:HI,")
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertEqual(run.out, b"HI")

    def test_client_no_reply(self) -> None:
        """
        A server that closes without replying (its answer to a bad request)
        gives an error line and status 1.
        """
        run = Run(["transform", "10001", "nonesuch", "cafe"])
        protocol, _ = run.connect(0)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.out, b"")
        self.assertTrue(
            run.err.startswith(
                "poetry: 127.0.0.1:10001: transform 'nonesuch' failed: "
            ),
            run.err,
        )
        self.assertEqual(len(run.err.splitlines()), 1)

    def test_client_refused(self) -> None:
        """
        Nothing listening: an error line and status 1.
        """
        run = Run(["transform", "10001", "upper", "cafe"])
        run.refuse(0)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertIn("connection refused", run.err)


class ProxyCommandTests(SynchronousTestCase):
    """
    C{proxy} serves a L{PoetryProxyFactory} configured from the options.
    """

    def test_options(self) -> None:
        """
        Upstream, ttl, transform and upstream timeout reach the factory; the
        address is printed; shutdown closes the port.
        """
        run = Run(
            [
                *("proxy", "localhost:10000", "--ttl", "0", "--port", "10002"),
                *("--transform", "10001:cummingsify", "--upstream-timeout", "7"),
            ]
        )
        [(port, factory, _, _)] = run.reactor.listened
        self.assertEqual(port, 10002)
        self.assertIsInstance(factory, PoetryProxyFactory)
        self.assertEqual(
            (factory.upstream_host, factory.upstream_port), ("localhost", 10000)
        )
        self.assertEqual(factory.transform, ("127.0.0.1", 10001, "cummingsify"))
        self.assertEqual(factory.upstream_timeout, 7.0)
        self.assertEqual(factory.cache.ttl, 0.0)
        self.assertEqual(
            run.out,
            b"poetry: serving proxy for localhost:10000 on 127.0.0.1:10002\n",
        )
        self.successResultOf(run.shutdown.fire())
        self.assertEqual(self.successResultOf(run.result), 0)

    def test_defaults(self) -> None:
        """
        Options not given keep the factory's defaults.
        """
        run = Run(["proxy", "10000"])
        factory = run.reactor.listened[0][1]
        default = PoetryProxyFactory(MemoryReactorClock(), "h", 1)
        self.assertEqual(factory.cache.ttl, default.cache.ttl)
        self.assertEqual(factory.upstream_timeout, default.upstream_timeout)
        self.assertIsNone(factory.transform)


class LoggingTests(SynchronousTestCase):
    """
    C{--verbose} chooses the lowest level logged to standard error.
    """

    def test_levels(self) -> None:
        """
        0: warnings and above; 1: info too; 2: debug too.
        """
        for verbosity, shown in [
            (0, ["warn"]),
            (1, ["info", "warn"]),
            (2, ["debug", "info", "warn"]),
        ]:
            stream = io.StringIO()
            log = Logger(observer=log_observer(stream, verbosity))
            log.debug("at debug")
            log.info("at info")
            log.warn("at warn")
            logged = [
                level
                for level in ["debug", "info", "warn"]
                if f"at {level}" in stream.getvalue()
            ]
            self.assertEqual(logged, shown, verbosity)
            self.assertEqual(LogLevel.levelWithName("warn"), LogLevel.warn)

    def test_start_logging(self) -> None:
        """
        L{start_logging} begins the global log on the stream at the level
        asked for -- here through a stand-in for the global L{LogBeginner}
        -- and leaves standard output and error alone.
        """
        publisher = LogPublisher()
        stdio = SimpleNamespace(stdout=io.StringIO(), stderr=io.StringIO())
        original = (stdio.stdout, stdio.stderr)
        warnings_module = SimpleNamespace(showwarning=warnings.showwarning)
        beginner = LogBeginner(publisher, io.StringIO(), stdio, warnings_module)
        self.patch(_main, "globalLogBeginner", beginner)
        stream = io.StringIO()
        start_logging(stream, 1)
        log = Logger(observer=publisher)
        log.debug("at debug")
        log.info("at info")
        self.assertIn("at info", stream.getvalue())
        self.assertNotIn("at debug", stream.getvalue())
        self.assertEqual((stdio.stdout, stdio.stderr), original)


class FormatTests(SynchronousTestCase):
    """
    Addresses and failures are shown for people.
    """

    def test_addresses(self) -> None:
        """
        IPv4 as C{HOST:PORT}, IPv6 in brackets, UNIX as C{unix:PATH}.
        """
        self.assertEqual(
            format_address(IPv4Address("TCP", "10.0.0.1", 5)), "10.0.0.1:5"
        )
        self.assertEqual(format_address(IPv6Address("TCP", "::1", 5)), "[::1]:5")
        self.assertEqual(format_address(UNIXAddress(b"/tmp/s")), "unix:/tmp/s")
        self.assertEqual(format_address(UNIXAddress(None)), "unix:")
        other = HostnameAddress(b"poems.example", 5)
        self.assertEqual(format_address(other), str(other))

    def test_failures(self) -> None:
        """
        Common failures get short explanations; others their message.
        """
        rows = [
            (ConnectionRefusedError(), "connection refused"),
            (DNSLookupError("nohost"), "cannot resolve the host name"),
            (ConnectTimeoutError(), "timed out while connecting"),
            (CancelledError(), "cancelled (shutting down)"),
            (NoRouteError(), "cannot connect: No route to host"),
            (PoemTimeout(2.0, True, b"abc"), "no complete poem within 2.0 seconds"),
            (
                PoemTruncated(b"ab", Failure(ConnectionLost())),
                "poem truncated after 2 bytes",
            ),
            (RuntimeError(), "RuntimeError"),
        ]
        for error, expected in rows:
            self.assertIn(expected, describe_failure(Failure(error)), error)


class ShutdownRegistrarTests(SynchronousTestCase):
    """
    L{shutdown_registrar} makes cleanups part of the reactor's shutdown.
    """

    def test_before_shutdown(self) -> None:
        """
        Each cleanup becomes a I{before shutdown} trigger of the reactor:
        the phase whose returned L{Deferred}s the reactor waits for before it
        stops.
        """
        reactor = MemoryReactor()
        register = shutdown_registrar(reactor)

        def first() -> None:
            return None

        def second() -> Deferred[None]:
            return succeed(None)

        register(first)
        register(second)
        self.assertEqual(
            reactor.triggers,
            {"before": {"shutdown": [(first, (), {}), (second, (), {})]}},
        )


class DisplayTests(SynchronousTestCase):
    """
    The progress displays.
    """

    def test_plain(self) -> None:
        """
        L{PlainDisplay} writes messages only and is not live.
        """
        stream = io.StringIO()
        display = PlainDisplay(stream)
        row = display.add("a")
        display.update(row, 10)
        display.finish(row, True)
        display.message("an error")
        display.close()
        self.assertFalse(display.live)
        self.assertEqual(stream.getvalue(), "an error\n")

    def test_rich(self) -> None:
        """
        L{RichDisplay} draws each row's label, bytes and outcome, redraws on
        the injected clock, and stops its timer when closed.
        """
        stream = io.StringIO()
        clock = Clock()
        display = RichDisplay(stream, clock)
        self.assertTrue(display.live)
        first = display.add("first server")
        second = display.add("second server")
        display.update(first, 1234)
        before = len(stream.getvalue())
        clock.advance(0.1)
        self.assertGreater(len(stream.getvalue()), before)
        self.assertIn("1,234 bytes", stream.getvalue())
        display.finish(first, True)
        display.finish(second, False)
        display.message("second server: failed")
        display.close()
        display.close()
        text = stream.getvalue()
        for expected in ["first server", "second server", "ok", "failed"]:
            self.assertIn(expected, text)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_rich_failure_red_at_once(self) -> None:
        """
        A failed fetch's row turns red -- a red cross instead of the
        spinner, the label and outcome in red -- in the redraw made as it
        fails, while the other fetches still run; and it stays so.
        """
        drawn = io.StringIO()
        clock = Clock()
        console = Console(
            file=drawn, force_terminal=True, width=80, color_system="standard"
        )
        display = RichDisplay(io.StringIO(), clock, console)
        display.add("slow server")
        refused = display.add("refused [server]")
        before = len(drawn.getvalue())
        display.finish(refused, False)
        frame = drawn.getvalue()[before:]
        self.assertIn("\x1b[1;31m\N{BALLOT X}", frame)
        self.assertIn("\x1b[31mrefused [server]", frame)
        self.assertIn("\x1b[31mfailed", frame)
        self.assertNotIn("\N{CHECK MARK}", frame)
        clock.advance(0.1)
        later = drawn.getvalue()[len(frame) + before :]
        self.assertIn("\x1b[1;31m\N{BALLOT X}", later)
        display.close()

    def test_rich_given_console(self) -> None:
        """
        L{RichDisplay} draws on the console it is given (at that console's
        width), not on the stream.
        """
        stream = io.StringIO()
        drawn = io.StringIO()
        console = Console(file=drawn, force_terminal=True, width=60)
        display = RichDisplay(stream, Clock(), console)
        row = display.add("a server")
        display.update(row, 99)
        display.finish(row, True)
        display.close()
        self.assertEqual(stream.getvalue(), "")
        self.assertIn("a server", drawn.getvalue())
        self.assertIn("99 bytes", drawn.getvalue())

    def test_rich_redraw_failure(self) -> None:
        """
        When a timed redraw fails (the terminal write raised), the redraws
        stop and the display can still be closed: no timer is left, and the
        final drawing is made.  (The failed redraw is reported as an
        unhandled error of the redraw loop; it is flushed here.)
        """
        drawn = _FailOnceStream()
        clock = Clock()
        display = RichDisplay(
            drawn, clock, Console(file=drawn, force_terminal=True, width=60)
        )
        row = display.add("a server")
        drawn.fail_next = True
        clock.advance(0.1)
        self.assertEqual(clock.getDelayedCalls(), [])
        self.assertTrue(self.flushLoggedErrors(OSError))
        display.update(row, 77)
        display.close()
        self.assertIn("77 bytes", drawn.getvalue())
        self.assertEqual(clock.getDelayedCalls(), [])


class _FailOnceStream(io.StringIO):
    """
    A terminal stream whose next write fails when C{fail_next} is set.
    """

    fail_next = False

    def write(self, text: str) -> int:
        if self.fail_next:
            self.fail_next = False
            raise OSError(5, "Input/output error")
        return super().write(text)


class _ClosedPipe(io.BytesIO):
    """
    Standard output whose reader has gone away.
    """

    def write(self, data: Any) -> int:
        raise BrokenPipeError(32, "Broken pipe")


class ClosedOutputTests(SynchronousTestCase):
    """
    Output to a reader that went away (C{| head}) is dropped quietly.
    """

    def test_get_into_closed_pipe(self) -> None:
        """
        C{get} carries on when standard output breaks: no exception, the
        status still says whether the fetches succeeded, and the context
        remembers that standard output is closed.
        """
        reactor = ListeningReactor()
        stderr = io.StringIO()
        context = Context(_ClosedPipe(), stderr, False, Shutdown().register)
        result = execute(reactor, parse_args(["get", "1", "2"]), context)
        for index in (0, 1):
            factory = reactor.tcpClients[index][2]
            protocol: Any = factory.buildProtocol(None)
            protocol.makeConnection(StringTransport())
            protocol.dataReceived(CAFE)
            protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(result), 0)
        self.assertTrue(context.stdout_closed)
        self.assertEqual(stderr.getvalue(), "")


class _RefusingReactor(ListeningReactor):
    """
    A L{ListeningReactor} whose C{listenTCP} call number C{refuse} (counting
    from 0) fails as a port in use does.
    """

    def __init__(self, refuse: int) -> None:
        super().__init__()
        self.refuse = refuse
        self.listen_calls = 0

    def listenTCP(
        self,
        port: int,
        factory: IProtocolFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> FakePort:
        call, self.listen_calls = self.listen_calls, self.listen_calls + 1
        if call == self.refuse:
            raise CannotListenError(interface, port, OSError("Address in use"))
        return super().listenTCP(port, factory, backlog, interface)


class DemoTests(SynchronousTestCase):
    """
    C{demo} on a fake reactor: its options, and what it does when a port
    cannot be opened.  (It is run end to end in
    L{tests.unit.test_cli_memory_network}.)
    """

    def test_poem_option(self) -> None:
        """
        The slow server serves the poem C{--poem} names, and the lighthouse
        poem by default.
        """
        self.assertEqual(
            parse_args(["demo"]).poem, PoemSource("lighthouse", LIGHTHOUSE)
        )
        self.assertEqual(
            parse_args(["demo", "--poem", "cafe"]).poem, PoemSource("cafe", CAFE)
        )
        run = Run(["demo", "--poem", "cafe", "--chunk-size", "7", "--delay", "2"])
        slow = run.reactor.listened[0][1]
        self.assertIsInstance(slow, SlowPoetryServerFactory)
        self.assertEqual(slow.poem, CAFE)
        self.assertTrue(
            run.out.startswith(
                b"poetry: serving cafe slowly (7 bytes every 2 s) on 127.0.0.1:"
            ),
            run.out,
        )

    def test_cannot_listen(self) -> None:
        """
        When the slow server's, the transform server's or the proxy's port
        cannot be opened, the demo prints one error line and exits 1 without
        fetching anything, and every port it had opened is closed again.
        """
        for refuse in range(3):
            reactor = _RefusingReactor(refuse)
            run = Run(["demo"], reactor)
            self.assertEqual(self.successResultOf(run.result), 1, refuse)
            self.assertEqual(
                run.err,
                "poetry demo: error: cannot listen on tcp:0:interface=127.0.0.1: "
                "Couldn't listen on 127.0.0.1:0: Address in use.\n",
                refuse,
            )
            self.assertEqual(run.out, b"", refuse)
            self.assertEqual(reactor.tcpClients, [], refuse)
            self.assertEqual(len(reactor.ports), refuse)
            self.assertTrue(all(port.stopped for port in reactor.ports), refuse)

    def test_address_of_a_tcp_port_only(self) -> None:
        """
        The demo connects to its own ports by their TCP address; a port that
        reports another kind of address is refused with L{TypeError} rather
        than turned into a nonsense address.
        """

        @implementer(IListeningPort)
        class UnixPort(FakePort):
            def getHost(self) -> Any:
                return UNIXAddress(b"/tmp/demo.sock")

        factory = PoetryServerFactory(CAFE)
        tcp = FakePort(IPv4Address("TCP", "127.0.0.1", 5), factory)
        self.assertEqual(demo_address(tcp), Address("127.0.0.1", 5))
        unix = UnixPort(IPv4Address("TCP", "127.0.0.1", 5), factory)
        with self.assertRaises(TypeError) as caught:
            demo_address(unix)
        self.assertIn("/tmp/demo.sock", str(caught.exception))
