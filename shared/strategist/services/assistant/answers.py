"""The offline assistant: recognises the common questions, calls the tools that answer them and writes the
answer from templates, citing every figure (tool, arguments, the figure's path in the result).

Also the citation locator for a language model's prose: each figure it wrote is found in the tool results (the
same "rounds to the precision shown" rule as the figure check) and cited with its path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from strategist.adapters.llm import formatting as fmt
from strategist.adapters.llm.guard import Allowed, extract_figures, figure_allowed
from strategist.adapters.llm.tool_calling import ToolError
from strategist.services.assistant.tools import KPI_LABELS, LOWER_IS_BETTER, PLATFORMS, ToolContext, run_tool

# -- intent recognition ------------------------------------------------------------------------------------------
KPI_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bcpa\b|cost per (?:acquisition|conversion|lead|action)", "cpa"),
    (r"\broas\b|return on ad ?spend", "roas"),
    (r"\bcpc\b|cost per click", "cpc"),
    (r"\bcpm\b|cost per (?:mille|thousand)", "cpm"),
    (r"\bctr\b|click[- ]?through", "ctr"),
    (r"\bcvr\b|conversion rate", "cvr"),
    (r"\bconversions?\b|\bleads\b|\bsales\b", "conversions"),
    (r"\brevenue\b|\bincome\b", "revenue"),
    (r"\bclicks\b", "clicks"),
    (r"\bimpressions\b", "impressions"),
    (r"\bspend\b|\bspending\b|\bcosts?\b", "spend"),
)
PLATFORM_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bgoogle(?:[ _]ads)?\b|\badwords\b|\bsearch\b", "google_ads"),
    (r"\bmeta(?:[ _]ads)?\b|\bfacebook\b|\binstagram\b|\bfb\b", "meta_ads"),
    (r"\blinked ?in(?:[ _]ads)?\b", "linkedin_ads"),
    (r"\btik ?tok(?:[ _]ads)?\b", "tiktok_ads"),
    (r"\byou ?tube(?:[ _]ads)?\b", "youtube_ads"),
)
CAPABILITIES = [
    "why a KPI rose or fell (for example: why did CPA rise last week?)",
    "how the client or one platform is doing",
    "what moving a share of budget from one platform to another would do (what if we move 20 % from Meta to "
    "Google?)",
    "whether spend is on pace with the monthly budget",
    "which campaign has the best or worst CPA, ROAS, CTR ...",
    "a forecast of spend, conversions and revenue to month end",
    "which experiments are running",
    "who the main competitors are and who is gaining impression share",
]


@dataclass(frozen=True)
class Intent:
    name: str
    tool: str
    arguments: dict[str, Any]


def _kpi(text: str) -> str | None:
    for pattern, kpi in KPI_WORDS:
        if re.search(pattern, text):
            return kpi
    return None


def _platform(text: str) -> str | None:
    for pattern, platform in PLATFORM_WORDS:
        if re.search(pattern, text):
            return platform
    return None


def _days(text: str, default: int, allowed: tuple[int, ...]) -> int:
    if re.search(r"\b(?:last|past|this)\s+(?:7\s+days|week)\b|\bweek\b|\bwow\b", text):
        n = 7
    elif re.search(r"\b(?:two|2)\s+weeks\b|\b14\s+days\b|fortnight", text):
        n = 14
    elif re.search(r"\bquarter\b|\b90\s+days\b|\b3\s+months\b", text):
        n = 90
    elif re.search(r"\bmonth\b|\b30\s+days\b|\bmom\b", text):
        n = 30
    else:
        n = default
    return n if n in allowed else max((a for a in allowed if a <= n), default=allowed[0])


def recognise(message: str) -> Intent | None:
    """The intent of a question in plain English, or None when it is not one the offline mode answers."""
    text = " ".join(message.lower().split())
    m = re.search(
        r"what if .*?(?:move|shift|reallocate|put|transfer)\s+(\d+(?:\.\d+)?)\s*(?:%|percent|per cent)"
        r"(?:\s+of\s+\w+)?\s+(?:of\s+(?:the\s+)?budget\s+)?from\s+(.+?)\s+(?:to|into|onto)\s+(.+)",
        text,
    )
    if m:
        src, dst = _platform(m.group(2)), _platform(m.group(3))
        if src and dst:
            share = float(m.group(1)) / 100
            return Intent(
                "what_if",
                "what_if_shift",
                {"from_platform": src, "to_platform": dst, "share": min(max(share, 0.0001), 1.0)},
            )
    platform = _platform(text)
    only = {"platform": platform} if platform else {}
    if re.search(r"\bwhy\b", text) and (kpi := _kpi(text)):
        return Intent(
            "why_kpi_changed", "kpi_drivers", {"kpi": kpi, "days": _days(text, 7, (7, 14, 30)), **only}
        )
    if re.search(r"\bwhich\b|\bwhat\b|\btop\b|\bbest\b|\bworst\b", text) and re.search(
        r"\bcampaigns?\b", text
    ):
        if re.search(r"\b(best|top|highest|strongest|most efficient)\b", text):
            order = "best"
        elif re.search(r"\b(worst|lowest|weakest|least efficient|bottom)\b", text):
            order = "worst"
        else:
            order = ""
        kpi = _kpi(text)
        if order and kpi:
            if re.search(r"\bhighest\b", text) and kpi in LOWER_IS_BETTER:
                order = "worst"
            if re.search(r"\blowest\b", text) and kpi in LOWER_IS_BETTER:
                order = "best"
            return Intent(
                "rank_campaigns",
                "rank_campaigns",
                {"kpi": kpi, "order": order, "days": _days(text, 30, (7, 14, 30, 90)), **only},
            )
    if re.search(r"forecast|month[- ]end|end of (?:the )?month|projected?|projection", text):
        return Intent("forecast_month_end", "forecast_month_end", {})
    if re.search(r"\bpac(?:e|ing)\b|on track|over ?spend|under ?spend|budget.*\bon target\b", text):
        return Intent("pacing", "pacing", {})
    if re.search(
        r"\bcompetitors?\b|\bcompetition\b|auction insights?|impression share|share of voice|\boutrank", text
    ):
        return Intent("competitors", "competitor_summary", {})
    if re.search(r"\bexperiments?\b|a/b|split test", text):
        return Intent("experiments", "list_experiments", {})
    if re.search(r"how (?:is|are|'s|has|have)\b.*\b(?:doing|performing|going|perform|done)\b|\bperformance\b|"
                 r"\bsummary\b|\boverview\b", text):  # fmt: skip
        if re.search(r"\bmonth\b|\bmtd\b", text):
            date_range = "mtd"
        else:
            date_range = {7: "7d", 30: "30d", 90: "90d"}[_days(text, 7, (7, 30, 90))]
        args: dict[str, Any] = {"date_range": date_range}
        platform = _platform(text)
        return Intent(
            "how_is_it_doing",
            "performance_summary",
            {**args, **({"_platform": platform} if platform else {})},
        )
    return None


# -- citations ---------------------------------------------------------------------------------------------------
@dataclass
class Call:
    tool: str
    arguments: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None


def get_path(node: Any, path: str) -> Any:
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@dataclass
class Writer:
    """Builds an answer; every figure goes through ``cite`` so it carries its source."""

    calls: list[Call]
    parts: list[str] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)

    def cite(self, call: Call, path: str, shown: str) -> str:
        assert call.result is not None
        n = len(self.citations) + 1
        self.citations.append(
            {
                "id": f"c{n}",
                "text": shown,
                "tool": call.tool,
                "arguments": call.arguments,
                "path": path,
                "value": get_path(call.result, path),
            }
        )
        return f"{shown} [c{n}]"

    def kpi(self, call: Call, path: str, kpi: str, currency: str) -> str:
        return self.cite(call, path, show_kpi(kpi, get_path(call.result, path), currency))

    def pct(self, call: Call, path: str) -> str:
        value = Decimal(str(get_path(call.result, path)))
        return self.cite(call, path, f"{fmt.number(abs(value), 1)}%")

    def say(self, text: str) -> None:
        self.parts.append(text)

    @property
    def text(self) -> str:
        return " ".join(p.strip() for p in self.parts if p.strip())


def show_kpi(kpi: str, value: Any, currency: str) -> str:
    v = Decimal(str(value))
    if kpi in {"cpa", "cpc", "cpm", "spend", "revenue"}:
        return fmt.money(v, currency)
    if kpi == "roas":
        return fmt.ratio(v)
    if kpi in {"ctr", "cvr"}:
        return f"{fmt.number(v, 2)}%"
    if kpi == "conversions":
        return fmt.number(v, 0 if v == v.to_integral_value() else 1)
    return fmt.count(v)


def _direction(change: Any, kpi: str) -> tuple[str, str]:
    """("rose", "worse") and the like; the quality word follows whether higher is better."""
    c = Decimal(str(change))
    if c == 0:
        return "was unchanged", ""
    up = c > 0
    better = up != (kpi in LOWER_IS_BETTER)
    if kpi == "spend":
        return ("rose" if up else "fell"), ""
    return ("rose" if up else "fell"), ("an improvement" if better else "a deterioration")


def _period(w: Writer, call: Call, key: str = "period") -> str:
    p = call.result[key]  # type: ignore[index]
    return f"{w.cite(call, f'{key}.start', str(p['start']))} to {w.cite(call, f'{key}.end', str(p['end']))}"


def _compose_drivers(w: Writer, call: Call) -> None:
    r = call.result
    assert r is not None
    kpi, cur = r["kpi"], r["currency"]
    label = KPI_LABELS[kpi] + (f" on {fmt.label(r['platform'])}" if r.get("platform") else "")
    if r["value"] is None or r["previous"] is None or r["change_pct"] is None:
        w.say(f"{label} cannot be compared for {_period(w, call)} against the days before:")
        w.say(" ".join(r["notes"]) or "there is no data in one of the periods.")
        return
    went, quality = _direction(r["change_pct"], kpi)
    w.say(
        f"{label} {went} from {w.kpi(call, 'previous', kpi, cur)} to {w.kpi(call, 'value', kpi, cur)} "
        f"({w.pct(call, 'change_pct')}) over {_period(w, call)}, compared with {_period(w, call, 'comparison_period')}"
        + (f": {quality}." if quality else ".")
    )
    if r["drivers"]:
        bits = []
        for i, d in enumerate(r["drivers"][:3]):
            if abs(Decimal(str(d["pct_points"]))) < Decimal("0.05"):
                continue
            name = d["driver"] if d["driver"].startswith("mix") else d["driver"].upper()
            moved = f" ({name} went {d['factor_went']})" if d["factor_went"] in ("up", "down") else ""
            pts = Decimal(str(d["pct_points"]))
            sign = "adds" if pts > 0 else "takes off"
            bits.append(
                f"{name}{moved} {sign} {w.cite(call, f'drivers.{i}.pct_points', fmt.number(abs(pts), 1))} points"
            )
        if bits:
            w.say("Drivers, largest first: " + "; ".join(bits) + ".")
    if r["campaigns"]:
        bits = []
        for i, c in enumerate(r["campaigns"]):
            if c["value"] is None:
                bits.append(f"{c['campaign']} ({label} undefined now)")
                continue
            before = (
                f" from {w.kpi(call, f'campaigns.{i}.previous', kpi, cur)}"
                if c["previous"] is not None
                else ""
            )
            bits.append(f"{c['campaign']}{before} to {w.kpi(call, f'campaigns.{i}.value', kpi, cur)}")
        w.say("Campaigns that moved most: " + "; ".join(bits) + ".")
    for note in r["notes"]:
        w.say(note)


def _compose_summary(w: Writer, call: Call, platform: str | None) -> None:
    r = call.result
    assert r is not None
    cur = r["currency"]
    if platform:
        rows = [i for i, p in enumerate(r["platforms"]) if p["platform"] == platform]
        if not rows:
            w.say(
                f"{fmt.label(platform)} has no spend for {r['client']} over {_period(w, call)}; the platforms with "
                f"data are: {', '.join(fmt.label(p['platform']) for p in r['platforms']) or 'none'}."
            )
            return
        i = rows[0]
        p = r["platforms"][i]
        bits = [f"spend {w.kpi(call, f'platforms.{i}.spend', 'spend', cur)}"]
        if p["share_of_spend_pct"] is not None:
            bits.append(f"{w.pct(call, f'platforms.{i}.share_of_spend_pct')} of the client's spend")
        bits.append(f"{w.kpi(call, f'platforms.{i}.conversions', 'conversions', cur)} conversions")
        if p["cpa"] is not None:
            bits.append(f"CPA {w.kpi(call, f'platforms.{i}.cpa', 'cpa', cur)}")
        if p["roas"] is not None:
            bits.append(f"ROAS {w.kpi(call, f'platforms.{i}.roas', 'roas', cur)}")
        w.say(f"{fmt.label(platform)} for {r['client']}, {_period(w, call)}: " + ", ".join(bits) + ".")
        return
    w.say(f"{r['client']}, {_period(w, call)}:")
    bits = []
    for k in ("spend", "conversions", "revenue", "cpa", "roas"):
        m = r["kpis"][k]
        if m["value"] is None:
            continue
        piece = f"{KPI_LABELS[k]} {w.kpi(call, f'kpis.{k}.value', k, cur)}"
        if m.get("change_pct") is not None:
            went, _ = _direction(m["change_pct"], k)
            piece += f" ({went} {w.pct(call, f'kpis.{k}.change_pct')} on the previous period)"
        bits.append(piece)
    w.say("; ".join(bits) + "." if bits else "no spend or results were recorded in this period.")
    if r["platforms"]:
        top = r["platforms"][0]
        if top["share_of_spend_pct"] is not None:
            w.say(
                f"The largest platform is {fmt.label(top['platform'])} with "
                f"{w.pct(call, 'platforms.0.share_of_spend_pct')} of spend."
            )
    if not r["data_complete"]:
        w.say("Some connections have not synced the whole period yet: the latest days may still change.")


def _compose_pacing(w: Writer, call: Call) -> None:
    r = call.result
    assert r is not None
    if r.get("monthly_budget") is None:
        w.say(" ".join(r["notes"]))
        return
    cur = r["currency"]
    status = {
        "on_track": "on pace",
        "over": "ahead of pace (overspending)",
        "under": "behind pace (underspending)",
        "too_early": "too early in the month to judge",
    }[r["status"]]
    w.say(
        f"{r['client']} is {status}: {w.kpi(call, 'month_to_date_spend', 'spend', cur)} spent against "
        f"{w.kpi(call, 'expected_to_date', 'spend', cur)} expected by now of a "
        f"{w.kpi(call, 'monthly_budget', 'spend', cur)} monthly budget"
        + (f" (pace {w.pct(call, 'pace_pct')})" if r["pace_pct"] is not None else "")
        + "."
    )
    if r["projected_month_end"] is not None:
        w.say(
            f"At this run rate the month ends at {w.kpi(call, 'projected_month_end', 'spend', cur)}"
            + (
                f", {w.pct(call, 'projected_pct_of_budget')} of budget."
                if r["projected_pct_of_budget"] is not None
                else "."
            )
        )


def _compose_forecast(w: Writer, call: Call) -> None:
    r = call.result
    assert r is not None
    cur = r["currency"]
    bits = []
    for k in ("spend", "conversions", "revenue"):
        bits.append(
            f"{KPI_LABELS[k]} {w.kpi(call, f'projection_run_rate.{k}', k, cur)} at the month's run rate, "
            f"{w.kpi(call, f'projection_recent_rate.{k}', k, cur)} at the last week's rate "
            f"({w.kpi(call, f'month_to_date.{k}', k, cur)} so far)"
        )
    w.say(
        f"Projection to the end of {w.cite(call, 'month', r['month'])} for {r['client']}: "
        + "; ".join(bits)
        + "."
    )
    if r.get("monthly_budget") is not None:
        w.say(
            f"Projected spend is {w.pct(call, 'projected_pct_of_budget')} of the "
            f"{w.kpi(call, 'monthly_budget', 'spend', cur)} monthly budget."
        )
    for note in r["notes"]:
        w.say(note)


def _compose_rank(w: Writer, call: Call) -> None:
    r = call.result
    assert r is not None
    kpi, cur = r["kpi"], r["currency"]
    label = KPI_LABELS[kpi] + (f" on {fmt.label(r['platform'])}" if r.get("platform") else "")
    if not r["campaigns"]:
        w.say(f"No campaign has a defined {label} over {_period(w, call)}.")
        return
    first = r["campaigns"][0]
    w.say(
        f"The {r['order']} {label} over {_period(w, call)} is {first['campaign']} ({fmt.label(first['platform'])}) "
        f"at {w.kpi(call, 'campaigns.0.value', kpi, cur)} on {w.kpi(call, 'campaigns.0.spend', 'spend', cur)} "
        "of spend."
    )
    if len(r["campaigns"]) > 1:
        rest = [
            f"{c['campaign']} {w.kpi(call, f'campaigns.{i}.value', kpi, cur)}"
            for i, c in enumerate(r["campaigns"])
            if i > 0
        ]
        w.say("Next: " + "; ".join(rest) + ".")
    for note in r["notes"]:
        w.say(note)


def _compose_what_if(w: Writer, call: Call) -> None:
    r = call.result
    assert r is not None
    cur = r["currency"]
    metric = r["uplift"]["metric"]
    abs_ = r["uplift"]["absolute"]
    w.say(
        f"Moving {w.pct(call, 'share')} of the {fmt.label(r['from_platform'])} budget "
        f"({w.kpi(call, 'moved', 'spend', cur)} over {w.cite(call, 'period_days', str(r['period_days']))} days) "
        f"to {fmt.label(r['to_platform'])}:"
    )
    show = "revenue" if metric == "revenue" else "conversions"
    w.say(
        f"the forecast change in {metric} is {w.kpi(call, 'uplift.absolute.p50', show, cur)} at the median, "
        f"between {w.kpi(call, 'uplift.absolute.p10', show, cur)} and "
        f"{w.kpi(call, 'uplift.absolute.p90', show, cur)} (one chance in ten of less, one in ten of more)."
    )
    if Decimal(str(abs_["p10"])) < 0 < Decimal(str(abs_["p90"])):
        w.say("The interval spans zero: the shift may not pay off.")
    w.say(
        "It is recorded as proposed budget optimization "
        f"{w.cite(call, 'optimization_id', str(r['optimization_id']))}; nothing is applied."
    )


def _compose_experiments(w: Writer, call: Call) -> None:
    r = call.result
    assert r is not None
    if not r["experiments"]:
        w.say("This client has no A/B experiments yet.")
        return
    w.say(f"This client has {w.cite(call, 'count', str(r['count']))} experiment(s):")
    w.say("; ".join(f"{e['name']} ({e['status']}, metric {e['metric']})" for e in r["experiments"]) + ".")


def _share(w: Writer, call: Call, path: str) -> str:
    return w.cite(call, path, fmt.percent(Decimal(str(get_path(call.result, path)))))


def _compose_competitors(w: Writer, call: Call) -> None:
    r = call.result
    assert r is not None
    if r["competitors"]:
        bits = []
        for i, c in enumerate(r["competitors"]):
            parts = []
            if c["overlap_rate"] is not None:
                parts.append(
                    f"overlaps in {_share(w, call, f'competitors.{i}.overlap_rate')} of your auctions"
                )
            if c["impression_share"] is not None:
                parts.append(f"impression share {_share(w, call, f'competitors.{i}.impression_share')}")
            if c["outranking_share"] is not None:
                parts.append(
                    f"you outrank it {_share(w, call, f'competitors.{i}.outranking_share')} of the time"
                )
            bits.append(f"{c['domain']} ({', '.join(parts) or 'shares below ten percent'})")
        w.say("Main competitors in the latest auction insights: " + "; ".join(bits) + ".")
    for i, m in enumerate(r["moves"]):
        if m["type"] in ("impression_share_jump", "impression_share_drop"):
            went = "rose" if m["type"] == "impression_share_jump" else "fell"
            w.say(
                f"{m['domain']}'s impression share {went} {w.cite(call, f'moves.{i}.change_pts', fmt.number(abs(Decimal(str(m['change_pts']))), 1))} "
                f"points to {_share(w, call, f'moves.{i}.to')} in the period starting "
                f"{w.cite(call, f'moves.{i}.period', str(m['period']))}."
            )
        elif m["type"] == "new_entrant":
            w.say(
                f"New in the auction: {m['domain']} (from {w.cite(call, f'moves.{i}.period', str(m['period']))})."
            )
    if r["own_latest_week"]:
        w.say(
            f"Your own search impression share was {_share(w, call, 'own_latest_week.impression_share')} in the "
            f"week of {w.cite(call, 'own_latest_week.week', str(r['own_latest_week']['week']))}."
        )
    w.say(
        "Google shows competitors only in auction insights exports; Meta publishes competitors' spend only for political and issue ads."
    )


COMPOSERS = {
    "competitor_summary": _compose_competitors,
    "kpi_drivers": _compose_drivers,
    "pacing": _compose_pacing,
    "forecast_month_end": _compose_forecast,
    "rank_campaigns": _compose_rank,
    "what_if_shift": _compose_what_if,
    "list_experiments": _compose_experiments,
}


@dataclass
class OfflineAnswer:
    text: str
    intent: str | None
    calls: list[Call]
    citations: list[dict[str, Any]]


def capabilities_text(prefix: str) -> str:
    return prefix + " I can answer: " + "; ".join(CAPABILITIES) + "."


def answer_offline(ctx: ToolContext, message: str) -> OfflineAnswer:
    intent = recognise(message)
    if intent is None:
        return OfflineAnswer(
            capabilities_text("I could not match that question to the data I can compute."), None, [], []
        )
    arguments = {k: v for k, v in intent.arguments.items() if not k.startswith("_")}
    call = Call(intent.tool, arguments)
    try:
        call.result = run_tool(ctx, intent.tool, arguments)
    except ToolError as exc:
        call.error = str(exc)
        return OfflineAnswer(f"I could not answer that: {exc}", intent.name, [call], [])
    w = Writer([call])
    if intent.tool == "performance_summary":
        _compose_summary(w, call, intent.arguments.get("_platform"))
    else:
        COMPOSERS[intent.tool](w, call)
    return OfflineAnswer(w.text, intent.name, [call], w.citations)


# -- citations for a model's prose -------------------------------------------------------------------------------
def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, f"{path}.{i}" if path else str(i))
    elif node is not None and not isinstance(node, bool):
        yield path, node


def locate_citations(text: str, calls: list[Call]) -> list[dict[str, Any]]:
    """For every figure in ``text``: the first tool result leaf it matches (same rule as the figure check)."""
    from strategist.adapters.llm.guard import _walk

    out: list[dict[str, Any]] = []
    for fig in extract_figures(text):
        written = text[fig.start : fig.end].strip()
        found = None
        for call in calls:
            if call.result is None:
                continue
            for path, value in _leaves(call.result):
                one = Allowed(frozenset(abs(x) for x in _walk(value, set())), frozenset())
                if figure_allowed(fig, one):
                    found = (call, path, value)
                    break
            if found:
                break
        if found:
            out.append(
                {
                    "id": f"c{len(out) + 1}",
                    "text": written,
                    "tool": found[0].tool,
                    "arguments": found[0].arguments,
                    "path": found[1],
                    "value": found[2],
                }
            )
    return out


def platforms_named(message: str) -> list[str]:
    text = message.lower()
    return [p for pattern, p in PLATFORM_WORDS if re.search(pattern, text) and p in PLATFORMS]
