"""Structured JSON logs, one object per line, keyed by ``hookInstance`` where a hook call is involved.

What is logged is chosen at each call site: ids and counts, never names, birth dates, free text or tokens.
As a second line of defence, attributes whose names suggest a secret are dropped before formatting.

httpx's own request lines are held back to warnings: they carry whole URLs (search parameters included)
and no ``hookInstance``, while the service logs the outcome of every outbound call that matters.

uvicorn's access log keeps the method, path and status but never the query string: a client that puts a
token in the URL (``?access_token=…``) must not have it written down (the request itself is refused).
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from stratcare.log_context import StampHookInstance

SECRET_ATTRIBUTES = frozenset({"authorization", "token", "access_token", "fhirAuthorization", "password"})
QUIET_LIBRARIES = ("httpx", "httpcore")


TERMINAL_ONLY_ATTRIBUTES = frozenset({"color_message"})
"""uvicorn's copy of the message with terminal colour codes: noise in a JSON line."""


class DropSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name in (SECRET_ATTRIBUTES | TERMINAL_ONLY_ATTRIBUTES) & set(vars(record)):
            delattr(record, name)
        return True


UVICORN_ACCESS_LOGGER = "uvicorn.access"
ACCESS_LINE_ARGUMENTS = 5
"""uvicorn's access line: client address, method, path with query string, HTTP version, status."""
ACCESS_PATH_ARGUMENT = 2


class DropQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != UVICORN_ACCESS_LOGGER:
            return True
        args = record.args
        if isinstance(args, tuple) and len(args) == ACCESS_LINE_ARGUMENTS:
            path = str(args[ACCESS_PATH_ARGUMENT]).partition("?")[0]
            record.args = (*args[:ACCESS_PATH_ARGUMENT], path, *args[ACCESS_PATH_ARGUMENT + 1 :])
            return True
        # An access line of a shape we do not know could hold a query string: drop it rather than guess.
        return False


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{process}{message}",
            style="{",
            # The process id tells apart the lines of several workers (stratcare serve --workers N).
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        )
    )
    handler.addFilter(DropSecrets())
    handler.addFilter(DropQueryStrings())
    handler.addFilter(StampHookInstance())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
