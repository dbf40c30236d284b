"""The weekly digest's trend chart: a PNG of the last weeks' adoption figures, with alt text.

The digest posts it in the leadership channel, where managers mostly read it on a phone, so the
chart is wide (1200 px), with large type, thick lines and a marker on every point. Four figures
are drawn, one line each: response rate and weekly use (shares of people, top panel), and the
mean usefulness on its question's scale and sentiment from -1 to +1 (bottom panel).

A figure withheld for the week (None, because fewer people than the pilot's minimum group stand
behind it) is a gap in its line: never a zero and never bridged by the line, so nobody reads a
trend into a week nobody can see. A week with no figures at all still has its place on the axis.

Rendering is pure (points in, bytes out) and does not touch matplotlib's global state, so it can
run in a worker thread next to other code that uses matplotlib.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.pilots.period import parse_period, shift

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class TrendPoint:
    period: str  # "2026-W48"
    response_rate: float | None  # 0..1
    usefulness: float | None  # mean on the question's scale
    usefulness_max: float | None  # the scale's top, e.g. 5 (None when unknown)
    sentiment: float | None  # -1..1
    weekly_usage: float | None  # share 0..1 who used the tool at least weekly


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt_text: str  # for Slack's image alt text; <= 1000 chars
    width_px: int
    height_px: int


MAX_PERIODS = 12
ALT_TEXT_LIMIT = 1000

# 12 x 8 inches at 100 dpi: 1200 px wide, which Slack shows full width on a phone without
# upscaling. At this size 14 pt is about 19 px, still legible once the phone scales it down.
WIDTH_IN, HEIGHT_IN, DPI = 12.0, 8.0, 100
FONT = 15
TITLE_FONT = 19
TITLE_CHARS = 72  # about what fits across the chart at TITLE_FONT; longer titles are cut
LINE_WIDTH = 3.5
MARKER_SIZE = 11
# Padding beyond a scale's ends, the same fraction on every axis so that markers at 0% or at the
# scale's top are not cut in half, and the two bottom axes keep their ends level with each other.
PAD = 0.06


@dataclass(frozen=True)
class _Series:
    key: str  # the TrendPoint field, also the gid of its line (tests find lines by it)
    name: str  # in the legend
    phrase: str  # in the alt text
    color: str
    text_color: str  # a darker shade for axis labels: the line colour is too light for text
    marker: str
    linestyle: str | tuple[int, tuple[int, ...]]


# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), and each line
# also differs in marker and dash, so it can be told apart in greyscale or by shape alone.
_RESPONSE = _Series(
    "response_rate", "Response rate", "response rate", "#0072B2", "#0072B2", "o", "-"
)
_USAGE = _Series("weekly_usage", "Used weekly", "weekly use", "#D55E00", "#B34700", "s", "--")
_USEFULNESS = _Series("usefulness", "Usefulness", "usefulness", "#009E73", "#00704F", "^", "-")
_SENTIMENT = _Series(
    "sentiment", "Sentiment", "sentiment", "#CC79A7", "#9E4A7C", "D", (0, (5, 2, 1, 2))
)
SERIES = (_RESPONSE, _USAGE, _USEFULNESS, _SENTIMENT)


@dataclass(frozen=True)
class _Frame:
    """What is drawn: consecutive weeks, oldest first, and each series with NaN for a gap."""

    periods: list[str]
    series: dict[str, list[float]]
    usefulness_max: float | None

    @property
    def labels(self) -> list[str]:
        """The label under each week, W48; the first week's and a new year's also give the year."""
        labels = []
        previous_year = None
        for period in self.periods:
            year, week = parse_period(period)
            labels.append(f"W{week:02d}" if year == previous_year else f"W{week:02d}\n{year}")
            previous_year = year
        return labels

    def known(self, key: str) -> list[tuple[int, float]]:
        return [(i, v) for i, v in enumerate(self.series[key]) if not math.isnan(v)]


def _prepare(points: Sequence[TrendPoint]) -> _Frame | None:
    """The weeks to draw: at most the last 12, every week in between included (a week missing
    from `points` is drawn as a gap, like a withheld one, so the x axis is honest about time);
    None when fewer than two of those weeks have any figure, as there is no trend to show."""
    if not points:
        return None
    by_period: dict[tuple[int, int], TrendPoint] = {}
    for point in points:
        key = parse_period(point.period)
        if key in by_period:
            raise ValueError(f"period {point.period} is given twice")
        by_period[key] = point
    ordered = [by_period[key] for key in sorted(by_period)]
    first, last = ordered[0].period, ordered[-1].period
    window = [shift(last, -i) for i in reversed(range(MAX_PERIODS))]
    # Weeks before the first given one are not invented: a pilot in its 5th week shows 5 weeks.
    start = next(
        i for i, period in enumerate(window) if parse_period(period) >= parse_period(first)
    )
    periods = window[start:]
    drawn = [by_period.get(parse_period(period)) for period in periods]

    def values(key: str) -> list[float]:
        # NaN, not None and not 0: matplotlib breaks a line at NaN, and this keeps a gap a gap.
        out = []
        for point in drawn:
            value = getattr(point, key) if point is not None else None
            out.append(math.nan if value is None or not math.isfinite(value) else float(value))
        return out

    series = {s.key: values(s.key) for s in SERIES}
    with_data = sum(
        1 for i in range(len(periods)) if any(not math.isnan(series[k][i]) for k in series)
    )
    if with_data < 2:
        return None
    # The scale of the most recent week that states one: if a question's scale was changed, the
    # axis follows what is asked now.
    maxima = [p.usefulness_max for p in drawn if p is not None and p.usefulness_max is not None]
    return _Frame(periods, series, maxima[-1] if maxima else None)


# matplotlib's object-oriented API keeps no global figure list, but its font and text caches are
# shared by every figure in the process. One render at a time is cheap insurance (a render takes
# a fraction of a second and the digest is weekly) against a worker thread and another rendering
# at once.
_RENDER_LOCK = threading.Lock()


def render_trend_chart(points: Sequence[TrendPoint], *, title: str) -> Chart | None:
    """None when there are fewer than 2 periods with any data (nothing to show a trend of)."""
    frame = _prepare(points)
    if frame is None:
        return None
    with _RENDER_LOCK:
        figure = _build_figure(frame, title)
        buffer = io.BytesIO()
        # print_png rather than savefig: savefig takes its crop, padding and background from
        # rcParams (a matplotlibrc could change the image's size); this draws the canvas as set
        # up here. No "Software" (or any other) text chunk and no timestamp: the same figures
        # give the same bytes.
        figure.canvas.print_png(buffer, metadata={"Software": None})
    width, height = figure.canvas.get_width_height()
    return Chart(
        png=buffer.getvalue(), alt_text=_alt_text(frame, title), width_px=width, height_px=height
    )


def _build_figure(frame: _Frame, title: str) -> Figure:
    # Imported here, not at the top: matplotlib takes a noticeable fraction of a second to import
    # and only the digest draws charts, so other commands that import the reporting package do
    # not pay for it. Figure + FigureCanvasAgg, never pyplot and never matplotlib.use(): pyplot
    # keeps figures in a global registry (a leak and a race in a long-running server) and
    # selects a backend for the whole process; the Agg canvas renders to memory, headless.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, PercentFormatter

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    # Fixed margins rather than a layout engine: every font size, tick label and legend here is
    # fixed, so the space they need is known, and constrained layout would cost a third of the
    # render time for the same result. Room is left for the title and the top legend (top),
    # the bottom legend (hspace), two-line week labels and the note on gaps (bottom) and the
    # sentiment axis (right).
    shares, scores = figure.subplots(
        2,
        1,
        sharex=True,
        gridspec_kw={"left": 0.085, "right": 0.905, "top": 0.895, "bottom": 0.12, "hspace": 0.21},
    )
    mood = scores.twinx()
    figure.suptitle(_shorten(title, TITLE_CHARS), y=0.985, fontsize=TITLE_FONT, fontweight="bold")

    x = list(range(len(frame.periods)))

    def plot(ax: Axes, series: _Series, label: str) -> None:
        ax.plot(
            x,
            frame.series[series.key],
            label=label,
            gid=series.key,
            color=series.color,
            marker=series.marker,
            linestyle=series.linestyle,
            linewidth=LINE_WIDTH,
            markersize=MARKER_SIZE,
            markeredgecolor="white",
            markeredgewidth=1.5,
            # Markers sit on the axes' ends (0%, 100%, the scale's top); keep them whole.
            clip_on=False,
            zorder=3,
        )

    # Top panel: the two shares of people, on one 0 to 100% axis, so they compare directly.
    for series in (_RESPONSE, _USAGE):
        plot(shares, series, _legend_label(frame, series))
    shares.set_ylim(-PAD, 1 + PAD)
    shares.yaxis.set_major_locator(FixedLocator([0, 0.25, 0.5, 0.75, 1]))
    shares.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    shares.set_ylabel("% of people", fontsize=FONT)

    # Bottom panel: usefulness on its own scale (left) and sentiment on -1..+1 (right), rather
    # than both squeezed into percentages that nobody asked. When the usefulness scale is known,
    # each axis spans the whole of its scale, so neither line looks dramatic because its axis was
    # zoomed in, and on a 1 to 5 scale the middle (3) is level with neutral sentiment (0).
    plot(scores, _USEFULNESS, _legend_label(frame, _USEFULNESS))
    plot(mood, _SENTIMENT, _legend_label(frame, _SENTIMENT))
    low, high = _usefulness_range(frame)
    span = high - low
    scores.set_ylim(low - PAD * span, high + PAD * span)
    scores.yaxis.set_major_locator(FixedLocator(_usefulness_ticks(low, high)))
    scores.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    # "out of 5" rather than "1 to 5": the scale's bottom is not known here, only its top.
    scale = f"out of {frame.usefulness_max:g}" if frame.usefulness_max else "mean"
    scores.set_ylabel(f"Usefulness ({scale})", fontsize=FONT, color=_USEFULNESS.text_color)
    mood.set_ylim(-1 - 2 * PAD, 1 + 2 * PAD)
    mood.yaxis.set_major_locator(FixedLocator([-1, -0.5, 0, 0.5, 1]))
    mood.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _signed(v, "{:+g}")))
    mood.set_ylabel("Sentiment (−1 to +1)", fontsize=FONT, color=_SENTIMENT.text_color)
    if frame.known(_SENTIMENT.key):
        # Neutral sentiment, so that above or below the line reads as positive or negative.
        mood.axhline(0, color="#999999", linewidth=1, linestyle=":", zorder=1)

    for ax, colour in (
        (shares, None),
        (scores, _USEFULNESS.text_color),
        (mood, _SENTIMENT.text_color),
    ):
        ax.tick_params(labelsize=FONT, length=5)
        if colour:
            ax.tick_params(axis="y", labelcolor=colour)
        ax.spines["top"].set_visible(False)
    for ax in (shares, scores):
        ax.grid(axis="y", color="#dddddd", linewidth=1)
        ax.set_axisbelow(True)
        ax.spines["right"].set_visible(False)
    # Above each panel rather than inside it, where it could hide a point.
    handles = shares.get_legend_handles_labels()
    shares.legend(*handles, **_legend_style())
    bottom = [
        a + b
        for a, b in zip(*(ax.get_legend_handles_labels() for ax in (scores, mood)), strict=True)
    ]
    scores.legend(*bottom, **_legend_style())

    scores.set_xlim(-0.5, len(x) - 0.5)
    scores.xaxis.set_major_locator(FixedLocator(x))
    scores.set_xticklabels(frame.labels, fontsize=FONT)
    if _gap_weeks(frame):
        figure.text(
            0.01,
            0.01,
            "A break in a line: too few answers that week to show the figure.",
            fontsize=FONT - 1,
            color="#555555",
        )
    return figure


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _legend_style() -> dict[str, object]:
    return {
        "loc": "lower left",
        "bbox_to_anchor": (0, 1.0),
        "ncol": 2,
        "frameon": False,
        "fontsize": FONT,
        "handlelength": 3.2,
        "borderaxespad": 0.2,
    }


def _usefulness_range(frame: _Frame) -> tuple[float, float]:
    values = [v for _, v in frame.known(_USEFULNESS.key)]
    top = frame.usefulness_max
    if top is not None:
        # Scales start at 1 ("not useful") in the default questions; 0 only if a value says so.
        low = 1.0 if all(v >= 1 for v in values) and top > 1 else 0.0
        return min([low, *values]), max([top, *values])
    if not values:
        return 1.0, 5.0
    # Unknown scale: fit the values, with room so that small changes are not blown up.
    low, high = min(values), max(values)
    return math.floor(low) - 1 if low >= 1 else min(0.0, low), math.ceil(high) + 1


def _usefulness_ticks(low: float, high: float) -> list[float]:
    span = high - low
    step = 1 if span <= 6 else 2 if span <= 12 else max(1, round(span / 5))
    start = math.ceil(low / step) * step
    return [start + i * step for i in range(int((high - start) // step) + 1)]


def _gap_weeks(frame: _Frame) -> list[int]:
    """Weeks where a line breaks. A figure withheld in every week has no line to break; its
    legend entry and the alt text say so instead."""
    drawn = [values for values in frame.series.values() if any(not math.isnan(v) for v in values)]
    return [i for i in range(len(frame.periods)) if any(math.isnan(v[i]) for v in drawn)]


def _week(frame: _Frame, index: int) -> str:
    return frame.periods[index].split("-")[1]


def _signed(value: float, template: str) -> str:
    """+0.25 and -0.25, written with a true minus sign (as matplotlib's own ticks have), 0 unsigned."""
    text = template.format(value)
    if text.lstrip("+-").strip("0.") == "":
        return text.lstrip("+-")
    return text.replace("-", "−")


def _formatter(series: _Series) -> Callable[[float], str]:
    if series in (_RESPONSE, _USAGE):
        return lambda v: f"{v * 100:.0f}%"
    if series is _SENTIMENT:
        return lambda v: _signed(v, "{:+.2f}")
    return lambda v: f"{v:.1f}"


def _legend_label(frame: _Frame, series: _Series) -> str:
    """The line's name with its latest figure, the number a manager looks for first."""
    known = frame.known(series.key)
    if not known:
        return f"{series.name}: too few answers"
    index, value = known[-1]
    text = _formatter(series)(value)
    if series is _USEFULNESS and frame.usefulness_max is not None:
        text += f" of {frame.usefulness_max:g}"
    return f"{series.name}: {text} ({_week(frame, index)})"


def _describe(frame: _Frame, series: _Series) -> str:
    known = frame.known(series.key)
    fmt = _formatter(series)
    of = (
        f" of {frame.usefulness_max:g}"
        if series is _USEFULNESS and frame.usefulness_max is not None
        else ""
    )
    if not known:
        return f"{series.phrase}: not enough answers in any week"
    (i, first), (j, last) = known[0], known[-1]
    if i == j:
        return f"{series.phrase} {fmt(first)}{of} in {_week(frame, i)}, the only week with enough answers"
    start, end = fmt(first), fmt(last)
    if start == end:
        return f"{series.phrase} held at {end}{of} ({_week(frame, i)} to {_week(frame, j)})"
    verb = "rose" if last > first else "fell"
    return (
        f"{series.phrase} {verb} from {start} ({_week(frame, i)}) to {end}{of} ({_week(frame, j)})"
    )


def _alt_text(frame: _Frame, title: str) -> str:
    """One or two plain sentences: each figure's first and last known value and its direction."""
    parts = [_describe(frame, s) for s in SERIES]
    summary = "; ".join(parts)
    summary = summary[0].upper() + summary[1:] + "."
    span = f"{frame.periods[0]} to {frame.periods[-1]}"
    # A title is the pilot's name and the like; a very long one must not crowd out the figures.
    text = f"{_shorten(title, 200)}: chart of {len(frame.periods)} weeks, {span}. {summary}"
    gaps = [_week(frame, i) for i in _gap_weeks(frame)]
    if gaps:
        text += f" Weeks with too few answers are gaps ({', '.join(gaps)})."
    if len(text) > ALT_TEXT_LIMIT:
        # Not reached with a 200-character title and 4 series; cut rather than fail the digest.
        text = text[: ALT_TEXT_LIMIT - 1].rstrip() + "…"
    return text
