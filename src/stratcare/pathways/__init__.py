"""Pathways as data: PlanDefinition/ActivityDefinition evaluation with FHIRPath, and card building.

Public API::

    pathway = load_pathway(content, "http://stratcare.org/fhir/PlanDefinition/start-back-stratified-care")
    cards = pathway.apply(PathwayInputs(...), new_uuid)

``load_pathway`` raises ``PathwayContentError`` (a ``ContentError``) for content that cannot be evaluated;
so can ``apply``, when an expression fails on real data. Pure: no clock, no uuid, no I/O.
"""

from stratcare.pathways.cards import AppliedAction, UuidFactory
from stratcare.pathways.errors import PathwayContentError
from stratcare.pathways.inputs import PathwayInputs
from stratcare.pathways.pathway import Pathway, load_pathway
from stratcare.pathways.terminology import Terminology

__all__ = [
    "AppliedAction",
    "Pathway",
    "PathwayContentError",
    "PathwayInputs",
    "Terminology",
    "UuidFactory",
    "load_pathway",
]
