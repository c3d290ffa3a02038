"""Every query behind the partner dashboard: an organisation's campaigns, statistics, exports.

Counts come from the tallies (pledge.supporters.service.read_counts). The breakdowns that
describe people (province, age group) are grouped in SQL and fold every group smaller than
MIN_BUCKET into one row, so that nobody can be singled out. Times are grouped in Western
Indonesian Time (WIB, UTC+7, no daylight saving). The breakdowns read every supporter of a
campaign, so each process keeps them a while (`Recounts`).
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from babel.dates import format_date
from sqlalchemy import Connection, Engine
from sqlmodel import Session, col, select

from pledge import audit
from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, User
from pledge.accounts.service import OrgRole
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import (
    PUBLIC_STATUSES,
    Campaign,
    CampaignPartner,
    CampaignView,
    PartnerView,
)
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import Invalid, NotFound
from pledge.i18n import get_locale
from pledge.i18n import gettext as _
from pledge.provinces import AGE_BANDS, PROVINCES
from pledge.security import FieldCipher
from pledge.supporters import service as supporters
from pledge.supporters.models import Counts, Signature, Supporter

WIB = timezone(timedelta(hours=7), "WIB")
# Breakdowns about people never show a group smaller than this.
MIN_BUCKET = 10
DAY_WINDOWS = (7, 30, 90)
DEFAULT_DAYS = 30
HOUR_WINDOW = 48
EXPORT_BATCH = 500
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
OTHER = "other"
NOT_GIVEN = "none"

supporter_t = Supporter.__table__  # type: ignore[attr-defined]
signature_t = Signature.__table__  # type: ignore[attr-defined]


# --- the dashboard's home ------------------------------------------------------------


def home(session: Session, *, user: User) -> list[OrgRole]:
    """The organisations the user belongs to, with their role in each."""
    return accounts.list_memberships(session, user_id=user.id or 0)


@dataclass(frozen=True, slots=True)
class OrgCampaign:
    """A campaign as one organisation sees it: led by it, or joined as a partner."""

    view: CampaignView
    counts: Counts
    partner: PartnerView | None  # the organisation's own partner row in this campaign

    @property
    def is_public(self) -> bool:
        return self.view.campaign.status in PUBLIC_STATUSES

    @property
    def referrals(self) -> int:
        return self.counts.partner(self.partner.id) if self.partner else 0


@dataclass(frozen=True, slots=True)
class OrgHome:
    org: Organization
    led: list[OrgCampaign]
    partnered: list[OrgCampaign]


def org_home(session: Session, *, org: Organization) -> OrgHome:
    """The campaigns an organisation leads and the ones it partners in, with their counts."""
    led = session.exec(
        select(Campaign)
        .where(Campaign.lead_org_id == org.id)
        .order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())
    ).all()
    partnered = session.exec(
        select(Campaign)
        .join(CampaignPartner, col(CampaignPartner.campaign_id) == Campaign.id)
        .where(CampaignPartner.org_id == org.id, Campaign.lead_org_id != org.id)
        .order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())
    ).all()
    return OrgHome(
        org=org,
        led=[_org_campaign(session, org=org, campaign=c) for c in led],
        partnered=[_org_campaign(session, org=org, campaign=c) for c in partnered],
    )


def _org_campaign(session: Session, *, org: Organization, campaign: Campaign) -> OrgCampaign:
    view = campaigns.get_view(session, slug=campaign.slug, public=False)
    return OrgCampaign(
        view=view,
        counts=supporters.read_counts(session, campaign_id=view.id),
        partner=view.partner_by_slug(org.slug),
    )


def campaign_for_org(session: Session, *, org: Organization, slug: str) -> OrgCampaign:
    """A campaign the organisation leads or partners in; any other is not found for it."""
    try:
        view = campaigns.get_view(session, slug=slug, public=False)
    except NotFound:
        raise NotFound(_("We could not find that campaign.")) from None
    partner = view.partner_by_slug(org.slug)
    if partner is None and view.campaign.lead_org_id != org.id:
        raise NotFound(_("We could not find that campaign among your organisation's campaigns."))
    return OrgCampaign(
        view=view,
        counts=supporters.read_counts(session, campaign_id=view.id),
        partner=partner,
    )


# --- statistics ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str  # stable: a pledge or partner slug, a province code, an ISO date or hour
    label: str  # as shown in tables
    count: int
    short: str = ""  # the label under a chart's bar; empty means no label under it


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Groups of supporters, with the small ones folded into one "other" row."""

    buckets: list[Bucket]
    folded: int  # how many groups went into the "other" row

    @property
    def total(self) -> int:
        return sum(bucket.count for bucket in self.buckets)


def fold_small(rows: Sequence[Bucket], *, minimum: int = MIN_BUCKET) -> Breakdown:
    """Keep the groups of at least `minimum`; add up the others in one row."""
    shown = [row for row in rows if row.count >= minimum]
    small = [row for row in rows if 0 < row.count < minimum]
    if small:
        shown.append(
            Bucket(
                key=OTHER,
                label=_("Other (groups of fewer than %(n)s)") % {"n": minimum},
                count=sum(row.count for row in small),
            )
        )
    return Breakdown(buckets=shown, folded=len(small))


@dataclass(frozen=True, slots=True)
class Statistics:
    campaign: OrgCampaign
    pledges: list[Bucket]
    partners: list[Bucket]  # referrals per partner, then the supporters with no referral
    provinces: Breakdown
    age_bands: Breakdown
    days: int
    per_day: list[Bucket]
    per_hour: list[Bucket]
    opted_in: int  # supporters who asked this organisation for news
    generated_at: datetime  # in WIB

    @property
    def view(self) -> CampaignView:
        return self.campaign.view

    @property
    def counts(self) -> Counts:
        return self.campaign.counts


def parse_days(raw: str | None) -> int:
    """The day window asked for in the address: 7, 30 or 90."""
    if raw is None or raw == "":
        return DEFAULT_DAYS
    if raw.strip().isdigit() and int(raw) in DAY_WINDOWS:
        return int(raw)
    raise Invalid({"days": _("Choose a period of 7, 30 or 90 days.")})


def statistics(
    session: Session,
    *,
    org: Organization,
    slug: str,
    days: str | None = None,
    now: datetime | None = None,
) -> Statistics:
    """A campaign's numbers, for an organisation that leads it or partners in it."""
    window = parse_days(days)
    found = campaign_for_org(session, org=org, slug=slug)
    view, counts = found.view, found.counts
    pledges = [Bucket(key=p.slug, label=p.text, count=counts.pledge(p.id)) for p in view.pledges]
    partners = [Bucket(key=p.slug, label=p.name, count=counts.partner(p.id)) for p in view.partners]
    referred = sum(bucket.count for bucket in partners)
    partners.append(
        Bucket(key="", label=_("No partner's link"), count=max(counts.total - referred, 0))
    )
    now_wib = (now or utcnow()).astimezone(WIB)
    recount = recounts.get(session, campaign_id=view.id, total=counts.total, now=now_wib)
    # The hours since the recount are not in it yet: the charts end where it was made.
    per_day, per_hour = over_time(recount.hourly, days=window, now=recount.made_at)
    return Statistics(
        campaign=found,
        pledges=pledges,
        partners=partners,
        provinces=fold_small(recount.provinces),
        age_bands=fold_small(recount.age_bands),
        days=window,
        per_day=per_day,
        per_hour=per_hour,
        opted_in=count_opted_in(session, partner=found.partner),
        generated_at=recount.made_at,
    )


@dataclass(frozen=True, slots=True)
class Recount:
    """What the statistics page counts from every supporter row of a campaign."""

    total: int  # the campaign's supporters by its tallies, when the recount began
    since: datetime  # the first hour of `hourly`, in WIB
    provinces: list[Bucket]
    age_bands: list[Bucket]
    hourly: dict[datetime, int]  # new supporters per WIB hour from `since` on
    made_at: datetime  # in WIB
    made: float  # time.monotonic() when it was made


class Recounts:
    """The last recount of each campaign, shared by the requests of one process.

    A recount is used again while it is younger than `statistics_cache_seconds`, and for up
    to KEEP_UNCHANGED while the campaign's number of supporters has not moved. Requests that
    find it stale wait for the one request that is already recounting, rather than each
    reading every supporter again at once.
    """

    KEEP_UNCHANGED = 600.0
    SIZE = 256

    def __init__(self) -> None:
        self._entries: OrderedDict[int, Recount] = OrderedDict()
        self._turns: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(
        self,
        session: Session,
        *,
        campaign_id: int,
        total: int,
        now: datetime,
        max_age: float | None = None,
    ) -> Recount:
        fresh_for = get_settings().statistics_cache_seconds if max_age is None else max_age
        since = _longest_since(now)
        with self._lock:
            turn = self._turns.setdefault(campaign_id, threading.Lock())
        with turn:
            found = self._entries.get(campaign_id)
            if (
                found is not None
                and found.since == since  # a new day starts a new window
                and found.made_at <= now
                and _fresh(found, total, fresh_for)
            ):
                return found
            made = recount(session, campaign_id=campaign_id, total=total, now=now)
            with self._lock:
                self._entries[campaign_id] = made
                self._entries.move_to_end(campaign_id)
                while len(self._entries) > self.SIZE:
                    self._entries.popitem(last=False)
            return made

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _fresh(found: Recount, total: int, fresh_for: float) -> bool:
    age = time.monotonic() - found.made
    return age < fresh_for or (found.total == total and age < Recounts.KEEP_UNCHANGED)


recounts = Recounts()
forget_statistics: Callable[[], None] = recounts.clear


def _longest_since(now: datetime) -> datetime:
    """The first WIB hour any window of the statistics page shows."""
    first_day = now.date() - timedelta(days=max(DAY_WINDOWS) - 1)
    day_start = datetime.combine(first_day, datetime.min.time(), tzinfo=WIB)
    hour_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOUR_WINDOW - 1)
    return min(day_start, hour_start)


def recount(session: Session, *, campaign_id: int, total: int, now: datetime) -> Recount:
    since = _longest_since(now)
    return Recount(
        total=total,
        since=since,
        provinces=by_province(session, campaign_id=campaign_id),
        age_bands=by_age_band(session, campaign_id=campaign_id),
        hourly=hourly_counts(session, campaign_id=campaign_id, since=since.astimezone(UTC)),
        made_at=now,
        made=time.monotonic(),
    )


def by_province(session: Session, *, campaign_id: int) -> list[Bucket]:
    rows = session.execute(
        sa.select(supporter_t.c.province, sa.func.count())
        .where(supporter_t.c.campaign_id == campaign_id)
        .group_by(supporter_t.c.province)
    ).all()
    buckets = [Bucket(key=code, label=PROVINCES.get(code, code), count=int(n)) for code, n in rows]
    return sorted(buckets, key=lambda b: (-b.count, b.label))


def by_age_band(session: Session, *, campaign_id: int) -> list[Bucket]:
    rows = session.execute(
        sa.select(supporter_t.c.age_band, sa.func.count())
        .where(supporter_t.c.campaign_id == campaign_id)
        .group_by(supporter_t.c.age_band)
    ).all()
    found = {band: int(n) for band, n in rows}
    order = [*AGE_BANDS, *sorted(k for k in found if k is not None and k not in AGE_BANDS)]
    buckets = [Bucket(key=band, label=band, count=found[band]) for band in order if band in found]
    if None in found:
        buckets.append(Bucket(key=NOT_GIVEN, label=_("Not given"), count=found[None]))
    return buckets


def count_opted_in(session: Session, *, partner: PartnerView | None) -> int:
    if partner is None:
        return 0
    return int(
        session.execute(
            sa.select(sa.func.count()).where(
                supporter_t.c.updates_partner_id == partner.id,
                supporter_t.c.anonymised_at.is_(None),  # retention removed their contact
            )
        ).scalar_one()
    )


def _utc_hour_expression(dialect: str) -> Any:
    """The supporter's signing time cut to the hour, in UTC, on either database.

    Cheap to compute for a million rows: WIB is a fixed seven hours ahead (Indonesia has no
    daylight saving), so the hours are moved to WIB in Python, after grouping.
    """
    created = supporter_t.c.created_at
    if dialect == "postgresql":
        return sa.func.date_trunc("hour", sa.func.timezone("UTC", created))
    # SQLite keeps UTC as ISO text ("2026-03-10 12:05:00.000000"): the hour is its first 13.
    return sa.func.substr(created, 1, 13)


def _as_wib_hour(value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
    else:
        moment = datetime.strptime(str(value)[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)
    return moment.astimezone(WIB)


def hourly_counts(session: Session, *, campaign_id: int, since: datetime) -> dict[datetime, int]:
    """New supporters per WIB hour from `since` on, keyed by the hour's start in WIB."""
    hour = _utc_hour_expression(session.get_bind().dialect.name).label("hour")
    rows = session.execute(
        sa.select(hour, sa.func.count())
        .where(supporter_t.c.campaign_id == campaign_id, supporter_t.c.created_at >= since)
        .group_by(hour)
    ).all()
    counts: dict[datetime, int] = {}
    for value, n in rows:
        key = _as_wib_hour(value)
        counts[key] = counts.get(key, 0) + int(n)
    return counts


def _day_label(day: date, locale: str) -> str:
    return format_date(day, format="d MMM", locale=locale)


def over_time(
    hourly: dict[datetime, int], *, days: int, now: datetime
) -> tuple[list[Bucket], list[Bucket]]:
    """Supporters per WIB day over the last `days` days (today included), and per WIB hour
    over the last 48 hours (this hour included), from the counts per WIB hour. Each supporter
    is counted once, at the time they first signed."""
    now = now.astimezone(WIB)
    locale = get_locale()
    first_day = now.date() - timedelta(days=days - 1)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    hour_start = this_hour - timedelta(hours=HOUR_WINDOW - 1)

    per_date: dict[date, int] = {}
    for hour, n in hourly.items():
        per_date[hour.date()] = per_date.get(hour.date(), 0) + n
    tick_every = max(1, -(-days // 8))  # about eight labels under the bars, whatever the window
    per_day = []
    for i in range(days):
        day = first_day + timedelta(days=i)
        label = _day_label(day, locale)
        short = label if (days - 1 - i) % tick_every == 0 else ""
        per_day.append(
            Bucket(key=day.isoformat(), label=label, count=per_date.get(day, 0), short=short)
        )

    per_hour = []
    for i in range(HOUR_WINDOW):
        hour = hour_start + timedelta(hours=i)
        clock = hour.strftime("%H:00")
        label = f"{_day_label(hour.date(), locale)} {clock}"
        if hour.hour == 0:
            short = _day_label(hour.date(), locale)
        elif hour.hour % 6 == 0:
            short = clock
        else:
            short = ""
        per_hour.append(
            Bucket(
                key=hour.strftime("%Y-%m-%dT%H:00"),
                label=label,
                count=hourly.get(hour, 0),
                short=short,
            )
        )
    return per_day, per_hour


# --- export --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    rows: int
    lines: Generator[str, None, None]  # the CSV, a few hundred rows at a time


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula is made plain text."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def export_supporters(session: Session, *, org: Organization, slug: str, actor: User) -> Export:
    """The supporters who asked this organisation for news, with their contact, as CSV.

    Only the organisation's own opted-in supporters are read; everyone else's contact
    stays in the database. The export is in the audit log before a byte is sent.
    """
    found = campaign_for_org(session, org=org, slug=slug)
    view = found.view
    partner_id = found.partner.id if found.partner else None
    rows, last_id = 0, 0
    if partner_id is not None:
        n, top = session.execute(
            sa.select(sa.func.count(), sa.func.max(supporter_t.c.id)).where(
                supporter_t.c.campaign_id == view.id,
                supporter_t.c.updates_partner_id == partner_id,
                supporter_t.c.anonymised_at.is_(None),
            )
        ).one()
        rows, last_id = int(n), int(top or 0)
    with writing(session):
        audit.record(
            session,
            actor_id=actor.id,
            action="supporters.export",
            subject=f"campaign:{view.id}",
            data={"org": org.slug, "rows": rows},
        )
    today = utcnow().astimezone(WIB).strftime("%Y%m%d")
    header = [
        _("Name"),
        _("Contact"),
        _("Province"),
        _("Age group"),
        _("Signed at (WIB)"),
        _("Pledges signed"),
    ]
    lines = _csv_lines(
        session.get_bind(),
        campaign_id=view.id,
        partner_id=partner_id,
        last_id=last_id,
        header=header,
        pledge_texts={p.id or 0: p.text for p in view.pledges},
        not_given=_("Not given"),
        cipher=FieldCipher(get_settings().secret_key),
    )
    return Export(filename=f"{view.slug}-{org.slug}-supporters-{today}.csv", rows=rows, lines=lines)


def _csv_lines(
    bind: Engine | Connection,
    *,
    campaign_id: int,
    partner_id: int | None,
    last_id: int,
    header: list[str],
    pledge_texts: dict[int, str],
    not_given: str,
    cipher: FieldCipher,
) -> Generator[str, None, None]:
    """Rows read in batches by id, each batch in its own short read, up to the last id
    counted for the audit log: a large export never sits in memory or holds a transaction."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(header)
    yield "\ufeff" + flush()  # the byte-order mark makes Excel read the file as UTF-8
    if partner_id is None or last_id == 0:
        return
    order = {pledge_id: position for position, pledge_id in enumerate(pledge_texts)}
    after = 0
    with Session(bind) as session:
        while after < last_id:
            batch = session.execute(
                sa.select(
                    supporter_t.c.id,
                    supporter_t.c.display_name,
                    supporter_t.c.contact_encrypted,
                    supporter_t.c.province,
                    supporter_t.c.age_band,
                    supporter_t.c.created_at,
                )
                .where(
                    supporter_t.c.campaign_id == campaign_id,
                    supporter_t.c.updates_partner_id == partner_id,
                    supporter_t.c.anonymised_at.is_(None),
                    supporter_t.c.id > after,
                    supporter_t.c.id <= last_id,
                )
                .order_by(supporter_t.c.id)
                .limit(EXPORT_BATCH)
            ).all()
            if not batch:
                break
            signed: dict[int, list[int]] = {}
            for supporter_id, pledge_id in session.execute(
                sa.select(signature_t.c.supporter_id, signature_t.c.pledge_id).where(
                    signature_t.c.supporter_id.in_([row.id for row in batch])
                )
            ):
                signed.setdefault(supporter_id, []).append(pledge_id)
            session.rollback()  # end the read between batches
            for row in batch:
                pledges = sorted(signed.get(row.id, []), key=lambda pid: order.get(pid, pid))
                contact = cipher.decrypt(row.contact_encrypted) if row.contact_encrypted else None
                cells = [
                    row.display_name,
                    contact or "",
                    PROVINCES.get(row.province, row.province),
                    row.age_band or not_given,
                    row.created_at.astimezone(WIB).strftime("%Y-%m-%d %H:%M"),
                    "; ".join(pledge_texts.get(pid, "") for pid in pledges),
                ]
                writer.writerow([neutralise(cell) for cell in cells])
            yield flush()
            after = batch[-1].id
