"""
The values the command line and the twistd plugins take: addresses to
connect to, endpoints to listen on, poems, numbers and transform names
(private).

Every parser is a plain function that returns the parsed value or raises
L{ValueError} with a one-line message meant for the user.  The option table
(L{poetry._options}) names which parser reads which option; the command
line and the twistd plugins both read their options through it.

Nothing here reads standard input or touches a reactor: C{-} as a poem is
read when the command runs (L{PoemSource.read}), and endpoint descriptions
are checked by building their endpoint against a stand-in that is never
used (L{_ParseOnly}).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import IO, TypeAlias

import attrs
from twisted.internet.endpoints import clientFromString, serverFromString
from twisted.internet.interfaces import IStreamClientEndpoint

from poetry import poems
from poetry._address import describe_address
from poetry.transform import TransformService, check_transform_name

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_LISTEN",
    "Address",
    "Endpoint",
    "PoemSource",
    "Target",
    "TransformTarget",
    "client_endpoint",
    "format_address",
    "parse_address",
    "parse_builtin_transform",
    "parse_listen",
    "parse_non_negative_float",
    "parse_output_dir",
    "parse_poem",
    "parse_positive_float",
    "parse_positive_int",
    "parse_target",
    "parse_transform_name",
    "parse_transform_target",
]

DEFAULT_HOST = "127.0.0.1"
"""
The host used when an address gives only a port, and the interface a server
listens on when C{--port} gives none.
"""

DEFAULT_LISTEN = "tcp:0:interface=127.0.0.1"
"""
Where servers listen when no C{--port} is given: a free port on loopback.
"""

# A host name (RFC 1123 labels) or a dotted IPv4 address.
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_PLUGIN_TYPE = re.compile(r"^[a-z][a-z0-9_-]*$")

# Endpoint types whose client descriptions Twisted itself parses; a text
# starting with one of these and a colon is an endpoint description, never
# HOST:PORT.
_CLIENT_TYPES = frozenset({"tcp", "ssl", "unix"})


class _ParseOnly:
    """
    Stands in for the reactor when an endpoint description is only checked:
    Twisted's endpoints keep their reactor for later and do not use it while
    they are built, so nothing ever listens or connects through this.
    """


@attrs.frozen
class Address:
    """
    A TCP address to connect to.

    @ivar host: a host name, an IPv4 address or an IPv6 address (without
        brackets).
    @ivar port: 1 to 65535.
    """

    host: str
    port: int

    def __str__(self) -> str:
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"


@attrs.frozen
class Endpoint:
    """
    A client endpoint description to connect to, such as
    C{unix:/tmp/poetry.sock} or C{tcp:host=example.org:port=10000}; checked
    by L{twisted.internet.endpoints.clientFromString}.
    """

    description: str

    def __str__(self) -> str:
        return self.description


Target: TypeAlias = "Address | Endpoint"
"""
Where a client connects: C{[HOST:]PORT} or a client endpoint description.
"""


@attrs.frozen
class TransformTarget:
    """
    A transform service and the name of the transform to ask it for.
    """

    address: Address
    name: str

    def __str__(self) -> str:
        return f"{self.address}:{self.name}"


@attrs.frozen
class PoemSource:
    """
    A poem: a bundled one, a file's bytes (both read when the option is
    parsed, so that a bad name or an unreadable file is a usage error), or
    standard input (read only when the command runs, by L{read}).

    @ivar label: how to refer to it in messages: the bundled name, the file
        path, or C{"stdin"}.
    """

    label: str
    _poem: bytes | None = attrs.field(alias="poem")

    @classmethod
    def stdin(cls) -> PoemSource:
        """
        The poem on standard input.
        """
        return cls("stdin", None)

    def read(self, stdin: IO[bytes]) -> bytes:
        """
        The poem's bytes; a standard-input source reads C{stdin} to its end.
        """
        if self._poem is None:
            return stdin.read()
        return self._poem


format_address = describe_address
"""
Show a listening or connected address the way the command line takes it:
C{HOST:PORT}, C{[IPV6]:PORT}, or C{unix:PATH}.
"""


def _port_number(text: str, *, allow_zero: bool) -> int:
    lowest = 0 if allow_zero else 1
    if not text.isascii() or not _INTEGER.match(text):
        raise ValueError(f"invalid port {text!r}: not a number")
    port = int(text)
    if not lowest <= port <= 65535:
        raise ValueError(f"invalid port {text!r}: must be {lowest} to 65535")
    return port


def _check_host(host: str, whole: str) -> str:
    if ":" in host:
        if not _IPV6.match(host):
            raise ValueError(f"malformed address {whole!r}: bad IPv6 address")
    elif not _HOST.match(host):
        raise ValueError(f"malformed address {whole!r}: bad host {host!r}")
    return host


def parse_address(text: str) -> Address:
    """
    Parse C{[HOST:]PORT} into an L{Address}; HOST defaults to
    L{DEFAULT_HOST}.  An IPv6 host is written in brackets: C{[::1]:10000}.

    @raise ValueError: if C{text} is malformed or the port is out of range.
    """
    if text.isascii() and _INTEGER.match(text):
        try:
            return Address(DEFAULT_HOST, _port_number(text, allow_zero=False))
        except ValueError as error:
            raise ValueError(f"malformed address {text!r}: {error}") from None
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":") or not host:
            raise ValueError(
                f"malformed address {text!r}: expected [IPV6]:PORT, e.g. [::1]:10000"
            )
        port = rest[1:]
    else:
        host, colon, port = text.rpartition(":")
        if not colon or not host or ":" in host:
            raise ValueError(
                f"malformed address {text!r}: expected [HOST:]PORT "
                "(e.g. 10000 or localhost:10000) or a client endpoint "
                "description (e.g. unix:/tmp/poetry.sock)"
            )
    try:
        number = _port_number(port, allow_zero=False)
    except ValueError as error:
        raise ValueError(f"malformed address {text!r}: {error}") from None
    return Address(_check_host(host, text), number)


def _split_description(description: str) -> list[str]:
    """
    Split an endpoint description at its unescaped colons, removing the
    escapes, as L{serverFromString} and L{clientFromString} do.
    """
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in description:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _fields(parts: list[str]) -> tuple[list[str], dict[str, str]]:
    positional = [part for part in parts if "=" not in part]
    keywords = dict(part.split("=", 1) for part in parts if "=" in part)
    return positional, keywords


def parse_target(text: str) -> Target:
    """
    Parse where a client connects: C{[HOST:]PORT} (see L{parse_address}), or
    a client endpoint description such as C{unix:/tmp/poetry.sock},
    C{tcp:example.org:10000} or C{tcp:host=::1:port=10000} -- anything
    L{clientFromString} reads, including endpoint types added by plugins.

    @raise ValueError: if C{text} is neither.
    """
    kind = text.partition(":")[0].lower()
    if ":" not in text or kind not in _CLIENT_TYPES:
        try:
            return parse_address(text)
        except ValueError:
            # Perhaps a description of an endpoint type a plugin adds.
            if not _PLUGIN_TYPE.match(kind):
                raise
            try:
                clientFromString(_ParseOnly(), text)
            except Exception:
                pass
            else:
                return Endpoint(text)
            raise
    positional, keywords = _fields(_split_description(text)[1:])
    if kind == "unix" and not keywords.get("path", positional[0] if positional else ""):
        raise ValueError(f"invalid endpoint {text!r}: no path given")
    if kind == "tcp":
        port = keywords.get("port", positional[1] if len(positional) > 1 else None)
        if port is not None:
            try:
                _port_number(port, allow_zero=False)
            except ValueError as error:
                raise ValueError(f"invalid endpoint {text!r}: {error}") from None
    try:
        client_endpoint(_ParseOnly(), Endpoint(text))
    except Exception as error:
        raise ValueError(f"invalid endpoint {text!r}: {_reason(error)}") from None
    return Endpoint(text)


def client_endpoint(reactor: object, target: Endpoint) -> IStreamClientEndpoint:
    """
    The endpoint C{target} describes, connecting through C{reactor}.
    """
    endpoint: IStreamClientEndpoint = clientFromString(reactor, target.description)
    return endpoint


def _reason(error: Exception) -> str:
    text = str(error)
    if isinstance(error, NameError):
        # Twisted's ssl endpoints name pyOpenSSL's classes only when it is
        # installed.
        return "TLS support is not installed (pip install twisted[tls])"
    if isinstance(error, TypeError) and "argument" in text:
        # clientFromString reports a missing field as the endpoint class's
        # TypeError; say it plainly.
        return f"missing or unexpected field ({text.split(') ', 1)[-1]})"
    return text or type(error).__name__


def parse_transform_target(text: str) -> TransformTarget:
    """
    Parse C{[HOST:]PORT:NAME}: the TCP address of a transform server and the
    name of the transform to apply, after the last colon.

    @raise ValueError: if the address is malformed or the name is bad.
    """
    address, colon, name = text.rpartition(":")
    if not colon or not address:
        raise ValueError(
            f"malformed transform {text!r}: expected [HOST:]PORT:NAME, "
            "e.g. 10001:cummingsify"
        )
    try:
        name = check_transform_name(name)
    except ValueError as error:
        raise ValueError(f"malformed transform {text!r}: {error}") from None
    return TransformTarget(parse_address(address), name)


def parse_transform_name(text: str) -> str:
    """
    Check the name of a transform with L{check_transform_name}, the one
    rule for names.

    @raise ValueError: if it breaks the rule.
    """
    return check_transform_name(text)


def parse_builtin_transform(text: str) -> str:
    """
    Check that C{text} names one of the transforms a L{TransformService}
    offers out of the box (what the demo's transform server serves).

    @raise ValueError: if it does not; the message lists them.
    """
    names = TransformService().names()
    if text not in names:
        raise ValueError(
            f"unknown transform {text!r}: the transform server offers "
            f"{', '.join(names)}"
        )
    return text


def parse_listen(text: str) -> str:
    """
    Parse a C{--port} value into an endpoint description for
    L{serverFromString}.

    A bare number C{N} means C{tcp:N:interface=127.0.0.1}.  Anything else is
    a server endpoint description (C{tcp:0}, C{tcp:10000:interface=0.0.0.0},
    C{unix:/tmp/poetry.sock}, ...); a C{tcp} description that names no
    interface gets C{interface=127.0.0.1} (and C{tcp6}, C{::1}), so that
    nothing listens beyond this machine unless asked to.

    @return: the endpoint description to listen on.
    @raise ValueError: if the description is malformed, of an unknown type,
        or gives a TCP port outside 0 to 65535.
    """
    if text.isascii() and _INTEGER.match(text):
        return f"tcp:{_port_number(text, allow_zero=True)}:interface={DEFAULT_HOST}"
    parts = _split_description(text)
    kind = parts[0].lower()
    if kind in ("tcp", "tcp6"):
        positional, keywords = _fields(parts[1:])
        port = keywords.get("port", positional[0] if positional else None)
        if port is None:
            raise ValueError(f"invalid endpoint {text!r}: no port given")
        try:
            _port_number(port, allow_zero=True)
        except ValueError as error:
            raise ValueError(f"invalid endpoint {text!r}: {error}") from None
        # The interface is the second positional field of tcp (PORT:INTERFACE)
        # and the third of tcp6 (PORT:BACKLOG:INTERFACE).
        interface_field = 2 if kind == "tcp" else 3
        if "interface" not in keywords and len(positional) < interface_field:
            text += (
                f":interface={DEFAULT_HOST}" if kind == "tcp" else r":interface=\:\:1"
            )
    try:
        serverFromString(_ParseOnly(), text)
    except Exception as error:
        raise ValueError(f"invalid endpoint {text!r}: {error}") from None
    return text


def parse_poem(text: str) -> PoemSource:
    """
    The poem C{text} names: C{-} is standard input (read when the command
    runs); an existing file, or anything containing a path separator, is a
    file path; otherwise it must be the name of a bundled poem.

    @raise ValueError: if the file cannot be read or no bundled poem has that
        name.
    """
    if text == "-":
        return PoemSource.stdin()
    separators = {os.sep} | ({os.altsep} if os.altsep else set())
    path = Path(text)
    if any(sep in text for sep in separators) or path.exists():
        try:
            return PoemSource(text, path.read_bytes())
        except OSError as error:
            reason = error.strerror or str(error)
            raise ValueError(f"cannot read poem file {text!r}: {reason}") from None
    try:
        return PoemSource(text, poems.load(text))
    except poems.UnknownPoem:
        raise ValueError(
            f"unknown poem {text!r}: neither a file nor a bundled poem "
            f"({', '.join(poems.names())})"
        ) from None


def parse_output_dir(text: str) -> Path:
    """
    A directory to write poems into: it need not exist yet, but must not be
    something other than a directory.

    @raise ValueError: if C{text} names an existing non-directory.
    """
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{text!r} is not a directory")
    return path


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"invalid number {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"invalid number {text!r}: must be finite")
    return value


def parse_non_negative_float(text: str) -> float:
    """
    Parse a finite number of seconds that may be zero.

    @raise ValueError: if C{text} is not a finite number or is negative.
    """
    value = _finite(text)
    if value < 0:
        raise ValueError(f"invalid value {text!r}: must not be negative")
    return value


def parse_positive_float(text: str) -> float:
    """
    Parse a finite number greater than zero.

    @raise ValueError: if C{text} is not a finite number greater than zero.
    """
    value = _finite(text)
    if value <= 0:
        raise ValueError(f"invalid value {text!r}: must be greater than 0")
    return value


def parse_positive_int(text: str) -> int:
    """
    Parse a whole number greater than zero.

    @raise ValueError: if C{text} is not a whole number greater than zero.
    """
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"invalid whole number {text!r}") from None
    if value < 1:
        raise ValueError(f"invalid value {text!r}: must be at least 1")
    return value
