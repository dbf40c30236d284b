"""How well the analyzer that the settings select gets sentiment and themes right, on the
labelled replies in tests/data: three sets the local analyzer was developed against, and a
held-out set written separately and never used to change it.

    python bench/analyzer_quality.py            # the local analyzer (no OPENAI_API_KEY)
    OPENAI_API_KEY=sk-... [OPENAI_BASE_URL=...] [OPENAI_MODEL=...] python bench/analyzer_quality.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.devkit.evaluation import evaluate, load  # noqa: E402
from bot.privacy.scrub import scrub  # noqa: E402
from bot.runtime.deps import build_analyzer  # noqa: E402
from bot.runtime.settings import Settings, SettingsError  # noqa: E402

# The first three sets were used while developing the local analyzer (the third only a little:
# its writer had been shown a phrase that was also in the analyzer). The last was written
# afterwards by someone who saw nothing of the project, and has never been used to change it.
SETS = {
    "development": "replies.jsonl",
    "second development": "replies_second.jsonl",
    "third development": "replies_fresh.jsonl",
    "held-out": "replies_unseen.jsonl",
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--misses", action="store_true", help="list every reply it got wrong")
    args = parser.parse_args()
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"analyzer_quality: {exc}", file=sys.stderr)
        return 2
    analyzer = build_analyzer(settings)
    for name, filename in SETS.items():
        items = load(ROOT / "tests" / "data" / filename)
        result = evaluate(analyzer, items, scrub)
        fallbacks = sum(1 for _, analysis in result.misses if analysis.note)
        print(
            f"{analyzer.name} on the {name} set ({result.items} replies): sentiment sign right on "
            f"{result.sign_accuracy:.0%} ({result.sign_right}/{result.signed}), labelled theme found on "
            f"{result.theme_accuracy:.0%}, label exactly right on {result.label_accuracy:.0%}"
            + (f"; {fallbacks} fell back to the local analyzer" if fallbacks else "")
        )
        if args.misses:
            for item, analysis in result.misses:
                print(
                    f"   {item.sentiment:>8} {item.themes[0]:<16} got {analysis.sentiment:+.2f} {analysis.label:<8} {','.join(analysis.themes):<40} {item.text[:70]}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
