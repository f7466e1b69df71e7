"""Keymap files: where they are found, how they are checked, and that Textual really moves
the keys (a Pilot presses them) — with the help screen and the palette showing the result."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.app import App

from streamtui.tui.actions import ACTIONS, ActionCommands, HelpScreen, bindings, effective_keys
from streamtui.tui.keymap import (
    DOC_END,
    DOC_START,
    ENV_VAR,
    KeyNameError,
    check_keymap,
    find_keymap,
    keymap_paths,
    keymap_table,
    load_keymap,
    normalize_key,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "keymap.md"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home, config dir and working dir: the real ones are never read."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(work)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> tuple[dict[str, str], list[str], Path]:
    path = write(tmp_path / "keymap.toml", text)
    keymap, problems = load_keymap(path)
    return keymap, problems, path


# -- the file format -------------------------------------------------------------------


def test_a_good_file_maps_ids_to_normalized_keys(tmp_path: Path) -> None:
    keymap, problems, _ = problems_of(
        tmp_path,
        '# mine\n[keys]\nsearch = "ctrl+f, /"\nquit = "ctrl+q"\nhelp = "?"\n'
        'seek_end = "Shift+Ctrl+End"\n',
    )
    assert problems == []
    assert keymap == {
        "search": "ctrl+f,slash",
        "quit": "ctrl+q",
        "help": "question_mark",
        "seek_end": "ctrl+shift+end",
    }


def test_no_file_anywhere_means_the_default_keys() -> None:
    assert load_keymap() == ({}, [])


@pytest.mark.parametrize(
    ("key", "normal"),
    [
        ("ctrl+f", "ctrl+f"),
        ("f5", "f5"),
        ("F5", "f5"),
        ("slash", "slash"),
        ("/", "slash"),
        ("question_mark", "question_mark"),
        ("?", "question_mark"),
        ("G", "G"),
        ("g", "g"),
        (".", "full_stop"),
        ("space", "space"),
        ("shift+tab", "shift+tab"),
        ("alt+shift+g", "alt+shift+g"),
        ("ctrl+?", "ctrl+question_mark"),
        ("pagedown", "pagedown"),
    ],
)
def test_key_names_textual_accepts(key: str, normal: str) -> None:
    assert normalize_key(key) == normal


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("ctrl+ff", "'ff' is not a key name"),
        ("esc", "did you mean 'escape'?"),
        ("ctl+f", "did you mean 'ctrl'?"),
        ("ctrl+F", "write 'ctrl+f'"),
        ("shift+a", "write 'A'"),
        ("solidus", "is written 'slash'"),
        ("ctrl+", "the + key is 'plus'"),
        ("", "the , key is 'comma'"),
        ("ctrl+ctrl+a", "repeats 'ctrl'"),
    ],
)
def test_key_names_textual_would_never_send_are_refused(key: str, says: str) -> None:
    with pytest.raises(KeyNameError) as caught:
        normalize_key(key)
    assert says in str(caught.value)


# -- every validation message names the file, the line and the bad value -----------------


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    keymap, problems, path = problems_of(tmp_path, '[keys]\nsearch = "ctrl+f\n')
    assert keymap == {}
    [message] = problems
    assert message.startswith(f"{path}: not valid TOML")
    assert "line 2" in message and "using the default keys" in message


def test_unknown_top_level_tables_and_keys(tmp_path: Path) -> None:
    keymap, problems, path = problems_of(
        tmp_path, 'search = "x"\n[keys]\nquit = "ctrl+q"\n[colours]\nred = 1\n'
    )
    assert keymap == {"quit": "ctrl+q"}
    assert problems == [
        f"{path}:1: search = 'x' is outside [keys]: put it below [keys]",
        f"{path}:4: unknown table 'colours' (a keymap has only [keys])",
    ]


def test_keys_that_is_not_a_table(tmp_path: Path) -> None:
    _, problems, path = problems_of(tmp_path, 'keys = "ctrl+f"\n')
    assert problems == [f"{path}:1: keys = 'ctrl+f': write [keys] then action = \"key\" lines"]


def test_unknown_action_id_with_a_suggestion(tmp_path: Path) -> None:
    keymap, problems, path = problems_of(
        tmp_path, '[keys]\nserch = "ctrl+f"\nzzzzzz = "z"\nquit = "ctrl+q"\n'
    )
    assert keymap == {"quit": "ctrl+q"}
    assert problems[0] == f"{path}:2: unknown action 'serch' (did you mean 'search'?)"
    assert problems[1].startswith(f"{path}:3: unknown action 'zzzzzz' (actions: quit, help")


def test_a_value_that_is_not_a_string(tmp_path: Path) -> None:
    keymap, problems, path = problems_of(tmp_path, '[keys]\nhelp = ["h", "f1"]\nquit = 5\n')
    assert keymap == {}
    assert problems == [
        f"{path}:2: help = ['h', 'f1'] is not a string, write help = \"h,f1\"; help keeps ? / f1",
        f'{path}:3: quit = 5 is not a string, write quit = "ctrl+f"; quit keeps q',
    ]


def test_an_invalid_key_name_skips_the_whole_entry(tmp_path: Path) -> None:
    keymap, problems, path = problems_of(
        tmp_path, '[keys]\nsearch = "ctrl+f,ctrl+ff"\nquit = "ctrl+q"\n'
    )
    assert keymap == {"quit": "ctrl+q"}
    assert problems == [
        f"{path}:2: search = 'ctrl+f,ctrl+ff': 'ff' is not a key name; search keeps /"
    ]


def test_an_empty_value_does_not_unbind(tmp_path: Path) -> None:
    keymap, problems, path = problems_of(tmp_path, '[keys]\ncopy = ""\n')
    assert keymap == {}
    [message] = problems
    assert message.startswith(f"{path}:2: copy = '' names no key (unbinding is not supported")
    assert message.endswith("copy keeps c")


def test_reserved_keys(tmp_path: Path) -> None:
    _, problems, path = problems_of(tmp_path, '[keys]\nfilter = "ctrl+p"\n')
    assert problems == [
        f"{path}:2: filter = 'ctrl+p': ctrl+p opens the command palette; filter keeps f"
    ]


def test_a_key_given_to_two_actions_says_which(tmp_path: Path) -> None:
    keymap, problems, path = problems_of(
        tmp_path, '[keys]\nfollow = "z"\nmaximize = "z"\ninspect = "q"\n'
    )
    assert keymap == {"follow": "z"}
    assert problems == [
        f"{path}:3: maximize = 'z': z is also given to follow on line 2; maximize keeps m",
        f"{path}:4: inspect = 'q': q is already quit's key (remap quit too to swap them); "
        "inspect keeps Enter / i",
    ]


def test_two_actions_may_swap_keys_but_a_skipped_entry_undoes_its_swap(tmp_path: Path) -> None:
    keymap, problems, _ = problems_of(tmp_path, '[keys]\nsearch = "q"\nquit = "slash"\n')
    assert (keymap, problems) == ({"search": "q", "quit": "slash"}, [])
    # quit's entry is bad, so quit keeps q, so search cannot have it either.
    keymap, problems, path = problems_of(tmp_path, '[keys]\nsearch = "q"\nquit = "slash!"\n')
    assert keymap == {}
    assert problems[0].startswith(f"{path}:2: search = 'q': q is already quit's key")
    assert problems[1].startswith(f"{path}:3: quit = 'slash!': 'slash!' is not a key name")


def test_check_keymap_names_the_path_it_is_given() -> None:
    keymap, problems = check_keymap('[keys]\nsearch = "ctrl+f"\nquit = "nope"\n', Path("k.toml"))
    assert keymap == {"search": "ctrl+f"}
    assert problems == ["k.toml:3: quit = 'nope': 'nope' is not a key name; quit keeps q"]


def test_an_unreadable_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_bytes(b"[keys]\nsearch = \xff\n")
    keymap, [message] = load_keymap(path)
    assert keymap == {} and message.startswith(f"{path}: cannot be read")


# -- where the file is found ------------------------------------------------------------


def test_search_order(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home_file = write(isolated / "home" / ".config" / "streamtui" / "keymap.toml", "[keys]\n")
    assert find_keymap() == (home_file, [])
    xdg = isolated / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    assert find_keymap() == (None, [])  # XDG_CONFIG_HOME replaces ~/.config
    xdg_file = write(xdg / "streamtui" / "keymap.toml", "[keys]\n")
    assert find_keymap() == (xdg_file, [])
    project = write(isolated / "work" / ".streamtui" / "keymap.toml", "[keys]\n")
    assert find_keymap() == (project, [])
    from_env = write(isolated / "env.toml", "[keys]\n")
    monkeypatch.setenv(ENV_VAR, str(from_env))
    assert find_keymap() == (from_env, [])
    explicit = write(isolated / "explicit.toml", "[keys]\n")
    assert find_keymap(explicit) == (explicit, [])
    assert keymap_paths() == [project, xdg_file]


def test_a_missing_named_file_is_a_problem(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(isolated / "home" / ".config" / "streamtui" / "keymap.toml", '[keys]\nquit = "x"\n')
    missing = isolated / "nope.toml"
    keymap, [message] = load_keymap(missing)
    assert keymap == {}  # not silently replaced by the default file
    assert message == (
        f"{missing}: keymap file (from --keymap) does not exist; using the default keys"
    )
    monkeypatch.setenv(ENV_VAR, str(missing))
    keymap, [message] = load_keymap()
    assert keymap == {} and "(from $STREAMTUI_KEYMAP) does not exist" in message


def test_the_file_found_is_the_file_loaded(isolated: Path) -> None:
    write(isolated / "work" / ".streamtui" / "keymap.toml", '[keys]\nsearch = "ctrl+f"\n')
    assert load_keymap() == ({"search": "ctrl+f"}, [])


# -- Textual really moves the keys ------------------------------------------------------


class Host(App[None]):
    """The smallest app made from the action list, recording what ran."""

    BINDINGS = bindings()

    def __init__(self, keymap: dict[str, str]) -> None:
        super().__init__()
        self.keymap = keymap
        self.ran: list[str] = []

    def on_mount(self) -> None:
        self.set_keymap(self.keymap)

    def action_search(self) -> None:
        self.ran.append("search")

    async def action_quit(self) -> None:
        self.ran.append("quit")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())


def test_set_keymap_rebinds_the_actions_bindings(tmp_path: Path) -> None:
    keymap, problems, _ = problems_of(
        tmp_path, '[keys]\nsearch = "ctrl+f,f5"\nquit = "slash"\nhelp = "h"\n'
    )
    assert problems == []

    async def scenario() -> None:
        app = Host(keymap)
        async with app.run_test() as pilot:
            await pilot.press("ctrl+f")
            assert app.ran == ["search"]
            await pilot.press("f5")
            assert app.ran == ["search", "search"]
            await pilot.press("q")  # quit's old key: nothing
            assert app.ran == ["search", "search"]
            await pilot.press("slash")  # search's old key, now quit's
            assert app.ran == ["search", "search", "quit"]
            await pilot.press("question_mark")  # help's old key: nothing
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("h")
            assert isinstance(app.screen, HelpScreen)
            shown = str(app.screen.query_one("#keys").render())
            assert "ctrl+f / f5  Search the events" in shown
            assert "/  Quit" in shown
            await pilot.press("h")  # the remapped help key closes it too
            assert not isinstance(app.screen, HelpScreen)

    asyncio.run(scenario())


def test_the_app_help_screen_footer_and_palette_show_the_remapped_keys() -> None:
    from streamtui.tui.app import StreamApp
    from streamtui.tui.sources import ReplaySource

    async def scenario() -> None:
        app = StreamApp(ReplaySource([], speed=None), name="r")
        async with app.run_test(size=(120, 40)) as pilot:
            app.set_keymap({"search": "ctrl+f", "help": "f2"})
            await pilot.pause()
            footer_keys = {b.binding.key for b in app.screen.active_bindings.values()}
            assert "ctrl+f" in footer_keys and "slash" not in footer_keys
            await pilot.press("f2")
            assert isinstance(app.screen, HelpScreen)
            shown = str(app.screen.query_one("#keys").render())
            assert "ctrl+f  Search the events" in shown
            assert "f2  Show the keys" in shown
            await pilot.press("escape")
            provider = ActionCommands(app.screen)
            hits = [hit async for hit in provider.search("search the")]
            assert [h.help for h in hits] == ["key: ctrl+f"]

    asyncio.run(scenario())


def test_effective_keys_replace_the_defaults() -> None:
    search = next(a for a in ACTIONS if a.id == "search")
    assert effective_keys(search, {}) == "slash"
    assert effective_keys(search, {"search": "ctrl+f"}) == "ctrl+f"
    assert effective_keys(search, {"quit": "x"}) == "slash"


# -- the doc cannot drift from the action list ------------------------------------------


def test_the_doc_lists_every_action_with_its_default_keys() -> None:
    text = DOC.read_text("utf-8")
    table = text.split(DOC_START, 1)[1].split(DOC_END, 1)[0].strip()
    assert table == keymap_table(), "refresh it: python -m streamtui.tui.keymap docs/keymap.md"
    for action in ACTIONS:
        assert f"| `{action.id}` | `{action.keys}` |" in text
