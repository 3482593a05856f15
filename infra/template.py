"""Reads template.yaml: the routes, functions, schedules, queues and resources the local runner builds and the
tests check. SAM's own YAML parser turns the short tags (!Ref, !Sub, !GetAtt) into their long forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


@dataclass(frozen=True)
class Route:
    function: str
    path: str
    method: str
    authorized: bool


@dataclass(frozen=True)
class Schedule:
    function: str
    name: str
    expression: str
    enabled: bool = True


@dataclass(frozen=True)
class SqsTrigger:
    function: str
    queue: str  # logical id
    batch_size: int
    report_failures: bool
    max_batching_window_s: int = 0


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: Any
    visibility_timeout: int
    dead_letter_of: str | None  # logical id of the DLQ this queue redrives to
    max_receive_count: int | None
    fifo: bool = False


@dataclass
class FunctionSpec:
    logical_id: str
    code_uri: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any] = field(default_factory=dict)
    layers: list[Any] = field(default_factory=list)
    package_type: str = "Zip"

    @property
    def directory(self) -> Path:
        return ROOT / self.code_uri.rstrip("/")

    @property
    def module_file(self) -> Path:
        return self.directory / (self.handler.split(".")[0] + ".py")

    @property
    def attribute(self) -> str:
        return self.handler.split(".", 1)[1]


class Template:
    def __init__(self, document: dict[str, Any]) -> None:
        self.doc = document
        self.resources: dict[str, dict[str, Any]] = document.get("Resources", {})
        self.globals: dict[str, Any] = document.get("Globals", {}).get("Function", {})
        self.parameters: dict[str, Any] = document.get("Parameters", {})

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == kind}

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        out = {}
        for lid, res in self.of_type("AWS::Serverless::Function").items():
            props = res.get("Properties", {})
            env = dict(self.globals.get("Environment", {}).get("Variables", {}))
            env.update(props.get("Environment", {}).get("Variables", {}))
            if props.get("PackageType") == "Image":
                # The image is built from functions/<FUNCTION>/ (Metadata.DockerBuildArgs); its command is the handler.
                meta = res.get("Metadata", {})
                code_uri = f"functions/{meta['DockerBuildArgs']['FUNCTION']}/"
                handler = props["ImageConfig"]["Command"][0]
            else:
                code_uri, handler = props["CodeUri"], props["Handler"]
            out[lid] = FunctionSpec(
                logical_id=lid,
                code_uri=code_uri,
                handler=handler,
                timeout=int(props.get("Timeout", self.globals.get("Timeout", 3))),
                memory=int(props.get("MemorySize", self.globals.get("MemorySize", 128))),
                environment=env,
                # SAM appends a function's own list to Globals.Function.Layers
                layers=list(self.globals.get("Layers", [])) + list(props.get("Layers", [])),
                package_type=props.get("PackageType", "Zip"),
            )
        return out

    def _events(self, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
        found = []
        for lid, res in self.of_type("AWS::Serverless::Function").items():
            for name, event in (res.get("Properties", {}).get("Events") or {}).items():
                if event.get("Type") == kind:
                    found.append((lid, name, event.get("Properties", {})))
        return found

    @property
    def routes(self) -> list[Route]:
        routes = []
        for lid, _name, props in self._events("Api"):
            authorizer = (props.get("Auth") or {}).get("Authorizer")
            routes.append(Route(lid, props["Path"], props["Method"].upper(), authorizer != "NONE"))
        return routes

    @property
    def schedules(self) -> list[Schedule]:
        out = []
        for kind in ("Schedule", "ScheduleV2"):
            for lid, name, props in self._events(kind):
                expr = props.get("Schedule") or props.get("ScheduleExpression")
                enabled = props.get("Enabled", props.get("State", "ENABLED") != "DISABLED")
                out.append(Schedule(lid, name, expr, bool(enabled)))
        return out

    @property
    def sqs_triggers(self) -> list[SqsTrigger]:
        out = []
        for lid, _name, props in self._events("SQS"):
            queue = props["Queue"]
            queue_id = (
                queue["Fn::GetAtt"][0] if isinstance(queue, dict) and "Fn::GetAtt" in queue else str(queue)
            )
            out.append(
                SqsTrigger(
                    function=lid,
                    queue=queue_id,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    max_batching_window_s=int(props.get("MaximumBatchingWindowInSeconds", 0)),
                )
            )
        return out

    @property
    def queues(self) -> dict[str, QueueSpec]:
        out = {}
        for lid, res in self.of_type("AWS::SQS::Queue").items():
            props = res.get("Properties", {})
            redrive = props.get("RedrivePolicy") or {}
            target = redrive.get("deadLetterTargetArn")
            dlq = target["Fn::GetAtt"][0] if isinstance(target, dict) and "Fn::GetAtt" in target else None
            out[lid] = QueueSpec(
                logical_id=lid,
                name=props.get("QueueName", lid),
                visibility_timeout=int(props.get("VisibilityTimeout", 30)),
                dead_letter_of=dlq,
                max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
                fifo=bool(props.get("FifoQueue", False)),
            )
        return out

    @property
    def usage_plan_throttle(self) -> tuple[float, int]:
        """(requests per second, burst) per API key, from the API's usage plan."""
        for res in self.of_type("AWS::Serverless::Api").values():
            throttle = res.get("Properties", {}).get("Auth", {}).get("UsagePlan", {}).get("Throttle")
            if throttle:
                return float(throttle["RateLimit"]), int(throttle["BurstLimit"])
        return 20.0, 40


@lru_cache(maxsize=4)
def _load(path: str) -> Template:
    from samtranslator.yaml_helper import yaml_parse

    return Template(yaml_parse(Path(path).read_text()))


def load_template(path: Path = TEMPLATE) -> Template:
    return _load(str(path))


# -- intrinsic functions, resolved against a local mapping ----------------------------------------------------
_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


def resolve(value: Any, ref: Callable[[str], Any], getatt: Callable[[str, str], Any]) -> Any:
    """Resolve Ref, Fn::Sub, Fn::GetAtt, Fn::Join and Fn::If-free values the local stack needs."""
    if isinstance(value, list):
        return [resolve(v, ref, getatt) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return ref(arg)
        if key == "Fn::GetAtt":
            logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return getatt(logical, attr)
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

            def sub(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in variables:
                    return str(resolve(variables[name], ref, getatt))
                if "." in name and not name.startswith("AWS::"):
                    logical, attr = name.split(".", 1)
                    return str(getatt(logical, attr))
                return str(ref(name))

            return _SUB.sub(sub, text)
        if key == "Fn::Join":
            sep, items = arg
            return sep.join(str(resolve(i, ref, getatt)) for i in items)
    return {k: resolve(v, ref, getatt) for k, v in value.items()}


# -- issue 8, live updates slice: the WebSocket API's routes ---------------------------------------------------
@dataclass(frozen=True)
class WebSocketRoute:
    route_key: str  # $connect, $disconnect, $default or a custom action
    function: str  # logical id of the integrated function
    authorizer: str | None  # logical id of the REQUEST authorizer's function ($connect only)
    two_way: bool  # a route response is configured: the integration's body goes back to the client


_FUNCTION_IN_URI = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")
_INTEGRATION_IN_TARGET = re.compile(r"integrations/\$\{([A-Za-z0-9]+)\}")


def _sub_text(value: Any) -> str:
    if isinstance(value, dict) and "Fn::Sub" in value:
        arg = value["Fn::Sub"]
        return arg if isinstance(arg, str) else str(arg[0])
    return str(value)


def websocket_routes(template: Template) -> dict[str, list[WebSocketRoute]]:
    """Per WEBSOCKET API (logical id): its routes with the function each integrates and the authorizer function."""
    apis = {
        lid for lid, res in template.of_type("AWS::ApiGatewayV2::Api").items()
        if res.get("Properties", {}).get("ProtocolType") == "WEBSOCKET"
    }  # fmt: skip
    responses = {
        str((res.get("Properties", {}).get("RouteId") or {}).get("Ref"))
        for res in template.of_type("AWS::ApiGatewayV2::RouteResponse").values()
    }
    out: dict[str, list[WebSocketRoute]] = {api: [] for api in apis}
    for lid, res in template.of_type("AWS::ApiGatewayV2::Route").items():
        props = res.get("Properties", {})
        api = (props.get("ApiId") or {}).get("Ref")
        if api not in apis:
            continue
        m = _INTEGRATION_IN_TARGET.search(_sub_text(props.get("Target", "")))
        if not m:
            continue
        integration = template.resources[m.group(1)].get("Properties", {})
        fn = _FUNCTION_IN_URI.search(_sub_text(integration.get("IntegrationUri", "")))
        authorizer_fn = None
        auth_ref = (
            (props.get("AuthorizerId") or {}).get("Ref")
            if props.get("AuthorizationType") == "CUSTOM"
            else None
        )
        if auth_ref:
            a = _FUNCTION_IN_URI.search(
                _sub_text(template.resources[auth_ref]["Properties"]["AuthorizerUri"])
            )
            authorizer_fn = a.group(1) if a else None
        if fn:
            out[api].append(WebSocketRoute(props["RouteKey"], fn.group(1), authorizer_fn, lid in responses))
    return out
