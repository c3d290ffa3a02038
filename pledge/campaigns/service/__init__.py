"""Every query and rule about campaigns, their pledges and their partner organisations.

One module per seam: ``forms`` reads and checks the campaign editor's forms, ``views`` reads campaigns for the public pages (and keeps them for a
moment), ``status`` moves them between draft, live and closed, ``manage`` creates and edits
them from the dashboard, ``pledges`` and ``partners`` run what a campaign holds, ``times``
reads and writes its dates in Jakarta time, ``usage`` is where the supporters domain says
who signed a pledge or came through a partner, and ``lookups`` is how the other domains read
campaigns, partners and pledges. Callers import this package
(``from pledge.campaigns import service as campaigns``) and use the names below.
"""

from pledge.campaigns.service.forms import (
    BODY_FIELD_MAX,
    BODY_MAX,
    GOAL_MAX,
    GOAL_MIN,
    ORG_NAME_MAX,
    PLEDGE_TEXT_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    CampaignForm,
    CleanCampaign,
    PartnerForm,
    PartnerFormKind,
    PledgeForm,
)
from pledge.campaigns.service.lookups import (
    CampaignTitle,
    count_campaigns,
    get_or_none,
    get_partner_names,
    has_partner,
    list_closed_before,
    list_joined,
    list_led,
    list_partnered,
    list_titles,
    select_campaign_ids,
    select_partnered_campaign_ids,
    select_with_campaign,
    select_with_pledge_text,
)
from pledge.campaigns.service.manage import (
    create,
    create_draft,
    form_of,
    get_managed,
    manage_page,
    update,
)
from pledge.campaigns.service.partners import (
    REFERRAL_ALPHABET,
    add_co_partner,
    add_partner,
    new_referral_code,
    remove_partner,
)
from pledge.campaigns.service.pledges import (
    PLEDGES_MAX,
    add_pledge,
    create_pledge,
    delete_pledge,
    move_pledge,
    update_pledge,
)
from pledge.campaigns.service.status import TRANSITIONS, change_status, is_signable, set_status
from pledge.campaigns.service.times import (
    WIB,
    local_display,
    local_input_value,
    parse_local_datetime,
)
from pledge.campaigns.service.usage import Usage, register_usage
from pledge.campaigns.service.views import (
    cached_public_view,
    forget_views,
    get_by_slug,
    get_public_view,
    get_view,
    list_slugs,
    list_views,
    note_public_change,
    render_markdown,
)

__all__ = [
    "BODY_FIELD_MAX",
    "BODY_MAX",
    "GOAL_MAX",
    "GOAL_MIN",
    "ORG_NAME_MAX",
    "PLEDGES_MAX",
    "PLEDGE_TEXT_MAX",
    "REFERRAL_ALPHABET",
    "SUMMARY_MAX",
    "TITLE_MAX",
    "TRANSITIONS",
    "WIB",
    "CampaignForm",
    "CampaignTitle",
    "CleanCampaign",
    "PartnerForm",
    "PartnerFormKind",
    "PledgeForm",
    "Usage",
    "add_co_partner",
    "add_partner",
    "add_pledge",
    "cached_public_view",
    "change_status",
    "count_campaigns",
    "create",
    "create_draft",
    "create_pledge",
    "delete_pledge",
    "forget_views",
    "form_of",
    "get_by_slug",
    "get_managed",
    "get_or_none",
    "get_partner_names",
    "get_public_view",
    "get_view",
    "has_partner",
    "is_signable",
    "list_closed_before",
    "list_joined",
    "list_led",
    "list_partnered",
    "list_slugs",
    "list_titles",
    "list_views",
    "local_display",
    "local_input_value",
    "manage_page",
    "move_pledge",
    "new_referral_code",
    "note_public_change",
    "parse_local_datetime",
    "register_usage",
    "remove_partner",
    "render_markdown",
    "select_campaign_ids",
    "select_partnered_campaign_ids",
    "select_with_campaign",
    "select_with_pledge_text",
    "set_status",
    "update",
    "update_pledge",
]
