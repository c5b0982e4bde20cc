"""
C{python -m poetry.testing}: render a saved trace, run a seed sweep (or one
shard of it), merge the shards' results::

    python -m poetry.testing trace trace.jsonl -o trace.svg --connection 3
    python -m poetry.testing sweep tests.unit.test_x:SWEEP --seeds 0:100000 \\
        --shard 2/8 --workers 2 --save shard-2.json
    python -m poetry.testing merge shard-*.json
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO, cast

from poetry.testing._diagram import DIAGRAM_FORMATS, trace_diagram
from poetry.testing._snapshot import TraceFormatError, TraceSnapshot
from poetry.testing._sweep import Sweep, SweepResult

__all__ = ["main", "parse_seeds"]

_SUFFIXES = {
    ".svg": "svg",
    ".html": "html",
    ".htm": "html",
    ".mmd": "mermaid",
    ".md": "mermaid",
    ".jsonl": "jsonl",
}


def parse_seeds(text: str) -> Sequence[int]:
    """
    Seeds from the command line: C{"START:STOP"} (a range, C{STOP}
    excluded), C{"N"} (one seed) or C{"A,B,C"}.

    @raise ValueError: if it is none of these.
    """
    try:
        if ":" in text:
            start, _, stop = text.partition(":")
            return range(int(start), int(stop))
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"not seeds: {text!r} (use START:STOP, N or A,B,C)") from None


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """
    An argument parser that writes to the given streams and raises instead
    of exiting.
    """

    out: TextIO = sys.stdout
    err: TextIO = sys.stderr

    def _print_message(self, message: str, file: object = None) -> None:
        if not message:
            return
        if file is sys.stderr:
            target = self.err
        elif file is None or file is sys.stdout:
            target = self.out
        else:
            target = cast(TextIO, file)
        target.write(message)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            self.err.write(message)
        raise _UsageError(status)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(self.err)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser(out: TextIO, err: TextIO) -> argparse.ArgumentParser:
    _Parser.out, _Parser.err = out, err
    parser = _Parser(
        prog="python -m poetry.testing",
        description="Tools of the poetry.testing harness.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    trace = commands.add_parser(
        "trace",
        help="render a saved trace (JSON lines) as a sequence diagram",
        description=(
            "Render a trace saved by poetry.testing.save_trace (or written "
            "next to a failing test's files) as Mermaid, SVG, HTML or JSON "
            "lines."
        ),
    )
    trace.add_argument("file", help="the saved trace (.jsonl), or - for stdin")
    trace.add_argument(
        "-f",
        "--format",
        choices=DIAGRAM_FORMATS,
        help="output format (default: from the output file's suffix, else svg)",
    )
    trace.add_argument("-o", "--output", help="write here (default: stdout)")
    trace.add_argument(
        "-c",
        "--connection",
        type=int,
        action="append",
        help="only this connection id (repeat for more)",
    )
    trace.add_argument("--start", type=float, help="only events at or after this time")
    trace.add_argument("--end", type=float, help="only events at or before this time")
    trace.add_argument(
        "--omit", action="append", default=[], help="a kind of event not to draw"
    )
    trace.add_argument(
        "--collapse",
        type=int,
        default=3,
        help="collapse runs of at least this many same-direction data events "
        "(0: never; default 3)",
    )
    trace.add_argument(
        "--max-rows", type=int, default=1500, help="the most rows drawn (default 1500)"
    )

    run = commands.add_parser(
        "sweep",
        help="run a seed sweep, or one shard of it",
        description=(
            "Run a sweep defined in Python: MODULE:NAME names a "
            "poetry.testing.Sweep or a function taking a seed."
        ),
    )
    run.add_argument("target", help="MODULE:NAME of a Sweep or a scenario function")
    run.add_argument(
        "--seeds", required=True, help="START:STOP (STOP excluded), N, or A,B,C"
    )
    run.add_argument("--shard", help="run only shard I/N of the seeds, e.g. 2/8")
    run.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1)"
    )
    run.add_argument(
        "--point",
        action="append",
        default=[],
        help="a point that must be reached (added to the Sweep's own)",
    )
    run.add_argument("--save", help="write the result as JSON here (for merge)")

    merge = commands.add_parser(
        "merge",
        help="merge the results of every shard of a sweep, and check it",
    )
    merge.add_argument("files", nargs="+", help="results saved by sweep --save")
    return parser


def _trace(options: argparse.Namespace, stdout: TextIO, stdin: TextIO) -> int:
    if options.file == "-":
        snapshot = TraceSnapshot.from_jsonl(stdin.read())
    else:
        snapshot = TraceSnapshot.load(options.file)
    format = options.format
    if format is None:
        suffix = Path(options.output).suffix.lower() if options.output else ""
        format = _SUFFIXES.get(suffix, "svg")
    text = trace_diagram(
        snapshot,
        format,
        connection=options.connection,
        start=options.start,
        end=options.end,
        omit=set(options.omit),
        collapse=options.collapse,
        max_rows=options.max_rows,
    )
    if options.output:
        Path(options.output).write_text(text, encoding="utf-8")
    else:
        stdout.write(text)
    return 0


def _target(text: str) -> Sweep:
    module_name, colon, name = text.partition(":")
    if not colon or not module_name or not name:
        raise ValueError(f"not MODULE:NAME: {text!r}")
    module = importlib.import_module(module_name)
    value = getattr(module, name, None)
    if isinstance(value, Sweep):
        return value
    if callable(value):
        return Sweep(value)
    raise ValueError(f"{text} is neither a Sweep nor a function")


def _sweep(options: argparse.Namespace, stdout: TextIO) -> int:
    seeds = parse_seeds(options.seeds)
    defined = _target(options.target)
    points = dict(defined.points)
    for name in options.point:
        points.setdefault(name, 1)
    result = Sweep(defined.scenario, points).run(
        seeds,
        workers=options.workers,
        shard=options.shard,
        check=False,
    )
    if options.save:
        Path(options.save).write_text(result.to_json() + "\n", encoding="utf-8")
    return _finish(result, stdout)


def _merge(options: argparse.Namespace, stdout: TextIO) -> int:
    parts = [
        SweepResult.from_json(Path(name).read_text(encoding="utf-8"))
        for name in options.files
    ]
    return _finish(SweepResult.merge(parts), stdout)


def _finish(result: SweepResult, stdout: TextIO) -> int:
    stdout.write(result.report() + "\n")
    for failure in result.failures[:1]:
        stdout.write(f"\nfirst failed seed, {failure.seed}:\n{failure.traceback}")
    problems = result.problems()
    if problems:
        stdout.write("FAILED: " + "; ".join(problems) + "\n")
        return 1
    if result.shard is not None:
        stdout.write(
            f"shard {result.shard} passed; merge every shard's result to check "
            "the points\n"
        )
    return 0


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """
    Run one command; return the exit status (0 success, 1 a failed sweep,
    2 bad arguments or input).
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = _parser(out, err)
    try:
        options = parser.parse_args(argv)
    except _UsageError as e:
        status: int = e.args[0]
        return status
    try:
        if options.command == "trace":
            return _trace(options, out, stdin if stdin is not None else sys.stdin)
        if options.command == "sweep":
            return _sweep(options, out)
        return _merge(options, out)
    except (OSError, TraceFormatError, ValueError, ImportError) as e:
        err.write(f"python -m poetry.testing {options.command}: error: {e}\n")
        return 2
