"""
A guard that makes any attempt to create a socket fail the test that made it.

Installed for the whole unit run by C{tests.unit}.  Creating a socket raises
L{SocketForbidden} *and* logs it as an error, so that the test that tried
fails under trial even when the code under test swallows the exception.
"""

from __future__ import annotations

import socket
from typing import Any, NoReturn

from twisted.python import log

__all__ = ["SocketForbidden", "install", "installed", "uninstall"]

_originals: dict[str, Any] = {}


class SocketForbidden(RuntimeError):
    """
    A unit test tried to create a socket.
    """


def _forbid(what: str) -> NoReturn:
    error = SocketForbidden(
        f"unit tests must not open sockets ({what} was called); use "
        "poetry.testing.MemoryNetwork, StringTransport or MemoryReactorClock"
    )
    # Logged so that trial fails the test even if the caller catches it.
    log.err(error, "socket guard")
    raise error


class _GuardedSocket(socket.socket):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _forbid("socket.socket()")


def _guarded_socketpair(*args: Any, **kwargs: Any) -> NoReturn:
    _forbid("socket.socketpair()")


def _guarded_fromfd(*args: Any, **kwargs: Any) -> NoReturn:
    _forbid("socket.fromfd()")


def _guarded_create_connection(*args: Any, **kwargs: Any) -> NoReturn:
    _forbid("socket.create_connection()")


_GUARDS: dict[str, Any] = {
    "socket": _GuardedSocket,
    "socketpair": _guarded_socketpair,
    "fromfd": _guarded_fromfd,
    "create_connection": _guarded_create_connection,
}


def install() -> None:
    """
    Replace the socket constructors with guards.  Idempotent.
    """
    if _originals:
        return
    for name, guard in _GUARDS.items():
        _originals[name] = getattr(socket, name)
        setattr(socket, name, guard)


def uninstall() -> None:
    """
    Restore the socket constructors.
    """
    for name, original in _originals.items():
        setattr(socket, name, original)
    _originals.clear()


def installed() -> bool:
    """
    Whether the guard is in place.
    """
    return bool(_originals)
