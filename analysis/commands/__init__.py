"""Sub-commands of ``python -m analysis``; see :mod:`analysis.cli` for the protocol."""
