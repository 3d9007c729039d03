"""One notion of "group" (analysis/grouping.py): districts before the reform, former units after it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.grouping import (
    NO_GROUP,
    assign_groups,
    former_provinces_of,
    group_columns,
    level_keys,
    listed_units,
    old_commune_provinces,
    split_joined,
)
from geo.errors import ParameterError


def _communes(**columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"commune_id": [f"C{i + 1}" for i in range(n)], **columns})


@pytest.mark.parametrize("layout", ["2009", "2025-03"])
def test_pre_reform_packages_group_by_district(layout: str) -> None:
    communes = _communes(district_name=["Huyện Trà Cú"], former_province=["Trà Vinh"])
    assert group_columns(layout, communes) == ("district_name",)


def test_2025_packages_group_by_the_former_units_present() -> None:
    both = _communes(district_name=[math.nan], former_province=["Trà Vinh"], former_district=["Huyện Trà Cú"])
    assert group_columns("2025-07", both) == ("former_province", "former_district")
    only_district = _communes(former_province=["", None], former_district=["Huyện Trà Cú", ""])
    assert group_columns("2025-07", only_district) == ("former_district",)


def test_2025_package_without_former_units_has_the_province_only() -> None:
    # a district_name left in a 2025-07 package is not a current unit: never grouped by
    assert group_columns("2025-07", _communes(district_name=["Huyện Trà Cú"])) == ()
    assert group_columns("2025-07", _communes(former_province=[math.nan, ""])) == ()


def test_unknown_layout_is_refused() -> None:
    with pytest.raises(ParameterError, match="unknown layout '2030'"):
        group_columns("2030", _communes(district_name=["x"]))


def test_levels_key_a_former_district_with_its_province() -> None:
    assert level_keys(("former_province", "former_district")) == {
        "former_province": ("former_province",),
        "former_district": ("former_province", "former_district"),
    }
    assert level_keys(("district_name",)) == {"district_name": ("district_name",)}
    assert level_keys(()) == {}


def test_split_joined_and_listed_units() -> None:
    assert split_joined(" Bến Tre ; Trà Vinh;;Bến Tre ") == ("Bến Tre", "Trà Vinh")
    assert split_joined(None) == () and split_joined(math.nan) == () and split_joined("") == ()
    communes = _communes(former_district=["Huyện Trà Cú;Huyện Cầu Ngang", None])
    assert listed_units(communes, "former_district").tolist() == [("Huyện Trà Cú", "Huyện Cầu Ngang"), ()]
    assert listed_units(communes, "former_province").tolist() == [(), ()]


def test_official_mapping_gives_old_provinces() -> None:
    assert old_commune_provinces(["29461", "28813"]) == {"29461": "Trà Vinh", "28813": "Bến Tre"}
    assert former_provinces_of("86") == ("Bến Tre", "Trà Vinh", "Vĩnh Long")
    assert former_provinces_of("99") == ()


# --------------------------------------------------------------------------- one commune, one group

OLD_PROVINCES = {
    "29461": "Trà Vinh",
    "29479": "Trà Vinh",
    "28813": "Bến Tre",
    "28807": "Bến Tre",
    "28828": "Bến Tre",
}


def test_a_commune_counts_in_the_former_province_that_gave_most_households() -> None:
    communes = _communes(
        former_province=["Bến Tre;Trà Vinh"],
        former_district=["Huyện Châu Thành"],
        old_commune_codes=["28807;29461;29479"],
    )
    # by old communes Trà Vinh (2 of 3) would win; the hamlets say most households were in Bến Tre
    hamlets = pd.DataFrame(
        {
            "commune_id": ["C1", "C1", "C1"],
            "households": [300, 120, 100],
            "former_commune_code": ["28807", "29461", "29479"],
        }
    )
    groups = assign_groups(communes, "2025-07", hamlets=hamlets, old_provinces=OLD_PROVINCES)
    assert groups.loc[0, "former_province"] == "Bến Tre"
    assert groups.loc[0, "former_province_rule"] == "households"
    assert groups.loc[0, "former_district"] == "Huyện Châu Thành"
    assert groups.loc[0, "former_district_rule"] == "single"


def test_without_hamlets_the_most_old_communes_then_the_first_listed() -> None:
    communes = _communes(
        former_province=["Bến Tre;Trà Vinh", "Trà Vinh;Bến Tre", "Trà Vinh"],
        old_commune_codes=["28807;29461;29479", "", "29461"],
    )
    groups = assign_groups(communes, "2025-07", old_provinces=OLD_PROVINCES)
    assert groups["former_province"].tolist() == ["Trà Vinh", "Trà Vinh", "Trà Vinh"]
    assert groups["former_province_rule"].tolist() == ["old_communes", "first_listed", "single"]


def test_a_tie_goes_to_the_first_listed_and_names_are_matched_tolerantly() -> None:
    communes = _communes(former_province=["tra vinh;BẾN TRE"], old_commune_codes=["28807;29461"])
    groups = assign_groups(communes, "2025-07", old_provinces=OLD_PROVINCES)
    assert groups.loc[0, "former_province"] == "tra vinh"
    assert groups.loc[0, "former_province_rule"] == "old_communes"


def test_a_district_split_is_placed_by_what_single_district_communes_say() -> None:
    communes = _communes(
        former_province=["Trà Vinh", "Trà Vinh", "Trà Vinh"],
        former_district=["Huyện Trà Cú", "Huyện Cầu Ngang", "Huyện Cầu Ngang;Huyện Trà Cú"],
        old_commune_codes=["29461", "29400", "29461;29479"],
    )
    hamlets = pd.DataFrame(
        {"commune_id": ["C3", "C3"], "households": [50, 80], "former_commune_code": ["29461", "29479"]}
    )
    groups = assign_groups(communes, "2025-07", hamlets=hamlets, old_provinces=OLD_PROVINCES)
    # 29461 lies in Huyện Trà Cú (C1 names only it); 29479's district is not known: 50 households decide
    assert groups.loc[2, "former_district"] == "Huyện Trà Cú"
    assert groups.loc[2, "former_district_rule"] == "households"


def test_a_commune_naming_no_former_unit_is_in_no_group() -> None:
    communes = _communes(former_province=["Trà Vinh", ""], former_district=["Huyện Trà Cú", None])
    groups = assign_groups(communes, "2025-07")
    assert groups["former_province"].tolist() == ["Trà Vinh", NO_GROUP]
    assert groups["former_district_rule"].tolist() == ["single", "none"]


def test_pre_reform_groups_are_the_districts_as_given() -> None:
    communes = _communes(district_name=["Huyện Trà Cú", " Thành phố Trà Vinh "])
    groups = assign_groups(communes, "2009")
    assert groups["district_name"].tolist() == ["Huyện Trà Cú", "Thành phố Trà Vinh"]
    assert list(groups.columns) == ["commune_id", "district_name", "district_name_rule"]


def test_the_hamlets_own_former_units_weigh_first() -> None:
    communes = _communes(
        former_province=["Bến Tre;Trà Vinh"],
        former_district=["Huyện Châu Thành;Huyện Trà Cú"],
        old_commune_codes=["29461;29479"],
    )
    # codes alone say Trà Vinh; the hamlets name their own former units: 300 households in Bến Tre
    hamlets = pd.DataFrame(
        {
            "commune_id": ["C1", "C1"],
            "households": [300, 100],
            "former_province": ["Bến Tre", "Trà Vinh"],
            "former_district": ["Huyện Châu Thành", "Huyện Trà Cú"],
            "former_commune_code": ["", "29461"],
        }
    )
    groups = assign_groups(communes, "2025-07", hamlets=hamlets, old_provinces=OLD_PROVINCES)
    assert groups.loc[0, ["former_province", "former_district"]].tolist() == ["Bến Tre", "Huyện Châu Thành"]
    assert groups.loc[0, ["former_province_rule", "former_district_rule"]].tolist() == ["households"] * 2
