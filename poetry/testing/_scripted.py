"""
Scripted peers: a server or client that follows a script -- expect these
bytes, send those, wait, half-close, close, reset -- and fails with a
byte-level diff when the other side deviates::

    script = (
        Script()
        .expect(b"13:upper.hello,")
        .send(b"5:HELLO,")
        .close()
    )
    peer = ScriptedPeer.listen(net, script, cleanup=self.addCleanup)
    ...  # point the code under test at peer.port_number

A script is a value (a tuple of typed steps): build it with the chained
calls of L{Script}, or from the step classes, and join scripts with C{+}.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, cast

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IDelayedCall,
    IHalfCloseableProtocol,
    IListeningPort,
    IReactorTCP,
    IReactorTime,
)
from twisted.internet.protocol import (
    ClientFactory,
    Protocol,
    ServerFactory,
    connectionDone,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.testing._snapshot import remember_stream

__all__ = [
    "Close",
    "Expect",
    "ExpectClose",
    "ExpectReset",
    "HalfClose",
    "Read",
    "Reset",
    "Script",
    "ScriptDeviation",
    "ScriptError",
    "ScriptNotFinished",
    "ScriptRun",
    "ScriptedPeer",
    "Send",
    "Step",
    "Wait",
]

_log = Logger()

_SHOWN = 48


def show_bytes(data: bytes, limit: int = _SHOWN) -> str:
    """
    C{repr(data)}, cut to C{limit} bytes with the number of bytes left out.
    """
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}... ({len(data) - limit} more bytes)"


def _bytes(instance: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
    if not isinstance(value, bytes):
        raise TypeError(
            f"{attribute.name} must be bytes, not {type(value).__name__} ({value!r})"
        )
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


def _count(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be an int >= 1, not {value!r}")


def _seconds(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"{attribute.name} must be a finite number >= 0, not {value!r}"
        )


@attrs.frozen
class Send:
    """
    Write C{data}.
    """

    data: bytes = attrs.field(validator=_bytes)

    def describe(self) -> str:
        return f"send({show_bytes(self.data)})"


@attrs.frozen
class Expect:
    """
    Read exactly C{data} (however it is cut into chunks).
    """

    data: bytes = attrs.field(validator=_bytes)

    def describe(self) -> str:
        return f"expect({show_bytes(self.data)})"


@attrs.frozen
class Read:
    """
    Read C{count} bytes, whatever they are.
    """

    count: int = attrs.field(validator=_count)

    def describe(self) -> str:
        return f"read({self.count})"


@attrs.frozen
class Wait:
    """
    Do nothing for C{seconds} of the reactor's time (bytes that arrive
    meanwhile wait for the next step that reads).
    """

    seconds: float = attrs.field(validator=_seconds)

    def describe(self) -> str:
        return f"wait({self.seconds!r})"


@attrs.frozen
class HalfClose:
    """
    Shut the write side (C{loseWriteConnection}): the peer reads the end of
    the stream; this side can still read.
    """

    def describe(self) -> str:
        return "half_close()"


@attrs.frozen
class Close:
    """
    Close the connection (C{loseConnection}): the peer reads what was sent,
    then the end of the stream.
    """

    def describe(self) -> str:
        return "close()"


@attrs.frozen
class Reset:
    """
    Reset the connection (C{abortConnection}): unsent bytes are dropped and
    the peer's connection is lost uncleanly.
    """

    def describe(self) -> str:
        return "reset()"


@attrs.frozen
class ExpectClose:
    """
    Expect the end of the stream (the peer closed or half-closed cleanly)
    and no more bytes.
    """

    def describe(self) -> str:
        return "expect_close()"


@attrs.frozen
class ExpectReset:
    """
    Expect the connection to be lost uncleanly (the peer aborted, or the
    connection was reset), and no more bytes.
    """

    def describe(self) -> str:
        return "expect_reset()"


Step = (
    Send | Expect | Read | Wait | HalfClose | Close | Reset | ExpectClose | ExpectReset
)
_STEPS = (Send, Expect, Read, Wait, HalfClose, Close, Reset, ExpectClose, ExpectReset)
_INPUT = (Expect, Read, ExpectClose, ExpectReset)


def _check_steps(
    instance: object,
    attribute: attrs.Attribute[tuple[Step, ...]],
    steps: tuple[Step, ...],
) -> None:
    half_closed = input_ended = False
    for number, step in enumerate(steps, 1):
        if not isinstance(step, _STEPS):
            raise TypeError(f"step {number} is not a script step: {step!r}")
        where = f"step {number} ({step.describe()})"
        if number > 1 and isinstance(steps[number - 2], (Close, Reset, ExpectReset)):
            raise ValueError(
                f"{where} follows {steps[number - 2].describe()}: the connection "
                "is gone by then"
            )
        if half_closed and isinstance(step, (Send, HalfClose)):
            raise ValueError(f"{where} follows half_close(): the write side is shut")
        if input_ended and isinstance(step, _INPUT):
            raise ValueError(
                f"{where} follows expect_close(): nothing more can be read"
            )
        if isinstance(step, HalfClose):
            half_closed = True
        if isinstance(step, ExpectClose):
            input_ended = True


def _to_steps(values: Iterable[Step]) -> tuple[Step, ...]:
    return tuple(values)


@attrs.frozen
class Script:
    """
    What a L{ScriptedPeer} does on each connection, step by step.  Each
    method returns a new script with one more step; scripts join with
    C{+}.

    @raise ValueError: for a step that cannot follow the ones before it
        (anything after C{close()}, C{reset()} or C{expect_reset()}; a send
        after C{half_close()}; a read after C{expect_close()}).
    """

    steps: tuple[Step, ...] = attrs.field(
        default=(), converter=_to_steps, validator=_check_steps
    )

    def __add__(self, other: Script) -> Script:
        return Script(self.steps + other.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def then(self, *steps: Step) -> Script:
        """
        This script followed by C{steps}.
        """
        return Script(self.steps + steps)

    def send(self, data: bytes) -> Script:
        """
        Then write C{data}.
        """
        return self.then(Send(data))

    def expect(self, data: bytes) -> Script:
        """
        Then read exactly C{data}; anything else is a deviation.
        """
        return self.then(Expect(data))

    def read(self, count: int) -> Script:
        """
        Then read C{count} bytes, whatever they are.
        """
        return self.then(Read(count))

    def wait(self, seconds: float) -> Script:
        """
        Then wait C{seconds} of the reactor's time.
        """
        return self.then(Wait(seconds))

    def drip(self, data: bytes, *, size: int = 1, interval: float) -> Script:
        """
        Then send C{data} in pieces of C{size} bytes, C{interval} seconds
        apart (the first at once).
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be an int >= 1, not {size!r}")
        steps: list[Step] = []
        for offset in range(0, len(data), size):
            if offset:
                steps.append(Wait(interval))
            steps.append(Send(data[offset : offset + size]))
        return self.then(*steps)

    def half_close(self) -> Script:
        """
        Then shut the write side.
        """
        return self.then(HalfClose())

    def close(self) -> Script:
        """
        Then close the connection.
        """
        return self.then(Close())

    def reset(self) -> Script:
        """
        Then reset (abort) the connection.
        """
        return self.then(Reset())

    def expect_close(self) -> Script:
        """
        Then expect the peer's clean close (end of stream).
        """
        return self.then(ExpectClose())

    def expect_reset(self) -> Script:
        """
        Then expect the connection to be lost uncleanly.
        """
        return self.then(ExpectReset())

    def describe(self) -> str:
        """
        The steps, one per line, numbered.
        """
        return "\n".join(
            f"{number:4d}. {step.describe()}"
            for number, step in enumerate(self.steps, 1)
        )


class ScriptError(AssertionError):
    """
    A scripted peer's script was not followed (a test failure).
    """


class ScriptDeviation(ScriptError):
    """
    The other side did something the script did not expect.

    @ivar peer: the scripted peer's name.
    @ivar step: the number (from 1) of the step that was not met, or one
        past the last step for input after the end of the script.
    @ivar expected: the bytes the step expected (C{b""} for an expected
        close, or when no input was expected).
    @ivar actual: the bytes that came instead (from the start of the step;
        C{b""} if none).
    @ivar offset: the offset, in the stream the peer received, of the first
        byte that differs (or is missing), or L{None} when no byte was
        expected.
    """

    def __init__(
        self,
        message: str,
        *,
        peer: str,
        step: int,
        expected: bytes,
        actual: bytes,
        offset: int | None,
    ) -> None:
        super().__init__(message)
        self.peer = peer
        self.step = step
        self.expected = expected
        self.actual = actual
        self.offset = offset


class ScriptNotFinished(ScriptError):
    """
    A scripted peer's script was not played to its end by the time it was
    checked.
    """


def _escape(byte: int) -> str:
    text = repr(bytes([byte]))[2:-1]
    return "\\'" if text == "'" else text


def first_difference(expected: bytes, actual: bytes) -> int:
    """
    The index of the first byte that differs, or the length of the shorter.
    """
    for index, (a, b) in enumerate(zip(expected, actual, strict=False)):
        if a != b:
            return index
    return min(len(expected), len(actual))


def byte_diff(expected: bytes, actual: bytes, base: int, *, context: int = 24) -> str:
    """
    Two aligned lines showing C{expected} and C{actual} around the first
    difference, and a caret under it.

    @param base: the stream offset of the first byte of both.
    """
    index = first_difference(expected, actual)
    low = max(0, index - context)
    cells_expected = [_escape(b) for b in expected[low : index + context]]
    cells_actual = [_escape(b) for b in actual[low : index + context]]
    width = [
        max(
            len(cells_expected[i]) if i < len(cells_expected) else 0,
            len(cells_actual[i]) if i < len(cells_actual) else 0,
        )
        for i in range(max(len(cells_expected), len(cells_actual)))
    ]

    def line(cells: list[str], total: int) -> str:
        body = "".join(cell.ljust(width[i]) for i, cell in enumerate(cells))
        start = "..." if low else "   "
        end = "..." if low + len(cells) < total else ""
        return f"{start}b'{body.rstrip()}'{end}"

    caret = "   " + "  " + "".join(" " * w for w in width[: index - low]) + "^"
    return (
        f"    expected: {line(cells_expected, len(expected))}\n"
        f"    actual:   {line(cells_actual, len(actual))}\n"
        f"              {caret}  offset {base + index}"
    )


class ScriptRun:
    """
    One connection of a L{ScriptedPeer}, following the script.

    @ivar received: every byte received.
    @ivar finished: whether every step was played.
    @ivar deviation: the deviation that stopped the script, or L{None}.
    @ivar step: how many steps were played.
    @ivar connection_id: the connection's id in the network's trace (if the
        transport has one).
    @ivar write_shut: whether this side's write side was shut (after
        C{half_close()}).
    """

    def __init__(self, peer: ScriptedPeer) -> None:
        self.peer = peer
        self.steps = peer.script.steps
        self.step = 0
        self.finished = False
        self.deviation: ScriptDeviation | None = None
        self.connection_id: int | None = None
        self._chunks: list[bytes] = []
        self._buffer = b""
        # The stream offset of the first byte of _buffer.
        self._consumed = 0
        self._eof = False
        self._lost: Failure | None = None
        self._closed = False
        self._timer: IDelayedCall | None = None
        self._transport: Any = None
        self.write_shut = False
        self._stopped = False

    @property
    def received(self) -> bytes:
        return b"".join(self._chunks)

    def __repr__(self) -> str:
        return f"<ScriptRun of {self.peer.name!r} at step {self.step}>"

    # Events from the protocol

    def made(self, transport: Any) -> None:
        self._transport = transport
        connection_id = getattr(transport, "connection_id", None)
        if isinstance(connection_id, int):
            self.connection_id = connection_id
        network = self.peer.network
        if network is not None:
            address = transport.getHost()
            remember_stream(
                network,
                transport,
                f"{address.host}:{address.port}",
                f"ScriptedPeer {self.peer.name!r}",
            )
            # What the peer wrote, as far as this side read it.
            other = {"client": "server", "server": "client"}.get(
                getattr(transport, "side", ""), ""
            )
            if other and self.connection_id is not None:
                remember_stream(network, _Received(self, self.connection_id, other))
        self.advance()

    def data(self, data: bytes) -> None:
        self._chunks.append(data)
        if self.deviation is not None:
            return
        self._buffer += data
        self.advance()

    def end_of_stream(self) -> None:
        self._eof = True
        self.advance()

    def lost(self, reason: Failure) -> None:
        if reason.check(ConnectionDone):
            self._eof = True
        self._lost = reason
        self._transport = None
        self.advance()

    # The script

    def advance(self) -> None:
        """
        Play steps until one has to wait (for input or time), the script
        ends, or the peer deviates.
        """
        while self.deviation is None and self._timer is None and not self._stopped:
            if self.step == len(self.steps):
                self._at_end()
                return
            step = self.steps[self.step]
            if not self._play(step):
                return
            self.step += 1

    def _play(self, step: Step) -> bool:
        if isinstance(step, Wait):
            self._timer = self.peer.clock.callLater(step.seconds, self._waited)
            return False
        if isinstance(step, (Send, HalfClose, Close, Reset)):
            return self._act(step)
        if isinstance(step, (Expect, Read)):
            return self._read(step)
        return self._expect_end(step)

    def _waited(self) -> None:
        self._timer = None
        self.step += 1
        self.advance()

    def _act(self, step: Send | HalfClose | Close | Reset) -> bool:
        transport = self._transport
        if transport is None:
            reason = self._lost.type.__name__ if self._lost and self._lost.type else "?"
            self._deviate(
                f"the connection was lost ({reason}) before this step",
                expected=b"",
                offset=None,
            )
            return False
        if isinstance(step, Send):
            transport.write(step.data)
        elif isinstance(step, HalfClose):
            transport.loseWriteConnection()
        elif isinstance(step, Close):
            self._closed = True
            transport.loseConnection()
        else:
            self._closed = True
            transport.abortConnection()
        return True

    def _read(self, step: Expect | Read) -> bool:
        want = step.data if isinstance(step, Expect) else None
        count = len(want) if want is not None else cast(Read, step).count
        buffer = self._buffer
        have = buffer[:count]
        if want is not None and have != want[: len(have)]:
            self._deviate("different bytes came", expected=want, offset=None)
            return False
        if len(have) == count:
            self._buffer = buffer[count:]
            self._consumed += count
            return True
        if self._eof or self._lost is not None:
            how = self._how_it_ended()
            self._deviate(
                f"{how} after {len(have)} of the {count} bytes",
                expected=want if want is not None else b"",
                offset=self._consumed + len(have),
            )
            return False
        return False

    def _how_it_ended(self) -> str:
        lost = self._lost
        if lost is not None and not lost.check(ConnectionDone):
            name = lost.type.__name__ if lost.type is not None else "?"
            return f"the connection was lost ({name})"
        return "the peer closed the stream"

    def _expect_end(self, step: ExpectClose | ExpectReset) -> bool:
        if self._buffer:
            self._deviate(
                "bytes came instead of the "
                + ("close" if isinstance(step, ExpectClose) else "reset"),
                expected=b"",
                offset=self._consumed,
            )
            return False
        lost = self._lost
        clean = self._eof
        if isinstance(step, ExpectClose):
            if clean:
                return True
            if lost is not None:
                self._deviate(
                    f"{self._how_it_ended()} instead of a clean close",
                    expected=b"",
                    offset=None,
                )
            return False
        if lost is not None and not lost.check(ConnectionDone):
            return True
        if clean:
            self._deviate(
                "the peer closed cleanly instead of resetting",
                expected=b"",
                offset=None,
            )
        return False

    def _at_end(self) -> None:
        if self._buffer:
            self._deviate(
                "bytes came after the end of the script",
                expected=b"",
                offset=self._consumed,
            )
            return
        if not self.finished:
            self.finished = True
            self.peer._run_finished(self)
        if self._eof and not self._closed and self._transport is not None:
            self._closed = True
            self._transport.loseConnection()

    def _deviate(self, what: str, *, expected: bytes, offset: int | None) -> None:
        actual = self._buffer
        number = self.step + 1
        if number <= len(self.steps):
            step = self.steps[self.step].describe()
            where = f"step {number} of {len(self.steps)}, {step}"
        else:
            where = f"after the last of {len(self.steps)} steps"
        lines = [
            f"scripted peer {self.peer.name!r}"
            + (f" (connection #{self.connection_id})" if self.connection_id else "")
            + f" at {where}: {what}"
        ]
        if expected and actual and offset is None:
            lines.append(byte_diff(expected, actual, self._consumed))
            offset = self._consumed + first_difference(expected, actual)
        else:
            lines.append(f"    expected: {show_bytes(expected)}")
            lines.append(f"    actual:   {show_bytes(actual)}")
            if offset is not None:
                lines.append(f"    at offset {offset} of the received stream")
        received = self.received
        lines.append(
            f"    received so far ({len(received)} bytes): {show_bytes(received)}"
        )
        deviation = ScriptDeviation(
            "\n".join(lines),
            peer=self.peer.name,
            step=number,
            expected=expected,
            actual=actual,
            offset=offset,
        )
        self.deviation = deviation
        self.peer._report(deviation)
        transport = self._transport
        if transport is not None and not self._closed:
            self._closed = True
            transport.abortConnection()
        self.peer._run_finished(self)

    def describe(self) -> str:
        """
        Where this run stands.
        """
        if self.deviation is not None:
            return str(self.deviation)
        if self.finished:
            return "finished"
        step = self.steps[self.step]
        state = f"at step {self.step + 1} of {len(self.steps)}: {step.describe()}"
        if isinstance(step, Wait):
            state = "waiting, " + state
        return (
            f"{state}; {len(self.received)} bytes received, "
            f"{len(self._buffer)} not yet read by a step"
            + (f" ({show_bytes(self._buffer)})" if self._buffer else "")
            + ("; the peer closed" if self._eof else "")
            + ("; stopped" if self._stopped else "")
        )

    def stop(self) -> None:
        """
        Stop playing: cancel a pending wait and abort the connection.
        """
        self._stopped = True
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        transport = self._transport
        if transport is not None and not self._closed:
            self._closed = True
            transport.abortConnection()


class _Received:
    """
    The other side's stream, as far as a scripted peer read it, shaped like
    a transport for L{remember_stream}.
    """

    def __init__(self, run: ScriptRun, connection_id: int, side: str) -> None:
        self.run = run
        self.connection_id = connection_id
        self.side = side

    def written(self) -> bytes:
        return self.run.received


@implementer(IHalfCloseableProtocol)
class _ScriptProtocol(Protocol):
    def __init__(self, run: ScriptRun) -> None:
        self.run = run

    def connectionMade(self) -> None:
        self.run.made(self.transport)

    def dataReceived(self, data: bytes) -> None:
        self.run.data(data)

    def readConnectionLost(self) -> None:
        self.run.end_of_stream()

    def writeConnectionLost(self) -> None:
        self.run.write_shut = True

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.run.lost(reason)


class ScriptedServerFactory(ServerFactory[_ScriptProtocol]):
    """
    The factory of a scripted server: each connection plays the script from
    the start; after the last connection expected, it stops listening.
    """

    def __init__(self, peer: ScriptedPeer) -> None:
        self.peer = peer

    def buildProtocol(self, addr: IAddress | None) -> _ScriptProtocol | None:
        return self.peer._accept()


class ScriptedClientFactory(ClientFactory[_ScriptProtocol]):
    """
    The factory of a scripted client.
    """

    def __init__(self, peer: ScriptedPeer) -> None:
        self.peer = peer

    def buildProtocol(self, addr: IAddress | None) -> _ScriptProtocol | None:
        return self.peer._accept()

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.peer._connect_failed(reason)


def _network_of(reactor: object) -> Any:
    from poetry.testing._hosts import HostReactor
    from poetry.testing._network import MemoryNetwork

    if isinstance(reactor, MemoryNetwork):
        return reactor
    if isinstance(reactor, HostReactor):
        return reactor.network
    return None


class ScriptedPeer:
    """
    A server or client that plays a L{Script} on each connection, and fails
    with a L{ScriptDeviation} -- expected bytes, actual bytes, offset --
    when the other side deviates from it.

    Make one with L{listen} or L{connect}, on a L{MemoryNetwork}, one of its
    hosts, or any reactor providing L{IReactorTCP} and L{IReactorTime}.

    On a deviation the peer aborts the connection (so the code under test
    sees a reset rather than waiting for ever) and keeps the
    L{ScriptDeviation} for L{assert_done}.  A script must also be played to
    its end: L{assert_done} fails with L{ScriptNotFinished} otherwise.

    Pass C{cleanup=self.addCleanup} (or pytest's C{request.addfinalizer}):
    when the test ends, the network first runs what needs no time, then
    L{assert_done} runs and a failure fails the test (and the peer stops, so
    that the network's own cleanliness check does not repeat it).  Without
    C{cleanup}, call L{assert_done} yourself; a deviation is then also
    logged as an error the moment it happens, so that trial fails the test
    even if nobody checks.

    @ivar script: the script.
    @ivar name: the name shown in failures and diagrams.
    @ivar runs: one L{ScriptRun} per connection, in order.
    @ivar port: the listening port of a server (L{None} for a client).
    """

    def __init__(
        self,
        reactor: IReactorTCP,
        script: Script,
        *,
        name: str,
        connections: int,
        cleanup: Callable[[Callable[[], None]], object] | None,
    ) -> None:
        if not isinstance(script, Script):
            raise TypeError(f"script must be a Script, not {script!r}")
        if not IReactorTime.providedBy(reactor):
            raise TypeError("a scripted peer needs a reactor providing IReactorTime")
        if isinstance(connections, bool) or not isinstance(connections, int):
            raise TypeError(f"connections must be an int, not {connections!r}")
        if connections < 1:
            raise ValueError(f"connections must be at least 1, not {connections!r}")
        self.reactor = reactor
        self.clock = cast(IReactorTime, reactor)
        self.network = _network_of(reactor)
        self.script = script
        self.name = name
        self.connections = connections
        self.runs: list[ScriptRun] = []
        self.port: IListeningPort | None = None
        self._failure: ScriptDeviation | None = None
        self._connect_error: str | None = None
        self._checked_at_teardown = cleanup is not None
        self._waiting: list[Deferred[None]] = []
        if cleanup is not None:
            cleanup(self._check_at_teardown)

    def __repr__(self) -> str:
        return f"<ScriptedPeer {self.name!r}: {len(self.runs)} connection(s)>"

    @classmethod
    def listen(
        cls,
        reactor: IReactorTCP,
        script: Script,
        port: int = 0,
        *,
        interface: str | None = None,
        connections: int = 1,
        name: str = "scripted server",
        cleanup: Callable[[Callable[[], None]], object] | None = None,
    ) -> ScriptedPeer:
        """
        A scripted server listening on C{interface}:C{port}; it plays the
        script on each of the next C{connections} connections, then stops
        listening.

        @param interface: by default, the host's own address for a reactor
            of one host of a network (L{MemoryNetwork.host}), else
            C{127.0.0.1}.
        @param cleanup: called with the end-of-test check (see the class
            docstring), e.g. C{self.addCleanup}.
        """
        if interface is None:
            from poetry.testing._hosts import HostReactor

            interface = "" if isinstance(reactor, HostReactor) else "127.0.0.1"
        peer = cls(reactor, script, name=name, connections=connections, cleanup=cleanup)
        # IReactorTCP.listenTCP is annotated with the default ServerFactory,
        # which a factory of a more specific protocol does not match.
        factory = cast(ServerFactory, ScriptedServerFactory(peer))
        peer.port = reactor.listenTCP(port, factory, interface=interface)
        return peer

    @classmethod
    def connect(
        cls,
        reactor: IReactorTCP,
        script: Script,
        host: str,
        port: int,
        *,
        timeout: float = 30.0,
        name: str = "scripted client",
        cleanup: Callable[[Callable[[], None]], object] | None = None,
    ) -> ScriptedPeer:
        """
        A scripted client connecting to C{host}:C{port}; it plays the script
        once connected.  Failing to connect is a deviation.
        """
        peer = cls(reactor, script, name=name, connections=1, cleanup=cleanup)
        reactor.connectTCP(host, port, ScriptedClientFactory(peer), timeout=timeout)
        return peer

    @property
    def port_number(self) -> int:
        """
        The port a scripted server listens on.

        @raise ValueError: for a client.
        """
        if self.port is None:
            raise ValueError(f"{self.name!r} is a client: it has no port")
        address = self.port.getHost()
        port: int = getattr(address, "port")  # noqa: B009 (IAddress has no port)
        return port

    # From the factories

    def _accept(self) -> _ScriptProtocol | None:
        if len(self.runs) >= self.connections:
            return None
        run = ScriptRun(self)
        self.runs.append(run)
        if len(self.runs) == self.connections and self.port is not None:
            self.port.stopListening()
        return _ScriptProtocol(run)

    def _connect_failed(self, reason: Failure) -> None:
        name = reason.type.__name__ if reason.type is not None else "?"
        self._connect_error = f"could not connect: {name}: {reason.getErrorMessage()}"
        deviation = ScriptDeviation(
            f"scripted peer {self.name!r}: {self._connect_error}",
            peer=self.name,
            step=1,
            expected=b"",
            actual=b"",
            offset=None,
        )
        self._failure = deviation
        self._report(deviation)
        self._notify()

    def _report(self, deviation: ScriptDeviation) -> None:
        if self._checked_at_teardown:
            # The check at the end of the test raises it.
            return
        _log.failure(
            "Scripted peer {peer!r} deviated from its script",
            failure=Failure(deviation),
            peer=self.name,
        )

    def _run_finished(self, run: ScriptRun) -> None:
        if run.deviation is not None and self._failure is None:
            self._failure = run.deviation
        self._notify()

    def _notify(self) -> None:
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            if self._failure is not None:
                d.errback(self._failure)
            elif self.done:
                d.callback(None)
            else:
                self._waiting.append(d)

    def when_done(self) -> Deferred[None]:
        """
        A L{Deferred} that fires once every expected connection has played
        the script to its end, or fails with the first L{ScriptDeviation}
        (e.g. C{net.run_until(peer.when_done())}, or yield it on the real
        reactor).
        """
        d: Deferred[None] = Deferred()
        self._waiting.append(d)
        self._notify()
        return d

    # Checking

    @property
    def done(self) -> bool:
        """
        Whether every expected connection came and played the whole script
        without deviation.
        """
        return (
            self._failure is None
            and len(self.runs) == self.connections
            and all(run.finished for run in self.runs)
        )

    def assert_done(self) -> None:
        """
        Check that the script was followed to its end on every expected
        connection.

        @raise ScriptDeviation: the first deviation.
        @raise ScriptNotFinished: if a connection did not come, or a script
            stopped before its end; the message says at which step, and
            what was received.
        """
        if self._failure is not None:
            raise self._failure
        problems = []
        if len(self.runs) < self.connections:
            where = ""
            if self.port is not None:
                address = self.port.getHost()
                host = getattr(address, "host", "?")
                where = f" at {host}:{getattr(address, 'port', '?')}"
            problems.append(
                f"expected {self.connections} connection(s){where}, "
                f"{len(self.runs)} came"
            )
        for number, run in enumerate(self.runs, 1):
            if not run.finished:
                problems.append(f"connection {number}: {run.describe()}")
        if problems:
            raise ScriptNotFinished(
                f"the script of scripted peer {self.name!r} was not played to "
                "its end:\n  "
                + "\n  ".join(problems)
                + "\nThe script:\n"
                + self.script.describe()
            )

    def stop(self) -> None:
        """
        Stop listening, cancel pending waits and abort open connections.
        """
        if self.port is not None:
            self.port.stopListening()
        for run in self.runs:
            run.stop()

    def _check_at_teardown(self) -> None:
        network = self.network
        if network is not None:
            network.advance(0)
        try:
            self.assert_done()
        except ScriptError:
            self.stop()
            if network is not None:
                network.advance(0)
            raise
