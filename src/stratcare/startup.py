"""Checks run before the service or a worker starts, each failure one sentence naming the setting or file.

Each kind of failure has its own process exit code (listed in the README), so a supervisor or a deployment
script can tell a typo in a setting from a broken content edit or an unreachable database.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_settings import SettingsError

if TYPE_CHECKING:
    from stratcare.settings import Settings
    from stratcare.store import SqlLedgers

EXIT_FAILED = 1
"""A command ran but its work failed (a demo scenario got the wrong answer, an outbox operation failed)."""
EXIT_USAGE = 2
"""The command line itself is wrong (unknown option or value); the same code the option parser uses."""
EXIT_SETTINGS = 3
EXIT_CONTENT = 4
EXIT_STORE = 5
EXIT_KEY_FILE = 6

NESTED_SETTINGS = frozenset({"writeback"})
"""Settings groups read from ``STRATCARE_<GROUP>_<NAME>`` (see ``Settings.model_config``)."""


class StartupError(Exception):
    """Why the process cannot start, as one sentence, and the exit code it should end with."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def load_settings() -> Settings:
    """The ``STRATCARE_*`` settings; a bad value names its variable, never echoes it (it may be a secret)."""
    from stratcare.settings import Settings

    try:
        return Settings()
    except ValidationError as error:
        raise StartupError(settings_problem(error), EXIT_SETTINGS) from None
    except SettingsError as error:
        found = re.search(r'field "([^"]+)"', str(error))
        variable = f"STRATCARE_{found.group(1).upper()}" if found else "a STRATCARE_ variable"
        raise StartupError(f"invalid setting {variable}: not valid JSON", EXIT_SETTINGS) from None


def settings_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = [str(part) for part in first.get("loc", ())]
    split = 2 if loc and loc[0] in NESTED_SETTINGS else 1
    variable = "STRATCARE_" + "_".join(loc[:split]).upper() if loc else "STRATCARE_*"
    if loc and loc[0] in NESTED_SETTINGS and len(loc) == 1:
        variable += "_*"  # the group's own check, across several of its variables
    inside = f" (at {'.'.join(loc[split:])})" if loc[split:] else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    more = error.error_count() - 1
    suffix = f"; {more} more problem(s) in the settings" if more else ""
    return f"invalid setting {variable}{inside}: {message}{suffix}"


def check_content(settings: Settings) -> None:
    """Load and validate every content file and the pathways the services run, as the service will."""
    from stratcare.api.runtime import load_content
    from stratcare.content import ContentError
    from stratcare.content.repository import CONTENT_FOLDERS, HOOKS_FOLDER

    folder = settings.content_dir
    if folder is not None and not folder.is_dir():
        raise StartupError(f"STRATCARE_CONTENT_DIR: {folder} is not a folder", EXIT_CONTENT)
    if folder is not None:
        missing = [name for name in (HOOKS_FOLDER, *CONTENT_FOLDERS) if not (folder / name).is_dir()]
        if missing:
            listed = ", ".join(f"{name}/" for name in missing)
            raise StartupError(f"STRATCARE_CONTENT_DIR: {folder} has no {listed}", EXIT_CONTENT)
    try:
        load_content(settings)
    except (ContentError, ValueError) as error:
        raise StartupError(f"invalid content: {_one_line(str(error))}", EXIT_CONTENT) from None


def check_key_files(settings: Settings) -> None:
    """Every key file named in the settings can be read now, not at the first call or delivery."""
    for issuer, config in settings.jwt_issuers.items():
        if config.jwks_file is not None:
            _check_key_set(config.jwks_file, issuer)
    key_file = settings.writeback.backend_private_key_file
    if key_file is not None:
        from stratcare.writeback.backend_auth import load_signing_key

        try:
            load_signing_key(key_file)
        except (OSError, ValueError) as error:
            raise StartupError(
                f"STRATCARE_WRITEBACK_BACKEND_PRIVATE_KEY_FILE: {key_file} is not a readable private key "
                f"({_reason(error)})",
                EXIT_KEY_FILE,
            ) from None


def _check_key_set(path: Path, issuer: str) -> None:
    where = f"STRATCARE_JWT_ISSUERS: the jwks_file of {issuer} ({path})"
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise StartupError(f"{where} cannot be read as JSON ({_reason(error)})", EXIT_KEY_FILE) from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise StartupError(f'{where} is not a JWK Set (no "keys" list)', EXIT_KEY_FILE)


async def check_store(url: str, *, upgrade: bool = True) -> None:
    """Open the store once (migrating it to this release's schema, as the service would, when ``upgrade``;
    else requiring that it is already there) and close it."""
    ledgers = await open_store(url, upgrade=upgrade)
    await ledgers.close()


async def open_store(url: str, *, upgrade: bool = True, must_exist: bool = False) -> SqlLedgers:
    """The store at ``url``, migrated when ``upgrade``; with ``must_exist``, refuse rather than create one
    that is not there yet."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from stratcare.store import SchemaNotCurrent, SqlLedgers

    try:
        if must_exist:
            await _require_existing_store(url)
        return await SqlLedgers.open(url, upgrade=upgrade)
    except SchemaNotCurrent as error:
        raise StartupError(f"STRATCARE_DATABASE_URL: {error}", EXIT_STORE) from None
    except (ValueError, OSError, SQLAlchemyError, CommandError) as error:
        raise StartupError(store_problem(url, error), EXIT_STORE) from None


async def _require_existing_store(url: str) -> None:
    from sqlalchemy import inspect

    from stratcare.store.database import async_url, create_engine
    from stratcare.store.schema import outbox

    parsed = async_url(url)
    if parsed.drivername.startswith("sqlite") and not Path(str(parsed.database)).is_file():
        raise StartupError(f"no store at {shown_url(url)}: the file does not exist", EXIT_STORE)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            present = await connection.run_sync(lambda sync: inspect(sync).has_table(outbox.name))
    finally:
        await engine.dispose()
    if not present:
        raise StartupError(f"no store at {shown_url(url)}: the database has no stratcare tables", EXIT_STORE)


def store_problem(url: str, error: BaseException) -> str:
    return f"STRATCARE_DATABASE_URL: cannot open the store at {shown_url(url)} ({_reason(error)})"


def shown_url(url: str) -> str:
    """``url`` with any password masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _reason(error: BaseException) -> str:
    """The driver's own message when there is one (SQLAlchemy wraps it in SQL, parameters and a link)."""
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error) or type(error).__name__
    return _one_line(text)


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return re.sub(r"\s*\(Background on this error at: [^)]*\)", "", first).strip()
