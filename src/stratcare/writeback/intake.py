"""The hook side of write-back: what one hook call queues, and what it returns as systemActions.

The hook never waits on the FHIR server: it records the writes with the assessment (one transaction),
then, once that is committed, lends its ``fhirAuthorization`` token in memory to the first delivery
attempt and wakes the worker. Planning itself hands nothing over: a call whose record fails to commit
lends no token for writes that were never queued.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from pydantic import SecretStr

from stratcare.cdshooks.models import Action
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.writeback.delivery import TokenHandoff
from stratcare.writeback.outbox import PendingWrite
from stratcare.writeback.planner import plan_writes, system_actions
from stratcare.writeback.targets import WritebackTargets


@dataclass(frozen=True)
class LentToken:
    token: SecretStr
    expires_in_seconds: float


@dataclass(frozen=True)
class WritebackPlan:
    queued: list[PendingWrite] = field(default_factory=list)
    system_actions: list[Action] = field(default_factory=list)
    lent: LentToken | None = None
    """The token to hand to the deliverer for ``queued`` once they are committed."""


class HookWriteback:
    def __init__(
        self,
        targets: WritebackTargets,
        handoff: TokenHandoff | None = None,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.targets = targets
        self._handoff = handoff
        self._notify = notify

    def plan(
        self,
        *,
        hook_instance: UUID,
        patient_id: str,
        encounter_id: str | None,
        fhir_server: str | None,
        issuer: str | None,
        token: LentToken | None,
        assessments: Sequence[ScoringOutcome],
    ) -> WritebackPlan:
        """Queue writes only for a server configured for write-back (``WritebackTargets.target_for``)."""
        target = self.targets.target_for(issuer, fhir_server)
        returns_actions = self.targets.returns_system_actions
        if target is None and not returns_actions:
            return WritebackPlan()  # mode off, or nowhere this call may write: nothing to build
        writes = plan_writes(hook_instance, patient_id, encounter_id, target, assessments)
        queued = writes if target is not None else []
        # The token is the hook's fhirServer's: it goes with the writes only when that server is the target.
        lent = token if fhir_server is not None and target is not None else None
        actions = system_actions(writes) if returns_actions else []
        return WritebackPlan(queued=queued, system_actions=actions, lent=lent)

    def committed(self, plan: WritebackPlan) -> None:
        """Call after the writes are committed: lends the call's token to their first delivery attempt and
        wakes the worker so that delivery starts at once."""
        if self._handoff is not None and plan.lent is not None:
            for write in plan.queued:
                if write.fhir_server is not None:
                    self._handoff.hand_over(
                        write.key, write.fhir_server, plan.lent.token, plan.lent.expires_in_seconds
                    )
        if plan.queued:
            self._notify()

    def wake(self) -> None:
        """Wake the worker after writes queued elsewhere (the capture page) were committed."""
        self._notify()
