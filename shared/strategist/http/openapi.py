"""OpenAPI 3.1 generated from the operations the functions register: the same pydantic models that validate
requests describe them, so the document cannot drift from the code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, TypeAdapter

from strategist.http.api import Operation

REF = "#/components/schemas/{model}"
REF_PREFIX = "#/components/schemas/"


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {k: _rename_refs(v, renames) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX) and ref[len(REF_PREFIX) :] in renames:
            out["$ref"] = REF.format(model=renames[ref[len(REF_PREFIX) :]])
        return out
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def _register(components: dict[str, Any], name: str, definition: Any) -> str:
    """Add a component under `name`, or under `name2`, `name3`... when another, different schema already holds
    that name (two modules' `Scope` enums, say): never let one silently stand for the other."""
    candidate, n = name, 1
    while candidate in components and components[candidate] != definition:
        n += 1
        candidate = f"{name}{n}"
    components.setdefault(candidate, definition)
    return candidate


def _merge_defs(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Move the schema's $defs into components, renaming on a clash, and point its $refs at the final names."""
    defs: dict[str, Any] = schema.pop("$defs", {})
    renames: dict[str, str] = {}
    # a definition may refer to another one of the same batch, so names are settled before anything is added
    for name, definition in defs.items():
        candidate, n = name, 1
        while (candidate in components and components[candidate] != definition) or (
            candidate != name and candidate in defs
        ):
            n += 1
            candidate = f"{name}{n}"
        if candidate != name:
            renames[name] = candidate
    for name, definition in defs.items():
        components.setdefault(renames.get(name, name), _rename_refs(definition, renames))
    return _rename_refs(schema, renames) if renames else schema


def _schema(tp: Any, components: dict[str, Any], mode: str) -> dict[str, Any]:
    schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    schema = _merge_defs(schema, components)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and "properties" in schema:
        # Named models become components, so clients generated from the document get named types.
        name = tp.__name__ if mode == "validation" or tp.__name__ not in components else f"{tp.__name__}Out"
        return {"$ref": REF.format(model=_register(components, name, schema))}
    return schema


def _envelope(data: dict[str, Any], key: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "success": {"type": "boolean", "const": True},
        "data": data,
        "message": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
    }
    if key:
        props[key] = data
    return {"type": "object", "required": ["success", "data", "message", "timestamp"], "properties": props}


ERROR_ENVELOPE = {
    "type": "object",
    "required": ["success", "error", "timestamp"],
    "properties": {
        "success": {"type": "boolean", "const": False},
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "reason"],
                        "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        },
        "message": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
    },
}

ERROR_TEXT = {
    "400": "Malformed request",
    "401": "Missing, invalid or expired credentials",
    "403": "Authenticated but not allowed (role, scope or another tenant)",
    "404": "Not found (or not yours)",
    "409": "Conflict (state or Idempotency-Key reuse with another body)",
    "413": "Body too large",
    "415": "Unsupported Content-Type",
    "422": "Validation failed; error.fields names each field and reason",
    "429": "Rate limited; see Retry-After",
}


def _add_links(paths: dict[str, dict[str, Any]], components: dict[str, Any]) -> None:
    """OpenAPI links from each create (POST /x answering 201 with an `id`) to the operations on the item it made
    (/x/{x_id}): generated clients and stateful testers follow them with the real id instead of guessing."""
    for path, item in paths.items():
        post = item.get("post")
        created = (post or {}).get("responses", {}).get("201")
        if not created:
            continue
        data = created["content"]["application/json"]["schema"]["properties"]["data"]
        ref = data.get("$ref", "")
        target = components.get(ref.removeprefix(REF_PREFIX), data) if ref else data
        if "id" not in target.get("properties", {}):
            continue
        links: dict[str, Any] = {}
        for sub, sub_item in paths.items():
            rest = sub[len(path) :]
            if not sub.startswith(path + "/{") or rest.count("/") != 1 or not rest.endswith("}"):
                continue
            param = rest[2:-1]
            for method, op in sub_item.items():
                links[f"{op['operationId']}"] = {
                    "operationId": op["operationId"],
                    "parameters": {param: "$response.body#/data/id"},
                    "description": f"{method.upper()} {sub} of the item just created",
                }
        if links:
            created["links"] = links


def build_openapi(
    operations: Iterable[Operation], *, title: str, version: str, server_url: str
) -> dict[str, Any]:
    components: dict[str, Any] = {"ErrorEnvelope": ERROR_ENVELOPE}
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(operations, key=lambda o: (o.path, o.method)):
        item: dict[str, Any] = {
            "operationId": f"{op.handler_name}_{op.method.lower()}",
            "summary": op.summary,
            "tags": list(op.tags) or ["default"],
        }
        if op.description:
            item["description"] = op.description
        params: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": _schema(kind, components, "validation")}
            for name, kind in op.path_params.items()
        ]
        if op.query is not None:
            # parameters are listed one by one, so the query model is expanded here, not referenced
            qschema = _merge_defs(
                TypeAdapter(op.query).json_schema(ref_template=REF, mode="validation"), components
            )
            required = set(qschema.get("required", []))
            for name, prop in qschema.get("properties", {}).items():
                params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
        elif op.auth:
            params.append(
                {
                    "name": "tenant_id",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "format": "uuid"},
                    "description": "Accepted for compatibility; must be your own tenant.",
                }
            )
        if op.method == "POST" and op.auth:
            params.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "Same key + same body replays the first response; another body is a 409.",
                }
            )
        if params:
            item["parameters"] = params
        if op.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {
                    ct: {"schema": _schema(op.body, components, "validation")} for ct in op.content_types
                },
            }
        responses: dict[str, Any] = {}
        html: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}} if op.html else {}
        if op.status == 204:
            responses["204"] = {"description": "Done; no content"}
        else:
            data = _schema(op.response, components, "serialization") if op.response is not None else {}
            responses[str(op.status)] = {
                "description": op.summary,
                "content": {"application/json": {"schema": _envelope(data, op.envelope_key)}, **html},
            }
        codes = [
            "400",
            "401",
            "422",
            "429",
        ]  # sign-in, refresh and invitation routes answer 401 without an authorizer
        if op.auth:
            codes.append("403")
        # every operation can answer 404: a missing or foreign resource, an unknown or expired signed link
        codes.append("404")
        if op.method in ("POST", "PUT", "PATCH"):
            codes += ["409", "413", "415"]
        if op.method == "DELETE":
            codes.append("409")  # e.g. still in use, or in a state that cannot be removed
        for code in sorted(set(codes)):
            responses[code] = {
                "description": ERROR_TEXT[code],
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}},
                    **(html if code == "404" else {}),
                },
            }
        item["responses"] = responses
        item["security"] = [{"bearerAuth": []}] if op.auth else []
        paths.setdefault(op.path, {})[op.method.lower()] = item
    _add_links(paths, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Plans, measures and optimizes paid-media campaigns. Authenticate with "
            "`Authorization: Bearer <JWT from /api/v1/auth/token>` or `Bearer msk_...` (an API key).",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A JWT access token or an API key (msk_...).",
                }
            },
        },
    }
