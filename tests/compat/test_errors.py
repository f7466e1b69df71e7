"""An error mid-stream: events already sent, and the exception the consumer sees."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

from .harness import LC, ST, compare_events, norm, outcome, run

CHUNKS = ["one", " ", "two", " ", "three"]


class ModelBroke(RuntimeError):
    """The injected model failure, the same class on both sides."""


class StepBroke(ValueError):
    """A failing function step."""


def failing_model(ns, error_on_chunk=2, name=None):
    return ns.chunked_chat_model(CHUNKS, error_on_chunk=error_on_chunk, error=ModelBroke, name=name)


def chain_with_failing_model(ns, error_on_chunk=2):
    return (
        ns.ChatPromptTemplate.from_template("count {n}")
        | failing_model(ns, error_on_chunk)
        | ns.StrOutputParser()
    )


def test_error_mid_stream_in_chain_events():
    lc, _ = compare_events(chain_with_failing_model, {"n": 3}, expect_error=ModelBroke)
    assert sum(e["event"] == "on_chat_model_stream" for e in lc) == 2
    assert not any(e["event"].endswith("_end") and e["run"] == "R0" for e in lc)


def test_error_before_first_chunk_events():
    compare_events(lambda ns: chain_with_failing_model(ns, 0), {"n": 3}, expect_error=ModelBroke)


def test_error_mid_stream_model_root_events():
    compare_events(lambda ns: failing_model(ns), "hi", expect_error=ModelBroke)


def test_error_mid_stream_nested_sequence_events():
    def build(ns):
        inner = chain_with_failing_model(ns).with_config(run_name="inner", tags=["in"])
        return ns.RunnableLambda(lambda x: {"n": x}, name="wrap") | inner

    compare_events(build, 3, expect_error=ModelBroke)


def _partial_stream(chain, inp):
    got = []
    try:
        for c in chain.stream(inp):
            got.append(c)
    except Exception as e:
        return norm(got), type(e).__name__
    return norm(got), None


async def _apartial_stream(chain, inp):
    got = []
    try:
        async for c in chain.astream(inp):
            got.append(c)
    except Exception as e:
        return norm(got), type(e).__name__
    return norm(got), None


def test_error_mid_stream_sync_stream_consumer():
    a = _partial_stream(chain_with_failing_model(LC), {"n": 3})
    b = _partial_stream(chain_with_failing_model(ST), {"n": 3})
    assert a == b == (["one", " "], "ModelBroke")


def test_error_mid_stream_async_stream_consumer():
    a = run(_apartial_stream(chain_with_failing_model(LC), {"n": 3}))
    b = run(_apartial_stream(chain_with_failing_model(ST), {"n": 3}))
    assert a == b == (["one", " "], "ModelBroke")


def test_error_invoke_raises_same_type():
    inp = {"n": 3}
    calls = (
        lambda ns: chain_with_failing_model(ns).invoke(inp),
        lambda ns: run(chain_with_failing_model(ns).ainvoke(inp)),
        lambda ns: chain_with_failing_model(ns).batch([inp]),
    )
    for call in calls:
        a = outcome(lambda call=call: call(LC))
        b = outcome(lambda call=call: call(ST))
        assert a == b == ("raises", "ModelBroke")


def test_error_in_function_step_after_model_events():
    def build(ns):
        def boom(s: str) -> str:
            raise StepBroke(f"no {s}")

        return (
            ns.ChatPromptTemplate.from_template("count {n}")
            | ns.chat_model("one two")
            | ns.StrOutputParser()
            | ns.RunnableLambda(boom)
        )

    compare_events(build, {"n": 3}, expect_error=StepBroke)


def test_error_in_async_function_step_events():
    def build(ns):
        async def boom(x: dict) -> str:
            raise StepBroke("nope")

        return ns.RunnableLambda(boom) | ns.ChatPromptTemplate.from_template("{n}")

    compare_events(build, {"n": 3}, expect_error=StepBroke)


def test_error_in_generator_step_after_some_output():
    def build(ns):
        def gen(chunks):
            for i, c in enumerate(chunks):
                if i == 2:
                    raise StepBroke("third chunk")
                yield c

        async def agen(chunks):
            i = 0
            async for c in chunks:
                if i == 2:
                    raise StepBroke("third chunk")
                i += 1
                yield c

        return (
            ns.ChatPromptTemplate.from_template("count {n}")
            | ns.chat_model("one two three")
            | ns.StrOutputParser()
            | ns.RunnableGenerator(gen, agen, name="gen")
        )

    compare_events(build, {"n": 3}, expect_error=StepBroke)
