"""The hoax report form: read from the post (with its screenshot), and checked field by field
with the shared field checks and the report's own link and picture checks, every problem
reported at once."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from starlette.datastructures import FormData

from pledge import forms
from pledge.config import get_settings
from pledge.forms import Checks, FieldError, form_file, form_text
from pledge.hoaxes import decoder, media
from pledge.hoaxes.models import Category, Platform
from pledge.hoaxes.service.urls import URL_MAX, canonical_url, clean_url
from pledge.i18n import gettext as _
from pledge.provinces import PROVINCES
from pledge.security import FieldCipher

DESCRIPTION_MAX = 1000
# The key a report form is drawn with: 128 random bits, as 32 hexadecimal digits.
FORM_KEY = re.compile(r"[0-9a-f]{32}")


def new_form_key() -> str:
    """A fresh key for a report form being drawn."""
    return secrets.token_hex(16)


def clean_form_key(raw: str) -> str | None:
    """The posted form key, or None when there is none or it is not one the form draws (a key
    of another shape is ignored, as if absent: the report is taken all the same)."""
    return raw if FORM_KEY.fullmatch(raw) else None


@dataclass(frozen=True, slots=True)
class CleanReport:
    url: str | None
    canonical: str | None
    platform: Platform
    category: Category
    description: str
    province: str | None
    contact_encrypted: str | None
    image: media.ProcessedImage | None
    # A moderator may write to the reporter about the report (only with a contact).
    may_contact: bool = False
    # The key of the form it was sent with, when it had a well-formed one.
    form_key: str | None = None


@dataclass(frozen=True, slots=True)
class ReportForm:
    """The report form as posted; text as strings so that bad input can be shown back."""

    url: str = ""
    platform: str = ""
    category: str = ""
    description: str = ""
    province: str = ""
    contact: str = ""
    may_contact: str = ""
    consent: str = ""
    website: str = ""  # honeypot: people never see it, bots fill it
    screenshot: bytes | None = None  # the uploaded file as sent, if any
    # The random key the form was drawn with (absent from outside clients' posts).
    form_key: str = ""
    # Who sent it (networks.limit_key of their address): their pictures take turns with
    # everyone else's for the decoders.
    sender: str = ""

    @classmethod
    def read(cls, form: FormData, *, sender: str = "") -> ReportForm:
        return cls(
            url=form_text(form, "url", URL_MAX + 1),
            platform=form_text(form, "platform", 40),
            category=form_text(form, "category", 40),
            description=form_text(form, "description", DESCRIPTION_MAX * 2),
            province=form_text(form, "province", 16),
            contact=form_text(form, "contact", 300),
            may_contact=form_text(form, "may_contact", 10),
            consent=form_text(form, "consent", 10),
            website=form_text(form, "website"),
            screenshot=form_file(form, "screenshot"),
            form_key=form_text(form, "form_key", 64),
            sender=sender,
        )

    def check(self) -> CleanReport:
        """Every field checked, the screenshot decoded and re-encoded, the contact encrypted;
        Invalid with a message beside each bad field."""
        with Checks() as checks:
            url = checks.run("url", _link, self.url) or ""
            image = checks.run("screenshot", _decoded, self.screenshot, self.sender)
            if not self.url.strip() and not self.screenshot:
                checks.refuse(
                    "url",
                    _("Give the link to the post, or attach a screenshot of it (or both)."),
                )
            platform = checks.run(
                "platform",
                forms.member,
                self.platform,
                Platform,
                message=_("Choose where you saw it."),
            )
            category = checks.run(
                "category",
                forms.member,
                self.category,
                Category,
                message=_("Choose what kind of hoax you think it is."),
            )
            description, province, contact = self._details(checks)
        assert platform is not None and category is not None
        encrypted = FieldCipher(get_settings().secret_key).encrypt(contact) if contact else None
        return CleanReport(
            url=url or None,
            canonical=canonical_url(url) if url else None,
            platform=platform,
            category=category,
            description=description,
            province=province or None,
            contact_encrypted=encrypted,
            image=image,
            may_contact=bool(self.may_contact and contact),
            form_key=self.key,
        )

    @property
    def key(self) -> str | None:
        """The form's key, when it is one the form draws."""
        return clean_form_key(self.form_key)

    def _details(self, checks: Checks) -> tuple[str, str, str]:
        """The optional description, province and contact, and the consent."""
        description = checks.run(
            "description",
            forms.text,
            clean_text(self.description),
            max_length=DESCRIPTION_MAX,
            too_long=_("Keep the description to at most 1000 characters."),
        )
        province = checks.run(
            "province",
            forms.choice,
            self.province,
            PROVINCES,
            required=False,
            message=_("Choose a province from the list, or leave it empty."),
        )
        contact = checks.run("contact", forms.contact, self.contact) if self.contact.strip() else ""
        if self.may_contact and not self.contact.strip():
            checks.refuse(
                "may_contact",
                _("Give your email or mobile number above, or untick this box."),
            )
        checks.run(
            "consent",
            forms.ticked,
            self.consent,
            message=_("Agree to the privacy notice to send your report."),
        )
        return description or "", province or "", contact or ""


def clean_text(raw: str) -> str:
    # Line breaks stay (the explanation may quote several lines); other control characters go.
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", raw.replace("\r\n", "\n"))
    return text.strip()


def _link(raw: str) -> str:
    """The link to the post as the reporter gave it, checked (see urls.clean_url)."""
    try:
        return clean_url(raw)
    except ValueError as error:
        raise FieldError(str(error)) from None


def _decoded(screenshot: bytes | None, sender: str) -> media.ProcessedImage | None:
    """The screenshot decoded and re-encoded (without its metadata), if one was sent."""
    if not screenshot:
        return None
    try:
        return decoder.process_upload(screenshot, sender=sender)
    except media.MediaError as error:
        raise FieldError(str(error)) from None
