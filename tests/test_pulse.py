"""The pulse end to end through the running HTTP app with signed payloads, on both databases."""

from __future__ import annotations

import json
import statistics
import threading
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import func, select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots.question import DEFAULT_QUESTIONS
from bot.reporting.report import build_report, report_csv
from storage.models import Answer, Delivery, DeliveryStatus, Participant, Purpose
from tests.conftest import RunningApp
from tests.pulse_helpers import (
    PEOPLE,
    answer_all,
    buttons,
    click,
    dm_channel,
    last_view,
    make_crowd_pilot,
    make_pilot,
    modal_values,
    pulse_message,
    remind,
    send,
)

VALUE = {spec.key: {o.label: o.value for o in spec.options} for spec in DEFAULT_QUESTIONS}


def _answers(app: RunningApp) -> list[Answer]:
    with app.deps.db.session() as session:
        return list(session.exec(select(Answer)).all())


def test_a_full_round_from_dm_to_report(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    result = send(app.deps)
    assert result.round_created and result.progress is not None
    assert result.progress.sent == 6 and result.progress.failed == 0
    dm = pulse_message(slack, "U0PERSON1")
    text = json.dumps(dm["blocks"], ensure_ascii=False)
    assert "How often did you use Copilot this week?" in text
    assert (
        "Only totals from 5 or more people are shared with the pilot team; your name is never attached."
        in text
    )
    assert [b["text"]["text"] for b in buttons(dm, "pulse_first")] == [
        "Not at all",
        "Once or twice",
        "Several times",
        "Daily",
    ]
    assert [b["text"]["text"] for b in buttons(dm, "pulse_controls")] == [
        "Pause for 2 weeks",
        "Stop these messages",
    ]

    # One click records the first answer at once and opens the modal with the rest.
    assert click(sender, slack, "U0PERSON1", "Daily").status_code == 200
    [stored] = _answers(app)
    assert stored.value_number == VALUE["usage"]["Daily"]
    view = last_view(slack, 1)
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert len(labels) == 5 and "How useful was Copilot for your work this week?" in labels
    update = slack.wait_for("chat.update")[0]
    assert "Got it: *Daily*" in json.dumps(update.params["blocks"])

    # The modal's answers are all stored; the DM turns into a thank-you with a change button.
    choices = {
        "useful": "4",
        "time": "1–2 h",
        "trust": "3",
        "recommend": "8",
        "got in the way": "Hard to trust it with <@U0PERSON2>'s tickets",
    }
    assert sender.view_submission("U0PERSON1", view, modal_values(view, choices)).status_code == 200
    answers = {a.question_id: a for a in _answers(app)}
    assert len(answers) == 6
    comment = next(a for a in answers.values() if a.text_raw)
    assert comment.text_scrubbed == "Hard to trust it with [person]'s tickets"
    thanks = slack.wait_for("chat.update", 2)[1]
    assert thanks.params["ts"] == dm["ts"]
    assert "Change my answers" in json.dumps(thanks.params["blocks"])

    # Changing answers: the modal comes prefilled, the change updates the same rows.
    slack.messages[dm_channel("U0PERSON1")][0]["blocks"] = thanks.params["blocks"]
    click(sender, slack, "U0PERSON1", "Change my answers", block_id="pulse_done")
    view = last_view(slack, 2)
    prefilled = {
        b["label"]["text"]: b["element"].get("initial_option", {}).get("value")
        for b in view["blocks"]
        if b["type"] == "input"
    }
    assert prefilled["How often did you use Copilot this week?"] == "3"
    assert prefilled["How useful was Copilot for your work this week?"] == "4"
    sender.view_submission(
        "U0PERSON1", view, modal_values(view, {"useful": "2", "got in the way": ""})
    )
    after = _answers(app)
    assert len(after) == 5  # the emptied comment is gone
    useful = next(
        a
        for a in after
        if a.question_id == next(q for q, a2 in answers.items() if a2.value_number == 4.0)
    )
    assert useful.value_number == 2.0


def test_double_clicks_and_replays_never_count_twice(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    message = dict(pulse_message(slack, "U0PERSON2"))
    several = buttons(message, "pulse_first")[2]

    def press(**kwargs: object) -> int:
        return sender.action(
            "U0PERSON2",
            several["action_id"],
            several["value"],
            message=message,
            channel_id=dm_channel("U0PERSON2"),
            block_id="pulse_first",
            **kwargs,
        ).status_code

    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(press())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    replay = press(headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert statuses == [200] * 4 and replay == 200
    answers = _answers(app)
    assert len(answers) == 1
    report = build_report(app.deps.db, "support-copilot", None, app.deps.clock())
    # One person answered: below the minimum group, so the count itself is withheld.
    assert report["responded"] is None
    with app.deps.db.session() as session:
        responded = session.exec(
            select(func.count(func.distinct(Delivery.participant_id))).join(
                Answer, Answer.delivery_id == Delivery.id
            )
        ).one()
    assert responded == 1


def test_report_numbers_match_what_people_answered(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    given = {
        "U0PERSON1": ("Daily", {"useful": "5", "time": "Over 2 h", "trust": "4", "recommend": "9"}),
        "U0PERSON2": (
            "Several times",
            {"useful": "4", "time": "1–2 h", "trust": "3", "recommend": "7"},
        ),
        "U0PERSON3": (
            "Once or twice",
            {"useful": "2", "time": "Under 30 min", "trust": "2", "recommend": "3"},
        ),
        "U0PERSON4": ("Daily", {"useful": "5", "time": "30–60 min", "trust": "5"}),
    }
    for index, (person, (first, rest)) in enumerate(given.items()):
        answer_all(sender, slack, person, first, rest, index)

    # Four people: every figure drawn from answers is withheld, with the reason.
    report = build_report(app.deps.db, "support-copilot", None, app.deps.clock())
    assert report["invited"] == 6
    assert report["responded"] is None and report["withheld"]["responded"] == "fewer than 5 people"
    assert all(q["mean"] is None and q["n"] is None for q in report["questions"])

    given["U0PERSON5"] = ("Not at all", {"useful": "1", "trust": "1", "recommend": "0"})
    answer_all(sender, slack, "U0PERSON5", *given["U0PERSON5"], len(given) - 1)
    report = build_report(app.deps.db, "support-copilot", None, app.deps.clock())
    assert report["responded"] == 5
    assert report["response_rate"] == round(5 / 6, 3)
    by_key = {q["key"]: q for q in report["questions"]}
    usage = [VALUE["usage"][first] for first, _ in given.values()]
    assert by_key["usage"]["n"] == 5 and by_key["usage"]["mean"] == round(statistics.mean(usage), 2)
    useful = [int(rest["useful"]) for _, rest in given.values()]
    assert by_key["usefulness"]["mean"] == round(statistics.mean(useful), 2)
    # Only four people said how much time it saved: that mean is withheld on its own.
    assert by_key["time_saved"]["n"] is None and by_key["time_saved"]["mean"] is None
    recommend = [int(rest["recommend"]) for _, rest in given.values() if "recommend" in rest]
    assert len(recommend) == 4 and by_key["recommend"]["mean"] is None
    # Each option stands for one or two people: every count is withheld, even at n = 5.
    given_counts = {
        label: [first for first, _ in given.values()].count(label) for label in VALUE["usage"]
    }
    assert given_counts == {"Not at all": 1, "Once or twice": 1, "Several times": 1, "Daily": 2}
    distribution = {
        o["label"]: (o["count"], o.get("withheld")) for o in by_key["usage"]["distribution"]
    }
    assert distribution == {label: (None, "fewer than 5 people") for label in given_counts}

    csv_text = report_csv(report)
    assert csv_text.splitlines()[1].startswith("support-copilot,")
    rows = {tuple(line.split(",")[2:4]): line for line in csv_text.splitlines()[1:]}
    assert rows[("mean", "usefulness")].split(",")[-3] == str(round(statistics.mean(useful), 2))
    assert rows[("mean", "time_saved")].endswith("fewer than 5 people")


def test_rate_limits_are_honoured_and_nobody_is_messaged_twice(
    app: RunningApp, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    slack.fail("chat.postMessage", status=429, retry_after=1, times=3)
    result = send(app.deps)
    assert result.progress is not None
    assert result.progress.sent == 6
    assert result.progress.rate_limited >= 1
    assert all(len(slack.messages[dm_channel(p)]) == 1 for p in PEOPLE)


def test_permanent_failures_are_recorded_with_their_reason(
    app: RunningApp, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    slack.error(
        "chat.postMessage",
        "user_not_found",
        when=lambda params: params.get("channel") == "U0PERSON3",
    )
    slack.error(
        "chat.postMessage",
        "cannot_dm_bot",
        when=lambda params: params.get("channel") == "U0PERSON4",
    )
    slack.fail("chat.postMessage", status=503, times=2)
    result = send(app.deps)
    assert result.progress is not None
    assert result.progress.sent == 4 and result.progress.failed == 2
    assert dict(result.progress.failures) == {"user_not_found": 1, "cannot_dm_bot": 1}
    with app.deps.db.session() as session:
        rows = session.exec(
            select(Participant.slack_user_id, Delivery.status, Delivery.failure_reason).join(
                Participant
            )
        ).all()
    failed = {user: reason for user, status, reason in rows if status == DeliveryStatus.FAILED}
    assert failed == {"U0PERSON3": "user_not_found", "U0PERSON4": "cannot_dm_bot"}
    # Sending again in the same period sends nothing new and says so.
    again = send(app.deps)
    assert again.progress is None and "nothing new was sent" in again.note


def test_two_concurrent_senders_send_each_dm_once(app: RunningApp, slack: SlackStandIn) -> None:
    from bot.outreach.compose import pulse_composer
    from bot.outreach.delivery import Sender, SendOptions
    from bot.outreach.round import open_round
    from bot.pilots.pilot import get_pilot
    from bot.pilots.question import questions_of
    from storage.models import RoundKind

    extra = make_crowd_pilot(app.deps, slack, "many", "U2", 120)
    with app.deps.db.session() as session:
        pilot = get_pilot(session, "many")
    opened = open_round(app.deps.db, pilot, RoundKind.PULSE, app.deps.clock(), close_after_days=6)
    with app.deps.db.session() as session:
        questions = tuple(questions_of(session, opened.round.question_set_id))
    slack.latency = 0.01
    results = []

    def run() -> None:
        sender = Sender(
            app.deps.db,
            app.deps.sending_client,
            pulse_composer(pilot, opened.round, questions),
            options=SendOptions(concurrency=4, rate=1000),
            batch=10,
        )
        results.append(sender.run(opened.round.id))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.sent for r in results) == 120
    assert all(r.sent > 0 for r in results), "both senders took part"
    assert sorted(len(slack.messages[dm_channel(u)]) for u in extra) == [1] * 120


def test_the_reminder_goes_once_to_those_who_have_not_answered(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    answer_all(sender, slack, "U0PERSON1", "Daily", {"useful": "4"}, 0)
    click(sender, slack, "U0PERSON2", "Once or twice")
    click(sender, slack, "U0PERSON3", "Pause for 2 weeks", block_id="pulse_controls")
    slack.wait_for("response_url")
    # Within 20 working hours of the pulse a reminder would be nagging: it waits.
    early = remind(app.deps)
    assert early.progress is not None and early.progress.sent == 0
    assert early.progress.waiting == 3
    assert all(len(slack.messages[dm_channel(user)]) == 1 for user in PEOPLE)
    travel.shift(timedelta(days=1))
    result = remind(app.deps)
    assert result.progress is not None and result.progress.sent == 3
    reminded = {user for user in PEOPLE if len(slack.messages[dm_channel(user)]) == 2}
    assert reminded == {"U0PERSON4", "U0PERSON5", "U0PERSON6"}
    nudge = slack.messages[dm_channel("U0PERSON4")][1]
    assert "friendly nudge" in json.dumps(nudge["blocks"])
    # Answering from the reminder counts on the same delivery as the first message.
    click(sender, slack, "U0PERSON4", "Daily", message_index=1)
    with app.deps.db.session() as session:
        purposes = session.exec(
            select(Delivery.purpose).join(Answer, Answer.delivery_id == Delivery.id)
        ).all()
    assert set(purposes) == {Purpose.INVITE}
    again = remind(app.deps)
    assert again.progress is None and "sent already" in again.note
    assert all(len(slack.messages[dm_channel(u)]) <= 2 for u in PEOPLE)


def test_pause_and_stop_take_effect_at_once_and_are_confirmed(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    click(sender, slack, "U0PERSON1", "Pause for 2 weeks", block_id="pulse_controls")
    [paused] = slack.wait_for("response_url")
    assert paused.params["response_type"] == "ephemeral"
    assert "Paused until" in paused.params["text"]
    click(sender, slack, "U0PERSON2", "Stop these messages", block_id="pulse_controls")
    stopped = slack.wait_for("response_url", 2)[1]
    assert "won't get pilot-pulse messages" in json.dumps(stopped.params["blocks"])
    with app.deps.db.session() as session:
        people = {p.slack_user_id: p for p in session.exec(select(Participant)).all()}
    now = app.deps.clock()
    assert timedelta(days=13) < people["U0PERSON1"].paused_until - now <= timedelta(days=14)
    assert people["U0PERSON2"].opted_out_at is not None
    # Nothing more reaches them: not the reminder, not next week's pulse.
    remind(app.deps)
    app.deps.clock = lambda: now + timedelta(days=7)
    result = send(app.deps)
    assert result.round_created and result.progress is not None and result.progress.sent == 4
    assert len(slack.messages[dm_channel("U0PERSON1")]) == 1
    assert len(slack.messages[dm_channel("U0PERSON2")]) == 1
    # Resume from the confirmation brings them back.
    resume = stopped.params["blocks"][1]["elements"][0]
    sender.action("U0PERSON2", resume["action_id"], resume["value"])
    slack.wait_for("response_url", 3)
    with app.deps.db.session() as session:
        person = session.exec(
            select(Participant).where(Participant.slack_user_id == "U0PERSON2")
        ).one()
    assert person.opted_out_at is None


def test_a_click_after_the_round_closed_gets_a_polite_reply(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    opened = app.deps.clock()
    app.deps.clock = lambda: opened + timedelta(days=6, minutes=1)
    click(sender, slack, "U0PERSON1", "Daily")
    [reply] = slack.wait_for("response_url")
    assert reply.params["response_type"] == "ephemeral"
    assert "closed on" in reply.params["text"]
    assert _answers(app) == []


def test_someone_elses_button_is_refused(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    message = pulse_message(slack, "U0PERSON1")
    daily = buttons(message, "pulse_first")[3]
    sender.action("U0PERSON2", daily["action_id"], daily["value"])
    [reply] = slack.wait_for("response_url")
    assert "isn't yours" in reply.params["text"]
    assert _answers(app) == []


def test_pilot_status_shows_live_figures_and_withholds_small_groups(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    for index, person in enumerate(PEOPLE[:5]):
        answer_all(sender, slack, person, "Daily", {"useful": str(index + 1)}, index)
    slack.clear()
    sender.command("U0CHAMPION")
    [reply] = slack.wait_for("response_url")
    text = json.dumps(reply.params["blocks"], ensure_ascii=False)
    assert "sent to 6 · delivered 6 · failed 0" in text
    assert "Answered*: 5 (83%)" in text
    assert "Usefulness: *3.0* / 5" in text
    # Only five answered the usage question and the rest skipped time saved: withheld.
    assert "Time saved: _withheld" in text
    sender.command("U0PERSON1")
    refusal = slack.wait_for("response_url", 2)[1]
    assert "blocks" not in refusal.params or not refusal.params["blocks"]
    assert "3.0" not in refusal.params["text"]


@pytest.mark.parametrize("bad", ["not-a-value", "999999:1:3", "1:999:3"])
def test_forged_button_values_store_nothing(
    bad: str, app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    response = sender.action("U0PERSON1", "pulse_answer_0", bad)
    assert response.status_code == 200
    assert _answers(app) == []


def test_a_killed_sender_loses_nothing_and_a_rerun_finishes(
    app: RunningApp, slack: SlackStandIn, db_url: str, tmp_path
) -> None:
    import os
    import signal
    import subprocess
    import time

    from tests.conftest import SIGNING_SECRET, command_now

    people = make_crowd_pilot(app.deps, slack, "kill", "U3", 300)
    slack.latency = 0.02
    slack.rate_limit("chat.postMessage", 100)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))},
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": db_url,
        "SEND_CONCURRENCY": "8",
    }
    command = command_now("pulse", "send", "kill")
    first = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while slack.sent_count("chat.postMessage") < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    sent_before = slack.sent_count("chat.postMessage")
    assert 100 <= sent_before < 300, "the kill came mid-run"

    # (A command line made now: the second run starts at this moment of the test's time.)
    second = subprocess.run(
        command_now("pulse", "send", "kill"),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 0, second.stderr
    assert "interrupted" in second.stdout
    counts = [len(slack.messages.get(dm_channel(user), [])) for user in people]
    assert min(counts) == 1, "nobody is left out"
    # Only the handful in flight at the kill may have been sent twice.
    assert sum(counts) - len(people) <= 16
    with app.deps.db.session() as session:
        statuses = session.exec(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        ).all()
    assert dict(statuses) == {DeliveryStatus.SENT: 300}


def test_a_champion_nudges_non_responders_without_learning_who(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, travel: time_machine.Coordinates
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    click(sender, slack, "U0PERSON1", "Daily")
    travel.shift(timedelta(days=1))
    slack.clear()
    sender.command("U0CHAMPION")
    [status] = slack.wait_for("response_url")
    nudge = next(b for b in status.params["blocks"] if b.get("block_id") == "status_nudge")[
        "elements"
    ][0]
    sender.action("U0CHAMPION", nudge["action_id"], nudge["value"])
    reply = slack.wait_for("response_url", 2)[1]
    # Never how many: with "delivered 6" shown, that would give away the withheld count.
    assert (
        reply.params["text"]
        == "This week's reminder is on its way to anyone who hasn't answered yet."
    )
    assert "U0PERSON" not in json.dumps(reply.params)
    assert [len(slack.messages[dm_channel(p)]) for p in PEOPLE] == [1, 2, 2, 2, 2, 2]
    # A second nudge, or one from someone who is not a champion, sends nothing.
    sender.action("U0CHAMPION", nudge["action_id"], nudge["value"])
    sender.action("U0PERSON2", nudge["action_id"], nudge["value"])
    replies = slack.wait_for("response_url", 4)
    texts = {r.params["text"] for r in replies[2:]}
    assert "This week's reminder has gone out already; nobody is reminded twice." in texts
    assert any("is for a pilot's champions" in text for text in texts)
    assert [len(slack.messages[dm_channel(p)]) for p in PEOPLE] == [1, 2, 2, 2, 2, 2]


def test_the_home_tab_pauses_stops_and_starts_again(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)

    def open_home() -> dict:
        count = len(slack.calls_to("views.publish")) + 1
        sender.event(
            {"type": "app_home_opened", "user": "U0PERSON3", "tab": "home", "channel": "D0"}
        )
        return slack.wait_for("views.publish", count)[-1].params["view"]

    def press(view: dict, label: str) -> dict:
        count = len(slack.calls_to("views.publish")) + 1
        element = next(
            e
            for b in view["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"] == label
        )
        payload = {
            "type": "block_actions",
            "team": {"id": slack.team_id},
            "user": {"id": "U0PERSON3"},
            "api_app_id": "A0PULSE",
            "trigger_id": "1.2",
            "view": {"id": "V1", "type": "home", "blocks": view["blocks"]},
            "actions": [
                {
                    "action_id": element["action_id"],
                    "block_id": "b",
                    "type": "button",
                    "value": element["value"],
                }
            ],
        }
        assert sender.interaction(payload).status_code == 200
        return slack.wait_for("views.publish", count)[-1].params["view"]

    view = open_home()
    assert "you get the weekly pulse" in json.dumps(view)
    view = press(view, "Pause for 2 weeks")
    assert "paused until" in json.dumps(view) and "Resume now" in json.dumps(view)
    send(app.deps)
    assert dm_channel("U0PERSON3") not in slack.messages
    view = press(view, "Resume now")
    view = press(view, "Stop these messages")
    assert "you have stopped these messages" in json.dumps(view)
    view = press(view, "Start again")
    assert "you get the weekly pulse" in json.dumps(view)
    # Someone else's subject in a forged payload changes nothing.
    with app.deps.db.session() as session:
        other = session.exec(
            select(Participant).where(Participant.slack_user_id == "U0PERSON4")
        ).one()
    forged = {
        "type": "block_actions",
        "team": {"id": slack.team_id},
        "user": {"id": "U0PERSON3"},
        "api_app_id": "A0PULSE",
        "trigger_id": "1.2",
        "view": {"id": "V1", "type": "home", "blocks": []},
        "actions": [
            {"action_id": "pulse_stop", "block_id": "b", "type": "button", "value": f"p:{other.id}"}
        ],
    }
    sender.interaction(forged)
    with app.deps.db.session() as session:
        assert session.get(Participant, other.id).opted_out_at is None


def test_a_champion_who_answers_too_needs_one_more_person_and_small_counts_stay_hidden(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    from bot.pilots.pilot import PilotSpec, create_pilot

    create_pilot(
        app.deps.db,
        app.deps.client,
        PilotSpec(
            name="support-copilot",
            tool="Copilot",
            leadership_channel="C0LEADERS",
            members=tuple(PEOPLE),
            champions=("U0PERSON1",),
        ),
    )
    send(app.deps)
    for index, person in enumerate(PEOPLE[:5]):
        answer_all(sender, slack, person, "Daily", {"useful": "4"}, index)
    click(sender, slack, "U0PERSON6", "Stop these messages", block_id="pulse_controls")
    slack.wait_for("response_url")
    report = build_report(app.deps.db, "support-copilot", None, app.deps.clock())
    assert report["responded"] == 5  # the operator's report: five people
    assert (
        report["people"]["opted_out"] is None
        and report["withheld"]["opted_out"] == "fewer than 5 people"
    )
    slack.clear()
    sender.command("U0PERSON1")
    [status] = slack.wait_for("response_url")
    text = json.dumps(status.params["blocks"], ensure_ascii=False)
    # The champion answered too: four others are not enough for them to see the figures.
    assert "fewer than 6 people so far" in text
    assert "Usefulness" not in text
    assert "fewer than 6 opted out" in text


def test_a_round_still_open_next_week_is_what_status_and_reminders_see(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    from bot.pilots import period as periods

    make_pilot(app.deps)
    sent_at = app.deps.clock()
    send(app.deps)
    # Monday of the next ISO week, while last week's round is still open (it closes 6 days on).
    next_period = periods.shift(periods.period_of(sent_at, "America/New_York"), 1)
    # (10:00 in New York: working hours for everyone.)
    monday = periods.period_bounds(next_period, "America/New_York")[0] + timedelta(hours=10)
    app.deps.clock = lambda: min(monday, sent_at + timedelta(days=5, hours=23))
    result = remind(app.deps)
    assert result.progress is not None and result.progress.sent == 6
    slack.clear()
    sender.command("U0CHAMPION")
    [status] = slack.wait_for("response_url")
    assert periods.period_of(sent_at, "America/New_York") in json.dumps(status.params["blocks"])


def test_what_is_left_of_a_closed_round_is_not_sent(app: RunningApp, slack: SlackStandIn) -> None:
    from dataclasses import replace

    from bot.outreach.round import open_round
    from bot.outreach.sending import send_round
    from bot.pilots import period as periods
    from bot.pilots.pilot import get_pilot
    from storage.models import RoundKind

    make_pilot(app.deps)
    with app.deps.db.session() as session:
        pilot = get_pilot(session, "support-copilot")
    # A one-day round opened on a Monday and left unsent, looked at on the Wednesday.
    period = periods.period_of(app.deps.clock(), pilot.timezone)
    monday = periods.slot_in_period(period, pilot.timezone, 0, 9)
    open_round(app.deps.db, pilot, RoundKind.PULSE, monday, close_after_days=1)
    options = replace(app.deps.send_options, round_close_days=1)
    result = send_round(
        app.deps.db,
        app.deps.sending_client,
        "support-copilot",
        kind=RoundKind.PULSE,
        now=monday + timedelta(days=2),
        options=options,
    )
    assert result.progress is None and "closed on" in result.note
    assert slack.calls_to("chat.postMessage") == []


def test_counts_that_would_give_a_withheld_one_away_are_withheld_with_it(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, tmp_path
) -> None:
    from bot.pilots.pilot import get_pilot
    from bot.pilots.question import import_questions, parse_toml

    make_pilot(app.deps)
    two_options = (
        '[[question]]\nkey = "used"\nkind = "choice"\ntext = "Did you use {tool}?"\n'
        'options = [{value = 0, label = "No"}, {value = 1, label = "Yes"}]\n'
    )
    with app.deps.db.transaction() as session:
        import_questions(session, get_pilot(session, "support-copilot"), parse_toml(two_options))
    # One person stops before the pulse: six members, five recipients.
    with app.deps.db.transaction() as session:
        person = session.exec(
            select(Participant).where(Participant.slack_user_id == "U0PERSON6")
        ).one()
        person.opted_out_at = app.deps.clock()
        session.add(person)
    send(app.deps)
    for person in PEOPLE[:4]:
        click(sender, slack, person, "Yes")
    click(sender, slack, "U0PERSON5", "No")
    report = build_report(app.deps.db, "support-copilot", None, app.deps.clock())
    assert report["responded"] == 5
    [used] = report["questions"]
    # One "No": its count is withheld, so is "Yes" (5 - 4 = 1), and so is the mean (0.8).
    assert [option["count"] for option in used["distribution"]] == [None, None]
    assert used["mean"] is None and used["n"] == 5
    # Six members minus five recipients would show that one person stopped.
    assert (
        report["people"]["members"] is None and "paused or stopped" in report["withheld"]["members"]
    )


def test_a_form_slack_no_longer_waits_for_asks_the_person_to_press_again(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    """Slack's trigger lives three seconds; when the work after the ack starts later than that
    (a busy process), "Answer the rest" says so instead of failing in silence."""
    make_pilot(app.deps)
    send(app.deps)
    assert click(sender, slack, "U0PERSON1", "Daily").status_code == 200
    last_view(slack, 1)
    slack.wait_for("chat.update")
    slack.trigger_ttl = 0.0  # every trigger has expired by the time it is used
    assert click(sender, slack, "U0PERSON1", "Answer the rest", block_id="pulse_progress")
    [reply] = slack.wait_for("response_url")
    assert reply.params["response_type"] == "ephemeral"
    assert "press the button again" in reply.params["text"]
    assert len(slack.calls_to("views.open")) == 2  # tried, refused
    assert len(slack.views) == 1
    # Pressed again in good time, the form opens; the first answer was kept all along.
    slack.trigger_ttl = 3.0
    assert click(sender, slack, "U0PERSON1", "Answer the rest", block_id="pulse_progress")
    view = last_view(slack, 3)
    assert len(slack.views) == 2 and view["type"] == "modal"
    assert [a.value_number for a in _answers(app)] == [VALUE["usage"]["Daily"]]
