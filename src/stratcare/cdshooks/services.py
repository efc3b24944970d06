"""CDS services as data: each ``hooks/*.json`` descriptor becomes one service, keyed by its id.

Keying by service id (not hook type) lets several services share a hook without replacing each other.
Templates are expanded once, when the descriptors are loaded: ``{{canonicals:<url>}}`` becomes every form
of that Questionnaire's canonical (see ``stratcare.cdshooks.canonicals``), so discovery, the EHR's prefetch
and the service's own fetches all run the same search.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from stratcare.cdshooks.canonicals import expand_canonicals, questionnaire_versions
from stratcare.cdshooks.models import ServiceDescriptor
from stratcare.cdshooks.prefetch import invalid_tokens
from stratcare.content import ContentRepository
from stratcare.errors import UnknownService

ServiceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class CdsService(BaseModel):
    """One descriptor file: the discovery fields plus the PlanDefinition the service runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ServiceId
    hook: Annotated[str, StringConstraints(min_length=1)]
    title: Annotated[str, StringConstraints(min_length=1)]
    description: Annotated[str, StringConstraints(min_length=1)]
    prefetch: dict[str, Annotated[str, StringConstraints(min_length=1)]] = Field(default_factory=dict)
    usageRequirements: Annotated[str, StringConstraints(min_length=1)] | None = None
    planDefinition: Annotated[str, StringConstraints(min_length=1)]
    """Canonical URL of the PlanDefinition evaluated for every call."""
    instruments: list[Annotated[str, StringConstraints(min_length=1)]] = Field(default_factory=list)
    """Canonical URLs of the Questionnaires the service scores (the first is the one it screens for)."""
    decision: Annotated[str, StringConstraints(min_length=1)] = "stratified-care"
    """Which decision answers the calls (``stratified-care`` or ``spine-letters``)."""

    def descriptor(self) -> ServiceDescriptor:
        return ServiceDescriptor(
            hook=self.hook,
            title=self.title,
            description=self.description,
            id=self.id,
            prefetch=self.prefetch or None,
            usageRequirements=self.usageRequirements,
        )


class ServiceRegistry:
    def __init__(self, services: Iterable[CdsService]) -> None:
        self._services: dict[str, CdsService] = {}
        for service in services:
            if service.id in self._services:
                raise ValueError(f"two CDS services share the id {service.id!r}")
            self._services[service.id] = service

    @classmethod
    def from_descriptors(
        cls,
        descriptors: Iterable[dict[str, object]],
        questionnaires: Mapping[str, Sequence[str]] | None = None,
    ) -> ServiceRegistry:
        """Services from descriptor JSON; ``questionnaires`` maps each Questionnaire url to its versions."""
        services = []
        for raw in descriptors:
            try:
                service = CdsService.model_validate(raw)
                services.append(
                    service.model_copy(update={"prefetch": _expanded(service, questionnaires or {})})
                )
            except (ValidationError, ValueError) as exc:
                raise ValueError(f"invalid service descriptor {raw.get('id')!r}: {exc}") from exc
        return cls(services)

    @classmethod
    def from_content(cls, content: ContentRepository) -> ServiceRegistry:
        versions = questionnaire_versions(content.all_of("Questionnaire"))
        return cls.from_descriptors(content.service_descriptors, versions)

    def get(self, service_id: str) -> CdsService:
        try:
            return self._services[service_id]
        except KeyError:
            raise UnknownService(f"no CDS service with id {service_id!r}") from None

    def all(self) -> list[CdsService]:
        return sorted(self._services.values(), key=lambda service: service.id)


def _expanded(service: CdsService, questionnaires: Mapping[str, Sequence[str]]) -> dict[str, str]:
    templates = {}
    for key, template in service.prefetch.items():
        expanded = expand_canonicals(template, questionnaires)
        unknown = invalid_tokens(expanded)
        if unknown:
            raise ValueError(f"prefetch {key!r} uses unknown tokens {unknown}")
        templates[key] = expanded
    return templates
