"""load_spec as a whole: secrets from the environment, stream options, the JSON Schema,
YAML details, and how errors read."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamtui.spec import SpecError, StreamOptions, load_spec, spec_json_schema
from streamtui.spec.expr import ExpressionProblem, SafeExpression

ROOT = Path(__file__).resolve().parents[2]


def test_env_references_resolve_and_are_recorded_as_secrets(load, helper_module):
    spec = load(
        """
        input:
          greeting: "hello ${env:WHO}, from ${env:PLACE}"
          empty: "${env:BLANK}"
        steps:
          - model:
              responses: ["${env:REPLY}"]
        """,
        env={"WHO": "ada", "PLACE": "london", "REPLY": "secret reply", "BLANK": ""},
    )
    assert spec.input == {"greeting": "hello ada, from london", "empty": ""}
    assert spec.target.invoke("x").content == "secret reply"
    assert spec.secrets == frozenset({"ada", "london", "secret reply"})  # never ""


def test_env_defaults_to_the_process_environment(spec_file, monkeypatch):
    monkeypatch.setenv("STREAMTUI_SPEC_TEST_TOPIC", "bats")
    path = spec_file('input: {topic: "${env:STREAMTUI_SPEC_TEST_TOPIC}"}\nsteps: [{parser: str}]\n')
    spec = load_spec(path)
    assert spec.input == {"topic": "bats"} and spec.secrets == {"bats"}


def test_a_provider_block_builds_the_provider_model_with_its_key_kept_secret(load):
    from streamtui.models.anthropic import ChatAnthropic

    spec = load(
        """
        steps:
          - model:
              provider: anthropic
              model: claude-sonnet-4-5
              api_key: ${env:ANTHROPIC_API_KEY}
              temperature: 0.2
              max_tokens: 100
              timeout: 30
        """,
        env={"ANTHROPIC_API_KEY": "sk-ant-secret"},
    )
    model = spec.target.steps[0] if hasattr(spec.target, "steps") else spec.target
    assert isinstance(model, ChatAnthropic)
    assert (model.model, model.temperature, model.max_tokens, model.timeout) == (
        "claude-sonnet-4-5",
        0.2,
        100,
        30,
    )
    assert "sk-ant-secret" in spec.secrets
    assert "sk-ant-secret" not in repr(model)


def test_provider_classes_get_the_block_as_keyword_arguments(load, monkeypatch):
    """The day streamtui.models.openai exists, a provider block simply works."""
    import types

    made: list[dict] = []

    class ChatOpenAI:
        def __init__(self, **kwargs):
            made.append(kwargs)

    module = types.ModuleType("streamtui.models.openai")
    module.ChatOpenAI = ChatOpenAI  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "streamtui.models.openai", module)
    spec = load(
        """
        steps:
          - model:
              provider: openai-compatible
              model: llama3
              base_url: http://localhost:8000/v1
              api_key: ${env:LOCAL_KEY}
              max_retries: 2
        """,
        env={"LOCAL_KEY": "k-123"},
    )
    assert isinstance(spec.target, ChatOpenAI)
    assert made == [
        {
            "model": "llama3",
            "base_url": "http://localhost:8000/v1",
            "api_key": "k-123",
            "max_retries": 2,
        }
    ]
    assert spec.secrets == {"k-123"}


def test_stream_options(load):
    spec = load(
        """
        steps: [{parser: str}]
        stream:
          modes: [events]
          include_types: [chat_model, parser]
          exclude_tags: [noisy]
        """
    )
    assert spec.stream == StreamOptions(
        modes=["events"], include_types=["chat_model", "parser"], exclude_tags=["noisy"]
    )
    assert spec.stream.event_filters() == {
        "include_types": ["chat_model", "parser"],
        "exclude_tags": ["noisy"],
    }
    plain = load("steps: [{parser: str}]\n")
    assert plain.stream == StreamOptions() and plain.stream.modes is None


def test_name_path_and_hash(spec_file):
    path = spec_file("description: parses\nsteps: [{parser: str}]\n", "my_chain.yaml")
    spec = load_spec(path, env={})
    assert (spec.name, spec.path, spec.description) == ("my_chain", path, "parses")
    assert spec.hash == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_yaml_anchors_and_merge_keys(load):
    spec = load(
        """
        input: {a: &word hello, b: *word}
        steps:
          - model:
              <<: {responses: ["merged reply"], chunking: chars}
              chunking: words
        """
    )
    assert spec.input == {"a": "hello", "b": "hello"}
    assert [c.content for c in spec.target.stream("x")] == ["merged", " ", "reply"]


def test_file_level_problems(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(SpecError, match="is a directory"):
        load_spec(tmp_path)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: caf\xe9\nsteps: [{parser: str}]\n")
    with pytest.raises(SpecError) as caught:
        load_spec(bad)
    assert (caught.value.line, caught.value.column) == (1, 10)
    assert "not UTF-8" in caught.value.message


@pytest.mark.parametrize(
    "value",
    ["!!python/object/apply:os.system ['echo hi']", "!!python/name:os.system", "!!set {a: null}"],
)
def test_tags_beyond_plain_yaml_are_refused(load, value):
    with pytest.raises(SpecError) as caught:
        load(f"name: {value}\nsteps: [{{parser: str}}]\n")
    assert "only plain YAML is allowed" in caught.value.message
    assert (caught.value.line, caught.value.column) == (1, 7)


def test_a_long_line_is_shown_around_the_column():
    source = "steps: [" + ", ".join(["{parser: str}"] * 20) + ", {parsr: str}]\n"
    error = SpecError(
        "unknown step kind", path="x.yaml", line=1, column=source.index("parsr") + 1, source=source
    )
    shown = str(error).splitlines()
    assert len(shown) == 3 and len(shown[1]) < 110
    caret = shown[2].index("^")
    assert shown[1][caret : caret + 5] == "parsr"


def test_error_without_location_is_one_line():
    assert str(SpecError("something is off")) == "something is off"
    assert str(SpecError("no such file", path="a.yaml")) == "a.yaml: no such file"


def test_json_schema_describes_the_file():
    schema = spec_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "streamtui chain.yaml"
    assert set(schema["properties"]) == {
        "name",
        "description",
        "input",
        "stream",
        "entrypoint",
        "steps",
        "state",
        "nodes",
        "edges",
    }
    assert schema["additionalProperties"] is False
    assert all("description" in p for p in schema["properties"].values())
    step = schema["$defs"]["StepSpec"]
    assert "lambda" in step["properties"] and step["maxProperties"] == 1
    model = schema["$defs"]["ModelSpec"]["properties"]
    assert "temperature" in model and "description" in model["chunk_latency"]
    json.dumps(schema)  # serialisable


@pytest.mark.parametrize(
    ("text", "state", "expected"),
    [
        ("state['score'] < 3", {"score": 2}, True),
        ("state['items'][-1]", {"items": [1, 2, 3]}, 3),
        ("len(state['items']) >= 2 and not state.get('done', False)", {"items": [1, 2]}, True),
        ("'x' in state['tags'] or state['n'] % 2 == 0", {"tags": [], "n": 4}, True),
        ("state['a'] + state['b'] * 2 - 1", {"a": 1, "b": 3}, 6),
        ("'big' if state['n'] > 10 else 'small'", {"n": 3}, "small"),
        ("state['items'][1:]", {"items": [1, 2, 3]}, [2, 3]),
        ("max(state['xs']) == 3 and min([1, 2]) == 1", {"xs": [1, 3]}, True),
        (
            "state['name'] in {'a', 'b'} and state['d'] == {'k': (1, 2)}",
            {"name": "a", "d": {"k": (1, 2)}},
            True,
        ),
        ("-state['n'] is not None", {"n": 1}, True),
    ],
)
def test_safe_expressions_evaluate(text, state, expected):
    assert SafeExpression(text)(state) == expected


@pytest.mark.parametrize(
    ("text", "offset", "words"),
    [
        ("__import__('os')", 0, "'__import__' is not allowed"),
        ("state.__class__", 6, "attribute '.__class__'"),
        ("state['a'].upper()", 11, "attribute '.upper'"),
        ("open('/etc/passwd')", 0, "'open' is not allowed"),
        ("score < 3", 0, "write state['score']"),
        ("2 ** 100", 0, "operator ** is not allowed"),
        ("[x for x in state]", 0, "a comprehension"),
        ("lambda: 1", 0, "a lambda"),
        ("f'{state}'", 0, "an f-string"),
        ("len(state, key=1)", 11, "keyword arguments"),
        ("(x := 1)", 1, "':='"),
        ("state['a'] <", 12, "ends too early"),
        ("   ", None, "empty"),
        ("state['é'] and state.__dict__", 21, "'.__dict__'"),
    ],
)
def test_unsafe_or_broken_expressions_are_refused_at_load_time(text, offset, words):
    with pytest.raises(ExpressionProblem) as caught:
        SafeExpression(text)
    assert caught.value.offset == offset
    assert words in caught.value.message


def test_expressions_never_reach_eval(monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/compile must not be used")

    expr = SafeExpression("state['a'] < 3")
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    assert expr({"a": 1}) is True


def test_a_multi_line_expression_points_at_the_scalar_start(load, helper_module):
    mod = helper_module("def f(state):\n    return {}\n")
    with pytest.raises(SpecError) as caught:
        load(
            f"""
            state: {{a: int}}
            nodes:
              n: {{call: {mod}:f}}
            edges:
              - [START, n]
              - from: n
                route: >-
                  state['a'] < 3
                  and state.__class__
                then: {{true: n, false: END}}
            """
        )
    assert (caught.value.line, caught.value.column) == (7, 12)
    assert "'.__class__'" in caught.value.message


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_streamtui_does_not_import_the_spec_loader():
    loaded = _run(
        "import sys, streamtui\n"
        "print(sorted(m for m in ('streamtui.spec', 'yaml') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_running_specs_never_imports_langchain():
    code = (
        "import sys\n"
        "from streamtui.spec import load_spec\n"
        "spec = load_spec('demos/reverse_word.yaml')\n"
        "assert spec.target.invoke(spec.input) == 'olleh'\n"
        "spec = load_spec('demos/loop_graph.yaml')\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(roots & {'langchain_core', 'langgraph', 'langchain'}))\n"
    )
    assert _run(code) == "[]"
