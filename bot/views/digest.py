"""The weekly adoption digest as a Slack message: Block Kit for the leadership channel, one
notification line, and the same message as plain text for `pilot-pulse digest show`.

Managers read it on a phone, in a minute: the 30-day review first once it is due, then
participation, adoption, goals, the frictions and wins in people's own (scrubbed) words, and it
ends with what to do next. A figure that `DigestContent` withholds (None) says so, or its line is
left out; when too few people answered, no figure about people is shown at all.

Slack rejects a message over its limits (50 blocks, 3,000 characters a section, 150 a header,
10 elements a context), and whatever the content holds (a hundred themes, quotes of 5,000
characters) the message stays inside them: every list is capped, every quote and line is cut
to a phone-sized length, and if the message is still too long the least important detail goes
first (extra quotes, then themes, then goals), with a line saying where the rest is. A last pass
cuts any text still over a limit, so nothing reaches Slack that it would refuse.

Views are pure: content in, blocks out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.analysis.themes import theme_label
from bot.views.blocks import Blocks, context_block, header_block, text_block
from bot.views.status import SOURCES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.reporting.digest import DigestContent, GoalResult, ThemeVoice

MAX_BLOCKS = 50  # Slack's limit per message
MAX_TEXT = 3000  # Slack's limit per section text (and per context element)
MAX_HEADER = 150  # Slack's limit per header text
MAX_CONTEXT_ELEMENTS = 10  # Slack's limit per context block

# What a manager reads in a minute on a phone: over this many characters in all, detail is
# dropped (quotes first). A usual digest is well under half of it.
MAX_MESSAGE = 5000

# Caps whatever the content holds: the digest shows the top few, `pilot-pulse report` has all.
MAX_THEMES = 3  # frictions, and wins, each
MAX_QUOTES = 2  # per theme
MAX_GOALS = 10  # there are nine goal metrics; more is not a real pilot
MAX_ACTIONS = 3
MAX_REASONS = 4
QUOTE_CHARS = 200  # about five lines on a phone
LINE_CHARS = 200  # a reason, an action, a note
SUMMARY_CHARS = 400
NAME_CHARS = 60  # a pilot, tool, workflow or goal name where it is not the header

_VERDICTS = {
    "expand": ("✅", "Expand"),
    "keep_going": ("⏩", "Keep going"),
    "rethink": ("⚠️", "Rethink"),
    "not_enough_data": ("⏳", "Not enough data yet"),
}
_STATUSES = {"on_track": "on track", "off_track": "off track", "not_enough_data": "not enough data"}


# -- text ----------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """Whitespace (newlines, tabs, runs of spaces) collapsed to single spaces: a quote or an
    action can never start a new line, hence never a blockquote, list or code block."""
    return " ".join(text.split())


def _cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending with "…" when cut: at a line boundary
    where that keeps at least half, else at a word boundary, never inside an `&amp;` escape."""
    if len(text) <= limit:
        return text
    window = text[: limit - 1]
    newline = window.rfind("\n")
    if newline >= limit // 2:
        return window[:newline].rstrip() + "\n…"
    space = window.rfind(" ")
    if space >= limit // 2:
        window = window[:space]
    # A cut `&am` would show as garbage in Slack; drop the partial escape.
    window = re.sub(r"&[a-z]*$", "", window)
    return window.rstrip() + "…"


@dataclass(frozen=True)
class _Style:
    """How emphasis and escaping are written: Slack mrkdwn, or plain text for a terminal."""

    mrkdwn: bool

    def esc(self, text: str) -> str:
        # Slack's three control characters; escaped, `<!channel>` in a quote is just text.
        if not self.mrkdwn:
            return text
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def bold(self, text: str) -> str:
        return f"*{text}*" if self.mrkdwn else text

    def italic(self, text: str) -> str:
        return f"_{text}_" if self.mrkdwn else text

    def code(self, text: str) -> str:
        return f"`{text}`" if self.mrkdwn else text

    def quote(self, text: str) -> str:
        """A quote from a person: one line, cut to a phone's few lines, in italics."""
        text = _one_line(text).strip("\"“”'")
        if self.mrkdwn:
            # A backtick would open code formatting inside the quote.
            text = _cut(self.esc(text.replace("`", "'")), QUOTE_CHARS)
            return f"> _“{text}”_"
        return f"    “{_cut(text, QUOTE_CHARS)}”"

    def line(self, text: str, limit: int = LINE_CHARS) -> str:
        """Free text from the content (a reason, an action, a name) as one safe line."""
        # Cut after escaping: Slack counts `&amp;` as five characters.
        return _cut(self.esc(_one_line(text)), limit)


_MRKDWN = _Style(mrkdwn=True)
_PLAIN = _Style(mrkdwn=False)


def _number(value: float, digits: int = 1) -> str:
    """12.0 → "12", 1.25 → "1.3" (digits=1), 1234.5 → "1,234.5"."""
    shown = f"{value:,.{digits}f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _change(value: float | None, *, points: bool = False, digits: int = 2) -> str:
    """ " (▲6 pts)" for a share's change, " (▼0.05)" for a mean's, like `/pilot-status`."""
    if value is None:
        return ""
    if abs(value) < (0.005 if points else 0.5 * 10**-digits):
        return " (no change)"
    arrow = "▲" if value > 0 else "▼"
    shown = f"{abs(value) * 100:.0f} pts" if points else _number(abs(value), digits)
    return f" ({arrow}{shown})"


def _goal_value(value: float, unit: str) -> str:
    if unit == "%":  # shares are stored 0..1
        return _percent(value)
    if unit == "h":
        return f"{_number(value)} h"
    return _number(value, 2)


# -- composing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """A block before it is Block Kit: a header, a section, a context or a divider."""

    kind: str
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Detail:
    """How much of the lists is shown; cut step by step when the message is too long."""

    quotes: int
    themes: int
    goals: int


# The least important detail goes first: extra quotes, then themes, then goals.
_DETAILS = (
    _Detail(MAX_QUOTES, MAX_THEMES, MAX_GOALS),
    _Detail(1, MAX_THEMES, MAX_GOALS),
    _Detail(0, MAX_THEMES, MAX_GOALS),
    _Detail(0, 2, MAX_GOALS),
    _Detail(0, 1, MAX_GOALS),
    _Detail(0, 1, 5),
)


class _Composer:
    """Writes one digest in one style at one level of detail."""

    def __init__(
        self, content: DigestContent, chart_note: str | None, style: _Style, detail: _Detail
    ) -> None:
        self.content = content
        self.chart_note = chart_note
        self.s = style
        self.detail = detail
        self.minimum = content.min_group_size
        self.parts: list[_Part] = []
        self.trimmed = False  # something the content holds was left out

    def compose(self) -> list[_Part]:
        c = self.content
        self._top()
        show_review = c.review_due and c.review is not None
        if show_review:
            self._review()
        if not c.enough:
            self._too_few()
        else:
            self._participation()
            self._adoption()
            if not show_review:  # from day 28 the goals stand in the review, with verdicts
                self._goals(with_verdict=False)
            self._themes()
        self._next_steps()
        self._footer()
        return self.parts

    def _section(self, lines: Sequence[str]) -> None:
        text = "\n".join(line for line in lines if line)
        if text.strip():  # Slack rejects a section with empty text
            self.parts.append(_Part("section", (text,)))

    def _context(self, *texts: str | None) -> None:
        kept = tuple(text for text in texts if text and text.strip())
        if kept:
            self.parts.append(_Part("context", kept))

    def _withheld(self) -> str:
        return self.s.italic(f"withheld (fewer than {self.minimum} people)")

    def _has_changes(self) -> bool:
        c = self.content
        p = c.participation
        return c.enough and any(
            value is not None
            for value in (
                p.invited_change,
                p.responded_change,
                p.response_rate_change,
                c.weekly_usage.change,
                c.sentiment.change,
                c.nps.change if c.nps else None,
                *(score.change for score in c.scores),
            )
        )

    # 1. who, what, when
    def _top(self) -> None:
        c = self.content
        suffix = f" · week {_one_line(c.period)}"
        room = max(MAX_HEADER - len(suffix), MAX_HEADER // 2)  # the week stays in sight
        name = _cut(f"{_one_line(c.pilot)} · {_one_line(c.tool)}", room)
        self.parts.append(_Part("header", (name + suffix,)))
        line = f"Day {c.day} of the pilot"
        if c.workflow and c.workflow.strip():
            line += f" · {self.s.line(c.workflow, NAME_CHARS)}"
        if self._has_changes():
            line += f" · ▲▼ since {self.s.esc(_one_line(c.previous_period))}"
        self._context(line)

    # 2. the 30-day review
    def _review(self) -> None:
        c = self.content
        assert c.review is not None
        emoji, word = _VERDICTS.get(str(c.review.verdict), ("", str(c.review.verdict)))
        lines = [self.s.bold(f"30-day review: {emoji} {word}".replace("  ", " "))]
        # The reasons carry figures; with too few answers they could carry a small group's.
        if c.enough:
            reasons = [r for r in c.review.reasons if r.strip()]
            self.trimmed |= len(reasons) > MAX_REASONS
            lines += [f"• {self.s.line(reason)}" for reason in reasons[:MAX_REASONS]]
        self._section(lines)
        self._goals(with_verdict=True)
        self.parts.append(_Part("divider"))

    # 3. too few answers
    def _too_few(self) -> None:
        c = self.content
        m = self.minimum
        invited = c.participation.invited
        reached = (
            f"The pulse reached {invited:,} {'person' if invited == 1 else 'people'}."
            if invited
            else "The pulse reached nobody this week."
        )
        self._section(
            [
                self.s.bold("Too few answers to show figures"),
                f"Fewer than {m} people answered this week's pulse, so this digest shows no "
                f"figures about people: each needs at least {m} people behind it.",
                reached,
            ]
        )

    # 4. participation
    def _participation(self) -> None:
        p = self.content.participation
        b = self.s.bold
        lines = [
            b("Participation"),
            f"• Invited: {b(f'{p.invited:,}')}{self._count(p.invited_change)}",
        ]
        if p.responded is None:
            lines.append(f"• Answered: {self._withheld()}")
        else:
            lines.append(f"• Answered: {b(f'{p.responded:,}')}{self._count(p.responded_change)}")
        if p.response_rate is None:
            lines.append(f"• Response rate: {self._withheld()}")
        else:
            change = _change(p.response_rate_change, points=True)
            lines.append(f"• Response rate: {b(_percent(p.response_rate))}{change}")
        self._section(lines)

    @staticmethod
    def _count(value: int | None) -> str:
        if value is None:
            return ""
        if value == 0:
            return " (no change)"
        return f" ({'▲' if value > 0 else '▼'}{abs(value):,})"

    def _actual_use(self) -> list[str]:
        """The tool's own data beside what people said, where it was imported."""
        figures = self.content.figures
        actual = figures.usage if figures is not None else None
        if actual is None:
            return []
        label = f"Actually active ({SOURCES.get(actual.source, actual.source)})"
        if actual.active_users is None or actual.active_share is None:
            return [f"• {label}: {self._withheld()}"]
        uses = (
            f", {actual.uses_per_active_user:g} uses each"
            if actual.uses_per_active_user is not None
            else ""
        )
        before = (
            f" · {_percent(figures.usage_before[1])} before the pilot"
            if figures is not None and figures.usage_before is not None
            else ""
        )
        share = self.s.bold(_percent(actual.active_share))
        return [f"• {label}: {share} ({actual.active_users} people{uses}){before}"]

    # 5. adoption
    def _adoption(self) -> None:
        c = self.content
        b = self.s.bold
        lines = [b("Adoption")]
        usage = c.weekly_usage
        if usage.value is None:
            lines.append(f"• Used it weekly: {self._withheld()}")
        else:
            change = _change(usage.change, points=True)
            lines.append(f"• Used it weekly: {b(_percent(usage.value))}{change}{_n(usage.n)}")
        lines += self._actual_use()
        for score in c.scores:
            label = self.s.line(score.label or score.key.replace("_", " "), NAME_CHARS)
            if score.mean is None:
                lines.append(f"• {label}: {self._withheld()}")
                continue
            scale = f" / {_number(score.high)}" if score.high is not None else ""
            mean = b(f"{score.mean:.1f}")
            lines.append(f"• {label}: {mean}{scale}{_change(score.change)}{_n(score.n)}")
        if c.nps is not None:
            if c.nps.score is None:
                lines.append(f"• Recommend score (NPS): {self._withheld()}")
            else:
                score_text = b(f"{c.nps.score:+.0f}")
                change = _change(c.nps.change, digits=0)
                lines.append(
                    f"• Recommend score (NPS): {score_text} on −100…+100{change}{_n(c.nps.n)}"
                )
        lines.append(self._time_saved())
        sentiment = c.sentiment
        if sentiment.mean is None:
            lines.append(f"• Sentiment: {self._withheld()}")
        else:
            shown = b(f"{sentiment.mean:+.2f}")
            lines.append(
                f"• Sentiment: {shown} on −1…+1{_change(sentiment.change)}{_n(sentiment.n)}"
            )
        self._section(lines)

    def _time_saved(self) -> str:
        saved = self.content.time_saved
        if saved is None:  # not asked: nothing to say
            return ""
        b = self.s.bold
        if saved.hours_total is None and saved.hours_per_person is None:
            return f"• Time saved: {self._withheld()}"
        if saved.hours_total is None:
            assert saved.hours_per_person is not None
            per_person = b(_number(saved.hours_per_person) + " h")
            return f"• Time saved: {per_person} a week per person{_n(saved.n)}"
        who = f"the {saved.n:,} who answered" if saved.n else "those who answered"
        line = f"• Time saved: {b(_number(saved.hours_total) + ' h')} a week across {who}"
        if saved.hours_per_person is not None:
            line += f", {b(_number(saved.hours_per_person) + ' h')} per person"
        return line

    # 6. goals
    def _goals(self, *, with_verdict: bool) -> None:
        goals = self.content.goals
        if not goals:
            return
        shown = goals[: self.detail.goals]
        self.trimmed |= len(goals) > len(shown)
        lines = [self.s.bold("Goals")]
        lines += [self._goal_line(goal, with_verdict) for goal in shown]
        self._section(lines)

    def _goal_line(self, goal: GoalResult, with_verdict: bool) -> str:
        label = self.s.line(goal.label or goal.metric, NAME_CHARS)
        target = _goal_value(goal.target, goal.unit)
        # With too few answers a goal's actual figure, and its status, rest on a small group.
        if self.content.enough and goal.actual is not None:
            actual = self.s.bold(_goal_value(goal.actual, goal.unit))
            line = f"• {label}: {actual} against a target of {target}"
        else:
            line = f"• {label}: target {target}"
        if self.content.enough:
            line += f" · {_STATUSES.get(str(goal.status), str(goal.status))}"
        if goal.default:
            line += " (default goal)"
        if with_verdict:
            emoji, word = _VERDICTS.get(str(goal.verdict), ("", str(goal.verdict)))
            line += f" → {emoji} {word}".replace("  ", " ")
        return line

    # 7. frictions and wins
    def _themes(self) -> None:
        c = self.content
        self._voices("Top frictions", c.frictions)
        self._voices("Top wins", c.wins)
        if c.themes_withheld > 0:
            more = c.themes_withheld
            self._context(
                f"+{more:,} more {'theme' if more == 1 else 'themes'} raised by fewer than "
                f"{self.minimum} people"
            )

    def _voices(self, title: str, voices: Sequence[ThemeVoice]) -> None:
        shown = voices[: self.detail.themes]
        if not shown:
            return
        self.trimmed |= len(voices) > len(shown)
        lines = [self.s.bold(title)]
        for voice in shown:
            label = self.s.line(voice.label or theme_label(voice.theme), NAME_CHARS)
            people = f"{voice.people:,} {'person' if voice.people == 1 else 'people'}"
            lines.append(f"• {self.s.bold(label)} · {people}")
            quotes = [quote for quote in voice.quotes if quote.strip()]
            self.trimmed |= len(quotes) > self.detail.quotes
            lines += [self.s.quote(quote) for quote in quotes[: self.detail.quotes]]
        self._section(lines)

    # 8. what to do next
    def _next_steps(self) -> None:
        steps = self.content.next_steps
        if steps is None:
            return
        actions = [action for action in steps.actions if action.strip()]
        self.trimmed |= len(actions) > MAX_ACTIONS
        lines = [self.s.bold("What to do next")]
        if steps.summary.strip():
            lines.append(self.s.line(steps.summary, SUMMARY_CHARS))
        lines += [f"{i}. {self.s.line(a)}" for i, a in enumerate(actions[:MAX_ACTIONS], 1)]
        if len(lines) == 1:
            return
        self.parts.append(_Part("divider"))
        self._section(lines)
        if steps.source == "local" or not steps.source.strip():
            by = "Suggested by pilot-pulse's rules"
        else:
            how = self.s.line(steps.source, NAME_CHARS)
            if steps.prompt_version:
                how += f", prompt {self.s.line(steps.prompt_version, NAME_CHARS)}"
            by = f"Suggested by the pilot's model ({how})"
        if steps.note and steps.note.strip():
            by += f" · {self.s.line(steps.note)}"
        self._context(by)

    # 9. footer
    def _footer(self) -> None:
        m = self.minimum
        if self.trimmed:
            pilot = _cut(_one_line(self.content.pilot), NAME_CHARS)
            period = _one_line(self.content.period)
            command = self.s.code(self.s.esc(f"pilot-pulse report {pilot} --period {period}"))
            self._context(f"Shortened to fit: {command} has every figure and theme.")
        self._context(
            f"Figures from fewer than {m} people are withheld. Nobody's name is ever attached.",
            self.s.line(self.chart_note) if self.chart_note else None,
        )


def _n(n: int | None) -> str:
    return f" (n={n:,})" if n is not None else ""


def _compose(
    content: DigestContent, chart_note: str | None, style: _Style, detail: _Detail
) -> list[_Part]:
    return _Composer(content, chart_note, style, detail).compose()


def _fits(parts: list[_Part]) -> bool:
    texts = [text for part in parts for text in part.texts]
    return (
        len(parts) <= MAX_BLOCKS
        and all(len(text) <= MAX_TEXT for text in texts)
        and sum(len(text) for text in texts) <= MAX_MESSAGE
    )


def _detail_for(content: DigestContent, chart_note: str | None) -> _Detail:
    """The most detail that fits Slack's limits and a phone, judged on the mrkdwn message (the
    longer of the two renderings, with its escapes and markers)."""
    for detail in _DETAILS:
        if _fits(_compose(content, chart_note, _MRKDWN, detail)):
            return detail
    return _DETAILS[-1]  # the last pass in `_to_blocks` cuts what is still too long


def _to_blocks(parts: list[_Part]) -> Blocks:
    """Block Kit, every limit enforced whatever the parts hold."""
    blocks: Blocks = []
    for part in parts:
        if part.kind == "header":
            blocks.append(header_block(_cut(part.texts[0], MAX_HEADER)))
        elif part.kind == "section":
            blocks.append(text_block(_cut(part.texts[0], MAX_TEXT)))
        elif part.kind == "context":
            texts = [_cut(text, MAX_TEXT) for text in part.texts]
            for start in range(0, len(texts), MAX_CONTEXT_ELEMENTS):
                block = context_block(texts[start])
                block["elements"] += [
                    {"type": "mrkdwn", "text": text}
                    for text in texts[start + 1 : start + MAX_CONTEXT_ELEMENTS]
                ]
                blocks.append(block)
        elif part.kind == "divider":
            blocks.append({"type": "divider"})
    if len(blocks) > MAX_BLOCKS:
        # Never reached with the caps above; kept so a change there cannot make Slack refuse
        # the message. The footer (privacy line) is the block kept at the end.
        blocks = [*blocks[: MAX_BLOCKS - 1], blocks[-1]]
    return blocks


# -- the public views ----------------------------------------------------------------------


def digest_blocks(content: DigestContent, *, chart_note: str | None = None) -> list[dict[str, Any]]:
    """The digest message. `chart_note` is a context line about the chart, e.g. "Trend chart
    above." or "The trend chart could not be attached (ratelimited)." (None: say nothing)."""
    detail = _detail_for(content, chart_note)
    return _to_blocks(_compose(content, chart_note, _MRKDWN, detail))


def digest_plain(content: DigestContent, *, chart_note: str | None = None) -> str:
    """The whole digest as plain text (no mrkdwn), for `pilot-pulse digest show --format text`,
    reading as a person would see the message: same sections, same detail, no markers."""
    detail = _detail_for(content, chart_note)
    paragraphs: list[str] = []
    for part in _compose(content, chart_note, _PLAIN, detail):
        if part.kind == "header":
            paragraphs.append(_cut(part.texts[0], MAX_HEADER))
        elif part.kind in ("section", "context"):
            paragraphs.append("\n".join(_cut(text, MAX_TEXT) for text in part.texts))
    return "\n\n".join(paragraphs) + "\n"


def digest_notification(content: DigestContent) -> str:
    """The message's `text` (notifications, screen readers): one short line, e.g.
    "support-copilot · 2026-W48: 40 of 50 answered (80%) · weekly use 62%"."""
    s = _MRKDWN
    line = f"{s.line(content.pilot, NAME_CHARS)} · {s.esc(_one_line(content.period))}: "
    p = content.participation
    if not content.enough:
        line += f"too few answers to show figures (fewer than {content.min_group_size})"
    elif p.responded is None:
        line += f"answers withheld (fewer than {content.min_group_size} people)"
    else:
        line += f"{p.responded:,} of {p.invited:,} answered"
        if p.response_rate is not None:
            line += f" ({_percent(p.response_rate)})"
        if content.weekly_usage.value is not None:
            line += f" · weekly use {_percent(content.weekly_usage.value)}"
    if content.review_due and content.review is not None:
        _, word = _VERDICTS.get(str(content.review.verdict), ("", str(content.review.verdict)))
        line += f" · 30-day review: {word}"
    return line
