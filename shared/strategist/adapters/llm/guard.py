"""The figure check: a narrative may state only figures that are in its facts.

Why: a language model writes fluent prose and, now and then, a plausible number nobody computed. In a costed plan
that is worse than no narrative, so every figure in a model's text is extracted and matched against the facts; one
unmatched figure rejects the whole text and the caller falls back to the offline writer. Nothing extracted here is
ever used as a number: the check only says yes or no (ARCHITECTURE §1).

What counts as a figure: integers, decimals, thousands separators ("12,500"), percentages ("45%", "45 percent"),
multiples ("3.5x", "3.5×"), magnitudes ("1.2k", "3 million", "2bn"), money with a symbol or an ISO code before
or after ("$1,200", "USD 1,200", "1,200 JPY", "¥1,200"), and both ends of a range ("10-20%", "between $1k and
$2k"; a unit written once applies to both ends). Numbers glued to letters are identifiers, not figures ("p50",
"Q3", "GA4"), numbered-list markers are layout, and small ordinals ("2nd", "#1") are positions.

What counts as "in the facts": any number in the facts (leaves, numbers inside strings such as an assumption's
"CPM 7.19 USD", numbers in keys such as p10/p50/p90, ISO date parts) and the length of every list (the number of
platforms, of assumptions). A figure matches a fact when the fact rounds to it at the precision shown: "3.5x"
matches 3.456, "$1.2k" matches 1,234.56, "45%" matches a share of 0.4512 or a percentage of 45.1. Signs are not
compared ("a drop of 12%" for -0.12): direction is prose, the magnitude is the figure. Spelled-out numbers ("three")
are not checked. A currency named in the text must be one of the facts' currencies.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel

from strategist.domain.money import ACTIVE_CURRENCIES

#: Ordinals up to this are positions ("the 2nd week", "#1 platform"), allowed without being a fact.
MAX_FREE_ORDINAL = 10

SYMBOL_CURRENCIES: dict[str, frozenset[str]] = {
    "$": frozenset({"USD", "AUD", "CAD", "NZD", "SGD", "HKD", "MXN", "TWD", "ARS", "CLP", "COP", "BRL"}),
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
}

_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
_PREFIX = re.compile(r"(?:([$€£¥₹₩])|(?<![A-Za-z])([A-Z]{3}))\s?$")
_GLUED_CODE = re.compile(r"(?<![A-Za-z])([A-Z]{3})$")
_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*][ \t]+)?\d{1,2}[.)][ \t]", re.MULTILINE)
_PERCENT = re.compile(r"\s?(?:%|percent\b|per cent\b|pct\b)", re.IGNORECASE)
_TIMES = re.compile(r"(?:[xX×](?![A-Za-z0-9])|\s×)")
_ORDINAL = re.compile(r"(?:st|nd|rd|th)\b")
_SCALES: tuple[tuple[re.Pattern[str], Decimal], ...] = (
    (re.compile(r"(?:[kK](?![A-Za-z0-9])|\s?thousand\b)"), Decimal(1_000)),
    (re.compile(r"(?:(?:mn|MM|[mM])(?![A-Za-z0-9])|\s?million\b)"), Decimal(1_000_000)),
    (re.compile(r"(?:(?:bn|B)(?![A-Za-z0-9])|\s?billion\b)"), Decimal(1_000_000_000)),
)
_SUFFIX_CODE = re.compile(r"\s?([A-Z]{3})\b")
_RANGE_JOIN = re.compile(r"^\s*(?:-|–|—|to|and)\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ].*)?$")
_EPSILON = Decimal("1e-9")


@dataclass
class Figure:
    """A number as written in a text, with what the writing says about its unit and precision."""

    text: str
    start: int
    end: int
    mantissa: Decimal
    decimals: int
    scale: Decimal = Decimal(1)
    unit: str = ""  # "", "%", "x" or "ordinal"
    currency: str | None = None  # ISO code or symbol as written
    #: Other readings of a range end that borrowed its unit from the other end: (unit, scale) pairs.
    alternatives: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def value(self) -> Decimal:
        return self.mantissa * self.scale


def extract_figures(text: str) -> list[Figure]:
    """Every figure in ``text``, in order (see the module docstring for what counts)."""
    skip = {m.end() - 3 for m in _LIST_MARKER.finditer(text)}  # the last digit before the "." or ")"
    figures: list[Figure] = []
    for m in _NUMBER.finditer(text):
        start, end = m.span()
        if end - 1 in skip and m.group().isdigit():
            continue
        before = text[:start]
        prev = before[-1:] if before else ""
        currency: str | None = None
        token_start = start
        if prev and (prev.isalnum() or prev == "_"):
            glued = _GLUED_CODE.search(before)
            if not (glued and glued.group(1) in ACTIVE_CURRENCIES):
                continue  # an identifier such as p50, Q3, GA4
            currency, token_start = glued.group(1), glued.start()
        else:
            p = _PREFIX.search(before)
            if p and (p.group(1) or p.group(2) in ACTIVE_CURRENCIES):
                currency, token_start = p.group(1) or p.group(2), p.start()
        raw = m.group().replace(",", "")
        try:
            mantissa = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern only matches decimal digits
            continue
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        fig = Figure(
            text=m.group(), start=start, end=end, mantissa=mantissa, decimals=decimals, currency=currency
        )
        after = text[end:]
        pos = 0
        if prev == "#":
            fig.unit = "ordinal"
        elif s := _PERCENT.match(after):
            fig.unit, pos = "%", s.end()
        elif s := _TIMES.match(after):
            fig.unit, pos = "x", s.end()
        elif s := _ORDINAL.match(after):
            fig.unit, pos = "ordinal", s.end()
        else:
            for pattern, scale in _SCALES:
                if s := pattern.match(after):
                    fig.scale, pos = scale, s.end()
                    break
            else:
                if after[:1].isalpha():
                    continue  # glued letters: an identifier such as 3D or 5G, not a quantity
        if fig.currency is None and (c := _SUFFIX_CODE.match(after, pos)) and c.group(1) in ACTIVE_CURRENCIES:
            fig.currency, pos = c.group(1), c.end()
        fig.start, fig.end = token_start, end + pos
        figures.append(fig)
    _share_range_units(text, figures)
    return figures


def _share_range_units(text: str, figures: list[Figure]) -> None:
    """In "10-20%" or "between 1.2 and 1.5k" the unit is written once; either end may carry it."""
    for a, b in itertools.pairwise(figures):
        if not _RANGE_JOIN.match(text[a.end : b.start]):
            continue
        for x, y in ((a, b), (b, a)):
            if x.unit == "" and y.unit in {"%", "x"}:
                x.alternatives.append((y.unit, x.scale))
            if x.scale == 1 and y.scale != 1 and x.unit == "":
                x.alternatives.append(("", y.scale))


# -- what the facts allow ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Allowed:
    """The values and currencies a text may mention."""

    values: frozenset[Decimal]
    currencies: frozenset[str]


def allowed_from_facts(facts: BaseModel | dict[str, Any]) -> Allowed:
    data = facts.model_dump(mode="python") if isinstance(facts, BaseModel) else facts
    values: set[Decimal] = set()
    currencies: set[str] = set()
    for item in _walk(data, currencies):
        values.add(abs(item))
    return Allowed(frozenset(values), frozenset(currencies))


def _walk(node: Any, currencies: set[str]) -> Iterator[Decimal]:
    if node is None or isinstance(node, bool):
        return
    if isinstance(node, int | float | Decimal):
        d = Decimal(repr(node)) if isinstance(node, float) else Decimal(node)
        if d.is_finite():
            yield d
    elif isinstance(node, str):
        yield from _numbers_in_string(node, currencies)
    elif isinstance(node, dict):
        yield Decimal(len(node))
        for key, value in node.items():
            yield from _numbers_in_string(str(key), currencies)
            yield from _walk(value, currencies)
    elif isinstance(node, list | tuple | set | frozenset):
        yield Decimal(len(node))
        for value in node:
            yield from _walk(value, currencies)
    else:  # dates, UUIDs, enums: their printed form
        yield from _numbers_in_string(str(node), currencies)


def _numbers_in_string(text: str, currencies: set[str]) -> Iterator[Decimal]:
    stripped = text.strip()
    if stripped.upper() in ACTIVE_CURRENCIES and len(stripped) == 3:
        currencies.add(stripped.upper())
    if _ISO_DATE.match(stripped):
        yield from (Decimal(int(part)) for part in re.findall(r"\d+", stripped[:10]))
        return
    try:
        yield Decimal(stripped.replace(",", ""))
        return
    except InvalidOperation:
        pass
    for fig in extract_figures(text):
        if fig.currency in ACTIVE_CURRENCIES:
            currencies.add(fig.currency)  # type: ignore[arg-type]
        yield fig.value
    # Identifiers carry figures too when a fact spells them out ("p90", "Q3 sale"): allow their digits.
    for digits in re.findall(r"(?<=[A-Za-z_])\d+(?:\.\d+)?|\d+(?=[A-Za-z])", text):
        yield Decimal(digits)


# -- the check --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GuardResult:
    ok: bool
    violations: tuple[str, ...] = ()

    @property
    def reason(self) -> str | None:
        if self.ok:
            return None
        return "; ".join(self.violations)


def _matches(mantissa: Decimal, decimals: int, scale: Decimal, unit: str, values: Iterable[Decimal]) -> bool:
    half = Decimal(5).scaleb(-(decimals + 1))
    for f in values:
        targets = (f * 100, f) if unit == "%" else (f,)
        for t in targets:
            shown = t / scale
            if abs(shown - mantissa) <= half + _EPSILON * max(Decimal(1), abs(shown)):
                return True
    return False


def figure_allowed(fig: Figure, allowed: Allowed) -> bool:
    if fig.unit == "ordinal" and fig.mantissa <= MAX_FREE_ORDINAL and fig.decimals == 0:
        return True
    unit = "" if fig.unit == "ordinal" else fig.unit
    readings = [(unit, fig.scale), *fig.alternatives]
    return any(_matches(fig.mantissa, fig.decimals, scale, u, allowed.values) for u, scale in readings)


def _currency_allowed(currency: str, allowed: Allowed) -> bool:
    if currency in SYMBOL_CURRENCIES:
        return bool(SYMBOL_CURRENCIES[currency] & allowed.currencies)
    return currency in allowed.currencies


def check_text(text: str, facts: BaseModel | dict[str, Any] | Allowed) -> GuardResult:
    """Whether every figure (and currency) in ``text`` is in ``facts``; the violations name each one."""
    allowed = facts if isinstance(facts, Allowed) else allowed_from_facts(facts)
    violations: list[str] = []
    for fig in extract_figures(text):
        written = text[fig.start : fig.end].strip()
        if not figure_allowed(fig, allowed):
            violations.append(f"figure {written!r} is not in the facts")
        elif fig.currency and not _currency_allowed(fig.currency, allowed):
            violations.append(f"currency {fig.currency!r} in {written!r} is not the facts' currency")
    return GuardResult(ok=not violations, violations=tuple(violations))
