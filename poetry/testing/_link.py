"""
L{LinkPipe}: the pipe of a direction that has link conditions or faults.

A connection starts with part 1's plain L{Pipe}s; the network replaces a
pipe with a L{LinkPipe} only when a condition or a fault concerns that
direction (when the connection is made, or later, in place, keeping the
bytes already queued).  The plain path therefore costs nothing extra.

What a L{LinkPipe} adds to a L{Pipe}:

  - every queued item (a segment of bytes, a C{FIN} or a C{RST}) carries its
    arrival time (see L{poetry.testing._conditions} for the timing rules);
    the pipe keeps at most one timer on the network's scheduler, for the
    first item that has not arrived yet, so auto-advance works and nothing
    is left once the connection is gone;
  - the chunking policy cuts writes into segments and may merge arrived
    segments when delivering;
  - I{holds} (a stall, a partition) stop the link without closing
    anything: what had already arrived at the receiving end when the hold
    began is still delivered (it is in the receiver's buffer); what was in
    flight and what is written later -- bytes, C{FIN} and C{RST} -- waits,
    in order, until the hold is released;
  - I{dropping} (a partition in "drop" mode) discards what is in flight and
    what is written;
  - I{triggers} run an action when the stream reaches a byte offset -- the
    write that crosses it is cut there, so the action sees the stream at
    exactly that offset (a reset after N bytes, any fault "after N bytes");
  - L{inject_reset} queues a C{RST} I{after} the bytes already queued (a
    reset from the network, unlike C{abortConnection}, which drops them).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from zlib import crc32

from twisted.internet.interfaces import IPushProducer
from twisted.python.failure import Failure

from poetry.testing._conditions import PLAIN, LinkConditions
from poetry.testing._transport import RST, Pipe, _signal, _signal_blocked

if TYPE_CHECKING:
    from poetry.testing._clock import VirtualDelayedCall
    from poetry.testing._network import MemoryNetwork
    from poetry.testing._transport import MemoryTransport

__all__ = ["LinkPipe"]

# Compact a queue whose consumed prefix is longer than this and than half
# of it (as Pipe._take does).
_COMPACT = 64


class LinkPipe(Pipe):
    """
    One direction of a connection with link conditions and faults.

    @ivar conditions: the L{LinkConditions} of this direction.
    @ivar direction: C{"client->server"} or C{"server->client"}.
    @ivar written_bytes: the stream offset after the last byte written
        (bytes accepted into this direction, dropped ones included).
    @ivar delivered_bytes: the number of bytes delivered to the receiver.
    """

    _timer: VirtualDelayedCall | None = None
    _dropping = False
    _trigger_sequence = 0

    def __init__(
        self,
        net: MemoryNetwork,
        connection_id: int,
        source: MemoryTransport,
        destination: MemoryTransport,
        conditions: LinkConditions,
        direction: str,
    ) -> None:
        super().__init__(net, connection_id, source, destination)
        self.conditions = conditions
        self.direction = direction
        # reason -> how many queued items may still be delivered before
        # the hold bites (those that had arrived when it began).
        self._holds: dict[str, int] = {}
        # (offset, sequence, action), sorted
        self._triggers: list[tuple[int, int, Callable[[], object]]] = []
        self._link_free = 0.0
        self._last_arrival = 0.0
        self.written_bytes = 0
        self.delivered_bytes = 0

    def __repr__(self) -> str:
        holds = self._holds
        held = f" held by {', '.join(sorted(holds))}" if holds else ""
        return (
            f"<LinkPipe #{self.connection_id} {self.direction} "
            f"unread={self.unread}{held}>"
        )

    @classmethod
    def replacing(
        cls, pipe: Pipe, conditions: LinkConditions, direction: str
    ) -> LinkPipe:
        """
        A L{LinkPipe} that takes over C{pipe}'s state: its queued items
        (which count as arrived now), unread count, closed flag and water
        marks.  C{pipe} is left empty, so that a step it already scheduled
        does nothing.  The caller installs the new pipe on both transports.
        """
        new = cls(
            pipe._net,
            pipe.connection_id,
            pipe.source,
            pipe.destination,
            conditions,
            direction,
        )
        net = pipe._net
        now = net._now
        new.high_water = pipe.high_water
        new.low_water = pipe.low_water
        new.closed = pipe.closed
        new.unread = pipe.unread
        queue = pipe._queue
        if queue:
            new._queue = [(now, item) for item in queue[pipe._head :]]
        written = pipe.source._written
        new.written_bytes = sum(map(len, written)) if written else 0
        new.delivered_bytes = max(0, new.written_bytes - pipe.unread)
        new._link_free = new._last_arrival = now
        pipe._queue = None
        pipe._head = 0
        pipe.unread = 0
        new.schedule()
        return new

    # Writing

    def push(self, data: bytes) -> None:
        """
        Queue C{data}: cut into segments by the chunking policy, each with
        its arrival time; or drop it (closed pipe, "drop" partition).  A
        trigger whose offset falls inside C{data} runs when the stream
        reaches it.
        """
        if self.closed:
            net = self._net
            net._trace.extend(
                (net._now, "drop", self.connection_id, self.source.side, len(data))
            )
            return
        if self._triggers:
            self._push_triggered(data)
        else:
            self._enqueue(data)

    def _push_triggered(self, data: bytes) -> None:
        triggers = self._triggers
        while True:
            self._fire_triggers()
            if self.closed:
                if data:
                    net = self._net
                    net._trace.extend(
                        (
                            net._now,
                            "drop",
                            self.connection_id,
                            self.source.side,
                            len(data),
                        )
                    )
                return
            if not data:
                return
            start = self.written_bytes
            if triggers and triggers[0][0] < start + len(data):
                cut = triggers[0][0] - start
                self._enqueue(data[:cut])
                data = data[cut:]
            else:
                self._enqueue(data)
                data = b""

    def _fire_triggers(self) -> None:
        triggers = self._triggers
        while triggers and triggers[0][0] <= self.written_bytes:
            _, _, action = triggers.pop(0)
            action()

    def add_trigger(self, offset: int, action: Callable[[], object]) -> None:
        """
        Run C{action()} when C{offset} bytes have been written in this
        direction: at once if they have been already, else inside the
        C{write} that reaches the offset, with the bytes before it queued and
        the bytes after it not yet.
        """
        sequence = self._trigger_sequence
        self._trigger_sequence = sequence + 1
        insort(self._triggers, (offset, sequence, action))
        self._fire_triggers()

    def remove_trigger(self, action: Callable[[], object]) -> None:
        """
        Forget the triggers that would run C{action}.
        """
        self._triggers[:] = [t for t in self._triggers if t[2] != action]

    def _enqueue(self, data: bytes) -> None:
        net = self._net
        size = len(data)
        if not size:
            return
        offset = self.written_bytes
        self.written_bytes = offset + size
        source = self.source
        now = net._now
        if net.trace_checksums:
            net._trace.extend(
                (
                    now,
                    "write",
                    self.connection_id,
                    source.side,
                    f"{size} bytes, crc32 {crc32(data):08x}",
                )
            )
        else:
            net._trace.extend((now, "write", self.connection_id, source.side, size))
        if self._dropping:
            net._trace.extend((now, "drop", self.connection_id, source.side, size))
            return
        queue = self._queue
        if queue is None:
            queue = self._queue = []
        sizes = self.conditions.chunking.segment(size, offset, net.random)
        if sizes is None:
            queue.append((self._arrival(size), data))
        else:
            start = 0
            for piece in sizes:
                end = start + piece
                queue.append((self._arrival(piece), data[start:end]))
                start = end
        unread = self.unread = self.unread + size
        self.schedule()
        if (
            unread > self.high_water
            and source.producer is not None
            and source.streamingProducer
            and not source.producerPaused
        ):
            source.producerPaused = True
            net._trace.extend(
                (now, "pause-producer", self.connection_id, source.side, None)
            )
            cast(IPushProducer, source.producer).pauseProducing()

    def _arrival(self, size: int) -> float:
        """
        The arrival time of a segment of C{size} bytes (0 for a signal)
        sent now; see L{poetry.testing._conditions}.
        """
        net = self._net
        now = net._now
        conditions = self.conditions
        sent = self._link_free if self._link_free > now else now
        bandwidth = conditions.bandwidth
        if bandwidth is not None and size:
            sent += size / bandwidth
            self._link_free = sent
        arrival = sent + conditions.latency
        if conditions.jitter:
            arrival += net.random.uniform(0.0, conditions.jitter)
        if arrival < self._last_arrival:
            arrival = self._last_arrival
        self._last_arrival = arrival
        return arrival

    # Signals

    def _put(self, signal: Any) -> None:
        if self._dropping:
            # Lost in a "drop" partition, like the bytes before it.
            net = self._net
            net._trace.extend(
                (net._now, "drop", self.connection_id, self.source.side, repr(signal))
            )
            return
        queue = self._queue
        entry = (self._arrival(0), signal)
        if queue is None:
            self._queue = [entry]
        else:
            queue.append(entry)
        self.schedule()

    def reset(self) -> None:
        """
        C{abortConnection} (or a close with unread bytes) on the source:
        drop everything queued and send a C{RST}, after the latency.
        """
        if self.destination.disconnected:
            self.discard()
            return
        queue = self._queue
        if queue and queue[-1][1] is RST:
            return
        self.discard()
        now = self._net._now
        self._link_free = self._last_arrival = now
        self._put(RST)

    def inject_reset(self) -> bool:
        """
        A reset from the network: close this direction to new bytes and
        queue a C{RST} after everything already queued.

        @return: whether a C{RST} was queued (not if the receiver is gone or
            one is queued already).
        """
        if self.destination.disconnected:
            return False
        queue = self._queue
        if queue and queue[-1][1] is RST:
            return False
        self.closed = True
        self._put(RST)
        return True

    def discard(self) -> int:
        """
        Drop everything queued, close the pipe and cancel its timer.

        @return: the number of dropped bytes that had I{arrived} (were in
            the receiver's buffer): a receiver that closes with such bytes
            unread resets the connection, as on real TCP; bytes still in
            flight, or held by a stall or partition, do not count.
        """
        self._cancel_timer()
        self._triggers.clear()
        arrived = 0
        queue = self._queue
        if queue:
            head = self._head
            allowance = self._allowance()
            end = self._arrived_end()
            if allowance is not None:
                end = min(end, head + allowance)
            for entry in queue[head:end]:
                if entry[1].__class__ is bytes:
                    arrived += len(entry[1])
        super().discard()
        return arrived

    def drop_in_flight(self) -> int:
        """
        Drop what is in flight -- the queued bytes and signals that have
        not arrived yet -- without closing the pipe: lost in the network.

        @return: the number of bytes dropped.
        """
        self._cancel_timer()
        queue = self._queue
        dropped = 0
        if queue:
            end = self._arrived_end()
            for entry in queue[end:]:
                if entry[1].__class__ is bytes:
                    dropped += len(entry[1])
            del queue[end:]
            if len(queue) == self._head:
                queue.clear()
                self._head = 0
        self.unread -= dropped
        self.schedule()
        if dropped:
            net = self._net
            net._trace.extend(
                (net._now, "drop", self.connection_id, self.source.side, dropped)
            )
        return dropped

    def truncate(self, offset: int) -> int:
        """
        Drop the queued bytes at stream offsets C{offset} and beyond (bytes
        already delivered stay delivered); signals queued after them stay.

        @return: the number of bytes dropped.
        """
        queue = self._queue
        excess = self.delivered_bytes + self.unread - max(offset, self.delivered_bytes)
        if excess <= 0 or not queue:
            return 0
        signals: list[Any] = []
        dropped = 0
        head = self._head
        while excess > 0 and len(queue) > head:
            arrival, item = queue[-1]
            if item.__class__ is not bytes:
                signals.append(queue.pop())
                continue
            if len(item) <= excess:
                queue.pop()
                excess -= len(item)
                dropped += len(item)
            else:
                keep = len(item) - excess
                queue[-1] = (arrival, item[:keep])
                dropped += excess
                excess = 0
        queue.extend(reversed(signals))
        if len(queue) == head:
            queue.clear()
            self._head = 0
        holds = self._holds
        for reason, allowed in holds.items():
            holds[reason] = min(allowed, len(queue) - self._head)
        self.unread -= dropped
        if dropped:
            net = self._net
            net._trace.extend(
                (net._now, "drop", self.connection_id, self.source.side, dropped)
            )
        return dropped

    # Holds

    def hold(self, reason: str) -> None:
        """
        Stop the link (for C{reason}) until L{release}d: what has arrived
        is still delivered; nothing else is.  Holding again for the same
        reason keeps the earlier point.
        """
        arrived = self._arrived_end() - self._head if self._queue else 0
        holds = self._holds
        current = holds.get(reason)
        holds[reason] = arrived if current is None else min(current, arrived)

    def release(self, reason: str) -> None:
        """
        Lift the hold C{reason}; deliveries resume when no hold is left.
        """
        self._holds.pop(reason, None)
        self.schedule()

    def held(self) -> frozenset[str]:
        """
        The reasons the link is held for (empty if it is not).
        """
        return frozenset(self._holds)

    def _allowance(self) -> int | None:
        """
        How many more queued items may be delivered while held (L{None}
        when not held).
        """
        holds = self._holds
        return min(holds.values()) if holds else None

    def _consumed(self, items: int) -> None:
        holds = self._holds
        for reason, allowed in holds.items():
            holds[reason] = allowed - items if allowed > items else 0

    def _arrived_end(self) -> int:
        """
        The index after the last queued item that has arrived (items arrive
        in queue order).
        """
        queue = self._queue
        assert queue is not None
        now = self._net._now
        index = self._head
        end = len(queue)
        while index < end and queue[index][0] <= now:
            index += 1
        return index

    # Delivering

    def schedule(self) -> None:
        """
        Make sure the first queued item is looked at when it has arrived:
        in the next step if it has, else by a timer at its arrival time.
        """
        if self._scheduled or not self._queue:
            return
        if self._holds and not min(self._holds.values()):
            return
        arrival = self._queue[self._head][0]
        net = self._net
        if arrival <= net._now:
            self._scheduled = True
            net._ready.append(self)
        elif self._timer is None:
            self._timer = net._call_at(arrival, self.arrive)

    def arrive(self) -> None:
        """
        The timer of the first queued item fired: deliver it.
        """
        self._timer = None
        self.schedule()

    def _cancel_timer(self) -> None:
        timer = self._timer
        if timer is not None:
            self._timer = None
            if timer.active():
                timer.cancel()

    def step(self) -> None:
        """
        Deliver the first queued item if it has arrived and nothing holds
        the pipe: a piece of bytes as the chunking policy decides (when the
        receiver is reading), or a signal (when it has not paused reading).
        """
        self._scheduled = False
        queue = self._queue
        if not queue:
            return
        holds = self._holds
        allowance = None
        if holds:
            allowance = min(holds.values())
            if not allowance:
                return
        net = self._net
        head = self._head
        arrival, item = queue[head]
        if arrival > net._now:
            self.schedule()
            return
        destination = self.destination
        if item.__class__ is bytes:
            if not destination._receiving:
                return
            policy = self.conditions.chunking
            if policy.merges:
                limit = policy.piece_limit(self.delivered_bytes)
                item, taken = self._gather(queue, head, limit, allowance)
                if holds:
                    self._consumed(taken)
            else:
                self._take(queue, head)
                if holds:
                    self._consumed(1)
            size = len(item)
            self.unread -= size
            self.delivered_bytes += size
            net._moved += size
            net._trace.extend(
                (net._now, "deliver", self.connection_id, destination.side, size)
            )
            try:
                # A receiving transport always has a protocol.
                destination.protocol.dataReceived(item)  # type: ignore[union-attr]
            except Exception:
                destination._callback_failed(Failure(), "dataReceived")
            if self.source.producer is not None:
                self._drained()
        else:
            if _signal_blocked(destination):
                return
            self._take(queue, head)
            if holds:
                self._consumed(1)
            _signal(destination, item)
        self.schedule()

    __call__ = step

    def _gather(
        self, queue: list[Any], head: int, limit: int | None, items: int | None
    ) -> tuple[bytes, int]:
        """
        Take the bytes of the arrived segments from C{head} on, up to
        C{limit} bytes (all of them for L{None}) and at most C{items} whole
        segments, stopping at a signal or a segment that has not arrived; a
        segment is cut if the limit falls inside it.

        @return: the bytes and the number of whole segments taken.
        """
        now = self._net._now
        parts: list[bytes] = []
        total = 0
        index = head
        end = len(queue)
        if items is not None and head + items < end:
            end = head + items
        while index < end:
            arrival, item = queue[index]
            if arrival > now or item.__class__ is not bytes:
                break
            if limit is not None:
                room = limit - total
                if room <= 0:
                    break
                if len(item) > room:
                    parts.append(item[:room])
                    queue[index] = (arrival, item[room:])
                    break
            parts.append(item)
            total += len(item)
            index += 1
        taken = index - head
        if index == len(queue):
            queue.clear()
            self._head = 0
        elif index > head:
            for position in range(head, index):
                queue[position] = None
            if index > _COMPACT and 2 * index > len(queue):
                del queue[:index]
                index = 0
            self._head = index
        return (parts[0] if len(parts) == 1 else b"".join(parts)), taken

    def describe(self) -> str:
        """
        A short description: conditions and holds, for diagnostics.
        """
        parts: list[str] = []
        if self.conditions != PLAIN:
            parts.append(repr(self.conditions))
        if self._holds:
            parts.append(f"held by {', '.join(sorted(self._holds))}")
        if self._dropping:
            parts.append("dropping (partition)")
        return "; ".join(parts)
