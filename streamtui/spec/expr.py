"""Small safe expressions over the graph state, for conditional edges (``route:``).

``state['score'] < 3 and len(state['log']) < 5``: parsed with ``ast`` and evaluated by
walking the tree here — never ``eval``/``exec``/``compile`` — over a closed set of node
types, so a spec file cannot run code (no attributes but ``.get``, no calls but a few
pure builtins, no names but ``state``). Anything else is refused when the file loads,
at the offending part's offset.
"""

from __future__ import annotations

import ast
import builtins
import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

from streamtui.spec.errors import did_you_mean

__all__ = ["ExpressionError", "ExpressionKeyError", "ExpressionProblem", "SafeExpression"]

_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "any": any,
    "all": all,
    "sum": sum,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "round": round,
}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_NAMES = {
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "':='",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
    ast.Starred: "'*' unpacking",
}
_ALLOWED = (
    "state, constants, [key] lookups, .get(), comparisons, and/or/not, + - * / // %, "
    "len() and a few builtins"
)


class ExpressionProblem(Exception):
    """An expression refused at load time; ``offset`` is the character it is about."""

    def __init__(self, message: str, offset: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class ExpressionError(Exception):
    """An expression failed while the graph ran (a missing key, a wrong type)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ExpressionKeyError(ExpressionError, KeyError):
    """The state (or a value in it) has no such key or index."""


class SafeExpression:
    """A checked expression; call it with the state to evaluate it."""

    def __init__(
        self, text: str, *, where: str = "", state_keys: Collection[str] | None = None
    ) -> None:
        self.text = text
        self.where = where
        # YAML block scalars keep newlines; spaces keep every character's offset.
        self._src = text.replace("\n", " ").replace("\r", " ")
        stripped = self._src.lstrip()
        self._lead = len(self._src) - len(stripped)
        if not stripped.strip():
            raise ExpressionProblem("the route expression is empty", None)
        try:
            tree = ast.parse(stripped.rstrip(), mode="eval")
        except SyntaxError as e:
            body = stripped.rstrip()
            if not e.offset or e.offset > len(body):  # the text ended before the expression
                offset, tail = len(body), " (it ends too early)"
            else:
                offset, tail = e.offset - 1, ""
            raise ExpressionProblem(
                f"route is not a valid expression: {e.msg}{tail}", offset + self._lead
            ) from None
        self._tree = tree.body
        self._check(self._tree, state_keys)
        self.__name__ = f"route({text.strip()})"  # the branch's name in graph drawings

    def __repr__(self) -> str:
        return f"SafeExpression({self.text!r})"

    # --- load time ----------------------------------------------------------------

    def _offset(self, node: ast.AST, end: bool = False) -> int:
        """The character offset of ``node`` in the original text (ast counts bytes)."""
        col = node.end_col_offset if end else node.col_offset  # type: ignore[attr-defined]
        line = self._src[self._lead :]
        return self._lead + len(line.encode("utf-8")[: col or 0].decode("utf-8", "ignore"))

    def _refuse(self, node: ast.AST, message: str, offset: int | None = None) -> ExpressionProblem:
        return ExpressionProblem(message, self._offset(node) if offset is None else offset)

    def _check(self, node: ast.AST, keys: Collection[str] | None) -> None:
        """Refuse every node type the evaluator does not handle, and unknown state keys."""
        if isinstance(node, ast.Constant):
            return
        if isinstance(node, ast.Name):
            if node.id == "state":
                return
            if node.id in _FUNCTIONS:
                hint = f"; call it: {node.id}(...)"
            elif node.id.startswith("_") or node.id in vars(builtins):
                hint = f"; only {', '.join(f'{n}()' for n in _FUNCTIONS)} may be called"
            else:
                hint = f"; to read the state write state['{node.id}']"
            raise self._refuse(node, f"'{node.id}' is not allowed in a route{hint}")
        if isinstance(node, ast.Attribute):
            at = self._offset(node, end=True) - len(node.attr)
            raise self._refuse(
                node,
                f"attribute '.{node.attr}' is not allowed in a route; read keys with "
                "state['key'] or state.get('key')",
                offset=at,
            )
        if isinstance(node, ast.Subscript):
            self._check(node.value, keys)
            self._check(node.slice, keys)
            self._check_key(node.value, node.slice, keys)
            return
        if isinstance(node, ast.Slice):
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self._check(part, keys)
            return
        if isinstance(node, ast.Call):
            self._check_call(node, keys)
            return
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                symbol = "**" if isinstance(node.op, ast.Pow) else type(node.op).__name__
                raise self._refuse(node, f"operator {symbol} is not allowed in a route")
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise self._refuse(node, "operator ~ is not allowed in a route")
        elif not isinstance(
            node, (ast.BoolOp, ast.Compare, ast.IfExp, ast.List, ast.Tuple, ast.Set, ast.Dict)
        ):
            what = _NAMES.get(type(node), f"'{type(node).__name__}'")
            raise self._refuse(node, f"{what} is not allowed in a route (allowed: {_ALLOWED})")
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.expr_context, ast.boolop, ast.cmpop, ast.operator)):
                continue
            if isinstance(child, ast.unaryop):
                continue
            self._check(child, keys)
        if isinstance(node, ast.Dict) and any(k is None for k in node.keys):
            raise self._refuse(node, "'**' unpacking is not allowed in a route")

    def _check_call(self, node: ast.Call, keys: Collection[str] | None) -> None:
        if node.keywords:
            raise self._refuse(node.keywords[0], "keyword arguments are not allowed in a route")
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and 1 <= len(node.args) <= 2:
            self._check(func.value, keys)
            for arg in node.args:
                self._check(arg, keys)
            self._check_key(func.value, node.args[0], keys)
            return
        if isinstance(func, ast.Name) and func.id in _FUNCTIONS:
            for arg in node.args:
                self._check(arg, keys)
            return
        if isinstance(func, ast.Attribute):  # what it is called on may be the real problem
            self._check(func.value, keys)
        self._check(func, keys)  # an attribute or unknown name: refused with its own message
        raise self._refuse(func, f"calling {ast.unparse(func)}() is not allowed in a route")

    def _check_key(self, container: ast.AST, key: ast.AST, keys: Collection[str] | None) -> None:
        """``state['scor']`` with a constant key: the state must declare it."""
        if keys is None or not (isinstance(container, ast.Name) and container.id == "state"):
            return
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value not in keys:
            raise self._refuse(
                key,
                f"the state has no key '{key.value}'{did_you_mean(key.value, keys)} "
                f"(declared: {', '.join(keys) or 'none'})",
            )

    # --- run time -----------------------------------------------------------------

    def __call__(self, state: Any) -> Any:
        return self._eval(self._tree, state)

    def _fail(self, message: str, cls: type[ExpressionError] = ExpressionError) -> ExpressionError:
        where = f"{self.where}: " if self.where else ""
        return cls(f"{where}route {self.text.strip()!r}: {message}")

    def _source(self, node: ast.AST) -> str:
        return ast.get_source_segment(self._src[self._lead :], node) or "the value"

    def _eval(self, node: ast.AST, state: Any) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return state
        if isinstance(node, ast.Subscript):
            container = self._eval(node.value, state)
            key = self._eval(node.slice, state)
            try:
                return container[key]
            except KeyError:
                keys = ", ".join(map(str, container)) if isinstance(container, Mapping) else ""
                raise self._fail(
                    f"{self._source(node.value)} has no key {key!r}"
                    + (f" (it has: {keys})" if keys else " (it is empty)"),
                    ExpressionKeyError,
                ) from None
            except IndexError:
                raise self._fail(
                    f"index {key!r} is out of range for {self._source(node.value)} "
                    f"(length {len(container)})",
                    ExpressionKeyError,
                ) from None
            except TypeError as e:
                raise self._fail(
                    f"cannot look up {key!r} in {self._source(node.value)}: {e}"
                ) from None
        if isinstance(node, ast.Slice):
            parts = (node.lower, node.upper, node.step)
            return slice(*(None if p is None else self._eval(p, state) for p in parts))
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            value: Any = None
            for item in node.values:
                value = self._eval(item, state)
                if bool(value) is not is_and:
                    return value
            return value
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, state)
            for op, comparator in zip(node.ops, node.comparators):
                right = self._eval(comparator, state)
                if not self._apply(_COMPARE[type(op)], left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.BinOp):
            return self._apply(
                _BINARY[type(node.op)], self._eval(node.left, state), self._eval(node.right, state)
            )
        if isinstance(node, ast.UnaryOp):
            return self._apply(_UNARY[type(node.op)], self._eval(node.operand, state))
        if isinstance(node, ast.IfExp):
            test = self._eval(node.test, state)
            return self._eval(node.body if test else node.orelse, state)
        if isinstance(node, ast.Call):
            return self._call(node, state)
        if isinstance(node, ast.List):
            return [self._eval(e, state) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self._eval(e, state) for e in node.elts)
        if isinstance(node, ast.Set):
            return {self._eval(e, state) for e in node.elts}
        if isinstance(node, ast.Dict):
            return {
                self._eval(k, state): self._eval(v, state)
                for k, v in zip(node.keys, node.values)
                if k is not None
            }
        raise self._fail(f"cannot evaluate {type(node).__name__}")  # refused at load time

    def _call(self, node: ast.Call, state: Any) -> Any:
        args = [self._eval(a, state) for a in node.args]
        func = node.func
        if isinstance(func, ast.Attribute):  # .get(key[, default])
            container = self._eval(func.value, state)
            if not isinstance(container, Mapping):
                raise self._fail(
                    f"{self._source(func.value)} is {type(container).__name__}, not a mapping, "
                    "so it has no .get()"
                )
            return container.get(*args)
        assert isinstance(func, ast.Name)
        return self._apply(_FUNCTIONS[func.id], *args)

    def _apply(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except (TypeError, ValueError, ZeroDivisionError, ArithmeticError) as e:
            raise self._fail(f"{type(e).__name__}: {e}") from None
