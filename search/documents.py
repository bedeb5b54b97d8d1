"""What the app hands the index for each listing: a plain dataclass, no database rows."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


class Availability(enum.StrEnum):
    """Whether a service can take someone new now."""

    ACCEPTING = "accepting"
    WAITING_LIST = "waiting_list"
    FULL = "full"


DELIVERY_MODES = ("at_home", "at_venue", "online")
CQC_RATINGS = ("outstanding", "good", "requires_improvement", "inadequate", "not_yet_rated")
# What a price is for. Prices are compared only within one of these (£3.20 a session is not
# cheaper than £4.55 a visit); the order breaks ties when the most common unit is chosen.
PRICE_UNITS = (
    "per_hour",
    "per_visit",
    "per_session",
    "per_day",
    "per_night",
    "per_week",
    "per_item",
    "free",
)


@dataclass(frozen=True)
class ListingDocument:
    """One published listing as search sees it.

    `category_codes` are the listing's own taxonomy terms (parents are added by the engine from
    its CategoryTree) and `category_names` their names, in the same order. `locality_codes` are
    the areas served (and the venue's town); `latitude`/`longitude` are the venue's, when it
    has one. Money is integer pence. `conditions` and `for_carers` say who it is for, from its
    eligibility: searched with the description, never shown.
    """

    id: str
    name: str
    description: str = ""
    provider_name: str = ""
    category_codes: tuple[str, ...] = ()
    category_names: tuple[str, ...] = ()
    locality_codes: tuple[str, ...] = ()
    delivery_modes: tuple[str, ...] = ()
    price_pence: int = 0
    price_unit: str = "per_hour"
    availability: Availability = Availability.ACCEPTING
    earliest_start: date | None = None
    accepts_personal_budgets: bool = True
    languages: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    cqc_rating: str | None = None
    last_confirmed: date | None = None
    latitude: float | None = None
    longitude: float | None = None
    conditions: tuple[str, ...] = ()
    for_carers: bool = False

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a listing document needs an id")
        if isinstance(self.price_pence, bool) or not isinstance(self.price_pence, int):
            raise ValueError(f"listing {self.id}: price_pence must be whole pence")
        if self.price_pence < 0:
            raise ValueError(f"listing {self.id}: price_pence must not be negative")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError(f"listing {self.id}: give both coordinates or neither")
        unknown = set(self.delivery_modes) - set(DELIVERY_MODES)
        if unknown:
            raise ValueError(f"listing {self.id}: unknown delivery modes {sorted(unknown)}")
        if self.price_unit not in PRICE_UNITS:
            raise ValueError(f"listing {self.id}: unknown price unit {self.price_unit!r}")
        if self.cqc_rating is not None and self.cqc_rating not in CQC_RATINGS:
            raise ValueError(f"listing {self.id}: unknown CQC rating {self.cqc_rating!r}")
        # Raises ValueError for an unknown status.
        object.__setattr__(self, "availability", Availability(self.availability))

    @property
    def has_venue(self) -> bool:
        return self.latitude is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings), the inverse of `from_dict`."""
        # Not dataclasses.asdict: its deep copy of every value cost more than the JSON itself.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, value in data.items():
            if isinstance(value, tuple):
                data[name] = list(value)
        for key in ("earliest_start", "last_confirmed"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        data["availability"] = self.availability.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ListingDocument:
        """A document from `to_dict`'s shape (lists may stand for tuples).

        Raises ValueError or KeyError for a malformed dict.
        """
        values = dict(data)
        for key in (
            "category_codes",
            "category_names",
            "locality_codes",
            "delivery_modes",
            "languages",
            "accessibility",
            "conditions",
        ):
            values[key] = tuple(values.get(key) or ())
        for key in ("earliest_start", "last_confirmed"):
            if isinstance(values.get(key), str):
                values[key] = date.fromisoformat(values[key])
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ListingDocument:
        return cls.from_dict(json.loads(text))
