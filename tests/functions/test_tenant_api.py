"""Tenant settings, users and invitations through the gateway, with roles and cross-tenant checks."""

from __future__ import annotations


def test_tenant_view_and_update(api, make_tenant):
    t = make_tenant()
    r = api.patch(
        "/api/v1/tenant",
        json={"settings": {"approval_threshold": 2500}, "branding": {"primary_color": "#abcdef"}},
        headers=t.owner.headers,
    )
    assert r.status_code == 200, r.text
    tenant = r.json()["data"]["tenant"]
    assert (
        tenant["settings"]["approval_threshold"] == 2500 and tenant["branding"]["primary_color"] == "#abcdef"
    )
    for actor in (t.admin, t.analyst, t.viewer):
        assert api.patch("/api/v1/tenant", json={"name": "x"}, headers=actor.headers).status_code == 403
    viewer = api.get("/api/v1/tenant", headers=t.viewer.headers).json()["data"]["me"]
    assert viewer["role"] == "client_viewer" and viewer["client_ids"] == [str(t.clients[0])]
    bad = api.patch(
        "/api/v1/tenant", json={"branding": {"sender_name": "a\r\nBcc: x@y.example"}}, headers=t.owner.headers
    )
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "body.branding.sender_name"


def test_invitation_to_login(api, make_tenant):
    t = make_tenant()
    r = api.post(
        "/api/v1/invitations",
        json={"email": f"new-{t.tenant_id.hex[:6]}@tests.example", "role": "analyst"},
        headers=t.admin.headers,
    )
    assert r.status_code == 201, r.text
    inv = r.json()["data"]
    assert "accept_token" in inv and inv["accept_url"].endswith(inv["accept_token"])
    listed = api.get("/api/v1/invitations", headers=t.owner.headers).json()["data"]
    assert [i["id"] for i in listed] == [inv["id"]] and "accept_token" not in listed[0]
    weak = api.post(
        "/api/v1/invitations/accept", json={"token": inv["accept_token"], "name": "N", "password": "short"}
    )
    assert weak.status_code == 422
    ok = api.post(
        "/api/v1/invitations/accept",
        json={"token": inv["accept_token"], "name": "New Analyst", "password": "a long enough password"},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["data"]["role"] == "analyst"
    again = api.post(
        "/api/v1/invitations/accept",
        json={"token": inv["accept_token"], "name": "Again", "password": "a long enough password"},
    )
    assert again.status_code == 401
    login = api.post("/api/v1/auth/token", json={"email": inv["email"], "password": "a long enough password"})
    assert login.status_code == 200 and login.json()["data"]["tenant_id"] == str(t.tenant_id)


def test_invitation_rules(api, make_tenant):
    t = make_tenant()
    assert (
        api.post(
            "/api/v1/invitations", json={"email": "o@tests.example", "role": "owner"}, headers=t.admin.headers
        ).status_code
        == 403
    )
    r = api.post(
        "/api/v1/invitations",
        json={"email": "v@tests.example", "role": "client_viewer"},
        headers=t.admin.headers,
    )
    assert r.status_code == 422
    r = api.post(
        "/api/v1/invitations", json={"email": t.analyst.email, "role": "analyst"}, headers=t.admin.headers
    )
    assert r.status_code == 409
    r = api.post(
        "/api/v1/invitations", json={"email": "not-an-email", "role": "analyst"}, headers=t.admin.headers
    )
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.email"
    assert (
        api.post(
            "/api/v1/invitations",
            json={"email": "a@tests.example", "role": "analyst"},
            headers=t.analyst.headers,
        ).status_code
        == 403
    )


def test_revoked_invitation_cannot_be_accepted(api, make_tenant):
    t = make_tenant()
    inv = api.post(
        "/api/v1/invitations",
        json={"email": f"r-{t.tenant_id.hex[:6]}@tests.example", "role": "analyst"},
        headers=t.owner.headers,
    ).json()["data"]
    assert api.delete(f"/api/v1/invitations/{inv['id']}", headers=t.owner.headers).status_code == 200
    r = api.post(
        "/api/v1/invitations/accept",
        json={"token": inv["accept_token"], "name": "X", "password": "a long enough password"},
    )
    assert r.status_code == 401


def test_users_management(api, make_tenant):
    t = make_tenant()
    users = api.get("/api/v1/users", headers=t.admin.headers).json()["data"]
    assert {u["role"] for u in users} == {"owner", "admin", "analyst", "client_viewer"}
    assert all("password_hash" not in u for u in users)
    analyst = next(u for u in users if u["role"] == "analyst")
    r = api.patch(
        f"/api/v1/users/{analyst['id']}",
        json={"role": "client_viewer", "client_ids": [str(t.clients[1])]},
        headers=t.admin.headers,
    )
    assert r.status_code == 200 and r.json()["data"]["client_ids"] == [str(t.clients[1])]
    owner = next(u for u in users if u["role"] == "owner")
    assert (
        api.patch(
            f"/api/v1/users/{owner['id']}", json={"is_active": False}, headers=t.admin.headers
        ).status_code
        == 403
    )
    assert (
        api.patch(f"/api/v1/users/{owner['id']}", json={"role": "admin"}, headers=t.owner.headers).status_code
        == 403
    )
    r = api.patch(f"/api/v1/users/{analyst['id']}", json={"is_active": False}, headers=t.owner.headers)
    assert r.status_code == 200
    login = api.post("/api/v1/auth/token", json={"email": t.analyst.email, "password": t.analyst.password})
    assert login.status_code == 401
    # the deactivated analyst's still-unexpired access token is refused at once (tests/security/test_attacks.py)
    assert api.get("/api/v1/users", headers=t.analyst.headers).status_code == 401
    for actor in (t.viewer, t.viewer_key):
        assert api.get("/api/v1/users", headers=actor.headers).status_code == 403


def test_users_are_tenant_scoped(api, make_tenant):
    a, b = make_tenant(), make_tenant()
    target = a.analyst.user_id
    assert (
        api.patch(f"/api/v1/users/{target}", json={"name": "x"}, headers=b.owner.headers).status_code == 404
    )
    assert {u["id"] for u in api.get("/api/v1/users", headers=b.owner.headers).json()["data"]}.isdisjoint(
        {str(a.owner.user_id), str(target)}
    )
    inv = api.post(
        "/api/v1/invitations",
        json={"email": f"x-{a.tenant_id.hex[:6]}@tests.example", "role": "analyst"},
        headers=a.owner.headers,
    ).json()["data"]
    assert api.delete(f"/api/v1/invitations/{inv['id']}", headers=b.owner.headers).status_code == 404
    assert api.get("/api/v1/tenant", headers=b.owner.headers).json()["data"]["tenant"]["id"] == str(
        b.tenant_id
    )
