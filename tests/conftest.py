"""Fixtures shared by every test package."""

import logging
from collections.abc import Iterator

import pytest

from support.postgres import postgres_url

__all__ = ["postgres_url", "root_logging_restored"]


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """Each test starts with the root logger the previous one found: a command run in-process configures
    logging onto the stream it was given (``configure_logging``), which is closed once the command ends."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers = handlers
    root.setLevel(level)
