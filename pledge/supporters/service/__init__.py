"""Every query and rule about supporters: signing, counting, the public lists, withdrawal.

One module per seam: ``form`` reads and checks the sign form, ``signing`` writes signatures in group
commits, ``tallies`` keeps the counters and the counts read from them, ``pages`` gathers what
the public pages show of supporters, ``withdrawal`` finds a supporter by their secret link
and removes them, ``usage`` tells the campaigns domain who signed its pledges and came
through its partners, ``statistics`` counts supporters for the partners' dashboard and reads
their export, and ``privacy`` finds a contact's supporters and anonymises old ones. Callers
import this package (``from pledge.supporters import service as supporters``) and use the
names below.
"""

from pledge.supporters.service import usage as _usage  # noqa: F401 - registers with campaigns
from pledge.supporters.service.confirming import (
    WRONG_CODES_MAX,
    Confirmed,
    Waiting,
    WhatsAppAnswer,
    by_link,
    confirm,
    confirm_code,
    confirm_link,
    receive_whatsapp,
    waiting,
)
from pledge.supporters.service.form import (
    INVITE_CODE,
    NAME_MAX,
    CleanSignature,
    SignForm,
    clean_name,
    first_name,
)
from pledge.supporters.service.messages import (
    SignerLinks,
    WhatsAppLink,
    reminder_email,
    signer_links,
    signing_email,
    whatsapp_code_text,
    whatsapp_expired,
    whatsapp_reply,
    whatsapp_unknown,
)
from pledge.supporters.service.pages import (
    CampaignPage,
    PublicSupporter,
    ThankYou,
    cached_campaign_page,
    campaign_page,
    count_friends,
    leaderboard,
    list_recent_public,
    list_with_counts,
    thank_you,
)
from pledge.supporters.service.pending import PendingReport, delete_expired, remind
from pledge.supporters.service.privacy import (
    anonymise,
    count_invited,
    list_by_digest,
    list_signed_pledge_texts,
)
from pledge.supporters.service.signing import (
    CAUGHT,
    MESSAGES_PER_DAY,
    PendingSigning,
    Written,
    commit_signings,
    prepare,
    sign,
    sign_soon,
    signing_of,
    signing_queue,
)
from pledge.supporters.service.statistics import (
    OptedIn,
    count_by_age_band,
    count_by_hour,
    count_by_province,
    count_opted_in,
    get_opted_in,
    list_opted_in,
    list_signed_pledge_ids,
)
from pledge.supporters.service.tallies import (
    TallyFix,
    cached_counts,
    get_counts,
    invalidate_counts,
    read_counts,
    read_counts_of,
    reconcile,
    remember_counts,
    true_counts,
)
from pledge.supporters.service.withdrawal import get_by_token, remove, signed_pledge_ids, withdraw

__all__ = [
    "CAUGHT",
    "INVITE_CODE",
    "MESSAGES_PER_DAY",
    "NAME_MAX",
    "WRONG_CODES_MAX",
    "CampaignPage",
    "CleanSignature",
    "Confirmed",
    "OptedIn",
    "PendingReport",
    "PendingSigning",
    "PublicSupporter",
    "SignForm",
    "SignerLinks",
    "TallyFix",
    "ThankYou",
    "Waiting",
    "WhatsAppAnswer",
    "WhatsAppLink",
    "Written",
    "anonymise",
    "by_link",
    "cached_campaign_page",
    "cached_counts",
    "campaign_page",
    "clean_name",
    "commit_signings",
    "confirm",
    "confirm_code",
    "confirm_link",
    "count_by_age_band",
    "count_by_hour",
    "count_by_province",
    "count_friends",
    "count_invited",
    "count_opted_in",
    "delete_expired",
    "first_name",
    "get_by_token",
    "get_counts",
    "get_opted_in",
    "invalidate_counts",
    "leaderboard",
    "list_by_digest",
    "list_opted_in",
    "list_recent_public",
    "list_signed_pledge_ids",
    "list_signed_pledge_texts",
    "list_with_counts",
    "prepare",
    "read_counts",
    "read_counts_of",
    "receive_whatsapp",
    "reconcile",
    "remember_counts",
    "remind",
    "reminder_email",
    "remove",
    "sign",
    "sign_soon",
    "signed_pledge_ids",
    "signer_links",
    "signing_email",
    "signing_of",
    "signing_queue",
    "thank_you",
    "true_counts",
    "waiting",
    "whatsapp_code_text",
    "whatsapp_expired",
    "whatsapp_reply",
    "whatsapp_unknown",
    "withdraw",
]
