"""Run the same chain shape through langchain-core and streamtui and compare.

A test writes ``build(ns)`` once; ``ns`` is ``LC`` or ``ST``, two namespaces with the
same names (``ns.ChatPromptTemplate``, ``ns.RunnableLambda``, ``ns.chat_model(...)``,
...). ``compare_events`` builds the chain on both sides, collects
``astream_events(version="v2")``, normalizes both traces and asserts they are equal.

Model factories (same chunks on both sides):

- ``ns.chat_model(*texts, name=None)``: langchain ``GenericFakeChatModel`` (splits on
  single whitespace characters, keeping them) vs ``ScriptedChatModel(chunking="words")``.
  Use texts with single spaces only, so both produce the same chunks.
- ``ns.chunked_chat_model(*chunk_lists, error_on_chunk=None, error=...)``: a tiny
  langchain ``BaseChatModel`` that yields exactly those chunks (and raises before chunk
  ``error_on_chunk``) vs ``ScriptedChatModel(responses=[list...], error_on_chunk=...)``.
  Responses may also be ``ns.AIMessage(content, tool_calls=[...])``.
- ``ns.llm(*texts)``: a tiny langchain ``LLM`` with ``_stream`` (words) vs ``ScriptedLLM``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import pprint
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core import documents as lc_documents
from langchain_core import messages as lc_messages
from langchain_core import output_parsers as lc_parsers
from langchain_core import prompts as lc_prompts
from langchain_core import runnables as lc_runnables
from langchain_core.callbacks import manager as lc_cb_manager
from langchain_core.language_models.chat_models import BaseChatModel as LCBaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.language_models.llms import LLM as LCLLM
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.outputs import GenerationChunk as LCGenerationChunk

from .normalize import group_by_run, normalize_events, normalize_value

_WORDS = re.compile(r"\s+|\S+")


def words(text: str) -> list[str]:
    """The chunks both ``GenericFakeChatModel`` and ``chunking="words"`` give for a text
    with single spaces."""
    return _WORDS.findall(text)


# --- test-local langchain models --------------------------------------------------


def _plan_lc(response: Any) -> list[lc_messages.AIMessageChunk]:
    """Mirror ``ScriptedChatModel._plan`` chunk shapes (minus usage/response metadata)."""
    if isinstance(response, lc_messages.AIMessage):
        pieces = words(response.content) if response.content else []
        chunks = [lc_messages.AIMessageChunk(content=p) for p in pieces]
        for index, call in enumerate(response.tool_calls):
            args = json.dumps(call["args"])
            arg_pieces = [args[i : i + 8] for i in range(0, len(args), 8)] or [""]
            for j, piece in enumerate(arg_pieces):
                chunks.append(
                    lc_messages.AIMessageChunk(
                        content="",
                        tool_call_chunks=[
                            {
                                "name": call["name"] if j == 0 else None,
                                "args": piece,
                                "id": (call.get("id") or f"call_{index}") if j == 0 else None,
                                "index": index,
                            }
                        ],
                    )
                )
    elif isinstance(response, str):
        chunks = [lc_messages.AIMessageChunk(content=p) for p in words(response)]
    else:
        chunks = [lc_messages.AIMessageChunk(content=p) for p in response]
    if not chunks:
        chunks = [lc_messages.AIMessageChunk(content="")]
    chunks[-1].chunk_position = "last"
    return chunks


class LCScriptedChatModel(LCBaseChatModel):
    """Yields exactly the scripted chunks; raises ``error`` before chunk ``error_on_chunk``."""

    responses: list[Any]
    error_on_chunk: int | None = None
    error: Any = None
    turn: int = 0

    @property
    def _llm_type(self) -> str:
        return "lc-scripted"

    def _next(self) -> list[lc_messages.AIMessageChunk]:
        response = self.responses[self.turn % len(self.responses)]
        self.turn += 1
        return _plan_lc(response)

    def _raise_if_due(self, i: int) -> None:
        if self.error_on_chunk is not None and i == self.error_on_chunk:
            err = self.error
            if isinstance(err, type):
                err = err(f"scripted failure before chunk {i}")
            raise err

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:  # type: ignore[override]
        chunks = list(self._stream(messages, stop, None, **kwargs))
        msg = chunks[0].message
        for c in chunks[1:]:
            msg = msg + c.message
        return ChatResult(
            generations=[
                ChatGeneration(
                    message=lc_messages.AIMessage(content=msg.content, tool_calls=msg.tool_calls)
                )
            ]
        )

    def _stream(  # type: ignore[override]
        self, messages, stop=None, run_manager=None, **kwargs
    ) -> Iterator[ChatGenerationChunk]:
        for i, chunk in enumerate(self._next()):
            self._raise_if_due(i)
            yield ChatGenerationChunk(message=chunk)

    async def _astream(  # type: ignore[override]
        self, messages, stop=None, run_manager=None, **kwargs
    ) -> AsyncIterator[ChatGenerationChunk]:
        for i, chunk in enumerate(self._next()):
            self._raise_if_due(i)
            yield ChatGenerationChunk(message=chunk)


class LCScriptedLLM(LCLLM):
    """A langchain text-completion model that streams words (``FakeStreamingListLLM``
    does not stream through callbacks: its ``stream`` is ``invoke`` then characters)."""

    responses: list[Any]
    turn: int = 0

    @property
    def _llm_type(self) -> str:
        return "lc-scripted-llm"

    def _pieces(self) -> list[str]:
        response = self.responses[self.turn % len(self.responses)]
        self.turn += 1
        return words(response) if isinstance(response, str) else list(response)

    def _call(self, prompt, stop=None, run_manager=None, **kwargs) -> str:  # type: ignore[override]
        return "".join(self._pieces())

    def _stream(  # type: ignore[override]
        self, prompt, stop=None, run_manager=None, **kwargs
    ) -> Iterator[LCGenerationChunk]:
        for p in self._pieces():
            chunk = LCGenerationChunk(text=p)
            if run_manager:
                run_manager.on_llm_new_token(p, chunk=chunk)
            yield chunk

    async def _astream(  # type: ignore[override]
        self, prompt, stop=None, run_manager=None, **kwargs
    ) -> AsyncIterator[LCGenerationChunk]:
        for p in self._pieces():
            chunk = LCGenerationChunk(text=p)
            if run_manager:
                await run_manager.on_llm_new_token(p, chunk=chunk)
            yield chunk


# --- the two namespaces ------------------------------------------------------------


class _LC:
    side = "langchain"

    ChatPromptTemplate = lc_prompts.ChatPromptTemplate
    PromptTemplate = lc_prompts.PromptTemplate
    MessagesPlaceholder = lc_prompts.MessagesPlaceholder
    StrOutputParser = lc_parsers.StrOutputParser
    Runnable = lc_runnables.Runnable
    RunnableLambda = lc_runnables.RunnableLambda
    RunnableParallel = lc_runnables.RunnableParallel
    RunnablePassthrough = lc_runnables.RunnablePassthrough
    RunnableGenerator = lc_runnables.RunnableGenerator
    RunnableSequence = lc_runnables.RunnableSequence
    chain = staticmethod(lc_runnables.chain)
    AIMessage = lc_messages.AIMessage
    AIMessageChunk = lc_messages.AIMessageChunk
    HumanMessage = lc_messages.HumanMessage
    SystemMessage = lc_messages.SystemMessage
    ToolMessage = lc_messages.ToolMessage
    Document = lc_documents.Document
    dispatch_custom_event = staticmethod(lc_cb_manager.dispatch_custom_event)
    adispatch_custom_event = staticmethod(lc_cb_manager.adispatch_custom_event)

    @property
    def tool(self) -> Any:
        from langchain_core.tools import tool

        return tool

    @property
    def BaseRetriever(self) -> Any:
        from langchain_core.retrievers import BaseRetriever

        return BaseRetriever

    @property
    def FakeStreamingListLLM(self) -> Any:
        from langchain_core.language_models.fake import FakeStreamingListLLM

        return FakeStreamingListLLM

    @property
    def FakeListChatModel(self) -> Any:
        from langchain_core.language_models.fake_chat_models import FakeListChatModel

        return FakeListChatModel

    def chat_model(self, *texts: str, name: str | None = None) -> Any:
        kw = {"name": name} if name else {}
        return GenericFakeChatModel(messages=itertools.cycle(texts), **kw)

    def chunked_chat_model(
        self,
        *responses: Any,
        error_on_chunk: int | None = None,
        error: Any = None,
        name: str | None = None,
    ) -> Any:
        kw = {"name": name} if name else {}
        return LCScriptedChatModel(
            responses=list(responses), error_on_chunk=error_on_chunk, error=error, **kw
        )

    def llm(self, *texts: Any, name: str | None = None) -> Any:
        kw = {"name": name} if name else {}
        return LCScriptedLLM(responses=list(texts), **kw)

    def __repr__(self) -> str:
        return "LC"


class _ST:
    side = "streamtui"

    _NAMES = frozenset(
        {
            "ChatPromptTemplate", "PromptTemplate", "MessagesPlaceholder", "StrOutputParser",
            "Runnable", "RunnableLambda", "RunnableParallel", "RunnablePassthrough",
            "RunnableGenerator", "RunnableSequence", "chain", "AIMessage", "AIMessageChunk",
            "HumanMessage", "SystemMessage", "ToolMessage", "Document",
            "dispatch_custom_event", "adispatch_custom_event", "tool", "BaseRetriever",
            "ScriptedChatModel", "ScriptedLLM", "ToolException",
        }
    )  # fmt: skip

    def __getattr__(self, name: str) -> Any:
        if name in self._NAMES:
            import streamtui

            return getattr(streamtui, name)
        raise AttributeError(name)

    def chat_model(self, *texts: str, name: str | None = None) -> Any:
        import streamtui

        return streamtui.ScriptedChatModel(list(texts), chunking="words", name=name)

    def chunked_chat_model(
        self,
        *responses: Any,
        error_on_chunk: int | None = None,
        error: Any = None,
        name: str | None = None,
    ) -> Any:
        import streamtui

        kw: dict[str, Any] = {}
        if error is not None:
            kw["error"] = error
        resp = [r if isinstance(r, (str, streamtui.AIMessage)) else list(r) for r in responses]
        return streamtui.ScriptedChatModel(
            resp, chunking="words", error_on_chunk=error_on_chunk, name=name, **kw
        )

    def llm(self, *texts: Any, name: str | None = None) -> Any:
        import streamtui

        return streamtui.ScriptedLLM(list(texts), chunking="words", name=name)

    def __repr__(self) -> str:
        return "ST"


LC = _LC()
ST = _ST()
SIDES = (LC, ST)


# --- running ------------------------------------------------------------------------


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def acollect_events(
    runnable: Any, input: Any, config: Any = None, **kwargs: Any
) -> tuple[list[dict[str, Any]], BaseException | None]:
    events: list[dict[str, Any]] = []
    error: BaseException | None = None
    try:
        async for ev in runnable.astream_events(input, config, version="v2", **kwargs):
            events.append(ev)
    except Exception as e:  # the consumer's view of a failure
        error = e
    return events, error


def collect_events(runnable: Any, input: Any, config: Any = None, **kwargs: Any) -> Any:
    return run(acollect_events(runnable, input, config, **kwargs))


def _fmt(ev: Any) -> str:
    return pprint.pformat(ev, width=100, sort_dicts=True)


def diff_message(lc: list[dict[str, Any]], st: list[dict[str, Any]]) -> str:
    lines = [f"langchain: {len(lc)} events, streamtui: {len(st)} events"]
    for i in range(max(len(lc), len(st))):
        a = lc[i] if i < len(lc) else None
        b = st[i] if i < len(st) else None
        if a != b:
            lines.append(f"first difference at event #{i}:")
            lines.append("  langchain: " + _fmt(a).replace("\n", "\n             "))
            lines.append("  streamtui: " + _fmt(b).replace("\n", "\n             "))
            if isinstance(a, dict) and isinstance(b, dict):
                keys = sorted(set(a) | set(b))
                lines.append(
                    "  differing keys: " + ", ".join(k for k in keys if a.get(k) != b.get(k))
                )
            break
    lines.append("langchain summary: " + summary(lc))
    lines.append("streamtui summary: " + summary(st))
    return "\n".join(lines)


def summary(events: list[dict[str, Any]]) -> str:
    return " ".join(f"{e['event'][3:]}:{e['name']}@{e['run']}" for e in events)


def assert_same_events(lc: list[dict[str, Any]], st: list[dict[str, Any]]) -> None:
    assert lc == st, diff_message(lc, st)


def assert_same_runs(lc: list[dict[str, Any]], st: list[dict[str, Any]]) -> None:
    """Per-run comparison: the same set of runs, each with the same event sequence."""
    g_lc, g_st = group_by_run(lc), group_by_run(st)
    assert sorted(g_lc) == sorted(g_st), (
        f"different runs:\n  langchain only: {sorted(set(g_lc) - set(g_st))}"
        f"\n  streamtui only: {sorted(set(g_st) - set(g_lc))}"
    )
    for run_label in g_lc:
        a, b = g_lc[run_label], g_st[run_label]
        if a == b:
            continue
        # A run that merges parallel branches streams dict chunks whose interleaving
        # depends on scheduling: compare its other events in order and its stream as
        # one ordered sequence per key (the order within each branch).
        pa, pb = _project_streams(a), _project_streams(b)
        assert pa == pb, (
            f"run {run_label} (stream chunks projected per key):\n"
            + pprint.pformat({"langchain": pa, "streamtui": pb}, width=100)
            + "\n"
            + diff_message(a, b)
        )


def _project_streams(events: list[dict[str, Any]]) -> Any:
    """Non-stream events in order (a run of stream events collapsed to one marker),
    dict stream chunks as one ordered list per key, other chunks in order."""
    others: list[Any] = []
    per_key: dict[str, list[Any]] = {}
    non_dict: list[Any] = []
    for ev in events:
        if ev["event"].endswith("_stream"):
            marker = {k: v for k, v in ev.items() if k != "data"}
            marker["data"] = "<stream chunks>"
            if not others or others[-1] != marker:
                others.append(marker)
            chunk = ev["data"].get("chunk")
            if isinstance(chunk, dict):
                for k, v in chunk.items():
                    per_key.setdefault(k, []).append(v)
            else:
                non_dict.append(chunk)
        else:
            others.append(ev)
    return {"events": others, "per_key": per_key, "non_dict": non_dict}


def traces(
    build: Callable[[Any], Any],
    input: Any,
    config: Any = None,
    *,
    by_path: bool = False,
    root_accident: bool = True,
    **filters: Any,
) -> tuple[
    tuple[list[dict[str, Any]], BaseException | None],
    tuple[list[dict[str, Any]], BaseException | None],
]:
    """Normalized (events, error) for langchain, then streamtui.

    ``root_accident=False`` keeps the documented first-event input overwrite visible."""
    out = []
    for ns in SIDES:
        runnable = build(ns)
        cfg = dict(config) if config is not None else None
        events, error = collect_events(runnable, input, cfg, **filters)
        out.append((normalize_events(events, by_path=by_path, root_accident=root_accident), error))
    return out[0], out[1]


def compare_events(
    build: Callable[[Any], Any],
    input: Any,
    config: Any = None,
    *,
    parallel: bool = False,
    expect_error: type[BaseException] | None = None,
    **filters: Any,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Build on both sides, collect, normalize, assert equal; return the normalized
    traces (langchain, streamtui).

    ``parallel=True``: compare per run (structural labels), not global order.
    """
    (lc, lc_err), (st, st_err) = traces(build, input, config, by_path=parallel, **filters)
    if expect_error is None:
        if lc_err is not None:
            raise AssertionError(f"langchain side raised {lc_err!r}") from lc_err
        if st_err is not None:
            raise AssertionError(f"streamtui side raised {st_err!r}") from st_err
    else:
        assert isinstance(lc_err, expect_error), f"langchain raised {lc_err!r}"
        assert type(st_err) is type(lc_err), (
            f"consumer got {type(st_err).__name__}: {st_err!r} from streamtui, "
            f"{type(lc_err).__name__}: {lc_err!r} from langchain"
        )
    if parallel:
        assert_same_runs(lc, st)
    else:
        assert_same_events(lc, st)
    return lc, st


def norm(value: Any) -> Any:
    """Normalize a plain output value (run ids are not expected inside)."""
    from .normalize import OrderLabels

    return normalize_value(value, OrderLabels())


def outputs(
    build: Callable[[Any], Any],
    input: Any,
    config: Any = None,
    *,
    modes: Sequence[str] = ("invoke", "ainvoke", "stream", "astream", "batch", "abatch"),
) -> dict[str, tuple[Any, Any]]:
    """{mode: (langchain result, streamtui result)}, normalized, each from a fresh build."""
    results: dict[str, list[Any]] = {m: [] for m in modes}
    for ns in SIDES:
        for mode in modes:
            r = build(ns)
            cfg = dict(config) if config is not None else None
            if mode == "invoke":
                value = r.invoke(input, cfg)
            elif mode == "ainvoke":
                value = run(r.ainvoke(input, cfg))
            elif mode == "stream":
                value = list(r.stream(input, cfg))
            elif mode == "astream":

                async def go(r: Any = r, cfg: Any = cfg) -> list[Any]:
                    return [c async for c in r.astream(input, cfg)]

                value = run(go())
            elif mode == "batch":
                value = r.batch([input, input], cfg)
            elif mode == "abatch":
                value = run(r.abatch([input, input], cfg))
            else:
                raise ValueError(mode)
            results[mode].append(norm(value))
    return {m: (v[0], v[1]) for m, v in results.items()}


def assert_same_outputs(
    build: Callable[[Any], Any], input: Any, config: Any = None, **kw: Any
) -> dict[str, tuple[Any, Any]]:
    res = outputs(build, input, config, **kw)
    bad = {m: pair for m, pair in res.items() if pair[0] != pair[1]}
    assert not bad, "outputs differ:\n" + "\n".join(
        f"  {m}:\n    langchain: {a!r}\n    streamtui: {b!r}" for m, (a, b) in bad.items()
    )
    return res


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", normalized value) or ("raises", exception type name)."""
    try:
        return ("ok", norm(fn()))
    except Exception as e:
        return ("raises", type(e).__name__)


def assert_same_outcome(call: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``call(ns)`` on both sides must return equal values or raise the same type."""
    a, b = outcome(lambda: call(LC)), outcome(lambda: call(ST))
    assert a == b, f"langchain: {a!r}\nstreamtui: {b!r}"
    return a, b
