"""Money units at the platform edge.

Every platform stores money in its own unit: Google in micros, Meta in "minor units" whose size is Meta's own
per-currency *offset* (not ISO 4217: HUF, TWD and IDR are offset 1 at Meta but have two ISO decimals),
LinkedIn and TikTok in major units (decimal string / float). Getting one of these wrong is a 100x error, so
the conversions live here, exact, in ``Decimal``, and nothing else in the code base multiplies by 100 or 1e6.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MICROS_PER_UNIT = 1_000_000

#: ISO 4217 minor-unit exponents that differ from the default of 2.
_ISO_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        (
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
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}

#: Currencies whose Meta Marketing API offset is 1 (budgets are whole major units); all others are 100.
#: Source: Meta "Currency Codes" page (VND from third-party material).
META_OFFSET_ONE: frozenset[str] = frozenset(
    {"CLP", "COP", "CRC", "HUF", "ISK", "IDR", "JPY", "KRW", "PYG", "TWD", "VND"}
)

#: Active ISO 4217 codes: what the API accepts as a client or account currency.
ACTIVE_CURRENCIES: frozenset[str] = frozenset(
    {
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
        "BHD",
        "BIF",
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
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
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
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
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
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
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
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
    }
)


class MoneyError(ValueError):
    """An amount that cannot be represented exactly in the target unit."""


def normalize_currency(code: str) -> str:
    """Upper-case ISO 4217 code; rejects anything that is not three letters."""
    code = code.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise MoneyError(f"not an ISO 4217 currency code: {code!r}")
    return code


def minor_unit_exponent(currency: str) -> int:
    """ISO 4217 number of decimals (JPY 0, USD 2, KWD 3)."""
    return _ISO_EXPONENTS.get(normalize_currency(currency), 2)


def meta_offset(currency: str) -> int:
    """Meta's multiplier from major units to the integers its budget fields take."""
    return 1 if normalize_currency(currency) in META_OFFSET_ONE else 100


def to_decimal(value: object) -> Decimal:
    """Exact Decimal from a platform value (decimal string, int, Decimal, or a float via its shortest repr).

    Floats go through ``repr`` so 0.1 stays 0.1 rather than becoming its binary expansion.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise MoneyError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise MoneyError(f"not a decimal number: {value!r}") from exc
        if not result.is_finite():
            raise MoneyError(f"not a finite number: {value!r}")
        return result
    raise MoneyError(f"not a number: {value!r}")


def from_micros(micros: object) -> Decimal:
    """Major units from Google's int64 micros (serialized as a string in JSON)."""
    return to_decimal(micros) / MICROS_PER_UNIT


def billable_unit_micros(currency: str) -> int:
    """Default Google budget step: one ISO minor unit (USD 10,000 micros, JPY 1,000,000)."""
    return 10 ** (6 - minor_unit_exponent(currency))


def to_micros(amount: Decimal, currency: str, *, billable_unit: int | None = None) -> int:
    """Google micros for a major-unit amount; refuses amounts that are not a multiple of the billable unit."""
    unit = billable_unit if billable_unit is not None else billable_unit_micros(currency)
    micros = amount * MICROS_PER_UNIT
    if micros != micros.to_integral_value() or int(micros) % unit:
        raise MoneyError(f"{amount} {currency} is not a multiple of the billable unit ({unit} micros)")
    return int(micros)


def from_meta_minor(value: object, currency: str) -> Decimal:
    """Major units from a Meta budget field ("7500" USD -> 75.00, "7500" JPY -> 7500)."""
    return to_decimal(value) / meta_offset(currency)


def to_meta_minor(amount: Decimal, currency: str) -> int:
    """Meta budget integer for a major-unit amount; refuses fractions Meta cannot hold (e.g. 10.5 JPY)."""
    minor = amount * meta_offset(currency)
    if minor != minor.to_integral_value():
        raise MoneyError(
            f"{amount} {currency} has more decimals than Meta's offset {meta_offset(currency)} allows"
        )
    return int(minor)


def from_iso_minor(value: int, currency: str) -> Decimal:
    """Major units from ISO minor units (cents, fils; yen are already major)."""
    return Decimal(value).scaleb(-minor_unit_exponent(currency))


def to_iso_minor(amount: Decimal, currency: str) -> int:
    """ISO minor units for a major-unit amount; refuses sub-minor fractions."""
    minor = amount.scaleb(minor_unit_exponent(currency))
    if minor != minor.to_integral_value():
        raise MoneyError(f"{amount} {currency} has more than {minor_unit_exponent(currency)} decimals")
    return int(minor)


def check_major_precision(amount: Decimal, currency: str) -> Decimal:
    """The amount itself, if it fits the currency's ISO decimals (used for LinkedIn/TikTok budget writes)."""
    to_iso_minor(amount, currency)
    return amount
