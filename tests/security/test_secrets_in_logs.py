"""Secrets never reach the logs. Recognisable secrets are planted (a platform refresh token, client secret and
developer token, a Meta access token, a password at sign-in, right and wrong, API keys, JWTs, refresh tokens, a
webhook secret, a language-model key in the environment), the flows that touch them run through the real handlers
(sign-in, refresh, logout, API-key auth, connection create/test/sync/reconnect, a platform revoking the token,
errors), and every log record at DEBUG plus the functions' stdout/stderr are searched for the planted values."""

from __future__ import annotations

import logging
import uuid

import httpx

from tests.integration.test_sync import _account, drain  # noqa: F401  (drain is a fixture)

MARK = uuid.uuid4().hex[:10]


def _captured(caplog, capfd) -> str:
    out, err = capfd.readouterr()
    records = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.__dict__}" for r in caplog.records)
    return "\n".join([caplog.text, records, out, err])


def test_planted_secrets_never_reach_the_logs(api, stack, make_tenant, drain, caplog, capfd, monkeypatch):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    llm_key = f"sk-ant-api03-PLANTED{MARK}llmkey0123456789"
    monkeypatch.setenv("STRATEGIST_TEST_LLM_API_KEY", llm_key)
    world = make_tenant()
    planted: dict[str, str] = {"llm key": llm_key, "password": world.owner.password, "jwt": world.owner.token}

    # sign-in: right password, wrong password, unknown user; refresh, logout
    wrong_pw = f"PLANTEDpw{MARK}"
    planted["wrong password"] = wrong_pw
    ok = api.post("/api/v1/auth/token", json={"email": world.owner.email, "password": world.owner.password})
    assert ok.status_code == 200
    tokens = ok.json()["data"]
    planted["access token"] = tokens["access_token"]
    planted["refresh token"] = tokens["refresh_token"]
    assert (
        api.post("/api/v1/auth/token", json={"email": world.owner.email, "password": wrong_pw}).status_code
        == 401
    )
    unknown = {"email": f"nobody-{MARK}@tests.example", "password": wrong_pw}
    assert api.post("/api/v1/auth/token", json=unknown).status_code == 401
    again = api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 200
    planted["rotated refresh token"] = again.json()["data"]["refresh_token"]
    assert (
        api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    )
    assert api.post(
        "/api/v1/auth/logout", json={"refresh_token": planted["rotated refresh token"]}
    ).status_code in {
        200,
        204,
    }

    # API keys: made, used, a wrong one refused; a forged JWT refused
    made = api.post(
        "/api/v1/api-keys",
        json={"name": "bot", "role": "analyst", "scopes": ["read"]},
        headers=world.owner.headers,
    )
    assert made.status_code == 201, made.text
    key = next(v for v in made.json()["data"].values() if isinstance(v, str) and v.startswith("msk_"))
    planted["api key"] = key
    assert api.get("/api/v1/tenant", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    wrong_key = key[:17] + f"PLANTEDkey{MARK}"
    planted["wrong api key"] = wrong_key
    assert api.get("/api/v1/tenant", headers={"Authorization": f"Bearer {wrong_key}"}).status_code == 401
    assert api.get("/api/v1/tenant", headers={"X-Api-Key": wrong_key}).status_code == 401
    forged = world.owner.token[:-6] + "PLANTD"
    planted["forged jwt"] = forged
    assert api.get("/api/v1/tenant", headers={"Authorization": f"Bearer {forged}"}).status_code == 401

    # webhook secret
    r = api.post("/api/v1/communication-settings/webhook-secret", headers=world.owner.headers)
    assert r.status_code == 201, r.text
    planted["webhook secret"] = r.json()["webhook_secret"]["secret"]

    # platform credentials: create (validated against the simulator), test, sync, a revoked token, reconnect
    account = str(5_560_000_000 + uuid.uuid4().int % 1_000_000)
    httpx.post(f"{stack.sim_url}/_sim/accounts", json={"accounts": [_account("google_ads", account)]})
    google = {
        "customer_id": account,
        "developer_token": f"PLANTEDdev{MARK}",
        "client_id": f"PLANTEDcid{MARK}",
        "client_secret": f"PLANTEDcs{MARK}",
        "refresh_token": f"1//PLANTEDrt{MARK}",
    }
    planted |= {f"google {k}": v for k, v in google.items() if k != "customer_id"}
    base = f"/api/v1/clients/{world.clients[0]}/connections"
    r = api.post(
        base,
        json={"platform": "google_ads", "credentials": google, "backfill_days": 30},
        headers=world.owner.headers,
    )
    assert r.status_code == 201, r.text
    conn_id = r.json()["data"]["id"]
    assert api.post(f"{base}/{conn_id}/test", headers=world.owner.headers).status_code == 200
    drain()

    meta_account = str(100_000_000_000_000 + uuid.uuid4().int % 10**12)
    httpx.post(f"{stack.sim_url}/_sim/accounts", json={"accounts": [_account("meta_ads", meta_account)]})
    meta = {"ad_account_id": f"act_{meta_account}", "access_token": f"EAAPLANTED{MARK}meta"}
    planted["meta access token"] = meta["access_token"]
    r = api.post(
        base,
        json={"platform": "meta_ads", "credentials": meta, "backfill_days": 30},
        headers=world.owner.headers,
    )
    assert r.status_code == 201, r.text
    meta_id = r.json()["data"]["id"]
    drain()
    try:
        httpx.post(
            f"{stack.sim_url}/_sim/faults",
            json={"platform": "meta_ads", "kind": "expired_token", "count": 50},
        )
        assert api.post(f"{base}/{meta_id}/sync", headers=world.owner.headers).status_code == 202
        drain()
        assert api.post(f"{base}/{meta_id}/test", headers=world.owner.headers).status_code in {
            200,
            409,
            422,
            502,
        }
    finally:
        httpx.delete(f"{stack.sim_url}/_sim/faults")
    wrong_meta = {"ad_account_id": "act_999999999999999", "access_token": f"EAAPLANTED{MARK}wrong"}
    planted["wrong meta token"] = wrong_meta["access_token"]
    r = api.post(f"{base}/{meta_id}/reconnect", json={"credentials": wrong_meta}, headers=world.owner.headers)
    assert r.status_code == 422

    # an error inside a handler, logged with its traceback, that carries a secret in its message
    logging.getLogger("strategist.test").error("probe %s", "visible-marker")
    try:
        raise RuntimeError(f"upstream said: Authorization: Bearer {planted['access token']}")
    except RuntimeError:
        logging.getLogger("strategist.test").exception("call failed")

    text = _captured(caplog, capfd)
    assert "visible-marker" in text and "call failed" in text  # the capture does see the service's logs
    assert len(caplog.records) > 50
    leaks = {label for label, value in planted.items() if value in text}
    assert not leaks, leaks


# -- the redactor itself ----------------------------------------------------------------------------------------
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from strategist.logs import MASK, redact  # noqa: E402

_TOKEN = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=20, max_size=60
)
_PROSE = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=80)
_SHAPES = [
    lambda s: f"eyJhbGciOiJIUzI1NiJ9.eyJ{s}.{s[::-1]}",
    lambda s: f"msk_0123456789ab_{s}",
    lambda s: f"whsec_{s}",
    lambda s: f"1//{s}",
    lambda s: f"sk-ant-api03-{s}",
    lambda s: f"EAA{s.replace('-', 'x').replace('_', 'y')}",
]
_WRAPPERS = [
    lambda v: v,
    lambda v: f"Authorization: Bearer {v}",
    lambda v: f'{{"refresh_token": "{v}"}}',
    lambda v: f"client_secret={v}&grant_type=refresh_token",
    lambda v: f"{{'password': '{v}'}}",
    lambda v: f"X-Api-Key: {v}",
]


@settings(max_examples=300, deadline=None)
@given(
    secret=_TOKEN,
    shape=st.sampled_from(_SHAPES),
    wrap=st.sampled_from(_WRAPPERS),
    before=_PROSE,
    after=_PROSE,
)
def test_redact_removes_every_shape_anywhere(secret, shape, wrap, before, after):
    assume(secret not in before + after)
    value = shape(secret)
    line = f"{before} {wrap(value)} {after}"
    clean = redact(line)
    assert value not in clean and secret not in clean
    assert redact(clean) == clean  # idempotent: a scrubbed line stays as it is


@given(
    field=st.sampled_from(["password", "client_secret", "access_token", "api_key", "webhook_secret"]),
    value=_TOKEN,
)
def test_sensitive_fields_are_masked_in_every_notation(field, value):
    for line in (f"{field}={value}", f'"{field}": "{value}"', f"{field}: {value}", f"'{field}': '{value}'"):
        assert value not in redact(line) and MASK in redact(line)


def test_ordinary_lines_are_left_alone():
    for line in (
        "synced 3 campaigns for account 1234567890 (2026-11-25)",
        "token budget 4000 of 8000 used",
        "campaign 'Spring sale' spend 123.45 USD, ROAS 3.2",
        "GET /api/v1/clients/5b1c6a8e-8d8c-4a4e-9a53-2d1f3a1c9e77 200",
    ):
        assert redact(line) == line


def test_secret_environment_values_are_masked(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "opaque-value-without-a-known-shape-42")
    assert "opaque-value" not in redact("calling with opaque-value-without-a-known-shape-42 now")


def test_webhook_send_and_failures_never_log_the_secret(stack, make_tenant, caplog, capfd):
    """A signed webhook to a receiver that fails twice (retries), then a receiver that refuses the signature and
    echoes the headers it got (a dead-letter reason in the making): the tenant's webhook secret is in no log."""
    from tests.integration.test_worker_communications import (
        Receiver,
        _factory,
        _queue,
        _senders,
        _set_secret,
        deliver,
    )

    caplog.set_level(logging.DEBUG)
    world = make_tenant()
    secret = _set_secret(world)
    url = "https://hooks.example.com/strategist"
    receiver = Receiver(secret, fail_first=2)
    comm = _queue(world, recipients=[url], channels=("webhook",))
    deliver(
        {"tenant_id": str(world.tenant_id), "communication_id": str(comm)},
        uow_factory=_factory,
        senders=_senders(receiver),
    )
    assert len(receiver.accepted) == 1

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text=f"bad signature; got headers {dict(request.headers)} secret={secret}")

    comm2 = _queue(world, recipients=[url], channels=("webhook",))
    senders = _senders()
    senders.webhook.transport = httpx.MockTransport(echo)
    try:
        deliver(
            {"tenant_id": str(world.tenant_id), "communication_id": str(comm2)},
            uow_factory=_factory,
            senders=senders,
        )
    except Exception:
        logging.getLogger("strategist.test").exception("delivery raised")
    text = _captured(caplog, capfd)
    assert secret not in text
