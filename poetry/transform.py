"""
The transform service and its client.

The protocol is wire-compatible with the classic Twisted tutorial's: the
client sends one netstring whose payload is C{NAME.POEM} (split at the
I{first} C{.}); the server answers with one netstring holding the
transformed poem, then closes the connection.

Every bad request -- a malformed netstring, a payload longer than
C{max_length}, no C{.}, an unknown name, a poem that is not UTF-8 for a
transform that needs text, a second request, a client that stays idle, a
transform that fails -- is answered the way the tutorial's server answered
it: the connection is closed without a reply.  An error reply is not an
option, because a tutorial-style client cannot tell it from a transformed
poem.  Each rejection is logged at I{warn} level (never as an error) with the
peer and a machine-readable C{reason}, and never disturbs other connections.
The full table is in C{docs/transform.md}.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum, auto
from typing import TypeAlias

import attrs
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IReactorTCP,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory, connectionDone
from twisted.logger import Logger
from twisted.protocols.basic import NetstringReceiver
from twisted.python.failure import Failure

from poetry._address import describe_address, describe_bytes
from poetry._attempt import (
    ClientAttempt,
    abort_connection,
    check_timeout,
    connect,
    connect_endpoint,
)

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_LENGTH",
    "MAX_REPLY_LENGTH",
    "MalformedReply",
    "NoReply",
    "PoemNotText",
    "TrailingData",
    "Transform",
    "TransformFailed",
    "TransformServerFactory",
    "TransformServerProtocol",
    "TransformService",
    "TransformTimeout",
    "UnknownTransform",
    "check_transform_name",
    "transform",
    "transform_at",
]

_log = Logger()

DEFAULT_MAX_LENGTH = 99_999
"""
The default limit on a request's netstring payload (C{NAME.POEM}), in bytes:
Twisted's L{NetstringReceiver.MAX_LENGTH}.
"""

DEFAULT_IDLE_TIMEOUT = 30.0
"""
The default number of seconds a client of the transform server may take to
send a complete request.
"""

MAX_REPLY_LENGTH = 1_000_000
"""
The longest reply payload L{transform} accepts, in bytes.  Larger than
L{DEFAULT_MAX_LENGTH} because a transform may lengthen a poem (upper-casing
some characters takes more bytes), yet bounded so that a hostile server
cannot make the client buffer without limit.
"""

Transform: TypeAlias = Callable[[bytes], bytes | Deferred[bytes]]
"""
A transform: takes a poem, returns the transformed poem or a L{Deferred} that
fires with it.
"""

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_transform_name(name: object) -> str:
    """
    The one rule for a transform's name, wherever a name is given (to
    L{TransformService.register}, to the client L{transform}, to
    L{poetry.proxy.PoetryProxyFactory}, on the command line): 1 to 64 ASCII
    letters, digits, C{-} or C{_}.  So a name never holds the C{.} that ends
    it on the wire, and every name a client may send is one a service may
    register.

    @return: C{name}.
    @raise TypeError: if C{name} is not a L{str}.
    @raise ValueError: if it breaks the rule; the message names it.
    """
    if not isinstance(name, str):
        raise TypeError(f"a transform name must be str, not {type(name).__name__}")
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"bad transform name {name!r}: a transform name is 1 to 64 ASCII "
            "letters, digits, '-' or '_'"
        )
    return name


# Longest part of a rejected name or request shown in a log line.
_SHOWN = 40


# Errors raised by the service


class UnknownTransform(LookupError):
    """
    No transform is registered under the requested name.

    @ivar name: the name asked for.
    """

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(
            f"no transform named {name!r}; known transforms: {', '.join(known)}"
        )
        self.name = name


class PoemNotText(ValueError):
    """
    The transform needs text, and the poem is not valid UTF-8.

    @ivar name: the transform's name.
    """

    def __init__(self, name: str, error: UnicodeDecodeError) -> None:
        super().__init__(
            f"transform {name!r} needs UTF-8 text; the poem is not valid UTF-8 "
            f"({error.reason} at byte {error.start})"
        )
        self.name = name


# Errors reported by the client


class TransformFailed(Exception):
    """
    L{transform} did not get a transformed poem.  The subclasses say why.
    """


class NoReply(TransformFailed):
    """
    The server closed the connection without sending a single byte of reply.

    This is how the transform server rejects every bad request (unknown
    transform, poem not UTF-8 text, request too long, transform failed, ...);
    its log says which.

    @ivar peer: the server, as C{host:port}.
    @ivar reason: the L{Failure} the connection was lost with.
    """

    def __init__(self, peer: str, reason: Failure) -> None:
        super().__init__(
            f"the transform server {peer} closed the connection without a reply "
            f"({reason.getErrorMessage()}); it rejects bad requests that way, "
            "see its log for why"
        )
        self.peer = peer
        self.reason = reason


class MalformedReply(TransformFailed):
    """
    The reply is not one well-formed netstring of at most L{MAX_REPLY_LENGTH}
    bytes, or the connection closed part-way through it.

    @ivar peer: the server, as C{host:port}.
    @ivar received: how many bytes of reply arrived.
    """

    def __init__(self, peer: str, problem: str, received: int) -> None:
        super().__init__(
            f"malformed reply from the transform server {peer}: {problem} "
            f"({received} bytes received)"
        )
        self.peer = peer
        self.received = received


class TrailingData(TransformFailed):
    """
    More bytes followed the reply's netstring: the server is not speaking the
    transform protocol (one netstring, then close).

    @ivar peer: the server, as C{host:port}.
    @ivar reply: the first netstring's payload.
    """

    def __init__(self, peer: str, reply: bytes) -> None:
        super().__init__(
            f"the transform server {peer} sent more data after its "
            f"{len(reply)}-byte reply"
        )
        self.peer = peer
        self.reply = reply


class TransformTimeout(TransformFailed, DeferredTimeoutError):
    """
    No complete reply within the requested time.

    @ivar timeout: the number of seconds allowed.
    @ivar connected: whether the connection had been established.
    @ivar received: how many bytes of reply arrived.
    """

    def __init__(self, timeout: float, connected: bool, received: int) -> None:
        phase = "waiting for the reply" if connected else "connecting"
        super().__init__(
            f"no transformed poem within {timeout} seconds "
            f"(timed out while {phase}, {received} bytes received)"
        )
        self.timeout = timeout
        self.connected = connected
        self.received = received


# The service


@attrs.frozen
class _Entry:
    name: str
    func: Transform
    needs_text: bool


def _check_result(value: object, name: str) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(
            f"transform {name!r} returned {type(value).__name__}, not bytes"
        )
    return value


def _text_error(poem: bytes) -> UnicodeDecodeError | None:
    try:
        poem.decode("utf-8")
    except UnicodeDecodeError as error:
        return error
    return None


def _cummingsify(poem: bytes) -> bytes:
    """
    Lower-case the poem, as e. e. cummings might: the text is decoded as
    UTF-8 and lower-cased by Unicode's rules (so C{"ÉTÉ"} becomes C{"été"}).
    """
    return poem.decode("utf-8").lower().encode("utf-8")


def _upper(poem: bytes) -> bytes:
    """
    Upper-case the poem, by Unicode's rules (C{"straße"} becomes
    C{"STRASSE"}).
    """
    return poem.decode("utf-8").upper().encode("utf-8")


def _reverse_lines(poem: bytes) -> bytes:
    """
    Reverse the order of the poem's lines.  Lines end with C{b"\\n"} (a
    C{b"\\r"} before it stays with its line); a final line ending is kept at
    the end.  Works on any bytes, text or not.
    """
    ending = b"\n" if poem.endswith(b"\n") else b""
    body = poem[: len(poem) - len(ending)]
    return b"\n".join(reversed(body.split(b"\n"))) + ending


class TransformService:
    """
    A registry of named transforms.

    Only registered names can be reached: a request's name is looked up in
    the registry, never used to find an attribute.

    The built-in transforms (registered unless C{builtins=False}):
      - C{cummingsify}: lower-case (text);
      - C{upper}: upper-case (text);
      - C{reverse-lines}: reverse the order of the lines (any bytes).

    A transform registered with C{needs_text=True} is given only poems that
    are valid UTF-8; for any other poem the request fails with
    L{PoemNotText} without calling it.
    """

    def __init__(self, *, builtins: bool = True) -> None:
        self._entries: dict[bytes, _Entry] = {}
        if builtins:
            self.register("cummingsify", _cummingsify, needs_text=True)
            self.register("upper", _upper, needs_text=True)
            self.register("reverse-lines", _reverse_lines, needs_text=False)

    def register(self, name: str, func: Transform, *, needs_text: bool) -> None:
        """
        Register C{func} under C{name}.

        @param name: a name that passes L{check_transform_name}.
        @param func: takes the poem, returns the new poem as L{bytes} or a
            L{Deferred} that fires with it.  An exception, a failed
            L{Deferred} or a result that is not L{bytes} fails the request.
        @param needs_text: whether C{func} needs the poem to be UTF-8 text.

        @raise ValueError: if C{name} is not a valid name or is taken.
        """
        try:
            check_transform_name(name)
        except TypeError as error:
            raise ValueError(str(error)) from None
        key = name.encode("ascii")
        if key in self._entries:
            raise ValueError(f"a transform named {name!r} is already registered")
        self._entries[key] = _Entry(name, func, needs_text)

    def names(self) -> list[str]:
        """
        @return: the registered names, sorted.
        """
        return sorted(entry.name for entry in self._entries.values())

    def apply(self, name: str, poem: bytes) -> Deferred[bytes]:
        """
        Run the transform registered as C{name} on C{poem}.

        @return: a L{Deferred} that fires with the transformed poem, or fails
            with L{UnknownTransform}, L{PoemNotText}, whatever the transform
            raised or failed with, or L{TypeError} if it returned something
            other than L{bytes}.
        """
        entry = self._entries.get(name.encode("utf-8"))
        if entry is None:
            return fail(UnknownTransform(name, self.names()))
        if entry.needs_text:
            error = _text_error(poem)
            if error is not None:
                return fail(PoemNotText(name, error))
        return self._run(entry, poem)

    def _lookup(self, name: bytes) -> _Entry | None:
        return self._entries.get(name)

    def _run(self, entry: _Entry, poem: bytes) -> Deferred[bytes]:
        try:
            result = entry.func(poem)
        except Exception:
            return fail()
        if isinstance(result, Deferred):
            return result.addCallback(_check_result, entry.name)
        try:
            return succeed(_check_result(result, entry.name))
        except TypeError:
            return fail()


# The server


_describe = describe_address


def _shown(data: bytes) -> str:
    return describe_bytes(data, _SHOWN)


def _error_name(failure: Failure) -> str:
    return "error" if failure.type is None else failure.type.__name__


def _netstring_size(payload: bytes) -> int:
    return len(str(len(payload))) + 1 + len(payload) + 1


class _Phase(Enum):
    READING = auto()
    WORKING = auto()
    DONE = auto()


class TransformServerProtocol(NetstringReceiver):
    """
    Serve one transform request, then close.

    Phases: I{reading} the request (the idle timer runs); I{working} on it
    (the transform's L{Deferred} is pending); I{done} (the reply was written
    or the request rejected, and the connection is closing).

    @ivar peer: the client, as C{host:port}, once connected.
    """

    def __init__(
        self,
        service: TransformService,
        clock: IReactorTime,
        *,
        max_length: int,
        idle_timeout: float,
    ) -> None:
        self.MAX_LENGTH = max_length
        self.peer = "(not connected)"
        self._service = service
        self._clock = clock
        self._idle_timeout = idle_timeout
        self._phase = _Phase.READING
        # The length prefix of a netstring longer than MAX_LENGTH fits in
        # this many bytes; they are kept to tell "too long" from "malformed".
        self._head_size = len(str(max_length)) + 1
        self._head = b""
        self._seen = 0
        self._request: bytes | None = None
        self._more_strings = False
        self._idle_call: IDelayedCall | None = None
        self._pending: Deferred[bytes] | None = None
        self._name = ""
        self._ignored = 0
        self._parsing = False

    def connectionMade(self) -> None:
        assert self.transport is not None
        # Read the peer now: on real TCP, address methods may fail once the
        # connection is gone.
        self.peer = _describe(self.transport.getPeer())
        self._idle_call = self._clock.callLater(self._idle_timeout, self._idle)

    def dataReceived(self, data: bytes) -> None:
        if self._phase is _Phase.WORKING:
            self._reject(
                "second-request",
                f"{len(data)} more bytes arrived before the reply was sent",
            )
            return
        if self._phase is _Phase.DONE:
            self._ignore(data)
            return
        if len(self._head) < self._head_size:
            self._head += data[: self._head_size - len(self._head)]
        self._seen += len(data)
        # The parser closes the connection itself on a parse error, and a
        # fake transport may then call connectionLost at once: _parsing tells
        # connectionLost that the rejection is logged below, not a departure.
        # (NetstringReceiver is named rather than super() so that mypy treats
        # the untyped call as Twisted's, per untyped_calls_exclude.)
        self._parsing = True
        try:
            NetstringReceiver.dataReceived(self, data)
        finally:
            self._parsing = False
        request = self._request
        if request is not None:
            if self._more_strings or self._seen > _netstring_size(request):
                self._reject(
                    "second-request",
                    f"{self._seen - _netstring_size(request)} more bytes followed "
                    "the request",
                )
            else:
                self._handle(request)
        elif self.brokenPeer:
            self._reject(*self._parse_error())

    def stringReceived(self, string: bytes) -> None:
        # Only note the request here: the parser may go on to find more
        # bytes after it in the same chunk, which dataReceived then rejects.
        if self._request is None:
            self._request = string
        else:
            self._more_strings = True

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        phase, self._phase = self._phase, _Phase.DONE
        self._cancel_idle()
        if phase is _Phase.WORKING:
            self._cancel_pending()
            _log.info(
                "Client {peer} left before the {transform} reply was ready; "
                "the transform was cancelled",
                peer=self.peer,
                transform=self._name,
                reason="client-left",
            )
        elif phase is _Phase.READING and not self._parsing:
            _log.info(
                "Client {peer} left without sending a complete request "
                "({received} bytes received)",
                peer=self.peer,
                received=self._seen,
                reason="client-left",
            )

    # Handling the request

    def _handle(self, request: bytes) -> None:
        self._phase = _Phase.WORKING
        self._cancel_idle()
        raw_name, dot, poem = request.partition(b".")
        if not dot:
            self._reject(
                "no-separator",
                f"no '.' between a transform name and the poem in {_shown(request)}",
            )
            return
        entry = self._service._lookup(raw_name)
        if entry is None:
            self._reject(
                "unknown-transform",
                f"no transform named {_shown(raw_name)}",
                transform=raw_name[:_SHOWN].decode("ascii", "backslashreplace"),
            )
            return
        self._name = entry.name
        if entry.needs_text:
            error = _text_error(poem)
            if error is not None:
                self._reject(
                    "not-utf8",
                    str(PoemNotText(entry.name, error)),
                    transform=entry.name,
                )
                return
        pending = self._pending = self._service._run(entry, poem)
        pending.addCallbacks(self._transformed, self._transform_failed)

    def _transformed(self, poem: bytes) -> None:
        self._pending = None
        if self._phase is not _Phase.WORKING:
            return
        assert self.transport is not None
        self._phase = _Phase.DONE
        NetstringReceiver.sendString(self, poem)
        self.transport.loseConnection()
        _log.info(
            "Served {transform} to {peer}: {size} bytes back",
            peer=self.peer,
            transform=self._name,
            size=len(poem),
        )

    def _transform_failed(self, failure: Failure) -> None:
        self._pending = None
        if self._phase is not _Phase.WORKING:
            # Cancelled by us: the connection is already being closed.
            return
        self._reject(
            "transform-failed",
            f"transform {self._name!r} failed: {_error_name(failure)}: "
            f"{failure.getErrorMessage()}",
            transform=self._name,
            # The traceback, for the curious; not a log_failure key, which
            # would make this an error-level event.
            traceback=failure.getTraceback(),
        )

    def _idle(self) -> None:
        self._idle_call = None
        if self._seen:
            what = f"an incomplete request ({self._seen} bytes)"
        else:
            what = "nothing"
        self._reject(
            "idle-timeout",
            f"sent {what} within {self._idle_timeout} seconds",
        )

    def _parse_error(self) -> tuple[str, str]:
        digits = re.match(rb"[1-9][0-9]*", self._head)
        if digits is not None:
            declared = digits.group()
            # A run of digits as long as the head is surely over the limit,
            # and may have been cut short.
            cut = len(declared) >= self._head_size
            if cut or int(declared) > self.MAX_LENGTH:
                shown = declared.decode("ascii") + ("..." if cut else "")
                return (
                    "too-long",
                    f"declared length {shown} is over the limit of "
                    f"{self.MAX_LENGTH} bytes",
                )
        return (
            "malformed-netstring",
            f"not a valid netstring (it starts {_shown(self._head)})",
        )

    # Closing

    def _reject(self, reason: str, detail: str, **extra: object) -> None:
        """
        Close the connection without a reply, and say why.
        """
        self._phase = _Phase.DONE
        self._cancel_idle()
        self._cancel_pending()
        _log.warn(
            "Rejected request from {peer}: {reason}: {detail}",
            peer=self.peer,
            reason=reason,
            detail=detail,
            **extra,
        )
        assert self.transport is not None
        self.transport.loseConnection()

    def _ignore(self, data: bytes) -> None:
        if not self._ignored:
            _log.info(
                "Ignoring bytes from {peer} after the connection was done with",
                peer=self.peer,
                reason="data-after-done",
            )
        self._ignored += len(data)

    def _cancel_idle(self) -> None:
        # The idle call is only kept while pending: _idle forgets it first.
        if self._idle_call is not None:
            self._idle_call.cancel()
            self._idle_call = None

    def _cancel_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()


class TransformServerFactory(Factory[TransformServerProtocol]):
    """
    The transform server: each connection carries one request.

    @ivar service: the transforms offered.
    @ivar clock: the clock the idle timeout runs on.
    @ivar max_length: the longest request payload (C{NAME.POEM}) accepted, in
        bytes; a longer one is rejected as soon as its length prefix arrives.
    @ivar idle_timeout: seconds a client may take to send a complete
        request; then the connection is closed without a reply.

    @raise ValueError: if C{max_length < 1} or C{idle_timeout <= 0}.
    """

    def __init__(
        self,
        service: TransformService,
        clock: IReactorTime,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        if isinstance(max_length, bool) or not isinstance(max_length, int):
            raise TypeError(f"max_length must be an int, not {max_length!r}")
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, not {max_length!r}")
        if not idle_timeout > 0:
            raise ValueError(f"idle_timeout must be > 0, not {idle_timeout!r}")
        self.service = service
        self.clock = clock
        self.max_length = max_length
        self.idle_timeout = idle_timeout

    def buildProtocol(self, addr: IAddress | None) -> TransformServerProtocol:
        protocol = TransformServerProtocol(
            self.service,
            self.clock,
            max_length=self.max_length,
            idle_timeout=self.idle_timeout,
        )
        protocol.factory = self
        return protocol


# The client


class _TransformClientProtocol(NetstringReceiver):
    """
    Send one request; expect one netstring, then the server's close.

    @ivar finished: fires with the reply once the server closes after exactly
        one netstring, or fails with a L{TransformFailed} as soon as the
        reply is known to be bad.
    """

    MAX_LENGTH = MAX_REPLY_LENGTH

    def __init__(self, request: bytes) -> None:
        self.finished: Deferred[bytes] = Deferred()
        self.peer = "(not connected)"
        self.received = 0
        self._request = request
        self._reply: bytes | None = None
        self._more_strings = False
        self._done = False
        self._parsing = False
        self._lost: Failure | None = None

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.peer = _describe(self.transport.getPeer())
        NetstringReceiver.sendString(self, self._request)

    def dataReceived(self, data: bytes) -> None:
        if self._done:
            return
        self.received += len(data)
        if self._reply is None:
            # As in the server: a fake transport may report the parser's own
            # close at once; the outcome is decided below, not there.
            self._parsing = True
            try:
                NetstringReceiver.dataReceived(self, data)
            finally:
                self._parsing = False
        reply = self._reply
        if reply is not None and (
            self._more_strings or self.received > _netstring_size(reply)
        ):
            self._fail(TrailingData(self.peer, reply))
        elif self.brokenPeer:
            self._fail(self._malformed())
        elif self._lost is not None:
            self._conclude(self._lost)

    def stringReceived(self, string: bytes) -> None:
        if self._reply is None:
            self._reply = string
        else:
            self._more_strings = True

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._done:
            return
        if self._parsing:
            self._lost = reason
        else:
            self._conclude(reason)

    def _conclude(self, reason: Failure) -> None:
        self._done = True
        # A complete netstring is a complete reply, however the connection
        # then ended: the framing, not the close, marks its end.
        if self._reply is not None:
            self.finished.callback(self._reply)
        elif self.received:
            self.finished.errback(
                MalformedReply(
                    self.peer, "the connection closed part-way through", self.received
                )
            )
        else:
            self.finished.errback(NoReply(self.peer, reason))

    def _malformed(self) -> MalformedReply:
        return MalformedReply(
            self.peer,
            f"not a netstring of at most {self.MAX_LENGTH} bytes",
            self.received,
        )

    def _fail(self, error: TransformFailed) -> None:
        self._done = True
        self.finished.errback(error)
        abort_connection(self)


class _TransformAttempt(ClientAttempt[_TransformClientProtocol]):
    def __init__(
        self, clock: IReactorTime, timeout: float | None, request: bytes
    ) -> None:
        super().__init__(clock, timeout)
        self._request = request

    def _make_protocol(self) -> tuple[_TransformClientProtocol, Deferred[bytes]]:
        protocol = _TransformClientProtocol(self._request)
        return protocol, protocol.finished

    def _timeout_error(
        self, timeout: float, protocol: _TransformClientProtocol | None
    ) -> Exception:
        received = 0 if protocol is None else protocol.received
        return TransformTimeout(timeout, protocol is not None, received)


def transform(
    reactor: IReactorTCP,
    host: str,
    port: int,
    name: str,
    poem: bytes,
    *,
    timeout: float | None = None,
) -> Deferred[bytes]:
    """
    Ask the transform server at C{host}:C{port} to apply the transform
    C{name} to C{poem}.

    @param reactor: provides L{IReactorTCP} and L{IReactorTime}.
    @param name: the transform's name (see L{check_transform_name}).
    @param timeout: if given, fail with L{TransformTimeout} when no complete
        reply has arrived after this many seconds of C{reactor}'s time,
        whether still connecting or waiting; the connection attempt is
        stopped or the connection aborted, and no call is left pending.

    @return: a L{Deferred} that fires with the transformed poem once the server
        has sent exactly one netstring (of at most L{MAX_REPLY_LENGTH} bytes)
        and closed, or fails with: L{NoReply} when the server closes without
        replying (which is how it rejects a bad request); L{MalformedReply};
        L{TrailingData} when more follows the reply; L{TransformTimeout};
        L{ConnectionRefusedError<twisted.internet.error.ConnectionRefusedError>}
        when nothing listens (other connection failures keep their own
        L{ConnectError<twisted.internet.error.ConnectError>} subclass);
        L{CancelledError<twisted.internet.defer.CancelledError>} when cancelled
        (which stops the connection attempt or aborts the connection).

    @raise TypeError: if C{reactor} does not provide L{IReactorTime}, or
        C{name} is not L{str} or C{poem} not L{bytes}.
    @raise ValueError: if C{name} breaks L{check_transform_name}'s rule or
        C{timeout} is negative or not a number.
    """
    if not IReactorTime.providedBy(reactor):
        raise TypeError("transform needs a reactor that also provides IReactorTime")
    check_timeout(timeout)
    request = _encode_request(name, poem)
    attempt = _TransformAttempt(reactor, timeout, request)
    return connect(reactor, host, port, attempt, timeout)


def transform_at(
    endpoint: IStreamClientEndpoint,
    clock: IReactorTime,
    name: str,
    poem: bytes,
    *,
    timeout: float | None = None,
) -> Deferred[bytes]:
    """
    Ask the transform server at C{endpoint} (any client endpoint, such as
    one L{clientFromString<twisted.internet.endpoints.clientFromString>}
    makes of C{unix:/tmp/transform.sock}) to apply the transform C{name} to
    C{poem}.  Otherwise as L{transform}.

    @param clock: times C{timeout}.
    @return: as L{transform}'s; a failure to connect is the endpoint's.
    @raise TypeError: if C{name} is not L{str} or C{poem} not L{bytes}.
    @raise ValueError: as L{transform}.
    """
    check_timeout(timeout)
    request = _encode_request(name, poem)
    return connect_endpoint(
        endpoint, _TransformAttempt(clock, timeout, request), timeout
    )


def _encode_request(name: str, poem: bytes) -> bytes:
    check_transform_name(name)
    if not isinstance(poem, bytes):
        raise TypeError(f"a poem must be bytes, not {type(poem).__name__}")
    return name.encode("ascii") + b"." + poem
