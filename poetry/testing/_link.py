"""
L{Link}: the wire of one direction of a connection, between the sender's
socket and the receiver's socket.

Every byte, C{FIN} and C{RST} a socket sends goes through its outbound link,
on one delivery path.  Without conditions, holds or triggers (a I{plain}
link, the default) everything arrives at once, in order -- loopback TCP --
and the link costs nothing beyond one test.  Rules plug into the same path:

  - L{LinkConditions}: the chunking policy cuts what is sent into segments
    (each arrives on its own) and decides how much one read takes; latency,
    jitter and bandwidth give each segment, C{FIN} and C{RST} its arrival
    time (see L{poetry.testing._conditions} for the timing rules);
  - I{holds} (a stall, a partition) stop arrivals without closing
    anything: what arrived before is readable, what is in flight and what
    is sent later waits, in order, until the hold is released;
  - I{dropping} (a partition in "drop" mode) loses what is in flight and
    what is sent;
  - I{triggers} run an action when the stream reaches a byte offset; what
    is sent across the offset is cut there, so the action sees the stream
    at exactly that offset (a reset after N bytes, a fault "after N bytes");
  - L{Link.inject_reset} queues a C{RST} behind what is in flight (a reset
    from the network).

Stream offsets count the bytes of this direction from the start of the
connection: I{written} is what the sender's kernel handed to the link (or
lost in it), I{delivered} what the receiver has read.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from poetry.testing._conditions import PLAIN, ChunkingPolicy, LinkConditions
from poetry.testing._socket import Socket, take_merged

if TYPE_CHECKING:
    from poetry.testing._clock import Scheduler, VirtualDelayedCall

__all__ = ["FIN", "RST", "Link"]


class _Signal:
    """
    A control segment in flight.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


FIN = _Signal("FIN")
RST = _Signal("RST")


class Link:
    """
    One direction of a connection: from C{src} to C{dst} (see the module
    docstring).

    @ivar conditions: the L{LinkConditions} of this direction.
    @ivar direction: C{"client->server"} or C{"server->client"}.
    @ivar plain: whether everything arrives at once (no conditions, holds,
        triggers or dropping, nothing in flight).
    @ivar merging: whether a read may take a lone arrived segment whole (up
        to the reader's limit): the policy merges and never limits a piece.
    """

    __slots__ = (
        "_closed",
        "_dropped",
        "_dropping",
        "_holds",
        "_in_flight",
        "_last_arrival",
        "_link_free",
        "_loop",
        "_queue",
        "_rst_sent",
        "_timer",
        "_trigger_sequence",
        "_triggers",
        "conditions",
        "connection_id",
        "direction",
        "dst",
        "merging",
        "plain",
        "src",
    )

    def __init__(
        self,
        loop: Scheduler,
        src: Socket,
        dst: Socket,
        direction: str,
        conditions: LinkConditions = PLAIN,
    ) -> None:
        self._loop = loop
        self.src = src
        self.dst = dst
        self.connection_id = src.connection_id
        self.direction = direction
        self.conditions = conditions
        self._queue: deque[list[Any]] | None = None
        self._in_flight = 0
        self._timer: VirtualDelayedCall | None = None
        self._holds: set[str] | None = None
        self._dropping = False
        self._closed = False
        self._rst_sent = False
        self._dropped = 0
        self._triggers: list[tuple[int, int, Callable[[], object]]] | None = None
        self._trigger_sequence = 0
        self._link_free = 0.0
        self._last_arrival = 0.0
        self.plain = True
        self.merging = True
        if conditions is not PLAIN:
            self._update()

    def __repr__(self) -> str:
        extra = self.describe()
        return (
            f"<Link #{self.connection_id} {self.direction} in flight="
            f"{self._in_flight}{'; ' + extra if extra else ''}>"
        )

    def _update(self) -> None:
        policy = self.conditions.chunking
        # A piece limit (Coalesce(max_size), SplitAt) is applied by take().
        self.merging = (
            policy.merges and type(policy).piece_limit is ChunkingPolicy.piece_limit
        )
        self.plain = (
            self.conditions.plain
            and not self._holds
            and not self._dropping
            and not self._triggers
            and not self._closed
            and not self._queue
        )

    def set_conditions(self, conditions: LinkConditions) -> None:
        """
        Use C{conditions} from now on (segments in flight keep their
        arrival times).
        """
        self.conditions = conditions
        self._update()

    # -- what the sender's socket asks ----------------------------------------

    def room(self) -> int:
        """
        How many more bytes the receiver's receive queue can take, counting
        those in flight.
        """
        dst = self.dst
        return dst.receive_buffer - dst.rq_len - self._in_flight

    def in_flight(self) -> int:
        """
        Bytes sent and not arrived yet (held ones included).
        """
        return self._in_flight

    def written(self) -> int:
        """
        The stream offset after the last byte handed to this link (bytes
        lost in it included).
        """
        return self.dst.received_total + self._in_flight + self._dropped

    def delivered(self) -> int:
        """
        The bytes the receiver has read.
        """
        dst = self.dst
        return dst.received_total - dst.rq_len

    def carry(self, data: bytes) -> None:
        """
        Send C{data} (non-empty) to the receiver.
        """
        if self.plain:
            self.dst._arrive(data)
            return
        if self._triggers:
            self._carry_triggered(data)
        else:
            self._enqueue(data)

    def carry_fin(self) -> None:
        """
        Send a C{FIN} behind everything sent before.
        """
        if self.plain:
            self.dst._arrive_fin()
        else:
            self._enqueue_signal(FIN)

    def carry_reset(self) -> None:
        """
        Send a C{RST} behind everything in flight.
        """
        if self.plain:
            self.dst._arrive_reset()
        else:
            self._enqueue_signal(RST)

    # -- the receiver's reads --------------------------------------------------

    def take(self, rq: deque[bytes], limit: int) -> bytes:
        """
        Remove and return what one read of at most C{limit} bytes takes from
        the receive queue C{rq} (not empty): every arrived segment for a
        merging policy (up to its piece limit), else the first segment.
        """
        policy = self.conditions.chunking
        if policy.merges:
            piece = policy.piece_limit(self.delivered())
            if piece is not None and piece < limit:
                limit = piece
        else:
            first = rq[0]
            if len(first) <= limit:
                rq.popleft()
                return first
            rq[0] = first[limit:]
            return first[:limit]
        return take_merged(rq, limit)

    # -- the conditioned path --------------------------------------------------

    def _carry_triggered(self, data: bytes) -> None:
        triggers = self._triggers
        while True:
            self._fire_triggers()
            if not data:
                return
            if self._closed:
                self._lose(len(data))
                return
            start = self.written()
            if triggers and triggers[0][0] < start + len(data):
                cut = triggers[0][0] - start
                self._enqueue(data[:cut])
                data = data[cut:]
            else:
                self._enqueue(data)
                return

    def _fire_triggers(self) -> None:
        triggers = self._triggers
        while triggers and triggers[0][0] <= self.written():
            _, _, action = triggers.pop(0)
            action()
        if triggers is not None and not triggers:
            self._triggers = None
            self._update()

    def add_trigger(self, offset: int, action: Callable[[], object]) -> None:
        """
        Run C{action()} when C{offset} bytes have been written in this
        direction: at once if they have been already, else inside the send
        that reaches the offset, with the bytes before it in the link and the
        bytes after it not yet.
        """
        sequence = self._trigger_sequence
        self._trigger_sequence = sequence + 1
        if self._triggers is None:
            self._triggers = []
        insort(self._triggers, (offset, sequence, action))
        self._update()
        self._fire_triggers()

    def remove_trigger(self, action: Callable[[], object]) -> None:
        """
        Forget the triggers that would run C{action}.
        """
        if self._triggers:
            self._triggers[:] = [t for t in self._triggers if t[2] != action]
            if not self._triggers:
                self._triggers = None
            self._update()

    def _lose(self, size: int) -> None:
        self._dropped += size
        loop = self._loop
        loop._trace.extend((loop._now, "drop", self.connection_id, self.src.side, size))

    def _enqueue(self, data: bytes) -> None:
        size = len(data)
        if not size:
            return
        if self._dropping or self._closed:
            self._lose(size)
            return
        loop = self._loop
        sizes = self.conditions.chunking.segment(size, self.written(), loop.random)
        if sizes is None:
            self._put(self._arrival(size), data, size)
        else:
            start = 0
            for piece in sizes:
                end = start + piece
                self._put(self._arrival(piece), data[start:end], piece)
                start = end

    def _put(self, arrival: float, item: Any, size: int) -> None:
        queue = self._queue
        loop = self._loop
        if (
            not queue
            and arrival <= loop._now
            and not self._holds
            and item.__class__ is bytes
        ):
            # Arrives now, with nothing ahead of it.
            self.dst._arrive(item)
            return
        if queue is None:
            queue = self._queue = deque()
        queue.append([arrival, item])
        self._in_flight += size
        self.plain = False
        self._schedule()

    def _enqueue_signal(self, signal: _Signal) -> None:
        if self._dropping or (signal is FIN and self._closed):
            # Lost in a "drop" partition; or a FIN after this direction was
            # reset by the network (a reset connection delivers nothing
            # more).
            loop = self._loop
            loop._trace.extend(
                (loop._now, "drop", self.connection_id, self.src.side, repr(signal))
            )
            return
        if signal is RST:
            self._rst_sent = True
        queue = self._queue
        loop = self._loop
        arrival = self._arrival(0)
        if not queue and arrival <= loop._now and not self._holds:
            self._deliver_signal(signal)
            return
        if queue is None:
            queue = self._queue = deque()
        queue.append([arrival, signal])
        self.plain = False
        self._schedule()

    def _deliver_signal(self, signal: _Signal) -> None:
        if signal is FIN:
            self.dst._arrive_fin()
        else:
            self.dst._arrive_reset()

    def _arrival(self, size: int) -> float:
        """
        The arrival time of a segment of C{size} bytes (0 for a signal)
        sent now; see L{poetry.testing._conditions}.
        """
        loop = self._loop
        now = loop._now
        conditions = self.conditions
        sent = self._link_free if self._link_free > now else now
        bandwidth = conditions.bandwidth
        if bandwidth is not None and size:
            sent += size / bandwidth
            self._link_free = sent
        arrival = sent + conditions.latency
        if conditions.jitter:
            arrival += loop.random.uniform(0.0, conditions.jitter)
        if arrival < self._last_arrival:
            arrival = self._last_arrival
        self._last_arrival = arrival
        return arrival

    def _schedule(self) -> None:
        """
        Make sure the first segment in flight arrives at its time (a timer),
        unless the link is held.
        """
        queue = self._queue
        if not queue or self._holds or self._timer is not None:
            return
        loop = self._loop
        self._timer = loop._call_at(queue[0][0], self._arrive_due)

    def _cancel_timer(self) -> None:
        timer = self._timer
        if timer is not None:
            self._timer = None
            if timer.active():
                timer.cancel()

    def _arrive_due(self) -> None:
        """
        Hand every segment whose time has come to the receiver, in order.
        """
        self._timer = None
        queue = self._queue
        if not queue:
            return
        now = self._loop._now
        dst = self.dst
        while queue and not self._holds and queue[0][0] <= now:
            _, item = queue.popleft()
            if item.__class__ is bytes:
                self._in_flight -= len(item)
                dst._arrive(item)
            else:
                self._deliver_signal(item)
        if queue:
            self._schedule()
        else:
            self._update()
            src = self.src
            if src.sq_len or src._fin_pending:
                src.transmit()

    def forget(self) -> None:
        """
        Drop what is in flight and its timer, silently (both ends are gone).
        """
        self._cancel_timer()
        if self._queue:
            self._queue.clear()
        self._in_flight = 0
        self._triggers = None
        self.plain = False
        self._closed = True

    # -- faults ----------------------------------------------------------------

    def hold(self, reason: str) -> None:
        """
        Stop arrivals (for C{reason}) until L{release}d.
        """
        if self._holds is None:
            self._holds = set()
        self._holds.add(reason)
        self._cancel_timer()
        self.plain = False

    def release(self, reason: str) -> None:
        """
        Lift the hold C{reason}; arrivals resume when no hold is left (what
        waited arrives at once, in order, if its time has passed).
        """
        holds = self._holds
        if holds:
            holds.discard(reason)
            if not holds:
                self._holds = None
                queue = self._queue
                if queue and queue[0][0] <= self._loop._now:
                    self._arrive_due()
                else:
                    self._schedule()
                    self._update()

    def held(self) -> frozenset[str]:
        """
        The reasons the link is held for (empty if it is not).
        """
        return frozenset(self._holds or ())

    @property
    def dropping(self) -> bool:
        """
        Whether what is sent is lost (a partition in "drop" mode).
        """
        return self._dropping

    def set_dropping(self, dropping: bool) -> None:
        """
        Lose (or stop losing) what is sent.
        """
        self._dropping = dropping
        self._update()

    def drop_in_flight(self) -> int:
        """
        Lose what is in flight (bytes and signals that have not arrived).

        @return: the number of bytes lost.
        """
        self._cancel_timer()
        queue = self._queue
        dropped = self._in_flight
        if queue:
            queue.clear()
        self._in_flight = 0
        if dropped:
            self._lose(dropped)
        self._update()
        return dropped

    def inject_reset(self) -> bool:
        """
        A reset from the network: close this direction to new bytes and send
        a C{RST} behind what is in flight.

        @return: whether a C{RST} was sent (not if the receiver is gone or
            a C{RST} was sent already; one lost in a "drop" partition does
            not count).
        """
        if self._rst_sent or self.dst.closed:
            return False
        self._closed = True
        self.plain = False
        # (A RST lost in a "drop" partition is sent again when it heals.)
        self._enqueue_signal(RST)
        return True

    def truncate(self, offset: int) -> int:
        """
        Lose the bytes at stream offsets C{offset} and beyond that the
        receiver has not read (in flight, or arrived and unread); signals
        stay.

        @return: the number of bytes lost.
        """
        keep_from = max(offset, self.delivered())
        excess = self.written() - self._dropped - keep_from
        if excess <= 0:
            return 0
        dropped = 0
        queue = self._queue
        if queue:
            kept: list[list[Any]] = []
            while queue and excess > 0:
                entry = queue.pop()
                item = entry[1]
                if item.__class__ is not bytes:
                    kept.append(entry)
                    continue
                if len(item) <= excess:
                    excess -= len(item)
                    dropped += len(item)
                    self._in_flight -= len(item)
                else:
                    keep = len(item) - excess
                    entry[1] = item[:keep]
                    self._in_flight -= excess
                    dropped += excess
                    excess = 0
                    kept.append(entry)
            queue.extend(reversed(kept))
        if excess > 0:
            dropped += self.dst._forget_received(excess)
        if dropped:
            self._lose(dropped)
        return dropped

    def describe(self) -> str:
        """
        Conditions and holds, for diagnostics (empty for a plain link).
        """
        parts: list[str] = []
        if self.conditions != PLAIN:
            parts.append(repr(self.conditions))
        if self._holds:
            parts.append(f"held by {', '.join(sorted(self._holds))}")
        if self._dropping:
            parts.append("dropping (partition)")
        return "; ".join(parts)
