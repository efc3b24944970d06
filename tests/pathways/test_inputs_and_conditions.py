"""PathwayInputs validation, the active-condition rule, and the purity of the pathway package."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

import pytest

import stratcare.pathways
from stratcare.pathways import PathwayInputs
from stratcare.pathways.active_conditions import is_active_condition

from .factories import NOW, condition


class TestInputs:
    def test_naive_now_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            PathwayInputs(patient_id="p1", now=datetime(2026, 11, 20, 10, 0))

    def test_empty_patient_id_is_refused(self) -> None:
        with pytest.raises(ValueError, match="patient_id"):
            PathwayInputs(patient_id="", now=NOW)


class TestActiveCondition:
    @pytest.mark.parametrize("status", ["active", "recurrence", "relapse"])
    def test_active_statuses_count(self, status: str) -> None:
        assert is_active_condition(condition("1", clinical_status=status))

    @pytest.mark.parametrize("status", ["inactive", "remission", "resolved"])
    def test_inactive_statuses_do_not(self, status: str) -> None:
        assert not is_active_condition(condition("1", clinical_status=status))

    @pytest.mark.parametrize("verification", ["entered-in-error", "refuted"])
    def test_discounted_verification_does_not(self, verification: str) -> None:
        assert not is_active_condition(condition("1", verification_status=verification))

    @pytest.mark.parametrize("verification", ["provisional", "differential", "unconfirmed", None])
    def test_unconfirmed_verification_still_counts(self, verification: str | None) -> None:
        assert is_active_condition(condition("1", verification_status=verification))

    def test_missing_clinical_status_does_not_count(self) -> None:
        assert not is_active_condition(condition("1", clinical_status=None))


FORBIDDEN_IMPORTS = ("fastapi", "httpx", "sqlalchemy")
HIDDEN_SOURCES = ("now", "utcnow", "today", "uuid1", "uuid4", "time")


def _offences(module: Path) -> list[str]:
    offences = []
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            offences += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            offences.append(node.module)
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in HIDDEN_SOURCES:
                offences.append(f"{called}()")
    return [
        f"{module.name}: {name}"
        for name in offences
        if name.split(".")[0] in FORBIDDEN_IMPORTS or name.endswith("()")
    ]


def test_pathway_package_is_pure() -> None:
    """No transport or storage imports, and no hidden clock or uuid calls."""
    package = Path(stratcare.pathways.__file__).parent
    assert [offence for module in package.glob("*.py") for offence in _offences(module)] == []


def test_public_api() -> None:
    assert sorted(stratcare.pathways.__all__) == [
        "AppliedAction",
        "Pathway",
        "PathwayContentError",
        "PathwayInputs",
        "Terminology",
        "UuidFactory",
        "load_pathway",
    ]
