"""UI strings and locale formatting (Vietnamese default, English)."""

from __future__ import annotations

import datetime as dt
import string

import pytest

from layers.i18n import STRINGS, format_date, format_number, format_percent, t


def test_vietnamese_is_default() -> None:
    assert t("page.map") == "Bản đồ quy hoạch"
    assert t("page.map", "en") == "Planning map"


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_string_has_both_languages_with_the_same_fields(key: str) -> None:
    vi, en = STRINGS[key]
    assert vi.strip() and en.strip()
    fields = [{f for _, f, _, _ in string.Formatter().parse(s) if f} for s in (vi, en)]
    assert fields[0] == fields[1]


def test_fields_are_filled() -> None:
    assert t("map.commune_count", "vi", n=105) == "105 xã/phường/thị trấn"


@pytest.mark.parametrize(
    ("value", "lang", "decimals", "expected"),
    [
        (1234.5, "vi", 1, "1.234,5"),
        (1234.5, "en", 1, "1,234.5"),
        (1227, "vi", 0, "1.227"),
        (-9876543.21, "en", 2, "-9,876,543.21"),
        (None, "vi", 0, "—"),
        (float("nan"), "en", 1, "—"),
    ],
)
def test_format_number(value: float | None, lang: str, decimals: int, expected: str) -> None:
    assert format_number(value, lang, decimals=decimals) == expected


def test_format_percent() -> None:
    assert format_percent(0.693, "vi") == "69,3 %"
    assert format_percent(0.693, "en") == "69.3%"


def test_format_date() -> None:
    assert format_date(dt.date(2026, 11, 5), "vi") == "05/11/2026"
    assert format_date("2023-10-10", "en") == "10 Oct 2023"
