"""The caseload's rules (marketplace/people/caseload.py): who is on it, what each client's
consent lets it show, adding a client with paper consent, notes, asking for consent, and
inviting a client to claim their record (marketplace/accounts/record_claims.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from marketplace.accounts import record_claims, service
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import FunderPot, StreamKind
from marketplace.budgets.own_funds import create_self_funded_budget
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.orders.overview import home_summary
from marketplace.orders.positions import money_position
from marketplace.people import caseload, consents
from marketplace.people.caseload import CaseloadRefused, ConsentState, MoneyPosition
from marketplace.people.models import Authority, Client, Consent, Person, RecordClaim
from marketplace.types import utcnow
from providers.models import Organisation, OrganisationKind, OrganisationStatus, Service
from tests.brokers.shortlist_fixtures import give_consent
from tests.citizens.helpers import TODAY, give_budget
from tests.conftest import PASSWORD


@pytest.fixture
def broker(make_user: Callable[..., User]) -> User:
    user = make_user(Role.BROKER)
    user.organisation.status = OrganisationStatus.APPROVED
    db.session.commit()
    return user


def _person(name: str) -> Person:
    person = Person(full_name=name)
    db.session.add(person)
    db.session.commit()
    return person


def _consent(person: Person, broker: User, **changes: object) -> Consent:
    consent = give_consent(person, broker=broker)
    for name, value in changes.items():
        setattr(consent, name, value)
    db.session.commit()
    return consent


def _no_money(person: Person) -> MoneyPosition:
    return MoneyPosition(has_budget=True, own_funds=False, available_pence=123, open_orders=2)


def _add(broker: User, **changes: object) -> Client:
    now = utcnow()
    fields: dict[str, object] = {
        "brokerage": broker.organisation,
        "by": broker,
        "full_name": "  Edna   Clarke ",
        "date_of_birth": None,
        "postcode": "sg1 1aa",
        "email": None,
        "scopes": ["see", "shortlist"],
        "authority": Authority.PERSON,
        "given_by_name": "Edna Clarke",
        "starts_at": now,
        "ends_at": now + timedelta(days=365),
    }
    fields.update(changes)
    return caseload.add_client(db.session, **fields)  # type: ignore[arg-type]


def test_an_empty_brokerage_has_no_clients(broker: User) -> None:
    assert caseload.clients_of(db.session, broker.organisation_id) == []


def test_the_caseload_shows_each_consents_state_and_only_what_a_live_one_covers(
    broker: User,
) -> None:
    now = utcnow()
    live = _person("Alice Live")
    _consent(live, broker)
    soon = _person("Bob Soon")
    _consent(soon, broker, ends_at=now + timedelta(days=3))
    later = _person("Carol Later")
    _consent(later, broker, starts_at=now + timedelta(days=2))
    gone = _person("Dan Gone")
    _consent(gone, broker, revoked_at=now, revoked_by_name="Dan Gone")
    db.session.add(
        Client(brokerage_id=broker.organisation_id, person_id=gone.id, added_by_id=broker.id)
    )
    ended = _person("Eve Ended")
    _consent(ended, broker, starts_at=now - timedelta(days=10), ends_at=now - timedelta(days=1))
    db.session.add(
        Client(brokerage_id=broker.organisation_id, person_id=ended.id, added_by_id=broker.id)
    )
    seen_only = _person("Fay Seen")
    _consent(seen_only, broker, scopes=["see"])
    db.session.commit()

    entries = caseload.clients_of(db.session, broker.organisation_id, position_of=_no_money)

    assert [e.person.full_name for e in entries] == [
        "Alice Live",
        "Bob Soon",
        "Carol Later",
        "Dan Gone",
        "Eve Ended",
        "Fay Seen",
    ]
    by_name = {e.person.full_name: e for e in entries}
    assert by_name["Alice Live"].state is ConsentState.LIVE
    assert by_name["Bob Soon"].state is ConsentState.EXPIRING
    assert by_name["Carol Later"].state is ConsentState.NOT_STARTED
    assert by_name["Dan Gone"].state is ConsentState.WITHDRAWN
    assert by_name["Eve Ended"].state is ConsentState.ENDED
    # Figures only under a live consent covering them: never for one ended or not begun.
    assert by_name["Alice Live"].position == _no_money(live)
    for name in ("Carol Later", "Dan Gone", "Eve Ended"):
        entry = by_name[name]
        assert (entry.position, entry.shortlist_awaiting, entry.unanswered_questions) == (
            None,
            None,
            None,
        )
        assert not entry.can_act
    # "see" alone shows the money, not the shortlists (those are under "shortlist").
    assert by_name["Fay Seen"].position is not None
    assert by_name["Fay Seen"].shortlist_awaiting is None
    assert by_name["Alice Live"].shortlist_awaiting is False


def test_a_client_of_another_brokerage_is_not_on_this_caseload(
    broker: User, make_user: Callable[..., User]
) -> None:
    other = make_user(Role.BROKER)
    _consent(_person("Hal Other"), other)
    assert caseload.clients_of(db.session, broker.organisation_id) == []
    assert [e.person.full_name for e in caseload.clients_of(db.session, other.organisation_id)] == [
        "Hal Other"
    ]


def test_a_consent_ending_in_the_past_without_a_client_entry_drops_off(broker: User) -> None:
    now = utcnow()
    _consent(
        _person("Ivy Old"),
        broker,
        starts_at=now - timedelta(days=9),
        ends_at=now - timedelta(days=2),
    )
    assert caseload.clients_of(db.session, broker.organisation_id) == []


def test_the_money_position_is_the_homes_figures(
    app: Flask, make_user: Callable[..., User], pots: dict[StreamKind, FunderPot]
) -> None:
    citizen = make_user(Role.CITIZEN)
    budget = give_budget(citizen.person, pots, council=13_000_00)
    position = money_position(db.session, citizen.person, today=TODAY)
    summary = home_summary(db.session, citizen.person, TODAY)
    assert position.has_budget
    assert not position.own_funds
    assert summary.figures is not None
    assert summary.budget is budget
    assert position.available_pence == summary.figures.available_pence > 0
    assert position.open_orders == 0


def test_a_self_funders_position_is_their_own_funds(app: Flask) -> None:
    person = _person("Jo Selfpay")
    create_self_funded_budget(db.session, person, today=TODAY)
    db.session.commit()
    position = money_position(db.session, person, today=TODAY)
    assert position == MoneyPosition(
        has_budget=True, own_funds=True, available_pence=0, open_orders=0
    )
    nobody = money_position(db.session, _person("No Budget"), today=TODAY)
    assert not nobody.has_budget


def test_adding_a_client_makes_their_record_and_records_the_paper_consent(broker: User) -> None:
    client = _add(broker)
    db.session.commit()
    person = db.session.get(Person, client.person_id)
    assert person is not None
    assert (person.full_name, person.postcode) == ("Edna Clarke", "SG1 1AA")
    assert person.user is None
    [consent] = consents.consents_of(db.session, person)
    assert consent.brokerage_id == broker.organisation_id
    assert consent.recorded_by_id == broker.id
    assert consent.scopes == ["see", "shortlist"]
    [entry] = caseload.clients_of(db.session, broker.organisation_id)
    assert entry.person.id == person.id
    assert entry.state is ConsentState.LIVE


def test_an_attorneys_paper_consent_needs_its_documents_reference(broker: User) -> None:
    with pytest.raises(consents.ConsentRefused) as refused:
        _add(broker, authority=Authority.LPA_PROPERTY_FINANCE, given_by_name="Karen Clarke")
    assert "document_reference" in refused.value.problems
    db.session.rollback()
    client = _add(
        broker,
        authority=Authority.LPA_PROPERTY_FINANCE,
        given_by_name="Karen Clarke",
        document_reference="LPA 7000-1234-5678",
    )
    db.session.commit()
    [consent] = consents.consents_of(db.session, client.person)
    assert consent.authority is Authority.LPA_PROPERTY_FINANCE
    assert consent.document_reference == "LPA 7000-1234-5678"


def test_adding_a_client_refuses_no_name_and_no_scope(broker: User) -> None:
    with pytest.raises(CaseloadRefused) as no_name:
        _add(broker, full_name="   ")
    assert "full_name" in no_name.value.problems
    db.session.rollback()
    with pytest.raises(consents.ConsentRefused) as no_scope:
        _add(broker, scopes=[])
    assert "scopes" in no_scope.value.problems
    db.session.rollback()
    assert db.session.query(Client).count() == 0


def test_only_the_brokerages_own_broker_adds_to_its_caseload(
    broker: User, make_user: Callable[..., User]
) -> None:
    other = make_user(Role.BROKER)
    with pytest.raises(PermissionError):
        _add(other, brokerage=broker.organisation)


def test_notes_are_kept_per_brokerage_and_never_empty(
    broker: User, make_user: Callable[..., User]
) -> None:
    person = _person("Kim Notes")
    other = make_user(Role.BROKER)
    caseload.write_note(db.session, person=person, by=broker, text=" Prefers morning calls. ")
    caseload.write_note(db.session, person=person, by=other, text="Met at the hospital.")
    db.session.commit()
    with pytest.raises(CaseloadRefused):
        caseload.write_note(db.session, person=person, by=broker, text="   ")
    with pytest.raises(CaseloadRefused):
        caseload.write_note(db.session, person=person, by=broker, text="x" * 5001)
    ours = caseload.notes_of(db.session, person, brokerage_id=broker.organisation_id)
    assert [n.text for n in ours] == ["Prefers morning calls."]
    assert len(caseload.notes_of(db.session, person)) == 2


def test_asking_for_consent_sends_the_same_email_whether_or_not_there_is_an_account(
    app: Flask, broker: User, make_user: Callable[..., User]
) -> None:
    holder = make_user(Role.CITIZEN, email="has.account@example.org")
    link = f"http://localhost/my/consents/new?brokerage={broker.organisation_id}"
    with app.test_request_context():
        for email in (holder.email, "no.account@example.org"):
            caseload.ask_for_consent(
                brokerage=broker.organisation, by=broker, email=email, consent_link=link
            )
        db.session.commit()
    messages = outbox_messages(app.config["MAIL_OUTBOX_PATH"])
    to_holder = [m for m in messages if m.to == holder.email]
    to_nobody = [m for m in messages if m.to == "no.account@example.org"]
    assert len(to_holder) == len(to_nobody) == 1
    assert (to_holder[0].subject, to_holder[0].body) == (to_nobody[0].subject, to_nobody[0].body)
    assert link in to_holder[0].body


def test_inviting_a_client_to_claim_their_record_makes_their_account_linked_to_it(
    app: Flask, broker: User
) -> None:
    client = _add(broker, email="edna@example.org")
    db.session.commit()
    tokens: list[str] = []
    with app.test_request_context():
        claim = record_claims.invite_to_claim(
            person=client.person,
            email="Edna@Example.org",
            by=broker,
            claim_link=lambda token: tokens.append(token) or f"/claim/{token}",
            sign_in_link="/sign-in",
            reset_link="/reset",
        )
        db.session.commit()
    assert claim is not None
    assert claim.email == "edna@example.org"
    [token] = tokens
    assert record_claims.claim_waiting(token) is not None
    # A weak password is refused and (the request rolling back) leaves the link unspent.
    with pytest.raises(service.PasswordRejected):
        record_claims.claim_record(token, password="short", sign_in_link="/s", reset_link="/r")
    db.session.rollback()
    user = record_claims.claim_record(token, password=PASSWORD, sign_in_link="/s", reset_link="/r")
    db.session.commit()
    assert user.role is Role.CITIZEN
    assert user.person_id == client.person_id
    assert user.full_name == "Edna Clarke"
    assert record_claims.claim_waiting(token) is None
    with pytest.raises(service.InvalidLink):
        record_claims.claim_record(token, password=PASSWORD, sign_in_link="/s", reset_link="/r")
    db.session.rollback()
    # The record has an account now: no second invitation.
    with pytest.raises(record_claims.ClaimRefused):
        record_claims.invite_to_claim(
            person=db.session.get(Person, client.person_id),
            email="another@example.org",
            by=broker,
            claim_link=lambda token: token,
            sign_in_link="/s",
            reset_link="/r",
        )


def test_an_invitation_to_an_address_with_an_account_makes_no_claim(
    app: Flask, broker: User, make_user: Callable[..., User]
) -> None:
    holder = make_user(Role.CITIZEN, email="taken@example.org")
    client = _add(broker)
    with app.test_request_context():
        claim = record_claims.invite_to_claim(
            person=client.person,
            email=holder.email,
            by=broker,
            claim_link=lambda token: token,
            sign_in_link="/s",
            reset_link="/r",
        )
        db.session.commit()
    assert claim is None
    assert db.session.query(RecordClaim).count() == 0


def test_an_expired_invitation_cannot_be_claimed(app: Flask, broker: User) -> None:
    client = _add(broker)
    db.session.commit()
    tokens: list[str] = []
    with app.test_request_context():
        claim = record_claims.invite_to_claim(
            person=client.person,
            email="late@example.org",
            by=broker,
            claim_link=lambda token: tokens.append(token) or token,
            sign_in_link="/s",
            reset_link="/r",
        )
        assert claim is not None
        claim.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert record_claims.claim_waiting(tokens[0]) is None
    with pytest.raises(service.InvalidLink):
        record_claims.claim_record(tokens[0], password=PASSWORD, sign_in_link="/s", reset_link="/r")
    db.session.rollback()


def test_a_brokerage_not_approved_cannot_be_given_consent_on_paper(broker: User) -> None:
    organisation: Organisation = broker.organisation
    organisation.status = OrganisationStatus.PENDING
    assert organisation.kind is OrganisationKind.BROKERAGE
    db.session.commit()
    with pytest.raises(consents.ConsentRefused):
        _add(broker)
    db.session.rollback()


def test_the_caseload_counts_a_shared_shortlist_and_unanswered_questions(
    broker: User,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    from marketplace.people import questions, shortlists

    citizen = make_user(Role.CITIZEN)
    _consent(citizen.person, broker)
    service = make_listing(make_organisation("Chiltern Home Care"))
    provider = make_user(Role.PROVIDER_STAFF, organisation=service.organisation)

    def entry() -> caseload.CaseloadEntry:
        [found] = caseload.clients_of(db.session, broker.organisation_id)
        return found

    assert (entry().shortlist_awaiting, entry().unanswered_questions) == (False, 0)
    shortlists.add(db.session, citizen.person, service.id, by=broker)
    shortlist = shortlists.shortlist_of(db.session, citizen.person)
    assert shortlist is not None
    shortlists.share(db.session, shortlist, broker)
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=broker, text="Visits at 8am?"
    )
    db.session.commit()
    assert (entry().shortlist_awaiting, entry().unanswered_questions) == (True, 1)
    questions.answer(db.session, thread, by=provider, text="Yes, from 7am.")
    db.session.commit()
    assert entry().unanswered_questions == 0


def test_only_a_record_the_brokerage_made_may_be_invited_to_be_claimed(
    broker: User, make_user: Callable[..., User]
) -> None:
    made = _add(broker).person
    council_held = _person("Council Held")
    council_held.case_reference = "CASE-1"
    _consent(council_held, broker, recorded_by_id=broker.id)
    consented_online = _person("Online Giver")
    _consent(consented_online, broker)  # recorded by no broker
    other = make_user(Role.BROKER)
    db.session.commit()
    brokerage_id = broker.organisation_id
    assert caseload.record_made_by(db.session, brokerage_id, made)
    assert not caseload.record_made_by(db.session, other.organisation_id, made)
    assert not caseload.record_made_by(db.session, brokerage_id, council_held)
    assert not caseload.record_made_by(db.session, brokerage_id, consented_online)
