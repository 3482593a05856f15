"""Parsers for competitor evidence, each keeping the row number so every finding can point at its data.

Google Ads auction insights are not available through the Google Ads API (the report exists only in the UI and its
downloads), so they come in as the CSV the UI exports: an optional title row and a date-range row, then the header
("Display URL domain", "Impression share", "Overlap rate", "Position above rate", "Top of page rate", "Abs. Top of
page rate", "Outranking share", optionally led by a time segment "Day"/"Week"/"Month"/"Quarter" and/or
"Campaign"), comma- or tab-separated, UTF-8 or UTF-16. "< 10%" means below ten percent (Google hides the value);
"--" means not applicable (the advertiser's own "You" row has no overlap with itself).

Meta's Ad Library API (``ads_archive``) returns spend and impressions only for ads about social issues, elections
or politics, and (for the EU) reach; for other ads it gives the page, dates, platforms and creative text only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

METRIC_COLUMNS = {
    "impression share": "impression_share",
    "overlap rate": "overlap_rate",
    "position above rate": "position_above_rate",
    "top of page rate": "top_of_page_rate",
    "abs. top of page rate": "abs_top_of_page_rate",
    "absolute top of page rate": "abs_top_of_page_rate",
    "outranking share": "outranking_share",
}
SEGMENT_COLUMNS = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}
DOMAIN_COLUMN = "display url domain"
MAX_ROWS = 20_000


class ParseError(ValueError):
    """What is wrong with an upload, naming the row or column."""


def neutralise(value: str) -> str:
    """A cell that a spreadsheet would run as a formula (= + - @, tab, CR) gets a leading apostrophe."""
    return "'" + value if value and value[0] in "=+-@\t\r" else value


def share(cell: str) -> dict[str, Any]:
    """'45.23%' -> {"value": 0.4523}; '< 10%' -> {"value": None, "below": 0.1}; '--' or '' -> {"value": None}."""
    text = cell.strip().replace("\u00a0", " ")
    if text in {"", "--", "-", "—"}:
        return {"value": None}
    m = re.fullmatch(r"<\s*(\d+(?:\.\d+)?)\s*%", text)
    if m:
        return {"value": None, "below": round(float(m.group(1)) / 100, 6)}
    m = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*%", text)
    if not m:
        raise ValueError(f"'{text[:30]}' is not a percentage, '< 10%' or '--'")
    return {"value": round(float(m.group(1).replace(",", ".")) / 100, 6)}


_DATE_FORMATS = ("%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%d/%m/%Y", "%m/%d/%Y", "%b %Y", "%B %Y")


def parse_date(text: str) -> dt.date | None:
    t = re.sub(r"^(week of|month of)\s+", "", text.strip(), flags=re.IGNORECASE)
    for f in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(t, f).date()
        except ValueError:
            continue
    m = re.fullmatch(r"Q([1-4])\s+(\d{4})", t)
    if m:
        return dt.date(int(m.group(2)), 3 * int(m.group(1)) - 2, 1)
    return None


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError("the file is neither UTF-8 nor UTF-16 (export it again as CSV)") from exc


@dataclass
class AuctionInsights:
    period_start: dt.date | None
    period_end: dt.date | None
    segment: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_auction_insights(raw: bytes) -> AuctionInsights:
    text = _decode(raw)
    lines = text.splitlines()
    header_at = next(
        (i for i, line in enumerate(lines[:20]) if DOMAIN_COLUMN in line.lower()),
        None,
    )
    if header_at is None:
        raise ParseError(
            "no header row with 'Display URL domain' in the first 20 lines: this is not a Google Ads auction "
            "insights export"
        )
    start = end = None
    for line in lines[:header_at]:
        m = re.search(r"([A-Z][a-z]+ \d{1,2}, \d{4})\s*[-–]\s*([A-Z][a-z]+ \d{1,2}, \d{4})", line)
        if m:
            start, end = parse_date(m.group(1)), parse_date(m.group(2))
    delimiter = "\t" if lines[header_at].count("\t") > lines[header_at].count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines[header_at:])), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    cols: dict[str, int] = {}
    segment: str | None = None
    for i, h in enumerate(header):
        if h == DOMAIN_COLUMN:
            cols["domain"] = i
        elif h in METRIC_COLUMNS:
            cols[METRIC_COLUMNS[h]] = i
        elif h in SEGMENT_COLUMNS:
            cols["segment"], segment = i, SEGMENT_COLUMNS[h]
        elif h == "campaign":
            cols["campaign"] = i
    if "impression_share" not in cols:
        raise ParseError("the header has no 'Impression share' column")
    out = AuctionInsights(start, end, segment)
    for n, row in enumerate(reader, start=header_at + 2):
        if not any(c.strip() for c in row):
            continue
        if len(out.rows) >= MAX_ROWS:
            raise ParseError(f"more than {MAX_ROWS} rows")
        if len(row) < len(header):
            raise ParseError(f"line {n}: {len(row)} cells, the header has {len(header)}")
        domain = row[cols["domain"]].strip()
        if not domain or domain.lower().startswith("total"):
            continue
        item: dict[str, Any] = {"line": n, "domain": neutralise(domain), "is_you": domain.lower() == "you"}
        if "segment" in cols:
            day = parse_date(row[cols["segment"]])
            if day is None:
                raise ParseError(
                    f"line {n}: '{row[cols['segment']][:30]}' is not a date in the {segment} column"
                )
            item["period"] = day.isoformat()
        else:
            item["period"] = start.isoformat() if start else None
        if "campaign" in cols:
            item["campaign"] = neutralise(row[cols["campaign"]].strip())
        for key in METRIC_COLUMNS.values():
            if key in cols and key not in item:
                try:
                    item[key] = share(row[cols[key]])
                except ValueError as exc:
                    raise ParseError(f"line {n}, column '{header[cols[key]]}': {exc}") from exc
        out.rows.append(item)
    if not out.rows:
        raise ParseError("the export has a header but no rows")
    if start is None and "segment" not in cols:
        out.notes.append("No date range row and no time segment column: the rows carry no period.")
    return out


def _bound(node: Any, key: str) -> int | None:
    value = (node or {}).get(key)
    return int(value) if value not in (None, "") else None


def parse_ad_library(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``ads_archive`` rows -> the fields the analysis reads; spend/impressions only where Meta publishes them."""
    out = []
    for i, r in enumerate(records):
        if not isinstance(r, dict) or (not r.get("page_name") and not r.get("page_id")):
            raise ParseError(f"records.{i}: an ads_archive row needs page_id or page_name")
        start = r.get("ad_delivery_start_time")
        day = parse_date(str(start)[:10]) if start else None
        if start and day is None:
            raise ParseError(f"records.{i}.ad_delivery_start_time: '{str(start)[:30]}' is not a date")
        stop = r.get("ad_delivery_stop_time")
        out.append(
            {
                "line": i,
                "id": str(r.get("id", "")),
                "page_id": str(r.get("page_id", "")),
                "page_name": neutralise(str(r.get("page_name") or r.get("page_id"))),
                "start": day.isoformat() if day else None,
                "stop": parse_date(str(stop)[:10]).isoformat()
                if stop and parse_date(str(stop)[:10])
                else None,
                "platforms": [str(p) for p in r.get("publisher_platforms") or []],
                "spend": {
                    "lower": _bound(r.get("spend"), "lower_bound"),
                    "upper": _bound(r.get("spend"), "upper_bound"),
                }
                if r.get("spend")
                else None,
                "impressions": {
                    "lower": _bound(r.get("impressions"), "lower_bound"),
                    "upper": _bound(r.get("impressions"), "upper_bound"),
                }
                if r.get("impressions")
                else None,
                "currency": r.get("currency"),
            }
        )
    return out
