"""Help at once (issue 20 item 3, HELP part): from a self-assessment's answers, the services
that meet its outcomes straight away, before any budget exists.

Prevention comes first: (1) free community services, (2) equipment and adaptations, (3)
reablement explained (the council arranges it, free, for up to 6 weeks), then (4) paid services
that meet the outcomes. A group appears only when the answers call for it (`CALLED_FOR`, the
one table from answers to the care taxonomy's categories).

Only public services (published, of an approved organisation) that serve the person's area
are suggested: the district their postcode is in, and the towns in it whose postcode
districts include theirs (a service naming no areas serves where its organisation does, as
for lead providers). Within a category the area's lead providers come first, then services
taking new clients, then the nearest. When nothing in the area fits a category the nearest
services beyond it are offered, saying so; the page always gives the council's advice line too.

Whatever the directory's size, `help_for` issues a fixed number of statements (the
localities, the area's leads, one ranking statement for every category, the brokerages for a
self-funder): never one per service. It reads only; nothing is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from marketplace.referrals.help_directory import (
    PER_CATEGORY,
    Brokerage,
    brokerages_serving,
    leads_in_force,
    place_of,
    ranked_services,
)
from marketplace.referrals.help_directory import (  # the page on paying for care reads them
    approved_brokerages as approved_brokerages,
)
from marketplace.referrals.questions import CONDITIONS, OUTCOMES
from marketplace.types import Session
from providers.models import PriceUnit
from providers.reference_data import taxonomy_entries

GroupKind = Literal["community", "equipment", "reablement", "paid"]
COMMUNITY: GroupKind = "community"
EQUIPMENT: GroupKind = "equipment"
PAID: GroupKind = "paid"

# The charging rules' capital thresholds in England (savings and property, not the home lived
# in), in pence: the self-assessment's savings bands are drawn at them.
LOWER_CAPITAL_LIMIT_PENCE = 1_425_000
UPPER_CAPITAL_LIMIT_PENCE = 2_325_000
# Savings answers for which the person is shown how to buy care themselves.
SELF_FUNDER_SAVINGS = ("over_upper", "prefer_not")

# How many services are offered in a group: a few, for people on phones.
PER_GROUP = 5
BROKERAGES_SHOWN = 3

NEEDS_HELP = ("some", "lot", "unable")
CARER_STRUGGLING = ("struggling", "no")
URGENT = ("leaving_hospital", "urgent")
# Outcomes reablement helps people regain (short-term help at home after a crisis).
REABLEMENT_OUTCOMES = ("nutrition", "hygiene", "toileting", "clothing", "moving_home")

# What in the answers calls for which categories (the taxonomy's codes, providers/data/
# taxonomy.json), and in which group a paid service of the category belongs. A free service
# of any category but equipment is a free community service; equipment is its own group.
# Keys: an outcome's key (asked for when its need is "some" or more), "condition:<value>",
# "carer:<carer_coping value>", and "any" (whenever anything at all is called for).
CALLED_FOR: dict[str, tuple[tuple[str, GroupKind], ...]] = {
    "nutrition": (
        ("lunch-clubs", COMMUNITY),
        ("hot-meal-delivery", PAID),
        ("frozen-meals", PAID),
    ),
    "hygiene": (("bathing-aids", EQUIPMENT), ("personal-care", PAID)),
    "toileting": (("bathing-aids", EQUIPMENT), ("personal-care", PAID)),
    "clothing": (("personal-care", PAID),),
    "moving_home": (
        ("falls-prevention", COMMUNITY),
        ("mobility-aids", EQUIPMENT),
        ("stairlifts", EQUIPMENT),
    ),
    "home_safe": (
        ("telecare-and-alarms", EQUIPMENT),
        ("domestic-help", PAID),
        ("floating-support", PAID),
    ),
    "relationships": (
        ("social-activities-and-befriending", COMMUNITY),
        ("clubs", COMMUNITY),
    ),
    "work_learning": (("information-and-advice", COMMUNITY), ("day-opportunities", PAID)),
    "community": (
        ("social-activities-and-befriending", COMMUNITY),
        ("transport", PAID),
        ("day-centres", PAID),
    ),
    "caring_child": (("information-and-advice", COMMUNITY), ("personal-assistants", PAID)),
    "condition:dementia": (
        ("dementia-cafes", COMMUNITY),
        ("telecare-and-alarms", EQUIPMENT),
        ("day-centres", PAID),
    ),
    "condition:sensory": (("information-and-advice", COMMUNITY),),
    "condition:mental_health": (
        ("social-activities-and-befriending", COMMUNITY),
        ("floating-support", PAID),
    ),
    "condition:learning_disability": (("clubs", COMMUNITY), ("personal-assistants", PAID)),
    "condition:physical": (("exercise", COMMUNITY), ("mobility-aids", EQUIPMENT)),
    "condition:long_term_illness": (("exercise", COMMUNITY),),
    "condition:end_of_life": (
        ("information-and-advice", COMMUNITY),
        ("night-care", PAID),
        ("sitting-services", PAID),
    ),
    "carer:struggling": (("carer-support", COMMUNITY), ("sitting-services", PAID)),
    "carer:no": (
        ("carer-support", COMMUNITY),
        ("sitting-services", PAID),
        ("respite-and-short-breaks", PAID),
    ),
    "any": (("information-and-advice", COMMUNITY),),
}

_OUTCOME_TITLES = {key: title for key, title, _words in OUTCOMES}
_CONDITION_LABELS = dict(CONDITIONS)


@dataclass(frozen=True)
class Suggestion:
    """One service offered: what the page shows and links to (`public.service`)."""

    service_id: uuid.UUID
    name: str
    provider_name: str
    price_pence: int
    price_unit: PriceUnit
    category_name: str
    # What in the answers it meets ("Moving about safely at home").
    meets: str
    in_area: bool
    lead: bool

    @property
    def is_free(self) -> bool:
        return self.price_unit is PriceUnit.FREE


@dataclass(frozen=True)
class HelpGroup:
    """One group of help, in the order the page shows them. `beyond_area`: nothing in the
    person's area fitted, so these are the nearest beyond it."""

    kind: GroupKind
    suggestions: tuple[Suggestion, ...] = ()
    beyond_area: bool = False
    # Reablement only: leaving hospital or urgent, so the page puts it first and plainly.
    prominent: bool = False


@dataclass(frozen=True)
class SelfFunderGuidance:
    """For someone likely to pay for their own care: why, and where to find a broker."""

    savings: str
    brokerages: tuple[Brokerage, ...]


@dataclass(frozen=True)
class HelpNow:
    """Help at once for one set of answers. `groups` are in the page's order and only those
    the answers call for; `area_name` is None when the postcode names no area we know."""

    groups: tuple[HelpGroup, ...]
    area_name: str | None
    self_funder: SelfFunderGuidance | None

    @property
    def reablement_first(self) -> bool:
        """Whether reablement is urgent enough to say before anything else."""
        return any(group.kind == "reablement" and group.prominent for group in self.groups)

    @property
    def found_nothing(self) -> bool:
        """No service offered in any group (the page then leads with the advice line)."""
        return not any(group.suggestions for group in self.groups)

    def group(self, kind: GroupKind) -> HelpGroup | None:
        return next((group for group in self.groups if group.kind == kind), None)


def called_for(answers: dict[str, Any]) -> dict[str, tuple[GroupKind, str]]:
    """Each category code the answers call for, in the order first called, with its group
    and what in the answers calls for it (its outcome's or condition's title)."""
    reasons: list[tuple[str, str]] = [
        (key, _OUTCOME_TITLES[key]) for key in _OUTCOME_TITLES if answers.get(key) in NEEDS_HELP
    ]
    reasons += [
        (f"condition:{value}", _CONDITION_LABELS[value])
        for value in answers.get("conditions") or []
        if value in _CONDITION_LABELS
    ]
    if answers.get("carer_coping") in CARER_STRUGGLING:
        reasons.append((f"carer:{answers['carer_coping']}", "Support for the family carer"))
    if reasons:
        reasons.append(("any", "Finding the right help"))
    found: dict[str, tuple[GroupKind, str]] = {}
    for key, why in reasons:
        for code, kind in CALLED_FOR[key]:
            found.setdefault(code, (kind, why))
    return found


def _group_of(kind: GroupKind, free: bool) -> GroupKind:
    if kind == EQUIPMENT:
        return EQUIPMENT
    return COMMUNITY if free else PAID


def help_for(session: Session, answers: dict[str, Any], *, today: date) -> HelpNow:
    """The help the answers call for, at once: free community services, equipment and
    reablement first, then paid services meeting the outcomes, each a few public services
    serving the person's area (the nearest beyond it where none does), and guidance for a
    likely self-funder (savings over the upper limit, or not said). `today` decides which lead
    providers are in force. Answers may be incomplete (any missing answer calls for nothing).
    Reads only, in a fixed number of statements; raises nothing for odd answers."""
    wanted = called_for(answers)
    place = place_of(session, answers.get("postcode"))
    rows = (
        ranked_services(session, wanted, place, leads_in_force(session, place, today))
        if wanted
        else []
    )
    names = {entry.code: entry.name for entry in taxonomy_entries()}
    # Each group's candidates by category, in the order the answers called for them.
    candidates: dict[GroupKind, dict[str, list[Suggestion]]] = {
        COMMUNITY: {},
        EQUIPMENT: {},
        PAID: {},
    }
    for row in rows:
        kind, why = wanted[row.code]
        group = _group_of(kind, bool(row.free))
        candidates[group].setdefault(row.code, []).append(
            Suggestion(
                service_id=row.service_id,
                name=row.name,
                provider_name=row.provider_name,
                price_pence=row.price_pence,
                price_unit=PriceUnit(row.price_unit),
                category_name=names.get(row.code, row.code),
                meets=why,
                in_area=bool(row.local),
                lead=bool(row.lead),
            )
        )
    called_groups = {kind for kind, _why in wanted.values()}
    groups: list[HelpGroup] = []
    for kind in (COMMUNITY, EQUIPMENT):
        if kind in called_groups or candidates[kind]:
            groups.append(
                _choose(
                    kind, [code for code in wanted if code in candidates[kind]], candidates[kind]
                )
            )
    urgency = answers.get("urgency")
    if urgency in URGENT or any(answers.get(key) in NEEDS_HELP for key in REABLEMENT_OUTCOMES):
        groups.append(HelpGroup("reablement", prominent=urgency in URGENT))
    if PAID in called_groups or candidates[PAID]:
        groups.append(
            _choose(PAID, [code for code in wanted if code in candidates[PAID]], candidates[PAID])
        )
    self_funder = (
        SelfFunderGuidance(
            answers["savings"], brokerages_serving(session, place, at_most=BROKERAGES_SHOWN)
        )
        if answers.get("savings") in SELF_FUNDER_SAVINGS
        else None
    )
    return HelpNow(tuple(groups), place.name, self_funder)


def _choose(kind: GroupKind, codes: list[str], by_code: dict[str, list[Suggestion]]) -> HelpGroup:
    """A few of the group's services: those in the area if any, else the nearest beyond it;
    taking each category's best in turn, so one category does not fill the group."""
    in_area = {code: [s for s in found if s.in_area] for code, found in by_code.items()}
    beyond = not any(in_area.values())
    pools = by_code if beyond else in_area
    chosen: list[Suggestion] = []
    seen: set[uuid.UUID] = set()
    for turn in range(PER_CATEGORY):
        for code in codes:
            pool = pools.get(code, [])
            if turn < len(pool) and pool[turn].service_id not in seen and len(chosen) < PER_GROUP:
                chosen.append(pool[turn])
                seen.add(pool[turn].service_id)
    return HelpGroup(kind, tuple(chosen), beyond_area=beyond and bool(chosen))
