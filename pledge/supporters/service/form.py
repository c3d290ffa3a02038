"""The sign form: read from the post, checked field by field with the shared field checks,
every problem reported at once in the signer's language, and what passes made ready for
signing.

It is checked on the busiest path of the site: its messages are given as functions, made
only when shown."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import FormData

from pledge import forms
from pledge.campaigns.models import CampaignView
from pledge.config import Environment, get_settings
from pledge.forms import Checks, FieldError, form_text, form_values
from pledge.i18n import gettext as _
from pledge.provinces import AGE_BANDS, PROVINCES

NAME_MAX = 80
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# \Z, not $: "$" would also accept a code followed by a line break.
INVITE_CODE = re.compile(r"\A[A-Za-z0-9_-]{4,16}\Z")


@dataclass(frozen=True, slots=True)
class CleanSignature:
    display_name: str
    contact: str
    province: str
    age_band: str | None
    pledge_ids: tuple[int, ...]
    show_name: bool
    referrer_id: int | None
    updates_partner_id: int | None
    invite: str | None = None  # the personal invite code this supporter came through


@dataclass(frozen=True, slots=True)
class SignForm:
    """The sign-up form as posted; every field a string so that bad input can be shown back."""

    name: str = ""
    contact: str = ""
    # A page that takes both kinds of contact shows a WhatsApp field (``contact``) and an
    # email field (``contact_email``), and a choice between them (``contact_kind``). A client
    # that posts ``contact`` alone, with either kind, signs as before.
    contact_kind: str = ""
    contact_email: str = ""
    province: str = ""
    age_band: str = ""
    age_ok: str = ""
    consent: str = ""
    pledges: tuple[str, ...] = ()
    show_name: str = ""
    updates_org: str = ""
    ref: str = ""
    invite: str = ""  # a supporter's personal invite code
    website: str = ""  # honeypot: people never see it, bots fill it

    @classmethod
    def read(cls, form: FormData) -> SignForm:
        return cls(
            name=form_text(form, "name"),
            contact=form_text(form, "contact"),
            contact_kind=form_text(form, "contact_kind", 16),
            contact_email=form_text(form, "contact_email"),
            province=form_text(form, "province"),
            age_band=form_text(form, "age_band"),
            age_ok=form_text(form, "age_ok"),
            consent=form_text(form, "consent"),
            pledges=tuple(form_values(form, "pledges", 100, count=50)),
            show_name=form_text(form, "show_name"),
            updates_org=form_text(form, "updates_org"),
            ref=form_text(form, "ref", 40),
            invite=form_text(form, "invite", 40),
            website=form_text(form, "website"),
        )

    @property
    def contact_field(self) -> str:
        """The field the signer's contact is in: the email field when they chose email (or
        filled in that field alone), otherwise ``contact``."""
        chose_email = self.contact_kind == "email"
        if not self.contact:
            return "contact_email" if chose_email or self.contact_email else "contact"
        return "contact_email" if chose_email and self.contact_email else "contact"

    def check(self, view: CampaignView) -> CleanSignature:
        """The form checked against the campaign it was sent to; Invalid with a message for
        each bad field."""
        checks = Checks()
        name, contact = _check_person(self, checks)
        _check_channel(view, self, contact, checks)
        province, age_band = _check_answers(self, checks)
        pledge_ids = _check_pledges(view, self.pledges, checks)
        updates_partner_id = _check_updates_partner(view, self.updates_org, checks)
        checks.done()

        referrer = view.partner_by_code(self.ref) if self.ref else None
        return CleanSignature(
            display_name=name,
            contact=contact,
            province=province,
            age_band=age_band or None,
            pledge_ids=pledge_ids,
            show_name=bool(self.show_name),
            referrer_id=referrer.id if referrer else None,
            updates_partner_id=updates_partner_id,
            invite=self.invite if INVITE_CODE.match(self.invite) else None,
        )


# The checks are called directly rather than through Checks.run, and the messages are
# functions: this form is checked on every signature, and the shortcut keeps its cost.


def _name_missing() -> str:
    return _("Enter your name.")


def _name_too_long() -> str:
    return _("Your name can be at most 80 characters long.")


def _no_province() -> str:
    return _("Choose your province from the list.")


def _no_age_band() -> str:
    return _("Choose an age group from the list, or leave it empty.")


def _not_of_age() -> str:
    return _("Confirm that you are 17 or older.")


def _no_consent() -> str:
    return _("Agree to the privacy notice to add your name.")


def _check_person(form: SignForm, checks: Checks) -> tuple[str, str]:
    """The signer's name on one line, and their contact normalised."""
    name = contact = ""
    try:
        name = forms.text(
            _CONTROL.sub(" ", form.name),
            max_length=NAME_MAX,
            required=_name_missing,
            too_long=_name_too_long,
            collapse=True,
        )
    except FieldError as error:
        checks.refuse("name", str(error))
    key = form.contact_field
    typed = form.contact_email if key == "contact_email" else form.contact
    if not typed.strip():
        checks.refuse(key, _no_contact(form.contact_kind if key == "contact" else "email"))
        return name, contact
    try:
        contact = forms.contact(typed)
    except FieldError as error:
        checks.refuse(key, str(error))
    return name, contact


def _no_contact(kind: str) -> str:
    if kind == "email":
        return _("Enter your email address.")
    if kind == "whatsapp":
        return _("Enter your WhatsApp number.")
    return _("Enter your email address or mobile number.")


def whatsapp_confirms(view: CampaignView) -> bool:
    """Whether a phone number can confirm this campaign's signatures: the campaign takes
    WhatsApp, and the site has a WhatsApp number (or, in development, writes what it would
    send to the log)."""
    settings = get_settings()
    return view.campaign.confirm_by_whatsapp and (
        bool(settings.whatsapp_number) or settings.env != Environment.PRODUCTION
    )


def contact_kinds(view: CampaignView) -> tuple[str, ...]:
    """The kinds of contact that can confirm this campaign's signatures, WhatsApp first:
    the contact fields its page shows."""
    kinds = ("whatsapp",) if whatsapp_confirms(view) else ()
    return (*kinds, "email") if view.campaign.confirm_by_email else kinds


def _check_channel(view: CampaignView, form: SignForm, contact: str, checks: Checks) -> None:
    """The contact can confirm the signature the ways this campaign takes."""
    if not contact:
        return
    if "@" in contact:
        if not view.campaign.confirm_by_email:
            checks.refuse(
                form.contact_field,
                _("This campaign confirms signatures by WhatsApp: enter your mobile number."),
            )
    elif not whatsapp_confirms(view):
        checks.refuse(
            form.contact_field,
            _("This campaign confirms signatures by email: enter your email address."),
        )


def _check_answers(form: SignForm, checks: Checks) -> tuple[str, str]:
    """The province, the optional age group, and the two confirmations."""
    province = age_band = ""
    try:
        province = forms.choice(form.province, PROVINCES, message=_no_province)
    except FieldError as error:
        checks.refuse("province", str(error))
    try:
        age_band = forms.choice(form.age_band, AGE_BANDS, message=_no_age_band, required=False)
    except FieldError as error:
        checks.refuse("age_band", str(error))
    try:
        forms.ticked(form.age_ok, message=_not_of_age)
    except FieldError as error:
        checks.refuse("age_ok", str(error))
    try:
        forms.ticked(form.consent, message=_no_consent)
    except FieldError as error:
        checks.refuse("consent", str(error))
    return province, age_band


def clean_name(raw: str) -> str:
    """A name on one line: control characters and runs of spaces as one space."""
    return " ".join(_CONTROL.sub(" ", raw).split())


def first_name(display_name: str) -> str:
    return display_name.split(" ", 1)[0] if display_name else ""


def _check_pledges(view: CampaignView, slugs: tuple[str, ...], checks: Checks) -> tuple[int, ...]:
    """The ids of the pledges chosen, each once, in the order given."""
    pledge_ids: list[int] = []
    for slug in dict.fromkeys(slugs):  # keeps order, drops repeats
        pledge = view.pledge_by_slug(slug)
        if pledge is None or pledge.id is None:
            checks.refuse(
                "pledges", _("One of the pledges you chose is not part of this campaign.")
            )
            break
        pledge_ids.append(pledge.id)
    if not slugs:
        checks.refuse("pledges", _("Choose at least one pledge."))
    return tuple(pledge_ids)


def _check_updates_partner(view: CampaignView, slug: str, checks: Checks) -> int | None:
    """The partner the signer asked for news, if any."""
    if not slug:
        return None
    partner = view.partner_by_slug(slug)
    if partner is None:
        checks.refuse("updates_org", _("Choose one of the partner organisations, or none."))
        return None
    return partner.id
