"""Validate a parsed file with the pydantic models; report the first mistake in the file
as a ``SpecError`` at its line and column, in words a user can act on.

Pydantic's ``loc`` mixes data keys with union tags; we walk the model types alongside
it, which tells tags from keys and which block (and so which allowed keys) an error is in.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Union

from pydantic import BaseModel, Discriminator, Tag, ValidationError

from streamtui.spec.errors import SpecError, did_you_mean, quote_list
from streamtui.spec.model import (
    IMPORT_PATTERN,
    ModelSpec,
    PromptSpec,
    RetrieverSpec,
    SpecFile,
    SpecModel,
)
from streamtui.spec.yamlpos import Document, Loc

__all__ = ["validate_spec"]

# What a field takes, for errors about its shape (a union's members described as one).
_SHAPES = {
    "prompt": "a template string, {template: ...} or {messages: [[role, text], ...]}",
    "parser": "str, json or {json: {diff: true}}",
    "retriever": "{documents: [...], k: 4} or an import path package.module:name",
    "chunking": "'words', 'chars' or a chunk size (a positive whole number)",
    "responses": "a string, a list of chunks or {content: ..., tool_calls: [...]}",
    "parallel": "a step (one-key mapping) or a list of steps",
    "state": "a type name (str, int, list, ...) or {type: ..., reducer: ..., default: ...}",
    "messages": "a [role, template] pair",
    "edges": "[from, to], {from: A, to: B} or {from: A, route: ..., then: {...}}",
}
# Singular nouns for values picked from a list of choices.
_NOUNS = {
    "modes": "stream mode",
    "messages": "message role",
    "type": "state type",
    "state": "state type",
    "reducer": "reducer",
    "provider": "provider",
    "parser": "parser",
    "chunking": "chunking",
}
_EXPECTED = {
    "string_type": "text",
    "string_sub_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list (write it as [a, b] or as '- ' lines)",
    "tuple_type": "a list",
    "dict_type": "a mapping (key: value lines)",
}


def validate_spec(doc: Document, data: Any) -> SpecFile:
    """``data`` (the document's value, env references resolved) as a ``SpecFile``."""
    try:
        return SpecFile.model_validate(data)
    except ValidationError as e:
        errors = [_explain(doc, error) for error in e.errors()]
    raise min(errors, key=lambda err: (err.line or 0, err.column or 0))


class _Where:
    """Where a pydantic ``loc`` points: the data path, the block, the field and its type."""

    def __init__(self, loc: tuple[Any, ...]) -> None:
        self.data: list[Any] = []
        self.owner: type[SpecModel] | None = None
        self.field: str | None = None
        self.tagged_field: str | None = None  # a union field crossed on the way
        self.at_key = False
        self.known = True  # False past an unknown key
        tp: Any = SpecFile
        for elem in loc:
            if elem == "[key]":  # the key itself is wrong (a number where text is due)
                self.at_key = True
                break
            tp, tagged = _unwrap(tp)
            if tagged:
                member = _member(tp, elem)
                if member is not None:
                    self.tagged_field = self.field
                    tp = member
                    continue
                tp, _ = _unwrap(tp)
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                self.owner = tp  # type: ignore[assignment]
                self.field = str(elem)
                self.tagged_field = None
                self.data.append(elem)
                info = _field(tp, elem)
                tp = info.annotation if info is not None else None
                self.known = info is not None
                continue
            origin, args = typing.get_origin(tp), typing.get_args(tp)
            self.data.append(elem)
            if origin is list and args:
                tp = args[0]
            elif origin is tuple and args and isinstance(elem, int) and elem < len(args):
                tp = args[elem]
            elif origin is dict and len(args) == 2:
                tp = args[1]
            else:
                tp = None
        self.target = _unwrap(tp)[0] if tp is not None else None

    def what(self) -> str:
        """The value's name in a message: its key, with list indexes after it."""
        name = ""
        for elem in self.data:
            if isinstance(elem, int):
                name += f"[{elem}]"
            else:
                name = str(elem)
        return name or "the file"


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """Strip ``Annotated`` and ``Optional``; True when a discriminated union is left."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            inner, *meta = typing.get_args(tp)
            if any(isinstance(m, Discriminator) for m in meta):
                return inner, True
            tp = inner
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp, False


def _member(union: Any, tag: Any) -> Any:
    for member in typing.get_args(union):
        if typing.get_origin(member) is Annotated:
            inner, *meta = typing.get_args(member)
            if any(isinstance(m, Tag) and m.tag == tag for m in meta):
                return inner
    return None


def _field(model: type[BaseModel], key: Any) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            return info
    return None


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def describe(value: Any) -> str:
    """A value as the user wrote it, short."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


def _explain(doc: Document, error: Any) -> SpecError:
    where = _Where(tuple(error["loc"]))
    kind, value = error["type"], error.get("input")
    loc = tuple(where.data)
    what = where.what()
    if where.at_key:
        return doc.error(
            loc, f"the key {describe(value)} must be text: quote it, '{value}'", at_key=True
        )
    if kind == "extra_forbidden":
        siblings = _value_at(doc.value, loc[:-1])
        return doc.error(loc, _unknown_key(where, str(where.field), siblings), at_key=True)
    if kind == "missing":
        owner = where.owner.spec_label if where.owner is not None else "this block"
        if where.owner is None:  # a [from, to] pair with one name
            return doc.error(loc[:-1], "an edge [from, to] names two nodes")
        return doc.error(loc[:-1], f"the {owner} needs '{where.field}:'")
    if kind == "literal_error":
        noun = _NOUNS.get(where.field or "", _NOUNS.get(where.tagged_field or "", what))
        expected = error.get("ctx", {}).get("expected", "")
        hint = did_you_mean(value, _choices(expected))
        return doc.error(loc, f"unknown {noun} {describe(value)}: use {expected}{hint}")
    if kind in ("model_type", "model_attributes_type", "dict_type") or kind in _EXPECTED:
        return doc.error(loc, f"{what} must be {_expected(where, kind)}, got {describe(value)}")
    pattern = error.get("ctx", {}).get("pattern")
    if kind == "string_pattern_mismatch" and pattern == IMPORT_PATTERN:
        return doc.error(
            loc, f"{what} must be an import path like package.module:name, got {describe(value)}"
        )
    if kind in ("too_short", "too_long") and typing.get_origin(where.target) is tuple:
        return doc.error(loc, f"an edge [from, to] names exactly two nodes, got {len(value)}")
    if kind == "too_short" and isinstance(value, list):
        least = error.get("ctx", {}).get("min_length", 1)
        return doc.error(loc, f"{what} is empty: it needs at least {least} entry")
    if kind == "edge_shape":
        return doc.error(loc, f"{error['msg']}; got {describe(value)}")
    message = str(error["msg"])
    if message.startswith("Input should be "):
        message = f"{what} must be {message[len('Input should be ') :]}, got {describe(value)}"
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    else:
        message = f"{what}: {message[:1].lower()}{message[1:]}"
    return doc.error(loc, message)


def _expected(where: _Where, kind: str) -> str:
    field = where.tagged_field or where.field or ""
    if field in _SHAPES and (where.tagged_field or kind in ("model_type", "dict_type")):
        return _SHAPES[field]
    if kind in ("model_type", "model_attributes_type"):
        target = where.target
        if isinstance(target, type) and issubclass(target, SpecModel):
            return target.spec_shape
    return _EXPECTED.get(kind, "a mapping (key: value lines)")


def _choices(expected: str) -> list[str]:
    return [part.strip(" '") for part in expected.replace(" or ", ", ").split(",")]


def _value_at(value: Any, loc: Loc) -> Any:
    for key in loc:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _misplaced(key: str, step: Any) -> str | None:
    """For a key beside a step's kind that belongs inside it (indented too little):
    the message saying so."""
    blocks = {"model": ModelSpec, "prompt": PromptSpec, "retriever": RetrieverSpec}
    for kind, block in blocks.items():
        if not isinstance(step, dict) or kind not in step:
            continue
        names = _keys(block)
        if key in names:
            return f"'{key}' belongs inside {kind}: — indent it under {kind}:"
        hint = did_you_mean(key, names)
        if hint:
            return (
                f"unknown key '{key}' in {kind}{hint} (indent it under {kind}:, it is not a "
                "step kind)"
            )
    return None


def _unknown_key(where: _Where, key: str, siblings: Any) -> str:
    owner = where.owner
    if owner is None:
        return f"unknown key '{key}'"
    allowed = _keys(owner)
    hint = did_you_mean(key, allowed)
    label = owner.spec_label
    if label == "parser":
        return f"unknown parser '{key}': use {quote_list(allowed)}{hint}"
    if label == "step":
        misplaced = _misplaced(key, siblings)
        if misplaced:
            return misplaced
        return f"unknown step kind '{key}'{hint or f' (a step is one of {quote_list(allowed)})'}"
    if label == "the top level":
        return f"unknown top-level key '{key}'{hint or f' (allowed: {quote_list(allowed)})'}"
    if hint or len(allowed) > 8:
        return f"unknown key '{key}' in {label}{hint}"
    return f"unknown key '{key}' in {label} (allowed: {quote_list(allowed, 'and')})"
