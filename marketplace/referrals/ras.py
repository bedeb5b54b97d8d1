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
from marketplace.referrals.ras_config import check_config, config_problems, default_config
from marketplace.referrals.ras_explain import explain, stream_label
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
    "version_by_number",
    "versions_with_use",
    "weekly_range",
    "work_out",
]


NEED_LABELS = dict(NEED_LEVELS)
OUTCOME_TITLES = {key: title for key, title, _words in OUTCOMES}
CONDITION_LABELS = dict(CONDITIONS)
CARER_SUPPORT_LABELS = dict(CARER_SUPPORT)
CARER_COPING_LABELS = dict(CARER_COPING)


class BadConfig(ValueError):
    """A configuration `check_config` found problems with (`problems`, plain English)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class VersionClash(ValueError):
    """Another version was saved first (the unique number decided): nothing was saved."""


class IncompleteAnswers(ValueError):
    """The assessment lacks answers the indication needs, or holds a value no question gives
    (`missing`, question keys)."""

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
    """Each answer's points, with the question's and the answer's words as they were (so the
    workings still read the same if the questions' words change later)."""
    outcome_lines = [
        {
            "key": key,
            "title": OUTCOME_TITLES[key],
            "answer": answers[key],
            "answer_label": NEED_LABELS[answers[key]],
            "points": config["outcome_points"][key][answers[key]],
        }
        for key in OUTCOME_KEYS
    ]
    support = answers.get("carer_support", "none")
    # carer_coping is asked only when someone helps; unasked, nothing is added back.
    coping = answers.get("carer_coping", "yes") if support != "none" else "yes"
    carer_lines = [
        {
            "key": "carer_support",
            "title": "Unpaid help from family or friends",
            "answer": support,
            "answer_label": CARER_SUPPORT_LABELS[support],
            "points": -config["carer_support_reduction"][support],
        },
        {
            "key": "carer_coping",
            "title": "Can the person who helps carry on",
            "answer": coping,
            "answer_label": CARER_COPING_LABELS[coping],
            "points": config["carer_coping_addition"][coping],
        },
    ]
    condition_lines = [
        {
            "key": key,
            "title": CONDITION_LABELS[key],
            "points": config["condition_points"].get(key, 0),
        }
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


def _unusable(answers: dict[str, Any]) -> list[str]:
    """The keys the indication needs that are unanswered or hold a value no question gives."""
    allowed: dict[str, dict[str, str]] = {
        **dict.fromkeys(OUTCOME_KEYS, NEED_LABELS),
        "savings": dict(SAVINGS_BANDS),
        "income": dict(INCOME_BANDS),
    }
    wrong = [key for key, values in allowed.items() if answers.get(key) not in values]
    if answers.get("carer_support", "none") not in CARER_SUPPORT_LABELS:
        wrong.append("carer_support")
    if answers.get("carer_coping", "yes") not in CARER_COPING_LABELS:
        wrong.append("carer_coping")
    conditions = answers.get("conditions") or []
    if not isinstance(conditions, list) or any(c not in CONDITION_LABELS for c in conditions):
        wrong.append("conditions")
    return wrong


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


def work_out(config: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The workings `config` gives `answers` (pure arithmetic, nothing saved): each answer's
    points, the total and whether it was capped, the price, the band, the weekly range (low
    and high, in pence) and whether the weekly cap cut it, the usual streams and the
    contribution estimate. `config` must pass `check_config`. Raises IncompleteAnswers when an
    outcome, the savings or the income is unanswered."""
    missing = _unusable(answers)
    if missing:
        raise IncompleteAnswers(missing)
    points = _points(config, answers)
    weekly = weekly_range(config, points["points"])
    contribution = _contribution(config, answers, weekly["high_weekly_pence"])
    streams = _streams(config, answers, contribution)
    return {
        **points,
        "price_per_point_pence": config["price_per_point_pence"],
        **weekly,
        "capped": points["points_capped"] or weekly["weekly_capped"],
        "streams": streams,
        # The streams' words as they were, for the officers' table of the workings.
        "stream_words": [stream_label(name) for name in streams],
        "contribution": contribution,
        "rounding": "low rounded down, high rounded up, to the whole pound",
    }


def make_indication(session: Session, assessment: SelfAssessment) -> Indication:
    """The indication for a self-assessment being sent, from its OWN version
    (`assessment.ras_version`, never the current one), flushed, with its workings
    (`work_out`'s, and the version's number).

    An assessment that already has an indication gets that one back unchanged (a retried send
    makes nothing twice; an indication is never recomputed). Raises IncompleteAnswers when an
    outcome, the savings or the income is unanswered, and BadConfig if the version's
    configuration is unusable."""
    if assessment.indication is not None:
        return assessment.indication
    version = assessment.ras_version
    problems = check_config(version.config)
    if problems:
        raise BadConfig(problems)
    workings = {"version": version.number, **work_out(version.config, assessment.answers or {})}
    indication = Indication(
        assessment=assessment,
        ras_version=version,
        points=workings["points"],
        low_weekly_pence=workings["low_weekly_pence"],
        high_weekly_pence=workings["high_weekly_pence"],
        band=workings["band"]["name"][:60],
        capped=workings["capped"],
        workings=workings,
    )
    session.add(indication)
    session.flush()
    return indication


def version_by_number(session: Session, number: int) -> RasVersion | None:
    """The version numbered `number`, or None."""
    return session.scalars(select(RasVersion).where(RasVersion.number == number)).first()


def versions_with_use(session: Session) -> list[tuple[RasVersion, int, int]]:
    """Every version, newest first, with how many self-assessments took it and how many
    indications it produced (two grouped counts, not one query per version)."""
    started = dict(
        session.execute(
            select(SelfAssessment.ras_version_id, func.count()).group_by(
                SelfAssessment.ras_version_id
            )
        ).all()
    )
    indicated = dict(
        session.execute(
            select(Indication.ras_version_id, func.count()).group_by(Indication.ras_version_id)
        ).all()
    )
    versions = session.scalars(select(RasVersion).order_by(RasVersion.number.desc())).all()
    return [(v, started.get(v.id, 0), indicated.get(v.id, 0)) for v in versions]
