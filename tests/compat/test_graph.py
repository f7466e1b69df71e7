"""``streamtui.graph`` vs LangGraph: the same small graphs, run through both libraries.

Every graph is written once as ``build(ns)``; ``ns`` is ``LG`` or ``ST`` (the same names
on both sides: ``StateGraph``, ``START``, ``END``, ``Send``, ``get_stream_writer``,
``add_messages``, messages, ``RunnableLambda``). ``compare`` runs it in one way
(``invoke``/``ainvoke`` or ``stream``/``astream`` in one stream mode) on both sides and
asserts the same items, the same final state and the same error (type, and message where
it is the node's own).

Items from parallel siblings that finish at about the same time arrive in a racy order in
LangGraph: such runs of items are compared as a multiset (each producer's own items keep
their order). Siblings with clearly different sleeps are compared in exact order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import operator
import pprint
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Annotated, Any

import pytest

pytest.importorskip("langgraph")
pytest.importorskip("langchain_core")

import pydantic
from typing_extensions import TypedDict

from ..conftest import run_async

# --- the two namespaces ----------------------------------------------------------------
from .graph_sides import LG, ST

# --- running and comparing -------------------------------------------------------------

ALL_MODES = ["updates", "values", "custom"]
# (api, mode): mode None is invoke/ainvoke; a list mode yields (mode, payload) pairs.
RUNS = [
    (api, mode)
    for api in ("sync", "async")
    for mode in (None, "updates", "values", "custom", ALL_MODES)
]


def _run_id(run: tuple[str, Any]) -> str:
    api, mode = run
    if mode is None:
        return "invoke" if api == "sync" else "ainvoke"
    name = "stream" if api == "sync" else "astream"
    return f"{name}-{'+'.join(mode) if isinstance(mode, list) else mode}"


each_run = pytest.mark.parametrize("run", RUNS, ids=[_run_id(r) for r in RUNS])


def collect(
    ns: SimpleNamespace, build: Callable[[Any], Any], input: Any, run: Any, config: Any
) -> tuple[list[Any], BaseException | None]:
    """The items (or ``[final state]`` for invoke) and the error of one run."""
    api, mode = run
    side = SimpleNamespace(**vars(ns), aio=api == "async")
    graph = build(side)
    items: list[Any] = []
    error: BaseException | None = None
    try:
        if mode is None:
            if api == "sync":
                items.append(graph.invoke(input, config))
            else:
                items.append(run_async(graph.ainvoke(input, config)))
        elif api == "sync":
            for item in graph.stream(input, config, stream_mode=mode):
                items.append(item)
        else:

            async def consume() -> None:
                async for item in graph.astream(input, config, stream_mode=mode):
                    items.append(item)

            run_async(consume())
    except Exception as e:  # the consumer's view of a failure
        error = e
    return items, error


def norm(value: Any) -> Any:
    """Library-independent form: messages as (type, content), no ids."""
    cls = type(value)
    if cls.__name__.endswith(("Message", "MessageChunk")) and hasattr(value, "content"):
        return ("msg", value.type, norm(value.content))
    if isinstance(value, pydantic.BaseModel):
        return ("model", cls.__name__, norm(dict(value)))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ("dataclass", cls.__name__, norm(dict(value.__dict__)))
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, tuple):
        return tuple(norm(v) for v in value)
    return value


def default_who(mode: str, payload: Any) -> str | None:
    """Which task produced an item: an ``updates`` item's node, or a custom item's
    ``"who"``; ``values`` items are produced by the step, not a task."""
    if mode == "updates" and isinstance(payload, dict) and len(payload) == 1:
        return next(iter(payload))
    if mode == "custom" and isinstance(payload, dict):
        return payload.get("who")
    return None


def unrace(
    items: list[Any], run: Any, racy: Any, who: Callable[[str, Any], str | None]
) -> list[Any]:
    """Sort each run of consecutive items from racing producers by producer (stably, so
    one producer's own items keep their order).

    ``racy`` is a set of node names that race with each other, or a list of such sets
    (one per step); a name also covers its ``Send`` tasks named ``name<digits>`` by ``who``.
    """
    groups = [set(g) for g in racy] if isinstance(racy, list) else [set(racy)]
    groups = [g for g in groups if g]
    if not groups:
        return items
    mode = run[1]
    out: list[Any] = []
    block: list[tuple[str, Any]] = []
    block_group = -1

    def group_of(producer: str) -> int:
        for i, group in enumerate(groups):
            for name in group:
                rest = producer[len(name) :]
                if producer.startswith(name) and (not rest or rest.isdigit()):
                    return i
        return -1

    def flush() -> None:
        block.sort(key=lambda pair: pair[0])
        out.extend(item for _, item in block)
        block.clear()

    for item in items:
        item_mode, payload = item if isinstance(mode, list) else (mode, item)
        producer = who(item_mode, payload) if mode is not None else None
        group = group_of(producer) if producer is not None else -1
        if group != block_group:
            flush()
            block_group = group
        if group >= 0:
            block.append((producer, item))
        else:
            out.append(item)
    flush()
    return out


def describe(error: BaseException | None) -> Any:
    if error is None:
        return None
    return type(error).__name__


def compare(
    build: Callable[[Any], Any],
    input: Any,
    run: Any,
    *,
    config: Any = None,
    racy: Any = (),
    who: Callable[[str, Any], str | None] = default_who,
    error: type[BaseException] | None = None,
    same_message: bool = False,
) -> list[Any]:
    """Run ``build`` on both sides; assert the same (normalized) items and error.
    Returns langgraph's normalized items."""
    lg_items, lg_error = collect(LG, build, input, run, config)
    st_items, st_error = collect(ST, build, input, run, config)
    lg_norm = unrace(norm(lg_items), run, racy, who)
    st_norm = unrace(norm(st_items), run, racy, who)
    detail = pprint.pformat(
        {
            "langgraph": lg_norm,
            "langgraph error": repr(lg_error),
            "streamtui": st_norm,
            "streamtui error": repr(st_error),
        },
        width=100,
    )
    assert st_norm == lg_norm, "different items\n" + detail
    assert describe(st_error) == describe(lg_error), "different errors\n" + detail
    if error is None:
        assert lg_error is None, "langgraph failed\n" + detail
    else:
        assert isinstance(lg_error, error), detail
    if same_message:
        assert type(st_error) is type(lg_error)  # the node's own exception, unwrapped
        assert str(st_error) == str(lg_error)
    return lg_norm


def node(
    ns: SimpleNamespace,
    fn: Callable[[Any], Any],
    sleep: float = 0.0,
    kind: str = "auto",
    first: float = 0.0,
) -> Callable[[Any], Any]:
    """A node that sleeps ``first`` s, calls ``fn(state)``, sleeps ``sleep`` s, then returns
    what ``fn`` returned (or raises it, if that is an exception). Async in async runs, sync
    in sync runs (``kind="auto"``): LangGraph refuses async nodes under ``invoke``/``stream``.
    """
    if kind == "async" or (kind == "auto" and ns.aio):

        async def anode(state):
            await asyncio.sleep(first)
            out = fn(state)
            await asyncio.sleep(sleep)
            if isinstance(out, BaseException):
                raise out
            return out

        return anode

    def snode(state):
        time.sleep(first)
        out = fn(state)
        time.sleep(sleep)
        if isinstance(out, BaseException):
            raise out
        return out

    return snode


# --- schemas shared by both sides ------------------------------------------------------


class LogState(TypedDict):
    n: int
    log: Annotated[list, operator.add]


class LoopState(TypedDict):
    count: int
    trail: Annotated[list, operator.add]


class MapState(TypedDict, total=False):
    items: list
    results: Annotated[list, operator.add]
    total: int


class PlainState(TypedDict, total=False):
    x: int
    y: int
    log: Annotated[list, operator.add]


# --- linear graphs with a reducer ------------------------------------------------------


def linear(ns):
    g = ns.StateGraph(LogState)
    g.add_node("a", node(ns, lambda s: {"n": s["n"] + 1, "log": ["a"]}, kind="sync"))
    g.add_node("b", node(ns, lambda s: {"n": s["n"] * 10, "log": [f"b{s['n']}"]}))
    g.add_node("c", node(ns, lambda s: {"log": ["c", "c2"]}))
    g.add_edge(ns.START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge("c", ns.END)
    return g.compile()


@each_run
def test_linear_with_reducer(run):
    items = compare(linear, {"n": 1, "log": ["start"]}, run)
    if run[1] is None:
        assert items == [{"n": 20, "log": ["start", "a", "b2", "c", "c2"]}]


def sequence(ns):
    def first(state: LogState):
        return {"log": ["first"]}

    def second(state: LogState):
        return {"n": state["n"] + len(state["log"])}

    g = ns.StateGraph(LogState)
    g.add_sequence([first, ("two", second), ("three", first)])
    g.add_edge(ns.START, "first")
    g.add_edge("three", ns.END)
    return g.compile()


@each_run
def test_add_sequence(run):
    items = compare(sequence, {"n": 0}, run)
    if run[1] is None:
        assert items == [{"n": 1, "log": ["first", "first"]}]


def with_config(ns):
    def read(state: LogState, config):
        return {"log": [config["configurable"]["who"]]}

    async def aread(state: LogState, config):
        return {"log": [config["configurable"]["who"] + "!"]}

    g = ns.StateGraph(LogState)
    g.add_sequence([("read", read), ("aread", aread if ns.aio else read)])
    g.add_edge(ns.START, "read")
    return g.compile()


@each_run
def test_node_taking_config(run):
    compare(with_config, {"n": 0}, run, config={"configurable": {"who": "me"}})


# --- conditional loops -----------------------------------------------------------------


def counter(ns, n=3, path_map="none"):
    g = ns.StateGraph(LoopState)
    g.add_node("inc", node(ns, lambda s: {"count": s["count"] + 1, "trail": [s["count"]]}))
    g.add_edge(ns.START, "inc")
    if path_map == "none":
        g.add_conditional_edges("inc", lambda s: "inc" if s["count"] < n else ns.END)
    elif path_map == "dict":
        g.add_conditional_edges(
            "inc",
            lambda s: "again" if s["count"] < n else "done",
            {"again": "inc", "done": ns.END},
        )
    elif path_map == "bool":
        g.add_conditional_edges("inc", lambda s: s["count"] < n, {True: "inc", False: ns.END})
    else:  # a list of names
        g.add_conditional_edges(
            "inc", lambda s: "inc" if s["count"] < n else ns.END, ["inc", ns.END]
        )
    return g.compile()


@pytest.mark.parametrize("path_map", ["none", "dict", "bool", "list"])
@each_run
def test_conditional_loop(run, path_map):
    items = compare(lambda ns: counter(ns, 4, path_map), {"count": 0}, run)
    if run[1] is None:
        assert items == [{"count": 4, "trail": [0, 1, 2, 3]}]


def loop_through_two(ns):
    """a → b → (a | END); the branch sees b's own write."""

    def route(state: LoopState, config):
        return "a" if state["count"] < 3 else ns.END

    g = ns.StateGraph(LoopState)
    g.add_node("a", node(ns, lambda s: {"trail": ["a"]}, kind="sync"))
    g.add_node("b", node(ns, lambda s: {"count": s["count"] + 1}))
    g.add_edge(ns.START, "a")
    g.add_edge("a", "b")
    g.add_conditional_edges("b", route)
    return g.compile()


@each_run
def test_conditional_loop_two_nodes_route_with_config(run):
    compare(loop_through_two, {"count": 0}, run)


def branch_to_list(ns):
    """A conditional edge returning a list of nodes runs them in one step."""
    g = ns.StateGraph(PlainState)
    g.add_node("start", node(ns, lambda s: {"x": 1}))
    g.add_node("left", node(ns, lambda s: {"log": ["left"]}))
    g.add_node("right", node(ns, lambda s: {"log": ["right"]}))
    g.add_edge(ns.START, "start")
    g.add_conditional_edges("start", lambda s: ["right", "left"])
    return g.compile()


@each_run
def test_conditional_edge_returning_a_list(run):
    items = compare(branch_to_list, {"x": 0}, run, racy={"left", "right"})
    if run[1] is None:
        assert items == [{"x": 1, "log": ["left", "right"]}]


def conditional_from_start(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("small", node(ns, lambda s: {"log": ["small"]}))
    g.add_node("big", node(ns, lambda s: {"log": ["big"]}))
    g.add_conditional_edges(ns.START, lambda s: "big" if s["x"] > 5 else "small")
    return g.compile()


@pytest.mark.parametrize("x", [1, 9])
@each_run
def test_conditional_edge_from_start(run, x):
    compare(conditional_from_start, {"x": x}, run)


# --- fan-out / fan-in ------------------------------------------------------------------


def fan(ns, sleeps=None, longer_branch=False):
    sleeps = sleeps or {}

    def make(name):
        def body(state):
            ns.get_stream_writer()({"who": name, "seen": list(state.get("log", []))})
            return {"log": [name]}

        return node(ns, body, first=sleeps.get(name, 0.0))

    g = ns.StateGraph(PlainState)
    for name in ("fork", "a", "b", "a_next", "join"):
        g.add_node(name, make(name))
    g.add_edge(ns.START, "fork")
    g.add_edge("fork", "a")
    g.add_edge("fork", "b")
    if longer_branch:
        g.add_edge("a", "a_next")
        g.add_edge(["a_next", "b"], "join")
    else:
        g.add_edge(["a", "b"], "join")
    g.add_edge("join", ns.END)
    return g.compile()


@each_run
def test_fan_out_fan_in_join(run):
    items = compare(fan, {"x": 0}, run, racy={"a", "b"})
    if run[1] is None:
        assert items == [{"x": 0, "log": ["fork", "a", "b", "join"]}]


@each_run
def test_join_waits_for_the_longer_branch(run):
    # step 2: a, b; step 3: a_next (b is done, the join waits); step 4: join
    items = compare(lambda ns: fan(ns, longer_branch=True), {"x": 0}, run, racy={"a", "b"})
    if run[1] is None:
        assert items == [{"x": 0, "log": ["fork", "a", "b", "a_next", "join"]}]


@each_run
def test_fan_out_siblings_with_different_sleeps_in_completion_order(run):
    # a starts late: b's items and update come first, compared exactly
    items = compare(lambda ns: fan(ns, sleeps={"a": 0.024}), {"x": 0}, run)
    if run[1] == "updates":
        assert [next(iter(u)) for u in items] == ["fork", "b", "a", "join"]


def reducer_order(ns):
    sleeps = {"b_slow": 0.03, "c_mid": 0.012, "a_fast": 0.0}
    g = ns.StateGraph(PlainState)
    # declared neither in name order nor in completion order; one always sync
    for name, kind in (("c_mid", "auto"), ("b_slow", "sync"), ("a_fast", "auto")):
        g.add_node(name, node(ns, lambda s, name=name: {"log": [name]}, sleeps[name], kind))
        g.add_edge(ns.START, name)
    return g.compile()


@each_run
def test_reducer_order_independent_of_completion_order(run):
    items = compare(reducer_order, {"x": 0}, run)
    if run[1] is None:
        assert items == [{"x": 0, "log": ["a_fast", "b_slow", "c_mid"]}]
    if run[1] == "updates":
        assert [next(iter(u)) for u in items] == ["a_fast", "c_mid", "b_slow"]


# --- Send (map-reduce) -----------------------------------------------------------------


def map_reduce(ns, sleep_unit=0.0):
    def fan_out(state: MapState):
        return [ns.Send("work", {"x": x, "n": len(state["items"])}) for x in state["items"]]

    def work(arg):
        ns.get_stream_writer()({"who": f"work{arg['x']}", "start": arg["x"]})
        return {"results": [arg["x"] * 10]}

    def sleep_for(arg):
        return sleep_unit * (arg["n"] - arg["x"])  # the last one sent ends first

    g = ns.StateGraph(MapState)
    if sleep_unit:
        if ns.aio:

            async def worker(arg):
                out = work(arg)
                await asyncio.sleep(sleep_for(arg))
                return out
        else:

            def worker(arg):
                out = work(arg)
                time.sleep(sleep_for(arg))
                return out

        g.add_node("work", worker)
    else:
        g.add_node("work", node(ns, work))
    g.add_node("reduce", node(ns, lambda s: {"total": sum(s["results"])}))
    g.add_conditional_edges(ns.START, fan_out)
    g.add_edge("work", "reduce")
    g.add_edge("reduce", ns.END)
    return g.compile()


def send_who(mode, payload):
    if mode == "updates" and "work" in payload:
        return f"work{payload['work']['results'][0] // 10}"
    return default_who(mode, payload)


@each_run
def test_send_map_reduce(run):
    items = compare(map_reduce, {"items": [1, 2, 3]}, run, racy={"work"}, who=send_who)
    if run[1] is None:
        assert items == [{"items": [1, 2, 3], "results": [10, 20, 30], "total": 60}]


@each_run
def test_send_results_in_send_order_whatever_the_completion_order(run):
    items = compare(lambda ns: map_reduce(ns, 0.012), {"items": [1, 2, 3]}, run)
    if run[1] is None:
        assert items == [{"items": [1, 2, 3], "results": [10, 20, 30], "total": 60}]
    if run[1] == "updates":
        assert [u["work"]["results"] for u in items[:3]] == [[30], [20], [10]]


def send_after_node(ns):
    """A node's conditional edge sends to two different nodes and names a third."""

    def route(state: PlainState):
        return [ns.Send("double", state["x"]), "note", ns.Send("square", state["x"])]

    g = ns.StateGraph(PlainState)
    g.add_node("plan", node(ns, lambda s: {"x": 3}))
    g.add_node("double", node(ns, lambda x: {"log": [("double", x * 2)]}))
    g.add_node("square", node(ns, lambda x: {"log": [("square", x * x)]}))
    g.add_node("note", node(ns, lambda s: {"y": s["x"]}))
    g.add_edge(ns.START, "plan")
    g.add_conditional_edges("plan", route)
    return g.compile()


@each_run
def test_send_and_names_mixed_from_a_node(run):
    items = compare(send_after_node, {"x": 0}, run, racy={"double", "square", "note"})
    if run[1] is None:
        assert items == [{"x": 3, "y": 3, "log": [("double", 6), ("square", 9)]}]


def send_in_loop(ns):
    """Send fan-out inside a loop: each round maps over the items again."""

    def fan_out(state: MapState):
        if len(state.get("results", [])) >= 4:
            return ns.END
        return [ns.Send("work", x) for x in state["items"]]

    g = ns.StateGraph(MapState)
    g.add_node("work", node(ns, lambda x: {"results": [x]}))
    g.add_node("check", node(ns, lambda s: {"total": len(s["results"])}))
    g.add_conditional_edges(ns.START, fan_out)
    g.add_edge("work", "check")
    g.add_conditional_edges("check", fan_out)
    return g.compile()


def send_loop_who(mode, payload):
    if mode == "updates" and "work" in payload:
        return f"work{payload['work']['results'][0]}"
    return default_who(mode, payload)


@each_run
def test_send_in_a_loop(run):
    items = compare(send_in_loop, {"items": [1, 2]}, run, racy={"work"}, who=send_loop_who)
    if run[1] is None:
        assert items == [{"items": [1, 2], "results": [1, 2, 1, 2], "total": 4}]


# --- custom stream ---------------------------------------------------------------------


def talker(ns):
    def say(state: PlainState):
        writer = ns.get_stream_writer()
        writer({"who": "say", "i": 1})
        writer("plain text")
        writer(["a", "list"])
        writer(None)
        return {"x": state["x"] + 1}

    async def asay(state: PlainState):
        writer = ns.get_stream_writer()
        for i in range(3):
            writer({"who": "asay", "i": i})
            await asyncio.sleep(0)
        return {"y": 7}

    def ssay(state: PlainState):
        writer = ns.get_stream_writer()
        for i in range(3):
            writer({"who": "asay", "i": i})
        return {"y": 7}

    g = ns.StateGraph(PlainState)
    g.add_sequence(
        [
            ("say", say),
            ("asay", asay if ns.aio else ssay),
            ("quiet", node(ns, lambda s: {"log": ["quiet"]})),
        ]
    )
    g.add_edge(ns.START, "say")
    return g.compile()


@each_run
def test_custom_writer_sync_and_async_nodes(run):
    items = compare(talker, {"x": 0}, run)
    if run[1] == "custom":
        assert items == [
            {"who": "say", "i": 1},
            "plain text",
            ["a", "list"],
            None,
            {"who": "asay", "i": 0},
            {"who": "asay", "i": 1},
            {"who": "asay", "i": 2},
        ]


def parallel_talkers(ns):
    def make(name, is_async):
        if is_async:

            async def talk(state: PlainState):
                w = ns.get_stream_writer()
                for i in range(3):
                    w({"who": name, "i": i})
                    await asyncio.sleep(0)
                return {"log": [name]}

        else:

            def talk(state: PlainState):
                w = ns.get_stream_writer()
                for i in range(3):
                    w({"who": name, "i": i})
                return {"log": [name]}

        return talk

    g = ns.StateGraph(PlainState)
    for name, is_async in (("s1", False), ("s2", False), ("a1", ns.aio), ("a2", ns.aio)):
        g.add_node(name, make(name, is_async))
        g.add_edge(ns.START, name)
    return g.compile()


@each_run
def test_custom_writers_in_parallel_siblings(run):
    items = compare(parallel_talkers, {"x": 0}, run, racy={"s1", "s2", "a1", "a2"})
    if run[1] is None:
        assert items == [{"x": 0, "log": ["a1", "a2", "s1", "s2"]}]


def writer_with_sleeps(ns):
    """Two siblings writing custom items at clearly different times: exact order."""

    def make(name, delays):
        if ns.aio:

            async def talk(state):
                for i, d in enumerate(delays):
                    await asyncio.sleep(d)
                    ns.get_stream_writer()({"who": name, "i": i})
                return {"log": [name]}
        else:

            def talk(state):
                for i, d in enumerate(delays):
                    time.sleep(d)
                    ns.get_stream_writer()({"who": name, "i": i})
                return {"log": [name]}

        return talk

    g = ns.StateGraph(PlainState)
    g.add_node("early", make("early", [0, 0.024]))
    g.add_node("late", make("late", [0.012, 0.024]))
    g.add_edge(ns.START, "early")
    g.add_edge(ns.START, "late")
    return g.compile()


@each_run
def test_custom_items_of_siblings_interleave_by_time(run):
    items = compare(writer_with_sleeps, {"x": 0}, run)
    if run[1] == "custom":
        assert [(c["who"], c["i"]) for c in items] == [
            ("early", 0),
            ("late", 0),
            ("early", 1),
            ("late", 1),
        ]


# --- invalid updates -------------------------------------------------------------------


def clash(ns, sleep_b=0.0):
    def a(state):
        ns.get_stream_writer()({"who": "a"})
        return {"x": 1}

    def b(state):
        ns.get_stream_writer()({"who": "b"})
        return {"x": 2, "log": ["b"]}

    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, a, kind="sync"))
    g.add_node("b", node(ns, b, first=sleep_b))
    g.add_node("after", node(ns, lambda s: {"y": 1}))
    g.add_edge(ns.START, "a")
    g.add_edge(ns.START, "b")
    g.add_edge(["a", "b"], "after")
    return g.compile()


@each_run
def test_two_nodes_writing_a_plain_key_in_one_step(run):
    compare(clash, {"x": 0}, run, racy={"a", "b"}, error=LG.InvalidUpdateError)


@each_run
def test_two_nodes_writing_a_plain_key_in_one_step_ordered(run):
    compare(lambda ns: clash(ns, 0.015), {"x": 0}, run, error=LG.InvalidUpdateError)


def two_sends_to_plain_key(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("work", node(ns, lambda x: {"x": x}))
    g.add_conditional_edges(ns.START, lambda s: [ns.Send("work", 1), ns.Send("work", 2)])
    return g.compile()


def plain_send_who(mode, payload):
    return f"work{payload['work']['x']}" if mode == "updates" else None


@each_run
def test_two_send_tasks_writing_a_plain_key(run):
    compare(
        two_sends_to_plain_key,
        {"y": 0},
        run,
        racy={"work"},
        who=plain_send_who,
        error=LG.InvalidUpdateError,
    )


def writes_key_step_after_step(ns):
    inc = node(ns, lambda s: {"x": s["x"] + 1})
    g = ns.StateGraph(PlainState)
    g.add_sequence([("a", inc), ("b", inc), ("c", inc)])
    g.add_edge(ns.START, "a")
    return g.compile()


@each_run
def test_one_write_per_step_to_a_plain_key(run):
    items = compare(writes_key_step_after_step, {"x": 0}, run)
    if run[1] is None:
        assert items == [{"x": 3, "log": []}]


# --- recursion limit -------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 4, 5, 6])
@each_run
def test_recursion_limit(run, limit):
    # the counter runs 5 steps; LangGraph also counts the step that finds nothing left to
    # run, so a limit of 5 still fails
    items = compare(
        lambda ns: counter(ns, 5),
        {"count": 0},
        run,
        config={"recursion_limit": limit},
        error=LG.GraphRecursionError if limit <= 5 else None,
    )
    if run[1] == "updates" and limit <= 5:
        assert len(items) == limit


@pytest.mark.parametrize("limit", [2, 3, 4])
@each_run
def test_recursion_limit_with_parallel_steps(run, limit):
    # fork → (a, b) → join: 3 steps
    compare(
        fan,
        {"x": 0},
        run,
        config={"recursion_limit": limit},
        racy={"a", "b"},
        error=LG.GraphRecursionError if limit <= 3 else None,
    )


# --- failing nodes ---------------------------------------------------------------------


class NodeBroke(ValueError):
    pass


def failing(ns, error_type=ValueError):
    def ok(state):
        ns.get_stream_writer()({"who": "ok"})
        return {"x": state["x"] + 1}

    def bad(state):
        ns.get_stream_writer()({"who": "bad", "before": True})
        return error_type(f"bad node saw x={state['x']}")

    g = ns.StateGraph(PlainState)
    g.add_node("ok", node(ns, ok))
    g.add_node("bad", node(ns, bad))
    g.add_node("never", node(ns, ok))
    g.add_edge(ns.START, "ok")
    g.add_edge("ok", "bad")
    g.add_edge("bad", "never")
    return g.compile()


@pytest.mark.parametrize("error_type", [ValueError, NodeBroke])
@each_run
def test_failing_node(run, error_type):
    compare(
        lambda ns: failing(ns, error_type),
        {"x": 1},
        run,
        error=error_type,
        same_message=True,
    )


def failing_beside_sibling(ns, ok_sleep=0.0, bad_first=0.0, bad_sleep=0.0, ok_kind="auto"):
    def bad(state):
        ns.get_stream_writer()({"who": "bad"})
        return ValueError("sibling failed")

    def ok(state):
        ns.get_stream_writer()({"who": "ok"})
        return {"log": ["ok"]}

    g = ns.StateGraph(PlainState)
    g.add_node("bad", node(ns, bad, bad_sleep, first=bad_first))
    g.add_node("ok", node(ns, ok, ok_sleep, ok_kind))
    g.add_node("after", node(ns, lambda s: {"y": 1}))
    g.add_edge(ns.START, "bad")
    g.add_edge(ns.START, "ok")
    g.add_edge(["bad", "ok"], "after")
    return g.compile()


@pytest.mark.parametrize("ok_kind", ["auto", "sync"])
@each_run
def test_failing_node_after_its_sibling_finished(run, ok_kind):
    # ok finishes first: its items and update are streamed, then bad's error
    compare(
        lambda ns: failing_beside_sibling(ns, bad_first=0.012, ok_kind=ok_kind),
        {"x": 0},
        run,
        error=ValueError,
        same_message=True,
    )


@pytest.mark.parametrize("ok_kind", ["auto", "sync"])
@each_run
def test_failing_node_while_its_sibling_still_runs(run, ok_kind):
    # ok writes, bad writes and fails while ok still sleeps: ok's update never arrives
    compare(
        lambda ns: failing_beside_sibling(ns, ok_sleep=0.03, bad_first=0.01, ok_kind=ok_kind),
        {"x": 0},
        run,
        error=ValueError,
        same_message=True,
    )


def failing_in_branch(ns):
    def route(state: PlainState):
        raise KeyError("route failed")

    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: {"x": 5}))
    g.add_node("b", node(ns, lambda s: {"x": 6}))
    g.add_edge(ns.START, "a")
    g.add_conditional_edges("a", route)
    return g.compile()


@each_run
def test_failing_conditional_edge(run):
    compare(failing_in_branch, {"x": 0}, run, error=KeyError, same_message=True)


# --- what a node returns ---------------------------------------------------------------


def returns(ns, value):
    g = ns.StateGraph(PlainState)
    g.add_node("first", node(ns, lambda s: value))
    g.add_node("after", node(ns, lambda s: {"log": [sorted(s)]}))
    g.add_edge(ns.START, "first")
    g.add_edge("first", "after")
    return g.compile()


@each_run
def test_unknown_keys_in_node_return_ignored(run):
    # (the `updates` item shows only the schema's keys)
    compare(lambda ns: returns(ns, {"x": 2, "bogus": 1, "other": [1]}), {"x": 1}, run)


@each_run
def test_node_returning_only_unknown_keys(run):
    # (the `updates` item is None: nothing was written)
    compare(lambda ns: returns(ns, {"bogus": 1}), {"x": 1}, run)


@pytest.mark.parametrize("value", ["oops", 3, ["x", 1]], ids=["str", "int", "list"])
@each_run
def test_node_returning_a_non_dict(run, value):
    compare(lambda ns: returns(ns, value), {"x": 1}, run, error=LG.InvalidUpdateError)


@pytest.mark.parametrize("value", [{}, None], ids=["empty-dict", "none"])
@each_run
def test_node_returning_nothing(run, value):
    items = compare(lambda ns: returns(ns, value), {"x": 1}, run)
    if run[1] is None:
        assert items == [{"x": 1, "log": [["log", "x"]]}]


def siblings_writing_nothing(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: None))
    g.add_node("b", node(ns, lambda s: {}))
    g.add_node("join", node(ns, lambda s: {"log": ["join"]}))
    g.add_edge(ns.START, "a")
    g.add_edge(ns.START, "b")
    g.add_edge(["a", "b"], "join")
    return g.compile()


@each_run
def test_siblings_writing_nothing_still_trigger_the_join(run):
    items = compare(siblings_writing_nothing, {"x": 1}, run, racy={"a", "b"})
    if run[1] is None:
        assert items == [{"x": 1, "log": ["join"]}]


# --- inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "input",
    [{"x": 1, "bogus": 2}, {"bogus": 2}, {}, {"log": ["given"]}],
    ids=["unknown-and-known", "only-unknown", "empty", "reducer-key"],
)
@each_run
def test_inputs(run, input):
    compare(lambda ns: returns(ns, {"y": 1}), input, run)


@each_run
def test_input_none(run):
    compare(lambda ns: returns(ns, {"y": 1}), None, run, error=LG.EmptyInputError)


# --- add_messages ----------------------------------------------------------------------


def chat(ns, make_input):
    # (functional form: class-body annotations are strings, resolved without ``ns``)
    ChatState = TypedDict(  # noqa: UP013
        "ChatState", {"messages": Annotated[list, ns.add_messages], "turns": int}, total=False
    )

    def respond(state):
        last = state["messages"][-1]
        return {
            "messages": [ns.AIMessage(content=f"echo: {last.content}", id="reply")],
            "turns": state.get("turns", 0) + 1,
        }

    def revise(state):
        # the same id replaces the earlier message in place
        return {"messages": ns.AIMessage(content="revised", id="reply")}

    def add_mixed(state):
        return {"messages": [("user", "a tuple"), {"role": "assistant", "content": "a dict"}]}

    g = ns.StateGraph(ChatState)
    g.add_sequence(
        [
            ("respond", node(ns, respond)),
            ("revise", node(ns, revise)),
            ("add_mixed", node(ns, add_mixed)),
        ]
    )
    g.add_edge(ns.START, "respond")
    graph = g.compile()
    # the input holds this side's messages: bind it here, ignore the shared input
    return SimpleNamespace(
        invoke=lambda _i, c=None: graph.invoke(make_input(ns), c),
        ainvoke=lambda _i, c=None: graph.ainvoke(make_input(ns), c),
        stream=lambda _i, c=None, **kw: graph.stream(make_input(ns), c, **kw),
        astream=lambda _i, c=None, **kw: graph.astream(make_input(ns), c, **kw),
    )


CHAT_INPUTS = {
    "messages": lambda ns: {
        "messages": [ns.SystemMessage(content="be brief"), ns.HumanMessage(content="hi")]
    },
    "tuple": lambda ns: {"messages": [("user", "hi")]},
    "string": lambda ns: {"messages": "hi"},
    "id-clash": lambda ns: {"messages": [ns.HumanMessage("hi", id="reply")]},
}


@pytest.mark.parametrize("input", list(CHAT_INPUTS))
@each_run
def test_add_messages(run, input):
    items = compare(lambda ns: chat(ns, CHAT_INPUTS[input]), None, run)
    if run[1] is None:
        assert items[0]["messages"][-3:] == [
            ("msg", "ai", "revised"),
            ("msg", "human", "a tuple"),
            ("msg", "ai", "a dict"),
        ]


# --- dataclass and pydantic state ------------------------------------------------------


@dataclasses.dataclass
class DCState:
    name: str
    count: int = 0
    log: Annotated[list, operator.add] = dataclasses.field(default_factory=list)


class PydState(pydantic.BaseModel):
    name: str
    count: int = 0
    log: Annotated[list, operator.add] = []


def typed_state(ns, schema):
    def greet(state):
        assert isinstance(state, schema), type(state)
        return {"log": [f"hi {state.name}"], "count": state.count + 1}

    def again(state):
        assert isinstance(state, schema), type(state)
        return {"log": [f"again {state.count}"]}

    g = ns.StateGraph(schema)
    g.add_sequence([("greet", node(ns, greet, kind="sync")), ("again", node(ns, again))])
    g.add_edge(ns.START, "greet")
    g.add_conditional_edges("again", lambda s: "greet" if s.count < 2 else ns.END)
    return g.compile()


SCHEMAS = pytest.mark.parametrize("schema", [DCState, PydState], ids=["dataclass", "pydantic"])


@SCHEMAS
@each_run
def test_dataclass_and_pydantic_state(run, schema):
    compare(lambda ns: typed_state(ns, schema), {"name": "ann"}, run)


@SCHEMAS
@each_run
def test_dataclass_and_pydantic_state_with_all_fields_given(run, schema):
    compare(lambda ns: typed_state(ns, schema), {"name": "bo", "count": 1, "log": ["x"]}, run)


# --- runnables as nodes ----------------------------------------------------------------


def runnable_nodes(ns):
    double = ns.RunnableLambda(lambda s: {"x": s["x"] * 2}, name="double")

    async def aplus(s):
        return {"x": s["x"] + 1, "log": ["aplus"]}

    def plus(s):
        return {"x": s["x"] + 1, "log": ["aplus"]}

    chain = ns.RunnableLambda(lambda s: s["x"]) | ns.RunnableLambda(lambda x: {"y": x * 100})

    g = ns.StateGraph(PlainState)
    g.add_node(double)  # named after the runnable
    g.add_node("plus", ns.RunnableLambda(aplus if ns.aio else plus))
    g.add_node("chain", chain)
    g.add_edge(ns.START, "double")
    g.add_edge("double", "plus")
    g.add_edge("plus", "chain")
    return g.compile()


@each_run
def test_runnable_nodes(run):
    items = compare(runnable_nodes, {"x": 3}, run)
    if run[1] is None:
        assert items == [{"x": 7, "y": 700, "log": ["aplus"]}]


def runnable_writer(ns):
    def talk(s):
        ns.get_stream_writer()({"who": "lambda", "x": s["x"]})
        return {"x": s["x"] + 1}

    g = ns.StateGraph(PlainState)
    g.add_node("talk", ns.RunnableLambda(talk))
    g.add_edge(ns.START, "talk")
    return g.compile()


@each_run
def test_runnable_node_with_stream_writer(run):
    compare(runnable_writer, {"x": 0}, run)


# --- more edges ------------------------------------------------------------------------


def pull_and_push(ns):
    """One step runs a node twice: pulled by name and pushed by ``Send``."""
    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: {"x": 2}))
    g.add_node("w", node(ns, lambda arg: {"log": [arg.get("x") if isinstance(arg, dict) else arg]}))
    g.add_edge(ns.START, "a")
    g.add_conditional_edges("a", lambda s: [ns.Send("w", 5), "w"])
    return g.compile()


def pull_push_who(mode, payload):
    if mode == "updates" and "w" in payload:
        return f"w{payload['w']['log'][0]}"
    return default_who(mode, payload)


@each_run
def test_node_pulled_and_sent_in_one_step(run):
    items = compare(pull_and_push, {"x": 1}, run, racy={"w"}, who=pull_push_who)
    if run[1] is None:
        assert items == [{"x": 2, "log": [2, 5]}]  # the pulled task's write first


def reached_twice(ns):
    """c is reached from a and b in one step (runs once), then again from d."""
    g = ns.StateGraph(PlainState)
    for name in "abcd":
        g.add_node(name, node(ns, lambda s, name=name: {"log": [name]}))
    g.add_edge(ns.START, "a")
    g.add_edge(ns.START, "b")
    g.add_edge("a", "c")
    g.add_edge("b", "c")
    g.add_edge("b", "d")
    g.add_edge("d", "c")
    return g.compile()


@each_run
def test_node_reached_from_two_nodes_in_one_step_runs_once(run):
    items = compare(reached_twice, {"x": 0}, run, racy=[{"a", "b"}, {"c", "d"}])
    if run[1] is None:
        assert items == [{"x": 0, "log": ["a", "b", "c", "d", "c"]}]


def join_in_loop(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: {"log": ["a"]}))
    g.add_node("b", node(ns, lambda s: {"log": ["b"]}))
    g.add_node("c", node(ns, lambda s: {"x": s["x"] + 1}))
    g.add_edge(ns.START, "a")
    g.add_edge(ns.START, "b")
    g.add_edge(["a", "b"], "c")
    g.add_conditional_edges("c", lambda s: ["a", "b"] if s["x"] < 3 else ns.END)
    return g.compile()


@each_run
def test_join_edge_rearms_in_a_loop(run):
    items = compare(join_in_loop, {"x": 0}, run, racy={"a", "b"})
    if run[1] is None:
        assert items == [{"x": 3, "log": ["a", "b"] * 3}]


def branch_results(ns, result, path_map=None, edge_too=False):
    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: {"x": 2}))
    g.add_node("b", node(ns, lambda s: {"log": ["b"]}))
    g.add_node("c", node(ns, lambda s: {"log": ["c"]}))
    g.add_edge(ns.START, "a")
    if edge_too:
        g.add_edge("a", "c")
    g.add_conditional_edges("a", lambda s: result(ns), path_map)
    return g.compile()


BRANCH_RESULTS = {
    "empty-list": (lambda ns: [], None, False),
    "tuple": (lambda ns: ("b", "c"), None, False),
    "end-and-node": (lambda ns: [ns.END, "b"], None, False),
    "duplicates": (lambda ns: ["b", "b"], None, False),
    "two-sends-same-arg": (lambda ns: [ns.Send("b", {}), ns.Send("b", {})], None, False),
    "list-through-map": (lambda ns: ["y", "z"], {"y": "b", "z": "c"}, False),
    "plus-plain-edge": (lambda ns: "b", None, True),
    "plus-plain-edge-same": (lambda ns: "c", None, True),
}


@pytest.mark.parametrize("case", list(BRANCH_RESULTS))
@each_run
def test_conditional_edge_results(run, case):
    result, path_map, edge_too = BRANCH_RESULTS[case]
    compare(
        lambda ns: branch_results(ns, result, path_map, edge_too), {"x": 0}, run, racy={"b", "c"}
    )


@each_run
def test_conditional_edge_result_missing_from_path_map(run):
    compare(
        lambda ns: branch_results(ns, lambda ns: "nope", {"yes": "b"}),
        {"x": 0},
        run,
        error=KeyError,
    )


def named_branches(ns):
    def to_b(state):
        return "b"

    def to_c(state):
        return "c"

    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: {"x": 2}))
    g.add_node("b", node(ns, lambda s: {"log": ["b"]}))
    g.add_node("c", node(ns, lambda s: {"log": ["c"]}))
    g.add_edge(ns.START, "a")
    g.add_conditional_edges("a", to_b)
    g.add_conditional_edges("a", to_c)
    return g.compile()


@each_run
def test_two_conditional_edges_from_one_node(run):
    compare(named_branches, {"x": 0}, run, racy={"b", "c"})


@pytest.mark.parametrize("limit", [2, 3])
@each_run
def test_recursion_limit_with_send(run, limit):
    compare(
        map_reduce,
        {"items": [1, 2]},
        run,
        config={"recursion_limit": limit},
        racy={"work"},
        who=send_who,
        error=LG.GraphRecursionError if limit <= 2 else None,
    )


def test_default_stream_mode_is_updates():
    def first_items(ns):
        graph = linear(SimpleNamespace(**vars(ns), aio=False))
        return norm(list(graph.stream({"n": 1})))

    assert first_items(ST) == first_items(LG)
    assert first_items(ST)[0] == {"a": {"n": 2, "log": ["a"]}}


@pytest.mark.parametrize(
    "mode", [["values"], ["custom"], ["updates"], ["values", "values"]], ids=str
)
@pytest.mark.parametrize("api", ["sync", "async"])
def test_single_and_repeated_modes_in_a_list(api, mode):
    compare(fan, {"x": 0}, (api, mode), racy={"a", "b"})


# --- builder errors --------------------------------------------------------------------


def _no_entry(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("a", lambda s: {})
    return g.compile()


def _edge_to_unknown(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("a", lambda s: {})
    g.add_edge(ns.START, "a")
    g.add_edge("a", "nowhere")
    return g.compile()


def _edge_from_unknown(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("a", lambda s: {})
    g.add_edge(ns.START, "a")
    g.add_edge("nowhere", "a")
    return g.compile()


def _duplicate(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("a", lambda s: {})
    g.add_node("a", lambda s: {})


def _reserved(ns, name):
    g = ns.StateGraph(PlainState)
    g.add_node(name, lambda s: {})


def _edge_from_end(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("a", lambda s: {})
    g.add_edge(ns.END, "a")


def _join_from_unknown(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("a", lambda s: {})
    g.add_node("c", lambda s: {})
    g.add_edge(ns.START, "a")
    g.add_edge(["a", "nowhere"], "c")
    return g.compile()


def _path_map_to_unknown(ns):
    g = ns.StateGraph(PlainState)
    g.add_node("a", lambda s: {})
    g.add_edge(ns.START, "a")
    g.add_conditional_edges("a", lambda s: "x", {"x": "nowhere"})
    return g.compile()


BUILDER_ERRORS = {
    "no-entry-point": _no_entry,
    "edge-to-unknown": _edge_to_unknown,
    "edge-from-unknown": _edge_from_unknown,
    "duplicate-node": _duplicate,
    "reserved-start": lambda ns: _reserved(ns, ns.START),
    "reserved-end": lambda ns: _reserved(ns, ns.END),
    "edge-from-end": _edge_from_end,
    "join-from-unknown": _join_from_unknown,
    "path-map-to-unknown": _path_map_to_unknown,
}


@pytest.mark.parametrize("case", list(BUILDER_ERRORS))
def test_builder_errors_are_value_errors_on_both_sides(case):
    for ns in (LG, ST):
        with pytest.raises(ValueError):
            BUILDER_ERRORS[case](ns)


# --- conditional edges see their node's writes; instances as updates ------------------
# (streamtui bugs these tests found, fixed in 40dbd2c)


def writer_in_branch(ns):
    def route(state):
        ns.get_stream_writer()({"who": "route", "x": state["x"]})
        return ns.END

    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: {"x": 2}))
    g.add_edge(ns.START, "a")
    g.add_conditional_edges("a", route)
    return g.compile()


@each_run
def test_stream_writer_in_a_conditional_edge(run):
    # the branch runs as part of its node's task: its custom items are streamed
    items = compare(writer_in_branch, {"x": 1}, run)
    if run[1] == "custom":
        assert items == [{"who": "route", "x": 2}]


def branch_reads_state(ns, sibling):
    def route(state):
        return "b" if state["log"] == ["a"] and "y" not in state else "c"

    def b(state):
        ns.get_stream_writer()({"who": "b"})
        return {"x": 100}

    def c(state):
        ns.get_stream_writer()({"who": "c"})
        return {"x": -100}

    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: {"log": ["a"]}))
    g.add_node("b", node(ns, b))
    g.add_node("c", node(ns, c))
    g.add_edge(ns.START, "a")
    if sibling:
        g.add_node("sibling", node(ns, lambda s: {"y": 1}))
        g.add_edge(ns.START, "sibling")
    g.add_conditional_edges("a", route)
    return g.compile()


@pytest.mark.parametrize("sibling", [False, True], ids=["alone", "with-sibling"])
@each_run
def test_conditional_edge_sees_only_its_nodes_writes(run, sibling):
    # the state before the step plus a's own writes: a reducer applied once, no sibling's
    items = compare(
        lambda ns: branch_reads_state(ns, sibling),
        {"x": 0},
        run,
        racy={"a", "sibling"},
    )
    if run[1] == "custom":
        assert items == [{"who": "b"}]


def pydantic_instance_input(ns):
    g = ns.StateGraph(PydState)
    g.add_node("a", node(ns, lambda s: {"log": [s.count]}))
    g.add_edge(ns.START, "a")
    return g.compile()


@each_run
def test_pydantic_instance_as_input(run):
    # every field that is not None is written, defaults included (not only fields_set)
    items = compare(pydantic_instance_input, PydState(name="in"), run)
    if run[1] == "values":
        assert items[0] == {"name": "in", "count": 0, "log": []}


@each_run
def test_pydantic_instance_as_input_all_fields_set(run):
    compare(pydantic_instance_input, PydState(name="in", count=3, log=[1]), run)


def pydantic_instance_return(ns):
    def show(state):
        ns.get_stream_writer()({"who": "show", "count": state.count})
        return {"log": [state.count]}

    g = ns.StateGraph(PydState)
    g.add_node("bump", node(ns, lambda s: {"count": 5}))
    g.add_node("rename", node(ns, lambda s: PydState(name="renamed")))
    g.add_node("show", node(ns, show))
    g.add_edge(ns.START, "bump")
    g.add_edge("bump", "rename")
    g.add_edge("rename", "show")
    return g.compile()


@each_run
def test_node_returning_a_pydantic_instance(run):
    # unset fields with non-None defaults are written too: count goes back to 0
    items = compare(pydantic_instance_return, {"name": "x"}, run)
    if run[1] is None:
        assert items == [{"name": "renamed", "count": 0, "log": [0]}]


def dataclass_instances(ns, where):
    def show(state):
        ns.get_stream_writer()({"who": "show", "count": state.count})
        return {"log": [state.count]}

    g = ns.StateGraph(DCState)
    if where == "return":
        g.add_node("make", node(ns, lambda s: DCState(name="made", count=4)))
        g.add_edge(ns.START, "make")
        g.add_edge("make", "show")
    else:
        g.add_edge(ns.START, "show")
    g.add_node("show", node(ns, show))
    return g.compile()


@pytest.mark.parametrize("where", ["input", "return"])
@each_run
def test_dataclass_instances_as_updates(run, where):
    input = DCState(name="in", count=2) if where == "input" else {"name": "in"}
    items = compare(lambda ns: dataclass_instances(ns, where), input, run)
    if run[1] is None:
        expected = {"name": "in", "count": 2} if where == "input" else {"name": "made", "count": 4}
        assert items == [{**expected, "log": [expected["count"]]}]


@pytest.mark.parametrize(
    "input",
    [{"count": 2}, {"name": 5}],
    ids=["missing-required", "wrong-type"],
)
@each_run
def test_pydantic_input_failing_validation(run, input):
    # validated before anything is streamed
    items = compare(pydantic_instance_input, input, run, error=pydantic.ValidationError)
    assert items == []


@each_run
def test_dataclass_input_missing_a_required_field(run):
    items = compare(lambda ns: typed_state(ns, DCState), {"count": 1}, run, error=TypeError)
    assert items == []


# --- nodes and edges taking config; async edges ----------------------------------------


def kw_only_config(ns):
    def read(state, *, config):
        return {"log": [config["configurable"]["who"]]}

    g = ns.StateGraph(PlainState)
    g.add_node("read", read)
    g.add_edge(ns.START, "read")
    return g.compile()


@each_run
def test_node_with_keyword_only_config(run):
    compare(kw_only_config, {"x": 0}, run, config={"configurable": {"who": "me"}})


def second_param_not_config(ns):
    def read(state, options=None):
        return {"log": [options is None]}

    g = ns.StateGraph(PlainState)
    g.add_node("read", read)
    g.add_edge(ns.START, "read")
    return g.compile()


@each_run
def test_node_second_parameter_not_named_config_gets_nothing(run):
    items = compare(second_param_not_config, {"x": 0}, run, config={"configurable": {"k": 1}})
    if run[1] is None:
        assert items == [{"x": 0, "log": [True]}]


def branch_with_config(ns):
    def route(state, config):
        return config["configurable"]["to"]

    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: {"x": 2}))
    g.add_node("b", node(ns, lambda s: {"log": ["b"]}))
    g.add_node("c", node(ns, lambda s: {"log": ["c"]}))
    g.add_edge(ns.START, "a")
    g.add_conditional_edges("a", route)
    return g.compile()


@each_run
def test_conditional_edge_taking_config(run):
    compare(branch_with_config, {"x": 0}, run, config={"configurable": {"to": "c"}})


def async_branch(ns):
    async def route(state):
        await asyncio.sleep(0)
        return "b" if state["x"] == 2 else "c"

    g = ns.StateGraph(PlainState)
    g.add_node("a", node(ns, lambda s: {"x": 2}))
    g.add_node("b", node(ns, lambda s: {"log": ["b"]}))
    g.add_node("c", node(ns, lambda s: {"log": ["c"]}))
    g.add_edge(ns.START, "a")
    g.add_conditional_edges("a", route)
    return g.compile()


ASYNC_RUNS = [r for r in RUNS if r[0] == "async"]


@pytest.mark.parametrize("run", ASYNC_RUNS, ids=[_run_id(r) for r in ASYNC_RUNS])
def test_async_conditional_edge(run):
    # an async path function is awaited: no "coroutine was never awaited" (warnings are
    # errors in this suite)
    compare(async_branch, {"x": 0}, run)


def metadata_graph(ns):
    def show(state, config):
        md = config.get("metadata") or {}
        seen = (
            md.get("langgraph_step"),
            md.get("langgraph_node"),
            tuple(md.get("langgraph_triggers") or ()),
        )
        ns.get_stream_writer()({"who": "show", "seen": seen})
        return {"log": [seen]}

    g = ns.StateGraph(PlainState)
    g.add_node("a", show)
    g.add_node("b", show)
    g.add_edge(ns.START, "a")
    g.add_edge("a", "b")
    return g.compile()


@each_run
def test_node_config_has_langgraph_metadata(run):
    items = compare(metadata_graph, {"x": 0}, run)
    if run[1] is None:
        assert items[0]["log"] == [(1, "a", ("branch:to:a",)), (2, "b", ("branch:to:b",))]
