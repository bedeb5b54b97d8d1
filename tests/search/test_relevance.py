"""Plain-language searches must find the right services, on both engines.

The cases are data (relevance_cases.json) so that anyone who sees a search disappoint can add
one without touching code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from search import SearchEngine

from .helpers import ask, ids

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "relevance_cases.json").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["query"] or "(browse)" for c in CASES])
def test_finds_the_right_services(corpus_engine: SearchEngine, case: dict[str, Any]) -> None:
    results = ask(corpus_engine, q=case["query"], per_page="50", **case.get("params", {}))
    found = ids(results)
    top = found[: case["in_top"]]
    missing = [listing for listing in case["must_find"] if listing not in top]
    assert not missing, f"{case['why']}: {missing} not in the top {case['in_top']}: {found}"
    unwanted = [listing for listing in case.get("must_not_find", []) if listing in found]
    assert not unwanted, f"{case['why']}: {unwanted} should not be found"
    if "suggestion" in case:
        assert results.suggestion == case["suggestion"]


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25
    assert len({c["query"] + json.dumps(c.get("params", {})) for c in CASES}) == len(CASES)
