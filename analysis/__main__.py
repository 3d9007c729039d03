"""``python -m analysis`` entry point, kept for the documented command name.

The CLI itself lives in the top-level package :mod:`cli` (an entry point like ``app.py``, which may
import ``layers``); this file only runs it and is never imported by the library.
"""

from cli.main import main

raise SystemExit(main())
