"""The ``pledge`` command: serve the site, migrate the database, seed the demo, repair tallies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import ValidationError
from sqlmodel import Session

from pledge.config import get_settings
from pledge.db import create_db_engine

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

    get_settings()  # refuse a bad configuration before any worker starts
    uvicorn.run(
        "pledge.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level="info",
        server_header=False,
    )
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    upgrade()
    print("Database is at the latest schema.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pledge.demo import CAMPAIGN_SLUG, seed

    engine = create_db_engine(get_settings())
    with Session(engine, expire_on_commit=False) as session:
        seed(session, supporters_count=args.supporters)
    print(f"Demo campaign ready at /c/{CAMPAIGN_SLUG}")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pledge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

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

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the latest schema").set_defaults(func=_db_upgrade)

    demo = sub.add_parser("demo", help="seed the demo campaign (safe to run again)")
    demo.add_argument("--supporters", type=int, default=60)
    demo.set_defaults(func=_demo)

    tallies = sub.add_parser("tallies", help="supporter counters")
    tallies_sub = tallies.add_subparsers(dest="tallies_command", required=True)
    tallies_sub.add_parser(
        "reconcile", help="recount from the signatures and repair the counters"
    ).set_defaults(func=_tallies_reconcile)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as error:  # bad settings are explained, not dumped as a traceback
        print(f"pledge: invalid settings: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
