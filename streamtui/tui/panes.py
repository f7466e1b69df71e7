"""The run header, the token pane, the step tree and the JSON pane.

Each draws from the store and is told what changed; none holds data of its own beyond
what it has already drawn. Model text goes in as plain text (``Log`` and ``rich.Text``
never read markup), so what a model writes cannot restyle the screen.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.widgets import Log, Static, Tree
from textual.widgets.tree import TreeNode

from streamtui.transcript import printable
from streamtui.tui.store import Changes, RunStore

__all__ = ["JsonPane", "RunHeader", "StepTree", "TokenPane"]

_SPARK = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[int], width: int = 20) -> str:
    tail = values[-width:]
    top = max(tail, default=0)
    if top == 0:
        return ""
    return "".join(_SPARK[min(8, round(v / top * 8))] for v in tail)


class RunHeader(Static):
    """Name, status, elapsed, time to first token, tokens/s with a sparkline, events,
    and anything coalesced away — always visible."""

    def show(self, name: str, store: RunStore) -> None:
        ttft = store.time_to_first_token()
        rate = store.token_rate()
        parts = [
            f"{name}",
            store.status,
            f"{store.elapsed():.1f}s",
            f"TTFT {ttft * 1000:.0f} ms" if ttft is not None else "TTFT -",
            f"{rate:.0f} tok/s {sparkline(store.tokens_per_second)}" if rate else "- tok/s",
            f"{len(store.parts)} parts",
        ]
        if store.merged:
            parts.append(f"{store.merged} chunks folded")
        self.update(Text(" · ".join(parts)))


class TokenPane(Log):
    """The streamed text of every model run, a header whenever the speaker changes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(highlight=False, **kwargs)
        self._written: dict[str, int] = {}
        self._speaker: str | None = None

    def show(self, store: RunStore, changes: Changes) -> None:
        for run_id in sorted(changes.token_runs, key=lambda r: store.runs[r].first_token or 0):
            run = store.runs[run_id]
            done = self._written.get(run_id, 0)
            pieces = run.text[done:]
            if not pieces:
                continue
            self._written[run_id] = len(run.text)
            if self._speaker != run_id:
                label = f"{run.node} · {run.name}" if run.node else run.name
                self.write(("\n" if self._speaker else "") + f"── {printable(label)} ──\n")
                self._speaker = run_id
            self.write(printable("".join(pieces)))


_STATUS = {"running": "…", "done": "✓", "failed": "✗", "interrupted": "■"}


class StepTree(Tree[str]):
    """The run tree; for graphs the node runs carry their superstep."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("run", **kwargs)
        self.show_root = False
        self._by_run: dict[str, TreeNode[str]] = {}

    def show(self, store: RunStore, changes: Changes) -> None:
        for run_id in changes.added_runs:
            run = store.runs[run_id]
            parent = self._by_run.get(run.parent_id) if run.parent_id else None
            node = (parent or self.root).add(self._label(store, run_id), data=run_id, expand=True)
            self._by_run[run_id] = node
        for run_id in changes.changed_runs | changes.token_runs:
            node = self._by_run.get(run_id)
            if node is not None:
                node.set_label(self._label(store, run_id))
                run = store.runs[run_id]
                if run.status == "done" and run.children and run.parent_id:
                    node.collapse()  # finished subtrees fold away; failed ones stay open

    def _label(self, store: RunStore, run_id: str) -> Text:
        run = store.runs[run_id]
        label = Text(f"{_STATUS.get(run.status, '?')} ")
        step = (
            f"[{run.step}] "
            if run.step is not None and run.run_type == "chain" and run.node
            else ""
        )
        label.append(printable(f"{step}{run.name}"))
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


class JsonPane(Static):
    """The graph's state (or a selected payload), pretty-printed."""

    def show_value(self, value: Any) -> None:
        try:
            text = json.dumps(value, indent=2, ensure_ascii=False, default=_plain)
        except (TypeError, ValueError):
            text = repr(value)
        self.update(Text(printable(text)))


def _plain(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    return dump() if callable(dump) else repr(obj)
