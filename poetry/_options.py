"""
The one table of options (private): every option of every command -- its
name, help, parser, default and the rules between options -- from which
both the command line's C{argparse} parsers (L{poetry._cli}) and the twistd
plugins' C{usage.Options} (L{poetry._services}) are built.

A default is written as text and read by the option's own parser, exactly
as if the user had typed it, so a default can never break a rule the user
is held to.  L{resolve} fills the defaults and applies the rules between
options; both front ends call it, and both report its L{ValueError} as a
usage error.  What the options build (the server, transform and proxy
factories) is here too, so that a twistd plugin and the command line serve
the same thing from the same options.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import attrs
from twisted.internet.interfaces import IProtocolFactory, IReactorTCP, IReactorTime

from poetry import poems
from poetry._values import (
    DEFAULT_LISTEN,
    Address,
    TransformTarget,
    parse_address,
    parse_builtin_transform,
    parse_listen,
    parse_non_negative_float,
    parse_output_dir,
    parse_poem,
    parse_positive_float,
    parse_positive_int,
    parse_target,
    parse_transform_name,
    parse_transform_target,
)
from poetry.proxy import DEFAULT_TTL, DEFAULT_UPSTREAM_TIMEOUT, PoetryProxyFactory
from poetry.server import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_DELAY,
    PoetryServerFactory,
    SlowPoetryServerFactory,
)
from poetry.transform import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_LENGTH,
    TransformServerFactory,
    TransformService,
)

__all__ = [
    "COMMANDS",
    "DEMO",
    "GET",
    "PROXY",
    "SERVE",
    "TRANSFORM",
    "TRANSFORM_SERVER",
    "Command",
    "Option",
    "make_proxy_factory",
    "make_server_factory",
    "make_transform_factory",
    "resolve",
]

Values = MutableMapping[str, Any]
"""
Parsed option values by option name (C{"chunk-size"}); L{None} (or
C{False} for a flag) for an option not given.
"""

Rule = Callable[[Values, frozenset[str]], None]
"""
A rule between options: given the values (defaults filled in) and the
names of the options the user gave, raise L{ValueError} if they break it,
or complete the values.
"""


@attrs.frozen
class Option:
    """
    One option of a command.

    @ivar name: the long name, without dashes (C{"chunk-size"}).
    @ivar help: what it does, for both help screens.
    @ivar parse: reads one value (see L{poetry._values}); L{None} for a flag.
    @ivar metavar: how the help names its value.
    @ivar default: the default as the user would type it, read by C{parse};
        L{None} for no default.
    @ivar shown_default: how the help shows the default, if not C{default}.
    @ivar short: a one-letter alias on the command line.
    @ivar repeat: may be given several times; the value is a list.
    @ivar required: must be given.
    @ivar positional: on the command line, a positional argument instead of
        an option; the twistd plugins always take C{--NAME VALUE}.
    @ivar nargs: for a positional argument: L{None} for exactly one, C{"?"}
        for an optional one, C{"+"} for one or more.
    """

    name: str
    help: str
    parse: Callable[[str], Any] | None = None
    metavar: str = ""
    default: str | None = None
    shown_default: str | None = None
    short: str | None = None
    repeat: bool = False
    required: bool = False
    positional: bool = False
    nargs: str | None = None

    @property
    def flag(self) -> bool:
        """
        Whether the option takes no value.
        """
        return self.parse is None

    @property
    def dest(self) -> str:
        """
        The attribute name C{argparse} stores the value under.
        """
        return self.name.replace("-", "_")

    def full_help(self) -> str:
        """
        The help, with the default when there is one.
        """
        shown = self.shown_default if self.shown_default is not None else self.default
        return self.help if shown is None else f"{self.help} (default: {shown})"


@attrs.frozen
class Command:
    """
    A command: its options and the rules between them.

    @ivar name: the command line's name for it.
    @ivar help: one line, for the list of commands.
    @ivar options: in the order the help shows them.
    @ivar rules: applied by L{resolve}, in order.
    @ivar tapname: the name of the twistd plugin offering the same
        command, if any.
    """

    name: str
    help: str
    options: tuple[Option, ...]
    rules: tuple[Rule, ...] = ()
    tapname: str | None = None

    def option(self, name: str) -> Option:
        """
        The option called C{name}.

        @raise KeyError: if there is none.
        """
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)


def resolve(command: Command, values: Values) -> None:
    """
    Complete parsed option values in place: check that required options are
    given, fill in the defaults (read by each option's parser), then apply
    the command's rules.

    @param values: a value for every option of C{command}: parsed (a list of
        them for a repeated option), or L{None} (C{False} for a flag) when
        not given.
    @raise ValueError: with a one-line message for the user, if a rule is
        broken.
    """
    given = frozenset(
        option.name for option in command.options if _given(values.get(option.name))
    )
    for option in command.options:
        if option.required and option.name not in given:
            raise ValueError(f"--{option.name} is required: {option.help}")
        if option.name in given:
            continue
        if option.flag:
            values[option.name] = False
        elif option.default is None:
            values[option.name] = [] if option.repeat else None
        else:
            assert option.parse is not None
            default = option.parse(option.default)
            values[option.name] = [default] if option.repeat else default
    for rule in command.rules:
        rule(values, given)


def _given(value: object) -> bool:
    # By identity: 0 and 0.0 are given values, though equal to False.
    return not (value is None or value is False or value == [])


# The options the commands share.

_PORT_HELP = (
    "a port number (on 127.0.0.1) or a server endpoint description such as "
    "tcp:0, tcp:10000:interface=0.0.0.0 or unix:/tmp/poetry.sock; "
    "may be repeated"
)


def _listen_option(default: str | None, shown: str) -> Option:
    return Option(
        "port",
        _PORT_HELP,
        parse_listen,
        metavar="PORT",
        default=default,
        shown_default=shown,
        repeat=True,
    )


def _poem_help(what: str) -> str:
    return (
        f"{what}: a bundled poem ({', '.join(poems.names())}), a file path, "
        "or - for standard input"
    )


_SLOW_OPTIONS = (
    Option(
        "slow",
        "send each poem a chunk at a time (see --chunk-size, --delay)",
    ),
    Option(
        "chunk-size",
        "with --slow: bytes per chunk",
        parse_positive_int,
        metavar="N",
        default=str(DEFAULT_CHUNK_SIZE),
    ),
    Option(
        "delay",
        "with --slow: seconds between chunks",
        parse_non_negative_float,
        metavar="SECONDS",
        default=f"{DEFAULT_DELAY:g}",
    ),
)


def _slow_needs_slow(values: Values, given: frozenset[str]) -> None:
    if not values["slow"] and given & {"chunk-size", "delay"}:
        raise ValueError("--chunk-size and --delay need --slow")


def _one_port_per_poem(values: Values, given: frozenset[str]) -> None:
    count = len(values["poem"])
    if "port" not in given:
        values["port"] = [parse_listen(DEFAULT_LISTEN)] * count
    elif len(values["port"]) != count:
        raise ValueError(
            f"{len(values['port'])} --port for {count} --poem: give one "
            "--port per --poem, or none to use a free port for each"
        )


SERVE = Command(
    "serve",
    "serve poems (fast, or slowly with --slow)",
    (
        Option(
            "poem",
            _poem_help("a poem to serve; repeat to serve several"),
            parse_poem,
            metavar="POEM",
            default="lighthouse",
            repeat=True,
        ),
        _listen_option(None, "a free port of 127.0.0.1 for each poem"),
        *_SLOW_OPTIONS,
    ),
    (_slow_needs_slow, _one_port_per_poem),
    tapname="poetry-server",
)

TRANSFORM_SERVER = Command(
    "transform-server",
    "serve the transform service",
    (
        _listen_option(DEFAULT_LISTEN, "a free port of 127.0.0.1"),
        Option(
            "idle-timeout",
            "close a connection that has not sent a whole request after this "
            "many seconds",
            parse_positive_float,
            metavar="SECONDS",
            default=f"{DEFAULT_IDLE_TIMEOUT:g}",
        ),
        Option(
            "max-length",
            "the longest request (NAME.POEM) accepted, in bytes",
            parse_positive_int,
            metavar="BYTES",
            default=str(DEFAULT_MAX_LENGTH),
        ),
    ),
    tapname="poetry-transform",
)

PROXY = Command(
    "proxy",
    "a caching proxy for a poetry server",
    (
        Option(
            "upstream",
            "[HOST:]PORT of the poetry server to proxy",
            parse_address,
            metavar="UPSTREAM",
            required=True,
            positional=True,
        ),
        _listen_option(DEFAULT_LISTEN, "a free port of 127.0.0.1"),
        Option(
            "ttl",
            "serve a fetched poem from the cache for this many seconds; 0 "
            "disables caching",
            parse_non_negative_float,
            metavar="SECONDS",
            default=f"{DEFAULT_TTL:g}",
        ),
        Option(
            "transform",
            "pass the poem through the transform NAME of the transform server "
            "at [HOST:]PORT, e.g. 10001:cummingsify",
            parse_transform_target,
            metavar="[HOST:]PORT:NAME",
        ),
        Option(
            "upstream-timeout",
            "give up on an upstream fetch after this many seconds",
            parse_positive_float,
            metavar="SECONDS",
            default=f"{DEFAULT_UPSTREAM_TIMEOUT:g}",
        ),
    ),
    tapname="poetry-proxy",
)

GET = Command(
    "get",
    "fetch poems from poetry servers",
    (
        Option(
            "addresses",
            "[HOST:]PORT of a poetry server, or a client endpoint description "
            "such as unix:/tmp/poetry.sock",
            parse_target,
            metavar="ADDRESS",
            positional=True,
            nargs="+",
        ),
        Option(
            "timeout",
            "give up on a server whose poem is not complete after this many seconds",
            parse_positive_float,
            metavar="SECONDS",
            shown_default="wait as long as it takes",
        ),
        Option(
            "output",
            "write each poem to DIR/HOST_PORT.txt (DIR is created if needed) "
            "instead of standard output",
            parse_output_dir,
            metavar="DIR",
            short="o",
        ),
    ),
)

TRANSFORM = Command(
    "transform",
    "transform a poem with a transform server",
    (
        Option(
            "address",
            "[HOST:]PORT of the transform server, or a client endpoint description",
            parse_target,
            metavar="ADDRESS",
            positional=True,
        ),
        Option(
            "name",
            "the transform, e.g. cummingsify",
            parse_transform_name,
            metavar="NAME",
            positional=True,
        ),
        Option(
            "poem",
            _poem_help("the poem to transform"),
            parse_poem,
            metavar="POEM",
            default="-",
            shown_default="- (standard input)",
            positional=True,
            nargs="?",
        ),
        Option(
            "timeout",
            "give up after this many seconds",
            parse_positive_float,
            metavar="SECONDS",
            shown_default="wait as long as it takes",
        ),
    ),
)

DEMO_CHUNK_SIZE = 20
DEMO_DELAY = 0.1

DEMO = Command(
    "demo",
    "run the whole poetry system in one process (no flags needed)",
    (
        Option(
            "poem",
            _poem_help("the poem the slow server serves"),
            parse_poem,
            metavar="POEM",
            default="lighthouse",
        ),
        Option(
            "chunk-size",
            "bytes per chunk of the slow server",
            parse_positive_int,
            metavar="N",
            default=str(DEMO_CHUNK_SIZE),
        ),
        Option(
            "delay",
            "seconds between chunks",
            parse_non_negative_float,
            metavar="SECONDS",
            default=f"{DEMO_DELAY:g}",
        ),
        Option(
            "clients",
            "concurrent fetches through the proxy",
            parse_positive_int,
            metavar="N",
            default="3",
        ),
        Option(
            "transform",
            "the transform the proxy applies: " + ", ".join(TransformService().names()),
            parse_builtin_transform,
            metavar="NAME",
            default="cummingsify",
        ),
        Option(
            "timeout",
            "give up on a fetch after this many seconds",
            parse_positive_float,
            metavar="SECONDS",
            default="60",
        ),
    ),
)

COMMANDS = (SERVE, GET, TRANSFORM_SERVER, TRANSFORM, PROXY, DEMO)
"""
Every command, in the order the command line lists them.
"""


# What the options build.


def make_server_factory(
    clock: IReactorTime, poem: bytes, *, slow: bool, chunk_size: int, delay: float
) -> IProtocolFactory:
    """
    The poetry server of C{serve} and C{twistd poetry-server}: fast, or slow
    on C{clock}.
    """
    if slow:
        return SlowPoetryServerFactory(poem, clock, chunk_size, delay)
    return PoetryServerFactory(poem)


def make_transform_factory(
    clock: IReactorTime, *, max_length: int, idle_timeout: float
) -> IProtocolFactory:
    """
    The transform server of C{transform-server} and C{twistd
    poetry-transform}.
    """
    return TransformServerFactory(
        TransformService(), clock, max_length=max_length, idle_timeout=idle_timeout
    )


def make_proxy_factory(
    reactor: IReactorTCP,
    upstream: Address,
    *,
    ttl: float,
    transform: TransformTarget | None,
    upstream_timeout: float,
) -> PoetryProxyFactory:
    """
    The caching proxy of C{proxy} and C{twistd poetry-proxy}.
    """
    return PoetryProxyFactory(
        reactor,
        upstream.host,
        upstream.port,
        ttl=ttl,
        transform=(
            None
            if transform is None
            else (transform.address.host, transform.address.port, transform.name)
        ),
        upstream_timeout=upstream_timeout,
    )
