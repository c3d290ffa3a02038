"""The demo: a live #SuarakanCintamu-style campaign with partners, supporters and two staff
accounts to sign in with. Idempotent."""

from __future__ import annotations

import logging
import random

from sqlmodel import Session, select

from pledge import demo_hoaxes
from pledge.accounts import service as accounts
from pledge.accounts.access import moderator_context
from pledge.accounts.models import Organization, Role
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignStatus, Pledge
from pledge.config import Environment, get_settings
from pledge.supporters import service as supporters

CAMPAIGN_SLUG = "suarakan-cintamu"

log = logging.getLogger(__name__)

# Known to everyone who reads this file: never created on a production site.
DEMO_PASSWORD = "demo-password-2029"  # noqa: S105
DEMO_USERS = [
    # email, display name, organisation, role, site admin
    ("admin@contoh.id", "Admin Demo", "jaringan-pemilih-muda", Role.ADMIN, True),
    ("moderator@contoh.id", "Moderator Demo", "cek-fakta-muda", Role.MODERATOR, False),
]

ORGANIZATIONS = [
    # slug, name, website, referral code
    (
        "jaringan-pemilih-muda",
        "Jaringan Pemilih Muda",
        "https://pemilihmuda.example.org",
        "jpm2029",
    ),
    (
        "sekolah-demokrasi",
        "Sekolah Demokrasi Nusantara",
        "https://sekolahdemokrasi.example.org",
        "sdn2029",
    ),
    ("cek-fakta-muda", "Cek Fakta Muda", "https://cekfaktamuda.example.org", "cfm2029"),
    ("perempuan-bersuara", "Perempuan Bersuara", "https://perempuanbersuara.example.org", "pb2029"),
    ("forum-pelajar-peduli", "Forum Pelajar Peduli Pemilu", "https://fp3.example.org", "fp32029"),
]

PLEDGES = [
    ("tolak-politik-uang", "Saya menolak politik uang: suara saya tidak dijual."),
    ("gunakan-hak-pilih", "Saya akan datang ke TPS dan menggunakan hak pilih saya."),
    ("lawan-hoaks", "Saya akan memeriksa dan melaporkan hoaks, bukan menyebarkannya."),
]

CAMPAIGN_TITLE = "#SuarakanCintamu: Suara Anak Muda Tidak Dijual"
CAMPAIGN_SUMMARY = (
    "Berjanji bareng ribuan anak muda: tolak politik uang, pakai hak pilihmu, "
    "dan lawan hoaks menjelang pemilu."
)
BODY = """\
Pemilu adalah cara kita menyuarakan cinta untuk Indonesia. Tapi cinta itu diuji:
amplop serangan fajar, hoaks tentang kandidat, dan gambar buatan AI yang menyesatkan.

**#SuarakanCintamu** mengajak anak muda untuk berjanji bersama:

- menolak politik uang, dalam bentuk apa pun;
- datang ke TPS dan menggunakan hak pilih;
- memeriksa informasi sebelum membagikannya, dan melaporkan hoaks.

Setiap nama dihitung. Ajak teman-temanmu, dan mari kita tunjukkan bahwa suara
anak muda tidak bisa dibeli.

Kampanye ini dijalankan bersama organisasi masyarakat sipil di seluruh Indonesia.
Baca [Kebijakan Privasi](/privacy) untuk tahu data apa saja yang kami simpan.
"""

FIRST_NAMES = [
    "Rina",
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Putri",
    "Rizky",
    "Ayu",
    "Fajar",
    "Nur",
    "Intan",
    "Dimas",
    "Wulan",
    "Yusuf",
    "Maya",
    "Andi",
    "Sari",
    "Bayu",
    "Lestari",
    "Gilang",
    "Nabila",
    "Ketut",
    "Made",
    "Tiara",
    "Rahmat",
    "Aisyah",
    "Hendra",
    "Citra",
    "Reza",
    "Melati",
]
PROVINCE_CODES = [
    "ID-JK",
    "ID-JB",
    "ID-JT",
    "ID-JI",
    "ID-YO",
    "ID-BA",
    "ID-SN",
    "ID-SU",
    "ID-KI",
    "ID-NT",
    "ID-PA",
    "ID-AC",
]


def seed(session: Session, *, supporters_count: int = 60) -> Campaign:
    """Create the demo if it is missing; running it again changes nothing."""
    orgs = _seed_orgs(session)
    campaign = _seed_campaign(session, orgs)
    session.commit()
    has_users = seed_users(session)
    _seed_supporters(session, count=supporters_count)
    if has_users:
        _seed_hoaxes(session)
    return campaign


def _seed_hoaxes(session: Session) -> None:
    """The hoax loop, moderated by the two demo users: the moderator proposes, the admin
    approves."""
    people = []
    for email in ("moderator@contoh.id", "admin@contoh.id"):
        user = accounts.get_by_email(session, email)
        assert user is not None
        people.append(moderator_context(session, user=user))
    view = campaigns.get_view(session, slug=CAMPAIGN_SLUG)
    if demo_hoaxes.seed(session, view, demo_hoaxes.Moderators(*people)):
        log.info("demo: hoax reports, verdicts and their history seeded")


def _seed_orgs(session: Session) -> list[Organization]:
    """The demo's partner organisations, approved, the lead first."""
    orgs = []
    for slug, name, website, _code in ORGANIZATIONS:
        org = session.exec(select(Organization).where(Organization.slug == slug)).first()
        if org is None:
            org = Organization(slug=slug, name=name, website=website, verified=True)
            session.add(org)
            session.flush()
        orgs.append(org)
    return orgs


def _seed_campaign(session: Session, orgs: list[Organization]) -> Campaign:
    """The live demo campaign with its pledges and every demo organisation as a partner."""
    campaign = session.exec(select(Campaign).where(Campaign.slug == CAMPAIGN_SLUG)).first()
    if campaign is None:
        campaign = campaigns.create(
            session,
            slug=CAMPAIGN_SLUG,
            title=CAMPAIGN_TITLE,
            summary=CAMPAIGN_SUMMARY,
            body=BODY,
            lead_org=orgs[0],
            goal=10_000,
            referral_code=ORGANIZATIONS[0][3],
        )
    existing = {
        p.slug for p in session.exec(select(Pledge).where(Pledge.campaign_id == campaign.id))
    }
    for slug, text in PLEDGES:
        if slug not in existing:
            campaigns.add_pledge(session, campaign=campaign, slug=slug, text=text)
    for org, (_slug, _name, _website, code) in zip(orgs, ORGANIZATIONS, strict=True):
        campaigns.add_partner(session, campaign=campaign, org=org, referral_code=code)
    if campaign.status == CampaignStatus.DRAFT:
        campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE)
    return campaign


def _seed_supporters(session: Session, *, count: int) -> None:
    """Demo supporters, signed through the public path and confirmed: the same people on every
    run, so running it again adds nobody."""
    view = campaigns.get_view(session, slug=CAMPAIGN_SLUG)
    rng = random.Random(2029)  # noqa: S311 - the same demo people every time
    pledge_slugs = [slug for slug, _text in PLEDGES]
    for i in range(count):
        name = FIRST_NAMES[i % len(FIRST_NAMES)]
        chosen = tuple(s for s in pledge_slugs if rng.random() < 0.75) or (pledge_slugs[0],)
        # Given no links, signing sends no email: the demo people confirm at once.
        signing = supporters.sign(
            session,
            view=view,
            form=supporters.SignForm(
                name=f"{name} {chr(65 + i % 26)}.",
                contact=f"demo{i:04d}@contoh.id",
                province=rng.choice(PROVINCE_CODES),
                age_band=rng.choice(("17-19", "20-24", "20-24", "25-29", "")),
                age_ok="on",
                consent="on",
                pledges=chosen,
                show_name="on" if rng.random() < 0.6 else "",
                ref=rng.choice([code for *_rest, code in ORGANIZATIONS] + ["", ""]),
            ),
        )
        if signing.ticket is not None:
            supporters.confirm(session, link_digest=signing.ticket.link_digest)


def seed_users(session: Session) -> bool:
    """The demo admin and moderator, with the well-known demo password; False (and nothing
    created) on a production site, where a published password would be a way in."""
    if get_settings().env == Environment.PRODUCTION:
        log.warning("PLEDGE_ENV=production: the demo users were not created")
        return False
    for email, name, org_slug, role, site_admin in DEMO_USERS:
        org = accounts.get_org_by_slug(session, org_slug)
        user = accounts.get_by_email(session, email)
        if user is None:
            user = accounts.create(
                session,
                email=email,
                password=DEMO_PASSWORD,
                display_name=name,
                is_site_admin=site_admin,
            )
        if accounts.role_in(session, user_id=user.id or 0, org_id=org.id or 0) is None:
            accounts.add_member(session, user=user, org=org, role=role)
    session.commit()
    return True
