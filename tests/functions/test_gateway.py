"""What the local gateway itself promises: routing errors in the envelope, throttling with Retry-After,
/health, /openapi.json covering every template route, and /docs."""

from __future__ import annotations

from starlette.testclient import TestClient

from infra.local.gateway import create_app


def test_unknown_route_and_method(api, make_tenant):
    t = make_tenant()
    r = api.get("/api/v1/nothing-here", headers=t.owner.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api.put("/api/v1/clients", json={}, headers=t.owner.headers)
    assert r.status_code == 405 and r.json()["success"] is False


def test_health_reports_each_dependency(api):
    r = api.get("/health")
    assert r.status_code == 200
    checks = r.json()["data"]["checks"]
    assert checks["database"]["status"] == "ok"
    assert set(checks["queues"]["depth"]) == {"sync", "communications", "reports"}
    assert checks["storage"]["status"] == "ok" and checks["aws_emulator"]["status"] == "ok"


def test_openapi_covers_every_route(api, gateway):
    spec = api.get("/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    declared = {(r.route.path, r.route.method.lower()) for r in gateway.routes}
    documented = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert declared == documented
    create = spec["paths"]["/api/v1/clients"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ClientCreate")
    assert "422" in create["responses"] and create["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert api.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_throttle_per_key_with_retry_after(stack, make_tenant):
    t = make_tenant()
    gw = stack.gateway()
    gw.bucket.rate, gw.bucket.burst = 1.0, 3
    with TestClient(create_app(gw)) as client:
        codes = [client.get("/api/v1/tenant", headers=t.owner_key.headers).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        limited = client.get("/api/v1/tenant", headers=t.owner_key.headers)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        # another key has its own bucket
        assert client.get("/api/v1/tenant", headers=t.viewer_key.headers).status_code == 200


def test_unroutable_paths_answer_in_the_envelope(api, make_tenant):
    """A newline in a path never reaches the catch-all route; found by schemathesis as a text/plain 404."""
    t = make_tenant()
    r = api.get("/api/v1/campaigns/%0Aabc", headers=t.owner.headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    assert r.json()["success"] is False
