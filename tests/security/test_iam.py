"""Least privilege in template.yaml, after the SAM transform (inline `Statement` policies, SAM policy templates and
the AWS managed policies SAM attaches): no identity policy grants a wildcard action (`*` or `service:*`) on every
resource (`*`), and every AWS managed policy a role carries is on a short reviewed list."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.unit.test_template import _packaged

#: AWS managed policies a function role may carry, each with why it is acceptable. SAM attaches these itself.
MANAGED_ALLOWED = {
    "AWSLambdaBasicExecutionRole": "logs:CreateLogGroup/CreateLogStream/PutLogEvents: the function's own logs",
    "AWSXrayWriteOnlyAccess": "xray:PutTraceSegments/PutTelemetryRecords/GetSampling*: tracing only, no data",
    "AWSLambdaVPCAccessExecutionRole": "ec2 network interfaces for a function in the VPC (RDS Proxy)",
    "AWSLambdaSQSQueueExecutionRole": "sqs receive/delete on the event source queue",
}

#: Resource policies (not identity policies) that legitimately say `service:*` on `*`, with the reason.
RESOURCE_POLICY_ALLOWED = {
    ("CredentialsKey", "AccountAdministers"): (
        "the KMS default key policy: the account root administers its own key (Resource '*' in a key policy means "
        "this key); without it the key becomes unmanageable. Use stays behind IAM (kms:Decrypt on this key ARN)."
    ),
}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(_packaged(), {}, NoManagedPolicies())["Resources"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wild_action(action: Any) -> bool:
    return isinstance(action, str) and (action == "*" or action.endswith(":*"))


def _every_resource(resource: Any) -> bool:
    return any(r == "*" for r in _as_list(resource))


def _identity_statements(resources: dict[str, Any]):
    for lid, res in resources.items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for st in _as_list(policy["PolicyDocument"]["Statement"]):
                    yield f"{lid}/{policy['PolicyName']}", st
        elif res["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            for st in _as_list(props["PolicyDocument"]["Statement"]):
                yield lid, st


def _grants_everything(st: dict[str, Any]) -> bool:
    if st.get("Effect") != "Allow":
        return False
    if "NotAction" in st or "NotResource" in st:
        return True  # an allow-list by exclusion is a wildcard in disguise
    return any(_wild_action(a) for a in _as_list(st.get("Action", []))) and _every_resource(
        st.get("Resource", [])
    )


def test_the_transform_has_roles_to_check(resources):
    roles = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(roles) >= len(functions) >= 7
    assert sum(1 for _ in _identity_statements(resources)) > len(functions)


def test_no_identity_policy_grants_wildcard_actions_on_every_resource(resources):
    offenders = [(where, st) for where, st in _identity_statements(resources) if _grants_everything(st)]
    assert not offenders, "\n".join(f"{w}: {st}" for w, st in offenders)


def test_managed_policies_are_reviewed(resources):
    unknown = set()
    for lid, res in resources.items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for arn in res["Properties"].get("ManagedPolicyArns", []):
            text = arn if isinstance(arn, str) else str(arn)
            name = text.rsplit("/", 1)[-1].rstrip("'}] ")
            if not any(allowed in text for allowed in MANAGED_ALLOWED):
                unknown.add((lid, name))
    assert not unknown, unknown


def test_resource_policies_grant_wildcards_only_where_reviewed(resources):
    found = set()
    for lid, res in resources.items():
        props = res.get("Properties", {})
        doc = props.get("KeyPolicy") or props.get("PolicyDocument")
        if not isinstance(doc, dict) or res["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            continue
        for st in _as_list(doc.get("Statement", [])):
            if _grants_everything(st):
                found.add((lid, st.get("Sid")))
    assert found <= set(RESOURCE_POLICY_ALLOWED), found - set(RESOURCE_POLICY_ALLOWED)
    key = resources["CredentialsKey"]["Properties"]["KeyPolicy"]["Statement"]
    admin = next(s for s in key if s.get("Sid") == "AccountAdministers")
    assert "root" in str(admin["Principal"]["AWS"])  # the account, never a wildcard principal
