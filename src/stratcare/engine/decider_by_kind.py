"""Routes each call to the decision its service descriptor names (``decision``), so services of different
kinds share one runner. A descriptor naming a decision nobody provides stops start-up."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID

from stratcare.cdshooks.context import HookContext
from stratcare.cdshooks.services import CdsService, ServiceRegistry
from stratcare.engine.record import PatientRecord
from stratcare.engine.runner import Decider, Decision
from stratcare.pathways.subsumption import KnownSubsumptions


class DeciderByKind:
    def __init__(self, deciders: Mapping[str, Decider], registry: ServiceRegistry) -> None:
        unknown = sorted({s.decision for s in registry.all()} - set(deciders))
        if unknown:
            raise ValueError(f"service descriptors name unknown decisions: {', '.join(unknown)}")
        self._deciders = dict(deciders)

    def decide(
        self,
        service: CdsService,
        context: HookContext,
        record: PatientRecord,
        now: datetime,
        new_uuid: Callable[[], UUID],
        answers: KnownSubsumptions,
    ) -> Decision:
        return self._deciders[service.decision].decide(service, context, record, now, new_uuid, answers)

    async def consult_terminology(
        self, service: CdsService, context: HookContext, record: PatientRecord
    ) -> KnownSubsumptions:
        return await self._deciders[service.decision].consult_terminology(service, context, record)
