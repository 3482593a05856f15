"""Regressions found by schemathesis in the generated OpenAPI document."""

from __future__ import annotations

import enum
from typing import Any

import jsonschema
from pydantic import BaseModel

from strategist.domain.auth import Role
from strategist.http.api import JSON_TYPES, Operation
from strategist.http.openapi import build_openapi


class _KeyScope(enum.StrEnum):
    read = "read"
    write = "write"


class _RuleScope(enum.StrEnum):
    client = "client"
    campaign = "campaign"


_KeyScope.__name__ = _RuleScope.__name__ = "Scope"  # two modules' enums of one name, as in the real code


class KeyOut(BaseModel):
    scopes: list[_KeyScope]


class RuleOut(BaseModel):
    scope: _RuleScope


def _op(path: str, response: Any, *, auth: bool = True, html: bool = False) -> Operation:
    return Operation(
        path=path,
        method="GET",
        summary=path,
        handler_name=path.strip("/").replace("/", "_"),
        body=None,
        query=None,
        path_params={},
        response=response,
        status=200,
        auth=auth,
        min_role=Role.CLIENT_VIEWER,
        scope=None,
        envelope_key=None,
        tags=(),
        content_types=JSON_TYPES,
        html=html,
    )


def _validator(doc: dict[str, Any], path: str, status: str = "200") -> jsonschema.Validator:
    schema = doc["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator({**schema, "components": doc["components"]})


def _resolve_refs(doc: dict[str, Any]) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], ref
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)


def test_same_named_enums_of_two_modules_keep_their_own_values() -> None:
    """GET /api-keys answered scopes ["read"] against a `Scope` component holding the alert rules' values."""
    doc = build_openapi(
        [_op("/rules", RuleOut), _op("/keys", KeyOut)], title="t", version="1", server_url="http://x"
    )
    _resolve_refs(doc)
    keys, rules = _validator(doc, "/keys"), _validator(doc, "/rules")
    ok = {"success": True, "message": "", "timestamp": "2026-11-26T00:00:00Z"}
    assert keys.is_valid({**ok, "data": {"scopes": ["read", "write"]}})
    assert not keys.is_valid({**ok, "data": {"scopes": ["campaign"]}})
    assert rules.is_valid({**ok, "data": {"scope": "campaign"}})
    assert not rules.is_valid({**ok, "data": {"scope": "read"}})


def test_every_operation_documents_404_and_html_pages_their_content_type() -> None:
    """The public unsubscribe link answered an undocumented 404 (an unknown token), as an HTML page."""
    doc = build_openapi(
        [_op("/public", None, auth=False, html=True), _op("/api", KeyOut)],
        title="t",
        version="1",
        server_url="http://x",
    )
    public, api = doc["paths"]["/public"]["get"]["responses"], doc["paths"]["/api"]["get"]["responses"]
    assert "404" in public and "404" in api
    assert set(public["404"]["content"]) == {"application/json", "text/html"}
    assert set(public["200"]["content"]) == {"application/json", "text/html"}
    assert set(api["404"]["content"]) == {"application/json"}


def test_the_real_document_has_no_dangling_refs_and_one_scope_per_meaning(gateway: Any) -> None:
    doc = gateway.openapi("http://127.0.0.1")
    _resolve_refs(doc)
    schemas = doc["components"]["schemas"]
    enums = [
        tuple(s["enum"])
        for name, s in schemas.items()
        if name.rstrip("0123456789") == "Scope" and "enum" in s
    ]
    assert any("read" in e for e in enums) and any("campaign" in e for e in enums), enums
    unsub = doc["paths"]["/api/v1/communications/unsubscribe"]["get"]["responses"]
    assert "text/html" in unsub["404"]["content"]


def test_creates_link_to_the_operations_on_the_item_they_made(gateway: Any) -> None:
    """Stateful fuzzing follows these links with the real id (POST /clients -> GET/PATCH /clients/{client_id})."""
    doc = gateway.openapi("http://127.0.0.1")
    links = doc["paths"]["/api/v1/clients"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"]: link["parameters"] for link in links.values()}
    ops = {
        op["operationId"]: (path, method)
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    assert {ops[t] for t in targets} >= {("/api/v1/clients/{client_id}", "get")}
    assert all(p == {"client_id": "$response.body#/data/id"} for p in targets.values())
    linked = [
        p
        for p, item in doc["paths"].items()
        if "links" in item.get("post", {}).get("responses", {}).get("201", {})
    ]
    assert len(linked) >= 10, linked


def test_every_writing_method_documents_409(gateway: Any) -> None:
    """PUT /communication-templates/{id} answered an undocumented 409 (a name taken by another template)."""
    doc = gateway.openapi("http://127.0.0.1")
    for path, item in doc["paths"].items():
        for method in ("post", "put", "patch", "delete"):
            if method in item:
                assert "409" in item[method]["responses"], (method, path)
        for method in ("post", "put", "patch"):
            if method in item and "requestBody" in item[method]:
                assert {"413", "415"} <= set(item[method]["responses"]), (method, path)
