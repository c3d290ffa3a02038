"""One factory per entity, named by the state it builds: ``make_campaign(session, status="live")``,
``make_case(session, campaign, status="awaiting_approval")``.

Each takes the test's session first and keyword overrides after, fills in whatever the test
does not care about, and commits. tests/conftest.py binds them to the test's session under the
same names (``make_campaign(status="closed")`` in a test). Generated names are numbered from 1
in every test, as a person writing the test would number them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Membership, Organization, Role, User
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignPartner, CampaignStatus, CampaignView, Pledge
from pledge.db import utcnow
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import (
    CaseStatus,
    Category,
    HoaxCase,
    HoaxReport,
    Media,
    Platform,
    Verdict,
)
from pledge.supporters import service as supporters
from pledge.supporters.models import Signing
from tests.support.db import fresh
from tests.support.forms import report_fields, sign_form

MakeOrg = Callable[..., Organization]
MakeUser = Callable[..., User]
MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Signing]
MakeReport = Callable[..., HoaxReport]
MakeCase = Callable[..., HoaxCase]
Publish = Callable[..., HoaxCase]

PASSWORD = "kata-sandi-yang-panjang"
PLEDGES = ("tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks")

_numbers: dict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))


def number(kind: str) -> int:
    """The next number for a generated name of this kind: 1, 2, 3... in each test."""
    return next(_numbers[kind])


def restart_numbering() -> None:
    _numbers.clear()


# --- organisations, people, memberships --------------------------------------------------


def make_org(
    session: Session, slug: str | None = None, name: str | None = None, **fields: Any
) -> Organization:
    """An organisation, approved unless ``verified=False``."""
    n = number("org")
    fields.setdefault("verified", True)
    org = Organization(slug=slug or f"org-{n}", name=name or f"Organisasi {n}", **fields)
    session.add(org)
    session.commit()
    return org


def make_pending_org(
    session: Session, slug: str | None = None, name: str | None = None, **fields: Any
) -> Organization:
    """An organisation waiting for a site administrator's approval."""
    n = number("pending-org")
    return make_org(
        session, slug or f"pending-{n}", name or f"Menunggu {n}", **{"verified": False, **fields}
    )


def make_user(
    session: Session,
    email: str | None = None,
    *,
    org: Organization | None = None,
    role: Role | str | None = None,
    password: str | None = PASSWORD,
    site_admin: bool = False,
    active: bool = True,
    name: str | None = None,
) -> User:
    """An account that can sign in with ``PASSWORD`` (``password=None``: an invited person who
    has not chosen one yet); with ``org``, a member of it, an admin unless ``role`` says.
    Its display name is numbered like its email unless given (``name=""``: none)."""
    n = number("user")
    user = accounts.create(
        session,
        email=email or f"orang{n}@example.org",
        password=password,
        display_name=f"Orang {n}" if name is None else name,
        is_site_admin=site_admin,
    )
    user.is_active = active
    session.add(user)
    if org is not None:
        make_membership(session, user=user, org=org, role=role or Role.ADMIN)
    session.commit()
    return user


def make_membership(
    session: Session, *, user: User, org: Organization, role: Role | str = Role.ADMIN
) -> Membership:
    """The user's role in the organisation (given, or changed to this one)."""
    membership = accounts.add_member(session, user=user, org=org, role=Role(role))
    session.commit()
    return membership


# --- campaigns -----------------------------------------------------------------------


def make_campaign(
    session: Session,
    status: str = "live",
    slug: str | None = None,
    pledges: tuple[str, ...] = PLEDGES,
    partners: int = 2,
    goal: int = 1000,
    *,
    lead: Organization | None = None,
    counts_unconfirmed: bool = False,
    confirm_by_email: bool = True,
    confirm_by_whatsapp: bool = True,
    **fields: Any,
) -> CampaignView:
    """A campaign in the given status (draft, live or closed) with its pledges, led by ``lead``
    (a new organisation unless given) with ``partners`` more co-partner organisations. It
    counts confirmed signatures only, unless ``counts_unconfirmed``."""
    n = number("campaign")
    campaign = campaigns.create(
        session,
        slug=slug or f"kampanye-{n}",
        title=fields.pop("title", f"Kampanye {n}"),
        summary=fields.pop("summary", "Ringkasan kampanye."),
        body=fields.pop("body", "Cerita **kampanye**."),
        lead_org=lead or make_org(session),
        goal=goal,
        **fields,
    )
    campaign.counts_unconfirmed = counts_unconfirmed
    campaign.confirm_by_email = confirm_by_email
    campaign.confirm_by_whatsapp = confirm_by_whatsapp
    for pledge_slug in pledges:
        make_pledge(session, campaign, pledge_slug)
    for _ in range(partners):
        make_partner(session, campaign, make_org(session))
    if status in ("live", "closed"):
        campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE)
    if status == "closed":
        campaigns.set_status(session, campaign=campaign, status=CampaignStatus.CLOSED)
    session.commit()
    return campaigns.get_view(session, slug=campaign.slug, public=False)


def make_pledge(session: Session, campaign: Campaign, slug: str, text: str = "") -> Pledge:
    """One more pledge at the end of the campaign's list."""
    return campaigns.add_pledge(session, campaign=campaign, slug=slug, text=text or f"Janji {slug}")


def make_partner(session: Session, campaign: Campaign, org: Organization) -> CampaignPartner:
    """The organisation as a co-partner of the campaign, with its own referral code."""
    return campaigns.add_partner(session, campaign=campaign, org=org)


def refresh(session: Session, view: CampaignView) -> CampaignView:
    """The campaign as it is stored now."""
    campaign = session.get(Campaign, view.id)
    assert campaign is not None
    session.refresh(campaign)
    return campaigns.get_view(session, slug=campaign.slug, public=False)


# --- supporters ----------------------------------------------------------------------


def make_supporter(
    session: Session, view: CampaignView, *, confirmed: bool = True, **fields: Any
) -> Signing:
    """A supporter who signed the campaign's form (``sign_form`` fields: one pledge, Rina's
    email, unless given), through the service as the form does, and confirmed the signing
    (``confirmed=False``: still pending)."""
    signing = supporters.sign(session, view=view, form=sign_form(**fields))
    if confirmed and signing.ticket is not None:
        supporters.confirm(session, link_digest=signing.ticket.link_digest)
    return signing


# --- hoaxes --------------------------------------------------------------------------

# What a verdict says when the test does not care.
VERDICT: dict[str, Any] = {
    "label": Verdict.SALAH,
    "public_title": "Foto kotak suara dibakar di TPS Jakarta",
    "correction": "Foto itu hasil rekayasa dari foto lama di luar negeri.",
    "public_explanation": "Foto ini sudah beredar sejak 2019.\nSumbernya bukan TPS di Indonesia.",
    "fact_check_url": "https://cekfakta.example.id/kotak-suara",
}


def make_report(
    session: Session, view: CampaignView, *, image: bytes | None = None, **fields: Any
) -> HoaxReport:
    """A report submitted through the service, as the form would (``report_fields``
    unless given): it opens a case or joins the one about the same link or picture."""
    values = report_fields(**fields)
    values.pop("website", None)
    report = hoaxes.submit(session, view=view, form=hoaxes.ReportForm(screenshot=image, **values))
    assert report is not None
    return report


def make_media(session: Session) -> Media:
    """A stored picture (a few bytes standing for one: nothing decodes it)."""
    data = b"\x89PNG fake bytes %d" % number("media")
    media = Media(
        sha256=f"{number('media'):064x}", mime="image/png", width=4, height=3,
        size=len(data), data=data, phash=0,
    )  # fmt: skip
    session.add(media)
    session.flush()
    return media


def make_case(
    session: Session,
    campaign: CampaignView,
    *,
    status: str = "new",
    reports: int = 1,
    platform: str = "whatsapp",
    category: str = "false_claim",
    description: str = "Pesan berantai tentang TPS yang dipindah.",
    created_at: datetime | None = None,
    contact: str | None = None,
    media: bool = False,
    claimed_by: User | None = None,
    **fields: Any,
) -> HoaxCase:
    """A case in any status with ``reports`` reports (report_count follows unless given),
    written straight into the database. A case ``claimed_by`` a moderator is in review by
    them for ten minutes; a published one has a verdict (``VERDICT`` unless given) and was
    published when it was created. Other facts of a state (``proposed_by_id``, a proposed
    ``public_title``...) are given as fields."""
    created = created_at or utcnow()
    media_id = make_media(session).id if media else None
    fields.setdefault("report_count", reports)
    if status == CaseStatus.PUBLISHED:
        fields = {**VERDICT, "published_at": created, **fields}
    if claimed_by is not None:
        fields.update(
            claimed_by_id=claimed_by.id, claim_expires_at=utcnow() + timedelta(minutes=10)
        )
    case = HoaxCase(
        campaign_id=campaign.id,
        status=CaseStatus(status),
        platform=Platform(platform),
        category=Category(category),
        media_id=media_id,
        canonical_url=fields.pop("canonical_url", None),
        created_at=created,
        updated_at=created,
        **fields,
    )
    session.add(case)
    session.flush()
    for n in range(reports):
        session.add(
            HoaxReport(
                campaign_id=campaign.id,
                case_id=case.id or 0,
                tracking_code=f"code{number('tracking-code')}",
                url=f"https://example.com/post/{case.id}/{n}",
                canonical_url=case.canonical_url,
                platform=case.platform,
                category=case.category,
                description=description if n == 0 else f"{description} ({n})",
                province="ID-JK",
                media_id=media_id,
                contact_encrypted=contact,
                created_at=created + timedelta(seconds=n),
            )
        )
    session.commit()
    return case


def set_case_status(session: Session, case_id: int, status: CaseStatus, **fields: Any) -> HoaxCase:
    """Put an existing case in a status directly, with the given fields."""
    case = fresh(session).get(HoaxCase, case_id)
    assert case is not None
    case.status = status
    for name, value in fields.items():
        setattr(case, name, value)
    session.add(case)
    session.commit()
    return case


def publish_case(
    session: Session,
    case_id: int,
    *,
    label: Verdict = VERDICT["label"],
    title: str = VERDICT["public_title"],
    explanation: str = VERDICT["public_explanation"],
    fact_check_url: str | None = VERDICT["fact_check_url"],
    published_at: datetime | None = None,
    correction: str = VERDICT["correction"],
    **fields: Any,
) -> HoaxCase:
    """Publish an existing case with a verdict directly, as moderation would after a second
    moderator's approval."""
    return set_case_status(
        session,
        case_id,
        CaseStatus.PUBLISHED,
        label=label,
        public_title=title,
        correction=correction,
        public_explanation=explanation,
        fact_check_url=fact_check_url,
        published_at=published_at or utcnow(),
        **fields,
    )


def published_cases(
    session: Session, make_report: MakeReport, publish: Publish, view: CampaignView, n: int
) -> list[HoaxCase]:
    """n published cases with distinct links, published a minute apart (the last newest)."""
    start = utcnow() - timedelta(days=1)
    made = []
    for i in range(n):
        report = make_report(view, url=f"https://example.com/hoaks/{i}")
        made.append(
            publish(
                report.case_id, title=f"Hoaks nomor {i}", published_at=start + timedelta(minutes=i)
            )
        )
    return made
