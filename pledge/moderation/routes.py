"""The moderators' pages: the queue, a case, claims and decisions; and the two ways between
moderators and reporters: a reporter's answer to their question, posted from the report's
own page (the one route here for the public, with its tracking code as its key), and a
moderator's message to a reporter.

Every other route takes Moderator: anonymous visitors are sent to sign in, people who moderate
for no organisation get a 403, and a case of a campaign none of the moderator's
organisations partners in answers 404, as if it did not exist.

Answers: success is a 303 back to the page with a ?done= notice; bad input re-renders the
page with the messages beside the fields (422); a refusal that depends on the case's state
or on who holds it (409), or on who the moderator is (403), re-renders the case page with
the message at the top.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any, Protocol
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from pledge import mail
from pledge.db import SessionDep
from pledge.deps import Moderator, ModeratorContext
from pledge.errors import Conflict, Invalid, NotFound
from pledge.forms import form_text
from pledge.hoaxes import service as hoaxes
from pledge.i18n import gettext as _
from pledge.moderation import service as moderation
from pledge.moderation.case_pages import (
    CASE_PAGE,
    NO_STORE,
    act_on_case,
    case_page,
    helpers,
)
from pledge.ratelimit import client_key, limiter
from pledge.web import CheckedForm, CheckedUpload, RowId, absolute_url, redraw, render

CaseId = RowId
QUEUE_PAGE = "moderation/queue.html"


def _int_param(request: Request, name: str) -> int:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 0


# --- the queue -------------------------------------------------------------------------


def _queue_page(
    request: Request,
    page: moderation.QueuePage,
    filters: moderation.QueueFilters,
    *,
    posted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    path = request.app.url_path_for("moderation_queue")
    next_url = (
        f"{path}?{urlencode(filters.query(after=page.next_after))}" if page.next_after else None
    )
    first_url = f"{path}?{urlencode(filters.query(after=''))}" if filters.after else None
    done = None if posted is not None else request.query_params.get("done")
    return {
        "page": page,
        "next_url": next_url,
        "first_url": first_url,
        "posted": posted or {},
        "done": done if done == "bulk-rejected" else None,
        "rejected": _int_param(request, "rejected"),
        "skipped": _int_param(request, "skipped"),
        "reason_max": moderation.REASON_MAX,
        **helpers(),
    }


def moderation_queue(request: Request, session: SessionDep, access: Moderator) -> HTMLResponse:
    filters = moderation.QueueFilters.read(request.query_params)
    page = moderation.queue(session, access=access, filters=filters)
    context = _queue_page(request, page, filters)
    if page.errors:  # a filter that is none of its choices, in the address
        return redraw(request, QUEUE_PAGE, context, page.errors, headers=NO_STORE)
    return render(request, QUEUE_PAGE, context, headers=NO_STORE)


def moderation_bulk_reject(
    request: Request, session: SessionDep, access: Moderator, form: CheckedForm
) -> Response:
    posted = moderation.BulkRejectForm.read(form)
    filters = moderation.QueueFilters.read(form)
    try:
        result = moderation.bulk_reject(session, access=access, form=posted)
    except Invalid as error:
        page = moderation.queue(session, access=access, filters=filters)
        shown = {"reason": posted.reason, "case_ids": set(posted.case_ids)}
        context = _queue_page(request, page, filters, posted=shown)
        errors = {f"bulk-{name}": message for name, message in error.errors.items()}
        return redraw(request, QUEUE_PAGE, context, {**page.errors, **errors}, headers=NO_STORE)
    # Back to the same filters, where the rejected cases no longer show.
    query = urlencode(
        {
            **filters.query(),
            "done": "bulk-rejected",
            "rejected": result.rejected,
            "skipped": result.skipped,
        }
    )
    return RedirectResponse(f"{request.app.url_path_for('moderation_queue')}?{query}", 303)


# --- one case --------------------------------------------------------------------------


def moderation_case(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId
) -> HTMLResponse:
    context = case_page(request, session, access, case_id)
    return render(request, CASE_PAGE, context, headers=NO_STORE)


def moderation_claim(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedForm
) -> Response:
    def change() -> str:
        held = moderation.claim(session, access=access, case_id=case_id)
        return "renewed" if held.renewed else "claimed"

    return act_on_case(request, session, access, case_id, change, failed="claim")


def moderation_release(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedForm
) -> Response:
    def change() -> str:
        moderation.release(session, access=access, case_id=case_id)
        return "released"

    return act_on_case(request, session, access, case_id, change, failed="release")


class ReasonChange(Protocol):
    """A service call that changes a case for a reason alone."""

    def __call__(
        self, session: Session, *, access: ModeratorContext, case_id: int, reason: str
    ) -> object: ...


def _deliver_after(request: Request, response: Response) -> None:
    """A change that queued messages (reporters told a verdict, a message to a reporter):
    they are sent once the answer has gone."""
    if response.status_code == 303:
        response.background = mail.delivery(request.app.state.engine)


def _with_reason(
    request: Request,
    session: Session,
    access: ModeratorContext,
    case_id: int,
    form: FormData,
    apply: Callable[[str], None],
    *,
    done: str,
    failed: str,
    delivers: bool,
) -> Response:
    """A change asking for a reason alone: ``apply`` takes it; a refused one is shown again."""
    reason = moderation.read_reason(form)

    def change() -> str:
        apply(reason)
        return done

    posted = {"reason": reason}
    response = act_on_case(request, session, access, case_id, change, failed=failed, posted=posted)
    if delivers:
        _deliver_after(request, response)
    return response


def _reason_route(
    change: ReasonChange, *, done: str, failed: str, delivers: bool = False
) -> Callable[..., Response]:
    """The route of a change that asks for a reason alone (ending another moderator's claim,
    approving, sending back): the service is called with it, and a refused reason is shown
    again beside its form. Named after the service function, as route functions are named:
    ``moderation_approve`` calls ``approve``."""
    finish = partial(_with_reason, done=done, failed=failed, delivers=delivers)

    def route(
        request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedForm
    ) -> Response:
        def apply(reason: str) -> None:
            change(session, access=access, case_id=case_id, reason=reason)

        return finish(request, session, access, case_id, form, apply)

    route.__name__ = route.__qualname__ = f"moderation_{change.__name__}"  # type: ignore[attr-defined]
    return route


moderation_break_claim = _reason_route(moderation.break_claim, done="broken", failed="break")
# Publishing tells the reporters: their messages are sent after the answer.
moderation_approve = _reason_route(
    moderation.approve, done="approved", failed="approve", delivers=True
)
moderation_send_back = _reason_route(moderation.send_back, done="sent-back", failed="send_back")


def moderation_decide(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedForm
) -> Response:
    posted = moderation.DecisionForm.read(form)

    def change() -> str:
        moderation.decide(session, access=access, case_id=case_id, form=posted)
        return f"decided-{posted.decision}"

    # An unknown decision has no form of its own: its message goes to the top of the page.
    known = posted.decision in {d.value for d in moderation.Decision}
    return act_on_case(
        request,
        session,
        access,
        case_id,
        change,
        failed=posted.decision if known else "decision",
        posted=asdict(posted),
    )


# --- answers to the matching ----------------------------------------------------------


def moderation_join(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedForm
) -> Response:
    target = form_text(form, "target_case_id", 20)
    reason = moderation.read_reason(form)

    def change() -> str:
        moderation.join(session, access=access, case_id=case_id, target=target, reason=reason)
        return f"decided-{moderation.Decision.DUPLICATE.value}"

    posted = {"reason": reason, "target_case_id": target}
    return act_on_case(
        request, session, access, case_id, change, failed=f"join-{target}", posted=posted
    )


def moderation_set_apart(
    request: Request,
    session: SessionDep,
    access: Moderator,
    case_id: CaseId,
    match_id: RowId,
    form: CheckedForm,
) -> Response:
    reason = moderation.read_reason(form)

    def change() -> str:
        moderation.set_apart(
            session, access=access, case_id=case_id, match_id=match_id, reason=reason
        )
        return "set-apart"

    posted = {"reason": reason}
    return act_on_case(
        request, session, access, case_id, change, failed=f"apart-{match_id}", posted=posted
    )


def moderation_split(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedForm
) -> Response:
    report_id = form_text(form, "report_id", 20)
    reason = moderation.read_reason(form)

    def change() -> str:
        moderation.split(
            session, access=access, case_id=case_id, report_id=report_id, reason=reason
        )
        return "split"

    posted = {"reason": reason}
    return act_on_case(
        request, session, access, case_id, change, failed=f"split-{report_id}", posted=posted
    )


# --- between moderators and reporters -------------------------------------------------

STATUS_PAGE = "hoaxes/status.html"
# As the report's own page: its address is its key.
PRIVATE_PAGE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


def _status_page(session: Session, code: str, form: hoaxes.AnswerForm) -> dict[str, Any]:
    """The report's page again, as hoaxes_status draws it, with the answer as it was sent."""
    status = hoaxes.get_status(session, code=code)
    return {
        "status": status,
        "report": status.report,
        "case": status.case,
        "campaign": status.campaign,
        "answer_form": form,
    }


@limiter.limit(moderation.answer_limit)
def moderation_answer(
    request: Request, session: SessionDep, code: str, form: CheckedUpload
) -> Response:
    """A reporter's answer, from their report's page: 303 back to it with a notice; the page
    again with the messages (422) or with why nothing was taken (409)."""
    posted = hoaxes.AnswerForm.read(form)
    try:
        moderation.answer(session, code=code, form=posted, sender=client_key(request))
    except Invalid as error:
        choose_again = bool(posted.screenshot and "screenshot" not in error.errors)
        context = _status_page(session, code, posted)
        return redraw(
            request, STATUS_PAGE, context, error, headers=PRIVATE_PAGE, choose_again=choose_again
        )
    except Conflict as error:
        context = {**_status_page(session, code, posted), "problem": error.detail}
        return render(request, STATUS_PAGE, context, status_code=409, headers=PRIVATE_PAGE)
    path = request.app.url_path_for("hoaxes_status", code=code.strip().lower())
    return RedirectResponse(f"{path}?done=answered", status_code=303)


def moderation_message(
    request: Request,
    session: SessionDep,
    access: Moderator,
    case_id: CaseId,
    report_id: RowId,
    form: CheckedForm,
) -> Response:
    """A moderator's message to a reporter who allowed it, sent in the reporter's language."""
    posted = moderation.MessageForm.read(form)

    def status_url(code: str) -> str:
        return absolute_url(request, "hoaxes_status", code=code)

    def change() -> str:
        channel = moderation.message_reporter(
            session,
            access=access,
            case_id=case_id,
            report_id=report_id,
            form=posted,
            status_url=status_url,
        )
        return f"messaged-{channel.value}"

    failed = f"message-{report_id}"
    response = act_on_case(
        request, session, access, case_id, change, failed=failed, posted=asdict(posted)
    )
    _deliver_after(request, response)
    return response


# --- reports made elsewhere: to platforms and authorities ----------------------------------


def moderation_escalate(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedForm
) -> Response:
    posted = moderation.EscalationForm.read(form)

    def change() -> str:
        moderation.escalate(session, access=access, case_id=case_id, form=posted)
        return "escalated"

    return act_on_case(
        request, session, access, case_id, change, failed="escalate", posted=asdict(posted)
    )


def moderation_escalation_outcome(
    request: Request,
    session: SessionDep,
    access: Moderator,
    case_id: CaseId,
    escalation_id: RowId,
    form: CheckedForm,
) -> Response:
    posted = moderation.OutcomeForm.read(form)

    def change() -> str:
        moderation.record_outcome(
            session, access=access, case_id=case_id, escalation_id=escalation_id, form=posted
        )
        return "escalation-outcome"

    failed = f"outcome-{escalation_id}"
    return act_on_case(
        request, session, access, case_id, change, failed=failed, posted=asdict(posted)
    )


# --- corrections of a published verdict ------------------------------------------------


def moderation_correct(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedForm
) -> Response:
    posted = moderation.CorrectionForm.read(form)

    def change() -> str:
        moderation.propose_correction(session, access=access, case_id=case_id, form=posted)
        return "correction-proposed"

    return act_on_case(
        request, session, access, case_id, change, failed="correct", posted=asdict(posted)
    )


class CorrectionChange(Protocol):
    """A service call that approves or withdraws a waiting correction, for a reason."""

    def __call__(
        self,
        session: Session,
        *,
        access: ModeratorContext,
        case_id: int,
        correction_id: int,
        reason: str,
    ) -> object: ...


def _correction_route(
    change: CorrectionChange, *, done: str, failed: str, delivers: bool = False
) -> Callable[..., Response]:
    """The route that approves or withdraws a waiting correction: the reason alone is posted;
    named after the service function (``moderation_approve_correction``)."""
    finish = partial(_with_reason, done=done, failed=failed, delivers=delivers)

    def route(
        request: Request,
        session: SessionDep,
        access: Moderator,
        case_id: CaseId,
        correction_id: RowId,
        form: CheckedForm,
    ) -> Response:
        def apply(reason: str) -> None:
            change(
                session, access=access, case_id=case_id, correction_id=correction_id, reason=reason
            )

        return finish(request, session, access, case_id, form, apply)

    route.__name__ = route.__qualname__ = f"moderation_{change.__name__}"  # type: ignore[attr-defined]
    return route


# Approving a correction tells the reporters: their messages are sent after the answer.
moderation_approve_correction = _correction_route(
    moderation.approve_correction, done="corrected", failed="approve_correction", delivers=True
)
moderation_withdraw_correction = _correction_route(
    moderation.withdraw_correction, done="correction-withdrawn", failed="withdraw_correction"
)


# --- the original of a manipulated picture ----------------------------------------------


def moderation_original(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedUpload
) -> Response:
    """Attach the original (an upload or another case's picture), compared with the case's."""
    posted = moderation.OriginalForm.read(form, sender=client_key(request))

    def change() -> str:
        moderation.attach_original(session, access=access, case_id=case_id, form=posted)
        return "original"

    shown = {"source_case": posted.source_case}
    return act_on_case(request, session, access, case_id, change, failed="original", posted=shown)


def moderation_original_remove(
    request: Request, session: SessionDep, access: Moderator, case_id: CaseId, form: CheckedForm
) -> Response:
    def change() -> str:
        moderation.remove_original(session, access=access, case_id=case_id)
        return "original-removed"

    return act_on_case(request, session, access, case_id, change, failed="original")


# The comparison's pictures, for the moderators of the case's campaign only.
ORIGINAL_PICTURES = ("overlay", "aligned")
PRIVATE_PICTURE = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def moderation_original_picture(
    session: SessionDep, access: Moderator, case_id: CaseId, kind: str
) -> Response:
    """The case's picture with what was changed outlined, or the original aligned to it."""
    moderation.visible_case(session, access, case_id)
    found = hoaxes.get_original(session, case_id=case_id)
    data = getattr(found, kind, b"") if found is not None and kind in ORIGINAL_PICTURES else b""
    if not data:
        raise NotFound(_("We could not find that image."))
    return Response(data, media_type="image/jpeg", headers=PRIVATE_PICTURE)
