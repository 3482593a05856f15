"""The demo agencies' ad accounts on the simulated ad-platform server, and the connections that point at them.

Each demo client runs campaigns on the platforms that fit its business (every demo agency covers every
platform), in its own currency and time zone; the simulator serves two years of history from known response
curves, so the first sync is a real backfill through the real connectors. Email has no API: its daily results
are imported from the same kind of file an agency would upload."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import numpy as np

from infra.local.seed import DEMO_TENANTS, DemoClient, client_id
from infra.platform_sim.spec import AccountSpec, CampaignSpec, CurveSpec, SimSpec

HISTORY_DAYS = 730

#: Which platforms each demo client advertises on (per agency every platform appears at least once).
PLATFORMS: dict[str, tuple[str, ...]] = {
    "Alpine Outfitters (demo)": ("google_ads", "youtube_ads", "meta_ads", "tiktok_ads", "email"),
    "Brightline Software (demo)": ("google_ads", "linkedin_ads", "meta_ads", "email"),
    "Harbor Dental Group (demo)": ("google_ads", "meta_ads"),
    "Costa Coffee Roasters (demo)": ("meta_ads", "google_ads", "tiktok_ads", "email"),
    "Mercado Moda (demo)": ("google_ads", "youtube_ads", "meta_ads", "tiktok_ads", "linkedin_ads"),
    "Tokyo Lens Studio (demo)": ("google_ads", "youtube_ads", "tiktok_ads", "meta_ads"),
}
OBJECTIVES = {
    "google_ads": ["SEARCH", "PERFORMANCE_MAX", "DISPLAY"],
    "youtube_ads": ["VIDEO"],
    "meta_ads": ["OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_TRAFFIC"],
    "linkedin_ads": ["WEBSITE_CONVERSION", "LEAD_GENERATION"],
    "tiktok_ads": ["CONVERSIONS", "TRAFFIC"],
}
#: Budgets and costs scale with the currency: a JPY account spends in yen.
SCALE = {"JPY": 150.0}


def _digits(seed: str, n: int) -> str:
    h = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(h)[:n].rjust(n, "1").replace("0", "1", 1)


def account_id(slug: str, client: DemoClient, platform: str) -> str:
    # YouTube campaigns live in the client's Google Ads customer, as on the real platform.
    family = "google_ads" if platform == "youtube_ads" else platform
    n = {"google_ads": 10, "meta_ads": 15, "linkedin_ads": 9, "tiktok_ads": 19}[family]
    return _digits(f"{slug}:{client.name}:{family}", n)


def credentials(platform: str, account: str) -> dict[str, Any]:
    """Credentials of the shape each platform issues; the simulator accepts any token it has not expired."""
    if platform in ("google_ads", "youtube_ads"):
        return {
            "customer_id": account,
            "developer_token": "demo-developer-token",
            "client_id": "demo-oauth-client",
            "client_secret": "demo-oauth-secret",
            "refresh_token": f"1//demo-refresh-{account}",
        }
    if platform == "meta_ads":
        return {"ad_account_id": f"act_{account}", "access_token": f"EAAdemo{account}"}
    if platform == "linkedin_ads":
        return {
            "ad_account_id": account,
            "access_token": f"AQVdemo{account}",
            "client_id": "demo-oauth-client",
            "client_secret": "demo-oauth-secret",
            "refresh_token": f"AQXdemo{account}",
        }
    return {
        "advertiser_id": account,
        "access_token": f"act.demo{account}",
        "app_id": "demo-app",
        "secret": "demo-secret",
        "refresh_token": f"rft.demo{account}",
    }


def _campaigns(
    rng: np.random.Generator, platform: str, base: int, currency: str, n: int
) -> list[CampaignSpec]:
    scale = SCALE.get(currency, 1.0)
    out = []
    for i in range(n):
        budget = float(rng.choice([40, 60, 90, 120, 180, 250])) * scale
        objective = OBJECTIVES[platform][i % len(OBJECTIVES[platform])]
        out.append(
            CampaignSpec(
                id=str(base + i),
                name=f"{platform.split('_')[0].title()} | {objective.replace('_', ' ').title()} | {i + 1}",
                objective=objective,
                budget=Decimal(str(int(budget))),
                status="paused" if i == n - 1 and n > 2 else "active",
                curve=CurveSpec(
                    cpm=float(rng.uniform(5, 22)) * scale,
                    ctr=float(rng.uniform(0.006, 0.045)),
                    max_conversions=float(rng.uniform(6, 45)),
                    half_saturation=budget * float(rng.uniform(0.7, 1.7)),
                    hill_shape=float(rng.uniform(0.9, 1.8)),
                    adstock_decay=float(rng.uniform(0.1, 0.6)),
                    aov=float(rng.uniform(35, 180)) * scale,
                    weekly_amplitude=float(rng.uniform(0.05, 0.25)),
                    weekly_phase=float(rng.integers(0, 7)),
                    video_view_rate=0.3 if platform in ("youtube_ads", "tiktok_ads") else 0.0,
                ),
            )
        )
    return out


def demo_connections() -> list[dict[str, Any]]:
    """Every demo connection: tenant, client, platform, account, credentials and the simulator's account spec."""
    out: list[dict[str, Any]] = []
    for tenant in DEMO_TENANTS:
        for client in tenant.clients:
            rng = np.random.default_rng(int(_digits(f"{tenant.slug}:{client.name}", 9)))
            for platform in PLATFORMS[client.name]:
                if platform == "email":
                    continue
                account = account_id(tenant.slug, client, platform)
                zone = "UTC" if platform == "linkedin_ads" else client.timezone
                base = int(_digits(f"{tenant.slug}:{client.name}:{platform}:campaigns", 11))
                spec = AccountSpec(
                    platform=platform,  # type: ignore[arg-type]
                    account_id=account,
                    name=f"{client.name} {platform}",
                    currency=client.currency,
                    time_zone=zone,
                    history_days=HISTORY_DAYS,
                    campaigns=_campaigns(rng, platform, base, client.currency, int(rng.integers(2, 5))),
                )
                out.append(
                    {
                        "tenant_slug": tenant.slug,
                        "client_id": client_id(tenant.slug, client.name),
                        "client": client,
                        "platform": platform,
                        "account_id": account,
                        "credentials": credentials(platform, account),
                        "spec": spec,
                    }
                )
    return out


def simulator_spec() -> SimSpec:
    return SimSpec(accounts=[c["spec"] for c in demo_connections()])


def email_rows(client: DemoClient, today: dt.date, days: int = HISTORY_DAYS) -> list[dict[str, Any]]:
    """Daily results of a newsletter programme, as an ESP export would give them (demo data)."""
    rng = np.random.default_rng(int(_digits(f"email:{client.name}", 9)))
    scale = SCALE.get(client.currency, 1.0)
    rows = []
    for k in range(days, 0, -1):
        day = today - dt.timedelta(days=k)
        sends = int(rng.normal(9000, 600)) if day.weekday() in (1, 4) else int(rng.normal(1200, 150))
        opens = int(sends * rng.uniform(0.28, 0.36))
        clicks = int(opens * rng.uniform(0.06, 0.11))
        conversions = Decimal(int(clicks * rng.uniform(0.03, 0.07)))
        rows.append(
            {
                "date": day,
                "cost": Decimal(str(round(sends * 0.0009 * scale, 2 if scale == 1.0 else 0))),
                "impressions": opens,
                "clicks": clicks,
                "conversions": conversions,
                "conversion_value": (
                    conversions * Decimal(str(round(rng.uniform(50, 90) * scale, 2)))
                ).quantize(Decimal("0.01")),
            }
        )
    return rows
