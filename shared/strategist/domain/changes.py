"""What a status write to an ad platform did (issue 6, optimize slice): exactly what was sent, for the audit log.
Budget writes return ``strategist.domain.metrics.BudgetChange``; this is its sibling for pause/enable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from strategist.domain.metrics import CampaignStatus
from strategist.domain.platforms import Platform

#: The only two states automation may set: removing a campaign is never automated.
SETTABLE_STATUSES = frozenset({CampaignStatus.ACTIVE, CampaignStatus.PAUSED})


@dataclass(frozen=True, slots=True)
class StatusChange:
    platform: Platform
    account_id: str
    campaign_id: str
    before: CampaignStatus
    before_raw: str
    after: CampaignStatus
    validate_only: bool
    #: False when the platform has no validate-only mode and the connector therefore sent nothing.
    sent: bool
    request: Mapping[str, Any]
    response: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TargetChange:
    """A bid-strategy target write: target CPA (account currency) or target ROAS (a ratio, 3.5 = 350 %)."""

    platform: Platform
    account_id: str
    campaign_id: str
    strategy: str
    target: str  # "target_cpa" | "target_roas"
    before: Decimal | None
    after: Decimal | None  # None: the target is cleared
    validate_only: bool
    sent: bool
    request: Mapping[str, Any]
    response: Mapping[str, Any] = field(default_factory=dict)
