"""POST /api/v1/assistant/chat and the stored conversations (issue 7).

An answer's figures all come from tool results (the service's own analytics, insights, pacing, forecast and budget
optimizer); ``citations`` name, for each figure, the tool, its arguments and the figure's path in the result."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from strategist.http.schemas.common import Out, PageQuery, Strict


class ChatRequest(Strict):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID = Field(description="The client the question is about (a client viewer: its own).")
    message: str = Field(min_length=1, max_length=2000, description="The question, in plain English.")
    conversation_id: uuid.UUID | None = Field(
        None, description="Continue one of your conversations (same client); omit to start a new one."
    )


class Citation(Out):
    id: str = Field(description="The marker in the text ([c1]) for offline answers.")
    text: str = Field(description="The figure as written in the answer.")
    tool: str
    arguments: dict[str, Any]
    path: str = Field(description="Where the figure is in the tool's result (dot-separated).")
    value: Any


class ToolCallOut(Out):
    tool: str
    arguments: dict[str, Any]
    ok: bool
    error: str | None = None


class WriterOut(Out):
    mode: str = Field(description="offline, openai or anthropic: who wrote the prose.")
    model: str | None = None
    fell_back: bool = False
    reason: str | None = Field(None, description="Why a provider's text was not used.")
    input_tokens: int | None = None
    output_tokens: int | None = None


class MessageOut(Out):
    id: uuid.UUID
    role: str
    content: str
    intent: str | None = None
    tool_calls: list[ToolCallOut] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    writer: dict[str, Any] = Field(default_factory=dict)
    created_at: dt.datetime


class ChatOut(Out):
    conversation_id: uuid.UUID
    client_id: uuid.UUID
    question: MessageOut
    answer: MessageOut


class ConversationSummary(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    title: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ConversationOut(ConversationSummary):
    messages: list[MessageOut]


class ConversationListQuery(PageQuery):
    client_id: uuid.UUID | None = None
