"""The budgets of issue 11 item 3 as PASS/FAIL lines, never assertions (ratios: absolute times vary)."""

from __future__ import annotations

from dataclasses import dataclass

EHR_PATIENCE_SECONDS = 2.0
"""What the harness takes as "well inside what EHRs wait" for the per-call deadline (CDS Hooks asks for
answers "on the order of 500 ms"; EHRs drop cards that come late)."""


@dataclass(frozen=True)
class Check:
    budget: str
    holds: bool | None
    """None: it could not be measured (the reason is in ``measured``)."""
    measured: str

    def line(self) -> str:
        verdict = "UNAVAILABLE" if self.holds is None else ("PASS" if self.holds else "FAIL")
        return f"{verdict:<11} {self.budget}: {self.measured}"


def at_least(budget: str, value: float | None, floor: float, unit: str = "x", why: str = "") -> Check:
    if value is None:
        return Check(budget, None, why)
    return Check(budget, value >= floor, f"{value:.2f}{unit} (needs >= {floor:.2f}{unit})")


def at_most(budget: str, value: float | None, ceiling: float, unit: str, why: str = "") -> Check:
    if value is None:
        return Check(budget, None, why)
    return Check(budget, value <= ceiling, f"{value:.2f}{unit} (needs <= {ceiling:.2f}{unit})")
