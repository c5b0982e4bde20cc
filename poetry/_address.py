"""
How addresses are written for people (private): in log events, error
messages and start-up lines alike, the way the command line takes them.
"""

from __future__ import annotations

import os

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.interfaces import IAddress

__all__ = ["describe_address", "describe_bytes"]


def describe_address(address: IAddress | None) -> str:
    """
    C{HOST:PORT}, C{[IPV6]:PORT} or C{unix:PATH} (C{unix:} alone for an
    unnamed socket); any other address as it prints; C{(unknown)} for
    L{None}.
    """
    if address is None:
        return "(unknown)"
    if isinstance(address, IPv6Address):
        return f"[{address.host}]:{address.port}"
    if isinstance(address, IPv4Address):
        return f"{address.host}:{address.port}"
    if isinstance(address, UNIXAddress):
        name = address.name
        return "unix:" + ("" if not name else os.fsdecode(name))
    return str(address)


def describe_bytes(data: bytes, limit: int) -> str:
    """
    Bytes from the network shown as quoted text: C{'nosuch'}, not
    C{b'nosuch'}; anything but printable ASCII escaped; cut after C{limit}
    bytes, with C{...}.
    """
    shown = repr(data[:limit])[1:]
    return shown + "..." if len(data) > limit else shown
