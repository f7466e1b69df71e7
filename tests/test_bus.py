"""The bus: one order for everyone, lossless subscribers never lose a part, a slow viewer
never slows the runtime, coalescing folds only token chunks of one run."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from streamtui import AIMessageChunk
from streamtui.bus import EventBus
from streamtui.eventlog import PartPump


def token(run_id: str, text: str) -> dict:
    return {
        "event": "on_chat_model_stream",
        "name": "M",
        "run_id": run_id,
        "parent_ids": [],
        "tags": [],
        "metadata": {},
        "data": {"chunk": AIMessageChunk(text, id=f"run-{run_id}")},
    }


def other(kind: str, run_id: str) -> dict:
    return {**token(run_id, ""), "event": kind, "data": {}}


def test_seq_is_strictly_increasing_and_ts_is_relative():
    clock = iter([100.0, 100.5, 101.25]).__next__
    bus = EventBus(clock=clock)
    sub = bus.subscribe()
    a = bus.publish("events", {"x": 1})
    b = bus.publish("values", {"y": 2}, ("sub:1",))
    assert (a.seq, a.ts, b.seq, b.ts, b.ns) == (1, 0.5, 2, 1.25, ("sub:1",))
    assert sub.drain() == [a, b]
    assert sub.drain() == []


def test_every_subscriber_sees_parts_published_from_many_threads_in_one_order():
    bus = EventBus()
    subs = [bus.subscribe("lossless", capacity=64) for _ in range(2)]
    seen: list[list[int]] = [[], []]
    pumps = [
        PartPump(s, lambda ps, out=out: out.extend(p.seq for p in ps), "t").start()
        for s, out in zip(subs, seen)
    ]

    def produce(n: int) -> None:
        for i in range(2000):
            bus.publish("custom", (n, i))

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bus.close()
    for p in pumps:
        p.join()
    assert seen[0] == seen[1] == list(range(1, 8001))


def test_a_full_lossless_subscriber_blocks_a_worker_thread_until_drained():
    bus = EventBus()
    sub = bus.subscribe("lossless", capacity=10)
    done = threading.Event()

    def produce() -> None:
        for i in range(30):
            bus.publish("custom", i)
        done.set()

    t = threading.Thread(target=produce)
    t.start()
    deadline = time.monotonic() + 10
    while sub.pending() < 11 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # room to overrun, if it were going to
    assert not done.is_set()  # bounded: it waits instead of growing the buffer
    assert sub.pending() == 11
    got = []
    while not done.is_set() or sub.pending():
        got += [p.data for p in sub.drain()]
        time.sleep(0.005)
    t.join()
    assert got == list(range(30))


def test_the_event_loop_never_blocks_in_publish_and_waits_in_pace():
    async def main() -> list[int]:
        bus = EventBus()
        sub = bus.subscribe("lossless", capacity=5)
        got: list[int] = []
        pump = PartPump(
            sub, lambda ps: (time.sleep(0.01), got.extend(p.data for p in ps)), "slow"
        ).start()
        most = 0
        for i in range(100):
            bus.publish("custom", i)  # returns at once, even over capacity
            most = max(most, sub.pending())
            if bus.congested():
                await bus.pace()
                assert not bus.congested()
        bus.close()
        await asyncio.to_thread(pump.join)
        assert most <= 6  # capacity + the one published before pacing
        return got

    assert asyncio.run(main()) == list(range(100))


def test_a_slow_viewer_never_slows_the_runtime_and_the_recorder_stays_complete():
    bus = EventBus()
    recorder = bus.subscribe("lossless", capacity=256)
    viewer = bus.subscribe("coalescing", coalesce_after=100)
    recorded: list[int] = []
    pump = PartPump(recorder, lambda ps: recorded.extend(p.seq for p in ps), "rec").start()
    for i in range(20000):  # the viewer never drains during the run
        bus.publish("events", token("r1", f"{i} "))
    bus.close()
    pump.join()
    # Folded chunks are added up as they come, so an undrained viewer holds few objects.
    assert max(len(chunks) for chunks in viewer._folded.values()) <= 512
    assert recorded == list(range(1, 20001))
    parts = viewer.drain()
    # Behind by more than 100 parts: later chunks fold into the 101st part.
    assert len(parts) == 101
    assert viewer.dropped == 20000 - 101 == sum(p.merged for p in parts)
    text = "".join(p.data["data"]["chunk"].content for p in parts)
    assert text == "".join(f"{i} " for i in range(20000))


def test_coalescing_keeps_the_order_of_everything_but_folded_tokens():
    bus = EventBus()
    viewer = bus.subscribe("coalescing", coalesce_after=0)
    bus.publish("events", other("on_chat_model_start", "a"))
    bus.publish("events", token("a", "1"))
    bus.publish("events", token("b", "x"))
    bus.publish("events", token("a", "2"))  # folds into a's pending chunk
    bus.publish("events", token("b", "y"))
    bus.publish("events", other("on_chain_stream", "c"))  # not a token: a barrier
    bus.publish("events", token("a", "3"))  # a new part, after the barrier
    bus.publish("values", {"n": 1})
    parts = viewer.drain()
    shape = [
        (
            p.seq,
            p.data.get("event"),
            p.data.get("run_id"),
            getattr(p.data.get("data", {}).get("chunk"), "content", None),
        )
        if p.mode == "events"
        else (p.seq, p.mode)
        for p in parts
    ]
    assert shape == [
        (1, "on_chat_model_start", "a", None),
        (2, "on_chat_model_stream", "a", "12"),
        (3, "on_chat_model_stream", "b", "xy"),
        (6, "on_chain_stream", "c", None),
        (7, "on_chat_model_stream", "a", "3"),
        (8, "values"),
    ]
    assert [p.merged for p in parts] == [0, 1, 1, 0, 0, 0]
    assert viewer.received == 8 and viewer.dropped == 2


def test_coalescing_adds_up_plain_strings_too_and_nothing_when_caught_up():
    bus = EventBus()
    viewer = bus.subscribe("coalescing", coalesce_after=3)
    for text in "abcdef":
        bus.publish("events", {**token("r", ""), "event": "on_llm_stream", "data": {"chunk": text}})
    parts = viewer.drain()
    assert [p.data["data"]["chunk"] for p in parts] == ["a", "b", "c", "def"]
    for text in "gh":
        bus.publish("events", {**token("r", ""), "event": "on_llm_stream", "data": {"chunk": text}})
    assert [p.data["data"]["chunk"] for p in viewer.drain()] == ["g", "h"]


def test_latest_keeps_the_newest_part_per_mode_and_namespace():
    bus = EventBus()
    state = bus.subscribe("latest")
    bus.publish("values", {"n": 1})
    bus.publish("values", {"n": 2})
    bus.publish("values", {"n": 9}, ("sub:1",))
    bus.publish("updates", {"a": {}})
    bus.publish("values", {"n": 3})
    assert [(p.mode, p.ns, p.data) for p in state.drain()] == [
        ("values", ("sub:1",), {"n": 9}),
        ("updates", (), {"a": {}}),
        ("values", (), {"n": 3}),
    ]
    assert state.dropped == 2


def test_wait_wakes_on_publish_and_on_close():
    bus = EventBus()
    sub = bus.subscribe()
    assert sub.wait(0.01) is False
    threading.Timer(0.05, bus.publish, ("custom", 1)).start()
    assert sub.wait(5) is True
    sub.drain()
    threading.Timer(0.05, bus.close).start()
    assert sub.wait(5) is False


def test_a_consumer_that_fails_is_unsubscribed_and_never_blocks_the_run():
    bus = EventBus()
    sub = bus.subscribe("lossless", capacity=2)

    def broken(parts: list) -> None:
        raise BrokenPipeError("reader went away")

    pump = PartPump(sub, broken, "stdout").start()
    for i in range(1000):
        bus.publish("custom", i)  # would block forever if the dead consumer stayed
    bus.close()
    pump.join()
    assert isinstance(pump.failure, BrokenPipeError)


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="lossless, coalescing or latest"):
        EventBus().subscribe("sometimes")  # type: ignore[arg-type]
