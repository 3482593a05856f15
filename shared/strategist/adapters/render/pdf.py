"""HTML -> PDF with WeasyPrint (pango does the text layout; it draws inline SVG itself).

Nothing is fetched while rendering: the fetcher allows data: URIs only, so a logo URL or a crafted <img> in
commentary (which is escaped anyway) can never make the renderer call out (no SSRF, no file:// reads)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pdf:
    content: bytes
    pages: int


def html_to_pdf(html: str) -> Pdf:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    document = HTML(string=html, base_url="data:,", url_fetcher=fetcher).render()
    return Pdf(document.write_pdf(), len(document.pages))
