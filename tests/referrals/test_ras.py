"""The resource allocation system (RAS, issue 20 item 2): the default configuration, its
checks, the indication's arithmetic at every band's and cap's boundary, versions kept by open
assessments, and new versions (refused when bad, distinct numbers when two save at once)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from marketplace.extensions import db
from marketplace.referrals import ras
from marketplace.referrals.models import Indication
from marketplace.referrals.questions import NEED_LEVELS, OUTCOME_KEYS
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
