"""The assistant's chat: a question about one client answered from the service's own functions.

With a language-model provider configured (LLM_PROVIDER=openai|anthropic) the model plans tool calls and writes
the prose; its text must pass the figure check against the tool results, else the offline answer is returned with
the reason (the rejected figure named). Without one (the default) the offline mode recognises the common questions
and answers them from templates. Either way every figure is cited, tools run with the caller's principal for the
conversation's client only, and the question and answer are stored in the caller's conversation.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from sqlalchemy import select

from strategist.adapters.db.models import AssistantConversation, AssistantMessage, Client
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.adapters.llm.guard import check_text
from strategist.adapters.llm.tool_calling import ToolChat, ToolError, get_tool_chat
from strategist.domain.auth import Principal
from strategist.domain.errors import NotFound, ValidationFailed
from strategist.http.schemas.assistant import ChatRequest, ConversationListQuery
from strategist.services.assistant.answers import Call, OfflineAnswer, answer_offline, locate_citations
from strategist.services.assistant.tools import TOOLS, ToolContext, run_tool
from strategist.services.clients import visible_to

HISTORY_MESSAGES = 10
PROMPT_VERSION = "assistant.v1"


def system_prompt(client: Client) -> str:
    """The versioned instructions (adapters/llm/prompts/assistant.v1.md) for this client."""
    from importlib import resources

    text = (
        resources.files("strategist.adapters.llm")
        .joinpath("prompts", f"{PROMPT_VERSION}.md")
        .read_text("utf-8")
    )
    return text.strip().replace("{client}", client.name).replace("{currency}", client.currency)


def _client(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID) -> Client:
    principal.require_client(client_id)
    client = uow.session.scalar(select(Client).where(Client.id == client_id, Client.deleted_at.is_(None)))
    if client is None:
        raise NotFound("client not found")
    return client


def _conversation(uow: UnitOfWork, principal: Principal, conversation_id: uuid.UUID) -> AssistantConversation:
    conv = uow.session.scalar(
        select(AssistantConversation).where(
            AssistantConversation.id == conversation_id, AssistantConversation.owner == principal.actor
        )
    )
    if conv is None or not principal.can_see_client(conv.client_id):
        raise NotFound("conversation not found")
    return conv


def _other_clients_named(uow: UnitOfWork, principal: Principal, client: Client, message: str) -> list[str]:
    """Names of *other* clients the caller can see that the question mentions. Clients the caller cannot see are
    never read, so a viewer naming one learns nothing (the answer is the same as for any unknown word)."""
    stmt = visible_to(select(Client.name), Client.id, principal).where(
        Client.deleted_at.is_(None), Client.id != client.id
    )
    text = message.lower()
    return [
        n
        for n in uow.session.scalars(stmt)
        if len(n) >= 3 and re.search(rf"\b{re.escape(n.lower())}\b", text)
    ]


def _message_out(m: AssistantMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "role": m.role,
        "content": m.content,
        "intent": m.intent,
        "tool_calls": m.tool_calls,
        "citations": m.citations,
        "writer": m.writer,
        "created_at": m.created_at,
    }


def _calls_out(calls: list[Call]) -> list[dict[str, Any]]:
    return [
        {"tool": c.tool, "arguments": c.arguments, "ok": c.error is None, "error": c.error} for c in calls
    ]


def _with_provider(
    chat: ToolChat,
    ctx: ToolContext,
    history: list[dict[str, str]],
    usage: Any,
) -> tuple[str, list[Call], list[dict[str, Any]], dict[str, Any]] | str:
    """The model's answer (text, calls, citations, writer), or the reason it cannot be used."""
    calls: list[Call] = []

    def execute(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        call = Call(name, arguments)
        calls.append(call)
        try:
            call.result = jsonable(run_tool(ctx, name, arguments))
        except ToolError as exc:
            call.error = str(exc)
            raise
        return call.result

    system = system_prompt(ctx.client)
    outcome = chat.run(
        system=system,
        history=history,
        tools=[t.definition() for t in TOOLS.values()],
        execute=execute,
        tenant_id=ctx.principal.tenant_id,
        usage=usage,
    )
    writer = {
        "mode": chat.name,
        "model": chat.model,
        "prompt_version": PROMPT_VERSION,
        "fell_back": False,
        "reason": None,
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
    }
    if not outcome.ok:
        return f"{chat.name}: {outcome.reason}"
    facts = {"results": [c.result for c in calls if c.result is not None]}
    check = check_text(outcome.text, facts)
    if not check.ok:
        return f"{chat.name}: {check.reason}"
    return outcome.text, calls, locate_citations(outcome.text, calls), writer


def chat(
    uow: UnitOfWork,
    principal: Principal,
    body: ChatRequest,
    *,
    now: dt.datetime | None = None,
    tool_chat: ToolChat | None = None,
    usage: Any = None,
) -> dict[str, Any]:
    """``tool_chat``/``usage`` are for tests; by default the environment picks the provider (offline if none)."""
    now = now or dt.datetime.now(dt.UTC)
    client = _client(uow, principal, body.client_id)
    if body.conversation_id is not None:
        conv = _conversation(uow, principal, body.conversation_id)
        if conv.client_id != client.id:
            raise ValidationFailed.one(
                "body.conversation_id", "that conversation is about another client; start a new one"
            )
        previous = list(
            uow.session.scalars(
                select(AssistantMessage)
                .where(AssistantMessage.conversation_id == conv.id)
                .order_by(AssistantMessage.created_at.desc(), AssistantMessage.id.desc())
                .limit(HISTORY_MESSAGES)
            )
        )[::-1]
    else:
        conv = AssistantConversation(
            id=uuid.uuid4(),
            tenant_id=principal.tenant_id,
            client_id=client.id,
            owner=principal.actor,
            title=" ".join(body.message.split())[:200],
            created_at=now,
            updated_at=now,
        )
        uow.session.add(conv)
        uow.session.flush()
        uow.audit(
            "assistant.conversation_started",
            "assistant_conversation",
            conv.id,
            after={"client_id": client.id},
        )
        previous = []

    question = AssistantMessage(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        conversation_id=conv.id,
        role="user",
        content=body.message,
        created_at=now,
    )
    uow.session.add(question)

    ctx = ToolContext(uow, principal, client, now)
    others = _other_clients_named(uow, principal, client, body.message)
    fell_back_reason: str | None = None
    answer: tuple[str, list[Call], list[dict[str, Any]], dict[str, Any]] | None = None
    intent: str | None = None
    if others:
        text = (
            f"This conversation is about {client.name}; it cannot look at {', '.join(others)}. "
            "Start a conversation with that client's id to ask about it."
        )
        answer = (text, [], [], {"mode": "offline", "prompt_version": "assistant.offline.v1"})
        intent = "other_client"
    else:
        provider = tool_chat if tool_chat is not None else get_tool_chat()
        if provider is not None:
            if usage is None:
                from strategist.services.llm_usage import PostgresLlmUsage

                usage = PostgresLlmUsage(uow)
            history = [{"role": m.role, "content": m.content} for m in previous]
            history.append({"role": "user", "content": body.message})
            got = _with_provider(provider, ctx, history, usage)
            if isinstance(got, str):
                fell_back_reason = got
            else:
                answer, intent = got, "model"
        if answer is None:
            off: OfflineAnswer = answer_offline(ctx, body.message)
            intent = off.intent
            answer = (
                off.text,
                off.calls,
                off.citations,
                {
                    "mode": "offline",
                    "prompt_version": "assistant.offline.v1",
                    "fell_back": fell_back_reason is not None,
                    "reason": fell_back_reason,
                },
            )
    text, calls, citations, writer = answer
    reply = AssistantMessage(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        conversation_id=conv.id,
        role="assistant",
        content=text,
        intent=intent,
        tool_calls=jsonable(_calls_out(calls)),
        citations=jsonable(citations),
        writer=jsonable(writer),
        created_at=now + dt.timedelta(microseconds=1),
    )
    uow.session.add(reply)
    conv.updated_at = now
    uow.session.flush()
    return {
        "conversation_id": conv.id,
        "client_id": client.id,
        "question": _message_out(question),
        "answer": _message_out(reply),
    }


def list_conversations(
    uow: UnitOfWork, principal: Principal, query: ConversationListQuery
) -> tuple[list[dict[str, Any]], str | None]:
    stmt = select(AssistantConversation).where(AssistantConversation.owner == principal.actor)
    stmt = visible_to(stmt, AssistantConversation.client_id, principal, query.client_id)
    rows, nxt = keyset_page(
        uow.session, stmt, AssistantConversation, limit=query.limit, cursor=query.cursor, newest_first=True
    )
    return [
        {
            "id": c.id,
            "client_id": c.client_id,
            "title": c.title,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
        }
        for c in rows
    ], nxt


def get_conversation(uow: UnitOfWork, principal: Principal, conversation_id: uuid.UUID) -> dict[str, Any]:
    conv = _conversation(uow, principal, conversation_id)
    messages = uow.session.scalars(
        select(AssistantMessage)
        .where(AssistantMessage.conversation_id == conv.id)
        .order_by(AssistantMessage.created_at, AssistantMessage.id)
    )
    return {
        "id": conv.id,
        "client_id": conv.client_id,
        "title": conv.title,
        "created_at": conv.created_at,
        "updated_at": conv.updated_at,
        "messages": [_message_out(m) for m in messages],
    }
