"""The council's CQC page: listings whose CQC claim the CQC's directory does not bear out."""

from __future__ import annotations

from flask import render_template

from marketplace.accounts.access import requires
from marketplace.council import bp
from marketplace.cqc import checks


@bp.route("/cqc")
@requires("review_providers")
def cqc_flags() -> str:
    return render_template(
        "council/cqc.html",
        flags=checks.listing_flags(),
        state=checks.directory_state(),
    )
