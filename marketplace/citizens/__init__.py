"""Citizens' own pages: their care and support (the `citizens` blueprint, at /my).

Its routes are in the `*_views` modules, imported at the bottom so that the blueprint has them
all when the app registers it (as microblog does).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("citizens", __name__, url_prefix="/my")

from marketplace.citizens import (  # noqa: E402,F401
    budget_views,
    card_views,
    consent_views,
    details_views,
    isf_views,  # ISF (issue 18)
    note_views,
    order_views,
    outcome_views,  # OUTCOMES (issue 18)
    payment_views,
    question_views,
    record_log_views,
    review_views,  # REVIEWS (issue 19)
    shortlist_views,
    top_up_views,
    variation_views,  # VARIATIONS (issue 18)
)
