"""What a prompt produces: ``StringPromptValue`` for LLMs, ``ChatPromptValue`` for chat."""

from __future__ import annotations

from collections.abc import Sequence

from streamtui.runtime.messages import BaseMessage, HumanMessage

__all__ = ["ChatPromptValue", "PromptValue", "StringPromptValue", "messages_to_string"]

_PREFIX = {"human": "Human", "ai": "AI", "system": "System", "tool": "Tool", "AIMessageChunk": "AI"}


def messages_to_string(messages: Sequence[BaseMessage]) -> str:
    """``Human: ...`` lines, LangChain's ``get_buffer_string``."""
    return "\n".join(f"{_PREFIX.get(m.type, m.type)}: {m.text}" for m in messages)


class PromptValue:
    """A formatted prompt that either kind of model can take."""

    __slots__ = ()

    def to_string(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} must implement to_string()")

    def to_messages(self) -> list[BaseMessage]:
        raise NotImplementedError(f"{type(self).__name__} must implement to_messages()")


class StringPromptValue(PromptValue):
    __slots__ = ("text",)
    type = "StringPromptValue"

    def __init__(self, text: str) -> None:
        self.text = text

    def to_string(self) -> str:
        return self.text

    def to_messages(self) -> list[BaseMessage]:
        return [HumanMessage(content=self.text)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StringPromptValue) and other.text == self.text

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StringPromptValue(text={self.text!r})"


class ChatPromptValue(PromptValue):
    __slots__ = ("messages",)
    type = "ChatPromptValue"

    def __init__(self, messages: Sequence[BaseMessage]) -> None:
        self.messages = list(messages)

    def to_string(self) -> str:
        return messages_to_string(self.messages)

    def to_messages(self) -> list[BaseMessage]:
        return list(self.messages)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChatPromptValue) and other.messages == self.messages

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ChatPromptValue(messages={self.messages!r})"
