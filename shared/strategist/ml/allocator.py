"""Budget allocation over fitted response curves: a pure function, no model state.

For concave curves the optimum of "maximise the summed outcome subject to a total and per-channel bounds" is the
point where every channel not at a bound has the same marginal return (the KKT conditions); we find that common
marginal (the shadow price) by a one-dimensional root search, inverting each channel's marginal return in closed
form where possible. Ratio constraints merge channels into one unit with a combined (still concave) curve; locked
channels are units whose bounds coincide. Users complained that tools silently hand back the input split when the
bounds are narrow: here an infeasible request raises :class:`InfeasibleBudgetError` naming the bound at fault.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from strategist.ml.response import ResponseCurve

__all__ = [
    "Allocation",
    "InfeasibleBudgetError",
    "allocate",
    "allocate_for_target",
    "min_budget_for_outcome",
]


class InfeasibleBudgetError(ValueError):
    """The total, bounds, locks, ratios or target cannot all hold at once."""


@dataclass(frozen=True)
class Allocation:
    """An optimal split and the evidence for it."""

    spend: dict[str, float]
    expected: dict[str, float]
    total_outcome: float
    marginal_roas: dict[str, float]
    shadow_price: float
    kkt_residual: float
    exact: bool
    current_outcome: float | None = None
    uplift: float | None = None
    uplift_interval: tuple[float, float] | None = None

    @property
    def total(self) -> float:
        return float(sum(self.spend.values()))


@dataclass
class _Unit:
    """Channels tied by ratios (or a single channel): spend of member i is ``weights[i] * t``."""

    members: list[str]
    weights: list[float]
    curves: list[ResponseCurve]
    lo: float
    hi: float
    grid: tuple[np.ndarray, np.ndarray] | None = None

    def marginal(self, t: float) -> float:
        return float(
            sum(w * float(c.derivative(w * t)) for w, c in zip(self.weights, self.curves, strict=True))
        )

    def value(self, t: float) -> float:
        return float(sum(float(c.value(w * t)) for w, c in zip(self.weights, self.curves, strict=True)))

    def _closed_form(self, lam: float) -> float | None:
        if len(self.curves) == 1:
            s = self.curves[0].spend_for_marginal(lam)
            if s is not None:
                return min(max(s, self.lo), self.hi)
        return None

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        """Marginal return on a log-spaced spend grid: one vectorised pass instead of thousands of scalar calls."""
        if self.grid is None:
            span = self.hi - self.lo
            ts = self.lo + span * np.concatenate([[0.0], np.logspace(-9, 0, 400)])
            g = np.zeros_like(ts)
            for w, c in zip(self.weights, self.curves, strict=True):
                g += w * np.asarray(c.derivative(w * ts), dtype=float)
            # concave curves: marginal returns never increase; enforce it against rounding for searchsorted
            self.grid = (ts, np.minimum.accumulate(g))
        return self.grid

    def spend_at(self, lam: float, exact: bool = True) -> float:
        """Unit spend where its marginal return equals ``lam``, clipped to its bounds (``exact=False``: the
        grid interpolation alone)."""
        if self.lo >= self.hi:
            return self.lo
        closed = self._closed_form(lam)
        if closed is not None:
            return closed
        ts, g = self._table()
        if g[0] <= lam:
            return self.lo
        if g[-1] >= lam:
            return self.hi
        i = int(np.searchsorted(-g, -lam))  # first grid point with g <= lam
        a, b = float(ts[i - 1]), float(ts[i])
        fa, fb = float(g[i - 1]) - lam, float(g[i]) - lam
        if not exact:
            return a + (b - a) * fa / (fa - fb) if fa > fb else a
        # Illinois regula falsi inside the cell: superlinear, and never leaves the bracket
        side = 0
        x = a
        for _ in range(60):
            x = b - fb * (b - a) / (fb - fa) if fb != fa else 0.5 * (a + b)
            fx = self.marginal(x) - lam
            if fx == 0 or b - a <= 1e-13 * max(1.0, b):
                break
            if fx > 0:
                a, fa = x, fx
                if side == -1:
                    fb *= 0.5
                side = -1
            else:
                b, fb = x, fx
                if side == 1:
                    fa *= 0.5
                side = 1
        return x


def _build_units(
    curves: Mapping[str, ResponseCurve],
    total: float,
    bounds: Mapping[str, tuple[float, float]] | None,
    locked: Mapping[str, float] | None,
    ratios: Mapping[tuple[str, str], float] | None,
    check_total: bool = True,
) -> list[_Unit]:
    """Channels -> units; ``total`` caps every upper bound, and is checked against the bounds' sums."""
    names = list(curves)
    bounds = dict(bounds or {})
    locked = dict(locked or {})
    for name in [*bounds, *locked, *(n for pair in (ratios or {}) for n in pair)]:
        if name not in curves:
            raise KeyError(f"unknown channel {name!r}; known: {names}")
    lo = {n: float(bounds.get(n, (0.0, math.inf))[0]) for n in names}
    hi = {n: float(bounds.get(n, (0.0, math.inf))[1]) for n in names}
    for n, v in locked.items():
        if not lo[n] - 1e-9 <= v <= hi[n] + 1e-9:
            raise InfeasibleBudgetError(
                f"channel {n!r} is locked at {v:g}, outside its bounds ({lo[n]:g}, {hi[n]:g})"
            )
        lo[n] = hi[n] = float(v)
    for n in names:
        if lo[n] < 0:
            raise InfeasibleBudgetError(f"channel {n!r} has a negative lower bound {lo[n]:g}")
        if lo[n] > hi[n]:
            raise InfeasibleBudgetError(f"channel {n!r}: lower bound {lo[n]:g} exceeds upper bound {hi[n]:g}")
        hi[n] = min(hi[n], total)
        if lo[n] > hi[n]:
            raise InfeasibleBudgetError(f"channel {n!r}: lower bound {lo[n]:g} exceeds the total {total:g}")

    # union-find with relative weights: weight[n] is n's spend per unit of its root's spend
    parent = {n: n for n in names}
    rel = dict.fromkeys(names, 1.0)

    def find(n: str) -> tuple[str, float]:
        w = 1.0
        while parent[n] != n:
            w *= rel[n]
            n = parent[n]
        return n, w

    for (a, b), r in (ratios or {}).items():
        if not r > 0:
            raise InfeasibleBudgetError(f"ratio {a!r}/{b!r} must be positive, got {r:g}")
        ra, wa = find(a)
        rb, wb = find(b)
        if ra == rb:
            if not math.isclose(wa / wb, r, rel_tol=1e-9):
                raise InfeasibleBudgetError(
                    f"ratio {a!r}/{b!r} = {r:g} contradicts the other ratios ({wa / wb:g})"
                )
            continue
        # spend_a = r * spend_b  =>  root_a expressed through root_b
        parent[ra] = rb
        rel[ra] = r * wb / wa

    groups: dict[str, list[tuple[str, float]]] = {}
    for n in names:
        root, w = find(n)
        groups.setdefault(root, []).append((n, w))
    units = []
    for members in groups.values():
        wsum = sum(w for _, w in members)
        weights = [w / wsum for _, w in members]
        ulo = max(lo[n] / w for (n, _), w in zip(members, weights, strict=True))
        uhi = min(hi[n] / w for (n, _), w in zip(members, weights, strict=True))
        label = "+".join(n for n, _ in members)
        if ulo > uhi * (1 + 1e-12) + 1e-12:
            raise InfeasibleBudgetError(
                f"bounds of the ratio-tied channels {label} cannot hold with their ratios"
            )
        units.append(
            _Unit([n for n, _ in members], weights, [curves[n] for n, _ in members], ulo, max(ulo, uhi))
        )
    lo_sum = sum(u.lo for u in units)
    hi_sum = sum(u.hi for u in units)
    if check_total and lo_sum > total * (1 + 1e-12) + 1e-9:
        raise InfeasibleBudgetError(
            f"the lower bounds (and locks) sum to {lo_sum:g}, more than the total {total:g}"
        )
    if check_total and hi_sum < total * (1 - 1e-12) - 1e-9:
        raise InfeasibleBudgetError(
            f"the upper bounds (and locks) sum to {hi_sum:g}, less than the total {total:g}"
        )
    return units


def _solve_concave(units: list[_Unit], total: float) -> tuple[list[float], float]:
    """Common marginal return ``lam`` with sum of spends = total, then an exact-sum repair."""
    lam_hi = max(u.marginal(u.lo) for u in units)
    lam_lo = min(u.marginal(u.hi) for u in units)
    lam_hi = max(lam_hi, 1e-300)
    lam_lo = max(min(lam_lo, lam_hi), 1e-300)

    def excess(log_lam: float) -> float:
        lam = math.exp(log_lam)
        return sum(u.spend_at(lam) for u in units) - total

    a, b = math.log(lam_lo) - 1e-9, math.log(lam_hi) + 1e-9
    if excess(a) <= 0:
        lam = lam_lo
    elif excess(b) >= 0:
        lam = lam_hi
    else:
        lam = math.exp(optimize.brentq(excess, a, b, xtol=1e-14, rtol=1e-13, maxiter=200))
    t = [u.spend_at(lam) for u in units]
    return _repair(units, t, total), lam


def _repair(units: list[_Unit], t: list[float], total: float) -> list[float]:
    """Spread the tiny root-finding residual over units with room, so the spend sums to the total."""
    t = [min(max(x, u.lo), u.hi) for x, u in zip(t, units, strict=True)]
    for _ in range(len(units) + 1):
        diff = total - sum(t)
        if abs(diff) <= 1e-12 * max(total, 1.0):
            break
        room = [(u.hi - x) if diff > 0 else (x - u.lo) for x, u in zip(t, units, strict=True)]
        i = int(np.argmax(room))
        step = min(abs(diff), room[i])
        t[i] += step if diff > 0 else -step
    return t


def _solve_general(units: list[_Unit], total: float, start: list[float]) -> list[float]:
    """Non-concave curves: local optimisation from several starts (no global guarantee, reported as inexact)."""
    lo = np.array([u.lo for u in units])
    hi = np.array([u.hi for u in units])

    def neg(t: np.ndarray) -> float:
        return -sum(u.value(x) for u, x in zip(units, t, strict=True))

    def grad(t: np.ndarray) -> np.ndarray:
        return -np.array([u.marginal(x) for u, x in zip(units, t, strict=True)])

    room = hi - lo
    share = room / room.sum() if room.sum() > 0 else np.full(len(units), 1 / len(units))
    starts = [np.asarray(start), lo + share * (total - lo.sum())]
    best, best_val = np.asarray(start), neg(np.asarray(start))
    cons = {"type": "eq", "fun": lambda t: t.sum() - total, "jac": lambda t: np.ones_like(t)}
    for x0 in starts:
        res = optimize.minimize(
            neg, x0, jac=grad, bounds=list(zip(lo, hi, strict=True)), constraints=[cons], method="SLSQP"
        )
        if res.success and res.fun < best_val:
            best, best_val = res.x, res.fun
    return _repair(units, list(best), total)


def _report(
    curves: Mapping[str, ResponseCurve],
    units: list[_Unit],
    t: list[float],
    lam: float,
    exact: bool,
    current: Mapping[str, float] | None,
    coverage: float,
) -> Allocation:
    spend: dict[str, float] = {}
    for u, x in zip(units, t, strict=True):
        for n, w in zip(u.members, u.weights, strict=True):
            spend[n] = w * x
    spend = {n: spend[n] for n in curves}
    expected = {n: float(curves[n].value(s)) for n, s in spend.items()}
    marginal = {n: float(curves[n].derivative(s)) for n, s in spend.items()}
    unit_marg = [u.marginal(x) for u, x in zip(units, t, strict=True)]
    interior = [
        g
        for u, x, g in zip(units, t, unit_marg, strict=True)
        if u.lo + 1e-9 * max(1, u.hi) < x < u.hi * (1 - 1e-9)
    ]
    if interior:
        lam = float(np.median(interior))
    # relative to the largest marginal return on offer (at the lower bounds), so rounding on flat curves is not news
    scale = max(abs(lam), max(abs(u.marginal(u.lo)) for u in units))
    resid = 0.0
    for u, x, g in zip(units, t, unit_marg, strict=True):
        if u.lo >= u.hi:
            continue
        if x <= u.lo + 1e-9 * max(1, u.hi):
            r = max(0.0, g - lam)
        elif x >= u.hi * (1 - 1e-9):
            r = max(0.0, lam - g)
        else:
            r = abs(g - lam)
        resid = max(resid, r / scale if scale > 1e-200 else 0.0)
    total_outcome = float(sum(expected.values()))
    cur_out = uplift = None
    interval = None
    if current is not None:
        cur_out = float(sum(float(curves[n].value(current.get(n, 0.0))) for n in curves))
        uplift = total_outcome - cur_out
        diffs = []
        for n in curves:
            new_d = curves[n].value_draws(spend[n])
            old_d = curves[n].value_draws(current.get(n, 0.0))
            if new_d is None or old_d is None:
                diffs = []
                break
            diffs.append(new_d - old_d)
        if diffs and len({len(d) for d in diffs}) == 1:
            tot = np.sum(diffs, axis=0)
            lo_q, hi_q = np.quantile(tot, [(1 - coverage) / 2, (1 + coverage) / 2])
            interval = (float(lo_q), float(hi_q))
    return Allocation(spend, expected, total_outcome, marginal, lam, resid, exact, cur_out, uplift, interval)


def allocate(
    curves: Mapping[str, ResponseCurve],
    total: float,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    *,
    locked: Mapping[str, float] | None = None,
    ratios: Mapping[tuple[str, str], float] | None = None,
    current: Mapping[str, float] | None = None,
    coverage: float = 0.8,
) -> Allocation:
    """Split ``total`` (spend per period) to maximise the summed expected outcome; always spends it all.

    ``ratios[(a, b)] = r`` ties ``spend[a] = r * spend[b]``; ``locked[c] = v`` fixes a channel. ``current`` is the
    split to measure the uplift against (its interval comes from the curves' joint draws).
    """
    if not curves:
        raise ValueError("no channels to allocate over")
    if not (total >= 0 and math.isfinite(total)):
        raise InfeasibleBudgetError(f"the total must be a finite non-negative amount, got {total!r}")
    units = _build_units(curves, total, bounds, locked, ratios)
    t, lam = _solve_concave(units, total)
    exact = all(c.concave for c in curves.values())
    if not exact:
        t = _solve_general(units, total, t)
    return _report(curves, units, t, lam, exact, current, coverage)


def _optimal_outcome(units: list[_Unit], total: float) -> float:
    t, _ = _solve_concave(units, total)
    return sum(u.value(x) for u, x in zip(units, t, strict=True))


def allocate_for_target(
    curves: Mapping[str, ResponseCurve],
    *,
    target_roas: float | None = None,
    target_cpa: float | None = None,
    max_total: float | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    locked: Mapping[str, float] | None = None,
    ratios: Mapping[tuple[str, str], float] | None = None,
    mode: str = "average",
    current: Mapping[str, float] | None = None,
) -> Allocation:
    """The budget at which the plan exactly meets a ROAS (revenue curves) or CPA (conversion curves) target.

    ``mode="average"``: the overall ROAS of an optimal plan falls as the budget grows (concave curves), so the
    answer is the largest budget still meeting the target; any more breaks it, any less forgoes outcome.
    ``mode="marginal"``: spend each channel until its *marginal* ROAS reaches the target (the profit view).
    """
    if (target_roas is None) == (target_cpa is None):
        raise ValueError("give exactly one of target_roas or target_cpa")
    ratio = float(target_roas) if target_roas is not None else 1.0 / float(target_cpa)  # type: ignore[arg-type]
    if not ratio > 0:
        raise ValueError("the target must be positive")
    cap = float(max_total) if max_total is not None else 1e15
    units = _build_units(curves, cap, bounds, locked, ratios, check_total=False)
    lo_sum = sum(u.lo for u in units)
    if mode == "marginal":
        t = [u.spend_at(ratio) for u in units]
        total = min(sum(t), sum(u.hi for u in units))
        return allocate(curves, total, bounds, locked=locked, ratios=ratios, current=current)
    if mode != "average":
        raise ValueError("mode must be 'average' or 'marginal'")

    def meets(total: float) -> bool:
        return _optimal_outcome(units, total) >= ratio * total

    hi_sum = sum(u.hi for u in units)
    if lo_sum > 0:
        if not meets(lo_sum):
            raise InfeasibleBudgetError(
                f"the lower bounds' spend {lo_sum:g} already misses the target (ratio {ratio:g}) at the optimal split"
            )
    elif max(u.marginal(0.0) for u in units) < ratio:
        raise InfeasibleBudgetError(f"no channel's first unit of spend returns the target ratio {ratio:g}")
    # bracket: grow the budget geometrically until the target breaks (or the cap is reached)
    a = lo_sum
    b = max(lo_sum, 1.0)
    while b < hi_sum and meets(b):
        a, b = b, min(b * 4.0, hi_sum)
    if meets(b):
        best = b
    else:
        for _ in range(200):
            mid = math.sqrt(a * b) if a > 0 and b / a > 4 else 0.5 * (a + b)
            if meets(mid):
                a = mid
            else:
                b = mid
            if b - a <= 1e-10 * b:
                break
        best = a
    return allocate(curves, best, bounds, locked=locked, ratios=ratios, current=current)


def min_budget_for_outcome(
    curves: Mapping[str, ResponseCurve],
    target_outcome: float,
    *,
    max_total: float | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    locked: Mapping[str, float] | None = None,
    ratios: Mapping[tuple[str, str], float] | None = None,
    current: Mapping[str, float] | None = None,
) -> Allocation:
    """The least total whose optimal split reaches ``target_outcome`` per period (outcome grows with budget)."""
    cap = float(max_total) if max_total is not None else 1e15
    units = _build_units(curves, cap, bounds, locked, ratios, check_total=False)
    lo_sum = sum(u.lo for u in units)
    hi_sum = sum(u.hi for u in units)
    if _optimal_outcome(units, lo_sum) >= target_outcome:
        return allocate(curves, lo_sum, bounds, locked=locked, ratios=ratios, current=current)
    reachable = _optimal_outcome(units, hi_sum)
    if reachable < target_outcome:
        raise InfeasibleBudgetError(
            f"target outcome {target_outcome:g} is above the {reachable:g} reachable within the upper bounds"
            f" (total {hi_sum:g})"
        )
    a, b = lo_sum, hi_sum
    for _ in range(300):
        mid = math.sqrt(max(a, 1e-12) * b) if b / max(a, 1e-12) > 4 else 0.5 * (a + b)
        if _optimal_outcome(units, mid) >= target_outcome:
            b = mid
        else:
            a = mid
        if b - a <= 1e-10 * b:
            break
    return allocate(curves, b, bounds, locked=locked, ratios=ratios, current=current)
