"""How fast the TUI takes in parts, and what a million-part replay costs.

    python bench/tui_ingest.py [--parts 100000] [--log-parts 1000000] [--live-rate 5000]

1. Ingest (``--parts``, in memory): the Textual-free store with its filtered view, and
   the whole app headless (a replay at maximum speed through the real frame pump into
   the real panes, in Textual's test driver), against Textual's ``DataTable`` fed the
   same rows in per-frame batches (DESIGN.md's measured ~10k rows/s).
2. A recorded log of ``--log-parts`` parts (written once under ``--dir``), each scenario
   in a fresh process so its peak RSS is its own: time to the first frame of the app
   (``open_replay`` to the first drawn frame), a full replay at maximum speed through
   the store alone and through the app, and seeking (``FramePump.restart``) in it.
3. Live: a real ``EventBus`` published at a steady ``--live-rate`` token events a second
   (a task in the app's own event loop, as ``streamtui run`` runs a chain) into a
   ``LiveSource`` and the app headless; for each part, the time from its publish to the
   frame that drew it (``call_after_refresh`` after the frame's ``batch_update``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from provenance import machine, source_fingerprint

from streamtui import AIMessageChunk
from streamtui.envelope import Part


def make_parts(n: int) -> list[Part]:
    """A chain with model runs of 1,000 tokens each: starts, tokens, ends."""
    parts: list[Part] = []
    seq = 0
    run = 0
    while seq < n:
        run += 1
        run_id = f"run-{run}"
        base = {
            "name": "Model",
            "run_id": run_id,
            "parent_ids": ["root"],
            "tags": [],
            "metadata": {},
        }
        seq += 1
        parts.append(
            Part(
                seq, seq * 1e-4, "events", (), {**base, "event": "on_chat_model_start", "data": {}}
            )
        )
        for _ in range(min(1000, n - seq - 1)):
            seq += 1
            chunk = AIMessageChunk("tok ", id=run_id)
            parts.append(
                Part(
                    seq,
                    seq * 1e-4,
                    "events",
                    (),
                    {**base, "event": "on_chat_model_stream", "data": {"chunk": chunk}},
                )
            )
        seq += 1
        parts.append(
            Part(
                seq,
                seq * 1e-4,
                "events",
                (),
                {**base, "event": "on_chat_model_end", "data": {"output": "..."}},
            )
        )
    return parts[:n]


def bench_store(parts: list[Part]) -> float:
    from streamtui.tui.filters import FilteredView
    from streamtui.tui.store import RunStore

    store = RunStore()
    view = FilteredView(store)
    started = time.perf_counter()
    for i in range(0, len(parts), 3000):
        store.ingest(parts[i : i + 3000])
        view.extend()
    return len(parts) / (time.perf_counter() - started)


async def bench_app(parts: list[Part]) -> tuple[float, int]:
    from streamtui.tui.app import StreamApp
    from streamtui.tui.sources import ReplaySource

    app = StreamApp(ReplaySource(parts, speed=None), name="bench")
    async with app.run_test(size=(160, 50)) as pilot:
        started = time.perf_counter()
        while not app.ended:
            await pilot.pause(0.01)
        await pilot.pause(0.05)  # the frame that drew the last part
        elapsed = time.perf_counter() - started
        frames = app._frames
    return len(parts) / elapsed, frames


async def bench_datatable(parts: list[Part], limit: int) -> float:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from streamtui.tui.filters import row
    from streamtui.tui.store import RunStore

    store = RunStore()
    store.ingest(parts[:limit])
    rows = [tuple(row(store, p)) for p in parts[:limit]]

    class Table(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    app = Table()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("seq", "time", "event", "name", "path", "summary")
        started = time.perf_counter()
        for i in range(0, len(rows), 3000):  # one frame's worth per batch, as a pump would
            with app.batch_update():
                table.add_rows(rows[i : i + 3000])
            await pilot.pause(0)
        await pilot.pause(0.05)
        return len(rows) / (time.perf_counter() - started)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_log(path: Path, n: int) -> None:
    """A log of ``n`` parts as the recorder writes it, made 50,000 parts at a time."""
    from streamtui.eventlog import EventLogWriter

    writer = EventLogWriter(path, {"spec": {"name": "bench"}})
    seq = 0
    for start in range(0, n, 50_000):
        batch = make_parts(min(50_000, n - start))
        for part in batch:
            seq += 1
            part.seq, part.ts = seq, seq * 1e-4
            part.data["run_id"] = f"{part.data['run_id']}-{start}"
        writer.write(batch)
    writer.close({"status": "done", "counts": {"parts": n}})


# --- scenarios, each run in a fresh process (``--scenario``) -------------------------


async def scenario_first_frame(log: Path) -> dict[str, Any]:
    from streamtui.tui.app import StreamApp
    from streamtui.tui.sources import open_replay

    started = time.perf_counter()
    source = open_replay(log, speed=1.0)
    opened = time.perf_counter() - started
    drawn: list[float] = []
    app = StreamApp(source, name="bench")
    async with app.run_test(size=(160, 50)) as pilot:
        while not drawn:
            if app._frames and len(app.store.parts):
                app.call_after_refresh(lambda: drawn.append(time.perf_counter()))
                while not drawn:
                    await pilot.pause(0.001)
                break
            await pilot.pause(0.001)
    return {"open": opened, "first_frame": drawn[0] - started, "parts": len(source)}


def scenario_store(log: Path) -> dict[str, Any]:
    from streamtui.tui.sources import FramePump, open_replay

    started = time.perf_counter()
    pump = FramePump(open_replay(log, speed=None))
    while not pump.finished:
        pump.tick()
    elapsed = time.perf_counter() - started
    store = pump.store
    return {
        "seconds": elapsed,
        "parts": len(store.parts),
        "frames": pump.frames,
        "rss": peak_rss_mb(),
        "tokens": store.tokens,
    }


async def scenario_app(log: Path, budget: float | None) -> dict[str, Any]:
    from streamtui.tui.app import StreamApp
    from streamtui.tui.sources import FramePump, open_replay

    frame_ms: list[float] = []

    class Timed(StreamApp):
        def draw_frame(self) -> None:
            started = time.perf_counter()
            super().draw_frame()
            frame_ms.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    app = Timed(open_replay(log, speed=None), name="bench")
    if budget is not None:
        app.pump = FramePump(app.pump.source, app.store, budget=budget)
    async with app.run_test(size=(160, 50)) as pilot:
        while not app.ended:
            await pilot.pause(0.01)
        await pilot.pause(0.05)
        elapsed = time.perf_counter() - started
        return {
            "seconds": elapsed,
            "parts": len(app.store.parts),
            "frames": app._frames,
            "worst_frame_ms": max(frame_ms),
            "median_frame_ms": statistics.median(frame_ms),
            "rss": peak_rss_mb(),
        }


def scenario_seek(log: Path) -> dict[str, Any]:
    from streamtui.tui.sources import FramePump, open_replay

    source = open_replay(log, speed=None)
    pump = FramePump(source)
    while not pump.finished:
        pump.tick()
    n = len(source)
    out: dict[str, Any] = {}
    for label, target in (("back 1", n - 1), ("to the middle", n // 2), ("to the start", 0)):
        started = time.perf_counter()
        pump.restart(target)
        out[label] = time.perf_counter() - started
    started = time.perf_counter()
    pump.restart(n)
    first = time.perf_counter() - started
    frames = 0
    while source.fast_forwarding:
        pump.tick()
        frames += 1
    out["forward to the end"] = time.perf_counter() - started
    out["forward call"] = first
    out["forward frames"] = frames
    out["rss"] = peak_rss_mb()
    return out


async def scenario_live(rate: int, seconds: float) -> dict[str, Any]:
    from streamtui import AIMessageChunk
    from streamtui.bus import EventBus
    from streamtui.tui.app import StreamApp
    from streamtui.tui.sources import LiveSource

    bus = EventBus()
    sent: dict[int, float] = {}
    lags: list[float] = []
    frame_times: list[float] = []

    class Measured(StreamApp):
        def draw_frame(self) -> None:
            before = len(self.store.parts)
            super().draw_frame()
            after = len(self.store.parts)
            frame_times.append(time.perf_counter())
            if after > before:
                seqs = [self.store.parts[i].seq for i in range(before, after)]
                self.call_after_refresh(lambda: drawn(seqs))

    def drawn(seqs: list[int]) -> None:
        now = time.perf_counter()
        lags.extend(now - sent[seq] for seq in seqs)

    base = {"name": "Model", "run_id": "live", "parent_ids": [], "tags": [], "metadata": {}}

    async def publish() -> None:
        start_event = {**base, "event": "on_chat_model_start", "data": {}}
        sent[bus.publish("events", start_event).seq] = time.perf_counter()
        total = int(rate * seconds)
        start = time.perf_counter()
        done = 0
        while done < total:
            due = min(total, int((time.perf_counter() - start) * rate))
            while done < due:
                event = {
                    **base,
                    "event": "on_chat_model_stream",
                    "data": {"chunk": AIMessageChunk("tok ")},
                }
                sent[bus.publish("events", event).seq] = time.perf_counter()
                done += 1
            await asyncio.sleep(0.001)
        end_event = {**base, "event": "on_chat_model_end", "data": {"output": ""}}
        sent[bus.publish("events", end_event).seq] = time.perf_counter()
        bus.close()

    sub = bus.subscribe("coalescing")
    app = Measured(LiveSource(sub), name="live")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.2)  # mounted and drawing
        started = time.perf_counter()
        task = asyncio.get_running_loop().create_task(publish())
        while not task.done():
            await pilot.pause(0.01)
        elapsed = time.perf_counter() - started
        while not app.ended:
            await pilot.pause(0.01)
        await pilot.pause(0.1)
        frames = [t for t in frame_times if started <= t <= started + elapsed]
        lags_ms = sorted(x * 1000 for x in lags)
        return {
            "published": len(sent),
            "publish_rate": len(sent) / elapsed,
            "shown": len(lags),
            "folded": app.store.merged,
            # n frames bound n - 1 intervals: the rate the frames came at.
            "fps": (len(frames) - 1) / (frames[-1] - frames[0]),
            "lag_median": statistics.median(lags_ms),
            "lag_p99": lags_ms[int(len(lags_ms) * 0.99)],
            "lag_max": lags_ms[-1],
            "rss": peak_rss_mb(),
        }


def run_scenario(name: str, *args: str) -> dict[str, Any]:
    """One scenario in a fresh interpreter: its own peak RSS, no warm caches."""
    out = subprocess.run(
        [sys.executable, __file__, "--scenario", name, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def scenario_main(name: str, args: argparse.Namespace) -> None:
    log = Path(args.log) if args.log else Path()
    if name == "first_frame":
        result = asyncio.run(scenario_first_frame(log))
    elif name == "store":
        result = scenario_store(log)
    elif name == "app":
        result = asyncio.run(scenario_app(log, args.budget))
    elif name == "seek":
        result = scenario_seek(log)
    elif name == "live":
        result = asyncio.run(scenario_live(args.live_rate, args.live_seconds))
    else:
        raise SystemExit(f"unknown scenario {name}")
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", type=int, default=100_000)
    parser.add_argument("--datatable-parts", type=int, default=20_000)
    parser.add_argument("--log-parts", type=int, default=1_000_000)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the log is kept")
    parser.add_argument("--live-rate", type=int, default=5_000)
    parser.add_argument("--live-seconds", type=float, default=10.0)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    parser.add_argument(
        "--only", choices=["ingest", "log", "live"], action="append", help="run only these"
    )
    args = parser.parse_args()
    if args.scenario:
        scenario_main(args.scenario, args)
        return
    only = set(args.only or ["ingest", "log", "live"])
    lines: list[str] = []
    if "ingest" in only:
        lines += ingest_section(args)
    if "log" in only:
        lines += log_section(args)
    if "live" in only:
        lines += live_section(args)
    print("\n".join(lines))
    print(f"\nMachine: {machine()}; streamtui sources {source_fingerprint()}")


def ingest_section(args: argparse.Namespace) -> list[str]:
    parts = make_parts(args.parts)
    store_rate = bench_store(parts)
    app_rate, frames = asyncio.run(bench_app(parts))
    rss = peak_rss_mb()
    table_rate = asyncio.run(bench_datatable(parts, args.datatable_parts))
    goal = "met" if app_rate >= 100_000 else "NOT met"
    return [
        f"# TUI ingest ({args.parts:,} parts in memory)\n",
        "| path | parts/s | note |",
        "|---|--:|---|",
        f"| store + filtered view (no Textual) | {store_rate:,.0f} | batches of 3,000 |",
        f"| StreamApp, replay at max speed, headless | {app_rate:,.0f} "
        f"| {frames} frames; peak RSS {rss:,.0f} MB |",
        f"| anchor: DataTable.add_rows per frame ({args.datatable_parts:,} rows) "
        f"| {table_rate:,.0f} | |",
        f"\nStreamApp / DataTable: **{app_rate / table_rate:.1f}x**; goal >= 100,000 parts/s "
        f"absorbed: {goal} ({app_rate / 100_000:.2f}x)",
    ]


def log_section(args: argparse.Namespace) -> list[str]:
    n = args.log_parts
    log = Path(args.dir) / f"streamtui-bench-{n}.jsonl"
    if not log.exists():
        write_log(log, n)
    size = log.stat().st_size / 1e6
    first = run_scenario("first_frame", "--log", str(log))
    store = run_scenario("store", "--log", str(log))
    app = run_scenario("app", "--log", str(log))
    paced = run_scenario("app", "--log", str(log), "--budget", "0.03")
    seek = run_scenario("seek", "--log", str(log))

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    return [
        f"\n# Replaying a {n:,}-part log ({size:,.0f} MB), each row a fresh process\n",
        "| what | time | peak RSS | note |",
        "|---|--:|--:|---|",
        f"| `open_replay` (scan for offsets and times) | {first['open']:.2f} s | | |",
        f"| first frame of the app (open + start + draw) | {first['first_frame']:.2f} s | | "
        f"goal < 2 s: {met(first['first_frame'] < 2)} |",
        f"| full replay at max speed, store only | {store['seconds']:.1f} s | "
        f"{store['rss']:,.0f} MB | {store['parts'] / store['seconds']:,.0f} parts/s; "
        f"goal < 300 MB: {met(store['rss'] < 300)} |",
        f"| full replay at max speed, StreamApp headless | {app['seconds']:.1f} s | "
        f"{app['rss']:,.0f} MB | {app['parts'] / app['seconds']:,.0f} parts/s, "
        f"{app['frames']} frames, median {app['median_frame_ms']:.0f} ms, worst "
        f"{app['worst_frame_ms']:.0f} ms; goal < 300 MB: {met(app['rss'] < 300)} |",
        f"| the same, `FramePump(budget=0.03)` | {paced['seconds']:.1f} s | "
        f"{paced['rss']:,.0f} MB | {paced['parts'] / paced['seconds']:,.0f} parts/s, "
        f"{paced['frames']} frames, median {paced['median_frame_ms']:.0f} ms, worst "
        f"{paced['worst_frame_ms']:.0f} ms |",
        f"| seek back 1 part (`restart(n - 1)`) | {seek['back 1'] * 1000:.0f} ms | | |",
        f"| seek to the middle | {seek['to the middle'] * 1000:.0f} ms | | |",
        f"| seek to the start | {seek['to the start'] * 1000:.0f} ms | | |",
        f"| seek from the start to the end | {seek['forward to the end']:.1f} s | "
        f"{seek['rss']:,.0f} MB | the call {seek['forward call'] * 1000:.0f} ms, then "
        f"{seek['forward frames']} frames of 20,000 parts |",
    ]


def live_section(args: argparse.Namespace) -> list[str]:
    live = run_scenario(
        "live", "--live-rate", str(args.live_rate), "--live-seconds", str(args.live_seconds)
    )
    ok = live["lag_p99"] < 50 and live["fps"] >= 30
    return [
        f"\n# Live: {args.live_rate:,} events/s for {args.live_seconds:g} s into the app\n",
        "| published | rate | shown parts (folded chunks) | frames/s | lag median | "
        "lag p99 | lag max | peak RSS |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|",
        f"| {live['published']:,} | {live['publish_rate']:,.0f}/s | {live['shown']:,} "
        f"({live['folded']:,}) | {live['fps']:.1f} | {live['lag_median']:.1f} ms | "
        f"{live['lag_p99']:.1f} ms | {live['lag_max']:.1f} ms | {live['rss']:,.0f} MB |",
        f"\nGoal: view under 50 ms behind (p99) at >= 30 frames/s: {'met' if ok else 'NOT met'}",
    ]


if __name__ == "__main__":
    main()
