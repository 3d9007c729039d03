"""Column schemas of every data-package layer and the categorical vocabularies.

The schemas here are the machine-readable form of ``docs/DATA.md``; :mod:`geo.validate`
checks files against them column by column. Categories are ``str`` Enums; each has an alias
map so that spellings found in operator spreadsheets ("VNPT", "Mobifone", "LTE", "NR") are
accepted and normalised to one canonical value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeVar

from geo.names import fold_diacritics

__all__ = [
    "ALIASES",
    "DATASET_REQUIRED_FIELDS",
    "LAYER_REQUIRED_FIELDS",
    "Column",
    "ColumnKind",
    "CommuneType",
    "DatasetMeta",
    "GeometryKind",
    "HIGHWAY_CLASSES",
    "DEFAULT_LAYOUT",
    "LAYER_SCHEMAS",
    "LAYOUTS",
    "PRE_REFORM_LAYOUTS",
    "layer_schemas",
    "LayerMeta",
    "LayerSchema",
    "NodeType",
    "Operator",
    "RASTER_LAYERS",
    "RouteType",
    "SiteStatus",
    "Technology",
    "accepted_values",
    "alias_key",
    "parse_category",
]


_E = TypeVar("_E", bound=StrEnum)


class Operator(StrEnum):
    """Mobile / fixed network operators licensed in Vietnam."""

    VIETTEL = "Viettel"
    VINAPHONE = "VinaPhone"
    MOBIFONE = "MobiFone"
    VIETNAMOBILE = "Vietnamobile"
    GMOBILE = "Gmobile"


class Technology(StrEnum):
    """Radio access technology generation of a cell."""

    G2 = "2G"
    G3 = "3G"
    G4 = "4G"
    G5 = "5G"


class SiteStatus(StrEnum):
    """Whether a site is on air or only planned."""

    ACTIVE = "active"
    PLANNED = "planned"


class NodeType(StrEnum):
    """Kind of fibre access node."""

    OLT = "OLT"
    CABINET = "cabinet"
    POP = "POP"


class RouteType(StrEnum):
    """Tier of a fibre cable route."""

    BACKBONE = "backbone"
    METRO = "metro"
    ACCESS = "access"


class CommuneType(StrEnum):
    """Type of a commune-level administrative unit."""

    XA = "xã"
    PHUONG = "phường"
    THI_TRAN = "thị trấn"


def alias_key(text: Any) -> str:
    """Return the lookup key of a category spelling: ASCII lower case, letters and digits only.

    ``"VNPT-VinaPhone"`` -> ``"vnptvinaphone"``, ``"Thị trấn"`` -> ``"thitran"``.
    """
    return re.sub(r"[^0-9a-z+]", "", fold_diacritics(str(text)))


_RAW_ALIASES: dict[type[StrEnum], dict[StrEnum, tuple[str, ...]]] = {
    Operator: {
        Operator.VIETTEL: ("viettel", "vtl", "viettel mobile", "viettel telecom", "vtt"),
        Operator.VINAPHONE: ("vinaphone", "vina", "vnpt", "vnpt-vinaphone", "vnp", "gpc", "vina phone"),
        Operator.MOBIFONE: ("mobifone", "mobi", "mobiphone", "mbf", "vms", "mobi fone"),
        Operator.VIETNAMOBILE: ("vietnamobile", "vnmobile", "vnm", "ht mobile", "htmobile"),
        Operator.GMOBILE: ("gmobile", "g-mobile", "beeline", "gtel", "gtel mobile"),
    },
    Technology: {
        Technology.G2: ("2g", "gsm", "gprs", "edge", "dcs"),
        Technology.G3: ("3g", "umts", "wcdma", "hspa", "hspa+", "hsdpa"),
        Technology.G4: ("4g", "lte", "lte-a", "lte advanced", "4g lte", "lte-advanced", "4.5g"),
        Technology.G5: ("5g", "nr", "5g nr", "5gnr", "nr-sa", "nr-nsa"),
    },
    SiteStatus: {
        SiteStatus.ACTIVE: (
            "active",
            "on air",
            "onair",
            "live",
            "operational",
            "in service",
            "hoạt động",
            "đang hoạt động",
            "phát sóng",
        ),
        SiteStatus.PLANNED: ("planned", "plan", "proposed", "dự kiến", "kế hoạch", "quy hoạch"),
    },
    NodeType: {
        NodeType.OLT: ("olt", "optical line terminal"),
        NodeType.CABINET: ("cabinet", "cab", "tủ", "tủ cáp", "street cabinet", "odf cabinet", "splitter"),
        NodeType.POP: ("pop", "point of presence", "điểm pop"),
    },
    RouteType: {
        RouteType.BACKBONE: ("backbone", "trục", "core"),
        RouteType.METRO: ("metro", "ring", "vòng ring"),
        RouteType.ACCESS: ("access", "truy nhập", "distribution"),
    },
    CommuneType: {
        CommuneType.XA: ("xã", "commune", "x"),
        CommuneType.PHUONG: ("phường", "ward", "p"),
        CommuneType.THI_TRAN: ("thị trấn", "township", "tt", "town"),
    },
}

#: Alias map per category: ``ALIASES[Operator]["vnpt"] is Operator.VINAPHONE``. Keys are
#: :func:`alias_key` forms; every canonical value is its own alias.
ALIASES: Mapping[type[StrEnum], Mapping[str, StrEnum]] = {
    cls: {alias_key(alias): member for member, aliases in table.items() for alias in (member.value, *aliases)}
    for cls, table in _RAW_ALIASES.items()
}


def parse_category(cls: type[_E], value: Any) -> _E | None:
    """Return the member of ``cls`` that ``value`` names, or None when it names none.

    Parameters
    ----------
    cls
        One of :class:`Operator`, :class:`Technology`, :class:`SiteStatus`, :class:`NodeType`,
        :class:`RouteType`, :class:`CommuneType`.
    value
        A spelling such as ``"VNPT"``, ``"Mobifone"``, ``"LTE"``, ``"NR"``; case, spaces,
        hyphens and diacritics are ignored.
    """
    if value is None:
        return None
    found = ALIASES[cls].get(alias_key(value))
    return found  # type: ignore[return-value]


def accepted_values(cls: type[StrEnum]) -> str:
    """Return the canonical values of ``cls`` joined for a message, e.g. "2G, 3G, 4G, 5G"."""
    return ", ".join(m.value for m in cls)


#: OSM ``highway`` classes accepted for roads; others load with a warning.
HIGHWAY_CLASSES: tuple[str, ...] = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "living_street",
    "service",
    "road",
    "track",
    "path",
    "footway",
    "cycleway",
    "bridleway",
    "pedestrian",
    "steps",
)

ColumnKind = Literal["id", "str", "int", "float", "share", "category", "date", "highway"]
GeometryKind = Literal["polygon", "point", "point_or_polygon", "line", "latlon", "none"]


@dataclass(frozen=True)
class Column:
    """One column of a layer.

    Parameters
    ----------
    name
        Column name as written in the file (lower case; matching is case-insensitive).
    kind
        ``id`` (non-empty text, unique within the layer), ``str``, ``int`` (whole number ≥ 0),
        ``float``, ``share`` (0–1), ``category`` (one of ``category``'s values), ``date``
        (ISO ``YYYY-MM-DD``), ``highway`` (OSM class).
    required
        Whether the column must exist and every row must have a value.
    min_value, max_value
        Inclusive bounds of numeric columns (in the column's unit).
    category
        The Enum of a ``category`` column.
    unit
        Unit of a numeric column, for messages ("m", "MHz", "dBm", "deg").
    """

    name: str
    kind: ColumnKind
    required: bool = True
    min_value: float | None = None
    max_value: float | None = None
    category: type[StrEnum] | None = None
    unit: str = ""


@dataclass(frozen=True)
class LayerSchema:
    """Schema of one data-package layer.

    Parameters
    ----------
    key
        Layer key in ``dataset.toml`` (``[layers.<key>]``).
    default_files
        Candidate paths relative to the package root, tried in order when ``dataset.toml``
        names no ``file``.
    required
        Whether the package is unusable without this layer.
    geometry
        Expected geometry: ``polygon`` (Polygon/MultiPolygon), ``point``, ``point_or_polygon``,
        ``line`` (LineString/MultiLineString), ``latlon`` (a table with ``lat``/``lon``
        columns in WGS 84 degrees) or ``none`` (plain table).
    columns
        Attribute columns.
    id_column
        Column whose values must be unique (None for none).
    any_of
        Groups of columns of which at least one must be present (e.g. ``commune_id`` or
        ``commune_code`` in hamlets).
    """

    key: str
    default_files: tuple[str, ...]
    required: bool
    geometry: GeometryKind
    columns: tuple[Column, ...]
    id_column: str | None
    any_of: tuple[tuple[str, ...], ...] = ()

    def column(self, name: str) -> Column | None:
        """Return the column called ``name`` or None."""
        return next((c for c in self.columns if c.name == name), None)


def _vector_files(stem: str) -> tuple[str, ...]:
    return tuple(f"{stem}{ext}" for ext in (".geojson", ".json", ".gpkg", ".shp.zip", ".zip", ".shp", ".csv"))


_COMMUNES = LayerSchema(
    key="communes",
    default_files=_vector_files("boundaries/communes"),
    required=True,
    geometry="polygon",
    id_column="commune_id",
    columns=(
        Column("commune_id", "id"),
        Column("commune_code", "str", required=False),
        Column("commune_name", "str"),
        Column("district_name", "str"),
        Column("province_name", "str"),
        Column("commune_type", "category", category=CommuneType),
        Column("population", "int", unit="persons"),
        Column("households", "int", unit="households"),
    ),
)

_HAMLETS = LayerSchema(
    key="hamlets",
    default_files=_vector_files("boundaries/hamlets"),
    required=True,
    geometry="point_or_polygon",
    id_column="hamlet_id",
    any_of=(("commune_id", "commune_code"),),
    columns=(
        Column("hamlet_id", "id"),
        Column("hamlet_name", "str"),
        Column("commune_id", "str", required=False),
        Column("commune_code", "str", required=False),
        Column("households", "int", unit="households"),
        Column("population", "int", unit="persons"),
        Column("khmer_share", "share", required=False),
        Column("poor_household_share", "share", required=False),
        Column("former_commune_code", "str", required=False),
        Column("former_commune_name", "str", required=False),
    ),
)

#: Column order of a ``towers/sites.csv`` file as PhuSong writes one (one row per cell; docs/DATA.md):
#: the generator, planned sites and a scenario's added sites all use it.
SITE_CSV_COLUMNS: tuple[str, ...] = (
    "site_id", "cell_id", "operator", "lat", "lon", "height_m", "status", "technology", "band_mhz",
    "azimuth_deg", "beamwidth_deg", "eirp_dbm", "bandwidth_mhz", "commune_id", "source",
)  # fmt: skip

_TOWERS = LayerSchema(
    key="towers",
    default_files=("towers/sites.csv",),
    required=True,
    geometry="latlon",
    id_column="cell_id",
    columns=(
        Column("site_id", "str"),
        Column("cell_id", "id"),
        Column("operator", "category", category=Operator),
        Column("height_m", "float", min_value=0.5, max_value=300.0, unit="m"),
        Column("status", "category", category=SiteStatus),
        Column("technology", "category", category=Technology),
        Column("band_mhz", "float", min_value=300.0, max_value=100_000.0, unit="MHz"),
        Column("azimuth_deg", "float", required=False, min_value=0.0, max_value=360.0, unit="deg"),
        Column("beamwidth_deg", "float", required=False, min_value=1.0, max_value=360.0, unit="deg"),
        Column("eirp_dbm", "float", required=False, min_value=0.0, max_value=90.0, unit="dBm"),
        Column("bandwidth_mhz", "float", required=False, min_value=0.1, max_value=400.0, unit="MHz"),
        Column("former_commune_code", "str", required=False),
        Column("former_commune_name", "str", required=False),
    ),
)

_FIBRE_NODES = LayerSchema(
    key="fibre_nodes",
    default_files=_vector_files("fibre/nodes"),
    required=True,
    geometry="point",
    id_column="node_id",
    columns=(
        Column("node_id", "id"),
        Column("operator", "category", category=Operator),
        Column("node_type", "category", category=NodeType),
        Column("name", "str", required=False),
        Column("commune_id", "str", required=False),
    ),
)

_FIBRE_ROUTES = LayerSchema(
    key="fibre_routes",
    default_files=_vector_files("fibre/routes"),
    required=False,
    geometry="line",
    id_column="route_id",
    columns=(
        Column("route_id", "id"),
        Column("operator", "category", category=Operator),
        Column("route_type", "category", required=False, category=RouteType),
    ),
)

_ROADS = LayerSchema(
    key="roads",
    default_files=_vector_files("roads/roads"),
    required=True,
    geometry="line",
    id_column="road_id",
    columns=(
        Column("road_id", "id"),
        Column("highway", "highway"),
        Column("name", "str", required=False),
    ),
)

_SURVEY = LayerSchema(
    key="survey",
    default_files=("survey/hamlet_survey.csv",),
    required=True,
    geometry="none",
    id_column=None,
    any_of=(("hamlet_id", "commune_id"),),
    columns=(
        Column("hamlet_id", "str", required=False),
        Column("commune_id", "str", required=False),
        Column("hamlet_name", "str", required=False),
        Column("households", "int", unit="households"),
        Column("households_ftth", "int", unit="households"),
        Column("adults", "int", unit="persons"),
        Column("adults_with_smartphone", "int", unit="persons"),
        Column("adults_internet_users", "int", required=False, unit="persons"),
        Column("survey_date", "date"),
        Column("source", "str"),
        Column("former_commune_code", "str", required=False),
        Column("former_commune_name", "str", required=False),
    ),
)

#: Every vector/table layer, in the order they are checked (pre-reform layouts).
LAYER_SCHEMAS: Mapping[str, LayerSchema] = {
    s.key: s for s in (_COMMUNES, _HAMLETS, _TOWERS, _FIBRE_NODES, _FIBRE_ROUTES, _ROADS, _SURVEY)
}

#: Administrative layouts a package may be in (``layout`` in ``dataset.toml``): the 2009 commune
#: layout (censusVN2009 boundaries), the last pre-reform GSO list (1 March 2025; provinces, districts,
#: communes) and the two-tier layout in force since 1 July 2025 (34 provinces, communes, no districts).
LAYOUTS: tuple[str, ...] = ("2009", "2025-03", "2025-07")
#: Layouts with districts: there ``district_name`` is required in the communes layer.
PRE_REFORM_LAYOUTS: tuple[str, ...] = ("2009", "2025-03")
#: Layout assumed when ``dataset.toml`` names none (every package made before layouts existed).
DEFAULT_LAYOUT = "2009"

_COMMUNES_2025 = LayerSchema(
    key="communes",
    default_files=_COMMUNES.default_files,
    required=True,
    geometry="polygon",
    id_column="commune_id",
    columns=(
        *(
            Column("district_name", "str", required=False) if c.name == "district_name" else c
            for c in _COMMUNES.columns
        ),
        Column("former_province", "str", required=False),
        Column("former_district", "str", required=False),
    ),
)


def layer_schemas(layout: str) -> Mapping[str, LayerSchema]:
    """The layer schemas of a package in ``layout`` (one of :data:`LAYOUTS`).

    In the 2025-07 layout districts no longer exist: ``district_name`` is optional and communes may
    carry ``former_province`` and ``former_district`` as grouping fields. Other layers are the same
    in every layout. An unknown layout gets the pre-reform schemas (the caller reports it).
    """
    if layout in PRE_REFORM_LAYOUTS or layout not in LAYOUTS:
        return LAYER_SCHEMAS
    return {k: (_COMMUNES_2025 if k == "communes" else v) for k, v in LAYER_SCHEMAS.items()}


#: Optional GeoTIFF layers: ``dataset.toml`` key -> default path.
RASTER_LAYERS: Mapping[str, str] = {
    "population_raster": "rasters/population.tif",
    "dem": "rasters/dem.tif",
}

#: ``dataset.toml`` top-level fields that must be non-empty text.
DATASET_REQUIRED_FIELDS: tuple[str, ...] = ("name", "province_name", "province_code", "boundary_vintage")

#: ``[layers.<key>]`` fields required for every layer present in the package.
LAYER_REQUIRED_FIELDS: tuple[str, ...] = ("synthetic", "source", "licence")


@dataclass(frozen=True)
class LayerMeta:
    """One ``[layers.<key>]`` table of ``dataset.toml``.

    Parameters
    ----------
    key
        Layer key, e.g. ``"hamlets"``.
    file
        Path relative to the package root ("" when the default path is used).
    synthetic
        True when the layer was generated, not observed.
    source, licence
        Who made it and under which licence.
    extra
        Any further fields of the table (``notes``, ``seed``, ...).
    """

    key: str
    file: str
    synthetic: bool
    source: str
    licence: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetMeta:
    """Parsed ``dataset.toml``.

    Parameters
    ----------
    name, province_name, province_code, boundary_vintage
        Required descriptive fields.
    layout
        Administrative layout of the codes and communes (one of :data:`LAYOUTS`).
    created
        Creation date as written ("" when absent).
    layers
        ``LayerMeta`` per layer key.
    raw
        The whole parsed TOML document (other tables such as ``calibration``).
    """

    name: str
    province_name: str
    province_code: str
    boundary_vintage: str
    created: str
    layers: Mapping[str, LayerMeta]
    raw: Mapping[str, Any] = field(default_factory=dict)
    layout: str = DEFAULT_LAYOUT

    def synthetic_layers(self) -> tuple[str, ...]:
        """Return the keys of layers marked ``synthetic = true``."""
        return tuple(k for k, v in self.layers.items() if v.synthetic)
