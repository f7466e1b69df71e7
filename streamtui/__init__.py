"""streamtui: a LangChain-compatible streaming runtime and a terminal UI to watch it.

Names are loaded on first use, so ``import streamtui`` stays cheap (no Textual, no
provider SDKs).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # runnables
    "Runnable": "streamtui.runtime.base",
    "RunnableSequence": "streamtui.runtime.base",
    "RunnableParallel": "streamtui.runtime.base",
    "RunnableMap": "streamtui.runtime.base",
    "RunnableLambda": "streamtui.runtime.base",
    "RunnableGenerator": "streamtui.runtime.base",
    "RunnablePassthrough": "streamtui.runtime.base",
    "RunnableAssign": "streamtui.runtime.base",
    "RunnableBinding": "streamtui.runtime.base",
    "chain": "streamtui.runtime.base",
    "RunnableConfig": "streamtui.runtime.config",
    "get_config": "streamtui.runtime.config",
    # messages and prompts
    "BaseMessage": "streamtui.runtime.messages",
    "SystemMessage": "streamtui.runtime.messages",
    "HumanMessage": "streamtui.runtime.messages",
    "AIMessage": "streamtui.runtime.messages",
    "AIMessageChunk": "streamtui.runtime.messages",
    "ToolMessage": "streamtui.runtime.messages",
    "GenerationChunk": "streamtui.runtime.outputs",
    "PromptValue": "streamtui.runtime.prompt_values",
    "ChatPromptValue": "streamtui.runtime.prompt_values",
    "StringPromptValue": "streamtui.runtime.prompt_values",
    "PromptTemplate": "streamtui.runtime.prompts",
    "ChatPromptTemplate": "streamtui.runtime.prompts",
    "MessagesPlaceholder": "streamtui.runtime.prompts",
    # parsers
    "BaseOutputParser": "streamtui.runtime.parsers",
    "BaseTransformOutputParser": "streamtui.runtime.parsers",
    "StrOutputParser": "streamtui.runtime.parsers",
    "JsonOutputParser": "streamtui.runtime.parsers",
    "OutputParserException": "streamtui.runtime.parsers",
    "JsonStreamParser": "streamtui.jsonstream",
    # graphs
    "StateGraph": "streamtui.graph",
    "START": "streamtui.graph",
    "END": "streamtui.graph",
    "Send": "streamtui.graph",
    "get_stream_writer": "streamtui.graph",
    "add_messages": "streamtui.graph",
    "JsonStreamError": "streamtui.jsonstream",
    # models
    "BaseChatModel": "streamtui.models.base",
    "BaseLLM": "streamtui.models.base",
    "ScriptedChatModel": "streamtui.models.scripted",
    "ScriptedLLM": "streamtui.models.scripted",
    "ScriptedModelError": "streamtui.models.scripted",
    # tools and retrieval
    "BaseTool": "streamtui.runtime.tools",
    "StructuredTool": "streamtui.runtime.tools",
    "ToolException": "streamtui.runtime.tools",
    "tool": "streamtui.runtime.tools",
    "Document": "streamtui.runtime.retrievers",
    "BaseRetriever": "streamtui.runtime.retrievers",
    "InMemoryRetriever": "streamtui.runtime.retrievers",
    # custom events
    "dispatch_custom_event": "streamtui.runtime.custom_events",
    "adispatch_custom_event": "streamtui.runtime.custom_events",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'streamtui' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from streamtui.graph import END, START, Send, StateGraph, add_messages, get_stream_writer
    from streamtui.jsonstream import JsonStreamError, JsonStreamParser
    from streamtui.models.base import BaseChatModel, BaseLLM
    from streamtui.models.scripted import ScriptedChatModel, ScriptedLLM, ScriptedModelError
    from streamtui.runtime.base import (
        Runnable,
        RunnableAssign,
        RunnableBinding,
        RunnableGenerator,
        RunnableLambda,
        RunnableMap,
        RunnableParallel,
        RunnablePassthrough,
        RunnableSequence,
        chain,
    )
    from streamtui.runtime.config import RunnableConfig, get_config
    from streamtui.runtime.custom_events import adispatch_custom_event, dispatch_custom_event
    from streamtui.runtime.messages import (
        AIMessage,
        AIMessageChunk,
        BaseMessage,
        HumanMessage,
        SystemMessage,
        ToolMessage,
    )
    from streamtui.runtime.outputs import GenerationChunk
    from streamtui.runtime.parsers import (
        BaseOutputParser,
        BaseTransformOutputParser,
        JsonOutputParser,
        OutputParserException,
        StrOutputParser,
    )
    from streamtui.runtime.prompt_values import ChatPromptValue, PromptValue, StringPromptValue
    from streamtui.runtime.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate
    from streamtui.runtime.retrievers import BaseRetriever, Document, InMemoryRetriever
    from streamtui.runtime.tools import BaseTool, StructuredTool, ToolException, tool
