"""What an analyzer makes of a text, and the interface every analyzer has.

Two analyzers implement it: the local one (default, no network) and the model one (when
`OPENAI_API_KEY` is set), which falls back to the local one on any failure. Texts reach an
analyzer scrubbed, never raw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class TextAnalysis:
    """Sentiment on -1..1 with its label, themes from the taxonomy, and for check-ins a
    one-sentence summary, blockers and wins. `analyzer` and `prompt_version` say what made it."""

    sentiment: float
    label: str
    themes: list[str]
    summary: str | None = None
    blockers: list[str] = field(default_factory=list)
    wins: list[str] = field(default_factory=list)
    analyzer: str = "local"
    prompt_version: str | None = None
    note: str | None = None  # why a fallback happened, if it did


@dataclass(frozen=True)
class FollowUp:
    """A question for a check-in, with what wrote it (stored with the bot's turn)."""

    text: str
    generator: str = "local"
    prompt_version: str | None = None


@dataclass(frozen=True)
class Turn:
    """One turn of a check-in conversation, scrubbed."""

    author: str  # a storage.models.MessageAuthor
    text: str


class Analyzer(Protocol):
    name: str

    def analyze(self, text: str, *, kind: str = "comment") -> TextAnalysis:
        """Analyse scrubbed `text`; `kind` is "comment" (a pulse comment) or "checkin"."""

    def followup(
        self, turns: list[Turn], analysis: TextAnalysis, number: int, *, seed: int
    ) -> FollowUp | None:
        """The next question to ask in a check-in, or None to close the conversation."""
