"""Every query and rule about hoax reports, one module per part:
- ``urls``: the canonical spelling of a shared link, and the check of a reported one;
- ``shortlinks``: short links recognised, and followed to where they lead;
- ``duplicates``: stored pictures found again by their hash, the case holding the same thing;
- ``forms``: the report form, read from the post and checked;
- ``matching``: the case a new report joins, by link, picture or text, and what comes close;
- ``suggestions``: the pairs of cases kept for moderators to join or set apart;
- ``rekeying``: short links followed after the report is stored;
- ``reports``: taking a report, and the status page its sender follows;
- ``media_access``: who may see an uploaded image;
- ``published`` and ``open_data``: the public gallery, ClaimReview, and the JSON API;
- ``corrections``: corrections of published verdicts, waiting or approved;
- ``privacy``: the reports a contact sent, and reporters' contacts removed.

Callers import the package (``from pledge.hoaxes import service as hoaxes``); the life of a
case is in ``pledge.hoaxes.states``, its moderation in ``pledge.moderation``.
"""

from pledge.hoaxes.service.corrections import (
    CORRECTIONS_SHOWN,
    add_correction,
    discard_correction,
    get_correction,
    get_waiting_correction,
    list_corrections,
    mark_correction_approved,
)
from pledge.hoaxes.service.duplicates import similar_media, surviving_case
from pledge.hoaxes.service.forms import DESCRIPTION_MAX, CleanReport, ReportForm
from pledge.hoaxes.service.forms import clean_text as _clean_text
from pledge.hoaxes.service.media_access import VisibleMedia, get_media, moderator_org_ids
from pledge.hoaxes.service.open_data import (
    API_LIMIT_DEFAULT,
    API_LIMIT_MAX,
    HoaxItem,
    HoaxPage,
    list_open_data,
)
from pledge.hoaxes.service.privacy import (
    clear_contacts,
    forget_closed_contacts,
    list_reports_by_contact,
)
from pledge.hoaxes.service.published import (
    GALLERY_PAGE_SIZE,
    RATING_VALUES,
    GalleryPage,
    PublishedHoax,
    claim_review,
    first_reported,
    get_published,
    labelled_image,
    list_appearances,
    list_published,
    public_appearance_url,
)
from pledge.hoaxes.service.rekeying import follow_short_link, needs_following
from pledge.hoaxes.service.reports import (
    CODE_ALPHABET,
    CODE_LENGTH,
    ReportStatus,
    get_status,
    is_accepting_reports,
    new_tracking_code,
    open_case,
    report_limit,
    submit,
)
from pledge.hoaxes.service.shortlinks import (
    SHORT_LINK_HOSTS,
    is_short_link,
    never_fetch,
    resolve,
)
from pledge.hoaxes.service.urls import URL_MAX, canonical_url, clean_url, public_url

__all__ = [
    "API_LIMIT_DEFAULT",
    "API_LIMIT_MAX",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CORRECTIONS_SHOWN",
    "DESCRIPTION_MAX",
    "GALLERY_PAGE_SIZE",
    "RATING_VALUES",
    "SHORT_LINK_HOSTS",
    "URL_MAX",
    "CleanReport",
    "GalleryPage",
    "HoaxItem",
    "HoaxPage",
    "PublishedHoax",
    "ReportForm",
    "ReportStatus",
    "VisibleMedia",
    "_clean_text",
    "add_correction",
    "canonical_url",
    "claim_review",
    "clean_url",
    "clear_contacts",
    "discard_correction",
    "first_reported",
    "follow_short_link",
    "forget_closed_contacts",
    "get_correction",
    "get_media",
    "get_published",
    "get_status",
    "get_waiting_correction",
    "is_accepting_reports",
    "is_short_link",
    "labelled_image",
    "list_appearances",
    "list_corrections",
    "list_open_data",
    "list_published",
    "list_reports_by_contact",
    "mark_correction_approved",
    "moderator_org_ids",
    "needs_following",
    "never_fetch",
    "new_tracking_code",
    "open_case",
    "public_appearance_url",
    "public_url",
    "report_limit",
    "resolve",
    "similar_media",
    "submit",
    "surviving_case",
]
