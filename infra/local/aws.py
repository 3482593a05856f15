"""moto server, provisioned with every queue (+ DLQ redrive), bucket, SES identity, KMS key, secret and event bus
that template.yaml declares, under the template's names; and the environment the functions then read."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.template import Template, resolve

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
STACK_NAME = "marketing-strategist"


@dataclass
class LocalResources:
    endpoint: str
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> what Ref returns
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)  # (logical id, attr) -> value
    queue_urls: dict[str, str] = field(default_factory=dict)  # logical id -> URL
    parameters: dict[str, str] = field(default_factory=dict)

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::StackName": STACK_NAME,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.physical.get(name, f"local-{name}")

    def getatt(self, logical: str, attr: str) -> Any:
        return self.attributes.get((logical, attr), f"local-{logical}-{attr}")

    def resolve(self, value: Any) -> Any:
        return resolve(value, self.ref, self.getatt)


def default_parameters(template: Template) -> dict[str, str]:
    params = {name: str(spec.get("Default", "")) for name, spec in template.parameters.items()}
    params.update({"SenderEmail": "reports@demo.marketing-strategist.local", "VpcId": "vpc-local"})
    params["PrivateSubnetIds"] = "subnet-local-a,subnet-local-b"
    return params


def provision(template: Template, endpoint: str, *, jwt_secret: str | None = None) -> LocalResources:
    """Idempotent: moto keeps state for the life of the server; re-running adds nothing twice."""
    res = LocalResources(endpoint=endpoint, parameters=default_parameters(template))
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )

    def client(name: str) -> Any:
        return session.client(name, endpoint_url=endpoint)

    # Queues: DLQs first, so redrive policies can point at them.
    sqs = client("sqs")
    queues = template.queues
    order = sorted(queues.values(), key=lambda q: q.dead_letter_of is not None)
    for q in order:
        name = res.resolve(q.name)
        attrs = {"VisibilityTimeout": str(q.visibility_timeout)}
        if q.dead_letter_of:
            attrs["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": res.attributes[(q.dead_letter_of, "Arn")],
                    "maxReceiveCount": q.max_receive_count,
                }
            )
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attrs)
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        res.physical[q.logical_id] = url
        res.queue_urls[q.logical_id] = url
        res.attributes[(q.logical_id, "Arn")] = arn
        res.attributes[(q.logical_id, "QueueName")] = name
        res.attributes[(q.logical_id, "QueueUrl")] = url

    s3 = client("s3")
    for lid, spec in template.of_type("AWS::S3::Bucket").items():
        name = res.resolve(spec.get("Properties", {}).get("BucketName", lid.lower()))
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if name not in existing:
            s3.create_bucket(Bucket=name)
        res.physical[lid] = name
        res.attributes[(lid, "Arn")] = f"arn:aws:s3:::{name}"
        res.attributes[(lid, "RegionalDomainName")] = f"{name}.s3.{REGION}.amazonaws.com"

    events = client("events")
    for lid, spec in template.of_type("AWS::Events::EventBus").items():
        name = res.resolve(spec["Properties"]["Name"])
        existing = {b["Name"] for b in events.list_event_buses().get("EventBuses", [])}
        if name not in existing:
            events.create_event_bus(Name=name)
        res.physical[lid] = name
        res.attributes[(lid, "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{name}"
        res.attributes[(lid, "Name")] = name

    kms = client("kms")
    for lid, spec in template.of_type("AWS::KMS::Key").items():
        alias = next(
            (
                res.resolve(a["Properties"]["AliasName"])
                for a in template.of_type("AWS::KMS::Alias").values()
                if a["Properties"].get("TargetKeyId") == {"Ref": lid}
            ),
            f"alias/{STACK_NAME}-{lid.lower()}",
        )
        aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases().get("Aliases", [])}
        key_id = aliases.get(alias)
        if not key_id:
            key_id = kms.create_key(Description=spec["Properties"].get("Description", lid))["KeyMetadata"][
                "KeyId"
            ]
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        res.physical[lid] = key_id
        res.attributes[(lid, "Arn")] = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"

    sm = client("secretsmanager")
    for lid, spec in template.of_type("AWS::SecretsManager::Secret").items():
        props = spec["Properties"]
        name = res.resolve(props["Name"])
        try:
            arn = sm.describe_secret(SecretId=name)["ARN"]
        except sm.exceptions.ResourceNotFoundException:
            gen = props.get("GenerateSecretString", {})
            value = json.loads(gen.get("SecretStringTemplate", "{}"))
            key = gen.get("GenerateStringKey", "password")
            value[key] = jwt_secret if (jwt_secret and key == "secret") else secrets.token_urlsafe(40)
            arn = sm.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
        res.physical[lid] = arn

    ses = client("ses")
    for _lid, spec in template.of_type("AWS::SES::EmailIdentity").items():
        ses.verify_email_identity(EmailAddress=res.resolve(spec["Properties"]["EmailIdentity"]))

    sns = client("sns")
    for lid, spec in template.of_type("AWS::SNS::Topic").items():
        name = res.resolve(spec.get("Properties", {}).get("TopicName", lid))
        res.physical[lid] = sns.create_topic(Name=name)["TopicArn"]

    # Things moto does not run (RDS Proxy, CloudFront) resolve to local stand-ins.
    res.attributes[("DbProxy", "Endpoint")] = "127.0.0.1"
    log.info("provisioned %d resources in moto", len(res.physical))
    return res


def function_environment(template: Template, res: LocalResources, logical_id: str) -> dict[str, str]:
    spec = template.functions[logical_id]
    env = {k: str(res.resolve(v)) for k, v in spec.environment.items()}
    return env
