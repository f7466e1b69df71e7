"""The command line: run, replay, validate, runs, schema; exit codes 0/1/2/130; short
errors without tracebacks; every run recorded unless told otherwise."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamtui.cli import app
from streamtui.eventlog import EventLog

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Runs record under the cwd's .streamtui/runs: keep them out of the repository."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)


def write(tmp_path: Path, body: str, name: str = "app.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


CHAIN = """
    from streamtui import ChatPromptTemplate, ScriptedChatModel, StrOutputParser
    INPUT = {"topic": "cats"}
    chain = (ChatPromptTemplate.from_template("about {topic}")
             | ScriptedChatModel(["purr purr"]) | StrOutputParser())
"""


def envelopes(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def recorded(tmp_path: Path) -> list[Path]:
    folder = tmp_path / ".streamtui" / "runs"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_run_prints_jsonl_envelopes_when_not_on_a_terminal_and_records_the_run(tmp_path):
    path = write(tmp_path, CHAIN)
    result = runner.invoke(app, ["run", str(path), "--input", "topic=dogs"])
    assert result.exit_code == 0, result.output
    parts = envelopes(result.stdout)
    assert [p["seq"] for p in parts] == list(range(1, len(parts) + 1))
    assert {tuple(p) for p in parts} == {("seq", "ts", "mode", "ns", "data")}
    assert parts[0]["data"]["data"] == {"input": {"topic": "dogs"}}
    tokens = [
        p["data"]["data"]["chunk"]["content"]
        for p in parts
        if p["data"]["event"] == "on_chat_model_stream"
    ]
    assert "".join(tokens) == "purr purr"
    [log_path] = recorded(tmp_path)
    log = EventLog.open(log_path)
    assert log.status == "done" and log.header["input"] == {"topic": "dogs"}
    assert log.header["spec"]["name"] == "app"
    assert len(log.parts) == len(parts) == log.footer["counts"]["parts"]
    assert (
        f"recorded {log_path.relative_to(tmp_path)}" in result.stderr
        or str(log_path.name) in result.stderr
    )


def test_pretty_format_is_a_readable_transcript(tmp_path):
    path = write(tmp_path, CHAIN)
    result = runner.invoke(app, ["run", str(path), "--no-tui", "--format", "pretty"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == '▶ RunnableSequence {"topic": "cats"}'
    assert "purr purr" in lines
    assert lines[-1] == "✓ RunnableSequence"
    assert "\x1b[" not in result.stdout  # not a terminal: no colour


def test_record_path_gzip_and_no_record(tmp_path):
    path = write(tmp_path, CHAIN)
    target = tmp_path / "logs" / "mine.jsonl.gz"
    assert runner.invoke(app, ["run", str(path), "--record", str(target)]).exit_code == 0
    assert EventLog.open(target).status == "done"
    assert recorded(tmp_path) == []
    assert runner.invoke(app, ["run", str(path), "--no-record"]).exit_code == 0
    assert recorded(tmp_path) == []
    both = runner.invoke(app, ["run", str(path), "--no-record", "--record", "x.jsonl"])
    assert both.exit_code == 2 and "contradict" in both.stderr


def test_input_json_merges_into_defaults_and_input_overrides_it(tmp_path):
    path = write(
        tmp_path,
        """
        from streamtui import RunnableLambda
        INPUT = {"a": 1, "b": 2}
        chain = RunnableLambda(lambda d: d)
    """,
    )
    result = runner.invoke(
        app, ["run", str(path), "--input-json", '{"b": 3, "c": [1]}', "-i", "a=10", "--no-record"]
    )
    assert result.exit_code == 0, result.output
    assert envelopes(result.stdout)[-1]["data"]["data"]["output"] == {"a": 10, "b": 3, "c": [1]}
    replaced = runner.invoke(app, ["run", str(path), "--input-json", '"text"', "--no-record"])
    assert envelopes(replaced.stdout)[-1]["data"]["data"]["output"] == "text"
    cannot = runner.invoke(app, ["run", str(path), "--input-json", '"text"', "-i", "a=1"])
    assert cannot.exit_code == 2 and "--input-json" in cannot.stderr


def test_replaying_headless_reproduces_the_same_parts(tmp_path):
    path = write(tmp_path, CHAIN)
    live = runner.invoke(app, ["run", str(path), "--no-tui"])
    again = runner.invoke(app, ["replay", "last", "--no-tui", "--speed", "max"])
    assert again.exit_code == 0, again.output
    assert again.stdout == live.stdout
    assert "replayed" in again.stderr and "(done)" in again.stderr


def test_replay_keeps_the_recorded_pace(tmp_path):
    path = write(
        tmp_path,
        """
        from streamtui import ScriptedChatModel
        INPUT = "go"
        chain = ScriptedChatModel(["a b c d e"], chunk_latency=0.05)
    """,
    )
    assert runner.invoke(app, ["run", str(path)]).exit_code == 0
    started = time.perf_counter()
    assert runner.invoke(app, ["replay", "last", "--speed", "2"]).exit_code == 0
    paced = time.perf_counter() - started
    started = time.perf_counter()
    assert runner.invoke(app, ["replay", "last", "--speed", "max"]).exit_code == 0
    assert paced > time.perf_counter() - started  # waits between parts; max does not


def test_a_failing_run_exits_1_with_one_line_and_a_complete_log(tmp_path):
    path = write(
        tmp_path,
        """
        from streamtui import ScriptedChatModel
        INPUT = "hello"
        chain = ScriptedChatModel(["a b c"], error_on_chunk=1)
    """,
    )
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 1
    assert (
        "the run failed: ScriptedModelError" in result.stderr and "Traceback" not in result.output
    )
    parts = envelopes(result.stdout)
    assert parts[-1]["data"]["event"] == "on_chat_model_error"
    [log_path] = recorded(tmp_path)
    log = EventLog.open(log_path)
    assert log.status == "error" and log.footer["error"]["type"] == "ScriptedModelError"
    assert len(log.parts) == len(parts)


def test_user_mistakes_exit_2_with_a_short_message_and_no_traceback(tmp_path):
    ok = write(
        tmp_path, "from streamtui import RunnableLambda\nchain = RunnableLambda(str)\n", "ok.py"
    )
    cases = [
        (["run", str(tmp_path / "missing.py")], "no such file"),
        (["run", str(tmp_path / "missing.yaml")], "no such file"),
        (["run", str(write(tmp_path, "x = 1\n", "plain.py"))], "no runnable named"),
        (["run", str(write(tmp_path, "def broken(:\n", "broken.py"))], "syntax error"),
        (
            ["run", str(write(tmp_path, "import json\nimport nowhere_to_be_found\n", "imp.py"))],
            "imp.py:2",
        ),
        (["run", str(write(tmp_path, "a: b\n", "notes.txt"))], "expected a .yaml"),
        (["run", str(write(tmp_path, "steps: [\n", "bad.yaml"))], "bad.yaml:"),
        (["run", str(ok), "--input", "novalue"], "key=value"),
        (["run", str(ok), "--input-json", "{nope"], "--input-json is not valid JSON"),
        (
            ["validate", str(write(tmp_path, "name: x\nstepz: []\n", "typo.yaml"))],
            "did you mean 'steps'",
        ),
        (["replay", str(tmp_path / "nothing.jsonl")], "no such log"),
        (["replay", "last"], "no recorded runs"),
        (["replay", str(ok), "--speed", "fast"], "--speed 'fast'"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
        assert len(result.stderr.splitlines()) <= 12


def test_validate_accepts_good_files(tmp_path):
    path = write(tmp_path, CHAIN)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "ok (runnable 'app')" in result.stdout
    joke = runner.invoke(app, ["validate", str(ROOT / "demos" / "joke.yaml")])
    assert joke.exit_code == 0, joke.output


def test_runs_lists_recordings(tmp_path):
    assert "no recorded runs" in runner.invoke(app, ["runs"]).stdout
    path = write(tmp_path, CHAIN)
    runner.invoke(app, ["run", str(path)])
    listing = runner.invoke(app, ["runs"]).stdout.splitlines()
    assert listing[0].split()[:6] == ["NAME", "STARTED", "DURATION", "STATUS", "PARTS", "TOKENS"]
    row = listing[1].split()
    assert row[0] == "app" and row[4] == "done"


def test_schema_prints_the_chain_yaml_json_schema():
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.stdout)
    assert schema["title"] == "streamtui chain.yaml"
    assert {"steps", "nodes", "edges", "entrypoint", "input", "stream"} <= set(schema["properties"])


def test_shell_completion_is_offered():
    assert "--install-completion" in runner.invoke(app, ["--help"]).stdout


def test_model_text_cannot_inject_terminal_escapes(tmp_path):
    path = write(
        tmp_path,
        r"""
        from streamtui import ScriptedChatModel
        INPUT = "hi"
        chain = ScriptedChatModel(["safe \x1b[31mred\x1b]0;title\x07 text"], chunking=1000)
    """,
    )
    result = runner.invoke(app, ["run", str(path), "-f", "pretty"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "safe [31mred]0;title text" in result.stdout


@pytest.mark.parametrize("fmt", ["jsonl", "pretty"])
def test_secrets_from_the_environment_never_reach_stdout_or_the_log(tmp_path, monkeypatch, fmt):
    secret = "hunter2-correct-horse"  # not shaped like a provider key: only the env rule applies
    monkeypatch.setenv("STREAMTUI_TEST_SECRET", secret)
    monkeypatch.setenv("STREAMTUI_TEST_TOKENS", "1024")
    path = write(
        tmp_path,
        """
        name: leaky
        input:
          topic: "${env:STREAMTUI_TEST_SECRET}"
          budget: "${env:STREAMTUI_TEST_TOKENS}"
        steps:
          - prompt: "repeat {topic} within {budget}"
          - model:
              responses: ["I will not repeat hunter2-correct-horse, not in 1024 words"]
        """,
        "leaky.yaml",
    )
    result = runner.invoke(app, ["run", str(path), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert secret not in result.stdout and "***" in result.stdout
    [log_path] = recorded(tmp_path)
    assert secret not in log_path.read_text()
    log = EventLog.open(log_path)  # a secret like "1024" never breaks the JSON around it
    assert log.problems() == [] and log.header["input"] == {"topic": "***", "budget": "***"}


def test_a_bad_file_never_shows_the_value_of_an_env_reference(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMTUI_TEST_SECRET", "hunter2-correct-horse")
    path = write(
        tmp_path,
        """
        steps:
          - model:
              chunk_latency: "${env:STREAMTUI_TEST_SECRET}"
        """,
        "typed.yaml",
    )
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2 and "typed.yaml:4:" in result.stderr
    assert "hunter2" not in result.stderr


def test_a_recorder_that_fails_mid_run_is_reported_and_exits_1(tmp_path, monkeypatch):
    from streamtui import eventlog

    real_write = eventlog.EventLogWriter.write
    calls = []

    def failing_write(self, parts):
        calls.append(len(parts))
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        real_write(self, parts)

    monkeypatch.setattr(eventlog.EventLogWriter, "write", failing_write)
    path = write(
        tmp_path,
        """
        from streamtui import ScriptedChatModel
        INPUT = "go"
        chain = ScriptedChatModel(["a b c d e f"], chunk_latency=0.01)
    """,
    )
    log_path = tmp_path / "full.jsonl"
    result = runner.invoke(app, ["run", str(path), "--record", str(log_path)])
    assert result.exit_code == 1
    assert "recording stopped (OSError" in result.stderr and "is incomplete" in result.stderr
    assert len(envelopes(result.stdout)) > len(EventLog.open(log_path).parts)  # stdout went on
    assert EventLog.open(log_path).footer["recorder_error"]["type"] == "OSError"


def test_system_exit_inside_the_run_is_a_failed_run(tmp_path):
    path = write(
        tmp_path,
        """
        import sys
        from streamtui import RunnableLambda
        INPUT = 1
        chain = RunnableLambda(lambda x: sys.exit(3))
    """,
    )
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 1 and "the run failed: SystemExit" in result.stderr
    [log_path] = recorded(tmp_path)
    assert EventLog.open(log_path).status == "error"


@pytest.mark.parametrize("fmt", ["jsonl", "pretty"])
def test_a_reader_that_goes_away_ends_quietly(tmp_path, fmt):
    path = write(
        tmp_path,
        """
        from streamtui import ScriptedChatModel
        INPUT = "go"
        chain = ScriptedChatModel(["word " * 3000], chunk_latency=0.0005)
    """,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtui", "run", str(path), "-f", fmt, "--no-record"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(200)
    proc.stdout.close()  # like `| head -c 200`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_demo_runs_from_the_console_script_in_a_real_process(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamtui",
            "run",
            str(ROOT / "demos" / "joke.py"),
            "--format",
            "pretty",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "Polly-ester" in out.stdout


def test_ctrl_c_stops_the_run_cleanly_and_keeps_the_log(tmp_path):
    path = write(
        tmp_path,
        """
        from streamtui import ScriptedChatModel
        INPUT = "go"
        chain = ScriptedChatModel(["word " * 5000], chunk_latency=0.002)
    """,
    )
    log_path = tmp_path / "stopped.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtui", "run", str(path), "--record", str(log_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not log_path.exists() or log_path.stat().st_size < 5000):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    log = EventLog.open(log_path)
    assert log.status == "interrupted" and not log.truncated
    assert [p.seq for p in log.parts] == list(range(1, len(log.parts) + 1))


def test_import_streamtui_stays_cheap():
    code = (
        "import sys, streamtui\n"
        "from streamtui import ChatPromptTemplate, ScriptedChatModel, StrOutputParser\n"
        "import streamtui.bus, streamtui.eventlog, streamtui.session\n"
        "heavy = ('textual', 'openai', 'anthropic', 'pydantic', 'typer', 'rich', 'yaml')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_root_llm_streams_its_text(tmp_path):
    path = write(
        tmp_path,
        """
        from streamtui import ScriptedLLM
        INPUT = "go"
        chain = ScriptedLLM(["to be or not"])
    """,
        "llm.py",
    )
    result = runner.invoke(app, ["run", str(path), "-f", "pretty"])
    assert result.exit_code == 0, result.output
    assert "to be or not" in result.stdout.splitlines()
