"""prompt | model | parser chains, config (tags/metadata/run_name), nesting, LLMs."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

from .harness import (
    LC,
    ST,
    assert_same_outputs,
    compare_events,
    norm,
    run,
    words,
)

TEXT = "hello big world"


def prompt_model_parser(ns):
    return (
        ns.ChatPromptTemplate.from_template("tell me about {topic}")
        | ns.chat_model(TEXT)
        | ns.StrOutputParser()
    )


# --- 1. prompt | model | StrOutputParser -------------------------------------------


def test_prompt_model_parser_events():
    lc, _ = compare_events(prompt_model_parser, {"topic": "owls"})
    # sanity: the shape we think we are comparing
    assert [e["event"] for e in lc][:4] == [
        "on_chain_start",
        "on_prompt_start",
        "on_prompt_end",
        "on_chat_model_start",
    ]
    assert sum(e["event"] == "on_chat_model_stream" for e in lc) == len(words(TEXT))


def test_prompt_model_parser_with_config_tags_metadata():
    def build(ns):
        return prompt_model_parser(ns).with_config(
            tags=["outer"], metadata={"owner": "chain", "shared": "chain"}
        )

    compare_events(build, {"topic": "owls"})


def test_prompt_model_parser_call_time_config_caller_wins():
    def build(ns):
        return prompt_model_parser(ns).with_config(
            tags=["bound"], metadata={"owner": "chain", "shared": "chain"}
        )

    lc, _ = compare_events(
        build,
        {"topic": "owls"},
        {"tags": ["call"], "metadata": {"shared": "caller", "extra": 1}},
    )
    assert lc[0]["metadata"] == {"owner": "chain", "shared": "caller", "extra": 1}


def test_prompt_model_parser_call_time_run_name():
    compare_events(prompt_model_parser, {"topic": "owls"}, {"run_name": "my_chain"})


def test_step_level_with_config():
    def build(ns):
        return (
            ns.ChatPromptTemplate.from_template("tell me about {topic}").with_config(
                tags=["p"], metadata={"step": "prompt"}
            )
            | ns.chat_model(TEXT).with_config(run_name="the_model", tags=["m"])
            | ns.StrOutputParser().with_config(metadata={"step": "parser"})
        )

    compare_events(build, {"topic": "owls"}, {"metadata": {"step": "caller"}})


def test_prompt_model_parser_outputs():
    assert_same_outputs(prompt_model_parser, {"topic": "owls"})


def test_prompt_model_outputs_messages():
    def build(ns):
        return ns.ChatPromptTemplate.from_template("about {topic}") | ns.chat_model(TEXT)

    res = assert_same_outputs(build, {"topic": "owls"})
    assert res["invoke"][0]["type"] == "AIMessage"
    assert res["stream"][0][0]["type"] == "AIMessageChunk"


def test_from_messages_with_placeholder():
    def build(ns):
        prompt = ns.ChatPromptTemplate.from_messages(
            [
                ("system", "you are {role}"),
                ns.MessagesPlaceholder("history"),
                ("human", "{question}"),
            ]
        )
        return prompt | ns.chat_model(TEXT) | ns.StrOutputParser()

    def inp(ns):
        return {
            "role": "terse",
            "history": [ns.HumanMessage("hi"), ns.AIMessage("hello")],
            "question": "why?",
        }

    # input contains side-specific message classes: compare side by side by hand
    from .harness import collect_events
    from .normalize import normalize_events

    traces = []
    for ns in (LC, ST):
        events, err = collect_events(build(ns), inp(ns))
        assert err is None
        traces.append(normalize_events(events))
    from .harness import assert_same_events

    assert_same_events(*traces)


# --- 6. nested chains ----------------------------------------------------------------


def test_nested_sequences_tags_metadata_run_names():
    def build(ns):
        inner = (ns.chat_model(TEXT) | ns.StrOutputParser()).with_config(
            run_name="inner", tags=["inner_tag"], metadata={"level": "inner"}
        )
        middle = ns.RunnableSequence(
            ns.ChatPromptTemplate.from_template("q {topic}"), inner, name="middle"
        ).with_config(tags=["middle_tag"], metadata={"level": "middle", "m": 1})
        return (middle | ns.RunnableLambda(lambda s: s.upper(), name="upper")).with_config(
            tags=["root_tag"], metadata={"level": "root", "r": 1}
        )

    compare_events(build, {"topic": "owls"})


def test_nested_unnamed_sequence_inside_lambda_list():
    # an unnamed inner sequence is flattened by `|`; via with_config it is not
    def build(ns):
        inner = (ns.chat_model(TEXT) | ns.StrOutputParser()).with_config(tags=["x"])
        return ns.ChatPromptTemplate.from_template("q {topic}") | inner

    compare_events(build, {"topic": "owls"})
    assert_same_outputs(build, {"topic": "owls"}, modes=("invoke", "stream"))


# --- 8. non-chat LLM -----------------------------------------------------------------


def test_llm_prompt_chain_events():
    def build(ns):
        return (
            ns.PromptTemplate.from_template("complete: {text}")
            | ns.llm("one two three")
            | ns.StrOutputParser()
        )

    compare_events(build, {"text": "abc"})


def test_llm_prompt_chain_outputs():
    def build(ns):
        return (
            ns.PromptTemplate.from_template("complete: {text}")
            | ns.llm("one two three")
            | ns.StrOutputParser()
        )

    assert_same_outputs(build, {"text": "abc"})


def test_llm_alone_events():
    compare_events(lambda ns: ns.llm("one two three"), "prompt text")


def test_fake_streaming_list_llm_vs_scripted_llm_outputs():
    # FakeStreamingListLLM streams one character per chunk (and not through callbacks,
    # so only outputs are compared here).
    lc_llm = LC.FakeStreamingListLLM(responses=["abc de"])
    st_llm = ST.ScriptedLLM(["abc de"], chunking="chars")
    p_lc = LC.PromptTemplate.from_template("x {v}") | lc_llm | LC.StrOutputParser()
    p_st = ST.PromptTemplate.from_template("x {v}") | st_llm | ST.StrOutputParser()
    assert list(p_lc.stream({"v": 1})) == list(p_st.stream({"v": 1}))
    assert p_lc.invoke({"v": 1}) == p_st.invoke({"v": 1})

    async def ast(p):
        return [c async for c in p.astream({"v": 1})]

    assert run(ast(p_lc)) == run(ast(p_st))


def test_fake_list_chat_model_vs_scripted_chars():
    # FakeListChatModel streams characters.
    lc_m = LC.FakeListChatModel(responses=["ab c"])
    st_m = ST.ScriptedChatModel(["ab c"], chunking="chars")
    assert norm(list(lc_m.stream("hi"))) == norm(list(st_m.stream("hi")))


# --- 13. models alone: events and outputs ---------------------------------------------


def test_chat_model_root_events():
    compare_events(lambda ns: ns.chat_model(TEXT), "hi")


def test_chat_model_root_message_list_input():
    compare_events(lambda ns: ns.chat_model(TEXT), [("system", "be brief"), ("human", "hi")])


def test_chat_model_outputs():
    res = assert_same_outputs(lambda ns: ns.chat_model(TEXT), "hi")
    assert [c["content"] for c in res["stream"][0]] == words(TEXT)
    assert res["stream"][0][-1]["chunk_position"] == "last"


def tool_call_reply(ns):
    return ns.AIMessage(
        content="let me add",
        tool_calls=[
            {"name": "add", "args": {"a": 1, "b": 22}, "id": "call_1", "type": "tool_call"},
            {
                "name": "mul",
                "args": {"x": "long argument value"},
                "id": "call_2",
                "type": "tool_call",
            },
        ],
    )


def test_tool_call_chunks_events():
    def build(ns):
        return ns.ChatPromptTemplate.from_template("{q}") | ns.chunked_chat_model(
            tool_call_reply(ns)
        )

    lc, _ = compare_events(build, {"q": "add"})
    end = next(e for e in lc if e["event"] == "on_chat_model_end")
    assert [c["name"] for c in end["data"]["output"]["tool_calls"]] == ["add", "mul"]


def test_tool_call_chunks_outputs():
    assert_same_outputs(lambda ns: ns.chunked_chat_model(tool_call_reply(ns)), "hi")


def test_chunked_model_outputs_and_events():
    chunks = ["Hel", "lo", ", ", "wor", "ld"]
    assert_same_outputs(lambda ns: ns.chunked_chat_model(chunks), "hi")
    compare_events(lambda ns: ns.chunked_chat_model(chunks) | ns.StrOutputParser(), "hi")


def test_nested_calls_with_their_own_config_still_inherit_tags_and_metadata():
    def build(ns):
        inner = ns.RunnableLambda(lambda x: x).with_config(run_name="inner")
        bound = ns.RunnableLambda(lambda x: x).with_config(run_name="bound", tags=["t2"])
        plain = ns.RunnableLambda(lambda x: x, name="plain")

        def outer(x):
            inner.invoke(x, {"tags": ["explicit"], "metadata": {"m": 2}})
            bound.invoke(x)
            plain.invoke(x, {"tags": ["aaa", "zzz"]})
            return x

        return ns.RunnableLambda(outer).with_config(run_name="outer")

    compare_events(build, 1, {"tags": ["root"], "metadata": {"m0": 1}})


def test_nested_astream_events_are_seen_by_the_outer_watcher():
    def build(ns):
        inner = (
            ns.ChatPromptTemplate.from_template("say {x}")
            | ns.chat_model("a b")
            | (ns.StrOutputParser())
        )

        async def outer(x):
            # What the inner consumer itself sees differs: langchain's inner stream lacks
            # the root's chain_stream events (its tap is claimed by the outer handler);
            # streamtui's inner stream is complete (tests/test_events.py).
            async for _ in inner.astream_events({"x": x}, version="v2"):
                pass
            return "done"

        return ns.RunnableLambda(outer, name="outer")

    # Per run: the inner stream runs in its own task on both sides.
    compare_events(build, "hi", parallel=True)
