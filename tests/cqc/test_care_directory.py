"""Reading the CQC's care directory file and storing its locations: by column name, once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from marketplace import PROJECT_ROOT
from marketplace.cqc import care_directory
from marketplace.cqc.care_directory import CareDirectoryError, read_care_directory
from marketplace.cqc.models import CqcLocation
from marketplace.extensions import db
from providers.models import CqcRating

SAMPLE = PROJECT_ROOT / "docs" / "cqc" / "care-directory-sample.csv"
HEADER = (
    "Location ID,Location Name,Care home?,Location Postal Code,Provider ID,Provider Name,"
    "Location Latest Overall Rating,Publication Date"
)
MONDAY = datetime(2026, 11, 30, 9, tzinfo=UTC)
LATER = datetime(2026, 12, 7, 9, tzinfo=UTC)


def _file(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def _stored() -> dict[str, CqcLocation]:
    return {row.location_id: row for row in db.session.scalars(select(CqcLocation))}


def test_the_sample_in_docs_is_read_in_the_cqcs_layout() -> None:
    entries = care_directory.read_care_directory_file(SAMPLE)

    by_id = {entry.location_id: entry for entry in entries}
    assert len(entries) == 6
    bluebell = by_id["1-2210457731"]
    assert bluebell.name == "Bluebell Homecare Stevenage"
    assert bluebell.provider_id == "1-2210457700"
    assert bluebell.rating is CqcRating.GOOD
    assert bluebell.rating_published_on == date(2026, 5, 14)
    assert bluebell.postcode == "SG1 1DA"
    assert bluebell.registered_manager == "Demo Manager One"
    assert bluebell.care_home is False
    assert by_id["1-2210457844"].rating is CqcRating.REQUIRES_IMPROVEMENT
    assert by_id["1-2210458170"].care_home is True
    # No overall rating published: no rating and no date, not "Good".
    assert by_id["1-2210458066"].rating is None
    assert by_id["1-2210458066"].rating_published_on is None


def test_columns_are_found_by_name_in_any_order_below_title_lines() -> None:
    text = (
        "Care Quality Commission\nCare directory with ratings\n\n"
        "Publication Date,Provider Name,Provider ID,Location Name,Location ID,"
        "Location Latest Overall Rating,Some New Column,Location Telephone Number\n"
        "2026-03-01,Acme Care Ltd,1-100000001,Acme Care,1-200000002,Outstanding,x,01438 000000\n"
    )

    [entry] = read_care_directory("\ufeff" + text)

    assert entry.location_id == "1-200000002"
    assert entry.name == "Acme Care"
    assert entry.provider_name == "Acme Care Ltd"
    assert entry.rating is CqcRating.OUTSTANDING
    assert entry.rating_published_on == date(2026, 3, 1)
    assert entry.phone == "01438 000000"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Name,Postcode\nAcme,SG1 1AA\n", "No header row with a 'Location ID' column"),
        ("Location ID,Location Name\n1-200000002,Acme\n", "no column Provider ID"),
        (_file(), "lists no locations"),
        (_file("CQC-1,Acme,N,SG1 1AA,1-100000001,Acme Ltd,Good,01/02/2026"), "Line 2"),
        (_file("1-200000002,Acme,N,SG1 1AA,1-100000001,Acme Ltd,Great,01/02/2026"), "Great"),
        (_file("1-200000002,Acme,N,SG1 1AA,1-100000001,Acme Ltd,Good,Feb 2026"), "not a date"),
        (
            _file(
                "1-200000002,Acme,N,SG1 1AA,1-100000001,Acme Ltd,Good,01/02/2026",
                "1-200000002,Acme,N,SG1 1AA,1-100000001,Acme Ltd,Good,01/02/2026",
            ),
            "appears twice",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_saying_why(text: str, problem: str) -> None:
    with pytest.raises(CareDirectoryError, match=problem):
        read_care_directory(text)


def test_importing_the_same_file_twice_changes_nothing(app: Flask) -> None:
    entries = care_directory.read_care_directory_file(SAMPLE)
    first = care_directory.import_care_directory(db.session, entries, now=MONDAY)
    db.session.commit()
    assert len(first.added) == 6

    second = care_directory.import_care_directory(db.session, entries, now=LATER)

    assert (second.added, second.updated, second.deregistered) == ([], [], [])
    assert second.unchanged == 6
    assert not db.session.dirty
    assert not db.session.new
    assert {row.changed_at for row in _stored().values()} == {MONDAY}


def test_a_newer_file_updates_ratings_and_deregisters_locations_it_no_longer_lists(
    app: Flask,
) -> None:
    care_directory.import_care_directory(
        db.session,
        read_care_directory(
            _file(
                "1-200000001,Acme,N,SG1 1AA,1-100000001,Acme Ltd,Good,01/02/2026",
                "1-200000002,Brook,N,SG1 1AB,1-100000002,Brook Ltd,Good,01/02/2025",
                "1-200000003,Cedar,N,SG1 1AC,1-100000003,Cedar Ltd,,",
            )
        ),
        now=MONDAY,
    )
    newer = read_care_directory(
        _file(
            "1-200000001,Acme,N,SG1 1AA,1-100000001,Acme Ltd,Good,01/02/2026",
            "1-200000002,Brook,N,SG1 1AB,1-100000002,Brook Ltd,Inadequate,20/11/2026",
            "1-200000004,Dale,N,SG1 1AD,1-100000004,Dale Ltd,Not rated,",
        )
    )

    summary = care_directory.import_care_directory(db.session, newer, now=LATER)

    assert summary.added == ["1-200000004"]
    assert summary.updated == ["1-200000002"]
    assert summary.deregistered == ["1-200000003"]
    stored = _stored()
    assert stored["1-200000002"].rating is CqcRating.INADEQUATE
    assert stored["1-200000002"].rating_published_on == date(2026, 11, 20)
    assert stored["1-200000003"].registered is False
    assert stored["1-200000003"].deregistered_at == LATER
    assert stored["1-200000001"].changed_at == MONDAY

    # Importing the newer file again keeps the deregistration's date.
    again = care_directory.import_care_directory(db.session, newer, now=LATER.replace(day=14))
    assert (again.added, again.updated, again.deregistered) == ([], [], [])
    assert _stored()["1-200000003"].deregistered_at == LATER


def test_a_location_back_in_the_directory_is_registered_again(app: Flask) -> None:
    one = "1-200000001,Acme,N,SG1 1AA,1-100000001,Acme Ltd,Good,01/02/2026"
    two = "1-200000002,Brook,N,SG1 1AB,1-100000002,Brook Ltd,Good,01/02/2025"
    care_directory.import_care_directory(
        db.session, read_care_directory(_file(one, two)), now=MONDAY
    )
    care_directory.import_care_directory(db.session, read_care_directory(_file(one)), now=LATER)
    assert _stored()["1-200000002"].registered is False

    summary = care_directory.import_care_directory(
        db.session, read_care_directory(_file(one, two)), now=LATER.replace(day=14)
    )

    assert summary.updated == ["1-200000002"]
    assert _stored()["1-200000002"].registered is True


def test_flask_cqc_import_stores_the_file_and_refuses_a_bad_one(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(args=["cqc", "import", str(SAMPLE)])

    assert result.exit_code == 0, result.output
    assert "6 locations added" in result.output
    assert len(_stored()) == 6
    again = runner.invoke(args=["cqc", "import", str(SAMPLE)])
    assert "0 locations added" in again.output
    assert "6 unchanged" in again.output

    bad = tmp_path / "bad.csv"
    bad.write_text(_file(), encoding="utf-8")
    refused = runner.invoke(args=["cqc", "import", str(bad)])
    assert refused.exit_code == 1
    assert "lists no locations. Nothing was imported." in refused.output
    assert all(row.registered for row in _stored().values())
