"""SQS sends, in batches of ten (the API's maximum)."""

from __future__ import annotations

import json
from typing import Any

from strategist.adapters.aws.clients import aws_client


class SqsQueue:
    def __init__(self, url: str) -> None:
        if not url:
            raise RuntimeError("queue URL is not configured")
        self.url = url

    def send(self, messages: list[dict[str, Any]]) -> int:
        sent = 0
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            result = aws_client("sqs").send_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "MessageBody": json.dumps(m, default=str)} for i, m in enumerate(chunk)
                ],
            )
            failed = result.get("Failed", [])
            if failed:
                raise RuntimeError(f"SQS refused {len(failed)} message(s): {failed[0].get('Message')}")
            sent += len(chunk)
        return sent
