"""Functions as runnables: @chain, RunnableLambda, generators, custom events,
buffering versus pass-through steps, auto-streaming of nested model calls."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

from .harness import (
    LC,
    ST,
    assert_same_outputs,
    compare_events,
    outcome,
    run,
)
from .normalize import normalize_metadata

TEXT = "hello big world"


def prompt(ns):
    return ns.ChatPromptTemplate.from_template("tell me about {topic}")


# --- 2. @chain and RunnableLambda ----------------------------------------------------


def test_chain_decorator_as_root_sync():
    def build(ns):
        @ns.chain
        def shout(x: dict) -> str:
            return x["topic"].upper() + "!"

        return shout

    compare_events(build, {"topic": "owls"})
    assert_same_outputs(build, {"topic": "owls"})


def test_chain_decorator_as_root_async():
    def build(ns):
        @ns.chain
        async def shout(x: dict) -> str:
            return x["topic"].upper() + "!"

        return shout

    compare_events(build, {"topic": "owls"})
    assert_same_outputs(build, {"topic": "owls"}, modes=("ainvoke", "astream", "abatch"))


def test_chain_decorator_sync_invoke_of_async_function():
    # Documented difference (docs/compat.md, Runnables): langchain raises TypeError,
    # streamtui runs the coroutine function and returns what ainvoke would.
    def call(ns):
        @ns.chain
        async def shout(x: dict) -> str:
            return x["topic"].upper() + "!"

        return shout.invoke({"topic": "owls"})

    assert outcome(lambda: call(LC)) == ("raises", "TypeError")
    assert outcome(lambda: call(ST)) == ("ok", "OWLS!")


def test_named_lambda_inside_sequence():
    def build(ns):
        return (
            ns.RunnableLambda(lambda x: {"topic": x["topic"] + "?"}, name="prep")
            | prompt(ns)
            | ns.chat_model(TEXT)
            | ns.StrOutputParser()
            | ns.RunnableLambda(lambda s: s[::-1], name="reverse")
        )

    compare_events(build, {"topic": "owls"})
    assert_same_outputs(build, {"topic": "owls"})


def test_async_lambda_inside_sequence():
    def build(ns):
        async def prep(x: dict) -> dict:
            return {"topic": x["topic"] + "?"}

        async def count(s: str) -> int:
            return len(s)

        return (
            ns.RunnableLambda(prep)
            | prompt(ns)
            | ns.chat_model(TEXT)
            | ns.StrOutputParser()
            | ns.RunnableLambda(count, name="count")
        )

    compare_events(build, {"topic": "owls"})
    assert_same_outputs(build, {"topic": "owls"}, modes=("ainvoke", "astream", "abatch"))


def test_unnamed_lambda_name():
    def build(ns):
        return ns.RunnableLambda(lambda x: x + 1) | ns.RunnableLambda(lambda x: x * 2)

    compare_events(build, 1)


def test_function_coerced_in_sequence():
    def build(ns):
        def add_one(x: int) -> int:
            return x + 1

        return ns.RunnableLambda(lambda x: x * 2, name="double") | add_one

    compare_events(build, 3)
    assert_same_outputs(build, 3)


def test_lambda_taking_config():
    def build(ns):
        def report(x: str, config) -> dict:
            return {
                "x": x,
                "tags": sorted(config.get("tags") or []),
                "metadata": normalize_metadata(config.get("metadata")),
                "run_name": config.get("run_name"),
            }

        return (
            ns.RunnableLambda(lambda x: x + "!", name="bang")
            | ns.RunnableLambda(report, name="report").with_config(
                tags=["inner"], metadata={"who": "inner"}
            )
        ).with_config(tags=["outer"], metadata={"who": "outer", "keep": 1})

    cfg = {"tags": ["caller"], "metadata": {"call": True}}
    compare_events(build, "hi", cfg)
    assert_same_outputs(build, "hi", cfg, modes=("invoke", "ainvoke", "stream", "astream"))


def test_async_lambda_taking_config():
    def build(ns):
        async def report(x: str, config) -> dict:
            return {
                "x": x,
                "tags": sorted(config.get("tags") or []),
                "metadata": normalize_metadata(config.get("metadata")),
            }

        return ns.RunnableLambda(lambda x: x + "!", name="bang") | ns.RunnableLambda(report)

    compare_events(build, "hi", {"metadata": {"call": True}})


def test_chain_returning_runnable():
    def build(ns):
        @ns.chain
        def route(x: dict):
            return prompt(ns) | ns.chat_model(TEXT) | ns.StrOutputParser()

        return route

    compare_events(build, {"topic": "owls"})
    assert_same_outputs(build, {"topic": "owls"}, modes=("invoke", "ainvoke", "stream"))


# --- 10. custom events ---------------------------------------------------------------


def test_sync_custom_event_in_sequence():
    def build(ns):
        def step(x: dict) -> dict:
            ns.dispatch_custom_event("progress", {"stage": "prep", "n": 1})
            ns.dispatch_custom_event("progress", {"stage": "prep", "n": 2})
            return x

        return (
            ns.RunnableLambda(step, name="step").with_config(tags=["ce"], metadata={"k": 1})
            | prompt(ns)
            | ns.chat_model(TEXT)
        )

    lc, _ = compare_events(build, {"topic": "owls"}, {"metadata": {"caller": 1}})
    assert sum(e["event"] == "on_custom_event" for e in lc) == 2


def test_async_custom_event_in_sequence():
    def build(ns):
        async def step(x: dict) -> dict:
            await ns.adispatch_custom_event("progress", {"stage": "prep"})
            return x

        return ns.RunnableLambda(step) | prompt(ns) | ns.chat_model(TEXT) | ns.StrOutputParser()

    lc, _ = compare_events(build, {"topic": "owls"})
    assert any(e["event"] == "on_custom_event" for e in lc)


def test_custom_event_after_model_in_sequence():
    def build(ns):
        def after(s: str) -> str:
            ns.dispatch_custom_event("seen", {"len": len(s)})
            return s

        return prompt(ns) | ns.chat_model(TEXT) | ns.StrOutputParser() | after

    compare_events(build, {"topic": "owls"})


def test_custom_event_with_explicit_config():
    def build(ns):
        async def step(x: str, config) -> str:
            await ns.adispatch_custom_event("explicit", "payload", config=config)
            return x

        return ns.RunnableLambda(lambda x: x, name="first") | ns.RunnableLambda(step)

    compare_events(build, "in")


# --- 11. buffering versus pass-through -----------------------------------------------


def test_plain_function_step_buffers():
    def build(ns):
        return (
            prompt(ns)
            | ns.chat_model(TEXT)
            | ns.StrOutputParser()
            | ns.RunnableLambda(lambda s: s.upper(), name="upper")
        )

    lc, _ = compare_events(build, {"topic": "owls"})
    root_chunks = [e for e in lc if e["event"] == "on_chain_stream" and e["run"] == "R0"]
    assert [e["data"]["chunk"] for e in root_chunks] == ["HELLO BIG WORLD"]


def test_generator_step_passes_through():
    def build(ns):
        def gen(chunks):
            for c in chunks:
                yield c.upper()

        async def agen(chunks):
            async for c in chunks:
                yield c.upper()

        return (
            prompt(ns)
            | ns.chat_model(TEXT)
            | ns.StrOutputParser()
            | ns.RunnableGenerator(gen, agen, name="upper_gen")
        )

    lc, _ = compare_events(build, {"topic": "owls"})
    root_chunks = [e for e in lc if e["event"] == "on_chain_stream" and e["run"] == "R0"]
    assert len(root_chunks) == 5
    assert_same_outputs(build, {"topic": "owls"})


def test_generator_function_coerced_passes_through():
    def build(ns):
        def upper(chunks):
            for c in chunks:
                yield c.upper()

        return prompt(ns) | ns.chat_model(TEXT) | ns.StrOutputParser() | upper

    assert_same_outputs(build, {"topic": "owls"}, modes=("invoke", "stream", "batch"))


def test_sync_only_generator_on_async_path():
    # Documented difference (docs/compat.md, Runnables): a sync-only generator on the
    # async path. langchain raises (NotImplementedError from RunnableGenerator for a
    # coerced generator function, TypeError from RunnableLambda); streamtui streams it.
    def coerced(ns):
        def upper(chunks):
            for c in chunks:
                yield c.upper()

        return ns.RunnableLambda(lambda x: x, name="id") | upper

    def in_lambda(ns):
        def upper(x):
            for c in x:
                yield c.upper()

        return ns.RunnableLambda(lambda x: x, name="id") | ns.RunnableLambda(upper)

    def astream(chain):
        async def go():
            return [c async for c in chain.astream("ab")]

        return run(go())

    assert outcome(lambda: astream(coerced(LC))) == ("raises", "NotImplementedError")
    assert outcome(lambda: astream(coerced(ST))) == ("ok", ["AB"])
    lc_kind, _ = outcome(lambda: astream(in_lambda(LC)))
    assert lc_kind == "raises"
    assert outcome(lambda: astream(in_lambda(ST))) == outcome(
        lambda: list(in_lambda(LC).stream("ab"))
    )


def test_async_generator_function_coerced_passes_through():
    def build(ns):
        async def upper(chunks):
            async for c in chunks:
                yield c.upper()

        return prompt(ns) | ns.chat_model(TEXT) | ns.StrOutputParser() | upper

    compare_events(build, {"topic": "owls"})
    assert_same_outputs(build, {"topic": "owls"}, modes=("ainvoke", "astream"))


def test_passthrough_passes_through():
    def build(ns):
        return prompt(ns) | ns.chat_model(TEXT) | ns.StrOutputParser() | ns.RunnablePassthrough()

    compare_events(build, {"topic": "owls"})
    assert_same_outputs(build, {"topic": "owls"})


def test_passthrough_with_side_effect_func():
    seen = {}

    def build(ns):
        def record(value: str) -> None:
            seen.setdefault(ns.side, []).append(value)

        return (
            prompt(ns) | ns.chat_model(TEXT) | ns.RunnablePassthrough(record) | ns.StrOutputParser()
        )

    seen.clear()
    compare_events(build, {"topic": "owls"})
    from .harness import norm

    assert norm(seen["langchain"]) == norm(seen["streamtui"])


def test_model_directly_before_lambda_buffers_message_chunks():
    def build(ns):
        return (
            prompt(ns)
            | ns.chat_model(TEXT)
            | ns.RunnableLambda(lambda m: m.content, name="content")
        )

    compare_events(build, {"topic": "owls"})


# --- 12. auto-streaming --------------------------------------------------------------


def test_model_invoke_inside_sync_lambda_streams_tokens():
    def build(ns):
        model = ns.chat_model(TEXT)

        def call(x: dict) -> str:
            return model.invoke(f"about {x['topic']}").content

        return ns.RunnableLambda(call, name="call") | ns.StrOutputParser()

    lc, _ = compare_events(build, {"topic": "owls"})
    assert sum(e["event"] == "on_chat_model_stream" for e in lc) == 5


def test_model_ainvoke_inside_async_lambda_streams_tokens():
    def build(ns):
        model = ns.chat_model(TEXT)

        async def call(x: dict) -> str:
            msg = await model.ainvoke(f"about {x['topic']}")
            return msg.content

        return ns.RunnableLambda(call, name="call") | ns.StrOutputParser()

    lc, _ = compare_events(build, {"topic": "owls"})
    assert sum(e["event"] == "on_chat_model_stream" for e in lc) == 5


def test_chain_invoke_inside_lambda_streams_tokens():
    def build(ns):
        inner = prompt(ns) | ns.chat_model(TEXT) | ns.StrOutputParser()

        @ns.chain
        def outer(x: dict) -> str:
            return inner.invoke(x) + "."

        return outer

    compare_events(build, {"topic": "owls"})


def test_llm_invoke_inside_lambda_does_not_stream():
    def build(ns):
        llm = ns.llm("one two")

        def call(x: str) -> str:
            return llm.invoke(x)

        return ns.RunnableLambda(call, name="call")

    compare_events(build, "prompt")


def test_chain_decorator_inside_sequence_sync_and_async():
    def build(ns):
        @ns.chain
        def exclaim(s: str) -> str:
            return s + "!"

        @ns.chain
        async def wrap(x: dict) -> dict:
            return {"topic": x["topic"].strip()}

        return wrap | prompt(ns) | ns.chat_model(TEXT) | ns.StrOutputParser() | exclaim

    compare_events(build, {"topic": " owls "})
    assert_same_outputs(build, {"topic": " owls "}, modes=("ainvoke", "astream", "abatch"))
