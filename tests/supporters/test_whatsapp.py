"""Confirming a signature by WhatsApp, end to end: a phone signer sends the text the waiting page
gives, Meta brings it to the webhook, the signing is confirmed when the message comes from the
number that signed, and the reply (with the supporter's private link) waits in the outbox.
The handshake, the signature and the shape of Meta's posts are checked here too, as is
``pledge confirmations receive-whatsapp``."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import whatsapp
from pledge.campaigns.models import CampaignView
from pledge.cli import main
from pledge.db import utcnow, writing
from pledge.mail import outbox_message_table
from pledge.supporters import service as supporters
from pledge.supporters.models import Counts, confirmation_table, supporter_table
from pledge.whatsapp import received_message_table
from tests.support.pages import post_form
from tests.support.settings import UseSettings
from tests.support.signing import post_sign, whatsapp_text
from tests.support.whatsapp import (
    APP_SECRET,
    BUSINESS_NUMBER,
    VERIFY_TOKEN,
    WEBHOOK,
    body_of,
    change,
    image_message,
    notification,
    post_signed,
    replies,
    send_message,
    status_update,
    text_message,
)

MakeCampaign = Callable[..., CampaignView]

RINA = "0812 3456 7890"
BUDI = "0813 9876 5432"
PRIVATE = re.compile(r"https?://[^/\s]+(/c/[a-z0-9-]+/thanks/[A-Za-z0-9_-]+)")
# Said in Indonesian, the site's language, to a number that never signed in another.
UNKNOWN = supporters.whatsapp_unknown("id")
EXPIRED = "This code has expired. Sign again on the campaign page to get a new one."
NOT_SIGNED = "This request is not signed by WhatsApp, so it was refused."


@pytest.fixture
def client_lang() -> str:
    return "en"


@pytest.fixture(autouse=True)
def connected(use_settings: UseSettings) -> None:
    """The site connected to WhatsApp, as an operator sets it up."""
    use_settings(
        whatsapp_number=BUSINESS_NUMBER,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
    )


@pytest.fixture
def live(make_campaign: MakeCampaign) -> CampaignView:
    return make_campaign()


def sign_by_phone(client: TestClient, view: CampaignView, number: str = RINA) -> str:
    """Sign with a phone number: the text the waiting page asks to send from WhatsApp."""
    posted = post_sign(client, view, contact=number)
    assert posted.status_code == 303, posted.text[:800]
    return whatsapp_text(client.get(f"/c/{view.slug}/confirm"))


def counts(session: Session, view: CampaignView) -> Counts:
    session.rollback()
    return supporters.read_counts(session, campaign_id=view.id)


def outcomes(response: Any) -> dict[str, int]:
    assert response.status_code == 200, response.text[:800]
    found: dict[str, int] = response.json()["outcomes"]
    return found


def stored_message_ids(session: Session) -> int:
    session.rollback()
    return int(
        session.execute(sa.select(sa.func.count()).select_from(received_message_table)).scalar_one()
    )


# --- the subscription handshake -------------------------------------------------------------


def handshake(client: TestClient, **params: str) -> Any:
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", **params}
    return client.get(WEBHOOK, params=query)


def test_the_handshake_echoes_the_challenge_when_the_verify_token_is_ours(
    client: TestClient,
) -> None:
    answer = handshake(client, **{"hub.verify_token": VERIFY_TOKEN})

    assert answer.status_code == 200
    assert answer.text == "1158201444"
    assert answer.headers["content-type"].startswith("text/plain")
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize(
    "params",
    [
        {"hub.verify_token": "not-our-token"},
        {},
        {"hub.verify_token": ""},
        {"hub.verify_token": VERIFY_TOKEN, "hub.mode": "unsubscribe"},
    ],
    ids=["wrong token", "no token", "empty token", "not a subscription"],
)
def test_the_handshake_is_refused_without_our_verify_token(
    client: TestClient, params: dict[str, str]
) -> None:
    answer = handshake(client, **params)

    assert answer.status_code == 403
    assert "1158201444" not in answer.text
    assert answer.json()["detail"] == (
        "The verify token does not match, so the subscription was refused."
    )


def test_without_a_verify_token_set_every_handshake_is_refused(
    client: TestClient, use_settings: UseSettings
) -> None:
    use_settings(whatsapp_verify_token="")

    assert handshake(client, **{"hub.verify_token": ""}).status_code == 403
    assert handshake(client, **{"hub.verify_token": VERIFY_TOKEN}).status_code == 403


def test_a_handshake_without_a_challenge_is_a_bad_request(client: TestClient) -> None:
    answer = client.get(WEBHOOK, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN})

    assert answer.status_code == 400
    assert answer.json()["detail"] == "The handshake has no challenge to answer."


# --- the signature ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=" + "0" * 64, "sha1=abc", "garbage", "sha256="],
    ids=["missing", "wrong", "other algorithm", "garbage", "empty"],
)
def test_a_post_not_signed_with_the_app_secret_confirms_nothing(
    client: TestClient, session: Session, live: CampaignView, signature: str
) -> None:
    text = sign_by_phone(client, live)
    payload = notification(change([text_message(RINA, text)]))

    answer = post_signed(client, payload, signature=signature)

    assert answer.status_code == 403
    assert answer.json() == {"error": "Forbidden", "detail": NOT_SIGNED}
    assert counts(session, live).total == 0
    assert replies(session) == []
    assert stored_message_ids(session) == 0


def test_a_post_signed_with_another_secret_or_for_another_body_is_refused(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)
    payload = notification(change([text_message(RINA, text)]))
    other = notification(change([text_message(RINA, "halo")]))

    assert post_signed(client, payload, secret="another-app-secret").status_code == 403
    signed_other = whatsapp.signature(body_of(other), APP_SECRET)
    assert post_signed(client, payload, signature=signed_other).status_code == 403
    assert counts(session, live).total == 0


def test_without_an_app_secret_nothing_can_be_verified(
    client: TestClient, session: Session, live: CampaignView, use_settings: UseSettings
) -> None:
    text = sign_by_phone(client, live)
    use_settings(whatsapp_app_secret="")

    # Signed with an empty key, as a forger who guessed the secret is unset would sign.
    answer = post_signed(client, notification(change([text_message(RINA, text)])), secret="")

    assert answer.status_code == 403
    assert counts(session, live).total == 0


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"object": "whatsapp_business_account"}', "entry"),
        (b'{"object": "page", "entry": []}', "object"),
        (b'{"object": "whatsapp_business_account", "entry": {}}', "entry"),
        (
            b'{"object": "whatsapp_business_account", "entry": [{"changes": '
            b'[{"field": "messages", "value": {"messages": [{"id": "wamid.1", '
            b'"type": "text", "text": {"body": "123456"}}]}}]}]}',
            "entry.0.changes.0.value.messages.0.from",
        ),
        (
            b'{"object": "whatsapp_business_account", "entry": [{"changes": '
            b'[{"field": "messages", "value": {"messages": [{"from": "6281234567890", '
            b'"id": "wamid.1", "type": "text"}]}}]}]}',
            "entry.0.changes.0.value.messages.0.text",
        ),
    ],
    ids=[
        "not json",
        "a list",
        "no entry",
        "another object",
        "entry not a list",
        "no from",
        "no text",
    ],
)
def test_a_signed_post_that_is_not_a_notification_is_a_bad_request(
    client: TestClient, session: Session, body: bytes, where: str
) -> None:
    answer = post_signed(client, body)

    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert detail.startswith(f"This is not a WhatsApp notification: {where}: ")
    assert replies(session) == []


def test_an_unsigned_post_that_is_not_a_notification_learns_nothing(client: TestClient) -> None:
    answer = post_signed(client, b"{not json", signature="")

    assert answer.status_code == 403
    assert answer.json()["detail"] == NOT_SIGNED


def test_status_updates_of_our_replies_are_taken_and_do_nothing(
    client: TestClient, session: Session
) -> None:
    answer = post_signed(
        client, notification(change(statuses=[status_update(RINA), status_update(BUDI, "read")]))
    )

    assert outcomes(answer) == {}
    assert answer.json()["messages"] == 0
    assert "set-cookie" not in answer.headers
    assert replies(session) == []
    assert stored_message_ids(session) == 0


def test_changes_of_other_fields_are_taken_and_do_nothing(
    client: TestClient, session: Session
) -> None:
    other = {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}

    assert outcomes(post_signed(client, notification(other))) == {}
    assert replies(session) == []


# --- confirming -----------------------------------------------------------------------------


def test_the_message_from_the_number_that_signed_confirms_and_the_reply_has_the_private_link(
    client: TestClient, other_client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)
    assert (counts(session, live).total, counts(session, live).pending) == (0, 1)

    answer = send_message(client, RINA, text)

    assert outcomes(answer) == {"confirmed": 1}
    after = counts(session, live)
    assert (after.total, after.pending) == (1, 0)
    [reply] = replies(session, RINA)
    assert reply.to == "+6281234567890"
    assert reply.body.startswith(f"Thank you! Your signature for “{live.campaign.title}”")
    found = PRIVATE.search(reply.body)
    assert found is not None, reply.body
    assert found.group(1).startswith(f"/c/{live.slug}/thanks/")
    # The link is the supporter's own page, from any browser.
    assert other_client.get(found.group(1)).status_code == 200
    # The browser that signed goes on to that page too.
    assert client.get(f"/c/{live.slug}/thanks").headers["location"].startswith(found.group(1))


def test_the_same_message_delivered_twice_is_handled_once(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)
    payload = notification(change([text_message(RINA, text, message_id="wamid.SAME-MESSAGE")]))

    first = post_signed(client, payload)
    again = post_signed(client, payload)

    assert outcomes(first) == {"confirmed": 1}
    assert outcomes(again) == {"repeated": 1}
    assert counts(session, live).total == 1
    assert len(replies(session, RINA)) == 1


def test_the_right_code_from_another_number_confirms_nothing_and_reveals_nothing(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)

    answer = send_message(client, BUDI, text)
    # The same number again with a code nobody was given: the same answer, word for word.
    made_up = send_message(client, BUDI, "Confirm my signature: 000000")
    # And a number that never signed anything.
    stranger = send_message(client, "0857 1111 2222", text)

    assert outcomes(answer) == outcomes(made_up) == outcomes(stranger) == {"no match": 1}
    assert (counts(session, live).total, counts(session, live).pending) == (0, 1)
    assert [reply.body for reply in replies(session, BUDI)] == [UNKNOWN, UNKNOWN]
    assert [reply.body for reply in replies(session, "0857 1111 2222")] == [UNKNOWN]
    assert replies(session, RINA) == []
    # The signer can still confirm with it.
    assert outcomes(send_message(client, RINA, text)) == {"confirmed": 1}


def test_a_code_that_expired_gets_the_expired_reply(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)
    with writing(session):
        session.execute(
            sa.update(confirmation_table).values(expires_at=utcnow() - timedelta(hours=1))
        )

    answer = send_message(client, RINA, text)

    assert outcomes(answer) == {"expired": 1}
    assert [reply.body for reply in replies(session, RINA)] == [EXPIRED]
    assert (counts(session, live).total, counts(session, live).pending) == (0, 1)


def test_a_withdrawn_signing_cannot_be_confirmed_again(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)
    assert outcomes(send_message(client, RINA, text)) == {"confirmed": 1}
    private = PRIVATE.search(replies(session, RINA)[0].body)
    assert private is not None
    token = private.group(1).rsplit("/", 1)[1]
    withdrawn = post_form(
        client, f"/c/{live.slug}/withdraw/{token}", f"/c/{live.slug}/withdraw/{token}"
    )
    assert withdrawn.status_code == 303
    assert counts(session, live).total == 0

    answer = send_message(client, RINA, text)

    assert outcomes(answer) == {"no match": 1}
    assert replies(session, RINA)[-1].body == UNKNOWN
    assert counts(session, live).total == 0
    session.rollback()
    assert session.execute(sa.select(sa.func.count()).select_from(supporter_table)).scalar() == 0


def test_sending_the_code_again_after_confirming_says_so_and_counts_once(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)
    send_message(client, RINA, text)

    answer = send_message(client, RINA, text)

    assert outcomes(answer) == {"already": 1}
    assert counts(session, live).total == 1
    last = replies(session, RINA)[-1].body
    assert last.startswith(f"You had already signed “{live.campaign.title}”")
    assert PRIVATE.search(last) is not None


def test_every_text_message_of_every_entry_is_handled_and_the_rest_left_out(
    client: TestClient, new_client: Callable[..., TestClient], session: Session, live: CampaignView
) -> None:
    rina = sign_by_phone(client, live, RINA)
    budi = sign_by_phone(new_client(), live, BUDI)
    payload = notification(
        change([text_message(RINA, rina), image_message(RINA)], [status_update(BUDI)]),
        change([text_message(BUDI, budi)]),
    )
    payload["entry"].append({"id": "102290129340398", "changes": [change([image_message(BUDI)])]})

    answer = post_signed(client, payload)

    assert outcomes(answer) == {"confirmed": 2}
    assert answer.json()["messages"] == 2
    assert counts(session, live).total == 2
    assert len(replies(session, RINA)) == len(replies(session, BUDI)) == 1


def test_a_message_another_request_is_handling_is_left_to_it_and_meta_asked_to_retry(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)
    message = text_message(RINA, text)
    # Another process claimed it a moment ago and is still at it.
    assert whatsapp.claim(session, message["id"]) == whatsapp.Claim.NEW

    answer = post_signed(client, notification(change([message])))

    assert answer.status_code == 503
    assert answer.headers["retry-after"]
    assert answer.json()["outcomes"] == {"busy": 1}
    assert counts(session, live).total == 0


def test_a_claim_left_by_a_process_that_died_is_taken_over(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)
    message = text_message(RINA, text)
    long_ago = utcnow() - whatsapp.STALE_CLAIM - timedelta(seconds=1)
    assert whatsapp.claim(session, message["id"], now=long_ago) == whatsapp.Claim.NEW

    answer = post_signed(client, notification(change([message])))

    assert outcomes(answer) == {"confirmed": 1}
    assert counts(session, live).total == 1


def test_a_failure_while_handling_lets_the_next_delivery_handle_the_message(
    client: TestClient,
    session: Session,
    live: CampaignView,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = sign_by_phone(client, live)
    payload = notification(change([text_message(RINA, text)]))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(supporters, "receive_whatsapp", broken)
        with caplog.at_level(logging.ERROR):
            failed = post_signed(client, payload)

    assert failed.status_code == 500
    assert stored_message_ids(session) == 0
    assert outcomes(post_signed(client, payload)) == {"confirmed": 1}


def test_a_number_that_sends_too_much_is_ignored_for_a_while(
    client: TestClient, session: Session, live: CampaignView, use_settings: UseSettings
) -> None:
    use_settings(ratelimit_whatsapp_sender="2/hour")
    text = sign_by_phone(client, live, BUDI)

    first = send_message(client, RINA, "halo")
    second = send_message(client, RINA, "halo?")
    third = send_message(client, RINA, "halo??")

    assert [outcomes(a) for a in (first, second, third)] == [
        {"no match": 1},
        {"no match": 1},
        {"ignored": 1},
    ]
    assert len(replies(session, RINA)) == 2
    # Another number is not held back by it.
    assert outcomes(send_message(client, BUDI, text)) == {"confirmed": 1}


def test_the_reply_is_sent_after_the_answer_through_the_outbox(
    client: TestClient, session: Session, live: CampaignView, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the Cloud API's token the test site writes replies to the log, as development
    does: the reply is there, link included, and the number is not."""
    text = sign_by_phone(client, live)

    with caplog.at_level(logging.WARNING, logger="pledge.whatsapp"):
        send_message(client, RINA, text)

    [reply] = replies(session, RINA)
    assert reply.sent
    logged = caplog.text
    assert reply.body in logged
    assert "81234567890" not in logged


def test_the_webhook_answers_without_cookies_or_a_csrf_token(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    text = sign_by_phone(client, live)
    client.cookies.clear()

    answer = send_message(client, RINA, text)

    assert outcomes(answer) == {"confirmed": 1}
    assert "set-cookie" not in answer.headers


def test_old_message_ids_are_forgotten(
    client: TestClient, session: Session, live: CampaignView
) -> None:
    old = utcnow() - whatsapp.KEEP_IDS - timedelta(days=1)
    assert whatsapp.claim(session, "wamid.OLD", now=old) == whatsapp.Claim.NEW
    text = sign_by_phone(client, live)

    send_message(client, RINA, text)

    assert stored_message_ids(session) == 1  # this one, not the old one


# --- pledge confirmations receive-whatsapp ----------------------------------------------------


def test_the_command_confirms_as_the_webhook_does_and_the_reply_goes_to_the_log(
    client: TestClient,
    session: Session,
    live: CampaignView,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = sign_by_phone(client, live)

    with caplog.at_level(logging.WARNING, logger="pledge.whatsapp"):
        code = main(["confirmations", "receive-whatsapp", "+62 812-3456-7890", text])

    out = capsys.readouterr().out
    assert code == 0
    assert (
        out == f"confirmed: counted as a new supporter of {live.slug}; the reply is in the log.\n"
    )
    assert "/thanks/" not in out
    assert counts(session, live).total == 1
    [reply] = replies(session, RINA)
    assert reply.sent
    found = PRIVATE.search(reply.body)
    assert found is not None
    assert reply.body in caplog.text
    assert found.group(0).startswith("http://127.0.0.1:8000/c/")
    assert client.get(found.group(1)).status_code == 200

    assert main(["confirmations", "receive-whatsapp", "6281234567890", text]) == 0
    assert capsys.readouterr().out.startswith(f"already: this signing of {live.slug}")


def test_the_command_says_when_nothing_was_confirmed(
    client: TestClient,
    session: Session,
    live: CampaignView,
    capsys: pytest.CaptureFixture[str],
    use_settings: UseSettings,
) -> None:
    text = sign_by_phone(client, live)

    assert main(["confirmations", "receive-whatsapp", BUDI, text]) == 1
    assert capsys.readouterr().out == (
        "no match: no signing of this number waits for this code; the reply is in the log.\n"
    )

    use_settings(env="production", public_url="https://suara.example", secret_key="k" * 40)
    assert main(["confirmations", "receive-whatsapp", BUDI, text]) == 1
    assert capsys.readouterr().out == (
        "no match: no signing of this number waits for this code; the reply waits in the "
        "outbox: set PLEDGE_WHATSAPP_ACCESS_TOKEN and PLEDGE_WHATSAPP_PHONE_NUMBER_ID to send "
        "it.\n"
    )
    assert [reply.sent for reply in replies(session, BUDI)] == [True, False]
    assert counts(session, live).total == 0


@pytest.mark.parametrize("given", ["rina@example.com", "halo", "12", ""])
def test_the_command_refuses_what_is_not_a_phone_number(
    given: str, capsys: pytest.CaptureFixture[str], session: Session
) -> None:
    assert main(["confirmations", "receive-whatsapp", given, "123456"]) == 2
    assert "FROM must be a phone number" in capsys.readouterr().err
    session.rollback()
    assert (
        session.execute(sa.select(sa.func.count()).select_from(outbox_message_table)).scalar() == 0
    )
