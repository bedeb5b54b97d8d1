"""Example people whose indications the council's "try it" preview shows for a configuration
before it is saved (RAS, issue 20): from little need to a great deal, and a self-funder."""

from __future__ import annotations

from typing import Any

from marketplace.referrals.questions import OUTCOME_KEYS


def _answers(levels: dict[str, str], **rest: Any) -> dict[str, Any]:
    return {**dict.fromkeys(OUTCOME_KEYS, "none"), **levels, **rest}


EXAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "Some help getting out and keeping the home, a neighbour helps a few times a week",
        _answers(
            {"community": "some", "home_safe": "some"},
            carer_support="some",
            carer_coping="yes",
            conditions=[],
            savings="under_lower",
            income="under_200",
        ),
    ),
    (
        "Help every time with washing and dressing, family struggling to carry on",
        _answers(
            {
                "hygiene": "lot",
                "clothing": "lot",
                "nutrition": "some",
                "moving_home": "some",
                "community": "lot",
                "relationships": "some",
            },
            carer_support="daily",
            carer_coping="struggling",
            conditions=["physical"],
            savings="between",
            income="200_400",
        ),
    ),
    (
        "Cannot manage any personal care, lives alone, dementia",
        _answers(
            {
                key: "unable"
                for key in ("nutrition", "hygiene", "toileting", "clothing", "moving_home")
            }
            | {"home_safe": "lot", "community": "lot", "relationships": "lot"},
            carer_support="none",
            conditions=["dementia"],
            savings="under_lower",
            income="over_400",
        ),
    ),
    (
        "A terminal illness, savings over the upper limit",
        _answers(
            {"hygiene": "lot", "toileting": "lot", "clothing": "lot", "moving_home": "lot"},
            carer_support="most",
            carer_coping="no",
            conditions=["end_of_life"],
            savings="over_upper",
            income="200_400",
        ),
    ),
)
