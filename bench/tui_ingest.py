"""How fast the TUI takes in parts: the store alone, and the whole app headless.

    python bench/tui_ingest.py [--parts 100000]

The app run is a replay at maximum speed through the real frame pump into the real
panes (event table, tokens, step tree, header), in Textual's headless test driver; the
clock stops when the last part has been drawn. The anchor is Textual's ``DataTable``
fed the same rows in per-frame batches (DESIGN.md's measured ~10k rows/s).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", type=int, default=100_000)
    parser.add_argument("--datatable-parts", type=int, default=20_000)
    args = parser.parse_args()
    parts = make_parts(args.parts)
    store_rate = bench_store(parts)
    app_rate, frames = asyncio.run(bench_app(parts))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table_rate = asyncio.run(bench_datatable(parts, args.datatable_parts))
    goal = "met" if app_rate >= 100_000 else "NOT met"
    lines = [
        f"# TUI ingest ({args.parts:,} parts)\n",
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
    print("\n".join(lines))
    print(f"\nMachine: {machine()}; streamtui sources {source_fingerprint()}")


if __name__ == "__main__":
    main()
