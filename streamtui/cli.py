"""The ``streamtui`` command (placeholder until the CLI lands)."""


def main() -> None:
    raise SystemExit("streamtui: the command line is not built yet")
