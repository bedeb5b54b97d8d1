"""Paging the council's long lists (providers, orders): which page was asked for, and where
it sits among the pages. The lists' queries read only the page asked for; this only counts.

As the search page does: a `?page=` that is not a whole number is the first page, and a page
past the end is answered with no rows and a notice naming how many pages there are (not a 404,
not quietly the last page), so that a link kept from a longer list still says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

# Deeper than any list: a 20-digit page overflowed the database's OFFSET (a 500).
MAX_PAGE_DIGITS = 6


def page_number() -> int:
    """`?page=`, from 1; anything else, or a page deeper than any list, is the first page."""
    text = request.args.get("page", "1").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_PAGE_DIGITS):
        return 1
    return max(int(text), 1)


@dataclass(frozen=True)
class Paged:
    """Page `page` of a list of `total` rows shown `per_page` at a time."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(-(-self.total // self.per_page), 1)

    @property
    def past_end(self) -> bool:
        return self.page > self.pages

    def numbers(self) -> list[int | None]:
        """The page numbers to link to, GOV.UK style: the first, the last, and the current one
        with its neighbours; None where pages are left out (an ellipsis)."""
        shown = sorted(
            {1, self.pages, *range(max(self.page - 1, 1), min(self.page + 1, self.pages) + 1)}
        )
        numbers: list[int | None] = []
        for number in shown:
            if numbers and number - (numbers[-1] or 0) > 1:
                numbers.append(None)
            numbers.append(number)
        return numbers
