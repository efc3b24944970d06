"""Fixtures shared by every test package."""

from support.postgres import postgres_url

__all__ = ["postgres_url"]
