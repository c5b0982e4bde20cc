"""
The progress display of C{get} and C{demo}: bytes received per server, drawn
on standard error with rich, only when standard error is a terminal.

Rich is driven from the reactor: no refresh thread; a L{LoopingCall} on the
injected clock redraws ten times a second, and rich reads the time from that
same clock.
"""

from __future__ import annotations

from typing import IO, Protocol

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

__all__ = ["FetchDisplay", "PlainDisplay", "RichDisplay", "make_display"]

_REFRESH_INTERVAL = 0.1


class FetchDisplay(Protocol):
    """
    Shows how a set of concurrent fetches is going.
    """

    @property
    def live(self) -> bool:
        """
        Whether the display is drawing on the terminal (so nothing else
        should write to it until L{close}).
        """

    def add(self, label: str) -> int:
        """
        Add a fetch; return its index for L{update} and L{finish}.
        """

    def update(self, index: int, received: int) -> None:
        """
        Fetch C{index} has received C{received} bytes so far.
        """

    def finish(self, index: int, ok: bool) -> None:
        """
        Fetch C{index} is over.
        """

    def message(self, line: str) -> None:
        """
        Show one line (an error) without disturbing the display.
        """

    def close(self) -> None:
        """
        Stop drawing; leave the final state on screen.
        """


class PlainDisplay:
    """
    No progress display: only the message lines, written to C{stream}.
    """

    live = False

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def add(self, label: str) -> int:
        return 0

    def update(self, index: int, received: int) -> None:
        pass

    def finish(self, index: int, ok: bool) -> None:
        pass

    def message(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        pass


class _OutcomeColumn(SpinnerColumn):
    """
    A spinner while a fetch runs; once it is over, a check mark, or a red
    cross the moment it fails (a failed fetch never keeps spinning while the
    others go on).
    """

    def render(self, task: Task) -> RenderableType:
        outcome = task.fields.get("outcome")
        if outcome == "ok":
            return Text("\N{CHECK MARK}", style="bold")
        if outcome == "failed":
            return Text("\N{BALLOT X}", style="bold red")
        return super().render(task)


class RichDisplay:
    """
    A rich progress display on C{stream}: one row per fetch with its label,
    an activity bar, the bytes received so far, the time taken and the
    outcome; a failed fetch's row turns red as soon as it fails.

    @param clock: drives the redraws and provides the time shown.
    @param console: the rich console to draw on; built for C{stream} if
        L{None} (tests pass one with a fixed width).
    """

    live = True

    def __init__(
        self,
        stream: IO[str],
        clock: IReactorTime,
        console: Console | None = None,
    ) -> None:
        if console is None:
            # Only built when the caller knows C{stream} is a terminal.
            console = Console(file=stream, force_terminal=True)
        self._progress = Progress(
            _OutcomeColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:>8,.0f} bytes"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
            get_time=clock.seconds,
        )
        self._tasks: list[TaskID] = []
        self._progress.start()
        self._loop = LoopingCall(self._progress.refresh)
        self._loop.clock = clock
        self._loop.start(_REFRESH_INTERVAL, now=False)
        self._closed = False

    def add(self, label: str) -> int:
        self._tasks.append(
            self._progress.add_task(
                escape(label), total=None, status="receiving", outcome=None
            )
        )
        self._progress.refresh()
        return len(self._tasks) - 1

    def update(self, index: int, received: int) -> None:
        self._progress.update(self._tasks[index], completed=received)

    def finish(self, index: int, ok: bool) -> None:
        task = self._tasks[index]
        completed = self._progress.tasks[index].completed
        # A known total stops the bar's "waiting" pulse: full when the poem
        # is complete, half-drawn when the fetch failed.
        label = self._progress.tasks[index].description
        self._progress.update(
            task,
            total=completed if ok else max(2 * completed, 1),
            status="ok" if ok else "[red]failed[/]",
            outcome="ok" if ok else "failed",
            description=label if ok else f"[red]{label}[/]",
        )
        self._progress.stop_task(task)
        self._progress.refresh()

    def message(self, line: str) -> None:
        self._progress.console.print(line, markup=False, highlight=False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._loop.running:
            self._loop.stop()
        self._progress.refresh()
        self._progress.stop()


def make_display(stream: IO[str], is_tty: bool, clock: IReactorTime) -> FetchDisplay:
    """
    A L{RichDisplay} if C{stream} is a terminal, else a L{PlainDisplay}.
    """
    if is_tty:
        return RichDisplay(stream, clock)
    return PlainDisplay(stream)
