"""Templates are content: every shipped template renders from the sample record without the wording the
co-design rejected, a clinic's folder overrides them, and the guard refuses rejected wording."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import stratcare
from letters.conftest import NOW, POST, PRE, Decide
from letters.letter_parts import decoded, post_letter, pre_letter_html
from stratcare.cdshooks.services import ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.engine.letters_decision import SpineLettersDecider
from stratcare.letters import (
    REJECTED_PHRASES,
    LetterTemplateError,
    LetterTemplates,
    RejectedLanguage,
    rejected_phrases_in,
)
from stratcare.letters.content import AppointmentDetails, PreConsultationLetter
from stratcare.letters.templates import LETTERS_FOLDER

SHIPPED = sorted(
    path.name
    for path in (ContentRepository.load().root / LETTERS_FOLDER).glob("*.j2")
    if not path.name.startswith("_")
)


def _rendered(decide: Decide, sample: Any) -> dict[str, str]:
    _, document, _ = post_letter(decide(sample(POST)))
    return {
        "pre-consultation.html.j2": pre_letter_html(decide(sample(PRE))),
        "post-consultation.html.j2": decoded(document["content"][0]["attachment"]).decode("utf-8"),
    }


def test_every_shipped_template_is_rendered_by_a_service() -> None:
    assert SHIPPED == ["post-consultation.html.j2", "pre-consultation.html.j2"]


@pytest.mark.parametrize("template", SHIPPED)
def test_no_template_says_what_patients_rejected(template: str, decide: Decide, sample: Any) -> None:
    html = _rendered(decide, sample)[template]
    assert rejected_phrases_in(html) == []
    source = (ContentRepository.load().root / LETTERS_FOLDER / template).read_text(encoding="utf-8").lower()
    assert [phrase for phrase in REJECTED_PHRASES if phrase in " ".join(source.split())] == []


@pytest.mark.parametrize("phrase", ["Your back is strong and stable.", "You have chronic\n low back pain."])
def test_the_guard_refuses_rejected_wording(phrase: str) -> None:
    assert rejected_phrases_in(f"<p>{phrase}</p>") != []


def _clinic_folder(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "pre-consultation.html.j2").write_text(body, encoding="utf-8")
    return folder


def _decider(folder: Path) -> SpineLettersDecider:
    content = ContentRepository.load()
    return SpineLettersDecider.from_content(content, ServiceRegistry.from_content(content), folder)


def test_a_clinic_folder_overrides_a_template(tmp_path: Path, decide: Decide, sample: Any) -> None:
    folder = _clinic_folder(tmp_path, "<p>Our own letter for {{ letter.patient_name }}</p>")
    html = pre_letter_html(decide(sample(PRE), _decider(folder)))
    assert html == "<p>Our own letter for Grace Okafor</p>"


def test_a_clinic_template_with_rejected_wording_drafts_no_letter(
    tmp_path: Path, decide: Decide, sample: Any
) -> None:
    folder = _clinic_folder(tmp_path, "<p>Good news: your back is strong and stable.</p>")
    decision = decide(sample(PRE), _decider(folder))
    card = next(issued.card for issued in decision.cards if issued.pathway_action == "no-letter")
    assert "strong and stable" in (card.detail or "")
    assert "pre-consultation-letter" not in [issued.pathway_action for issued in decision.cards]


def test_rendering_refuses_rejected_wording_directly(tmp_path: Path) -> None:
    templates = LetterTemplates([_clinic_folder(tmp_path, "<p>chronic low back pain</p>")])
    letter = PreConsultationLetter("today", None, AppointmentDetails(None, None, "clinic", None, None))
    with pytest.raises(RejectedLanguage):
        templates.render("pre-consultation.html.j2", {"letter": letter, "now": NOW})


def test_letters_import_no_io() -> None:
    root = Path(stratcare.__file__).parent / "letters"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [name for name in names if name.split(".")[0] in ("fastapi", "httpx", "sqlalchemy")]
    assert offenders == []


def test_a_clinic_post_template_without_a_section_block_stops_start_up(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "post-consultation.html.j2").write_text("{% block purpose %}{% endblock %}", encoding="utf-8")
    with pytest.raises(LetterTemplateError, match="no block for impact"):
        _decider(folder)


def test_a_clinic_template_that_does_not_compile_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(LetterTemplateError):
        _decider(_clinic_folder(tmp_path, "{% if %}"))
