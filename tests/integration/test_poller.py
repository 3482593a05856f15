"""The local SQS event-source mapping against moto: partial-batch failures retry only what failed, a raising
handler retries the whole batch, and a message that keeps failing lands in the DLQ after maxReceiveCount."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from infra.local.poller import Poller, QueueBinding
from infra.template import SqsTrigger


@pytest.fixture
def queues(stack, request):
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    name = f"poller-{request.node.name[:40]}-{time.monotonic_ns() % 10**8}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn, dlq


def _bind(url: str, arn: str, handler, report: bool = True) -> QueueBinding:
    return QueueBinding(SqsTrigger("Worker", "Q", 10, report), url, arn, handler)


def _drain(poller: Poller, binding: QueueBinding, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        poller.poll_once(binding)


def test_partial_batch_failure_and_dlq(queues):
    sqs, url, arn, dlq = queues
    for body in ("ok-1", "poison", "ok-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    seen: list[str] = []

    def handler(event):
        records = event["Records"]
        assert all(r["eventSource"] == "aws:sqs" and r["eventSourceARN"] == arn for r in records)
        seen.extend(r["body"] for r in records)
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in records if r["body"] == "poison"
            ]
        }

    binding = _bind(url, arn, handler)
    poller = Poller(sqs, [binding], wait_s=0)
    _drain(poller, binding, 4.5)
    assert seen.count("ok-1") == 1 and seen.count("ok-2") == 1
    assert seen.count("poison") == 2  # maxReceiveCount
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["poison"]
    assert binding.succeeded == 2 and binding.failed == 2


def test_raising_handler_retries_whole_batch(queues):
    sqs, url, arn, _dlq = queues
    sqs.send_message(QueueUrl=url, MessageBody="a")
    calls = []

    def flaky(event):
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("transient")
        return {"batchItemFailures": []}

    binding = _bind(url, arn, flaky)
    poller = Poller(sqs, [binding], wait_s=0)
    _drain(poller, binding, 2.5)
    assert calls == [1, 1]
    assert binding.last_error is None and binding.succeeded == 1
