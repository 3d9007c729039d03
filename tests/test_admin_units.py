"""Official commune codes before/after the 1 July 2025 reform (geo/admin_units.py)."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from geo import admin_units
from geo.admin_units import (
    LAYOUTS,
    load_new_units,
    load_old_to_new,
    nearest_official_name,
    normalise_name,
    official_units,
)
from geo.errors import ParameterError, SchemaError


def test_layouts() -> None:
    assert LAYOUTS == ("2009", "2025-03", "2025-07")


def test_new_units_table() -> None:
    units = load_new_units()
    assert list(units.columns) == [
        "province_code",
        "province_name",
        "commune_code",
        "commune_name",
        "n_old_units",
        "old_units",
    ]
    assert len(units) == 3321
    assert units["commune_code"].is_unique
    assert units["province_code"].nunique() == 34
    assert units["commune_code"].str.fullmatch(r"\d{5}").all()
    assert units["province_code"].str.fullmatch(r"\d{2}").all()
    assert pd.api.types.is_integer_dtype(units["n_old_units"])
    assert (units["n_old_units"] >= 1).all()


def test_old_to_new_table() -> None:
    mapping = load_old_to_new()
    assert list(mapping.columns) == [
        "old_province_code",
        "old_province_name",
        "new_province_code",
        "old_commune_code",
        "old_commune_name",
        "new_commune_code",
        "new_commune_name",
        "n_targets",
    ]
    assert len(mapping) == 10599
    assert mapping["old_commune_code"].nunique() == 10047
    assert not mapping.duplicated(["old_commune_code", "new_commune_code"]).any()
    assert pd.api.types.is_integer_dtype(mapping["n_targets"])
    # n_targets is the number of rows of that old commune
    per_old = mapping.groupby("old_commune_code")["n_targets"].agg(["first", "size"])
    assert (per_old["first"] == per_old["size"]).all()
    assert set(mapping["new_commune_code"]) <= set(load_new_units()["commune_code"])


def test_loaders_return_copies() -> None:
    first = load_new_units()
    first.loc[0, "commune_name"] = "changed"
    assert load_new_units().loc[0, "commune_name"] != "changed"


def test_new_vinh_long_has_124_communes() -> None:
    units = official_units("2025-07", "86")
    assert list(units.columns) == ["commune_code", "commune_name", "province_code"]
    assert len(units) == 124
    assert (units["province_code"] == "86").all()
    assert units["commune_code"].is_monotonic_increasing
    types = units["commune_name"].str.split(" ").str[0].value_counts().to_dict()
    assert types == {"Xã": 105, "Phường": 19}


def test_former_provinces_sum_to_the_mapping() -> None:
    mapping = load_old_to_new()
    into_86 = mapping[mapping["new_province_code"] == "86"]
    expected = into_86.groupby("old_province_code")["old_commune_code"].nunique().to_dict()
    assert expected == {"83": 148, "84": 104, "86": 102}
    old = official_units("2025-03", ("83", "84", "86"))
    assert old.groupby("province_code").size().to_dict() == expected
    assert len(old) == into_86["old_commune_code"].nunique() == 354
    assert len(official_units("2025-03", "84")) == 104  # Trà Vinh exists only before the reform
    assert set(official_units("2025-03", ("84",))["commune_code"]) <= set(old["commune_code"])


def test_layout_2009_is_the_pre_reform_list() -> None:
    pd.testing.assert_frame_equal(official_units("2009", "86"), official_units("2025-03", "86"))
    assert len(official_units("2025-03")) == 10047
    assert len(official_units("2025-07")) == 3321


def test_province_codes_are_zero_padded_strings() -> None:
    pd.testing.assert_frame_equal(official_units("2025-07", "1"), official_units("2025-07", "01"))


def test_unknown_layout_names_the_valid_ones() -> None:
    with pytest.raises(ParameterError) as info:
        official_units("2024")
    for layout in LAYOUTS:
        assert layout in str(info.value)


@pytest.mark.parametrize(("layout", "code"), [("2025-07", "84"), ("2025-03", "99"), ("2025-07", "8x6")])
def test_unknown_or_malformed_province_code(layout: str, code: str) -> None:
    with pytest.raises(ParameterError):
        official_units(layout, code)


def test_diacritics_survive() -> None:
    names = official_units("2025-07", "86")["commune_name"]
    assert {"Phường Long Đức", "Xã Lục Sĩ Thành", "Phường Bến Tre", "Xã Đôn Châu"} <= set(names)
    for table in (load_new_units(), load_old_to_new()):
        for column in [c for c in table.columns if c.endswith("name")]:
            assert table[column].map(lambda s: unicodedata.is_normalized("NFC", s)).all()
    old = official_units("2025-03", "84")
    assert "Xã Đại An" in set(old["commune_name"])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Phường 01", "phường 1"),
        ("P. 1", "Phường 1"),
        ("XÃ   Long   Đức", "long duc"),
        ("Thị trấn Càng Long", "Càng Long"),
        ("Thị xã Duyên Hải", "duyen hai"),
        ("Thành phố Trà Vinh", "Trà Vinh"),
        ("Tỉnh Vĩnh Long", "vinh long"),
        ("Huyện Trà Cú", "tra cu"),
        ("ấp Chợ", "Chợ"),
        ("Khóm 3", "khom 03"),
        ("Thôn Đông", "dong"),
        ("Đặc khu Phú Quốc", "Phú Quốc"),
        ("Xã Hoà Lộc", "Xã Hòa Lộc"),
    ],
)
def test_normalise_name_equal(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_normalise_name_values() -> None:
    assert normalise_name("  Xã  Long Đức ") == "long duc"
    assert normalise_name("Phường 09") == "9"
    assert normalise_name("Phường 10") == "10"
    assert normalise_name("Xã Tân Hòa") != normalise_name("Xã Tân Hội")


def test_nearest_official_name() -> None:
    units = official_units("2025-07", "86")
    assert nearest_official_name("Long Duc", units) == "Phường Long Đức"
    assert nearest_official_name("xa gao long", units) == "Xã Giao Long"
    assert nearest_official_name("Lục Sỹ Thành", units) == "Xã Lục Sĩ Thành"
    assert nearest_official_name("Phuong Ben Tre", units) == "Phường Bến Tre"
    assert nearest_official_name("Hà Nội", units) is None
    assert nearest_official_name("", units) is None


def test_nearest_official_name_needs_names() -> None:
    with pytest.raises(SchemaError):
        nearest_official_name("x", pd.DataFrame({"name": ["a"]}))


def test_reference_files_ship_with_licence_and_no_gpl_data() -> None:
    folder = admin_units.REFERENCE_DIR
    names = {p.name for p in folder.iterdir()}
    assert {
        "wards_new_2025-07-01.csv",
        "ward_mapping_old_to_new_2025-07-01.csv",
        "PROVENANCE.md",
        "LICENSE.dvhcvn-20250701",
    } <= names
    assert "Copyright (c) 2025 dvhcvn" in (folder / "LICENSE.dvhcvn-20250701").read_text(encoding="utf-8")
    reference = folder.parent
    assert not list(reference.rglob("gso_admin_units*"))
    for licence in reference.rglob("LICENSE*"):
        assert "GNU GENERAL PUBLIC LICENSE" not in licence.read_text(encoding="utf-8").upper()
