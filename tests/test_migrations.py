"""The migrations build the schema from nothing, and the models agree with them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pledge.db import metadata


def test_upgrade_from_empty_matches_the_models(engine: sa.Engine) -> None:
    # The engine fixture ran `alembic upgrade head` on an empty database.
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
        tables = set(sa.inspect(conn).get_table_names())
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"campaign", "pledge", "supporter", "signature", "tally", "organization"} <= tables
    assert version


def test_downgrade_and_upgrade_again(tmp_path) -> None:
    from alembic import command

    from pledge.cli import alembic_config

    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert "supporter" in sa.inspect(conn).get_table_names()
    engine.dispose()


def test_counting_only_confirmed_signatures_keeps_every_earlier_row(tmp_path) -> None:
    """The upgrade that makes signatures count once confirmed: every campaign, pledge,
    partner, supporter, signature and counter stored before it is still there after it, and
    the supporters stored before it are confirmed as of when they signed, in their places."""
    from datetime import UTC, datetime

    from alembic import command

    from pledge.cli import alembic_config

    url = f"sqlite:///{tmp_path / 'before-confirming.db'}"
    config = alembic_config(url)
    command.upgrade(config, "bcf283be18a1")  # the revision before confirmed signatures
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    t = tables.tables
    signed_at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            conn.execute(
                t["organization"].insert(),
                [
                    {
                        "id": 1,
                        "slug": "lembaga",
                        "name": "Lembaga",
                        "verified": True,
                        "created_at": signed_at,
                    }
                ],
            )
            conn.execute(
                t["campaign"].insert(),
                [
                    {
                        "id": 1,
                        "slug": "kampanye",
                        "title": "Kampanye",
                        "summary": "",
                        "body": "",
                        "lead_org_id": 1,
                        "goal": 100,
                        "status": "live",
                        "locale": "id",
                        "created_at": signed_at,
                        "updated_at": signed_at,
                    }
                ],
            )
            conn.execute(
                t["pledge"].insert(),
                [{"id": 1, "campaign_id": 1, "slug": "janji", "text": "Janji", "position": 0}],
            )
            conn.execute(
                t["campaign_partner"].insert(),
                [
                    {
                        "id": 1,
                        "campaign_id": 1,
                        "org_id": 1,
                        "referral_code": "KODE1",
                        "created_at": signed_at,
                    }
                ],
            )
            conn.execute(
                t["supporter"].insert(),
                [
                    {
                        "id": n,
                        "campaign_id": 1,
                        "contact_digest": f"{n:064x}",
                        "token": f"token-{n:010d}",
                        "display_name": f"Pendukung {n}",
                        "province": "ID-JK",
                        "show_name": False,
                        "number": n,
                        "locale": "id",
                        "created_at": signed_at,
                        "invite_code": f"kode{n:04d}",
                    }
                    for n in (1, 2, 3)
                ],
            )
            conn.execute(
                t["signature"].insert(),
                [
                    {"id": n, "supporter_id": n, "pledge_id": 1, "created_at": signed_at}
                    for n in (1, 2, 3)
                ],
            )
            conn.execute(
                t["tally"].insert(),
                [
                    {"id": 1, "campaign_id": 1, "key": "total", "shard": 0, "value": 3, "updated_at": signed_at},
                    {"id": 2, "campaign_id": 1, "key": "pledge:1", "pledge_id": 1, "shard": 0, "value": 3, "updated_at": signed_at},
                ],
            )  # fmt: skip

        def rows() -> dict[str, int]:
            with engine.connect() as conn:
                return {
                    name: conn.execute(sa.select(sa.func.count()).select_from(t[name])).scalar_one()
                    for name in ("campaign", "pledge", "campaign_partner", "supporter", "signature", "tally")
                }  # fmt: skip

        before = rows()
        command.upgrade(config, "head")

        assert rows() == before
        with engine.connect() as conn:
            supporters = conn.execute(
                sa.text("SELECT number, confirmed_at, created_at FROM supporter ORDER BY id")
            ).all()
        assert [number for number, _confirmed, _created in supporters] == [1, 2, 3]
        assert all(confirmed == created for _number, confirmed, created in supporters)
    finally:
        engine.dispose()


def test_outbox_bodies_are_encrypted_while_waiting_and_emptied_once_sent(tmp_path) -> None:
    """The upgrade that keeps no readable link in the outbox: the bodies of waiting messages
    (a claimed one may still wait again) are encrypted and those of sent ones emptied; the
    downgrade decrypts the waiting ones."""
    from alembic import command

    from pledge import mail
    from pledge.cli import alembic_config

    before, encrypted = "de0bcfd8155f", "5e1f0a9c3d21"
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    config = alembic_config(url)
    command.upgrade(config, before)
    engine = sa.create_engine(url)
    outbox = sa.table(
        "outbox_message",
        *(sa.column(name) for name in ("id", "channel", "to", "subject", "body")),
        *(sa.column(name) for name in ("created_at", "sent_at", "attempts", "last_error")),
    )
    now = "2026-12-01 08:00:00.000000"
    row = {"channel": "email", "to": "rina@example.org", "subject": "s", "created_at": now}
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(outbox),
                [
                    {
                        **row,
                        "id": 1,
                        "body": "https://x/password/reset/WAIT",
                        "sent_at": None,
                        "attempts": 0,
                        "last_error": None,
                    },
                    {
                        **row,
                        "id": 2,
                        "body": "https://x/invite/SENT",
                        "sent_at": now,
                        "attempts": 1,
                        "last_error": None,
                    },
                    {
                        **row,
                        "id": 3,
                        "body": "https://x/invite/CLAIMED",
                        "sent_at": now,
                        "attempts": 1,
                        "last_error": mail.SENDING,
                    },
                    {
                        **row,
                        "id": 4,
                        "body": "https://x/invite/FAILED",
                        "sent_at": None,
                        "attempts": 3,
                        "last_error": "SMTPRecipientsRefused",
                    },
                ],
            )

        command.upgrade(config, encrypted)
        with engine.connect() as conn:
            bodies = dict(conn.execute(sa.select(outbox.c.id, outbox.c.body)).all())
        waiting = {
            1: "https://x/password/reset/WAIT",
            3: "https://x/invite/CLAIMED",
            4: "https://x/invite/FAILED",
        }
        assert bodies[2] == ""
        for id_, text in waiting.items():
            assert "/x/" not in bodies[id_]
            assert mail.open_body(bodies[id_]) == text

        command.downgrade(config, before)
        with engine.connect() as conn:
            bodies = dict(conn.execute(sa.select(outbox.c.id, outbox.c.body)).all())
        assert bodies == {**waiting, 2: ""}
    finally:
        engine.dispose()


def test_monthly_counts_are_filled_from_what_is_stored(tmp_path) -> None:
    """The upgrade that adds hoax_month counts the reports, the cases (merged ones aside) and
    the published verdicts already stored, each in its month in Jakarta time."""
    from datetime import UTC, date, datetime

    from alembic import command

    from pledge.cli import alembic_config

    url = f"sqlite:///{tmp_path / 'before-months.db'}"
    config = alembic_config(url)
    command.upgrade(config, "a17c3e5f7b90")  # the revision before the monthly counts
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    t = tables.tables
    march = datetime(2029, 3, 10, 8, 0, tzinfo=UTC)
    # 31 March 20:00 UTC is 1 April 03:00 in Jakarta: an April report.
    april = datetime(2029, 3, 31, 20, 0, tzinfo=UTC)
    later = datetime(2029, 4, 20, 8, 0, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            conn.execute(
                t["organization"].insert(),
                [{"id": 1, "slug": "lembaga", "name": "Lembaga", "verified": True, "created_at": march}],
            )  # fmt: skip
            conn.execute(
                t["campaign"].insert(),
                [
                    {"id": n, "slug": f"kampanye-{n}", "title": f"Kampanye {n}", "summary": "",
                     "body": "", "lead_org_id": 1, "goal": 100, "status": "live",
                     "locale": "id", "created_at": march, "updated_at": march}
                    for n in (1, 2)
                ],
            )  # fmt: skip
            # Every row names every column: an insert of many rows takes the first one's.
            case = {"platform": "whatsapp", "category": "false_claim", "public_title": "",
                    "public_explanation": "", "report_count": 1, "label": None,
                    "published_at": None, "merged_into_id": None}  # fmt: skip
            conn.execute(
                t["hoax_case"].insert(),
                [
                    {**case, "id": 1, "campaign_id": 1, "status": "new", "created_at": march, "updated_at": march},
                    {**case, "id": 2, "campaign_id": 1, "status": "published", "label": "SALAH",
                     "created_at": march, "updated_at": later, "published_at": later},
                    {**case, "id": 3, "campaign_id": 1, "status": "duplicate", "merged_into_id": 2,
                     "created_at": april, "updated_at": april},
                    {**case, "id": 4, "campaign_id": 2, "status": "published", "label": "SATIRE",
                     "created_at": april, "updated_at": april, "published_at": april},
                ],
            )  # fmt: skip
            report = {"platform": "whatsapp", "category": "false_claim", "description": "",
                      "locale": "id"}  # fmt: skip
            conn.execute(
                t["hoax_report"].insert(),
                [
                    {**report, "id": n, "campaign_id": campaign, "case_id": case_id,
                     "tracking_code": f"kode{n:06d}", "created_at": moment}
                    for n, campaign, case_id, moment in (
                        (1, 1, 1, march), (2, 1, 2, march), (3, 1, 2, april),
                        (4, 1, 2, later), (5, 2, 4, april),
                    )
                ],
            )  # fmt: skip

        command.upgrade(config, "head")

        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT campaign_id, month, metric, count FROM hoax_month")
            ).all()
        found = {(c, str(m)[:10], metric): n for c, m, metric, n in rows}
        mar, apr = str(date(2029, 3, 1)), str(date(2029, 4, 1))
        assert found == {
            (1, mar, "reports"): 2,
            (1, apr, "reports"): 2,
            (2, apr, "reports"): 1,
            (1, mar, "cases"): 2,  # the merged case 3 is case 2's
            (2, apr, "cases"): 1,
            (1, apr, "verdict:SALAH"): 1,
            (2, apr, "verdict:SATIRE"): 1,
            # Hours from the first report to the verdict: 10 March 08:00 to 20 April 08:00.
            (1, apr, "verdict_hours:984"): 1,
            (2, apr, "verdict_hours:0"): 1,
        }
    finally:
        engine.dispose()
