"""The digest's trend chart: a valid, wide PNG; withheld figures drawn as gaps; honest alt text."""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import threading
from dataclasses import replace

import matplotlib
import pytest

from bot.pilots.period import shift
from bot.reporting import chart
from bot.reporting.chart import TrendPoint, render_trend_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def weeks(count: int, last: str = "2026-W48") -> list[TrendPoint]:
    """`count` consecutive weeks ending with `last`, every figure known and slowly rising."""
    return [
        TrendPoint(
            period=shift(last, i - count + 1),
            response_rate=0.5 + 0.02 * i,
            usefulness=3.0 + 0.05 * i,
            usefulness_max=5,
            sentiment=-0.1 + 0.03 * i,
            weekly_usage=0.4 + 0.03 * i,
        )
        for i in range(count)
    ]


def withheld(period: str) -> TrendPoint:
    return TrendPoint(period, None, None, 5, None, None)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", png[16:24])


def lines_by_series(figure) -> dict[str, list[float]]:
    return {
        line.get_gid(): [float(y) for y in line.get_ydata()]
        for ax in figure.axes
        for line in ax.get_lines()
        if line.get_gid()
    }


def test_the_chart_is_a_png_wide_enough_for_a_phone() -> None:
    result = render_trend_chart(weeks(10), title="Copilot pilot")
    assert result is not None
    width, height = png_size(result.png)
    assert (width, height) == (result.width_px, result.height_px)
    assert width >= 1000 and height >= 600
    assert result.png.endswith(b"IEND\xaeB`\x82")


def test_alt_text_names_each_figure_with_its_first_and_last_value() -> None:
    result = render_trend_chart(weeks(8), title="Copilot pilot")
    assert result is not None
    text = result.alt_text
    assert text.startswith("Copilot pilot: chart of 8 weeks, 2026-W41 to 2026-W48.")
    assert "Response rate rose from 50% (W41) to 64% (W48)" in text
    assert "weekly use rose from 40% (W41) to 61% (W48)" in text
    assert "usefulness rose from 3.0 (W41) to 3.4 of 5 (W48)" in text
    assert "sentiment rose from −0.10 (W41) to +0.11 (W48)" in text
    assert "gap" not in text
    assert len(text) <= 1000


def test_alt_text_says_where_answers_were_too_few() -> None:
    points = weeks(8)
    points[2] = withheld(points[2].period)
    points = [replace(p, sentiment=None) for p in points]
    points[-1] = replace(points[-1], response_rate=None)
    result = render_trend_chart(points, title="Pilot")
    assert result is not None
    assert "sentiment: not enough answers in any week" in result.alt_text
    # The last known response rate is the one before the withheld week, and says which week.
    assert "Response rate rose from 50% (W41) to 62% (W47)" in result.alt_text
    # Sentiment, withheld throughout, has no line to break: only the other lines' gaps are named.
    assert result.alt_text.endswith("Weeks with too few answers are gaps (W43, W48).")


def test_alt_text_fits_slack_with_a_very_long_title() -> None:
    result = render_trend_chart(weeks(12), title="A pilot with a long name " * 80)
    assert result is not None
    assert len(result.alt_text) <= 1000
    assert "sentiment rose" in result.alt_text


def test_withheld_figures_are_gaps_not_zeros() -> None:
    points = weeks(8)
    points[3] = withheld(points[3].period)  # every figure withheld: the week stays on the axis
    points[5] = replace(points[5], usefulness=None, weekly_usage=None)
    frame = chart._prepare(points)
    assert frame is not None
    assert len(frame.periods) == 8 and frame.periods[3] == points[3].period
    for key in ("response_rate", "usefulness", "sentiment", "weekly_usage"):
        assert math.isnan(frame.series[key][3]), key
    assert math.isnan(frame.series["usefulness"][5])
    assert math.isnan(frame.series["weekly_usage"][5])
    assert frame.series["response_rate"][5] == pytest.approx(0.6)
    assert frame.series["sentiment"][5] == pytest.approx(0.05)

    # And those are the very values on the lines drawn: NaN, which matplotlib does not join.
    drawn = lines_by_series(chart._build_figure(frame, "Pilot"))
    assert set(drawn) == {"response_rate", "usefulness", "sentiment", "weekly_usage"}
    for key, values in drawn.items():
        assert len(values) == 8
        assert math.isnan(values[3])
        assert not any(v == 0 for v in values), key
    assert math.isnan(drawn["usefulness"][5]) and not math.isnan(drawn["response_rate"][5])


def test_every_point_has_a_marker_so_a_lone_week_between_gaps_shows() -> None:
    points = weeks(6)
    points[1] = replace(points[1], sentiment=None)
    points[3] = replace(points[3], sentiment=None)
    frame = chart._prepare(points)
    assert frame is not None
    figure = chart._build_figure(frame, "Pilot")
    for ax in figure.axes:
        for line in ax.get_lines():
            if line.get_gid():
                assert line.get_marker() not in ("None", "", None)
                assert line.get_markersize() >= 8 and line.get_linewidth() >= 3


def test_a_week_missing_from_the_input_is_a_gap_on_the_axis() -> None:
    points = [p for p in weeks(6) if p.period != "2026-W45"]
    frame = chart._prepare(points)
    assert frame is not None
    assert frame.periods == [f"2026-W{w}" for w in range(43, 49)]
    assert all(math.isnan(values[2]) for values in frame.series.values())


def test_week_labels_give_the_year_where_it_changes() -> None:
    frame = chart._prepare(weeks(5, last="2027-W02"))
    assert frame is not None
    assert frame.labels == ["W51\n2026", "W52", "W53", "W01\n2027", "W02"]


@pytest.mark.parametrize(
    "points",
    [
        [],
        weeks(1),
        [withheld("2026-W47"), weeks(1)[0]],
        [withheld(p.period) for p in weeks(6)],
    ],
    ids=["nothing", "one week", "one week with figures", "all withheld"],
)
def test_no_chart_without_two_weeks_of_figures(points: list[TrendPoint]) -> None:
    assert render_trend_chart(points, title="Pilot") is None


def test_two_weeks_with_one_figure_each_are_a_trend() -> None:
    points = [
        TrendPoint("2026-W47", 0.5, None, None, None, None),
        TrendPoint("2026-W48", None, None, None, 0.1, None),
    ]
    result = render_trend_chart(points, title="Pilot")
    assert result is not None
    assert "Response rate 50% in W47, the only week with enough answers" in result.alt_text
    assert "sentiment +0.10 in W48, the only week" in result.alt_text


def test_only_the_last_twelve_weeks_are_drawn() -> None:
    points = weeks(13)
    frame = chart._prepare(list(reversed(points)))  # order of the input does not matter
    assert frame is not None
    assert frame.periods == [p.period for p in points[1:]]
    figure = chart._build_figure(frame, "Pilot")
    assert all(len(values) == 12 for values in lines_by_series(figure).values())
    result = render_trend_chart(points, title="Pilot")
    assert result is not None and "chart of 12 weeks, 2026-W37 to 2026-W48" in result.alt_text


def test_a_period_given_twice_is_refused() -> None:
    points = weeks(3)
    with pytest.raises(ValueError, match="given twice"):
        render_trend_chart([*points, points[0]], title="Pilot")


def test_same_figures_give_the_same_bytes() -> None:
    points = weeks(12)
    points[4] = withheld(points[4].period)
    first = render_trend_chart(points, title="Pilot")
    second = render_trend_chart(list(points), title="Pilot")
    assert first is not None and second is not None
    assert first.png == second.png
    assert b"tEXt" not in first.png and b"tIME" not in first.png


def test_rendering_from_threads_matches_the_main_thread() -> None:
    points = weeks(12)
    expected = render_trend_chart(points, title="Pilot")
    assert expected is not None
    results: list[bytes | None] = [None] * 4
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            rendered = render_trend_chart(points, title="Pilot")
            results[index] = rendered.png if rendered else None
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert results == [expected.png] * 4


def rc_settings() -> dict[str, object]:
    # Not dict(rcParams): reading "backend" makes matplotlib pick one, importing pyplot.
    return {key: matplotlib.rcParams[key] for key in matplotlib.rcParams if key != "backend"}


def test_rendering_leaves_matplotlib_global_state_alone() -> None:
    before = rc_settings()
    assert render_trend_chart(weeks(4), title="Pilot") is not None
    assert rc_settings() == before
    # In a fresh interpreter (other tests may import pyplot): no pyplot, no backend chosen.
    script = (
        "import sys, matplotlib\n"
        "from bot.reporting.chart import render_trend_chart, TrendPoint\n"
        "points = [TrendPoint(f'2026-W{w}', 0.5, 3.0, 5, 0.1, 0.4) for w in (47, 48)]\n"
        "assert render_trend_chart(points, title='t') is not None\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
