"""The migration to contact keys: supporters whose contact is stored get the digest of its key,
and the supporters of a campaign it shows to be one person become one, with the union of their
signatures, their invitations and exact tallies. On SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlmodel import Session

from pledge.cli import MIGRATIONS_DIR, alembic_config
from pledge.config import get_settings
from pledge.contacts import dedup_key, normalise_contact
from pledge.security import FieldCipher, contact_digest
from pledge.supporters.service.tallies import read_counts, true_counts

BEFORE = "bcf283be18a1"  # the revision before contact keys
REVISION = "bbf021890375"
ANOTHER_KEY = "a-secret-key-this-site-never-had-0123456789"


def migration() -> ModuleType:
    (path,) = Path(MIGRATIONS_DIR, "versions").glob(f"*_{REVISION}_*.py")
    spec = importlib.util.spec_from_file_location("contact_keys_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def old_digest(contact: str) -> str:
    """A digest as the site computed it before keys: of the contact lower-cased."""
    return contact_digest(get_settings().secret_key, contact.lower())


def key_digest(contact: str) -> str:
    return contact_digest(get_settings().secret_key, dedup_key(contact))


def sealed(contact: str, secret_key: str | None = None) -> str:
    return FieldCipher(secret_key or get_settings().secret_key).encrypt(contact)


@pytest.fixture
def database_before(engine: sa.Engine, tmp_path: Path) -> Iterator[str]:
    """A database of its own, on the kind of server the suite runs on, at the revision before
    contact keys."""
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'before-contact-keys.db'}"
        command.upgrade(alembic_config(url), BEFORE)
        yield url
        return
    name = "pledge_contact_keys"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # the test role may create databases (CREATEDB)
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    command.upgrade(alembic_config(url), BEFORE)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- the database before: who signed what, with which contact ---------------------------------


@dataclass
class Row:
    id: int
    campaign: int
    contact: str  # as the person typed it when signing
    stored: bool  # kept (encrypted) for a partner's news
    pledges: tuple[int, ...]
    referrer: int | None = None
    invited_by: int | None = None
    age_band: str | None = None
    secret_key: str | None = None  # encrypted under another key than the site's
    anonymised: bool = False


# Campaign 1 has pledges 1-3 and partners 1-2; campaign 2 has pledges 4-5 and partner 3; campaign
# 3 (pledge 6, partner 4) has nobody to merge.
PEOPLE = [
    # Budi, three times in campaign 1: his contact is stored twice, in two spellings, and the
    # third time (no contact stored) he typed it in the folded form already.
    Row(1, 1, "Budi.Santoso@gmail.com", True, (1,), referrer=1),
    Row(2, 1, "rina@example.com", False, (1,), invited_by=3),  # invited by a duplicate
    Row(
        3,
        1,
        "budisantoso+kampanye@googlemail.com",
        True,
        (1, 2),
        referrer=2,
        invited_by=2,
        age_band="20-24",
    ),
    Row(4, 1, "budisantoso@gmail.com", False, (2, 3)),
    Row(5, 1, "Sari@Example.com", True, (3,)),  # already in its folded form
    Row(6, 1, "Dewi.Lestari@gmail.com", True, (1,)),  # refolded, but nobody to merge with
    Row(7, 1, "eko@example.com", False, (2,), invited_by=4),  # invited by another duplicate
    Row(8, 1, "+6281234567890", True, (1,), referrer=1),  # a phone number has one form
    Row(9, 1, "Putri+Berita@Example.com", True, (1,), secret_key=ANOTHER_KEY),  # undecryptable
    Row(10, 1, "putri@example.com", False, (2,)),
    Row(11, 1, "Anon.Orang@gmail.com", False, (1,), anonymised=True),
    # Budi in campaign 2: first without a stored contact, then with one.
    Row(12, 2, "budisantoso@gmail.com", False, (4,)),
    Row(13, 2, "Budi.Santoso+x@gmail.com", True, (4, 5), referrer=3, age_band="25-29"),
    # Campaign 3: one person, nothing to merge.
    Row(14, 3, "Budi.Santoso@gmail.com", True, (6,)),
]
PARTNER_OF = {1: 1, 2: 1, 3: 2, 4: 3}  # campaign_partner id -> campaign id
PLEDGE_OF = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3}  # pledge id -> campaign id


def _seed_campaigns(conn: sa.Connection, tables: dict[str, sa.Table], now: datetime) -> None:
    conn.execute(
        tables["organization"].insert(),
        [
            {"id": n, "slug": f"lembaga-{n}", "name": f"Lembaga {n}", "verified": True}
            | {"created_at": now}
            for n in (1, 2)
        ],
    )
    conn.execute(
        tables["campaign"].insert(),
        [
            {"id": n, "slug": f"kampanye-{n}", "title": f"Kampanye {n}", "summary": "", "body": ""}
            | {"lead_org_id": 1, "goal": 100, "status": "live", "locale": "id"}
            | {"created_at": now, "updated_at": now}
            for n in (1, 2, 3)
        ],
    )
    conn.execute(
        tables["pledge"].insert(),
        [
            {"id": p, "campaign_id": c, "slug": f"janji-{p}", "text": f"Janji {p}", "position": p}
            for p, c in PLEDGE_OF.items()
        ],
    )
    conn.execute(
        tables["campaign_partner"].insert(),
        [
            {"id": p, "campaign_id": c, "org_id": 1 + (p == 2), "referral_code": f"kode{p}"}
            | {"created_at": now}
            for p, c in PARTNER_OF.items()
        ],
    )


def _supporter(row: Row, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "campaign_id": row.campaign,
        "contact_digest": (
            f"anon:{row.id:032x}" if row.anonymised else old_digest(normalise_contact(row.contact))
        ),
        "token": f"token-{row.id:010d}",
        "display_name": "" if row.anonymised else f"Pendukung {row.id}",
        "province": "ID-JK",
        "age_band": row.age_band,
        "show_name": False,
        "referrer_id": row.referrer,
        "updates_partner_id": (
            next(p for p, c in PARTNER_OF.items() if c == row.campaign) if row.stored else None
        ),
        "contact_encrypted": (
            sealed(normalise_contact(row.contact), row.secret_key) if row.stored else None
        ),
        "invite_code": f"undang{row.id:04d}",
        "invited_by_id": None,
        "number": row.id,
        "locale": "id",
        "created_at": now + timedelta(minutes=row.id),
        "anonymised_at": now if row.anonymised else None,
    }


def _tallies(now: datetime) -> list[dict[str, Any]]:
    """The counters as signing left them (duplicates counted), spread over two shards."""
    counts: dict[tuple[int, str, int | None, int | None], int] = {}
    for row in PEOPLE:
        keys = [(row.campaign, "total", None, None)]
        keys += [(row.campaign, f"pledge:{p}", p, None) for p in row.pledges]
        if row.referrer is not None:
            keys.append((row.campaign, f"partner:{row.referrer}", None, row.referrer))
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    rows = []
    for (campaign, key, pledge, partner), value in counts.items():
        for shard, part in enumerate((value // 2, value - value // 2)):
            rows.append(
                {"campaign_id": campaign, "key": key, "pledge_id": pledge, "partner_id": partner}
                | {"shard": shard, "value": part, "updated_at": now}
            )
    # Campaign 3's tallies are off by one; the migration merges nothing there, so it leaves
    # them for `pledge tallies reconcile` as they are.
    rows.append(
        {"campaign_id": 3, "key": "total", "pledge_id": None, "partner_id": None}
        | {"shard": 2, "value": 1, "updated_at": now}
    )
    return rows


def seed(url: str) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        tables = dict(meta.tables)
        with engine.begin() as conn:
            _seed_campaigns(conn, tables, now)
            conn.execute(tables["supporter"].insert(), [_supporter(row, now) for row in PEOPLE])
            invited = [row for row in PEOPLE if row.invited_by is not None]
            for row in invited:
                conn.execute(
                    tables["supporter"]
                    .update()
                    .where(tables["supporter"].c.id == row.id)
                    .values(invited_by_id=row.invited_by)
                )
            conn.execute(
                tables["signature"].insert(),
                [
                    {"supporter_id": row.id, "pledge_id": p, "created_at": now}
                    for row in PEOPLE
                    for p in row.pledges
                ],
            )
            conn.execute(tables["tally"].insert(), _tallies(now))
    finally:
        engine.dispose()


# --- reading the database after ----------------------------------------------------------------


@dataclass
class After:
    supporters: dict[int, dict[str, Any]]  # by id
    signed: dict[int, set[int]]  # pledge ids by supporter id
    tallies: dict[int, dict[str, int]]  # by campaign, as the app reads them
    truth: dict[int, dict[str, int]]  # by campaign, recounted from the rows


def read(url: str) -> After:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            supporters = {
                row["id"]: dict(row)
                for row in conn.execute(sa.text("SELECT * FROM supporter")).mappings()
            }
            signed: dict[int, set[int]] = {}
            for supporter_id, pledge_id in conn.execute(
                sa.text("SELECT supporter_id, pledge_id FROM signature")
            ):
                signed.setdefault(supporter_id, set()).add(pledge_id)
        with Session(engine) as session:
            tallies = {c: read_counts(session, campaign_id=c).by_key for c in (1, 2, 3)}
            # The recount is today's code: it reads the schema of the latest revision.
            columns = {c["name"] for c in sa.inspect(engine).get_columns("supporter")}
            truth = (
                {c: true_counts(session, campaign_id=c) for c in (1, 2, 3)}
                if "state" in columns
                else {}
            )
    finally:
        engine.dispose()
    return After(supporters, signed, tallies, truth)


def decrypted(supporter: dict[str, Any]) -> str | None:
    token = supporter["contact_encrypted"]
    return FieldCipher(get_settings().secret_key).decrypt(token) if token else None


# --- the upgrade -------------------------------------------------------------------------------


@pytest.fixture
def upgraded(database_before: str) -> After:
    seed(database_before)
    command.upgrade(alembic_config(database_before), "head")
    return read(database_before)


def test_one_person_in_a_campaign_is_one_supporter_with_every_pledge(upgraded: After) -> None:
    # Budi's three supporters in campaign 1 are the first of them, with the union of pledges.
    assert 3 not in upgraded.supporters and 4 not in upgraded.supporters
    budi = upgraded.supporters[1]
    assert upgraded.signed[1] == {1, 2, 3}
    assert budi["contact_digest"] == key_digest("budisantoso@gmail.com")
    # The first supporter's own facts stay: its place, its links, its partner, its contact.
    assert budi["number"] == 1
    assert budi["token"] == "token-0000000001"
    assert budi["referrer_id"] == 1
    assert decrypted(budi) == "Budi.Santoso@gmail.com"
    # What it lacked, it takes from a duplicate: the age group and the inviter.
    assert budi["age_band"] == "20-24"
    assert budi["invited_by_id"] == 2


def test_invitations_by_a_duplicate_are_credited_to_the_supporter_kept(upgraded: After) -> None:
    assert upgraded.supporters[2]["invited_by_id"] == 1  # was invited by supporter 3
    assert upgraded.supporters[7]["invited_by_id"] == 1  # was invited by supporter 4


def test_the_tallies_of_a_merged_campaign_are_its_true_counts(upgraded: After) -> None:
    for campaign in (1, 2):
        assert upgraded.tallies[campaign] == upgraded.truth[campaign]
    # 11 signers in campaign 1, two of them Budi's duplicates.
    assert upgraded.tallies[1] == {
        "total": 9,
        "pledge:1": 6,  # supporters 1, 2, 6, 8, 9, 11
        "pledge:2": 3,  # 1 (from 3 and 4), 7, 10
        "pledge:3": 2,  # 1 (from 4), 5
        "partner:1": 2,  # 1 and 8; supporter 3's referral by partner 2 went with it
    }
    # Budi first signed campaign 2 without a partner's link: the later signing's referral, as
    # when he signs again through a link, credits nobody.
    assert upgraded.tallies[2] == {"total": 1, "pledge:4": 1, "pledge:5": 1}


def test_a_campaign_with_nobody_to_merge_keeps_its_tallies(upgraded: After) -> None:
    assert upgraded.tallies[3] == {"total": 2, "pledge:6": 1}
    assert upgraded.truth[3] == {"total": 1, "pledge:6": 1}


def test_the_earliest_supporter_is_kept_even_without_a_stored_contact(upgraded: After) -> None:
    assert 13 not in upgraded.supporters
    budi = upgraded.supporters[12]
    assert upgraded.signed[12] == {4, 5}
    assert budi["contact_digest"] == key_digest("budisantoso@gmail.com")
    # The later signing asked partner 3 for news: the request and its contact are kept.
    assert budi["updates_partner_id"] == 3
    assert decrypted(budi) == "Budi.Santoso+x@gmail.com"
    assert budi["age_band"] == "25-29"
    assert budi["referrer_id"] is None


def test_one_person_in_two_campaigns_stays_one_supporter_in_each(upgraded: After) -> None:
    digest = key_digest("budisantoso@gmail.com")
    holders = sorted(
        (s["campaign_id"], s["id"])
        for s in upgraded.supporters.values()
        if s["contact_digest"] == digest
    )
    assert holders == [(1, 1), (2, 12), (3, 14)]


def test_stored_contacts_get_the_digest_of_their_key_and_others_keep_theirs(
    upgraded: After,
) -> None:
    people = upgraded.supporters
    assert people[6]["contact_digest"] == key_digest("dewilestari@gmail.com")
    assert people[5]["contact_digest"] == old_digest("sari@example.com")  # its own key
    assert people[8]["contact_digest"] == old_digest("+6281234567890")
    # Not stored: nothing to recompute from.
    assert people[2]["contact_digest"] == old_digest("rina@example.com")
    assert people[10]["contact_digest"] == old_digest("putri@example.com")
    # Encrypted under another key: left as it was, and not merged with putri@example.com.
    assert people[9]["contact_digest"] == old_digest("putri+berita@example.com")
    assert people[11]["contact_digest"] == f"anon:{11:032x}"
    assert len(people) == len(PEOPLE) - 3


def test_the_migration_folds_as_the_app_does() -> None:
    """The migration keeps its own copy of the folding rules, so that it does the same
    whatever the app does later. Today they agree; if the app's rules change, they need a new
    migration, and this test should then read that migration's copy."""
    fold = migration().fold
    spellings = [
        "Budi.Santoso@gmail.com",
        "b.u.d.i+x@GoogleMail.com",
        "Rina+Berita@Example.COM",
        "+tag@example.com",
        "budi@bücher.example",
        "Ana\u0301@example.com",
        "+6281234567890",
    ]
    for spelled in spellings:
        contact = normalise_contact(spelled)
        assert fold(contact) == dedup_key(contact), spelled
    assert fold("Budi+x@XN--ZZ.Example") == dedup_key("Budi+x@XN--ZZ.Example")


# --- downgrade, and upgrading again ------------------------------------------------------------


def test_a_downgrade_restores_the_old_digests_and_keeps_the_merge(database_before: str) -> None:
    seed(database_before)
    config = alembic_config(database_before)
    command.upgrade(config, "head")
    merged = read(database_before)

    command.downgrade(config, BEFORE)
    down = read(database_before)
    # Recognised again by the contact lower-cased, as the code of that revision computes it.
    assert down.supporters[1]["contact_digest"] == old_digest("Budi.Santoso@gmail.com")
    assert down.supporters[6]["contact_digest"] == old_digest("Dewi.Lestari@gmail.com")
    assert down.supporters[12]["contact_digest"] == old_digest("Budi.Santoso+x@gmail.com")
    assert set(down.supporters) == set(merged.supporters)
    assert down.signed == merged.signed
    assert down.tallies == merged.tallies

    command.upgrade(config, "head")
    again = read(database_before)
    assert {i: s["contact_digest"] for i, s in again.supporters.items()} == {
        i: s["contact_digest"] for i, s in merged.supporters.items()
    }
    assert again.signed == merged.signed
    assert again.tallies[1] == again.truth[1]


def test_an_empty_database_upgrades_and_downgrades(database_before: str) -> None:
    config = alembic_config(database_before)
    command.upgrade(config, "head")
    command.downgrade(config, BEFORE)
    command.upgrade(config, "head")
    engine = sa.create_engine(database_before)
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
            tables = set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert version == ScriptDirectory.from_config(config).get_current_head()
    assert not {"refold_digest", "refold_merge"} & tables


def test_a_campaign_larger_than_a_batch_is_merged_exactly(database_before: str) -> None:
    """More supporters than one batch reads, and more merges than one batch makes: 1,200
    people signed once with their address in its folded form and no contact stored, then again
    in another spelling with their contact kept for a partner's news."""
    people = 1200
    seed(database_before)  # campaign 1's people above, and the campaigns and pledges
    now = datetime(2026, 11, 2, tzinfo=UTC)
    engine = sa.create_engine(database_before)
    try:
        with engine.begin() as conn:
            first = [
                {"pledges": (4,), "contact": f"orang{n}@gmail.com", "stored": False}
                for n in range(people)
            ]
            again = [
                {"pledges": (4, 5), "contact": f"Orang.{n}+lagi@GoogleMail.com", "stored": True}
                for n in range(people)
            ]
            rows = [
                _supporter(Row(100 + i, 2, s["contact"], s["stored"], s["pledges"]), now)
                for i, s in enumerate(first + again)
            ]
            conn.execute(sa.text("DELETE FROM tally WHERE campaign_id = 2"))
            conn.execute(sa.table("supporter", *map(sa.column, rows[0])).insert(), rows)
            conn.execute(
                sa.table(
                    "signature", *map(sa.column, ["supporter_id", "pledge_id", "created_at"])
                ).insert(),
                [
                    {"supporter_id": row["id"], "pledge_id": p, "created_at": now}
                    for row, s in zip(rows, first + again, strict=True)
                    for p in s["pledges"]
                ],
            )
        command.upgrade(alembic_config(database_before), "head")
    finally:
        engine.dispose()

    after = read(database_before)
    in_campaign = [s for s in after.supporters.values() if s["campaign_id"] == 2]
    # Budi's two supporters of the seed are one, and so are each of the 1,200 people.
    assert len(in_campaign) == 1 + people
    assert after.tallies[2] == after.truth[2]
    assert after.tallies[2] == {"total": 1 + people, "pledge:4": 1 + people, "pledge:5": 1 + people}
    kept = [s for s in in_campaign if s["id"] >= 100]
    assert [s["id"] for s in kept] == list(range(100, 100 + people))
    assert all(after.signed[s["id"]] == {4, 5} for s in kept)
    assert {decrypted(s) for s in kept} == {f"Orang.{n}+lagi@googlemail.com" for n in range(people)}
