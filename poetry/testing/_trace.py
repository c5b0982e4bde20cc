"""
The trace: every event of a L{MemoryNetwork}, recorded cheaply as raw tuples
on the hot path and turned into L{TraceEvent}s only when somebody reads it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from types import MethodType
from typing import Any, NamedTuple

__all__ = [
    "FIELDS",
    "RawEvent",
    "TraceEvent",
    "describe_callable",
    "events_of",
    "format_events",
    "raw_events",
    "summarize_recent",
    "to_event",
]

# A network records its trace flat, five list items per event -- time, kind,
# connection id (or None), side ("client", "server" or "") and argument --
# appended with list.extend((...)): the temporary tuple is freed at once, so
# recording allocates nothing the garbage collector has to track.  The
# argument is None, an int (a byte count) or a str; it is formatted by
# to_event() only when somebody reads the trace.
RawEvent = tuple[float, str, "int | None", str, Any]
FIELDS = 5


class TraceEvent(NamedTuple):
    """
    One event in a network's trace.

    @ivar time: the virtual time (seconds) at which it happened.
    @ivar kind: what happened: C{listen}, C{listen-failed}, C{stop-listening},
        C{connect}, C{accept}, C{refuse}, C{connect-failed}, C{write},
        C{deliver}, C{half-close}, C{close}, C{abort}, C{eof}, C{reset},
        C{drop}, C{connection-lost}, C{pause-reading}, C{resume-reading},
        C{pause-producer}, C{resume-producer}, C{error}, C{timer}, C{fault}
        (an injected fault: see L{poetry.testing.Faults}).
    @ivar connection: the connection id (an L{int}, the same for both sides
        and for the connection attempt that made it), or L{None} for events
        that belong to no connection (listening ports, timers).
    @ivar side: C{"client"} or C{"server"} for events of one side of a
        connection (the side that wrote, received, closed, ...), else C{""}.
    @ivar detail: a human-readable description, e.g. C{"12 bytes"}, the
        addresses, the reason of a lost connection or the timed call.
    """

    time: float
    kind: str
    connection: int | None
    side: str
    detail: str

    def __str__(self) -> str:
        connection = "-" if self.connection is None else f"#{self.connection}"
        text = (
            f"{self.time:14.6f}  {connection:>6}  {self.kind:<16} "
            f"{self.side:<6} {self.detail}"
        )
        return text.rstrip()


_descriptions: dict[object, str] = {}

# The descriptions of bound methods, by the type of their object and then by
# their function: the fast path for the timer events (a timer is usually a
# bound method), two dictionary look-ups and no allocation.
_method_descriptions: dict[type, dict[object, str]] = {}


def describe_callable(func: object) -> str:
    """
    A stable, readable name for a callable (no memory addresses), used for
    timer events and diagnostics: C{"Class.method"} for a bound method, the
    qualified name of a function, C{"LoopingCall(f)"} for a looping call.
    """
    if type(func) is MethodType:
        by_function = _method_descriptions.get(type(func.__self__))
        if by_function is not None:
            known = by_function.get(func.__func__)
            if known is not None:
                return known
    return _describe_callable(func)


def _describe_callable(func: object) -> str:
    if isinstance(func, functools.partial):
        return describe_callable(func.func)
    if type(func).__name__ == "LoopingCall" and hasattr(func, "f"):
        return f"LoopingCall({describe_callable(func.f)})"
    owner = getattr(func, "__self__", None)
    name = getattr(func, "__name__", None)
    key: object
    if owner is not None and name is not None and not isinstance(owner, type):
        if type(owner).__name__ == "LoopingCall" and hasattr(owner, "f"):
            return f"LoopingCall({describe_callable(owner.f)})"
        key = (type(owner), name)
    else:
        key = getattr(func, "__code__", None)
        if key is None:
            return _describe(func, owner, name)
    description = _descriptions.get(key)
    if description is None:
        description = _descriptions[key] = _describe(func, owner, name)
    if isinstance(func, MethodType):
        # Not a LoopingCall's method (handled above): the description
        # depends only on the object's type and the function.
        _method_descriptions.setdefault(type(owner), {})[func.__func__] = description
    return description


def _describe(func: object, owner: object, name: str | None) -> str:
    if owner is not None and name is not None and not isinstance(owner, type):
        return f"{type(owner).__qualname__}.{name}"
    qualname = getattr(func, "__qualname__", None)
    if isinstance(qualname, str):
        return qualname
    return type(func).__qualname__


def _format_argument(kind: str, argument: Any) -> str:
    if argument is None:
        return ""
    if isinstance(argument, int):
        return f"{argument} bytes"
    return str(argument)


def to_event(raw: RawEvent) -> TraceEvent:
    """
    Turn one raw event into a L{TraceEvent}.
    """
    time, kind, connection, side, argument = raw
    return TraceEvent(time, kind, connection, side, _format_argument(kind, argument))


def raw_events(flat: Iterable[Any]) -> list[RawEvent]:
    """
    Split a flat trace into raw event tuples.
    """
    items = list(flat)
    return [
        (items[i], items[i + 1], items[i + 2], items[i + 3], items[i + 4])
        for i in range(0, len(items) - FIELDS + 1, FIELDS)
    ]


def events_of(flat: Iterable[Any]) -> tuple[TraceEvent, ...]:
    """
    The L{TraceEvent}s of a flat trace.
    """
    return tuple(to_event(raw) for raw in raw_events(flat))


def format_events(events: Iterable[TraceEvent]) -> str:
    """
    One line per event, as shown by L{MemoryNetwork.trace_dump}.
    """
    return "\n".join(str(event) for event in events)


def summarize_recent(flat: Iterable[Any], count: int = 1000) -> list[str]:
    """
    The most frequent kinds of event among the last C{count} events of a
    flat trace, as lines like C{"512 x timer Poller.poll"}, most frequent
    first.
    """
    tally: dict[str, int] = {}
    items = flat if isinstance(flat, list) else list(flat)
    for event in raw_events(items[-count * FIELDS :]):
        _, kind, connection, side, argument = event
        if kind == "timer":
            key = f"timer {argument}"
        else:
            where = "" if connection is None else f" on #{connection}"
            key = f"{kind}{where}" + (f" ({side})" if side else "")
        tally[key] = tally.get(key, 0) + 1
    ranked = sorted(tally.items(), key=lambda item: (-item[1], item[0]))
    return [f"{number} x {key}" for key, number in ranked[:5]]
