"""The ASGI app: platform paths (same as the real APIs, so only the base URL differs) plus /_sim admin routes."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infra.platform_sim import google, linkedin, meta, tiktok
from infra.platform_sim.responses import json_response
from infra.platform_sim.spec import FAMILY, AccountSpec, SimSpec, demo_spec
from infra.platform_sim.state import FAULT_KINDS, Fault, SimState

_GOOGLE = re.compile(r"^/v\d+/customers/|^/token$")
_META = re.compile(r"^/v\d+\.\d+/")


class FaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str
    kind: str
    count: int = Field(1, ge=1, le=10_000)
    path_contains: str | None = None
    retry_after_seconds: float | None = Field(None, ge=0)
    delay_seconds: float = Field(0.0, ge=0, le=120)


class ClockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    today: date | None = None
    advance_days: int | None = None


def _bad(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


def _sim(request: Request) -> SimState:
    return request.app.state.sim


async def platform(request: Request) -> Response:
    state = _sim(request)
    path = request.url.path
    state.request_log.append({"method": request.method, "path": path})
    if _GOOGLE.match(path):
        return await google.handle(request, state, path)
    if _META.match(path):
        return await meta.handle(request, state, path)
    if path.startswith("/rest/") or path.startswith("/oauth/v2/"):
        return await linkedin.handle(request, state, path)
    if path.startswith("/open_api/"):
        return await tiktok.handle(request, state, path)
    return _bad(f"no simulated platform serves {path}", 404)


async def accounts(request: Request) -> Response:
    state = _sim(request)
    if request.method == "GET":
        return json_response(
            {
                "today": state.today.isoformat(),
                "accounts": [
                    {
                        "family": account.family,
                        "account_id": account.account_id,
                        "currency": account.currency,
                        "time_zone": account.spec.time_zone,
                        "campaigns": [
                            {
                                "id": c.id,
                                "name": c.spec.name,
                                "status": c.status,
                                "objective": c.spec.objective,
                                "budget": str(c.budget_amount),
                                "budget_type": c.budget_type,
                                "bidding": c.bidding,  # issue 6, optimize slice
                            }
                            for c in account.campaigns.values()
                        ],
                    }
                    for account in state.accounts.values()
                ],
            }
        )
    payload = await request.json()
    try:
        spec = (
            SimSpec.model_validate(payload)
            if "accounts" in payload
            else SimSpec(accounts=[AccountSpec.model_validate(payload)])
        )
    except ValidationError as exc:
        return json_response({"error": "invalid account spec", "details": exc.errors(include_url=False)}, 422)
    added = state.load(spec)
    return json_response({"accounts": [{"family": a.family, "account_id": a.account_id} for a in added]}, 201)


async def faults(request: Request) -> Response:
    state = _sim(request)
    if request.method == "DELETE":
        state.faults.clear()
        return Response(status_code=204)
    if request.method == "GET":
        return json_response({"faults": [vars(f) for f in state.faults]})
    try:
        spec = FaultRequest.model_validate(await request.json())
    except ValidationError as exc:
        return json_response({"error": "invalid fault", "details": exc.errors(include_url=False)}, 422)
    if spec.platform not in FAMILY:
        return _bad(f"platform must be one of {sorted(FAMILY)}")
    if spec.kind not in FAULT_KINDS:
        return _bad(f"kind must be one of {list(FAULT_KINDS)}")
    state.add_fault(
        Fault(
            spec.platform,
            spec.kind,
            spec.count,
            spec.path_contains,
            spec.retry_after_seconds,
            spec.delay_seconds,
        )
    )
    return json_response({"faults": [vars(f) for f in state.faults]}, 201)


async def clock(request: Request) -> Response:
    state = _sim(request)
    if request.method == "POST":
        try:
            spec = ClockRequest.model_validate(await request.json())
        except ValidationError as exc:
            return json_response({"error": "invalid clock", "details": exc.errors(include_url=False)}, 422)
        if spec.today is not None:
            state.set_today(spec.today)
        if spec.advance_days:
            state.set_today(state.today + timedelta(days=spec.advance_days))
    return json_response({"today": state.today.isoformat()})


async def truth(request: Request) -> Response:
    state = _sim(request)
    q = request.query_params
    family = FAMILY.get(q.get("platform", ""))
    if family is None:
        return _bad(f"platform must be one of {sorted(FAMILY)}")
    account = state.account(family, q.get("account_id", "").removeprefix("act_"))
    if account is None:
        return _bad("unknown account", 404)
    campaign_id = q.get("campaign_id")
    if campaign_id not in account.campaigns:
        return _bad("unknown campaign", 404)
    try:
        end = date.fromisoformat(q["end"]) if "end" in q else state.today - timedelta(days=1)
        start = date.fromisoformat(q["start"]) if "start" in q else end - timedelta(days=29)
    except ValueError:
        return _bad("start/end must be YYYY-MM-DD")
    if (end - start).days > 3660:
        return _bad("range too long")
    return json_response(state.truth(account, campaign_id, start, end))


async def budget_log(request: Request) -> Response:
    return json_response({"changes": _sim(request).budget_log})


def create_app(
    *,
    seed: int = 7,
    spec: SimSpec | dict[str, Any] | None = None,
    today: date | None = None,
    demo: bool = False,
    google_page_size: int = 10_000,
    meta_polls_until_complete: int = 1,
) -> Starlette:
    """A simulator app. ``spec`` (or ``demo=True`` for the built-in multi-platform demo) says what it serves;
    ``today`` fixes the simulated date (data is served up to the day before)."""
    state = SimState(
        seed=seed,
        today=today or date.today(),
        google_page_size=google_page_size,
        meta_polls=meta_polls_until_complete,
    )
    if demo:
        state.load(demo_spec(seed=seed))
    if spec is not None:
        state.load(spec if isinstance(spec, SimSpec) else SimSpec.model_validate(spec))
    app = Starlette(
        routes=[
            Route("/_sim/accounts", accounts, methods=["GET", "POST"]),
            Route("/_sim/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route("/_sim/clock", clock, methods=["GET", "POST"]),
            Route("/_sim/truth", truth, methods=["GET"]),
            Route("/_sim/budget_log", budget_log, methods=["GET"]),
            Route("/{path:path}", platform, methods=["GET", "POST"]),
        ]
    )
    app.state.sim = state
    return app
