"""The engine, pathways, store and write-back name no instrument: every instrument is content.

Checked on the code itself (identifiers and string literals, not docstrings or comments, which may give
an example): no Questionnaire url, instrument key, write-back name or card name of any shipped instrument,
and none of the old per-instrument names.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

import stratcare
from stratcare.content import ContentRepository
from stratcare.instruments.registry import InstrumentRegistry

PACKAGES = ("engine", "pathways", "store", "writeback")
# A migration describes what an earlier release stored, so it may name that release's columns.
EXEMPT = ("store/migrations/",)
LEGACY = ("start_back", "startback", "nih", "phq", "gad", "chronicity", "risk_group_of")
SOURCE = Path(stratcare.__file__).parent


@cache
def instrument_words() -> set[str]:
    registry = InstrumentRegistry.from_content(ContentRepository.load())
    definitions = [i.definition for i in registry.instruments.values()]
    definitions += [u.definition for u in registry.unavailable.values() if u.definition is not None]
    words = {word for d in definitions for word in (d.url, d.key, d.result_name, d.name, d.short_name)}
    return {word.lower() for word in words} | set(LEGACY)


def _docstrings(tree: ast.AST) -> set[int]:
    """Module, class, function and attribute docstrings: string literals standing alone as statements."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def code_words(path: Path) -> list[str]:
    """Identifiers and non-docstring string literals of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    words: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.append(node.value)
        elif isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            words.append(node.name)
        elif isinstance(node, ast.arg):
            words.append(node.arg)
        elif isinstance(node, ast.alias):
            words.append(node.asname or node.name)
    return words


def _modules() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((SOURCE / package).rglob("*.py"))
        if not any(part in path.relative_to(SOURCE).as_posix() for part in EXEMPT)
    ]


def _hits(words: list[str], names: set[str]) -> list[str]:
    patterns = [re.compile(rf"(?<![a-z]){re.escape(name)}(?![a-z])") for name in names]
    return sorted({word for word in words for p in patterns if p.search(word.lower())})


@pytest.mark.parametrize("module", _modules(), ids=lambda path: path.relative_to(SOURCE).as_posix())
def test_no_module_names_an_instrument(module: Path) -> None:
    assert _hits(code_words(module), instrument_words()) == []


def test_the_check_finds_an_instrument_named_in_code(tmp_path: Path) -> None:
    module = tmp_path / "named.py"
    module.write_text(
        '"""Docstrings may say STarT Back."""\n'
        'URL = "http://stratcare.org/fhir/Questionnaire/start-back"\n'
        "def score_phq(start_back_total: int) -> int:\n"
        '    """Nor here: PHQ-9."""\n'
        "    return start_back_total\n",
        encoding="utf-8",
    )
    hits = _hits(code_words(module), instrument_words())
    assert "http://stratcare.org/fhir/Questionnaire/start-back" in hits
    assert "score_phq" in hits
    assert "start_back_total" in hits
    assert not any("STarT Back" in hit or "PHQ-9" in hit for hit in hits)
