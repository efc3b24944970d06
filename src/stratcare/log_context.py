"""Which hook call the running code serves, so every log record written during it can name it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from uuid import UUID

_hook_instance: ContextVar[str | None] = ContextVar("hook_instance", default=None)


@contextmanager
def serving_hook_call(hook_instance: UUID) -> Iterator[None]:
    token = _hook_instance.set(str(hook_instance))
    try:
        yield
    finally:
        _hook_instance.reset(token)


class StampHookInstance(logging.Filter):
    """Adds ``hookInstance`` to records written during a hook call that do not carry it already
    (outbound FHIR calls, libraries)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = _hook_instance.get()
        if current is not None and not hasattr(record, "hookInstance"):
            record.hookInstance = current
        return True
