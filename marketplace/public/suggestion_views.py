"""Suggestions as you type in the search box: a small JSON endpoint for the page's script.

`GET /search/suggestions?q=day+cen&limit=6` answers
``{"query": "day cen", "suggestions": [{"text": "Day centres", "term": "Day centres",
"kind": "category"}, ...]}`` (docs/search.md). Mistakes in the request answer 422 with a stable
code, `{"error": "validation_error", "message": ..., "details": {"fields": {"limit": ...}}}`,
and too many requests from one address 429 `rate_limited`, both as JSON.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from marketplace.extensions import limiter
from marketplace.public import bp
from providers.search_suggestions import suggester
from search.suggest import DEFAULT_LIMIT, MAX_LIMIT, MAX_TEXT_LENGTH

# Suggestions change only when the listings do: a browser may reuse one for a minute.
CACHE_SECONDS = 60


def _refused(fields: dict[str, str]) -> Response:
    response = jsonify(
        error="validation_error",
        message="The request has mistakes",
        details={"fields": fields},
    )
    response.status_code = 422
    return response


@bp.route("/search/suggestions")
@limiter.limit(lambda: current_app.config["SUGGESTION_RATE_LIMIT"])
def search_suggestions() -> Response:
    text = request.args.get("q", "")
    raw_limit = request.args.get("limit", str(DEFAULT_LIMIT))
    fields: dict[str, str] = {}
    if len(text) > MAX_TEXT_LENGTH:
        fields["q"] = f"Must be at most {MAX_TEXT_LENGTH} characters"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        fields["limit"] = f"Must be a whole number from 1 to {MAX_LIMIT}"
    if fields:
        return _refused(fields)
    found = suggester().suggest(text, int(raw_limit))
    response = jsonify(
        query=text,
        suggestions=[{"text": item.text, "term": item.term, "kind": item.kind} for item in found],
    )
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response
