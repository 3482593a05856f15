"""Mutable simulator state: accounts and campaigns, the clock, budget schedules, tokens, faults, async jobs."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from infra.platform_sim.model import Curves, Series, completeness, reported, simulate, stable_hash
from infra.platform_sim.spec import FAMILY, AccountSpec, CampaignSpec, SimSpec

#: ISO 4217 decimals that differ from 2 (the simulator keeps its own table: it stands in for the platforms, so it
#: must not share unit code with the connectors it tests).
_DECIMALS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV"), 0
    ),
    **dict.fromkeys(("XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_META_OFFSET_ONE = {"CLP", "COP", "CRC", "HUF", "ISK", "IDR", "JPY", "KRW", "PYG", "TWD", "VND"}


def currency_decimals(currency: str) -> int:
    return _DECIMALS.get(currency, 2)


def meta_offset(currency: str) -> int:
    return 1 if currency in _META_OFFSET_ONE else 100


def money_str(value: float, currency: str) -> str:
    return f"{value:.{currency_decimals(currency)}f}"


@dataclass
class SimCampaign:
    family: str
    account_id: str
    spec: CampaignSpec
    start: date
    hash: int
    #: (first day, daily spend rate in major units) — the rate in force from that day on.
    schedule: list[tuple[date, float]]
    budget_amount: Decimal
    budget_type: str
    status: str
    #: issue 6, optimize slice: the Google Ads bidding strategy and its target, recorded as written; the response
    #: curves do not depend on it (the simulator models spend -> outcome, not auctions)
    bidding: dict[str, Any] = field(
        default_factory=lambda: {
            "type": "MAXIMIZE_CONVERSIONS",
            "target_cpa_micros": None,
            "target_roas": None,
        }
    )

    @property
    def id(self) -> str:
        return self.spec.id

    def daily_rate(self, amount: Decimal, budget_type: str) -> float:
        return float(amount) / (self.spec.flight_days if budget_type == "lifetime" else 1)


@dataclass
class Window:
    """Final series of one account for days [first, last]."""

    first: date
    last: date
    ids: list[str]
    series: Series
    #: Unique per computed window, so cached rows never outlive a budget change.
    generation: int = 0

    def index(self, campaign_id: str) -> int:
        return self.ids.index(campaign_id)


@dataclass
class Rows:
    """Served rows as parallel columns."""

    campaigns: list[SimCampaign]
    dates: list[date]
    spend: list[float]
    impressions: list[int]
    clicks: list[int]
    conversions: list[float]
    conversion_value: list[float]
    video_views: list[int]
    reach: list[int]

    @classmethod
    def empty(cls) -> Rows:
        return cls([], [], [], [], [], [], [], [], [])

    def __len__(self) -> int:
        return len(self.dates)

    def take(self, keep: list[int]) -> Rows:
        return Rows(*[[column[k] for k in keep] for column in self._columns()])

    def _columns(self) -> list[list[Any]]:
        return [
            self.campaigns,
            self.dates,
            self.spend,
            self.impressions,
            self.clicks,
            self.conversions,
            self.conversion_value,
            self.video_views,
            self.reach,
        ]


@dataclass
class SimAccount:
    family: str
    spec: AccountSpec
    campaigns: dict[str, SimCampaign] = field(default_factory=dict)
    window: Window | None = None

    @property
    def currency(self) -> str:
        return self.spec.currency

    @property
    def account_id(self) -> str:
        return self.spec.account_id


@dataclass
class Fault:
    platform: str
    kind: str
    remaining: int
    path_contains: str | None = None
    retry_after_seconds: float | None = None
    delay_seconds: float = 0.0


FAULT_KINDS = ("429", "5xx", "timeout", "expired_token", "malformed_page", "invalid_grant", "usage_high")


class SimState:
    def __init__(
        self, *, seed: int, today: date, google_page_size: int = 10_000, meta_polls: int = 1
    ) -> None:
        self.seed = seed
        self.today = today
        self.google_page_size = google_page_size
        self.meta_polls_until_complete = meta_polls
        self.accounts: dict[tuple[str, str], SimAccount] = {}
        self.faults: list[Fault] = []
        self.expired_tokens: set[str] = set()
        self.revoked_refresh_tokens: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.budget_log: list[dict[str, Any]] = []
        self.request_log: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._rows_cache: dict[tuple[Any, ...], Rows] = {}
        self.lock = threading.RLock()

    # -- configuration -------------------------------------------------------------------------------------

    def load(self, spec: SimSpec) -> list[SimAccount]:
        return [self.add_account(account) for account in spec.accounts]

    def add_account(self, spec: AccountSpec) -> SimAccount:
        family = FAMILY[spec.platform]
        with self.lock:
            account = self.accounts.get((family, spec.account_id))
            if account is None:
                stored = spec.model_copy(update={"platform": "google_ads"} if family == "google" else {})
                account = SimAccount(family=family, spec=stored)
                self.accounts[(family, spec.account_id)] = account
            default_start = self.today - timedelta(days=spec.history_days)
            for campaign_spec in spec.campaigns:
                if spec.platform == "youtube_ads":
                    campaign_spec = campaign_spec.model_copy(update={"objective": "VIDEO"})
                start = campaign_spec.start_date or default_start
                rate = float(campaign_spec.budget) / (
                    campaign_spec.flight_days if campaign_spec.budget_type == "lifetime" else 1
                )
                schedule = [(start, rate)]
                if campaign_spec.status != "active":
                    # Paused/removed campaigns ran until a month before the simulator's first "today".
                    schedule.append((max(start, self.today - timedelta(days=30)), 0.0))
                account.campaigns[campaign_spec.id] = SimCampaign(
                    family=family,
                    account_id=spec.account_id,
                    spec=campaign_spec,
                    start=start,
                    hash=stable_hash(f"{family}:{spec.account_id}:{campaign_spec.id}"),
                    schedule=schedule,
                    budget_amount=campaign_spec.budget,
                    budget_type=campaign_spec.budget_type,
                    status=campaign_spec.status,
                )
            account.window = None
            return account

    def account(self, family: str, account_id: str) -> SimAccount | None:
        return self.accounts.get((family, account_id))

    def find_campaign(self, family: str, campaign_id: str) -> SimCampaign | None:
        for (fam, _), account in self.accounts.items():
            if fam == family and campaign_id in account.campaigns:
                return account.campaigns[campaign_id]
        return None

    def next_id(self) -> int:
        return next(self._ids)

    # -- clock and budgets ---------------------------------------------------------------------------------

    def set_today(self, today: date) -> None:
        with self.lock:
            self.today = today

    def set_budget(self, campaign: SimCampaign, amount: Decimal, budget_type: str, *, source: str) -> None:
        """The new rate applies from the simulator's today on; earlier days keep what was spent."""
        with self.lock:
            rate = campaign.daily_rate(amount, budget_type)
            campaign.schedule = [entry for entry in campaign.schedule if entry[0] < self.today]
            if campaign.status == "active":
                campaign.schedule.append((self.today, rate))
            campaign.budget_amount = amount
            campaign.budget_type = budget_type
            self.budget_log.append(
                {
                    "campaign_id": campaign.id,
                    "family": campaign.family,
                    "amount": str(amount),
                    "budget_type": budget_type,
                    "effective_from": self.today.isoformat(),
                    "source": source,
                }
            )
            self.accounts[(campaign.family, campaign.account_id)].window = None

    def set_status(self, campaign: SimCampaign, status: str) -> None:
        with self.lock:
            campaign.status = status
            campaign.schedule = [entry for entry in campaign.schedule if entry[0] < self.today]
            rate = (
                campaign.daily_rate(campaign.budget_amount, campaign.budget_type)
                if status == "active"
                else 0.0
            )
            campaign.schedule.append((self.today, rate))
            self.accounts[(campaign.family, campaign.account_id)].window = None

    # -- series --------------------------------------------------------------------------------------------

    def window(self, account: SimAccount, last: date) -> Window:
        """Final series from the account's first campaign start to at least ``last`` (cached, lazily extended)."""
        with self.lock:
            cached = account.window
            if cached is not None and cached.last >= last:
                return cached
            campaigns = list(account.campaigns.values())
            first = min((c.start for c in campaigns), default=last)
            horizon = max(last, self.today + timedelta(days=60))
            n_days = (horizon - first).days + 1
            ordinals = np.arange(first.toordinal(), first.toordinal() + n_days, dtype=np.int64)
            budget = np.zeros((len(campaigns), n_days))
            for row, campaign in enumerate(campaigns):
                for (day, rate), nxt in zip(campaign.schedule, [*campaign.schedule[1:], None], strict=True):
                    lo = max(0, (day - first).days)
                    hi = n_days if nxt is None else max(0, min(n_days, (nxt[0] - first).days))
                    budget[row, lo:hi] = rate
            curves = Curves(
                **{
                    name: np.array([getattr(c.spec.curve, name) for c in campaigns], dtype=float)
                    for name in Curves.__dataclass_fields__
                }
            )
            series = simulate(
                seed=self.seed,
                campaign_hashes=np.array([c.hash for c in campaigns], dtype=np.uint64),
                ordinals=ordinals,
                daily_budget=budget,
                curves=curves,
                money_decimals=currency_decimals(account.currency),
                conversion_decimals=2 if account.family == "google" else 0,
            )
            account.window = Window(first, horizon, [c.id for c in campaigns], series, self.next_id())
            return account.window

    def rows(self, account: SimAccount, campaign_ids: list[str] | None, start: date, end: date) -> Rows:
        """Reported rows (restated as of today) with spend > 0 for days in [start, min(end, yesterday)],
        ordered by date then campaign, as columns (a two-year backfill is ~10^6 rows)."""
        end = min(end, self.today - timedelta(days=1))
        ids = [
            cid
            for cid in (campaign_ids if campaign_ids is not None else account.campaigns)
            if cid in account.campaigns
        ]
        if end < start or not ids:
            return Rows.empty()
        window = self.window(account, end)
        # Paged endpoints ask for the same rows once per page: keep the last few answers for this window.
        key = (window.generation, tuple(ids), start, end, self.today)
        cached = self._rows_cache.get(key)
        if cached is not None:
            return cached
        rows = self._rows(account, window, ids, start, end)
        if len(self._rows_cache) >= 8:
            self._rows_cache.pop(next(iter(self._rows_cache)))
        self._rows_cache[key] = rows
        return rows

    def _rows(self, account: SimAccount, window: Window, ids: list[str], start: date, end: date) -> Rows:
        lo = max(0, (start - window.first).days)
        hi = (end - window.first).days + 1
        if hi <= lo:
            return Rows.empty()
        idx = np.array([window.index(cid) for cid in ids])
        s = window.series
        first_ord = window.first.toordinal() + lo
        ordinals = np.arange(first_ord, window.first.toordinal() + hi)
        share = completeness(self.today.toordinal() - ordinals)[None, :]
        money_dec = currency_decimals(account.currency)
        conv_dec = 2 if account.family == "google" else 0

        def cut(values: np.ndarray) -> np.ndarray:
            return values[idx, lo:hi].T  # (days, campaigns): nonzero() then walks date-major

        spend = cut(s.spend)
        cols, rows = np.nonzero(spend > 0)
        conv = reported(s.conversions[idx, lo:hi], share, conv_dec).T
        value = reported(s.conversion_value[idx, lo:hi], share, money_dec).T
        campaigns = [account.campaigns[cid] for cid in ids]
        return Rows(
            campaigns=[campaigns[r] for r in rows.tolist()],
            dates=[date.fromordinal(first_ord + c) for c in cols.tolist()],
            spend=spend[cols, rows].tolist(),
            impressions=cut(s.impressions)[cols, rows].astype(np.int64).tolist(),
            clicks=cut(s.clicks)[cols, rows].astype(np.int64).tolist(),
            conversions=conv[cols, rows].tolist(),
            conversion_value=value[cols, rows].tolist(),
            video_views=cut(s.video_views)[cols, rows].astype(np.int64).tolist(),
            reach=cut(s.reach)[cols, rows].astype(np.int64).tolist(),
        )

    def truth(self, account: SimAccount, campaign_id: str, start: date, end: date) -> dict[str, Any]:
        campaign = account.campaigns[campaign_id]
        last_served = self.today - timedelta(days=1)
        window = self.window(account, max(end, last_served))
        i = window.index(campaign_id)
        s = window.series
        money_dec = currency_decimals(account.currency)
        conv_dec = 2 if account.family == "google" else 0
        days = []
        day = start
        while day <= end:
            j = (day - window.first).days
            if 0 <= j < s.spend.shape[1]:
                age = self.today.toordinal() - day.toordinal()
                share = float(completeness(np.array([age]))[0])
                conv = float(s.conversions[i, j])
                value = float(s.conversion_value[i, j])
                days.append(
                    {
                        "date": day.isoformat(),
                        "served": bool(day <= last_served and s.spend[i, j] > 0),
                        "daily_budget": money_str(float(s.budget[i, j]), account.currency),
                        "spend": money_str(float(s.spend[i, j]), account.currency),
                        "impressions": int(s.impressions[i, j]),
                        "clicks": int(s.clicks[i, j]),
                        "conversions_final": round(conv, conv_dec),
                        "conversions_reported": float(reported(np.array(conv), np.array(share), conv_dec)),
                        "conversion_value_final": money_str(value, account.currency),
                        "conversion_value_reported": money_str(
                            float(reported(np.array(value), np.array(share), money_dec)), account.currency
                        ),
                        "video_views": int(s.video_views[i, j]),
                        "reach": int(s.reach[i, j]),
                        "reported_share": share,
                    }
                )
            day += timedelta(days=1)
        return {
            "platform_family": account.family,
            "account_id": account.account_id,
            "currency": account.currency,
            "time_zone": "UTC" if account.family == "linkedin" else account.spec.time_zone,
            "campaign_id": campaign_id,
            "status": campaign.status,
            "budget": {"amount": str(campaign.budget_amount), "type": campaign.budget_type},
            "curve": campaign.spec.curve.model_dump(),
            "schedule": [{"from": d.isoformat(), "daily_rate": r} for d, r in campaign.schedule],
            "today": self.today.isoformat(),
            "days": days,
        }

    # -- faults --------------------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, family: str, path: str, *, kinds: tuple[str, ...]) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (
                    FAMILY.get(fault.platform, fault.platform) == family
                    and fault.kind in kinds
                    and fault.remaining > 0
                    and (fault.path_contains is None or fault.path_contains in path)
                ):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
            return None
