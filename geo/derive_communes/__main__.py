"""``python -m geo.derive_communes --out DIR`` (see :func:`geo.derive_communes.main`)."""

from geo.derive_communes.command import main

if __name__ == "__main__":
    raise SystemExit(main())
