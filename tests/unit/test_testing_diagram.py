"""
Tests for the sequence diagrams of a trace (L{poetry.testing.trace_diagram}),
the saved trace (L{poetry.testing.TraceSnapshot}), the diagram a failing
L{MemoryNetworkTestCase} test writes, and C{python -m poetry.testing trace}.

Most tests draw hand-made traces, so that what they pin is the drawing, not
the harness's choice of events.
"""

from __future__ import annotations

import html
import io
import json
import os
import runpy
import sys
from pathlib import Path
from typing import cast
from xml.etree import ElementTree

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from poetry.client import get_poetry
from poetry.server import PoetryServerFactory, SlowPoetryServerFactory
from poetry.testing import (
    DRAWINGS,
    SEED_ENVIRONMENT_VARIABLE,
    Drawing,
    MemoryNetwork,
    MemoryNetworkTestCase,
    Script,
    ScriptDeviation,
    ScriptedPeer,
    SweepFailed,
    TraceEvent,
    TraceFormatError,
    TraceSnapshot,
    save_trace,
    sweep,
    trace_diagram,
    write_failure_diagram,
)
from poetry.testing import _diagram as diagram_module
from poetry.testing._command import main
from poetry.testing._diagram import DIAGRAM_ENVIRONMENT_VARIABLE, Scene, build_scene
from poetry.transform import transform
from tests.unit import diagram_example
from tests.unit.test_testing_support import (
    Recorder,
    RecordingClientFactory,
    RecordingServerFactory,
    connect_pair,
    document_block,
    port_number,
    run_document_example,
)

SERVER = "127.0.0.1:32768"
CLIENT = "127.0.0.1:32769"


def event(
    time: float,
    kind: str,
    connection: int | None = None,
    side: str = "",
    detail: str = "",
) -> TraceEvent:
    return TraceEvent(time, kind, connection, side, detail)


def exchange() -> TraceSnapshot:
    """
    A hand-made trace: a client connects, sends C{hello}, the server answers
    C{bye} half a second later and closes.
    """
    events = (
        event(0.0, "listen", detail=SERVER),
        event(0.0, "connect", 1, "client", SERVER),
        event(0.0, "accept", 1, "server", f"{CLIENT} -> {SERVER}"),
        event(0.0, "write", 1, "client", "5 bytes"),
        event(0.0, "deliver", 1, "server", "5 bytes"),
        event(0.5, "timer", detail="Server.answer"),
        event(0.5, "write", 1, "server", "3 bytes"),
        event(0.5, "close", 1, "server"),
        event(0.5, "deliver", 1, "client", "3 bytes"),
        event(0.5, "connection-lost", 1, "server", "ConnectionDone"),
        event(0.5, "eof", 1, "client"),
        event(0.5, "connection-lost", 1, "client", "ConnectionDone"),
    )
    return TraceSnapshot(
        events,
        seed=7,
        test_id="tests.x.XTests.test_y",
        endpoints={SERVER: "EchoServer", CLIENT: "Asker"},
        heads={3: b"hello", 4: b"hello", 6: b"bye", 8: b"bye"},
    )


MERMAID = """\
sequenceDiagram
    %% poetry.testing trace · seed 7 · tests.x.XTests.test_y
    %% 12 of 12 events shown, in 12 rows
    participant P0 as network<br/>timers, faults
    participant P1 as 127.0.0.1:32768<br/>EchoServer
    participant P2 as 127.0.0.1:32769<br/>Asker
    Note over P0,P2: t = 0 s
    Note over P1: listen
    P2-->>P1: connect #35;1 127.0.0.1:32768
    P1-->>P2: accept #35;1
    P2-)P1: write 5 B [0,5) 'hello'
    P2->>P1: dataReceived 5 B [0,5) 'hello'
    Note over P0,P2: t = 0.5 s
    Note over P0: timer Server.answer
    P1-)P2: write 3 B [0,3) 'bye'
    Note over P1: #35;1 loseConnection()
    P1->>P2: dataReceived 3 B [0,3) 'bye'
    Note over P1: #35;1 connectionLost(ConnectionDone)
    P1-->>P2: FIN (end of stream)
    Note over P2: #35;1 connectionLost(ConnectionDone)
"""


def scene_of(events: list[TraceEvent], **options: object) -> Scene:
    return build_scene(TraceSnapshot(tuple(events)), **options)  # type: ignore[arg-type]


def factory_of(protocol: Recorder) -> RecordingClientFactory:
    return RecordingClientFactory(lambda: protocol)


class MermaidTests(SynchronousTestCase):
    """
    The Mermaid C{sequenceDiagram}.
    """

    def test_exchange(self) -> None:
        """
        One lifeline per endpoint, named by address and protocol; arrows for
        connect, accept, writes, deliveries (byte range and first bytes) and
        FIN; notes for local calls and timers; the time wherever it changes.
        """
        self.assertEqual(trace_diagram(exchange(), "mermaid"), MERMAID)

    def test_textIsEscaped(self) -> None:
        """
        Characters Mermaid would read as syntax (C{#}, C{;}, C{<}, C{>},
        quotes) are written as entity codes; line breaks become spaces.
        """
        text = trace_diagram(
            TraceSnapshot((event(0, "fault", detail='a;b#c<d>"e"\nf'),)), "mermaid"
        )
        self.assertIn(
            "    Note over P0: fault: a#59;b#35;c#lt;d#gt;#quot;e#quot; f",
            text.splitlines(),
        )

    def test_arrowsByStyle(self) -> None:
        """
        Writes are open arrows, deliveries filled, connect and FIN dashed,
        resets and refusals crossed.
        """
        text = trace_diagram(
            TraceSnapshot(
                (
                    event(0, "connect", 1, "client", SERVER),
                    event(0, "refuse", 1, "client", SERVER),
                    event(0, "connect", 2, "client", SERVER),
                    event(0, "accept", 2, "server", f"{CLIENT} -> {SERVER}"),
                    event(0, "reset", 2, "client", "ECONNRESET"),
                )
            ),
            "mermaid",
        )
        self.assertIn("    P1-xP0: refused #35;1", text.splitlines())
        self.assertIn("    P1-xP2: RST arrived (ECONNRESET)", text.splitlines())
        self.assertIn("    P0-->>P1: connect #35;1 127.0.0.1:32768", text.splitlines())


class DrawingTableTests(SynchronousTestCase):
    """
    Each kind of event is drawn as L{DRAWINGS} says, and a kind it does not
    know still shows.
    """

    def connected(self, *more: TraceEvent) -> list[TraceEvent]:
        return [
            event(0, "connect", 1, "client", SERVER),
            event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}"),
            *more,
        ]

    def test_everyKnownKind(self) -> None:
        """
        For every kind in the table, an event of the client side is an
        arrow or a note as the table says, with the table's style.
        """
        for kind, drawing in DRAWINGS.items():
            detail = SERVER if drawing.start == "listener" else "12 bytes"
            connection = None if drawing.start in ("listener", "network") else 1
            scene = scene_of(
                self.connected(event(1, kind, connection, "client", detail))
            )
            row = scene.rows[-1]
            self.assertEqual(
                (row.shape, row.style), (drawing.shape, drawing.style), kind
            )

    def test_sidesOfArrows(self) -> None:
        """
        A write goes from its side to the peer; a delivery, FIN and RST
        come from the peer to their side; the layered core's C{fin} and
        C{rst} leave their side.
        """
        expected = {
            "write": (CLIENT, SERVER),
            "deliver": (SERVER, CLIENT),
            "eof": (SERVER, CLIENT),
            "reset": (SERVER, CLIENT),
            "fin": (CLIENT, SERVER),
            "rst": (CLIENT, SERVER),
        }
        for kind, (start, end) in expected.items():
            row = scene_of(self.connected(event(1, kind, 1, "client", "1 bytes"))).rows[
                -1
            ]
            self.assertEqual((row.start, row.end), (start, end), kind)

    def test_unknownKindIsANoteOnItsSide(self) -> None:
        """
        A kind missing from the table is a note, C{kind detail}, on the
        lifeline of its side; without a connection, on the network's.
        """
        scene = scene_of(
            self.connected(
                event(1, "frobnicate", 1, "server", "3 widgets"),
                event(2, "cosmic-ray", None, "", "bit 7"),
            )
        )
        first, second = scene.rows[-2:]
        self.assertEqual(
            (first.shape, first.start, first.label),
            ("note", SERVER, "#1 frobnicate 3 widgets"),
        )
        self.assertEqual((second.start, second.label), ("network", "cosmic-ray bit 7"))

    def test_aNewKindIsOneEntry(self) -> None:
        """
        Adding a kind to the table is enough to draw it.
        """
        self.patch(
            diagram_module,
            "DRAWINGS",
            {
                **DRAWINGS,
                "syn": Drawing(
                    "arrow", "side", "peer", style="connect", label="SYN {conn}"
                ),
            },
        )
        row = scene_of(self.connected(event(1, "syn", 1, "client"))).rows[-1]
        self.assertEqual(
            (row.shape, row.start, row.end, row.label),
            ("arrow", CLIENT, SERVER, "SYN #1"),
        )

    def test_badTemplate(self) -> None:
        """
        A label template naming an unknown field falls back to C{kind
        detail}.
        """
        self.patch(
            diagram_module, "DRAWINGS", {"odd": Drawing("note", "side", label="{nope}")}
        )
        row = scene_of([event(0, "odd", None, "", "x")]).rows[0]
        self.assertEqual(row.label, "odd x")

    def test_arrowToItselfIsANote(self) -> None:
        """
        An arrow with an unknown end (a FIN on a connection whose server end
        the trace never named), or whose ends fall on one lifeline, is drawn
        as a note.
        """
        row = scene_of([event(0, "eof", 5, "client")]).rows[0]
        self.assertEqual((row.shape, row.start), ("note", "attempts"))
        row = scene_of([event(0, "reset", 5, "server")]).rows[0]
        self.assertEqual((row.shape, row.start), ("note", "attempts"))


class LifelineTests(SynchronousTestCase):
    """
    Who the lifelines are and in which order.
    """

    def test_failedAttempts(self) -> None:
        """
        An attempt that never connected starts on the I{connecting}
        lifeline; its refusal comes from the address it tried.
        """
        scene = scene_of(
            [
                event(0, "connect", 1, "client", "10.0.0.9:80"),
                event(0, "refuse", 1, "client", "10.0.0.9:80"),
                event(0, "connect", 2, "client", "nowhere:80"),
                event(0, "connect-failed", 2, "client", "DNSLookupError: nowhere"),
            ]
        )
        self.assertEqual(
            [line.title for line in scene.lifelines],
            ["connecting", "10.0.0.9:80", "nowhere:80"],
        )
        self.assertEqual(
            (scene.rows[1].start, scene.rows[1].end), ("10.0.0.9:80", "attempts")
        )
        self.assertEqual(scene.rows[3].style, "error")

    def test_wildcardListener(self) -> None:
        """
        Connections accepted by a listener on C{0.0.0.0} share its
        lifeline, whatever address they were made to.
        """
        scene = scene_of(
            [
                event(0, "listen", detail="0.0.0.0:80"),
                event(0, "accept", 1, "server", "10.0.0.1:40000 -> 10.0.0.2:80"),
                event(0, "accept", 2, "server", "10.0.0.1:40001 -> 127.0.0.1:80"),
            ]
        )
        self.assertEqual(
            [line.key for line in scene.lifelines],
            ["10.0.0.1:40000", "10.0.0.1:40001", "0.0.0.0:80"],
        )
        self.assertEqual(scene.lifelines[2].subtitle, "listening")

    def test_orderFollowsTheChainOfHosts(self) -> None:
        """
        Hosts that only connect come first, then the hosts they connect to,
        then the hosts those connect to: client, proxy, server.
        """
        scene = scene_of(
            [
                event(0, "listen", detail="10.0.0.2:80"),
                event(0, "listen", detail="10.0.0.3:81"),
                event(0, "accept", 1, "server", "10.0.1.1:40000 -> 10.0.0.3:81"),
                event(0, "accept", 2, "server", "10.0.0.3:40001 -> 10.0.0.2:80"),
                event(0, "timer", detail="x"),
            ]
        )
        self.assertEqual(
            [line.key for line in scene.lifelines],
            [
                "network",
                "10.0.1.1:40000",
                "10.0.0.3:81",
                "10.0.0.3:40001",
                "10.0.0.2:80",
            ],
        )

    def test_labelsFromTheNetwork(self) -> None:
        """
        A snapshot of a network names listening endpoints by their
        factory's protocol and open connections' ends by their protocols.
        """
        net = MemoryNetwork(1)
        port = net.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
        pair = connect_pair(net)
        snapshot = TraceSnapshot.of(net)
        self.assertEqual(
            snapshot.endpoints[f"127.0.0.1:{port_number(port)}"], "Protocol"
        )
        self.assertEqual(
            snapshot.endpoints[
                f"{pair.client.tcp.getHost().host}:{pair.client.tcp.getHost().port}"
            ],
            "Recorder",
        )
        pair.client.tcp.loseConnection()
        port.stopListening()
        pair.port.stopListening()
        net.run()


class FilterTests(SynchronousTestCase):
    """
    One connection, a time window, kinds left out.
    """

    def two_connections(self) -> list[TraceEvent]:
        return [
            event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}"),
            event(1, "accept", 2, "server", f"127.0.0.1:32770 -> {SERVER}"),
            event(2, "write", 1, "client", "1 bytes"),
            event(3, "write", 2, "client", "1 bytes"),
            event(4, "timer", detail="t"),
        ]

    def test_connection(self) -> None:
        """
        Only the events of the connection asked for; the summary says so.
        """
        scene = scene_of(self.two_connections(), connection=2)
        self.assertEqual([row.time for row in scene.rows], [1, 3])
        self.assertIn("(connection #2)", scene.summary[0])
        scene = scene_of(self.two_connections(), connection=[1, 2])
        self.assertEqual(len(scene.rows), 4)

    def test_timeWindow(self) -> None:
        """
        Only the events from C{start} to C{end}, both included.
        """
        scene = scene_of(self.two_connections(), start=1, end=3)
        self.assertEqual([row.time for row in scene.rows], [1, 2, 3])
        self.assertIn("time 1 s to 3 s", scene.filters)
        self.assertIn(
            "time start to 2 s", scene_of(self.two_connections(), end=2).filters
        )

    def test_omit(self) -> None:
        """
        Kinds left out are not drawn.
        """
        scene = scene_of(self.two_connections(), omit={"timer"})
        self.assertEqual(len(scene.rows), 4)
        self.assertEqual(scene.filters, "without timer")

    def test_lifelinesKnowTheWholeTrace(self) -> None:
        """
        A window that leaves out a connection's accept still names its
        ends.
        """
        scene = scene_of(self.two_connections(), start=2, end=2)
        self.assertEqual([line.key for line in scene.lifelines], [CLIENT, SERVER])


class BigTraceTests(SynchronousTestCase):
    """
    Runs collapse, labels are capped, and the middle of a huge trace is left
    out -- each said in the picture.
    """

    def drip(self, count: int) -> list[TraceEvent]:
        events = [event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}")]
        for n in range(count):
            events += [
                event(n, "timer", detail="Slow.tick"),
                event(n, "write", 1, "server", "10 bytes"),
                event(n, "deliver", 1, "client", "10 bytes"),
            ]
        events.append(event(count, "close", 1, "server"))
        return events

    def test_runCollapses(self) -> None:
        """
        Ten timed writes and their deliveries are one arrow from the writer
        that says what it stands for: counts, bytes, chunk sizes, time span.
        """
        scene = scene_of(self.drip(10))
        self.assertEqual(len(scene.rows), 4)
        _, timer, run, _ = scene.rows
        self.assertEqual(timer.label, "timer Slow.tick")
        self.assertEqual((run.start, run.end, run.events), (SERVER, CLIENT, 29))
        self.assertEqual(
            run.label,
            "#1 write \N{MULTIPLICATION SIGN}10, dataReceived "
            "\N{MULTIPLICATION SIGN}10: 100 B [0,100)",
        )
        self.assertEqual(
            run.note,
            "collapsed 29 events: 10 write, 10 deliver, 9 timer; chunks 10 B each; "
            "t 0 s to 9 s; timers Slow.tick",
        )
        self.assertEqual((run.time, run.until), (0, 9))
        self.assertIn(
            "1 runs of same-direction data (29 events) collapsed into one arrow each",
            scene.summary,
        )
        text = trace_diagram(TraceSnapshot(tuple(self.drip(10))), "mermaid")
        self.assertIn("    Note over P0,P2: t = 0 s to 9 s", text.splitlines())

    def test_writersFlushesStayInTheRun(self) -> None:
        """
        The writer's flushes (its buffer handed to the kernel after each
        write) are part of the run and counted in its note; a flush of the
        other side breaks the run.
        """
        events = [event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}")]
        for n in range(3):
            events += [
                event(n, "write", 1, "server", "10 bytes"),
                event(n, "flush", 1, "server", "10 bytes"),
                event(n, "deliver", 1, "client", "10 bytes"),
            ]
        scene = scene_of(events)
        self.assertEqual(len(scene.rows), 2)
        self.assertEqual(
            scene.rows[1].note,
            "collapsed 9 events: 3 write, 3 flush, 3 deliver; chunks 10 B each; "
            "t 0 s to 2 s",
        )
        events.insert(4, event(0, "flush", 1, "client", "4 bytes"))
        self.assertEqual(len(scene_of(events).rows), 1 + 3 + 1 + 1)

    def test_collapseZero(self) -> None:
        """
        C{collapse=0} draws every event.
        """
        self.assertEqual(len(scene_of(self.drip(10), collapse=0).rows), 32)

    def test_shortRunsStay(self) -> None:
        """
        Fewer data events than C{collapse}, or a run broken by another
        event, are drawn one by one; chunk sizes that differ are given as a
        range.
        """
        events = [
            event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}"),
            event(0, "write", 1, "client", "4 bytes"),
            event(0, "deliver", 1, "server", "4 bytes"),
            event(0, "pause-reading", 1, "server"),
            event(0, "write", 1, "client", "1 bytes"),
            event(0, "write", 1, "client", "7 bytes"),
            event(0, "write", 1, "client", "2 bytes"),
        ]
        scene = scene_of(events)
        self.assertEqual(len(scene.rows), 5)
        self.assertEqual(scene.rows[-1].note.split("; ")[1], "chunks 1-7 B")

    def test_labelsAreCapped(self) -> None:
        """
        A long detail is cut to C{max_label} characters, ending with an
        ellipsis; the tooltip keeps the event whole.
        """
        row = scene_of([event(0, "fault", detail="x" * 500)], max_label=40).rows[0]
        self.assertEqual(len(row.label), 40)
        self.assertTrue(row.label.endswith("…"))
        self.assertIn("x" * 500, row.tooltip[0])

    def test_firstBytes(self) -> None:
        """
        The first C{preview} bytes of a data event, escaped; an ellipsis
        when there are more.
        """
        snapshot = TraceSnapshot(
            (
                event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}"),
                event(0, "write", 1, "client", "20 bytes"),
            ),
            heads={1: b"GET /\r\n\x00\xff'\\abcdefghijklm"},
        )
        row = build_scene(snapshot, preview=12).rows[1]
        self.assertEqual(
            row.label, "write 20 B [0,20) 'GET /\\r\\n\\x00\\xff\\'\\\\a…'"
        )

    def test_oddDataEvents(self) -> None:
        """
        A data event without a byte count, or without a side, is drawn
        with its detail and never collapsed.
        """
        events = [
            event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}"),
            *[event(0, "write", 1, "client", "some bytes") for _ in range(3)],
            event(0, "deliver", 1, "", "3 bytes"),
        ]
        scene = scene_of(events)
        self.assertEqual(len(scene.rows), 5)
        self.assertEqual(scene.rows[1].label, "write some bytes")
        self.assertEqual(scene.rows[4].label, "dataReceived 3 bytes")

    def test_runOfDeliveries(self) -> None:
        """
        A run of deliveries alone (one big write read in pieces) collapses
        too, with its first bytes; a long run's tooltip keeps its first and
        last twenty events.
        """
        events = [
            event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}"),
            *[event(n, "deliver", 1, "server", "2 bytes") for n in range(50)],
        ]
        snapshot = TraceSnapshot(tuple(events), heads={1: b"ab\tc"})
        (_, run) = build_scene(snapshot).rows
        self.assertEqual(
            run.label,
            "#1 dataReceived \N{MULTIPLICATION SIGN}50: 100 B [0,100) 'ab\\tc…'",
        )
        self.assertEqual(len(run.tooltip), 41)
        self.assertEqual(run.tooltip[20], "... 10 more ...")

    def test_runOnOneLifeline(self) -> None:
        """
        A run whose two ends share a lifeline (a connection to itself) is a
        note, with what it stands for under it.
        """
        events = [
            event(0, "accept", 1, "server", f"{SERVER} -> {SERVER}"),
            *[event(0, "write", 1, "client", "1 bytes") for _ in range(3)],
        ]
        text = trace_diagram(TraceSnapshot(tuple(events)), "svg")
        self.assertIn("collapsed 3 events: 3 write", text)
        self.assertEqual(scene_of(events).rows[1].shape, "note")

    def test_faultOfAConnection(self) -> None:
        """
        An event of a connection without a side (a fault) is drawn on the
        client's lifeline.
        """
        scene = scene_of(
            [
                event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}"),
                event(0, "fault", 1, "", "reset at byte 3"),
            ]
        )
        self.assertEqual(scene.rows[1].start, CLIENT)

    def test_middleLeftOut(self) -> None:
        """
        Beyond C{max_rows}, the first third and the last two thirds are kept
        and a row says how much was left out.
        """
        events = [event(n, "timer", detail=f"t{n}") for n in range(100)]
        scene = scene_of(events, max_rows=10)
        self.assertEqual(len(scene.rows), 10)
        self.assertEqual(
            [row.label for row in scene.rows[:3]], ["timer t0", "timer t1", "timer t2"]
        )
        self.assertEqual(
            scene.rows[3].label,
            "... 91 events (91 rows) left out: filter by connection or time",
        )
        self.assertEqual(scene.rows[-1].label, "timer t99")
        self.assertIn("91 events (91 rows) in the middle left out", scene.summary)


class PictureTests(SynchronousTestCase):
    """
    The SVG picture and the HTML page.
    """

    def assertSelfContained(self, text: str) -> None:
        self.assertNotIn("<script", text.lower())
        self.assertNotIn("javascript:", text.lower())
        self.assertNotIn("src=", text)
        self.assertNotIn("@import", text)
        self.assertEqual(
            text.count("http"), text.count('xmlns="http://www.w3.org/2000/svg"')
        )

    def test_svg(self) -> None:
        """
        Well-formed XML; every lifeline titled; every row with a tooltip;
        nothing loaded from elsewhere; the same bytes each time.
        """
        text = trace_diagram(exchange(), "svg")
        root = ElementTree.fromstring(text)
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
        strings = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        for name in ("127.0.0.1:32768", "EchoServer", "127.0.0.1:32769", "Asker"):
            self.assertIn(name, strings)
        self.assertIn("write 5 B [0,5) 'hello'", strings)
        self.assertIn("0.5 s", strings)
        groups = [
            g
            for g in root.iter("{http://www.w3.org/2000/svg}g")
            if "k-" in g.get("class", "")
        ]
        self.assertEqual(len(groups), 12)
        self.assertSelfContained(text)
        self.assertEqual(trace_diagram(exchange(), "svg"), text)

    def test_svgOfCollapsedAndFilteredTrace(self) -> None:
        """
        A collapsed run shows its note and time span; a filter is named
        under the title.
        """
        snapshot = TraceSnapshot(tuple(BigTraceTests().drip(5)))
        text = trace_diagram(snapshot, "svg", start=0, omit={"close"})
        root = ElementTree.fromstring(text)
        strings = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        self.assertIn("showing time 0 s to end; without close", strings)
        self.assertIn("to 4 s", strings)
        self.assertTrue(any(s and s.startswith("collapsed 14 events") for s in strings))

    def test_html(self) -> None:
        """
        The page holds the picture, the reproduction line, the summary, the
        Mermaid source and the trace as text -- and needs nothing else.
        """
        text = trace_diagram(exchange(), "html")
        self.assertTrue(text.startswith("<!DOCTYPE html>"))
        self.assertIn("<svg", text)
        self.assertIn(
            "POETRY_TEST_SEED=7 python -m twisted.trial tests.x.XTests.test_y", text
        )
        self.assertIn("12 of 12 events shown", text)
        self.assertIn("sequenceDiagram", text)
        self.assertIn("connection-lost  client ConnectionDone", text)
        self.assertSelfContained(text)

    def test_htmlShowsTheEndOfALongTrace(self) -> None:
        """
        The text of a very long trace is cut to its last 5000 events, and
        says so.
        """
        events = tuple(event(n, "timer", detail=f"call{n}") for n in range(5005))
        text = trace_diagram(TraceSnapshot(events), "html")
        self.assertIn("The trace as text (the last 5000 of 5005)", text)
        self.assertIn("call5004", text)
        self.assertNotIn("call4\n", text.split("The trace as text")[1])

    def test_oddNamesAreEscaped(self) -> None:
        """
        Endpoint labels from a saved file are escaped too, line breaks
        included.
        """
        snapshot = TraceSnapshot(
            (event(0, "listen", detail=SERVER),), endpoints={SERVER: "Evil\n<Factory>"}
        )
        self.assertIn(
            "    participant P0 as 127.0.0.1:32768<br/>Evil #lt;Factory#gt;",
            trace_diagram(snapshot, "mermaid").splitlines(),
        )
        self.assertIn("Evil\n&lt;Factory&gt;", trace_diagram(snapshot, "svg"))

    def test_unknownFormat(self) -> None:
        """
        An unknown format is a L{ValueError} naming the known ones.
        """
        error = self.assertRaises(ValueError, trace_diagram, exchange(), "png")
        self.assertIn("mermaid, svg, html, jsonl", str(error))


class NetworkDiagramTests(MemoryNetworkTestCase):
    """
    Diagrams of real runs.
    """

    def test_poemFetch(self) -> None:
        """
        A poem fetched from a slow server: connect, accept, the collapsed
        chunks (each write's flush and timer inside the run), the close; the
        network's lifeline first (the connect step is a timer), then the
        server's, named by its protocol.
        """
        factory = SlowPoetryServerFactory(b"x" * 50, self.net, chunk_size=10, delay=1.0)
        port = self.net.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.net.run_until(get_poetry(self.net, "127.0.0.1", port_number(port)))
        lines = trace_diagram(self.net, "mermaid").splitlines()
        server = f"127.0.0.1:{port_number(port)}"
        self.assertIn("    participant P0 as network<br/>timers, faults", lines)
        self.assertIn(
            f"    participant P1 as {server}<br/>SlowPoetryServerProtocol", lines
        )
        self.assertIn("    P2-->>P1: connect #35;1 " + server, lines)
        self.assertIn("    Note over P0: timer ClientTransport.resolveAddress", lines)
        self.assertIn("    P1-->>P2: accept #35;1", lines)
        (run,) = [line for line in lines if line.startswith("    P1-)P2")]
        self.assertTrue(
            run.startswith(
                "    P1-)P2: #35;1 write \N{MULTIPLICATION SIGN}5, dataReceived "
                "\N{MULTIPLICATION SIGN}4: 50 B [0,50) (collapsed 17 events: 5 write, "
                "4 flush, 4 deliver, 4 timer#59; chunks 10 B each#59; t 0 s to 4 s#59; "
                "timers SlowPoetryServerProto"
            ),
            run,
        )
        self.assertIn("    P1->>P2: dataReceived 10 B [40,50)", lines)
        self.assertIn("    P1-->>P2: FIN (end of stream)", lines)

    def test_firstBytesWhileOpen(self) -> None:
        """
        The first bytes of data events are known while their connection is
        open (and kept by scripted peers); a closed connection's bytes are
        gone from the network, so its data events show sizes only.
        """
        pair = connect_pair(self.net)
        self.addCleanup(pair.port.stopListening)
        pair.client.tcp.write(b"ping")
        self.net.run()
        open_snapshot = TraceSnapshot.of(self.net)
        self.assertEqual(sorted(open_snapshot.heads.values()), [b"ping", b"ping"])
        pair.client.tcp.loseConnection()
        self.net.run()
        self.assertEqual(TraceSnapshot.of(self.net).heads, {})
        peer = ScriptedPeer.listen(
            self.net,
            Script().expect(b"hi").send(b"yo").close(),
            cleanup=self.addCleanup,
        )
        client = Recorder(on_made=lambda r: r.tcp.write(b"hi"))
        self.net.connectTCP("127.0.0.1", peer.port_number, factory_of(client))
        self.net.run()
        heads = sorted(TraceSnapshot.of(self.net).heads.values())
        self.assertEqual(heads, [b"hi", b"hi", b"yo", b"yo"])

    def test_networkAndSnapshotAgree(self) -> None:
        """
        Drawing a network is drawing its snapshot.
        """
        port = self.net.listenTCP(
            0, PoetryServerFactory(b"poem"), interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        self.net.run_until(get_poetry(self.net, "127.0.0.1", port_number(port)))
        for format in ("mermaid", "svg", "html", "jsonl"):
            self.assertEqual(
                trace_diagram(self.net, format),
                trace_diagram(TraceSnapshot.of(self.net), format),
            )

    def test_connectionNotAcceptedYet(self) -> None:
        """
        A snapshot of a network with a connection its listening port has
        not accepted yet (no server end) shows the client's bytes and names
        no protocol for it.
        """
        server_factory = RecordingServerFactory()
        port = self.net.listenTCP(0, server_factory, interface="127.0.0.1")
        port.stopReading()
        client = Recorder(on_made=lambda r: r.tcp.write(b"knock"))
        self.net.connectTCP("127.0.0.1", port_number(port), factory_of(client))
        self.net.advance(0)
        # Not listed by open_connections (no server end yet); described.
        self.assertEqual(self.net.open_connections(), [])
        self.assertIn("not accepted yet", self.net.describe())
        snapshot = TraceSnapshot.of(self.net)
        self.assertEqual(list(snapshot.heads.values()), [b"knock"])
        self.assertNotIn("Recorder", snapshot.endpoints.values())
        port.startReading()
        self.net.advance(0)
        client.tcp.loseConnection()
        port.stopListening()

    def test_oneEndLost(self) -> None:
        """
        A snapshot taken while one end of a connection is lost (its
        transport has no protocol any more) and the other is still open
        names the open end by its protocol, and the lost end (whose port
        stopped listening too) not at all.
        """
        pair = connect_pair(self.net)
        server_address = f"127.0.0.1:{port_number(pair.port)}"
        pair.port.stopListening()
        pair.server.tcp.loseConnection()
        self.net.step()
        (ends,) = self.net.open_connections()
        self.assertEqual(ends[1], pair.server.tcp)
        self.assertTrue(pair.server.tcp.disconnected)
        snapshot = TraceSnapshot.of(self.net)
        client_address = f"127.0.0.1:{pair.client.tcp.getHost().port}"
        self.assertEqual(snapshot.endpoints.get(client_address), "Recorder")
        self.assertNotIn(server_address, snapshot.endpoints)
        self.net.run()


class SavedTraceTests(SynchronousTestCase):
    """
    The saved form: JSON lines.
    """

    def test_roundTrip(self) -> None:
        """
        Saving and loading gives the same snapshot back.
        """
        snapshot = exchange()
        self.assertEqual(TraceSnapshot.from_jsonl(snapshot.to_jsonl()), snapshot)
        path = Path(self.mktemp())
        self.assertEqual(snapshot.save(path), path)
        self.assertEqual(TraceSnapshot.load(path), snapshot)

    def test_lines(self) -> None:
        """
        A header, the endpoints, then one line per event; data events say
        who wrote which bytes of the stream.
        """
        lines = [json.loads(line) for line in exchange().to_jsonl().splitlines()]
        self.assertEqual(
            lines[0],
            {
                "type": "poetry-trace",
                "version": 1,
                "seed": 7,
                "test_id": "tests.x.XTests.test_y",
                "events": 12,
            },
        )
        self.assertEqual(
            lines[1], {"type": "endpoint", "address": SERVER, "label": "EchoServer"}
        )
        self.assertEqual(
            lines[9],
            {
                "type": "event",
                "index": 6,
                "time": 0.5,
                "kind": "write",
                "connection": 1,
                "side": "server",
                "detail": "3 bytes",
                "writer": "server",
                "offset": 0,
                "size": 3,
                "head": "bye",
            },
        )

    def test_bytesSurvive(self) -> None:
        """
        Any byte, as a code point from 0 to 255.
        """
        snapshot = TraceSnapshot(
            (
                event(0, "accept", 1, "server", f"{CLIENT} -> {SERVER}"),
                event(0, "write", 1, "client", "256 bytes"),
            ),
            heads={1: bytes(range(256))},
        )
        self.assertEqual(TraceSnapshot.from_jsonl(snapshot.to_jsonl()), snapshot)

    def test_laterAdditionsIgnored(self) -> None:
        """
        Lines of unknown types and unknown keys are skipped.
        """
        text = (
            exchange()
            .to_jsonl()
            .replace('"kind": "listen"', '"kind": "listen", "extra": [1]')
        )
        text += '{"type": "annotation", "text": "hi"}\n\n'
        self.assertEqual(TraceSnapshot.from_jsonl(text), exchange())

    def test_errors(self) -> None:
        """
        Text that is not a saved trace is rejected, saying where and why.
        """
        header = '{"type": "poetry-trace", "version": 1}\n'
        cases = {
            "": "empty input",
            "{": "line 1 is not JSON",
            "[1]\n": "line 1 is not a JSON object",
            '{"type": "other"}\n': "line 1 is not a poetry-trace header",
            '{"type": "poetry-trace", "version": 2}\n': "version 2 is not supported",
            header + '{"type": "event", "time": 0}\n': "line 2: bad event",
            header + '{"type": "event", "time": "x", "kind": "k", "connection": null, '
            '"side": "", "detail": ""}\n': "line 2: bad event",
        }
        for text, message in cases.items():
            error = self.assertRaises(TraceFormatError, TraceSnapshot.from_jsonl, text)
            self.assertIn(message, str(error))

    def test_saveTrace(self) -> None:
        """
        L{save_trace} writes a network's snapshot.
        """
        net = MemoryNetwork(3)
        port = net.listenTCP(0, PoetryServerFactory(b"abc"), interface="127.0.0.1")
        net.run_until(get_poetry(net, "127.0.0.1", port_number(port)))
        path = save_trace(net, self.mktemp())
        loaded = TraceSnapshot.load(path)
        self.assertEqual((loaded.events, loaded.seed), (net.trace, 3))
        port.stopListening()


def run_inner(case: SynchronousTestCase) -> list[str]:
    """
    Run a test case; the reported text of each failure and error.
    """
    result = TestResult()
    case.run(result)
    return [
        cast(Failure, failure).getTraceback()
        for _, failure in result.failures + result.errors
    ]


def diagram_path(text: str) -> Path:
    line = next(line for line in text.splitlines() if line.startswith("diagram of"))
    return Path(line.split(": ", 1)[1])


class FailureDiagramTests(SynchronousTestCase):
    """
    A failing L{MemoryNetworkTestCase} test names the diagram of its run.
    """

    def setUp(self) -> None:
        self.patch(os, "environ", {SEED_ENVIRONMENT_VARIABLE: "99"})

    def test_failingTestNamesItsDiagram(self) -> None:
        """
        The failure's text names a diagram file, just before the seed line;
        the file is an HTML page, next to the test's temporary files, that
        shows the failing exchange; the saved trace is beside it.
        """

        class Inner(MemoryNetworkTestCase):
            def test_fails(self) -> None:
                peer = ScriptedPeer.listen(
                    self.net, Script().send(b"HELLO").close(), cleanup=self.addCleanup
                )
                got = self.net.run_until(
                    get_poetry(self.net, "127.0.0.1", peer.port_number)
                )
                self.assertEqual(got, b"hello")

        case = Inner("test_fails")
        (text,) = run_inner(case)
        lines = text.rstrip().splitlines()
        self.assertTrue(lines[-2].startswith("diagram of the run: "))
        self.assertTrue(lines[-1].startswith("seed=99 "))
        path = diagram_path(text)
        self.assertEqual(path.name, "trace.html")
        self.assertTrue(path.is_absolute())
        self.assertIn(
            os.path.join("Inner", "test_fails"),
            str(path.parent.parent.relative_to(Path.cwd())),
        )
        page = path.read_text("utf-8")
        self.assertIn("write 5 B [0,5) &#x27;HELLO&#x27;", page)
        self.assertIn(html.escape(case.id()), page)
        self.assertNotIn("<script", page)
        saved = TraceSnapshot.load(path.with_name("trace.jsonl"))
        self.assertEqual(saved.test_id, case.id())

    def test_harnessErrorsGetTheirDiagram(self) -> None:
        """
        A harness error, which already names the seed, gets the diagram
        line after its own text, and the seed once.
        """

        class Inner(MemoryNetworkTestCase):
            def test_deadlock(self) -> None:
                self.net.run_until(Deferred())

        (text,) = run_inner(Inner("test_deadlock"))
        self.assertEqual(text.count("POETRY_TEST_SEED=99"), 1)
        self.assertTrue(
            text.rstrip().splitlines()[-1].startswith("diagram of the run: ")
        )
        self.assertTrue(diagram_path(text).exists())

    def test_oneDiagramPerState(self) -> None:
        """
        A test that fails and also logs an error gets one diagram, named by
        both reports.
        """

        class Inner(MemoryNetworkTestCase):
            def test_twice(self) -> None:
                from twisted.python import log

                log.err(RuntimeError("logged"), "an error")
                self.fail("failed")

        texts = run_inner(Inner("test_twice"))
        self.assertEqual(len(texts), 2)
        self.assertEqual(diagram_path(texts[0]), diagram_path(texts[1]))

    def test_switchedOff(self) -> None:
        """
        With C{POETRY_TEST_DIAGRAM=0} no diagram is written; the seed line
        stays.
        """
        os.environ[DIAGRAM_ENVIRONMENT_VARIABLE] = "0"

        class Inner(MemoryNetworkTestCase):
            def test_fails(self) -> None:
                self.fail("no picture")

        (text,) = run_inner(Inner("test_fails"))
        self.assertNotIn("diagram of the run", text)
        self.assertIn("POETRY_TEST_SEED=99", text)

    def test_cannotWrite(self) -> None:
        """
        If the diagram cannot be written, the line says why and the seed
        line still follows.
        """

        class Inner(MemoryNetworkTestCase):
            def mktemp(self) -> str:
                raise OSError("disk full")

            def test_fails(self) -> None:
                self.fail("no room")

        (text,) = run_inner(Inner("test_fails"))
        self.assertIn("diagram of the run: not written (OSError: disk full)", text)
        self.assertTrue(text.rstrip().splitlines()[-1].startswith("seed=99"))

    def test_forOtherRunners(self) -> None:
        """
        L{write_failure_diagram} takes a network and a directory (made if
        needed), writes the page and the saved trace, and returns the page's
        path -- what a pytest plugin needs.
        """
        net = MemoryNetwork(5)
        port = net.listenTCP(0, PoetryServerFactory(b"abc"), interface="127.0.0.1")
        directory = Path(self.mktemp()) / "deeper"
        path = write_failure_diagram(net, directory)
        self.assertEqual(path, (directory / "trace.html").resolve())
        self.assertIn("seed 5", path.read_text("utf-8"))
        self.assertEqual(TraceSnapshot.load(directory / "trace.jsonl").seed, 5)
        port.stopListening()


class TraceCommandTests(SynchronousTestCase):
    """
    C{python -m poetry.testing trace}.
    """

    def setUp(self) -> None:
        self.saved = Path(self.mktemp())
        exchange().save(self.saved)

    def run_main(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        status = main(list(argv), out, err, io.StringIO(stdin))
        return status, out.getvalue(), err.getvalue()

    def test_svgFile(self) -> None:
        """
        C{-o x.svg} writes the SVG picture (the format comes from the
        suffix).
        """
        output = Path(self.mktemp() + ".svg")
        self.assertEqual(
            self.run_main("trace", str(self.saved), "-o", str(output)), (0, "", "")
        )
        self.assertEqual(output.read_text("utf-8"), trace_diagram(exchange(), "svg"))

    def test_formatsAndFilters(self) -> None:
        """
        C{--format} and the filters are those of L{trace_diagram}; without
        an output file, the diagram goes to standard output.
        """
        status, out, _ = self.run_main(
            "trace",
            str(self.saved),
            "--format",
            "mermaid",
            "--connection",
            "1",
            "--start",
            "0.5",
            "--end",
            "0.5",
            "--omit",
            "close",
            "--collapse",
            "0",
            "--max-rows",
            "100",
        )
        self.assertEqual(status, 0)
        self.assertEqual(
            out,
            trace_diagram(
                exchange(),
                "mermaid",
                connection=[1],
                start=0.5,
                end=0.5,
                omit={"close"},
                collapse=0,
                max_rows=100,
            ),
        )

    def test_stdinAndDefaultFormat(self) -> None:
        """
        C{-} reads the saved trace from standard input; the default format
        is SVG.
        """
        status, out, _ = self.run_main("trace", "-", stdin=exchange().to_jsonl())
        self.assertEqual((status, out), (0, trace_diagram(exchange(), "svg")))

    def test_badInput(self) -> None:
        """
        A missing or malformed file: status 2 and one line saying why.
        """
        status, out, err = self.run_main("trace", str(self.saved) + ".missing")
        self.assertEqual((status, out), (2, ""))
        self.assertIn("python -m poetry.testing trace: error: ", err)
        self.assertEqual(
            self.run_main("trace", "-", stdin="nonsense\n")[2],
            "python -m poetry.testing trace: error: line 1 is not JSON: Expecting "
            "value: line 1 column 1 (char 0)\n",
        )

    def test_usage(self) -> None:
        """
        Bad arguments: status 2 and the usage on standard error; C{--help}:
        status 0 and the help on standard output.
        """
        status, out, err = self.run_main("trace")
        self.assertEqual((status, out), (2, ""))
        self.assertIn("the following arguments are required: file", err)
        status, out, err = self.run_main("--help")
        self.assertEqual((status, err), (0, ""))
        self.assertIn("trace", out)

    def test_moduleEntryPoint(self) -> None:
        """
        C{python -m poetry.testing} runs the command and exits with its
        status.
        """
        self.patch(sys, "argv", ["poetry.testing", "trace", str(self.saved) + ".nope"])
        self.patch(sys, "stderr", io.StringIO())
        # run_path, not run_module: under pytest an import hook that cannot
        # hand out code objects claims the plugin's package.
        import poetry.testing

        main = Path(poetry.testing.__file__).parent / "__main__.py"
        error = self.assertRaises(
            SystemExit, runpy.run_path, str(main), run_name="__main__"
        )
        self.assertEqual(error.code, 2)


def _document() -> str:
    return (Path(__file__).parents[2] / "docs" / "testing.md").read_text("utf-8")


class DocumentPictureTests(SynchronousTestCase):
    """
    The picture and the Mermaid text in C{docs/testing.md} are what the code
    draws now.  If one fails after a change of the harness's events, look
    at the new picture and commit it: C{python -m tests.unit.diagram_example}.
    """

    def test_pictureIsCurrent(self) -> None:
        """
        C{docs/trace-example.svg} is what L{diagram_example.draw} draws.
        """
        committed = diagram_example.PICTURE.read_text("utf-8")
        self.assertTrue(
            committed == diagram_example.draw("svg"),
            "docs/trace-example.svg is out of date: regenerate it with "
            "`python -m tests.unit.diagram_example`, look at it, and commit it",
        )

    def test_mermaidIsCurrent(self) -> None:
        """
        The Mermaid block of the guide is the same scenario's Mermaid text.
        """
        shown = document_block("mermaid: tests/unit/diagram_example.py", "mermaid")
        self.assertEqual(shown + "\n", diagram_example.draw("mermaid"))

    def test_guideShowsAndExplainsThePicture(self) -> None:
        """
        The guide shows the picture and names the command that draws it.
        """
        document = _document()
        self.assertIn("](trace-example.svg)", document)
        self.assertIn("python -m tests.unit.diagram_example", document)

    def test_commandWritesThePicture(self) -> None:
        """
        The command writes the picture to the path it is given.
        """
        target = Path(self.mktemp())
        self.patch(sys, "stdout", io.StringIO())
        self.assertEqual(diagram_example.main([str(target)]), 0)
        self.assertEqual(target.read_text("utf-8"), diagram_example.draw("svg"))
        ElementTree.fromstring(target.read_text("utf-8"))


class DocumentExampleTests(SynchronousTestCase):
    """
    The examples of the guide's section on diagrams, scripted peers and
    sweeps run exactly as shown, and the outputs it shows are the real
    ones.
    """

    def test_scripted(self) -> None:
        """
        The scripted-peer example.
        """
        run_document_example(self, "scripted", 2)

    def test_sweep(self) -> None:
        """
        The sweep example; and the failure it shows is the real one.
        """
        namespace = run_document_example(self, "sweep", 2)
        scenario = namespace["fetch_under_chaos"]
        error = self.assertRaises(
            SweepFailed,
            sweep,
            scenario,
            range(100),
            points=["the whole poem", "cut mid-poem", "cut before the first byte"],
        )
        self.assertEqual(str(error), document_block("output: sweep", "text"))

    def test_deviation(self) -> None:
        """
        The deviation shown is the real one: the transform client asks for
        C{abce} where the scripted server expects C{abcd}.
        """
        net = MemoryNetwork(1)
        peer = ScriptedPeer.listen(
            net,
            Script().expect(b"10:upper.abcd,").send(b"4:ABCD,").close(),
            name="transform server",
            cleanup=lambda check: None,
        )
        d = transform(net, "127.0.0.1", peer.port_number, "upper", b"abce")
        d.addErrback(lambda failure: None)
        net.run()
        error = self.assertRaises(ScriptDeviation, peer.assert_done)
        self.assertEqual(str(error), document_block("output: deviation", "text"))
