"""Reading an API request's JSON body: JSON the rules can use, or a 400 saying why not.

Werkzeug's `get_json(silent=True)` turns malformed JSON into None (the views answer 422 asking
for a JSON object) but lets two things through that became 500s: JSON nested so deeply that
parsing it overflows the stack (`RecursionError` from 100,000 brackets), and strings that are
not text a database can keep: a lone surrogate (`"\\ud800"`, which no UTF-8 encoder accepts)
or a NUL (`"\\u0000"`, which PostgreSQL refuses). Both are answered here with the house JSON
error, `bad_request` (400), naming where in the body the problem is.
"""

from __future__ import annotations

from typing import Any

from flask import request

from marketplace.api.problems import ApiProblem

# Deeper than any request of this API (an order is three levels deep): anything deeper is
# refused before a view or an encoder recurses over it.
MAX_DEPTH = 32


def json_body() -> Any:
    """The request's JSON value, or None when it has none or it is not JSON.

    Raises ApiProblem `bad_request` (400) for JSON nested more than MAX_DEPTH deep or holding
    a string (or key) with a lone surrogate or a NUL.
    """
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise _refusal(
            "body", f"The JSON is nested too deeply (more than {MAX_DEPTH} levels)"
        ) from None
    if body is not None:
        _check(body)
    return body


def _refusal(where: str, message: str) -> ApiProblem:
    return ApiProblem("bad_request", message, status=400, field=where)


def _check(body: Any) -> None:
    """Walk the JSON value without recursion (it may be deep), checking every string."""
    pending: list[tuple[Any, str, int]] = [(body, "body", 1)]
    while pending:
        value, where, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _refusal(where, f"The JSON is nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(value, str):
            _check_text(value, where)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, where)
                pending.append((item, f"{where}.{_printable(key)}", depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{where}.{n}", depth + 1) for n, item in enumerate(value))


def _check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise _refusal(
            where, "Text in the JSON contains a NUL character (\\u0000), which cannot be stored"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _refusal(
            where,
            "Text in the JSON contains a lone surrogate (like \\ud800): it is not Unicode text",
        ) from None


def _printable(key: str) -> str:
    """A key as it can be shown in `details.field`: lone surrogates and NUL escaped, cut short."""
    escaped = key.encode("utf-8", "backslashreplace").decode("utf-8")
    return escaped.replace("\x00", "\\x00")[:100]
