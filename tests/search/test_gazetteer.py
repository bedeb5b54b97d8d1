"""Places: the county's gazetteer, the CSV loaders, names and postcodes, distances."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import Gazetteer, Place, load_onspd_csv, load_places_csv
from search.gazetteer import miles_between

HERE = Path(__file__).parent


def test_the_county_file_gives_districts_and_their_towns(gazetteer: Gazetteer) -> None:
    hitchin = gazetteer.get("hitchin")
    assert hitchin is not None
    assert (hitchin.kind, hitchin.parent_code) == ("town", "north-herts")
    assert "SG5" in hitchin.postcode_districts


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Hitchin", {"hitchin"}),
        ("HITCHIN", {"hitchin"}),
        ("Hemel", {"hemel-hempstead"}),
        ("St Albans", {"st-albans-town"}),
        ("Saint Albans", {"st-albans-town"}),
        ("Bishop's Stortford", {"bishops-stortford"}),
        ("WGC", {"welwyn-garden-city"}),
        ("Stevenage", {"stevenage-town"}),
        ("North Herts", {"north-herts"}),
        ("SG1", {"stevenage-town"}),
        ("sg1 2ab", {"stevenage-town"}),
        ("EN8", {"cheshunt", "waltham-cross"}),
        ("watford-and-three-rivers", {"watford-and-three-rivers"}),
    ],
)
def test_places_are_found_by_name_alias_code_or_postcode(
    gazetteer: Gazetteer, text: str, codes: set[str]
) -> None:
    match = gazetteer.resolve(text)
    assert match is not None
    assert match.codes == codes


def test_unknown_places_are_not_guessed(gazetteer: Gazetteer) -> None:
    for text in ("Atlantis", "Hitchin Stevenage", "ZZ9", "sg1 sg1", ""):
        assert gazetteer.resolve(text) is None


def test_places_are_found_inside_a_sentence(gazetteer: Gazetteer) -> None:
    words = ["day", "centre", "near", "welwyn", "garden", "city", "or", "sg5"]
    found = [(start, end, match.codes) for start, end, match in gazetteer.find(words)]
    assert found == [(3, 6, {"welwyn-garden-city"}), (7, 8, {"hitchin"})]


def test_a_locality_filter_reaches_up_and_down_one_level(gazetteer: Gazetteer) -> None:
    assert gazetteer.expand("hitchin") == {"hitchin", "north-herts"}
    assert gazetteer.expand("north-herts") >= {"north-herts", "hitchin", "royston", "baldock"}
    assert gazetteer.expand("nowhere") == {"nowhere"}


def test_distances_are_in_miles(gazetteer: Gazetteer) -> None:
    hitchin, stevenage = gazetteer.get("hitchin"), gazetteer.get("stevenage-town")
    assert hitchin is not None
    assert stevenage is not None
    miles = miles_between(
        hitchin.latitude, hitchin.longitude, stevenage.latitude, stevenage.longitude
    )
    assert 4 < miles < 5.5
    # London to Edinburgh, roughly 330 miles as the crow flies.
    assert 320 < miles_between(51.5074, -0.1278, 55.9533, -3.1883) < 340


def test_the_places_csv_loads(gazetteer: Gazetteer) -> None:
    loaded = load_places_csv(HERE / "places_sample.csv")
    cambourne = loaded.get("cambourne")
    assert cambourne == Place(
        code="cambourne",
        name="Cambourne",
        kind="town",
        latitude=52.2176,
        longitude=-0.0681,
        parent_code="south-cambs",
        postcode_districts=("CB23",),
        aliases=("Great Cambourne", "Upper Cambourne"),
    )
    district = loaded.get("south-cambs")
    assert district is not None
    assert district.postcode_districts == ("CB21", "CB22", "CB23")
    match = loaded.resolve("upper cambourne")
    assert match is not None
    assert match.codes == {"cambourne"}


def test_a_bad_places_csv_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "places.csv"
    bad.write_text(
        "code,name,kind,parent_code,postcode_districts,latitude,longitude\n"
        "a,A,district,,,52,0\n"
        "b,B,village,a,,52,0\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="line 3"):
        load_places_csv(bad)
    bad.write_text(
        "code,name,kind,parent_code,postcode_districts,latitude,longitude\nb,B,town,zz,,52,0\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="unknown parent"):
        load_places_csv(bad)


def test_the_ons_postcode_directory_gives_one_district_per_authority() -> None:
    loaded = load_onspd_csv(
        HERE / "onspd_sample.csv",
        {"E07000012": "South Cambridgeshire", "E07000008": "Cambridge"},
        local_authorities={"E07000012"},
    )
    assert list(loaded.places) == ["south-cambridgeshire"]
    place = loaded.places["south-cambridgeshire"]
    # Terminated postcodes and those without a grid reference are left out.
    assert place.postcode_districts == ("CB22", "CB23")
    assert place.latitude == pytest.approx((52.12 + 52.13 + 52.22) / 3)
    assert loaded.resolve("CB23 1ZZ") is not None


def test_the_ons_loader_needs_its_columns(tmp_path: Path) -> None:
    bad = tmp_path / "onspd.csv"
    bad.write_text("pcds,lat\nCB1 1AA,52\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks columns: long, oslaua"):
        load_onspd_csv(bad, {})


def test_gazetteers_can_be_built_from_plain_dicts() -> None:
    loaded = Gazetteer.from_places(
        [{"code": "x", "name": "Xtown", "kind": "town", "latitude": 51, "longitude": 0}]
    )
    assert loaded.resolve("xtown") is not None
    with pytest.raises(ValueError, match="twice"):
        Gazetteer.from_places([loaded.places["x"], loaded.places["x"]])
    with pytest.raises(ValueError, match="coordinates"):
        Place(code="y", name="Y", kind="town", latitude=95, longitude=0)
