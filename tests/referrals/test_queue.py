"""The referral queue's rules (REFERRALS, issue 20 item 4): every step and the moves the table
forbids, what each step writes (an event, a decision in the work queues' log, a notification
or an email to the person), converting into a person, a draft plan and a budget that verify,
the council's and the person's lists, the work queue's count, and two officers at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import FunderPot, PaymentFrequency, StreamKind
from marketplace.budgets.verify import check_budgets
from marketplace.console import queues
from marketplace.console.models import QueueDecision
from marketplace.extensions import db
from marketplace.ledger.verify import verify_ledger
from marketplace.mail import outbox_messages
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.people.models import Person, PlanStatus, SupportPlan
from marketplace.referrals import conversion, queue, referral_lists
from marketplace.referrals.models import (
    Referral,
    ReferralEvent,
    ReferralStatus,
    Visit,
    VisitKind,
    VisitStatus,
)
from tests.citizens.helpers import TODAY, YEAR_END, YEAR_START, funded_pots
from tests.conftest import PASSWORD
from tests.ledger.threads import engine_options
from tests.referrals.factories import (
    NOW,
    answers,
    make_assessor,
    make_ras_version,
    make_referral,
    make_slots,
)

S = ReferralStatus
LATER = NOW + timedelta(hours=2)


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.COUNCIL_OFFICER, email="officer@example.org")


@pytest.fixture
def referral(app: Flask) -> Referral:
    made = make_referral(db.session, make_ras_version(db.session, config={}))
    db.session.commit()
    return made


def _events(referral: Referral) -> list[str]:
    return list(
        db.session.scalars(
            select(ReferralEvent.kind)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at)
        )
    )


def _decisions() -> list[tuple[str, str]]:
    return [(d.queue, d.decision) for d in db.session.scalars(select(QueueDecision))]


def _mail_to(app: Flask, address: str) -> list[str]:
    return [
        m.subject.strip()
        for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"])
        if m.to == address
    ]


def _put(referral: Referral, status: ReferralStatus) -> Referral:
    referral.status = status
    db.session.commit()
    return referral


# The steps ----------------------------------------------------------------------------------


def test_first_contact_puts_it_in_contact_and_emails_the_person(
    app: Flask, referral: Referral, officer: User
) -> None:
    queue.record_first_contact(
        db.session, referral, by=officer, how="phone", note="Spoke to Alex", now=LATER
    )
    db.session.commit()
    assert referral.status is S.IN_CONTACT
    assert referral.first_contact_at == LATER
    assert referral.assigned_to_id == officer.id
    assert _events(referral) == ["received", "first_contact"]
    assert _mail_to(app, "alex@example.org") == [
        f"Your referral {referral.reference}: The council has been in touch about your referral"
    ]
    assert _decisions() == []  # contact is not a decision: it stays in the queue


def test_resolving_at_first_contact_decides_it_and_logs_the_decision(
    app: Flask, referral: Referral, officer: User
) -> None:
    queue.resolve_at_first_contact(
        db.session,
        referral,
        by=officer,
        how="equipment",
        note="Grab rails and a shower seat ordered",
        now=LATER,
    )
    db.session.commit()
    assert (referral.status, referral.resolution) == (S.RESOLVED, "equipment")
    assert referral.decided_at == referral.first_contact_at == LATER
    assert _decisions() == [("referrals", "resolved")]
    logged = db.session.scalars(select(QueueDecision)).one()
    assert logged.waiting_since == NOW
    assert logged.told == "alex@example.org"
    assert _mail_to(app, "alex@example.org") == [
        f"Your referral {referral.reference}: Your referral has been resolved"
    ]


@pytest.mark.parametrize(
    ("how", "note", "field"),
    [("gift", "A note", "how"), ("advice", "   ", "note"), ("advice", "x" * 2001, "note")],
)
def test_a_bad_resolution_is_refused_and_changes_nothing(
    referral: Referral, officer: User, how: str, note: str, field: str
) -> None:
    with pytest.raises(queue.ReferralError) as refused:
        queue.resolve_at_first_contact(
            db.session, referral, by=officer, how=how, note=note, now=LATER
        )
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.get_one(Referral, referral.id).status is S.RECEIVED
    assert _events(referral) == ["received"]


def test_a_visit_then_assessed_then_closed(referral: Referral, officer: User) -> None:
    queue.needs_visit(db.session, referral, by=officer, note="Stairs to check", now=LATER)
    assert referral.status is S.AWAITING_VISIT
    queue.mark_assessed(db.session, referral, by=None, note="Visit done", now=LATER)
    assert referral.status is S.ASSESSED
    queue.close(db.session, referral, by=officer, reason="moved_away", note="", now=LATER)
    db.session.commit()
    assert referral.status is S.CLOSED
    assert referral.closed_reason == queue.CLOSE_REASONS["moved_away"]
    assert referral.decided_at == LATER
    assert _events(referral) == ["received", "visit_needed", "assessed", "closed"]
    # The system's step (no officer) is not an officer's decision.
    assert _decisions() == [("referrals", "visit_needed"), ("referrals", "closed")]


def test_closing_needs_a_known_reason(referral: Referral, officer: User) -> None:
    with pytest.raises(queue.ReferralError, match="Choose why"):
        queue.close(db.session, referral, by=officer, reason="bored", note="", now=LATER)


def test_the_person_with_an_account_is_notified_and_emailed_at_another_contact(
    app: Flask, make_user: Callable[..., User], officer: User
) -> None:
    daughter = make_user(Role.CITIZEN, email="sam@example.org")
    made = make_referral(
        db.session,
        make_ras_version(db.session, config={}),
        answers(who="family", who_name="Sam, daughter"),
        user=daughter,
    )
    queue.needs_visit(db.session, made, by=officer, note="", now=LATER)
    db.session.commit()
    (notice,) = db.session.scalars(select(Notification).where(Notification.user_id == daughter.id))
    assert notice.kind is NotificationKind.REFERRAL_UPDATED
    assert notice.link == f"/self-assessment/{made.assessment_id}/status"
    assert _mail_to(app, "alex@example.org") == [
        f"Your referral {made.reference}: An assessor will visit you"
    ]


# The table of moves ---------------------------------------------------------------------------

FORBIDDEN = [
    (start, to)
    for start in ReferralStatus
    for to in ReferralStatus
    if to not in queue.ALLOWED_MOVES[start]
]


@pytest.mark.parametrize(("start", "to"), FORBIDDEN, ids=lambda s: s.value)
def test_every_move_the_table_does_not_allow_is_refused(
    referral: Referral, officer: User, start: ReferralStatus, to: ReferralStatus
) -> None:
    _put(referral, start)
    with pytest.raises(queue.ReferralMoveRefused):
        queue.move(db.session, referral, to, by=officer, kind="x", note="", now=LATER)
    assert referral.status is start


def test_decided_referrals_go_nowhere_and_a_booked_visit_is_not_closed_over(
    referral: Referral, officer: User
) -> None:
    for decided in (S.RESOLVED, S.CONVERTED, S.CLOSED):
        assert not queue.ALLOWED_MOVES[decided]
    _put(referral, S.VISIT_BOOKED)
    with pytest.raises(queue.ReferralMoveRefused, match="assessment visit booked"):
        queue.close(db.session, referral, by=officer, reason="withdrawn", note="", now=LATER)


@pytest.mark.parametrize(
    ("start", "step"),
    [
        (S.IN_CONTACT, "first_contact"),
        (S.ASSESSED, "resolve"),
        (S.VISIT_BOOKED, "needs_visit"),
        (S.RECEIVED, "assessed"),
        (S.RESOLVED, "close"),
    ],
)
def test_each_step_from_a_status_it_may_not_start_from_is_refused(
    referral: Referral, officer: User, start: ReferralStatus, step: str
) -> None:
    _put(referral, start)
    steps = {
        "first_contact": lambda: queue.record_first_contact(
            db.session, referral, by=officer, how="phone", note="", now=LATER
        ),
        "resolve": lambda: queue.resolve_at_first_contact(
            db.session, referral, by=officer, how="advice", note="Leaflet", now=LATER
        ),
        "needs_visit": lambda: queue.needs_visit(
            db.session, referral, by=officer, note="", now=LATER
        ),
        "assessed": lambda: queue.mark_assessed(
            db.session, referral, by=officer, note="", now=LATER
        ),
        "close": lambda: queue.close(
            db.session, referral, by=officer, reason="withdrawn", note="", now=LATER
        ),
    }
    with pytest.raises(queue.ReferralMoveRefused):
        steps[step]()
    db.session.rollback()
    assert db.session.get_one(Referral, referral.id).status is start
    assert _decisions() == []


# Converting -----------------------------------------------------------------------------------


@pytest.fixture
def pots(reference_data: None) -> dict[StreamKind, FunderPot]:
    return funded_pots()


def _convert(
    referral: Referral, officer: User, pots: dict[StreamKind, FunderPot], **changes: object
) -> conversion.Conversion:
    arguments: dict[str, object] = {
        "by": officer,
        "weekly_budget_pence": 250_00,
        "streams": [
            conversion.WeeklyStream(StreamKind.COUNCIL, 220_00, pots[StreamKind.COUNCIL]),
            conversion.WeeklyStream(StreamKind.CLIENT_CONTRIBUTION, 30_00),
        ],
        "starts_on": YEAR_START,
        "ends_on": YEAR_END,
        "frequency": PaymentFrequency.FOUR_WEEKLY,
        "outcomes": conversion.default_outcomes(referral.assessment),
        "plan_category": "personal-care",
        "now": LATER,
        "today": TODAY,
        **changes,
    }
    return conversion.convert(db.session, referral, **arguments)  # type: ignore[arg-type]


def test_converting_keeps_the_answers_and_makes_a_person_plan_and_budget_that_verify(
    referral: Referral, officer: User, pots: dict[StreamKind, FunderPot]
) -> None:
    made = _convert(referral, officer, pots)
    db.session.commit()
    person = made.person
    assert (person.full_name, person.postcode, person.email) == (
        "Alex Example",
        "SG1 1AA",
        "alex@example.org",
    )
    assert made.plan.status is PlanStatus.DRAFT
    assert "Help getting washed and dressed in the mornings, and getting out." in (
        made.plan.outcomes
    )
    assert "- Maintaining personal hygiene: I need someone to help me every time" in (
        made.plan.outcomes
    )
    assert made.plan.weekly_total_pence == 250_00
    days = (YEAR_END - YEAR_START).days + 1
    assert {s.kind: s.amount_pence for s in made.budget.streams} == {
        StreamKind.COUNCIL: 220_00 * days // 7,
        StreamKind.CLIENT_CONTRIBUTION: 30_00 * days // 7,
    }
    assert (referral.status, referral.person_id, referral.support_plan_id, referral.budget_id) == (
        S.CONVERTED,
        person.id,
        made.plan.id,
        made.budget.id,
    )
    assert referral.assessment.person_id == person.id
    assert referral.assessment.answers == answers()  # kept as they were
    assert made.account_uses_contact_email is False
    assert verify_ledger(db.session).ok
    problems, checked = check_budgets(db.session)
    assert (problems, checked) == ([], 1)
    assert _decisions() == [("referrals", "converted")]


def test_an_account_with_the_contact_email_is_named_never_linked(
    referral: Referral,
    officer: User,
    pots: dict[StreamKind, FunderPot],
    make_user: Callable[..., User],
) -> None:
    someone = make_user(Role.CITIZEN, email="alex@example.org")
    made = _convert(referral, officer, pots)
    db.session.commit()
    assert made.account_uses_contact_email is True
    assert made.person.user is None
    assert someone.person_id != made.person.id


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weekly_budget_pence": 0}, "weekly_budget"),
        ({"weekly_budget_pence": 300_00}, "streams"),  # the streams add up to £250
        ({"outcomes": "  "}, "outcomes"),
        ({"plan_category": "no-such-thing"}, "plan_category"),
        ({"ends_on": YEAR_START - timedelta(days=1)}, "ends_on"),
    ],
)
def test_a_bad_conversion_makes_nothing(
    referral: Referral,
    officer: User,
    pots: dict[StreamKind, FunderPot],
    changes: dict[str, object],
    field: str,
) -> None:
    people_before = db.session.scalar(select(func.count()).select_from(Person))
    with pytest.raises(queue.ReferralError) as refused:
        _convert(referral, officer, pots, **changes)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Person)) == people_before
    assert db.session.scalar(select(func.count()).select_from(SupportPlan)) == 0
    assert db.session.get_one(Referral, referral.id).status is S.RECEIVED


def test_a_pot_that_cannot_cover_the_budget_leaves_no_person_behind(
    referral: Referral, officer: User, reference_data: None
) -> None:
    poor = funded_pots(council_pence=100_00)
    people_before = db.session.scalar(select(func.count()).select_from(Person))
    with pytest.raises(queue.ReferralError, match="unallocated") as refused:
        _convert(referral, officer, poor)
    assert refused.value.field == "streams"
    # The savepoint undid the record and the plan; the referral waits as it was.
    assert db.session.scalar(select(func.count()).select_from(Person)) == people_before
    assert db.session.scalar(select(func.count()).select_from(SupportPlan)) == 0
    assert referral.status is S.RECEIVED
    assert _decisions() == []


def test_converting_while_waiting_for_a_visit_is_refused(
    referral: Referral, officer: User, pots: dict[StreamKind, FunderPot]
) -> None:
    _put(referral, S.AWAITING_VISIT)
    with pytest.raises(queue.ReferralMoveRefused):
        _convert(referral, officer, pots)


# Lists and the work queue ---------------------------------------------------------------------


def test_the_council_list_is_by_urgency_then_age_paged_and_counted(app: Flask) -> None:
    version = make_ras_version(db.session, config={})
    old_routine = make_referral(db.session, version, answers(urgency="routine"), sent_at=NOW)
    new_urgent = make_referral(
        db.session, version, answers(urgency="urgent"), sent_at=NOW + timedelta(days=1)
    )
    old_urgent = make_referral(db.session, version, answers(urgency="urgent"), sent_at=NOW)
    hospital = make_referral(
        db.session, version, answers(urgency="leaving_hospital"), sent_at=NOW + timedelta(days=2)
    )
    _put(old_routine, S.CLOSED)
    first, total = referral_lists.referrals_for_council(db.session, page=1, per_page=3)
    second, _ = referral_lists.referrals_for_council(db.session, page=2, per_page=3)
    assert total == 4
    assert [r.id for r in first + second] == [
        hospital.id,
        old_urgent.id,
        new_urgent.id,
        old_routine.id,
    ]
    only_closed, closed_total = referral_lists.referrals_for_council(
        db.session, statuses=[S.CLOSED]
    )
    assert ([r.id for r in only_closed], closed_total) == ([old_routine.id], 1)
    counts = referral_lists.counts_by_status(db.session)
    assert (counts[S.RECEIVED], counts[S.CLOSED], counts[S.CONVERTED]) == (3, 1, 0)


def test_an_account_lists_only_its_own_referrals(
    app: Flask, make_user: Callable[..., User]
) -> None:
    version = make_ras_version(db.session, config={})
    mine, other = make_user(Role.CITIZEN), make_user(Role.CITIZEN)
    sent = make_referral(db.session, version, user=mine)
    about_me = make_referral(db.session, version)
    about_me.assessment.person_id = mine.person_id
    make_referral(db.session, version, user=other)
    make_referral(db.session, version)
    db.session.commit()
    assert {r.id for r in referral_lists.referrals_of_account(db.session, mine)} == {
        sent.id,
        about_me.id,
    }


def test_the_work_queue_counts_referrals_waiting_for_an_officer(
    app: Flask, make_user: Callable[..., User]
) -> None:
    version = make_ras_version(db.session, config={})
    by_status = {status: make_referral(db.session, version) for status in ReferralStatus}
    for status, made in by_status.items():
        made.status = status
    # One more waiting for a visit, with a visit booked for it: the assessor's, not the queue's.
    booked = make_referral(db.session, version)
    booked.status = S.AWAITING_VISIT
    assessor = make_assessor(db.session, make_user(Role.COUNCIL_OFFICER))
    (slot,) = make_slots(db.session, assessor, NOW + timedelta(days=3), count=1)
    db.session.add(
        Visit(slot=slot, kind=VisitKind.ASSESSMENT, status=VisitStatus.BOOKED, referral=booked)
    )
    db.session.commit()
    entry = queues.QUEUES["referrals"]
    waiting = {item.subject_id for item in queues.items(db.session, entry, TODAY)}
    assert waiting == {
        by_status[s].id for s in (S.RECEIVED, S.IN_CONTACT, S.AWAITING_VISIT, S.ASSESSED)
    }
    assert queues.count(db.session, entry, TODAY) == 4
    (summary,) = queues.summaries(db.session, TODAY, [entry])
    assert (summary.count, summary.oldest_since) == (4, NOW)


# Two officers at once -------------------------------------------------------------------------


def test_two_officers_deciding_one_referral_at_once_decide_it_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        made = make_referral(db.session, make_ras_version(db.session, config={}))
        officers = [
            accounts.create_user(
                email=f"officer{n}@example.org",
                full_name=f"Officer {n}",
                password=PASSWORD,
                role=Role.COUNCIL_OFFICER,
            )
            for n in range(2)
        ]
        db.session.commit()
        referral_id, officer_ids = made.id, [officer.id for officer in officers]
    barrier = threading.Barrier(2)

    def act(number: int) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                referral = db.session.get_one(Referral, referral_id)
                by = db.session.get_one(User, officer_ids[number])
                if number:
                    queue.close(db.session, referral, by=by, reason="withdrawn", note="", now=LATER)
                else:
                    queue.resolve_at_first_contact(
                        db.session, referral, by=by, how="advice", note="Leaflet", now=LATER
                    )
                db.session.commit()
            except queue.ReferralMoveRefused:
                db.session.rollback()
                return "refused"
            except BaseException:
                db.session.rollback()
                raise
            return "decided"

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sorted(pool.map(act, range(2))) == ["decided", "refused"]
    with app.app_context():
        (logged,) = db.session.scalars(select(QueueDecision)).all()
        decided = db.session.get_one(Referral, referral_id)
        assert decided.status.value == logged.decision or (
            decided.status is S.CLOSED and logged.decision == "closed"
        )
        assert len(_events(decided)) == 2  # received, and the one decision


# The demo ------------------------------------------------------------------------------------


def test_the_demo_seeds_a_referral_in_every_state_once(
    app: Flask, officer: User, pots: dict[StreamKind, FunderPot]
) -> None:
    from marketplace.demo.front_door_referrals import REFERRALS, seed_referrals

    make_ras_version(db.session)  # the RAS part's default configuration
    first = seed_referrals(db.session)
    db.session.commit()
    (tally,) = first.tallies
    assert len(tally.created) == len(REFERRALS)
    counts = referral_lists.counts_by_status(db.session)
    for status in (S.RECEIVED, S.IN_CONTACT, S.RESOLVED, S.AWAITING_VISIT, S.ASSESSED):
        assert counts[status] >= 1, status
    assert (counts[S.CONVERTED], counts[S.CLOSED]) == (1, 1)
    (converted,) = referral_lists.referrals_for_council(db.session, statuses=[S.CONVERTED])[0]
    assert converted.budget is not None
    assert converted.support_plan is not None
    assert verify_ledger(db.session).ok
    assert check_budgets(db.session)[0] == []
    urgencies = {r.urgency.value for r in referral_lists.referrals_for_council(db.session)[0]}
    assert {"leaving_hospital", "urgent"} <= urgencies
    again = seed_referrals(db.session)
    assert (again.tallies[0].created, again.tallies[0].existing) == ([], len(REFERRALS))
