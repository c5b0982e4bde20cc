"""
The benchmark report (C{benchmarks/bench.py}): the targets it judges, the
table it prints and the JSON it writes, from made-up measurements (nothing
here runs a benchmark or reads a clock).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from benchmarks import bench


def _report(sizes: dict[int, float], b_per_second: float = 100_000.0) -> dict[str, Any]:
    """
    A report as C{bench._main} builds it, from made-up rates and CPU times
    of the concurrency sizes given.
    """
    rates = {
        "a": bench.Rate(400_000.0, 400_000.0),
        "b": bench.Rate(b_per_second, b_per_second),
        "c": bench.Rate(30_000.0, 30_000.0),
        "d": bench.Rate(50_000.0, 50_000.0),
        "e": bench.Rate(150_000.0, 150_000.0),
        "f": bench.Rate(4_000.0, 4_000.0),
    }
    rows: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for clients, seconds in sizes.items():
        row = {
            "clients": clients,
            "processes": 1,
            "wall_seconds": seconds * 2,
            "cpu_seconds": seconds,
            "setup_seconds": 0.0,
            "setup_cpu_seconds": 0.0,
            "us_per_connection": seconds / clients * 1e6,
            "peak_rss_mib": 50.0,
            "virtual_seconds": 7.3,
            "full_collections": 1,
            "time_ratio": None
            if previous is None
            else seconds / previous["cpu_seconds"],
            "work_ratio": None if previous is None else clients / previous["clients"],
        }
        rows.append(row)
        previous = row
    report: dict[str, Any] = {
        "schema": bench.SCHEMA,
        "created": "2025-01-31T12:00:00Z",
        "quick": False,
        "clock": "cpu",
        "machine": {
            "machine": "x86_64",
            "cores": 2,
            "python": "CPython 3.11.7",
            "platform": "Linux",
            "twisted": "26.4.0",
            "load_average": {"start": [0.5, 0.4, 0.3], "end": [0.6, 0.5, 0.4]},
        },
        "deliveries": {
            "batch": 10,
            "repeats": 1,
            "rows": bench.delivery_rows(rates, "cpu"),
        },
        "virtual_time": {
            "virtual_seconds": 3600.0,
            "wall_seconds": 0.01,
            "virtual_per_wall": 360_000.0,
        },
        "concurrency": {
            "hosts": bench.CLIENT_HOSTS,
            "backlog": bench.BACKLOG,
            "poem_bytes": 100,
            "chunk_size": 10,
            "delay": 0.7,
            "rows": rows,
        },
        "round_trips": {
            "rounds": 10,
            "memory_per_wall_second": 400_000.0,
            "memory_per_cpu_second": 400_000.0,
            "tcp_per_wall_second": 30_000.0,
            "tcp_per_cpu_second": 30_000.0,
            "ratio": 13.3,
        },
    }
    report["targets"] = bench.targets(report)
    return report


def _verdicts(report: dict[str, Any]) -> dict[str, bool | None]:
    return {target["name"]: target["met"] for target in report["targets"]}


class BenchReportTests(SynchronousTestCase):
    def test_deliveryRatios(self) -> None:
        """
        Section 1's derived figures are this row against (a) and (b)
        against this row, and microseconds per poem, all by the chosen
        clock.
        """
        rows = {row["key"]: row for row in _report({})["deliveries"]["rows"]}
        self.assertEqual(rows["b"]["vs_a"], 0.25)
        self.assertEqual(rows["d"]["b_over"], 2.0)
        self.assertEqual(rows["f"]["b_over"], 25.0)
        self.assertEqual(rows["b"]["us_per_poem"], 10.0)

    def test_targetsJudged(self) -> None:
        """
        Each target of issue 15 is judged from the figures it names: (b)
        against (a), iosim and real TCP, the 100,000-client time and the
        cost ratio of each x10 of clients.
        """
        met = _report({1_000: 0.1, 10_000: 1.05, 100_000: 12.0})
        self.assertEqual(
            _verdicts(met),
            {
                "(b) / (a)": False,
                "(b) / iosim (d)": True,
                "(b) / real TCP (f)": True,
                "100,000 clients, cpu s": False,
                "10k / 1k cpu time": True,
                "100k / 10k cpu time": False,
                "virtual s per wall s": True,
            },
        )
        slow = _report({1_000: 0.1, 10_000: 1.2}, b_per_second=200_000.0)
        verdicts = _verdicts(slow)
        self.assertIs(verdicts["(b) / (a)"], True)
        self.assertIs(verdicts["10k / 1k cpu time"], False)

    def test_sizeLeftOut(self) -> None:
        """
        A target whose concurrency size was not run (C{--quick} leaves the
        100,000-client row out) is neither met nor missed: its value and
        verdict are null, and the table says "not measured".
        """
        report = _report({1_000: 0.1, 10_000: 1.0})
        targets = {target["name"]: target for target in report["targets"]}
        for name in ("100,000 clients, cpu s", "100k / 10k cpu time"):
            self.assertIsNone(targets[name]["value"])
            self.assertIsNone(targets[name]["met"])
        self.assertIn("not measured", bench.format_report(report))

    def test_table(self) -> None:
        """
        The printed table has every delivery path with its microseconds per
        poem, every concurrency row with its microseconds per connection and
        its cost per x10 of work, and the load the machine was under.
        """
        text = bench.format_report(_report({1_000: 0.1, 10_000: 1.2, 100_000: 15.0}))
        for label in bench.LABELS.values():
            self.assertIn(label, text)
        self.assertIn("   (b) MemoryNetwork, default", text)
        self.assertIn("100,000", text)
        self.assertIn("x12.00", text)
        self.assertIn("x12.50", text)
        self.assertIn("150.0", text)  # us per connection at 100,000
        self.assertIn("load average (1, 5, 15 min) at start 0.50 0.40 0.30", text)

    def test_jsonSchema(self) -> None:
        """
        The report is plain JSON with the documented top-level fields and
        schema name, and survives a round trip unchanged.
        """
        report = _report({1_000: 0.1, 10_000: 1.0, 100_000: 10.5})
        decoded = json.loads(json.dumps(report))
        self.assertEqual(decoded, report)
        self.assertEqual(decoded["schema"], "poetry-bench/1")
        self.assertEqual(
            sorted(decoded),
            sorted(
                [
                    "schema",
                    "created",
                    "quick",
                    "clock",
                    "machine",
                    "deliveries",
                    "virtual_time",
                    "concurrency",
                    "round_trips",
                    "targets",
                ]
            ),
        )
        row = decoded["concurrency"]["rows"][2]
        self.assertAlmostEqual(row["time_ratio"], 10.5)
        self.assertEqual(row["work_ratio"], 10.0)
        self.assertAlmostEqual(row["us_per_connection"], 105.0)

    def test_clientSizes(self) -> None:
        """
        C{--clients} takes positive sizes separated by commas (underscores
        allowed) and refuses anything else with a clear message.
        """
        self.assertEqual(bench._sizes("1000,10_000"), [1000, 10_000])
        for bad in ("", "0", "-5,10"):
            with self.assertRaises(argparse.ArgumentTypeError) as raised:
                bench._sizes(bad)
            self.assertIn("positive numbers", str(raised.exception))
