"""Users' own keys, from a TOML file keyed by action id (``[keys] search = "ctrl+f"``).

The file is checked when it is loaded, like the theme files: every bad entry (unknown
action, not a key name, a key already taken, ...) is reported in one line naming the file,
the line and the bad value, and skipped; the rest is applied. Nothing here raises — a
keymap can never stop the app from starting. The result is a Textual keymap (binding id ->
keys) for ``App.set_keymap``; the binding ids are the action ids (see ``actions.bindings``).
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from textual.keys import KEY_TO_UNICODE_NAME, REPLACED_KEYS, Keys, _character_to_key

from streamtui.tui.actions import ACTIONS, effective_keys, key_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "ENV_VAR",
    "KeyNameError",
    "check_keymap",
    "effective_keys",
    "find_keymap",
    "keymap_paths",
    "keymap_table",
    "load_keymap",
    "normalize_key",
    "normalize_keys",
    "update_doc",
]

ENV_VAR = "STREAMTUI_KEYMAP"
TABLE = "keys"
# Textual sorts the modifiers of the key events it makes, so a binding must list them in
# the same (alphabetical) order to ever match; normalize_key sorts them for the user.
MODIFIERS = ("alt", "ctrl", "hyper", "meta", "shift", "super")
# Keys the app needs whatever the keymap says: taking them would silently lose a feature.
RESERVED = {
    "ctrl+p": "opens the command palette",
    "ctrl+c": "copies selected text (and says how to quit)",
}


def _named_keys() -> frozenset[str]:
    """Key names Textual can produce that are not characters: f5, pageup, escape, ..."""
    names = {key.value.rpartition("+")[2] for key in Keys}
    try:  # the kitty keyboard protocol's extra keys (media keys, keypad, ...)
        from textual._keyboard_protocol import FUNCTIONAL_KEYS

        names.update(FUNCTIONAL_KEYS.values())
    except ImportError:  # pragma: no cover - a Textual without it
        pass
    return frozenset(n for n in names if len(n) > 1 and n.isidentifier())


NAMED_KEYS = _named_keys()


class KeyNameError(ValueError):
    """A key name Textual would never send, with what to write instead."""


def _character_of(name: str) -> str | None:
    """The printable character a key name stands for ("slash" -> "/"), if it names one
    the way Textual does (so "solidus" is not accepted: Textual calls it "slash")."""
    unicode_name = KEY_TO_UNICODE_NAME.get(
        REPLACED_KEYS.get(name, name), REPLACED_KEYS.get(name, name)
    )
    try:
        char = unicodedata.lookup(unicode_name.replace("_", " "))
    except KeyError:
        return None
    if len(char) != 1 or not char.isprintable():
        return None
    return char if _character_to_key(char) == name else None


_COMMON_CHAR_NAMES = (
    "slash",
    "backslash",
    "question_mark",
    "exclamation_mark",
    "full_stop",
    "comma",
    "colon",
    "semicolon",
    "plus",
    "minus",
    "equals_sign",
    "less_than_sign",
    "greater_than_sign",
    "number_sign",
    "dollar_sign",
    "percent_sign",
    "ampersand",
    "asterisk",
    "apostrophe",
    "quotation_mark",
    "left_parenthesis",
    "right_parenthesis",
    "left_square_bracket",
    "right_square_bracket",
    "left_curly_bracket",
    "right_curly_bracket",
    "vertical_line",
    "tilde",
    "grave_accent",
    "circumflex_accent",
    "underscore",
    "at",
)


def _base_key(base: str) -> str:
    """The one key after the modifiers, as Textual names it."""
    if len(base) == 1:
        return _character_to_key(base)
    lowered = base.lower()
    if lowered in NAMED_KEYS or _character_of(lowered):
        return lowered
    try:  # a character's Unicode name, which Textual spells differently ("solidus")
        char = unicodedata.lookup(base.replace("_", " "))
    except KeyError:
        char = ""
    if len(char) == 1 and char.isprintable():
        raise KeyNameError(f"{base!r} is written {_character_to_key(char)!r}")
    known = sorted(NAMED_KEYS | {n for n in _COMMON_CHAR_NAMES if _character_of(n)})
    close = difflib.get_close_matches(lowered, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise KeyNameError(f"{base!r} is not a key name{hint}")


def normalize_key(key: str) -> str:
    """One key as Textual names it in key events ("?" -> "question_mark", "Ctrl+F5" ->
    "ctrl+f5"), or KeyNameError saying what to write: a key Textual never sends would
    bind without error and then silently never fire."""
    key = key.strip()
    if not key:
        raise KeyNameError("an empty key (the , key is 'comma', the space bar 'space')")
    if len(key) == 1:
        return _character_to_key(key)
    *mods, base = key.split("+")
    if not base:
        raise KeyNameError(f"{key!r} ends in '+' (the + key is 'plus')")
    modifiers: set[str] = set()
    for mod in mods:
        name = mod.strip().lower()
        if name not in MODIFIERS:
            close = difflib.get_close_matches(name, MODIFIERS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            allowed = ", ".join(MODIFIERS)
            raise KeyNameError(f"{mod!r} is not a modifier{hint}; modifiers: {allowed}")
        if name in modifiers:
            raise KeyNameError(f"{key!r} repeats {name!r}")
        modifiers.add(name)
    base = base.strip()
    mods_text = "+".join(sorted(modifiers))
    if len(base) == 1 and base.isalpha() and base.isupper() and modifiers != {"shift"}:
        # Textual names a modified letter in lower case, adding shift+ for Shift.
        lower = f"{mods_text}+{base.lower()}"
        extra = "" if "shift" in modifiers else " (add shift+ for Shift)"
        raise KeyNameError(f"{key!r}: write {lower!r}{extra}")
    base_key = _base_key(base)
    if modifiers == {"shift"}:
        char = base_key if len(base_key) == 1 else _character_of(base_key)
        if char is not None and not char.isspace():
            # The terminal sends the shifted character itself: "A", not "shift+a".
            instead = repr(char.upper()) if char.isalpha() else "the character Shift makes"
            raise KeyNameError(f"{key!r} never arrives: write {instead} instead")
    return f"{mods_text}+{base_key}" if modifiers else base_key


def normalize_keys(keys: str) -> str:
    """A comma-separated list of keys, each normalized, duplicates dropped."""
    seen: dict[str, None] = {}
    for key in keys.split(","):
        seen[normalize_key(key)] = None
    return ",".join(seen)


def keymap_paths() -> list[Path]:
    """The default places for a keymap, first found wins: the project's, then the user's."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return [
        Path.cwd() / ".streamtui" / "keymap.toml",
        Path(config).expanduser() / "streamtui" / "keymap.toml",
    ]


def find_keymap(path: Path | None = None) -> tuple[Path | None, list[str]]:
    """The keymap file to use, or None for the default keys. A file the user named (with
    --keymap or $STREAMTUI_KEYMAP) must exist — saying nothing would hide a typo — while
    the default places are simply skipped when empty."""
    named, source = (path, "--keymap") if path is not None else (None, "")
    if named is None and os.environ.get(ENV_VAR):
        named, source = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    if named is not None:
        named = named.expanduser()
        if named.is_file():
            return named, []
        why = "is a directory" if named.is_dir() else "does not exist"
        return None, [f"{named}: keymap file (from {source}) {why}; using the default keys"]
    for candidate in keymap_paths():
        if candidate.is_file():
            return candidate, []
    return None, []


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-]+)\s*=""")


def _line_of(text: str, table: str | None, name: str) -> int | None:
    """The line defining ``name`` (in ``[table]``, or at the top when table is None), for
    the message — tomllib gives lines for syntax errors only."""
    current: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if header := _HEADER.match(line):
            current = header.group(1).strip().strip("\"'")
            if table is None and current.split(".")[0] == name:
                return number
            continue
        if key := _KEY.match(line):
            parts = [p.strip().strip("\"'") for p in key.group(1).split(".")]
            if table is None and current is None and parts[0] == name:
                return number
            if table is not None and current == table and parts[0] == name:
                return number
            if table is not None and current is None and parts[:2] == [table, name]:
                return number
    return None


def check_keymap(text: str, path: Path) -> tuple[dict[str, str], list[str]]:
    """A keymap's usable entries (action id -> normalized keys) and, in line order, why
    each other entry was skipped. ``path`` only names the file in the messages."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return {}, [f"{path}: not valid TOML: {e}; using the default keys"]
    by_id = {action.id: action for action in ACTIONS}
    found: list[tuple[int, str]] = []

    def problem(table: str | None, name: str, message: str) -> None:
        line = _line_of(text, table, name)
        found.append((line or 0, f"{path}:{line}: {message}" if line else f"{path}: {message}"))

    def keeps(action_id: str) -> str:
        return f"{action_id} keeps {key_names(by_id[action_id].keys)}"

    for name, value in data.items():
        if name == TABLE:
            continue
        if name in by_id:
            problem(None, name, f"{name} = {value!r} is outside [{TABLE}]: put it below [{TABLE}]")
        else:
            kind = "table" if isinstance(value, dict) else "key"
            problem(None, name, f"unknown {kind} {name!r} (a keymap has only [{TABLE}])")
    table = data.get(TABLE, {})
    if not isinstance(table, dict):
        problem(None, TABLE, f'{TABLE} = {table!r}: write [{TABLE}] then action = "key" lines')
        table = {}

    wanted: dict[str, str] = {}
    for action_id, value in table.items():
        if action_id not in by_id:
            close = difflib.get_close_matches(action_id, list(by_id), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "actions: " + ", ".join(by_id)
            problem(TABLE, action_id, f"unknown action {action_id!r} ({hint})")
            continue
        bad = f"{action_id} = {value!r}"
        if not isinstance(value, str):
            strings = isinstance(value, list) and all(isinstance(v, str) for v in value)
            example = ",".join(value) if strings else "ctrl+f"
            problem(
                TABLE,
                action_id,
                f'{bad} is not a string, write {action_id} = "{example}"; {keeps(action_id)}',
            )
            continue
        if not value.strip():
            problem(
                TABLE,
                action_id,
                f"{bad} names no key (unbinding is not supported; the command palette has "
                f"every action); {keeps(action_id)}",
            )
            continue
        try:
            keys = normalize_keys(value)
        except KeyNameError as e:
            problem(TABLE, action_id, f"{bad}: {e}; {keeps(action_id)}")
            continue
        reserved = next((k for k in keys.split(",") if k in RESERVED), None)
        if reserved is not None:
            why = f"{reserved} {RESERVED[reserved]}"
            problem(TABLE, action_id, f"{bad}: {why}; {keeps(action_id)}")
            continue
        wanted[action_id] = keys

    # A key may belong to one action only. An entry whose key is still another action's
    # (its default, or an earlier entry's) is skipped; skipping it gives its action back
    # its default keys, which may clash in turn, so repeat until nothing clashes. Only the
    # keys in effect after remapping count, so two entries may swap keys.
    while clash := _first_clash(wanted):
        loser, key, holder = clash
        if holder in wanted:
            line = _line_of(text, TABLE, holder)
            why = f"{key} is also given to {holder}" + (f" on line {line}" if line else "")
        else:
            why = f"{key} is already {holder}'s key (remap {holder} too to swap them)"
        problem(TABLE, loser, f"{loser} = {table[loser]!r}: {why}; {keeps(loser)}")
        del wanted[loser]
    return wanted, [message for _, message in sorted(found, key=lambda f: f[0])]


def _first_clash(wanted: dict[str, str]) -> tuple[str, str, str] | None:
    """(action, key, the action that has the key already), or None. Actions keeping
    their defaults claim their keys first, then the entries in file order."""
    by_id = {action.id: action for action in ACTIONS}
    ranked = [a.id for a in ACTIONS if a.id not in wanted] + list(wanted)
    owner: dict[str, str] = {}
    for action_id in ranked:
        for key in effective_keys(by_id[action_id], wanted).split(","):
            if owner.setdefault(key, action_id) != action_id:
                return action_id, key, owner[key]
    return None


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The keymap to hand to ``App.set_keymap`` (binding id -> keys) and the problems to
    show the user; ``path`` is --keymap's. Empty keymap and no problems when there is no
    file: the default keys are then used."""
    found, problems = find_keymap(path)
    if found is None:
        return {}, problems
    try:
        text = found.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return {}, [f"{found}: cannot be read: {e}; using the default keys"]
    return check_keymap(text, found)


DOC_START = "<!-- actions:start -->"
DOC_END = "<!-- actions:end -->"


def keymap_table() -> str:
    """The action ids and their default keys as a Markdown table, for docs/keymap.md (a
    test checks the doc holds exactly this, so the doc cannot drift from ACTIONS)."""
    rows = ["| action id | default keys | what it does |", "| --- | --- | --- |"]
    for action in ACTIONS:
        words = action.description.replace("|", "\\|")
        rows.append(f"| `{action.id}` | `{action.keys}` | {words} |")
    return "\n".join(rows)


def update_doc(path: Path) -> bool:
    """Rewrite the table between the markers in ``path``; True if it changed."""
    text = path.read_text("utf-8")
    head, _, rest = text.partition(DOC_START)
    _, _, tail = rest.partition(DOC_END)
    new = f"{head}{DOC_START}\n{keymap_table()}\n{DOC_END}{tail}"
    if new != text:
        path.write_text(new, "utf-8")
    return new != text


if __name__ == "__main__":  # python -m streamtui.tui.keymap docs/keymap.md
    for name in sys.argv[1:]:
        print(f"{name}: {'updated' if update_doc(Path(name)) else 'up to date'}")
