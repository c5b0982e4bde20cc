"""
L{every_split} and L{assert_every_split}: run a scenario with its byte
stream cut at every point, so that framing bugs cannot hide.

A protocol must not care how TCP cuts its stream, yet a test that delivers
every write whole never shows it a delimiter cut in two, a length prefix
split from its payload, or a multi-byte character split across
C{dataReceived} calls.  L{every_split} yields a L{SplitAt} chunking policy
for every split point of a message -- and for every pair of split points
when the message is at most L{PAIRS_UP_TO} bytes long -- and
L{assert_every_split} runs a scenario once per policy, on a fresh network,
and names the offsets (and the seed) of the first run that fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import attrs

from poetry.testing._conditions import PLAIN, LinkConditions, SplitAt
from poetry.testing._errors import HarnessError
from poetry.testing._network import MemoryNetwork
from poetry.testing._seed import resolve_seed

__all__ = ["PAIRS_UP_TO", "SplitError", "assert_every_split", "every_split"]

PAIRS_UP_TO = 64
"""
The default length up to which L{every_split} also yields every pair of
split points (a 64-byte message: 63 single splits and 1,953 pairs).
"""


class SplitError(HarnessError):
    """
    L{assert_every_split}: the scenario failed with the stream cut at
    C{offsets}.

    @ivar offsets: the split offsets of the failing run.
    """

    def __init__(
        self,
        detail: str,
        seed: int,
        test_id: str | None = None,
        *,
        offsets: tuple[int, ...] = (),
    ) -> None:
        super().__init__(detail, seed, test_id)
        self.offsets = offsets


def every_split(
    message: bytes | int, *, pairs_up_to: int = PAIRS_UP_TO
) -> Iterator[SplitAt]:
    """
    Every way to cut C{message} once -- C{SplitAt((k,))} for each C{k} in
    C{1 .. len(message) - 1} -- then, if C{len(message) <= pairs_up_to},
    every way to cut it twice: C{SplitAt((i, j))} for C{1 <= i < j <
    len(message)}.

    @param message: the bytes of one direction of the stream (or their
        number): the offsets count from the first byte of that direction.
    @param pairs_up_to: the longest message for which pairs are yielded
        (0 for none).
    """
    size = message if isinstance(message, int) else len(message)
    for cut in range(1, size):
        yield SplitAt((cut,))
    if size <= pairs_up_to:
        for first in range(1, size):
            for second in range(first + 1, size):
                yield SplitAt((first, second))


def assert_every_split(
    scenario: Callable[[MemoryNetwork], object],
    message: bytes | int,
    *,
    seed: int | None = None,
    direction: str | None = None,
    pairs_up_to: int = PAIRS_UP_TO,
    link: LinkConditions = PLAIN,
    hosts: Mapping[str, str] | None = None,
    step_budget: int = 1_000_000,
    test_id: str | None = None,
) -> int:
    """
    Run C{scenario(net)} once for every policy of L{every_split}C{(message)},
    each time on a fresh L{MemoryNetwork} (same seed) whose default link
    cuts the stream there.  The scenario drives the network and raises (an
    assertion, a harness error, ...) if anything is wrong.

    @param direction: cut only this direction (C{"client->server"} or
        C{"server->client"}); L{None} cuts both at the same offsets.
    @param link: other conditions of the link (latency, ...); its chunking
        is replaced.

    @return: the number of runs.
    @raise SplitError: for the first run that raised, naming its offsets
        and the seed (the original exception is its C{__cause__}).
    """
    seed = resolve_seed(seed)
    runs = 0
    for policy in every_split(message, pairs_up_to=pairs_up_to):
        net = MemoryNetwork(seed, hosts=hosts, step_budget=step_budget)
        net.test_id = test_id
        net.set_default_link(attrs.evolve(link, chunking=policy), direction=direction)
        runs += 1
        try:
            scenario(net)
        except Exception as e:
            cut = ", ".join(map(str, policy.offsets))
            raise SplitError(
                f"The scenario failed with the stream cut at offset(s) {cut} "
                f"(run {runs}; direction: {direction or 'both'}):\n"
                f"{type(e).__name__}: {e}",
                seed,
                test_id,
                offsets=policy.offsets,
            ) from e
    return runs
