"""Streaming-JSON benchmark: streamtui's incremental parser vs re-parsing, one process.

A JSON document of about 1 KB, 10 KB, 100 KB and 1 MB (1 KB = 1,000 characters; the
documents are ASCII, so characters = bytes) is fed in ``--chunk``-character chunks
(default 4, roughly an LLM token) to:

* ``snapshots``: streamtui ``JsonStreamParser()``; per chunk
  ``if p.feed(chunk): v = p.value``, then ``p.close()``;
* ``delta``: ``JsonStreamParser(ops="delta")``; per chunk
  ``if p.feed(chunk): p.take_ops()``, then ``p.close()`` and a last ``take_ops()``;
* ``rfc6902``: the same with ``ops="rfc6902"``. A string that grows is re-sent whole
  by every RFC 6902 ``replace`` op, so this mode is quadratic in the length of the
  longest string by design; document shape matters (the generated strings are short);
* ``runnable``: streamtui ``JsonOutputParser().transform(iter(chunks))``, consumed;
* ``langchain``: langchain-core ``JsonOutputParser().transform(iter(chunks))``,
  consumed: the anchor. It re-parses the whole text per chunk (quadratic: ~1 s at
  10 KB, minutes at 100 KB), so it only runs up to ``--lc-max-kb`` (default 10);
* ``lc-partial``: langchain-core ``parse_partial_json(buf)`` on the accumulated text
  per chunk (the core of the anchor, without the runnable), same cap;
* ``jiter``: ``jiter.from_json(buf.encode(), partial_mode="trailing-strings")`` on the
  accumulated text per chunk, up to ``--reparse-max-kb`` (default 100);
* ``pydantic-core``: ``pydantic_core.from_json(buf, allow_partial="trailing-strings")``
  per chunk, same cap.

The re-parsers are fast native code, but each chunk costs time proportional to all the
text so far; streamtui's cost per chunk is proportional to the chunk.

Two document shapes, generated deterministically (``--seed``):

* ``records``: an LLM-style answer ``{"countries": [{"name", "capital", "population",
  "area_km2", "languages", "summary"}, ...]}`` grown to the target size. The top-level
  list stays open (and grows) until the very end;
* ``nested``: a tree of objects with at most 8 keys and at most 8 children each, depth
  up to 6, moderate strings: every open container stays small.

Each document is checked once (untimed): the final streamtui value of every streamtui
mode equals ``json.loads(doc)``, and replaying the ``delta`` / ``rfc6902`` ops with
``apply_ops`` rebuilds it. The other libraries' final values are checked too (from
their timed runs).

Each figure is the best of ``--repeat`` runs (default 3, 1 above 100 KB); runs of the
modes are interleaved, with ``gc.collect()`` before each. Reported: seconds, MB/s, µs
per chunk, time ratios against the anchors (anchor time / this mode's time; > 1 means
faster) and the growth exponent ``log(t_big / t_small) / log(size_big / size_small)``
(1 = linear, 2 = quadratic), headline from 10 KB to 1 MB.

Usage::

    python bench/json_stream.py                    # 1 KB .. 1 MB, both shapes
    python bench/json_stream.py --quick            # 1 KB and 10 KB, one run each
    python bench/json_stream.py --sizes 10,1000 --shapes nested --modes snapshots,delta
"""

from __future__ import annotations

import argparse
import copy
import gc
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jiter
import langchain_core
import pydantic_core
from langchain_core.output_parsers import JsonOutputParser as LCJsonOutputParser
from langchain_core.utils.json import parse_partial_json
from provenance import machine, source_fingerprint

import streamtui
from streamtui import JsonOutputParser as STJsonOutputParser
from streamtui.jsonstream import JsonStreamParser, apply_ops

KB = 1_000
STREAMTUI_MODES = ("snapshots", "delta", "rfc6902", "runnable")
LC_MODES = ("langchain", "lc-partial")
REPARSE_MODES = ("jiter", "pydantic-core")
MODES = STREAMTUI_MODES + LC_MODES + REPARSE_MODES
ANCHORS = ("langchain", "lc-partial", "jiter", "pydantic-core")
SHAPES = ("records", "nested")
DEFAULT_SIZES_KB = (1.0, 10.0, 100.0, 1000.0)
QUICK_SIZES_KB = (1.0, 10.0)
LARGE_KB = 100.0  # above this, the default is a single run
GROWTH_FROM_KB, GROWTH_TO_KB = 10.0, 1000.0  # the headline growth exponent


# --- documents ------------------------------------------------------------------------

_SYLLABLE_TEXT = (
    "ka ri mo na ve lo sa tu be ra ni go da lin mar tes por que bel an or is ul en "
    "ta zor vik hal dun ber sol mi ra"
)
_SYLLABLES = tuple(_SYLLABLE_TEXT.split())
_WORD_TEXT = (
    "the a of and in is known for its with by an from to which on river coast "
    "mountain capital economy trade history ancient modern northern southern port "
    "culture festival climate mild dry wet forests plains islands exports coffee "
    "tea textiles fishing tourism music language republic kingdom federal region "
    "population growing city old bridges markets"
)
_WORDS = tuple(_WORD_TEXT.split())
_ACCENTED = ("café", "région", "élite", "déjà vu", "naïve", "São", "Zürich", "über")
_LANGUAGES = (
    "English",
    "French",
    "Spanish",
    "Portuguese",
    "Arabic",
    "Swahili",
    "Hindi",
    "Mandarin",
    "Quechua",
    "Guaraní",
    "Bokmål",
    "Māori",
)
_KINDS = ("section", "topic", "claim", "example", "note", "question")


def _name(rng: random.Random, syllables: tuple[int, int]) -> str:
    """A made-up proper name of a few syllables."""
    n = rng.randint(*syllables)
    return "".join(rng.choice(_SYLLABLES) for _ in range(n)).capitalize()


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    """A sentence with spaces, now and then an accented word, a quote or a newline."""
    words = []
    for _ in range(rng.randint(lo, hi)):
        r = rng.random()
        if r < 0.05:
            words.append(rng.choice(_ACCENTED))
        elif r < 0.07:
            words.append(f'"{rng.choice(_WORDS)}"')
        else:
            words.append(rng.choice(_WORDS))
    text = " ".join(words).capitalize() + "."
    if hi > 10 and rng.random() < 0.3:  # a second line (a "\n" escape in the JSON)
        text += "\n" + _sentence(rng, 4, 10)
    return text


def _record(rng: random.Random) -> dict[str, Any]:
    """One country of the ``records`` answer."""
    return {
        "name": _name(rng, (2, 4)),
        "capital": _name(rng, (2, 3)) + (" City" if rng.random() < 0.2 else ""),
        "population": rng.randint(50_000, 300_000_000),
        "area_km2": round(rng.uniform(300.0, 3_000_000.0), 1),
        "languages": sorted(rng.sample(_LANGUAGES, rng.randint(1, 3))),
        "summary": _sentence(rng, 12, 30),
    }


def _dump(obj: Any) -> str:
    """How the documents are written: pretty-printed like most LLM answers, ASCII."""
    return json.dumps(obj, indent=2)


def make_records(target: int, seed: int) -> str:
    """``{"countries": [...]}`` with the record count that comes closest to ``target``."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    estimate = 20
    while estimate < target * 1.2:
        rec = _record(rng)
        records.append(rec)
        estimate += len(_dump(rec)) + 6 * 4  # deeper indentation in the document
    lo, hi = 1, len(records)  # largest count whose document fits in target
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(_dump({"countries": records[:mid]})) <= target:
            lo = mid
        else:
            hi = mid - 1
    options = [_dump({"countries": records[:n]}) for n in {lo, min(lo + 1, len(records))}]
    return min(options, key=lambda d: abs(len(d) - target))


def _node(rng: random.Random, budget: int, depth: int, path: str) -> dict[str, Any]:
    """A ``nested`` node: 8 keys; the budget left after its own fields goes to ≤ 8 kids."""
    node: dict[str, Any] = {
        "id": f"n{path}",
        "kind": rng.choice(_KINDS),
        "title": _sentence(rng, 2, 7).rstrip("."),
        "score": round(rng.uniform(0, 100), 2),
        "done": rng.random() < 0.5,
        "tags": [rng.choice(_WORDS) for _ in range(rng.randint(0, 5))],
        "text": _sentence(rng, 6, 24),
        "children": [],
    }
    rest = budget - len(_dump(node)) - 4 * depth * 10
    if depth < 6 and rest > 250:
        n = max(1, min(8, rest // 400))
        node["children"] = [_node(rng, rest // n, depth + 1, f"{path}.{i}") for i in range(n)]
    return node


def make_nested(target: int, seed: int) -> str:
    """A bounded-width tree of about ``target`` characters (a few sizing passes)."""
    budget = float(target)
    best = ""
    for _ in range(8):
        doc = _dump(_node(random.Random(seed), int(budget), 0, ""))
        if not best or abs(len(doc) - target) < abs(len(best) - target):
            best = doc
        if abs(len(doc) - target) <= target * 0.02:
            break
        budget *= target / len(doc)
    return best


MAKERS: dict[str, Callable[[int, int], str]] = {"records": make_records, "nested": make_nested}


@dataclass
class DocStats:
    """What makes a shape cheap or expensive for an incremental parser."""

    depth: int = 0
    widest: int = 0  # most members of one container
    longest_string: int = 0


def doc_stats(value: Any, depth: int = 1, stats: DocStats | None = None) -> DocStats:
    """Depth, widest container and longest string (key or value) of a parsed document."""
    stats = stats or DocStats()
    if isinstance(value, (dict, list)):
        stats.depth = max(stats.depth, depth)
        stats.widest = max(stats.widest, len(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            if isinstance(k, str):
                stats.longest_string = max(stats.longest_string, len(k))
            doc_stats(v, depth + 1, stats)
    elif isinstance(value, str):
        stats.longest_string = max(stats.longest_string, len(value))
    return stats


def split(doc: str, size: int) -> list[str]:
    """The chunks the document is streamed in."""
    return [doc[i : i + size] for i in range(0, len(doc), size)]


# --- the implementations: each consumes all chunks and returns the final value ---------


def run_snapshots(chunks: list[str]) -> Any:
    p = JsonStreamParser()
    last = None
    for chunk in chunks:
        if p.feed(chunk):
            last = p.value
    if p.close():
        last = p.value
    return last


def _run_ops(chunks: list[str], mode: Any) -> Any:
    p = JsonStreamParser(ops=mode)
    n = 0
    for chunk in chunks:
        if p.feed(chunk):
            n += len(p.take_ops())
    p.close()
    n += len(p.take_ops())
    return p.value


def run_delta(chunks: list[str]) -> Any:
    return _run_ops(chunks, "delta")


def run_rfc6902(chunks: list[str]) -> Any:
    return _run_ops(chunks, "rfc6902")


def run_runnable(chunks: list[str]) -> Any:
    last = None
    for value in STJsonOutputParser().transform(iter(chunks)):
        last = value
    return last


def run_langchain(chunks: list[str]) -> Any:
    last = None
    for value in LCJsonOutputParser().transform(iter(chunks)):
        last = value
    return last


def run_lc_partial(chunks: list[str]) -> Any:
    buf = ""
    last = None
    for chunk in chunks:
        buf += chunk
        try:
            last = parse_partial_json(buf)
        except ValueError:  # a prefix it cannot complete (e.g. a lone "-")
            pass
    return last


def run_jiter(chunks: list[str]) -> Any:
    buf = ""
    last = None
    for chunk in chunks:
        buf += chunk
        try:
            last = jiter.from_json(buf.encode(), partial_mode="trailing-strings")
        except ValueError:  # e.g. nothing but whitespace yet
            pass
    return last


def run_pydantic_core(chunks: list[str]) -> Any:
    buf = ""
    last = None
    for chunk in chunks:
        buf += chunk
        try:
            last = pydantic_core.from_json(buf, allow_partial="trailing-strings")
        except ValueError:
            pass
    return last


RUNNERS: dict[str, Callable[[list[str]], Any]] = {
    "snapshots": run_snapshots,
    "delta": run_delta,
    "rfc6902": run_rfc6902,
    "runnable": run_runnable,
    "langchain": run_langchain,
    "lc-partial": run_lc_partial,
    "jiter": run_jiter,
    "pydantic-core": run_pydantic_core,
}


def replay_ops(chunks: list[str], mode: Any) -> Any:
    """Rebuild the document from the parser's ops alone (untimed check)."""
    p = JsonStreamParser(ops=mode)
    doc: Any = None
    for chunk in chunks:
        if p.feed(chunk):
            doc = apply_ops(doc, copy.deepcopy(p.take_ops()))
    p.close()
    return apply_ops(doc, copy.deepcopy(p.take_ops()))


# --- measuring --------------------------------------------------------------------------


@dataclass
class Result:
    """All runs of one mode on one document."""

    mode: str
    chars: int
    chunks: int
    times: list[float] = field(default_factory=list)
    final: Any = None

    @property
    def seconds(self) -> float:
        return min(self.times)

    @property
    def mb_per_s(self) -> float:
        return self.chars / 1e6 / self.seconds

    @property
    def us_per_chunk(self) -> float:
        return self.seconds / self.chunks * 1e6


@dataclass
class Doc:
    """One generated document and what was measured on it."""

    shape: str
    size_kb: float
    text: str
    chunks: list[str]
    stats: DocStats
    results: dict[str, Result] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # mode -> reason
    problems: list[str] = field(default_factory=list)


def time_once(mode: str, chunks: list[str]) -> tuple[float, Any]:
    """One timed run after a full collection; returns seconds and the final value."""
    run = RUNNERS[mode]
    gc.collect()
    t0 = time.perf_counter()
    final = run(chunks)
    return time.perf_counter() - t0, final


def skip_reason(mode: str, size_kb: float, lc_max_kb: float, reparse_max_kb: float) -> str:
    """Why ``mode`` is not run at ``size_kb`` ('' if it is)."""
    if mode in LC_MODES and size_kb > lc_max_kb:
        return f"over --lc-max-kb {lc_max_kb:g} (quadratic: minutes at 100 KB)"
    if mode in REPARSE_MODES and size_kb > reparse_max_kb:
        return f"over --reparse-max-kb {reparse_max_kb:g} (quadratic re-parse per chunk)"
    return ""


def check(doc: Doc, expected: Any) -> None:
    """Final values against ``json.loads`` (from the first timed run) and op replays."""
    for mode, result in doc.results.items():
        if result.final != expected:
            doc.problems.append(f"{mode}: final value differs from json.loads(doc)")
    for mode in ("delta", "rfc6902"):
        if mode in doc.results and replay_ops(doc.chunks, mode) != expected:
            doc.problems.append(f"{mode}: replaying its ops does not rebuild the document")


def measure_doc(
    shape: str,
    size_kb: float,
    modes: list[str],
    args: argparse.Namespace,
) -> Doc:
    """Generate one document and time every mode on it, interleaving the runs."""
    text = MAKERS[shape](int(size_kb * KB), args.seed)
    expected = json.loads(text)
    doc = Doc(shape, size_kb, text, split(text, args.chunk), doc_stats(expected))
    repeat = args.repeat or (3 if size_kb <= LARGE_KB else 1)
    run_modes = []
    for mode in modes:
        reason = skip_reason(mode, size_kb, args.lc_max_kb, args.reparse_max_kb)
        if reason:
            doc.skipped[mode] = reason
        else:
            run_modes.append(mode)
            doc.results[mode] = Result(mode, len(text), len(doc.chunks))
    for i in range(repeat):
        for mode in run_modes:
            seconds, final = time_once(mode, doc.chunks)
            result = doc.results[mode]
            result.times.append(seconds)
            if i == 0:
                result.final = final
            print(
                f"  {shape:>7} {size_kb:>6g} KB {mode:>13} run {i + 1}: {seconds:9.4f} s",
                file=sys.stderr,
                flush=True,
            )
    check(doc, expected)
    for result in doc.results.values():
        result.final = None  # checked; do not keep large documents alive
    return doc


def warm_up(modes: list[str], chunk: int, seed: int) -> None:
    """One untimed run of every mode on a small document (imports, first-call caches)."""
    chunks = split(make_records(KB, seed), chunk)
    for mode in modes:
        RUNNERS[mode](chunks)


# --- report -----------------------------------------------------------------------------


def fmt_kb(size_kb: float) -> str:
    return f"{size_kb / 1000:g} MB" if size_kb >= 1000 else f"{size_kb:g} KB"


def fmt_s(x: float) -> str:
    return f"{x:.5f}" if x < 0.01 else (f"{x:.4f}" if x < 1 else f"{x:.3f}")


def fmt_ratio(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}x"
    return f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"


def fmt_us(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:,.1f}"


STARTED_WITH = source_fingerprint()  # taken when streamtui is imported


def machine_note() -> str:
    return (
        f"{machine()}; langchain-core {langchain_core.__version__}, "
        f"jiter {jiter.__version__}, pydantic-core {pydantic_core.__version__}, "
        f"streamtui {streamtui.__version__} ({STARTED_WITH})"
    )


def growth(docs: list[Doc], mode: str, lo_kb: float, hi_kb: float) -> float | None:
    """``log(t_hi / t_lo) / log(chars_hi / chars_lo)``, or None if either is missing."""
    by_size = {d.size_kb: d.results.get(mode) for d in docs}
    lo, hi = by_size.get(lo_kb), by_size.get(hi_kb)
    if lo is None or hi is None or lo.chars == hi.chars:
        return None
    return math.log(hi.seconds / lo.seconds) / math.log(hi.chars / lo.chars)


def report(docs: list[Doc], shapes: list[str], sizes: list[float], modes: list[str]) -> str:
    out: list[str] = []
    w = out.append
    w(f"Machine: {machine_note()}")
    now = source_fingerprint()
    if now != STARTED_WITH:
        w("")
        w(f"**WARNING: streamtui's sources changed during the run (now: {now}); the")
        w("modules loaded at start were measured, but rerun for a clean record.**")
    chunk = len(docs[0].chunks[0]) if docs else 0
    w("")
    w(f"Chunks of {chunk} characters; 1 KB = 1,000 characters (= bytes: ASCII documents).")
    w("best s = best of the runs; MB/s = document size / best s; µs/chunk = best s / chunks.")
    w("vs X = X's time / this mode's time at the same document (> 1: faster than X).")
    w("")

    w("### Documents")
    w("")
    w("| shape | size | characters | chunks | nesting depth | widest container | longest string |")
    w("|---|--:|--:|--:|--:|--:|--:|")
    for d in docs:
        s = d.stats
        w(
            f"| {d.shape} | {fmt_kb(d.size_kb)} | {len(d.text):,} | {len(d.chunks):,} | "
            f"{s.depth} | {s.widest:,} | {s.longest_string:,} |"
        )
    w("")

    problems = [f"{d.shape} {fmt_kb(d.size_kb)}: {p}" for d in docs for p in d.problems]
    checks = sum(len(d.results) for d in docs)
    checks += sum(1 for d in docs for m in ("delta", "rfc6902") if m in d.results)
    if problems:
        w("**WARNING: correctness checks failed:**")
        for p in problems:
            w(f"- {p}")
    else:
        w(
            f"Correctness: all {checks} checks passed (every mode's final value == "
            "json.loads(doc); delta/rfc6902 ops replayed with apply_ops rebuild it)."
        )
    w("")

    anchors = [a for a in ANCHORS if a in modes]
    for shape in shapes:
        w(f"### {shape}")
        w("")
        head = "".join(f" vs {a} |" for a in anchors)
        w(f"| size | mode | runs | best s | MB/s | µs/chunk |{head}")
        w("|--:|---|--:|--:|--:|--:|" + "--:|" * len(anchors))
        for d in (d for d in docs if d.shape == shape):
            for mode in modes:
                if mode in d.skipped:
                    w(
                        f"| {fmt_kb(d.size_kb)} | {mode} | 0 | skipped | - | - |"
                        + " - |" * len(anchors)
                    )
                    continue
                r = d.results[mode]
                cells = ""
                for a in anchors:
                    ar = d.results.get(a)
                    cells += f" {fmt_ratio(ar.seconds / r.seconds)} |" if ar else " - |"
                w(
                    f"| {fmt_kb(d.size_kb)} | {mode} | {len(r.times)} | {fmt_s(r.seconds)} | "
                    f"{r.mb_per_s:,.2f} | {fmt_us(r.us_per_chunk)} |{cells}"
                )
        w("")

    skipped: dict[tuple[str, str], list[str]] = {}
    for d in docs:
        for mode, reason in d.skipped.items():
            skipped.setdefault((mode, reason), [])
            if fmt_kb(d.size_kb) not in skipped[mode, reason]:
                skipped[mode, reason].append(fmt_kb(d.size_kb))
    if skipped:
        w("### Skipped")
        w("")
        for (mode, reason), where in skipped.items():
            w(f"- {mode} at {', '.join(where)}: {reason}.")
        w("")

    if len(sizes) > 1:
        w("### Growth exponent (1 = linear in the document size, 2 = quadratic)")
        w("")
        steps = list(itertools.pairwise(sizes))
        headline = GROWTH_FROM_KB in sizes and GROWTH_TO_KB in sizes
        head = "".join(f" {fmt_kb(a)} → {fmt_kb(b)} |" for a, b in steps)
        if headline:
            head += f" **{fmt_kb(GROWTH_FROM_KB)} → {fmt_kb(GROWTH_TO_KB)}** |"
        w(f"| shape | mode |{head}")
        w("|---|---|" + "--:|" * (len(steps) + headline))
        for shape in shapes:
            sdocs = [d for d in docs if d.shape == shape]
            for mode in modes:
                vals = [growth(sdocs, mode, a, b) for a, b in steps]
                if headline:
                    vals.append(growth(sdocs, mode, GROWTH_FROM_KB, GROWTH_TO_KB))
                if all(v is None for v in vals):
                    continue
                cells = "".join(" - |" if v is None else f" {v:.2f} |" for v in vals)
                w(f"| {shape} | {mode} |{cells}")
        w("")
    return "\n".join(out)


# --- command line -----------------------------------------------------------------------


def parse_sizes(text: str) -> list[float]:
    """``"1,10,100,1000"`` (KB), also ``"1k"`` or ``"1m"``."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        scale = 1000.0 if part.endswith("m") else 1.0
        sizes.append(float(part.rstrip("kmb")) * scale)
    return sizes


def pick(text: str, allowed: tuple[str, ...], what: str, p: argparse.ArgumentParser) -> list[str]:
    """A comma-separated subset of ``allowed``, in the canonical order."""
    chosen = {x.strip() for x in text.split(",") if x.strip()}
    for x in chosen - set(allowed):
        p.error(f"unknown {what} {x!r}; choose from {', '.join(allowed)}")
    return [x for x in allowed if x in chosen]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="comma-separated document sizes in KB (default 1,10,100,1000; '1m' works)",
    )
    p.add_argument("--quick", action="store_true", help="sizes 1 and 10 KB, one run each")
    p.add_argument("--shapes", default=",".join(SHAPES), help=f"subset of {','.join(SHAPES)}")
    p.add_argument("--modes", default=",".join(MODES), help=f"subset of {','.join(MODES)}")
    p.add_argument("--chunk", type=int, default=4, help="characters per chunk (default 4)")
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per measurement, best kept (default 3, and 1 above 100 KB)",
    )
    p.add_argument(
        "--lc-max-kb",
        type=float,
        default=10.0,
        help="largest size langchain and lc-partial run at (default 10; quadratic)",
    )
    p.add_argument(
        "--reparse-max-kb",
        type=float,
        default=100.0,
        help="largest size jiter and pydantic-core re-parse at (default 100)",
    )
    p.add_argument("--seed", type=int, default=0, help="document generator seed (default 0)")
    args = p.parse_args(argv)

    sizes = sorted(set(args.sizes or (QUICK_SIZES_KB if args.quick else DEFAULT_SIZES_KB)))
    if args.quick and args.repeat is None:
        args.repeat = 1
    shapes = pick(args.shapes, SHAPES, "shape", p)
    modes = pick(args.modes, MODES, "mode", p)
    if not sizes or not shapes or not modes:
        p.error("need at least one size, shape and mode")
    if args.chunk < 1 or (args.repeat is not None and args.repeat < 1):
        p.error("--chunk and --repeat must be at least 1")

    print(
        f"sizes={[fmt_kb(s) for s in sizes]} shapes={shapes} modes={modes} "
        f"chunk={args.chunk} repeat={args.repeat or '3 (1 above 100 KB)'} "
        f"lc-max-kb={args.lc_max_kb:g} reparse-max-kb={args.reparse_max_kb:g}",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    warm_up(modes, args.chunk, args.seed)
    docs = [measure_doc(shape, size, modes, args) for shape in shapes for size in sizes]
    print(report(docs, shapes, sizes, modes))
    print(f"\n(total benchmark time {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
