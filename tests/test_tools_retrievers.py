"""Tools (schema, calls, errors) and retrieval (BM25 ranking, extension points)."""

from __future__ import annotations

import asyncio

import pytest

from streamtui import (
    BaseRetriever,
    Document,
    InMemoryRetriever,
    ToolException,
    ToolMessage,
    tool,
)


@tool
def multiply(a: int, b: int = 2) -> int:
    """Multiply two numbers.

    Args:
        a: the first factor
        b: the second factor
    """
    return a * b


def test_schema_from_signature_and_docstring():
    assert multiply.name == "multiply"
    assert multiply.description == "Multiply two numbers."
    params = multiply.tool_call_schema["parameters"]
    assert params["required"] == ["a"]
    assert params["properties"]["a"]["type"] == "integer"
    assert params["properties"]["a"]["description"] == "the first factor"
    assert params["properties"]["b"]["default"] == 2


def test_invoke_with_a_dict_coerces_and_validates():
    assert multiply.invoke({"a": "3"}) == 6
    with pytest.raises(Exception, match="a"):
        multiply.invoke({"b": 3})


def test_invoke_with_a_tool_call_returns_a_tool_message():
    out = multiply.invoke(
        {"name": "multiply", "args": {"a": 4, "b": 5}, "id": "call_9", "type": "tool_call"}
    )
    assert out == ToolMessage(content="20", tool_call_id="call_9", name="multiply")


def test_tool_error_event_carries_the_tool_call_id():
    @tool
    def fragile(x: str) -> str:
        """Always fails."""
        raise RuntimeError("no")

    async def main():
        events = []
        try:
            async for e in fragile.astream_events(
                {"name": "fragile", "args": {"x": "1"}, "id": "c7", "type": "tool_call"}
            ):
                events.append(e)
        except RuntimeError as e:
            return events, e
        return events, None

    events, error = asyncio.run(main())
    assert str(error) == "no"
    err = [e for e in events if e["event"] == "on_tool_error"]
    assert err and err[0]["data"]["tool_call_id"] == "c7"
    assert err[0]["data"]["error"] is error


def test_handled_tool_exception_becomes_an_error_tool_message():
    @tool(handle_tool_error=True)
    def picky(x: int) -> int:
        """Rejects everything."""
        raise ToolException("not today")

    out = picky.invoke({"name": "picky", "args": {"x": 1}, "id": "c1", "type": "tool_call"})
    assert out.status == "error" and out.content == "not today"


def test_async_tool_and_string_input():
    @tool
    async def echo(text: str) -> str:
        """Echo the text."""
        return text * 2

    assert asyncio.run(echo.ainvoke("ab")) == "abab"
    assert echo.invoke("cd") == "cdcd"


def test_tool_without_description_is_refused():
    with pytest.raises(ValueError, match="needs a description"):

        @tool
        def bare(x: int) -> int:
            return x


def test_bm25_ranks_by_relevance():
    docs = [
        Document("cats purr and cats sleep", {"id": 1}),
        Document("dogs bark", {"id": 2}),
        Document("a cat met a dog", {"id": 3}),
        Document("the weather is mild", {"id": 4}),
    ]
    retriever = InMemoryRetriever(docs, k=3)
    result = retriever.invoke("cats")
    assert [d.metadata["id"] for d in result] == [1]
    both = retriever.invoke("dog bark")
    assert [d.metadata["id"] for d in both] == [2, 3]
    assert retriever.invoke("nothing matches") == []
    scores = retriever.scores("cats")
    assert scores[0] > 0 and scores[3] == 0


def test_retriever_extension_point_and_events():
    class Fixed(BaseRetriever):
        def _get_relevant_documents(self, query, *, run_manager=None):
            assert run_manager is not None
            return [Document(query.upper())]

    retriever = Fixed()
    assert retriever.invoke("q") == [Document("Q")]

    async def main():
        return [e async for e in retriever.astream_events("q")]

    events = asyncio.run(main())
    assert [e["event"] for e in events] == ["on_retriever_start", "on_retriever_end"]
    assert events[-1]["data"]["output"] == [Document("Q")]


def test_base_tool_subclass_gets_a_string_positionally():
    from streamtui import BaseTool

    class Search(BaseTool):
        name = "search"
        description = "Search the web."

        def _run(self, query: str) -> str:
            return f"results for {query}"

    assert Search().invoke("cats") == "results for cats"
