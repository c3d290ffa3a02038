"""Confirmed signatures: a signature counts once the signer proves the contact is theirs, and
nothing a stranger sees tells whether someone signed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.db import utcnow, writing
from pledge.errors import Gone
from pledge.supporters import service as supporters
from pledge.supporters.models import (
    PENDING,
    TOTAL,
    SignOutcome,
    Supporter,
    confirmation_table,
    supporter_table,
)
from pledge.supporters.service.form import whatsapp_confirms
from tests.support.forms import sign_form
from tests.support.pages import csrf_token, errors_of, html
from tests.support.signing import (
    confirm_in_browser,
    confirm_signing,
    emails_to,
    last_email_to,
    post_sign,
    send_whatsapp,
    sign_and_confirm,
    whatsapp_text,
)

MakeCampaign = Callable[..., CampaignView]
P1, P2, P3 = "tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks"
RINA = "rina@example.com"
PHONE = "0812 3456 7890"


def counts(session: Session, view: CampaignView) -> dict[str, int]:
    session.rollback()
    return supporters.read_counts(session, campaign_id=view.id).by_key


def supporter_rows(session: Session, view: CampaignView) -> list[Any]:
    session.rollback()
    return session.execute(
        sa.select(supporter_table).where(supporter_table.c.campaign_id == view.id)
    ).all()


# --- pending until confirmed ----------------------------------------------------------------


def test_a_new_signature_is_pending_and_counted_apart_until_confirmed(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form(pledges=(P1, P2)))

    assert signing.outcome == SignOutcome.NEW
    assert counts(session, view) == {PENDING: 1}
    [row] = supporter_rows(session, view)
    assert row.confirmed_at is None and row.number == 0

    confirmed = confirm_signing(session, signing)

    assert confirmed.outcome == SignOutcome.NEW
    p1, p2 = view.pledge_by_slug(P1).id, view.pledge_by_slug(P2).id  # type: ignore[union-attr]
    assert confirmed.added == tuple(sorted((p1, p2)))
    assert counts(session, view) == {PENDING: 0, TOTAL: 1, f"pledge:{p1}": 1, f"pledge:{p2}": 1}
    [row] = supporter_rows(session, view)
    assert row.confirmed_at is not None and row.number == 1
    truth = supporters.true_counts(session, campaign_id=view.id)
    assert {k: v for k, v in counts(session, view).items() if v} == {
        k: v for k, v in truth.items() if v
    }


def test_confirming_twice_counts_once_and_answers_unchanged(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form())
    confirm_signing(session, signing)

    again = confirm_signing(session, signing)

    assert again.outcome == SignOutcome.UNCHANGED
    assert counts(session, view)[TOTAL] == 1


def test_a_known_contact_signing_again_adds_pledges_only_once_that_message_is_confirmed(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    supporters_sign = supporters.sign(session, view=view, form=sign_form(pledges=(P1,)))
    confirm_signing(session, supporters_sign)
    second = supporters.sign(
        session, view=view, form=sign_form(contact="RINA@example.com", pledges=(P1, P2))
    )
    p2 = view.pledge_by_slug(P2).id  # type: ignore[union-attr]

    assert second.outcome == SignOutcome.ADDED
    assert counts(session, view).get(f"pledge:{p2}", 0) == 0  # nothing before the proof

    confirmed = confirm_signing(session, second)

    assert confirmed.outcome == SignOutcome.ADDED and confirmed.added == (p2,)
    assert counts(session, view)[f"pledge:{p2}"] == 1
    assert counts(session, view)[TOTAL] == 1


def test_numbers_are_given_in_the_order_of_confirmation(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    first = supporters.sign(session, view=view, form=sign_form(contact="a@example.com"))
    second = supporters.sign(session, view=view, form=sign_form(contact="b@example.com"))

    confirm_signing(session, second)
    confirm_signing(session, first)

    by_token = {row.token: row.number for row in supporter_rows(session, view)}
    assert by_token[second.supporter.token] == 1  # type: ignore[union-attr]
    assert by_token[first.supporter.token] == 2  # type: ignore[union-attr]


def test_a_campaign_that_counts_unconfirmed_signatures_counts_them_at_once(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(counts_unconfirmed=True)
    signing = supporters.sign(session, view=view, form=sign_form(), links=links())

    p1 = view.pledge_by_slug(P1).id  # type: ignore[union-attr]
    assert counts(session, view) == {TOTAL: 1, f"pledge:{p1}": 1}
    assert supporter_rows(session, view)[0].number == 1
    # Its message carries the supporter's own page.
    assert last_email_to(session, RINA).private_path.endswith(signing.supporter.token)  # type: ignore[union-attr]
    assert confirm_signing(session, signing).outcome == SignOutcome.UNCHANGED


def test_an_expired_signing_cannot_be_confirmed(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form())
    assert signing.ticket is not None

    with pytest.raises(Gone):
        supporters.confirm(
            session, link_digest=signing.ticket.link_digest, now=utcnow() + timedelta(days=8)
        )
    assert counts(session, view) == {PENDING: 1}


def test_many_confirmations_of_one_signing_at_once_count_it_once(
    engine: sa.Engine, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form(pledges=(P1, P2)))
    assert signing.ticket is not None
    start = threading.Barrier(8)
    outcomes: list[Any] = []

    def confirm() -> None:
        with Session(engine, expire_on_commit=False) as own:
            start.wait()
            try:
                outcomes.append(
                    supporters.confirm(own, link_digest=signing.ticket.link_digest).outcome
                )  # type: ignore[union-attr]
            except Exception as error:
                outcomes.append(error)

    threads = [threading.Thread(target=confirm) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(map(str, outcomes)) == sorted(["new"] + ["unchanged"] * 7)
    p1 = view.pledge_by_slug(P1).id  # type: ignore[union-attr]
    assert counts(session, view)[TOTAL] == 1
    assert counts(session, view)[f"pledge:{p1}"] == 1
    assert counts(session, view)[PENDING] == 0


# --- the same answer whoever the contact is ----------------------------------------------------


def _answer(client: TestClient, view: CampaignView, contact: str) -> tuple[int, str, list[str]]:
    """What a signing answers: status, where it goes, and which cookies it sets (by name)."""
    response = post_sign(client, view, contact=contact, pledges=[P1])
    cookies = sorted(
        value.split("=", 1)[0]
        for key, value in response.headers.multi_items()
        if key == "set-cookie"
    )
    return response.status_code, response.headers.get("location", ""), cookies


def _waiting_page(client: TestClient, view: CampaignView) -> str:
    """The waiting page's text, without the parts that differ on every visit."""
    page = client.get(f"/c/{view.slug}/confirm")
    assert page.status_code == 200
    soup = html(page)
    for hidden in soup.select("input[name=csrf_token]"):
        hidden.decompose()
    for code in soup.select(".code-text, a.whatsapp[href*='wa.me']"):
        code.decompose()  # WhatsApp's code differs on every signing, whoever signs
    section = soup.select_one("section.waiting")
    assert section is not None
    return " ".join(section.get_text(" ").split())


@pytest.mark.parametrize("contact", [RINA, PHONE])
def test_new_pending_and_confirmed_contacts_get_the_same_answer_and_page(
    new_client: Callable[..., TestClient],
    session: Session,
    make_campaign: MakeCampaign,
    contact: str,
) -> None:
    view = make_campaign()
    other = "budi@example.com" if "@" in contact else "0813 1111 2222"
    confirmed_contact = "citra@example.com" if "@" in contact else "0815 3333 4444"
    sign_and_confirm(new_client(), session, view, contact=confirmed_contact)
    post_sign(new_client(), view, contact=contact)  # now pending

    seen = {}
    for name, who in {"new": other, "pending": contact, "confirmed": confirmed_contact}.items():
        client = new_client()
        seen[name] = (*_answer(client, view, who), _waiting_page(client, view))

    assert seen["new"] == seen["pending"] == seen["confirmed"]
    status, location, cookies, _text = seen["new"]
    assert (status, location) == (303, f"/c/{view.slug}/confirm")
    assert "pledge_session" in cookies


def test_no_answer_to_a_signing_carries_the_supporters_token_or_name(
    new_client: Callable[..., TestClient], session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form(name="Rina Rahasia"))
    confirm_signing(session, signing)
    token = signing.supporter.token  # type: ignore[union-attr]
    stranger = new_client()

    answer = post_sign(stranger, view, contact=RINA, name="Orang Asing")
    waiting = stranger.get(f"/c/{view.slug}/confirm")
    bound = stranger.get(f"/c/{view.slug}/thanks", follow_redirects=False)

    for response in (answer, waiting, bound):
        assert token not in response.text
        assert token not in response.headers.get("location", "")
        assert "Rahasia" not in response.text
    assert bound.status_code == 200  # the waiting page again: not confirmed by this browser
    assert "Not confirmed yet" in bound.text or "Belum" in bound.text


def test_the_known_contact_is_told_by_email_with_their_own_link(
    new_client: Callable[..., TestClient], session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form(), links=links())
    confirm_signing(session, signing)

    post_sign(new_client(), view, contact=RINA, pledges=[P1])

    message = last_email_to(session, RINA)
    assert message.private_path == f"/c/{view.slug}/thanks/{signing.supporter.token}"  # type: ignore[union-attr]
    assert "already" in message.body or "sudah" in message.body


def links() -> supporters.SignerLinks:
    return supporters.SignerLinks(
        confirm="http://testserver/c/x/confirm/", private="http://testserver/c/x/thanks/"
    )


# --- confirming by email ---------------------------------------------------------------------


def test_the_emailed_code_typed_on_the_waiting_page_confirms_and_opens_the_supporters_page(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    landed = sign_and_confirm(client, session, view, contact=RINA, pledges=[P1, P2])

    assert landed.status_code == 303
    assert landed.headers["location"].startswith(f"/c/{view.slug}/thanks/")
    page = client.get(landed.headers["location"])
    assert page.status_code == 200
    assert html(page).select_one("p.number") is not None
    assert counts(session, view)[TOTAL] == 1


def test_the_emailed_link_opens_a_page_whose_button_confirms_and_a_get_changes_nothing(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    post_sign(client, view, contact=RINA)
    message = last_email_to(session, RINA)
    scanner = client.get(message.confirm_path)  # what a mail scanner does

    assert scanner.status_code == 200
    assert counts(session, view) == {PENDING: 1}
    button = html(scanner).select_one(f"form[action='{message.confirm_path}'] button")
    assert button is not None

    token = csrf_token(client, message.confirm_path)
    confirmed = client.post(message.confirm_path, data={"csrf_token": token})

    assert confirmed.status_code == 303
    assert confirmed.headers["location"].startswith(f"/c/{view.slug}/thanks/")
    assert counts(session, view)[TOTAL] == 1
    again = client.get(message.confirm_path)
    assert "Already confirmed" in again.text or "sudah" in again.text.lower()


@pytest.mark.parametrize("secret", ["not-a-secret-at-all-0123", "x", "a" * 300, "../../etc/passwd"])
def test_a_link_that_is_not_one_is_not_found_with_a_message(
    client: TestClient, make_campaign: MakeCampaign, secret: str
) -> None:
    view = make_campaign()

    response = client.get(f"/c/{view.slug}/confirm/{secret}")

    assert response.status_code == 404
    assert "link" in response.text.lower() or "tautan" in response.text.lower()


def test_a_link_of_another_campaign_is_not_found(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view, other = make_campaign(), make_campaign()
    post_sign(client, view, contact=RINA)
    path = last_email_to(session, RINA).confirm_path

    response = client.get(path.replace(view.slug, other.slug))

    assert response.status_code == 404


def test_a_wrong_code_is_refused_beside_the_field_and_the_sixth_try_is_too_many(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    post_sign(client, view, contact=RINA)
    right = last_email_to(session, RINA).code
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    for _ in range(supporters.WRONG_CODES_MAX):
        token = csrf_token(client, f"/c/{view.slug}/confirm")
        refused = client.post(f"/c/{view.slug}/confirm", data={"code": wrong, "csrf_token": token})
        assert refused.status_code == 422
        assert "code" in errors_of(refused)
    token = csrf_token(client, f"/c/{view.slug}/confirm")
    blocked = client.post(f"/c/{view.slug}/confirm", data={"code": right, "csrf_token": token})

    assert blocked.status_code == 429
    assert "code" in errors_of(blocked)
    assert counts(session, view) == {PENDING: 1}
    # The link still works.
    link = last_email_to(session, RINA).confirm_path
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 303


@pytest.mark.parametrize("typed", ["", "12345", "abcdef", "1234567", "12 34 56 78"])
def test_a_code_that_is_not_six_digits_is_refused(
    client: TestClient, make_campaign: MakeCampaign, typed: str
) -> None:
    view = make_campaign()
    post_sign(client, view, contact=RINA)
    token = csrf_token(client, f"/c/{view.slug}/confirm")

    refused = client.post(f"/c/{view.slug}/confirm", data={"code": typed, "csrf_token": token})

    assert refused.status_code == 422
    assert errors_of(refused)["code"]


def test_the_code_typed_with_spaces_or_a_dash_is_accepted(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    post_sign(client, view, contact=RINA)
    code = last_email_to(session, RINA).code
    token = csrf_token(client, f"/c/{view.slug}/confirm")

    done = client.post(
        f"/c/{view.slug}/confirm", data={"code": f" {code[:3]}-{code[3:]} ", "csrf_token": token}
    )

    assert done.status_code == 303


def test_a_code_posted_without_having_signed_in_this_browser_is_refused(
    client: TestClient,
    new_client: Callable[..., TestClient],
    session: Session,
    make_campaign: MakeCampaign,
) -> None:
    view = make_campaign()
    post_sign(new_client(), view, contact=RINA)
    code = last_email_to(session, RINA).code
    token = csrf_token(client, f"/c/{view.slug}")  # this browser never signed

    refused = client.post(f"/c/{view.slug}/confirm", data={"code": code, "csrf_token": token})

    assert refused.status_code == 422
    assert counts(session, view) == {PENDING: 1}


def test_a_code_post_without_its_csrf_token_is_refused(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    post_sign(client, view, contact=RINA)

    refused = client.post(f"/c/{view.slug}/confirm", data={"code": "123456"})

    assert refused.status_code == 403


def test_one_person_is_sent_at_most_three_messages_a_day_however_often_someone_signs(
    new_client: Callable[..., TestClient], session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    for _ in range(6):
        assert post_sign(new_client(), view, contact=RINA).status_code == 303

    assert len(emails_to(session, RINA)) == supporters.MESSAGES_PER_DAY


# --- confirming by WhatsApp ---------------------------------------------------------------------


def test_the_whatsapp_message_from_the_number_that_signed_confirms_and_the_browser_goes_on(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    landed = sign_and_confirm(client, session, view, contact=PHONE)

    assert landed.status_code == 303
    assert landed.headers["location"].startswith(f"/c/{view.slug}/thanks/")
    assert counts(session, view)[TOTAL] == 1


def test_the_right_code_from_another_number_confirms_nothing(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    post_sign(client, view, contact=PHONE)
    text = whatsapp_text(client.get(f"/c/{view.slug}/confirm"))

    answer = send_whatsapp(session, number="0813 9999 8888", text=text)

    assert answer.confirmed is None and not answer.expired
    assert counts(session, view) == {PENDING: 1}


def test_the_waiting_page_links_to_whatsapp_with_the_code_when_a_number_is_set(
    client: TestClient, make_campaign: MakeCampaign, use_settings: Any
) -> None:
    use_settings(whatsapp_number="+62 811 2345 6789")
    view = make_campaign()
    post_sign(client, view, contact=PHONE)

    page = html(client.get(f"/c/{view.slug}/confirm"))

    link = page.select_one("a.whatsapp[href^='https://wa.me/']")
    assert link is not None
    text = page.select_one(".code-text strong")
    assert text is not None
    url = urlsplit(str(link["href"]))
    assert url.path == "/6281123456789"
    assert parse_qs(url.query)["text"] == [text.get_text()]


def test_a_phone_number_is_refused_where_the_campaign_confirms_by_email_only(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(confirm_by_whatsapp=False)

    refused = post_sign(client, view, contact=PHONE)

    assert refused.status_code == 422
    assert "email" in errors_of(refused)["contact"].lower()
    assert counts(session, view) == {}


def test_an_email_is_refused_where_the_campaign_confirms_by_whatsapp_only(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(confirm_by_email=False)

    refused = post_sign(client, view, contact=RINA)

    assert refused.status_code == 422
    assert "whatsapp" in errors_of(refused)["contact"].lower()


def test_in_production_without_a_whatsapp_number_phone_numbers_are_refused(
    client: TestClient, make_campaign: MakeCampaign, use_settings: Any
) -> None:
    view = make_campaign()
    use_settings(env="production", secret_key="x" * 40, public_url="https://suara.example.id")

    assert not whatsapp_confirms(view)
    use_settings(whatsapp_number="+62 811 2345 6789", whatsapp_app_secret="s" * 32)
    assert whatsapp_confirms(view)


# --- the supporter's own page ---------------------------------------------------------------------


def test_the_page_of_a_pending_supporter_does_not_open(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form())
    token = signing.supporter.token  # type: ignore[union-attr]

    assert client.get(f"/c/{view.slug}/thanks/{token}").status_code == 404
    assert client.get(f"/c/{view.slug}/withdraw/{token}").status_code == 404


def test_the_browser_that_signed_opens_the_page_only_within_the_hour(
    client: TestClient,
    session: Session,
    make_campaign: MakeCampaign,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = make_campaign()
    post_sign(client, view, contact=PHONE)
    text = whatsapp_text(client.get(f"/c/{view.slug}/confirm"))
    send_whatsapp(session, number=PHONE, text=text)
    later = time.time() + 3601
    monkeypatch.setattr("pledge.supporters.routes.time.time", lambda: later)

    response = client.get(f"/c/{view.slug}/thanks", follow_redirects=False)

    assert response.status_code == 200  # the waiting page, not the supporter's
    assert "/thanks/" not in response.headers.get("location", "")


def test_confirm_in_browser_helper_reaches_the_page_for_an_email_too(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    post_sign(client, view, contact=RINA)

    landed = confirm_in_browser(client, session, view, RINA)

    assert landed.status_code == 303


# --- withdrawing -----------------------------------------------------------------------------


def test_the_same_withdrawal_link_fired_twenty_times_at_once_lowers_the_counts_once(
    engine: sa.Engine, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    kept = supporters.sign(session, view=view, form=sign_form(contact="budi@example.com"))
    confirm_signing(session, kept)
    leaving = supporters.sign(session, view=view, form=sign_form(pledges=(P1, P2)))
    confirm_signing(session, leaving)
    token = leaving.supporter.token  # type: ignore[union-attr]
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def withdraw() -> None:
        with Session(engine, expire_on_commit=False) as own:
            start.wait()
            try:
                supporters.withdraw(own, campaign=view.campaign, token=token)
                outcomes.append("withdrawn")
            except Exception as error:
                outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=withdraw) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert "withdrawn" in outcomes
    assert set(outcomes) <= {"withdrawn", "NotFound"}
    p1 = view.pledge_by_slug(P1).id  # type: ignore[union-attr]
    assert counts(session, view)[TOTAL] == 1
    assert counts(session, view)[f"pledge:{p1}"] == 1
    truth = supporters.true_counts(session, campaign_id=view.id)
    assert truth[TOTAL] == 1


def test_withdrawing_a_pending_signature_lowers_the_pending_count(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form())
    supporter = session.get(Supporter, signing.supporter.id)  # type: ignore[union-attr]
    assert supporter is not None

    with writing(session):
        assert supporters.remove(session, supporter=supporter)

    assert counts(session, view) == {PENDING: 0}
    assert (
        session.execute(sa.select(sa.func.count()).select_from(confirmation_table)).scalar_one()
        == 0
    )


# --- what the public sees ---------------------------------------------------------------------


def test_the_page_and_the_api_count_confirmed_supporters_and_show_the_pending_apart(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    confirm_signing(session, supporters.sign(session, view=view, form=sign_form()))
    for n in range(2):
        supporters.sign(session, view=view, form=sign_form(contact=f"p{n}@example.com"))
    supporters.invalidate_counts(view.id)

    page = html(client.get(f"/c/{view.slug}?lang=en"))
    api = client.get(f"/api/v1/campaigns/{view.slug}").json()

    count = page.select_one("strong.count")
    pending = page.select_one("[data-pending]")
    assert count is not None and count.get_text() == "1"
    assert pending is not None and pending.get_text() == "2"
    assert page.select_one(".unverified") is None
    assert (api["supporters"], api["pending"]) == (1, 2)
    assert api["pledges"][0]["supporters"] == 1


def test_a_campaign_that_counts_unconfirmed_signatures_says_its_count_is_not_verified(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(counts_unconfirmed=True)

    page = html(client.get(f"/c/{view.slug}"))

    note = page.select_one(".verification.unverified")
    assert note is not None
    assert "belum terverifikasi" in note.get_text()
    assert page.select_one("[data-pending]") is None
