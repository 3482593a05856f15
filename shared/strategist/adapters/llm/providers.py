"""Provider writers over the official SDKs (``openai``, ``anthropic``), with the offline writer as their floor.

A provider is an optional polish, never a dependency: any reason not to use its text -- no API key, no way to
account the tokens, the tenant's monthly cap, a timeout after the SDK's retries, an error, an empty or cut-off
answer, or a figure that is not in the facts -- returns the offline text with ``fell_back=True`` and the reason.

The SDKs are imported on first use: they cost a second or two of cold start that the offline path never pays.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from strategist.adapters.llm.base import NarrativeResult, UsagePort, load_prompt
from strategist.adapters.llm.facts import BudgetFacts, StrategyFacts, coerce_facts
from strategist.adapters.llm.guard import check_text
from strategist.adapters.llm.offline import OfflineWriter
from strategist.adapters.llm.settings import LlmSettings


def openai_client(settings: LlmSettings, api_key: str, http_client: Any) -> Any:
    """The official SDK client with our timeout and retry budget; the narrative writer and the assistant share it."""
    import openai

    return openai.OpenAI(
        api_key=api_key, timeout=settings.timeout_s, max_retries=settings.max_retries, http_client=http_client
    )


def anthropic_client(settings: LlmSettings, api_key: str, http_client: Any) -> Any:
    import anthropic

    return anthropic.Anthropic(
        api_key=api_key, timeout=settings.timeout_s, max_retries=settings.max_retries, http_client=http_client
    )


log = logging.getLogger("strategist.llm")

#: Characters per token assumed when reserving tokens before a call. JSON full of digits tokenizes densely, so
#: this errs high: a reservation should over- rather than under-estimate.
CHARS_PER_TOKEN = 3


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    #: The answer stopped at the output-token limit (the prose is cut mid-sentence).
    truncated: bool = False


class ProviderTimeout(Exception):
    """The provider did not answer within the timeout, retries included."""


def user_message(facts: StrategyFacts | BudgetFacts) -> str:
    """The facts as the model sees them: JSON, money as strings (exact), nothing else to draw figures from."""
    body = json.dumps(facts.model_dump(mode="json", exclude_none=True), ensure_ascii=False, indent=1)
    return f"Facts (JSON):\n{body}\n\nWrite the narrative now: prose only, figures only from these facts."


def estimate_tokens(*texts: str) -> int:
    return math.ceil(sum(len(t) for t in texts) / CHARS_PER_TOKEN)


class ProviderWriter(ABC):
    """The common path; subclasses only make the one SDK call."""

    name: str
    api_key_env: str

    def __init__(
        self, settings: LlmSettings, *, http_client: Any = None, offline: OfflineWriter | None = None
    ) -> None:
        self.settings = settings
        self.model = settings.model_id or ""
        self._http_client = http_client
        self._offline = offline or OfflineWriter()
        self._client: Any = None

    @property
    @abstractmethod
    def api_key(self) -> str: ...

    @abstractmethod
    def _make_client(self) -> Any: ...

    @abstractmethod
    def _complete(self, client: Any, system: str, user: str) -> Completion: ...

    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _fallback(
        self,
        kind: str,
        facts: StrategyFacts | BudgetFacts,
        reason: str,
        completion: Completion | None = None,
    ) -> NarrativeResult:
        log.info(
            "narrative falls back to the offline writer", extra={"provider": self.name, "reason": reason}
        )
        offline = self._offline.write(kind=kind, facts=facts)
        return offline.model_copy(
            update={
                "fell_back": True,
                "reason": f"{self.name}: {reason}",
                "input_tokens": completion.input_tokens if completion else None,
                "output_tokens": completion.output_tokens if completion else None,
            }
        )

    def write(
        self,
        *,
        kind: str,
        facts: StrategyFacts | BudgetFacts | dict[str, Any],
        tenant_id: uuid.UUID | None = None,
        usage: UsagePort | None = None,
    ) -> NarrativeResult:
        model_facts = coerce_facts(kind, facts)
        system, version = load_prompt(kind)
        user = user_message(model_facts)
        if not self.api_key:
            return self._fallback(kind, model_facts, f"no API key ({self.api_key_env} is not set)")
        if tenant_id is None or usage is None:
            return self._fallback(
                kind, model_facts, "no tenant and usage port to enforce the monthly token cap"
            )
        estimate = estimate_tokens(system, user) + self.settings.max_output_tokens
        if not usage.reserve(tenant_id, self.name, estimate):
            return self._fallback(kind, model_facts, "the tenant's monthly token cap is reached")
        try:
            completion = self._complete(self.client(), system, user)
        except ProviderTimeout:
            return self._fallback(
                kind, model_facts, f"timeout ({self.settings.timeout_s:g} s per attempt, retries included)"
            )
        except Exception as exc:  # a narrative never fails the plan it describes
            log.warning("provider call failed", exc_info=True, extra={"provider": self.name})
            return self._fallback(
                kind, model_facts, f"provider error: {type(exc).__name__}: {str(exc)[:200]}"
            )
        usage.record(tenant_id, self.name, completion.input_tokens, completion.output_tokens)
        text = completion.text.strip()
        if not text:
            return self._fallback(kind, model_facts, "empty answer", completion)
        if completion.truncated:
            return self._fallback(kind, model_facts, "answer cut off at the output token limit", completion)
        check = check_text(text, model_facts)
        if not check.ok:
            return self._fallback(kind, model_facts, check.reason or "figure check failed", completion)
        return NarrativeResult(
            text=text,
            writer=self.name,  # type: ignore[arg-type]
            model=self.model,
            prompt_version=version,
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
        )


class OpenAIWriter(ProviderWriter):
    name = "openai"
    api_key_env = "OPENAI_API_KEY"

    @property
    def api_key(self) -> str:
        return self.settings.openai_api_key

    def _make_client(self) -> Any:
        return openai_client(self.settings, self.api_key, self._http_client)

    def _complete(self, client: Any, system: str, user: str) -> Completion:
        import openai

        try:
            response = client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                max_completion_tokens=self.settings.max_output_tokens,
            )
        except openai.APITimeoutError as exc:
            raise ProviderTimeout(str(exc)) from exc
        choice = response.choices[0] if response.choices else None
        usage = response.usage
        return Completion(
            text=(choice.message.content or "") if choice else "",
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            truncated=bool(choice and choice.finish_reason == "length"),
        )


class AnthropicWriter(ProviderWriter):
    name = "anthropic"
    api_key_env = "ANTHROPIC_API_KEY"

    @property
    def api_key(self) -> str:
        return self.settings.anthropic_api_key

    def _make_client(self) -> Any:
        return anthropic_client(self.settings, self.api_key, self._http_client)

    def _complete(self, client: Any, system: str, user: str) -> Completion:
        import anthropic

        try:
            message = client.messages.create(
                model=self.model,
                max_tokens=self.settings.max_output_tokens,
                system=system,
                messages=[{"role": "user", "content": user}],
            )
        except anthropic.APITimeoutError as exc:
            raise ProviderTimeout(str(exc)) from exc
        text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
        return Completion(
            text=text,
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
            truncated=message.stop_reason == "max_tokens",
        )
