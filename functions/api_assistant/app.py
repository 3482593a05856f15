"""The AI assistant (issue 7): natural-language questions about one client answered from the service's own
functions, every figure cited; conversations stored per caller. The work is in strategist.services.assistant."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist.domain.auth import Scope
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.assistant import ChatOut, ChatRequest, ConversationListQuery, ConversationOut
from strategist.http.schemas.common import Page
from strategist.services.assistant import service as svc

app = Chalice(app_name="api_assistant")
api = Api(app)
ID = {"conversation_id": uuid.UUID}
TAGS = ("assistant",)


@api.route(
    "/api/v1/assistant/chat",
    "POST",
    summary="Ask about a client's performance; every figure in the answer comes from a cited tool result",
    body=ChatRequest,
    response=ChatOut,
    envelope_key="chat",
    tags=TAGS,
    scope=Scope.READ,  # asking is reading; the one tool that records something (what-if) checks write itself
)
def chat(ctx: RequestCtx) -> Result:
    """Offline (the default) recognises: why a KPI rose or fell, how the client or a platform is doing, what
    moving a share of budget between platforms would do, pacing, the best/worst campaign by a KPI, a forecast to
    month end, and experiments. With LLM_PROVIDER set, the model plans the tool calls and writes the prose; text
    stating a figure no tool returned is rejected and the offline answer given, with the reason."""
    return Result(svc.chat(ctx.uow, ctx.me, ctx.body), message="Answered")


@api.route(
    "/api/v1/assistant/conversations",
    "GET",
    summary="Your conversations with the assistant, newest first, paginated",
    query=ConversationListQuery,
    response=Page,
    envelope_key="conversations",
    tags=TAGS,
)
def list_conversations(ctx: RequestCtx) -> Page:
    items, next_cursor = svc.list_conversations(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=next_cursor)


@api.route(
    "/api/v1/assistant/conversations/{conversation_id}",
    "GET",
    summary="One of your conversations with every question, answer, tool call and citation",
    response=ConversationOut,
    path_params=ID,
    envelope_key="conversation",
    tags=TAGS,
)
def get_conversation(ctx: RequestCtx) -> dict:
    return svc.get_conversation(ctx.uow, ctx.me, ctx.path["conversation_id"])
