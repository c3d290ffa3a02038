"""The WhatsApp Cloud API as the site speaks it: the signature of Meta's posts, the messages read
from them, and the replies delivered by the outbox through the Graph API (a server on loopback
here), the log in development, or nobody in production until it is configured. Emails go on
as before beside them."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge import mail, whatsapp
from pledge.campaigns.models import CampaignView
from pledge.cli import main
from pledge.config import Settings
from pledge.errors import BadRequest
from tests.support.settings import UseSettings
from tests.support.signing import post_sign, whatsapp_text
from tests.support.whatsapp import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    GraphApi,
    graph_api,
    replies,
    send_message,
)

MakeCampaign = Callable[..., CampaignView]
RINA = "0812 3456 7890"

# The example of Meta's "messages" webhook reference: a text message sent to a business.
META_EXAMPLE = b"""{
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {
              "display_phone_number": "15550783881",
              "phone_number_id": "106540352242922"
            },
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
            "messages": [
              {
                "from": "16505551234",
                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                "timestamp": "1749416383",
                "type": "text",
                "text": {"body": "Does it come in another color?"}
              }
            ]
          },
          "field": "messages"
        }
      ]
    }
  ]
}"""


# --- the signature --------------------------------------------------------------------------


def test_a_signature_is_the_hex_hmac_sha256_of_the_raw_body_with_the_app_secret() -> None:
    # Computed apart: printf '%s' '{"a":1}' | openssl dgst -sha256 -hmac secret
    assert whatsapp.signature(b'{"a":1}', "secret") == (
        "sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494"
    )
    body = '{"text": "Terima kasih 🙏 — sudah"}'.encode()
    header = whatsapp.signature(body, APP_SECRET)

    assert whatsapp.is_signed(body, header, APP_SECRET)
    assert whatsapp.is_signed(body, f"  {header} ", APP_SECRET)
    assert not whatsapp.is_signed(body + b" ", header, APP_SECRET)
    assert not whatsapp.is_signed(body, header, "another-secret")
    assert not whatsapp.is_signed(body, header.upper(), APP_SECRET)
    assert not whatsapp.is_signed(body, None, APP_SECRET)
    assert not whatsapp.is_signed(body, "", APP_SECRET)
    assert not whatsapp.is_signed(body, whatsapp.signature(body, ""), None)
    assert not whatsapp.is_signed(body, "sha256=é", APP_SECRET)


# --- reading a notification -----------------------------------------------------------------


def test_the_documented_text_message_is_read() -> None:
    assert whatsapp.parse(META_EXAMPLE) == [
        whatsapp.Incoming(
            id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            sender="16505551234",
            text="Does it come in another color?",
        )
    ]


def test_text_beyond_ascii_is_read_as_sent() -> None:
    payload = json.loads(META_EXAMPLE)
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "Kode: 123 456 🙏"

    [message] = whatsapp.parse(json.dumps(payload).encode())

    assert message.text == "Kode: 123 456 🙏"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {}}]}]}',
        b'{"object": "whatsapp_business_account", "entry": [{"changes": '
        b'[{"field": "messages", "value": {"messages": [{"from": 6281234567890, '
        b'"id": "wamid.1", "type": "text", "text": {"body": "1"}}]}}]}]}',
        b'{"object": "whatsapp_business_account", "entry": [{"changes": '
        b'[{"field": "messages", "value": {"messages": "123456"}}]}]}',
    ],
    ids=["empty", "null", "change without field", "from a number", "messages not a list"],
)
def test_a_body_out_of_the_documented_shape_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        whatsapp.parse(body)

    assert refused.value.status_code == 400
    assert refused.value.detail.startswith("This is not a WhatsApp notification: ")


# --- the senders ----------------------------------------------------------------------------


def settings(**values: Any) -> Settings:
    return Settings(**values)


def test_the_sender_depends_on_the_settings() -> None:
    configured = settings(whatsapp_access_token="t", whatsapp_phone_number_id="1")
    assert isinstance(whatsapp.default_sender(configured), whatsapp.GraphApiSender)
    # Half the settings send nothing: the log in development, the outbox in production.
    assert isinstance(
        whatsapp.default_sender(settings(whatsapp_access_token="t")), whatsapp.LogSender
    )
    production = {
        "env": "production",
        "secret_key": "k" * 40,
        "public_url": "https://suara.example",
    }
    assert whatsapp.default_sender(settings(**production)) is None
    assert whatsapp.default_sender(settings(**production, whatsapp_phone_number_id="1")) is None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://graph.example", "graph.facebook.com"])
def test_the_api_address_must_be_http(url: str) -> None:
    with pytest.raises(ValueError, match="PLEDGE_WHATSAPP_API_URL"):
        settings(whatsapp_api_url=url)


def queue_reply(session: Session, *, to: str = "+6281234567890", body: str = "Halo!") -> None:
    row = mail.outbox_row(to=to, subject="Halo!", body=body, channel=mail.Channel.WHATSAPP)
    mail.queue_rows(session.connection(), [row])
    session.commit()


def stored_reply(session: Session) -> mail.OutboxMessage:
    session.rollback()
    return session.exec(select(mail.OutboxMessage)).one()


@pytest.fixture
def graph(use_settings: UseSettings) -> Iterator[GraphApi]:
    with graph_api() as api:
        use_settings(
            whatsapp_api_url=api.url,
            whatsapp_access_token=ACCESS_TOKEN,
            whatsapp_phone_number_id=PHONE_NUMBER_ID,
        )
        yield api


def test_a_reply_is_posted_to_the_graph_api_with_the_bearer_token(
    session: Session, graph: GraphApi
) -> None:
    queue_reply(session, body="Terima kasih! https://suara.example/c/x/thanks/abc")

    assert mail.deliver_pending(session) == 1

    [request] = graph.requests
    assert request["path"] == f"/v99.0/{PHONE_NUMBER_ID}/messages"
    assert request["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request["content_type"] == "application/json"
    assert request["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567890",
        "type": "text",
        "text": {
            "preview_url": False,
            "body": "Terima kasih! https://suara.example/c/x/thanks/abc",
        },
    }
    [reply] = replies(session)
    assert reply.sent


def test_a_graph_api_failure_keeps_the_reply_for_the_next_run(
    session: Session, graph: GraphApi, caplog: pytest.LogCaptureFixture
) -> None:
    queue_reply(session)
    graph.status = 500
    graph.answer = {
        "error": {
            "message": "(#131000) Something went wrong",
            "type": "OAuthException",
            "code": 131000,
            "fbtrace_id": "A1b2C3",
        }
    }

    with caplog.at_level(logging.WARNING):
        assert mail.deliver_pending(session) == 0

    row = stored_reply(session)
    assert row.sent_at is None and row.attempts == 1
    assert row.last_error == (
        "GraphApiError: HTTP 500: (#131000) Something went wrong (code 131000)"
    )
    assert ACCESS_TOKEN not in (row.last_error or "") and ACCESS_TOKEN not in caplog.text
    assert "WhatsApp reply" in caplog.text

    graph.status = 200
    graph.answer = {"messages": [{"id": "wamid.ok"}]}
    assert mail.deliver_pending(session) == 1
    assert len(graph.requests) == 2
    assert [reply.sent for reply in replies(session)] == [True]


def test_a_graph_api_that_does_not_answer_is_given_up_on_in_time(
    session: Session, use_settings: UseSettings
) -> None:
    with graph_api() as api:
        api.hang = threading.Event()
        sender = whatsapp.GraphApiSender(
            api_url=api.url, phone_number_id=PHONE_NUMBER_ID, access_token="t", timeout=0.3
        )
        with pytest.raises(whatsapp.GraphApiError, match="timed out"):
            sender.send(to="+6281234567890", body="Halo")


def test_a_redirect_is_not_followed_with_the_token(session: Session, graph: GraphApi) -> None:
    queue_reply(session)
    graph.status = 307
    graph.headers = {"Location": "http://127.0.0.1:9/elsewhere"}

    assert mail.deliver_pending(session) == 0

    assert len(graph.requests) == 1
    row = stored_reply(session)
    assert (row.last_error or "").startswith("GraphApiError: HTTP 307")


def test_a_graph_api_that_cannot_be_reached_keeps_the_reply(
    session: Session, use_settings: UseSettings
) -> None:
    with graph_api() as api:
        url = api.url
    use_settings(
        whatsapp_api_url=url, whatsapp_access_token="t", whatsapp_phone_number_id=PHONE_NUMBER_ID
    )
    queue_reply(session)

    assert mail.deliver_pending(session) == 0

    row = stored_reply(session)
    assert row.sent_at is None and (row.last_error or "").startswith("GraphApiError: URLError")


def test_in_development_the_reply_goes_to_the_log_without_the_number(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    queue_reply(session, body="Terima kasih! https://suara.example/c/x/thanks/abc")

    with caplog.at_level(logging.WARNING):
        assert mail.deliver_pending(session) == 1

    assert "https://suara.example/c/x/thanks/abc" in caplog.text
    assert "81234567890" not in caplog.text


def test_in_production_without_the_cloud_api_replies_wait_and_say_what_to_set(
    session: Session, use_settings: UseSettings, caplog: pytest.LogCaptureFixture
) -> None:
    use_settings(
        env="production",
        secret_key="k" * 40,
        public_url="https://suara.example",
        smtp_url="smtp://127.0.0.1:9",
    )
    queue_reply(session, body="Terima kasih! https://suara.example/c/x/thanks/abc")

    with caplog.at_level(logging.WARNING):
        assert mail.deliver_pending(session) == 0

    assert [reply.sent for reply in replies(session)] == [False]
    assert (
        "1 WhatsApp reply(ies) waiting in the outbox: set PLEDGE_WHATSAPP_ACCESS_TOKEN and "
        "PLEDGE_WHATSAPP_PHONE_NUMBER_ID to send them"
    ) in caplog.text
    assert "thanks/abc" not in caplog.text


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: EmailMessage | None = None, **reply: str) -> None:
        self.sent.append(message if message is not None else reply)


def test_each_channel_goes_to_its_own_sender_and_emails_are_unchanged(session: Session) -> None:
    mail.queue(session, to="rina@example.org", subject="Konfirmasi", body="Isi email")
    session.commit()
    queue_reply(session, body="Balasan WhatsApp")
    email, replier = Recorder(), Recorder()

    assert mail.deliver_pending(session, sender=email, whatsapp_sender=replier) == 2

    [message] = email.sent
    assert (message["To"], message["Subject"]) == ("rina@example.org", "Konfirmasi")
    assert message.get_content().strip() == "Isi email"
    assert replier.sent == [{"to": "+6281234567890", "body": "Balasan WhatsApp"}]
    assert mail.pending_count(session) == 0


def test_delivery_can_be_kept_to_one_channel(session: Session) -> None:
    mail.queue(session, to="rina@example.org", subject="Konfirmasi", body="Isi email")
    session.commit()
    queue_reply(session)
    email, replier = Recorder(), Recorder()

    sent = mail.deliver_pending(
        session, sender=email, whatsapp_sender=replier, channels=[mail.Channel.WHATSAPP]
    )

    assert (sent, len(email.sent), len(replier.sent)) == (1, 0, 1)
    assert mail.pending_count(session, channel=mail.Channel.EMAIL) == 1
    assert mail.pending_count(session, channel=mail.Channel.WHATSAPP) == 0


# --- pledge mail send ---------------------------------------------------------------------


def test_mail_send_delivers_both_channels(
    session: Session, graph: GraphApi, capsys: pytest.CaptureFixture[str]
) -> None:
    mail.queue(session, to="rina@example.org", subject="Halo", body="Isi")
    session.commit()
    queue_reply(session)

    assert main(["mail", "send"]) == 0

    assert capsys.readouterr().out.strip() == "2 message(s) sent, 0 still waiting."
    assert len(graph.requests) == 1


def test_mail_send_says_which_channel_cannot_be_sent_and_sends_the_other(
    session: Session, use_settings: UseSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    with graph_api() as api:
        use_settings(
            env="production",
            secret_key="k" * 40,
            public_url="https://suara.example",
            whatsapp_api_url=api.url,
            whatsapp_access_token=ACCESS_TOKEN,
            whatsapp_phone_number_id=PHONE_NUMBER_ID,
        )
        mail.queue(session, to="rina@example.org", subject="Halo", body="Isi")
        session.commit()
        queue_reply(session)

        assert main(["mail", "send"]) == 1

    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "pledge: PLEDGE_SMTP_URL is not set; 1 message(s) waiting in the outbox."
    )
    assert captured.out.strip() == "1 message(s) sent, 1 still waiting."
    assert len(api.requests) == 1


def test_mail_send_in_production_without_the_cloud_api_says_what_to_set(
    session: Session, use_settings: UseSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    use_settings(env="production", secret_key="k" * 40, public_url="https://suara.example")
    queue_reply(session)

    assert main(["mail", "send"]) == 1

    assert capsys.readouterr().err.strip().splitlines() == [
        "pledge: PLEDGE_SMTP_URL is not set; 0 message(s) waiting in the outbox.",
        "pledge: PLEDGE_WHATSAPP_ACCESS_TOKEN and PLEDGE_WHATSAPP_PHONE_NUMBER_ID are not set; "
        "1 WhatsApp reply(ies) waiting in the outbox.",
    ]


# --- end to end: the webhook's reply reaches the Graph API ------------------------------------


def test_a_confirming_message_is_answered_through_the_graph_api(
    client: TestClient,
    session: Session,
    make_campaign: MakeCampaign,
    graph: GraphApi,
    use_settings: UseSettings,
) -> None:
    use_settings(
        whatsapp_api_url=graph.url,
        whatsapp_access_token=ACCESS_TOKEN,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
    )
    view = make_campaign()
    assert post_sign(client, view, contact=RINA).status_code == 303
    text = whatsapp_text(client.get(f"/c/{view.slug}/confirm"))

    answer = send_message(client, RINA, text)

    assert answer.status_code == 200
    [request] = graph.requests
    assert request["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request["json"]["to"] == "6281234567890"
    assert f"/c/{view.slug}/thanks/" in request["json"]["text"]["body"]
    assert [reply.sent for reply in replies(session)] == [True]


def test_production_refuses_a_whatsapp_number_without_the_app_secret() -> None:
    production = {
        "env": "production",
        "secret_key": "k" * 40,
        "public_url": "https://suara.example",
        "whatsapp_number": "6281100001111",
    }

    with pytest.raises(ValueError, match="PLEDGE_WHATSAPP_APP_SECRET"):
        settings(**production)
    assert settings(**production, whatsapp_app_secret="s").whatsapp_number
    # Development and tests write what they would send to the log: no secret needed there.
    assert settings(whatsapp_number="6281100001111").whatsapp_app_secret is None
