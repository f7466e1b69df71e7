"""``RunnableConfig``: the per-call settings that flow from a run into its children.

A config is a plain dict, as in LangChain. The one internal key is ``callbacks``: it
holds the ``RunParent`` that tells a child which event sink it reports to and which run
is its parent. A context variable carries the current child config, so a nested
``invoke()`` that was not handed ``config`` still joins the run (also inside worker
threads, which run in a copied context).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

if TYPE_CHECKING:
    from streamtui.runtime.tracing import RunParent

__all__ = [
    "RunnableConfig",
    "accepts_config",
    "ensure_config",
    "get_config",
    "iterate_async_sync",
    "merge_configs",
    "patch_config",
    "run_in_executor",
]

T = TypeVar("T")


class RunnableConfig(TypedDict, total=False):
    tags: list[str]
    metadata: dict[str, Any]
    callbacks: RunParent | None
    run_name: str
    run_id: str
    max_concurrency: int | None
    recursion_limit: int
    configurable: dict[str, Any]


_CONFIG_KEYS = frozenset(RunnableConfig.__annotations__)

child_config_var: contextvars.ContextVar[RunnableConfig | None] = contextvars.ContextVar(
    "streamtui_child_config", default=None
)


def ensure_config(config: RunnableConfig | None = None) -> RunnableConfig:
    """A fresh config: the ambient child config (if any) overlaid with ``config``."""
    ambient = child_config_var.get()
    if ambient is None and not config:
        return {"tags": [], "metadata": {}, "callbacks": None}
    out: RunnableConfig = {"tags": [], "metadata": {}, "callbacks": None}
    if ambient is not None:
        out.update(ambient)
        out["tags"] = list(out.get("tags") or [])
        out["metadata"] = dict(out.get("metadata") or {})
    if config:
        unknown = set(config) - _CONFIG_KEYS
        if unknown:
            raise TypeError(
                f"unknown config key(s) {sorted(unknown)}: a config takes {sorted(_CONFIG_KEYS)}"
            )
        callbacks = config.get("callbacks")
        if callbacks is not None and not hasattr(callbacks, "local_tag"):
            raise TypeError(
                "config['callbacks'] takes the run_manager.get_child() of a streamtui run; "
                "LangChain callback handlers are not supported: watch a run with "
                "astream_events instead"
            )
        for key, value in config.items():
            if value is not None:
                out[key] = value  # type: ignore[literal-required]
        out["tags"] = list(out.get("tags") or [])
        out["metadata"] = dict(out.get("metadata") or {})
    return out


@functools.lru_cache(maxsize=1024)
def accepts_config(func: Callable[..., Any]) -> bool:
    """Whether a user function takes ``config`` (by name, or through ``**kwargs``).

    Cached: it is asked on every call of a lambda or a tool.
    """
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "config" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def get_config() -> RunnableConfig | None:
    """The config of the run the caller is inside, or ``None`` outside any run."""
    return child_config_var.get()


def merge_configs(*configs: RunnableConfig | None) -> RunnableConfig:
    """Merge configs left to right: tags union (sorted), metadata and configurable
    update with the later value winning, other keys overwritten by later values."""
    base: RunnableConfig = {}
    for config in configs:
        if not config:
            continue
        for key, value in config.items():
            if key == "tags":
                base["tags"] = sorted(set(base.get("tags", [])) | set(value or []))
            elif key == "metadata":
                base["metadata"] = {**base.get("metadata", {}), **(value or {})}
            elif key == "configurable":
                base["configurable"] = {**base.get("configurable", {}), **(value or {})}
            elif key == "callbacks":
                if value is not None:
                    base["callbacks"] = value
            elif value is not None or key not in base:
                base[key] = value  # type: ignore[literal-required]
    return base


def patch_config(
    config: RunnableConfig,
    *,
    callbacks: RunParent | None = None,
    run_name: str | None = None,
    max_concurrency: int | None = None,
    configurable: dict[str, Any] | None = None,
) -> RunnableConfig:
    """A copy of ``config`` for a child: a new parent drops the run's own name and id."""
    out = config.copy()
    if callbacks is not None:
        out["callbacks"] = callbacks
        out.pop("run_name", None)
        out.pop("run_id", None)
    if run_name is not None:
        out["run_name"] = run_name
    if max_concurrency is not None:
        out["max_concurrency"] = max_concurrency
    if configurable is not None:
        out["configurable"] = {**out.get("configurable", {}), **configurable}
    return out


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _default_executor() -> Executor:
    """The pool for sync code called from async code (never blocked on from inside)."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(thread_name_prefix="streamtui")
    return _executor


async def run_in_executor(func: Callable[..., T], *args: Any) -> T:
    """Run a blocking function in a worker thread with the caller's context variables."""
    ctx = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_default_executor(), lambda: ctx.run(func, *args))


async def iterate_in_threads(iterator: Iterator[T]) -> AsyncIterator[T]:
    """Step a blocking iterator in worker threads, one ``next()`` at a time."""
    end = object()
    while (item := await run_in_executor(next, iterator, end)) is not end:
        yield item  # type: ignore[misc]


def run_coroutine_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run an async function to completion from sync code, inside or outside a loop.

    Inside a running loop (a sync API called from async code) the coroutine runs on a
    private loop in a worker thread, so the caller's loop is never re-entered.
    """
    ctx = contextvars.copy_context()

    async def main() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return ctx.run(asyncio.run, main())
    # A thread of its own: blocking on a shared pool from code that may itself be
    # running in that pool can exhaust it.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamtui-sync") as pool:
        return pool.submit(ctx.run, asyncio.run, main()).result()


def iterate_async_sync(factory: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """Consume an async iterator from sync code, item by item as it is produced.

    Outside a running loop it runs on a private loop in the caller's own thread, and only
    while the caller asks for the next item: nothing runs ahead of the consumer, leaving
    the ``for`` early stops it there, and Ctrl-C or ``SystemExit`` arrive as themselves.
    Inside a running loop (sync code called from async code) it runs on a private loop in
    a worker thread instead, so the caller's loop is never re-entered.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _iterate_here(factory)
    return _iterate_in_thread(factory)


def _iterate_here(factory: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    loop = asyncio.new_event_loop()
    iterator = factory()
    ctx = contextvars.copy_context()

    async def step() -> T:
        return await anext(iterator)  # type: ignore[arg-type]

    try:
        while True:
            # One task per item, all in one copied context: context variables set by the
            # iterator carry from one item to the next, as in a single task.
            try:
                item = loop.run_until_complete(loop.create_task(step(), context=ctx))
            except StopAsyncIteration:
                return
            yield item
    finally:
        try:
            loop.run_until_complete(_wind_down(iterator))
        finally:
            loop.close()


async def _wind_down(iterator: AsyncIterator[Any]) -> None:
    """Stop what is still running (an item in progress when the consumer left or Ctrl-C
    arrived), then close the iterator."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    closing = getattr(iterator, "aclose", None)
    if closing is not None:
        try:
            await closing()
        except RuntimeError:
            pass  # already closed by the cancellation above
    await asyncio.get_running_loop().shutdown_asyncgens()


def _iterate_in_thread(factory: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    items: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
    ctx = contextvars.copy_context()
    ready = threading.Event()
    handle: dict[str, Any] = {}

    async def pump() -> None:
        handle["loop"] = asyncio.get_running_loop()
        handle["task"] = asyncio.current_task()
        ready.set()
        try:
            async for item in factory():
                items.put((0, item))
        except BaseException as e:  # delivered to the consumer, raised there
            items.put((1, e))
            return
        items.put((2, None))

    thread = threading.Thread(
        target=ctx.run, args=(asyncio.run, pump()), name="streamtui-sync-stream", daemon=True
    )
    thread.start()
    finished = False
    try:
        while True:
            kind, item = items.get()
            if kind == 0:
                yield item
            elif kind == 1:
                finished = True
                raise item
            else:
                finished = True
                return
    finally:
        if not finished:  # the consumer stopped early: cancel the producer
            ready.wait()
            try:
                handle["loop"].call_soon_threadsafe(handle["task"].cancel)
            except RuntimeError:
                pass  # it had already finished and its loop is closed
        thread.join()
