"""The tenancy matrix, generated from template.yaml's routes: every authorized route x {no credentials, a bad
signature, an expired token, the other tenant's owner, a client viewer of another client (token and API key), a
revoked API key} answers 401/403/404 and writes nothing in the victim tenant (row counts of EVERY tenant-owned
table, audit_log and outbox included, read through the owner login before and after each route).

Path parameters name the victim's REAL objects: the victim has one row in every tenant-owned table (a connection,
campaign, strategy, experiment, alert rule, alert, optimization, recommendation, rule, report, schedule,
communication, template, conversation, competitor analysis...), all on the client its viewer may NOT see, so a leak
would show. Collection routes answering the caller's own tenant must not mention any of the victim's ids.

The viewer's allowances come from tests/functions/test_access_matrix.py (one list for both matrices)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from infra.template import load_template
from tests.functions.test_access_matrix import VIEWER_ALLOWED, VIEWER_MAY_POST
from tests.security import tenant_rows

ROUTES = [r for r in load_template().routes if r.authorized]

#: path parameter -> the table whose victim row it names; where one name serves two tables, the path decides.
PARAM_TABLE = {
    "connection_id": "platform_connections",
    "campaign_id": "campaigns",
    "experiment_id": "experiments",
    "strategy_id": "marketing_strategies",
    "conversation_id": "assistant_conversations",
    "analysis_id": "competitor_analysis",
    "alert_id": "alerts",
    "report_id": "performance_reports",
    "schedule_id": "report_schedules",
    "communication_id": "client_communications",
    "template_id": "communication_templates",
    "recommendation_id": "optimization_recommendations",
    "invitation_id": "invitations",
    "key_id": "api_keys",
}


def _table_for(path: str, param: str) -> str:
    if param == "rule_id":
        return "alert_rules" if path.startswith("/api/v1/alerts/") else "automation_rules"
    if param == "optimization_id":
        return "budget_optimizations" if path.startswith("/api/v1/budget/") else "campaign_optimizations"
    return PARAM_TABLE[param]


class Matrix:
    def __init__(self, stack: Any, api: Any, victim: Any, intruder: Any) -> None:
        from strategist import bootstrap
        from strategist.adapters import crypto

        self.api = api
        self.victim = victim
        self.owner = create_engine(stack.owner_url())
        self.tables = tenant_rows.tenant_tables(self.owner)
        self.rows = tenant_rows.fill(stack.owner_url(), victim.tenant_id, victim.clients[1], self.tables)
        self.count_sql = text(
            "SELECT " + ", ".join(f"(SELECT count(*) FROM {t} WHERE tenant_id = :t)" for t in self.tables)
        )

        # a revoked API key of the victim's owner role
        made = api.post(
            "/api/v1/api-keys",
            json={"name": "revoked", "role": "owner", "scopes": ["read", "write", "admin"]},
            headers=victim.owner.headers,
        )
        assert made.status_code == 201, made.text
        key = made.json()["data"]
        assert api.delete(f"/api/v1/api-keys/{key['id']}", headers=victim.owner.headers).status_code in {
            200,
            204,
        }
        revoked = key.get("key") or key.get("api_key") or key.get("secret")
        assert revoked, key

        ring = bootstrap.key_ring()
        claims = {
            "sub": str(victim.owner.user_id),
            "tid": str(victim.tenant_id),
            "role": "owner",
            "cids": "*",
        }
        expired, _ = crypto.encode_access_token(
            ring, claims, ttl_s=-60, issuer="marketing-strategist", audience="marketing-strategist-api"
        )
        head, payload, signature = victim.owner.token.split(".")
        forged = f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
        #: label -> headers, for the callers refused outright (401)
        self.unauthenticated = {
            "no auth": {},
            "bad signature": {"Authorization": f"Bearer {forged}"},
            "expired token": {"Authorization": f"Bearer {expired}"},
            "revoked API key": {"Authorization": f"Bearer {revoked}"},
        }
        self.intruder = intruder
        self.victim_ids = {str(victim.tenant_id), str(victim.clients[1])} | {
            str(row["id"]) for row in self.rows.values() if isinstance(row.get("id"), uuid.UUID)
        }
        self.victim_ids.discard(str(victim.clients[0]))

    def fingerprints(self) -> tuple[str, ...]:
        """Per table, a digest of the tenant's rows as text: catches updates and soft deletes, not only counts."""
        if not hasattr(self, "_fp_sql"):
            self._fp_sql = text(
                "SELECT "
                + ", ".join(
                    f"(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x "
                    "WHERE tenant_id = :t)"
                    for t in self.tables
                )
            )
        with self.owner.connect() as conn:
            return tuple(conn.execute(self._fp_sql, {"t": self.victim.tenant_id}).one())

    def counts(self) -> tuple[int, ...]:
        with self.owner.connect() as conn:
            return tuple(conn.execute(self.count_sql, {"t": self.victim.tenant_id}).one())

    def path(self, template_path: str) -> str:
        def value(m: re.Match[str]) -> str:
            param = m.group(1)
            if param == "client_id":
                return str(self.victim.clients[1])
            if param == "user_id":
                return str(self.victim.analyst.user_id)
            return str(self.rows[_table_for(template_path, param)]["id"])

        return re.sub(r"\{(\w+)\}", value, template_path)

    def body(self, method: str, path: str) -> dict[str, Any] | None:
        """Routes on an object get the existing matrix's body (validation must not mask the object guard);
        collection writes name the victim's client and campaign (the guard on referenced objects)."""
        if method not in {"POST", "PATCH", "PUT"}:
            return None
        if "{" in path:
            return {"name": "intruder"}
        return {
            "name": "intruder",
            "client_id": str(self.victim.clients[1]),
            "campaign_id": str(self.rows["campaigns"]["id"]),
        }

    def leaked(self, response_text: str, *, insider: bool = False) -> set[str]:
        """Victim ids in a response; an insider (the victim's own viewer) may see its tenant's id."""
        ids = self.victim_ids - {str(self.victim.tenant_id)} if insider else self.victim_ids
        return {i for i in ids if i in response_text}


@pytest.fixture(scope="module")
def matrix(stack, api, make_tenant_module):
    m = Matrix(stack, api, make_tenant_module(), make_tenant_module())
    yield m
    m.owner.dispose()


def test_the_victim_objects_are_real(matrix):
    """The ids the matrix aims at resolve for the victim's own owner: a refusal below is the guard, not a typo."""
    v = matrix.victim
    for path in (
        "/api/v1/clients/{client_id}",
        "/api/v1/clients/{client_id}/connections/{connection_id}",
        "/api/v1/alerts/rules/{rule_id}",
        "/api/v1/rules/{rule_id}",
        "/api/v1/communication-templates/{template_id}",
        "/api/v1/report-schedules/{schedule_id}",
    ):
        r = matrix.api.get(matrix.path(path), headers=v.owner.headers)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    assert set(matrix.tables) <= set(matrix.rows) and len(matrix.tables) >= 36


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_route_refuses_every_outsider_and_writes_nothing(route, matrix):
    api, victim = matrix.api, matrix.victim
    before = matrix.counts()
    path = matrix.path(route.path)
    body = matrix.body(route.method, route.path)
    # collection reads: once as they come, once filtered on the victim's client (strict routes answer 422)
    queries: list[dict[str, str] | None] = [None]
    if route.method == "GET" and "{" not in route.path:
        queries.append({"client_id": str(victim.clients[1])})

    def call(headers: dict[str, str], query: dict[str, str] | None = None):
        return api.request(route.method, path, params=query, json=body, headers=headers)

    for label, headers in matrix.unauthenticated.items():
        r = call(headers)
        assert r.status_code == 401, (label, r.status_code, r.text[:300])

    for query in queries:
        r = call(matrix.intruder.owner.headers, query)
        assert not matrix.leaked(r.text), ("other tenant's owner", matrix.leaked(r.text))
        if "{" in route.path:
            assert r.status_code in {403, 404}, ("other tenant's owner", r.status_code, r.text[:300])
        else:
            assert r.status_code in {200, 201, 202, 400, 403, 404, 422}, (
                "other tenant's owner",
                r.text[:300],
            )

        for viewer in (victim.viewer, victim.viewer_key):
            r = call(viewer.headers, query)
            assert not matrix.leaked(r.text, insider=True), (viewer.role, matrix.leaked(r.text, insider=True))
            key = (route.path, route.method)
            if key in VIEWER_ALLOWED and "{" not in route.path:
                allowed = {200, 403, 404} if query is None else {200, 403, 404, 422}
                assert r.status_code in allowed, (viewer.role, r.status_code, r.text[:300])
            else:
                refused = {403, 404, 422} if key in VIEWER_MAY_POST else {403, 404}
                assert r.status_code in refused, (viewer.role, r.status_code, r.text[:300])

    after = matrix.counts()
    changed = {t: (b, a) for t, b, a in zip(matrix.tables, before, after, strict=True) if b != a}
    assert not changed, changed


# -- the audit trail of the owner's own mutations ----------------------------------------------------------------
UNAUDITED_TABLES = {
    "audit_log",
    "outbox",
    "idempotency_keys",
    "processed_messages",
    "llm_usage",
    "live_connections",
}
MUTATING = [r for r in ROUTES if r.method in {"POST", "PUT", "PATCH", "DELETE"}]
# deletes last (the client itself at the very end): they remove the objects the other calls aim at
MUTATING.sort(key=lambda r: (r.method == "DELETE", r.path == "/api/v1/clients/{client_id}"))


def test_every_successful_mutation_is_audited(stack, api, make_tenant_module):
    """Every mutating route, called by the tenant's own owner at its real objects with the matrix's body: each
    call that changed a tenant table (other than the log tables themselves) also wrote an audit_log row."""
    owner_world = make_tenant_module()
    m = Matrix(stack, api, owner_world, make_tenant_module())
    audit_at = m.tables.index("audit_log")
    try:
        succeeded, unaudited = [], []
        for route in MUTATING:
            before, audits = m.fingerprints(), m.counts()[audit_at]
            r = api.request(
                route.method,
                m.path(route.path),
                json=m.body(route.method, route.path),
                headers=owner_world.owner.headers,
            )
            after = m.fingerprints()
            changed = {
                t
                for t, b, a in zip(m.tables, before, after, strict=True)
                if b != a and t not in UNAUDITED_TABLES
            }
            if r.status_code < 300 and changed:
                succeeded.append(f"{route.method} {route.path}")
                if m.counts()[audit_at] <= audits:
                    unaudited.append((f"{route.method} {route.path}", sorted(changed)))
        assert len(succeeded) >= 10, succeeded  # the check did exercise real writes
        assert not unaudited, unaudited
    finally:
        m.owner.dispose()
