"""How long the digest's trend chart takes to draw: a 12-week chart with a few withheld weeks,
rendered 20 times after one warm-up (target: at most 1 s each), and the cold first render in a
fresh interpreter, the matplotlib import included, as the first digest after a restart pays it.
The very first import on a machine also builds matplotlib's font cache, once; that is not
measured here (run it twice if the cold figure looks high).

    python bench/chart_time.py [--runs 20] [--png /tmp/chart.png]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 1.0


def sample_points() -> list:
    """12 weeks of figures as a real pilot has them: rising, with withheld weeks and figures."""
    from bot.pilots.period import shift
    from bot.reporting.chart import TrendPoint

    points = []
    for i in range(12):
        points.append(
            TrendPoint(
                period=shift("2026-W48", i - 11),
                response_rate=0.55 + 0.02 * i,
                usefulness=3.2 + 0.06 * i,
                usefulness_max=5,
                sentiment=None if i in (4, 9) else -0.1 + 0.03 * i,
                weekly_usage=None if i == 7 else 0.45 + 0.025 * i,
            )
        )
    points[3] = TrendPoint(points[3].period, None, None, 5, None, None)
    return points


def cold() -> None:
    """In a fresh interpreter (`--cold`): import, then the first render, timed in parts."""
    started = time.perf_counter()
    from bot.reporting.chart import render_trend_chart

    points = sample_points()
    module = time.perf_counter()
    # What the first render imports itself (the chart module imports matplotlib lazily).
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

    imported = time.perf_counter()
    assert render_trend_chart(points, title="Bench pilot") is not None
    done = time.perf_counter()
    print(f"{module - started:.3f} {imported - module:.3f} {done - imported:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--png", type=Path, help="also write the chart here, to look at")
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold:
        cold()
        return 0

    # The cold render in a child, so that nothing this process has imported makes it cheap.
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--cold"], cwd=ROOT, check=True, capture_output=True, text=True
    )
    child_seconds = time.perf_counter() - started
    module_s, matplotlib_s, first_s = (float(v) for v in child.stdout.split())

    from bot.reporting.chart import render_trend_chart

    points = sample_points()
    chart = render_trend_chart(points, title="Bench pilot")  # warm-up
    assert chart is not None
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        render_trend_chart(points, title="Bench pilot")
        timings.append(time.perf_counter() - started)
    if args.png:
        args.png.write_bytes(chart.png)

    median, worst = statistics.median(timings), max(timings)
    verdict = "met" if worst <= TARGET_SECONDS else "MISSED"
    print(
        f"12-week chart {chart.width_px}x{chart.height_px} px, {len(chart.png) / 1024:.0f} KiB: "
        f"{args.runs} renders median {median:.3f} s, max {worst:.3f} s "
        f"(target <= {TARGET_SECONDS:.0f} s: {verdict})"
    )
    print(
        f"cold first render {module_s + matplotlib_s + first_s:.3f} s: importing the chart "
        f"module {module_s:.3f} s + matplotlib {matplotlib_s:.3f} s + first drawing "
        f"{first_s:.3f} s (the child process with Python start-up: {child_seconds:.2f} s)"
    )
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
