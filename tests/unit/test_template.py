"""template.yaml is the single source of truth: every Chalice route matches a template event and back, every
function's code exists, and the template transforms with aws-sam-translator and passes cfn-lint."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from infra.local import lambda_runtime
from infra.template import ROOT, load_template

TEMPLATE = load_template()


def test_every_function_has_its_code():
    for spec in TEMPLATE.functions.values():
        assert spec.module_file.exists(), spec.logical_id
        handler = lambda_runtime.load_handler(spec)
        assert callable(handler)


def test_every_function_directory_is_deployed():
    declared = {spec.directory.name for spec in TEMPLATE.functions.values()}
    present = {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()}
    assert present == declared


def test_chalice_routes_equal_template_events():
    """A route in code that the template forgets is unreachable on AWS; the reverse is a 405 at run time."""
    for lid, spec in TEMPLATE.functions.items():
        if spec.attribute != "app":
            continue
        app = lambda_runtime.load_handler(spec)
        in_code = {(path, method) for path, methods in app.routes.items() for method in methods}
        in_template = {(r.path, r.method) for r in TEMPLATE.routes if r.function == lid}
        assert in_code == in_template, (
            f"{lid}: code-only {in_code - in_template}, template-only {in_template - in_code}"
        )


def test_routes_are_unique_and_public_routes_are_deliberate():
    keys = [(r.path, r.method) for r in TEMPLATE.routes]
    assert len(keys) == len(set(keys))
    public = {(r.path, r.method) for r in TEMPLATE.routes if not r.authorized}
    assert public == {
        ("/health", "GET"),
        ("/api/v1/auth/token", "POST"),
        ("/api/v1/auth/refresh", "POST"),
        ("/api/v1/auth/logout", "POST"),
        ("/api/v1/invitations/accept", "POST"),
        # issue 7, communications slice: the signed unsubscribe link (the token is the credential)
        ("/api/v1/communications/unsubscribe", "GET"),
        ("/api/v1/communications/unsubscribe", "POST"),
    }


def test_every_queue_has_a_dead_letter_queue_and_sane_visibility():
    queues = TEMPLATE.queues
    work = [q for q in queues.values() if not q.logical_id.endswith("DeadLetterQueue")]
    assert {q.logical_id for q in work} == {"SyncQueue", "CommunicationsQueue", "ReportsQueue"}
    for q in work:
        assert q.dead_letter_of in queues and q.max_receive_count == 5
    for trigger in TEMPLATE.sqs_triggers:
        fn = TEMPLATE.functions[trigger.function]
        assert queues[trigger.queue].visibility_timeout >= 6 * fn.timeout
        assert trigger.report_failures


def _packaged() -> dict:
    """What `sam package` does before deploying: local code paths become S3 URIs."""
    from samtranslator.yaml_helper import yaml_parse

    doc = yaml_parse((ROOT / "template.yaml").read_text())
    doc = copy.deepcopy(doc)
    for res in doc["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::Serverless::Function":
            if props.get("PackageType") == "Image":
                props["ImageUri"] = (
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/marketing-strategist:python3.12"
                )
            else:
                props["CodeUri"] = "s3://artifacts/functions.zip"
        if res["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://artifacts/layer.zip"
    return doc


@pytest.fixture(scope="module")
def transformed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    out = transform(_packaged(), {}, NoManagedPolicies())
    path = tmp_path_factory.mktemp("cfn") / "template.json"
    path.write_text(json.dumps(out))
    return path


def test_sam_transform_produces_the_topology(transformed: Path):
    resources = json.loads(transformed.read_text())["Resources"]
    kinds = [r["Type"] for r in resources.values()]
    for kind, at_least in {
        "AWS::Lambda::Function": 7,
        "AWS::ApiGateway::RestApi": 1,
        "AWS::ApiGateway::UsagePlan": 1,
        "AWS::Events::Rule": 2,
        "AWS::SQS::Queue": 6,
        "AWS::RDS::DBCluster": 1,
        "AWS::RDS::DBProxy": 1,
        "AWS::SecretsManager::Secret": 3,
        "AWS::KMS::Key": 1,
        "AWS::CloudWatch::Alarm": 6,
        "AWS::Lambda::LayerVersion": 2,
    }.items():
        assert kinds.count(kind) >= at_least, kind
    api = next(r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi")
    security = api["Properties"]["Body"]["securityDefinitions"]
    assert security["LambdaAuthorizer"]["x-amazon-apigateway-authtype"] == "custom"


def test_cfn_lint_is_clean(transformed: Path):
    from cfnlint.api import ManualArgs, lint

    # Resources SAM generates (usage plan plumbing) carry W3005 by SAM's own design; ours must be clean.
    generated = ("ApiUsagePlan", "ApiUsagePlanKey", "ApiApiKey")
    matches = [
        m
        for m in lint(transformed.read_text(), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
        if m.rule.id.startswith(("E", "W")) and not (m.rule.id == "W3005" and m.path[1] in generated)
    ]
    assert not matches, "\n".join(f"{m.rule.id} {m.message} ({m.path})" for m in matches)


def test_no_duplicate_keys():
    """YAML keeps the last of two equal keys without a word; in a template that silently drops a resource's
    settings (it happened once with two Metadata blocks)."""
    import yaml

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
        keys = [loader.construct_object(k) for k, _ in node.value]
        dupes = {k for k in keys if keys.count(k) > 1}
        assert not dupes, f"duplicate keys {dupes} near line {node.start_mark.line + 1}"
        return loader.construct_mapping(node)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Strict.add_multi_constructor("!", lambda loader, suffix, node: None)
    yaml.load((ROOT / "template.yaml").read_text(), Loader=Strict)
