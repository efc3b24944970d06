"""Audit-and-feedback measures: what each one counts, in words, next to the numbers that carry it.

The definitions follow how the TARGET and MATCH trials reported stratification (and STarT MSK its
fidelity): the unit is a patient identified with back pain in the reporting period at one clinic, and a
rate is a count of such patients over the identified ones, never a count of hook calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    definition: str


IDENTIFIED = Measure(
    "identified",
    "Patients identified",
    "Distinct patients for whom a hook call in the period, at the clinic, returned a stratified-care card "
    "other than one that takes the patient off the pathway (a red flag): the pathway recognised back pain. "
    "The patient counts at the clinic, clinician, workflow point and period of the first such call.",
)
STRATIFIED = Measure(
    "stratified",
    "Patients stratified",
    "Identified patients with a completed (scored) screen that sorted them into a risk group, authored "
    "within the episode window before a hook call at the clinic in the period (TARGET: a completed "
    "STarT Back screen in the episode).",
)
STRATIFICATION_RATE = Measure(
    "stratification_rate",
    "Stratification rate",
    "Stratified over identified patients (TARGET reported 38%, 15-65% by clinic). Empty when none were "
    "identified.",
)
RISK_GROUPS = Measure(
    "risk_groups",
    "Patients by risk group",
    "Stratified patients by the risk group of their newest scored screen in the period.",
)
ACUTE_HIGH_RISK = Measure(
    "acute_high_risk",
    "Acute high-risk patients",
    "Stratified patients whose newest risk group is high and whose newest chronicity screen in the period "
    "(NIH Research Task Force, Deyo 2014) says acute: the group TARGET referred to psychologically "
    "informed physical therapy.",
)
REFERRALS_PENDED = Measure(
    "referrals_pended",
    "Referrals pended",
    "Identified patients shown a card in the period that proposed a referral (a draft, pended order for "
    "the clinician to sign).",
)
REFERRALS_SIGNED = Measure(
    "referrals_signed",
    "Referrals signed",
    "Identified patients with at least one card proposing a referral whose feedback accepted a "
    "suggestion (the clinician signed the pended order).",
)
HIGH_RISK_REFERRED = Measure(
    "high_risk_referred",
    "High-risk patients referred to the matched treatment",
    "Patients whose newest risk group is high with a signed referral on a high-risk card (the matched "
    "treatment, psychologically informed physiotherapy); the rate is over patients whose newest risk group "
    "is high (TARGET: 39% of acute high-risk patients, 8-71% by clinic).",
)
CARD_ACCEPTANCE = Measure(
    "card_acceptance",
    "Card acceptance",
    "Cards issued in the period with feedback, and of those the ones accepted; a card counts once, as "
    "accepted when any of its feedback accepted it. Override reasons are counted per coded reason.",
)
FIDELITY = Measure(
    "fidelity",
    "Fidelity to the matched treatment",
    "Per clinician: of the risk-group cards they gave feedback on (decisions), the share accepted, i.e. "
    "the decision matched the risk group's treatment (STarT MSK fidelity monitoring).",
)

MEASURES = (
    IDENTIFIED,
    STRATIFIED,
    STRATIFICATION_RATE,
    RISK_GROUPS,
    ACUTE_HIGH_RISK,
    REFERRALS_PENDED,
    REFERRALS_SIGNED,
    HIGH_RISK_REFERRED,
    CARD_ACCEPTANCE,
    FIDELITY,
)


class Dimension(StrEnum):
    """What a report groups its rows by."""

    CLINIC = "clinic"
    CLINICIAN = "clinician"
    PERIOD = "period"
    WORKFLOW_POINT = "workflow_point"


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


CLINICIAN_WORKFLOW = "clinician"
"""The workflow point of a hook call that recorded none: CDS hooks fire in the clinician's workflow."""


@dataclass(frozen=True)
class Vocabulary:
    """How the pathway's content names what the measures count (defaults: the shipped PlanDefinition)."""

    off_pathway_actions: frozenset[str] = frozenset({"red-flag"})
    risk_actions: frozenset[str] = frozenset({"low-risk", "medium-risk", "high-risk"})
    high_risk_group: str = "high"
    acute: str = "acute"
    # The band codes of the pain-duration screen (Questionnaire-nih-clbp-screen.json): the newest of these is
    # the patient's chronicity.
    duration_bands: frozenset[str] = frozenset({"acute", "chronic"})


def rate(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class PatientCounts:
    """Patient-level measures for one group of a report."""

    group: dict[str, str | None]
    identified: int
    stratified: int
    risk_groups: dict[str, int] = field(default_factory=dict)
    acute_high_risk: int = 0
    high_risk: int = 0
    referrals_pended: int = 0
    referrals_signed: int = 0
    high_risk_referred: int = 0

    @property
    def stratification_rate(self) -> float | None:
        return rate(self.stratified, self.identified)

    @property
    def high_risk_referral_rate(self) -> float | None:
        return rate(self.high_risk_referred, self.high_risk)


@dataclass(frozen=True)
class CardCounts:
    """Card-level measures (acceptance, fidelity) for one group of a report."""

    group: dict[str, str | None]
    cards: int
    with_feedback: int
    accepted: int
    risk_decisions: int
    risk_decisions_matched: int

    @property
    def acceptance_rate(self) -> float | None:
        return rate(self.accepted, self.with_feedback)

    @property
    def fidelity(self) -> float | None:
        return rate(self.risk_decisions_matched, self.risk_decisions)


@dataclass(frozen=True)
class OverrideReasonCount:
    group: dict[str, str | None]
    system: str | None
    code: str | None
    count: int


NOT_STRATIFIED = "identified-not-stratified"
HIGH_RISK_NOT_REFERRED = "high-risk-not-referred"


@dataclass(frozen=True)
class MissedPatient:
    """A patient the clinic may want to follow up: identified but not stratified (no current screen), or
    high risk without a signed referral to the matched treatment."""

    clinic: str
    patient_id: str
    clinician: str | None
    workflow_point: str
    identified_at: datetime
    fhir_server: str | None
    risk_group: str | None
    reason: str
