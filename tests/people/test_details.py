"""A person's details: the checks (postcode, phone, date of birth), encryption at rest of how
to get in, the record of changes, and what the provider of an order sees in each state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from marketplace.accounts.policy import can
from marketplace.config import ConfigurationError, load_config
from marketplace.encryption import EncryptionKeyError
from marketplace.extensions import db
from marketplace.orders import checkout, life
from marketplace.orders.delivery_details import delivery_details
from marketplace.orders.models import Order, OrderStatus
from marketplace.people import details, records
from marketplace.people.models import ContactMethod, Person, PersonDetailsChange
from providers import validation
from tests.orders.fixtures import TODAY, World

KEY_SAFE = "C4729X"
ACCESS = "Side gate, then the back door; ring twice and wait."


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("sg1 4qt", "SG1 4QT"),
        ("  SG14QT ", "SG1 4QT"),
        ("ec1a  1bb", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("m11ae", "M1 1AE"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_postcodes_are_normalised(typed: str, kept: str) -> None:
    assert details.normalise_postcode(typed) == kept


@pytest.mark.parametrize("typed", ["", "SG1", "SG1 4Q", "12345", "SG1 4QTT", "S" * 5000, "SG1 4ÖT"])
def test_what_is_not_a_postcode_is_refused(typed: str) -> None:
    assert details.normalise_postcode(typed) is None


@pytest.mark.parametrize("typed", ["QQ1 1AA", "ZZ9 9ZZ", "SG1 4CI", "V1 1AA"])
def test_a_postcode_the_directory_refuses_is_refused_in_a_persons_details(typed: str) -> None:
    # Shaped like a postcode, but no postcode uses those letters there: one pattern for both.
    assert validation.postcode_problem(typed) is not None
    assert details.normalise_postcode(typed) is None


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("01632 960901", "01632 960901"),
        ("07700  900982", "07700 900982"),
        ("+44 (0)1632 960-901", "+44 (0)1632 960-901"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
    ],
)
def test_phone_numbers_are_taken_loosely(typed: str, kept: str) -> None:
    assert details.normalise_phone(typed) == kept


@pytest.mark.parametrize(
    "typed", ["999", "call me", "0163296090\u0661", "01632 960901 ext 4", "1" * 16, "+" * 20]
)
def test_what_is_not_a_phone_number_is_refused(typed: str) -> None:
    assert details.normalise_phone(typed) is None


def test_a_date_of_birth_is_in_the_past_and_plausible() -> None:
    today = date(2026, 12, 3)
    assert details.date_of_birth_problem(date(1941, 3, 14), today) is None
    assert details.date_of_birth_problem(today, today) == "Date of birth must be in the past"
    assert details.date_of_birth_problem(date(2027, 1, 1), today) is not None
    assert details.date_of_birth_problem(date(1906, 12, 3), today) is None
    assert details.date_of_birth_problem(date(1906, 12, 2), today) == (
        "Date of birth must be the same as or after 3 December 1906"
    )
    assert details.earliest_date_of_birth(date(2020, 2, 29)) == date(1900, 2, 28)


def test_how_to_get_in_is_encrypted_at_rest(app: Flask, session: Session, person: Person) -> None:
    records.update_person(session, person, {"key_safe_code": KEY_SAFE, "access_notes": ACCESS})
    session.commit()

    raw = session.execute(
        text("SELECT key_safe_code, access_notes FROM people WHERE id = :id"),
        {"id": person.id.hex if db.engine.dialect.name == "sqlite" else person.id},
    ).one()
    for column, plain in zip(raw, (KEY_SAFE, ACCESS), strict=True):
        assert plain not in column
        assert "C4729" not in column
        assert "back door" not in column
        assert Fernet(app.config["DATA_ENCRYPTION_KEYS"][0]).decrypt(column).decode() == plain
    session.expire_all()
    assert (person.key_safe_code, person.access_notes) == (KEY_SAFE, ACCESS)


def test_an_old_key_still_reads_after_a_new_one_is_put_first(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    first = make_app(DATA_ENCRYPTION_KEYS=old)
    with first.app_context():
        person = Person(full_name="Ada Rotate", key_safe_code=KEY_SAFE)
        db.session.add(person)
        db.session.commit()
        person_id = person.id
    rotated = make_app(DATA_ENCRYPTION_KEYS=f"{new},{old}")
    with rotated.app_context():
        assert db.session.get(Person, person_id).key_safe_code == KEY_SAFE
    only_new = make_app(DATA_ENCRYPTION_KEYS=new)
    with only_new.app_context(), pytest.raises(EncryptionKeyError, match="DATA_ENCRYPTION_KEYS"):
        db.session.get(Person, person_id)


def test_production_refuses_to_start_without_data_encryption_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "Q3v9xK2mP7wR4tY8-a1b2c3d4e5f6g7h8i9j0")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    monkeypatch.delenv("DATA_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEYS must be set"):
        load_config(tmp_path)
    assert not (tmp_path / "data_encryption_key").exists(), "no key made up beside the data"
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", "not-a-fernet-key")
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        load_config(tmp_path)
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", f" {key} , ")
    assert load_config(tmp_path)["DATA_ENCRYPTION_KEYS"] == [key]


def test_development_keeps_a_generated_data_key_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    monkeypatch.delenv("DATA_ENCRYPTION_KEYS", raising=False)
    first = load_config(tmp_path)["DATA_ENCRYPTION_KEYS"]
    assert (tmp_path / "data_encryption_key").stat().st_mode & 0o077 == 0
    assert load_config(tmp_path)["DATA_ENCRYPTION_KEYS"] == first
    Fernet(first[0])


def test_changes_are_recorded_by_field_never_by_value(session: Session, world: World) -> None:
    changed = records.update_person(
        session,
        world.person,
        {
            "address_line_1": "12 Orchard Way",
            "town": "Stevenage",
            "postcode": "SG1 4QT",
            "key_safe_code": KEY_SAFE,
            "preferred_contact": ContactMethod.PHONE,
        },
        by=world.citizen,
    )
    assert changed == ["postcode", "address_line_1", "town", "key_safe_code", "preferred_contact"]
    # The same values again change nothing, and nothing is recorded.
    assert records.update_person(session, world.person, {"town": "Stevenage"}) == []
    records.update_person(session, world.person, {"key_safe_code": None}, by=world.officer)
    session.commit()

    history = details.details_history(session, world.person)
    assert [(change.changed_by, change.fields) for change in history] == [
        (world.officer, ["key_safe_code"]),
        (world.citizen, changed),
    ]
    rows = session.execute(text("SELECT fields FROM person_details_changes")).scalars().all()
    assert not any(KEY_SAFE in str(row) or "Orchard" in str(row) for row in rows)
    assert session.query(PersonDetailsChange).count() == 2


def _order_in(session: Session, world: World, status: OrderStatus) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key=f"order-{status.value}",
    )
    if status is OrderStatus.DECLINED:
        life.decline(session, order, by=world.staff, reason="No carers free on Thursdays")
    elif status is OrderStatus.CANCELLED:
        life.cancel(session, order, by=world.citizen, today=TODAY)
    elif status is not OrderStatus.PLACED:
        life.accept(session, order, by=world.staff)
        if status is OrderStatus.IN_PROGRESS:
            life.start(session, order, by=world.staff)
        elif status is OrderStatus.COMPLETED:
            # Completion needs every period settled; only the status matters to this rule.
            order.status = OrderStatus.COMPLETED
    session.flush()
    assert order.status is status
    return order


def _with_details(session: Session, person: Person) -> None:
    records.update_person(
        session,
        person,
        {
            "address_line_1": "12 Orchard Way",
            "town": "Stevenage",
            "postcode": "SG1 4QT",
            "phone": "01632 960901",
            "email": "dot@example.org",
            "date_of_birth": date(1941, 3, 14),
            "communication_needs": "Hard of hearing: please knock loudly",
            "preferred_contact": ContactMethod.PHONE,
            "key_safe_code": KEY_SAFE,
            "access_notes": ACCESS,
        },
    )


@pytest.mark.parametrize(
    ("status", "gets_in"),
    [
        (OrderStatus.PLACED, False),
        (OrderStatus.ACCEPTED, True),
        (OrderStatus.IN_PROGRESS, True),
        (OrderStatus.DECLINED, False),
        (OrderStatus.CANCELLED, False),
        (OrderStatus.COMPLETED, False),
    ],
)
def test_the_provider_sees_how_to_get_in_only_while_delivering(
    session: Session, world: World, status: OrderStatus, gets_in: bool
) -> None:
    _with_details(session, world.person)
    order = _order_in(session, world, status)

    assert can(world.staff, "see_how_to_get_in", order) is gets_in
    assert not can(world.other_staff, "see_how_to_get_in", order)
    assert not can(world.officer, "see_how_to_get_in", order)
    shown = delivery_details(order, show_access=can(world.staff, "see_how_to_get_in", order))
    assert shown.address_lines == ("12 Orchard Way", "Stevenage")
    assert shown.postcode == "SG1 4QT"
    assert shown.phone == "01632 960901"
    assert shown.key_safe_code == (KEY_SAFE if gets_in else None)
    assert shown.access_notes == (ACCESS if gets_in else None)
    # Even a caller that asks wrongly gets no code outside delivery.
    forced = delivery_details(order, show_access=True)
    assert (forced.key_safe_code is not None) is gets_in
    # Nothing else: no date of birth, and the email only if they prefer email.
    assert not hasattr(shown, "date_of_birth")
    assert shown.email is None


def test_the_email_is_shown_to_the_provider_when_it_is_the_way_to_reach_them(
    session: Session, world: World
) -> None:
    _with_details(session, world.person)
    world.person.preferred_contact = ContactMethod.EMAIL
    order = _order_in(session, world, OrderStatus.PLACED)
    assert delivery_details(order, show_access=False).email == "dot@example.org"


def test_reencrypting_moves_every_way_in_to_the_first_key(
    make_app: Callable[..., Flask],
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    first = make_app(DATA_ENCRYPTION_KEYS=old)
    with first.app_context():
        person = Person(full_name="Ada Rotate", key_safe_code=KEY_SAFE, access_notes=ACCESS)
        db.session.add_all([person, Person(full_name="No Secrets")])
        db.session.commit()
        person_id = person.id
    rotated = make_app(DATA_ENCRYPTION_KEYS=f"{new},{old}")
    result = rotated.test_cli_runner().invoke(args=["people", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "1 people" in result.output
    only_new = make_app(DATA_ENCRYPTION_KEYS=new)
    with only_new.app_context():
        found = db.session.get(Person, person_id)
        assert (found.key_safe_code, found.access_notes) == (KEY_SAFE, ACCESS)
        assert details.details_history(db.session, found) == []
