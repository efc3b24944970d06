"""The HTML report page (Jinja2, autoescaped) and its PNG/PDF exports, from three grouped reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from stratcare.reports.charts import RateSeries, chart_svg, charts_pdf, charts_png
from stratcare.reports.measures import MEASURES
from stratcare.reports.tables import Report

_TEMPLATES = Environment(
    loader=PackageLoader("stratcare.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
)
TABLE_COLUMNS = (
    "identified",
    "stratified",
    "stratification_rate",
    "high_risk",
    "acute_high_risk",
    "referrals_pended",
    "referrals_signed",
    "high_risk_referral_rate",
    "acceptance_rate",
    "fidelity",
)


@dataclass(frozen=True)
class ReportPage:
    by_clinic: Report
    by_workflow_point: Report
    by_period: Report

    def series(self) -> list[RateSeries]:
        overall = self.by_clinic.overall.stratification_rate if self.by_clinic.overall else None
        return [
            _series(self.by_clinic, "clinic", "Stratification rate by clinic", "Clinic", overall),
            _series(
                self.by_workflow_point,
                "workflow_point",
                "Stratification rate by workflow point where back pain was first identified",
                "Workflow point",
                overall,
            ),
            _series(
                self.by_period,
                "period",
                f"Stratification rate over time (per {self.by_period.query.granularity.value})",
                "Period starting",
                None,
                trend=True,
            ),
        ]

    def table(self) -> list[list[str]]:
        header = ["clinic", *TABLE_COLUMNS]
        rows = [
            [str(row["clinic"]), *(_cell(row[column]) for column in TABLE_COLUMNS)]
            for row in self.by_clinic.rows()
        ]
        return [header, *rows]


def _series(
    report: Report, dimension: str, title: str, axis: str, reference: float | None, trend: bool = False
) -> RateSeries:
    rows = [row for row in report.rows() if row["identified"]]
    return RateSeries(
        title=title,
        axis_label=axis,
        labels=[str(row[dimension]) for row in rows],
        rates=[row["stratification_rate"] for row in rows],
        identified=[row["identified"] for row in rows],
        reference=reference,
        trend=trend,
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{100 * value:.0f}%"
    return str(value)


CAPTIONS = {
    "clinic": "Bars: share of identified patients stratified at each clinic; dashed line: the overall rate.",
    "workflow_point": "Where back pain was first identified (TARGET: front desk 92%, rooming 29%, "
    "clinician 11%).",
    "period": "Share of the patients first identified in each period who were stratified.",
}


def report_html(page: ReportPage) -> str:
    query = page.by_clinic.query
    overall = page.by_clinic.overall
    charts = [
        # The SVG is matplotlib's own output, its text XML-escaped by matplotlib: safe to embed as is.
        {"id": f"chart-{key}", "svg": Markup(chart_svg(series)), "caption": CAPTIONS[key]}
        for key, series in zip(CAPTIONS, page.series(), strict=True)
    ]
    return _TEMPLATES.get_template("report.html.j2").render(
        start=query.start.date().isoformat(),
        end=(query.end - timedelta(days=1)).date().isoformat(),
        clinics=sorted(query.clinics) if query.clinics is not None else None,
        overall={
            "identified": overall.identified if overall else 0,
            "stratified": overall.stratified if overall else 0,
            "rate": _cell(overall.stratification_rate) if overall else None,
        },
        charts=charts,
        table=page.table(),
        measures=MEASURES,
    )


def report_png(page: ReportPage) -> bytes:
    return charts_png(page.series())


def report_pdf(page: ReportPage) -> bytes:
    return charts_pdf(page.series(), page.table())
