"""The rules of the hoaxes service, below the pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.errors import Conflict, Invalid
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase, HoaxReport
from pledge.security import FieldCipher
from tests.support.db import count
from tests.support.factories import MakeReport, MakeUser
from tests.support.forms import report_fields

MakeCampaign = Callable[..., CampaignView]


def form(**fields: object) -> hoaxes.ReportForm:
    values: dict[str, object] = dict(report_fields())
    values.update(fields)
    return hoaxes.ReportForm(**values)  # type: ignore[arg-type]


def test_tracking_codes_are_short_unambiguous_and_random() -> None:
    codes = {hoaxes.new_tracking_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 10
        assert set(code) <= set(hoaxes.CODE_ALPHABET)
    assert not set(hoaxes.CODE_ALPHABET) & set("0oO1lIi")


def test_every_report_gets_its_own_code(
    make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    view = make_campaign()
    reports = [make_report(view) for _ in range(5)]
    assert len({r.tracking_code for r in reports}) == 5
    assert len({r.case_id for r in reports}) == 1


def test_the_contact_is_encrypted_and_normalised(
    make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    view = make_campaign()
    report = make_report(view, contact="  Rina@Example.COM ")
    assert report.contact_encrypted is not None
    assert "rina" not in report.contact_encrypted.lower()
    cipher = FieldCipher(get_settings().secret_key)
    # As the reporter gave it (trimmed, the domain lower-cased): the address written to.
    assert cipher.decrypt(report.contact_encrypted) == "Rina@example.com"
    assert make_report(view, contact="").contact_encrypted is None


def test_a_closed_campaign_takes_no_reports(make_campaign: MakeCampaign, session: Session) -> None:
    view = make_campaign(status="closed")
    with pytest.raises(Conflict):
        hoaxes.submit(session, view=view, form=form())
    assert count(session, HoaxReport) == 0


def test_the_honeypot_stores_nothing(make_campaign: MakeCampaign, session: Session) -> None:
    view = make_campaign()
    assert hoaxes.submit(session, view=view, form=form(website="x")) is None
    assert count(session, HoaxReport) == count(session, HoaxCase) == 0


def test_all_messages_at_once(make_campaign: MakeCampaign, session: Session) -> None:
    view = make_campaign()
    with pytest.raises(Invalid) as raised:
        hoaxes.submit(
            session,
            view=view,
            form=form(url="", platform="", category="", province="XX", contact="?", consent=""),
        )
    assert set(raised.value.errors) == {
        "url",
        "platform",
        "category",
        "province",
        "contact",
        "consent",
    }


def test_description_keeps_line_breaks_but_not_control_characters(
    make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    view = make_campaign()
    report = make_report(view, description="  baris satu\r\nbaris\x00 dua\x1b  ")
    assert report.description == "baris satu\nbaris dua"


def test_moderator_org_ids(
    make_org: Callable[..., Organization], make_user: MakeUser, session: Session
) -> None:
    moderated, administered, elsewhere = make_org(), make_org(), make_org()
    user = make_user(org=moderated, role=Role.MODERATOR)
    accounts.add_member(session, user=user, org=administered, role=Role.ADMIN)
    session.commit()
    assert hoaxes.moderator_org_ids(session, user=user) == {
        moderated.id,
        administered.id,
    }
    assert elsewhere.id not in hoaxes.moderator_org_ids(session, user=user)
    assert hoaxes.moderator_org_ids(session, user=None) == frozenset()
    user.is_active = False
    assert hoaxes.moderator_org_ids(session, user=user) == frozenset()
