"""Graph errors, with LangGraph's names."""

from __future__ import annotations

__all__ = ["EmptyInputError", "GraphRecursionError", "InvalidUpdateError"]


class InvalidUpdateError(ValueError):
    """A node wrote to the state in a way its schema does not allow."""


class GraphRecursionError(RecursionError):
    """The graph ran ``recursion_limit`` supersteps without reaching ``END``."""


class EmptyInputError(ValueError):
    """The graph was started with no input."""
