"""Per-superstep overhead of a graph: streamtui.graph against langgraph, one process.

A one-node loop runs N supersteps (the node adds 1 to a counter until it reaches N). Each
stream mode is timed with sync ``stream`` and async ``astream``; ``custom`` and
``messages`` are requested while no node writes custom items or calls a model, which must
not slow a step down.

    python bench/graph_steps.py [--steps 1000] [--repeat 3] [--modes updates,values,...]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypedDict

MODES: dict[str, Any] = {
    "updates": "updates",
    "values": "values",
    "updates+custom": ["updates", "custom"],
    "updates+messages": ["updates", "messages"],
}


class Counter(TypedDict):
    n: int


def build(graph_module: ModuleType, steps: int) -> Any:
    """The loop graph, built with ``graph_module``'s StateGraph."""
    graph = graph_module.StateGraph(Counter)
    graph.add_node("inc", lambda state: {"n": state["n"] + 1})
    graph.add_edge(graph_module.START, "inc")
    end = graph_module.END
    graph.add_conditional_edges("inc", lambda state: "inc" if state["n"] < steps else end)
    return graph.compile()


def best(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs, and the item count (checked equal across libs)."""
    times = []
    items = 0
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        items = run()
        times.append(time.perf_counter() - started)
    return min(times), items


def measure(app: Any, steps: int, mode: Any, repeat: int) -> tuple[float, float, int]:
    config = {"recursion_limit": steps + 5}

    def sync_run() -> int:
        return sum(1 for _ in app.stream({"n": 0}, config, stream_mode=mode))

    def async_run() -> int:
        async def consume() -> int:
            return sum([1 async for _ in app.astream({"n": 0}, config, stream_mode=mode)])

        return asyncio.run(consume())

    sync_time, items = best(sync_run, repeat)
    async_time, async_items = best(async_run, repeat)
    assert items == async_items, "sync and async streams differ"
    return sync_time, async_time, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="supersteps (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, best kept")
    parser.add_argument("--modes", default=",".join(MODES), help="subset of " + ",".join(MODES))
    opts = parser.parse_args()
    import langgraph.graph as langgraph_graph

    import streamtui.graph as streamtui_graph

    libraries = {"langgraph": langgraph_graph, "streamtui": streamtui_graph}
    apps = {name: build(module, opts.steps) for name, module in libraries.items()}
    print(f"{opts.steps:,} supersteps; µs per superstep, best of {opts.repeat}\n")
    print("| mode | path | langgraph | streamtui | ratio |\n|---|---|--:|--:|--:|")
    for label in opts.modes.split(","):
        mode = MODES[label]
        results = {name: measure(app, opts.steps, mode, opts.repeat) for name, app in apps.items()}
        if results["langgraph"][2] != results["streamtui"][2]:
            print(f"WARNING: {label}: item counts differ: {results}")
        for index, path in ((0, "stream"), (1, "astream")):
            lg = results["langgraph"][index] / opts.steps * 1e6
            st = results["streamtui"][index] / opts.steps * 1e6
            print(f"| {label} | {path} | {lg:.1f} | {st:.1f} | {lg / st:.1f}x |")


if __name__ == "__main__":
    main()
