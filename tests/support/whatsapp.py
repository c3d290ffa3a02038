"""WhatsApp as Meta speaks it: the webhook's notifications in the Cloud API's documented shape,
signed with the app secret; a Graph API on loopback that records the replies it is given; and
the replies waiting in the outbox."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import contacts, whatsapp
from pledge.mail import Channel, outbox_message_table
from tests.support.mailbox import text_of

APP_SECRET = "test-whatsapp-app-secret"
VERIFY_TOKEN = "test-whatsapp-verify-token"
BUSINESS_NUMBER = "6281100001111"
PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "test-graph-access-token"
WEBHOOK = "/webhooks/whatsapp"


def wa_id(number: str) -> str:
    """A number as WhatsApp writes it in ``from``: digits with the country code."""
    return contacts.normalise_contact(number).lstrip("+")


def text_message(number: str, text: str, *, message_id: str | None = None) -> dict[str, Any]:
    """A text message from a number, as it appears in ``value.messages``."""
    return {
        "from": wa_id(number),
        "id": message_id or f"wamid.{secrets.token_urlsafe(24)}",
        "timestamp": "1749416383",
        "type": "text",
        "text": {"body": text},
    }


def image_message(number: str) -> dict[str, Any]:
    return {
        "from": wa_id(number),
        "id": f"wamid.{secrets.token_urlsafe(24)}",
        "timestamp": "1749416383",
        "type": "image",
        "image": {"mime_type": "image/jpeg", "sha256": "abc", "id": "1234567890"},
    }


def status_update(number: str, status: str = "delivered") -> dict[str, Any]:
    """The status of a reply we sent, as it appears in ``value.statuses``."""
    return {
        "id": f"wamid.{secrets.token_urlsafe(24)}",
        "status": status,
        "timestamp": "1749416390",
        "recipient_id": wa_id(number),
    }


def change(
    messages: list[dict[str, Any]] = (),  # type: ignore[assignment]
    statuses: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """One change of the "messages" field: the messages and status updates it carries."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BUSINESS_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages:
        value["contacts"] = [
            {"profile": {"name": "Rina"}, "wa_id": message["from"]} for message in messages
        ]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"value": value, "field": "messages"}


def notification(*changes: dict[str, Any], entries: int = 1) -> dict[str, Any]:
    """A notification with these changes, in one entry (or the same changes in several)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": list(changes)} for _ in range(entries)],
    }


def body_of(payload: dict[str, Any]) -> bytes:
    """The body as Meta sends it: JSON, non-ASCII characters escaped."""
    return json.dumps(payload).encode()


def post_signed(
    client: TestClient,
    payload: dict[str, Any] | bytes,
    *,
    secret: str = APP_SECRET,
    signature: str | None = None,
) -> Any:
    """Post a notification to the webhook, signed with ``secret`` (or with the ``signature``
    given)."""
    body = payload if isinstance(payload, bytes) else body_of(payload)
    header = signature if signature is not None else whatsapp.signature(body, secret)
    return client.post(
        WEBHOOK,
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": header},
    )


def send_message(client: TestClient, number: str, text: str, **options: Any) -> Any:
    """A text message from ``number`` brought by the webhook."""
    return post_signed(client, notification(change([text_message(number, text, **options)])))


@dataclass(frozen=True)
class Reply:
    to: str
    subject: str
    body: str
    sent: bool


def replies(session: Session, number: str | None = None) -> list[Reply]:
    """The WhatsApp replies in the outbox (to one number, if given), oldest first."""
    session.rollback()
    outbox = outbox_message_table
    query = sa.select(
        outbox.c.id, outbox.c.to, outbox.c.subject, outbox.c.body, outbox.c.sent_at
    ).where(outbox.c.channel == Channel.WHATSAPP.value)
    if number is not None:
        query = query.where(outbox.c.to == contacts.normalise_contact(number))
    rows = session.execute(query.order_by(outbox.c.id)).all()
    return [
        Reply(to, subject, text_of(id_, body), sent_at is not None)
        for id_, to, subject, body, sent_at in rows
    ]


# --- a Graph API on loopback ----------------------------------------------------------------


@dataclass
class GraphApi:
    """What the fake Graph API was given, and how it answers next."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    answer: dict[str, Any] = field(
        default_factory=lambda: {
            "messaging_product": "whatsapp",
            "messages": [{"id": "wamid.reply"}],
        }
    )
    headers: dict[str, str] = field(default_factory=dict)
    hang: threading.Event | None = None  # set: answer nothing until the event is set


@contextmanager
def graph_api(version: str = "v99.0") -> Iterator[GraphApi]:
    """A Graph API on a free loopback port, at ``http://127.0.0.1:<port>/<version>``: it
    records each request's path, bearer token and JSON, and answers ``status``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GraphHandler)
    api = GraphApi(url=f"http://127.0.0.1:{server.server_address[1]}/{version}")
    server.api = api  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        if api.hang is not None:
            api.hang.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _GraphHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        api: GraphApi = self.server.api  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        api.requests.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "json": json.loads(raw or b"null"),
            }
        )
        if api.hang is not None:
            api.hang.wait(timeout=30)
            return
        answer = json.dumps(api.answer).encode()
        self.send_response(api.status)
        for name, value in api.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass  # the test's output stays its own
