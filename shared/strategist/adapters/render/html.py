"""The report as one self-contained HTML document (inline CSS and SVG, no external fetches), rendered with a
Jinja2 environment that autoescapes everything except the SVG charts this package draws itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from strategist.adapters.render.templates import REPORT_TEMPLATE

KPI_UNITS = {"ctr": "%", "cvr": "%"}


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money(value: Any, currency: str = "") -> str:
    d = _dec(value)
    if d is None:
        return "n/a"
    return f"{currency} {d:,.2f}".strip()


def number(value: Any, places: int = 0) -> str:
    d = _dec(value)
    if d is None:
        return "n/a"
    return f"{d:,.{places}f}"


def pct(value: Any, places: int = 1, signed: bool = True) -> str:
    d = _dec(value)
    if d is None:
        return "n/a"
    return f"{d:+,.{places}f} %" if signed else f"{d:,.{places}f} %"


def date(value: Any) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return f"{value.day} {value.strftime('%b')} {value.year}" if isinstance(value, dt.date) else "n/a"


def stamp(value: Any) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        return "never"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def kpi_value(value: Any, kpi: str, currency: str) -> str:
    if kpi in ("spend", "revenue", "cpa", "cpc", "cpm", "cpl"):
        return money(value, currency)
    if kpi in ("ctr", "cvr"):
        return pct(value, 2, signed=False)
    if kpi == "roas":
        d = _dec(value)
        return "n/a" if d is None else f"{d:,.2f}x"
    if kpi == "conversions":
        return number(value, 2)
    return number(value)


@lru_cache(maxsize=1)
def _template() -> Any:
    from jinja2 import Environment, StrictUndefined

    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=money, number=number, pct=pct, date=date, stamp=stamp, kpi_value=kpi_value)
    return env.from_string(REPORT_TEMPLATE)


def render_html(data: dict[str, Any], charts: dict[str, str], commentary: str | None) -> str:
    from markupsafe import Markup

    safe_charts = {
        k: Markup(v) for k, v in charts.items()
    }  # drawn by strategist.adapters.render.svg, escaped there
    return str(_template().render(r=data, charts=safe_charts, commentary=commentary or ""))
