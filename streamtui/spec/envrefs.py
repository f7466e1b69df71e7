"""``${env:VAR}`` references: secrets come from the environment, never from the file.

A key written into a YAML file ends up in git, in shell history and in logs, so a
literal ``api_key`` is refused. Every resolved value is remembered so the event log can
redact it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from streamtui.spec.yamlpos import Document, Loc

__all__ = ["check_literal_keys", "resolve_env"]

_REF = re.compile(r"\$\{env:([^}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WHOLE_REF = re.compile(r"\$\{env:[A-Za-z_][A-Za-z0-9_]*\}")
_KEY_VARS = {"anthropic": "ANTHROPIC_API_KEY"}


def check_literal_keys(doc: Document) -> None:
    """Refuse ``api_key: sk-...``: only ``${env:VAR}`` (or nothing) is allowed."""

    def walk(value: Any, loc: Loc) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "api_key" and isinstance(item, str) and not _WHOLE_REF.fullmatch(item):
                    provider = value.get("provider")
                    var = _KEY_VARS.get(str(provider), "OPENAI_API_KEY")
                    raise doc.error(
                        (*loc, key),
                        f"api_key is written literally; write api_key: ${{env:{var}}} and set "
                        f"{var} in the environment (a literal key ends up in files and logs)",
                        redact=item if len(item) >= 4 else None,
                    )
                walk(item, (*loc, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, (*loc, i))

    walk(doc.value, ())


def resolve_env(doc: Document, env: Mapping[str, str], secrets: set[str]) -> Any:
    """A copy of the document's value with every ``${env:VAR}`` replaced from ``env``;
    each non-empty value used is added to ``secrets``."""

    def walk(value: Any, loc: Loc) -> Any:
        if isinstance(value, str):
            return _substitute(value, loc) if "${env:" in value else value
        if isinstance(value, dict):
            return {key: walk(item, (*loc, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*loc, i)) for i, item in enumerate(value)]
        return value

    def _substitute(text: str, loc: Loc) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if not _NAME.fullmatch(name):
                raise doc.error(
                    loc,
                    f"'{match.group(0)}' is not a valid reference: write ${{env:NAME}}, "
                    "NAME made of letters, digits and _",
                    offset=match.start(),
                )
            if name not in env:
                raise doc.error(
                    loc,
                    f"environment variable {name} is not set: set {name} in the environment "
                    f"(this file uses it as ${{env:{name}}})",
                    offset=match.start(),
                )
            resolved = env[name]
            if resolved:
                secrets.add(resolved)
            return resolved

        return _REF.sub(replace, text)

    return walk(doc.value, ())
