"""Personal data requests at /admin/contacts: finding a person by the contact they used,
giving them a copy, erasing them, and an audit log that never holds the contact."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import audit, mail
from pledge.accounts import service as accounts
from pledge.accounts.models import User
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.contacts import normalise_contact
from pledge.db import utcnow
from pledge.errors import Invalid
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxReport
from pledge.mail import OutboxMessage
from pledge.privacy import requests as privacy
from pledge.privacy.forms import ErasureForm
from pledge.security import FieldCipher, contact_digest
from pledge.supporters import service as supporters
from pledge.supporters.models import Supporter
from tests.support.pages import errors_of, html
from tests.support.people import PASSWORD, sign_in

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]

supporter_t = Supporter.__table__  # type: ignore[attr-defined]
report_t = HoaxReport.__table__  # type: ignore[attr-defined]
outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]
audit_t = audit.AuditEvent.__table__  # type: ignore[attr-defined]

EMAIL = "rina.putri@example.com"
PHONE = "+6281234567890"
# How the person wrote their contact in different places, and how an admin might type it.
EMAIL_SPELLINGS = ("Rina.Putri@Example.com", "RINA.PUTRI@EXAMPLE.COM", " rina.putri@example.com ")
PHONE_SPELLINGS = ("0812 3456 7890", "+62 812-3456-7890", "081234567890", "+6281234567890")


# --- the people and what the site holds about them -------------------------------------------


@dataclass
class World:
    first: CampaignView
    second: CampaignView
    admin: User
    staff: User
    report: HoaxReport  # sent by EMAIL
    other_report: HoaxReport  # sent by someone else
    unsent: int  # an email to EMAIL waiting in the outbox
    sent: int  # an email to EMAIL already delivered
    other_message: int  # an email to someone else


def report(session: Session, view: CampaignView, url: str, contact: str) -> HoaxReport:
    form = hoaxes.ReportForm(
        url=url,
        platform="whatsapp",
        category="money_politics",
        description="Ada yang bagi-bagi amplop.",
        contact=contact,
        consent="on",
    )
    found = hoaxes.submit(session, view=view, form=form)
    assert found is not None
    return found


@pytest.fixture
def world(session: Session, make_campaign: MakeCampaign, sign: Sign) -> World:
    first, second = make_campaign(), make_campaign()
    # Rina signs both campaigns, writing her email differently each time; in the first she
    # asks a partner for news, so her contact is kept there (encrypted).
    sign(
        first,
        name="Rina Putri",
        contact=EMAIL_SPELLINGS[0],
        province="ID-JB",
        age_band="20-24",
        updates_org=first.partners[1].slug,
        ref=first.partners[0].referral_code,
        pledges=["tolak-politik-uang", "lawan-hoaks"],
    )
    sign(second, name="Rina P.", contact=EMAIL_SPELLINGS[1], province="ID-JB")
    # Budi signs both with his phone number, once as 0812…, once as +62 812….
    sign(first, name="Budi Santoso", contact=PHONE_SPELLINGS[0], province="ID-JT")
    sign(second, name="Budi Santoso", contact=PHONE_SPELLINGS[1], pledges=["gunakan-hak-pilih"])
    # Someone else, who must be left alone.
    sign(first, name="Sari Dewi", contact="sari@example.com", province="ID-BA")
    sign(second, name="Sari Dewi", contact="sari@example.com", province="ID-BA")

    mine = report(session, first, "https://example.org/amplop-1", EMAIL_SPELLINGS[2])
    theirs = report(session, first, "https://example.org/amplop-2", "sari@example.com")

    admin = accounts.create(
        session, email="root@example.org", password=PASSWORD, is_site_admin=True
    )
    staff = accounts.create(session, email=EMAIL, password=PASSWORD, display_name="Rina")
    unsent = mail.queue(session, to=EMAIL, subject="Undangan", body="https://x/invite/SECRET")
    sent = mail.queue(session, to=EMAIL, subject="Sudah terkirim", body="Halo")
    other = mail.queue(session, to="sari@example.com", subject="Untuk Sari", body="Halo")
    session.flush()
    sent.sent_at = utcnow() - timedelta(days=1)
    session.add(sent)
    session.commit()
    return World(
        first=first,
        second=second,
        admin=admin,
        staff=staff,
        report=mine,
        other_report=theirs,
        unsent=unsent.id or 0,
        sent=sent.id or 0,
        other_message=other.id or 0,
    )


@pytest.fixture
def admin(client: TestClient, world: World) -> TestClient:
    client.cookies.set("lang", "en")  # the assertions read the English wording
    return sign_in(client, world.admin)


def token_of(client: TestClient) -> str:
    response = client.get("/admin/contacts")
    assert response.status_code == 200, response.text[:500]
    field = html(response).select_one("form[action='/admin/contacts'] input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def post(client: TestClient, path: str, **fields: str) -> Any:
    return client.post(path, data={"csrf_token": token_of(client), **fields})


def search(client: TestClient, contact: str) -> BeautifulSoup:
    response = post(client, "/admin/contacts", contact=contact)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["cache-control"] == "no-store"
    return html(response)


def found_campaigns(soup: BeautifulSoup) -> dict[str, dict[str, str]]:
    return {
        str(row["data-campaign"]): {
            str(cell["data-fact"]): cell.get_text(" ", strip=True)
            for cell in row.select("td[data-fact]")
        }
        for row in soup.select("table.found-supporters tbody tr")
    }


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def counts(session: Session, view: CampaignView) -> dict[str, int]:
    session.commit()
    return supporters.read_counts(session, campaign_id=view.id).by_key


def audit_rows(session: Session) -> list[dict[str, Any]]:
    session.commit()
    return [
        dict(row) for row in session.execute(sa.select(audit_t).order_by(audit_t.c.id)).mappings()
    ]


def privacy_events(session: Session) -> list[dict[str, Any]]:
    return [row for row in audit_rows(session) if str(row["action"]).startswith("privacy.")]


# --- the page --------------------------------------------------------------------------------


def test_the_admin_nav_leads_to_a_search_form(admin: TestClient) -> None:
    home = html(admin.get("/admin"))
    link = one(home, "nav.admin-nav a[href='/admin/contacts']")
    assert link.get_text(strip=True) == "Personal data requests"

    response = admin.get("/admin/contacts")
    assert response.status_code == 200
    soup = html(response)
    assert one(soup, "h1").get_text(strip=True) == "Personal data requests"
    assert one(soup, "nav.admin-nav a[aria-current=page]")["href"] == "/admin/contacts"
    form = one(soup, "form[action='/admin/contacts']")
    assert form["method"] == "post"  # the contact stays out of the address bar and the logs
    assert one(soup, "label[for=contact]").get_text(strip=True) == "Email address or mobile number"
    assert one(form, "input#contact")["name"] == "contact"


# --- searching -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", EMAIL_SPELLINGS)
def test_search_by_email_finds_everything_however_it_is_written(
    admin: TestClient, world: World, typed: str
) -> None:
    soup = search(admin, typed)

    heading = one(soup, "#findings-title").get_text(" ", strip=True)
    # Named as typed (trimmed, the domain lower-cased), and found however it was written.
    assert heading == f"What the site holds about {normalise_contact(typed)}"
    assert normalise_contact(typed).lower() == EMAIL
    found = found_campaigns(soup)
    assert set(found) == {world.first.slug, world.second.slug}
    assert found[world.first.slug] == {
        "name": "Rina Putri",
        "province": "Jawa Barat",
        "pledges": "Janji tolak-politik-uang; Janji lawan-hoaks",
        "updates": world.first.partners[1].name,
        "friends": "0",
    }
    assert found[world.second.slug]["name"] == "Rina P."
    assert found[world.second.slug]["updates"] == "—"
    assert [str(r["data-report"]) for r in soup.select("table.found-reports tbody tr")] == [
        world.report.tracking_code
    ]
    staff = soup.select("ul.found-staff a")
    assert [(a.get_text(strip=True), a["href"]) for a in staff] == [
        (EMAIL, f"/admin/users/{world.staff.id}")
    ]
    messages = {str(r["data-message"]) for r in soup.select("table.found-messages tbody tr")}
    assert messages == {str(world.unsent), str(world.sent)}
    # Nothing on the page carries the contact in a link.
    for target in [a["href"] for a in soup.select("a[href]")] + [
        f["action"] for f in soup.select("form[action]")
    ]:
        assert "rina" not in str(target).lower()


@pytest.mark.parametrize("typed", PHONE_SPELLINGS)
def test_search_by_phone_finds_the_same_person_written_either_way(
    admin: TestClient, world: World, typed: str
) -> None:
    soup = search(admin, typed)

    assert one(soup, "#findings-title").get_text(" ", strip=True).endswith(PHONE)
    found = found_campaigns(soup)
    assert set(found) == {world.first.slug, world.second.slug}
    assert found[world.first.slug]["province"] == "Jawa Tengah"
    assert found[world.second.slug]["pledges"] == "Janji gunakan-hak-pilih"
    assert one(soup, "[data-empty=reports]").get_text(strip=True)
    assert one(soup, "[data-empty=staff]").get_text(strip=True) == "No staff account."
    assert one(soup, "[data-empty=emails]").get_text(strip=True) == "No emails."


def test_a_contact_the_site_does_not_know_finds_nothing(admin: TestClient, world: World) -> None:
    soup = search(admin, "tidak.ada@example.com")
    assert one(soup, "[data-empty=signatures]").get_text(strip=True) == "No signatures."
    assert soup.select("table") == []
    # Nothing to copy or erase.
    assert soup.select("form[action='/admin/contacts/export']") == []
    assert soup.select("form[action='/admin/contacts/erase']") == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your email address or mobile number."),
        ("   ", "Enter your email address or mobile number."),
        ("rina@", "That email address does not look right. Check it and try again."),
        ("bukan kontak", "Enter an email address (like nama@contoh.id)"),
        ("12345", "That mobile number does not look right."),
        ("+1 202 555 0100", "Only Indonesian mobile numbers (+62) are accepted."),
        ("x" * 300 + "@example.com", "That is too long for an email address or a phone number."),
    ],
)
@pytest.mark.parametrize("path", ["/admin/contacts", "/admin/contacts/export"])
def test_bad_contacts_are_refused_with_a_message(
    admin: TestClient, session: Session, world: World, path: str, typed: str, message: str
) -> None:
    response = post(admin, path, contact=typed)

    assert response.status_code == 422
    assert errors_of(response)["contact"].startswith(message)
    assert one(html(response), "[role=alert]")
    assert privacy_events(session) == []


def test_erasing_a_bad_contact_is_refused_and_changes_nothing(
    admin: TestClient, session: Session, world: World
) -> None:
    before = counts(session, world.first)
    response = post(admin, "/admin/contacts/erase", contact="rina@", reason="diminta")
    assert response.status_code == 422
    assert "email address does not look right" in errors_of(response)["contact"]
    assert counts(session, world.first) == before


# --- a copy ----------------------------------------------------------------------------------


def test_export_is_a_json_download_of_everything_found(
    admin: TestClient, session: Session, world: World
) -> None:
    soup = search(admin, EMAIL_SPELLINGS[1])
    form = one(soup, "form[action='/admin/contacts/export']")
    fields = {str(f["name"]): str(f["value"]) for f in form.select("input[name]")}
    assert fields["contact"] == "RINA.PUTRI@example.com"  # as the search was typed

    response = admin.post("/admin/contacts/export", data=fields)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    disposition = response.headers["content-disposition"]
    reference = contact_digest(get_settings().secret_key, EMAIL)[:12]
    assert disposition.startswith(f'attachment; filename="personal-data-{reference}-')
    document = json.loads(response.content)
    assert document["contact"] == "RINA.PUTRI@example.com"
    signatures = {s["campaign"]["slug"]: s for s in document["signatures"]}
    assert set(signatures) == {world.first.slug, world.second.slug}
    first = signatures[world.first.slug]
    assert first["name"] == "Rina Putri"
    assert first["province"] == {"code": "ID-JB", "name": "Jawa Barat"}
    assert first["age_group"] == "20-24"
    assert first["pledges"] == ["Janji tolak-politik-uang", "Janji lawan-hoaks"]
    assert first["came_through_partner"] == world.first.partners[0].name
    assert first["updates_from_partner"] == world.first.partners[1].name
    # Decrypted, as she wrote it when signing: it is the person's own.
    assert first["contact_kept_for_updates"] == "Rina.Putri@example.com"
    assert signatures[world.second.slug]["contact_kept_for_updates"] is None
    assert [(r["tracking_code"], r["contact"]) for r in document["hoax_reports"]] == [
        (world.report.tracking_code, EMAIL)
    ]
    assert document["hoax_reports"][0]["url"] == "https://example.org/amplop-1"
    assert [a["email"] for a in document["staff_accounts"]] == [EMAIL]
    assert sorted(m["subject"] for m in document["emails"]) == ["Sudah terkirim", "Undangan"]
    assert "SECRET" not in response.text  # an unsent one-time link is not handed out
    assert "sari" not in response.text.lower()


def test_a_phone_number_export_holds_both_signatures(admin: TestClient, world: World) -> None:
    response = post(admin, "/admin/contacts/export", contact=PHONE_SPELLINGS[0])
    document = json.loads(response.content)
    assert document["contact"] == PHONE
    assert sorted(s["name"] for s in document["signatures"]) == ["Budi Santoso", "Budi Santoso"]
    assert document["staff_accounts"] == document["emails"] == []


# --- erasure ---------------------------------------------------------------------------------


def test_erasure_withdraws_clears_and_deletes_exactly_what_belongs_to_the_contact(
    admin: TestClient, session: Session, world: World
) -> None:
    first_before, second_before = counts(session, world.first), counts(session, world.second)
    soup = search(admin, EMAIL_SPELLINGS[0])
    form = one(soup, "form[action='/admin/contacts/erase']")
    fields = {str(f["name"]): str(f["value"]) for f in form.select("input[name]")}

    response = admin.post(
        "/admin/contacts/erase", data={**fields, "reason": "Diminta lewat email 2 Mei"}
    )

    assert response.status_code == 303
    location = response.headers["location"]
    assert urlsplit(location).path == "/admin/contacts"
    assert "rina" not in location.lower()
    # Her signatures are withdrawn: each count goes down by exactly what she had signed.
    pledge = {p.slug: p.id for p in world.first.pledges}
    expected_first = dict(first_before)
    for key in (
        "total",
        f"pledge:{pledge['tolak-politik-uang']}",
        f"pledge:{pledge['lawan-hoaks']}",
        f"partner:{world.first.partners[0].id}",
    ):
        expected_first[key] -= 1
    assert counts(session, world.first) == expected_first
    second_pledge = world.second.pledges[0].id
    expected_second = dict(second_before)
    expected_second["total"] -= 1
    expected_second[f"pledge:{second_pledge}"] -= 1
    assert counts(session, world.second) == expected_second
    assert supporters.reconcile(session) == []
    digest = contact_digest(get_settings().secret_key, EMAIL)
    left = session.execute(
        sa.select(sa.func.count()).where(supporter_t.c.contact_digest == digest)
    ).scalar_one()
    assert left == 0
    # Her report keeps its content but no longer her contact; the other reporter's stays.
    stored = dict(session.execute(sa.select(report_t.c.id, report_t.c.contact_encrypted)).all())
    assert stored[world.report.id] is None
    cipher = FieldCipher(get_settings().secret_key)
    assert cipher.decrypt(stored[world.other_report.id]) == "sari@example.com"
    # The email waiting for her is gone; what was already sent, and others' mail, stay.
    messages = set(session.execute(sa.select(outbox_t.c.id)).scalars())
    assert messages == {world.sent, world.other_message}
    # Her staff account is kept, for an administrator to deal with on its own page.
    assert accounts.get_by_email(session, EMAIL) is not None

    done = html(admin.get(location))
    summary = one(done, "section.erasure")
    assert one(summary, "[data-erased=supporters]").get_text(strip=True) == (
        "2 signatures withdrawn"
    )
    assert one(summary, "[data-erased=reports]").get_text(strip=True) == (
        "1 contact removed from hoax reports"
    )
    assert one(summary, "[data-erased=messages]").get_text(strip=True) == "1 unsent email deleted"
    staff_link = one(summary, "ul.staff-links a")
    assert staff_link["href"] == f"/admin/users/{world.staff.id}"

    # Searching again finds only what stays: the account and the email already sent.
    again = search(admin, EMAIL)
    assert found_campaigns(again) == {}
    assert again.select("table.found-reports") == []
    assert [str(r["data-message"]) for r in again.select("table.found-messages tbody tr")] == [
        str(world.sent)
    ]


def test_erasure_by_phone_number_withdraws_from_both_campaigns(
    admin: TestClient, session: Session, world: World
) -> None:
    totals = [counts(session, v)["total"] for v in (world.first, world.second)]
    response = post(admin, "/admin/contacts/erase", contact=PHONE_SPELLINGS[3], reason="Diminta")
    assert response.status_code == 303
    assert [counts(session, v)["total"] for v in (world.first, world.second)] == [
        totals[0] - 1,
        totals[1] - 1,
    ]
    # Rina and Sari are still there.
    names = set(session.execute(sa.select(supporter_t.c.display_name)).scalars())
    assert names == {"Rina Putri", "Rina P.", "Sari Dewi"}


def test_erasure_needs_a_reason(admin: TestClient, session: Session, world: World) -> None:
    before = counts(session, world.first)
    response = post(admin, "/admin/contacts/erase", contact=EMAIL, reason="   ")

    assert response.status_code == 422
    assert errors_of(response) == {"reason": "Give a reason for the audit log."}
    # What would be erased is shown again, beside the message.
    assert set(found_campaigns(html(response))) == {world.first.slug, world.second.slug}
    assert counts(session, world.first) == before


def test_the_page_after_an_erasure_ignores_a_made_up_reference(
    admin: TestClient, world: World
) -> None:
    for erased in ("999999", "abc", "1" * 40):
        response = admin.get("/admin/contacts", params={"erased": erased})
        assert response.status_code == 200
        assert html(response).select("section.erasure") == []


# --- the audit log ---------------------------------------------------------------------------


def test_every_request_is_audited_without_the_contact(
    admin: TestClient, session: Session, world: World
) -> None:
    search(admin, EMAIL_SPELLINGS[0])
    search(admin, PHONE_SPELLINGS[0])
    post(admin, "/admin/contacts/export", contact=EMAIL_SPELLINGS[1])
    response = post(
        admin,
        "/admin/contacts/erase",
        contact=EMAIL_SPELLINGS[2],
        # People write the contact into the reason, too: it is taken out.
        reason="Rina (Rina.Putri@Example.com, 0812 3456 7890) asked on 2026-11-02",
    )
    assert response.status_code == 303

    rows = privacy_events(session)
    reference = contact_digest(get_settings().secret_key, EMAIL)[:12]
    phone_reference = contact_digest(get_settings().secret_key, PHONE)[:12]
    assert [(row["action"], row["subject"]) for row in rows] == [
        ("privacy.search", f"contact:{reference}"),
        ("privacy.search", f"contact:{phone_reference}"),
        ("privacy.export", f"contact:{reference}"),
        ("privacy.erase", f"contact:{reference}"),
    ]
    assert all(row["actor_id"] == world.admin.id for row in rows)
    search_data = json.loads(rows[0]["data"])
    assert search_data == {
        "reference": reference,
        "supporters": 2,
        "campaigns": 2,
        "reports": 1,
        "staff": 1,
        "messages": 2,
    }
    erase_data = json.loads(rows[3]["data"])
    assert erase_data["withdrawn"] == 2
    assert erase_data["reporter_contacts"] == 1
    assert erase_data["messages_deleted"] == 1
    assert erase_data["staff_user_ids"] == [world.staff.id]
    assert rows[3]["reason"] == "Rina ([…], […]) asked on 2026-11-02"

    everything = json.dumps(audit_rows(session), default=str).lower()
    for written in (*EMAIL_SPELLINGS, *PHONE_SPELLINGS, EMAIL, PHONE, "81234567890"):
        assert written.strip().lower() not in everything


# --- refused requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/admin/contacts", "/admin/contacts/export", "/admin/contacts/erase"]
)
def test_a_form_without_its_csrf_token_is_refused(
    admin: TestClient, session: Session, world: World, path: str
) -> None:
    before = counts(session, world.first)
    response = admin.post(path, data={"contact": EMAIL, "reason": "Diminta"})

    assert response.status_code == 403
    assert "Reload the page and try again" in html(response).get_text()
    assert counts(session, world.first) == before
    assert privacy_events(session) == []


def test_a_partner_admin_cannot_erase_anyone(
    client: TestClient, session: Session, world: World
) -> None:
    org_admin = accounts.create(session, email="mitra@example.org", password=PASSWORD)
    session.commit()
    sign_in(client, org_admin)
    before = counts(session, world.first)
    response = client.post(
        "/admin/contacts/erase",
        data={"csrf_token": token_for_anyone(client), "contact": EMAIL, "reason": "Diminta"},
    )
    assert response.status_code == 403
    assert counts(session, world.first) == before


def token_for_anyone(client: TestClient) -> str:
    """The CSRF token of a page every signed-in person can open."""
    field = html(client.get("/account")).select_one("input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def test_the_service_refuses_a_bad_contact_without_touching_anything(
    session: Session, world: World
) -> None:
    with pytest.raises(Invalid) as refused:
        privacy.erase(session, actor=world.admin, form=ErasureForm(contact="", reason=""))
    assert set(refused.value.errors) == {"contact", "reason"}
