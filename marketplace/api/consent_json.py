"""Consents as the integration API answers them: who may act for whom, in what, from when to
when, on what authority, and whether it is live now."""

from __future__ import annotations

from typing import Any

from marketplace.people.consents import state_of
from marketplace.people.models import Consent

Json = dict[str, Any]


def consent(found: Consent) -> Json:
    grantee: Json
    if found.brokerage_id is not None:
        grantee = {"kind": "brokerage", "id": str(found.brokerage_id), "name": found.grantee_name}
    else:
        grantee = {"kind": "account", "id": str(found.grantee_user_id), "name": found.grantee_name}
    return {
        "id": str(found.id),
        "person_id": str(found.person_id),
        "person_name": found.person.full_name,
        "grantee": grantee,
        "scopes": sorted(found.scopes),
        "authority": found.authority.value,
        "given_by_name": found.given_by_name,
        "document_reference": found.document_reference,
        "starts_at": found.starts_at.isoformat(),
        "ends_at": found.ends_at.isoformat(),
        "revoked_at": found.revoked_at.isoformat() if found.revoked_at else None,
        "revoked_by_name": found.revoked_by_name,
        "state": state_of(found).value,
    }
