from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategist.domain.money import (
    MoneyError,
    billable_unit_micros,
    from_meta_minor,
    from_micros,
    meta_offset,
    minor_unit_exponent,
    to_decimal,
    to_iso_minor,
    to_meta_minor,
    to_micros,
)


def test_iso_exponents() -> None:
    assert [minor_unit_exponent(c) for c in ("USD", "jpy", "KRW", "KWD", "BHD", "EUR", "CLF")] == [
        2,
        0,
        0,
        3,
        3,
        2,
        4,
    ]


def test_meta_offset_is_not_iso() -> None:
    # HUF/TWD have two ISO decimals but Meta stores whole units; KWD has three ISO decimals but Meta uses 100.
    assert [meta_offset(c) for c in ("USD", "JPY", "HUF", "TWD", "KWD", "EUR", "KRW")] == [
        100,
        1,
        1,
        1,
        100,
        100,
        1,
    ]


def test_meta_budget_units_from_sample() -> None:
    assert from_meta_minor("7500", "USD") == Decimal("75")
    assert from_meta_minor("7500", "JPY") == Decimal("7500")
    assert to_meta_minor(Decimal("75.00"), "USD") == 7500
    assert to_meta_minor(Decimal("7500"), "JPY") == 7500
    with pytest.raises(MoneyError):
        to_meta_minor(Decimal("10.5"), "JPY")
    with pytest.raises(MoneyError):
        to_meta_minor(Decimal("1.005"), "USD")


def test_micros() -> None:
    assert from_micros("152730000") == Decimal("152.73")
    assert to_micros(Decimal("75"), "USD") == 75_000_000
    assert billable_unit_micros("USD") == 10_000 and billable_unit_micros("JPY") == 1_000_000
    assert to_micros(Decimal("7500"), "JPY") == 7_500_000_000
    with pytest.raises(MoneyError):
        to_micros(Decimal("7500.5"), "JPY")
    with pytest.raises(MoneyError):
        to_micros(Decimal("75.001"), "USD")


def test_to_decimal_keeps_decimal_text() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("107.5300000000000335346") == Decimal("107.5300000000000335346")
    assert to_decimal(3120.5) == Decimal("3120.5")
    for bad in ("abc", "NaN", True, None):
        with pytest.raises(MoneyError):
            to_decimal(bad)


def test_iso_minor_rejects_sub_minor() -> None:
    assert to_iso_minor(Decimal("1.234"), "KWD") == 1234
    with pytest.raises(MoneyError):
        to_iso_minor(Decimal("1.5"), "JPY")


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["USD", "JPY", "KWD", "EUR"]))
def test_micros_round_trip(units: int, currency: str) -> None:
    amount = Decimal(units).scaleb(-minor_unit_exponent(currency))
    assert from_micros(str(to_micros(amount, currency))) == amount


@given(st.integers(min_value=1, max_value=10**12), st.sampled_from(["USD", "JPY", "HUF", "KWD"]))
def test_meta_round_trip(minor: int, currency: str) -> None:
    assert to_meta_minor(from_meta_minor(str(minor), currency), currency) == minor
