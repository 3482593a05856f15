"""Ad-platform connections: credentials go in, never come out."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from strategist.domain.platforms import Platform
from strategist.http.schemas.common import Name, Out, Strict


class ConnectionCreate(Strict):
    platform: Platform
    credentials: dict[str, Any] = Field(
        description="As the platform issues them: google_ads/youtube_ads {customer_id, developer_token, client_id, "
        "client_secret, refresh_token, login_customer_id?}; meta_ads {ad_account_id, access_token, app_id?, "
        "app_secret?}; linkedin_ads {ad_account_id, access_token, client_id?, client_secret?, refresh_token?}; "
        "tiktok_ads {advertiser_id, access_token, app_id?, secret?, refresh_token?}. Stored encrypted with KMS.",
        max_length=20,
    )
    name: Name | None = None
    backfill_days: int = Field(
        730, ge=1, le=1100, description="History to load on first sync (default 2 years)."
    )
    restatement_days: int = Field(7, ge=1, le=90, description="Recent days re-pulled on every sync.")


class ConnectionReconnect(Strict):
    credentials: dict[str, Any] = Field(max_length=20)


class BackfillProgress(Out):
    start: dt.date | None = None
    end: dt.date | None = None
    chunks_total: int = 0
    chunks_done: int = 0
    complete: bool = False
    loaded_from: dt.date | None = Field(None, description="Oldest day loaded so far.")


class ConnectionOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    platform: Platform
    account_id: str
    name: str
    status: str = Field(
        description="active, broken (see broken_reason; reconnect to repair) or disconnected."
    )
    broken_reason: str | None
    broken_at: dt.datetime | None
    currency: str | None
    time_zone: str | None
    restatement_days: int
    backfill_days: int
    backfill: BackfillProgress
    data_as_of: dt.datetime | None = Field(description="When the platform was last read successfully.")
    data_through: dt.date | None = Field(description="Last platform-local day with data.")
    last_sync_at: dt.datetime | None
    last_sync_status: str | None
    last_error: str | None
    missing_data: str | None = Field(
        None, description="Which data is missing because of a broken connection."
    )
    credential_fields: list[str] = Field(
        default_factory=list, description="Names only; secrets are never shown."
    )
    created_at: dt.datetime


class ConnectionTestResult(Out):
    ok: bool
    account_id: str | None = None
    account_name: str | None = None
    currency: str | None = None
    time_zone: str | None = None
    error: str | None = None
    connection: ConnectionOut


class SyncQueued(Out):
    connection_id: uuid.UUID
    queued: bool
    window_start: dt.date
    window_end: dt.date
