"""Sign-in, refresh rotation, sign-out, API keys and the authorizer's verdicts, through the local gateway."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import jwt
import pytest


def test_login_and_use_token(api, make_tenant):
    t = make_tenant()
    r = api.post("/api/v1/auth/token", json={"email": t.owner.email.upper(), "password": t.owner.password})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["token_type"] == "Bearer" and data["role"] == "owner" and data["expires_in"] == 900
    me = api.get("/api/v1/tenant", headers={"Authorization": f"Bearer {data['access_token']}"})
    assert me.status_code == 200
    body = me.json()
    assert body["tenant"]["tenant"]["id"] == str(t.tenant_id)
    assert body["data"]["me"]["role"] == "owner" and body["data"]["me"]["client_ids"] is None


@pytest.mark.parametrize("payload", [{"email": "nobody@tests.example", "password": "whatever-long"}, None])
def test_login_failures_are_401_and_alike(api, make_tenant, payload):
    t = make_tenant()
    payload = payload or {"email": t.owner.email, "password": "wrong password!!"}
    r = api.post("/api/v1/auth/token", json=payload)
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "e-mail or password is wrong"


def test_refresh_rotates_and_detects_reuse(api, make_tenant):
    t = make_tenant()
    first = api.post(
        "/api/v1/auth/token", json={"email": t.analyst.email, "password": t.analyst.password}
    ).json()["data"]
    second = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    new = second.json()["data"]
    assert new["refresh_token"] != first["refresh_token"]
    # replaying the used token revokes the whole family, including the token just issued
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}).status_code == 401


def test_logout_revokes_refresh(api, make_tenant):
    t = make_tenant()
    pair = api.post("/api/v1/auth/token", json={"email": t.admin.email, "password": t.admin.password}).json()[
        "data"
    ]
    assert api.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def _forge(claims: dict, secret: str = "not-the-key", alg: str = "HS256", kid: str = "k1") -> str:
    return jwt.encode(claims, secret, algorithm=alg, headers={"kid": kid})


def test_authorizer_rejects_bad_credentials(api, make_tenant, stack):
    t = make_tenant()
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {
        "sub": str(t.owner.user_id),
        "tid": str(t.tenant_id),
        "role": "owner",
        "cids": "*",
        "iss": "marketing-strategist",
        "aud": "marketing-strategist-api",
        "iat": now,
        "exp": now + 600,
        "typ": "access",
    }
    secret = json.loads((stack.local_dir / "jwt-secret").read_text() and "{}") or None
    header_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"
    unsigned = header_none + "." + jwt.utils.base64url_encode(json.dumps(claims).encode()).decode() + "."
    cases = {
        "no header": {},
        "not bearer": {"Authorization": "Basic Zm9vOmJhcg=="},
        "garbage": {"Authorization": "Bearer abc.def.ghi"},
        "bad signature": {"Authorization": f"Bearer {_forge(claims)}"},
        "alg none": {"Authorization": f"Bearer {unsigned}"},
        "unknown api key": {"Authorization": "Bearer msk_000000000000_" + "x" * 43},
        "malformed api key": {"Authorization": "Bearer msk_short"},
    }
    del secret
    for name, headers in cases.items():
        r = api.get("/api/v1/tenant", headers=headers)
        assert r.status_code == 401, name
        assert r.json()["success"] is False


def test_expired_token_is_401(api, make_tenant, stack):
    from strategist import bootstrap
    from strategist.adapters import crypto

    t = make_tenant()
    ring = bootstrap.key_ring()
    token, _ = crypto.encode_access_token(
        ring,
        {"sub": str(t.owner.user_id), "tid": str(t.tenant_id), "role": "owner", "cids": "*"},
        ttl_s=-60,
        issuer="marketing-strategist",
        audience="marketing-strategist-api",
    )
    assert api.get("/api/v1/tenant", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_api_key_lifecycle(api, make_tenant):
    t = make_tenant()
    r = api.post(
        "/api/v1/api-keys",
        json={"name": "reporting bot", "role": "analyst", "scopes": ["read"]},
        headers=t.admin.headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    key = created["key"]
    assert key.startswith("msk_") and created["prefix"] in key
    listed = api.get("/api/v1/api-keys", headers=t.owner.headers).json()["data"]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    bot = {"Authorization": f"Bearer {key}"}
    assert api.get("/api/v1/clients", headers=bot).status_code == 200
    # read-only scope cannot write even though the role could
    assert api.patch(f"/api/v1/clients/{t.clients[0]}", json={"name": "n"}, headers=bot).status_code == 403
    assert api.delete(f"/api/v1/api-keys/{created['id']}", headers=t.admin.headers).status_code == 200
    assert api.get("/api/v1/clients", headers=bot).status_code == 401


def test_api_key_rules(api, make_tenant):
    t = make_tenant()
    # an admin cannot mint an owner key; a viewer key needs a client and only reads
    assert (
        api.post("/api/v1/api-keys", json={"name": "x", "role": "owner"}, headers=t.admin.headers).status_code
        == 403
    )
    r = api.post("/api/v1/api-keys", json={"name": "x", "role": "client_viewer"}, headers=t.owner.headers)
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "client_ids"
    r = api.post(
        "/api/v1/api-keys",
        json={"name": "x", "role": "client_viewer", "client_ids": [str(uuid.uuid4())]},
        headers=t.owner.headers,
    )
    assert r.status_code == 422
    for actor in (t.analyst, t.viewer, t.viewer_key):
        assert api.get("/api/v1/api-keys", headers=actor.headers).status_code == 403


def test_api_keys_are_tenant_scoped(api, make_tenant):
    a, b = make_tenant(), make_tenant()
    key_id = api.get("/api/v1/api-keys", headers=a.owner.headers).json()["data"][0]["id"]
    assert api.delete(f"/api/v1/api-keys/{key_id}", headers=b.owner.headers).status_code == 404
    assert api.get("/api/v1/clients", headers=a.owner_key.headers).status_code == 200
