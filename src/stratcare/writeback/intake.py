"""The hook side of write-back: what one hook call queues, and what it returns as systemActions.

The hook never waits on the FHIR server: it records the writes with the assessment (one transaction),
lends its ``fhirAuthorization`` token in memory to the first delivery attempt, and wakes the worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from pydantic import SecretStr

from stratcare.cdshooks.models import Action
from stratcare.instruments.results import ScoringOutcome
from stratcare.writeback.delivery import TokenHandoff
from stratcare.writeback.outbox import PendingWrite
from stratcare.writeback.planner import plan_writes, system_actions
from stratcare.writeback.settings import WritebackSettings


@dataclass(frozen=True)
class LentToken:
    token: SecretStr
    expires_in_seconds: float


@dataclass(frozen=True)
class WritebackPlan:
    queued: list[PendingWrite] = field(default_factory=list)
    system_actions: list[Action] = field(default_factory=list)


class HookWriteback:
    def __init__(
        self,
        settings: WritebackSettings,
        handoff: TokenHandoff | None = None,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._handoff = handoff
        self._notify = notify

    def plan(
        self,
        *,
        hook_instance: UUID,
        patient_id: str,
        encounter_id: str | None,
        fhir_server: str | None,
        token: LentToken | None,
        assessments: Sequence[ScoringOutcome],
    ) -> WritebackPlan:
        has_target = fhir_server is not None or self._settings.ehr_base_url is not None
        queue = self._settings.queues_writes and has_target
        if not (queue or self._settings.returns_system_actions):
            return WritebackPlan()  # mode off, or nowhere to write: nothing to build
        writes = plan_writes(hook_instance, patient_id, encounter_id, fhir_server, assessments)
        queued = writes if queue else []
        if self._handoff is not None and token is not None and fhir_server is not None:
            for write in queued:
                self._handoff.hand_over(write.key, fhir_server, token.token, token.expires_in_seconds)
        actions = system_actions(writes) if self._settings.returns_system_actions else []
        return WritebackPlan(queued=queued, system_actions=actions)

    def committed(self, plan: WritebackPlan) -> None:
        """Call after the writes are committed: wakes the worker so delivery starts at once."""
        if plan.queued:
            self._notify()

    def wake(self) -> None:
        """Wake the worker after writes queued elsewhere (the capture page) were committed."""
        self._notify()
