"""Commune codes and names against the official list of the package's layout (private to
:mod:`geo.validate`).

The official lists are those shipped in ``geo/reference/admin_codes`` (:mod:`geo.admin_units`):
the 3,321 communes of the July-2025 layout and the 10,047 pre-reform communes of the old → new
mapping. Findings are warnings: a package with an unofficial code or name is still usable, but the
user learns which row to fix and what the official name is.

* ``2025-07`` and ``2025-03``: a ``commune_code`` not in the official list of the package's province,
  a name that differs (case, diacritics and prefixes ignored) from the official name of its code,
  and a commune with no code whose name is not an official name of the province.
* ``2009``: no official list of the 2009 layout ships (units merged since 2009 are legitimately
  absent from the pre-reform list), so only a ``commune_code``, where given, is checked against the
  pre-reform codes, and its name is not compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo._checks import DATASET_FILE, _Findings, _Layer
from geo.admin_units import nearest_official_name, normalise_name, official_units
from geo.errors import ParameterError


def _province_units(layout: str, province_code: str, found: _Findings) -> pd.DataFrame | None:
    """Official units of the package's province in its layout, or None (reported) when it has none."""
    try:
        return official_units(layout, province_code)
    except ParameterError:
        hint = (
            "the provinces changed on 1 July 2025: give the new province code (e.g. 86 for Vĩnh Long, "
            "which took in Trà Vinh 84 and Bến Tre 83), or name a pre-reform layout"
            if layout == "2025-07"
            else 'give the pre-reform GSO province code, or layout = "2025-07" for a new province'
        )
        found.add(
            "warning",
            DATASET_FILE,
            "province_code",
            f"province code {province_code!r} has no commune in the official list of layout {layout}",
            hint,
        )
        return None


def _did_you_mean(name: str, units: pd.DataFrame) -> str:
    nearest = nearest_official_name(name, units) if name else None
    if nearest is None:
        return "check the code against the official list (geo/reference/admin_codes)"
    code = units.loc[units["commune_name"] == nearest, "commune_code"].iloc[0]
    return f"did you mean {nearest} ({code})?"


def check_official_codes(communes: _Layer, layout: str, province_code: str, found: _Findings) -> None:
    """Warn on commune codes and names that are not in the official list of ``layout``.

    Parameters
    ----------
    communes
        The checked communes layer (``commune_code`` optional, ``commune_name`` required).
    layout
        The package's layout (one of :data:`geo.schema.LAYOUTS`).
    province_code
        ``province_code`` of ``dataset.toml`` (new code in 2025-07, pre-reform code otherwise).
    found
        Where findings go.
    """
    frame = communes.cleaned if communes.cleaned is not None else communes.frame
    if "commune_name" not in frame or not province_code:
        return
    units = _province_units(layout, province_code, found)
    if units is None:
        return
    names = frame["commune_name"].fillna("").astype(str).to_numpy()
    codes = (
        frame["commune_code"].fillna("").astype(str).str.strip().to_numpy()
        if "commune_code" in frame
        else np.full(len(frame), "", dtype=object)
    )
    official = dict(zip(units["commune_code"], units["commune_name"], strict=True))
    official_keys = {normalise_name(n) for n in units["commune_name"]}
    compare_names = layout != "2009"
    unknown_code, other_name, unknown_name = [], [], []
    for pos, (code, name) in enumerate(zip(codes, names, strict=True)):
        if code and code not in official:
            unknown_code.append(pos)
        elif code and compare_names and normalise_name(name) != normalise_name(official[code]):
            other_name.append(pos)
        elif not code and compare_names and name and normalise_name(name) not in official_keys:
            unknown_name.append(pos)
    where = f"province {province_code}, layout {layout}"
    found.rows(
        "warning",
        communes,
        unknown_code,
        lambda p: f"commune_code {codes[p]!r} is not an official commune code ({where})",
        lambda p: _did_you_mean(names[p], units),
    )
    found.rows(
        "warning",
        communes,
        other_name,
        lambda p: (
            f"commune_name {names[p]!r} is not the official name of code {codes[p]}: {official[codes[p]]!r}"
        ),
        "use the official name, or correct the code",
    )
    found.rows(
        "warning",
        communes,
        unknown_name,
        lambda p: f"commune_name {names[p]!r} is not an official commune name ({where})",
        lambda p: _did_you_mean(names[p], units),
    )
