"""Event-log write and read speed: a 1M-part JSONL log written, opened, indexed, parsed.

The log is what a LangGraph-style agent run records: turns of one graph node calling a
chat model that streams ``--tokens-per-turn`` chunks (default 1,000). Each turn is an
``on_chain_start`` (the node), ``on_chat_model_start``, the token parts
(``on_chat_model_stream`` with an ``AIMessageChunk(content="tok ", id=...)``, the 7-key
``astream_events`` shape with ``langgraph_*``/``ls_*`` metadata), ``on_chat_model_end``,
``on_chain_end`` and an ``updates`` part: ``tokens + 5`` parts, new run ids per turn.

Timed, in one process:

* **write**: ``EventLogWriter.write`` in batches of ``--batch`` parts (4,096 by default:
  what the recorder's pump gets when the run outpaces it), including JSON encoding,
  redaction (a default ``Redactor``), the write and the flush per batch, and the header
  and footer. Each batch is built once, outside the timed region, and written to the
  plain ``.jsonl`` and then the ``.jsonl.gz`` writer, each timed on its own.
* **open + index** (the issue's goal, under 5 s for 1M parts): ``EventLog.open(path)``
  (read, split into lines, header and footer parsed) and ``.index()`` (positions by
  mode, event type and run, found by regex on the raw lines, no JSON parsing).
* **parse**: ``.parts``, which decodes every line and rebuilds an ``AIMessageChunk`` per
  token (``parse_line``), with the cyclic GC paused as ``EventLog.parts`` does.
* **baseline**, the naive reader, two shapes: ``for line in f: json.loads(line)``
  (every line parsed, nothing kept: the same pass as open + index, which keeps only
  positions) and ``[json.loads(line) for line in f]`` with the GC off (every line kept as
  plain dicts, no objects rebuilt: the same shape as ``.parts``). ``orjson.loads`` in the
  first shape too if orjson is installed. ``--extras`` adds the second shape with the GC
  on, as anyone would write it (about 40 s at 1M), and with orjson, and ``.parts`` of the
  ``.gz`` log.

``open + index`` and the naive pass are the best of ``--repeat`` runs (default 1, to keep
the default run near 1.5 min; the first run is also shown on its own, since a fresh
process is what ``streamtui replay`` is); the full parses run once each (they build
gigabytes of objects at 1M parts). The script checks what it reads (line and part
counts, seq order, index counts per event type, the chunk class) and prints any
mismatch.

Usage::

    python bench/eventlog_io.py                  # 1,000,000 parts (about 1.5 min)
    python bench/eventlog_io.py --repeat 3       # best of 3 for open + index and the pass
    python bench/eventlog_io.py --parts 100000
    python bench/eventlog_io.py --extras         # + the slow extra rows
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from provenance import machine, source_fingerprint

import streamtui
from streamtui.envelope import Part, Redactor
from streamtui.eventlog import EventLog, EventLogWriter, Tally
from streamtui.runtime.messages import AIMessage, AIMessageChunk, HumanMessage
from streamtui.session import make_header

try:
    import orjson
except ImportError:  # optional anchor
    orjson = None

GOAL_S = 5.0  # a 1M-part log read and indexed in under 5 s
STARTED_WITH = source_fingerprint()


# --- the log's parts ----------------------------------------------------------------------


def agent_events(tokens_per_turn: int) -> Iterator[tuple[str, Any]]:
    """(mode, data) of an agent run's parts, turn after turn, built as they are taken."""
    root = str(uuid.uuid4())
    turn = 0
    while True:
        turn += 1
        node, model = str(uuid.uuid4()), str(uuid.uuid4())
        ns = f"agent:{uuid.uuid4()}"
        metadata = {
            "langgraph_step": turn,
            "langgraph_node": "agent",
            "langgraph_triggers": ("branch:to:agent",),
            "langgraph_path": ("__pregel_pull", "agent"),
            "langgraph_checkpoint_ns": ns,
            "checkpoint_ns": ns,
        }
        model_metadata = {
            **metadata,
            "ls_provider": "openai",
            "ls_model_name": "gpt-4o-mini",
            "ls_model_type": "chat",
            "ls_temperature": 0.0,
        }
        node_head = {
            "name": "agent",
            "run_id": node,
            "parent_ids": [root],
            "tags": [f"graph:step:{turn}"],
            "metadata": metadata,
        }
        model_head = {
            "name": "ChatOpenAI",
            "run_id": model,
            "parent_ids": [root, node],
            "tags": ["seq:step:1"],
            "metadata": model_metadata,
        }
        question = HumanMessage(f"question {turn}", id=str(uuid.uuid4()))
        node_in = {"messages": [question]}
        model_in = {"messages": [[question]]}
        chunk_id = f"lc_run--{model}"

        yield "events", {"event": "on_chain_start", **node_head, "data": {"input": node_in}}
        yield "events", {"event": "on_chat_model_start", **model_head, "data": {"input": model_in}}
        # Token parts exactly as the runtime makes them: a copy of a prebuilt dict.
        token = {"event": "on_chat_model_stream", **model_head, "data": None}
        copy = token.copy
        for _ in range(tokens_per_turn):
            data = copy()
            data["data"] = {"chunk": AIMessageChunk(content="tok ", id=chunk_id)}
            yield "events", data
        text = "tok " * tokens_per_turn
        end = AIMessageChunk(content=text, id=chunk_id, chunk_position="last")
        reply = AIMessage(text, id=chunk_id)
        yield (
            "events",
            {
                "event": "on_chat_model_end",
                **model_head,
                "data": {"output": end, "input": model_in},
            },
        )
        yield (
            "events",
            {
                "event": "on_chain_end",
                **node_head,
                "data": {"output": {"messages": [reply]}, "input": node_in},
            },
        )
        yield "updates", {"agent": {"messages": [reply]}}


def agent_parts(n: int, tokens_per_turn: int) -> Iterator[Part]:
    """``n`` parts of an agent run, numbered and timed as the bus would (1 µs apart)."""
    for seq, (mode, data) in zip(range(1, n + 1), agent_events(tokens_per_turn)):
        yield Part(seq, seq * 1e-6, mode, (), data)


def expected_counts(n: int, tokens_per_turn: int) -> dict[str, int]:
    """What the index must find in ``n`` parts."""
    counts: dict[str, int] = {}
    order = (
        ["on_chain_start", "on_chat_model_start"]
        + ["on_chat_model_stream"] * tokens_per_turn
        + ["on_chat_model_end", "on_chain_end", "updates"]
    )
    whole, rest = divmod(n, len(order))
    for i, kind in enumerate(order):
        counts[kind] = counts.get(kind, 0) + whole + (1 if i < rest else 0)
    return counts


# --- timed steps --------------------------------------------------------------------------


def write_logs(
    paths: list[Path], n: int, tokens_per_turn: int, batch: int
) -> tuple[list[float], Tally]:
    """Write the same parts to every path, batch by batch (each batch is built once);
    seconds spent in each path's writer (constructor, write calls, close)."""
    header = make_header(
        name="bench-agent",
        path=None,
        spec_hash=None,
        input={"messages": [["human", "question 1"]]},
        modes=["events", "updates"],
    )
    tally = Tally()
    parts = agent_parts(n, tokens_per_turn)
    spent = [0.0] * len(paths)
    writers = []
    gc.collect()
    for i, path in enumerate(paths):
        t0 = time.perf_counter()
        writers.append(EventLogWriter(path, header, Redactor()))
        spent[i] += time.perf_counter() - t0
    while True:
        chunk = [p for _, p in zip(range(batch), parts)]
        if not chunk:
            break
        tally.add(chunk)  # the recorder does this too; not timed here
        for i, writer in enumerate(writers):
            t0 = time.perf_counter()
            writer.write(chunk)
            spent[i] += time.perf_counter() - t0
    footer = {"status": "done", "duration": n * 1e-6, "counts": tally.as_footer()}
    for i, writer in enumerate(writers):
        t0 = time.perf_counter()
        writer.close(footer)
        spent[i] += time.perf_counter() - t0
    return spent, tally


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return float("nan")


def open_and_index(path: Path, n: int, tpt: int, problems: list[str]) -> tuple[float, float]:
    """Seconds for ``EventLog.open`` and for ``.index()`` (the goal's two steps)."""
    gc.collect()
    t0 = time.perf_counter()
    log = EventLog.open(path)
    t1 = time.perf_counter()
    index = log.index()
    t2 = time.perf_counter()
    want = expected_counts(n, tpt)
    got = {k: len(v) for k, v in index.by_event.items()}
    got["updates"] = len(index.by_mode.get("updates", []))
    if got != want:
        problems.append(f"{path.name}: index counts {got} != expected {want}")
    if len(log.lines) != n or log.truncated or log.footer is None:
        problems.append(
            f"{path.name}: {len(log.lines):,} lines, truncated {log.truncated}, "
            f"footer {log.footer is not None}"
        )
    del log, index
    gc.collect()
    return t1 - t0, t2 - t1


def open_and_parse(path: Path, n: int, problems: list[str]) -> dict[str, float]:
    """Seconds for ``EventLog.open`` and ``.parts``; the memory the parts take and the
    page faults taking it cost (the kernel's share of a big parse)."""
    gc.collect()
    t0 = time.perf_counter()
    log = EventLog.open(path)
    t1 = time.perf_counter()
    rss0, cpu0 = rss_mb(), resource.getrusage(resource.RUSAGE_SELF)
    t2 = time.perf_counter()
    parts = log.parts
    t3 = time.perf_counter()
    rss1, cpu1 = rss_mb(), resource.getrusage(resource.RUSAGE_SELF)
    if len(parts) != n or log.bad_lines:
        problems.append(f"{path.name}: {len(parts):,} parts, bad lines {log.bad_lines[:3]}")
    elif parts[-1].seq != n or any(p.seq != i for i, p in enumerate(parts[:1000], 1)):
        problems.append(f"{path.name}: parts out of order")
    else:
        token = next(p for p in parts if p.data.get("event") == "on_chat_model_stream")
        if type(token.data["data"]["chunk"]) is not AIMessageChunk:
            problems.append(f"{path.name}: a token's chunk is {type(token.data['data']['chunk'])}")
    del parts, log
    gc.collect()
    return {
        "open": t1 - t0,
        "parts": t3 - t2,
        "faults": cpu1.ru_minflt - cpu0.ru_minflt,
        "mb": rss1 - rss0,
    }


def naive_pass(path: Path, loads: Callable[[bytes], Any]) -> tuple[float, int]:
    """Every line read and parsed, nothing kept (the shape of our open + index)."""
    gc.collect()
    count = 0
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            loads(line)
            count += 1
    return time.perf_counter() - t0, count


def naive_keep(path: Path, loads: Callable[[bytes], Any], gc_on: bool) -> tuple[float, int]:
    """``[loads(line) for line in f]``: every line parsed and kept (the shape of .parts)."""
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            rows = [loads(line) for line in f]
        seconds = time.perf_counter() - t0
    finally:
        gc.enable()
    count = len(rows)
    del rows
    gc.collect()
    return seconds, count


# --- report -------------------------------------------------------------------------------


def log_progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", type=int, default=1_000_000, help="parts in the log (1,000,000)")
    p.add_argument("--tokens-per-turn", type=int, default=1_000, help="token parts per turn")
    p.add_argument("--batch", type=int, default=4096, help="parts per write() call")
    p.add_argument(
        "--repeat", type=int, default=1, help="runs of open + index and the naive pass (best)"
    )
    p.add_argument(
        "--extras",
        action="store_true",
        help="also .parts of the .gz log, and the naive keep-every-line readers with the GC "
        "on (about 40 s at 1M) and with orjson (about +70 s in all)",
    )
    p.add_argument("--keep", metavar="DIR", help="write the logs here and keep them")
    args = p.parse_args(argv)
    n, tpt = args.parts, args.tokens_per_turn
    if n < 1 or tpt < 1 or args.batch < 1 or args.repeat < 1:
        p.error("--parts, --tokens-per-turn, --batch and --repeat must be at least 1")

    began = time.perf_counter()
    problems: list[str] = []
    tmp_holder = None
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp_holder = tempfile.TemporaryDirectory(prefix="streamtui-bench-")
        folder = Path(tmp_holder.name)
    files = {"plain": folder / "bench.jsonl", "gzip": folder / "bench.jsonl.gz"}

    warm = [folder / "warmup.jsonl", folder / "warmup.jsonl.gz"]
    write_logs(warm, min(n, 20_000), tpt, args.batch)  # untimed warm-up
    for path in warm:
        path.unlink()

    spent, tally = write_logs(list(files.values()), n, tpt, args.batch)
    writes = dict(zip(files, spent))
    if tally.parts != n:
        problems.append(f"the writers were given {tally.parts:,} parts")
    for kind, seconds in writes.items():
        log_progress(f"write {kind}: {seconds:.2f} s")
    sizes = {kind: path.stat().st_size for kind, path in files.items()}
    raw_bytes = sizes["plain"]

    loaders: list[tuple[str, Callable[[bytes], Any]]] = [("json.loads", json.loads)]
    if orjson is not None:
        loaders.append(("orjson.loads", orjson.loads))
    indexed: dict[str, list[tuple[float, float]]] = {kind: [] for kind in files}
    passes: dict[str, list[float]] = {label: [] for label, _ in loaders}
    for i in range(args.repeat):
        for kind, path in files.items():
            o, x = open_and_index(path, n, tpt, problems if i == 0 else [])
            indexed[kind].append((o, x))
            log_progress(f"run {i + 1} {kind}: open {o:.2f} s + index {x:.2f} s")
        for label, loads in loaders:
            seconds, count = naive_pass(files["plain"], loads)
            if count != n + 2:
                problems.append(f"naive pass with {label}: {count:,} lines")
            passes[label].append(seconds)
            log_progress(f"run {i + 1} naive pass, {label}: {seconds:.2f} s")

    parsed: dict[str, dict[str, float]] = {}
    for kind in ("plain", "gzip") if args.extras else ("plain",):
        parsed[kind] = r = open_and_parse(files[kind], n, problems)
        log_progress(f"{kind}: open {r['open']:.2f} s + parts {r['parts']:.2f} s")
    keeps: dict[str, float] = {}
    keepers = [(f"{label}, GC off", loads, False) for label, loads in loaders]
    if not args.extras:
        keepers = keepers[:1]
    else:
        keepers.insert(0, ("json.loads, GC on", json.loads, True))
    for label, loads, gc_on in keepers:
        seconds, count = naive_keep(files["plain"], loads, gc_on)
        if count != n + 2:
            problems.append(f"naive keep with {label}: {count:,} lines")
        keeps[label] = seconds
        log_progress(f"naive keep, {label}: {seconds:.2f} s")

    w = print
    w(f"Machine: {machine()}; streamtui {streamtui.__version__} ({STARTED_WITH})")
    now = source_fingerprint()
    if now.split("sha256 ")[-1] != STARTED_WITH.split("sha256 ")[-1]:  # code, not a commit
        w(f"**WARNING: streamtui's sources changed during the run (now: {now}).**")
    w("")
    w(
        f"{n:,} parts ({tpt:,} tokens per turn, {tpt + 5:,} parts per turn), write batches "
        f"of {args.batch:,}. open + index and the naive pass: best of {args.repeat}; "
        "full parses: one run each."
    )
    w("")
    if problems:
        w("**CHECKS FAILED:**")
        for problem in problems:
            w(f"- {problem}")
    else:
        w("Checks: line and part counts, order, footer, index counts per event type, chunk class.")
    w("")

    w("### Write (EventLogWriter.write, default Redactor)")
    w("")
    w("| file | seconds | parts/s | MB on disk | bytes/part | MB/s (uncompressed) |")
    w("|---|--:|--:|--:|--:|--:|")
    for kind in files:
        s, size = writes[kind], sizes[kind]
        w(
            f"| {files[kind].name} | {s:.2f} | {n / s:,.0f} | {size / 1e6:,.1f} | "
            f"{size / n:.1f} | {raw_bytes / 1e6 / s:,.1f} |"
        )
    w("")

    w(f"### Read and index (the goal: under {GOAL_S:g} s for 1,000,000 parts)")
    w("")
    w("| file | open s | index s | **open + index s** | first run s | parts/s | goal |")
    w("|---|--:|--:|--:|--:|--:|---|")
    best_index = {kind: min(runs, key=sum) for kind, runs in indexed.items()}
    for kind, (o, x) in best_index.items():
        first = sum(indexed[kind][0])
        verdict = "met" if max(o + x, first) < GOAL_S else "NOT met"
        w(
            f"| {files[kind].name} | {o:.2f} | {x:.2f} | **{o + x:.2f}** | {first:.2f} | "
            f"{n / (o + x):,.0f} | {verdict} ({GOAL_S / max(o + x, first):.1f}x margin) |"
        )
    w("")
    w(
        "first run = the first open + index in this process (the heap not yet grown, as in "
        "a fresh `streamtui replay`); the other columns are the best run."
    )
    w("")

    w("### Full parse into objects (EventLog.parts)")
    w("")
    w("| file | open s | parts s | open + parts s | parts/s | MB in memory | page faults |")
    w("|---|--:|--:|--:|--:|--:|--:|")
    for kind, r in parsed.items():
        total = r["open"] + r["parts"]
        w(
            f"| {files[kind].name} | {r['open']:.2f} | {r['parts']:.2f} | {total:.2f} | "
            f"{n / r['parts']:,.0f} | {r['mb']:,.0f} | {r['faults']:,} |"
        )
    w("")

    w("### Against the naive reader (plain file; its time / ours)")
    w("")
    w("| naive reader | seconds | ours | our seconds | ratio |")
    w("|---|--:|---|--:|--:|")
    o, x = best_index["plain"]
    for label, times in passes.items():
        s = min(times)
        w(
            f"| `for line in f: {label}(line)` (nothing kept) | {s:.2f} | open + index | "
            f"{o + x:.2f} | **{s / (o + x):.2f}x** |"
        )
    full = parsed["plain"]["open"] + parsed["plain"]["parts"]
    for label, s in keeps.items():
        name, gc_state = label.split(", ")
        w(
            f"| `[{name}(line) for line in f]`, {gc_state} | {s:.2f} | open + parts | "
            f"{full:.2f} | **{s / full:.2f}x** |"
        )
    w("")

    w(f"### Goal: a {n:,}-part log read and indexed in under {GOAL_S:g} s")
    w("")
    for kind, (o, x) in best_index.items():
        first = sum(indexed[kind][0])
        verdict = "met" if max(o + x, first) < GOAL_S else "NOT met"
        w(f"- {files[kind].name}: open + index {o + x:.2f} s (first run {first:.2f} s): {verdict}")
    for kind, r in parsed.items():
        total = r["open"] + r["parts"]
        verdict = "would be met" if total < GOAL_S else "would NOT be met"
        w(
            f"- {files[kind].name}: open + full parse into objects {total:.2f} s "
            f"({verdict} if the goal meant that)"
        )
    if n != 1_000_000:
        w(f"- (the goal is stated for 1,000,000 parts; this run has {n:,})")
    w(f"\n(total benchmark time {time.perf_counter() - began:.1f} s)")
    if tmp_holder is not None:
        tmp_holder.cleanup()


if __name__ == "__main__":
    main()
