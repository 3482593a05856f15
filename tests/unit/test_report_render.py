"""Report rendering without a database: SVG charts are well-formed XML with escaped text and sane geometry, the
HTML template escapes user text, and WeasyPrint never fetches a URL while rendering."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategist.adapters.render import svg

NS = {"s": "http://www.w3.org/2000/svg"}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.floats(0, 1e7, allow_nan=False)), min_size=1, max_size=40),
        min_size=1,
        max_size=5,
    ),
    st.text(min_size=1, max_size=30),
)
def test_line_chart_is_valid_svg_inside_its_box(series_values, name):
    n = min(len(v) for v in series_values)
    dates = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(n)]
    series = [svg.Series(f"{name} {i}", v[:n]) for i, v in enumerate(series_values)]
    doc = svg.line_chart(f"Spend <{name}> & more", dates, series, width=600, height=200)
    root = ET.fromstring(doc)  # well-formed: every piece of text was escaped
    shown = "".join(
        c
        for c in name
        if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff" and not "\ud800" <= c <= "\udfff")
    )
    # An XML parser turns every literal CR (and CRLF) in text into LF (XML 1.0 §2.11), whatever the writer did.
    shown = shown.replace("\r\n", "\n").replace("\r", "\n")
    assert root.find("s:title", NS).text == f"Spend <{shown}> & more"
    for poly in root.iter(f"{{{NS['s']}}}polyline"):
        for point in poly.get("points").split():
            x, y = map(float, point.split(","))
            assert 0 <= x <= 600 and 0 <= y <= 200


def test_bar_chart_scales_to_the_largest_value():
    doc = svg.bar_chart(
        "Mix", ["Google Ads", "Meta"], [svg.Series("spend", [75.0, 25.0]), svg.Series("conv", [50.0, None])]
    )
    root = ET.fromstring(doc)
    bars = [b for b in root.iter(f"{{{NS['s']}}}rect") if b.get("class") == "bar"]
    widths = [float(b.get("width")) for b in bars]
    assert (
        len(bars) == 4
        and widths[0] == max(widths)
        and widths[1] == pytest.approx(widths[0] * 50 / 75, abs=0.05)
    )
    assert widths[3] == 0.0 and "n/a" in doc


def test_compact_numbers():
    assert [svg.compact(v) for v in (0, 5, 12, 1234, 2_500_000, 3e9)] == [
        "0",
        "5",
        "12",
        "1.2k",
        "2.5M",
        "3B",
    ]


def test_pdf_renderer_fetches_nothing(monkeypatch):
    """A logo URL, an instance-metadata address or a file:// path in the document is never opened."""
    from weasyprint.urls import URLFetcher

    from strategist.adapters.render.pdf import html_to_pdf

    opened: list[str] = []

    def record(self, url, *args, **kwargs):
        opened.append(str(getattr(url, "full_url", url)))
        raise AssertionError("the renderer tried to open a URL")

    monkeypatch.setattr(URLFetcher, "open", record)
    html = (
        '<html><body><p>x</p><img src="http://169.254.169.254/latest/meta-data/"><img src="file:///etc/passwd">'
        '<link rel="stylesheet" href="https://example.com/x.css"></body></html>'
    )
    pdf = html_to_pdf(html)
    assert pdf.content.startswith(b"%PDF") and pdf.pages == 1
    assert opened == []
