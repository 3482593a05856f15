"""The local API gateway: what API Gateway does in front of the functions, on one port.

It reads template.yaml's routes, runs the Lambda authorizer, throttles per API key with the usage plan's rate,
builds REST (v1) proxy events and invokes each function's handler in process; and it serves /openapi.json,
/docs and the built dashboard."""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from infra.local import lambda_runtime
from infra.local.aws import ACCOUNT_ID, REGION
from infra.template import ROOT, Template
from infra.template import Route as TemplateRoute

log = logging.getLogger("gateway")

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's limit; functions enforce their own, smaller one
DASHBOARD_DIST = ROOT / "dashboard" / "dist"


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    from strategist.http.envelope import error_body

    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


@dataclass
class CompiledRoute:
    route: TemplateRoute
    pattern: re.Pattern[str]
    params: list[str]

    @property
    def specificity(self) -> tuple[int, int]:
        # Literal segments win over parameters, as in API Gateway (/invitations/accept before /invitations/{id}).
        return (len(self.params), -self.route.path.count("/"))


def compile_route(route: TemplateRoute) -> CompiledRoute:
    params: list[str] = []

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("+"):
            params.append(name[:-1])
            return f"(?P<{name[:-1]}>.+)"
        params.append(name)
        return f"(?P<{name}>[^/]+)"

    regex = re.sub(r"\{([^}]+)\}", repl, re.escape(route.path).replace(r"\{", "{").replace(r"\}", "}"))
    return CompiledRoute(route, re.compile(f"^{regex}$"), params)


class TokenBucket:
    """Per-key throttle with the usage plan's rate and burst (API Gateway's token-bucket semantics)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed, else seconds until a token is available."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / self.rate


class Gateway:
    def __init__(
        self,
        template: Template,
        *,
        stage: str = "dev",
        throttle: tuple[float, int] | None = None,
        local_health: Callable[[], dict[str, Any]] | None = None,
        max_concurrency: int = int(os.environ.get("GATEWAY_CONCURRENCY", "8")),
    ) -> None:
        self.template = template
        self.stage = stage
        self.functions = template.functions
        self.routes = sorted((compile_route(r) for r in template.routes), key=lambda c: c.specificity)
        rate, burst = throttle or template.usage_plan_throttle
        self.bucket = TokenBucket(rate, burst)
        self.login_bucket = TokenBucket(max(rate / 4, 1.0), max(burst // 4, 5))
        self.local_health = local_health
        self.limiter = anyio.CapacityLimiter(max_concurrency)
        authorizers = [f for f in self.functions.values() if f.logical_id == "AuthorizerFunction"]
        self.authorizer = authorizers[0] if authorizers else None
        self._openapi: dict[str, Any] | None = None

    # -- routing ---------------------------------------------------------------------------------------------
    def match(self, path: str, method: str) -> tuple[CompiledRoute | None, dict[str, str], bool]:
        path_matched = False
        for compiled in self.routes:
            m = compiled.pattern.match(path)
            if m:
                path_matched = True
                if compiled.route.method in (method, "ANY"):
                    return compiled, m.groupdict(), True
        return None, {}, path_matched

    def warm(self) -> None:
        """Import every handler once, as Lambda's init phase would, so the first request is not slow."""
        for spec in self.functions.values():
            lambda_runtime.load_handler(spec)

    # -- the request path ------------------------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        path, method = request.url.path, request.method.upper()
        compiled, path_params, path_known = self.match(path, method)
        if compiled is None:
            if path_known:
                return _error(405, "method_not_allowed", f"{method} is not allowed on {path}")
            return _error(404, "not_found", f"no route for {path}")
        body = await request.body()
        if len(body) > MAX_PAYLOAD:
            return _error(413, "payload_too_large", "request body exceeds 10 MB")
        request_id = str(uuid.uuid4())
        headers = {k.lower(): v for k, v in request.headers.items()}
        multi_headers: dict[str, list[str]] = {}
        for k, v in request.headers.raw:
            multi_headers.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
        query: dict[str, list[str]] = {}
        for k, v in request.query_params.multi_items():
            query.setdefault(k, []).append(v)
        source_ip = request.client.host if request.client else "127.0.0.1"
        route = compiled.route

        authorizer_ctx: dict[str, Any] | None = None
        if route.authorized:
            outcome = await self._authorize(
                route, path, method, headers, query, path_params, request_id, source_ip
            )
            if isinstance(outcome, Response):
                return outcome
            authorizer_ctx = outcome
            throttle_key = "key:" + (authorizer_ctx.get("api_key_id") or authorizer_ctx.get("user_id") or "")
            wait = self.bucket.take(throttle_key)
        else:
            wait = self.login_bucket.take(f"ip:{source_ip}:{route.path}")
        if wait:
            return _error(
                429,
                "rate_limited",
                "too many requests for this key",
                {"Retry-After": str(max(1, round(wait)))},
            )

        event = lambda_runtime.rest_event(
            resource=route.path,
            path=path,
            method=method,
            headers=headers,
            multi_headers=multi_headers,
            query=query,
            path_params=path_params,
            body=body,
            source_ip=source_ip,
            stage=self.stage,
            authorizer=authorizer_ctx,
            request_id=request_id,
        )
        spec = self.functions[route.function]
        try:
            result = await anyio.to_thread.run_sync(lambda_runtime.invoke, spec, event, limiter=self.limiter)
        except Exception:
            log.exception("function %s raised", route.function)
            return _error(502, "bad_gateway", f"function failed; request id {request_id}")
        response = self._to_response(result, request_id)
        if path == "/health" and self.local_health is not None:
            response = self._merge_health(response)
        return response

    async def _authorize(
        self,
        route: TemplateRoute,
        path: str,
        method: str,
        headers: dict[str, str],
        query: dict[str, list[str]],
        path_params: dict[str, str],
        request_id: str,
        source_ip: str,
    ) -> dict[str, Any] | Response:
        if self.authorizer is None:
            return _error(500, "internal_error", "no authorizer function in the template")
        if not headers.get("authorization"):
            return _error(401, "not_authenticated", "valid credentials are required")
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:local/{self.stage}/{method}{route.path}"
        event = lambda_runtime.authorizer_event(
            method_arn=method_arn,
            resource=route.path,
            path=path,
            method=method,
            headers=headers,
            query=query,
            path_params=path_params,
            stage=self.stage,
            request_id=request_id,
            source_ip=source_ip,
        )
        try:
            policy = await anyio.to_thread.run_sync(
                lambda_runtime.invoke, self.authorizer, event, limiter=self.limiter
            )
        except Exception as exc:
            if str(exc) == "Unauthorized":
                return _error(401, "not_authenticated", "valid credentials are required")
            log.exception("authorizer failed")
            return _error(500, "internal_error", "authorizer failed")
        statements = policy.get("policyDocument", {}).get("Statement", [])
        allowed = any(
            s.get("Effect") == "Allow" and _arn_matches(s.get("Resource"), method_arn) for s in statements
        )
        denied = any(
            s.get("Effect") == "Deny" and _arn_matches(s.get("Resource"), method_arn) for s in statements
        )
        if denied or not allowed:
            return _error(403, "forbidden", "access denied")
        return {"principalId": policy.get("principalId"), **(policy.get("context") or {})}

    @staticmethod
    def _to_response(result: dict[str, Any], request_id: str) -> Response:
        if not isinstance(result, dict) or "statusCode" not in result:
            return _error(502, "bad_gateway", "malformed Lambda proxy response")
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(content=raw, status_code=int(result["statusCode"]))
        for k, v in (result.get("headers") or {}).items():
            response.headers[k] = str(v)
        for k, values in (result.get("multiValueHeaders") or {}).items():
            for v in values:
                response.headers.append(k, str(v))
        response.headers.setdefault("x-amzn-requestid", request_id)
        return response

    def _merge_health(self, response: Response) -> Response:
        try:
            payload = json.loads(response.body)
        except ValueError:
            return response
        local = self.local_health() if self.local_health else {}
        data = payload.get("data") or {}
        data.setdefault("checks", {}).update(local)
        healthy = all(c.get("status") == "ok" for c in data["checks"].values())
        data["status"] = "ok" if healthy else "degraded"
        payload["data"] = data
        return JSONResponse(payload, status_code=200 if healthy else 503)

    # -- docs ------------------------------------------------------------------------------------------------
    def openapi(self, server_url: str) -> dict[str, Any]:
        if self._openapi is None:
            from strategist.http.openapi import build_openapi

            operations = []
            declared = {(r.route.path, r.route.method) for r in self.routes}
            for spec in self.functions.values():
                module = lambda_runtime.load_module(spec)
                api = getattr(module, "api", None)
                if api is not None:
                    operations += [op for op in api.operations if (op.path, op.method) in declared]
            self._openapi = build_openapi(
                operations, title="Marketing Strategist API", version="1.0.0", server_url=server_url
            )
        return self._openapi


def _arn_matches(resource: Any, arn: str) -> bool:
    resources = resource if isinstance(resource, list) else [resource]
    for r in resources:
        pattern = "^" + re.escape(str(r)).replace(r"\*", ".*") + "$"
        if re.match(pattern, arn):
            return True
    return False


DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marketing Strategist API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
persistAuthorization: true});</script></body></html>"""

INDEX_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marketing Strategist (local)</title></head>
<body style="font-family: system-ui; max-width: 40rem; margin: 3rem auto">
<h1>Marketing Strategist, running locally</h1>
<p>The dashboard has not been built into <code>dashboard/dist</code> on this machine.</p>
<ul><li><a href="/docs">Interactive API documentation</a></li>
<li><a href="/openapi.json">OpenAPI 3.1 document</a></li>
<li><a href="/health">Health of every dependency</a></li></ul>
<p>Demo credentials are in <code>.local/demo.json</code>.</p></body></html>"""


# -- the dashboard (issue 8: static site) ------------------------------------------------------------------------
# dashboard/dist as CloudFront serves it from the bucket: hashed /assets/* cached for a year, index.html never
# cached (a new build shows on the next load), the few root files (manifest, service worker, icons) by name, and
# index.html for the single-page app's own paths (a browser navigation: GET asking for HTML, outside the API).
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")
SPA_EXCLUDED_PREFIXES = ("/api/", "/health", "/docs", "/openapi.json", "/assets/")
NO_CACHE = {"Cache-Control": "no-cache, must-revalidate"}


class DashboardAssets(StaticFiles):
    """Hashed build assets: immutable, so browsers keep them for a year."""

    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def dashboard_index() -> Response:
    index_file = DASHBOARD_DIST / "index.html"
    if not index_file.exists():
        return HTMLResponse(INDEX_HTML, headers=NO_CACHE)
    return FileResponse(index_file, media_type="text/html; charset=utf-8", headers=NO_CACHE)


def dashboard_file(request: Request) -> Response | None:
    """The built dashboard's response for this request, or None when the API gateway should answer it."""
    if request.method not in ("GET", "HEAD") or not DASHBOARD_DIST.is_dir():
        return None
    path = request.url.path
    if path.startswith(SPA_EXCLUDED_PREFIXES):
        return None
    name = path.lstrip("/")
    if name and "/" not in name and not name.startswith("."):
        candidate = DASHBOARD_DIST / name
        if candidate.is_file() and name != "index.html":
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            # sw.js and the manifest must update with each build, so they are revalidated like index.html.
            return FileResponse(candidate, media_type=media_type, headers=NO_CACHE)
    if "text/html" in request.headers.get("accept", ""):
        return dashboard_index()
    return None


def create_app(gateway: Gateway, *, server_url: str = "http://127.0.0.1:8029") -> Starlette:
    async def openapi(_: Request) -> JSONResponse:
        spec = await anyio.to_thread.run_sync(gateway.openapi, server_url)
        return JSONResponse(spec)

    async def docs(_: Request) -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    async def index(_: Request) -> Response:
        return dashboard_index()

    async def proxy(request: Request) -> Response:
        static = dashboard_file(request)
        if static is not None:
            return static
        return await gateway.handle(request)

    routes: list[Any] = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/", index, methods=["GET"]),
    ]
    try:
        import swagger_ui

        routes.append(
            Mount("/docs/static", StaticFiles(directory=Path(swagger_ui.__file__).parent / "static"))
        )
    except ImportError:  # docs page then loads without assets; the JSON document still works
        log.warning("swagger-ui-py is not installed; /docs has no assets")
    routes.append(Mount("/assets", DashboardAssets(directory=DASHBOARD_DIST / "assets", check_dir=False)))
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    routes.append(Route("/{path:path}", proxy, methods=methods))
    routes.append(websocket_route(gateway))  # issue 8, live updates: the WebSocket API at /ws

    async def not_routed(request: Request, exc: Exception) -> Response:
        # Paths the catch-all cannot match (a raw newline, say) still answer in the API's envelope, like API Gateway.
        status = getattr(exc, "status_code", 404)
        return _error(
            status,
            "not_found" if status == 404 else "method_not_allowed",
            f"no route for {request.url.path!r}",
        )

    return Starlette(routes=routes, exception_handlers={404: not_routed, 405: not_routed})


# -- issue 8, live updates slice: the WebSocket API, locally ----------------------------------------------------
# What API Gateway's WebSocket API does in front of the functions: the template's WEBSOCKET routes served at
# /ws. The handshake runs the $connect route's REQUEST authorizer and then its integration (a 401/403 or the
# integration's non-2xx refuses the upgrade), each client message is routed by the route selection expression
# ($request.body.action, falling back to $default) and a two-way route's body goes back to the client, and a closed
# socket invokes $disconnect. LiveSockets is the management API's stand-in: the push function's
# connection_poster() posts through it (post_to_connection; a closed or unknown connection is GoneException).
import asyncio  # noqa: E402
import datetime as _dt  # noqa: E402
import secrets as _secrets  # noqa: E402

from starlette.routing import WebSocketRoute as _WsRoute  # noqa: E402
from starlette.websockets import WebSocket, WebSocketDisconnect  # noqa: E402

WEBSOCKET_PATH = "/ws"


class LiveSockets:
    """Open sockets by connection id, shared by every app this process serves; thread-safe ``post``."""

    def __init__(self) -> None:
        self._sockets: dict[str, tuple[WebSocket, asyncio.AbstractEventLoop]] = {}
        self._lock = threading.Lock()
        self.posted = 0

    def add(self, connection_id: str, websocket: WebSocket, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._sockets[connection_id] = (websocket, loop)

    def remove(self, connection_id: str) -> None:
        with self._lock:
            self._sockets.pop(connection_id, None)

    def __contains__(self, connection_id: object) -> bool:
        return connection_id in self._sockets

    def __len__(self) -> int:
        return len(self._sockets)

    def post(self, endpoint: str, connection_id: str, data: bytes) -> None:
        from strategist.adapters.aws.websocket import ConnectionGone

        entry = self._sockets.get(connection_id)
        if entry is None:
            raise ConnectionGone(connection_id)
        websocket, loop = entry
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("post_to_connection from the gateway's own event loop would deadlock")
        future = asyncio.run_coroutine_threadsafe(websocket.send_text(data.decode()), loop)
        try:
            future.result(timeout=5)
        except Exception as exc:
            self.remove(connection_id)
            raise ConnectionGone(connection_id) from exc
        self.posted += 1

    def close(self, endpoint: str, connection_id: str) -> None:
        """DeleteConnection: the server closes the socket (policy violation: its credentials changed)."""
        entry = self._sockets.get(connection_id)
        if entry is None:
            return
        websocket, loop = entry
        self.remove(connection_id)
        future = asyncio.run_coroutine_threadsafe(
            websocket.close(code=1008, reason="credentials changed"), loop
        )
        try:
            future.result(timeout=5)
        except Exception:
            log.info("closing %s: already closed", connection_id)


LIVE_SOCKETS = LiveSockets()


def _ws_event(
    *,
    route_key: str,
    event_type: str,
    connection_id: str,
    connected_at: int,
    websocket: WebSocket,
    stage: str,
    authorizer: dict[str, Any] | None,
    body: str | None = None,
) -> dict[str, Any]:
    now = _dt.datetime.now(_dt.UTC)
    headers = {k: v for k, v in websocket.headers.items()}
    multi: dict[str, list[str]] = {}
    for k, v in websocket.headers.raw:
        multi.setdefault(k.decode("latin-1"), []).append(v.decode("latin-1"))
    query = {k: v for k, v in websocket.query_params.items()}
    host = websocket.headers.get("host", "127.0.0.1")
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "messageDirection": "IN",
        "extendedRequestId": str(uuid.uuid4()),
        "requestId": str(uuid.uuid4()),
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "stage": stage,
        "connectedAt": connected_at,
        "identity": {
            "sourceIp": websocket.client.host if websocket.client else "127.0.0.1",
            "userAgent": websocket.headers.get("user-agent", ""),
        },
        "domainName": host,
        "connectionId": connection_id,
        "apiId": "local",
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if event_type == "CONNECT":
        event.update(headers=headers, multiValueHeaders=multi, queryStringParameters=query or None)
    elif event_type == "MESSAGE":
        event["requestContext"]["messageId"] = _secrets.token_urlsafe(9)
        event["body"] = body
    else:
        event.update(headers=headers, multiValueHeaders=multi)
        event["requestContext"].update(disconnectStatusCode=1000, disconnectReason="Client-side close frame")
    return event


async def _deny(websocket: WebSocket, status: int, code: str, message: str) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(_error(status, code, message))
    else:
        await websocket.close(code=1008, reason=message[:120])


def websocket_endpoint(gateway: Gateway) -> Callable[[WebSocket], Any]:
    from infra.template import websocket_routes
    from strategist.adapters.aws.websocket import install_local_poster

    install_local_poster(LIVE_SOCKETS)
    apis = websocket_routes(gateway.template)
    routes = {r.route_key: r for api_routes in apis.values() for r in api_routes}

    async def invoke(function: str, event: dict[str, Any]) -> Any:
        spec = gateway.functions[function]
        return await anyio.to_thread.run_sync(lambda_runtime.invoke, spec, event, limiter=gateway.limiter)

    async def endpoint(websocket: WebSocket) -> None:
        connection_id = base64.b64encode(_secrets.token_bytes(10)).decode()
        connected_at = int(time.time() * 1000)

        def event(
            route_key: str, kind: str, ctx: dict[str, Any] | None, body: str | None = None
        ) -> dict[str, Any]:
            return _ws_event(
                route_key=route_key, event_type=kind, connection_id=connection_id, connected_at=connected_at,
                websocket=websocket, stage=gateway.stage, authorizer=ctx, body=body,
            )  # fmt: skip

        connect = routes.get("$connect")
        ctx: dict[str, Any] | None = None
        if connect is not None and connect.authorizer:
            method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:local/{gateway.stage}/$connect"
            auth_event = {**event("$connect", "CONNECT", None), "type": "REQUEST", "methodArn": method_arn}
            try:
                policy = await invoke(connect.authorizer, auth_event)
            except Exception as exc:
                if str(exc) == "Unauthorized":
                    await _deny(websocket, 401, "not_authenticated", "valid credentials are required")
                else:
                    log.exception("websocket authorizer failed")
                    await _deny(websocket, 500, "internal_error", "authorizer failed")
                return
            statements = policy.get("policyDocument", {}).get("Statement", [])
            allowed = any(
                s.get("Effect") == "Allow" and _arn_matches(s.get("Resource"), method_arn) for s in statements
            )
            denied = any(
                s.get("Effect") == "Deny" and _arn_matches(s.get("Resource"), method_arn) for s in statements
            )
            if denied or not allowed:
                await _deny(websocket, 403, "forbidden", "access denied")
                return
            ctx = {"principalId": policy.get("principalId"), **(policy.get("context") or {})}
        subprotocol = None
        if connect is not None:
            try:
                result = await invoke(connect.function, event("$connect", "CONNECT", ctx))
            except Exception:
                log.exception("$connect failed")
                await _deny(websocket, 502, "bad_gateway", "the $connect integration failed")
                return
            status = int((result or {}).get("statusCode", 200))
            if not 200 <= status < 300:
                await _deny(websocket, status, "connect_refused", "the $connect integration refused")
                return
            headers = {k.lower(): v for k, v in ((result or {}).get("headers") or {}).items()}
            subprotocol = headers.get("sec-websocket-protocol")
        await websocket.accept(subprotocol=subprotocol)
        LIVE_SOCKETS.add(connection_id, websocket, asyncio.get_running_loop())
        try:
            while True:
                body = await websocket.receive_text()
                try:
                    parsed = json.loads(body)
                    action = parsed.get("action") if isinstance(parsed, dict) else None
                except ValueError:
                    action = None
                route = routes.get(str(action)) if action is not None else None
                route = route or routes.get("$default")
                if route is None:
                    await websocket.send_text(
                        json.dumps({"message": "Forbidden", "connectionId": connection_id})
                    )
                    continue
                try:
                    result = await invoke(route.function, event(route.route_key, "MESSAGE", ctx, body))
                except Exception:
                    log.exception("websocket route %s failed", route.route_key)
                    await websocket.send_text(json.dumps({"message": "Internal server error"}))
                    continue
                if route.two_way and isinstance(result, dict) and result.get("body"):
                    await websocket.send_text(str(result["body"]))
        except WebSocketDisconnect:
            pass
        finally:
            LIVE_SOCKETS.remove(connection_id)
            disconnect = routes.get("$disconnect")
            if disconnect is not None:
                try:
                    await invoke(disconnect.function, event("$disconnect", "DISCONNECT", ctx))
                except Exception:
                    log.exception("$disconnect failed")

    return endpoint


def websocket_route(gateway: Gateway) -> _WsRoute:
    return _WsRoute(WEBSOCKET_PATH, websocket_endpoint(gateway))
