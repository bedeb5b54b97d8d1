"""The council's front door pages (RAS, issue 20): the resource allocation system's versions, and
making the next one.
"""

from __future__ import annotations

from marketplace.council import bp  # noqa: F401
