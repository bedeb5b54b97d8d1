"""Fixtures for the search library: the county's gazetteer and taxonomy, a fixed corpus of
listings, and engines of both kinds.

`corpus_engine` is built once per test module and engine (both engines run every test that
uses it); tests that write use `engine`, a fresh empty index per test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search import (
    CategoryTree,
    Gazetteer,
    ListingDocument,
    SearchEngine,
    open_engine,
)

HERE = Path(__file__).parent
REPOSITORY = HERE.parent.parent
ENGINES = ["whoosh", "tantivy"]


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    with (REPOSITORY / "providers" / "data" / "hertfordshire.json").open(encoding="utf-8") as f:
        return Gazetteer.from_county(json.load(f))


@pytest.fixture(scope="session")
def categories() -> CategoryTree:
    with (REPOSITORY / "providers" / "data" / "taxonomy.json").open(encoding="utf-8") as f:
        return CategoryTree.from_terms(json.load(f)["terms"])


@pytest.fixture(scope="session")
def corpus() -> list[ListingDocument]:
    with (HERE / "corpus.json").open(encoding="utf-8") as f:
        return [ListingDocument.from_dict(d) for d in json.load(f)["documents"]]


@pytest.fixture(scope="module", params=ENGINES)
def corpus_engine(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    gazetteer: Gazetteer,
    categories: CategoryTree,
    corpus: list[ListingDocument],
) -> Iterator[SearchEngine]:
    """The corpus indexed once per module by each engine; tests must not write to it."""
    engine = open_engine(
        request.param,
        tmp_path_factory.mktemp(f"corpus-{request.param}"),
        gazetteer=gazetteer,
        categories=categories,
    )
    engine.rebuild(corpus)
    yield engine
    engine.close()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_engine(
    engine_name: str, tmp_path: Path, gazetteer: Gazetteer, categories: CategoryTree
) -> Iterator[Callable[..., SearchEngine]]:
    """Engines of the parametrised kind on `tmp_path/index` (or another path), closed after."""
    opened: list[SearchEngine] = []

    def build(path: Path | None = None, **options: object) -> SearchEngine:
        engine = open_engine(
            engine_name,
            path or tmp_path / "index",
            gazetteer=gazetteer,
            categories=categories,
            **options,  # type: ignore[arg-type]
        )
        opened.append(engine)
        return engine

    yield build
    for engine in opened:
        engine.close()


@pytest.fixture
def engine(make_engine: Callable[..., SearchEngine]) -> SearchEngine:
    """A fresh, empty index of the parametrised kind."""
    built = make_engine()
    built.rebuild([])
    return built
