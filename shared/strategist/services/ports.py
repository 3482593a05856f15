"""The small interfaces services depend on; bootstrap wires the AWS/httpx adapters, tests pass fakes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: a job that never talks to a platform must not import the clients
    from strategist.adapters.platforms.base import PlatformConnector


class CredentialCipher(Protocol):
    def encrypt(self, value: dict[str, Any], *, context: dict[str, str]) -> dict[str, Any]: ...

    def decrypt(self, blob: dict[str, Any], *, context: dict[str, str]) -> dict[str, Any]: ...


class ConnectorFactory(Protocol):
    def __call__(
        self, platform: str, credentials: dict[str, Any], *, base_url: str | None, on_refresh: Any
    ) -> PlatformConnector: ...


class MessageQueue(Protocol):
    def send(self, messages: list[dict[str, Any]]) -> int: ...
