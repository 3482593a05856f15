"""OpenAI and Anthropic writers through their official SDKs, answered by a mock transport (no network)."""

from __future__ import annotations

import json

import httpx2
import pytest

from strategist.adapters.llm import LlmSettings, OfflineWriter, get_writer, load_prompt
from strategist.adapters.llm.providers import AnthropicWriter, OpenAIWriter
from strategist.config import Settings
from tests.unit.llm.conftest import (
    GOOD_STRATEGY_TEXT,
    INVENTED_STRATEGY_TEXT,
    Recorder,
    anthropic_message,
    openai_completion,
)

PROVIDERS = {
    "openai": (openai_completion, "/v1/chat/completions"),
    "anthropic": (anthropic_message, "/v1/messages"),
}


def make_writer(provider: str, recorder: Recorder, **overrides):
    settings = LlmSettings(
        provider=provider,
        openai_api_key="sk-test",
        anthropic_api_key="sk-ant-test",
        timeout_s=2,
        **overrides,
    )
    writer = get_writer(settings, http_client=recorder.client())
    # The SDKs back off 0.5-8 s between retries; the retries are what is under test, not the waiting.
    writer.client()._calculate_retry_timeout = lambda *args, **kwargs: 0.0
    return writer


def answer(provider: str, text: str, **kwargs) -> Recorder:
    shape, _ = PROVIDERS[provider]
    return Recorder(lambda request: httpx2.Response(200, json=shape(text, **kwargs)))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_model_text_with_fact_figures_is_used(provider, strategy_facts, usage, tenant):
    recorder = answer(provider, GOOD_STRATEGY_TEXT)
    writer = make_writer(provider, recorder)
    result = writer.write(kind="strategy", facts=strategy_facts, tenant_id=tenant, usage=usage)

    assert (result.writer, result.fell_back, result.reason) == (provider, False, None)
    assert result.text == GOOD_STRATEGY_TEXT
    assert result.model == {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5"}[provider]
    assert result.prompt_version == "strategy.v1"
    # One request, to the provider's endpoint, with the versioned prompt and the facts as JSON.
    assert len(recorder.requests) == 1 and recorder.requests[0].url.path == PROVIDERS[provider][1]
    body = recorder.body()
    prompt, _ = load_prompt("strategy")
    if provider == "openai":
        system, user = body["messages"][0]["content"], body["messages"][1]["content"]
        assert body["max_completion_tokens"] == 900
        assert recorder.requests[0].headers["authorization"] == "Bearer sk-test"
    else:
        system, user = body["system"], body["messages"][0]["content"]
        assert body["max_tokens"] == 900
        headers = recorder.requests[0].headers
        assert "sk-ant-test" in (headers.get("x-api-key", ""), headers.get("authorization", "").split()[-1])
    assert system == prompt
    facts_json = json.loads(user.split("Facts (JSON):\n", 1)[1].split("\n\nWrite the narrative", 1)[0])
    assert facts_json["budget"] == "50000" and facts_json["allocation"][0]["share"] == 0.44
    # Tokens: reserved before (an over-estimate), recorded after from the provider's usage.
    ((t, p, estimate),) = usage.reserved
    assert (t, p) == (tenant, provider) and estimate > 900
    expected = {"openai": (812, 164), "anthropic": (905, 171)}[provider]
    assert usage.recorded == [(tenant, provider, *expected)]
    assert (result.input_tokens, result.output_tokens) == expected


@pytest.mark.parametrize("provider", PROVIDERS)
def test_invented_figure_falls_back_to_offline(provider, strategy_facts, usage, tenant):
    writer = make_writer(provider, answer(provider, INVENTED_STRATEGY_TEXT))
    result = writer.write(kind="strategy", facts=strategy_facts, tenant_id=tenant, usage=usage)
    offline = OfflineWriter().write(kind="strategy", facts=strategy_facts)
    assert result.fell_back and result.writer == "offline" and result.model is None
    assert result.reason == f"{provider}: figure '4.2x' is not in the facts"
    assert result.text == offline.text and result.prompt_version == offline.prompt_version
    assert len(usage.recorded) == 1  # the tokens were spent all the same


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cap_reached_falls_back_without_calling(provider, strategy_facts, usage, tenant):
    usage.used = usage.cap - 100
    recorder = answer(provider, GOOD_STRATEGY_TEXT)
    result = make_writer(provider, recorder).write(
        kind="strategy", facts=strategy_facts, tenant_id=tenant, usage=usage
    )
    assert result.fell_back and result.reason == f"{provider}: the tenant's monthly token cap is reached"
    assert recorder.requests == [] and usage.recorded == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_timeout_after_retries_falls_back(provider, strategy_facts, usage, tenant):
    def slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    recorder = Recorder(slow)
    result = make_writer(provider, recorder).write(
        kind="strategy", facts=strategy_facts, tenant_id=tenant, usage=usage
    )
    assert result.fell_back and result.writer == "offline"
    assert result.reason == f"{provider}: timeout (2 s per attempt, retries included)"
    assert len(recorder.requests) == 3  # the first attempt and two SDK retries
    assert usage.recorded == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_error_falls_back(provider, strategy_facts, usage, tenant):
    recorder = Recorder(lambda r: httpx2.Response(400, json={"error": {"message": "bad model", "type": "x"}}))
    result = make_writer(provider, recorder).write(
        kind="strategy", facts=strategy_facts, tenant_id=tenant, usage=usage
    )
    assert result.fell_back and result.reason.startswith(f"{provider}: provider error: BadRequestError")
    assert len(recorder.requests) == 1  # a 400 is not retried


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cut_off_answer_falls_back(provider, strategy_facts, usage, tenant):
    stop = {"openai": {"finish_reason": "length"}, "anthropic": {"stop_reason": "max_tokens"}}[provider]
    writer = make_writer(provider, answer(provider, GOOD_STRATEGY_TEXT[:200], **stop))
    result = writer.write(kind="strategy", facts=strategy_facts, tenant_id=tenant, usage=usage)
    assert result.fell_back and result.reason == f"{provider}: answer cut off at the output token limit"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_way_to_account_tokens_means_no_call(provider, strategy_facts, usage, tenant):
    recorder = answer(provider, GOOD_STRATEGY_TEXT)
    writer = make_writer(provider, recorder)
    for kwargs in ({"tenant_id": None, "usage": usage}, {"tenant_id": tenant, "usage": None}):
        result = writer.write(kind="strategy", facts=strategy_facts, **kwargs)
        assert result.fell_back and "monthly token cap" in result.reason
    assert recorder.requests == []


def test_no_api_key_falls_back(strategy_facts, usage, tenant):
    recorder = answer("openai", GOOD_STRATEGY_TEXT)
    writer = get_writer(LlmSettings(provider="openai"), http_client=recorder.client())
    result = writer.write(kind="strategy", facts=strategy_facts, tenant_id=tenant, usage=usage)
    assert result.fell_back and result.reason == "openai: no API key (OPENAI_API_KEY is not set)"
    assert recorder.requests == []


def test_budget_kind_uses_its_prompt(budget_facts, usage, tenant):
    text = "Meta rises to ¥550,000 and Google Ads falls to ¥450,000; the uplift is about ¥150,000."
    recorder = answer("anthropic", text)
    result = make_writer("anthropic", recorder).write(
        kind="budget_optimization", facts=budget_facts, tenant_id=tenant, usage=usage
    )
    assert not result.fell_back and result.prompt_version == "budget_optimization.v1"
    assert recorder.body()["system"] == load_prompt("budget_optimization")[0]


def test_settings_come_from_the_environment(monkeypatch):
    for name in ("LLM_MODEL", "LLM_TIMEOUT_S", "LLM_MONTHLY_TOKEN_CAP", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LLM_PROVIDER", "anthropic")
    monkeypatch.setenv("LLM_MODEL", "claude-sonnet-4-5")
    monkeypatch.setenv("LLM_TIMEOUT_S", "7.5")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    writer = get_writer(Settings())  # the app's settings carry no LLM fields: the environment decides
    assert isinstance(writer, AnthropicWriter)
    assert (writer.model, writer.settings.timeout_s, writer.settings.max_retries) == (
        "claude-sonnet-4-5",
        7.5,
        2,
    )
    assert writer.api_key == "sk-ant-env" and writer.settings.monthly_token_cap == 1_000_000
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    assert isinstance(get_writer(None), OpenAIWriter)
    monkeypatch.setenv("LLM_PROVIDER", "gpt")
    with pytest.raises(ValueError, match="LLM_PROVIDER"):
        get_writer(None)


def test_prompts_are_versioned_files():
    for kind in ("strategy", "budget_optimization"):
        text, version = load_prompt(kind)
        assert version == f"{kind}.v1" and "Every number you write must appear in the facts" in text
