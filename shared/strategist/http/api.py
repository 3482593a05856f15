"""What every Chalice app shares: a route decorator that parses, validates, authorizes, runs the handler in a
unit of work (with Idempotency-Key support) and shapes the envelope. It also records each operation so the
OpenAPI document is generated from the same pydantic models that validate requests."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Chalice, Response
from pydantic import BaseModel, ValidationError

from strategist.domain.auth import Principal, Role, Scope
from strategist.domain.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    NotAuthenticated,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from strategist.http.envelope import error_body, error_from_domain, success_body, to_json

log = logging.getLogger("strategist.http")

JSON_TYPES = ("application/json",)
IDEMPOTENCY_TTL_HOURS = 24


@dataclass
class Result:
    """What a handler may return instead of a bare model: a status, a message, extra headers."""

    data: Any
    status: int = 200
    message: str = "OK"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RequestCtx:
    principal: Principal | None
    body: Any
    query: Any
    path: dict[str, Any]
    headers: dict[str, str]
    request_id: str
    uow: Any  # strategist.adapters.db.uow.UnitOfWork; typed loosely so the health route can run without one
    raw_body: bytes = b""
    content_type: str = "application/json"

    @property
    def me(self) -> Principal:
        if self.principal is None:
            raise NotAuthenticated("authentication required")
        return self.principal


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    summary: str
    handler_name: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    path_params: dict[str, type]
    response: Any
    status: int
    auth: bool
    min_role: Role
    scope: Scope | None
    envelope_key: str | None
    tags: tuple[str, ...]
    content_types: tuple[str, ...]
    description: str = ""
    guard: Callable[[RequestCtx], Any] | None = None
    html: bool = False  # the handler may answer with a text/html page (public pages for people, not programs)


def validation_problems(exc: ValidationError, prefix: str) -> list[FieldProblem]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
        name = f"{prefix}.{loc}" if prefix and loc else (loc or prefix)
        problems.append(FieldProblem(name, err["msg"]))
    return problems


def _validate(model: type[BaseModel], data: Any, prefix: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, prefix)
        raise ValidationFailed(
            "; ".join(f"{p.field}: {p.reason}" for p in problems), fields=problems
        ) from exc


def _nul_path(value: Any, path: str) -> str | None:
    """Where a NUL character hides in parsed JSON: PostgreSQL text cannot hold one, so it is refused up front."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = f"{path}.{key}" if "\x00" in str(key) else _nul_path(item, f"{path}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_path(item, f"{path}.{i}")
            if found:
                return found
    return None


#: No request body of this API nests deeper than a handful of levels; a JSON bomb nests thousands deep.
MAX_JSON_DEPTH = 64


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse {"role": "viewer", "role": "owner"}: parsers disagree on which one wins, so neither is taken."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return out


def _too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Iterative, so the check itself cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _parse_json_body(model: type[BaseModel], raw: bytes) -> tuple[Any, ValidationFailed | None]:
    """Body problems are returned, not raised: the route's guard decides first whether the caller may even
    learn that the target exists."""
    try:
        try:
            data = json.loads(raw, object_pairs_hook=_unique_keys)
        except DuplicateKey as dup:
            return None, ValidationFailed.one(f"body.{dup.key}", "appears more than once in the object")
        except RecursionError:
            return None, ValidationFailed.one("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if _too_deep(data):
            return None, ValidationFailed.one("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        nul = _nul_path(data, "body")
        if nul is not None:
            return None, ValidationFailed.one(nul, "must not contain the NUL character (\\u0000)")
        return _validate(model, data, "body"), None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = (
            f"malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else "body is not UTF-8"
        )
        return None, ValidationFailed.one("body", reason)
    except ValidationFailed as exc:
        return None, exc


def _response(
    status: int, body: dict[str, Any], request_id: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        body=to_json(body),
        status_code=status,
        headers={"Content-Type": "application/json", "X-Request-Id": request_id, **(headers or {})},
    )


class Api:
    """Wraps one Chalice app. `uow_factory(principal, request_id)` opens a unit of work for the caller."""

    def __init__(self, app: Chalice, *, uow_factory: Callable[..., Any] | None = None) -> None:
        self.app = app
        self.operations: list[Operation] = []
        self._uow_factory = uow_factory

    def _open_uow(self, principal: Principal | None, request_id: str) -> Any:
        if self._uow_factory is None:
            from strategist.bootstrap import unit_of_work

            self._uow_factory = unit_of_work
        return self._uow_factory(principal=principal, request_id=request_id)

    def route(
        self,
        path: str,
        method: str,
        *,
        summary: str,
        response: Any = None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        path_params: dict[str, type] | None = None,
        status: int = 200,
        auth: bool = True,
        min_role: Role = Role.CLIENT_VIEWER,
        scope: Scope | None = None,
        envelope_key: str | None = None,
        tags: tuple[str, ...] = (),
        content_types: tuple[str, ...] = JSON_TYPES,
        use_db: bool = True,
        guard: Callable[[RequestCtx], Any] | None = None,
        html: bool = False,
    ) -> Callable[[Callable[[RequestCtx], Any]], Callable[..., Response]]:
        method = method.upper()
        if scope is None and auth:
            scope = Scope.READ if method in {"GET", "HEAD"} else Scope.WRITE
        params = path_params or {}

        def decorator(fn: Callable[[RequestCtx], Any]) -> Callable[..., Response]:
            op = Operation(
                path=path,
                method=method,
                summary=summary,
                handler_name=fn.__name__,
                body=body,
                query=query,
                path_params=params,
                response=response,
                status=status,
                auth=auth,
                min_role=min_role,
                scope=scope,
                envelope_key=envelope_key,
                tags=tags,
                content_types=content_types,
                description=(fn.__doc__ or "").strip(),
                guard=guard,
                html=html,
            )
            self.operations.append(op)

            def view(**uri_params: str) -> Response:
                return self._dispatch(op, fn, uri_params, use_db)

            view.__name__ = fn.__name__
            self.app.route(path, methods=[method], content_types=["*/*"])(view)
            return view

        return decorator

    # -- the request pipeline ----------------------------------------------------------------------------
    def _dispatch(
        self, op: Operation, fn: Callable[[RequestCtx], Any], uri_params: dict[str, str], use_db: bool
    ) -> Response:
        request = self.app.current_request
        context = request.context or {}
        request_id = str(context.get("requestId") or uuid.uuid4())
        headers = {k.lower(): v for k, v in (request.headers or {}).items()}
        try:
            ctx, invalid_body = self._parse(op, request, context, headers, uri_params, request_id)
            if not use_db:
                if invalid_body is not None:
                    raise invalid_body
                return self._shape(op, fn(ctx), request_id)
            with self._open_uow(ctx.principal, request_id) as uow:
                ctx.uow = uow
                if op.guard is not None:
                    # Who may touch the resource in the path is settled before what is wrong with the body:
                    # an outsider gets 404, never a schema lesson about someone else's object.
                    op.guard(ctx)
                if invalid_body is not None:
                    raise invalid_body
                key = headers.get("idempotency-key")
                if key and op.method == "POST" and ctx.principal is not None:
                    return self._idempotent(
                        op, fn, ctx, key, request.path if hasattr(request, "path") else op.path
                    )
                return self._shape(op, fn(ctx), request_id)
        except DomainError as exc:
            status, payload = error_from_domain(exc)
            extra = {"Retry-After": str(exc.retry_after_s)} if hasattr(exc, "retry_after_s") else {}
            if status >= 500:
                log.error("domain error mapped to %s", status, extra={"request_id": request_id})
            return _response(status, payload, request_id, extra)
        except Exception:
            log.exception(
                "unhandled error", extra={"request_id": request_id, "route": f"{op.method} {op.path}"}
            )
            return _response(
                500,
                error_body("internal_error", f"internal error; quote request id {request_id}"),
                request_id,
            )

    def _parse(
        self,
        op: Operation,
        request: Any,
        context: dict[str, Any],
        headers: dict[str, str],
        uri_params: dict[str, str],
        request_id: str,
    ) -> tuple[RequestCtx, ValidationFailed | None]:
        from strategist.config import get_settings

        principal: Principal | None = None
        if op.auth:
            authorizer = context.get("authorizer") or {}
            if not authorizer.get("tenant_id"):
                raise NotAuthenticated("authentication required")
            principal = Principal.from_context(authorizer)
            if op.scope is not None:
                principal.require_scope(op.scope)
            principal.require_role(op.min_role)

        raw = request.raw_body or b""
        if isinstance(raw, str):
            raw = raw.encode()
        if len(raw) > get_settings().max_body_bytes:
            raise PayloadTooLarge(
                f"request body is {len(raw)} bytes; the limit is {get_settings().max_body_bytes}"
            )
        content_type = (headers.get("content-type") or "application/json").split(";")[0].strip().lower()

        parsed_body: Any = None
        invalid_body: ValidationFailed | None = None
        if op.body is not None:
            if content_type not in op.content_types:
                raise UnsupportedMediaType(
                    f"Content-Type '{content_type}' is not accepted here; use {', '.join(op.content_types)}"
                )
            if content_type == "application/json":
                if not raw.strip():
                    invalid_body = ValidationFailed.one("body", "a JSON object is required")
                else:
                    parsed_body, invalid_body = _parse_json_body(op.body, raw)
        query_params = dict(request.query_params or {})
        nul = _nul_path(query_params, "query")
        if nul is not None:
            raise ValidationFailed.one(nul, "must not contain the NUL character")
        parsed_query = _validate(op.query, query_params, "query") if op.query is not None else None
        if op.query is None and query_params and op.auth:
            # tenant_id is accepted everywhere for compatibility with the brief; anything else is a mistake.
            unknown = sorted(set(query_params) - {"tenant_id"})
            if unknown:
                raise ValidationFailed(
                    f"unknown query parameter(s): {', '.join(unknown)}",
                    fields=[FieldProblem(f"query.{u}", "unknown parameter") for u in unknown],
                )
        if principal is not None:
            principal.require_tenant(query_params.get("tenant_id"))
            if parsed_body is not None and hasattr(parsed_body, "tenant_id"):
                principal.require_tenant(parsed_body.tenant_id)
        path_values: dict[str, Any] = {}
        for name, kind in op.path_params.items():
            value = uri_params.get(name, "")
            try:
                path_values[name] = kind(value)
            except (ValueError, TypeError) as exc:
                raise ValidationFailed.one(
                    f"path.{name}", f"'{value[:60]}' is not a valid {kind.__name__}"
                ) from exc
        return RequestCtx(
            principal=principal,
            body=parsed_body,
            query=parsed_query,
            path=path_values,
            headers=headers,
            request_id=request_id,
            uow=None,
            raw_body=raw,
            content_type=content_type,
        ), invalid_body

    def _shape(self, op: Operation, result: Any, request_id: str) -> Response:
        if isinstance(result, Response):
            return result
        if not isinstance(result, Result):
            result = Result(result, status=op.status)
        if result.status == 204:
            return Response(body="", status_code=204, headers={"X-Request-Id": request_id, **result.headers})
        return _response(
            result.status,
            success_body(result.data, message=result.message, key=op.envelope_key),
            request_id,
            result.headers,
        )

    def _idempotent(
        self, op: Operation, fn: Callable[[RequestCtx], Any], ctx: RequestCtx, key: str, path: str
    ) -> Response:
        """Same key + same body replays the stored response; a different body under the same key is a 409.
        The key row is inserted first, in the handler's own transaction: a concurrent duplicate waits on the
        unique index and then sees the finished response."""
        import datetime as dt

        from sqlalchemy import select
        from sqlalchemy.dialects.postgresql import insert

        from strategist.adapters.db.models import IdempotencyKey

        if len(key) > 255 or not key.strip():
            raise ValidationFailed.one("header.Idempotency-Key", "must be 1-255 characters")
        principal = ctx.me
        request_hash = hashlib.sha256(
            b"%s %s\n" % (op.method.encode(), path.encode()) + ctx.raw_body
        ).hexdigest()
        session = ctx.uow.session
        inserted = session.execute(
            insert(IdempotencyKey)
            .values(
                tenant_id=principal.tenant_id,
                key=key,
                method=op.method,
                path=path,
                request_hash=request_hash,
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=IDEMPOTENCY_TTL_HOURS),
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.key)
        ).first()
        if inserted is None:
            row = session.scalars(
                select(IdempotencyKey).where(
                    IdempotencyKey.tenant_id == principal.tenant_id, IdempotencyKey.key == key
                )
            ).one()
            if row.request_hash != request_hash:
                raise Conflict("Idempotency-Key was already used with a different request")
            if row.status_code is None:
                raise Conflict("a request with this Idempotency-Key is still in progress")
            return _response(
                row.status_code, row.response_body or {}, ctx.request_id, {"Idempotent-Replayed": "true"}
            )
        response = self._shape(op, fn(ctx), ctx.request_id)
        body = json.loads(response.body) if response.body else {}
        session.execute(
            IdempotencyKey.__table__.update()
            .where(IdempotencyKey.tenant_id == principal.tenant_id, IdempotencyKey.key == key)
            .values(status_code=response.status_code, response_body=body)
        )
        return response
