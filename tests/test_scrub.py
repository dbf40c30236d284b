"""The scrubber: mentions, e-mails, phone numbers, links and members' names become placeholders."""

from __future__ import annotations

import pytest

from bot.privacy.scrub import Scrubber, scrub

NAMES = [
    "Ada Lovelace",
    "Grace Hopper",
    "Will Turner",
    "Li Wei",
    "José Núñez",
    "Chris",
    "Anne-Marie Smith-Jones",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thanks <@U0123ABCD> and <@W0ABC1234|bob>", "thanks [person] and [person]"),
        ("posted in <#C0123ABCD|general> for <!here>", "posted in [channel] for [group]"),
        ("mail me at ada.l+ai@example.co.uk", "mail me at [email]"),
        ("<mailto:ada@example.com|ada@example.com> has it", "[email] has it"),
        ("ring +44 20 7946 0958 or (020) 7946-0958", "ring [phone] or [phone]"),
        ("call 555.123.4567 today", "call [phone] today"),
        ("see https://intranet.example.com/ai?x=1 and www.example.org", "see [link] and [link]"),
        ("<https://example.com/doc|the doc> is out of date", "[link] is out of date"),
        ("ping @jsmith about it", "ping [person] about it"),
        ("Ada Lovelace said Grace's prompts work", "[person] said [person] prompts work"),
        ("lovelace knows", "[person] knows"),
        ("it will help, Will said", "it will help, [person] said"),
        ("grace period ends soon", "grace period ends soon"),
        ("Li and José Núñez agreed", "[person] and [person] agreed"),
        ("copied U0123ABCD in", "copied [person] in"),
        ("Anne-Marie and Smith-Jones agree", "[person] and [person] agree"),
        ("ask ada_lovelace or jose nunez", "ask [person] or [person]"),
        ("see intranet.corp/ai-guide or wiki.example.com", "see [link] or [link]"),
    ],
)
def test_scrubbed(text: str, expected: str) -> None:
    assert Scrubber(NAMES).scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "meeting on 2026-11-24 at 10:30",
        "saved 2 hours, maybe 45 minutes on Friday",
        "version 3.11.7 is fine",
        "it cost £1,250 this month",
    ],
)
def test_dates_times_and_amounts_stay(text: str) -> None:
    assert scrub(text, NAMES) == text


def test_without_names_only_contact_details_go() -> None:
    assert scrub("Ada emailed ada@example.com") == "Ada emailed [email]"


def test_workspace_names_count_only_where_they_look_like_names() -> None:
    scrubber = Scrubber(
        ["Ada Lovelace"], workspace_names=["Tom Reedley", "Sam Love", "Ann Day", "Max Power-Smith"]
    )
    # Surnames that are everyday words stay words...
    assert (
        scrubber.scrub("Love the new button, saves me a day a week")
        == "Love the new button, saves me a day a week"
    )
    assert scrubber.scrub("Power-users like it") == "Power-users like it"
    # ...and names in mid-sentence, or next to another name, go.
    assert scrubber.scrub("My manager Tom Reedley says no") == "My manager [person] says no"
    assert scrubber.scrub("Tom Reedley says no") == "[person] says no"
    assert scrubber.scrub("I told Day about it") == "I told [person] about it"
    # The pilot's own people are found in any case, anywhere.
    assert scrubber.scrub("lovelace knows") == "[person] knows"
