"""The spine clinic journey's post-consultation letter, written out as the PDF the draft carries."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import typer

LETTER_PDF = Path("stratcare-demo-post-consultation-letter.pdf")


def save_letter_pdf(body: dict[str, Any], path: Path = LETTER_PDF) -> Path | None:
    """Write the first draft letter PDF among the cards' suggestions to ``path``; None when there is none."""
    for card in body.get("cards", []):
        for suggestion in card.get("suggestions", []):
            for action in suggestion.get("actions", []):
                resource = action.get("resource") or {}
                for content in (
                    resource.get("content", []) if resource.get("resourceType") == "DocumentReference" else []
                ):
                    attachment = content.get("attachment", {})
                    if attachment.get("contentType") == "application/pdf":
                        path.write_bytes(base64.b64decode(attachment["data"]))
                        typer.echo(f"  post-consultation letter (draft PDF) written to {path.resolve()}")
                        return path
    return None
