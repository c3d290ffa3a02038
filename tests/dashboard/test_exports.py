"""The supporters' export read as a spreadsheet reads it: hostile names stay inert in the CSV
whatever its list separator, and the workbook holds every cell as text."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from pledge.accounts.models import Role
from pledge.audit import list_events
from pledge.dashboard import service as dashboard
from pledge.supporters.models import Supporter
from tests.support.dashboard import World
from tests.support.pages import html

Sign = Callable[..., Any]
AsUser = Callable[..., TestClient]

supporter_t = Supporter.__table__  # type: ignore[attr-defined]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Names a form accepts, and what the CSV shows of each.
HOSTILE = {
    "=1+1": "'=1+1",
    "Budi;=1+1;": "Budi;'=1+1;",
    "+62 812 3456 7890": "'+62 812 3456 7890",
    "@SUM(1)": "'@SUM(1)",
    "Rina, -2+3": "Rina, '-2+3",
    "Sari; @A1": "Sari; '@A1",
}
# Names stored before the form cleaned them: a tab or a carriage return first.
STORED = {
    "\t=1+1": "'\t'=1+1",
    "\r=1+1": "'\r'=1+1",
}


def inert(cell: str) -> bool:
    """No piece of the cell, cut wherever a spreadsheet may cut a line into cells, runs as a
    formula."""
    pieces = re.split(r"[,;\t\r\n]", cell)
    return cell[:1] not in FORMULA_STARTS and all(
        not piece.lstrip(' "').startswith(FORMULA_STARTS) for piece in pieces
    )


@pytest.fixture
def hostile(session: Session, world: World, sign: Sign) -> list[str]:
    """Supporters of the lead organisation with hostile names, in the order they signed."""
    names = [*HOSTILE, *STORED]
    for i, name in enumerate(HOSTILE):
        sign(world.view, name=name, contact=f"h{i}@example.com", updates_org=world.lead.slug)
    for i, name in enumerate(STORED):
        signing = sign(
            world.view, name="Nanti", contact=f"s{i}@example.com", updates_org=world.lead.slug
        )
        session.execute(
            sa.update(supporter_t)
            .where(supporter_t.c.id == signing.supporter.id)
            .values(display_name=name)
        )
    sign(world.view, name="Ponsel", contact="0812 3456 7890", updates_org=world.lead.slug)
    session.commit()
    return [*names, "Ponsel"]


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        *HOSTILE.items(),
        *STORED.items(),
        ("a\t\t=1", "a\t'\t'=1"),
        ("Jean-Luc", "Jean-Luc"),
        ("1;2", "1;2"),
    ],
)
def test_neutralise_after_every_separator(cell: str, safe: str) -> None:
    assert dashboard.neutralise(cell) == safe
    assert inert(safe)


def test_csv_quotes_every_cell_and_keeps_hostile_names_inert(
    world: World, as_user: AsUser, hostile: list[str]
) -> None:
    response = as_user(world.lead, Role.ADMIN).get(world.path("export"))
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")

    rows = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in rows[1:]] == [
        *HOSTILE.values(),
        *STORED.values(),
        "Ponsel",
    ]
    assert rows[-1][1] == "'+6281234567890"
    # Written again with every cell quoted, the rows are the file as served: nothing unquoted.
    again = io.StringIO()
    csv.writer(again, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows(rows)
    assert again.getvalue() == text
    # Read as a spreadsheet whose list separator is ";" or "," reads it: no cell runs.
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            assert all(inert(cell) for cell in row), row


def test_xlsx_holds_every_cell_as_text(
    session: Session, world: World, as_user: AsUser, hostile: list[str]
) -> None:
    response = as_user(world.lead, Role.ADMIN).get(world.path("export_xlsx"))

    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"{world.view.slug}-{world.lead.slug}-supporters-" in disposition
    assert disposition.endswith('.xlsx"')
    assert response.headers["cache-control"] == "no-store"

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    cells = [list(row) for row in sheet.iter_rows()]
    assert [cell.value for cell in cells[0]] == [
        "Name",
        "Contact",
        "Province",
        "Age group",
        "Signed at (WIB)",
        "Pledges signed",
    ]
    assert all(cell.data_type == "s" for row in cells for cell in row)
    assert all(cell.quotePrefix for row in cells[1:] for cell in row)
    # The names and the phone number as given, with no apostrophe before them (a carriage
    # return is a line break in a workbook).
    assert [row[0].value for row in cells[1:]] == [name.replace("\r", "\n") for name in hostile]
    assert cells[-1][1].value == "+6281234567890"
    assert cells[-1][2].value == "DKI Jakarta"

    events = list_events(session, action="supporters.export")
    assert len(events) == 1
    assert events[0].subject == f"campaign:{world.view.id}"
    assert json.loads(events[0].data) == {"org": world.lead.slug, "rows": len(hostile)}


def test_xlsx_drops_the_control_characters_a_workbook_cannot_hold(
    session: Session, world: World, as_user: AsUser, sign: Sign
) -> None:
    signing = sign(world.view, name="Rina", contact="r@example.com", updates_org=world.lead.slug)
    session.execute(
        sa.update(supporter_t)
        .where(supporter_t.c.id == signing.supporter.id)
        .values(display_name="Ri\x01na\x1b")
    )
    session.commit()
    response = as_user(world.lead, Role.ADMIN).get(world.path("export_xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet["A2"].value == "Rina"


def test_xlsx_of_an_organisation_with_no_opted_in_supporters_has_its_header_only(
    world: World, as_user: AsUser
) -> None:
    response = as_user(world.lead, Role.ADMIN).get(world.path("export_xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet.max_row == 1


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 303), ("moderator", 403), ("other_admin", 403), ("site_admin", 403)],
)
def test_xlsx_is_refused_as_the_csv_is(
    session: Session,
    world: World,
    as_user: AsUser,
    client: TestClient,
    hostile: list[str],
    persona: str,
    status: int,
) -> None:
    browser = {
        "anonymous": lambda: client,
        "moderator": lambda: as_user(world.lead, Role.MODERATOR),
        "other_admin": lambda: as_user(world.stranger, Role.ADMIN),
        "site_admin": lambda: as_user(None, site_admin=True),
    }[persona]()
    for route in ("export", "export_xlsx"):
        response = browser.get(world.path(route))
        assert response.status_code == status, (route, response.text[:300])
        if status == 303:
            assert urlsplit(response.headers["location"]).path == "/login"
        else:
            assert "+6281234567890" not in response.text
    assert list_events(session, action="supporters.export") == []


def test_the_pages_offer_both_files(world: World, as_user: AsUser) -> None:
    browser = as_user(world.lead, Role.ADMIN)
    for page in (html(browser.get(world.path("statistics"))), html(browser.get(world.path("org")))):
        export = page.select_one("a.export")
        workbook = page.select_one("a.export-xlsx")
        assert export is not None and export["href"] == world.path("export")
        assert workbook is not None and workbook["href"] == world.path("export_xlsx")
        assert workbook.has_attr("download")
        assert "Excel" in workbook.get_text()
    page = html(as_user(world.lead, Role.MODERATOR).get(world.path("org")))
    assert page.select_one("a.export-xlsx") is None


def test_a_web_process_starts_without_openpyxl_and_numpy() -> None:
    """openpyxl imports numpy, about 17 MiB of each web process: they are loaded by the first
    workbook asked for (the tests above), not by every process that serves pages."""
    program = (
        "import sys\n"
        "import pledge.app\n"
        "print(sorted(m for m in ('numpy', 'openpyxl') if m in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120
    )
    assert completed.stdout.strip() == "[]"
