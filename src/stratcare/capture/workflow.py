"""Where in the visit a screen was prompted and where it was completed (the content's CodeSystem)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stratcare.json_types import JsonObject

WORKFLOW_POINT_SYSTEM = "http://stratcare.org/fhir/CodeSystem/workflow-point"


class UnknownWorkflowPoint(ValueError):
    """A link or launch named a workflow point the CodeSystem does not define."""


@dataclass(frozen=True)
class WorkflowPoints:
    prompted: str
    completed: str


@dataclass(frozen=True)
class WorkflowPointCodes:
    displays: dict[str, str]
    """Display of every defined code, in the CodeSystem's order."""

    @classmethod
    def from_code_system(cls, code_system: JsonObject) -> WorkflowPointCodes:
        return cls({str(c["code"]): str(c.get("display") or c["code"]) for c in code_system["concept"]})

    def points(self, prompted: str, completed: str | None = None) -> WorkflowPoints:
        """Both points checked; a screen completed where it was prompted when ``completed`` is not given."""
        points = WorkflowPoints(prompted, completed or prompted)
        self.require((points.prompted, points.completed))
        return points

    def require(self, codes: Iterable[str]) -> None:
        for code in codes:
            if code not in self.displays:
                known = ", ".join(self.displays)
                raise UnknownWorkflowPoint(f"unknown workflow point {code!r}; expected one of {known}")
