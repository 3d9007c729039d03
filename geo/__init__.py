"""Reading, validating and projecting PhuSong data packages (files -> frames)."""
