"""
The differential oracle's command line.

  python -m tests.oracle list
      every scenario, by family, with what it checks;
  python -m tests.oracle show NAME [--repeat N]
      run NAME N times on the real reactor (127.0.0.1) and once on the
      MemoryNetwork, and print the logs side by side;
  python -m tests.oracle record [NAME ...] [--family F] [--repeat N]
      run scenarios on the real reactor and record their outcomes as the
      expected ones (every distinct outcome of a scenario declared to vary;
      a scenario that is not declared to vary must give one outcome);
  python -m tests.oracle fuzz [--seeds N] [--start S] [--repeat R]
                              [--steps K] [--show] [--strict] [--shrink]
                              [--memory-only] [--program SPEC]
      the random-program fuzzer (tests/oracle/_fuzz.py): for each seed from
      S (0) to S+N-1 (N 100), a small program -- a port, one to three
      connections, up to K (6) steps each, each step an action by one end
      (writes of 1 byte to 8 MiB, closes, aborts, half-closes, pauses,
      producers, resets, an exception in dataReceived, stopListening) taken
      when an event of the log has happened -- run R (3) times on the real
      reactor and once on the MemoryNetwork; it reports the seed and the
      program (with --show, the logs side by side) when the memory outcome
      is not one of the real ones ("finding") and, apart, when the real runs
      disagree ("real varies"), then a summary.  Logs are compared per
      connection with each end's reads summed (--strict: as they are).
      --shrink shrinks each finding; --program runs one program given by
      its spec (printed with each finding); --memory-only runs the programs
      on the MemoryNetwork alone.  Always exits 0.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from tests.oracle._fuzz import FuzzOptions, fuzz, fuzzMemoryOnly
from tests.oracle._registry import Scenario, allScenarios
from tests.oracle._run import (
    Outcome,
    expected,
    runOnMemory,
    runOnReal,
    saveExpected,
    sideBySide,
)


def _select(names: list[str], family: str | None) -> list[Scenario]:
    scenarios = allScenarios()
    if names:
        unknown = [name for name in names if name not in scenarios]
        if unknown:
            raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
        return [scenarios[name] for name in names]
    return [s for s in scenarios.values() if family is None or s.family == family]


async def _realOutcomes(reactor: Any, scenario: Scenario, repeat: int) -> list[Outcome]:
    outcomes = []
    for _ in range(repeat):
        outcomes.append(await runOnReal(scenario, reactor))
    return outcomes


def _show(reactor: Any, scenario: Scenario, repeat: int) -> Deferred[None]:
    async def main() -> None:
        print(f"{scenario.name} ({scenario.family}): {scenario.doc}")
        if scenario.varies:
            print(f"declared to vary: {scenario.varies}")
        real = await _realOutcomes(reactor, scenario, repeat)
        distinct: list[Outcome] = []
        for outcome in real:
            if outcome not in distinct:
                distinct.append(outcome)
        memory = runOnMemory(scenario)
        for index, outcome in enumerate(distinct, 1):
            count = real.count(outcome)
            print()
            print(
                sideBySide(
                    outcome,
                    memory,
                    (
                        f"real reactor (outcome {index}, {count}/{repeat} runs)",
                        "MemoryNetwork",
                    ),
                )
            )
        recorded = expected(scenario)
        print()
        print(
            f"memory outcome {'matches' if memory in distinct else 'DIFFERS FROM'} "
            f"the real reactor; recorded outcomes: {len(recorded)}"
            f"{' (memory among them)' if memory in recorded else ''}"
        )

    return Deferred.fromCoroutine(main())


def _record(reactor: Any, scenarios: list[Scenario], repeat: int) -> Deferred[None]:
    async def main() -> None:
        problems = 0
        for scenario in scenarios:
            runs = repeat if not scenario.varies else max(repeat, 20)
            real = await _realOutcomes(reactor, scenario, runs)
            distinct = []
            for outcome in real:
                if outcome not in distinct:
                    distinct.append(outcome)
            if len(distinct) > 1 and not scenario.varies:
                problems += 1
                print(
                    f"{scenario.name}: {len(distinct)} different outcomes on the "
                    "real reactor but not declared to vary; not recorded:"
                )
                print(sideBySide(distinct[0], distinct[1], ("outcome 1", "outcome 2")))
                continue
            saveExpected(scenario, distinct)
            memory = runOnMemory(scenario)
            status = "memory ok" if memory in distinct else "MEMORY DIFFERS"
            print(
                f"{scenario.family:>12} {scenario.name}: "
                f"{len(distinct)} outcome(s); {status}"
            )
        if problems:
            raise SystemExit(1)

    return Deferred.fromCoroutine(main())


def _fuzz(options: FuzzOptions) -> None:
    """
    Run the fuzzer (on the real reactor unless C{options.memoryOnly}); the
    exit status is 0 whatever it found.
    """
    if options.memoryOnly:
        fuzzMemoryOnly(options, sys.stdout)
        return

    def run(reactor: Any) -> Deferred[None]:
        async def main() -> None:
            await fuzz(reactor, options, sys.stdout)

        return Deferred.fromCoroutine(main())

    react(run)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.oracle")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    show = sub.add_parser("show")
    show.add_argument("name")
    show.add_argument("--repeat", type=int, default=5)
    record = sub.add_parser("record")
    record.add_argument("names", nargs="*")
    record.add_argument("--family")
    record.add_argument("--repeat", type=int, default=5)
    fuzzer = sub.add_parser("fuzz")
    fuzzer.add_argument("--seeds", type=int, default=100)
    fuzzer.add_argument("--start", type=int, default=0)
    fuzzer.add_argument("--repeat", type=int, default=3)
    fuzzer.add_argument("--steps", type=int, default=6)
    fuzzer.add_argument("--show", action="store_true")
    fuzzer.add_argument("--strict", action="store_true")
    fuzzer.add_argument("--shrink", action="store_true")
    fuzzer.add_argument("--memory-only", action="store_true", dest="memoryOnly")
    fuzzer.add_argument("--program")
    args = parser.parse_args(argv)
    if args.command == "fuzz":
        _fuzz(
            FuzzOptions(
                seeds=args.seeds,
                start=args.start,
                repeat=args.repeat,
                steps=args.steps,
                show=args.show,
                strict=args.strict,
                shrink=args.shrink,
                memoryOnly=args.memoryOnly,
                program=args.program,
            )
        )
        return
    if args.command == "list":
        for scenario in _select([], None):
            print(f"{scenario.family:>12}  {scenario.name}: {scenario.doc}")
        return
    if args.command == "show":
        (scenario,) = _select([args.name], None)
        react(lambda reactor: _show(reactor, scenario, args.repeat))
    else:
        scenarios = _select(args.names, args.family)
        react(lambda reactor: _record(reactor, scenarios, args.repeat))


if __name__ == "__main__":
    main(sys.argv[1:])
