"""Official commune codes before/after the 1 July 2025 reform (geo/admin_units.py)."""

from __future__ import annotations

import hashlib
import unicodedata

import pandas as pd
import pytest

from geo import admin_units
from geo.admin_units import (
    CORRECTION_ACTIONS,
    LAYOUTS,
    load_mapping_corrections,
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
    assert len(mapping) == 10598  # 10,599 published, one pair removed by mapping_corrections.csv
    assert mapping["old_commune_code"].nunique() == 10047
    assert not mapping.duplicated(["old_commune_code", "new_commune_code"]).any()
    assert pd.api.types.is_integer_dtype(mapping["n_targets"])
    # n_targets is the number of rows of that old commune
    per_old = mapping.groupby("old_commune_code")["n_targets"].agg(["first", "size"])
    assert (per_old["first"] == per_old["size"]).all()
    assert set(mapping["new_commune_code"]) <= set(load_new_units()["commune_code"])


# ----------------------------------------------------------------------------- corrections

# sha256 of the vendored files as published (PROVENANCE.md): corrections never edit them.
PUBLISHED_SHA256 = {
    "wards_new_2025-07-01.csv": "3c5dc4c48816a6c49629d4419357ee07374a0fc33b9b23d44ef579398456eb5c",
    "ward_mapping_old_to_new_2025-07-01.csv": (
        "d946fcfe04b6d81fb7bd7fe519ae04dff6f2641c2a516c88954923052fa3ad66"
    ),
}


def test_vendored_tables_stay_as_published() -> None:
    for name, digest in PUBLISHED_SHA256.items():
        data = (admin_units.REFERENCE_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, (
            f"{name} was edited; correct it in mapping_corrections.csv"
        )
    provenance = (admin_units.REFERENCE_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    assert all(digest in provenance for digest in PUBLISHED_SHA256.values())


def test_corrections_file() -> None:
    corrections = load_mapping_corrections()
    assert list(corrections.columns) == [
        "old_commune_code",
        "old_commune_name",
        "new_commune_code",
        "new_commune_name",
        "action",
        "reason",
    ]
    assert corrections["action"].isin(CORRECTION_ACTIONS).all()
    assert corrections["reason"].str.contains(r"\d+/NQ-UBTVQH1[345]").all()  # each cites its resolution
    # the corrected mapping is the published one minus the removed pairs plus the added ones
    published = load_old_to_new(corrected=False)
    mapping = load_old_to_new()
    pairs = set(zip(mapping["old_commune_code"], mapping["new_commune_code"], strict=True))
    before = set(zip(published["old_commune_code"], published["new_commune_code"], strict=True))
    action = {(c.old_commune_code, c.new_commune_code): c.action for c in corrections.itertuples()}
    assert before - pairs == {p for p, a in action.items() if a == "remove_pair"}
    assert pairs - before == {p for p, a in action.items() if a == "add_pair"}
    assert list(mapping.columns) == list(published.columns)
    assert (mapping.dtypes == published.dtypes).all()


def test_hoa_loc_of_ben_tre_goes_whole_into_tan_thanh_binh() -> None:
    """Resolution 1687/NQ-UBTVQH15 §68; the published mapping also sends it to Hòa Hiệp (§20's Hòa Lộc)."""
    published = load_old_to_new(corrected=False)
    assert set(published.loc[published["old_commune_code"] == "28924", "new_commune_code"]) == {
        "28921",
        "29734",
    }
    mapping = load_old_to_new()
    hoa_loc = mapping[mapping["old_commune_code"] == "28924"]
    assert hoa_loc[["new_commune_code", "new_commune_name", "n_targets"]].values.tolist() == [
        ["28921", "Xã Tân Thành Bình", 1]
    ]
    # Vĩnh Long's own Hoà Lộc still goes into Hòa Hiệp
    other = mapping[mapping["old_commune_code"] == "29734"]
    assert other[["old_commune_name", "new_commune_code", "n_targets"]].values.tolist() == [
        ["Xã Hoà Lộc", "29734", 1]
    ]
    units = load_new_units().set_index("commune_code")
    assert units.at["28921", "n_old_units"] == 4
    assert "28924:Xã Hòa Lộc:full" in units.at["28921", "old_units"].split(";")
    assert units.at["29734", "n_old_units"] == 3
    assert "28924" not in {e.split(":")[0] for e in units.at["29734", "old_units"].split(";")}
    published_units = load_new_units(corrected=False).set_index("commune_code")
    assert published_units.at["29734", "n_old_units"] == 4
    changed = units.index[units["old_units"] != published_units["old_units"]]
    assert sorted(changed) == ["28921", "29734"]


def _old_unit_pairs(units: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(old code, new code) -> "full" / "partial", from the new units' old_units."""
    pairs = {}
    for new, text, n in zip(units["commune_code"], units["old_units"], units["n_old_units"], strict=True):
        entries = [e.split(":") for e in text.split(";") if e]
        assert len(entries) == n
        pairs.update({(e[0], new): e[-1] for e in entries})
    return pairs


@pytest.mark.parametrize("province", ["86", None])
def test_the_loaders_agree(province: str | None) -> None:
    """Every pair of load_old_to_new is in the new units' old_units and vice versa, after corrections."""
    mapping = load_old_to_new()
    units = load_new_units()
    if province is not None:
        mapping = mapping[mapping["new_province_code"] == province]
        units = units[units["province_code"] == province]
    listed = _old_unit_pairs(units)
    pairs = set(zip(mapping["old_commune_code"], mapping["new_commune_code"], strict=True))
    # old_units also lists five island districts without communes (3-digit district codes) that
    # became special zones (đặc khu); they have no commune to map
    districts = {p for p in listed if len(p[0]) == 3}
    assert len(districts) == (5 if province is None else 0)
    assert set(listed) - districts == pairs
    n_targets = dict(zip(mapping["old_commune_code"], mapping["n_targets"], strict=True))
    assert all(
        (kind == "partial") == (n_targets[old] > 1) for (old, _), kind in listed.items() if len(old) == 5
    )
    if province == "86":
        assert len(pairs) == 359 and len({old for old, _ in pairs}) == 354
        assert int((mapping.drop_duplicates("old_commune_code")["n_targets"] > 1).sum()) == 5


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    mapping = pd.DataFrame(
        {
            "old_province_code": ["83", "83", "86"],
            "old_province_name": ["Tỉnh Bến Tre", "Tỉnh Bến Tre", "Tỉnh Vĩnh Long"],
            "new_province_code": ["86"] * 3,
            "old_commune_code": ["00001", "00002", "00003"],
            "old_commune_name": ["Xã A", "Xã B", "Xã C"],
            "new_commune_code": ["10001", "10001", "10002"],
            "new_commune_name": ["Xã X", "Xã X", "Xã Y"],
            "n_targets": [1, 1, 1],
        }
    )
    units = pd.DataFrame(
        {
            "province_code": ["86", "86"],
            "province_name": ["Tỉnh Vĩnh Long"] * 2,
            "commune_code": ["10001", "10002"],
            "commune_name": ["Xã X", "Xã Y"],
            "n_old_units": [2, 1],
            "old_units": ["00001:Xã A:full;00002:Xã B:full", "00003:Xã C:full"],
        }
    )
    return mapping, units


def _correction(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [(*r, "Resolution 1/NQ-UBTVQH15") for r in rows],
        columns=[
            "old_commune_code",
            "old_commune_name",
            "new_commune_code",
            "new_commune_name",
            "action",
            "reason",
        ],
    )


def test_add_and_remove_pairs_keep_both_tables_consistent() -> None:
    mapping, units = _tables()
    # 00002 also feeds Xã Y (a split), 00003 moves from Xã Y to Xã X
    corrections = _correction(
        ("00002", "Xã B", "10002", "Xã Y", "add_pair"),
        ("00003", "Xã C", "10001", "Xã X", "add_pair"),
        ("00003", "Xã C", "10002", "Xã Y", "remove_pair"),
    )
    fixed = admin_units._correct_mapping(mapping, corrections, units)
    assert fixed[["old_commune_code", "new_commune_code", "n_targets"]].values.tolist() == [
        ["00001", "10001", 1],
        ["00002", "10001", 2],
        ["00002", "10002", 2],
        ["00003", "10001", 1],
    ]
    assert (fixed["new_province_code"] == "86").all() and fixed.loc[2, "old_province_name"] == "Tỉnh Bến Tre"
    fixed_units = admin_units._correct_new_units(units, corrections, fixed)
    assert fixed_units["old_units"].tolist() == [
        "00001:Xã A:full;00002:Xã B:partial;00003:Xã C:full",
        "00002:Xã B:partial",
    ]
    assert fixed_units["n_old_units"].tolist() == [3, 1]
    assert _old_unit_pairs(fixed_units).keys() == set(
        zip(fixed["old_commune_code"], fixed["new_commune_code"], strict=True)
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("00001", "Xã A", "10002", "Xã Y", "remove_pair"), "no pair"),
        (("00001", "Xã A", "10001", "Xã X", "add_pair"), "already has"),
        (("00001", "Xã A", "10001", "Xã X", "remove_pair"), "would feed no new commune"),
        (("00001", "Xã Á", "10002", "Xã Y", "add_pair"), "does not match"),
        (("00009", "Xã Z", "10002", "Xã Y", "add_pair"), "not an old commune"),
        (("00001", "Xã A", "19999", "Xã Z", "add_pair"), "not a new commune"),
    ],
)
def test_a_correction_that_does_not_fit_is_refused(row: tuple[str, str, str, str, str], message: str) -> None:
    mapping, units = _tables()
    with pytest.raises(SchemaError, match=message):
        admin_units._correct_mapping(mapping, _correction(row), units)


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
