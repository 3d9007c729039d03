"""Commune search (layers/search.py): new names, and in the 2025-07 layout former units, with reasons."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from layers.search import hit_label, reason_text, search_communes
from tests.package_2025 import FORMER, HAMLET_FORMER

OLD_NAMES = {
    "29236": "Phường 4",
    "29263": "Xã Long Đức",
    "29239": "Phường 1",
    "29242": "Phường 3",
    "29260": "Phường 9",
    "29461": "Thị trấn Trà Cú",
    "29479": "Xã Ngãi Xuyên",
    "29485": "Xã Thanh Sơn",
    "28807": "Xã Qưới Sơn",
    "28813": "Xã Giao Long",
    "28828": "Xã An Phước",
}


@pytest.fixture
def communes() -> pd.DataFrame:
    rows = [{"commune_id": cid, "district_name": math.nan, **props} for cid, props in FORMER.items()]
    return pd.DataFrame(rows)


@pytest.fixture
def hamlets() -> pd.DataFrame:
    commune_of = {"H1": "C1", "H2": "C1", "H3": "C2", "H4": "C3", "H5": "C4"}
    return pd.DataFrame(
        [
            {
                "hamlet_id": h,
                "commune_id": commune_of[h],
                "former_commune_code": code,
                "former_commune_name": name,
            }
            for h, (code, name) in HAMLET_FORMER.items()
        ]
    )


def _find(communes: pd.DataFrame, query: str, **kw: object) -> list[str]:
    return [
        h.commune_name for h in search_communes(communes, query, layout="2025-07", old_names=OLD_NAMES, **kw)
    ]  # type: ignore[arg-type]


def test_a_new_commune_by_its_own_name(communes: pd.DataFrame) -> None:
    (hit,) = search_communes(communes, "Long Đức", layout="2025-07", old_names=OLD_NAMES)
    assert hit.commune_name == "Phường Long Đức" and hit.commune_id == "C1"
    assert hit.reasons[0].kind == "name"
    # its old part Xã Long Đức matches too, and is said
    assert hit_label(hit, "en") == "Phường Long Đức — took in territory of former Xã Long Đức"


def test_a_former_district_lists_the_communes_that_took_its_territory(communes: pd.DataFrame) -> None:
    hits = search_communes(communes, "Trà Cú", layout="2025-07", old_names=OLD_NAMES)
    assert [h.commune_name for h in hits] == ["Xã Trà Cú"]
    (hit,) = hits
    assert [(r.kind, r.value) for r in hit.reasons] == [
        ("name", "Xã Trà Cú"),
        ("former_district", "Huyện Trà Cú"),
        ("former_commune", "Thị trấn Trà Cú"),
    ]
    assert hit_label(hit, "en") == (
        "Xã Trà Cú — formerly part of Huyện Trà Cú; took in territory of former Thị trấn Trà Cú"
    )
    assert hit_label(hit, "vi") == (
        "Xã Trà Cú — trước 1/7/2025 thuộc Huyện Trà Cú; gồm địa bàn Thị trấn Trà Cú cũ"
    )


def test_a_former_district_without_a_namesake_commune(communes: pd.DataFrame) -> None:
    hits = search_communes(communes, "thanh pho tra vinh", layout="2025-07", old_names=OLD_NAMES)
    # the city, not every commune of Trà Vinh province (a prefix typed is a prefix meant)
    assert [h.commune_name for h in hits] == ["Phường Long Đức", "Phường Trà Vinh"]
    assert {r.kind for h in hits for r in h.reasons} == {"former_district"}
    assert reason_text(hits[1].reasons[0], "en") == "formerly part of Thành phố Trà Vinh"


def test_a_former_commune_lists_the_new_commune_it_went_into(communes: pd.DataFrame) -> None:
    for query, expected in (
        ("Ngãi Xuyên", "Xã Trà Cú"),
        ("Phường 4", "Phường Long Đức"),
        ("qưới sơn", "Xã Giao Long"),
        ("P.9", "Phường Trà Vinh"),
    ):
        hits = search_communes(communes, query, layout="2025-07", old_names=OLD_NAMES)
        assert [h.commune_name for h in hits] == [expected], query
        assert hits[0].reasons[0].kind == "former_commune"


def test_a_former_commune_known_only_from_the_hamlets(communes: pd.DataFrame, hamlets: pd.DataFrame) -> None:
    bare = communes.drop(columns="old_commune_codes")
    assert _find(bare, "ngai xuyen") == []
    (hit,) = search_communes(bare, "ngai xuyen", layout="2025-07", hamlets=hamlets, old_names={})
    assert hit.commune_name == "Xã Trà Cú"
    assert hit_label(hit, "en") == "Xã Trà Cú — has hamlets of former Xã Ngãi Xuyên"
    # a hamlet giving only the code is named by the official mapping
    coded = hamlets.assign(former_commune_name="")
    (hit,) = search_communes(bare, "ngai xuyen", layout="2025-07", hamlets=coded, old_names=OLD_NAMES)
    assert hit.reasons[0].value == "Xã Ngãi Xuyên"


def test_a_former_province(communes: pd.DataFrame) -> None:
    hits = search_communes(communes, "ben tre", layout="2025-07", old_names=OLD_NAMES)
    assert [h.commune_name for h in hits] == ["Xã Giao Long"]
    assert hit_label(hits[0], "en") == "Xã Giao Long — formerly part of Bến Tre province"
    assert hit_label(hits[0], "vi") == "Xã Giao Long — trước 1/7/2025 thuộc tỉnh Bến Tre"
    # every commune that lists Trà Vinh among its former provinces (Giao Long: a sliver)
    assert len(_find(communes, "Tỉnh Trà Vinh")) == 4 == len(_find(communes, "tra vinh"))


@pytest.mark.parametrize(
    "query", ["Trà Cú", "tra cu", "TRA CU", "huyện trà cú", "Huyen Tra Cu", "TT. Trà Cú", "  tra   cu "]
)
def test_matching_ignores_case_diacritics_spacing_and_prefixes(communes: pd.DataFrame, query: str) -> None:
    assert _find(communes, query) == ["Xã Trà Cú"]


def test_best_matches_first_and_nothing_for_an_empty_query(communes: pd.DataFrame) -> None:
    assert _find(communes, "") == [] and _find(communes, "  ") == []
    assert _find(communes, "zzz") == []
    # whole name first, then a word start, then inside a word
    table = pd.DataFrame(
        {"commune_id": ["a", "b", "c"], "commune_name": ["Xã Balong", "Xã Tân Long", "Xã Long"]}
    )
    assert [h.commune_name for h in search_communes(table, "long", layout="2025-07", old_names={})] == [
        "Xã Long",
        "Xã Tân Long",
        "Xã Balong",
    ]


def test_pre_reform_search_is_name_or_district() -> None:
    table = pd.DataFrame(
        {
            "commune_name": ["Thị trấn Trà Cú", "Xã Long Đức", "Xã Ngọc Biên"],
            "district_name": ["Huyện Trà Cú", "Thành phố Trà Vinh", "Huyện Trà Cú"],
        }
    )
    hits = search_communes(table, "tra cu")
    assert [h.commune_name for h in hits] == ["Thị trấn Trà Cú", "Xã Ngọc Biên"]
    assert hit_label(hits[1], "en") == "Xã Ngọc Biên — in Huyện Trà Cú"
    assert [h.position for h in hits] == [0, 2]


def test_reasons_are_plain_text_for_the_caller_to_escape(communes: pd.DataFrame) -> None:
    hostile = communes.assign(former_district="<img src=x onerror=alert(1)>")
    hits = search_communes(hostile, "img src", layout="2025-07", old_names=OLD_NAMES)
    assert len(hits) == 4
    assert reason_text(hits[0].reasons[0], "en") == "formerly part of <img src=x onerror=alert(1)>"
