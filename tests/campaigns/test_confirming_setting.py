"""How a campaign's signatures are confirmed, chosen by its lead organisation's admins on the
edit page: email, WhatsApp or both, or counted without confirmation, which the public page
then says, and which is audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge.accounts.models import Organization
from pledge.audit import AuditAction, AuditEvent
from pledge.campaigns.models import Campaign, CampaignView, Confirming
from tests.support.factories import MakeCampaign
from tests.support.forms import form_data
from tests.support.pages import csrf_token, errors_of, html
from tests.support.people import sign_in


def edit_path(org: Organization, view: CampaignView) -> str:
    return f"/dashboard/{org.slug}/campaigns/{view.slug}/edit"


def shown(client: TestClient, org: Organization, view: CampaignView) -> dict[str, str]:
    """The edit form's values as the page shows them."""
    form = html(client.get(edit_path(org, view))).select_one("#campaign form")
    assert form is not None
    values: dict[str, str] = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        name = str(field["name"])
        if field.name == "textarea":
            values[name] = field.get_text()
        elif field.name == "select":
            chosen = field.select_one("option[selected]")
            values[name] = str(chosen["value"]) if chosen else ""
        elif name != "csrf_token":
            values[name] = str(field.get("value", ""))
    return values


def save(client: TestClient, org: Organization, view: CampaignView, **changes: str) -> Any:
    """Post the edit form as shown, changed as asked (a change of None leaves a field out)."""
    path = edit_path(org, view)
    data = {**shown(client, org, view), **changes, "csrf_token": csrf_token(client, path)}
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def stored(session: Session, view: CampaignView) -> Confirming:
    session.commit()
    session.expire_all()
    campaign = session.get(Campaign, view.id)
    assert campaign is not None
    return Confirming.of(campaign)


@pytest.fixture
def live(make_led: MakeCampaign) -> CampaignView:
    return make_led("live")


def test_the_edit_page_offers_the_four_ways_with_both_channels_chosen_at_first(
    manager: TestClient, lead: Organization, live: CampaignView
) -> None:
    page = html(manager.get(edit_path(lead, live)))

    select = page.select_one("select[name=confirming]")
    assert select is not None
    assert [str(o["value"]) for o in select.select("option")] == [c.value for c in Confirming]
    assert shown(manager, lead, live)["confirming"] == "email_whatsapp"
    label = page.select_one("label[for=confirming]")
    assert label is not None and label.get_text(strip=True)


@pytest.mark.parametrize(
    ("choice", "flags"),
    [
        ("email", (True, False, False)),
        ("whatsapp", (False, True, False)),
        ("unconfirmed", (True, True, True)),
        ("email_whatsapp", (True, True, False)),
    ],
)
def test_saving_a_way_stores_it(
    manager: TestClient,
    lead: Organization,
    live: CampaignView,
    session: Session,
    choice: str,
    flags: tuple[bool, bool, bool],
) -> None:
    response = save(manager, lead, live, confirming=choice)

    assert response.status_code == 303
    assert stored(session, live).flags == flags
    assert shown(manager, lead, live)["confirming"] == choice


def test_a_form_posted_without_the_field_keeps_the_way_it_had(
    manager: TestClient, lead: Organization, live: CampaignView, session: Session
) -> None:
    save(manager, lead, live, confirming="email")

    assert save(manager, lead, live, confirming=None).status_code == 303
    assert stored(session, live) == Confirming.EMAIL


def test_a_way_that_is_not_offered_is_refused_with_a_message(
    manager: TestClient, lead: Organization, live: CampaignView, session: Session
) -> None:
    response = save(manager, lead, live, confirming="nobody")

    assert response.status_code == 422
    assert errors_of(response)["confirming"]
    assert stored(session, live) == Confirming.EMAIL_OR_WHATSAPP


def test_counting_without_confirmation_is_audited_and_said_on_the_public_page(
    manager: TestClient,
    anonymous: TestClient,
    lead: Organization,
    live: CampaignView,
    session: Session,
    org_admin: Any,
) -> None:
    save(manager, lead, live, confirming="unconfirmed")

    note = html(anonymous.get(f"/c/{live.slug}")).select_one(".verification.unverified")
    assert note is not None and "belum terverifikasi" in note.get_text()
    session.commit()
    events = session.exec(
        select(AuditEvent).where(col(AuditEvent.action) == AuditAction.CAMPAIGN_CONFIRMING)
    ).all()
    assert len(events) == 1
    assert events[0].actor_id == org_admin.user.id
    assert json.loads(events[0].data)["to"] == "unconfirmed"
    # Saving again unchanged records nothing more.
    save(manager, lead, live)
    session.commit()
    assert (
        len(
            session.exec(
                select(AuditEvent).where(col(AuditEvent.action) == AuditAction.CAMPAIGN_CONFIRMING)
            ).all()
        )
        == 1
    )


def test_a_campaign_confirming_by_email_only_refuses_a_mobile_number_on_its_form(
    manager: TestClient, anonymous: TestClient, lead: Organization, live: CampaignView
) -> None:
    save(manager, lead, live, confirming="email")
    token = csrf_token(anonymous, f"/c/{live.slug}")

    refused = anonymous.post(
        f"/c/{live.slug}/sign", data={**form_data(contact="0812 3456 7890"), "csrf_token": token}
    )

    assert refused.status_code == 422
    assert "email" in errors_of(refused)["contact"]


def test_a_new_campaign_may_be_created_confirming_by_whatsapp_only(
    manager: TestClient, lead: Organization, session: Session
) -> None:
    path = f"/dashboard/{lead.slug}/campaigns"
    token = csrf_token(manager, f"{path}/new")
    response = manager.post(
        path,
        data={
            "title": "Lewat WhatsApp",
            "slug": "lewat-whatsapp",
            "goal": "100",
            "locale": "id",
            "confirming": "whatsapp",
            "csrf_token": token,
        },
    )

    assert response.status_code == 303
    session.commit()
    campaign = session.exec(select(Campaign).where(Campaign.slug == "lewat-whatsapp")).one()
    assert Confirming.of(campaign) == Confirming.WHATSAPP


def test_only_the_lead_organisations_admins_may_change_it(
    client: TestClient,
    lead: Organization,
    live: CampaignView,
    session: Session,
    moderator: Any,
) -> None:
    signed_in = sign_in(client, moderator)
    token = csrf_token(signed_in, f"/c/{live.slug}")
    response = signed_in.post(
        edit_path(lead, live), data={"confirming": "unconfirmed", "csrf_token": token}
    )

    assert response.status_code in (403, 404)
    assert stored(session, live) == Confirming.EMAIL_OR_WHATSAPP
