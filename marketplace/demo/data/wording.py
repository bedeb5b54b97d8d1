"""How the demo providers write: a listing's description from the phrase banks in offers.json.

A description is an opening, a detail or two, who the service is for and a few of the things
providers like to say (training, languages, paying, how to start), shuffled so that listings of
the same kind do not read alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

SIGN_LANGUAGE = "British Sign Language"

_CONDITION_WORDS = {
    "physical disability": "a physical disability",
    "learning disability": "a learning disability",
    "stroke": "the effects of a stroke",
    "terminal illness": "a terminal illness",
}


@dataclass(frozen=True)
class Voice:
    """The organisation writing: its generator, phrase banks, names and languages.

    `context` fills the phrases' placeholders ({org}, {town}, {area}); `languages` are those
    spoken or signed besides English; `volunteers` is true for charities, whose training
    sentences mention volunteers.
    """

    rng: random.Random
    phrases: dict[str, Any]
    context: dict[str, str]
    languages: tuple[str, ...] = ()
    volunteers: bool = False


def join(words: list[str], last: str = "and") -> str:
    """Words as a list in prose: "a", "a and b", "a, b and c" (or "or" for `last`)."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def describe(
    voice: Voice, kind: dict[str, Any], eligibility: dict[str, Any], *, price: int, budgets: bool
) -> str:
    """Three to seven sentences in a provider's words, ordered differently listing to listing.

    A free service (price 0) says so and never offers a free trial.
    """
    rng, phrases = voice.rng, voice.phrases
    opening = rng.choice(kind["openings"])
    details = rng.sample(kind["details"], rng.randint(1, min(2, len(kind["details"]))))
    extras: list[str] = []
    if kind["regulated"]:
        extras.append(rng.choice(phrases["care_training"]))
    elif rng.random() < 0.35:
        extras.append(
            rng.choice(phrases["volunteer_training" if voice.volunteers else "staff_training"])
        )
    spoken = [language for language in voice.languages if language != SIGN_LANGUAGE]
    if spoken and rng.random() < 0.8:
        extras.append(rng.choice(phrases["languages"]).replace("{languages}", join(spoken)))
    if SIGN_LANGUAGE in voice.languages:
        extras.append(rng.choice(phrases["sign_language"]))
    if budgets and rng.random() < 0.3:
        extras.append(rng.choice(phrases["budgets"]))
    if rng.random() < 0.5:
        extras.append(rng.choice(phrases["starting"]))
    rng.shuffle(extras)
    sentences = [opening, *details, *extras]
    whom = who_it_is_for(voice, eligibility)
    if rng.random() < 0.3:
        sentences.insert(0, whom)
    elif rng.random() < 0.7:
        sentences.insert(rng.randint(1, 2), whom)
    text = " ".join(sentences).format(**voice.context)
    return text if price or "free" in text.lower() else f"{text} There is no charge."


def who_it_is_for(voice: Voice, eligibility: dict[str, Any]) -> str:
    """One sentence saying who may use the service, agreeing with its eligibility."""
    rng, area = voice.rng, voice.context["area"]
    min_age = eligibility.get("min_age")
    named = [_CONDITION_WORDS.get(c, c) for c in eligibility.get("conditions", [])]
    conditions = join(named, "or") if named else ""
    if eligibility.get("carers"):
        age = f" aged {min_age} or over" if min_age else ""
        return rng.choice(
            [
                f"It is for unpaid carers{age} looking after a relative, partner or friend.",
                f"Any carer{age} in {area} is welcome, whether or not you live with the "
                "person you look after.",
            ]
        )
    if conditions and min_age:
        return rng.choice(
            [
                f"For people aged {min_age} and over living with {conditions}.",
                f"We support people of {min_age} and over who live with {conditions}.",
            ]
        )
    if conditions:
        return f"For people living with {conditions}, and the people who care for them."
    if min_age:
        return rng.choice(
            [
                f"Open to anyone aged {min_age} or over in {area}.",
                f"For people aged {min_age} and over.",
            ]
        )
    return rng.choice([f"Anyone in {area} can use it.", "Everyone is welcome."])
