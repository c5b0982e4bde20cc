"""
The twistd side of poetry (private): C{twisted.application} services for
the poetry server, the transform server and the caching proxy, and the
C{usage.Options} of their twistd plugins (C{twisted/plugins/poetry_plugins.py}).

The options are built from the option table the command line is built
from (L{poetry._options}): the same names, help, defaults and rules, so
C{twistd poetry-server} takes what C{python -m poetry serve} takes and
refuses what it refuses, as a L{usage.UsageError} (a usage message, not a
traceback).

Each service is a L{StreamServerEndpointService} built by
L{strports.service}; its endpoint is wrapped so that the actual listening
address (with the port a C{0} got) is logged as C{poetry: serving WHAT on
HOST:PORT} once the reactor is running -- when twistd has installed its
signal handlers, so a script that waits for that line may signal at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, Any, TypeVar

from twisted.application import strports
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService, MultiService
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

from poetry._options import (
    PROXY,
    SERVE,
    TRANSFORM_SERVER,
    Command,
    make_proxy_factory,
    make_server_factory,
    make_transform_factory,
    resolve,
)
from poetry._values import Address, PoemSource, format_address

__all__ = [
    "ProxyOptions",
    "ServerOptions",
    "TransformOptions",
    "listening_service",
    "make_proxy_service",
    "make_server_service",
    "make_transform_service",
    "options_for",
]

_log = Logger()
_T = TypeVar("_T")


@implementer(IStreamServerEndpoint)
class _ReportingEndpoint:
    """
    An endpoint that logs where it listens, once it does and the reactor is
    running.
    """

    def __init__(
        self, endpoint: IStreamServerEndpoint, what: str, reactor: IReactorCore
    ) -> None:
        self._endpoint = endpoint
        self._what = what
        self._reactor = reactor

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        def listening(port: IListeningPort) -> IListeningPort:
            address = format_address(port.getHost())
            self._reactor.callWhenRunning(
                _log.info,
                "poetry: serving {what} on {address}",
                what=self._what,
                address=address,
            )
            return port

        return self._endpoint.listen(protocolFactory).addCallback(listening)


def listening_service(
    description: str, factory: IProtocolFactory, reactor: IReactorCore, what: str
) -> StreamServerEndpointService:
    """
    A service listening on the endpoint C{description} with C{factory}, which
    logs C{poetry: serving WHAT on HOST:PORT} once listening and the reactor
    is running.  Failing to listen raises at start-up
    (L{strports.service}'s behaviour).
    """
    service = strports.service(description, factory, reactor)
    service.endpoint = _ReportingEndpoint(service.endpoint, what, reactor)
    return service


def _check(parse: Callable[[str], _T], value: str, option: str) -> _T:
    try:
        return parse(value)
    except ValueError as error:
        raise usage.UsageError(f"--{option}: {error}") from None


def _synopsis(command: Command) -> str:
    parts = []
    for option in command.options:
        shown = (
            f"--{option.name}" if option.flag else f"--{option.name} {option.metavar}"
        )
        if option.repeat:
            shown = f"[{shown}]..."
        elif not option.required:
            shown = f"[{shown}]"
        parts.append(shown)
    return " ".join(parts)


def options_for(command: Command, longdesc: str) -> type[usage.Options]:
    """
    A C{usage.Options} class for C{command}'s twistd plugin: every option of
    the table as C{--NAME} (a positional argument of the command line too),
    each value read by the option's parser in C{postOptions}, then
    L{resolve} -- so every rule the command line enforces is enforced here,
    with the same message after C{--NAME: }.
    """
    flags: list[list[str | None]] = []
    parameters: list[list[str | None]] = []
    namespace: dict[str, Any] = {}
    for option in command.options:
        if option.flag:
            flags.append([option.name, None, option.full_help()])
        elif option.repeat:
            namespace[f"opt_{option.dest}"] = _appender(option.name)
            namespace[f"opt_{option.dest}"].__doc__ = option.full_help()
        else:
            parameters.append([option.name, None, None, option.full_help()])

    def postOptions(self: usage.Options) -> None:
        for option in command.options:
            parse = option.parse
            if parse is None:
                self[option.name] = bool(self[option.name])
            elif option.repeat:
                self[option.name] = [
                    _check(parse, value, option.name)
                    for value in self.get(option.name) or []
                ] or None
            elif self[option.name] is not None:
                self[option.name] = _check(parse, self[option.name], option.name)
        try:
            resolve(command, self)
        except ValueError as error:
            raise usage.UsageError(str(error)) from None

    namespace.update(
        synopsis=_synopsis(command),
        longdesc=longdesc,
        optFlags=flags,
        optParameters=parameters,
        postOptions=postOptions,
        __doc__=f"Options of C{{twistd {command.tapname}}}, from the option "
        f"table's L{{{command.name}<poetry._options>}} command.",
    )
    name = "".join(part.title() for part in (command.tapname or "").split("-"))
    return type(f"{name}Options", (usage.Options,), namespace)


def _appender(name: str) -> Callable[[usage.Options, str], None]:
    def append(self: usage.Options, value: str) -> None:
        self.setdefault(name, [])
        self[name].append(value)

    return append


ServerOptions = options_for(
    SERVE,
    "Serve poems with the poetry protocol (the whole poem, then close): give "
    "--poem once per poem and --port as many times, or not at all. The "
    "actual listening address of each is logged as "
    "'poetry: serving POEM on HOST:PORT'.",
)
"""
Options of C{twistd poetry-server}: those of C{python -m poetry serve}.
"""

TransformOptions = options_for(
    TRANSFORM_SERVER,
    "Serve the transform service (one netstring NAME.POEM in, one out). The "
    "actual listening address is logged as "
    "'poetry: serving transforms on HOST:PORT'.",
)
"""
Options of C{twistd poetry-transform}: those of C{python -m poetry
transform-server}.
"""

ProxyOptions = options_for(
    PROXY,
    "A caching proxy for one poetry server, optionally transforming the "
    "poem. The actual listening address is logged as "
    "'poetry: serving proxy for UPSTREAM on HOST:PORT'.",
)
"""
Options of C{twistd poetry-proxy}: those of C{python -m poetry proxy}, with
the upstream server given as C{--upstream}.
"""


def _listening(
    reactor: IReactorCore, specs: list[tuple[str, str, IProtocolFactory]]
) -> IService:
    """
    One listening service per C{(what, endpoint description, factory)}, in
    one service when there are several.
    """
    services = [
        listening_service(description, factory, reactor, what)
        for what, description, factory in specs
    ]
    if len(services) == 1:
        return services[0]
    parent = MultiService()
    for service in services:
        service.setServiceParent(parent)
    return parent


def make_server_service(
    options: usage.Options, reactor: IReactorCore, stdin: IO[bytes] | None = None
) -> IService:
    """
    The poetry server service for C{twistd poetry-server}: one listening
    service per poem.

    @param stdin: where a poem given as C{-} is read (default: standard
        input).
    """
    stream = sys.stdin.buffer if stdin is None else stdin
    sources: list[PoemSource] = options["poem"]
    clock = IReactorTime(reactor)
    specs = [
        (
            source.label,
            port,
            make_server_factory(
                clock,
                source.read(stream),
                slow=options["slow"],
                chunk_size=options["chunk-size"],
                delay=options["delay"],
            ),
        )
        for source, port in zip(sources, options["port"], strict=True)
    ]
    return _listening(reactor, specs)


def make_transform_service(options: usage.Options, reactor: IReactorCore) -> IService:
    """
    The transform service for C{twistd poetry-transform}.
    """
    factory = make_transform_factory(
        IReactorTime(reactor),
        max_length=options["max-length"],
        idle_timeout=options["idle-timeout"],
    )
    return _listening(
        reactor, [("transforms", port, factory) for port in options["port"]]
    )


def make_proxy_service(options: usage.Options, reactor: IReactorCore) -> IService:
    """
    The caching proxy service for C{twistd poetry-proxy}.
    """
    upstream: Address = options["upstream"]
    factory = make_proxy_factory(
        IReactorTCP(reactor),
        upstream,
        ttl=options["ttl"],
        transform=options["transform"],
        upstream_timeout=options["upstream-timeout"],
    )
    what = f"proxy for {upstream}"
    return _listening(reactor, [(what, port, factory) for port in options["port"]])
