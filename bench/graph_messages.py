"""Per-token cost of a graph's ``messages`` stream mode: streamtui.graph vs langgraph.

One node calls a chat model with a plain ``invoke()``; with ``stream_mode="messages"``
every token still streams, as ``(AIMessageChunk, metadata)``. The models are the fakes of
each library streaming the same N chunks (langchain-core's GenericFakeChatModel splits on
whitespace; streamtui's ScriptedChatModel takes the chunk list).

    python bench/graph_messages.py [--tokens 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from typing import Any, TypedDict


class State(TypedDict):
    answer: str


def langgraph_app(text: str) -> Any:
    from langchain_core.language_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langgraph.graph import START, StateGraph

    def call(state: State) -> dict:
        model = GenericFakeChatModel(messages=iter([AIMessage(content=text)]))
        return {"answer": model.invoke("go").content}

    graph = StateGraph(State)
    graph.add_node("call", call)
    graph.add_edge(START, "call")
    return graph.compile()


def streamtui_app(text: str) -> Any:
    import re

    from streamtui import ScriptedChatModel
    from streamtui.graph import START, StateGraph

    chunks = [c for c in re.split(r"(\s)", text) if c]  # what GenericFakeChatModel streams

    def call(state: State) -> dict:
        model = ScriptedChatModel(responses=[chunks])
        return {"answer": model.invoke("go").content}

    graph = StateGraph(State)
    graph.add_node("call", call)
    graph.add_edge(START, "call")
    return graph.compile()


def timed(app: Any, use_async: bool) -> tuple[float, int]:
    gc.collect()
    started = time.perf_counter()
    if use_async:

        async def consume() -> int:
            return sum([1 async for _ in app.astream({"answer": ""}, stream_mode="messages")])

        count = asyncio.run(consume())
    else:
        count = sum(1 for _ in app.stream({"answer": ""}, stream_mode="messages"))
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=10_000, help="chunks streamed")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, best kept")
    opts = parser.parse_args()
    text = " ".join(["word"] * (opts.tokens // 2 + 1))
    builders = {"langgraph": langgraph_app, "streamtui": streamtui_app}
    print(f"messages mode, {opts.tokens:,}-ish tokens; µs per token, best of {opts.repeat}\n")
    print("| path | langgraph | streamtui | ratio | tokens |\n|---|--:|--:|--:|--:|")
    for use_async, path in ((False, "stream"), (True, "astream")):
        per_token: dict[str, float] = {}
        counts: dict[str, int] = {}
        for name, build in builders.items():
            runs = [timed(build(text), use_async) for _ in range(opts.repeat)]
            best = min(runs)
            counts[name] = best[1]
            per_token[name] = best[0] / best[1] * 1e6
        if counts["langgraph"] != counts["streamtui"]:
            print(f"WARNING: token counts differ: {counts}")
        lg, st = per_token["langgraph"], per_token["streamtui"]
        print(f"| {path} | {lg:.1f} | {st:.1f} | {lg / st:.1f}x | {counts['streamtui']:,} |")


if __name__ == "__main__":
    main()
