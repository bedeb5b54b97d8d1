"""The care taxonomy as search needs it: each category's name and parent, handed in as data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CategoryTree:
    """Category names and parents. A filter on a parent includes its kinds."""

    names: Mapping[str, str] = field(default_factory=dict)
    parents: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_terms(cls, terms: Iterable[Mapping[str, Any]]) -> CategoryTree:
        """From the taxonomy JSON shape: ``[{"code", "name", "kinds": [{"code", "name"}]}]``."""
        names: dict[str, str] = {}
        parents: dict[str, str | None] = {}
        for term in terms:
            names[term["code"]] = term["name"]
            parents[term["code"]] = None
            for kind in term.get("kinds", []):
                names[kind["code"]] = kind["name"]
                parents[kind["code"]] = term["code"]
        return cls(names=names, parents=parents)

    def lineage(self, code: str) -> list[str]:
        """The category and its ancestors, nearest first."""
        found: list[str] = []
        current: str | None = code
        while current and current not in found:
            found.append(current)
            current = self.parents.get(current)
        return found
