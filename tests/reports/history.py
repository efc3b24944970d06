"""A random clinic history written through the hook and feedback ledgers, as the service writes it.

Dense on purpose: few patients and days, so that one patient has several calls on one day, screens sit
either side of the episode window's edge, cards get several feedback items (some repeated), calls come
without a clinic, a clinician or a workflow point, and later calls see earlier referrals' statuses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from stratcare.cdshooks.models import Card, FeedbackItem, Source, Suggestion
from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.instruments.results import ResponseRejected, ResponseSource
from stratcare.pathways.referral_tracking import ReferralStatus
from stratcare.store import SqlLedgers
from support.instrument_results import nih_result, start_back_result

START = datetime(2025, 3, 3, tzinfo=UTC)
DAYS = 21
SERVICE = "start-back-encounter-start"
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
NIH = "http://stratcare.org/fhir/Questionnaire/nih-screen"
CLINICS = ("Organization/clinic-a", "Organization/clinic-b", None)
CLINICIANS = ("Practitioner/doc-1", "Practitioner/doc-2", "Practitioner/doc-3", None)
POINTS = ("pre-visit", "rooming", "clinician", None)
ACTIONS = ("red-flag", "flag:phq9:item-9", "screening-due", "low-risk", "medium-risk", "high-risk")
REASONS = ("patient-declined", "already-referred", None)
STATUSES = ("draft", "active", "completed", "revoked", "on-hold")
EDGE = timedelta(days=28)
"""The default episode window: many screens are aged just either side of it."""


def risk_screen(risk: str, authored: datetime) -> ScoringOutcome:
    return start_back_result(
        ResponseSource(f"qr-{uuid4()}", "1", f"{START_BACK}|1.1", authored), risk_group=risk
    )


def duration_screen(band: str, authored: datetime) -> ScoringOutcome:
    return nih_result(ResponseSource(f"qn-{uuid4()}", "1", NIH, authored), chronicity=band)


def rejected_screen(authored: datetime) -> ScoringOutcome:
    return ResponseRejected(ResponseSource(f"qx-{uuid4()}", "1", START_BACK, authored), START_BACK, ("x",))


def issued(action: str) -> IssuedCard:
    risk = action.removesuffix("-risk") if action.endswith("-risk") else None
    referral = action in ("medium-risk", "high-risk")
    card = Card(
        uuid=uuid4(),
        summary=action,
        indicator="info",
        source=Source(label="STarT Back"),
        suggestions=[Suggestion(label="Refer", uuid=uuid4())] if referral else None,
    )
    return IssuedCard(card=card, pathway_action=action, risk_group=risk, referral_suggested=referral)


@dataclass
class History:
    rng: random.Random
    cards: list[tuple[str, IssuedCard]] = field(default_factory=list)
    """(patient, card) in the order issued."""
    used: list[tuple[str, str | None, datetime]] = field(default_factory=list)

    def moment(self, patient: str, clinic: str | None) -> datetime:
        same_day = [when for p, c, when in self.used if p == patient and c == clinic]
        if same_day and self.rng.random() < 0.35:
            day = self.rng.choice(same_day).replace(hour=0, minute=0, second=0, microsecond=0)
        else:
            day = START + timedelta(days=self.rng.randrange(DAYS))
        return day + timedelta(seconds=self.rng.randrange(86400), microseconds=self.rng.randrange(10**6))

    def age(self) -> timedelta:
        if self.rng.random() < 0.5:
            return EDGE + timedelta(hours=self.rng.uniform(-20, 20))
        return timedelta(hours=self.rng.uniform(-2, 40 * 24))

    def screens(self, received: datetime) -> list[ScoringOutcome]:
        found: list[ScoringOutcome] = []
        for _ in range(self.rng.choice((0, 1, 1, 2))):
            found.append(risk_screen(self.rng.choice(("low", "medium", "high")), received - self.age()))
        if self.rng.random() < 0.5:
            found.append(duration_screen(self.rng.choice(("acute", "chronic")), received - self.age()))
        if self.rng.random() < 0.1:
            found.append(rejected_screen(received - self.age()))
        return found

    def statuses(self, patient: str) -> list[ReferralStatus]:
        earlier = [c for p, c in self.cards if p == patient and c.referral_suggested]
        earlier += [c for _, c in self.cards[-3:]]  # another patient's, or no referral: ignored
        seen = self.rng.sample(earlier, min(len(earlier), self.rng.choice((0, 0, 1, 2))))
        return [ReferralStatus(card.card.uuid, self.rng.choice(STATUSES)) for card in seen]

    def call(self, patient: str, clinic: str | None) -> HookCallFacts:
        received = self.moment(patient, clinic)
        self.used.append((patient, clinic, received))
        return HookCallFacts(
            hook_instance=uuid4(),
            service_id=SERVICE,
            hook="encounter-start",
            patient_id=patient,
            encounter_id=None,
            user_id=self.rng.choice(CLINICIANS),
            fhir_server="https://ehr.example.org/fhir",
            received_at=received,
            outcome="cards",
            clinic=clinic,
            workflow_point=self.rng.choice(POINTS),
        )

    def feedback(self, card: IssuedCard) -> FeedbackItem:
        when = START + timedelta(days=DAYS, minutes=self.rng.randrange(5))
        if card.card.suggestions and self.rng.random() < 0.6:
            chosen = [{"id": str(card.card.suggestions[0].uuid)}]
            body = {"card": card.card.uuid, "outcome": "accepted", "acceptedSuggestions": chosen}
        else:
            body = {"card": card.card.uuid, "outcome": "overridden"}
            code = self.rng.choice(REASONS)
            if code:
                reason = {"system": "http://example.org/override", "code": code}
                body["overrideReason"] = {"reason": reason}
        return FeedbackItem.model_validate(body | {"outcomeTimestamp": when.isoformat()})


async def write_history(ledgers: SqlLedgers, seed: int, calls: int = 160) -> History:
    history = History(random.Random(seed))
    rng = history.rng
    home = {f"p{n}": CLINICS[n % len(CLINICS)] for n in range(14)}
    for _ in range(calls):
        patient = rng.choice(sorted(home))
        clinic = home[patient] if rng.random() < 0.85 else rng.choice(CLINICS)
        call = history.call(patient, clinic)
        cards = [issued(rng.choice(ACTIONS)) for _ in range(rng.choice((0, 1, 1, 2)))]
        statuses = history.statuses(patient)
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call, history.screens(call.received_at), cards, (), statuses)
        history.cards += [(patient, card) for card in cards]
    for _, card in history.cards:
        items = [history.feedback(card) for _ in range(rng.choice((0, 0, 1, 2, 3)))]
        items += items[:1] if rng.random() < 0.3 else []  # sent again: stored once
        split = rng.randrange(len(items) + 1)
        for batch in (items[:split], items[split:]):  # the second batch sees the first's verdicts
            if batch:
                async with ledgers.feedback_ledger() as ledger:
                    await ledger.store(SERVICE, batch, START + timedelta(days=DAYS))
    return history
