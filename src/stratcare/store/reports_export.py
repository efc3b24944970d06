"""A report written to bytes in one of the export formats, for the ``stratcare report`` command."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.reports.page import report_html, report_pdf
from stratcare.reports.query import ReportQuery
from stratcare.reports.tables import report_csv, report_document
from stratcare.store.reports import SqlReports

audit = logging.getLogger("stratcare.audit")


class ExportFormat(StrEnum):
    HTML = "html"
    CSV = "csv"
    JSON = "json"
    PDF = "pdf"


async def export_report(
    engine: AsyncEngine, query: ReportQuery, form: ExportFormat, progress: Callable[[str], None]
) -> bytes:
    """The report as ``form``; ``progress`` hears each stage as it starts."""
    audit.info(
        "report exported",
        extra={
            "subject": "command line",
            "clinics": sorted(query.clinics) if query.clinics is not None else "all",
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
            "format": form.value,
        },
    )
    async with engine.connect() as connection:
        reports = SqlReports(connection)
        if form in (ExportFormat.HTML, ExportFormat.PDF):
            page = await reports.page(query, progress)
            progress("rendering")
            return report_html(page).encode() if form is ExportFormat.HTML else report_pdf(page)
        progress("counting by clinic")
        report = await reports.report(query)
    if form is ExportFormat.CSV:
        return report_csv(report).encode()
    return json.dumps(report_document(report), indent=2).encode()
