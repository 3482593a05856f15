"""Tool calling over the official SDKs: the model plans which of the service's own functions to call and writes
prose around their results; it never computes a figure itself.

    chat = get_tool_chat(settings, http_client=...)
    outcome = chat.run(system=..., history=[...], question=..., tools=[ToolDef(...)], execute=fn,
                       tenant_id=..., usage=...)

``execute(name, arguments)`` runs one tool for the caller (the service decides what the caller may see) and returns
a JSON-able dict, or raises ``ToolError`` whose message goes back to the model. The loop stops after
``MAX_ROUNDS`` rounds of tool calls. Every round reserves tokens against the tenant's monthly cap first; a refusal,
a timeout, an error or a cut-off answer ends the run with ``ok=False`` and the reason, and the caller falls back
to its offline answer. The text is *not* checked here: the caller checks it against the tool results (``guard``).

Wire shapes (recorded in tests/unit/llm/test_tool_calling.py):
- OpenAI chat completions: ``tools=[{"type": "function", "function": {"name", "description", "parameters"}}]``;
  an answer with ``finish_reason == "tool_calls"`` carries ``message.tool_calls[i] = {"id", "type": "function",
  "function": {"name", "arguments": "<JSON string>"}}``; each result goes back as ``{"role": "tool",
  "tool_call_id", "content"}`` after the assistant message that asked for it.
- Anthropic messages: ``tools=[{"name", "description", "input_schema"}]``; an answer with ``stop_reason ==
  "tool_use"`` has content blocks ``{"type": "tool_use", "id", "name", "input": {...}}``; results go back in one user
  message of ``{"type": "tool_result", "tool_use_id", "content", "is_error"}`` blocks.
"""

from __future__ import annotations

import json
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strategist.adapters.llm.base import UsagePort
from strategist.adapters.llm.providers import (
    ProviderTimeout,
    anthropic_client,
    estimate_tokens,
    openai_client,
)
from strategist.adapters.llm.settings import LlmSettings, llm_settings

log = logging.getLogger("strategist.llm")

#: Rounds of tool calls one question may take before the model must answer.
MAX_ROUNDS = 4
#: Tool results sent back to the model are cut to this many characters (they stay whole for the figure check).
MAX_RESULT_CHARS = 12_000


class ToolError(Exception):
    """A tool refused its arguments or found nothing; the message is shown to the model."""


@dataclass(frozen=True)
class ToolDef:
    name: str
    description: str
    #: JSON schema of the arguments (from the tool's pydantic model).
    parameters: dict[str, Any]


@dataclass
class ToolCallRecord:
    name: str
    arguments: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None
    call_id: str = ""


@dataclass
class ChatOutcome:
    ok: bool
    text: str = ""
    reason: str | None = None
    calls: list[ToolCallRecord] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    provider: str = ""
    model: str = ""


Execute = Callable[[str, dict[str, Any]], dict[str, Any]]


def _run_tool(execute: Execute, name: str, raw_args: Any, call_id: str) -> ToolCallRecord:
    args: dict[str, Any]
    if isinstance(raw_args, str):
        try:
            args = json.loads(raw_args or "{}")
        except json.JSONDecodeError as exc:
            return ToolCallRecord(name, {}, error=f"arguments are not JSON: {exc.msg}", call_id=call_id)
    else:
        args = dict(raw_args or {})
    if not isinstance(args, dict):
        return ToolCallRecord(name, {}, error="arguments must be a JSON object", call_id=call_id)
    try:
        return ToolCallRecord(name, args, result=execute(name, args), call_id=call_id)
    except ToolError as exc:
        return ToolCallRecord(name, args, error=str(exc), call_id=call_id)


def result_text(record: ToolCallRecord) -> str:
    if record.error is not None:
        return json.dumps({"error": record.error})
    text = json.dumps(record.result, default=str, ensure_ascii=False)
    return text if len(text) <= MAX_RESULT_CHARS else text[:MAX_RESULT_CHARS] + " ...(cut)"


class ToolChat(ABC):
    name: str
    api_key_env: str

    def __init__(self, settings: LlmSettings, *, http_client: Any = None) -> None:
        self.settings = settings
        self.model = settings.model_id or ""
        self._http_client = http_client
        self._client: Any = None

    @property
    @abstractmethod
    def api_key(self) -> str: ...

    @abstractmethod
    def _make_client(self) -> Any: ...

    @abstractmethod
    def _loop(
        self,
        outcome: ChatOutcome,
        system: str,
        history: list[dict[str, str]],
        tools: list[ToolDef],
        execute: Execute,
        reserve: Callable[[str], bool],
    ) -> None:
        """Runs the rounds, filling ``outcome``; raises ``CapReached``/``ProviderTimeout`` or SDK errors."""

    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def run(
        self,
        *,
        system: str,
        history: list[dict[str, str]],
        tools: list[ToolDef],
        execute: Execute,
        tenant_id: uuid.UUID | None,
        usage: UsagePort | None,
    ) -> ChatOutcome:
        """``history`` is [{"role": "user"|"assistant", "content": str}, ...] ending with the question."""
        outcome = ChatOutcome(ok=False, provider=self.name, model=self.model)
        if not self.api_key:
            outcome.reason = f"no API key ({self.api_key_env} is not set)"
            return outcome
        if tenant_id is None or usage is None:
            outcome.reason = "no tenant and usage port to enforce the monthly token cap"
            return outcome
        schema_text = json.dumps([t.parameters for t in tools])

        def reserve(messages_text: str) -> bool:
            estimate = estimate_tokens(system, schema_text, messages_text) + self.settings.max_output_tokens
            return usage.reserve(tenant_id, self.name, estimate)

        try:
            self._loop(outcome, system, history, tools, execute, reserve)
        except CapReached:
            outcome.ok, outcome.reason = False, "the tenant's monthly token cap is reached"
        except ProviderTimeout:
            outcome.ok = False
            outcome.reason = f"timeout ({self.settings.timeout_s:g} s per attempt, retries included)"
        except Exception as exc:  # the offline answer is always there
            log.warning("tool-calling chat failed", exc_info=True, extra={"provider": self.name})
            outcome.ok = False
            outcome.reason = f"provider error: {type(exc).__name__}: {str(exc)[:200]}"
        finally:
            if outcome.input_tokens or outcome.output_tokens:
                usage.record(tenant_id, self.name, outcome.input_tokens, outcome.output_tokens)
        return outcome


class CapReached(Exception):
    pass


class OpenAIToolChat(ToolChat):
    name = "openai"
    api_key_env = "OPENAI_API_KEY"

    @property
    def api_key(self) -> str:
        return self.settings.openai_api_key

    def _make_client(self) -> Any:
        return openai_client(self.settings, self.api_key, self._http_client)

    def _loop(
        self,
        outcome: ChatOutcome,
        system: str,
        history: list[dict[str, str]],
        tools: list[ToolDef],
        execute: Execute,
        reserve: Callable[[str], bool],
    ) -> None:
        import openai

        messages: list[dict[str, Any]] = [{"role": "system", "content": system}, *history]
        specs = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
            }
            for t in tools
        ]
        for round_no in range(MAX_ROUNDS + 1):
            if not reserve(json.dumps(messages, default=str)):
                raise CapReached
            try:
                response = self.client().chat.completions.create(
                    model=self.model,
                    messages=messages,
                    tools=specs,
                    # the last round must answer in prose
                    tool_choice="none" if round_no == MAX_ROUNDS else "auto",
                    max_completion_tokens=self.settings.max_output_tokens,
                )
            except openai.APITimeoutError as exc:
                raise ProviderTimeout(str(exc)) from exc
            if response.usage:
                outcome.input_tokens += response.usage.prompt_tokens
                outcome.output_tokens += response.usage.completion_tokens
            choice = response.choices[0] if response.choices else None
            if choice is None:
                outcome.reason = "empty answer"
                return
            calls = choice.message.tool_calls or []
            if calls:
                messages.append(
                    {
                        "role": "assistant",
                        "content": choice.message.content,
                        "tool_calls": [
                            {
                                "id": c.id,
                                "type": "function",
                                "function": {"name": c.function.name, "arguments": c.function.arguments},
                            }
                            for c in calls
                        ],
                    }
                )
                for c in calls:
                    record = _run_tool(execute, c.function.name, c.function.arguments, c.id)
                    outcome.calls.append(record)
                    messages.append({"role": "tool", "tool_call_id": c.id, "content": result_text(record)})
                continue
            if choice.finish_reason == "length":
                outcome.reason = "answer cut off at the output token limit"
                return
            outcome.text = (choice.message.content or "").strip()
            outcome.ok = bool(outcome.text)
            outcome.reason = None if outcome.ok else "empty answer"
            return
        outcome.reason = f"no answer after {MAX_ROUNDS} rounds of tool calls"


class AnthropicToolChat(ToolChat):
    name = "anthropic"
    api_key_env = "ANTHROPIC_API_KEY"

    @property
    def api_key(self) -> str:
        return self.settings.anthropic_api_key

    def _make_client(self) -> Any:
        return anthropic_client(self.settings, self.api_key, self._http_client)

    def _loop(
        self,
        outcome: ChatOutcome,
        system: str,
        history: list[dict[str, str]],
        tools: list[ToolDef],
        execute: Execute,
        reserve: Callable[[str], bool],
    ) -> None:
        import anthropic

        messages: list[dict[str, Any]] = [dict(m) for m in history]
        specs = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools]
        for round_no in range(MAX_ROUNDS + 1):
            if not reserve(json.dumps(messages, default=str)):
                raise CapReached
            try:
                message = self.client().messages.create(
                    model=self.model,
                    max_tokens=self.settings.max_output_tokens,
                    system=system,
                    messages=messages,
                    tools=specs,
                    tool_choice={"type": "none"} if round_no == MAX_ROUNDS else {"type": "auto"},
                )
            except anthropic.APITimeoutError as exc:
                raise ProviderTimeout(str(exc)) from exc
            outcome.input_tokens += message.usage.input_tokens
            outcome.output_tokens += message.usage.output_tokens
            uses = [b for b in message.content if getattr(b, "type", "") == "tool_use"]
            if uses:
                messages.append({"role": "assistant", "content": [b.model_dump() for b in message.content]})
                results = []
                for b in uses:
                    record = _run_tool(execute, b.name, b.input, b.id)
                    outcome.calls.append(record)
                    results.append(
                        {
                            "type": "tool_result",
                            "tool_use_id": b.id,
                            "content": result_text(record),
                            "is_error": record.error is not None,
                        }
                    )
                messages.append({"role": "user", "content": results})
                continue
            if message.stop_reason == "max_tokens":
                outcome.reason = "answer cut off at the output token limit"
                return
            outcome.text = "".join(
                b.text for b in message.content if getattr(b, "type", "") == "text"
            ).strip()
            outcome.ok = bool(outcome.text)
            outcome.reason = None if outcome.ok else "empty answer"
            return
        outcome.reason = f"no answer after {MAX_ROUNDS} rounds of tool calls"


def get_tool_chat(settings: LlmSettings | None = None, *, http_client: Any = None) -> ToolChat | None:
    """The provider's tool chat, or None in offline mode (the default when no provider is configured)."""
    llm = settings or llm_settings()
    if llm.provider == "openai":
        return OpenAIToolChat(llm, http_client=http_client)
    if llm.provider == "anthropic":
        return AnthropicToolChat(llm, http_client=http_client)
    return None
