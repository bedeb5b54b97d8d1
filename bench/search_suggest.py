"""Suggestions as you type: their speed at 100,000 listings, beside baselines from the same run.

    .venv/bin/python bench/search_suggest.py                       # 100,000 listings, tantivy
    .venv/bin/python bench/search_suggest.py --size 10000 --engine both

For each engine: `--size` listings generated as bench/search_bench.py does
(bench/search_corpus.py), indexed from scratch into a temporary folder, and an app from
`create_app` on that folder (its own SQLite file, never read by a suggestion). The keystrokes
are every prefix, from two characters, of the bench's word and phrase queries, as a person
typing them would send. Timed per keystroke, in rounds of 100 taken in turn:

- `suggest`: `Suggester.suggest` in-process (the generation's counts already read);
- `endpoint`: `GET /search/suggestions` through the app's test client (routing, the
  generation check, JSON), what the page's script waits for apart from the network;
- `dict lookup`: the same answers from a dict filled beforehand (the floor: no work at all);
- `search`: `engine.search` for the same text as the search page asks it (every tenth
  keystroke), the call a search-as-you-type without suggestions would make.

Then the one-off costs: building the suggestion index (once per process), reading a
generation's listing counts (once per generation, at the first suggestion after a change), and
the first suggestion after a change in full, which also opens the new generation, as the first
search after a change does. Printed as p50/p95/max in ms. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_bench import _settings, percentile
from search_corpus import QUERIES, TODAY, directory

ROUND = 100
TARGET_MS = 50.0


def keystrokes() -> list[str]:
    """Every prefix, from two characters, of the bench's typed queries, in typing order."""
    typed: list[str] = []
    for kind, params in QUERIES:
        words = params.get("q")
        if kind in ("words", "phrases") and words:
            typed += [words[:n] for n in range(2, len(words) + 1)]
    return typed


def _ms(values: Sequence[float]) -> str:
    return (
        f"{percentile(values, 0.5) * 1000:8.3f} {percentile(values, 0.95) * 1000:8.3f} "
        f"{max(values) * 1000:8.2f}"
    )


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(engine_name: str, size: int, work: Path) -> None:
    from marketplace import create_app
    from providers.reference_data import gazetteer_data, taxonomy_data
    from providers.search_suggestions import suggester, suggestion_index
    from search import CategoryTree, Gazetteer, open_engine, parse_params
    from search.engine import BaseEngine
    from search.suggest import SuggestionIndex, listing_counts

    documents = list(directory(size))
    settings = _settings(work, engine_name)
    engine = open_engine(
        engine_name,
        Path(settings["SEARCH_INDEX_PATH"]),
        gazetteer=Gazetteer.from_county(gazetteer_data()),
        categories=CategoryTree.from_terms(taxonomy_data()["terms"]),
    )
    started = time.perf_counter()
    engine.rebuild(documents)
    print(f"\n{engine_name}, {size:,} listings: indexed in {time.perf_counter() - started:.1f} s")
    engine.close()

    app = create_app(settings)
    client = app.test_client()
    with app.app_context():
        ours = suggester(app)  # opens the index and reads the generation's counts
        index = suggestion_index(app)
        live = app.extensions["search"]["engine"]
        assert isinstance(live, BaseEngine)
    typed = keystrokes()
    answers = {text: ours.suggest(text) for text in typed}
    found = sum(1 for text in typed if answers[text])
    times: dict[str, list[float]] = {"suggest": [], "endpoint": [], "dict lookup": [], "search": []}
    for start in range(0, len(typed), ROUND):
        chunk = typed[start : start + ROUND]
        for text in chunk:
            times["dict lookup"].append(_timed(lambda t=text: answers[t]))
        for text in chunk:
            times["suggest"].append(_timed(lambda t=text: ours.suggest(t)))
        for text in chunk:
            response = None

            def ask(t: str = text) -> None:
                nonlocal response
                response = client.get("/search/suggestions", query_string={"q": t})

            times["endpoint"].append(_timed(ask))
            assert response is not None
            assert response.status_code == 200
        for text in chunk[::10]:
            query = parse_params({"q": text}.items(), today=TODAY)
            times["search"].append(_timed(lambda q=query: live.search(q)))

    print(
        f"{len(typed):,} keystrokes ({found:,} with suggestions); "
        f"ms per call          p50      p95      max"
    )
    for name in ("suggest", "endpoint", "dict lookup", "search"):
        print(f"  {name:<36} {_ms(times[name])}   ({len(times[name]):,} calls)")

    vocabulary, categories, gazetteer = live.vocabulary, live.categories, live.gazetteer
    build = [_timed(lambda: SuggestionIndex.build(vocabulary, categories, gazetteer))]
    counts: list[float] = []
    first: list[float] = []
    for n in range(5):
        # A change, as a provider's save is: a new generation the next request meets.
        changed = replace(documents[n], description=documents[n].description + f" Change {n}.")
        live.index_documents([changed])
        view = live.current_view()
        counts.append(_timed(lambda v=view: listing_counts(v, index.count_keys())))
        live.index_documents([documents[n]])
        first.append(_timed(lambda: client.get("/search/suggestions", query_string={"q": "day"})))
    print("one-off costs, ms                        p50      p95      max")
    print(f"  {'suggestion index, once per process':<36} {_ms(build)}")
    print(f"  {'listing counts, once per generation':<36} {_ms(counts)}")
    print(f"  {'first suggestion after a change':<36} {_ms(first)}   (opens the generation)")
    p95 = percentile(times["endpoint"], 0.95) * 1000
    verdict = "met" if p95 < TARGET_MS else "NOT met"
    print(f"target: endpoint p95 well under {TARGET_MS:.0f} ms: {p95:.2f} ms, {verdict}")
    engine.close()
    live.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--engine", choices=["whoosh", "tantivy", "both"], default="tantivy")
    options = parser.parse_args()
    logging.disable(logging.WARNING)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    engines = ["tantivy", "whoosh"] if options.engine == "both" else [options.engine]
    for name in engines:
        with tempfile.TemporaryDirectory(prefix="suggest-bench-") as folder:
            measure(name, options.size, Path(folder))


if __name__ == "__main__":
    main()
