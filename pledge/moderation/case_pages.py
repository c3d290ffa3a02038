"""The case page as every moderation route draws it, and the one way a route acts on a case:
run the change, then 303 back to the case with its notice, or the page again with the
messages (422 beside the failed form's fields; 403 and 409 at the top)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from pledge.db import utcnow
from pledge.deps import ModeratorContext
from pledge.errors import Conflict, Forbidden, Invalid
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import (
    CaseStatus,
    Category,
    EscalationOutcome,
    EscalationTarget,
    HoaxCase,
    Platform,
    Verdict,
)
from pledge.i18n import gettext as _
from pledge.i18n import ngettext
from pledge.moderation import service as moderation
from pledge.web import redraw, render

CASE_PAGE = "moderation/case.html"
NO_STORE = {"Cache-Control": "no-store"}

CASE_DONE = (
    "claimed",
    "renewed",
    "released",
    "broken",
    "approved",
    "sent-back",
    "set-apart",
    "split",
    "correction-proposed",
    "corrected",
    "correction-withdrawn",
    *(f"decided-{decision.value}" for decision in moderation.Decision),
    "messaged-email",
    "messaged-whatsapp",
    "escalated",
    "escalation-outcome",
    "original",
    "original-removed",
)


# The queue's status filter: its groups around the single statuses.
STATUS_CHOICES = (
    moderation.StatusFilter.QUEUE,
    moderation.StatusFilter.OPEN,
    *CaseStatus,
    moderation.StatusFilter.ALL,
)


def age(moment: datetime, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit: 5 minutes, 3 hours, 2 days."""
    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 1:
        return _("less than a minute")
    if hours < 1:
        return ngettext("%(num)s minute", "%(num)s minutes", minutes) % {"num": minutes}
    if days < 2:
        return ngettext("%(num)s hour", "%(num)s hours", hours) % {"num": hours}
    return ngettext("%(num)s day", "%(num)s days", days) % {"num": days}


def helpers() -> dict[str, Any]:
    return {
        "age": age,
        "status_choices": STATUS_CHOICES,
        "platforms": list(Platform),
        "categories": list(Category),
        "verdicts": list(Verdict),
        "source_label": hoaxes.source_type_label,
        "action_label": hoaxes.action_label,
    }


def _escalations(session: Session, case: HoaxCase) -> dict[str, Any]:
    """What the case page's "Reported elsewhere" section shows and offers."""
    return {
        "escalations": moderation.list_escalations(session, case_id=case.id or 0),
        "escalation_targets": list(EscalationTarget),
        "escalation_outcomes": list(EscalationOutcome),
        "reference_max": moderation.REFERENCE_MAX,
        "target_name_max": moderation.TARGET_NAME_MAX,
        "today": moderation.local_day(utcnow()).isoformat(),
    }


def _original(session: Session, case: HoaxCase) -> dict[str, Any]:
    """The original attached to the case, with its changed regions, and the labels whose
    verdict may show it."""
    found = hoaxes.get_original(session, case_id=case.id or 0)
    return {
        "original": found,
        "original_regions": hoaxes.stored_regions(found) if found is not None else [],
        "pair_labels": sorted(hoaxes.PAIR_LABELS),
    }


def case_page(
    request: Request,
    session: Session,
    access: ModeratorContext,
    case_id: int,
    *,
    failed: str = "",
    posted: dict[str, str] | None = None,
    problem: str = "",
    refused: bool = False,
) -> dict[str, Any]:
    page = moderation.case_page(session, access=access, case_id=case_id)
    done = None if refused else request.query_params.get("done")
    return {
        "page": page,
        "case": page.case,
        "failed": failed,
        "posted": posted or {},
        "problem": problem,
        "done": done if done in CASE_DONE else None,
        "reason_max": moderation.REASON_MAX,
        "title_max": moderation.TITLE_MAX,
        "explanation_max": moderation.EXPLANATION_MAX,
        "claim_minutes": moderation.CLAIM_MINUTES,
        "message_max": moderation.MESSAGE_MAX,
        "correction_max": moderation.CORRECTION_MAX,
        "claim_author_max": moderation.CLAIM_AUTHOR_MAX,
        "note_max": moderation.NOTE_MAX,
        "waiting_correction": moderation.waiting_correction(session, access=access, case=page.case),
        "proposed_credentials": hoaxes.PublicCredentials.from_json(page.case.credentials_note),
        **_original(session, page.case),
        **helpers(),
        **_escalations(session, page.case),
    }


def act_on_case(
    request: Request,
    session: Session,
    access: ModeratorContext,
    case_id: int,
    change: Callable[[], str],
    *,
    failed: str,
    posted: dict[str, str] | None = None,
) -> Response:
    """Run one service call; 303 to the case with its notice, or re-render the case page
    with the messages (422 beside the failed form's fields; 403 and 409 at the top)."""
    try:
        done = change()
    except Invalid as error:
        context = case_page(
            request, session, access, case_id, failed=failed, posted=posted, refused=True
        )
        errors = {f"{failed}-{name}": message for name, message in error.errors.items()}
        return redraw(request, CASE_PAGE, context, errors, headers=NO_STORE)
    except (Conflict, Forbidden) as error:
        context = case_page(request, session, access, case_id, problem=error.detail, refused=True)
        return render(request, CASE_PAGE, context, status_code=error.status_code, headers=NO_STORE)
    path = request.app.url_path_for("moderation_case", case_id=case_id)
    return RedirectResponse(f"{path}?done={done}", status_code=303)
