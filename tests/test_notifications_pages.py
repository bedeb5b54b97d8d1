"""The notifications inbox: each signed-in user sees their own, newest first, and can mark
them all as read; the navigation counts the unread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import inbox, notify, unread_count
from marketplace.types import utcnow
from tests.conftest import links_in_outbox, sign_in


def test_the_inbox_shows_only_the_users_own_newest_first(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    staff = make_user(Role.PROVIDER_STAFF)
    other = make_user(Role.CITIZEN)
    (older,) = notify(db.session, [staff], NotificationKind.ORDER_PLACED, title="New order ORD-1")
    older.created_at = utcnow() - timedelta(hours=1)
    notify(db.session, [staff], NotificationKind.ORDER_PLACED, title="New order ORD-2")
    notify(db.session, [other], NotificationKind.ORDER_ACCEPTED, title="Order ORD-9 was accepted")
    db.session.commit()
    sign_in(client, staff)

    page = client.get("/notifications").get_data(as_text=True)

    assert "Notifications (2)" in page
    assert page.index("New order ORD-2") < page.index("New order ORD-1")
    assert page.count(">Unread</strong>") == 2
    assert "ORD-9" not in page


def test_mark_all_as_read_only_touches_the_users_own(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.COUNCIL_OFFICER)
    other = make_user(Role.COUNCIL_OFFICER)
    notify(db.session, [officer, other], NotificationKind.ORDER_NEEDS_APPROVAL, title="Decide")
    db.session.commit()
    sign_in(client, officer)

    response = client.post("/notifications/read")

    assert response.status_code == 302
    db.session.expire_all()
    assert unread_count(db.session, officer) == 0
    assert unread_count(db.session, other) == 1
    page = client.get("/notifications").get_data(as_text=True)
    assert "Notifications (0)" in page
    assert ">Unread</strong>" not in page
    assert "Mark all as read" not in page
    assert len(inbox(db.session, officer)) == 1


def test_an_empty_inbox_says_so(client: FlaskClient, make_user: Callable[..., User]) -> None:
    sign_in(client, make_user(Role.BROKER))

    response = client.get("/notifications")

    assert response.status_code == 200
    assert "You have no notifications" in response.get_data(as_text=True)


def test_the_inbox_needs_signing_in(client: FlaskClient) -> None:
    response = client.get("/notifications")

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert client.post("/notifications/read").status_code == 302


def test_an_emails_link_uses_the_address_the_user_came_by_or_site_url_in_a_job(
    app: Flask, make_user: Callable[..., User]
) -> None:
    """The rules pass a path; the mail's edge makes the address (issue 15: notifications no
    longer read the request themselves)."""
    user = make_user(Role.CITIZEN)
    with app.test_request_context("/", base_url="https://care.example.gov.uk/"):
        notify(db.session, [user], NotificationKind.ORDER_PLACED, title="Seen", link="/my/orders/1")
    db.session.commit()
    notify(db.session, [user], NotificationKind.ORDER_PLACED, title="Later", link="/my/orders/2")
    notify(db.session, [user], NotificationKind.ORDER_PLACED, title="Plain")
    db.session.commit()
    site = app.config["SITE_URL"].rstrip("/")
    assert sorted(links_in_outbox(app, user.email)) == sorted(
        ["https://care.example.gov.uk/my/orders/1", f"{site}/my/orders/2", site]
    )


def test_a_row_stored_with_its_path_still_links_there(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    # Order notifications written before they named their order stored the page's path.
    user = make_user(Role.CITIZEN)
    notify(db.session, [user], NotificationKind.ORDER_ACCEPTED, title="Old", link="/my/orders/7")
    notify(db.session, [user], NotificationKind.ORDER_PLACED, title="Nowhere")
    db.session.commit()
    sign_in(client, user)

    page = client.get("/notifications").get_data(as_text=True)

    assert 'href="/my/orders/7">Old</a>' in page
    assert "Nowhere</span>" in page


def test_each_order_page_is_a_real_roles_page(app: Flask) -> None:
    """ORDER_PAGES is keyed by the role's value (to avoid an import cycle): a misspelt key
    would leave that kind of user with no link, so each key must be a role and each
    endpoint a route the app has."""
    from marketplace.links import ORDER_PAGES

    assert set(ORDER_PAGES) == {Role.CITIZEN, Role.PROVIDER_STAFF, Role.COUNCIL_OFFICER}
    assert set(ORDER_PAGES.values()) <= set(app.view_functions)
