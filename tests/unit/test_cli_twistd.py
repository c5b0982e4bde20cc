"""
Tests for the twistd plugins (C{twisted/plugins/poetry_plugins.py}) and the
services and options behind them (L{poetry._services}), on a fake reactor.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, TypeVar

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IServiceMaker, MultiService
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import capturedLogs
from twisted.plugin import IPlugin, getPlugins
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from poetry import poems
from poetry._services import (
    ProxyOptions,
    ServerOptions,
    TransformOptions,
    make_proxy_service,
    make_server_service,
    make_transform_service,
)
from poetry._values import Address, TransformTarget
from poetry.proxy import DEFAULT_TTL, DEFAULT_UPSTREAM_TIMEOUT, PoetryProxyFactory
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory
from poetry.transform import TransformServerFactory

_O = TypeVar("_O", bound=usage.Options)


def _parse(options: _O, argv: list[str]) -> _O:
    options.parseOptions(argv)
    return options


class PluginTests(SynchronousTestCase):
    """
    The plugin module offers three service makers.
    """

    def test_makers(self) -> None:
        """
        Twisted's plugin system (what C{twistd} uses) finds
        C{poetry-server}, C{poetry-transform} and C{poetry-proxy}; each
        provides L{IServiceMaker} and L{IPlugin}, with a description and its
        options class.
        """
        from twisted import plugins

        makers = {
            maker.tapname: maker
            for maker in getPlugins(IServiceMaker, plugins)
            if maker.tapname.startswith("poetry-")
        }
        self.assertEqual(
            makers.keys(), {"poetry-server", "poetry-transform", "poetry-proxy"}
        )
        for maker in makers.values():
            self.assertTrue(IServiceMaker.providedBy(maker))
            self.assertTrue(IPlugin.providedBy(maker))
            self.assertTrue(maker.description)
        self.assertIs(makers["poetry-server"].options, ServerOptions)
        self.assertIs(makers["poetry-transform"].options, TransformOptions)
        self.assertIs(makers["poetry-proxy"].options, ProxyOptions)


class ServerOptionsTests(SynchronousTestCase):
    """
    C{twistd poetry-server} options are checked before start-up.
    """

    def test_bad(self) -> None:
        """
        An unreadable poem, an unknown poem, a bad port, chunk size or delay
        is a L{usage.UsageError} naming the option.
        """
        missing = str(Path(self.mktemp()) / "missing.txt")
        rows = [
            (["--poem", missing], "--poem: cannot read poem file"),
            (["--poem", "no-such-poem"], "--poem: unknown poem"),
            (["--poem", "cafe", "--port", "tcp:x"], "--port: invalid endpoint"),
            (["--poem", "cafe", "--port", "70000"], "--port: invalid port"),
            (["--poem", "cafe", "--delay", "-1"], "--delay: "),
            (["--poem", "cafe", "--chunk-size", "0"], "--chunk-size: "),
        ]
        for argv, expected in rows:
            with self.assertRaises(usage.UsageError, msg=argv) as caught:
                ServerOptions().parseOptions(argv)
            self.assertIn(expected, str(caught.exception), argv)

    def test_good(self) -> None:
        """
        Values are parsed: the poem is read, a bare port listens on
        127.0.0.1.
        """
        options = _parse(ServerOptions(), ["--poem", "cafe", "--port", "10000"])
        self.assertEqual(options["poem"][0].read(io.BytesIO()), poems.load("cafe"))
        self.assertEqual(options["port"], ["tcp:10000:interface=127.0.0.1"])
        self.assertFalse(options["slow"])
        self.assertEqual((options["chunk-size"], options["delay"]), (10, 0.7))

    def test_defaults(self) -> None:
        """
        Without options, as C{python -m poetry serve}: the lighthouse poem on
        a free port of 127.0.0.1.
        """
        options = _parse(ServerOptions(), [])
        self.assertEqual([source.label for source in options["poem"]], ["lighthouse"])
        self.assertEqual(options["port"], ["tcp:0:interface=127.0.0.1"])


class ServiceTests(SynchronousTestCase):
    """
    The services listen where asked, log the actual address, and stop
    listening when stopped.
    """

    def _start(
        self,
        service: Any,
        memory_reactor: MemoryReactorClock,
        kind: type = StreamServerEndpointService,
    ) -> list[str]:
        self.assertIsInstance(service, kind)
        with capturedLogs() as events:
            service.privilegedStartService()
            service.startService()
            self.assertFalse(
                [e for e in events if "poetry: serving" in e.get("log_format", "")],
                "logged before the reactor runs",
            )
            memory_reactor.run()
        self.addCleanup(service.stopService)
        return [
            event["log_format"].format(**event)
            for event in events
            if "poetry: serving" in event.get("log_format", "")
        ]

    def test_server(self) -> None:
        """
        C{poetry-server} listens with a fast server of the poem and logs
        C{poetry: serving NAME on HOST:PORT}.
        """
        reactor = MemoryReactorClock()
        options = _parse(ServerOptions(), ["--poem", "cafe", "--port", "tcp:10000"])
        logged = self._start(make_server_service(options, reactor), reactor)
        [(port, factory, _, interface)] = reactor.tcpServers
        self.assertEqual((port, interface), (10000, "127.0.0.1"))
        self.assertIsInstance(factory, PoetryServerFactory)
        protocol: Any = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.assertEqual(transport.value(), poems.load("cafe"))
        # MemoryReactor reports 0.0.0.0 whatever the interface.
        self.assertEqual(logged, ["poetry: serving cafe on 0.0.0.0:10000"])

    def test_several_poems(self) -> None:
        """
        As with C{python -m poetry serve}, each C{--poem} is served on its
        C{--port}, each logged; a poem given as C{-} is read from the
        standard input given to L{make_server_service} only then.
        """
        reactor = MemoryReactorClock()
        options = _parse(
            ServerOptions(),
            [
                *("--poem", "cafe", "--port", "tcp:10000"),
                *("--poem", "-", "--port", "tcp:10001"),
            ],
        )
        stdin = io.BytesIO(b"from stdin")
        service = make_server_service(options, reactor, stdin)
        self.assertEqual(stdin.tell(), len(b"from stdin"))
        logged = self._start(service, reactor, MultiService)
        factories: list[Any] = [factory for _, factory, _, _ in reactor.tcpServers]
        served = [factory.poem for factory in factories]
        self.assertEqual(served, [poems.load("cafe"), b"from stdin"])
        self.assertEqual(
            logged,
            [
                "poetry: serving cafe on 0.0.0.0:10000",
                "poetry: serving stdin on 0.0.0.0:10001",
            ],
        )

    def test_help_lists_poems(self) -> None:
        """
        The plugin's help names the bundled poems, as the command line's
        does.
        """
        text = " ".join(str(ServerOptions()).split())
        self.assertIn(f"({', '.join(poems.names())})", text)

    def test_slow_server(self) -> None:
        """
        C{--slow} uses the slow server on the reactor's clock.
        """
        reactor = MemoryReactorClock()
        options = _parse(
            ServerOptions(),
            ["--poem", "cafe", "--slow", "--chunk-size", "3", "--delay", "2"],
        )
        self._start(make_server_service(options, reactor), reactor)
        factory: Any = reactor.tcpServers[0][1]
        self.assertIsInstance(factory, SlowPoetryServerFactory)
        self.assertEqual((factory.chunk_size, factory.delay), (3, 2.0))
        self.assertIs(factory.clock, reactor)

    def test_transform(self) -> None:
        """
        C{poetry-transform} listens with a transform server configured from
        its options.
        """
        reactor = MemoryReactorClock()
        options = _parse(
            TransformOptions(), ["--idle-timeout", "4", "--max-length", "10"]
        )
        logged = self._start(make_transform_service(options, reactor), reactor)
        factory: Any = reactor.tcpServers[0][1]
        self.assertIsInstance(factory, TransformServerFactory)
        self.assertEqual((factory.idle_timeout, factory.max_length), (4.0, 10))
        self.assertEqual(logged, ["poetry: serving transforms on 0.0.0.0:0"])

    def test_transform_bad(self) -> None:
        """
        Bad transform server options are usage errors.
        """
        for argv in [["--idle-timeout", "0"], ["--max-length", "x"], ["--port", "x"]]:
            self.assertRaises(usage.UsageError, TransformOptions().parseOptions, argv)

    def test_proxy(self) -> None:
        """
        C{poetry-proxy} listens with a proxy configured from its options.
        """
        reactor = MemoryReactorClock()
        options = _parse(
            ProxyOptions(),
            [
                *("--upstream", "10000", "--ttl", "5"),
                *("--transform", "h:10001:upper", "--upstream-timeout", "9"),
            ],
        )
        self.assertEqual(options["upstream"], Address("127.0.0.1", 10000))
        self.assertEqual(
            options["transform"], TransformTarget(Address("h", 10001), "upper")
        )
        logged = self._start(make_proxy_service(options, reactor), reactor)
        factory: Any = reactor.tcpServers[0][1]
        self.assertIsInstance(factory, PoetryProxyFactory)
        self.assertEqual(
            (factory.upstream_host, factory.upstream_port), ("127.0.0.1", 10000)
        )
        self.assertEqual(factory.transform, ("h", 10001, "upper"))
        self.assertEqual(factory.cache.ttl, 5.0)
        self.assertEqual(factory.upstream_timeout, 9.0)
        self.assertEqual(
            logged, ["poetry: serving proxy for 127.0.0.1:10000 on 0.0.0.0:0"]
        )

    def test_proxy_defaults(self) -> None:
        """
        C{poetry-proxy} with only C{--upstream}: no transform, and the
        factory's own ttl and upstream timeout.
        """
        reactor = MemoryReactorClock()
        options = _parse(ProxyOptions(), ["--upstream", "poems.example:10000"])
        self.assertEqual(
            (options["ttl"], options["transform"], options["upstream-timeout"]),
            (DEFAULT_TTL, None, DEFAULT_UPSTREAM_TIMEOUT),
        )
        logged = self._start(make_proxy_service(options, reactor), reactor)
        factory: Any = reactor.tcpServers[0][1]
        default = PoetryProxyFactory(MemoryReactorClock(), "h", 1)
        self.assertEqual(
            (factory.upstream_host, factory.upstream_port), ("poems.example", 10000)
        )
        self.assertIsNone(factory.transform)
        self.assertEqual(factory.cache.ttl, default.cache.ttl)
        self.assertEqual(factory.upstream_timeout, default.upstream_timeout)
        self.assertEqual(
            logged, ["poetry: serving proxy for poems.example:10000 on 0.0.0.0:0"]
        )

    def test_proxy_bad(self) -> None:
        """
        A missing or malformed upstream, or a bad ttl or transform, is a
        usage error.
        """
        rows = [
            ([], "--upstream is required"),
            (["--upstream", "x"], "--upstream: malformed address"),
            (["--upstream", "1", "--ttl", "-1"], "--ttl: "),
            (["--upstream", "1", "--transform", "1"], "--transform: "),
            (["--upstream", "1", "--upstream-timeout", "0"], "--upstream-timeout: "),
        ]
        for argv, expected in rows:
            with self.assertRaises(usage.UsageError, msg=argv) as caught:
                ProxyOptions().parseOptions(argv)
            self.assertIn(expected, str(caught.exception), argv)
