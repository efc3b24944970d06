"""Hook contexts (CDS Hooks 2.0 hook definitions): which fields each hook carries, and which are required."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

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

    @property
    def draft_orders(self) -> list[dict[str, Any]]:
        """The draft orders of an order hook's ``draftOrders`` (none for other hooks)."""
        return []

    @property
    def selected(self) -> tuple[str, ...] | None:
        """order-select's ``selections`` (``Type/id``); None when the hook has none, as on order-sign,
        where every draft order is being signed."""
        return None

    @property
    def booked(self) -> list[dict[str, Any]]:
        """The Appointments of appointment-book's ``appointments`` (none for other hooks)."""
        return []


class EncounterStartContext(HookContext):
    """encounter-start (and -discharge) 1.0: userId, patientId, encounterId required; the user is a
    Practitioner or PractitionerRole (https://cds-hooks.org/hooks/encounter-start/)."""

    USER_TYPES: ClassVar[tuple[str, ...]] = CLINICIAN_TYPES
    encounterId: FhirId


ResourceReference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{1,64}/[A-Za-z0-9\-.]{1,64}$")]
DRAFT_ORDER_TYPES = (
    "MedicationRequest",
    "NutritionOrder",
    "ServiceRequest",
    "VisionPrescription",
    "DeviceRequest",
    "SupplyRequest",
    "CommunicationRequest",
    "ImmunizationRecommendation",
)
"""What order-select / order-sign 1.0 list as draftOrders entries (the CDS Hooks Library adds the last four
in later versions; all are accepted, the pathway reads the ones it knows)."""


def _bundle_resources(bundle: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """The entry resources of a context Bundle; raises ValueError when it is not one."""
    if bundle.get("resourceType") != "Bundle":
        raise ValueError(f"{field} must be a FHIR Bundle")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise ValueError(f"{field}.entry must be a list")
    resources = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise ValueError(f"{field}.entry[{index}] has no resource")
        resources.append(resource)
    return resources


class OrderSignContext(HookContext):
    """order-sign 1.0 (https://cds-hooks.org/hooks/order-sign/): userId, patientId, draftOrders required,
    encounterId optional; the user is a Practitioner or PractitionerRole (the CDS Hooks Library's context
    model, ord-1). ``draftOrders`` is a Bundle of the draft orders about to be signed."""

    USER_TYPES: ClassVar[tuple[str, ...]] = CLINICIAN_TYPES
    draftOrders: dict[str, Any]

    @field_validator("draftOrders")
    @classmethod
    def _draft_orders_bundle(cls, value: dict[str, Any]) -> dict[str, Any]:
        for resource in _bundle_resources(value, "draftOrders"):
            if resource["resourceType"] not in DRAFT_ORDER_TYPES:
                raise ValueError(f"draftOrders cannot hold a {resource['resourceType']}")
        return value

    @property
    def draft_orders(self) -> list[dict[str, Any]]:
        return _bundle_resources(self.draftOrders, "draftOrders")


class OrderSelectContext(OrderSignContext):
    """order-select 1.0 (https://cds-hooks.org/hooks/order-select/): as order-sign, plus ``selections``
    (required, one or more ``Type/id``), each naming an order in ``draftOrders``: the newly selected ones."""

    selections: list[ResourceReference] = Field(min_length=1)

    @field_validator("selections")
    @classmethod
    def _selections_are_draft_orders(cls, value: list[str], info: ValidationInfo) -> list[str]:
        bundle = info.data.get("draftOrders")
        if bundle is None:  # draftOrders itself was refused; that error says enough
            return value
        known = {f"{order['resourceType']}/{order.get('id')}" for order in _bundle_resources(bundle, "")}
        missing = [selection for selection in value if selection not in known]
        if missing:
            raise ValueError(f"{', '.join(missing)} not in draftOrders")
        return value

    @property
    def selected(self) -> tuple[str, ...] | None:
        return tuple(self.selections)


class AppointmentBookContext(HookContext):
    """appointment-book 1.0 (https://cds-hooks.org/hooks/appointment-book/): userId, patientId,
    appointments required, encounterId optional; the user is a Practitioner, PractitionerRole, Patient or
    RelatedPerson (a patient booking in a portal). ``appointments`` is a Bundle of Appointments."""

    appointments: dict[str, Any]

    @field_validator("appointments")
    @classmethod
    def _appointments_bundle(cls, value: dict[str, Any]) -> dict[str, Any]:
        for resource in _bundle_resources(value, "appointments"):
            if resource["resourceType"] != "Appointment":
                raise ValueError(f"appointments cannot hold a {resource['resourceType']}")
        return value

    @property
    def booked(self) -> list[dict[str, Any]]:
        return _bundle_resources(self.appointments, "appointments")


CONTEXT_MODELS: dict[str, type[HookContext]] = {
    "patient-view": HookContext,
    "encounter-start": EncounterStartContext,
    "encounter-discharge": EncounterStartContext,
    "order-select": OrderSelectContext,
    "order-sign": OrderSignContext,
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
