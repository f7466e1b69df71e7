"""chain.yaml: a declarative file for a chain or graph, and the loader that turns it
into something to run (or an error naming file:line:col and the fix).

``load_spec(path)`` -> ``LoadedSpec``; ``load_entrypoint("app.py:chain")`` for Python
files; ``spec_json_schema()`` for editors. Imported on demand (not by ``streamtui``), as
it pulls in PyYAML and pydantic.
"""

from __future__ import annotations

from typing import Any

from streamtui.spec.entrypoint import load_entrypoint
from streamtui.spec.errors import SpecError
from streamtui.spec.loader import LoadedSpec, StreamOptions, load_spec

__all__ = [
    "LoadedSpec",
    "SpecError",
    "StreamOptions",
    "load_entrypoint",
    "load_spec",
    "spec_json_schema",
]


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of a chain.yaml file (for ``streamtui schema`` and editors)."""
    from streamtui.spec.model import SpecFile

    schema = SpecFile.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "streamtui chain.yaml",
    }
