"""Cards asking for a screen carry a CDS Hooks ``smart`` link to the capture page (CDS Hooks 2.0 Link)."""

from __future__ import annotations

import json

from stratcare.cdshooks.models import Card
from stratcare.content import ContentRepository
from stratcare.pathways import Pathway, load_pathway
from support.instrument_results import RiskGroup

from .factories import SequentialUuids, inputs, start_back, start_back_rejected
from .workflow_factories import (
    MRI_LUMBAR,
    ORDER_REVIEW,
    PRE_VISIT,
    appointment,
    draft_service_request,
    staff,
    workflow,
)

LAUNCH = "https://stratcare.example.org/capture/launch"
START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back|1.0.0"


def smart_links(card: Card) -> list[dict[str, object]]:
    return [link.model_dump(exclude_none=True) for link in card.links or [] if link.type == "smart"]


def app_context(card: Card) -> dict[str, object]:
    (link,) = smart_links(card)
    assert link["url"] == LAUNCH
    assert isinstance(link["appContext"], str)  # CDS Hooks: appContext is a string
    context = json.loads(link["appContext"])
    assert isinstance(context, dict)
    return context


class TestScreeningCards:
    def test_screening_due_links_the_capture_page_for_this_patient_and_encounter(
        self, pathway: Pathway
    ) -> None:
        (card,) = pathway.apply(inputs(), SequentialUuids(), launch_url=LAUNCH)
        assert app_context(card) == {
            "questionnaire": START_BACK,
            "patient": "p1",
            "encounter": "e1",
            "workflowPoint": "clinician",
        }
        (link,) = smart_links(card)
        assert "STarT Back" in str(link["label"])
        assert [link.type for link in card.links or []] == ["smart"]  # no absolute link to Keele

    def test_an_incomplete_screen_links_it_again(self, pathway: Pathway) -> None:
        given = inputs(start_back=start_back_rejected("question 3 is not answered"))
        (card,) = pathway.apply(given, SequentialUuids(), launch_url=LAUNCH)
        assert app_context(card)["questionnaire"] == START_BACK

    def test_without_an_encounter_the_context_has_none(self, pathway: Pathway) -> None:
        (card,) = pathway.apply(inputs(encounter_id=None), SequentialUuids(), launch_url=LAUNCH)
        assert "encounter" not in app_context(card)

    def test_the_staff_card_names_the_staff_workflow_point(self, pathway: Pathway) -> None:
        (card,) = pathway.apply(inputs(workflow=staff()), SequentialUuids(), launch_url=LAUNCH)
        assert app_context(card)["workflowPoint"] == "front-desk"
        assert card.suggestions is not None  # the Task for the clinic team stays

    def test_risk_cards_ask_for_no_screen(self, pathway: Pathway) -> None:
        given = inputs(start_back=start_back(RiskGroup.MEDIUM))
        (card,) = pathway.apply(given, SequentialUuids(), launch_url=LAUNCH)
        assert smart_links(card) == []

    def test_no_launch_url_no_smart_link(self, pathway: Pathway) -> None:
        (card,) = pathway.apply(inputs(), SequentialUuids())
        assert smart_links(card) == []


class TestOtherPathways:
    def test_the_imaging_card_links_the_screen(self, content: ContentRepository) -> None:
        review = load_pathway(content, ORDER_REVIEW)
        facts = workflow(hook="order-sign", draft_orders=(draft_service_request(MRI_LUMBAR),))
        (card,) = review.apply(inputs(workflow=facts), SequentialUuids(), launch_url=LAUNCH)
        assert app_context(card)["questionnaire"] == START_BACK
        assert [link.type for link in card.links or []] == ["absolute", "smart"]  # NICE NG59 stays

    def test_the_pre_visit_card_links_the_screen(self, content: ContentRepository) -> None:
        pre_visit = load_pathway(content, PRE_VISIT)
        facts = workflow(
            hook="appointment-book", point="pre-visit", role="staff", appointments=(appointment(),)
        )
        (card,) = pre_visit.apply(
            inputs(workflow=facts, encounter_id=None), SequentialUuids(), launch_url=LAUNCH
        )
        assert app_context(card) == {
            "questionnaire": START_BACK,
            "patient": "p1",
            "workflowPoint": "pre-visit",
        }
