"""Scrubbing free text before it is kept for reporting or sent to a model.

Slack mentions, channel links, e-mail addresses, phone numbers, links and the names of the
pilot's members become placeholders. Scrubbing errs on the side of removing too much: a lost
word costs less than a name in a leadership report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

PLACEHOLDERS = ("[person]", "[channel]", "[email]", "[phone]", "[link]", "[group]")

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
    r"(?<![\w+])(?:\+|00)?\d{1,4}?[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?(?:\d[\s.\-]?){6,14}\d(?!\w)"
)
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[./]\d{1,2}[./]\d{2,4}$")

_MIN_NAME_LENGTH = 2


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7 or _DATE_LIKE.match(text.strip()):
        return text
    return "[phone]"


@lru_cache(maxsize=64)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for every name and each part of it, longest first so full names win."""
    variants: set[str] = set()
    for name in names:
        name = name.strip()
        if len(name) < _MIN_NAME_LENGTH:
            continue
        variants.add(name)
        for part in re.split(r"[\s._-]+", name):
            if len(part) >= _MIN_NAME_LENGTH + 1:
                variants.add(part)
    if not variants:
        return None
    alternatives = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?:'s)?(?!\w)", re.I)


class Scrubber:
    """Scrubs text for one pilot: Slack markup, contact details, links and its members' names."""

    def __init__(self, names: Iterable[str | None] = ()) -> None:
        self._names = _names_pattern(tuple(sorted({n for n in names if n})))

    def scrub(self, text: str) -> str:
        text = _SLACK_USER.sub("[person]", text)
        text = _SLACK_CHANNEL.sub("[channel]", text)
        text = _SLACK_SPECIAL.sub("[group]", text)
        text = _SLACK_MAILTO.sub("[email]", text)
        text = _SLACK_LINK.sub("[link]", text)
        text = _EMAIL.sub("[email]", text)
        text = _URL.sub("[link]", text)
        text = _BARE_ID.sub("[person]", text)
        text = _HANDLE.sub("[person]", text)
        text = _PHONE.sub(_phone, text)
        if self._names is not None:
            text = self._names.sub("[person]", text)
        return re.sub(r"[ \t]{2,}", " ", text).strip()


def scrub(text: str, names: Iterable[str | None] = ()) -> str:
    """`text` with mentions, contact details, links and the given names replaced."""
    return Scrubber(names).scrub(text)
