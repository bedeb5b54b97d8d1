"""The search benchmark's directory and queries: the same on every run and every machine.

`directory(size)` writes `size` listings the way the demo county does (marketplace/demo/data):
kinds, service names, prices, units and delivery modes from `offers.json`, descriptions from
`wording.describe` (an opening, details, who it is for, training, languages, paying, starting,
in a provider's voice), places from the county gazetteer, capacity as providers keep it (most
accepting, some on a waiting list, one in seven not confirmed for months). The demo county
itself has about 150 listings; this draws the same way from one seeded generator, as many
times as asked, for providers named after the towns they work from.

`QUERIES` is the fixed mix of 200 searches, as URL parameters of the search page, each with its
kind: plain words (some misspelt), synonym phrases, filters, facets, browse (no words) and
distance. `baseline_words` is what a plain engine is given for each: the words typed only.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from marketplace.demo.data.wording import Voice, describe
from search import ListingDocument

REPOSITORY = Path(__file__).resolve().parent.parent
TODAY = date(2025, 6, 2)
SEED = 20250602
STALE_AFTER_DAYS = 90

LANGUAGES = ["Polish", "Urdu", "Punjabi", "Gujarati", "Bengali", "Romanian", "Greek", "Turkish"]
VENUE_ACCESS = [
    "Step-free access",
    "Accessible toilet",
    "Hearing loop",
    "Accessible parking",
    "Large print information",
    "Changing Places toilet",
    "Quiet room",
    "Dementia-friendly signage",
]
HOME_ACCESS = [
    "Large print information",
    "Easy read information",
    "Information in audio",
    "Interpreters can be arranged",
]
ONLINE_ACCESS = ["Works with screen readers", "Subtitles on video sessions", "Phone option"]
FIRST = [
    "Bluebell",
    "Oak",
    "Willow",
    "Kingfisher",
    "Meadow",
    "Beacon",
    "Lantern",
    "Evergreen",
    "Chiltern",
    "Lea Valley",
    "Heartwood",
    "Riverside",
]
SECOND = [
    "Care",
    "Homecare",
    "Support",
    "Companions",
    "Community Trust",
    "Helping Hands",
    "Carers",
    "Age Well",
]
CQC = ["outstanding", "good", "good", "good", "requires_improvement", "not_yet_rated"]


def read_json(relative: str) -> Any:
    return json.loads((REPOSITORY / relative).read_text(encoding="utf-8"))


def _round_pence(pence: int) -> int:
    """A price a provider would set, as the demo county rounds them."""
    step = 5 if pence < 1_000 else 10 if pence < 10_000 else 500 if pence < 100_000 else 5_000
    return max(step, round(pence / step) * step)


def directory(size: int, seed: int = SEED) -> Iterator[ListingDocument]:
    """`size` listings, the same for the same seed."""
    rng = random.Random(seed)
    offers = read_json("marketplace/demo/data/offers.json")
    kinds = list(offers["kinds"].values())
    common = offers["common"]
    county = read_json("providers/data/hertfordshire.json")
    districts = county["districts"]
    taxonomy = read_json("providers/data/taxonomy.json")["terms"]
    names = {term["code"]: term["name"] for term in taxonomy} | {
        kind["code"]: kind["name"] for term in taxonomy for kind in term["kinds"]
    }
    for number in range(size):
        kind = rng.choice(kinds)
        variant = rng.choice(kind["variants"])
        district = rng.choice(districts)
        town = rng.choice(district["towns"])
        provider = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {town['name']}"
        countywide = rng.random() < 0.1
        area = county["county"] if countywide else district["name"]
        context = {"org": provider, "town": town["name"], "area": area}
        extra = tuple(rng.sample(LANGUAGES, rng.randint(1, 2))) if rng.random() < 0.2 else ()

        unit = variant["unit"]
        price = 0 if unit == "free" else _round_pence(rng.randint(*variant["price"]))
        if rng.random() < variant.get("free_chance", 0):
            unit, price = "free", 0
        modes = list(variant.get("modes") or kind["modes"])
        if len(modes) > 1 and rng.random() < 0.4:
            modes = modes[:1]
        budgets = price > 0 and variant.get("budgets", True) and rng.random() > 0.06
        voice = Voice(
            rng=rng,
            phrases=common,
            context=context,
            languages=extra,
            volunteers=rng.random() < 0.3,
        )
        eligibility = rng.choice(kind["eligibility"])
        description = describe(voice, kind, eligibility, price=price, budgets=budgets)

        venue = "at_venue" in modes and (kind.get("venue") or rng.random() < 0.5)
        if modes == ["online"] or countywide:
            localities = [d["code"] for d in districts]
        elif venue and "at_home" not in modes:
            localities = [town["code"]]
        elif rng.random() < 0.6:
            localities = [district["code"]]
        else:
            towns = district["towns"]
            localities = [t["code"] for t in rng.sample(towns, rng.randint(1, len(towns)))]
        access: list[str] = []
        if "at_venue" in modes:
            access += rng.sample(VENUE_ACCESS, rng.randint(2, 4))
        if "at_home" in modes:
            access += rng.sample(HOME_ACCESS, rng.randint(0, 2))
        if "online" in modes:
            access += rng.sample(ONLINE_ACCESS, 1)

        roll = rng.random()
        if roll < 0.7:
            availability, start = "accepting", TODAY + timedelta(days=rng.randint(0, 14))
        elif roll < 0.9:
            availability, start = "waiting_list", TODAY + timedelta(days=rng.randint(21, 90))
        else:
            availability, start = "full", None
        stale = rng.random() < 0.15
        confirmed = TODAY - timedelta(
            days=rng.randint(STALE_AFTER_DAYS + 5, 220) if stale else rng.randint(0, 60)
        )
        name = variant["name"].format(**context)
        if "{" not in variant["name"] and rng.random() < 0.25:
            name = f"{name} in {town['name']}"
        yield ListingDocument(
            id=f"bench-{number}",
            name=name,
            description=description,
            provider_name=provider,
            category_codes=tuple(kind["terms"]),
            category_names=tuple(names[code] for code in kind["terms"]),
            locality_codes=tuple(localities),
            delivery_modes=tuple(modes),
            price_pence=price,
            price_unit=unit,
            availability=availability,
            earliest_start=start,
            accepts_personal_budgets=budgets,
            languages=("English", *extra),
            accessibility=tuple(dict.fromkeys(access)),
            cqc_rating=rng.choice(CQC) if kind["regulated"] else None,
            last_confirmed=confirmed,
            latitude=town["latitude"] + rng.uniform(-0.02, 0.02) if venue else None,
            longitude=town["longitude"] + rng.uniform(-0.02, 0.02) if venue else None,
        )


# The fixed query mix ---------------------------------------------------------------------------

WORDS = [
    "home care",
    "dementia",
    "respite",
    "befriending",
    "stairlift",
    "podiatry",
    "falls",
    "sheltered housing",
    "night care",
    "live in carer",
    "memory loss",
    "exercise class",
    "personal alarm",
    "hoist",
    "lunch club",
    "day centre",
    "telecare",
    "mobility scooter",
    "bath lift",
    "walking frame",
    "carer",
    "cleaning",
    "shopping",
    "ironing",
    "gardening club",
    "laundry",
    "companionship",
    "lonely",
    "tai chi",
    "foot care",
    "toenail cutting",
    "frozen meals",
    "extra care housing",
    "floating support",
    "holiday",
    "minibus",
    "wheelchair",
    "stroke",
    "alzheimers",
    "continence",
    "personal assistant",
    "domestic help",
    "key safe",
    "yoga",
    "dial a ride",
    "payroll",
    "tenancy",
    "seaside",
    "music",
    "craft",
    # misspelt: forgiving matching and "did you mean"
    "demensia",
    "respit",
    "befreinding",
    "podiatary",
    "stairlfit",
    "alzimers",
    "chiropodist",
    "sheltred housing",
    "companoin",
    "wheelchiar",
]
PHRASES = [
    "someone to help my dad get dressed",
    "short break for my wife",
    "meals on wheels",
    "meels on wheels",
    "hot meal delivery",
    "lift to hospital",
    "help getting washed",
    "someone to sit with my mum",
    "my mother keeps forgetting things",
    "help with shopping and cleaning",
    "a break from caring",
    "grab rails in the bathroom",
    "help in the bath",
    "somebody to visit my nan",
    "care worker in the morning",
    "a PA for my son",
    "support for carers",
    "advice about benefits",
    "help at home after hospital",
    "someone to talk to",
    "getting out of the house",
    "company for my dad",
    "he keeps falling over",
    "cutting toenails at home",
    "help up the stairs",
    "somewhere to go in the day",
    "night sitter",
    "someone to stay overnight",
    "alarm in case I fall",
    "trouble walking",
    "memory problems",
    "my husband has Alzheimer's",
    "respite care for a weekend",
    "lunch with other people",
    "keep fit for older people",
    "help to live independently",
    "a carer who speaks Polish",
    "moving into sheltered housing",
    "wheelchair accessible transport",
    "dementia friendly activities",
]
FILTERS: list[dict[str, str]] = [
    {"q": "home care", "max_price": "25"},
    {"q": "home care", "max_price": "30", "availability": "accepting"},
    {"q": "day centre", "availability": "accepting"},
    {"q": "personal care", "start_within": "14"},
    {"q": "respite", "budgets": "yes"},
    {"q": "dementia", "category": "day-opportunities"},
    {"q": "cleaning", "max_price": "20"},
    {"q": "home care", "cqc": "outstanding"},
    {"q": "home care", "locality": "Stevenage"},
    {"q": "befriending", "locality": "Watford"},
    {"q": "day centre", "access": "step-free-access"},
    {"q": "meals", "max_price": "6"},
    {"q": "stairlift", "max_price": "2000"},
    {"q": "night care", "availability": "accepting", "start_within": "7"},
    {"q": "carer", "language": "Polish"},
    {"q": "exercise", "locality": "St Albans"},
    {"q": "lunch club", "max_price": "5"},
    {"q": "transport", "locality": "Hitchin"},
    {"q": "dementia", "budgets": "yes", "max_price": "40"},
    {"q": "personal assistant", "availability": "accepting"},
    {"q": "someone to help my dad get dressed", "locality": "Hertford"},
    {"q": "short break for my wife", "budgets": "yes"},
    {"q": "memory loss", "availability": "accepting"},
    {"q": "podiatry", "max_price": "30"},
    {"q": "sheltered housing", "locality": "Dacorum"},
    {"q": "advice", "category": "information-and-advice"},
    {"q": "help at home", "start_within": "30", "budgets": "yes"},
    {"q": "care", "cqc": "good", "availability": "accepting"},
    {"q": "support", "max_price": "0"},
    {"q": "falls", "mode": "at_venue"},
    {"q": "carers", "mode": "online"},
    {"q": "home care", "language": "Urdu"},
    {"q": "hot meals", "locality": "Harpenden"},
    {"q": "respite", "locality": "SG1"},
    {"q": "live in care", "max_price": "1200"},
    {"q": "mobility", "locality": "Broxbourne"},
    {"q": "wheelchair", "access": "accessible-parking"},
    {"q": "telecare", "max_price": "5", "budgets": "yes"},
    {"q": "club", "availability": "accepting", "locality": "Welwyn Garden City"},
    {"q": "dementia care", "cqc": "outstanding", "start_within": "14"},
]
FACETS: list[dict[str, Any]] = [
    {"category": "help-at-home"},
    {"category": ["meals", "transport"]},
    {"language": "Polish"},
    {"language": ["Urdu", "Punjabi", "Bengali"]},
    {"cqc": "outstanding"},
    {"cqc": ["good", "outstanding"], "category": "help-at-home"},
    {"mode": "online"},
    {"mode": ["at_home", "online"], "availability": "accepting"},
    {"access": "step-free-access"},
    {"access": ["hearing-loop", "changing-places-toilet"]},
    {"availability": ["accepting", "waiting_list"]},
    {"budgets": "yes", "category": "respite-and-short-breaks"},
    {"q": "home care", "category": "personal-care", "cqc": "good"},
    {"q": "dementia", "category": ["dementia-cafes", "day-centres"]},
    {"q": "meals", "mode": "at_home", "language": "Polish"},
    {"q": "carer", "availability": "accepting", "budgets": "yes", "mode": "at_home"},
    {"q": "exercise", "access": "step-free-access", "locality": "Hemel Hempstead"},
    {"locality": ["Stevenage", "Hitchin", "Letchworth"]},
    {"category": "equipment-and-adaptations", "locality": "Three Rivers"},
    {"q": "support", "category": ["carer-support", "housing-support"], "budgets": "yes"},
]
BROWSE: list[dict[str, str]] = [
    {},
    {"sort": "confirmed"},
    {"sort": "price"},
    {"page": "2"},
    {"page": "5"},
    {"page": "25"},
    {"locality": "Hitchin"},
    {"locality": "Watford", "sort": "price"},
    {"category": "transport"},
    {"category": "meals", "sort": "price"},
    {"max_price": "10"},
    {"max_price": "0"},
    {"availability": "accepting", "start_within": "7"},
    {"budgets": "yes", "page": "3"},
    {"sort": "price", "page": "10"},
    {"category": "housing-support"},
    {"locality": "SG5"},
    {"category": "health-and-wellbeing", "locality": "St Albans"},
    {"per_page": "50"},
    {"cqc": "requires_improvement", "sort": "confirmed"},
]
DISTANCE: list[dict[str, str]] = [
    {"q": "day centre near Hitchin"},
    {"q": "lunch club near Stevenage"},
    {"q": "dementia cafe near Watford"},
    {"q": "exercise class near St Albans"},
    {"q": "home care", "near": "SG5", "sort": "distance"},
    {"q": "befriending close to Harpenden"},
    {"q": "day centre", "near": "AL1", "sort": "distance"},
    {"near": "Hertford", "sort": "distance"},
    {"q": "memory cafe near Hemel Hempstead"},
    {"q": "toenail clinic near Letchworth"},
    {"q": "respite near Bishop's Stortford"},
    {"q": "tai chi near Welwyn Garden City"},
    {"q": "sheltered housing near Ware"},
    {"q": "carers group", "near": "WD17", "sort": "distance"},
    {"q": "lunch club", "near": "SG1", "sort": "distance"},
    {"category": "day-opportunities", "near": "Royston", "sort": "distance"},
    {"q": "day centre near Cheshunt", "availability": "accepting"},
    {"q": "seated yoga near Berkhamsted"},
    {"q": "men's shed near Tring"},
    {"q": "advice near Borehamwood"},
]

KINDS = ("words", "phrases", "filters", "facets", "browse", "distance")
QUERIES: list[tuple[str, dict[str, Any]]] = [
    *(("words", {"q": words}) for words in WORDS),
    *(("phrases", {"q": words}) for words in PHRASES),
    *(("filters", params) for params in FILTERS),
    *(("facets", params) for params in FACETS),
    *(("browse", params) for params in BROWSE),
    *(("distance", params) for params in DISTANCE),
]
assert len(QUERIES) == 200, len(QUERIES)

BASELINE_RULE = (
    "plain engines get only the words typed (the `q` parameter) through their own query "
    "parser: filters, facets, sorts, pages and `near` are dropped (none of them has the "
    "data to apply them); a query without words asks for every document; first 20 by score"
)


def baseline_words(params: dict[str, Any]) -> str:
    """What a plain engine is asked for `params`: the words typed, and nothing else."""
    words = params.get("q", "")
    return " ".join(words.split()) if isinstance(words, str) else ""


def http_words() -> list[str]:
    """The word queries the API is asked (`/api/v1/services?search=`): words and phrases, in
    turn while both last (so a bounded run asks some of each), then the rest of the words."""
    mixed = [words for pair in zip(WORDS, PHRASES, strict=False) for words in pair]
    return mixed + WORDS[len(PHRASES) :]
