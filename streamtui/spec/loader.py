"""``load_spec``: a chain.yaml file -> a ``LoadedSpec`` ready to run.

The order of checks is the order a user fixes things in: the YAML itself, unknown
top-level keys, what kind of file it is, secrets, shapes and types, then what the
values name (imports, providers, graph topology).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamtui.spec.build import Builder
from streamtui.spec.entrypoint import load_entrypoint, split_target
from streamtui.spec.envrefs import check_literal_keys, resolve_env
from streamtui.spec.errors import SpecError, did_you_mean, quote_list
from streamtui.spec.graph import build_graph
from streamtui.spec.model import SpecFile, StreamSpec
from streamtui.spec.validate import describe, validate_spec
from streamtui.spec.yamlpos import Document, parse_yaml

__all__ = ["LoadedSpec", "StreamOptions", "load_spec"]

_FILTERS = (
    "include_names",
    "include_types",
    "include_tags",
    "exclude_names",
    "exclude_types",
    "exclude_tags",
)
_GRAPH_KEYS = ("state", "nodes", "edges")
_FORM_VALUES = {
    "entrypoint": "a runnable to load, like app.py:chain",
    "steps": "a list of steps ('- prompt: ...' lines)",
    "state": "the state's keys (key: type lines)",
    "nodes": "the graph's nodes (name: {call: ...} lines)",
    "edges": "the graph's edges ('- [START, first_node]' lines)",
}


@dataclass(frozen=True)
class StreamOptions:
    """How to stream the run: modes (None = the runner's default) and event filters."""

    modes: list[str] | None = None
    include_names: list[str] | None = None
    include_types: list[str] | None = None
    include_tags: list[str] | None = None
    exclude_names: list[str] | None = None
    exclude_types: list[str] | None = None
    exclude_tags: list[str] | None = None

    def event_filters(self) -> dict[str, list[str]]:
        """The filters that are set, as ``astream_events`` keyword arguments."""
        return {k: list(v) for k in _FILTERS if (v := getattr(self, k)) is not None}


@dataclass
class LoadedSpec:
    """A loaded spec: the thing to run, its default input and how to stream it."""

    name: str
    path: Path
    hash: str
    kind: str  # "entrypoint" | "chain" | "graph"
    target: Any
    input: Any
    stream: StreamOptions = field(default_factory=StreamOptions)
    secrets: frozenset[str] = frozenset()
    description: str | None = None


def load_spec(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> LoadedSpec:
    """Load a chain.yaml (or, as a convenience, an ``app.py[:name]``).

    ``env`` supplies ``${env:VAR}`` values (default ``os.environ``). Every mistake is a
    ``SpecError`` with the file, line and column.
    """
    env = os.environ if env is None else env
    text_path = os.fspath(path)
    py_path, _ = split_target(text_path)
    if Path(py_path).suffix == ".py":
        return _python_file(Path(py_path), text_path)
    file = Path(text_path)
    raw = _read(file)
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    doc = parse_yaml(_decode(raw, file), file)
    _check_top_level(doc)
    check_literal_keys(doc)
    secrets: set[str] = set()
    data = resolve_env(doc, env, secrets)
    spec = validate_spec(doc, data)
    name = spec.name or file.stem
    builder = Builder(doc, file.parent)
    kind, target, default_input = _build(spec, builder, name)
    stream = _stream_options(spec.stream, kind, doc)
    return LoadedSpec(
        name=name,
        path=file,
        hash=digest,
        kind=kind,
        target=target,
        input=default_input,
        stream=stream,
        secrets=frozenset(secrets),
        description=spec.description,
    )


def _python_file(file: Path, target: str) -> LoadedSpec:
    obj, default_input = load_entrypoint(target)
    digest = "sha256:" + hashlib.sha256(_read(file)).hexdigest()
    return LoadedSpec(
        name=file.stem,
        path=file,
        hash=digest,
        kind="entrypoint",
        target=obj,
        input=default_input,
    )


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise SpecError("no such file", path=file) from None
    except IsADirectoryError:
        raise SpecError("is a directory; give a chain.yaml file", path=file) from None
    except OSError as e:
        raise SpecError(f"cannot read it: {e.strerror}", path=file) from None


def _decode(raw: bytes, file: Path) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        column = e.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError(
            f"the file is not UTF-8 text (byte 0x{raw[e.start]:02x}); save it as UTF-8",
            path=file,
            line=line,
            column=column,
        ) from None


def _check_top_level(doc: Document) -> None:
    """A mapping, with known keys, saying exactly one thing to run."""
    value = doc.value
    if value is None:
        raise SpecError(
            "the file is empty: write at least steps: (a chain), see demos/joke.yaml",
            path=doc.path,
            line=1,
            column=1,
            source=doc.source,
        )
    if not isinstance(value, dict):
        raise doc.error(
            (),
            f"the top level must be a mapping (name:, input:, steps: ...), got {describe(value)}",
        )
    allowed = [info.alias or name for name, info in SpecFile.model_fields.items()]
    for key in value:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f" (allowed: {quote_list(allowed)})"
            raise doc.error((key,), f"unknown top-level key '{key}'{hint}", at_key=True)
    for key, what in _FORM_VALUES.items():
        if key in value and value[key] is None:
            raise doc.error((key,), f"'{key}:' is empty: give it {what}", at_key=True)
    forms = []
    for key in value:
        form = "graph" if key in _GRAPH_KEYS else key if key in ("entrypoint", "steps") else None
        if form is not None and form not in [f for f, _ in forms]:
            forms.append((form, key))
    if not forms:
        raise doc.error(
            (),
            "nothing to run: add steps: (a chain), state:/nodes:/edges: (a graph) or "
            "entrypoint: path/to/app.py:name",
        )
    if len(forms) > 1:
        first_key, second_key = forms[0][1], forms[1][1]
        line = doc.line_of((first_key,), at_key=True)
        raise doc.error(
            (second_key,),
            f"a file has one of entrypoint:, steps: or a graph (state:/nodes:/edges:), but this "
            f"one also has {first_key}: (line {line}); keep one and remove '{second_key}:'",
            at_key=True,
        )


def _build(spec: SpecFile, builder: Builder, name: str) -> tuple[str, Any, Any]:
    doc = builder.doc
    if spec.entrypoint is not None:
        try:
            target, module_input = load_entrypoint(spec.entrypoint, base_dir=builder.base_dir)
        except SpecError as e:
            if e.line is not None:
                raise  # a mistake inside the Python file: point there
            message = f"{e.path}: {e.message}" if e.path is not None else e.message
            raise doc.error(("entrypoint",), message) from None
        if spec.input is None:
            return "entrypoint", target, module_input
        if isinstance(spec.input, dict) and isinstance(module_input, dict):
            return "entrypoint", target, {**module_input, **spec.input}
        return "entrypoint", target, spec.input
    if spec.steps is not None:
        chain = builder.chain(spec.steps, ("steps",))
        return "chain", chain, {} if spec.input is None else spec.input
    target, defaults = build_graph(spec, builder, name)
    given = {} if spec.input is None else spec.input
    if not isinstance(given, dict):
        raise doc.error(
            ("input",), f"a graph's input is a mapping of state keys, got {describe(given)}"
        )
    keys = [str(k) for k in spec.state or {}]
    for key in given:
        if key not in keys:
            raise doc.error(
                ("input", key),
                f"input key '{key}' is not a state key{did_you_mean(key, keys)} "
                f"(state: {', '.join(keys)})",
                at_key=True,
            )
    return "graph", target, {**defaults, **given}


def _stream_options(stream: StreamSpec | None, kind: str, doc: Document) -> StreamOptions:
    if stream is None:
        return StreamOptions()
    modes = list(stream.modes) if stream.modes is not None else None
    if kind == "chain" and modes:
        for i, mode in enumerate(modes):
            if mode != "events":
                raise doc.error(
                    ("stream", "modes", i),
                    f"stream mode '{mode}' is for graphs; a steps: chain streams events only",
                )
    filters = {key: getattr(stream, key) for key in _FILTERS}
    return StreamOptions(
        modes=modes, **{key: None if v is None else list(v) for key, v in filters.items()}
    )
