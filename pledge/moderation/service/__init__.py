"""The moderation queue: claims, decisions, merging, two-person publishing.

One module per part, each importing only the ones below it:
- ``forms``: the forms moderators post, read and checked, and the reason every change carries;
- ``cases``: what every operation shares (visibility, locks, reasons, the status change);
- ``claims``: holding a case, in one conditional SQL statement;
- ``merging`` and ``decisions``: a moderator's decisions, and many cases rejected at once;
- ``approvals``: a second moderator publishes a proposed verdict or sends it back;
- ``corrections``: a published verdict's text corrected, with two people behind it;
- ``matches``: joining a suggested case, setting a pair apart, taking a report out;
- ``queue`` and ``review``: the queue page and one case as a moderator reviews it;
- ``answers``: a reporter's answer sends the case back to the queue, marked as answered;
- ``reporters``: the contacts moderators may see, and a message to a reporter;
- ``originals``: the original of a manipulated picture attached and compared.

Callers import the package (``from pledge.moderation import service as moderation``); the
rules of a case's status are in ``pledge.hoaxes.states``.
"""

from pledge.hoaxes.states import Decision, decisions_for
from pledge.moderation.service.answers import answer, answer_limit
from pledge.moderation.service.approvals import approve, send_back
from pledge.moderation.service.cases import (
    clean_reason,
    display_name,
    subject,
    transition,
    visible_campaigns,
    visible_case,
)
from pledge.moderation.service.claims import (
    CLAIM_MINUTES,
    Claim,
    break_claim,
    claim,
    claim_active,
    holds,
    release,
    take_claim,
)
from pledge.moderation.service.corrections import (
    WaitingCorrection,
    approve_correction,
    propose_correction,
    waiting_correction,
    withdraw_correction,
)
from pledge.moderation.service.decisions import BulkResult, bulk_reject, decide
from pledge.moderation.service.escalations import (
    REFERENCE_MAX,
    TARGET_NAME_MAX,
    EscalationForm,
    OutcomeForm,
    escalate,
    local_day,
    record_outcome,
)
from pledge.moderation.service.escalations import list_for_case as list_escalations
from pledge.moderation.service.forms import (
    BULK_MAX,
    CLAIM_AUTHOR_MAX,
    CORRECTION_MAX,
    EXPLANATION_MAX,
    NOTE_MAX,
    QUESTION_MAX,
    REASON_FIELD_MAX,
    REASON_MAX,
    TITLE_MAX,
    URL_MAX,
    BulkRejectForm,
    CorrectionForm,
    DecisionForm,
    Proposal,
    read_reason,
)
from pledge.moderation.service.matches import join, set_apart, split
from pledge.moderation.service.originals import OriginalForm, attach_original, remove_original
from pledge.moderation.service.queue import (
    PAGE_SIZE,
    QueueDepth,
    QueueFilters,
    QueuePage,
    QueueRow,
    StatusFilter,
    queue,
    queue_depth,
)
from pledge.moderation.service.reporters import (
    MESSAGE_MAX,
    MessageForm,
    ReporterContact,
    message_reporter,
)
from pledge.moderation.service.review import CaseEvent, CasePage, case_page

__all__ = [
    "BULK_MAX",
    "CLAIM_AUTHOR_MAX",
    "CLAIM_MINUTES",
    "CORRECTION_MAX",
    "EXPLANATION_MAX",
    "MESSAGE_MAX",
    "NOTE_MAX",
    "PAGE_SIZE",
    "QUESTION_MAX",
    "REASON_FIELD_MAX",
    "REASON_MAX",
    "REFERENCE_MAX",
    "TARGET_NAME_MAX",
    "TITLE_MAX",
    "URL_MAX",
    "BulkRejectForm",
    "BulkResult",
    "CaseEvent",
    "CasePage",
    "Claim",
    "CorrectionForm",
    "Decision",
    "DecisionForm",
    "EscalationForm",
    "MessageForm",
    "OriginalForm",
    "OutcomeForm",
    "Proposal",
    "QueueDepth",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "ReporterContact",
    "StatusFilter",
    "WaitingCorrection",
    "answer",
    "answer_limit",
    "approve",
    "approve_correction",
    "attach_original",
    "break_claim",
    "bulk_reject",
    "case_page",
    "claim",
    "claim_active",
    "clean_reason",
    "decide",
    "decisions_for",
    "display_name",
    "escalate",
    "holds",
    "join",
    "list_escalations",
    "local_day",
    "message_reporter",
    "propose_correction",
    "queue",
    "queue_depth",
    "read_reason",
    "record_outcome",
    "release",
    "remove_original",
    "send_back",
    "set_apart",
    "split",
    "subject",
    "take_claim",
    "transition",
    "visible_campaigns",
    "visible_case",
    "waiting_correction",
    "withdraw_correction",
]
