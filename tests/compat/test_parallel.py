"""RunnableParallel, dict coercion and RunnablePassthrough.assign (compared per run)."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

from .harness import assert_same_outputs, compare_events


def two_branch_map(ns):
    return ns.ChatPromptTemplate.from_template("about {topic}") | {
        "a": ns.chat_model("one two three") | ns.StrOutputParser(),
        "b": ns.chat_model("four five") | ns.StrOutputParser(),
    }


def test_dict_coercion_in_sequence_events_per_run():
    lc, _ = compare_events(two_branch_map, {"topic": "owls"}, parallel=True)
    names = {e["name"] for e in lc}
    assert "RunnableParallel<a,b>" in names


def test_dict_coercion_in_sequence_outputs():
    # (stream/astream chunk interleaving is scheduling-dependent: see the multiset test)
    res = assert_same_outputs(
        two_branch_map, {"topic": "owls"}, modes=("invoke", "ainvoke", "batch", "abatch")
    )
    assert res["invoke"][0] == {"a": "one two three", "b": "four five"}


def test_dict_coercion_stream_chunks_as_multiset():
    # chunk interleaving across branches is scheduling-dependent: compare as a multiset
    from .harness import outputs

    res = outputs(two_branch_map, {"topic": "owls"}, modes=("stream", "astream"))
    for mode, (a, b) in res.items():
        key = lambda d: sorted(d.items())  # noqa: E731
        assert sorted(a, key=key) == sorted(b, key=key), mode


def test_explicit_runnable_parallel_root():
    def build(ns):
        return ns.RunnableParallel(
            upper=ns.RunnableLambda(lambda x: x.upper(), name="upper"),
            length=ns.RunnableLambda(lambda x: len(x), name="length"),
            same=ns.RunnablePassthrough(),
        )

    compare_events(build, "abc", parallel=True)
    assert_same_outputs(build, "abc", modes=("invoke", "ainvoke", "batch", "abatch"))


def test_parallel_with_tags_and_metadata():
    def build(ns):
        par = ns.RunnableParallel(
            {
                "a": ns.chat_model("x y", name="model_a").with_config(tags=["ta"]),
                "b": ns.RunnableLambda(lambda v: v, name="ident"),
            }
        ).with_config(tags=["par"], metadata={"p": 1})
        return (ns.ChatPromptTemplate.from_template("{q}") | par).with_config(
            run_name="root", metadata={"r": 1}
        )

    compare_events(build, {"q": "hi"}, {"tags": ["call"]}, parallel=True)


def test_single_branch_map():
    def build(ns):
        return ns.ChatPromptTemplate.from_template("{q}") | {
            "only": ns.chat_model("a b") | ns.StrOutputParser()
        }

    # one branch: fully sequential, so the global order must match too
    compare_events(build, {"q": "hi"})


def test_passthrough_assign_events_per_run():
    def build(ns):
        return ns.RunnablePassthrough.assign(
            answer=ns.ChatPromptTemplate.from_template("about {topic}")
            | ns.chat_model("one two")
            | ns.StrOutputParser(),
            size=ns.RunnableLambda(lambda x: len(x["topic"]), name="size"),
        )

    compare_events(build, {"topic": "owls"}, parallel=True)


def test_passthrough_assign_outputs():
    def build(ns):
        return ns.RunnablePassthrough.assign(
            answer=ns.ChatPromptTemplate.from_template("about {topic}")
            | ns.chat_model("one two")
            | ns.StrOutputParser(),
        )

    res = assert_same_outputs(build, {"topic": "owls"}, modes=("invoke", "ainvoke", "batch"))
    assert res["invoke"][0] == {"topic": "owls", "answer": "one two"}


def test_passthrough_assign_stream_chunks():
    # one mapper key: the chunk order is deterministic (input keys first, then the
    # mapped key's chunks)
    def build(ns):
        return ns.RunnablePassthrough.assign(
            answer=ns.ChatPromptTemplate.from_template("about {topic}")
            | ns.chat_model("one two")
            | ns.StrOutputParser(),
        )

    assert_same_outputs(build, {"topic": "owls"}, modes=("stream", "astream"))
    compare_events(build, {"topic": "owls"})


def test_assign_inside_sequence_per_run():
    # Compared per run: where the mapper's start lands relative to the next step's
    # start is task scheduling (langchain steps every iterator in a fresh task), not
    # semantics; docs/compat.md says so.
    def build(ns):
        return (
            ns.RunnableLambda(lambda x: {"topic": x}, name="wrap")
            | ns.RunnablePassthrough.assign(
                answer=ns.ChatPromptTemplate.from_template("about {topic}")
                | ns.chat_model("one two")
                | ns.StrOutputParser()
            )
            | ns.RunnableLambda(lambda d: f"{d['topic']}: {d['answer']}", name="fmt")
        )

    compare_events(build, "owls", parallel=True)
    assert_same_outputs(build, "owls")
