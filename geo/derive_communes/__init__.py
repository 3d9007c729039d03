"""Derive polygons of the 124 communes of the new Vĩnh Long (86) from 2009 commune polygons.

No public geometry of the communes created on 1 July 2025 exists. The new Vĩnh Long is the union of
the former provinces Bến Tre (83), Trà Vinh (84) and Vĩnh Long (86), whose 2009 commune polygons
ship in ``geo/reference/communes_2009/`` (censusVN2009, MIT). The derivation:

1. **Match** every 2009 polygon ("piece") to its pre-reform (2025-03) GSO code, in this order:

   * ``manual``: a row of ``manual_matches.csv`` (province, 2009 district, 2009 commune -> code),
     each with the legal change it rests on (mergers 2019–2024, new towns, spellings);
   * ``code``: the source's own best-effort code ``gso_ma_xa`` (commune + district name matched);
   * ``name``: equal normalised name (:func:`geo.names.normalize_name`) among the pre-reform
     communes of the province that no other piece claimed, kept only if the code is nearest to the
     code range of the pieces of the same 2009 district matched by ``code`` (among the ranges of the
     province's districts): GSO numbers communes by district and keeps the number when a commune
     moves district, and the old → new mapping has no district names. A tie is broken by the unit
     type (xã / phường / thị trấn).

   A piece matched by none is reported (with the reason) and allocated as below.
2. **Dissolve** through the old → new mapping (:func:`geo.admin_units.load_old_to_new`): a piece
   whose old code(s) feed one new commune goes to it whole.
3. **Split** (rule :data:`SPLIT_RULE`): a piece whose old code feeds two new communes (``n_targets
   = 2``; the split line is not published) is divided so that every point goes to the target whose
   *whole* parts (pieces feeding only that target) are nearest — a Voronoi diagram of the targets'
   outlines (:func:`split_by_nearest_parts`). A piece with no code (merged 2019–2024 into a
   neighbour that the sources do not name) is allocated the same way among the new communes of its
   matched neighbours in the same 2009 district (one candidate: whole). Every new commune receiving
   such a part carries a ``geometry_note``.

Holes smaller than :data:`MAX_GAP_FILL_M2` inside a new commune that no other commune covers are
gaps between the generalised source polygons and are filled. Areas are computed in
:data:`METRIC_CRS` (UTM 48N). 2009 population of a divided piece is allocated
by area share (largest remainder, so totals are kept exactly). Overlaps between source polygons
(the low-resolution layer overlaps by ~0.4 % of its area) are kept as they are and measured.

Run ``python -m geo.derive_communes --out DIR`` to write ``DIR/communes_2025.geojson`` and
``DIR/old_unit_parts.csv`` and print the report.

Submodules
----------
``common``
    The constants: source files, province codes, :data:`METRIC_CRS`, the split rule's parameters,
    :data:`OUTPUT_COLUMNS` and :data:`PARTS_COLUMNS`.
``sources``
    :func:`load_communes_2009` and :func:`load_manual_matches` (the only reading of files).
``matching``
    :func:`match_pieces` (step 1).
``splitting``
    :func:`split_by_nearest_parts` (the split rule) and :func:`allocate_pieces` (steps 2 and 3).
``assemble``
    :func:`derive_communes`: dissolve, :func:`fill_small_gaps`, :func:`overlap_area_m2`, notes.
``report``
    :class:`Derivation`, :class:`DerivationReport`, :func:`format_report`, :func:`write_outputs`.
``command``
    :func:`main`, run by ``__main__``.

Import from ``geo.derive_communes`` (the names below); the submodules are its implementation.
"""

from __future__ import annotations

from geo.derive_communes.assemble import derive_communes, fill_small_gaps, overlap_area_m2
from geo.derive_communes.command import main
from geo.derive_communes.common import (
    FORMER_PROVINCES,
    METRIC_CRS,
    NEW_PROVINCE_CODE,
    OUTPUT_COLUMNS,
    PARTS_COLUMNS,
    REFERENCE_DIR,
    SPLIT_RULE,
)
from geo.derive_communes.common import GRID_DEG as GRID_DEG
from geo.derive_communes.common import MANUAL_MATCHES_FILE as MANUAL_MATCHES_FILE
from geo.derive_communes.common import MAX_GAP_FILL_M2 as MAX_GAP_FILL_M2
from geo.derive_communes.common import MIN_SHARED_BORDER_M as MIN_SHARED_BORDER_M
from geo.derive_communes.common import NEIGHBOUR_TOLERANCE_M as NEIGHBOUR_TOLERANCE_M
from geo.derive_communes.common import NEW_PROVINCE_NAME as NEW_PROVINCE_NAME
from geo.derive_communes.common import SEED_SPACING_M as SEED_SPACING_M
from geo.derive_communes.common import SOURCE_FILES as SOURCE_FILES
from geo.derive_communes.matching import match_pieces
from geo.derive_communes.report import Derivation, DerivationReport, format_report, write_outputs
from geo.derive_communes.sources import load_communes_2009, load_manual_matches
from geo.derive_communes.splitting import allocate_pieces, split_by_nearest_parts

__all__ = [
    "METRIC_CRS",
    "NEW_PROVINCE_CODE",
    "FORMER_PROVINCES",
    "REFERENCE_DIR",
    "SPLIT_RULE",
    "DerivationReport",
    "Derivation",
    "load_communes_2009",
    "load_manual_matches",
    "match_pieces",
    "split_by_nearest_parts",
    "allocate_pieces",
    "fill_small_gaps",
    "OUTPUT_COLUMNS",
    "PARTS_COLUMNS",
    "derive_communes",
    "overlap_area_m2",
    "format_report",
    "write_outputs",
    "main",
]
