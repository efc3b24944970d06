"""Why a letter could not be drafted (each is reported on the card, never as a crash of the hook)."""

from __future__ import annotations


class LetterRenderingError(ValueError):
    """The HTML could not be turned into a PDF."""
