"""The council's resource allocation system (RAS, issue 20 item 2): its configuration, its
versions, and the early indication of budget it gives a self-assessment.

A configuration (`RasVersion.config`, JSON) holds, all as whole numbers:

- ``outcome_points``: for each eligibility outcome (`questions.OUTCOMES`), the points for each
  need level (`questions.NEED_LEVELS`);
- ``carer_support_reduction``: points taken off for unpaid help from family and friends, by
  the `carer_support` answer; ``carer_coping_addition``: points added back when that carer
  cannot carry on, by the `carer_coping` answer;
- ``condition_points``: points for each condition ticked (`questions.CONDITIONS`);
- ``price_per_point_pence``: what one point is worth each week;
- ``bands``: named point ranges, in order, each with ``from_points``, ``to_points`` (both
  included) and ``width_percent``: how much wider than its base the weekly range is;
- ``max_points`` and ``max_weekly_pence``: the caps;
- ``streams``: the funding streams that usually apply (the budgets' `StreamKind` names):
  ``usual``, ``self_funder`` and ``by_condition`` (NHS for a terminal illness);
- ``contribution``: the savings bands over the upper capital limit (``self_funder_savings``:
  the person probably pays in full), and estimated weekly contribution ranges
  ``[low, high]`` in pence by income band (``income_weekly``) and savings band
  (``savings_weekly``, tariff income).

The arithmetic (all integers; see docs/resource-allocation.md):
points = outcome points + condition points - carer reduction + carer addition, never below 0,
then capped at ``max_points``; base = points * price; high = base + base * width // 100
(rounded down to the penny); low is base rounded DOWN to the whole pound, high rounded UP to
the whole pound; both are then capped at ``max_weekly_pence``.

Versions are never edited: a change is the next version (`new_version`), and an indication is
made from its assessment's own version, so it can be explained later by that version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.budgets.models import StreamKind
from marketplace.referrals.models import Indication, RasVersion, SelfAssessment
from marketplace.referrals.questions import OUTCOME_KEYS
from marketplace.referrals.ras_config import check_config, config_problems, default_config
from marketplace.referrals.ras_explain import explain
from marketplace.types import Session

__all__ = [
    "BadConfig",
    "IncompleteAnswers",
    "VersionClash",
    "check_config",
    "config_problems",
    "current_version",
    "default_config",
    "explain",
    "make_indication",
    "new_version",
    "weekly_range",
]


class BadConfig(ValueError):
    """A configuration `check_config` found problems with (`problems`, plain English)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class VersionClash(ValueError):
    """Another version was saved first (the unique number decided): nothing was saved."""


class IncompleteAnswers(ValueError):
    """The assessment lacks answers the indication needs (`missing`, question keys)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("missing answers: " + ", ".join(missing))
        self.missing = missing


def current_version(session: Session) -> RasVersion | None:
    """The version new self-assessments take (the highest number), or None before the
    council has configured one."""
    return session.scalars(select(RasVersion).order_by(RasVersion.number.desc()).limit(1)).first()


def new_version(
    session: Session,
    config: dict[str, Any],
    *,
    by: User | None,
    note: str,
    now: datetime,
    based_on: int | None = None,
) -> RasVersion:
    """Save `config` as the next version (flushed); old versions are never edited.

    Raises BadConfig (nothing saved) when `check_config` finds problems. Raises VersionClash
    (nothing saved, the session still usable) when `based_on` (the number of the version the
    officer's form was filled from) is no longer the current one, or when another version
    took the same number at the same moment: the unique number decides, so two officers
    saving at once never share a number."""
    problems = check_config(config)
    if problems:
        raise BadConfig(problems)
    latest = session.scalar(select(func.max(RasVersion.number))) or 0
    if based_on is not None and latest != based_on:
        raise VersionClash(
            f"Version {latest} was saved after you started, so yours was not saved. "
            "Look at it, then make your changes again."
        )
    version = RasVersion(
        number=latest + 1, config=config, note=note.strip(), made_by=by, made_at=now
    )
    try:
        # A savepoint, so a clash on the unique number leaves the caller's transaction whole.
        with session.begin_nested():
            session.add(version)
            session.flush()
    except IntegrityError as error:
        raise VersionClash(
            f"Someone else saved version {latest + 1} at the same moment, so yours was not "
            "saved. Look at it, then make your changes again."
        ) from error
    return version


def weekly_range(config: dict[str, Any], points: int) -> dict[str, Any]:
    """The weekly range `points` (already capped) is worth under `config`: the band, the base,
    the unrounded and rounded ends, and whether the weekly cap cut them. Pure arithmetic on
    ints; the rounding is: low down, high up, to the whole pound."""
    band = next(b for b in config["bands"] if b["from_points"] <= points <= b["to_points"])
    base = points * config["price_per_point_pence"]
    high_exact = base + base * band["width_percent"] // 100  # floor to the penny
    low = base // 100 * 100  # down to the whole pound
    high = -(-high_exact // 100) * 100  # up to the whole pound
    cap = config["max_weekly_pence"]
    return {
        "band": dict(band),
        "base_weekly_pence": base,
        "high_exact_weekly_pence": high_exact,
        "low_weekly_pence": min(low, cap),
        "high_weekly_pence": min(high, cap),
        "weekly_capped": high > cap,
        "max_weekly_pence": cap,
    }


def _points(config: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    outcome_lines = [
        {"key": key, "answer": answers[key], "points": config["outcome_points"][key][answers[key]]}
        for key in OUTCOME_KEYS
    ]
    support = answers.get("carer_support", "none")
    # carer_coping is asked only when someone helps; unasked, nothing is added back.
    coping = answers.get("carer_coping", "yes") if support != "none" else "yes"
    carer_lines = [
        {
            "key": "carer_support",
            "answer": support,
            "points": -config["carer_support_reduction"][support],
        },
        {
            "key": "carer_coping",
            "answer": coping,
            "points": config["carer_coping_addition"][coping],
        },
    ]
    condition_lines = [
        {"key": key, "points": config["condition_points"].get(key, 0)}
        for key in answers.get("conditions") or []
    ]
    total = sum(line["points"] for line in outcome_lines + carer_lines + condition_lines)
    capped_points = min(max(total, 0), config["max_points"])
    return {
        "outcomes": outcome_lines,
        "carer": carer_lines,
        "conditions": condition_lines,
        "points_total": total,
        "points": capped_points,
        "points_capped": total > config["max_points"],
        "max_points": config["max_points"],
    }


def _contribution(config: dict[str, Any], answers: dict[str, Any], high: int) -> dict[str, Any]:
    rules = config["contribution"]
    savings, income = answers.get("savings"), answers.get("income")
    found: dict[str, Any] = {"savings": savings, "income": income}
    if savings in rules["self_funder_savings"]:
        return found | {"kind": "self_funder"}
    by_income, by_savings = rules["income_weekly"], rules["savings_weekly"]
    if income not in by_income or savings not in by_savings:
        return found | {"kind": "unknown"}
    low = by_income[income][0] + by_savings[savings][0]
    # Nobody is asked to pay more than their care costs: the estimate stops at the range's top.
    top = by_income[income][1] + by_savings[savings][1]
    return found | {
        "kind": "estimate" if top > 0 else "none",
        "low_weekly_pence": min(low, high),
        "high_weekly_pence": min(top, high),
    }


def _streams(
    config: dict[str, Any], answers: dict[str, Any], contribution: dict[str, Any]
) -> list[str]:
    streams = config["streams"]
    chosen = list(streams["self_funder" if contribution["kind"] == "self_funder" else "usual"])
    for condition in answers.get("conditions") or []:
        chosen += streams["by_condition"].get(condition, [])
    if contribution["kind"] == "none":
        chosen = [s for s in chosen if s != StreamKind.CLIENT_CONTRIBUTION.value]
    return list(dict.fromkeys(chosen))  # in order, once each


def make_indication(session: Session, assessment: SelfAssessment) -> Indication:
    """The indication for a self-assessment being sent, from its OWN version
    (`assessment.ras_version`, never the current one), flushed, with its workings: each
    answer's points, the band, whether capped, the usual streams, the contribution estimate.

    An assessment that already has an indication gets that one back unchanged (a retried send
    makes nothing twice; an indication is never recomputed). Raises IncompleteAnswers when an
    outcome, the savings or the income is unanswered, and BadConfig if the version's
    configuration is unusable."""
    if assessment.indication is not None:
        return assessment.indication
    version = assessment.ras_version
    config = version.config
    problems = check_config(config)
    if problems:
        raise BadConfig(problems)
    answers = assessment.answers or {}
    missing = [k for k in (*OUTCOME_KEYS, "savings", "income") if k not in answers]
    if missing:
        raise IncompleteAnswers(missing)
    points = _points(config, answers)
    weekly = weekly_range(config, points["points"])
    contribution = _contribution(config, answers, weekly["high_weekly_pence"])
    workings = {
        "version": version.number,
        **points,
        "price_per_point_pence": config["price_per_point_pence"],
        **weekly,
        "streams": _streams(config, answers, contribution),
        "contribution": contribution,
        "rounding": "low rounded down, high rounded up, to the whole pound",
    }
    indication = Indication(
        assessment=assessment,
        ras_version=version,
        points=points["points"],
        low_weekly_pence=weekly["low_weekly_pence"],
        high_weekly_pence=weekly["high_weekly_pence"],
        band=weekly["band"]["name"][:60],
        capped=points["points_capped"] or weekly["weekly_capped"],
        workings=workings,
    )
    session.add(indication)
    session.flush()
    return indication
