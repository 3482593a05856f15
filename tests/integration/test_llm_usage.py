"""The Postgres usage port: per-tenant monthly token counts with an upsert per (tenant, month, provider), the cap
checked before a call, and a provider writer that goes offline once the cap is spent."""

from __future__ import annotations

import datetime as dt

import httpx2
import pytest
from sqlalchemy import select

from strategist.adapters.db.models import LlmUsage
from strategist.adapters.llm import LlmSettings, StrategyFacts, get_writer, load_prompt
from strategist.adapters.llm.providers import estimate_tokens, user_message
from strategist.bootstrap import system_unit_of_work
from strategist.services.llm_usage import PostgresLlmUsage, month_start
from tests.unit.llm.conftest import GOOD_STRATEGY_TEXT, STRATEGY, openai_completion

MARCH = dt.date(2026, 3, 17)


def test_record_upserts_and_reserve_checks_the_cap(make_tenant):
    a, b = make_tenant(), make_tenant()
    with system_unit_of_work("test") as uow:
        uow.set_tenant(a.tenant_id)
        usage = PostgresLlmUsage(uow, monthly_token_cap=1000, today=MARCH)
        assert usage.reserve(a.tenant_id, "openai", 1000)
        usage.record(a.tenant_id, "openai", 300, 100)
        usage.record(a.tenant_id, "openai", 200, 50)
        usage.record(a.tenant_id, "anthropic", 100, 100)
        assert usage.used(a.tenant_id) == 850
        assert usage.reserve(a.tenant_id, "openai", 150) and not usage.reserve(a.tenant_id, "openai", 151)
        # Another month starts from zero.
        assert PostgresLlmUsage(uow, monthly_token_cap=1000, today=dt.date(2026, 4, 1)).used(a.tenant_id) == 0
    with system_unit_of_work("test") as uow:
        uow.set_tenant(a.tenant_id)
        rows = {
            r.provider: (r.month, r.input_tokens, r.output_tokens, r.calls)
            for r in uow.session.scalars(select(LlmUsage))
        }
        assert rows == {
            "openai": (dt.date(2026, 3, 1), 500, 150, 2),
            "anthropic": (dt.date(2026, 3, 1), 100, 100, 1),
        }
        # The unit of work is tenant A's: counting for B there is a programming error, not a silent zero.
        with pytest.raises(ValueError, match="unit of work"):
            PostgresLlmUsage(uow, monthly_token_cap=1000).reserve(b.tenant_id, "openai", 1)
    with system_unit_of_work("test") as uow:
        uow.set_tenant(b.tenant_id)
        assert PostgresLlmUsage(uow, monthly_token_cap=1000, today=MARCH).used(b.tenant_id) == 0


def test_month_start_is_utc_calendar_month():
    assert month_start(dt.date(2026, 12, 31)) == dt.date(2026, 12, 1)


def test_writer_spends_then_stops_at_the_cap(make_tenant):
    world = make_tenant()
    calls = []

    def respond(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return httpx2.Response(200, json=openai_completion(GOOD_STRATEGY_TEXT))

    # Each call reserves its estimate (prompt + facts + 900 output tokens) and records 976 tokens: a cap just
    # short of three calls' worth lets two calls through and stops the third before it reaches the network.
    estimate = estimate_tokens(
        load_prompt("strategy")[0], user_message(StrategyFacts.model_validate(STRATEGY))
    )
    cap = 2 * 976 + estimate + 900 - 1
    writer = get_writer(
        LlmSettings(provider="openai", openai_api_key="sk-test", monthly_token_cap=cap),
        http_client=httpx2.Client(transport=httpx2.MockTransport(respond)),
    )
    results = []
    for _ in range(3):
        with system_unit_of_work("test") as uow:
            uow.set_tenant(world.tenant_id)
            usage = PostgresLlmUsage(uow, monthly_token_cap=cap)
            results.append(
                writer.write(kind="strategy", facts=STRATEGY, tenant_id=world.tenant_id, usage=usage)
            )
    assert [r.writer for r in results] == ["openai", "openai", "offline"]
    assert results[2].reason == "openai: the tenant's monthly token cap is reached" and len(calls) == 2
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        assert PostgresLlmUsage(uow, monthly_token_cap=cap).used(world.tenant_id) == 2 * 976
