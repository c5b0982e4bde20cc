"""
The caching poetry proxy.

The proxy speaks the poetry protocol to its clients (write the poem, then
close) and fetches the poem from an upstream poetry server with
L{poetry.client.get_poetry}, optionally passing it through the transform
service (L{poetry.transform.transform}) first.

Behaviour, in short (details in L{PoemCache} and L{PoetryProxyFactory}):

  - concurrent clients share one upstream fetch;
  - a poem is cached for C{ttl} seconds of the injected clock, counted from
    the moment it arrived;
  - a failed, truncated or timed-out fetch is never cached: every client
    waiting on it is I{aborted}, so that a poetry client sees a failure and
    never mistakes the abort for an empty poem;
  - when every waiting client has left, the upstream fetch is cancelled;
  - a transform failure falls back to the untransformed poem, which is
    served to the clients waiting on that fetch but not cached.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import attrs
from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.interfaces import (
    IAddress,
    IReactorTCP,
    IReactorTime,
    ITransport,
)
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from poetry._address import describe_address
from poetry.client import get_poetry
from poetry.transform import check_transform_name
from poetry.transform import transform as _transform

__all__ = [
    "DEFAULT_TRANSFORM_TIMEOUT",
    "DEFAULT_TTL",
    "DEFAULT_UPSTREAM_TIMEOUT",
    "Fetched",
    "PoemCache",
    "PoetryProxyFactory",
    "PoetryProxyProtocol",
]

_log = Logger()

DEFAULT_TTL = 300.0
"""
Seconds a fetched poem is served from the cache, by default.
"""

DEFAULT_UPSTREAM_TIMEOUT = 30.0
"""
Seconds allowed for an upstream fetch, by default.
"""

DEFAULT_TRANSFORM_TIMEOUT = 30.0
"""
Seconds allowed for the transform of a fetched poem, by default.
"""


@attrs.frozen
class Fetched:
    """
    The outcome of one successful fetch, as handed to L{PoemCache}.

    @ivar poem: the poem to serve to every client waiting on the fetch.
    @ivar cacheable: whether L{PoemCache} may keep C{poem} for later clients.
        A fallback result (such as an untransformed poem served because the
        transform service failed) is served but not cached.
    """

    poem: bytes
    cacheable: bool = True


class PoemCache:
    """
    One cached poem, with concurrent misses coalesced into a single fetch.

    Exact semantics:

      - L{get} serves the cached poem, synchronously, while
        C{clock.seconds() < fetched_at + ttl}, where C{fetched_at} is the
        clock's time when the fetch I{completed}.  Expiry is checked on each
        call; no timer is ever scheduled, so nothing is left pending on the
        clock.  With C{ttl=0} nothing is ever served from the cache, but
        concurrent requests are still coalesced.
      - Otherwise, if no fetch is in flight, L{get} starts one by calling
        C{fetch()}; if one is in flight, the caller joins it.  Either way
        the caller gets its own L{Deferred}.
      - When the fetch succeeds, the entry is stored (if
        L{Fetched.cacheable}) I{before} any waiter is fired, so a waiter's
        callback that calls L{get} again is served from the cache.  Every
        waiter then fires with the poem, in the order they called L{get}.
      - When the fetch fails, nothing is stored (and any expired entry is
        gone); every waiter fails with the same failure.  The in-flight
        state is cleared first, so the next L{get} -- even one made from a
        waiter's errback -- starts a fresh fetch.
      - Cancelling a waiter's L{Deferred} removes that waiter only (it fails
        with L{CancelledError}).  When the last waiter of a fetch is
        cancelled, the fetch's L{Deferred} is cancelled too, and its outcome
        is ignored; the next L{get} starts a fresh fetch.

    @ivar ttl: how long, in seconds of C{clock}, a fetched poem is served.
    """

    def __init__(
        self,
        clock: IReactorTime,
        fetch: Callable[[], Deferred[Fetched]],
        ttl: float,
    ) -> None:
        """
        @param clock: decides expiry.
        @param fetch: starts one fetch; its L{Deferred} should be cancellable.
        @param ttl: seconds a fetched poem stays fresh; C{0} disables
            caching.

        @raise ValueError: if C{ttl} is negative or NaN.
        """
        if math.isnan(ttl) or ttl < 0:
            raise ValueError(f"ttl must be a non-negative number, not {ttl!r}")
        self.ttl = ttl
        self._clock = clock
        self._fetch = fetch
        self._poem: bytes | None = None
        self._fetched_at = 0.0
        self._inflight: Deferred[Fetched] | None = None
        self._waiters: list[Deferred[bytes]] = []

    @property
    def fetching(self) -> bool:
        """
        Whether a fetch is in flight.
        """
        return self._inflight is not None

    @property
    def waiting(self) -> int:
        """
        How many callers wait on the fetch in flight.
        """
        return len(self._waiters)

    def cached(self) -> bytes | None:
        """
        The poem if it is still fresh, else L{None} (and an expired poem is
        dropped).
        """
        if self._poem is not None:
            if self._clock.seconds() < self._fetched_at + self.ttl:
                return self._poem
            self._poem = None
        return None

    def clear(self) -> None:
        """
        Forget the cached poem.  A fetch in flight is not affected.
        """
        self._poem = None

    def get(self) -> Deferred[bytes]:
        """
        Get the poem: from the cache, from the fetch in flight, or from a new
        fetch.

        @return: a L{Deferred} that fires with the poem, or fails as the
            fetch failed; cancelling it leaves the fetch (see the class
            docstring).
        """
        poem = self.cached()
        if poem is not None:
            return succeed(poem)
        waiter: Deferred[bytes] = Deferred(self._leave)
        self._waiters.append(waiter)
        if self._inflight is None:
            self._start()
        return waiter

    def _start(self) -> None:
        fetch = self._fetch()
        self._inflight = fetch
        # If the fetch has already fired, this runs now; _inflight is set.
        fetch.addBoth(self._finished, fetch)

    def _finished(self, result: Fetched | Failure, fetch: Deferred[Fetched]) -> None:
        if fetch is not self._inflight:
            # A fetch we cancelled because every waiter left.
            return None
        self._inflight = None
        waiters, self._waiters = self._waiters, []
        if isinstance(result, Failure):
            for waiter in waiters:
                waiter.errback(result)
            return None
        if result.cacheable:
            self._poem = result.poem
            self._fetched_at = self._clock.seconds()
        for waiter in waiters:
            waiter.callback(result.poem)
        return None

    def _leave(self, waiter: Deferred[bytes]) -> None:
        self._waiters.remove(waiter)
        if self._waiters or self._inflight is None:
            return
        fetch, self._inflight = self._inflight, None
        _log.info("Every waiting client left; cancelling the fetch in flight")
        fetch.cancel()


class PoetryProxyProtocol(Protocol):
    """
    Serve one client of the proxy: write the poem and close, or abort the
    connection if no poem could be had.
    """

    factory: PoetryProxyFactory
    _waiting: Deferred[bytes] | None = None
    _peer: IAddress | None = None
    _gone = False

    def connectionMade(self) -> None:
        assert self.transport is not None
        # Read the peer now: on real TCP address methods may fail once the
        # connection is gone.
        self._peer = self.transport.getPeer()
        waiting = self.factory.request(self._peer)
        self._waiting = waiting
        waiting.addCallbacks(self._serve, self._fail)

    def _serve(self, poem: bytes) -> None:
        # Only while connected: connectionLost cancels the wait, and a
        # cancelled wait on the cache always fails (into _fail), never
        # delivers a poem.
        self._waiting = None
        assert self.transport is not None
        self.transport.write(poem)
        self.transport.loseConnection()

    def _fail(self, reason: Failure) -> None:
        self._waiting = None
        if self._gone:
            # The client left and we cancelled its wait: nothing to tell it.
            return
        _log.info(
            "Aborting the connection to {peer}: no poem to serve ({why})",
            peer=describe_address(self._peer),
            why=reason.getErrorMessage(),
        )
        assert self.transport is not None
        _abort(self.transport)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._gone = True
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            _log.info(
                "Client {peer} left before the poem arrived",
                peer=describe_address(self._peer),
            )
            waiting.cancel()


def _abort(transport: ITransport) -> None:
    """
    Drop the connection so that the peer sees an error, not a clean close.
    """
    abort: Callable[[], None] | None = getattr(transport, "abortConnection", None)
    if abort is not None:
        abort()
    else:
        _log.warn(
            "Transport {transport!r} cannot abort; closing it instead, so the "
            "client may mistake the close for an empty poem",
            transport=transport,
        )
        transport.loseConnection()


class PoetryProxyFactory(ServerFactory[PoetryProxyProtocol]):
    """
    A caching proxy for one upstream poetry server.

    Every client connection asks L{cache} for the poem (see L{PoemCache} for
    coalescing and expiry).  A fetch is one L{get_poetry} call to the
    upstream server, bounded by C{upstream_timeout}; with C{transform}, the
    poem is then passed through the transform service, bounded by
    C{transform_timeout}:

      - upstream refused, truncated (L{poetry.client.PoemTruncated}) or
        timed out: logged at I{warn} with the reason; nothing is cached; every
        waiting client is aborted;
      - transform failed (refused, timed out, bad reply, ...): logged at
        I{warn} with the reason; the untransformed poem is served to the
        clients waiting on this fetch but I{not cached}, so the next client
        retries both upstream and the transform rather than getting an
        untransformed poem for a whole C{ttl};
      - transform succeeded: the transformed poem is served and cached.

    Cache hits, joins and misses are logged at I{info}.

    @ivar cache: the L{PoemCache}.
    """

    protocol = PoetryProxyProtocol

    def __init__(
        self,
        reactor: IReactorTCP,
        upstream_host: str,
        upstream_port: int,
        *,
        ttl: float = DEFAULT_TTL,
        transform: tuple[str, int, str] | None = None,
        upstream_timeout: float | None = DEFAULT_UPSTREAM_TIMEOUT,
        transform_timeout: float | None = DEFAULT_TRANSFORM_TIMEOUT,
    ) -> None:
        """
        @param reactor: provides L{IReactorTCP} and L{IReactorTime}; used to
            connect upstream and as the clock for expiry and timeouts.
        @param ttl: seconds a fetched poem is served from the cache, counted
            from its arrival; C{0} disables caching (concurrent clients still
            share one fetch).
        @param transform: C{(host, port, name)} of a transform service and
            the transform to apply, or L{None}.
        @param upstream_timeout: seconds allowed for the whole upstream
            fetch (connect and poem), or L{None} for no limit.
        @param transform_timeout: seconds allowed for the transform, or
            L{None} for no limit.

        @raise TypeError: if C{reactor} does not provide L{IReactorTime}.
        @raise ValueError: if C{ttl} is negative or NaN, a timeout is not
            positive, or C{transform} is not C{(str, int, name)} with a name
            that passes L{poetry.transform.check_transform_name}.
        """
        if not IReactorTime.providedBy(reactor):
            raise TypeError(
                "PoetryProxyFactory needs a reactor that also provides IReactorTime"
            )
        if transform is not None:
            _check_transform(transform)
        for label, timeout in (
            ("upstream_timeout", upstream_timeout),
            ("transform_timeout", transform_timeout),
        ):
            if timeout is not None and not timeout > 0:
                raise ValueError(f"{label} must be positive or None, not {timeout!r}")
        self._reactor = reactor
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.transform = transform
        self.upstream_timeout = upstream_timeout
        self.transform_timeout = transform_timeout
        self.cache = PoemCache(cast(IReactorTime, reactor), self._fetch, ttl)

    def request(self, peer: IAddress | None) -> Deferred[bytes]:
        """
        Get the poem for the client at C{peer}, logging how it is served.
        """
        shown = describe_address(peer)
        if self.cache.cached() is not None:
            _log.info("Serving {peer} from the cache", peer=shown)
        elif self.cache.fetching:
            _log.info(
                "{peer} joins the fetch in flight ({waiting} already waiting)",
                peer=shown,
                waiting=self.cache.waiting,
            )
        else:
            _log.info(
                "Cache miss for {peer}: fetching from {host}:{port}",
                peer=shown,
                host=self.upstream_host,
                port=self.upstream_port,
            )
        return self.cache.get()

    def _fetch(self) -> Deferred[Fetched]:
        fetch = get_poetry(
            self._reactor,
            self.upstream_host,
            self.upstream_port,
            timeout=self.upstream_timeout,
        )
        return fetch.addCallbacks(self._fetched, self._upstream_failed)

    def _upstream_failed(self, reason: Failure) -> Failure:
        if not reason.check(CancelledError):
            _log.warn(
                "Fetching the poem from {host}:{port} failed: {why}; "
                "aborting {waiting} waiting client(s), nothing cached",
                host=self.upstream_host,
                port=self.upstream_port,
                why=reason.getErrorMessage(),
                waiting=self.cache.waiting,
            )
        return reason

    def _fetched(self, poem: bytes) -> Fetched | Deferred[Fetched]:
        if self.transform is None:
            return Fetched(poem)
        host, port, name = self.transform
        try:
            transformed = _transform(
                self._reactor, host, port, name, poem, timeout=self.transform_timeout
            )
        except Exception:
            # The arguments were checked in __init__; anything raised here is
            # still a transform failure, not a reason to drop the poem.
            transformed = fail()
        return transformed.addCallbacks(
            Fetched, self._transform_failed, errbackArgs=(poem,)
        )

    def _transform_failed(self, reason: Failure, poem: bytes) -> Fetched | Failure:
        if reason.check(CancelledError):
            # Every waiting client left while the transform was running.
            return reason
        assert self.transform is not None
        host, port, name = self.transform
        _log.warn(
            "Transform {name!r} at {host}:{port} failed: {why}; serving the "
            "untransformed poem to {waiting} client(s), not caching it",
            name=name,
            host=host,
            port=port,
            why=reason.getErrorMessage(),
            waiting=self.cache.waiting,
        )
        return Fetched(poem, cacheable=False)


def _check_transform(transform: tuple[str, int, str]) -> None:
    """
    Reject a C{transform=} argument that could never work, at construction
    rather than on every fetch.
    """
    try:
        host, port, name = transform
    except (TypeError, ValueError):
        raise ValueError(
            f"transform must be (host, port, name), not {transform!r}"
        ) from None
    if not isinstance(host, str) or not isinstance(port, int):
        raise ValueError(
            f"transform must be (host: str, port: int, name: str), not {transform!r}"
        )
    try:
        check_transform_name(name)
    except (TypeError, ValueError) as error:
        raise ValueError(f"transform {transform!r}: {error}") from None
