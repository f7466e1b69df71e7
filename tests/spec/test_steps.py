"""A declared chain (``steps:``): each step kind builds the runnable it names, and the
loaded chain runs to the expected output."""

from __future__ import annotations

import asyncio

import pytest

from streamtui import (
    AIMessage,
    ChatPromptTemplate,
    HumanMessage,
    InMemoryRetriever,
    JsonOutputParser,
    RunnableLambda,
    RunnableParallel,
    RunnableSequence,
    ScriptedChatModel,
    ScriptedModelError,
    StrOutputParser,
)
from streamtui.spec import SpecError

from .conftest import no_latency


def test_prompt_model_parser_chain_runs_and_streams(load):
    spec = load(
        """
        name: joke
        input: {topic: parrot}
        steps:
          - prompt: {template: "tell me a joke about {topic}"}
          - model:
              responses: ["Why did the parrot wear a raincoat? Polly-ester."]
          - parser: str
        """
    )
    assert (spec.name, spec.kind, spec.input) == ("joke", "chain", {"topic": "parrot"})
    chain = spec.target
    assert isinstance(chain, RunnableSequence)
    prompt, model, parser = chain.steps
    assert isinstance(prompt, ChatPromptTemplate) and prompt.input_variables == ["topic"]
    assert isinstance(model, ScriptedChatModel) and isinstance(parser, StrOutputParser)
    chunks = list(chain.stream(spec.input))
    assert len(chunks) > 3
    assert "".join(chunks) == "Why did the parrot wear a raincoat? Polly-ester."


def test_prompt_shorthand_and_messages_with_a_placeholder(load):
    spec = load(
        """
        steps:
          - prompt:
              messages:
                - [system, "You are {persona}."]
                - [placeholder, "{history}"]
                - [human, "{question}"]
        """
    )
    value = spec.target.invoke(
        {"persona": "terse", "history": [("human", "hi"), ("ai", "hello")], "question": "why?"}
    )
    assert [(m.type, m.content) for m in value.to_messages()] == [
        ("system", "You are terse."),
        ("human", "hi"),
        ("ai", "hello"),
        ("human", "why?"),
    ]
    short = load('steps:\n  - prompt: "tell me about {topic}"\n')
    assert short.target.invoke({"topic": "otters"}).to_messages() == [
        HumanMessage("tell me about otters")
    ]


def test_scripted_model_settings_reach_the_model(load):
    spec = load(
        """
        steps:
          - model:
              responses:
                - "one two three"
                - [pre, "cut ", chunks]
                - content: ""
                  tool_calls: [{name: lookup, args: {q: otters}}]
              chunking: chars
              name: scripted-writer
              model: tiny-model
        """
    )
    model = spec.target
    assert isinstance(model, ScriptedChatModel)
    assert model.name == "scripted-writer" and model.model == "tiny-model"
    assert [c.content for c in model.stream("x")] == list("one two three")
    assert [c.content for c in model.stream("x")] == ["pre", "cut ", "chunks"]
    message = model.invoke("x")
    assert isinstance(message, AIMessage)
    assert message.tool_calls == [
        {"name": "lookup", "args": {"q": "otters"}, "id": "call_0", "type": "tool_call"}
    ]


def test_scripted_model_failure_injection(load):
    spec = load(
        """
        steps:
          - model: {responses: ["a b c d"], error_on_chunk: 2, error: "the script says no"}
        """
    )
    got = []
    with pytest.raises(ScriptedModelError, match="the script says no"):
        for chunk in spec.target.stream("x"):
            got.append(chunk.content)
    assert got == ["a", " "]


def test_a_bare_model_step_is_the_default_scripted_model(load):
    spec = load("steps:\n  - model:\n")
    assert spec.target.invoke("hi").content == "Hello from the scripted model."


def test_json_parser_streams_growing_objects_and_diff_ops(load):
    spec = load(
        """
        steps:
          - model: {responses: ['{"countries": [{"name": "France"}]}'], chunking: 4}
          - parser: json
        """
    )
    values = list(spec.target.stream("list countries"))
    assert values[0] == {} and values[-1] == {"countries": [{"name": "France"}]}
    assert {"countries": [{"name": "Fra"}]} in values
    diff = load(
        """
        steps:
          - model: {responses: ['{"a": 1}']}
          - parser: {json: {diff: true}}
        """
    )
    parser = diff.target.steps[-1]
    assert isinstance(parser, JsonOutputParser) and parser.diff
    ops = [op for chunk in diff.target.stream("x") for op in chunk]
    assert {"op": "add", "path": "/a", "value": 1} in ops


def test_lambda_tool_retriever_and_parallel_steps(load, helper_module):
    mod = helper_module(
        """
        from streamtui import tool

        def shout(value):
            return value["text"].upper()

        @tool
        def word_count(text: str) -> int:
            '''Count the words of a text.'''
            return len(text.split())
        """
    )
    spec = load(
        f"""
        input: {{text: sea otters hold hands}}
        steps:
          - parallel:
              loud: {{lambda: "{mod}:shout"}}
              words: {{tool: "{mod}:word_count"}}
              docs:
                - lambda: "{mod}:shout"
                - retriever:
                    documents:
                      - Otters hold hands while they sleep.
                      - page_content: Parrots can talk.
                        metadata: {{source: birds}}
                      - Sea otters live in the Pacific.
                    k: 1
        """
    )
    parallel = spec.target
    assert isinstance(parallel, RunnableParallel)
    assert isinstance(parallel.steps["loud"], RunnableLambda)
    assert isinstance(parallel.steps["docs"].steps[-1], InMemoryRetriever)
    out = parallel.invoke(spec.input)
    assert out["loud"] == "SEA OTTERS HOLD HANDS"
    assert out["words"] == 4
    assert [d.page_content for d in out["docs"]] == ["Otters hold hands while they sleep."]


def test_retriever_by_import_path(load, helper_module):
    mod = helper_module(
        """
        from streamtui import InMemoryRetriever
        retriever = InMemoryRetriever.from_texts(["alpha beta", "gamma"], k=1)
        """
    )
    spec = load(f"steps:\n  - retriever: {mod}:retriever\n")
    assert [d.page_content for d in spec.target.invoke("gamma")] == ["gamma"]


def test_a_chain_streams_events_like_the_python_chain(load):
    spec = load(
        """
        steps:
          - prompt: "say {x}"
          - model: {responses: ["a b"]}
          - parser: str
        """
    )

    async def events():
        return [e async for e in spec.target.astream_events({"x": 1}, version="v2")]

    names = [(e["event"], e["name"]) for e in asyncio.run(events())]
    assert names[0] == ("on_chain_start", "RunnableSequence")
    assert ("on_chat_model_stream", "ScriptedChatModel") in names
    assert names[-1] == ("on_chain_end", "RunnableSequence")


def test_a_lambda_that_is_already_a_runnable_is_used_as_is(load, helper_module):
    mod = helper_module(
        """
        from streamtui import RunnableLambda
        double = RunnableLambda(lambda x: x * 2, name="double")
        """
    )
    spec = load(f"input: 21\nsteps:\n  - lambda: {mod}:double\n")
    assert spec.target.name == "double" and spec.target.invoke(spec.input) == 42


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("steps:\n  - {}\n", "empty step"),
        ("steps:\n  - parallel: {}\n", "at least one branch"),
        ("steps:\n  - prompt: {template: a, messages: [[human, b]]}\n", "not both"),
        ("steps:\n  - prompt: {}\n", "neither"),
        ("steps:\n  - model: {responses: []}\n", "at least one reply"),
        ("steps:\n  - model: {error: boom}\n", "set error_on_chunk"),
        ("steps:\n  - model: {provider: openai, responses: [hi]}\n", "only applies to provider"),
        ("steps:\n  - retriever: {documents: []}\n", "at least one document"),
        ("steps: []\n", "steps is empty"),
    ],
)
def test_step_mistakes(load, body, words):
    with pytest.raises(SpecError) as caught:
        load(body)
    assert words in caught.value.message
    assert caught.value.line is not None


def test_a_nested_mistake_points_inside_the_parallel_branch(load):
    with pytest.raises(SpecError) as caught:
        load(
            """
            steps:
              - parallel:
                  a:
                    - prompt: "x"
                    - parsr: str
            """
        )
    assert (caught.value.line, caught.value.column) == (5, 11)
    assert "did you mean 'parser'" in caught.value.message


def test_latency_helper_makes_demo_chains_instant(load):
    spec = load("steps:\n  - model: {responses: ['a b c'], chunk_latency: 5}\n")
    no_latency(spec.target)
    assert spec.target.invoke("x").content == "a b c"
