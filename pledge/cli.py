"""The ``pledge`` command: serve the site, migrate the database, seed the demo, repair tallies,
create users and organisations, send the messages waiting in the outbox, feed a WhatsApp
message through the confirmation as the webhook does, invalidate signatures."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import logging.config
import re
import secrets
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from alembic import command
from alembic.config import Config
from pydantic import ValidationError
from sqlmodel import Session

from pledge import i18n
from pledge.config import Environment, Settings, get_settings
from pledge.db import create_db_engine
from pledge.errors import Invalid, PledgeError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from pledge.mail import Channel
    from pledge.supporters.by_whatsapp import Handled
    from pledge.supporters.service import SignerLinks

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    return config


def upgrade(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url), "head")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pledge import observability
    from pledge.web import server

    settings = get_settings()  # refuse a bad configuration before any worker starts
    if args.workers > 1 and settings.ratelimit_storage.startswith("memory://"):
        # A log line like the server's own (JSON in production), before the workers start.
        logging.config.dictConfig(observability.log_config(settings))
        logging.getLogger("pledge.serve").warning(
            "each of the %d workers counts the rate limits on its own, so one address may "
            "sign %d times as often: set PLEDGE_RATELIMIT_STORAGE=redis://... to count them "
            "together",
            args.workers,
            args.workers,
        )
        # Written now, before the workers start and fill the log.
        for handler in logging.getLogger().handlers:
            handler.flush()
    _raise_open_files_limit()
    # Several workers share their metrics through files in one folder, named in the
    # environment before uvicorn starts them.
    with observability.multiprocess_metrics(args.workers):
        uvicorn.run(
            "pledge.app:create_served_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            forwarded_allow_ips=args.forwarded_allow_ips,
            log_config=observability.log_config(settings),
            log_level=settings.log_level,
            # The app writes the access line itself, with the route and the request id.
            access_log=False,
            server_header=False,
            # Bounded request heads, a header timeout, and live streams that end at shutdown.
            http="pledge.web.server:HttpProtocol",
            timeout_keep_alive=server.KEEP_ALIVE_SECONDS,
            # What a request in flight gets to finish when the server stops.
            timeout_graceful_shutdown=10,
        )
    return 0


def _raise_open_files_limit() -> None:
    """Every open live-count stream is a socket: allow as many as the system lets us."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _db_upgrade(_args: argparse.Namespace) -> int:
    upgrade()
    print("Database is at the latest schema.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pledge.demo import CAMPAIGN_SLUG, DEMO_PASSWORD, DEMO_USERS, seed

    settings = get_settings()
    engine = create_db_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        seed(session, supporters_count=args.supporters)
    print(f"Demo campaign ready at /c/{CAMPAIGN_SLUG}")
    if settings.env == Environment.PRODUCTION:
        print(
            "warning: PLEDGE_ENV=production, so the demo users (with their published password) "
            "were not created. Use `pledge users create` instead.",
            file=sys.stderr,
        )
        return 0
    login = (settings.public_url or "").rstrip("/") + "/login"
    print(f"Sign in at {login} with the password {DEMO_PASSWORD} as:")
    for email, _name, org, role, site_admin in DEMO_USERS:
        extra = " and site admin" if site_admin else ""
        print(f"  {email}  ({role.value} of {org}{extra})")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """The new account's password: one line of standard input, or typed twice at the
    terminal and checked as the reset and invitation pages check theirs."""
    from pledge.accounts import service as accounts

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    typed = accounts.NewPasswordForm(
        password=getpass.getpass("Password (at least 10 characters): "),
        password_confirm=getpass.getpass("The same password again: "),
    )
    return typed.check()


def _users_create(args: argparse.Namespace) -> int:
    from pledge.accounts import service as accounts

    if (args.org is None) != (args.role is None):
        print("pledge: give --org and --role together", file=sys.stderr)
        return 2
    if args.org is None and not args.site_admin:
        print(
            "pledge: give --org SLUG and --role admin|moderator (or --site-admin)", file=sys.stderr
        )
        return 2
    engine = create_db_engine(get_settings())
    with Session(engine, expire_on_commit=False) as session:
        done = accounts.provision_user(
            session,
            email=args.email,
            org_slug=args.org,
            role=args.role,
            display_name=args.name or "",
            site_admin=args.site_admin,
            read_password=lambda: _read_password(args),
        )
    user = done.user
    print(f"{'Created' if done.created else 'Updated'} user {user.email}.")
    if not done.created:
        print("Password set." if done.password_set else "Password left unchanged.")
    if done.org is not None and done.role is not None:
        print(f"{done.role.value.capitalize()} of {done.org.slug} ({done.org.name}).")
    if user.is_site_admin:
        print("Site admin.")
    return 0


def _orgs_create(args: argparse.Namespace) -> int:
    from pledge.accounts import service as accounts

    engine = create_db_engine(get_settings())
    with Session(engine, expire_on_commit=False) as session:
        org = accounts.register_org(
            session,
            slug=args.slug,
            name=args.name,
            website=args.website or "",
            verified=args.verified,
        )
    state = "approved" if org.verified else "waiting for a site admin's approval"
    print(f"Created organisation {org.slug} ({org.name}), {state}.")
    return 0


def _mail_send(args: argparse.Namespace) -> int:
    from pledge import mail, whatsapp

    settings = get_settings()
    engine = create_db_engine(settings)
    idle = [
        channel
        for channel, sender in (
            (mail.Channel.EMAIL, mail.default_sender(settings)),
            (mail.Channel.WHATSAPP, whatsapp.default_sender(settings)),
        )
        if sender is None
    ]
    with Session(engine, expire_on_commit=False) as session:
        said = [line for line in (_unsent(session, channel) for channel in idle) if line]
        for line in said:
            print(f"pledge: {line}", file=sys.stderr)
        channels = [channel for channel in mail.Channel if channel not in idle]
        if not channels:
            return 1
        sent = mail.deliver_pending(session, limit=args.limit, channels=channels)
        waiting = mail.pending_count(session)
    print(f"{sent} message(s) sent, {waiting} still waiting.")
    return 1 if said else 0


def _unsent(session: Session, channel: Channel) -> str | None:
    """What to set for a channel nobody sends: said for email always (as a site must send
    email), for WhatsApp only when replies wait (a site may not use WhatsApp)."""
    from pledge import mail

    waiting = mail.pending_count(session, channel=channel)
    if channel == mail.Channel.EMAIL:
        return f"PLEDGE_SMTP_URL is not set; {waiting} message(s) waiting in the outbox."
    if not waiting:
        return None
    return (
        "PLEDGE_WHATSAPP_ACCESS_TOKEN and PLEDGE_WHATSAPP_PHONE_NUMBER_ID are not set; "
        f"{waiting} WhatsApp reply(ies) waiting in the outbox."
    )


# Where `pledge serve` answers by default: the links of a reply point there without PUBLIC_URL.
DEVELOPMENT_URL = "http://127.0.0.1:8000"
_WHATSAPP_NUMBER = re.compile(r"\+?\d{7,15}")


def _whatsapp_sender(given: str) -> str | None:
    """A number as WhatsApp gives it (digits with the country code), from however it is
    typed: 0812 3456 7890, +62 812-3456-7890, 6281234567890. None for anything else."""
    from pledge import contacts

    if "@" in given:
        return None
    with contextlib.suppress(contacts.ContactError):
        return contacts.normalise_contact(given).lstrip("+")
    digits = re.sub(r"[\s().-]", "", given)
    return digits.lstrip("+") if _WHATSAPP_NUMBER.fullmatch(digits) else None


def _site_links(settings: Settings, engine: Engine) -> Callable[[str], SignerLinks]:
    """The links of a campaign's messages as the site makes them, without a request: made by
    the app's own routes, on PLEDGE_PUBLIC_URL (or where `pledge serve` answers)."""
    from starlette.requests import Request

    from pledge.app import create_app
    from pledge.supporters.routes import signer_links

    site = urlsplit(settings.public_url or DEVELOPMENT_URL)
    scope = {
        "type": "http",
        "app": create_app(settings, engine=engine),
        "scheme": site.scheme,
        "server": (site.hostname, site.port),
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", site.netloc.encode())],
    }
    return partial(signer_links, Request(scope))


_SAID = {
    "confirmed": "confirmed: counted as a new supporter of {slug}",
    "added": "added: the new pledges are signed on {slug}",
    "already": "already: this signing of {slug} was confirmed before",
    "expired": "expired: the code is this number's, but its signing expired",
    "no match": "no match: no signing of this number waits for this code",
    "ignored": "ignored: too many messages from this number for now",
}


def _confirmations_receive_whatsapp(args: argparse.Namespace) -> int:
    from pledge import mail, whatsapp
    from pledge.supporters import by_whatsapp

    sender = _whatsapp_sender(args.sender)
    if sender is None:
        print(
            "pledge: FROM must be a phone number, such as 0812 3456 7890 or +62 812-3456-7890",
            file=sys.stderr,
        )
        return 2
    settings = get_settings()
    engine = create_db_engine(settings)
    links = _site_links(settings, engine)
    # A message of its own: WhatsApp's ids are "wamid." and base64, never this.
    message = whatsapp.Incoming(f"pledge-cli.{secrets.token_hex(16)}", sender, args.text)
    with Session(engine, expire_on_commit=False) as session:
        [handled] = by_whatsapp.receive(session, messages=[message], links=links)
        if handled.outcome.replied:
            mail.deliver_pending(session, channels=[mail.Channel.WHATSAPP])
        waiting = mail.pending_count(session, channel=mail.Channel.WHATSAPP)
    print(_said(handled, settings, waiting))
    return 0 if handled.campaign_slug else 1


def _said(handled: Handled, settings: Settings, waiting: int) -> str:
    """What the message did, and where its reply went, in one line. The reply itself, with
    the supporter's private link, goes only where replies go: WhatsApp, or the log."""
    from pledge import whatsapp

    said = _SAID[handled.outcome.value].format(slug=handled.campaign_slug)
    if not handled.outcome.replied:
        return said + "; no reply."
    if waiting:
        sender = whatsapp.default_sender(settings)
        why = (
            "set PLEDGE_WHATSAPP_ACCESS_TOKEN and PLEDGE_WHATSAPP_PHONE_NUMBER_ID to send it"
            if sender is None
            else "sending failed, see the log; `pledge mail send` tries again"
        )
        return f"{said}; the reply waits in the outbox: {why}."
    if isinstance(whatsapp.default_sender(settings), whatsapp.LogSender):
        return f"{said}; the reply is in the log."
    return f"{said}; the reply was sent."


def _tallies_reconcile(_args: argparse.Namespace) -> int:
    from pledge.supporters import service as supporters

    engine = create_db_engine(get_settings())
    with Session(engine, expire_on_commit=False) as session:
        fixes = supporters.reconcile(session)
    for fix in fixes:
        print(f"{fix.campaign} {fix.key}: {fix.was} -> {fix.now}")
    print(
        f"{len(fixes)} counter(s) repaired." if fixes else "All counters agree with the signatures."
    )
    return 0


def _backup(args: argparse.Namespace) -> int:
    from pledge.backup import backup

    result = backup(get_settings().database_url, Path(args.dest), force=args.force)
    print(result)
    return 0


def _retention_run(args: argparse.Namespace) -> int:
    from pledge.privacy import retention

    settings = get_settings()
    engine = create_db_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        report = retention.run(session, links_for=_site_links(settings, engine))
    print(report)
    return 0


def _supporters_invalidate(args: argparse.Namespace) -> int:
    from pledge.supporters.command import invalidate

    return invalidate(args)


# What add_subparsers() returns: each command group below adds its commands to it.
Subparsers = argparse._SubParsersAction


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pledge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add_commands in (
        _add_serve,
        _add_db,
        _add_demo,
        _add_users,
        _add_orgs,
        _add_mail,
        _add_confirmations,
        _add_tallies,
        _add_backup,
        _add_retention,
        _add_supporters,
    ):
        add_commands(sub)
    return parser


def _add_serve(sub: Subparsers) -> None:
    """The `pledge serve` command."""
    serve = sub.add_parser("serve", help="serve the site")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxies whose X-Forwarded-For is trusted (comma-separated, or *)",
    )
    serve.set_defaults(func=_serve)


def _add_db(sub: Subparsers) -> None:
    """The `pledge db` commands: upgrade."""
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the latest schema").set_defaults(func=_db_upgrade)


def _add_demo(sub: Subparsers) -> None:
    """The `pledge demo` command."""
    demo = sub.add_parser("demo", help="seed the demo campaign (safe to run again)")
    demo.add_argument("--supporters", type=int, default=60)
    demo.set_defaults(func=_demo)


def _add_users(sub: Subparsers) -> None:
    """The `pledge users create` command."""
    users = sub.add_parser("users", help="staff accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create_user = users_sub.add_parser(
        "create",
        help="create a user, or give an existing one a role in an organisation",
        description="The password is read from the terminal, or from the first line of "
        "standard input with --password-stdin. An existing account keeps its password.",
    )
    create_user.add_argument("email")
    create_user.add_argument("--role", choices=("admin", "moderator"))
    create_user.add_argument("--org", metavar="SLUG", help="the organisation's short name")
    create_user.add_argument("--name", help="the name shown to other members")
    create_user.add_argument("--site-admin", action="store_true", help="also a site admin")
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create_user.set_defaults(func=_users_create)


def _add_orgs(sub: Subparsers) -> None:
    """The `pledge orgs create` command."""
    orgs = sub.add_parser("orgs", help="partner organisations")
    orgs_sub = orgs.add_subparsers(dest="orgs_command", required=True)
    create_org = orgs_sub.add_parser("create", help="create an organisation")
    create_org.add_argument("slug", help="short name used in addresses: lower-case, digits, dashes")
    create_org.add_argument("name")
    create_org.add_argument("--website", help="https://...")
    create_org.add_argument(
        "--verified", action="store_true", help="approved at once (may put campaigns live)"
    )
    create_org.set_defaults(func=_orgs_create)


def _add_mail(sub: Subparsers) -> None:
    """The `pledge mail send` command."""
    mail_cmd = sub.add_parser("mail", help="outgoing email")
    mail_sub = mail_cmd.add_subparsers(dest="mail_command", required=True)
    send = mail_sub.add_parser("send", help="send the messages waiting in the outbox (for cron)")
    send.add_argument("--limit", type=int, default=500)
    send.set_defaults(func=_mail_send)


def _add_confirmations(sub: Subparsers) -> None:
    """The `pledge confirmations receive-whatsapp FROM TEXT` command."""
    confirmations = sub.add_parser("confirmations", help="confirming signatures")
    confirmations_sub = confirmations.add_subparsers(dest="confirmations_command", required=True)
    receive = confirmations_sub.add_parser(
        "receive-whatsapp",
        help="handle a WhatsApp message as if the webhook had received it",
        description="The message confirms the signing its code names when FROM is the number "
        "that signed, and its reply is sent as the webhook's are (in development without the "
        "Cloud API, written to the log). Prints what happened; exits 1 when nothing was "
        "confirmed.",
    )
    receive.add_argument("sender", metavar="FROM", help="the number the message comes from")
    receive.add_argument("text", metavar="TEXT", help="the message, e.g. the text of the page")
    receive.set_defaults(func=_confirmations_receive_whatsapp)


def _add_tallies(sub: Subparsers) -> None:
    """The `pledge tallies reconcile` command."""
    tallies = sub.add_parser("tallies", help="supporter counters")
    tallies_sub = tallies.add_subparsers(dest="tallies_command", required=True)
    tallies_sub.add_parser(
        "reconcile", help="recount from the signatures and repair the counters"
    ).set_defaults(func=_tallies_reconcile)


def _add_backup(sub: Subparsers) -> None:
    """The `pledge backup DEST` command."""
    backup_cmd = sub.add_parser(
        "backup",
        help="copy the SQLite database consistently while the site serves",
        description="Uses SQLite's online backup API. For PostgreSQL use pg_dump "
        "(see docs/deploy.md).",
    )
    backup_cmd.add_argument("dest", help="the file to write")
    backup_cmd.add_argument("--force", action="store_true", help="replace DEST if it exists")
    backup_cmd.set_defaults(func=_backup)


def _add_retention(sub: Subparsers) -> None:
    """The `pledge retention run` command."""
    retention_cmd = sub.add_parser("retention", help="personal data retention (for cron)")
    retention_sub = retention_cmd.add_subparsers(dest="retention_command", required=True)
    retention_sub.add_parser(
        "run",
        help="anonymise supporters of long-closed campaigns, drop closed cases' contacts",
    ).set_defaults(func=_retention_run)


def _add_supporters(sub: Subparsers) -> None:
    """The `pledge supporters invalidate` command."""
    supporters_cmd = sub.add_parser("supporters", help="supporters and their signatures")
    supporters_sub = supporters_cmd.add_subparsers(dest="supporters_command", required=True)
    invalidate = supporters_sub.add_parser(
        "invalidate",
        help="take the signatures a filter matches off a campaign's count",
        description="Prints how many signatures match; without --dry-run, invalidates them a "
        "batch at a time (Ctrl-C cancels between two batches). Times are ISO 8601, or "
        "'YYYY-MM-DD HH:MM' in WIB. The reason is shown on the campaign page. An "
        "invalidation is restored from the abuse console.",
    )
    invalidate.add_argument("--campaign", required=True, metavar="SLUG")
    invalidate.add_argument("--network", metavar="CIDR", help="IPv4 or IPv6, /24 or /64 at most")
    invalidate.add_argument("--email-domain", metavar="DOMAIN")
    invalidate.add_argument("--partner", metavar="SLUG", help="a partner organisation's link")
    invalidate.add_argument("--since", metavar="TIME", help="from this time, included")
    invalidate.add_argument("--until", metavar="TIME", help="up to this time, excluded")
    invalidate.add_argument("--name", metavar="PATTERN", help="a name; * for any letters")
    invalidate.add_argument("--reason", required=True, help="shown on the campaign page")
    invalidate.add_argument(
        "--dry-run", action="store_true", help="print how many match, change nothing"
    )
    invalidate.set_defaults(func=_supporters_invalidate)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    i18n.set_locale("en")  # the command speaks English, like its --help
    try:
        return int(args.func(args))
    except ValidationError as error:  # bad settings are explained, not dumped as a traceback
        print(f"pledge: invalid settings: {error}", file=sys.stderr)
        return 2
    except Invalid as error:
        for message in error.errors.values():
            print(f"pledge: {message}", file=sys.stderr)
        return 1
    except PledgeError as error:
        print(f"pledge: {error.detail}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("pledge: cancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
