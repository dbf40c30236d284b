"""Peak memory of the sender: `pilot-pulse pulse send` for 1,000 and for 10,000 DMs (no latency,
no rate limit, so that only the sender's own bookkeeping grows). Target: the 10,000 run's peak
at most 1.3 x the 1,000 run's.

    python bench/sender_memory.py [--database-url-template URL]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import BOT_TOKEN, StandIn, make_pilot, run_measured

SIZES = (1_000, 10_000)


def measure(people: int, tmp: Path) -> float:
    database_url = f"sqlite:///{tmp / f'memory-{people}.db'}"
    standin = StandIn(users=people)
    try:
        make_pilot(database_url, people)
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": standin.url,
            "DATABASE_URL": database_url,
            "SEND_RATE": "10000",
        }
        run = run_measured(["pulse", "send", "bench"], env, tmp)
    finally:
        standin.close()
    if run.returncode != 0:
        raise SystemExit(run.stdout)
    print(
        f"{people:>6} DMs: peak RSS {run.max_rss_mb:.1f} MiB, {run.seconds:.1f} s  ({run.stdout.strip().splitlines()[-1][:90]}…)"
    )
    return run.max_rss_mb


def main() -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, large = (measure(people, Path(tmp)) for people in SIZES)
    print(f"sender memory: 10,000 DMs peak / 1,000 DMs peak = {large / small:.3f} (target <= 1.3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
