"""Administrators' pages: accounts and the development mail outbox."""

from __future__ import annotations

from flask import abort, current_app, render_template, request

from marketplace import mail
from marketplace.accounts.access import requires
from marketplace.admin import bp
from marketplace.admin.service import users_page


@bp.route("/users")
@requires("administer")
def users() -> str:
    page = request.args.get("page", 1, type=int)
    # A page deeper than any list is the first: a 20-digit page overflowed the OFFSET (a 500).
    return render_template(
        "admin/users.html", users=users_page(page if 1 <= page <= 999_999 else 1)
    )


@bp.route("/outbox")
@requires("read_mail_outbox")
def outbox() -> str:
    return render_template(
        "admin/outbox.html",
        messages=mail.outbox_messages(current_app.config["MAIL_OUTBOX_PATH"]),
        smtp=bool(current_app.config["MAIL_SERVER"]),
    )


@bp.route("/outbox/<message_id>")
@requires("read_mail_outbox")
def outbox_message(message_id: str) -> str:
    message = mail.outbox_message(current_app.config["MAIL_OUTBOX_PATH"], message_id)
    if message is None:
        abort(404)
    return render_template("admin/outbox_message.html", message=message)
