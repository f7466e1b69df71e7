"""Event-bus throughput: parts published per second with a recorder attached.

Every part is a realistic ``on_chat_model_stream`` event: the 7-key ``astream_events``
shape (``event, name, run_id, parent_ids, tags, metadata, data``) with
``data={"chunk": AIMessageChunk(content="tok ", id=...)}``, built fresh for every publish
the way the runtime does it (``Run.stream``: a copy of a prebuilt dict, a new ``data``
dict and a new chunk). ``metadata`` is what a chat model inside a LangGraph node carries
(``langgraph_*`` keys and LangChain's ``ls_*`` keys). Building the part is included in
every publish figure; the ``build only`` row shows what it costs alone.

Scenarios (each timed from the first publish; "published" = the publisher's loop is
done, "handled" = every consumer has also handled every part, i.e. ``bus.close()`` and
the pumps joined, and the log closed):

* ``(a)`` one lossless subscriber drained by a ``PartPump`` whose handler does nothing:
  the bus alone.
* ``(b)`` the same plus a coalescing subscriber that is drained promptly (a second
  no-op pump), every 100 ms (a slow viewer, 10 frames/s), or never. The lossless one
  must still get every part; the coalescing one's folded counts are reported.
* ``(c)`` the real recorder: a ``PartPump`` doing ``EventLogWriter.write`` +
  ``Tally.add`` (as ``run_session`` does) to a temporary ``.jsonl``, ``.jsonl.gz``, and
  ``.jsonl`` with a ``Redactor`` that has secrets to look for. Includes JSON encoding,
  redaction, compression and the flush per batch.
* ``(d)`` the publisher in a worker thread, and in an asyncio loop (``publish`` then
  ``if bus.congested(): await bus.pace()``, as ``session.py`` does), lossless no-op pump.
* baseline: a naive ``queue.Queue`` hand-off between two threads (the publisher numbers
  the part and wraps it in a ``Part`` too; the consumer does one ``get()`` per part),
  bounded at the lossless capacity (4,096) and unbounded.

Each figure is the best of ``--repeat`` runs (default 3); the scenarios are interleaved
within a repeat. GC share is the part of the publishing time spent in CPython's cyclic
garbage collector (any thread), measured with ``gc.callbacks``.

Usage::

    python bench/bus_throughput.py                  # 500,000 parts per run (about 3.5 min)
    python bench/bus_throughput.py --parts 100000 --repeat 1
    python bench/bus_throughput.py --only a,b-never --no-gc   # GC's share, diagnosis
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import queue
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance import machine, source_fingerprint

import streamtui
from streamtui.bus import EventBus
from streamtui.envelope import Part, Redactor, encode_line
from streamtui.eventlog import EventLogWriter, PartPump, Tally
from streamtui.runtime.messages import AIMessageChunk
from streamtui.session import make_header

GOAL = 500_000  # parts/s published to the recorder, lossless + coalescing subscribers
STARTED_WITH = source_fingerprint()


# --- the parts ------------------------------------------------------------------------


class TokenSource:
    """One chat model run inside a graph node, streaming ``"tok "`` chunks."""

    def __init__(self) -> None:
        root, node, run = (str(uuid.uuid4()) for _ in range(3))
        ns = f"agent:{uuid.uuid4()}"
        self.template: dict[str, Any] = {
            "event": "on_chat_model_stream",
            "name": "ChatOpenAI",
            "run_id": run,
            "parent_ids": [root, node],
            "tags": ["seq:step:1"],
            "metadata": {
                "langgraph_step": 1,
                "langgraph_node": "agent",
                "langgraph_triggers": ("branch:to:agent",),
                "langgraph_path": ("__pregel_pull", "agent"),
                "langgraph_checkpoint_ns": ns,
                "checkpoint_ns": ns,
                "ls_provider": "openai",
                "ls_model_name": "gpt-4o-mini",
                "ls_model_type": "chat",
                "ls_temperature": 0.0,
            },
            "data": None,
        }
        self.chunk_id = f"lc_run--{run}"

    def make(self) -> dict[str, Any]:
        event = self.template.copy()
        event["data"] = {"chunk": AIMessageChunk(content="tok ", id=self.chunk_id)}
        return event


def publish_loop(publish: Callable[..., Any], n: int, src: TokenSource) -> None:
    """What the runtime does per token: copy the prebuilt event, new data, publish."""
    copy = src.template.copy
    chunk_id = src.chunk_id
    for _ in range(n):
        event = copy()
        event["data"] = {"chunk": AIMessageChunk(content="tok ", id=chunk_id)}
        publish("events", event)


async def apublish_loop(bus: EventBus, n: int, src: TokenSource) -> None:
    """The same from inside an event loop: never blocks in publish, paces instead."""
    copy = src.template.copy
    chunk_id = src.chunk_id
    publish = bus.publish
    congested = bus.congested
    for _ in range(n):
        event = copy()
        event["data"] = {"chunk": AIMessageChunk(content="tok ", id=chunk_id)}
        publish("events", event)
        if congested():
            await bus.pace()


def part_sizes(src: TokenSource) -> tuple[int, int]:
    """(bytes of one encoded log line, bytes newly allocated per published part)."""
    line = encode_line(Part(123_456, 12.345678, "events", (), src.make()), Redactor())
    bus = EventBus()
    keep = bus.subscribe("lossless", capacity=10**9)
    n = 20_000
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    publish_loop(bus.publish, n, src)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    keep.drain()
    return len(line.encode()) + 1, round((after - before) / n)


# --- measurement helpers ----------------------------------------------------------------


NO_GC = False  # --no-gc: the cyclic GC is off inside timed regions (diagnosis only)


class GCClock:
    """Adds up the time the cyclic GC runs (via ``gc.callbacks``) while active; with
    ``--no-gc`` the collector is off for that time."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start

    def __enter__(self) -> GCClock:
        gc.callbacks.append(self)
        if NO_GC:
            gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        gc.enable()
        gc.callbacks.remove(self)


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return float("nan")


@dataclass
class Sample:
    published_s: float  # the publisher's loop
    handled_s: float  # until every consumer handled every part (and the log closed)
    gc_s: float
    checks: list[str] = field(default_factory=list)  # failed correctness checks
    stats: dict[str, Any] = field(default_factory=dict)


class Counter:
    """A no-op pump handler that counts parts and batches and checks the order."""

    def __init__(self) -> None:
        self.parts = 0
        self.batches = 0
        self.last_seq = 0
        self.in_order = True

    def __call__(self, batch: list[Part]) -> None:
        self.batches += 1
        self.parts += len(batch)
        if batch[0].seq != self.last_seq + 1:
            self.in_order = False
        self.last_seq = batch[-1].seq


def check_lossless(sample: Sample, counter: Counter, n: int, sub_received: int) -> None:
    if counter.parts != n or sub_received != n or not counter.in_order:
        sample.checks.append(
            f"lossless got {counter.parts:,}/{n:,} (received {sub_received:,}, "
            f"in order: {counter.in_order})"
        )
    sample.stats["batches"] = counter.batches


# --- scenarios ---------------------------------------------------------------------------


def run_build_only(n: int) -> Sample:
    src = TokenSource()
    gc.collect()
    with GCClock() as clock:
        t0 = time.perf_counter()
        publish_loop(lambda mode, data: None, n, src)
        t1 = time.perf_counter()
    return Sample(t1 - t0, t1 - t0, clock.total)


def run_no_subscriber(n: int) -> Sample:
    src = TokenSource()
    bus = EventBus()
    gc.collect()
    with GCClock() as clock:
        t0 = time.perf_counter()
        publish_loop(bus.publish, n, src)
        t1 = time.perf_counter()
    return Sample(t1 - t0, t1 - t0, clock.total)


def run_lossless(n: int, where: str = "main") -> Sample:
    """(a) and (d): one lossless subscriber, a no-op pump; publisher in the main
    thread, a worker thread, or an asyncio loop."""
    src = TokenSource()
    bus = EventBus()
    sub = bus.subscribe("lossless")
    counter = Counter()
    pump = PartPump(sub, counter, "recorder").start()
    gc.collect()
    with GCClock() as clock:
        t0 = time.perf_counter()
        if where == "main":
            publish_loop(bus.publish, n, src)
        elif where == "thread":
            worker = threading.Thread(target=publish_loop, args=(bus.publish, n, src))
            worker.start()
            worker.join()
        else:
            asyncio.run(apublish_loop(bus, n, src))
        t1 = time.perf_counter()
        bus.close()
        pump.join()
        t2 = time.perf_counter()
    sample = Sample(t1 - t0, t2 - t0, clock.total)
    check_lossless(sample, counter, n, sub.received)
    return sample


def run_with_viewer(n: int, viewer: str) -> Sample:
    """(b): lossless no-op pump + a coalescing subscriber drained promptly (``pump``),
    every 100 ms (``slow``) or never (``never``)."""
    src = TokenSource()
    bus = EventBus()
    sub = bus.subscribe("lossless")
    view = bus.subscribe("coalescing")
    counter = Counter()
    pump = PartPump(sub, counter, "recorder").start()
    got = {"parts": 0, "merged": 0, "frames": 0}

    def take(batch: list[Part]) -> None:
        got["frames"] += 1
        got["parts"] += len(batch)
        got["merged"] += sum(p.merged for p in batch)

    stop = threading.Event()
    viewer_thread: threading.Thread | PartPump | None = None
    if viewer == "pump":
        viewer_thread = PartPump(view, take, "viewer").start()
    elif viewer == "slow":

        def frames() -> None:
            while not stop.wait(0.1):
                batch = view.drain()
                if batch:
                    take(batch)

        viewer_thread = threading.Thread(target=frames, daemon=True)
        viewer_thread.start()
    gc.collect()
    rss0 = rss_mb()
    with GCClock() as clock:
        t0 = time.perf_counter()
        publish_loop(bus.publish, n, src)
        t1 = time.perf_counter()
        rss1 = rss_mb()
        bus.close()
        pump.join()
        t2 = time.perf_counter()
    stop.set()
    if viewer_thread is not None:
        viewer_thread.join()
    t3 = time.perf_counter()
    rest = view.drain()  # what the viewer would show on its next frame
    final_drain = time.perf_counter() - t3
    if rest:
        take(rest)
    sample = Sample(t1 - t0, t2 - t0, clock.total)
    check_lossless(sample, counter, n, sub.received)
    if got["parts"] + view.dropped != view.received or got["merged"] != view.dropped:
        sample.checks.append(
            f"coalescing: delivered {got['parts']:,} + folded {view.dropped:,} != received "
            f"{view.received:,} or merged {got['merged']:,} != folded"
        )
    sample.stats.update(
        received=view.received,
        delivered=got["parts"],
        folded=view.dropped,
        merged=got["merged"],
        frames=got["frames"],
        rss_growth=rss1 - rss0,
        final_drain_s=final_drain,
    )
    return sample


def run_recorder(n: int, kind: str, tmp: Path) -> Sample:
    """(c): the recorder of ``run_session``, writing a real file (``viewer``: plus a
    coalescing subscriber drained every 100 ms)."""
    src = TokenSource()
    bus = EventBus()
    sub = bus.subscribe("lossless")
    view = bus.subscribe("coalescing") if kind == "viewer" else None
    stop = threading.Event()

    def frames() -> None:
        while not stop.wait(0.1):
            view.drain()  # type: ignore[union-attr]

    viewer = threading.Thread(target=frames, daemon=True)
    path = tmp / ("bench.jsonl.gz" if kind == "gzip" else "bench.jsonl")
    redactor = (
        Redactor(["sk-bench-0123456789abcdefghij", "hunter2-not-a-real-password"])
        if kind == "secrets"
        else Redactor()
    )
    header = make_header(name="bench", path=None, spec_hash=None, input={"q": "hi"}, modes=None)
    writer = EventLogWriter(path, header, redactor)
    tally = Tally()
    batches = [0]

    def record(parts: list[Part]) -> None:
        writer.write(parts)
        tally.add(parts)
        batches[0] += 1

    pump = PartPump(sub, record, "recorder").start()
    if view is not None:
        viewer.start()
    gc.collect()
    with GCClock() as clock:
        t0 = time.perf_counter()
        publish_loop(bus.publish, n, src)
        t1 = time.perf_counter()
        bus.close()
        pump.join()
        writer.close({"status": "done", "counts": tally.as_footer()})
        t2 = time.perf_counter()
    stop.set()
    if view is not None:
        viewer.join()
    sample = Sample(t1 - t0, t2 - t0, clock.total)
    if pump.failure is not None:
        sample.checks.append(f"recorder failed: {pump.failure!r}")
    if tally.parts != n or tally.tokens != n:
        sample.checks.append(f"recorder tallied {tally.parts:,} parts, {tally.tokens:,} tokens")
    size = path.stat().st_size
    sample.stats.update(bytes=size, batches=batches[0])
    path.unlink()
    return sample


def run_queue(n: int, maxsize: int) -> Sample:
    """Baseline: number the part, wrap it, ``queue.Queue.put``; a thread ``get()``s."""
    src = TokenSource()
    q: queue.Queue[Part | None] = queue.Queue(maxsize)
    got = [0]

    def consume() -> None:
        get = q.get
        count = 0
        while get() is not None:
            count += 1
        got[0] = count

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    put = q.put
    clock_fn = time.perf_counter
    started = clock_fn()
    seq = [0]

    def publish(mode: str, data: Any) -> None:
        seq[0] += 1
        put(Part(seq[0], clock_fn() - started, mode, (), data))

    gc.collect()
    with GCClock() as clock:
        t0 = time.perf_counter()
        publish_loop(publish, n, src)
        t1 = time.perf_counter()
        put(None)
        consumer.join()
        t2 = time.perf_counter()
    sample = Sample(t1 - t0, t2 - t0, clock.total)
    if got[0] != n:
        sample.checks.append(f"queue consumer got {got[0]:,}/{n:,}")
    return sample


# --- the plan and the report --------------------------------------------------------------

SCENARIOS: list[tuple[str, str, str]] = [
    # key, section, label
    ("build", "-", "build only (no bus): copy + data dict + AIMessageChunk"),
    ("nosub", "-", "publish, no subscriber"),
    ("a", "(a)", "lossless, no-op pump; publisher in main thread"),
    ("b-pump", "(b)", "lossless + coalescing drained by a no-op pump"),
    ("b-slow", "(b)", "lossless + coalescing drained every 100 ms"),
    ("b-never", "(b)", "lossless + coalescing never drained"),
    ("c-plain", "(c)", "recorder to .jsonl (write + Tally)"),
    ("c-gzip", "(c)", "recorder to .jsonl.gz"),
    ("c-secrets", "(c)", "recorder to .jsonl, Redactor with 2 secrets"),
    ("c-viewer", "(c)", "recorder to .jsonl + coalescing drained every 100 ms"),
    ("d-thread", "(d)", "lossless, no-op pump; publisher in a worker thread"),
    ("d-loop", "(d)", "lossless, no-op pump; publisher in asyncio loop + pace()"),
    ("q-bounded", "base", "queue.Queue(maxsize=4096) put/get between threads"),
    ("q-unbounded", "base", "queue.Queue() put/get between threads"),
]


def run(key: str, n: int, tmp: Path) -> Sample:
    if key == "build":
        return run_build_only(n)
    if key == "nosub":
        return run_no_subscriber(n)
    if key == "a":
        return run_lossless(n, "main")
    if key.startswith("b-"):
        return run_with_viewer(n, key[2:])
    if key.startswith("c-"):
        return run_recorder(n, key[2:], tmp)
    if key == "d-thread":
        return run_lossless(n, "thread")
    if key == "d-loop":
        return run_lossless(n, "loop")
    if key == "q-bounded":
        return run_queue(n, 4096)
    if key == "q-unbounded":
        return run_queue(n, 0)
    raise ValueError(key)


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", type=int, default=500_000, help="parts per run (500,000)")
    p.add_argument("--repeat", type=int, default=3, help="runs per scenario, best kept")
    p.add_argument(
        "--only",
        default="",
        help="comma-separated scenario keys: " + ",".join(k for k, *_ in SCENARIOS),
    )
    p.add_argument(
        "--no-gc", action="store_true", help="cyclic GC off in timed regions (diagnosis)"
    )
    args = p.parse_args(argv)
    global NO_GC
    NO_GC = args.no_gc
    n = args.parts
    keys = [k for k, *_ in SCENARIOS]
    if args.only:
        wanted = [k.strip() for k in args.only.split(",") if k.strip()]
        unknown = [k for k in wanted if k not in keys]
        if unknown:
            p.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(keys)}")
        keys = [k for k in keys if k in wanted]

    began = time.perf_counter()
    src = TokenSource()
    line_bytes, alloc_bytes = part_sizes(src)
    samples: dict[str, list[Sample]] = {k: [] for k in keys}
    with tempfile.TemporaryDirectory(prefix="streamtui-bench-") as tmp:
        run("a", min(n, 50_000), Path(tmp))  # warm-up: imports, first-call caches
        run("c-plain", min(n, 50_000), Path(tmp))
        for i in range(args.repeat):
            for key in keys:
                s = run(key, n, Path(tmp))
                samples[key].append(s)
                print(
                    f"  run {i + 1} {key:>11}: published {s.published_s:6.3f} s, handled "
                    f"{s.handled_s:6.3f} s, GC {s.gc_s:5.3f} s",
                    file=sys.stderr,
                    flush=True,
                )
    best = {k: min(v, key=lambda s: s.handled_s) for k, v in samples.items()}

    w = print
    w(f"Machine: {machine()}; streamtui {streamtui.__version__} ({STARTED_WITH})")
    now = source_fingerprint()
    if now.split("sha256 ")[-1] != STARTED_WITH.split("sha256 ")[-1]:  # code, not a commit
        w(f"**WARNING: streamtui's sources changed during the run (now: {now}).**")
    w("")
    w(
        f"{n:,} parts per run, best of {args.repeat} (by handled time). One part = an "
        f"on_chat_model_stream event: {line_bytes} bytes as a log line, about "
        f"{alloc_bytes} bytes newly allocated per published part (event copy, data dict, "
        "AIMessageChunk and its containers, Part)."
    )
    if NO_GC:
        w("")
        w("**--no-gc: the cyclic GC was off inside the timed regions (diagnosis only).**")
    w("")
    problems = [(k, c) for k, v in samples.items() for s in v for c in s.checks]
    if problems:
        w("**CHECKS FAILED:**")
        for k, c in problems:
            w(f"- {k}: {c}")
        w("")
    else:
        w("Checks: every lossless subscriber got every part in order; coalescing counts add up.")
        w("")

    w("### Publish rate")
    w("")
    w(
        "| | scenario | published parts/s | handled parts/s | µs/part (handled) | GC share "
        "| vs 500k goal |"
    )
    w("|---|---|--:|--:|--:|--:|--:|")
    for key, section, label in SCENARIOS:
        if key not in best:
            continue
        s = best[key]
        goal = f"{n / s.handled_s / GOAL:.2f}x" if section in ("(a)", "(b)", "(c)", "(d)") else "-"
        w(
            f"| {section} | {label} | {rate(n, s.published_s)} | {rate(n, s.handled_s)} | "
            f"{s.handled_s / n * 1e6:.2f} | {s.gc_s / s.published_s:.0%} | {goal} |"
        )
    w("")

    viewers = [k for k in ("b-pump", "b-slow", "b-never") if k in best]
    if viewers:
        w("### The coalescing subscriber (b)")
        w("")
        w(
            "| viewer | received | delivered | folded (dropped) | merged counts | frames "
            "| RSS growth while publishing | last drain |"
        )
        w("|---|--:|--:|--:|--:|--:|--:|--:|")
        for key in viewers:
            st = best[key].stats
            w(
                f"| {key[2:]} | {st['received']:,} | {st['delivered']:,} | {st['folded']:,} | "
                f"{st['merged']:,} | {st['frames']:,} | {st['rss_growth']:,.0f} MB | "
                f"{st['final_drain_s'] * 1e3:,.1f} ms |"
            )
        w("")

    recorders = [k for k in ("c-plain", "c-gzip", "c-secrets", "c-viewer") if k in best]
    if recorders:
        w("### The recorder (c)")
        w("")
        w("| file | handled parts/s | MB written | bytes/part | MB/s | batches | vs 500k goal |")
        w("|---|--:|--:|--:|--:|--:|--:|")
        for key in recorders:
            s = best[key]
            size = s.stats["bytes"]
            w(
                f"| {key[2:]} | {rate(n, s.handled_s)} | {size / 1e6:,.1f} | {size / n:.0f} | "
                f"{size / 1e6 / s.handled_s:,.1f} | {s.stats['batches']:,} | "
                f"{n / s.handled_s / GOAL:.2f}x |"
            )
        w("")

    if "a" in best and ("q-bounded" in best or "q-unbounded" in best):
        w("### Against the naive baseline (queue time / bus time, handled)")
        w("")
        for q in ("q-bounded", "q-unbounded"):
            if q in best:
                ratio = best[q].handled_s / best["a"].handled_s
                w(
                    f"- bus (a) {rate(n, best['a'].handled_s)}/s vs {q} "
                    f"{rate(n, best[q].handled_s)}/s: **{ratio:.2f}x**"
                )
        w("")

    w("### Goal: ≥ 500,000 parts/s published to the recorder (lossless + coalescing)")
    w("")
    for key in ("b-slow", "b-never", "c-plain", "c-gzip", "c-viewer"):
        if key in best:
            r = n / best[key].handled_s
            w(
                f"- {key}: {r:,.0f} parts/s = {r / GOAL:.2f}x the goal: "
                f"{'met' if r >= GOAL else 'NOT met'}"
            )
    w(f"\n(total benchmark time {time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
