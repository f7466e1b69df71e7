"""The ``streamtui`` command line.

``streamtui run app.py[:name]`` loads a runnable from a Python file and streams it,
printing the model tokens as they arrive and a one-line summary of the run's events.
User mistakes (a missing file, a bad ``--input``) end with a short message and exit
code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="streamtui",
    help="Watch LLM streams live.",
    add_completion=False,
    no_args_is_help=True,
)


class UsageError(Exception):
    """A mistake in how the command was called; reported in one line, exit code 2."""


def _fail(message: str) -> None:
    typer.secho(f"streamtui: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(2)


def load_target(target: str) -> tuple[Any, Any]:
    """Import ``path.py[:name]`` and return the runnable and the file's ``INPUT`` default."""
    from streamtui.runtime.base import Runnable

    path_text, _, attr = target.partition(":")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"{path_text}: no such file (give a Python file like demos/joke.py)")
    if path.suffix != ".py":
        raise UsageError(
            f"{path_text}: expected a .py file defining a runnable (chain.yaml support is "
            "not built yet)"
        )
    spec = importlib.util.spec_from_file_location(f"_streamtui_target_{path.stem}", path.resolve())
    if spec is None or spec.loader is None:
        raise UsageError(f"{path_text}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered like any import, so dataclasses and pickling can find the module.
    sys.modules[spec.name] = module
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise UsageError(f"{path_text}:{e.lineno}: syntax error: {e.msg}") from None
    except Exception as e:
        line = _line_in(e, path)
        where = f"{path_text}:{line}" if line else path_text
        raise UsageError(f"{where}: loading the file failed: {type(e).__name__}: {e}") from None
    finally:
        sys.path.pop(0)
    names = [attr] if attr else ["chain", "graph", "app"]
    for name in names:
        value = getattr(module, name, None)
        if isinstance(value, Runnable):
            default = getattr(module, "INPUT", {})
            return value, dict(default) if isinstance(default, dict) else default
    wanted = f"'{attr}'" if attr else "'chain', 'graph' or 'app'"
    raise UsageError(
        f"{path_text}: no runnable named {wanted} (write {path_text}:NAME to pick another)"
    )


def _line_in(error: BaseException, path: Path) -> int | None:
    """The line of ``path`` where ``error`` was raised (the innermost such frame)."""
    target = str(path.resolve())
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value that parses as JSON is used as JSON."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--input {pair!r}: write it as key=value, e.g. --input topic=parrot")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


async def _stream_run(runnable: Any, value: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    async for event in runnable.astream_events(value, version="v2"):
        kind = event["event"]
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "on_chat_model_stream":
            text = event["data"]["chunk"].text
            if text:
                sys.stdout.write(text)
                sys.stdout.flush()
        elif kind == "on_llm_stream":
            chunk = event["data"]["chunk"]  # text for a root LLM, a GenerationChunk inside
            sys.stdout.write(chunk if isinstance(chunk, str) else chunk.text)
            sys.stdout.flush()
    return counts


@app.command()
def run(
    target: Annotated[str, typer.Argument(help="A Python file with a runnable: app.py[:name]")],
    input: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="Input value as key=value (repeatable)."),
    ] = None,
) -> None:
    """Run a chain and print its tokens as they stream."""
    try:
        runnable, value = load_target(target)
        overrides = parse_inputs(input or [])
        if overrides:
            if not isinstance(value, dict):
                raise UsageError(
                    f"{target}: INPUT is {type(value).__name__}, so --input key=value cannot "
                    "set keys in it; make INPUT a dict"
                )
            value.update(overrides)
    except UsageError as e:
        _fail(str(e))
    started = time.perf_counter()
    try:
        counts = asyncio.run(_stream_run(runnable, value))
    except KeyboardInterrupt:
        typer.echo("\nstreamtui: interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as e:
        typer.echo("", err=True)
        _fail(f"the run failed: {type(e).__name__}: {e}")
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    typer.echo("")
    typer.secho(f"-- {total} events in {elapsed:.2f}s", err=True, dim=True)


@app.command()
def version() -> None:
    """Print the streamtui version."""
    from streamtui import __version__

    typer.echo(__version__)


def main() -> None:
    app()
