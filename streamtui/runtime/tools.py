"""Tools: functions a model can call, with a JSON schema of their arguments.

``@tool`` builds the schema from the signature and the docstring (Google-style ``Args:``
lines describe the arguments) and validates calls with pydantic, so ``"2"`` for an
``int`` argument is coerced the way LangChain's tools coerce it. Invoked with a tool
call (``{"name", "args", "id", "type": "tool_call"}``) a tool returns a ``ToolMessage``.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal, get_type_hints

from streamtui.runtime.base import Runnable
from streamtui.runtime.config import (
    RunnableConfig,
    child_config_var,
    ensure_config,
    run_in_executor,
)
from streamtui.runtime.messages import ToolMessage
from streamtui.runtime.tracing import Run, child_config, start_run

__all__ = ["BaseTool", "StructuredTool", "ToolException", "tool"]


class ToolException(Exception):
    """A tool's expected failure; with ``handle_tool_error`` it becomes the tool's reply."""


def _is_tool_call(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "tool_call" and "args" in value


def _stringify(content: Any) -> Any:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(c, (str, dict)) for c in content):
        return content
    try:
        return json.dumps(content, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(content)


_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into the description and per-argument text."""
    doc = inspect.cleandoc(doc or "")
    lines = doc.splitlines()
    description: list[str] = []
    args: dict[str, str] = {}
    section = "description"
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            section, current = "args", None
            continue
        if stripped.endswith(":") and stripped[:-1] in (
            "Returns",
            "Raises",
            "Yields",
            "Example",
            "Examples",
            "Note",
            "Notes",
        ):
            section = "other"
            continue
        if section == "description":
            description.append(line)
        elif section == "args":
            match = _ARG_LINE.match(line)
            if match and (len(line) - len(line.lstrip())) <= 4:
                current = match.group(1).lstrip("*")
                args[current] = match.group(2).strip()
            elif current and stripped:
                args[current] = f"{args[current]} {stripped}".strip()
    return "\n".join(description).strip(), args


_SKIP_PARAMS = ("config", "run_manager", "callbacks")


@functools.lru_cache(maxsize=1024)
def takes_config_param(func: Callable[..., Any]) -> bool:
    """A tool function gets ``config`` only if it names that parameter (cached)."""
    try:
        return "config" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def _schema_from_function(func: Callable[..., Any], name: str, arg_docs: dict[str, str]) -> Any:
    """A pydantic model of the function's arguments (``config`` and friends left out)."""
    from pydantic import Field, create_model

    try:
        hints = get_type_hints(func)
    except NameError as e:
        raise TypeError(
            f"tool {name!r}: cannot resolve its argument types ({e}); import the types "
            "at module level, not only under TYPE_CHECKING"
        ) from None
    fields: dict[str, Any] = {}
    for pname, param in inspect.signature(func).parameters.items():
        if pname in _SKIP_PARAMS or param.kind in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            continue
        annotation = hints.get(pname, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (annotation, Field(default, description=arg_docs.get(pname)))
    return create_model(name, **fields)


class BaseTool(Runnable[Any, Any]):
    """A named, described, schema-checked callable; a ``tool`` run in events."""

    run_type = "tool"
    name: str
    description: str = ""
    args_schema: Any = None
    return_direct: bool = False
    handle_tool_error: bool | str | Callable[[ToolException], str] = False
    response_format: Literal["content", "content_and_artifact"] = "content"

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"tool {self.name!r} has no sync implementation")

    async def _arun(self, *args: Any, **kwargs: Any) -> Any:
        return await run_in_executor(lambda: self._run(*args, **kwargs))

    # --- schema -----------------------------------------------------------------------

    @property
    def args(self) -> dict[str, Any]:
        if self.args_schema is None:
            return {}
        return dict(self.args_schema.model_json_schema().get("properties", {}))

    @property
    def tool_call_schema(self) -> dict[str, Any]:
        """The OpenAI-style function spec a model is given."""
        params = (
            self.args_schema.model_json_schema()
            if self.args_schema is not None
            else {"type": "object", "properties": {}}
        )
        params = {k: v for k, v in params.items() if k not in ("title", "description")}
        return {"name": self.name, "description": self.description, "parameters": params}

    def _parse_input(
        self, tool_input: str | dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Positional and keyword arguments for ``_run``: a string goes to the single
        argument (positionally when the tool has no schema), a dict is validated."""
        schema = self.args_schema
        if isinstance(tool_input, str):
            if schema is None:
                return (tool_input,), {}
            keys = list(schema.model_fields)
            if len(keys) != 1:
                raise ValueError(
                    f"tool {self.name!r} takes arguments {keys}: pass a dict, not a string"
                )
            tool_input = {keys[0]: tool_input}
        if schema is None:
            return (), dict(tool_input)
        validated = schema.model_validate(tool_input)
        # Only what the caller gave: the function's own defaults fill in the rest.
        return (), {k: getattr(validated, k) for k in tool_input if k in schema.model_fields}

    # --- running ----------------------------------------------------------------------

    def _prepare(
        self, input: Any, config: RunnableConfig | None
    ) -> tuple[RunnableConfig, Run | None, str | dict[str, Any], str | None]:
        config = ensure_config(config)
        if _is_tool_call(input):
            tool_call_id = input.get("id")
            tool_input: str | dict[str, Any] = dict(input["args"])
        else:
            tool_call_id = None
            tool_input = input
        if not isinstance(tool_input, (str, dict)):
            raise TypeError(
                f"tool {self.name!r} takes a dict of arguments, a string or a tool call, "
                f"not {type(tool_input).__name__}"
            )
        inputs = tool_input if isinstance(tool_input, dict) else {}
        run = start_run(config, self.name, "tool", inputs)
        if run is not None:
            run.tool_call_id = tool_call_id
            if isinstance(tool_input, str):
                run.inputs = None
        return config, run, tool_input, tool_call_id

    def _recover(self, error: BaseException, run: Run | None) -> str:
        """The reply for a handled ``ToolException``; anything else is reported on the
        run and re-raised unchanged."""
        handler = self.handle_tool_error
        if not isinstance(error, ToolException) or not handler:
            if run is not None:
                run.error(error)
            raise error
        if isinstance(handler, str):
            return handler
        if callable(handler):
            return handler(error)
        return str(error) or "Tool execution error"

    def _finish(self, response: Any, status: str, tool_call_id: str | None, run: Run | None) -> Any:
        artifact = None
        if self.response_format == "content_and_artifact" and status == "success":
            if not isinstance(response, tuple) or len(response) != 2:
                raise ValueError(
                    f"tool {self.name!r} has response_format='content_and_artifact' and must "
                    f"return (content, artifact), got {type(response).__name__}"
                )
            response, artifact = response
        if tool_call_id is None or isinstance(response, ToolMessage):
            output = response
        else:
            output = ToolMessage(
                content=_stringify(response),
                tool_call_id=tool_call_id,
                name=self.name,
                status=status,  # type: ignore[arg-type]
                artifact=artifact,
            )
        if run is not None:
            run.end(output)
        return output

    def _implementation(self, is_async: bool) -> Callable[..., Any]:
        """The function that will really run (its signature decides if it gets config)."""
        return self._arun if is_async else self._run

    def _call_kwargs(
        self, args: dict[str, Any], config: RunnableConfig, is_async: bool
    ) -> dict[str, Any]:
        if takes_config_param(self._implementation(is_async)):
            return {**args, "config": config}
        return args

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        config, run, tool_input, tool_call_id = self._prepare(input, config)
        token = child_config_var.set(child_config(config, run))
        status = "success"
        try:
            args, kwargs = self._parse_input(tool_input)
            response = self._run(*args, **self._call_kwargs(kwargs, config, is_async=False))
        except BaseException as e:
            response, status = self._recover(e, run), "error"
        finally:
            child_config_var.reset(token)
        return self._finish(response, status, tool_call_id, run)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        config, run, tool_input, tool_call_id = self._prepare(input, config)
        token = child_config_var.set(child_config(config, run))
        status = "success"
        try:
            args, kwargs = self._parse_input(tool_input)
            response = await self._arun(*args, **self._call_kwargs(kwargs, config, is_async=True))
        except BaseException as e:
            response, status = self._recover(e, run), "error"
        finally:
            child_config_var.reset(token)
        return self._finish(response, status, tool_call_id, run)

    def run(self, tool_input: str | dict[str, Any], **kwargs: Any) -> Any:
        return self.invoke(tool_input)

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        return super().get_name(suffix, name=name or self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class StructuredTool(BaseTool):
    """A tool made from a function (and optionally an async twin)."""

    def __init__(
        self,
        *,
        name: str,
        description: str,
        func: Callable[..., Any] | None = None,
        coroutine: Callable[..., Awaitable[Any]] | None = None,
        args_schema: Any = None,
        return_direct: bool = False,
        handle_tool_error: bool | str | Callable[[ToolException], str] = False,
        response_format: Literal["content", "content_and_artifact"] = "content",
    ) -> None:
        if func is None and coroutine is None:
            raise ValueError(f"tool {name!r} needs a function or a coroutine")
        self.name = name
        self.description = description
        self.func = func
        self.coroutine = coroutine
        self.args_schema = args_schema
        self.return_direct = return_direct
        self.handle_tool_error = handle_tool_error
        self.response_format = response_format

    @classmethod
    def from_function(
        cls,
        func: Callable[..., Any] | None = None,
        coroutine: Callable[..., Awaitable[Any]] | None = None,
        name: str | None = None,
        description: str | None = None,
        args_schema: Any = None,
        **kwargs: Any,
    ) -> StructuredTool:
        source = func or coroutine
        if source is None:
            raise ValueError("from_function needs func or coroutine")
        name = name or source.__name__
        summary, arg_docs = parse_docstring(source.__doc__ or "")
        if description is None:
            if not summary:
                raise ValueError(
                    f"tool {name!r} needs a description: give the function a docstring "
                    "or pass description="
                )
            description = summary
        if args_schema is None:
            args_schema = _schema_from_function(source, name, arg_docs)
        return cls(
            name=name,
            description=description,
            func=func,
            coroutine=coroutine,
            args_schema=args_schema,
            **kwargs,
        )

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        if self.func is None:
            from streamtui.runtime.config import run_coroutine_sync

            coroutine = self.coroutine
            assert coroutine is not None
            return run_coroutine_sync(lambda: coroutine(*args, **kwargs))
        return self.func(*args, **kwargs)

    async def _arun(self, *args: Any, **kwargs: Any) -> Any:
        if self.coroutine is not None:
            return await self.coroutine(*args, **kwargs)
        return await super()._arun(*args, **kwargs)

    def _implementation(self, is_async: bool) -> Callable[..., Any]:
        first, second = (self.coroutine, self.func) if is_async else (self.func, self.coroutine)
        return first or second  # type: ignore[return-value]


def tool(
    name_or_func: str | Callable[..., Any] | None = None,
    *,
    description: str | None = None,
    args_schema: Any = None,
    return_direct: bool = False,
    handle_tool_error: bool | str | Callable[[ToolException], str] = False,
    response_format: Literal["content", "content_and_artifact"] = "content",
    parse_docstring: bool = False,
) -> Any:
    """Make a tool from a function: ``@tool``, ``@tool("name")`` or ``@tool(...)``.

    ``parse_docstring`` is accepted for compatibility; argument descriptions are always
    taken from a Google-style ``Args:`` section when there is one.
    """

    def make(func: Callable[..., Any], name: str | None = None) -> StructuredTool:
        is_async = inspect.iscoroutinefunction(func)
        return StructuredTool.from_function(
            func=None if is_async else func,
            coroutine=func if is_async else None,
            name=name or func.__name__,
            description=description,
            args_schema=args_schema,
            return_direct=return_direct,
            handle_tool_error=handle_tool_error,
            response_format=response_format,
        )

    if callable(name_or_func):
        return make(name_or_func)
    if isinstance(name_or_func, str):
        tool_name = name_or_func
        return lambda func: make(func, tool_name)
    return lambda func: make(func)
