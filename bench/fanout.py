"""Fan-out at Slack's rate limit: 1,000 DMs against a stand-in with 30 ms per call and
chat.postMessage limited to 100 per second (429 beyond). The limit allows 10 s; the target is
within 1.2 x that. Prints the time and the ratio.

    python bench/fanout.py [--people 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from common import BOT_TOKEN, StandIn, make_pilot, run_measured

LIMIT_PER_SECOND = 100
LATENCY = 0.030


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        standin = StandIn(
            latency=LATENCY, rates={"chat.postMessage": LIMIT_PER_SECOND}, users=args.people
        )
        try:
            make_pilot(database_url, args.people)
            env = {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_API_URL": standin.url,
                "DATABASE_URL": database_url,
                "SEND_RATE": str(LIMIT_PER_SECOND),
            }
            run = run_measured(["pulse", "send", "bench"], env, Path(tmp))
        finally:
            standin.close()
    if run.returncode != 0:
        print(run.stdout)
        return 1
    ideal = args.people / LIMIT_PER_SECOND
    summary = run.stdout.strip().splitlines()[-1]
    print(summary)
    # The command's own summary times the fan-out, from the first claim to the last answer.
    fanout = float(re.search(r"done in ([0-9.]+) s", summary).group(1))
    print(
        f"fan-out: {args.people} DMs in {fanout:.2f} s (the limit allows {ideal:.1f} s): "
        f"ratio {fanout / ideal:.3f} (target <= 1.2); the whole command, Python start-up "
        f"included, took {run.seconds:.2f} s: ratio {run.seconds / ideal:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
