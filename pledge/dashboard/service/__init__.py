"""Every query behind the partner dashboard: an organisation's campaigns, statistics, exports.

One module per part: `orgs` (an organisation's campaigns), `breakdowns` (folding small
groups, WIB day and hour windows), `recounting` (the breakdowns read from every supporter
row, kept a while per process), `stats` (the statistics page), `exports` (the CSV and
workbook of opted-in supporters) and `abuse` (the abuse console of a campaign, and of every
campaign for the site's administrators). The breakdowns that describe people (province, age
group) fold every group smaller than MIN_BUCKET into one row, so that nobody can be singled
out, round every count to ROUND_TO and count only who had signed by midnight WIB, so that
reading them before and after someone signs does not single that person out either. Callers
import the package (`from pledge.dashboard import service as dashboard`).
"""

from __future__ import annotations

from pledge.dashboard.service.abuse import (
    BusyRow,
    CampaignAbuse,
    Console,
    Hour,
    Table,
    campaign_for_admin,
    campaign_for_lead,
    console,
    overview,
    thresholds,
)
from pledge.dashboard.service.breakdowns import (
    DAY_WINDOWS,
    DEFAULT_DAYS,
    HOUR_WINDOW,
    MIN_BUCKET,
    NOT_GIVEN,
    OTHER,
    ROUND_TO,
    WIB,
    Breakdown,
    Bucket,
    day_start,
    fold_small,
    over_time,
    parse_days,
    protect,
    rounded,
)
from pledge.dashboard.service.exports import Export, ExportFormat, export_supporters, neutralise
from pledge.dashboard.service.orgs import (
    OrgCampaign,
    OrgHome,
    campaign_for_org,
    home,
    org_home,
)
from pledge.dashboard.service.recounting import (
    Recount,
    Recounts,
    by_age_band,
    by_province,
    hourly_counts,
    recount,
    recounts,
)
from pledge.dashboard.service.stats import Statistics, count_opted_in, statistics

__all__ = [
    "DAY_WINDOWS",
    "DEFAULT_DAYS",
    "HOUR_WINDOW",
    "MIN_BUCKET",
    "NOT_GIVEN",
    "OTHER",
    "ROUND_TO",
    "WIB",
    "Breakdown",
    "Bucket",
    "BusyRow",
    "CampaignAbuse",
    "Console",
    "Export",
    "ExportFormat",
    "Hour",
    "OrgCampaign",
    "OrgHome",
    "Recount",
    "Recounts",
    "Statistics",
    "Table",
    "by_age_band",
    "by_province",
    "campaign_for_admin",
    "campaign_for_lead",
    "campaign_for_org",
    "console",
    "count_opted_in",
    "day_start",
    "export_supporters",
    "fold_small",
    "home",
    "hourly_counts",
    "neutralise",
    "org_home",
    "over_time",
    "overview",
    "parse_days",
    "protect",
    "recount",
    "recounts",
    "rounded",
    "statistics",
    "thresholds",
]
