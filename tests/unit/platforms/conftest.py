"""Fixtures for the connector tests."""

from __future__ import annotations

import pytest
from platform_testkit import NOW, FakeSleep, Script

from strategist.adapters.platforms import ConnectorOptions


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def options(sleep: FakeSleep) -> ConnectorOptions:
    return ConnectorOptions(sleep=sleep, clock=lambda: NOW)
