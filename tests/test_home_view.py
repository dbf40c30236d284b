"""The App Home for each role: a participant's pilots with their state, next pulse and
check-in and who sees what; their own words; the pilots a champion or admin runs with the
right buttons and confirmations; "New pilot" for creators; within Slack's limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.pilots.participant import Membership
from bot.views.home import (
    END_PILOT_ACTION,
    ERASE_ACTION,
    MAX_MANAGED,
    SEND_DIGEST_ACTION,
    SEND_PULSE_ACTION,
    HomeData,
    ManagedPilot,
    ParticipantPilot,
    home_view,
    participant_pilot,
)
from bot.views.preferences import PAUSE_ACTION, RESUME_ACTION, STOP_ACTION
from bot.views.setup import EDIT_PILOT_ACTION, NEW_PILOT_ACTION
from bot.views.status import NUDGE_ACTION
from tests.test_setup_view import view_errors

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
ADMIN_ONLY = {SEND_PULSE_ACTION, SEND_DIGEST_ACTION, END_PILOT_ACTION}


@dataclass(frozen=True)
class Words:
    when: datetime
    where: str
    text: str


def member(**changes: Any) -> ParticipantPilot:
    values: dict[str, Any] = {
        "participant_id": 7,
        "pilot": "support-copilot",
        "tool": "GitHub Copilot",
        "min_group_size": 6,
        "next_pulse": "Tue 1 Dec at 10:00",
        "next_checkin": "Wed 2 Dec at 14:00",
    }
    return ParticipantPilot(**(values | changes))


def managed(role: str = "champion", **changes: Any) -> ManagedPilot:
    values: dict[str, Any] = {
        "name": "support-copilot",
        "tool": "GitHub Copilot",
        "role": role,
        "period": "2026-W48",
        "members": 20,
        "pulse_sent": True,
        "answered": 12,
        "invited": 20,
        "response_rate": 0.6,
        "usefulness": 3.84,
        "weekly_use": 0.7,
        "top_friction": "Output quality",
        "can_nudge": True,
        "leadership_channel": "C0LEADS",
    }
    return ManagedPilot(**(values | changes))


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def actions(view: dict[str, Any]) -> set[str]:
    return {element["action_id"] for element in buttons(view)}


def button_for(view: dict[str, Any], action_id: str) -> dict[str, Any]:
    [found] = [b for b in buttons(view) if b["action_id"] == action_id]
    return found


def page(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


def test_a_participant_sees_their_pilot_when_and_who_sees_what() -> None:
    view = home_view(HomeData(participating=[member()]))
    assert view["type"] == "home" and view_errors(view) == []
    text = page(view)
    assert "*support-copilot* · GitHub Copilot" in text
    assert "you get the weekly pulse" in text
    assert "Tue 1 Dec at 10:00" in text and "Wed 2 Dec at 14:00" in text
    assert (
        "Only totals from 6 or more people reach the pilot's champions and leadership; "
        "your name is never attached; nobody sees your answers but you." in text
    )
    assert actions(view) == {PAUSE_ACTION, STOP_ACTION, ERASE_ACTION}
    assert button_for(view, PAUSE_ACTION)["value"] == "p:7"
    assert button_for(view, STOP_ACTION)["confirm"]["title"]["text"]
    # The intro comes first and explains what this is.
    assert view["blocks"][0]["type"] == "header"
    assert "pilot-pulse" in view["blocks"][1]["text"]["text"]
    # Nothing for champions, admins or creators.
    assert not actions(view) & (ADMIN_ONLY | {EDIT_PILOT_ACTION, NUDGE_ACTION, NEW_PILOT_ACTION})
    assert "Pilots you run" not in text


def test_paused_stopped_and_not_surveyed() -> None:
    paused = home_view(HomeData(participating=[member(paused_until="Wed 9 Dec")]))
    assert "paused until Wed 9 Dec" in page(paused)
    assert "Tue 1 Dec at 10:00" not in page(paused)
    assert actions(paused) == {RESUME_ACTION, STOP_ACTION, ERASE_ACTION}
    assert button_for(paused, RESUME_ACTION)["text"]["text"] == "Resume now"
    stopped = home_view(HomeData(participating=[member(stopped=True, paused_until="Wed 9 Dec")]))
    assert "you have stopped these messages" in page(stopped)
    assert actions(stopped) == {RESUME_ACTION, ERASE_ACTION}
    assert button_for(stopped, RESUME_ACTION)["text"]["text"] == "Start again"
    watching = home_view(HomeData(participating=[member(surveyed=False)]))
    assert "not surveyed" in page(watching)
    assert actions(watching) == {ERASE_ACTION}
    for view in (paused, stopped, watching):
        assert view_errors(view) == []


def test_a_membership_becomes_what_the_home_tab_shows() -> None:
    def membership(**changes: Any) -> Membership:
        values: dict[str, Any] = {
            "participant_id": 3,
            "pilot": "alpha",
            "tool": "Copilot",
            "role": "member",
            "surveyed": True,
            "min_group_size": 5,
            "paused_until": None,
            "opted_out": False,
            "slack_tz": "Asia/Tokyo",
        }
        return Membership(**(values | changes))

    active = participant_pilot(membership(), NOW, next_pulse="Tue 1 Dec at 10:00")
    assert (active.state, active.next_pulse) == ("active", "Tue 1 Dec at 10:00")
    # The end of a pause is a day in the person's time zone: 20:00 UTC is the next day in Tokyo.
    until = datetime(2026, 12, 9, 20, tzinfo=UTC)
    paused = participant_pilot(membership(paused_until=until), NOW)
    assert (paused.state, paused.paused_until) == ("paused", "Thu 10 Dec")
    assert participant_pilot(membership(paused_until=NOW - timedelta(days=1)), NOW).state == (
        "active"
    )
    stopped = participant_pilot(membership(opted_out=True, paused_until=until), NOW)
    assert stopped.state == "stopped"
    assert participant_pilot(membership(surveyed=False), NOW).state == "not_surveyed"


def test_working_days_other_than_mon_fri_and_the_next_holidays_show() -> None:
    membership = Membership(
        participant_id=3,
        pilot="gulf",
        tool="Copilot",
        role="member",
        surveyed=True,
        min_group_size=5,
        paused_until=None,
        opted_out=False,
        slack_tz="Pacific/Kiritimati",  # UTC+14: already Friday 27 Nov when NOW is Thursday
    )
    holidays = [
        "2026-11-26",  # yesterday where they are
        "2027-03-01",  # too far ahead to matter yet
        "2026-12-25",
        "2026-11-27",  # today where they are
        "2026-12-24",
        "2026-12-31",  # a fourth: only three show
    ]
    shown = participant_pilot(membership, NOW, working_days=0b1001111, holidays=holidays)
    assert shown.working_days == "Sun–Thu"
    assert shown.holidays == ("Fri 27 Nov", "Thu 24 Dec", "Fri 25 Dec")
    text = page(home_view(HomeData(participating=[shown])))
    assert "Working days: Sun–Thu · no messages on Fri 27 Nov, Thu 24 Dec, Fri 25 Dec" in text
    # Monday to Friday without holidays, the default, says nothing more.
    plain = participant_pilot(membership, NOW)
    assert (plain.working_days, plain.holidays) == (None, ())
    assert "Working days" not in page(home_view(HomeData(participating=[plain])))
    only_holidays = member(holidays=("Thu 24 Dec",))
    assert "No messages on Thu 24 Dec (holidays)" in page(
        home_view(HomeData(participating=[only_holidays]))
    )
    # Paused, the days do not matter: nothing comes anyway.
    paused = member(working_days="Sun–Thu", paused_until="Wed 9 Dec")
    assert "Sun–Thu" not in page(home_view(HomeData(participating=[paused])))


def test_your_words_are_escaped_and_erasing_is_confirmed() -> None:
    written = [
        Words(NOW, "check-in", "The login <loops> & <@U0BOSS> knows"),
        Words(NOW - timedelta(days=2), "pulse comment", "x" * 500),
    ]
    view = home_view(HomeData(participating=[member()], written=written, retention_days=30))
    text = page(view)
    assert "26 Nov, check-in: “The login &lt;loops&gt; &amp; &lt;@U0BOSS&gt; knows”" in text
    assert "<loops>" not in text and "<@U0BOSS>" not in text
    assert "x" * 199 + "…" in text and "x" * 200 not in text
    assert "Your words" in text and "only you see this" in text and "30 days" in text
    erase = button_for(view, ERASE_ACTION)
    assert (erase["value"], erase["style"]) == ("me", "danger")
    assert "for good" in erase["confirm"]["text"]["text"]
    assert view_errors(view) == []
    empty = home_view(HomeData(participating=[member()]))
    assert "Nothing you wrote is kept" in page(empty)
    # Someone in no pilot who still has words can see and delete them.
    left = home_view(HomeData(written=written[:1]))
    assert ERASE_ACTION in actions(left) and "You are not in any pilot" in page(left)
    nobody = home_view(HomeData())
    assert actions(nobody) == set() and "You are not in any pilot" in page(nobody)


def test_a_champion_sees_the_figures_edit_and_nudge_but_no_admin_buttons() -> None:
    view = home_view(HomeData(managed=[managed()]))
    assert view_errors(view) == []
    text = page(view)
    assert "Pilots you run" in text
    assert "*support-copilot* · GitHub Copilot · _champion_ · 2026-W48" in text
    assert "Answered *12* of 20 (60%)" in text
    assert "usefulness *3.8* / 5" in text and "weekly use *70%*" in text
    assert "Top friction: Output quality" in text
    assert actions(view) == {EDIT_PILOT_ACTION, NUDGE_ACTION}
    assert button_for(view, EDIT_PILOT_ACTION)["value"] == "support-copilot"
    assert button_for(view, NUDGE_ACTION)["value"] == "support-copilot"
    # No nudge when the caller says none is possible; no words section for a champion only.
    quiet = home_view(HomeData(managed=[managed(can_nudge=False)]))
    assert actions(quiet) == {EDIT_PILOT_ACTION}
    assert "Your words" not in page(quiet)


def test_figures_from_too_few_people_are_withheld() -> None:
    view = home_view(HomeData(managed=[managed(answered=None, min_group_size=5)]))
    text = page(view)
    assert "Withheld: fewer than 5 answered so far." in text
    assert "usefulness" not in text and "Top friction" not in text
    unsent = home_view(HomeData(managed=[managed(pulse_sent=False, answered=None)]))
    assert "No pulse has gone out this period yet." in page(unsent)


def test_an_admin_gets_the_three_admin_buttons_each_confirmed() -> None:
    view = home_view(HomeData(managed=[managed("admin", digest_period="2026-W47")]))
    assert view_errors(view) == []
    assert actions(view) == {EDIT_PILOT_ACTION, NUDGE_ACTION} | ADMIN_ONLY
    for action in ADMIN_ONLY:
        element = button_for(view, action)
        assert element["value"] == "support-copilot"
        assert element["confirm"]["title"]["text"] and element["confirm"]["deny"]["text"]
    pulse = button_for(view, SEND_PULSE_ACTION)["confirm"]["text"]["text"]
    assert "Send this week's pulse of *support-copilot* to everyone in the pilot now?" in pulse
    digest = button_for(view, SEND_DIGEST_ACTION)["confirm"]["text"]["text"]
    assert "Post the digest of W47 for *support-copilot* to <#C0LEADS> now?" in digest
    end = button_for(view, END_PILOT_ACTION)
    assert end["style"] == "danger" and end["confirm"]["style"] == "danger"
    assert (
        "No more pulses, check-ins or digests; its figures stay."
        in (end["confirm"]["text"]["text"])
    )
    assert "_admin_" in page(view)


def test_an_ended_pilot_has_no_buttons() -> None:
    view = home_view(HomeData(managed=[managed("admin", ended=True)]))
    assert actions(view) == set()
    assert "Ended" in page(view)


def test_a_creator_gets_new_pilot_and_a_notice_shows_first() -> None:
    view = home_view(
        HomeData(
            participating=[member()],
            may_create=True,
            notice="Pilot support-copilot created: 12 members. <!channel>",
        )
    )
    assert view_errors(view) == []
    assert NEW_PILOT_ACTION in actions(view)
    first = view["blocks"][0]
    assert first["type"] == "context"
    assert first["elements"][0]["text"] == (
        "Pilot support-copilot created: 12 members. &lt;!channel&gt;"
    )
    assert NEW_PILOT_ACTION not in actions(home_view(HomeData(participating=[member()])))


def test_sections_come_in_order() -> None:
    view = home_view(
        HomeData(
            participating=[member()],
            written=[Words(NOW, "check-in", "fine")],
            managed=[managed("admin")],
            may_create=True,
        )
    )
    order = [
        element["action_id"] for element in buttons(view) if element["action_id"] != STOP_ACTION
    ]
    assert order == [
        PAUSE_ACTION,
        ERASE_ACTION,
        EDIT_PILOT_ACTION,
        NUDGE_ACTION,
        SEND_PULSE_ACTION,
        SEND_DIGEST_ACTION,
        END_PILOT_ACTION,
        NEW_PILOT_ACTION,
    ]


def test_names_people_typed_are_escaped() -> None:
    view = home_view(
        HomeData(
            participating=[member(pilot="a<b>&c", tool="<!here>")],
            managed=[managed("admin", name="a<b>&c", tool="<!here>")],
        )
    )
    text = page(view)
    assert "<!here>" not in text and "a<b>" not in text.replace('"value": "a<b>&c"', "")
    assert "a&lt;b&gt;&amp;c" in text
    # Button values carry the name as it is: the server looks it up and checks the role.
    assert button_for(view, EDIT_PILOT_ACTION)["value"] == "a<b>&c"


def test_forty_pilots_stay_within_the_home_tabs_limits() -> None:
    view = home_view(
        HomeData(
            participating=[
                member(participant_id=i, pilot=f"pilot-{i:02d}", min_group_size=5)
                for i in range(40)
            ],
            written=[Words(NOW, "check-in", "w" * 300) for _ in range(40)],
            managed=[managed("admin", name=f"pilot-{i:02d}") for i in range(40)],
            may_create=True,
            notice="Done.",
        )
    )
    assert len(view["blocks"]) <= 100
    assert view_errors(view) == []
    text = page(view)
    assert f"…and {40 - MAX_MANAGED} more pilots" in text
    assert "more pilots." in text  # the participant list says so too
    # What matters most still shows: the erase button and "New pilot".
    assert {ERASE_ACTION, NEW_PILOT_ACTION} <= actions(view)
    assert sum(1 for b in buttons(view) if b["action_id"] == EDIT_PILOT_ACTION) == MAX_MANAGED
