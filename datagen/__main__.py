"""``python -m datagen``: rebuild the bundled data package from a seed."""

from __future__ import annotations

import sys

from datagen.cli import main

if __name__ == "__main__":
    sys.exit(main())
