"""Streaming-runtime benchmark: streamtui vs langchain-core, side by side, one process.

Both libraries build the same chain::

    ChatPromptTemplate.from_messages([("human", "{q}")]) | <fake chat model> | StrOutputParser()

with a zero-latency fake chat model that streams N tokens (model chunks), and we time,
consuming everything:

* ``astream_events(..., version="v2")`` (events are counted too),
* ``astream``,
* sync ``stream``.

Besides langchain-core's ``GenericFakeChatModel`` (the reference), the async modes are
also run against ``langchain-native``: the same fake with a native async ``_astream``
(see ``NativeAsyncFakeChatModel``), because the stock fake's async path pays a thread
hop per token that a real provider does not. ``--no-native`` skips it.

The fake models emit exactly the same chunks:

* langchain-core: ``GenericFakeChatModel(messages=iter([AIMessage(content=text)]))``. It
  splits ``text`` with ``re.split(r"(\\s)", text)``, so ``"w w w"`` streams
  ``["w", " ", "w", " ", "w"]``: always an odd number of chunks.
* streamtui: ``ScriptedChatModel(responses=[chunks])`` with that very list; a list of
  strings streams exactly those chunks.

For N tokens the reply is ``N // 2 + 1`` words separated by single spaces, i.e.
``2 * (N // 2) + 1`` chunks (1,001 for N = 1,000). Per-token figures divide by that
exact chunk count. The script checks that both libraries produce the same output text
and the same number of events, and reports any mismatch; it never asserts anything
about wall-clock time.

A fresh chain (and model) is built for every run, outside the timed region (the
langchain fake consumes its ``messages`` iterator). Each measurement is the best of
``--repeat`` runs (default 3); langchain at the largest sizes is run
``--lc-large-repeat`` times (default 1) because it is slow there. Runs of the two
libraries are interleaved so that machine drift affects both alike.

Usage::

    python bench/runtime_stream.py            # N = 1,000, 10,000, 100,000
    python bench/runtime_stream.py --quick    # N = 1,000, 10,000
    python bench/runtime_stream.py --sizes 1000,50000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# --- the two libraries ----------------------------------------------------------------
import langchain_core
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage as LCAIMessage
from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser
from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate
from provenance import machine, source_fingerprint

import streamtui
from streamtui import ChatPromptTemplate as STChatPromptTemplate
from streamtui import ScriptedChatModel
from streamtui import StrOutputParser as STStrOutputParser

LIBS = ("langchain", "langchain-native", "streamtui")
# langchain-native differs from langchain only on the async path, so it is not run for
# the sync ``stream`` mode.
SYNC_LIBS = ("langchain", "streamtui")
MODES = ("astream_events", "astream", "stream")
DEFAULT_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
INPUT = {"q": "Stream me a long answer, please."}

# Goals from the issue: minimum speedup (langchain time / streamtui time) per mode.
GOALS = {"astream_events": 10.0, "astream": 5.0, "stream": 3.0}
# "Linear" here means: streamtui's µs per token at the largest size is at most this
# many times its µs per token at the smallest size (fixed per-run costs only make the
# small size look *more* expensive per token, so > 1 signals super-linear cost).
LINEARITY_TOLERANCE = 1.5


def reply(n: int) -> tuple[str, list[str]]:
    """The reply text for ~``n`` tokens and the exact chunks both fakes stream."""
    text = " ".join(["w"] * (n // 2 + 1))
    chunks = re.split(r"(\s)", text)  # what GenericFakeChatModel does
    return text, chunks


def build_langchain(text: str, chunks: list[str]) -> Any:
    prompt = LCChatPromptTemplate.from_messages([("human", "{q}")])
    model = GenericFakeChatModel(messages=iter([LCAIMessage(content=text)]))
    return prompt | model | LCStrOutputParser()


class NativeAsyncFakeChatModel(GenericFakeChatModel):
    """``GenericFakeChatModel`` with a native ``_astream``.

    ``GenericFakeChatModel`` only implements ``_stream``, so langchain-core's default
    ``_astream`` steps it in a worker thread, one ``run_in_executor`` hop per token, and
    the fake also reports every token to a sync wrapper of the async run manager. Real
    providers (e.g. langchain-openai) stream natively on the event loop and ``await
    run_manager.on_llm_new_token(...)`` per token; this variant does that, with the
    very same chunks, so the comparison is not inflated by the fake's thread hops.
    """

    async def _astream(  # type: ignore[override]
        self,
        messages: Any,
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Any:
        for chunk in self._stream(messages, stop=stop, run_manager=None, **kwargs):
            if run_manager is not None:
                await run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk


def build_langchain_native(text: str, chunks: list[str]) -> Any:
    prompt = LCChatPromptTemplate.from_messages([("human", "{q}")])
    model = NativeAsyncFakeChatModel(messages=iter([LCAIMessage(content=text)]))
    return prompt | model | LCStrOutputParser()


def build_streamtui(text: str, chunks: list[str]) -> Any:
    prompt = STChatPromptTemplate.from_messages([("human", "{q}")])
    model = ScriptedChatModel(responses=[list(chunks)])
    return prompt | model | STStrOutputParser()


BUILDERS: dict[str, Callable[[str, list[str]], Any]] = {
    "langchain": build_langchain,
    "langchain-native": build_langchain_native,
    "streamtui": build_streamtui,
}


# --- one timed run ----------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    events: int  # events for astream_events, output chunks otherwise
    text_len: int
    gc_seconds: float = 0.0  # time spent in the cyclic garbage collector while timed


class _GCClock:
    """Adds up the time the cyclic GC runs (via ``gc.callbacks``) while active."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start

    def __enter__(self) -> _GCClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


GC_ENABLED = True  # --no-gc turns the cyclic GC off inside timed regions (diagnosis)


async def _time_astream_events(chain: Any) -> Sample:
    events = 0
    text_len = 0
    t0 = time.perf_counter()
    async for event in chain.astream_events(INPUT, version="v2"):
        events += 1
        if event["event"] == "on_chain_stream" and not event["parent_ids"]:
            text_len += len(event["data"]["chunk"])
    seconds = time.perf_counter() - t0
    return Sample(seconds, events, text_len)


async def _time_astream(chain: Any) -> Sample:
    n = 0
    text_len = 0
    t0 = time.perf_counter()
    async for chunk in chain.astream(INPUT):
        n += 1
        text_len += len(chunk)
    seconds = time.perf_counter() - t0
    return Sample(seconds, n, text_len)


def _time_stream(chain: Any) -> Sample:
    n = 0
    text_len = 0
    t0 = time.perf_counter()
    for chunk in chain.stream(INPUT):
        n += 1
        text_len += len(chunk)
    seconds = time.perf_counter() - t0
    return Sample(seconds, n, text_len)


def run_once(lib: str, mode: str, text: str, chunks: list[str]) -> Sample:
    chain = BUILDERS[lib](text, chunks)  # fresh chain and model, not timed
    gc.collect()
    if not GC_ENABLED:
        gc.disable()
    try:
        with _GCClock() as clock:
            if mode == "astream_events":
                sample = asyncio.run(_time_astream_events(chain))
            elif mode == "astream":
                sample = asyncio.run(_time_astream(chain))
            else:
                sample = _time_stream(chain)
    finally:
        gc.enable()
    sample.gc_seconds = clock.total
    return sample


# --- a measurement: best of several runs --------------------------------------------------


@dataclass
class Result:
    lib: str
    mode: str
    n: int
    chunks: int
    samples: list[Sample] = field(default_factory=list)

    @property
    def best(self) -> Sample:
        return min(self.samples, key=lambda s: s.seconds)

    @property
    def seconds(self) -> float:
        return self.best.seconds

    @property
    def tokens_per_s(self) -> float:
        return self.chunks / self.seconds

    @property
    def us_per_token(self) -> float:
        return self.seconds / self.chunks * 1e6

    @property
    def events(self) -> int:
        return self.best.events

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def gc_share(self) -> float:
        return self.best.gc_seconds / self.seconds

    @property
    def us_per_token_outside_gc(self) -> float:
        return (self.seconds - self.best.gc_seconds) / self.chunks * 1e6


STREAMTUI_ONLY = False  # --streamtui-only: no langchain runs (scaling diagnosis)


def libs_for(mode: str, native: bool) -> tuple[str, ...]:
    if STREAMTUI_ONLY:
        return ("streamtui",)
    if mode == "stream" or not native:
        return SYNC_LIBS
    return LIBS


def measure(
    sizes: list[int],
    modes: list[str],
    repeat: int,
    lc_large_repeat: int,
    large: int,
    native: bool,
) -> dict[tuple[str, str, int], Result]:
    results: dict[tuple[str, str, int], Result] = {}
    for n in sizes:
        text, chunks = reply(n)
        for mode in modes:
            libs = libs_for(mode, native)
            runs = {}
            for lib in libs:
                results[lib, mode, n] = Result(lib, mode, n, len(chunks))
                slow = lib.startswith("langchain") and n >= large
                runs[lib] = lc_large_repeat if slow else repeat
            # Warm-up (untimed) so imports and first-call caches do not count.
            if n == sizes[0]:
                for lib in libs:
                    run_once(lib, mode, *reply(50))
            for i in range(max(runs.values())):
                for lib in libs:  # interleaved
                    if i < runs[lib]:
                        sample = run_once(lib, mode, text, chunks)
                        results[lib, mode, n].samples.append(sample)
                        print(
                            f"  {mode:>14} N={n:>7,} {lib:>16} run {i + 1}: "
                            f"{sample.seconds:8.3f} s (GC {sample.gc_seconds:.3f} s)",
                            file=sys.stderr,
                            flush=True,
                        )
    return results


# --- report -----------------------------------------------------------------------------


def fmt_s(x: float) -> str:
    return f"{x:.4f}" if x < 1 else f"{x:.3f}"


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def fmt_us(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def machine_note() -> str:
    return (
        f"{machine()}; "
        f"langchain-core {langchain_core.__version__}, streamtui {streamtui.__version__} "
        f"({STARTED_WITH})"
    )


STARTED_WITH = source_fingerprint()  # taken when streamtui is imported


def report(
    results: dict[tuple[str, str, int], Result],
    sizes: list[int],
    modes: list[str],
    native: bool,
) -> str:
    out: list[str] = []
    w = out.append
    w(f"Machine: {machine_note()}")
    w("")
    now = source_fingerprint()
    if now != STARTED_WITH:
        w(f"**WARNING: streamtui's sources changed during the run (now: {now}); the")
        w("modules loaded at start were measured, but rerun for a clean record.**")
        w("")
    w("Tokens = model chunks streamed (2 * (N // 2) + 1). Best of the runs shown.")
    w("For astream_events, 'events' is the number of v2 events; otherwise output chunks.")
    w("langchain = GenericFakeChatModel (as specified; its async path steps the sync")
    w("generator in a worker thread per token). langchain-native = the same fake with a")
    w("native async _astream, like real providers (async modes only).")
    w("GC share = part of the best run spent in Python's cyclic garbage collector.")
    if not GC_ENABLED:
        w("**--no-gc: the cyclic GC was disabled during timed runs (diagnostic only).**")
    w("")

    # Mismatch check (same chunks in, so the same output and events are expected).
    problems = []
    for n in sizes:
        for mode in modes:
            st = results["streamtui", mode, n]
            for lib in libs_for(mode, native):
                lc = results[lib, mode, n]
                if (lc.events, lc.best.text_len) != (st.events, st.best.text_len):
                    problems.append(
                        f"{mode} N={n}: {lib} {lc.events} events/{lc.best.text_len} chars, "
                        f"streamtui {st.events} events/{st.best.text_len} chars"
                    )
    if problems:
        w("**WARNING: the two libraries did not produce the same stream:**")
        for p in problems:
            w(f"- {p}")
        w("")

    w("### Results")
    w("")
    w(
        "| mode | N | tokens | library | runs | best s | tokens/s | µs/token | events "
        "| events/s | GC share |"
    )
    w("|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|")
    for mode in modes:
        for n in sizes:
            for lib in libs_for(mode, native):
                r = results[lib, mode, n]
                evs = fmt_rate(r.events_per_s) if mode == "astream_events" else "-"
                ev = f"{r.events:,}" if mode == "astream_events" else "-"
                w(
                    f"| {mode} | {n:,} | {r.chunks:,} | {lib} | {len(r.samples)} | "
                    f"{fmt_s(r.seconds)} | {fmt_rate(r.tokens_per_s)} | "
                    f"{fmt_us(r.us_per_token)} | {ev} | {evs} | {r.gc_share:.0%} |"
                )
    w("")

    verdicts: dict[tuple[str, str], list[bool]] = {}
    if not STREAMTUI_ONLY:
        w("### Speedup (langchain time / streamtui time)")
        w("")
        w("| mode | N | vs | langchain µs/token | streamtui µs/token | ratio | goal | met |")
        w("|---|--:|---|--:|--:|--:|--:|---|")
    for mode in modes:
        for lib in libs_for(mode, native)[:-1]:
            for n in sizes:
                lc, st = results[lib, mode, n], results["streamtui", mode, n]
                ratio = lc.seconds / st.seconds
                ok = ratio >= GOALS[mode]
                verdicts.setdefault((mode, lib), []).append(ok)
                w(
                    f"| {mode} | {n:,} | {lib} | {fmt_us(lc.us_per_token)} | "
                    f"{fmt_us(st.us_per_token)} | **{ratio:.1f}x** | ≥{GOALS[mode]:g}x | "
                    f"{'yes' if ok else 'NO'} |"
                )
    if verdicts:
        w("")

    w("### Linearity (µs per token at each size; ratio largest / smallest)")
    w("")
    head = " | ".join(f"µs/token @{n:,}" for n in sizes)
    w(f"| mode | library | {head} | ratio |")
    w("|---|---|" + "--:|" * len(sizes) + "--:|")
    linear: dict[str, bool] = {}
    for mode in modes:
        for lib in libs_for(mode, native):
            per = [results[lib, mode, n].us_per_token for n in sizes]
            ratio = per[-1] / per[0] if len(per) > 1 else float("nan")
            if lib == "streamtui":
                linear[mode] = len(per) > 1 and ratio <= LINEARITY_TOLERANCE
            cells = " | ".join(fmt_us(x) for x in per)
            w(f"| {mode} | {lib} | {cells} | {ratio:.2f} |")
    w("")
    w("streamtui time outside the cyclic GC (µs per token; linear cost means a flat row):")
    w("")
    w(f"| mode | {head} | ratio |")
    w("|---|" + "--:|" * len(sizes) + "--:|")
    for mode in modes:
        per = [results["streamtui", mode, n].us_per_token_outside_gc for n in sizes]
        ratio = per[-1] / per[0] if len(per) > 1 else float("nan")
        w(f"| {mode} | {' | '.join(fmt_us(x) for x in per)} | {ratio:.2f} |")
    w("")

    w("### Goals")
    w("")
    largest = sizes[-1]
    for (mode, lib), ok in verdicts.items():
        r = results[lib, mode, largest].seconds / results["streamtui", mode, largest].seconds
        status = (
            "met at every size"
            if all(ok)
            else (f"met at {sum(ok)} of {len(ok)} sizes" if any(ok) else "NOT met at any size")
        )
        w(f"- {mode} ≥ {GOALS[mode]:g}x faster than {lib}: {status} ({r:.1f}x at N={largest:,}).")
    if len(sizes) > 1:
        lin_ok = all(linear.values())
        growth = []
        for m in modes:
            big = results["streamtui", m, sizes[-1]].us_per_token
            small = results["streamtui", m, sizes[0]].us_per_token
            growth.append(f"{m} {big / small:.2f}")
        w(
            f"- streamtui cost linear in tokens (µs/token at N={sizes[-1]:,} ≤ "
            f"{LINEARITY_TOLERANCE:g}x that at N={sizes[0]:,}, every mode): "
            f"{'met' if lin_ok else 'NOT met'} ({', '.join(growth)})."
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        type=lambda s: [int(x.replace("_", "")) for x in s.split(",") if x.strip()],
        default=None,
        help="comma-separated token counts (default 1000,10000,100000)",
    )
    p.add_argument("--quick", action="store_true", help="only N = 1,000 and 10,000")
    p.add_argument("--modes", default=",".join(MODES), help=f"subset of {','.join(MODES)}")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is kept)")
    p.add_argument(
        "--lc-large-repeat",
        type=int,
        default=1,
        help="runs for langchain at N >= --large (it is slow there)",
    )
    p.add_argument("--large", type=int, default=100_000, help="see --lc-large-repeat")
    p.add_argument(
        "--no-gc",
        action="store_true",
        help="disable the cyclic GC inside timed runs (diagnostic: isolates GC cost)",
    )
    p.add_argument(
        "--streamtui-only",
        action="store_true",
        help="run streamtui alone (no ratios; for scaling checks at large sizes)",
    )
    p.add_argument(
        "--no-native",
        action="store_true",
        help="skip the langchain-native variant (GenericFakeChatModel with native _astream)",
    )
    args = p.parse_args(argv)

    sizes = sorted(args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            p.error(f"unknown mode {m!r}; choose from {', '.join(MODES)}")
    if args.repeat < 1 or args.lc_large_repeat < 1:
        p.error("repeat counts must be at least 1")

    print(
        f"sizes={sizes} modes={modes} repeat={args.repeat} lc-large-repeat={args.lc_large_repeat}",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    global GC_ENABLED, STREAMTUI_ONLY
    GC_ENABLED = not args.no_gc
    STREAMTUI_ONLY = args.streamtui_only
    native = not args.no_native
    results = measure(sizes, modes, args.repeat, args.lc_large_repeat, args.large, native)
    print(report(results, sizes, modes, native))
    print(f"\n(total benchmark time {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
