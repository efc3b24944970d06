from __future__ import annotations

import json
from pathlib import Path

import pytest

from stratcare.content import ContentRepository
from stratcare.instruments.registry import InstrumentRegistry


@pytest.fixture(scope="session")
def content() -> ContentRepository:
    return ContentRepository.load()


@pytest.fixture(scope="session")
def registry(content: ContentRepository) -> InstrumentRegistry:
    return InstrumentRegistry.from_content(content)


@pytest.fixture(scope="session")
def licensed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An obviously fake STarT MSK wording file, as a licensed site would supply the real one."""
    folder = tmp_path_factory.mktemp("licensed")
    wording = {f"msk-{number}": f"FAKE TEST WORDING for STarT MSK item {number}" for number in range(1, 11)}
    (folder / "start-msk-wording.json").write_text(json.dumps(wording), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def licensed_registry(content: ContentRepository, licensed_dir: Path) -> InstrumentRegistry:
    return InstrumentRegistry.from_content(content, licensed_dir=licensed_dir)
