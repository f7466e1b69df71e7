"""Retrieval: ``Document``, the ``BaseRetriever`` extension point and a BM25 retriever."""

from __future__ import annotations

import inspect
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from streamtui.runtime.base import Runnable
from streamtui.runtime.config import RunnableConfig, run_in_executor
from streamtui.runtime.tracing import CallbackManagerForRun, Run

__all__ = ["BaseRetriever", "Document", "InMemoryRetriever"]


class Document:
    """A piece of text and its metadata."""

    __slots__ = ("id", "metadata", "page_content", "type")

    def __init__(
        self,
        page_content: str,
        metadata: dict[str, Any] | None = None,
        id: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(page_content, str):
            raise TypeError(f"page_content must be text, got {type(page_content).__name__}")
        self.page_content = page_content
        self.metadata = dict(metadata or {})
        self.id = id
        self.type = "Document"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Document):
            return NotImplemented
        return (self.page_content, self.metadata, self.id) == (
            other.page_content,
            other.metadata,
            other.id,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        id_part = f"id={self.id!r}, " if self.id is not None else ""
        return f"Document({id_part}metadata={self.metadata!r}, page_content={self.page_content!r})"

    def model_dump(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "metadata": self.metadata,
            "page_content": self.page_content,
            "type": "Document",
        }


def _wants_run_manager(method: Any) -> bool:
    try:
        return "run_manager" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


class BaseRetriever(Runnable[str, list[Document]]):
    """Finds documents for a query; a ``retriever`` run in events.

    Subclasses implement ``_get_relevant_documents(query, *, run_manager)`` and may
    implement ``_aget_relevant_documents`` (by default the sync one runs in a thread).
    """

    run_type = "retriever"

    def _get_relevant_documents(self, query: str, *, run_manager: Any = None) -> list[Document]:
        raise NotImplementedError(f"{type(self).__name__} must implement _get_relevant_documents")

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: Any = None
    ) -> list[Document]:
        return await run_in_executor(self._sync_get, query, run_manager)

    def _sync_get(self, query: str, run_manager: Any) -> list[Document]:
        method = self._get_relevant_documents
        if _wants_run_manager(method):
            return method(query, run_manager=run_manager)
        return method(query)

    @staticmethod
    def _check(query: Any) -> str:
        if not isinstance(query, str):
            raise TypeError(f"a retriever takes a query string, not {type(query).__name__}")
        return query

    def invoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        def body(query: str, config: RunnableConfig, run: Run | None) -> list[Document]:
            return self._sync_get(self._check(query), CallbackManagerForRun(run))

        return self._call(body, input, config, inputs_as={"query": input})

    async def ainvoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        async def body(query: str, config: RunnableConfig, run: Run | None) -> list[Document]:
            method = self._aget_relevant_documents
            manager = CallbackManagerForRun(run)
            if _wants_run_manager(method):
                return await method(self._check(query), run_manager=manager)
            return await method(self._check(query))

        return await self._acall(body, input, config, inputs_as={"query": input})

    def get_relevant_documents(self, query: str) -> list[Document]:
        return self.invoke(query)


_TOKEN = re.compile(r"\w+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


class InMemoryRetriever(BaseRetriever):
    """BM25 (Okapi) ranking over documents held in memory; returns the top ``k``.

    Documents that share no term with the query are never returned.
    """

    def __init__(
        self,
        documents: Iterable[Document] = (),
        *,
        k: int = 4,
        k1: float = 1.5,
        b: float = 0.75,
        name: str | None = None,
    ) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.k = k
        self.k1 = k1
        self.b = b
        self.name = name
        self.documents: list[Document] = []
        self._freqs: list[Counter[str]] = []
        self._lengths: list[int] = []
        self._df: Counter[str] = Counter()
        self.add_documents(documents)

    @classmethod
    def from_texts(
        cls, texts: Iterable[str], metadatas: Sequence[dict[str, Any]] | None = None, **kwargs: Any
    ) -> InMemoryRetriever:
        texts = list(texts)
        metas = list(metadatas) if metadatas is not None else [{} for _ in texts]
        if len(metas) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(metas)} metadatas")
        return cls([Document(t, m) for t, m in zip(texts, metas)], **kwargs)

    @classmethod
    def from_documents(cls, documents: Iterable[Document], **kwargs: Any) -> InMemoryRetriever:
        return cls(documents, **kwargs)

    def add_documents(self, documents: Iterable[Document]) -> None:
        for doc in documents:
            terms = Counter(_tokens(doc.page_content))
            self.documents.append(doc)
            self._freqs.append(terms)
            self._lengths.append(sum(terms.values()))
            self._df.update(terms.keys())

    def scores(self, query: str) -> list[float]:
        """The BM25 score of every document for ``query``."""
        n = len(self.documents)
        if n == 0:
            return []
        avg_len = (sum(self._lengths) / n) or 1.0
        terms = _tokens(query)
        out = []
        for freqs, length in zip(self._freqs, self._lengths):
            score = 0.0
            for term in terms:
                tf = freqs.get(term)
                if not tf:
                    continue
                df = self._df[term]
                idf = math.log((n - df + 0.5) / (df + 0.5) + 1.0)
                norm = tf + self.k1 * (1 - self.b + self.b * length / avg_len)
                score += idf * tf * (self.k1 + 1) / norm
            out.append(score)
        return out

    def _get_relevant_documents(self, query: str, *, run_manager: Any = None) -> list[Document]:
        scored = [(s, i) for i, s in enumerate(self.scores(query)) if s > 0]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [self.documents[i] for _, i in scored[: self.k]]
