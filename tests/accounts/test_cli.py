"""The ``pledge`` commands for accounts: users create, orgs create, mail send, demo users."""

from __future__ import annotations

import getpass
import io
from collections.abc import Callable

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from pledge import mail
from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.cli import main
from pledge.config import get_settings
from pledge.demo import DEMO_PASSWORD
from pledge.security import verify_password
from tests.accounts.test_mail import Inbox
from tests.support.appserver import free_port
from tests.support.db import fresh, outbox
from tests.support.factories import MakeUser
from tests.support.people import PASSWORD, login
from tests.support.settings import UseSettings

MakeOrg = Callable[..., Organization]


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def feed(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    return feed


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answers typed at the getpass prompts, in order; the test fills the list."""
    answers: list[str] = []

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        return answers.pop(0)

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    return answers


def user(session: Session, email: str) -> User | None:
    return accounts.get_by_email(fresh(session), email)


def refused(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err.strip()


# --- users create --------------------------------------------------------------------------


def test_create_a_user_with_the_password_on_stdin(
    session: Session, make_org: MakeOrg, stdin, capsys: pytest.CaptureFixture[str]
):
    org = make_org(slug="cek-fakta")
    stdin(PASSWORD + "\n")

    code = main(
        [
            "users",
            "create",
            "Rina@Example.org",
            "--role",
            "admin",
            "--org",
            "cek-fakta",
            "--name",
            "Rina",
            "--password-stdin",
        ]
    )

    assert code == 0
    out = capsys.readouterr().out
    assert "Created user rina@example.org." in out
    assert "Admin of cek-fakta" in out
    created = user(session, "rina@example.org")
    assert created is not None
    assert created.display_name == "Rina"
    assert not created.is_site_admin
    assert verify_password(created.password_hash, PASSWORD)
    assert accounts.role_in(session, user_id=created.id or 0, org_id=org.id or 0) == Role.ADMIN


def test_the_new_user_can_sign_in(
    session: Session, make_org: MakeOrg, stdin, client, capsys: pytest.CaptureFixture[str]
):
    make_org(slug="cek-fakta")
    stdin(PASSWORD)
    main(
        [
            "users",
            "create",
            "rina@example.org",
            "--role",
            "moderator",
            "--org",
            "cek-fakta",
            "--password-stdin",
        ]
    )

    assert login(client, "rina@example.org", PASSWORD).status_code == 303


def test_the_password_is_asked_twice_at_the_terminal(
    session: Session, make_org: MakeOrg, terminal: list[str], capsys: pytest.CaptureFixture[str]
):
    make_org(slug="cek-fakta")
    terminal.extend([PASSWORD, PASSWORD])

    code = main(
        ["users", "create", "rina@example.org", "--role", "moderator", "--org", "cek-fakta"]
    )

    assert code == 0
    created = user(session, "rina@example.org")
    assert created is not None and verify_password(created.password_hash, PASSWORD)
    assert terminal == []


def test_two_different_passwords_at_the_terminal_are_refused(
    session: Session, make_org: MakeOrg, terminal: list[str], capsys: pytest.CaptureFixture[str]
):
    make_org(slug="cek-fakta")
    terminal.extend([PASSWORD, "sesuatu-yang-lain"])

    code = main(
        ["users", "create", "rina@example.org", "--role", "moderator", "--org", "cek-fakta"]
    )

    assert code == 1
    assert refused(capsys) == "pledge: The two passwords are not the same."
    assert user(session, "rina@example.org") is None


def test_a_short_password_at_the_terminal_is_refused_in_the_words_of_the_pages(
    session: Session, make_org: MakeOrg, terminal: list[str], capsys: pytest.CaptureFixture[str]
):
    """Typed twice, the password is checked as the reset and invitation pages check theirs:
    its length first, then the second typing."""
    make_org(slug="cek-fakta")
    terminal.extend(["pendek", "lain"])

    code = main(
        ["users", "create", "rina@example.org", "--role", "moderator", "--org", "cek-fakta"]
    )

    assert code == 1
    assert refused(capsys) == "pledge: Use at least 10 characters for your password."
    assert user(session, "rina@example.org") is None


def test_a_short_password_is_refused(
    session: Session, make_org: MakeOrg, stdin, capsys: pytest.CaptureFixture[str]
):
    make_org(slug="cek-fakta")
    stdin("pendek\n")

    code = main(
        [
            "users",
            "create",
            "rina@example.org",
            "--role",
            "admin",
            "--org",
            "cek-fakta",
            "--password-stdin",
        ]
    )

    assert code == 1
    assert refused(capsys) == "pledge: Use at least 10 characters for your password."
    assert user(session, "rina@example.org") is None


def test_an_unknown_organisation_is_refused_before_the_password_is_asked(
    session: Session, terminal: list[str], capsys: pytest.CaptureFixture[str]
):
    code = main(["users", "create", "rina@example.org", "--role", "admin", "--org", "tidak-ada"])

    assert code == 1
    assert refused(capsys) == "pledge: We could not find that organisation."
    assert user(session, "rina@example.org") is None


def test_a_bad_email_is_refused(
    session: Session, make_org: MakeOrg, stdin, capsys: pytest.CaptureFixture[str]
):
    make_org(slug="cek-fakta")
    stdin(PASSWORD)

    code = main(
        [
            "users",
            "create",
            "bukan-email",
            "--role",
            "admin",
            "--org",
            "cek-fakta",
            "--password-stdin",
        ]
    )

    assert code == 1
    assert refused(capsys) == (
        "pledge: That email address does not look right. Check it and try again."
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--org", "cek-fakta"],
        ["--role", "admin"],
        [],
    ],
)
def test_org_and_role_go_together(
    session: Session, make_org: MakeOrg, capsys: pytest.CaptureFixture[str], args: list[str]
):
    make_org(slug="cek-fakta")

    code = main(["users", "create", "rina@example.org", *args, "--password-stdin"])

    assert code == 2
    assert refused(capsys).startswith("pledge: give --org")
    assert user(session, "rina@example.org") is None


def test_an_unknown_role_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as caught:
        main(["users", "create", "rina@example.org", "--role", "raja", "--org", "x"])

    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_an_existing_user_gets_the_membership_and_keeps_the_password(
    session: Session,
    make_org: MakeOrg,
    make_user: MakeUser,
    stdin,
    capsys: pytest.CaptureFixture[str],
):
    org = make_org(slug="cek-fakta")
    existing = make_user("rina@example.org", org=make_org(), role="admin")
    stdin("")  # nothing is read

    code = main(
        [
            "users",
            "create",
            "rina@example.org",
            "--role",
            "moderator",
            "--org",
            "cek-fakta",
            "--password-stdin",
        ]
    )

    assert code == 0
    out = capsys.readouterr().out
    assert "Updated user rina@example.org." in out
    assert "Password left unchanged." in out
    fresh(session)
    assert verify_password(existing.password_hash, PASSWORD)
    assert accounts.role_in(session, user_id=existing.id or 0, org_id=org.id or 0) == Role.MODERATOR


def test_a_site_admin_without_an_organisation(
    session: Session, stdin, capsys: pytest.CaptureFixture[str]
):
    stdin(PASSWORD)

    code = main(["users", "create", "operator@example.org", "--site-admin", "--password-stdin"])

    assert code == 0
    created = user(session, "operator@example.org")
    assert created is not None and created.is_site_admin
    assert accounts.list_memberships(session, user_id=created.id or 0) == []


def test_an_empty_stdin_is_a_short_password(
    session: Session, make_org: MakeOrg, stdin, capsys: pytest.CaptureFixture[str]
):
    make_org(slug="cek-fakta")
    stdin("")

    code = main(
        [
            "users",
            "create",
            "rina@example.org",
            "--role",
            "admin",
            "--org",
            "cek-fakta",
            "--password-stdin",
        ]
    )

    assert code == 1
    assert "at least 10 characters" in refused(capsys)


# --- orgs create ---------------------------------------------------------------------------


def test_create_an_organisation(session: Session, capsys: pytest.CaptureFixture[str]):
    code = main(
        [
            "orgs",
            "create",
            "cek-fakta",
            "Cek Fakta Muda",
            "--website",
            "https://cfm.or.id",
            "--verified",
        ]
    )

    assert code == 0
    assert "Created organisation cek-fakta (Cek Fakta Muda), approved." in capsys.readouterr().out
    org = accounts.get_org_by_slug(fresh(session), "cek-fakta")
    assert (org.name, org.website, org.verified) == ("Cek Fakta Muda", "https://cfm.or.id", True)


def test_an_organisation_waits_for_approval_unless_verified(
    session: Session, capsys: pytest.CaptureFixture[str]
):
    assert main(["orgs", "create", "cek-fakta", "Cek Fakta Muda"]) == 0

    assert "waiting for a site admin's approval" in capsys.readouterr().out
    assert not accounts.get_org_by_slug(fresh(session), "cek-fakta").verified


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Cek Fakta", "Nama"], "pledge: Use lower-case letters, digits and dashes only."),
        (
            ["cek-fakta", "Nama", "--website", "cekfakta.or.id"],
            "pledge: Enter the full address of the website, like https://contoh.or.id.",
        ),
        (["cek-fakta", "  "], "pledge: Enter the organisation's name (at most 160 characters)."),
    ],
)
def test_a_bad_organisation_is_refused(
    session: Session, capsys: pytest.CaptureFixture[str], args: list[str], message: str
):
    code = main(["orgs", "create", *args])

    assert code == 1
    assert refused(capsys) == message
    assert fresh(session).exec(select(Organization)).all() == []


def test_a_taken_short_name_is_refused(
    session: Session, make_org: MakeOrg, capsys: pytest.CaptureFixture[str]
):
    make_org(slug="cek-fakta")

    assert main(["orgs", "create", "cek-fakta", "Lain"]) == 1
    assert refused(capsys) == "pledge: An organisation with this short name already exists."


# --- mail send -----------------------------------------------------------------------------


def test_mail_send_delivers_the_waiting_messages_by_smtp(
    session: Session, use_settings: UseSettings, capsys: pytest.CaptureFixture[str]
):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mail.queue(session, to="rina@example.org", subject="Halo", body="Isi")
    mail.queue(session, to="budi@example.org", subject="Halo", body="Isi")
    session.commit()
    use_settings(smtp_url=f"smtp://127.0.0.1:{controller.port}", mail_from="Tim <tim@suara.id>")
    try:
        code = main(["mail", "send"])
    finally:
        controller.stop()

    assert code == 0
    assert capsys.readouterr().out.strip() == "2 message(s) sent, 0 still waiting."
    assert sorted(m["To"] for m in inbox.messages) == ["budi@example.org", "rina@example.org"]
    assert {m["From"] for m in inbox.messages} == {"Tim <tim@suara.id>"}


def test_mail_send_reports_what_it_could_not_send(
    session: Session, use_settings: UseSettings, capsys: pytest.CaptureFixture[str]
):
    mail.queue(session, to="rina@example.org", subject="Halo", body="Isi")
    session.commit()
    use_settings(smtp_url=f"smtp://127.0.0.1:{free_port()}")

    assert main(["mail", "send"]) == 0

    assert capsys.readouterr().out.strip() == "0 message(s) sent, 1 still waiting."
    [message] = outbox(session)
    assert message.attempts == 1 and message.last_error


def test_mail_send_in_production_without_smtp_says_what_is_missing(
    session: Session, use_settings: UseSettings, capsys: pytest.CaptureFixture[str]
):
    mail.queue(session, to="rina@example.org", subject="Halo", body="Isi")
    session.commit()
    use_settings(env="production", public_url="https://suara.example")

    assert main(["mail", "send"]) == 1
    assert refused(capsys) == (
        "pledge: PLEDGE_SMTP_URL is not set; 1 message(s) waiting in the outbox."
    )


def test_a_bad_smtp_url_is_explained(
    session: Session, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PLEDGE_SMTP_URL", "http://mail.example.org")
    get_settings.cache_clear()
    try:
        code = main(["mail", "send"])
    finally:
        monkeypatch.delenv("PLEDGE_SMTP_URL")
        get_settings.cache_clear()

    assert code == 2
    assert "PLEDGE_SMTP_URL must be smtp://" in refused(capsys)


# --- the demo ------------------------------------------------------------------------------


def test_the_demo_creates_the_staff_and_says_how_to_sign_in(
    session: Session, client, capsys: pytest.CaptureFixture[str]
):
    assert main(["demo", "--supporters", "0"]) == 0

    out = capsys.readouterr().out
    assert "/login" in out
    assert DEMO_PASSWORD in out
    assert "admin@contoh.id" in out and "moderator@contoh.id" in out
    admin = user(session, "admin@contoh.id")
    moderator = user(session, "moderator@contoh.id")
    assert admin is not None and moderator is not None
    assert admin.is_site_admin and not moderator.is_site_admin
    lead = accounts.get_org_by_slug(session, "jaringan-pemilih-muda")
    checkers = accounts.get_org_by_slug(session, "cek-fakta-muda")
    assert accounts.role_in(session, user_id=admin.id or 0, org_id=lead.id or 0) == Role.ADMIN
    assert (
        accounts.role_in(session, user_id=moderator.id or 0, org_id=checkers.id or 0)
        == Role.MODERATOR
    )
    assert login(client, "admin@contoh.id", DEMO_PASSWORD).status_code == 303
    assert client.get("/dashboard/jaringan-pemilih-muda/members").status_code == 200

    assert main(["demo", "--supporters", "0"]) == 0
    assert len(fresh(session).exec(select(User)).all()) == 2


def test_the_demo_makes_no_users_in_production(
    session: Session, use_settings: UseSettings, capsys: pytest.CaptureFixture[str]
):
    use_settings(env="production", public_url="https://suara.example")

    assert main(["demo", "--supporters", "0"]) == 0

    captured = capsys.readouterr()
    assert "were not created" in captured.err
    assert DEMO_PASSWORD not in captured.out
    assert fresh(session).exec(select(User)).all() == []
