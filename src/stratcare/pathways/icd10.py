"""ICD-10 and ICD-10-CM hierarchy from the code's own structure.

Rule (WHO ICD-10 2019 volume 2, 2.4; ICD-10-CM Official Guidelines for Coding and Reporting, section
I.A.4-I.A.7 and I.B.1): a code is a 3-character category (letter, digit, then a digit or, in ICD-10-CM, a
letter: C4A) followed, after a dot, by up to four more characters, each of which narrows the one before.
So a code is-a every shorter code it starts with: S32.010A is-a S32.010, S32.01, S32.0 and S32. ICD-10-CM's
placeholder ``X`` (M48.50XA, where a 7th character follows a code shorter than six characters) is an ordinary
character under this rule, and the NHS four-character form pads categories with a trailing ``X`` (A33X for
A33), which is dropped. Block codes (``C00-C96``) contain every category from the first to the last. Codes
are compared without dots and case-insensitively, because EHRs send both ``M48.50XA`` and ``M4850XA``.
"""

from __future__ import annotations

import re

ICD10_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm"})

_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
_BLOCK = re.compile(r"^([A-Z][0-9][0-9A-Z])-([A-Z][0-9][0-9A-Z])$")


def _normalised(code: str) -> str | None:
    """The code without its dot and padding ``X``, upper case; None when it is not ICD-10 shaped."""
    text = code.strip().upper()
    if not _CODE.match(text):
        return None
    compact = text.replace(".", "")
    return compact[:3] + compact[3:].rstrip("X")


def is_valid_ancestor(value: str) -> bool:
    """Whether ``value`` can head an ICD-10 hierarchy filter: a code or a block of categories."""
    text = value.strip().upper()
    block = _BLOCK.match(text)
    if block:
        return block.group(1) <= block.group(2)
    return _normalised(text) is not None


def is_a(code: str, ancestor: str) -> bool:
    """Whether ``code`` is ``ancestor`` or one of its descendants (``ancestor`` a code or a block)."""
    normalised = _normalised(code)
    if normalised is None:
        return False
    block = _BLOCK.match(ancestor.strip().upper())
    if block:
        return block.group(1) <= normalised[:3] <= block.group(2)
    head = _normalised(ancestor)
    return head is not None and normalised.startswith(head)


def same_code(code: str, other: str) -> bool:
    """Whether two ICD-10 codes are the same code, written with or without the dot."""
    normalised = _normalised(code)
    return normalised is not None and normalised == _normalised(other)
