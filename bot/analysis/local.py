"""The local analyzer: sentiment from VADER plus a small lexicon of how people talk about AI
tools at work, themes from phrase rules, and follow-up questions from a fixed bank. It needs no
network and no account, and gives the same answer for the same words every time.

The lexicon, phrase rules, negations, compounds and question bank are data, not code: they live
in `local_lexicon.toml` next to this module (shipped as package data), which says how each table
is used. This module holds the scoring that applies them.
"""

from __future__ import annotations

import difflib
import itertools
import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bot.analysis.analyzer import FollowUp, TextAnalysis, Turn
from bot.analysis.themes import THEMES, theme_label

NAME = "local"
_LEXICON_FILE = "local_lexicon.toml"


@dataclass(frozen=True)
class _Phrase:
    pattern: re.Pattern[str]
    theme: str  # "" for a feeling with no theme of its own
    feeling: float
    # Whether a "not" before the phrase turns its feeling round.
    negatable: bool
    # Whether the phrase knows its clause's feeling better than VADER's word-by-word reading:
    # irony ("oh great, another login"), a wish ("would be great if ..."), a complaint made
    # of kind words ("fine until ..."). Then VADER's score for the clause is set aside.
    overrides: bool


@dataclass(frozen=True)
class _Lexicon:
    # word -> (theme, feeling); theme "" for a feeling with no theme of its own.
    words: dict[str, tuple[str, float]]
    phrases: list[_Phrase]
    # Emoji and their feeling: VADER reads few of them, and people answer with them alone.
    emoji: dict[str, float]
    negations: frozenset[str]
    compounds: list[tuple[re.Pattern[str], str]]
    # A reply that means "nothing to add".
    nothing: re.Pattern[str]
    # A sentence that is one word of praise and nothing else ("great.", "nice").
    bare_praise: re.Pattern[str]
    # Follow-up questions by (theme, feeling), the general one by feeling, and the last one.
    bank: dict[tuple[str, str], list[str]]
    general: dict[str, str]
    last: str


def _pattern(match: str | list[str]) -> re.Pattern[str]:
    """A rule's regular expression: one, or a list of alternatives; case-insensitive."""
    return re.compile(match if isinstance(match, str) else "|".join(match), re.I)


def _theme(theme: str, *, feeling_only: bool = False) -> str:
    if feeling_only and theme == "":
        return theme
    if theme not in THEMES:
        raise ValueError(f"{_LEXICON_FILE}: {theme!r} is not a theme of bot.analysis.themes")
    return theme


@cache
def _lexicon() -> _Lexicon:
    """The lexicon, read and compiled on first use and then kept for the life of the process.
    Caching it is safe: the file ships with the package and nothing changes it at run time, and
    no caller modifies what it gets."""
    raw = resources.files("bot.analysis").joinpath(_LEXICON_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    words: dict[str, tuple[str, float]] = {}
    for theme, entries in [*data["words"].items(), ("", data["feelings"])]:
        for word, value in entries.items():
            if word in words:
                raise ValueError(f"{_LEXICON_FILE}: {word!r} is listed twice")
            words[word] = (_theme(theme) if theme else "", float(value))
    return _Lexicon(
        words=words,
        phrases=[
            _Phrase(
                pattern=_pattern(rule["match"]),
                theme=_theme(rule["theme"], feeling_only=True),
                feeling=float(rule["feeling"]),
                negatable=bool(rule["negatable"]),
                overrides=bool(rule.get("overrides", False)),
            )
            for rule in data["phrases"]
        ],
        emoji={symbol: float(value) for symbol, value in data["emoji"].items()},
        negations=frozenset(data["negations"]),
        compounds=[(_pattern(c["match"]), c["replace"]) for c in data["compounds"]],
        nothing=re.compile(r"^\W*(?:" + "|".join(data["nothing_to_add"]) + r")\W*$", re.I),
        bare_praise=re.compile(r"^(?:" + "|".join(data["bare_praise"]) + r")[ .…]*$", re.I),
        bank={
            (_theme(theme), feeling): list(questions)
            for theme, by_feeling in data["questions"]["theme"].items()
            for feeling, questions in by_feeling.items()
        },
        general=dict(data["questions"]["general"]),
        last=data["questions"]["last"],
    )


_TOKEN = re.compile(r"[a-z][a-z'’-]*")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
# "fine until the queue gets busy" turns on "until" as on "but"; only after a word of faint
# praise, since "wait until" or "until Friday" contrast nothing.
_CONTRAST = re.compile(
    r"\s*\b(?:but|though|although|however|except"
    r"|(?<=fine )until|(?<=ok )until|(?<=okay )until|(?<=good )until|(?<=works )until)\b\s*",
    re.I,
)
_FUZZY_MIN_LENGTH = 6
_LABEL_MARGIN = 0.1
_MIXED = 0.25
_PASSING = 0.5


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=4096)
def _word(token: str) -> tuple[str, float] | None:
    """The theme and feeling of a token, allowing a typo or two in longer words."""
    words = _lexicon().words
    token = token.replace("’", "'")
    if token in words:
        return words[token]
    if len(token) < _FUZZY_MIN_LENGTH:
        return None
    close = difflib.get_close_matches(token, words.keys(), n=1, cutoff=0.84)
    return words[close[0]] if close else None


@dataclass
class _Signals:
    themes: dict[str, float]
    domain: list[float]
    # A phrase that reads the clause better than VADER does matched (see _Phrase.overrides).
    overrides: bool = False


_PAST = {("used", "to"), ("was", "worried"), ("were", "worried"), ("was", "afraid")}


def _past(window: list[str]) -> bool:
    """Whether the words before a feeling put it in the past: "used to be instant" is a
    complaint about now, "was worried it would replace us" a worry that has passed."""
    return any(pair in _PAST for pair in itertools.pairwise(window))


def _turned(window: list[str], negations: frozenset[str]) -> bool:
    """Whether a feeling is turned round by the words before it: a negation or the past."""
    return bool(negations.intersection(window)) or _past(window)


def _signals(text: str) -> _Signals:
    """Themes (with weights) and domain feelings in `text`, with negation flipping feelings."""
    lexicon = _lexicon()
    negations = lexicon.negations
    themes: dict[str, float] = {}
    domain: list[float] = []
    overrides = False
    tokens = _TOKEN.findall(text.lower())
    for index, token in enumerate(tokens):
        found = _word(token)
        if found is None:
            continue
        theme, value = found
        if theme:
            themes[theme] = themes.get(theme, 0.0) + 1.0
        if value:
            window = tokens[max(0, index - 4) : index]
            domain.append(-value * 0.7 if _turned(window, negations) else value)
    for phrase in lexicon.phrases:
        for match in phrase.pattern.finditer(text):
            if phrase.theme:
                themes[phrase.theme] = themes.get(phrase.theme, 0.0) + 1.5
            overrides = overrides or phrase.overrides
            if not phrase.feeling:
                continue
            before = _TOKEN.findall(text[max(0, match.start() - 30) : match.start()].lower())[-4:]
            turned = (phrase.negatable and negations.intersection(before[-3:])) or _past(before)
            domain.append(-phrase.feeling * 0.7 if turned else phrase.feeling)
    domain.extend(lexicon.emoji[symbol] for symbol in text if symbol in lexicon.emoji)
    return _Signals(themes=themes, domain=domain, overrides=overrides)


def _segments(text: str) -> list[tuple[str, float]]:
    """Clauses with their weight. As in VADER, what follows a "but" counts more than what
    precedes it ("slow at times, but it saves me hours" is a positive reply)."""
    segments = []
    for sentence in _SENTENCE.split(text):
        parts = [part.strip() for part in _CONTRAST.split(sentence)]
        for index, part in enumerate(parts):
            if not part:
                continue
            last = index == len(parts) - 1
            segments.append((part, 1.0 if len(parts) == 1 else 1.5 if last else 0.5))
    return segments


def _clause_score(clause: str) -> float:
    """A clause's feeling: VADER's compound plus the clause's domain feelings, or the domain
    feelings alone where a phrase reads the clause better than VADER's words do."""
    signals = _signals(clause)
    words = 0.0 if signals.overrides else _vader().polarity_scores(clause)["compound"]
    return max(-1.0, min(1.0, words + sum(signals.domain)))


def _label(score: float, clauses: list[float]) -> str:
    if clauses and max(clauses) >= _MIXED and min(clauses) <= -_MIXED:
        return "mixed"
    if score > _LABEL_MARGIN:
        return "positive"
    if score < -_LABEL_MARGIN:
        return "negative"
    return "neutral"


def _normalise(text: str) -> str:
    for pattern, replacement in _lexicon().compounds:
        text = pattern.sub(replacement, text)
    return text


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sentiment_of(text: str) -> tuple[float, str]:
    """Sentiment on -1..1 and its label for `text`: the weighted mean of the clauses that carry
    a feeling, so that neutral clauses neither dilute it nor many clauses pile it up."""
    lexicon = _lexicon()
    segments = [
        (clause, weight)
        for clause, weight in _segments(_normalise(text))
        # "no" or "that's all" in answer to "anything else?" is not a feeling about the tool;
        # "all good" is one.
        if not (lexicon.nothing.match(clause) and _vader().polarity_scores(clause)["compound"] <= 0)
    ]
    scored = [(_clause_score(clause), weight) for clause, weight in segments]
    # A bare word of praise after a report that praised nothing is irony: "it deleted the
    # draft. great." An exclamation mark or a smile keeps it sincere.
    if (
        len(scored) > 1
        and lexicon.bare_praise.match(segments[-1][0])
        and max(value for value, _ in scored[:-1]) <= 0.05
    ):
        scored[-1] = (-abs(scored[-1][0]), scored[-1][1])
    feeling = [(value, weight) for value, weight in scored if abs(value) > 0.05]
    if not feeling:
        return 0.0, "neutral"
    score = sum(value * weight for value, weight in feeling) / sum(weight for _, weight in feeling)
    return round(score, 3), _label(score, [value for value, _ in scored])


def themes_of(text: str, *, most: int = 3) -> list[str]:
    """Themes of `text`, strongest first; ["other"] when none is found."""
    weights = _signals(_normalise(text)).themes
    ranked = sorted(weights, key=lambda theme: (-weights[theme], theme))
    # A theme with less than half the strongest one's weight is a passing word, not a topic:
    # "the login page" in a reply about drafts does not make it about access.
    return [t for t in ranked[:most] if weights[t] >= _PASSING * weights[ranked[0]]] or ["other"]


def _summary(label: str, themes: list[str]) -> str:
    feeling = {
        "positive": "Positive",
        "negative": "Critical",
        "mixed": "Mixed feelings",
        "neutral": "Neutral",
    }[label]
    named = [theme_label(t) for t in themes if t != "other"][:2]
    return f"{feeling} about {' and '.join(named)}." if named else f"{feeling} overall."


def analyze(text: str, *, kind: str = "comment") -> TextAnalysis:
    """Analyse scrubbed `text` locally."""
    score, label = sentiment_of(text)
    themes = themes_of(text)
    blockers: list[str] = []
    wins: list[str] = []
    if kind == "checkin":
        for sentence in _sentences(text):
            sentence_score, _ = sentiment_of(sentence)
            if sentence_score <= -0.2 and len(blockers) < 3:
                blockers.append(_short(sentence))
            elif sentence_score >= 0.2 and len(wins) < 3:
                wins.append(_short(sentence))
    return TextAnalysis(
        sentiment=score,
        label=label,
        themes=themes,
        summary=_summary(label, themes) if kind == "checkin" else None,
        blockers=blockers,
        wins=wins,
        analyzer=NAME,
    )


# -- follow-up questions ----------------------------------------------------------------------


def followup(turns: list[Turn], analysis: TextAnalysis, number: int, *, seed: int) -> str | None:
    """The next question from the bank, keyed by the latest reply's themes and feeling.

    None when the person has nothing more to say, or after two follow-ups.
    """
    lexicon = _lexicon()
    replies = [turn.text for turn in turns if turn.author == "participant"]
    if number > 2 or not replies or lexicon.nothing.match(replies[-1]):
        return None
    asked = {turn.text for turn in turns if turn.author == "bot"}
    latest = analyze(replies[-1])
    feeling = "negative" if latest.label in ("negative", "mixed") else latest.label
    for theme in latest.themes:
        options = [q for q in lexicon.bank.get((theme, feeling), []) if q not in asked]
        if options:
            return options[seed % len(options)]
    general = lexicon.general[latest.label]
    if number == 1 and general not in asked:
        return general
    return lexicon.last if lexicon.last not in asked else None


class LocalAnalyzer:
    """The default analyzer; nothing leaves the machine."""

    name = NAME

    def analyze(self, text: str, *, kind: str = "comment") -> TextAnalysis:
        return analyze(text, kind=kind)

    def followup(
        self, turns: list[Turn], analysis: TextAnalysis, number: int, *, seed: int
    ) -> FollowUp | None:
        question = followup(turns, analysis, number, seed=seed)
        return FollowUp(question) if question else None
