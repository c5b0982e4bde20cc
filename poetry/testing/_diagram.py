"""
Sequence diagrams of a trace: Mermaid text, a self-contained SVG picture,
an HTML page, or JSON lines.

The picture has one lifeline per endpoint (C{host:port} and its protocol or
factory class), a lifeline for the network (timers, faults that name no
connection) and one for connection attempts that never connected.  Time
runs down the page; the left margin shows the virtual time wherever it
changes.  Each kind of trace event is drawn as one table, L{DRAWINGS}, says:
an arrow between two lifelines, or a note on one.  A kind the table does not
know is drawn as a note on its side's lifeline, so new kinds of event show
up without any change here.

Big traces stay readable: a run of data events of one direction of one
connection (writes and deliveries, and the timers and the writer's flushes
between them) is drawn as one arrow that says what it stands for; labels
are capped; beyond C{max_rows} rows the middle of the trace is left out,
and the picture says how much.
"""

from __future__ import annotations

import html
import os
import weakref
from collections import deque
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from poetry.testing._seed import reproduction_line
from poetry.testing._snapshot import TraceSnapshot, data_spans, parse_accept
from poetry.testing._trace import TraceEvent, format_events

if TYPE_CHECKING:
    from poetry.testing._network import MemoryNetwork

__all__ = [
    "DIAGRAM_FORMATS",
    "DRAWINGS",
    "Drawing",
    "diagram_note",
    "trace_diagram",
    "write_failure_diagram",
]

DIAGRAM_FORMATS: tuple[str, ...] = ("mermaid", "svg", "html", "jsonl")
"""
The formats L{trace_diagram} renders.
"""

Where = Literal["side", "peer", "client", "server", "network", "listener"]


@attrs.frozen
class Drawing:
    """
    How one kind of trace event is drawn.

    @ivar shape: C{"arrow"} (from C{start} to C{end}) or C{"note"} (on
        C{start}).
    @ivar start: the lifeline the arrow starts on, or the note is on:
        C{"side"} (the endpoint of the event's side; the network's lifeline
        for an event of no connection), C{"peer"} (the other side),
        C{"client"}, C{"server"} (an end of the event's connection),
        C{"network"}, or C{"listener"} (the address in the detail).
    @ivar end: where the arrow ends (same choices).
    @ivar style: the look: C{write}, C{deliver}, C{connect}, C{fin},
        C{reset}, C{local}, C{lost}, C{lifecycle}, C{drop}, C{error},
        C{timer}, C{fault} or C{other}.
    @ivar label: a C{str.format} template; fields: C{kind}, C{detail},
        C{conn} (C{"#3"}, or empty), C{side}, and C{data} (for data events:
        size, byte range and first bytes).  Notes of a connection name it
        (C{{conn}}): a listener's lifeline is shared by its connections.
    """

    shape: Literal["arrow", "note"]
    start: Where
    end: Where = "peer"
    style: str = "other"
    label: str = "{kind} {detail}"


DRAWINGS: dict[str, Drawing] = {
    "listen": Drawing("note", "listener", style="lifecycle", label="listen"),
    "listen-failed": Drawing(
        "note", "listener", style="error", label="listen failed: address in use"
    ),
    "stop-listening": Drawing(
        "note", "listener", style="lifecycle", label="stop listening"
    ),
    "connect": Drawing(
        "arrow", "client", "server", style="connect", label="connect {conn} {detail}"
    ),
    "accept": Drawing(
        "arrow", "server", "client", style="connect", label="accept {conn}"
    ),
    "refuse": Drawing(
        "arrow", "server", "client", style="reset", label="refused {conn}"
    ),
    "connect-failed": Drawing(
        "note", "client", style="error", label="connect {conn} failed: {detail}"
    ),
    "write": Drawing("arrow", "side", "peer", style="write", label="write {data}"),
    "write-ignored": Drawing(
        "note", "side", style="drop", label="{conn} write ignored ({detail})"
    ),
    "deliver": Drawing(
        "arrow", "peer", "side", style="deliver", label="dataReceived {data}"
    ),
    "drop": Drawing("note", "side", style="drop", label="{conn} dropped {detail}"),
    "half-close": Drawing(
        "note", "side", style="local", label="{conn} loseWriteConnection()"
    ),
    "close": Drawing("note", "side", style="local", label="{conn} loseConnection()"),
    "abort": Drawing("note", "side", style="local", label="{conn} abortConnection()"),
    "eof": Drawing("arrow", "peer", "side", style="fin", label="FIN (end of stream)"),
    "reset": Drawing(
        "arrow", "peer", "side", style="reset", label="RST arrived ({detail})"
    ),
    "connection-lost": Drawing(
        "note", "side", style="lost", label="{conn} connectionLost({detail})"
    ),
    "pause-reading": Drawing(
        "note", "side", style="local", label="{conn} pauseProducing()"
    ),
    "resume-reading": Drawing(
        "note", "side", style="local", label="{conn} resumeProducing()"
    ),
    "pause-producer": Drawing(
        "note", "side", style="local", label="{conn} producer paused (over high water)"
    ),
    "resume-producer": Drawing(
        "note", "side", style="local", label="{conn} producer resumed (under low water)"
    ),
    "error": Drawing("note", "side", style="error", label="{conn} {detail}"),
    "timer": Drawing("note", "network", style="timer", label="timer {detail}"),
    "fault": Drawing("note", "side", style="fault", label="{conn} fault: {detail}"),
    # Events of the layered core: a segment carrying FIN or RST leaving a
    # side's socket, and the transport's buffer handed to the socket.
    "fin": Drawing("arrow", "side", "peer", style="fin", label="FIN sent"),
    "rst": Drawing("arrow", "side", "peer", style="reset", label="RST sent ({detail})"),
    "flush": Drawing("note", "side", style="write", label="{conn} flush {detail}"),
}
"""
How each known kind of event is drawn; any other kind is drawn as
L{GENERIC}.
"""

GENERIC = Drawing("note", "side", style="other", label="{conn} {kind} {detail}")
"""
How a kind of event missing from L{DRAWINGS} is drawn.
"""

# Timers may sit inside a run of data events that is collapsed (a slow
# writer's timer between each write), and so may the writer's flushes (its
# buffer handed to the kernel after each write).
_ABSORBED = frozenset({"timer"})
_DATA = frozenset({"write", "deliver"})

NETWORK = "network"
ATTEMPTS = "attempts"

_ANY_PREFIX = "0.0.0.0:"


# -- text helpers


def _show_bytes(data: bytes, limit: int, more: bool = False) -> str:
    """
    C{data} as a quoted, escaped string, cut at C{limit} bytes; with an
    ellipsis if it was cut or C{more} says there is more.
    """
    out = []
    for byte in data[:limit]:
        char = chr(byte)
        if char == "\\":
            out.append("\\\\")
        elif char == "'":
            out.append("\\'")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    tail = "\N{HORIZONTAL ELLIPSIS}" if more or len(data) > limit else ""
    return "'" + "".join(out) + tail + "'"


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(1, limit - 1)] + "\N{HORIZONTAL ELLIPSIS}"


def _seconds(time: float) -> str:
    text = f"{time:.6f}".rstrip("0").rstrip(".")
    return f"{text} s"


def _host_of(address: str) -> str:
    return address.rsplit(":", 1)[0]


# -- the scene: lifelines and rows, independent of the output format


@attrs.define
class Lifeline:
    """
    One column of the diagram.

    @ivar key: the address (C{"host:port"}), or L{NETWORK} or L{ATTEMPTS}.
    @ivar title: the first line of its header.
    @ivar subtitle: the second line (protocol class or role), or empty.
    @ivar first_use: the first row that uses it (orders lifelines of one
        host).
    """

    key: str
    title: str
    subtitle: str = ""
    first_use: int = 0


@attrs.define
class Row:
    """
    One row of the diagram: an arrow or a note, standing for one event or
    for a collapsed run of events.

    @ivar shape: C{"arrow"} or C{"note"}.
    @ivar start: the lifeline (key) the arrow starts on, or the note is on.
    @ivar end: the lifeline the arrow ends on (C{start} for a note).
    @ivar style: the look (see L{Drawing.style}).
    @ivar label: the text, capped.
    @ivar time: the virtual time of its first event.
    @ivar until: the virtual time of its last event.
    @ivar note: a second line (what a collapsed run stands for), or empty.
    @ivar tooltip: the events, as trace lines (the first and last twenty of
        a long run).
    @ivar events: how many events it stands for.
    """

    shape: str
    start: str
    end: str
    style: str
    label: str
    time: float
    until: float
    note: str = ""
    tooltip: tuple[str, ...] = ()
    events: int = 1


@attrs.define
class Scene:
    """
    What to draw: lifelines in order, rows in order, and what was left out.

    @ivar total_events: the events of the trace.
    @ivar shown_events: the events the filters kept.
    @ivar collapsed_runs: runs drawn as one arrow each.
    @ivar collapsed_events: the events in those runs.
    @ivar omitted_rows: rows left out in the middle (C{max_rows}).
    @ivar omitted_events: the events of those rows.
    @ivar filters: the filters, described (empty if none).
    @ivar summary: lines saying all of the above, for under the picture.
    """

    lifelines: list[Lifeline]
    rows: list[Row]
    title: str
    total_events: int
    shown_events: int
    collapsed_runs: int = 0
    collapsed_events: int = 0
    omitted_rows: int = 0
    omitted_events: int = 0
    filters: str = ""
    summary: list[str] = attrs.field(factory=list)


@attrs.define
class _Connection:
    client: str = ATTEMPTS
    server: str = ""
    accepted: bool = False


class _Builder:
    def __init__(
        self,
        snapshot: TraceSnapshot,
        *,
        max_label: int,
        preview: int,
    ) -> None:
        self.snapshot = snapshot
        self.max_label = max_label
        self.preview = preview
        self.events = snapshot.events
        self.spans = data_spans(self.events)
        self.listeners: set[str] = set()
        self.connections: dict[int, _Connection] = {}
        self.lifelines: dict[str, Lifeline] = {}
        self._survey()

    # Who is who, from the whole trace (filters do not change lifelines).

    def _survey(self) -> None:
        for event in self.events:
            if event.kind in ("listen", "stop-listening", "listen-failed"):
                self.listeners.add(event.detail)
        for event in self.events:
            if event.connection is None:
                continue
            connection = self.connections.setdefault(event.connection, _Connection())
            if event.kind == "accept":
                addresses = parse_accept(event.detail)
                if addresses is not None:
                    connection.client = addresses[0]
                    connection.server = self._listener_key(addresses[1])
                    connection.accepted = True
            elif (event.kind == "refuse" and not connection.accepted) or (
                event.kind == "connect" and not connection.server
            ):
                connection.server = self._listener_key(event.detail)

    def _listener_key(self, address: str) -> str:
        if address in self.listeners:
            return address
        _, _, port = address.rpartition(":")
        wildcard = _ANY_PREFIX + port
        if wildcard in self.listeners:
            return wildcard
        return address

    def where(self, spec: str, event: TraceEvent) -> str | None:
        """
        The lifeline C{spec} (see L{Drawing.start}) stands for, for this
        event; L{None} if that end of its connection is unknown.
        """
        if spec == "network":
            return NETWORK
        if spec == "listener":
            return self._listener_key(event.detail)
        connection = (
            self.connections.get(event.connection)
            if event.connection is not None
            else None
        )
        if connection is None:
            return NETWORK
        side = event.side
        if spec == "peer":
            side = {"client": "server", "server": "client"}.get(side, "server")
        elif spec in ("client", "server"):
            side = spec
        elif side not in ("client", "server"):
            side = "client"
        if side == "client":
            return connection.client
        return connection.server or None

    def lifeline(self, key: str, order: int) -> None:
        if key in self.lifelines:
            return
        if key == NETWORK:
            line = Lifeline(key, "network", "timers, faults")
        elif key == ATTEMPTS:
            line = Lifeline(key, "connecting", "attempts that never connected")
        else:
            label = self.snapshot.endpoints.get(key, "")
            if not label and key in self.listeners:
                label = "listening"
            line = Lifeline(key, key, label)
        line.first_use = order
        self.lifelines[key] = line

    # Labels

    def data_label(self, index: int, event: TraceEvent) -> str:
        span = self.spans.get(index)
        if span is None:
            return event.detail
        _, offset, size = span
        text = f"{size} B [{offset},{offset + size})"
        head = self.snapshot.heads.get(index)
        if head is not None and size:
            text += " " + _show_bytes(head[:size], self.preview, size > len(head))
        return text

    def label(self, drawing: Drawing, index: int, event: TraceEvent) -> str:
        fields = {
            "kind": event.kind,
            "detail": event.detail,
            "conn": "" if event.connection is None else f"#{event.connection}",
            "side": event.side,
            "data": self.data_label(index, event) if event.kind in _DATA else "",
        }
        try:
            text = drawing.label.format_map(fields)
        except (KeyError, IndexError, ValueError):
            text = f"{event.kind} {event.detail}"
        return _cap(" ".join(text.split()), self.max_label)

    def row(self, index: int, event: TraceEvent) -> Row:
        drawing = DRAWINGS.get(event.kind, GENERIC)
        start = self.where(drawing.start, event)
        end = self.where(drawing.end, event) if drawing.shape == "arrow" else None
        if start is not None and end is not None and start != end:
            shape = "arrow"
        else:
            # A note where the event is known to be, if not an arrow.
            shape = "note"
            start = end = start or end or NETWORK
        return Row(
            shape,
            start,
            end,
            drawing.style,
            self.label(drawing, index, event),
            event.time,
            event.time,
            tooltip=(str(event),),
        )

    # Collapsing

    def data_key(self, index: int, event: TraceEvent) -> tuple[int, str] | None:
        if event.kind not in _DATA or event.connection is None:
            return None
        span = self.spans.get(index)
        if span is None:
            return None
        return (event.connection, span[0])

    def collapsed(self, run: list[tuple[int, TraceEvent]], key: tuple[int, str]) -> Row:
        connection_id, writer = key
        connection = self.connections[connection_id]
        reader_is_client = writer == "server"
        start = connection.server if reader_is_client else connection.client
        end = connection.client if reader_is_client else connection.server
        writes = [(i, e) for i, e in run if e.kind == "write"]
        deliveries = [(i, e) for i, e in run if e.kind == "deliver"]
        timers = [e for _, e in run if e.kind in _ABSORBED]
        flushes = sum(1 for _, e in run if e.kind == "flush")
        data = writes or deliveries
        first_index, first = data[0]
        low = self.spans[first_index][1]
        last_index = data[-1][0]
        high = self.spans[last_index][1] + self.spans[last_index][2]
        total = high - low
        parts = []
        if writes:
            parts.append(f"write \N{MULTIPLICATION SIGN}{len(writes)}")
        if deliveries:
            parts.append(f"dataReceived \N{MULTIPLICATION SIGN}{len(deliveries)}")
        label = f"#{connection_id} " + ", ".join(parts) + f": {total} B [{low},{high})"
        head = self.snapshot.heads.get(first_index)
        if head is not None:
            label += " " + _show_bytes(head, self.preview, total > len(head))
        sizes = sorted({self.spans[i][2] for i, _ in deliveries or writes})
        if len(sizes) == 1:
            size_text = f"{sizes[0]} B each"
        else:
            size_text = f"{sizes[0]}-{sizes[-1]} B"
        note = (
            f"collapsed {len(run)} events: "
            + ", ".join(
                f"{count} {name}"
                for count, name in (
                    (len(writes), "write"),
                    (flushes, "flush"),
                    (len(deliveries), "deliver"),
                    (len(timers), "timer"),
                )
                if count
            )
            + f"; chunks {size_text}; t {_seconds(first.time)} to "
            + _seconds(run[-1][1].time)
        )
        if timers:
            names = sorted({e.detail for e in timers})
            note += "; timers " + ", ".join(names)
        if len(run) > 40:
            shown = [
                *(str(e) for _, e in run[:20]),
                f"... {len(run) - 40} more ...",
                *(str(e) for _, e in run[-20:]),
            ]
        else:
            shown = [str(e) for _, e in run]
        return Row(
            "arrow" if start != end else "note",
            start,
            end,
            "write" if writes else "deliver",
            _cap(label, self.max_label),
            first.time,
            run[-1][1].time,
            note=_cap(note, self.max_label + 40),
            tooltip=tuple(shown),
            events=len(run),
        )


def _select(
    events: Sequence[TraceEvent],
    connection: Collection[int] | None,
    start: float | None,
    end: float | None,
    omit: Collection[str],
) -> Sequence[int]:
    """
    The indices of the events to draw.
    """
    if connection is None and start is None and end is None and not omit:
        return range(len(events))
    return [
        index
        for index, event in enumerate(events)
        if (connection is None or event.connection in connection)
        and (start is None or event.time >= start)
        and (end is None or event.time <= end)
        and event.kind not in omit
    ]


# One row to draw: the positions (in the selected indices) of its first and
# last event, and the data key of a collapsed run (None for one event).
_Group = tuple[int, int, "tuple[int, str] | None"]


def _groups(
    builder: _Builder, indices: Sequence[int], collapse: int
) -> Iterator[_Group]:
    """
    The rows, in order: single events, and runs of one direction's data
    (with the timers and the writer's flushes between) of at least
    C{collapse} data events.
    """
    events = builder.events
    data_key = builder.data_key
    count = len(indices)
    least = max(collapse, 2)
    position = 0
    while position < count:
        index = indices[position]
        key = data_key(index, events[index]) if collapse >= 1 else None
        if key is None:
            yield (position, position, None)
            position += 1
            continue
        last_data = position
        data_count = 1
        scan = position + 1
        while scan < count:
            other_index = indices[scan]
            other = events[other_index]
            other_key = data_key(other_index, other)
            if other_key == key:
                last_data = scan
                data_count += 1
            elif other.kind not in _ABSORBED and not (
                other.kind == "flush" and (other.connection, other.side) == key
            ):
                break
            scan += 1
        if data_count >= least:
            yield (position, last_data, key)
            position = last_data + 1
        else:
            yield (position, position, None)
            position += 1


def build_scene(
    snapshot: TraceSnapshot,
    *,
    connection: int | Collection[int] | None = None,
    start: float | None = None,
    end: float | None = None,
    omit: Collection[str] = (),
    collapse: int = 3,
    max_label: int = 80,
    preview: int = 16,
    max_rows: int = 1500,
) -> Scene:
    """
    Lay out a snapshot's trace (see L{trace_diagram} for the parameters).

    Rows are made only for what is drawn: with C{max_rows}, the time and
    memory spent on a huge trace are one pass over it plus the rows kept.
    """
    connections: Collection[int] | None
    if connection is None:
        connections = None
    elif isinstance(connection, int):
        connections = {connection}
    else:
        connections = set(connection)
    builder = _Builder(snapshot, max_label=max_label, preview=preview)
    events = snapshot.events
    indices = _select(events, connections, start, end, omit)
    scene = Scene([], [], _title(snapshot), len(events), len(indices))
    head_size = max(1, max_rows // 3) if max_rows > 0 else -1
    head: list[_Group] = []
    # One more than the tail kept, so that a single extra row is drawn
    # rather than replaced by a note.
    tail: deque[_Group] = deque(maxlen=max(1, max_rows - head_size))
    # The first and the last row left out.
    gap: list[_Group] = []

    def leave_out(group: _Group) -> None:
        if len(gap) < 2:
            gap.append(group)
        else:
            gap[1] = group
        scene.omitted_rows += 1
        scene.omitted_events += group[1] - group[0] + 1

    for group in _groups(builder, indices, collapse):
        if head_size < 0 or len(head) < head_size:
            head.append(group)
            continue
        if len(tail) == tail.maxlen:
            leave_out(tail[0])
        tail.append(group)
    if scene.omitted_rows:
        # One more, for the note that says what was left out.
        leave_out(tail.popleft())

    def materialize(group: _Group) -> Row:
        first, last, key = group
        if key is None:
            index = indices[first]
            return builder.row(index, events[index])
        run = [(indices[p], events[indices[p]]) for p in range(first, last + 1)]
        scene.collapsed_runs += 1
        scene.collapsed_events += len(run)
        return builder.collapsed(run, key)

    rows = scene.rows
    rows.extend(materialize(group) for group in head)
    if scene.omitted_rows:
        rows.append(
            Row(
                "note",
                NETWORK,
                NETWORK,
                "other",
                f"... {scene.omitted_events} events ({scene.omitted_rows} rows) "
                "left out: filter by connection or time",
                events[indices[gap[0][0]]].time,
                events[indices[gap[-1][1]]].time,
                events=0,
            )
        )
    rows.extend(materialize(group) for group in tail)
    # Lifelines: those the rows use.
    for order, row in enumerate(rows):
        builder.lifeline(row.start, order)
        builder.lifeline(row.end, order)
    scene.lifelines = _order(builder)
    scene.filters = _describe_filters(connections, start, end, omit)
    scene.summary = _summary(scene)
    return scene


def _order(builder: _Builder) -> list[Lifeline]:
    """
    Lifelines left to right: the network, failed attempts, then endpoints by
    the depth of their host (hosts that only connect first, then the hosts
    they connect to, ...), then by first use.
    """
    edges: dict[str, set[str]] = {}
    for connection in builder.connections.values():
        if not connection.accepted:
            continue
        a, b = _host_of(connection.client), _host_of(connection.server)
        if a != b:
            edges.setdefault(b, set()).add(a)
    depth: dict[str, int] = {}

    def depth_of(host: str, seen: frozenset[str]) -> int:
        known = depth.get(host)
        if known is not None:
            return known
        callers = edges.get(host, set()) - seen
        value = 0
        if callers:
            value = 1 + max(depth_of(c, seen | {host}) for c in sorted(callers))
        depth[host] = value
        return value

    def rank(line: Lifeline) -> tuple[int, int, int]:
        if line.key == NETWORK:
            return (0, 0, 0)
        if line.key == ATTEMPTS:
            return (1, 0, 0)
        return (2, depth_of(_host_of(line.key), frozenset()), line.first_use)

    return sorted(builder.lifelines.values(), key=rank)


def _title(snapshot: TraceSnapshot) -> str:
    parts = ["poetry.testing trace"]
    if snapshot.seed is not None:
        parts.append(f"seed {snapshot.seed}")
    if snapshot.test_id:
        parts.append(snapshot.test_id)
    return " \N{MIDDLE DOT} ".join(parts)


def _describe_filters(
    connections: Collection[int] | None,
    start: float | None,
    end: float | None,
    omit: Collection[str],
) -> str:
    parts = []
    if connections is not None:
        parts.append("connection " + ", ".join(f"#{c}" for c in sorted(connections)))
    if start is not None or end is not None:
        low = _seconds(start) if start is not None else "start"
        high = _seconds(end) if end is not None else "end"
        parts.append(f"time {low} to {high}")
    if omit:
        parts.append("without " + ", ".join(sorted(omit)))
    return "; ".join(parts)


def _summary(scene: Scene) -> list[str]:
    lines = [
        f"{scene.shown_events} of {scene.total_events} events shown"
        + (f" ({scene.filters})" if scene.filters else "")
        + f", in {len(scene.rows)} rows"
    ]
    if scene.collapsed_runs:
        lines.append(
            f"{scene.collapsed_runs} runs of same-direction data "
            f"({scene.collapsed_events} events) collapsed into one arrow each"
        )
    if scene.omitted_rows:
        lines.append(
            f"{scene.omitted_events} events ({scene.omitted_rows} rows) in the "
            "middle left out"
        )
    return lines


# -- Mermaid

_MERMAID_ARROWS = {
    "write": "-)",
    "deliver": "->>",
    "connect": "-->>",
    "fin": "-->>",
    "reset": "-x",
}


def _mermaid_text(text: str) -> str:
    replaced = []
    for char in text:
        if char == "#":
            replaced.append("#35;")
        elif char == ";":
            replaced.append("#59;")
        elif char == "<":
            replaced.append("#lt;")
        elif char == ">":
            replaced.append("#gt;")
        elif char == '"':
            replaced.append("#quot;")
        elif char in "\r\n":
            replaced.append(" ")
        else:
            replaced.append(char)
    return "".join(replaced)


def render_mermaid(scene: Scene) -> str:
    """
    The scene as a Mermaid C{sequenceDiagram}.
    """
    ids = {line.key: f"P{n}" for n, line in enumerate(scene.lifelines)}
    out = ["sequenceDiagram"]
    out.append(f"    %% {_mermaid_text(scene.title)}")
    for text in scene.summary:
        out.append(f"    %% {_mermaid_text(text)}")
    for line in scene.lifelines:
        name = _mermaid_text(line.title)
        if line.subtitle:
            name += "<br/>" + _mermaid_text(line.subtitle)
        out.append(f"    participant {ids[line.key]} as {name}")
    first = ids[scene.lifelines[0].key] if scene.lifelines else "P0"
    last = ids[scene.lifelines[-1].key] if scene.lifelines else "P0"
    span = first if first == last else f"{first},{last}"
    previous: float | None = None
    for row in scene.rows:
        if row.time != previous or row.until != row.time:
            when = _seconds(row.time)
            if row.until != row.time:
                when += f" to {_seconds(row.until)}"
            out.append(f"    Note over {span}: t = {when}")
        previous = row.until
        label = _mermaid_text(row.label)
        if row.note:
            label += " (" + _mermaid_text(row.note) + ")"
        if row.shape == "arrow":
            arrow = _MERMAID_ARROWS.get(row.style, "->>")
            out.append(f"    {ids[row.start]}{arrow}{ids[row.end]}: {label}")
        else:
            out.append(f"    Note over {ids[row.start]}: {label}")
    return "\n".join(out) + "\n"


# -- SVG

_CHAR = 6.6
_GUTTER = 110
_COLUMN = 270
_TOP = 46
_HEADER = 40
_ROW = 22
_NOTE_ROW = 34
_MARGIN = 16

_COLOURS = {
    "write": "#1f5fbf",
    "deliver": "#0b3d91",
    "connect": "#2e7d32",
    "fin": "#6a1b9a",
    "reset": "#c62828",
    "local": "#37474f",
    "lost": "#37474f",
    "lifecycle": "#37474f",
    "drop": "#8d6e63",
    "error": "#c62828",
    "timer": "#607d8b",
    "fault": "#e65100",
    "other": "#455a64",
}

_FILLS = {
    "error": "#ffebee",
    "fault": "#fff3e0",
    "timer": "#eceff1",
    "lost": "#f5f5f5",
    "drop": "#efebe9",
    "other": "#fffde7",
}

_SVG_STYLE = """
text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       font-size: 11px; fill: #212121; }
.title { font-size: 13px; font-weight: bold; }
.small { font-size: 10px; fill: #546e7a; }
.time { font-size: 10px; fill: #455a64; }
.head rect { fill: #e3f2fd; stroke: #1565c0; }
.life { stroke: #90a4ae; stroke-dasharray: 4 3; }
.tick { stroke: #cfd8dc; }
.arrow line { stroke-width: 1.4; }
.dashed line { stroke-dasharray: 6 3; }
.note rect { stroke-width: 1; }
"""


def _width(text: str) -> int:
    return int(len(text) * _CHAR) + 1


def _svg_text(text: str) -> str:
    return html.escape(text, quote=True)


def render_svg(scene: Scene) -> str:
    """
    The scene as a self-contained SVG document (no scripts, no external
    fonts or images), the same bytes for the same trace.
    """
    columns = {line.key: n for n, line in enumerate(scene.lifelines)}
    column = max(
        [_COLUMN]
        + [
            _width(text) + 24
            for line in scene.lifelines
            for text in (line.title, line.subtitle)
        ]
    )
    width = _GUTTER + column * max(1, len(scene.lifelines)) + _MARGIN
    heights = [(_NOTE_ROW if row.note else _ROW) for row in scene.rows]
    body_top = _TOP + _HEADER + 14
    body_height = sum(heights)
    footer_top = body_top + body_height + 20
    height = footer_top + 16 * (len(scene.summary) + 1) + _MARGIN
    width = max(width, int(len(scene.title) * 8.2) + 2 * _MARGIN, 520)

    def x_of(key: str) -> int:
        return _GUTTER + column * columns[key] + column // 2

    out: list[str] = []
    add = out.append
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    )
    add(f"<title>{_svg_text(scene.title)}</title>")
    add(f"<style>{_SVG_STYLE}</style>")
    add("<defs>")
    for style, colour in sorted(_COLOURS.items()):
        add(
            f'<marker id="head-{style}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
        add(
            f'<marker id="open-{style}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10" fill="none" stroke="{colour}" '
            f'stroke-width="1.5"/></marker>'
        )
        add(
            f'<marker id="cross-{style}" viewBox="0 0 10 10" refX="5" refY="5" '
            f'markerWidth="9" markerHeight="9">'
            f'<path d="M1,1 L9,9 M9,1 L1,9" stroke="{colour}" stroke-width="2"/>'
            f"</marker>"
        )
    add("</defs>")
    add(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    add(f'<text class="title" x="{_MARGIN}" y="22">{_svg_text(scene.title)}</text>')
    if scene.filters:
        add(
            f'<text class="small" x="{_MARGIN}" y="38">'
            f"{_svg_text('showing ' + scene.filters)}</text>"
        )
    add(f'<text class="small" x="{_MARGIN}" y="{_TOP + 24}">virtual time</text>')
    life_bottom = body_top + body_height + 6
    for line in scene.lifelines:
        x = x_of(line.key)
        box = column - 16
        add('<g class="head">')
        add(f"<title>{_svg_text(line.title)} {_svg_text(line.subtitle)}</title>")
        add(
            f'<rect x="{x - box // 2}" y="{_TOP}" width="{box}" '
            f'height="{_HEADER}" rx="4"/>'
        )
        add(
            f'<text x="{x}" y="{_TOP + 16}" text-anchor="middle">'
            f"{_svg_text(line.title)}</text>"
        )
        if line.subtitle:
            add(
                f'<text class="small" x="{x}" y="{_TOP + 31}" '
                f'text-anchor="middle">{_svg_text(line.subtitle)}</text>'
            )
        add("</g>")
        add(
            f'<line class="life" x1="{x}" y1="{_TOP + _HEADER}" x2="{x}" '
            f'y2="{life_bottom}"/>'
        )
    y = body_top
    previous: float | None = None
    for row, row_height in zip(scene.rows, heights, strict=True):
        if row.time != previous or row.until != row.time:
            add(
                f'<line class="tick" x1="{_MARGIN}" y1="{y}" x2="{width - _MARGIN}" '
                f'y2="{y}"/>'
            )
            when = _svg_text(_seconds(row.time))
            add(f'<text class="time" x="{_MARGIN}" y="{y + 14}">{when}</text>')
            if row.until != row.time:
                add(
                    f'<text class="time" x="{_MARGIN}" y="{y + 26}">'
                    f"{_svg_text('to ' + _seconds(row.until))}</text>"
                )
        previous = row.until
        _svg_row(add, row, y, x_of, column, width)
        y += row_height
    y = footer_top
    for text in scene.summary:
        add(f'<text class="small" x="{_MARGIN}" y="{y}">{_svg_text(text)}</text>')
        y += 16
    add(f'<text class="small" x="{_MARGIN}" y="{y}">{_svg_text(_LEGEND)}</text>')
    add("</svg>")
    return "\n".join(out) + "\n"


_LEGEND = (
    "arrows: thin = write, bold = dataReceived [byte range of the stream], "
    "green = connect/accept, purple = FIN, red x = RST/refused; "
    "hover for the events"
)


def _svg_row(add: Any, row: Row, y: int, x_of: Any, column: int, width: int) -> None:
    colour = _COLOURS.get(row.style, _COLOURS["other"])
    tooltip = "\n".join(row.tooltip)
    if row.shape == "arrow":
        x1, x2 = x_of(row.start), x_of(row.end)
        dashed = row.style in ("connect", "fin")
        classes = "arrow dashed" if dashed else "arrow"
        add(f'<g class="{classes} k-{row.style}">')
        add(f"<title>{_svg_text(tooltip)}</title>")
        if row.style == "reset":
            marker = f"url(#cross-{row.style})"
        elif row.style == "write":
            marker = f"url(#open-{row.style})"
        else:
            marker = f"url(#head-{row.style})"
        line_y = y + 15
        stroke = ' stroke-width="2.2"' if row.style == "deliver" else ""
        add(
            f'<line x1="{x1}" y1="{line_y}" x2="{x2}" y2="{line_y}" '
            f'stroke="{colour}"{stroke} marker-end="{marker}"/>'
        )
        span = abs(x2 - x1)
        room = max(44, int((span - 8) / _CHAR))
        label = _cap(row.label, room)
        centre = (x1 + x2) // 2
        add(
            f'<text x="{centre}" y="{y + 11}" text-anchor="middle">'
            f"{_svg_text(label)}</text>"
        )
        if row.note:
            add(
                f'<text class="small" x="{centre}" y="{y + 28}" '
                f'text-anchor="middle">{_svg_text(_cap(row.note, room + 10))}'
                "</text>"
            )
        add("</g>")
        return
    x = x_of(row.start)
    room = max(12, int((column * 1.8) / _CHAR))
    label = _cap(row.label, room)
    box = _width(label) + 10
    # Keep the note inside the picture.
    x = min(max(x, _GUTTER + box // 2), width - _MARGIN - box // 2)
    fill = _FILLS.get(row.style, "#ffffff")
    add(f'<g class="note k-{row.style}">')
    add(f"<title>{_svg_text(tooltip)}</title>")
    add(
        f'<rect x="{x - box // 2}" y="{y + 3}" width="{box}" height="16" rx="3" '
        f'fill="{fill}" stroke="{colour}"/>'
    )
    add(
        f'<text x="{x}" y="{y + 15}" text-anchor="middle" fill="{colour}">'
        f"{_svg_text(label)}</text>"
    )
    if row.note:
        add(
            f'<text class="small" x="{x}" y="{y + 30}" text-anchor="middle">'
            f"{_svg_text(_cap(row.note, room))}</text>"
        )
    add("</g>")


# -- HTML

_HTML_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #212121; }
pre, code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.diagram { overflow-x: auto; border: 1px solid #cfd8dc; padding: 4px; }
.repro { background: #fff8e1; padding: 0.5em; border-left: 4px solid #ffb300; }
details { margin-top: 1em; }
"""

_HTML_TRACE_LINES = 5000


def render_html(scene: Scene, snapshot: TraceSnapshot, mermaid: str) -> str:
    """
    A self-contained HTML page: the SVG picture, the reproduction line, the
    summary, the Mermaid source and the trace as text.  No scripts, no
    external resources.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(scene.title)}</title>",
        f"<style>{_HTML_STYLE}</style></head><body>",
        f"<h1>{html.escape(scene.title)}</h1>",
    ]
    if snapshot.seed is not None:
        line = reproduction_line(snapshot.seed, snapshot.test_id)
        parts.append(f'<p class="repro"><code>{html.escape(line)}</code></p>')
    parts.append("<ul>")
    parts.extend(f"<li>{html.escape(line)}</li>" for line in scene.summary)
    parts.append("</ul>")
    parts.append(f'<div class="diagram">{render_svg(scene)}</div>')
    parts.append("<details><summary>Mermaid source</summary>")
    parts.append(f"<pre>{html.escape(mermaid)}</pre></details>")
    events = snapshot.events
    shown = events[-_HTML_TRACE_LINES:]
    note = (
        f" (the last {len(shown)} of {len(events)})" if len(shown) < len(events) else ""
    )
    parts.append(
        f"<details open><summary>The trace as text{note}</summary>"
        f"<pre>{html.escape(format_events(shown))}</pre></details>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- the public entry points


def trace_diagram(
    source: MemoryNetwork | TraceSnapshot,
    format: str = "svg",
    *,
    connection: int | Collection[int] | None = None,
    start: float | None = None,
    end: float | None = None,
    omit: Collection[str] = (),
    collapse: int = 3,
    max_label: int = 80,
    preview: int = 16,
    max_rows: int = 1500,
) -> str:
    """
    Draw a network's trace (or a saved one) as a sequence diagram.

    @param source: a L{MemoryNetwork} (its trace is read now, see
        L{TraceSnapshot.of}) or a L{TraceSnapshot}.
    @param format: C{"mermaid"} (a C{sequenceDiagram} for Markdown),
        C{"svg"} (a self-contained picture), C{"html"} (a page holding the
        picture, the reproduction line, the Mermaid source and the trace as
        text) or C{"jsonl"} (the saved form, unfiltered; see
        L{TraceSnapshot.jsonl_lines}).
    @param connection: draw only the events of this connection id (or of
        these ids).
    @param start: draw only events at or after this virtual time.
    @param end: draw only events at or before this virtual time.
    @param omit: kinds of event not to draw (e.g. C{{"timer"}}).
    @param collapse: draw a run of at least this many data events of one
        direction of one connection (with the timers between them) as one
        arrow; C{0} collapses nothing.
    @param max_label: the longest label, in characters.
    @param preview: how many first bytes of a data event to show.
    @param max_rows: the most rows drawn: beyond, the first third and the
        last two thirds are kept and the middle is left out (and said so).

    @raise ValueError: for an unknown format.
    """
    if format not in DIAGRAM_FORMATS:
        raise ValueError(
            f"unknown diagram format {format!r}; known: {', '.join(DIAGRAM_FORMATS)}"
        )
    snapshot = source if isinstance(source, TraceSnapshot) else TraceSnapshot.of(source)
    if format == "jsonl":
        return snapshot.to_jsonl()
    scene = build_scene(
        snapshot,
        connection=connection,
        start=start,
        end=end,
        omit=omit,
        collapse=collapse,
        max_label=max_label,
        preview=preview,
        max_rows=max_rows,
    )
    if format == "mermaid":
        return render_mermaid(scene)
    if format == "svg":
        return render_svg(scene)
    return render_html(scene, snapshot, render_mermaid(scene))


DIAGRAM_ENVIRONMENT_VARIABLE = "POETRY_TEST_DIAGRAM"
"""
Set to C{0} to stop L{MemoryNetworkTestCase} writing a diagram for each
failing test.
"""


def write_failure_diagram(
    net: MemoryNetwork, directory: str | os.PathLike[str]
) -> Path:
    """
    Write the diagram of C{net}'s run so far into C{directory} (created if
    needed): C{trace.html} (the picture, reproduction line and trace; opens
    in a browser without network access) and C{trace.jsonl} (the saved
    trace, for C{python -m poetry.testing trace}).  Meant for test runners'
    failure reports (trial's, a pytest plugin's).  It costs about a second
    per 100,000 events of trace.

    @return: the path of C{trace.html}.
    """
    return _write_diagram(TraceSnapshot.of(net), directory)


def _write_diagram(snapshot: TraceSnapshot, directory: str | os.PathLike[str]) -> Path:
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    snapshot.save(folder / "trace.jsonl")
    page = folder / "trace.html"
    page.write_text(trace_diagram(snapshot, "html"), encoding="utf-8")
    return page.resolve()


def diagram_note(net: MemoryNetwork, test: Any) -> str:
    """
    The line a test runner adds to a failing trial test's report: the path
    of the failure diagram (written next to the test's temporary files,
    C{dirname} of C{test.mktemp()}), or why it could not be written; empty
    with C{POETRY_TEST_DIAGRAM=0}.  The diagram is written once per network
    state.
    """
    if os.environ.get(DIAGRAM_ENVIRONMENT_VARIABLE, "").strip() == "0":
        return ""
    return _diagram_line(net, test)


# The last diagram written for each test: (network, trace length, line).
_written: weakref.WeakKeyDictionary[Any, tuple[Any, int, str]] = (
    weakref.WeakKeyDictionary()
)


def _diagram_line(net: MemoryNetwork, test: Any) -> str:
    try:
        snapshot = TraceSnapshot.of(net)
        size = len(snapshot.events)
        cached = _written.get(test)
        if cached is not None and cached[0] is net and cached[1] == size:
            return cached[2]
        directory = os.path.dirname(test.mktemp())
        line = f"diagram of the run: {_write_diagram(snapshot, directory)}"
        _written[test] = (net, size, line)
    except Exception as e:
        line = f"diagram of the run: not written ({type(e).__name__}: {e})"
    return line
