"""The terminal UI. ``store`` and ``filters`` are Textual-free; the app imports Textual."""
