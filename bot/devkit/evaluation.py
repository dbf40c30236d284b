"""Measuring an analyzer against a labelled set of replies: how often it gets the sentiment's
sign and the labelled theme right. Used by the test-suite and by `bench/analyzer_quality.py`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.analysis.analyzer import Analyzer, TextAnalysis


@dataclass(frozen=True)
class Labelled:
    text: str
    sentiment: str
    themes: tuple[str, ...]


@dataclass
class Evaluation:
    items: int = 0
    signed: int = 0  # items labelled positive or negative
    sign_right: int = 0
    theme_right: int = 0
    label_right: int = 0
    misses: list[tuple[Labelled, TextAnalysis]] = field(default_factory=list)

    @property
    def sign_accuracy(self) -> float:
        return self.sign_right / self.signed if self.signed else 0.0

    @property
    def theme_accuracy(self) -> float:
        return self.theme_right / self.items if self.items else 0.0

    @property
    def label_accuracy(self) -> float:
        return self.label_right / self.items if self.items else 0.0


def load(path: Path) -> list[Labelled]:
    """The labelled replies in a JSON-lines file: {"text", "sentiment", "themes"} per line."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            items.append(Labelled(data["text"], data["sentiment"], tuple(data["themes"])))
    return items


def evaluate(analyzer: Analyzer, items: list[Labelled], scrub: object = None) -> Evaluation:
    """Run `analyzer` over `items` (scrubbed with `scrub(text)` first when given)."""
    result = Evaluation()
    for item in items:
        text = scrub(item.text) if callable(scrub) else item.text
        analysis = analyzer.analyze(text)
        result.items += 1
        ok = True
        if item.sentiment in ("positive", "negative"):
            result.signed += 1
            right = (
                analysis.sentiment > 0 if item.sentiment == "positive" else analysis.sentiment < 0
            )
            result.sign_right += right
            ok = ok and right
        theme_hit = item.themes[0] in analysis.themes
        result.theme_right += theme_hit
        result.label_right += analysis.label == item.sentiment
        if not (ok and theme_hit):
            result.misses.append((item, analysis))
    return result
