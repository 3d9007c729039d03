"""Plausible hamlet names: Vietnamese ấp names, Khmer-origin ấp names, numbered khóm."""

from __future__ import annotations

import numpy as np

VIET_NAMES: tuple[str, ...] = (
    "Chợ",
    "Phố",
    "Giồng Lức",
    "Giồng Trôm",
    "Giồng Ké",
    "Long Bình",
    "Tân Thành",
    "Tân Lập",
    "Tân Hiệp",
    "Phú Hòa",
    "Phú Thạnh",
    "Mỹ Thạnh",
    "Hòa Lạc",
    "An Định",
    "Đại Mông",
    "Bà Trầm",
    "Kinh Xáng",
    "Rạch Lợp",
    "Bến Đáy",
    "Vàm Ray",
    "Cây Xoài",
    "Cây Gòn",
    "Bờ Kinh",
    "Mé Rạch",
    "Cái Cối",
    "Nhà Thờ",
    "Đầu Giồng",
    "Ninh Bình",
    "Long Hiệp",
    "Vĩnh Hưng",
    "Thanh Trì",
    "Láng Khoét",
    "Kinh Lớn",
    "Rạch Giồng",
    "Lộ Sứ",
    "Đồng Khoen",
    "Rạch Gốc",
    "Cà Hom",
    "Sa Bình",
    "Thạnh Trị",
    "Long Khánh",
    "Định Bình",
    "Phú Khánh",
    "Hiệp Lợi",
    "Bình Hòa",
    "An Bình",
    "Mỹ Hiệp",
    "Hưng Nhơn",
    "Tân Qui",
    "Đa Cần",
    "Cây Dương",
    "Rạch Bót",
    "Bến Cát",
    "Cầu Tre",
    "Trường Bắc",
    "Trường Lộc",
    "Phước Lợi",
    "Phước Hòa",
    "Chợ Cũ",
    "Vĩnh Lợi",
    "Sóc Tràm",
    "Đình",
    "Bãi Vàng",
)
"""Vietnamese hamlet name stems typical of the Mekong delta (used without the "Ấp " prefix)."""

KHMER_NAMES: tuple[str, ...] = (
    "Sóc Chuối",
    "Ô Rồm",
    "Trà Sất",
    "Sóc Cụt",
    "Chông Bát",
    "Trà Tro",
    "Sà Vần",
    "Ô Đùng",
    "Cà Săng",
    "Ba Se",
    "Trà Kim",
    "Chà Dư",
    "Sóc Tro",
    "Ô Chát",
    "Sóc Xoài",
    "Trà Mềm",
    "Lò Ngò",
    "Ô Tre Lớn",
    "Ô Tre Nhỏ",
    "Cà Tum",
    "Sóc Ruộng",
    "Trà Ốp",
    "Pho Pháp",
    "Bưng Lớn",
    "Sóc Mới",
    "Trà Cuôn",
    "Tha La",
    "Kỳ La",
    "Ô Răng",
    "Ca Lạc",
    "Xà Lôn",
    "Sóc Dừa",
    "Cần Chông",
    "Ô Mịch",
    "Sà Rây",
    "Sóc Thát",
    "Rùm Sóc",
    "Tà Rom",
    "Tà Lọt",
    "Sóc Ớt",
    "Bích Trì",
    "Ba Cụm",
    "Srây Ôm",
    "Trà Uôn",
)
"""Khmer-origin hamlet name stems (Sóc = village, Ô = stream, Trà = from Khmer "Tra")."""

COASTAL_NAMES: tuple[str, ...] = (
    "Cồn Cù",
    "Cồn Tàu",
    "Cồn Trứng",
    "Bào",
    "Mù U",
    "Bến Chùa",
    "Hồ Thùng",
    "Cồn Ông",
    "Ba Động",
    "Bãi Xan",
    "Nhà Mát",
    "Láng Cháo",
    "Cồn Nhàn",
    "Giồng Giếng",
)
"""Coastal (Duyên Hải, Cầu Ngang sea side) hamlet name stems."""

NUMBERED_SHARE = 0.15
"""Share of rural communes whose hamlets are simply numbered ("Ấp 1", "Ấp 2", ...)."""


def hamlet_names(
    n: int,
    *,
    urban: bool,
    khmer_shares: np.ndarray,
    coastal: bool,
    rng: np.random.Generator,
) -> list[str]:
    """Return ``n`` distinct hamlet names for one commune.

    Parameters
    ----------
    n
        Number of hamlets.
    urban
        Wards and townships (phường, thị trấn) have "Khóm 1" … "Khóm n".
    khmer_shares
        Each hamlet's Khmer share (0–1): the probability that its name is Khmer-origin.
    coastal
        Whether coastal names are in the pool.
    rng
        Random generator.

    Returns
    -------
    list of str
        Names with their prefix ("Ấp Sóc Chuối", "Khóm 3"); the first is the commune centre.
    """
    if urban:
        return [f"Khóm {i}" for i in range(1, n + 1)]
    if rng.random() < NUMBERED_SHARE:
        return [f"Ấp {i}" for i in range(1, n + 1)]
    names: list[str] = ["Ấp Chợ" if rng.random() < 0.5 else f"Ấp {rng.choice(VIET_NAMES[5:20])}"]
    while len(names) < n:
        pool = KHMER_NAMES if rng.random() < float(khmer_shares[len(names)]) else VIET_NAMES
        if coastal and rng.random() < 0.35:
            pool = COASTAL_NAMES
        name = f"Ấp {pool[int(rng.integers(len(pool)))]}"
        if name in names:
            name = name_variant(name, names)
        names.append(name)
    return names


def name_variant(name: str, taken: list[str]) -> str:
    """Return ``name`` with a suffix "A", "B", … or a number that is not in ``taken``."""
    for suffix in ("A", "B", "C", "Trên", "Dưới", "Mới"):
        cand = f"{name} {suffix}"
        if cand not in taken:
            return cand
    i = 2
    while f"{name} {i}" in taken:
        i += 1
    return f"{name} {i}"
