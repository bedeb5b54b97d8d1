"""Shortlists' rules: building one (the person, or a broker under a consent covering
shortlists), notes, sharing, approving against the version seen, and what checkout and the
caseload ask of them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.people import shortlists
from marketplace.people.models import Authority, ConsentScope
from marketplace.people.shortlists import (
    ShortlistChanged,
    ShortlistForbidden,
    ShortlistRefused,
)
from marketplace.types import utcnow
from providers.models import Organisation, Service, ServiceStatus
from tests.brokers.shortlist_fixtures import give_consent, services


@pytest.fixture
def three(
    make_organisation: Callable[..., Organisation], make_listing: Callable[..., Service]
) -> list[Service]:
    return services(make_organisation, make_listing)


@pytest.fixture
def broker(make_user: Callable[..., User]) -> User:
    return make_user(Role.BROKER)


def _notifications(user: User, kind: NotificationKind) -> list[Notification]:
    return list(db.session.scalars(db.select(Notification).filter_by(user_id=user.id, kind=kind)))


def test_a_citizen_keeps_their_own_shortlist_and_each_change_counts(
    citizen: User, three: list[Service]
) -> None:
    person = citizen.person
    item = shortlists.add(db.session, person, three[0].id, by=citizen)
    shortlists.add(db.session, person, three[1].id, by=citizen)
    again = shortlists.add(db.session, person, three[0].id, by=citizen)
    db.session.commit()
    shortlist = shortlists.shortlist_of(db.session, person)
    assert shortlist is not None
    assert again.id == item.id
    assert [i.service_id for i in shortlist.items] == [three[0].id, three[1].id]
    assert shortlist.version == 3  # made at 1, two additions; adding one twice changes nothing
    shortlists.write_note(db.session, item, "  Near the bus stop  ", by=citizen)
    assert item.note == "Near the bus stop"
    assert shortlist.version == 4
    shortlists.remove(db.session, item, by=citizen)
    db.session.commit()
    assert [i.service_id for i in shortlist.items] == [three[1].id]
    assert shortlist.version == 5


def test_only_services_anyone_can_see_go_on_a_shortlist(
    citizen: User, three: list[Service]
) -> None:
    three[0].status = ServiceStatus.DRAFT
    db.session.commit()
    with pytest.raises(ShortlistRefused, match="not in the directory"):
        shortlists.add(db.session, citizen.person, three[0].id, by=citizen)
    with pytest.raises(ShortlistRefused, match="1000 characters"):
        shortlists.add(db.session, citizen.person, three[1].id, by=citizen, note="x" * 1001)


def test_a_full_shortlist_takes_no_more(
    citizen: User, three: list[Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shortlists, "ITEMS_MAX", 2)
    shortlists.add(db.session, citizen.person, three[0].id, by=citizen)
    shortlists.add(db.session, citizen.person, three[1].id, by=citizen)
    with pytest.raises(ShortlistRefused, match="can hold 2"):
        shortlists.add(db.session, citizen.person, three[2].id, by=citizen)


def test_a_broker_builds_a_shortlist_only_under_a_consent_covering_shortlists(
    citizen: User, broker: User, make_user: Callable[..., User], three: list[Service]
) -> None:
    person = citizen.person
    with pytest.raises(ShortlistForbidden):
        shortlists.add(db.session, person, three[0].id, by=broker)
    give_consent(person, broker=broker, scopes=[ConsentScope.SEE.value, ConsentScope.ORDER.value])
    with pytest.raises(ShortlistForbidden):
        shortlists.add(db.session, person, three[0].id, by=broker)
    give_consent(person, broker=broker, scopes=[ConsentScope.SHORTLIST.value])
    item = shortlists.add(db.session, person, three[0].id, by=broker, note="Visits at 8am")
    assert item.added_by_id == broker.id
    assert item.note_by_id == broker.id
    # A broker of another brokerage has no consent of this person's.
    with pytest.raises(ShortlistForbidden):
        shortlists.add(db.session, person, three[1].id, by=make_user(Role.BROKER))


def test_sharing_tells_the_client_and_awaits_their_answer(
    citizen: User, broker: User, three: list[Service]
) -> None:
    person = citizen.person
    give_consent(person, broker=broker)
    assert shortlists.awaiting_approval(db.session, person) is None
    shortlists.add(db.session, person, three[0].id, by=broker, note="Close to home")
    shortlist = shortlists.shortlist_of(db.session, person)
    assert shortlist is not None
    assert shortlists.awaiting_approval(db.session, person) is None  # not sent yet
    shortlists.share(db.session, shortlist, broker)
    db.session.commit()
    assert shortlists.awaiting_approval(db.session, person) is shortlist
    assert shortlist.shared_version == shortlist.version
    [told] = _notifications(citizen, NotificationKind.SHORTLIST_SHARED)
    assert told.link == "/my/shortlist"

    shortlists.approve(
        db.session, shortlist, [three[0].id], seen_version=shortlist.version, by=citizen
    )
    db.session.commit()
    assert shortlists.awaiting_approval(db.session, person) is None
    assert len(_notifications(broker, NotificationKind.SHORTLIST_APPROVED)) == 1
    # A change sent again awaits the client again.
    shortlists.add(db.session, person, three[1].id, by=broker)
    shortlists.share(db.session, shortlist, broker)
    assert shortlists.awaiting_approval(db.session, person) is shortlist


def test_an_empty_shortlist_is_not_sent(citizen: User, broker: User, three: list[Service]) -> None:
    give_consent(citizen.person, broker=broker)
    item = shortlists.add(db.session, citizen.person, three[0].id, by=broker)
    shortlists.remove(db.session, item, by=broker)
    shortlist = shortlists.shortlist_of(db.session, citizen.person)
    assert shortlist is not None
    with pytest.raises(ShortlistRefused, match="at least one service"):
        shortlists.share(db.session, shortlist, broker)


def test_the_approval_is_what_lets_the_broker_order_and_it_is_on_the_record(
    citizen: User, broker: User, three: list[Service]
) -> None:
    person = citizen.person
    give_consent(person, broker=broker)
    for service in three[:2]:
        shortlists.add(db.session, person, service.id, by=broker)
    shortlist = shortlists.shortlist_of(db.session, person)
    assert shortlist is not None
    assert shortlists.approved_choice(db.session, person, three[0].id) is None
    [approval] = shortlists.approve(
        db.session, shortlist, [three[0].id], seen_version=shortlist.version, by=citizen
    )
    db.session.commit()
    assert shortlists.approved_choice(db.session, person, three[0].id) == approval
    assert shortlists.approved_choice(db.session, person, three[1].id) is None
    assert approval.approved_by_id == citizen.id
    assert approval.consent_id is None
    assert approval.shortlist_version == shortlist.version
    # Approving it again keeps the one approval.
    assert (
        shortlists.approve(
            db.session, shortlist, [three[0].id], seen_version=shortlist.version, by=citizen
        )
        == []
    )
    # Taking the service off the list withdraws the approval; the row stays on the record.
    [item] = [i for i in shortlist.items if i.service_id == three[0].id]
    shortlists.remove(db.session, item, by=broker)
    db.session.commit()
    assert shortlists.approved_choice(db.session, person, three[0].id) is None
    db.session.refresh(approval)
    assert approval.withdrawn_at is not None
    assert shortlists.approval_history(db.session, person) == [approval]


def test_a_shortlist_changed_after_it_was_opened_is_not_approved(
    citizen: User, broker: User, three: list[Service]
) -> None:
    person = citizen.person
    give_consent(person, broker=broker)
    shortlists.add(db.session, person, three[0].id, by=broker)
    shortlist = shortlists.shortlist_of(db.session, person)
    assert shortlist is not None
    opened = shortlist.version
    shortlists.add(db.session, person, three[1].id, by=broker)  # after the client opened it
    db.session.commit()
    with pytest.raises(ShortlistChanged, match="changed since you opened it: look again"):
        shortlists.approve(db.session, shortlist, [three[0].id], seen_version=opened, by=citizen)
    assert shortlists.approved_choice(db.session, person, three[0].id) is None
    # A note changed counts too: the client must read the reasons they approve.
    opened = shortlist.version
    shortlists.write_note(db.session, shortlist.items[0], "Cheaper", by=broker)
    with pytest.raises(ShortlistChanged):
        shortlists.approve(db.session, shortlist, [three[0].id], seen_version=opened, by=citizen)
    # A service taken off since is refused too, whatever the version.
    item = shortlist.items[1]
    shortlists.remove(db.session, item, by=broker)
    with pytest.raises(ShortlistChanged):
        shortlists.approve(
            db.session, shortlist, [three[1].id], seen_version=shortlist.version, by=citizen
        )


def test_only_the_person_or_their_attorney_approves(
    citizen: User, broker: User, make_user: Callable[..., User], three: list[Service]
) -> None:
    person = citizen.person
    give_consent(person, broker=broker)
    shortlists.add(db.session, person, three[0].id, by=broker)
    shortlist = shortlists.shortlist_of(db.session, person)
    assert shortlist is not None
    with pytest.raises(ShortlistForbidden):
        shortlists.approve(
            db.session, shortlist, [three[0].id], seen_version=shortlist.version, by=broker
        )
    daughter = make_user(Role.CITIZEN)
    # A family member with an ordinary consent is not an attorney.
    give_consent(person, grantee=daughter, scopes=[ConsentScope.SEE.value])
    with pytest.raises(ShortlistForbidden):
        shortlists.approve(
            db.session, shortlist, [three[0].id], seen_version=shortlist.version, by=daughter
        )
    lpa = give_consent(person, grantee=daughter, authority=Authority.LPA_HEALTH_WELFARE)
    with pytest.raises(ShortlistRefused, match="Choose at least one"):
        shortlists.approve(db.session, shortlist, [], seen_version=shortlist.version, by=daughter)
    [approval] = shortlists.approve(
        db.session, shortlist, [three[0].id], seen_version=shortlist.version, by=daughter
    )
    assert approval.approved_by_id == daughter.id
    assert approval.consent_id == lpa.id


def test_a_revoked_consent_stops_the_broker_changing_the_shortlist(
    citizen: User, broker: User, three: list[Service]
) -> None:
    person = citizen.person
    consent = give_consent(person, broker=broker)
    item = shortlists.add(db.session, person, three[0].id, by=broker)
    consent.revoked_at = utcnow()
    consent.revoked_by_name = person.full_name
    db.session.commit()
    db.session.expire(person, ["consents"])
    with pytest.raises(ShortlistForbidden):
        shortlists.write_note(db.session, item, "Still good", by=broker)
    with pytest.raises(ShortlistForbidden):
        shortlists.remove(db.session, item, by=broker)


def test_a_visitors_shortlist_moves_into_their_account(
    app: Flask, citizen: User, three: list[Service]
) -> None:
    person = citizen.person
    shortlists.add(db.session, person, three[0].id, by=citizen)
    three[2].status = ServiceStatus.ARCHIVED
    db.session.commit()
    added = shortlists.move_from_visit(
        db.session, person, [three[0].id, three[1].id, three[2].id], by=citizen
    )
    db.session.commit()
    shortlist = shortlists.shortlist_of(db.session, person)
    assert shortlist is not None
    assert added == 1
    assert [i.service_id for i in shortlist.items] == [three[0].id, three[1].id]
