"""The front door's figures on /council/figures (issue 20, item 6): the page shows each with
its definition, its table and a link to its CSV, and each CSV holds the rows the page's table
shows; the console's front door figures show values; only council officers see them."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import time_machine
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.referrals.figure_charts import CHART_KEYS
from tests.conftest import sign_in
from tests.referrals.test_figures import World, assessor, front_door_world, version

__all__ = ["assessor", "front_door_world", "version"]

JUNE = "since=2026-06-01&until=2026-06-30"
TODAY = datetime(2026, 7, 15, 12, tzinfo=UTC)


def _table(page: str, chart_id: str) -> list[list[str]]:
    """The rows of a chart's table on the page (header row first), as text."""
    found = re.search(
        rf'<table class="govuk-table" id="{chart_id}-table">(.*?)</table>', page, re.S
    )
    assert found, f"no table {chart_id}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        for cells in (re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows)
    ]


@time_machine.travel(TODAY, tick=False)
def test_the_page_shows_the_front_door_figures_and_each_csv_holds_its_table(
    client: FlaskClient, officer: User, front_door_world: World
) -> None:
    # Signed in on the day travelled to (a session from later would have expired).
    sign_in(client, officer)
    officer_client = client
    response = officer_client.get(f"/council/figures?{JUNE}")
    page = response.get_data(as_text=True)
    text = html.unescape(page)

    assert response.status_code == 200, text
    assert "Not recorded yet" not in text
    # The console's three front door figures, from the referrals.
    assert "<strong>1 of 5 (20%)</strong>" in text
    assert "<strong>8 days (the middle value)</strong>" in text
    assert "<strong>1 of 1 (100%)</strong>" in text
    # The new ones.
    assert "<strong>11</strong> started: 6 sent, 4 abandoned" in text
    assert (
        "First contact within 2 days: <strong>3 of 5 (60%)</strong>; the middle wait 0 days" in text
    )
    assert "Decision within 2 days: <strong>1 of 5 (20%)</strong>; the middle wait 8 days" in text
    assert "from 8 days to 2" in text
    assert "Moved: <strong>3 of 12 (25%)</strong>" in text
    assert "Wasted: <strong>2 of 12 (17%)</strong>" in text
    assert "the middle budget was £10 a week above the top of the range" in text
    assert "<strong>2 of 7 (29%)</strong> on time" in text
    assert _table(page, "figure-abandoned-at")[1:] == [
        ["Who is filling this in", "1 (25%)"],
        ["Managing and maintaining nutrition", "2 (50%)"],
        ["Check your answers", "1 (25%)"],
    ]
    assert _table(page, "figure-reviews")[1:] == [
        ["On time", "2 (29%)"],
        ["Late", "3 (43%)"],
        ["Not yet", "2 (29%)"],
    ]
    for key in CHART_KEYS:
        chart_id = "figure-" + key.replace("_", "-")
        download = officer_client.get(f"/council/figures.csv?table={key}&{JUNE}")
        assert download.status_code == 200, key
        assert f"table={key}" in text
        rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
        assert rows == _table(page, chart_id), key


@time_machine.travel(TODAY, tick=False)
def test_an_empty_period_says_so(
    client: FlaskClient, officer: User, front_door_world: World
) -> None:
    sign_in(client, officer)
    officer_client = client
    response = officer_client.get("/council/figures?since=2025-01-01&until=2025-01-31")
    text = html.unescape(response.get_data(as_text=True))

    assert response.status_code == 200
    assert "No self-assessment was started in this period." in text
    assert "No referral was received in this period." in text
    assert "No visit was booked for a day in this period." in text
    assert "No referral was turned into a budget in this period." in text
    assert "No support plan's review fell due in this period." in text
    download = officer_client.get(
        "/council/figures.csv?table=visits&since=2025-01-01&until=2025-01-31"
    )
    assert download.get_data(as_text=True).splitlines() == [
        "What became of them,Assessment visits,Review visits"
    ]


@time_machine.travel(TODAY, tick=False)
def test_an_unknown_table_is_refused(client: FlaskClient, officer: User) -> None:
    sign_in(client, officer)
    assert client.get(f"/council/figures.csv?table=nothing&{JUNE}").status_code == 400


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("role", [Role.CITIZEN, Role.PROVIDER_STAFF, Role.BROKER])
@pytest.mark.parametrize("path", ["/council/figures", "/council/figures.csv?table=visits"])
def test_only_officers_see_the_figures(
    client: FlaskClient, make_user: Callable[..., User], role: Role, path: str
) -> None:
    sign_in(client, make_user(role))
    assert client.get(f"{path}{'&' if '?' in path else '?'}{JUNE}").status_code == 403


@time_machine.travel(TODAY, tick=False)
def test_someone_not_signed_in_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get(f"/council/figures.csv?table=visits&{JUNE}")
    assert response.status_code == 302
    assert "sign-in" in response.headers["Location"] or "login" in response.headers["Location"]
