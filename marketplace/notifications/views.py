"""The signed-in user's inbox, whatever their role: newest first, unread marked."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.extensions import db
from marketplace.forms import ButtonForm
from marketplace.links import notification_link
from marketplace.notifications import bp, service


@bp.route("")
@requires("use_account")
def inbox() -> str:
    user = current_user._get_current_object()
    notifications = service.inbox(db.session, user)
    return render_template(
        "notifications/inbox.html",
        notifications=notifications,
        links={each.id: notification_link(each, user.role) for each in notifications},
        unread=sum(1 for notification in notifications if notification.read_at is None),
    )


@bp.route("/read", methods=["POST"])
@requires("use_account")
def mark_all_read() -> BaseResponse:
    if not ButtonForm().validate_on_submit():
        abort(400)
    if service.mark_all_read(db.session, current_user._get_current_object()):
        flash("All your notifications are marked as read", "success")
    return redirect(url_for("notifications.inbox"))
