"""The life of a hoax case: its statuses and their groups, the moves allowed between them,
the decisions a moderator takes, and the one function that refuses a move not allowed."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pledge.errors import Conflict
from pledge.i18n import gettext as _


class CaseStatus(StrEnum):
    NEW = "new"
    NEEDS_INFO = "needs_info"
    AWAITING_APPROVAL = "awaiting_approval"
    PUBLISHED = "published"
    NOT_HOAX = "not_hoax"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"

    # Named groups, set below once the members exist.
    OPEN: ClassVar[frozenset[CaseStatus]]  # waiting for a moderator
    IN_QUEUE: ClassVar[frozenset[CaseStatus]]  # what the queue shows unless asked otherwise
    CLOSED: ClassVar[frozenset[CaseStatus]]  # decided: reporters' contacts are dropped

    @property
    def label(self) -> str:
        return {
            CaseStatus.NEW: _("New"),
            CaseStatus.NEEDS_INFO: _("Needs more information"),
            CaseStatus.AWAITING_APPROVAL: _("Waiting for approval"),
            CaseStatus.PUBLISHED: _("Published"),
            CaseStatus.NOT_HOAX: _("Not a hoax"),
            CaseStatus.REJECTED: _("Rejected"),
            CaseStatus.DUPLICATE: _("Duplicate"),
        }[self]

    @property
    def is_open(self) -> bool:
        return self in CaseStatus.OPEN


CaseStatus.OPEN = frozenset({CaseStatus.NEW, CaseStatus.NEEDS_INFO})
CaseStatus.IN_QUEUE = CaseStatus.OPEN | {CaseStatus.AWAITING_APPROVAL}
CaseStatus.CLOSED = frozenset(
    {CaseStatus.PUBLISHED, CaseStatus.NOT_HOAX, CaseStatus.REJECTED, CaseStatus.DUPLICATE}
)

# Which status may follow which; transition() refuses every other move.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset(
        {
            CaseStatus.AWAITING_APPROVAL,
            CaseStatus.NOT_HOAX,
            CaseStatus.NEEDS_INFO,
            CaseStatus.REJECTED,
            CaseStatus.DUPLICATE,
        }
    ),
    CaseStatus.NEEDS_INFO: frozenset(
        {
            CaseStatus.AWAITING_APPROVAL,
            CaseStatus.NOT_HOAX,
            CaseStatus.NEW,
            CaseStatus.REJECTED,
            CaseStatus.DUPLICATE,
        }
    ),
    # Approved by a second moderator, or sent back for another look.
    CaseStatus.AWAITING_APPROVAL: frozenset({CaseStatus.PUBLISHED, CaseStatus.NEW}),
    CaseStatus.PUBLISHED: frozenset(),
    CaseStatus.NOT_HOAX: frozenset({CaseStatus.NEW}),
    CaseStatus.REJECTED: frozenset({CaseStatus.NEW}),
    CaseStatus.DUPLICATE: frozenset(),
}


def is_final(status: CaseStatus) -> bool:
    """Nothing can follow: a published verdict, or a case merged into another."""
    return not TRANSITIONS[status]


def refused_message(current: CaseStatus, wanted: CaseStatus) -> str:
    if current == CaseStatus.PUBLISHED:
        return _("This verdict is published: it can no longer change.")
    if current == CaseStatus.DUPLICATE:
        return _("This case was merged into another one: decide on that case instead.")
    if current == CaseStatus.AWAITING_APPROVAL:
        return _(
            "A verdict on this case is waiting for approval: a second moderator approves it "
            "or sends it back first."
        )
    if wanted == CaseStatus.PUBLISHED:
        return _("Only a proposed verdict can be published, after a second moderator approves it.")
    return _("A case in this status cannot take that decision.")


def transition(current: CaseStatus, wanted: CaseStatus) -> CaseStatus:
    """The status a case moves to; Conflict for every move that TRANSITIONS does not list."""
    if wanted not in TRANSITIONS[current]:
        raise Conflict(refused_message(current, wanted))
    return wanted


# --- decisions -----------------------------------------------------------------------


class Decision(StrEnum):
    """What a moderator holding a case can decide, and the status each leads to."""

    HOAX = "hoax"  # a verdict with a public label and explanation, for a second moderator
    NOT_HOAX = "not_hoax"
    NEEDS_INFO = "needs_info"
    REJECTED = "rejected"  # spam or out of scope
    DUPLICATE = "duplicate"  # merged into another case of the same campaign
    REOPEN = "reopen"  # back to the queue: information arrived, or a closed call was wrong

    @property
    def label(self) -> str:
        return {
            Decision.HOAX: _("Hoax: propose a verdict"),
            Decision.NOT_HOAX: _("Not a hoax"),
            Decision.NEEDS_INFO: _("Needs more information"),
            Decision.REJECTED: _("Reject: spam or out of scope"),
            Decision.DUPLICATE: _("Duplicate of another case"),
            Decision.REOPEN: _("Reopen: back to the queue"),
        }[self]


DECISION_TARGETS: dict[Decision, CaseStatus] = {
    Decision.HOAX: CaseStatus.AWAITING_APPROVAL,
    Decision.NOT_HOAX: CaseStatus.NOT_HOAX,
    Decision.NEEDS_INFO: CaseStatus.NEEDS_INFO,
    Decision.REJECTED: CaseStatus.REJECTED,
    Decision.DUPLICATE: CaseStatus.DUPLICATE,
    Decision.REOPEN: CaseStatus.NEW,
}


def decisions_for(status: CaseStatus) -> list[Decision]:
    """The decisions open to a case in this status. A proposed verdict is approved or sent
    back with their own forms, so "reopen" is not offered while one waits."""
    allowed = TRANSITIONS[status]
    return [
        decision
        for decision, target in DECISION_TARGETS.items()
        if target in allowed
        and not (decision == Decision.REOPEN and status == CaseStatus.AWAITING_APPROVAL)
    ]


def decision_target(status: CaseStatus, decision: Decision) -> CaseStatus:
    """The status a decision moves a case to; Conflict when it is not open to the case."""
    wanted = DECISION_TARGETS[decision]
    if decision not in decisions_for(status):
        raise Conflict(refused_message(status, wanted))
    return wanted


def audit_subject(case_id: int) -> str:
    """How the audit log names a case: its history is the events with this subject."""
    return f"case:{case_id}"
