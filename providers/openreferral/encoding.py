"""JSON text for the feed and the export, with money written as exact decimal numbers.

The standard library writes a Decimal as a string (or, through float, as an approximation).
ORUK's `amount` is a JSON number, and money here is never a float, so this writer emits a
Decimal's own digits as the number: 1250 pence becomes `12.50`, exactly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any


def dumps(value: Any, *, indent: int | None = None) -> str:
    """`value` (dicts, lists, strings, numbers, Decimals, booleans, None) as JSON text.

    Raises TypeError for anything else, and ValueError for a NaN or infinite number.
    """
    return "".join(_encode(value, indent, 0))


def _encode(value: Any, indent: int | None, level: int) -> Iterator[str]:
    if value is None:
        yield "null"
    elif value is True:
        yield "true"
    elif value is False:
        yield "false"
    elif isinstance(value, str):
        yield json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int):
        yield str(int(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as JSON")
        yield format(value, "f")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written as JSON")
        yield float.__repr__(value)
    elif isinstance(value, Mapping):
        yield from _container("{", "}", list(value.items()), indent, level, _member)
    elif isinstance(value, Sequence):
        yield from _container("[", "]", list(value), indent, level, _element)
    else:
        raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def _member(item: tuple[Any, Any], indent: int | None, level: int) -> Iterator[str]:
    key, value = item
    if not isinstance(key, str):
        raise TypeError(f"JSON object keys are strings, not {type(key).__name__}")
    yield json.dumps(key, ensure_ascii=False)
    yield ": " if indent is not None else ":"
    yield from _encode(value, indent, level)


def _element(item: Any, indent: int | None, level: int) -> Iterator[str]:
    yield from _encode(item, indent, level)


def _container(
    opening: str, closing: str, items: list[Any], indent: int | None, level: int, write: Any
) -> Iterator[str]:
    if not items:
        yield opening + closing
        return
    inner = "" if indent is None else "\n" + " " * (indent * (level + 1))
    outer = "" if indent is None else "\n" + " " * (indent * level)
    yield opening
    for number, item in enumerate(items):
        yield ("," if number else "") + inner
        yield from write(item, indent, level + 1)
    yield outer + closing
