"""The feed's query parameters, read strictly: anything malformed is a 400, never a guess.

Each reader takes the request's query arguments (any mapping of names to strings; a repeated
parameter counts by its first value) and returns a typed value or raises BadParameter, whose
message says what was wrong and what would be right. Unknown parameters are ignored, as
ORUK consumers send parameters that not every feed supports.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from marketplace.postcodes import OUTWARD_CODE, POSTCODE
from providers.openreferral.identifiers import parse_uuid
from providers.validation import postcode_problem

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
# `minimal` asks for every service in one call; ids and dates are small, so allow many.
MINIMAL_PER_PAGE = 5000
MAX_SEARCH_LENGTH = 200
# Farther than anywhere in England from anywhere else in it: a larger radius is a mistake.
MAX_PROXIMITY_METRES = 1_000_000

_WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")
_METRES = re.compile(r"[1-9][0-9]{0,6}(?:\.[0-9]{1,6})?", re.ASCII)
# For the OpenAPI document: what `place` accepts (it also takes them in lower case).
POSTCODE_PATTERN = POSTCODE.pattern
OUTWARD_CODE_PATTERN = OUTWARD_CODE.pattern
# 1 to MAX_PROXIMITY_METRES, with up to 6 decimals, as `_metres` accepts.
PROXIMITY_PATTERN = r"^(?:[1-9][0-9]{0,5}(?:\.[0-9]{1,6})?|1000000(?:\.0{1,6})?)$"
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}

Args = Mapping[str, str]
OutputFormat = Literal["json", "ndjson"]


class BadParameter(ValueError):
    """A query parameter the feed cannot use; `parameter` names it, the message says why."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Paging:
    """Which page (from 1) of how many items."""

    page: int
    per_page: int

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class ServiceFilters:
    """What narrows a list of services (or of services at locations)."""

    search: str | None = None
    taxonomy_term_id: uuid.UUID | None = None
    taxonomy_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    modified_after: datetime | None = None


@dataclass(frozen=True)
class Place:
    """Where a person is: a postcode's outward code (its district), and a radius if given."""

    postcode: str
    outward_code: str
    proximity_metres: Decimal | None = None


@dataclass(frozen=True)
class TermFilters:
    """What narrows the list of taxonomy terms."""

    search: str | None = None
    taxonomy_id: uuid.UUID | None = None
    top_only: bool = False
    parent_id: uuid.UUID | None = None


def _whole_number(args: Args, name: str, default: int, largest: int) -> int:
    text = args.get(name)
    if text is None or text == "":
        return default
    if not _WHOLE_NUMBER.match(text.strip()):
        raise BadParameter(name, f"{name} must be a whole number from 1 to {largest}, not {text!r}")
    number = int(text)
    if not 1 <= number <= largest:
        raise BadParameter(name, f"{name} must be a whole number from 1 to {largest}, not {text!r}")
    return number


def paging(args: Args, *, minimal: bool = False) -> Paging:
    """`page` (from 1) and `per_page` (1 to 5000): a page holds up to 200 items (50 by
    default), or up to 5000 (and that by default) if minimal; asking for more than a page
    holds gives a full page, as `size` in the answer says."""
    largest = MINIMAL_PER_PAGE if minimal else MAX_PER_PAGE
    default = MINIMAL_PER_PAGE if minimal else DEFAULT_PER_PAGE
    # One range for every kind of list, so that whether a per_page is valid does not depend
    # on another parameter (the OpenAPI document can then say exactly what is valid).
    return Paging(
        page=_whole_number(args, "page", 1, 10**9 - 1),
        per_page=min(_whole_number(args, "per_page", default, MINIMAL_PER_PAGE), largest),
    )


def flag(args: Args, name: str) -> bool:
    """A true/false parameter (also 1/0, yes/no); absent or empty is false."""
    text = (args.get(name) or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE or text == "":
        return False
    raise BadParameter(name, f"{name} must be true or false, not {args.get(name)!r}")


def identifier(args: Args, name: str) -> uuid.UUID | None:
    """A parameter naming a record by its UUID, or None if absent."""
    text = args.get(name)
    if text is None or text.strip() == "":
        return None
    found = parse_uuid(text)
    if found is None:
        raise BadParameter(name, f"{name} must be a UUID, like {uuid.UUID(int=1)}, not {text!r}")
    return found


def search(args: Args) -> str | None:
    """The `search` text, trimmed; None when there is none."""
    text = (args.get("search") or "").strip()
    if len(text) > MAX_SEARCH_LENGTH:
        raise BadParameter("search", f"search must be {MAX_SEARCH_LENGTH} characters or fewer")
    return text or None


def modified_after(args: Args) -> datetime | None:
    """`modified_after` as an aware UTC datetime: ISO 8601, a date alone meaning its midnight.

    A time without an offset is taken as UTC.
    """
    text = (args.get("modified_after") or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(
            "modified_after",
            f"modified_after must be an ISO 8601 date and time, like 2026-04-01T09:00:00Z, "
            f"not {text!r}",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def output_format(args: Args) -> OutputFormat:
    """`format`: json (paged, the default) or ndjson (every result, one per line)."""
    text = (args.get("format") or "json").strip().lower()
    if text == "json":
        return "json"
    if text == "ndjson":
        return "ndjson"
    raise BadParameter("format", f"format must be json or ndjson, not {args.get('format')!r}")


def service_filters(args: Args) -> ServiceFilters:
    """The filters `/services` and `/service_at_locations` share."""
    return ServiceFilters(
        search=search(args),
        taxonomy_term_id=identifier(args, "taxonomy_term_id"),
        taxonomy_id=identifier(args, "taxonomy_id"),
        organization_id=identifier(args, "organization_id"),
        modified_after=modified_after(args),
    )


def detail(args: Args, *, allow_minimal: bool = False) -> Literal["minimal", "list", "full"]:
    """How much of each item a list gives: `full`, `minimal` (services only) or the default.
    Asking for both gives `full`, which holds everything `minimal` does."""
    full = flag(args, "full")
    minimal = flag(args, "minimal") if allow_minimal else False
    return "full" if full else "minimal" if minimal else "list"


def place(args: Args) -> Place | None:
    """`postcode` (a full postcode or its outward code, like SG1) and `proximity` in metres."""
    text = (args.get("postcode") or "").strip().upper()
    radius = (args.get("proximity") or "").strip()
    if not text:
        # A radius with nothing to measure it from narrows nothing (ORUK: "if proximity is
        # provided" with a postcode): checked, then ignored.
        _metres(radius)
        return None
    compact = text.replace(" ", "")
    if OUTWARD_CODE.match(compact):
        outward = compact
    elif postcode_problem(text) is None:
        outward = compact[:-3]
    else:
        raise BadParameter(
            "postcode", f"postcode must be a UK postcode, like SG1 2FQ, not {text!r}"
        )
    return Place(postcode=text, outward_code=outward, proximity_metres=_metres(radius))


def _metres(text: str) -> Decimal | None:
    if not text:
        return None
    # Matched before Decimal reads it, as money is (marketplace.money): "1e999999999" is no
    # distance anyone means, and Decimal arithmetic on such numbers can overflow or stall.
    metres = Decimal(text) if _METRES.fullmatch(text) else Decimal("NaN")
    if not metres.is_finite() or not 1 <= metres <= MAX_PROXIMITY_METRES:
        raise BadParameter(
            "proximity",
            f"proximity must be a distance in metres from 1 to {MAX_PROXIMITY_METRES}, "
            f"not {text!r}",
        )
    return metres


def term_filters(args: Args) -> TermFilters:
    """The filters of `/taxonomy_terms`: `top_only` means terms with no parent."""
    return TermFilters(
        search=search(args),
        taxonomy_id=identifier(args, "taxonomy_id"),
        top_only=flag(args, "top_only"),
        parent_id=identifier(args, "parent_id"),
    )
