"""
Where the time and memory of many connections go: the measurements behind
the Performance section of the README (issue 15, item 3).

Run from a checkout, one experiment per fresh process (``tox -e bench`` has
the packages; ``.tox/bench/bin/python benchmarks/profile_scale.py ...``)::

    profile_scale.py gc N [--mode default|disable|freeze|threshold=T]
                          [--trace on|off]
        bench section 3 with N clients (``bench.concurrent_clients``) under
        one garbage-collector setting: ``freeze`` calls ``gc.freeze()`` once
        every fetch is started, ``threshold=T`` sets the youngest
        generation's threshold to T (CPython's is 700), ``thresholds=A,B,C``
        all three (``thresholds=700,10,1000000000``: no full collection
        after the start; CPython's are 700,10,10), ``disable`` turns
        the collector off; ``--trace off`` makes the network without its
        trace (to measure what the trace costs); prints wall, CPU and setup seconds, CPU
        microseconds per connection and the collections of each generation.
    profile_scale.py census N [--at SECONDS]
        runs section 3 with N clients until virtual time SECONDS (3.0: every
        connection established, mid-poem) and prints, per connection, the
        objects the collector tracks by type (``gc.get_objects()`` against
        the world before the fetches), the bytes and blocks allocated by
        source line (``tracemalloc``), and the trace events by kind.
    profile_scale.py cprofile N [--top K]
        cProfile of section 3 with N clients, timed by this process's CPU
        time (steady when other processes share the cores): the K functions
        with the most own time, in microseconds per connection.
    profile_scale.py row-b [--batch N] [--top K] [--plain]
        cProfile of section 1 row (b) (N poems, one connection each), timed
        by CPU time; ``--plain`` runs it without cProfile (for py-spy).

Sampled profiles (``py-spy``, installed on its own: it is no dependency of
the project), summarised by this script::

    py-spy record --native -r 250 -f raw -o N.txt -- \
        python benchmarks/profile_scale.py gc N
    profile_scale.py summarize N.txt [N2.txt ...] [--top K]
    py-spy record --native -r 250 -f raw -o b.txt -- \\
        python benchmarks/profile_scale.py row-b --plain --batch 20000
    profile_scale.py summarize b.txt --within "memory_network_batch.<locals>.run"

prints, of the samples taken in the measured part (``--within NAME``, a
function's name, repeatable), the share in garbage collection, by module of the
innermost Python frame (the harness's layers, Twisted's Deferreds, the
poetry client and server), and by innermost Python function.

Instruction counts, which no other process on the machine can disturb, come
from valgrind, e.g.::

    valgrind --tool=callgrind --cache-sim=yes \\
        python benchmarks/profile_scale.py gc 10000

(subtract a run with N = 0 for the cost of the interpreter's start).
Nothing here is a test: it prints what it measures.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import linecache
import os
import pstats
import sys
import time
import tracemalloc
from collections import Counter
from typing import Any

sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench import concurrent_clients, concurrent_world, memory_network_batch


def _gc_setting(mode: str) -> Any:
    """
    Apply C{mode} now (C{disable}, C{threshold=T}) or return the hook to run
    once the fetches are started (C{freeze}).
    """
    if mode == "default":
        return None
    if mode == "disable":
        gc.disable()
        return None
    if mode == "freeze":
        return gc.freeze
    if mode.startswith("thresholds="):
        first, second, third = (int(part) for part in mode.split("=", 1)[1].split(","))
        gc.set_threshold(first, second, third)
        return None
    if mode.startswith("threshold="):
        _, generation1, generation2 = gc.get_threshold()
        gc.set_threshold(int(mode.split("=", 1)[1]), generation1, generation2)
        return None
    raise SystemExit(f"unknown --mode {mode!r}")


def run_gc(count: int, mode: str, trace: bool) -> None:
    hook = _gc_setting(mode)
    result = concurrent_clients(count, after_setup=hook, trace=trace)
    stats = gc.get_stats()
    print(
        f"{count:>7,} clients, trace {'on' if trace else 'off'}, gc {mode:<16}"
        f" wall {result['wall_seconds']:7.3f} s"
        f"  CPU {result['cpu_seconds']:7.3f} s"
        f"  setup CPU {result['setup_cpu_seconds']:6.3f} s"
        f"  {result['cpu_seconds'] / max(count, 1) * 1e6:6.1f} us/conn (CPU)"
        f"  peak RSS {result['peak_rss_mib']:6.0f} MiB"
        f"  collections {[generation['collections'] for generation in stats]}"
    )


def _type_name(kind: type) -> str:
    module = kind.__dict__.get("__module__", "builtins")
    if not isinstance(module, str) or module == "builtins":
        return kind.__qualname__
    return f"{module.rsplit('.', 1)[-1]}.{kind.__qualname__}"


def _census() -> Counter[str]:
    gc.collect()
    return Counter(_type_name(type(thing)) for thing in gc.get_objects())


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/benchmarks/", "/poetry/"):
        if marker in filename:
            head = "" if marker == "site-packages/" else marker.strip("/") + "/"
            return head + filename.split(marker, 1)[1]
    return filename


def run_census(count: int, at: float, top: int) -> None:
    tracemalloc.start(1)
    before_objects = _census()
    before = tracemalloc.take_snapshot()
    net, done = concurrent_world(count)
    net.advance(at)
    after_objects = _census()
    after = tracemalloc.take_snapshot()
    live = len(net.open_connections())
    print(f"{count:,} clients at virtual time {net.seconds():g}: {live:,} open")
    objects = after_objects - before_objects
    print(
        f"objects tracked by the collector: {sum(objects.values()) / count:.1f} "
        "per connection"
    )
    for name, found in objects.most_common(top):
        if found >= count / 100:
            print(f"  {found / count:6.2f}  {name}")
    stats = after.compare_to(before, "lineno")
    size = sum(stat.size_diff for stat in stats)
    blocks = sum(stat.count_diff for stat in stats)
    print(
        f"memory allocated (tracemalloc): {size / count:,.0f} bytes in "
        f"{blocks / count:.1f} blocks per connection"
    )
    for stat in stats[:top]:
        frame = stat.traceback[0]
        source = linecache.getline(frame.filename, frame.lineno).strip()
        print(
            f"  {stat.size_diff / count:7.0f} B {stat.count_diff / count:5.2f} blocks"
            f"  {_short(frame.filename)}:{frame.lineno}  {source[:60]}"
        )
    tracemalloc.stop()
    events = Counter(f"{event.kind} ({event.side or '-'})" for event in net.trace)
    print(f"trace events so far: {len(net.trace) / count:.1f} per connection")
    for name, found in events.most_common(top):
        if found >= count / 100:
            print(f"  {found / count:6.2f}  {name}")
    net.run_until(done)
    print(f"trace events in all: {len(net.trace) / count:.1f} per connection")


def _print_profile(profile: cProfile.Profile, per: int, what: str, top: int) -> None:
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]  # set by Stats
    print(
        f"{what}: {total / per * 1e6:.1f} CPU us each under cProfile "
        f"(its overhead included); top {top} by own time, us each:"
    )
    rows = sorted(
        stats.stats.items(),  # type: ignore[attr-defined]  # set by Stats
        key=lambda item: item[1][2],
        reverse=True,
    )
    for (filename, line, name), (_, calls, own, cumulative, _) in rows[:top]:
        print(
            f"  {own / per * 1e6:7.2f} own {cumulative / per * 1e6:8.2f} cum "
            f"{calls / per:6.2f} calls  {own / total:5.1%}  "
            f"{_short(filename)}:{line}({name})"
        )


def run_cprofile(count: int, top: int) -> None:
    profile = cProfile.Profile(time.process_time)
    start = time.process_time()
    profile.enable()
    net, done = concurrent_world(count)
    net.run_until(done)
    profile.disable()
    cpu = time.process_time() - start
    print(f"{count:,} clients: {cpu:.2f} CPU s under cProfile")
    _print_profile(profile, count, f"{count:,} clients, per connection", top)


def run_row_b(batch: int, top: int, plain: bool) -> None:
    run = memory_network_batch()
    run(batch // 10)
    if plain:
        start = time.process_time()
        run(batch)
        cpu = time.process_time() - start
        print(f"section 1 row (b): {cpu / batch * 1e6:.2f} CPU us per poem")
        return
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    run(batch)
    profile.disable()
    _print_profile(profile, batch, "section 1 row (b), per poem", top)


def _python_frame(frame: str) -> tuple[str, str] | None:
    """
    C{(module file, "function (file)")} of a py-spy frame that is Python
    code, else L{None} (a native frame).
    """
    name, _, where = frame.rpartition(" (")
    filename = where.rstrip(")").rsplit(":", 1)[0]
    if not filename.endswith(".py") and not filename.startswith("<frozen"):
        return None
    return _short(filename), f"{name} ({_short(filename)})"


def run_summarize(paths: list[str], within: list[str], top: int) -> None:
    every = 0
    total = 0
    collecting = 0
    modules: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for path in paths:
        with open(path, encoding="utf-8") as file:
            for line in file:
                stack, _, number = line.rstrip("\n").rpartition(" ")
                if not stack:
                    continue
                samples = int(number)
                every += samples
                frames = stack.split(";")
                starts = [
                    index
                    for index, frame in enumerate(frames)
                    if any(frame.startswith(prefix) for prefix in within)
                ]
                if not starts:
                    continue
                frames = frames[starts[0] + 1 :]
                total += samples
                python = [
                    found for found in map(_python_frame, frames) if found is not None
                ]
                for name in {function for _, function in python}:
                    inclusive[name] += samples
                if any(frame.startswith("gc_collect_main ") for frame in frames):
                    collecting += samples
                    modules["[garbage collection]"] += samples
                    functions["[garbage collection]"] += samples
                    inclusive["[garbage collection]"] += samples
                elif python:
                    modules[python[-1][0]] += samples
                    functions[python[-1][1]] += samples
    print(
        f"{total:,} of {every:,} samples within {', '.join(within)}; "
        f"garbage collection {collecting / max(total, 1):.1%}"
    )
    for title, counts in (
        ("by module of the innermost Python frame (own time):", modules),
        ("by innermost Python function (own time):", functions),
        ("by function anywhere on the stack (inclusive time):", inclusive),
    ):
        print(title)
        for name, hits in counts.most_common(top):
            print(f"  {hits / max(total, 1):6.1%}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "experiment", choices=["gc", "census", "cprofile", "row-b", "summarize"]
    )
    parser.add_argument("count", nargs="*", default=["10000"])
    parser.add_argument("--mode", default="default")
    parser.add_argument("--at", type=float, default=3.0)
    parser.add_argument("--trace", choices=["on", "off"], default="on")
    parser.add_argument(
        "--plain", action="store_true", help="row-b: no cProfile (for py-spy)"
    )
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument(
        "--within",
        action="append",
        help="summarize: count only samples with a frame named so "
        "(default: concurrent_world and Scheduler.run_until, the measured part)",
    )
    args = parser.parse_args()
    if args.within is None:
        args.within = ["concurrent_world", "Scheduler.run_until"]
    args.within = [f"{name} (" for name in args.within]
    if args.experiment == "summarize":
        run_summarize(args.count, args.within, args.top)
        return
    count = int(args.count[0])
    if args.experiment == "gc":
        run_gc(count, args.mode, args.trace == "on")
    elif args.experiment == "census":
        run_census(count, args.at, args.top)
    elif args.experiment == "cprofile":
        run_cprofile(count, args.top)
    else:
        run_row_b(args.batch, args.top, args.plain)
    sys.stdout.flush()
    os._exit(0)  # a measurement process: skip freeing the world object by object


if __name__ == "__main__":
    main()
