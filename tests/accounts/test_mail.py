"""The outbox and its delivery, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError
from sqlmodel import Session

from pledge import mail
from pledge.config import Settings, get_settings
from pledge.db import utcnow
from pledge.mail import OutboxMessage
from tests.support.appserver import free_port
from tests.support.db import outbox
from tests.support.settings import UseSettings

SECRET_KEY = "test-secret-key-that-is-long-enough-for-tests"
PUBLIC_URL = "https://suara.example"


class Inbox:
    """An aiosmtpd handler that keeps what it receives and refuses chosen recipients."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope: Envelope, address: str, options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def start(controller: Controller) -> Controller:
    controller.start()
    return controller


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_server(inbox: Inbox) -> Iterator[Controller]:
    controller = start(Controller(inbox, hostname="127.0.0.1", port=free_port()))
    yield controller
    controller.stop()


def smtp_url(controller: Controller, scheme: str = "smtp", credentials: str = "") -> str:
    return f"{scheme}://{credentials}127.0.0.1:{controller.port}"


def queue(session: Session, n: int = 1, to: str = "rina@example.org") -> list[OutboxMessage]:
    messages = [
        mail.queue(
            session,
            to=to if n == 1 else f"orang{i}@example.org",
            subject=f"Undangan {i}",
            body=f"Halo “{i}” 🇮🇩\nhttps://suara.example/invite/abc{i}\n",
        )
        for i in range(n)
    ]
    session.commit()
    return messages


# --- queueing ------------------------------------------------------------------------------


def test_a_queued_message_is_stored_with_the_callers_transaction(session: Session):
    mail.queue(session, to="rina@example.org", subject="Satu", body="Isi")
    session.rollback()
    assert outbox(session) == []

    mail.queue(session, to=" rina@example.org ", subject="Dua\r\nBcc: x@evil.example", body="Isi")
    session.commit()

    [message] = outbox(session)
    assert message.to == "rina@example.org"
    assert message.subject == "Dua Bcc: x@evil.example"
    assert message.sent_at is None and message.attempts == 0


# --- choosing a sender ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("plain", "mail.example.org", 25, None, "")),
        ("smtp://u:p@127.0.0.1:2525", ("plain", "127.0.0.1", 2525, "u", "p")),
        (
            "smtp+starttls://kirim%40suara.id:s%3Acret@smtp.example.org",
            ("starttls", "smtp.example.org", 587, "kirim@suara.id", "s:cret"),
        ),
        ("smtps://u:p@smtp.example.org", ("tls", "smtp.example.org", 465, "u", "p")),
        ("SMTPS://smtp.example.org:2465", ("tls", "smtp.example.org", 2465, None, "")),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]):
    server = mail.parse_smtp_url(url)

    assert (server.security, server.host, server.port, server.username, server.password) == (
        expected
    )


@pytest.mark.parametrize("url", ["http://smtp.example.org", "smtp://", "mail.example.org:25"])
def test_a_bad_smtp_url_is_refused_by_the_settings(url: str):
    with pytest.raises(ValidationError, match="PLEDGE_SMTP_URL"):
        Settings(smtp_url=url)
    with pytest.raises(ValueError):
        mail.parse_smtp_url(url)


def test_the_sender_depends_on_the_settings():
    production = Settings(env="production", secret_key=SECRET_KEY, public_url=PUBLIC_URL)
    with_smtp = Settings(
        env="production", secret_key=SECRET_KEY, public_url=PUBLIC_URL, smtp_url="smtps://h"
    )
    development = Settings(env="development")

    assert isinstance(mail.default_sender(with_smtp), mail.SmtpSender)
    assert isinstance(mail.default_sender(development), mail.LogSender)
    assert mail.default_sender(production) is None


def test_without_smtp_in_development_the_message_goes_to_the_log(
    session: Session, caplog: pytest.LogCaptureFixture
):
    queue(session)

    with caplog.at_level(logging.WARNING, logger="pledge.mail"):
        assert mail.deliver_pending(session) == 1

    assert "https://suara.example/invite/abc0" in caplog.text
    assert "rina@example.org" not in caplog.text  # no address ever reaches a log
    [message] = outbox(session)
    assert message.sent_at is not None and message.attempts == 1


def test_without_smtp_in_production_messages_wait_and_links_stay_out_of_the_log(
    session: Session, caplog: pytest.LogCaptureFixture, use_settings: UseSettings
):
    queue(session, 2)
    use_settings(env="production", public_url=PUBLIC_URL)

    with caplog.at_level(logging.DEBUG):
        assert mail.deliver_pending(session) == 0

    assert "2 email(s) waiting in the outbox" in caplog.text
    assert "/invite/" not in caplog.text
    assert all(m.sent_at is None and m.attempts == 0 for m in outbox(session))


# --- SMTP ----------------------------------------------------------------------------------


def test_messages_are_delivered_by_smtp(session: Session, smtp_server: Controller, inbox: Inbox):
    queue(session, 2)

    sent = mail.deliver_pending(session, sender=mail.SmtpSender(smtp_url(smtp_server)))

    assert sent == 2
    assert [to for _sender, to in inbox.envelopes] == [
        ["orang0@example.org"],
        ["orang1@example.org"],
    ]
    first = inbox.messages[0]
    assert first["From"] == "Suara Kita <no-reply@localhost>"
    assert first["To"] == "orang0@example.org"
    assert first["Subject"] == "Undangan 0"
    assert first["Message-ID"].endswith("@localhost>")
    assert first["Date"]
    body = first.get_content().replace("\r\n", "\n")
    assert body == "Halo “0” 🇮🇩\nhttps://suara.example/invite/abc0\n"
    for message in outbox(session):
        assert message.sent_at is not None
        assert message.attempts == 1
        assert message.last_error is None
    assert mail.deliver_pending(session, sender=mail.SmtpSender(smtp_url(smtp_server))) == 0
    assert len(inbox.messages) == 2


def test_a_server_that_is_down_counts_an_attempt_and_a_retry_delivers(
    session: Session, inbox: Inbox
):
    port = free_port()
    sender = mail.SmtpSender(f"smtp://127.0.0.1:{port}", timeout=5)
    queue(session)

    assert mail.deliver_pending(session, sender=sender) == 0

    [message] = outbox(session)
    assert message.sent_at is None
    assert message.attempts == 1
    assert message.last_error is not None
    assert message.last_error.startswith("ConnectionRefusedError")
    assert len(message.last_error) <= 500

    controller = start(Controller(inbox, hostname="127.0.0.1", port=port))
    try:
        assert mail.deliver_pending(session, sender=sender) == 1
    finally:
        controller.stop()

    [message] = outbox(session)
    assert message.sent_at is not None
    assert message.attempts == 2
    assert message.last_error is None
    assert [m["To"] for m in inbox.messages] == ["rina@example.org"]


def test_one_refused_message_does_not_stop_the_others(session: Session):
    inbox = Inbox(refuse=("orang1@example.org",))
    controller = start(Controller(inbox, hostname="127.0.0.1", port=free_port()))
    queue(session, 3)
    try:
        sent = mail.deliver_pending(session, sender=mail.SmtpSender(smtp_url(controller)))
    finally:
        controller.stop()

    assert sent == 2
    assert [m["To"] for m in inbox.messages] == ["orang0@example.org", "orang2@example.org"]
    refused = next(m for m in outbox(session) if m.to == "orang1@example.org")
    assert refused.sent_at is None and refused.attempts == 1
    assert refused.last_error is not None
    assert "SMTPRecipientsRefused" in refused.last_error
    assert "No such mailbox" in refused.last_error


def test_a_message_that_failed_too_often_is_left_for_an_operator(
    session: Session, smtp_server: Controller, inbox: Inbox
):
    [message] = queue(session)
    message.attempts = get_settings().mail_max_attempts
    session.add(message)
    session.commit()

    assert mail.deliver_pending(session, sender=mail.SmtpSender(smtp_url(smtp_server))) == 0
    assert inbox.messages == []
    assert mail.pending_count(session) == 1


def test_a_message_claimed_by_another_process_is_left_alone(
    session: Session, smtp_server: Controller, inbox: Inbox
):
    [message] = queue(session)
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(table)
        .where(table.c.id == message.id)
        .values(sent_at=utcnow(), attempts=1, last_error=mail.SENDING)
    )
    session.commit()

    assert mail.deliver_pending(session, sender=mail.SmtpSender(smtp_url(smtp_server))) == 0
    assert inbox.messages == []


def test_a_claim_left_by_a_process_that_died_is_released(
    session: Session, smtp_server: Controller, inbox: Inbox
):
    [message] = queue(session)
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(table)
        .where(table.c.id == message.id)
        .values(sent_at=utcnow() - dt.timedelta(hours=1), attempts=1, last_error=mail.SENDING)
    )
    session.commit()

    assert mail.deliver_pending(session, sender=mail.SmtpSender(smtp_url(smtp_server))) == 1

    [message] = outbox(session)
    assert message.attempts == 2 and message.last_error is None
    assert len(inbox.messages) == 1


def test_several_processes_at_once_send_each_message_once(engine: sa.Engine, session: Session):
    queue(session, 12)
    seen: list[str] = []
    lock = threading.Lock()

    class Recorder:
        def send(self, message: EmailMessage) -> None:
            with lock:
                seen.append(str(message["To"]))

    def worker() -> None:
        with Session(engine, expire_on_commit=False) as own:
            mail.deliver_pending(own, sender=Recorder())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(seen) == sorted(f"orang{i}@example.org" for i in range(12))
    assert all(m.sent_at is not None and m.attempts == 1 for m in outbox(session))


# --- TLS and authentication ----------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1, and a client context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return cert_path, key_path, client


def server_context(certificate: tuple[Path, Path, ssl.SSLContext]) -> ssl.SSLContext:
    cert_path, key_path, _client = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"kirim@suara.id",
        b"rahasia:sekali",
    )
    return AuthResult(success=ok, handled=False)


CREDENTIALS = "kirim%40suara.id:rahasia%3Asekali@"


def test_starttls_with_a_login(
    session: Session, inbox: Inbox, certificate: tuple[Path, Path, ssl.SSLContext]
):
    controller = start(
        Controller(
            inbox,
            hostname="127.0.0.1",
            port=free_port(),
            tls_context=server_context(certificate),
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
        )
    )
    queue(session)
    try:
        sender = mail.SmtpSender(
            smtp_url(controller, "smtp+starttls", CREDENTIALS), ssl_context=certificate[2]
        )
        assert mail.deliver_pending(session, sender=sender) == 1

        queue(session)
        wrong = mail.SmtpSender(
            smtp_url(controller, "smtp+starttls", "kirim%40suara.id:salah@"),
            ssl_context=certificate[2],
        )
        assert mail.deliver_pending(session, sender=wrong) == 0
    finally:
        controller.stop()

    assert len(inbox.messages) == 1
    failed = [m for m in outbox(session) if m.sent_at is None]
    assert len(failed) == 1
    assert failed[0].last_error is not None
    assert failed[0].last_error.startswith("SMTPAuthenticationError")


def test_a_certificate_that_is_not_trusted_is_refused(
    session: Session, inbox: Inbox, certificate: tuple[Path, Path, ssl.SSLContext]
):
    controller = start(
        Controller(
            inbox,
            hostname="127.0.0.1",
            port=free_port(),
            tls_context=server_context(certificate),
            require_starttls=True,
        )
    )
    queue(session)
    try:
        sender = mail.SmtpSender(smtp_url(controller, "smtp+starttls"))  # system CAs only
        assert mail.deliver_pending(session, sender=sender) == 0
    finally:
        controller.stop()

    assert inbox.messages == []
    [message] = outbox(session)
    assert message.last_error is not None and "CERTIFICATE_VERIFY_FAILED" in message.last_error


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtps_with_tls_from_the_start(
    session: Session, inbox: Inbox, certificate: tuple[Path, Path, ssl.SSLContext]
):
    controller = start(
        Controller(
            inbox,
            hostname="127.0.0.1",
            port=free_port(),
            ssl_context=server_context(certificate),
            authenticator=authenticator,
            auth_required=True,
            # The connection is TLS from the start, which aiosmtpd does not count as TLS.
            auth_require_tls=False,
        )
    )
    queue(session)
    try:
        sender = mail.SmtpSender(
            smtp_url(controller, "smtps", CREDENTIALS), ssl_context=certificate[2]
        )
        assert mail.deliver_pending(session, sender=sender) == 1
    finally:
        controller.stop()

    assert [m["To"] for m in inbox.messages] == ["rina@example.org"]


# --- after a request -----------------------------------------------------------------------


def test_background_delivery_never_raises(caplog: pytest.LogCaptureFixture):
    unreachable = sa.create_engine("sqlite:////nonexistent/folder/db.sqlite")

    with caplog.at_level(logging.ERROR, logger="pledge.mail"):
        mail.deliver_in_new_session(unreachable)

    assert "delivering the outbox failed" in caplog.text
