"""Provider overhead: ChatOpenAI / ChatAnthropic against the bare SDK loop, one process.

What streamtui adds, per request (time to first token, TTFT) and per chunk, on top of the
official SDK reading the same stream from the mock provider server with zero latency.
Goals from the issue: under 1 ms to first token and under 20 µs per chunk.

Arms, for each provider, all reading the same scenario from the same server:

* ``bare``: the SDK's raw stream, ``AsyncOpenAI(...).chat.completions.create(...,
  stream=True, stream_options={"include_usage": True})`` or ``AsyncAnthropic(...)
  .messages.create(..., stream=True)``, touching every text delta;
* ``astream``: ``ChatOpenAI("mock:<scenario>", ...).astream("hi")`` /
  ``ChatAnthropic(...).astream("hi")``, touching every chunk's ``content``;
* ``astream_events``: the same model under ``astream_events("hi", version="v2")`` (a
  watched run, as the TUI and the bus see it), touching the ``content`` of every
  ``on_chat_model_stream`` chunk;
* the sync twins (``--no-sync`` skips them): the SDK's sync client (``bare sync``)
  against ``model.stream("hi")``.

Two series:

* **per chunk**: ``mock:long``, ``--chunks`` word-sized text deltas (2,000 by default),
  ``--reps`` repetitions. Each run is timed with ``time.perf_counter`` from just before the
  request (``create()`` or ``astream()``) to the end of the stream. The main thread's CPU
  time (``time.thread_time``) is recorded too: it leaves out the server thread and time
  spent waiting for the GIL or the socket. Overhead per chunk = (arm - bare) / chunks.
* **TTFT**: the built-in ``mock:text`` (27 deltas), ``--ttft-reps`` repetitions, timed
  from just before the request to the first chunk with text. A short stream, because the
  server renders a whole reply before it sends the first byte: with 2,000 deltas that
  alone takes milliseconds, and its noise would swamp a sub-millisecond difference.

Every run must see exactly the scenario's text-delta count and text; any difference is
reported. The first requests of both arms are compared too (same request bodies).
Clients are made once and reused (the models keep theirs), and every arm is warmed up
first; then ``gc.freeze()`` moves every surviving object (modules, clients) out of the
cyclic GC's reach. Runs are interleaved: each repetition runs every arm once, in an order
rotated from one repetition to the next, with ``gc.collect()`` before each run. Overheads are the
medians of the per-repetition differences (arm minus bare of the same repetition), with
their interquartile range as the spread.

The server (``streamtui.testing.MockProviderServer``) runs in a background thread of this
process by default, as the tests run it: its cost is in every arm alike, but it shares
the GIL with the client, so wall times vary with how the two threads interleave.
``--server process`` runs the same server in a child process instead (a cross-check: the
server off the client's GIL and, with two or more cores, off its core).

Usage::

    python bench/provider_overhead.py                      # 2,000 chunks, 20 + 100 reps
    python bench/provider_overhead.py --reps 40 --chunks 5000
    python bench/provider_overhead.py --server process     # the server in a child process
    python bench/provider_overhead.py --profile            # + cProfile and component timings
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
from provenance import machine, source_fingerprint

import streamtui
from streamtui.models.anthropic import ChatAnthropic, _AnthropicChunks
from streamtui.models.openai import ChatOpenAI, _OpenAIChunks
from streamtui.models.provider import StreamClock
from streamtui.runtime.messages import AIMessageChunk, ChunkMerger
from streamtui.testing import MockProviderServer, Scenario, builtin_scenarios
from streamtui.testing.scenarios import split_words

STARTED_WITH = source_fingerprint()  # taken when streamtui is imported

LONG = "long"  # added to the server: --chunks word-sized deltas
SHORT = "text"  # built in: a few sentences in word-sized deltas
PROMPT = "hi"
KEY = "x"
TIMEOUT = 60.0  # ChatOpenAI / ChatAnthropic's default; the bare clients get the same
MAX_TOKENS = 1024  # ChatAnthropic's default

# The very request bodies the models send for "hi" (checked against the server's record).
OPENAI_MESSAGES = [{"role": "user", "content": PROMPT}]
ANTHROPIC_MESSAGES = [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}]

GOAL_TTFT_MS = 1.0
GOAL_CHUNK_US = 20.0

PROVIDERS = ("openai", "anthropic")
PATHS = (("astream", "bare"), ("astream_events", "bare"), ("stream", "bare sync"))


def long_text(chunks: int) -> str:
    """``chunks`` words; the server's ``split_words`` sends each as one delta."""
    return " ".join(["tok"] * chunks)


def long_scenario(chunks: int) -> Scenario:
    return Scenario(LONG, text=long_text(chunks), description="provider_overhead bench")


# --- one timed run -----------------------------------------------------------------------


@dataclass
class Sample:
    ttft: float  # wall seconds from the request to the first chunk with text
    cpu_ttft: float  # this thread's CPU seconds over the same span
    total: float  # wall seconds from the request to the end of the stream
    cpu: float  # this thread's CPU seconds over the same span
    texts: int  # chunks with text
    size: int  # characters of text


class Clients:
    """The SDK clients and streamtui models, made once and reused by every run."""

    def __init__(self, openai_url: str, anthropic_url: str) -> None:
        self.urls = {"openai": openai_url, "anthropic": anthropic_url}
        self.common: dict[str, Any] = {"api_key": KEY, "max_retries": 2, "timeout": TIMEOUT}
        self.openai_sync = openai.OpenAI(base_url=openai_url, **self.common)
        self.anthropic_sync = anthropic.Anthropic(base_url=anthropic_url, **self.common)
        self.openai_async: openai.AsyncOpenAI | None = None
        self.anthropic_async: anthropic.AsyncAnthropic | None = None
        self.models: dict[tuple[str, str], Any] = {}

    def make_async(self) -> None:
        """Async clients belong to the running event loop: made inside it."""
        self.openai_async = openai.AsyncOpenAI(base_url=self.urls["openai"], **self.common)
        self.anthropic_async = anthropic.AsyncAnthropic(
            base_url=self.urls["anthropic"], **self.common
        )

    def model(self, provider: str, scenario: str) -> Any:
        """One model per provider and scenario, kept (with its SDK clients) for every run."""
        key = (provider, scenario)
        if key not in self.models:
            cls = ChatOpenAI if provider == "openai" else ChatAnthropic
            self.models[key] = cls(f"mock:{scenario}", api_key=KEY, base_url=self.urls[provider])
        return self.models[key]


class Timer:
    """The clocks of one run; ``text`` counts a chunk's text and notes the first."""

    __slots__ = ("c0", "cpu_first", "first", "size", "t0", "texts")

    def __init__(self) -> None:
        self.texts = self.size = 0
        self.first = self.cpu_first = 0.0
        self.c0 = time.thread_time()
        self.t0 = time.perf_counter()

    def text(self, content: str) -> None:
        if not self.texts:
            self.first = time.perf_counter()
            self.cpu_first = time.thread_time()
        self.texts += 1
        self.size += len(content)

    def done(self) -> Sample:
        t1 = time.perf_counter()
        c1 = time.thread_time()
        if not self.texts:
            self.first, self.cpu_first = t1, c1
        return Sample(
            self.first - self.t0, self.cpu_first - self.c0, t1 - self.t0, c1 - self.c0,
            self.texts, self.size,
        )  # fmt: skip


async def bare_openai(c: Clients, scenario: str) -> Sample:
    client = c.openai_async
    assert client is not None
    t = Timer()
    stream = await client.chat.completions.create(
        model=f"mock:{scenario}",
        messages=OPENAI_MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if chunk.choices:
            content = chunk.choices[0].delta.content
            if content:
                t.text(content)
    return t.done()


async def bare_anthropic(c: Clients, scenario: str) -> Sample:
    client = c.anthropic_async
    assert client is not None
    t = Timer()
    stream = await client.messages.create(
        model=f"mock:{scenario}",
        max_tokens=MAX_TOKENS,
        messages=ANTHROPIC_MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    async for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            content = event.delta.text
            if content:
                t.text(content)
    return t.done()


async def model_astream(model: Any) -> Sample:
    t = Timer()
    async for chunk in model.astream(PROMPT):
        content = chunk.content
        if content:
            t.text(content)
    return t.done()


async def model_astream_events(model: Any) -> Sample:
    t = Timer()
    async for event in model.astream_events(PROMPT, version="v2"):
        if event["event"] == "on_chat_model_stream":
            content = event["data"]["chunk"].content
            if content:
                t.text(content)
    return t.done()


def bare_openai_sync(c: Clients, scenario: str) -> Sample:
    t = Timer()
    stream = c.openai_sync.chat.completions.create(
        model=f"mock:{scenario}",
        messages=OPENAI_MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.choices:
            content = chunk.choices[0].delta.content
            if content:
                t.text(content)
    return t.done()


def bare_anthropic_sync(c: Clients, scenario: str) -> Sample:
    t = Timer()
    stream = c.anthropic_sync.messages.create(
        model=f"mock:{scenario}",
        max_tokens=MAX_TOKENS,
        messages=ANTHROPIC_MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            content = event.delta.text
            if content:
                t.text(content)
    return t.done()


def model_stream(model: Any) -> Sample:
    t = Timer()
    for chunk in model.stream(PROMPT):
        content = chunk.content
        if content:
            t.text(content)
    return t.done()


def async_runs(c: Clients, s: str) -> dict[tuple[str, str], Callable[[], Awaitable[Sample]]]:
    oa, an = c.model("openai", s), c.model("anthropic", s)
    return {
        ("openai", "bare"): lambda: bare_openai(c, s),
        ("openai", "astream"): lambda: model_astream(oa),
        ("openai", "astream_events"): lambda: model_astream_events(oa),
        ("anthropic", "bare"): lambda: bare_anthropic(c, s),
        ("anthropic", "astream"): lambda: model_astream(an),
        ("anthropic", "astream_events"): lambda: model_astream_events(an),
    }


def sync_runs(c: Clients, s: str) -> dict[tuple[str, str], Callable[[], Sample]]:
    oa, an = c.model("openai", s), c.model("anthropic", s)
    return {
        ("openai", "bare sync"): lambda: bare_openai_sync(c, s),
        ("openai", "stream"): lambda: model_stream(oa),
        ("anthropic", "bare sync"): lambda: bare_anthropic_sync(c, s),
        ("anthropic", "stream"): lambda: model_stream(an),
    }


# --- the interleaved measurement ------------------------------------------------------------


@dataclass
class Results:
    scenario: str
    chunks: int  # text deltas every run must see
    text_size: int  # and their characters
    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, key: tuple[str, str], rep: int, sample: Sample) -> None:
        self.samples.setdefault(key, []).append(sample)
        if sample.texts != self.chunks or sample.size != self.text_size:
            self.problems.append(
                f"mock:{self.scenario} {key[0]} {key[1]} rep {rep}: {sample.texts} text "
                f"chunks / {sample.size} chars, expected {self.chunks} / {self.text_size}"
            )


def settle() -> None:
    """Collect, then freeze what survives (libraries, clients, models) out of the cyclic
    GC's reach, so that the ``gc.collect()`` before each run takes 1 ms, not 100, and a
    full collection inside a run does not walk the SDKs' module state."""
    gc.collect()
    gc.freeze()


def rotated(items: list[Any], by: int) -> list[Any]:
    by %= len(items)
    return items[by:] + items[:by]


def schedule(keys: list[tuple[str, str]], rep: int) -> list[tuple[str, str]]:
    """This repetition's order: providers alternate first, arms rotate within each."""
    order = []
    for provider in rotated(list(PROVIDERS), rep):
        order += rotated([k for k in keys if k[0] == provider], rep)
    return order


def progress(results: Results, key: tuple[str, str], rep: int, s: Sample) -> None:
    print(
        f"  {results.scenario:>5} rep {rep + 1:>3} {key[0]:>9} {key[1]:>14}: "
        f"TTFT {s.ttft * 1e3:6.2f} ms, total {s.total * 1e3:7.1f} ms, CPU {s.cpu * 1e3:7.1f} ms",
        file=sys.stderr,
        flush=True,
    )


async def measure_async(
    c: Clients, results: Results, reps: int, warmup: int, reset: Callable[[], None]
) -> None:
    runs = async_runs(c, results.scenario)
    keys = list(runs)
    for _ in range(warmup):
        for key in keys:
            await runs[key]()
    settle()
    for rep in range(reps):
        reset()
        for key in schedule(keys, rep):
            gc.collect()
            sample = await runs[key]()
            results.add(key, rep, sample)
            progress(results, key, rep, sample)


def measure_sync(
    c: Clients, results: Results, reps: int, warmup: int, reset: Callable[[], None]
) -> None:
    runs = sync_runs(c, results.scenario)
    keys = list(runs)
    for _ in range(warmup):
        for key in keys:
            runs[key]()
    settle()
    for rep in range(reps):
        reset()
        for key in schedule(keys, rep):
            gc.collect()
            sample = runs[key]()
            results.add(key, rep, sample)
            progress(results, key, rep, sample)


# --- the server: a thread of this process, or a child process -------------------------------


class ThreadServer:
    def __init__(self, chunks: int) -> None:
        self.server = MockProviderServer(latency=0.0, jitter=0.0)
        self.server.start()
        self.server.add_scenario(long_scenario(chunks))
        self.openai_url = self.server.openai_base_url
        self.anthropic_url = self.server.anthropic_base_url

    def reset(self) -> None:
        self.server.reset()  # forget recorded requests (untimed)

    def request_bodies(self) -> list[Any]:
        return [r.json for r in self.server.requests]

    def close(self) -> None:
        self.server.stop()


class ProcessServer:
    """The same server in ``python bench/provider_overhead.py --serve``."""

    def __init__(self, chunks: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", "--chunks", str(chunks)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        base = self.proc.stdout.readline().strip()
        if not base.startswith("http"):
            self.close()
            raise RuntimeError(f"the server process did not start: {base!r}")
        self.openai_url = base + "/v1"
        self.anthropic_url = base

    def reset(self) -> None:
        pass  # the child keeps its records: a few hundred small objects

    def request_bodies(self) -> list[Any]:
        return []  # not visible from here; the thread server checks them

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the child stops when its stdin closes
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def serve_child(chunks: int) -> None:
    """``--serve``: run the server until stdin closes, printing its base URL first."""
    server = MockProviderServer(latency=0.0, jitter=0.0)
    server.start()
    server.add_scenario(long_scenario(chunks))
    print(server.base_url, flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()


def check_requests(bodies: list[Any]) -> list[str]:
    """Every arm of a provider must send the same request body."""
    seen: dict[str, list[Any]] = {}
    for body in bodies:
        if isinstance(body, dict):
            kind = "anthropic" if "max_tokens" in body else "openai"
            if body not in seen.setdefault(kind, []):
                seen[kind].append(body)
    return [f"{k}: {len(v)} different request bodies: {v}" for k, v in seen.items() if len(v) > 1]


# --- report -----------------------------------------------------------------------------------


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def iqr(xs: list[float]) -> tuple[float, float]:
    if len(xs) < 4:
        return min(xs), max(xs)
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def paired(results: Results, provider: str, arm: str, base: str, attr: str) -> list[float]:
    a = results.samples[provider, arm]
    b = results.samples[provider, base]
    return [getattr(x, attr) - getattr(y, attr) for x, y in zip(a, b)]


def with_iqr(xs: list[float], digits: int) -> str:
    lo, hi = iqr(xs)
    return f"{median(xs):.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def lib_versions() -> str:
    return (
        f"streamtui {streamtui.__version__} ({STARTED_WITH}); openai {openai.__version__}, "
        f"anthropic {anthropic.__version__}, httpx {httpx.__version__}"
    )


def report(long: Results, short: Results, server_kind: str, elapsed: float) -> str:
    out: list[str] = []
    w = out.append
    n = long.chunks
    reps = len(next(iter(long.samples.values())))
    ttft_reps = len(next(iter(short.samples.values())))
    w(f"Machine: {machine()}")
    w(f"Libraries: {lib_versions()}")
    now = source_fingerprint()
    if now != STARTED_WITH:
        w(f"**WARNING: streamtui's sources changed during the run (now: {now}); the")
        w("modules loaded at start were measured, but rerun for a clean record.**")
    w(
        f"Server: MockProviderServer(latency=0, jitter=0) in a {server_kind}. Per chunk: "
        f"mock:{LONG}, {n:,} text deltas, {reps} repetitions. TTFT: mock:{SHORT}, "
        f"{short.chunks} text deltas, {ttft_reps} repetitions. Runs interleaved."
    )
    problems = long.problems + short.problems
    if problems:
        w("")
        w(f"**WARNING: {len(problems)} problems (chunk counts or request bodies):**")
        for p in problems[:10]:
            w(f"- {p}")
    w("")

    w(f"### Per arm (medians; per-chunk series, mock:{LONG}, {n:,} chunks)")
    w("")
    w("| provider | arm | TTFT ms | total ms | µs/chunk | CPU ms | CPU µs/chunk |")
    w("|---|---|--:|--:|--:|--:|--:|")
    for (provider, arm), samples in long.samples.items():
        ttft = median([s.ttft for s in samples]) * 1e3
        total = median([s.total for s in samples])
        cpu = median([s.cpu for s in samples])
        w(
            f"| {provider} | {arm} | {ttft:.2f} | {total * 1e3:.1f} | {total / n * 1e6:.1f} | "
            f"{cpu * 1e3:.1f} | {cpu / n * 1e6:.1f} |"
        )
    w("")
    w(f"### Per arm (medians [IQR]; TTFT series, mock:{SHORT})")
    w("")
    w("| provider | arm | TTFT ms | CPU to first token ms | total ms |")
    w("|---|---|--:|--:|--:|")
    for (provider, arm), samples in short.samples.items():
        w(
            f"| {provider} | {arm} | {with_iqr([s.ttft * 1e3 for s in samples], 3)} | "
            f"{with_iqr([s.cpu_ttft * 1e3 for s in samples], 3)} | "
            f"{median([s.total for s in samples]) * 1e3:.2f} |"
        )
    w("")

    w("### Overhead against the bare SDK loop (medians of paired differences [IQR])")
    w("")
    w(
        f"| provider | path | TTFT ms | x {GOAL_TTFT_MS:g} ms goal | CPU to first token ms "
        f"| per chunk µs | x {GOAL_CHUNK_US:g} µs goal | CPU per chunk µs | x goal |"
    )
    w("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    goals: list[str] = []
    for provider in PROVIDERS:
        for arm, base in PATHS:
            if (provider, arm) not in long.samples:
                continue
            ttft = [d * 1e3 for d in paired(short, provider, arm, base, "ttft")]
            cpu_ttft = [d * 1e3 for d in paired(short, provider, arm, base, "cpu_ttft")]
            wall = [d / n * 1e6 for d in paired(long, provider, arm, base, "total")]
            cpu = [d / n * 1e6 for d in paired(long, provider, arm, base, "cpu")]
            t, c_wall, c_cpu = median(ttft), median(wall), median(cpu)
            w(
                f"| {provider} | {arm} | {with_iqr(ttft, 3)} | {t / GOAL_TTFT_MS:.2f} | "
                f"{with_iqr(cpu_ttft, 3)} | {with_iqr(wall, 1)} | {c_wall / GOAL_CHUNK_US:.2f} | "
                f"{with_iqr(cpu, 1)} | {c_cpu / GOAL_CHUNK_US:.2f} |"
            )
            ttft_ok = "met" if t < GOAL_TTFT_MS else "**missed**"
            chunk_ok = "met" if max(c_wall, c_cpu) < GOAL_CHUNK_US else "**missed**"
            goals.append(
                f"- {provider} {arm}: TTFT {t:+.3f} ms ({ttft_ok}); per chunk "
                f"{c_wall:+.1f} µs wall, {c_cpu:+.1f} µs CPU ({chunk_ok})"
            )
    w("")
    w(f"### Goals (TTFT overhead < {GOAL_TTFT_MS:g} ms, < {GOAL_CHUNK_US:g} µs per chunk)")
    w("")
    out.extend(goals)
    w("")
    w(f"(total benchmark time {elapsed:.1f} s)")
    return "\n".join(out)


# --- profile -----------------------------------------------------------------------------------


async def profile_async(c: Clients, runs: int) -> dict[tuple[str, str], pstats.Stats]:
    """cProfile of each async arm on mock:long (this thread only: not the server's)."""
    stats = {}
    for key, run in async_runs(c, LONG).items():
        prof = cProfile.Profile()
        for _ in range(runs):
            gc.collect()
            prof.enable()
            await run()
            prof.disable()
        stats[key] = pstats.Stats(prof)
    return stats


def _where(filename: str) -> str:
    parts = Path(filename).parts
    for root in ("streamtui", "openai", "anthropic", "httpx", "httpcore", "anyio", "asyncio"):
        if root in parts:
            i = len(parts) - 1 - parts[::-1].index(root)
            return "/".join(parts[i:])
    return Path(filename).name


def profile_report(stats: dict[tuple[str, str], pstats.Stats], chunks: int, runs: int) -> str:
    """Per chunk: streamtui's own functions and the top functions overall, per arm."""
    out: list[str] = []
    w = out.append
    per = chunks * runs
    w(f"### cProfile: {runs} runs of mock:{LONG} per arm, µs per chunk (profiler-inflated)")
    for key, st in stats.items():
        rows = st.stats  # type: ignore[attr-defined]
        total = sum(tt for (_, _, tt, _, _) in rows.values())
        own = [
            (tt, ct, nc, func)
            for func, (_, nc, tt, ct, _) in rows.items()
            if tt / per >= 5e-9  # shown as at least 0.01 µs
            and "streamtui" in Path(func[0]).parts
            and "testing" not in Path(func[0]).parts
        ]
        own_total = sum(tt for tt, _, _, _ in own)
        w("")
        w(
            f"#### {key[0]} {key[1]}: {total / per * 1e6:.1f} µs/chunk in all, "
            f"{own_total / per * 1e6:.1f} in streamtui's own code"
        )
        if own:
            w("")
            w("| streamtui function | calls/chunk | own µs/chunk | cumulative µs/chunk |")
            w("|---|--:|--:|--:|")
            for tt, ct, nc, func in sorted(own, reverse=True)[:12]:
                name = f"{_where(func[0])}:{func[1]}:{func[2]}"
                w(f"| {name} | {nc / per:.2f} | {tt / per * 1e6:.2f} | {ct / per * 1e6:.2f} |")
        w("")
        w("Top 6 overall by own time:")
        w("")
        top = sorted(((tt, nc, func) for func, (_, nc, tt, _, _) in rows.items()), reverse=True)
        for tt, nc, func in top[:6]:
            us, calls = tt / per * 1e6, nc / per
            w(f"- {_where(func[0])}:{func[2]}: {us:.2f} µs/chunk ({calls:.2f} calls)")
    return "\n".join(out)


async def capture(c: Clients) -> tuple[list[Any], list[Any]]:
    """Every raw SDK object of one mock:long stream per provider, for component timings."""
    assert c.openai_async is not None and c.anthropic_async is not None
    o = await c.openai_async.chat.completions.create(
        model=f"mock:{LONG}",
        messages=OPENAI_MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    a = await c.anthropic_async.messages.create(
        model=f"mock:{LONG}",
        max_tokens=MAX_TOKENS,
        messages=ANTHROPIC_MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    return [x async for x in o], [x async for x in a]


def components(raw_openai: list[Any], raw_anthropic: list[Any], chunks: int) -> str:
    """Best-of-20 ``timeit`` of the per-chunk steps of the streamtui arms, µs per chunk."""
    deltas = [r.choices[0].delta for r in raw_openai if r.choices and r.choices[0].delta.content]
    made = [AIMessageChunk("tok") for _ in range(chunks)]
    clock = StreamClock()

    def openai_translate() -> None:
        state = _OpenAIChunks("m")
        for raw in raw_openai:
            for _ in state.translate(raw):
                pass

    def anthropic_translate() -> None:
        state = _AnthropicChunks("m", blocks=False)
        for raw in raw_anthropic:
            state.translate(raw)

    def merge() -> None:
        merger = ChunkMerger()
        for chunk in made:
            merger.add(chunk)

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("openai.py `_OpenAIChunks.translate`, whole stream", openai_translate),
        ("anthropic.py `_AnthropicChunks.translate`, whole stream", anthropic_translate),
        (
            "`getattr(delta, 'reasoning_content', None)` on an SDK `ChoiceDelta`",
            lambda: [getattr(d, "reasoning_content", None) for d in deltas],
        ),
        (
            "`delta.content` (a declared field)",
            lambda: [d.content for d in deltas],
        ),
        ("`AIMessageChunk('tok')`", lambda: [AIMessageChunk("tok") for _ in range(chunks)]),
        ("`ChunkMerger.add`", merge),
        ("`StreamClock.visible`", lambda: [clock.visible() for _ in range(chunks)]),
    ]
    out = [
        "### Components (timeit, best of 20, µs per text chunk)",
        "",
        "| step | µs/chunk |",
        "|---|--:|",
    ]
    for label, fn in steps:
        best = min(timeit.repeat(fn, number=1, repeat=20))
        out.append(f"| {label} | {best / chunks * 1e6:.2f} |")
    return "\n".join(out)


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=20, help="per-chunk repetitions (default 20)")
    p.add_argument("--chunks", type=int, default=2000, help="text deltas per long stream (2000)")
    p.add_argument("--ttft-reps", type=int, default=100, help="TTFT repetitions (default 100)")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs of each arm first (2)")
    p.add_argument("--no-sync", action="store_true", help="skip the sync paths")
    p.add_argument(
        "--server",
        choices=("thread", "process"),
        default="thread",
        help="run the mock server in a thread of this process (default) or a child process",
    )
    p.add_argument(
        "--profile",
        nargs="?",
        type=int,
        const=5,
        default=0,
        metavar="RUNS",
        help="also cProfile the async arms (RUNS runs each, default 5) and time components",
    )
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve:
        serve_child(args.chunks)
        return
    if min(args.reps, args.chunks, args.ttft_reps) < 1 or args.warmup < 0:
        p.error("--reps, --chunks and --ttft-reps must be at least 1, --warmup at least 0")

    t0 = time.perf_counter()
    print(
        f"chunks={args.chunks} reps={args.reps} ttft-reps={args.ttft_reps} "
        f"server={args.server} sync={not args.no_sync}",
        file=sys.stderr,
    )
    server: ThreadServer | ProcessServer = (
        ThreadServer(args.chunks) if args.server == "thread" else ProcessServer(args.chunks)
    )
    short_text = builtin_scenarios()[SHORT].text
    long = Results(LONG, args.chunks, len(long_text(args.chunks)))
    short = Results(SHORT, len(split_words(short_text)), len(short_text))
    captured: tuple[list[Any], list[Any]] = ([], [])
    try:
        clients = Clients(server.openai_url, server.anthropic_url)

        async def run_async() -> dict[tuple[str, str], pstats.Stats]:
            # One event loop for everything: the async clients (the models' own too)
            # belong to the loop they were first used in.
            nonlocal captured
            clients.make_async()
            server.reset()
            check = Results(SHORT, short.chunks, short.text_size)
            await measure_async(clients, check, 1, 0, lambda: None)
            long.problems.extend(check.problems + check_requests(server.request_bodies()))
            await measure_async(clients, long, args.reps, args.warmup, server.reset)
            await measure_async(clients, short, args.ttft_reps, args.warmup, server.reset)
            if not args.profile:
                return {}
            captured = await capture(clients)
            return await profile_async(clients, args.profile)

        stats = asyncio.run(run_async())
        if not args.no_sync:
            server.reset()
            check = Results(SHORT, short.chunks, short.text_size)
            measure_sync(clients, check, 1, 0, lambda: None)
            long.problems.extend(check.problems + check_requests(server.request_bodies()))
            measure_sync(clients, long, args.reps, args.warmup, server.reset)
            measure_sync(clients, short, args.ttft_reps, args.warmup, server.reset)
        elapsed = time.perf_counter() - t0
        kind = "background thread of this process" if args.server == "thread" else "child process"
        print(report(long, short, kind, elapsed))
        if stats:
            print()
            print(profile_report(stats, args.chunks, args.profile))
            print()
            print(components(*captured, args.chunks))
    finally:
        server.close()


if __name__ == "__main__":
    main()
