"""``python -m cli`` entry point (same as ``python -m analysis``)."""

from cli.main import main

raise SystemExit(main())
