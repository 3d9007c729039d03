"""Independent, reproducible random streams per layer."""

from __future__ import annotations

import zlib

import numpy as np


def layer_rng(seed: int, layer: str) -> np.random.Generator:
    """Return ``numpy.random.default_rng`` seeded from ``(seed, crc32(layer))``.

    Each layer draws from its own stream, so replacing one layer by real data (or changing how
    one layer is drawn) leaves the random draws of the other layers unchanged.
    """
    return np.random.default_rng([int(seed), zlib.crc32(layer.encode("utf-8"))])
