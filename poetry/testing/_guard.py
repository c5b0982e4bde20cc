"""
L{GlobalReactorGuard}: catches work that a test scheduled on the I{global}
reactor (C{twisted.internet.reactor}) or the global
L{Cooperator<twisted.internet.task.Cooperator>} (C{twisted.internet.task.cooperate})
instead of the L{MemoryNetwork} it was given.

Third-party code that forgets an injected clock -- C{TimeoutMixin}'s default
C{callLater}, a L{LoopingCall<twisted.internet.task.LoopingCall>} without C{.clock},
C{task.cooperate} behind C{FileBodyProducer} or C{static.File} -- schedules on the
global reactor, which does not run while a test drives its network: the work never
happens, the test deadlocks with no timer of its own left, and the delayed call leaks
into later tests.  The guard records what was already pending when it
started, watches the scheduling calls while it is active (so it can name the
line that scheduled each one), and at the end reports and cancels whatever
is new.

L{MemoryNetworkTestCase} runs one around every test (see its
C{guard_global_reactor}); other harnesses (a pytest fixture) call L{start},
L{check} and L{stop} themselves.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
import weakref
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from traceback import FrameSummary
from typing import TYPE_CHECKING, Any

from twisted.internet import task
from twisted.internet.base import DelayedCall
from twisted.internet.error import AlreadyCalled, AlreadyCancelled
from twisted.internet.interfaces import IReactorFDSet, IReactorTime

import twisted
from poetry.testing._clock import Scheduler
from poetry.testing._errors import GlobalReactorUsed
from poetry.testing._trace import describe_callable

if TYPE_CHECKING:
    from poetry.testing._network import MemoryNetwork

__all__ = [
    "GlobalActivity",
    "GlobalReactorGuard",
    "global_reactor_hint",
    "route_global_cooperator",
    "route_global_tls_clock",
    "route_http2_reactor",
]

_TWISTED_DIR = os.path.dirname(os.path.abspath(twisted.__file__)) + os.sep
_SITE_DIR = os.path.dirname(_TWISTED_DIR.rstrip(os.sep)) + os.sep
_HARNESS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_THIS_FILE = os.path.abspath(__file__)

_MISSING = object()

# Delayed calls a guard has reported or cancelled: a guard around it (a test
# running a test) does not report them again as cancelled before they ran.
_HANDLED: weakref.WeakSet[DelayedCall] = weakref.WeakSet()

#: The fix for everything, named in every report.
GENERAL_FIX = (
    "Inject the network wherever the code takes a clock, a reactor or a "
    "cooperator: clock=net, reactor=net, cooperator=net.cooperator().  A test "
    "case that means to use the global reactor sets "
    "guard_global_reactor = False."
)

_COOPERATOR_FIX = (
    "give the code the network's cooperator: cooperator=net.cooperator() "
    "(e.g. FileBodyProducer(body, cooperator=net.cooperator())); for code that "
    "takes none and calls the module-level task.cooperate (static.File and "
    "other pull producers served through twisted.web's HTTPChannel, any pull "
    "producer registered on a TLS transport), route it for the test: "
    "self.addCleanup(route_global_cooperator(self.net))"
)

# (path fragment inside Twisted, or None; function name, or None) -> fix,
# matched against the frames that scheduled a delayed call, innermost first.
_FRAME_FIXES: list[tuple[str | None, str | None, str]] = [
    (
        "internet/task.py",
        "deferLater",
        "pass the network as deferLater's clock: deferLater(net, delay, f)",
    ),
    (
        "protocols/policies.py",
        "setTimeout",
        "TimeoutMixin schedules with the protocol's callLater, the global "
        "reactor's by default: point it at the network "
        "(protocol.callLater = net.callLater; Site(resource, reactor=net) does "
        "it for HTTPChannel)",
    ),
    (
        "protocols/policies.py",
        "resetTimeout",
        "TimeoutMixin schedules with the protocol's callLater, the global "
        "reactor's by default: point it at the network "
        "(protocol.callLater = net.callLater)",
    ),
    (
        "protocols/tls.py",
        None,
        "give TLS the network's clock: TLSMemoryBIOFactory(..., clock=net), "
        "wrapClientTLS(..., clock=net), wrapServerTLS(..., clock=net); for code "
        "that builds it without one (Agent over https, clientFromString(reactor, "
        '"tls:..."), a library on them), route it for the test: '
        "self.addCleanup(route_global_tls_clock(self.net))",
    ),
    (
        "names/",
        None,
        "give twisted.names the network: client.Resolver(..., reactor=net) or "
        "client.createResolver(..., reactor=net)",
    ),
    (
        "web/_http2.py",
        None,
        "twisted.web.http builds its H2Connection (on ALPN h2) without a "
        "reactor, so on the global one, though H2Connection takes one: route "
        "it for the test, self.addCleanup(route_http2_reactor(self.net))",
    ),
    (
        "protocols/ftp.py",
        None,
        "FTP takes no reactor: set protocol.listenFactory = net.listenTCP on "
        "the server's protocols and client.connectFactory = net.connectTCP on "
        "the client (both bound to the real reactor at import), and patch the "
        "reactor it imports when it runs: self.patch(twisted.internet, "
        "'reactor', net)",
    ),
    (
        "web/",
        None,
        "give twisted.web the network: Site(resource, reactor=net), "
        "Agent(net), HTTPConnectionPool(net)",
    ),
    (
        "internet/protocol.py",
        "retry",
        "ReconnectingClientFactory schedules its retries on its clock "
        "attribute, the global reactor unless set: factory.clock = net (and "
        "factory.jitter = 0 for reproducible delays: its jitter comes from the "
        "random module)",
    ),
    (
        "words/protocols/irc.py",
        None,
        "IRCClient's lineRate throttle calls the reactor that "
        "twisted.words.protocols.irc imported, and takes no clock: patch it "
        "for the test, self.patch(irc, 'reactor', net)",
    ),
    (
        "conch/ssh/userauth.py",
        None,
        "SSHUserAuthServer schedules its login timeout and its delay after a "
        "wrong password on its class attribute clock, the global reactor: "
        "serve a subclass whose serviceStarted sets self.clock = net (in the "
        "factory's services, b'ssh-userauth')",
    ),
    (
        "mail/imap4.py",
        None,
        "IMAP4Server runs each FETCH through its scheduler, by default "
        "imap4.iterateInReactor (a callLater(0) per step on the global "
        "reactor): build it with IMAP4Server(scheduler=net.cooperator()"
        ".coiterate); its SEARCH of a mailbox without ISearchableMailbox "
        "calls the reactor it imports when it runs: "
        "self.patch(twisted.internet, 'reactor', net)",
    ),
    (
        "protocols/socks.py",
        None,
        "twisted.protocols.socks connects (CONNECT) and listens (BIND) with "
        "the reactor it imported, and SOCKSv4Factory hands that one to each "
        "SOCKSv4 (whose own reactor only resolves SOCKS4a names): patch it "
        "for the test, self.patch(socks, 'reactor', net)",
    ),
    (
        "protocols/portforward.py",
        None,
        "portforward's ProxyServer connects with its class attribute reactor, "
        "the global reactor when None: set protocol.reactor = net in the "
        "factory's buildProtocol, or self.patch(portforward.ProxyServer, "
        "'reactor', net)",
    ),
]


@dataclass(frozen=True)
class GlobalActivity:
    """
    One piece of work scheduled on the global reactor or cooperator.

    @ivar kind: C{"delayed call"}, C{"cooperative task"}, C{"reader"} or
        C{"writer"}.
    @ivar what: the callable, iterator or selectable, described.
    @ivar scheduled_at: C{"path:line, in function"} of the innermost frame
        outside Twisted and the harness when it was scheduled (the line of
        the code under test or of the test), or L{None} if unknown.
    @ivar source: that frame's source line, or L{None}.
    @ivar via: the innermost frame -- the call into the global reactor --
        when it differs from C{scheduled_at}, else L{None}.
    @ivar fix: how to make the code use the network instead.
    """

    kind: str
    what: str
    scheduled_at: str | None
    source: str | None
    via: str | None
    fix: str

    def describe(self) -> str:
        """
        Readable lines: what, where, and the fix.
        """
        lines = [f"{self.kind}: {self.what}"]
        if self.scheduled_at is None:
            lines.append(
                "  scheduled at: unknown (it was scheduled where the guard "
                "could not watch, e.g. before the reactor was installed)"
            )
        else:
            lines.append(f"  scheduled at {self.scheduled_at}")
            if self.source:
                lines.append(f"      {self.source}")
        if self.via is not None:
            lines.append(f"  through {self.via}")
        lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)


def _installed_reactor() -> Any:
    """
    The global reactor if one is installed (without installing one).
    """
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None or not hasattr(reactor, "getDelayedCalls"):
        return None
    return reactor


def _short_path(filename: str) -> str:
    """
    C{filename} relative to the deepest C{sys.path} entry holding it (as
    its module is named), e.g. C{twisted/internet/task.py} or
    C{tests/unit/test_x.py}; else as it is.
    """
    path = os.path.abspath(filename)
    best = ""
    for entry in [_SITE_DIR, *filter(None, sys.path)]:
        root = os.path.abspath(entry).rstrip(os.sep) + os.sep
        if path.startswith(root) and len(root) > len(best):
            best = root
    return path[len(best) :] if best else filename


def _where(frame: FrameSummary) -> str:
    return f"{_short_path(frame.filename)}:{frame.lineno}, in {frame.name}"


def _is_user_frame(frame: FrameSummary) -> bool:
    path = os.path.abspath(frame.filename)
    return not (path.startswith(_TWISTED_DIR) or path.startswith(_HARNESS_DIR))


def _own_frames_dropped(stack: Sequence[FrameSummary]) -> list[FrameSummary]:
    return [f for f in stack if os.path.abspath(f.filename) != _THIS_FILE]


def _frame_fix(stack: Sequence[FrameSummary]) -> str | None:
    paths = [os.path.abspath(frame.filename) for frame in stack]
    inside_twisted = [
        (frame, path[len(_TWISTED_DIR) :].replace(os.sep, "/"))
        for frame, path in zip(stack, paths, strict=True)
        if path.startswith(_TWISTED_DIR)
    ]
    for frame, inside in reversed(inside_twisted):
        for fragment, function, fix in _FRAME_FIXES:
            if fragment is not None and not inside.startswith(fragment):
                continue
            if function is not None and frame.name != function:
                continue
            return fix
    return None


def _call_fix(func: object, stack: Sequence[FrameSummary]) -> str:
    if stack and _is_user_frame(stack[-1]):
        if os.path.abspath(stack[-1].filename).startswith(_SITE_DIR):
            return (
                "the call comes from an installed library: pass it the network "
                "where it takes a reactor or clock (e.g. Agent(net), or treq.get(url, "
                "reactor=net, pool=pool) with a pool of the test's own)"
            )
        return (
            "schedule on the network: net.callLater(...) instead of "
            "reactor.callLater(...)"
        )
    if type(func).__name__ == "LoopingCall":
        return (
            "set the LoopingCall's clock before starting it: loop.clock = net "
            "(LoopingCall.withCount and friends likewise)"
        )
    known = _frame_fix(stack)
    if known is not None:
        return known
    return (
        "pass the network where the code takes a clock or reactor "
        "(clock=net, reactor=net)"
    )


# The module-level functions that only pass a call on to the global reactor
# or cooperator: "through" names their caller.
_PASSING_ON = {"cooperate", "coiterate", "_defaultScheduler"}
_TASK_MODULE = os.path.join(_TWISTED_DIR, "internet", "task.py")


def _passes_on(frame: FrameSummary) -> bool:
    return frame.name in _PASSING_ON and os.path.abspath(frame.filename) == _TASK_MODULE


def _activity(
    kind: str, what: str, stack: Sequence[FrameSummary] | None, fix: str
) -> GlobalActivity:
    if not stack:
        return GlobalActivity(kind, what, None, None, None, fix)
    inner = list(stack)
    while len(inner) > 1 and _passes_on(inner[-1]):
        inner.pop()
    innermost = inner[-1]
    user = next((f for f in reversed(stack) if _is_user_frame(f)), innermost)
    via = None if user is innermost else _where(innermost)
    return GlobalActivity(kind, what, _where(user), user.line, via, fix)


def _describe_call(call: Any, reactor: Any) -> str:
    due = call.getTime() - reactor.seconds()
    return f"{describe_callable(call.func)}, due in {max(due, 0.0):.1f} s"


def _describe_task(cooperative: Any) -> str:
    iterator = cooperative._iterator
    name = getattr(iterator, "__qualname__", None) or type(iterator).__qualname__
    return f"{name} (task.cooperate)"


class GlobalReactorGuard:
    """
    Watches the global reactor and the global cooperator from L{start} to
    L{stop}, and reports what was scheduled there in between: delayed calls
    (C{reactor.callLater}, and so C{deferLater},
    L{LoopingCall<twisted.internet.task.LoopingCall>}, C{TimeoutMixin} by default),
    cooperative tasks (C{task.cooperate}, C{task.coiterate}) and readers and writers
    (real file descriptors).

    Work pending before L{start} is not judged: the test runner itself
    (trial's reactor, an integration suite) may use the global reactor
    legitimately.  While active, the guard wraps the global reactor's
    C{callLater}, C{addReader} and C{addWriter} and the global cooperator's
    C{cooperate} to record where each call came from; L{stop} puts them back.
    The global reactor is never installed by the guard: if none is installed,
    there is nothing to watch until code under test installs one (then its
    work is still reported, without the line that scheduled it).

    @param net: the network of the test, if any: its seed and test id go into
        L{GlobalReactorUsed}, and its L{Deadlock} messages list the guard's
        findings.
    """

    def __init__(self, net: Scheduler | None = None) -> None:
        self._net = net
        self._active = False
        self._reactor: Any = None
        self._cooperator: Any = None
        self._baseline: set[int] = set()
        # Keep the objects of the baseline alive, so that their ids stay
        # theirs for as long as the guard compares against them.
        self._baseline_objects: list[object] = []
        self._stacks: dict[int, tuple[object, list[FrameSummary]]] = {}
        # The callables of the delayed calls recorded (a cancelled call
        # forgets its own).
        self._callables: dict[int, object] = {}
        self._patches: list[tuple[object, str, object]] = []
        self._removed: list[GlobalActivity] = []

    @property
    def active(self) -> bool:
        """
        Whether the guard is between L{start} and L{stop}.
        """
        return self._active

    def start(self) -> GlobalReactorGuard:
        """
        Remember what is pending on the global reactor and cooperator now,
        and start recording where new work comes from.

        @return: the guard.
        @raise RuntimeError: if it is already active.
        """
        if self._active:
            raise RuntimeError("the global reactor guard is already active")
        self._removed = []
        self._reactor = reactor = _installed_reactor()
        self._cooperator = cooperator = task._theCooperator
        pending = [*self._pending(reactor), *list(cooperator._tasks)]
        self._baseline = {id(thing) for thing in pending}
        self._baseline_objects = pending
        self._stacks = {}
        self._callables = {}
        if reactor is not None:
            self._wrap(reactor, "callLater")
            if IReactorFDSet.providedBy(reactor):
                self._wrap(reactor, "addReader")
                self._wrap(reactor, "addWriter")
        self._wrap(cooperator, "cooperate")
        self._active = True
        if self._net is not None:
            self._net._state.guard = self
        return self

    def _pending(self, reactor: Any) -> list[object]:
        if reactor is None:
            return []
        things: list[object] = list(reactor.getDelayedCalls())
        if IReactorFDSet.providedBy(reactor):
            internal: set[Any] = getattr(reactor, "_internalReaders", set())
            things += [r for r in reactor.getReaders() if r not in internal]
            things += list(reactor.getWriters())
        return things

    def _wrap(self, target: object, name: str) -> None:
        original = getattr(target, name)
        previous = target.__dict__.get(name, _MISSING)
        stacks = self._stacks
        callables = self._callables

        def recording(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            key = result if name == "callLater" or name == "cooperate" else args[0]
            stacks[id(key)] = (key, _own_frames_dropped(traceback.extract_stack()))
            if name == "callLater":
                func = args[1] if len(args) > 1 else kwargs.get("callable")
                callables[id(key)] = func
            return result

        setattr(target, name, recording)
        self._patches.append((target, name, previous))

    def _unwrap(self) -> None:
        for target, name, previous in reversed(self._patches):
            if previous is _MISSING:
                delattr(target, name)
            else:
                setattr(target, name, previous)
        self._patches = []

    def _stack_of(self, thing: object) -> list[FrameSummary] | None:
        # The recorded object is kept alive with its stack: an equal id is
        # the same object.
        recorded = self._stacks.get(id(thing))
        return None if recorded is None else recorded[1]

    def _cancelled_calls(self) -> list[tuple[object, list[FrameSummary]]]:
        """
        The delayed calls that library code (Twisted's, or an installed
        library's) scheduled while active and that were cancelled before
        they ran: work the code meant to do on the global reactor -- a TLS
        factory's write flush cancelled when its connection closed, a
        C{TimeoutMixin} timer cancelled by C{setTimeout(None)} -- which would
        not have run while the network was driven; the code only seemed to
        work.  A call that the test's own code made and cancelled itself is
        its own business (e.g. a test that opted out of the guard).
        """
        return [
            (self._callables.get(id(thing)), stack)
            for thing, stack in self._stacks.values()
            if isinstance(thing, DelayedCall)
            and thing.cancelled
            and not thing.called
            and thing not in _HANDLED
            and not (stack and _is_user_frame(stack[-1]))
        ]

    def _new(self) -> tuple[Any, list[Any], list[Any], list[Any], list[Any]]:
        """
        The reactor and what is new on it: delayed calls (not the global
        cooperator's tick), readers, writers, cooperative tasks.
        """
        reactor = _installed_reactor()
        baseline = self._baseline
        cooperator = self._cooperator
        tick = cooperator._delayedCall
        calls: list[Any] = []
        readers: list[Any] = []
        writers: list[Any] = []
        if reactor is not None:
            calls = [
                call
                for call in reactor.getDelayedCalls()
                if id(call) not in baseline and call is not tick
            ]
            if IReactorFDSet.providedBy(reactor):
                internal: set[Any] = getattr(reactor, "_internalReaders", set())
                readers = [
                    r
                    for r in reactor.getReaders()
                    if id(r) not in baseline and r not in internal
                ]
                writers = [w for w in reactor.getWriters() if id(w) not in baseline]
        tasks = [t for t in cooperator._tasks if id(t) not in baseline]
        return reactor, calls, readers, writers, tasks

    def activity(self) -> list[GlobalActivity]:
        """
        Everything scheduled on the global reactor or cooperator since
        L{start} and still pending.
        """
        if not self._active:
            return []
        reactor, calls, readers, writers, tasks = self._new()
        found: list[GlobalActivity] = []
        for call in calls:
            stack = self._stack_of(call)
            found.append(
                _activity(
                    "delayed call",
                    _describe_call(call, reactor),
                    stack,
                    _call_fix(call.func, stack or []),
                )
            )
        for func, stack in self._cancelled_calls():
            found.append(
                _activity(
                    "delayed call",
                    f"{describe_callable(func)}, cancelled before it ran",
                    stack,
                    _call_fix(func, stack),
                )
            )
        for cooperative in tasks:
            found.append(
                _activity(
                    "cooperative task",
                    _describe_task(cooperative),
                    self._stack_of(cooperative),
                    _COOPERATOR_FIX,
                )
            )
        for kind, selectables in (("reader", readers), ("writer", writers)):
            for selectable in selectables:
                found.append(
                    _activity(
                        kind,
                        type(selectable).__qualname__,
                        self._stack_of(selectable),
                        "a real file descriptor (socket, pipe) was added to the "
                        "global reactor: connect and listen through the network "
                        "(reactor=net) instead",
                    )
                )
        return found

    def describe(self) -> str:
        """
        The report of L{activity}, or C{""} if there is none.
        """
        return describe_activity(self.activity())

    def check(self) -> None:
        """
        Raise if anything was scheduled on the global reactor or cooperator
        since L{start}: while active, what is pending (left in place: L{stop}
        cleans up); after L{stop}, what it removed.

        @raise GlobalReactorUsed: naming each callable, the line that
            scheduled it and the fix.
        """
        activity = self.activity() if self._active else self._removed
        if not activity:
            return
        net = self._net
        seed = net.seed if net is not None else 0
        test_id = net.test_id if net is not None else None
        raise GlobalReactorUsed(
            "While the test ran, code scheduled work on the global reactor "
            "(twisted.internet.reactor) instead of the MemoryNetwork.  The "
            "global reactor does not run while the network is driven: this "
            "work would never happen (a test waiting for it deadlocks), and it "
            "would leak into later tests, so the guard cancels it.\n"
            + describe_activity(activity)
            + "\n"
            + GENERAL_FIX,
            seed,
            test_id,
            activity=activity,
        )

    def stop(self) -> list[GlobalActivity]:
        """
        Stop watching, and remove what was scheduled since L{start}: cancel
        the delayed calls, drop the cooperative tasks from the global
        cooperator (without firing their L{Deferred<twisted.internet.defer.Deferred>}s,
        which would log errors into a later test), remove the readers and writers.
        Calling it again does nothing.

        @return: what was removed (as L{activity} described it); L{check}
            raises for it from then on.
        """
        if not self._active:
            return []
        activity = self.activity()
        reactor, calls, readers, writers, tasks = self._new()
        handled = [
            call for call, _ in self._stacks.values() if isinstance(call, DelayedCall)
        ]
        self._unwrap()
        for call in calls:
            call.cancel()
        _HANDLED.update(handled)
        for selectable in readers:
            reactor.removeReader(selectable)
        for selectable in writers:
            reactor.removeWriter(selectable)
        cooperator = self._cooperator
        for cooperative in tasks:
            cooperator._tasks.remove(cooperative)
        tick = cooperator._delayedCall
        if (
            tick is not None
            and id(tick) not in self._baseline
            and not cooperator._tasks
        ):
            with suppress(AlreadyCalled, AlreadyCancelled):
                tick.cancel()
            cooperator._delayedCall = None
        self._active = False
        self._removed = activity
        self._stacks = {}
        self._callables = {}
        self._baseline_objects = []
        net = self._net
        if net is not None and net._state.guard is self:
            net._state.guard = None
        return activity


def describe_activity(activity: Sequence[GlobalActivity]) -> str:
    """
    Numbered readable lines for each piece of global-reactor activity.
    """
    lines: list[str] = []
    for number, one in enumerate(activity, 1):
        text = one.describe().replace("\n", "\n   ")
        lines.append(f"{number}. {text}")
    return "\n".join(lines)


def _unguarded_activity() -> list[GlobalActivity]:
    """
    What is pending on the global reactor and cooperator, when no guard
    knows what was there before: only when the reactor is installed and not
    running (a running reactor runs its own work).
    """
    reactor = _installed_reactor()
    if reactor is None or getattr(reactor, "running", False):
        return []
    cooperator = task._theCooperator
    tick = cooperator._delayedCall
    found = [
        _activity(
            "delayed call",
            _describe_call(call, reactor),
            None,
            _call_fix(call.func, []),
        )
        for call in reactor.getDelayedCalls()
        if call is not tick
    ]
    found += [
        _activity("cooperative task", _describe_task(t), None, _COOPERATOR_FIX)
        for t in cooperator._tasks
    ]
    return found


def global_reactor_hint(net: Scheduler) -> str | None:
    """
    For L{Deadlock} and timeouts: what waits on the global reactor or
    cooperator, which never runs while C{net} is driven -- since the guard
    of C{net} started, if one is active, else everything pending there (when
    the global reactor is installed and not running).  L{None} if nothing.
    """
    guard = net._state.guard
    if isinstance(guard, GlobalReactorGuard) and guard.active:
        activity = guard.activity()
        since = "since the test started"
    else:
        activity = _unguarded_activity()
        since = "now"
    if not activity:
        return None
    return (
        f"Work waiting on the global reactor ({since}), which does not run "
        "while the MemoryNetwork is driven -- probably what this is waiting "
        "for:\n" + describe_activity(activity) + "\n" + GENERAL_FIX
    )


def route_global_tls_clock(net: IReactorTime) -> Callable[[], None]:
    """
    Make every L{TLSMemoryBIOFactory<twisted.protocols.tls.TLSMemoryBIOFactory>}
    built without a C{clock} use C{net} as its clock, until the returned
    function is called.

    For code that offers no way to pass one: L{Agent<twisted.web.client.Agent>}
    over C{https} (its endpoint factory calls C{wrapClientTLS} without a
    clock), C{clientFromString(reactor, "tls:...")}, libraries built on them.
    Such a factory otherwise takes the global reactor as its clock: the TLS
    handshake completes, but the application's writes wait for a
    C{callLater(0)} on the global reactor, which never runs while the network
    is driven (the guard names it).  Use it for one test:
    C{self.addCleanup(route_global_tls_clock(self.net))}.

    It replaces C{twisted.protocols.tls._get_default_clock}, the function
    Twisted keeps for this purpose ("so it can be monkey-patched in
    tests").  Code that can be given a clock should be given one instead:
    C{wrapClientTLS(creator, endpoint, clock=net)},
    C{wrapServerTLS(creator, endpoint, clock=net)},
    C{TLSMemoryBIOFactory(..., clock=net)}.

    @return: a function that puts Twisted's default back.
    @raise ImportError: if pyOpenSSL is missing (naming the C{tls} extra).
    """
    from poetry.testing._tls import _twisted_tls

    tls: Any = _twisted_tls()
    previous = tls._get_default_clock

    def network_clock() -> IReactorTime:
        return net

    tls._get_default_clock = network_clock

    def restore() -> None:
        tls._get_default_clock = previous

    return restore


def route_http2_reactor(net: IReactorTime) -> Callable[[], None]:
    """
    Make the HTTP/2 connections C{twisted.web} builds run on C{net}, until
    the returned function is called.

    When TLS negotiates C{h2} (ALPN), C{twisted.web.http}'s channel replaces
    itself with C{twisted.web._http2.H2Connection()} -- built with no
    reactor, so on the global one, though the class takes one: its loop
    that sends response frames (a C{callLater(0)} after every frame) never
    runs while the network is driven, and no response is ever sent (the
    guard names it).  Use it for one test:
    C{self.addCleanup(route_http2_reactor(self.net))}.

    It replaces C{twisted.web.http.H2Connection}, the name the channel looks
    up when it switches, with the same class given C{reactor=net}.

    @return: a function that puts Twisted's class back.
    @raise ImportError: if C{h2} is missing (Twisted's C{http2} extra).
    """
    from twisted.web import http

    if not getattr(http, "H2_ENABLED", False):
        raise ImportError(
            "HTTP/2 in twisted.web needs the h2 package: pip install twisted[http2]"
        )
    module: Any = http
    previous = module.H2Connection
    module.H2Connection = functools.partial(previous, reactor=net)

    def restore() -> None:
        module.H2Connection = previous

    return restore


def route_global_cooperator(net: MemoryNetwork) -> Callable[[], None]:
    """
    Make the module-level C{twisted.internet.task.cooperate} and
    C{coiterate} use a cooperator of C{net} (L{MemoryNetwork.cooperator})
    until the returned function is called.

    For code that offers no cooperator parameter: C{twisted.web}'s
    C{HTTPChannel} drives every pull producer (C{static.File}'s among them)
    with the module-level C{cooperate}.  Use it for one test:
    C{self.addCleanup(route_global_cooperator(self.net))}.

    @return: a function that puts the global cooperator back.
    """
    previous = task._theCooperator
    task._theCooperator = net.cooperator()

    def restore() -> None:
        task._theCooperator = previous

    return restore


Scheduler.stuck_hint_providers.append(global_reactor_hint)
