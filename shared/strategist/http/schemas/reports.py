"""Performance reports and report schedules: the generate request, commentary edits, sending, and the
weekly/monthly schedules (in the client's reporting time zone)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from strategist.http.schemas.common import Email, Out, PageQuery, Strict

#: A report spans at most this many days (one year and a leap day).
MAX_REPORT_DAYS = 366


class Section(StrEnum):
    KPIS = "kpis"
    TRENDS = "trends"
    PLATFORM_MIX = "platform_mix"
    TOP_MOVERS = "top_movers"
    RECOMMENDATIONS = "recommendations"
    PACING = "pacing"
    METHODOLOGY = "methodology"


ALL_SECTIONS: tuple[Section, ...] = tuple(Section)

NamedPeriod = Literal["last_week", "last_month", "last_7_days", "last_30_days", "month_to_date"]


def _sections(value: list[Section]) -> list[Section]:
    """Unique, in the report's fixed order; the methodology section is always included (a figure without its
    definitions is not a figure an agency can send)."""
    seen = set(value) | {Section.METHODOLOGY}
    return [s for s in ALL_SECTIONS if s in seen]


class ReportGenerate(Strict):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID
    period: NamedPeriod | None = Field(
        None,
        description="last_week: the last complete Monday-Sunday week; last_month: the last complete calendar "
        "month; last_7_days / last_30_days: complete days ending yesterday; month_to_date: the 1st through "
        "yesterday. Days are the client's reporting time zone's. Default last_week when start/end are absent.",
    )
    start: dt.date | None = Field(None, description="First day (with end; not with period).")
    end: dt.date | None = Field(
        None, validate_default=True, description="Last day, inclusive (with start; at most 366 days)."
    )
    sections: list[Section] = Field(
        default_factory=lambda: list(ALL_SECTIONS),
        min_length=1,
        max_length=len(ALL_SECTIONS),
        description="Which sections to include; methodology is always included.",
    )
    title: str | None = Field(
        None, min_length=1, max_length=200, description="Default: '<client> performance report'."
    )
    commentary: str | None = Field(None, max_length=20_000, description="The agency's notes, shown first.")
    currency: str | None = Field(
        None, min_length=3, max_length=3, description="Target currency (default: the client's)."
    )
    run_async: bool = Field(
        False,
        description="Render on the reports queue and answer 202 at once. Periods longer than 92 days always "
        "render on the queue.",
    )

    @field_validator("sections")
    @classmethod
    def _order(cls, value: list[Section]) -> list[Section]:
        return _sections(value)

    @field_validator("end")
    @classmethod
    def _end(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if "start" not in info.data:
            return value
        start = info.data["start"]
        if (start is None) != (value is None):
            raise ValueError("start and end must be given together")
        if start is not None and value is not None:
            if value < start:
                raise ValueError(f"end ({value}) must be on or after start ({start})")
            if (value - start).days + 1 > MAX_REPORT_DAYS:
                raise ValueError(
                    f"start..end spans {(value - start).days + 1} days; the limit is {MAX_REPORT_DAYS}"
                )
        return value

    @model_validator(mode="after")
    def _one_period(self) -> ReportGenerate:
        if self.period is not None and self.start is not None:
            raise ValueError("give either period or start/end, not both")
        return self

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        from strategist.domain.money import ACTIVE_CURRENCIES

        if value is None:
            return None
        value = value.upper()
        if value not in ACTIVE_CURRENCIES:
            raise ValueError(f"'{value}' is not an ISO 4217 currency code")
        return value


class ReportUpdate(Strict):
    commentary: str | None = Field(
        None,
        max_length=20_000,
        description="Replaces the commentary ('' clears it); the report is re-rendered.",
    )
    title: str | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _something(self) -> ReportUpdate:
        if not self.model_fields_set:
            raise ValueError("give commentary and/or title")
        return self


class ReportSend(Strict):
    recipients: list[Email] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="Default: the schedule's recipients, else the client's contact e-mails.",
    )
    message: str | None = Field(None, max_length=5000, description="A note above the summary in the e-mail.")


class ReportListQuery(PageQuery):
    client_id: uuid.UUID | None = None
    schedule_id: uuid.UUID | None = None
    status: Literal["held", "queued", "ready", "sent", "failed"] | None = None


class ReportLinks(Out):
    pdf_url: str | None = Field(None, description="Presigned S3 link to the PDF (valid for 1 hour).")
    html_url: str | None = Field(None, description="Presigned S3 link to the HTML (valid for 1 hour).")
    expires_at: dt.datetime | None = None


class ReportOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    schedule_id: uuid.UUID | None
    title: str
    period_start: dt.date
    period_end: dt.date
    period_label: str
    sections: list[str]
    status: str
    provisional: bool
    finality: dict[str, Any]
    hold_until: dt.datetime | None
    commentary: str | None
    version: int
    pdf_bytes: int | None
    pdf_pages: int | None
    render_ms: int | None
    recipients: list[str]
    communication_id: uuid.UUID | None
    error: str | None
    generated_at: dt.datetime | None
    sent_at: dt.datetime | None
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    links: ReportLinks | None = None
    data: dict[str, Any] | None = Field(
        None,
        description="GET one only: every figure the report shows (the dashboard's, for the same period).",
    )


# -- schedules ------------------------------------------------------------------------------------------------
class Frequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class _ScheduleFields(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    day_of_week: int | None = Field(
        None, ge=1, le=7, description="weekly: ISO weekday it is sent (1 = Monday ... 7 = Sunday)."
    )
    day_of_month: int | None = Field(
        None, ge=1, le=28, description="monthly: day of the month it is sent (1-28, so every month has it)."
    )
    send_hour: int | None = Field(None, ge=0, le=23, description="Local hour (client's time zone) it is due.")
    recipients: list[Email] | None = Field(None, max_length=50)
    sections: list[Section] | None = Field(None, min_length=1, max_length=len(ALL_SECTIONS))
    max_hold_hours: int | None = Field(
        None,
        ge=0,
        le=336,
        description="How long after the due time a report may wait for final data before it is sent marked "
        "provisional.",
    )
    active: bool | None = None

    @field_validator("sections")
    @classmethod
    def _order(cls, value: list[Section] | None) -> list[Section] | None:
        return None if value is None else _sections(value)

    @field_validator("recipients")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return list(dict.fromkeys(value))


class ScheduleCreate(_ScheduleFields):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID
    frequency: Frequency
    #: weekly reports cover the last complete Monday-Sunday week, monthly the last complete calendar month.

    @model_validator(mode="after")
    def _day(self) -> ScheduleCreate:
        if self.frequency == Frequency.WEEKLY:
            if self.day_of_month is not None:
                raise ValueError("day_of_month is for monthly schedules; weekly ones take day_of_week")
            if self.day_of_week is None:
                self.day_of_week = 1
        else:
            if self.day_of_week is not None:
                raise ValueError("day_of_week is for weekly schedules; monthly ones take day_of_month")
            if self.day_of_month is None:
                self.day_of_month = 1
        return self


class ScheduleUpdate(_ScheduleFields):
    pass


class ScheduleListQuery(PageQuery):
    client_id: uuid.UUID | None = None


class ScheduleOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    name: str
    frequency: str
    day_of_week: int | None
    day_of_month: int | None
    send_hour: int
    time_zone: str = Field(description="The client's reporting time zone, in which the schedule runs.")
    recipients: list[str]
    sections: list[str]
    max_hold_hours: int
    active: bool
    next_run_at: dt.datetime | None
    next_period: dict[str, Any] | None = Field(None, description="The period the next run will report.")
    last_run_at: dt.datetime | None
    created_by: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
