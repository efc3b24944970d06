"""encounter-discharge drafts the post-consultation letter (Composition, DocumentReference with HTML and
PDF, and its sending to the patient and GP), never while a red flag is active."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from fhir.resources.R4B import get_fhir_model_class
from PIL import Image

from letters.conftest import NOW, POST, Decide
from letters.letter_parts import decoded, post_letter
from letters.readability import flesch_reading_ease
from stratcare.cdshooks.context import parse_context
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.engine.hierarchy import HierarchyLookup
from stratcare.engine.letters_decision import SpineLettersDecider
from stratcare.engine.record import build_record
from stratcare.letters import POST_CONSULTATION_SECTIONS
from stratcare.letters.rejected_language import visible_text

PLAIN_LANGUAGE = 60  # Flesch reading ease, "standard" / plain English (Flesch 1948)
A4_AT_72_DPI = (595.28, 841.89)  # 210 x 297 mm in points; pdftoppm rounds up
CAUDA_EQUINA = {"system": "http://snomed.info/sct", "code": "192970008", "display": "Cauda equina syndrome"}


def _letter_html(decide: Decide, request: dict[str, Any]) -> str:
    _, document, _ = post_letter(decide(request))
    return decoded(document["content"][0]["attachment"]).decode("utf-8")


def _add_condition(request: dict[str, Any], code: dict[str, Any], **extra: Any) -> None:
    condition = {
        "resourceType": "Condition",
        "id": f"c-{code['code']}",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": {"coding": [code]},
        "subject": {"reference": "Patient/spine-patient-1"},
        **extra,
    }
    conditions = request["prefetch"]["conditions"]
    conditions["entry"].append({"resource": condition})
    conditions["total"] = len(conditions["entry"])


class TestPostConsultationDrafts:
    def test_resources_are_valid_drafts_linked_by_identifier(self, decide: Decide, sample: Any) -> None:
        composition, document, communication = post_letter(decide(sample(POST)))
        for resource in (composition, document, communication):
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert composition["status"] == "preliminary"
        assert composition["subject"] == {"reference": "Patient/spine-patient-1"}
        assert composition["author"] == [{"reference": "Practitioner/spine-app"}]
        assert document["docStatus"] == "preliminary"
        assert document["context"]["related"][0]["identifier"] == composition["identifier"]
        assert [c["attachment"]["contentType"] for c in document["content"]] == [
            "text/html; charset=utf-8",
            "application/pdf",
        ]
        assert communication["status"] == "preparation"
        assert communication["recipient"] == [
            {"reference": "Patient/spine-patient-1"},
            {"reference": "Practitioner/gp-hale", "display": "Dr Sam Hale"},
        ]
        payload = communication["payload"][0]["contentReference"]
        assert payload["identifier"] == document["masterIdentifier"]

    def test_a_section_for_every_element(self, decide: Decide, sample: Any) -> None:
        composition, _, _ = post_letter(decide(sample(POST)))
        assert [s["title"] for s in composition["section"]] == [t for _, t in POST_CONSULTATION_SECTIONS]
        for section in composition["section"]:
            root = ElementTree.fromstring(
                section["text"]["div"]
            )  # well-formed XHTML, as FHIR narrative must be
            assert root.tag == "{http://www.w3.org/1999/xhtml}div"
        narrative = {s["title"]: visible_text(s["text"]["div"]) for s in composition["section"]}
        assert "sums up what we talked about" in narrative["About this letter"]
        assert "start back 7/9" in narrative["Impact of pain on daily life"]
        treatments = narrative["Treatments tried so far"]
        for tried in (
            "physiotherapy course",
            "facet joint injection",
            "ibuprofen",
            "codeine",
            "physiotherapist",
        ):
            assert tried in treatments
        assert "mri lumbar spine: age-related changes only" in narrative["Examination and test results"]
        assert "pain is real, but it does not always mean harm" in narrative["Examination and test results"]
        assert "cancer, infection or a tumour" in narrative["No signs of serious disease"]
        assert "persistent musculoskeletal low back pain" in narrative["Diagnosis"]
        assert "surgery is not likely to help" in narrative["Surgery and non-surgical treatment"]
        assert "physiotherapy" in narrative["Surgery and non-surgical treatment"]
        assert "plan we agreed" in narrative["Agreed plan and goals"]
        assert "https://www.nhs.uk/conditions/back-pain/" in narrative["Trusted resources"]

    def test_places_for_the_clinicians_words_are_marked(self, decide: Decide, sample: Any) -> None:
        html = _letter_html(decide, sample(POST))
        for entry in ("impact", "treatments", "findings", "surgery", "plan", "resources"):
            assert f'class="clinician-entry clinician-entry-{entry}"' in html
        composition, _, _ = post_letter(decide(sample(POST)))
        marked = [
            s["title"] for s in composition["section"] if "For the clinician to write" in s["text"]["div"]
        ]
        assert marked == [
            "Impact of pain on daily life",
            "Treatments tried so far",
            "Examination and test results",
            "Surgery and non-surgical treatment",
            "Agreed plan and goals",
            "Trusted resources",
        ]

    def test_the_letter_is_plain_language(self, decide: Decide, sample: Any) -> None:
        assert flesch_reading_ease(visible_text(_letter_html(decide, sample(POST)))) >= PLAIN_LANGUAGE

    def test_copied_to_the_gp(self, decide: Decide, sample: Any) -> None:
        assert "copy to: dr sam hale" in visible_text(_letter_html(decide, sample(POST)))


class TestWhatTheLetterQuotes:
    def test_an_out_of_date_questionnaire_is_not_quoted(self, decide: Decide, sample: Any) -> None:
        request = sample(POST)
        request["prefetch"]["questionnaireResponses"]["entry"][0]["resource"]["authored"] = "2026-06-01"
        assert "start back" not in visible_text(_letter_html(decide, request))

    def test_an_incomplete_questionnaire_is_not_quoted(self, decide: Decide, sample: Any) -> None:
        request = sample(POST)
        request["prefetch"]["questionnaireResponses"]["entry"][0]["resource"]["item"].pop()
        assert "start back 7/9" not in visible_text(_letter_html(decide, request))

    def test_treatments_entered_in_error_are_left_out(self, decide: Decide, sample: Any) -> None:
        request = sample(POST)
        request["prefetch"]["procedures"]["entry"][1]["resource"]["status"] = "entered-in-error"
        assert "facet joint" not in visible_text(_letter_html(decide, request))


class TestRedFlags:
    def test_no_letter_while_a_red_flag_is_active_and_the_card_says_why(
        self, decide: Decide, sample: Any
    ) -> None:
        request = sample(POST)
        _add_condition(request, CAUDA_EQUINA)
        decision = decide(request)
        actions = [issued.pathway_action for issued in decision.cards]
        assert "post-consultation-letter" not in actions
        card = next(i.card for i in decision.cards if i.pathway_action == "no-letter-red-flag")
        assert card.indicator == "warning"
        assert "red-flag" in card.summary
        assert "Cauda equina syndrome" in (card.detail or "")
        assert card.suggestions is None

    def test_a_refuted_red_flag_does_not_stop_the_letter(self, decide: Decide, sample: Any) -> None:
        request = sample(POST)
        refuted = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}
            ]
        }
        _add_condition(request, CAUDA_EQUINA, verificationStatus=refuted)
        post_letter(decide(request))


class TestWhichEncounters:
    def test_another_clinic_gets_no_letter(self, decide: Decide, sample: Any) -> None:
        request = sample(POST)
        request["prefetch"]["encounter"]["serviceType"] = {"text": "Cardiology"}
        assert decide(request).cards == []

    def test_back_pain_on_the_problem_list_makes_it_about_back_pain(
        self, decide: Decide, sample: Any
    ) -> None:
        request = sample(POST)
        del request["prefetch"]["encounter"]["reasonCode"]
        post_letter(decide(request))
        request["prefetch"]["conditions"] = {"resourceType": "Bundle", "type": "searchset", "total": 0}
        assert decide(request).cards == []


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="scripts/test installs poppler-utils")
def test_the_pdf_is_an_a4_letter_with_ink_on_it(decide: Decide, sample: Any, tmp_path: Path) -> None:
    _, document, _ = post_letter(decide(sample(POST)))
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(base64.b64decode(document["content"][1]["attachment"]["data"]))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "72", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    assert all(abs(got - want) < 1 for got, want in zip(page.size, A4_AT_72_DPI, strict=True))
    dark = sum(page.histogram()[:128])
    assert dark > page.size[0] * page.size[1] // 200


class TestRedFlagHierarchy:
    def test_an_icd10cm_fracture_at_its_seventh_character_blocks_the_letter(
        self, decide: Decide, sample: Any
    ) -> None:
        request = sample(POST)
        _add_condition(request, {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M48.50XA"})
        assert "no-letter-red-flag" in [issued.pathway_action for issued in decide(request).cards]

    async def test_a_snomed_child_the_terminology_server_places_under_a_red_flag_blocks_the_letter(
        self, sample: Any
    ) -> None:
        class Server:
            async def is_a(self, system: str, ancestor: str, code: str) -> bool:  # noqa: ARG002
                return ancestor == "192970008" and code == "999000111"

        request = sample(POST)
        _add_condition(
            request, {"system": "http://snomed.info/sct", "code": "999000111", "display": "Local CES"}
        )
        content = ContentRepository.load()
        registry = ServiceRegistry.from_content(content)
        lookup = HierarchyLookup(Server(), timeout_seconds=1.0)
        decider = SpineLettersDecider.from_content(content, registry, None, lookup)
        service = registry.get(request["service"])
        context = parse_context(request["hook"], request["context"])
        record = build_record(request["prefetch"], context.patientId, context.encounterId)
        answers = await decider.consult_terminology(service, context, record)
        decision = decider.decide(service, context, record, NOW, uuid.uuid4, answers)
        assert "no-letter-red-flag" in [issued.pathway_action for issued in decision.cards]
