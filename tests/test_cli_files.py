"""The command line over real files: every demo runs (exit 0, a complete log), and every
broken chain.yaml of the corpus exits 2 with a short message naming its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamtui.cli import app
from streamtui.eventlog import EventLog

ROOT = Path(__file__).resolve().parent.parent
DEMOS = sorted((ROOT / "demos").glob("*.yaml"))
BROKEN = sorted((ROOT / "tests" / "spec" / "broken").glob("*.yaml"))
runner = CliRunner()


@pytest.fixture(scope="module")
def mock_provider():
    from streamtui.testing import MockProviderServer

    with MockProviderServer() as server:
        yield server


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch, mock_provider):
    """Provider demos run unchanged against the mock server: only the base URLs (and a
    key) come from the environment, as the demos' comments show."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STREAMTUI_TEST_KEY", "sk-from-the-environment")
    monkeypatch.setenv("OPENAI_BASE_URL", mock_provider.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "mock")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", mock_provider.anthropic_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "mock")


@pytest.mark.parametrize("demo", DEMOS, ids=[p.stem for p in DEMOS])
def test_every_yaml_demo_runs_headless_and_is_recorded(demo: Path, tmp_path: Path):
    log_path = tmp_path / f"{demo.stem}.jsonl"
    result = runner.invoke(app, ["run", str(demo), "--no-tui", "--record", str(log_path)])
    assert result.exit_code == 0, result.output
    log = EventLog.open(log_path)
    assert log.status == "done" and log.problems() == []
    assert log.header["spec"]["name"] == demo.stem
    assert len(result.stdout.splitlines()) == len(log.parts) == log.footer["counts"]["parts"]
    assert log.parts[0].data["event"] == "on_chain_start"


def test_there_is_a_demo_of_each_kind():
    from streamtui.spec import load_spec

    kinds = {load_spec(p).kind for p in DEMOS}
    assert kinds == {"chain", "graph", "entrypoint"}


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_every_broken_file_exits_2_with_one_screen_naming_the_line(path: Path):
    line = int(re.match(r"#\s*expect:\s*(\d+):", path.read_text()).group(1))
    result = runner.invoke(app, ["run", str(path), "--no-tui"])
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert f"{path.name}:{line}:" in message.splitlines()[0]
    assert len(message.splitlines()) <= 12 and "Traceback" not in message
    assert result.stdout == ""
    assert not (Path.cwd() / ".streamtui").exists()  # nothing recorded for a bad file


def test_mock_server_refuses_anything_but_loopback():
    result = runner.invoke(app, ["mock-server", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2 and "loopback" in result.stderr


def test_mock_server_command_serves_both_providers_until_ctrl_c(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtui", "mock-server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first).group(0)
        from streamtui.models.anthropic import ChatAnthropic
        from streamtui.models.openai import ChatOpenAI

        assert ChatOpenAI("mock:text", api_key="k", base_url=f"{url}/v1").invoke("hi").text
        assert ChatAnthropic("mock:text", api_key="k", base_url=url).invoke("hi").text
    finally:
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
