"""The kinds of user, each with its own part of the site."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    CITIZEN = "citizen"
    PROVIDER_STAFF = "provider_staff"
    BROKER = "broker"
    COUNCIL_OFFICER = "council_officer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CITIZEN: "Citizen",
    Role.PROVIDER_STAFF: "Provider staff",
    Role.BROKER: "Broker",
    Role.COUNCIL_OFFICER: "Council officer",
    Role.ADMIN: "Administrator",
}
