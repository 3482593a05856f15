"""Posting to open WebSocket connections: API Gateway's management API (``apigatewaymanagementapi``
``post_to_connection``) on AWS; locally, the gateway's in-process registry of sockets, installed by the local
gateway when it starts. The push function asks :func:`connection_poster` and never knows which it got."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Protocol


class ConnectionGone(Exception):
    """The connection no longer exists (API Gateway's 410 GoneException): forget it."""


class ConnectionPoster(Protocol):
    def post(self, endpoint: str, connection_id: str, data: bytes) -> None:
        """Send one message; raise ConnectionGone when the connection is closed."""
        ...

    def close(self, endpoint: str, connection_id: str) -> None:
        """Close the connection from the server side (DeleteConnection); gone already is fine."""
        ...


class ManagementApiPoster:
    """boto3's apigatewaymanagementapi, one client per callback endpoint (https://{api}.execute-api.../{stage})."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, endpoint: str) -> Any:
        client = self._clients.get(endpoint)
        if client is None:
            with self._lock:
                client = self._clients.get(endpoint)
                if client is None:
                    import boto3
                    from botocore.config import Config

                    from strategist.config import get_settings

                    client = boto3.client(
                        "apigatewaymanagementapi",
                        endpoint_url=endpoint,
                        region_name=get_settings().region,
                        config=Config(
                            retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=5
                        ),
                    )
                    self._clients[endpoint] = client
        return client

    def post(self, endpoint: str, connection_id: str, data: bytes) -> None:
        client = self._client(endpoint)
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
        except client.exceptions.GoneException as exc:
            raise ConnectionGone(connection_id) from exc

    def close(self, endpoint: str, connection_id: str) -> None:
        client = self._client(endpoint)
        with contextlib.suppress(client.exceptions.GoneException):
            client.delete_connection(ConnectionId=connection_id)


_local: ConnectionPoster | None = None
_aws: ManagementApiPoster | None = None


def install_local_poster(poster: ConnectionPoster | None) -> None:
    """The local gateway installs its socket registry here; on Lambda nothing does."""
    global _local
    _local = poster


def connection_poster() -> ConnectionPoster:
    global _aws
    if _local is not None:
        return _local
    if _aws is None:
        _aws = ManagementApiPoster()
    return _aws
