"""Runnables: invoke/batch/stream on every kind, composition, config, bindings."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from streamtui import (
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
    ScriptedChatModel,
    StrOutputParser,
    chain,
    get_config,
)


def arun(coro):
    return asyncio.run(coro)


async def agather(aiter):
    return [x async for x in aiter]


def test_pipe_builds_a_flat_sequence_and_coerces_functions_and_dicts():
    seq = RunnableLambda(lambda x: x + 1) | (lambda x: x * 2) | {"v": lambda x: x}
    assert isinstance(seq, RunnableSequence) and len(seq.steps) == 3
    assert isinstance(seq.steps[2], RunnableParallel)
    assert seq.invoke(1) == {"v": 4}
    assert arun(seq.ainvoke(1)) == {"v": 4}
    assert (str.upper | RunnableLambda(lambda s: s + "!")).invoke("a") == "A!"


def test_lambda_sync_async_and_with_config_parameter():
    def with_config(x, config):
        return (x, config["metadata"]["who"])

    async def aplus(x):
        return x + 1

    lam = RunnableLambda(with_config)
    assert lam.invoke(1, {"metadata": {"who": "me"}}) == (1, "me")
    assert arun(RunnableLambda(aplus).ainvoke(1)) == 2
    assert RunnableLambda(aplus).invoke(1) == 2  # async-only still works from sync code
    assert RunnableLambda(lambda x: x, name="named").get_name() == "named"
    assert RunnableLambda(lambda x: x).get_name() == "RunnableLambda"


def test_lambda_returning_a_runnable_runs_it():
    inner = RunnableLambda(lambda x: x * 10)
    outer = RunnableLambda(lambda x: inner)
    assert outer.invoke(3) == 30
    assert list(outer.stream(3)) == [30]


def test_generator_transforms_a_stream_sync_and_async():
    def upper(chunks):
        for c in chunks:
            yield c.upper()

    async def aupper(chunks):
        async for c in chunks:
            yield c.upper()

    model = ScriptedChatModel(["a b"])
    for gen in (RunnableGenerator(upper), RunnableGenerator(aupper)):
        assert arun(agather((model | StrOutputParser() | gen).astream("x"))) == ["A", " ", "B"]
    assert list((model | StrOutputParser() | RunnableGenerator(upper)).stream("x")) == [
        "A",
        " ",
        "B",
    ]
    assert RunnableGenerator(upper).invoke("ab") == "AB"


def test_passthrough_and_assign():
    assert RunnablePassthrough().invoke({"a": 1}) == {"a": 1}
    seen = []
    assert RunnablePassthrough(seen.append).invoke(5) == 5 and seen == [5]
    assign = RunnablePassthrough.assign(total=lambda d: d["a"] + d["b"])
    assert assign.invoke({"a": 1, "b": 2}) == {"a": 1, "b": 2, "total": 3}
    chunks = list(assign.stream({"a": 1, "b": 2}))
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert merged == {"a": 1, "b": 2, "total": 3}
    assert arun(assign.ainvoke({"a": 1, "b": 2}))["total"] == 3
    with pytest.raises(TypeError, match="needs a dict input"):
        assign.invoke(3)


def test_parallel_runs_branches_concurrently():
    barrier = threading.Barrier(2, timeout=5)

    def wait(x):
        barrier.wait()  # deadlocks unless both branches run at once
        return x

    par = RunnableParallel(a=wait, b=wait)
    assert par.invoke(1) == {"a": 1, "b": 1}

    async def slow(x):
        await asyncio.sleep(0.2)
        return x

    apar = RunnableParallel(a=slow, b=slow, c=slow)
    start = time.perf_counter()
    assert arun(apar.ainvoke(2)) == {"a": 2, "b": 2, "c": 2}
    assert time.perf_counter() - start < 0.55  # not 0.6: they overlapped


class ConcurrencyProbe:
    """A slow function that records how many calls ran at once."""

    def __init__(self, result=lambda x: x):
        self.active = self.peak = 0
        self.lock = threading.Lock()
        self.result = result

    def __call__(self, x):
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.01)
        with self.lock:
            self.active -= 1
        return self.result(x)


def test_batch_keeps_order_and_respects_max_concurrency():
    probe = ConcurrencyProbe(lambda x: x * 2)

    def work(x):
        return probe(x)

    lam = RunnableLambda(work)
    assert lam.batch(list(range(8)), {"max_concurrency": 2}) == [0, 2, 4, 6, 8, 10, 12, 14]
    assert probe.peak <= 2
    assert arun(lam.abatch([1, 2, 3])) == [2, 4, 6]
    failing = RunnableLambda(lambda x: 1 / x)
    out = failing.batch([1, 0], return_exceptions=True)
    assert out[0] == 1 and isinstance(out[1], ZeroDivisionError)


def test_config_reaches_nested_code_without_being_passed():
    @chain
    def inner(x):
        return get_config()["configurable"]["user"]

    @chain
    def outer(x):
        return inner.invoke(x)

    assert outer.invoke(1, {"configurable": {"user": "ada"}}) == "ada"
    assert get_config() is None


def test_with_config_and_bind():
    lam = RunnableLambda(lambda x, config: config["tags"]).with_config(tags=["b", "a"])
    assert lam.invoke(1, {"tags": ["c"]}) == ["a", "b", "c"]
    model = ScriptedChatModel(["hi"]).bind(stop=["x"])
    assert model.invoke("q").content == "hi"


def test_unknown_config_key_is_rejected():
    with pytest.raises(TypeError, match="unknown config key"):
        RunnableLambda(lambda x: x).invoke(1, {"tag": ["x"]})


def test_sequence_stream_and_astream_stream_every_chunk():
    seq = ScriptedChatModel(["x y z"]) | StrOutputParser()
    assert list(seq.stream("q")) == ["x", " ", "y", " ", "z"]
    assert arun(agather(seq.astream("q"))) == ["x", " ", "y", " ", "z"]
    assert seq.invoke("q") == "x y z"


def test_sync_parallel_streams_a_model_into_several_branches():
    fan = ScriptedChatModel(["a b c"]) | {"x": StrOutputParser(), "y": StrOutputParser()}
    for _ in range(5):
        chunks = list(fan.stream("q"))
        merged = chunks[0]
        for c in chunks[1:]:
            merged = merged + c
        assert merged == {"x": "a b c", "y": "a b c"}


def test_nested_parallels_do_not_exhaust_a_shared_pool():
    def slow(x):
        time.sleep(0.01)
        return x

    inner = RunnableParallel(a=slow, b=slow)
    outer = RunnableParallel({f"k{i}": inner for i in range(12)})
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault("out", outer.invoke(1)))
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "nested parallel invoke deadlocked"
    assert done["out"]["k11"] == {"a": 1, "b": 1}


def test_parallel_invoke_respects_max_concurrency():
    probe = ConcurrencyProbe()

    def work(x):
        return probe(x)

    par = RunnableParallel({f"k{i}": work for i in range(4)})
    assert par.invoke(1, {"max_concurrency": 1}) == {f"k{i}": 1 for i in range(4)}
    assert probe.peak == 1
    probe.peak = 0
    assert arun(par.ainvoke(1, {"max_concurrency": 2})) == {f"k{i}": 1 for i in range(4)}
    assert probe.peak <= 2


def test_dict_chunks_add_up_key_by_key():
    from streamtui.runtime.streams import Accumulator, AddableDict

    chunks = [
        AddableDict({"a": "x"}),
        AddableDict({"b": [1]}),
        AddableDict({"a": "y", "b": [2]}),
        AddableDict({"c": None}),
        AddableDict({"c": 3}),
    ]
    acc = Accumulator()
    pairwise = chunks[0]
    for c in chunks:
        acc.add(c)
    for c in chunks[1:]:
        pairwise = pairwise + c
    assert acc.value() == pairwise == {"a": "xy", "b": [1, 2], "c": 3}


def test_list_chunks_add_up_to_their_concatenation_without_touching_the_chunks():
    from streamtui.runtime.streams import Accumulator

    first, second = [{"op": "replace"}], [{"op": "add"}, {"op": "append"}]
    acc = Accumulator()
    acc.add(first)
    acc.add(second)
    assert acc.value() == first + second
    assert first == [{"op": "replace"}]  # the chunk a consumer already holds is not extended
