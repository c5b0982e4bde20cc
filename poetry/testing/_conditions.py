"""
Link conditions: how a direction of a connection delivers its bytes --
in what pieces (I{chunking}) and when (I{latency}, I{jitter}, I{bandwidth}).

A L{LinkConditions} applies to one direction of a connection (see
L{MemoryNetwork.set_default_link} and its siblings for where conditions come
from and which setting wins).  Without any, a connection's links are plain:
loopback TCP, where what a socket sends arrives at once, without virtual
time passing -- and costs nothing extra.

Sends and reads
===============
A transport's protocol writes into the transport's buffer; in the
transport's next dispatch the buffer goes to the kernel socket as one
I{send} (the writes of one callback are one send, at most 128 KiB).  The
receiving transport reads once per dispatch, at most 64 KiB (its
C{bufferSize}).  Conditions act on sends and on reads, never on the
protocol's writes themselves.

Chunking policies
=================
A policy decides what each C{dataReceived} of the receiving protocol gets.
It works in two places:

  1. when a send enters the link, L{ChunkingPolicy.segment} may cut it into
     I{segments}; each segment travels on its own (with latency, jitter and
     bandwidth, each segment gets its own arrival time);
  2. when the receiver reads, a I{merging} policy (L{ChunkingPolicy.merges})
     takes every segment that has arrived -- possibly from several sends --
     up to the read's 64 KiB and L{ChunkingPolicy.piece_limit} bytes; a
     policy that does not merge takes one segment per read, and a transport
     reads once per step.  A piece never waits for bytes that have not
     arrived, and never crosses a C{FIN} or C{RST}.

The policies (all immutable; stream offsets count the bytes of one direction
from 0):

  - L{Whole} (L{WHOLE}), the default: loopback TCP -- a send travels whole,
    and a read takes everything that has arrived (so the writes of one
    callback arrive in one C{dataReceived}, and sends that arrived while the
    reader was busy or paused are read together);
  - L{FixedSize}C{(n)}: each send is cut into pieces of C{n} bytes, the last
    one shorter, one piece per C{dataReceived}; pieces never span sends;
    L{ONE_BYTE} is C{FixedSize(1)};
  - L{RandomSizes}C{(low, high)}: each send is cut into pieces whose sizes
    are drawn with C{net.random.randint(low, high)}, the last one cut short,
    one piece per C{dataReceived}; pieces never span sends;
  - L{Coalesce}C{(max_size=None)}: as L{WHOLE}, everything that has arrived
    and is unread is delivered in one C{dataReceived} -- at most
    C{max_size} bytes, if given (a longer send is then delivered in
    C{max_size} pieces);
  - L{SplitAt}C{(offsets)}: the stream is cut at exactly these offsets: each
    send is cut where an offset falls inside it, and a read joins the pieces
    that have arrived up to the next offset.  With the message written at
    once, the receiver gets exactly C{message[:k1]}, C{message[k1:k2]},
    ...; used by L{every_split}.

Timing
======
For each segment of C{n} bytes sent at virtual time C{t} (in order):

  - with C{bandwidth} (bytes per virtual second), it occupies the link for
    C{n / bandwidth} seconds, starting when the link is free:
    C{sent = max(t, link_free) + n / bandwidth}, and the link is free again
    at C{sent}; without bandwidth, C{sent = t};
  - it arrives at C{max(sent + latency + jitter_sample, previous_arrival)},
    where C{jitter_sample} is C{net.random.uniform(0, jitter)} (drawn only
    if C{jitter} is not 0): jitter never reorders the bytes of a direction;
  - a C{FIN} or C{RST} takes no link time; it arrives after C{latency} (plus
    jitter), never before the bytes sent before it.

Bytes in flight count against the receiver's receive queue, so a slow link
back-pressures the sender as a full queue does.  A connection attempt
completes (or is refused) one client-to-server C{latency} (plus jitter)
after it starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from random import Random
from typing import Any

import attrs

__all__ = [
    "CLIENT_TO_SERVER",
    "DIRECTIONS",
    "ONE_BYTE",
    "PLAIN",
    "SERVER_TO_CLIENT",
    "WHOLE",
    "ChunkingPolicy",
    "Coalesce",
    "FixedSize",
    "LinkConditions",
    "RandomSizes",
    "SplitAt",
    "Whole",
    "directions_of",
]

CLIENT_TO_SERVER = "client->server"
"""
The direction of the bytes the client end writes.
"""

SERVER_TO_CLIENT = "server->client"
"""
The direction of the bytes the server end writes.
"""

DIRECTIONS = (CLIENT_TO_SERVER, SERVER_TO_CLIENT)


def directions_of(direction: str | None) -> tuple[str, ...]:
    """
    The directions C{direction} names: both for L{None}.

    @raise ValueError: for anything but L{None}, L{CLIENT_TO_SERVER} or
        L{SERVER_TO_CLIENT}.
    """
    if direction is None:
        return DIRECTIONS
    if direction not in DIRECTIONS:
        raise ValueError(
            f"direction must be {CLIENT_TO_SERVER!r}, {SERVER_TO_CLIENT!r} or "
            f"None (both), not {direction!r}"
        )
    return (direction,)


def store_conditions(
    settings: dict[Any, Any], key: object, value: object, kind: type, what: str
) -> None:
    """
    Set C{settings[key]} to C{value}, or remove it for L{None}.

    @param kind: the type C{value} must have (unless L{None}).
    @param what: what C{value} is, for the error.
    @raise TypeError: if C{value} is neither L{None} nor a C{kind}.
    """
    if value is None:
        settings.pop(key, None)
    elif isinstance(value, kind):
        settings[key] = value
    else:
        raise TypeError(f"{what} must be {kind.__name__} or None, not {value!r}")


class ChunkingPolicy:
    """
    Base class of chunking policies (see the module docstring).  Subclasses
    override L{segment} and, if they merge, set L{merges} and override
    L{piece_limit}.  A policy must take every random choice from the
    C{random} it is given (the network's seeded generator).

    @cvar merges: whether a read takes every arrived segment (so a piece may
        span sends) rather than one.
    """

    merges = False

    def segment(self, size: int, offset: int, random: Random) -> list[int] | None:
        """
        Cut a send into segments.

        @param size: the length of the send (at least 1).
        @param offset: the stream offset of its first byte.
        @param random: the network's seeded generator.
        @return: the segment sizes (positive, adding up to C{size}), or
            L{None} for one segment.
        """
        return None

    def piece_limit(self, offset: int) -> int | None:
        """
        For a merging policy: the most bytes the next C{dataReceived} may
        carry, given the stream offset of its first byte.

        @return: a positive limit, or L{None} for no limit.
        """
        return None


@attrs.frozen
class Whole(ChunkingPolicy):
    """
    As loopback TCP (the default): what the sender's kernel sends travels
    whole, and one read takes everything that has arrived, up to the
    reader's buffer size.
    """

    merges = True


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be an int >= 1, not {value!r}")


@attrs.frozen
class FixedSize(ChunkingPolicy):
    """
    Each send is cut into pieces of C{size} bytes, the last one shorter, one
    piece per read; pieces never span sends.
    """

    size: int = attrs.field(validator=_positive)

    def segment(self, size: int, offset: int, random: Random) -> list[int] | None:
        step = self.size
        if size <= step:
            return None
        whole, rest = divmod(size, step)
        sizes = [step] * whole
        if rest:
            sizes.append(rest)
        return sizes


@attrs.frozen
class RandomSizes(ChunkingPolicy):
    """
    Each send is cut into pieces of random sizes in C{[low, high]} (drawn
    from the network's seeded generator, one draw per piece), the last piece
    cut short, one piece per read; pieces never span sends.
    """

    low: int = attrs.field(validator=_positive)
    high: int = attrs.field(validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.high < self.low:
            raise ValueError(
                f"RandomSizes needs low <= high, not low={self.low}, high={self.high}"
            )

    def segment(self, size: int, offset: int, random: Random) -> list[int] | None:
        sizes: list[int] = []
        left = size
        low, high = self.low, self.high
        while left:
            piece = random.randint(low, high)
            if piece >= left:
                piece = left
            sizes.append(piece)
            left -= piece
        return sizes


@attrs.frozen
class Coalesce(ChunkingPolicy):
    """
    Deliver everything that has arrived and is unread in one
    C{dataReceived} (consecutive sends merged, as L{Whole}), at most
    C{max_size} bytes at a time if given.
    """

    max_size: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_positive)
    )

    merges = True

    def piece_limit(self, offset: int) -> int | None:
        return self.max_size


def _offsets(values: Iterable[int]) -> tuple[int, ...]:
    offsets = tuple(sorted(set(values)))
    for value in offsets:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"split offsets must be ints >= 1, not {value!r}")
    return offsets


@attrs.frozen
class SplitAt(ChunkingPolicy):
    """
    Cut the stream at exactly C{offsets} (stream offsets, sorted, each at
    least 1): a send is cut where an offset falls inside it, and pieces
    that have arrived are joined up to the next offset (everything after
    the last one is joined).  A piece never waits for bytes not yet sent.
    """

    offsets: tuple[int, ...] = attrs.field(converter=_offsets)

    merges = True

    def segment(self, size: int, offset: int, random: Random) -> list[int] | None:
        end = offset + size
        sizes: list[int] = []
        start = offset
        for cut in self.offsets:
            if cut <= start:
                continue
            if cut >= end:
                break
            sizes.append(cut - start)
            start = cut
        if not sizes:
            return None
        sizes.append(end - start)
        return sizes

    def piece_limit(self, offset: int) -> int | None:
        for cut in self.offsets:
            if cut > offset:
                return cut - offset
        return None


WHOLE = Whole()
"""
The default policy: loopback TCP (see L{Whole}).
"""

ONE_BYTE = FixedSize(1)
"""
One byte per C{dataReceived}.
"""


def _number(value: object) -> bool:
    """
    Whether C{value} is a finite real number (a C{bool} is not one here).
    """
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def check_delay(
    instance: object, attribute: attrs.Attribute[float], value: float
) -> None:
    """
    An C{attrs} validator: a finite number >= 0 (a delay, in seconds).
    """
    if not (_number(value) and value >= 0):
        raise ValueError(
            f"{attribute.name} must be a finite number >= 0, not {value!r}"
        )


def check_bandwidth(
    instance: object, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    """
    An C{attrs} validator: a finite number of bytes per second > 0, or
    L{None} (unlimited).
    """
    if value is None:
        return
    if not (_number(value) and value > 0):
        raise ValueError(
            f"bandwidth must be a finite number of bytes per second > 0, or "
            f"None, not {value!r}"
        )


def check_probability(
    instance: object, attribute: attrs.Attribute[float], value: float
) -> None:
    """
    An C{attrs} validator: a probability, in [0, 1].
    """
    if not (_number(value) and 0 <= value <= 1):
        raise ValueError(
            f"{attribute.name} must be a probability in [0, 1], not {value!r}"
        )


def _policy(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, ChunkingPolicy):
        raise TypeError(
            f"chunking must be a ChunkingPolicy (e.g. WHOLE, ONE_BYTE, "
            f"FixedSize(n), RandomSizes(low, high), Coalesce(), SplitAt(...)), "
            f"not {value!r}"
        )


@attrs.frozen
class LinkConditions:
    """
    How one direction of a connection delivers its bytes (exact semantics in
    the module docstring).

    @ivar chunking: the L{ChunkingPolicy}; L{WHOLE} by default.
    @ivar latency: one-way delay of every segment, C{FIN} and C{RST}, and of
        the connection handshake, in virtual seconds.
    @ivar jitter: up to this many more seconds, drawn per segment from the
        network's seeded generator; never reorders bytes.
    @ivar bandwidth: bytes per virtual second, or L{None} for unlimited.
    """

    chunking: ChunkingPolicy = attrs.field(default=WHOLE, validator=_policy)
    latency: float = attrs.field(default=0.0, validator=check_delay)
    jitter: float = attrs.field(default=0.0, validator=check_delay)
    bandwidth: float | None = attrs.field(default=None, validator=check_bandwidth)

    @property
    def plain(self) -> bool:
        """
        Whether these conditions change nothing (loopback chunking, no
        delay).
        """
        return (
            self.chunking.__class__ is Whole
            and not self.latency
            and not self.jitter
            and self.bandwidth is None
        )

    def delay_sample(self, random: Random) -> float:
        """
        One one-way delay: C{latency} plus a jitter sample from C{random}
        (no draw when C{jitter} is 0).
        """
        if self.jitter:
            return self.latency + random.uniform(0.0, self.jitter)
        return self.latency


PLAIN = LinkConditions()
"""
Conditions that change nothing.
"""
