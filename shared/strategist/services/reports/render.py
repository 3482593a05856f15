"""From a report's stored figures (JSON) to its charts, HTML and PDF, and into S3.

S3 keys are built from ids and the version number only (``reports/<tenant>/<client>/<report>/v<n>/report.pdf``):
no title, client name or other user text ever reaches a key, so a name like ``../../x`` cannot address another
object. User text appears only in the download file name (Content-Disposition), reduced to [A-Za-z0-9_-] plus the extension."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from strategist.adapters.render import svg
from strategist.adapters.render.html import render_html
from strategist.services.reports.build import label

PRESIGN_SECONDS = 3600
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def report_key(
    tenant_id: uuid.UUID, client_id: uuid.UUID, report_id: uuid.UUID, version: int, ext: str
) -> str:
    if ext not in ("pdf", "html"):
        raise ValueError("ext must be pdf or html")
    # uuid.UUID() re-parses: only 32 hex digits and dashes can come out of str()
    ids = [str(uuid.UUID(str(x))) for x in (tenant_id, client_id, report_id)]
    return f"reports/{ids[0]}/{ids[1]}/{ids[2]}/v{int(version)}/report.{ext}"


def download_name(title: str, client_name: str, start: str, end: str, ext: str) -> str:
    stem = (
        re.sub("-{2,}", "-", _SAFE.sub("-", f"{client_name}-{title}-{start}-{end}")).strip("-")[:150]
        or "report"
    )
    return f"{stem}.{ext}"


def charts(data: dict[str, Any]) -> dict[str, str]:
    """A platform keeps its colour in every chart (palette order of the trend series)."""
    trends = data["dashboard"]["performance_trends"]
    dates = [dt.date.fromisoformat(p["date"]) for p in trends["totals"]]
    colour = {s["platform"]: svg.PALETTE[i % len(svg.PALETTE)] for i, s in enumerate(trends["series"])}
    spend_series = [
        svg.Series(label(s["platform"]), [float(p["spend"]) for p in s["points"]], colour[s["platform"]])
        for s in trends["series"]
    ]
    conv = [
        svg.Series("All platforms", [float(p["conversions"]) for p in trends["totals"]], "#111827"),
        *(
            svg.Series(
                label(s["platform"]), [float(p["conversions"]) for p in s["points"]], colour[s["platform"]]
            )
            for s in trends["series"]
            if len(trends["series"]) > 1
        ),
    ]
    platforms = data["platforms"]
    total_conv = sum(float(p["conversions"]) for p in platforms)
    currency = data["currency"]
    return {
        "spend_trend": svg.line_chart(
            f"Daily spend by platform ({currency})",
            dates,
            spend_series or [svg.Series("Spend", [0.0] * len(dates))],
        ),
        "conversions_trend": svg.line_chart("Daily conversions", dates, conv),
        "platform_mix": svg.bar_chart(
            "Share of spend and of conversions by platform",
            [p["label"] for p in platforms],
            [
                svg.Series(
                    "Share of spend", [float(p["share_of_spend_pct"] or 0) for p in platforms], "#64748b"
                ),
                svg.Series(
                    "Share of conversions",
                    [float(p["conversions"]) * 100 / total_conv if total_conv else 0.0 for p in platforms],
                    "#16a34a",
                ),
            ],
        ),
    }


@dataclass(frozen=True)
class Rendered:
    html: str
    pdf: bytes
    pages: int
    render_ms: int


def render(data: dict[str, Any], commentary: str | None) -> Rendered:
    from strategist.adapters.render.pdf import html_to_pdf

    t0 = time.perf_counter()
    html = render_html(data, charts(data), commentary)
    pdf = html_to_pdf(html)
    return Rendered(html, pdf.content, pdf.pages, int((time.perf_counter() - t0) * 1000))


# -- S3 ------------------------------------------------------------------------------------------------------------
def _bucket() -> str:
    from strategist.config import get_settings

    bucket = get_settings().data_bucket
    if not bucket:
        raise RuntimeError("DATA_BUCKET is not configured: reports are stored in the data bucket")
    return bucket


def store(key: str, body: bytes, content_type: str, filename: str) -> None:
    from strategist.adapters.aws.clients import aws_client

    aws_client("s3").put_object(
        Bucket=_bucket(),
        Key=key,
        Body=body,
        ContentType=content_type,
        ContentDisposition=f'attachment; filename="{filename}"',
        ServerSideEncryption="AES256",
    )


def presign(key: str, filename: str) -> str:
    from strategist.adapters.aws.clients import aws_client

    return str(
        aws_client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": _bucket(),
                "Key": key,
                "ResponseContentDisposition": f'inline; filename="{filename}"',
            },
            ExpiresIn=PRESIGN_SECONDS,
        )
    )


def fetch(key: str) -> bytes:
    from strategist.adapters.aws.clients import aws_client

    return bytes(aws_client("s3").get_object(Bucket=_bucket(), Key=key)["Body"].read())
