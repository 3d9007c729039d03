"""One lock for every parallel compiled kernel (coverage and terrain).

numba's default "workqueue" threading layer must not be entered from two threads at once, whichever
kernel each thread runs (the Streamlit app serves users in threads), so the kernels share this lock.
"""

from __future__ import annotations

import threading

__all__ = ["KERNEL_LOCK"]

KERNEL_LOCK = threading.Lock()
"""Held for the whole call of a parallel compiled kernel."""
