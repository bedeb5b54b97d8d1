"""Recording a decision taken on a work-queue item (issue 19): the one row every queue writes,
so the console can say who decided what, when, why, and how long each item waited."""

from __future__ import annotations

import uuid
from datetime import datetime

from marketplace.console.models import QueueDecision
from marketplace.types import Session, utcnow


def record_decision(
    session: Session,
    *,
    queue: str,
    subject_id: uuid.UUID,
    subject_label: str,
    decision: str,
    reason: str,
    waiting_since: datetime,
    decided_by_id: uuid.UUID,
    told: str = "",
    at: datetime | None = None,
) -> QueueDecision:
    """Add the decision's row (flushes; the request commits it with the decision itself, so
    one is never recorded without the other)."""
    row = QueueDecision(
        queue=queue,
        subject_id=subject_id,
        subject_label=subject_label[:200],
        decision=decision,
        reason=reason,
        waiting_since=waiting_since,
        decided_by_id=decided_by_id,
        decided_at=at or utcnow(),
        told=told[:200],
    )
    session.add(row)
    session.flush()
    return row
