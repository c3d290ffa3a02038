"""Signatures over the per-address signing limit: held for review (in no count) and answered
like any other, refused only over the hard limit; limits that count an IPv6 client by its
/64; and where each signature came from, kept for the abuse console until retention."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.db import utcnow, writing
from pledge.networks import limit_key, recorded_network
from pledge.supporters import service as supporters
from pledge.supporters.models import (
    PENDING,
    SUSPECT,
    TOTAL,
    SignOutcome,
    SupporterState,
    confirmation_table,
    supporter_table,
)
from pledge.supporters.service.origins import email_domain_of
from tests.support.forms import form_data, sign_form
from tests.support.pages import csrf_token, html
from tests.support.settings import UseSettings
from tests.support.signing import emails_to, post_sign

MakeCampaign = Callable[..., CampaignView]
NewClient = Callable[..., TestClient]
P1 = "tolak-politik-uang"


def counts(session: Session, view: CampaignView) -> dict[str, int]:
    session.rollback()
    return supporters.read_counts(session, campaign_id=view.id).by_key


def exact(session: Session, view: CampaignView) -> None:
    """The tallies equal a recount from the rows."""
    session.rollback()
    stored = {k: v for k, v in counts(session, view).items() if v}
    assert stored == {
        k: v for k, v in supporters.true_counts(session, campaign_id=view.id).items() if v
    }


def rows(session: Session, view: CampaignView) -> list[Any]:
    session.rollback()
    return list(
        session.execute(
            sa.select(supporter_table)
            .where(supporter_table.c.campaign_id == view.id)
            .order_by(supporter_table.c.id)
        ).all()
    )


def state_of(session: Session, view: CampaignView, contact_name: str) -> SupporterState:
    found = [row for row in rows(session, view) if row.display_name == contact_name]
    assert len(found) == 1
    return SupporterState(found[0].state)


@pytest.fixture
def low_limits(use_settings: UseSettings) -> None:
    """Three signatures a minute per address, refused from the sixth."""
    use_settings(ratelimit_sign="3/minute", ratelimit_sign_hard="5/minute")


def at(new_client: NewClient, address: str) -> TestClient:
    return new_client(client=(address, 50000), lang="en")


def sign_from(client: TestClient, view: CampaignView, n: int, **fields: Any) -> Any:
    return post_sign(client, view, contact=f"orang{n}@example.com", name=f"Orang {n}", **fields)


# --- held, not refused ---------------------------------------------------------------------


@pytest.mark.usefixtures("low_limits")
def test_signatures_over_the_limit_are_held_for_review_and_over_the_hard_limit_refused(
    new_client: NewClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    client = at(new_client, "203.0.113.7")

    answers = [sign_from(client, view, n).status_code for n in range(6)]

    assert answers == [303, 303, 303, 303, 303, 429]
    states = [SupporterState(row.state) for row in rows(session, view)]
    assert states == [SupporterState.PENDING] * 3 + [SupporterState.SUSPECT] * 2
    assert counts(session, view)[PENDING] == 3
    assert counts(session, view)[SUSPECT] == 2
    assert counts(session, view).get(TOTAL, 0) == 0
    exact(session, view)


def _answer_and_page(client: TestClient, view: CampaignView, n: int) -> tuple[Any, ...]:
    response = sign_from(client, view, n)
    cookies = sorted(
        value.split("=", 1)[0]
        for key, value in response.headers.multi_items()
        if key == "set-cookie"
    )
    page = client.get(f"/c/{view.slug}/confirm")
    soup = html(page)
    for hidden in soup.select("input[name=csrf_token]"):
        hidden.decompose()
    section = soup.select_one("main")
    assert section is not None
    return (
        response.status_code,
        response.headers["location"],
        cookies,
        page.status_code,
        " ".join(section.get_text(" ").split()),
    )


def _email_shape(session: Session, n: int) -> tuple[str, str]:
    """The subject and body of the message to a signer, without its name, link and code."""
    (message,) = emails_to(session, f"orang{n}@example.com")
    body = message.body.replace(f"Orang {n}", "NAME")
    body = body.replace(message.code, "CODE").replace(message.confirm_path, "LINK")
    return message.subject, body


@pytest.mark.usefixtures("low_limits")
def test_a_held_signer_is_answered_shown_and_emailed_exactly_like_any_other(
    new_client: NewClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    client = at(new_client, "203.0.113.7")
    seen = [_answer_and_page(client, view, n) for n in range(4)]

    assert state_of(session, view, "Orang 0") == SupporterState.PENDING
    assert state_of(session, view, "Orang 3") == SupporterState.SUSPECT
    assert seen[3] == seen[0]
    assert seen[3][:2] == (303, f"/c/{view.slug}/confirm")
    assert _email_shape(session, 3) == _email_shape(session, 0)


@pytest.mark.usefixtures("low_limits")
def test_a_known_contact_signing_over_the_limit_changes_nothing_about_that_supporter(
    new_client: NewClient, session: Session, make_campaign: MakeCampaign, sign: Any
) -> None:
    view = make_campaign()
    sign(view, contact="tetap@example.com", name="Tetap Dihitung")  # counted
    sign(view, contact="menunggu@example.com", name="Masih Menunggu", confirmed=False)
    client = at(new_client, "203.0.113.7")
    for n in range(3):
        sign_from(client, view, n)

    again = [
        post_sign(client, view, contact="tetap@example.com", name="Tetap Dihitung"),
        post_sign(client, view, contact="menunggu@example.com", name="Masih Menunggu"),
    ]

    assert [answer.status_code for answer in again] == [303, 303]
    assert state_of(session, view, "Tetap Dihitung") == SupporterState.COUNTED
    assert state_of(session, view, "Masih Menunggu") == SupporterState.PENDING
    assert counts(session, view)[TOTAL] == 1
    assert counts(session, view).get(SUSPECT, 0) == 0
    exact(session, view)


def test_confirming_a_held_signature_marks_it_confirmed_and_keeps_it_out_of_the_count(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form(), suspect=True)
    assert signing.ticket is not None

    confirmed = supporters.confirm(session, link_digest=signing.ticket.link_digest)

    (row,) = rows(session, view)
    assert confirmed.outcome == SignOutcome.NEW  # told the same as a new supporter
    assert row.state == SupporterState.SUSPECT
    assert row.confirmed_at is not None
    assert row.number == 0
    assert counts(session, view)[SUSPECT] == 1
    assert counts(session, view).get(TOTAL, 0) == 0
    assert counts(session, view).get(f"pledge:{view.pledges[0].id}", 0) == 0
    assert supporters.signed_pledge_ids(session, supporter_id=row.id) == {view.pledges[0].id}
    exact(session, view)


def test_the_own_page_of_a_confirmed_held_signer_thanks_them_without_a_place(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form(name="Rina Putri"), suspect=True)
    assert signing.ticket is not None and signing.supporter is not None
    supporters.confirm(session, link_digest=signing.ticket.link_digest)

    client.cookies.set("lang", "en")
    page = client.get(f"/c/{view.slug}/thanks/{signing.supporter.token}?outcome=new")

    assert page.status_code == 200
    number = html(page).select_one("section.thanks p.number")
    assert number is not None
    assert number.get_text(strip=True) == f"Your signature for {view.campaign.title} is confirmed."


def test_where_a_campaign_counts_unconfirmed_signatures_a_held_one_is_not_counted(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(counts_unconfirmed=True)
    normal = supporters.sign(session, view=view, form=sign_form(contact="a@example.com"))
    held = supporters.sign(
        session, view=view, form=sign_form(contact="b@example.com"), suspect=True
    )

    # Both answered alike: the pledges taken at once, nothing left to confirm.
    assert held.added == normal.added == (view.pledges[0].slug,)
    assert counts(session, view)[TOTAL] == 1
    assert counts(session, view)[SUSPECT] == 1
    assert counts(session, view)[f"pledge:{view.pledges[0].id}"] == 1
    exact(session, view)


def test_retention_deletes_held_and_invalidated_signatures_never_confirmed(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    supporters.sign(session, view=view, form=sign_form(contact="a@example.com"), suspect=True)
    supporters.sign(session, view=view, form=sign_form(contact="b@example.com", name="Beta"))
    held_confirmed = supporters.sign(
        session, view=view, form=sign_form(contact="c@example.com"), suspect=True
    )
    assert held_confirmed.ticket is not None
    supporters.confirm(session, link_digest=held_confirmed.ticket.link_digest)
    run = supporters.start(
        session,
        view=view,
        found=supporters.Filter(name_pattern="beta"),
        reason="Nama palsu",
        actor_id=None,
    )
    supporters.advance(session, run_id=run.id or 0, runner=run.runner)
    with writing(session):
        session.execute(
            sa.update(supporter_table)
            .where(supporter_table.c.campaign_id == view.id)
            .values(created_at=utcnow() - timedelta(days=30))
        )

    deleted = supporters.delete_expired(session)

    assert deleted == 2
    left = rows(session, view)
    assert [(row.state, row.confirmed_at is not None) for row in left] == [
        (SupporterState.SUSPECT, True)
    ]
    exact(session, view)


# --- where signatures come from -------------------------------------------------------------


def test_a_signature_records_its_network_and_email_domain(
    new_client: NewClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    post_sign(at(new_client, "203.0.113.77"), view, contact="Rina@Bücher.Example", name="Satu")
    post_sign(at(new_client, "2001:db8:1:2:aaaa::9"), view, contact="0812 3456 7890", name="Dua")
    post_sign(at(new_client, "::ffff:198.51.100.20"), view, contact="x@CONTOH.id", name="Tiga")

    found = {row.display_name: (row.network, row.email_domain) for row in rows(session, view)}

    assert found == {
        "Satu": ("203.0.113.0/24", "xn--bcher-kva.example"),
        "Dua": ("2001:db8:1:2::/64", None),
        "Tiga": ("198.51.100.0/24", "contoh.id"),
    }


def test_retention_removes_where_a_signature_came_from_with_the_personal_data(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    supporters.sign(session, view=view, form=sign_form(), network="203.0.113.0/24")
    (before,) = rows(session, view)
    assert (before.network, before.email_domain) == ("203.0.113.0/24", "example.com")

    supporters.anonymise(session, campaign_id=view.id, now=utcnow())

    (after,) = rows(session, view)
    assert (after.network, after.email_domain, after.display_name) == (None, None, "")


@pytest.mark.parametrize(
    ("contact", "domain"),
    [
        ("rina@example.com", "example.com"),
        ("rina@EXAMPLE.com", "example.com"),
        ("rina@bücher.example", "xn--bcher-kva.example"),
        ("rina@xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("+6281234567890", None),
    ],
)
def test_an_email_domain_is_folded_to_one_spelling(contact: str, domain: str | None) -> None:
    assert email_domain_of(contact) == domain


@pytest.mark.parametrize(
    ("address", "key", "network"),
    [
        ("203.0.113.7", "203.0.113.7", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7", "203.0.113.0/24"),
        ("testclient", "testclient", None),
    ],
)
def test_limits_key_ipv6_on_its_64_and_signatures_record_their_network(
    address: str, key: str, network: str | None
) -> None:
    assert limit_key(address) == key
    assert recorded_network(address) == network


# --- limits per /64 ------------------------------------------------------------------------


@pytest.mark.usefixtures("low_limits")
def test_an_ipv6_64_shared_by_many_addresses_is_one_client(
    new_client: NewClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    answers = [
        sign_from(at(new_client, f"2001:db8:aa:bb:{n:x}::{n + 1:x}"), view, n).status_code
        for n in range(6)
    ]
    elsewhere = sign_from(at(new_client, "2001:db8:aa:bc::1"), view, 99)

    assert answers == [303, 303, 303, 303, 303, 429]
    assert elsewhere.status_code == 303
    states = [SupporterState(row.state) for row in rows(session, view)]
    assert states.count(SupporterState.SUSPECT) == 2
    assert state_of(session, view, "Orang 99") == SupporterState.PENDING


@pytest.mark.usefixtures("low_limits")
def test_ipv4_addresses_of_one_24_are_each_their_own_client(
    new_client: NewClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    for n in range(6):
        assert sign_from(at(new_client, f"203.0.113.{n + 1}"), view, n).status_code == 303

    assert all(row.state == SupporterState.PENDING for row in rows(session, view))


def test_the_sign_in_limit_counts_an_ipv6_64_as_one_client(
    new_client: NewClient, use_settings: UseSettings
) -> None:
    use_settings(ratelimit_login="3/minute")
    answers = []
    for n in range(4):
        client = at(new_client, f"2001:db8:77:1::{n + 1:x}")
        token = csrf_token(client, "/login")
        data = {"email": "siapa@example.com", "password": "salah-sekali", "csrf_token": token}
        answers.append(client.post("/login", data=data).status_code)

    assert answers == [422, 422, 422, 429]


def test_a_bad_signing_limit_setting_is_refused_with_its_shape(use_settings: UseSettings) -> None:
    with pytest.raises(ValueError, match="written like 300/minute"):
        use_settings(ratelimit_sign_hard="lots")


def test_the_hard_limit_is_ten_times_the_signing_limit_unless_set(
    use_settings: UseSettings,
) -> None:
    assert use_settings(ratelimit_sign="300/minute").sign_hard_limit == "3000/1 minute"
    assert use_settings(ratelimit_sign_hard="50/minute").sign_hard_limit == "50/minute"


# --- the tester's client: 600 signatures from one address ---------------------------------


def test_600_signatures_from_one_address_are_counted_or_held_none_refused_and_the_ranking_holds(
    new_client: NewClient, session: Session, make_campaign: MakeCampaign
) -> None:
    """An outside tester posted 600 signatures a minute from one address, each through one
    partner's link, and moved it to first place. With the default limits (300 a minute, and
    3000 before any refusal) the first 300 wait for their confirmation as usual, the other
    300 are held for review: none is refused, and confirming every one of them moves the
    partner by the first 300 only."""
    view = make_campaign(partners=2)
    honest, pushed = [p for p in view.partners if not p.is_lead]
    _real_supporters(session, view, honest, 310)
    attacker = at(new_client, "198.51.100.66")
    token = csrf_token(attacker, f"/c/{view.slug}")

    answers = {
        attacker.post(
            f"/c/{view.slug}/sign",
            data={
                **form_data(contact=f"bot{n}@catchall.example", name=f"Bot {n}"),
                "ref": pushed.referral_code,
                "csrf_token": token,
            },
        ).status_code
        for n in range(600)
    }
    _confirm_every_signing(session, view)

    assert answers == {303}
    by_key = counts(session, view)
    assert by_key[SUSPECT] == 300
    assert by_key[f"partner:{pushed.id}"] == 300
    assert by_key[f"partner:{honest.id}"] == 310
    ranking = supporters.leaderboard(view, supporters.read_counts(session, campaign_id=view.id))
    assert [partner.slug for partner, _n in ranking][:2] == [honest.slug, pushed.slug]
    exact(session, view)


def _real_supporters(session: Session, view: CampaignView, partner: Any, n: int) -> None:
    """n supporters who came through a partner's link and confirmed, written in one batch."""
    jobs = [
        supporters.prepare(
            view, sign_form(contact=f"nyata{i}@example.com", ref=partner.referral_code)
        )
        for i in range(n)
    ]
    supporters.commit_signings(session, [job for job in jobs if job is not None])
    _confirm_every_signing(session, view)


def _confirm_every_signing(session: Session, view: CampaignView) -> None:
    session.rollback()
    digests = session.execute(
        sa.select(confirmation_table.c.link_digest)
        .join(supporter_table, supporter_table.c.id == confirmation_table.c.supporter_id)
        .where(
            supporter_table.c.campaign_id == view.id,
            confirmation_table.c.confirmed_at.is_(None),
        )
    ).scalars()
    for digest in list(digests):
        supporters.confirm(session, link_digest=digest)


def test_a_persons_copy_of_their_data_says_where_each_signature_came_from(
    session: Session, make_campaign: MakeCampaign, make_user: Any
) -> None:
    from pledge.privacy import requests as privacy

    view = make_campaign()
    supporters.sign(
        session, view=view, form=sign_form(contact="rina@example.com"), network="203.0.113.0/24"
    )
    admin = make_user("root@example.org", site_admin=True)

    copy = privacy.export(session, actor=admin, raw="rina@example.com")

    (signature,) = json.loads(copy.content)["signatures"]
    assert signature["signed_from_network"] == "203.0.113.0/24"
    assert signature["email_domain"] == "example.com"
