"""Seed a database for the benchmarks: a live campaign with partners, staff accounts, and as
many supporters and hoax reports as asked, written in bulk.

    python -m bench.seed --supporters 1000000 --reports 100000

    python -m bench.seed --pending 50000 --secrets secrets.txt

Runs against PLEDGE_DATABASE_URL (migrated first). Running it again adds more rows to the same
campaign. The tallies are recounted at the end, as `pledge tallies reconcile` would.

Pending signings (signed, not confirmed yet) are taken by the server's own write path, with
PLEDGE_SECRET_KEY, so that their confirmation links work on a server with the same key;
--secrets writes those links' secrets, one a line.

--without-foreign-key-checks (PostgreSQL, as a superuser) writes the rows without the checks of
their foreign keys, as `pg_restore --disable-triggers` does: every row the seed writes refers
to one it wrote before or found there, so the checks only cost time (a third of PostgreSQL's
processor time in the benchmark's million supporters).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import random
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlmodel import Session, col, select

from pledge import bulk
from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignStatus
from pledge.cli import upgrade
from pledge.config import get_settings
from pledge.db import create_db_engine, utcnow
from pledge.game.models import GameItem
from pledge.hoaxes import textmatch
from pledge.hoaxes.models import (
    CaseStatus,
    Category,
    Escalation,
    EscalationOutcome,
    EscalationTarget,
    HoaxCase,
    HoaxTextBand,
    Media,
    Platform,
    Verdict,
    escalation_table,
    hoax_case_table,
    hoax_report_table,
)
from pledge.hoaxes.service import months
from pledge.provinces import AGE_BANDS, PROVINCES
from pledge.supporters import service as supporters
from pledge.supporters.models import Signature, Supporter, SupporterState

SLUG = "bench"
PLEDGES = ("tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks")
PARTNERS = ("lead-org", "mitra-satu", "mitra-dua", "mitra-tiga")
PASSWORD = "bench-password-2029"
ADMIN = "admin-bench@contoh.id"
MODERATOR = "moderator-bench@contoh.id"
BATCH = 5000


def insert_rows(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows and return their ids, in order, the ids chosen first: on PostgreSQL taken
    from the table's sequence and the rows written with COPY (ten times as fast as an INSERT
    of many rows there), on SQLite the ones after the largest, in one executemany."""
    if not rows:
        return []
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        # SQLite has one writer, this one: the ids that follow the largest, given up front,
        # let the rows go in with one executemany instead of a RETURNING per few rows.
        last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
        ids = list(range(last + 1, last + 1 + len(rows)))
        copy_rows(session, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids
    ids = list(
        conn.execute(
            sa.select(
                sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, "id"))
            ).select_from(sa.func.generate_series(1, len(rows)))
        ).scalars()
    )
    copy_rows(session, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
    return ids


def copy_rows(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows without reading anything back: COPY on PostgreSQL, else one executemany of
    the driver's, each value bound as the column's type binds it (an enum by its name, say)."""
    if not rows:
        return
    conn = session.connection()
    names = list(rows[0])
    dialect = conn.dialect
    bound = bulk.bound_rows(dialect, table, names, rows)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    if dialect.name != "postgresql":
        # The INSERT as SQLAlchemy writes it for this driver: a "?" a column, in this order.
        bare = sa.table(table.name, *(sa.column(name) for name in names))  # no defaults added
        insert = sa.insert(bare).compile(dialect=conn.dialect)
        cursor.executemany(str(insert), bound)
        return
    columns = ", ".join(f'"{name}"' for name in names)
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for values in bound:
            copy.write_row(values)


@dataclass(frozen=True)
class World:
    slug: str
    lead_org: str
    admin_email: str
    moderator_email: str
    password: str


def ensure_world(session: Session) -> World:
    """The campaign, its pledges and partners, an org admin and a moderator (idempotent)."""
    if session.exec(select(Campaign).where(Campaign.slug == SLUG)).first() is None:
        orgs = []
        for n, slug in enumerate(PARTNERS):
            org = Organization(slug=slug, name=f"Organisasi {n + 1}", verified=True)
            session.add(org)
            orgs.append(org)
        session.commit()
        campaign = campaigns.create(
            session,
            slug=SLUG,
            title="Suara Anak Muda (bench)",
            summary="Benchmark campaign.",
            body="Benchmark **campaign**.",
            lead_org=orgs[0],
            goal=2_000_000,
        )
        for slug in PLEDGES:
            campaigns.add_pledge(session, campaign=campaign, slug=slug, text=f"Janji {slug}")
        for org in orgs[1:]:
            campaigns.add_partner(session, campaign=campaign, org=org)
        campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE)
        admin = accounts.create(session, email=ADMIN, password=PASSWORD, display_name="Admin")
        accounts.add_member(session, user=admin, org=orgs[0], role=Role.ADMIN)
        moderator = accounts.create(
            session, email=MODERATOR, password=PASSWORD, display_name="Moderator"
        )
        accounts.add_member(session, user=moderator, org=orgs[0], role=Role.MODERATOR)
        session.commit()
    assert session.exec(select(User).where(User.email == ADMIN)).first() is not None
    return World(SLUG, PARTNERS[0], ADMIN, MODERATOR, PASSWORD)


def add_supporters(session: Session, count: int) -> None:
    """count confirmed supporters with one to three pledges each, spread over the last 90
    days."""
    view = campaigns.get_view(session, slug=SLUG)
    pledge_ids = [p.id for p in view.pledges]
    partner_ids = [p.id for p in view.partners] + [None] * len(view.partners)
    provinces = list(PROVINCES)
    supporter_t = Supporter.__table__  # type: ignore[attr-defined]
    signature_t = Signature.__table__  # type: ignore[attr-defined]
    start = session.execute(
        sa.select(sa.func.coalesce(sa.func.max(supporter_t.c.number), 0)).where(
            supporter_t.c.campaign_id == view.id
        )
    ).scalar_one()
    now = utcnow()
    rng = random.Random(start)
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        rows = []
        for n in range(start + done + 1, start + done + size + 1):
            signed_at = now - timedelta(seconds=rng.randrange(90 * 86400))
            rows.append(
                {
                    "campaign_id": view.id,
                    "contact_digest": secrets.token_hex(32),
                    "token": secrets.token_urlsafe(16),
                    "invite_code": secrets.token_urlsafe(9),
                    "display_name": f"Pendukung {n}",
                    "province": rng.choice(provinces),
                    "age_band": rng.choice((*AGE_BANDS, None)),
                    "show_name": n % 10 == 0,
                    "referrer_id": rng.choice(partner_ids),
                    "number": n,
                    "locale": "id",
                    "created_at": signed_at,
                    # Counted supporters, as a long-running campaign has them: confirmed.
                    "confirmed_at": signed_at,
                    "state": SupporterState.COUNTED,
                }
            )
        ids = insert_rows(session, supporter_t, rows)
        signatures = [
            {"supporter_id": sid, "pledge_id": pid, "created_at": now}
            for sid in ids
            for pid in rng.sample(pledge_ids, rng.randint(1, len(pledge_ids)))
        ]
        copy_rows(session, signature_t, signatures)
        session.commit()
        done += size


def add_pending(session: Session, count: int, secrets_file: Path | None = None) -> None:
    """count signings by email waiting for their confirmation, written as the server writes
    them (confirmation, reminder contact and email included); their links' secrets to
    secrets_file, one a line."""
    view = campaigns.get_view(session, slug=SLUG)
    base = get_settings().public_url or "http://127.0.0.1:8000"
    links = supporters.SignerLinks(
        confirm=f"{base}/c/{SLUG}/confirm/", private=f"{base}/c/{SLUG}/thanks/"
    )
    stamp = secrets.token_hex(4)
    rng = random.Random(count)
    provinces = list(PROVINCES)
    out = secrets_file.open("a") if secrets_file else None
    try:
        for start in range(0, count, 500):
            jobs = []
            for n in range(start, min(start + 500, count)):
                form = supporters.SignForm(
                    name=f"Menunggu {n}",
                    contact=f"menunggu-{stamp}-{n}@contoh.id",
                    province=rng.choice(provinces),
                    age_ok="on",
                    consent="on",
                    pledges=tuple(rng.sample(PLEDGES, rng.randint(1, len(PLEDGES)))),
                )
                pending = supporters.prepare(view, form, links=links)
                assert pending is not None
                jobs.append(pending)
            for written in supporters.commit_signings(session, jobs):
                if isinstance(written, Exception):
                    raise written
            if out:
                out.writelines(f"{job.secret}\n" for job in jobs)
    finally:
        if out:
            out.close()


# Of the seeded cases, the share whose verdict is published, and of those the share reported to
# a platform: the gallery, the verdict pages and the transparency page read them.
PUBLISHED_SHARE = 0.03
ESCALATED_SHARE = 0.3
LABELS = list(Verdict)


def add_reports(session: Session, count: int) -> None:
    """count hoax cases, one report each, as a queue of the campaign's moderators: most open,
    a few published (with reports to platforms), over the last 30 days; with their monthly
    counts, as the site keeps them."""
    view = campaigns.get_view(session, slug=SLUG)
    rng = random.Random(count)
    now = utcnow()
    done = 0
    matcher = textmatch.default_matcher()
    while done < count:
        size = min(BATCH, count - done)
        cases = [_case(view.id, rng, now) for _n in range(size)]
        claims = [case.pop("_claim") for case in cases]
        ids = insert_rows(session, hoax_case_table, cases)
        # Each claim prepared once, as the server does: its stored text and its bands.
        texts = [matcher.prepare(claim) for claim in claims]
        reports = [
            _report(view.id, case_id, case, claim, text)
            for case_id, case, claim, text in zip(ids, cases, claims, texts, strict=True)
        ]
        report_ids = insert_rows(session, hoax_report_table, reports)
        bands = [
            {"report_id": report_id, "campaign_id": view.id, "band": band, "value": value}
            for report_id, text in zip(report_ids, texts, strict=True)
            for band, value in dict.fromkeys(matcher.bands(text))
        ]
        copy_rows(session, HoaxTextBand.__table__, bands)  # type: ignore[arg-type]
        _add_escalations(session, view.id, ids, cases, rng)
        _count_months(session, view.id, cases)
        session.commit()
        done += size


def _case(campaign_id: int, rng: random.Random, now: datetime) -> dict[str, Any]:
    created = now - timedelta(seconds=rng.randrange(30 * 86400))
    published = rng.random() < PUBLISHED_SHARE
    claim = _claim(rng)
    return {
        "campaign_id": campaign_id,
        "status": "published" if published else "new",
        "platform": rng.choice(list(Platform)).value,
        "category": rng.choice(list(Category)).value,
        "canonical_url": f"https://www.facebook.com/bench/{secrets.token_hex(6)}",
        "report_count": rng.randint(1, 30),
        "label": rng.choice(LABELS).value if published else None,
        "public_title": claim if published else "",
        "correction": "Faktanya berbeda: lihat penjelasan." if published else "",
        "public_explanation": "Penjelasan moderator.\n\nSumber resmi." if published else "",
        "published_at": created + timedelta(hours=rng.randint(2, 96)) if published else None,
        "created_at": created,
        "updated_at": now,
        # Kept for the report's own text below.
        "_claim": claim,
    }


def _report(
    campaign_id: int, case_id: int, case: dict[str, Any], claim: str, text: textmatch.Prepared
) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id,
        "case_id": case_id,
        "tracking_code": secrets.token_urlsafe(9)[:12],
        "url": case["canonical_url"],
        "canonical_url": case["canonical_url"],
        "platform": case["platform"],
        "category": case["category"],
        "description": claim,
        "match_text": text.text,
        "province": "ID-JK",
        "locale": "id",
        "created_at": case["created_at"],
    }


def _add_escalations(
    session: Session,
    campaign_id: int,
    ids: list[int],
    cases: list[dict[str, Any]],
    rng: random.Random,
) -> None:
    """Reports to platforms of some published verdicts, most with an outcome."""
    rows = []
    for case_id, case in zip(ids, cases, strict=True):
        if case["status"] != "published" or rng.random() >= ESCALATED_SHARE:
            continue
        reported = case["published_at"].date()
        answered = rng.random() < 0.8
        rows.append(
            {
                "campaign_id": campaign_id,
                "case_id": case_id,
                "target": rng.choice(list(EscalationTarget)).value,
                "target_name": "Lainnya" if rng.random() < 0.1 else "",
                "reported_on": reported,
                "reference": f"BENCH-{case_id}",
                "outcome": rng.choice(list(EscalationOutcome)).value if answered else None,
                "outcome_on": reported + timedelta(days=rng.randint(0, 9)) if answered else None,
                "created_at": case["published_at"],
                "updated_at": case["published_at"],
            }
        )
    for row in rows:
        if row["target_name"]:
            row["target"] = EscalationTarget.OTHER.value
    if rows:
        session.execute(sa.insert(escalation_table), rows)
    for row in rows:  # counted as the site counts them
        months.count_escalation(session, escalation=Escalation(**row), by=1)


def _count_months(session: Session, campaign_id: int, cases: list[dict[str, Any]]) -> None:
    """The monthly counts of this batch: its reports, cases and published verdicts."""
    tally: Counter[tuple[str, Any]] = Counter()
    for case in cases:
        month = months.month_of(case["created_at"])
        tally[(months.REPORTS, month)] += 1
        tally[(months.CASES, month)] += 1
        if case["status"] == "published":
            tally[
                (months.verdict_metric(case["label"]), months.month_of(case["published_at"]))
            ] += 1
    for (metric, month), number in tally.items():
        moment = datetime(month.year, month.month, 15, tzinfo=UTC)
        months.count(session, campaign_id=campaign_id, metric=metric, moment=moment, by=number)


# Claims as reporters word them: a template with other people, places, numbers and dates, so
# that the text index of the grown queue holds as many distinct claims as it has reports.
_CLAIMS = (
    "Beredar video {who} membagikan amplop berisi Rp {n}.000 kepada warga {place}",
    "Katanya surat suara di TPS {n} {place} sudah dicoblos untuk {who} sebelum hari pemilihan",
    "Pesan berantai: pemilih di {place} yang tidak membawa undangan C6 tidak boleh mencoblos",
    "Foto {who} bersama pejabat asing di {place} ternyata hasil rekayasa AI",
    "Info grup sebelah: kotak suara di {place} dibakar massa pendukung {who} tanggal {n}",
    "Akun palsu mengatasnamakan KPU {place} minta data KTP untuk bantuan Rp {n} ribu",
)
_WHO = ("Capres A", "Capres B", "Caleg Budi", "Caleg Sari", "Bupati Joko", "Tim Sukses Dewi")
_PLACES = ("Kecamatan Sukamaju", "Desa Mekarsari", "Kota Baru", "Kampung Rawa", "Tanjung Asri")


def _claim(rng: random.Random) -> str:
    template = rng.choice(_CLAIMS)
    place = f"{rng.choice(_PLACES)} {rng.randrange(1, 400)}"
    return template.format(who=rng.choice(_WHO), place=place, n=rng.randrange(1, 999))


# Published verdicts of the campaign that play in its real-or-fake game, each given a picture.
GAME_PICTURES = 10


def add_game(session: Session) -> None:
    """Put GAME_PICTURES published verdicts with a picture in the campaign's game (the game's
    pages are measured on them); nothing when they are there already."""
    campaign = session.exec(select(Campaign).where(Campaign.slug == SLUG)).one()
    playing = session.exec(
        select(sa.func.count()).select_from(GameItem).where(GameItem.campaign_id == campaign.id)
    ).one()
    if playing >= GAME_PICTURES:
        return
    cases = session.exec(
        select(HoaxCase)
        .where(HoaxCase.campaign_id == campaign.id, HoaxCase.status == CaseStatus.PUBLISHED)
        .order_by(col(HoaxCase.id))
        .limit(GAME_PICTURES)
    ).all()
    for n, case in enumerate(cases):
        if case.media_id is None:
            case.media_id = _picture(session, n)
            session.add(case)
        session.add(GameItem(case_id=case.id or 0, campaign_id=campaign.id or 0, in_game=True))
    session.commit()


def _picture(session: Session, n: int) -> int:
    """A stored picture of a verdict: a 960 × 720 JPEG with shapes, as a screenshot."""
    rng = random.Random(n)
    image = Image.new("RGB", (960, 720), (rng.randrange(256), rng.randrange(256), 160))
    draw = ImageDraw.Draw(image)
    for _shape in range(20):
        x, y = rng.randrange(900), rng.randrange(660)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + rng.randrange(40, 300), y + rng.randrange(30, 200)), fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    data = out.getvalue()
    media = Media(
        sha256=hashlib.sha256(data).hexdigest(), mime="image/jpeg", width=960, height=720,
        size=len(data), data=data, phash=0,
    )  # fmt: skip
    session.add(media)
    session.flush()
    return media.id or 0


def _bulk_loading(dbapi_connection: Any, _record: object) -> None:
    """The seed's own connections: a large page cache (the unique indexes of a million
    supporters take random keys), and commits that do not wait for the disk. A seed that
    fails is run again; the server's connections keep their own settings."""
    cursor = dbapi_connection.cursor()
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
        cursor.execute("PRAGMA synchronous=OFF")
    else:
        cursor.execute("SET synchronous_commit = off")
    cursor.close()


def _without_foreign_key_checks(dbapi_connection: Any, _record: object) -> None:
    """PostgreSQL's constraint triggers off for this connection (a superuser's setting)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET session_replication_role = replica")
    cursor.close()


# The tables the bulk rows go into: their secondary indexes are built once the rows are in.
BULK_TABLES = ("supporter", "signature", "hoax_case", "hoax_report", "hoax_text_band")


@contextlib.contextmanager
def indexes_built_after(session: Session, tables: tuple[str, ...]) -> Iterator[None]:
    """The tables' secondary indexes (neither unique nor a key) dropped, and created again
    from their own definitions, read from the database, once the block is done: one sort
    each instead of a random insert for every row. It took SQLite's million supporters from
    130 s to 77 s. A seed killed in the block leaves them missing: seed a fresh database."""
    conn = session.connection()
    names = sa.bindparam("names", tables, expanding=True)
    if conn.dialect.name == "postgresql":
        found = sa.text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
            " WHERE t.relname IN :names AND NOT x.indisunique AND NOT x.indisprimary"
            " AND t.relnamespace = current_schema()::regnamespace"
        )
    else:
        found = sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN :names"
            " AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%'"
        )
    indexes = conn.execute(found.bindparams(names)).all()
    quote = conn.dialect.identifier_preparer.quote
    for name, _definition in indexes:
        conn.execute(sa.text("DROP INDEX " + quote(name)))
    session.commit()
    try:
        yield
    finally:
        for _name, definition in indexes:
            session.execute(sa.text(definition))
        session.commit()


def seed(
    *,
    supporters_count: int,
    reports_count: int,
    pending_count: int = 0,
    secrets_file: Path | None = None,
    foreign_key_checks: bool = True,
) -> World:
    settings = get_settings()
    upgrade(settings.database_url)
    engine = create_db_engine(settings)
    sa.event.listen(engine, "connect", _bulk_loading)
    if not foreign_key_checks:
        if engine.dialect.name != "postgresql":
            raise SystemExit("--without-foreign-key-checks is for PostgreSQL only")
        sa.event.listen(engine, "connect", _without_foreign_key_checks)
    with Session(engine, expire_on_commit=False) as session:
        world = ensure_world(session)
        with indexes_built_after(session, BULK_TABLES):
            add_supporters(session, supporters_count)
            add_reports(session, reports_count)
        add_game(session)
        add_pending(session, pending_count, secrets_file)
        supporters.reconcile(session)
    engine.dispose()
    return world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--supporters", type=int, default=0)
    parser.add_argument("--reports", type=int, default=0)
    parser.add_argument("--pending", type=int, default=0, help="signings not confirmed yet")
    parser.add_argument("--secrets", type=Path, help="where to write the pending links' secrets")
    parser.add_argument(
        "--without-foreign-key-checks",
        dest="foreign_key_checks",
        action="store_false",
        help="PostgreSQL, connected as a superuser: load without checking the foreign keys",
    )
    args = parser.parse_args()
    started = time.monotonic()
    seed(
        supporters_count=args.supporters,
        reports_count=args.reports,
        pending_count=args.pending,
        secrets_file=args.secrets,
        foreign_key_checks=args.foreign_key_checks,
    )
    print(
        f"Seeded {args.supporters} supporters, {args.reports} reports and {args.pending} "
        f"pending signings in {time.monotonic() - started:.0f} s."
    )


if __name__ == "__main__":
    main()
