"""Prompt templates: variables, placeholders, prompt values, clear errors."""

from __future__ import annotations

import pytest

from streamtui import (
    AIMessage,
    ChatPromptTemplate,
    ChatPromptValue,
    HumanMessage,
    MessagesPlaceholder,
    PromptTemplate,
    StringPromptValue,
    SystemMessage,
)


def test_prompt_template_formats_and_returns_a_string_prompt_value():
    prompt = PromptTemplate.from_template("tell me about {topic} in {n} words")
    assert prompt.input_variables == ["topic", "n"]
    value = prompt.invoke({"topic": "owls", "n": 5})
    assert value == StringPromptValue("tell me about owls in 5 words")
    assert value.to_messages() == [HumanMessage(content="tell me about owls in 5 words")]


def test_single_variable_prompt_accepts_a_bare_value():
    assert PromptTemplate.from_template("hi {name}").invoke("bob").to_string() == "hi bob"


def test_chat_prompt_from_messages_with_placeholder():
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are {persona}."),
            MessagesPlaceholder("history"),
            ("human", "{question}"),
        ]
    )
    assert prompt.input_variables == ["persona", "history", "question"]
    value = prompt.invoke(
        {
            "persona": "terse",
            "history": [("human", "hi"), AIMessage(content="hello")],
            "question": "why?",
        }
    )
    assert isinstance(value, ChatPromptValue)
    assert value.to_messages() == [
        SystemMessage(content="You are terse."),
        HumanMessage(content="hi"),
        AIMessage(content="hello"),
        HumanMessage(content="why?"),
    ]
    assert value.to_string().splitlines()[0] == "System: You are terse."


def test_optional_placeholder_and_partial():
    prompt = ChatPromptTemplate.from_messages([("placeholder", "{extra}"), ("human", "{a} {b}")])
    assert prompt.input_variables == ["a", "b"]
    partial = prompt.partial(a="x")
    assert partial.invoke({"b": "y"}).to_messages() == [HumanMessage(content="x y")]


def test_literal_braces_and_rejected_fields():
    assert PromptTemplate.from_template("{{not a var}} {x}").format(x=1) == "{not a var} 1"
    with pytest.raises(ValueError, match="not a plain name"):
        PromptTemplate.from_template("{x.__class__}")


def test_missing_variable_names_it():
    with pytest.raises(KeyError, match="missing variable"):
        ChatPromptTemplate.from_template("{a} {b}").invoke({"a": 1})


def test_callable_partials_are_called_at_format_time():
    calls = []

    def today():
        calls.append(1)
        return "2026-11-23"

    prompt = PromptTemplate.from_template("on {date}: {x}").partial(date=today)
    assert prompt.invoke({"x": "hi"}).to_string() == "on 2026-11-23: hi"
    assert prompt.format(x="again") == "on 2026-11-23: again"
    assert len(calls) == 2
