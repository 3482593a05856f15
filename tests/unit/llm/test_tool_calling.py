"""The tool-calling loop over the official SDKs, answered by a mock transport with recorded-shape tool-use
responses (OpenAI chat completions ``tool_calls``; Anthropic messages ``tool_use`` blocks). No network."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from strategist.adapters.llm import LlmSettings
from strategist.adapters.llm.tool_calling import (
    MAX_ROUNDS,
    AnthropicToolChat,
    OpenAIToolChat,
    ToolDef,
    ToolError,
    get_tool_chat,
)
from tests.unit.llm.conftest import Recorder, anthropic_message, openai_completion

TOOLS = [
    ToolDef(
        "kpi_drivers",
        "Why a KPI moved.",
        {
            "type": "object",
            "properties": {"kpi": {"type": "string", "enum": ["cpa", "roas"]}, "days": {"type": "integer"}},
            "required": ["kpi"],
            "additionalProperties": False,
        },
    )
]
RESULT = {"kpi": "cpa", "value": "16.6667", "previous": "12.5000", "change_pct": "33.33"}


def openai_tool_call(name: str, arguments: dict[str, Any], call_id: str = "call_Xy12") -> dict[str, Any]:
    """A recorded POST /v1/chat/completions answer asking for one function call."""
    body = openai_completion("", finish_reason="tool_calls")
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "annotations": [],
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ],
    }
    return body


def anthropic_tool_use(
    name: str, arguments: dict[str, Any], use_id: str = "toolu_01A09q90qw90lq917835lq9"
) -> dict:
    """A recorded POST /v1/messages answer with a text block and a tool_use block."""
    body = anthropic_message("", stop_reason="tool_use")
    body["content"] = [
        {"type": "text", "text": "I'll look at the drivers."},
        {"type": "tool_use", "id": use_id, "name": name, "input": arguments},
    ]
    return body


def scripted(*bodies: dict[str, Any]) -> Recorder:
    queue = list(bodies)
    return Recorder(lambda request: httpx2.Response(200, json=queue.pop(0)))


def make(provider: str, recorder: Recorder):
    settings = LlmSettings(
        provider=provider, openai_api_key="sk-test", anthropic_api_key="sk-ant-test", timeout_s=2
    )
    chat = get_tool_chat(settings, http_client=recorder.client())
    assert isinstance(chat, OpenAIToolChat if provider == "openai" else AnthropicToolChat)
    chat.client()._calculate_retry_timeout = lambda *a, **k: 0.0
    return chat


def run(chat, usage, tenant, execute=None):
    calls: list[tuple[str, dict]] = []

    def default(name: str, args: dict) -> dict:
        calls.append((name, args))
        return RESULT

    outcome = chat.run(
        system="Answer from tools only.",
        history=[{"role": "user", "content": "Why did CPA rise last week?"}],
        tools=TOOLS,
        execute=execute or default,
        tenant_id=tenant,
        usage=usage,
    )
    return outcome, calls


def test_offline_has_no_tool_chat():
    assert get_tool_chat(LlmSettings()) is None


def test_openai_loop(usage, tenant):
    rec = scripted(
        openai_tool_call("kpi_drivers", {"kpi": "cpa", "days": 7}),
        openai_completion("CPA rose from 12.50 to 16.67, up 33.3%."),
    )
    outcome, calls = run(make("openai", rec), usage, tenant)
    assert outcome.ok and outcome.text == "CPA rose from 12.50 to 16.67, up 33.3%."
    assert calls == [("kpi_drivers", {"kpi": "cpa", "days": 7})]
    first, second = rec.body(0), rec.body(1)
    assert rec.requests[0].url.path == "/v1/chat/completions"
    assert first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "kpi_drivers",
                "description": "Why a KPI moved.",
                "parameters": TOOLS[0].parameters,
            },
        }
    ]
    assert first["tool_choice"] == "auto" and first["messages"][0]["role"] == "system"
    assistant, tool = second["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == "call_Xy12"
    assert tool == {"role": "tool", "tool_call_id": "call_Xy12", "content": json.dumps(RESULT)}
    # tokens of both rounds are counted and recorded once
    assert (outcome.input_tokens, outcome.output_tokens) == (812 * 2, 164 * 2)
    assert usage.recorded == [(tenant, "openai", 812 * 2, 164 * 2)]
    assert len(usage.reserved) == 2


def test_anthropic_loop(usage, tenant):
    rec = scripted(
        anthropic_tool_use("kpi_drivers", {"kpi": "cpa"}),
        anthropic_message("CPA rose 33.3%, from 12.50 to 16.67."),
    )
    outcome, calls = run(make("anthropic", rec), usage, tenant)
    assert outcome.ok and outcome.text == "CPA rose 33.3%, from 12.50 to 16.67."
    assert calls == [("kpi_drivers", {"kpi": "cpa"})]
    first, second = rec.body(0), rec.body(1)
    assert rec.requests[0].url.path == "/v1/messages"
    assert first["tools"] == [
        {"name": "kpi_drivers", "description": "Why a KPI moved.", "input_schema": TOOLS[0].parameters}
    ]
    assert first["system"] == "Answer from tools only." and first["tool_choice"] == {"type": "auto"}
    assistant, results = second["messages"][-2:]
    assert assistant["role"] == "assistant" and assistant["content"][1]["type"] == "tool_use"
    assert results == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                "content": json.dumps(RESULT),
                "is_error": False,
            }
        ],
    }
    assert usage.recorded == [(tenant, "anthropic", 905 * 2, 171 * 2)]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_tool_errors_go_back_to_the_model(provider, usage, tenant):
    ask = openai_tool_call if provider == "openai" else anthropic_tool_use
    done = openai_completion if provider == "openai" else anthropic_message
    rec = scripted(ask("kpi_drivers", {"kpi": "ctr"}), done("I can only explain CPA or ROAS."))

    def refuse(name: str, args: dict) -> dict:
        raise ToolError("kpi: Input should be 'cpa' or 'roas'")

    outcome, _ = run(make(provider, rec), usage, tenant, execute=refuse)
    assert outcome.ok and outcome.calls[0].error == "kpi: Input should be 'cpa' or 'roas'"
    sent = json.dumps(rec.body(1)["messages"])
    assert "Input should be" in sent


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_rounds_are_bounded(provider, usage, tenant):
    ask = openai_tool_call if provider == "openai" else anthropic_tool_use
    rec = scripted(*[ask("kpi_drivers", {"kpi": "cpa"}) for _ in range(MAX_ROUNDS + 1)])
    outcome, _ = run(make(provider, rec), usage, tenant)
    assert not outcome.ok and "rounds" in (outcome.reason or "")
    assert len(rec.requests) == MAX_ROUNDS + 1
    last = rec.body(MAX_ROUNDS)["tool_choice"]
    assert last == ("none" if provider == "openai" else {"type": "none"})


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_token_cap_stops_before_any_request(provider, usage, tenant):
    usage.cap = 10
    rec = scripted()
    outcome, calls = run(make(provider, rec), usage, tenant)
    assert not outcome.ok and outcome.reason == "the tenant's monthly token cap is reached"
    assert rec.requests == [] and calls == [] and usage.recorded == []


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_provider_error_is_a_reason_not_a_crash(provider, usage, tenant):
    rec = Recorder(
        lambda request: httpx2.Response(
            400, json={"error": {"message": "bad request", "type": "invalid_request_error"}}
        )
    )
    outcome, _ = run(make(provider, rec), usage, tenant)
    assert not outcome.ok and outcome.reason.startswith("provider error: BadRequestError")


def test_no_key_no_call(usage, tenant):
    rec = scripted()
    chat = get_tool_chat(LlmSettings(provider="openai"), http_client=rec.client())
    outcome, _ = run(chat, usage, tenant)
    assert not outcome.ok and "OPENAI_API_KEY" in outcome.reason and rec.requests == []
