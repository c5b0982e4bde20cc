"""
C{get}: fetch poems from one or more servers concurrently.  Its options are
L{poetry._options.GET}.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from twisted.internet.interfaces import IReactorTCP, IReactorTime

from poetry._cli._context import Context, describe_failure
from poetry._cli._fetch import FetchOutcome, fetch_many
from poetry._cli._progress import FetchDisplay, make_display
from poetry._values import Address, Target

__all__ = ["DESCRIPTION", "output_names", "run"]

DESCRIPTION = """\
Fetch a poem from each ADDRESS ([HOST:]PORT; HOST defaults to 127.0.0.1, an
IPv6 host is written [::1]:PORT; or a client endpoint description such as
unix:/tmp/poetry.sock), all at once.  The poems are written to standard
output one after the other in the order the addresses were given (or, with
--output DIR, each to its own file DIR/HOST_PORT.txt).  While they arrive, a
progress display on standard error shows the bytes received from each
server, when standard error is a terminal.  Each failed fetch gets one error
line on standard error.  The exit status is 0 if every poem arrived whole, 1
otherwise.
"""

_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


def output_names(addresses: list[Target]) -> list[str]:
    """
    The file name for each address with C{--output}: C{HOST_PORT.txt}, with
    characters other than letters, digits, C{.} and C{-} in the host replaced
    by C{_} (for an endpoint description, the whole description so
    replaced); an address given again gets C{HOST_PORT.2.txt}, C{.3}, ...
    """
    names: list[str] = []
    seen: dict[str, int] = {}
    for address in addresses:
        if isinstance(address, Address):
            stem = f"{_UNSAFE.sub('_', address.host)}_{address.port}"
        else:
            stem = _UNSAFE.sub("_", address.description)
        seen[stem] = seen.get(stem, 0) + 1
        suffix = "" if seen[stem] == 1 else f".{seen[stem]}"
        names.append(f"{stem}{suffix}.txt")
    return names


async def run(reactor: IReactorTCP, args: argparse.Namespace, context: Context) -> int:
    """
    Fetch every poem; write them out as they become writable in order.

    @return: the exit status: 0 if every poem arrived, else 1.
    """
    addresses: list[Target] = args.addresses
    output: Path | None = args.output
    display = make_display(context.stderr, context.stderr_is_tty, IReactorTime(reactor))
    writer = _Writer(context, display, output, addresses)
    if output is not None:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            display.close()
            context.error(f"poetry: error: cannot create {str(output)!r}: {error}")
            return 1
    batch = fetch_many(
        reactor,
        [(str(address), address) for address in addresses],
        display,
        timeout=args.timeout,
        on_outcome=writer.outcome,
    )

    def stop() -> None:
        batch.cancel()

    context.on_shutdown(stop)
    try:
        outcomes = await batch.done
    finally:
        display.close()
    writer.finish()
    return 0 if all(o.ok for o in outcomes) and writer.ok else 1


class _Writer:
    """
    Write each poem once it and every poem before it have arrived, so that
    standard output keeps the order of the addresses -- or, while a progress
    display is drawing on the terminal, at the end; or to its file as soon as
    it arrives with C{--output}.
    """

    def __init__(
        self,
        context: Context,
        display: FetchDisplay,
        output: Path | None,
        addresses: list[Target],
    ) -> None:
        self._context = context
        self._display = display
        self._output = output
        self._names = output_names(addresses)
        self._done: dict[int, FetchOutcome] = {}
        self._next = 0
        self.ok = True

    def outcome(self, index: int, outcome: FetchOutcome) -> None:
        if outcome.failure is not None:
            self._display.message(
                f"poetry: {outcome.address}: failed: "
                f"{describe_failure(outcome.failure)}"
            )
        if self._output is not None:
            if outcome.poem is not None:
                self._save(index, outcome.poem)
            return
        self._done[index] = outcome
        if not self._display.live:
            self._write_ready()

    def _save(self, index: int, poem: bytes) -> None:
        assert self._output is not None
        path = self._output / self._names[index]
        try:
            path.write_bytes(poem)
        except OSError as error:
            self.ok = False
            self._display.message(f"poetry: error: cannot write {str(path)!r}: {error}")

    def _write_ready(self) -> None:
        while self._next in self._done:
            poem = self._done.pop(self._next).poem
            if poem is not None:
                self._context.write(poem)
            self._next += 1

    def finish(self) -> None:
        if self._output is None:
            self._write_ready()
