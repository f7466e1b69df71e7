"""YAML to plain Python values, remembering where every value and key came from.

Pydantic reports errors by ``loc`` (a path of keys and indexes); to turn those into
``file:line:col`` we compose the YAML ourselves and keep a path -> node map. Duplicate
keys (which PyYAML silently merges) are rejected here, at the second occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from streamtui.spec.errors import SpecError

__all__ = ["Document", "Loc", "parse_yaml"]

Loc = tuple[Any, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")

_HINTS = {
    "that cannot start any token": " (YAML indents with spaces, not tabs)",
    "mapping values are not allowed here": " (quote a value that contains ': ')",
    "could not find expected ':'": " (a key needs ': ' after it; quote text that has none)",
    "could not determine a constructor": " (only plain YAML is allowed: no !!python tags)",
    "found another document": " (a chain.yaml is one document: remove the '---' and what follows)",
}


@dataclass
class Document:
    """A parsed file: its value, the node of every value and key, and its text."""

    value: Any
    path: Path
    source: str
    nodes: dict[Loc, Node] = field(default_factory=dict)
    keys: dict[Loc, Node] = field(default_factory=dict)

    def error(
        self,
        loc: Loc,
        message: str,
        *,
        at_key: bool = False,
        offset: int | None = None,
        redact: str | None = None,
    ) -> SpecError:
        """A ``SpecError`` at the value (or key) found at ``loc``; ``offset`` is a character
        offset inside a string value, honoured when the text maps 1:1 onto the source."""
        node = self._node(loc, at_key)
        line = column = None
        if node is not None:
            line, column = node.start_mark.line + 1, node.start_mark.column + 1
            if offset is not None and isinstance(node, ScalarNode):
                column += self._inner_offset(node, offset)
        return SpecError(
            message,
            path=self.path,
            line=line,
            column=column,
            source=self.source,
            redact=redact,
        )

    def line_of(self, loc: Loc, *, at_key: bool = False) -> int | None:
        node = self._node(loc, at_key)
        return node.start_mark.line + 1 if node is not None else None

    def _node(self, loc: Loc, at_key: bool) -> Node | None:
        """The nearest node we know for ``loc`` (walking up when it is not in the file)."""
        loc = tuple(loc)
        if at_key and loc in self.keys:
            return self.keys[loc]
        while loc:
            if loc in self.nodes:
                return self.nodes[loc]
            loc = loc[:-1]
        return self.nodes.get(())

    def _inner_offset(self, node: ScalarNode, offset: int) -> int:
        """Columns from the scalar's start to character ``offset`` of its value, or 0
        when the value is not a one-line copy of the source (escapes, folding)."""
        start, end = node.start_mark, node.end_mark
        if start.line != end.line:
            return 0
        raw = self.source[start.index : end.index]
        if node.style in (None, "") and raw == node.value:
            return offset
        if node.style in ("'", '"') and raw[1:-1] == node.value:
            return offset + 1
        return 0


def parse_yaml(text: str, path: Path) -> Document:
    """Compose ``text`` (safe YAML, one document) into a ``Document``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        raise _yaml_error(e, path, text) from None
    except yaml.YAMLError as e:  # a reader error: a control character, bad encoding
        raise _reader_error(e, path, text) from None
    doc = Document(value=None, path=path, source=text)
    if root is not None:
        doc.value = _Builder(doc).build(root, (), ())
    return doc


def _yaml_error(e: yaml.MarkedYAMLError, path: Path, text: str) -> SpecError:
    mark = e.problem_mark or e.context_mark
    problem = (e.problem or e.context or "cannot parse this").strip()
    hint = next((h for k, h in _HINTS.items() if k in problem), "")
    context = ""
    same_line = mark is not None and e.context_mark is not None and e.context_mark.line == mark.line
    if e.context and e.problem and e.context_mark is not None and not same_line:
        context = f" ({e.context} at line {e.context_mark.line + 1})"
    return SpecError(
        f"invalid YAML: {problem}{context}{hint}",
        path=path,
        line=mark.line + 1 if mark is not None else None,
        column=mark.column + 1 if mark is not None else None,
        source=text,
    )


def _reader_error(e: yaml.YAMLError, path: Path, text: str) -> SpecError:
    position = getattr(e, "position", None)
    line = column = None
    if isinstance(position, int):
        before = text[:position]
        line = before.count("\n") + 1
        column = position - (before.rfind("\n") + 1) + 1
    return SpecError(f"invalid YAML: {e}", path=path, line=line, column=column, source=text)


class _Builder:
    """Node -> value, filling the document's path maps as it goes."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used

    def build(self, node: Node, loc: Loc, stack: tuple[int, ...]) -> Any:
        if id(node) in stack:
            raise self._error(node, "an alias refers to itself (a recursive anchor)")
        self.doc.nodes[loc] = node
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        stack = (*stack, id(node))
        if node.tag not in _PLAIN_TAGS:
            raise self._error(
                node,
                f"unsupported tag {node.tag.replace('tag:yaml.org,2002:', '!!')} (only plain "
                "YAML is allowed: no !!python tags)",
            )
        if isinstance(node, SequenceNode):
            return [self.build(item, (*loc, i), stack) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self.mapping(node, loc, stack)
        raise self._error(node, f"unsupported YAML node {type(node).__name__}")

    def scalar(self, node: ScalarNode) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as e:
            raise _yaml_error(e, self.doc.path, self.doc.source) from None
        except (ValueError, TypeError) as e:  # e.g. an impossible timestamp
            raise self._error(node, f"cannot read the value {node.value!r}: {e}") from None

    def mapping(self, node: MappingNode, loc: Loc, stack: tuple[int, ...]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        seen: dict[Any, Node] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node)
            if key in seen:
                first = seen[key].start_mark.line + 1
                raise self._error(
                    key_node, f"duplicate key '{key}' (first set on line {first}); keep only one"
                )
            seen[key] = key_node
            self.doc.keys[(*loc, key)] = key_node
            out[key] = self.build(value_node, (*loc, key), stack)
        for merged in merges:  # `<<: *base` — explicit keys win, as in YAML 1.1
            sources = merged.value if isinstance(merged, SequenceNode) else [merged]
            for source in sources:
                if not isinstance(source, MappingNode):
                    raise self._error(source, "'<<' merges a mapping (an &anchor of one)")
                for key_node, value_node in source.value:
                    key = self._key(key_node)
                    if key not in out:
                        self.doc.keys[(*loc, key)] = key_node
                        out[key] = self.build(value_node, (*loc, key), stack)
        return out

    def _key(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            raise self._error(node, "a key must be plain text, not a list or mapping")
        key = self.scalar(node)
        try:
            hash(key)
        except TypeError:
            raise self._error(node, f"cannot use {node.value!r} as a key") from None
        return key

    def _error(self, node: Node, message: str) -> SpecError:
        return SpecError(
            message,
            path=self.doc.path,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
            source=self.doc.source,
        )
