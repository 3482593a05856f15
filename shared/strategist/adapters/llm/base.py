"""What every narrative writer returns and the ports it uses; shared by the offline and the provider writers."""

from __future__ import annotations

import uuid
from importlib import resources
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from strategist.adapters.llm.facts import BudgetFacts, StrategyFacts

#: The prompt version each kind uses. A prompt change is a new file (strategy.v2.md) and a bump here, so a stored
#: narrative always names the exact instructions it was written under.
PROMPT_VERSIONS: dict[str, str] = {"strategy": "v1", "budget_optimization": "v1"}
#: The offline templates' version, bumped whenever their wording changes.
OFFLINE_VERSION = "offline.v1"


class NarrativeResult(BaseModel):
    """A narrative and how it was produced. ``text`` is prose for people: never parse figures out of it."""

    model_config = ConfigDict(frozen=True)

    text: str
    writer: Literal["offline", "openai", "anthropic"]
    model: str | None = None
    #: True when a provider was tried (or chosen) but the offline text is what came back.
    fell_back: bool = False
    #: Why it fell back (cap reached, timeout, a figure not in the facts, provider error), else None.
    reason: str | None = None
    #: "strategy.v1" for a provider's text; "strategy.offline.v1" for the offline templates.
    prompt_version: str
    input_tokens: int | None = None
    output_tokens: int | None = None


class UsagePort(Protocol):
    """Per-tenant monthly token accounting (Postgres: ``strategist.services.llm_usage.PostgresLlmUsage``)."""

    def reserve(self, tenant_id: uuid.UUID, provider: str, estimated_tokens: int) -> bool:
        """Whether the tenant may spend about ``estimated_tokens`` more this month."""
        ...

    def record(self, tenant_id: uuid.UUID, provider: str, input_tokens: int, output_tokens: int) -> None:
        """Adds what a call actually used."""
        ...


class NarrativeWriter(Protocol):
    name: str

    def write(
        self,
        *,
        kind: str,
        facts: StrategyFacts | BudgetFacts | dict[str, Any],
        tenant_id: uuid.UUID | None = None,
        usage: UsagePort | None = None,
    ) -> NarrativeResult: ...


def load_prompt(kind: str) -> tuple[str, str]:
    """(prompt text, version label such as "strategy.v1") from the package's prompts/ directory."""
    try:
        version = PROMPT_VERSIONS[kind]
    except KeyError:
        raise ValueError(f"no prompt for narrative kind {kind!r}") from None
    name = f"{kind}.{version}"
    text = resources.files("strategist.adapters.llm").joinpath("prompts", f"{name}.md").read_text("utf-8")
    return text.strip(), name
