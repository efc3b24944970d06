"""Hook contexts (CDS Hooks 2.0 hook definitions): which fields each hook carries, and which are required."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator

from stratcare.errors import InvalidHookRequest, Issue

FhirId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
UserReference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{1,64}/[A-Za-z0-9\-.]{1,64}$")]
CLINICIAN_TYPES = ("Practitioner", "PractitionerRole")


class HookContext(BaseModel):
    """Fields every hook we serve shares; other members (e.g. ``appointments``) are tolerated."""

    model_config = ConfigDict(extra="allow", frozen=True)

    USER_TYPES: ClassVar[tuple[str, ...]] = (*CLINICIAN_TYPES, "Patient", "RelatedPerson")
    """patient-view 1.0: the user is a Practitioner, PractitionerRole, Patient or RelatedPerson."""

    userId: UserReference
    patientId: FhirId
    encounterId: FhirId | None = None

    @field_validator("userId")
    @classmethod
    def _user_type_fits_hook(cls, value: str) -> str:
        user_type = value.split("/", 1)[0]
        if user_type not in cls.USER_TYPES:
            raise ValueError(
                f"a {user_type} cannot be the user of this hook (allowed: {', '.join(cls.USER_TYPES)})"
            )
        return value

    @property
    def user_is_clinician(self) -> bool:
        """patient-view also fires in patient portals (a Patient or RelatedPerson as user)."""
        return self.userId.split("/", 1)[0] in CLINICIAN_TYPES


class EncounterStartContext(HookContext):
    """encounter-start (and -discharge) 1.0: userId, patientId, encounterId required; the user is a
    Practitioner or PractitionerRole (https://cds-hooks.org/hooks/encounter-start/)."""

    USER_TYPES: ClassVar[tuple[str, ...]] = CLINICIAN_TYPES
    encounterId: FhirId


class AppointmentBookContext(HookContext):
    """appointment-book: userId, patientId, encounterId (optional) and ``appointments``, a Bundle of the
    Appointments being booked (required)."""

    appointments: dict[str, Any]


CONTEXT_MODELS: dict[str, type[HookContext]] = {
    "patient-view": HookContext,
    "encounter-start": EncounterStartContext,
    "encounter-discharge": EncounterStartContext,
    "appointment-book": AppointmentBookContext,
}


def parse_context(hook: str, context: dict[str, Any]) -> HookContext:
    model = CONTEXT_MODELS.get(hook, HookContext)
    try:
        return model.model_validate(context)
    except ValidationError as exc:
        issues = [
            Issue(
                code="invalid" if error["type"] != "missing" else "required",
                diagnostics=f"context.{'.'.join(map(str, error['loc']))}: {error['msg']}",
                expression=("context." + ".".join(map(str, error["loc"])),),
            )
            for error in exc.errors()
        ]
        raise InvalidHookRequest(f"invalid context for hook {hook!r}", issues) from exc
