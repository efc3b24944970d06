"""File-backed clinical content: Questionnaires, PlanDefinitions, ActivityDefinitions, terminology, hooks."""

from stratcare.content.repository import ContentError, ContentRepository, default_content_root

__all__ = ["ContentError", "ContentRepository", "default_content_root"]
