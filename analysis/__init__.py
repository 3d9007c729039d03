"""Coverage, fibre-reach and gap analysis over PhuSong data packages (pure; no I/O, no UI)."""
