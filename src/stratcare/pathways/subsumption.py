"""Hierarchy questions the pure terminology cannot answer itself, and the answers given to it.

SNOMED CT's hierarchy lives in a terminology server, not in the code. Pathway evaluation is synchronous and
pure, so the server is never asked during evaluation: the caller collects the questions first
(``Terminology.hierarchy_questions``), has them answered asynchronously within a time bound, and passes the
answers in (``PathwayInputs.hierarchy_answers``). A question without an answer falls back to the ValueSet's
shipped expansion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, order=True)
class Subsumption:
    """Is ``code`` the concept ``ancestor`` or one of its descendants, in code system ``system``?"""

    system: str
    ancestor: str
    code: str


KnownSubsumptions = Mapping[Subsumption, bool]
NO_ANSWERS: KnownSubsumptions = MappingProxyType({})
