"""Competitor analysis (issue 7): uploads of competitor evidence and the analyses built from them.

The brief names only the path (POST /api/v1/competitor-analysis, "Analyze competitors"); the body is ours: the
client, which uploads to analyse (default: all of the client's) and the threshold for a "move"."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import Field

from strategist.http.schemas.common import Out, PageQuery, Strict


class ManualObservation(Strict):
    competitor: str = Field(min_length=1, max_length=200, description="Domain or name of the competitor.")
    date: dt.date
    platform: str = Field("other", max_length=40)
    note: str = Field(min_length=1, max_length=2000, description="What was seen (new offer, ad copy, price).")
    url: str | None = Field(None, max_length=2000)


class UploadJson(Strict):
    """JSON uploads: Ad Library records (``ads_archive`` rows as the API returns them) or manual observations.
    A Google Ads auction insights export is sent as the CSV itself (Content-Type text/csv, ?client_id=...)."""

    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID
    kind: Literal["ad_library", "manual"]
    records: list[dict[str, Any]] | None = Field(
        None, max_length=5000, description="ad_library: rows of GET /ads_archive (data[])."
    )
    observations: list[ManualObservation] | None = Field(None, max_length=1000, description="manual only.")


class UploadQuery(Strict):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID | None = Field(None, description="Required with a CSV body.")
    filename: str | None = Field(None, max_length=255)


class UploadOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    kind: str
    platform: str
    filename: str | None
    period_start: dt.date | None
    period_end: dt.date | None
    row_count: int
    notes: list[str]
    created_at: dt.datetime


class AnalysisCreate(Strict):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID
    upload_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=200, description="Uploads to use; empty = all of the client's."
    )
    jump_threshold_pts: float = Field(
        5.0, gt=0, le=100, description="An impression share change of at least this many points is a move."
    )


class AnalysisListQuery(PageQuery):
    client_id: uuid.UUID | None = None


class AnalysisGetQuery(Strict):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    format: Literal["json", "csv"] = Field(
        "json", description="csv: competitors x periods (cells neutralised against formula injection)."
    )


class AnalysisOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    created_at: dt.datetime
    platform_limits: list[str]
    sources: list[dict[str, Any]]
    periods: list[str]
    competitors: list[dict[str, Any]]
    share_of_voice: list[dict[str, Any]]
    moves: list[dict[str, Any]]
    ad_library: list[dict[str, Any]]
    observations: list[dict[str, Any]]
    own_impression_share: dict[str, Any] = Field(
        description="The client's own search impression share per week, from synced Google Ads Search rows."
    )
    method: str
