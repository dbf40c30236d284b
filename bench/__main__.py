"""Every benchmark, on SQLite and on PostgreSQL, each beside its baseline measured in the same
run, and one table at the end: the figure, its baseline, the ratio, the target, pass or fail.

    python -m bench [--quick] [--only NAME[,NAME...]] [--postgres-admin-url URL]

Each benchmark runs as a child process of its own (its memory and start-up are its own), with
its own lines shown as they come. `--quick` runs small versions (in under two minutes on a
2-core machine) to check that everything works; its figures are not the README's. The exit
status is 1 when a target is missed or a benchmark fails to finish.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import DEFAULT_PG_ADMIN  # noqa: E402
from results import Figure, load  # noqa: E402

# (script, what it measures), in the order they run.
BENCHMARKS = (
    ("fanout", "fan-out against Slack's rate limit"),
    ("ack_latency", "a click acknowledged, beside a bare Bolt app"),
    ("status_time", "/pilot-status figures for a large pilot"),
    ("digest_time", "composing the weekly digest, beside hand-written SQL"),
    ("sender_memory", "the sender's peak memory, 10x the people"),
    ("usage_import", "importing a usage export"),
    ("load", "1,000 mixed interactions, 32 at once, beside a bare Bolt app"),
)


def machine() -> str:
    """A line saying what the figures were measured on."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        size = f", {memory:.0f} GiB"
    except (ValueError, OSError):
        size = ""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores{size}, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def run(script: str, quick: bool, admin_url: str, results: str) -> tuple[int, float]:
    """Run one benchmark, its lines shown as they come; (exit status, seconds)."""
    args = [sys.executable, str(HERE / f"{script}.py"), "--postgres-admin-url", admin_url]
    if quick:
        args.append("--quick")
    started = time.perf_counter()
    process = subprocess.Popen(
        args,
        cwd=HERE.parent,
        env={**os.environ, "BENCH_RESULTS": results, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        print(f"  {script}: {line.rstrip()}", flush=True)
    return process.wait(), time.perf_counter() - started


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def table(figures: list[Figure], failed: list[str]) -> str:
    """The results as a Markdown table (readable as it is on a terminal)."""
    lines = [
        "| benchmark | database | figure | measured | baseline | ratio | target | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for figure in figures:
        lines.append(
            f"| {figure.benchmark} | {figure.database} | {figure.what} | "
            f"{_number(figure.value)} {figure.unit} | {figure.baseline_is} "
            f"{_number(figure.baseline)} {figure.unit} | {figure.ratio:.3g}"
            + (f" (≤ {figure.limit:.3g})" if figure.limit != float("inf") else "")
            + f" | {figure.target} | "
            + ("pass" if figure.passed else "**FAIL**")
            + " |"
        )
    for script in failed:
        lines.append(f"| {script} | | did not finish | | | | | **FAIL** |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small versions, to check it works")
    parser.add_argument(
        "--only",
        help="comma-separated: " + ", ".join(script for script, _ in BENCHMARKS),
    )
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN)
    args = parser.parse_args()
    chosen = [script for script, _ in BENCHMARKS]
    if args.only:
        chosen = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(chosen) - {script for script, _ in BENCHMARKS})
        if unknown:
            parser.error(f"--only: no benchmark {', '.join(unknown)}")

    print(f"machine: {machine()}", flush=True)
    started = time.perf_counter()
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        results = str(Path(tmp) / "results.jsonl")
        for script, what in BENCHMARKS:
            if script not in chosen:
                continue
            print(f"{script}: {what}", flush=True)
            before = len(load(results))
            status, seconds = run(script, args.quick, args.postgres_admin_url, results)
            print(f"{script}: {seconds:.0f} s, exit status {status}", flush=True)
            new = load(results)[before:]
            # A benchmark that stopped part way (or missed no target yet exited non-zero) is
            # shown as not finished, so a crash never passes for a pass.
            if not new or (status != 0 and all(figure.passed for figure in new)):
                failed.append(script)
        figures = load(results)
    print()
    print(table(figures, failed))
    print()
    print(
        f"{machine()}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
        f"{time.perf_counter() - started:.0f} s in all{' (--quick)' if args.quick else ''}"
    )
    missed = failed or [f for f in figures if not f.passed]
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
