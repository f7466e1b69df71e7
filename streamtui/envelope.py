"""The envelope every part travels in, and how it becomes one line of JSON and back.

``{"seq", "ts", "mode", "ns", "data"}`` is the same in memory, in the event log and on the
wire. Runtime objects inside ``data`` (messages, documents, generation chunks, prompt
values, interrupts, sends) are written as plain JSON objects tagged with ``"_type"`` and
read back into the same classes, so a replayed run hands viewers what a live one does.
Exceptions become ``{"type", "message"}``; anything else unknown becomes a tagged repr.
Reading never imports a class named by the log: only the tags below are rebuilt.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "Part",
    "Redactor",
    "decode_data",
    "encode_line",
    "error_info",
    "jsonable",
    "line_bytes",
    "parse_line",
    "parse_lines",
]


class Part:
    """One streamed item: an ``astream_events`` dict (``mode="events"``) or a graph part.

    ``seq`` is assigned by the bus, strictly increasing per run; ``ts`` is seconds since
    the run started. ``merged`` counts the token chunks a coalescing viewer folded into
    this part (0 for everything a lossless subscriber sees).
    """

    __slots__ = ("data", "merged", "mode", "ns", "seq", "ts")

    def __init__(
        self, seq: int, ts: float, mode: str, ns: tuple[str, ...], data: Any, merged: int = 0
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.mode = mode
        self.ns = ns
        self.data = data
        self.merged = merged

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "mode": self.mode,
            "ns": list(self.ns),
            "data": self.data,
        }

    def __repr__(self) -> str:
        return f"Part(seq={self.seq}, ts={self.ts:.6f}, mode={self.mode!r}, ns={self.ns!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Part):
            return NotImplemented
        return (self.seq, self.ts, self.mode, self.ns, self.data) == (
            other.seq,
            other.ts,
            other.mode,
            other.ns,
            other.data,
        )

    __hash__ = None  # type: ignore[assignment]


def error_info(error: BaseException) -> dict[str, str]:
    """What a log keeps of an exception: its class name and message."""
    return {"type": type(error).__name__, "message": str(error)}


# --- writing ---------------------------------------------------------------------------


def _encode_default(obj: Any) -> Any:
    """``json.dumps`` hook for everything that is not plain JSON already."""
    fast = _FAST.get(type(obj))
    if fast is not None:
        return fast(obj)
    from streamtui.runtime.messages import BaseMessage

    if isinstance(obj, BaseMessage):
        _FAST[type(obj)] = _message_json  # one lookup from now on, not an isinstance chain
        return _message_json(obj)
    encoder = _ENCODERS.get(type(obj).__name__)
    if encoder is not None:
        out = encoder(obj)
        if out is not None:
            return out
    if isinstance(obj, BaseException):
        return error_info(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if isinstance(obj, (uuid.UUID, datetime.date, datetime.time)):
        return str(obj) if isinstance(obj, uuid.UUID) else obj.isoformat()
    if isinstance(obj, bytes):
        return {"_type": "bytes", "text": obj.decode("utf-8", "replace")}
    dump = getattr(obj, "model_dump", None)
    if callable(dump):  # pydantic models, LangChain messages of a duck-typed app
        try:
            return dump(mode="json")
        except TypeError:
            return dump()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return {"_type": "object", "class": type(obj).__qualname__, "repr": _short_repr(obj)}


def _message_json(m: Any) -> dict[str, Any]:
    """A message's fields, leaving out the empty ones (the constructor's defaults): one
    of these per token, so a short line matters for writing and reading alike."""
    d: dict[str, Any] = {"_type": "message", "class": type(m).__name__, "content": m.content}
    if m.additional_kwargs:
        d["additional_kwargs"] = m.additional_kwargs
    if m.response_metadata:
        d["response_metadata"] = m.response_metadata
    for name in m._extra_fields:
        value = getattr(m, name)
        if value:
            d[name] = value
    if m.name is not None:
        d["name"] = m.name
    if m.id is not None:
        d["id"] = m.id
    position = getattr(m, "chunk_position", None)
    if position is not None:
        d["chunk_position"] = position
    return d


_FAST: dict[type, Callable[[Any], Any]] = {}


def _short_repr(obj: Any) -> str:
    try:
        text = repr(obj)
    except Exception as e:  # a broken __repr__ must not lose the part
        text = f"<unrepresentable {type(obj).__qualname__}: {type(e).__name__}>"
    return text if len(text) <= 2000 else text[:2000] + "…"


def _document(obj: Any) -> dict[str, Any] | None:
    from streamtui.runtime.retrievers import Document

    if not isinstance(obj, Document):
        return None
    return {
        "_type": "document",
        "page_content": obj.page_content,
        "metadata": obj.metadata,
        "id": obj.id,
    }


def _generation(obj: Any) -> dict[str, Any] | None:
    from streamtui.runtime.outputs import GenerationChunk

    if not isinstance(obj, GenerationChunk):
        return None
    return {"_type": "generation", "text": obj.text, "generation_info": obj.generation_info}


def _prompt_value(obj: Any) -> dict[str, Any] | None:
    from streamtui.runtime.prompt_values import ChatPromptValue, StringPromptValue

    if isinstance(obj, ChatPromptValue):
        return {"_type": "chat_prompt_value", "messages": list(obj.messages)}
    if isinstance(obj, StringPromptValue):
        return {"_type": "string_prompt_value", "text": obj.text}
    return None


def _graph_object(obj: Any) -> dict[str, Any] | None:
    from streamtui.graph.builder import Send
    from streamtui.graph.checkpoint import Interrupt

    if isinstance(obj, Interrupt):
        return {"_type": "interrupt", "value": obj.value, "id": obj.id}
    if isinstance(obj, Send):
        return {"_type": "send", "node": obj.node, "arg": obj.arg}
    return None


# Keyed by class name so the common case (not one of these) costs one dict lookup.
_ENCODERS: dict[str, Callable[[Any], dict[str, Any] | None]] = {
    "Document": _document,
    "GenerationChunk": _generation,
    "ChatPromptValue": _prompt_value,
    "StringPromptValue": _prompt_value,
    "Interrupt": _graph_object,
    "Send": _graph_object,
}

_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_encode_default, check_circular=True
)
_encode = _encoder.encode


def _string_keys(value: Any) -> Any:
    """A copy with every mapping key made a string (JSON allows nothing else)."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_string_keys(v) for v in value]
    return value


_WHERE: dict[tuple[str, tuple[str, ...]], str] = {}


def encode_line(part: Part, redactor: Redactor | None = None) -> str:
    """One JSON line (without the newline) for ``part``, secrets redacted."""
    key = (part.mode, part.ns)
    where = _WHERE.get(key)
    if where is None:
        if len(_WHERE) > 4096:  # subgraph namespaces carry task ids: keep the cache small
            _WHERE.clear()
        where = _WHERE[key] = f',"mode":{_encode(part.mode)},"ns":{_encode(list(part.ns))},"data":'
    head = f'{{"seq":{part.seq},"ts":{round(part.ts, 6)!r}{where}'
    try:
        body = _encode(part.data)
    except Exception:
        # Non-string keys, a reference cycle, an object whose own dump raises: keep what
        # can be kept. A part is never lost to its contents.
        try:
            body = _safe_encode(_string_keys(part.data))
        except Exception as e:
            body = _encode(
                {"_type": "object", "class": "unencodable", "repr": f"{type(e).__name__}: {e}"}
            )
    line = head + body + "}"
    return line if redactor is None else redactor(line)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data, exactly as a log line would hold it (messages and
    documents as their tagged dicts): what the UI pretty-prints and compares."""
    try:
        return json.loads(_encode(value))
    except Exception:
        return json.loads(_safe_encode(_string_keys(value)))


def _safe_default(obj: Any) -> Any:
    try:
        return _encode_default(obj)
    except Exception as e:
        return {"_type": "object", "class": type(obj).__qualname__, "repr": f"<{type(e).__name__}>"}


_safe_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_safe_default
).encode


def line_bytes(line: str) -> bytes:
    """UTF-8 for a line. A lone surrogate (an undecodable file name, say) can only be
    inside a JSON string, where ``\\udcxx`` is the valid escape that reads back as it."""
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError:
        return line.encode("utf-8", "backslashreplace")


# --- reading ---------------------------------------------------------------------------


_MESSAGE_CLASSES: dict[str, type] = {}


def _message(d: dict[str, Any]) -> Any:
    if not _MESSAGE_CLASSES:
        from streamtui.runtime import messages

        for name in ("SystemMessage", "HumanMessage", "AIMessage", "AIMessageChunk", "ToolMessage"):
            _MESSAGE_CLASSES[name] = getattr(messages, name)
        for name in ("HumanMessageChunk", "SystemMessageChunk", "ToolMessageChunk"):
            if hasattr(messages, name):
                _MESSAGE_CLASSES[name] = getattr(messages, name)
    cls = _MESSAGE_CLASSES.get(d.get("class", ""))
    if cls is None:
        return d
    kwargs = dict(d)  # the tagged dict stays intact if the class refuses the fields
    del kwargs["_type"], kwargs["class"]
    if "tool_call_chunks" in kwargs:
        # Calls are derived from the chunks again, exactly as when they streamed.
        kwargs.pop("tool_calls", None)
        kwargs.pop("invalid_tool_calls", None)
    try:
        return cls(**kwargs)
    except TypeError:
        return d


def _read_document(d: dict[str, Any]) -> Any:
    from streamtui.runtime.retrievers import Document

    return Document(d.get("page_content", ""), d.get("metadata"), d.get("id"))


def _read_generation(d: dict[str, Any]) -> Any:
    from streamtui.runtime.outputs import GenerationChunk

    return GenerationChunk(d.get("text", ""), d.get("generation_info"))


def _read_chat_prompt_value(d: dict[str, Any]) -> Any:
    from streamtui.runtime.prompt_values import ChatPromptValue

    return ChatPromptValue(d.get("messages", []))


def _read_string_prompt_value(d: dict[str, Any]) -> Any:
    from streamtui.runtime.prompt_values import StringPromptValue

    return StringPromptValue(d.get("text", ""))


def _read_interrupt(d: dict[str, Any]) -> Any:
    from streamtui.graph.checkpoint import Interrupt

    return Interrupt(value=d.get("value"), id=d.get("id", ""))


def _read_send(d: dict[str, Any]) -> Any:
    from streamtui.graph.builder import Send

    return Send(d.get("node", ""), d.get("arg"))


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "message": _message,
    "document": _read_document,
    "generation": _read_generation,
    "chat_prompt_value": _read_chat_prompt_value,
    "string_prompt_value": _read_string_prompt_value,
    "interrupt": _read_interrupt,
    "send": _read_send,
}


def _object_hook(d: dict[str, Any]) -> Any:
    tag = d.get("_type")
    if tag is None:
        return d
    decoder = _DECODERS.get(tag)
    return d if decoder is None else decoder(d)


_decoder = json.JSONDecoder(object_hook=_object_hook)


def decode_data(text: str) -> Any:
    """Parse JSON text, rebuilding tagged runtime objects."""
    return _decoder.decode(text)


def parse_line(line: str | bytes) -> Part:
    """The part on one log line. Raises ``ValueError`` if it is not a whole part."""
    if isinstance(line, bytes):
        line = line.decode("utf-8")
    return _part_of(_decoder.decode(line))


def _part_of(obj: Any, make: Callable[..., Part] = Part, *extra: Any) -> Part:
    if not isinstance(obj, dict):
        raise ValueError("not a part: expected an object with seq, ts, mode, ns and data")
    seq, ts, mode, ns = obj.get("seq"), obj.get("ts", 0.0), obj.get("mode"), obj.get("ns") or []
    if (
        type(seq) is not int
        or not isinstance(ts, (int, float))
        or isinstance(ts, bool)
        or not isinstance(mode, str)
        or not isinstance(ns, list)
        or (ns and not all(isinstance(n, str) for n in ns))
    ):
        raise ValueError("not a part: seq must be an integer, ts a number, mode text, ns a list")
    return make(seq, float(ts), mode, tuple(ns), obj.get("data"), *extra)


_plain = json.JSONDecoder()


def parse_lines(lines: bytes, make: Callable[..., Part] = Part, *extra: Any) -> list[Part]:
    """The parts on newline-separated log lines, decoded in one go (a NATS message of
    several parts), each ``make(seq, ts, mode, ns, data, *extra)`` (a ``Part``, or a
    subclass with more fields). Raises ``ValueError`` (or ``UnicodeDecodeError``) if any
    line is not a whole part: read them one by one with ``parse_line`` then."""
    text = lines.decode("utf-8")
    # Lines are JSON with no raw newline inside, so the lines joined by commas are an
    # array. No tagged object in it (no ``_type``, and no escape that could spell
    # one): the decoder without the hook, much faster.
    joined = "[" + text.replace("\n", ",") + "]"
    decoder = _plain if "_type" not in text and "\\u" not in text else _decoder
    objs = decoder.decode(joined)
    if len(objs) != text.count("\n") + 1:  # a line held more than one value
        raise ValueError("not a part per line")
    out = []
    for obj in objs:
        # The usual part, checked inline (the same checks as ``_part_of``, which says why
        # anything else is not a part).
        if type(obj) is dict:
            seq, ts, mode, ns = obj.get("seq"), obj.get("ts"), obj.get("mode"), obj.get("ns")
            if type(seq) is int and type(ts) is float and type(mode) is str and ns == []:
                out.append(make(seq, ts, mode, (), obj.get("data"), *extra))
                continue
        out.append(_part_of(obj, make, *extra))
    return out


# --- secrets ---------------------------------------------------------------------------

_SECRET_KEYS = re.compile(
    r'"((?:[A-Za-z0-9_-]*(?:api[_-]?key|authorization|password|secret|access[_-]?token))|'
    r'token)"(\s*:\s*)"(?:[^"\\]|\\.)*"',
    re.IGNORECASE,
)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
# Anything that looks like a provider key even where no key name says so.
_KEY_SHAPES = re.compile(r"\b(?:sk-ant-[A-Za-z0-9_-]{8,}|sk-[A-Za-z0-9_-]{16,})")


class Redactor:
    """Removes secrets from a JSON line: values resolved from ``${env:...}``, values under
    key-like names (``api_key``, ``Authorization``, ...), bearer tokens and strings shaped
    like provider keys. Cheap when there is nothing to find: one scan per line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Short values would blank out ordinary words; nobody's key is 3 characters long.
        kept = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        self._secrets: list[tuple[str, str]] = []
        for s in kept:
            escaped = json.dumps(s, ensure_ascii=False)[1:-1]
            self._secrets.append((s, escaped))
        self._find = re.compile("|".join(re.escape(e) for _, e in self._secrets)) if kept else None

    def __call__(self, line: str) -> str:
        find = self._find
        if find is not None and find.search(line) is not None:
            # Only inside strings: a secret that reads "1024" or "null" must not break
            # the numbers and keywords of the JSON around it.
            line = _JSON_STRING.sub(lambda m: find.sub("***", m.group(0)), line)
        if not _may_hold_secret(line):
            return line
        line = _SECRET_KEYS.sub(_mask_value, line)
        line = _BEARER.sub(r"\1***", line)
        return _KEY_SHAPES.sub("***", line)

    def text(self, value: str) -> str:
        """Redact a plain (non-JSON) string, e.g. an error message printed to a terminal."""
        for raw, _ in self._secrets:
            value = value.replace(raw, "***")
        value = _BEARER.sub(r"\1***", value)
        return _KEY_SHAPES.sub("***", value)


def _may_hold_secret(line: str) -> bool:
    """A cheap test before the real patterns (a case-insensitive regex scan of every
    line cost four times the JSON encoding)."""
    low = line.lower()
    return (
        "key" in low
        or "auth" in low
        or "bearer" in low
        or 'token"' in low
        or "secret" in low
        or "password" in low
        or "sk-" in low
    )


def _mask_value(match: re.Match[str]) -> str:
    return f'"{match.group(1)}"{match.group(2)}"***"'
