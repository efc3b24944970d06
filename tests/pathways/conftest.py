from __future__ import annotations

import json
import shutil

import pytest

from stratcare.content import ContentRepository, default_content_root
from stratcare.pathways import Pathway, Terminology, load_pathway

from .factories import SequentialUuids

PLAN = "http://stratcare.org/fhir/PlanDefinition/start-back-stratified-care"
PLAN_FILE = "plan_definitions/PlanDefinition-start-back-stratified-care.json"


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


@pytest.fixture(scope="session")
def acute_only_pathway(tmp_path_factory: pytest.TempPathFactory) -> Pathway:
    """The shipped pathway with referralDurationScope set to acute-only (the TARGET trial's local choice)."""
    root, copy = default_content_root(), tmp_path_factory.mktemp("acute-only")
    for folder in ("questionnaires", "plan_definitions", "terminology"):
        shutil.copytree(root / folder, copy / folder)
    plan = json.loads((copy / PLAN_FILE).read_text(encoding="utf-8"))
    for setting in plan["extension"]:
        name, value = setting["extension"]
        if name["valueString"] == "referralDurationScope":
            value["valueCode"] = "acute-only"
    (copy / PLAN_FILE).write_text(json.dumps(plan), encoding="utf-8")
    return load_pathway(ContentRepository.load(copy), PLAN)
