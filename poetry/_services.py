"""
The twistd side of poetry (private): C{twisted.application} services for
the poetry server, the transform server and the caching proxy, and the
C{usage.Options} of their twistd plugins (C{twisted/plugins/poetry_plugins.py}).

Each service is a L{StreamServerEndpointService} built by
L{strports.service}; its endpoint is wrapped so that the actual listening
address (with the port a C{0} got) is logged once listening, as
C{poetry: serving WHAT on HOST:PORT}.  Options are checked in
C{postOptions} with the command line's own parsers, so a bad value is a
L{usage.UsageError} (a usage message, not a traceback).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

from twisted.application import strports
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorCore,
    IReactorTCP,
    IReactorTime,
    IStreamServerEndpoint,
)
from twisted.logger import Logger
from twisted.python import usage
from zope.interface import implementer

from poetry._cli._context import format_address
from poetry._cli._parsing import (
    DEFAULT_LISTEN,
    Address,
    PoemSource,
    parse_address,
    parse_listen,
    parse_non_negative_float,
    parse_poem,
    parse_positive_float,
    parse_positive_int,
    parse_transform_target,
)

__all__ = [
    "ProxyOptions",
    "ServerOptions",
    "TransformOptions",
    "listening_service",
    "make_proxy_service",
    "make_server_service",
    "make_transform_service",
]

_log = Logger()
_T = TypeVar("_T")


@implementer(IStreamServerEndpoint)
class _ReportingEndpoint:
    """
    An endpoint that logs where it listens, once it does.
    """

    def __init__(self, endpoint: IStreamServerEndpoint, what: str) -> None:
        self._endpoint = endpoint
        self._what = what

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        def listening(port: IListeningPort) -> IListeningPort:
            _log.info(
                "poetry: serving {what} on {address}",
                what=self._what,
                address=format_address(port.getHost()),
            )
            return port

        return self._endpoint.listen(protocolFactory).addCallback(listening)


def listening_service(
    description: str, factory: IProtocolFactory, reactor: IReactorCore, what: str
) -> StreamServerEndpointService:
    """
    A service listening on the endpoint C{description} with C{factory}, which
    logs C{poetry: serving WHAT on HOST:PORT} once listening.  Failing to
    listen raises at start-up (L{strports.service}'s behaviour).
    """
    service = strports.service(description, factory, reactor)
    service.endpoint = _ReportingEndpoint(service.endpoint, what)
    return service


def _check(parse: Callable[[str], _T], value: str, option: str) -> _T:
    try:
        return parse(value)
    except ValueError as error:
        raise usage.UsageError(f"--{option}: {error}") from None


_PORT_HELP = (
    "a port number (on 127.0.0.1) or an endpoint description such as tcp:0 or "
    "tcp:10000:interface=0.0.0.0"
)


class ServerOptions(usage.Options):
    """
    Options of C{twistd poetry-server}.
    """

    synopsis = "--poem POEM [--port PORT] [--slow [--chunk-size N] [--delay SECONDS]]"
    longdesc = (
        "Serve a poem with the poetry protocol (the whole poem, then close). "
        "The actual listening address is logged as "
        "'poetry: serving POEM on HOST:PORT'."
    )
    optFlags: ClassVar[list[list[str | None]]] = [
        ["slow", None, "send the poem a chunk at a time"]
    ]
    optParameters: ClassVar[list[list[str | None]]] = [
        ["port", None, DEFAULT_LISTEN, _PORT_HELP],
        ["poem", None, None, "a bundled poem's name or a file path (required)"],
        ["chunk-size", None, "10", "with --slow: bytes per chunk"],
        ["delay", None, "0.7", "with --slow: seconds between chunks"],
    ]

    def postOptions(self) -> None:
        if self["poem"] is None:
            raise usage.UsageError(
                "--poem is required: a bundled poem's name or a file path"
            )
        self["poem"] = _check(parse_poem, self["poem"], "poem")
        self["port"] = _check(parse_listen, self["port"], "port")
        self["chunk-size"] = _check(
            parse_positive_int, self["chunk-size"], "chunk-size"
        )
        self["delay"] = _check(parse_non_negative_float, self["delay"], "delay")


def make_server_service(options: ServerOptions, reactor: IReactorCore) -> IService:
    """
    The poetry server service for C{twistd poetry-server}.
    """
    from poetry._cli._serve import make_factory

    source: PoemSource = options["poem"]
    factory = make_factory(
        IReactorTime(reactor),
        source.poem,
        slow=bool(options["slow"]),
        chunk_size=options["chunk-size"],
        delay=options["delay"],
    )
    return listening_service(options["port"], factory, reactor, source.label)


class TransformOptions(usage.Options):
    """
    Options of C{twistd poetry-transform}.
    """

    synopsis = "[--port PORT] [--idle-timeout SECONDS] [--max-length BYTES]"
    longdesc = (
        "Serve the transform service (one netstring NAME.POEM in, one out). "
        "The actual listening address is logged as "
        "'poetry: serving transforms on HOST:PORT'."
    )
    optParameters: ClassVar[list[list[str | None]]] = [
        ["port", None, DEFAULT_LISTEN, _PORT_HELP],
        ["idle-timeout", None, "30", "seconds a client may take to send a request"],
        ["max-length", None, "99999", "the longest request accepted, in bytes"],
    ]

    def postOptions(self) -> None:
        self["port"] = _check(parse_listen, self["port"], "port")
        self["idle-timeout"] = _check(
            parse_positive_float, self["idle-timeout"], "idle-timeout"
        )
        self["max-length"] = _check(
            parse_positive_int, self["max-length"], "max-length"
        )


def make_transform_service(
    options: TransformOptions, reactor: IReactorCore
) -> IService:
    """
    The transform service for C{twistd poetry-transform}.
    """
    from poetry.transform import TransformServerFactory, TransformService

    factory = TransformServerFactory(
        TransformService(),
        IReactorTime(reactor),
        max_length=options["max-length"],
        idle_timeout=options["idle-timeout"],
    )
    return listening_service(options["port"], factory, reactor, "transforms")


class ProxyOptions(usage.Options):
    """
    Options of C{twistd poetry-proxy}.
    """

    synopsis = (
        "--upstream [HOST:]PORT [--port PORT] [--ttl SECONDS] "
        "[--transform [HOST:]PORT:NAME] [--upstream-timeout SECONDS]"
    )
    longdesc = (
        "A caching proxy for one poetry server, optionally transforming the "
        "poem. The actual listening address is logged as "
        "'poetry: serving proxy for UPSTREAM on HOST:PORT'."
    )
    optParameters: ClassVar[list[list[str | None]]] = [
        ["upstream", None, None, "[HOST:]PORT of the poetry server (required)"],
        ["port", None, DEFAULT_LISTEN, _PORT_HELP],
        ["ttl", None, None, "seconds a poem stays cached; 0 disables (default 300)"],
        ["transform", None, None, "[HOST:]PORT:NAME of a transform to apply"],
        ["upstream-timeout", None, None, "seconds allowed per upstream fetch (30)"],
    ]

    def postOptions(self) -> None:
        if self["upstream"] is None:
            raise usage.UsageError("--upstream is required: [HOST:]PORT")
        self["upstream"] = _check(parse_address, self["upstream"], "upstream")
        self["port"] = _check(parse_listen, self["port"], "port")
        if self["ttl"] is not None:
            self["ttl"] = _check(parse_non_negative_float, self["ttl"], "ttl")
        if self["transform"] is not None:
            self["transform"] = _check(
                parse_transform_target, self["transform"], "transform"
            )
        if self["upstream-timeout"] is not None:
            self["upstream-timeout"] = _check(
                parse_positive_float, self["upstream-timeout"], "upstream-timeout"
            )


def make_proxy_service(options: ProxyOptions, reactor: IReactorCore) -> IService:
    """
    The caching proxy service for C{twistd poetry-proxy}.
    """
    from poetry._cli._proxy import make_factory

    upstream: Address = options["upstream"]
    factory = make_factory(
        IReactorTCP(reactor),
        upstream,
        ttl=options["ttl"],
        transform=options["transform"],
        upstream_timeout=options["upstream-timeout"],
    )
    return listening_service(options["port"], factory, reactor, f"proxy for {upstream}")
