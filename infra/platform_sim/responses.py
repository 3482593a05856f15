"""Response helpers shared by the platform handlers."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from infra.platform_sim.state import Fault


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def truncated(body: Any, headers: dict[str, str] | None = None) -> Response:
    """A 200 whose JSON is cut off mid-way, like a dropped connection behind a proxy."""
    raw = dumps(body)
    return Response(
        raw[: max(1, len(raw) // 2)], status_code=200, media_type="application/json", headers=headers
    )


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        return max(0, int(text.removeprefix("o:")))
    except (ValueError, UnicodeDecodeError):
        return -1


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


async def delay(fault: Fault | None) -> None:
    if fault is not None and fault.delay_seconds > 0:
        await asyncio.sleep(fault.delay_seconds)


async def form_data(request: Request) -> dict[str, str]:
    """application/x-www-form-urlencoded body (without needing python-multipart)."""
    body = (await request.body()).decode()
    return dict(parse_qsl(body, keep_blank_values=True))
