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

#: ISO 4217 active codes, with their minor-unit exponent (how many decimals money has in that currency).
CURRENCY_EXPONENT: dict[str, int] = {
    **dict.fromkeys(
        [
            "AED",
            "AFN",
            "ALL",
            "AMD",
            "ANG",
            "AOA",
            "ARS",
            "AUD",
            "AWG",
            "AZN",
            "BAM",
            "BBD",
            "BDT",
            "BGN",
            "BMD",
            "BND",
            "BOB",
            "BRL",
            "BSD",
            "BTN",
            "BWP",
            "BYN",
            "BZD",
            "CAD",
            "CDF",
            "CHF",
            "CNY",
            "COP",
            "CRC",
            "CUP",
            "CVE",
            "CZK",
            "DKK",
            "DOP",
            "DZD",
            "EGP",
            "ERN",
            "ETB",
            "EUR",
            "FJD",
            "FKP",
            "GBP",
            "GEL",
            "GHS",
            "GIP",
            "GMD",
            "GTQ",
            "GYD",
            "HKD",
            "HNL",
            "HTG",
            "HUF",
            "IDR",
            "ILS",
            "INR",
            "IRR",
            "JMD",
            "KES",
            "KGS",
            "KHR",
            "KPW",
            "KYD",
            "KZT",
            "LAK",
            "LBP",
            "LKR",
            "LRD",
            "LSL",
            "MAD",
            "MDL",
            "MGA",
            "MKD",
            "MMK",
            "MNT",
            "MOP",
            "MRU",
            "MUR",
            "MVR",
            "MWK",
            "MXN",
            "MYR",
            "MZN",
            "NAD",
            "NGN",
            "NIO",
            "NOK",
            "NPR",
            "NZD",
            "PAB",
            "PEN",
            "PGK",
            "PHP",
            "PKR",
            "PLN",
            "QAR",
            "RON",
            "RSD",
            "RUB",
            "SAR",
            "SBD",
            "SCR",
            "SDG",
            "SEK",
            "SGD",
            "SHP",
            "SLE",
            "SOS",
            "SRD",
            "SSP",
            "STN",
            "SVC",
            "SYP",
            "SZL",
            "THB",
            "TJS",
            "TMT",
            "TOP",
            "TRY",
            "TTD",
            "TWD",
            "TZS",
            "UAH",
            "USD",
            "UYU",
            "UZS",
            "VES",
            "WST",
            "XCD",
            "YER",
            "ZAR",
            "ZMW",
            "ZWG",
        ],
        2,
    ),
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())
