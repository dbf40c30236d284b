"""Scrubbing free text before it is kept for reporting or sent to a model.

Slack mentions, channel links, e-mail addresses, phone numbers, links and the names of the
pilot's members become placeholders. Scrubbing errs on the side of removing too much: a lost
word costs less than a name in a leadership report. Names that are also everyday words (Will,
Grace) are listed in `everyday_names.txt` next to this module.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources

# Slack's own markup for mentions and links: <@U123>, <@U123|ada>, <#C123|general>,
# <!here>, <!subteam^S123|@team>, <mailto:a@b.c|a@b.c>, <https://x|label>.
_SLACK_USER = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_SLACK_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+(?:\|[^>]*)?>")
_SLACK_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+|here|channel|everyone)(?:\|[^>]*)?>")
_SLACK_MAILTO = re.compile(r"<mailto:[^>]+>")
_SLACK_LINK = re.compile(r"<(?:https?|ftp)://[^>]+>")
_URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"']+", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Bare Slack ids (U0123ABCD) that were pasted without markup.
_BARE_ID = re.compile(r"\b[UW][A-Z0-9]{8,}\b")
# Plain @handles as typed outside Slack's markup.
_HANDLE = re.compile(r"(?<![\w.])@[A-Za-z][\w.-]{1,40}")
# Phone numbers: an optional +country code, then at least 7 digits in groups separated by
# spaces, dots, dashes or brackets. Dates (2026-11-24) and times do not reach 7 digits in a
# way that fits, and money amounts keep their currency sign.
_PHONE = re.compile(
    r"(?<![\w+(])(?:\+|00)?(?:\(?\d{1,4}\)?[\s.\-]?){1,2}(?:\d[\s.\-]?){5,13}\d(?!\w)"
)
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[./]\d{1,2}[./]\d{2,4}$")

_EVERYDAY_NAMES = "everyday_names.txt"


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7 or _DATE_LIKE.match(text.strip()):
        return text
    return "[phone]"


_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_JOINERS = re.compile(r"[-_]")
_MIN_PART = 2
# Bare host names with a path ("intranet.corp/page"), or on a common top-level domain.
_BARE_DOMAIN = re.compile(
    r"(?<![\w@.])(?:[a-z0-9-]+\.)+(?:[a-z]{2,}/[^\s<>\"']*|(?:com|org|net|io|co|uk|de|fr|nl|eu|"
    r"gov|edu|info|biz|app|dev|ai|corp|local|internal|intranet)\b/?)",
    re.I,
)


def fold(text: str) -> str:
    """Lower case without accents, so that "garcia" matches García and "Zoe" matches Zoë."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _everyday_names() -> frozenset[str]:
    """Names that are also everyday words ("will", "grace"), from everyday_names.txt: only taken
    for names when capitalised ("Will said" but not "it will help"). Read once and kept for the
    life of the process, which is safe: the file ships with the package and never changes at run
    time."""
    raw = resources.files("bot.privacy").joinpath(_EVERYDAY_NAMES).read_text(encoding="utf-8")
    lines = (line.partition("#")[0].strip() for line in raw.splitlines())
    return frozenset(fold(line) for line in lines if line)


def _name_index(names: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """(parts matched in any case, parts matched only when capitalised), from full names."""
    anycase: set[str] = set()
    capitalised: set[str] = set()
    for name in names:
        for part in re.split(r"[\s._-]+", name.strip()):
            part = part.strip("'’")
            if len(part) < _MIN_PART or not part[0].isalpha():
                continue
            lowered = fold(part)
            if len(part) == _MIN_PART or lowered in _everyday_names():
                capitalised.add(fold(part[0]).upper() + lowered[1:])
            else:
                anycase.add(lowered)
    return frozenset(anycase), frozenset(capitalised)


@lru_cache(maxsize=16)
def _cached_index(names: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    return _name_index(names)


class Scrubber:
    """Scrubs text: Slack markup, contact details, links, and names.

    `names` are the people of the pilots (matched in any case, except everyday words);
    `workspace_names` are everyone else in the workspace, thousands of names among which many
    are also words (Love, Day, Little): those count only where they look like a name, that is
    capitalised in mid-sentence, or next to another name ("Tom Reed").
    """

    def __init__(
        self, names: Iterable[str | None] = (), workspace_names: Iterable[str | None] = ()
    ) -> None:
        self._anycase, self._capitalised = _cached_index(tuple(sorted({n for n in names if n})))
        weak_anycase, weak_capitalised = _cached_index(
            tuple(sorted({n for n in workspace_names if n}))
        )
        self._weak = (weak_anycase | weak_capitalised) - self._anycase
        self._weak_folded = frozenset(fold(w) for w in self._weak)

    def _is_name(self, word: str) -> bool:
        folded = fold(word)
        return folded in self._anycase or (
            (fold(word[0]).upper() + folded[1:]) in self._capitalised and word[0].isupper()
        )

    def _parts(self, word: str) -> list[str]:
        bare = re.sub(r"(?:'s|’s)$", "", word)
        # "Anne-Marie", "ada_lovelace", "Smith-Jones": a name is any of its parts.
        return [bare, *(p for p in _JOINERS.split(bare) if len(p) >= _MIN_PART and p != bare)]

    def _strong(self, word: str) -> bool:
        return any(self._is_name(part) for part in self._parts(word))

    def _weak_name(self, word: str) -> bool:
        return word[0].isupper() and any(
            fold(part) in self._weak_folded for part in self._parts(word)
        )

    def _names(self, text: str) -> str:
        words = list(_WORD.finditer(text))
        strong = [self._strong(m.group(0)) for m in words]
        weak = [not strong[i] and self._weak_name(m.group(0)) for i, m in enumerate(words)]
        out, last = [], 0
        for i, match in enumerate(words):
            named = strong[i]
            if weak[i]:
                before = text[: match.start()].rstrip()
                sentence_start = not before or before[-1] in '.!?:;\n"“(-'
                neighbour = any(
                    0 <= j < len(words)
                    and (strong[j] or weak[j])
                    and text[
                        min(words[j].end(), match.end()) : max(words[j].start(), match.start())
                    ].strip()
                    == ""
                    for j in (i - 1, i + 1)
                )
                named = neighbour or not sentence_start
            if named:
                out.append(text[last : match.start()])
                out.append("[person]")
                last = match.end()
        out.append(text[last:])
        return "".join(out)

    def scrub(self, text: str) -> str:
        text = _SLACK_USER.sub("[person]", text)
        text = _SLACK_CHANNEL.sub("[channel]", text)
        text = _SLACK_SPECIAL.sub("[group]", text)
        text = _SLACK_MAILTO.sub("[email]", text)
        text = _SLACK_LINK.sub("[link]", text)
        text = _EMAIL.sub("[email]", text)
        text = _URL.sub("[link]", text)
        text = _BARE_DOMAIN.sub("[link]", text)
        text = _BARE_ID.sub("[person]", text)
        text = _HANDLE.sub("[person]", text)
        text = _PHONE.sub(_phone, text)
        if self._anycase or self._capitalised or self._weak:
            text = self._names(text)
            # "Ada Lovelace" became "[person] [person]": one person, one placeholder.
            text = re.sub(r"\[person\](?:\s+\[person\])+", "[person]", text)
        return re.sub(r"[ \t]{2,}", " ", text).strip()


def scrub(text: str, names: Iterable[str | None] = ()) -> str:
    """`text` with mentions, contact details, links and the given names replaced."""
    return Scrubber(names).scrub(text)
