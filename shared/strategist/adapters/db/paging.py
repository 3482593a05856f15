"""Keyset pagination on (created_at, id): stable under inserts, no OFFSET scans, one shape for every list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from strategist.domain.errors import ValidationFailed
from strategist.http.schemas.common import decode_cursor, encode_cursor


def keyset_page(
    session: Session,
    stmt: Select[Any],
    model: Any,
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of ``stmt`` (already filtered) ordered by created_at then id, and the cursor of the next page."""
    created, ident = model.created_at, model.id
    if cursor:
        try:
            after_created, after_id = decode_cursor(cursor)
        except ValueError as exc:
            raise ValidationFailed.one("query.cursor", str(exc)) from exc
        if newest_first:
            stmt = stmt.where(or_(created < after_created, and_(created == after_created, ident < after_id)))
        else:
            stmt = stmt.where(or_(created > after_created, and_(created == after_created, ident > after_id)))
    order = (created.desc(), ident.desc()) if newest_first else (created, ident)
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    nxt = encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], nxt
