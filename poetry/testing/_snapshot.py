"""
A network's trace as data that outlives the network: L{TraceSnapshot}, and
its saved form, JSON lines.

A snapshot holds the public L{TraceEvent}s, the seed and test id, a label
(the protocol or factory class) for each endpoint address the network could
still name, and the first bytes of each data event where the bytes were
still known.  Everything is read through the public API: L{TraceEvent}
fields, C{listening_ports()}, C{open_connections()} and each transport's
C{getPeer()}, C{protocol} and C{written()}.
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from poetry.testing._trace import TraceEvent

if TYPE_CHECKING:
    from poetry.testing._network import MemoryNetwork

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "HEAD_LIMIT",
    "TraceFormatError",
    "TraceSnapshot",
    "data_size",
    "parse_accept",
    "remember_stream",
    "save_trace",
]

FORMAT_NAME = "poetry-trace"
"""
The C{type} of the first line of a saved trace.
"""

FORMAT_VERSION = 1
"""
The version of the saved format this module writes (and the only one it
reads).
"""

HEAD_LIMIT = 64
"""
At most this many bytes of each data event are kept in a snapshot.
"""

_SIZE = re.compile(r"(\d+) bytes\b")
_ACCEPT = re.compile(r"(\S+:\d+) -> (\S+:\d+)$")

# The kinds of event that carry bytes, and which side wrote them: the side
# of the event ("side") or the other one ("peer").
_DATA_WRITER = {"write": "side", "deliver": "peer"}

# Streams kept for connections a snapshot can no longer reach through
# open_connections(): network -> {(connection id, side): transport}.  Filled
# by helpers of this package that hold transports (scripted peers).
_Remembered = tuple[Any, "str | None", "str | None"]
_remembered: weakref.WeakKeyDictionary[Any, dict[tuple[int, str], _Remembered]] = (
    weakref.WeakKeyDictionary()
)


class TraceFormatError(ValueError):
    """
    A saved trace could not be read: not JSON lines, not a poetry trace, or
    a version this code does not know.
    """


@functools.lru_cache(maxsize=4096)
def data_size(detail: str) -> int | None:
    """
    The byte count of a data event's detail (C{"12 bytes"}, C{"12 bytes,
    crc32 0badf00d"}), or L{None}.
    """
    match = _SIZE.match(detail)
    return int(match.group(1)) if match else None


def parse_accept(detail: str) -> tuple[str, str] | None:
    """
    The C{(client, server)} addresses (C{"host:port"}) of an C{accept}
    event's detail, or L{None}.
    """
    match = _ACCEPT.search(detail)
    return (match.group(1), match.group(2)) if match else None


_OTHER = {"client": "server", "server": "client"}


def data_spans(events: Iterable[TraceEvent]) -> dict[int, tuple[str, int, int]]:
    """
    For each data event (by index): the side that wrote the bytes, and the
    offset and size of the bytes within what that side wrote.

    Writes are counted in the writer's stream; deliveries in the stream the
    receiver reads, which the harness delivers as a prefix of what the
    writer wrote, in order.
    """
    spans: dict[int, tuple[str, int, int]] = {}
    written: dict[tuple[int, str], int] = {}
    read: dict[tuple[int, str], int] = {}
    for index, event in enumerate(events):
        writer_is = _DATA_WRITER.get(event.kind)
        if writer_is is None or event.connection is None:
            continue
        size = data_size(event.detail)
        if size is None:
            continue
        writer = event.side if writer_is == "side" else _OTHER.get(event.side, "")
        if not writer:
            continue
        counts = written if writer_is == "side" else read
        key = (event.connection, writer)
        offset = counts.get(key, 0)
        counts[key] = offset + size
        spans[index] = (writer, offset, size)
    return spans


def remember_stream(
    net: object, transport: Any, address: str | None = None, label: str | None = None
) -> None:
    """
    Keep C{transport} (a L{poetry.testing.MemoryTransport}) so that
    snapshots of C{net} can show the bytes it wrote after its connection is
    gone, and name its endpoint C{address} (C{"host:port"}) C{label}.
    """
    key = (transport.connection_id, transport.side)
    _remembered.setdefault(net, {})[key] = (transport, address, label)


def _address(address: object) -> str | None:
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    if isinstance(host, str) and isinstance(port, int):
        return f"{host}:{port}"
    return None


def _class_name(thing: object) -> str:
    return type(thing).__name__


def _factory_label(factory: object) -> str:
    protocol = getattr(factory, "protocol", None)
    if isinstance(protocol, type):
        return protocol.__name__
    return _class_name(factory)


@attrs.frozen
class TraceSnapshot:
    """
    A network's trace, with what is needed to draw it, independent of the
    network: made by L{TraceSnapshot.of}, saved as JSON lines by L{save}
    and read back by L{load} (or L{from_jsonl}).

    @ivar events: the trace.
    @ivar seed: the network's seed, if known.
    @ivar test_id: the id of the test that ran it, if known.
    @ivar endpoints: a label (protocol or factory class name) for endpoint
        addresses (C{"host:port"}) the network could still name.
    @ivar heads: the first bytes (at most L{HEAD_LIMIT}) carried by data
        events (C{write}, C{deliver}), by event index, where they were
        known: connections still open when the snapshot was taken, or kept
        by a scripted peer.
    """

    events: tuple[TraceEvent, ...]
    seed: int | None = None
    test_id: str | None = None
    endpoints: Mapping[str, str] = attrs.field(factory=dict)
    heads: Mapping[int, bytes] = attrs.field(factory=dict)

    @classmethod
    def of(cls, net: MemoryNetwork, transports: Iterable[Any] = ()) -> TraceSnapshot:
        """
        Take a snapshot of C{net}'s trace now.

        @param transports: more transports whose bytes to show (for
            connections that are closed by now); the network's open
            connections are always used.
        """
        events = net.trace
        endpoints: dict[str, str] = {}
        for port in net.listening_ports():
            address = _address(port.getHost())
            factory = getattr(port, "factory", None)
            if address is not None and factory is not None:
                endpoints[address] = _factory_label(factory)
        streams: dict[tuple[int, str], Any] = {}
        for key, (transport, address, label) in _remembered.get(net, {}).items():
            streams[key] = transport
            if address is not None and label is not None:
                endpoints[address] = label
        for transport in transports:
            streams[(transport.connection_id, transport.side)] = transport
        for client, server in net.open_connections():
            streams[(client.connection_id, "client")] = client
            streams[(server.connection_id, "server")] = server
            for end, peer in ((client, server), (server, client)):
                address = _address(peer.getPeer())
                if address is not None and end.protocol is not None:
                    endpoints.setdefault(address, _class_name(end.protocol))
        written = {key: transport.written() for key, transport in streams.items()}
        heads: dict[int, bytes] = {}
        for index, (writer, offset, size) in data_spans(events).items():
            event = events[index]
            assert event.connection is not None
            stream = written.get((event.connection, writer))
            if stream is not None and offset < len(stream):
                heads[index] = stream[offset : offset + min(size, HEAD_LIMIT)]
        return cls(events, net.seed, net.test_id, endpoints, heads)

    # Saved form

    def jsonl_lines(self) -> Iterator[str]:
        """
        The snapshot as JSON lines: a header, one line per endpoint label,
        one line per event (data events with C{writer}, C{offset}, C{size}
        and, when known, C{head}: the first bytes as a string of code points
        0-255).
        """
        yield _dump(
            {
                "type": FORMAT_NAME,
                "version": FORMAT_VERSION,
                "seed": self.seed,
                "test_id": self.test_id,
                "events": len(self.events),
            }
        )
        for address in sorted(self.endpoints):
            yield _dump(
                {
                    "type": "endpoint",
                    "address": address,
                    "label": self.endpoints[address],
                }
            )
        spans = data_spans(self.events)
        heads = self.heads
        text = _json_text
        for index, event in enumerate(self.events):
            # One event per line, written out by hand: the same text as
            # json.dumps of the record, several times faster on big traces.
            connection = "null" if event.connection is None else str(event.connection)
            line = (
                f'{{"type": "event", "index": {index}, "time": {float(event.time)!r}, '
                f'"kind": {text(event.kind)}, "connection": {connection}, '
                f'"side": {text(event.side)}, "detail": {text(event.detail)}'
            )
            span = spans.get(index)
            if span is not None:
                writer, offset, size = span
                line += (
                    f', "writer": {text(writer)}, "offset": {offset}, "size": {size}'
                )
            head = heads.get(index)
            if head is not None:
                line += f', "head": {_dump(head.decode("latin-1"))}'
            yield line + "}"

    def to_jsonl(self) -> str:
        """
        The saved form (see L{jsonl_lines}), one JSON object per line.
        """
        return "".join(line + "\n" for line in self.jsonl_lines())

    def save(self, path: str | Path) -> Path:
        """
        Write the saved form to C{path}; return the path.
        """
        target = Path(path)
        target.write_text(self.to_jsonl(), encoding="utf-8")
        return target

    @classmethod
    def from_jsonl(cls, text: str) -> TraceSnapshot:
        """
        Read the saved form.  Lines of other types, and keys this version
        does not know, are ignored (so later writers can add to it).

        @raise TraceFormatError: if the text is not a saved poetry trace of
            a known version.
        """
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise TraceFormatError("empty input: not a saved poetry trace")
        records = [_load(number, line) for number, line in enumerate(lines, 1)]
        header = records[0]
        if header.get("type") != FORMAT_NAME:
            raise TraceFormatError(
                f"line 1 is not a {FORMAT_NAME} header: {lines[0][:80]!r}"
            )
        if header.get("version") != FORMAT_VERSION:
            raise TraceFormatError(
                f"saved trace version {header.get('version')!r} is not supported "
                f"(this version of poetry.testing reads version {FORMAT_VERSION})"
            )
        events: list[TraceEvent] = []
        endpoints: dict[str, str] = {}
        heads: dict[int, bytes] = {}
        for number, record in enumerate(records[1:], 2):
            kind = record.get("type")
            if kind == "endpoint":
                endpoints[str(record["address"])] = str(record["label"])
            elif kind == "event":
                try:
                    connection = record["connection"]
                    event = TraceEvent(
                        float(record["time"]),
                        str(record["kind"]),
                        None if connection is None else int(connection),
                        str(record["side"]),
                        str(record["detail"]),
                    )
                except (KeyError, TypeError, ValueError) as e:
                    raise TraceFormatError(f"line {number}: bad event: {e}") from None
                head = record.get("head")
                if isinstance(head, str):
                    heads[len(events)] = head.encode("latin-1", "replace")
                events.append(event)
        seed = header.get("seed")
        test_id = header.get("test_id")
        return cls(
            tuple(events),
            seed if isinstance(seed, int) else None,
            test_id if isinstance(test_id, str) else None,
            endpoints,
            heads,
        )

    @classmethod
    def load(cls, path: str | Path) -> TraceSnapshot:
        """
        Read a saved trace from a file.

        @raise TraceFormatError: see L{from_jsonl}.
        """
        return cls.from_jsonl(Path(path).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=65536)
def _json_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)


def _dump(record: object) -> str:
    return json.dumps(record, ensure_ascii=True, separators=(", ", ": "))


def _load(number: int, line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as e:
        raise TraceFormatError(f"line {number} is not JSON: {e}") from None
    if not isinstance(record, dict):
        raise TraceFormatError(f"line {number} is not a JSON object")
    return record


def save_trace(
    net: MemoryNetwork, path: str | Path, transports: Iterable[Any] = ()
) -> Path:
    """
    Save C{net}'s trace as JSON lines (see L{TraceSnapshot}) to C{path}, for
    C{python -m poetry.testing trace} or other tools; return the path.
    """
    return TraceSnapshot.of(net, transports).save(path)
