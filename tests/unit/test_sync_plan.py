"""Sync windows: a backfill's chunks tile the history exactly, newest first; scheduled windows re-pull the
restatement days and close gaps."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from strategist.services import sync_plan
from strategist.services.sync import _advance_backfill


@given(
    end=st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2035, 1, 1)),
    days=st.integers(min_value=1, max_value=1100),
    size=st.integers(min_value=1, max_value=120),
)
def test_backfill_chunks_tile_the_history(end, days, size):
    chunks = sync_plan.backfill_chunks(end, days, size)
    assert chunks[0].end == end and chunks[-1].start == end - dt.timedelta(days=days - 1)
    assert sum(c.days for c in chunks) == days
    assert all(1 <= c.days <= size for c in chunks)
    for newer, older in itertools.pairwise(chunks):
        assert older.end == newer.start - dt.timedelta(days=1)


def test_scheduled_window_restates_and_closes_gaps():
    y = dt.date(2026, 11, 25)
    w = sync_plan.scheduled_window(yesterday=y, restatement_days=7, data_through=y)
    assert (w.start, w.end) == (dt.date(2026, 11, 19), y)
    gap = sync_plan.scheduled_window(yesterday=y, restatement_days=7, data_through=dt.date(2026, 11, 1))
    assert gap.start == dt.date(2026, 10, 26) and gap.end == y
    huge = sync_plan.scheduled_window(yesterday=y, restatement_days=7, data_through=dt.date(2025, 1, 1))
    assert huge.days == sync_plan.MAX_GAP_DAYS + 1


def test_yesterday_is_in_the_account_zone():
    late_utc = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)
    assert sync_plan.yesterday_in("Asia/Tokyo", late_utc) == dt.date(2026, 11, 26)
    assert sync_plan.yesterday_in("America/Los_Angeles", late_utc) == dt.date(2026, 11, 25)
    assert sync_plan.yesterday_in("Not/AZone", late_utc) == dt.date(2026, 11, 25)


@given(st.permutations(list(range(9))), st.integers(min_value=0, max_value=5))
def test_backfill_progress_counts_each_chunk_once(order, repeats):
    chunks = sync_plan.backfill_chunks(dt.date(2026, 11, 25), 730)
    state = {"chunks_total": len(chunks), "done": []}
    for i in list(order) + list(order[:repeats]):  # redelivered chunks come back in any order
        state = _advance_backfill(state, chunks[i])
    assert state["chunks_done"] == len(chunks) == 9 and state["complete"]
    assert state["loaded_from"] == chunks[-1].start.isoformat()
