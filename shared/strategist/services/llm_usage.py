"""The Postgres usage port of the narrative writers: per-tenant, per-month, per-provider token counts.

``reserve`` is a read: it compares this month's tokens (all providers) plus the call's estimate with the cap, and
takes no lock. Holding a row lock across a network call of up to a minute would serialize a tenant's requests;
the price is that concurrent calls of one tenant can each pass the check and overshoot the cap by at most one
call's tokens each, which a monthly cost guard tolerates. ``record`` is one upsert per call
(``INSERT ... ON CONFLICT DO UPDATE`` adds to the counters), so concurrent records never lose an increment.

Both run in the caller's unit of work, after ``uow.set_tenant``: row-level security scopes them to that tenant,
and the counts commit with the work they paid for.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from strategist.adapters.db.models import LlmUsage
from strategist.adapters.db.uow import UnitOfWork


def month_start(today: dt.date | None = None) -> dt.date:
    """The first day of the (UTC) calendar month the usage counts against."""
    day = today or dt.datetime.now(dt.UTC).date()
    return day.replace(day=1)


class PostgresLlmUsage:
    """``UsagePort`` over the ``llm_usage`` table."""

    def __init__(
        self, uow: UnitOfWork, *, monthly_token_cap: int | None = None, today: dt.date | None = None
    ) -> None:
        """``monthly_token_cap`` defaults to LLM_MONTHLY_TOKEN_CAP (``llm_settings``); ``today`` is for tests."""
        if monthly_token_cap is None:
            from strategist.adapters.llm.settings import llm_settings

            monthly_token_cap = llm_settings().monthly_token_cap
        self.uow = uow
        self.monthly_token_cap = monthly_token_cap
        self._today = today

    def _check_tenant(self, tenant_id: uuid.UUID) -> None:
        # RLS would silently hide (read) or refuse (write) another tenant's row; say what went wrong instead.
        if self.uow.tenant_id != tenant_id:
            raise ValueError(f"usage for tenant {tenant_id} in a unit of work set to {self.uow.tenant_id}")

    def used(self, tenant_id: uuid.UUID) -> int:
        """Tokens (input + output, every provider) the tenant has used this month."""
        self._check_tenant(tenant_id)
        total = self.uow.session.execute(
            select(func.coalesce(func.sum(LlmUsage.input_tokens + LlmUsage.output_tokens), 0)).where(
                LlmUsage.tenant_id == tenant_id, LlmUsage.month == month_start(self._today)
            )
        ).scalar_one()
        return int(total)

    def reserve(self, tenant_id: uuid.UUID, provider: str, estimated_tokens: int) -> bool:
        return self.used(tenant_id) + max(estimated_tokens, 0) <= self.monthly_token_cap

    def record(self, tenant_id: uuid.UUID, provider: str, input_tokens: int, output_tokens: int) -> None:
        self._check_tenant(tenant_id)
        stmt = insert(LlmUsage).values(
            tenant_id=tenant_id,
            month=month_start(self._today),
            provider=provider,
            input_tokens=max(input_tokens, 0),
            output_tokens=max(output_tokens, 0),
            calls=1,
        )
        self.uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[LlmUsage.tenant_id, LlmUsage.month, LlmUsage.provider],
                set_={
                    "input_tokens": LlmUsage.input_tokens + stmt.excluded.input_tokens,
                    "output_tokens": LlmUsage.output_tokens + stmt.excluded.output_tokens,
                    "calls": LlmUsage.calls + 1,
                },
            )
        )
