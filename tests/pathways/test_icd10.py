"""ICD-10 / ICD-10-CM hierarchy by code structure."""

from __future__ import annotations

import pytest

from stratcare.pathways import icd10


@pytest.mark.parametrize(
    ("code", "ancestor"),
    [
        ("M48.50XA", "M48.5"),
        ("M4850XA", "M48.5"),
        ("S32.010A", "S32.0"),
        ("S32.010A", "S32"),
        ("C79.51", "C79.5"),
        ("C79.51", "C79"),
        ("C79.51", "C00-C96"),
        ("C4A.0", "C00-C96"),
        ("M80.08XA", "M80.08"),
        ("M80.08XA", "M80.08X"),
        ("C61X", "C61"),
        ("z85.3", "Z85"),
        ("G83.4", "G83.4"),
    ],
)
def test_a_code_is_a_its_category(code: str, ancestor: str) -> None:
    assert icd10.is_a(code, ancestor)


@pytest.mark.parametrize(
    ("code", "ancestor"),
    [
        ("M54.5", "M48.5"),
        ("S33.5", "S32"),
        ("M48.5", "M48.50XA"),
        ("D49.5", "C00-C96"),
        ("C97", "C00-C96"),
        ("M80.00XA", "M80.08"),
        ("S12.8XXA", "S12.9"),
        ("not a code", "S32"),
        ("S3", "S32"),
        ("", "S32"),
    ],
)
def test_a_code_is_not_a_code_it_does_not_start_with(code: str, ancestor: str) -> None:
    assert not icd10.is_a(code, ancestor)


@pytest.mark.parametrize("value", ["S32", "M48.5", "C00-C96", "M80.08X"])
def test_valid_ancestors(value: str) -> None:
    assert icd10.is_valid_ancestor(value)


@pytest.mark.parametrize("value", ["C96-C00", "S3", "low back", "S32.01234"])
def test_invalid_ancestors(value: str) -> None:
    assert not icd10.is_valid_ancestor(value)
