"""The front door's pages (JOURNEY, issue 20): the self-assessment's question pages, check your
answers, save and come back later, sending it, and the page that follows (the indication and the
help offered at once).
"""

from __future__ import annotations

from marketplace.front_door import bp  # noqa: F401
