"""Seeded generator for the bundled Trà Vinh data package.

The package has one real layer (the 2009 commune polygons with census population) and six layers
that no public source provides (hamlets, base stations, fibre nodes and routes, roads, survey).
``python -m datagen`` rebuilds the synthetic layers from a seed, byte for byte, and rewrites
``data/dataset.toml``. Each layer is produced by its own function so that a real import can replace
one layer at a time. ``python -m datagen --province vinh-long-2025 --out DIR`` writes the new Vĩnh Long
package (layout 2025-07) with the same layer functions (:mod:`datagen.vinh_long`). See ``docs/DATAGEN.md``.
"""

from __future__ import annotations

from datagen.params import GeneratorParams

__all__ = ["GeneratorParams"]
