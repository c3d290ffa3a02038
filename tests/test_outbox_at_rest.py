"""No link that signs someone in is readable at rest: the outbox keeps a waiting message's body
encrypted and empties it once sent, and a SQLite database is created readable by its owner
only, with its -wal and -shm files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from pledge import mail
from pledge.accounts import service as accounts
from pledge.campaigns.models import CampaignView
from pledge.cli import upgrade
from pledge.config import get_settings
from pledge.db import create_db_engine
from pledge.mail import OutboxMessage, outbox_message_table
from pledge.security import FieldCipher
from tests.support.factories import MakeCampaign, MakeUser
from tests.support.mailbox import text_of
from tests.support.settings import UseSettings
from tests.support.signing import sign_by_email

OTHER_KEY = "another-secret-key-that-is-long-enough-for-tests"


class Recorder:
    """A sender that keeps what it is handed."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def stored(session: Session) -> list[sa.Row[tuple[int, str, str, str, object]]]:
    """The outbox's rows as the database holds them."""
    session.rollback()
    outbox = outbox_message_table
    return list(
        session.execute(
            sa.select(
                outbox.c.id, outbox.c.to, outbox.c.subject, outbox.c.body, outbox.c.sent_at
            ).order_by(outbox.c.id)
        ).all()
    )


@pytest.fixture
def live(make_campaign: MakeCampaign) -> CampaignView:
    return make_campaign()


# --- the body at rest ----------------------------------------------------------------------


def test_a_signers_email_is_stored_without_its_link_or_code(
    session: Session, live: CampaignView
) -> None:
    emailed = sign_by_email(session, live, "rina@example.org")

    [row] = stored(session)
    assert row.sent_at is None
    assert emailed.confirm_path in text_of(row.id, row.body)
    assert emailed.confirm_path not in row.body
    assert emailed.code not in row.body
    assert "/c/" not in row.body


def test_a_password_reset_link_is_stored_encrypted(session: Session, make_user: MakeUser) -> None:
    make_user("rina@example.org")

    accounts.request_password_reset(
        session, email="rina@example.org", base_url="https://suara.example"
    )
    session.commit()

    [row] = stored(session)
    assert "/password/reset/" not in row.body
    assert "https://suara.example/password/reset/" in text_of(row.id, row.body)
    # Keyed by the site's secret key, and readable with it only.
    assert FieldCipher(get_settings().secret_key).decrypt(row.body) == text_of(row.id, row.body)
    assert FieldCipher(OTHER_KEY).decrypt(row.body) is None


def test_a_sent_message_keeps_its_recipient_and_subject_and_loses_its_body(
    session: Session,
) -> None:
    mail.queue(
        session, to="rina@example.org", subject="Undangan", body="https://suara.example/invite/S"
    )
    session.commit()
    recorder = Recorder()

    assert mail.deliver_pending(session, sender=recorder) == 1

    [message] = recorder.sent
    assert message.get_content() == "https://suara.example/invite/S\n"
    [row] = stored(session)
    assert row.body == ""
    assert (row.to, row.subject) == ("rina@example.org", "Undangan")
    assert row.sent_at is not None


def test_a_message_the_key_cannot_open_fails_and_waits_with_the_reason(
    session: Session, use_settings: UseSettings
) -> None:
    mail.queue(session, to="rina@example.org", subject="Undangan", body="https://x/invite/S")
    session.commit()
    use_settings(secret_key=OTHER_KEY)
    recorder = Recorder()

    assert mail.deliver_pending(session, sender=recorder) == 0

    assert recorder.sent == []
    session.rollback()
    [message] = session.exec(select(OutboxMessage)).all()
    assert message.sent_at is None and message.attempts == 1
    assert message.body  # kept: the old key may yet be put back
    assert message.last_error is not None
    assert "PLEDGE_SECRET_KEY was changed" in message.last_error


def test_a_message_written_to_the_log_in_development_stays_encrypted(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    mail.queue(session, to="rina@example.org", subject="Undangan", body="https://x/invite/ABC")
    session.commit()

    with caplog.at_level("WARNING", logger="pledge.mail"):
        assert mail.deliver_pending(session) == 1

    assert "https://x/invite/ABC" in caplog.text
    [row] = stored(session)
    assert row.sent_at is not None
    assert "invite" not in row.body
    assert mail.open_body(row.body) == "https://x/invite/ABC"


# --- the database file ---------------------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask of a shared machine that lets every user read new files."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_db_upgrade_creates_the_folder_and_files_for_their_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "var"
    database = folder / "pledge.db"
    url = f"sqlite:///{database}"

    upgrade(url)
    engine = create_db_engine(get_settings().model_copy(update={"database_url": url}))
    try:
        with engine.begin() as conn:  # a write: the -wal and -shm files exist while it is open
            conn.execute(
                sa.insert(outbox_message_table),
                [mail.outbox_row(to="a@b.c", subject="s", body="b")],
            )
            side = [database.with_name(database.name + end) for end in ("-wal", "-shm")]
            assert all(path.exists() for path in side)
            assert [mode(path) for path in side] == [0o600, 0o600]
    finally:
        engine.dispose()
    assert mode(folder) == 0o700
    assert mode(database) == 0o600


@pytest.mark.usefixtures("open_umask")
def test_a_database_made_readable_to_all_is_narrowed_when_opened(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o755)
    database = folder / "pledge.db"
    database.touch()
    database.chmod(0o644)

    engine = create_db_engine(
        get_settings().model_copy(update={"database_url": f"sqlite:///{database}"})
    )
    engine.dispose()

    assert mode(database) == 0o600
    assert mode(folder) == 0o755  # a folder that was there already is the operator's
