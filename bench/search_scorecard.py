"""The relevance scorecard: nDCG@5 and "found something useful in the first five" per engine.

    .venv/bin/python bench/search_scorecard.py             # the table
    .venv/bin/python bench/search_scorecard.py --misses    # and each engine's misses

Runs the graded cases of tests/search/relevance_cases.json (see tests/search/scorecard.py) on
the search tests' listings (corpus.json and relevance_listings.json) with our Whoosh and our
tantivy, as the search page asks, and with the plain engines of bench/search_baselines.py on
the same listings. The plain engines are given the words only: they know no places, filters
or vocabulary (the few cases with filters in their parameters get none there).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from search_baselines import PlainTantivy, PlainWhoosh, SqliteFts5  # noqa: E402

from search import CategoryTree, Gazetteer, open_engine, parse_params  # noqa: E402
from tests.search.helpers import TODAY  # noqa: E402
from tests.search.scorecard import Score, load_cases, load_listings, score  # noqa: E402

Search = Callable[[dict[str, Any]], list[str]]


def _ours(name: str, folder: Path) -> tuple[Search, Callable[[], None]]:
    data = REPOSITORY / "providers" / "data"
    engine = open_engine(
        name,
        folder,
        gazetteer=Gazetteer.from_county(
            json.loads((data / "hertfordshire.json").read_text(encoding="utf-8"))
        ),
        categories=CategoryTree.from_terms(
            json.loads((data / "taxonomy.json").read_text(encoding="utf-8"))["terms"]
        ),
    )
    engine.rebuild(load_listings())

    def search(case: dict[str, Any]) -> list[str]:
        params = {"q": case["query"], "per_page": "20", **case.get("params", {})}
        return [hit.document.id for hit in engine.search(parse_params(params, today=TODAY)).hits]

    return search, engine.close


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list each engine's misses")
    args = parser.parse_args()
    cases = load_cases()
    cards: dict[str, Score] = {}
    with tempfile.TemporaryDirectory() as home:
        for name in ("whoosh", "tantivy"):
            search, close = _ours(name, Path(home) / name)
            cards[f"our {name}"] = score(cases, search)
            close()
        for baseline in (PlainWhoosh(), PlainTantivy(), SqliteFts5()):
            baseline.build(load_listings(), Path(home) / baseline.name.replace(" ", "-"))
            cards[baseline.name] = score(cases, lambda case, b=baseline: b.search(case["query"]))
            baseline.close()
    print(f"{len(cases)} graded cases, {len(load_listings())} listings")
    print(f"{'engine':<16}{'nDCG@5':>8}{'found@5':>9}{'misses':>8}")
    for name, card in cards.items():
        print(f"{name:<16}{card.ndcg:>8.3f}{card.found:>9.3f}{len(card.misses):>8}")
    if args.misses:
        for name, card in cards.items():
            print(f"\n{name} misses:")
            for query in card.misses:
                print(f"  {query}")


if __name__ == "__main__":
    main()
