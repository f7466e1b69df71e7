"""Type-strict deep comparison of JSON values, for the JSON parser tests.

``1``, ``1.0`` and ``True`` are different here, and so are two dicts with the same items
in a different order: the parsers must agree on exactly what a consumer would see.
"""

from __future__ import annotations

import math
from typing import Any


def strict_diff(a: Any, b: Any, path: str = "$") -> str | None:
    """Where ``a`` and ``b`` first differ (a short description), or None if they are the
    same JSON value with the same types and the same dict key order."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r} != {type(b).__name__} {b!r}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)!r} != {list(b)!r}"
        for key in a:
            found = strict_diff(a[key], b[key], f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            found = strict_diff(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return None  # NaN (Python's json accepts it) equals NaN here
    if a != b or (isinstance(a, float) and math.copysign(1, a) != math.copysign(1, b)):
        return f"{path}: {a!r} != {b!r}"
    return None


def assert_strict_equal(a: Any, b: Any, context: str = "") -> None:
    found = strict_diff(a, b)
    assert found is None, f"{context}\n{found}\n  left:  {a!r}\n  right: {b!r}"
