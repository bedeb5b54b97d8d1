"""A listing document turned into what every engine indexes: analysed text fields and a payload.

Each text field is a space-separated string of tokens (stems and concept tokens) that the
engines split on spaces and nothing else, so the analysis is ours and identical on both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from search.analysis import tokenize
from search.catalogue import catalogue_row
from search.categories import CategoryTree
from search.documents import ListingDocument
from search.vocabulary import Vocabulary

# Field boosts: a word in the name says most about a listing, then its categories, then its
# description, and least the provider's name ("Care" in "Bright Care Ltd" says little).
FIELD_BOOSTS: dict[str, float] = {
    "name": 3.0,
    "categories": 2.0,
    "description": 1.0,
    "provider": 0.5,
}
TEXT_FIELDS = tuple(FIELD_BOOSTS)
SPELL_FIELD = "spell"


@dataclass(frozen=True)
class PreparedDocument:
    """What the engines store and index for one listing."""

    id: str
    fields: dict[str, str]
    spell: str
    payload: str
    row: str


def category_text(document: ListingDocument, categories: CategoryTree) -> tuple[str, list[str]]:
    """The names of a listing's categories and their parents, and all their codes."""
    names = dict(zip(document.category_codes, document.category_names, strict=False))
    codes: list[str] = []
    for code in document.category_codes:
        for ancestor in categories.lineage(code):
            if ancestor not in codes:
                codes.append(ancestor)
    text = " . ".join(names.get(code) or categories.names.get(code, "") for code in codes)
    return text, codes


def who_it_is_for(document: ListingDocument) -> str:
    """A listing's eligibility in words, searched with its description: a query that names a
    condition finds the services whose eligibility names it, even when the description does
    not (and the vocabulary tells a service for the person from one for their carers)."""
    conditions = ", ".join(c for c in document.conditions if c.strip())
    if document.for_carers:
        return (
            f"For unpaid carers of people with {conditions}."
            if conditions
            else "For unpaid carers."
        )
    return f"For people living with {conditions}." if conditions else ""


def prepare(
    document: ListingDocument, vocabulary: Vocabulary, categories: CategoryTree
) -> PreparedDocument:
    """Analyse a listing once, for whichever engine indexes it."""
    category_names, category_codes = category_text(document, categories)
    texts = {
        "name": document.name,
        "categories": category_names,
        "description": document.description,
        "provider": document.provider_name,
    }
    fields = {
        "name": " ".join(vocabulary.index_tokens(texts["name"])),
        # A category that is also a concept carries it even when its name says it differently.
        "categories": " ".join(vocabulary.index_tokens(category_names, category_codes)),
        "description": " ".join(
            vocabulary.index_tokens(f"{texts['description']} {who_it_is_for(document)}")
        ),
        "provider": " ".join(vocabulary.index_tokens(texts["provider"])),
    }
    words = dict.fromkeys(
        token.word for text in texts.values() for token in tokenize(text) if token.word.isalpha()
    )
    return PreparedDocument(
        id=document.id,
        fields=fields,
        spell=" ".join(words),
        payload=document.to_json(),
        row=json.dumps(catalogue_row(document, categories.parents), separators=(",", ":")),
    )
