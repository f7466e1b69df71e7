"""Prompt templates: ``PromptTemplate``, ``ChatPromptTemplate``, ``MessagesPlaceholder``.

Templates use f-string syntax (``{name}``, ``{{`` for a literal brace). Only plain
names are allowed in fields: ``{x.attr}`` or ``{x[0]}`` would let template text reach
into Python objects, so they are rejected when the template is built.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from streamtui.runtime.base import Runnable
from streamtui.runtime.config import RunnableConfig
from streamtui.runtime.messages import (
    ROLE_CLASSES,
    BaseMessage,
    HumanMessage,
    coerce_to_message,
)
from streamtui.runtime.prompt_values import ChatPromptValue, PromptValue, StringPromptValue
from streamtui.runtime.tracing import Run

__all__ = [
    "BasePromptTemplate",
    "ChatPromptTemplate",
    "MessagesPlaceholder",
    "PromptTemplate",
]

_FORMATTER = string.Formatter()


def template_variables(template: str) -> list[str]:
    """The field names of an f-string template, in order of first use."""
    names: list[str] = []
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as e:
        raise ValueError(
            f"bad prompt template {template!r}: {e} (write {{{{ for a literal {{)"
        ) from None
    for _, field, _, _ in parsed:
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(
                f"prompt template field {{{field}}} is not a plain name: use names like "
                f"{{topic}}, or write {{{{ and }}}} for literal braces"
            )
        if field not in names:
            names.append(field)
    return names


class BasePromptTemplate(Runnable[dict[str, Any], PromptValue]):
    """Formats a dict of variables into a prompt value; a ``prompt`` run in events."""

    run_type = "prompt"
    input_variables: list[str]
    partial_variables: dict[str, Any]

    def format_prompt(self, **kwargs: Any) -> PromptValue:
        raise NotImplementedError(f"{type(self).__name__} must implement format_prompt()")

    def _inputs(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            if len(self.input_variables) == 1:
                value = {self.input_variables[0]: value}
            else:
                raise TypeError(
                    f"{self.get_name()} needs a dict with keys {self.input_variables}, "
                    f"got {type(value).__name__}"
                )
        merged = {**self._partials(value), **value}
        missing = [v for v in self.input_variables if v not in merged]
        if missing:
            raise KeyError(
                f"{self.get_name()} is missing variable(s) {missing}; expected "
                f"{self.input_variables}, got {sorted(value)}"
            )
        return merged

    def _format(self, value: Any, config: RunnableConfig, run: Run | None) -> PromptValue:
        return self.format_prompt(**self._inputs(value))

    async def _aformat(self, value: Any, config: RunnableConfig, run: Run | None) -> PromptValue:
        return self.format_prompt(**self._inputs(value))

    def invoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> PromptValue:
        return self._call(self._format, input, config)  # type: ignore[no-any-return]

    async def ainvoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> PromptValue:
        return await self._acall(self._aformat, input, config)  # type: ignore[no-any-return]

    def _partials(self, given: dict[str, Any] | None = None) -> dict[str, Any]:
        """Partial values not in ``given``; a callable one is called each time it is
        used (e.g. today's date)."""
        given = given or {}
        return {
            k: v() if callable(v) else v
            for k, v in self.partial_variables.items()
            if k not in given
        }

    def partial(self, **kwargs: Any) -> BasePromptTemplate:
        """A copy with some variables filled in."""
        import copy

        clone = copy.copy(self)
        clone.partial_variables = {**self.partial_variables, **kwargs}
        clone.input_variables = [v for v in self.input_variables if v not in kwargs]
        return clone

    def format(self, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement format()")


class PromptTemplate(BasePromptTemplate):
    """A text prompt: ``PromptTemplate.from_template("tell me about {topic}")``."""

    def __init__(
        self,
        template: str,
        *,
        input_variables: Sequence[str] | None = None,
        partial_variables: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.template = template
        self.partial_variables = dict(partial_variables or {})
        found = template_variables(template)
        self.input_variables = [
            v for v in (input_variables or found) if v not in self.partial_variables
        ]
        self.name = name

    @classmethod
    def from_template(cls, template: str, **kwargs: Any) -> PromptTemplate:
        return cls(template, **kwargs)

    def format(self, **kwargs: Any) -> str:
        return self.template.format(**{**self._partials(kwargs), **kwargs})

    def format_prompt(self, **kwargs: Any) -> StringPromptValue:
        return StringPromptValue(self.format(**kwargs))

    def __repr__(self) -> str:
        return f"PromptTemplate(template={self.template!r})"


class MessagesPlaceholder:
    """Stands for a list of messages passed in under ``variable_name``."""

    def __init__(
        self, variable_name: str, *, optional: bool = False, n_messages: int | None = None
    ) -> None:
        self.variable_name = variable_name
        self.optional = optional
        self.n_messages = n_messages

    @property
    def input_variables(self) -> list[str]:
        return [] if self.optional else [self.variable_name]

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        value = kwargs.get(self.variable_name)
        if value is None:
            if self.optional:
                return []
            raise KeyError(f"MessagesPlaceholder needs the variable {self.variable_name!r}")
        if isinstance(value, (str, BaseMessage, tuple)):
            value = [value]
        if not isinstance(value, list):
            raise TypeError(
                f"variable {self.variable_name!r} should be a list of messages, "
                f"got {type(value).__name__}"
            )
        messages = [coerce_to_message(m) for m in value]
        if self.n_messages:
            messages = messages[-self.n_messages :]
        return messages

    def __repr__(self) -> str:
        return f"MessagesPlaceholder(variable_name={self.variable_name!r})"


class _MessageTemplate:
    """One templated message of a chat prompt."""

    def __init__(self, cls: type[BaseMessage], template: str) -> None:
        self.cls = cls
        self.template = template
        self.input_variables = template_variables(template)

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        return [self.cls(content=self.template.format(**kwargs))]


class _FixedMessage:
    def __init__(self, message: BaseMessage) -> None:
        self.message = message
        self.input_variables: list[str] = []

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        return [self.message]


MessageLike = Any


def _to_part(item: MessageLike) -> Any:
    if isinstance(item, (MessagesPlaceholder, _MessageTemplate, _FixedMessage)):
        return item
    if isinstance(item, BaseMessage):
        return _FixedMessage(item)
    if isinstance(item, str):
        return _MessageTemplate(HumanMessage, item)
    if isinstance(item, (tuple, list)) and len(item) == 2:
        role, template = item
        if role == "placeholder":
            name = str(template).strip()
            if not (name.startswith("{") and name.endswith("}")):
                raise ValueError(
                    f'a ("placeholder", ...) message needs "{{variable}}", got {template!r}'
                )
            return MessagesPlaceholder(name[1:-1], optional=True)
        cls = ROLE_CLASSES.get(role)
        if cls is None:
            raise ValueError(
                f'unknown message role {role!r}: use one of {sorted(ROLE_CLASSES)} or "placeholder"'
            )
        if not isinstance(template, str):
            raise TypeError(f"the {role} message template must be text, got {template!r}")
        return _MessageTemplate(cls, template)
    raise TypeError(f"cannot use {item!r} as a chat prompt message")


class ChatPromptTemplate(BasePromptTemplate):
    """A list of message templates that formats into a ``ChatPromptValue``."""

    def __init__(
        self,
        messages: Sequence[MessageLike],
        *,
        partial_variables: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.messages = [_to_part(m) for m in messages]
        self.partial_variables = dict(partial_variables or {})
        names: list[str] = []
        for part in self.messages:
            for v in part.input_variables:
                if v not in names and v not in self.partial_variables:
                    names.append(v)
        self.input_variables = names
        self.name = name

    @classmethod
    def from_template(cls, template: str, **kwargs: Any) -> ChatPromptTemplate:
        return cls([("human", template)], **kwargs)

    @classmethod
    def from_messages(cls, messages: Sequence[MessageLike], **kwargs: Any) -> ChatPromptTemplate:
        return cls(messages, **kwargs)

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        values = {**self._partials(kwargs), **kwargs}
        out: list[BaseMessage] = []
        for part in self.messages:
            out.extend(part.format_messages(**values))
        return out

    def format_prompt(self, **kwargs: Any) -> ChatPromptValue:
        return ChatPromptValue(self.format_messages(**kwargs))

    def format(self, **kwargs: Any) -> str:
        return self.format_prompt(**kwargs).to_string()

    def __add__(self, other: Any) -> ChatPromptTemplate:
        others = other.messages if isinstance(other, ChatPromptTemplate) else [other]
        return ChatPromptTemplate(
            [*self.messages, *others],
            partial_variables={
                **self.partial_variables,
                **(other.partial_variables if isinstance(other, ChatPromptTemplate) else {}),
            },
        )

    def __repr__(self) -> str:
        return f"ChatPromptTemplate(input_variables={self.input_variables!r})"
