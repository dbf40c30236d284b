"""Measuring an analyzer against a labelled set of replies: how often it gets the sentiment's
sign and the labelled theme right, how far it strays from zero on neutral replies, whether it
sees mixed feelings, and whether it sprays themes. Used by the test-suite and by
`bench/analyzer_quality.py`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.analysis.analyzer import Analyzer, TextAnalysis

# A mixed reply is read right when labelled mixed or scored this close to zero (issue 13).
MIXED_WITHIN = 0.5
# On a reply about one topic, the analyzer may name at most this many themes.
SINGLE_TOPIC_MOST = 2
ACCESS = "access_licensing"


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
    neutral: int = 0  # items labelled neutral
    neutral_distance: float = 0.0  # the sum of |score| over them
    mixed: int = 0  # items labelled mixed
    mixed_right: int = 0  # labelled mixed, or scored within MIXED_WITHIN of zero
    single_topic: int = 0  # items labelled with one theme
    single_topic_tidy: int = 0  # ... of which the analyzer named at most SINGLE_TOPIC_MOST
    access_unlabelled: int = 0  # items not labelled access and licensing
    access_sprayed: int = 0  # ... of which the analyzer named it all the same
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

    @property
    def neutral_mean_distance(self) -> float:
        """The mean |score| on neutral replies: 0 is perfect, 1 the worst."""
        return self.neutral_distance / self.neutral if self.neutral else 0.0

    @property
    def mixed_accuracy(self) -> float:
        return self.mixed_right / self.mixed if self.mixed else 0.0

    @property
    def single_topic_precision(self) -> float:
        return self.single_topic_tidy / self.single_topic if self.single_topic else 0.0

    @property
    def access_spray_rate(self) -> float:
        return self.access_sprayed / self.access_unlabelled if self.access_unlabelled else 0.0

    def __add__(self, other: Evaluation) -> Evaluation:
        """Two evaluations as one: the union of their sets."""
        return Evaluation(
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in self.__dataclass_fields__
            }
        )


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
        if item.sentiment == "neutral":
            result.neutral += 1
            result.neutral_distance += abs(analysis.sentiment)
        elif item.sentiment == "mixed":
            result.mixed += 1
            result.mixed_right += (
                analysis.label == "mixed" or abs(analysis.sentiment) <= MIXED_WITHIN
            )
        if len(item.themes) == 1:
            result.single_topic += 1
            result.single_topic_tidy += (
                len([t for t in analysis.themes if t != "other"]) <= SINGLE_TOPIC_MOST
            )
        if ACCESS not in item.themes:
            result.access_unlabelled += 1
            result.access_sprayed += ACCESS in analysis.themes
        if not (ok and theme_hit):
            result.misses.append((item, analysis))
    return result
