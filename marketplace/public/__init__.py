"""Pages anyone can read without signing in (the `public` blueprint, made here).

Its routes are in `views`, `search_views` and `suggestion_views`, imported at the bottom so
that the blueprint has them all when the app registers it (as microblog does).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from marketplace.public import (  # noqa: E402,F401
    report_views,  # QUEUES (issue 19)
    search_views,
    shortlist_views,
    suggestion_views,
    views,
)
