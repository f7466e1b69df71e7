"""Every file under broken/ fails to load with a SpecError at the line and column its
first comment names, with the words it names, in one short screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from streamtui.spec import SpecError, load_spec

BROKEN = Path(__file__).resolve().parent / "broken"
FILES = sorted(BROKEN.glob("*.yaml"))
_EXPECT = re.compile(r"#\s*expect:\s*(\d+):(\d+)\s+(.*)")
ENV = {"STREAMTUI_TEST_KEY": "sk-from-the-environment"}


def expectation(path: Path) -> tuple[int, int, list[str]]:
    """``# expect: LINE:COL words ... more words`` from the file's first line."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = _EXPECT.match(first)
    assert match, f"{path.name}: the first line must be '# expect: LINE:COL words ...'"
    line, column, words = match.groups()
    return int(line), int(column), [w.strip() for w in words.split("...") if w.strip()]


def test_the_corpus_is_large_enough():
    assert len(FILES) >= 30


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_file_is_reported_where_its_comment_says(path: Path):
    line, column, words = expectation(path)
    with pytest.raises(SpecError) as caught:
        load_spec(path, env=ENV)
    error = caught.value
    shown = str(error)
    assert (error.line, error.column) == (line, column), shown
    for word in words:
        assert word in error.message, f"{word!r} not in: {shown}"
    assert error.path is not None and error.path.name == path.name, shown
    assert shown.startswith(f"{path}:{line}:{column}: "), shown
    assert len(shown.splitlines()) <= 12, shown
    assert "Traceback" not in shown
    # The offending line is shown with a caret under the column.
    lines = shown.splitlines()
    if line <= len(path.read_text(encoding="utf-8").splitlines()):
        assert lines[-2].startswith(f"{line:>5} | "), shown
        assert lines[-1].index("^") == len(f"{'':>5} | ") + column - 1, shown
