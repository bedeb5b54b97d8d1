"""The council's resource allocation system (RAS, issue 20 item 2): its configuration, its
versions, and the early indication of budget it gives a self-assessment.

RAS part: fills in the configuration's shape and checks, `make_indication` and the rest.
"""

from __future__ import annotations

from sqlalchemy import select

from marketplace.referrals.models import Indication, RasVersion, SelfAssessment
from marketplace.types import Session


def current_version(session: Session) -> RasVersion | None:
    """The version new self-assessments take (the highest number), or None before the
    council has configured one."""
    return session.scalars(select(RasVersion).order_by(RasVersion.number.desc()).limit(1)).first()


def make_indication(session: Session, assessment: SelfAssessment) -> Indication:
    """The indication for a self-assessment being sent, from its own version (flushed)."""
    raise NotImplementedError("RAS part")
