"""Vietnamese place-name normalisation for matching and search.

Matching tolerates case, diacritics, spacing and administrative prefixes
("xã", "phường", "thị trấn", "đặc khu", "ấp", "khóm", "thôn", "buôn", "P.").
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold_diacritics", "normalize_name", "strip_prefix", "PREFIXES"]

#: Administrative prefixes, longest first, already folded to ASCII lower case.
PREFIXES: tuple[str, ...] = (
    "thanh pho", "thi tran", "thi xa", "dac khu", "phuong", "huyen", "tinh", "quan",
    "khom", "buon", "thon", "ban", "xom", "to dan pho", "ap", "xa", "tp", "tt", "p", "x",
)

_PREFIX_RE = re.compile(r"^(?:" + "|".join(re.escape(p) for p in PREFIXES) + r")(?:\.\s*|\s+)")


def fold_diacritics(text: str) -> str:
    """Return ``text`` in lower case without Vietnamese diacritics ("Đức" -> "duc")."""
    decomposed = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.lower()


def strip_prefix(folded: str) -> str:
    """Remove one leading administrative prefix from an already folded name."""
    out = _PREFIX_RE.sub("", folded, count=1).strip()
    return out or folded


def normalize_name(text: str | None, *, drop_prefix: bool = True) -> str:
    """Fold a place name to a matching key.

    Parameters
    ----------
    text : str or None
        A name such as "Xã Long Đức", "P. 1" or "ấp  Chợ".
    drop_prefix : bool, default True
        Remove an administrative prefix ("xã", "ấp", "P."); numbers stay, so
        "Phường 1" and "P.1" both give "1".

    Returns
    -------
    str
        Lower-case ASCII words separated by single spaces ("" for None).
    """
    if text is None:
        return ""
    folded = fold_diacritics(text)
    folded = re.sub(r"[^0-9a-z.]+", " ", folded)
    folded = re.sub(r"\s+", " ", folded).strip()
    if drop_prefix:
        folded = strip_prefix(folded)
    folded = folded.replace(".", " ")
    folded = re.sub(r"\s+", " ", folded).strip()
    # leading zeros in numbered units: "Phường 01" == "Phường 1"
    return re.sub(r"\b0+(\d)", r"\1", folded)
