"""Calibration of the new Vĩnh Long package, per former province, with the source of every figure.

Each figure says whether it is **published** (read in an article in ``shared/context/``),
**derived** (computed from published figures, the rule in its ``source``) or **assumed** (no published
figure in the project's sources). ``dataset.toml`` repeats these labels; ``docs/DATAGEN.md`` has the
table. The province-specific tables of the Trà Vinh generator (district Khmer shares, coast, gap zones,
MobiFone OLT districts) get their counterparts for the former Vĩnh Long and Bến Tre here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from datagen.hamlets import KHMER_SHARE_BY_DISTRICT, PROVINCE_KHMER_SHARE
from datagen.towers import GAP_PLAN
from geo.errors import ParameterError

NEW_PROVINCE_CODE = "86"
NEW_PROVINCE_NAME = "Vĩnh Long"

ARTICLE_TRA_VINH = "Báo Trà Vinh (Ngọc Xoàn), 2023, shared/context/000_3151acab91f11b9b.txt"
ARTICLE_VINH_LONG = "Báo Vĩnh Long (An Chi), 14/03/2023, shared/context/003_99bf6e4e1315a76c.txt"
SURVEY_ASSUMED = (
    "assumed, no published figure in the project's sources: Trà Vinh's published figure reused "
    "(shared/context/000)"
)


@dataclass(frozen=True)
class Figure:
    """One calibration target and where it comes from.

    Attributes
    ----------
    value
        The target: a count (``int``) or a share 0–1 (``float``).
    source
        Citation, or the derivation rule, or "assumed …".
    published
        Read as such in a published source.
    derived
        Computed from published figures (the rule is in ``source``).
    assumed
        No published figure: a stated assumption.
    """

    value: float
    source: str
    published: bool
    derived: bool = False
    assumed: bool = False

    def as_toml(self) -> dict[str, object]:
        """Return the ``dataset.toml`` table of this figure."""
        return {
            "value": self.value,
            "source": self.source,
            "published": self.published,
            "derived": self.derived,
            "assumed": self.assumed,
        }


@dataclass(frozen=True)
class FormerProvince:
    """A pre-reform province merged into the new Vĩnh Long and its province-specific tables.

    Attributes
    ----------
    code, name, key
        Pre-reform GSO code ("83"), name ("Bến Tre") and the ``dataset.toml`` key ("ben_tre").
    sites
        Active base-station sites (``None``: derived from the other two, see :func:`site_targets`).
    ftth_household_share, smartphone_adult_share, internet_adult_share, khmer_share, fibre_commune_share
        Survey, population and fibre targets.
    khmer_by_district
        2009 district -> Khmer share of residents (before the province-level calibration).
    coastal_communes
        ``(2009 district, 2009 commune)`` pairs on the sea (name pools, poor share, gap zones); Trà Vinh
        uses :func:`datagen.hamlets.is_coastal` (``None`` here).
    gap_plan, coastal_gap_districts
        Deliberate coverage-gap zones, as :data:`datagen.towers.GAP_PLAN`.
    mobifone_olt_districts
        2009 districts where MobiFone has an OLT.
    city_district
        The provincial city of the former province (5G sites, MobiFone OLT).
    """

    code: str
    name: str
    key: str
    sites: Figure | None
    ftth_household_share: Figure
    smartphone_adult_share: Figure
    internet_adult_share: Figure
    khmer_share: Figure
    fibre_commune_share: Figure
    khmer_by_district: Mapping[str, float]
    coastal_communes: frozenset[tuple[str, str]] | None
    gap_plan: tuple[tuple[str, int, float, float], ...]
    coastal_gap_districts: frozenset[str]
    mobifone_olt_districts: frozenset[str]
    city_district: str


_TV_FTTH = Figure(
    0.693,
    f"{ARTICLE_TRA_VINH}: 'tỷ lệ hộ gia đình có đường internet cáp quang băng rộng đạt 69,3%'",
    published=True,
)
_TV_SMARTPHONE = Figure(
    0.76,
    f"{ARTICLE_TRA_VINH}: 'trên 76% dân số trên địa bàn tỉnh có điện thoại thông minh' (of the population; "
    "read as adults, as in the bundled Trà Vinh package)",
    published=True,
)
_TV_INTERNET = Figure(
    0.84,
    f"{ARTICLE_TRA_VINH}: 'Trên 84% người dân sử dụng internet' (read as adults, as in the bundled package)",
    published=True,
)
_ASSUMED_FTTH = Figure(_TV_FTTH.value, SURVEY_ASSUMED, published=False, assumed=True)
_ASSUMED_SMARTPHONE = Figure(_TV_SMARTPHONE.value, SURVEY_ASSUMED, published=False, assumed=True)
_ASSUMED_INTERNET = Figure(_TV_INTERNET.value, SURVEY_ASSUMED, published=False, assumed=True)

TRA_VINH = FormerProvince(
    code="84",
    name="Trà Vinh",
    key="tra_vinh",
    sites=Figure(
        1227, f"{ARTICLE_TRA_VINH}: 'tổng số 1.227 trạm thu phát sóng thông tin di động'", published=True
    ),
    ftth_household_share=_TV_FTTH,
    smartphone_adult_share=_TV_SMARTPHONE,
    internet_adult_share=_TV_INTERNET,
    khmer_share=Figure(
        PROVINCE_KHMER_SHARE,
        "Trà Vinh generator (datagen/hamlets.py: about 31 % in the 2009 and 2019 censuses); not in "
        "shared/context: carried over, not re-checked",
        published=False,
        assumed=True,
    ),
    fibre_commune_share=Figure(
        1.0,
        f"{ARTICLE_TRA_VINH}: 'hệ thống internet băng rộng cáp quang đã được phát triển đến 100% xã, "
        "phường, thị trấn'",
        published=True,
    ),
    khmer_by_district=dict(KHMER_SHARE_BY_DISTRICT),
    coastal_communes=None,
    gap_plan=GAP_PLAN,
    coastal_gap_districts=frozenset({"Huyện Cầu Ngang"}),
    mobifone_olt_districts=frozenset(
        {"Thành phố Trà Vinh", "Huyện Càng Long", "Huyện Tiểu Cần", "Huyện Trà Cú"}
    ),
    city_district="Thành phố Trà Vinh",
)

VINH_LONG = FormerProvince(
    code="86",
    name="Vĩnh Long",
    key="vinh_long",
    sites=Figure(
        3233,
        f"{ARTICLE_VINH_LONG}: 'có 3.233 trạm thu phát sóng thông tin di động' (also '130 thuê bao/100 dân', "
        "not used)",
        published=True,
    ),
    ftth_household_share=_ASSUMED_FTTH,
    smartphone_adult_share=_ASSUMED_SMARTPHONE,
    internet_adult_share=_ASSUMED_INTERNET,
    khmer_share=Figure(
        0.02,
        "assumption: about 2 % (order of the 2009 census as commonly reported, concentrated in Trà Ôn, "
        "Tam Bình and Bình Minh); no figure in shared/",
        published=False,
        assumed=True,
    ),
    fibre_commune_share=Figure(
        1.0,
        f"{ARTICLE_VINH_LONG}: '100% cấp xã có kết nối cáp quang, internet băng thông rộng'",
        published=True,
    ),
    khmer_by_district={
        "Huyện Trà Ôn": 0.07,
        "Huyện Tam Bình": 0.035,
        "Thị xã Bình Minh": 0.03,
        "Huyện Bình Tân": 0.015,
        "Huyện Vũng Liêm": 0.012,
        "Huyện Mang Thít": 0.004,
        "Huyện Long Hồ": 0.003,
        "Thành phố Vĩnh Long": 0.004,
    },
    coastal_communes=frozenset(),
    gap_plan=(("Huyện Trà Ôn", 1, 3000.0, 3800.0),),
    coastal_gap_districts=frozenset(),
    mobifone_olt_districts=frozenset(
        {"Thành phố Vĩnh Long", "Thị xã Bình Minh", "Huyện Vũng Liêm", "Huyện Trà Ôn"}
    ),
    city_district="Thành phố Vĩnh Long",
)

_BT_COAST = (
    ("Huyện Bình Đại", ("Xã Thừa Đức", "Xã Thới Thuận", "Xã Thạnh Phước", "Xã Bình Thắng")),
    ("Huyện Ba Tri", ("Xã An Thủy", "Xã Tân Thủy", "Xã Bảo Thuận", "Xã Bảo Thạnh", "Xã An Hòa Tây")),
    ("Huyện Thạnh Phú", ("Xã Thạnh Phong", "Xã Thạnh Hải", "Xã An Điền", "Xã Giao Thạnh", "Xã An Nhơn")),
)

BEN_TRE = FormerProvince(
    code="83",
    name="Bến Tre",
    key="ben_tre",
    sites=None,
    ftth_household_share=_ASSUMED_FTTH,
    smartphone_adult_share=_ASSUMED_SMARTPHONE,
    internet_adult_share=_ASSUMED_INTERNET,
    khmer_share=Figure(
        0.001,
        "assumption: about 0.1 % (order of the 2009 census as commonly reported); no figure in shared/",
        published=False,
        assumed=True,
    ),
    fibre_commune_share=Figure(
        1.0,
        "assumed, no published figure: a fibre node in every commune, as in Trà Vinh and Vĩnh Long",
        published=False,
        assumed=True,
    ),
    khmer_by_district={
        "Thành phố Bến Tre": 0.001,
        "Huyện Châu Thành": 0.001,
        "Huyện Chợ Lách": 0.001,
        "Huyện Mỏ Cày Bắc": 0.001,
        "Huyện Mỏ Cày Nam": 0.001,
        "Huyện Giồng Trôm": 0.001,
        "Huyện Bình Đại": 0.001,
        "Huyện Ba Tri": 0.001,
        "Huyện Thạnh Phú": 0.001,
    },
    coastal_communes=frozenset((d, c) for d, names in _BT_COAST for c in names),
    gap_plan=(
        ("Huyện Thạnh Phú", 2, 4500.0, 6000.0),
        ("Huyện Bình Đại", 1, 4000.0, 5000.0),
        ("Huyện Ba Tri", 1, 4000.0, 5000.0),
    ),
    coastal_gap_districts=frozenset({"Huyện Thạnh Phú", "Huyện Bình Đại", "Huyện Ba Tri"}),
    mobifone_olt_districts=frozenset(
        {"Thành phố Bến Tre", "Huyện Mỏ Cày Nam", "Huyện Ba Tri", "Huyện Bình Đại"}
    ),
    city_district="Thành phố Bến Tre",
)

FORMER_PROVINCES: tuple[FormerProvince, ...] = (BEN_TRE, TRA_VINH, VINH_LONG)
"""The three former provinces, in pre-reform code order (83, 84, 86)."""

GAP_ZONE_ORDER: tuple[FormerProvince, ...] = (TRA_VINH, BEN_TRE, VINH_LONG)
"""Order in which gap zones are chosen (zones stay 12 km apart): Trà Vinh's plan, the bundled one, first."""

POP_DISTRICT = ("Vĩnh Long", "Thành phố Vĩnh Long")
"""(former province, 2009 district) of the operators' POPs: the seat of the new province."""


def former_province(code: str) -> FormerProvince:
    """Return the former province with pre-reform code ``code`` ("83", "84" or "86")."""
    for fp in FORMER_PROVINCES:
        if fp.code == code:
            return fp
    raise ParameterError(f"{code!r} is not a former province of Vĩnh Long (83, 84, 86)")


def site_targets(population_2009: Mapping[str, int]) -> dict[str, Figure]:
    """Return the active-site target of each former province (pre-reform code -> figure).

    Vĩnh Long and Trà Vinh publish their number of sites; Bến Tre's is derived from its 2009 population
    and the combined density of the other two (sites per person, both on 2009 census population).

    Parameters
    ----------
    population_2009
        Pre-reform province code -> 2009 census population.

    Returns
    -------
    dict
        Code -> :class:`Figure` (Bến Tre's with ``derived = True`` and its rule in ``source``).

    Raises
    ------
    ParameterError
        A former province's population is missing or not positive.
    """
    for fp in FORMER_PROVINCES:
        if population_2009.get(fp.code, 0) <= 0:
            raise ParameterError(f"no 2009 population for former province {fp.name} ({fp.code})")
    published = [fp for fp in FORMER_PROVINCES if fp.sites is not None]
    sites = sum(int(fp.sites.value) for fp in published if fp.sites is not None)
    persons = sum(int(population_2009[fp.code]) for fp in published)
    out: dict[str, Figure] = {}
    for fp in FORMER_PROVINCES:
        if fp.sites is not None:
            out[fp.code] = fp.sites
            continue
        pop = int(population_2009[fp.code])
        value = int(pop * sites / persons + 0.5)
        names = " and ".join(p.name for p in published)
        out[fp.code] = Figure(
            value,
            f"derived, no published figure in the project's sources: {pop:,} persons (2009 census) x the "
            f"combined site density of {names} ({sites:,} sites / {persons:,} persons, 2009 census) = "
            f"{pop * sites / persons:,.1f}, rounded",
            published=False,
            derived=True,
        )
    return out
