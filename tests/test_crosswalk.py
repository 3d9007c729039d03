"""The crosswalk (geo/crosswalk/, ``python -m analysis crosswalk``): old-commune tables to new communes.

A hand-built mapping holds a merge (3 old -> 1 new) and a split (1 old -> 2 new); the real
mapping (geo.admin_units) carries all 354 old communes of Trà Vinh, Vĩnh Long and Bến Tre to the
124 new communes of Vĩnh Long (86).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import main
from geo.crosswalk import (
    DEFAULT_SHARE_RULES,
    ShareRule,
    carry_summary,
    carry_table,
    largest_remainder,
    match_key,
    normalise_code,
    old_units_from_mapping,
    parse_share_rule,
    plan_columns,
    resolve_old_codes,
    split_weights,
)
from geo.errors import ParameterError, SchemaError, UnknownUnitError

# Merge: 00001, 00002, 00003 -> 10001. Split: 00004 -> 10001 and 10002. Whole: 00005 -> 10002.
# Two old "Xã Tân Bình" (different old provinces) -> 10003, for name ambiguity.
MAPPING = pd.DataFrame(
    [
        ("83", "Tỉnh Bến Tre", "00001", "Xã An Phú", "10001", "Xã An Bình"),
        ("83", "Tỉnh Bến Tre", "00002", "Xã Bình Đức", "10001", "Xã An Bình"),
        ("84", "Tỉnh Trà Vinh", "00003", "Thị trấn Càng Long", "10001", "Xã An Bình"),
        ("84", "Tỉnh Trà Vinh", "00004", "Xã Long Đức", "10001", "Xã An Bình"),
        ("84", "Tỉnh Trà Vinh", "00004", "Xã Long Đức", "10002", "Phường Long Hòa"),
        ("84", "Tỉnh Trà Vinh", "00005", "Phường 1", "10002", "Phường Long Hòa"),
        ("84", "Tỉnh Trà Vinh", "00006", "Xã Tân Bình", "10003", "Xã Tân Phú"),
        ("83", "Tỉnh Bến Tre", "00007", "Xã Tân Bình", "10003", "Xã Tân Phú"),
    ],
    columns=[
        "old_province_code",
        "old_province_name",
        "old_commune_code",
        "old_commune_name",
        "new_commune_code",
        "new_commune_name",
    ],
)
# Hamlets of the split unit 00004: 100 households stayed in 10001, 300 went to 10002.
HAMLETS = pd.DataFrame(
    {
        "former_commune_code": ["00004", "00004", "00004", "00001"],
        "commune_code": ["10001", "10002", "10002", "10001"],
        "households": [100, 120, 180, 999],
    }
)
PARTS = pd.DataFrame(
    {
        "old_commune_code": ["00004", "00004"],
        "new_commune_code": ["10001", "10002"],
        "area_km2": [3.0, 1.0],
        "area_share": [0.75, 0.25],
    }
)


def _table(**counts: list[int]) -> pd.DataFrame:
    codes = ["00001", "00002", "00003", "00004", "00005", "00006", "00007"]
    return pd.DataFrame({"commune_code": codes, **counts})


def _carry(table: pd.DataFrame, **weights_kw: pd.DataFrame | None):  # type: ignore[no-untyped-def]
    plan = plan_columns(table)
    weights = split_weights(MAPPING, **weights_kw)
    return carry_table(table, MAPPING, weights, count_columns=plan.counts, share_columns=plan.shares)


# ---------------------------------------------------------------- merge, shares


def test_merge_sums_counts_and_lists_the_old_codes() -> None:
    table = _table(households=[10, 20, 30, 40, 50, 60, 70])
    result = _carry(table, hamlets=HAMLETS)
    out = result.communes.set_index("commune_code")
    assert list(out.index) == ["10001", "10002", "10003"]
    # 00004 (40) splits 100:300 -> 10 to 10001, 30 to 10002
    assert out.loc["10001", "households"] == 10 + 20 + 30 + 10
    assert out.loc["10002", "households"] == 30 + 50
    assert out.loc["10003", "households"] == 60 + 70
    assert out.loc["10001", "old_commune_codes"] == "00001;00002;00003;00004"
    assert out.loc["10001", "partial_old_codes"] == "00004:0.2500:households"
    assert out.loc["10002", "partial_old_codes"] == "00004:0.7500:households"
    assert (out["missing_old_codes"] == "").all()
    assert str(out["households"].dtype) == "Int64"
    assert int(out["households"].sum()) == int(table["households"].sum())


def test_shares_are_recomputed_from_counts_not_averaged() -> None:
    households = [10, 200, 30, 40, 50, 60, 70]
    ftth = [9, 20, 3, 4, 5, 6, 7]
    table = _table(households=households, households_ftth=ftth)
    table["ftth_share"] = np.array(ftth) / np.array(households)
    result = _carry(table, hamlets=HAMLETS)
    out = result.communes.set_index("commune_code")
    got = out.loc["10001", "ftth_share"]
    hh = out.loc["10001", "households"]
    assert got == pytest.approx(out.loc["10001", "households_ftth"] / hh)
    # the 3 whole units alone: (9 + 20 + 3) / (10 + 200 + 30) = 0.133, their mean share 0.4
    whole = table.iloc[:3]
    assert whole["households_ftth"].sum() / whole["households"].sum() == pytest.approx(32 / 240)
    assert whole["ftth_share"].mean() == pytest.approx((0.9 + 0.1 + 0.1) / 3)
    averaged = (table["ftth_share"].iloc[:3].sum() + table["ftth_share"].iloc[3]) / 4
    assert abs(got - averaged) > 0.1  # averaging the shares would give another answer


def test_default_survey_shares_are_added_when_their_counts_are_there() -> None:
    table = _table(adults=[10] * 7, adults_with_smartphone=[4] * 7)
    plan = plan_columns(table)
    assert plan.counts == ("adults", "adults_with_smartphone")
    assert [r.share for r in plan.shares] == ["smartphone_share"]
    out = _carry(table).communes
    assert out["smartphone_share"].tolist() == pytest.approx([0.4, 0.4, 0.4])


def test_a_share_without_its_counts_is_refused_naming_column_and_fix() -> None:
    table = _table(households=[1] * 7, ftth_share=[0.5] * 7, khmer_share=[0.1] * 7)
    with pytest.raises(SchemaError) as err:
        plan_columns(table, source="t.csv")
    text = str(err.value)
    assert "'ftth_share'" in text and "'households_ftth'" in text
    assert "'khmer_share'" in text and "--share khmer_share=NUMERATOR/DENOMINATOR" in text
    assert "--drop khmer_share" in text
    # declared with its counts it is carried
    table["khmer"] = [1] * 7
    plan = plan_columns(
        table,
        share_rules=(*DEFAULT_SHARE_RULES, parse_share_rule("khmer_share=khmer/households")),
        drop=["ftth_share"],
    )
    assert ShareRule("khmer_share", "khmer", "households") in plan.shares


def test_columns_that_cannot_be_summed_are_refused_or_left_out() -> None:
    table = _table(households=[1] * 7, mean_rsrp=[-90.0] * 7)
    table["commune_id"] = ["8170101"] * 7
    table["lat"] = [9.9] * 7
    table["district_name"] = ["Huyện A"] * 7
    table["survey_date"] = ["2023-10-01"] * 7
    with pytest.raises(SchemaError, match="'mean_rsrp' looks like an average"):
        plan_columns(table)
    plan = plan_columns(table, drop=["mean_rsrp"])
    assert plan.counts == ("households",)
    assert set(plan.not_carried) >= {"commune_code", "commune_id", "lat", "district_name", "survey_date"}
    assert plan_columns(table, counts=["mean_rsrp"]).counts == ("households", "mean_rsrp")
    with pytest.raises(ParameterError, match="--drop nope"):
        plan_columns(table, drop=["nope"])


def test_bad_number_cells_are_listed_with_their_rows() -> None:
    table = _table(households=["1", "2", "x", "4", "5", "6", "?"])  # type: ignore[list-item]
    table["adults"] = ["1", "2", "3", "4", "1.234,5", "6", "7"]
    with pytest.raises(SchemaError) as err:
        plan_columns(table, source="t.csv")
    text = str(err.value)
    assert "t.csv [row 4]: households is not a number: 'x'" in text
    assert "[row 8]" in text and "[row 6]: adults" in text


def test_parse_share_rule() -> None:
    assert parse_share_rule(" a_share = num / den ") == ShareRule("a_share", "num", "den")
    with pytest.raises(ParameterError, match="SHARE=NUMERATOR/DENOMINATOR"):
        parse_share_rule("a_share=num")


# ---------------------------------------------------------------- weights of a split


def _split_rows(weights: pd.DataFrame) -> pd.DataFrame:
    return weights[weights["old_commune_code"] == "00004"].set_index("new_commune_code")


def test_split_by_households_then_area_then_equal() -> None:
    by_households = _split_rows(split_weights(MAPPING, hamlets=HAMLETS, parts=PARTS))
    assert by_households["basis"].tolist() == ["households", "households"]
    assert by_households["weight"].tolist() == pytest.approx([0.25, 0.75])
    assert by_households["evidence"].tolist() == [100.0, 300.0]

    # hamlets on one side only: not evidence for the split; the area decides
    one_side = HAMLETS[HAMLETS["commune_code"] != "10002"]
    by_area = _split_rows(split_weights(MAPPING, hamlets=one_side, parts=PARTS))
    assert by_area["basis"].tolist() == ["area", "area"]
    assert by_area["weight"].tolist() == pytest.approx([0.75, 0.25])
    shares_only = _split_rows(split_weights(MAPPING, parts=PARTS.drop(columns="area_km2")))
    assert shares_only["weight"].tolist() == pytest.approx([0.75, 0.25])

    equal = _split_rows(split_weights(MAPPING))
    assert equal["basis"].tolist() == ["equal", "equal"]
    assert equal["weight"].tolist() == pytest.approx([0.5, 0.5])
    assert equal["evidence"].isna().all()

    whole = split_weights(MAPPING, hamlets=HAMLETS)
    whole = whole[whole["old_commune_code"] != "00004"]
    assert (whole["basis"] == "whole").all() and (whole["weight"] == 1.0).all()


def test_split_rows_are_allocated_visibly_and_exactly() -> None:
    table = _table(households=[1, 1, 1, 41, 1, 1, 1], area=[1.0, 1.0, 1.0, 2.5, 1.0, 1.0, 1.0])
    result = _carry(table, parts=PARTS)
    alloc = result.allocation
    split = alloc[alloc["old_commune_code"] == "00004"]
    assert split["row"].tolist() == [5, 5]  # CSV row of the 4th data row
    assert split["basis"].tolist() == ["area", "area"]
    assert split["households"].tolist() == [31, 10]  # 30.75 / 10.25 -> the 0.75 remainder wins
    assert split["area"].tolist() == pytest.approx([1.875, 0.625])
    assert result.rows_split == 1 and result.basis_counts == {"whole": 6, "area": 1}
    assert result.conserved
    totals = result.totals.set_index("column")
    assert totals.loc["households", "difference"] == 0 and bool(totals.loc["households", "integer"])
    assert not bool(totals.loc["area", "integer"])


def test_several_rows_per_old_commune_and_missing_units() -> None:
    table = pd.DataFrame({"commune_code": ["00001", "00001", "00005"], "households": [3, 4, 5]})
    result = _carry(table)
    out = result.communes.set_index("commune_code")
    assert out.loc["10001", "households"] == 7 and out.loc["10001", "n_rows"] == 2
    assert out.loc["10001", "missing_old_codes"] == "00002;00003;00004"
    assert pd.isna(out.loc["10003", "households"]) and out.loc["10003", "n_rows"] == 0
    assert carry_summary(result)["communes_complete"] == 0


def test_empty_cells_stay_empty() -> None:
    table = _table(households=[1, 2, 3, 4, 5, 6, 7], adults=[1.0, np.nan, 3, 4, 5, 6, 7])
    out = _carry(table).communes.set_index("commune_code")
    assert pd.isna(out.loc["10001", "adults"]) and not pd.isna(out.loc["10003", "adults"])
    assert int(out["households"].sum()) == 28


def test_a_numerator_never_exceeds_its_denominator_in_a_part() -> None:
    """Rounded alone, 9 of 10 split 0.05 : 0.15 : 0.80 would give 1/1/7 of 0/2/8."""
    assert largest_remainder(10, [0.05, 0.15, 0.8]).tolist() == [0, 2, 8]
    assert largest_remainder(9, [0.05, 0.15, 0.8]).tolist() == [1, 1, 7]
    mapping = pd.DataFrame(
        {"old_commune_code": ["00001"] * 3, "new_commune_code": ["10001", "10002", "10003"]}
    )
    parts = pd.DataFrame(
        {
            "old_commune_code": ["00001"] * 3,
            "new_commune_code": ["10001", "10002", "10003"],
            "area_km2": [1, 3, 16],
        }
    )
    table = pd.DataFrame({"commune_code": ["00001"], "households": [10], "households_ftth": [9]})
    plan = plan_columns(table)
    result = carry_table(
        table,
        mapping,
        split_weights(mapping, parts=parts),
        count_columns=plan.counts,
        share_columns=plan.shares,
    )
    out = result.communes
    assert out["households"].tolist() == [0, 2, 8]
    assert out["households_ftth"].tolist() == [0, 2, 7]
    assert (out["households_ftth"] <= out["households"]).all() and result.conserved


# ---------------------------------------------------------------- exact conservation


def test_largest_remainder() -> None:
    assert largest_remainder(10, [1, 1, 1]).tolist() == [4, 3, 3]
    assert largest_remainder(1, [0.5, 0.5]).tolist() == [1, 0]  # tie: the earlier part
    assert largest_remainder(7, [0.0, 1.0]).tolist() == [0, 7]
    assert largest_remainder(-5, [1, 1]).sum() == -5
    assert largest_remainder(2**52 + 1, [1 / 3, 2 / 3]).sum() == 2**52 + 1


@settings(max_examples=200, deadline=None)
@given(
    value=st.integers(-(10**12), 10**12),
    weights=st.lists(st.floats(0.001, 1000.0), min_size=1, max_size=8),
)
def test_largest_remainder_property(value: int, weights: list[float]) -> None:
    parts = largest_remainder(value, weights)
    assert int(parts.sum()) == value
    quota = value * np.array(weights) / sum(weights)
    assert np.all(np.abs(parts - quota) < 1.0 + 1e-6 * max(1, abs(value)))


_codes = st.sampled_from(sorted(set(MAPPING["old_commune_code"])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(_codes, st.integers(0, 10**9), st.integers(-1000, 1000), st.floats(0, 1e6)),
        min_size=1,
        max_size=30,
    ),
    hh=st.lists(st.integers(1, 5000), min_size=2, max_size=2),
)
def test_random_tables_conserve_totals_exactly(
    rows: list[tuple[str, int, int, float]], hh: list[int]
) -> None:
    table = pd.DataFrame(rows, columns=["commune_code", "households", "change", "area"])
    hamlets = pd.DataFrame(
        {"former_commune_code": ["00004"] * 2, "commune_code": ["10001", "10002"], "households": hh}
    )
    weights = split_weights(MAPPING, hamlets=hamlets)
    result = carry_table(table, MAPPING, weights, count_columns=["households", "change", "area"])
    out = result.communes
    assert int(out["households"].sum()) == int(table["households"].sum())
    assert int(out["change"].sum()) == int(table["change"].sum())
    assert float(out["area"].sum()) == pytest.approx(float(table["area"].sum()), rel=1e-9, abs=1e-9)
    assert result.conserved
    per_row = result.allocation.groupby("row")["households"].sum()
    assert per_row.tolist() == table["households"].tolist()


# ---------------------------------------------------------------- codes and names


def test_unknown_codes_list_every_bad_row() -> None:
    table = pd.DataFrame(
        {"commune_code": ["00001", "99999", "00002", "10002", "8170101"], "households": [1, 2, 3, 4, 5]}
    )
    units = old_units_from_mapping(MAPPING)
    with pytest.raises(UnknownUnitError) as err:
        resolve_old_codes(table, units, source="t.csv", known_new=MAPPING["new_commune_code"])
    assert [p.where for p in err.value.problems] == ["row 3", "row 5", "row 6"]
    text = str(err.value)
    assert text.startswith("t.csv: 3 row(s) name no known old (2025-03) commune")
    assert "'99999'" in text and "new (2025-07) commune code" in text and "5 digits" in text
    weights = split_weights(MAPPING)
    with pytest.raises(UnknownUnitError) as err2:
        carry_table(table, MAPPING, weights, count_columns=["households"], source="t.csv")
    assert [p.where for p in err2.value.problems] == ["row 3", "row 5", "row 6"]


def test_codes_are_normalised() -> None:
    assert normalise_code(4) == "00004"
    assert normalise_code("29263.0") == "29263"
    assert normalise_code(" 0004 ") == "00004"
    assert normalise_code(None) == "" and normalise_code(float("nan")) == ""
    assert normalise_code("8170101") == "8170101"


def test_names_instead_of_codes() -> None:
    assert match_key("Xã Long Đức") == match_key("LONG DUC") == match_key("xa long  duc") == "longduc"
    table = pd.DataFrame(
        {
            "commune_name": ["Xã An Phú", "xa binh duc", "TT Càng Long", "Long Duc", "Phường 01", "Tan Binh"],
            "province_name": ["", "", "", "", "", "Bến Tre"],
            "households": [1, 2, 3, 4, 5, 6],
        }
    )
    codes = resolve_old_codes(table, old_units_from_mapping(MAPPING))
    assert codes.tolist() == ["00001", "00002", "00003", "00004", "00005", "00007"]


def test_names_that_match_nothing_or_several_are_listed() -> None:
    table = pd.DataFrame(
        {
            "commune_code": ["", "", "00001", ""],
            "commune_name": ["Xã Tân Bình", "Xã Long Dứcc", "", ""],
            "households": [1, 2, 3, 4],
        }
    )
    with pytest.raises(UnknownUnitError) as err:
        resolve_old_codes(table, old_units_from_mapping(MAPPING), source="t.csv")
    problems = {p.where: p for p in err.value.problems}
    assert list(problems) == ["row 2", "row 3", "row 5"]
    assert "fits 2 old communes" in problems["row 2"].message and "province_name" in problems["row 2"].hint
    assert "did you mean Xã Long Đức" in problems["row 3"].hint
    assert "no commune code and no commune name" in problems["row 5"].message


def test_diacritics_decide_between_names_that_fold_alike() -> None:
    units = pd.DataFrame(
        {"commune_code": ["29032", "29212"], "commune_name": ["Xã Bình Thành", "Xã Bình Thạnh"]}
    )
    table = pd.DataFrame({"commune_name": ["Bình Thạnh", "xã bình thành", "Binh Thanh"]})
    with pytest.raises(UnknownUnitError) as err:
        resolve_old_codes(table, units)
    assert [p.where for p in err.value.problems] == ["row 4"]  # without diacritics: either
    assert resolve_old_codes(table.iloc[:2], units).tolist() == ["29212", "29032"]


# ---------------------------------------------------------------- the real mapping (geo.admin_units)


def _vinh_long_mapping() -> pd.DataFrame:
    from geo.admin_units import load_new_units, load_old_to_new

    new = load_new_units()
    codes = set(new.loc[new["province_code"] == "86", "commune_code"])
    mapping = load_old_to_new()
    return mapping[mapping["new_commune_code"].isin(codes)].reset_index(drop=True)


def test_all_old_units_of_three_provinces_carry_to_124_new_communes() -> None:
    mapping = _vinh_long_mapping()
    old = mapping.drop_duplicates("old_commune_code")
    assert set(old["old_province_code"]) == {"83", "84", "86"} and len(old) == 354
    rng = np.random.default_rng(7)
    households = rng.integers(0, 20_000, len(old))
    table = pd.DataFrame(
        {
            "commune_code": old["old_commune_code"].to_numpy(),
            "households": households,
            "households_ftth": rng.integers(0, households + 1),
            "area_km2": rng.uniform(1, 80, len(old)),
        }
    )
    plan = plan_columns(table)
    result = carry_table(
        table, mapping, split_weights(mapping), count_columns=plan.counts, share_columns=plan.shares
    )
    out = result.communes
    assert len(out) == 124 and (out["missing_old_codes"] == "").all()
    assert int(out["households"].sum()) == int(table["households"].sum())
    assert int(out["households_ftth"].sum()) == int(table["households_ftth"].sum())
    assert float(out["area_km2"].sum()) == pytest.approx(float(table["area_km2"].sum()), rel=1e-12)
    assert result.conserved and result.rows_split == 5  # 5 old units of 86 are split in two
    assert out["ftth_share"].between(0, 1).all()
    # Bến Tre's Hòa Lộc goes whole into Tân Thành Bình (mapping_corrections.csv)
    hoa_loc = result.allocation[result.allocation["old_commune_code"] == "28924"]
    assert hoa_loc[["new_commune_code", "n_targets", "weight", "basis"]].values.tolist() == [
        ["28921", 1, 1.0, "whole"]
    ]
    assert int(hoa_loc["households"].iloc[0]) == int(
        table.loc[table["commune_code"] == "28924", "households"].iloc[0]
    )


# ---------------------------------------------------------------- CLI


def _package(
    root: Path, *, hamlets: bool = True, province: str = "86", vintage: str = "2025-07-01 layout"
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.toml").write_text(
        f'name = "test"\nprovince_name = "Vĩnh Long"\nprovince_code = "{province}"\n'
        f'boundary_vintage = "{vintage}"\n',
        encoding="utf-8",
    )
    if hamlets:
        (root / "boundaries").mkdir(exist_ok=True)
        features = [
            {
                "type": "Feature",
                "properties": {
                    "hamlet_id": f"H{i}",
                    "former_commune_code": row.former_commune_code,
                    "commune_code": row.commune_code,
                    "households": int(row.households),
                },
                "geometry": {"type": "Point", "coordinates": [106.3 + i / 100, 9.9]},
            }
            for i, row in enumerate(HAMLETS.itertuples())
        ]
        (root / "boundaries" / "hamlets.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
        )
    return root


@pytest.fixture
def hand_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI on the hand-built mapping (the province check is the real one's business)."""
    import cli.commands.crosswalk as cmd

    monkeypatch.setattr(cmd, "_province_mapping", lambda province, vintage: MAPPING)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_writes_communes_and_allocation(
    tmp_path: Path, hand_mapping: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "pkg")
    table = _write(
        tmp_path / "survey.csv",
        "commune_code,commune_name,households,households_ftth,ftth_share,survey_date\n"
        "00001,Xã An Phú,10,5,0.5,2025-01-01\n"
        ",xa binh duc,20,10,0.5,2025-01-01\n"
        "00003,,30,3,0.1,2025-01-01\n"
        "4,,40,20,0.5,2025-01-01\n"
        "00005,,50,5,0.1,2025-01-01\n",
    )
    out = tmp_path / "out.csv"
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(
        f"wrote {out}: 5 rows in, 3 new communes out (2 complete), 1 rows through split units"
    )
    assert "basis: households 1" in line and "totals conserved" in line and "out_allocation.csv" in line
    got = pd.read_csv(out, dtype={"commune_code": str}, keep_default_na=False, encoding="utf-8-sig")
    assert got["commune_code"].tolist() == ["10001", "10002", "10003"]
    assert got["households"].tolist() == ["70", "80", ""]  # 10 + 20 + 30 + 10; 30 + 50; no rows
    assert float(got.loc[0, "ftth_share"]) == pytest.approx((5 + 10 + 3 + 5) / 70)
    assert got.loc[0, "old_commune_codes"] == "00001;00002;00003;00004"
    assert got.loc[1, "missing_old_codes"] == "" and got.loc[2, "missing_old_codes"] == "00006;00007"
    alloc = pd.read_csv(tmp_path / "out_allocation.csv", dtype=str, encoding="utf-8-sig")
    assert alloc.loc[alloc["row"] == "5", "basis"].tolist() == ["households", "households"]
    assert alloc.loc[alloc["row"] == "5", "households"].tolist() == ["10", "30"]


def test_cli_equal_fallback_is_said(
    tmp_path: Path, hand_mapping: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "pkg", hamlets=False)
    table = _write(tmp_path / "t.csv", "commune_code;households;area\n00004;41;2,5\n")
    out = tmp_path / "o.csv"
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out)]) == 0
    line = capsys.readouterr().out
    assert "basis: equal 1" in line and "divided equally" in line
    got = pd.read_csv(out, dtype={"commune_code": str})
    assert got["households"].tolist()[:2] == [21, 20] and got["area"].tolist()[:2] == [1.25, 1.25]


def test_cli_area_parts_and_hamlets_keyed_by_commune_id(
    tmp_path: Path, hand_mapping: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "pkg", hamlets=False)
    (pkg / "boundaries").mkdir()
    PARTS.to_csv(pkg / "boundaries" / "old_unit_parts.csv", index=False)
    table = _write(tmp_path / "t.csv", "commune_code,households\n00004,40\n")
    assert main(["crosswalk", str(pkg), str(table), "--out", str(tmp_path / "a.csv")]) == 0
    assert "basis: area 1" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "a.csv")["households"].tolist()[:2] == [30, 10]

    # hamlets that name their new commune by commune_id: the communes layer gives its code
    def feature(props: dict[str, object]) -> dict[str, object]:
        return {
            "type": "Feature",
            "properties": props,
            "geometry": {"type": "Point", "coordinates": [106.3, 9.9]},
        }

    hamlets = [
        feature({"hamlet_id": "H1", "commune_id": "C1", "former_commune_code": "00004", "households": 10}),
        feature({"hamlet_id": "H2", "commune_id": "C2", "former_commune_code": "00004", "households": 30}),
    ]
    communes = [
        feature({"commune_id": "C1", "commune_code": "10001"}),
        feature({"commune_id": "C2", "commune_code": "10002"}),
    ]
    for name, features in (("hamlets", hamlets), ("communes", communes)):
        (pkg / "boundaries" / f"{name}.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
        )
    assert main(["crosswalk", str(pkg), str(table), "--out", str(tmp_path / "h.csv")]) == 0
    assert "basis: households 1" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "h.csv")["households"].tolist()[:2] == [10, 30]


def test_cli_unknown_codes_exit_2_naming_file_and_rows(
    tmp_path: Path, hand_mapping: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "pkg")
    table = _write(tmp_path / "t.csv", "commune_code,households\n00001,1\n99999,2\n00002,3\n88888,4\n")
    out = tmp_path / "o.csv"
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "t.csv: 2 row(s) name no known old (2025-03) commune" in err
    assert "t.csv [row 3]: commune_code '99999'" in err and "t.csv [row 5]: commune_code '88888'" in err
    assert "Traceback" not in err and not out.exists()


def test_cli_refuses_to_overwrite_unless_force(
    tmp_path: Path, hand_mapping: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "pkg")
    table = _write(tmp_path / "t.csv", "commune_code,households\n00001,1\n")
    out = _write(tmp_path / "o.csv", "keep me")
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out)]) == 2
    assert "already exists; use --force" in capsys.readouterr().err and out.read_text() == "keep me"
    out.unlink()
    _write(tmp_path / "o_allocation.csv", "keep me too")
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out)]) == 2
    assert "o_allocation.csv" in capsys.readouterr().err and not out.exists()
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out), "--force"]) == 0
    assert out.read_text(encoding="utf-8-sig").startswith("commune_code,commune_name,households")


def test_cli_refuses_bad_arguments(
    tmp_path: Path, hand_mapping: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "pkg")
    table = _write(tmp_path / "t.csv", "commune_code,households,poor_share\n00001,1,0.2\n")
    out = tmp_path / "o.csv"
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out), "--to", "2025-03"]) == 2
    assert "only --from 2025-03 --to 2025-07" in capsys.readouterr().err
    assert main(["crosswalk", str(pkg), str(table), "--out", str(table)]) == 2
    assert "is TABLE itself" in capsys.readouterr().err
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out)]) == 2
    assert "share column 'poor_share'" in capsys.readouterr().err
    empty = _write(tmp_path / "e.csv", "commune_code,households\n")
    assert main(["crosswalk", str(pkg), str(empty), "--out", str(out)]) == 2
    assert "no data rows" in capsys.readouterr().err
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out), "--drop", "poor_share"]) == 0


def test_cli_refuses_an_old_layout_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = _package(tmp_path / "pkg", province="84", vintage="2009 layout")
    table = _write(tmp_path / "t.csv", "commune_code,households\n29263,1\n")
    assert main(["crosswalk", str(pkg), str(table), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "province_code 84 (2009 layout) is not one of the 34 provinces" in err and "became 86" in err


def test_cli_real_mapping_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = _package(tmp_path / "pkg", hamlets=False)
    mapping = _vinh_long_mapping()
    old = mapping.drop_duplicates("old_commune_code")
    lines = ["commune_code,households"] + [f"{c},{i + 1}" for i, c in enumerate(old["old_commune_code"])]
    table = _write(tmp_path / "t.csv", "\n".join(lines) + "\n")
    out = tmp_path / "o.csv"
    assert main(["crosswalk", str(pkg), str(table), "--out", str(out)]) == 0
    assert (
        "354 rows in, 124 new communes out (124 complete), 5 rows through split units"
        in capsys.readouterr().out
    )
    got = pd.read_csv(out, dtype={"commune_code": str})
    assert int(got["households"].sum()) == 354 * 355 // 2
