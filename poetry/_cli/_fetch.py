"""
Concurrent poem fetches for C{get} and C{demo}: timed on the reactor's
clock, reported to a progress display, cancellable as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.interfaces import IReactorTCP, IReactorTime
from twisted.python.failure import Failure

from poetry._cli._context import describe_failure
from poetry._cli._progress import FetchDisplay
from poetry._values import Address, Target, client_endpoint
from poetry.client import get_poetry, get_poetry_at
from poetry.transform import transform, transform_at

__all__ = [
    "FetchBatch",
    "FetchOutcome",
    "fetch_many",
    "fetch_poem",
    "request_transform",
]


def fetch_poem(
    reactor: IReactorTCP,
    target: Target,
    *,
    timeout: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> Deferred[bytes]:
    """
    Fetch a poem from C{target}: over TCP with L{get_poetry} for an
    L{Address}, else through the endpoint the description makes.
    """
    if isinstance(target, Address):
        return get_poetry(
            reactor, target.host, target.port, timeout=timeout, progress=progress
        )
    endpoint = client_endpoint(reactor, target)
    return get_poetry_at(
        endpoint, IReactorTime(reactor), timeout=timeout, progress=progress
    )


def request_transform(
    reactor: IReactorTCP,
    target: Target,
    name: str,
    poem: bytes,
    *,
    timeout: float | None = None,
) -> Deferred[bytes]:
    """
    Ask the transform server at C{target} to transform C{poem}: over TCP
    with L{transform} for an L{Address}, else through the endpoint the
    description makes.
    """
    if isinstance(target, Address):
        return transform(reactor, target.host, target.port, name, poem, timeout=timeout)
    endpoint = client_endpoint(reactor, target)
    return transform_at(endpoint, IReactorTime(reactor), name, poem, timeout=timeout)


@attrs.frozen
class FetchOutcome:
    """
    How one fetch went.

    @ivar label: what the user calls this fetch (the address for C{get}).
    @ivar address: where the poem was fetched from.
    @ivar poem: the poem, or L{None} if the fetch failed.
    @ivar failure: why it failed, or L{None}.
    @ivar received: the bytes received, even if the fetch then failed.
    @ivar seconds: from the start of the fetch to its end, on the reactor's
        clock.
    """

    label: str
    address: Target
    poem: bytes | None
    failure: Failure | None
    received: int
    seconds: float

    @property
    def ok(self) -> bool:
        """
        Whether the whole poem arrived.
        """
        return self.failure is None

    def summary(self) -> str:
        """
        One line: label, address, bytes, seconds, and C{ok} or
        C{failed: <reason>}.
        """
        if self.failure is None:
            outcome = "ok"
        else:
            outcome = f"failed: {describe_failure(self.failure)}"
        return (
            f"{self.label}: {self.address} {self.received} bytes "
            f"in {self.seconds:.2f} s {outcome}"
        )


@attrs.define
class FetchBatch:
    """
    Fetches under way.

    @ivar done: fires with one L{FetchOutcome} per target, in the order the
        targets were given, once every fetch is over; never fails.
    """

    done: Deferred[list[FetchOutcome]]
    _pending: list[Deferred[bytes]]

    def cancel(self) -> None:
        """
        Cancel every fetch still running; each ends as failed with
        L{CancelledError<twisted.internet.defer.CancelledError>}.
        """
        for fetch in list(self._pending):
            fetch.cancel()


def fetch_many(
    reactor: IReactorTCP,
    targets: Sequence[tuple[str, Target]],
    display: FetchDisplay,
    *,
    timeout: float | None = None,
    on_outcome: Callable[[int, FetchOutcome], None] | None = None,
) -> FetchBatch:
    """
    Fetch a poem from each target concurrently.

    @param targets: C{(label, address)} pairs.
    @param display: told about each fetch's progress and end.
    @param timeout: per fetch, as in L{get_poetry}.
    @param on_outcome: called with C{(index, outcome)} as each fetch ends,
        in the order they end.
    """
    clock = IReactorTime(reactor)
    pending: list[Deferred[bytes]] = []
    outcomes: list[Deferred[FetchOutcome]] = []

    for index, (label, address) in enumerate(targets):
        row = display.add(label)
        received = [0]
        started = clock.seconds()

        def progress(
            count: int, row: int = row, received: list[int] = received
        ) -> None:
            received[0] = count
            display.update(row, count)

        fetch = fetch_poem(reactor, address, timeout=timeout, progress=progress)
        pending.append(fetch)

        def ended(
            result: bytes | Failure,
            index: int = index,
            label: str = label,
            address: Target = address,
            row: int = row,
            received: list[int] = received,
            started: float = started,
            fetch: Deferred[bytes] = fetch,
        ) -> FetchOutcome:
            pending.remove(fetch)
            elapsed = clock.seconds() - started
            if isinstance(result, Failure):
                outcome = FetchOutcome(
                    label, address, None, result, received[0], elapsed
                )
            else:
                outcome = FetchOutcome(
                    label, address, result, None, len(result), elapsed
                )
            display.finish(row, outcome.ok)
            if on_outcome is not None:
                on_outcome(index, outcome)
            return outcome

        outcomes.append(fetch.addBoth(ended))

    return FetchBatch(gatherResults(outcomes), pending)
