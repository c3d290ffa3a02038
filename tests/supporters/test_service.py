"""The rules of signing: every supporter counted exactly once, and the counts kept true."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge import demo
from pledge.accounts.models import Organization
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignPartner, CampaignStatus, CampaignView, Pledge
from pledge.config import get_settings
from pledge.errors import Conflict, Invalid, NotFound
from pledge.i18n import get_locale, set_locale
from pledge.provinces import AGE_BANDS, PROVINCES
from pledge.security import FieldCipher, contact_digest
from pledge.supporters import service as supporters
from pledge.supporters.models import (
    TOTAL,
    Counts,
    Signature,
    Signing,
    SignOutcome,
    Supporter,
    Tally,
    partner_key,
    pledge_key,
)
from tests.support.factories import refresh
from tests.support.forms import sign_form

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Signing]

P1, P2, P3 = "tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages in the source language; the locale is put back afterwards."""
    before = get_locale()
    set_locale("en")
    yield
    set_locale(before)


# --- helpers -------------------------------------------------------------------------


def counts(session: Session, view: CampaignView) -> Counts:
    return supporters.read_counts(session, campaign_id=view.id)


def pledge_id(view: CampaignView, slug: str) -> int:
    pledge = view.pledge_by_slug(slug)
    assert pledge is not None and pledge.id is not None
    return pledge.id


def pledge_counts(session: Session, view: CampaignView) -> dict[str, int]:
    now = counts(session, view)
    return {p.slug: now.pledge(p.id) for p in view.pledges}


def partner_counts(session: Session, view: CampaignView) -> dict[str, int]:
    now = counts(session, view)
    return {p.slug: now.partner(p.id) for p in view.partners}


def supporter_rows(session: Session, view: CampaignView | None = None) -> list[Supporter]:
    query = select(Supporter).order_by(col(Supporter.id))
    if view is not None:
        query = query.where(Supporter.campaign_id == view.id)
    session.expire_all()
    return list(session.exec(query))


def signature_rows(session: Session) -> list[tuple[int, int]]:
    rows = session.exec(select(Signature.supporter_id, Signature.pledge_id)).all()
    return sorted((s, p) for s, p in rows)


def tally_rows(session: Session) -> list[tuple[int, str, int, int]]:
    rows = session.exec(select(Tally.campaign_id, Tally.key, Tally.shard, Tally.value)).all()
    return sorted((c, k, s, v) for c, k, s, v in rows)


def assert_nothing_stored(session: Session) -> None:
    assert supporter_rows(session) == []
    assert signature_rows(session) == []
    assert tally_rows(session) == []


def tamper(session: Session, view: CampaignView, key: str, delta: int) -> None:
    """Change one shard of one counter behind the service's back."""
    tally_id = session.execute(
        sa.select(sa.func.min(Tally.__table__.c.id)).where(  # type: ignore[attr-defined]
            Tally.__table__.c.campaign_id == view.id,  # type: ignore[attr-defined]
            Tally.__table__.c.key == key,  # type: ignore[attr-defined]
        )
    ).scalar_one()
    assert tally_id is not None, f"no tally row for {key}"
    session.execute(
        sa.text("UPDATE tally SET value = value + :delta WHERE id = :id"),
        {"delta": delta, "id": tally_id},
    )
    session.commit()


# --- a new supporter -----------------------------------------------------------------


def test_a_new_supporter_is_counted_once_everywhere(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign(partners=2)
    referrer = view.partners[1]

    signing = sign(view, pledges=(P1, P3), ref=referrer.referral_code)

    assert signing.outcome == SignOutcome.NEW
    assert signing.supporter is not None
    assert signing.added == (P1, P3)
    now = counts(session, view)
    assert now.total == 1
    assert pledge_counts(session, view) == {P1: 1, P2: 0, P3: 1}
    assert partner_counts(session, view) == {
        p.slug: (1 if p.id == referrer.id else 0) for p in view.partners
    }
    (row,) = supporter_rows(session, view)
    assert row.id == signing.supporter.id
    assert row.token == signing.supporter.token
    assert row.referrer_id == referrer.id
    assert row.display_name == "Rina Putri"
    assert row.province == "ID-JK"
    assert row.show_name is False
    assert signature_rows(session) == sorted(
        [(row.id, pledge_id(view, P1)), (row.id, pledge_id(view, P3))]
    )


def test_the_supporter_is_known_by_a_digest_not_by_their_contact(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, contact="0812 3456 7890")
    (row,) = supporter_rows(session, view)
    assert row.contact_digest == contact_digest(get_settings().secret_key, "+6281234567890")
    stored = " ".join(str(value) for value in row.model_dump().values())
    assert "81234567890" not in stored
    assert row.contact_encrypted is None


def test_the_name_is_tidied_and_the_age_band_kept(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, name="  Rina \t\n  Putri\x00 ", age_band="20-24", show_name="on")
    (row,) = supporter_rows(session, view)
    assert row.display_name == "Rina Putri"
    assert row.age_band == "20-24"
    assert row.show_name is True


def test_an_empty_age_band_is_stored_as_none(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, age_band="")
    assert supporter_rows(session, view)[0].age_band is None


def test_a_name_of_80_characters_is_accepted(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, name="R" * 80)
    assert supporter_rows(session, view)[0].display_name == "R" * 80


def test_supporters_are_numbered_in_order(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    for contact in ("satu@example.com", "0812 1111 2222", "tiga@example.com"):
        assert sign(view, contact=contact).outcome == SignOutcome.NEW
    sign(view, contact="SATU@example.com", pledges=(P1, P2))  # returning: no new number
    assert [row.number for row in supporter_rows(session, view)] == [1, 2, 3]
    assert counts(session, view).total == 3


def test_repeated_pledges_in_one_form_count_once(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    signing = sign(view, pledges=(P2, P2, P2))
    assert signing.added == (P2,)
    assert pledge_counts(session, view) == {P1: 0, P2: 1, P3: 0}


# --- the same person again -----------------------------------------------------------


@pytest.mark.parametrize(
    "again",
    [
        "0812 3456 7890",
        "081234567890",
        "62812-3456-7890",
        "+6281234567890",
        "+62 812-3456-7890",
        " 0812-3456-7890 ",
    ],
)
def test_the_same_phone_written_differently_is_one_supporter(
    make_campaign: MakeCampaign, session: Session, sign: Sign, again: str
):
    view = make_campaign()
    first = sign(view, contact="0812 3456 7890")
    second = sign(view, contact=again, name="Rina P.")
    assert second.outcome == SignOutcome.UNCHANGED
    assert second.supporter is not None and first.supporter is not None
    assert second.supporter.id == first.supporter.id
    assert second.supporter.token == first.supporter.token
    assert counts(session, view).total == 1
    assert len(supporter_rows(session, view)) == 1


def test_a_phone_in_brackets_with_dots_is_the_same_supporter(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, contact="0812 3456 7890")
    again = sign(view, contact="(0812) 3456.7890")
    assert again.outcome == SignOutcome.UNCHANGED
    assert counts(session, view).total == 1


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("Rina@Example.com ", "rina@example.com"),
        ("rina@example.com", "  RINA@EXAMPLE.COM"),
        ("rina@example.com", "Rina@example.COM\t"),
    ],
)
def test_the_same_email_written_differently_is_one_supporter(
    make_campaign: MakeCampaign, session: Session, sign: Sign, first: str, again: str
):
    view = make_campaign()
    sign(view, contact=first)
    assert sign(view, contact=again).outcome == SignOutcome.UNCHANGED
    assert counts(session, view).total == 1
    assert len(supporter_rows(session, view)) == 1


def test_signing_again_with_an_extra_pledge_adds_only_that_pledge(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign(partners=2)
    first_ref, other_ref = view.partners[1], view.partners[2]
    sign(view, contact="0812 3456 7890", pledges=(P1,), ref=first_ref.referral_code)

    again = sign(view, contact="+62 812 3456 7890", pledges=(P1, P2), ref=other_ref.referral_code)

    assert again.outcome == SignOutcome.ADDED
    assert again.added == (P2,)
    assert counts(session, view).total == 1
    assert pledge_counts(session, view) == {P1: 1, P2: 1, P3: 0}
    # The partner who brought the supporter keeps the credit; the second link earns none.
    assert partner_counts(session, view)[first_ref.slug] == 1
    assert partner_counts(session, view)[other_ref.slug] == 0
    assert len(supporter_rows(session, view)) == 1
    assert len(signature_rows(session)) == 2


def test_signing_again_with_every_pledge_adds_the_missing_ones(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, pledges=(P2,))
    again = sign(view, pledges=(P3, P2, P1))
    assert again.outcome == SignOutcome.ADDED
    assert set(again.added) == {P1, P3}
    assert pledge_counts(session, view) == {P1: 1, P2: 1, P3: 1}
    assert counts(session, view).total == 1


@pytest.mark.parametrize("again", [(P1, P2), (P2, P1), (P1,), (P2,)])
def test_signing_again_with_the_same_pledges_changes_nothing(
    make_campaign: MakeCampaign, session: Session, sign: Sign, again: tuple[str, ...]
):
    view = make_campaign(partners=1)
    sign(view, pledges=(P1, P2), ref=view.partners[1].referral_code)
    before = (counts(session, view).by_key, tally_rows(session), signature_rows(session))

    signing = sign(view, pledges=again, ref=view.partners[1].referral_code)

    assert signing.outcome == SignOutcome.UNCHANGED
    assert signing.added == ()
    assert (counts(session, view).by_key, tally_rows(session), signature_rows(session)) == before
    assert len(supporter_rows(session, view)) == 1


# --- the honeypot --------------------------------------------------------------------


def test_a_filled_honeypot_stores_nothing(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    signing = sign(view, website="https://spam.example.com", ref=view.partners[1].referral_code)
    assert signing.outcome == SignOutcome.NEW
    assert signing.supporter is None
    assert signing.added == ()
    assert_nothing_stored(session)
    assert counts(session, view).total == 0


def test_a_filled_honeypot_does_not_touch_an_existing_supporter(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, pledges=(P1,))
    before = (tally_rows(session), signature_rows(session))
    signing = sign(view, pledges=(P1, P2, P3), website="x")
    assert signing.supporter is None
    assert (tally_rows(session), signature_rows(session)) == before


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"name": ""}, "name", id="name-empty"),
        pytest.param({"name": "  \t "}, "name", id="name-blank"),
        pytest.param({"name": "R" * 81}, "name", id="name-too-long"),
        pytest.param({"contact": ""}, "contact", id="contact-empty"),
        pytest.param({"contact": "021 555 1234"}, "contact", id="contact-landline"),
        pytest.param({"contact": "+1 415 555 2671"}, "contact", id="contact-foreign"),
        pytest.param({"contact": "a@b"}, "contact", id="contact-bad-email"),
        pytest.param({"province": ""}, "province", id="province-empty"),
        pytest.param({"province": "ID-XX"}, "province", id="province-unknown"),
        pytest.param({"province": "DKI Jakarta"}, "province", id="province-name-not-code"),
        pytest.param({"province": "id-jk"}, "province", id="province-lower-case"),
        pytest.param({"age_band": "16"}, "age_band", id="age-band-unknown"),
        pytest.param({"age_ok": ""}, "age_ok", id="age-ok-missing"),
        pytest.param({"consent": ""}, "consent", id="consent-missing"),
        pytest.param({"pledges": ()}, "pledges", id="no-pledge"),
        pytest.param({"pledges": ("bukan-janji",)}, "pledges", id="pledge-unknown"),
        pytest.param({"pledges": (P1, "bukan-janji")}, "pledges", id="pledge-one-unknown"),
        pytest.param({"updates_org": "tidak-ada"}, "updates_org", id="updates-org-unknown"),
    ],
)
def test_each_bad_field_is_refused_and_nothing_is_stored(
    make_campaign: MakeCampaign, session: Session, sign: Sign, fields: dict[str, Any], field: str
):
    view = make_campaign()
    with pytest.raises(Invalid) as caught:
        sign(view, **fields)
    assert set(caught.value.errors) == {field}
    assert caught.value.errors[field].strip()
    assert caught.value.detail == caught.value.errors[field]
    assert_nothing_stored(session)


def test_several_bad_fields_are_reported_together(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    with pytest.raises(Invalid) as caught:
        sign(view, name="", contact="halo", province="", age_ok="", consent="", pledges=())
    assert set(caught.value.errors) == {
        "name",
        "contact",
        "province",
        "age_ok",
        "consent",
        "pledges",
    }
    assert_nothing_stored(session)


def test_messages_say_what_is_wrong(make_campaign: MakeCampaign, sign: Sign):
    view = make_campaign()
    with pytest.raises(Invalid) as caught:
        sign(view, name="", contact="021 555 1234", consent="", pledges=())
    errors = caught.value.errors
    assert errors["name"] == "Enter your name."
    assert "mobile number" in errors["contact"]
    assert "privacy notice" in errors["consent"]
    assert errors["pledges"] == "Choose at least one pledge."


def test_a_pledge_of_another_campaign_is_unknown_here(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    here = make_campaign(pledges=(P1,))
    make_campaign(pledges=("hanya-di-sana",))
    with pytest.raises(Invalid) as caught:
        sign(here, pledges=("hanya-di-sana",))
    assert set(caught.value.errors) == {"pledges"}
    assert_nothing_stored(session)


def test_there_are_38_provinces_and_each_is_accepted(make_campaign: MakeCampaign):
    view = make_campaign()
    assert len(PROVINCES) == 38
    for code in PROVINCES:
        assert sign_form(province=code).check(view).province == code


@pytest.mark.parametrize("band", AGE_BANDS)
def test_each_age_band_is_accepted(make_campaign: MakeCampaign, band: str):
    view = make_campaign()
    assert sign_form(age_band=band).check(view).age_band == band


def test_an_unknown_referral_code_is_ignored(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign(partners=2)
    signing = sign(view, ref="zzzzzzzz")
    assert signing.outcome == SignOutcome.NEW
    assert supporter_rows(session, view)[0].referrer_id is None
    assert counts(session, view).total == 1
    assert set(partner_counts(session, view).values()) == {0}


def test_a_referral_code_of_another_campaign_is_ignored(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    here, there = make_campaign(partners=1), make_campaign(partners=1)
    sign(here, ref=there.partners[1].referral_code)
    assert supporter_rows(session, here)[0].referrer_id is None
    assert counts(session, there).by_key == {}


@pytest.mark.parametrize("status", ["closed", "draft"])
def test_a_campaign_that_is_not_live_refuses_signatures(
    make_campaign: MakeCampaign, session: Session, sign: Sign, status: str
):
    view = make_campaign(status=status)
    assert view.campaign.status == status
    with pytest.raises(Conflict):
        sign(view)
    assert_nothing_stored(session)


def test_a_campaign_closed_after_a_signature_refuses_the_next(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, contact="satu@example.com")
    campaign = session.get(Campaign, view.id)
    assert campaign is not None
    campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
    session.commit()
    with pytest.raises(Conflict):
        sign(refresh(session, view), contact="dua@example.com")
    assert counts(session, view).total == 1


# --- updates from a partner ----------------------------------------------------------


def test_asking_a_partner_for_updates_keeps_the_contact_encrypted(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign(partners=2)
    partner = view.partners[2]
    sign(view, contact="+62 812-3456-7890", updates_org=partner.slug)
    (row,) = supporter_rows(session, view)
    assert row.updates_partner_id == partner.id
    assert row.contact_encrypted is not None
    assert "81234567890" not in row.contact_encrypted
    cipher = FieldCipher(get_settings().secret_key)
    assert cipher.decrypt(row.contact_encrypted) == "+6281234567890"


def test_an_email_for_updates_is_stored_as_given(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, contact=" Rina@Example.com", updates_org=view.partners[0].slug)
    (row,) = supporter_rows(session, view)
    cipher = FieldCipher(get_settings().secret_key)
    assert row.contact_encrypted is not None
    # Kept as she gave it (trimmed, the domain lower-cased): the partner writes to that.
    assert cipher.decrypt(row.contact_encrypted) == "Rina@example.com"


def test_without_updates_no_contact_is_kept(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    sign(view, contact="0812 3456 7890")
    (row,) = supporter_rows(session, view)
    assert row.contact_encrypted is None
    assert row.updates_partner_id is None


# --- the public list -----------------------------------------------------------------


def test_list_recent_public_shows_first_names_of_those_who_chose_it(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view, other = make_campaign(), make_campaign()
    sign(view, name="Rina Putri", contact="rina@example.com", province="ID-JK", show_name="on")
    sign(view, name="Budi Santoso", contact="budi@example.com", province="ID-JB", show_name="")
    sign(view, name="Siti Nur Aisyah", contact="siti@example.com", province="ID-BA", show_name="on")
    sign(other, name="Dewi Lestari", contact="dewi@example.com", province="ID-YO", show_name="on")

    recent = supporters.list_recent_public(session, campaign_id=view.id)

    assert [(s.first_name, s.province) for s in recent] == [
        ("Siti", "Bali"),
        ("Rina", "DKI Jakarta"),
    ]
    assert [
        (s.first_name, s.province)
        for s in supporters.list_recent_public(session, campaign_id=other.id)
    ] == [("Dewi", "DI Yogyakarta")]


def test_list_recent_public_is_limited_and_newest_first(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    for n in range(5):
        sign(view, name=f"Orang{n} Baik", contact=f"orang{n}@example.com", show_name="on")
    recent = supporters.list_recent_public(session, campaign_id=view.id, limit=3)
    assert [s.first_name for s in recent] == ["Orang4", "Orang3", "Orang2"]


# --- withdrawal ----------------------------------------------------------------------


def test_withdraw_removes_the_supporter_and_every_count(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign(partners=2)
    referrer = view.partners[1]
    leaving = sign(view, contact="pergi@example.com", pledges=(P1, P2), ref=referrer.referral_code)
    staying = sign(view, contact="tinggal@example.com", pledges=(P1,), ref=referrer.referral_code)
    assert leaving.supporter is not None and staying.supporter is not None
    assert counts(session, view).total == 2

    supporters.withdraw(session, campaign=view.campaign, token=leaving.supporter.token)

    assert counts(session, view).total == 1
    assert pledge_counts(session, view) == {P1: 1, P2: 0, P3: 0}
    assert partner_counts(session, view)[referrer.slug] == 1
    assert [row.id for row in supporter_rows(session, view)] == [staying.supporter.id]
    assert signature_rows(session) == [(staying.supporter.id, pledge_id(view, P1))]
    assert supporters.reconcile(session) == []

    with pytest.raises(NotFound):
        supporters.withdraw(session, campaign=view.campaign, token=leaving.supporter.token)
    assert counts(session, view).total == 1


def test_a_withdrawn_supporter_can_sign_again_as_new(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    first = sign(view)
    assert first.supporter is not None
    supporters.withdraw(session, campaign=view.campaign, token=first.supporter.token)
    assert counts(session, view).total == 0
    again = sign(view)
    assert again.outcome == SignOutcome.NEW
    assert again.supporter is not None
    assert again.supporter.token != first.supporter.token
    assert counts(session, view).total == 1


def test_withdraw_with_another_campaign_or_a_bad_token_is_not_found(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view, other = make_campaign(), make_campaign()
    signing = sign(view)
    assert signing.supporter is not None
    with pytest.raises(NotFound):
        supporters.withdraw(session, campaign=other.campaign, token=signing.supporter.token)
    for token in ("", "pendek", "x" * 33, "y" * 20):
        with pytest.raises(NotFound):
            supporters.withdraw(session, campaign=view.campaign, token=token)
    assert counts(session, view).total == 1
    assert len(supporter_rows(session, view)) == 1


# --- reconciling ---------------------------------------------------------------------


def test_reconcile_reports_nothing_when_the_counts_agree(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign(partners=1)
    sign(view, contact="satu@example.com", pledges=(P1, P2), ref=view.partners[1].referral_code)
    sign(view, contact="dua@example.com", pledges=(P3,))
    before = counts(session, view).by_key
    assert supporters.reconcile(session) == []
    assert counts(session, view).by_key == before


def test_reconcile_repairs_a_tampered_total(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    for n in range(3):
        sign(view, contact=f"orang{n}@example.com")
    tamper(session, view, TOTAL, +5)
    assert counts(session, view).total == 8

    fixes = supporters.reconcile(session)

    assert fixes == [supporters.TallyFix(campaign=view.slug, key=TOTAL, was=8, now=3)]
    assert counts(session, view).total == 3
    assert supporters.reconcile(session) == []


def test_reconcile_repairs_counts_after_a_signature_is_deleted(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    view = make_campaign()
    signing = sign(view, pledges=(P1, P2))
    sign(view, contact="dua@example.com", pledges=(P2,))
    assert signing.supporter is not None
    session.execute(
        sa.delete(Signature.__table__).where(  # type: ignore[attr-defined]
            Signature.__table__.c.supporter_id == signing.supporter.id,  # type: ignore[attr-defined]
            Signature.__table__.c.pledge_id == pledge_id(view, P2),  # type: ignore[attr-defined]
        )
    )
    session.commit()

    fixes = supporters.reconcile(session)

    assert fixes == [
        supporters.TallyFix(campaign=view.slug, key=pledge_key(pledge_id(view, P2)), was=2, now=1)
    ]
    assert pledge_counts(session, view) == {P1: 1, P2: 1, P3: 0}
    assert counts(session, view).total == 2


def test_reconcile_restores_deleted_tallies_and_fixes_only_what_is_wrong(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    broken, fine = make_campaign(partners=1), make_campaign(partners=1)
    referrer = broken.partners[1]
    sign(broken, pledges=(P1,), ref=referrer.referral_code)
    sign(fine, pledges=(P1,), ref=fine.partners[1].referral_code)
    fine_before = counts(session, fine).by_key
    session.execute(
        sa.delete(Tally.__table__).where(  # type: ignore[attr-defined]
            Tally.__table__.c.campaign_id == broken.id,  # type: ignore[attr-defined]
            Tally.__table__.c.key == partner_key(referrer.id),  # type: ignore[attr-defined]
        )
    )
    session.commit()
    tamper(session, broken, pledge_key(pledge_id(broken, P1)), -1)

    fixes = supporters.reconcile(session)

    assert sorted(fixes, key=lambda fix: fix.key) == sorted(
        [
            supporters.TallyFix(broken.slug, partner_key(referrer.id), was=0, now=1),
            supporters.TallyFix(broken.slug, pledge_key(pledge_id(broken, P1)), was=0, now=1),
        ],
        key=lambda fix: fix.key,
    )
    assert counts(session, broken).by_key == {
        TOTAL: 1,
        pledge_key(pledge_id(broken, P1)): 1,
        partner_key(referrer.id): 1,
    }
    assert counts(session, fine).by_key == fine_before


def test_reconcile_refreshes_the_cached_counts(
    make_campaign: MakeCampaign, session: Session, sign: Sign, long_cache: None
):
    view = make_campaign()
    sign(view)
    tamper(session, view, TOTAL, +4)
    assert supporters.get_counts(session, campaign_id=view.id).total == 5  # cached, wrong

    assert supporters.reconcile(session) != []

    assert supporters.get_counts(session, campaign_id=view.id).total == 1


# --- the counts cache ----------------------------------------------------------------


@pytest.fixture
def long_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep cached counts for an hour, so that no test depends on the clock."""
    monkeypatch.setattr(get_settings(), "tally_cache_seconds", 3600.0)


def test_get_counts_is_served_from_the_cache_until_invalidated(
    make_campaign: MakeCampaign, session: Session, sign: Sign, long_cache: None
):
    view = make_campaign()
    sign(view)
    assert supporters.get_counts(session, campaign_id=view.id).total == 1

    tamper(session, view, TOTAL, +10)

    assert supporters.get_counts(session, campaign_id=view.id).total == 1
    assert supporters.read_counts(session, campaign_id=view.id).total == 11
    supporters.invalidate_counts(view.id)
    assert supporters.get_counts(session, campaign_id=view.id).total == 11


def test_invalidating_another_campaign_keeps_this_cache(
    make_campaign: MakeCampaign, session: Session, sign: Sign, long_cache: None
):
    view, other = make_campaign(), make_campaign()
    sign(view)
    assert supporters.get_counts(session, campaign_id=view.id).total == 1
    tamper(session, view, TOTAL, +10)
    supporters.invalidate_counts(other.id)
    assert supporters.get_counts(session, campaign_id=view.id).total == 1
    supporters.invalidate_counts()
    assert supporters.get_counts(session, campaign_id=view.id).total == 11


def test_signing_and_withdrawing_refresh_the_cache(
    make_campaign: MakeCampaign, session: Session, sign: Sign, long_cache: None
):
    view = make_campaign()
    assert supporters.get_counts(session, campaign_id=view.id).total == 0
    signing = sign(view)
    assert supporters.get_counts(session, campaign_id=view.id).total == 1
    assert signing.supporter is not None
    supporters.withdraw(session, campaign=view.campaign, token=signing.supporter.token)
    assert supporters.get_counts(session, campaign_id=view.id).total == 0


def test_a_zero_cache_time_always_reads_fresh(
    make_campaign: MakeCampaign, session: Session, sign: Sign, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(get_settings(), "tally_cache_seconds", 0.0)
    view = make_campaign()
    sign(view)
    assert supporters.get_counts(session, campaign_id=view.id).total == 1
    tamper(session, view, TOTAL, +2)
    assert supporters.get_counts(session, campaign_id=view.id).total == 3


# --- two campaigns -------------------------------------------------------------------


def test_counts_never_leak_between_campaigns(
    make_campaign: MakeCampaign, session: Session, sign: Sign
):
    one, two = make_campaign(partners=1), make_campaign(partners=1)
    # The same person may support both campaigns, and is counted once in each.
    for view in (one, two):
        signing = sign(view, contact="0812 3456 7890", pledges=(P1,))
        assert signing.outcome == SignOutcome.NEW
    sign(one, contact="dua@example.com", pledges=(P2, P3), ref=one.partners[1].referral_code)
    sign(one, contact="tiga@example.com", pledges=(P3,))

    assert counts(session, one).total == 3
    assert counts(session, two).total == 1
    assert pledge_counts(session, one) == {P1: 1, P2: 1, P3: 2}
    assert pledge_counts(session, two) == {P1: 1, P2: 0, P3: 0}
    assert partner_counts(session, one)[one.partners[1].slug] == 1
    assert set(partner_counts(session, two).values()) == {0}

    own_keys_two = {TOTAL} | {pledge_key(p.id or 0) for p in two.pledges}
    own_keys_two |= {partner_key(p.id) for p in two.partners}
    assert set(counts(session, two).by_key) <= own_keys_two
    assert [p.first_name for p in supporters.list_recent_public(session, campaign_id=two.id)] == []

    first = supporter_rows(session, one)[0]
    supporters.withdraw(session, campaign=one.campaign, token=first.token)
    assert counts(session, one).total == 2
    assert counts(session, two).total == 1
    assert supporters.reconcile(session) == []


# --- the demo ------------------------------------------------------------------------


def _row_counts(session: Session) -> dict[str, int]:
    tables = (Organization, Campaign, Pledge, CampaignPartner, Supporter, Signature)
    return {
        table.__name__: session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in tables
    }


def test_the_demo_is_a_live_campaign_with_three_pledges_and_five_partners(session: Session):
    demo.seed(session, supporters_count=12)
    view = campaigns.get_view(session, slug=demo.CAMPAIGN_SLUG)
    assert view.campaign.status == CampaignStatus.LIVE
    assert [p.slug for p in view.pledges] == [P1, P2, P3]
    assert len(view.partners) == 5
    assert view.lead is not None and view.lead.slug == "jaringan-pemilih-muda"
    assert counts(session, view).total == 12
    assert len(supporter_rows(session, view)) == 12
    assert supporters.reconcile(session) == []


def test_each_demo_partner_has_its_referral_code_the_lead_included(session: Session):
    demo.seed(session, supporters_count=0)
    view = campaigns.get_view(session, slug=demo.CAMPAIGN_SLUG)
    assert {p.slug: p.referral_code for p in view.partners} == {
        slug: code for slug, _name, _website, code in demo.ORGANIZATIONS
    }


def test_the_demo_seeded_twice_gives_the_same_counts_and_rows(session: Session):
    demo.seed(session, supporters_count=12)
    view = campaigns.get_view(session, slug=demo.CAMPAIGN_SLUG)
    first_counts, first_rows = counts(session, view).by_key, _row_counts(session)
    first_people = [(r.display_name, r.contact_digest) for r in supporter_rows(session, view)]

    demo.seed(session, supporters_count=12)

    assert counts(session, view).by_key == first_counts
    assert _row_counts(session) == first_rows
    assert [
        (r.display_name, r.contact_digest) for r in supporter_rows(session, view)
    ] == first_people
    assert first_rows["Campaign"] == 1
    assert first_rows["Organization"] == 5
    assert first_rows["Supporter"] == 12
