"""The provider portal: an organisation's staff keep their listings, capacity, staff and
venues current (`views`, `staff_views`, `forms`), answer their orders (`order_views`,
`order_forms`) and the questions people ask about their services (`question_views`). The
HTTP edge only: the rules it calls live in `providers/`, `marketplace/orders/` and
`marketplace/people/questions.py`.

The blueprint is made here and the view modules add their routes to it when imported below,
so registering `bp` brings every portal page with it.
"""

from flask import Blueprint

bp = Blueprint("provider_portal", __name__, url_prefix="/provider")

from providers.portal import (  # noqa: E402, F401
    isf_views,  # ISF (issue 18)
    order_views,
    outcome_views,  # OUTCOMES (issue 18)
    question_views,
    remittance_views,  # PAYRUNS (issue 19)
    review_views,  # REVIEWS (issue 19)
    staff_views,
    variation_views,  # VARIATIONS (issue 18)
    views,
)
