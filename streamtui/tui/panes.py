"""The run header, the token pane, the step tree and the state (JSON) pane.

Each draws from the store and is told what changed. The token and state panes are line
widgets that render only the lines on screen, so a long answer or a large state costs
nothing while it is scrolled away. Model text goes in as plain text (segments and
``rich.Text``, never markup), so what a model writes cannot restyle the screen. Colours
come from theme variables through component classes, never from literals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from streamtui.transcript import one_line, printable
from streamtui.tui.scrolling import set_virtual_size
from streamtui.tui.state_view import Snapshot, path_text, pretty_lines
from streamtui.tui.store import Changes, RunStore

__all__ = ["JsonPane", "RunHeader", "StepTree", "TokenPane", "sparkline"]

_SPARK = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[int], width: int = 20) -> str:
    tail = values[-width:]
    top = max(tail, default=0)
    if top == 0:
        return ""
    return "".join(_SPARK[min(8, round(v / top * 8))] for v in tail)


class RunHeader(Static):
    """Name, status, elapsed, time to first token, tokens/s with a sparkline, events/s,
    parts, anything folded or still queued, the replay position — always visible. A
    failed run adds a second line saying which run failed and why."""

    DEFAULT_CSS = """
    RunHeader { height: auto; max-height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    RunHeader > .run-header--error { color: $error; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"run-header--error"}

    def show(self, name: str, store: RunStore, extra: list[str], events_rate: float) -> None:
        ttft = store.time_to_first_token()
        rate = store.token_rate()
        parts = [
            name,
            store.status,
            *extra,  # the replay's position: before what a narrow terminal cuts off
            f"{store.elapsed():.1f}s",
            f"TTFT {ttft * 1000:.0f} ms" if ttft is not None else "TTFT -",
            f"{rate:.0f} tok/s {sparkline(store.tokens_per_second)}".rstrip()
            if rate
            else "- tok/s",
            f"{events_rate:.0f} ev/s",
            f"{len(store.parts)} parts",
        ]
        if store.merged:
            parts.append(f"{store.merged} chunks folded")
        text = Text(printable(" · ".join(parts)), no_wrap=True, overflow="ellipsis")
        failure = failure_line(store)
        if failure:
            text.append("\n")
            style = self.get_component_rich_style("run-header--error")
            text.append(printable(failure), style=style)
        if text != self._shown:
            # Only on a change, and a relayout only when the line count changes: 30
            # layouts a second would keep the screen busy for nothing.
            grows = self._shown is None or self._shown.plain.count("\n") != text.plain.count("\n")
            self._shown = text
            self.update(text, layout=grows)

    _shown: Text | None = None


def failure_line(store: RunStore) -> str:
    """Which run failed and why: the innermost failed run (where the error started)."""
    failed = [r for r in store.runs.values() if r.status == "failed" and r.error]
    if not failed:
        if store.error:
            return f"✗ {store.error.get('type', 'Error')}: {store.error.get('message', '')}"
        return ""
    inner = [r for r in failed if not any(store.runs[c].status == "failed" for c in r.children)]
    run = min(inner or failed, key=lambda r: r.ended or 0.0)
    error = run.error or {}
    where = " > ".join(store.path(run.run_id))
    return f"✗ {where}: {error.get('type', 'Error')}: {error.get('message', '')}"


# --- tokens -----------------------------------------------------------------------------

_SLOTS = 6


@dataclass(slots=True)
class _Segment:
    """Text of one run and one kind (answer, reasoning, tool arguments, a speaker line),
    in arrival order; consecutive pieces of the same run and kind are kept together."""

    run_id: str
    slot: int
    kind: str
    pieces: list[str] = field(default_factory=list)


def _split_cells(text: str, room: int) -> tuple[str, str]:
    """``text`` cut where it fills ``room`` terminal cells (wide characters count two)."""
    if text.isascii():
        return text[:room], text[room:]
    used = 0
    for i, ch in enumerate(text):
        used += get_character_cell_size(ch)
        if used > room:
            return text[:i], text[i:]
    return text, ""


class TokenPane(ScrollView, can_focus=True):
    """The streamed text of every model run, in arrival order: a speaker line when the
    run changes, a gutter in the run's (or graph node's) colour, reasoning and tool-call
    arguments styled apart from answer text. Follows the newest text until scrolled
    away; End follows again. ``set_runs`` narrows it to a run and the runs under it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"token-pane--run-{i}" for i in range(_SLOTS)),
        "token-pane--head",
        "token-pane--reasoning",
        "token-pane--tool",
    }
    DEFAULT_CSS = """
    TokenPane { overflow-x: hidden; }
    TokenPane > .token-pane--run-0 { color: $primary; }
    TokenPane > .token-pane--run-1 { color: $secondary; }
    TokenPane > .token-pane--run-2 { color: $accent; }
    TokenPane > .token-pane--run-3 { color: $success; }
    TokenPane > .token-pane--run-4 { color: $warning; }
    TokenPane > .token-pane--run-5 { color: $text-muted; }
    TokenPane > .token-pane--head { text-style: bold; }
    TokenPane > .token-pane--reasoning { color: $text-muted; text-style: italic; }
    TokenPane > .token-pane--tool { color: $warning; }
    """

    follow: reactive[bool] = reactive(True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._segments: list[_Segment] = []
        self._written: dict[str, tuple[int, int, int]] = {}
        self._slots: dict[str, int] = {}
        self._speaker: str | None = None
        self._runs: set[str] | None = None
        self._lines: list[tuple[int, str, str]] = []
        self._tail: tuple[str, str] | None = None
        self._wrap = 0

    # --- model ---------------------------------------------------------------------

    def reset(self) -> None:
        self._segments.clear()
        self._written.clear()
        self._speaker = None
        self._rebuild()

    def show(self, store: RunStore, changes: Changes) -> None:
        """Append what the runs in ``changes.token_runs`` streamed since the last frame.
        Within one frame a run's reasoning comes before its answer, then its tool calls."""
        runs = sorted(changes.token_runs, key=lambda r: store.runs[r].first_token or 0.0)
        added = False
        for run_id in runs:
            run = store.runs[run_id]
            done_text, done_reasoning, done_tools = self._written.get(run_id, (0, 0, 0))
            new = (
                ("reasoning", run.reasoning[done_reasoning:]),
                ("text", run.text[done_text:]),
                ("tool", run.tool_args[done_tools:]),
            )
            self._written[run_id] = (len(run.text), len(run.reasoning), len(run.tool_args))
            if not any(pieces for _, pieces in new):
                continue
            added = True
            key = run.node or run_id
            slot = self._slots.setdefault(key, len(self._slots) % _SLOTS)
            if self._speaker != run_id:
                self._speaker = run_id
                label = run.name if run.node in (None, run.name) else f"{run.node} · {run.name}"
                self._add(_Segment(run_id, slot, "head", [f"── {label} ──"]))
            for kind, pieces in new:
                if pieces:
                    self._add(_Segment(run_id, slot, kind, ["".join(pieces)]))
        if added:
            self._changed()

    def set_runs(self, runs: set[str] | None) -> None:
        """Show only these runs' text (``None``: every run)."""
        self._runs = runs
        self._rebuild()

    def _add(self, segment: _Segment) -> None:
        last = self._segments[-1] if self._segments else None
        if (
            last is not None
            and segment.kind != "head"
            and (last.run_id, last.kind) == (segment.run_id, segment.kind)
        ):
            last.pieces.extend(segment.pieces)
        else:
            self._segments.append(segment)
        if self._runs is None or segment.run_id in self._runs:
            self._feed(segment.slot, segment.kind, "".join(segment.pieces[-1:]))

    def _feed(self, slot: int, kind: str, text: str) -> None:
        """Lay ``text`` out as lines of at most the pane's width (a new kind of text, or a
        new speaker, starts a new line)."""
        lines = self._lines
        width = max(10, self._wrap)
        text = printable(text)
        if kind == "head" or not lines or self._tail != (str(slot), kind):
            lines.append((slot, kind, ""))
            self._tail = (str(slot), kind)
        for i, piece in enumerate(text.split("\n")):
            if i:
                lines.append((slot, kind, ""))
            while piece:
                _, _, current = lines[-1]
                room = width - cell_len(current)
                if room <= 0:
                    lines.append((slot, kind, ""))
                    continue
                head, piece = _split_cells(piece, room)
                word = head + piece.split(" ", 1)[0]
                if piece and current.endswith(" ") and " " not in head and cell_len(word) < width:
                    # The word that overflows started this chunk: move it down whole.
                    piece = head + piece
                    lines.append((slot, kind, ""))
                    continue
                if piece and current + head and " " in head[1:]:
                    # Wrap at a word boundary when the line has one.
                    cut = head.rindex(" ") + 1
                    head, piece = head[:cut], head[cut:] + piece
                if not head:  # a wide character that does not fit: next line
                    lines.append((slot, kind, ""))
                    head, piece = _split_cells(piece, width)
                lines[-1] = (slot, kind, current + head)
        if kind == "head":
            self._tail = None

    def _rebuild(self) -> None:
        self._lines = []
        self._tail = None
        for segment in self._segments:
            if self._runs is None or segment.run_id in self._runs:
                self._feed(segment.slot, segment.kind, "".join(segment.pieces))
        self._changed()

    def _changed(self) -> None:
        set_virtual_size(self, Size(self._wrap + 2, len(self._lines)))
        if self.follow:
            self.scroll_end(animate=False, x_axis=False)
        self.refresh()

    # --- view ----------------------------------------------------------------------

    def on_resize(self) -> None:
        width = max(10, self.scrollable_content_region.width - 2)
        if width != self._wrap:
            self._wrap = width
            self._rebuild()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Scrolling up stops following; reaching the bottom again resumes it.
        self.follow = new_value >= self.max_scroll_y

    def action_follow(self) -> None:
        self.follow = True
        self.scroll_end(animate=False, x_axis=False)

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        index = scroll_y + y
        if index >= len(self._lines):
            return Strip.blank(width, base)
        slot, kind, text = self._lines[index]
        gutter = base + self.get_component_rich_style(f"token-pane--run-{slot}")
        if kind == "head":
            style = gutter + self.get_component_rich_style("token-pane--head")
        elif kind in ("reasoning", "tool"):
            style = base + self.get_component_rich_style(f"token-pane--{kind}")
        else:
            style = base
        strip = Strip([Segment("▌ ", gutter), Segment(text, style)])
        return strip.adjust_cell_length(width, base)

    def plain_text(self) -> str:
        """What the pane shows, as text (for copying)."""
        return "\n".join(text for _, _, text in self._lines)


# --- steps -------------------------------------------------------------------------------

_STATUS = {"running": "…", "done": "✓", "failed": "✗", "interrupted": "■"}


class StepTree(Tree[str]):
    """The run tree: chains, models, tools, retrievers; a graph's node runs grouped by
    superstep (step → node → inner runs). Status, duration and token count on each;
    finished subtrees fold away, failed ones stay open."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *Tree.COMPONENT_CLASSES,
        "step-tree--failed",
        "step-tree--running",
    }
    DEFAULT_CSS = """
    StepTree { background: $background; overflow-x: hidden; }
    StepTree > .step-tree--failed { color: $error; text-style: bold; }
    StepTree > .step-tree--running { color: $accent; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("run", **kwargs)
        self.show_root = False
        self._by_run: dict[str, TreeNode[str]] = {}
        self._steps: dict[tuple[str, int], TreeNode[str]] = {}
        """(graph run, superstep) -> the node grouping its node runs."""

    def reset(self) -> None:
        self.clear()
        self._by_run.clear()
        self._steps.clear()

    def show(self, store: RunStore, changes: Changes) -> None:
        touched: set[tuple[str, int]] = set()
        for run_id in changes.added_runs:
            run = store.runs.get(run_id)
            if run is None:
                continue
            parent = self._by_run.get(run.parent_id) if run.parent_id else None
            key = _superstep(store, run_id)
            if key is not None and parent is not None:
                parent = self._group(key, parent)
                touched.add(key)
            if parent is not None:
                parent.allow_expand = True
            node = (parent or self.root).add(
                self._label(store, run_id), data=run_id, expand=True, allow_expand=False
            )
            self._by_run[run_id] = node
        for run_id in changes.changed_runs | changes.token_runs:
            node = self._by_run.get(run_id)
            if node is None:
                continue
            node.set_label(self._label(store, run_id))
            run = store.runs[run_id]
            if run.status == "done" and run.children and run.parent_id:
                node.collapse()
            key = _superstep(store, run_id)
            if key is not None:
                touched.add(key)
        for key in touched:
            self._relabel_step(store, key)

    def _group(self, key: tuple[str, int], graph: TreeNode[str]) -> TreeNode[str]:
        if key not in self._steps:
            graph.allow_expand = True
            self._steps[key] = graph.add(Text(f"step {key[1]}"), data=None, expand=True)
        return self._steps[key]

    def _relabel_step(self, store: RunStore, key: tuple[str, int]) -> None:
        group = self._steps[key]
        runs = [store.runs[c.data] for c in group.children if c.data in store.runs]
        status = (
            "failed"
            if any(r.status == "failed" for r in runs)
            else "running"
            if any(r.status == "running" for r in runs)
            else "interrupted"
            if any(r.status == "interrupted" for r in runs)
            else "done"
        )
        label = Text(f"{_STATUS[status]} ", style=self._status_style(status))
        label.append(printable(f"step {key[1]} · " + ", ".join(r.name for r in runs)))
        ends = [r.ended for r in runs if r.ended is not None]
        if ends and status != "running":
            label.append(f" {max(ends) - min(r.started for r in runs):.2f}s", style="dim")
        group.set_label(label)
        if status == "done":
            group.collapse()  # a finished superstep folds to one line naming its nodes

    def refresh_labels(self, store: RunStore) -> None:
        """Redraw every label (after the run ends, open runs become interrupted)."""
        for run_id, node in self._by_run.items():
            node.set_label(self._label(store, run_id))
        for key in self._steps:
            self._relabel_step(store, key)

    def _status_style(self, status: str) -> Style:
        if status == "failed":
            return self.get_component_rich_style("step-tree--failed", partial=True)
        if status == "running":
            return self.get_component_rich_style("step-tree--running", partial=True)
        return Style()

    def _label(self, store: RunStore, run_id: str) -> Text:
        run = store.runs[run_id]
        label = Text(f"{_STATUS.get(run.status, '?')} ", style=self._status_style(run.status))
        label.append(printable(run.name))
        details = []
        if run.duration is not None:
            details.append(f"{run.duration:.2f}s")
        if run.chunks:
            details.append(f"{run.chunks} tok")
        if run.error:
            details.append(f"{run.error.get('type')}: {run.error.get('message')}")
        if details:
            label.append(" " + printable(" · ".join(details)), style="dim")
        return label


def _superstep(store: RunStore, run_id: str) -> tuple[str, int] | None:
    """(graph run, superstep) when ``run_id`` is a graph's node run, else ``None``: a node
    run carries its node's name and a step, and its parent (the graph) is not that node."""
    run = store.runs[run_id]
    if run.step is None or run.run_type != "chain" or run.node != run.name or not run.parent_id:
        return None
    parent = store.runs.get(run.parent_id)
    if parent is None or parent.node == run.node:
        return None
    return run.parent_id, run.step


# --- state -------------------------------------------------------------------------------


class JsonPane(ScrollView, can_focus=True):
    """A value (the graph's state, a parser's partial object, a run's output) as
    indented JSON, the lines under the path that just changed marked; or, in diff mode,
    what changed from the step before. Only the lines on screen are rendered."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "json-pane--changed",
        "json-pane--added",
        "json-pane--removed",
        "json-pane--note",
    }
    DEFAULT_CSS = """
    JsonPane > .json-pane--changed { background: $warning 25%; }
    JsonPane > .json-pane--added { color: $success; }
    JsonPane > .json-pane--removed { color: $error; }
    JsonPane > .json-pane--note { color: $text-muted; text-style: italic; }
    """

    diff_mode: reactive[bool] = reactive(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lines: list[tuple[str, str]] = []
        self.snapshot: Snapshot | None = None

    def show(self, snapshot: Snapshot | None) -> None:
        if snapshot == self.snapshot:
            return
        self.snapshot = snapshot
        self._layout()

    def watch_diff_mode(self) -> None:
        self._layout()

    def _layout(self) -> None:
        snap = self.snapshot
        first_change = 0
        if snap is None:
            self._lines = [("note", "nothing to show yet: select a run, or wait for a state")]
            self.border_subtitle = None
        elif self.diff_mode:
            self._lines = _diff_lines(snap)
            self.border_subtitle = Text(f"{snap.title} · changes (d: whole value)")
        else:
            changed = {c.path for c in snap.changes() if c.kind != "removed"}
            self._lines = []
            for path, text in pretty_lines(snap.value):
                marked = bool(changed) and any(path[:k] in changed for k in range(len(path) + 1))
                if marked and not first_change:
                    first_change = len(self._lines)
                self._lines.append(("changed" if marked else "", text))
            hint = " · d: what changed" if snap.has_previous else ""
            self.border_subtitle = Text(snap.title + hint)
        widest = max((cell_len(t) for _, t in self._lines), default=0)
        self.virtual_size = Size(widest, len(self._lines))
        if first_change and not self.has_focus:
            # Bring the change into view unless the user is reading elsewhere in the pane.
            y = max(0, first_change - self.size.height // 3)
            self.call_after_refresh(self.scroll_to, y=y, animate=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        index = scroll_y + y
        if index >= len(self._lines):
            return Strip.blank(width, base)
        kind, text = self._lines[index]
        if not kind:
            return Strip([Segment(text, base)]).crop_extend(scroll_x, scroll_x + width, base)
        style = base + self.get_component_rich_style(f"json-pane--{kind}")
        # A marked line is marked across the whole pane, not just under its text.
        return Strip([Segment(text, style)]).crop_extend(scroll_x, scroll_x + width, style)

    def plain_text(self) -> str:
        return "\n".join(text for _, text in self._lines)


def _diff_lines(snap: Snapshot) -> list[tuple[str, str]]:
    if not snap.has_previous:
        return [("note", "no step before this one: this is where the value starts")]
    changes = snap.changes()
    if not changes:
        return [("note", "no change from the step before")]
    out: list[tuple[str, str]] = []
    for change in changes:
        where = path_text(change.path)
        if change.kind == "added":
            out.append(("added", f"+ {where}: {_short(change.new)}"))
        elif change.kind == "removed":
            out.append(("removed", f"- {where}: {_short(change.old)}"))
        else:
            out.append(("changed", f"~ {where}: {_short(change.old)} → {_short(change.new)}"))
    return out


def _short(value: Any) -> str:
    return one_line(value, limit=200)
