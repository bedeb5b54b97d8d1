"""Search speed: index build, query latency and facet counting, Whoosh beside tantivy.

    .venv/bin/python bench/search_bench.py                    # 5,000 and 50,000 listings
    .venv/bin/python bench/search_bench.py --sizes 2000       # a quick look

For each size a directory of listings is generated deterministically (the same on every run
and machine) from the demo data's phrase banks (marketplace/demo/data/offers.json), the county
gazetteer and the taxonomy. Each engine indexes it from scratch (`rebuild`), then answers a
fixed mix of queries through `engine.search` exactly as the search page would: plain words,
synonym phrases, misspellings, place phrases, filters, browse, price and distance sorts, deep
pages, all with facets, snippets and a page of 20. "first" is each query's first run in the
generation (its words' postings read from the index), "repeat" is three more rounds.

Facets: for the word and browse queries, the facet counts from the per-generation cache
(bitset intersections) are timed beside Whoosh's own grouping (`groupedby=FieldFacet(...)`,
counts only) on a Whoosh index of the same analysed documents plus facet fields, asked the
same query; both count the same matches (the bench checks one facet agrees).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from whoosh import fields, index, sorting
from whoosh import query as wq

from search import CategoryTree, Gazetteer, ListingDocument, SearchEngine, open_engine
from search.analysis import slug
from search.engine import BaseEngine
from search.facets import count_facets, select
from search.indexing import prepare
from search.planning import plan_words
from search.query import parse_params
from search.vocabulary import Vocabulary
from search.whoosh_engine import whoosh_query, whoosh_schema

REPOSITORY = Path(__file__).resolve().parent.parent
TODAY = date(2025, 6, 2)
SEED = 20250602
ROUNDS = 3

LANGUAGES = ["Polish", "Urdu", "Punjabi", "Gujarati", "Bengali", "Romanian", "Greek", "Turkish"]
VENUE_ACCESS = [
    "Step-free access",
    "Accessible toilet",
    "Hearing loop",
    "Accessible parking",
    "Large print information",
    "Changing Places toilet",
]
HOME_ACCESS = ["Large print information", "Easy read information", "Interpreters can be arranged"]
FIRST = ["Bluebell", "Oak", "Willow", "Kingfisher", "Meadow", "Beacon", "Lantern", "Evergreen"]
SECOND = ["Care", "Homecare", "Support", "Companions", "Community Trust", "Helping Hands"]
CQC = ["outstanding", "good", "good", "good", "requires_improvement", "not_yet_rated"]

QUERIES: list[dict[str, Any]] = [
    {"q": "home care"},
    {"q": "someone to help my dad get dressed"},
    {"q": "dementia"},
    {"q": "demensia"},
    {"q": "meals on wheels"},
    {"q": "meels on wheels"},
    {"q": "respite"},
    {"q": "short break for my wife"},
    {"q": "stairlift"},
    {"q": "lift to hospital"},
    {"q": "day centre near Hitchin"},
    {"q": "home care SG1"},
    {"q": "personal assistant"},
    {"q": "befriending"},
    {"q": "lonely"},
    {"q": "podiatry"},
    {"q": "falls"},
    {"q": "sheltered housing"},
    {"q": "support for carers"},
    {"q": "cleaning and shopping"},
    {"q": "night care"},
    {"q": "live in carer"},
    {"q": "memory loss"},
    {"q": "exercise class"},
    {"q": "personal alarm"},
    {"q": "hoist"},
    {"q": "transport St Albans"},
    {"q": "dementia cafe Watford"},
    {"q": "advice about benefits"},
    {"q": "hot meals delivered"},
    {},
    {"category": "help-at-home"},
    {"locality": "stevenage-town"},
    {"mode": "online"},
    {"q": "home care", "max_price": "25"},
    {"q": "day centre", "availability": "accepting"},
    {"q": "personal care", "start_within": "14"},
    {"q": "respite", "budgets": "yes"},
    {"language": "Polish"},
    {"q": "day centre", "access": "step-free-access"},
    {"cqc": "outstanding"},
    {"q": "day centre", "sort": "price"},
    {"q": "lunch club", "near": "SG5", "sort": "distance"},
    {"sort": "confirmed"},
    {"q": "care", "page": "3"},
    {"q": "carer", "page": "10"},
]


def _read(relative: str) -> Any:
    return json.loads((REPOSITORY / relative).read_text(encoding="utf-8"))


def directory(size: int, seed: int = SEED) -> Iterator[ListingDocument]:
    """`size` listings, the same for the same seed: kinds, words and prices from the demo data."""
    rng = random.Random(seed)
    offers = _read("marketplace/demo/data/offers.json")
    kinds = list(offers["kinds"].values())
    common = offers["common"]
    county = _read("providers/data/hertfordshire.json")
    names = {
        term["code"]: term["name"] for term in _read("providers/data/taxonomy.json")["terms"]
    } | {
        kind["code"]: kind["name"]
        for term in _read("providers/data/taxonomy.json")["terms"]
        for kind in term["kinds"]
    }
    for number in range(size):
        kind = rng.choice(kinds)
        variant = rng.choice(kind["variants"])
        district = rng.choice(county["districts"])
        town = rng.choice(district["towns"])
        provider = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {town['name']}"
        modes = list(kind["modes"])
        free = rng.random() < kind.get("free_chance", 0) or variant["price"] == [0, 0]
        low, high = variant["price"]
        extra = [rng.choice(LANGUAGES)] if rng.random() < 0.2 else []

        sentences = [rng.choice(kind["openings"])]
        sentences += rng.sample(kind["details"], min(2, len(kind["details"])))
        sentences.append(rng.choice(common["care_training" if kind["regulated"] else "starting"]))
        if extra:
            sentences.append(rng.choice(common["languages"]))
        venue = kind.get("venue") and "at_home" not in modes
        if venue:
            localities = [town["code"]]
        elif rng.random() < 0.5:
            localities = [district["code"]]
        else:
            towns = district["towns"]
            localities = [t["code"] for t in rng.sample(towns, rng.randint(1, len(towns)))]
        availability = rng.choices(["accepting", "waiting_list", "full"], [7, 2, 1])[0]
        yield ListingDocument(
            id=f"bench-{number}",
            name=variant["name"] + (f" in {town['name']}" if rng.random() < 0.3 else ""),
            description=" ".join(sentences)
            .replace("{org}", provider)
            .replace("{town}", town["name"])
            .replace("{area}", district["name"])
            .replace("{languages}", " and ".join(extra) or "Polish"),
            provider_name=provider,
            category_codes=tuple(kind["terms"]),
            category_names=tuple(names[code] for code in kind["terms"]),
            locality_codes=tuple(localities),
            delivery_modes=tuple(modes),
            price_pence=0 if free else rng.randrange(low, high + 1, 5) if high > low else low,
            price_unit="free" if free else variant["unit"],
            availability=availability,
            earliest_start=TODAY + timedelta(days=rng.randint(1, 90))
            if availability == "waiting_list"
            else None,
            accepts_personal_budgets=rng.random() < 0.9,
            languages=("English", *extra),
            accessibility=tuple(
                rng.sample(VENUE_ACCESS, rng.randint(2, 4))
                if venue
                else rng.sample(HOME_ACCESS, rng.randint(0, 2))
            ),
            cqc_rating=rng.choice(CQC) if kind["regulated"] else None,
            last_confirmed=TODAY - timedelta(days=rng.randint(0, 240)),
            latitude=town["latitude"] + rng.uniform(-0.01, 0.01) if venue else None,
            longitude=town["longitude"] + rng.uniform(-0.01, 0.01) if venue else None,
        )


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure_engine(
    name: str, documents: list[ListingDocument], work: Path, context: dict[str, Any]
) -> SearchEngine:
    engine = open_engine(name, work / name, **context)
    build = _timed(lambda: engine.rebuild(documents))
    assert isinstance(engine, BaseEngine)
    size_mb = _folder_bytes(engine.home.current()) / 1e6
    print(
        f"  {name:8} build {build:7.1f} s  ({len(documents) / build:7.0f} listings/s)"
        f"  index {size_mb:6.1f} MB"
    )
    searches = [parse_params(params, today=TODAY) for params in QUERIES]
    opening = _timed(lambda: engine.search(searches[-1]))
    first = [_timed(lambda s=s: engine.search(s)) for s in searches]
    repeat = [_timed(lambda s=s: engine.search(s)) for _ in range(ROUNDS) for s in searches]
    print(
        f"  {name:8} first search of a generation (catalogue built): {_ms(opening)} ms\n"
        f"  {name:8} first  p50 {_ms(statistics.median(first))} ms"
        f"  p95 {_ms(_percentile(first, 0.95))} ms  max {_ms(max(first))} ms\n"
        f"  {name:8} repeat p50 {_ms(statistics.median(repeat))} ms"
        f"  p95 {_ms(_percentile(repeat, 0.95))} ms  max {_ms(max(repeat))} ms"
    )
    return engine


FACET_FIELDS = {
    "category": lambda d, tree: [c for code in d.category_codes for c in tree.lineage(code)],
    "locality": lambda d, tree: list(d.locality_codes),
    "mode": lambda d, tree: list(d.delivery_modes),
    "availability": lambda d, tree: [d.availability.value],
    "language": lambda d, tree: [slug(v) for v in d.languages],
    "access": lambda d, tree: [slug(v) for v in d.accessibility],
    "cqc": lambda d, tree: [d.cqc_rating] if d.cqc_rating else [],
    "budgets": lambda d, tree: ["yes" if d.accepts_personal_budgets else "no"],
}


def grouping_index(documents: list[ListingDocument], work: Path, context: dict[str, Any]) -> Any:
    """Our Whoosh schema plus a keyword field per facet, for Whoosh's own grouping."""
    schema = whoosh_schema()
    for facet in FACET_FIELDS:
        schema.add(f"facet_{facet}", fields.KEYWORD(commas=True))
    folder = work / "whoosh-grouping"
    folder.mkdir()
    ix = index.create_in(str(folder), schema)
    vocabulary: Vocabulary = context["vocabulary"]
    tree: CategoryTree = context["categories"]
    writer = ix.writer(limitmb=256)
    for document in documents:
        prepared = prepare(document, vocabulary, tree)
        writer.add_document(
            id=prepared.id,
            payload=prepared.payload,
            spell=prepared.spell,
            **prepared.fields,
            **{
                f"facet_{facet}": ",".join(values(document, tree))
                for facet, values in FACET_FIELDS.items()
            },
        )
    writer.commit(optimize=True)
    return ix


def compare_facets(
    engine: SearchEngine, documents: list[ListingDocument], work: Path, context: dict[str, Any]
) -> None:
    assert isinstance(engine, BaseEngine)
    started = time.perf_counter()
    ix = grouping_index(documents, work, context)
    print(f"  whoosh index with facet fields for grouping: {time.perf_counter() - started:.1f} s")
    facets = {
        facet: sorting.FieldFacet(f"facet_{facet}", allow_overlap=True) for facet in FACET_FIELDS
    }
    view = engine.current_view()
    cached_total = grouped_total = 0.0
    print("  query                                  matches   cache ms  grouping ms   ratio")
    with ix.searcher() as searcher:
        for params in [p for p in QUERIES if set(p) <= {"q"}]:
            search = parse_params(params, today=TODAY)
            plan = plan_words(
                search.words, engine.vocabulary, engine.gazetteer, lambda: view.lexicon(set)
            )
            matches = view.match(plan.groups, True) if plan.groups else view.catalogue.live
            selection = select(view.catalogue, search.filters, (), TODAY)
            query = whoosh_query(plan.groups, True) if plan.groups else wq.Every()

            def cached(m: int = matches, s: Any = selection) -> Any:
                return count_facets(view.catalogue, m, s, lambda f, v, label: label)

            def grouped(q: wq.Query = query) -> Any:
                return searcher.search(q, limit=10, groupedby=facets, maptype=sorting.Count)

            cache_s = min(_timed(cached) for _ in range(ROUNDS))
            plain_s = min(
                _timed(lambda q=query: searcher.search(q, limit=10)) for _ in range(ROUNDS)
            )
            grouped_s = min(_timed(grouped) for _ in range(ROUNDS)) - plain_s
            mode_counts = {c.value: c.count for c in cached()["mode"]}
            assert grouped().groups("mode") == mode_counts, "cache and grouping disagree"
            cached_total += cache_s
            grouped_total += grouped_s
            print(
                f"  {(search.words or '(browse)')[:38]:38} {matches.bit_count():8}"
                f" {_ms(cache_s)}   {_ms(grouped_s)}  {grouped_s / cache_s:6.0f}x"
            )
    print(
        f"  all facet counts: cache {_ms(cached_total)} ms, Whoosh grouping"
        f" {_ms(grouped_total)} ms: {grouped_total / cached_total:.0f}x faster from the cache"
    )
    ix.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000])
    parser.add_argument("--engines", nargs="+", default=["whoosh", "tantivy"])
    parser.add_argument("--no-facets", action="store_true", help="skip the grouping comparison")
    options = parser.parse_args()
    county = _read("providers/data/hertfordshire.json")
    context: dict[str, Any] = {
        "gazetteer": Gazetteer.from_county(county),
        "categories": CategoryTree.from_terms(_read("providers/data/taxonomy.json")["terms"]),
        "vocabulary": Vocabulary.load(),
    }
    print(f"{len(QUERIES)} queries; {ROUNDS} repeat rounds; seed {SEED}")
    for size in options.sizes:
        started = time.perf_counter()
        documents = list(directory(size))
        print(f"\n{size:,} listings (generated in {time.perf_counter() - started:.1f} s)")
        with tempfile.TemporaryDirectory(prefix="search-bench-") as temporary:
            work = Path(temporary)
            for name in options.engines:
                engine = measure_engine(name, documents, work, context)
                if name == "whoosh" and not options.no_facets:
                    compare_facets(engine, documents, work, context)
                engine.close()


if __name__ == "__main__":
    main()
