"""The command line: runs a chain file, and fails short and clear on user mistakes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from streamtui.cli import app

runner = CliRunner()


def write_app(tmp_path: Path, body: str, name: str = "app.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_run_streams_the_tokens(tmp_path):
    path = write_app(
        tmp_path,
        """
        from streamtui import ChatPromptTemplate, ScriptedChatModel, StrOutputParser
        INPUT = {"topic": "cats"}
        chain = (ChatPromptTemplate.from_template("about {topic}")
                 | ScriptedChatModel(["purr purr"]) | StrOutputParser())
    """,
    )
    result = runner.invoke(app, ["run", str(path), "--input", "topic=dogs"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("purr purr")


def test_named_target_and_json_inputs(tmp_path):
    path = write_app(
        tmp_path,
        """
        from streamtui import RunnableLambda, ScriptedChatModel
        model = ScriptedChatModel(["ok"])
        mine = RunnableLambda(lambda d: model.invoke(str(d["n"] + 1)))
    """,
    )
    result = runner.invoke(app, ["run", f"{path}:mine", "-i", "n=41"])
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout


def test_user_mistakes_exit_2_without_traceback(tmp_path):
    cases = [
        (["run", str(tmp_path / "missing.py")], "no such file"),
        (["run", str(write_app(tmp_path, "x = 1\n", "plain.py"))], "no runnable named"),
        (["run", str(write_app(tmp_path, "def broken(:\n", "broken.py"))], "syntax error"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert message in result.output
        assert "Traceback" not in result.output
    source = "from streamtui import RunnableLambda\nchain = RunnableLambda(str)\n"
    path = write_app(tmp_path, source, "ok.py")
    bad = runner.invoke(app, ["run", str(path), "--input", "novalue"])
    assert bad.exit_code == 2 and "key=value" in bad.output


def test_a_failing_run_is_reported_in_one_line(tmp_path):
    path = write_app(
        tmp_path,
        """
        from streamtui import ScriptedChatModel
        INPUT = "hello"
        chain = ScriptedChatModel(["a b c"], error_on_chunk=1)
    """,
    )
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert "ScriptedModelError" in result.output and "Traceback" not in result.output


def test_demo_runs_from_the_console_script():
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-m", "streamtui", "run", str(root / "demos" / "joke.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "Polly-ester" in out.stdout


def test_import_streamtui_stays_cheap():
    code = (
        "import sys, streamtui\n"
        "from streamtui import ChatPromptTemplate, ScriptedChatModel, StrOutputParser\n"
        "heavy = [m for m in ('textual', 'openai', 'anthropic', 'pydantic', 'typer', 'rich')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_while_loading_the_file_name_the_line(tmp_path):
    path = write_app(tmp_path, "import json\nimport not_a_module_anywhere\n", "imports.py")
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2: loading the file failed: ModuleNotFoundError" in result.output
    assert "Traceback" not in result.output


def test_dataclasses_work_in_the_loaded_file(tmp_path):
    path = write_app(
        tmp_path,
        """
        from __future__ import annotations
        from dataclasses import dataclass
        from streamtui import RunnableLambda

        @dataclass
        class Box:
            value: int

        INPUT = 3
        chain = RunnableLambda(lambda n: str(Box(n).value))
    """,
        "dc.py",
    )
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output


def test_a_root_llm_streams_its_text(tmp_path):
    path = write_app(
        tmp_path,
        """
        from streamtui import ScriptedLLM
        INPUT = "go"
        chain = ScriptedLLM(["to be or not"])
    """,
        "llm.py",
    )
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("to be or not")
