"""`pilot-pulse report` through the CLI: the contract's JSON fields, CSV, periods, bad input."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots import period as periods
from bot.runtime.cli import main
from tests.conftest import RunningApp
from tests.pulse_helpers import PEOPLE, answer_all, make_pilot, send


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_report_json_and_csv_carry_the_contract_fields(
    env: dict,
    app: RunningApp,
    sender: SlackSender,
    slack: SlackStandIn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    useful = ["5", "4", "4", "3", "2", "1"]
    for index, person in enumerate(PEOPLE):
        answer_all(sender, slack, person, "Daily", {"useful": useful[index]}, index)
    code, out, err = run(capsys, "report", "support-copilot")
    assert code == 0, err
    report = json.loads(out)
    for field in (
        "pilot",
        "period",
        "invited",
        "responded",
        "response_rate",
        "questions",
        "sentiment",
        "themes",
        "checkins",
    ):
        assert field in report
    assert report["invited"] == 6 and report["responded"] == 6 and report["response_rate"] == 1.0
    usefulness = next(q for q in report["questions"] if q["key"] == "usefulness")
    assert usefulness["n"] == 6
    assert usefulness["mean"] == round(sum(map(int, useful)) / 6, 2)
    assert {"key", "text", "kind", "min", "max", "n", "mean"} <= set(usefulness)

    code, out, _ = run(capsys, "report", "support-copilot", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    by_metric = {(r["metric"], r["key"]): r for r in rows}
    assert by_metric[("invited", "")]["value"] == "6"
    assert by_metric[("mean", "usefulness")]["value"] == str(usefulness["mean"])
    assert by_metric[("sentiment", "")]["withheld"] == "fewer than 5 people"
    # Adoption: all six used it (no one in the "did not" group), nobody rated "recommend".
    assert report["adoption"]["weekly_usage"] == 1.0 and report["adoption"]["weekly_usage_n"] == 6
    assert by_metric[("weekly_usage", "")]["value"] == "1.0"
    assert by_metric[("nps", "")]["value"] == "" and by_metric[("nps", "")]["withheld"]


def test_report_for_another_period_and_bad_periods(
    env: dict, app: RunningApp, capsys: pytest.CaptureFixture[str]
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    current = periods.period_of(app.deps.clock(), "America/New_York")
    code, out, _ = run(capsys, "report", "support-copilot", "--period", periods.previous(current))
    assert code == 0
    earlier = json.loads(out)
    assert earlier["period"] == periods.previous(current) and earlier["invited"] == 0
    assert (
        earlier["responded"] is None and earlier["withheld"]["sentiment"] == "fewer than 5 people"
    )
    for bad in ("2026-48", "2025-W53"):
        code, _, err = run(capsys, "report", "support-copilot", "--period", bad)
        assert code == 1 and err.count("\n") == 1
    code, _, err = run(capsys, "report", "nobody")
    assert code == 1 and "no pilot called 'nobody'" in err
