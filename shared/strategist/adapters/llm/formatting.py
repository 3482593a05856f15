"""How the offline writer prints figures: money in its currency, shares as percentages, ratios as "3.45x".

Each function rounds to a precision the figure check accepts as "the same value, rounded to the precision shown",
so the offline text always passes the same check a language model's text must pass.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from strategist.domain.money import minor_unit_exponent

#: Symbols printed before the amount; any other currency prints its ISO code ("SEK 1,250.00").
SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩"}


def _dec(value: float | Decimal | int) -> Decimal:
    return (
        value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    )


def _group(value: Decimal, decimals: int) -> str:
    quantum = Decimal(1).scaleb(-decimals)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,.{decimals}f}"


def money(amount: float | Decimal | int, currency: str) -> str:
    """Amount with its currency. Whole units from 1,000 up (a plan is not read to the cent); below that the
    currency's ISO decimals (USD 42.17, JPY 4,217 -- yen have no minor unit)."""
    value = _dec(amount)
    decimals = minor_unit_exponent(currency)
    if abs(value) >= 1000 or value == value.to_integral_value():
        decimals = 0
    text = _group(abs(value), decimals)
    sign = "-" if value < 0 and text.strip("0.,") else ""
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency.upper()} {text}"


def percent(fraction: float | Decimal, decimals: int = 1) -> str:
    """A share (0.4523) as a percentage ("45.2%"); a trailing ".0" is dropped ("45%")."""
    text = _group(_dec(fraction) * 100, decimals)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def ratio(value: float | Decimal, decimals: int = 2) -> str:
    """A return ratio (ROAS 3.456) as "3.46x"."""
    return f"{_group(_dec(value), decimals)}x"


def count(value: float | Decimal | int) -> str:
    """A count of things (conversions, clicks) to the nearest whole one, with thousands separators."""
    return _group(_dec(value), 0)


def number(value: float | Decimal | int, decimals: int = 0) -> str:
    """A plain quantity with thousands separators."""
    return _group(_dec(value), decimals)


def between(low: str, high: str) -> str:
    """A range stated as a range; collapses when both ends print the same."""
    return low if low == high else f"between {low} and {high}"


def label(identifier: str) -> str:
    """A platform or objective identifier as words ("google_ads" -> "Google Ads")."""
    names = {
        "google_ads": "Google Ads",
        "youtube_ads": "YouTube Ads",
        "meta_ads": "Meta Ads",
        "linkedin_ads": "LinkedIn Ads",
        "tiktok_ads": "TikTok Ads",
        "email": "email",
    }
    return names.get(identifier, identifier.replace("_", " "))


def join_words(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
