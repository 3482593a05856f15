"""Server-side charts as plain SVG: no browser, no plotting library, the same bytes in the HTML and the PDF.

Every chart has a fixed viewBox, a title (<title> for screen readers), labelled axes and a legend; text is
XML-escaped. Values are floats; None is drawn as a gap in a line."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as _xml_escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'


#: Characters XML 1.0 does not allow (control characters, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(text: str) -> str:
    return _xml_escape(_NOT_XML.sub("", text))


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str | None = None


def _nice_step(span: float, ticks: int = 5) -> float:
    """A 1/2/5 x 10^k step giving about ``ticks`` gridlines over ``span`` (at least 0.01: money and counts)."""
    raw = span / ticks
    if not math.isfinite(raw) or raw <= 0.01:
        return 0.01 if math.isfinite(raw) and raw > 0 else 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def compact(value: float) -> str:
    """1234 -> '1.2k', 2_500_000 -> '2.5M'; small values keep two significant decimals."""
    a = abs(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + suffix
    if a >= 10 or a == 0:
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, s: str, *, size: int = 10, anchor: str = "start", fill: str = "#374151",
          weight: str = "normal") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
        f'font-weight="{weight}" {FONT}>{escape(s)}</text>'
    )


def line_chart(
    title: str,
    dates: Sequence[dt.date],
    series: Sequence[Series],
    *,
    width: int = 680,
    height: int = 240,
    y_label: str = "",
) -> str:
    """Daily values per series, one polyline each, y from 0."""
    left, right, top, bottom = 56, 12, 30, 46
    pw, ph = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    top_value = max(values, default=0.0)
    step = _nice_step(top_value or 1.0)
    y_max = step * max(1, math.ceil((top_value or 1.0) / step))
    n = len(dates)

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph - ph * v / y_max

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        _text(left, 16, title, size=12, weight="bold", fill="#111827"),
    ]
    tick = 0.0
    while tick <= y_max + 1e-9:
        yy = y(tick)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" stroke="#e5e7eb"/>')
        out.append(_text(left - 6, yy + 3, compact(tick), size=9, anchor="end"))
        tick += step
    if y_label:
        out.append(_text(10, top - 6, y_label, size=9))
    if n:
        every = max(1, math.ceil(n / 8))
        for i, d in enumerate(dates):
            if i % every == 0 or i == n - 1:
                out.append(_text(x(i), top + ph + 14, f"{d.day} {d.strftime('%b')}", size=9, anchor="middle"))
    out.append(
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#9ca3af" stroke-width="1"/>'
    )
    for k, s in enumerate(series):
        color = s.color or PALETTE[k % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
        for run in runs:
            if len(run) > 1:
                out.append(
                    f'<polyline class="series" fill="none" stroke="{color}" stroke-width="2" '
                    f'points="{" ".join(run)}"/>'
                )
            elif len(run) == 1:
                cx, cy = run[0].split(",")
                out.append(f'<circle class="series" cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
    lx = left
    for k, s in enumerate(series):
        color = s.color or PALETTE[k % len(PALETTE)]
        out.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{color}"/>')
        out.append(_text(lx + 14, height - 5, s.name, size=9))
        lx += 24 + 6 * len(s.name)
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    title: str,
    labels: Sequence[str],
    groups: Sequence[Series],
    *,
    width: int = 680,
    unit: str = "%",
) -> str:
    """Horizontal grouped bars: one row per label, one bar per group (e.g. share of spend vs of conversions)."""
    left, right, top = 130, 60, 30
    bar_h, gap = 12, 10
    row_h = bar_h * max(1, len(groups)) + gap
    height = top + row_h * max(1, len(labels)) + 26
    pw = width - left - right
    values = [v for g in groups for v in g.values if v is not None]
    v_max = max(values, default=0.0) or 1.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        _text(0, 16, title, size=12, weight="bold", fill="#111827"),
    ]
    for r, label in enumerate(labels):
        y0 = top + r * row_h
        out.append(_text(left - 8, y0 + bar_h * len(groups) / 2 + 4, label, size=10, anchor="end"))
        for k, g in enumerate(groups):
            v = g.values[r]
            color = g.color or PALETTE[k % len(PALETTE)]
            w = 0.0 if v is None else pw * max(v, 0.0) / v_max
            yy = y0 + k * bar_h
            out.append(
                f'<rect class="bar" x="{left}" y="{yy}" width="{w:.1f}" height="{bar_h - 2}" fill="{color}"/>'
            )
            shown = "n/a" if v is None else f"{v:.1f}{unit}"
            out.append(_text(left + w + 4, yy + bar_h - 3, shown, size=9))
    lx = left
    for k, g in enumerate(groups):
        color = g.color or PALETTE[k % len(PALETTE)]
        out.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{color}"/>')
        out.append(_text(lx + 14, height - 5, g.name, size=9))
        lx += 24 + 6 * len(g.name)
    out.append("</svg>")
    return "".join(out)
