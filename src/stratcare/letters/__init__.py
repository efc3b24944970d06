"""Spine clinic consultation letters (surgery not indicated), pure: from FHIR resources to letter facts,
from facts to HTML and PDF through the clinic's templates, and to draft FHIR resources for review."""

from stratcare.letters.clinic_codes import SpineClinicCodes
from stratcare.letters.clinic_content import ClinicLetterContent, ResourceLink
from stratcare.letters.content import PostConsultationLetter, PreConsultationLetter
from stratcare.letters.errors import LetterRenderingError
from stratcare.letters.pdf import html_to_pdf
from stratcare.letters.post_consultation import ConsultationRecord, post_consultation_letter
from stratcare.letters.pre_consultation import pre_consultation_letter
from stratcare.letters.rejected_language import REJECTED_PHRASES, RejectedLanguage, rejected_phrases_in
from stratcare.letters.templates import (
    POST_CONSULTATION,
    POST_CONSULTATION_SECTIONS,
    PRE_CONSULTATION,
    LetterTemplateError,
    LetterTemplates,
)

__all__ = [
    "POST_CONSULTATION",
    "POST_CONSULTATION_SECTIONS",
    "PRE_CONSULTATION",
    "REJECTED_PHRASES",
    "ClinicLetterContent",
    "ConsultationRecord",
    "LetterRenderingError",
    "LetterTemplateError",
    "LetterTemplates",
    "PostConsultationLetter",
    "PreConsultationLetter",
    "RejectedLanguage",
    "ResourceLink",
    "SpineClinicCodes",
    "html_to_pdf",
    "post_consultation_letter",
    "pre_consultation_letter",
    "rejected_phrases_in",
]
