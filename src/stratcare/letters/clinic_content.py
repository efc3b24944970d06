"""What a clinic configures for its letters, read from the letters PlanDefinition (plan_definitions/):
the links for clinicians and patients, how old a quoted questionnaire result may be, the document type."""

from __future__ import annotations

from dataclasses import dataclass

from stratcare.content import ContentError, ContentRepository
from stratcare.json_types import JsonObject

LETTERS_PLAN_DEFINITION = "http://stratcare.org/fhir/PlanDefinition/spine-consultation-letters"
RESULT_WINDOW_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/letter-result-window-days"
IMPACT_INSTRUMENTS_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/letter-impact-instruments"
POST_CONSULTATION_ACTION = "post-consultation-letter"
LINK_AUDIENCES = ("clinician-training", "clinician-evidence", "patient-resource")


@dataclass(frozen=True)
class ResourceLink:
    label: str
    url: str


@dataclass(frozen=True)
class ClinicLetterContent:
    source_url: str
    source_title: str
    training: tuple[ResourceLink, ...]
    evidence: tuple[ResourceLink, ...]
    patient_resources: tuple[ResourceLink, ...]
    result_window_days: int
    impact_instruments: frozenset[str]
    """Canonicals of the Questionnaires quoted as the impact of pain on the patient's life."""
    document_type: JsonObject
    """CodeableConcept of the post-consultation letter (Composition.type, DocumentReference.type)."""

    @classmethod
    def from_content(cls, content: ContentRepository, canonical: str) -> ClinicLetterContent:
        plan = content.resolve("PlanDefinition", canonical)
        return cls.from_plan_definition(plan)

    @classmethod
    def from_plan_definition(cls, plan: JsonObject) -> ClinicLetterContent:
        origin = f"PlanDefinition {plan.get('url')}"
        links: dict[str, list[ResourceLink]] = {audience: [] for audience in LINK_AUDIENCES}
        for artifact in plan.get("relatedArtifact", []):
            audience, url = artifact.get("label"), artifact.get("url")
            if audience not in links or not isinstance(url, str) or not artifact.get("display"):
                raise ContentError(
                    f"{origin}: each relatedArtifact needs a display, a url and a label out of "
                    f"{', '.join(LINK_AUDIENCES)}"
                )
            links[audience].append(ResourceLink(str(artifact["display"]), url))
        return cls(
            source_url=str(plan["url"]),
            source_title=str(plan.get("title") or plan["url"]),
            training=tuple(links["clinician-training"]),
            evidence=tuple(links["clinician-evidence"]),
            patient_resources=tuple(links["patient-resource"]),
            result_window_days=_window_days(plan, origin),
            impact_instruments=frozenset(
                str(extension["valueCanonical"]).split("|", 1)[0]
                for extension in plan.get("extension", [])
                if extension.get("url") == IMPACT_INSTRUMENTS_EXTENSION and extension.get("valueCanonical")
            ),
            document_type=_document_type(plan, origin),
        )


def _window_days(plan: JsonObject, origin: str) -> int:
    for extension in plan.get("extension", []):
        if extension.get("url") == RESULT_WINDOW_EXTENSION:
            days = extension.get("valueInteger")
            if isinstance(days, int) and days > 0:
                return days
    raise ContentError(f"{origin}: needs a positive {RESULT_WINDOW_EXTENSION} extension")


def _document_type(plan: JsonObject, origin: str) -> JsonObject:
    for action in plan.get("action", []):
        if action.get("id") == POST_CONSULTATION_ACTION and action.get("code"):
            concept: JsonObject = action["code"][0]
            return concept
    raise ContentError(f"{origin}: the {POST_CONSULTATION_ACTION!r} action needs a code (the document type)")
