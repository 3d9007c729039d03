"""Texts of the new Vĩnh Long package: ``dataset.toml``, ``PROVENANCE.md``, ``LICENSE`` and the
boundaries' provenance and licence copies. Fixed wording and fixed dates, so re-runs are byte-identical."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd

from datagen.manifest import GENERATOR_NAME, LayerEntry, layer_tables, synthetic_layer, toml_table, toml_value
from datagen.params import GeneratorParams
from datagen.pipeline import (
    CREATED,
    HAMLETS_FILE,
    NODES_FILE,
    ROADS_FILE,
    ROUTES_FILE,
    SITES_FILE,
    SURVEY_FILE,
)
from datagen.vinh_long.calibration import (
    FORMER_PROVINCES,
    NEW_PROVINCE_CODE,
    NEW_PROVINCE_NAME,
    Figure,
    FormerProvince,
)
from datagen.vinh_long.units import Sources
from geo.admin_units import REFERENCE_DIR as ADMIN_CODES_DIR
from geo.derive_communes import REFERENCE_DIR as COMMUNES_2009_DIR
from geo.derive_communes import SPLIT_RULE, format_report

NAME = "Vĩnh Long (2025-07 commune layout)"
BOUNDARY_VINTAGE = "2025-07-01 layout, derived from 2009 polygons"
LAYOUT = "2025-07"
COMMAND = "python -m datagen --province vinh-long-2025"
COMMUNES_SOURCE = (
    "derived by geo.derive_communes from censusVN2009 2009 commune polygons (Marc Choisy & Lucie "
    "Contamin, MIT) through the dvhcvn/20250701 old->new commune mapping (MIT); 2009 census population"
)
LICENCE_FILES = {
    "boundaries/LICENSE.censusVN2009": COMMUNES_2009_DIR / "LICENSE.censusVN2009",
    "boundaries/LICENSE.dvhcvn-20250701": ADMIN_CODES_DIR / "LICENSE.dvhcvn-20250701",
}

FIGURES: tuple[tuple[str, str], ...] = (
    ("sites", "active base-station sites"),
    ("ftth_household_share", "households with FTTH"),
    ("smartphone_adult_share", "adults with a smartphone"),
    ("internet_adult_share", "adults using the internet"),
    ("khmer_share", "Khmer share of residents"),
    ("fibre_commune_share", "communes with a fibre node"),
)
"""Calibrated figures: ``dataset.toml`` key and description."""


def figures_of(fp: FormerProvince, site_figures: Mapping[str, Figure]) -> dict[str, Figure]:
    """The calibration figures of one former province (``sites`` from :func:`site_targets`)."""
    return {
        "sites": site_figures[fp.code],
        "ftth_household_share": fp.ftth_household_share,
        "smartphone_adult_share": fp.smartphone_adult_share,
        "internet_adult_share": fp.internet_adult_share,
        "khmer_share": fp.khmer_share,
        "fibre_commune_share": fp.fibre_commune_share,
    }


def _status(fig: Figure) -> str:
    return "published" if fig.published else "derived" if fig.derived else "assumed"


def _layers(params: GeneratorParams, totals: Mapping[str, Any], n_notes: int) -> list[LayerEntry]:
    return [
        LayerEntry(
            key="communes",
            file="boundaries/communes.geojson",
            synthetic=False,
            source=COMMUNES_SOURCE,
            licence="MIT",
            licence_file="boundaries/LICENSE.censusVN2009",
            notes=(
                f"the {totals['communes']} communes of Vĩnh Long (86) in force since 1 July 2025; polygons "
                f"DERIVED from low-resolution 2009 polygons, {n_notes} with a geometry_note (approximated "
                "or inferred parts); population = 2009 census (population_year = 2009, not projected); "
                "households derived as population / 3.8 (households_derived = true); no district_name "
                "(districts were abolished), former_province / former_district give the pre-reform units. "
                "Mapping licence: boundaries/LICENSE.dvhcvn-20250701"
            ),
            extra={"provenance": "boundaries/PROVENANCE.md"},
        ),
        synthetic_layer(
            "hamlets",
            HAMLETS_FILE,
            params,
            notes=(
                "drawn per 2009 commune (~7-8 per old commune); each carries its new commune (commune_id, "
                "commune_code) and its former commune (former_commune_code / former_commune_name, "
                "former_district, former_province); households and population sum exactly to each new "
                "commune's"
            ),
        ),
        synthetic_layer(
            "towers",
            SITES_FILE,
            params,
            notes=(
                f"{totals['sites_active']} active sites calibrated per former province (column "
                f"former_province; see [calibration]) + {totals['sites_planned']} planned; one row per cell"
            ),
        ),
        synthetic_layer(
            "fibre_nodes",
            NODES_FILE,
            params,
            notes="POPs in Vĩnh Long city, OLTs at the 2009 district seats, cabinets in every old commune",
        ),
        synthetic_layer(
            "fibre_routes", ROUTES_FILE, params, notes="backbone POP-OLT and access OLT-cabinet along roads"
        ),
        synthetic_layer(
            "roads",
            ROADS_FILE,
            params,
            notes="schematic network joining every hamlet; not OSM, rivers not modelled",
        ),
        synthetic_layer(
            "survey",
            SURVEY_FILE,
            params,
            notes=(
                "2023 survey in the units it was collected in: every row carries former_commune_code / "
                "former_commune_name (old commune) besides hamlet_id and the new commune_id; commune-level "
                "rows only for old communes that went whole into one new commune; calibrated per former "
                "province: Trà Vinh to its published figures, Vĩnh Long and Bến Tre to ASSUMED figures "
                "(no published figure; see [calibration])"
            ),
        ),
    ]


def _calibration_tables(
    site_figures: Mapping[str, Figure],
    population: Mapping[str, int],
    totals: Mapping[str, Any],
    per_fp: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    lines = toml_table(
        "calibration",
        {
            "note": (
                "targets per former province (Bến Tre 83, Trà Vinh 84, Vĩnh Long 86); each figure is "
                "labelled published / derived / assumed in [calibration.<former province>.<figure>]"
            ),
        },
    )
    lines += toml_table(
        "calibration.targets",
        {"sites": sum(int(f.value) for f in site_figures.values()), "fibre_commune_share": 1.0},
    )
    for fp in FORMER_PROVINCES:
        figs = figures_of(fp, site_figures)
        lines += toml_table(f"calibration.targets.{fp.key}", {k: f.value for k, f in figs.items()})
    lines += toml_table("calibration.achieved", dict(totals))
    for fp in FORMER_PROVINCES:
        lines += toml_table(f"calibration.achieved.{fp.key}", dict(per_fp[fp.key]))
    for fp in FORMER_PROVINCES:
        figs = figures_of(fp, site_figures)
        summary = "; ".join(f"{key}: {_status(fig)}" for key, fig in figs.items())
        lines += toml_table(
            f"calibration.{fp.key}",
            {
                "former_province": fp.name,
                "former_province_code": fp.code,
                "population_2009": int(population[fp.code]),
                "source": summary,
                "derived": any(f.derived for f in figs.values()),
                "assumed": any(f.assumed for f in figs.values()),
            },
        )
        for key, fig in figs.items():
            lines += toml_table(f"calibration.{fp.key}.{key}", fig.as_toml())
    return lines


def dataset_toml(
    *,
    params: GeneratorParams,
    site_figures: Mapping[str, Figure],
    population: Mapping[str, int],
    totals: Mapping[str, Any],
    per_fp: Mapping[str, Mapping[str, Any]],
    n_notes: int,
) -> str:
    """Return the text of ``dataset.toml`` of the new Vĩnh Long package."""
    lines = [
        "# PhuSong data package manifest. Layers marked synthetic = true were generated by",
        f"# `{COMMAND} --seed {params.seed}` (see docs/DATAGEN.md); they are NOT real data.",
        "# The commune polygons are DERIVED from 2009 polygons (see boundaries/PROVENANCE.md).",
        "",
        f"name = {toml_value(NAME)}",
        f"province_name = {toml_value(NEW_PROVINCE_NAME)}",
        f"province_code = {toml_value(NEW_PROVINCE_CODE)}",
        f"boundary_vintage = {toml_value(BOUNDARY_VINTAGE)}",
        f"layout = {toml_value(LAYOUT)}",
        f"created = {toml_value(CREATED)}",
        f"former_provinces = {toml_value([f'{fp.name} ({fp.code})' for fp in FORMER_PROVINCES])}",
        "",
    ]
    lines += layer_tables(_layers(params, totals, n_notes))
    lines += toml_table(
        "generator",
        {
            "name": GENERATOR_NAME,
            "command": f"{COMMAND} --seed {params.seed}",
            "province": "vinh-long-2025",
            "seed": params.seed,
            "persons_per_household": params.persons_per_household,
            "hamlets_per_commune_mean": params.hamlets_per_commune_mean,
            "survey_date": params.survey_date,
        },
    )
    lines += _calibration_tables(site_figures, population, totals, per_fp)
    return "\n".join(lines).rstrip("\n") + "\n"


LICENSE_TEXT = """\
Synthetic layers of this data package (every layer with `synthetic = true` in dataset.toml:
boundaries/hamlets.geojson, towers/sites.csv, fibre/nodes.geojson, fibre/routes.geojson,
roads/roads.geojson, survey/hamlet_survey.csv) were produced by the PhuSong generator
(`python -m datagen --province vinh-long-2025`) and are dedicated to the public domain under
CC0 1.0 Universal:

    To the extent possible under law, the PhuSong authors have waived all copyright and related
    or neighboring rights to these generated files. This work is published from Vietnam.
    Full text: https://creativecommons.org/publicdomain/zero/1.0/legalcode

These files are NOT real data: no base station, fibre node, road, hamlet or survey answer in them
describes a real one. They are calibrated to province-level figures only, some of them assumed
(see PROVENANCE.md and [calibration] in dataset.toml).

The real layer boundaries/communes.geojson (and boundaries/old_unit_parts.csv) is derived from
sources under the MIT licence; see boundaries/LICENSE.censusVN2009,
boundaries/LICENSE.dvhcvn-20250701 and boundaries/PROVENANCE.md.
"""


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return a Markdown table (no trailing newline)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(value: Any, key: str) -> str:
    if key == "sites" or isinstance(value, int):
        return f"{int(value):,}"
    return f"{100 * float(value):.1f} %"


def provenance_md(
    *,
    params: GeneratorParams,
    site_figures: Mapping[str, Figure],
    per_fp: Mapping[str, Mapping[str, Any]],
    totals: Mapping[str, Any],
) -> str:
    """Return ``PROVENANCE.md`` of the package (layers, calibration per former province, limits)."""
    achieved_key = {"sites": "sites_active", "fibre_commune_share": "fibre_former_commune_share"}
    rows = []
    for fp in FORMER_PROVINCES:
        for key, fig in figures_of(fp, site_figures).items():
            got = per_fp[fp.key][achieved_key.get(key, key)]
            rows.append(
                f"| {fp.name} | {key} | {_fmt(fig.value, key)} | {_fmt(got, key)} | **{_status(fig)}** | "
                f"{fig.source} |"
            )
    table = "\n".join(rows)
    layers = md_table(
        ("layer", "file", "real?", "source", "licence"),
        [
            (
                "communes",
                "`boundaries/communes.geojson`",
                "**real, derived**",
                "2009 polygons (censusVN2009) dissolved / split through the official old → new mapping "
                "(dvhcvn/20250701); 2009 census population",
                "MIT (`boundaries/LICENSE.censusVN2009`, `boundaries/LICENSE.dvhcvn-20250701`)",
            ),
            (
                "old unit parts",
                "`boundaries/old_unit_parts.csv`",
                "real, derived",
                "area of each (old commune, new commune) pair of the derivation",
                "MIT",
            ),
            (
                "hamlets",
                f"`{HAMLETS_FILE}`",
                "synthetic",
                f"`{COMMAND}`, seed {params.seed}",
                "CC0-1.0 (`LICENSE`)",
            ),
            ("towers", f"`{SITES_FILE}`", "synthetic", "idem", "CC0-1.0"),
            ("fibre_nodes", f"`{NODES_FILE}`", "synthetic", "idem", "CC0-1.0"),
            ("fibre_routes", f"`{ROUTES_FILE}`", "synthetic", "idem", "CC0-1.0"),
            ("roads", f"`{ROADS_FILE}`", "synthetic", "idem", "CC0-1.0"),
            ("survey", f"`{SURVEY_FILE}`", "synthetic", "idem", "CC0-1.0"),
        ],
    )
    return f"""# Data package: Vĩnh Long (2025-07 commune layout) — provenance

Since 1 July 2025 Trà Vinh (84) and Bến Tre (83) are part of Vĩnh Long (86): {totals["communes"]}
communes, no districts. Generated by `{COMMAND} --seed {params.seed}` (docs/DATAGEN.md).

{layers}

How the communes were derived, what is approximated and the full derivation report:
`boundaries/PROVENANCE.md`.

## Calibration, per former province

Each synthetic layer is calibrated to province-level figures of the former province it lies in.
**published** = read in a published source; **derived** = computed from published figures (rule
given); **assumed** = no published figure in the project's sources. The same labels are in
`dataset.toml` under `[calibration.<former province>.<figure>]`. Achieved fibre share: old communes
with a fibre node (the published figures count communes before the reform).

| former province | figure | target | achieved | status | source |
|---|---|---|---|---|---|
{table}

Population (hence households, hamlets and site placement) is the 2009 census; the 2023 site counts
and survey figures are not re-based on it.

## Why synthetic
No public, openly licensed source gives the hamlets, base stations, fibre plant, roads or a take-up
survey of these provinces. The synthetic layers exist so that the tool can be built, tested and
demonstrated on the new province; they are meant to be replaced one by one by real imports
(`python -m analysis import …`). Everything below province level is invented: do not use these
files to describe the real Vĩnh Long, Bến Tre or Trà Vinh.
"""


_FIELDS = md_table(
    ("field", "from", "rule"),
    [
        (
            "`commune_id`, `commune_code`",
            "dvhcvn/20250701",
            "official 5-digit code of the new commune (the same)",
        ),
        (
            "`commune_name`",
            "dvhcvn/20250701",
            'official name with its type ("Phường Trà Vinh", "Xã Long Hữu")',
        ),
        ("`province_name`", "—", '"Vĩnh Long"'),
        (
            "`commune_type`",
            "name prefix",
            '"xã" / "phường" ("đặc khu" would be written "xã", the nearest `CommuneType`; the new Vĩnh '
            "Long has none)",
        ),
        (
            "`former_province`, `former_district`",
            "2009 polygons",
            "province(s) and 2009 district(s) of the polygons the commune was made of, `;`-joined",
        ),
        ("`old_commune_codes`", "mapping", "pre-reform (2025-03) codes that fed the commune, `;`-joined"),
        (
            "`population`",
            "`pop_2009`",
            "2009 census persons of the territory (a divided 2009 polygon: by area share, largest "
            "remainder); `population_year` = 2009",
        ),
        (
            "`households`",
            "derived",
            "round(population / 3.8), at least 1 — **derived, not counted** (`households_derived` = true)",
        ),
        ("`area_km2`", "geometry", "area in EPSG:32648"),
        (
            "`geometry_note`",
            "derivation",
            'why the polygon is approximated or inferred; "" when it is a dissolve of whole 2009 polygons',
        ),
    ],
)


def boundaries_provenance_md(*, sources: Sources, communes: gpd.GeoDataFrame) -> str:
    """Return ``boundaries/PROVENANCE.md``: sources, derivation, its report, fields, caveats, licences."""
    report = format_report(sources.derivation.report)
    n_notes = int((communes["geometry_note"] != "").sum())
    return f"""# boundaries/ — provenance

## communes.geojson (REAL, DERIVED; MIT)
- **What**: the {len(communes)} communes (xã / phường) of the new Vĩnh Long (province 86), in force since
  1 July 2025, with 2009 census population. No public geometry of these communes exists: the
  polygons are **derived** from the 2009 commune polygons of the three former provinces by
  `geo.derive_communes` (shipped in `geo/reference/communes_2009/`, see its PROVENANCE.md).
- **Sources**:
  - censusVN2009 R package, https://github.com/LucieContamin/censusVN2009 (fork of
    choisy/censusVN2009), `data/communes.rda`, snapshot commit d9a36767d5bdeb53d76d4497805cc07a4dbbe50c:
    low-resolution 2009 commune polygons of Bến Tre (164), Trà Vinh (105) and Vĩnh Long (109) with
    2009 census population. MIT, "Copyright (c) 2017 Marc Choisy" — `LICENSE.censusVN2009` beside this
    file. Attribution: "censusVN2009, Marc Choisy & Lucie Contamin (MIT)".
  - dvhcvn/20250701, https://github.com/dvhcvn/20250701, snapshot commit
    dd94887ce32324380bc5bb0a76fe39867dafc73b: the official list of new communes and the old → new
    mapping (shipped in `geo/reference/admin_codes/`). MIT, "Copyright (c) 2025 dvhcvn" —
    `LICENSE.dvhcvn-20250701` beside this file. Upstream extracted the assignments from the National
    Assembly Standing Committee resolutions and checked them by hand: good but unofficial.
- **Derivation** (`geo/derive_communes`, run by the generator):
  1. each 2009 polygon is matched to its pre-reform (2025-03) code: documented manual matches
     (mergers 2019–2024, renames, each with its resolution), the source's own code, or the name within
     the district;
  2. polygons whose old code feeds one new commune go to it whole (dissolve);
  3. an old commune split between two new communes (the split line is not published) is divided by the
     `{SPLIT_RULE}` rule: each point goes to the target whose whole parts are nearest; 2009 polygons
     with no pre-reform code are divided the same way among the new communes of their matched
     neighbours;
  4. small gaps between the generalised source polygons inside a new commune are filled; overlaps of
     the source are kept and measured. 2009 population of a divided polygon goes by area share.
- **Approximated**: {n_notes} communes carry a `geometry_note` saying which part is approximated
  (split line drawn by the rule) or inferred (a 2009 polygon without code). Read their borders as
  rough; the others are dissolves of whole 2009 polygons (2009 borders, low resolution).

### Derivation report (as printed by `python -m geo.derive_communes`)

```
{report}
```

### Fields

{_FIELDS}

- **Caveats**: borders are 2009 ones, generalised (1:250,000), so later boundary transfers are missing
  (see `geo/reference/communes_2009/PROVENANCE.md`, "Known residual errors"); population is 2009 and
  not projected; the split shares are rough weights.

## old_unit_parts.csv (REAL, DERIVED; MIT)
One row per (old commune, new commune) pair of the mapping: `area_km2` and `area_share` of the old
commune's polygon that went to the new one, and the `rule` ("whole" or `{SPLIT_RULE}`); empty area for
the few old communes with no 2009 polygon. Read by `python -m analysis crosswalk` (docs/CROSSWALK.md)
when hamlet households cannot weight a split.

## hamlets.geojson (SYNTHETIC, CC0-1.0)
Generated by `{COMMAND}` — see `../PROVENANCE.md` and `docs/DATAGEN.md`. Not real hamlets.
"""


def write_texts(
    root: Path,
    *,
    params: GeneratorParams,
    sources: Sources,
    communes: gpd.GeoDataFrame,
    site_figures: Mapping[str, Figure],
    population: Mapping[str, int],
    totals: Mapping[str, Any],
    per_fp: Mapping[str, Mapping[str, Any]],
) -> None:
    """Write ``dataset.toml``, ``PROVENANCE.md``, ``LICENSE``, ``boundaries/PROVENANCE.md`` and the
    licence copies of the real sources under ``root``."""
    n_notes = int((communes["geometry_note"] != "").sum())
    texts = {
        "dataset.toml": dataset_toml(
            params=params,
            site_figures=site_figures,
            population=population,
            totals=totals,
            per_fp=per_fp,
            n_notes=n_notes,
        ),
        "PROVENANCE.md": provenance_md(
            params=params, site_figures=site_figures, per_fp=per_fp, totals=totals
        ),
        "LICENSE": LICENSE_TEXT,
        "boundaries/PROVENANCE.md": boundaries_provenance_md(sources=sources, communes=communes),
    }
    for rel, text in texts.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for rel, src in LICENCE_FILES.items():
        (root / rel).write_bytes(src.read_bytes())
