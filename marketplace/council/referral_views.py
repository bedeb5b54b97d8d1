"""The council's front door pages (REFERRALS, issue 20): the referrals queue and a referral's page:
first contact, resolving it there and then, closing it, turning it into a person's record, a
draft support plan and a budget.
"""

from __future__ import annotations

from marketplace.council import bp  # noqa: F401
