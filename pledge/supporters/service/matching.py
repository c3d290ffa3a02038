"""Which of a campaign's supporters a filter matches: by network, email domain, partner's link,
time range, name pattern or picked one by one. An administrator writes the filter on the abuse
console's forms or on the command line (`FilterForm`); the console lists, previews, reviews
and invalidates what it matches.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge import forms, networks
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView, PartnerView
from pledge.db import ID_MAX
from pledge.forms import Checks, FieldError, refuse
from pledge.i18n import gettext as _
from pledge.supporters.models import SupporterState, supporter_table
from pledge.supporters.service.origins import DOMAIN_MAX, fold_domain

NAME_PATTERN_MAX = 80
REASON_MAX = 500
# Supporters picked one by one on a page of the console, at most.
PICKED_MAX = 200
# A network wider than this many recorded networks is matched against the ones the campaign
# has (read from its index) instead of being written out.
NETWORKS_WRITTEN_OUT = 256
# The states an invalidation takes supporters from.
ACTIVE = (SupporterState.PENDING, SupporterState.COUNTED, SupporterState.SUSPECT)

_DOMAIN = re.compile(
    r"\A(?=.{1,253}\Z)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\Z"
)
# What a datetime-local field holds: 2026-03-10T14:00.
_LOCAL_INPUT = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\Z")
# Wildcards in a name pattern: any run of characters.
_WILDCARDS = ("*", "%")


@dataclass(frozen=True, slots=True)
class Filter:
    """What a filter matches, checked: every part given narrows it."""

    network: networks.Network | None = None
    email_domain: str | None = None
    partner: PartnerView | None = None
    since: datetime | None = None  # UTC, included
    until: datetime | None = None  # UTC, excluded
    name_pattern: str | None = None  # lower-case, "*" for any run of characters
    supporter_ids: tuple[int, ...] = ()
    suspects_only: bool = False
    states: tuple[SupporterState, ...] = field(default=ACTIVE)

    @property
    def narrows(self) -> bool:
        """Whether anything but the campaign is given: a filter that matches every signature
        of a campaign is refused."""
        return any(
            (
                self.network,
                self.email_domain,
                self.partner,
                self.since,
                self.until,
                self.name_pattern,
                self.supporter_ids,
            )
        )


# --- the form ------------------------------------------------------------------------------


def _bad_network() -> str:
    return _("Write a network like 203.0.113.0/24 or 2001:db8::/48, or one address.")


def check_network(raw: str) -> networks.Network | None:
    """A network in CIDR notation, IPv4 or IPv6, or one address (its recorded network)."""
    value = raw.strip()
    if not value:
        return None
    try:
        return networks.parse_network(value)
    except networks.NarrowerThanRecorded as narrow:
        raise FieldError(
            _(
                "Signatures are recorded by their /24 (IPv4) or /64 (IPv6) network: give a "
                "prefix of /%(prefix)s or shorter."
            )
            % {"prefix": narrow.prefix}
        ) from None
    except ValueError:
        raise refuse(_bad_network) from None


def check_domain(raw: str) -> str | None:
    """An email domain, folded as supporters' domains are stored."""
    value = raw.strip()
    if not value:
        return None
    message = _("Write an email domain like contoh.id, without the part before the @.")
    if "@" in value or len(value) > DOMAIN_MAX:
        raise FieldError(message)
    folded = fold_domain(value)
    if not _DOMAIN.match(folded):
        raise FieldError(message)
    return folded


def check_time(raw: str) -> datetime | None:
    """A moment in ISO 8601 (with its offset, or in WIB without one), or "YYYY-MM-DD HH:MM"
    in WIB; a date alone is its first minute. UTC."""
    value = raw.strip()
    if not value:
        return None
    try:
        return campaigns.parse_local_datetime(value)
    except ValueError:
        raise FieldError(
            _("Write a time like 2026-03-10 14:00 (WIB) or 2026-03-10T07:00:00Z.")
        ) from None


def check_name_pattern(raw: str) -> str | None:
    """A name, or a pattern with * for any run of characters; compared without case."""
    value = " ".join(raw.split()).lower()
    if not value:
        return None
    if len(value) > NAME_PATTERN_MAX:
        raise FieldError(_("Use at most 80 characters for the name pattern."))
    if not any(c.isalnum() for c in value):
        raise FieldError(_("A name pattern needs at least one letter or digit besides *."))
    return value.replace("%", "*")


def check_reason(raw: str) -> str:
    return forms.text(
        raw,
        max_length=REASON_MAX,
        required=_("Write the reason for this action: it is kept in the audit log."),
        too_long=_("Use at most 500 characters for the reason."),
        collapse=True,
    )


def check_public_reason(raw: str) -> str:
    return forms.text(
        raw,
        max_length=REASON_MAX,
        required=_("Write the reason: it is shown on the campaign page with the number taken off."),
        too_long=_("Use at most 500 characters for the reason."),
        collapse=True,
    )


def check_picked(raw: Collection[str]) -> tuple[int, ...]:
    """Supporter ids ticked on a page."""
    picked: set[int] = set()
    for value in raw:
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= ID_MAX:
            raise FieldError(_("Tick the signatures again: the list changed."))
        picked.add(int(text))
    if len(picked) > PICKED_MAX:
        raise FieldError(_("Tick at most 200 signatures at a time."))
    return tuple(sorted(picked))


@dataclass(frozen=True, slots=True)
class FilterForm:
    """A filter as typed on a console form or given on the command line: every field a
    string, so that a refused one can be shown back."""

    network: str = ""
    email_domain: str = ""
    partner: str = ""  # a partner organisation's short name
    since: str = ""
    until: str = ""
    name: str = ""

    FIELDS = ("network", "email_domain", "partner", "since", "until", "name")

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> FilterForm:
        """From a posted form or an address's query."""
        values = {}
        for name in cls.FIELDS:
            value = data.get(name)
            values[name] = (
                value[: forms.FIELD_MAX].replace("\x00", " ") if isinstance(value, str) else ""
            )
        return cls(**values)

    def time_input(self, name: str) -> str:
        """The kind of field a time is shown back in: a date-and-time picker, or a text field
        when what was typed is not a time it can show (so that it is not lost)."""
        value = getattr(self, name).strip()
        return "datetime-local" if not value or _LOCAL_INPUT.match(value) else "text"

    @property
    def given(self) -> dict[str, str]:
        """The fields typed, for links that carry the filter on."""
        return {name: getattr(self, name) for name in self.FIELDS if getattr(self, name).strip()}

    def check(self, view: CampaignView, checks: Checks | None = None) -> Filter:
        """The filter checked against the campaign; Invalid with a message per bad field
        (collected in `checks` when given, for the caller to add its own)."""
        own = checks is None
        checks = checks or Checks()
        partner = None
        if self.partner.strip():
            partner = view.partner_by_slug(self.partner.strip().lower())
            if partner is None:
                checks.refuse("partner", _("This campaign has no partner with that short name."))
        since = checks.run("since", check_time, self.since)
        until = checks.run("until", check_time, self.until)
        if since is not None and until is not None and since >= until:
            checks.refuse("until", _("The end of the time range must come after its start."))
        found = Filter(
            network=checks.run("network", check_network, self.network),
            email_domain=checks.run("email_domain", check_domain, self.email_domain),
            partner=partner,
            since=since,
            until=until,
            name_pattern=checks.run("name", check_name_pattern, self.name),
        )
        if own:
            checks.done()
        return found


def check_narrows(found: Filter, checks: Checks) -> None:
    """Refuse a filter that would match every signature of the campaign."""
    if checks.errors == {} and not found.narrows:
        checks.refuse(
            "filter",
            _(
                "Choose at least one filter (network, email domain, partner, time or name): "
                "without one, every signature of the campaign would be invalidated."
            ),
        )


# --- the statement -------------------------------------------------------------------------


def _like(pattern: str) -> str:
    """A name pattern as SQL LIKE reads it, its own % and _ taken literally."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _networks_in(session: Session, campaign_id: int, network: networks.Network) -> list[str]:
    """The recorded networks within a network: written out when few, else the campaign's
    own, read from its (campaign, network) index."""
    recorded = (
        networks.IPV4_RECORDED_PREFIX if network.version == 4 else networks.IPV6_RECORDED_PREFIX
    )
    if 2 ** (recorded - network.prefixlen) <= NETWORKS_WRITTEN_OUT:
        return [str(net) for net in network.subnets(new_prefix=recorded)]
    stored = session.execute(
        sa.select(supporter_table.c.network)
        .where(supporter_table.c.campaign_id == campaign_id, supporter_table.c.network.is_not(None))
        .distinct()
    ).scalars()
    return sorted(value for value in stored if networks.contains(network, value))


def conditions(session: Session, *, campaign_id: int, found: Filter) -> list[Any]:
    """The WHERE of a filter on the supporter table: the campaign, the states, and each
    part given."""
    table = supporter_table.c
    states = (SupporterState.SUSPECT,) if found.suspects_only else found.states
    where: list[Any] = [table.campaign_id == campaign_id, table.state.in_(states)]
    if found.network is not None:
        where.append(table.network.in_(_networks_in(session, campaign_id, found.network)))
    if found.email_domain is not None:
        where.append(table.email_domain == found.email_domain)
    if found.partner is not None:
        where.append(table.referrer_id == found.partner.id)
    if found.since is not None:
        where.append(table.created_at >= found.since)
    if found.until is not None:
        where.append(table.created_at < found.until)
    if found.name_pattern is not None:
        where.append(sa.func.lower(table.display_name).like(_like(found.name_pattern), escape="\\"))
    if found.supporter_ids:
        where.append(table.id.in_(found.supporter_ids))
    return where


@dataclass(frozen=True, slots=True)
class Preview:
    """How many supporters a filter matches now, by state."""

    counted: int = 0
    pending: int = 0
    suspect: int = 0

    @property
    def matched(self) -> int:
        return self.counted + self.pending + self.suspect


def preview(session: Session, *, campaign_id: int, found: Filter) -> Preview:
    """What a filter matches now: by state, in one grouped count."""
    rows = session.execute(
        sa.select(supporter_table.c.state, sa.func.count())
        .where(*conditions(session, campaign_id=campaign_id, found=found))
        .group_by(supporter_table.c.state)
    ).all()
    by_state = {SupporterState(state): int(n) for state, n in rows}
    return Preview(
        counted=by_state.get(SupporterState.COUNTED, 0),
        pending=by_state.get(SupporterState.PENDING, 0),
        suspect=by_state.get(SupporterState.SUSPECT, 0),
    )


def describe(found: Filter) -> dict[str, Any]:
    """A filter as the audit log and the invalidation's record keep it."""
    described: dict[str, Any] = {}
    if found.network is not None:
        described["network"] = str(found.network)
    if found.email_domain:
        described["email_domain"] = found.email_domain
    if found.partner is not None:
        described["partner"] = found.partner.slug
    if found.since is not None:
        described["since"] = found.since.isoformat()
    if found.until is not None:
        described["until"] = found.until.isoformat()
    if found.name_pattern:
        described["name"] = found.name_pattern
    if found.supporter_ids:
        described["supporters"] = list(found.supporter_ids)
    if found.suspects_only:
        described["suspects_only"] = True
    return described


def network_of(text: str | None) -> networks.Network | None:
    """A network as an invalidation stored it."""
    return ipaddress.ip_network(text) if text else None
