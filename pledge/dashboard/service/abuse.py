"""The abuse console: where a campaign's signatures came from over the last 48 hours (WIB),
with the thresholds that flag a network, an email domain or a partner's link; the signatures
held for review; and the invalidations. The same pages serve the site's administrators
(every campaign) and the admins of a campaign's lead organisation (theirs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from pledge.accounts.models import Organization
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.dashboard.service.breakdowns import HOUR_WINDOW, WIB, day_label
from pledge.dashboard.service.orgs import campaign_for_org
from pledge.db import utcnow
from pledge.errors import Forbidden, Invalid, NotFound
from pledge.i18n import clock_time, get_locale
from pledge.i18n import gettext as _
from pledge.supporters import service as supporters
from pledge.supporters.models import SUSPECT, Counts, Invalidation
from pledge.supporters.service import Source

# The rows each table of the console shows: the busiest (hour, source) pairs.
BUSIEST = 15
# How a range of the console's hours is written in its links' filters: as a datetime-local
# field of the forms shows it.
_FILTER_TIME = "%Y-%m-%dT%H:%M"


def thresholds() -> dict[Source, int]:
    """The signatures per hour that flag one network, email domain or partner's link."""
    settings = get_settings()
    return {
        Source.NETWORK: settings.abuse_network_per_hour,
        Source.EMAIL_DOMAIN: settings.abuse_email_domain_per_hour,
        Source.PARTNER: settings.abuse_partner_per_hour,
    }


# --- which campaign ----------------------------------------------------------------------------


def campaign_for_admin(session: Session, *, slug: str) -> CampaignView:
    """Any campaign, for the site's administrators."""
    try:
        return campaigns.get_view(session, slug=slug, public=False)
    except NotFound:
        raise NotFound(_("We could not find that campaign.")) from None


def campaign_for_lead(session: Session, *, org: Organization, slug: str) -> CampaignView:
    """A campaign this organisation leads: its co-partners see its statistics, but only its
    lead reviews where its signatures come from."""
    found = campaign_for_org(session, org=org, slug=slug)
    if found.view.campaign.lead_org_id != org.id:
        raise Forbidden(
            _("Only the organisation that leads this campaign can review its signatures.")
        )
    return found.view


# --- the hours -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hour:
    """One WIB hour of the console's window."""

    start: datetime  # WIB

    @property
    def key(self) -> str:
        return self.start.strftime("%Y-%m-%dT%H:00")

    @property
    def label(self) -> str:
        locale = get_locale()
        return f"{day_label(self.start.date(), locale)} {clock_time(self.start, locale)}"

    @property
    def filter(self) -> dict[str, str]:
        """The hour as a filter's time range, in WIB."""
        end = self.start + timedelta(hours=1)
        return {"since": self.start.strftime(_FILTER_TIME), "until": end.strftime(_FILTER_TIME)}


def window(now: datetime | None = None) -> list[Hour]:
    """The last 48 WIB hours, this one included, newest first."""
    this_hour = (now or utcnow()).astimezone(WIB).replace(minute=0, second=0, microsecond=0)
    return [Hour(this_hour - timedelta(hours=i)) for i in range(HOUR_WINDOW)]


def parse_hour(raw: str | None, hours: list[Hour]) -> Hour | None:
    """The hour chosen in the address, one of the window's; None for the whole window."""
    if not raw:
        return None
    found = next((hour for hour in hours if hour.key == raw.strip()), None)
    if found is None:
        raise Invalid({"hour": _("Choose one of the last 48 hours.")})
    return found


# --- the console's first page ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BusyRow:
    """Signatures of one hour from one network, email domain or partner's link."""

    hour: Hour
    key: str  # the network, the domain, or the partner's short name
    label: str
    signatures: int
    counted: int
    pending: int
    suspect: int
    invalidated: int
    flagged: bool
    filter: dict[str, str]  # the console's filter for this hour and source


@dataclass(frozen=True, slots=True)
class Table:
    source: Source
    threshold: int
    rows: list[BusyRow]


@dataclass(frozen=True, slots=True)
class Console:
    view: CampaignView
    counts: Counts
    hours: list[Hour]
    hour: Hour | None
    tables: list[Table]
    runs: list[Invalidation]
    generated_at: datetime  # WIB

    @property
    def suspects(self) -> int:
        return self.counts.by_key.get(SUSPECT, 0)


def console(
    session: Session, *, view: CampaignView, hour: str | None = None, now: datetime | None = None
) -> Console:
    """The console of one campaign: the busiest sources of the window (or of one hour of
    it), the signatures held for review, and its invalidations."""
    now = now or utcnow()
    hours = window(now)
    chosen = parse_hour(hour, hours)
    start = (chosen or hours[-1]).start.astimezone(UTC)
    end = chosen.start.astimezone(UTC) + timedelta(hours=1) if chosen else None
    ignored = get_settings().ignored_domains
    partners = {str(p.id): p for p in view.partners}
    tables = []
    for source, threshold in thresholds().items():
        rows = []
        for busy in supporters.busiest(
            session, campaign_id=view.id, source=source, since=start, until=end, limit=BUSIEST
        ):
            hour_of = Hour(busy.hour.astimezone(WIB))
            key, label = busy.key, busy.key
            if source == Source.PARTNER:
                partner = partners.get(busy.key)
                key = partner.slug if partner else ""
                label = partner.name if partner else _("A removed partner")
            flagged = busy.signatures >= threshold and not (
                source == Source.EMAIL_DOMAIN and busy.key in ignored
            )
            given = {source.value: key, **hour_of.filter} if key else hour_of.filter
            rows.append(
                BusyRow(
                    hour=hour_of,
                    key=key,
                    label=label,
                    signatures=busy.signatures,
                    counted=busy.counted,
                    pending=busy.pending,
                    suspect=busy.suspect,
                    invalidated=busy.invalidated,
                    flagged=flagged,
                    filter=given,
                )
            )
        tables.append(Table(source=source, threshold=threshold, rows=rows))
    return Console(
        view=view,
        counts=supporters.read_counts(session, campaign_id=view.id),
        hours=hours,
        hour=chosen,
        tables=tables,
        runs=supporters.list_runs(session, campaign_id=view.id, limit=20),
        generated_at=now.astimezone(WIB),
    )


# --- every campaign, for the site's administrators --------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignAbuse:
    view: CampaignView
    counts: Counts
    flagged: int  # (hour, source) pairs of the window over their threshold
    moving: int  # invalidations or restores moving

    @property
    def suspects(self) -> int:
        return self.counts.by_key.get(SUSPECT, 0)


def overview(session: Session, *, now: datetime | None = None) -> list[CampaignAbuse]:
    """The live and closed campaigns, those with the most to look at first."""
    views = campaigns.list_views(session)
    ids = [view.id for view in views]
    since = window(now)[-1].start.astimezone(UTC)
    flagged = supporters.count_flagged(
        session,
        campaign_ids=ids,
        since=since,
        thresholds=thresholds(),
        ignored_domains=get_settings().ignored_domains,
    )
    moving = supporters.count_moving(session, campaign_ids=ids)
    counts = supporters.read_counts_of(session, campaign_ids=ids)
    found = [
        CampaignAbuse(view, counts[view.id], flagged.get(view.id, 0), moving.get(view.id, 0))
        for view in views
    ]
    return sorted(found, key=lambda c: (-c.flagged, -c.suspects, -c.moving, c.view.slug))
