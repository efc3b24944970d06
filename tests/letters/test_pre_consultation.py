"""appointment-book drafts the pre-consultation letter for a spine clinic appointment about back pain."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from letters.conftest import PRE, Decide
from letters.letter_parts import created, of_type, pre_letter_html
from letters.readability import flesch_reading_ease
from stratcare.letters.rejected_language import visible_text

# Plain English: Flesch reading ease 60 or more ("standard"; Flesch 1948, J Appl Psychol 32:221).
PLAIN_LANGUAGE = 60


def _appointment(request: dict[str, Any]) -> dict[str, Any]:
    appointment: dict[str, Any] = request["context"]["appointments"]["entry"][0]["resource"]
    return appointment


class TestPreConsultationLetter:
    def test_a_draft_communication_to_the_patient_carries_the_letter(
        self, decide: Decide, sample: Any
    ) -> None:
        decision = decide(sample(PRE))
        communication = of_type(created(decision, "pre-consultation-letter"), "Communication")
        get_fhir_model_class("Communication").model_validate(communication)
        assert communication["status"] == "preparation"
        assert communication["recipient"] == [{"reference": "Patient/spine-patient-1"}]
        assert communication["about"] == [{"reference": "Appointment/spine-appt-1"}]
        attachment = communication["payload"][0]["contentAttachment"]
        assert attachment["contentType"] == "text/html; charset=utf-8"
        assert attachment["title"]

    def test_the_letter_has_every_co_designed_element(self, decide: Decide, sample: Any) -> None:
        html = pre_letter_html(decide(sample(PRE)))
        for element in ("appointment", "surgery-one-option", "who-you-may-see", "bring-list", "clothing"):
            assert f'class="section section-{element}"' in html
        text = visible_text(html)
        assert "tuesday 12 january 2027 at 10:30" in text
        assert "outpatients b, level 2, city hospital" in text
        assert "surgery is one possible treatment" in text
        for role in ("spinal surgeon", "neurosurgeon", "registrar", "fellow", "physiotherapist or nurse"):
            assert role in text
        assert "we cannot say now who you will see" in text
        assert "treatments you have tried" in text
        assert "medicines you take" in text
        assert "loose, comfy clothes" in text
        assert html.count('class="question-line"') >= 5

    def test_the_letter_is_plain_language(self, decide: Decide, sample: Any) -> None:
        html = pre_letter_html(decide(sample(PRE)))
        assert flesch_reading_ease(visible_text(html)) >= PLAIN_LANGUAGE

    def test_no_letter_for_another_clinic(self, decide: Decide, sample: Any) -> None:
        request = sample(PRE)
        appointment = _appointment(request)
        appointment["serviceType"] = [{"coding": [{"system": "http://snomed.info/sct", "code": "394579002"}]}]
        appointment["specialty"] = appointment["serviceType"]
        assert decide(request).cards == []

    def test_no_letter_when_the_appointment_is_not_about_back_pain(self, decide: Decide, sample: Any) -> None:
        request = sample(PRE)
        _appointment(request)["reasonCode"] = [
            {"coding": [{"system": "http://snomed.info/sct", "code": "45326000"}]}
        ]
        assert decide(request).cards == []

    def test_a_coded_reason_at_icd10cm_child_level_counts(self, decide: Decide, sample: Any) -> None:
        request = sample(PRE)
        reason = {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"}]}
        _appointment(request)["reasonCode"] = [reason]
        assert [i.pathway_action for i in decide(request).cards][0] == "pre-consultation-letter"

    def test_another_patients_appointment_is_ignored(self, decide: Decide, sample: Any) -> None:
        request = sample(PRE)
        _appointment(request)["participant"][0]["actor"] = {"reference": "Patient/someone-else"}
        assert decide(request).cards == []

    def test_a_cancelled_appointment_gets_no_letter(self, decide: Decide, sample: Any) -> None:
        request = sample(PRE)
        _appointment(request)["status"] = "cancelled"
        assert decide(request).cards == []

    def test_a_patient_booking_in_a_portal_gets_no_cards(self, decide: Decide, sample: Any) -> None:
        request = sample(PRE)
        request["context"]["userId"] = "Patient/spine-patient-1"
        assert decide(request).cards == []

    def test_record_text_is_escaped(self, decide: Decide, sample: Any) -> None:
        request = sample(PRE)
        _appointment(request)["patientInstruction"] = "<script>alert(1)</script>"
        html = pre_letter_html(decide(request))
        assert "<script>" not in html
        assert "&lt;script&gt;" in html

    def test_a_card_links_the_clinics_training_and_evidence(self, decide: Decide, sample: Any) -> None:
        decision = decide(sample(PRE))
        card = next(i.card for i in decision.cards if i.pathway_action == "clinician-resources")
        urls = [link.url for link in card.links or []]
        assert urls == ["https://doi.org/10.1186/s12891-021-04783-8", "https://www.nice.org.uk/guidance/ng59"]
