"""The response envelope of ARCHITECTURE.md §6, one shape for every function."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from strategist.domain.errors import DomainError, FieldProblem

STATUS_BY_CODE: dict[str, int] = {
    "validation_error": 422,
    "bad_request": 400,
    "not_authenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "internal_error": 500,
}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def to_json(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(to_jsonable_python(value), separators=(",", ":"), ensure_ascii=False)


def success_body(data: Any, *, message: str = "OK", key: str | None = None) -> dict[str, Any]:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    body: dict[str, Any] = {"success": True, "data": data, "message": message, "timestamp": now_iso()}
    if key:
        # The brief's examples read e.g. response.json()["strategy"]: keep that working.
        body[key] = data
    return body


def error_body(code: str, message: str, fields: list[FieldProblem] | None = None) -> dict[str, Any]:
    return {
        "success": False,
        "error": {
            "code": code,
            "message": message,
            "fields": [{"field": f.field, "reason": f.reason} for f in fields or []],
        },
        "message": message,
        "timestamp": now_iso(),
    }


def error_from_domain(exc: DomainError) -> tuple[int, dict[str, Any]]:
    return STATUS_BY_CODE.get(exc.code, 400), error_body(exc.code, exc.message, exc.fields)
