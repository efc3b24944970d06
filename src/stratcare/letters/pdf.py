"""HTML letters to PDF with WeasyPrint (CSS paged media; needs Pango at run time).

The HTML never loads anything: every URL fetch is refused, so a letter cannot read local files or reach
the network while rendering (its stylesheet is inline).
"""

from __future__ import annotations

from weasyprint import HTML

from stratcare.letters.errors import LetterRenderingError


def _refuse_fetch(url: str, timeout: int = 10, ssl_context: object = None) -> dict[str, object]:  # noqa: ARG001
    raise LetterRenderingError(f"a letter may not load {url!r}")


def html_to_pdf(html: str) -> bytes:
    document: bytes | None = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    if not document:
        raise LetterRenderingError("the PDF renderer produced no document")
    return document
