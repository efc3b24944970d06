"""One JSON alias for the whole package: a second definition could drift from it unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

import stratcare

PACKAGE = Path(stratcare.__file__).resolve().parent
DEFINITION = re.compile(r"^Json[A-Z]\w* = ", re.MULTILINE)


def test_json_aliases_are_defined_in_json_types_only() -> None:
    defining = sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if DEFINITION.search(path.read_text(encoding="utf-8"))
    )
    assert defining == ["json_types.py"]
