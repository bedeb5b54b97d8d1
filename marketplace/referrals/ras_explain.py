"""How an early indication of budget was worked out, in plain English (RAS, issue 20 item 2),
read from its stored workings and the version that produced it, never from the current
version: an indication made under version 1 is explained by version 1 after version 2."""

from __future__ import annotations

from typing import Any

from marketplace.budgets.models import StreamKind
from marketplace.formatting import london_time, pounds
from marketplace.referrals.models import Indication
from marketplace.referrals.questions import (
    CARER_COPING,
    CARER_SUPPORT,
    CONDITIONS,
    INCOME_BANDS,
    NEED_LEVELS,
    OUTCOMES,
    SAVINGS_BANDS,
)

_OUTCOME_TITLES = {key: title for key, title, _words in OUTCOMES}
_NEED = dict(NEED_LEVELS)
_CONDITIONS = dict(CONDITIONS)
_SUPPORT = dict(CARER_SUPPORT)
_COPING = dict(CARER_COPING)
_SAVINGS = dict(SAVINGS_BANDS)
_INCOME = dict(INCOME_BANDS)


def _points(n: int) -> str:
    return f"{n} point" if abs(n) == 1 else f"{n} points"


# The budgets' funding streams (`StreamKind`), as a sentence names them to the person or an
# officer alike ("your" would be wrong when someone answers for the person).
STREAM_WORDS: dict[str, str] = {
    StreamKind.COUNCIL.value: "the council",
    StreamKind.NHS.value: "the NHS (a personal health budget)",
    StreamKind.CLIENT_CONTRIBUTION.value: "a contribution from the person",
    StreamKind.OWN_FUNDS.value: "the person's own money",
}


def stream_label(name: str) -> str:
    """A funding stream's name in a sentence ("the NHS (a personal health budget)")."""
    return STREAM_WORDS.get(name, name)


def contribution_sentence(contribution: dict[str, Any]) -> str:
    """What the indication says about the person's contribution, in one sentence."""
    kind = contribution.get("kind")
    if kind == "self_funder":
        return (
            "Savings over the upper capital limit (£23,250): the person will probably pay "
            "for their own care in full (a self-funder)."
        )
    if kind == "none":
        return (
            "From the income and savings given, the person would probably not be asked "
            "to contribute."
        )
    if kind == "estimate":
        return (
            f"From the income and savings given, the person may be asked to contribute between "
            f"{pounds(contribution['low_weekly_pence'])} and "
            f"{pounds(contribution['high_weekly_pence'])} a week."
        )
    return (
        "The income or savings were not given, so there is no estimate of the contribution: "
        "the council will work it out with the person."
    )


def explain(indication: Indication) -> list[str]:
    """Plain-English lines saying how `indication` was worked out, from its own workings and
    version: the version and when, each answer's points, family help, conditions, the total
    and any cap, the price, the band and its rounding, the weekly cap, the usual funding
    streams and the contribution. Never reads the current version; never raises for an
    indication made by `ras.make_indication`."""
    w = indication.workings or {}
    lines = [
        f"Worked out on {london_time(indication.made_at, with_time=False)} under version "
        f"{indication.ras_version.number} of the council's resource allocation system.",
        *_answer_lines(w),
    ]
    return lines + _money_lines(indication, w)


def _answer_lines(w: dict[str, Any]) -> list[str]:
    lines = []
    for line in w.get("outcomes", []):
        title = line.get("title") or _OUTCOME_TITLES.get(line["key"], line["key"])
        answer = line.get("answer_label") or _NEED.get(line["answer"], line["answer"])
        lines.append(f"{title}: \u201c{answer}\u201d: {_points(line['points'])}.")
    for line in w.get("carer", []):
        if line["key"] == "carer_support":
            said = line.get("answer_label") or _SUPPORT.get(line["answer"], line["answer"])
            taken = -line["points"]
            lines.append(
                f"Unpaid help from family or friends: \u201c{said}\u201d: "
                + (f"{_points(taken)} taken off." if taken else "no points taken off.")
            )
        elif line["points"]:
            said = line.get("answer_label") or _COPING.get(line["answer"], line["answer"])
            lines.append(
                f"Can the carer carry on: \u201c{said}\u201d: {_points(line['points'])} added back."
            )
    for line in w.get("conditions", []):
        label = line.get("title") or _CONDITIONS.get(line["key"], line["key"])
        lines.append(f"{label}: {_points(line['points'])}.")
    return lines


def _money_lines(indication: Indication, w: dict[str, Any]) -> list[str]:
    lines = []
    total, points = w.get("points_total", indication.points), indication.points
    if w.get("points_capped"):
        lines.append(
            f"Total {_points(total)}, capped at the most this version allows: {_points(points)}."
        )
    elif total < 0:
        lines.append(f"Total {_points(total)}, counted as 0 points (never below none).")
    else:
        lines.append(f"Total: {_points(points)}.")
    band = w.get("band", {})
    if "price_per_point_pence" in w:
        lines.append(
            f"Each point is worth {pounds(w['price_per_point_pence'])} a week, so "
            f"{_points(points)} is {pounds(w['base_weekly_pence'])} a week."
        )
    if band:
        lines.append(
            f"That is in the \u201c{band['name']}\u201d band ({band['from_points']} to "
            f"{band['to_points']} points), whose range goes {band['width_percent']}% above it: "
            f"up to {pounds(w['high_exact_weekly_pence'])}. The lower end is rounded down and "
            "the upper end rounded up to the whole pound."
        )
    if w.get("weekly_capped"):
        lines.append(
            f"The highest weekly indication this version gives is {pounds(w['max_weekly_pence'])}, "
            "so the range stops there."
        )
    lines.append(
        f"Indicated range: {pounds(indication.low_weekly_pence)} to "
        f"{pounds(indication.high_weekly_pence)} a week. This is not a decision."
    )
    if w.get("streams"):
        lines.append("Usually paid from: " + ", ".join(stream_label(s) for s in w["streams"]) + ".")
    if "contribution" in w:
        lines.append(contribution_sentence(w["contribution"]))
    return lines
