"""The access policy: one table of rules, deciding for views, API and templates alike."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask_login import AnonymousUserMixin

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.accounts.policy import RULES, can
from marketplace.accounts.roles import Role
from providers.models import Organisation


def test_anonymous_may_do_nothing() -> None:
    for action in RULES:
        assert can(AnonymousUserMixin(), action) is False
        assert can(None, action) is False


def test_unknown_actions_are_errors_not_silent_refusals(make_user: Callable[..., User]) -> None:
    with pytest.raises(KeyError):
        can(make_user(Role.ADMIN), "launch_rockets")
    with pytest.raises(KeyError):
        requires("launch_rockets")


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_only_its_own_part(make_user: Callable[..., User], role: Role) -> None:
    user = make_user(role)
    # A brokerage may list and sell its own service, so its brokers use the provider portal
    # too; they reach the citizens' pages only while acting for someone (tests/brokers).
    parts = {
        "use_citizen_pages": {Role.CITIZEN},
        "use_provider_portal": {Role.PROVIDER_STAFF, Role.BROKER},
        "use_broker_pages": {Role.BROKER},
        "use_council_pages": {Role.COUNCIL_OFFICER},
        "administer": {Role.ADMIN},
    }
    for action, owners in parts.items():
        assert can(user, action) is (role in owners), action


def test_deactivated_users_may_do_nothing(make_user: Callable[..., User]) -> None:
    user = make_user(Role.ADMIN)
    user.active = False
    assert can(user, "administer") is False


def test_a_citizen_sees_only_their_own_person(make_user: Callable[..., User]) -> None:
    alice, bob = make_user(Role.CITIZEN), make_user(Role.CITIZEN)
    assert can(alice, "view_person", alice.person)
    assert not can(alice, "view_person", bob.person)
    assert can(make_user(Role.COUNCIL_OFFICER), "view_person", bob.person)
    assert not can(make_user(Role.BROKER), "view_person", bob.person)
    assert not can(make_user(Role.ADMIN), "view_person", bob.person)


def test_provider_staff_manage_only_their_own_organisation(
    make_user: Callable[..., User], make_organisation: Callable[..., Organisation]
) -> None:
    ours, theirs = make_organisation("Ours"), make_organisation("Theirs")
    staff = make_user(Role.PROVIDER_STAFF, organisation=ours)
    assert can(staff, "manage_organisation", ours)
    assert not can(staff, "manage_organisation", theirs)
    assert not can(make_user(Role.CITIZEN), "manage_organisation", ours)
