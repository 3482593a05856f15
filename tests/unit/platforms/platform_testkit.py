"""Helpers for the connector tests: recorded samples, a scripted MockTransport, a fake sleep."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "platforms"
#: The shared reference copies; the fixtures above are verbatim copies so tests do not depend on this folder.
REFERENCE_SAMPLES = REPO.parent / "shared" / "reference" / "ad-platforms" / "samples"
NOW = datetime(2026, 8, 3, 12, 0, tzinfo=UTC)


def sample_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def sample(name: str) -> Any:
    return json.loads(sample_text(name))


class Script:
    """A MockTransport handler answering from a queue of (matcher, response) and recording every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._routes: list[
            tuple[
                Callable[[httpx.Request], bool],
                list[httpx.Response | Callable[[httpx.Request], httpx.Response]],
            ]
        ] = []

    def on(
        self,
        matcher: Callable[[httpx.Request], bool] | str,
        *responses: httpx.Response | Callable[[httpx.Request], httpx.Response],
    ) -> Script:
        if isinstance(matcher, str):
            needle = matcher
            matcher = lambda request: needle in str(request.url)  # noqa: E731
        self._routes.append((matcher, list(responses)))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        for matcher, responses in self._routes:
            if matcher(request) and responses:
                item = responses.pop(0) if len(responses) > 1 else responses[0]
                return item(request) if callable(item) else item
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def to(self, needle: str) -> list[httpx.Request]:
        return [r for r in self.requests if needle in str(r.url)]


def respond(
    body: Any = None, status: int = 200, headers: dict[str, str] | None = None, raw: bytes | None = None
) -> httpx.Response:
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.Response(
        status, content=content, headers={"content-type": "application/json", **(headers or {})}
    )


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
