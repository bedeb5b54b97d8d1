"""Council officers' pages (the `council` blueprint, at /council): the market, providers,
people, their budgets and plans, funders, orders and the CQC's ratings.

Its routes are in `views` and the `*_views` modules, imported at the bottom so that the
blueprint has them all when the app registers it (as microblog does).
"""

from __future__ import annotations

from flask import Blueprint

from marketplace.pages.acting_for import load_person_from_url

bp = Blueprint("council", __name__, url_prefix="/council")
# The person pages (/council/people/<person_id>/...) read their person with acting_for(): every
# one of them is for officers (find_people), who may see anyone's (view_person).
load_person_from_url(bp, gate="find_people", action="view_person")

# The console's and the finance records' tables (issue 19) are the council's: the app knows
# them as soon as it has the council's pages.
from marketplace.console import models as console_models  # noqa: E402,F401
from marketplace.council import (  # noqa: E402,F401
    audit_views,
    brokerage_views,
    budget_views,
    consent_views,
    cqc_views,
    details_views,
    diary_views,  # VISITS (issue 20)
    figures_views,  # CLOSE+FIGURES (issue 19)
    finance_export_views,  # FINEXPORT (issue 19)
    funder_views,
    insight_views,  # INSIGHT (issue 19)
    isf_views,  # ISF (issue 18)
    lead_views,
    order_views,
    outcome_views,  # OUTCOMES (issue 18)
    payment_run_views,  # PAYRUNS (issue 19)
    payment_views,
    performance_views,  # PERF (issue 19)
    period_end_views,  # CLOSE (issue 19)
    pot_line_views,  # RECON (issue 19)
    queue_views,  # QUEUES (issue 19)
    ras_views,  # RAS (issue 20)
    reablement_views,  # REABLEMENT (issue 18)
    reconciliation_views,  # RECON (issue 19)
    referral_views,  # REFERRALS (issue 20)
    review_views,  # REVIEWS (issue 19)
    variation_views,  # VARIATIONS (issue 18)
    views,
)
from marketplace.finance import models as finance_models  # noqa: E402,F401
