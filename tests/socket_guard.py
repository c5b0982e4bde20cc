"""
A guard that makes any attempt to create a socket fail the test that made it.

Installed for the whole unit run by C{tests.unit}.  Creating a socket raises
L{SocketForbidden} *and* logs it as an error, so that the test that tried
fails under trial even when the code under test swallows the exception.

A socket is forbidden when code of the C{tests.unit} package is on the call
stack that creates it -- that is, when a unit test (or its module, at import)
made it, however deep in the code under test.  Sockets made with no unit test
on the stack, such as those the real reactor accepts while an integration
test runs in the same process (C{trial tests}), are let through.
"""

from __future__ import annotations

import socket
import sys
from types import FrameType
from typing import Any, NoReturn

from twisted.python import log

__all__ = ["SocketForbidden", "install", "installed", "uninstall"]

_originals: dict[str, Any] = {}

_UNIT_PACKAGE = "tests.unit"

# The real constructors, kept for the sockets the guard lets through (and for
# guard functions someone took a reference to before an uninstall).
_real: dict[str, Any] = {
    name: getattr(socket, name)
    for name in ("socketpair", "fromfd", "create_connection")
}


class SocketForbidden(RuntimeError):
    """
    A unit test tried to create a socket.
    """


def _made_by_unit_test(frame: FrameType | None) -> bool:
    """
    Whether C{frame} or any frame below it runs code of the unit tests.
    """
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name == _UNIT_PACKAGE or name.startswith(_UNIT_PACKAGE + "."):
            return True
        frame = frame.f_back
    return False


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
        if _made_by_unit_test(sys._getframe(1)):
            _forbid("socket.socket()")
        super().__init__(*args, **kwargs)


def _guarded_socketpair(*args: Any, **kwargs: Any) -> Any:
    if _made_by_unit_test(sys._getframe(1)):
        _forbid("socket.socketpair()")
    return _real["socketpair"](*args, **kwargs)


def _guarded_fromfd(*args: Any, **kwargs: Any) -> Any:
    if _made_by_unit_test(sys._getframe(1)):
        _forbid("socket.fromfd()")
    return _real["fromfd"](*args, **kwargs)


def _guarded_create_connection(*args: Any, **kwargs: Any) -> Any:
    if _made_by_unit_test(sys._getframe(1)):
        _forbid("socket.create_connection()")
    return _real["create_connection"](*args, **kwargs)


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
