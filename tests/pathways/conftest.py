from __future__ import annotations

import pytest

from stratcare.content import ContentRepository
from stratcare.pathways import Pathway, Terminology, load_pathway

from .factories import SequentialUuids

PLAN = "http://stratcare.org/fhir/PlanDefinition/start-back-stratified-care"


@pytest.fixture(scope="session")
def content() -> ContentRepository:
    return ContentRepository.load()


@pytest.fixture(scope="session")
def pathway(content: ContentRepository) -> Pathway:
    return load_pathway(content, PLAN)


@pytest.fixture(scope="session")
def terminology(content: ContentRepository) -> Terminology:
    return Terminology(content)


@pytest.fixture
def new_uuid() -> SequentialUuids:
    return SequentialUuids()
