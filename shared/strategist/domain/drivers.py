"""Driver decomposition of a KPI change between two periods: how much of "CPA rose 18 %" came from CPM, CTR,
CVR (and AOV for ROAS), and how much from a shift of spend between breakdown rows (ad sets).

Why this shape. Every KPI here is a product of funnel factors:
    CPA  = CPM / (1000 * CTR * CVR)
    CPC  = CPM / (1000 * CTR)
    ROAS = CTR * CVR * AOV * 1000 / CPM
so its log-change is exactly the signed sum of the factors' log-changes. With breakdown rows the campaign KPI is
a spend-weighted average of the rows' "yield per unit of spend" (conversions/spend for CPA, clicks/spend for CPC,
revenue/spend for ROAS): Y = sum_i w_i * y_i. The midpoint (Shapley) shift-share identity
    Y1 - Y0 = sum_i (w1_i - w0_i) * (y0_i + y1_i) / 2   [mix]   +   sum_i (w0_i + w1_i) / 2 * (y1_i - y0_i)   [rate]
is exact, with no residual; each row's rate term is split over its funnel factors with the logarithmic mean
(y1 - y0 = L(y0, y1) * dlog y, and dlog y is the signed sum of the factors' dlogs), and the additive pieces are
mapped to log-points of the KPI by dividing by L(Y0, Y1). Everything sums exactly to the KPI's log-change; with a
single row the result reduces to the plain factor log-changes, and when spend shares do not move the mix is zero.

Pure: floats in, dataclasses out, no I/O, so it is property-tested in isolation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "KPIS",
    "Component",
    "Decomposition",
    "FunnelSums",
    "decompose",
    "log_mean",
    "summary_sentence",
]


@dataclass(frozen=True)
class FunnelSums:
    """Additive sums of one row (or the whole campaign) over a period."""

    spend: float
    impressions: float
    clicks: float
    conversions: float
    revenue: float

    def factor(self, name: str) -> float | None:
        """A funnel factor from sums; None when its denominator is zero."""
        num, den, scale = {
            "cpm": (self.spend, self.impressions, 1000.0),
            "ctr": (self.clicks, self.impressions, 1.0),
            "cvr": (self.conversions, self.clicks, 1.0),
            "aov": (self.revenue, self.conversions, 1.0),
        }[name]
        return None if den <= 0 else num * scale / den

    def __add__(self, other: FunnelSums) -> FunnelSums:
        return FunnelSums(
            self.spend + other.spend,
            self.impressions + other.impressions,
            self.clicks + other.clicks,
            self.conversions + other.conversions,
            self.revenue + other.revenue,
        )


ZERO_SUMS = FunnelSums(0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class KpiDef:
    """KPI = (yield per unit of spend) ** sign; yield = const * prod(factor ** exponent)."""

    name: str
    label: str
    numerator: str  # the FunnelSums field divided by spend to give the yield
    sign: int  # +1: KPI is the yield (ROAS); -1: KPI is its inverse (CPA, CPC)
    exponents: tuple[tuple[str, int], ...]
    higher_is_better: bool


KPIS: dict[str, KpiDef] = {
    "cpa": KpiDef("cpa", "CPA", "conversions", -1, (("cpm", -1), ("ctr", 1), ("cvr", 1)), False),
    "cpc": KpiDef("cpc", "CPC", "clicks", -1, (("cpm", -1), ("ctr", 1)), False),
    "roas": KpiDef("roas", "ROAS", "revenue", 1, (("cpm", -1), ("ctr", 1), ("cvr", 1), ("aov", 1)), True),
}

#: Component names besides the factors.
MIX = "mix"
UNSPLIT = "rate_unsplit"


@dataclass(frozen=True)
class Component:
    """One driver's share of the KPI's log-change.

    ``log_points`` = 100 x its part of dlog(KPI); ``pct_points`` rescales the log-points so that they add up to
    the KPI's ordinary percent change; ``share_pct`` = its part of the change in percent (None when the KPI did
    not move); ``factor_went`` says whether the driver itself rose or fell within rows (None for mix)."""

    name: str
    log_points: float
    pct_points: float
    share_pct: float | None
    factor_went: str | None


@dataclass(frozen=True)
class Decomposition:
    kpi: str
    previous: float | None
    current: float | None
    change_pct: float | None
    log_points: float | None
    components: list[Component] = field(default_factory=list)
    segments: int = 1
    reason: str | None = None  # why there is no decomposition (a zero denominator), else None

    @property
    def ok(self) -> bool:
        return self.reason is None


def log_mean(a: float, b: float) -> float:
    """Logarithmic mean L(a, b) = (b - a) / (ln b - ln a), with L(a, a) = a; both must be positive."""
    if a <= 0 or b <= 0:
        raise ValueError("log_mean needs positive arguments")
    if abs(b - a) <= 1e-12 * max(a, b):
        return (a + b) / 2.0
    return (b - a) / (math.log(b) - math.log(a))


def _yield(s: FunnelSums, kpi: KpiDef) -> float | None:
    return None if s.spend <= 0 else float(getattr(s, kpi.numerator)) / s.spend


def _factor_dlogs(before: FunnelSums, after: FunnelSums, kpi: KpiDef) -> dict[str, float] | None:
    """Each factor's signed contribution to dlog(yield) within one row; None when a factor is 0 or undefined in
    either period (the row's rate change then cannot be split over factors)."""
    out = {}
    for name, exponent in kpi.exponents:
        a, b = before.factor(name), after.factor(name)
        if a is None or b is None or a <= 0 or b <= 0:
            return None
        out[name] = exponent * (math.log(b) - math.log(a))
    return out


def decompose(
    kpi_name: str,
    before: Mapping[str, FunnelSums],
    after: Mapping[str, FunnelSums],
) -> Decomposition:
    """Decompose the change of ``kpi_name`` from ``before`` to ``after``. Each mapping is row -> sums; pass one
    row (e.g. ``{"total": sums}``) for a pure funnel decomposition. Rows missing from one period count as zero
    spend there (a new or stopped ad set is all mix)."""
    kpi = KPIS[kpi_name]
    keys = sorted(set(before) | set(after))
    b = {k: before.get(k, ZERO_SUMS) for k in keys}
    a = {k: after.get(k, ZERO_SUMS) for k in keys}
    tot_b = sum(b.values(), ZERO_SUMS)
    tot_a = sum(a.values(), ZERO_SUMS)
    y0, y1 = _yield(tot_b, kpi), _yield(tot_a, kpi)
    kpi0 = None if not y0 else y0**kpi.sign
    kpi1 = None if not y1 else y1**kpi.sign
    if y0 is None or y1 is None or y0 <= 0 or y1 <= 0:
        what = "spend" if (y0 is None or y1 is None) else kpi.numerator
        return Decomposition(
            kpi_name,
            kpi0,
            kpi1,
            None,
            None,
            segments=len(keys),
            reason=f"no {what} in one of the periods: {kpi.label} is undefined there",
        )

    parts: dict[str, float] = {name: 0.0 for name, _ in kpi.exponents}
    parts[MIX] = 0.0
    parts[UNSPLIT] = 0.0
    moved: dict[str, float] = {name: 0.0 for name, _ in kpi.exponents}
    for k in keys:
        w0, w1 = b[k].spend / tot_b.spend, a[k].spend / tot_a.spend
        yi0, yi1 = _yield(b[k], kpi), _yield(a[k], kpi)
        if yi0 is None and yi1 is None:
            continue
        # a row absent from one period has no rate there; give it the other period's, so it is all mix
        yi0 = yi1 if yi0 is None else yi0
        yi1 = yi0 if yi1 is None else yi1
        assert yi0 is not None and yi1 is not None
        parts[MIX] += (w1 - w0) * (yi0 + yi1) / 2.0
        within = (w0 + w1) / 2.0 * (yi1 - yi0)
        if within == 0.0:
            continue
        dlogs = _factor_dlogs(b[k], a[k], kpi) if yi0 > 0 and yi1 > 0 else None
        if dlogs is None:
            parts[UNSPLIT] += within
            continue
        weight = (w0 + w1) / 2.0 * log_mean(yi0, yi1)
        for name, d in dlogs.items():
            parts[name] += weight * d
            moved[name] += weight * d

    scale = kpi.sign / log_mean(y0, y1)
    total_log = kpi.sign * (math.log(y1) - math.log(y0))
    change_pct = (math.exp(total_log) - 1.0) * 100.0
    # log-points -> ordinary percent points: proportional, with the limit 1 as the change vanishes
    to_pct = change_pct / (100.0 * total_log) if abs(total_log) > 1e-12 else 1.0
    components = []
    for name, part in parts.items():
        if name in (MIX, UNSPLIT) and part == 0.0 and (name == UNSPLIT or len(keys) == 1):
            continue
        c = part * scale
        went = None
        if name in moved:
            exponent = dict(kpi.exponents)[name]
            went = "up" if moved[name] * exponent > 0 else "down" if moved[name] * exponent < 0 else "flat"
        components.append(
            Component(
                name=name,
                log_points=100.0 * c + 0.0,
                pct_points=100.0 * c * to_pct + 0.0,
                share_pct=None if abs(total_log) <= 1e-12 else 100.0 * c / total_log + 0.0,
                factor_went=went,
            )
        )
    return Decomposition(
        kpi_name,
        kpi0,
        kpi1,
        change_pct,
        100.0 * total_log,
        components,
        segments=len(keys),
    )


_NAMES = {"cpm": "CPM", "ctr": "CTR", "cvr": "CVR", "aov": "AOV"}


def summary_sentence(d: Decomposition, mix_label: str = "mix across ad sets") -> str:
    """One plain sentence from the numbers, largest driver first, e.g. "CPA rose 18.0 %: 11.2 points from
    higher CPM, 9.1 from lower CVR, -2.3 from CTR." The points are ``pct_points`` and add up to the change."""
    label = KPIS[d.kpi].label
    if not d.ok or d.change_pct is None:
        return f"{label}: no decomposition ({d.reason})."
    if abs(d.change_pct) < 0.05:
        return f"{label} was unchanged (within 0.05 %)."
    verb = "rose" if d.change_pct > 0 else "fell"
    bits = []
    for i, c in enumerate(sorted(d.components, key=lambda c: -abs(c.pct_points))):
        if c.name == MIX:
            what = mix_label
        elif c.name == UNSPLIT:
            what = "rate changes in rows with a zero funnel stage"
        else:
            adjective = ""
            # say "higher"/"lower" only when the factor pushed the KPI the way the sentence reads
            if c.factor_went in ("up", "down") and abs(c.pct_points) >= 0.05:
                pushes_same_way = (c.pct_points > 0) == (d.change_pct > 0)
                if pushes_same_way:
                    adjective = "higher " if c.factor_went == "up" else "lower "
            what = adjective + _NAMES[c.name]
        points = f"{round(c.pct_points, 1) + 0.0:.1f}" + (" points" if i == 0 else "")
        bits.append(f"{points} from {what}")
    return f"{label} {verb} {abs(d.change_pct):.1f} %: " + ", ".join(bits) + "."
