"""Loads function handlers from their CodeUri and invokes them with Lambda-shaped events and contexts, in process.

Every function's module is named `app`, so each is loaded under a unique module name from its own file, exactly
the file Lambda would import as `app`."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.local.aws import ACCOUNT_ID, REGION
from infra.template import FunctionSpec

_lock = threading.Lock()
_modules: dict[str, Any] = {}


def load_handler(spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
    with _lock:
        module = _modules.get(spec.logical_id)
        if module is None:
            name = f"lambda_{spec.logical_id}"
            mod_spec = importlib.util.spec_from_file_location(name, spec.module_file)
            assert mod_spec and mod_spec.loader, spec.module_file
            module = importlib.util.module_from_spec(mod_spec)
            mod_spec.loader.exec_module(module)
            _modules[spec.logical_id] = module
    return getattr(module, spec.attribute)


def load_module(spec: FunctionSpec) -> Any:
    load_handler(spec)
    return _modules[spec.logical_id]


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that code and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str
    invoked_function_arn: str
    log_group_name: str
    log_stream_name: str
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def make_context(spec: FunctionSpec) -> LambdaContext:
    name = f"marketing-strategist-{spec.logical_id}"
    return LambdaContext(
        function_name=name,
        memory_limit_in_mb=spec.memory,
        timeout_s=spec.timeout,
        aws_request_id=str(uuid.uuid4()),
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
        log_group_name=f"/aws/lambda/{name}",
        log_stream_name=dt.datetime.now(dt.UTC).strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex,
    )


def invoke(spec: FunctionSpec, event: dict[str, Any]) -> Any:
    return load_handler(spec)(event, make_context(spec))


# -- API Gateway REST (v1) proxy events ------------------------------------------------------------------------
def rest_event(
    *,
    resource: str,
    path: str,
    method: str,
    headers: dict[str, str],
    multi_headers: dict[str, list[str]],
    query: dict[str, list[str]],
    path_params: dict[str, str],
    body: bytes,
    source_ip: str,
    stage: str,
    authorizer: dict[str, Any] | None,
    request_id: str,
    api_id: str = "local",
) -> dict[str, Any]:
    is_text = True
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        is_text = False
        text = base64.b64encode(body).decode()
    now = dt.datetime.now(dt.UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
                "apiKey": None,
                "caller": None,
                "user": None,
            },
            "domainName": "localhost",
            "apiId": api_id,
            "authorizer": authorizer,
        },
        "body": (text if body else None),
        "isBase64Encoded": not is_text,
    }


def authorizer_event(
    *,
    method_arn: str,
    resource: str,
    path: str,
    method: str,
    headers: dict[str, str],
    query: dict[str, list[str]],
    path_params: dict[str, str],
    stage: str,
    request_id: str,
    source_ip: str,
) -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": {k: v[-1] for k, v in query.items()},
        "pathParameters": path_params,
        "stageVariables": {},
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "stage": stage,
            "requestId": request_id,
            "identity": {"sourceIp": source_ip},
            "accountId": ACCOUNT_ID,
            "apiId": "local",
        },
    }


def scheduled_event(rule_name: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }
