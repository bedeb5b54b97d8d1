"""The demo county as plain data: its provider organisations, their services and demo users.

Built from the JSON files beside this module, with randomness from a fixed seed (2026), so every
machine gets the same county. Each organisation draws from its own generator, seeded with 2026
and its name, so adding an organisation to the file leaves every other one as it was. Nothing
here touches the database: `marketplace.demo.seed` writes what these functions describe.
"""

from __future__ import annotations

import functools
import json
import random
import re
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from marketplace.accounts.roles import Role
from marketplace.demo.data.wording import Voice, describe, join
from providers.models import (
    DeliveryMode,
    OrganisationKind,
    OrganisationStatus,
    PriceUnit,
    ServiceStatus,
)
from providers.reference_data import GazetteerEntry, county_name, gazetteer_entries

SEED = 2026
# Ofcom keeps 01632 960000 to 960999 for drama, so no demo number rings a real phone.
PHONE_PREFIX = "01632 960"

_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_STREETS = (
    "High Street",
    "Station Road",
    "London Road",
    "Church Street",
    "Victoria Street",
    "Park Road",
    "Queensway",
    "The Parade",
    "Mill Lane",
    "Bridge Street",
    "Market Place",
)
_VENUES = ("The Old School House", "St Mary's Church Hall", "Community Centre", "Memorial Hall")
_ESTATES = ("Riverside Business Centre", "Mill Lane Business Park", "Enterprise House")
_VENUE_ACCESS = (
    "Step-free access",
    "Accessible toilet",
    "Hearing loop",
    "Accessible parking",
    "Large print information",
    "Changing Places toilet",
    "Quiet room",
    "Dementia-friendly signage",
)
_HOME_ACCESS = (
    "Large print information",
    "Easy read information",
    "Information in audio",
    "Interpreters can be arranged",
)
_ONLINE_ACCESS = ("Works with screen readers", "Subtitles on video sessions", "Phone option")


@dataclass(frozen=True)
class ServicePlan:
    """One listing to create: every field of a Service, with codes in place of rows."""

    name: str
    description: str
    price_pence: int
    price_unit: PriceUnit
    status: ServiceStatus
    taxonomy_codes: tuple[str, ...]
    locality_codes: tuple[str, ...]
    delivery_modes: tuple[str, ...]
    languages: tuple[str, ...]
    accessibility: tuple[str, ...]
    eligibility: dict[str, Any]
    accepts_personal_budgets: bool


@dataclass(frozen=True)
class OrganisationPlan:
    """One provider organisation to create, with its services."""

    name: str
    status: OrganisationStatus
    description: str
    email: str
    phone: str
    website: str
    address: str
    postcode: str
    companies_house_number: str | None
    charity_number: str | None
    cqc_provider_id: str | None
    services: tuple[ServicePlan, ...]
    kind: OrganisationKind = OrganisationKind.PROVIDER


@dataclass(frozen=True)
class DemoUser:
    """A demo sign-in; `organisation` names provider staff's organisation, `person` a citizen's."""

    role: Role
    email: str
    full_name: str
    password: str
    organisation: str | None = None
    person: dict[str, Any] | None = None

    @property
    def date_of_birth(self) -> date | None:
        """The citizen's date of birth, if one is given."""
        born = (self.person or {}).get("date_of_birth")
        return date.fromisoformat(born) if born else None


def _read(filename: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    return json.loads(text)


def slug(name: str) -> str:
    """`name` as a lower-case web address part: "Bishop's Stortford" -> "bishops-stortford"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")


def _round_pence(pence: int) -> int:
    """A price a provider would set: whole 5p, 10p, pounds or tens of pounds by size."""
    step = 5 if pence < 1_000 else 10 if pence < 10_000 else 500 if pence < 100_000 else 5_000
    return max(step, round(pence / step) * step)


class _Gazetteer:
    """Names and places by locality code, and how to say an area in words."""

    def __init__(self) -> None:
        self.places: dict[str, GazetteerEntry] = {e.code: e for e in gazetteer_entries()}
        self.districts = tuple(e.code for e in gazetteer_entries() if e.kind == "district")

    def expand(self, areas: list[str]) -> tuple[str, ...]:
        codes = self.districts if areas == ["county"] else tuple(areas)
        unknown = [code for code in codes if code not in self.places]
        if unknown:
            raise ValueError(f"demo organisations name unknown localities {unknown}")
        return codes

    def area_words(self, areas: list[str]) -> str:
        if areas == ["county"]:
            return county_name()
        return join([self.places[code].name for code in areas])


class _Writer:
    """Writes one organisation's listings, drawing from its own seeded generator."""

    def __init__(
        self, org: dict[str, Any], kinds: dict[str, Any], common: dict[str, Any], places: _Gazetteer
    ) -> None:
        self.org, self.kinds, self.common, self.places = org, kinds, common, places
        self.rng = random.Random(f"{SEED}:{org['name']}")
        self.status = OrganisationStatus(org["status"])
        self.home = places.places[org["home"]]
        self.extra_languages = list(org.get("languages", []))
        self.context = {
            "org": org["name"],
            "town": self.home.name,
            "area": places.area_words(org["areas"]),
        }
        self.used_names: set[str] = set()

    def organisation(self, number: int) -> OrganisationPlan:
        rng, name, legal = self.rng, self.org["name"], self.org["legal"]
        web = slug(name)
        offers = [o if isinstance(o, dict) else {"kind": o} for o in self.org["offers"]]
        # Named services first, so generated ones never take their names.
        self.used_names.update(o["name"] for o in offers if "name" in o)
        services = tuple(self.service(offer) for offer in offers)
        regulated = any(self.kinds[o["kind"]]["regulated"] for o in offers)
        return OrganisationPlan(
            name=name,
            status=self.status,
            description=self.org["description"],
            email=f"{rng.choice(['hello', 'info', 'enquiries', 'office'])}@{web}.example.org",
            phone=f"{PHONE_PREFIX}{number:03d}",
            website=f"https://{web}.example.org",
            address=self._address(legal),
            postcode=self._postcode(),
            companies_house_number=(
                f"{rng.randint(3_000_000, 15_999_999):08d}" if legal != "charity" else None
            ),
            charity_number=(
                str(rng.randint(1_010_000, 1_209_999))
                if legal in ("charity", "charitable_company")
                else None
            ),
            cqc_provider_id=self._cqc_provider_id() if regulated else None,
            services=services,
            kind=OrganisationKind(self.org.get("kind", "provider")),
        )

    def _cqc_provider_id(self) -> str:
        """The CQC's form: "1-" and nine or ten digits."""
        digits = self.rng.choice([9, 10])
        return f"1-{self.rng.randint(10 ** (digits - 1), 10**digits - 1)}"

    def _address(self, legal: str) -> str:
        rng, town = self.rng, self.home.name
        if legal == "company" and rng.random() < 0.5:
            return f"Unit {rng.randint(1, 24)}, {rng.choice(_ESTATES)}, {town}"
        if legal != "company" and rng.random() < 0.5:
            return f"{rng.choice(_VENUES)}, {rng.choice(_STREETS)}, {town}"
        return f"{rng.randint(1, 180)} {rng.choice(_STREETS)}, {town}"

    def _postcode(self) -> str:
        rng = self.rng
        letters = "".join(rng.choice(_INWARD_LETTERS) for _ in range(2))
        return f"{rng.choice(self.home.postcode_districts)} {rng.randint(1, 9)}{letters}"

    def service(self, offer: dict[str, Any]) -> ServicePlan:
        rng, kind = self.rng, self.kinds[offer["kind"]]
        variant = self._variant(kind, offer)
        name = offer.get("name") or variant["name"].format(**self.context)
        self.used_names.add(name)
        unit = PriceUnit(variant["unit"])
        price = 0 if unit is PriceUnit.FREE else _round_pence(rng.randint(*variant["price"]))
        if rng.random() < variant.get("free_chance", 0):
            unit, price = PriceUnit.FREE, 0
        modes = list(variant.get("modes") or kind["modes"])
        if len(modes) > 1 and rng.random() < 0.4:
            modes = modes[:1]
        eligibility = offer.get("eligibility", rng.choice(kind["eligibility"]))
        budgets = price > 0 and variant.get("budgets", True) and rng.random() > 0.06
        return ServicePlan(
            name=name,
            description=offer.get("description")
            or describe(self._voice(), kind, eligibility, price=price, budgets=budgets),
            price_pence=price,
            price_unit=unit,
            status=self._service_status(),
            taxonomy_codes=tuple(kind["terms"]),
            locality_codes=self._localities(kind, modes),
            delivery_modes=tuple(modes),
            languages=("English", *self.extra_languages),
            accessibility=self._accessibility(modes),
            eligibility=dict(eligibility),
            accepts_personal_budgets=budgets,
        )

    def _voice(self) -> Voice:
        return Voice(
            rng=self.rng,
            phrases=self.common,
            context=self.context,
            languages=tuple(self.extra_languages),
            volunteers=self.org["legal"] in ("charity", "charitable_company"),
        )

    def _variant(self, kind: dict[str, Any], offer: dict[str, Any]) -> dict[str, Any]:
        variants = kind["variants"]
        if "name" in offer:
            named = [v for v in variants if v["name"] == offer["name"]]
            return named[0] if named else variants[0]
        free = [v for v in variants if v["name"].format(**self.context) not in self.used_names]
        if not free:
            raise ValueError(f"{self.org['name']} offers {offer['kind']} more times than it has")
        return self.rng.choice(free)

    def _service_status(self) -> ServiceStatus:
        draw = self.rng.random()
        if self.status is OrganisationStatus.APPROVED:
            if draw < 0.04:
                return ServiceStatus.DRAFT
            return ServiceStatus.ARCHIVED if draw < 0.065 else ServiceStatus.PUBLISHED
        if self.status is OrganisationStatus.PENDING:
            return ServiceStatus.DRAFT if draw < 0.6 else ServiceStatus.PUBLISHED
        if self.status is OrganisationStatus.SUSPENDED:
            return ServiceStatus.PUBLISHED
        return ServiceStatus.DRAFT

    def _localities(self, kind: dict[str, Any], modes: list[str]) -> tuple[str, ...]:
        if modes == [DeliveryMode.ONLINE]:
            return self.places.districts
        if kind.get("venue") and DeliveryMode.AT_HOME not in modes:
            return (self.home.code,)
        return self.places.expand(self.org["areas"])

    def _accessibility(self, modes: list[str]) -> tuple[str, ...]:
        rng, found = self.rng, []
        if DeliveryMode.AT_VENUE in modes:
            found += rng.sample(_VENUE_ACCESS, rng.randint(2, 4))
        if DeliveryMode.AT_HOME in modes:
            found += rng.sample(_HOME_ACCESS, rng.randint(0, 2))
        if DeliveryMode.ONLINE in modes:
            found += rng.sample(_ONLINE_ACCESS, 1)
        return tuple(dict.fromkeys(found))


@functools.cache
def demo_organisations() -> tuple[OrganisationPlan, ...]:
    """Every demo organisation with its services, the same on every machine and every run.

    Raises ValueError if the data files name an unknown locality or offer a kind too often.
    """
    offers = _read("offers.json")
    places = _Gazetteer()
    return tuple(
        _Writer(org, offers["kinds"], offers["common"], places).organisation(number)
        for number, org in enumerate(_read("organisations.json")["organisations"], start=100)
    )


@functools.cache
def demo_users() -> tuple[DemoUser, ...]:
    """The demo sign-ins, one or more per role, in the order the report lists them."""
    return tuple(
        DemoUser(
            role=Role(user["role"]),
            email=user["email"],
            full_name=user["full_name"],
            password=user["password"],
            organisation=user.get("organisation"),
            person=user.get("person"),
        )
        for user in _read("users.json")["users"]
    )
