"""The README's Python examples run as shown, and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def _shown_output(code: str) -> list[str]:
    """The ``# ...`` comment lines that end a block: the output it promises."""
    lines = code.rstrip("\n").splitlines()
    shown: list[str] = []
    while lines and lines[-1].startswith("# "):
        shown.insert(0, lines.pop()[2:])
    return shown


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs_as_shown(code: str):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # dont_inherit: run the example as its own module, not under this file's __future__
        exec(compile(code, str(README), "exec", dont_inherit=True), {"__name__": "readme"})
    shown = _shown_output(code)
    if shown:
        assert out.getvalue().splitlines() == shown
    else:
        assert out.getvalue()  # every example prints something


YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
COMMANDS = [
    line.split("  #")[0].strip()
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    for line in block.splitlines()
    if line.startswith("streamtui ") and not line.rstrip().endswith("&")
]
MOCK_COMMANDS = [
    line
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    for line in block.splitlines()
    if "_BASE_URL=http://127.0.0.1:8765" in line
]


def test_readme_complete_chain_yaml_examples_load_and_run(tmp_path):
    from streamtui.spec import load_spec

    complete = [b for b in YAML_BLOCKS if b.startswith("name:")]
    assert complete
    for i, block in enumerate(complete):
        path = tmp_path / f"readme{i}.yaml"
        path.write_text(block)
        spec = load_spec(path)
        assert spec.target.invoke(spec.input)


def test_readme_commands_work_as_shown(tmp_path, monkeypatch):
    import shlex

    from typer.testing import CliRunner

    from streamtui.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "demos").symlink_to(README.parent / "demos")
    assert len(COMMANDS) >= 8
    runner = CliRunner()
    for command in COMMANDS:
        args = shlex.split(command.split(" > ")[0])[1:]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (command, result.output)


def test_readme_provider_demos_run_against_the_mock_server_as_shown(tmp_path, monkeypatch):
    import shlex

    from typer.testing import CliRunner

    from streamtui.cli import app
    from streamtui.testing import MockProviderServer

    monkeypatch.chdir(tmp_path)
    (tmp_path / "demos").symlink_to(README.parent / "demos")
    assert len(MOCK_COMMANDS) == 2
    with MockProviderServer() as server:
        for line in MOCK_COMMANDS:
            words = shlex.split(line.replace("127.0.0.1:8765", server.base_url.split("//")[1]))
            env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            args = [w for w in words if "=" not in w][1:]
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, (line, result.output)
            assert "mock server" in result.stdout
