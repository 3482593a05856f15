"""What an agency knows about each client: the vocabulary shared by the API, storage and models."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache


class Industry(StrEnum):
    ECOMMERCE = "ecommerce"
    RETAIL = "retail"
    B2B_SAAS = "b2b_saas"
    TECHNOLOGY = "technology"
    FINANCE = "finance"
    HEALTHCARE = "healthcare"
    EDUCATION = "education"
    TRAVEL = "travel"
    REAL_ESTATE = "real_estate"
    AUTOMOTIVE = "automotive"
    LEGAL = "legal"
    HOME_SERVICES = "home_services"
    FOOD_BEVERAGE = "food_beverage"
    BEAUTY = "beauty"
    FITNESS = "fitness"
    NONPROFIT = "nonprofit"
    ENTERTAINMENT = "entertainment"
    OTHER = "other"


class Kpi(StrEnum):
    SPEND = "spend"
    IMPRESSIONS = "impressions"
    REACH = "reach"
    CLICKS = "clicks"
    CTR = "ctr"
    CPC = "cpc"
    CPM = "cpm"
    CONVERSIONS = "conversions"
    CPA = "cpa"
    REVENUE = "revenue"
    ROAS = "roas"
    LEADS = "leads"
    CPL = "cpl"
    VIDEO_VIEWS = "video_views"
    ENGAGEMENT = "engagement"


#: KPIs where lower is better: a goal is a ceiling, not a floor.
LOWER_IS_BETTER: frozenset[Kpi] = frozenset({Kpi.CPC, Kpi.CPM, Kpi.CPA, Kpi.CPL})


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())
