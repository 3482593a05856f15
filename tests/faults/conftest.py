"""Fault-injection helpers: a worker behind the local SQS event-source mapping on a private queue pair with the
template's redrive policy (visibility 0, so a failed or killed delivery comes back at once instead of after the
template's 6x-timeout visibility), plus ground-truth and database probes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from sqlalchemy import create_engine, text

from infra.local import lambda_runtime
from infra.local.poller import Poller, QueueBinding
from infra.template import SqsTrigger


@dataclass
class WorkerQueue:
    """One worker function fed from its own queue + DLQ, with the template's batch size and maxReceiveCount."""

    sqs: Any
    url: str
    dlq_url: str
    binding: QueueBinding
    poller: Poller
    max_receives: int
    dead: list[dict[str, Any]] = field(default_factory=list)

    def send(self, body: dict[str, Any] | str) -> None:
        self.sqs.send_message(
            QueueUrl=self.url, MessageBody=body if isinstance(body, str) else json.dumps(body)
        )

    def depth(self, url: str | None = None) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def dlq_depth(self) -> int:
        """The SyncDlqAlarm/CommunicationsDlqAlarm/ReportsDlqAlarm metric: ApproximateNumberOfMessagesVisible."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])

    def drain(self, seconds: float = 30.0, *, kill: type[BaseException] | None = None) -> int:
        """Poll until the queue is empty; returns the number of handler invocations. A BaseException the handler
        lets out (a simulated SIGKILL) leaves the batch undeleted, as a dead Lambda would."""
        deadline = time.monotonic() + seconds
        calls = 0
        while time.monotonic() < deadline:
            try:
                if self.poller.poll_once(self.binding):
                    calls += 1
                    continue
            except BaseException as exc:
                if kill is None or not isinstance(exc, kill):
                    raise
                calls += 1
                continue
            if self.depth() == 0:
                return calls
            time.sleep(0.05)
        raise AssertionError(f"queue did not drain in {seconds}s (depth {self.depth()})")

    def dead_letters(self) -> list[dict[str, Any]]:
        msgs = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
        ).get("Messages", [])
        return [json.loads(m["Body"]) for m in msgs]


@pytest.fixture
def worker_queue(stack: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    made: list[str] = []

    def make(function: str) -> WorkerQueue:
        template = stack.template
        trigger = next(t for t in template.sqs_triggers if t.function == function)
        queue = template.queues[trigger.queue]
        name = f"fault-{function[:20]}-{uuid.uuid4().hex[:8]}"
        dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        url = sqs.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": "0",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}
                ),
            },
        )["QueueUrl"]
        made.extend([url, dlq])
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        spec = template.functions[function]
        binding = QueueBinding(
            SqsTrigger(function, trigger.queue, trigger.batch_size, trigger.report_failures),
            url,
            arn,
            lambda event: lambda_runtime.invoke(spec, event),
        )
        return WorkerQueue(sqs, url, dlq, binding, Poller(sqs, [binding], wait_s=0), queue.max_receive_count)

    yield make
    for url in made:
        sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def db(stack: Any) -> Iterator[Any]:
    engine = create_engine(stack.owner_url(), pool_pre_ping=True)

    def run(sql: str, **params: Any) -> list[Any]:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())

    yield run
    engine.dispose()
