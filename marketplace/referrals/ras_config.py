"""The resource allocation system's configuration (RAS, issue 20 item 2): a sensible default,
and the checks every version passes before it is saved (`ras.new_version`) or used
(`ras.make_indication`). The shape is described in `referrals.ras`'s docstring."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from marketplace.budgets.models import StreamKind
from marketplace.formatting import pounds
from marketplace.referrals.questions import (
    CARER_COPING,
    CARER_SUPPORT,
    CONDITIONS,
    INCOME_BANDS,
    NEED_LEVELS,
    OUTCOME_KEYS,
    OUTCOMES,
    SAVINGS_BANDS,
)

LEVEL_KEYS = tuple(key for key, _label in NEED_LEVELS)
# The outcomes about looking after oneself weigh more than the others in the default.
_PERSONAL_CARE = ("nutrition", "hygiene", "toileting", "clothing", "moving_home")
# No number in a configuration is larger: far above any real figure (a million pounds a
# week, in pence), small enough that no arithmetic on it is slow or overflows a BIGINT.
LARGEST = 100_000_000
BAND_NAME_MAX = 60
STREAM_NAMES = tuple(kind.value for kind in StreamKind)

_OUTCOME_TITLES = {key: title for key, title, _words in OUTCOMES}
_LEVEL_LABELS = {"none": "no help", "some": "some help", "lot": "a lot of help", "unable": "cannot"}


def default_config() -> dict[str, Any]:
    """A sensible demo configuration: £10 a point each week, four bands 20% to 35% wide, at
    most 70 points and £800 a week; council money and a contribution usually, the person's
    own money when their savings are over the upper capital limit, the NHS for a terminal
    illness. A new dict each call (callers may change it)."""
    return {
        "outcome_points": {
            key: (
                {"none": 0, "some": 3, "lot": 6, "unable": 9}
                if key in _PERSONAL_CARE
                else {"none": 0, "some": 1, "lot": 3, "unable": 4}
            )
            for key in OUTCOME_KEYS
        },
        "carer_support_reduction": {"none": 0, "some": 2, "daily": 5, "most": 8},
        "carer_coping_addition": {"yes": 0, "struggling": 2, "no": 8},
        "condition_points": {
            "dementia": 4,
            "sensory": 1,
            "mental_health": 2,
            "learning_disability": 3,
            "physical": 2,
            "long_term_illness": 2,
            "end_of_life": 6,
        },
        "price_per_point_pence": 1_000,
        "bands": [
            {"name": "Low", "from_points": 0, "to_points": 9, "width_percent": 20},
            {"name": "Moderate", "from_points": 10, "to_points": 24, "width_percent": 25},
            {"name": "Substantial", "from_points": 25, "to_points": 44, "width_percent": 30},
            {"name": "High", "from_points": 45, "to_points": 70, "width_percent": 35},
        ],
        "max_points": 70,
        "max_weekly_pence": 80_000,
        "streams": {
            "usual": ["council", "client_contribution"],
            "self_funder": ["own_funds"],
            "by_condition": {"end_of_life": ["nhs"]},
        },
        "contribution": {
            "self_funder_savings": ["over_upper"],
            "income_weekly": {
                "under_200": [0, 0],
                "200_400": [1_000, 8_000],
                "over_400": [8_000, 25_000],
            },
            "savings_weekly": {"under_lower": [0, 0], "between": [0, 3_600]},
        },
    }


def check_config(config: Any) -> list[str]:
    """Every problem with `config`, in plain English (empty when it can be used): missing
    parts or levels, numbers that are not whole, negative or too large, points that fall as
    need rises, bands with gaps, overlaps or narrowing widths, bands that stop short of the
    most points, unknown streams or answer values. Never raises."""
    return [message for _field, message in config_problems(config)]


def config_problems(config: Any) -> list[tuple[str, str]]:
    """`check_config`'s problems with the field each is about (a dotted path into the
    configuration, like "outcome_points.hygiene.lot" or "bands.1.from_points"), for a form
    to show each beside its box."""
    if not isinstance(config, dict):
        return [("", "The configuration is not a set of named values")]
    found = _Found()
    _outcome_problems(config, found)
    for path, answers, what in (
        ("carer_support_reduction", CARER_SUPPORT, "The points taken off for unpaid help"),
        ("carer_coping_addition", CARER_COPING, "The points added when a carer cannot carry on"),
        ("condition_points", CONDITIONS, "The points for conditions"),
    ):
        values = found.table(config, path, tuple(k for k, _label in answers), what) or {}
        for key, label in answers if path in config and isinstance(config[path], dict) else ():
            if key not in values:
                found.add(f"{path}.{key}", f"{what}: '{label}' is missing")
            else:
                found.number(f"{path}.{key}", values[key], f"{what} ('{label}')")
    price_ok = found.number(
        "price_per_point_pence", config.get("price_per_point_pence"), "The price per point", 1
    )
    max_points_ok = found.number("max_points", config.get("max_points"), "The most points", 1)
    found.number(
        "max_weekly_pence", config.get("max_weekly_pence"), "The highest weekly indication", 1
    )
    if (
        price_ok
        and max_points_ok
        and config["price_per_point_pence"] * config["max_points"] > LARGEST
    ):
        found.add(
            "price_per_point_pence",
            f"The price per point times the most points is over {pounds(LARGEST)} a week",
        )
    found.problems += _band_problems(
        config.get("bands"), config.get("max_points") if max_points_ok else None
    )
    found.problems += _stream_problems(config.get("streams"))
    _contribution_problems(config.get("contribution"), found)
    return found.problems


class _Found:
    """The problems found so far, and the checks that add to them."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def number(self, path: str, value: Any, what: str, least: int = 0) -> bool:
        """Whether `value` is a whole number from `least` to LARGEST (else a problem)."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"{what} must be a whole number")
        elif value < least:
            self.add(
                path,
                f"{what} cannot be negative" if least == 0 else f"{what} must be {least} or more",
            )
        elif value > LARGEST:
            self.add(path, f"{what} is too large")
        else:
            return True
        return False

    def table(
        self, config: dict[str, Any], path: str, keys: tuple[str, ...], what: str
    ) -> dict[str, Any] | None:
        """The named values at `path`, or None (a problem) if missing; unknown names are
        problems too."""
        value = config.get(path)
        if not isinstance(value, dict):
            self.add(path, f"{what} are missing")
            return None
        for key in value:
            if key not in keys:
                self.add(f"{path}.{key}", f"{what}: '{key}' is not an answer the questions give")
        return value


def _outcome_problems(config: dict[str, Any], found: _Found) -> None:
    outcome_points = found.table(
        config, "outcome_points", OUTCOME_KEYS, "The points for each outcome"
    )
    if outcome_points is None:
        return
    for key in OUTCOME_KEYS:
        levels = outcome_points.get(key)
        title = _OUTCOME_TITLES[key]
        if not isinstance(levels, dict):
            found.add(f"outcome_points.{key}", f"The points for '{title}' are missing")
            continue
        ok = True
        for level in LEVEL_KEYS:
            path, what = (
                f"outcome_points.{key}.{level}",
                f"The points for '{title}', {_LEVEL_LABELS[level]},",
            )
            if level not in levels:
                found.add(path, f"{what} are missing")
                ok = False
            else:
                ok = found.number(path, levels[level], what) and ok
        for lower, higher in pairwise(LEVEL_KEYS) if ok else ():
            if levels[higher] < levels[lower]:
                found.add(
                    f"outcome_points.{key}.{higher}",
                    f"The points for '{title}' must not fall as need rises: "
                    f"{_LEVEL_LABELS[higher]} gives fewer than {_LEVEL_LABELS[lower]}",
                )


def _band_problems(bands: Any, max_points: int | None) -> list[tuple[str, str]]:
    if not isinstance(bands, list) or not bands:
        return [("bands", "There must be at least one band")]
    if not all(isinstance(band, dict) for band in bands):
        return [("bands", "Each band must have a name, a start, an end and a width")]
    found = _band_field_problems(bands)
    if found:
        return found  # the order checks need every number
    for index, band in enumerate(bands):
        if band["to_points"] < band["from_points"]:
            found.append(
                (
                    f"bands.{index}.to_points",
                    f"Band {index + 1} ends at {band['to_points']} points, "
                    f"before it starts at {band['from_points']}",
                )
            )
    return found or _band_order_problems(bands, max_points)


def _band_field_problems(bands: list[dict[str, Any]]) -> list[tuple[str, str]]:
    found = _Found()
    names: set[str] = set()
    for index, band in enumerate(bands):
        path, which = f"bands.{index}", f"Band {index + 1}"
        name = band.get("name")
        if not isinstance(name, str) or not name.strip():
            found.add(f"{path}.name", f"{which} needs a name")
        elif len(name) > BAND_NAME_MAX:
            found.add(f"{path}.name", f"{which}'s name must be {BAND_NAME_MAX} characters or fewer")
        elif name.strip().lower() in names:
            found.add(f"{path}.name", f"Two bands are called '{name}': give each its own name")
        else:
            names.add(name.strip().lower())
        for part, what in (
            ("from_points", "starts at"),
            ("to_points", "ends at"),
            ("width_percent", "width"),
        ):
            found.number(f"{path}.{part}", band.get(part), f"{which}'s {what}")
    return found.problems


def _band_order_problems(
    bands: list[dict[str, Any]], max_points: int | None
) -> list[tuple[str, str]]:
    found = _Found()
    if bands[0]["from_points"] != 0:
        found.add("bands.0.from_points", "The first band must start at 0 points")
    for index, (lower, higher) in enumerate(pairwise(bands), start=1):
        if higher["from_points"] > lower["to_points"] + 1:
            found.add(
                f"bands.{index}.from_points",
                f"There is a gap between bands {index} and {index + 1}: "
                f"{lower['to_points'] + 1} points is in no band",
            )
        elif higher["from_points"] <= lower["to_points"]:
            found.add(
                f"bands.{index}.from_points",
                f"Bands {index} and {index + 1} overlap: {higher['from_points']} points is in both",
            )
        if higher["width_percent"] < lower["width_percent"]:
            # Otherwise more need could show a lower top of the range.
            found.add(
                f"bands.{index}.width_percent",
                f"Band {index + 1} must be at least as wide as band {index} "
                f"({lower['width_percent']}%), or more need could show a lower range",
            )
    if max_points is not None and bands[-1]["to_points"] < max_points:
        found.add(
            f"bands.{len(bands) - 1}.to_points",
            f"The last band must reach the most points ({max_points}): "
            f"it ends at {bands[-1]['to_points']}",
        )
    return found.problems


def _stream_problems(streams: Any) -> list[tuple[str, str]]:
    if not isinstance(streams, dict):
        return [("streams", "The funding streams that usually apply are missing")]
    found: list[tuple[str, str]] = []

    def names(path: str, value: Any, what: str) -> None:
        if not isinstance(value, list) or not value:
            found.append((path, f"{what}: choose at least one funding stream"))
            return
        for name in value:
            if name not in STREAM_NAMES:
                found.append((path, f"{what}: '{name}' is not a funding stream"))

    names("streams.usual", streams.get("usual"), "The usual funding streams")
    names(
        "streams.self_funder", streams.get("self_funder"), "The funding streams for a self-funder"
    )
    by_condition = streams.get("by_condition", {})
    if not isinstance(by_condition, dict):
        found.append(
            ("streams.by_condition", "The funding streams by condition are not a list by condition")
        )
        return found
    conditions = dict(CONDITIONS)
    for condition, value in by_condition.items():
        if condition not in conditions:
            found.append(
                (
                    f"streams.by_condition.{condition}",
                    f"'{condition}' is not a condition the questions ask about",
                )
            )
        else:
            names(
                f"streams.by_condition.{condition}",
                value,
                f"The funding streams for '{conditions[condition]}'",
            )
    return found


def _contribution_problems(rules: Any, found: _Found) -> None:
    if not isinstance(rules, dict):
        found.add("contribution", "The rules for the person's contribution are missing")
        return
    savings = dict(SAVINGS_BANDS)
    self_funder = rules.get("self_funder_savings")
    if not isinstance(self_funder, list) or any(s not in savings for s in self_funder):
        found.add(
            "contribution.self_funder_savings",
            "The savings bands where the person probably pays in full must be savings bands",
        )
    for part, bands, what in (
        ("income_weekly", dict(INCOME_BANDS), "income"),
        ("savings_weekly", savings, "savings"),
    ):
        ranges = rules.get(part)
        path = f"contribution.{part}"
        if not isinstance(ranges, dict):
            found.add(path, f"The contribution by {what} band is missing")
            continue
        for band, pair in ranges.items():
            if band not in bands:
                found.add(f"{path}.{band}", f"'{band}' is not a {what} band")
                continue
            label = f"The contribution for {what} '{bands[band]}'"
            if not isinstance(pair, list) or len(pair) != 2:
                found.add(f"{path}.{band}", f"{label} must be a lowest and a highest amount")
                continue
            low_ok = found.number(f"{path}.{band}.0", pair[0], f"{label} (lowest)")
            high_ok = found.number(f"{path}.{band}.1", pair[1], f"{label} (highest)")
            if low_ok and high_ok and pair[1] < pair[0]:
                found.add(f"{path}.{band}.1", f"{label}: the highest is less than the lowest")
