"""Every query and rule about hoax reports, one module per part:
- ``urls``: the canonical spelling of a shared link, and the check of a reported one;
- ``shortlinks``: short links recognised, and followed to where they lead;
- ``duplicates``: stored pictures found again by their hash, the case holding the same thing;
- ``forms``: the report form, read from the post and checked;
- ``matching``: the case a new report joins, by link, picture or text, and what comes close;
- ``suggestions``: the pairs of cases kept for moderators to join or set apart;
- ``rekeying``: short links followed after the report is stored;
- ``reports``: taking a report, and the status page its sender follows;
- ``answers``: reporters' answers to a moderator's question, checked and stored;
- ``credentials``: what the files of a case said of where they came from, and the note on
  Content Credentials a verdict may publish;
- ``media_access``: who may see an uploaded image;
- ``published``, ``gallery`` and ``open_data``: one verdict with its ClaimReview, the public
  gallery and its filters, and the JSON API;
- ``verdict_images``: a verdict's stamped picture, share card and story image, its share text;
- ``corrections``: corrections of published verdicts, waiting or approved;
- ``originals``: the original beside the fake on a published verdict;
- ``privacy``: the reports a contact sent, and reporters' contacts removed;
- ``notify``: reporters told the verdict (or its correction) by email or WhatsApp.

Callers import the package (``from pledge.hoaxes import service as hoaxes``); the life of a
case is in ``pledge.hoaxes.states``, its moderation in ``pledge.moderation``.
"""

from pledge.hoaxes.service.answers import (
    ANSWER_TEXT_MAX,
    ANSWERS_PER_REPORT,
    AnswerForm,
    CleanAnswer,
    add_answer,
    awaits_answers,
    count_report_answers,
    list_case_answers,
    list_report_answers,
)
from pledge.hoaxes.service.corrections import (
    CORRECTIONS_SHOWN,
    add_correction,
    discard_correction,
    get_correction,
    get_waiting_correction,
    list_corrections,
    mark_correction_approved,
)
from pledge.hoaxes.service.credentials import (
    Finding,
    PublicCredentials,
    action_label,
    case_findings,
    public_credentials,
    source_type_label,
    suggested_label,
)
from pledge.hoaxes.service.duplicates import similar_media, surviving_case
from pledge.hoaxes.service.forms import DESCRIPTION_MAX, CleanReport, ReportForm, new_form_key
from pledge.hoaxes.service.forms import clean_text as _clean_text
from pledge.hoaxes.service.gallery import (
    GALLERY_PAGE_SIZE,
    GalleryFilters,
    GalleryPage,
    list_published,
)
from pledge.hoaxes.service.media_access import VisibleMedia, get_media, moderator_org_ids
from pledge.hoaxes.service.notify import (
    CORRECTION_WINDOW,
    ReporterLinks,
    keeps_contacts,
    tell_reporters,
    verdict_message,
    whatsapp_ready,
)
from pledge.hoaxes.service.open_data import (
    API_LIMIT_DEFAULT,
    API_LIMIT_MAX,
    HoaxItem,
    HoaxPage,
    list_open_data,
)
from pledge.hoaxes.service.originals import (
    PAIR_LABELS,
    PairPicture,
    delete_original,
    get_original,
    get_stored,
    pair_picture,
    save_original,
    show_original,
    shown_original,
    stored_regions,
)
from pledge.hoaxes.service.privacy import (
    clear_contacts,
    forget_closed_contacts,
    list_reports_by_contact,
)
from pledge.hoaxes.service.published import (
    RATING_VALUES,
    PublishedHoax,
    claim_review,
    first_reported,
    get_published,
    list_appearances,
    public_appearance_url,
    verdicts_version,
)
from pledge.hoaxes.service.rekeying import follow_short_link, needs_following
from pledge.hoaxes.service.reports import (
    CODE_ALPHABET,
    CODE_LENGTH,
    ReportStatus,
    Sent,
    clean_tracking_code,
    get_status,
    is_accepting_reports,
    lookup_limit,
    new_tracking_code,
    open_case,
    report_limit,
    send,
    submit,
)
from pledge.hoaxes.service.shortlinks import (
    SHORT_LINK_HOSTS,
    is_short_link,
    never_fetch,
    resolve,
)
from pledge.hoaxes.service.urls import URL_MAX, canonical_url, clean_url, public_url
from pledge.hoaxes.service.verdict_images import (
    CARD_SIZE,
    STORY_SIZE,
    VerdictPicture,
    labelled_image,
    picture_size,
    share_text,
    verdict_picture,
)

__all__ = [
    "ANSWERS_PER_REPORT",
    "ANSWER_TEXT_MAX",
    "API_LIMIT_DEFAULT",
    "API_LIMIT_MAX",
    "CARD_SIZE",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CORRECTIONS_SHOWN",
    "CORRECTION_WINDOW",
    "DESCRIPTION_MAX",
    "GALLERY_PAGE_SIZE",
    "PAIR_LABELS",
    "RATING_VALUES",
    "SHORT_LINK_HOSTS",
    "STORY_SIZE",
    "URL_MAX",
    "AnswerForm",
    "CleanAnswer",
    "CleanReport",
    "Finding",
    "GalleryFilters",
    "GalleryPage",
    "HoaxItem",
    "HoaxPage",
    "PairPicture",
    "PublicCredentials",
    "PublishedHoax",
    "ReportForm",
    "ReportStatus",
    "ReporterLinks",
    "Sent",
    "VerdictPicture",
    "VisibleMedia",
    "_clean_text",
    "action_label",
    "add_answer",
    "add_correction",
    "awaits_answers",
    "canonical_url",
    "case_findings",
    "claim_review",
    "clean_tracking_code",
    "clean_url",
    "clear_contacts",
    "count_report_answers",
    "delete_original",
    "discard_correction",
    "first_reported",
    "follow_short_link",
    "forget_closed_contacts",
    "get_correction",
    "get_media",
    "get_original",
    "get_published",
    "get_status",
    "get_stored",
    "get_waiting_correction",
    "is_accepting_reports",
    "is_short_link",
    "keeps_contacts",
    "labelled_image",
    "list_appearances",
    "list_case_answers",
    "list_corrections",
    "list_open_data",
    "list_published",
    "list_report_answers",
    "list_reports_by_contact",
    "lookup_limit",
    "mark_correction_approved",
    "moderator_org_ids",
    "needs_following",
    "never_fetch",
    "new_form_key",
    "new_tracking_code",
    "open_case",
    "pair_picture",
    "picture_size",
    "public_appearance_url",
    "public_credentials",
    "public_url",
    "report_limit",
    "resolve",
    "save_original",
    "send",
    "share_text",
    "show_original",
    "shown_original",
    "similar_media",
    "source_type_label",
    "stored_regions",
    "submit",
    "suggested_label",
    "surviving_case",
    "tell_reporters",
    "verdict_message",
    "verdict_picture",
    "verdicts_version",
    "whatsapp_ready",
]
