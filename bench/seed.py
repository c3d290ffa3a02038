"""Seed a database for the benchmarks: a live campaign with partners, staff accounts, and as
many supporters and hoax reports as asked, written in bulk.

    python -m bench.seed --supporters 1000000 --reports 100000

    python -m bench.seed --pending 50000 --secrets secrets.txt

Runs against PLEDGE_DATABASE_URL (migrated first). Running it again adds more rows to the same
campaign. The tallies are recounted at the end, as `pledge tallies reconcile` would.

Pending signings (signed, not confirmed yet) are taken by the server's own write path, with
PLEDGE_SECRET_KEY, so that their confirmation links work on a server with the same key;
--secrets writes those links' secrets, one a line.
"""

from __future__ import annotations

import argparse
import random
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignStatus
from pledge.cli import upgrade
from pledge.config import get_settings
from pledge.db import create_db_engine, utcnow
from pledge.hoaxes import textmatch
from pledge.hoaxes.models import Category, HoaxCase, HoaxReport, HoaxTextBand, Platform
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
        ids = session.execute(
            sa.insert(supporter_t).returning(supporter_t.c.id, sort_by_parameter_order=True),
            rows,
        ).scalars()
        signatures = [
            {"supporter_id": sid, "pledge_id": pid, "created_at": now}
            for sid in ids
            for pid in rng.sample(pledge_ids, rng.randint(1, len(pledge_ids)))
        ]
        session.execute(sa.insert(signature_t), signatures)
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


def add_reports(session: Session, count: int) -> None:
    """count open hoax cases, one report each, as a queue of the campaign's moderators."""
    view = campaigns.get_view(session, slug=SLUG)
    case_t = HoaxCase.__table__  # type: ignore[attr-defined]
    report_t = HoaxReport.__table__  # type: ignore[attr-defined]
    rng = random.Random(count)
    now = utcnow()
    done = 0
    platforms, categories = list(Platform), list(Category)
    matcher = textmatch.default_matcher()
    while done < count:
        size = min(BATCH, count - done)
        stamp = secrets.token_hex(4)
        cases = [
            {
                "campaign_id": view.id,
                "status": "new",
                "platform": rng.choice(platforms).value,
                "category": rng.choice(categories).value,
                "canonical_url": f"https://www.facebook.com/bench/{stamp}/{n}",
                "report_count": rng.randint(1, 30),
                "public_title": "",
                "public_explanation": "",
                "created_at": now - timedelta(seconds=rng.randrange(30 * 86400)),
                "updated_at": now,
            }
            for n in range(size)
        ]
        ids = session.execute(
            sa.insert(case_t).returning(case_t.c.id, sort_by_parameter_order=True), cases
        ).scalars()
        reports = [
            {
                "campaign_id": view.id,
                "case_id": case_id,
                "tracking_code": secrets.token_urlsafe(9)[:12],
                "url": case["canonical_url"],
                "canonical_url": case["canonical_url"],
                "platform": case["platform"],
                "category": case["category"],
                "description": (claim := _claim(rng)),
                "match_text": matcher.prepare(claim).text,
                "province": "ID-JK",
                "locale": "id",
                "created_at": case["created_at"],
            }
            for case_id, case in zip(ids, cases, strict=True)
        ]
        report_ids = session.execute(
            sa.insert(report_t).returning(report_t.c.id, sort_by_parameter_order=True), reports
        ).scalars()
        bands = [
            {"report_id": report_id, "campaign_id": view.id, "band": band, "value": value}
            for report_id, report in zip(report_ids, reports, strict=True)
            for band, value in dict.fromkeys(matcher.bands(matcher.prepare(report["match_text"])))
        ]
        session.execute(sa.insert(HoaxTextBand.__table__), bands)  # type: ignore[attr-defined]
        session.commit()
        done += size


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


def seed(
    *,
    supporters_count: int,
    reports_count: int,
    pending_count: int = 0,
    secrets_file: Path | None = None,
) -> World:
    settings = get_settings()
    upgrade(settings.database_url)
    engine = create_db_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        world = ensure_world(session)
        add_supporters(session, supporters_count)
        add_reports(session, reports_count)
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
    args = parser.parse_args()
    started = time.monotonic()
    seed(
        supporters_count=args.supporters,
        reports_count=args.reports,
        pending_count=args.pending,
        secrets_file=args.secrets,
    )
    print(
        f"Seeded {args.supporters} supporters, {args.reports} reports and {args.pending} "
        f"pending signings in {time.monotonic() - started:.0f} s."
    )


if __name__ == "__main__":
    main()
