"""Custom events: user code reports its own progress as ``on_custom_event``."""

from __future__ import annotations

from typing import Any

from streamtui.runtime.config import RunnableConfig, child_config_var, ensure_config

__all__ = ["adispatch_custom_event", "dispatch_custom_event"]


def dispatch_custom_event(name: str, data: Any, *, config: RunnableConfig | None = None) -> None:
    """Emit ``on_custom_event`` from inside a running runnable.

    The event belongs to the run that called this (its ``run_id``) and carries that
    run's inherited tags and metadata. Outside any run it is an error, as in LangChain.
    """
    if config is None and child_config_var.get() is None:
        raise RuntimeError(
            f"dispatch_custom_event({name!r}) was called outside a runnable: call it from "
            "code that a runnable runs, or pass that code's config="
        )
    config = ensure_config(config)
    parent = config.get("callbacks")
    if parent is None or parent.run is None:
        return  # nobody is listening
    run = parent.run
    sink = parent.sink
    tags = list(config.get("tags") or [])
    if not sink.filter.accepts(name, name, tags):
        return
    sink.put(
        {
            "event": "on_custom_event",
            "name": name,
            "run_id": run.run_id,
            "parent_ids": run.parent_ids,
            "tags": tags,
            "metadata": config.get("metadata") or {},
            "data": data,
        }
    )


async def adispatch_custom_event(
    name: str, data: Any, *, config: RunnableConfig | None = None
) -> None:
    """The async spelling of ``dispatch_custom_event`` (same behaviour)."""
    dispatch_custom_event(name, data, config=config)
