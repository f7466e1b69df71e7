"""The ``streamtui`` command line (headless parts; the TUI plugs in here later).

``run`` loads a chain.yaml or a Python file, streams the run onto the bus, records it under
``.streamtui/runs/`` and prints it (JSONL envelopes, or a coloured transcript). ``replay``
prints a recorded run again, ``validate`` checks a file, ``runs`` lists recordings,
``schema`` prints the chain.yaml JSON Schema.

Exit codes: 0 the run finished, 1 the run failed, 2 bad usage or a bad file, 130 Ctrl-C.
A user mistake ends with a short message, never a traceback; a failing run still leaves
its complete log.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer

if TYPE_CHECKING:
    from streamtui.spec import LoadedSpec

app = typer.Typer(
    name="streamtui",
    help="Watch LLM streams live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Format(str, Enum):
    jsonl = "jsonl"
    pretty = "pretty"


class UsageError(Exception):
    """A mistake in how the command was called or in the file it names (exit code 2)."""


def _stderr_color() -> bool:
    from streamtui.transcript import use_color

    return use_color(sys.stderr)


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    typer.secho(f"streamtui: {message}", err=True, fg=typer.colors.RED, color=_stderr_color())
    raise typer.Exit(code)


def _note(message: str) -> None:
    typer.secho(message, err=True, dim=True, color=_stderr_color())


def _spec_error(error: Exception, file: str) -> NoReturn:
    """Report a bad file without showing the values its ``${env:...}`` references hold
    (the loader stopped before it could list them as secrets)."""
    from streamtui.envelope import Redactor

    names: set[str] = set()
    try:
        text = Path(file.partition(":")[0] if ".py:" in file else file).read_text("utf-8")
        names = set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", text))
    except (OSError, UnicodeDecodeError):
        pass
    values = [os.environ[n] for n in names if os.environ.get(n)]
    _fail(Redactor(values).text(str(error)))


def _quiet_stdout() -> None:
    """The reader of stdout has gone (``| head``): send what is left nowhere, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


# --- loading what to run ---------------------------------------------------------------


def load_file(target: str) -> LoadedSpec:
    """Load ``chain.yaml`` or ``app.py[:name]``; ``SpecError``/``UsageError`` on mistakes."""
    from streamtui.spec import load_spec

    path = Path(target.partition(":")[0] if ".py:" in target else target)
    if path.suffix not in (".yaml", ".yml", ".py"):
        if not path.exists():
            raise UsageError(f"{path}: no such file (give a chain.yaml or a Python file)")
        raise UsageError(f"{path}: expected a .yaml/.yml chain file or a .py file")
    return load_spec(target)


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


def merge_input(base: Any, pairs: list[str], input_json: str | None, where: str) -> Any:
    """The file's default input with ``--input-json`` and then ``--input`` applied."""
    value = dict(base) if isinstance(base, dict) else base
    if input_json is not None:
        try:
            given = json.loads(input_json)
        except json.JSONDecodeError as e:
            raise UsageError(
                f"--input-json is not valid JSON ({e.msg} at column {e.colno})"
            ) from None
        value = {**value, **given} if isinstance(value, dict) and isinstance(given, dict) else given
    overrides = parse_inputs(pairs)
    if overrides:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise UsageError(
                f"{where}: the input is {type(value).__name__}, so --input key=value cannot set "
                "keys in it; use --input-json to replace it"
            )
        value.update(overrides)
    return value


# --- printers --------------------------------------------------------------------------


def _printer(fmt: Format, out: TextIO, redactor: Any) -> tuple[Any, Any]:
    """(handle a batch of parts, finish) for the chosen format."""
    from streamtui.envelope import encode_line
    from streamtui.transcript import Transcript

    reconfigure = getattr(out, "reconfigure", None)
    if reconfigure is not None:
        # A lone surrogate (an undecodable file name) prints as its escape, not a crash.
        reconfigure(errors="backslashreplace")

    if fmt is Format.pretty:
        transcript = Transcript(out, redact=redactor.text if redactor is not None else None)
        return transcript, transcript.finish

    def jsonl(parts: list[Any]) -> None:
        out.write("".join(encode_line(p, redactor) + "\n" for p in parts))
        out.flush()

    return jsonl, out.flush


def _finish(finish: Any) -> None:
    try:
        finish()
    except BrokenPipeError:
        _quiet_stdout()


def _use_tui(no_tui: bool, fmt: Format | None, screenshot: Path | None = None) -> bool:
    """The TUI on a terminal, unless told otherwise (``--no-tui`` or a ``--format``);
    ``--screenshot`` runs it headless, terminal or not; under ``--web`` (textual-serve
    sets a web driver) it draws to the browser."""
    if screenshot is not None:
        if no_tui or fmt is not None:
            _fail("--screenshot draws the TUI; it cannot be combined with --no-tui or --format")
        return True
    if not no_tui and fmt is None and "web_driver" in os.environ.get("TEXTUAL_DRIVER", ""):
        return True
    return not no_tui and fmt is None and sys.stdout.isatty() and sys.stdin.isatty()


def _serve_web(argv: list[str], port: int, name: str) -> NoReturn:
    """The TUI in a browser: textual-serve runs ``streamtui <argv>`` for each page load,
    on loopback only."""
    import shlex

    try:
        import textual_serve  # noqa: F401
    except ImportError:
        _fail('--web needs textual-serve: pip install "streamtui[web]"')
    from streamtui.remote.web import serve_web

    if not 1 <= port <= 65535:
        _fail(f"--port {port}: give a port from 1 to 65535")
    command = shlex.join([sys.executable, "-m", "streamtui", *argv])
    _note(f"serving the TUI at http://127.0.0.1:{port} (Ctrl-C stops)")
    try:
        serve_web(command, port, f"streamtui · {name}")
    except OSError as e:
        _fail(f"--web: cannot listen on 127.0.0.1:{port}: {e.strerror or e}")
    raise typer.Exit(0)


ThemeOption = Annotated[str | None, typer.Option("--theme", help="The TUI's theme (t cycles).")]
ScreenshotOption = Annotated[
    Path | None,
    typer.Option(
        "--screenshot",
        help="Draw the TUI headless and save an SVG of it here when the run ends.",
    ),
]
KeymapOption = Annotated[
    Path | None,
    typer.Option(
        "--keymap",
        help="Remap keys from this TOML file (default: $STREAMTUI_KEYMAP, "
        "./.streamtui/keymap.toml, ~/.config/streamtui/keymap.toml). See docs/keymap.md.",
    ),
]
SizeOption = Annotated[
    str, typer.Option("--size", help="Terminal size for --screenshot: COLSxROWS.")
]


@dataclass(frozen=True)
class UiOptions:
    """How to open the TUI: theme, and for a screenshot the file and the size."""

    theme: str | None
    screenshot: Path | None
    size: tuple[int, int] | None
    keymap: Path | None = None


def _ui_options(
    theme: str | None, screenshot: Path | None, size: str, keymap: Path | None = None
) -> UiOptions:
    cols, _, rows = size.lower().partition("x")
    if not (
        cols.isdigit() and rows.isdigit() and 40 <= int(cols) <= 1000 and 10 <= int(rows) <= 500
    ):
        _fail(f"--size {size!r}: give columns x rows, like 120x36 (at least 40x10)")
    if screenshot is not None:
        if screenshot.suffix.lower() != ".svg":
            _fail(f"--screenshot {screenshot}: the screenshot is an SVG; end the name in .svg")
        if not screenshot.parent.is_dir():
            _fail(f"--screenshot {screenshot}: no folder {screenshot.parent} to save it in")
    if keymap is not None and not keymap.expanduser().is_file():
        _fail(f"--keymap {keymap}: no such file (docs/keymap.md shows the format)")
    return UiOptions(theme, screenshot, (int(cols), int(rows)) if screenshot else None, keymap)


def _launch(app: Any, ui: UiOptions) -> None:
    """Run the app: on the terminal, or headless for a screenshot."""
    if ui.screenshot is None:
        app.run()
        return
    app.run(headless=True, size=ui.size)
    if app.screenshot_error:
        _fail(app.screenshot_error)
    _note(f"-- screenshot saved: {ui.screenshot}")


def _choose_format(fmt: Format | None) -> Format:
    # Without the TUI: JSONL for pipes, files and CI, unless a format was asked for.
    return fmt if fmt is not None else Format.jsonl


# --- commands --------------------------------------------------------------------------


@app.command()
def run(
    file: Annotated[str, typer.Argument(help="chain.yaml, or a Python file: app.py[:name]")],
    input: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="Set an input key: key=value (repeatable)."),
    ] = None,
    input_json: Annotated[
        str | None,
        typer.Option(
            "--input-json", help="The input as JSON (an object merges into the defaults)."
        ),
    ] = None,
    no_tui: Annotated[
        bool, typer.Option("--no-tui", help="Print parts instead of the UI.")
    ] = False,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="jsonl (envelopes) or pretty (a transcript)."),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Record the run here (default .streamtui/runs/)."),
    ] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Do not record the run.")] = False,
    theme: ThemeOption = None,
    screenshot: ScreenshotOption = None,
    size: SizeOption = "120x36",
    keymap: KeymapOption = None,
    serve: Annotated[
        str | None,
        typer.Option(
            "--serve",
            metavar="[HOST:]PORT",
            help="Also serve the run as Server-Sent Events at http://HOST:PORT/stream "
            "(host 127.0.0.1 unless given; port 0 picks a free one). See docs/remote.md.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="STREAMTUI_TOKEN",
            help="With --serve: viewers must send this Bearer token; or set STREAMTUI_TOKEN, "
            "which keeps it out of the command line.",
        ),
    ] = None,
    publish: Annotated[
        str | None,
        typer.Option(
            "--publish",
            metavar="nats://HOST:PORT",
            help="Also publish the run to NATS JetStream (see docs/remote.md).",
        ),
    ] = None,
    web: Annotated[
        bool,
        typer.Option(
            "--web",
            help="Serve the TUI to a browser on 127.0.0.1 (textual-serve; each page load "
            'runs the file anew). Needs: pip install "streamtui[web]".',
        ),
    ] = False,
    port: Annotated[
        int | None, typer.Option("--port", help="The port for --web (default 8000).")
    ] = None,
) -> None:
    """Run a chain or graph and stream it."""
    from streamtui.envelope import Redactor
    from streamtui.eventlog import new_run_path
    from streamtui.session import check_modes, make_header, run_session, target_kind
    from streamtui.spec import SpecError

    if record is not None and no_record:
        _fail("--record and --no-record contradict each other; give one")
    serve_at = _serve_address(serve, token)
    if publish is not None:
        _check_publish(publish)
    try:
        loaded = load_file(file)
        value = merge_input(loaded.input, input or [], input_json, file)
        modes = loaded.stream.modes
        check_modes(target_kind(loaded.target), modes)
    except SpecError as e:
        _spec_error(e, file)
    except (UsageError, ValueError) as e:
        _fail(str(e))
    if port is not None and not web:
        _fail("--port is the port of --web; for SSE give --serve [HOST:]PORT")
    if web:
        # Every page load is a new run: one --record path would be overwritten by each.
        others = {
            "--serve": serve,
            "--publish": publish,
            "--screenshot": screenshot,
            "--record": record,
        }
        clash = [name for name, given in others.items() if given] + (
            ["--no-tui"] * no_tui + ["--format"] * (fmt is not None)
        )
        if clash:
            _fail(f"--web serves the TUI itself; it cannot be combined with {clash[0]}")
        argv = ["run", file, *(f"--input={i}" for i in input or [])]
        argv += [f"--input-json={input_json}"] if input_json is not None else []
        argv += ["--no-record"] if no_record else []
        argv += [f"--theme={theme}"] if theme else []
        argv += [f"--keymap={keymap}"] if keymap else []
        _serve_web(argv, 8000 if port is None else port, loaded.name)
    redactor = Redactor(loaded.secrets)
    log_path = None if no_record else (record or new_run_path(loaded.name))
    header = make_header(
        name=loaded.name,
        path=str(loaded.path),
        spec_hash=loaded.hash,
        input=value,
        modes=modes,
    )
    session = {
        "header": header,
        "record_to": log_path,
        "redactor": redactor,
        "modes": modes,
        "event_filter": loaded.stream.event_filters(),
    }
    tui = _use_tui(no_tui, fmt, screenshot)
    ui = _ui_options(theme, screenshot, size, keymap) if tui else None
    server = _start_serving(serve_at, token, redactor, session) if serve_at else None
    publisher = _start_publisher(publish, header, redactor, tui) if publish else None
    if publisher is not None:
        session.setdefault("consumers", []).append(("nats", publisher.handle))
    try:
        if ui is not None:
            _run_in_tui(loaded.target, value, loaded.name, session, log_path, redactor, ui, server)
            return
        handle, finish = _printer(_choose_format(fmt), sys.stdout, redactor)
        consumers = [("stdout", handle), *session.pop("consumers", [])]
        try:
            job = run_session(loaded.target, value, consumers=consumers, **session)
            outcome = asyncio.run(_ending(job, server))
        except OSError as e:
            hint = "give --record PATH or --no-record"
            _fail(f"cannot record to {log_path}: {e.strerror or e} ({hint})")
        except KeyboardInterrupt:
            _finish(finish)
            kept = f"; the log is kept: {log_path}" if log_path else ""
            _fail(f"interrupted{kept}", EXIT_INTERRUPTED)
        _finish(finish)
        if publisher is not None:
            _close_publisher(publisher, publisher.footer_for(outcome))
        _report(outcome, log_path, redactor)
    finally:
        if server is not None:
            server.close()  # viewers get the end of the run first (a few seconds at most)
        _close_publisher(publisher)  # after a TUI run or an interruption (status from parts)


def _check_publish(url: str) -> None:
    """A bad ``--publish`` URL, or no nats-py, ends here: one line, exit 2."""
    from streamtui.remote.nats import NatsUnavailable, check_url, require_nats, safe_url

    try:
        check_url(url)  # its message starts with the URL (password masked)
        require_nats()
    except ValueError as e:
        _fail(f"--publish {e}")
    except NatsUnavailable as e:
        _fail(f"--publish {safe_url(url)}: {e}")


def _start_publisher(url: str, header: dict[str, Any], redactor: Any, in_tui: bool) -> Any:
    """Connect (waiting up to 2 s) and say where the run goes. An unreachable server is
    not an error: the run goes on, parts are buffered (bounded) and sent once it is back."""
    from streamtui.remote.nats import NatsPublisher, safe_url

    warn = None if in_tui else _note  # in the TUI the warnings are printed after it
    publisher = NatsPublisher(url, header=header, redactor=redactor, warn=warn)
    _note(f"-- publishing run {publisher.run_id} to {safe_url(url)}")
    publisher.start()
    return publisher


def _close_publisher(publisher: Any, footer: dict[str, Any] | None = None) -> None:
    """Send what is left and the end marker (once), then say what was not published."""
    if publisher is None or publisher.closed:
        return
    publisher.close(footer)
    for problem in publisher.untold():  # not what was warned about during the run
        _note(f"streamtui: {problem}")


def _serve_address(serve: str | None, token: str | None) -> tuple[str, int] | None:
    """``--serve [HOST:]PORT`` checked: loopback unless a host is given, and a host other
    machines can reach only with a token."""
    if token is not None and not token.strip():
        _fail("--token is empty; give the token viewers must send")
    if serve is None:
        # A token from the environment is for whenever --serve is given; on the command
        # line without --serve it is a mistake worth saying.
        if token is not None and token != os.environ.get("STREAMTUI_TOKEN"):
            _fail("--token is for --serve; give --serve [HOST:]PORT too")
        return None
    from streamtui.remote.sse_server import is_loopback

    host, sep, port_text = serve.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not port_text.isdigit() or (sep and not host):
        _fail(f"--serve {serve!r}: give [HOST:]PORT, like 8765 or 127.0.0.1:8765")
    port = int(port_text)
    if port > 65535:
        _fail(f"--serve {serve!r}: the port must be 0-65535 (0 picks a free one)")
    host = host or "127.0.0.1"
    if not is_loopback(host) and token is None:
        _fail(
            f"--serve {serve}: {host} can be reached from other machines and the stream "
            "carries the run's prompts and outputs; give --token T (viewers send "
            "Authorization: Bearer T) or serve on 127.0.0.1"
        )
    return host, port


def _start_serving(
    address: tuple[str, int], token: str | None, redactor: Any, session: dict[str, Any]
) -> Any:
    """The SSE server on the run's bus (put into ``session``), listening before the run."""
    from streamtui.bus import EventBus
    from streamtui.remote.sse_server import SSEServer

    host, port = address
    bus = session["bus"] = EventBus()
    try:
        server = SSEServer(bus, host, port, token=token, redactor=redactor).start()
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        _fail(f"--serve {host}:{port}: cannot listen there: {reason}")
    _note(f"serving {server.url}")
    return server


async def _ending(job: Any, server: Any) -> Any:
    """``job`` (a ``run_session``), then the server's ``end`` event with the run's status."""
    if server is None:
        return await job
    status = "error"
    try:
        outcome = await job
        status = outcome.status
        return outcome
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    finally:
        server.end(status)


def _report(outcome: Any, log_path: Path | None, redactor: Any) -> None:
    """The one-line summary on stderr, and the exit code of a failed run."""
    recording_failed = None
    for name, problem in outcome.consumer_failures:
        if name == "recorder":
            recording_failed = problem
        elif not isinstance(problem, BrokenPipeError):
            _note(f"streamtui: the {name} stopped: {type(problem).__name__}: {problem}")
    where = f" · recorded {log_path}" if log_path else ""
    tally = outcome.tally
    summary = f"{tally.parts} parts, {tally.tokens} tokens in {outcome.duration:.2f}s"
    _note(f"-- {outcome.status}: {summary}{where}")
    if outcome.error is not None:
        error = outcome.error
        _fail(f"the run failed: {type(error).__name__}: {redactor.text(str(error))}", EXIT_FAILED)
    if recording_failed is not None:
        problem = f"{type(recording_failed).__name__}: {recording_failed}"
        _fail(f"recording stopped ({problem}); {log_path} is incomplete", EXIT_FAILED)


def _run_in_tui(
    target: Any,
    value: Any,
    name: str,
    session: dict[str, Any],
    log_path: Path | None,
    redactor: Any,
    ui: UiOptions,
    server: Any = None,
) -> None:
    """The run as a job of the app: quitting the app mid-run stops it, log kept."""
    from streamtui.bus import EventBus
    from streamtui.session import run_session
    from streamtui.tui.app import StreamApp
    from streamtui.tui.sources import LiveSource

    session = dict(session)
    bus = session.pop("bus", None) or EventBus()
    source = LiveSource(bus.subscribe("coalescing"))
    job = _ending(run_session(target, value, bus=bus, **session), server)
    app = StreamApp(
        source, name=name, job=job, theme=ui.theme, screenshot=ui.screenshot, keymap=ui.keymap
    )
    _launch(app, ui)
    if app.job_error is not None:
        error = app.job_error
        if isinstance(error, OSError):
            _fail(f"cannot record to {log_path}: {error.strerror or error}")
        _fail(f"the run could not start: {type(error).__name__}: {error}", EXIT_FAILED)
    if app.outcome is None:
        kept = f"; the log is kept: {log_path}" if log_path else ""
        _fail(f"stopped before the run ended{kept}", EXIT_INTERRUPTED)
    _report(app.outcome, log_path, redactor)


@app.command()
def replay(
    log: Annotated[str, typer.Argument(help="A recorded run (.jsonl or .jsonl.gz), or 'last'.")],
    no_tui: Annotated[
        bool, typer.Option("--no-tui", help="Print parts instead of the UI.")
    ] = False,
    speed: Annotated[
        str, typer.Option("--speed", help="Playback speed: a factor like 2 or 0.5, or 'max'.")
    ] = "1",
    fmt: Annotated[Format | None, typer.Option("--format", "-f", help="jsonl or pretty.")] = None,
    theme: ThemeOption = None,
    screenshot: ScreenshotOption = None,
    size: SizeOption = "120x36",
    keymap: KeymapOption = None,
) -> None:
    """Replay a recorded run in the TUI (or print it), paced as it was recorded."""
    from streamtui.eventlog import EventLog, EventLogError, resolve_log
    from streamtui.eventlog import replay as paced

    factor = _parse_speed(speed)
    if _use_tui(no_tui, fmt, screenshot):
        from streamtui.tui.sources import open_replay

        ui = _ui_options(theme, screenshot, size, keymap)
        try:
            # Parts are read as they are played: a million-part log opens at once.
            source = open_replay(resolve_log(log), factor)
        except EventLogError as e:
            _fail(str(e))
        spec = source.log.header.get("spec") if source.log else None
        name = str(spec.get("name", "replay")) if isinstance(spec, dict) else "replay"
        _watch(source, f"{name} (replay)", ui)
        return
    try:
        event_log = EventLog.open(resolve_log(log))
        parts = event_log.parts
    except EventLogError as e:
        _fail(str(e))
    for problem in event_log.problems():
        _note(f"streamtui: {problem}")
    handle, finish = _printer(_choose_format(fmt), sys.stdout, None)
    try:
        for part in paced(parts, factor):
            handle([part])
    except KeyboardInterrupt:
        _finish(finish)
        _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        _quiet_stdout()
        return
    _finish(finish)
    _note(f"-- replayed {len(parts)} parts of {event_log.path} ({event_log.status})")


def _parse_speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        factor = float(text)
    except ValueError:
        factor = 0.0
    if not factor > 0:
        _fail(f"--speed {text!r}: give a positive factor like 2 or 0.5, or 'max'")
    return factor


@app.command()
def attach(
    url: Annotated[
        str,
        typer.Argument(
            help="An SSE stream (streamtui run --serve, or a LangGraph server's "
            "/threads/{thread}/runs/{run}/stream), or nats://host:4222."
        ),
    ],
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="STREAMTUI_TOKEN",
            help="The server's token (sent as a Bearer token); or set STREAMTUI_TOKEN, "
            "which keeps it out of the command line.",
        ),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="nats:// only: follow this run.")
    ] = None,
    latest: Annotated[
        bool, typer.Option("--latest", help="nats:// only: follow the newest run.")
    ] = False,
    all_runs: Annotated[
        bool, typer.Option("--all", help="nats:// only: follow every run (a run picker).")
    ] = False,
    no_tui: Annotated[
        bool, typer.Option("--no-tui", help="Print parts instead of the UI.")
    ] = False,
    fmt: Annotated[Format | None, typer.Option("--format", "-f", help="jsonl or pretty.")] = None,
    theme: ThemeOption = None,
    screenshot: ScreenshotOption = None,
    size: SizeOption = "120x36",
    keymap: KeymapOption = None,
) -> None:
    """Watch a run in another process or on another machine, live: the TUI on a terminal,
    JSONL otherwise. Reconnects by itself and resumes where it left off."""
    chosen = [
        name
        for name, on in (("--run", run_id is not None), ("--latest", latest), ("--all", all_runs))
        if on
    ]
    if _is_nats(url):
        if len(chosen) > 1:
            _fail(f"{' and '.join(chosen)}: choose one run, the newest, or all of them")
        source = _nats_source(url, run_id, latest, all_runs, token)
        label = source.where
    else:
        from streamtui.remote.attach import AttachError, RemoteSource

        if chosen:
            _fail(f"{', '.join(chosen)} choose among NATS runs; an SSE URL is one run already")
        try:
            source = RemoteSource(url, token=token)
        except AttachError as e:
            _fail(str(e), e.code)
        label = source.target.host_header
    if _use_tui(no_tui, fmt, screenshot):
        _watch(source, f"{label} (attach)", _ui_options(theme, screenshot, size, keymap))
        _attach_outcome(source, None)
        return
    _print_attached(source, _choose_format(fmt), label)


def _is_nats(url: str) -> bool:
    """A NATS server's URL (``nats://`` or ``tls://``, any case), not an SSE stream."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).scheme.lower() in ("nats", "tls")
    except ValueError:
        return url.partition(":")[0].lower() in ("nats", "tls")


def _nats_source(
    url: str, run_id: str | None, latest: bool, all_runs: bool, token: str | None
) -> Any:
    """The NATS viewer (``streamtui.remote.nats``), imported only for a nats:// URL. A bad
    URL or run id, or no nats-py: one line, exit 2. It gives up after
    $STREAMTUI_NATS_GIVE_UP seconds (default 60) without a server or without the run."""
    try:
        from streamtui.remote.nats import NatsUnavailable, open_nats_source
    except ImportError as e:
        _fail(f"NATS attach is not available in this installation ({e})")
    give_up_text = os.environ.get("STREAMTUI_NATS_GIVE_UP", "").strip()
    try:
        give_up = float(give_up_text) if give_up_text else 60.0
    except ValueError:
        give_up = 0.0
    if not give_up > 0:
        _fail(f"STREAMTUI_NATS_GIVE_UP={give_up_text!r}: give a number of seconds, like 60")
    try:
        return open_nats_source(
            url, run=run_id, latest=latest, all_runs=all_runs, token=token, give_up=give_up
        )
    except (ValueError, NatsUnavailable) as e:
        _fail(str(e))
    except Exception as e:  # its own errors: one line, never a traceback
        _fail(f"{type(e).__name__}: {e}", EXIT_FAILED)


def _watch(source: Any, name: str, ui: UiOptions) -> None:
    """The TUI over a replay or a remote stream; the source is closed however it ends."""
    from streamtui.tui.app import StreamApp

    app = StreamApp(source, name=name, theme=ui.theme, screenshot=ui.screenshot, keymap=ui.keymap)
    try:
        _launch(app, ui)
    finally:
        _close(source)


def _close(source: Any) -> None:
    close = getattr(source, "close", None)
    if callable(close):
        close()


def _print_attached(source: Any, fmt: Format, label: str) -> None:
    """Print what arrives until the stream ends; the source's notices (reconnects, missed
    parts) go to stderr as they happen."""
    import time

    handle, finish = _printer(fmt, sys.stdout, None)
    start = getattr(source, "start", None)
    if callable(start):
        start()
    wait = getattr(source, "wait", None)
    error = None
    count = 0
    try:
        while True:
            parts = source.take(time.monotonic())
            if parts:
                handle(parts)
                count += len(parts)
            _tell_notices(source)
            if source.finished:
                break
            if not parts:
                if callable(wait):
                    wait(0.5)
                else:
                    time.sleep(0.02)
    except KeyboardInterrupt:
        _close(source)
        _finish(finish)
        _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        _close(source)
        _quiet_stdout()
        return
    _close(source)
    _finish(finish)
    error = getattr(source, "error", None)
    _tell_notices(source)
    if error is None:
        status = getattr(source, "status", None) or "ended"
        missed = getattr(source, "missed", 0)
        lost = f", {missed} missed" if missed else ""
        _note(f"-- attached to {label}: {count} parts ({status}{lost})")
    _attach_outcome(source, error)


def _tell_notices(source: Any) -> None:
    """The source's news on stderr (not the error it stopped on: that is said last)."""
    notices = getattr(source, "notices", None)
    error = getattr(source, "error", None)
    for line in notices() if callable(notices) else ():
        if error is None or line != str(error):
            _note(f"streamtui: {line}")


def _attach_outcome(source: Any, error: Any) -> None:
    """Exit 0 if the remote run finished, 1 if it failed or could not be followed, 2 if
    the server refused us."""
    error = error if error is not None else getattr(source, "error", None)
    if error is not None:
        code = getattr(error, "code", EXIT_FAILED)
        _fail(str(error), code if isinstance(code, int) else EXIT_FAILED)
    status = getattr(source, "status", None)
    if status not in (None, "done", "success"):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def validate(
    file: Annotated[str, typer.Argument(help="chain.yaml or app.py[:name] to check.")],
) -> None:
    """Check a file without running it."""
    from streamtui.session import check_modes, target_kind
    from streamtui.spec import SpecError

    try:
        loaded = load_file(file)
        kind = target_kind(loaded.target)
        check_modes(kind, loaded.stream.modes)
    except SpecError as e:
        _spec_error(e, file)
    except (UsageError, ValueError) as e:
        _fail(str(e))
    typer.echo(f"{file}: ok ({kind} '{loaded.name}')")


@app.command("runs")
def list_recorded_runs() -> None:
    """List recorded runs under .streamtui/runs (the newest last: `replay last`)."""
    from streamtui.eventlog import list_runs, runs_dir

    found = list_runs()
    if not found:
        typer.echo(f"no recorded runs under {runs_dir()}")
        return
    rows = [("NAME", "STARTED", "DURATION", "STATUS", "PARTS", "TOKENS", "LOG")]
    for r in found:
        duration = f"{r.duration:.2f}s" if isinstance(r.duration, (int, float)) else "?"
        tokens = str(r.tokens) if r.tokens is not None else "?"
        rows.append(
            (
                r.name,
                r.started[:19].replace("T", " "),
                duration,
                r.status,
                str(r.parts),
                tokens,
                str(r.path),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    typer.echo(f"(newest: {found[-1].path} — `streamtui replay last`)")


@app.command()
def schema() -> None:
    """Print the JSON Schema of chain.yaml (for editor completion)."""
    from streamtui.spec import spec_json_schema

    typer.echo(json.dumps(spec_json_schema(), indent=2))


@app.command("mock-server")
def mock_server(
    host: Annotated[str, typer.Option(help="A loopback address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port (0 picks a free one).")] = 8765,
    latency: Annotated[float, typer.Option(help="Seconds before each first byte.")] = 0.0,
    jitter: Annotated[float, typer.Option(help="Up to this many seconds between deltas.")] = 0.0,
) -> None:
    """Serve mock OpenAI and Anthropic APIs on loopback (scripted replies and faults)."""
    from streamtui.testing import serve

    try:
        serve(host, port, latency=latency, jitter=jitter)
    except ValueError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"cannot listen on {host}:{port}: {e.strerror or e} (pick another --port)")


@app.command()
def version() -> None:
    """Print the streamtui version."""
    from streamtui import __version__

    typer.echo(__version__)


def main() -> None:
    app()
