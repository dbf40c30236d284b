"""The weekly digest as a Slack message: figures and changes worded as `/pilot-status` words
them, withheld figures saying so, no figure about people when too few answered, the 30-day
review first from day 28, and Slack's limits kept however oversized the content."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from bot.reporting.digest import (
    DigestContent,
    GoalResult,
    GoalStatus,
    NetPromoter,
    NextSteps,
    Participation,
    Review,
    Score,
    Sentiment,
    Share,
    ThemeVoice,
    TimeSaved,
    Verdict,
)
from bot.views.digest import (
    MAX_BLOCKS,
    MAX_TEXT,
    digest_blocks,
    digest_notification,
    digest_plain,
)

# -- content --------------------------------------------------------------------------------


def goals() -> list[GoalResult]:
    return [
        GoalResult(
            "weekly_usage", "Weekly use", 0.6, 0.62, GoalStatus.ON_TRACK, Verdict.EXPAND, "%"
        ),
        GoalResult(
            "usefulness",
            "Usefulness",
            3.5,
            3.6,
            GoalStatus.ON_TRACK,
            Verdict.KEEP_GOING,
            "",
            default=True,
        ),
        GoalResult(
            "hours_saved",
            "Hours saved a week",
            60,
            None,
            GoalStatus.NOT_ENOUGH_DATA,
            Verdict.NOT_ENOUGH_DATA,
            "h",
        ),
    ]


def digest(**changes: Any) -> DigestContent:
    """A realistic digest: day 23 of a support team's pilot, every figure known but trust."""
    content = DigestContent(
        pilot="support-copilot",
        tool="GitHub Copilot",
        period="2026-W48",
        previous_period="2026-W47",
        day=23,
        min_group_size=5,
        enough=True,
        participation=Participation(50, 40, 0.8, 48, 37, 0.74),
        weekly_usage=Share(0.62, 40, 0.58),
        scores=[
            Score("usefulness", "Usefulness", 3.6, 1, 5, 40, 3.4),
            Score("trust", "Trust in output", 3.4, 1, 5, 38, 3.4),
            Score("recommend", "Would recommend", 7.2, 0, 10, 39, 6.9),
        ],
        nps=NetPromoter(15, 39, 10),
        time_saved=TimeSaved(48.0, 1.3, 37, 41.0),
        sentiment=Sentiment(0.21, 35, 0.26),
        frictions=[
            ThemeVoice(
                "access_licensing",
                "access and licensing",
                7,
                (
                    "Half the team still can't get a licence, so we share screens.",
                    "I asked for access two weeks ago & heard nothing.",
                ),
            ),
            ThemeVoice(
                "output_quality",
                "output quality and accuracy",
                6,
                ("It invents ticket numbers <sometimes>.",),
            ),
        ],
        wins=[
            ThemeVoice("time_saved", "time saved", 9, ("Drafting replies takes half the time.",))
        ],
        themes_withheld=2,
        goals=goals(),
        next_steps=NextSteps(
            "Use is growing; access is the main blocker.",
            (
                "Ask IT to clear the licence backlog this week.",
                "Share two good reply drafts in the team channel.",
                "Check ticket-number errors with the team lead.",
            ),
            source="openai:gpt-4o-mini",
            prompt_version="digest@1",
        ),
        workflow="Ticket replies",
    )
    return replace(content, **changes)


def withheld_digest() -> DigestContent:
    """Enough answers overall, but several figures withheld (None) by the minimum-group rule."""
    return digest(
        participation=Participation(50, 40, 0.8, 48, None, None),
        weekly_usage=Share(None, None, 0.58),
        scores=[
            Score("usefulness", "Usefulness", 3.6, 1, 5, 40),
            Score("trust", "Trust in output", None, 1, 5, None, 3.4),
        ],
        nps=NetPromoter(None, None),
        time_saved=TimeSaved(None, None, None),
        sentiment=Sentiment(None, None, 0.2),
    )


REVIEW = Review(
    Verdict.EXPAND,
    ("Weekly use is 62%, above the 60% goal.", "Usefulness 3.6 / 5 beats the 3.5 default goal."),
)


# -- reading the message --------------------------------------------------------------------


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text in the message, in order."""
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            found.append(element["text"])
    return found


def message(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(texts(blocks))


def check_block_kit(blocks: list[dict[str, Any]]) -> None:
    """What Slack checks before it accepts a message, for the block types the digest uses."""
    assert 0 < len(blocks) <= MAX_BLOCKS
    json.dumps(blocks)  # serialisable as is
    for block in blocks:
        kind = block["type"]
        assert kind in ("header", "section", "context", "divider"), block
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"].strip()) <= 150
        elif kind == "section":
            assert block["text"]["type"] == "mrkdwn"
            assert 0 < len(block["text"]["text"].strip()) <= MAX_TEXT
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                assert element["type"] == "mrkdwn"
                assert 0 < len(element["text"].strip()) <= MAX_TEXT
        else:
            assert block == {"type": "divider"}


# -- figures --------------------------------------------------------------------------------


def test_figures_and_their_changes_are_worded_like_the_status_view() -> None:
    blocks = digest_blocks(digest())
    check_block_kit(blocks)
    text = message(blocks)
    assert blocks[0]["text"]["text"] == "support-copilot · GitHub Copilot · week 2026-W48"
    assert texts(blocks)[1] == "Day 23 of the pilot · Ticket replies · ▲▼ since 2026-W47"
    for line in (
        "• Invited: *50* (▲2)",
        "• Answered: *40* (▲3)",
        "• Response rate: *80%* (▲6 pts)",
        "• Used it weekly: *62%* (▲4 pts) (n=40)",
        "• Usefulness: *3.6* / 5 (▲0.2) (n=40)",
        "• Trust in output: *3.4* / 5 (no change) (n=38)",
        "• Would recommend: *7.2* / 10 (▲0.3) (n=39)",
        "• Recommend score (NPS): *+15* on −100…+100 (▲5) (n=39)",
        "• Time saved: *48 h* a week across the 37 who answered, *1.3 h* per person",
        "• Sentiment: *+0.21* on −1…+1 (▼0.05) (n=35)",
    ):
        assert line in text.splitlines(), line


def test_goals_show_target_actual_and_status_in_their_units() -> None:
    lines = message(digest_blocks(digest())).splitlines()
    assert "• Weekly use: *62%* against a target of 60% · on track" in lines
    assert "• Usefulness: *3.6* against a target of 3.5 · on track (default goal)" in lines
    # No figure: the target and the status, never "None".
    assert "• Hours saved a week: target 60 h · not enough data" in lines
    off = GoalResult(
        "hours_per_person", "Hours saved per person", 2, 1.5, GoalStatus.OFF_TRACK, Verdict.RETHINK
    )
    off = replace(off, unit="h")
    assert "• Hours saved per person: *1.5 h* against a target of 2 h · off track" in (
        message(digest_blocks(digest(goals=[off]))).splitlines()
    )


def test_withheld_figures_say_withheld_and_never_none() -> None:
    content = withheld_digest()
    blocks = digest_blocks(content)
    check_block_kit(blocks)
    text = message(blocks)
    withheld = "_withheld (fewer than 5 people)_"
    for label in ("Used it weekly", "Trust in output", "Recommend score (NPS)", "Time saved"):
        assert f"• {label}: {withheld}" in text.splitlines(), label
    assert f"• Sentiment: {withheld}" in text.splitlines()
    # A change against a withheld figure is not shown either.
    assert "• Answered: *40*" in text.splitlines()
    assert "• Response rate: *80%*" in text.splitlines()
    plain = digest_plain(content)
    for shown in (json.dumps(blocks, ensure_ascii=False), plain, digest_notification(content)):
        assert "None" not in shown
        assert "nan" not in shown.lower().replace("nano", "")


def test_a_withheld_answer_count_is_withheld_in_the_notification_too() -> None:
    content = digest(participation=Participation(50, None, None))
    assert "Answered: _withheld (fewer than 5 people)_" in message(digest_blocks(content))
    assert digest_notification(content) == (
        "support-copilot · 2026-W48: answers withheld (fewer than 5 people)"
    )


def test_a_question_not_asked_leaves_its_line_out() -> None:
    text = message(digest_blocks(digest(nps=None, time_saved=None, scores=[])))
    assert "NPS" not in text
    assert "Time saved" not in text
    assert "/ 5" not in text


# -- too few answers ------------------------------------------------------------------------


def too_few(**changes: Any) -> DigestContent:
    """Too few answers, with distinctive figures still in the content: none may be shown."""
    changes = {"day": 17, **changes}
    return digest(
        enough=False,
        participation=Participation(52, 4, 0.0769, 48, 3, 0.0625),
        weekly_usage=Share(0.75, 4, 0.667),
        scores=[Score("usefulness", "Usefulness", 3.75, 1, 5, 4, 3.33)],
        nps=NetPromoter(25, 4),
        time_saved=TimeSaved(6.5, 1.625, 4),
        sentiment=Sentiment(0.31, 4),
        frictions=[ThemeVoice("speed", "speed", 4, ("It is slow at 9am.",))],
        wins=[ThemeVoice("time_saved", "time saved", 3, ("Saves me 20 minutes.",))],
        themes_withheld=6,
        goals=[
            replace(goals()[0], actual=0.75),
            replace(goals()[1], actual=3.75),
        ],
        next_steps=NextSteps(
            "Too few people answered to judge the pilot.",
            ("Ask the champions to remind the team why the pulse matters.",),
        ),
        **changes,
    )


def test_too_few_answers_show_no_figure_about_people() -> None:
    content = too_few()
    blocks = digest_blocks(content)
    check_block_kit(blocks)
    for shown in (message(blocks), digest_plain(content), digest_notification(content)):
        # The only numbers: the period, the day, the minimum group, the deliveries (a count of
        # messages, not of people's answers) and the numbered next step.
        numbers = set(re.findall(r"\d+(?:[.,]\d+)?", shown))
        assert numbers <= {"2026", "48", "17", "5", "52", "1"}, numbers
        assert "%" not in shown
        for word in ("Answered", "Adoption", "Usefulness", "Sentiment", "Top frictions", "speed"):
            assert word not in shown
    text = message(blocks)
    assert "Too few answers to show figures" in text
    assert "Fewer than 5 people answered" in text
    assert "The pulse reached 52 people." in text
    assert "1. Ask the champions to remind the team why the pulse matters." in text
    assert "Suggested by pilot-pulse's rules" in text
    assert texts(blocks)[-1].startswith("Figures from fewer than 5 people are withheld.")
    assert digest_notification(content) == (
        "support-copilot · 2026-W48: too few answers to show figures (fewer than 5)"
    )


def test_too_few_answers_at_the_review_show_verdicts_but_no_figures() -> None:
    review = Review(Verdict.NOT_ENOUGH_DATA, ("Only 4 people answered, 6.5 hours saved.",))
    content = too_few(day=30, review=review)
    text = message(digest_blocks(content))
    assert "*30-day review: ⏳ Not enough data yet*" in text
    assert "• Weekly use: target 60% → ✅ Expand" in text
    # The reasons are written with figures; with too few answers they stay out.
    assert "Only 4" not in text
    # Only the goals' targets (the pilot's own, not figures about people) join the numbers.
    numbers = set(re.findall(r"\d+(?:[.,]\d+)?", text))
    assert numbers <= {"2026", "48", "30", "5", "52", "1", "60", "3.5"}, numbers


# -- the 30-day review ----------------------------------------------------------------------


def test_the_review_comes_first_from_day_28() -> None:
    content = digest(day=28, review=REVIEW)
    blocks = digest_blocks(content)
    check_block_kit(blocks)
    sections = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    assert sections[0] == (
        "*30-day review: ✅ Expand*\n"
        "• Weekly use is 62%, above the 60% goal.\n"
        "• Usefulness 3.6 / 5 beats the 3.5 default goal."
    )
    assert sections[1].splitlines() == [
        "*Goals*",
        "• Weekly use: *62%* against a target of 60% · on track → ✅ Expand",
        "• Usefulness: *3.6* against a target of 3.5 · on track (default goal) → ⏩ Keep going",
        "• Hours saved a week: target 60 h · not enough data → ⏳ Not enough data yet",
    ]
    assert sections[2].startswith("*Participation*")
    # The goals are said once, in the review.
    assert sum(section.startswith("*Goals*") for section in sections) == 1
    assert digest_notification(content).endswith(" · 30-day review: Expand")


@pytest.mark.parametrize(
    ("verdict", "shown"),
    [(Verdict.KEEP_GOING, "⏩ Keep going"), (Verdict.RETHINK, "⚠️ Rethink")],
)
def test_each_verdict_is_worded(verdict: Verdict, shown: str) -> None:
    text = message(digest_blocks(digest(day=31, review=Review(verdict, ("A reason.",)))))
    assert f"*30-day review: {shown}*\n• A reason." in text


def test_no_review_before_day_28() -> None:
    for content in (digest(day=27), digest(day=27, review=REVIEW), digest(day=29, review=None)):
        text = message(digest_blocks(content))
        assert "30-day review" not in text
        assert "→" not in text
        assert "*Goals*\n• Weekly use: *62%* against a target of 60% · on track" in text


# -- themes, quotes and next steps ----------------------------------------------------------


def test_frictions_and_wins_with_their_people_and_quotes() -> None:
    blocks = digest_blocks(digest())
    sections = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    assert (
        "*Top frictions*\n"
        "• *access and licensing* · 7 people\n"
        "> _“Half the team still can't get a licence, so we share screens.”_\n"
        "> _“I asked for access two weeks ago &amp; heard nothing.”_\n"
        "• *output quality and accuracy* · 6 people\n"
        "> _“It invents ticket numbers &lt;sometimes&gt;.”_"
    ) in sections
    assert "*Top wins*\n• *time saved* · 9 people\n> _“Drafting replies takes half the time.”_" in (
        sections
    )
    assert "+2 more themes raised by fewer than 5 people" in texts(blocks)


def test_quotes_cannot_break_the_layout() -> None:
    quote = "line one\n\n> not a quote <!channel> & `code`\t" + "word " * 200
    content = digest(frictions=[ThemeVoice("speed", "speed", 5, (quote,))], wins=[])
    lines = message(digest_blocks(content)).splitlines()
    shown = next(line for line in lines if line.startswith("> _“line one"))
    assert shown.startswith("> _“line one &gt; not a quote &lt;!channel&gt; &amp; 'code' word")
    assert shown.endswith("…”_")
    assert len(shown) < 260
    assert "<!channel>" not in "\n".join(lines)


def test_next_steps_end_the_message_and_say_who_wrote_them() -> None:
    blocks = digest_blocks(digest(), chart_note="Trend chart above.")
    shown = texts(blocks)
    assert shown[-4].startswith("*What to do next*\nUse is growing; access is the main blocker.\n")
    assert "\n1. Ask IT to clear the licence backlog this week." in shown[-4]
    assert "\n3. Check ticket-number errors with the team lead." in shown[-4]
    assert shown[-3] == "Suggested by the pilot's model (openai:gpt-4o-mini, prompt digest@1)"
    # The footer: the privacy rule, and the chart's note beside it.
    assert [element["text"] for element in blocks[-1]["elements"]] == [
        "Figures from fewer than 5 people are withheld. Nobody's name is ever attached.",
        "Trend chart above.",
    ]
    local = NextSteps(
        "Keep going.", ("Nudge the team.",), note="the model's answer cited no figure"
    )
    shown = texts(digest_blocks(digest(next_steps=local)))
    assert shown[-2] == "Suggested by pilot-pulse's rules · the model's answer cited no figure"
    assert "Trend chart" not in "\n".join(shown)


def test_notification_is_one_short_line() -> None:
    line = digest_notification(digest())
    assert line == "support-copilot · 2026-W48: 40 of 50 answered (80%) · weekly use 62%"
    assert "\n" not in line


# -- limits ---------------------------------------------------------------------------------


def oversized() -> DigestContent:
    quote = ("<b>&amp; & <!here>\n\n" + "x" * 60 + " ") * 60  # about 5,000 characters
    themes = [
        ThemeVoice(f"theme_{i}", f"theme {i} <&>", 1000 - i, tuple(quote for _ in range(5)))
        for i in range(100)
    ]
    many_goals = [
        GoalResult(
            f"metric_{i}",
            f"Goal {i} " + "&" * 100,
            0.5,
            0.25,
            GoalStatus.OFF_TRACK,
            Verdict.RETHINK,
            "%",
        )
        for i in range(60)
    ]
    long = ("Do <this> & that.\n" * 120)[:2000]
    return digest(
        pilot="p" * 500,
        tool="t" * 300,
        workflow="w" * 500,
        day=40,
        frictions=themes,
        wins=list(reversed(themes)),
        themes_withheld=1234,
        goals=many_goals,
        review=Review(Verdict.RETHINK, tuple(long for _ in range(20))),
        next_steps=NextSteps(long * 3, tuple(long for _ in range(20)), note=long),
    )


@pytest.mark.parametrize("chart_note", [None, "The trend chart could not be attached. " * 200])
def test_oversized_content_stays_within_slack_limits(chart_note: str | None) -> None:
    content = oversized()
    blocks = digest_blocks(content, chart_note=chart_note)
    check_block_kit(blocks)
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(text) <= MAX_TEXT for text in texts(blocks))
    assert len(blocks[0]["text"]["text"]) <= 150
    assert blocks[0]["text"]["text"].endswith(" · week 2026-W48")
    text = message(blocks)
    assert len(text) <= 6000  # a phone's worth
    assert "<" not in text.replace("<!", "")  # every < escaped, so no link or mention
    assert "<!here>" not in text
    assert "Shortened to fit: `pilot-pulse report " in text
    assert text.count("\n1. ") == 1 and "\n4. " not in text
    assert "+1,234 more themes raised by fewer than 5 people" in text
    # The review still opens the message, and the next steps still end it.
    assert texts(blocks)[2].startswith("*30-day review: ⚠️ Rethink*")
    assert blocks[-1]["elements"][0]["text"].startswith("Figures from fewer than 5 people")
    line = digest_notification(content)
    assert "\n" not in line and len(line) < 200
    plain = digest_plain(content, chart_note=chart_note)
    assert "Shortened to fit: pilot-pulse report " in plain


def test_the_least_important_detail_goes_first() -> None:
    # Three themes each with two long quotes, and long next steps: too long for a phone, so
    # quotes go before any theme does.
    quote = "word " * 100
    voices = [ThemeVoice(f"t{i}", f"theme {i}", 10 - i, (quote, quote)) for i in range(3)]
    steps = NextSteps("s " * 300, tuple("a " * 150 for _ in range(3)))
    reasons = tuple("r " * 150 for _ in range(5))
    content = digest(
        frictions=voices,
        wins=voices,
        next_steps=steps,
        day=30,
        review=Review(Verdict.EXPAND, reasons),
    )
    text = message(digest_blocks(content))
    assert text.count("• *theme ") == 6  # every theme kept
    assert text.count("> _“") < 12  # some quotes dropped
    assert "Shortened to fit" in text
    # A usual digest is shown whole.
    assert "Shortened to fit" not in message(digest_blocks(digest()))


def test_lists_are_capped_even_when_short() -> None:
    voices = [ThemeVoice(f"t{i}", f"theme {i}", 10, ("a", "b", "c")) for i in range(5)]
    content = digest(frictions=voices, wins=[])
    text = message(digest_blocks(content))
    assert text.count("• *theme ") == 3
    assert text.count("> _“") == 6
    assert "Shortened to fit" in text


# -- plain text -----------------------------------------------------------------------------


def test_plain_text_has_no_markup_and_the_main_figures() -> None:
    content = digest(day=29, review=REVIEW)
    plain = digest_plain(content, chart_note="Trend chart above.")
    assert not re.search(r"(^|\s)[*_]\S|\S[*_]($|\s)", plain), plain
    assert "&amp;" not in plain and "&lt;" not in plain and "> " not in plain
    for shown in (
        "support-copilot · GitHub Copilot · week 2026-W48",
        "30-day review: ✅ Expand",
        "• Answered: 40 (▲3)",
        "• Response rate: 80% (▲6 pts)",
        "• Used it weekly: 62% (▲4 pts) (n=40)",
        "• Usefulness: 3.6 / 5 (▲0.2) (n=40)",
        "• access and licensing · 7 people",
        "    “I asked for access two weeks ago & heard nothing.”",
        "1. Ask IT to clear the licence backlog this week.",
        "Trend chart above.",
    ):
        assert shown in plain, shown
    assert plain.index("30-day review") < plain.index("Participation") < plain.index("What to do")
    assert "None" not in digest_plain(withheld_digest())


def test_time_saved_per_person_alone() -> None:
    text = message(digest_blocks(digest(time_saved=TimeSaved(None, 1.3, 37))))
    assert "• Time saved: *1.3 h* a week per person (n=37)" in text.splitlines()
