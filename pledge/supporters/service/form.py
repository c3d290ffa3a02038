"""The sign form checked field by field: every problem reported at once, in the signer's
language, and what passes made ready for signing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pledge import contacts
from pledge.campaigns.models import CampaignView
from pledge.errors import Invalid
from pledge.i18n import gettext as _
from pledge.provinces import AGE_BANDS, PROVINCES
from pledge.supporters.models import SignForm

NAME_MAX = 80
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


# \Z, not $: "$" would also accept a code followed by a line break.
INVITE_CODE = re.compile(r"\A[A-Za-z0-9_-]{4,16}\Z")


def clean_name(raw: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub(" ", raw)).strip()


def first_name(display_name: str) -> str:
    return display_name.split(" ", 1)[0] if display_name else ""


def validate(view: CampaignView, form: SignForm) -> CleanSignature:
    """Check the posted form; raise Invalid with a message for each bad field."""
    errors: dict[str, str] = {}
    name, contact = _check_person(form, errors)
    age_band = _check_answers(form, errors)
    pledge_ids = _check_pledges(view, form, errors)
    updates_partner_id = _check_updates_partner(view, form, errors)
    if errors:
        raise Invalid(errors)

    referrer = view.partner_by_code(form.ref) if form.ref else None
    return CleanSignature(
        display_name=name,
        contact=contact,
        province=form.province,
        age_band=age_band,
        pledge_ids=pledge_ids,
        show_name=bool(form.show_name),
        referrer_id=referrer.id if referrer else None,
        updates_partner_id=updates_partner_id,
        invite=form.invite if INVITE_CODE.match(form.invite) else None,
    )


def _check_person(form: SignForm, errors: dict[str, str]) -> tuple[str, str]:
    """The signer's name and normalised contact."""
    name = clean_name(form.name)
    if not name:
        errors["name"] = _("Enter your name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("Your name can be at most 80 characters long.")
    contact = ""
    try:
        contact = contacts.normalise_contact(form.contact)
    except contacts.ContactError as error:
        errors["contact"] = str(error)
    return name, contact


def _check_answers(form: SignForm, errors: dict[str, str]) -> str | None:
    """The province, the optional age group, and the two confirmations; the age group."""
    if form.province not in PROVINCES:
        errors["province"] = _("Choose your province from the list.")
    age_band = form.age_band or None
    if age_band is not None and age_band not in AGE_BANDS:
        errors["age_band"] = _("Choose an age group from the list, or leave it empty.")
    if not form.age_ok:
        errors["age_ok"] = _("Confirm that you are 17 or older.")
    if not form.consent:
        errors["consent"] = _("Agree to the privacy notice to add your name.")
    return age_band


def _check_pledges(view: CampaignView, form: SignForm, errors: dict[str, str]) -> tuple[int, ...]:
    """The ids of the pledges chosen, each once, in the order given."""
    pledge_ids: list[int] = []
    for slug in dict.fromkeys(form.pledges):  # keeps order, drops repeats
        pledge = view.pledge_by_slug(slug)
        if pledge is None or pledge.id is None:
            errors["pledges"] = _("One of the pledges you chose is not part of this campaign.")
            break
        pledge_ids.append(pledge.id)
    if not form.pledges:
        errors["pledges"] = _("Choose at least one pledge.")
    return tuple(pledge_ids)


def _check_updates_partner(
    view: CampaignView, form: SignForm, errors: dict[str, str]
) -> int | None:
    """The partner the signer asked for news, if any."""
    if not form.updates_org:
        return None
    partner = view.partner_by_slug(form.updates_org)
    if partner is None:
        errors["updates_org"] = _("Choose one of the partner organisations, or none.")
        return None
    return partner.id
