"""The dashboard's WebSocket API (issue 8, live updates): its REQUEST authorizer on ``$connect`` and the
``$connect`` / ``$disconnect`` / ``$default`` routes.

Browsers cannot set an Authorization header on a WebSocket, so the authorizer takes the access token (or an
``msk_`` API key) from the ``Sec-WebSocket-Protocol`` header (``["msk.bearer", <token>]``; the connect route answers
with the ``msk.bearer`` sub-protocol, as browsers require) or from the ``token`` query-string parameter, and
verifies it exactly as the REST authorizer does. ``$default`` answers ``{"action": "ping"}`` with a pong and keeps
the connection's last_seen current; clients send nothing else."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from strategist import bootstrap
from strategist.adapters.crypto import API_KEY_PREFIX
from strategist.domain.auth import Principal
from strategist.domain.errors import NotAuthenticated
from strategist.services import live, verification

log = logging.getLogger("ws")

SUBPROTOCOL = "msk.bearer"
MAX_MESSAGE = 4096


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in (event.get("headers") or {}).items()}


def token_from(event: dict[str, Any]) -> str | None:
    """The credential of a WebSocket handshake: the sub-protocol after ``msk.bearer``, the ``token`` query-string
    parameter, or a bearer Authorization header (non-browser clients)."""
    headers = _headers(event)
    protocols = [p.strip() for p in (headers.get("sec-websocket-protocol") or "").split(",") if p.strip()]
    if SUBPROTOCOL in protocols:
        index = protocols.index(SUBPROTOCOL)
        if index + 1 < len(protocols):
            return protocols[index + 1]
    query = event.get("queryStringParameters") or {}
    if query.get("token"):
        return str(query["token"])
    if headers.get("authorization"):
        try:
            return verification.bearer_token(headers["authorization"])
        except NotAuthenticated:
            return None
    return None


def authorize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method_arn = event.get("methodArn", "*")
    token = token_from(event)
    if not token:
        raise Exception("Unauthorized")
    try:
        if token.startswith(API_KEY_PREFIX):
            with bootstrap.unit_of_work() as uow:
                principal = verification.principal_from_api_key(uow, token)
        else:
            principal = verification.principal_from_jwt(bootstrap.key_ring(), bootstrap.settings(), token)
            with (
                bootstrap.unit_of_work() as uow
            ):  # as the REST authorizer: the user still exists, active, same role
                verification.require_current_user(uow, principal)
    except NotAuthenticated as exc:
        log.info("websocket connect denied: %s", exc.message)
        raise Exception("Unauthorized") from exc
    return {
        "principalId": principal.actor,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": method_arn}],
        },
        "context": principal.to_context(),
    }


def _reply(
    status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"statusCode": status}
    if body is not None:
        out["body"] = json.dumps(body)
    if headers:
        out["headers"] = headers
    return out


def _tenant(ctx: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(ctx.get("tenant_id")))
    except ValueError:
        return None


def connect(event: dict[str, Any]) -> dict[str, Any]:
    rc = event["requestContext"]
    ctx = rc.get("authorizer") or {}
    if _tenant(ctx) is None:
        return _reply(401)
    principal = Principal.from_context(ctx)
    identity = rc.get("identity") or {}
    endpoint = f"https://{rc.get('domainName', '')}/{rc.get('stage', '')}"
    with bootstrap.unit_of_work(principal=principal) as uow:
        live.register(
            uow,
            principal,
            rc["connectionId"],
            endpoint=endpoint,
            source_ip=identity.get("sourceIp"),
            user_agent=identity.get("userAgent") or _headers(event).get("user-agent"),
        )
    protocols = [p.strip() for p in (_headers(event).get("sec-websocket-protocol") or "").split(",")]
    return _reply(200, headers={"Sec-WebSocket-Protocol": SUBPROTOCOL} if SUBPROTOCOL in protocols else None)


def disconnect(event: dict[str, Any]) -> dict[str, Any]:
    rc = event["requestContext"]
    tenant_id = _tenant(rc.get("authorizer") or {})
    if tenant_id is not None:
        with bootstrap.system_unit_of_work("ws_disconnect") as uow:
            live.unregister(uow, tenant_id, rc["connectionId"])
    return _reply(200)


def default(event: dict[str, Any]) -> dict[str, Any]:
    rc = event["requestContext"]
    raw = event.get("body") or ""
    if len(raw) > MAX_MESSAGE:
        return _reply(400, {"type": "error", "message": f"messages are at most {MAX_MESSAGE} bytes"})
    try:
        message = json.loads(raw)
    except ValueError:
        return _reply(400, {"type": "error", "message": 'the message is not JSON; send {"action": "ping"}'})
    action = message.get("action") if isinstance(message, dict) else None
    if action != "ping":
        return _reply(
            400, {"type": "error", "message": f'unknown action {action!r}; send {{"action": "ping"}}'}
        )
    tenant_id = _tenant(rc.get("authorizer") or {})
    if tenant_id is not None:
        with bootstrap.system_unit_of_work("ws_default") as uow:
            live.touch(uow, tenant_id, rc["connectionId"])
    return _reply(200, {"type": "pong"})


ROUTES = {"$connect": connect, "$disconnect": disconnect, "$default": default}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    route = (event.get("requestContext") or {}).get("routeKey", "$default")
    return ROUTES.get(route, default)(event)
