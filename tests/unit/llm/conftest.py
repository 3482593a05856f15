"""Facts, a usage fake and SDK-shaped mock transports for the narrative writer tests (no network)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

STRATEGY: dict[str, Any] = {
    "client_name": "Acme Outdoor",
    "campaign_name": "Spring launch 2026",
    "objective": "conversions",
    "campaign_type": "product_launch",
    "budget": "50000",
    "currency": "USD",
    "duration_days": 30,
    "allocation": [
        {
            "platform": "google_ads",
            "budget": "22000",
            "share": 0.44,
            "basis": "history",
            "marginal_roas": 2.31,
        },
        {"platform": "meta_ads", "budget": "18000", "share": 0.36, "basis": "history", "marginal_roas": 2.29},
        {
            "platform": "tiktok_ads",
            "budget": "10000",
            "share": 0.2,
            "basis": "benchmark",
            "marginal_roas": 1.874,
        },
    ],
    "forecast": {
        "conversions": {"p10": 1210.4, "p50": 1530.2, "p90": 1900.9},
        "revenue": {"p10": 98000.5, "p50": 131000.25, "p90": 170500.0},
        "roas": {"p10": 1.96, "p50": 2.62, "p90": 3.41},
        "cpa": {"p10": 26.3, "p50": 32.675, "p90": 41.31},
    },
    "basis": "mixed",
    "assumptions": ["TikTok CPM benchmark 9.80 USD (WordStream 2024)", "Average order value 85 USD"],
    "kpis": ["roas", "conversions"],
    "next_step": {
        "share_of_budget": 0.1,
        "amount": "5000",
        "best_platform": "google_ads",
        "revenue": {"p10": 9000, "p50": 11500, "p90": 14000},
    },
}

BUDGET: dict[str, Any] = {
    "client_name": "Sakura Foods",
    "currency": "JPY",
    "mode": "target_roas",
    "target": 3.0,
    "current_total": 1000000,
    "proposed_total": 1000000,
    "period_days": 30,
    "items": [
        {"name": "google_ads", "current_budget": 600000, "proposed_budget": 450000, "marginal_roas": 2.8},
        {"name": "meta_ads", "current_budget": 400000, "proposed_budget": 550000, "marginal_roas": 2.81},
    ],
    "current_outcome": {"p10": 2100000, "p50": 2500000, "p90": 2900000},
    "proposed_outcome": {"p10": 2250000, "p50": 2650000.4, "p90": 3050000},
    "uplift": {"p10": -20000, "p50": 150000, "p90": 320000},
    "uplift_pct": {"p10": -0.008, "p50": 0.06, "p90": 0.128},
}

#: Prose a well-behaved model might write: every figure is a fact, formatted its own way.
GOOD_STRATEGY_TEXT = (
    "We recommend putting USD 50,000 behind the Spring launch over 30 days: 44% on Google Ads, 36% on Meta "
    "and the remaining 20% on TikTok. Google's next dollar returns about 2.3x, TikTok's 1.87x.\n\n"
    "Expect between 1,210 and 1,901 conversions (most likely around 1.5k) and revenue of $98k-$170.5k, "
    "a ROAS of 1.96 to 3.41x and a CPA near $32.68. There is a one-in-ten chance of landing below the 10th "
    "percentile and the same above the 90th."
)
#: The same prose with one invented figure (a 4.2x ROAS nobody computed).
INVENTED_STRATEGY_TEXT = GOOD_STRATEGY_TEXT.replace("a ROAS of 1.96 to 3.41x", "a ROAS of up to 4.2x")


@pytest.fixture
def strategy_facts() -> dict[str, Any]:
    return copy.deepcopy(STRATEGY)


@pytest.fixture
def budget_facts() -> dict[str, Any]:
    return copy.deepcopy(BUDGET)


@dataclass
class FakeUsage:
    """The usage port in memory: a cap, what was reserved and recorded."""

    cap: int = 1_000_000
    used: int = 0
    reserved: list[tuple[uuid.UUID, str, int]] = field(default_factory=list)
    recorded: list[tuple[uuid.UUID, str, int, int]] = field(default_factory=list)

    def reserve(self, tenant_id: uuid.UUID, provider: str, estimated_tokens: int) -> bool:
        self.reserved.append((tenant_id, provider, estimated_tokens))
        return self.used + estimated_tokens <= self.cap

    def record(self, tenant_id: uuid.UUID, provider: str, input_tokens: int, output_tokens: int) -> None:
        self.recorded.append((tenant_id, provider, input_tokens, output_tokens))
        self.used += input_tokens + output_tokens


def openai_completion(text: str, *, finish_reason: str = "stop") -> dict[str, Any]:
    """The shape of a recorded POST /v1/chat/completions answer."""
    return {
        "id": "chatcmpl-AbC123",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": 812,
            "completion_tokens": 164,
            "total_tokens": 976,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_abc123",
    }


def anthropic_message(text: str, *, stop_reason: str = "end_turn") -> dict[str, Any]:
    """The shape of a recorded POST /v1/messages answer."""
    return {
        "id": "msg_01XYZ",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 905,
            "output_tokens": 171,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


@dataclass
class Recorder:
    """A mock transport that answers every request with ``respond`` and keeps the requests."""

    respond: Callable[[httpx2.Request], httpx2.Response]
    requests: list[httpx2.Request] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.respond(request)

    def client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self))

    def body(self, i: int = 0) -> dict[str, Any]:
        return json.loads(self.requests[i].content)


@pytest.fixture
def usage() -> FakeUsage:
    return FakeUsage()


@pytest.fixture
def tenant() -> uuid.UUID:
    return uuid.uuid4()
