"""The export of the supporters who asked an organisation for news, with their contact, as CSV
or as an Excel workbook.

Only the organisation's own opted-in supporters are read; everyone else's contact stays in
the database. The export is in the audit log before a byte is sent.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

EXPORT_BATCH = 500
XLSX_CHUNK = 64 * 1024
# A workbook bigger than this is written to a temporary file rather than kept in memory.
XLSX_IN_MEMORY = 4 * 1024 * 1024
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A spreadsheet that takes `;` or a tab for the list separator (Indonesian Excel, LibreOffice)
# may cut a cell there, whatever the quotes, and run what follows as a cell of its own: a
# formula is neutralised after any separator as well, spaces before it included.
_FORMULA_START = re.compile(r"(^|[,;\t\r\n])( *)(?=[=+\-@\t\r])")


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        if self is ExportFormat.XLSX:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return "text/csv; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    rows: int
    media_type: str
    # The file a few hundred rows at a time: text for the CSV, bytes for the workbook.
    lines: Generator[str, None, None] | Generator[bytes, None, None]


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, at its start or after a separator, is made
    plain text with an apostrophe before the formula."""
    return _FORMULA_START.sub(r"\1\2'", cell)


def export_supporters(
    session: Session,
    *,
    org: Organization,
    slug: str,
    actor: User,
    kind: ExportFormat = ExportFormat.CSV,
) -> Export:
    """The supporters who asked this organisation for news, with their contact, as CSV or as
    an Excel workbook."""
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
    reading = _Reading(
        bind=session.get_bind(),
        campaign_id=view.id,
        partner_id=partner_id,
        last_id=last_id,
        pledge_texts={p.id or 0: p.text for p in view.pledges},
        not_given=_("Not given"),
        cipher=FieldCipher(get_settings().secret_key),
    )
    filename = f"{view.slug}-{org.slug}-supporters-{today}.{kind.value}"
    lines = (
        _xlsx_chunks(reading, header=header)
        if kind is ExportFormat.XLSX
        else _csv_lines(reading, header=header)
    )
    return Export(filename=filename, rows=rows, media_type=kind.media_type, lines=lines)


@dataclass(frozen=True, slots=True)
class _Reading:
    """What an export reads its rows with, once the response has started."""

    bind: Engine | Connection
    campaign_id: int
    partner_id: int | None
    last_id: int
    pledge_texts: dict[int, str]
    not_given: str
    cipher: FieldCipher

    def batches(self) -> Iterator[list[list[str]]]:
        """Rows read in batches by id, each batch in its own short read, up to the last id
        counted for the audit log: a large export never sits in memory or holds a
        transaction."""
        if self.partner_id is None or self.last_id == 0:
            return
        order = {pledge_id: position for position, pledge_id in enumerate(self.pledge_texts)}
        after = 0
        with Session(self.bind) as session:
            while after < self.last_id:
                batch = supporters.list_opted_in(
                    session,
                    campaign_id=self.campaign_id,
                    partner_id=self.partner_id,
                    after=after,
                    last_id=self.last_id,
                    limit=EXPORT_BATCH,
                )
                if not batch:
                    break
                signed = supporters.list_signed_pledge_ids(
                    session, supporter_ids=[row.id for row in batch]
                )
                session.rollback()  # end the read between batches
                yield [self._cells(row, signed.get(row.id, []), order) for row in batch]
                after = batch[-1].id

    def _cells(self, row: sa.Row[Any], signed: list[int], order: dict[int, int]) -> list[str]:
        """One supporter's line of the file, before formulas are neutralised."""
        pledges = sorted(signed, key=lambda pid: order.get(pid, pid))
        contact = self.cipher.decrypt(row.contact_encrypted) if row.contact_encrypted else ""
        return [
            row.display_name,
            contact,
            PROVINCES.get(row.province, row.province),
            row.age_band or self.not_given,
            row.created_at.astimezone(WIB).strftime("%Y-%m-%d %H:%M"),
            "; ".join(self.pledge_texts.get(pid, "") for pid in pledges),
        ]


def _csv_lines(reading: _Reading, *, header: list[str]) -> Generator[str, None, None]:
    """The CSV, every cell quoted and every formula neutralised, a batch at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(header)
    yield "\ufeff" + flush()  # the byte-order mark makes Excel read the file as UTF-8
    for batch in reading.batches():
        writer.writerows([neutralise(cell) for cell in cells] for cells in batch)
        yield flush()


def _xlsx_chunks(reading: _Reading, *, header: list[str]) -> Generator[bytes, None, None]:
    """The workbook, every cell a text cell: a spreadsheet shows it as written (a phone
    number with its `+`, a name that starts with `=`) and runs nothing. A workbook is a zip
    archive written whole, so it is built in a temporary file (in memory while small) and
    sent from there."""
    # Imported on the first export, not by every web process: openpyxl brings numpy with it,
    # about 17 MiB of each process's memory.
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Supporters")[:31])  # a sheet's name has at most 31 characters
    text_cells = _text_cells(sheet)
    sheet.append(text_cells(header))
    for batch in reading.batches():
        for cells in batch:
            sheet.append(text_cells(cells))
    with tempfile.SpooledTemporaryFile(max_size=XLSX_IN_MEMORY) as file:
        book.save(file)
        file.seek(0)
        while chunk := file.read(XLSX_CHUNK):
            yield chunk


def _text_cells(sheet: WriteOnlyWorksheet) -> Callable[[list[str]], list[Cell]]:
    """What makes a row's values into the sheet's text cells, openpyxl's names found once."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cells_of(values: list[str]) -> list[Cell]:
        cells = []
        for value in values:
            # The control characters a workbook cannot hold are dropped, not refused: the
            # name was accepted when it was signed. A carriage return is a line break, as any
            # XML reader would read it anyway.
            text = ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
            cell = WriteOnlyCell(sheet, value=text)
            # openpyxl makes a formula of a text starting with "=" and an error of "#N/A":
            # every cell is text, and stays text when someone edits it.
            cell.data_type = "s"
            cell.quotePrefix = True
            cells.append(cell)
        return cells

    return cells_of
