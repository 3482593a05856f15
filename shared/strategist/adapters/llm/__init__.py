"""Narrative writers: prose around computed figures, from templates (offline, the default) or a language model.

    writer = get_writer(settings)
    result = writer.write(kind="strategy", facts=StrategyFacts(...) or a dict, tenant_id=..., usage=...)

A model is given the facts as JSON and writes prose only; its text is checked so that it states no figure that is
not in the facts (``guard``), and it is never parsed back into numbers or actions (ARCHITECTURE §1).
"""

from __future__ import annotations

from typing import Any

from strategist.adapters.llm.base import (
    PROMPT_VERSIONS,
    NarrativeResult,
    NarrativeWriter,
    UsagePort,
    load_prompt,
)
from strategist.adapters.llm.facts import (
    BudgetFacts,
    BudgetItem,
    BudgetStep,
    Interval,
    PlatformAllocation,
    SimilarCampaignFact,
    StrategyFacts,
    StrategyForecast,
    TestFact,
    coerce_facts,
)
from strategist.adapters.llm.offline import OfflineWriter
from strategist.adapters.llm.settings import LlmSettings, llm_settings

__all__ = [
    "PROMPT_VERSIONS",
    "BudgetFacts",
    "BudgetItem",
    "BudgetStep",
    "Interval",
    "LlmSettings",
    "NarrativeResult",
    "NarrativeWriter",
    "OfflineWriter",
    "PlatformAllocation",
    "SimilarCampaignFact",
    "StrategyFacts",
    "StrategyForecast",
    "TestFact",
    "UsagePort",
    "coerce_facts",
    "get_writer",
    "llm_settings",
    "load_prompt",
]


def get_writer(settings: Any = None, *, http_client: Any = None) -> NarrativeWriter:
    """The writer the settings select.

    ``settings`` may be an ``LlmSettings`` (tests, explicit wiring) or anything else -- typically
    ``strategist.config.Settings``, which carries no language-model fields -- in which case the LLM_* variables
    of the environment decide (``llm_settings``). ``http_client`` (an ``httpx2.Client``, which both SDKs take)
    lets tests answer with a mock transport.
    """
    llm = settings if isinstance(settings, LlmSettings) else llm_settings()
    if llm.provider == "offline":
        return OfflineWriter()
    from strategist.adapters.llm.providers import AnthropicWriter, OpenAIWriter

    if llm.provider == "openai":
        return OpenAIWriter(llm, http_client=http_client)
    return AnthropicWriter(llm, http_client=http_client)
