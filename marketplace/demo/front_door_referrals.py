"""The `flask seed-demo` step for the council's referrals (REFERRALS, issue 20): self-assessments
sent to the council, one or more in every state, so a demo officer has a queue to work and the
figures have a journey to show. Runs after `seed_ras` (it needs a resource allocation version)
and before VISITS' seed (which books visits for those waiting for one).

- Doreen Pike, leaving Lister Hospital tomorrow, sent by the discharge team 3 hours ago: received.
- Arthur Bell, whose wife can no longer lift him, sent by his daughter yesterday: received, urgent.
- Margaret Oyelaran, sent 4 days ago: in contact (phoned 2 days ago).
- Kenneth Row, sent 10 days ago: resolved at first contact (grab rails and a perching stool).
- Priya Shah (memory problems) and Leonard Fisk (sight loss): waiting for an assessment visit.
- Edith Crane, sent 20 days ago: assessed at a visit, waiting for the council's decision.
- Thomas Greaves, sent 30 days ago: converted into a record, a draft plan and a budget.
- Ruby Nolan, sent 15 days ago: closed (she moved to her son's in Leeds).

Everything goes through the rules: `assessments.start`, `save_answer` and `submit` (so each has
its indication and its referral), then the queue's steps at moments in the past. Idempotent: a
name already sent is left as it is.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import queries as budget_queries
from marketplace.budgets.models import PaymentFrequency, StreamKind
from marketplace.budgets.rules import financial_year_of
from marketplace.formatting import LONDON
from marketplace.referrals import assessments, conversion, queue, ras
from marketplace.referrals.models import (
    AssessmentStatus,
    Referral,
    ReferralStatus,
    SelfAssessment,
)
from marketplace.types import Session, utcnow

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

_BASE: dict[str, Any] = {
    "who": "person",
    "nutrition": "some",
    "hygiene": "some",
    "toileting": "none",
    "clothing": "some",
    "moving_home": "some",
    "home_safe": "some",
    "relationships": "none",
    "work_learning": "none",
    "community": "some",
    "caring_child": "none",
    "carer_support": "none",
    "conditions": ["physical"],
    "urgency": "soon",
    "savings": "under_lower",
    "income": "200_400",
}


def _answers(name: str, postcode: str, email: str, phone: str, **changes: Any) -> dict[str, Any]:
    return {
        **_BASE,
        "full_name": name,
        "postcode": postcode,
        "contact": {"email": email, "phone": phone},
        **changes,
    }


# (name, days ago sent, answers, the steps after it was sent: (step, days ago, details))
REFERRALS: tuple[tuple[str, float, dict[str, Any], tuple[tuple[str, float, str], ...]], ...] = (
    (
        "Doreen Pike",
        0.125,
        _answers(
            "Doreen Pike",
            "SG1 4AB",
            "",
            "01438 555 201",
            who="professional",
            who_name="Jo Amos, Lister Hospital discharge team",
            urgency="leaving_hospital",
            hygiene="lot",
            clothing="lot",
            moving_home="lot",
            conditions=["physical", "long_term_illness"],
            in_your_words="Doreen had a fall and a hip replacement. She goes home tomorrow and "
            "needs help getting up, washed and dressed for the first weeks.",
        ),
        (),
    ),
    (
        "Arthur Bell",
        1,
        _answers(
            "Arthur Bell",
            "SG2 7QT",
            "claire.bell@demo.example.org",
            "07700 900 311",
            who="family",
            who_name="Claire Bell, daughter",
            urgency="urgent",
            hygiene="lot",
            toileting="lot",
            moving_home="unable",
            carer_support="most",
            carer_coping="no",
            in_your_words="Mum can no longer lift Dad after his stroke. We need help in the "
            "mornings and evenings before she hurts herself.",
        ),
        (),
    ),
    (
        "Joan Whitby",
        0.25,
        _answers(
            "Joan Whitby",
            "SG2 8RD",
            "joan.whitby@demo.example.org",
            "01438 555 617",
            home_safe="some",
            relationships="some",
            in_your_words="I am managing, but the house is getting too much for me and I "
            "would like to know what help there is.",
        ),
        (),
    ),
    (
        "Margaret Oyelaran",
        4,
        _answers(
            "Margaret Oyelaran",
            "SG5 1DX",
            "m.oyelaran@demo.example.org",
            "",
            community="some",
            relationships="some",
            in_your_words="I want to get to church and the shops again, and have someone to "
            "talk to.",
        ),
        (("contact", 2, "phone"),),
    ),
    (
        "Kenneth Row",
        10,
        _answers(
            "Kenneth Row",
            "SG4 9HN",
            "ken.row@demo.example.org",
            "01462 555 118",
            hygiene="some",
            moving_home="some",
            in_your_words="I struggle getting in and out of the bath and up from the toilet.",
        ),
        (("resolve", 8, "equipment"),),
    ),
    (
        "Priya Shah",
        6,
        _answers(
            "Priya Shah",
            "SG1 2LP",
            "anil.shah@demo.example.org",
            "07700 900 412",
            who="family",
            who_name="Anil Shah, son",
            conditions=["dementia"],
            nutrition="lot",
            home_safe="lot",
            carer_support="daily",
            carer_coping="struggling",
            in_your_words="Mum forgets to eat and has left the gas on twice this month.",
        ),
        (("contact", 5, "phone"), ("visit", 5, "")),
    ),
    (
        "Leonard Fisk",
        5,
        _answers(
            "Leonard Fisk",
            "SG6 3JZ",
            "",
            "01462 555 730",
            conditions=["sensory"],
            home_safe="lot",
            community="lot",
            in_your_words="My sight has gone. I cannot read my post or get to the shops alone.",
        ),
        (("visit", 4, ""),),
    ),
    (
        "Edith Crane",
        20,
        _answers(
            "Edith Crane",
            "SG2 0HR",
            "edith.crane@demo.example.org",
            "",
            hygiene="lot",
            clothing="lot",
            nutrition="lot",
            in_your_words="I would like help in the morning so I can stay in my own home.",
        ),
        (("contact", 18, "visit"), ("assessed", 9, "")),
    ),
    (
        "Thomas Greaves",
        30,
        _answers(
            "Thomas Greaves",
            "SG1 3EJ",
            "tom.greaves@demo.example.org",
            "01438 555 944",
            hygiene="lot",
            clothing="lot",
            community="lot",
            carer_support="some",
            carer_coping="struggling",
            in_your_words="Help getting washed and dressed, and getting out to the allotment.",
        ),
        (("contact", 28, "phone"), ("assessed", 20, ""), ("convert", 14, "")),
    ),
    (
        "Ruby Nolan",
        15,
        _answers(
            "Ruby Nolan",
            "SG4 0AA",
            "ruby.nolan@demo.example.org",
            "",
            in_your_words="A bit of help with cleaning and shopping.",
        ),
        (("contact", 13, "phone"), ("close", 12, "moved_away")),
    ),
)


def seed_referrals(session: Session, now: datetime | None = None) -> SeedReport:
    """The referrals above, whichever are missing, each sent and moved on at moments before
    `now` (UTC; the real time by default). Needs a resource allocation version and a council
    officer (none: nothing is made). Flushes, never commits. Its report tallies the referrals
    alone; `seed_referrals_and_their_rows` tallies the rows behind them too."""
    from marketplace.demo.seed import SeedReport, Tally

    made = Tally("referrals")
    now = now or utcnow()
    officer = session.scalar(
        select(User).where(User.role == Role.COUNCIL_OFFICER).order_by(User.created_at).limit(1)
    )
    if ras.current_version(session) is None or officer is None:
        return SeedReport(tallies=[made])
    sent = {
        (assessment.answers or {}).get("full_name")
        for assessment in session.scalars(
            select(SelfAssessment).where(SelfAssessment.status == AssessmentStatus.SUBMITTED)
        )
    }
    for name, days_ago, given, steps in REFERRALS:
        if name in sent:
            made.existing += 1
            continue
        at = now - timedelta(days=days_ago)
        referral = _send(session, given, at)
        for step, step_days_ago, detail in steps:
            _step(session, referral, officer, step, now - timedelta(days=step_days_ago), detail)
        made.created.append(referral)
    session.flush()
    return SeedReport(tallies=[made])


def seed_referrals_and_their_rows(session: Session, now: datetime | None = None) -> SeedReport:
    """`seed_referrals`, its report also tallying, kind by kind, every other row the demo's
    referrals stand on or became: each one's sent self-assessment, and the person, draft plan
    and budget of the converted one. Those there before the step are counted as existing,
    so a second run reports all of them as already there."""
    from marketplace.demo.seed import Tally

    before = _rows_behind(session)
    report = seed_referrals(session, now)
    for kind, rows in _rows_behind(session).items():
        old = {row.id for row in before[kind]}
        report.tallies.append(Tally(kind, [row for row in rows if row.id not in old], len(old)))
    return report


def _rows_behind(session: Session) -> dict[str, list[Any]]:
    """The rows behind the demo's referrals (those named in REFERRALS), by tally kind."""
    names = {name for name, *_ in REFERRALS}
    rows: dict[str, list[Any]] = {
        "sent self-assessments": [],
        "people": [],
        "support plans": [],
        "personal budgets": [],
    }
    for referral in session.scalars(select(Referral)):
        if (referral.assessment.answers or {}).get("full_name") not in names:
            continue
        rows["sent self-assessments"].append(referral.assessment)
        # What converting made: the person is a new one (the seed's assessments are anonymous).
        for kind, made in (
            ("people", referral.person),
            ("support plans", referral.support_plan),
            ("personal budgets", referral.budget),
        ):
            if made is not None:
                rows[kind].append(made)
    return rows


def _send(session: Session, given: dict[str, Any], at: datetime) -> Referral:
    assessment = assessments.start(session, by=None, now=at - timedelta(minutes=40))
    for minute, (key, value) in enumerate(given.items(), start=1):
        assessments.save_answer(
            session,
            assessment,
            key,
            value,
            revision_seen=assessment.revision,
            now=at - timedelta(minutes=40 - minute),
        )
    return assessments.submit(session, assessment, revision_seen=assessment.revision, now=at)


def _step(
    session: Session, referral: Referral, officer: User, step: str, at: datetime, detail: str
) -> None:
    if step == "contact":
        queue.record_first_contact(
            session, referral, by=officer, how=detail, note="Talked through the answers", now=at
        )
    elif step == "resolve":
        queue.resolve_at_first_contact(
            session,
            referral,
            by=officer,
            how=detail,
            note="Grab rails by the bath and toilet and a perching stool, fitted by the "
            "community equipment service within a week.",
            now=at,
        )
    elif step == "visit" and referral.status is not ReferralStatus.AWAITING_VISIT:
        # Triage may have said so already as it arrived (queue.triage).
        queue.needs_visit(session, referral, by=officer, note=detail, now=at)
    elif step == "assessed":
        queue.mark_assessed(
            session, referral, by=officer, note="Needs eligible: help morning and evening", now=at
        )
    elif step == "close":
        queue.close(session, referral, by=officer, reason=detail, note="", now=at)
    elif step == "convert":
        _convert(session, referral, officer, at)


def _convert(session: Session, referral: Referral, officer: User, at: datetime) -> None:
    today = at.astimezone(LONDON).date()
    year = financial_year_of(today)
    pot = next(
        (
            pot
            for pot in budget_queries.pots_to_allocate_from(session, [year])
            if pot.funder.kind is StreamKind.COUNCIL.funder_kind
        ),
        None,
    )
    if pot is None:  # the budgets' seed made no council pot this year: leave it assessed
        return
    indication = referral.assessment.indication
    weekly = indication.low_weekly_pence if indication is not None else 180_00
    contribution = min(25_00, weekly // 5)
    conversion.convert(
        session,
        referral,
        by=officer,
        weekly_budget_pence=weekly,
        streams=[
            conversion.WeeklyStream(StreamKind.COUNCIL, weekly - contribution, pot),
            conversion.WeeklyStream(StreamKind.CLIENT_CONTRIBUTION, contribution),
        ],
        starts_on=today,
        ends_on=date(year + 1, 3, 31),
        frequency=PaymentFrequency.FOUR_WEEKLY,
        outcomes=conversion.default_outcomes(referral.assessment),
        plan_category="personal-care",
        now=at,
        today=today,
    )
