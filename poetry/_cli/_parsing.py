"""
Parsing of command-line values: addresses, listening endpoints, numbers and
poems.

Every parser is a plain function that returns the parsed value or raises
L{ValueError} with a one-line message meant for the user.  The same
functions back C{argparse} (see L{argument_type}) and the twistd plugins'
C{usage.Options} (which turn the L{ValueError} into a L{usage.UsageError}).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import attrs
from twisted.internet.endpoints import serverFromString
from twisted.internet.testing import MemoryReactor

from poetry import poems

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_LISTEN",
    "Address",
    "PoemSource",
    "TransformTarget",
    "argument_type",
    "parse_address",
    "parse_listen",
    "parse_non_negative_float",
    "parse_poem",
    "parse_positive_float",
    "parse_positive_int",
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

_T = TypeVar("_T")

# A host name (RFC 1123 labels) or a dotted IPv4 address.
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?$")


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
    A poem read from a bundled name, a file or standard input.

    @ivar label: how to refer to it in messages: the bundled name, the file
        path, or C{"stdin"}.
    @ivar poem: its bytes.
    """

    label: str
    poem: bytes


def _port_number(text: str, *, allow_zero: bool) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"invalid port {text!r}: not a number")
    port = int(text)
    lowest = 0 if allow_zero else 1
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
    if text.isascii() and text.isdigit():
        return Address(DEFAULT_HOST, _port_number(text, allow_zero=False))
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
                f"malformed address {text!r}: expected [HOST:]PORT, "
                "e.g. 10000 or localhost:10000"
            )
    try:
        number = _port_number(port, allow_zero=False)
    except ValueError as error:
        raise ValueError(f"malformed address {text!r}: {error}") from None
    return Address(_check_host(host, text), number)


def parse_transform_target(text: str) -> TransformTarget:
    """
    Parse C{[HOST:]PORT:NAME}: the address of a transform server and the
    name of the transform to apply.

    @raise ValueError: if the address is malformed or NAME is empty or
        contains C{.} or white space (a transform request is C{NAME.POEM}).
    """
    address, colon, name = text.rpartition(":")
    if not colon or not address:
        raise ValueError(
            f"malformed transform {text!r}: expected [HOST:]PORT:NAME, "
            "e.g. 10001:cummingsify"
        )
    try:
        name = parse_transform_name(name)
    except ValueError as error:
        raise ValueError(f"malformed transform {text!r}: {error}") from None
    return TransformTarget(parse_address(address), name)


def parse_transform_name(text: str) -> str:
    """
    Check the name of a transform: non-empty ASCII without C{.} (which ends
    the name on the wire) or white space.

    @raise ValueError: if it is not.
    """
    if not text or not text.isascii() or "." in text or any(c.isspace() for c in text):
        raise ValueError(
            f"bad transform name {text!r} (must be non-empty ASCII, "
            "without '.' or spaces)"
        )
    return text


def _split_description(description: str) -> list[str]:
    """
    Split an endpoint description at its unescaped colons, removing the
    escapes, as L{serverFromString} does.
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


def parse_listen(text: str) -> str:
    """
    Parse a C{--port} value into an endpoint description for
    L{serverFromString}.

    A bare number C{N} means C{tcp:N:interface=127.0.0.1}.  Anything else is
    an endpoint description (C{tcp:0}, C{tcp:10000:interface=0.0.0.0},
    C{unix:/tmp/poetry.sock}, ...); a C{tcp} description that names no
    interface gets C{interface=127.0.0.1} (and C{tcp6}, C{::1}), so that
    nothing listens beyond this machine unless asked to.

    @return: the endpoint description to listen on.
    @raise ValueError: if the description is malformed, of an unknown type,
        or gives a TCP port outside 0 to 65535.
    """
    if text.isascii() and text.isdigit():
        return f"tcp:{_port_number(text, allow_zero=True)}:interface={DEFAULT_HOST}"
    parts = _split_description(text)
    kind = parts[0].lower()
    if kind in ("tcp", "tcp6"):
        positional = [part for part in parts[1:] if "=" not in part]
        keywords = dict(part.split("=", 1) for part in parts[1:] if "=" in part)
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
        # Parsing only: nothing listens on this reactor.
        serverFromString(MemoryReactor(), text)
    except Exception as error:
        raise ValueError(f"invalid endpoint {text!r}: {error}") from None
    return text


def parse_poem(text: str) -> PoemSource:
    """
    Read the poem C{text} names: C{-} is standard input; an existing file, or
    anything containing a path separator, is a file path; otherwise it must
    be the name of a bundled poem.

    @raise ValueError: if the file cannot be read or no bundled poem has that
        name.
    """
    if text == "-":
        return PoemSource("stdin", sys.stdin.buffer.read())
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


def argument_type(parse: Callable[[str], _T]) -> Callable[[str], _T]:
    """
    Adapt a parser for C{argparse}: its L{ValueError} message becomes the
    one-line error C{argparse} prints above the usage.
    """

    def convert(text: str) -> _T:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parse.__name__.removeprefix("parse_").replace("_", " ")
    return convert
