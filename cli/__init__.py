"""PhuSong's headless command line (``python -m cli`` or, as documented, ``python -m analysis``).

An entry point like ``app.py``: it may import ``geo``, ``analysis`` and ``layers``; none of those
imports it.
"""
