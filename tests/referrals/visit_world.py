"""A small county for the visits' tests (VISITS, issue 20): officers, two assessors (one with
the dementia skill covering SG1 only, one with no special skill covering anywhere) and
referrals waiting for a visit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.referrals.models import (
    Assessor,
    DiarySlot,
    RasVersion,
    Referral,
    ReferralEvent,
    ReferralStatus,
)
from tests.conftest import PASSWORD
from tests.referrals.factories import NOW, answers, make_assessor, make_ras_version, make_referral

# The first slot of each diary: tomorrow at 10:00 UTC.
TOMORROW = NOW + timedelta(days=1)


@dataclass
class World:
    officer: User
    version: RasVersion
    dementia: Assessor  # skills: dementia; districts: SG1
    anywhere: Assessor  # no skills; anywhere


def officer(email: str = "officer@example.org", name: str = "Olive Officer") -> User:
    return accounts.create_user(
        email=email, full_name=name, password=PASSWORD, role=Role.COUNCIL_OFFICER
    )


def make_world() -> World:
    """Officers, a RAS version and two assessors (committed)."""
    by = officer()
    sam = officer("sam@example.org", "Sam Dementia")
    ash = officer("ash@example.org", "Ash Anywhere")
    world = World(
        officer=by,
        version=make_ras_version(db.session, config={}),
        dementia=make_assessor(db.session, sam, skills=["dementia"], districts=["SG1"]),
        anywhere=make_assessor(db.session, ash, skills=[], districts=[]),
    )
    db.session.commit()
    return world


def waiting_referral(
    world: World, *, sent_days_ago: int = 0, email: str = "alex@example.org", **changes: Any
) -> Referral:
    """A referral waiting for a visit, sent `sent_days_ago` before NOW (committed)."""
    given = answers(contact={"email": email, "phone": ""}, **changes)
    referral = make_referral(
        db.session, world.version, given, sent_at=NOW - timedelta(days=sent_days_ago)
    )
    referral.status = ReferralStatus.AWAITING_VISIT
    db.session.commit()
    return referral


def events(referral: Referral) -> list[str]:
    return list(
        db.session.scalars(
            select(ReferralEvent.kind)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at, ReferralEvent.kind)
        )
    )


def mail_to(app: Flask, address: str) -> list[str]:
    """Subjects of the emails sent to `address`, oldest first."""
    return [
        message.subject.strip()
        for message in reversed(outbox_messages(app.config["MAIL_OUTBOX_PATH"]))
        if message.to == address
    ]


def slot_at(assessor: Assessor, starts_at: object) -> DiarySlot:
    return db.session.scalars(
        select(DiarySlot).where(
            DiarySlot.assessor_id == assessor.id, DiarySlot.starts_at == starts_at
        )
    ).one()
