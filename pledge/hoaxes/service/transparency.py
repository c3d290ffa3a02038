"""The transparency page's numbers: per public campaign and month, the reports received, the
cases opened, the verdicts by label, how long a verdict took, and how often platforms and
authorities acted on what moderators reported to them.

Read from the monthly counts (``hoax_month``) alone, kept in the transaction of each change:
the medians come from the counts of verdicts by whole hours to verdict and of actions by whole
days, so the page costs the same with ten reports or a million. Computed at most once per
``CACHE_SECONDS`` per process."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup
from sqlmodel import Session

from pledge.cache import Cache
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import PUBLIC_STATUSES
from pledge.dashboard.charts import Bar, bar_chart
from pledge.db import utcnow
from pledge.errors import NotFound
from pledge.hoaxes.models import Verdict
from pledge.hoaxes.service import months
from pledge.i18n import gettext as _

CACHE_SECONDS = 300


def verdict_column(label: Verdict) -> str:
    """The CSV and JSON name of a label's count: ``verdict_buatan_ai``."""
    return "verdict_" + label.value.lower().replace(" ", "_")


# The downloads' columns, in order (docs/transparency.md says what each means).
COLUMNS: tuple[str, ...] = (
    "campaign",
    "campaign_title",
    "month",
    "reports",
    "cases",
    "verdicts",
    *(verdict_column(label) for label in Verdict),
    "median_hours_to_verdict",
    "escalations",
    "escalations_answered",
    "escalations_acted_on",
    "acted_on_share",
    "median_days_to_action",
)


def _median(counts: Counter[int]) -> float | None:
    """The median of whole numbers given as how many times each occurs (a month's hours to
    verdict, or days to action): the middle one, or the mean of the two in the middle."""
    items = sorted((value, n) for value, n in counts.items() if n > 0)
    total = sum(n for _value, n in items)
    if not total:
        return None

    def nth(k: int) -> int:  # the k-th value in order, from 0
        seen = 0
        for value, n in items:
            seen += n
            if k < seen:
                return value
        raise AssertionError("unreachable")

    if total % 2:
        return float(nth(total // 2))
    return round((nth(total // 2 - 1) + nth(total // 2)) / 2, 1)


@dataclass(slots=True)
class Figures:
    """The numbers of one month, for one campaign or for all of them together."""

    month: date
    reports: int = 0
    cases: int = 0
    verdicts: dict[Verdict, int] = field(default_factory=dict)
    verdict_hours: Counter[int] = field(default_factory=Counter)  # first report to verdict
    escalations: int = 0
    answered: int = 0  # escalations with an outcome
    acted: int = 0  # ... of which removed, labelled or restricted
    action_days: Counter[int] = field(default_factory=Counter)  # report to action, acted ones

    @property
    def verdicts_total(self) -> int:
        return sum(self.verdicts.values())

    @property
    def median_hours_to_verdict(self) -> float | None:
        return _median(self.verdict_hours)

    @property
    def acted_on_share(self) -> float | None:
        """Acted on among the escalations with an outcome, 0 to 1; None without any."""
        return round(self.acted / self.answered, 3) if self.answered else None

    @property
    def median_days_to_action(self) -> float | None:
        return _median(self.action_days)

    def add(self, other: Figures) -> None:
        """Add another campaign's figures of the same month."""
        self.reports += other.reports
        self.cases += other.cases
        for label, n in other.verdicts.items():
            self.verdicts[label] = self.verdicts.get(label, 0) + n
        self.verdict_hours.update(other.verdict_hours)
        self.escalations += other.escalations
        self.answered += other.answered
        self.acted += other.acted
        self.action_days.update(other.action_days)

    def row(self) -> dict[str, Any]:
        """The numbers as the downloads give them (without the campaign)."""
        return {
            "month": self.month.strftime("%Y-%m"),
            "reports": self.reports,
            "cases": self.cases,
            "verdicts": self.verdicts_total,
            **{verdict_column(label): self.verdicts.get(label, 0) for label in Verdict},
            "median_hours_to_verdict": self.median_hours_to_verdict,
            "escalations": self.escalations,
            "escalations_answered": self.answered,
            "escalations_acted_on": self.acted,
            "acted_on_share": self.acted_on_share,
            "median_days_to_action": self.median_days_to_action,
        }


@dataclass(frozen=True, slots=True)
class PublicCampaign:
    id: int
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class GameVerdict:
    """A verdict whose picture fooled players of the real-or-fake game."""

    case_id: int
    title: str
    label: str
    shown: int  # answers to its picture
    fooled: int  # ... that took it for a real one


@dataclass(frozen=True, slots=True)
class GameFigures:
    """A campaign's games (or several campaigns' together) and the verdicts that fooled most."""

    started: int = 0
    finished: int = 0
    verdicts: tuple[GameVerdict, ...] = ()  # most fooling first, at most GAME_VERDICTS


GAME_VERDICTS = 3
# The game's figures of each public campaign: told by the game's domain, which builds on this
# one and registers, when it is imported, how to read them (this module never imports it).
GameSource = Callable[[Session, list[int]], dict[int, GameFigures]]
_game_sources: list[GameSource] = []


def register_game(source: GameSource) -> None:
    """Read the game's figures with source from now on (the game's service, on import)."""
    _game_sources[:] = [source]


@dataclass(frozen=True, slots=True)
class Data:
    """Every public campaign's figures by month, as computed at one time."""

    campaigns: list[PublicCampaign]  # by title
    figures: dict[tuple[int, date], Figures]
    computed_at: datetime
    game: dict[int, GameFigures] | None = None  # None: no game registered


# One entry: the whole site's figures (a few campaigns × months), recomputed when older than
# CACHE_SECONDS. The page and its downloads are cut from it.
_cache: Cache[str, Data] = Cache("hoaxes.transparency", size=1)


def get_data(session: Session, *, now: datetime | None = None) -> Data:
    """The figures, from this process's cache when younger than CACHE_SECONDS."""
    found = _cache.get("all", CACHE_SECONDS)
    if found is None:
        found = _cache.put("all", compute(session, now=now))
    return found


def compute(session: Session, *, now: datetime | None = None) -> Data:
    """Every public campaign's figures by month, read from the aggregates."""
    public = _public_campaigns(session)
    ids = [c.id for c in public]
    figures: dict[tuple[int, date], Figures] = {}

    def at(campaign_id: int, month: date) -> Figures:
        return figures.setdefault((campaign_id, month), Figures(month=month))

    _add_counts(session, ids, at)
    game = _game_sources[0](session, ids) if _game_sources else None
    return Data(campaigns=public, figures=figures, computed_at=now or utcnow(), game=game)


def _public_campaigns(session: Session) -> list[PublicCampaign]:
    ids = set(session.execute(campaigns.select_campaign_ids(statuses=PUBLIC_STATUSES)).scalars())
    titles = campaigns.list_titles(session)
    found = [PublicCampaign(i, titles[i].slug, titles[i].title) for i in ids if i in titles]
    return sorted(found, key=lambda c: (c.title.lower(), c.id))


def _add_counts(session: Session, ids: list[int], at: Any) -> None:
    """Every figure, from the monthly counts: reports, cases, verdicts by label and by hours
    to verdict, reports to platforms with their outcomes and days to action."""
    labels = {months.verdict_metric(label): label for label in Verdict}
    plain = {
        months.REPORTS: "reports",
        months.CASES: "cases",
        months.ESCALATIONS: "escalations",
        months.ANSWERED: "answered",
        months.ACTED: "acted",
    }
    for campaign_id, month, metric, n in months.list_counts(session, campaign_ids=ids):
        figures = at(campaign_id, month)
        if metric in plain:
            setattr(figures, plain[metric], getattr(figures, plain[metric]) + n)
        elif metric in labels:
            label = labels[metric]
            figures.verdicts[label] = figures.verdicts.get(label, 0) + n
        elif metric.startswith(months.VERDICT_HOURS_PREFIX):
            figures.verdict_hours[_number(metric)] += n
        elif metric.startswith(months.ACTION_DAYS_PREFIX):
            figures.action_days[_number(metric)] += n


def _number(metric: str) -> int:
    return int(metric.rpartition(":")[2])


# --- what the page and the downloads show ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One campaign's month, as the downloads list it."""

    campaign: PublicCampaign
    figures: Figures

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign.slug,
            "campaign_title": self.campaign.title,
            **self.figures.row(),
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The page's selection: one campaign or all of them, month by month (oldest first)."""

    campaigns: list[PublicCampaign]
    chosen: PublicCampaign | None
    months: list[Figures]  # summed over the chosen campaigns
    rows: list[Row]  # campaign × month
    computed_at: datetime
    game: GameFigures | None = None  # the chosen campaigns' games; None: no game registered

    @property
    def totals(self) -> Figures:
        total = Figures(month=date.min)
        for figures in self.months:
            total.add(figures)
        return total


def report(session: Session, *, campaign: str = "") -> Report:
    """The figures of one public campaign (by its slug) or of all of them; NotFound for a
    slug no public campaign has."""
    data = get_data(session)
    chosen = None
    if campaign:
        chosen = next((c for c in data.campaigns if c.slug == campaign), None)
        if chosen is None:
            raise NotFound(_("No public campaign has this address."))
    shown = [chosen] if chosen else data.campaigns
    by_id = {c.id: c for c in shown}
    rows = [
        Row(campaign=by_id[campaign_id], figures=figures)
        for (campaign_id, _month), figures in data.figures.items()
        if campaign_id in by_id
    ]
    rows.sort(key=lambda r: (r.campaign.title.lower(), r.campaign.id, r.figures.month))
    return Report(
        campaigns=data.campaigns,
        chosen=chosen,
        months=_by_month(r.figures for r in rows),
        rows=rows,
        computed_at=data.computed_at,
        game=_game_of(data, list(by_id)),
    )


def _game_of(data: Data, campaign_ids: list[int]) -> GameFigures | None:
    """The games of these campaigns together, and the verdicts that fooled most among them."""
    if data.game is None:
        return None
    found = [data.game[i] for i in campaign_ids if i in data.game]
    verdicts = sorted(
        (verdict for figures in found for verdict in figures.verdicts),
        key=lambda v: (-v.fooled, v.shown, v.case_id),
    )
    return GameFigures(
        started=sum(f.started for f in found),
        finished=sum(f.finished for f in found),
        verdicts=tuple(verdicts[:GAME_VERDICTS]),
    )


def _by_month(figures: Iterable[Figures]) -> list[Figures]:
    summed: dict[date, Figures] = defaultdict(lambda: Figures(month=date.min))
    for one in figures:
        total = summed[one.month]
        total.month = one.month
        total.add(one)
    return [summed[month] for month in sorted(summed)]


def as_csv(found: Report) -> str:
    """The rows as CSV, one per campaign and month, with a header of COLUMNS."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in found.rows:
        values = row.as_dict()
        writer.writerow({k: "" if values[k] is None else values[k] for k in COLUMNS})
    return out.getvalue()


def as_json(found: Report) -> dict[str, Any]:
    """The rows as the JSON download gives them."""
    return {
        "computed_at": found.computed_at.astimezone(UTC).isoformat(),
        "campaign": found.chosen.slug if found.chosen else None,
        "columns": list(COLUMNS),
        "rows": [row.as_dict() for row in found.rows],
    }


# --- the charts -------------------------------------------------------------------------


def charts(found: Report) -> dict[str, Markup]:
    """The page's charts, drawn on the server; each has a table of the same numbers."""
    shown = found.months

    def bars(value: Any) -> list[Bar]:
        return [
            Bar(label=f.month.strftime("%Y-%m"), count=value(f), short=f.month.strftime("%m/%y"))
            for f in shown
        ]

    def chart(chart_id: str, title: str, y_label: str, value: Any) -> Markup:
        drawn = bars(value)
        desc = "; ".join(f"{bar.label}: {bar.count}" for bar in drawn) or _("No data yet.")
        return bar_chart(
            drawn,
            chart_id=chart_id,
            title=title,
            desc=desc,
            x_label=_("Month (WIB)"),
            y_label=y_label,
        )

    return {
        "reports": chart(
            "chart-reports", _("Reports received per month"), _("Reports"), lambda f: f.reports
        ),
        "verdicts": chart(
            "chart-verdicts",
            _("Verdicts published per month"),
            _("Verdicts"),
            lambda f: f.verdicts_total,
        ),
        "acted": chart(
            "chart-acted",
            _("Reports to platforms and authorities acted on, per month (%)"),
            _("Acted on (%)"),
            lambda f: round((f.acted_on_share or 0) * 100),
        ),
    }
