"""`flask directory import` and `export`: round trips, idempotence, approval and bad input."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, literal_column, select, text

from marketplace.extensions import db
from providers.models import (
    CapacityStatus,
    CqcRating,
    Location,
    Organisation,
    OrganisationStatus,
    OrganisationStatusChange,
    PriceUnit,
    Service,
    ServiceAtLocation,
    ServiceStatus,
)
from providers.openreferral import exporter, importer, oruk_records
from providers.openreferral.csv_records import COLUMNS
from tests.api import conftest as api_fixtures
from tests.api.conftest import STEVENAGE_VENUE
from tests.conftest import empty_database

DOCS = Path(__file__).resolve().parents[2] / "docs"
MakeService = Callable[..., Service]


# The feed's fixtures build services in one call; the import tests use them too.
make_service = api_fixtures.make_service
reference_data = api_fixtures.reference_data


def run(app: Flask, *args: str) -> Result:
    result = app.test_cli_runner().invoke(args=["directory", *args])
    db.session.rollback()  # see what the command committed
    return result


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def import_text(tmp_path: Path, name: str, text: str, *, approve: bool = False):
    report = importer.import_records(
        importer.read_file(write(tmp_path, name, text)), approve=approve, source=name
    )
    db.session.commit()
    return report


def sample_row(**changes: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        organisation_id="ORG-1",
        organisation_name="Stevenage Helpers",
        organisation_description="Help at home in Stevenage.",
        service_id="SVC-1",
        service_name="Help at home",
        service_description="Visits to help with washing and dressing.",
        status="active",
        categories="personal-care",
        areas="stevenage",
        price="24.50",
        price_unit="per_hour",
    )
    row.update(changes)
    return row


def csv_text(*rows: dict[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# Round trips ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "import_args", "export_args"),
    [
        ("sample-directory.json", ["--approve"], []),
        ("sample-directory.csv", [], ["--format", "csv", "--all"]),
    ],
)
def test_the_sample_files_import_and_export_as_themselves(
    app: Flask, tmp_path: Path, sample: str, import_args: list[str], export_args: list[str]
) -> None:
    imported = run(app, "import", str(DOCS / sample), *import_args)
    assert imported.exit_code == 0, imported.output
    assert "8 records: 8 created, 0 updated, 0 unchanged, 0 rejected." in imported.output
    output = tmp_path / sample
    exported = run(app, "export", *export_args, "--output", str(output))
    assert exported.exit_code == 0, exported.output
    assert output.read_text(encoding="utf-8") == (DOCS / sample).read_text(encoding="utf-8")


@pytest.fixture
def varied_directory(make_service: MakeService) -> None:
    """Listings that exercise every field the formats carry."""
    care = make_service(
        "Home care",
        description='Personal care. <script>alert("x")</script> & more',
        areas=("stevenage", "hitchin"),
        minimum_order=2,
        languages=["English", "Polish"],
        eligibility={"min_age": 18, "max_age": 99, "conditions": ["dementia"]},
        cqc_location_id="1-123456789",
        cqc_rating=CqcRating.GOOD,
        phone="01632 960001",
        email="care@example.org",
        url="https://example.org/care",
        capacity_status=CapacityStatus.WAITING_LIST,
        capacity_free=3,
        earliest_start=date(2027, 3, 1),
        delivery_modes=["at_home"],
    )
    care.organisation.companies_house_number = "01234567"
    care.organisation.postcode = "SG1 1XY"
    make_service(
        "Day centre",
        organisation=care.organisation,
        categories=("day-centres", "lunch-clubs"),
        venue=STEVENAGE_VENUE,
        opening_times=[{"days": ["MO", "WE"], "opens": "10:00", "closes": "15:30"}],
        capacity_status=CapacityStatus.FULL,
    )
    make_service("Chat line", price_pence=0, price_unit=PriceUnit.FREE, areas=())
    make_service("=HYPERLINK(1)", description="-starts with a minus", phone="+44 1632 960002")
    make_service("Draft", status=ServiceStatus.DRAFT)
    make_service("Pending provider's", organisation_status=OrganisationStatus.PENDING)
    db.session.commit()


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_export_import_into_an_empty_database_and_export_again_is_identical(
    app: Flask, tmp_path: Path, varied_directory: None, file_format: str
) -> None:
    first = exporter.export_directory(file_format, everything=True)  # type: ignore[arg-type]
    assert first.services == 6
    empty_database()
    report = import_text(tmp_path, f"directory.{file_format}", first.text)
    assert report.count("created") == 6, report.lines()
    second = exporter.export_directory(file_format, everything=True)  # type: ignore[arg-type]
    assert second.text == first.text


def test_the_public_export_holds_what_the_feed_shows(varied_directory: None) -> None:
    listing = json.loads(exporter.export_directory("json").text)
    assert [service["name"] for service in listing] == [
        "=HYPERLINK(1)",
        "Chat line",
        "Day centre",
        "Home care",
    ]
    assert all("last_modified" not in service for service in listing)


def test_spreadsheet_formulas_are_exported_as_text(varied_directory: None) -> None:
    rows = list(csv.DictReader(io.StringIO(exporter.export_directory("csv").text)))
    row = next(row for row in rows if row["service_name"].endswith("HYPERLINK(1)"))
    assert row["service_name"] == "'=HYPERLINK(1)"
    assert row["service_description"] == "'-starts with a minus"
    assert row["service_phone"] == "'+44 1632 960002"


def test_the_csv_warns_when_it_cannot_hold_every_venue(
    app: Flask, make_service: MakeService
) -> None:
    service = make_service("Clubs", venue=STEVENAGE_VENUE)
    with db.session.no_autoflush:
        other = Location(organisation=service.organisation, **{**STEVENAGE_VENUE, "name": "Annexe"})
        db.session.add(other)
        service.locations.append(ServiceAtLocation(location=other))
    db.session.commit()
    assert "at 2 venues" in exporter.export_directory("csv").warnings[0]
    assert exporter.export_directory("json").warnings == []


# Idempotence and approval -----------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time(app: Flask) -> None:
    assert run(app, "import", str(DOCS / "sample-directory.json")).exit_code == 0
    stamps = sorted(db.session.scalars(select(Service.updated_at)))
    again = run(app, "import", str(DOCS / "sample-directory.json"))
    assert "0 created, 0 updated, 8 unchanged, 0 rejected" in again.output
    assert sorted(db.session.scalars(select(Service.updated_at))) == stamps
    assert count(Service) == 8
    assert count(Organisation) == 6


def test_new_organisations_wait_for_the_council_unless_approved(app: Flask) -> None:
    run(app, "import", str(DOCS / "sample-directory.json"))
    statuses = set(db.session.scalars(select(Organisation.status)))
    assert statuses == {OrganisationStatus.PENDING}
    assert count(OrganisationStatusChange) == 6
    run(app, "import", str(DOCS / "sample-directory.json"), "--approve")
    assert set(db.session.scalars(select(Organisation.status))) == {OrganisationStatus.APPROVED}
    reasons = set(db.session.scalars(select(OrganisationStatusChange.reason)))
    assert reasons == {
        "Imported from sample-directory.json",
        "Imported from sample-directory.json with --approve",
    }


def test_approve_leaves_inactive_records_and_suspended_providers_alone(
    app: Flask, tmp_path: Path
) -> None:
    import_text(tmp_path, "a.csv", csv_text(sample_row(status="inactive")), approve=True)
    organisation = db.session.scalar(select(Organisation))
    assert organisation.status is OrganisationStatus.PENDING
    organisation.status = OrganisationStatus.SUSPENDED
    db.session.commit()
    report = import_text(tmp_path, "b.csv", csv_text(sample_row()), approve=True)
    assert report.count("updated") == 1
    assert db.session.scalar(select(Organisation.status)) is OrganisationStatus.SUSPENDED


def test_categories_and_areas_are_found_by_code_name_or_alias(app: Flask, tmp_path: Path) -> None:
    row = sample_row(categories="Personal care; night-care", areas="Hemel; St Albans; WGC")
    report = import_text(tmp_path, "a.csv", csv_text(row))
    assert report.count("created") == 1, report.lines()
    service = db.session.scalar(select(Service))
    assert [term.code for term in service.taxonomy_terms] == ["personal-care", "night-care"]
    # St Albans is a district and a town: the district, the wider of the two, wins.
    assert sorted(place.code for place in service.localities) == [
        "hemel-hempstead",
        "st-albans",
        "welwyn-garden-city",
    ]


# Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"service_name": ""}, "Enter the service name"),
        ({"organisation_name": ""}, "Enter the organisation name"),
        ({"service_id": ""}, "Enter the service id"),
        ({"service_name": "x" * 201}, "Service name must be 200 characters or fewer"),
        ({"service_description": "x" * 3001}, "must be 3000 characters or fewer"),
        ({"price": "-5"}, "The price cannot be negative"),
        ({"price": "25000"}, "The price must be £10,000 or less for one unit"),
        ({"price": "12.345"}, "The price must be in pounds and pence"),
        ({"price": "lots"}, "The price must be an amount in pounds"),
        # Exponents never reach Decimal: quantize() of 1e999999999 raised InvalidOperation.
        ({"price": "1e999999999"}, "The price must be an amount in pounds"),
        ({"price": "1e3"}, "The price must be an amount in pounds"),
        ({"price": "0"}, "Enter a price more than £0, or say the service is free"),
        ({"price_unit": "per_fortnight"}, "price_unit must be one of"),
        ({"categories": "plumbing"}, "Unknown category 'plumbing'"),
        ({"categories": ""}, "Give at least one category"),
        ({"areas": "Narnia"}, "Unknown area 'Narnia'"),
        ({"cqc_provider_id": "12345"}, "Enter a CQC ID in the correct format"),
        ({"cqc_location_id": "1-123"}, "Enter a CQC ID in the correct format"),
        ({"organisation_postcode": "XX"}, "Enter a real postcode"),
        (
            {
                "venue_name": "Hall",
                "venue_address": "1 High St",
                "venue_town": "Stevenage",
                "venue_postcode": "SG1 ZZZ",
            },
            "Enter a real postcode",
        ),
        ({"service_email": "not-an-email"}, "Enter an email address in the correct format"),
        ({"status": "open"}, "Status must be one of active, inactive"),
        ({"min_age": "65", "max_age": "18"}, "The oldest age must be the same as or more"),
        ({"opening_times": "MO 9am-5pm"}, "opening_times must be days and times"),
        ({"service_name": "Bad\x07bell"}, "contains control characters"),
    ],
)
def test_each_bad_record_gets_a_clear_message_and_changes_nothing(
    app: Flask, tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    report = import_text(tmp_path, "bad.csv", csv_text(sample_row(**changes)))
    assert [outcome.action for outcome in report.outcomes] == ["rejected"]
    assert any(message in text for text in report.outcomes[0].messages), report.lines()
    assert (count(Service), count(Organisation), count(Location)) == (0, 0, 0)


def test_a_file_with_bad_records_imports_the_good_ones_and_exits_non_zero(
    app: Flask, tmp_path: Path
) -> None:
    rows = [
        sample_row(),
        sample_row(service_id="SVC-2", service_name="Lunch club", price="-1"),
        sample_row(service_id="SVC-3", service_name="Night care", categories="night-care"),
        sample_row(service_id="SVC-4", service_name="Mystery", categories="astrology"),
    ]
    result = run(app, "import", str(write(tmp_path, "mixed.csv", csv_text(*rows))))
    assert result.exit_code == 1
    assert "4 records: 2 created, 0 updated, 0 unchanged, 2 rejected." in result.output
    assert "The price cannot be negative" in result.output
    assert "Unknown category 'astrology'" in result.output
    assert sorted(db.session.scalars(select(Service.name))) == ["Help at home", "Night care"]


def test_a_record_rejected_half_way_leaves_nothing_behind(app: Flask, tmp_path: Path) -> None:
    """The record creates a new organisation, then fails on its service: neither stays."""
    import_text(tmp_path, "first.csv", csv_text(sample_row()))
    clash = sample_row(organisation_id="ORG-2", organisation_name="Another provider")
    report = import_text(tmp_path, "clash.csv", csv_text(clash))
    assert [outcome.action for outcome in report.outcomes] == ["rejected"]
    assert "belongs to another organisation" in report.outcomes[0].messages[0]
    assert list(db.session.scalars(select(Organisation.name))) == ["Stevenage Helpers"]
    assert count(OrganisationStatusChange) == 1


def test_the_same_service_twice_in_one_file_is_reported(app: Flask, tmp_path: Path) -> None:
    report = import_text(tmp_path, "twice.csv", csv_text(sample_row(), sample_row()))
    assert [outcome.action for outcome in report.outcomes] == ["created", "rejected"]
    assert report.outcomes[1].messages == ["The file has this service twice: record 1 too"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("picture.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a text file"),
        ("latin1.csv", "Caf\xe9".encode("latin-1"), "is not UTF-8 text"),
        ("empty.json", b"  \n", "is empty"),
        ("broken.json", b'[{"id": "1", ', "is not valid JSON (line 1, column 14)"),
        ("other.json", b'{"colour": "blue"}', "is not a list of Open Referral UK services"),
        ("nan.json", b'[{"amount": NaN}]', "is not valid JSON"),
        ("columns.csv", b"name,price\nHelp,10\n", "lacks the columns organisation_id"),
        ("typo.csv", (",".join(COLUMNS) + ",colour\n").encode(), "columns the template does not"),
        ("directory.xlsx", b"PK\x03\x04\x14\x00\x06\x00", "is not a text file"),
        ("directory.txt", b"hello", "Say whether directory.txt is json or csv"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused_whole(
    app: Flask, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    result = run(app, "import", str(write(tmp_path, name, content)))
    assert result.exit_code == 1
    assert message in result.output
    assert "Nothing was imported." in result.output
    assert count(Organisation) == 0


def test_json_records_that_are_not_services_are_rejected_one_by_one(
    app: Flask, tmp_path: Path
) -> None:
    good = json.loads((DOCS / "sample-directory.json").read_text(encoding="utf-8"))[0]
    document = [good, "a string", {"id": "x", "name": 5, "status": "active"}]
    report = import_text(tmp_path, "mixed.json", json.dumps(document))
    assert [outcome.action for outcome in report.outcomes] == ["created", "rejected", "rejected"]
    assert report.outcomes[1].messages[0] == "Each service must be a JSON object"
    assert "The service's name must be text, not int" in report.outcomes[2].messages


@pytest.mark.parametrize(
    ("field", "number", "message"),
    [
        ("amount", "1e999999999", "The price is too large an amount"),
        ("amount", "-1e999999999", "The price cannot be negative"),
        ("amount", "1e-999999999", "The price must be in pounds and pence"),
        ("minimum_age", "1e999999999", "minimum_age must be a whole number"),
        ("minimum_age", "1" + "0" * 4000, "minimum_age must be a whole number"),
    ],
)
def test_json_numbers_too_large_to_be_money_or_ages_are_refused(
    app: Flask, tmp_path: Path, field: str, number: str, message: str
) -> None:
    """Numbers JSON allows but no service has: refused by size before any arithmetic (the
    price's quantize and the age's `% 1` raised decimal errors on them)."""
    good = json.loads((DOCS / "sample-directory.json").read_text(encoding="utf-8"))[0]
    good["cost_options"] = [{"id": "c", "amount": 0, "amount_description": "per hour"}]
    good["minimum_age"] = 0
    holder = '"amount": 0' if field == "amount" else '"minimum_age": 0'
    text = json.dumps([good]).replace(holder, f'"{field}": {number}', 1)
    report = import_text(tmp_path, "huge.json", text)
    assert [outcome.action for outcome in report.outcomes] == ["rejected"]
    assert any(message in line for line in report.outcomes[0].messages), report.lines()


def test_html_and_script_are_stored_as_text_and_shown_escaped(app: Flask, tmp_path: Path) -> None:
    script = '<script>alert("owned")</script><b>bold</b>'
    import_text(tmp_path, "a.csv", csv_text(sample_row(service_description=script)), approve=True)
    service = db.session.scalar(select(Service))
    assert service.description == script
    client = app.test_client()
    assert client.get(f"/api/v1/services/{service.id}").get_json()["description"] == script
    page = client.get(f"/services/{service.id}")
    if page.status_code != 404:  # the public service page, where it exists
        html = page.get_data(as_text=True)
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert" in html


def test_a_dry_run_reports_and_saves_nothing(app: Flask) -> None:
    result = run(app, "import", str(DOCS / "sample-directory.csv"), "--dry-run")
    assert result.exit_code == 0
    assert "8 created" in result.output
    assert "Dry run: nothing was saved." in result.output
    assert (count(Service), count(Organisation), count(Location)) == (0, 0, 0)


# ORUK JSON from elsewhere ---------------------------------------------------------------------


def test_another_councils_oruk_service_is_read_as_far_as_oruk_can_say(
    app: Flask, tmp_path: Path
) -> None:
    service = {
        "id": "ext-42",
        "name": "Tuesday lunch club",
        "description": "A two-course lunch and company.",
        "status": "active",
        "organization": {"id": "ext-org-7", "name": "Ware Lunch Club", "description": "A club."},
        "attributes": [{"id": "a", "taxonomy_term": {"id": "t", "name": "Lunch clubs"}}],
        "service_areas": [{"id": "s", "name": "Ware"}],
        "cost_options": [
            {"id": "c1", "amount": 6.5, "amount_description": "per session (2 hours)"},
            {"id": "c2", "amount": 3, "amount_description": "concessions"},
        ],
        "schedules": [
            {
                "id": "w",
                "freq": "WEEKLY",
                "byday": "TU",
                "opens_at": "12:00:00",
                "closes_at": "14:00:00",
            },
            {"id": "m", "freq": "MONTHLY", "byday": "1MO", "opens_at": "10:00"},
        ],
        "alert": "Closed in August",
        "accreditations": "Food hygiene rating 5",
    }
    report = import_text(tmp_path, "ware.json", json.dumps({"contents": [service]}))
    outcome = report.outcomes[0]
    assert outcome.action == "created", report.lines()
    assert "Only the first of 2 cost options was used" in outcome.messages
    assert any("monthly schedule" in message for message in outcome.messages)
    imported = db.session.scalar(select(Service))
    assert (imported.price_pence, imported.price_unit) == (650, PriceUnit.PER_SESSION)
    assert imported.opening_times == [{"days": ["TU"], "opens": "12:00", "closes": "14:00"}]
    assert [term.code for term in imported.taxonomy_terms] == ["lunch-clubs"]
    assert [place.code for place in imported.localities] == ["ware"]
    assert (imported.source_id, imported.organisation.source_id) == ("ext-42", "ext-org-7")
    assert imported.capacity_status is CapacityStatus.ACCEPTING


def test_a_dry_run_saves_nothing_when_the_reference_data_is_already_there(
    app: Flask, reference_data: None
) -> None:
    """The savepoints are then the first statements of the transaction: still nothing stays."""
    result = run(app, "import", str(DOCS / "sample-directory.json"), "--dry-run")
    assert "8 created" in result.output
    assert (count(Service), count(Organisation), count(Location)) == (0, 0, 0)


@pytest.mark.parametrize(
    ("words", "unit"),
    [
        ("per hour", PriceUnit.PER_HOUR),
        ("£20 an hour on weekdays", PriceUnit.PER_HOUR),
        ("per 1 hour session", PriceUnit.PER_HOUR),
        ("per session (2 hours)", PriceUnit.PER_SESSION),
        ("each meal", PriceUnit.PER_ITEM),
        ("per night", PriceUnit.PER_NIGHT),
        ("weekly", PriceUnit.PER_WEEK),
        ("Free", PriceUnit.FREE),
        ("per fortnight", None),
    ],
)
def test_price_units_are_read_from_words(words: str, unit: PriceUnit | None) -> None:
    assert oruk_records.unit_for(words) is unit


def test_a_csv_with_only_the_required_columns_leaves_the_rest_alone(
    app: Flask, tmp_path: Path
) -> None:
    full = sample_row(opening_times="MO 09:00-12:00", minimum_order="3", languages="Welsh")
    import_text(tmp_path, "full.csv", csv_text(full))
    required = "organisation_id,organisation_name,organisation_description,service_id,"
    required += "service_name,service_description,status,categories,price,price_unit\n"
    required += "ORG-1,Stevenage Helpers,Help at home in Stevenage.,SVC-1,Help at home,"
    required += "Visits to help with washing and dressing.,active,personal-care,26.00,per_hour\n"
    report = import_text(tmp_path, "short.csv", required)
    assert report.outcomes[0].messages == ["Changed: price"]
    service = db.session.scalar(select(Service))
    assert (service.minimum_order, service.languages) == (3, ["Welsh"])
    assert service.opening_times == [{"days": ["MO"], "opens": "09:00", "closes": "12:00"}]


@pytest.mark.parametrize(("threshold", "analysed"), [(8, True), (9, False)])
def test_a_large_import_has_postgresql_read_the_directory_tables_afresh(
    app: Flask, monkeypatch: pytest.MonkeyPatch, threshold: int, analysed: bool
) -> None:
    """Planner statistics left from before a bulk load made the feed's pages ten times slower
    until autovacuum caught up; an import of ANALYZE_AFTER_RECORDS records or more refreshes
    them (PostgreSQL only: SQLite keeps none unless asked, and is not asked)."""
    monkeypatch.setattr(importer, "ANALYZE_AFTER_RECORDS", threshold)
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    before = _last_analysed() if postgresql else None

    imported = run(app, "import", str(DOCS / "sample-directory.json"), "--approve")

    assert imported.exit_code == 0, imported.output
    if postgresql:
        assert (_last_analysed() != before) is analysed
    else:
        tables = db.session.scalars(
            select(literal_column("name")).select_from(text("sqlite_master"))
        )
        assert "sqlite_stat1" not in set(tables)


def _last_analysed() -> object:
    db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
    return db.session.scalar(
        text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'services'")
    )
