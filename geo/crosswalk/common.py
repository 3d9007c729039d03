"""What every step of the crosswalk shares: the layouts, the weight bases, row numbering, codes."""

from __future__ import annotations

import math
import re
from typing import Literal

import pandas as pd

from geo.errors import Problem, SchemaError

OLD_LAYOUT = "2025-03"
"""The pre-reform layout (GSO list of 1 March 2025: 63 provinces, 10,047 communes)."""
NEW_LAYOUT = "2025-07"
"""The layout in force since 1 July 2025 (34 provinces, 3,321 communes, no districts)."""

Basis = Literal["whole", "households", "area", "equal"]
BASES: tuple[Basis, ...] = ("whole", "households", "area", "equal")
"""Weight bases, in order of preference for a split unit ("whole": the old unit is not split)."""

FIRST_DATA_ROW = 2
"""Row number of a table's first data row (the header is row 1, as a spreadsheet shows it)."""

FLOAT_RTOL = 1e-9
"""Relative tolerance of the total check of float (non-integer) columns."""


_CODE_RE = re.compile(r"^\d{1,5}(?:\.0*)?$")


def normalise_code(value: object) -> str:
    """Return a GSO commune code as a zero-padded 5-digit string ("" when empty).

    ``29263``, ``"29263"``, ``"29263.0"`` (a spreadsheet's number) and ``"0001"`` -> ``"00001"``;
    anything else is returned stripped, unchanged (and will not match a code).
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    if _CODE_RE.match(text):
        return text.split(".")[0].zfill(5)
    return text


def _row_label(pos: int, first_row: int) -> str:
    return f"row {pos + first_row}"


def _raise_schema(problems: list[Problem], head: str) -> None:
    if problems:
        raise SchemaError(head + "\n" + "\n".join(str(p) for p in problems))
