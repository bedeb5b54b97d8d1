"""The `flask seed-demo` step for self-assessments in progress (issue 20, JOURNEY): a few
started and not sent, so the council's figures show some under way and some abandoned, and at
which question.

- Peter Lawson's daughter, two hours ago: about him and his first two needs; next, using the
  toilet (in progress).
- Doreen Mills, for herself, five weeks ago: stopped at washing (abandoned at a needs question).
- Kwame Asante's support broker, six weeks ago: every need answered, stopped at savings
  (abandoned at the money questions).

Each is made by the rules (`assessments.start` and `save_answer`, answer by answer, at moments
in the past), under the council's current resource allocation version, so the RAS step must
run first; with no version, nothing is made. Idempotent: an assessment in progress with one
of these names is left as it is and counted as existing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from marketplace.referrals import assessments, ras
from marketplace.referrals.models import AssessmentStatus, SelfAssessment
from marketplace.types import Session, utcnow

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

_NEEDS = {"nutrition": "some", "hygiene": "lot", "toileting": "none", "clothing": "some"}

# (how long ago it started, the answers in the order given, one minute apart)
IN_PROGRESS: tuple[tuple[timedelta, dict[str, Any]], ...] = (
    (
        timedelta(hours=2),
        {
            "who": "family",
            "who_name": "Grace Lawson, daughter",
            "full_name": "Peter Lawson",
            "postcode": "SG1 3EJ",
            "contact": {"email": "grace.lawson@demo.example.org", "phone": ""},
            "nutrition": "some",
            "hygiene": "lot",
        },
    ),
    (
        timedelta(days=35),
        {
            "who": "person",
            "full_name": "Doreen Mills",
            "postcode": "SG5 1AB",
            "contact": {"email": "", "phone": "01462 960 101"},
            "nutrition": "some",
        },
    ),
    (
        timedelta(days=42),
        {
            "who": "broker",
            "who_name": "Priya Shah, support broker",
            "full_name": "Kwame Asante",
            "postcode": "AL1 3JE",
            "contact": {"email": "priya.shah@demo.example.org", "phone": ""},
            **_NEEDS,
            "moving_home": "lot",
            "home_safe": "some",
            "relationships": "some",
            "work_learning": "none",
            "community": "lot",
            "caring_child": "none",
            "carer_support": "none",
            "conditions": ["physical", "sensory"],
            "in_your_words": "Help getting out to the shops and to church on Sundays.",
            "urgency": "soon",
        },
    ),
)


def seed_assessments(session: Session, now: datetime | None = None) -> SeedReport:
    """The assessments in progress above, whichever are missing, dated back from `now` (UTC;
    the real time by default). Flushes, never commits."""
    from marketplace.demo.seed import SeedReport, Tally

    made = Tally("self-assessments in progress")
    now = now or utcnow()
    if ras.current_version(session) is None:
        return SeedReport(tallies=[made])
    names = {
        (assessment.answers or {}).get("full_name")
        for assessment in session.scalars(
            select(SelfAssessment).where(SelfAssessment.status == AssessmentStatus.IN_PROGRESS)
        )
    }
    for ago, given in IN_PROGRESS:
        if given["full_name"] in names:
            made.existing += 1
            continue
        at = now - ago
        assessment = assessments.start(session, by=None, now=at)
        for minute, (key, value) in enumerate(given.items(), start=1):
            assessments.save_answer(
                session,
                assessment,
                key,
                value,
                revision_seen=assessment.revision,
                now=at + timedelta(minutes=minute),
            )
        made.created.append(assessment)
    session.flush()
    return SeedReport(tallies=[made])
