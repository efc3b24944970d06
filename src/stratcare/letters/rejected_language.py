"""Wording the co-design rejected, which no letter may contain (BMC Musculoskeletal Disorders
2021;22:896, doi:10.1186/s12891-021-04783-8): patients felt "your back is strong and stable" was
condescending, and rejected "chronic low back pain" as the name of their diagnosis in favour of
"persistent musculoskeletal low back pain"."""

from __future__ import annotations

import re
from html import unescape

REJECTED_PHRASES = ("your back is strong and stable", "chronic low back pain")
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


class RejectedLanguage(ValueError):
    """A rendered letter contains wording patients rejected; it must not be drafted as it is."""


def visible_text(html: str) -> str:
    """The words a reader sees, lower-cased, with markup and line breaks folded away."""
    return _SPACE.sub(" ", unescape(_TAGS.sub(" ", html))).strip().lower()


def rejected_phrases_in(html: str) -> list[str]:
    text = visible_text(html)
    return [phrase for phrase in REJECTED_PHRASES if phrase in text]


def refuse_rejected_language(html: str, template: str) -> None:
    found = rejected_phrases_in(html)
    if found:
        raise RejectedLanguage(f"{template} would say {', '.join(repr(p) for p in found)}")
