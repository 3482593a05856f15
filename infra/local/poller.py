"""The SQS event source mapping, locally: long-polls each queue a worker is subscribed to, invokes the worker
with Lambda-shaped batches, deletes what succeeded and leaves the rest to come back after the visibility
timeout. With ReportBatchItemFailures only the listed messages are retried; a handler that raises retries the
whole batch. moto moves a message to the DLQ once its receive count passes maxReceiveCount."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.local.aws import REGION
from infra.template import SqsTrigger

log = logging.getLogger("poller")


def to_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    attrs = message.get("Attributes", {})
    msg_attrs = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attrs.get("SentTimestamp", "0"),
            "SenderId": attrs.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attrs.get("ApproximateFirstReceiveTimestamp", "0"),
            **({"MessageGroupId": attrs["MessageGroupId"]} if "MessageGroupId" in attrs else {}),
        },
        "messageAttributes": msg_attrs,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


@dataclass
class QueueBinding:
    trigger: SqsTrigger
    queue_url: str
    queue_arn: str
    handler: Callable[[dict[str, Any]], Any]
    delivered: int = 0
    succeeded: int = 0
    failed: int = 0
    last_error: str | None = None


@dataclass
class Poller:
    sqs: Any
    bindings: list[QueueBinding]
    wait_s: int = 1
    #: Pollers per queue: Lambda runs a queue's batches concurrently; one thread each keeps the demo honest about
    #: ordering (there is none) while a slow platform call does not hold up the rest.
    concurrency: int = 1
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def poll_once(self, binding: QueueBinding) -> int:
        """Receive one batch and process it; returns how many messages were delivered."""
        response = self.sqs.receive_message(
            QueueUrl=binding.queue_url,
            MaxNumberOfMessages=min(binding.trigger.batch_size, 10),
            WaitTimeSeconds=self.wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        binding.delivered += len(messages)
        event = {"Records": [to_record(m, binding.queue_arn) for m in messages]}
        failed_ids: set[str]
        try:
            result = binding.handler(event)
            if binding.trigger.report_failures and isinstance(result, dict):
                failed_ids = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            else:
                failed_ids = set()
            binding.last_error = None
        except Exception as exc:  # the whole batch comes back after the visibility timeout
            log.exception(
                "worker %s raised; batch of %d will be retried", binding.trigger.function, len(messages)
            )
            binding.last_error = f"{type(exc).__name__}: {exc}"
            failed_ids = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=binding.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        binding.succeeded += len(done)
        binding.failed += len(failed_ids)
        return len(messages)

    def _loop(self, binding: QueueBinding) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(binding)
            except Exception as exc:  # moto restarting or a network blip: back off and go on
                binding.last_error = f"{type(exc).__name__}: {exc}"
                self._stop.wait(1.0)

    def start(self) -> None:
        for binding in self.bindings:
            for i in range(self.concurrency):
                thread = threading.Thread(
                    target=self._loop,
                    args=(binding,),
                    name=f"poll-{binding.trigger.function}-{i}",
                    daemon=True,
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
            "queues": {
                b.trigger.queue: {
                    "worker": b.trigger.function,
                    "delivered": b.delivered,
                    "succeeded": b.succeeded,
                    "failed": b.failed,
                    "last_error": b.last_error,
                }
                for b in self.bindings
            },
        }
