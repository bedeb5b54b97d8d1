"""`flask seed-demo`'s brokers: a caseload whose consents are in every state a broker meets,
the council's own brokerage, and a family member's lasting power of attorney, made once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.policy import can, is_attorney, live_consent
from marketplace.demo import seed
from marketplace.demo.brokers_seed import BROKERAGE, COUNCIL_BROKERAGE, seed_brokers
from marketplace.demo.data.county import demo_organisations
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.people.models import Authority, Client, Consent, Person
from providers.models import Organisation, OrganisationKind, OrganisationStatus

PROVIDERS = {
    "Chiltern Home Care",
    "Lea Valley Day Centre",
    "Bluebell Homecare Stevenage",
    BROKERAGE,
}


def _prerequisites() -> None:
    seed.seed_taxonomy()
    seed.seed_localities()
    seed.seed_providers([org for org in demo_organisations() if org.name in PROVIDERS])
    seed.seed_users()


def _person(name: str) -> Person:
    person = db.session.scalar(select(Person).where(Person.full_name == name))
    assert person is not None, name
    return person


def test_the_demo_caseload_has_consents_in_every_state_once(app: Flask) -> None:
    _prerequisites()
    # Seeded for today: the states are relative to the real date, as `make run` sees them.
    first = seed_brokers()
    db.session.commit()
    assert {t.kind: len(t.created) for t in first.tallies} == {
        "brokerages": 1,
        "clients": 5,
        "consents": 6,
        "client notes": 1,
    }
    again = seed_brokers()
    assert sum(len(t.created) for t in again.tallies) == 0
    assert {t.kind: t.existing for t in again.tallies} == {
        "brokerages": 1,
        "clients": 5,
        "consents": 6,
        "client notes": 1,
    }

    broker = accounts.user_by_email("broker@demo.example.org")
    assert broker is not None
    brokerage = db.session.get(Organisation, broker.organisation_id)
    assert brokerage is not None
    assert (brokerage.name, brokerage.kind) == (BROKERAGE, OrganisationKind.BROKERAGE)
    caseload = db.session.scalars(select(Client).where(Client.brokerage_id == brokerage.id))
    assert {client.person.full_name for client in caseload} == {
        "Margaret Okafor",
        "Patricia Doyle",
        "Dennis Hale",
        "Irene Walsh",
        "George Lin",
    }
    # What the policy makes of each (read through the one policy module, as pages do).
    margaret, patricia = _person("Margaret Okafor"), _person("Patricia Doyle")
    assert can(broker, "pay_by_card_for", margaret)
    assert can(broker, "place_order_for", patricia)
    assert not can(broker, "pay_by_card_for", patricia), "a deputy's consent without pay"
    deputy = live_consent(broker, patricia)
    assert deputy is not None
    assert deputy.authority is Authority.DEPUTY
    assert deputy.document_reference
    for name in ("Dennis Hale", "Irene Walsh", "George Lin"):  # expired, withdrawn, not begun
        assert live_consent(broker, _person(name)) is None, name
        assert not can(broker, "view_budget", _person(name)), name
    irene = db.session.scalar(select(Consent).where(Consent.person_id == _person("Irene Walsh").id))
    assert irene is not None
    assert irene.revoked_at is not None
    george = db.session.scalar(select(Consent).where(Consent.person_id == _person("George Lin").id))
    assert george is not None
    assert george.starts_at > datetime.now(LONDON)

    karen = accounts.user_by_email("family@demo.example.org")
    dorothy = _person("Dorothy Pearce")
    assert karen is not None
    assert is_attorney(karen, dorothy)
    assert can(karen, "approve_shortlist", dorothy)
    assert not can(broker, "view_budget", dorothy), "the brokerage has no consent of Dorothy's"
    assert not can(broker, "view_budget", _person("Rajesh Mehta"))

    team = db.session.scalar(select(Organisation).where(Organisation.name == COUNCIL_BROKERAGE))
    assert team is not None
    assert (team.kind, team.status) == (OrganisationKind.BROKERAGE, OrganisationStatus.APPROVED)


def test_consents_seeded_on_another_day_keep_their_states_relative_to_it(app: Flask) -> None:
    _prerequisites()
    day = date(2027, 3, 1)
    seed_brokers(day)
    db.session.commit()
    hale = db.session.scalar(select(Consent).where(Consent.person_id == _person("Dennis Hale").id))
    assert hale is not None
    # Ended at the start of yesterday (London), so it is over on the day it was seeded for.
    assert hale.ends_at == datetime(2027, 2, 28, tzinfo=LONDON)
    assert hale.ends_at - hale.starts_at == timedelta(days=365)
