"""What a benchmark measured, beside its baseline and its target, in a form `python -m bench`
collects into one table.

Each benchmark prints its own lines for a person reading them, and calls `record` for every
figure that has a target. When `BENCH_RESULTS` names a file (the runner sets it), the figure
is also appended to it as one JSON line.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Figure:
    """One measured figure: `value` against `baseline`, both in `unit`.

    `ratio` is what the target is about (value ÷ baseline, or value ÷ the limit where the
    baseline is a limit); `limit` is the largest ratio that passes.
    """

    benchmark: str
    database: str
    what: str
    value: float
    baseline: float
    unit: str
    baseline_is: str
    ratio: float
    limit: float
    target: str

    @property
    def passed(self) -> bool:
        return self.ratio <= self.limit


def record(figure: Figure) -> Figure:
    """Print the figure's verdict and hand it to the runner, if one is listening."""
    verdict = "pass" if figure.passed else "FAIL"
    print(
        f"{figure.database:<10} {figure.what}: {figure.value:.3g} {figure.unit} against "
        f"{figure.baseline_is} {figure.baseline:.3g} {figure.unit}: ratio {figure.ratio:.2f} "
        f"({figure.target}): {verdict}",
        flush=True,
    )
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(figure)) + "\n")
    return figure


def load(path: str) -> list[Figure]:
    """The figures a run recorded in `path`."""
    try:
        with open(path, encoding="utf-8") as source:
            return [Figure(**json.loads(line)) for line in source if line.strip()]
    except FileNotFoundError:
        return []
