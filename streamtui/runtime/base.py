"""Runnables: the composable unit, with LangChain's names and streaming semantics.

Every runnable has two ways to run. The *invoke* path (``invoke``/``ainvoke``) takes
a whole input and returns a whole output; the *transform* path (``transform``/
``atransform``) maps a stream of input chunks to a stream of output chunks, and
``stream``/``astream`` are the transform path over a one-chunk input. Sync and async
share the run bookkeeping (``_StreamRun``, ``_call``); only the loops differ.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Generic, TypeVar, cast

from streamtui.runtime.config import (
    RunnableConfig,
    accepts_config,
    child_config_var,
    ensure_config,
    merge_configs,
    run_coroutine_sync,
    run_in_executor,
)
from streamtui.runtime.streams import Accumulator, AddableDict, aiter_of, atee, locked_tee
from streamtui.runtime.tracing import NO_INPUT, Run, child_config, start_run

__all__ = [
    "Runnable",
    "RunnableAssign",
    "RunnableBinding",
    "RunnableGenerator",
    "RunnableLambda",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnableSequence",
    "chain",
    "coerce_to_runnable",
]

Input = TypeVar("Input")
Output = TypeVar("Output")

_END: Any = object()

ChunkBody = Callable[[Any, RunnableConfig, "Run | None"], Any]


class Runnable(Generic[Input, Output]):
    """A unit of work that can be invoked, batched, streamed and composed with ``|``."""

    name: str | None = None
    run_type: str = "chain"

    # --- naming -------------------------------------------------------------------

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        name = name or self.name or type(self).__name__
        return f"{name}{suffix}" if suffix else name

    # --- invoke path --------------------------------------------------------------

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        raise NotImplementedError(f"{type(self).__name__} does not implement invoke()")

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Defaults to ``invoke`` in a worker thread, so blocking code never stalls the loop."""
        return await run_in_executor(self.invoke, input, config, **kwargs)

    def _call(
        self,
        body: Callable[[Any, RunnableConfig, Run | None], Any],
        input: Any,
        config: RunnableConfig | None,
        run_type: str | None = None,
        inputs_as: Any = NO_INPUT,
    ) -> Any:
        """Run ``body`` as this runnable's run: start/end/error events and ambient config.

        ``inputs_as`` is what the events report as input when it differs from ``input``.
        """
        config = ensure_config(config)
        run = start_run(
            config,
            self.get_name(),
            run_type or self.run_type,
            input if inputs_as is NO_INPUT else inputs_as,
        )
        token = child_config_var.set(child_config(config, run))
        try:
            output = body(input, config, run)
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        finally:
            child_config_var.reset(token)
        if run is not None:
            run.end(output)
        return output

    async def _acall(
        self,
        body: Callable[[Any, RunnableConfig, Run | None], Awaitable[Any]],
        input: Any,
        config: RunnableConfig | None,
        run_type: str | None = None,
        inputs_as: Any = NO_INPUT,
    ) -> Any:
        config = ensure_config(config)
        run = start_run(
            config,
            self.get_name(),
            run_type or self.run_type,
            input if inputs_as is NO_INPUT else inputs_as,
        )
        token = child_config_var.set(child_config(config, run))
        try:
            output = await body(input, config, run)
        except BaseException as e:
            if run is not None:
                run.error(e)
            raise
        finally:
            child_config_var.reset(token)
        if run is not None:
            run.end(output)
        return output

    def batch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        """Invoke on each input in worker threads (at most ``max_concurrency`` at once)."""
        if not inputs:
            return []
        configs = _configs_for(config, len(inputs))

        def one(pair: tuple[Input, RunnableConfig]) -> Any:
            try:
                return self.invoke(pair[0], pair[1], **kwargs)
            except Exception as e:
                if return_exceptions:
                    return e
                raise

        if len(inputs) == 1:
            return [one((inputs[0], configs[0]))]
        limit = configs[0].get("max_concurrency") or len(inputs)
        with ThreadPoolExecutor(max_workers=limit) as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, one, pair)
                for pair in zip(inputs, configs)
            ]
            return [f.result() for f in futures]

    async def abatch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        """Invoke concurrently on each input (at most ``max_concurrency`` at once)."""
        if not inputs:
            return []
        configs = _configs_for(config, len(inputs))
        limit = configs[0].get("max_concurrency")
        semaphore = asyncio.Semaphore(limit) if limit else None

        async def one(value: Input, cfg: RunnableConfig) -> Any:
            try:
                if semaphore is None:
                    return await self.ainvoke(value, cfg, **kwargs)
                async with semaphore:
                    return await self.ainvoke(value, cfg, **kwargs)
            except Exception as e:
                if return_exceptions:
                    return e
                raise

        return list(await asyncio.gather(*(one(v, c) for v, c in zip(inputs, configs))))

    # --- transform path -----------------------------------------------------------

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream output chunks. A runnable that cannot stream yields its whole output."""
        yield self.invoke(input, config, **kwargs)

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        yield await self.ainvoke(input, config, **kwargs)

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Consume a stream of input chunks. By default: add them up, then ``stream``."""
        acc = Accumulator()
        for chunk in input:
            acc.add(chunk)
        if not acc.empty:
            yield from self.stream(acc.value(), config, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        acc = Accumulator()
        async for chunk in input:
            acc.add(chunk)
        if not acc.empty:
            async for out in self.astream(acc.value(), config, **kwargs):
                yield out

    def _transform_traced(
        self,
        input: Iterator[Any],
        config: RunnableConfig | None,
        body: ChunkBody,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """The transform path as one run: starts at the first input chunk, streams each
        output chunk as an event, ends with the added-up input and output.

        Untraced (nobody listening), the body's own iterator is returned: no extra hop.
        """
        config = ensure_config(config)
        if config.get("callbacks") is None:
            return body(input, config, None, **kwargs)  # type: ignore[no-any-return]
        return self._traced(input, config, body, kwargs)

    def _traced(
        self,
        input: Iterator[Any],
        config: RunnableConfig,
        body: ChunkBody,
        kwargs: dict[str, Any],
    ) -> Iterator[Any]:
        first = next(input, _END)
        state = _StreamRun(self, config)
        run = state.run
        report, keep = run.stream, state.outputs.add  # type: ignore[union-attr]
        source = state.record(first, input)
        try:
            for chunk in body(source, config, run, **kwargs):
                report(chunk)
                keep(chunk)
                yield chunk
            for _ in source:
                pass
        except BaseException as e:
            state.fail(e)
            raise
        state.finish()

    def _atransform_traced(
        self,
        input: AsyncIterator[Any],
        config: RunnableConfig | None,
        body: ChunkBody,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        config = ensure_config(config)
        if config.get("callbacks") is None:
            return body(input, config, None, **kwargs)  # type: ignore[no-any-return]
        return self._atraced(input, config, body, kwargs)

    async def _atraced(
        self,
        input: AsyncIterator[Any],
        config: RunnableConfig,
        body: ChunkBody,
        kwargs: dict[str, Any],
    ) -> AsyncIterator[Any]:
        first = await anext(input, _END)
        state = _StreamRun(self, config)
        run = state.run
        report, keep = run.stream, state.outputs.add  # type: ignore[union-attr]
        source = state.arecord(first, input)
        gen = body(source, config, run, **kwargs)
        try:
            async for chunk in gen:
                report(chunk)
                keep(chunk)
                yield chunk
            async for _ in source:
                pass
        except BaseException as e:
            state.fail(e)
            raise
        finally:
            await gen.aclose()
        state.finish()

    def _map_traced(
        self, input: Iterator[Any], config: RunnableConfig | None, fn: Callable[[Any], Any]
    ) -> Iterator[Any]:
        """The transform path of a chunk-by-chunk step (a parser): one loop, no inner
        generators. Same events as ``_transform_traced``."""
        config = ensure_config(config)
        if config.get("callbacks") is None:
            return map(fn, input)
        return self._map_traced_run(input, config, fn)

    def _map_traced_run(
        self, input: Iterator[Any], config: RunnableConfig, fn: Callable[[Any], Any]
    ) -> Iterator[Any]:
        state: _StreamRun | None = None
        try:
            for chunk in input:
                if state is None:
                    state = _StreamRun(self, config)
                    take, report, keep = state.take_fns()
                take(chunk)
                out = fn(chunk)
                report(out)
                keep(out)
                yield out
        except BaseException as e:
            if state is not None:
                state.fail(e)
            raise
        (state or _StreamRun(self, config)).finish()

    def _amap_traced(
        self, input: AsyncIterator[Any], config: RunnableConfig | None, fn: Callable[[Any], Any]
    ) -> AsyncIterator[Any]:
        config = ensure_config(config)
        if config.get("callbacks") is None:
            return _amap(fn, input)
        return self._amap_traced_run(input, config, fn)

    async def _amap_traced_run(
        self, input: AsyncIterator[Any], config: RunnableConfig, fn: Callable[[Any], Any]
    ) -> AsyncIterator[Any]:
        state: _StreamRun | None = None
        try:
            async for chunk in input:
                if state is None:
                    state = _StreamRun(self, config)
                    take, report, keep = state.take_fns()
                take(chunk)
                out = fn(chunk)
                report(out)
                keep(out)
                yield out
        except BaseException as e:
            if state is not None:
                state.fail(e)
            raise
        (state or _StreamRun(self, config)).finish()

    # --- events -------------------------------------------------------------------

    def astream_events(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        version: str = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every run's start, stream and end events while this runnable streams."""
        if version != "v2":
            raise ValueError(f'only version="v2" event streams are supported, got {version!r}')
        from streamtui.runtime.event_stream import astream_events

        return astream_events(
            self,
            input,
            config,
            include_names=include_names,
            include_types=include_types,
            include_tags=include_tags,
            exclude_names=exclude_names,
            exclude_types=exclude_types,
            exclude_tags=exclude_tags,
            **kwargs,
        )

    # --- composition --------------------------------------------------------------

    def __or__(self, other: Any) -> RunnableSequence:
        return RunnableSequence(self, coerce_to_runnable(other))

    def __ror__(self, other: Any) -> RunnableSequence:
        return RunnableSequence(coerce_to_runnable(other), self)

    def pipe(self, *others: Any, name: str | None = None) -> RunnableSequence:
        return RunnableSequence(self, *others, name=name)

    def with_config(self, config: RunnableConfig | None = None, **kwargs: Any) -> RunnableBinding:
        """A copy that always runs with these config values (tags, metadata, run_name...)."""
        return RunnableBinding(self, config=cast(RunnableConfig, {**(config or {}), **kwargs}))

    def bind(self, **kwargs: Any) -> RunnableBinding:
        """A copy that always passes these keyword arguments (e.g. ``stop`` to a model)."""
        return RunnableBinding(self, kwargs=kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _configs_for(
    config: RunnableConfig | Sequence[RunnableConfig] | None, n: int
) -> list[RunnableConfig]:
    if isinstance(config, Sequence):
        if len(config) != n:
            raise ValueError(f"batch got {n} inputs but {len(config)} configs")
        return [ensure_config(c) for c in config]
    base = ensure_config(config)
    configs = []
    for i in range(n):
        c = base.copy()
        if i > 0:
            c.pop("run_id", None)  # a run id names one run
        configs.append(c)
    return configs


class _StreamRun:
    """One transform-path run: lazy start, recorded input, streamed and added-up output."""

    __slots__ = ("inputs", "outputs", "run")

    def __init__(self, runnable: Runnable[Any, Any], config: RunnableConfig) -> None:
        self.run = start_run(config, runnable.get_name(), runnable.run_type, NO_INPUT)
        self.inputs = Accumulator()
        self.outputs = Accumulator()

    def take_fns(
        self,
    ) -> tuple[Callable[[Any], None], Callable[[Any], None], Callable[[Any], None]]:
        """Bound methods for the per-chunk loop: record input, report and keep output."""
        return self.inputs.add, self.run.stream, self.outputs.add  # type: ignore[union-attr]

    def record(self, first: Any, rest: Iterator[Any]) -> Iterator[Any]:
        add = self.inputs.add
        if first is _END:
            return
        add(first)
        yield first
        for chunk in rest:
            add(chunk)
            yield chunk

    async def arecord(self, first: Any, rest: AsyncIterator[Any]) -> AsyncIterator[Any]:
        add = self.inputs.add
        if first is _END:
            return
        add(first)
        yield first
        async for chunk in rest:
            add(chunk)
            yield chunk

    def finish(self) -> None:
        run = self.run
        if run is not None:
            run.end(self.outputs.value(), self.inputs.value(NO_INPUT))

    def fail(self, error: BaseException) -> None:
        if self.run is not None:
            self.run.error(error, self.inputs.value(NO_INPUT))


async def _amap(fn: Callable[[Any], Any], input: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for chunk in input:
        yield fn(chunk)


class StreamingRunnable(Runnable[Input, Output]):
    """A runnable whose transform path is one run over the input stream.

    Subclasses write ``_body`` (sync) and ``_abody`` (async): given the input chunks, the
    runnable's config and its run (``None`` when nobody listens), yield output chunks.
    """

    def _body(
        self, input: Iterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement _body()")

    def _abody(
        self, input: AsyncIterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement _abody()")

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        return self._transform_traced(input, config, self._body, **kwargs)

    def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        return self._atransform_traced(input, config, self._abody, **kwargs)

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        return self.transform(iter((input,)), config, **kwargs)

    def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        return self.atransform(aiter_of((input,)), config, **kwargs)


# --- sequence ---------------------------------------------------------------------


class RunnableSequence(StreamingRunnable[Any, Any]):
    """``a | b | c``: each step's output is the next step's input; streams end to end."""

    def __init__(self, *steps: Any, name: str | None = None) -> None:
        flat: list[Runnable[Any, Any]] = []
        for step in steps:
            step = coerce_to_runnable(step)
            if isinstance(step, RunnableSequence) and step.name is None:
                flat.extend(step.steps)
            else:
                flat.append(step)
        if len(flat) < 2:
            raise ValueError(f"a RunnableSequence needs at least 2 steps, got {len(flat)}")
        self.steps = flat
        self.name = name

    @property
    def first(self) -> Runnable[Any, Any]:
        return self.steps[0]

    @property
    def last(self) -> Runnable[Any, Any]:
        return self.steps[-1]

    def __or__(self, other: Any) -> RunnableSequence:
        return RunnableSequence(*self.steps, coerce_to_runnable(other), name=self.name)

    def __ror__(self, other: Any) -> RunnableSequence:
        return RunnableSequence(coerce_to_runnable(other), *self.steps, name=self.name)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        def body(value: Any, config: RunnableConfig, run: Run | None) -> Any:
            for i, step in enumerate(self.steps):
                cfg = child_config(config, run, f"seq:step:{i + 1}")
                value = step.invoke(value, cfg, **kwargs) if i == 0 else step.invoke(value, cfg)
            return value

        return self._call(body, input, config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        async def body(value: Any, config: RunnableConfig, run: Run | None) -> Any:
            for i, step in enumerate(self.steps):
                cfg = child_config(config, run, f"seq:step:{i + 1}")
                if i == 0:
                    value = await step.ainvoke(value, cfg, **kwargs)
                else:
                    value = await step.ainvoke(value, cfg)
            return value

        return await self._acall(body, input, config)

    def _body(self, input: Any, config: RunnableConfig, run: Run | None, **kwargs: Any) -> Any:
        pipeline = input
        for i, step in enumerate(self.steps):
            cfg = child_config(config, run, f"seq:step:{i + 1}")
            pipeline = (
                step.transform(pipeline, cfg, **kwargs) if i == 0 else step.transform(pipeline, cfg)
            )
        return pipeline

    def _abody(self, input: Any, config: RunnableConfig, run: Run | None, **kwargs: Any) -> Any:
        pipeline = input
        for i, step in enumerate(self.steps):
            cfg = child_config(config, run, f"seq:step:{i + 1}")
            if i == 0:
                pipeline = step.atransform(pipeline, cfg, **kwargs)
            else:
                pipeline = step.atransform(pipeline, cfg)
        return pipeline

    def __repr__(self) -> str:
        return "\n| ".join(repr(s) for s in self.steps)


# --- parallel ---------------------------------------------------------------------


class RunnableParallel(StreamingRunnable[Any, dict[str, Any]]):
    """Run several runnables on the same input; the output maps each key to its result."""

    def __init__(
        self,
        steps__: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        merged = {**(steps__ or {}), **kwargs}
        self.steps__ = {k: coerce_to_runnable(v) for k, v in merged.items()}

    @property
    def steps(self) -> dict[str, Runnable[Any, Any]]:
        return self.steps__

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        name = name or self.name or f"RunnableParallel<{','.join(self.steps__)}>"
        return f"{name}{suffix}" if suffix else name

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        def body(value: Any, config: RunnableConfig, run: Run | None) -> dict[str, Any]:
            steps = list(self.steps__.items())
            configs = [child_config(config, run, f"map:key:{k}") for k, _ in steps]
            if len(steps) == 1:
                return {steps[0][0]: steps[0][1].invoke(value, configs[0])}
            with _branch_pool(config, len(steps)) as pool:
                futures = [
                    pool.submit(contextvars.copy_context().run, step.invoke, value, cfg)
                    for (_, step), cfg in zip(steps, configs)
                ]
                return {k: f.result() for (k, _), f in zip(steps, futures)}

        return self._call(body, input, config)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        async def body(value: Any, config: RunnableConfig, run: Run | None) -> dict[str, Any]:
            steps = list(self.steps__.items())
            limit = config.get("max_concurrency")
            gate = asyncio.Semaphore(limit) if limit else None

            async def branch(key: str, step: Runnable[Any, Any]) -> Any:
                cfg = child_config(config, run, f"map:key:{key}")
                if gate is None:
                    return await step.ainvoke(value, cfg)
                async with gate:
                    return await step.ainvoke(value, cfg)

            results = await asyncio.gather(*(branch(k, step) for k, step in steps))
            return {k: r for (k, _), r in zip(steps, results)}

        return await self._acall(body, input, config)

    def _body(
        self, input: Iterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> Any:
        steps = list(self.steps__.items())
        copies = locked_tee(input, len(steps))
        gens = [
            (k, step.transform(copy, child_config(config, run, f"map:key:{k}")))
            for (k, step), copy in zip(steps, copies)
        ]
        if len(gens) == 1:
            key, gen = gens[0]
            for chunk in gen:
                yield AddableDict({key: chunk})
            return
        # Branches run in threads so one slow branch does not hold up the others; each
        # branch has its own context copy (a context cannot be entered twice at once).
        contexts = {k: contextvars.copy_context() for k, _ in gens}
        with _branch_pool(config, len(gens)) as pool:
            pending: dict[Future[Any], tuple[str, Iterator[Any]]] = {
                pool.submit(contexts[k].run, next, gen, _END): (k, gen) for k, gen in gens
            }
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        key, gen = pending.pop(fut)
                        chunk = fut.result()
                        if chunk is _END:
                            continue
                        yield AddableDict({key: chunk})
                        pending[pool.submit(contexts[key].run, next, gen, _END)] = (key, gen)
            finally:
                for fut in pending:
                    fut.cancel()

    async def _abody(
        self, input: AsyncIterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        steps = list(self.steps__.items())
        if len(steps) == 1:
            # One branch needs no tee and no task per chunk.
            key, step = steps[0]
            only = step.atransform(input, child_config(config, run, f"map:key:{key}"))
            try:
                async for chunk in only:
                    yield AddableDict({key: chunk})
            finally:
                close = getattr(only, "aclose", None)
                if close is not None:
                    await close()
            return
        copies = atee(input, len(steps))
        gens = [
            (k, step.atransform(copy, child_config(config, run, f"map:key:{k}")))
            for (k, step), copy in zip(steps, copies)
        ]
        tasks: dict[asyncio.Future[Any], tuple[str, AsyncIterator[Any]]] = {
            asyncio.ensure_future(anext(gen, _END)): (k, gen) for k, gen in gens
        }
        try:
            while tasks:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    key, gen = tasks.pop(task)
                    chunk = task.result()
                    if chunk is _END:
                        continue
                    yield AddableDict({key: chunk})
                    tasks[asyncio.ensure_future(anext(gen, _END))] = (key, gen)
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            for _, gen in gens:
                await gen.aclose()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: {v!r}" for k, v in self.steps__.items())
        return "{" + inner + "}"


def _branch_pool(config: RunnableConfig, branches: int) -> ThreadPoolExecutor:
    """A pool for one parallel call, sized by ``max_concurrency``.

    Per call, not shared: a branch that itself runs a parallel step blocks its thread on
    the inner pool, which with one shared bounded pool can deadlock.
    """
    limit = config.get("max_concurrency") or branches
    return ThreadPoolExecutor(max_workers=min(limit, branches), thread_name_prefix="streamtui")


RunnableMap = RunnableParallel


# --- lambda -----------------------------------------------------------------------


def _is_async_callable(func: Any) -> bool:
    """An ``async def`` function, or an object whose ``__call__`` is one."""
    call = type(func).__dict__.get("__call__") if not inspect.isfunction(func) else None
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)


def _func_name(func: Callable[..., Any]) -> str | None:
    name = getattr(func, "__name__", None)
    return None if name in (None, "<lambda>") else name


class RunnableLambda(StreamingRunnable[Input, Output]):
    """Wrap a function (sync or async, optionally taking ``config``) as a runnable.

    On the transform path the whole input is added up first and the function called
    once; a generator function streams what it yields. A function returning a runnable
    has that runnable run on the input.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        afunc: Callable[..., Awaitable[Any]] | None = None,
        name: str | None = None,
    ) -> None:
        if _is_async_callable(func) or inspect.isasyncgenfunction(func):
            afunc, func = func, None  # type: ignore[assignment]
        self.func = func
        self.afunc = afunc
        source = func or afunc
        self.name = name or (_func_name(source) if source is not None else None)
        self._func_config = func is not None and accepts_config(func)
        self._afunc_config = afunc is not None and accepts_config(afunc)

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        return super().get_name(suffix, name=name or self.name or "RunnableLambda")

    def _call_func(self, value: Any, config: RunnableConfig) -> Any:
        func = self.func
        if func is None:
            afunc = self.afunc
            assert afunc is not None
            if inspect.isasyncgenfunction(afunc):
                return run_coroutine_sync(lambda: _acollect(self._call_afunc(value, config)))
            return run_coroutine_sync(lambda: self._call_afunc(value, config))
        return func(value, config=config) if self._func_config else func(value)

    def _call_afunc(self, value: Any, config: RunnableConfig) -> Any:
        afunc = self.afunc
        if afunc is None:
            return run_in_executor(self._call_func, value, config)
        return afunc(value, config=config) if self._afunc_config else afunc(value)

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        def body(value: Any, config: RunnableConfig, run: Run | None) -> Any:
            cfg = child_config(config, run)
            output = self._call_func(value, cfg)
            if inspect.isgenerator(output):
                acc = Accumulator()
                for chunk in output:
                    acc.add(chunk)
                output = acc.value()
            if isinstance(output, Runnable):
                output = output.invoke(value, cfg)
            return output

        return self._call(body, input, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        async def body(value: Any, config: RunnableConfig, run: Run | None) -> Any:
            cfg = child_config(config, run)
            if self.afunc is not None and inspect.isasyncgenfunction(self.afunc):
                output = await _acollect(self._call_afunc(value, cfg))
            else:
                output = await self._call_afunc(value, cfg)
            if isinstance(output, Runnable):
                output = await output.ainvoke(value, cfg)
            return output

        return await self._acall(body, input, config)

    def _body(
        self, input: Iterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> Iterator[Any]:
        acc = Accumulator()
        for chunk in input:
            acc.add(chunk)
        value = acc.value()
        cfg = child_config(config, run)
        token = child_config_var.set(cfg)
        try:
            output = self._call_func(value, cfg)
        finally:
            child_config_var.reset(token)
        if isinstance(output, Runnable):
            yield from output.stream(value, cfg)
        elif inspect.isgenerator(output):
            yield from _iterate_in_context(output, cfg)
        else:
            yield output

    async def _abody(
        self, input: AsyncIterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        acc = Accumulator()
        async for chunk in input:
            acc.add(chunk)
        value = acc.value()
        cfg = child_config(config, run)
        afunc = self.afunc
        if afunc is not None and inspect.isasyncgenfunction(afunc):
            async for chunk in _aiterate_in_context(self._call_afunc(value, cfg), cfg):
                yield chunk
            return
        if afunc is None and inspect.isgeneratorfunction(self.func):
            gen = await run_in_executor(self._call_func_in_context, value, cfg)
            while (chunk := await run_in_executor(_next_in_context, gen, cfg)) is not _END:
                yield chunk
            return
        token = child_config_var.set(cfg)
        try:
            output = await self._call_afunc(value, cfg)
        finally:
            child_config_var.reset(token)
        if isinstance(output, Runnable):
            async for chunk in output.astream(value, cfg):
                yield chunk
        else:
            yield output

    def _call_func_in_context(self, value: Any, cfg: RunnableConfig) -> Any:
        token = child_config_var.set(cfg)
        try:
            return self._call_func(value, cfg)
        finally:
            child_config_var.reset(token)

    def __repr__(self) -> str:
        return f"RunnableLambda({self.get_name()})"


async def _acollect(gen: AsyncIterator[Any]) -> Any:
    acc = Accumulator()
    async for chunk in gen:
        acc.add(chunk)
    return acc.value()


def _next_in_context(gen: Iterator[Any], cfg: RunnableConfig) -> Any:
    token = child_config_var.set(cfg)
    try:
        return next(gen, _END)
    finally:
        child_config_var.reset(token)


def _iterate_in_context(gen: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
    """Step a user generator with its run's config as the ambient config.

    Set around each step, not around the loop: while suspended, the consumer's own
    code must not see this run's config.
    """
    while (chunk := _next_in_context(gen, cfg)) is not _END:
        yield chunk


async def _aiterate_in_context(gen: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
    try:
        while True:
            token = child_config_var.set(cfg)
            try:
                chunk = await gen.__anext__()
            except StopAsyncIteration:
                return
            finally:
                child_config_var.reset(token)
            yield chunk
    finally:
        await gen.aclose()  # type: ignore[attr-defined]


def chain(func: Callable[..., Any]) -> RunnableLambda[Any, Any]:
    """Decorator: turn a function into a runnable named after it."""
    return RunnableLambda(func)


# --- generator --------------------------------------------------------------------


class RunnableGenerator(StreamingRunnable[Input, Output]):
    """Wrap a generator that transforms a stream (``Iterator[In] -> Iterator[Out]``)."""

    def __init__(
        self,
        transform: Callable[..., Any],
        atransform: Callable[..., AsyncIterator[Any]] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        if inspect.isasyncgenfunction(transform):
            atransform, transform = transform, None  # type: ignore[assignment]
        if transform is None and atransform is None:
            raise TypeError("RunnableGenerator needs a generator function")
        self._transform = transform
        self._atransform = atransform
        source = transform or atransform
        self.name = name or _func_name(source) or "RunnableGenerator"  # type: ignore[arg-type]

    def _body(
        self, input: Iterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> Iterator[Any]:
        cfg = child_config(config, run)
        if self._transform is None:
            raise TypeError(f"{self.name} has only an async generator: use astream/ainvoke")
        func = self._transform
        gen = func(input, config=cfg) if accepts_config(func) else func(input)
        yield from _iterate_in_context(gen, cfg)

    def _abody(
        self, input: AsyncIterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        cfg = child_config(config, run)
        func = self._atransform
        if func is None:
            return _sync_gen_in_threads(self._transform, input, cfg)  # type: ignore[arg-type]
        gen = func(input, config=cfg) if accepts_config(func) else func(input)
        return _aiterate_in_context(gen, cfg)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        acc = Accumulator()
        for chunk in self.stream(input, config):
            acc.add(chunk)
        return acc.value()

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        acc = Accumulator()
        async for chunk in self.astream(input, config):
            acc.add(chunk)
        return acc.value()


async def _sync_gen_in_threads(
    func: Callable[..., Iterator[Any]], input: AsyncIterator[Any], cfg: RunnableConfig
) -> AsyncIterator[Any]:
    # A sync transform on the async path: gather the input, then step it in threads.
    items = [chunk async for chunk in input]
    gen = func(iter(items), config=cfg) if accepts_config(func) else func(iter(items))
    while (chunk := await run_in_executor(_next_in_context, gen, cfg)) is not _END:
        yield chunk


# --- passthrough ------------------------------------------------------------------


class RunnablePassthrough(StreamingRunnable[Any, Any]):
    """Pass the input through unchanged (optionally calling ``func`` on it on the side)."""

    def __init__(self, func: Callable[..., Any] | None = None, *, name: str | None = None) -> None:
        self.func = func
        self.name = name

    @classmethod
    def assign(cls, **kwargs: Any) -> RunnableAssign:
        """Pass a dict through, adding keys computed from it by ``kwargs``' runnables."""
        return RunnableAssign(RunnableParallel(kwargs))

    def _side_effect(self, value: Any, cfg: RunnableConfig) -> None:
        if self.func is not None:
            if accepts_config(self.func):
                self.func(value, config=cfg)
            else:
                self.func(value)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        def body(value: Any, config: RunnableConfig, run: Run | None) -> Any:
            self._side_effect(value, child_config(config, run))
            return value

        return self._call(body, input, config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        async def body(value: Any, config: RunnableConfig, run: Run | None) -> Any:
            self._side_effect(value, child_config(config, run))
            return value

        return await self._acall(body, input, config)

    def _body(
        self, input: Iterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> Iterator[Any]:
        acc = Accumulator() if self.func is not None else None
        for chunk in input:
            if acc is not None:
                acc.add(chunk)
            yield chunk
        if acc is not None and not acc.empty:
            self._side_effect(acc.value(), child_config(config, run))

    async def _abody(
        self, input: AsyncIterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        acc = Accumulator() if self.func is not None else None
        async for chunk in input:
            if acc is not None:
                acc.add(chunk)
            yield chunk
        if acc is not None and not acc.empty:
            self._side_effect(acc.value(), child_config(config, run))


class RunnableAssign(StreamingRunnable[dict[str, Any], dict[str, Any]]):
    """``RunnablePassthrough.assign(...)``: the input dict plus the mapper's new keys."""

    def __init__(self, mapper: RunnableParallel) -> None:
        self.mapper = mapper

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        name = name or self.name or f"RunnableAssign<{','.join(self.mapper.steps__)}>"
        return f"{name}{suffix}" if suffix else name

    @staticmethod
    def _check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise TypeError(
                f"RunnablePassthrough.assign() needs a dict input, got {type(value).__name__}"
            )
        return value

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        def body(value: Any, config: RunnableConfig, run: Run | None) -> Any:
            value = self._check(value)
            return {**value, **self.mapper.invoke(value, child_config(config, run))}

        return self._call(body, input, config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        async def body(value: Any, config: RunnableConfig, run: Run | None) -> Any:
            value = self._check(value)
            return {**value, **await self.mapper.ainvoke(value, child_config(config, run))}

        return await self._acall(body, input, config)

    def _body(
        self, input: Iterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> Iterator[Any]:
        chunks = [self._check(c) for c in input]
        keys = self.mapper.steps__.keys()
        for chunk in chunks:
            filtered = AddableDict({k: v for k, v in chunk.items() if k not in keys})
            if filtered:
                yield filtered
        yield from self.mapper.transform(iter(chunks), child_config(config, run))

    async def _abody(
        self, input: AsyncIterator[Any], config: RunnableConfig, run: Run | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        for_pass, for_map = atee(input, 2)
        mapped = self.mapper.atransform(for_map, child_config(config, run))
        first = asyncio.ensure_future(anext(mapped, _END))
        try:
            keys = self.mapper.steps__.keys()
            async for chunk in for_pass:
                filtered = AddableDict(
                    {k: v for k, v in self._check(chunk).items() if k not in keys}
                )
                if filtered:
                    yield filtered
            head = await first
            if head is not _END:
                yield head
                async for chunk in mapped:
                    yield chunk
        finally:
            if not first.done():
                first.cancel()
                # The task is inside the mapper's generator; it must finish unwinding
                # before that generator can be closed.
                await asyncio.gather(first, return_exceptions=True)
            await mapped.aclose()  # type: ignore[attr-defined]


# --- binding ----------------------------------------------------------------------


class RunnableBinding(Runnable[Input, Output]):
    """A runnable with config and keyword arguments fixed (``with_config``, ``bind``)."""

    def __init__(
        self,
        bound: Runnable[Input, Output],
        *,
        config: RunnableConfig | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(bound, RunnableBinding):
            config = merge_configs(bound.config, config)
            kwargs = {**bound.kwargs, **(kwargs or {})}
            bound = bound.bound
        self.bound = bound
        self.config: RunnableConfig = config or {}
        self.kwargs: dict[str, Any] = kwargs or {}

    @property
    def name(self) -> str | None:  # type: ignore[override]
        return self.bound.name

    @property
    def run_type(self) -> str:  # type: ignore[override]
        return self.bound.run_type

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        return self.bound.get_name(suffix, name=name)

    def _merged(self, config: RunnableConfig | None) -> RunnableConfig:
        # Each side is completed from the ambient config first, as LangChain does, so
        # bound tags add to the inherited ones instead of replacing them.
        if config is None:
            return merge_configs(ensure_config(self.config))
        return merge_configs(ensure_config(self.config), ensure_config(config))

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        return self.bound.invoke(input, self._merged(config), **{**self.kwargs, **kwargs})

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        return await self.bound.ainvoke(input, self._merged(config), **{**self.kwargs, **kwargs})

    def batch(self, inputs: Sequence[Input], config: Any = None, **kwargs: Any) -> list[Output]:
        if isinstance(config, Sequence):
            config = [self._merged(c) for c in config]
        else:
            config = self._merged(config)
        return self.bound.batch(inputs, config, **{**self.kwargs, **kwargs})

    async def abatch(
        self, inputs: Sequence[Input], config: Any = None, **kwargs: Any
    ) -> list[Output]:
        if isinstance(config, Sequence):
            config = [self._merged(c) for c in config]
        else:
            config = self._merged(config)
        return await self.bound.abatch(inputs, config, **{**self.kwargs, **kwargs})

    def stream(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.bound.stream(input, self._merged(config), **{**self.kwargs, **kwargs})

    def astream(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.bound.astream(input, self._merged(config), **{**self.kwargs, **kwargs})

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        return self.bound.transform(input, self._merged(config), **{**self.kwargs, **kwargs})

    def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        return self.bound.atransform(input, self._merged(config), **{**self.kwargs, **kwargs})

    def __getattr__(self, name: str) -> Any:
        # Let a bound model or tool keep answering for its own attributes.
        if name == "bound":
            raise AttributeError(name)
        return getattr(self.bound, name)

    def __repr__(self) -> str:
        return f"RunnableBinding(bound={self.bound!r}, config={self.config!r})"


# --- coercion ---------------------------------------------------------------------


def coerce_to_runnable(thing: Any) -> Runnable[Any, Any]:
    """A runnable from a runnable, a function, a generator function or a dict of those."""
    if isinstance(thing, Runnable):
        return thing
    if inspect.isasyncgenfunction(thing) or inspect.isgeneratorfunction(thing):
        return RunnableGenerator(thing)
    if callable(thing):
        return RunnableLambda(thing)
    if isinstance(thing, dict):
        return RunnableParallel(thing)
    raise TypeError(
        f"expected a Runnable, a function or a dict of them, got {type(thing).__name__}: {thing!r}"
    )
