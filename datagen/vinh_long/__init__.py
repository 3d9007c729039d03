"""Generator of the new Vĩnh Long data package (province 86, layout "2025-07").

Since 1 July 2025 Trà Vinh (84) and Bến Tre (83) are part of Vĩnh Long (86). The package has one
real layer, the 124 new communes derived from the 2009 commune polygons by
:func:`geo.derive_communes.derive_communes`, and the six synthetic layers of the Trà Vinh generator
(hamlets, base stations, fibre nodes and routes, roads, survey), drawn with the same rules over the
three former provinces and calibrated per former province. ``python -m datagen --province
vinh-long-2025 --out DIR`` runs :func:`datagen.vinh_long.package.generate_vinh_long_package`; see
``docs/DATAGEN.md``.
"""

from __future__ import annotations
