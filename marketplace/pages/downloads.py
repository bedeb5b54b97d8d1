"""Sending a CSV file to a signed-in user: never cached, named for what it holds."""

from __future__ import annotations

import re

from flask import Response


def csv_download(text: str, filename: str) -> Response:
    """`text` as an attachment called `filename` (made safe: lower case, letters, digits,
    dashes and one ".csv")."""
    stem = re.sub(r"[^a-z0-9]+", "-", filename.lower().removesuffix(".csv")).strip("-") or "export"
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{stem}.csv"',
            "Cache-Control": "private, no-store",
        },
    )
