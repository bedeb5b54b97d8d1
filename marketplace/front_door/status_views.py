"""The front door's pages (REFERRALS, issue 20): the referral's status, for the person or whoever
filled it in.
"""

from __future__ import annotations

from marketplace.front_door import bp  # noqa: F401
