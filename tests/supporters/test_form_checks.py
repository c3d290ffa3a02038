"""The sign form as an object: read from the post, checked with the shared field checks, every
message at once in the same words, and nothing translated when nothing is wrong."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.datastructures import FormData

from pledge.campaigns.models import Campaign, CampaignView, PartnerView, Pledge
from pledge.errors import Invalid
from pledge.i18n import get_locale, set_locale
from pledge.supporters import service as supporters
from pledge.supporters.service import form as sign_form_module


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    before = get_locale()
    set_locale("en")
    yield
    set_locale(before)


@pytest.fixture
def view() -> CampaignView:
    return CampaignView(
        campaign=Campaign(id=1, slug="pemilu", title="Pemilu", lead_org_id=1),
        pledges=[
            Pledge(id=i, campaign_id=1, slug=f"janji-{i}", text="Janji", position=i) for i in (1, 2)
        ],
        partners=[
            PartnerView(
                id=7, slug="lbh", name="LBH", website=None, referral_code="kode7", is_lead=True
            )
        ],
    )


def test_the_sign_form_reads_the_post_as_the_public_contract_names_it() -> None:
    posted = FormData(
        [
            ("name", "Rina\x00Putri"),
            ("contact", "0812 3456 7890"),
            ("province", "ID-JK"),
            ("age_band", "20-24"),
            ("age_ok", "on"),
            ("consent", "on"),
            *[("pledges", f"janji-{i}" + "x" * 200) for i in range(60)],
            ("show_name", "on"),
            ("updates_org", "lbh"),
            ("ref", "r" * 100),
            ("invite", "i" * 100),
            ("website", ""),
            ("csrf_token", "t"),
        ]
    )
    form = supporters.SignForm.read(posted)
    assert form.name == "Rina Putri"
    assert form.contact == "0812 3456 7890"
    assert len(form.pledges) == 50
    assert all(len(slug) == 100 for slug in form.pledges)
    assert form.ref == "r" * 40
    assert form.invite == "i" * 40
    assert form.website == ""


def test_the_sign_form_gives_every_message_at_once(view: CampaignView) -> None:
    form = supporters.SignForm(
        name=" \x07 ",
        contact="bukan kontak",
        province="ID-XX",
        age_band="12-16",
        pledges=("janji-1", "tidak-ada"),
        updates_org="lain",
    )
    with pytest.raises(Invalid) as raised:
        form.check(view)
    assert raised.value.errors == {
        "name": "Enter your name.",
        "contact": "Enter an email address (like nama@contoh.id) or an Indonesian mobile "
        "number (like 0812 3456 7890).",
        "province": "Choose your province from the list.",
        "age_band": "Choose an age group from the list, or leave it empty.",
        "age_ok": "Confirm that you are 17 or older.",
        "consent": "Agree to the privacy notice to add your name.",
        "pledges": "One of the pledges you chose is not part of this campaign.",
        "updates_org": "Choose one of the partner organisations, or none.",
    }


def test_a_name_too_long_and_no_pledge(view: CampaignView) -> None:
    form = supporters.SignForm(
        name="x" * 81, contact="rina@example.com", province="ID-JK", age_ok="on", consent="on"
    )
    with pytest.raises(Invalid) as raised:
        form.check(view)
    assert raised.value.errors == {
        "name": "Your name can be at most 80 characters long.",
        "pledges": "Choose at least one pledge.",
    }


def test_a_good_form_is_cleaned_for_signing(view: CampaignView) -> None:
    form = supporters.SignForm(
        name="  Rina\t\n Putri\x1f ",
        contact="0812-3456-7890",
        province="ID-JK",
        age_ok="on",
        consent="on",
        pledges=("janji-2", "janji-1", "janji-2"),
        show_name="on",
        updates_org="lbh",
        ref="kode7",
        invite="abcd1234",
    )
    clean = form.check(view)
    assert clean == supporters.CleanSignature(
        display_name="Rina Putri",
        contact="+6281234567890",
        province="ID-JK",
        age_band=None,
        pledge_ids=(2, 1),
        show_name=True,
        referrer_id=7,
        updates_partner_id=7,
        invite="abcd1234",
    )
    assert clean.display_name == supporters.clean_name(form.name)


def test_checking_a_good_form_translates_no_message(
    view: CampaignView, monkeypatch: pytest.MonkeyPatch
) -> None:
    translated: list[str] = []

    def gettext(message: str) -> str:
        translated.append(message)
        return message

    monkeypatch.setattr(sign_form_module, "_", gettext)
    good = supporters.SignForm(
        name="Rina",
        contact="rina@example.com",
        province="ID-JK",
        age_ok="on",
        consent="on",
        pledges=("janji-1",),
    )
    good.check(view)
    assert translated == []
    with pytest.raises(Invalid):
        supporters.SignForm(name="Rina").check(view)
    assert "Choose your province from the list." in translated
