"""The patient capture page: a Questionnaire as an accessible form, opened by a signed link or SMART App
Launch, whose completed QuestionnaireResponse goes to the EHR through the outbox (docs/capture.md)."""

from stratcare.capture.service import Accepted, CaptureRefused, CaptureService, Incomplete, OpenScreen
from stratcare.capture.tickets import CaptureContext, TicketRefused

__all__ = [
    "Accepted",
    "CaptureContext",
    "CaptureRefused",
    "CaptureService",
    "Incomplete",
    "OpenScreen",
    "TicketRefused",
]
