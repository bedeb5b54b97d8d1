"""The care taxonomy and the Hertfordshire gazetteer: the files, and loading them."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from marketplace.extensions import db
from providers import reference_data
from providers.models import Locality, TaxonomyTerm
from providers.reference_data import (
    ReferenceDataError,
    ensure_localities,
    ensure_taxonomy,
    gazetteer_entries,
    taxonomy_entries,
)

DESIGN_CATEGORIES = {
    "Help at home": {"Personal care", "Domestic help", "Night care", "Live-in care"},
    "Personal assistants": set(),
    "Day opportunities": {"Day centres", "Dementia cafés", "Clubs and groups"},
    "Respite and short breaks": {"Sitting services", "Overnight breaks", "Holidays"},
    "Meals": {"Hot meal delivery", "Frozen meals", "Lunch clubs"},
    "Equipment and adaptations": {
        "Stairlifts",
        "Bathing aids",
        "Mobility aids",
        "Telecare and alarms",
    },
    "Transport": set(),
    "Carer support": set(),
    "Social activities and befriending": set(),
    "Housing support": {"Sheltered housing", "Extra care housing", "Floating support"},
    "Health and wellbeing": {"Exercise", "Falls prevention", "Podiatry"},
    "Information and advice": set(),
}

DISTRICT_TOWNS = {
    "Broxbourne": {"Cheshunt", "Hoddesdon", "Waltham Cross"},
    "Dacorum": {"Hemel Hempstead", "Berkhamsted", "Tring"},
    "East Herts": {"Hertford", "Bishop's Stortford", "Ware", "Sawbridgeworth"},
    "Hertsmere": {"Borehamwood", "Bushey", "Potters Bar", "Radlett"},
    "North Herts": {"Hitchin", "Letchworth Garden City", "Baldock", "Royston"},
    "St Albans": {"St Albans", "Harpenden", "London Colney"},
    "Stevenage": {"Stevenage"},
    "Watford and Three Rivers": {
        "Watford",
        "Rickmansworth",
        "Chorleywood",
        "Abbots Langley",
        "South Oxhey",
    },
    "Welwyn Hatfield": {"Welwyn Garden City", "Hatfield"},
}


def test_the_taxonomy_is_the_two_levels_design_md_names() -> None:
    entries = taxonomy_entries()
    names = {entry.code: entry.name for entry in entries}
    found = {
        top.name: {e.name for e in entries if e.parent_code == top.code}
        for top in entries
        if top.parent_code is None
    }
    assert found == DESIGN_CATEGORIES
    assert list(found) == list(DESIGN_CATEGORIES), "tops keep the order DESIGN.md gives"
    assert all(names[e.parent_code] for e in entries if e.parent_code)


def test_every_term_has_a_slug_a_one_sentence_description_and_a_tree_ordered_position() -> None:
    entries = taxonomy_entries()
    codes = [entry.code for entry in entries]
    assert len(set(codes)) == len(codes)
    for entry in entries:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.code)
        assert entry.description.endswith(".")
        assert entry.description.count(". ") == 0, f"{entry.code}: one sentence"
    positions = [entry.position for entry in entries]
    assert positions == sorted(positions), "a top's kinds sort between it and the next top"
    assert len(set(positions)) == len(positions)


def test_the_gazetteer_has_the_nine_areas_with_their_towns() -> None:
    entries = gazetteer_entries()
    districts = {e.code: e for e in entries if e.kind == "district"}
    towns = {
        district.name: {e.name for e in entries if e.parent_code == code}
        for code, district in districts.items()
    }
    assert set(towns) == set(DISTRICT_TOWNS)
    for district, expected in DISTRICT_TOWNS.items():
        assert expected <= towns[district], district
    assert all(e.parent_code in districts for e in entries if e.kind == "town")


@pytest.mark.parametrize(
    ("place", "postcode_district"),
    [
        ("stevenage-town", "SG1"),
        ("stevenage-town", "SG2"),
        ("st-albans-town", "AL1"),
        ("hemel-hempstead", "HP1"),
        ("watford-town", "WD17"),
        ("cheshunt", "EN8"),
        ("bishops-stortford", "CM23"),
        ("hitchin", "SG5"),
        ("rickmansworth", "WD3"),
        ("welwyn-garden-city", "AL8"),
        ("borehamwood", "WD6"),
    ],
)
def test_places_have_their_real_postcode_districts(place: str, postcode_district: str) -> None:
    entries = {e.code: e for e in gazetteer_entries()}
    assert postcode_district in entries[place].postcode_districts
    district = entries[entries[place].parent_code]
    assert postcode_district in district.postcode_districts


def test_places_sit_roughly_where_they_really_are() -> None:
    entries = {e.code: e for e in gazetteer_entries()}
    for entry in entries.values():
        assert isinstance(entry.latitude, float)
        assert isinstance(entry.longitude, float)
    # Royston is the county's north-east corner; Tring its west; Waltham Cross its south.
    assert entries["royston"].latitude > entries["stevenage-town"].latitude
    assert entries["tring"].longitude < entries["hemel-hempstead"].longitude
    assert entries["waltham-cross"].latitude < entries["hertford"].latitude
    assert entries["bishops-stortford"].longitude > 0 > entries["watford-town"].longitude


def test_a_bad_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = {
        "terms": [
            {"code": "meals", "name": "Meals", "description": "Food.", "position": 1},
            {"code": "meals", "name": "Meals again", "description": "Food.", "position": 2},
        ]
    }
    monkeypatch.setattr(reference_data, "_load", lambda filename: bad)
    with pytest.raises(ReferenceDataError, match="used twice"):
        taxonomy_entries.__wrapped__()


def test_a_town_with_a_postcode_its_district_lacks_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    town = {
        "code": "tring",
        "name": "Tring",
        "postcode_districts": ["SG1"],
        "latitude": 51.79,
        "longitude": -0.66,
    }
    district = {
        "code": "dacorum",
        "name": "Dacorum",
        "postcode_districts": ["HP23"],
        "latitude": 51.77,
        "longitude": -0.53,
        "towns": [town],
    }
    monkeypatch.setattr(reference_data, "_load", lambda filename: {"districts": [district]})
    with pytest.raises(ReferenceDataError, match="SG1"):
        gazetteer_entries.__wrapped__()


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_ensure_taxonomy_creates_the_terms_once_and_links_kinds_to_tops(app: Flask) -> None:
    first = ensure_taxonomy()
    assert len(first.created) == len(taxonomy_entries()) == _count(TaxonomyTerm)

    again = ensure_taxonomy()
    assert again.created == []
    assert again.updated == []
    assert again.existing == _count(TaxonomyTerm)

    meals = db.session.scalar(select(TaxonomyTerm).where(TaxonomyTerm.code == "meals"))
    assert meals is not None
    assert meals.parent is None
    assert [kind.code for kind in meals.children] == [
        "hot-meal-delivery",
        "frozen-meals",
        "lunch-clubs",
    ]


def test_ensure_taxonomy_corrects_a_term_that_has_drifted(app: Flask) -> None:
    ensure_taxonomy()
    term = db.session.scalar(select(TaxonomyTerm).where(TaxonomyTerm.code == "podiatry"))
    assert term is not None
    term.name, term.parent_id = "Chiropody", None
    db.session.flush()

    result = ensure_taxonomy()

    assert [t.code for t in result.updated] == ["podiatry"]
    assert term.name == "Podiatry"
    assert term.parent is not None
    assert term.parent.code == "health-and-wellbeing"


def test_ensure_localities_creates_districts_and_towns_once(app: Flask) -> None:
    first = ensure_localities()
    assert len(first.created) == len(gazetteer_entries()) == _count(Locality)
    assert ensure_localities().created == []

    districts = db.session.scalars(select(Locality).where(Locality.kind == "district")).all()
    assert {d.name for d in districts} == set(DISTRICT_TOWNS)
    hitchin = db.session.scalar(select(Locality).where(Locality.code == "hitchin"))
    assert hitchin is not None
    assert hitchin.kind == "town"
    assert hitchin.parent is not None
    assert hitchin.parent.name == "North Herts"
    assert hitchin.postcode_districts == ["SG4", "SG5"]
    assert hitchin.latitude == pytest.approx(51.949, abs=0.01)
