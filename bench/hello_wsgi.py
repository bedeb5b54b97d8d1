"""The baseline of bench/load.py: the least a WSGI app can do, served by the same gunicorn.

gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench hello_wsgi:app
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b"Hello, world\n"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer every request with 13 bytes of plain text."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
