"""Mangled versions of the demos and the broken corpus either load or fail with a short
SpecError that has a line — never another exception (a traceback for the user)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from streamtui.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "demos").glob("*.yaml")) + sorted(
    (Path(__file__).parent / "broken").glob("*.yaml")
)
TOKENS = [
    "1",
    "-1",
    "null",
    "[]",
    "{}",
    "[a, b]",
    "{a: 1}",
    "true",
    '"x"',
    "END",
    "START",
    "state['x']",
    "${env:X}",
    ":",
    "- ",
    "  ",
    "x: y",
    "*a",
    "&a b",
    "'",
    "{",
]


def mutate(rng: random.Random, lines: list[str]) -> list[str]:
    lines = list(lines)
    for _ in range(rng.randint(1, 3)):
        if not lines:
            break
        j = rng.randrange(len(lines))
        op = rng.random()
        if op < 0.25:
            del lines[j]
        elif op < 0.5:
            lines.insert(j, lines[rng.randrange(len(lines))])
        elif op < 0.75:
            words = lines[j].split(" ")
            words[rng.randrange(len(words))] = rng.choice(TOKENS)
            lines[j] = " ".join(words)
        else:
            lines[j] = " " * rng.randint(0, 6) + lines[j].lstrip()
    return lines


def test_mutated_specs_fail_only_with_spec_errors(tmp_path):
    for helper in ("demo_nodes.py", "demo_helpers.py"):
        shutil.copy(ROOT / "demos" / helper, tmp_path / helper)
    shutil.copy(Path(__file__).parent / "broken" / "broken_helpers.py", tmp_path)
    rng = random.Random(1234)
    texts = [p.read_text(encoding="utf-8").splitlines() for p in SOURCES]
    failures = 0
    for i in range(400):
        path = tmp_path / f"m{i}.yaml"
        path.write_text("\n".join(mutate(rng, rng.choice(texts))) + "\n", encoding="utf-8")
        try:
            load_spec(path, env={"X": "value"})
        except SpecError as e:
            failures += 1
            shown = str(e)
            assert e.line is not None, shown
            assert len(shown.splitlines()) <= 12 and "Traceback" not in shown, shown
    assert failures > 100  # the mutations do break things
