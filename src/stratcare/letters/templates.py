"""Letter templates are content: Jinja2 files in the content root's ``letters/`` folder, each of which a
clinic may replace by putting a file of the same name in its own folder (searched first).

Autoescaping is on for every template, so record text (a medication name, a clinician's display) can never
inject markup. A missing variable is an error, not an empty string, so a broken clinic edit fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from stratcare.letters.rejected_language import refuse_rejected_language

LETTERS_FOLDER = "letters"
PRE_CONSULTATION = "pre-consultation.html.j2"
POST_CONSULTATION = "post-consultation.html.j2"
LETTER_TEMPLATES = (PRE_CONSULTATION, POST_CONSULTATION)

# The post-consultation letter's sections, in order, each one block of the template (its id) and one
# Composition.section (its title): the elements the co-designed letter carries.
POST_CONSULTATION_SECTIONS = (
    ("purpose", "About this letter"),
    ("impact", "Impact of pain on daily life"),
    ("treatments", "Treatments tried so far"),
    ("findings", "Examination and test results"),
    ("serious_disease", "No signs of serious disease"),
    ("diagnosis", "Diagnosis"),
    ("surgery", "Surgery and non-surgical treatment"),
    ("plan", "Agreed plan and goals"),
    ("resources", "Trusted resources"),
)


class LetterTemplateError(ValueError):
    """A letter template is missing, or cannot be rendered (a clinic edit broke it)."""


class LetterTemplates:
    def __init__(self, folders: Iterable[Path]) -> None:
        self.folders = tuple(folders)
        self._environment = Environment(
            loader=FileSystemLoader([str(folder) for folder in self.folders]),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    @classmethod
    def for_clinic(cls, content_root: Path, clinic_folder: Path | None = None) -> LetterTemplates:
        folders = [content_root / LETTERS_FOLDER]
        return cls([clinic_folder, *folders] if clinic_folder else folders)

    def check(self) -> None:
        """Raise LetterTemplateError unless every letter template compiles and the post-consultation one
        has a block for each section: a broken clinic edit stops start-up, not a consultation."""
        try:
            for name in LETTER_TEMPLATES:
                template = self._environment.get_template(name)
                if name == POST_CONSULTATION:
                    missing = [
                        block for block, _ in POST_CONSULTATION_SECTIONS if block not in template.blocks
                    ]
                    if missing:
                        raise LetterTemplateError(
                            f"letter template {name}: no block for {', '.join(missing)}"
                        )
        except TemplateError as exc:
            raise LetterTemplateError(f"letter template: {exc}") from exc

    def render(self, name: str, values: Mapping[str, object]) -> str:
        """The whole letter as HTML; refused when it contains wording patients rejected."""
        try:
            html = self._environment.get_template(name).render(values)
        except TemplateError as exc:
            raise LetterTemplateError(f"letter template {name}: {exc}") from exc
        refuse_rejected_language(html, name)
        return html

    def render_blocks(self, name: str, blocks: Iterable[str], values: Mapping[str, object]) -> dict[str, str]:
        """Each named block of the template on its own (the Composition's section narratives)."""
        try:
            template = self._environment.get_template(name)
            context = template.new_context(dict(values))
            rendered = {block: "".join(template.blocks[block](context)) for block in blocks}
        except KeyError as exc:
            raise LetterTemplateError(f"letter template {name}: no block {exc.args[0]!r}") from exc
        except TemplateError as exc:
            raise LetterTemplateError(f"letter template {name}: {exc}") from exc
        for block, html in rendered.items():
            refuse_rejected_language(html, f"{name} ({block})")
        return rendered
