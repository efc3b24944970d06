"""The small tables that map PlanDefinition action codes onto CDS Hooks card fields.

Unknown or missing codes raise rather than default ("fail loudly over silent errors"): a card whose urgency
was guessed is worse than a service that refuses to start.
"""

from __future__ import annotations

from stratcare.cdshooks.models import Indicator, SelectionBehavior
from stratcare.pathways.errors import PathwayContentError

# FHIR request-priority (routine < urgent < asap < stat) onto CDS Hooks card indicators. Only ``stat``
# ("with highest priority, e.g. an emergency") is critical, so critical cards stay rare enough to be read;
# urgent and asap both ask for prompt attention, which is what ``warning`` means.
INDICATOR_BY_PRIORITY: dict[str, Indicator] = {
    "routine": "info",
    "urgent": "warning",
    "asap": "warning",
    "stat": "critical",
}

# FHIR action-selection-behavior onto CDS Hooks selectionBehavior. The EHR cannot force a choice, so
# ``exactly-one`` becomes ``at-most-one`` and ``one-or-more`` becomes ``any``; ``all`` and ``all-or-none``
# have no CDS Hooks equivalent.
SELECTION_BY_BEHAVIOR: dict[str, SelectionBehavior] = {
    "any": "any",
    "at-most-one": "at-most-one",
    "exactly-one": "at-most-one",
    "one-or-more": "any",
}
DEFAULT_SELECTION: SelectionBehavior = "at-most-one"


def indicator_for(priority: object, origin: str) -> Indicator:
    """The card indicator for an action priority; raise on a missing or unknown priority."""
    if not isinstance(priority, str) or priority not in INDICATOR_BY_PRIORITY:
        raise PathwayContentError(f"{origin}: priority {priority!r} has no card indicator")
    return INDICATOR_BY_PRIORITY[priority]


def selection_for(behavior: object, origin: str) -> SelectionBehavior:
    """The suggestion selection behaviour; ``at-most-one`` when the action states none."""
    if behavior is None:
        return DEFAULT_SELECTION
    if not isinstance(behavior, str) or behavior not in SELECTION_BY_BEHAVIOR:
        raise PathwayContentError(f"{origin}: selectionBehavior {behavior!r} has no CDS equivalent")
    return SELECTION_BY_BEHAVIOR[behavior]
