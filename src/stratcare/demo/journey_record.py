"""The journey's patient as the demo EHR holds them, and how the patient's side reads the capture page.

A 41-year-old with low back pain on the problem list, booked by the front desk (PractitionerRole with the
clinic-role code front-desk) to see the GP; the answers they give put them at high risk.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from html.parser import HTMLParser

from stratcare.demo.ehr_fhir import DemoEhr
from stratcare.json_types import JsonObject

PATIENT, ENCOUNTER, RECEPTION, GP = "demo-journey", "demo-journey-enc", "demo-reception", "demo-gp"
SNOMED = "http://snomed.info/sct"
START_BACK_CODES = "http://stratcare.org/fhir/CodeSystem/start-back"
ANSWERS = {f"sb-{n}": "agree" for n in range(1, 9)} | {
    "sb-2": "disagree",
    "sb-8": "disagree",
    "sb-9": "very-much",
}
"""What the patient answers: physical items 1, 3 and 4 and psychosocial items 5, 6, 7 and 9 (high risk)."""
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
LOW_BACK_PAIN = {"coding": [{"system": SNOMED, "code": "279039007", "display": "Low back pain"}]}


class FormReader(HTMLParser):
    """The ticket and each question's answer values, read from the capture page's own HTML form."""

    def __init__(self) -> None:
        super().__init__()
        self.ticket = ""
        self.options: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag != "input":
            return
        if values.get("name") == "ticket":
            self.ticket = values.get("value", "")
        elif values.get("type") == "radio":
            self.options.setdefault(values["name"], []).append(values.get("value", ""))


def page_text(html: str) -> list[str]:
    """The headings and paragraphs of a page, as plain lines."""
    found = re.findall(r"<(h1|h2|p)[^>]*>(.*?)</\1>", html, flags=re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", text)).split()) for _, text in found]


def seed(ehr: DemoEhr, now: datetime) -> None:
    """The record before the booking: the patient, their back pain, the front desk's role."""
    ehr.put({"resourceType": "Patient", "id": PATIENT, "active": True, "birthDate": "1984-06-02"})
    ehr.put(
        {
            "resourceType": "Condition",
            "id": f"{PATIENT}-lbp",
            "clinicalStatus": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
                ]
            },
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                        }
                    ]
                }
            ],
            "code": LOW_BACK_PAIN,
            "subject": {"reference": f"Patient/{PATIENT}"},
            "recordedDate": (now - timedelta(days=2)).date().isoformat(),
        }
    )
    role = {"system": "http://stratcare.org/fhir/CodeSystem/clinic-role", "code": "front-desk"}
    ehr.put(
        {
            "resourceType": "PractitionerRole",
            "id": RECEPTION,
            "active": True,
            "organization": {"reference": "Organization/demo-practice"},
            "code": [{"coding": [role]}],
        }
    )


def appointment(now: datetime) -> JsonObject:
    """The appointment being booked (appointment-book: still proposed)."""
    start = (now + timedelta(days=3)).replace(hour=9, minute=30, second=0, microsecond=0)
    return {
        "resourceType": "Appointment",
        "id": f"{PATIENT}-appt",
        "status": "proposed",
        "reasonCode": [LOW_BACK_PAIN],
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=15)).isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{PATIENT}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{GP}"}, "status": "accepted"},
        ],
    }


def encounter(now: datetime) -> JsonObject:
    return {
        "resourceType": "Encounter",
        "id": ENCOUNTER,
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "appointment": [{"reference": f"Appointment/{PATIENT}-appt"}],
        "period": {"start": now.isoformat()},
    }
