"""The ``stratcare`` command: serve the CDS Hooks API, run the write-back worker, inspect the outbox, play the
demo, print the OpenAPI document.

A user's mistake (a bad setting, content file, store or key file) ends the command with one sentence on
stderr and the exit code of its kind (``stratcare.startup``), never a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from stratcare import __version__
from stratcare.startup import EXIT_FAILED, EXIT_USAGE, StartupError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from stratcare.settings import Settings
    from stratcare.store import SqlLedgers
    from stratcare.store.reports_export import ExportFormat
    from stratcare.writeback.outbox import OutboxStore

# Plain help (click's formatter wraps to the terminal, never cuts a line; flags show no type); no rich
# tracebacks: a user's mistake is one sentence (stratcare.startup), and anything else is a plain traceback.
COMMAND_STYLE: dict[str, Any] = {
    "no_args_is_help": True,
    "rich_markup_mode": None,
    "pretty_exceptions_enable": False,
}
app = typer.Typer(help="stratcare: CDS Hooks stratified care for musculoskeletal pain.", **COMMAND_STYLE)
T = TypeVar("T")
logger = logging.getLogger("stratcare.worker")
outbox_app = typer.Typer(help="Inspect and repair the write-back outbox.", **COMMAND_STYLE)
app.add_typer(outbox_app, name="outbox")
db_app = typer.Typer(help="Migrate the store's schema; rebuild the report summary.", **COMMAND_STYLE)
app.add_typer(db_app, name="db")

DatabaseUrlOption = Annotated[
    str | None, typer.Option(help="Store URL (default: STRATCARE_DATABASE_URL, else the settings default).")
]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stratcare {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """stratcare: CDS Hooks stratified care for musculoskeletal pain."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[
        int, typer.Option(help="Worker processes, each on its own SO_REUSEPORT socket.", min=1)
    ] = 1,
) -> None:
    """Run the CDS Hooks service.

    Settings come from STRATCARE_* variables; they, the content files, the key files and the store are
    checked before the first worker process starts. With several workers the kernel spreads connections
    across them (one per core on PostgreSQL; one on SQLite).
    """
    import uvicorn

    from stratcare.api.workers import Listen, Workers
    from stratcare.startup import check_content, check_key_files, check_store

    settings = _settings(None)
    _check(lambda: check_content(settings))
    _check(lambda: check_key_files(settings))
    _run(check_store(settings.database_url, upgrade=settings.database_upgrade_on_start))
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        # Forwarded headers are honoured by the app, from STRATCARE_TRUSTED_PROXIES only (api/app.py).
        "proxy_headers": False,
        "log_config": None,
    }
    if workers == 1:
        uvicorn.run("stratcare.api.app:serve_app", **options)
        return
    config = uvicorn.Config("stratcare.api.app:serve_app", **options)
    raise typer.Exit(Workers(Listen(host, port), config, workers).run())


@app.command()
def demo(
    url: Annotated[
        str | None, typer.Option(help="Play against a running stratcare instead of an in-process one.")
    ] = None,
    scenario: Annotated[
        list[str] | None, typer.Option(help="Only this scenario (repeatable; see the names in the output).")
    ] = None,
    database_url: Annotated[
        str, typer.Option(help="Store for the in-process service.")
    ] = "sqlite+aiosqlite:///./stratcare-demo.db",
) -> None:
    """Play an EHR against stratcare.

    Uses the bundled sample patients.
    """
    from stratcare.demo.journey import JOURNEY
    from stratcare.demo.player import play
    from stratcare.demo.scenarios import load_scenarios

    names = [*(known.name for known in load_scenarios()), JOURNEY]
    unknown = [name for name in scenario or [] if name not in names]
    if unknown:
        known = ", ".join(names)
        typer.echo(f"error: no demo scenario {', '.join(unknown)}; the scenarios are: {known}", err=True)
        raise typer.Exit(EXIT_USAGE)
    code = asyncio.run(play(url=url, only=scenario or [], database_url=database_url))
    raise typer.Exit(code)


@app.command()
def openapi(
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the app's OpenAPI document.

    It is the source of openapi.yaml.
    """
    from stratcare.api.openapi import openapi_yaml

    text = openapi_yaml()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
    worker_id: Annotated[str | None, typer.Option(help="Name in the outbox's claims (host-pid).")] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Deliver queued write-backs to the FHIR server.

    Runs until SIGINT or SIGTERM (settings from STRATCARE_*). Run any number of these beside
    `stratcare serve` with STRATCARE_WRITEBACK_RUN_IN_PROCESS=false.
    """
    from stratcare.logs import configure_logging
    from stratcare.startup import check_key_files

    settings = _settings(database_url)
    _check(lambda: check_key_files(settings))
    configure_logging(settings.log_level)
    claimed = _run(_run_worker(settings, once=once, worker_id=worker_id))
    if once:
        typer.echo(f"attempted {claimed} write(s)")


@outbox_app.command("status")
def outbox_status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, as in GET /health.")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print the queue depth, delivered and dead writes.

    Names the store it read, and shows pending and in-flight writes, the oldest pending age and the last
    dead error. A store that does not exist is an error, never created.
    """
    from stratcare.api.runtime import utc_now
    from stratcare.startup import shown_url
    from stratcare.writeback.operations import status_document, status_lines

    settings = _settings(database_url)
    status = _run(_on_outbox(settings, lambda outbox: outbox.status(utc_now())))
    store = shown_url(settings.database_url)
    if as_json:
        typer.echo(f"store: {store}", err=True)  # stdout stays the document of GET /health
        typer.echo(json.dumps(status_document(status)))
    else:
        typer.echo("\n".join([f"store:         {store}", *status_lines(status)]))


@outbox_app.command("requeue-dead")
def outbox_requeue_dead(database_url: DatabaseUrlOption = None) -> None:
    """Put every dead write back in the queue.

    Each is due now with a fresh attempt count: run it after fixing the cause.
    """
    from stratcare.api.runtime import utc_now

    count = _run(_on_outbox(_settings(database_url), lambda outbox: outbox.requeue_dead(utc_now())))
    typer.echo(f"requeued {count} dead write(s)")


@outbox_app.command("purge-delivered")
def outbox_purge_delivered(
    older_than_days: Annotated[
        float | None,
        typer.Option(min=0, help="Age cut-off (default: STRATCARE_WRITEBACK_RETAIN_DELIVERED_DAYS)."),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Delete delivered writes older than the cut-off.

    Workers do it hourly when a retention is set.
    """
    settings = _settings(database_url)
    days = older_than_days if older_than_days is not None else settings.writeback.retain_delivered_days
    if days is None:
        typer.echo("error: no retention set: give --older-than-days", err=True)
        raise typer.Exit(EXIT_USAGE)
    from stratcare.api.runtime import utc_now

    cutoff = utc_now() - timedelta(days=days)
    count = _run(_on_outbox(settings, lambda outbox: outbox.purge_delivered(cutoff)))
    typer.echo(f"purged {count} delivered write(s) older than {days:g} day(s)")


@app.command()
def report(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (UTC).")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (UTC), included.")],
    clinic: Annotated[list[str] | None, typer.Option(help="Only this clinic (repeatable).")] = None,
    form: Annotated[str, typer.Option("--format", help="html, csv, json or pdf.")] = "html",
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write the audit-and-feedback report (progress on stderr)."""
    from stratcare.store.reports_export import ExportFormat

    if form not in set(ExportFormat):
        typer.echo(f"unknown format {form!r}: use html, csv, json or pdf", err=True)
        raise typer.Exit(2)
    content = _run(_export(_settings(database_url), start, end, clinic, ExportFormat(form)))
    if output is None:
        typer.echo(content.decode() if form != "pdf" else content, nl=False)
    else:
        output.write_bytes(content)
        typer.echo(f"wrote {output}", err=True)


async def _export(
    settings: Settings, start: datetime, end: datetime, clinics: list[str] | None, form: ExportFormat
) -> bytes:
    import time as clock

    from stratcare.reports.query import ReportQuery
    from stratcare.store.reports_export import export_report

    query = ReportQuery(
        start=start.replace(tzinfo=UTC),
        end=end.replace(tzinfo=UTC) + timedelta(days=1),
        clinics=frozenset(clinics) if clinics else None,
        episode_window=timedelta(days=settings.reports.episode_window_days),
    )
    began = clock.monotonic()

    def progress(stage: str) -> None:
        typer.echo(f"[{clock.monotonic() - began:6.1f}s] {stage}", err=True)

    ledgers = await _open_store(settings)
    try:
        return await export_report(ledgers.engine, query, form, progress)
    finally:
        await ledgers.close()


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrlOption = None) -> None:
    """Migrate the store to this release's schema (the service and workers do it at start-up unless
    STRATCARE_DATABASE_UPGRADE_ON_START=false)."""
    from stratcare.store import current_revision, upgrade_schema

    async def upgrade(engine: AsyncEngine) -> str | None:
        await upgrade_schema(engine)
        return await current_revision(engine)

    revision = _run(_on_engine(_settings(database_url), upgrade))
    typer.echo(f"database at revision {revision} (newest)")


@db_app.command("rebuild-report-summary")
def db_rebuild_report_summary(database_url: DatabaseUrlOption = None) -> None:
    """Recompute the report summary tables from the hook, card and feedback records (e.g. for rows a
    process older than this release wrote after the upgrade). One transaction: a write that conflicts
    with it makes it fail with nothing changed; run it again."""
    from sqlalchemy import func, select

    from stratcare.store.migrate import require_current_schema
    from stratcare.store.report_summary_rebuild import rebuild_report_summary
    from stratcare.store.schema import report_patient_days

    async def rebuild(engine: AsyncEngine) -> int:
        await require_current_schema(engine)
        async with engine.begin() as connection:
            await connection.run_sync(rebuild_report_summary)
            counted = await connection.execute(select(func.count()).select_from(report_patient_days))
            return int(counted.scalar_one())

    days = _run(_on_engine(_settings(database_url), rebuild))
    typer.echo(f"report summary rebuilt: {days} patient days")


@db_app.command("current")
def db_current(database_url: DatabaseUrlOption = None) -> None:
    """Print the store's schema revision and the newest one this release ships."""
    from stratcare.store import current_revision, head_revision

    revision = _run(_on_engine(_settings(database_url), current_revision))
    head = head_revision()
    state = "up to date" if revision == head else "run `stratcare db upgrade`"
    typer.echo(f"database at revision {revision or 'none'}; newest {head} ({state})")


def _fail(error: StartupError) -> typer.Exit:
    typer.echo(f"error: {error.message}", err=True)
    return typer.Exit(error.exit_code)


def _check(check: Callable[[], None]) -> None:
    try:
        check()
    except StartupError as error:
        raise _fail(error) from None


def _settings(database_url: str | None) -> Settings:
    from stratcare.startup import load_settings

    try:
        settings = load_settings()
    except StartupError as error:
        raise _fail(error) from None
    return settings.model_copy(update={"database_url": database_url}) if database_url else settings


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; a store that cannot be opened is one sentence, and so is a failed operation."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from stratcare.store import SchemaNotCurrent

    try:
        return asyncio.run(work)
    except StartupError as error:
        raise _fail(error) from None
    except (ValueError, OSError, SQLAlchemyError, SchemaNotCurrent, CommandError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from None


async def _open_store(settings: Settings, *, upgrade: bool = False, must_exist: bool = False) -> SqlLedgers:
    """The store; upgraded when ``upgrade``, else refused unless it is at the newest revision."""
    from stratcare.startup import open_store

    return await open_store(settings.database_url, upgrade=upgrade, must_exist=must_exist)


async def _on_engine(settings: Settings, operation: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from stratcare.store import create_engine

    engine = create_engine(settings.database_url)
    try:
        return await operation(engine)
    finally:
        await engine.dispose()


async def _run_worker(settings: Settings, *, once: bool, worker_id: str | None) -> int:
    from stratcare.api.runtime import delivery_timeout, http_client, utc_now
    from stratcare.writeback.delivery import TokenHandoff
    from stratcare.writeback.operations import drain, stop_on_signals
    from stratcare.writeback.targets import WritebackTargets
    from stratcare.writeback.wiring import build_deliverer, build_worker

    writeback = settings.writeback
    ledgers = await _open_store(settings, upgrade=settings.database_upgrade_on_start)
    try:
        async with http_client(delivery_timeout(writeback)) as http:
            targets = WritebackTargets.from_settings(writeback, settings.auth_settings())
            logger.info(targets.summary(), extra={"writeback": targets.describe()})
            deliverer = build_deliverer(writeback, targets, http, TokenHandoff(), utc_now)
            outbox_worker = build_worker(writeback, ledgers.outbox(), deliverer, utc_now, worker_id)
            if once:
                return await drain(outbox_worker)
            stop = asyncio.Event()
            with stop_on_signals(stop):
                await outbox_worker.run_forever(stop, writeback.idle_poll_seconds)
            return 0
    finally:
        await ledgers.close()


async def _on_outbox(settings: Settings, operation: Callable[[OutboxStore], Awaitable[T]]) -> T:
    """Open an existing store, run one outbox operation, close the store."""
    ledgers = await _open_store(settings, must_exist=True)
    try:
        return await operation(ledgers.outbox())
    finally:
        await ledgers.close()


if __name__ == "__main__":
    app()


@app.command("capture-link")
def capture_link(
    patient: Annotated[str, typer.Option(help="Patient id on the EHR's FHIR server.")],
    questionnaire: Annotated[str, typer.Option(help="Questionnaire canonical (url or url|version).")],
    point: Annotated[str, typer.Option(help="Where in the visit: pre-visit, check-in, rooming, clinician.")],
    encounter: Annotated[str | None, typer.Option(help="Encounter id, when known.")] = None,
    base_url: Annotated[str, typer.Option(help="This service's public URL.")] = "http://127.0.0.1:8080",
) -> None:
    """Print a single-use capture link.

    Signed and short-lived, for kiosks, portal messages and the demo.
    """
    import uuid

    from stratcare.api.runtime import utc_now
    from stratcare.auth import normalise_fhir_url
    from stratcare.capture import CaptureContext, CaptureRefused
    from stratcare.capture.service import issue_link
    from stratcare.capture.wiring import link_signer, workflow_points
    from stratcare.capture.workflow import UnknownWorkflowPoint
    from stratcare.content import ContentRepository
    from stratcare.instruments import InstrumentRegistry
    from stratcare.settings import Settings

    settings = Settings()
    target = settings.writeback.ehr_base_url
    if settings.capture_secret is None or target is None:
        typer.echo("Set STRATCARE_CAPTURE_SECRET and STRATCARE_WRITEBACK_EHR_BASE_URL first.", err=True)
        raise typer.Exit(2)
    content = ContentRepository.load(settings.content_dir)
    server = normalise_fhir_url(str(target)) or str(target)
    context = CaptureContext(patient, encounter, questionnaire, server, point, point, "link")
    lifetime = timedelta(seconds=settings.capture_link_seconds)
    try:
        token = issue_link(
            InstrumentRegistry.from_content(content),
            workflow_points(content),
            link_signer(settings, utc_now),
            context,
            lifetime,
            uuid.uuid4(),
        )
    except (CaptureRefused, UnknownWorkflowPoint) as exc:
        typer.echo(f"Cannot issue the link: {exc}.", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{base_url.rstrip('/')}/capture/link/{token}")
