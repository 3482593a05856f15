"""boto3 clients, one per service per process; AWS_ENDPOINT_URL (moto locally) is honoured by boto3 itself."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def aws_client(service: str) -> Any:
    client = _clients.get(service)
    if client is None:
        with _lock:
            client = _clients.get(service)
            if client is None:
                import boto3
                from botocore.config import Config

                from strategist.config import get_settings

                settings = get_settings()
                client = boto3.client(
                    service,
                    region_name=settings.region,
                    endpoint_url=settings.aws_endpoint_url or None,
                    config=Config(
                        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10
                    ),
                )
                _clients[service] = client
    return client


def reset_clients() -> None:
    with _lock:
        _clients.clear()
