"""The export of the supporters who asked an organisation for news, with their contact, as CSV.

Only the organisation's own opted-in supporters are read; everyone else's contact stays in
the database. The export is in the audit log before a byte is sent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from pledge import audit
from pledge.accounts.models import Organization, User
from pledge.audit import AuditAction
from pledge.config import get_settings
from pledge.dashboard.service.breakdowns import WIB
from pledge.dashboard.service.orgs import campaign_for_org
from pledge.db import utcnow, writing
from pledge.i18n import gettext as _
from pledge.provinces import PROVINCES
from pledge.security import FieldCipher
from pledge.supporters import service as supporters

EXPORT_BATCH = 500
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    rows: int
    lines: Generator[str, None, None]  # the CSV, a few hundred rows at a time


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula is made plain text."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def export_supporters(session: Session, *, org: Organization, slug: str, actor: User) -> Export:
    """The supporters who asked this organisation for news, with their contact, as CSV."""
    found = campaign_for_org(session, org=org, slug=slug)
    view = found.view
    partner_id = found.partner.id if found.partner else None
    rows, last_id = 0, 0
    if partner_id is not None:
        opted_in = supporters.get_opted_in(session, campaign_id=view.id, partner_id=partner_id)
        rows, last_id = opted_in.count, opted_in.last_id
    with writing(session):
        audit.record(
            session,
            actor_id=actor.id,
            action=AuditAction.SUPPORTERS_EXPORT,
            subject=f"campaign:{view.id}",
            data={"org": org.slug, "rows": rows},
        )
    today = utcnow().astimezone(WIB).strftime("%Y%m%d")
    header = [
        _("Name"),
        _("Contact"),
        _("Province"),
        _("Age group"),
        _("Signed at (WIB)"),
        _("Pledges signed"),
    ]
    lines = _csv_lines(
        session.get_bind(),
        campaign_id=view.id,
        partner_id=partner_id,
        last_id=last_id,
        header=header,
        pledge_texts={p.id or 0: p.text for p in view.pledges},
        not_given=_("Not given"),
        cipher=FieldCipher(get_settings().secret_key),
    )
    return Export(filename=f"{view.slug}-{org.slug}-supporters-{today}.csv", rows=rows, lines=lines)


def _csv_lines(
    bind: Engine | Connection,
    *,
    campaign_id: int,
    partner_id: int | None,
    last_id: int,
    header: list[str],
    pledge_texts: dict[int, str],
    not_given: str,
    cipher: FieldCipher,
) -> Generator[str, None, None]:
    """Rows read in batches by id, each batch in its own short read, up to the last id
    counted for the audit log: a large export never sits in memory or holds a transaction."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(header)
    yield "\ufeff" + flush()  # the byte-order mark makes Excel read the file as UTF-8
    if partner_id is None or last_id == 0:
        return
    order = {pledge_id: position for position, pledge_id in enumerate(pledge_texts)}
    after = 0
    with Session(bind) as session:
        while after < last_id:
            batch = supporters.list_opted_in(
                session,
                campaign_id=campaign_id,
                partner_id=partner_id,
                after=after,
                last_id=last_id,
                limit=EXPORT_BATCH,
            )
            if not batch:
                break
            signed = supporters.list_signed_pledge_ids(
                session, supporter_ids=[row.id for row in batch]
            )
            session.rollback()  # end the read between batches
            for row in batch:
                pledges = sorted(signed.get(row.id, []), key=lambda pid: order.get(pid, pid))
                cells = _cells(
                    row,
                    contact=cipher.decrypt(row.contact_encrypted)
                    if row.contact_encrypted
                    else None,
                    pledges="; ".join(pledge_texts.get(pid, "") for pid in pledges),
                    not_given=not_given,
                )
                writer.writerow([neutralise(cell) for cell in cells])
            yield flush()
            after = batch[-1].id


def _cells(row: sa.Row[Any], *, contact: str | None, pledges: str, not_given: str) -> list[str]:
    """One supporter's line of the file, before formulas are neutralised."""
    return [
        row.display_name,
        contact or "",
        PROVINCES.get(row.province, row.province),
        row.age_band or not_given,
        row.created_at.astimezone(WIB).strftime("%Y-%m-%d %H:%M"),
        pledges,
    ]
