"""The AI tool's own usage, imported beside what people say: every format through the command
line, matching by e-mail, Slack id and --identities, all or nothing, re-import, the figures and
the minimum-group rule in the report, /pilot-status and the digest, and the upload in a DM.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots.pilot import PilotSpec, create_pilot
from bot.runtime.cli import main
from bot.runtime.deps import Deps
from bot.usage.formats import week_of
from storage.models import UsageDay
from tests.conftest import RunningApp

DATA = Path(__file__).parent / "data" / "usage"
PILOT = "usage-pilot"
# The fixtures' people, as the workspace knows them.
PEOPLE = {
    "U0ANA00001": "ana@example.com",
    "U0BEN00001": "ben@example.com",
    "U0CARLA001": "carla@example.com",
    "U0DAN00001": "dan@example.com",
    "U0EVE00001": "eve@example.com",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def make(deps: Deps, slack: SlackStandIn, members: list[str], *, minimum: int = 3) -> None:
    for user_id, email in PEOPLE.items():
        name = email.split("@")[0].title()
        slack.add_user(user_id, real_name=f"{name} Example", display_name=name, email=email)
    slack.add_user("U0OUTSIDER", real_name="Olga Outside", email="olga@example.com")
    create_pilot(
        deps.db,
        deps.client,
        PilotSpec(
            name=PILOT,
            tool="Copilot",
            leadership_channel="C0LEADERS",
            members=tuple(members),
            champions=("U0CHAMPION",),
            min_group_size=minimum,
        ),
    )


def days(deps: Deps) -> list[tuple[str, date, bool, int | None]]:
    with deps.db.session() as session:
        from storage.models import Participant

        rows = session.exec(
            select(Participant.slack_user_id, UsageDay.day, UsageDay.active, UsageDay.uses)
            .join(Participant, Participant.id == UsageDay.participant_id)
            .order_by(Participant.slack_user_id, UsageDay.day)
        ).all()
    return [tuple(row) for row in rows]


def test_a_generic_csv_is_imported_and_matched_by_email_and_slack_id(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    make(deps, slack, ["U0ANA00001", "U0BEN00001", "U0CARLA001"])
    code, out, err = run(capsys, "usage", "import", PILOT, str(DATA / "generic.csv"))
    assert code == 0, err
    assert "imported csv usage for usage-pilot: 8 rows read, 3 members matched" in out
    assert "weeks 2026-W47 to 2026-W48 (2 weeks)" in out
    assert "1 identities are not members" in out and "dan@example.com" in out
    stored = days(deps)
    assert ("U0ANA00001", date(2026, 11, 18), True, 3) in stored or any(
        r[0] == "U0ANA00001" and r[2] for r in stored
    )
    assert not any(r[0] == "U0DAN00001" for r in stored)  # not a member: nothing stored
    # Importing the same file again changes nothing.
    code, again, _ = run(capsys, "usage", "import", PILOT, str(DATA / "generic.csv"))
    assert code == 0 and days(deps) == stored and again.splitlines()[0] == out.splitlines()[0]


@pytest.mark.parametrize(
    ("fixture", "extra", "first_line"),
    [
        ("github-copilot.ndjson", ["--identities"], "imported github-copilot usage"),
        ("m365-copilot.csv", [], "imported m365-copilot usage"),
        ("chatgpt-enterprise.csv", [], "imported chatgpt-enterprise usage"),
    ],
)
def test_each_export_format_imports(
    env: dict,
    deps: Deps,
    slack: SlackStandIn,
    capsys: pytest.CaptureFixture[str],
    fixture: str,
    extra: list[str],
    first_line: str,
) -> None:
    make(deps, slack, list(PEOPLE))
    args = ["usage", "import", PILOT, str(DATA / fixture)]
    if extra:
        args += [extra[0], str(DATA / "identities.csv")]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert out.startswith(first_line)
    assert days(deps), "nothing stored"
    if fixture.startswith("m365"):
        assert all(uses is None for _, _, _, uses in days(deps))  # no counts in that report


@pytest.mark.parametrize(
    ("fixture", "words"),
    [
        ("bad-date.csv", "line 4: 'date' is '2026/11/18'"),
        ("negative.csv", "line 3: 'uses' is -3"),
        ("missing-column.csv", "no 'uses' column"),
        ("m365-concealed.csv", "Display concealed user, group, and site names"),
    ],
)
def test_a_malformed_or_concealed_export_is_refused_whole(
    env: dict,
    deps: Deps,
    slack: SlackStandIn,
    capsys: pytest.CaptureFixture[str],
    fixture: str,
    words: str,
) -> None:
    make(deps, slack, list(PEOPLE))
    code, _, err = run(capsys, "usage", "import", PILOT, str(DATA / fixture))
    assert code == 1 and words in err and err.count("\n") == 1
    assert days(deps) == []


def test_github_copilot_needs_identities(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    make(deps, slack, list(PEOPLE))
    code, _, err = run(capsys, "usage", "import", PILOT, str(DATA / "github-copilot.ndjson"))
    assert code == 1 and "--identities" in err
    assert days(deps) == []


def _export(rows: list[tuple[str, date, int]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user", "date", "uses"])
    writer.writerows((user, day.isoformat(), uses) for user, day, uses in rows)
    return out.getvalue()


def test_the_figures_follow_the_export_and_the_minimum_group(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    members = list(PEOPLE)  # five members
    make(deps, slack, members)
    # Monday of the current ISO week and of the week before the pilot began.
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    before = monday - timedelta(weeks=2)
    rows = [(u, monday, 5 + i) for i, u in enumerate(members[:4])]  # 4 of 5 active
    rows += [(members[4], monday, 0)]
    rows += [(u, before, 2) for u in members[:3]] + [(u, before, 0) for u in members[3:]]
    export = tmp_path / "usage.csv"
    export.write_text(_export(rows))
    code, _, err = run(capsys, "usage", "import", PILOT, str(export))
    assert code == 0, err
    # This week: 4 active, 1 not: with a minimum group of 3, one inactive person would show.
    code, out, _ = run(capsys, "report", PILOT)
    report = json.loads(out)
    assert report["usage"]["active_users"] is None and report["usage"]["active_share"] is None
    assert "fewer than 3" in report["withheld"]["usage.active_users"]
    # The baseline (3 of 5 before the pilot) is withheld too, and says why.
    assert report["usage_before_pilot"] is None
    assert "fewer than 3" in report["withheld"]["usage_before_pilot"]
    # Two weeks before (before the pilot began): 3 active of 5, 2 not: also withheld.
    code, out, _ = run(capsys, "report", PILOT, "--period", week_of(before))
    assert json.loads(out)["usage"]["active_users"] is None
    # With everyone active this week the figures show (nobody in the other group).
    export.write_text(_export([(u, monday, 4) for u in members]))
    run(capsys, "usage", "import", PILOT, str(export))
    code, out, _ = run(capsys, "report", PILOT)
    usage = json.loads(out)["usage"]
    assert usage == {
        "source": "csv",
        "active_users": 5,
        "active_share": 1.0,
        "uses_per_active_user": 4.0,
    }
    code, out, _ = run(capsys, "report", PILOT, "--format", "csv")
    by_metric = {row["metric"]: row for row in csv.DictReader(io.StringIO(out))}
    assert by_metric["usage_active_users"]["value"] == "5"
    assert by_metric["usage_uses_per_active_user"]["value"] == "4.0"


def test_status_and_the_digest_show_actual_use_beside_what_people_said(
    deps: Deps, slack: SlackStandIn, tmp_path
) -> None:
    from bot.reporting.status import status_reply
    from bot.reporting.weekly_digest import compose_digest
    from bot.usage.activity import import_usage
    from bot.views.digest import digest_plain

    members = list(PEOPLE)
    make(deps, slack, members)
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(weeks=3)
    from bot.devkit.history import backdate_pilot

    backdate_pilot(
        deps.db, PILOT, datetime.combine(monday - timedelta(weeks=1), datetime.min.time(), UTC)
    )
    rows = [(u, start, 0) for u in members]  # before the pilot: nobody used it
    rows += [(u, monday, 3) for u in members]  # now: everyone
    import_usage(deps.db, deps.client, PILOT, _export(rows).encode(), now=datetime.now(UTC))
    reply = status_reply(deps.db, "U0CHAMPION", PILOT, datetime.now(UTC))
    text = json.dumps(reply.blocks)
    assert "Actually active" in text and "5 (100% of 5)" in text and "3 uses each" in text
    # A week whose pulse enough people answered (a short digest shows no figure about people).
    from bot.analysis.local import LocalAnalyzer
    from bot.devkit.history import simulate_week

    answers = {
        u: {"usage": 2, "usefulness": 4, "time_saved": 45, "trust": 4, "recommend": 8}
        for u in members
    }
    simulate_week(deps.db, deps.sending_client, PILOT, datetime.now(UTC), answers, LocalAnalyzer())
    content = compose_digest(deps.db, PILOT, None, datetime.now(UTC))
    plain = digest_plain(content)
    assert "Actually active (GitHub" not in plain  # the source is named as imported: csv
    assert "Actually active" in plain and "100% (5 people, 3 uses each)" in plain


def test_a_champion_uploads_the_export_in_a_dm(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make(app.deps, slack, ["U0ANA00001", "U0BEN00001", "U0CARLA001"])
    data = (DATA / "generic.csv").read_bytes()
    event = slack.share_file_in_dm("U0CHAMPION", "usage.csv", data, text="usage-pilot")
    assert sender.event(event).status_code == 200
    deadline = time.monotonic() + 10
    replies: list = []
    while time.monotonic() < deadline and not replies:
        replies = [
            c
            for c in slack.calls_to("chat.postMessage")
            if "imported csv usage" in c.params.get("text", "")
        ]
        time.sleep(0.05)
    assert replies and "3 members matched" in replies[0].params["text"]
    assert days(app.deps)
    # A malformed file gets the same one-line error, and nothing changes.
    before = days(app.deps)
    bad = slack.share_file_in_dm(
        "U0CHAMPION", "bad.csv", (DATA / "negative.csv").read_bytes(), text="usage-pilot"
    )
    sender.event(bad)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        "Not imported" in c.params.get("text", "") for c in slack.calls_to("chat.postMessage")
    ):
        time.sleep(0.05)
    assert any(
        "line 3: 'uses' is -3" in c.params.get("text", "")
        for c in slack.calls_to("chat.postMessage")
    )
    assert days(app.deps) == before
