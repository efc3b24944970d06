"""The one error the pathway engine raises: clinical content that cannot be evaluated as written.

A broken PlanDefinition, ActivityDefinition or ValueSet is a bug in the service's configuration, not in
the request, so it is never turned into an empty card list (the EHR would read that as "all clear").
"""

from __future__ import annotations

from stratcare.content import ContentError


class PathwayContentError(ContentError):
    """Pathway content is invalid: an expression fails or is not boolean, a reference does not resolve,
    a priority or selection behaviour has no card equivalent, or a code lacks a display."""
