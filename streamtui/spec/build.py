"""Validated steps -> streamtui runnables (``prompt | model | parser`` and friends).

Checks that need the file's positions live here: one kind per step, which settings
apply to which provider, imports and the objects they name. Every error points at the
value to fix.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamtui.spec.entrypoint import is_runnable
from streamtui.spec.errors import SpecError, quote_list
from streamtui.spec.imports import ImportProblem, import_object
from streamtui.spec.model import (
    REAL_PROVIDER_FIELDS,
    SCRIPTED_FIELDS,
    STEP_KINDS,
    ModelSpec,
    ParserOptions,
    PromptSpec,
    RetrieverSpec,
    ScriptedMessage,
    StepSpec,
)
from streamtui.spec.yamlpos import Document, Loc

__all__ = ["Builder"]

# provider -> (module, class); the classes take the model block's settings as keywords.
_PROVIDER_CLASSES = {
    "openai": ("streamtui.models.openai", "ChatOpenAI"),
    "openai-compatible": ("streamtui.models.openai", "ChatOpenAI"),
    "anthropic": ("streamtui.models.anthropic", "ChatAnthropic"),
}
_REAL_PROVIDERS = "openai, anthropic and openai-compatible"


@dataclass
class Builder:
    """Builds runnables from validated blocks, reporting errors at ``doc`` positions."""

    doc: Document
    base_dir: Path

    def error(self, loc: Loc, message: str, **kwargs: Any) -> SpecError:
        return self.doc.error(loc, message, **kwargs)

    def import_(self, path: str, loc: Loc) -> Any:
        """The object an import path names, or a SpecError at the path's position."""
        try:
            return import_object(path, self.base_dir)
        except ImportProblem as e:
            offset = path.index(":") + 1 if e.in_attribute else 0
            raise self.error(loc, f"{path}: {e}", offset=offset) from None

    # --- chains -------------------------------------------------------------------

    def chain(self, steps: list[StepSpec], loc: Loc) -> Any:
        """Steps composed like ``a | b | c`` (a single step is itself)."""
        from streamtui.runtime.base import RunnableSequence

        built = [self.step(step, (*loc, i)) for i, step in enumerate(steps)]
        return built[0] if len(built) == 1 else RunnableSequence(*built)

    def step(self, step: StepSpec, loc: Loc) -> Any:
        kinds = [k for k in STEP_KINDS if getattr(step, _attr(k)) is not None]
        if not kinds:
            raise self.error(loc, f"empty step: a step is one of {quote_list(STEP_KINDS)}")
        if len(kinds) > 1:
            raise self.error(
                (*loc, kinds[1]),
                f"a step has one kind, but this one has '{kinds[0]}' and '{kinds[1]}': "
                f"start '{kinds[1]}:' on its own '- ' line",
                at_key=True,
            )
        kind = kinds[0]
        value = getattr(step, _attr(kind))
        at = (*loc, kind)
        try:
            return getattr(self, f"_{_attr(kind)}")(value, at)
        except SpecError:
            raise
        except (ValueError, TypeError, KeyError) as e:
            raise self.error(at, f"cannot build the {kind} step: {e}") from None

    def _prompt(self, value: str | PromptSpec, loc: Loc) -> Any:
        from streamtui.runtime.prompts import ChatPromptTemplate

        if isinstance(value, str):
            return self._guard(loc, ChatPromptTemplate.from_template, value)
        given = [k for k in ("template", "messages") if getattr(value, k) is not None]
        if len(given) != 1:
            where = (*loc, given[1]) if len(given) > 1 else loc
            raise self.error(
                where,
                "a prompt has either template: or messages:, not "
                + ("both" if given else "neither"),
                at_key=len(given) > 1,
            )
        if value.template is not None:
            return self._guard((*loc, "template"), ChatPromptTemplate.from_template, value.template)
        messages = value.messages or []
        for i, (role, text) in enumerate(messages):  # each checked at its own line
            self._guard((*loc, "messages", i, 1), ChatPromptTemplate.from_messages, [(role, text)])
        return ChatPromptTemplate.from_messages(list(messages))

    def _guard(self, loc: Loc, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (ValueError, TypeError) as e:
            raise self.error(loc, str(e)) from None

    def _model(self, spec: ModelSpec, loc: Loc) -> Any:
        return self.model(spec, loc)

    def _parser(self, value: str | ParserOptions, loc: Loc) -> Any:
        from streamtui.runtime.parsers import JsonOutputParser, StrOutputParser

        if isinstance(value, str):
            return JsonOutputParser() if value == "json" else StrOutputParser()
        given = [k for k in ("json", "str") if k in _aliases_set(value)]
        if len(given) != 1:
            raise self.error(
                (*loc, given[1]) if len(given) > 1 else loc,
                "a parser is one of str or json, e.g. parser: {json: {diff: true}}",
                at_key=len(given) > 1,
            )
        if given[0] == "json":
            return JsonOutputParser(diff=value.json_.diff if value.json_ else False)
        return StrOutputParser()

    def _tool(self, path: str, loc: Loc) -> Any:
        from streamtui.runtime.tools import BaseTool

        value = self.import_(path, loc)
        if isinstance(value, BaseTool):
            return value
        if callable(value):
            raise self.error(
                loc,
                f"{path} is a plain function, not a tool: decorate it with @tool "
                "(from streamtui import tool), or use lambda: for a plain step",
            )
        raise self.error(loc, f"{path} is a {type(value).__name__}, not a tool")

    def _retriever(self, value: str | RetrieverSpec, loc: Loc) -> Any:
        from streamtui.runtime.retrievers import Document as Doc
        from streamtui.runtime.retrievers import InMemoryRetriever

        if isinstance(value, str):
            found = self.import_(value, loc)
            if not is_runnable(found):
                raise self.error(
                    loc, f"{value} is a {type(found).__name__}, not a retriever (BaseRetriever)"
                )
            return found
        docs = [
            Doc(d) if isinstance(d, str) else Doc(d.page_content, dict(d.metadata))
            for d in value.documents
        ]
        if not docs:
            raise self.error((*loc, "documents"), "a retriever needs at least one document")
        return InMemoryRetriever(docs, k=value.k)

    def _lambda_(self, path: str, loc: Loc) -> Any:
        from streamtui.runtime.base import Runnable, RunnableLambda

        value = self.import_(path, loc)
        if isinstance(value, Runnable):
            return value
        if isinstance(value, type) or not callable(value):
            raise self.error(loc, f"{path} is a {type(value).__name__}, not a function")
        return RunnableLambda(value)

    def _parallel(self, branches: dict[str, Any], loc: Loc) -> Any:
        from streamtui.runtime.base import RunnableParallel

        if not branches:
            raise self.error(loc, "parallel needs at least one branch (key: step)")
        built = {}
        for key, branch in branches.items():
            at = (*loc, key)
            if isinstance(branch, list):
                if not branch:
                    raise self.error(at, f"branch '{key}' has no steps")
                built[str(key)] = self.chain(branch, at)
            else:
                built[str(key)] = self.step(branch, at)
        return RunnableParallel(built)

    # --- models -------------------------------------------------------------------

    def model(self, spec: ModelSpec, loc: Loc) -> Any:
        """The chat model a ``model:`` block describes (checked against its provider)."""
        given = spec.model_fields_set
        provider = spec.provider
        if provider == "scripted":
            for key in _in_file_order(self.doc, loc, given & REAL_PROVIDER_FIELDS):
                raise self.error(
                    (*loc, key),
                    f"'{key}' does not apply to the scripted model; it is for provider "
                    f"{_REAL_PROVIDERS} (set provider: to one of them)",
                    at_key=True,
                )
            return self._scripted(spec, loc)
        for key in _in_file_order(self.doc, loc, given & SCRIPTED_FIELDS):
            raise self.error(
                (*loc, key),
                f"'{key}' only applies to provider: scripted (this model is {provider})",
                at_key=True,
            )
        if provider == "openai-compatible" and not spec.base_url:
            raise self.error(
                (*loc, "provider"),
                "provider openai-compatible needs base_url: the server's URL, "
                "e.g. base_url: http://localhost:8000/v1",
            )
        return self._real(spec, loc)

    def _scripted(self, spec: ModelSpec, loc: Loc) -> Any:
        from streamtui.models.scripted import ScriptedChatModel, ScriptedModelError

        kwargs: dict[str, Any] = {}
        for key in ("chunking", "first_chunk_latency", "chunk_latency", "error_on_chunk"):
            if getattr(spec, key) is not None:
                kwargs[key] = getattr(spec, key)
        for key in ("name", "disable_streaming", "model"):
            if getattr(spec, key) is not None:
                kwargs[key] = getattr(spec, key)
        if spec.responses is not None:
            if not spec.responses:
                raise self.error((*loc, "responses"), "responses needs at least one reply")
            kwargs["responses"] = [_response(r) for r in spec.responses]
        if spec.error is not None:
            if spec.error_on_chunk is None:
                raise self.error(
                    (*loc, "error"), "error: is the message of a failure; set error_on_chunk too"
                )
            kwargs["error"] = ScriptedModelError(spec.error)
        try:
            return ScriptedChatModel(**kwargs)
        except (ValueError, TypeError) as e:
            raise self.error(loc, f"cannot build the scripted model: {e}") from None

    def _real(self, spec: ModelSpec, loc: Loc) -> Any:
        provider = spec.provider
        module_name, class_name = _PROVIDER_CLASSES[provider]
        unavailable = self.error(
            (*loc, "provider"),
            f"provider {provider} is not available in this version of streamtui; use "
            "provider: scripted (the offline scripted model) for now",
        )
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name is None or module_name == e.name or module_name.startswith(f"{e.name}."):
                raise unavailable from None
            raise self.error(
                (*loc, "provider"),
                f"provider {provider} needs the Python package '{e.name}': pip install {e.name}",
            ) from None
        cls = getattr(module, class_name, None)
        if cls is None:
            raise unavailable
        keys = ("model", "base_url", "api_key", "temperature", "max_tokens", "max_retries")
        kwargs = {
            key: getattr(spec, key)
            for key in (*keys, "timeout", "name", "disable_streaming")
            if getattr(spec, key) is not None
        }
        try:
            return cls(**kwargs)
        except Exception as e:
            raise self.error(loc, f"cannot create the {provider} model: {e}") from None


def _attr(kind: str) -> str:
    return "lambda_" if kind == "lambda" else kind


def _aliases_set(model: Any) -> set[str]:
    fields = type(model).model_fields
    return {fields[name].alias or name for name in model.model_fields_set}


def _in_file_order(doc: Document, loc: Loc, keys: set[str]) -> list[str]:
    return sorted(keys, key=lambda k: doc.line_of((*loc, k), at_key=True) or 0)


def _response(value: Any) -> Any:
    if isinstance(value, ScriptedMessage):
        from streamtui.runtime.messages import AIMessage

        calls = [
            {"name": c.name, "args": dict(c.args), "id": c.id or f"call_{i}"}
            for i, c in enumerate(value.tool_calls)
        ]
        return AIMessage(content=value.content, tool_calls=calls)
    return list(value) if isinstance(value, list) else value
