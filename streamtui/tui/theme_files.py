"""Themes from TOML files: the built-in ones beside this module, and the user's in
``~/.config/streamtui/themes`` or ``./themes``. Each file is checked when it is loaded; a
bad one is reported in one line (file, line, the bad value) and skipped, never fatal —
the app falls back to the default theme. Widgets take colours from theme variables only.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DEFAULT_THEME", "ThemeProblem", "load_theme", "load_themes", "theme_dirs"]

DEFAULT_THEME = "streamtui-dark"
BUILT_IN = Path(__file__).resolve().parent / "themes"
_COLOURS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "error",
    "warning",
    "success",
)
_KEYS = {"name", "dark", *_COLOURS}


@dataclass(frozen=True)
class ThemeProblem:
    """Why a theme file was skipped, in words a user can act on."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def theme_dirs() -> list[Path]:
    """Where themes are looked for, later ones overriding earlier ones by name."""
    return [BUILT_IN, Path.home() / ".config" / "streamtui" / "themes", Path.cwd() / "themes"]


def load_theme(path: Path) -> Theme | ThemeProblem:
    """One theme file, or why it cannot be used."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as e:
        return ThemeProblem(path, f"not valid TOML: {e}")
    except (OSError, UnicodeDecodeError) as e:
        return ThemeProblem(path, f"cannot be read: {e}")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        allowed = ", ".join(sorted(_KEYS))
        return ThemeProblem(path, f"unknown key {unknown[0]!r} (allowed: {allowed})")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        return ThemeProblem(path, 'needs name = "..."')
    if "primary" not in data:
        return ThemeProblem(path, 'needs primary = "#rrggbb" (the main colour)')
    if not isinstance(data.get("dark", True), bool):
        return ThemeProblem(path, f"dark = {data['dark']!r}: write true or false")
    for key in _COLOURS:
        if key in data:
            value = data[key]
            try:
                Color.parse(value)
            except (ColorParseError, TypeError, ValueError):
                return ThemeProblem(path, f'{key} = {value!r} is not a colour (e.g. "#5fafd7")')
    return Theme(**data)


def load_themes(dirs: list[Path] | None = None) -> tuple[dict[str, Theme], list[ThemeProblem]]:
    """Every usable theme by name, and the files that were skipped with why."""
    themes: dict[str, Theme] = {}
    problems: list[ThemeProblem] = []
    for folder in dirs if dirs is not None else theme_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            loaded = load_theme(path)
            if isinstance(loaded, ThemeProblem):
                problems.append(loaded)
            else:
                themes[loaded.name] = loaded
    return themes, problems
