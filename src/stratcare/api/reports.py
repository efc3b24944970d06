"""Report endpoints: measures (JSON, CSV), missed-patient lists (JSON, CSV) and the HTML page with its
PNG/PDF charts. Each needs a report user (``api/reports_auth.py``); a clinic user sees only their clinic,
and every view is written to the audit log (the JSON log, logger ``stratcare.audit``)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import HTMLResponse

from stratcare.api.reports_auth import ReportAccess
from stratcare.api.runtime import Runtime, get_runtime, utc_now
from stratcare.auth.errors import Unauthorized
from stratcare.errors import StratcareError
from stratcare.reports.access import ReportAccessDenied, ReportUser
from stratcare.reports.measures import Dimension, Granularity
from stratcare.reports.missed import MissedPatientEntry, missed_entries
from stratcare.reports.page import ReportPage, report_html, report_pdf, report_png
from stratcare.reports.query import ReportQuery
from stratcare.reports.tables import Report, missed_csv, missed_rows, report_csv, report_document
from stratcare.store.reports import SqlReports

audit = logging.getLogger("stratcare.audit")
router = APIRouter(prefix="/reports", tags=["Reports"])
CSV = "text/csv; charset=utf-8"


class ReportLoginRequired(StratcareError):
    status_code = 401
    issue_code = "login"


class ReportForbidden(StratcareError):
    status_code = 403
    issue_code = "forbidden"


class InvalidReportRequest(StratcareError):
    status_code = 400
    issue_code = "invalid"


def _access(runtime: Runtime) -> ReportAccess:
    if runtime.reports is None:
        raise ReportLoginRequired("reports are not configured")
    return runtime.reports


async def report_user(
    runtime: Annotated[Runtime, Depends(get_runtime)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ReportUser:
    """The report user proven by the bearer token (OIDC or the admin token); 401 otherwise."""
    try:
        return await _access(runtime).authenticator.user(authorization)
    except Unauthorized as refusal:
        audit.info("report access refused", extra={"reason": refusal.reason})
        raise ReportLoginRequired("a valid report bearer token is required") from None


UserDep = Annotated[ReportUser, Depends(report_user)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def report_query(
    runtime: RuntimeDep,
    user: UserDep,
    start: Annotated[date, Query(alias="from", description="First day of the period (UTC).")],
    end: Annotated[date, Query(alias="to", description="Last day of the period (UTC), included.")],
    clinic: Annotated[list[str] | None, Query(description="Only these clinics (repeatable).")] = None,
    by: Annotated[list[Dimension] | None, Query(description="Group rows by (repeatable).")] = None,
    granularity: Granularity = Granularity.WEEK,
) -> ReportQuery:
    try:
        clinics = user.visible(frozenset(clinic) if clinic else None)
    except ReportAccessDenied as denied:
        audit.info("report access refused", extra={"subject": user.subject, "reason": str(denied)})
        raise ReportForbidden(str(denied)) from None
    try:
        return ReportQuery(
            start=datetime.combine(start, time(), UTC),
            end=datetime.combine(end + timedelta(days=1), time(), UTC),
            clinics=clinics,
            by=tuple(by) if by else (Dimension.CLINIC,),
            granularity=granularity,
            episode_window=timedelta(days=runtime.settings.reports.episode_window_days),
        )
    except ValueError as error:
        raise InvalidReportRequest(f"invalid report request: {error}") from None


QueryDep = Annotated[ReportQuery, Depends(report_query)]


def _audit(request: Request, user: ReportUser, query: ReportQuery, identifiable: bool = False) -> None:
    audit.info(
        "report viewed",
        extra={
            "subject": user.subject,
            "path": request.url.path,
            "clinics": sorted(query.clinics) if query.clinics is not None else "all",
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
            "identifiable": identifiable,
        },
    )


async def build_report(runtime: Runtime, query: ReportQuery) -> Report:
    async with runtime.database.connect() as connection:
        return await SqlReports(connection).report(query)


@router.get("/measures")
async def measures(
    request: Request, runtime: RuntimeDep, user: UserDep, query: QueryDep
) -> dict[str, object]:
    """Stratification, risk, referral, acceptance and fidelity measures per group, with each definition."""
    _audit(request, user, query)
    return report_document(await build_report(runtime, query))


@router.get("/measures.csv", response_class=Response, responses={200: {"content": {CSV: {}}}})
async def measures_csv(request: Request, runtime: RuntimeDep, user: UserDep, query: QueryDep) -> Response:
    """The measures as CSV, one row per group (the columns of the JSON rows)."""
    _audit(request, user, query)
    return Response(report_csv(await build_report(runtime, query)), media_type=CSV)


async def _missed(
    runtime: Runtime, user: ReportUser, query: ReportQuery, appointments: bool
) -> list[MissedPatientEntry]:
    access = _access(runtime)
    async with runtime.database.connect() as connection:
        patients = await SqlReports(connection).missed_patients(query)
    found = None
    if appointments:
        found = await access.appointments.find(((p.fhir_server, p.patient_id) for p in patients), utc_now())
    return missed_entries(
        patients, identifiable=user.identifiable, key=access.pseudonym_key, appointments=found
    )


AppointmentsQuery = Annotated[
    bool, Query(description="Also ask each patient's FHIR server for their next appointment.")
]


@router.get("/missed-patients")
async def missed_patients(
    request: Request,
    runtime: RuntimeDep,
    user: UserDep,
    query: QueryDep,
    appointments: AppointmentsQuery = False,
) -> dict[str, object]:
    """Identified but not stratified, and high risk not referred: pseudonymous unless the user may see ids."""
    _audit(request, user, query, user.identifiable)
    return {"patients": missed_rows(await _missed(runtime, user, query, appointments))}


@router.get("/missed-patients.csv", response_class=Response, responses={200: {"content": {CSV: {}}}})
async def missed_patients_csv(
    request: Request,
    runtime: RuntimeDep,
    user: UserDep,
    query: QueryDep,
    appointments: AppointmentsQuery = False,
) -> Response:
    """The missed-patient list as CSV."""
    _audit(request, user, query, user.identifiable)
    return Response(missed_csv(await _missed(runtime, user, query, appointments)), media_type=CSV)


async def build_page(runtime: Runtime, query: ReportQuery) -> ReportPage:
    async with runtime.database.connect() as connection:
        return await SqlReports(connection).page(query)


@router.get("/page", response_class=HTMLResponse)
async def page(request: Request, runtime: RuntimeDep, user: UserDep, query: QueryDep) -> HTMLResponse:
    """The report page: rates per clinic against the overall rate, by workflow point, and over time."""
    _audit(request, user, query)
    return HTMLResponse(report_html(await build_page(runtime, query)))


@router.get("/page.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def page_png(request: Request, runtime: RuntimeDep, user: UserDep, query: QueryDep) -> Response:
    """The report's charts as one PNG image."""
    _audit(request, user, query)
    return Response(report_png(await build_page(runtime, query)), media_type="image/png")


@router.get("/page.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def page_pdf(request: Request, runtime: RuntimeDep, user: UserDep, query: QueryDep) -> Response:
    """The report as a PDF: one chart per page, then the measures table."""
    _audit(request, user, query)
    return Response(report_pdf(await build_page(runtime, query)), media_type="application/pdf")
