"""The assistant through the local gateway: offline answers whose figures equal the tool results (and the dashboard),
a citation for every figure, conversations per caller, a client viewer confined to its client even when it names
another, cross-tenant isolation, and a mocked provider whose invented figure is rejected by the guard."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import Decimal

import pytest

from strategist.adapters.llm.guard import check_text, extract_figures

URL = "/api/v1/assistant/chat"
TODAY = dt.datetime.now(dt.UTC).date()


def _seed(world) -> None:
    """Two campaigns of clients[0]: Google steady, Meta's CPA doubling in the last 7 days; a monthly budget."""
    from sqlalchemy import update

    from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
    from strategist.adapters.db.models import Campaign, Client
    from strategist.bootstrap import system_unit_of_work

    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        uow.session.execute(
            update(Client).where(Client.id == world.clients[0]).values(monthly_budget=Decimal("9000"))
        )
        rows = []
        for platform, name in (("google_ads", "Search brand"), ("meta_ads", "Prospecting")):
            camp = Campaign(
                id=uuid.uuid4(),
                tenant_id=world.tenant_id,
                client_id=world.clients[0],
                platform=platform,
                external_id=f"x-{uuid.uuid4().hex[:12]}",
                name=name,
                status="active",
                currency="USD",
            )
            uow.session.add(camp)
            uow.session.flush()
            for d in range(60, 0, -1):
                day = TODAY - dt.timedelta(days=d)
                recent = d <= 7
                conv = Decimal(10) if platform == "google_ads" else Decimal(5 if recent else 10)
                rows.append(
                    MetricRow(
                        campaign_id=camp.id,
                        date=day,
                        currency="USD",
                        cost=Decimal(100) if platform == "google_ads" else Decimal(150),
                        impressions=10_000,
                        clicks=200 if platform == "google_ads" else 150,
                        conversions=conv,
                        conversion_value=conv * 40,
                        time_zone="UTC",
                        attribution_window="test",
                        source="test",
                    )
                )
        upsert_metrics(uow.session, world.tenant_id, rows)


@pytest.fixture(scope="module")
def world(make_tenant_module):
    w = make_tenant_module()
    _seed(w)
    return w


def _ask(api, world, actor, message, **extra):
    body = {"client_id": str(world.clients[0]), "message": message, **extra}
    return api.post(URL, json=body, headers=actor.headers)


def _all_figures_cited(answer: dict, world) -> None:
    """Every figure in the text sits in a cited fragment "<figure> [cN]", and every citation's value is real.
    (The test clients' names carry digits: they are names, not figures.)"""
    text = re.sub(r"Client \d [0-9a-f]{8}", "the client", answer["content"])
    for c in answer["citations"]:
        assert f"{c['text']} [{c['id']}]" in text
    stripped = text
    for c in answer["citations"]:
        stripped = stripped.replace(f"{c['text']} [{c['id']}]", "")
    assert extract_figures(stripped) == [], stripped
    results = {"results": [c["value"] for c in answer["citations"]], "currency": "USD"}
    assert check_text(re.sub(r"\[c\d+\]", "", text), results).ok


def test_why_did_cpa_rise_offline(api, world):
    r = _ask(api, world, world.analyst, "Why did CPA rise last week?")
    assert r.status_code == 200, r.text
    a = r.json()["chat"]["answer"]
    assert a["intent"] == "why_kpi_changed" and a["writer"]["mode"] == "offline"
    assert a["tool_calls"] == [
        {"tool": "kpi_drivers", "arguments": {"kpi": "cpa", "days": 7}, "ok": True, "error": None}
    ]
    cites = {c["path"]: c for c in a["citations"]}
    # last 7 days: spend 7 x 250 = 1750, conversions 7 x 15 = 105 -> CPA 16.6667; before: 1750 / 140 = 12.5
    assert Decimal(cites["value"]["value"]) == Decimal("16.6667")
    assert Decimal(cites["previous"]["value"]) == Decimal("12.5000")
    assert Decimal(cites["change_pct"]["value"]) == Decimal("33.33")
    assert "CPA rose from $12.50 [c1] to $16.67 [c2] (33.3% [c3])" in a["content"]
    # CVR fell within Meta: the drivers name CVR; CPM and CTR did not move
    drivers = [c for c in a["citations"] if c["path"].startswith("drivers.")]
    assert drivers and "CVR" in a["content"]
    assert "Prospecting" in a["content"]
    _all_figures_cited(a, world)


def test_how_is_it_doing_matches_the_dashboard(api, world):
    r = _ask(api, world, world.viewer, "How is the account doing over the last 30 days?")
    assert r.status_code == 200, r.text
    a = r.json()["chat"]["answer"]
    assert a["intent"] == "how_is_it_doing"
    dash = api.get(
        "/api/v1/analytics/dashboard",
        params={"client_id": str(world.clients[0]), "date_range": "30d"},
        headers=world.viewer.headers,
    ).json()["dashboard"]
    cites = {c["path"]: c for c in a["citations"]}
    assert Decimal(cites["kpis.spend.value"]["value"]) == Decimal(dash["overview"]["spend"]["value"])
    assert Decimal(cites["kpis.roas.value"]["value"]) == Decimal(dash["overview"]["roas"]["value"])
    _all_figures_cited(a, world)


def test_rank_pacing_forecast_and_capabilities(api, world):
    a = _ask(api, world, world.analyst, "Which campaign has the best CPA?").json()["chat"]["answer"]
    assert a["intent"] == "rank_campaigns"
    first = next(c for c in a["citations"] if c["path"] == "campaigns.0.value")
    assert Decimal(first["value"]) == Decimal("10.0000")  # Search brand: 3000 / 300
    assert "Search brand" in a["content"]
    _all_figures_cited(a, world)

    a = _ask(api, world, world.analyst, "Are we on pace this month?").json()["chat"]["answer"]
    assert a["intent"] == "pacing"
    if TODAY.day > 1:
        budget = next(c for c in a["citations"] if c["path"] == "monthly_budget")
        assert Decimal(budget["value"]) == Decimal("9000.00")
        mtd = next(c for c in a["citations"] if c["path"] == "month_to_date_spend")
        assert Decimal(mtd["value"]) == Decimal(250 * (TODAY.day - 1))
        _all_figures_cited(a, world)

    a = _ask(api, world, world.analyst, "Forecast to month end please").json()["chat"]["answer"]
    assert a["intent"] == "forecast_month_end"
    if TODAY.day > 1:
        import calendar

        dim = calendar.monthrange(TODAY.year, TODAY.month)[1]
        spend = next(c for c in a["citations"] if c["path"] == "projection_run_rate.spend")
        assert Decimal(spend["value"]) == Decimal(250 * dim)
        _all_figures_cited(a, world)

    a = _ask(api, world, world.analyst, "Tell me a joke").json()["chat"]["answer"]
    assert a["intent"] is None and "I can answer" in a["content"] and a["citations"] == []


def test_what_if_needs_analyst_and_cites_the_optimizer(api, world):
    viewer = _ask(api, world, world.viewer, "What if we move 20% from Meta to Google?").json()["chat"][
        "answer"
    ]
    assert viewer["tool_calls"][0]["ok"] is False and "analyst" in viewer["tool_calls"][0]["error"]
    r = _ask(api, world, world.analyst, "What if we move 20% of budget from Meta to Google?")
    assert r.status_code == 200, r.text
    a = r.json()["chat"]["answer"]
    assert a["intent"] == "what_if" and a["tool_calls"][0]["ok"], a
    moved = next(c for c in a["citations"] if c["path"] == "moved")
    assert Decimal(moved["value"]) == Decimal("900.00")  # 20 % of 150/day x 30 days
    _all_figures_cited(a, world)


def test_conversations_are_per_caller_and_continue(api, world):
    first = _ask(api, world, world.analyst, "Are we on pace?").json()["chat"]
    cid = first["conversation_id"]
    again = _ask(api, world, world.analyst, "Why did ROAS fall last week?", conversation_id=cid)
    assert again.status_code == 200 and again.json()["chat"]["conversation_id"] == cid
    got = api.get(f"/api/v1/assistant/conversations/{cid}", headers=world.analyst.headers)
    assert got.status_code == 200
    msgs = got.json()["conversation"]["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    listed = api.get("/api/v1/assistant/conversations", headers=world.analyst.headers).json()["conversations"]
    assert cid in [c["id"] for c in listed["items"]]
    # another user of the same tenant sees neither the list entry nor the conversation
    assert api.get(f"/api/v1/assistant/conversations/{cid}", headers=world.owner.headers).status_code == 404
    other = api.get("/api/v1/assistant/conversations", headers=world.owner.headers).json()["conversations"]
    assert cid not in [c["id"] for c in other["items"]]
    bad = _ask(api, world, world.analyst, "hi", conversation_id=cid, client_id=str(world.clients[1]))
    assert bad.status_code == 422 and "conversation_id" in bad.text


def test_viewer_cannot_reach_another_client(api, world):
    r = api.post(
        URL,
        json={"client_id": str(world.clients[1]), "message": "How is it doing?"},
        headers=world.viewer.headers,
    )
    assert r.status_code == 404
    r = api.post(
        URL,
        json={"client_id": str(world.clients[1]), "message": "How is it doing?"},
        headers=world.viewer_key.headers,
    )
    assert r.status_code == 404
    # naming the other client in a question about its own client reads nothing of the other
    other_name = f"Client 1 {world.tenant_id.hex[:8]}"
    a = _ask(api, world, world.viewer, f"How is {other_name} doing?").json()["chat"]["answer"]
    assert str(world.clients[1]) not in str(a) and a["intent"] == "how_is_it_doing"
    # an analyst (sees both) is told to ask in that client's conversation
    a = _ask(api, world, world.analyst, f"How is {other_name} doing?").json()["chat"]["answer"]
    assert a["intent"] == "other_client" and a["tool_calls"] == []


def test_cross_tenant(api, world, make_tenant_module):
    intruder = make_tenant_module()
    r = api.post(
        URL,
        json={"client_id": str(world.clients[0]), "message": "How is it doing?"},
        headers=intruder.owner.headers,
    )
    assert r.status_code == 404
    cid = _ask(api, world, world.owner, "Are we on pace?").json()["chat"]["conversation_id"]
    assert (
        api.get(f"/api/v1/assistant/conversations/{cid}", headers=intruder.owner.headers).status_code == 404
    )
    r = api.post(
        URL,
        json={"client_id": str(intruder.clients[0]), "message": "hi", "conversation_id": cid},
        headers=intruder.owner.headers,
    )
    assert r.status_code == 404
    bad = api.post(URL, json={"client_id": str(world.clients[0])}, headers=world.owner.headers)
    assert bad.status_code == 422 and "body.message" in bad.text


def test_provider_invented_figure_falls_back(world, stack):
    """A mocked model calls the drivers tool, then states a figure no tool returned: the guard rejects it."""
    from strategist.adapters.llm.tool_calling import ChatOutcome, ToolChat
    from strategist.bootstrap import unit_of_work
    from strategist.domain.auth import Principal, Role
    from strategist.http.schemas.assistant import ChatRequest
    from strategist.services.assistant import service

    class Scripted(ToolChat):
        name, api_key_env, model = "openai", "OPENAI_API_KEY", "scripted"

        def __init__(self, text: str) -> None:
            self.text = text

        api_key = "k"  # type: ignore[assignment]

        def _make_client(self):  # pragma: no cover
            return None

        def _loop(self, outcome, system, history, tools, execute, reserve):  # pragma: no cover
            raise AssertionError

        def run(self, *, system, history, tools, execute, tenant_id, usage):
            result = execute("kpi_drivers", {"kpi": "cpa", "days": 7})
            return ChatOutcome(ok=True, text=self.text.format(**result), provider="openai", model="scripted")

    principal = Principal(world.tenant_id, world.analyst.user_id, Role.ANALYST, None, auth_type="jwt")
    body = ChatRequest(client_id=world.clients[0], message="Why did CPA rise last week?")
    with unit_of_work(principal=principal, request_id="t") as uow:
        good = service.chat(uow, principal, body, tool_chat=Scripted("CPA went from {previous} to {value}."))
        bad = service.chat(uow, principal, body, tool_chat=Scripted("CPA went from {previous} to 19.99."))
    assert good["answer"]["writer"]["mode"] == "openai"
    assert [c["path"] for c in good["answer"]["citations"]] == ["previous", "value"]
    assert bad["answer"]["writer"]["mode"] == "offline" and bad["answer"]["writer"]["fell_back"]
    assert "19.99" in bad["answer"]["writer"]["reason"]


def _sdk_chat(provider: str, final_text):
    """A real SDK client over a mock transport: round 1 asks for kpi_drivers (recorded tool-use shape), round 2
    answers with ``final_text(result)`` built from the tool result the service sent back."""
    import json as _json

    import httpx2

    from strategist.adapters.llm import LlmSettings
    from strategist.adapters.llm.tool_calling import get_tool_chat
    from tests.unit.llm.conftest import Recorder, anthropic_message, openai_completion
    from tests.unit.llm.test_tool_calling import anthropic_tool_use, openai_tool_call

    def respond(request):
        body = _json.loads(request.content)
        msgs = body["messages"]
        if provider == "openai":
            sent = [m for m in msgs if m.get("role") == "tool"]
            if not sent:
                return httpx2.Response(200, json=openai_tool_call("kpi_drivers", {"kpi": "cpa", "days": 7}))
            return httpx2.Response(200, json=openai_completion(final_text(_json.loads(sent[-1]["content"]))))
        sent = [
            b
            for m in msgs
            if isinstance(m["content"], list)
            for b in m["content"]
            if b.get("type") == "tool_result"
        ]
        if not sent:
            return httpx2.Response(200, json=anthropic_tool_use("kpi_drivers", {"kpi": "cpa", "days": 7}))
        return httpx2.Response(200, json=anthropic_message(final_text(_json.loads(sent[-1]["content"]))))

    rec = Recorder(respond)
    settings = LlmSettings(
        provider=provider, openai_api_key="sk-test", anthropic_api_key="sk-ant-test", timeout_s=2
    )
    return get_tool_chat(settings, http_client=rec.client()), rec


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_sdk_tool_calling_through_the_service(world, stack, provider):
    from strategist.bootstrap import unit_of_work
    from strategist.domain.auth import Principal, Role
    from strategist.http.schemas.assistant import ChatRequest
    from strategist.services.assistant import service
    from strategist.services.llm_usage import PostgresLlmUsage

    principal = Principal(world.tenant_id, world.analyst.user_id, Role.ANALYST, None, auth_type="jwt")
    body = ChatRequest(client_id=world.clients[0], message="Why did CPA rise last week?")
    with unit_of_work(principal=principal, request_id="t") as uow:
        good_chat, rec = _sdk_chat(provider, lambda r: f"CPA rose {r['change_pct']}% to {r['value']} USD.")
        good = service.chat(uow, principal, body, tool_chat=good_chat)["answer"]
        bad_chat, _ = _sdk_chat(provider, lambda r: f"CPA rose {r['change_pct']}% to 21.40 USD.")
        bad = service.chat(uow, principal, body, tool_chat=bad_chat)["answer"]
        capped_chat, capped_rec = _sdk_chat(provider, lambda r: "unused")
        capped = service.chat(
            uow, principal, body, tool_chat=capped_chat, usage=PostgresLlmUsage(uow, monthly_token_cap=1)
        )["answer"]
    assert good["writer"]["mode"] == provider and good["content"] == "CPA rose 33.33% to 16.6667 USD."
    assert [(c["path"], c["tool"]) for c in good["citations"]] == [
        ("change_pct", "kpi_drivers"),
        ("value", "kpi_drivers"),
    ]
    assert good["tool_calls"] == [
        {"tool": "kpi_drivers", "arguments": {"kpi": "cpa", "days": 7}, "ok": True, "error": None}
    ]
    assert len(rec.requests) == 2
    first = json.loads(rec.requests[0].content)
    system = first["messages"][0]["content"] if provider == "openai" else first["system"]
    assert (
        system.startswith("You are the analytics assistant")
        and f"Client 0 {world.tenant_id.hex[:8]}" in system
    )
    tools = {t["function"]["name"] if provider == "openai" else t["name"] for t in first["tools"]}
    assert {"kpi_drivers", "what_if_shift", "competitor_summary"} <= tools
    # the invented 21.40 is named and the offline answer (same tool, same numbers) is given instead
    assert bad["writer"]["mode"] == "offline" and bad["writer"]["fell_back"]
    assert "'21.40 USD'" in bad["writer"]["reason"] and "CPA rose from $12.50 [c1]" in bad["content"]
    assert capped["writer"]["reason"] == f"{provider}: the tenant's monthly token cap is reached"
    assert capped_rec.requests == []


def test_platform_scoped_questions(api, world):
    a = _ask(api, world, world.analyst, "Why did CPA rise on Meta last week?").json()["chat"]["answer"]
    assert a["tool_calls"][0]["arguments"] == {"kpi": "cpa", "days": 7, "platform": "meta_ads"}
    cites = {c["path"]: c for c in a["citations"]}
    # Meta alone: 150/day; 5 conversions/day in the last 7 days (CPA 30) against 10/day before (CPA 15)
    assert Decimal(cites["value"]["value"]) == Decimal("30.0000")
    assert Decimal(cites["previous"]["value"]) == Decimal("15.0000")
    assert "CPA on Meta Ads rose" in a["content"] and "Search brand" not in a["content"]
    _all_figures_cited(a, world)
    a = _ask(api, world, world.analyst, "Which Google campaign has the worst CPA?").json()["chat"]["answer"]
    assert [c["value"] for c in a["citations"] if c["path"] == "campaigns.0.value"] == ["10.0000"]
    # "research" is not "search": no platform is read into it
    from strategist.services.assistant.answers import recognise

    assert "platform" not in recognise("Why did CPA rise after our research last week?").arguments


def test_competitor_question(api, world):
    from pathlib import Path

    a = _ask(api, world, world.analyst, "Who are our main competitors?").json()["chat"]["answer"]
    assert a["intent"] == "competitors" and "no competitor analysis" in a["content"]
    fix = Path(__file__).parents[1] / "fixtures" / "competitors"
    for name in ("auction_insights_oct.csv", "auction_insights_weekly.csv"):
        r = api.post(
            "/api/v1/competitor-analysis/uploads",
            params={"client_id": str(world.clients[0])},
            content=(fix / name).read_bytes(),
            headers={**world.analyst.headers, "Content-Type": "text/csv"},
        )
        assert r.status_code == 201, r.text
    made = api.post(
        "/api/v1/competitor-analysis",
        json={"client_id": str(world.clients[0])},
        headers=world.analyst.headers,
    )
    assert made.status_code == 201
    a = _ask(api, world, world.viewer, "Is any competitor gaining impression share?").json()["chat"]["answer"]
    assert a["intent"] == "competitors"
    cites = {c["path"]: c for c in a["citations"]}
    assert cites["competitors.0.overlap_rate"]["value"] == 0.55  # trailgear.example, the largest overlap
    assert "trailgear.example" in a["content"] and "rose 9.5 [" in a["content"]
    _all_figures_cited(a, world)
