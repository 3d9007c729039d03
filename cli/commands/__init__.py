"""Sub-commands of ``python -m analysis``; see :mod:`cli.main` for the protocol."""
