"""Language-model and embedding settings, read from the environment by this package alone.

They live here rather than in ``strategist.config`` so the narrative writers can be configured without touching
the settings every handler loads; ``get_writer`` accepts either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

Provider = Literal["offline", "openai", "anthropic"]

#: Defaults when LLM_MODEL is not set: small, cheap models (prose around given figures needs no more).
DEFAULT_MODELS: dict[str, str] = {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5"}
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"


@dataclass(frozen=True)
class LlmSettings:
    provider: Provider = "offline"
    model: str | None = None
    #: Per attempt; the SDK retries up to ``max_retries`` times, so the worst case is about 3x this plus backoff.
    timeout_s: float = 20.0
    max_retries: int = 2
    #: Tokens (input + output, all providers) one tenant may spend per calendar month (UTC).
    monthly_token_cap: int = 1_000_000
    max_output_tokens: int = 900
    openai_api_key: str = ""
    anthropic_api_key: str = ""
    embedding_provider: Literal["offline", "openai"] = "offline"
    embedding_model: str = DEFAULT_EMBEDDING_MODEL

    @property
    def model_id(self) -> str | None:
        if self.provider == "offline":
            return None
        return self.model or DEFAULT_MODELS[self.provider]


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "").strip().lower() or default
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def llm_settings() -> LlmSettings:
    """The current environment's settings (read on every call: cheap, and tests change the environment)."""
    env = os.environ.get
    return LlmSettings(
        provider=_choice("LLM_PROVIDER", ("offline", "openai", "anthropic"), "offline"),  # type: ignore[arg-type]
        model=env("LLM_MODEL") or None,
        timeout_s=float(env("LLM_TIMEOUT_S") or 20),
        max_retries=min(int(env("LLM_MAX_RETRIES") or 2), 2),
        monthly_token_cap=int(env("LLM_MONTHLY_TOKEN_CAP") or 1_000_000),
        max_output_tokens=int(env("LLM_MAX_OUTPUT_TOKENS") or 900),
        openai_api_key=env("OPENAI_API_KEY", ""),
        anthropic_api_key=env("ANTHROPIC_API_KEY", ""),
        embedding_provider=_choice("EMBEDDING_PROVIDER", ("offline", "openai"), "offline"),  # type: ignore[arg-type]
        embedding_model=env("EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL,
    )
