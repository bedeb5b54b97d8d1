"""The council's front door for the public (the `front_door` blueprint, at /self-assessment):
a self-assessment anyone can fill in, for themselves or for someone else, with or without an
account; the early indication of budget and the help offered at once; the referral's status;
and the assessment visit, which the person accepts, moves or cancels online (issue 20).

Its routes are in the `*_views` modules, imported at the bottom so that the blueprint has
them all when the app registers it (as microblog does).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("front_door", __name__, url_prefix="/self-assessment")

# The front door's tables are known to the app as soon as it has its pages.
from marketplace.front_door import (  # noqa: E402,F401
    assessment_views,  # JOURNEY (issue 20)
    help_views,  # HELP (issue 20)
    status_views,  # REFERRALS (issue 20)
    visit_views,  # VISITS (issue 20)
)
from marketplace.referrals import models as referral_models  # noqa: E402,F401
