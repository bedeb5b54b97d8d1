"""The query model and its URL form: every search is a set of parameters that can be bookmarked.

Parameters (all optional, repeatable ones marked *):

    q            the words typed
    category*    taxonomy code (a top category includes its kinds)
    locality*    locality code, place name or postcode district
    mode*        at_home, at_venue, online
    max_price    price ceiling in pounds ("25" or "25.50"), in the unit prices are compared in
    unit         the price unit to compare prices in: per_hour, per_visit, per_session, per_day,
                 per_night, per_week, per_item or free. Only listings priced in it are shown.
                 Without it, a price sort or a max_price compares within the unit most of the
                 results are priced in (see search.facets.compare_prices)
    availability*  accepting, waiting_list, full
    start_within   days from today within which the service can start
    budgets      "yes": accepts personal budgets
    language*    language (any spelling of its name)
    access*      accessibility feature (any spelling of its name)
    cqc*         CQC rating: outstanding, good, requires_improvement, inadequate, not_yet_rated
    near         a place or postcode to measure distances from
    sort         relevance, price, distance, confirmed
    page, per_page

Unknown or malformed values are dropped and named in `SearchQuery.problems`, never raised, so a
hand-edited or stale URL still gives results.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation

from search.analysis import slug
from search.documents import CQC_RATINGS, DELIVERY_MODES, PRICE_UNITS, Availability

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50
# No page of a real search is this deep; the cap keeps a crafted URL from asking the engine to
# score and skip millions of hits.
MAX_PAGE = 500
MAX_WORDS_LENGTH = 500
MAX_START_WITHIN_DAYS = 366
_PRICE = re.compile(r"^£?\s*([0-9]{1,6}(?:\.[0-9]{1,2})?)$")

ParamSource = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]


class Sort(enum.StrEnum):
    RELEVANCE = "relevance"
    PRICE = "price"
    DISTANCE = "distance"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Filters:
    """What a listing must be. Values within one filter are alternatives; filters combine."""

    categories: tuple[str, ...] = ()
    localities: tuple[str, ...] = ()
    delivery_modes: tuple[str, ...] = ()
    max_price_pence: int | None = None
    # Prices are compared only within one unit; None lets the search choose the most common.
    price_unit: str | None = None
    availability: tuple[str, ...] = ()
    start_within_days: int | None = None
    accepts_personal_budgets: bool = False
    languages: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    cqc_ratings: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class SearchQuery:
    """One search: the words, the filters, the order and the page.

    `as_of` is the day "can start within N days" counts from (the caller's today, in
    Europe/London). `problems` lists parameters the parser ignored, for the page to show.
    """

    words: str = ""
    filters: Filters = field(default_factory=Filters)
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    near: str | None = None
    as_of: date | None = None
    problems: tuple[str, ...] = ()
    # Listing ids the caller puts first, when they match, in the query's own order among
    # themselves (the council's lead providers for the searcher's area). Not a URL parameter:
    # the caller sets it with `dataclasses.replace`.
    first: frozenset[str] = frozenset()

    def with_page(self, page: int) -> SearchQuery:
        return replace(self, page=page)


def _pairs(params: ParamSource) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        found: list[tuple[str, str]] = []
        for key, value in params.items():
            values = [value] if isinstance(value, str) else list(value)
            found.extend((str(key), str(v)) for v in values)
        return found
    return [(str(key), str(value)) for key, value in params]


def _choices(
    values: list[str], allowed: Sequence[str], name: str, problems: list[str]
) -> tuple[str, ...]:
    kept = []
    for value in values:
        if value in allowed:
            kept.append(value)
        else:
            problems.append(f"{name} {value!r} is not one of: {', '.join(allowed)}")
    return tuple(dict.fromkeys(kept))


def _whole(value: str | None, name: str, low: int, high: int, problems: list[str]) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError:
        problems.append(f"{name} {value!r} is not a whole number")
        return None
    if not low <= number <= high:
        problems.append(f"{name} must be between {low} and {high}")
        return min(max(number, low), high)
    return number


def _pence(value: str | None, problems: list[str]) -> int | None:
    if value is None or not value.strip():
        return None
    match = _PRICE.match(value.strip().replace(",", ""))
    if match is None:
        problems.append(f"max_price {value!r} is not an amount in pounds")
        return None
    try:
        return int(Decimal(match.group(1)) * 100)
    except InvalidOperation:
        problems.append(f"max_price {value!r} is not an amount in pounds")
        return None


def _unit(value: str | None, problems: list[str]) -> str | None:
    if value is None or not value.strip():
        return None
    unit = value.strip().lower().replace(" ", "_")
    if unit not in PRICE_UNITS:
        problems.append(f"unit {value!r} is not one of: {', '.join(PRICE_UNITS)}")
        return None
    return unit


def parse_params(params: ParamSource, *, today: date) -> SearchQuery:
    """The query a URL's parameters describe (a mapping or `request.args.items(multi=True)`).

    Never raises for bad values: they are dropped and described in `problems`.
    """
    values: dict[str, list[str]] = {}
    for key, value in _pairs(params):
        values.setdefault(key, []).append(value)

    def one(key: str) -> str | None:
        found = values.get(key)
        return found[-1] if found else None

    def many(key: str) -> list[str]:
        return [v.strip() for v in values.get(key, []) if v.strip()]

    problems: list[str] = []
    sort_value = (one("sort") or Sort.RELEVANCE.value).strip()
    if sort_value not in Sort.__members__.values():
        problems.append(f"sort {sort_value!r} is not one of: {', '.join(Sort)}")
        sort_value = Sort.RELEVANCE.value
    budgets = (one("budgets") or "").strip().lower()
    filters = Filters(
        categories=tuple(dict.fromkeys(slug(v) for v in many("category") if slug(v))),
        localities=tuple(dict.fromkeys(many("locality"))),
        delivery_modes=_choices(many("mode"), DELIVERY_MODES, "mode", problems),
        max_price_pence=_pence(one("max_price"), problems),
        price_unit=_unit(one("unit"), problems),
        availability=_choices(many("availability"), list(Availability), "availability", problems),
        start_within_days=_whole(
            one("start_within"), "start_within", 0, MAX_START_WITHIN_DAYS, problems
        ),
        accepts_personal_budgets=budgets in ("yes", "true", "1", "on"),
        languages=tuple(dict.fromkeys(slug(v) for v in many("language") if slug(v))),
        accessibility=tuple(dict.fromkeys(slug(v) for v in many("access") if slug(v))),
        cqc_ratings=_choices(many("cqc"), CQC_RATINGS, "cqc", problems),
    )
    words = " ".join((one("q") or "").split())
    if len(words) > MAX_WORDS_LENGTH:
        problems.append(f"only the first {MAX_WORDS_LENGTH} characters of the words were used")
        words = words[:MAX_WORDS_LENGTH]
    return SearchQuery(
        words=words,
        filters=filters,
        sort=Sort(sort_value),
        page=_whole(one("page"), "page", 1, MAX_PAGE, problems) or 1,
        per_page=_whole(one("per_page"), "per_page", 1, MAX_PER_PAGE, problems) or DEFAULT_PER_PAGE,
        near=(one("near") or "").strip()[:100] or None,
        as_of=today,
        problems=tuple(problems),
    )


def to_params(query: SearchQuery) -> list[tuple[str, str]]:
    """The URL parameters for `query` (for `urlencode`); `parse_params` reads them back.

    Defaults are left out, so the URL of a plain search stays short.
    """
    f = query.filters
    pairs: list[tuple[str, str]] = []
    if query.words:
        pairs.append(("q", query.words))
    pairs += [("category", v) for v in f.categories]
    pairs += [("locality", v) for v in f.localities]
    pairs += [("mode", v) for v in f.delivery_modes]
    if f.max_price_pence is not None:
        pounds, pence = divmod(f.max_price_pence, 100)
        pairs.append(("max_price", f"{pounds}.{pence:02d}" if pence else str(pounds)))
    if f.price_unit is not None:
        pairs.append(("unit", f.price_unit))
    pairs += [("availability", v) for v in f.availability]
    if f.start_within_days is not None:
        pairs.append(("start_within", str(f.start_within_days)))
    if f.accepts_personal_budgets:
        pairs.append(("budgets", "yes"))
    pairs += [("language", v) for v in f.languages]
    pairs += [("access", v) for v in f.accessibility]
    pairs += [("cqc", v) for v in f.cqc_ratings]
    if query.near:
        pairs.append(("near", query.near))
    if query.sort is not Sort.RELEVANCE:
        pairs.append(("sort", query.sort.value))
    if query.page != 1:
        pairs.append(("page", str(query.page)))
    if query.per_page != DEFAULT_PER_PAGE:
        pairs.append(("per_page", str(query.per_page)))
    return pairs
