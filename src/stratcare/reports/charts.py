"""Report charts drawn on the server with matplotlib: SVG for the HTML page, PNG and PDF for e-mail.

matplotlib rather than a JavaScript library: it needs no browser, no CDN and no vendored script, renders
the same figure to SVG, PNG and PDF, and is a long-maintained, widely packaged library. Text stays text in
the SVG (``svg.fonttype = none``) so the labels can be read, searched and checked.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

BAR_COLOUR = "#2b6cb0"
REFERENCE_COLOUR = "#c05621"


@dataclass(frozen=True)
class RateSeries:
    """Stratification rates (0-1, None where nobody was identified) by label, with the identified counts."""

    title: str
    axis_label: str
    labels: Sequence[str]
    rates: Sequence[float | None]
    identified: Sequence[int]
    reference: float | None = None
    """The overall rate, drawn as a reference line."""
    trend: bool = False


def _percent(value: float | None) -> float:
    return 100 * value if value is not None else 0.0


def _draw(axes: Axes, series: RateSeries) -> None:
    positions = list(range(len(series.labels)))
    values = [_percent(rate) for rate in series.rates]
    if series.trend:
        axes.plot(positions, values, marker="o", color=BAR_COLOUR, label="Stratification rate")
    else:
        axes.bar(positions, values, color=BAR_COLOUR, label="Stratification rate")
    for position, rate, count in zip(positions, series.rates, series.identified, strict=True):
        text = f"{_percent(rate):.0f}% of {count}" if rate is not None else "none identified"
        axes.annotate(text, (position, _percent(rate)), ha="center", va="bottom", fontsize=8)
    if series.reference is not None:
        overall = _percent(series.reference)
        axes.axhline(overall, color=REFERENCE_COLOUR, linestyle="--", label=f"Overall {overall:.0f}%")
    axes.set_xticks(positions, list(series.labels), rotation=20 if len(positions) > 4 else 0, ha="right")
    axes.set_ylim(0, 130)
    axes.set_ylabel("Patients stratified (%)")
    axes.set_xlabel(series.axis_label)
    axes.set_title(series.title)
    axes.legend(loc="upper left", fontsize=8, ncols=2)


def _figure(series: Sequence[RateSeries], *, rows: int) -> Figure:
    figure = Figure(figsize=(9, 3.6 * rows), layout="constrained")
    for index, one in enumerate(series):
        _draw(figure.add_subplot(rows, 1, index + 1), one)
    return figure


def chart_svg(series: RateSeries) -> str:
    """One chart as an inline SVG document (no XML prolog)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        _figure([series], rows=1).savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def charts_png(series: Sequence[RateSeries]) -> bytes:
    buffer = io.BytesIO()
    _figure(series, rows=len(series)).savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def charts_pdf(series: Sequence[RateSeries], table: Sequence[Sequence[str]]) -> bytes:
    """The charts, one page each, then a page with the measures table."""
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": "stratcare audit-and-feedback report"}) as pdf:
        for one in series:
            pdf.savefig(_figure([one], rows=1))
        figure = Figure(figsize=(11.7, 8.3))
        axes = figure.add_subplot(1, 1, 1)
        axes.axis("off")
        if table:
            cells = axes.table(
                cellText=[list(row) for row in table[1:]], colLabels=list(table[0]), loc="upper center"
            )
            cells.auto_set_font_size(False)
            cells.set_fontsize(7)
        axes.set_title("Measures")
        pdf.savefig(figure)
    return buffer.getvalue()
