"""An imported organisation that is already in the directory under another id is found, by a
registration number or by its name, and the report says so: neither a dry run nor the real
import makes a pending copy of it (issue 13, smaller things)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from marketplace.extensions import db
from providers.models import Organisation, OrganisationStatus, Service
from providers.organisations import normalised_name
from tests.providers.test_import_export import (
    count,
    csv_text,
    import_text,
    run,
    sample_row,
    write,
)


def registered(name: str, **identifiers: str) -> Organisation:
    """An organisation that registered itself, so it has no id from any file."""
    organisation = Organisation(
        name=name,
        description="Registered by the provider.",
        email="office@example.org",
        status=OrganisationStatus.APPROVED,
        **identifiers,
    )
    db.session.add(organisation)
    db.session.commit()
    return organisation


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Stevenage Helpers Ltd", "STEVENAGE HELPERS LIMITED"),
        ("Smith & Jones Care", "Smith and Jones care."),
        ("  Stevenage   Helpers ", "Stevenage Helpers"),
    ],
)
def test_names_that_differ_only_in_spelling_out_match(one: str, other: str) -> None:
    assert normalised_name(one) == normalised_name(other)


def test_different_names_stay_different() -> None:
    assert normalised_name("Stevenage Helpers") != normalised_name("Stevenage Home Helpers")


def test_a_dry_run_says_the_organisation_matches_one_of_the_same_name(
    app: Flask, tmp_path: Path
) -> None:
    existing = registered("Stevenage Helpers Ltd")
    path = write(tmp_path, "a.csv", csv_text(sample_row(organisation_name="Stevenage Helpers")))

    result = run(app, "import", str(path), "--dry-run")

    assert result.exit_code == 0, result.output
    assert (
        "Organisation 'Stevenage Helpers' matches existing organisation 'Stevenage Helpers Ltd' "
        "by name" in result.output
    )
    assert "pending until the council approves it" not in result.output
    assert count(Organisation) == 1
    assert db.session.get(Organisation, existing.id).source_id is None


def test_the_real_import_adds_the_service_to_the_existing_organisation(
    app: Flask, tmp_path: Path
) -> None:
    existing = registered("Stevenage Helpers Ltd")
    row = sample_row(organisation_name="Stevenage Helpers")

    report = import_text(tmp_path, "a.csv", csv_text(row))

    assert [outcome.action for outcome in report.outcomes] == ["created"]
    assert (
        "matches existing organisation 'Stevenage Helpers Ltd' by name"
        in (report.outcomes[0].messages[0])
    )
    assert count(Organisation) == 1
    service = db.session.scalar(select(Service))
    assert service.organisation_id == existing.id
    organisation = db.session.get(Organisation, existing.id)
    # Still approved (not a new pending registration), and found by the file's id next time.
    assert organisation.status is OrganisationStatus.APPROVED
    assert organisation.source_id == "ORG-1"
    again = import_text(tmp_path, "a.csv", csv_text(row))
    assert [outcome.action for outcome in again.outcomes] == ["unchanged"]
    assert again.outcomes[0].messages == []


def test_a_registration_number_matches_before_the_name(app: Flask, tmp_path: Path) -> None:
    registered("Stevenage Helpers")
    by_number = registered("Herts Home Help", cqc_provider_id="1-101234567")
    row = sample_row(organisation_name="Stevenage Helpers", cqc_provider_id="1-101234567")

    report = import_text(tmp_path, "a.csv", csv_text(row))

    assert (
        "matches existing organisation 'Herts Home Help' by its CQC provider ID 1-101234567"
        in (report.outcomes[0].messages[0])
    )
    assert db.session.scalar(select(Service)).organisation_id == by_number.id
    assert count(Organisation) == 2


def test_a_name_alone_does_not_match_an_organisation_with_another_registration_number(
    app: Flask, tmp_path: Path
) -> None:
    registered("Stevenage Helpers", companies_house_number="01234567")
    row = sample_row(companies_house_number="07654321")

    report = import_text(tmp_path, "a.csv", csv_text(row))

    assert [outcome.action for outcome in report.outcomes] == ["created"]
    assert (
        report.outcomes[0]
        .messages[0]
        .startswith("Organisation 'Stevenage Helpers' created: pending")
    )
    assert "has another Companies House number" in report.outcomes[0].messages[1]
    assert count(Organisation) == 2


def test_a_name_that_two_organisations_share_is_not_guessed(app: Flask, tmp_path: Path) -> None:
    registered("Stevenage Helpers")
    registered("Stevenage Helpers Ltd")

    report = import_text(tmp_path, "a.csv", csv_text(sample_row()))

    assert [outcome.action for outcome in report.outcomes] == ["rejected"]
    assert report.outcomes[0].messages == [
        "Organisation 'Stevenage Helpers' matches 2 existing organisations by name "
        "('Stevenage Helpers', 'Stevenage Helpers Ltd'): give the record the id of the "
        "one it is, or a registration number"
    ]
    assert count(Service) == 0
    assert count(Organisation) == 2


def test_two_records_of_one_new_organisation_under_two_ids_make_one_organisation(
    app: Flask, tmp_path: Path
) -> None:
    first = sample_row()
    second = sample_row(
        organisation_id="ORG-1-AGAIN",
        organisation_name="Stevenage Helpers Limited",
        service_id="SVC-2",
        service_name="Night sitting",
    )

    report = import_text(tmp_path, "a.csv", csv_text(first, second))

    assert [outcome.action for outcome in report.outcomes] == ["created", "created"]
    assert (
        "matches existing organisation 'Stevenage Helpers' by name"
        in (report.outcomes[1].messages[0])
    )
    assert count(Organisation) == 1
