"""Clinician support: a gentle prompt below the clinic's fidelity level, and the clinic's links."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from stratcare.api.app import create_app
from stratcare.cdshooks.models import Card, Source
from stratcare.demo.scenarios import load_scenarios
from stratcare.engine.ports import IssuedCard
from stratcare.reports.settings import ReportSettings, SupportLink
from stratcare.reports.support import Fidelity, support_note, with_support
from stratcare.settings import Settings
from stratcare.store import SqlLedgers
from stratcare.store.reports_support import SqlClinicianSupport

from .seed import CLINIC_A, CLINIC_B, Seeder

TRAINING = SupportLink(label="STarT Back training", url="https://training.example.org/start-back")


def issued(action: str) -> IssuedCard:
    card = Card(uuid=uuid4(), summary=action, detail="Details.", indicator="info", source=Source(label="s"))
    return IssuedCard(card=card, pathway_action=action, risk_group="high", referral_suggested=True)


def settings(**changes: Any) -> ReportSettings:
    defaults: dict[str, Any] = {"fidelity_prompt_below": {CLINIC_A: 0.8}, "fidelity_min_decisions": 3}
    return ReportSettings(**{**defaults, **changes})


class TestSupportNote:
    def test_prompt_below_the_clinic_level(self) -> None:
        note = support_note(settings(), CLINIC_A, Fidelity(decisions=4, matched=2))
        assert note.prompt is not None
        assert "2 of your 4 decisions" in note.prompt

    @pytest.mark.parametrize(
        ("clinic", "fidelity"),
        [
            (CLINIC_A, Fidelity(decisions=4, matched=4)),  # at or above the level
            (CLINIC_A, Fidelity(decisions=2, matched=0)),  # too few decisions to judge
            (CLINIC_B, Fidelity(decisions=10, matched=0)),  # this clinic set no level
            (CLINIC_A, None),
        ],
    )
    def test_no_prompt(self, clinic: str, fidelity: Fidelity | None) -> None:
        assert support_note(settings(), clinic, fidelity).prompt is None

    def test_every_clinic_default_and_links(self) -> None:
        configured = settings(fidelity_prompt_below={"*": 0.5}, support_links={"*": [TRAINING]})
        note = support_note(configured, CLINIC_B, Fidelity(decisions=5, matched=1))
        assert note.prompt is not None
        assert note.links == (TRAINING,)


class TestWithSupport:
    def test_risk_cards_get_prompt_and_links_others_not(self) -> None:
        note = support_note(
            settings(support_links={CLINIC_A: [TRAINING]}), CLINIC_A, Fidelity(decisions=5, matched=1)
        )
        risk, red_flag = with_support([issued("high-risk"), issued("red-flag")], note)
        assert risk.card.detail is not None
        assert risk.card.detail.startswith("Details.\n\nIn the last 90 days, 1 of your 5")
        assert [(link.label, link.url) for link in risk.card.links or []] == [
            ("STarT Back training", "https://training.example.org/start-back")
        ]
        assert red_flag.card.detail == "Details."
        assert red_flag.card.links is None


def seed_recent(seeder: Seeder, clinician: str, matched: int, overridden: int) -> None:
    when = datetime.now(UTC) - timedelta(days=1)
    for index in range(matched + overridden):
        call = seeder.call(f"p{index}", when, clinician)
        card = seeder.card(call, "high-risk", risk_group="high", referral=True)
        seeder.answer(card, "accepted" if index < matched else "overridden", when)


async def test_store_fidelity_prompts_only_the_clinician_below(ledgers: SqlLedgers) -> None:
    seeder = Seeder(ledgers.engine)
    seed_recent(seeder, "Practitioner/doc-1", matched=1, overridden=3)
    seed_recent(seeder, "Practitioner/doc-2", matched=4, overridden=0)
    await seeder.write()
    support = SqlClinicianSupport(ledgers.engine, settings())
    now = datetime.now(UTC)
    (low,) = await support.annotate(CLINIC_A, "Practitioner/doc-1", now, [issued("high-risk")])
    (high,) = await support.annotate(CLINIC_A, "Practitioner/doc-2", now, [issued("high-risk")])
    assert "1 of your 4 decisions" in (low.card.detail or "")
    assert high.card.detail == "Details."


async def test_the_next_card_over_http_carries_the_prompt(tmp_path: Path) -> None:
    body = copy.deepcopy(next(s for s in load_scenarios() if s.name == "high-risk").request)
    body["prefetch"]["encounter"]["serviceProvider"] = {"reference": CLINIC_A}
    clinician = body["context"]["userId"]
    app = create_app(
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}",
            auth="off",
            reports=settings(support_links={CLINIC_A: [TRAINING]}),
        )
    )
    async with app.router.lifespan_context(app):
        seeder = Seeder(app.state.runtime.database)
        seed_recent(seeder, clinician, matched=1, overridden=4)
        await seeder.write()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            response = await http.post("/cds-services/start-back-encounter-start", json=body)
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert "1 of your 5 decisions" in card["detail"]
    assert {
        "label": "STarT Back training",
        "url": "https://training.example.org/start-back",
        "type": "absolute",
    } in card["links"]
