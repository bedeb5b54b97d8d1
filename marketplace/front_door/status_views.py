"""The front door's pages (REFERRALS, issue 20): the referral's status, for the person or whoever
filled it in (the browser that sent it, or an account it belongs to: `access.assessment_or_404`),
with its reference, its status in plain words, its timeline (the steps shown to the person),
what happens next, and a link to the assessment visit when one is offered or booked.
"""

from __future__ import annotations

import uuid

from flask import abort, render_template

from marketplace.extensions import db
from marketplace.front_door import bp
from marketplace.front_door.access import assessment_or_404
from marketplace.referrals import referral_lists
from marketplace.referrals.questions import for_someone_else


@bp.route("/<uuid:assessment_id>/status")
def status(assessment_id: uuid.UUID) -> str:
    assessment = assessment_or_404(assessment_id)
    referral = assessment.referral
    if referral is None:  # not sent yet: there is no referral to follow
        abort(404)
    return render_template(
        "front_door/status/status.html",
        assessment=assessment,
        referral=referral,
        timeline=referral_lists.timeline(referral, for_person=True),
        live_visit=referral_lists.live_visit(db.session, referral),
        someone_else=for_someone_else(assessment.answers),
    )
