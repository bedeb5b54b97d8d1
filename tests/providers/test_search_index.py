"""The search index follows the database: through the outbox, after commit, on every machine."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, event, func, insert, select, update

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.types import utcnow
from providers import organisations, search_index
from providers.models import Organisation, OrganisationStatus, Service, ServiceStatus
from providers.search_index import SearchOutboxEntry
from tests.conftest import sign_in


def _outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SearchOutboxEntry)) or 0


def _found(client: FlaskClient, words: str, **filters: str) -> list[str]:
    page = client.get("/search", query_string={"q": words, **filters}).get_data(as_text=True)
    return [
        chunk.split(">", 1)[1].split("</a>", 1)[0].replace("<mark>", "").replace("</mark>", "")
        for chunk in page.split('<h3 class="govuk-heading-s govuk-!-margin-bottom-1"><a')[1:]
    ]


@pytest.fixture
def provider(make_organisation: Callable[..., Organisation]) -> Organisation:
    return make_organisation("Chiltern Home Care", OrganisationStatus.APPROVED)


def test_a_listing_change_writes_the_outbox_in_its_own_transaction(
    app: Flask, provider: Organisation, make_listing: Callable[..., Service]
) -> None:
    before = _outbox_count()
    service = make_listing(provider)
    assert _outbox_count() > before
    before = _outbox_count()
    service.name = "Renamed"
    db.session.rollback()
    assert _outbox_count() == before, "a rolled-back change leaves no outbox row"


def test_published_listings_are_found_and_vanish_when_the_provider_is_suspended(
    app: Flask,
    client: FlaskClient,
    provider: Organisation,
    make_listing: Callable[..., Service],
    make_user: Callable[..., User],
) -> None:
    make_listing(provider, name="Morning calls")
    search_index.sync(app)
    assert "Morning calls" in _found(client, "help getting dressed")

    council = app.test_client()
    sign_in(council, make_user(Role.COUNCIL_OFFICER))
    council.post(
        f"/council/providers/{provider.id}",
        data={"decision": "suspended", "reason": "Insurance lapsed"},
    )
    assert "Morning calls" not in _found(client, "help getting dressed"), "gone at once"


def test_a_draft_is_not_found_until_it_is_published(
    app: Flask,
    client: FlaskClient,
    provider: Organisation,
    make_listing: Callable[..., Service],
) -> None:
    service = make_listing(provider, name="Evening calls", status=ServiceStatus.DRAFT)
    search_index.sync(app)
    assert "Evening calls" not in _found(client, "evening calls")
    service.status = ServiceStatus.PUBLISHED
    db.session.commit()
    search_index.sync(app)
    assert "Evening calls" in _found(client, "evening calls")


def test_another_machine_catches_up_from_the_shared_database(
    app: Flask,
    make_app: Callable[..., Flask],
    provider: Organisation,
    make_listing: Callable[..., Service],
    tmp_path: Path,
) -> None:
    other = make_app(SEARCH_INDEX_PATH=str(tmp_path / "other-machine"))
    make_listing(provider, name="Night sitting")
    search_index.sync(app)
    with other.app_context():
        assert not Path(other.config["SEARCH_INDEX_PATH"]).exists()
        assert "Night sitting" in _found(other.test_client(), "night sitting")


def test_sync_twice_changes_nothing_more(
    app: Flask, provider: Organisation, make_listing: Callable[..., Service]
) -> None:
    make_listing(provider)
    search_index.sync(app)
    engine = search_index.search_engine(app)
    assert engine.count() == 1
    search_index.sync(app)
    search_index.sync(app)
    assert engine.count() == 1


def test_a_change_is_applied_once_though_it_is_read_again_in_the_window(
    app: Flask, provider: Organisation, make_listing: Callable[..., Service]
) -> None:
    make_listing(provider, name="Night sitting")
    assert search_index.sync(app) == (1, 0)
    engine = search_index.search_engine(app)
    generation = engine.generation()

    # Still inside the re-read window: read again, not applied again, no new generation
    # for every search of every worker to open.
    for _ in range(3):
        assert search_index.sync(app) == (0, 0)
    assert engine.generation() == generation


def test_a_row_committed_late_under_a_lower_id_is_still_applied(
    app: Flask,
    provider: Organisation,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    early = make_listing(provider, name="Night sitting")
    search_index.sync(app)
    # (On PostgreSQL the ids go on from earlier tests: a gap below the first is noted too.)
    before = search_index._read_cursor(app).gaps
    late = make_listing(make_organisation("Lea Valley Care"), name="Befriending calls")
    # As on PostgreSQL when the late listing's transaction took its ids first but committed
    # after another change had been read: its rows are not there yet, a higher id is.
    taken = sorted(
        db.session.scalars(
            select(SearchOutboxEntry.id).where(SearchOutboxEntry.service_id == late.id)
        )
    )
    db.session.execute(delete(SearchOutboxEntry).where(SearchOutboxEntry.id.in_(taken)))
    db.session.add(SearchOutboxEntry(id=taken[-1] + 5, service_id=early.id))
    db.session.commit()
    assert search_index.sync(app) == (1, 0)
    cursor = search_index._read_cursor(app)
    assert cursor.outbox_id == taken[-1] + 5
    assert [(gap.low, gap.high) for gap in cursor.gaps[len(before) :]] == [
        (taken[0], taken[-1] + 4)
    ]

    db.session.add(SearchOutboxEntry(id=taken[0], service_id=late.id))
    db.session.commit()

    assert search_index.sync(app) == (1, 0)
    assert search_index.sync(app) == (0, 0)
    found = set(_found(app.test_client(), "night sitting befriending"))
    assert {early.name, late.name} <= found
    gaps = search_index._read_cursor(app).gaps
    assert [(gap.low, gap.high) for gap in gaps[len(before) :]] == [(taken[0] + 1, taken[-1] + 4)]


def test_a_sync_with_nothing_new_reads_no_rows_however_many_changed_lately(
    app: Flask, provider: Organisation, make_listing: Callable[..., Service]
) -> None:
    """Rows already applied are not read again while they are recent: only the ids missing
    below the highest applied one are (a council's bulk load made every search read all of
    its rows for five minutes)."""
    for number in range(30):
        make_listing(provider, name=f"Listing {number}")
    assert search_index.sync(app)[0] == 30
    cursor = search_index._read_cursor(app)

    assert search_index.unapplied(cursor) == []
    first = db.session.scalar(select(func.min(SearchOutboxEntry.id)))
    assert first is not None
    assert all(gap.high < first for gap in cursor.gaps)


def test_a_gap_is_looked_for_until_the_window_has_passed(
    app: Flask, provider: Organisation, make_listing: Callable[..., Service]
) -> None:
    listing = make_listing(provider, name="Night sitting")
    search_index.sync(app)
    before = search_index._read_cursor(app)
    highest = before.outbox_id
    db.session.add(SearchOutboxEntry(id=highest + 3, service_id=listing.id))
    db.session.commit()
    search_index.sync(app)
    gaps = search_index._read_cursor(app).gaps
    assert [(gap.low, gap.high) for gap in gaps[len(before.gaps) :]] == [(highest + 1, highest + 2)]

    later = utcnow() + search_index.REREAD_WINDOW + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert search_index.sync(app) == (0, 0)
        assert search_index._read_cursor(app).gaps == ()
        # A row that commits after its gap was given up on is not applied here, as a row that
        # committed more than the window after it was written was not before gaps: `flask
        # search reindex` rebuilds from the database.
        db.session.add(SearchOutboxEntry(id=highest + 1, service_id=listing.id))
        db.session.commit()
        assert search_index.sync(app) == (0, 0)


@pytest.mark.parametrize(
    ("seen", "gaps"),
    [
        ([11, 12, 13], []),
        ([13], [(11, 12)]),
        ([11, 15, 16, 19], [(12, 14), (17, 18)]),
        ([], []),
    ],
)
def test_the_cursor_notes_the_ids_it_did_not_see(
    seen: list[int], gaps: list[tuple[int, int]]
) -> None:
    now = utcnow()
    after = search_index.Cursor(10).after(seen, now)
    assert after.outbox_id == max(seen, default=10)
    assert [(gap.low, gap.high) for gap in after.gaps] == gaps


def test_rows_appearing_in_a_gap_close_their_part_of_it() -> None:
    now = utcnow()
    noticed = now - timedelta(minutes=1)
    cursor = search_index.Cursor(20, (search_index.Gap(5, 12, noticed),))
    after = cursor.after([5, 8, 9, 21], now)
    assert after.outbox_id == 21
    assert after.gaps == (search_index.Gap(6, 7, noticed), search_index.Gap(10, 12, noticed))


def test_a_cursor_written_before_gaps_keeps_the_ids_its_window_had_not_applied(
    app: Flask,
) -> None:
    path = search_index._cursor_file(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"outbox_id": 20, "applied": [14, 15, 17, 20]}))

    cursor = search_index._read_cursor(app)

    assert cursor.outbox_id == 20
    assert [(gap.low, gap.high) for gap in cursor.gaps] == [(16, 16), (18, 19)]


def test_workers_of_one_machine_apply_a_change_once(
    app: Flask,
    make_app: Callable[..., Flask],
    provider: Organisation,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    worker = make_app(SEARCH_INDEX_PATH=app.config["SEARCH_INDEX_PATH"])
    make_listing(provider, name="Night sitting")

    assert search_index.sync(app) == (1, 0)
    with worker.app_context():
        assert search_index.sync(worker) == (0, 0)
    assert "Night sitting" in _found(worker.test_client(), "night sitting")

    make_listing(make_organisation("Lea Valley Care"), name="Befriending calls")
    # While one worker catches up, a search in another does not queue behind it.
    with search_index._machine_lock(app, wait=True), worker.app_context():
        assert search_index.sync(worker, wait=False) == (0, 0)
    with worker.app_context():
        assert search_index.sync(worker) == (1, 0)
    assert search_index.sync(app) == (0, 0)


def test_a_warmed_worker_answers_its_first_search_without_opening_the_index(
    app: Flask,
    make_app: Callable[..., Flask],
    provider: Organisation,
    make_listing: Callable[..., Service],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_listing(provider, name="Night sitting")
    search_index.sync(app)
    worker = make_app(SEARCH_INDEX_PATH=app.config["SEARCH_INDEX_PATH"])

    search_index.warm_in_background(worker).join(timeout=60)

    engine = search_index.search_engine(worker)

    def no_opening(*_args: object) -> None:
        raise AssertionError("the first search opened the index")

    monkeypatch.setattr(type(engine), "_open", no_opening)
    assert "Night sitting" in _found(worker.test_client(), "night sitting")


def test_a_missing_index_is_rebuilt_rather_than_crashing(
    app: Flask,
    client: FlaskClient,
    provider: Organisation,
    make_listing: Callable[..., Service],
) -> None:
    make_listing(provider, name="Morning calls")
    search_index.reindex(app)
    search_index.search_engine(app).close()
    app.extensions["search"]["engine"] = None
    shutil.rmtree(app.config["SEARCH_INDEX_PATH"])
    response = client.get("/search", query_string={"q": "morning calls"})
    assert response.status_code == 200
    assert "Morning calls" in _found(client, "morning calls")


def test_the_page_keeps_every_choice_in_the_url_and_works_without_javascript(
    app: Flask,
    client: FlaskClient,
    provider: Organisation,
    make_listing: Callable[..., Service],
) -> None:
    make_listing(provider, name="Morning calls", price_pence=2400)
    make_listing(provider, name="Costly calls", price_pence=4000)
    search_index.sync(app)
    page = client.get(
        "/search", query_string={"q": "calls", "max_price": "30", "sort": "price"}
    ).get_data(as_text=True)
    assert "1 service" in page
    assert 'value="calls"' in page
    assert 'name="category"' in page, "facets are plain checkboxes in a GET form"
    assert _found(client, "calls", max_price="30") == ["Morning calls"]


def test_misspellings_get_a_suggestion(
    app: Flask,
    client: FlaskClient,
    provider: Organisation,
    make_listing: Callable[..., Service],
) -> None:
    make_listing(provider, name="Dementia day care")
    search_index.sync(app)
    page = client.get("/search", query_string={"q": "demensia"}).get_data(as_text=True)
    assert "Dementia day care" in page.replace("<mark>", "").replace("</mark>", "")
    assert "Did you mean" in page


def test_the_feed_search_uses_the_engine(
    app: Flask,
    client: FlaskClient,
    provider: Organisation,
    make_listing: Callable[..., Service],
) -> None:
    make_listing(provider, name="Morning calls")
    search_index.sync(app)
    # No word of "getting dressed" is in the listing's name: the care vocabulary finds it.
    found = client.get("/api/v1/services", query_string={"search": "getting dressed"}).json
    assert [item["name"] for item in found["contents"]] == ["Morning calls"]


def test_registration_and_status_history_do_not_leak_pending_listings(
    app: Flask,
    client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    make_user: Callable[..., User],
) -> None:
    pending = make_organisation("Pending Care", OrganisationStatus.PENDING)
    make_listing(pending, name="Pending calls")
    search_index.sync(app)
    assert "Pending calls" not in _found(client, "pending calls")
    organisations.change_status(
        pending, OrganisationStatus.APPROVED, by=make_user(Role.COUNCIL_OFFICER)
    )
    db.session.commit()
    search_index.sync(app)
    assert "Pending calls" in _found(client, "pending calls")


def test_the_page_and_the_feed_answer_the_same_on_tantivy(
    make_app: Callable[..., Flask],
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    tmp_path: Path,
) -> None:
    tantivy_app = make_app(SEARCH_ENGINE="tantivy", SEARCH_INDEX_PATH=str(tmp_path / "tantivy"))
    with tantivy_app.app_context():
        organisation = make_organisation("Chiltern Home Care", OrganisationStatus.APPROVED)
        make_listing(organisation, name="Morning calls")
        make_listing(organisation, name="Evening calls", status=ServiceStatus.DRAFT)
        search_index.sync(tantivy_app)
        assert search_index.search_engine(tantivy_app).name == "tantivy"
        client = tantivy_app.test_client()
        assert _found(client, "help getting dressed") == ["Morning calls"]
        feed = client.get("/api/v1/services", query_string={"search": "getting dressed"}).json
        assert [item["name"] for item in feed["contents"]] == ["Morning calls"]


def test_rows_are_found_in_single_id_gaps_and_in_ranges_alike(
    app: Flask, provider: Organisation, make_listing: Callable[..., Service]
) -> None:
    listing = make_listing(provider, name="Night sitting")
    search_index.sync(app)
    top = search_index._read_cursor(app).outbox_id
    for offset in (2, 4, 9, 10):
        db.session.add(SearchOutboxEntry(id=top + offset, service_id=listing.id))
    db.session.commit()
    cursor = search_index.Cursor(
        top + 20,
        (
            search_index.Gap(top + 2, top + 2, utcnow()),
            search_index.Gap(top + 4, top + 4, utcnow()),
            search_index.Gap(top + 8, top + 11, utcnow()),
        ),
    )

    assert sorted(row_id for row_id, _ in search_index.unapplied(cursor)) == [
        top + 2,
        top + 4,
        top + 9,
        top + 10,
    ]


def test_many_listings_are_applied_a_batch_at_a_time(
    app: Flask,
    provider: Organisation,
    make_listing: Callable[..., Service],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A statement per APPLY_BATCH listings: one IN list of every listing to apply failed on
    PostgreSQL's 65,535 parameters after a bulk load of 100,000."""
    monkeypatch.setattr(search_index, "APPLY_BATCH", 2)
    made = [make_listing(provider, name=f"Night sitting {number}") for number in range(5)]
    reads: list[str] = []

    def count(*args: object) -> None:
        statement = str(args[2])
        if statement.startswith("SELECT services.id,") and "services.id IN (" in statement:
            reads.append(statement)

    ids = [listing.id for listing in made]
    engine = search_index.search_engine(app)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert search_index.apply(engine, ids) == (5, 0)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    assert len(reads) == 3
    assert set(_found(app.test_client(), "night sitting")) >= {m.name for m in made}


def test_a_change_committed_after_a_later_one_was_applied_reaches_the_index(
    app: Flask,
    provider: Organisation,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    """Two transactions at once on PostgreSQL: the first takes its outbox id, the second takes
    the next one and commits, the index catches up (the first's id is a gap), then the first
    commits; the next catch-up applies it. (SQLite has one writer at a time, so ids there
    are taken in commit order.)"""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("needs two writers at once")
    slow = make_listing(provider, name="Night sitting")
    other = make_listing(make_organisation("Lea Valley Care"), name="Befriending calls")
    search_index.sync(app)
    slow_id, other_id = slow.id, other.id
    db.session.commit()

    with db.engine.connect() as first:
        with first.begin():
            first.execute(
                update(Service).where(Service.id == slow_id).values(name="Sitting service")
            )
            first.execute(insert(SearchOutboxEntry).values(service_id=slow_id, created_at=utcnow()))
            second = db.session.get(Service, other_id)
            assert second is not None
            second.name = "Befriending visits"
            db.session.commit()
            assert search_index.sync(app) == (1, 0)
            assert len(search_index._read_cursor(app).gaps) >= 1
        # The first transaction has committed now, under the lower id.
        assert search_index.sync(app) == (1, 0)
    found = set(_found(app.test_client(), "sitting service befriending visits"))
    assert {"Sitting service", "Befriending visits"} <= found


def test_ranked_ids_read_as_the_list_of_uuids_they_stand_for() -> None:
    ids = [str(uuid.uuid4()) for _ in range(7)]
    parsed = [uuid.UUID(found) for found in ids]

    ranked = search_index.RankedIds(ids)

    assert len(ranked) == 7
    assert list(ranked) == parsed
    assert (ranked[0], ranked[-1], ranked[2:5], ranked[5:50]) == (
        parsed[0],
        parsed[-1],
        parsed[2:5],
        parsed[5:],
    )
    assert parsed[3] in ranked
