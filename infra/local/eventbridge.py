"""EventBridge rules, locally: the template's ``EventBridgeRule`` events become real rules on the moto bus, each
with an SQS queue as its target, and a poller invokes the function with every event that queue receives.

moto evaluates the rule's event pattern (the same EventBridge pattern syntax as on AWS) when the outbox relay
calls PutEvents and forwards matching events to the rule's queue; this module only provisions the rule and
target and delivers the queued events to the function, Lambda-style: a delivery that raises stays in the queue
and comes back after the visibility timeout (EventBridge retries an asynchronous invoke), the rest are deleted.
Nothing here knows which functions or events exist: everything comes from template.yaml.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.local.aws import ACCOUNT_ID, REGION, LocalResources
from infra.template import Template

log = logging.getLogger("eventbridge")

#: seconds before a failed delivery is retried
RETRY_AFTER_S = 30


@dataclass(frozen=True)
class EventRule:
    function: str  # logical id
    name: str  # the event's name under the function's Events
    bus: Any  # EventBusName as written in the template (usually !Ref EventBus)
    pattern: dict[str, Any]

    @property
    def rule_name(self) -> str:
        return f"local-{self.function}-{self.name}"[:64]


def event_rules(template: Template) -> list[EventRule]:
    out = []
    for lid, res in template.of_type("AWS::Serverless::Function").items():
        for name, event in (res.get("Properties", {}).get("Events") or {}).items():
            if event.get("Type") != "EventBridgeRule":
                continue
            props = event.get("Properties", {})
            out.append(EventRule(lid, name, props.get("EventBusName", "default"), props["Pattern"]))
    return out


@dataclass
class Binding:
    rule: EventRule
    queue_url: str
    handler: Callable[[dict[str, Any]], Any]
    delivered: int = 0
    failed: int = 0
    last_error: str | None = None


def provision_rules(
    template: Template, resources: LocalResources, events: Any, sqs: Any
) -> list[tuple[EventRule, str]]:
    """Idempotent: one rule per template EventBridgeRule on its bus, targeting a queue named after it. Returns
    (rule, queue URL) pairs."""
    out = []
    for rule in event_rules(template):
        bus = resources.resolve(rule.bus)
        url = sqs.create_queue(
            QueueName=rule.rule_name, Attributes={"VisibilityTimeout": str(RETRY_AFTER_S)}
        )["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{rule.rule_name}"
        events.put_rule(
            Name=rule.rule_name, EventBusName=bus, EventPattern=json.dumps(rule.pattern), State="ENABLED"
        )
        events.put_targets(
            Rule=rule.rule_name, EventBusName=bus, Targets=[{"Id": "local-delivery", "Arn": arn}]
        )
        out.append((rule, url))
    return out


@dataclass
class EventDelivery:
    sqs: Any
    bindings: list[Binding]
    wait_s: int = 1
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def poll_once(self, binding: Binding) -> int:
        """Deliver what the rule's queue holds (one event per invocation, as EventBridge invokes); returns how
        many events were delivered successfully."""
        messages = self.sqs.receive_message(
            QueueUrl=binding.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self.wait_s
        ).get("Messages", [])
        ok = 0
        for message in messages:
            try:
                binding.handler(json.loads(message["Body"]))
            except Exception as exc:  # retried after the visibility timeout
                binding.failed += 1
                binding.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("%s failed on an event of rule %s", binding.rule.function, binding.rule.name)
                continue
            self.sqs.delete_message(QueueUrl=binding.queue_url, ReceiptHandle=message["ReceiptHandle"])
            binding.delivered += 1
            binding.last_error = None
            ok += 1
        return ok

    def _loop(self, binding: Binding) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(binding)
            except Exception as exc:  # moto restarting: back off and go on
                binding.last_error = f"{type(exc).__name__}: {exc}"
                self._stop.wait(1.0)

    def start(self) -> None:
        for binding in self.bindings:
            thread = threading.Thread(
                target=self._loop, args=(binding,), name=f"eventbridge-{binding.rule.rule_name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.wait_s + 2)

    def status(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "rules": {
                f"{b.rule.function}.{b.rule.name}": {
                    "pattern": b.rule.pattern,
                    "delivered": b.delivered,
                    "failed": b.failed,
                    "last_error": b.last_error,
                }
                for b in self.bindings
            },
        }


def start_delivery(
    template: Template,
    resources: LocalResources,
    invoke: Callable[[str, dict[str, Any]], Any],
    *,
    background: bool = True,
) -> EventDelivery:
    """Provision the rules and (with ``background``) start delivering; ``invoke(function_logical_id, event)``."""
    import boto3

    events = boto3.client("events", endpoint_url=resources.endpoint, region_name=REGION)
    sqs = boto3.client("sqs", endpoint_url=resources.endpoint, region_name=REGION)
    bindings = [
        Binding(rule, url, lambda event, fn=rule.function: invoke(fn, event))
        for rule, url in provision_rules(template, resources, events, sqs)
    ]
    delivery = EventDelivery(sqs, bindings)
    if background:
        delivery.start()
    return delivery
