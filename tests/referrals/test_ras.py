"""The resource allocation system (RAS, issue 20 item 2): the default configuration, its
checks, the indication's arithmetic at every band's and cap's boundary, versions kept by open
assessments, and new versions (refused when bad, distinct numbers when two save at once)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.referrals import ras
from marketplace.referrals.models import Indication, RasVersion
from marketplace.referrals.questions import NEED_LEVELS, OUTCOME_KEYS
from tests.ledger.threads import engine_options
from tests.referrals.factories import COMPLETE_ANSWERS, answers, make_assessment, make_ras_version

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LEVELS = [key for key, _label in NEED_LEVELS]
# With every outcome "none", no help from family and no conditions: 0 points; these answers
# are then raised by `points_answers` to reach an exact total.
NO_NEED = answers(
    **dict.fromkeys(OUTCOME_KEYS, "none"), carer_support="none", carer_coping=None, conditions=[]
)


def simple_config(**changes: Any) -> dict[str, Any]:
    """The default configuration with 1 point per level step on every outcome (so any total
    from 0 to 30 is reachable by answers), and `changes` applied at the top level."""
    config = ras.default_config()
    config["outcome_points"] = {
        key: {"none": 0, "some": 1, "lot": 2, "unable": 3} for key in OUTCOME_KEYS
    }
    config.update(changes)
    return config


def points_answers(points: int) -> dict[str, Any]:
    """Answers worth exactly `points` (0 to 30) under `simple_config`."""
    result = dict(NO_NEED)
    for key in OUTCOME_KEYS:
        step = min(points, 3)
        result[key] = LEVELS[step]
        points -= step
    assert points == 0
    return result


def indicate(config: dict[str, Any], answers_given: dict[str, Any]) -> Indication:
    version = make_ras_version(db.session, config)
    return ras.make_indication(db.session, make_assessment(db.session, version, answers_given))


# The default and its checks -----------------------------------------------------------------


def test_the_default_configuration_passes_its_own_checks() -> None:
    assert ras.check_config(ras.default_config()) == []
    assert ras.check_config(simple_config()) == []


def test_the_complete_answers_give_the_range_worked_out_by_hand(app: Flask) -> None:
    # Personal care: nutrition some 3, hygiene lot 6, clothing lot 6, moving some 3 = 18;
    # others: home some 1, relationships some 1, community lot 3 = 5; family help "some"
    # takes 2 off, "struggling" adds 2; physical 2: 25 points, "Substantial" (30% wide).
    indication = indicate(ras.default_config(), COMPLETE_ANSWERS)
    assert indication.points == 25
    assert indication.band == "Substantial"
    assert (indication.low_weekly_pence, indication.high_weekly_pence) == (25_000, 32_500)
    assert indication.capped is False
    workings = indication.workings
    assert workings["version"] == indication.ras_version.number
    assert {line["key"]: line["points"] for line in workings["outcomes"]}["hygiene"] == 6
    assert [(line["key"], line["answer"], line["points"]) for line in workings["carer"]] == [
        ("carer_support", "some", -2),
        ("carer_coping", "struggling", 2),
    ]
    assert workings["streams"] == ["council", "client_contribution"]
    assert workings["contribution"] == {
        "savings": "under_lower",
        "income": "200_400",
        "kind": "estimate",
        "low_weekly_pence": 1_000,
        "high_weekly_pence": 8_000,
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["outcome_points"]["hygiene"].pop("lot"),
            "'Maintaining personal hygiene', a lot of help, are missing",
        ),
        (lambda c: c.update(price_per_point_pence=-5), "The price per point must be 1 or more"),
        (
            lambda c: c.update(price_per_point_pence=10.5),
            "The price per point must be a whole number",
        ),
        (lambda c: c["outcome_points"]["toileting"].update(lot=1), "must not fall as need rises"),
        (
            lambda c: c["bands"][1].update(from_points=11),
            "gap between bands 1 and 2: 10 points is in no band",
        ),
        (
            lambda c: c["bands"][1].update(from_points=9),
            "Bands 1 and 2 overlap: 9 points is in both",
        ),
        (lambda c: c["bands"][0].update(from_points=1), "The first band must start at 0 points"),
        (
            lambda c: c["bands"][3].update(to_points=60),
            "The last band must reach the most points (70)",
        ),
        (
            lambda c: c["bands"][2].update(width_percent=10),
            "Band 3 must be at least as wide as band 2",
        ),
        (lambda c: c["bands"][2].update(name="low"), "Two bands are called 'low'"),
        (lambda c: c["bands"][0].update(width_percent=-1), "Band 1's width cannot be negative"),
        (lambda c: c.update(max_weekly_pence=0), "The highest weekly indication must be 1 or more"),
        (lambda c: c["carer_support_reduction"].update(daily=-3), "cannot be negative"),
        (
            lambda c: c["condition_points"].pop("dementia"),
            "'Dementia or memory problems' is missing",
        ),
        (lambda c: c["streams"]["usual"].append("lottery"), "'lottery' is not a funding stream"),
        (
            lambda c: c["contribution"]["income_weekly"].update(over_400=[500, 100]),
            "the highest is less than the lowest",
        ),
        (lambda c: c.pop("bands"), "There must be at least one band"),
    ],
)
def test_a_bad_configuration_is_described_in_plain_english(change: Any, expected: str) -> None:
    config = ras.default_config()
    change(config)
    problems = ras.check_config(config)
    assert any(expected in problem for problem in problems), problems


def test_something_that_is_not_a_configuration_is_a_problem_not_a_crash() -> None:
    assert ras.check_config(None) == ["The configuration is not a set of named values"]
    assert ras.check_config({}) != []


# Boundaries of every band and cap ------------------------------------------------------------

# Bands A 0-9 (20%), B 10-19 (25%), C 20-25 (30%); at most 25 points; £10 a point; at most
# £238 a week, which is band B's top at 19 points (£190 + 25% = £237.50, rounded up).
BOUNDARY = simple_config(
    bands=[
        {"name": "A", "from_points": 0, "to_points": 9, "width_percent": 20},
        {"name": "B", "from_points": 10, "to_points": 19, "width_percent": 25},
        {"name": "C", "from_points": 20, "to_points": 25, "width_percent": 30},
    ],
    max_points=25,
    max_weekly_pence=23_800,
)


@pytest.mark.parametrize(
    ("points", "band", "low", "high", "capped"),
    [
        (0, "A", 0, 0, False),
        (1, "A", 1_000, 1_200, False),
        (8, "A", 8_000, 9_600, False),
        (9, "A", 9_000, 10_800, False),  # band A's top
        (10, "B", 10_000, 12_500, False),  # band B's first
        (11, "B", 11_000, 13_800, False),  # £137.50 rounded up
        (18, "B", 18_000, 22_500, False),
        (19, "B", 19_000, 23_800, False),  # exactly the weekly cap: not capped
        (20, "C", 20_000, 23_800, True),  # £260 cut to the weekly cap
        (21, "C", 21_000, 23_800, True),
        (24, "C", 23_800, 23_800, True),  # even the low end is cut
        (25, "C", 23_800, 23_800, True),  # exactly the most points
        (26, "C", 23_800, 23_800, True),  # one above the most points: counted as 25
    ],
)
def test_each_band_and_cap_at_its_threshold_and_either_side(
    app: Flask, points: int, band: str, low: int, high: int, capped: bool
) -> None:
    given_answers = points_answers(min(points, 25))
    if points > 25:
        given_answers["conditions"] = ["sensory"]  # the default's 1 point for sight or hearing
    indication = indicate(BOUNDARY, given_answers)
    assert indication.points == min(points, 25)
    assert indication.workings["points_total"] == points
    assert indication.workings["points_capped"] is (points > 25)
    assert indication.band == band
    assert (indication.low_weekly_pence, indication.high_weekly_pence) == (low, high)
    assert indication.capped is capped


def test_the_range_is_rounded_low_down_and_high_up_to_the_whole_pound() -> None:
    # 3 points at £12.34: £37.02, up 20% is £44.424 (4442 pence, floored): £37 to £45.
    workings = ras.work_out(simple_config(price_per_point_pence=1_234), points_answers(3))
    assert workings["base_weekly_pence"] == 3_702
    assert workings["high_exact_weekly_pence"] == 4_442
    assert (workings["low_weekly_pence"], workings["high_weekly_pence"]) == (3_700, 4_500)


def test_family_help_can_take_points_down_but_never_below_none() -> None:
    workings = ras.work_out(
        simple_config(), points_answers(3) | {"carer_support": "most", "carer_coping": "yes"}
    )
    assert workings["points_total"] == 3 - 8
    assert workings["points"] == 0
    assert (workings["low_weekly_pence"], workings["high_weekly_pence"]) == (0, 0)


def test_a_carer_who_cannot_carry_on_gives_the_points_back() -> None:
    coping = points_answers(10) | {"carer_support": "daily", "carer_coping": "no"}
    assert ras.work_out(simple_config(), coping)["points"] == 10 - 5 + 8


@pytest.mark.parametrize(
    ("savings", "income", "kind", "low", "high"),
    [
        ("over_upper", "under_200", "self_funder", None, None),
        ("under_lower", "under_200", "none", 0, 0),
        ("under_lower", "over_400", "estimate", 8_000, 25_000),
        ("between", "200_400", "estimate", 1_000, 11_600),
        ("prefer_not", "200_400", "unknown", None, None),
        ("under_lower", "prefer_not", "unknown", None, None),
    ],
)
def test_what_counts_towards_the_contribution(
    savings: str, income: str, kind: str, low: int | None, high: int | None
) -> None:
    workings = ras.work_out(ras.default_config(), answers(savings=savings, income=income))
    contribution = workings["contribution"]
    assert contribution["kind"] == kind
    assert contribution.get("low_weekly_pence") == low
    assert contribution.get("high_weekly_pence") == high
    if kind == "self_funder":
        assert workings["streams"] == ["own_funds"]
    if kind == "none":
        assert "client_contribution" not in workings["streams"]


def test_the_contribution_estimate_never_exceeds_the_range_top() -> None:
    workings = ras.work_out(
        simple_config(), points_answers(1) | {"savings": "between", "income": "over_400"}
    )
    assert workings["high_weekly_pence"] == 1_200
    assert workings["contribution"]["high_weekly_pence"] == 1_200


def test_the_nhs_usually_pays_towards_end_of_life_care() -> None:
    workings = ras.work_out(ras.default_config(), answers(conditions=["end_of_life"]))
    assert workings["streams"] == ["council", "client_contribution", "nhs"]


def test_unanswered_or_unknown_answers_are_named(app: Flask) -> None:
    version = make_ras_version(db.session)
    assessment = make_assessment(
        db.session, version, answers(hygiene=None, savings="millions", conditions=["gout"])
    )
    with pytest.raises(ras.IncompleteAnswers) as refused:
        ras.make_indication(db.session, assessment)
    assert refused.value.missing == ["hygiene", "savings", "conditions"]
    assert db.session.scalar(select(func.count()).select_from(Indication)) == 0


# Properties, over any configuration the checks accept ---------------------------------------


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    config = ras.default_config()
    config["outcome_points"] = {
        key: dict(
            zip(
                LEVELS,
                sorted(draw(st.lists(st.integers(0, 12), min_size=4, max_size=4))),
                strict=True,
            )
        )
        for key in OUTCOME_KEYS
    }
    max_points = draw(st.integers(1, 90))
    cuts = sorted(draw(st.sets(st.integers(1, max_points), max_size=5)))
    starts = [0, *cuts]
    ends = [c - 1 for c in cuts] + [max_points + draw(st.integers(0, 5))]
    widths = sorted(draw(st.lists(st.integers(0, 150), min_size=len(starts), max_size=len(starts))))
    config["bands"] = [
        {"name": f"Band {i}", "from_points": s, "to_points": e, "width_percent": w}
        for i, (s, e, w) in enumerate(zip(starts, ends, widths, strict=True))
    ]
    config["max_points"] = max_points
    config["price_per_point_pence"] = draw(st.integers(1, 5_000))
    config["max_weekly_pence"] = draw(st.integers(1, 200_000))
    return config


need_answers = st.fixed_dictionaries(
    {key: st.sampled_from(LEVELS) for key in OUTCOME_KEYS}
    | {
        "carer_support": st.sampled_from(["none", "some", "daily", "most"]),
        "carer_coping": st.sampled_from(["yes", "struggling", "no"]),
        "conditions": st.lists(
            st.sampled_from(["dementia", "sensory", "end_of_life"]), unique=True
        ),
        "savings": st.sampled_from(["under_lower", "between", "over_upper", "prefer_not"]),
        "income": st.sampled_from(["under_200", "200_400", "over_400", "prefer_not"]),
    }
)


@settings(max_examples=300, deadline=None)
@given(config=configs(), given_answers=need_answers, outcome=st.sampled_from(OUTCOME_KEYS))
def test_the_range_is_ordered_within_the_cap_and_never_falls_as_need_rises(
    config: dict[str, Any], given_answers: dict[str, Any], outcome: str
) -> None:
    assert ras.check_config(config) == []
    workings = ras.work_out(config, given_answers)
    low, high = workings["low_weekly_pence"], workings["high_weekly_pence"]
    assert 0 <= low <= high <= config["max_weekly_pence"]
    assert workings["points"] <= config["max_points"]
    assert low % 100 == 0 or low == config["max_weekly_pence"]
    contribution = workings["contribution"]
    if "high_weekly_pence" in contribution:
        assert contribution["low_weekly_pence"] <= contribution["high_weekly_pence"] <= high
    level = LEVELS.index(given_answers[outcome])
    if level < len(LEVELS) - 1:
        more = ras.work_out(config, given_answers | {outcome: LEVELS[level + 1]})
        assert more["points"] >= workings["points"]
        assert more["low_weekly_pence"] >= low
        assert more["high_weekly_pence"] >= high


# Versions ------------------------------------------------------------------------------------


def test_an_open_assessment_keeps_its_version_when_a_new_one_is_made(app: Flask) -> None:
    first = ras.new_version(db.session, ras.default_config(), by=None, note="First", now=NOW)
    assessment = make_assessment(db.session, first, COMPLETE_ANSWERS)
    dearer = ras.default_config() | {"price_per_point_pence": 2_000}
    second = ras.new_version(db.session, dearer, by=None, note="Dearer", now=NOW, based_on=1)
    assert (first.number, second.number) == (1, 2)
    assert ras.current_version(db.session) is second

    indication = ras.make_indication(db.session, assessment)
    assert indication.ras_version is first
    assert (indication.low_weekly_pence, indication.high_weekly_pence) == (25_000, 32_500)
    # A new assessment under version 2 is priced at £20 a point.
    later = ras.make_indication(db.session, make_assessment(db.session, second, COMPLETE_ANSWERS))
    assert (later.low_weekly_pence, later.high_weekly_pence) == (50_000, 65_000)
    # Version 1 is untouched, and explains its own indication after version 2 exists.
    assert first.config == ras.default_config()
    lines = ras.explain(indication)
    assert "under version 1 of" in lines[0]
    assert "Each point is worth £10 a week, so 25 points is £250 a week." in lines
    assert "Indicated range: £250 to £325 a week. This is not a decision." in lines
    assert any("Maintaining personal hygiene" in line and "6 points" in line for line in lines)


def test_an_indication_is_made_once_and_never_recomputed(app: Flask) -> None:
    version = make_ras_version(db.session)
    assessment = make_assessment(db.session, version, COMPLETE_ANSWERS)
    made = ras.make_indication(db.session, assessment)
    assessment.answers = answers(hygiene="unable")
    assert ras.make_indication(db.session, assessment) is made
    assert made.points == 25
    assert db.session.scalar(select(func.count()).select_from(Indication)) == 1


def test_a_bad_configuration_is_refused_and_nothing_is_saved(app: Flask) -> None:
    bad = ras.default_config()
    bad["bands"][1]["from_points"] = 12
    bad["price_per_point_pence"] = -1
    with pytest.raises(ras.BadConfig) as refused:
        ras.new_version(db.session, bad, by=None, note="Oops", now=NOW)
    assert "The price per point must be 1 or more" in refused.value.problems
    assert any("gap between bands 1 and 2" in p for p in refused.value.problems)
    assert db.session.scalar(select(func.count()).select_from(RasVersion)) == 0


@pytest.mark.parametrize("with_based_on", [True, False])
def test_two_officers_saving_at_once_get_distinct_numbers_or_a_clean_refusal(
    make_app: Callable[..., Flask], with_based_on: bool
) -> None:
    """The first officer's version is flushed (its number held, not committed) when the
    second reads the latest number and saves: the second is refused (the unique number, or
    the form's `based_on`) or, without `based_on`, gets the next number after it commits."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        make_ras_version(db.session, number=1)
        db.session.commit()
    first_flushed, second_started = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def save(name: str) -> None:
        based_on = 1 if with_based_on else None
        with app.app_context():
            if name == "second":
                first_flushed.wait(timeout=30)
                second_started.set()
            try:
                version = ras.new_version(
                    db.session,
                    ras.default_config(),
                    by=None,
                    note=name,
                    now=NOW,
                    based_on=based_on,
                )
                if name == "first":
                    first_flushed.set()
                    second_started.wait(timeout=30)
                db.session.commit()
                outcome[name] = f"saved {version.number}"
            except ras.VersionClash:
                db.session.rollback()
                outcome[name] = "refused"

    threads = [threading.Thread(target=save, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome["first"] == "saved 2"
    if with_based_on:
        assert outcome["second"] == "refused"
    else:
        assert outcome["second"] in ("refused", "saved 3")
    with app.app_context():
        numbers = db.session.scalars(select(RasVersion.number).order_by(RasVersion.number)).all()
        notes = db.session.scalars(select(RasVersion.note).order_by(RasVersion.number)).all()
    expected = [1, 2] if outcome["second"] == "refused" else [1, 2, 3]
    assert numbers == expected
    assert notes[1] == "first"


def test_the_demo_seeds_two_versions_once(app: Flask) -> None:
    from marketplace.demo.front_door_ras import seed_ras

    report = seed_ras(db.session, NOW)
    assert [v.number for v in report.created("resource allocation versions")] == [1, 2]
    again = seed_ras(db.session, NOW)
    assert again.created("resource allocation versions") == []
    assert again.tallies[0].existing == 2
    current = ras.current_version(db.session)
    assert current is not None
    assert current.number == 2
    assert current.config["price_per_point_pence"] == 1_100
    first = ras.version_by_number(db.session, 1)
    assert first is not None
    assert first.config == ras.default_config()
