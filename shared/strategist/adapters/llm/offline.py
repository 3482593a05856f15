"""The offline writer: templated prose around the facts, no network, deterministic.

It is the default and the fallback of every provider writer, so it must always produce a usable narrative, and it
obeys the same rule as a model: every figure it prints is a fact (formatted by ``formatting``), which the unit tests
prove by running its output through the figure check.
"""

from __future__ import annotations

import uuid
from typing import Any

from strategist.adapters.llm import formatting as fmt
from strategist.adapters.llm.base import OFFLINE_VERSION, NarrativeResult, UsagePort
from strategist.adapters.llm.facts import BudgetFacts, Interval, StrategyFacts, coerce_facts

#: How many assumptions the narrative repeats; the plan itself lists all of them.
MAX_ASSUMPTIONS = 5


class OfflineWriter:
    name = "offline"

    def write(
        self,
        *,
        kind: str,
        facts: StrategyFacts | BudgetFacts | dict[str, Any],
        tenant_id: uuid.UUID | None = None,
        usage: UsagePort | None = None,
    ) -> NarrativeResult:
        """``tenant_id`` and ``usage`` are accepted for the common interface; templates cost no tokens."""
        model = coerce_facts(kind, facts)
        return NarrativeResult(
            text=render(kind, model), writer="offline", prompt_version=f"{kind}.{OFFLINE_VERSION}"
        )


def render(kind: str, facts: StrategyFacts | BudgetFacts) -> str:
    if isinstance(facts, StrategyFacts):
        paragraphs = _strategy(facts)
    elif isinstance(facts, BudgetFacts):
        paragraphs = _budget(facts)
    else:  # pragma: no cover - coerce_facts only returns the two models
        raise TypeError(f"no template for {type(facts).__name__}")
    return "\n\n".join(p for p in paragraphs if p)


# -- shared phrases ---------------------------------------------------------------------------------------------
def _money_range(i: Interval, currency: str) -> str:
    return fmt.between(fmt.money(i.p10, currency), fmt.money(i.p90, currency))


def _central(text: str) -> str:
    return f" (central estimate {text})"


def _assumptions(assumptions: list[str]) -> str:
    if not assumptions:
        return ""
    shown = [a.strip().rstrip(".") for a in assumptions[:MAX_ASSUMPTIONS]]
    more = (
        " The plan lists the rest of its assumptions with their sources."
        if len(assumptions) > len(shown)
        else ""
    )
    return "It assumes: " + "; ".join(shown) + "." + more


def _width_word(i: Interval) -> str:
    """A qualitative word for how wide a range is; the ratio itself is never printed (it is not a fact)."""
    if i.p50 <= 0:
        return "wide"
    spread = (i.p90 - i.p10) / i.p50
    if spread > 1:
        return "wide"
    if spread > 0.4:
        return "moderate"
    return "fairly narrow"


# -- strategy ---------------------------------------------------------------------------------------------------
def _strategy(f: StrategyFacts) -> list[str]:
    cur = f.currency
    return [
        _strategy_recommendation(f, cur),
        _strategy_why(f, cur),
        _strategy_expectation(f, cur),
        _strategy_uncertainty(f),
        _strategy_first_test(f),
    ]


def _strategy_recommendation(f: StrategyFacts, cur: str) -> str:
    name = f"“{f.campaign_name}”" if f.campaign_name else "this campaign"
    kind = fmt.label(f.objective)
    if f.campaign_type:
        kind += f" ({fmt.label(f.campaign_type)})"
    parts = [
        f"{fmt.label(a.platform)} {fmt.money(a.budget, cur)} ({fmt.percent(a.share)})" for a in f.allocation
    ]
    if len(f.allocation) == 1:
        split = f"all of it on {fmt.label(f.allocation[0].platform)}"
    else:
        split = f"split across {len(f.allocation)} platforms: {fmt.join_words(parts)}"
    text = (
        f"For {f.client_name}, we recommend running {name} as a {kind} campaign with a budget of "
        f"{fmt.money(f.budget, cur)} over {f.duration_days} days, {split}."
    )
    if f.kpis:
        text += f" Success is measured on {fmt.join_words([fmt.label(k).upper() if len(k) <= 4 else fmt.label(k) for k in f.kpis])}."
    return text


def _strategy_why(f: StrategyFacts, cur: str) -> str:
    rated = [a for a in f.allocation if a.marginal_roas is not None]
    if not rated:
        return (
            "The split comes from the allocator over each platform's response curve: budget goes where the next "
            "unit of spend is expected to earn the most. Marginal returns per platform were not reported for "
            "this plan."
        )
    returns = fmt.join_words([f"{fmt.ratio(a.marginal_roas)} on {fmt.label(a.platform)}" for a in rated])  # type: ignore[arg-type]
    text = (
        "The split follows marginal returns: budget keeps going to the platform where the next unit of spend "
        "earns the most, until the returns even out or a platform reaches its bound. At this plan the next "
        f"unit of spend returns {returns}."
    )
    if len(rated) > 1:
        best = max(rated, key=lambda a: a.marginal_roas or 0.0)
        worst = min(rated, key=lambda a: a.marginal_roas or 0.0)
        if fmt.ratio(best.marginal_roas or 0.0) != fmt.ratio(worst.marginal_roas or 0.0):
            text += (
                f" {fmt.label(best.platform)} has the most room before saturation; "
                f"{fmt.label(worst.platform)} is closest to it, so more money there would buy the least."
            )
    if f.next_step:
        step = f.next_step
        text += (
            f" Another {fmt.percent(step.share_of_budget)} of budget ({fmt.money(step.amount, cur)}) would go "
            f"first to {fmt.label(step.best_platform)}"
        )
        if step.revenue:
            text += f", adding revenue {_money_range(step.revenue, cur)}"
            text += _central(fmt.money(step.revenue.p50, cur))
        elif step.conversions:
            text += (
                f", adding {fmt.between(fmt.count(step.conversions.p10), fmt.count(step.conversions.p90))} "
                f"conversions{_central(fmt.count(step.conversions.p50))}"
            )
        text += "."
    return text


def _strategy_expectation(f: StrategyFacts, cur: str) -> str:
    fc = f.forecast
    lines = [
        f"conversions {fmt.between(fmt.count(fc.conversions.p10), fmt.count(fc.conversions.p90))}"
        f"{_central(fmt.count(fc.conversions.p50))}",
        f"revenue {_money_range(fc.revenue, cur)}{_central(fmt.money(fc.revenue.p50, cur))}",
        f"a return on ad spend {fmt.between(fmt.ratio(fc.roas.p10), fmt.ratio(fc.roas.p90))}"
        f"{_central(fmt.ratio(fc.roas.p50))}",
        f"a cost per acquisition {_money_range(fc.cpa, cur)}{_central(fmt.money(fc.cpa.p50, cur))}",
    ]
    if fc.clicks:
        lines.insert(0, f"clicks {fmt.between(fmt.count(fc.clicks.p10), fmt.count(fc.clicks.p90))}")
    if fc.impressions:
        lines.insert(
            0, f"impressions {fmt.between(fmt.count(fc.impressions.p10), fmt.count(fc.impressions.p90))}"
        )
    return (
        f"Over the {f.duration_days} days we expect {fmt.join_words(lines)}. Each range runs from the 10th to "
        "the 90th percentile of the forecast, so there is about one chance in ten of landing below it and one "
        f"in ten of landing above it; the revenue range is {_width_word(fc.revenue)}."
    )


def _strategy_uncertainty(f: StrategyFacts) -> str:
    history = [fmt.label(a.platform) for a in f.allocation if a.basis == "history"]
    priors = [fmt.label(a.platform) for a in f.allocation if a.basis != "history"]
    if f.basis == "history" or not priors:
        text = (
            f"These forecasts come from response curves fitted on {f.client_name}'s own history, so they hold "
            "as long as that history is representative: a new offer, season, audience or creative can move "
            "results outside the ranges."
        )
    elif f.basis == "benchmark" or not history:
        text = (
            f"{f.client_name} has no usable history on these platforms yet, so the curves start from industry "
            "benchmark priors for this objective and industry; the ranges are wide on purpose and will narrow "
            "as the first weeks of results come in."
        )
    else:
        text = (
            f"The curves for {fmt.join_words(history)} are fitted on {f.client_name}'s own history; "
            f"{fmt.join_words(priors)} {'rests' if len(priors) == 1 else 'rest'} on industry benchmark priors and "
            f"{'carries' if len(priors) == 1 else 'carry'} most of the uncertainty "
            "until their own results come in."
        )
    if f.similar_campaigns:
        past = []
        for s in f.similar_campaigns:
            bits = [f"similarity {fmt.percent(s.similarity, 0)}"]
            if s.roas is not None:
                bits.append(f"achieved ROAS {fmt.ratio(s.roas)}")
            past.append(f"{s.name} ({', '.join(bits)})")
        text += f" Similar past campaigns informed the priors: {fmt.join_words(past)}."
    assumptions = _assumptions(f.assumptions)
    return f"{text} {assumptions}".strip()


def _strategy_first_test(f: StrategyFacts) -> str:
    t = f.first_test
    if t:
        text = f"Test first: {t.name}"
        if t.platform:
            text += f" on {fmt.label(t.platform)}"
        if t.metric:
            text += f", measured on {fmt.label(t.metric)}"
        text += "."
        if t.sample_size_per_arm and t.duration_days:
            text += (
                f" It needs about {fmt.number(t.sample_size_per_arm)} per arm, which takes about "
                f"{t.duration_days} days at the planned spend."
            )
        elif t.sample_size_per_arm:
            text += f" It needs about {fmt.number(t.sample_size_per_arm)} per arm."
        return text + " Its result settles the question the forecast is least sure about."
    priors = [a for a in f.allocation if a.basis != "history"]
    if priors:
        target = max(priors, key=lambda a: a.share)
        return (
            f"Test first on {fmt.label(target.platform)}: its curve rests on benchmarks and it carries "
            f"{fmt.percent(target.share)} of the budget, so its early results will move the forecast most. Keep "
            "its budget steady through the learning phase before judging it, then compare against the range above."
        )
    rated = [a for a in f.allocation if a.marginal_roas is not None]
    if rated:
        target = max(rated, key=lambda a: a.marginal_roas or 0.0)
        return (
            f"Test first whether {fmt.label(target.platform)} keeps its marginal return of "
            f"{fmt.ratio(target.marginal_roas or 0.0)} as spend grows: raise its budget in one controlled step "
            "and compare the result with the forecast before moving more money."
        )
    return "Test creative first: run two variants per platform against each other before changing the split."


# -- budget optimization ----------------------------------------------------------------------------------------
_MODES = {
    "max_outcome": "to get the most expected {metric} from the budget",
    "target_roas": "to meet a target return on ad spend of {target}",
    "target_cpa": "to meet a target cost per acquisition of {target}",
    "min_budget_for_target": "to find the smallest budget that still meets the target",
}


def _budget(f: BudgetFacts) -> list[str]:
    cur = f.currency
    return [_budget_changes(f, cur), _budget_why(f), _budget_expectation(f, cur), _budget_uncertainty(f)]


def _budget_changes(f: BudgetFacts, cur: str) -> str:
    target = ""
    if f.target is not None:
        target = fmt.ratio(f.target) if f.mode == "target_roas" else fmt.money(f.target, cur)
    goal = _MODES[f.mode].format(metric=f.outcome_metric, target=target or "the target")
    period = f" per {f.period_days} days" if f.period_days else ""
    if f.current_total == f.proposed_total:
        total = f"keeps the total at {fmt.money(f.proposed_total, cur)}{period}"
    else:
        total = (
            f"moves the total from {fmt.money(f.current_total, cur)} to "
            f"{fmt.money(f.proposed_total, cur)}{period}"
        )
    moves = []
    for item in f.items:
        name = fmt.label(item.name)
        change = item.change if item.change is not None else item.proposed_budget - item.current_budget
        if item.locked:
            moves.append(f"{name} is locked at {fmt.money(item.current_budget, cur)}")
        elif change == 0:
            moves.append(f"{name} stays at {fmt.money(item.current_budget, cur)}")
        else:
            verb = "rises" if change > 0 else "falls"
            moves.append(
                f"{name} {verb} from {fmt.money(item.current_budget, cur)} to "
                f"{fmt.money(item.proposed_budget, cur)} ({'up' if change > 0 else 'down'} "
                f"{fmt.money(abs(change), cur)})"
            )
    return f"For {f.client_name}, the proposal {total} {goal}. {'; '.join(moves)}."


def _budget_why(f: BudgetFacts) -> str:
    rated = [i for i in f.items if i.marginal_roas is not None]
    text = (
        "Budget moves from where the next unit of spend earns less to where it earns more, until the returns "
        "even out or a bound or a lock stops it."
    )
    if rated:
        returns = fmt.join_words([f"{fmt.ratio(i.marginal_roas)} on {fmt.label(i.name)}" for i in rated])  # type: ignore[arg-type]
        text += f" At the proposed split the next unit of spend returns {returns}."
    return text


def _outcome(i: Interval, metric: str, cur: str) -> str:
    if metric == "revenue":
        return f"{_money_range(i, cur)}{_central(fmt.money(i.p50, cur))}"
    return f"{fmt.between(fmt.count(i.p10), fmt.count(i.p90))}{_central(fmt.count(i.p50))}"


def _budget_expectation(f: BudgetFacts, cur: str) -> str:
    metric = f.outcome_metric
    text = (
        f"With the current split we expect {metric} {_outcome(f.current_outcome, metric, cur)}; with the "
        f"proposed split, {_outcome(f.proposed_outcome, metric, cur)}. The expected uplift is "
        f"{_outcome(f.uplift, metric, cur)}"
    )
    if f.uplift_pct:
        u = f.uplift_pct
        text += f", or {fmt.between(fmt.percent(u.p10), fmt.percent(u.p90))} in relative terms"
    text += ". Ranges run from the 10th to the 90th percentile."
    if f.uplift.p10 <= 0:
        text += " The low end of the uplift is at or below zero, so the gain is likely but not assured."
    return text


def _budget_uncertainty(f: BudgetFacts) -> str:
    if f.basis == "history":
        text = f"The response curves behind this are fitted on {f.client_name}'s own history."
    elif f.basis == "benchmark":
        text = "The response curves behind this rest on industry benchmark priors, so the ranges are wide."
    else:
        text = "Some response curves behind this are fitted on history and some rest on industry benchmark priors."
    parts = [text, _assumptions(f.assumptions), "Nothing changes until the change list is approved."]
    return " ".join(p for p in parts if p)
