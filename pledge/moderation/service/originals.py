"""The original of a manipulated picture, attached to its case by the moderator holding it: an
upload that goes through the same checks as a report's screenshot, or the picture of another
case. The two pictures are compared once, in a decoder process (OpenCV is never loaded in the
web process), and the comparison is kept with the original: the case page and the published
verdict only show what was computed then."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session
from starlette.datastructures import FormData

from pledge import audit
from pledge.audit import AuditAction
from pledge.db import utcnow, writing
from pledge.errors import Conflict, Invalid, NotFound
from pledge.forms import form_file, form_text
from pledge.hoaxes import decoder, media
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import CaseOriginal, HoaxCase, Media
from pledge.hoaxes.service.duplicates import store_media
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import gettext as _
from pledge.moderation.service.cases import case_number, locked_case, subject, visible_case
from pledge.moderation.service.claims import require_claim

if TYPE_CHECKING:
    from pledge.accounts.access import ModeratorContext

# What a comparison found, as difference.Outcome names it.
ALIGNED, SAME, UNRELATED, UNREADABLE = "aligned", "same", "unrelated", "unreadable"


@dataclass(frozen=True, slots=True)
class OriginalForm:
    """The form that attaches an original: a picture, or the number of a case holding it."""

    original: bytes | None = None
    source_case: str = ""
    sender: str = ""  # where the upload came from, for the decoders' fair turns

    @classmethod
    def read(cls, form: FormData, *, sender: str = "") -> OriginalForm:
        return cls(
            original=form_file(form, "original"),
            source_case=form_text(form, "source_case", 40),
            sender=sender,
        )


@dataclass(frozen=True, slots=True)
class _Picture:
    """The original as it will be stored: a new upload, or a stored picture of another case."""

    image: media.ProcessedImage | None
    media_id: int | None
    data: bytes
    source_case_id: int | None


def _require_open(case: HoaxCase) -> None:
    if case.status not in CaseStatus.OPEN:
        raise Conflict(_("This case is closed: its original can no longer be changed."))


def _open_case(
    session: Session, access: ModeratorContext, case_id: int, now: datetime
) -> tuple[HoaxCase, Media]:
    """The case and its own picture, when the case is open, has one, and is held by this
    moderator."""
    case = visible_case(session, access, case_id)
    _require_open(case)
    require_claim(session, case, access.user.id, now)
    suspect = hoaxes.get_stored(session, media_id=case.media_id)
    if suspect is None:
        raise Conflict(_("This case has no picture to compare an original with."))
    return case, suspect


def _picture(
    session: Session, access: ModeratorContext, case: HoaxCase, form: OriginalForm
) -> _Picture:
    """The original the form names; Invalid with its message when there is none."""
    if form.original:
        try:
            image = decoder.process_upload(form.original, sender=form.sender)
        except media.MediaError as error:
            raise Invalid({"original": str(error)}) from None
        return _Picture(image=image, media_id=None, data=image.data, source_case_id=None)
    if not form.source_case.strip():
        raise Invalid(
            {
                "original": _(
                    "Choose the original picture, or give the number of a case that holds it."
                )
            }
        )
    number = case_number(form.source_case)
    other = None
    if number is not None and number != case.id:
        try:
            other = visible_case(session, access, number)
        except NotFound:  # a case the moderator may not see is no case
            other = None
    found = hoaxes.get_stored(session, media_id=other.media_id) if other else None
    if other is None or found is None:
        message = _("Give the number of another case you can see that has a picture.")
        raise Invalid({"source_case": message})
    return _Picture(image=None, media_id=found.id, data=found.data, source_case_id=other.id)


def _compared(picture: _Picture, suspect: Media, sender: str) -> decoder.Compared:
    """The two pictures compared; Invalid when the original is not one, or is the case's own."""
    field = "original" if picture.source_case_id is None else "source_case"
    if picture.media_id == suspect.id:
        raise Invalid({field: _same_picture()})
    try:
        compared = decoder.decoders.compare(picture.data, suspect.data, sender=sender)
    except media.MediaError as error:
        raise Invalid({field: str(error)}) from None
    if compared.outcome == SAME:
        raise Invalid({field: _same_picture()})
    if compared.outcome == UNREADABLE:
        raise Invalid({field: str(media.damaged())})
    return compared


def _same_picture() -> str:
    return _("This is the same picture as the case's own. Attach the original it was made from.")


def attach_original(
    session: Session,
    *,
    access: ModeratorContext,
    case_id: int,
    form: OriginalForm,
    now: datetime | None = None,
) -> CaseOriginal:
    """Attach (or replace) the case's original, compared with the case's picture. Checks, in
    order: the case is visible (404), open, has a picture and is held by this moderator
    (409), the original is a picture and not the case's own (422)."""
    now = now or utcnow()
    case, suspect = _open_case(session, access, case_id, now)
    picture = _picture(session, access, case, form)
    compared = _compared(picture, suspect, form.sender)
    with writing(session):
        case = locked_case(session, access, case_id)
        require_claim(session, case, access.user.id, now)
        media_id = store_media(session, picture.image) if picture.image else picture.media_id
        row = hoaxes.save_original(
            session,
            case_id=case_id,
            media_id=media_id,
            source_case_id=picture.source_case_id,
            suspect_media_id=suspect.id,
            outcome=compared.outcome,
            matches=compared.matches,
            changed_share=compared.changed_share,
            regions=json.dumps([list(region) for region in compared.regions]),
            overlay=compared.overlay,
            aligned=compared.aligned,
            show_public=False,
            attached_by_id=access.user.id,
            created_at=now,
        )
        audit.record(
            session,
            actor_id=access.user.id,
            action=AuditAction.CASE_ORIGINAL,
            subject=subject(case_id),
            data={
                "media_id": media_id,
                "source_case": picture.source_case_id,
                "outcome": compared.outcome,
                "regions": len(compared.regions),
            },
        )
    return row


def remove_original(
    session: Session, *, access: ModeratorContext, case_id: int, now: datetime | None = None
) -> None:
    """Take the original off the case (the moderator holding the open case)."""
    now = now or utcnow()
    with writing(session):
        case = locked_case(session, access, case_id)
        _require_open(case)
        require_claim(session, case, access.user.id, now)
        row = hoaxes.delete_original(session, case_id=case_id)
        if row is None:
            raise Conflict(_("This case has no original to remove."))
        audit.record(
            session,
            actor_id=access.user.id,
            action=AuditAction.CASE_ORIGINAL_REMOVE,
            subject=subject(case_id),
            data={"media_id": row.media_id},
        )
