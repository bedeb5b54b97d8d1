"""Snippets: the part of a description that best shows why a listing matched, words marked.

Done here rather than by the engines so that both mark the same words, including words that
matched through the vocabulary ("washing" marked for a search for "personal care").
"""

from __future__ import annotations

import html

from search.analysis import Token
from search.vocabulary import ConceptSpan, Vocabulary

SNIPPET_WORDS = 30


def marked_tokens(
    tokens: list[Token],
    spans: list[ConceptSpan],
    vocabulary: Vocabulary,
    stems: frozenset[str],
    concepts: frozenset[str],
) -> set[int]:
    """Positions of the tokens that match the query's stems or (through a term) its concepts."""
    marked = {i for i, token in enumerate(tokens) if token.stem in stems}
    if concepts:
        for span in spans:
            meant = {a for cid in span.concepts for a in vocabulary.ancestors(cid)}
            if meant & concepts:
                marked.update(range(span.start, span.end))
    return marked


def snippet(
    text: str,
    vocabulary: Vocabulary,
    stems: frozenset[str],
    concepts: frozenset[str],
    words: int = SNIPPET_WORDS,
) -> str:
    """HTML: about `words` words of `text` around the most matches, escaped, with <mark>s.

    Without a match, the opening words. Ellipses show where text was cut.
    """
    tokens, spans = vocabulary.read(text)
    if not tokens:
        return html.escape(text[:300])
    marked = marked_tokens(tokens, spans, vocabulary, stems, concepts)
    start = _best_window(len(tokens), marked, words)
    end = min(len(tokens), start + words)
    begin_char = 0 if start == 0 else tokens[start].start
    end_char = len(text) if end == len(tokens) else tokens[end - 1].end
    parts = ["\u2026 " if begin_char > 0 else ""]
    position = begin_char
    for index in range(start, end):
        if index not in marked:
            continue
        token = tokens[index]
        parts.append(html.escape(text[position : token.start]))
        parts.append(f"<mark>{html.escape(text[token.start : token.end])}</mark>")
        position = token.end
    parts.append(html.escape(text[position:end_char]))
    if end_char < len(text):
        parts.append(" \u2026")
    return "".join(parts).strip()


def highlight(
    text: str, vocabulary: Vocabulary, stems: frozenset[str], concepts: frozenset[str]
) -> str:
    """HTML: all of a short text (a name), escaped, with matching words in <mark>."""
    return snippet(text, vocabulary, stems, concepts, words=10_000)


def _best_window(count: int, marked: set[int], words: int) -> int:
    if count <= words or not marked:
        return 0
    ordered = sorted(marked)
    best_start, best_hits = 0, -1
    for first in ordered:
        # Start a little before the first marked word so it reads in context.
        start = max(0, min(first - 3, count - words))
        hits = sum(1 for m in ordered if start <= m < start + words)
        if hits > best_hits:
            best_start, best_hits = start, hits
    return best_start
