"""How many bytes of patches a growing string costs: RFC 6902 vs streamtui's delta ops.

A model writing one long string value streams it in small chunks. RFC 6902 can only
``replace`` the whole string each time, so the patches add up to quadratic size;
``JsonStreamParser(ops="delta")`` appends the new characters, linear in the input.
LangChain's ``JsonOutputParser(diff=True)`` runs alongside (its time is quadratic too).

    python bench/json_patch_bytes.py [--kb 30] [--chunk 4] [--no-langchain]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable

from streamtui.jsonstream import JsonStreamParser


def document(kb: int) -> str:
    """One object with a single string of about ``kb`` thousand characters."""
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "the",
        "lazy",
        "dog",
        "while",
        "streaming",
        "tokens",
    ]
    text = " ".join(words[i % len(words)] for i in range(kb * 1000 // 4))[: kb * 1000]
    return json.dumps({"answer": text})


def ours(mode: str) -> Callable[[list[str]], Iterable[list[dict]]]:
    def run(chunks: list[str]) -> Iterable[list[dict]]:
        parser = JsonStreamParser(ops=mode)  # type: ignore[arg-type]
        for chunk in chunks:
            if parser.feed(chunk):
                yield parser.take_ops()
        parser.close()

    return run


def langchain(chunks: list[str]) -> Iterable[list[dict]]:
    from langchain_core.output_parsers import JsonOutputParser

    return JsonOutputParser(diff=True).transform(iter(chunks))


def measure(name: str, run: Callable[[list[str]], Iterable[list[dict]]], chunks: list[str]) -> None:
    started = time.perf_counter()
    size = ops = 0
    for patch in run(chunks):
        ops += len(patch)
        size += len(json.dumps(patch))
    elapsed = time.perf_counter() - started
    print(f"| {name} | {ops:,} | {size / 1e6:,.2f} MB | {elapsed:.3f} s |")


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--kb", type=int, default=30, help="string length in KB (default 30)")
    args.add_argument("--chunk", type=int, default=4, help="characters per chunk (default 4)")
    args.add_argument("--no-langchain", action="store_true", help="skip langchain-core")
    opts = args.parse_args()
    text = document(opts.kb)
    chunks = [text[i : i + opts.chunk] for i in range(0, len(text), opts.chunk)]
    print(f"one string of {len(text):,} characters in {len(chunks):,} chunks\n")
    print("| producer | ops | patch bytes (JSON) | time |\n|---|--:|--:|--:|")
    measure("streamtui delta", ours("delta"), chunks)
    measure("streamtui rfc6902", ours("rfc6902"), chunks)
    if not opts.no_langchain:
        measure("langchain-core diff=True", langchain, chunks)


if __name__ == "__main__":
    main()
