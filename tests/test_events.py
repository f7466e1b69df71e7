"""astream_events: ordering, laziness, auto-streaming, errors, filters, cancellation."""

from __future__ import annotations

import asyncio
import threading

import pytest

from streamtui import (
    ChatPromptTemplate,
    RunnableGenerator,
    RunnableLambda,
    RunnablePassthrough,
    ScriptedChatModel,
    StrOutputParser,
    adispatch_custom_event,
    chain,
    dispatch_custom_event,
)
from streamtui.runtime import event_stream

from .conftest import run_async


def collect(runnable, value, **kwargs):
    async def main():
        return [e async for e in runnable.astream_events(value, **kwargs)]

    return asyncio.run(main())


def names(events):
    return [(e["event"], e["name"]) for e in events]


def joke_chain(reply="a b"):
    prompt = ChatPromptTemplate.from_template("joke about {topic}")
    return prompt | ScriptedChatModel([reply]) | StrOutputParser()


def test_every_event_has_exactly_the_seven_keys():
    for e in collect(joke_chain(), {"topic": "x"}):
        assert set(e) == {"event", "name", "run_id", "parent_ids", "tags", "metadata", "data"}


def test_per_token_depth_first_then_ends_upstream_first():
    events = collect(joke_chain("a b"), {"topic": "x"})
    assert names(events) == [
        ("on_chain_start", "RunnableSequence"),
        ("on_prompt_start", "ChatPromptTemplate"),
        ("on_prompt_end", "ChatPromptTemplate"),
        ("on_chat_model_start", "ScriptedChatModel"),
        ("on_chat_model_stream", "ScriptedChatModel"),
        ("on_parser_start", "StrOutputParser"),
        ("on_parser_stream", "StrOutputParser"),
        ("on_chain_stream", "RunnableSequence"),
        ("on_chat_model_stream", "ScriptedChatModel"),
        ("on_parser_stream", "StrOutputParser"),
        ("on_chain_stream", "RunnableSequence"),
        ("on_chat_model_stream", "ScriptedChatModel"),
        ("on_parser_stream", "StrOutputParser"),
        ("on_chain_stream", "RunnableSequence"),
        ("on_chat_model_end", "ScriptedChatModel"),
        ("on_parser_end", "StrOutputParser"),
        ("on_chain_end", "RunnableSequence"),
    ]


def test_streaming_step_starts_lazily_with_empty_data_and_ends_with_its_input():
    events = collect(joke_chain("a b"), {"topic": "x"})
    start = next(e for e in events if e["event"] == "on_parser_start")
    end = next(e for e in events if e["event"] == "on_parser_end")
    assert start["data"] == {}
    assert end["data"]["input"].content == "a b"
    assert end["data"]["output"] == "a b"
    root_end = events[-1]
    assert root_end["data"] == {"output": "a b"}  # the root's input is on its start event
    assert events[0]["data"] == {"input": {"topic": "x"}}


def test_parent_ids_root_first_and_step_tags_not_inherited():
    inner = RunnableLambda(lambda x: x, name="leaf") | RunnableLambda(lambda x: x, name="leaf2")
    outer = RunnableLambda(lambda x: x, name="head") | inner.with_config(run_name="inner")
    events = collect(outer, "v", config={"tags": ["user"], "metadata": {"k": 1}})
    by_name = {e["name"]: e for e in events if e["event"].endswith("_start")}
    root_id = events[0]["run_id"]
    inner_id = by_name["inner"]["run_id"]
    assert by_name["leaf"]["parent_ids"] == [root_id, inner_id]
    assert by_name["inner"]["tags"] == ["seq:step:2", "user"]
    assert by_name["leaf"]["tags"] == ["seq:step:1", "user"]
    assert all(e["metadata"] == {"k": 1} for e in events)


def test_callers_metadata_wins_over_bound_metadata():
    bound = joke_chain().with_config(metadata={"a": 1, "b": 1}, tags=["bound"])
    events = collect(bound, {"topic": "x"}, config={"metadata": {"a": 2}, "tags": ["call"]})
    assert events[0]["metadata"] == {"a": 2, "b": 1}
    assert events[0]["tags"] == ["bound", "call"]


def test_parallel_branches_get_map_key_tags():
    fan = RunnableLambda(lambda x: x, name="src") | {
        "up": RunnableLambda(str.upper, name="up"),
        "low": RunnableLambda(str.lower, name="low"),
    }
    events = collect(fan, "Ab")
    tags = {e["name"]: e["tags"] for e in events if e["event"] == "on_chain_start"}
    assert tags["up"] == ["map:key:up"] and tags["low"] == ["map:key:low"]
    assert events[-1]["data"]["output"] == {"up": "AB", "low": "ab"}


def test_plain_function_buffers_but_generator_passes_chunks_through():
    model = ScriptedChatModel(["a b c"])

    def shout(text):
        return text.upper()

    def passthrough(chunks):
        for c in chunks:
            yield c.upper()

    buffered = collect(model | StrOutputParser() | shout, "x")
    streamed = collect(model | StrOutputParser() | RunnableGenerator(passthrough), "x")
    assert [
        e["data"]["chunk"]
        for e in buffered
        if e["event"] == "on_chain_stream" and e["name"] == "shout"
    ] == ["A B C"]
    assert [
        e["data"]["chunk"]
        for e in streamed
        if e["event"] == "on_chain_stream" and e["name"] == "passthrough"
    ] == ["A", " ", "B", " ", "C"]


def test_auto_streaming_from_a_sync_function_in_a_worker_thread():
    model = ScriptedChatModel(["one two"])
    threads = []

    @chain
    def call_model(text):
        threads.append(threading.current_thread().name)
        return model.invoke(text).content  # no config passed on

    events = collect(RunnablePassthrough() | call_model, "q")
    tokens = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert tokens == ["one", " ", "two"]
    assert threads and threads[0] != threading.main_thread().name
    model_start = next(e for e in events if e["event"] == "on_chat_model_start")
    call_start = next(e for e in events if e["name"] == "call_model")
    assert model_start["parent_ids"][-1] == call_start["run_id"]


def test_auto_streaming_from_an_async_function():
    model = ScriptedChatModel(["x y"])

    @chain
    async def call_model(text):
        return (await model.ainvoke(text)).content

    events = collect(call_model, "q")
    assert sum(e["event"] == "on_chat_model_stream" for e in events) == 3
    end = next(e for e in events if e["event"] == "on_chat_model_end")
    assert type(end["data"]["output"]).__name__ == "AIMessage"


def test_disable_streaming_turns_auto_streaming_off():
    model = ScriptedChatModel(["x y"], disable_streaming=True)
    events = collect(RunnableLambda(lambda t: model.invoke(t).content), "q")
    assert not [e for e in events if e["event"] == "on_chat_model_stream"]
    assert [e["event"] for e in events if "chat_model" in e["event"]] == [
        "on_chat_model_start",
        "on_chat_model_end",
    ]


def test_error_reaches_the_consumer_unchanged_after_the_events_sent():
    boom = ValueError("boom")
    model = ScriptedChatModel(["a b c"], error_on_chunk=2, error=boom)
    seen = []

    async def main():
        async for e in (model | StrOutputParser()).astream_events("x"):
            seen.append(e["event"])

    with pytest.raises(ValueError) as info:
        asyncio.run(main())
    assert info.value is boom
    assert seen.count("on_chat_model_stream") == 2
    assert seen.count("on_parser_stream") == 2
    assert "on_chain_end" not in seen


def test_custom_events_belong_to_the_calling_run():
    @chain
    def step(x):
        dispatch_custom_event("progress", {"pct": 50})
        return x

    @chain
    async def astep(x):
        await adispatch_custom_event("progress", {"pct": 100})
        return x

    events = collect((step | astep).with_config(tags=["t"]), "v")
    custom = [e for e in events if e["event"] == "on_custom_event"]
    step_ids = {e["name"]: e["run_id"] for e in events if e["event"] == "on_chain_start"}
    assert [c["data"] for c in custom] == [{"pct": 50}, {"pct": 100}]
    assert custom[0]["run_id"] == step_ids["step"]
    assert custom[1]["run_id"] == step_ids["astep"]
    assert custom[0]["tags"] == ["t"]


def test_custom_event_outside_a_run_is_a_clear_error():
    with pytest.raises(RuntimeError, match="outside a runnable"):
        dispatch_custom_event("x", {})


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"include_types": ["chat_model"]}, {"ScriptedChatModel"}),
        ({"include_names": ["StrOutputParser"]}, {"StrOutputParser"}),
        ({"exclude_types": ["chat_model", "prompt"]}, {"RunnableSequence", "StrOutputParser"}),
        ({"include_tags": ["seq:step:1"]}, {"ChatPromptTemplate"}),
        (
            {"exclude_tags": ["seq:step:1"], "include_types": ["prompt", "parser"]},
            {"StrOutputParser"},
        ),
    ],
)
def test_filters(filters, expected):
    assert {e["name"] for e in collect(joke_chain(), {"topic": "x"}, **filters)} == expected


def test_filtered_out_events_are_never_built(monkeypatch):
    built = []
    original = event_stream.EventQueueSink.put

    def counting_put(self, event):
        built.append(event)
        original(self, event)

    monkeypatch.setattr(event_stream.EventQueueSink, "put", counting_put)
    events = collect(joke_chain("a b c d"), {"topic": "x"}, include_types=["parser"])
    assert len(built) == len(events) + 1  # + the end-of-stream marker


def test_breaking_out_stops_every_producer(loop_errors):
    model = ScriptedChatModel(["a b c d e f g h"], chunk_latency=0.01)
    fan = {"x": model | StrOutputParser(), "y": RunnableLambda(lambda v: v)}

    async def main():
        before = asyncio.all_tasks()
        async for event in (RunnablePassthrough() | fan).astream_events("q"):
            if event["event"] == "on_chat_model_stream":
                break
        await asyncio.sleep(0.05)
        return asyncio.all_tasks() - before - {asyncio.current_task()}

    leftover = run_async(main(), loop_errors)
    assert leftover == set()
    assert loop_errors == []


def test_closing_astream_stops_the_model(loop_errors):
    produced = []

    async def slow(chunks):
        async for c in chunks:
            yield c
        for i in range(100):
            produced.append(i)
            await asyncio.sleep(0.005)
            yield str(i)

    async def main():
        stream = (RunnablePassthrough() | RunnableGenerator(slow)).astream("a")
        async for _ in stream:
            if len(produced) >= 2:
                break
        await stream.aclose()
        await asyncio.sleep(0.05)
        return len(produced)

    assert run_async(main(), loop_errors) <= 3
    assert loop_errors == []


def test_sync_stream_works_from_a_worker_thread():
    result = {}

    def worker():
        result["chunks"] = list(joke_chain("p q").stream({"topic": "t"}))

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert result["chunks"] == ["p", " ", "q"]


def test_only_version_v2_is_supported():
    with pytest.raises(ValueError, match="v2"):
        joke_chain().astream_events({"topic": "x"}, version="v1")


def test_no_event_is_lost_when_a_worker_thread_produces_them():
    words = [f"w{i}" for i in range(5000)]
    model = ScriptedChatModel([words])

    @chain
    def call_model(text):
        return model.invoke(text).content

    events = collect(RunnablePassthrough() | call_model, "q")
    tokens = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert tokens == words


def test_a_slow_consumer_holds_the_producer_to_a_bounded_buffer():
    peak = 0

    class Watched(event_stream.EventQueueSink):
        def put(self, event):
            nonlocal peak
            super().put(event)
            peak = max(peak, len(self._items))

    chain_ = ScriptedChatModel([["t"] * 3000]) | StrOutputParser()

    async def main():
        seen = 0
        stream = event_stream.astream_events(chain_, "q", sink_factory=Watched)
        async for _ in stream:
            seen += 1
            await asyncio.sleep(0)  # a consumer that gives the producer every chance
        return seen

    assert asyncio.run(main()) == 3 * 3000 + 6  # + three starts and three ends
    assert peak <= 128 + 8  # buffer_size plus the events of one token


def test_closing_an_assign_stream_early_is_clean(loop_errors):
    async def src(chunks):
        async for _ in chunks:
            await asyncio.sleep(0.01)
            yield {"q": "a"}
            await asyncio.sleep(0.01)
            yield {"r": "b"}

    async def slow(x):
        await asyncio.sleep(1)
        return 1

    flow = RunnableGenerator(src) | RunnablePassthrough.assign(extra=RunnableLambda(slow))

    async def main():
        before = asyncio.all_tasks()
        stream = flow.astream("x")
        async for chunk in stream:
            assert chunk == {"q": "a"}
            break
        await stream.aclose()
        await asyncio.sleep(0.02)
        return asyncio.all_tasks() - before - {asyncio.current_task()}

    assert run_async(main(), loop_errors) == set()
    assert loop_errors == []


def test_nested_astream_events_reach_both_watchers():
    inner = joke_chain("a b")
    inner_seen = []

    @chain
    async def outer(x):
        async for e in inner.astream_events({"topic": x}):
            inner_seen.append(e)
        return "done"

    outer_seen = collect(outer, "cats")
    assert names(inner_seen) == names(collect(joke_chain("a b"), {"topic": "cats"}))
    nested = [e for e in outer_seen if e["name"] != "outer"]
    assert names(nested) == names(inner_seen)
    outer_id = outer_seen[0]["run_id"]
    assert all(e["parent_ids"][0] == outer_id for e in nested)
    assert inner_seen[0]["parent_ids"] == [outer_id]


def test_a_watcher_sees_the_first_token_before_the_rest_of_a_burst_is_parsed():
    """Providers parse a whole network read before yielding to the loop; the first token
    is handed to the watcher at once instead of after the burst (time to first token)."""
    from streamtui import AIMessageChunk, BaseChatModel

    produced: list[int] = []

    class Burst(BaseChatModel):
        async def _astream(self, messages, stop=None, **kwargs):
            for i in range(5):
                produced.append(i)
                yield AIMessageChunk(f"t{i} ")

    async def main() -> int:
        async for event in Burst().astream_events("hi", version="v2"):
            if event["event"] == "on_chat_model_stream":
                return len(produced)
        return -1

    assert asyncio.run(main()) == 1
