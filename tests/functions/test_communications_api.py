"""Communications through the local gateway: the brief's send body, list/detail with per-recipient delivery
status after the worker ran, scheduling, templates with branding, consent, the public unsubscribe link, the
in-app inbox, webhook secrets, a poison message's reason in the API, validation, isolation and roles."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from strategist import bootstrap
from strategist.services.communications.delivery import deliver

SEND = "/api/v1/communication/send"
LIST = "/api/v1/communications"


@pytest.fixture(scope="module")
def world(make_tenant_module: Any) -> Any:
    w = make_tenant_module("Comms API agency")
    engine = create_engine(w_owner_url(make_tenant_module))
    engine.dispose()
    return w


def w_owner_url(_: Any) -> str:
    from strategist.config import get_settings

    return get_settings().database_url


@pytest.fixture(scope="module")
def other(make_tenant_module: Any) -> Any:
    return make_tenant_module("Other agency")


def _senders() -> Any:
    import httpx

    from strategist.adapters.messaging.email import SesEmailSender
    from strategist.adapters.messaging.sms import SnsSmsSender
    from strategist.adapters.messaging.webhook import WebhookSender
    from strategist.config import get_settings
    from strategist.services.communications.delivery import Senders

    s = get_settings()
    return Senders(
        email=SesEmailSender(s.data_bucket),
        sms=SnsSmsSender(),
        webhook=WebhookSender(transport=httpx.MockTransport(lambda r: httpx.Response(200)),
                              resolve=lambda h, p: ["93.184.216.34"], wait_multiplier=0.001),
        cipher=bootstrap.credential_cipher,
        key_ring=bootstrap.key_ring,
        sender_email=s.sender_email,
        public_base_url=s.public_base_url,
    )  # fmt: skip


def _run_worker(world: Any, comm_id: str, receive_count: int = 1) -> Any:
    return deliver(
        {"tenant_id": str(world.tenant_id), "communication_id": comm_id},
        uow_factory=lambda: bootstrap.system_unit_of_work("test"),
        senders=_senders(),
        receive_count=receive_count,
    )


def _send(api: Any, actor: Any, **body: Any) -> Any:
    return api.post(SEND, json=body, headers=actor.headers)


def test_brief_body_sends_and_detail_shows_deliveries(api: Any, world: Any) -> None:
    to = f"cmo-{uuid.uuid4().hex[:6]}@client.example"
    r = _send(
        api,
        world.analyst,
        tenant_id=str(world.tenant_id),
        client_id=str(world.clients[0]),
        message_type="performance_update",
        content="Your campaign performance this week shows excellent improvement.",
        send_immediately=True,
        recipients=[to],
        channels=["email", "in_app"],
    )
    assert r.status_code == 202, r.text
    body = r.json()
    comm = body["communication"]
    assert body["data"] == comm and body["success"] is True
    assert comm["status"] == "queued" and comm["subject"].startswith("Performance update: Client 0")
    assert {(d["channel"], d["recipient"], d["status"]) for d in comm["deliveries"]} == {
        ("email", to, "pending"),
        ("in_app", "in_app", "pending"),
    }
    _run_worker(world, comm["id"])
    got = api.get(f"{LIST}/{comm['id']}", headers=world.viewer.headers).json()["communication"]
    assert got["status"] == "sent" and got["delivery_summary"] == {"sent": 2}
    email = next(d for d in got["deliveries"] if d["channel"] == "email")
    assert email["attempts"] == 1 and email["provider_message_id"] and email["failure_reason"] is None
    # listed, filterable, and in the viewer's in-app inbox
    listed = api.get(
        LIST, params={"client_id": str(world.clients[0]), "status": "sent"}, headers=world.owner.headers
    )
    assert comm["id"] in [c["id"] for c in listed.json()["communications"]["items"]]

    def ids(**params: str) -> list[str]:
        r = api.get(LIST, params=params, headers=world.owner.headers)
        return [c["id"] for c in r.json()["communications"]["items"]]

    assert comm["id"] in ids(channel="in_app") and comm["id"] not in ids(channel="sms")
    assert comm["id"] not in ids(message_type="alert")
    inbox = api.get(f"{LIST}/in-app", headers=world.viewer.headers).json()["notifications"]["items"]
    assert comm["id"] in [c["id"] for c in inbox]


def test_idempotency_key_never_sends_twice(api: Any, world: Any) -> None:
    body = {
        "client_id": str(world.clients[0]),
        "message_type": "update",
        "content": "Budget moved.",
        "recipients": ["a@client.example"],
        "idempotency_key": f"k-{uuid.uuid4()}",
    }
    first = _send(api, world.analyst, **body).json()["communication"]
    second = _send(api, world.analyst, **body).json()["communication"]
    assert first["id"] == second["id"]


def test_scheduled_and_deferred_sends(api: Any, world: Any) -> None:
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    r = _send(api, world.analyst, client_id=str(world.clients[0]), message_type="update", content="Later",
              recipients=["b@client.example"], scheduled_at=later)  # fmt: skip
    assert r.status_code == 202 and r.json()["communication"]["status"] == "scheduled"
    assert r.json()["message"] == "Communication scheduled"
    r = _send(api, world.analyst, client_id=str(world.clients[0]), message_type="update", content="Batch",
              recipients=["b@client.example"], send_immediately=False)  # fmt: skip
    assert r.json()["communication"]["status"] == "scheduled"


def test_job_enqueues_due_schedules(api: Any, world: Any, stack: Any) -> None:
    from strategist.services.communications.schedule import enqueue_due

    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)).isoformat()
    comm = _send(api, world.analyst, client_id=str(world.clients[0]), message_type="update", content="Soon",
                 recipients=["c@client.example"], scheduled_at=soon).json()["communication"]  # fmt: skip
    calls: list[tuple[uuid.UUID, uuid.UUID, int]] = []
    now = dt.datetime.now(dt.UTC)
    enqueue_due(lambda: bootstrap.system_unit_of_work("test"), enqueue=lambda *a: calls.append(a), now=now)
    assert not [c for c in calls if str(c[1]) == comm["id"]]  # 30 min ahead: not yet
    enqueue_due(
        lambda: bootstrap.system_unit_of_work("test"),
        enqueue=lambda *a: calls.append(a),
        now=now + dt.timedelta(minutes=20),
    )
    mine = [c for c in calls if str(c[1]) == comm["id"]]
    assert len(mine) == 1 and 500 <= mine[0][2] <= 600  # ~10 minutes of SQS delay left
    assert (
        api.get(f"{LIST}/{comm['id']}", headers=world.owner.headers).json()["communication"]["status"]
        == "queued"
    )


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"content": None}, "body"),
        ({"channels": ["fax"]}, "body.channels.0"),
        ({"recipients": ["x@example.com\r\nBcc: y@example.com"]}, "recipients[0]"),
        ({"subject": "Hi\nBcc: y@example.com"}, "subject"),
        ({"scheduled_at": "2020-01-01T00:00:00+00:00"}, "body.scheduled_at"),
        ({"scheduled_at": "2030-01-01T00:00:00"}, "body.scheduled_at"),
        ({"message_type": "Not Valid"}, "body.message_type"),
        ({"channels": ["sms"]}, "recipients"),
        ({"recipients": None}, "recipients"),  # e-mail, no recipients and the client has no contact_emails
        ({"channels": ["webhook"], "recipients": ["https://hooks.example.com/x"]}, "channels"),
    ],
)
def test_bad_input_is_422_naming_the_field(api: Any, world: Any, patch: dict, field: str) -> None:
    body = {"client_id": str(world.clients[0]), "message_type": "update", "content": "x",
            "recipients": ["ok@client.example"], **patch}  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    r = _send(api, world.analyst, **body)
    assert r.status_code == 422, r.text
    assert field in [f["field"] for f in r.json()["error"]["fields"]] or field in r.json()["error"]["message"]


def test_isolation_and_roles(api: Any, world: Any, other: Any) -> None:
    comm = _send(api, world.analyst, client_id=str(world.clients[1]), message_type="update", content="Private",
                 recipients=["p@client.example"]).json()["communication"]  # fmt: skip
    # another tenant: 404 for the object, 403 for a foreign tenant_id, 404 for a foreign client
    assert api.get(f"{LIST}/{comm['id']}", headers=other.owner.headers).status_code == 404
    assert comm["id"] not in [
        c["id"] for c in api.get(LIST, headers=other.owner.headers).json()["communications"]["items"]
    ]
    r = _send(api, other.owner, tenant_id=str(world.tenant_id), client_id=str(world.clients[0]),
              message_type="update", content="x")  # fmt: skip
    assert r.status_code == 403
    r = _send(api, other.owner, client_id=str(world.clients[0]), message_type="update", content="x")
    assert r.status_code == 404
    # a client viewer: not the other client's communication, cannot send
    assert api.get(f"{LIST}/{comm['id']}", headers=world.viewer.headers).status_code == 404
    assert (
        api.get(LIST, params={"client_id": str(world.clients[1])}, headers=world.viewer.headers).status_code
        == 404
    )
    listed = api.get(LIST, headers=world.viewer_key.headers).json()["communications"]["items"]
    assert all(c["client_id"] == str(world.clients[0]) for c in listed)
    assert _send(api, world.viewer, client_id=str(world.clients[0]), message_type="update",
                 content="x").status_code == 403  # fmt: skip
    for path in (
        "/api/v1/communication-templates",
        "/api/v1/communication-consents",
        "/api/v1/communication-settings",
    ):
        assert api.get(path, headers=world.viewer.headers).status_code == 403
    assert api.get("/api/v1/communication-settings", headers=world.analyst.headers).status_code == 403


def test_templates_render_with_branding_and_validate_variables(api: Any, world: Any, stack: Any) -> None:
    engine = create_engine(stack.owner_url())
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE tenants SET branding = CAST(:b AS jsonb) WHERE id = :t"),
            {"t": world.tenant_id, "b": json.dumps({"sender_name": "Acme Media", "primary_color": "#aa0000",
                                                    "logo_url": "https://cdn.acme.example/logo.png",
                                                    "footer": "Acme Media, 1 Main St"})},
        )  # fmt: skip
    engine.dispose()
    tpl = {
        "name": f"Weekly {uuid.uuid4().hex[:6]}",
        "message_type": "update",
        "subject": "{{ client_name }}: CPA {{ cpa }}",
        "body_text": "Hi {{ first_name }}, CPA was {{ cpa }} this week.",
        "body_html": "<p>Hi {{ first_name }}, CPA was <b>{{ cpa }}</b>.</p>",
        "variables": [{"name": "first_name"}, {"name": "cpa"}],
    }
    r = api.post("/api/v1/communication-templates", json=tpl, headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    tid = r.json()["template"]["id"]
    assert (
        api.post("/api/v1/communication-templates", json=tpl, headers=world.analyst.headers).status_code
        == 409
    )
    bad = {**tpl, "name": "bad", "body_text": "{{ undeclared }}"}
    r = api.post("/api/v1/communication-templates", json=bad, headers=world.analyst.headers)
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body_text"
    bad = {**tpl, "name": "bad2", "body_text": "{{ cpa.__class__.__mro__ }}"}
    r = api.post("/api/v1/communication-templates", json=bad, headers=world.analyst.headers)
    assert r.status_code in {201, 422}
    if r.status_code == 201:  # the sandbox refuses it at render time
        rr = api.post(f"/api/v1/communication-templates/{r.json()['template']['id']}/preview",
                      json={"client_id": str(world.clients[0]), "variables": {"first_name": "A", "cpa": 1}},
                      headers=world.analyst.headers)  # fmt: skip
        assert rr.status_code == 422
    # preview: escaped HTML, branded layout
    r = api.post(f"/api/v1/communication-templates/{tid}/preview",
                 json={"client_id": str(world.clients[0]), "variables": {"first_name": "<script>", "cpa": "$12.40"}},
                 headers=world.analyst.headers)  # fmt: skip
    assert r.status_code == 200, r.text
    p = r.json()["preview"]
    assert p["subject"] == "Client 0 " + p["subject"].split("Client 0 ", 1)[1] and p["subject"].endswith(
        "CPA $12.40"
    )
    assert "&lt;script&gt;" in p["body_html"] and "<script>" not in p["body_html"]
    assert "#aa0000" in p["body_html"] and "https://cdn.acme.example/logo.png" in p["body_html"]
    assert "Acme Media, 1 Main St" in p["body_text"]
    # send with the template: missing / unknown variables are 422 naming them
    base = {"client_id": str(world.clients[0]), "message_type": "update", "template_id": tid,
            "recipients": ["t@client.example"]}  # fmt: skip
    r = _send(api, world.analyst, **base, content={"first_name": "Ann"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "content.cpa"
    r = _send(api, world.analyst, **base, content={"first_name": "Ann", "cpa": 3, "extra": 1})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "content.extra"
    r = _send(api, world.analyst, **base, content={"first_name": "Ann", "cpa": "$9.10"})
    assert r.status_code == 202, r.text
    comm = r.json()["communication"]
    assert comm["subject"].endswith("CPA $9.10") and comm["template_id"] == tid
    # update, list, delete; the other tenant cannot see it
    assert api.get(f"/api/v1/communication-templates/{tid}", headers=_other_owner(api)).status_code in {
        401,
        404,
    }
    r = api.put(f"/api/v1/communication-templates/{tid}", json={**tpl, "subject": "New {{ cpa }}"},
                headers=world.analyst.headers)  # fmt: skip
    assert r.status_code == 200 and r.json()["template"]["subject"] == "New {{ cpa }}"
    assert tid in [t["id"] for t in api.get("/api/v1/communication-templates", headers=world.analyst.headers)
                   .json()["templates"]["items"]]  # fmt: skip
    assert (
        api.delete(f"/api/v1/communication-templates/{tid}", headers=world.analyst.headers).status_code == 204
    )
    assert api.get(f"/api/v1/communication-templates/{tid}", headers=world.analyst.headers).status_code == 404


def _other_owner(api: Any) -> dict[str, str]:
    return {"Authorization": "Bearer not-a-token"}


def test_templates_are_tenant_scoped(api: Any, world: Any, other: Any) -> None:
    tpl = {"name": f"T {uuid.uuid4().hex[:6]}", "subject": "s", "body_text": "b"}
    tid = api.post("/api/v1/communication-templates", json=tpl, headers=world.analyst.headers).json()[
        "template"
    ]["id"]
    for method in ("GET", "PUT", "DELETE"):
        r = api.request(method, f"/api/v1/communication-templates/{tid}", json=tpl if method == "PUT" else None,
                        headers=other.owner.headers)  # fmt: skip
        assert r.status_code == 404, (method, r.text)
    r = api.post(f"/api/v1/communication-templates/{tid}/preview", json={"client_id": str(other.clients[0])},
                 headers=other.owner.headers)  # fmt: skip
    assert r.status_code == 404
    r = _send(api, other.owner, client_id=str(other.clients[0]), message_type="update", template_id=tid,
              recipients=["z@example.com"])  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "template_id"


def test_unsubscribe_link_suppresses_future_mail(api: Any, world: Any) -> None:
    from strategist.services.communications.tokens import make_token

    to = f"leaver-{uuid.uuid4().hex[:6]}@client.example"
    token = make_token(bootstrap.key_ring(), world.tenant_id, "email", to)
    page = api.get(f"{LIST}/unsubscribe", params={"token": token})
    assert page.status_code == 200 and '<form method="post"' in page.text and to not in page.text
    assert api.get(f"{LIST}/unsubscribe", params={"token": token[:-3] + "AAA"}).status_code == 404
    tampered = make_token(bootstrap.key_ring(), world.tenant_id, "email", "other@x.example").split(".")[0]
    assert (
        api.post(f"{LIST}/unsubscribe", params={"token": tampered + "." + token.split(".")[1]}).status_code
        == 404
    )
    r = api.post(f"{LIST}/unsubscribe", params={"token": token}, content=b"List-Unsubscribe=One-Click",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["unsubscribe"]["status"] == "opted_out"
    consents = api.get(
        "/api/v1/communication-consents", params={"recipient": to}, headers=world.analyst.headers
    )
    assert [(c["status"], c["source"]) for c in consents.json()["consents"]] == [
        ("opted_out", "unsubscribe_link")
    ]
    comm = _send(api, world.analyst, client_id=str(world.clients[0]), message_type="update", content="x",
                 recipients=[to]).json()["communication"]  # fmt: skip
    _run_worker(world, comm["id"])
    got = api.get(f"{LIST}/{comm['id']}", headers=world.owner.headers).json()["communication"]
    assert got["status"] == "suppressed"
    assert got["deliveries"][0]["failure_reason"] == "suppressed: unsubscribed"


def test_sms_opt_in_through_consent_api(api: Any, world: Any) -> None:
    phone = f"+1415{uuid.uuid4().int % 10_000_000:07d}"
    r = api.put("/api/v1/communication-consents", json={"channel": "sms", "recipient": phone, "status": "opted_in",
                "note": "signed form 2026-11-20"}, headers=world.analyst.headers)  # fmt: skip
    assert r.status_code == 200, r.text
    comm = _send(api, world.analyst, client_id=str(world.clients[0]), message_type="alert", content="CPA up",
                 channels=["sms"], recipients=[phone]).json()["communication"]  # fmt: skip
    _run_worker(world, comm["id"])
    got = api.get(f"{LIST}/{comm['id']}", headers=world.owner.headers).json()["communication"]
    assert got["status"] == "sent"
    r = api.put("/api/v1/communication-consents", json={"channel": "sms", "recipient": "12345", "status": "opted_in"},
                headers=world.analyst.headers)  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "recipient"


def test_webhook_secret_and_settings(api: Any, world: Any) -> None:
    r = api.post("/api/v1/communication-settings/webhook-secret", headers=world.admin.headers)
    assert r.status_code == 201 and r.json()["webhook_secret"]["secret"].startswith("whsec_")
    s = api.get("/api/v1/communication-settings", headers=world.admin.headers).json()["settings"]
    assert s["has_webhook_secret"] is True and "secret" not in s
    r = api.put("/api/v1/communication-settings", json={"webhook_urls": ["http://insecure.example/x"]},
                headers=world.admin.headers)  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "webhook_urls[0]"
    r = api.put("/api/v1/communication-settings", json={"webhook_urls": ["https://hooks.example.com/in"],
                "sms_numbers": ["+44 20 7946 0958"]}, headers=world.admin.headers)  # fmt: skip
    assert r.status_code == 200 and r.json()["settings"]["sms_numbers"] == ["+442079460958"]
    comm = _send(api, world.analyst, client_id=str(world.clients[0]), message_type="report", content="Ready",
                 channels=["webhook"]).json()["communication"]  # fmt: skip
    assert [d["recipient"] for d in comm["deliveries"]] == ["https://hooks.example.com/in"]
    _run_worker(world, comm["id"])
    assert (
        api.get(f"{LIST}/{comm['id']}", headers=world.owner.headers).json()["communication"]["status"]
        == "sent"
    )


def test_poison_reason_is_visible_in_the_api(api: Any, world: Any) -> None:
    """An attachment that never appears in S3: retried through SQS, and on the last receive the communication
    records why it went to the dead-letter queue."""
    from strategist.adapters.db.engine import get_sessionmaker
    from strategist.adapters.db.uow import UnitOfWork
    from strategist.services.communications import queue_communication
    from strategist.services.communications.delivery import DeliveryIncomplete

    with UnitOfWork(get_sessionmaker(), tenant_id=world.tenant_id, actor="test") as uow:
        comm_id = queue_communication(
            uow, client_id=world.clients[0], message_type="report", subject="Monthly report", body_text="Attached.",
            recipients=["r@client.example"], dedupe_key=f"report:{uuid.uuid4()}",
            attachments=[{"filename": "report.pdf", "content_type": "application/pdf", "s3_key": "reports/missing.pdf"}],
        )  # fmt: skip
    for receive in range(1, 6):
        with pytest.raises(DeliveryIncomplete):
            _run_worker(world, str(comm_id), receive_count=receive)
        got = api.get(f"{LIST}/{comm_id}", headers=world.owner.headers).json()["communication"]
        if receive < 5:
            assert got["failure_reason"].startswith(f"retrying (receive {receive} of 5)")
    assert got["status"] == "dead_lettered"
    assert (
        got["failure_reason"]
        == "dead-lettered: email r@client.example: attachment reports/missing.pdf not found in S3"
    )
    assert (
        got["deliveries"][0]["failure_reason"]
        == "dead-lettered: attachment reports/missing.pdf not found in S3"
    )
    listed = api.get(LIST, params={"status": "dead_lettered"}, headers=world.owner.headers).json()
    assert str(comm_id) in [c["id"] for c in listed["communications"]["items"]]


def test_invitation_is_emailed_in_the_inviting_transaction(api: Any, world: Any) -> None:
    from strategist.adapters.db.engine import get_sessionmaker
    from strategist.adapters.db.models import ClientCommunication
    from strategist.adapters.db.uow import UnitOfWork

    email = f"invitee-{uuid.uuid4().hex[:6]}@tests.example"
    r = api.post("/api/v1/invitations", json={"email": email, "role": "analyst"}, headers=world.admin.headers)
    assert r.status_code == 201, r.text
    accept_url = r.json()["data"]["accept_url"]
    listed = api.get(LIST, params={"message_type": "invitation"}, headers=world.owner.headers).json()
    (comm,) = [c for c in listed["communications"]["items"] if c["deliveries"][0]["recipient"] == email]
    assert comm["client_id"] is None and comm["subject"].startswith(
        "You are invited to join Comms API agency"
    )
    assert "accept-invitation?token=[removed]" in comm["body_text"] and accept_url not in comm["body_text"]
    # a client viewer does not see tenant-level messages
    assert api.get(f"{LIST}/{comm['id']}", headers=world.viewer.headers).status_code == 404
    _run_worker(world, comm["id"])
    from moto.ses.models import ses_backends

    from infra.local.aws import ACCOUNT_ID, REGION

    sent = [m.raw_data for m in ses_backends[ACCOUNT_ID][REGION].sent_messages if email in m.destinations]
    assert len(sent) == 1
    from email import message_from_string
    from email.policy import default as default_policy

    mail = message_from_string(sent[0], policy=default_policy)
    assert accept_url in mail.get_body(("plain",)).get_content()
    with UnitOfWork(get_sessionmaker(), tenant_id=world.tenant_id) as uow:
        row = uow.session.get(ClientCommunication, uuid.UUID(comm["id"]))
        assert row is not None and row.status == "sent" and accept_url not in row.body_text
        assert "[removed]" in row.body_text and accept_url not in (row.body_html or "")
