"""SSE server latency and throughput on loopback, with one viewer in another process.

The run: a thread publishes realistic ``on_chat_model_stream`` parts (the 7-key
``astream_events`` shape with an ``AIMessageChunk``, as in ``bus_throughput.py``) to an
``EventBus`` that ``serve_sse`` serves. The viewer is a separate Python process (as a
viewer elsewhere would be) reading the stream over a raw socket, splitting it into SSE
events and parsing each ``data:`` line with ``parse_line`` (message objects rebuilt).

* latency: from ``bus.publish`` (the part's ``ts``, taken under the bus lock) to the
  viewer having parsed the part. Both processes read the same monotonic clock
  (``time.perf_counter`` is ``CLOCK_MONOTONIC`` on Linux), so the viewer computes it per
  part. Paced at ``--rate`` parts/s for ``--seconds``; median, p99 and max.
* throughput: ``--parts`` published as fast as the publisher can; parts/s from the first
  publish to the viewer having parsed the last one, and the publisher's own rate with
  the server attached.

Usage::

    python bench/sse_latency.py                      # 1,000 parts/s for 5 s; 200,000 parts
    python bench/sse_latency.py --rate 5000 --seconds 3 --parts 50000
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from provenance import machine, source_fingerprint

from streamtui.bus import EventBus
from streamtui.envelope import parse_line
from streamtui.eventlog import PartPump
from streamtui.remote.sse_server import serve_sse
from streamtui.runtime.messages import AIMessageChunk

GOAL_MEDIAN = 0.005  # seconds, at 1,000 parts/s


def token_event_maker() -> Any:
    """A function that builds one token part the way the runtime does (copy + new data)."""
    run = str(uuid.uuid4())
    ns = f"agent:{uuid.uuid4()}"
    template: dict[str, Any] = {
        "event": "on_chat_model_stream",
        "name": "ChatOpenAI",
        "run_id": run,
        "parent_ids": [str(uuid.uuid4()), str(uuid.uuid4())],
        "tags": ["seq:step:1"],
        "metadata": {
            "langgraph_step": 1,
            "langgraph_node": "agent",
            "langgraph_checkpoint_ns": ns,
            "ls_provider": "openai",
            "ls_model_name": "gpt-4o-mini",
        },
        "data": None,
    }
    chunk_id = f"lc_run--{run}"

    def make() -> dict[str, Any]:
        event = template.copy()
        event["data"] = {"chunk": AIMessageChunk(content="tok ", id=chunk_id)}
        return event

    return make


# --- the viewer (a child process) --------------------------------------------------------


def viewer(url: str, started: float) -> None:
    """Read the stream to ``end``; print one JSON line of what it saw."""
    u = urlsplit(url)
    sock = socket.create_connection((u.hostname, u.port))
    sock.sendall(f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode())
    f = sock.makefile("rb", buffering=1 << 16)
    while f.readline() not in (b"\r\n", b""):
        pass
    print("ready", flush=True)
    latencies: list[float] = []
    gaps = 0
    event = data = None
    clock = time.perf_counter
    for line in f:
        if line == b"\n":
            if event == b"end":
                break
            if event == b"gap":
                gaps += 1
            elif data is not None:
                part = parse_line(data)
                latencies.append(clock() - started - part.ts)
            event = data = None
        elif line.startswith(b"data: "):
            data = line[6:-1]
        elif line.startswith(b"event: "):
            event = line[7:-1]
    last = clock()
    print(json.dumps({"latencies": latencies, "gaps": gaps, "last": last}), flush=True)


# --- the run -----------------------------------------------------------------------------


def one_run(rate: float | None, count: int) -> dict[str, Any]:
    """Publish ``count`` parts (paced at ``rate``/s, or flat out) to one viewer."""
    bus = EventBus()
    make = token_event_maker()
    with serve_sse(bus) as server:
        child = subprocess.Popen(
            [sys.executable, __file__, "--viewer", server.url, repr(bus.started)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 10
        while server.clients < 1 and time.monotonic() < deadline:
            time.sleep(0.001)
        publish = bus.publish
        clock = time.perf_counter
        first = clock()
        if rate is None:
            for _ in range(count):
                publish("events", make())
        else:
            step = 1.0 / rate
            for i in range(count):
                due = first + i * step
                wait = due - clock()
                if wait > 0:
                    time.sleep(wait)
                publish("events", make())
        published = clock() - first
        bus.close()
        server.end("done")
        result = json.loads(child.stdout.readline())
        child.wait(10)
    result["published"] = published
    result["first"] = first
    return result


def bare_publisher(count: int) -> float:
    """Parts/s publishing to a bus with only a no-op lossless pump: the baseline."""
    bus = EventBus()
    make = token_event_maker()
    pump = PartPump(bus.subscribe("lossless"), lambda parts: None, "noop").start()
    publish = bus.publish
    first = time.perf_counter()
    for _ in range(count):
        publish("events", make())
    rate = count / (time.perf_counter() - first)
    bus.close()
    pump.join()
    return rate


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=1000.0, help="parts/s for the latency run")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the latency run")
    ap.add_argument("--parts", type=int, default=200_000, help="parts for the throughput run")
    ap.add_argument("--viewer", nargs=2, metavar=("URL", "STARTED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.viewer:
        viewer(args.viewer[0], float(args.viewer[1]))
        return

    began = time.perf_counter()
    started_with = source_fingerprint()
    print(f"machine: {machine()}")
    print(f"streamtui: {started_with}")
    n = int(args.rate * args.seconds)
    paced = one_run(args.rate, n)
    lat = sorted(paced["latencies"])
    median = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(
        f"\nlatency, publish -> parsed by the viewer, {args.rate:,.0f} parts/s for "
        f"{args.seconds:g} s ({len(lat):,} parts, {paced['gaps']} gaps):"
    )
    print(f"  median {ms(median)}   p99 {ms(p99)}   max {ms(lat[-1])}   min {ms(lat[0])}")
    print(
        f"  goal: median < {ms(GOAL_MEDIAN)}: {median / GOAL_MEDIAN:.2f}x the goal "
        f"({'met' if median < GOAL_MEDIAN else 'NOT met'})"
    )

    flat = one_run(None, args.parts)
    got = len(flat["latencies"])
    through = got / (flat["last"] - flat["first"])
    flat_lat = sorted(flat["latencies"])
    print(f"\nthroughput, {args.parts:,} parts flat out, one viewer ({flat['gaps']} gaps):")
    print(f"  viewer parsed {got:,} parts: {through:,.0f} parts/s end to end")
    bare = bare_publisher(args.parts)
    attached = args.parts / flat["published"]
    print(
        f"  publisher: {attached:,.0f} parts/s with the server attached, {bare:,.0f} without "
        f"(a no-op lossless pump only): {attached / bare:.2f}x"
    )
    print(
        f"  latency under that load: median {ms(statistics.median(flat_lat))}, "
        f"max {ms(flat_lat[-1])}"
    )
    print(f"  vs 1,000 parts/s: {through / 1000:,.0f}x")
    print(f"\ntotal {time.perf_counter() - began:.1f} s")
    if started_with != source_fingerprint():
        print("warning: streamtui's sources changed during the run", file=sys.stderr)


if __name__ == "__main__":
    main()
