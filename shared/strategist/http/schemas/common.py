"""Shapes shared by every area: pagination, the strict base model, small value types."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,63}$")


def _email(value: str) -> str:
    value = value.strip()
    if not EMAIL_RE.match(value) or len(value) > 320:
        raise ValueError("not a valid e-mail address")
    if any(c in value for c in "\r\n,;<>\"'"):
        raise ValueError("e-mail address contains forbidden characters")
    return value.lower()


Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    """Unknown fields are errors: a typo in a field name must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Out(BaseModel):
    # defer_build: a function builds validators only for the models its request touches, not all at import.
    model_config = ConfigDict(from_attributes=True, defer_build=True)


class PageQuery(Strict):
    limit: int = Field(50, ge=1, le=200, description="Items per page (1-200).")
    cursor: str | None = Field(None, max_length=500, description="Opaque cursor from the previous page.")
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )


def encode_cursor(created_at: dt.datetime, item_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(item_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """Raises ValueError for anything that is not a cursor this API issued."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, item = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return dt.datetime.fromisoformat(created), uuid.UUID(item)
    except Exception as exc:
        raise ValueError("not a cursor issued by this API") from exc


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None = None
